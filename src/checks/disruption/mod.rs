//! Disruption checks (`disruption/*`, monitor `disruption`): did the
//! cluster's backends stay available while the run went on? Measured by
//! `vigil watch --disruption` ([`crate::sources::disruption`]), not
//! declared: a component that meets every HA rule and still drops its API
//! for 40 s during an upgrade fails here.

pub mod backends;
