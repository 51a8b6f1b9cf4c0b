//! `vigil exceptions lint|suggest|verify` through the real binary.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const BAD: &str = "component: Console
namespaces: [openshift-console]
exceptions:
  - check: ha/replica
    namespace: openshift-console
    object: Deployment/downloads
    jira: OCPBUGS-12345
  - check: ha/probes
    namespace: openshift-console
    jira: https://issues.example.com/OCPBUGS-1
    reasn: typo
";

#[test]
fn lint_text_reports_every_problem_with_place_and_hint() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "console.yaml", BAD);
    let out = vigil(&[
        "exceptions",
        "lint",
        d.path().to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out).replace(d.path().to_str().unwrap(), "DIR");
    assert_eq!(
        text,
        "\
error: unknown check id `ha/replica`
  --> DIR/console.yaml:4:12
   | ha/replica
   = help: did you mean `ha/replicas`?

error: not a Jira key or issue URL
  --> DIR/console.yaml:10:11
   | https://issues.example.com/OCPBUGS-1
   = help: write a key like `OCPBUGS-12345` or a URL like `https://issues.redhat.com/browse/OCPBUGS-12345`

error: unknown field `reasn` in an exception entry
  --> DIR/console.yaml:11:5
   | reasn
   = help: did you mean `reason`?

DIR: 3 errors, 0 warnings
"
    );
}

#[test]
fn lint_github_and_json_formats() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "console.yaml", BAD);
    let dir = d.path().to_str().unwrap();
    let gh = stdout(&vigil(&[
        "exceptions",
        "lint",
        dir,
        "--format",
        "github",
        "--now",
        NOW,
    ]));
    let first = gh.lines().next().unwrap().replace(dir, "DIR");
    assert_eq!(
        first,
        "::error file=DIR/console.yaml,line=4,col=12,title=vigil exceptions lint::unknown check id `ha/replica`%0A  | ha/replica%0Ahelp: did you mean `ha/replicas`?"
    );
    assert_eq!(gh.lines().count(), 3);
    let json: serde_json::Value = serde_json::from_str(&stdout(&vigil(&[
        "exceptions",
        "lint",
        dir,
        "--format",
        "json",
        "--now",
        NOW,
    ])))
    .unwrap();
    assert_eq!(json["errors"], 3);
    assert_eq!(json["diagnostics"][0]["line"], 4);
    assert_eq!(json["diagnostics"][0]["column"], 12);
    assert_eq!(json["diagnostics"][0]["level"], "error");
}

#[test]
fn lint_warnings_and_deny_warnings() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "billing.yaml",
        "component: Billing\nnamespaces: [billing]\nexceptions:\n  - check: ha/replicas\n    object: Deployment/invoicer\n    jira: BILL-1\n    expires: 2026-12-10\n  - check: ha/probes\n    object: Deployment/gone\n    jira: BILL-2\n",
    );
    let dir = d.path().to_str().unwrap();
    let out = vigil(&[
        "exceptions",
        "lint",
        dir,
        "--now",
        NOW,
        "--against",
        "testdata/states/ha-cluster",
    ]);
    assert_eq!(out.status.code(), Some(0), "warnings alone pass");
    let text = stdout(&out);
    assert!(
        text.contains("warning: exception BILL-1 expires in 19 days (2026-12-10)"),
        "{text}"
    );
    assert!(
        text.contains(
            "warning: exception for ha/probes matches no violation in testdata/states/ha-cluster"
        ),
        "{text}"
    );
    assert!(
        !text.contains("BILL-1 matches no violation"),
        "the invoicer entry matches"
    );
    assert!(text.ends_with(": 0 errors, 2 warnings\n"), "{text}");
    let denied = vigil(&["exceptions", "lint", dir, "--now", NOW, "--deny-warnings"]);
    assert_eq!(denied.status.code(), Some(1));
}

