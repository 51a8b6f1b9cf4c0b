//! Rules over a whole exceptions directory, beyond what one entry can say
//! about itself. Loading for `vigil run` applies the errors; `vigil
//! exceptions lint` also judges expiry (given today's date) and reports
//! warnings and renames.

use chrono::NaiveDate;

use super::diagnostics::Diagnostic;
use super::PLACEHOLDER;
use super::{Entry, Exceptions, Grant};
use crate::checks;

/// Warn when a ticket expires within this many days.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Every cross-entry problem. With `today`, also expired tickets (errors)
/// and tickets expiring soon (warnings); `vigil run` passes `None` because
/// an expired ticket there makes its violations fail rather than the run.
pub fn rules(ex: &Exceptions, today: Option<NaiveDate>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for f in &ex.files {
        for (ns, at) in &f.namespaces {
            match ex.owners.component(ns) {
                Some(owner) if owner != f.component.trim() && f.component.trim() != PLACEHOLDER => {
                    out.push(
                        Diagnostic::error(&f.path, Some(*at), format!(
                            "this file ({}) claims ns/{ns} for its exceptions, but owners.yaml gives the namespace's tests to `{owner}`",
                            f.component.trim()
                        ))
                        .warning()
                        .hint("the [Jira:] tag comes from owners.yaml alone; move the namespace to the right file, or change owners.yaml deliberately (it renames tests)"),
                    );
                }
                _ => {}
            }
        }
        if f.component.trim() == PLACEHOLDER {
            let mut d =
                Diagnostic::error(&f.path, Some(f.component_at), "placeholder component name")
                    .hint("name the Jira component that owns these namespaces");
            d.code = Some(super::diagnostics::PLACEHOLDER_CODE);
            out.push(d);
        }
    }
    for (i, e) in ex.entries.iter().enumerate() {
        unclaimed_namespace(ex, e, &mut out);
        kind_never_reported(e, &mut out);
        if let Some(today) = today {
            expiry(e, today, &mut out);
        }
        overlap(ex, i, e, &mut out);
    }
    out
}

fn unclaimed_namespace(ex: &Exceptions, e: &Entry, out: &mut Vec<Diagnostic>) {
    let file = &ex.files[e.file_index];
    let Some(ns) = &e.namespace else {
        if file.namespaces.is_empty() {
            out.push(
                Diagnostic::error(&e.file, Some(e.at), "entry without `namespace` in a file that claims no namespace")
                    .hint("add the namespace to `namespaces:` at the top of the file, or give the entry a `namespace:`"),
            );
        }
        return;
    };
    let Some(glob) = e.namespace_glob.as_ref() else {
        return;
    };
    if file.namespaces.iter().any(|(n, _)| glob.is_match(n)) {
        return;
    }
    let owner = ex
        .files
        .iter()
        .find(|f| f.namespaces.iter().any(|(n, _)| glob.is_match(n)));
    let hint = match owner {
        Some(o) => format!(
            "{} claims it (component {}); move the entry there",
            o.path.display(),
            o.component
        ),
        None => "add it to this file's `namespaces:`, or fix the name".to_owned(),
    };
    let mut d = Diagnostic::error(
        &e.file,
        e.namespace_at,
        format!(
            "entry for namespace `{}`, which this file does not claim",
            super::diagnostics::clip(ns, 80)
        ),
    );
    d.snippet = Some(ns.clone());
    out.push(d.hint(hint));
}

fn kind_never_reported(e: &Entry, out: &mut Vec<Diagnostic>) {
    let Some(object) = &e.object else { return };
    let Some((kind, _)) = object.split_once('/') else {
        return;
    };
    let Some(check) = checks::find(e.check) else {
        return;
    };
    let kinds = check.info().kinds;
    let reported = match super::Pattern::new(kind) {
        Ok(m) => kinds.iter().any(|k| m.is_match(k)),
        Err(_) => true,
    };
    if !reported {
        let mut d = Diagnostic::error(
            &e.file,
            e.object_at,
            format!("{} never reports a {kind}", e.check),
        );
        d.snippet = Some(object.clone());
        out.push(d.hint(format!(
            "{} reports objects of kind {}",
            e.check,
            kinds.join(", ")
        )));
    }
}

