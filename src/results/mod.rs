//! Reading results back: the stage after [`crate::reports`]. A run's
//! results, from its `-o json` report or its JUnit files, become one
//! [`RunResult`], which `vigil diff` compares and `vigil report` aggregates.

pub mod aggregate;
pub mod diff;
pub mod html;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::input::Limit;

/// How a test ended in one run, as Sippy reads it: the outcome `run` writes.
pub use crate::outcomes::Outcome;

/// One violation as a run reported it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Violation {
    /// `Kind/name`, with ` pod p` and ` container c` when given.
    pub object: String,
    /// The check (the rule) that found it.
    pub rule: String,
    pub detail: String,
    /// pass (allowed), flake (ticket) or fail.
    pub outcome: Outcome,
    /// The ticket or approval that weighed it, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// The ticket's expiry date, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// No exception covered it.
    pub new: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestRecord {
    pub name: String,
    /// `ha-compliance`, `infra-health`, `vigil` (from `[Monitor:...]`).
    pub monitor: String,
    /// From `[Jira:"..."]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub outcome: Outcome,
    pub informing: bool,
    /// Why it was skipped, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Disruption tests of JSON reports: the outages' total, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_seconds: Option<f64>,
    pub violations: Vec<Violation>,
}

/// An exception entry the run found stale (JSON reports only).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StaleEntry {
    pub file: String,
    pub line: u64,
    pub check: String,
    pub namespace: Option<String>,
    pub object: Option<String>,
    pub ticket: Option<String>,
}

/// Where a run came from, as its path or report says (never guessed).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Identity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The file or directory read.
    pub source: PathBuf,
    /// `json` or `junit`.
    pub form: &'static str,
    /// When the run happened: the report's `started_at`, or the JUnit
    /// suite's `timestamp`.
    pub time: Option<DateTime<Utc>>,
    pub identity: Identity,
    /// By test name.
    pub tests: BTreeMap<String, TestRecord>,
    /// `None` when the form does not say (JUnit).
    pub stale: Option<Vec<StaleEntry>>,
    /// The JUnit file a JSON report says its run wrote (the same run, not another).
    #[serde(skip)]
    pub junit_file: Option<PathBuf>,
}

/// How much of a run to read: the latest run of a report is shown in
/// detail; every other run only adds its outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Full,
    Outcomes,
}

/// Reads one run: a `-o json` report, a JUnit file, or a directory (its
/// vigil JSON report if it holds one, else all its JUnit files together).
pub fn load_run(path: &Path, limit: Limit) -> Result<RunResult, String> {
    if path.is_dir() {
        let (json, xml) = files_in(path)?;
        if let Some(j) = json.first() {
            return load_json(j, limit, Detail::Full);
        }
        if xml.is_empty() {
            return Err(format!(
                "{}: holds no vigil JSON report and no JUnit (.xml) file",
                path.display()
            ));
        }
        return load_junit(path, &xml, limit, Detail::Full);
    }
    let text = crate::input::read_to_string(path, limit)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if text.trim_start().starts_with('<') {
        load_junit(path, &[path.to_owned()], limit, Detail::Full)
    } else {
        parse_json(path, &text, Detail::Full)
    }
}

/// One run found by [`discover`], not read yet.
#[derive(Debug, Clone)]
pub enum Source {
    /// A `vigil run -o json` report.
    Json(PathBuf),
    /// The JUnit files of one directory (one job's), or one JUnit file.
    Junit(PathBuf, Vec<PathBuf>),
}

impl Source {
    pub fn path(&self) -> &Path {
        match self {
            Source::Json(p) | Source::Junit(p, _) => p,
        }
    }

    /// The run's time, from the first few KiB of its file (the report's
    /// `now`, the suite's `vigil.now` property or `timestamp`), to put runs
    /// in order before reading them.
    pub fn peek_time(&self) -> Option<DateTime<Utc>> {
        use std::io::Read;
        let file = match self {
            Source::Json(p) => p,
            Source::Junit(_, files) => files.first()?,
        };
        let mut head = String::new();
        crate::input::open_regular(file)
            .ok()?
            .take(16 << 10)
            .read_to_string(&mut head)
            .ok();
        let find = |key: &str| -> Option<DateTime<Utc>> {
            let i = head.find(key)? + key.len();
            let rest = head[i..].trim_start_matches([' ', ':', '=', '"']);
            let end = rest.find('"')?;
            crate::model::time::parse(&rest[..end])
        };
        match self {
            Source::Json(_) => find("\"now\"").or_else(|| find("\"started_at\"")),
            Source::Junit(..) => find("name=\"vigil.now\" value").or_else(|| find("timestamp")),
        }
    }

