//! `vigil diff BEFORE AFTER`: what changed between two runs, worst first.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Outcome, RunResult, StaleEntry, TestRecord};

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Change {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Outcome>,
    pub informing: bool,
    /// Violations (`object [rule]`) present after, not before.
    pub added: Vec<String>,
    /// Violations present before, not after.
    pub removed: Vec<String>,
}

#[derive(Debug, Serialize, Default)]
pub struct Diff {
    pub newly_failing: Vec<Change>,
    pub newly_flaking: Vec<Change>,
    /// Passing now after a flake or failure, or flaking after a failure.
    pub fixed: Vec<Change>,
    /// Same outcome, different violations.
    pub changed: Vec<Change>,
    /// Tests only in AFTER, and only in BEFORE (a test whose name changed
    /// otherwise than by its owner tag shows in both).
    pub appeared: Vec<String>,
    pub vanished: Vec<String>,
    /// Tests whose owner tag (`[Jira:"..."]`) changed, the same check in
    /// the same namespace: `(before, after)`. They are compared as one test.
    pub renamed: Vec<(String, String)>,
    /// Exception entries stale after but not before (JSON reports only).
    pub became_stale: Vec<StaleEntry>,
    /// Violations no exception covers that AFTER has and BEFORE did not:
    /// entries to add (or problems to fix).
    pub newly_needed: Vec<String>,
}

impl Diff {
    pub fn regressed(&self) -> bool {
        self.newly_failing.iter().any(|c| !c.informing)
    }
}

fn keys(t: Option<&TestRecord>, only_new: bool) -> BTreeSet<String> {
    t.into_iter()
        .flat_map(|t| &t.violations)
        .filter(|v| !only_new || v.new)
        .map(|v| {
            if v.rule.is_empty() {
                v.object.clone()
            } else {
                format!("{} [{}]", v.object, v.rule)
            }
        })
        .collect()
}

/// A test's name without its owner tag: what stays when owners.yaml
/// gives its namespace to another component.
fn untagged(name: &str) -> String {
    match (
        name.find("[Jira:"),
        name.find("[Jira:")
            .and_then(|i| name[i..].find(']').map(|j| i + j)),
    ) {
        (Some(i), Some(j)) => format!("{}{}", &name[..i], &name[j + 1..]),
        _ => name.to_owned(),
    }
}

