//! Reading state from files and directories.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use super::decode::Doc;
use super::layout::{is_forbidden, is_state_file, CLUSTER_FILES, NAMESPACED};
use super::snapshot::CollectionInfo;
use crate::model::objects::Object;

/// An input that could not be read, with the place it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub path: PathBuf,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SourceError {}

impl SourceError {
    fn plain(path: &Path, message: impl Into<String>) -> Self {
        SourceError {
            path: path.to_owned(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

/// What one file held.
#[derive(Debug, Default)]
pub struct Parsed {
    pub objects: Vec<Object>,
    /// The header of a vigil snapshot.
    pub snapshot: Option<CollectionInfo>,
    /// Its end marker.
    pub snapshot_end: Option<super::snapshot::SnapshotEnd>,
    /// Kinds whose lists the file holds (see [`super::decode::Doc::lists`]).
    pub lists: Vec<String>,
    /// Documents and list items without a `kind`: not Kubernetes objects.
    pub kindless: usize,
    /// Objects of kinds vigil does not read.
    pub other_kinds: usize,
    /// Each object's identity hashed (see [`identity`]), in order: computed
    /// on the parsing threads, off the single-threaded merge.
    keys: Vec<u64>,
}

/// Limits on what one input may cost, so that a hostile or broken input
/// ends as a clear error rather than an out-of-memory kill with no JUnit.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest file read, after decompression.
    pub max_file_bytes: u64,
}

/// 1 GiB: twenty times the largest file of a 150,000-pod cluster's dump.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    /// Files opened, in the order their objects were taken.
    pub files: Vec<PathBuf>,
    /// Copies of an object read more than once (must-gathers hold every pod
    /// twice): only the newest copy is kept (see [`load_paths_with`]).
    pub duplicates: usize,
    /// Duplicates whose copies differ (another resourceVersion, or none to
    /// compare), with a few examples for the report.
    pub conflicting: usize,
    pub conflict_examples: Vec<String>,
    /// The must-gather `timestamp` files found, for the collection time.
    pub timestamp_files: Vec<PathBuf>,
    /// The text of the `timestamp` files inside archives.
    pub timestamp_texts: Vec<String>,
    /// How the state was collected, when it comes from a vigil snapshot or a
    /// live cluster.
    pub collection: Option<CollectionInfo>,
    /// Kinds whose lists the inputs hold, even empty (`kind: PodList`).
    pub lists: std::collections::BTreeSet<String>,
    /// What a `vigil watch` recorded during the run (`run --intervals`).
    pub intervals: Vec<crate::model::intervals::Interval>,
    /// Inputs that could not be read or decoded. The rest is judged, and
    /// the collection test fails naming each.
    pub problems: Vec<SourceError>,
    /// Documents and list items without a `kind`.
    pub kindless: usize,
    /// Objects of kinds vigil does not read.
    pub other_kinds: usize,
    /// Entries of the given directories that are not state files (a few
    /// names, for the message when nothing was found).
    pub ignored: Vec<PathBuf>,
}

/// The files `load_paths` would read for these paths, in order.
pub fn list_state_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SourceError> {
    let mut walk = Walk::default();
    for p in paths {
        walk.collect(p);
    }
    match walk.problems.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(walk.files),
    }
}

/// Reads every path strictly: the first problem is an error.
pub fn load_paths(paths: &[PathBuf]) -> Result<Loaded, SourceError> {
    let mut loaded = load_paths_with(paths, &Limits::default());
    if loaded.problems.is_empty() {
        Ok(loaded)
    } else {
        Err(loaded.problems.swap_remove(0))
    }
}

/// Reads every path (file or directory) and returns the decoded objects,
/// de-duplicated by uid. A file that cannot be read or decoded does not stop
/// the others: it is listed in `problems`, naming file, line and column.
pub fn load_paths_with(paths: &[PathBuf], limits: &Limits) -> Loaded {
    let mut walk = Walk::default();
    for p in paths {
        walk.collect(p);
    }
    let mut decoded = parse_all(&walk.files, limits);
    let mut files = std::mem::take(&mut walk.files);
    let mut timestamp_texts = Vec::new();
    for (path, kind) in std::mem::take(&mut walk.archives) {
        match read_archive(&path, kind, limits) {
            Ok((entries, texts)) => {
                timestamp_texts.extend(texts);
                for (label, parsed) in entries {
                    files.push(label);
                    decoded.push(parsed);
                }
            }
            Err(e) => walk.problems.push(e),
        }
    }
    // The same object (kind, namespace, name: Kubernetes allows one at a
    // time) read twice keeps its newest copy: the higher resourceVersion when
    // both are integers (etcd's revision, comparable across objects), else
    // the one read later: files in the order given, a directory's files in
    // sorted path order, a file's objects top to bottom, as `kubectl apply`
    // would leave them.
    let total: usize = decoded
        .iter()
        .map(|p| p.as_ref().map_or(0, |p| p.objects.len()))
        .sum();
    let mut seen: HashMap<u64, (usize, PathBufIndex), foldhash::fast::FixedState> =
        HashMap::with_capacity_and_hasher(total, Default::default());
    let mut loaded = Loaded {
        timestamp_files: walk.timestamps,
        timestamp_texts,
        problems: walk.problems,
        ignored: walk.ignored,
        ..Default::default()
    };
    loaded.objects.reserve_exact(total);
    for (path, parsed) in files.into_iter().zip(decoded) {
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => {
                loaded.problems.push(e);
                continue;
            }
        };
        if let Some(info) = &parsed.snapshot {
            let end = parsed.snapshot_end.as_ref();
            if let Some(problem) = super::snapshot::validate(info, end, parsed.objects.len()) {
                loaded.problems.push(SourceError::plain(&path, problem));
            }
        }
        let file_index = loaded.files.len();
        loaded.files.push(path);
        if loaded.collection.is_none() {
            loaded.collection = parsed.snapshot;
        }
        loaded.lists.extend(parsed.lists);
        loaded.kindless += parsed.kindless;
        loaded.other_kinds += parsed.other_kinds;
        for (i, obj) in parsed.objects.into_iter().enumerate() {
            let key = parsed
                .keys
                .get(i)
                .copied()
                .unwrap_or_else(|| identity(&obj));
            match seen.get(&key).copied() {
                None => {
                    seen.insert(key, (loaded.objects.len(), file_index));
                    loaded.objects.push(obj);
                }
                Some((at, earlier_file)) => {
                    if loaded.keep_newer(at, earlier_file, file_index, obj) {
                        seen.insert(key, (at, file_index));
                    }
                }
            }
        }
    }
    loaded
}

