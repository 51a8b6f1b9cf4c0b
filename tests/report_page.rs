//! `vigil report`: the aggregation on real runs, and the page in a real
//! browser (headless Chromium, which scripts/test installs when missing).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Three runs of the testdata states, as JSON reports (and their JUnit).
fn runs(dir: &Path) -> PathBuf {
    let runs = dir.join("runs");
    for (i, s) in ["single-node", "broken-infra", "ha-cluster"]
        .iter()
        .enumerate()
    {
        let d = runs.join(format!("run-{i}"));
        std::fs::create_dir_all(&d).unwrap();
        // Each run's state a day after the last: runs are dated by the
        // time their state describes.
        let now = format!("2026-11-2{}T12:00:00Z", i + 1);
        let o = vigil(&[
            "run",
            "--from",
            &format!("testdata/states/{s}"),
            "--now",
            &now,
            "--exceptions",
            "testdata/exceptions/demo",
            "--junit-dir",
            d.join("junit").to_str().unwrap(),
            "-o",
            "json",
        ]);
        std::fs::write(d.join("report.json"), o.stdout).unwrap();
    }
    runs
}

fn chromium() -> PathBuf {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(o) = Command::new("which").arg(c).output() {
            if o.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
            }
        }
    }
    panic!("headless Chromium is needed for this test: scripts/test installs Debian's chromium package; run it, or apt-get install chromium");
}

/// Loads `page` (with `fragment`) in headless Chromium; returns the DOM after
/// scripts ran and the browser's console log.
fn browse(page: &Path, fragment: &str) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const BLOCKED: &str = "violates the following Content Security Policy directive";

#[test]
fn the_page_renders_opens_a_cell_on_click_and_requests_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let runs = runs(dir.path());
    let page = dir.path().join("report.html");
    let o = vigil(&[
        "report",
        runs.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
        "--jira-url",
        "https://issues.example.com",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Three JSON reports; their own JUnit files are the same runs, not more.
    assert!(stdout(&o).starts_with("3 runs read"), "{}", stdout(&o));

    let (dom, log) = browse(&page, "#open=cell-billing--ha-replicas");
    assert!(
        !log.contains(BLOCKED),
        "the page tried to load something:\n{log}"
    );
    assert!(dom.contains("<table id=\"matrix-table\">"));
    // Dated by the state's time, to the second.
    assert!(dom.contains("state at 2026-11-23 12:00:00 UTC"), "{dom}");
    // The latest run (ha-cluster): billing's replicas cell, opened by the click.
    let at = dom
        .find("id=\"cell-billing--ha-replicas\"")
        .expect("the billing/ha-replicas cell");
    let tag = &dom[dom[..at].rfind('<').unwrap()..at + dom[at..].find('>').unwrap()];
    assert!(tag.contains("open"), "the click opened it: {tag}");
    let cell = &dom[at..at + dom[at..].find("</details>").unwrap()];
    assert!(cell.contains("Deployment/invoicer"), "{cell}");
    assert!(
        cell.contains("<a href=\"https://issues.example.com/browse/BILL-101\">BILL-101</a>"),
        "{cell}"
    );
    assert!(
        cell.contains("approved by billing architecture review"),
        "{cell}"
    );
    // Another cell stays closed.
    let other = dom
        .find("id=\"cell-payments--ha-pdb-disruptions\"")
        .unwrap();
    let other_tag = &dom[dom[..other].rfind('<').unwrap()..other + dom[other..].find('>').unwrap()];
    assert!(!other_tag.contains("open"), "{other_tag}");
    // Over the runs: the flake budget and a trend per component.
    assert!(dom.contains("runs had at least one flake"));
    assert!(dom.contains("<svg role=\"img\" aria-label=\"fail rate per run"));
    // Nothing but data: and links are links, never loads.
    assert!(!dom.contains("src=\"http"));

    // The check above can fail: the same page with one remote image is caught.
    let bad = dir.path().join("bad.html");
    let html = std::fs::read_to_string(&page).unwrap();
    std::fs::write(
        &bad,
        html.replacen(
            "<main>",
            "<main><img src=\"http://example.invalid/x.png\">",
            1,
        ),
    )
    .unwrap();
    let (_, log) = browse(&bad, "");
    assert!(log.contains(BLOCKED), "{log}");
}

#[test]
fn json_aggregates_and_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let runs = runs(dir.path());
    let o = vigil(&["report", runs.to_str().unwrap(), "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let a: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(a["schema_version"], 2);
    let times: Vec<&str> = a["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["time"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2026-11-21T12:00:00Z",
            "2026-11-22T12:00:00Z",
            "2026-11-23T12:00:00Z"
        ],
        "oldest first, by the state's time"
    );
    assert_eq!(a["runs"].as_array().unwrap().len(), 3);
    assert_eq!(a["flake_budget"]["runs"], 3);
    // The JUnit directories alone make the same three runs.
    let junit_only = dir.path().join("junit-only");
    for i in 0..3 {
        let d = junit_only.join(format!("run-{i}"));
        std::fs::create_dir_all(&d).unwrap();
        let src = runs.join(format!("run-{i}/junit"));
        for f in std::fs::read_dir(src).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, d.join(f.file_name().unwrap())).unwrap();
        }
    }
    let o = vigil(&["report", junit_only.to_str().unwrap(), "-o", "json"]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let counts = |v: &serde_json::Value| {
        v["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["counts"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&j), counts(&a));

    let o = vigil(&["report", dir.path().join("nothing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let o = vigil(&["report", runs.to_str().unwrap(), "-o", "pdf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("want text, json, or a file name ending in .html"));
}
