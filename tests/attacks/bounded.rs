//! Bounded memory for every byte that enters: each input below is larger
//! than its limit (or larger than memory), and each run has a 512 MiB
//! address space. It must end with the limit named and, for `run` and
//! `watch`, a JUnit; an out-of-memory abort leaves neither.

use std::io::Write;
use std::time::Duration;

use super::*;

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `vigil run` under the memory limit, writing its JUnit into a fresh
/// directory: (output, suite).
fn limited_run(args: &[&str]) -> (Output, Suite) {
    let junit = tempfile::tempdir().unwrap();
    let mut all = vec!["run", "--junit-dir", junit.path().to_str().unwrap()];
    all.extend(args);
    let o = memory_limited(&mut vigil_cmd(&all));
    assert!(
        o.status.code().is_some(),
        "killed by a signal (out of memory?): {}",
        printed(&o)
    );
    let s = suite_in(junit.path());
    (o, s)
}

#[test]
fn a_gzip_bomb_stops_at_the_limit() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("pods.json.gz");
    // 512 MiB of spaces (the whole address space), half a megabyte compressed.
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&f).unwrap(),
        flate2::Compression::fast(),
    );
    let block = vec![b' '; 1 << 20];
    for _ in 0..512 {
        e.write_all(&block).unwrap();
    }
    e.finish().unwrap();
    let (o, s) = limited_run(&["--from", f.to_str().unwrap(), "--max-file-mib", "64"]);
    assert_eq!(o.status.code(), Some(2));
    let (_, why) = meta_of(&s, "cluster state should be collected");
    assert!(
        why.contains("larger than the 64 MiB limit on input files (--max-file-mib)"),
        "{why}"
    );
}

/// Many gzip members, each under the limit, all of them far over it: the
/// limit holds for the file's total, however the members are inflated.
#[test]
fn snapshot_members_share_one_limit() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("snap.json.gz");
    let mut out = Vec::new();
    // Members that name their size (vigil's own format), 48 of 12 MiB each.
    let line = {
        let mut l = b"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[]}".to_vec();
        l.extend(std::iter::repeat_n(b' ', 12 << 20));
        l.push(b'\n');
        l
    };
    let one = gz(&line);
    for _ in 0..48 {
        out.extend_from_slice(&one);
    }
    std::fs::write(&f, &out).unwrap();
    let (o, s) = limited_run(&["--from", f.to_str().unwrap(), "--max-file-mib", "100"]);
    assert_eq!(o.status.code(), Some(2), "{}", printed(&o));
    let (_, why) = meta_of(&s, "cluster state should be collected");
    assert!(
        why.contains("limit on input files (--max-file-mib)"),
        "{why}"
    );
}

#[test]
fn an_intervals_file_past_the_limit_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("i.jsonl");
    let line = "{\"kind\":\"Pod\",\"namespace\":\"a\",\"name\":\"p\",\"reason\":\"ContainerRestart\",\"start\":\"2026-11-21T10:00:00Z\",\"end\":\"2026-11-21T10:00:00Z\"}\n";
    std::fs::write(&f, line.repeat((3 << 20) / line.len())).unwrap();
    let (o, s) = limited_run(&[
        "--from",
        "testdata/states/ha-cluster",
        "--intervals",
        f.to_str().unwrap(),
        "--max-file-mib",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let (_, why) = meta_of(&s, "run should complete");
    assert!(
        why.contains("larger than the 2 MiB limit on input files (--max-file-mib)"),
        "{why}"
    );
}

/// A kubeconfig that is /dev/zero, or that names /dev/zero or a huge file
/// as its certificate or token file: refused by name, at once.
#[test]
fn kubeconfigs_and_the_files_they_name_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let huge = d.path().join("ca.crt");
    std::fs::write(&huge, vec![b'A'; 20 << 20]).unwrap();
    let kc = |name: &str, cluster: &str, user: &str| {
        let p = d.path().join(name);
        std::fs::write(
            &p,
            format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:1'{cluster}}}\nusers:\n- name: u\n  user: {{{user}}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\n"),
        )
        .unwrap();
        p
    };
    let cases = [
        (PathBuf::from("/dev/zero"), "a device"),
        (
            kc(
                "ca-zero",
                ", certificate-authority: /dev/zero",
                "token: abcdef",
            ),
            "certificate-authority names, /dev/zero",
        ),
        (
            kc("token-zero", "", "tokenFile: /dev/zero"),
            "tokenFile names, /dev/zero",
        ),
        (
            kc(
                "ca-huge",
                &format!(", certificate-authority: {}", huge.display()),
                "token: abcdef",
            ),
            "limit on kubeconfig files and the files they name",
        ),
    ];
    for (kubeconfig, says) in cases {
        let started = std::time::Instant::now();
        let (o, s) = limited_run(&["--kubeconfig", kubeconfig.to_str().unwrap()]);
        assert!(started.elapsed() < Duration::from_secs(20));
        assert_eq!(o.status.code(), Some(2), "{kubeconfig:?}: {}", printed(&o));
        let (_, why) = meta_of(&s, "cluster should be reachable");
        assert!(why.contains(says), "{kubeconfig:?}: {why}");
    }
}

