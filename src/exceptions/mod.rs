//! Exceptions: the Jira-linked list of known violations, and the policy.
//!
//! An exceptions directory holds one YAML file per component plus an
//! optional `policy.yaml`:
//!
//! ```yaml
//! component: Management Console
//! namespaces: [openshift-console, openshift-console-operator]
//! exceptions:
//!   - check: ha/replicas
//!     namespace: openshift-console      # glob; omitted = every namespace the file claims
//!     object: Deployment/downloads      # Kind/name glob; omitted = every object
//!     jira: OCPBUGS-12345               # key, or https URL ending in /browse/KEY
//!     reason: serves static files
//!     expires: 2027-06-30               # optional
//!   - check: ha/priority-class
//!     namespace: openshift-console
//!     object: Deployment/console
//!     allow: runs at default priority by design
//!     approved-by: console team lead
//! ```
//!
//! A violation matched by a ticket flakes, by an `allow` passes, by an
//! expired ticket fails (saying so); unmatched, it fails.

pub mod diagnostics;
pub mod policy;

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::checks::{self, Finding};
pub use diagnostics::{Diagnostic, Level};
pub use policy::{Policy, POLICY_FILE};

/// The component of namespaces no file claims.
pub const UNKNOWN_COMPONENT: &str = "Unknown";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    component: Spanned<String>,
    #[serde(default)]
    namespaces: Vec<Spanned<String>>,
    #[serde(default)]
    exceptions: Vec<Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    check: Spanned<String>,
    #[serde(default)]
    namespace: Option<Spanned<String>>,
    #[serde(default)]
    object: Option<Spanned<String>>,
    #[serde(default)]
    jira: Option<Spanned<String>>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    expires: Option<Spanned<String>>,
    #[serde(default)]
    allow: Option<Spanned<String>>,
    #[serde(default, rename = "approved-by")]
    approved_by: Option<String>,
}

/// What an exception entry grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Grant {
    /// A known problem with a ticket: the violation flakes.
    Ticket {
        jira: String,
        url: Option<String>,
        reason: Option<String>,
        expires: Option<NaiveDate>,
    },
    /// A permanent approval: the violation passes, still listed.
    Allow { reason: String, approved_by: String },
}

/// One validated entry.
#[derive(Debug)]
pub struct Entry {
    pub file: PathBuf,
    pub line: u64,
    pub check: &'static str,
    pub namespace: Option<String>,
    pub object: Option<String>,
    pub grant: Grant,
    namespace_glob: Option<GlobMatcher>,
    object_glob: Option<GlobMatcher>,
    /// Claimed namespaces of the entry's file, when `namespace` is omitted.
    claimed: Vec<String>,
    used: Cell<bool>,
}

impl Entry {
    fn matches(&self, f: &Finding) -> bool {
        // Cluster-scoped findings (nodes) have no namespace to constrain.
        let ns_ok = f.namespace.is_empty()
            || match &self.namespace_glob {
                Some(g) => g.is_match(&f.namespace),
                None => self.claimed.iter().any(|n| *n == f.namespace),
            };
        ns_ok
            && self
                .object_glob
                .as_ref()
                .is_none_or(|g| g.is_match(f.object()))
    }

    /// Whether the entry could apply to namespace `ns` at all.
    pub fn covers_namespace(&self, ns: &str) -> bool {
        match &self.namespace_glob {
            Some(g) => g.is_match(ns),
            None => self.claimed.iter().any(|n| n == ns),
        }
    }

    pub fn was_used(&self) -> bool {
        self.used.get()
    }

    /// A short description for summaries: `ha/replicas ns/openshift-console Deployment/downloads`.
    pub fn describe(&self) -> String {
        format!(
            "{} ns/{} {}",
            self.check,
            self.namespace.as_deref().unwrap_or("(claimed)"),
            self.object.as_deref().unwrap_or("(any object)")
        )
    }
}

/// How a finding is weighed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Disposition {
    /// No exception: a new problem.
    New,
    /// Matched a ticket that is still valid.
    Ticket {
        jira: String,
        reason: Option<String>,
        expires: Option<NaiveDate>,
        file: PathBuf,
        line: u64,
    },
    /// Matched only a ticket whose `expires` date has passed.
    Expired {
        jira: String,
        expired: NaiveDate,
        file: PathBuf,
        line: u64,
    },
    /// Matched a permanent approval.
    Allowed {
        reason: String,
        approved_by: String,
        file: PathBuf,
        line: u64,
    },
}

