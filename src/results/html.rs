//! The report as one self-contained HTML page: no request leaves the file
//! (a Content-Security-Policy forbids any), readable on a laptop and on
//! paper, colours from a palette that survives colour blindness and never
//! the only signal (every outcome is also a word and a symbol).

use std::fmt::Write as _;

use super::aggregate::{Aggregate, Cell};
use super::Outcome;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

fn badge(o: Outcome) -> &'static str {
    match o {
        Outcome::Fail => "✗ fail",
        Outcome::Flake => "~ flake",
        Outcome::Pass => "✓ pass",
        Outcome::Skip => "– not evaluated",
    }
}

fn class(o: Outcome) -> &'static str {
    match o {
        Outcome::Fail => "fail",
        Outcome::Flake => "flake",
        Outcome::Pass => "pass",
        Outcome::Skip => "skip",
    }
}

fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p > 0.0 && p < 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// A link to the ticket when a Jira base URL is given and the value is a key.
fn ticket(t: &str, jira: Option<&str>) -> String {
    if t.starts_with("https://") {
        return format!("<a href=\"{0}\">{0}</a>", esc(t));
    }
    match jira {
        Some(base) => format!(
            "<a href=\"{}/browse/{}\">{}</a>",
            esc(base.trim_end_matches('/')),
            esc(t),
            esc(t)
        ),
        None => esc(t),
    }
}