pub fn compare(before: &RunResult, after: &RunResult) -> Diff {
    let mut d = Diff::default();
    // Renames by owner tag: a name only in BEFORE and one only in AFTER that
    // are the same without their tags.
    let only_before: std::collections::HashMap<String, &String> = before
        .tests
        .keys()
        .filter(|n| !after.tests.contains_key(*n))
        .map(|n| (untagged(n), n))
        .collect();
    let mut renamed_from: std::collections::HashMap<&String, &String> = Default::default();
    for n in after
        .tests
        .keys()
        .filter(|n| !before.tests.contains_key(*n))
    {
        if let Some(old) = only_before.get(&untagged(n)) {
            renamed_from.insert(n, old);
            d.renamed.push(((*old).clone(), n.clone()));
        }
    }
    let renamed_away: BTreeSet<&String> = renamed_from.values().copied().collect();
    let names: BTreeSet<&String> = before
        .tests
        .keys()
        .filter(|n| !renamed_away.contains(n))
        .chain(after.tests.keys())
        .collect();
    for name in names {
        let b = before
            .tests
            .get(renamed_from.get(name).copied().unwrap_or(name));
        let a = after.tests.get(name);
        match (b, a) {
            (Some(_), None) => d.vanished.push(name.clone()),
            (None, Some(_)) => d.appeared.push(name.clone()),
            _ => {}
        }
        let (kb, ka) = (keys(b, false), keys(a, false));
        let change = Change {
            name: name.clone(),
            before: b.map(|t| t.outcome),
            after: a.map(|t| t.outcome),
            informing: a.or(b).is_some_and(|t| t.informing),
            added: ka.difference(&kb).cloned().collect(),
            removed: kb.difference(&ka).cloned().collect(),
        };
        let bo = change.before.unwrap_or(Outcome::Skip);
        match change.after {
            Some(Outcome::Fail) if bo != Outcome::Fail => d.newly_failing.push(change),
            Some(Outcome::Flake) if bo < Outcome::Flake => d.newly_flaking.push(change),
            Some(Outcome::Pass) if bo >= Outcome::Flake => d.fixed.push(change),
            // A known problem now (a ticket covers it): no longer failing.
            Some(Outcome::Flake) if bo == Outcome::Fail => d.fixed.push(change),
            Some(_) if !change.added.is_empty() || !change.removed.is_empty() => {
                d.changed.push(change)
            }
            _ => {}
        }
        let (nb, na) = (keys(b, true), keys(a, true));
        for v in na.difference(&nb) {
            d.newly_needed.push(format!("{name}: {v}"));
        }
    }
    if let (Some(sb), Some(sa)) = (&before.stale, &after.stale) {
        let key = |s: &StaleEntry| {
            (
                s.check.clone(),
                s.namespace.clone(),
                s.object.clone(),
                s.ticket.clone(),
            )
        };
        let old: BTreeSet<_> = sb.iter().map(key).collect();
        d.became_stale = sa
            .iter()
            .filter(|s| !old.contains(&key(s)))
            .cloned()
            .collect();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::super::{Identity, Violation};
    use super::*;

    fn run(tests: &[(&str, Outcome, &[&str])]) -> RunResult {
        RunResult {
            source: "r".into(),
            form: "json",
            time: None,
            identity: Identity::default(),
            tests: tests
                .iter()
                .map(|(n, o, v)| {
                    (
                        n.to_string(),
                        TestRecord {
                            name: n.to_string(),
                            monitor: "ha-compliance".into(),
                            component: None,
                            check: Some("ha/replicas".into()),
                            namespace: None,
                            outcome: *o,
                            informing: false,
                            note: None,
                            measured_seconds: None,
                            violations: v
                                .iter()
                                .map(|obj| Violation {
                                    object: obj.to_string(),
                                    rule: "ha/replicas".into(),
                                    detail: "changes every run".into(),
                                    outcome: *o,
                                    ticket: None,
                                    approved_by: None,
                                    expires: None,
                                    new: *o == Outcome::Fail,
                                })
                                .collect(),
                        },
                    )
                })
                .collect(),
            stale: Some(vec![]),
            junit_file: None,
        }
    }

    #[test]
    fn sorts_changes_by_kind_and_compares_violations_by_object() {
        use Outcome::*;
        let before = run(&[
            ("a", Pass, &[]),
            ("b", Fail, &["Deployment/x"]),
            ("c", Fail, &["Deployment/y"]),
            ("gone", Pass, &[]),
        ]);
        let after = run(&[
            ("a", Fail, &["Deployment/z"]),
            ("b", Pass, &[]),
            ("c", Fail, &["Deployment/y", "Deployment/w"]),
            ("new", Flake, &[]),
        ]);
        let d = compare(&before, &after);
        assert_eq!(d.newly_failing.len(), 1);
        assert_eq!(d.newly_failing[0].added, vec!["Deployment/z [ha/replicas]"]);
        assert_eq!(d.fixed[0].name, "b");
        assert_eq!(d.fixed[0].removed, vec!["Deployment/x [ha/replicas]"]);
        assert_eq!(d.changed[0].name, "c");
        assert_eq!(d.changed[0].added, vec!["Deployment/w [ha/replicas]"]);
        assert_eq!(d.newly_flaking[0].name, "new");
        assert_eq!(d.appeared, vec!["new"]);
        assert_eq!(d.vanished, vec!["gone"]);
        assert_eq!(
            d.newly_needed,
            vec![
                "a: Deployment/z [ha/replicas]",
                "c: Deployment/w [ha/replicas]"
            ]
        );
        assert!(d.regressed());
        let same = compare(&after, &after);
        assert!(!same.regressed() && same.changed.is_empty() && same.newly_needed.is_empty());
    }

    /// owners.yaml gave a namespace to a component: its tests' names
    /// changed by their tag only. The same failure is not a new one.
    #[test]
    fn a_new_owner_tag_is_a_rename_not_a_new_failure() {
        use Outcome::*;
        let before = run(&[
            (
                "[Monitor:ha-compliance] workloads in ns/x should have at least two replicas",
                Fail,
                &["Deployment/d"],
            ),
            (
                "[Monitor:ha-compliance] workloads in ns/y should have at least two replicas",
                Pass,
                &[],
            ),
        ]);
        let after = run(&[
            ("[Monitor:ha-compliance][Jira:\"Etcd\"] workloads in ns/x should have at least two replicas", Fail, &["Deployment/d"]),
            ("[Monitor:ha-compliance][Jira:\"Etcd\"] workloads in ns/y should have at least two replicas", Fail, &["Deployment/e"]),
        ]);
        let d = compare(&before, &after);
        assert_eq!(d.renamed.len(), 2);
        assert!(d.appeared.is_empty() && d.vanished.is_empty(), "{d:?}");
        // x failed before under its old name: not newly failing; y is.
        assert_eq!(d.newly_failing.len(), 1);
        assert!(d.newly_failing[0].name.contains("ns/y"));
        assert_eq!(d.newly_failing[0].before, Some(Pass));
    }
}
