//! Nothing hostile reaches a terminal or a file unescaped: text from a
//! cluster, a pull request's files, a Jira ticket or a CI artifact, printed
//! by any command, shows its control sequences instead of obeying them; a
//! file vigil writes from such text reads back as exactly what was meant.

use super::*;

/// A clipboard write (OSC 52), a window title, a screen clear, a carriage
/// return that would overwrite the line, a bell, a bidi override.
pub const HOSTILE: &str =
    "ok\u{1b}]52;c;cGF5bG9hZA==\u{7}\u{1b}]0;pwned\u{7}\u{1b}[2J\rX\u{202e}Y\u{85}";

/// Whether `text` holds anything a terminal would obey.
fn obeyed(text: &str) -> Option<char> {
    text.chars().find(|c| {
        matches!(
            c,
            '\u{1b}' | '\u{7}' | '\r' | '\u{202e}' | '\u{85}' | '\u{9b}'
        )
    })
}

fn assert_escaped(what: &str, o: &Output) {
    let text = printed(o);
    if let Some(c) = obeyed(&text) {
        panic!("{what}: printed {c:?} raw:\n{text:?}");
    }
    assert!(
        text.contains("\\u{1b}"),
        "{what}: the hostile text was printed, escaped:\n{text}"
    );
}

/// A `vigil run -o json` report whose tests, components and findings carry
/// the hostile text, with one test failing.
fn hostile_report(dir: &Path, name: &str, fail: bool) -> PathBuf {
    let evil = serde_json::to_string(HOSTILE).unwrap();
    let test = serde_json::to_string(&format!(
        "[Monitor:ha-compliance] workloads in ns/x should have at least two replicas {HOSTILE}"
    ))
    .unwrap();
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            r#"{{"schema_version":1,"vigil_version":"0.1.0","now":"2026-11-21T12:00:00Z","meta":[],
"tests":[{{"name":{test},"monitor":"ha-compliance","check":"ha/replicas","component":{evil},"outcome":"{}","findings":[{{"check":"ha/replicas","kind":"Deployment","name":{evil},"detail":{evil},"outcome":"fail","disposition":{{"type":"new"}}}}]}}],
"stale_exceptions":[]}}"#,
            if fail { "fail" } else { "pass" }
        ),
    )
    .unwrap();
    p
}