const STYLE: &str = "
:root{--fail:#b2182b;--flake:#e08214;--pass:#2166ac;--skip:#6b6b6b;--bg:#fff;--fg:#1a1a1a}
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg);margin:1.5rem auto;max-width:1360px;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .45rem;text-align:left;vertical-align:top}
th[scope=col]{background:#f2f2f2;position:sticky;top:0}td.num{text-align:right;font-variant-numeric:tabular-nums}
#matrix-table{width:100%}#matrix-table th[scope=row]{position:sticky;left:0;background:#fafafa;min-width:11rem;max-width:16rem;overflow-wrap:anywhere}
.fail{color:#fff;background:var(--fail)}.flake{color:#000;background:var(--flake)}.pass{color:#fff;background:var(--pass)}.skip{color:#fff;background:var(--skip)}
.verdict-cell{white-space:nowrap;font-weight:600}
details.chip{display:inline-block;margin:.1rem .2rem .1rem 0;border-radius:3px;vertical-align:top}
details.chip>summary{cursor:pointer;padding:.05rem .4rem;font-weight:600;white-space:nowrap;list-style:none}
details.chip>summary::-webkit-details-marker{display:none}
details.chip[open]{display:block;background:#fff;color:var(--fg);border:2px solid currentColor;margin:.3rem 0;padding:0 .5rem .3rem}
details.chip[open]>summary{margin:0 -.5rem .2rem}
details.chip.pass{background:#e8eef6;color:var(--fg)}details.chip.pass>summary{font-weight:400}
.key span{display:inline-block;padding:0 .4rem;margin-right:.4rem}
ul.v{margin:.3rem 0;padding-left:1.1rem}code{font-size:.85em}
.verdict{font-size:1.1rem;font-weight:700}svg{vertical-align:middle}
details.group>summary{cursor:pointer;font-weight:600;margin:.4rem 0}
@media print{details{display:block}details>*{display:block}body{margin:0;max-width:none}a{color:inherit}th[scope=col],#matrix-table th[scope=row]{position:static}}
";

/// Opens the cell named in the URL's `#open=` fragment with a real click,
/// so a bookmark (or a test) can show one cell's violations.
const SCRIPT: &str = "
document.addEventListener('DOMContentLoaded',function(){
  var m=location.hash.match(/^#open=(.+)$/);if(!m)return;
  var d=document.getElementById(decodeURIComponent(m[1]));if(!d)return;
  var p=d.parentElement.closest('details');if(p&&!p.open)p.querySelector('summary').click();
  d.querySelector('summary').click();d.scrollIntoView();
});";

/// At most this many points in a trend line: a year of runs is averaged
/// into buckets, so the page does not grow with the runs.
const TREND_POINTS: usize = 120;

fn sparkline(trend: &[Option<f64>]) -> String {
    let (w, h) = (120.0, 24.0);
    // Buckets of consecutive runs, each the mean of the runs that had tests.
    let per = trend.len().div_ceil(TREND_POINTS).max(1);
    let points: Vec<Option<f64>> = trend
        .chunks(per)
        .map(|c| {
            let v: Vec<f64> = c.iter().flatten().copied().collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        })
        .collect();
    let n = points.len().max(2) as f64 - 1.0;
    let pts: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.map(|v| format!("{:.1},{:.1}", i as f64 * w / n, h - 2.0 - v * (h - 4.0)))
        })
        .collect();
    let label = {
        let shown: Vec<String> = trend
            .iter()
            .rev()
            .take(12)
            .rev()
            .map(|v| v.map_or("–".into(), pct))
            .collect();
        format!(
            "fail rate per run, oldest first{}: {}",
            if trend.len() > 12 { " (last 12)" } else { "" },
            shown.join(", ")
        )
    };
    format!(
        "<svg role=\"img\" aria-label=\"{}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\"><title>{}</title><rect width=\"{w}\" height=\"{h}\" fill=\"#f6f6f6\"/><polyline fill=\"none\" stroke=\"#b2182b\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        esc(&label),
        esc(&label),
        pts.join(" ")
    )
}

/// What the page may still list: a hostile or enormous run cannot make it
/// grow without bound (the JSON form has everything).
struct Budget {
    violations: usize,
}

/// Violations listed on the whole page, at most.
const PAGE_VIOLATIONS: usize = 3000;
/// Components listed in the matrix, at most.
const PAGE_COMPONENTS: usize = 400;

fn violation_html(out: &mut String, v: &super::Violation, jira: Option<&str>) {
    let how = match (&v.ticket, &v.approved_by) {
        (Some(t), _) => format!(
            " — ticket {}{}",
            ticket(t, jira),
            v.expires
                .as_ref()
                .map(|e| format!(", expires {}", esc(e)))
                .unwrap_or_default()
        ),
        (None, Some(a)) => format!(" — allowed, approved by {}", esc(a)),
        _ if v.new => " — <strong>new: no exception</strong>".into(),
        _ => String::new(),
    };
    let _ = write!(
        out,
        "<li><span class=\"{}\">{}</span> <code>{}</code>{}: {}{}</li>",
        class(v.outcome),
        badge(v.outcome),
        esc(&v.object),
        if v.rule.is_empty() {
            String::new()
        } else {
            format!(" <small>[{}]</small>", esc(&v.rule))
        },
        esc(&v.detail),
        how
    );
}

/// One check of one component: a chip that opens its violations.
fn cell_html(out: &mut String, id: &str, c: &Cell, jira: Option<&str>, budget: &mut Budget) {
    let count = if c.violation_count == 0 {
        String::new()
    } else {
        format!(" ({})", c.violation_count)
    };
    let _ = write!(
        out,
        "<details class=\"chip {}\" id=\"{}\"><summary aria-label=\"{}: {} for {}, {} violations\">{} {}{}</summary>",
        class(c.outcome),
        esc(id),
        esc(&c.component),
        badge(c.outcome),
        esc(&c.check),
        c.violation_count,
        symbol(c.outcome),
        esc(&c.check),
        count
    );
    if !c.violations.is_empty() {
        let room = c.violations.len().min(budget.violations);
        budget.violations -= room;
        out.push_str("<ul class=\"v\">");
        for v in &c.violations[..room] {
            violation_html(out, v, jira);
        }
        out.push_str("</ul>");
        let unlisted = c.violation_count - room;
        if unlisted > 0 {
            let _ = write!(
                out,
                "<p><small>… {unlisted} more violation{} in the JSON form (-o json).</small></p>",
                if unlisted == 1 { "" } else { "s" }
            );
        }
    }
    for note in &c.notes {
        let _ = write!(out, "<p>{}</p>", esc(note));
    }
    let n = c.tests.len() + c.more_tests;
    let _ = write!(
        out,
        "<p><small>{n} test{}: {}{}</small></p>",
        if n == 1 { "" } else { "s" },
        c.tests
            .iter()
            .map(|t| esc(t))
            .collect::<Vec<_>>()
            .join("; "),
        if c.more_tests > 0 {
            format!("; … {} more", c.more_tests)
        } else {
            String::new()
        }
    );
    out.push_str("</details>");
}

fn symbol(o: Outcome) -> &'static str {
    match o {
        Outcome::Fail => "✗",
        Outcome::Flake => "~",
        Outcome::Pass => "✓",
        Outcome::Skip => "–",
    }
}

/// The id of a matrix cell (also what `#open=` takes).
pub fn cell_id(component: &str, check: &str) -> String {
    let slug = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>()
    };
    format!("cell-{}--{}", slug(component), slug(check))
}

/// A run's time for people: the time its state describes, to the second.
fn when(r: &super::aggregate::RunInfo) -> String {
    r.time
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| r.source.clone())
}

pub fn render(a: &Aggregate, jira: Option<&str>) -> String {
    let mut o = String::with_capacity(256 << 10);
    write_head(&mut o, a);
    write_matrix(&mut o, a, jira);
    write_budget(&mut o, a);
    write_components(&mut o, a);
    write_tests(&mut o, a);
    write_exceptions(&mut o, a, jira);
    write_runs(&mut o, a);
    let _ = write!(o, "<p><small>Written by vigil {}. This page makes no network request.</small></p></main></body></html>", env!("CARGO_PKG_VERSION"));
    o
}

fn write_head(o: &mut String, a: &Aggregate) {
    let latest = a.runs.last();
    let title = match latest {
        Some(r) if a.runs.len() == 1 => format!("vigil report: {}", r.source),
        _ => format!("vigil report: {} runs", a.runs.len()),
    };
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style><script>{SCRIPT}</script></head><body><main>",
        esc(&title)
    );
    let _ = write!(o, "<h1>{}</h1>", esc(&title));
    if let Some(r) = latest {
        let _ = write!(
            o,
            "<p>Latest run: <strong>{}</strong>, state at {}{} — {} passed, {} flaked, {} failed, {} not evaluated.</p>",
            esc(&r.source),
            esc(&when(r)),
            [r.identity.job.as_ref().map(|j| format!("job {}", esc(j))), r.identity.pr.as_ref().map(|p| format!("PR #{}", esc(p))), r.identity.build.as_ref().map(|b| format!("build {}", esc(b))), r.identity.commit.as_ref().map(|c| format!("commit {}", esc(&c[..c.len().min(12)])))]
                .into_iter()
                .flatten()
                .map(|s| format!(", {s}"))
                .collect::<String>(),
            r.counts.pass,
            r.counts.flake,
            r.counts.fail,
            r.counts.skip
        );
    }
    o.push_str("<p class=\"key\">Key: <span class=\"fail\">✗ fail</span><span class=\"flake\">~ flake (a known problem with a ticket, or a threshold only flaked)</span><span class=\"pass\">✓ pass</span><span class=\"skip\">– not evaluated</span> Click a check for its violations.</p>");
}

