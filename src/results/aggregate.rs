//! `vigil report`: many runs' results summed up per test, per component
//! and per check, with the flake budget. The `-o json` form of the report is
//! this module's [`Aggregate`], documented in docs/report-json.md.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Identity, Outcome, RunResult, StaleEntry, TestRecord, Violation};

/// Bumped when a field changes meaning or disappears (2: cells list at
/// most `CELL_LIST` tests and violations, with `more_tests` and
/// `violation_count`; run times are the time the state describes).
pub const SCHEMA_VERSION: u32 = 2;

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
/// It lists its first [`CELL_LIST`] tests and violations and counts the
/// rest, so that no cell, and no page, grows without bound.
#[derive(Debug, Serialize)]
pub struct Cell {
    pub component: String,
    pub check: String,
    /// The worst outcome of its tests.
    pub outcome: Outcome,
    pub tests: Vec<String>,
    /// Tests beyond those listed.
    pub more_tests: usize,
    pub violations: Vec<Violation>,
    /// All its violations, listed or not.
    pub violation_count: usize,
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
    /// Per disruption test measured in the runs (JSON reports): the P99 of
    /// its outage totals, a suggested `allowed-seconds`.
    pub disruption: Vec<Allowance>,
}

/// What history says a disruption test's allowance could be, as origin
/// sets its own from the P99 of past runs.
#[derive(Debug, Serialize)]
pub struct Allowance {
    pub test: String,
    /// Runs that measured it.
    pub runs: usize,
    /// The 99th percentile of the totals (nearest rank), in seconds.
    pub p99_seconds: f64,
    pub max_seconds: f64,
}

/// The nearest-rank P99 of `v` (not empty), and its maximum.
fn p99(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let rank = ((v.len() as f64) * 0.99).ceil() as usize;
    (v[rank.clamp(1, v.len()) - 1], v[v.len() - 1])
}

pub const NO_COMPONENT: &str = "(no component)";

/// A cell lists this many violations and tests; the rest are counted.
pub const CELL_LIST: usize = 20;

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

/// What is kept per test over all runs: counters, never the runs.
struct PerTest {
    counts: Counts,
    first_failed: Option<usize>,
    last_failed: Option<usize>,
    last_seen: usize,
    component: u32,
    monitor: u32,
    /// Runs in which it flaked.
    flaked_runs: usize,
}

/// The identity of an exception entry across runs.
type StaleKey = (String, Option<String>, Option<String>, Option<String>);

fn stale_key(e: &StaleEntry) -> StaleKey {
    (
        e.check.clone(),
        e.namespace.clone(),
        e.object.clone(),
        e.ticket.clone(),
    )
}

/// Strings seen many times (component and monitor names), kept once.
#[derive(Default)]
struct Interner {
    ids: std::collections::HashMap<String, u32, foldhash::fast::RandomState>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.ids.get(s) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), i);
        i
    }
}

/// Runs added one at a time, oldest first; memory grows with the tests and
/// components seen, not with the runs' contents: a year of runs in one
/// report. Only the latest run is kept whole (its matrix and exceptions).
pub struct Accumulator {
    opts: Options,
    runs: Vec<RunInfo>,
    tests: std::collections::HashMap<String, PerTest, foldhash::fast::RandomState>,
    strings: Interner,
    /// Per component id: counts over all runs and the fail share per run.
    components: Vec<(Counts, Vec<Option<f32>>)>,
    only_infra: usize,
    /// Components' flaked runs.
    comp_flaked: Vec<usize>,
    /// The stale sets of the last `stale_runs` runs that say (JSON reports).
    stale_window: std::collections::VecDeque<std::collections::HashSet<StaleKey>>,
    latest: Option<RunResult>,
    /// Per disruption test, the outage totals of the runs that measured it.
    disruption: BTreeMap<String, Vec<f64>>,
}

impl Accumulator {
    pub fn new(opts: Options) -> Accumulator {
        Accumulator {
            opts,
            runs: Vec::new(),
            tests: Default::default(),
            strings: Interner::default(),
            components: Vec::new(),
            only_infra: 0,
            comp_flaked: Vec::new(),
            stale_window: Default::default(),
            latest: None,
            disruption: BTreeMap::new(),
        }
    }