    /// Reads the run.
    pub fn load(&self, limit: Limit, detail: Detail) -> Result<RunResult, String> {
        match self {
            Source::Json(p) => load_json(p, limit, detail),
            Source::Junit(dir, files) => load_junit(dir, files, limit, detail),
        }
    }
}

/// Finds every run under `paths`, oldest first (by the time each says): each
/// JSON report is a run; JUnit files are grouped by their directory (the
/// files of one job), less those a JSON report says its run wrote (matched
/// by file name: downloaded artifacts are not where the run wrote them).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Source>, String> {
    let mut sources = Vec::new();
    let mut groups: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    let mut json_files: Vec<PathBuf> = Vec::new();
    for p in paths {
        if !p.is_dir() {
            match p.extension().and_then(|e| e.to_str()) {
                Some("xml") => sources.push(Source::Junit(p.clone(), vec![p.clone()])),
                _ => sources.push(Source::Json(p.clone())),
            }
            continue;
        }
        // Links followed (artifact trees use them), loops passed over.
        let entries = walkdir::WalkDir::new(p)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok);
        for entry in entries {
            if !entry.file_type().is_dir() {
                continue;
            }
            let (json, xml) = files_in(entry.path())?;
            if json.is_empty() && !xml.is_empty() {
                groups.push((entry.path().to_owned(), xml));
            }
            json_files.extend(json);
        }
    }
    // The JUnit file names the JSON reports claim (read from their tails:
    // `junit` is the report's last field).
    let claimed: std::collections::HashSet<std::ffi::OsString> =
        json_files.iter().filter_map(|j| claimed_junit(j)).collect();
    sources.extend(json_files.into_iter().map(Source::Json));
    for (dir, xml) in groups {
        let rest: Vec<PathBuf> = xml
            .into_iter()
            .filter(|x| x.file_name().is_none_or(|n| !claimed.contains(n)))
            .collect();
        if !rest.is_empty() {
            sources.push(Source::Junit(dir, rest));
        }
    }
    if sources.is_empty() {
        return Err("no vigil JSON report or JUnit file found in the given paths".into());
    }
    let mut timed: Vec<(Option<DateTime<Utc>>, Source)> =
        crate::parallel::map_in_order(&sources, |s| s.peek_time())
            .into_iter()
            .zip(sources)
            .collect();
    timed.sort_by(|a, b| (a.0, a.1.path()).cmp(&(b.0, b.1.path())));
    Ok(timed.into_iter().map(|(_, s)| s).collect())
}

/// The file name of the JUnit a JSON report says its run wrote.
fn claimed_junit(report: &Path) -> Option<std::ffi::OsString> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = crate::input::open_regular(report).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
    let mut tail = String::new();
    f.read_to_string(&mut tail).ok()?;
    let i = tail.rfind("\"junit\"")? + "\"junit\"".len();
    let rest = tail[i..].trim_start_matches([' ', ':']);
    let rest = rest.strip_prefix('"')?;
    let path = &rest[..rest.find('"')?];
    Path::new(path).file_name().map(|n| n.to_owned())
}

/// The vigil JSON reports and the .xml files directly in `dir`, sorted.
fn files_in(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let mut json = Vec::new();
    let mut xml = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
    for e in entries.filter_map(|e| e.ok()) {
        let p = e.path();
        // Regular files, also through symlinks (artifact trees use them).
        if !std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
            continue;
        }
        match p.extension().and_then(|e| e.to_str()) {
            Some("xml") => xml.push(p),
            Some("json") if is_vigil_report(&p) => json.push(p),
            _ => {}
        }
    }
    json.sort();
    xml.sort();
    Ok((json, xml))
}

fn is_vigil_report(p: &Path) -> bool {
    use std::io::Read;
    let Ok(f) = crate::input::open_regular(p) else {
        return false;
    };
    let mut head = String::new();
    let _ = f.take(512).read_to_string(&mut head);
    head.contains("\"schema_version\"") && head.contains("\"vigil_version\"")
}

