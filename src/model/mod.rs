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

/// The maps of the indexes a run builds over the state's names (keys borrowed
/// from the model, looked up for every pod): foldhash, randomly seeded like
/// std's, instead of SipHash, which was most of the time to build them.
pub type Index<K, V> = foldhash::HashMap<K, V>;
pub use topology::{Topology, TopologyMode};
