//! JUnit XML for Sippy.
//!
//! Sippy identifies a test by (suite, name) across every JUnit file of a
//! job. A flake is the same name failing and then passing in the same suite
//! of the same file, so a flaking test is written as a failing `<testcase>`
//! immediately followed by a passing one. Informing tests carry
//! `lifecycle="informing"`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{disposition_note, MetaTest, RunReport};
use crate::outcomes::{Outcome, TestResult};

/// Failure bodies longer than this are cut at a line boundary.
pub const MAX_BODY: usize = 64 * 1024;

/// Removes what XML 1.0 cannot carry. quick-junit's `XmlString` strips ANSI
/// escape sequences and C0 controls; this also drops DEL and the
/// non-characters U+FFFE/U+FFFF, which it lets through. Its ANSI stripper
/// also deletes tabs and carriage returns, so both become spaces first.
pub fn xml_safe(s: &str) -> String {
    // Fast path: almost all text is clean, and the ANSI stripper is slow.
    if !s
        .chars()
        .any(|c| (c < ' ' && c != '\n') || matches!(c, '\u{7f}' | '\u{fffe}' | '\u{ffff}'))
    {
        return s.to_owned();
    }
    // XML parsers turn a lone carriage return into a line break and
    // Sippy's reader keeps it: CRLF becomes LF, a lone CR a space.
    let s = s.replace("\r\n", "\n").replace(['\r', '\t'], " ");
    quick_junit::XmlString::new(s)
        .as_str()
        .chars()
        .filter(|&c| c == '\n' || (c >= ' ' && c != '\u{7f}' && c != '\u{fffe}' && c != '\u{ffff}'))
        .collect()
}