    fn component_slot(&mut self, c: u32) -> usize {
        let i = c as usize;
        while self.components.len() <= i {
            self.components.push((Counts::default(), Vec::new()));
            self.comp_flaked.push(0);
        }
        i
    }

    /// Adds the next run (runs come oldest first).
    pub fn add(&mut self, r: RunResult) {
        let ri = self.runs.len();
        let mut counts = Counts::default();
        let mut this: BTreeMap<u32, Counts> = BTreeMap::new();
        let mut flaked_comps: BTreeSet<u32> = BTreeSet::new();
        let mut flakes = 0usize;
        let mut infra_flakes = 0usize;
        for t in r.tests.values() {
            counts.add(t.outcome);
            let comp = match &t.component {
                Some(c) => self.strings.id(c),
                None => self.strings.id(&component(t)),
            };
            let monitor = self.strings.id(&t.monitor);
            this.entry(comp).or_default().add(t.outcome);
            // The name is copied once, when the test is first seen: a year
            // of runs repeats the same names.
            if !self.tests.contains_key(&t.name) {
                self.tests.insert(
                    t.name.clone(),
                    PerTest {
                        counts: Counts::default(),
                        first_failed: None,
                        last_failed: None,
                        last_seen: ri,
                        component: comp,
                        monitor,
                        flaked_runs: 0,
                    },
                );
            }
            let e = self.tests.get_mut(&t.name).expect("just inserted");
            e.counts.add(t.outcome);
            if let Some(s) = t.measured_seconds {
                match self.disruption.get_mut(&t.name) {
                    Some(v) => v.push(s),
                    None => {
                        self.disruption.insert(t.name.clone(), vec![s]);
                    }
                }
            }
            if t.outcome == Outcome::Fail {
                e.first_failed.get_or_insert(ri);
                e.last_failed = Some(ri);
            }
            if t.outcome == Outcome::Flake {
                e.flaked_runs += 1;
                flakes += 1;
                infra_flakes += usize::from(t.monitor == "infra-health");
                flaked_comps.insert(comp);
            }
            e.last_seen = ri;
            e.component = comp;
            e.monitor = monitor;
        }
        if flakes > 0 && flakes == infra_flakes {
            self.only_infra += 1;
        }
        for (c, n) in this {
            let slot = self.component_slot(c);
            let (total, trend) = &mut self.components[slot];
            total.pass += n.pass;
            total.flake += n.flake;
            total.fail += n.fail;
            total.skip += n.skip;
            trend.resize(ri, None);
            trend.push(Some(n.rate(n.fail) as f32));
        }
        for c in flaked_comps {
            let slot = self.component_slot(c);
            self.comp_flaked[slot] += 1;
        }
        if let Some(stale) = &r.stale {
            self.stale_window
                .push_back(stale.iter().map(stale_key).collect());
            if self.stale_window.len() > self.opts.stale_runs {
                self.stale_window.pop_front();
            }
        }
        self.runs.push(RunInfo {
            source: r.source.display().to_string(),
            form: r.form,
            time: r.time,
            identity: r.identity.clone(),
            counts,
            flaked: counts.flake > 0,
        });
        self.latest = Some(r);
    }

    pub fn finish(mut self) -> Aggregate {
        let (summaries, spend_tests) = self.test_summaries();
        let by_component = self.component_summaries();
        let flake_budget = self.flake_budget(spend_tests);
        let (stale_exceptions, safe_to_remove) = self.stale_and_safe_to_remove();
        let disruption = std::mem::take(&mut self.disruption)
            .into_iter()
            .map(|(test, mut v)| {
                let (p, max) = p99(&mut v);
                Allowance {
                    test,
                    runs: v.len(),
                    p99_seconds: p,
                    max_seconds: max,
                }
            })
            .collect();
        let d = self
            .latest
            .as_ref()
            .map(|r| latest_detail(r, &self.opts))
            .unwrap_or_default();
        Aggregate {
            schema_version: SCHEMA_VERSION,
            vigil_version: env!("CARGO_PKG_VERSION"),
            runs: self.runs,
            matrix: d.matrix,
            components: d.components,
            checks: d.checks,
            tests: summaries,
            by_component,
            flake_budget,
            not_evaluated: d.not_evaluated,
            expiring_tickets: d.expiring,
            open_tickets: d.open,
            stale_exceptions,
            safe_to_remove,
            stale_runs: self.opts.stale_runs,
            disruption,
        }
    }

