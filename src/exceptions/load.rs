//! Reading an exceptions directory: component files validated from their
//! spanned YAML tree, so that every problem in a file is reported at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use serde_saphyr::Spanned;

use super::diagnostics::{from_yaml_error, Diagnostic};
use super::fields::{is_dns_label, Fields};
use super::tree::{self, Node};
use super::{
    parse_jira, policy, ComponentFile, Entry, Exceptions, Grant, Level, PLACEHOLDER, POLICY_FILE,
};
use crate::checks;

const FILE_FIELDS: &[&str] = &["component", "namespaces", "exceptions"];
const ENTRY_FIELDS: &[&str] = &[
    "check",
    "namespace",
    "object",
    "finding",
    "jira",
    "reason",
    "expires",
    "allow",
    "approved-by",
];

impl Exceptions {
    /// Loads `dir` for `vigil run`: every problem lint reports as an error,
    /// except expired tickets, which make their violations fail instead.
    /// A missing directory is fine when `required` is false.
    pub fn load(dir: &Path, required: bool) -> Result<Exceptions, Vec<Diagnostic>> {
        let (ex, mut diags) = Exceptions::read(dir, required);
        if let Some(ex) = &ex {
            diags.extend(super::rules::rules(ex, None));
        }
        diags.retain(|d| d.level == Level::Error);
        match ex {
            Some(ex) if diags.is_empty() => Ok(ex),
            _ => Err(diags),
        }
    }

    /// Reads `dir`, returning what could be read and every problem found.
    /// `None` when the directory itself cannot be read.
    pub fn read(dir: &Path, required: bool) -> (Option<Exceptions>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut ex = Exceptions::default();
        if !dir.is_dir() {
            if required || dir.exists() {
                diags.push(
                    Diagnostic::error(dir, None, "exceptions directory not found").hint(
                        "pass --exceptions DIR pointing at a directory of component YAML files",
                    ),
                );
                return (None, diags);
            }
            return (Some(ex), diags);
        }
        ex.dir = Some(dir.to_owned());
        ex.policy = policy::load(&dir.join(POLICY_FILE), &mut diags);
        ex.owners = super::Owners::load(&dir.join(super::OWNERS_FILE), &mut diags);
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension().is_some_and(|e| e == "yaml" || e == "yml")
                        && p.file_name()
                            .is_some_and(|n| n != POLICY_FILE && n != super::OWNERS_FILE)
                })
                .collect(),
            Err(e) => {
                diags.push(Diagnostic::error(
                    dir,
                    None,
                    format!("cannot list directory: {e}"),
                ));
                return (None, diags);
            }
        };
        files.sort();
        let mut claims: BTreeMap<String, (PathBuf, u64)> = BTreeMap::new();
        for file in files {
            ex.read_file(&file, &mut claims, &mut diags);
        }
        for (i, e) in ex.entries.iter().enumerate() {
            ex.by_check.entry(e.check).or_default().push(i);
        }
        (Some(ex), diags)
    }

    fn read_file(
        &mut self,
        path: &Path,
        claims: &mut BTreeMap<String, (PathBuf, u64)>,
        diags: &mut Vec<Diagnostic>,
    ) {
        let text = match crate::input::read_to_string(path, crate::input::CONFIG) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::error(path, None, format!("cannot read: {e}")));
                return;
            }
        };
        let doc = match tree::parse(&text) {
            Ok(Some(d)) => d,
            Ok(None) => {
                diags.push(
                    Diagnostic::error(path, None, "empty exceptions file")
                        .hint("a component file needs at least `component:` and `namespaces:`"),
                );
                return;
            }
            Err(e) => {
                diags.push(from_yaml_error(path, &text, &e));
                return;
            }
        };
        let Some(fields) = Fields::new(path, &doc, "a component file", FILE_FIELDS, diags) else {
            return;
        };
        let component = match fields.string("component", diags) {
            Some(c) if !c.value.trim().is_empty() => c,
            Some(c) => {
                diags.push(Diagnostic::at(path, &c, "empty component name").hint(
                    "use the Jira component these namespaces belong to, e.g. `Management Console`",
                ));
                return;
            }
            None => {
                diags.push(
                    Diagnostic::error(path, Some(doc.referenced), "missing `component:`")
                        .hint("name the Jira component these namespaces belong to, e.g. `component: Management Console`"),
                );
                return;
            }
        };
        if let Some(d) =
            super::owners::component_problem(path, &component.value, component.referenced)
        {
            diags.push(d);
        }
        let file_index = self.files.len();
        let claimed = claim_namespaces(path, &fields, claims, diags);
        let claimed_names: Vec<String> = claimed.iter().map(|(n, _)| n.clone()).collect();
        self.files.push(ComponentFile {
            path: path.to_owned(),
            component: component.value.trim().to_owned(),
            component_at: component.referenced,
            namespaces: claimed,
        });
        match fields.get("exceptions").map(|n| &n.value) {
            None | Some(Node::Scalar(serde_json::Value::Null)) => {}
            Some(Node::Seq(items)) => {
                for item in items {
                    if let Some(e) = read_entry(path, file_index, item, &claimed_names, diags) {
                        self.entries.push(e);
                    }
                }
            }
            Some(other) => {
                let n = fields.get("exceptions").unwrap();
                diags.push(
                    Diagnostic::error(
                        path,
                        Some(n.referenced),
                        format!("`exceptions` must be a list, found {}", other.describe()),
                    )
                    .hint("write each exception as a list item starting with `- check:`"),
                );
            }
        }
    }
}