impl Loaded {
    /// The same object read again (from file `file_index`; first read at
    /// `at`, from `earlier_file`): keeps the newer copy, counting and
    /// naming conflicts. Whether the new copy replaced the old one.
    fn keep_newer(
        &mut self,
        at: usize,
        earlier_file: usize,
        file_index: usize,
        obj: Object,
    ) -> bool {
        self.duplicates += 1;
        let m = obj.metadata();
        let old = self.objects[at].metadata();
        let (old_rv, new_rv) = (old.resource_version.as_str(), m.resource_version.as_str());
        let newer = match (old_rv.parse::<u64>(), new_rv.parse::<u64>()) {
            (Ok(a), Ok(b)) => b >= a,
            _ => true,
        };
        if old_rv != new_rv || old_rv.is_empty() {
            self.conflicting += 1;
            if self.conflict_examples.len() < 5 {
                let rv = |v: &str| {
                    if v.is_empty() {
                        "no resourceVersion".to_owned()
                    } else {
                        format!("resourceVersion {v}")
                    }
                };
                let example = format!(
                    "{} {}/{}: {} in {}, {} in {}; the {} is judged",
                    obj.kind(),
                    m.namespace,
                    m.name,
                    rv(old_rv),
                    self.files[earlier_file].display(),
                    rv(new_rv),
                    self.files[file_index].display(),
                    if newer { "second" } else { "first" },
                );
                self.conflict_examples.push(example);
            }
        }
        if newer {
            self.objects[at] = obj;
        }
        newer
    }
}

/// An archive's state files, each parsed on all cores as a file is, named
/// `archive/path/inside`; and its `timestamp` texts.
type ArchiveRead = (Vec<(PathBuf, Result<Parsed, SourceError>)>, Vec<String>);