    fn name(&self, i: u32) -> String {
        self.strings.names[i as usize].clone()
    }

    /// Every test's rates over the runs, worst first, and the tests that
    /// spent the flake budget.
    fn test_summaries(&self) -> (Vec<TestSummary>, Vec<Spender>) {
        let latest_index = self.runs.len().saturating_sub(1);
        let mut spend_tests: Vec<Spender> = Vec::new();
        let mut summaries: Vec<TestSummary> = Vec::with_capacity(self.tests.len());
        for (test, t) in &self.tests {
            if t.flaked_runs > 0 {
                spend_tests.push(Spender {
                    name: test.clone(),
                    runs: t.flaked_runs,
                    infrastructure: self.strings.names[t.monitor as usize] == "infra-health",
                });
            }
            summaries.push(TestSummary {
                name: test.clone(),
                component: self.name(t.component),
                monitor: self.name(t.monitor),
                fail_rate: t.counts.rate(t.counts.fail),
                flake_rate: t.counts.rate(t.counts.flake),
                counts: t.counts,
                first_failed: t.first_failed,
                last_failed: t.last_failed,
                missing: t.last_seen != latest_index,
                last_seen: Some(t.last_seen),
            });
        }
        summaries.sort_by(|a, b| {
            b.fail_rate
                .total_cmp(&a.fail_rate)
                .then(b.flake_rate.total_cmp(&a.flake_rate))
                .then(a.name.cmp(&b.name))
        });
        (summaries, spend_tests)
    }

    /// Every component's rates and trend over the runs, worst first.
    fn component_summaries(&self) -> Vec<ComponentSummary> {
        let n_runs = self.runs.len();
        let mut by_component: Vec<ComponentSummary> = self
            .components
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| *c != Counts::default())
            .map(|(i, (counts, trend))| {
                let mut trend = trend.clone();
                trend.resize(n_runs, None);
                ComponentSummary {
                    component: self.name(i as u32),
                    fail_rate: counts.rate(counts.fail),
                    flake_rate: counts.rate(counts.flake),
                    counts: *counts,
                    trend: trend.into_iter().map(|v| v.map(f64::from)).collect(),
                }
            })
            .collect();
        by_component.sort_by(|a, b| {
            b.fail_rate
                .total_cmp(&a.fail_rate)
                .then(b.flake_rate.total_cmp(&a.flake_rate))
                .then(a.component.cmp(&b.component))
        });
        by_component
    }

    /// The share of runs with a flake against the target, and who spent it.
    fn flake_budget(&self, spend_tests: Vec<Spender>) -> FlakeBudget {
        let n_runs = self.runs.len();
        let rank = |mut m: Vec<Spender>| {
            m.sort_by(|a, b| b.runs.cmp(&a.runs).then(a.name.cmp(&b.name)));
            m
        };
        let runs_with_flake = self.runs.iter().filter(|r| r.flaked).count();
        let share = if n_runs == 0 {
            0.0
        } else {
            runs_with_flake as f64 / n_runs as f64
        };
        let components = self
            .comp_flaked
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| Spender {
                name: self.name(i as u32),
                runs: *n,
                infrastructure: false,
            })
            .collect();
        FlakeBudget {
            target: self.opts.flake_target,
            runs: n_runs,
            runs_with_flake,
            share,
            runs_with_only_infrastructure_flakes: self.only_infra,
            within: share <= self.opts.flake_target,
            tests: rank(spend_tests),
            components: rank(components),
        }
    }

    /// The latest run's stale exceptions, and those stale in each of the
    /// last `stale_runs` runs that could say: an intersection of sets,
    /// linear in the entries.
    fn stale_and_safe_to_remove(&self) -> (Vec<StaleEntry>, Vec<StaleEntry>) {
        let stale_exceptions = self
            .latest
            .as_ref()
            .and_then(|r| r.stale.clone())
            .unwrap_or_default();
        let window = &self.stale_window;
        let safe = if window.len() == self.opts.stale_runs && self.opts.stale_runs > 0 {
            stale_exceptions
                .iter()
                .filter(|e| {
                    let k = stale_key(e);
                    window.iter().all(|w| w.contains(&k))
                })
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        (stale_exceptions, safe)
    }
}

