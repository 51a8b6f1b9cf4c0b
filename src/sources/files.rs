//! Reading state from files and directories.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::decode::Doc;
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
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    /// Files opened, in the order their objects were taken.
    pub files: Vec<PathBuf>,
    /// Objects dropped because an object with the same uid was read before
    /// (must-gathers hold every pod twice).
    pub duplicates: usize,
    /// The must-gather `timestamp` files found, for the collection time.
    pub timestamp_files: Vec<PathBuf>,
    /// How the state was collected, when it comes from a vigil snapshot or a
    /// live cluster.
    pub collection: Option<CollectionInfo>,
}

/// The files `load_paths` would read for these paths, in order.
pub fn list_state_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SourceError> {
    let mut files = Vec::new();
    let mut timestamps = Vec::new();
    for p in paths {
        collect(p, &mut files, &mut timestamps)?;
    }
    Ok(files)
}

/// Reads every path (file or directory) and returns the decoded objects,
/// de-duplicated by uid. Fails on the first unreadable or malformed file,
/// naming it; a partial state would produce misleading results.
pub fn load_paths(paths: &[PathBuf]) -> Result<Loaded, SourceError> {
    let mut files = Vec::new();
    let mut timestamps = Vec::new();
    for p in paths {
        collect(p, &mut files, &mut timestamps)?;
    }
    let decoded = parse_all(&files)?;
    // Keys are hashed rather than cloned: 64 bits make a collision among a
    // few million objects about as likely as a cosmic-ray bit flip.
    let mut seen: HashSet<u64> = HashSet::new();
    let mut loaded = Loaded {
        files,
        timestamp_files: timestamps,
        ..Default::default()
    };
    for parsed in decoded {
        if loaded.collection.is_none() {
            loaded.collection = parsed.snapshot;
        }
        for obj in parsed.objects {
            let m = obj.metadata();
            let key = {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                if m.uid.is_empty() {
                    (obj.kind(), &m.namespace, &m.name).hash(&mut h);
                } else {
                    m.uid.hash(&mut h);
                }
                h.finish()
            };
            if seen.insert(key) {
                loaded.objects.push(obj);
            } else {
                loaded.duplicates += 1;
            }
        }
    }
    Ok(loaded)
}

/// File names that hold kinds vigil must never read.
fn is_forbidden(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("secret") || lower.starts_with("configmap")
}

fn is_state_file(name: &str) -> bool {
    let base = name.strip_suffix(".gz").unwrap_or(name);
    [".yaml", ".yml", ".json"].iter().any(|e| base.ends_with(e)) && !is_forbidden(name)
}