fn load_json(path: &Path, limit: Limit, detail: Detail) -> Result<RunResult, String> {
    // One buffer per reading thread, reused run after run: a fresh one per
    // file had the kernel clear its pages again each time (a third of the
    // time over 1,000 runs went to page faults).
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with_borrow_mut(|buf| {
        let cannot = |e: &dyn std::fmt::Display| format!("{}: cannot read: {e}", path.display());
        crate::input::read_file_into(path, limit, buf).map_err(|e| cannot(&e))?;
        let text = std::str::from_utf8(buf).map_err(|e| {
            cannot(&format!(
                "not valid UTF-8 text (at byte {})",
                e.valid_up_to()
            ))
        })?;
        let run = parse_json(path, text, detail);
        // A huge report is not kept for the next one.
        if buf.capacity() > 64 << 20 {
            *buf = Vec::new();
        }
        run
    })
}

mod report_json {
    //! The parts of a `vigil run -o json` report that are read back.
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Report {
        pub schema_version: Option<u64>,
        pub started_at: Option<String>,
        /// The time the state describes (the run's time for a report).
        pub now: Option<String>,
        #[serde(default)]
        pub meta: Vec<Meta>,
        pub tests: Option<Vec<Test>>,
        pub stale_exceptions: Option<Vec<Stale>>,
        pub junit: Option<String>,
    }
    #[derive(Deserialize)]
    pub struct Meta {
        #[serde(default)]
        pub name: String,
        pub outcome: Option<String>,
        pub details: Option<String>,
    }
    #[derive(Deserialize)]
    pub struct Test {
        #[serde(default)]
        pub name: String,
        pub monitor: Option<String>,
        pub check: Option<String>,
        pub namespace: Option<String>,
        pub component: Option<String>,
        pub lifecycle: Option<String>,
        pub outcome: Option<String>,
        pub note: Option<String>,
        pub measured_seconds: Option<f64>,
        #[serde(default)]
        pub findings: Vec<Finding>,
    }

    /// A report read for its outcomes only (every run but the latest):
    /// findings are skipped without being decoded.
    #[derive(Deserialize)]
    pub struct Lean {
        pub schema_version: Option<u64>,
        pub started_at: Option<String>,
        pub now: Option<String>,
        #[serde(default)]
        pub meta: Vec<Meta>,
        pub tests: Option<Vec<LeanTest>>,
        pub stale_exceptions: Option<Vec<Stale>>,
        pub junit: Option<String>,
    }
    #[derive(Deserialize)]
    pub struct LeanTest {
        #[serde(default)]
        pub name: String,
        pub monitor: Option<String>,
        pub check: Option<String>,
        pub namespace: Option<String>,
        pub component: Option<String>,
        pub lifecycle: Option<String>,
        pub outcome: Option<String>,
        pub note: Option<String>,
        pub measured_seconds: Option<f64>,
    }

    impl From<Lean> for Report {
        fn from(l: Lean) -> Report {
            Report {
                schema_version: l.schema_version,
                started_at: l.started_at,
                now: l.now,
                meta: l.meta,
                tests: l.tests.map(|t| {
                    t.into_iter()
                        .map(|t| Test {
                            name: t.name,
                            monitor: t.monitor,
                            check: t.check,
                            namespace: t.namespace,
                            component: t.component,
                            lifecycle: t.lifecycle,
                            outcome: t.outcome,
                            note: t.note,
                            measured_seconds: t.measured_seconds,
                            findings: Vec::new(),
                        })
                        .collect()
                }),
                stale_exceptions: l.stale_exceptions,
                junit: l.junit,
            }
        }
    }
    #[derive(Deserialize)]
    pub struct Finding {
        pub check: Option<String>,
        #[serde(default)]
        pub kind: String,
        #[serde(default)]
        pub name: String,
        pub pod: Option<String>,
        pub container: Option<String>,
        #[serde(default)]
        pub detail: String,
        pub outcome: Option<String>,
        pub disposition: Option<Disposition>,
    }
    #[derive(Deserialize)]
    pub struct Disposition {
        #[serde(rename = "type", default)]
        pub type_: String,
        pub jira: Option<String>,
        pub approved_by: Option<String>,
        pub expires: Option<String>,
        pub expired: Option<String>,
    }
    #[derive(Deserialize)]
    pub struct Stale {
        #[serde(default)]
        pub file: String,
        #[serde(default)]
        pub line: u64,
        #[serde(default)]
        pub check: String,
        pub namespace: Option<String>,
        pub object: Option<String>,
        pub jira: Option<String>,
        pub allow: Option<String>,
    }
}