/// An exec credential plugin that prints without end: stopped at the
/// bound, and named, never quoted.
#[test]
fn a_plugin_printing_without_end_is_stopped() {
    let d = tempfile::tempdir().unwrap();
    let kubeconfig = d.path().join("kc");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: yes\n      args: [CANARYplugin]\n      interactiveMode: Never\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n",
    )
    .unwrap();
    let (o, s) = limited_run(&["--kubeconfig", kubeconfig.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", printed(&o));
    let (_, why) = meta_of(&s, "cluster should be reachable");
    assert!(why.contains("the exec credential plugin `yes`"), "{why}");
    assert!(!printed(&o).contains("CANARYplugin"));
}

/// A list page of millions of empty items: a few megabytes sent, gigabytes
/// decoded. The count is read before decoding, and a page of more than it
/// asked for is refused.
#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_page_of_millions_of_items_is_refused_before_decoding() {
    let p = proxy();
    let items = vec!["{}"; 3_000_000].join(",");
    p.on(
        "/api/v1/pods",
        proxy::Fault::Body(format!(
            r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{}},"items":[{items}]}}"#
        )),
    );
    let d = tempfile::tempdir().unwrap();
    let kubeconfig = p.kubeconfig(d.path());
    let (o, s) = limited_run(&[
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--api-format",
        "json",
        "--exceptions",
        "testdata/exceptions/demo",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", printed(&o));
    let (_, why) = meta_of(&s, "cluster state should be collected");
    assert!(why.contains("could not list Pod"), "{why}");
    assert!(
        why.contains("3000000 objects in a page of at most 5000"),
        "{why}"
    );
}

/// A server that hands out a new 60 kB continue token with one pod per
/// page, forever: the deadline ends it with a JUnit, memory flat.
#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn an_endless_listing_ends_at_the_deadline() {
    let p = proxy();
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = counter.clone();
    p.on(
        "/api/v1/pods",
        proxy::Fault::Raw(std::sync::Arc::new(move |conn: &mut std::net::TcpStream| {
            let n = c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let token = format!("{n}-{}", "t".repeat(60_000));
            let body = format!(
                r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{"continue":"{token}"}},"items":[{{"metadata":{{"name":"p{n}","namespace":"catalog"}},"spec":{{"containers":[{{"name":"c","image":"i"}}]}},"status":{{"phase":"Running"}}}}]}}"#
            );
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        })),
    );
    let d = tempfile::tempdir().unwrap();
    let kubeconfig = p.kubeconfig(d.path());
    let (o, s) = limited_run(&[
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--api-format",
        "json",
        "--deadline",
        "8",
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", printed(&o));
    let (_, why) = meta_of(&s, "run should complete");
    assert!(why.contains("did not finish within --deadline 8s"), "{why}");
    assert!(counter.load(std::sync::atomic::Ordering::Relaxed) > 10);
}

/// One watch event that never ends: the watch refuses it at the page
/// limit, records the gap, and the run is judged with a JUnit.
#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_watch_event_without_end_is_refused_at_the_limit() {
    let p = proxy();
    p.on(
        "/api/v1/pods?watch",
        proxy::Fault::Raw(std::sync::Arc::new(|conn: &mut std::net::TcpStream| {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            if conn.write_all(head.as_bytes()).is_err() {
                return;
            }
            let start = b"{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"";
            let _ = conn.write_all(format!("{:x}\r\n", start.len()).as_bytes());
            let _ = conn.write_all(start);
            let _ = conn.write_all(b"\r\n");
            let chunk = vec![b'a'; 1 << 20];
            loop {
                let framed = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.clone(), b"\r\n".to_vec()].concat();
                if conn.write_all(&framed).is_err() {
                    return;
                }
            }
        })),
    );
    let d = tempfile::tempdir().unwrap();
    let kubeconfig = p.kubeconfig(d.path());
    let junit = d.path().join("junit");
    let o = memory_limited(&mut vigil_cmd(&[
        "watch",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--duration",
        "4",
        "--max-page-mib",
        "16",
        "--junit-dir",
        junit.to_str().unwrap(),
        "--intervals-out",
        d.path().join("i.jsonl").to_str().unwrap(),
        "--exceptions",
        "testdata/exceptions/demo",
    ]));
    assert!(o.status.code().is_some(), "killed: {}", printed(&o));
    let s = suite_in(&junit);
    let (outcome, why) = meta_of(&s, "cluster should be watched during the run");
    assert_eq!(outcome, "fail", "{why}");
    assert!(
        why.contains("larger than the 16 MiB limit on API responses (--max-page-mib)"),
        "{why}"
    );
}

