//! Development tools used by the integration tests and the benchmarks, not by
//! CI jobs: a real kube-apiserver + etcd started on loopback, and a loader
//! that puts a state directory (a must-gather, testdata) into it, and the
//! generator of the shipped OpenShift owners mapping, and a churn of pod and
//! node statuses for measuring a long watch.
//! Reachable through the hidden `vigil dev` command.

pub mod churn;
pub mod control_plane;
pub mod generate;
pub mod load;
pub mod owners;
