//! The cluster model: slim objects, label selectors, and the indexes that the
//! checks read (ownership, PDB coverage, HPAs), built once per run.

pub mod cluster;
pub mod intervals;
pub mod objects;
pub mod selector;
pub mod serde_util;
pub mod time;
pub mod topology;

pub use cluster::Cluster;
pub use topology::{Topology, TopologyMode};
