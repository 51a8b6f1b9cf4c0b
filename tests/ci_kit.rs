//! The CI kit in deploy/ci, run as far as it can be here: each example's
//! script against a real kube-apiserver, with the environment its CI system
//! gives it. Plus the kubectl plugin, completions and the man page.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_vigil"))
        .parent()
        .unwrap()
        .to_owned()
}

fn path_with_vigil() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn script(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn junit_suite(dir: &Path) -> String {
    let xml = std::fs::read_to_string(junit_file(dir)).unwrap();
    let suites = parse_junit(&xml);
    assert_eq!(suites.len(), 1);
    assert!(suites[0]
        .cases
        .iter()
        .any(|c| c.name == "[Monitor:vigil] cluster should be reachable"));
    suites[0].name.clone()
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn openshift_step_and_observer_write_junit_where_sippy_reads_it() {
    let cp = start();
    let admin = cp.admin_kubeconfig().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (artifacts, shared) = (work.path().join("artifacts"), work.path().join("shared"));
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::copy(&admin, shared.join("kubeconfig")).unwrap();

    // The post step.
    let out = Command::new("bash")
        .arg(script("deploy/ci/openshift/vigil/vigil-commands.sh"))
        .env("PATH", path_with_vigil())
        .env("ARTIFACT_DIR", &artifacts)
        .env("SHARED_DIR", &shared)
        .env_remove("KUBECONFIG")
        .env("VIGIL_PROFILE", "generic")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(junit_suite(&artifacts.join("junit")), "Symptom Detection");
    assert!(artifacts.join("vigil-state.json.gz").exists());

    // The observer: started before the cluster's kubeconfig exists, stopped by SIGTERM.
    let artifacts = work.path().join("artifacts-observer");
    let shared = work.path().join("shared-observer");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::create_dir_all(&shared).unwrap();
    let mut child = Command::new("bash")
        .arg(script(
            "deploy/ci/openshift/vigil-watch/vigil-watch-commands.sh",
        ))
        .env("PATH", path_with_vigil())
        .env("ARTIFACT_DIR", &artifacts)
        .env("SHARED_DIR", &shared)
        .env_remove("KUBECONFIG")
        .env("VIGIL_PROFILE", "generic")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(child.stderr.take().unwrap());
    std::thread::sleep(Duration::from_secs(2));
    std::fs::copy(&admin, shared.join("kubeconfig")).unwrap();
    loop {
        let l = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the observer starts watching");
        if l.contains("watching pods and nodes") {
            break;
        }
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "SIGTERM ends the watch, not the judging"
    );
    assert_eq!(junit_suite(&artifacts.join("junit")), "Symptom Detection");
    assert!(artifacts.join("vigil-intervals.jsonl").exists());

    // The ref and observer name scripts that exist.
    for (yaml, key) in [
        ("deploy/ci/openshift/vigil/vigil-ref.yaml", "ref"),
        (
            "deploy/ci/openshift/vigil-watch/vigil-watch-observer.yaml",
            "observer",
        ),
    ] {
        let v: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(script(yaml)).unwrap()).unwrap();
        let commands = v[key]["commands"].as_str().unwrap();
        assert!(
            script(yaml).parent().unwrap().join(commands).exists(),
            "{yaml}: {commands}"
        );
    }
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn github_step_and_prow_periodic_run_against_a_real_api_server() {
    let cp = start();
    let admin = cp.admin_kubeconfig().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("vigil-results");
    let step = |what: &str| {
        Command::new("bash")
            .arg(script("deploy/ci/github/vigil-step.sh"))
            .arg(what)
            .env("VIGIL", env!("CARGO_BIN_EXE_vigil"))
            .env("OUT", &out_dir)
            .env("KUBECONFIG", &admin)
            .output()
            .unwrap()
    };
    let started = step("start");
    assert_eq!(
        started.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let stopped = step("stop");
    assert_eq!(
        stopped.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&stopped.stdout)
    );
    assert!(String::from_utf8_lossy(&stopped.stdout).contains("vigil watch: stopped"));
    assert_eq!(junit_suite(&out_dir.join("junit")), "Symptom Detection");
    // The workflow uses the action, whose steps run the script just run.
    let wf = std::fs::read_to_string(script("deploy/ci/github/vigil-kind.yaml")).unwrap();
    let v: serde_json::Value = serde_saphyr::from_str(&wf).unwrap();
    let commands: Vec<&str> = v["jobs"]["e2e"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("vigil-ci/vigil@"))
        })
        .filter_map(|s| s["with"]["command"].as_str())
        .collect();
    assert_eq!(commands, ["lint", "start", "stop"]);
    let action: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(script("action.yml")).unwrap()).unwrap();
    assert_eq!(action["runs"]["using"], "composite");
    let runs: Vec<&str> = action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("deploy/ci/github/action.sh\" \"$VIGIL_COMMAND\"")),
        "{runs:?}"
    );
    let action_step = |what: &str| {
        Command::new("bash")
            .arg(script("deploy/ci/github/action.sh"))
            .arg(what)
            .env("VIGIL", env!("CARGO_BIN_EXE_vigil"))
            .env("OUT", &out_dir)
            .env("KUBECONFIG", &admin)
            .output()
            .unwrap()
    };
    assert_eq!(action_step("start").status.code(), Some(0));
    let stopped = action_step("stop");
    assert_eq!(
        stopped.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&stopped.stdout)
    );

    // The periodic's container command, with Prow's $(ARTIFACTS) and the
    // in-cluster credentials replaced by this API server.
    let job: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(script("deploy/ci/prow/vigil-periodic.yaml")).unwrap(),
    )
    .unwrap();
    let c = &job["periodics"][0]["spec"]["containers"][0];
    assert_eq!(c["command"][0], "vigil");
    let artifacts = work.path().join("prow-artifacts");
    let empty = work.path().join("no-exceptions");
    std::fs::create_dir_all(&empty).unwrap();
    let mut args: Vec<String> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap()
                .replace("$(ARTIFACTS)", artifacts.to_str().unwrap())
                .replace("/etc/vigil/exceptions", empty.to_str().unwrap())
                .replace(
                    "--namespace=ci|ci-.*|test-pods|prow",
                    "--namespace=default|kube-.*",
                )
        })
        .collect();
    args.push(format!("--kubeconfig={}", admin.display()));
    let o = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(junit_suite(&artifacts.join("junit")), "Symptom Detection");
}