fn read_archive(
    path: &Path,
    kind: super::archive::Kind,
    limits: &Limits,
) -> Result<ArchiveRead, SourceError> {
    let limit = crate::input::Limit::files(limits.max_file_bytes);
    let unpacked = super::archive::read(path, kind, limit)
        .map_err(|e| SourceError::plain(path, format!("not read: {e}")))?;
    let entries = unpacked.files;
    let parsed = crate::parallel::map_in_order(&entries, |(label, bytes)| {
        let gz = label.extension().is_some_and(|e| e == "gz");
        let r = if gz {
            let mut out = Vec::new();
            crate::input::gunzip_into(bytes, &crate::input::Budget::new(limit), &mut out)
                .map_err(|e| SourceError::plain(label, e.to_string()))
                .and_then(|()| parse_bytes(label, &out))
        } else {
            parse_bytes(label, bytes)
        };
        r.map(|mut parsed| {
            parsed.objects.iter_mut().for_each(default_namespace);
            parsed.keys = parsed.objects.iter().map(identity).collect();
            parsed
        })
    });
    let labels = entries.into_iter().map(|(l, _)| l);
    Ok((labels.zip(parsed).collect(), unpacked.timestamps))
}

/// Index of a file in `Loaded::files`.
type PathBufIndex = usize;

/// A namespaced object written without `metadata.namespace` (a manifest)
/// lands in `default`, as `kubectl apply` would put it.
fn default_namespace(obj: &mut Object) {
    let namespaced = !matches!(
        obj,
        Object::Namespace(_)
            | Object::Node(_)
            | Object::Infrastructure(_)
            | Object::ClusterOperator(_)
            | Object::ClusterVersion(_)
            | Object::MachineConfigPool(_)
    );
    if namespaced {
        let m = obj.metadata_mut();
        if m.namespace.is_empty() {
            m.namespace = "default".into();
        }
    }
}

/// What a `--from` walk found. It never leaves the trees it was given:
/// a symbolic link is followed only when it resolves inside one of them
/// (a link in an untrusted must-gather to `~/.kube/config` is not read),
/// each directory is entered once (links to `.` do not loop), and only
/// regular files are opened (a FIFO or `/dev/zero` would never end).
#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    /// Tar archives (a must-gather as CI hands it over), read in place.
    archives: Vec<(PathBuf, super::archive::Kind)>,
    timestamps: Vec<PathBuf>,
    problems: Vec<SourceError>,
    ignored: Vec<PathBuf>,
    /// Canonical roots of the given paths.
    roots: Vec<PathBuf>,
    /// Directories entered, by canonical path.
    entered: HashSet<PathBuf>,
}

/// Names kept in `Walk::ignored`, for the message when nothing was found.
const IGNORED_KEPT: usize = 5;

impl Walk {
    fn problem(&mut self, path: &Path, message: impl Into<String>) {
        self.problems.push(SourceError::plain(path, message));
    }

