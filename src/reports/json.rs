//! `-o json`: the run as one JSON document. The schema is documented in
//! docs/json-output.md; `schema_version` changes when a field changes meaning
//! or disappears.

use serde::Serialize;

use super::RunReport;
use crate::outcomes::{Outcome, Stale, TestResult};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Counts {
    tests: usize,
    passed: usize,
    flaked: usize,
    failed: usize,
    /// Not runs: checks that do not apply or could not look (`<skipped>` in JUnit).
    skipped: usize,
    violations: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    vigil_version: &'static str,
    outcome: Outcome,
    suite: &'a str,
    now: &'a str,
    now_source: &'a str,
    source: &'a str,
    exceptions: &'a Option<String>,
    started_at: String,
    profile: crate::checks::Profile,
    profile_source: &'a str,
    topology: &'a Option<crate::model::Topology>,
    summary: Counts,
    meta: &'a [super::MetaTest],
    tests: &'a [TestResult],
    stale_exceptions: &'a [Stale],
    not_judged: &'a [crate::outcomes::NotJudged],
    junit: &'a Option<String>,
}

/// Writes the document, streaming rather than building it in memory, with
/// every control character in a string as a `\uXXXX` escape.
pub fn write(out: &mut dyn std::io::Write, run: &RunReport) -> std::io::Result<()> {
    crate::term::write_json(out, &report(run))
}

pub fn to_string(run: &RunReport) -> String {
    serde_json::to_string_pretty(&report(run)).expect("the report serializes")
}

fn report(run: &RunReport) -> JsonReport<'_> {
    let tests: &[TestResult] = run.evaluation.as_ref().map_or(&[], |e| &e.tests);
    let stale: &[Stale] = run.evaluation.as_ref().map_or(&[], |e| &e.stale);
    let outcomes: Vec<Outcome> = run
        .meta
        .iter()
        .map(|m| m.outcome)
        .chain(tests.iter().map(|t| t.outcome))
        .collect();
    let count = |o| outcomes.iter().filter(|x| **x == o).count();
    JsonReport {
        schema_version: SCHEMA_VERSION,
        vigil_version: env!("CARGO_PKG_VERSION"),
        outcome: run.worst(),
        suite: &run.suite,
        now: &run.now,
        now_source: &run.now_source,
        source: &run.source,
        exceptions: &run.exceptions,
        started_at: run
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        profile: run.profile,
        profile_source: &run.profile_source,
        topology: &run.topology,
        summary: Counts {
            tests: outcomes.len(),
            passed: count(Outcome::Pass),
            flaked: count(Outcome::Flake),
            failed: count(Outcome::Fail),
            skipped: count(Outcome::Skip),
            violations: tests.iter().map(|t| t.findings.len()).sum(),
        },
        meta: &run.meta,
        tests,
        stale_exceptions: stale,
        not_judged: run.evaluation.as_ref().map_or(&[], |e| &e.not_judged),
        junit: &run.junit,
    }
}
