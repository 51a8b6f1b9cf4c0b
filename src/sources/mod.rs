//! Sources: where cluster state comes from.
//!
//! `vigil run --from PATH` accepts files and directories: `kubectl get -o
//! yaml|json` output (lists, single objects, multi-document YAML, `.gz`
//! compressed), directory trees of such files, and OpenShift must-gather
//! trees, whose layout is recognised so that only the files holding the
//! kinds vigil reads are opened. Secrets and ConfigMaps are never read.

pub mod decode;
mod files;
mod gzip_members;
mod json_fast;
pub mod live;
mod protobuf;
pub mod snapshot;
pub mod watch;
mod yaml_fast;

pub use files::{
    list_state_files, load_paths, load_paths_with, must_gather_file, yaml_message, Limits, Loaded,
    SourceError, DEFAULT_MAX_FILE_BYTES,
};
