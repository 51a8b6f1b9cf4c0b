//! `vigil diff BEFORE AFTER`: what changed between two runs, worst first.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{load_run, Outcome, RunResult, StaleEntry, TestRecord};
use crate::cli::{DiffArgs, Format};

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
    /// Tests only in AFTER (a renamed test shows here and in `vanished`).
    pub appeared: Vec<String>,
    pub vanished: Vec<String>,
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

pub fn compare(before: &RunResult, after: &RunResult) -> Diff {
    let mut d = Diff::default();
    let names: BTreeSet<&String> = before.tests.keys().chain(after.tests.keys()).collect();
    for name in names {
        let b = before.tests.get(name);
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

pub fn command(args: &DiffArgs) -> u8 {
    let load = |p| match load_run(p) {
        Ok(r) => Ok(r),
        Err(e) => {
            eprintln!("error: {e}");
            Err(())
        }
    };
    let (Ok(before), Ok(after)) = (load(&args.before), load(&args.after)) else {
        return crate::app::exit::CONFIG;
    };
    let d = compare(&before, &after);
    let mut out = std::io::BufWriter::new(anstream::stdout());
    let written = match args.output {
        Format::Json => serde_json::to_writer_pretty(&mut out, &d)
            .map_err(std::io::Error::from)
            .and_then(|()| std::io::Write::write_all(&mut out, b"\n")),
        Format::Text => write_text(&mut out, &before, &after, &d),
    };
    if let Err(e) = written.and_then(|()| std::io::Write::flush(&mut out)) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to stdout: {e}");
        }
    }
    if d.regressed() {
        crate::app::exit::FAILED
    } else {
        crate::app::exit::OK
    }
}

fn write_text(
    out: &mut dyn std::io::Write,
    before: &RunResult,
    after: &RunResult,
    d: &Diff,
) -> std::io::Result<()> {
    use crate::reports::plural;
    writeln!(
        out,
        "before: {} ({} tests)",
        before.source.display(),
        before.tests.len()
    )?;
    writeln!(
        out,
        "after:  {} ({} tests)",
        after.source.display(),
        after.tests.len()
    )?;
    let section =
        |out: &mut dyn std::io::Write, title: &str, list: &[Change]| -> std::io::Result<()> {
            if list.is_empty() {
                return Ok(());
            }
            writeln!(out, "\n{title} ({}):", list.len())?;
            for c in list {
                let was = c.before.map_or("absent", Outcome::word);
                let informing = if c.informing { " (informing)" } else { "" };
                writeln!(out, "  {}{informing}  [was {was}]", c.name)?;
                for v in &c.added {
                    writeln!(out, "      + {v}")?;
                }
                for v in &c.removed {
                    writeln!(out, "      - {v}")?;
                }
            }
            Ok(())
        };
    section(out, "NEWLY FAILING", &d.newly_failing)?;
    section(out, "NEWLY FLAKING", &d.newly_flaking)?;
    section(out, "FIXED", &d.fixed)?;
    section(out, "SAME OUTCOME, OTHER VIOLATIONS", &d.changed)?;
    for (title, list) in [
        ("APPEARED (new or renamed)", &d.appeared),
        ("VANISHED (removed or renamed)", &d.vanished),
    ] {
        if !list.is_empty() {
            writeln!(out, "\n{title} ({}):", list.len())?;
            for n in list {
                writeln!(out, "  {n}")?;
            }
        }
    }
    if !d.became_stale.is_empty() {
        writeln!(
            out,
            "\nEXCEPTIONS NOW STALE ({}): their violation is gone; remove them",
            d.became_stale.len()
        )?;
        for s in &d.became_stale {
            writeln!(
                out,
                "  {}:{} {} {}",
                s.file,
                s.line,
                s.check,
                s.object.as_deref().or(s.namespace.as_deref()).unwrap_or("")
            )?;
        }
    }
    if !d.newly_needed.is_empty() {
        writeln!(
            out,
            "\nNEW VIOLATIONS NO EXCEPTION COVERS ({}):",
            d.newly_needed.len()
        )?;
        for n in &d.newly_needed {
            writeln!(out, "  {n}")?;
        }
    }
    let quiet = d.newly_failing.is_empty()
        && d.newly_flaking.is_empty()
        && d.fixed.is_empty()
        && d.changed.is_empty()
        && d.appeared.is_empty()
        && d.vanished.is_empty();
    writeln!(
        out,
        "\n{}",
        if quiet {
            "no change in outcomes or violations".to_owned()
        } else {
            format!(
                "{} newly failing, {} newly flaking, {} fixed, {} appeared, {} vanished",
                plural(d.newly_failing.len(), "test"),
                d.newly_flaking.len(),
                d.fixed.len(),
                d.appeared.len(),
                d.vanished.len()
            )
        }
    )
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
}
