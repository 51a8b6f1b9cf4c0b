//! Shared helpers for integration tests: running the real binary and reading
//! back the JUnit it wrote.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use quick_xml::events::Event;
use quick_xml::Reader;

pub const BIN: &str = env!("CARGO_BIN_EXE_vigil");
pub const NOW: &str = "2026-11-21T12:00:00Z";

/// Runs `vigil args...` from the crate root with colour off.
pub fn vigil(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("ARTIFACT_DIR")
        .output()
        .expect("vigil runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// The only JUnit file in `dir`.
pub fn junit_file(dir: &Path) -> PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "exactly one file (no temp leftovers): {files:?}"
    );
    let f = files.into_iter().next().unwrap();
    let name = f.file_name().unwrap().to_str().unwrap().to_owned();
    // Inside Sippy's `**junit**.xml` glob, unique per run.
    let re = regex::Regex::new(r"^junit_[A-Za-z0-9.-]+_\d{8}-\d{6}_[0-9a-f]{6}\.xml$").unwrap();
    assert!(re.is_match(&name), "{name}");
    f
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    pub failure: Option<(String, String)>,
    /// `<skipped message="...">`: not a run for Sippy.
    pub skipped: Option<String>,
    pub system_out: Option<String>,
    pub lifecycle: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub tests: usize,
    pub failures: usize,
    pub cases: Vec<Case>,
}

/// Parses JUnit XML strictly (quick-xml rejects malformed documents).
pub fn parse_junit(xml: &str) -> Vec<Suite> {
    let mut reader = Reader::from_str(xml);
    let mut suites = Vec::new();
    let mut case: Option<Case> = None;
    let mut text_target: Option<&'static str> = None;
    let mut text = String::new();
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> Option<String> {
        e.attributes()
            .map(|a| a.expect("well-formed attribute"))
            .find(|a| a.key.as_ref() == name.as_bytes())
            .map(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .expect("valid escape")
                    .into_owned()
            })
    };
    let mut failure_message = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testsuite" => {
                suites.push(Suite {
                    name: attr(&e, "name").unwrap(),
                    tests: attr(&e, "tests").unwrap().parse().unwrap(),
                    failures: attr(&e, "failures").unwrap().parse().unwrap(),
                    cases: Vec::new(),
                })
            }
            Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                suites.last_mut().unwrap().cases.push(Case {
                    name: attr(&e, "name").unwrap(),
                    failure: None,
                    skipped: None,
                    system_out: None,
                    lifecycle: attr(&e, "lifecycle"),
                });
            }
            Event::Start(e) if e.name().as_ref() == b"testcase" => {
                case = Some(Case {
                    name: attr(&e, "name").unwrap(),
                    failure: None,
                    skipped: None,
                    system_out: None,
                    lifecycle: attr(&e, "lifecycle"),
                });
            }
            Event::End(e) if e.name().as_ref() == b"testcase" => {
                suites.last_mut().unwrap().cases.push(case.take().unwrap());
            }
            Event::Start(e) if e.name().as_ref() == b"failure" => {
                failure_message = attr(&e, "message").unwrap_or_default();
                text_target = Some("failure");
                text.clear();
            }
            Event::Empty(e) if e.name().as_ref() == b"failure" => {
                case.as_mut().unwrap().failure =
                    Some((attr(&e, "message").unwrap_or_default(), String::new()));
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"skipped" => {
                case.as_mut().unwrap().skipped = Some(attr(&e, "message").unwrap_or_default());
            }
            Event::Start(e) if e.name().as_ref() == b"system-out" => {
                text_target = Some("system-out");
                text.clear();
            }
            Event::Text(t) if text_target.is_some() => text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) if text_target.is_some() => {
                let name = r.decode().unwrap();
                text.push_str(match name.as_ref() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other}"),
                });
            }
            Event::CData(t) if text_target.is_some() => {
                text.push_str(std::str::from_utf8(&t).unwrap())
            }
            Event::End(e) if e.name().as_ref() == b"failure" => {
                case.as_mut().unwrap().failure = Some((failure_message.clone(), text.clone()));
                text_target = None;
            }
            Event::End(e) if e.name().as_ref() == b"system-out" => {
                case.as_mut().unwrap().system_out = Some(text.clone());
                text_target = None;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    suites
}

