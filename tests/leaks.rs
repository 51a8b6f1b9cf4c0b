//! No credential reaches anything vigil prints or writes. Distinctive
//! canaries are planted in kubeconfigs, an exec credential plugin, a server
//! URL and the Jira token; every error path's stdout, stderr and JUnit is
//! searched for them.

mod common;

use common::*;
use std::path::Path;

const CANARIES: &[&str] = &[
    "CANARYtokenA1b2C3",
    "CANARYsecretD4e5F6",
    "CANARYenvG7h8I9",
    "CANARYoutputJ1k2L3",
    "CANARYpasswordM4n5",
    "CANARYjiraP7q8R9",
];

/// Runs vigil and returns everything it said and wrote.
fn everything(args: &[&str], envs: &[(&str, &str)]) -> (Option<i32>, String) {
    let d = tempfile::tempdir().unwrap();
    let junit = d.path().join("junit");
    let mut all: Vec<&str> = args.to_vec();
    let j = junit.to_str().unwrap().to_owned();
    if args.first() == Some(&"run") {
        all.extend(["--junit-dir", &j]);
    }
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(&all)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let mut text = format!("{}\n{}", stdout(&out), stderr(&out));
    if junit.is_dir() {
        for f in std::fs::read_dir(&junit).unwrap() {
            text.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
        }
    }
    (out.status.code(), text)
}

fn assert_no_canary(what: &str, text: &str) {
    for c in CANARIES {
        assert!(!text.contains(c), "{what} leaks {c}:\n{text}");
    }
}

/// An exceptions directory whose one entry names ticket TEAM-1.
fn one_ticket() -> tempfile::TempDir {
    let ex = tempfile::tempdir().unwrap();
    std::fs::write(
        ex.path().join("team.yaml"),
        "component: Team\nnamespaces: [a]\nexceptions:\n  - check: ha/replicas\n    jira: TEAM-1\n",
    )
    .unwrap();
    ex
}

fn kubeconfig(dir: &Path, server: &str, user: &str) -> std::path::PathBuf {
    let p = dir.join("kubeconfig");
    std::fs::write(
        &p,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: '{server}', insecure-skip-tls-verify: true}}\nusers:\n- name: u\n  user:\n{user}contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    p
}

#[test]
fn a_kubeconfig_yaml_error_does_not_quote_the_token_line() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("kubeconfig");
    std::fs::write(
        &p,
        "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: CANARYtokenA1b2C3 [unclosed\n   bad: {\n",
    )
    .unwrap();
    let (code, text) = everything(&["run", "--kubeconfig", p.to_str().unwrap()], &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("not valid kubeconfig YAML at line"), "{text}");
    assert_no_canary("a kubeconfig YAML error", &text);
}

#[test]
fn a_failing_exec_plugin_shows_neither_its_arguments_nor_its_output() {
    let d = tempfile::tempdir().unwrap();
    let plugin = d.path().join("oidc-login");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho \"using $1 and $MY_SECRET\" >&2\necho 'token CANARYoutputJ1k2L3'\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let user = format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      args: ['--oidc-client-secret=CANARYsecretD4e5F6']\n      env: [{{name: MY_SECRET, value: CANARYenvG7h8I9}}]\n      interactiveMode: Never\n",
        plugin.display()
    );
    let k = kubeconfig(d.path(), "https://127.0.0.1:1", &user);
    let (code, text) = everything(&["run", "--kubeconfig", k.to_str().unwrap()], &[]);
    assert_eq!(
        code,
        Some(2),
        "a credential problem is configuration: {text}"
    );
    assert!(
        text.contains("the exec credential plugin `oidc-login` of user \"u\" failed"),
        "{text}"
    );
    assert_no_canary("a failing exec plugin", &text);
}

#[test]
fn a_password_in_the_server_url_and_a_token_stay_out_of_errors() {
    let d = tempfile::tempdir().unwrap();
    let k = kubeconfig(
        d.path(),
        "https://admin:CANARYpasswordM4n5@127.0.0.1:1",
        "    token: CANARYtokenA1b2C3\n",
    );
    let (code, text) = everything(
        &[
            "run",
            "--kubeconfig",
            k.to_str().unwrap(),
            "--request-timeout",
            "1",
        ],
        &[],
    );
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("did not answer"), "{text}");
    assert_no_canary("an unreachable server", &text);
}

#[test]
fn a_token_is_never_sent_over_plain_http_to_another_machine() {
    let d = tempfile::tempdir().unwrap();
    // 192.0.2.0/24 is TEST-NET-1: nothing is there, and nothing is sent.
    let k = kubeconfig(
        d.path(),
        "http://192.0.2.1:8080",
        "    token: CANARYtokenA1b2C3\n",
    );
    let (code, text) = everything(&["run", "--kubeconfig", k.to_str().unwrap()], &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("refusing to send credentials over plain http://"),
        "{text}"
    );
    assert_no_canary("plain http", &text);
    let ex = one_ticket();
    let (code, text) = everything(
        &[
            "exceptions",
            "verify",
            ex.path().to_str().unwrap(),
            "--jira-url",
            "http://192.0.2.1",
        ],
        &[("JIRA_TOKEN", "CANARYjiraP7q8R9")],
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("refusing to send the token in $JIRA_TOKEN over plain http://"),
        "{text}"
    );
    assert_no_canary("verify over plain http", &text);
}

#[test]
fn an_unreachable_jira_does_not_echo_the_token() {
    let ex = one_ticket();
    let (code, text) = everything(
        &[
            "exceptions",
            "verify",
            ex.path().to_str().unwrap(),
            "--jira-url",
            "https://127.0.0.1:1",
            "--timeout",
            "2",
        ],
        &[("JIRA_TOKEN", "CANARYjiraP7q8R9")],
    );
    assert_eq!(code, Some(3), "{text}");
    assert_no_canary("verify against a closed port", &text);
}
