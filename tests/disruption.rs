//! `vigil watch --disruption` against a real kube-apiserver and a local
//! backend: the API server restarted mid-watch gives one outage of about
//! the restart's length on both connection kinds; a backend that stops for
//! 5 s and then answers 503 for 3 s gives two intervals with those causes;
//! a watch with no outage records none and passes; `run --from --intervals`
//! gives the same verdicts.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const UP: u8 = 0;
const DOWN: u8 = 1;
const UNAVAILABLE: u8 = 2;

/// A backend on loopback: answers 200, or 503, or is gone (its port
/// refuses, its kept-alive connections are closed).
struct Backend {
    port: u16,
    mode: Arc<AtomicU8>,
    done: Arc<AtomicBool>,
    accepts: Arc<std::sync::atomic::AtomicUsize>,
}

impl Backend {
    fn start() -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let b = Backend {
            port,
            mode: Arc::new(AtomicU8::new(UP)),
            done: Arc::new(AtomicBool::new(false)),
            accepts: Default::default(),
        };
        let (mode, done, accepts) = (b.mode.clone(), b.done.clone(), b.accepts.clone());
        std::thread::spawn(move || {
            let mut listener = Some(listener);
            while !done.load(Ordering::Relaxed) {
                match (&listener, mode.load(Ordering::Relaxed)) {
                    (Some(_), DOWN) => listener = None,
                    (None, m) if m != DOWN => {
                        listener = TcpListener::bind(("127.0.0.1", port)).ok();
                    }
                    (Some(l), _) => {
                        l.set_nonblocking(true).unwrap();
                        if let Ok((s, _)) = l.accept() {
                            accepts.fetch_add(1, Ordering::Relaxed);
                            let mode = mode.clone();
                            std::thread::spawn(move || serve(s, &mode));
                            continue;
                        }
                    }
                    (None, _) => {}
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        b
    }

    fn set(&self, m: u8) {
        self.mode.store(m, Ordering::Relaxed);
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

/// Answers requests on one connection until the backend goes down.
fn serve(mut s: TcpStream, mode: &AtomicU8) {
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = Vec::new();
    loop {
        if mode.load(Ordering::Relaxed) == DOWN {
            return;
        }
        let mut chunk = [0u8; 4096];
        match s.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                continue
            }
            Err(_) => return,
        }
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            buf.drain(..end + 4);
            let (status, body) = match mode.load(Ordering::Relaxed) {
                UNAVAILABLE => ("503 Service Unavailable", "unavailable"),
                DOWN => return,
                _ => ("200 OK", "ok"),
            };
            let close = head.contains("connection: close");
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\n{}\r\n{body}",
                body.len(),
                if close { "connection: close\r\n" } else { "" }
            );
            if s.write_all(reply.as_bytes()).is_err() || close {
                return;
            }
        }
    }
}

fn intervals_of(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wait_line(lines: &std::sync::mpsc::Receiver<String>, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) if l.contains(what) => return,
            Ok(_) => continue,
            Err(_) => panic!("vigil watch never said {what:?}"),
        }
    }
}

