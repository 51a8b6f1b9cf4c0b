//! Tar archives, plain or compressed with gzip or xz, read in place: a
//! must-gather as CI hands it over (`must-gather.tar.xz`) needs no unpacking.
//!
//! Nothing is written to disk and nothing in the archive is followed: only
//! regular file entries are read (links, devices and directories are
//! passed over), their names are labels, never paths opened. Inside a
//! must-gather (a path with `namespaces/` or `cluster-scoped-resources/`)
//! only the files vigil reads in a must-gather directory are kept; anywhere
//! else, every state file but Secrets and ConfigMaps. What is kept counts
//! against `--max-file-mib` in all, and the xz decoder's memory is bounded
//! too (an xz header can ask for gigabytes of dictionary).

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::input::{Budget, Limit};

/// How an archive is compressed, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tar,
    Gzip,
    Xz,
}

/// The archive kind a file name says, if it names a tar archive.
pub fn kind_of(name: &str) -> Option<Kind> {
    let n = name.to_ascii_lowercase();
    if n.ends_with(".tar") {
        Some(Kind::Tar)
    } else if n.ends_with(".tar.gz") || n.ends_with(".tgz") {
        Some(Kind::Gzip)
    } else if n.ends_with(".tar.xz") || n.ends_with(".txz") {
        Some(Kind::Xz)
    } else {
        None
    }
}

/// The largest dictionary the xz decoder may allocate (KiB): xz -9 uses
/// 64 MiB; a header asking for more is refused.
const XZ_MEMORY_KIB: u32 = 256 << 10;

/// What an archive holds for vigil.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// State files: `archive!/path/in/archive` and their bytes.
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// The text of each must-gather `timestamp` file.
    pub timestamps: Vec<String>,
    /// Regular files passed over (not state files, or not read in a must-gather).
    pub passed_over: usize,
}

/// Reads the state files of the archive at `path` (its kind from its name),
/// at most `limit` of them in all.
pub fn read(path: &Path, kind: Kind, limit: Limit) -> Result<Unpacked, String> {
    let file = crate::input::open_regular(path).map_err(|e| e.to_string())?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    if size > limit.bytes {
        return Err(limit.exceeded().to_string());
    }
    let file = std::io::BufReader::new(file);
    let reader: Box<dyn Read> = match kind {
        Kind::Tar => Box::new(file),
        Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Kind::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
            file,
            true,
            XZ_MEMORY_KIB,
        )),
    };
    unpack(path, reader, limit)
}

fn unpack(path: &Path, reader: impl Read, limit: Limit) -> Result<Unpacked, String> {
    let budget = Budget::new(limit);
    let mut out = Unpacked::default();
    // Per-pod files of a must-gather, kept in case a namespace lacks its
    // core/pods.yaml; dropped for the namespaces that have one.
    let mut per_pod: Vec<(String, PathBuf, Vec<u8>)> = Vec::new();
    let mut pod_lists: std::collections::HashSet<String> = Default::default();
    let mut archive = tar::Archive::new(reader);
    let not_tar = |e: std::io::Error| format!("not a readable tar archive: {e}");
    for entry in archive.entries().map_err(not_tar)? {
        let mut entry = entry.map_err(not_tar)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let inner: PathBuf = match entry.path() {
            Ok(p) => p
                .components()
                .filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_owned()),
                    _ => None,
                })
                .collect(),
            Err(_) => continue,
        };
        let Some(want) = wanted(&inner) else {
            out.passed_over += 1;
            continue;
        };
        let size = entry.header().size().unwrap_or(u64::MAX);
        budget
            .take(size.min(limit.bytes.saturating_add(1)))
            .map_err(|e| format!("its state files are {e}"))?;
        let mut bytes = Vec::with_capacity(size.min(64 << 20) as usize);
        (&mut entry)
            .take(size)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{}: {}", inner.display(), read_error(e)))?;
        let label = path.join(&inner);
        match want {
            Want::Timestamp => out
                .timestamps
                .push(String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned()),
            Want::PodList(ns) => {
                pod_lists.insert(ns);
                out.files.push((label, bytes));
            }
            Want::PerPod(ns) => per_pod.push((ns, label, bytes)),
            Want::State => out.files.push((label, bytes)),
        }
    }
    out.files.extend(
        per_pod
            .into_iter()
            .filter(|(ns, _, _)| !pod_lists.contains(ns))
            .map(|(_, label, bytes)| (label, bytes)),
    );
    Ok(out)
}

fn read_error(e: std::io::Error) -> String {
    let s = e.to_string();
    if s.contains("memory") {
        format!(
            "{s} (the xz stream asks for more than {} MiB of memory to decode)",
            XZ_MEMORY_KIB >> 10
        )
    } else {
        s
    }
}