/// The latest run: one row per component, worst first; its failing,
/// flaking and not-evaluated checks as chips, its passing ones counted and
/// folded away. As wide as a laptop's screen whatever the number of checks.
fn write_matrix(o: &mut String, a: &Aggregate, jira: Option<&str>) {
    o.push_str("<h2 id=\"matrix\">HA and health by component (latest run)</h2>");
    // The cells of each component, in one pass (the matrix is sorted worst first).
    let mut by_comp: std::collections::HashMap<&str, Vec<&Cell>> = Default::default();
    for c in &a.matrix {
        by_comp.entry(c.component.as_str()).or_default().push(c);
    }
    let mut comps: Vec<(&str, (Outcome, usize))> = by_comp
        .iter()
        .map(|(comp, cells)| {
            let worst = cells
                .iter()
                .map(|c| (c.outcome, c.violation_count))
                .max()
                .unwrap_or((Outcome::Skip, 0));
            (*comp, worst)
        })
        .collect();
    comps.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
    o.push_str("<table id=\"matrix-table\"><caption>Rows: components, worst first. Each check of a component is shown by its worst outcome; failing, flaking and not evaluated checks first, passing ones folded.</caption><thead><tr><th scope=\"col\">component</th><th scope=\"col\">verdict</th><th scope=\"col\">checks that failed, flaked or were not evaluated</th><th scope=\"col\">passing, or not applicable</th></tr></thead><tbody>");
    let mut budget = Budget {
        violations: PAGE_VIOLATIONS,
    };
    for (comp, (worst, _)) in comps.iter().take(PAGE_COMPONENTS) {
        let cells = &by_comp[comp];
        let _ = write!(
            o,
            "<tr><th scope=\"row\">{}</th><td class=\"verdict-cell {}\">{}</td><td>",
            esc(comp),
            class(*worst),
            badge(*worst)
        );
        // Checks that do not apply here (a multi-node rule on one node)
        // are folded with the passing ones: nothing to act on.
        let quiet = |c: &Cell| {
            c.outcome == Outcome::Pass
                || (c.outcome == Outcome::Skip
                    && !c.notes.is_empty()
                    && c.notes.iter().all(|n| n.starts_with("not applicable")))
        };
        for c in cells.iter().filter(|c| !quiet(c)) {
            cell_html(o, &cell_id(comp, &c.check), c, jira, &mut budget);
        }
        o.push_str("</td><td>");
        let passing: Vec<&&Cell> = cells.iter().filter(|c| quiet(c)).collect();
        if !passing.is_empty() {
            let applies = passing
                .iter()
                .filter(|c| c.outcome == Outcome::Pass)
                .count();
            let _ = write!(
                o,
                "<details class=\"group\"><summary>✓ {applies} check{}{}</summary>",
                if applies == 1 { "" } else { "s" },
                match passing.len() - applies {
                    0 => String::new(),
                    n => format!(", {n} not applicable"),
                }
            );
            for c in passing {
                cell_html(o, &cell_id(comp, &c.check), c, jira, &mut budget);
            }
            o.push_str("</details>");
        }
        o.push_str("</td></tr>");
    }
    o.push_str("</tbody></table>");
    if comps.len() > PAGE_COMPONENTS {
        let _ = write!(
            o,
            "<p>… {} more components in the JSON form (-o json).</p>",
            comps.len() - PAGE_COMPONENTS
        );
    }
}