    fn collect(&mut self, path: &Path) {
        // The path itself was named by the user: it may be a link.
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => return self.problem(path, format!("cannot read: {e}")),
        };
        if let Ok(root) = path.canonicalize() {
            self.roots.push(root);
        }
        if meta.is_file() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if is_forbidden(name) {
                return self.problem(
                    path,
                    "refusing to read Secrets or ConfigMaps; vigil never needs them",
                );
            }
            match super::archive::kind_of(name) {
                Some(kind) => self.archives.push((path.to_owned(), kind)),
                None => self.files.push(path.to_owned()),
            }
            return;
        }
        if !meta.is_dir() {
            return self.problem(path, not_regular(&meta));
        }
        if !self.enter(path) {
            return;
        }
        let roots = match self.must_gather_roots(path) {
            Ok(r) => r,
            Err(e) => return self.problems.push(e),
        };
        if roots.is_empty() {
            self.walk(path);
        } else {
            let ts = path.join("timestamp");
            if ts.is_file() {
                self.timestamps.push(ts);
            }
            for root in roots {
                if root != path && root.join("timestamp").is_file() {
                    self.timestamps.push(root.join("timestamp"));
                }
                if let Err(e) = self.must_gather_files(&root) {
                    self.problems.push(e);
                }
            }
        }
    }

    /// Marks a directory entered; false when it was already.
    fn enter(&mut self, dir: &Path) -> bool {
        match dir.canonicalize() {
            Ok(c) => self.entered.insert(c),
            Err(_) => true,
        }
    }

    /// What an entry inside a tree is, links resolved only within the trees.
    fn resolve(&mut self, p: &Path) -> Option<std::fs::Metadata> {
        let lmeta = match std::fs::symlink_metadata(p) {
            Ok(m) => m,
            Err(e) => {
                self.problem(p, format!("cannot read: {e}"));
                return None;
            }
        };
        if !lmeta.file_type().is_symlink() {
            return Some(lmeta);
        }
        let target = match p.canonicalize() {
            Ok(t) => t,
            Err(e) => {
                self.problem(p, format!("broken symbolic link: {e}"));
                return None;
            }
        };
        if !self.roots.iter().any(|r| target.starts_with(r)) {
            self.problem(
                p,
                "not read: a symbolic link to a path outside the --from tree (vigil reads only inside the trees it is given; name the target with --from to read it)",
            );
            return None;
        }
        match std::fs::metadata(p) {
            Ok(m) => Some(m),
            Err(e) => {
                self.problem(p, format!("cannot read: {e}"));
                None
            }
        }
    }

    /// A must-gather root holds `namespaces/` or `cluster-scoped-resources/`;
    /// the directory a user points at is usually one level above it (the
    /// image directory sits between).
    fn must_gather_roots(&mut self, dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
        let is_root =
            |d: &Path| d.join("namespaces").is_dir() || d.join("cluster-scoped-resources").is_dir();
        if is_root(dir) {
            return Ok(vec![dir.to_owned()]);
        }
        // `oc adm must-gather` writes <dest>/<image>/; an unpacked archive
        // adds its own directory above: look two levels down.
        let mut roots = Vec::new();
        for d in read_dir_sorted(dir)? {
            if !d.is_dir() {
                continue;
            }
            if is_root(&d) {
                if self.resolve(&d).is_some_and(|m| m.is_dir()) && self.enter(&d) {
                    roots.push(d);
                }
                continue;
            }
            let Ok(below) = read_dir_sorted(&d) else {
                continue;
            };
            for e in below {
                if is_root(&e)
                    && self.resolve(&d).is_some_and(|m| m.is_dir())
                    && self.resolve(&e).is_some_and(|m| m.is_dir())
                    && self.enter(&e)
                {
                    roots.push(e);
                }
            }
        }
        Ok(roots)
    }

    /// A file inside a must-gather, when it is a regular file in the tree.
    fn must_gather_file(&mut self, p: PathBuf) {
        if std::fs::symlink_metadata(&p).is_err() {
            return;
        }
        match self.resolve(&p) {
            Some(m) if m.is_file() => self.files.push(p),
            Some(m) if !m.is_dir() => {
                let msg = not_regular(&m);
                self.problem(&p, msg)
            }
            _ => {}
        }
    }

    fn must_gather_files(&mut self, root: &Path) -> Result<(), SourceError> {
        let cluster = root.join("cluster-scoped-resources");
        for want in CLUSTER_FILES {
            let (last, dirs) = want.split_last().expect("a path");
            let dir: PathBuf = dirs.iter().fold(cluster.clone(), |p, d| p.join(d));
            if *last != "*" {
                self.must_gather_file(dir.join(last));
            } else if dir.is_dir() {
                for p in read_dir_sorted(&dir)? {
                    if p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(is_state_file)
                    {
                        self.must_gather_file(p);
                    }
                }
            }
        }
        let namespaces = root.join("namespaces");
        if !namespaces.is_dir() {
            return Ok(());
        }
        for ns_dir in read_dir_sorted(&namespaces)? {
            if !ns_dir.is_dir() {
                continue;
            }
            let Some(ns) = ns_dir
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
            else {
                continue;
            };
            self.must_gather_file(ns_dir.join(format!("{ns}.yaml")));
            for (_, group, file) in NAMESPACED {
                self.must_gather_file(ns_dir.join(group).join(file));
            }
            // Pods are listed in core/pods.yaml and again one file each; read the
            // per-pod files only when the list is missing (uids de-duplicate anyway).
            if !ns_dir.join("core").join("pods.yaml").is_file() {
                let pods = ns_dir.join("pods");
                if pods.is_dir() {
                    for pod_dir in read_dir_sorted(&pods)? {
                        if let Some(name) = pod_dir.file_name().and_then(|n| n.to_str()) {
                            let f = pod_dir.join(format!("{name}.yaml"));
                            self.must_gather_file(f);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A plain directory: every state file below it, in sorted order,
    /// skipping hidden entries.
    fn walk(&mut self, dir: &Path) {
        let entries = match read_dir_sorted(dir) {
            Ok(e) => e,
            Err(e) => return self.problems.push(e),
        };
        for p in entries {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') {
                continue;
            }
            let state = is_state_file(name);
            let Some(meta) = self.resolve(&p) else {
                continue;
            };
            if meta.is_dir() {
                if self.enter(&p) {
                    self.walk(&p);
                }
            } else if state && meta.is_file() {
                self.files.push(p);
            } else if let (Some(kind), true) = (super::archive::kind_of(name), meta.is_file()) {
                self.archives.push((p, kind));
            } else if state {
                let msg = not_regular(&meta);
                self.problem(&p, msg);
            } else if self.ignored.len() < IGNORED_KEPT {
                self.ignored.push(p);
            }
        }
    }
}

fn not_regular(meta: &std::fs::Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        let what = if t.is_fifo() {
            "a FIFO"
        } else if t.is_char_device() || t.is_block_device() {
            "a device"
        } else if t.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        };
        format!("not read: {what}, not a regular file (reading it might never end)")
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        "not read: not a regular file".into()
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| SourceError::plain(dir, format!("cannot list directory: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    Ok(entries)
}

/// Parses files on all cores, keeping the input order in the result. Every
/// file is parsed: one broken file does not hide what the others hold.
fn parse_all(files: &[PathBuf], limits: &Limits) -> Vec<Result<Parsed, SourceError>> {
    // Largest first: a 50 MB List read at the end would hold its buffer on
    // top of everything decoded before it (100 MB of a 150k-pod run's peak).
    let mut order: Vec<(u64, usize)> = files
        .iter()
        .enumerate()
        .map(|(i, p)| (std::fs::metadata(p).map_or(0, |m| m.len()), i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let order: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
    crate::parallel::map_in_order_by(files, &order, |path| {
        parse_file_with(path, limits).map(|mut parsed| {
            parsed.objects.iter_mut().for_each(default_namespace);
            parsed.keys = parsed.objects.iter().map(identity).collect();
            parsed
        })
    })
}

/// The hash of an object's identity (kind, namespace, name: Kubernetes
/// allows one at a time), as duplicates are found by. Hashed rather than
/// cloned: 64 bits make a collision among a few million objects about as
/// likely as a bit flip. foldhash: SipHash was 2% of a 150k-pod run.
fn identity(obj: &Object) -> u64 {
    let m = obj.metadata();
    std::hash::BuildHasher::hash_one(
        &foldhash::quality::FixedState::with_seed(0),
        (obj.kind(), &m.namespace, &m.name),
    )
}

/// Buffers larger than this are freed after their file instead of being
/// kept for the next one: small files are most of a dump, and keeping one
/// large buffer per thread would add the largest files to the peak.
const KEPT_BUFFER_BYTES: usize = 8 << 20;

/// Reads and decodes one file (`.gz` transparently).
pub fn parse_file_with(path: &Path, limits: &Limits) -> Result<Parsed, SourceError> {
    // Each parsing thread reuses its buffers: a fresh multi-megabyte buffer per
    // file costs the kernel a page fault and a zeroed page for every 4 KiB.
    thread_local! {
        static BUFFERS: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
    }
    let limit = crate::input::Limit::files(limits.max_file_bytes);
    let failed = |e: crate::input::ReadError| SourceError::plain(path, e.to_string());
    BUFFERS.with(|b| {
        let (raw, unzipped) = &mut *b.borrow_mut();
        crate::input::read_file_into(path, limit, raw).map_err(failed)?;
        let gz = path.extension().is_some_and(|e| e == "gz");
        // One budget for the whole file, however many members it has: the
        // limit holds for what the file inflates to in all.
        let budget = crate::input::Budget::new(limit);
        let parsed = if let Some(parsed) = gz.then(|| parse_members(path, raw, &budget)).flatten() {
            Ok(parsed)
        } else if gz {
            unzipped.clear();
            let budget = crate::input::Budget::new(limit);
            crate::input::gunzip_into(raw, &budget, unzipped).map_err(failed)?;
            let r = parse_bytes(path, unzipped);
            if unzipped.capacity() > KEPT_BUFFER_BYTES {
                *unzipped = Vec::new();
            }
            r
        } else {
            parse_bytes(path, raw)
        };
        if raw.capacity() > KEPT_BUFFER_BYTES {
            *raw = Vec::new();
        }
        parsed
    })
}

/// A gzip file made of self-describing members (how vigil writes snapshots,
/// see [`super::gzip_members`]): the members inflated and decoded on all
/// cores, each holding whole JSON documents. `None` when the file is not
/// made that way, or anything in it is not plainly right (a member that is
/// not JSON, does not decode, or the limit): it is then read in order, which
/// gives the same objects or the error with its true line.
pub(crate) fn parse_members(
    path: &Path,
    raw: &[u8],
    budget: &crate::input::Budget,
) -> Option<Parsed> {
    use super::gzip_members::{split, stated_size};
    let members = split(raw)?;
    if members.len() < 2 {
        return None;
    }
    let decoded = crate::parallel::map_in_order(&members, |m| {
        let m = &raw[m.clone()];
        // The stated size is only a hint for the buffer, never trusted past
        // what is left of the budget.
        let left = budget_left(budget);
        let mut text = Vec::with_capacity(stated_size(m).min(left as usize).min(64 << 20));
        crate::input::gunzip_into(m, budget, &mut text).ok()?;
        match text.iter().find(|b| !b.is_ascii_whitespace()) {
            None => Some(Parsed::default()),
            Some(b'{') => parse_bytes(path, &text).ok(),
            Some(_) => None,
        }
    });
    let mut all = Parsed::default();
    for member in decoded {
        let parsed = member?;
        if parsed.snapshot.is_some() {
            all.snapshot = parsed.snapshot;
        }
        if parsed.snapshot_end.is_some() {
            all.snapshot_end = parsed.snapshot_end;
        }
        all.lists.extend(parsed.lists);
        all.objects.extend(parsed.objects);
        all.kindless += parsed.kindless;
        all.other_kinds += parsed.other_kinds;
    }
    Some(all)
}

fn budget_left(budget: &crate::input::Budget) -> u64 {
    budget.limit().bytes.saturating_sub(budget.used())
}

/// Decodes YAML or JSON text; `path` only names the input in errors.
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<Parsed, SourceError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col(bytes, e.valid_up_to());
        SourceError {
            path: path.to_owned(),
            line: Some(line),
            column: Some(column),
            message: "not valid UTF-8 text".into(),
        }
    })?;
    let first = text
        .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
        .chars()
        .next();
    if matches!(first, Some('{') | Some('[')) {
        match insights_kind(path) {
            // Written without `kind`: the kind is where it lies.
            Some(head) if first == Some('{') => {
                let at = text.find('{').unwrap_or(0) + 1;
                parse_json(path, &format!("{}{head}{}", &text[..at], &text[at..]))
            }
            _ => parse_json(path, text),
        }
    } else {
        parse_yaml(path, text)
    }
}

/// An Insights Operator archive (`insights-*.tar.gz`, gathered by OpenShift's
/// Insights operator) writes each object as its own JSON file, without
/// `kind`: `config/pod/<namespace>/<name>.json` (the pods of degraded
/// operators and pods that restart, with their real status),
/// `config/node/<name>.json`, `config/infrastructure.json`. The path says
/// what the object is; this is the text that makes it say so.
fn insights_kind(path: &Path) -> Option<&'static str> {
    let parts: Vec<&str> = path
        .components()
        .rev()
        .take(4)
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    match parts.as_slice() {
        [file, _, "pod", "config", ..] if file.ends_with(".json") => Some(r#""kind":"Pod","#),
        [file, "node", "config", ..] if file.ends_with(".json") => Some(r#""kind":"Node","#),
        ["infrastructure.json", "config", ..] => {
            Some(r#""apiVersion":"config.openshift.io/v1","kind":"Infrastructure","#)
        }
        _ => None,
    }
}

fn parse_json(path: &Path, text: &str) -> Result<Parsed, SourceError> {
    // The fast reader skips what vigil ignores without tokenizing it; every
    // error, and anything it does not take, goes to serde_json.
    if let Ok(docs) = super::json_fast::from_stream_as::<Doc>(text) {
        let mut parsed = Parsed::default();
        for d in docs {
            parsed.add(d);
        }
        return Ok(parsed);
    }
    let mut parsed = Parsed::default();
    for doc in serde_json::Deserializer::from_str(text).into_iter::<Doc>() {
        match doc {
            Ok(d) => parsed.add(d),
            Err(e) => {
                return Err(SourceError {
                    path: path.to_owned(),
                    line: Some(e.line() as u64),
                    column: Some(e.column() as u64),
                    message: quote_safe(&strip_json_position(&e.to_string())),
                })
            }
        }
    }
    Ok(parsed)
}

fn strip_json_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

fn yaml_options() -> serde_saphyr::Options {
    // Cluster dumps are large: lift the size budgets, keep the alias limits
    // that guard against billion-laughs documents (kubectl never writes aliases).
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = None;
    budget.max_events = usize::MAX;
    budget.max_documents = usize::MAX;
    budget.max_nodes = usize::MAX;
    budget.max_total_scalar_bytes = usize::MAX;
    budget.max_depth = 256;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options
}

fn parse_yaml(path: &Path, text: &str) -> Result<Parsed, SourceError> {
    // The fast reader takes what kubectl and must-gathers write; anything
    // else, and every error, goes to the full parser.
    if let Ok(docs) = super::yaml_fast::from_multiple(text) {
        let mut parsed = Parsed::default();
        for d in docs {
            parsed.add(d);
        }
        return Ok(parsed);
    }
    match serde_saphyr::from_multiple_with_options::<Doc>(text, yaml_options()) {
        Ok(docs) => {
            let mut parsed = Parsed::default();
            for d in docs {
                parsed.add(d);
            }
            Ok(parsed)
        }
        Err(e) => {
            let (line, column) = match e.location().filter(|l| l.line() > 0) {
                Some(l) => (l.line(), l.column()),
                // Errors about a whole document (a bare scalar where an
                // object belongs) come without a place: name the document.
                None => (failing_document_line(text), 1),
            };
            Err(SourceError {
                path: path.to_owned(),
                line: Some(line),
                column: Some(column),
                message: quote_safe(&yaml_message(&e)),
            })
        }
    }
}

/// The first line of the first YAML document of `text` that does not
/// decode, found by decoding the documents one by one.
fn failing_document_line(text: &str) -> u64 {
    let mut starts = vec![0usize];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset > 0
            && (line.starts_with("---\n") || line.trim_end() == "---" || line.starts_with("--- "))
        {
            starts.push(offset);
        }
        offset += line.len();
    }
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let doc = &text[start..end];
        if serde_saphyr::from_multiple_with_options::<Doc>(doc, yaml_options()).is_err() {
            return text[..start].matches('\n').count() as u64 + 1;
        }
    }
    1
}

impl Parsed {
    fn add(&mut self, d: Doc) {
        if d.snapshot.is_some() {
            self.snapshot = d.snapshot;
        }
        if d.snapshot_end.is_some() {
            self.snapshot_end = d.snapshot_end;
        }
        self.lists.extend(d.lists);
        self.objects.extend(d.objects);
        self.kindless += d.kindless;
        self.other_kinds += d.other_kinds;
    }
}

/// Error messages of the parsers quote the offending value (`invalid type:
/// string "..."`). An input may be anything, a key or a token among them, so
/// long quotes are cut to their first characters.
fn quote_safe(msg: &str) -> String {
    const KEEP: usize = 24;
    let mut out = String::with_capacity(msg.len().min(512));
    let mut rest = msg;
    while let Some(open) = rest.find(['"', '`']) {
        let q = rest.as_bytes()[open] as char;
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find(q) else {
            // Unterminated: cut what follows.
            out.extend(rest.chars().take(KEEP));
            if rest.chars().count() > KEEP {
                out.push('…');
            }
            return crate::redact::text(&out);
        };
        let quoted = &rest[..close];
        if quoted.chars().count() > KEEP {
            out.extend(quoted.chars().take(KEEP));
            out.push('…');
        } else {
            out.push_str(quoted);
        }
        out.push(q);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    crate::redact::text(&out)
}

/// serde-saphyr appends the position to its message; vigil prints it in
/// `file:line:column` form in front instead.
pub fn yaml_message(e: &serde_saphyr::Error) -> String {
    let msg = e.without_snippet().to_string();
    let msg = match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    };
    msg.lines().next().unwrap_or("").trim().to_owned()
}

fn line_col(bytes: &[u8], offset: usize) -> (u64, u64) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() as u64 + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_about_a_whole_document_name_its_first_line() {
        let text = "kind: Namespace\nmetadata: {name: a}\n---\nkind: Namespace\nmetadata: {name: b}\n---\njust a sentence\n";
        let err = parse_bytes(Path::new("x.yaml"), text.as_bytes()).unwrap_err();
        assert_eq!((err.line, err.column), (Some(6), Some(1)), "{err}");
    }

    #[test]
    fn long_quotes_in_parser_errors_are_cut() {
        let secret = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9-very-long-token-value-here";
        let err = parse_bytes(Path::new("token.yaml"), secret.as_bytes()).unwrap_err();
        assert!(!err.to_string().contains(secret), "{err}");
        assert!(!err.to_string().contains("very-long-token"), "{err}");
        assert_eq!(
            quote_safe("invalid type: string \"abcdefghijklmnopqrstuvwxyz0123\", expected a map"),
            "invalid type: string \"abcdefghijklmnopqrstuvwx…\", expected a map"
        );
        assert_eq!(quote_safe("unknown `kind`"), "unknown `kind`");
    }

    fn parse(text: &str) -> Result<Vec<Object>, SourceError> {
        parse_bytes(Path::new("state.yaml"), text.as_bytes()).map(|p| p.objects)
    }

    #[test]
    fn an_insights_archive_says_each_kind_by_where_it_lies() {
        let d = tempfile::tempdir().unwrap();
        let at = |rel: &str, text: &str| {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        at(
            "config/pod/openshift-monitoring/prometheus-k8s-0.json",
            r#"{"metadata":{"name":"prometheus-k8s-0","namespace":"openshift-monitoring"},"status":{"phase":"Running","containerStatuses":[{"name":"prometheus","restartCount":7}]}}"#,
        );
        at(
            "config/node/master-0.json",
            "{\n  \"metadata\": {\"name\": \"master-0\"}\n}\n",
        );
        at(
            "config/infrastructure.json",
            r#"{"metadata":{"name":"cluster"},"status":{"infrastructureTopology":"HighlyAvailable"}}"#,
        );
        // Elsewhere a kind-less document stays what it is.
        at("config/version.json", r#"{"metadata":{"name":"version"}}"#);
        let loaded = load_paths(&[d.path().to_owned()]).unwrap();
        let mut kinds: Vec<&str> = loaded.objects.iter().map(|o| o.kind()).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["Infrastructure", "Node", "Pod"]);
        assert_eq!(loaded.kindless, 1);
        let pod = loaded.objects.iter().find_map(|o| match o {
            Object::Pod(p) => Some(p),
            _ => None,
        });
        assert_eq!(pod.unwrap().status.container_statuses[0].restart_count, 7);
    }

    #[test]
    fn multi_document_yaml() {
        let objs = parse("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\nkind: Namespace\nmetadata:\n  name: b\n").unwrap();
        assert_eq!(objs.len(), 2);
    }

    #[test]
    fn yaml_syntax_error_names_line_and_column() {
        let err = parse("kind: Pod\nmetadata:\n  name: [unclosed\n").unwrap_err();
        assert_eq!(err.path, Path::new("state.yaml"));
        assert!(err.line.is_some(), "{err}");
        assert!(err.to_string().starts_with("state.yaml:"), "{err}");
    }

    #[test]
    fn yaml_type_error_names_the_line() {
        let err =
            parse("kind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: [1]\n").unwrap_err();
        assert_eq!(err.line, Some(5), "{err}");
    }

    #[test]
    fn json_error_names_line_and_column() {
        let err = parse("{\"kind\": \"Pod\",\n \"metadata\": {\"name\": 3}}").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.column.is_some());
        assert!(!err.message.contains("at line"), "{err}");
    }

    #[test]
    fn invalid_utf8_is_located() {
        let err =
            parse_bytes(Path::new("x.yaml"), b"kind: Pod\nmetadata:\n  name: \xff\n").unwrap_err();
        assert_eq!((err.line, err.column), (Some(3), Some(9)));
    }

    #[test]
    fn forbidden_names() {
        assert!(is_forbidden("secrets.yaml"));
        assert!(is_forbidden("configmaps.yaml"));
        assert!(!is_state_file("secrets.yaml"));
        assert!(is_state_file("pods.json.gz"));
        assert!(!is_state_file("notes.txt"));
    }
}
