//! Never a false green, always a result: every input that used to pass on
//! no data, hang, or end without a JUnit file, through the real binary.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HA: &str = "testdata/states/ha-cluster";

/// Runs vigil with a fresh JUnit dir; returns the output and the outcomes.
fn run(args: &[&str]) -> (std::process::Output, Suite) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let mut all = args.to_vec();
    all.extend(["--junit-dir", &d, "--now", NOW]);
    let out = vigil(&all);
    let xml = std::fs::read_to_string(junit_file(dir.path())).unwrap();
    (out, parse_junit(&xml).remove(0))
}

fn case<'a>(suite: &'a Suite, needle: &str) -> &'a Case {
    let hits: Vec<_> = suite
        .cases
        .iter()
        .filter(|c| c.name.contains(needle))
        .collect();
    assert_eq!(hits.len(), 1, "one case matches {needle:?}: {hits:?}");
    hits[0]
}

fn failure(suite: &Suite, needle: &str) -> String {
    let c = case(suite, needle);
    let (m, b) = c
        .failure
        .clone()
        .unwrap_or_else(|| panic!("{needle} fails: {c:?}"));
    format!("{m}\n{b}")
}

/// Only vigil's own tests, no check judged.
fn only_meta(suite: &Suite) -> bool {
    suite
        .cases
        .iter()
        .all(|c| c.name.starts_with("[Monitor:vigil]"))
}