fn collect(
    path: &Path,
    files: &mut Vec<PathBuf>,
    timestamps: &mut Vec<PathBuf>,
) -> Result<(), SourceError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| SourceError::plain(path, format!("cannot read: {e}")))?;
    if meta.is_file() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if is_forbidden(name) {
            return Err(SourceError::plain(
                path,
                "refusing to read Secrets or ConfigMaps; vigil never needs them",
            ));
        }
        files.push(path.to_owned());
        return Ok(());
    }
    let roots = must_gather_roots(path)?;
    if roots.is_empty() {
        walk(path, files)?;
    } else {
        let ts = path.join("timestamp");
        if ts.is_file() {
            timestamps.push(ts);
        }
        for root in roots {
            if root != path && root.join("timestamp").is_file() {
                timestamps.push(root.join("timestamp"));
            }
            must_gather_files(&root, files)?;
        }
    }
    Ok(())
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| SourceError::plain(dir, format!("cannot list directory: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    Ok(entries)
}

/// A must-gather root holds `namespaces/` or `cluster-scoped-resources/`;
/// the directory a user points at is usually one level above it (the image
/// directory sits between).
fn must_gather_roots(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let is_root =
        |d: &Path| d.join("namespaces").is_dir() || d.join("cluster-scoped-resources").is_dir();
    if is_root(dir) {
        return Ok(vec![dir.to_owned()]);
    }
    Ok(read_dir_sorted(dir)?
        .into_iter()
        .filter(|d| d.is_dir() && is_root(d))
        .collect())
}

/// The per-namespace files of a must-gather that hold kinds vigil reads.
const NAMESPACED: &[(&str, &str)] = &[
    ("core", "pods.yaml"),
    ("core", "services.yaml"),
    ("core", "endpoints.yaml"),
    ("core", "events.yaml"),
    ("apps", "deployments.yaml"),
    ("apps", "replicasets.yaml"),
    ("apps", "statefulsets.yaml"),
    ("apps", "daemonsets.yaml"),
    ("policy", "poddisruptionbudgets.yaml"),
    ("autoscaling", "horizontalpodautoscalers.yaml"),
    ("discovery.k8s.io", "endpointslices.yaml"),
];

fn must_gather_files(root: &Path, files: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let cluster = root.join("cluster-scoped-resources");
    let nodes = cluster.join("core").join("nodes");
    if nodes.is_dir() {
        files.extend(read_dir_sorted(&nodes)?.into_iter().filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_state_file)
        }));
    }
    let infra = cluster
        .join("config.openshift.io")
        .join("infrastructures.yaml");
    if infra.is_file() {
        files.push(infra);
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
        let ns_file = ns_dir.join(format!("{ns}.yaml"));
        if ns_file.is_file() {
            files.push(ns_file);
        }
        for (group, file) in NAMESPACED {
            let p = ns_dir.join(group).join(file);
            if p.is_file() {
                files.push(p);
            }
        }
        // Pods are listed in core/pods.yaml and again one file each; read the
        // per-pod files only when the list is missing (uids de-duplicate anyway).
        if !ns_dir.join("core").join("pods.yaml").is_file() {
            let pods = ns_dir.join("pods");
            if pods.is_dir() {
                for pod_dir in read_dir_sorted(&pods)? {
                    if let Some(name) = pod_dir.file_name().and_then(|n| n.to_str()) {
                        let f = pod_dir.join(format!("{name}.yaml"));
                        if f.is_file() {
                            files.push(f);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// A plain directory: every state file below it, in sorted order, skipping
/// hidden entries.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    for p in read_dir_sorted(dir)? {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            walk(&p, files)?;
        } else if is_state_file(name) {
            files.push(p);
        }
    }
    Ok(())
}

/// Parses files on all cores, keeping the input order in the result.
fn parse_all(files: &[PathBuf]) -> Result<Vec<Parsed>, SourceError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Parsed, SourceError>>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let r = parse_file(path);
                let failed = r.is_err();
                results.lock().unwrap()[i] = Some(r);
                if failed {
                    // Let the other workers finish their current file and stop.
                    next.store(files.len(), Ordering::Relaxed);
                    break;
                }
            });
        }
    });
    let mut out = Vec::with_capacity(files.len());
    for r in results.into_inner().unwrap() {
        match r {
            Some(Ok(objs)) => out.push(objs),
            Some(Err(e)) => return Err(e),
            None => {} // skipped after an earlier failure, which is returned above
        }
    }
    Ok(out)
}

/// Reads and decodes one file (`.gz` transparently).
pub fn parse_file(path: &Path) -> Result<Parsed, SourceError> {
    // Each parsing thread reuses its buffers: a fresh multi-megabyte buffer per
    // file costs the kernel a page fault and a zeroed page for every 4 KiB.
    thread_local! {
        static BUFFERS: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
    }
    BUFFERS.with(|b| {
        let (raw, unzipped) = &mut *b.borrow_mut();
        raw.clear();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(raw))
            .map_err(|e| SourceError::plain(path, format!("cannot read: {e}")))?;
        if path.extension().is_some_and(|e| e == "gz") {
            unzipped.clear();
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(unzipped)
                .map_err(|e| SourceError::plain(path, format!("not valid gzip: {e}")))?;
            parse_bytes(path, unzipped)
        } else {
            parse_bytes(path, raw)
        }
    })
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
        parse_json(path, text)
    } else {
        parse_yaml(path, text).map(|objects| Parsed {
            objects,
            snapshot: None,
        })
    }
}

fn parse_json(path: &Path, text: &str) -> Result<Parsed, SourceError> {
    let mut out = Vec::new();
    let snapshot = &mut None;
    for doc in serde_json::Deserializer::from_str(text).into_iter::<Doc>() {
        match doc {
            Ok(d) => {
                if d.snapshot.is_some() {
                    *snapshot = d.snapshot;
                }
                out.extend(d.objects)
            }
            Err(e) => {
                return Err(SourceError {
                    path: path.to_owned(),
                    line: Some(e.line() as u64),
                    column: Some(e.column() as u64),
                    message: strip_json_position(&e.to_string()),
                })
            }
        }
    }
    Ok(Parsed {
        objects: out,
        snapshot: snapshot.take(),
    })
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

fn parse_yaml(path: &Path, text: &str) -> Result<Vec<Object>, SourceError> {
    match serde_saphyr::from_multiple_with_options::<Doc>(text, yaml_options()) {
        Ok(docs) => Ok(docs.into_iter().flat_map(|d| d.objects).collect()),
        Err(e) => {
            let loc = e.location();
            Err(SourceError {
                path: path.to_owned(),
                line: loc.map(|l| l.line()),
                column: loc.map(|l| l.column()),
                message: yaml_message(&e),
            })
        }
    }
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

    fn parse(text: &str) -> Result<Vec<Object>, SourceError> {
        parse_bytes(Path::new("state.yaml"), text.as_bytes()).map(|p| p.objects)
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