fn write_budget(o: &mut String, a: &Aggregate) {
    let b = &a.flake_budget;
    let _ = write!(
        o,
        "<h2 id=\"budget\">Flake budget</h2><p class=\"verdict\">{} of {} runs had at least one flake: {} against a target of {} — {}.</p>\
<p>{} of those runs flaked only on infra-health tests (not caused by the change under test).</p>",
        b.runs_with_flake,
        b.runs,
        pct(b.share),
        pct(b.target),
        if b.within { "within budget" } else { "<strong>over budget</strong>" },
        b.runs_with_only_infrastructure_flakes
    );
    if b.tests.is_empty() {
        return;
    }
    o.push_str("<table id=\"budget-tests\"><caption>Tests spending the budget</caption><thead><tr><th scope=\"col\">test</th><th scope=\"col\">runs flaked</th><th scope=\"col\">cause</th></tr></thead><tbody>");
    for s in b.tests.iter().take(25) {
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&s.name),
            s.runs,
            if s.infrastructure {
                "infrastructure (not the change)"
            } else {
                "known product issue"
            }
        );
    }
    o.push_str("</tbody></table>");
    o.push_str("<table id=\"budget-components\"><caption>Components spending the budget</caption><thead><tr><th scope=\"col\">component</th><th scope=\"col\">runs flaked</th></tr></thead><tbody>");
    for s in b.components.iter().take(25) {
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(&s.name),
            s.runs
        );
    }
    o.push_str("</tbody></table>");
}

fn write_components(o: &mut String, a: &Aggregate) {
    let _ = write!(
        o,
        "<h2 id=\"components\">Components over {} run{}</h2>",
        a.runs.len(),
        if a.runs.len() == 1 { "" } else { "s" }
    );
    o.push_str("<table id=\"component-table\"><thead><tr><th scope=\"col\">component</th><th scope=\"col\">pass</th><th scope=\"col\">flake</th><th scope=\"col\">fail</th><th scope=\"col\">fail rate</th><th scope=\"col\">flake rate</th><th scope=\"col\">trend</th></tr></thead><tbody>");
    for c in a.by_component.iter().take(PAGE_COMPONENTS) {
        let _ = write!(
            o,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&c.component), c.counts.pass, c.counts.flake, c.counts.fail, pct(c.fail_rate), pct(c.flake_rate), sparkline(&c.trend)
        );
    }
    o.push_str("</tbody></table>");
    if a.by_component.len() > PAGE_COMPONENTS {
        let _ = write!(
            o,
            "<p>… {} more components in the JSON form (-o json).</p>",
            a.by_component.len() - PAGE_COMPONENTS
        );
    }
}

