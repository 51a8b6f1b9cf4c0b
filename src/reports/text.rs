//! The summary people read: counts, then each failing and flaking test with
//! its violations, then stale exceptions. Colour only on a terminal;
//! `NO_COLOR` is honoured (through anstream).

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{disposition_note, plural, RunReport};
use crate::checks::Monitor;
use crate::outcomes::{Outcome, TestResult};

/// The order of the summary: what is broken now first.
const SECTIONS: [(Outcome, Monitor, &str); 4] = [
    (
        Outcome::Fail,
        Monitor::InfraHealth,
        "Broken now: infra-health failures",
    ),
    (Outcome::Fail, Monitor::HaCompliance, "HA policy failures"),
    (
        Outcome::Flake,
        Monitor::InfraHealth,
        "Infra-health flakes (known problems, or under a fail threshold)",
    ),
    (
        Outcome::Flake,
        Monitor::HaCompliance,
        "HA policy flakes (known problems, or a check rolling out)",
    ),
];

/// One section's tests, in evaluation order.
fn section(tests: &[TestResult], wanted: Outcome, monitor: Monitor) -> Vec<&TestResult> {
    tests
        .iter()
        .filter(|t| t.outcome == wanted && t.monitor == monitor)
        .collect()
}

/// `a, b, c and 5 others`.
fn name_some(items: &[String], n: usize) -> String {
    let shown: Vec<&str> = items.iter().take(n).map(String::as_str).collect();
    match items.len().saturating_sub(n) {
        0 => shown.join(", "),
        k => format!(
            "{} and {} other{}",
            shown.join(", "),
            k,
            if k == 1 { "" } else { "s" }
        ),
    }
}

