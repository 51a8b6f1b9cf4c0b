//! Sippy's rules, modelled from its loader and encoded here so that they hold
//! on a machine without `../shared/tools/sippy` (which runs Sippy's real
//! code): which files of a job run it reads, which suites it keeps, how it
//! pools (suite, name) over files into pass / flake / fail, that `<skipped>`
//! is not a run, that `lifecycle` is kept, and that the BigQuery loader behind
//! Component Readiness counts a flake only within one file and suite.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// vigil's default suite.
const SUITE: &str = "Symptom Detection";

/// Sippy's `pkg/db/suites.go` allowlist (literal names, at 3839c92).
const SIPPY_SUITES: &[&str] = &[
    "openshift-tests",
    "openshift-tests-upgrade",
    "sippy",
    "BackendDisruption",
    "Cluster upgrade",
    "E2E Suite",
    "Kubernetes e2e suite",
    "Operator results",
    "Symptom Detection",
    "cluster install",
    "hypershift-e2e",
    "telco-verification",
];

/// ci-test-mapping's `includeSuites` (config/openshift-eng.yaml at d90bede), in part.
const CTM_SUITES: &[&str] = &[
    "openshift-tests",
    "openshift-tests-upgrade",
    "Cluster upgrade",
    "hypershift-e2e",
    "cluster install",
    "Operator results",
    "Symptom Detection",
    "E2E Suite",
];

/// Every file of a job run that Sippy reads: path contains `junit`, ends in `.xml`.
fn job_files(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy();
            rel.contains("junit") && rel.ends_with(".xml")
        })
        .collect();
    out.sort();
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pass,
    Flake,
    Fail,
}

/// Sippy's pooled reading of a job run: per (suite, name) over every file,
/// a fail and a pass make a flake; skipped cases are no runs; suites not on
/// `allow` are dropped. Returns the statuses and each test's lifecycle.
fn sippy(root: &Path, allow: &[&str]) -> BTreeMap<(String, String), (Status, String)> {
    let mut runs: BTreeMap<(String, String), (bool, bool, String)> = BTreeMap::new();
    for f in job_files(root) {
        for suite in parse_junit(&std::fs::read_to_string(&f).unwrap()) {
            if !allow.contains(&suite.name.as_str()) {
                continue;
            }
            for c in &suite.cases {
                if c.skipped.is_some() {
                    continue;
                }
                let e = runs.entry((suite.name.clone(), c.name.clone())).or_insert((
                    false,
                    false,
                    String::new(),
                ));
                if c.failure.is_some() {
                    e.0 = true;
                } else {
                    e.1 = true;
                }
                e.2 = c.lifecycle.clone().unwrap_or_else(|| "blocking".into());
            }
        }
    }
    runs.into_iter()
        .map(|(k, (failed, passed, lifecycle))| {
            let s = match (failed, passed) {
                (true, true) => Status::Flake,
                (true, false) => Status::Fail,
                _ => Status::Pass,
            };
            (k, (s, lifecycle))
        })
        .collect()
}

/// Flakes as the BigQuery loader counts them: a failing and a passing case
/// of the same name in the same file and suite.
fn per_file_flakes(root: &Path) -> usize {
    let mut n = 0;
    for f in job_files(root) {
        for suite in parse_junit(&std::fs::read_to_string(&f).unwrap()) {
            n += sippy_outcomes(&suite)
                .iter()
                .filter(|(_, o)| *o == "flake")
                .count();
        }
    }
    n
}

