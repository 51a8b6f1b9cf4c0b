//! Credentials: one outbound policy. The Jira token never goes over plain
//! http (whatever the case of the scheme) except to this machine, never
//! through a proxy in clear, never into any output or file, even when Jira
//! echoes it back; Jira requests are retried like every other request.

use super::*;

const TOKEN: &str = "CANARYjiraTOKEN42";

fn exceptions(keys: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let mut text = "component: Team\nnamespaces: [ns]\nexceptions:\n".to_owned();
    for (i, k) in keys.iter().enumerate() {
        text.push_str(&format!(
            "  - check: ha/replicas\n    object: Deployment/d{i}\n    jira: {k}\n"
        ));
    }
    std::fs::write(d.path().join("team.yaml"), text).unwrap();
    d
}

fn verify(dir: &Path, url: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = vigil_cmd(&[
        "exceptions",
        "verify",
        dir.to_str().unwrap(),
        "--jira-url",
        url,
    ]);
    c.args(extra).env("JIRA_TOKEN", TOKEN);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn the_token_never_goes_over_plain_http_to_another_machine() {
    let d = exceptions(&["OPEN-1"]);
    for url in [
        "HTTP://jira.example.com",
        "http://jira.example.com",
        "Http://10.1.2.3:8080/jira",
    ] {
        let o = verify(d.path(), url, &[], &[]);
        assert_eq!(o.status.code(), Some(2), "{url}: {}", printed(&o));
        assert!(
            printed(&o).contains("refusing to send the token in $JIRA_TOKEN over plain http://"),
            "{}",
            printed(&o)
        );
        assert!(!printed(&o).contains(TOKEN));
    }
}

/// Plain http to this machine is allowed, but never through a proxy: the
/// proxy would read the token.
#[test]
fn a_proxy_never_sees_the_token_over_plain_http() {
    let proxy_seen = server::Server::start(|_| server::Reply::json(502, "{}"));
    let jira = server::Server::start(|_| {
        server::Reply::json(
            200,
            r#"{"fields":{"status":{"name":"Open","statusCategory":{"key":"new"}},"resolution":null,"summary":"s"}}"#,
        )
    });
    let d = exceptions(&["OPEN-1"]);
    let o = verify(
        d.path(),
        &jira.url,
        &[],
        &[
            ("HTTP_PROXY", &proxy_seen.url),
            ("http_proxy", &proxy_seen.url),
            ("ALL_PROXY", &proxy_seen.url),
        ],
    );
    assert!(
        proxy_seen.requests().is_empty(),
        "{:?}",
        proxy_seen.requests()
    );
    let asked = jira.requests();
    assert_eq!(asked.len(), 1, "{}", printed(&o));
    assert_eq!(
        asked[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

/// A Jira (or a proxy in front of it) that echoes the Authorization header
/// in its answer: the token is in no output, and not in the file `--write`
/// edits.
#[test]
fn an_echoed_token_is_masked_everywhere_files_included() {
    let jira = server::Server::start(|req| {
        let auth = req.header("authorization").unwrap_or("").to_owned();
        let echoed = serde_json::to_string(&auth).unwrap();
        server::Reply::json(
            200,
            format!(
                r#"{{"fields":{{"status":{{"name":{echoed},"statusCategory":{{"key":"done"}}}},"resolution":{{"name":"Won't Fix"}},"summary":{echoed},"description":{echoed}}}}}"#
            ),
        )
    });
    let d = exceptions(&["ECHO-1"]);
    for extra in [&[][..], &["-o", "json"][..], &["--write"][..]] {
        let o = verify(d.path(), &jira.url, extra, &[]);
        assert!(!printed(&o).contains(TOKEN), "{extra:?}: {}", printed(&o));
    }
    let written = std::fs::read_to_string(d.path().join("team.yaml")).unwrap();
    assert!(written.contains("allow:"), "{written}");
    assert!(!written.contains(TOKEN), "{written}");
    assert!(written.contains("[redacted]"), "{written}");
}

/// 429 with Retry-After, then a 503, then the answer: one retry policy for
/// every request, Jira's too.
#[test]
fn jira_requests_are_retried_like_every_request() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = calls.clone();
    let jira = server::Server::start(move |_| {
        match c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 => server::Reply::Full(
                429,
                vec![("Retry-After".into(), "1".into())],
                b"slow down".to_vec(),
            ),
            1 => server::Reply::json(503, "{}"),
            _ => server::Reply::json(
                200,
                r#"{"fields":{"status":{"name":"Open","statusCategory":{"key":"new"}},"resolution":null,"summary":"[Monitor:ha-compliance] workloads in ns/ns should have at least two replicas"}}"#,
            ),
        }
    });
    let d = exceptions(&["OPEN-1"]);
    let started = std::time::Instant::now();
    let o = verify(d.path(), &jira.url, &["--timeout", "5"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", printed(&o));
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was honoured"
    );
}