/// Tests that failed or flaked, grouped by component, worst first.
fn write_tests(o: &mut String, a: &Aggregate) {
    let run_label = |i: Option<usize>| {
        i.and_then(|i| a.runs.get(i))
            .map(when)
            .unwrap_or_else(|| "–".into())
    };
    let troubled: Vec<_> = a
        .tests
        .iter()
        .filter(|t| t.counts.fail + t.counts.flake > 0)
        .collect();
    let _ = write!(
        o,
        "<h2 id=\"tests\">Tests that failed or flaked ({})</h2>",
        troubled.len()
    );
    // Tests come worst first; a component's group opens where its worst test is.
    let mut groups: Vec<(&str, Vec<&super::aggregate::TestSummary>)> = Vec::new();
    let mut at: std::collections::HashMap<&str, usize> = Default::default();
    for t in troubled.iter().take(1000) {
        let i = *at.entry(t.component.as_str()).or_insert_with(|| {
            groups.push((t.component.as_str(), Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(t);
    }
    for (gi, (comp, tests)) in groups.iter().take(PAGE_COMPONENTS).enumerate() {
        let fails = tests.iter().filter(|t| t.counts.fail > 0).count();
        let _ = write!(
            o,
            "<details class=\"group\"{}><summary>{} — {} test{} ({} failed at least once)</summary>",
            if gi < 5 { " open" } else { "" },
            esc(comp),
            tests.len(),
            if tests.len() == 1 { "" } else { "s" },
            fails
        );
        o.push_str("<table class=\"test-table\"><thead><tr><th scope=\"col\">test</th><th scope=\"col\">pass</th><th scope=\"col\">flake</th><th scope=\"col\">fail</th><th scope=\"col\">fail rate</th><th scope=\"col\">first failed</th><th scope=\"col\">last failed</th></tr></thead><tbody>");
        for t in tests {
            let _ = write!(
                o,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.name), t.counts.pass, t.counts.flake, t.counts.fail, pct(t.fail_rate), esc(&run_label(t.first_failed)), esc(&run_label(t.last_failed))
            );
        }
        o.push_str("</tbody></table></details>");
    }
    if troubled.len() > 1000 {
        let _ = write!(
            o,
            "<p>… {} more in the JSON form (-o json).</p>",
            troubled.len() - 1000
        );
    }
    let missing: Vec<_> = a.tests.iter().filter(|t| t.missing).collect();
    if !missing.is_empty() {
        let _ = write!(
            o,
            "<h2 id=\"missing\">Tests missing from the latest run ({}): renamed or lost</h2><ul>",
            missing.len()
        );
        for t in missing.iter().take(200) {
            let _ = write!(
                o,
                "<li>{} <small>(last seen {})</small></li>",
                esc(&t.name),
                esc(&run_label(t.last_seen))
            );
        }
        o.push_str("</ul>");
        if missing.len() > 200 {
            let _ = write!(o, "<p>… {} more in the JSON form.</p>", missing.len() - 200);
        }
    }
}

fn write_exceptions(o: &mut String, a: &Aggregate, jira: Option<&str>) {
    o.push_str("<h2 id=\"exceptions\">Exceptions</h2>");
    write_tickets(
        o,
        "Tickets expired or expiring soon",
        "expiring",
        &a.expiring_tickets,
        jira,
    );
    write_tickets(
        o,
        "Tickets still excusing violations (their tests still fail underneath)",
        "open-tickets",
        &a.open_tickets,
        jira,
    );
    write_stale(
        o,
        "Stale in the latest run (matched no violation)",
        "stale",
        &a.stale_exceptions,
        jira,
    );
    let title = format!(
        "Safe to remove: stale in each of the last {} runs",
        a.stale_runs
    );
    write_stale(o, &title, "safe-to-remove", &a.safe_to_remove, jira);
    if a.expiring_tickets.is_empty()
        && a.open_tickets.is_empty()
        && a.stale_exceptions.is_empty()
        && a.safe_to_remove.is_empty()
    {
        let junit_runs = a.runs.iter().filter(|r| r.form == "junit").count();
        if junit_runs > 0 {
            let _ = write!(
                o,
                "<p>Nothing to report about exceptions. ({} of the runs were read from JUnit, which does not say which entries are stale; `vigil run -o json` reports do.)</p>",
                if junit_runs == a.runs.len() { "All".to_owned() } else { junit_runs.to_string() }
            );
        } else {
            o.push_str(
                "<p>Nothing to report about exceptions: no ticket expiring, none stale.</p>",
            );
        }
    }
    if !a.not_evaluated.is_empty() {
        let _ = write!(
            o,
            "<h2 id=\"not-evaluated\">Not evaluated in the latest run ({})</h2><ul>",
            a.not_evaluated.len()
        );
        for (t, why) in a.not_evaluated.iter().take(200) {
            let _ = write!(o, "<li>{}: {}</li>", esc(t), esc(why));
        }
        o.push_str("</ul>");
    }
}

fn write_tickets(
    o: &mut String,
    title: &str,
    id: &str,
    notes: &[super::aggregate::TicketNote],
    jira: Option<&str>,
) {
    if notes.is_empty() {
        return;
    }
    let _ = write!(o, "<h3 id=\"{id}\">{title} ({})</h3><ul>", notes.len());
    for n in notes.iter().take(500) {
        let shown: Vec<String> = n.tests.iter().take(CELL_TESTS).map(|t| esc(t)).collect();
        let more = n.tests.len().saturating_sub(CELL_TESTS);
        let _ = write!(
            o,
            "<li>{}{}: {}{}</li>",
            ticket(&n.ticket, jira),
            n.expires
                .as_ref()
                .map(|e| format!(" (expires {})", esc(e)))
                .unwrap_or_default(),
            shown.join("; "),
            if more > 0 {
                format!("; … {more} more")
            } else {
                String::new()
            }
        );
    }
    o.push_str("</ul>");
}

fn write_stale(
    o: &mut String,
    title: &str,
    id: &str,
    list: &[super::StaleEntry],
    jira: Option<&str>,
) {
    if list.is_empty() {
        return;
    }
    let _ = write!(o, "<h3 id=\"{id}\">{title} ({})</h3><ul>", list.len());
    for e in list.iter().take(500) {
        let _ = write!(
            o,
            "<li><code>{}:{}</code> {} {}{}</li>",
            esc(&e.file),
            e.line,
            esc(&e.check),
            esc(e.object.as_deref().or(e.namespace.as_deref()).unwrap_or("")),
            e.ticket
                .as_ref()
                .map(|t| format!(" ({})", ticket(t, jira)))
                .unwrap_or_default()
        );
    }
    o.push_str("</ul>");
    if list.len() > 500 {
        let _ = write!(o, "<p>… {} more in the JSON form.</p>", list.len() - 500);
    }
}

/// Runs listed at the end of the page, the latest ones.
const PAGE_RUNS: usize = 50;

fn write_runs(o: &mut String, a: &Aggregate) {
    let skip = a.runs.len().saturating_sub(PAGE_RUNS);
    let _ = write!(
        o,
        "<h2 id=\"runs\">Runs{}</h2>",
        if skip > 0 {
            format!(" (the latest {PAGE_RUNS}; {skip} earlier in the JSON form)")
        } else {
            String::new()
        }
    );
    o.push_str("<table id=\"run-table\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">state at</th><th scope=\"col\">source</th><th scope=\"col\">pass</th><th scope=\"col\">flake</th><th scope=\"col\">fail</th></tr></thead><tbody>");
    for (i, r) in a.runs.iter().enumerate().skip(skip) {
        let _ = write!(o, "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>", i + 1, esc(&when(r)), esc(&r.source), r.counts.pass, r.counts.flake, r.counts.fail);
    }
    o.push_str("</tbody></table>");
}

/// Tests listed per ticket.
const CELL_TESTS: usize = 20;
