//! vigil reads the state of a Kubernetes or OpenShift cluster, evaluates
//! high-availability and health checks namespace by namespace, weighs every
//! violation against a Jira-linked exception list, and writes JUnit that
//! Sippy-style dashboards read as pass, flake or fail.
//!
//! The pipeline, one module per stage:
//! [`sources`] → [`model`] → [`checks`] → [`exceptions`] → [`outcomes`] → [`reports`].

pub mod app;
pub mod atomic;
pub mod checks;
pub mod cli;
#[cfg(feature = "devtools")]
pub mod devtools;
pub mod error;
pub mod exceptions;
pub mod input;
pub mod model;
pub mod outbound;
pub mod outcomes;
pub mod parallel;
pub mod redact;
pub mod reports;
pub mod results;
pub mod sources;
pub mod term;
