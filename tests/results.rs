//! Reading runs back: `vigil diff` on real runs' JSON reports and JUnit.

mod common;

use common::*;
use std::path::Path;

/// A run of `state` with `exceptions`, as a JSON report and a JUnit directory.
fn run_into(dir: &Path, name: &str, state: &str, exceptions: &str) -> (String, String) {
    let junit = dir.join(format!("{name}-junit"));
    let o = vigil(&[
        "run",
        "--from",
        state,
        "--exceptions",
        exceptions,
        "--now",
        "2026-11-21T12:00:00Z",
        "--junit-dir",
        junit.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let json = dir.join(format!("{name}.json"));
    std::fs::write(&json, o.stdout).unwrap();
    (json.display().to_string(), junit.display().to_string())
}

#[test]
fn diff_says_what_an_exception_list_change_did_and_exits_on_regressions() {
    let dir = tempfile::tempdir().unwrap();
    // The demo list, and the same list with billing's entries dropped.
    let fewer = dir.path().join("fewer");
    std::fs::create_dir(&fewer).unwrap();
    for e in std::fs::read_dir("testdata/exceptions/demo").unwrap() {
        let p = e.unwrap().path();
        let mut text = std::fs::read_to_string(&p).unwrap();
        if p.ends_with("billing.yaml") {
            text = text[..text.find("exceptions:").unwrap()].to_owned() + "exceptions: []\n";
        }
        std::fs::write(fewer.join(p.file_name().unwrap()), text).unwrap();
    }
    let state = "testdata/states/ha-cluster";
    let (with, with_junit) = run_into(dir.path(), "with", state, "testdata/exceptions/demo");
    let (without, without_junit) = run_into(dir.path(), "without", state, fewer.to_str().unwrap());

    // Dropping billing's entries: its flake becomes a failure.
    let o = vigil(&["diff", &with, &without]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("NEWLY FAILING ("), "{text}");
    assert!(text.contains("[was flaked]"), "{text}");
    assert!(
        text.contains("NEW VIOLATIONS NO EXCEPTION COVERS"),
        "{text}"
    );

    // The other way round: fixed, nothing newly failing, exit 0.
    let o = vigil(&["diff", &without, &with, "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(d["newly_failing"].as_array().unwrap().is_empty());
    let fixed = d["fixed"].as_array().unwrap();
    assert!(
        fixed
            .iter()
            .any(|c| c["before"] == "fail" && c["after"] == "flake"),
        "{d:#}"
    );

    // JUnit directories give the same outcome changes.
    let o = vigil(&["diff", &with_junit, &without_junit, "-o", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let dj: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let o = vigil(&["diff", &with, &without, "-o", "json"]);
    let dr: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let names = |d: &serde_json::Value| {
        d["newly_failing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&dj), names(&dr));
    assert!(!names(&dr).is_empty());

    // The same run twice: no change.
    let o = vigil(&["diff", &with, &with]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("no change in outcomes or violations"));

    // Not a run: exit 2 naming the file.
    let bogus = dir.path().join("bogus.json");
    std::fs::write(&bogus, "[1, 2").unwrap();
    let o = vigil(&["diff", bogus.to_str().unwrap(), &with]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bogus.json:1:"), "{}", stderr(&o));
}