/// Cuts `body` to at most `max` bytes at a line boundary, saying how much was left out.
pub fn truncate_body(body: &str, max: usize) -> String {
    if body.len() <= max {
        return body.to_owned();
    }
    let mut cut = max;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    let kept = match body[..cut].rfind('\n') {
        Some(i) => &body[..i],
        None => &body[..cut],
    };
    let dropped = body[kept.len()..].lines().filter(|l| !l.is_empty()).count();
    format!("{kept}\n... truncated: {dropped} more lines not shown; `vigil run -o json` lists every violation")
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// A short tag for a weighed finding: `OCPBUGS-1`, `OCPBUGS-1 expired 2020-01-01`.
fn short_tag(j: &crate::outcomes::Judged) -> Option<String> {
    use crate::exceptions::Disposition;
    match &j.disposition {
        Disposition::Ticket(m) => Some(m.jira.clone()),
        Disposition::Expired(m) => Some(format!("{} expired {}", m.jira, m.expired)),
        Disposition::New | Disposition::Allowed(_) => None,
    }
}

/// The failure message: one line a dashboard can show.
pub fn failure_message(t: &TestResult) -> String {
    let bad: Vec<_> = t
        .findings
        .iter()
        .filter(|j| j.outcome != Outcome::Pass)
        .collect();
    let Some(first) = bad.first() else {
        // Failing without findings: the check could not be evaluated.
        return one_line(t.note.as_deref().unwrap_or(""));
    };
    let mut first_text = first.finding.to_string();
    if let Some(tag) = short_tag(first) {
        first_text.push_str(&format!(" [{tag}]"));
    }
    let msg = match bad.len() {
        1 => first_text,
        n => format!("{n} violations; first: {first_text}"),
    };
    one_line(&msg)
}

/// The failure body: every violation that did not pass, with its ticket.
pub fn failure_body(t: &TestResult) -> String {
    let mut out = String::new();
    if t.outcome != Outcome::Pass && t.findings.iter().all(|j| j.outcome == Outcome::Pass) {
        if let Some(n) = &t.note {
            out.push_str(n);
            out.push('\n');
        }
    }
    for j in t.findings.iter().filter(|j| j.outcome != Outcome::Pass) {
        let tag = match j.outcome {
            Outcome::Fail => "FAIL ",
            _ => "FLAKE",
        };
        out.push_str(&format!("{tag} {}", j.finding));
        if let Some(n) = disposition_note(j) {
            out.push_str(&format!("  [{n}]"));
        }
        out.push('\n');
    }
    if t.mode == crate::checks::Mode::FlakeOnly {
        out.push_str(&format!(
            "({} is flake-only while it rolls out: its violations are reported as flakes until their exceptions are filed)\n",
            t.check
        ));
    }
    if t.informing() {
        out.push_str(&format!(
            "({} is informing: its failures do not block the job)\n",
            t.check
        ));
    }
    truncate_body(&out, MAX_BODY)
}

/// system-out: allowed findings (which pass but stay visible) and notes.
pub fn system_out(t: &TestResult) -> Option<String> {
    let mut out = String::new();
    if let Some(n) = &t.note {
        out.push_str(n);
        out.push('\n');
    }
    for j in t.findings.iter().filter(|j| j.outcome == Outcome::Pass) {
        out.push_str(&format!("ALLOWED {}", j.finding));
        if let Some(n) = disposition_note(j) {
            out.push_str(&format!("  [{n}]"));
        }
        out.push('\n');
    }
    (!out.is_empty()).then(|| truncate_body(&out, MAX_BODY))
}

fn case(name: &str, status: TestCaseStatus, informing: bool, out: Option<String>) -> TestCase {
    let mut c = TestCase::new(xml_safe(name), status);
    // Every verdict comes from one evaluation of the whole state; the run's
    // time is on the suite.
    c.set_time(std::time::Duration::ZERO);
    if informing {
        c.extra.insert("lifecycle".into(), "informing".into());
    }
    if let Some(o) = out {
        c.set_system_out(xml_safe(&o));
    }
    c
}

fn failure(message: &str, body: &str) -> TestCaseStatus {
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
    s.set_message(xml_safe(message));
    s.set_description(xml_safe(body));
    s
}

/// Appends the `<testcase>` elements of one result: one when it passes or
/// fails, a failing and a passing one (same name, adjacent) when it flakes.
pub fn push_cases(cases: &mut Vec<TestCase>, t: &TestResult) {
    let informing = t.informing();
    match t.outcome {
        Outcome::Skip => {
            cases.push(case(
                &t.name,
                skipped(t.note.as_deref().unwrap_or("not evaluated")),
                informing,
                None,
            ));
        }
        Outcome::Pass => {
            cases.push(case(
                &t.name,
                TestCaseStatus::success(),
                informing,
                system_out(t),
            ));
        }
        Outcome::Fail => {
            let status = failure(&failure_message(t), &failure_body(t));
            cases.push(case(&t.name, status, informing, system_out(t)));
        }
        Outcome::Flake => {
            let status = failure(&failure_message(t), &failure_body(t));
            cases.push(case(&t.name, status, informing, system_out(t)));
            let known: Vec<String> = t
                .findings
                .iter()
                .filter_map(|j| match &j.disposition {
                    crate::exceptions::Disposition::Ticket(m) => Some(m.jira.clone()),
                    _ => None,
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let note = if known.is_empty() {
                "this passing case marks the failure above as a flake".to_owned()
            } else {
                format!(
                    "known issues: {}; this passing case marks the failure above as a flake",
                    known.join(", ")
                )
            };
            cases.push(case(
                &t.name,
                TestCaseStatus::success(),
                informing,
                Some(note),
            ));
        }
    }
}

/// A `<skipped message="...">` case: Sippy does not count it as a run.
fn skipped(reason: &str) -> TestCaseStatus {
    let mut s = TestCaseStatus::skipped();
    s.set_message(xml_safe(&one_line(reason)));
    s
}

fn push_meta(cases: &mut Vec<TestCase>, m: &MetaTest) {
    let status = match m.outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::Skip => skipped(m.message.as_deref().unwrap_or("not reached")),
        _ => {
            // Sippy keeps the failure body, not the message: the body
            // always starts with what went wrong.
            let message = m.message.as_deref().unwrap_or("");
            let body = match m.details.as_deref() {
                Some(d) if d.starts_with(message) => d.to_owned(),
                Some(d) if !d.is_empty() => format!("{message}\n{d}"),
                _ => message.to_owned(),
            };
            failure(&one_line(message), &truncate_body(&body, MAX_BODY))
        }
    };
    let out = (m.outcome == Outcome::Pass)
        .then(|| m.details.clone())
        .flatten();
    cases.push(case(&m.name, status, false, out));
}

/// Builds the JUnit document: vigil's own tests first, then every check's.
pub fn build(run: &RunReport) -> Report {
    let suite_name = xml_safe(&run.suite);
    let mut suite = TestSuite::new(suite_name.clone());
    let mut cases = Vec::new();
    for m in &run.meta {
        push_meta(&mut cases, m);
    }
    suite.add_test_cases(cases);
    if let Some(ev) = &run.evaluation {
        // On all cores, in order: quick-junit cleans every string it is
        // given (ANSI escapes, byte by byte), most of building a large report.
        let chunks: Vec<&[TestResult]> = ev.tests.chunks(64).collect();
        let parts = crate::parallel::map_in_order(&chunks, |tests| {
            let mut cases = Vec::with_capacity(tests.len());
            for t in *tests {
                push_cases(&mut cases, t);
            }
            cases
        });
        for part in parts {
            suite.add_test_cases(part);
        }
    }
    let took = std::time::Duration::from_secs_f64(run.seconds.max(0.0));
    let started: DateTime<chrono::FixedOffset> = run.started_at.into();
    suite.set_time(took).set_timestamp(started);
    // The time the state describes (the suite's timestamp is when vigil
    // ran): what `vigil report` dates the run by.
    suite.add_property(quick_junit::Property::new("vigil.now", xml_safe(&run.now)));
    let mut report = Report::new(suite_name);
    report.set_time(took).set_timestamp(started);
    report.add_test_suite(suite);
    report
}

/// The suite vigil's tests go in unless `--suite-name` says otherwise:
/// one Sippy stores (its `pkg/db/suites.go`) and ci-test-mapping reads (its
/// `includeSuites`) today, and not `openshift-tests`, whose synthetic test
/// and pass rate would read every HA violation as a failed e2e run.
pub const DEFAULT_SUITE: &str = "Symptom Detection";

/// `junit_<suite>_<UTC yyyymmdd-hhmmss>_<6 hex>.xml`: inside Sippy's
/// `**junit**.xml` glob, and never the same for two runs (same second,
/// other suite name, or both), so one run never overwrites another's.
pub fn file_name(suite: &str, at: DateTime<Utc>, unique: u32) -> String {
    let mut tag: String = suite
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if tag.trim_matches(['-', '.']).is_empty() {
        tag = "vigil".into();
    }
    format!(
        "junit_{tag}_{}_{:06x}.xml",
        at.format("%Y%m%d-%H%M%S"),
        unique & 0xff_ffff
    )
}

/// Where this run's JUnit goes, decided before anything else so that every
/// way a run can end (signal, deadline, crash, usage error) writes it.
#[derive(Debug, Clone)]
pub struct Target {
    pub dir: PathBuf,
    pub suite: String,
    pub at: DateTime<Utc>,
    unique: u32,
}

/// Where JUnit goes unless told: `$ARTIFACT_DIR/junit` (where Prow uploads
/// from and Sippy reads), else `./junit`.
pub fn default_dir() -> PathBuf {
    match std::env::var_os("ARTIFACT_DIR").filter(|v| !v.is_empty()) {
        Some(a) => PathBuf::from(a).join("junit"),
        None => PathBuf::from("junit"),
    }
}

impl Target {
    pub fn new(dir: PathBuf, suite: String, at: DateTime<Utc>) -> Target {
        // Process id, clock bits and a counter: distinct for runs in the
        // same second (and the name is never reused: see `write`).
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = Utc::now().timestamp_subsec_nanos();
        let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let unique = (std::process::id().wrapping_mul(2_654_435_761) ^ nanos)
            .wrapping_add(count.wrapping_mul(0x9e37));
        Target {
            dir,
            suite,
            at,
            unique,
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(file_name(&self.suite, self.at, self.unique))
    }

    /// Writes `report` through a temporary file renamed into place, so a
    /// killed run never leaves a truncated XML file behind, and never over
    /// an existing file.
    pub fn write(&self, report: &Report) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path();
        crate::atomic::write(&path, crate::atomic::Existing::Keep, |w| {
            report
                .serialize(w)
                .map_err(|e| std::io::Error::other(e.to_string()))
        })?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_what_xml_cannot_carry() {
        assert_eq!(
            xml_safe("a\u{0}b\u{1b}[31mc\u{1b}[0m\r\nd\te\u{fffe}f\u{ffff}g\u{7f}h"),
            "abc\nd efgh"
        );
        assert_eq!(
            xml_safe("progress 10%\rprogress 20%"),
            "progress 10% progress 20%"
        );
        assert_eq!(xml_safe("ünïcödé ✓ 😀"), "ünïcödé ✓ 😀");
    }

    #[test]
    fn truncation_keeps_whole_lines_and_says_so() {
        let body: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let t = truncate_body(&body, 100);
        assert!(t.len() < 250);
        assert!(t.starts_with("line 0\nline 1\n"));
        assert!(t.contains("... truncated: "), "{t}");
        assert_eq!(truncate_body("short", 100), "short");
    }

    #[test]
    fn file_name_format() {
        let at = DateTime::parse_from_rfc3339("2026-11-21T04:05:06Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            file_name("vigil", at, 0xabc),
            "junit_vigil_20261121-040506_000abc.xml"
        );
        // Suite names become safe file-name parts; they stay in Sippy's glob.
        assert_eq!(
            file_name("ha / nightly", at, 1),
            "junit_ha---nightly_20261121-040506_000001.xml"
        );
        assert_eq!(
            file_name("../..", at, 1),
            "junit_vigil_20261121-040506_000001.xml"
        );
    }

    #[test]
    fn two_runs_in_the_same_second_never_share_a_file() {
        let d = tempfile::tempdir().unwrap();
        let at = Utc::now();
        let report = Report::new("vigil");
        let a = Target::new(d.path().into(), "vigil".into(), at);
        let b = Target::new(d.path().into(), "vigil".into(), at);
        let (pa, pb) = (a.write(&report).unwrap(), b.write(&report).unwrap());
        assert_ne!(pa, pb);
        // The same target never replaces what it wrote.
        assert!(a.write(&report).is_err());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
    }
}