#[test]
fn an_empty_directory_is_not_a_healthy_cluster() {
    let d = tempfile::tempdir().unwrap();
    let (out, suite) = run(&["run", "--from", d.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let why = failure(&suite, "cluster state should be collected");
    assert!(
        why.contains("no Pod, Node or workload (Deployment, StatefulSet, DaemonSet) was found"),
        "{why}"
    );
    assert!(
        only_meta(&suite),
        "nothing judged on nothing: {:?}",
        suite.cases
    );
    assert!(!stdout(&out).starts_with("PASS"));
}

#[test]
fn yaml_that_is_not_kubernetes_is_not_a_healthy_cluster() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("workflow.yaml"),
        "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("list.json"),
        r#"{"kind":"List","items":[{"metadata":{"name":"x"}},{"metadata":{"name":"y"}}]}"#,
    )
    .unwrap();
    let (out, suite) = run(&["run", "--from", d.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let why = failure(&suite, "cluster state should be collected");
    assert!(why.contains("2 state files read"), "{why}");
    assert!(why.contains("3 documents without `kind`"), "{why}");
    assert!(only_meta(&suite));
}

#[test]
fn a_broken_archive_is_named_not_taken_for_an_empty_cluster() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("must-gather.tar.gz"), b"\x1f\x8b not really").unwrap();
    let (out, suite) = run(&["run", "--from", d.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let why = failure(&suite, "cluster state should be collected");
    assert!(
        why.contains("must-gather.tar.gz: not read: not a readable tar archive"),
        "{why}"
    );
    assert!(only_meta(&suite));
}

/// A must-gather as CI hands it over, compressed, judges exactly as the
/// directory it was made from.
#[test]
fn a_must_gather_archive_judges_as_its_directory() {
    let d = tempfile::tempdir().unwrap();
    let mg = d.path().join("must-gather");
    let ns = mg.join("quay-io-image/namespaces/shop");
    std::fs::create_dir_all(ns.join("apps")).unwrap();
    std::fs::create_dir_all(ns.join("core")).unwrap();
    std::fs::copy(
        "testdata/states/broken-infra/ci-infra.yaml",
        ns.join("core/pods.yaml"),
    )
    .unwrap();
    std::fs::write(
        mg.join("quay-io-image/timestamp"),
        "2026-11-21 12:00:00.000 +0000 UTC m=+0.1\n",
    )
    .unwrap();
    std::fs::write(
        ns.join("core/secrets.yaml"),
        "kind: SecretList\nitems: [{kind: Secret, data: {token: c2VjcmV0}}]\n",
    )
    .unwrap();
    for (flag, name) in [
        ("-czf", "mg.tar.gz"),
        ("-cJf", "mg.tar.xz"),
        ("-cf", "mg.tar"),
    ] {
        let archive = d.path().join(name);
        let ok = std::process::Command::new("tar")
            .args([
                flag,
                archive.to_str().unwrap(),
                "-C",
                d.path().to_str().unwrap(),
                "must-gather",
            ])
            .status()
            .unwrap();
        assert!(ok.success());
        let from_dir = vigil(&[
            "run",
            "--no-junit",
            "-o",
            "json",
            "--from",
            mg.to_str().unwrap(),
        ]);
        let from_archive = vigil(&[
            "run",
            "--no-junit",
            "-o",
            "json",
            "--from",
            archive.to_str().unwrap(),
        ]);
        let tests = |o: &std::process::Output| {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            (v["tests"].clone(), v["now"].clone(), v["summary"].clone())
        };
        assert_eq!(
            from_archive.status.code(),
            from_dir.status.code(),
            "{name}: {}",
            stderr(&from_archive)
        );
        assert_eq!(tests(&from_archive), tests(&from_dir), "{name}");
        assert_eq!(
            tests(&from_archive).1,
            "2026-11-21T12:00:00Z",
            "{name}: the timestamp inside is read"
        );
    }
}

#[test]
fn a_namespace_filter_matching_nothing_is_an_error() {
    let (out, suite) = run(&["run", "--from", HA, "--namespace", "bill"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let why = failure(&suite, "cluster state should be collected");
    assert!(
        why.contains("--namespace \"bill\" matches none of the 5 namespaces in the state; did you mean \"billing\"?"),
        "{why}"
    );
    assert!(stderr(&out).contains("matches none of the 5 namespaces"));
}

#[test]
fn objects_without_a_namespace_land_in_default() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("deploy.yaml");
    std::fs::write(
        &f,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers: [{name: web, image: nginx}]\n",
    )
    .unwrap();
    let (out, suite) = run(&["run", "--from", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let why = failure(
        &suite,
        "workloads in ns/default should have at least two replicas",
    );
    assert!(why.contains("Deployment/web: spec.replicas=1"), "{why}");
}

#[test]
fn every_report_says_which_exceptions_were_used() {
    let (out, suite) = run(&[
        "run",
        "--from",
        HA,
        "--exceptions",
        "testdata/exceptions/demo",
    ]);
    let c = case(&suite, "exceptions should be valid");
    assert_eq!(
        c.system_out.as_deref(),
        Some("exceptions: testdata/exceptions/demo (3 component files, 5 entries)")
    );
    assert!(stdout(&out)
        .contains("exceptions: testdata/exceptions/demo (3 component files, 5 entries)"));
    // Run from a directory without ./exceptions: the report says none was used.
    let d = tempfile::tempdir().unwrap();
    let state = Path::new(env!("CARGO_MANIFEST_DIR")).join(HA);
    let out = Command::new(BIN)
        .args(["run", "--no-junit", "-o", "json", "--from"])
        .arg(&state)
        .current_dir(d.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["exceptions"]
            .as_str()
            .unwrap()
            .starts_with("none (no --exceptions given and exceptions does not exist)"),
        "{}",
        json["exceptions"]
    );
}

#[test]
fn a_truncated_file_among_many_fails_collection_and_the_rest_is_judged() {
    let d = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(HA).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, d.path().join(f.file_name().unwrap())).unwrap();
    }
    let broken = d.path().join("storefront.yaml");
    let text = std::fs::read_to_string(&broken).unwrap();
    std::fs::write(&broken, &text[..text.len() / 2 + 7]).unwrap();
    let (out, suite) = run(&["run", "--from", d.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let why = failure(&suite, "cluster state should be collected");
    let named = regex::Regex::new(&format!(
        r"{}:\d+:\d+: ",
        regex::escape(broken.to_str().unwrap())
    ))
    .unwrap();
    assert!(named.is_match(&why), "names file:line:column: {why}");
    // The other files were judged: billing's findings are there.
    assert!(failure(
        &suite,
        "ns/catalog should be covered by a pod disruption budget"
    )
    .contains("Deployment/search"),);
}

#[test]
fn symlink_loops_fifos_and_devices_do_not_hang() {
    use std::os::unix::fs::symlink;
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("state");
    std::fs::create_dir(&root).unwrap();
    std::fs::copy(
        Path::new(HA).join("catalog.json"),
        root.join("catalog.json"),
    )
    .unwrap();
    symlink(".", root.join("loop-a")).unwrap();
    symlink("..", root.join("loop-b")).unwrap();
    symlink("/dev/zero", root.join("zero.yaml")).unwrap();
    let fifo = root.join("pipe.yaml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let started = Instant::now();
    let (out, suite) = run(&["run", "--from", root.to_str().unwrap()]);
    assert!(started.elapsed() < Duration::from_secs(20), "no hang");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let why = failure(&suite, "cluster state should be collected");
    assert!(why.contains("pipe.yaml: not read: a FIFO"), "{why}");
    assert!(
        why.contains("zero.yaml: not read: a symbolic link to a path outside"),
        "{why}"
    );
    // catalog.json was read once, not once per loop.
    assert!(stdout(&out).contains("1 file from"), "{}", stdout(&out));
    assert!(!only_meta(&suite));
}

#[test]
fn a_fifo_named_policy_yaml_does_not_hang() {
    let ex = tempfile::tempdir().unwrap();
    let fifo = ex.path().join("policy.yaml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let started = Instant::now();
    let (out, suite) = run(&[
        "run",
        "--from",
        HA,
        "--exceptions",
        ex.path().to_str().unwrap(),
    ]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(2));
    assert!(failure(&suite, "exceptions should be valid").contains("not a regular file"));
}

#[test]
fn links_out_of_the_tree_are_not_followed_and_never_quoted() {
    use std::os::unix::fs::symlink;
    let secret = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ2aWdpbC1jYW5hcnkifQ.Y2FuYXJ5LXNpZ25hdHVyZQ";
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("token"), secret).unwrap();
    let tree = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(HA).join("catalog.json"),
        tree.path().join("catalog.json"),
    )
    .unwrap();
    symlink(outside.path().join("token"), tree.path().join("token.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = vigil(&[
        "run",
        "--from",
        tree.path().to_str().unwrap(),
        "--junit-dir",
        dir.path().to_str().unwrap(),
    ]);
    let xml = std::fs::read_to_string(junit_file(dir.path())).unwrap();
    for text in [stdout(&out), stderr(&out), xml.clone()] {
        assert!(!text.contains("eyJzdWIiOiJ2aWdpbC1jYW5hcnkifQ"), "{text}");
    }
    assert!(xml.contains("token.yaml: not read: a symbolic link to a path outside the --from tree"));
    // Named explicitly, the file is read (the user said so), and its content
    // still never quoted.
    let out = vigil(&[
        "run",
        "--no-junit",
        "--from",
        outside.path().join("token").to_str().unwrap(),
    ]);
    assert!(
        !stderr(&out).contains("eyJzdWIiOiJ2aWdpbC1jYW5hcnkifQ"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_decompression_bomb_is_refused_within_the_limit() {
    use std::io::Write;
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("pods.json.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&f).unwrap(),
        flate2::Compression::best(),
    );
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..3 {
        gz.write_all(&zeros).unwrap();
    }
    gz.finish().unwrap();
    let (out, suite) = run(&["run", "--from", f.to_str().unwrap(), "--max-file-mib", "2"]);
    assert_eq!(out.status.code(), Some(2));
    let why = failure(&suite, "cluster state should be collected");
    assert!(
        why.contains("pods.json.gz: larger than the 2 MiB limit on input files (--max-file-mib)"),
        "{why}"
    );
}

#[test]
fn usage_errors_still_write_the_junit() {
    for (args, says) in [
        (
            vec!["--topology", "triple"],
            "invalid value 'triple' for '--topology",
        ),
        (vec!["--now", "yesterday"], "not an RFC 3339 time"),
        (
            vec!["--namespace", "("],
            "'--namespace <REGEX>': not a valid regex",
        ),
        (
            vec!["--request-timeout", "18446744073709551615"],
            "--request-timeout",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut all = vec![
            "run",
            "--from",
            HA,
            "--junit-dir",
            dir.path().to_str().unwrap(),
        ];
        all.extend(args.iter().copied());
        let out = vigil(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let suite =
            parse_junit(&std::fs::read_to_string(junit_file(dir.path())).unwrap()).remove(0);
        let why = failure(&suite, "run should complete");
        assert!(why.contains("usage error, nothing was judged"), "{why}");
        assert!(why.contains(says), "{args:?}: {why}");
        assert!(only_meta(&suite));
    }
}

/// A server that accepts connections and never answers.
fn black_hole() -> (std::net::TcpListener, tempfile::TempDir, std::path::PathBuf) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let d = tempfile::tempdir().unwrap();
    let kubeconfig = d.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\nusers:\n- name: u\n  user: {{token: black-hole-token}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    (listener, d, kubeconfig)
}

#[test]
fn sigterm_writes_the_junit_saying_so() {
    let (listener, _d, kubeconfig) = black_hole();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["run", "--kubeconfig"])
        .arg(&kubeconfig)
        .arg("--junit-dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once vigil has connected, it is collecting (its guard is installed
    // before anything else): then the CI timeout's SIGTERM arrives.
    listener.set_nonblocking(true).unwrap();
    let waited = Instant::now();
    let _conn = loop {
        match listener.accept() {
            Ok((c, _)) => break c,
            Err(_) if waited.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => panic!("vigil never connected: {e}"),
        }
    };
    std::thread::sleep(Duration::from_millis(200));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "exits at once");
    assert_eq!(status.code(), Some(128 + 15));
    let suite = parse_junit(&std::fs::read_to_string(junit_file(dir.path())).unwrap()).remove(0);
    let why = failure(&suite, "run should complete");
    assert!(
        why.contains("interrupted by SIGTERM after")
            && why.contains("while collecting the cluster state"),
        "{why}"
    );
    assert_eq!(
        case(&suite, "cluster should be reachable")
            .skipped
            .as_deref(),
        Some("not reached: the run did not complete")
    );
}

#[test]
fn the_deadline_ends_a_hung_run_with_a_result() {
    let (_listener, _d, kubeconfig) = black_hole();
    let started = Instant::now();
    let (out, suite) = run(&[
        "run",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--deadline",
        "2",
    ]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let why = failure(&suite, "run should complete");
    assert!(why.contains("did not finish within --deadline 2s"), "{why}");
}

#[test]
fn escape_sequences_from_the_cluster_do_not_reach_the_terminal() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("events.yaml");
    let mut doc = String::new();
    for i in 0..2 {
        doc.push_str(&format!(
            "---\nkind: Event\nmetadata: {{name: e{i}, namespace: ns}}\ninvolvedObject: {{kind: Pod, name: p, namespace: ns}}\nreason: BackOff\nmessage: \"\\e[2J\\e]52;c;Y2xpcGJvYXJk\\a cleared\"\ntype: Warning\ncount: 30\n"
        ));
    }
    doc.push_str("---\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec: {nodeName: n}\nstatus: {phase: Running}\n");
    std::fs::write(&f, doc).unwrap();
    let out = vigil(&[
        "run",
        "--no-junit",
        "--from",
        f.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(!text.contains('\u{7}'), "{text:?}");
    assert!(text.contains("\\u{1b}[2J"), "{text}");
}

/// Judges the HA state with one exception entry carrying `field` (line 5 of team.yaml).
fn run_with_entry_field(field: &str) -> (std::process::Output, Suite) {
    let ex = tempfile::tempdir().unwrap();
    std::fs::write(
        ex.path().join("team.yaml"),
        format!("component: Team\nnamespaces: [billing]\nexceptions:\n  - check: ha/replicas\n    {field}\n    jira: TEAM-1\n"),
    )
    .unwrap();
    run(&[
        "run",
        "--from",
        HA,
        "--exceptions",
        ex.path().to_str().unwrap(),
    ])
}

#[test]
fn an_enormous_glob_is_rejected_not_a_crash() {
    let (out, suite) = run_with_entry_field(&format!("namespace: \"{}\"", "*a".repeat(200_000)));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let why = failure(&suite, "exceptions should be valid");
    assert!(why.contains("team.yaml:5:"), "{why}");
    assert!(
        why.contains("namespace glob is 400000 characters long; at most 1024 are accepted"),
        "{why}"
    );
    assert_eq!(case(&suite, "run should complete").failure, None);
}

#[test]
fn an_unknown_context_is_a_configuration_error() {
    let (_listener, _d, kubeconfig) = black_hole();
    let (out, suite) = run(&[
        "run",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--context",
        "prod",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let why = failure(&suite, "cluster should be reachable");
    assert!(why.contains("it has no context \"prod\""), "{why}");
}

#[test]
fn globs_the_glob_engine_cannot_compile_are_errors_not_crashes() {
    for glob in [
        "{".repeat(300) + "a" + &"}".repeat(300),
        "{a,".repeat(200) + &"}".repeat(200),
    ] {
        let (out, suite) = run_with_entry_field(&format!("object: \"Deployment/{glob}\""));
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let why = failure(&suite, "exceptions should be valid");
        assert!(why.contains("team.yaml:5:"), "{why}");
        assert!(
            why.len() < 2000,
            "the glob is not quoted whole: {} bytes",
            why.len()
        );
    }
}