/// `ha/probes 20, ha/replicas 17`, most first.
fn counted(items: &[String]) -> String {
    let mut m: std::collections::BTreeMap<&str, usize> = Default::default();
    for i in items {
        *m.entry(i).or_default() += 1;
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Failures and flakes per monitor and per component, worst first: the
/// last lines of the summary and the system-out of `run should complete`,
/// so the owner is visible without scrolling.
pub fn tallies(run: &RunReport) -> Vec<String> {
    let Some(ev) = &run.evaluation else {
        return Vec::new();
    };
    let mut monitors: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let mut components: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for t in &ev.tests {
        let slot = match t.outcome {
            Outcome::Fail => 0,
            Outcome::Flake => 1,
            _ => continue,
        };
        let m = monitors.entry(t.monitor.as_str()).or_default();
        let c = components
            .entry(
                t.component
                    .clone()
                    .unwrap_or_else(|| "(no component)".into()),
            )
            .or_default();
        if slot == 0 {
            m.0 += 1;
            c.0 += 1;
        } else {
            m.1 += 1;
            c.1 += 1;
        }
    }
    let line = |v: Vec<(String, (usize, usize))>| {
        let mut v = v;
        v.sort_by(|a, b| (b.1).cmp(&a.1).then(a.0.cmp(&b.0)));
        v.iter()
            .map(|(k, (f, fl))| format!("{k} {f} failed, {fl} flaked"))
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    if monitors.is_empty() {
        return out;
    }
    out.push(format!(
        "by monitor: {}",
        line(
            monitors
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect()
        )
        .join("; ")
    ));
    let comps = line(components.into_iter().collect());
    let shown = comps.len().min(8);
    let mut c = format!("by component: {}", comps[..shown].join("; "));
    if comps.len() > shown {
        c.push_str(&format!(
            "; ... {} more",
            plural(comps.len() - shown, "component")
        ));
    }
    out.push(c);
    out
}

/// The summary's ordering in plain text, for the JUnit system-out of
/// `[Monitor:vigil] run should complete`: the CI page shows it.
pub fn digest(run: &RunReport) -> Option<String> {
    let ev = run.evaluation.as_ref()?;
    let mut lines = Vec::new();
    for (wanted, monitor, heading) in SECTIONS {
        let all = section(&ev.tests, wanted, monitor);
        if all.is_empty() {
            continue;
        }
        lines.push(format!("== {heading} ({}) ==", all.len()));
        for t in all.iter().take(40) {
            let n = t
                .findings
                .iter()
                .filter(|j| j.outcome != Outcome::Pass)
                .count();
            lines.push(format!("{} ({})", t.name, plural(n, "violation")));
        }
        if all.len() > 40 {
            let rest: Vec<String> = all[40..].iter().map(|t| t.check.to_owned()).collect();
            lines.push(format!(
                "... {} more: {}",
                plural(all.len() - 40, "test"),
                counted(&rest)
            ));
        }
    }
    lines.extend(tallies(run));
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Findings shown per test before "and N more".
const SHOWN: usize = 8;
/// Failing (and flaking) tests listed before the rest are only counted: a
/// broken cluster must not bury the summary under a hundred thousand lines.
const TESTS_SHOWN: usize = 100;

const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

fn tag(o: Outcome) -> (Style, &'static str) {
    match o {
        Outcome::Fail => (RED, "FAIL "),
        Outcome::Flake => (YELLOW, "FLAKE"),
        Outcome::Pass => (GREEN, "PASS "),
        Outcome::Skip => (DIM, "SKIP "),
    }
}

/// Text from the cluster or an input made safe for a terminal: control
/// characters (escape sequences that clear the screen or write the
/// clipboard) are shown as `\u{1b}` instead of being obeyed.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| (c.is_control() && c != '\n' && c != '\t') || c == '\u{7f}';
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if bad(c) {
                    format!("\\u{{{:x}}}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

pub fn write(out: &mut dyn Write, run: &RunReport) -> io::Result<()> {
    write_header(out, run)?;
    write_meta(out, run)?;
    if let Some(ev) = &run.evaluation {
        write_sections(out, &ev.tests)?;
        write_allowed_and_stale(out, ev)?;
        write_not_judged(out, ev)?;
    }
    write_totals(out, run)?;
    write_next(out, run)
}

fn write_header(out: &mut dyn Write, run: &RunReport) -> io::Result<()> {
    let topo = run
        .topology
        .as_ref()
        .map(|t| format!("topology {} ({})", t.name(), t.source))
        .unwrap_or_else(|| "topology unknown".into());
    writeln!(
        out,
        "{DIM}vigil {} · {} · {topo} · profile {} ({}) · state at {} ({}){DIM:#}",
        env!("CARGO_PKG_VERSION"),
        run.source,
        run.profile,
        run.profile_source,
        run.now,
        run.now_source
    )?;
    if let Some(ex) = &run.exceptions {
        writeln!(out, "{DIM}exceptions: {}{DIM:#}", printable(ex))?;
    }
    Ok(())
}

/// vigil's own tests that did not pass: what went wrong with the run.
fn write_meta(out: &mut dyn Write, run: &RunReport) -> io::Result<()> {
    for m in run.meta.iter().filter(|m| m.outcome != Outcome::Pass) {
        let (style, label) = tag(m.outcome);
        writeln!(out, "\n{style}{label}{style:#} {BOLD}{}{BOLD:#}", m.name)?;
        if let Some(msg) = &m.message {
            writeln!(out, "      {}", printable(msg))?;
        }
        if let Some(d) = m
            .details
            .as_ref()
            .filter(|d| Some(*d) != m.message.as_ref())
        {
            for line in d.lines().take(40) {
                writeln!(out, "      {DIM}{}{DIM:#}", printable(line))?;
            }
        }
    }
    Ok(())
}

/// Broken now (infra-health) before long-standing policy (ha-compliance),
/// failures before flakes.
fn write_sections(out: &mut dyn Write, tests: &[TestResult]) -> io::Result<()> {
    for (wanted, monitor, heading) in SECTIONS {
        let all = section(tests, wanted, monitor);
        if all.is_empty() {
            continue;
        }
        writeln!(out, "\n{BOLD}== {heading} ({}) =={BOLD:#}", all.len())?;
        for t in all.iter().take(TESTS_SHOWN) {
            write_test(out, t)?;
        }
        if all.len() > TESTS_SHOWN {
            let rest: Vec<String> = all[TESTS_SHOWN..]
                .iter()
                .map(|t| t.check.to_owned())
                .collect();
            writeln!(
                out,
                "\n{DIM}... {} more not listed here: {} (the JUnit and -o json have them all){DIM:#}",
                plural(all.len() - TESTS_SHOWN, "test"),
                counted(&rest)
            )?;
        }
    }
    Ok(())
}

/// Why a finding only flakes, when no ticket says it: its check made it a
/// flake on its own (a threshold), or the check is rolling out.
fn flake_reason(t: &TestResult, j: &crate::outcomes::Judged) -> Option<&'static str> {
    use crate::exceptions::Disposition;
    if j.outcome != Outcome::Flake || !matches!(j.disposition, Disposition::New) {
        return None;
    }
    if j.finding.severity == crate::checks::Severity::Flake {
        Some("a flake by the check's own rule (its policy.yaml thresholds), not a failure")
    } else if t.mode == crate::checks::Mode::FlakeOnly {
        Some("flakes: the check is flake-only while it rolls out")
    } else {
        None
    }
}

fn write_test(out: &mut dyn Write, t: &TestResult) -> io::Result<()> {
    let (style, label) = tag(t.outcome);
    let informing = if t.informing() { " (informing)" } else { "" };
    writeln!(
        out,
        "\n{style}{label}{style:#} {BOLD}{}{BOLD:#}{DIM}{informing}{DIM:#}",
        printable(&t.name)
    )?;
    let shown: Vec<_> = t
        .findings
        .iter()
        .filter(|j| j.outcome != Outcome::Pass)
        .collect();
    if shown.is_empty() {
        if let Some(n) = &t.note {
            writeln!(out, "      {}", printable(n))?;
        }
    }
    for j in shown.iter().take(SHOWN) {
        let (s, mark) = match j.outcome {
            Outcome::Fail => (RED, "✗"),
            _ => (YELLOW, "~"),
        };
        write!(
            out,
            "      {s}{mark}{s:#} {}",
            printable(&j.finding.to_string())
        )?;
        match disposition_note(j).or_else(|| flake_reason(t, j).map(str::to_owned)) {
            Some(n) => writeln!(out, "  {DIM}[{}]{DIM:#}", printable(&n))?,
            None => writeln!(out)?,
        }
    }
    if shown.len() > SHOWN {
        let rest: Vec<String> = shown[SHOWN..].iter().map(|j| j.finding.object()).collect();
        writeln!(
            out,
            "      {DIM}... and {} more: {} (the JUnit and -o json have them all){DIM:#}",
            shown.len() - SHOWN,
            printable(&name_some(&rest, 4))
        )?;
    }
    Ok(())
}

fn write_allowed_and_stale(
    out: &mut dyn Write,
    ev: &crate::outcomes::Evaluation,
) -> io::Result<()> {
    let allowed = ev
        .tests
        .iter()
        .flat_map(|t| t.findings.iter())
        .filter(|j| j.outcome == Outcome::Pass)
        .count();
    if allowed > 0 {
        let (n, verb) = if allowed == 1 {
            ("violation", "passes")
        } else {
            ("violations", "pass")
        };
        writeln!(out, "\n{DIM}{allowed} {n} {verb} under an `allow` exception (listed in the JUnit system-out){DIM:#}")?;
    }
    if ev.stale.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\n{YELLOW}Stale exceptions{YELLOW:#} matched no violation in this run; delete them or fix their namespace/object:"
    )?;
    for s in &ev.stale {
        let what = s
            .jira
            .clone()
            .or_else(|| s.allow.as_ref().map(|a| format!("allow: {a}")))
            .unwrap_or_default();
        writeln!(
            out,
            "  {}:{}  {} ns/{} {}{}  {DIM}{}{DIM:#}",
            s.file,
            s.line,
            s.check,
            printable(s.namespace.as_deref().unwrap_or("(claimed)")),
            printable(s.object.as_deref().unwrap_or("(any object)")),
            s.finding
                .as_deref()
                .map(|f| format!(" \"{}\"", printable(f)))
                .unwrap_or_default(),
            printable(&what)
        )?;
    }
    Ok(())
}

fn write_not_judged(out: &mut dyn Write, ev: &crate::outcomes::Evaluation) -> io::Result<()> {
    if ev.not_judged.is_empty() {
        return Ok(());
    }
    let mut by_kind: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for n in &ev.not_judged {
        by_kind
            .entry(&n.kind)
            .or_default()
            .push(format!("{}/{}", n.namespace, n.name));
    }
    writeln!(
        out,
        "\n{DIM}Not judged by the HA rules (their pods are still judged by infra-health):{DIM:#}"
    )?;
    for (kind, names) in by_kind {
        let shown: Vec<_> = names
            .iter()
            .take(5)
            .map(|n| printable(n).into_owned())
            .collect();
        let more = names.len().saturating_sub(5);
        writeln!(
            out,
            "  {}: {}{}",
            plural(names.len(), kind),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )?;
    }
    Ok(())
}

/// What to do next, after a run that failed: one line a person can act on.
fn write_next(out: &mut dyn Write, run: &RunReport) -> io::Result<()> {
    let Some(ev) = &run.evaluation else {
        return Ok(());
    };
    let new = ev
        .tests
        .iter()
        .filter(|t| !t.informing())
        .flat_map(|t| t.findings.iter())
        .filter(|j| {
            j.outcome == Outcome::Fail
                && matches!(j.disposition, crate::exceptions::Disposition::New)
        })
        .count();
    if new == 0 {
        return Ok(());
    }
    let exceptions = run
        .exceptions
        .as_deref()
        .filter(|e| !e.starts_with("none"))
        .map(|e| e.split(" (").next().unwrap_or(e).to_owned())
        .unwrap_or_else(|| "exceptions/".to_owned());
    writeln!(
        out,
        "{DIM}next: fix what is new, or record the known problems: `vigil exceptions suggest --from <the same input> --exceptions {}` writes a `jira: TODO` entry per violation into the owning component's file (file a ticket each, replace the TODOs, `vigil exceptions lint`); `vigil checks` explains each rule; `-o json` lists every finding.{DIM:#}",
        printable(&exceptions)
    )
}

fn write_totals(out: &mut dyn Write, run: &RunReport) -> io::Result<()> {
    let (mut total, mut pass, mut flake, mut fail, mut skip) = (0, 0, 0, 0, 0);
    let outcomes = run.meta.iter().map(|m| m.outcome).chain(
        run.evaluation
            .iter()
            .flat_map(|e| e.tests.iter().map(|t| t.outcome)),
    );
    for o in outcomes {
        total += 1;
        match o {
            Outcome::Pass => pass += 1,
            Outcome::Flake => flake += 1,
            Outcome::Fail => fail += 1,
            Outcome::Skip => skip += 1,
        }
    }
    let violations = run.evaluation.as_ref().map_or(0, |e| e.violations());
    let informing_fails = run.evaluation.as_ref().map_or(0, |e| {
        e.tests
            .iter()
            .filter(|t| t.informing() && t.outcome == Outcome::Fail)
            .count()
    });
    let namespaces = run.evaluation.as_ref().map_or(0, |e| e.namespaces);
    writeln!(out)?;
    for l in tallies(run) {
        writeln!(out, "{}", printable(&l))?;
    }
    // The verdict is the exit status's: informing failures do not decide it.
    let (style, verdict) = tag(run.worst_blocking());
    writeln!(
        out,
        "{style}{}{style:#} {} in {}: {GREEN}{pass} passed{GREEN:#}, {YELLOW}{flake} flaked{YELLOW:#}, {RED}{fail} failed{RED:#}{}{} · {} · {:.2}s",
        verdict.trim(),
        plural(total, "test"),
        plural(namespaces, "namespace"),
        if informing_fails > 0 {
            format!(" ({informing_fails} informing, not blocking)")
        } else {
            String::new()
        },
        if skip > 0 { format!(", {skip} skipped") } else { String::new() },
        plural(violations, "violation"),
        run.seconds
    )?;
    match &run.junit {
        Some(p) => writeln!(out, "JUnit: {p}")?,
        None => writeln!(out, "{DIM}JUnit: not written{DIM:#}")?,
    }
    Ok(())
}
