//! Report and diff on hostile or large artifacts: nothing superlinear in
//! the number of tests, components, checks or exception entries, a page of
//! bounded size, and one run counted once however it was downloaded.
//! (How fast is measured in bench/report, not here: these bound the work
//! with a generous guard against a hang and check the output's size.)

use std::time::{Duration, Instant};

use super::*;

/// One JUnit whose 8,000 tests each name their own component and check.
#[test]
fn thousands_of_components_and_checks_in_one_run() {
    let d = tempfile::tempdir().unwrap();
    let mut xml = String::from(
        "<testsuites><testsuite name=\"vigil\" tests=\"8000\" timestamp=\"2026-11-21T12:00:00Z\">",
    );
    for i in 0..8000 {
        xml.push_str(&format!(
            "<testcase name=\"[Monitor:ha-compliance][Jira:&quot;C{i}&quot;] workloads in ns/n{i} should check {i}\"><failure message=\"x\">FAIL  Deployment/d{i}: broken {i}\n</failure></testcase>"
        ));
    }
    xml.push_str("</testsuite></testsuites>");
    let f = d.path().join("junit_vigil.xml");
    std::fs::write(&f, xml).unwrap();
    let page = d.path().join("page.html");
    let started = Instant::now();
    let o = vigil_cmd(&["report", f.to_str().unwrap(), "-o", page.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(o.status.code(), Some(0), "{}", printed(&o));
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 4 << 20, "the page is {size} bytes");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("more components in the JSON form"),
        "the rest is counted, not dropped"
    );
    let json = vigil_cmd(&["report", f.to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    let a: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(a["matrix"].as_array().unwrap().len(), 8000);
}

/// Five reports with 60,000 stale exception entries each.
#[test]
fn tens_of_thousands_of_stale_entries_over_several_runs() {
    let d = tempfile::tempdir().unwrap();
    for r in 0..5 {
        let stale: Vec<String> = (0..60_000)
            .map(|i| format!(r#"{{"file":"e.yaml","line":{i},"check":"ha/replicas","namespace":"ns","object":"Deployment/d{i}","jira":"T-{i}"}}"#))
            .collect();
        std::fs::write(
            d.path().join(format!("r{r}.json")),
            format!(
                r#"{{"schema_version":1,"vigil_version":"0.1.0","now":"2026-11-2{r}T12:00:00Z","meta":[],"tests":[{{"name":"[Monitor:ha-compliance] workloads in ns/ns should have at least two replicas","monitor":"ha-compliance","outcome":"pass","findings":[]}}],"stale_exceptions":[{}]}}"#,
                stale.join(",")
            ),
        )
        .unwrap();
    }
    let started = Instant::now();
    let o = vigil_cmd(&["report", d.path().to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(o.status.code(), Some(0), "{}", printed(&o));
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(a["safe_to_remove"].as_array().unwrap().len(), 60_000);
}

/// A JSON report and the JUnit its run wrote, downloaded together: the
/// report names the JUnit by the path the run wrote it to, which is not
/// where it is now. One run, not two.
#[test]
fn a_downloaded_run_counts_once() {
    let d = tempfile::tempdir().unwrap();
    let ci = d.path().join("ci-workspace");
    let o = vigil_cmd(&[
        "run",
        "--from",
        "testdata/states/ha-cluster",
        "--junit-dir",
        ci.join("junit").to_str().unwrap(),
        "-o",
        "json",
        "--now",
        NOW,
    ])
    .output()
    .unwrap();
    let artifacts = d.path().join("artifacts/job/123");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("vigil.json"), &o.stdout).unwrap();
    for f in std::fs::read_dir(ci.join("junit")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, artifacts.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::remove_dir_all(&ci).unwrap();
    let r = vigil_cmd(&[
        "report",
        d.path().join("artifacts").to_str().unwrap(),
        "-o",
        "json",
    ])
    .output()
    .unwrap();
    let a: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(a["runs"].as_array().unwrap().len(), 1, "{}", printed(&r));
}
