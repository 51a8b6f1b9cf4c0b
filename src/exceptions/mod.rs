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
mod fields;
pub mod load;
pub mod owners;
pub mod policy;
pub mod rules;
pub mod suggest;
pub mod tree;
pub mod verify;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::NaiveDate;
use regex::Regex;
use serde::Serialize;
use serde_saphyr::Location;

use crate::checks::Finding;
pub use diagnostics::{Diagnostic, Level};
pub use owners::{Owners, OWNERS_FILE};
pub use policy::{Policy, POLICY_FILE};

/// The placeholder `vigil exceptions suggest` writes for tickets.
pub const PLACEHOLDER: &str = "TODO";

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
    /// Index of the entry's file in [`Exceptions::files`].
    pub file_index: usize,
    pub line: u64,
    /// Where the entry and its fields are written, for diagnostics.
    pub at: Location,
    pub check_at: Location,
    pub namespace_at: Option<Location>,
    pub object_at: Option<Location>,
    pub expires_at: Option<Location>,
    pub check: &'static str,
    pub namespace: Option<String>,
    pub object: Option<String>,
    /// A glob over what the finding says after its object (`Finding::text`),
    /// e.g. `*node.kubernetes.io/not-ready:NoSchedule*` or `container proxy:*`:
    /// an entry for one of an object's findings, not all of them.
    pub finding: Option<String>,
    pub grant: Grant,
    namespace_glob: Option<Pattern>,
    object_glob: Option<Pattern>,
    finding_glob: Option<Pattern>,
    /// Claimed namespaces of the entry's file, when `namespace` is omitted.
    claimed: Vec<String>,
    used: AtomicBool,
}

/// A compiled glob. globset's own matcher panics on patterns its regex
/// engine refuses (deeply nested `{...}`), so the regex it translates the
/// glob to is compiled here, where a refusal is an error with a place.
#[derive(Debug, Clone)]
pub struct Pattern(regex::bytes::Regex);

impl Pattern {
    /// Compiles `glob` with globset's syntax.
    pub fn new(glob: &str) -> Result<Pattern, String> {
        let g = globset::Glob::new(glob).map_err(|e| e.kind().to_string())?;
        regex::bytes::RegexBuilder::new(g.regex())
            .size_limit(1 << 20)
            .nest_limit(64)
            .build()
            .map(Pattern)
            .map_err(|_| "too complex (nested too deeply or too large)".to_owned())
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s.as_bytes())
    }
}

/// One component file.
#[derive(Debug)]
pub struct ComponentFile {
    pub path: PathBuf,
    pub component: String,
    pub component_at: Location,
    /// Claimed namespaces with where each is written.
    pub namespaces: Vec<(String, Location)>,
}

impl Entry {
    fn matches(&self, f: &Finding) -> bool {
        // Cluster-scoped findings (nodes) have no namespace to constrain.
        (f.namespace.is_empty() || self.covers_namespace(&f.namespace))
            && self
                .object_glob
                .as_ref()
                .is_none_or(|g| g.is_match(&f.object()))
            && self
                .finding_glob
                .as_ref()
                .is_none_or(|g| g.is_match(&f.text()))
    }

    /// Whether the entry could apply to namespace `ns` at all.
    pub fn covers_namespace(&self, ns: &str) -> bool {
        match &self.namespace_glob {
            Some(g) => g.is_match(ns),
            None => self.claimed.iter().any(|n| n == ns),
        }
    }

