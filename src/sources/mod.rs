//! Sources: where cluster state comes from.
//!
//! `vigil run --from PATH` accepts files and directories: `kubectl get -o
//! yaml|json` output (lists, single objects, multi-document YAML, `.gz`
//! compressed), directory trees of such files, and OpenShift must-gather
//! trees, whose layout is recognised so that only the files holding the
//! kinds vigil reads are opened. Secrets and ConfigMaps are never read.

mod archive;
pub mod decode;
pub mod disruption;
mod files;
#[cfg(any(test, feature = "devtools"))]
#[doc(hidden)]
pub mod fuzzing;
mod gzip_members;
mod json_fast;
pub mod kinds;
pub mod kubeconfig;
pub mod layout;
pub mod live;
mod pieces;
mod protobuf;
pub mod snapshot;
pub mod watch;
mod yaml_fast;

pub use files::{
    list_state_files, load_paths, load_paths_with, yaml_message, Limits, Loaded, SourceError,
    DEFAULT_MAX_FILE_BYTES,
};
pub use layout::must_gather_file;

/// Decodes JSON with the fast reader (skipping what `T` ignores without
/// tokenizing it), else with serde_json, which says what is wrong.
pub fn json_from_str<T: serde::de::DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    match json_fast::from_str_seed(std::marker::PhantomData::<T>, text) {
        Ok(v) => Ok(v),
        Err(_) => serde_json::from_str(text),
    }
}

/// The texts of the files under `root` whose extension is one of `exts`:
/// the fast readers' equivalence tests compare them with the full parsers.
#[cfg(test)]
fn texts_under(root: &std::path::Path, exts: &[&str]) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| exts.iter().any(|w| x == *w))
        })
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect()
}