fn expiry(e: &Entry, today: NaiveDate, out: &mut Vec<Diagnostic>) {
    let Grant::Ticket {
        expires: Some(exp),
        jira,
        ..
    } = &e.grant
    else {
        return;
    };
    let days = (*exp - today).num_days();
    if days < 0 {
        let mut d = Diagnostic::error(
            &e.file,
            e.expires_at,
            format!("exception {jira} expired on {exp}"),
        );
        d.snippet = Some(exp.to_string());
        out.push(d.hint("fix the problem and delete the entry, or move `expires` forward with the reason in the ticket"));
    } else if days <= EXPIRY_WARNING_DAYS {
        let mut d = Diagnostic::error(
            &e.file,
            e.expires_at,
            format!(
                "exception {jira} expires in {days} day{} ({exp})",
                if days == 1 { "" } else { "s" }
            ),
        )
        .warning();
        d.snippet = Some(exp.to_string());
        out.push(d.hint("after that date its violations fail again"));
    }
}

fn rank(g: &Grant) -> u8 {
    match g {
        Grant::Allow { .. } => 2,
        Grant::Ticket { .. } => 1,
    }
}

/// The namespaces an entry's namespace scope covers, as a test on another
/// entry's scope: does `b` cover everything `a` can match?
fn namespace_covers(b: &Entry, a: &Entry) -> bool {
    match (&a.namespace, &b.namespace_glob) {
        (Some(pa), Some(gb)) => gb.is_match(pa),
        (Some(pa), None) => b.claimed.iter().any(|c| c == pa),
        (None, Some(gb)) => !a.claimed.is_empty() && a.claimed.iter().all(|c| gb.is_match(c)),
        (None, None) => !a.claimed.is_empty() && a.claimed.iter().all(|c| b.claimed.contains(c)),
    }
}

fn object_covers(b: &Entry, a: &Entry) -> bool {
    match (&a.object, &b.object_glob) {
        (_, None) => b.object.is_none(),
        (Some(pa), Some(gb)) => gb.is_match(pa),
        (None, Some(_)) => false,
    }
}

fn overlap(ex: &Exceptions, i: usize, a: &Entry, out: &mut Vec<Diagnostic>) {
    for (j, b) in ex.entries.iter().enumerate() {
        if i == j || a.check != b.check {
            continue;
        }
        let same = a.namespace == b.namespace && a.object == b.object && a.claimed == b.claimed;
        if same {
            // Report a duplicate once, on the later entry.
            if j < i {
                out.push(
                    Diagnostic::error(
                        &a.file,
                        Some(a.at),
                        format!("duplicate exception for {} {}", a.check, scope(a)),
                    )
                    .hint(format!(
                        "{}:{} says the same; keep one",
                        b.file.display(),
                        b.line
                    )),
                );
                return;
            }
            continue;
        }
        let stronger = rank(&b.grant) > rank(&a.grant)
            || (rank(&b.grant) == rank(&a.grant) && expires_no_sooner(b, a));
        if stronger && namespace_covers(b, a) && object_covers(b, a) {
            out.push(
                Diagnostic::error(
                    &a.file,
                    Some(a.at),
                    format!("exception for {} {} is shadowed by a broader one", a.check, scope(a)),
                )
                .hint(format!(
                    "{}:{} ({}) already matches every violation this entry matches; delete this one or narrow that one",
                    b.file.display(),
                    b.line,
                    scope(b)
                )),
            );
            return;
        }
    }
}

/// Whether `b` lasts at least as long as `a` (no expiry lasts forever).
fn expires_no_sooner(b: &Entry, a: &Entry) -> bool {
    let exp = |e: &Entry| match &e.grant {
        Grant::Ticket { expires, .. } => *expires,
        Grant::Allow { .. } => None,
    };
    match (exp(b), exp(a)) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(eb), Some(ea)) => eb >= ea,
    }
}

fn scope(e: &Entry) -> String {
    format!(
        "ns/{} {}",
        e.namespace.as_deref().unwrap_or("(claimed)"),
        e.object.as_deref().unwrap_or("(any object)")
    )
}

