//! High-availability checks (`ha/*`, monitor `ha-compliance`): how each
//! component is configured to survive node loss, drains and rollouts.

pub mod anti_affinity;
pub mod pdb;
pub mod pdb_disruptions;
pub mod pdb_eviction_policy;
pub mod priority_class;
pub mod probes;
pub mod replicas;
pub mod resources;
pub mod rollout_strategy;
pub mod run_level;
pub mod single_replica;
pub mod spread;
pub mod tolerations;