/// The loaded exceptions directory.
#[derive(Debug, Default)]
pub struct Exceptions {
    pub dir: Option<PathBuf>,
    pub policy: Policy,
    pub entries: Vec<Entry>,
    components: HashMap<String, String>,
    by_check: HashMap<&'static str, Vec<usize>>,
}

impl Exceptions {
    /// Loads `dir`. A missing directory is no error when `required` is false
    /// (the default `./exceptions` may simply not exist). Every problem found
    /// is returned, not just the first.
    pub fn load(dir: &Path, required: bool) -> Result<Exceptions, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let mut ex = Exceptions::default();
        if !dir.is_dir() {
            if required || dir.exists() {
                diags.push(
                    Diagnostic::error(dir, None, "exceptions directory not found").hint(
                        "pass --exceptions DIR pointing at a directory of component YAML files",
                    ),
                );
                return Err(diags);
            }
            return Ok(ex);
        }
        ex.dir = Some(dir.to_owned());
        ex.policy = policy::load(&dir.join(POLICY_FILE), &mut diags);
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension().is_some_and(|e| e == "yaml" || e == "yml")
                        && p.file_name().is_some_and(|n| n != POLICY_FILE)
                })
                .collect(),
            Err(e) => {
                diags.push(Diagnostic::error(
                    dir,
                    None,
                    format!("cannot list directory: {e}"),
                ));
                return Err(diags);
            }
        };
        files.sort();
        let mut claims: BTreeMap<String, (PathBuf, u64)> = BTreeMap::new();
        for file in files {
            ex.load_file(&file, &mut claims, &mut diags);
        }
        for (i, e) in ex.entries.iter().enumerate() {
            ex.by_check.entry(e.check).or_default().push(i);
        }
        if diags.iter().any(|d| d.level == Level::Error) {
            Err(diags)
        } else {
            Ok(ex)
        }
    }

    fn load_file(
        &mut self,
        path: &Path,
        claims: &mut BTreeMap<String, (PathBuf, u64)>,
        diags: &mut Vec<Diagnostic>,
    ) {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::error(path, None, format!("cannot read: {e}")));
                return;
            }
        };
        let raw: RawFile = match serde_saphyr::from_str::<Option<RawFile>>(&text) {
            Ok(Some(r)) => r,
            Ok(None) => {
                diags.push(
                    Diagnostic::error(path, None, "empty exceptions file")
                        .hint("a component file needs at least `component:` and `namespaces:`"),
                );
                return;
            }
            Err(e) => {
                diags.push(diagnostics::from_yaml_error(path, &e));
                return;
            }
        };
        let component = raw.component.value.trim().to_owned();
        if component.is_empty() {
            diags.push(
                Diagnostic::at(path, &raw.component, "empty component name").hint(
                    "use the Jira component these namespaces belong to, e.g. `Management Console`",
                ),
            );
        }
        let mut claimed = Vec::new();
        for ns in &raw.namespaces {
            let name = ns.value.trim();
            if !is_dns_label(name) {
                diags.push(Diagnostic::at(path, ns, "not a namespace name").hint(
                    "`namespaces:` lists exact namespace names (lowercase letters, digits and '-')",
                ));
                continue;
            }
            let line = ns.referenced.line();
            if let Some((other, other_line)) = claims.get(name) {
                diags.push(
                    Diagnostic::at(path, ns, format!("namespace `{name}` is already claimed by another file"))
                        .hint(format!(
                            "{}:{other_line} claims it too; a namespace belongs to exactly one component",
                            other.display()
                        )),
                );
                continue;
            }
            claims.insert(name.to_owned(), (path.to_owned(), line));
            self.components.insert(name.to_owned(), component.clone());
            claimed.push(name.to_owned());
        }
        for entry in raw.exceptions {
            if let Some(e) = validate_entry(path, entry, &claimed, diags) {
                self.entries.push(e);
            }
        }
    }

    /// The Jira component of a namespace.
    pub fn component(&self, ns: &str) -> &str {
        self.components
            .get(ns)
            .map(String::as_str)
            .unwrap_or(UNKNOWN_COMPONENT)
    }

    /// Weighs a finding: an `allow` wins over a valid ticket, which wins over
    /// an expired one. Every matching entry counts as used.
    pub fn weigh(&self, f: &Finding, today: NaiveDate) -> Disposition {
        let mut best = Disposition::New;
        let rank = |d: &Disposition| match d {
            Disposition::New => 0,
            Disposition::Expired { .. } => 1,
            Disposition::Ticket { .. } => 2,
            Disposition::Allowed { .. } => 3,
        };
        for &i in self.by_check.get(f.check).map(Vec::as_slice).unwrap_or(&[]) {
            let e = &self.entries[i];
            if !e.matches(f) {
                continue;
            }
            e.used.set(true);
            let d = match &e.grant {
                Grant::Allow {
                    reason,
                    approved_by,
                } => Disposition::Allowed {
                    reason: reason.clone(),
                    approved_by: approved_by.clone(),
                    file: e.file.clone(),
                    line: e.line,
                },
                Grant::Ticket {
                    jira,
                    reason,
                    expires,
                    ..
                } => match expires {
                    Some(exp) if *exp < today => Disposition::Expired {
                        jira: jira.clone(),
                        expired: *exp,
                        file: e.file.clone(),
                        line: e.line,
                    },
                    _ => Disposition::Ticket {
                        jira: jira.clone(),
                        reason: reason.clone(),
                        expires: *expires,
                        file: e.file.clone(),
                        line: e.line,
                    },
                },
            };
            if rank(&d) > rank(&best) {
                best = d;
            }
        }
        best
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn glob(
    path: &Path,
    value: &Spanned<String>,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<GlobMatcher> {
    match Glob::new(&value.value) {
        Ok(g) => Some(g.compile_matcher()),
        Err(e) => {
            diags.push(
                Diagnostic::at(path, value, format!("invalid {what} glob: {}", e.kind()))
                    .hint("globs use `*`, `?` and `[abc]`; quote values that start with `*`"),
            );
            None
        }
    }
}

/// A Jira key like `OCPBUGS-123`.
pub fn jira_key_re() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[A-Z][A-Z0-9_]*-[1-9][0-9]*$").unwrap())
}

/// Parses a `jira:` value: a key, or an https URL ending in `/browse/KEY`.
/// Returns the key and, for URLs, the URL.
pub fn parse_jira(value: &str) -> Option<(String, Option<String>)> {
    let v = value.trim();
    if jira_key_re().is_match(v) {
        return Some((v.to_owned(), None));
    }
    let rest = v.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    let key = path.rsplit_once("browse/").map(|(pre, key)| (pre, key))?;
    if !(key.0.is_empty() || key.0.ends_with('/')) || !jira_key_re().is_match(key.1) {
        return None;
    }
    Some((key.1.to_owned(), Some(v.to_owned())))
}

fn validate_entry(
    path: &Path,
    raw: Spanned<RawEntry>,
    claimed: &[String],
    diags: &mut Vec<Diagnostic>,
) -> Option<Entry> {
    let before = diags.len();
    let loc = raw.referenced;
    let r = raw.value;
    let check = match checks::find(&r.check.value) {
        Some(c) => Some(c.info().id),
        None => {
            let d = Diagnostic::at(
                path,
                &r.check,
                format!("unknown check id `{}`", r.check.value),
            );
            diags.push(match checks::closest(&r.check.value) {
                Some(c) => d.hint(format!("did you mean `{c}`?")),
                None => d.hint("`vigil checks` lists every check id"),
            });
            None
        }
    };
    let namespace_glob = r
        .namespace
        .as_ref()
        .and_then(|n| glob(path, n, "namespace", diags));
    let object_glob = match &r.object {
        Some(o) if !o.value.contains('/') => {
            diags.push(
                Diagnostic::at(path, o, "object must be Kind/name")
                    .hint(format!("for example `Deployment/{}`", o.value)),
            );
            None
        }
        Some(o) => glob(path, o, "object", diags),
        None => None,
    };
    let expires = r.expires.as_ref().and_then(|e| {
        match NaiveDate::parse_from_str(e.value.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                diags.push(
                    Diagnostic::at(path, e, "`expires` is not a date")
                        .hint("write it as YYYY-MM-DD, e.g. 2027-06-30"),
                );
                None
            }
        }
    });
    let grant = match (&r.jira, &r.allow) {
        (Some(_), Some(a)) => {
            diags.push(
                Diagnostic::at(path, a, "an entry has either `jira` or `allow`, not both")
                    .hint("keep `jira` for a known problem being fixed, or `allow` (with `approved-by`) for a permanent approval"),
            );
            None
        }
        (None, None) => {
            diags.push(
                Diagnostic::error(path, Some(loc), "an entry needs `jira` (a ticket) or `allow` (a permanent approval)")
                    .hint("add `jira: OCPBUGS-12345` for a known problem, or `allow: <why>` with `approved-by: <who>`"),
            );
            None
        }
        (Some(j), None) => match parse_jira(&j.value) {
            Some((jira, url)) => Some(Grant::Ticket {
                jira,
                url,
                reason: r.reason.clone(),
                expires,
            }),
            None => {
                diags.push(
                    Diagnostic::at(path, j, "not a Jira key or issue URL")
                        .hint("write a key like `OCPBUGS-12345` or a URL like `https://issues.redhat.com/browse/OCPBUGS-12345`"),
                );
                None
            }
        },
        (None, Some(a)) => {
            if a.value.trim().is_empty() {
                diags.push(Diagnostic::at(
                    path,
                    a,
                    "`allow` needs the reason the violation is acceptable",
                ));
                None
            } else {
                match r
                    .approved_by
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                {
                    Some(who) => Some(Grant::Allow {
                        reason: a.value.trim().to_owned(),
                        approved_by: who.to_owned(),
                    }),
                    None => {
                        diags.push(
                            Diagnostic::at(path, a, "`allow` without `approved-by`").hint(
                                "say who approved the exception: `approved-by: <name or team>`",
                            ),
                        );
                        None
                    }
                }
            }
        }
    };
    if diags.len() > before {
        return None;
    }
    Some(Entry {
        file: path.to_owned(),
        line: loc.line(),
        check: check?,
        namespace: r.namespace.map(|n| n.value),
        object: r.object.map(|o| o.value),
        grant: grant?,
        namespace_glob,
        object_glob,
        claimed: claimed.to_vec(),
        used: Cell::new(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Severity;

    fn dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(d.path().join(name), text).unwrap();
        }
        d
    }

    fn errors(files: &[(&str, &str)]) -> Vec<Diagnostic> {
        let d = dir(files);
        Exceptions::load(d.path(), true).unwrap_err()
    }

    fn finding(check: &'static str, ns: &str, kind: &str, name: &str) -> Finding {
        Finding {
            check,
            namespace: ns.into(),
            kind: kind.into(),
            name: name.into(),
            pod: None,
            container: None,
            detail: "x".into(),
            severity: Severity::Fail,
        }
    }

    const CONSOLE: &str = "component: Management Console
namespaces: [openshift-console, openshift-console-operator]
exceptions:
  - check: ha/replicas
    namespace: openshift-console
    object: Deployment/downloads
    jira: OCPBUGS-12345
    reason: static files
  - check: ha/priority-class
    namespace: openshift-console
    object: Deployment/console
    allow: runs at default priority by design
    approved-by: console team lead
  - check: ha/probes
    jira: https://issues.redhat.com/browse/OCPBUGS-7
    expires: 2020-01-01
  - check: ha/probes
    object: Deployment/console*
    jira: OCPBUGS-8
    expires: 2099-01-01
";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    #[test]
    fn outcomes_of_matching() {
        let d = dir(&[("console.yaml", CONSOLE)]);
        let ex = Exceptions::load(d.path(), true).unwrap();
        assert_eq!(ex.component("openshift-console"), "Management Console");
        assert_eq!(ex.component("kube-system"), UNKNOWN_COMPONENT);

        let t = ex.weigh(
            &finding(
                "ha/replicas",
                "openshift-console",
                "Deployment",
                "downloads",
            ),
            today(),
        );
        assert!(
            matches!(t, Disposition::Ticket { ref jira, .. } if jira == "OCPBUGS-12345"),
            "{t:?}"
        );
        let n = ex.weigh(
            &finding("ha/replicas", "openshift-console", "Deployment", "console"),
            today(),
        );
        assert_eq!(n, Disposition::New);
        let a = ex.weigh(
            &finding(
                "ha/priority-class",
                "openshift-console",
                "Deployment",
                "console",
            ),
            today(),
        );
        assert!(matches!(a, Disposition::Allowed { .. }), "{a:?}");
        // Omitted namespace: every claimed namespace; the expired ticket alone fails...
        let e = ex.weigh(
            &finding(
                "ha/probes",
                "openshift-console-operator",
                "Deployment",
                "operator",
            ),
            today(),
        );
        assert!(
            matches!(e, Disposition::Expired { ref jira, .. } if jira == "OCPBUGS-7"),
            "{e:?}"
        );
        // ...unless a valid ticket matches as well.
        let v = ex.weigh(
            &finding("ha/probes", "openshift-console", "Deployment", "console-x"),
            today(),
        );
        assert!(
            matches!(v, Disposition::Ticket { ref jira, .. } if jira == "OCPBUGS-8"),
            "{v:?}"
        );
        // Not claimed, no namespace given: no match.
        assert_eq!(
            ex.weigh(&finding("ha/probes", "default", "Deployment", "x"), today()),
            Disposition::New
        );
        assert!(ex.entries.iter().all(|e| e.was_used()));
    }

    #[test]
    fn jira_forms() {
        assert_eq!(parse_jira("OCPBUGS-1"), Some(("OCPBUGS-1".into(), None)));
        assert_eq!(
            parse_jira("https://issues.redhat.com/browse/OCPBUGS-12"),
            Some((
                "OCPBUGS-12".into(),
                Some("https://issues.redhat.com/browse/OCPBUGS-12".into())
            ))
        );
        assert_eq!(
            parse_jira("http://issues.redhat.com/browse/OCPBUGS-12"),
            None
        );
        assert_eq!(parse_jira("https://issues.redhat.com/OCPBUGS-12"), None);
        assert_eq!(parse_jira("ocpbugs-1"), None);
        assert_eq!(parse_jira("TODO"), None);
        assert_eq!(parse_jira("OCPBUGS-0"), None);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let bad = "component: Console
namespaces: [openshift-console]
exceptions:
  - check: ha/replica
    namespace: openshift-console
    jira: OCPBUGS-1
  - check: ha/replicas
    namespace: openshift-console
  - check: ha/replicas
    jira: not-a-ticket
  - check: ha/replicas
    allow: fine
  - check: ha/replicas
    object: downloads
    jira: OCPBUGS-2
    expires: next year
";
        let errs = errors(&[("c.yaml", bad)]);
        let got: Vec<_> = errs
            .iter()
            .map(|d| (d.line.unwrap_or(0), d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (4, "unknown check id `ha/replica`"),
                (
                    7,
                    "an entry needs `jira` (a ticket) or `allow` (a permanent approval)"
                ),
                (10, "not a Jira key or issue URL"),
                (12, "`allow` without `approved-by`"),
                (14, "object must be Kind/name"),
                (16, "`expires` is not a date"),
            ]
        );
        assert_eq!(errs[0].hint.as_deref(), Some("did you mean `ha/replicas`?"));
    }

    #[test]
    fn unknown_fields_are_errors_with_a_suggestion() {
        let errs = errors(&[(
            "c.yaml",
            "component: C\nnamespaces: [a]\nexceptions:\n  - check: ha/replicas\n    jria: OCPBUGS-1\n",
        )]);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, Some(5), "{}", errs[0]);
        assert_eq!(
            errs[0].hint.as_deref(),
            Some("did you mean `jira`?"),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn a_namespace_belongs_to_one_file() {
        let errs = errors(&[
            ("a.yaml", "component: A\nnamespaces: [shared]\n"),
            ("b.yaml", "component: B\nnamespaces: [other, shared]\n"),
        ]);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].path.ends_with("b.yaml"));
        assert_eq!(
            errs[0].message,
            "namespace `shared` is already claimed by another file"
        );
    }

    #[test]
    fn missing_default_directory_is_fine_explicit_is_not() {
        assert!(Exceptions::load(Path::new("/nonexistent/exceptions"), false).is_ok());
        assert!(Exceptions::load(Path::new("/nonexistent/exceptions"), true).is_err());
    }

    #[test]
    fn malformed_yaml_is_located() {
        let errs = errors(&[("c.yaml", "component: C\nnamespaces: [a\n")]);
        assert!(errs[0].line.is_some(), "{}", errs[0]);
    }
}