/// Every namespace whose owner differs from `before` (owners.yaml at an
/// earlier revision): each renames that namespace's tests, which splits
/// their history in Sippy unless ci-test-mapping is told. The hint lists the
/// `TestRenames` entries (new name -> oldest name) for the owning component.
pub fn renames(ex: &Exceptions, before: &super::Owners, base: &str) -> Vec<Diagnostic> {
    let owners_path = ex
        .owners
        .path
        .clone()
        .or_else(|| ex.dir.as_ref().map(|d| d.join(super::OWNERS_FILE)))
        .unwrap_or_else(|| super::OWNERS_FILE.into());
    let by_namespace = super::owners::changes(before, &ex.owners)
        .into_iter()
        .map(|c| {
            let lines: Vec<String> = crate::checks::ALL
                .iter()
                .map(|check| check.info())
                .filter(|info| info.cluster_scoped.is_none() && info.per_object.is_none())
                .map(|info| {
                    let old = info.test_name(c.before.as_deref(), Some(&c.namespace));
                    let new = info.test_name(c.after.as_deref(), Some(&c.namespace));
                    format!("    {new:?}: {old:?},")
                })
                .collect();
            rename(
                &owners_path,
                base,
                &format!("ns/{}", c.namespace),
                &c,
                lines,
            )
        });
    let by_operator = super::owners::operator_changes(before, &ex.owners)
        .into_iter()
        .map(|c| {
            let lines: Vec<String> = crate::checks::ALL
                .iter()
                .map(|check| check.info())
                .filter(|info| info.per_object == Some("clusteroperator"))
                .map(|info| {
                    let old = info.object_test_name(c.before.as_deref(), &c.namespace);
                    let new = info.object_test_name(c.after.as_deref(), &c.namespace);
                    format!("    {new:?}: {old:?},")
                })
                .collect();
            rename(
                &owners_path,
                base,
                &format!("clusteroperator/{}", c.namespace),
                &c,
                lines,
            )
        });
    by_namespace.chain(by_operator).collect()
}