/// A component file's `namespaces:`: exact names, each claimed by one file.
fn claim_namespaces(
    path: &Path,
    fields: &Fields,
    claims: &mut BTreeMap<String, (PathBuf, u64)>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, serde_saphyr::Location)> {
    let mut claimed = Vec::new();
    for ns in fields.string_list("namespaces", diags) {
        let name = ns.value.trim();
        if !is_dns_label(name) {
            diags.push(Diagnostic::at(path, &ns, "not a namespace name").hint(
                "`namespaces:` lists exact namespace names (lowercase letters, digits and '-')",
            ));
            continue;
        }
        if let Some((other, other_line)) = claims.get(name) {
            diags.push(
                Diagnostic::at(
                    path,
                    &ns,
                    format!("namespace `{name}` is already claimed by another file"),
                )
                .hint(format!(
                    "{}:{other_line} claims it too; a namespace belongs to exactly one component",
                    other.display()
                )),
            );
            continue;
        }
        claims.insert(name.to_owned(), (path.to_owned(), ns.referenced.line()));
        claimed.push((name.to_owned(), ns.referenced));
    }
    claimed
}

/// The longest glob accepted: a namespace or `Kind/name` is at most a few
/// hundred characters, and enormous patterns can exhaust the glob compiler.
pub const MAX_GLOB_LEN: usize = 1024;