/// A container whose restartCount leaps from 0 to 2^31-1 during a watch:
/// one record of that many restarts, not two billion.
#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_restart_count_that_leaps_is_one_record() {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Patch, PatchParams, PostParams};
    let cp = cluster();
    let admin = cp.admin_kubeconfig().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(&admin).unwrap();
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        kube::Client::try_from(cfg).unwrap()
    });
    let pods: kube::Api<Pod> = kube::Api::namespaced(client, "catalog");
    let status = |n: i32| {
        serde_json::json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "leap", "ready": true, "restartCount": n, "image": "i", "imageID": "", "state": {"running": {}}}]}})
    };
    rt.block_on(async {
        let _ = pods
            .create(
                &PostParams::default(),
                &serde_json::from_value(serde_json::json!({"metadata": {"name": "leaper", "namespace": "catalog"},
                    "spec": {"nodeName": "worker-a", "containers": [{"name": "leap", "image": "i"}]}}))
                .unwrap(),
            )
            .await;
        pods.patch_status("leaper", &PatchParams::default(), &Patch::Merge(status(0))).await.unwrap();
    });
    let d = tempfile::tempdir().unwrap();
    let intervals = d.path().join("i.jsonl");
    let mut child = vigil_cmd(&[
        "watch",
        "--kubeconfig",
        admin.to_str().unwrap(),
        "--duration",
        "6",
        "--no-junit",
        "--intervals-out",
        intervals.to_str().unwrap(),
        "--namespace",
        "catalog",
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let lines = lines_of(child.stderr.take().unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Ok(l) = lines.recv_timeout(Duration::from_secs(1)) {
            if l.contains("watching pods and nodes") {
                break;
            }
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    rt.block_on(async {
        pods.patch_status(
            "leaper",
            &PatchParams::default(),
            &Patch::Merge(status(i32::MAX)),
        )
        .await
        .unwrap();
    });
    child.wait().unwrap();
    let text = std::fs::read_to_string(&intervals).unwrap();
    let leaps: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["name"] == "leaper" && v["reason"] == "ContainerRestart")
        .collect();
    assert_eq!(leaps.len(), 1, "{text}");
    assert_eq!(leaps[0]["count"], i32::MAX as i64);
    assert!(text.len() < 10_000, "{} bytes", text.len());
    rt.block_on(async {
        let _ = pods.delete("leaper", &Default::default()).await;
    });
}

/// A Jira answer larger than 16 MiB: the ticket is not checked, and the
/// message says why (not "EOF while parsing").
#[test]
fn a_huge_jira_answer_names_the_limit() {
    let jira = server::Server::start(|_| {
        let mut body = br#"{"fields":{"summary":""#.to_vec();
        body.extend(std::iter::repeat_n(b'x', 17 << 20));
        body.extend_from_slice(br#""}}"#);
        server::Reply::Full(
            200,
            vec![("Content-Type".into(), "application/json".into())],
            body,
        )
    });
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("team.yaml"),
        "component: Team\nnamespaces: [ns]\nexceptions:\n  - check: ha/replicas\n    jira: BIG-1\n",
    )
    .unwrap();
    let o = memory_limited(&mut vigil_cmd(&[
        "exceptions",
        "verify",
        d.path().to_str().unwrap(),
        "--jira-url",
        &jira.url,
    ]));
    assert_eq!(o.status.code(), Some(3), "{}", printed(&o));
    assert!(
        printed(&o).contains("BIG-1 could not be checked: Jira's answer is larger than the 16 MiB limit on answers from Jira"),
        "{}",
        printed(&o)
    );
}