#[test]
fn kubectl_plugin_completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("kubectl-vigil");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_vigil"), &plugin).unwrap();
    // kubectl runs `kubectl-vigil <args>` for `kubectl vigil <args>`.
    let help = Command::new(&plugin)
        .args(["run", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("Usage: kubectl vigil run"), "{help}");
    // The examples too: every `vigil run` of the help text is `kubectl vigil run`.
    assert!(
        help.contains("kubectl vigil run --from must-gather/"),
        "{help}"
    );
    assert!(!help.contains("\n  vigil run"), "{help}");
    let run = Command::new(&plugin)
        .args([
            "run",
            "--from",
            "testdata/states/ha-cluster",
            "--exceptions",
            "testdata/exceptions/demo",
            "--no-junit",
            "-o",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let direct = vigil(&[
        "run",
        "--from",
        "testdata/states/ha-cluster",
        "--exceptions",
        "testdata/exceptions/demo",
        "--no-junit",
        "-o",
        "json",
    ]);
    assert_eq!(run.status.code(), direct.status.code());
    let tests = |o: &[u8]| serde_json::from_slice::<serde_json::Value>(o).unwrap()["tests"].clone();
    assert_eq!(tests(&run.stdout), tests(&direct.stdout));

    let bash = vigil(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let b = stdout(&bash);
    assert!(
        b.contains("complete -F _vigil") && b.contains("watch") && b.contains("--intervals"),
        "{b}"
    );
    let man = vigil(&["man"]);
    let m = stdout(&man);
    assert!(
        m.contains(".TH vigil 1") && m.contains("report") && m.contains("diff"),
        "{}",
        &m[..m.len().min(400)]
    );
    // A page per command, with its options and the exit statuses.
    let run_page = stdout(&vigil(&["man", "run"]));
    assert!(
        run_page.contains(".TH vigil-run 1"),
        "{}",
        &run_page[..run_page.len().min(300)]
    );
    assert!(run_page.contains("\\-\\-max\\-file\\-mib") && run_page.contains("128+N"));
    let lint_page = stdout(&vigil(&["man", "exceptions", "lint"]));
    assert!(lint_page.contains(".TH vigil-exceptions-lint 1"));
    let dir = tempfile::tempdir().unwrap();
    let o = vigil(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    for page in [
        "vigil.1",
        "vigil-run.1",
        "vigil-watch.1",
        "vigil-exceptions-verify.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page}");
    }
    let nope = vigil(&["man", "nope"]);
    assert_eq!(nope.status.code(), Some(2));
}

/// The action's steps outside GitHub, with the environment it gives them:
/// install (from the cache the action keeps: no network), run on a state,
/// lint into SARIF.
#[test]
fn github_action_installs_from_its_cache_runs_and_lints() {
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("tool-cache/vigil/v1");
    std::fs::create_dir_all(home.join("bin")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_vigil"), home.join("bin/vigil")).unwrap();
    let github_path = work.path().join("github-path");
    let out_dir = work.path().join("vigil-results");
    let action = |what: &str, env: &[(&str, &str)]| {
        let mut c = Command::new("bash");
        c.arg(script("deploy/ci/github/action.sh"))
            .arg(what)
            .env("VIGIL_HOME", &home)
            .env("VIGIL_VERSION", "v1")
            .env("GITHUB_PATH", &github_path)
            .env("OUT", &out_dir)
            .env("VIGIL", env!("CARGO_BIN_EXE_vigil"))
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let installed = action("install", &[]);
    assert_eq!(
        installed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&github_path).unwrap().trim(),
        home.join("bin").to_str().unwrap()
    );
    let ran = action(
        "run",
        &[
            (
                "VIGIL_ARGS",
                "--from testdata/states/ha-cluster --now 2026-11-21T12:00:00Z",
            ),
            ("VIGIL_EXCEPTIONS", "testdata/exceptions/demo"),
        ],
    );
    assert_eq!(
        ran.status.code(),
        Some(1),
        "the sample has new violations: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert_eq!(junit_suite(&out_dir.join("junit")), "Symptom Detection");
    let bad = work.path().join("bad-exceptions");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("team.yaml"),
        "component: Team\nnamespaces: [ns]\nexceptions:\n  - check: ha/nope\n    jira: OCPBUGS-1\n",
    )
    .unwrap();
    let linted = action("lint", &[("VIGIL_EXCEPTIONS", bad.to_str().unwrap())]);
    assert_eq!(linted.status.code(), Some(1));
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("vigil-lint.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        String::from_utf8_lossy(&linted.stdout).contains("unknown check id"),
        "{}",
        String::from_utf8_lossy(&linted.stdout)
    );
}

/// The workflow example passes actionlint (scripts/test builds it).
#[test]
#[ignore = "needs actionlint: scripts/test builds it (scripts/build-actionlint)"]
fn the_github_workflow_passes_actionlint() {
    let actionlint = std::env::var("VIGIL_ACTIONLINT")
        .expect("VIGIL_ACTIONLINT names actionlint (scripts/build-actionlint)");
    let o = Command::new(actionlint)
        .arg("-no-color")
        .arg(script("deploy/ci/github/vigil-kind.yaml"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