fn seconds(i: &serde_json::Value) -> i64 {
    let t = |k: &str| chrono::DateTime::parse_from_rfc3339(i[k].as_str().unwrap()).unwrap();
    ((t("end") - t("start")).num_milliseconds() + 500) / 1000
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn disruption_is_measured_on_both_connections_and_replays_exactly() {
    let mut cp = start();
    let admin = cp.admin_kubeconfig().unwrap();
    let backend = Backend::start();
    let work = tempfile::tempdir().unwrap();
    let no_exceptions = work.path().join("exceptions");
    std::fs::create_dir(&no_exceptions).unwrap();
    let target = format!("local@Shop Team=http://127.0.0.1:{}/healthz", backend.port);

    // No outage: polled, nothing recorded, the tests pass.
    let quiet = work.path().join("quiet.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["watch", "--kubeconfig"])
        .arg(&admin)
        .args([
            "--duration",
            "4",
            "--disruption",
            "--disruption-target",
            &target,
        ])
        .arg("--intervals-out")
        .arg(&quiet)
        .arg("--exceptions")
        .arg(&no_exceptions)
        .args(["--no-junit", "-o", "json"])
        .output()
        .unwrap();
    let quiet_raw = out.stdout.clone();
    let quiet_report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        local_total(&quiet_report, "disruption/local connection/new"),
        0.0
    );
    let recorded = intervals_of(&quiet);
    let polled: Vec<_> = recorded
        .iter()
        .filter(|i| i["reason"] == "DisruptionPolled")
        .collect();
    assert_eq!(
        polled.len(),
        4,
        "kube-api and local, new and reused: {recorded:#?}"
    );
    assert!(
        polled.iter().all(|p| p["count"].as_u64().unwrap() >= 2),
        "{polled:?}"
    );
    assert!(
        !recorded.iter().any(|i| i["reason"] == "Disruption"),
        "{recorded:#?}"
    );
    let names: Vec<(String, String)> = quiet_report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["name"]
                .as_str()
                .unwrap()
                .starts_with("[Monitor:disruption]")
        })
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("[Monitor:disruption][Jira:\"kube-apiserver\"] disruption/kube-api connection/new should be available throughout the run".to_owned(), "pass".to_owned()),
            ("[Monitor:disruption][Jira:\"kube-apiserver\"] disruption/kube-api connection/reused should be available throughout the run".to_owned(), "pass".to_owned()),
            ("[Monitor:disruption][Jira:\"Shop Team\"] disruption/local connection/new should be available throughout the run".to_owned(), "pass".to_owned()),
            ("[Monitor:disruption][Jira:\"Shop Team\"] disruption/local connection/reused should be available throughout the run".to_owned(), "pass".to_owned()),
        ]
    );
    // The new connection connected for every sample, the reused one once.
    assert!(
        backend.accepts.load(Ordering::Relaxed) >= 4,
        "{}",
        backend.accepts.load(Ordering::Relaxed)
    );

    // Outages: the backend stops, then answers 503; the API server restarts.
    let stop = work.path().join("e2e-done");
    let intervals = work.path().join("intervals.jsonl");
    let snapshot = work.path().join("state.json");
    let junit = work.path().join("junit");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["watch", "--kubeconfig"])
        .arg(&admin)
        .args(["--disruption-target", &target])
        .arg("--stop-file")
        .arg(&stop)
        .arg("--intervals-out")
        .arg(&intervals)
        .arg("--save-snapshot")
        .arg(&snapshot)
        .arg("--junit-dir")
        .arg(&junit)
        .arg("--exceptions")
        .arg(&no_exceptions)
        .args(["-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = lines_of(child.stderr.take().unwrap());
    wait_line(&lines, "measuring disruption");
    std::thread::sleep(Duration::from_secs(3));
    backend.set(DOWN);
    std::thread::sleep(Duration::from_secs(5));
    backend.set(UNAVAILABLE);
    std::thread::sleep(Duration::from_secs(3));
    backend.set(UP);
    std::thread::sleep(Duration::from_secs(2));
    let restart = Instant::now();
    cp.restart_apiserver().unwrap();
    let restart = restart.elapsed().as_secs() as i64;
    std::thread::sleep(Duration::from_secs(4));
    std::fs::write(&stop, "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let recorded = intervals_of(&intervals);
    let outages = |name: &str, conn: &str| {
        recorded
            .iter()
            .filter(|i| i["reason"] == "Disruption" && i["name"] == name && i["connection"] == conn)
            .collect::<Vec<_>>()
    };
    for conn in ["new", "reused"] {
        let local = outages("local", conn);
        let mut causes: Vec<(&str, i64)> = local
            .iter()
            .map(|i| (i["message"].as_str().unwrap(), seconds(i)))
            .collect();
        // The kept-alive connection may first see the server drop it.
        if conn == "reused"
            && causes
                .first()
                .is_some_and(|c| c.0 == "connection closed early")
        {
            causes.remove(0);
        }
        assert_eq!(causes.len(), 2, "{conn}: {causes:?}");
        assert_eq!(causes[0].0, "connection refused", "{conn}: {causes:?}");
        assert!((4..=7).contains(&causes[0].1), "{conn}: {causes:?}");
        assert_eq!(causes[1].0, "HTTP 503", "{conn}: {causes:?}");
        assert!((2..=5).contains(&causes[1].1), "{conn}: {causes:?}");
        // One outage, whatever its causes on the way (refused while the
        // process is gone, 500 from /readyz while it starts): back to back.
        let api = outages("kube-api", conn);
        assert!(!api.is_empty(), "{conn}: {recorded:#?}");
        assert!(
            api.windows(2).all(|w| w[0]["end"] == w[1]["start"]),
            "{conn}: {api:#?}"
        );
        // Which samples fall on which moment of the restart varies; what
        // they can see does not.
        assert!(
            api.iter().all(|i| [
                "connection refused",
                "connection reset",
                "connection closed early",
                "HTTP 500",
                "HTTP 503"
            ]
            .contains(&i["message"].as_str().unwrap())),
            "{conn}: {api:#?}"
        );
        let s: i64 = api.iter().map(|i| seconds(i)).sum();
        assert!(
            s >= 1 && s <= restart + 3,
            "{conn}: {s}s for a {restart}s restart: {api:?}"
        );
        assert!(api.iter().all(|i| i["ongoing"] == false));
    }

    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let test = |needle: &str| {
        report["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no test {needle}"))
            .clone()
    };
    let api = test("disruption/kube-api connection/new should be available");
    assert_eq!(api["outcome"], "fail");
    let local = test("disruption/local connection/reused should be available");
    assert_eq!(local["outcome"], "fail");
    let detail = local["findings"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains(" outages: ")
            && detail.contains("connection refused")
            && detail.contains("HTTP 503"),
        "{detail}"
    );
    let xml = std::fs::read_to_string(junit_file(&junit)).unwrap();
    let o = sippy_outcomes(&parse_junit(&xml)[0]);
    assert!(
        o.iter().any(
            |(n, r)| n.contains("[Jira:\"Shop Team\"] disruption/local connection/new")
                && *r == "fail"
        ),
        "{o:?}"
    );

    // Replayed: the same verdicts; with an allowance for the local
    // backend, its tests pass and kube-api's still fail.
    let replay = |exceptions: &Path| {
        let again = vigil(&[
            "run",
            "--from",
            snapshot.to_str().unwrap(),
            "--intervals",
            intervals.to_str().unwrap(),
            "--exceptions",
            exceptions.to_str().unwrap(),
            "--no-junit",
            "-o",
            "json",
        ]);
        assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
        serde_json::from_str::<serde_json::Value>(&stdout(&again)).unwrap()
    };
    let again = replay(&no_exceptions);
    let differ: Vec<_> = again["tests"]
        .as_array()
        .unwrap()
        .iter()
        .zip(report["tests"].as_array().unwrap())
        .filter(|(a, b)| a != b)
        .collect();
    assert!(differ.is_empty(), "replayed vs watched: {differ:#?}");
    assert_eq!(again["tests"], report["tests"]);
    let allowing = work.path().join("allowing");
    std::fs::create_dir(&allowing).unwrap();
    std::fs::write(
        allowing.join("policy.yaml"),
        "checks:\n  disruption/backends:\n    thresholds: {allowed-seconds/local: 60}\n",
    )
    .unwrap();
    let allowed = replay(&allowing);
    let outcome = |r: &serde_json::Value, needle: &str| {
        r["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"].as_str().unwrap().contains(needle))
            .unwrap()["outcome"]
            .clone()
    };
    assert_eq!(outcome(&allowed, "disruption/local connection/new"), "pass");
    assert_eq!(
        outcome(&allowed, "disruption/kube-api connection/new"),
        "fail"
    );

    // Over both runs, `vigil report` suggests allowances from history.
    let runs = work.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    for (i, raw) in [&quiet_raw, &out.stdout].iter().enumerate() {
        std::fs::write(runs.join(format!("run-{i}.json")), raw).unwrap();
    }
    let summary = vigil(&["report", runs.to_str().unwrap()]);
    assert_eq!(summary.status.code(), Some(0), "{}", stderr(&summary));
    let text = stdout(&summary);
    assert!(
        text.contains("disruption allowances history suggests"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.contains("local connection/new"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("over 2 runs"), "{line}");
    let json = vigil(&["report", runs.to_str().unwrap(), "-o", "json"]);
    let a: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let local = a["disruption"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["test"].as_str().unwrap().contains("local connection/new"))
        .unwrap()
        .clone();
    let total = local_total(&report, "disruption/local connection/new");
    assert!(total >= 6.0, "{total}");
    assert_eq!(local["p99_seconds"].as_f64().unwrap(), total, "{local}");
}

/// The `measured_seconds` a report holds for the test named by `needle`.
fn local_total(report: &serde_json::Value, needle: &str) -> f64 {
    report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"].as_str().unwrap().contains(needle))
        .unwrap()["measured_seconds"]
        .as_f64()
        .unwrap()
}