fn glob(
    path: &Path,
    value: &Spanned<String>,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<super::Pattern> {
    if value.value.len() > MAX_GLOB_LEN {
        diags.push(
            Diagnostic::at(
                path,
                value,
                format!(
                    "{what} glob is {} characters long; at most {MAX_GLOB_LEN} are accepted",
                    value.value.len()
                ),
            )
            .hint("name the namespace or object, or use a shorter pattern with `*`"),
        );
        return None;
    }
    match super::Pattern::new(&value.value) {
        Ok(p) => Some(p),
        Err(e) => {
            diags.push(
                Diagnostic::at(path, value, format!("invalid {what} glob: {e}")).hint(
                    "globs use `*`, `?`, `[abc]` and `{a,b}`; quote values that start with `*`",
                ),
            );
            None
        }
    }
}

fn read_entry(
    path: &Path,
    file_index: usize,
    node: &Spanned<Node>,
    claimed: &[String],
    diags: &mut Vec<Diagnostic>,
) -> Option<Entry> {
    let before = diags.len();
    let f = Fields::new(path, node, "an exception entry", ENTRY_FIELDS, diags)?;
    let check_field = f.string("check", diags);
    let check = read_check(&f, check_field.as_ref(), diags);
    let namespace = f.string("namespace", diags);
    let namespace_glob = namespace
        .as_ref()
        .and_then(|n| glob(path, n, "namespace", diags));
    let object = f.string("object", diags);
    let object_glob = object.as_ref().and_then(|o| object_glob(path, o, diags));
    let finding = f.string("finding", diags);
    let finding_glob = finding
        .as_ref()
        .and_then(|d| glob(path, d, "finding", diags));
    let expires_field = f.string("expires", diags);
    let expires = expires_field
        .as_ref()
        .and_then(|e| read_date(path, e, diags));
    let (grant, placeholder) = read_grant(&f, expires, diags);
    if diags.len() > before {
        return None;
    }
    if let Some(mut d) = placeholder {
        d.code = Some(super::diagnostics::PLACEHOLDER_CODE);
        diags.push(d);
    }
    Some(Entry {
        file: path.to_owned(),
        file_index,
        line: f.at.line(),
        at: f.at,
        check_at: check_field.as_ref().map_or(f.at, |c| c.referenced),
        namespace_at: namespace.as_ref().map(|n| n.referenced),
        object_at: object.as_ref().map(|o| o.referenced),
        expires_at: expires_field.as_ref().map(|e| e.referenced),
        check: check?,
        namespace: namespace.map(|n| n.value),
        object: object.map(|o| o.value),
        finding: finding.map(|d| d.value),
        grant: grant?,
        namespace_glob,
        object_glob,
        finding_glob,
        claimed: claimed.to_vec(),
        used: AtomicBool::new(false),
    })
}

/// `check:`: a known check id, or a diagnostic naming the closest one.
fn read_check(
    f: &Fields,
    field: Option<&Spanned<String>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'static str> {
    let path = f.path;
    let Some(c) = field else {
        if f.get("check").is_none() {
            diags.push(
                Diagnostic::error(path, Some(f.at), "an entry needs `check:`")
                    .hint("name the check this exception is for, e.g. `check: ha/replicas` (`vigil checks` lists them)"),
            );
        }
        return None;
    };
    if let Some(found) = checks::find(&c.value) {
        return Some(found.info().id);
    }
    let d = Diagnostic::at(path, c, format!("unknown check id `{}`", c.value));
    diags.push(match checks::closest(&c.value) {
        Some(best) => d.hint(format!("did you mean `{best}`?")),
        None => d.hint("`vigil checks` lists every check id"),
    });
    None
}

/// `object:`: a `Kind/name` glob.
fn object_glob(
    path: &Path,
    o: &Spanned<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<super::Pattern> {
    if !o.value.contains('/') {
        diags.push(
            Diagnostic::at(path, o, "object must be Kind/name")
                .hint(format!("for example `Deployment/{}`", o.value)),
        );
        return None;
    }
    glob(path, o, "object", diags)
}

/// `expires:`: a YYYY-MM-DD date.
fn read_date(path: &Path, e: &Spanned<String>, diags: &mut Vec<Diagnostic>) -> Option<NaiveDate> {
    let parsed = NaiveDate::parse_from_str(e.value.trim(), "%Y-%m-%d").ok();
    if parsed.is_none() {
        diags.push(
            Diagnostic::at(path, e, "`expires` is not a date")
                .hint("write it as YYYY-MM-DD, e.g. 2027-06-30"),
        );
    }
    parsed
}

/// `jira:` or `allow:` (with `approved-by:`), and the placeholder
/// diagnostic a `jira: TODO` entry keeps.
fn read_grant(
    f: &Fields,
    expires: Option<NaiveDate>,
    diags: &mut Vec<Diagnostic>,
) -> (Option<Grant>, Option<Diagnostic>) {
    let path = f.path;
    let reason = f.string("reason", diags).map(|r| r.value);
    let approved_by = f.string("approved-by", diags);
    let jira = f.string("jira", diags);
    let allow = f.string("allow", diags);
    if let (Some(a), Some(_), None) = (&approved_by, &jira, &allow) {
        diags.push(
            Diagnostic::at(path, a, "`approved-by` belongs to an `allow` entry")
                .hint("a ticket needs no approver; remove `approved-by`, or make this an `allow`"),
        );
    }
    match (&jira, &allow) {
        (Some(_), Some(a)) => {
            diags.push(
                Diagnostic::at(path, a, "an entry has either `jira` or `allow`, not both")
                    .hint("keep `jira` for a known problem being fixed, or `allow` (with `approved-by`) for a permanent approval"),
            );
            (None, None)
        }
        (None, None) => {
            if f.get("jira").is_none() && f.get("allow").is_none() {
                diags.push(
                    Diagnostic::error(path, Some(f.at), "an entry needs `jira` (a ticket) or `allow` (a permanent approval)")
                        .hint("add `jira: OCPBUGS-12345` for a known problem, or `allow: <why>` with `approved-by: <who>`"),
                );
            }
            (None, None)
        }
        (Some(j), None) => read_ticket(path, j, reason, expires, diags),
        (None, Some(a)) => (read_allow(path, a, approved_by.as_ref(), diags), None),
    }
}

fn read_ticket(
    path: &Path,
    j: &Spanned<String>,
    reason: Option<String>,
    expires: Option<NaiveDate>,
    diags: &mut Vec<Diagnostic>,
) -> (Option<Grant>, Option<Diagnostic>) {
    if j.value.trim() == PLACEHOLDER {
        // Kept as an entry (so `suggest` does not suggest it again), but
        // reported as an error, so neither `lint` nor `run` accepts it.
        let placeholder = Diagnostic::at(path, j, "not a Jira key or issue URL").hint(
            "a placeholder left by `vigil exceptions suggest`: file a ticket and put its key here",
        );
        let grant = Grant::Ticket {
            jira: PLACEHOLDER.to_owned(),
            url: None,
            reason,
            expires,
        };
        return (Some(grant), Some(placeholder));
    }
    match parse_jira(&j.value) {
        Some((key, url)) => (
            Some(Grant::Ticket {
                jira: key,
                url,
                reason,
                expires,
            }),
            None,
        ),
        None => {
            diags.push(
                Diagnostic::at(path, j, "not a Jira key or issue URL")
                    .hint("write a key like `OCPBUGS-12345` or a URL like `https://issues.redhat.com/browse/OCPBUGS-12345`"),
            );
            (None, None)
        }
    }
}

fn read_allow(
    path: &Path,
    a: &Spanned<String>,
    approved_by: Option<&Spanned<String>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Grant> {
    if a.value.trim().is_empty() {
        diags.push(Diagnostic::at(
            path,
            a,
            "`allow` needs the reason the violation is acceptable",
        ));
        return None;
    }
    match approved_by
        .map(|s| s.value.trim())
        .filter(|s| !s.is_empty())
    {
        Some(who) if who == PLACEHOLDER => {
            let mut d = Diagnostic::at(path, approved_by.unwrap_or(a), "`approved-by` is a placeholder")
                .hint("a placeholder left by `vigil exceptions verify`: name who accepts this violation for good");
            d.code = Some(super::diagnostics::PLACEHOLDER_CODE);
            diags.push(d);
            None
        }
        Some(who) => Some(Grant::Allow {
            reason: a.value.trim().to_owned(),
            approved_by: who.to_owned(),
        }),
        None => {
            diags.push(
                Diagnostic::at(path, a, "`allow` without `approved-by`")
                    .hint("say who approved the exception: `approved-by: <name or team>`"),
            );
            None
        }
    }
}