    pub fn was_used(&self) -> bool {
        self.used.load(Ordering::Relaxed)
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

/// How a finding is weighed. What a matched entry says is boxed: a large
/// run holds a hundred thousand of these, nearly all `New`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Disposition {
    /// No exception: a new problem.
    New,
    /// Matched a ticket that is still valid.
    Ticket(Box<TicketMatch>),
    /// Matched only a ticket whose `expires` date has passed.
    Expired(Box<ExpiredMatch>),
    /// Matched a permanent approval.
    Allowed(Box<AllowedMatch>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketMatch {
    pub jira: String,
    pub reason: Option<String>,
    pub expires: Option<NaiveDate>,
    pub file: PathBuf,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiredMatch {
    pub jira: String,
    pub expired: NaiveDate,
    pub file: PathBuf,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowedMatch {
    pub reason: String,
    pub approved_by: String,
    pub file: PathBuf,
    pub line: u64,
}

/// The loaded exceptions directory.
#[derive(Debug, Default)]
pub struct Exceptions {
    pub dir: Option<PathBuf>,
    pub policy: Policy,
    pub files: Vec<ComponentFile>,
    pub entries: Vec<Entry>,
    /// `owners.yaml`: the only source of test names' `[Jira:"..."]` tags.
    pub owners: Owners,
    by_check: HashMap<&'static str, Vec<usize>>,
}

impl Exceptions {
    /// The Jira component that owns a namespace's tests, as `owners.yaml`
    /// says; `None` when it says nothing (the tests carry no `[Jira:]` tag,
    /// and ci-test-mapping assigns them by namespace).
    pub fn component(&self, ns: &str) -> Option<&str> {
        self.owners.component(ns)
    }

    /// Weighs a finding: an `allow` wins over a valid ticket, which wins over
    /// an expired one. Every matching entry counts as used.
    pub fn weigh(&self, f: &Finding, today: NaiveDate) -> Disposition {
        let mut best = Disposition::New;
        let rank = |d: &Disposition| match d {
            Disposition::New => 0,
            Disposition::Expired(_) => 1,
            Disposition::Ticket(_) => 2,
            Disposition::Allowed(_) => 3,
        };
        for &i in self.by_check.get(f.check).map(Vec::as_slice).unwrap_or(&[]) {
            let e = &self.entries[i];
            if !e.matches(f) {
                continue;
            }
            e.used.store(true, Ordering::Relaxed);
            let d = match &e.grant {
                Grant::Allow {
                    reason,
                    approved_by,
                } => Disposition::Allowed(Box::new(AllowedMatch {
                    reason: reason.clone(),
                    approved_by: approved_by.clone(),
                    file: e.file.clone(),
                    line: e.line,
                })),
                Grant::Ticket {
                    jira,
                    reason,
                    expires,
                    ..
                } => match expires {
                    Some(exp) if *exp < today => Disposition::Expired(Box::new(ExpiredMatch {
                        jira: jira.clone(),
                        expired: *exp,
                        file: e.file.clone(),
                        line: e.line,
                    })),
                    _ => Disposition::Ticket(Box::new(TicketMatch {
                        jira: jira.clone(),
                        reason: reason.clone(),
                        expires: *expires,
                        file: e.file.clone(),
                        line: e.line,
                    })),
                },
            };
            if rank(&d) > rank(&best) {
                best = d;
            }
        }
        best
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
    let key = path.rsplit_once("browse/")?;
    if !(key.0.is_empty() || key.0.ends_with('/')) || !jira_key_re().is_match(key.1) {
        return None;
    }
    Some((key.1.to_owned(), Some(v.to_owned())))
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
        // Claiming a namespace for exceptions does not name its owner.
        assert_eq!(ex.component("openshift-console"), None);
        let d = dir(&[
            ("console.yaml", CONSOLE),
            (
                "owners.yaml",
                "owners:\n  Management Console: [openshift-console]\n",
            ),
        ]);
        let ex = Exceptions::load(d.path(), true).unwrap();
        assert_eq!(
            ex.component("openshift-console"),
            Some("Management Console")
        );
        assert_eq!(ex.component("kube-system"), None);

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
            matches!(&t, Disposition::Ticket(m) if m.jira == "OCPBUGS-12345"),
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
        assert!(matches!(a, Disposition::Allowed(_)), "{a:?}");
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
            matches!(&e, Disposition::Expired(m) if m.jira == "OCPBUGS-7"),
            "{e:?}"
        );
        // ...unless a valid ticket matches as well.
        let v = ex.weigh(
            &finding("ha/probes", "openshift-console", "Deployment", "console-x"),
            today(),
        );
        assert!(
            matches!(&v, Disposition::Ticket(m) if m.jira == "OCPBUGS-8"),
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
            "component: C\nnamespaces: [a]\nexceptions:\n  - check: ha/replicas\n    jria: OCPBUGS-1\n    reson: typo too\n",
        )]);
        // Every unknown field, and what the misspelling left missing.
        let got: Vec<_> = errs
            .iter()
            .map(|d| {
                (
                    d.line.unwrap(),
                    d.message.as_str(),
                    d.hint.as_deref().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (5, "unknown field `jria` in an exception entry", "did you mean `jira`?"),
                (6, "unknown field `reson` in an exception entry", "did you mean `reason`?"),
                (
                    4,
                    "an entry needs `jira` (a ticket) or `allow` (a permanent approval)",
                    "add `jira: OCPBUGS-12345` for a known problem, or `allow: <why>` with `approved-by: <who>`"
                ),
            ]
        );
    }

    #[test]
    fn bad_globs_and_jira_with_allow() {
        let errs = errors(&[(
            "c.yaml",
            "component: C\nnamespaces: [a]\nexceptions:\n  - check: ha/replicas\n    namespace: 'a[b'\n    jira: OCPBUGS-1\n  - check: ha/replicas\n    object: 'Deployment/{x'\n    jira: OCPBUGS-2\n  - check: ha/replicas\n    jira: OCPBUGS-3\n    allow: also fine\n    approved-by: lead\n",
        )]);
        let got: Vec<_> = errs
            .iter()
            .map(|d| (d.line.unwrap(), d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (5, "invalid namespace glob: unclosed character class; missing ']'"),
                (8, "invalid object glob: unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)"),
                (12, "an entry has either `jira` or `allow`, not both"),
            ]
        );
        assert_eq!(errs[0].snippet.as_deref(), Some("a[b"));
    }

    #[test]
    fn wrong_types_are_errors_not_conversions() {
        let errs = errors(&[(
            "c.yaml",
            "component: C\nnamespaces: [a]\nexceptions:\n  - check: ha/replicas\n    jira: OCPBUGS-1\n    expires: 2027\n    object: [Deployment/x]\n",
        )]);
        let got: Vec<_> = errs
            .iter()
            .map(|d| (d.line.unwrap(), d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (7, "`object` must be a string, found a list"),
                (6, "`expires` must be a string, found a number"),
            ]
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
        assert!(Exceptions::load(std::path::Path::new("/nonexistent/exceptions"), false).is_ok());
        assert!(Exceptions::load(std::path::Path::new("/nonexistent/exceptions"), true).is_err());
    }

    #[test]
    fn malformed_yaml_is_located() {
        let errs = errors(&[("c.yaml", "component: C\nnamespaces: [a\n")]);
        assert!(errs[0].line.is_some(), "{}", errs[0]);
    }
}