fn parse_json(path: &Path, text: &str, detail: Detail) -> Result<RunResult, String> {
    let failed = |e: serde_json::Error| {
        format!(
            "{}:{}:{}: not a vigil JSON report or JUnit file ({e})",
            path.display(),
            e.line(),
            e.column()
        )
    };
    let v: report_json::Report = match detail {
        Detail::Full => crate::sources::json_from_str(text).map_err(failed)?,
        Detail::Outcomes => crate::sources::json_from_str::<report_json::Lean>(text)
            .map_err(failed)?
            .into(),
    };
    let not_ours = || {
        format!(
            "{}: not a vigil `-o json` report (no schema_version/tests)",
            path.display()
        )
    };
    if v.schema_version.is_none() {
        return Err(not_ours());
    }
    let tests_v = v.tests.ok_or_else(not_ours)?;
    let mut tests = BTreeMap::new();
    for m in v.meta {
        tests.insert(
            m.name.clone(),
            TestRecord {
                monitor: "vigil".into(),
                component: None,
                check: None,
                namespace: None,
                outcome: outcome_of(&m.outcome),
                informing: false,
                note: m.details,
                measured_seconds: None,
                violations: Vec::new(),
                name: m.name,
            },
        );
    }
    for t in tests_v {
        let record = test_record(t);
        tests.insert(record.name.clone(), record);
    }
    let stale = v.stale_exceptions.map(|a| {
        a.into_iter()
            .map(|e| StaleEntry {
                file: e.file,
                line: e.line,
                check: e.check,
                namespace: e.namespace,
                object: e.object,
                ticket: e.jira.or(e.allow),
            })
            .collect()
    });
    // The run's time is the time its state describes; older reports
    // without it, when it ran.
    let time = v
        .now
        .as_deref()
        .or(v.started_at.as_deref())
        .and_then(crate::model::time::parse);
    Ok(RunResult {
        source: path.to_owned(),
        form: "json",
        time,
        identity: identity_of(path),
        tests,
        stale,
        junit_file: v.junit.map(PathBuf::from),
    })
}

fn outcome_of(o: &Option<String>) -> Outcome {
    match o.as_deref() {
        Some("pass") => Outcome::Pass,
        Some("flake") => Outcome::Flake,
        Some("fail") => Outcome::Fail,
        _ => Outcome::Skip,
    }
}

/// One test of a JSON report, with its violations.
fn test_record(t: report_json::Test) -> TestRecord {
    let check = t.check;
    let violations = t
        .findings
        .into_iter()
        .map(|f| {
            let d = f.disposition;
            let dtype = d.as_ref().map(|d| d.type_.as_str()).unwrap_or("");
            let new = dtype == "new" || dtype == "expired";
            Violation {
                object: object_of(&f.kind, &f.name, f.pod.as_deref(), f.container.as_deref()),
                rule: f.check.or(check.clone()).unwrap_or_default(),
                detail: f.detail,
                outcome: outcome_of(&f.outcome),
                new,
                ticket: d.as_ref().and_then(|d| d.jira.clone()),
                approved_by: d.as_ref().and_then(|d| d.approved_by.clone()),
                expires: d.and_then(|d| d.expires.or(d.expired)),
            }
        })
        .collect();
    let name = t.name;
    TestRecord {
        monitor: t
            .monitor
            .unwrap_or_else(|| tag(&name, "[Monitor:").unwrap_or_default()),
        component: t.component,
        check,
        namespace: t.namespace,
        outcome: outcome_of(&t.outcome),
        informing: t.lifecycle.as_deref() == Some("informing"),
        note: t.note,
        // Finite and not negative, or not read: a forged report cannot
        // poison the suggestion.
        measured_seconds: t.measured_seconds.filter(|s| s.is_finite() && *s >= 0.0),
        violations,
        name,
    }
}

fn object_of(kind: &str, name: &str, pod: Option<&str>, container: Option<&str>) -> String {
    let mut o = format!("{kind}/{name}");
    if let Some(p) = pod {
        o.push_str(&format!(" pod {p}"));
    }
    if let Some(c) = container {
        o.push_str(&format!(" container {c}"));
    }
    o
}