#[test]
fn lint_clean_directory() {
    let out = vigil(&["exceptions", "lint", "exceptions"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // The shipped directory: every component file and entry counted.
    let files = std::fs::read_dir("exceptions")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "owners.yaml" && n != "policy.yaml")
        .count();
    let entries: usize = std::fs::read_dir("exceptions")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .map(|t| {
            t.lines()
                .filter(|l| l.trim_start().starts_with("- check:"))
                .count()
        })
        .sum();
    assert!(files >= 2 && entries >= 1);
    assert_eq!(
        stdout(&out),
        format!("exceptions: {files} component files, owners.yaml, policy.yaml ({entries} entr{}), no problems\n", if entries == 1 { "y" } else { "ies" })
    );
    let missing = vigil(&["exceptions", "lint", "no-such-dir"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("exceptions directory not found"));
}

fn sippy(args: &[&str]) -> Vec<(String, &'static str)> {
    let junit = tempfile::tempdir().unwrap();
    let mut all = args.to_vec();
    let j = junit.path().to_str().unwrap().to_owned();
    all.extend(["--junit-dir", &j, "--now", NOW]);
    let out = vigil(&all);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let xml = std::fs::read_to_string(junit_file(junit.path())).unwrap();
    sippy_outcomes(&parse_junit(&xml)[0])
}

/// suggest -> file tickets -> lint clean -> run flakes where it failed.
#[test]
fn suggest_round_trip() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    let payments = "# Payments team; ask in #payments\ncomponent: Payments\nnamespaces: [payments]   # one namespace\nexceptions: []\n";
    write(d.path(), "payments.yaml", payments);
    let state = "testdata/states/ha-cluster";

    let before = sippy(&["run", "--from", state, "--exceptions", dir]);
    let failing_before = before.iter().filter(|(_, o)| *o == "fail").count();
    assert!(failing_before > 0);

    // --stdout changes nothing.
    let preview = vigil(&[
        "exceptions",
        "suggest",
        "--from",
        state,
        "--exceptions",
        dir,
        "--stdout",
    ]);
    assert_eq!(preview.status.code(), Some(0));
    assert!(stdout(&preview).contains("(append)"));
    assert_eq!(
        std::fs::read_to_string(d.path().join("payments.yaml")).unwrap(),
        payments
    );
    assert!(!d.path().join("unclaimed.yaml").exists());

    let out = vigil(&[
        "exceptions",
        "suggest",
        "--from",
        state,
        "--exceptions",
        dir,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let edited = std::fs::read_to_string(d.path().join("payments.yaml")).unwrap();
    assert!(edited.starts_with("# Payments team; ask in #payments\ncomponent: Payments\nnamespaces: [payments]   # one namespace\nexceptions:\n"), "{edited}");
    assert!(
        edited.contains("  # Deployment/api: strategy.type=Recreate"),
        "{edited}"
    );
    assert!(d.path().join("unclaimed.yaml").exists());

    // The placeholders are rejected until tickets replace them...
    let lint = vigil(&["exceptions", "lint", dir, "--now", NOW]);
    assert_eq!(lint.status.code(), Some(1));
    assert!(stdout(&lint).contains("a placeholder left by `vigil exceptions suggest`"));
    // ...and a second suggest adds nothing new.
    let again = vigil(&[
        "exceptions",
        "suggest",
        "--from",
        state,
        "--exceptions",
        dir,
    ]);
    assert_eq!(
        stdout(&again),
        "nothing to suggest: every violation is covered by an exception\n"
    );

    // File the tickets.
    let mut n = 100;
    for f in ["payments.yaml", "unclaimed.yaml"] {
        let p = d.path().join(f);
        let text = std::fs::read_to_string(&p).unwrap();
        let mut filled = String::new();
        for line in text.lines() {
            if line.trim() == "jira: TODO" {
                n += 1;
                filled.push_str(&line.replace("TODO", &format!("OPS-{n}")));
            } else if line == "component: TODO" {
                filled.push_str("component: Everything Else");
            } else {
                filled.push_str(line);
            }
            filled.push('\n');
        }
        std::fs::write(&p, filled).unwrap();
    }
    let lint = vigil(&["exceptions", "lint", dir, "--now", NOW]);
    assert_eq!(lint.status.code(), Some(0), "{}", stdout(&lint));

    let after = sippy(&["run", "--from", state, "--exceptions", dir]);
    assert_eq!(after.len(), before.len());
    // Filing exceptions renames nothing: every test keeps its exact name
    // (and so its history in Sippy); only failures turned into flakes.
    for ((name, was), (name2, now)) in before.iter().zip(&after) {
        assert_eq!(name, name2);
        let want = if *was == "fail" { "flake" } else { was };
        assert_eq!(*now, want, "{name}");
    }
}

#[test]
fn suggest_never_overwrites_an_existing_file() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    let mine = "component: Mine\nnamespaces: [other]\n";
    write(d.path(), "unclaimed.yaml", mine);
    let out = vigil(&[
        "exceptions",
        "suggest",
        "--from",
        "testdata/states/single-node",
        "--exceptions",
        dir,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(d.path().join("unclaimed.yaml")).unwrap(),
        mine
    );
    let created = std::fs::read_to_string(d.path().join("unclaimed-2.yaml")).unwrap();
    assert!(created.contains("namespaces: [demo]"), "{created}");
}

/// A local server that answers like Jira's REST API.
fn fake_jira() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut auth = String::new();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = h
                        .strip_prefix("authorization: ")
                        .or_else(|| h.strip_prefix("Authorization: "))
                    {
                        auth = v.trim().to_owned();
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("");
                let key = path
                    .strip_prefix("/rest/api/2/issue/")
                    .and_then(|r| r.split('?').next())
                    .unwrap_or("");
                assert!(
                    path.ends_with("?fields=status,resolution,summary,description"),
                    "{path}"
                );
                // What Sippy needs to link a ticket to a test: its exact name in the text.
                let linked = r#"[Monitor:ha-compliance] workloads in ns/ns should have at least two replicas"#;
                let text = |summary: &str, description: &str| {
                    format!(
                        r#""summary":{},"description":{}"#,
                        serde_json::to_string(summary).unwrap(),
                        serde_json::to_string(description).unwrap()
                    )
                };
                let (status, body) = if auth != "Bearer s3cret" {
                    (
                        401,
                        r#"{"errorMessages":["You are not authenticated."]}"#.to_owned(),
                    )
                } else if key.starts_with("OPEN") {
                    (
                        200,
                        format!(
                            r#"{{"key":"{key}","fields":{{"status":{{"name":"In Progress","statusCategory":{{"key":"indeterminate"}}}},"resolution":null,{}}}}}"#,
                            text(
                                "deployment d runs one replica",
                                &format!("Seen in Sippy as:\n{linked}\n")
                            )
                        ),
                    )
                } else if key.starts_with("NOLINK") {
                    (
                        200,
                        format!(
                            r#"{{"key":"{key}","fields":{{"status":{{"name":"New","statusCategory":{{"key":"new"}}}},"resolution":null,{}}}}}"#,
                            text("single replica", "see the HA test")
                        ),
                    )
                } else if key.starts_with("WONT") {
                    (
                        200,
                        format!(
                            r#"{{"key":"{key}","fields":{{"status":{{"name":"Closed","statusCategory":{{"key":"done"}}}},"resolution":{{"name":"Won't Do"}},{}}}}}"#,
                            text("the ledger is a single writer by design", linked)
                        ),
                    )
                } else if key.starts_with("DONE") {
                    (
                        200,
                        format!(
                            r#"{{"key":"{key}","fields":{{"status":{{"name":"Closed","statusCategory":{{"key":"done"}}}},"resolution":{{"name":"Done"}}}}}}"#
                        ),
                    )
                } else if key.starts_with("SLOW") {
                    std::thread::sleep(Duration::from_secs(4));
                    (200, "{}".to_owned())
                } else {
                    (
                        404,
                        r#"{"errorMessages":["Issue Does Not Exist"],"errors":{}}"#.to_owned(),
                    )
                };
                let reason = match status {
                    200 => "OK",
                    401 => "Unauthorized",
                    _ => "Not Found",
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    format!("http://{addr}")
}

fn verify_dir(keys: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let mut text = "component: Team\nnamespaces: [ns]\nexceptions:\n".to_owned();
    for (i, k) in keys.iter().enumerate() {
        text.push_str(&format!(
            "  - check: ha/replicas\n    object: Deployment/d{i}\n    jira: {k}\n"
        ));
    }
    write(d.path(), "team.yaml", &text);
    d
}

fn verify(dir: &Path, url: &str, token: Option<&str>, extra: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args([
        "exceptions",
        "verify",
        dir.to_str().unwrap(),
        "--jira-url",
        url,
    ])
    .args(extra)
    .env("NO_COLOR", "1")
    .env_remove("JIRA_TOKEN");
    if let Some(t) = token {
        cmd.env("JIRA_TOKEN", t);
    }
    cmd.output().unwrap()
}

#[test]
fn verify_reports_closed_and_missing_tickets() {
    let url = fake_jira();
    let d = verify_dir(&["OPEN-1", "DONE-2", "GONE-3", "OPEN-4"]);
    let out = verify(d.path(), &url, Some("s3cret"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out).replace(d.path().to_str().unwrap(), "DIR");
    assert!(
        text.starts_with(
            "\
DONE-2 is closed (Closed, Done): see the proposed edit below
    referenced at DIR/team.yaml:7
GONE-3 does not exist: a typo?
    referenced at DIR/team.yaml:10
"
        ),
        "{text}"
    );
    assert!(
        text.ends_with(
            "4 tickets: 2 open, 2 closed or missing, 0 not linked to their tests, 0 not checked\n"
        ),
        "{text}"
    );
    // The fixed ticket's entry is proposed for removal, as a patch.
    assert!(
        text.contains("-    object: Deployment/d1\n-    jira: DONE-2\n"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&verify(
        d.path(),
        &url,
        Some("s3cret"),
        &["-o", "json"],
    )))
    .unwrap();
    assert_eq!(json["closed_or_missing"], 2);
    assert_eq!(json["tickets"][0]["key"], "DONE-2");
    assert_eq!(json["tickets"][0]["state"], "closed");

    let all_open = verify_dir(&["OPEN-1", "OPEN-2"]);
    assert_eq!(
        verify(all_open.path(), &url, Some("s3cret"), &[])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn verify_bad_token_and_slow_jira() {
    let url = fake_jira();
    let d = verify_dir(&["OPEN-1"]);
    let out = verify(d.path(), &url, Some("wrong"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "Jira refused the request for OPEN-1 (HTTP 401): check the token in $JIRA_TOKEN"
        ),
        "{}",
        stderr(&out)
    );
    let anonymous = verify(d.path(), &url, None, &[]);
    assert!(stderr(&anonymous).contains("$JIRA_TOKEN is not set"));

    let slow = verify_dir(&["SLOW-1", "OPEN-2"]);
    let started = std::time::Instant::now();
    let out = verify(slow.path(), &url, Some("s3cret"), &["--timeout", "1"]);
    // Jira could not be asked about every ticket: as for an unreachable cluster.
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the timeout is honoured"
    );
    let text = stdout(&out);
    assert!(text.contains("SLOW-1 could not be checked: "), "{text}");
    assert!(
        text.contains(
            "2 tickets: 1 open, 0 closed or missing, 0 not linked to their tests, 1 not checked"
        ),
        "{text}"
    );
}

#[test]
fn verify_unreachable_jira() {
    let d = verify_dir(&["OPEN-1"]);
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = verify(
        d.path(),
        &format!("http://127.0.0.1:{port}"),
        Some("s3cret"),
        &["--timeout", "2"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout(&out).contains("OPEN-1 could not be checked"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn lint_reports_an_ownership_change_as_a_rename_with_what_ci_test_mapping_needs() {
    let d = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(d.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    write(d.path(), "owners.yaml", "owners:\n  Billing: [billing]\n");
    write(
        d.path(),
        "billing.yaml",
        "component: Billing\nnamespaces: [billing]\nexceptions: []\n",
    );
    git(&["add", "."]);
    git(&["commit", "-qm", "one"]);
    let dir = d.path().to_str().unwrap();
    // Adding exception entries renames nothing.
    write(
        d.path(),
        "billing.yaml",
        "component: Billing\nnamespaces: [billing]\nexceptions:\n  - check: ha/replicas\n    jira: BILL-1\n",
    );
    let out = vigil(&[
        "exceptions",
        "lint",
        dir,
        "--base",
        "HEAD",
        "--deny-warnings",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // Changing an owner does, and says how to keep the history.
    write(d.path(), "owners.yaml", "owners:\n  Payments: [billing]\n");
    let out = vigil(&["exceptions", "lint", dir, "--base", "HEAD"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "a warning: {text}");
    assert!(
        text.contains("ns/billing: owner changes from `Billing` to `Payments` since HEAD: this renames its 23 tests"),
        "{text}"
    );
    assert!(
        text.contains("TestRenames of component `Payments`"),
        "{text}"
    );
    assert!(
        text.contains(r#""[Monitor:ha-compliance][Jira:\"Payments\"] workloads in ns/billing should have at least two replicas": "[Monitor:ha-compliance][Jira:\"Billing\"] workloads in ns/billing should have at least two replicas","#),
        "{text}"
    );
    // The component file now disagrees with owners.yaml.
    assert!(text.contains("claims ns/billing for its exceptions, but owners.yaml gives the namespace's tests to `Payments`"), "{text}");
    let strict = vigil(&[
        "exceptions",
        "lint",
        dir,
        "--base",
        "HEAD",
        "--deny-warnings",
    ]);
    assert_eq!(strict.status.code(), Some(1));
    // A revision git does not know is an error, not "no renames".
    let out = vigil(&["exceptions", "lint", dir, "--base", "no-such-rev"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--base no-such-rev: git show failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn component_names_must_round_trip_through_a_jira_tag() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "owners.yaml",
        "owners:\n  'Team \"A\"': [a]\n  ' Padded': [b]\n",
    );
    write(d.path(), "c.yaml", "component: 'Ops]'\nnamespaces: [c]\n");
    let out = vigil(&["exceptions", "lint", d.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("owners.yaml:2:"), "{text}");
    assert!(
        text.contains("cannot stand in a [Jira:\"...\"] tag"),
        "{text}"
    );
    assert!(text.contains("owners.yaml:3:"), "{text}");
    assert!(text.contains("starts or ends with a space"), "{text}");
    assert!(text.contains("c.yaml:1:"), "{text}");
}

#[test]
fn verify_asks_for_test_names_sippy_can_link_and_proposes_edits_for_closed_tickets() {
    let url = fake_jira();
    let d = verify_dir(&["OPEN-1", "NOLINK-2", "WONT-3", "DONE-4"]);
    let out = verify(d.path(), &url, Some("s3cret"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("NOLINK-2 is open, but Sippy links it to no test of its entries: its summary or description must contain each exact test name. Paste:\n      [Monitor:ha-compliance] workloads in ns/ns should have at least two replicas\n"),
        "{text}"
    );
    assert!(!text.contains("OPEN-1 is open"), "linked: {text}");
    assert!(
        text.contains(
            "4 tickets: 2 open, 2 closed or missing, 1 not linked to their tests, 0 not checked"
        ),
        "{text}"
    );
    // Nothing written without --write.
    let before = std::fs::read_to_string(d.path().join("team.yaml")).unwrap();
    assert!(before.contains("jira: WONT-3"));
    let out = verify(d.path(), &url, Some("s3cret"), &["--write"]);
    assert_eq!(out.status.code(), Some(1));
    let after = std::fs::read_to_string(d.path().join("team.yaml")).unwrap();
    assert_eq!(
        after,
        "component: Team\nnamespaces: [ns]\nexceptions:\n  - check: ha/replicas\n    object: Deployment/d0\n    jira: OPEN-1\n  - check: ha/replicas\n    object: Deployment/d1\n    jira: NOLINK-2\n  - check: ha/replicas\n    object: Deployment/d2\n    allow: \"closed as Won't Do in WONT-3: the ledger is a single writer by design\"\n    approved-by: TODO   # who accepts this for good\n"
    );
    // lint refuses the placeholder approver until a person fills it in.
    let lint = vigil(&["exceptions", "lint", d.path().to_str().unwrap()]);
    assert_eq!(lint.status.code(), Some(1));
    assert!(
        stdout(&lint).contains("`approved-by` is a placeholder"),
        "{}",
        stdout(&lint)
    );
}

#[test]
fn verify_keeps_the_entry_of_a_fixed_ticket_whose_violation_is_still_there() {
    let url = fake_jira();
    let d = verify_dir(&["DONE-1"]);
    let state = d.path().join("state.yaml");
    std::fs::write(
        &state,
        "kind: Deployment\nmetadata: {name: d0, namespace: ns}\nspec: {replicas: 1, template: {spec: {containers: [{name: c}]}}}\n",
    )
    .unwrap();
    let out = verify(
        d.path(),
        &url,
        Some("s3cret"),
        &["--against", state.to_str().unwrap()],
    );
    let text = stdout(&out);
    assert!(
        text.contains("DONE-1 is closed, but its violation is still there"),
        "{text}"
    );
    assert!(!text.contains("Proposed edits"), "the entry stays: {text}");
    // Gone from the state: the entry can go.
    std::fs::write(&state, "kind: Deployment\nmetadata: {name: d0, namespace: ns}\nspec: {replicas: 3, template: {spec: {containers: [{name: c}]}}}\n").unwrap();
    let out = verify(
        d.path(),
        &url,
        Some("s3cret"),
        &["--against", state.to_str().unwrap()],
    );
    assert!(
        stdout(&out).contains("-    jira: DONE-1"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn lint_speaks_sarif_quotes_yaml_syntax_errors_and_rejects_impossible_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shop.yaml"),
        "component: Shop\nnamespaces: [shop\nexceptions:\n  - check: ha/replicas\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        "checks:\n  health/restarts:\n    thresholds: {flake-at: 5, fail-above: 2}\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let text = vigil(&["exceptions", "lint", d]);
    assert_eq!(text.status.code(), Some(1));
    let out = stdout(&text);
    // The syntax error quotes the line before (the unclosed `[`) and points.
    assert!(
        out.contains("| namespaces: [shop\n   | exceptions:\n   |           ^"),
        "{out}"
    );
    assert!(out.contains("help: a YAML syntax error"), "{out}");
    assert!(out.contains("fail-above 2 is below flake-at 5"), "{out}");

    let o = vigil(&["exceptions", "lint", d, "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{log:#}");
    let shop = results
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("shop.yaml")
        })
        .unwrap();
    assert_eq!(shop["level"], "error");
    assert_eq!(
        shop["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(results
        .iter()
        .all(|r| rules.iter().any(|x| x["id"] == r["ruleId"])));
}