/// The warning for one owner change, with the TestRenames lines.
fn rename(
    owners_path: &std::path::Path,
    base: &str,
    what: &str,
    c: &super::owners::OwnerChange,
    lines: Vec<String>,
) -> Diagnostic {
    let who = |o: &Option<String>| match o {
        Some(c) => format!("`{c}`"),
        None => "no owner (no tag)".into(),
    };
    let owner = c.after.clone().or(c.before.clone()).unwrap_or_default();
    let msg = format!(
        "{what}: owner changes from {} to {} since {base}: this renames its {}",
        who(&c.before),
        who(&c.after),
        crate::reports::plural(lines.len(), "test")
    );
    Diagnostic::error(owners_path, c.at, msg)
        .warning()
        .hint(format!(
            "renamed tests start a new history in Sippy. To keep it, add to the TestRenames of component `{owner}` in ci-test-mapping (new name: oldest name):\n{}",
            lines.join("\n")
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exceptions::Level;

    fn lint(files: &[(&str, &str)]) -> Vec<(String, u64, Level, String, String)> {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(d.path().join(name), text).unwrap();
        }
        let (ex, mut diags) = Exceptions::read(d.path(), true);
        diags.extend(rules(&ex.unwrap(), NaiveDate::from_ymd_opt(2026, 11, 21)));
        diags
            .into_iter()
            .map(|x| {
                (
                    x.path.file_name().unwrap().to_str().unwrap().to_owned(),
                    x.line.unwrap_or(0),
                    x.level,
                    x.message,
                    x.hint.unwrap_or_default(),
                )
            })
            .collect()
    }

    const HEAD: &str = "component: Console\nnamespaces: [openshift-console]\nexceptions:\n";

    #[test]
    fn namespace_not_claimed_by_the_file() {
        let got = lint(&[
            ("a.yaml", &format!("{HEAD}  - check: ha/replicas\n    namespace: openshift-etcd\n    jira: OCPBUGS-1\n  - check: ha/replicas\n    namespace: nowhere\n    jira: OCPBUGS-2\n")),
            ("etcd.yaml", "component: Etcd\nnamespaces: [openshift-etcd]\n"),
        ]);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].1, got[0].2.clone()), (5, Level::Error));
        assert_eq!(
            got[0].3,
            "entry for namespace `openshift-etcd`, which this file does not claim"
        );
        assert!(
            got[0]
                .4
                .ends_with("etcd.yaml claims it (component Etcd); move the entry there"),
            "{}",
            got[0].4
        );
        assert_eq!(got[1].1, 8);
        assert_eq!(
            got[1].4,
            "add it to this file's `namespaces:`, or fix the name"
        );
    }

    #[test]
    fn kind_the_check_never_reports() {
        let got = lint(&[(
            "a.yaml",
            &format!("{HEAD}  - check: ha/replicas\n    object: DaemonSet/agent\n    jira: OCPBUGS-1\n  - check: ha/replicas\n    object: '*Set/x'\n    jira: OCPBUGS-2\n"),
        )]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].1, 5);
        assert_eq!(got[0].3, "ha/replicas never reports a DaemonSet");
        assert_eq!(
            got[0].4,
            "ha/replicas reports objects of kind Deployment, StatefulSet"
        );
    }

    #[test]
    fn expired_is_an_error_expiring_soon_a_warning() {
        let got = lint(&[(
            "a.yaml",
            &format!(
                "{HEAD}  - check: ha/replicas\n    object: Deployment/a\n    jira: OCPBUGS-1\n    expires: 2026-11-20\n  - check: ha/replicas\n    object: Deployment/b\n    jira: OCPBUGS-2\n    expires: 2026-12-01\n  - check: ha/replicas\n    object: Deployment/c\n    jira: OCPBUGS-3\n    expires: 2027-06-30\n"
            ),
        )]);
        let got: Vec<_> = got
            .iter()
            .map(|g| (g.1, g.2.clone(), g.3.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (7, Level::Error, "exception OCPBUGS-1 expired on 2026-11-20"),
                (
                    11,
                    Level::Warning,
                    "exception OCPBUGS-2 expires in 10 days (2026-12-01)"
                ),
            ]
        );
    }

    #[test]
    fn duplicates_and_shadowed_entries() {
        let got = lint(&[(
            "a.yaml",
            &format!(
                "{HEAD}  - check: ha/replicas\n    object: Deployment/*\n    jira: OCPBUGS-1\n  - check: ha/replicas\n    object: Deployment/downloads\n    jira: OCPBUGS-2\n  - check: ha/replicas\n    object: Deployment/*\n    jira: OCPBUGS-3\n  - check: ha/probes\n    object: Deployment/console\n    allow: fine\n    approved-by: lead\n  - check: ha/probes\n    jira: OCPBUGS-4\n"
            ),
        )]);
        let got: Vec<_> = got
            .iter()
            .map(|g| (g.1, g.3.as_str(), g.4.as_str()))
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, 7);
        assert_eq!(got[0].1, "exception for ha/replicas ns/(claimed) Deployment/downloads is shadowed by a broader one");
        assert!(
            got[0]
                .2
                .contains("a.yaml:4 (ns/(claimed) Deployment/*) already matches every violation"),
            "{}",
            got[0].2
        );
        assert_eq!(got[1].0, 10);
        assert_eq!(
            got[1].1,
            "duplicate exception for ha/replicas ns/(claimed) Deployment/*"
        );
        // An allow for one object under a broader ticket is not shadowed: it wins there.
    }

    #[test]
    fn an_earlier_expiry_does_not_shadow() {
        let got = lint(&[(
            "a.yaml",
            &format!(
                "{HEAD}  - check: ha/replicas\n    jira: OCPBUGS-1\n    expires: 2027-01-31\n  - check: ha/replicas\n    object: Deployment/x\n    jira: OCPBUGS-2\n"
            ),
        )]);
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn placeholders_are_rejected() {
        let got = lint(&[(
            "a.yaml",
            "component: TODO\nnamespaces: [x]\nexceptions:\n  - check: ha/replicas\n    jira: TODO\n",
        )]);
        let got: Vec<_> = got
            .iter()
            .map(|g| (g.1, g.3.as_str(), g.4.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (5, "not a Jira key or issue URL", "a placeholder left by `vigil exceptions suggest`: file a ticket and put its key here"),
                (1, "placeholder component name", "name the Jira component that owns these namespaces"),
            ]
        );
    }
}