/// Why an entry is kept.
enum Want {
    State,
    Timestamp,
    /// `namespaces/<ns>/core/pods.yaml`.
    PodList(String),
    /// `namespaces/<ns>/pods/<pod>/<pod>.yaml`.
    PerPod(String),
}

/// Whether vigil reads this entry of an archive, and as what.
fn wanted(inner: &Path) -> Option<Want> {
    let parts: Vec<&str> = inner.iter().filter_map(|c| c.to_str()).collect();
    let name = *parts.last()?;
    if super::layout::is_forbidden(name) {
        return None;
    }
    let at = |dir: &str| parts.iter().position(|p| *p == dir);
    if let Some(i) = at("namespaces") {
        // namespaces/<ns>/<ns>.yaml, namespaces/<ns>/<group>/<file>,
        // namespaces/<ns>/pods/<pod>/<pod>.yaml
        let rest = &parts[i + 1..];
        return match rest {
            [ns, file] if *file == format!("{ns}.yaml") => Some(Want::State),
            [ns, "core", "pods.yaml"] => Some(Want::PodList((*ns).to_owned())),
            [ns, group, file] if super::layout::is_must_gather_file(group, file) => {
                let _ = ns;
                Some(Want::State)
            }
            [ns, "pods", pod, file] if *file == format!("{pod}.yaml") => {
                Some(Want::PerPod((*ns).to_owned()))
            }
            _ => None,
        };
    }
    if let Some(i) = at("cluster-scoped-resources") {
        let rest: Vec<&str> = parts[i + 1..].to_vec();
        return super::layout::is_must_gather_cluster_file(&rest).then_some(Want::State);
    }
    if name == "timestamp" {
        return Some(Want::Timestamp);
    }
    super::layout::is_state_file(name).then_some(Want::State)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn a_must_gather_archive_yields_what_the_directory_would() {
        let t = tar_of(&[
            ("mg/img/timestamp", b"2021-09-15 10:00:00 +0000 UTC"),
            (
                "mg/img/namespaces/a/core/pods.yaml",
                b"kind: PodList\nitems: []\n",
            ),
            (
                "mg/img/namespaces/a/core/secrets.yaml",
                b"kind: SecretList\n",
            ),
            (
                "mg/img/namespaces/a/core/configmaps.yaml",
                b"kind: ConfigMapList\n",
            ),
            ("mg/img/namespaces/a/pods/p/p.yaml", b"kind: Pod\n"),
            ("mg/img/namespaces/b/pods/q/q.yaml", b"kind: Pod\n"),
            (
                "mg/img/namespaces/a/apps/deployments.yaml",
                b"kind: DeploymentList\n",
            ),
            (
                "mg/img/namespaces/a/route.openshift.io/routes.yaml",
                b"kind: RouteList\n",
            ),
            (
                "mg/img/cluster-scoped-resources/core/nodes/n1.yaml",
                b"kind: Node\n",
            ),
            ("mg/img/host_service_logs/masters/kubelet.log", b"..."),
        ]);
        let u = unpack(Path::new("mg.tar"), &t[..], Limit::files(1 << 20)).unwrap();
        let names: Vec<String> = u
            .files
            .iter()
            .map(|(p, _)| p.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "mg.tar/mg/img/namespaces/a/core/pods.yaml",
                "mg.tar/mg/img/namespaces/a/apps/deployments.yaml",
                "mg.tar/mg/img/cluster-scoped-resources/core/nodes/n1.yaml",
                // b has no pods.yaml: its per-pod file stands in.
                "mg.tar/mg/img/namespaces/b/pods/q/q.yaml",
            ]
        );
        assert_eq!(u.timestamps.len(), 1);
    }

    #[test]
    fn what_it_keeps_is_bounded_in_all() {
        let big = vec![b' '; 600];
        let t = tar_of(&[("a.yaml", &big), ("b.yaml", &big)]);
        let e = unpack(Path::new("x.tar"), &t[..], Limit::files(1000)).unwrap_err();
        assert!(e.contains("limit on input files"), "{e}");
        assert!(unpack(Path::new("x.tar"), &t[..], Limit::files(2000)).is_ok());
    }

    #[test]
    fn names_say_the_kind() {
        assert_eq!(kind_of("must-gather.tar.xz"), Some(Kind::Xz));
        assert_eq!(kind_of("MG.TGZ"), Some(Kind::Gzip));
        assert_eq!(kind_of("state.tar"), Some(Kind::Tar));
        assert_eq!(kind_of("pods.json.gz"), None);
    }
}