/// The latest run in detail.
#[derive(Default)]
struct Detail {
    matrix: Vec<Cell>,
    components: Vec<String>,
    checks: Vec<String>,
    not_evaluated: Vec<(String, String)>,
    expiring: Vec<TicketNote>,
    open: Vec<TicketNote>,
}

fn latest_detail(last: &RunResult, opts: &Options) -> Detail {
    let mut not_evaluated = Vec::new();
    let mut expiring: BTreeMap<String, (Option<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut open: BTreeMap<String, (Option<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut components = BTreeSet::new();
    let mut checks = BTreeSet::new();
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
                more_tests: 0,
                violations: Vec::new(),
                violation_count: 0,
                notes: Vec::new(),
            });
        cell.outcome = cell.outcome.max(t.outcome);
        if cell.tests.len() < CELL_LIST {
            cell.tests.push(t.name.clone());
        } else {
            cell.more_tests += 1;
        }
        cell.violation_count += t.violations.len();
        let room = CELL_LIST.saturating_sub(cell.violations.len());
        cell.violations
            .extend(t.violations.iter().take(room).cloned());
        if t.outcome == Outcome::Skip {
            let why = t.note.clone().unwrap_or_else(|| "not evaluated".into());
            if cell.notes.len() < CELL_LIST && !cell.notes.contains(&why) {
                cell.notes.push(why.clone());
            }
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
    let mut matrix: Vec<Cell> = cells.into_values().collect();
    matrix.sort_by(|a, b| {
        b.outcome
            .cmp(&a.outcome)
            .then(b.violation_count.cmp(&a.violation_count))
            .then(a.component.cmp(&b.component))
            .then(a.check.cmp(&b.check))
    });
    let notes = |m: BTreeMap<String, (Option<String>, BTreeSet<String>)>| {
        m.into_iter()
            .map(|(ticket, (expires, tests))| TicketNote {
                ticket,
                expires,
                tests: tests.into_iter().collect(),
            })
            .collect::<Vec<_>>()
    };
    Detail {
        matrix,
        components: components.into_iter().collect(),
        checks: checks.into_iter().collect(),
        not_evaluated,
        expiring: notes(expiring),
        open: notes(open),
    }
}

/// Aggregates runs already read, oldest first.
pub fn aggregate(runs: &[RunResult], opts: &Options) -> Aggregate {
    let mut acc = Accumulator::new(opts.clone());
    for r in runs {
        acc.add(r.clone());
    }
    acc.finish()
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
                            measured_seconds: None,
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

    #[test]
    fn disruption_totals_suggest_their_p99_as_the_allowance() {
        let name = "[Monitor:disruption][Jira:\"kube-apiserver\"] disruption/kube-api connection/new should be available throughout the run";
        let mut acc = Accumulator::new(Options::default());
        for i in 0..200 {
            let mut r = run(
                i,
                &[(name, "disruption", Some("kube-apiserver"), Outcome::Pass)],
                &[],
            );
            r.tests.get_mut(name).unwrap().measured_seconds = Some(i as f64);
            acc.add(r);
        }
        // A run that did not measure it (an older report) adds nothing.
        acc.add(run(
            200,
            &[(name, "disruption", Some("kube-apiserver"), Outcome::Pass)],
            &[],
        ));
        let a = acc.finish();
        assert_eq!(a.disruption.len(), 1);
        let d = &a.disruption[0];
        assert_eq!((d.runs, d.p99_seconds, d.max_seconds), (200, 197.0, 199.0));
        let mut one = vec![4.5];
        assert_eq!(p99(&mut one), (4.5, 4.5));
    }
}
