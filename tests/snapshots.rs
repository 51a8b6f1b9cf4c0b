//! Snapshots of the exact JUnit and JSON vigil writes for the project's
//! testdata. Review changes with `cargo insta review`; never accept blindly:
//! these files are what Sippy and its users will read.

mod common;

use common::*;

fn junit_for(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let mut all = args.to_vec();
    all.extend(["--junit-dir", &d, "--now", NOW]);
    let out = vigil(&all);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    without_run_times(&std::fs::read_to_string(junit_file(dir.path())).unwrap())
}

fn json_for(args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--no-junit", "--now", NOW, "-o", "json"]);
    let out = vigil(&all);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let text = stdout(&out);
    serde_json::from_str::<serde_json::Value>(&text).expect("stdout is one JSON document");
    regex::Regex::new(r#""started_at": "[^"]+""#)
        .unwrap()
        .replace(&text, r#""started_at": "[run start]""#)
        .into_owned()
}

#[test]
fn junit_demo_cluster() {
    insta::assert_snapshot!(junit_for(&[
        "run",
        "--from",
        "testdata/states/ha-cluster",
        "--exceptions",
        "testdata/exceptions/demo"
    ]));
}

#[test]
fn junit_single_node() {
    insta::assert_snapshot!(junit_for(&["run", "--from", "testdata/states/single-node"]));
}

/// The nine-hour outage and its companions: a stale OnDelete StatefulSet pod
/// crash-looping, a Deployment past its progress deadline, a Service with no
/// ready endpoint, a NotReady node and an event storm.
#[test]
fn junit_broken_infra() {
    insta::assert_snapshot!(junit_for(&[
        "run",
        "--from",
        "testdata/states/broken-infra"
    ]));
}

#[test]
fn json_demo_cluster() {
    insta::assert_snapshot!(json_for(&[
        "run",
        "--from",
        "testdata/states/ha-cluster",
        "--exceptions",
        "testdata/exceptions/demo"
    ]));
}

#[test]
fn json_single_node_openshift_profile() {
    insta::assert_snapshot!(json_for(&[
        "run",
        "--from",
        "testdata/states/single-node",
        "--profile",
        "openshift"
    ]));
}

#[test]
fn text_summary_demo_cluster() {
    let out = vigil(&[
        "run",
        "--from",
        "testdata/states/ha-cluster",
        "--exceptions",
        "testdata/exceptions/demo",
        "--no-junit",
        "--now",
        NOW,
    ]);
    // The run time is the only varying part.
    let text = regex::Regex::new(r"· \d+\.\d\ds\n")
        .unwrap()
        .replace(&stdout(&out), "· [time]s\n")
        .into_owned();
    insta::assert_snapshot!(text);
}