/// `[Monitor:x]` → `x`; `[Jira:"y"]` → `y`.
pub fn tag(name: &str, open: &str) -> Option<String> {
    let start = name.find(open)? + open.len();
    let rest = &name[start..];
    let end = rest.find(']')?;
    Some(rest[..end].trim_matches('"').to_owned())
}

/// Reads JUnit files as Sippy does: every `<testcase>` of every suite, a
/// name with both a failing and a passing case is a flake, `<skipped>` is no
/// run. Violations come from the failure text's `FAIL  Kind/name: ...` lines.
fn load_junit(
    source: &Path,
    files: &[PathBuf],
    limit: Limit,
    detail: Detail,
) -> Result<RunResult, String> {
    #[derive(Default)]
    struct Seen {
        passed: bool,
        failed: bool,
        informing: bool,
        body: String,
        note: Option<String>,
    }
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let mut time = None;
    for f in files {
        let text = crate::input::read_to_string(f, limit)
            .map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
        parse_junit(f, &text, &mut |ev| match ev {
            Seen_::Case(name, case) => {
                let s = seen.entry(name).or_default();
                match case {
                    Case::Pass => s.passed = true,
                    Case::Fail(body) => {
                        s.failed = true;
                        if detail == Detail::Full {
                            s.body = body;
                        }
                    }
                    Case::Skip(m) => s.note = m,
                }
            }
            Seen_::Informing(name) => seen.entry(name).or_default().informing = true,
            // The state's time (`vigil.now`) wins over when the run started.
            Seen_::Now(t) => time = t.or(time),
            Seen_::Time(t) => {
                if time.is_none() {
                    time = t;
                }
            }
        })?;
    }
    let mut tests = BTreeMap::new();
    for (name, s) in seen {
        let outcome = match (s.failed, s.passed) {
            (true, true) => Outcome::Flake,
            (true, false) => Outcome::Fail,
            (false, true) => Outcome::Pass,
            (false, false) => Outcome::Skip,
        };
        let violations = violations_in_body(&s.body);
        tests.insert(
            name.clone(),
            TestRecord {
                monitor: tag(&name, "[Monitor:").unwrap_or_default(),
                component: tag(&name, "[Jira:"),
                check: None,
                namespace: name
                    .split(" in ns/")
                    .nth(1)
                    .and_then(|r| r.split_whitespace().next())
                    .map(str::to_owned),
                outcome,
                informing: s.informing,
                note: s.note,
                measured_seconds: None,
                violations,
                name,
            },
        );
    }
    Ok(RunResult {
        source: source.to_owned(),
        form: "junit",
        time,
        identity: identity_of(source),
        tests,
        stale: None,
        junit_file: None,
    })
}

/// The violations a failure body lists, one per line:
/// `FAIL  Deployment/x: detail`.
fn violations_in_body(body: &str) -> Vec<Violation> {
    body.lines()
        .filter_map(|l| {
            let (word, rest) = l.split_once("  ")?;
            let outcome = match word {
                "FAIL" => Outcome::Fail,
                "FLAKE" => Outcome::Flake,
                "PASS" | "ALLOW" | "ALLOWED" => Outcome::Pass,
                _ => return None,
            };
            let (object, detail) = rest.split_once(": ")?;
            Some(Violation {
                object: object.to_owned(),
                rule: String::new(),
                detail: detail.to_owned(),
                outcome,
                ticket: None,
                approved_by: None,
                expires: None,
                new: outcome == Outcome::Fail,
            })
        })
        .collect()
}

enum Seen_ {
    Case(String, Case),
    Informing(String),
    Time(Option<DateTime<Utc>>),
    Now(Option<DateTime<Utc>>),
}

enum Case {
    Pass,
    Fail(String),
    Skip(Option<String>),
}