/// Every command that prints text from outside, with a hostile input.
#[test]
fn every_command_printing_outside_text_escapes_it() {
    let d = tempfile::tempdir().unwrap();
    // run: event messages from the cluster.
    let events = d.path().join("state.yaml");
    let evil_yaml = serde_json::to_string(HOSTILE).unwrap();
    std::fs::write(
        &events,
        format!("kind: Event\nmetadata: {{name: e, namespace: ns}}\ninvolvedObject: {{kind: Pod, name: p, namespace: ns}}\nreason: BackOff\nmessage: {evil_yaml}\ntype: Warning\ncount: 40\nlastTimestamp: \"2026-11-21T11:59:00Z\"\n---\nkind: Pod\nmetadata: {{name: p, namespace: ns}}\nspec: {{nodeName: n}}\nstatus: {{phase: Running}}\n"),
    )
    .unwrap();
    let run = vigil_cmd(&[
        "run",
        "--from",
        events.to_str().unwrap(),
        "--no-junit",
        "--now",
        NOW,
    ])
    .output()
    .unwrap();
    assert_escaped("run", &run);

    // diff and report: reports from a CI artifact store.
    let before = hostile_report(d.path(), "before.json", false);
    let after = hostile_report(d.path(), "after.json", true);
    let diff = vigil_cmd(&["diff", before.to_str().unwrap(), after.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(diff.status.code(), Some(1), "{}", printed(&diff));
    assert_escaped("diff", &diff);
    let report = vigil_cmd(&["report", after.to_str().unwrap()])
        .output()
        .unwrap();
    assert_escaped("report", &report);
    let report_json = vigil_cmd(&["report", after.to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    assert!(obeyed(&printed(&report_json)).is_none(), "report -o json");
    let back: serde_json::Value = serde_json::from_slice(&report_json.stdout).unwrap();
    assert_eq!(
        back["matrix"][0]["component"], HOSTILE,
        "JSON escapes, the value is intact"
    );

    // lint: a pull request's exception file.
    let ex = d.path().join("exceptions");
    std::fs::create_dir(&ex).unwrap();
    std::fs::write(
        ex.join("team.yaml"),
        format!("component: Team\nnamespaces: [ns]\nexceptions:\n  - check: ha/replicas\n    jira: OCPBUGS-1\n    {HOSTILE}: 1\n"),
    )
    .unwrap();
    let lint = vigil_cmd(&["exceptions", "lint", ex.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(lint.status.code(), Some(1), "{}", printed(&lint));
    assert_escaped("lint", &lint);
    for format in ["github", "json", "sarif"] {
        let o = vigil_cmd(&["exceptions", "lint", ex.to_str().unwrap(), "-o", format])
            .output()
            .unwrap();
        assert!(
            obeyed(&printed(&o)).is_none(),
            "lint -o {format}: {}",
            printed(&o)
        );
    }

    // verify: a Jira ticket's status and summary.
    let jira = server::Server::start(|_| {
        let evil = serde_json::to_string(HOSTILE).unwrap();
        server::Reply::json(
            200,
            format!(
                r#"{{"fields":{{"status":{{"name":{evil},"statusCategory":{{"key":"done"}}}},"resolution":{{"name":"Won't Fix"}},"summary":{evil}}}}}"#
            ),
        )
    });
    let vex = d.path().join("verify");
    std::fs::create_dir(&vex).unwrap();
    std::fs::write(vex.join("team.yaml"), "component: Team\nnamespaces: [ns]\nexceptions:\n  - check: ha/replicas\n    jira: EVIL-1\n").unwrap();
    let verify = vigil_cmd(&[
        "exceptions",
        "verify",
        vex.to_str().unwrap(),
        "--jira-url",
        &jira.url,
    ])
    .output()
    .unwrap();
    assert_eq!(verify.status.code(), Some(1), "{}", printed(&verify));
    assert_escaped("verify", &verify);

    // suggest: the comment quotes the cluster's event message.
    let sex = d.path().join("suggest");
    let suggest = vigil_cmd(&[
        "exceptions",
        "suggest",
        "--from",
        events.to_str().unwrap(),
        "--exceptions",
        sex.to_str().unwrap(),
        "--stdout",
        "--now",
        NOW,
    ])
    .output()
    .unwrap();
    assert_eq!(suggest.status.code(), Some(0), "{}", printed(&suggest));
    assert_escaped("suggest", &suggest);
}

/// The version the API server reports is printed by `vigil snapshot` and
/// in every live run's header.
#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn what_the_api_server_says_of_itself_is_escaped() {
    let p = proxy();
    let evil = serde_json::to_string(HOSTILE).unwrap();
    p.on(
        "/version",
        proxy::Fault::Body(format!(
            r#"{{"major":"1","minor":"34","gitVersion":{evil}}}"#
        )),
    );
    let d = tempfile::tempdir().unwrap();
    let kubeconfig = p.kubeconfig(d.path());
    let snap = d.path().join("s.json");
    let o = vigil_cmd(&[
        "snapshot",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--to",
        snap.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", printed(&o));
    assert_escaped("snapshot", &o);
    let o = vigil_cmd(&[
        "run",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--no-junit",
        "--exceptions",
        "testdata/exceptions/demo",
    ])
    .output()
    .unwrap();
    assert_escaped("run (live)", &o);
}

/// A Warning event whose message holds a carriage return and YAML: the
/// suggested entries are exactly one per violation, none of them an
/// `allow`, and lint calls nothing shadowed.
#[test]
fn suggest_writes_files_that_read_back_as_meant() {
    let d = tempfile::tempdir().unwrap();
    let state = d.path().join("state.yaml");
    let injected = "crash\r  - check: health/events\r    allow: injected\r    approved-by: attacker\r\u{2028}  - check: ha/replicas\r    allow: x\r    approved-by: y";
    std::fs::write(
        &state,
        format!(
            "kind: Event\nmetadata: {{name: e, namespace: shop}}\ninvolvedObject: {{kind: Pod, name: web-1, namespace: shop}}\nreason: BackOff\nmessage: {}\ntype: Warning\ncount: 40\nlastTimestamp: \"2026-11-21T11:59:00Z\"\n---\nkind: Pod\nmetadata: {{name: web-1, namespace: shop}}\nspec: {{nodeName: n}}\nstatus: {{phase: Running}}\n",
            serde_json::to_string(injected).unwrap()
        ),
    )
    .unwrap();
    let ex = d.path().join("exceptions");
    std::fs::create_dir(&ex).unwrap();
    std::fs::write(
        ex.join("shop.yaml"),
        "component: Shop\nnamespaces: [shop]\nexceptions: []\n",
    )
    .unwrap();
    let o = vigil_cmd(&[
        "exceptions",
        "suggest",
        "--from",
        state.to_str().unwrap(),
        "--exceptions",
        ex.to_str().unwrap(),
        "--now",
        NOW,
    ])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", printed(&o));
    let text = std::fs::read_to_string(ex.join("shop.yaml")).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let entries = doc["exceptions"].as_array().unwrap();
    assert!(!entries.is_empty(), "{text}");
    for e in entries {
        assert!(e.get("allow").is_none(), "an injected allow: {text}");
        assert_eq!(e["jira"], "TODO");
    }
    // Lint sees the placeholders, and nothing else.
    let lint = vigil_cmd(&["exceptions", "lint", ex.to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&lint.stdout).unwrap();
    for d in report["diagnostics"].as_array().unwrap() {
        let m = d["message"].as_str().unwrap();
        assert!(!m.contains("shadowed"), "{m}");
    }
}

/// A ticket closed as won't fix, whose summary holds a newline, quotes and
/// control characters: `verify --write` turns the entry into an `allow`
/// whose text reads back exactly, and the file stays valid.
#[test]
fn verify_write_keeps_the_file_valid_whatever_the_summary() {
    let summary =
        "won't fix: \"quoted\"\n  - check: ha/pdb\n    allow: injected\n\u{1b}[2J\u{85}end";
    let jira = server::Server::start(move |_| {
        server::Reply::json(
            200,
            format!(
                r#"{{"fields":{{"status":{{"name":"Closed","statusCategory":{{"key":"done"}}}},"resolution":{{"name":"Won't Fix"}},"summary":{}}}}}"#,
                serde_json::to_string(summary).unwrap()
            ),
        )
    });
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("team.yaml"),
        "component: Team\nnamespaces: [ns]\nexceptions:\n  - check: ha/replicas\n    object: Deployment/d\n    jira: WONT-1\n    reason: one replica\n",
    )
    .unwrap();
    let o = vigil_cmd(&[
        "exceptions",
        "verify",
        d.path().to_str().unwrap(),
        "--jira-url",
        &jira.url,
        "--write",
    ])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", printed(&o));
    let text = std::fs::read_to_string(d.path().join("team.yaml")).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let entries = doc["exceptions"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{text}");
    let allow = entries[0]["allow"].as_str().unwrap();
    assert!(allow.ends_with(summary), "{allow:?}");
    assert!(
        obeyed(&text).is_none(),
        "written raw into the file: {text:?}"
    );
}

#[test]
fn sarif_names_a_file_by_a_uri_that_reads_back_as_that_file() {
    let d = tempfile::tempdir().unwrap();
    let ex = d.path().join("exceptions");
    std::fs::create_dir(&ex).unwrap();
    // `#` starts a fragment and `%` an escape: unencoded, `a#frag.yaml` reads as `a`.
    std::fs::write(
        ex.join("a#frag 100%.yaml"),
        "component: Team\nnamespaces: [ns]\nexceptions:\n  - check: ha/nope\n    jira: OCPBUGS-1\n",
    )
    .unwrap();
    let o = vigil_cmd(&["exceptions", "lint", ex.to_str().unwrap(), "-o", "sarif"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", printed(&o));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uri.ends_with("/a%23frag%20100%25.yaml"), "{uri}");
}

/// The commands that read only their command line (`checks`,
/// `completions`, `man`): a refused value is shown, never obeyed (a
/// carriage return that would overwrite the line, an escape sequence), and
/// what they print holds no control character.
#[test]
fn checks_completions_and_man_show_hostile_arguments_and_print_clean_text() {
    for args in [
        &["checks", "-o", "json\rFAKE: all checks passed"][..],
        &["completions", "ba\rsh"][..],
        &["man", "ru\rn"][..],
        &["man", "no\u{1b}[2Jsuch"][..],
    ] {
        let o = vigil_cmd(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", printed(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains('\r') && !err.contains('\u{1b}'),
            "{args:?}: {err:?}"
        );
        assert!(err.starts_with("error: "), "{args:?}: {err:?}");
    }
    for args in [
        &["checks"][..],
        &["checks", "-o", "json"][..],
        &["completions", "bash"][..],
        &["man"][..],
        &["man", "watch"][..],
    ] {
        let o = vigil_cmd(args).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", printed(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(!out.is_empty(), "{args:?}");
        assert!(
            !out.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{args:?} prints a control character"
        );
    }
    // `checks -o json` is the list of every check, parseable.
    let o = vigil_cmd(&["checks", "-o", "json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "disruption/backends"));
}