/// Sippy's reading of a suite: per test name, pass / flake / fail, and
/// `skip` for a `<skipped>` case (which Sippy does not count as a run).
pub fn sippy_outcomes(suite: &Suite) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let cases = &suite.cases;
    let mut i = 0;
    while i < cases.len() {
        let c = &cases[i];
        if c.skipped.is_some() {
            out.push((c.name.clone(), "skip"));
            i += 1;
            continue;
        }
        let next = cases.get(i + 1);
        if c.failure.is_some() && next.is_some_and(|n| n.name == c.name && n.failure.is_none()) {
            out.push((c.name.clone(), "flake"));
            i += 2;
        } else {
            out.push((
                c.name.clone(),
                if c.failure.is_some() { "fail" } else { "pass" },
            ));
            i += 1;
        }
    }
    out
}

/// Checks the flake encoding: a name appears at most twice, and when twice,
/// as an adjacent failing-then-passing pair.
pub fn assert_flakes_are_adjacent_pairs(suite: &Suite) {
    use std::collections::HashMap;
    let mut positions: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in suite.cases.iter().enumerate() {
        positions.entry(c.name.as_str()).or_default().push(i);
    }
    for (name, pos) in positions {
        match pos.as_slice() {
            [_] => {}
            [a, b] => {
                assert_eq!(*b, a + 1, "flake halves of {name:?} are adjacent");
                assert!(
                    suite.cases[*a].failure.is_some(),
                    "{name:?}: first half fails"
                );
                assert!(
                    suite.cases[*b].failure.is_none(),
                    "{name:?}: second half passes"
                );
                assert_eq!(suite.cases[*a].lifecycle, suite.cases[*b].lifecycle);
            }
            more => panic!("{name:?} appears {} times", more.len()),
        }
    }
}

/// JUnit with the run's wall-clock start and duration blanked: they differ
/// on every run, everything else must not.
pub fn without_run_times(xml: &str) -> String {
    let xml = regex::Regex::new(r#"timestamp="[^"]+""#)
        .unwrap()
        .replace_all(xml, r#"timestamp="[run start]""#);
    regex::Regex::new(r#"(<testsuites? [^>]*)time="[0-9.]+""#)
        .unwrap()
        .replace_all(&xml, r#"${1}time="[run time]""#)
        .into_owned()
}

// ---------------------------------------------------------------- control plane

use std::sync::OnceLock;
use vigil::devtools::control_plane::ControlPlane;
use vigil::devtools::load;

/// The directory holding bin/etcd and bin/kube-apiserver: $VIGIL_CONTROL_PLANE,
/// else what scripts/build-control-plane builds (or finds cached).
pub fn control_plane_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(d) = std::env::var_os("VIGIL_CONTROL_PLANE") {
            return PathBuf::from(d);
        }
        let out = std::process::Command::new("scripts/build-control-plane")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("scripts/build-control-plane runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .last()
                .unwrap()
                .trim(),
        )
    })
    .clone()
}

pub fn start() -> ControlPlane {
    ControlPlane::start(&control_plane_dir().join("bin")).expect("control plane starts")
}

pub fn load_into(cp: &ControlPlane, paths: &[PathBuf]) {
    let objects = load::read_raw(paths).unwrap();
    let opts = vigil::sources::live::LiveOptions {
        kubeconfig: Some(cp.admin_kubeconfig().unwrap()),
        ..Default::default()
    };
    let report = load::load_into(&opts, objects, 8).expect("the control plane answers");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
}

/// The lines a child writes to a stream, as they come (for waiting on a
/// line such as "watching pods and nodes").
pub fn lines_of(stream: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(l);
        }
    });
    rx
}
