//! `vigil report`: many runs' results summed up per test, per component
//! and per check, with the flake budget. The `-o json` form of the report is
//! this module's [`Aggregate`], documented in docs/report-json.md.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Identity, Outcome, RunResult, StaleEntry, TestRecord, Violation};

/// Bumped when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// What the report is asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Share of runs that may have a flake (the SLA: 1%).
    pub flake_target: f64,
    /// An exception stale in this many latest runs in a row is safe to remove.
    pub stale_runs: usize,
    /// Tickets expiring within this many days of the latest run are listed.
    pub expiring_days: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            flake_target: 0.01,
            stale_runs: 5,
            expiring_days: 30,
        }
    }
}

#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub flake: usize,
    pub fail: usize,
    pub skip: usize,
}

impl Counts {
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Pass => self.pass += 1,
            Outcome::Flake => self.flake += 1,
            Outcome::Fail => self.fail += 1,
            Outcome::Skip => self.skip += 1,
        }
    }
    /// Runs in which the test ran (skips are not runs).
    pub fn runs(&self) -> usize {
        self.pass + self.flake + self.fail
    }
    pub fn rate(&self, n: usize) -> f64 {
        if self.runs() == 0 {
            0.0
        } else {
            n as f64 / self.runs() as f64
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RunInfo {
    pub source: String,
    pub form: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    pub identity: Identity,
    pub counts: Counts,
    /// The run had at least one flaking test.
    pub flaked: bool,
}

/// One cell of the latest run's matrix: a component's tests of one check.
#[derive(Debug, Serialize)]
pub struct Cell {
    pub component: String,
    pub check: String,
    /// The worst outcome of its tests.
    pub outcome: Outcome,
    pub tests: Vec<String>,
    pub violations: Vec<Violation>,
    /// Why tests were not evaluated, when they were not.
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TestSummary {
    pub name: String,
    pub component: String,
    pub monitor: String,
    pub counts: Counts,
    pub fail_rate: f64,
    pub flake_rate: f64,
    /// Index into `runs` of the first and last run where it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_failed: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_failed: Option<usize>,
    /// Absent from the latest run though earlier runs had it (renamed or lost).
    pub missing: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct ComponentSummary {
    pub component: String,
    pub counts: Counts,
    pub fail_rate: f64,
    pub flake_rate: f64,
    /// Per run (same order as `runs`): the share of its tests that failed,
    /// or null when the component had no test in that run.
    pub trend: Vec<Option<f64>>,
}

#[derive(Debug, Serialize)]
pub struct Spender {
    pub name: String,
    /// Runs in which it flaked.
    pub runs: usize,
    /// An infra-health test: its flakes are not caused by the change under test.
    pub infrastructure: bool,
}

#[derive(Debug, Serialize)]
pub struct FlakeBudget {
    pub target: f64,
    pub runs: usize,
    pub runs_with_flake: usize,
    pub share: f64,
    /// Runs whose only flakes are infra-health ones: not caused by the change.
    pub runs_with_only_infrastructure_flakes: usize,
    pub within: bool,
    pub tests: Vec<Spender>,
    pub components: Vec<Spender>,
}

#[derive(Debug, Serialize)]
pub struct TicketNote {
    pub ticket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub tests: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Aggregate {
    pub schema_version: u32,
    pub vigil_version: &'static str,
    pub runs: Vec<RunInfo>,
    /// The latest run's matrix, worst cells first.
    pub matrix: Vec<Cell>,
    pub components: Vec<String>,
    pub checks: Vec<String>,
    pub tests: Vec<TestSummary>,
    pub by_component: Vec<ComponentSummary>,
    pub flake_budget: FlakeBudget,
    /// The latest run's tests that were not evaluated, with why.
    pub not_evaluated: Vec<(String, String)>,
    /// Tickets whose `expires` has passed or comes within `expiring_days`.
    pub expiring_tickets: Vec<TicketNote>,
    /// Tickets still excusing violations in the latest run (their tests still fail underneath).
    pub open_tickets: Vec<TicketNote>,
    /// Exception entries stale in the latest run.
    pub stale_exceptions: Vec<StaleEntry>,
    /// Entries stale in each of the last `stale_runs` runs: safe to remove.
    pub safe_to_remove: Vec<StaleEntry>,
    pub stale_runs: usize,
}

pub const NO_COMPONENT: &str = "(no component)";

fn component(t: &TestRecord) -> String {
    t.component.clone().unwrap_or_else(|| {
        if t.monitor == "vigil" {
            "vigil itself".into()
        } else {
            NO_COMPONENT.into()
        }
    })
}

/// The check a test belongs to: its id from a JSON report, else the part
/// of the name after the namespace (`should have at least two replicas`).
fn check_of(t: &TestRecord) -> String {
    if let Some(c) = &t.check {
        return c.clone();
    }
    if t.monitor == "vigil" {
        return "vigil".into();
    }
    match t.name.find(" should ") {
        Some(i) => t.name[i + 1..].to_owned(),
        None => t.name.clone(),
    }
}

pub fn aggregate(runs: &[RunResult], opts: &Options) -> Aggregate {
    let infos: Vec<RunInfo> = runs
        .iter()
        .map(|r| {
            let mut counts = Counts::default();
            for t in r.tests.values() {
                counts.add(t.outcome);
            }
            RunInfo {
                source: r.source.display().to_string(),
                form: r.form,
                time: r.time,
                identity: r.identity.clone(),
                counts,
                flaked: counts.flake > 0,
            }
        })
        .collect();

    // Per test, over all runs.
    struct Seen<'r> {
        counts: Counts,
        first_failed: Option<usize>,
        last_failed: Option<usize>,
        last_seen: usize,
        latest: &'r TestRecord,
    }
    let mut per_test: BTreeMap<&str, Seen> = BTreeMap::new();
    for (ri, r) in runs.iter().enumerate() {
        for t in r.tests.values() {
            let e = per_test.entry(&t.name).or_insert(Seen {
                counts: Counts::default(),
                first_failed: None,
                last_failed: None,
                last_seen: ri,
                latest: t,
            });
            e.counts.add(t.outcome);
            if t.outcome == Outcome::Fail {
                e.first_failed.get_or_insert(ri);
                e.last_failed = Some(ri);
            }
            e.last_seen = ri;
            e.latest = t;
        }
    }
    let latest = runs.len().saturating_sub(1);
    let mut tests: Vec<TestSummary> = per_test
        .iter()
        .map(|(name, s)| TestSummary {
            name: name.to_string(),
            component: component(s.latest),
            monitor: s.latest.monitor.clone(),
            counts: s.counts,
            fail_rate: s.counts.rate(s.counts.fail),
            flake_rate: s.counts.rate(s.counts.flake),
            first_failed: s.first_failed,
            last_failed: s.last_failed,
            missing: s.last_seen != latest,
            last_seen: Some(s.last_seen),
        })
        .collect();
    tests.sort_by(|a, b| {
        b.fail_rate
            .total_cmp(&a.fail_rate)
            .then(b.flake_rate.total_cmp(&a.flake_rate))
            .then(a.name.cmp(&b.name))
    });

    // Per component: totals and a trend per run.
    let mut comp_counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut trend: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    for (ri, r) in runs.iter().enumerate() {
        let mut this: BTreeMap<String, Counts> = BTreeMap::new();
        for t in r.tests.values() {
            let c = component(t);
            comp_counts.entry(c.clone()).or_default().add(t.outcome);
            this.entry(c).or_default().add(t.outcome);
        }
        for (c, counts) in this {
            let v = trend.entry(c).or_insert_with(|| vec![None; runs.len()]);
            v[ri] = Some(counts.rate(counts.fail));
        }
    }
    let mut by_component: Vec<ComponentSummary> = comp_counts
        .into_iter()
        .map(|(component, counts)| ComponentSummary {
            trend: trend.remove(&component).unwrap_or_default(),
            fail_rate: counts.rate(counts.fail),
            flake_rate: counts.rate(counts.flake),
            component,
            counts,
        })
        .collect();
    by_component.sort_by(|a, b| {
        b.fail_rate
            .total_cmp(&a.fail_rate)
            .then(b.flake_rate.total_cmp(&a.flake_rate))
            .then(a.component.cmp(&b.component))
    });

    // The flake budget.
    let mut test_spend: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
    let mut comp_spend: BTreeMap<String, (usize, bool)> = BTreeMap::new();
    let mut only_infra = 0;
    for r in runs {
        let flakes: Vec<&TestRecord> = r
            .tests
            .values()
            .filter(|t| t.outcome == Outcome::Flake)
            .collect();
        if !flakes.is_empty() && flakes.iter().all(|t| t.monitor == "infra-health") {
            only_infra += 1;
        }
        let mut comps = BTreeSet::new();
        for t in &flakes {
            let e = test_spend
                .entry(&t.name)
                .or_insert((0, t.monitor == "infra-health"));
            e.0 += 1;
            comps.insert(component(t));
        }
        for c in comps {
            comp_spend.entry(c).or_insert((0, false)).0 += 1;
        }
    }
    let rank = |m: Vec<Spender>| {
        let mut m = m;
        m.sort_by(|a, b| b.runs.cmp(&a.runs).then(a.name.cmp(&b.name)));
        m
    };
    let runs_with_flake = infos.iter().filter(|r| r.flaked).count();
    let share = if runs.is_empty() {
        0.0
    } else {
        runs_with_flake as f64 / runs.len() as f64
    };
    let flake_budget = FlakeBudget {
        target: opts.flake_target,
        runs: runs.len(),
        runs_with_flake,
        share,
        runs_with_only_infrastructure_flakes: only_infra,
        within: share <= opts.flake_target,
        tests: rank(
            test_spend
                .into_iter()
                .map(|(n, (runs, infrastructure))| Spender {
                    name: n.to_owned(),
                    runs,
                    infrastructure,
                })
                .collect(),
        ),
        components: rank(
            comp_spend
                .into_iter()
                .map(|(n, (runs, _))| Spender {
                    name: n,
                    runs,
                    infrastructure: false,
                })
                .collect(),
        ),
    };

    // The latest run in detail.
    let mut matrix = Vec::new();
    let mut not_evaluated = Vec::new();
    let mut expiring: BTreeMap<String, (Option<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut open: BTreeMap<String, (Option<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut components = BTreeSet::new();
    let mut checks = BTreeSet::new();
    if let Some(last) = runs.last() {
        let today = last.time.map(|t| t.date_naive());
        let mut cells: BTreeMap<(String, String), Cell> = BTreeMap::new();
        for t in last.tests.values() {
            let (comp, check) = (component(t), check_of(t));
            components.insert(comp.clone());
            checks.insert(check.clone());
            let cell = cells
                .entry((comp.clone(), check.clone()))
                .or_insert_with(|| Cell {
                    component: comp,
                    check,
                    outcome: Outcome::Skip,
                    tests: Vec::new(),
                    violations: Vec::new(),
                    notes: Vec::new(),
                });
            cell.outcome = cell.outcome.max(t.outcome);
            cell.tests.push(t.name.clone());
            cell.violations.extend(t.violations.iter().cloned());
            if t.outcome == Outcome::Skip {
                let why = t.note.clone().unwrap_or_else(|| "not evaluated".into());
                cell.notes.push(why.clone());
                not_evaluated.push((t.name.clone(), why));
            }
            for v in &t.violations {
                let Some(ticket) = &v.ticket else { continue };
                if v.outcome == Outcome::Flake {
                    let e = open.entry(ticket.clone()).or_default();
                    e.0 = v.expires.clone();
                    e.1.insert(t.name.clone());
                }
                let soon = match (&v.expires, today) {
                    (Some(x), Some(today)) => chrono::NaiveDate::parse_from_str(x, "%Y-%m-%d")
                        .is_ok_and(|d| (d - today).num_days() <= opts.expiring_days),
                    _ => false,
                };
                if soon || (v.new && v.expires.is_some()) {
                    let e = expiring.entry(ticket.clone()).or_default();
                    e.0 = v.expires.clone();
                    e.1.insert(t.name.clone());
                }
            }
        }
        matrix = cells.into_values().collect();
        matrix.sort_by(|a, b| {
            b.outcome
                .cmp(&a.outcome)
                .then(b.violations.len().cmp(&a.violations.len()))
                .then(a.component.cmp(&b.component))
                .then(a.check.cmp(&b.check))
        });
    }
    let notes = |m: BTreeMap<String, (Option<String>, BTreeSet<String>)>| {
        m.into_iter()
            .map(|(ticket, (expires, tests))| TicketNote {
                ticket,
                expires,
                tests: tests.into_iter().collect(),
            })
            .collect::<Vec<_>>()
    };
    let stale_exceptions = runs
        .last()
        .and_then(|r| r.stale.clone())
        .unwrap_or_default();
    // Stale in each of the last N runs that could say (JSON reports).
    let window: Vec<&Vec<StaleEntry>> = runs
        .iter()
        .rev()
        .filter_map(|r| r.stale.as_ref())
        .take(opts.stale_runs)
        .collect();
    let safe_to_remove = if window.len() == opts.stale_runs && opts.stale_runs > 0 {
        window[0]
            .iter()
            .filter(|e| {
                window.iter().all(|w| {
                    w.iter().any(|x| {
                        (x.check.as_str(), &x.namespace, &x.object, &x.ticket)
                            == (e.check.as_str(), &e.namespace, &e.object, &e.ticket)
                    })
                })
            })
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    Aggregate {
        schema_version: SCHEMA_VERSION,
        vigil_version: env!("CARGO_PKG_VERSION"),
        runs: infos,
        matrix,
        components: components.into_iter().collect(),
        checks: checks.into_iter().collect(),
        tests,
        by_component,
        flake_budget,
        not_evaluated,
        expiring_tickets: notes(expiring),
        open_tickets: notes(open),
        stale_exceptions,
        safe_to_remove,
        stale_runs: opts.stale_runs,
    }
}

#[cfg(test)]
mod tests {
    use super::super::Identity;
    use super::*;

    /// A run from `(name, monitor, component, outcome)` rows.
    fn run(i: usize, rows: &[(&str, &str, Option<&str>, Outcome)], stale: &[&str]) -> RunResult {
        RunResult {
            source: format!("run-{i}").into(),
            form: "json",
            time: Some(
                DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc)
                    + chrono::Duration::days(i as i64),
            ),
            identity: Identity::default(),
            tests: rows
                .iter()
                .map(|(n, m, c, o)| {
                    (
                        n.to_string(),
                        TestRecord {
                            name: n.to_string(),
                            monitor: m.to_string(),
                            component: c.map(str::to_owned),
                            check: Some(format!("check/{n}")),
                            namespace: None,
                            outcome: *o,
                            informing: false,
                            note: None,
                            violations: Vec::new(),
                        },
                    )
                })
                .collect(),
            stale: Some(
                stale
                    .iter()
                    .map(|o| StaleEntry {
                        file: "x.yaml".into(),
                        line: 1,
                        check: "ha/replicas".into(),
                        namespace: None,
                        object: Some(o.to_string()),
                        ticket: Some("T-1".into()),
                    })
                    .collect(),
            ),
            junit_file: None,
        }
    }

    #[test]
    fn rates_budget_missing_tests_and_safe_removals() {
        use Outcome::*;
        let runs: Vec<RunResult> = (0..10)
            .map(|i| {
                let mut rows = vec![
                    (
                        "a",
                        "ha-compliance",
                        Some("Shop"),
                        if i % 2 == 0 { Fail } else { Pass },
                    ),
                    (
                        "b",
                        "infra-health",
                        Some("Infra"),
                        if i == 3 { Flake } else { Pass },
                    ),
                    (
                        "c",
                        "ha-compliance",
                        Some("Shop"),
                        if i == 7 { Flake } else { Skip },
                    ),
                ];
                if i < 5 {
                    rows.push(("old", "ha-compliance", None, Pass));
                }
                run(
                    i,
                    &rows,
                    if i >= 4 {
                        &["Deployment/x"]
                    } else {
                        &["Deployment/x", "Deployment/y"]
                    },
                )
            })
            .collect();
        let a = aggregate(&runs, &Options::default());
        let t = |n: &str| a.tests.iter().find(|t| t.name == n).unwrap();
        assert_eq!(
            t("a").counts,
            Counts {
                pass: 5,
                flake: 0,
                fail: 5,
                skip: 0
            }
        );
        assert_eq!(t("a").fail_rate, 0.5);
        assert_eq!(
            (t("a").first_failed, t("a").last_failed),
            (Some(0), Some(8))
        );
        // Skips are not runs: c ran once and flaked once.
        assert_eq!(t("c").flake_rate, 1.0);
        assert!(t("old").missing && !t("a").missing);
        assert_eq!(a.tests[0].name, "a", "worst first");
        let b = &a.flake_budget;
        assert_eq!(
            (
                b.runs,
                b.runs_with_flake,
                b.runs_with_only_infrastructure_flakes
            ),
            (10, 2, 1)
        );
        assert!((b.share - 0.2).abs() < 1e-9 && !b.within);
        assert!(b
            .tests
            .iter()
            .any(|s| s.name == "b" && s.infrastructure && s.runs == 1));
        let shop = a
            .by_component
            .iter()
            .find(|c| c.component == "Shop")
            .unwrap();
        assert_eq!(shop.trend.len(), 10);
        assert_eq!(
            shop.trend[0],
            Some(1.0),
            "a failed, c skipped: 1 of 1 runs failed"
        );
        assert_eq!(shop.trend[1], Some(0.0));
        // y stopped being stale at run 4; x was stale in each of the last 5.
        let safe: Vec<_> = a
            .safe_to_remove
            .iter()
            .map(|e| e.object.clone().unwrap())
            .collect();
        assert_eq!(safe, vec!["Deployment/x"]);
        // The latest run's matrix, worst first.
        assert_eq!(a.matrix[0].outcome, Pass);
        assert!(a
            .matrix
            .iter()
            .any(|c| c.component == "Shop" && c.outcome == Skip));
    }

    #[test]
    fn too_few_runs_remove_nothing() {
        let runs = vec![run(0, &[], &["Deployment/x"])];
        assert!(aggregate(&runs, &Options::default())
            .safe_to_remove
            .is_empty());
    }
}
