//! `vigil watch --disruption` attacked: backends that never answer, answer
//! forever or hang up; a target that asks for credentials; a forged
//! intervals file that claims a backend was polled and saw nothing. Each is
//! bounded, judged, and never green on no data.

use super::*;
use server::{Reply, Server};

fn case<'a>(s: &'a Suite, needle: &str) -> &'a Case {
    s.cases
        .iter()
        .find(|c| c.name.contains(needle))
        .unwrap_or_else(|| {
            panic!(
                "no case {needle}: {:?}",
                s.cases.iter().map(|c| &c.name).collect::<Vec<_>>()
            )
        })
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn hostile_backends_are_bounded_and_judged_and_get_no_credentials() {
    let p = proxy();
    let endless = Server::start(|_| server::endless("text/html", vec![b'x'; 64 << 10]));
    let hang = Server::start(|_| {
        Reply::Raw(Box::new(|_| {
            std::thread::sleep(std::time::Duration::from_secs(30))
        }))
    });
    let hangup = Server::start(|_| Reply::Raw(Box::new(|_| {})));
    let d = tempfile::tempdir().unwrap();
    let kubeconfig = p.kubeconfig(d.path());
    let junit = d.path().join("junit");
    let started = std::time::Instant::now();
    let o = memory_limited(&mut vigil_cmd(&[
        "watch",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--duration",
        "5",
        "--disruption-timeout",
        "1",
        "--disruption-target",
        &format!("endless={}/", endless.url),
        "--disruption-target",
        &format!("hang={}/", hang.url),
        "--disruption-target",
        &format!("hangup={}/", hangup.url),
        "--junit-dir",
        junit.to_str().unwrap(),
        "--intervals-out",
        d.path().join("i.jsonl").to_str().unwrap(),
        "--exceptions",
        "testdata/exceptions/demo",
    ]));
    assert!(started.elapsed().as_secs() < 40, "{:?}", started.elapsed());
    assert_eq!(o.status.code(), Some(1), "{}", printed(&o));
    let s = suite_in(&junit);
    // A page that keeps coming answered: up.
    for conn in ["new", "reused"] {
        let c = case(&s, &format!("disruption/endless connection/{conn} "));
        assert!(c.failure.is_none(), "{c:?}");
        let c = case(&s, &format!("disruption/hang connection/{conn} "));
        let (_, text) = c
            .failure
            .as_ref()
            .expect("a backend that never answers fails");
        assert!(text.contains("timeout after 1s"), "{text}");
        let c = case(&s, &format!("disruption/hangup connection/{conn} "));
        assert!(c.failure.is_some(), "{c:?}");
        assert!(case(&s, &format!("disruption/kube-api connection/{conn} "))
            .failure
            .is_none());
    }
    // No credential reached a URL target.
    for srv in [&endless, &hang, &hangup] {
        let seen = srv.seen.lock().unwrap();
        assert!(!seen.is_empty());
        assert!(
            seen.iter().all(|r| r.header("authorization").is_none()),
            "{seen:?}"
        );
    }
}

#[test]
fn a_target_with_credentials_in_its_url_is_refused_with_a_junit() {
    let d = tempfile::tempdir().unwrap();
    let junit = d.path().join("junit");
    let o = vigil_cmd(&[
        "watch",
        "--disruption-target",
        "shop=https://admin:hunter2@shop.example/healthz",
        "--junit-dir",
        junit.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", printed(&o));
    let text = printed(&o);
    assert!(text.contains("vigil sends no credentials"), "{text}");
    assert!(!text.contains("hunter2"), "the password is echoed: {text}");
    let xml = std::fs::read_to_string(junit_file(&junit)).unwrap();
    assert!(xml.contains("vigil sends no credentials"), "{xml}");
    assert!(
        !xml.contains("hunter2"),
        "the password is in the JUnit: {xml}"
    );
}

#[test]
fn forged_intervals_cannot_make_a_backend_green() {
    let d = tempfile::tempdir().unwrap();
    let intervals = d.path().join("i.jsonl");
    // Polled, not one sample known; and an outage with its end before its
    // start, which adds nothing, and a name that tries to close the tag.
    std::fs::write(
        &intervals,
        concat!(
            r#"{"kind":"Backend","name":"kube-api","connection":"new","component":"kube-apiserver","reason":"DisruptionPolled","start":"2026-11-21T10:00:00Z","end":"2026-11-21T11:00:00Z","count":0,"message":"3600 samples, 3600 unknown"}"#,
            "\n",
            r#"{"kind":"Backend","name":"kube-api","connection":"reused","component":"x\"] [Jira:\"y","reason":"DisruptionPolled","start":"2026-11-21T10:00:00Z","end":"2026-11-21T11:00:00Z","count":3600}"#,
            "\n",
            r#"{"kind":"Backend","name":"kube-api","connection":"reused","reason":"Disruption","start":"2026-11-21T10:30:00Z","end":"2026-11-21T10:00:00Z","message":"\u001b[2Jgone"}"#,
            "\n"
        ),
    )
    .unwrap();
    let junit = d.path().join("junit");
    let o = vigil_cmd(&[
        "run",
        "--from",
        "testdata/states/ha-cluster",
        "--intervals",
        intervals.to_str().unwrap(),
        "--junit-dir",
        junit.to_str().unwrap(),
        "--now",
        NOW,
        "--exceptions",
        "testdata/exceptions/demo",
    ])
    .output()
    .unwrap();
    assert!(!printed(&o).contains('\u{1b}'), "{}", printed(&o));
    let s = suite_in(&junit);
    let new = case(&s, "disruption/kube-api connection/new ");
    let (_, text) = new.failure.as_ref().expect("no known sample is not a pass");
    assert!(text.contains("not measured"), "{text}");
    let reused = case(&s, "disruption/kube-api connection/reused ");
    assert!(reused.failure.is_none(), "{reused:?}");
    assert!(
        reused.name.contains("[Jira:\"x'' [Jira:'y\"]"),
        "{}",
        reused.name
    );
    assert_eq!(o.status.code(), Some(1), "{}", printed(&o));
}