fn run_into(junit: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    let d = junit.to_str().unwrap().to_owned();
    all.extend(["--junit-dir", &d, "--now", NOW, "-o", "json"]);
    let out = vigil(&all);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn vigil_outcomes(json: &serde_json::Value) -> BTreeMap<String, (String, String)> {
    let mut m = BTreeMap::new();
    for t in json["meta"].as_array().unwrap() {
        m.insert(
            t["name"].as_str().unwrap().to_owned(),
            (
                t["outcome"].as_str().unwrap().to_owned(),
                "blocking".to_owned(),
            ),
        );
    }
    for t in json["tests"].as_array().unwrap() {
        m.insert(
            t["name"].as_str().unwrap().to_owned(),
            (
                t["outcome"].as_str().unwrap().to_owned(),
                t["lifecycle"].as_str().unwrap().to_owned(),
            ),
        );
    }
    m
}

#[test]
fn the_default_suite_is_one_sippy_stores_and_ci_test_mapping_reads() {
    let job = tempfile::tempdir().unwrap();
    let junit = job.path().join("artifacts/e2e/junit");
    let json = run_into(
        &junit,
        &[
            "run",
            "--from",
            "testdata/states/ha-cluster",
            "--exceptions",
            "testdata/exceptions/demo",
        ],
    );
    assert_eq!(json["suite"], SUITE);
    assert!(SIPPY_SUITES.contains(&SUITE) && CTM_SUITES.contains(&SUITE));
    // Not openshift-tests: its synthetic test and pass rate would read
    // every HA violation as a failed e2e run.
    assert_ne!(SUITE, "openshift-tests");
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## Getting results into Sippy")
        .nth(1)
        .expect("the README section");
    assert!(
        section.contains("`Symptom Detection`"),
        "the README names the suite"
    );
    // Every test that ran is stored, with vigil's own verdict.
    let stored = sippy(job.path(), SIPPY_SUITES);
    let want = vigil_outcomes(&json);
    let ran: Vec<_> = want.iter().filter(|(_, (o, _))| o != "skip").collect();
    assert_eq!(stored.len(), ran.len());
    for (name, (outcome, lifecycle)) in ran {
        let (status, l) = &stored[&(SUITE.to_owned(), name.clone())];
        let status = match status {
            Status::Pass => "pass",
            Status::Flake => "flake",
            Status::Fail => "fail",
        };
        assert_eq!(
            (status, l.as_str()),
            (outcome.as_str(), lifecycle.as_str()),
            "{name}"
        );
    }
}

#[test]
fn two_runs_in_one_job_keep_both_files_and_every_flake_in_its_file() {
    let job = tempfile::tempdir().unwrap();
    let junit = job.path().join("junit");
    let args = [
        "run",
        "--from",
        "testdata/states/ha-cluster",
        "--exceptions",
        "testdata/exceptions/demo",
    ];
    let a = run_into(&junit, &args);
    let b = run_into(&junit, &args);
    let files = job_files(job.path());
    assert_eq!(
        files.len(),
        2,
        "same second, same suite: two files, none overwritten"
    );
    assert_ne!(a["junit"], b["junit"]);
    // Each file carries its own flake pairs: BigQuery sees twice the flakes of one run.
    let one_run_flakes = a["summary"]["flaked"].as_u64().unwrap() as usize;
    assert!(one_run_flakes > 0);
    assert_eq!(per_file_flakes(job.path()), 2 * one_run_flakes);
}

#[test]
fn skipped_cases_are_not_runs() {
    let job = tempfile::tempdir().unwrap();
    let json = run_into(
        &job.path().join("junit"),
        &["run", "--from", "testdata/states/single-node"],
    );
    let stored = sippy(job.path(), &[SUITE]);
    let skipped: Vec<&str> = json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["outcome"] == "skip")
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped.len(),
        11,
        "5 multi-node rules, 3 OpenShift conventions, 3 checks of kinds the state does not hold"
    );
    for name in skipped {
        assert!(
            !stored.contains_key(&(SUITE.to_owned(), name.to_owned())),
            "{name}"
        );
    }
}

#[test]
fn no_test_name_depends_on_the_exceptions() {
    let job = tempfile::tempdir().unwrap();
    // Only owners.yaml, no exception: the names of a run with the full set.
    let empty = tempfile::tempdir().unwrap();
    std::fs::copy(
        "testdata/exceptions/demo/owners.yaml",
        empty.path().join("owners.yaml"),
    )
    .unwrap();
    let bare = run_into(
        &job.path().join("b/junit"),
        &[
            "run",
            "--from",
            "testdata/states/ha-cluster",
            "--exceptions",
            empty.path().to_str().unwrap(),
        ],
    );
    let full = run_into(
        &job.path().join("c/junit"),
        &[
            "run",
            "--from",
            "testdata/states/ha-cluster",
            "--exceptions",
            "testdata/exceptions/demo",
        ],
    );
    let names = |j: &serde_json::Value| -> Vec<String> {
        j["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&bare),
        names(&full),
        "same owners.yaml, different exceptions: same names"
    );
    assert_ne!(
        vigil_outcomes(&bare),
        vigil_outcomes(&full),
        "the exceptions did change verdicts"
    );
}