fn parse_junit(path: &Path, text: &str, on: &mut dyn FnMut(Seen_)) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(text);
    let mut state = JunitState::default();
    loop {
        let ev = r
            .read_event()
            .map_err(|e| junit_error(path, text, &r, &e))?;
        let at = |e: &dyn std::fmt::Display| junit_error(path, text, &r, e);
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                state.element(e, empty, on).map_err(|x| at(&x))?;
            }
            Event::Text(t) if state.in_failure => {
                let t = t.decode().map_err(|x| at(&x))?;
                state.failure_text(&t);
            }
            Event::GeneralRef(g) if state.in_failure => {
                let ent = String::from_utf8_lossy(g).into_owned();
                state.failure_text(match ent.as_str() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
            }
            Event::End(e) if matches!(e.name().as_ref(), b"failure" | b"error") => {
                state.in_failure = false
            }
            Event::End(e) if e.name().as_ref() == b"testcase" => {
                if let Some((name, c)) = state.current.take() {
                    on(Seen_::Case(name, c.unwrap_or(Case::Pass)));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !state.saw_suite {
        return Err(format!(
            "{}: no <testsuite> in it: not JUnit",
            path.display()
        ));
    }
    Ok(())
}

fn junit_error(
    path: &Path,
    text: &str,
    r: &quick_xml::Reader<&[u8]>,
    e: &dyn std::fmt::Display,
) -> String {
    let (line, col) = line_col(text, r.buffer_position() as usize);
    format!("{}:{line}:{col}: not valid JUnit XML ({e})", path.display())
}

/// Where a JUnit reading is: the test case open, and whether its failure
/// body is being read.
#[derive(Default)]
struct JunitState {
    current: Option<(String, Option<Case>)>,
    in_failure: bool,
    saw_suite: bool,
}

/// An element's attributes, normalized, by name.
fn attributes(
    e: &quick_xml::events::BytesStart,
) -> Result<Vec<(Vec<u8>, String)>, quick_xml::Error> {
    let mut out = Vec::new();
    for a in e.attributes().flatten() {
        let v = a.normalized_value(quick_xml::XmlVersion::default())?;
        out.push((a.key.as_ref().to_vec(), v.into_owned()));
    }
    Ok(out)
}

impl JunitState {
    fn element(
        &mut self,
        e: &quick_xml::events::BytesStart,
        empty: bool,
        on: &mut dyn FnMut(Seen_),
    ) -> Result<(), quick_xml::Error> {
        let tag = e.name();
        if !matches!(
            tag.as_ref(),
            b"testsuite"
                | b"testsuites"
                | b"property"
                | b"testcase"
                | b"failure"
                | b"error"
                | b"skipped"
        ) {
            return Ok(());
        }
        let attrs = attributes(e)?;
        let attr = |name: &[u8]| -> Result<Option<String>, quick_xml::Error> {
            Ok(attrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()))
        };
        match tag.as_ref() {
            b"testsuite" | b"testsuites" => {
                self.saw_suite = true;
                if let Some(v) = attr(b"timestamp")? {
                    on(Seen_::Time(
                        DateTime::parse_from_rfc3339(&v)
                            .ok()
                            .map(|t| t.with_timezone(&Utc)),
                    ));
                }
            }
            b"property" if attr(b"name")?.as_deref() == Some("vigil.now") => {
                let value = attr(b"value")?.unwrap_or_default();
                on(Seen_::Now(crate::model::time::parse(&value)));
            }
            b"testcase" => {
                let name = attr(b"name")?.unwrap_or_default();
                if attr(b"lifecycle")?.as_deref() == Some("informing") {
                    on(Seen_::Informing(name.clone()));
                }
                if empty {
                    on(Seen_::Case(name, Case::Pass));
                } else {
                    self.current = Some((name, None));
                }
            }
            tag @ (b"failure" | b"error" | b"skipped") => {
                let is_skip = tag == b"skipped";
                let message = attr(b"message")?;
                if let Some((_, c)) = self.current.as_mut() {
                    *c = Some(if is_skip {
                        Case::Skip(message)
                    } else {
                        Case::Fail(String::new())
                    });
                    self.in_failure = !is_skip && !empty;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn failure_text(&mut self, t: &str) {
        if let Some((_, Some(Case::Fail(body)))) = self.current.as_mut() {
            body.push_str(t);
        }
    }
}

fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// What a CI artifact path says about its run: Prow's
/// `pr-logs/pull/<org_repo>/<pr>/<job>/<build>/` and `logs/<job>/<build>/`,
/// a `<sha>` segment of 40 hex digits, `pr-<n>` segments.
pub fn identity_of(path: &Path) -> Identity {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let mut id = Identity::default();
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    for (i, p) in parts.iter().enumerate() {
        let next = |k: usize| parts.get(i + k).cloned();
        if p == "pull" {
            if let (Some(pr), Some(job), Some(build)) = (next(2), next(3), next(4)) {
                if numeric(&pr) {
                    id.pr = Some(pr);
                    id.job = Some(job);
                    id.build = numeric(&build).then_some(build);
                }
            }
        } else if p == "logs" && id.job.is_none() {
            if let (Some(job), Some(build)) = (next(1), next(2)) {
                if numeric(&build) {
                    id.job = Some(job);
                    id.build = Some(build);
                }
            }
        } else if p.len() == 40 && p.bytes().all(|b| b.is_ascii_hexdigit()) {
            id.commit = Some(p.clone());
        } else if let Some(n) = p.strip_prefix("pr-").filter(|n| numeric(n)) {
            id.pr.get_or_insert(n.to_owned());
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="vigil"><testsuite name="vigil" tests="4" timestamp="2026-11-21T12:00:00+00:00">
<testcase name="[Monitor:ha-compliance][Jira:&quot;Shop&quot;] workloads in ns/shop should have at least two replicas">
<failure message="1 violation">FAIL  Deployment/cart: spec.replicas=1, want &gt;= 2
</failure></testcase>
<testcase name="[Monitor:ha-compliance][Jira:&quot;Shop&quot;] workloads in ns/shop should have at least two replicas"/>
<testcase name="[Monitor:infra-health] pods in ns/shop should not be crash-looping"><failure message="x">FAIL  StatefulSet/db pod db-0 container db: CrashLoopBackOff</failure></testcase>
<testcase name="[Monitor:infra-health] pods in ns/web should not be crash-looping" lifecycle="informing"/>
<testcase name="[Monitor:ha-compliance] nodes in ns/web should spread"><skipped message="single node"/></testcase>
</testsuite></testsuites>"#;

    #[test]
    fn junit_reads_as_sippy_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("junit_vigil.xml");
        std::fs::write(&p, JUNIT).unwrap();
        let r = load_run(dir.path(), Limit::files(1 << 30)).unwrap();
        assert_eq!(r.form, "junit");
        assert_eq!(r.time.unwrap().to_rfc3339(), "2026-11-21T12:00:00+00:00");
        let get = |n: &str| r.tests.values().find(|t| t.name.contains(n)).unwrap();
        let replicas = get("two replicas");
        assert_eq!(replicas.outcome, Outcome::Flake);
        assert_eq!(replicas.component.as_deref(), Some("Shop"));
        assert_eq!(replicas.namespace.as_deref(), Some("shop"));
        assert_eq!(replicas.violations[0].object, "Deployment/cart");
        assert_eq!(replicas.violations[0].detail, "spec.replicas=1, want >= 2");
        let crash = get("ns/shop should not be crash");
        assert_eq!(crash.outcome, Outcome::Fail);
        assert_eq!(
            crash.violations[0].object,
            "StatefulSet/db pod db-0 container db"
        );
        assert!(get("ns/web should not").informing);
        let skipped = get("should spread");
        assert_eq!(
            (skipped.outcome, skipped.note.as_deref()),
            (Outcome::Skip, Some("single node"))
        );
    }

    #[test]
    fn broken_inputs_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.xml");
        std::fs::write(&p, "<testsuite><testcase name='a'></testsuite>").unwrap();
        let e = load_run(&p, Limit::files(1 << 30)).unwrap_err();
        assert!(e.contains("x.xml:1:"), "{e}");
        let j = dir.path().join("r.json");
        std::fs::write(&j, "{\"hello\": 1}").unwrap();
        assert!(load_run(&j, Limit::files(1 << 30))
            .unwrap_err()
            .contains("not a vigil `-o json` report"));
        let empty = tempfile::tempdir().unwrap();
        assert!(load_run(empty.path(), Limit::files(1 << 30))
            .unwrap_err()
            .contains("holds no vigil JSON report"));
    }

    #[test]
    fn identity_comes_from_prow_paths() {
        let id = identity_of(Path::new(
            "gcs/origin-ci-test/pr-logs/pull/openshift_console/14210/pull-ci-e2e-aws/1850000000000000001/artifacts/junit",
        ));
        assert_eq!(id.pr.as_deref(), Some("14210"));
        assert_eq!(id.job.as_deref(), Some("pull-ci-e2e-aws"));
        assert_eq!(id.build.as_deref(), Some("1850000000000000001"));
        let id = identity_of(Path::new(
            "logs/periodic-vigil-ci-cluster/1850000000000000002/junit",
        ));
        assert_eq!(id.job.as_deref(), Some("periodic-vigil-ci-cluster"));
        assert_eq!(
            identity_of(Path::new("runs/today/junit")),
            Identity::default()
        );
    }
}
