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
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg);margin:1.5rem auto;max-width:1200px;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .45rem;text-align:left;vertical-align:top}
th[scope=col]{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
.fail{color:#fff;background:var(--fail)}.flake{color:#000;background:var(--flake)}.pass{color:#fff;background:var(--pass)}.skip{color:#fff;background:var(--skip)}
.cell summary{cursor:pointer;font-weight:600;white-space:nowrap}.cell details[open]{background:#fff;color:var(--fg);min-width:22rem}
.cell details[open] summary{color:var(--fg)}td.cell{padding:0}td.cell details{padding:.25rem .45rem}
.key span{display:inline-block;padding:0 .4rem;margin-right:.4rem}
ul.v{margin:.3rem 0;padding-left:1.1rem}code{font-size:.85em}
.verdict{font-size:1.1rem;font-weight:700}svg{vertical-align:middle}
@media print{details{display:block}details>*{display:block}body{margin:0;max-width:none}a{color:inherit}}
";

/// Opens the cell named in the URL's `#open=` fragment with a real click,
/// so a bookmark (or a test) can show one cell's violations.
const SCRIPT: &str = "
document.addEventListener('DOMContentLoaded',function(){
  var m=location.hash.match(/^#open=(.+)$/);if(!m)return;
  var d=document.getElementById(decodeURIComponent(m[1]));if(!d)return;
  d.querySelector('summary').click();d.scrollIntoView();
});";

fn sparkline(trend: &[Option<f64>]) -> String {
    let (w, h) = (120.0, 24.0);
    let n = trend.len().max(2) as f64 - 1.0;
    let pts: Vec<String> = trend
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.map(|v| format!("{:.1},{:.1}", i as f64 * w / n, h - 2.0 - v * (h - 4.0)))
        })
        .collect();
    let label = {
        let shown: Vec<String> = trend.iter().map(|v| v.map_or("–".into(), pct)).collect();
        let tail = if shown.len() > 12 {
            &shown[shown.len() - 12..]
        } else {
            &shown[..]
        };
        format!(
            "fail rate per run, oldest first{}: {}",
            if shown.len() > 12 { " (last 12)" } else { "" },
            tail.join(", ")
        )
    };
    format!(
        "<svg role=\"img\" aria-label=\"{}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\"><title>{}</title><rect width=\"{w}\" height=\"{h}\" fill=\"#f6f6f6\"/><polyline fill=\"none\" stroke=\"#b2182b\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        esc(&label),
        esc(&label),
        pts.join(" ")
    )
}

fn cell_html(out: &mut String, id: &str, c: &Cell, jira: Option<&str>) {
    let count = if c.violations.is_empty() {
        String::new()
    } else {
        format!(" ({})", c.violations.len())
    };
    let _ = write!(
        out,
        "<td class=\"cell {}\"><details id=\"{}\"><summary aria-label=\"{}: {} for {}, {} violations\">{}{}</summary>",
        class(c.outcome),
        esc(id),
        esc(&c.component),
        badge(c.outcome),
        esc(&c.check),
        c.violations.len(),
        badge(c.outcome),
        count
    );
    if !c.violations.is_empty() {
        out.push_str("<ul class=\"v\">");
        for v in &c.violations {
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
        out.push_str("</ul>");
    }
    for note in &c.notes {
        let _ = write!(out, "<p>{}</p>", esc(note));
    }
    let _ = write!(
        out,
        "<p><small>{} test{}: {}</small></p>",
        c.tests.len(),
        if c.tests.len() == 1 { "" } else { "s" },
        c.tests
            .iter()
            .map(|t| esc(t))
            .collect::<Vec<_>>()
            .join("; ")
    );
    out.push_str("</details></td>");
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

pub fn render(a: &Aggregate, jira: Option<&str>) -> String {
    let mut o = String::new();
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
            "<p>Latest run: <strong>{}</strong>{}{} — {} passed, {} flaked, {} failed, {} not evaluated.</p>",
            esc(&r.source),
            r.time.map(|t| format!(" at {}", t.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default(),
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
    o.push_str("<p class=\"key\">Key: <span class=\"fail\">✗ fail</span><span class=\"flake\">~ flake (known, ticketed)</span><span class=\"pass\">✓ pass</span><span class=\"skip\">– not evaluated</span> Click a cell for its violations.</p>");

    // The matrix of the latest run.
    let _ = write!(
        o,
        "<h2 id=\"matrix\">HA and health by component (latest run)</h2>"
    );
    let mut comps: Vec<&String> = a.components.iter().collect();
    let worst = |c: &str| {
        a.matrix
            .iter()
            .filter(|m| m.component == c)
            .map(|m| (m.outcome, m.violations.len()))
            .max()
            .unwrap_or((Outcome::Skip, 0))
    };
    comps.sort_by(|x, y| worst(y).cmp(&worst(x)).then(x.cmp(y)));
    let mut checks: Vec<&String> = a.checks.iter().collect();
    let worst_check = |c: &str| {
        a.matrix
            .iter()
            .filter(|m| m.check == c)
            .map(|m| (m.outcome, m.violations.len()))
            .max()
            .unwrap_or((Outcome::Skip, 0))
    };
    checks.sort_by(|x, y| worst_check(y).cmp(&worst_check(x)).then(x.cmp(y)));
    o.push_str("<div style=\"overflow-x:auto\"><table id=\"matrix-table\"><caption>Rows: components, worst first. Columns: checks, worst first. Each cell: the worst outcome of the component's tests for that check, and its number of violations.</caption><thead><tr><th scope=\"col\">component</th>");
    for c in &checks {
        let _ = write!(o, "<th scope=\"col\">{}</th>", esc(c));
    }
    o.push_str("</tr></thead><tbody>");
    for comp in &comps {
        let _ = write!(o, "<tr><th scope=\"row\">{}</th>", esc(comp));
        for ch in &checks {
            match a
                .matrix
                .iter()
                .find(|m| &m.component == *comp && &m.check == *ch)
            {
                Some(cell) => cell_html(&mut o, &cell_id(comp, ch), cell, jira),
                None => o.push_str("<td><span class=\"sr\" aria-label=\"no test\"></span></td>"),
            }
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table></div>");

    // The flake budget.
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
    if !b.tests.is_empty() {
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

    // Over the runs.
    let _ = write!(
        o,
        "<h2 id=\"components\">Components over {} run{}</h2>",
        a.runs.len(),
        if a.runs.len() == 1 { "" } else { "s" }
    );
    o.push_str("<table id=\"component-table\"><thead><tr><th scope=\"col\">component</th><th scope=\"col\">pass</th><th scope=\"col\">flake</th><th scope=\"col\">fail</th><th scope=\"col\">fail rate</th><th scope=\"col\">flake rate</th><th scope=\"col\">trend</th></tr></thead><tbody>");
    for c in &a.by_component {
        let _ = write!(
            o,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&c.component), c.counts.pass, c.counts.flake, c.counts.fail, pct(c.fail_rate), pct(c.flake_rate), sparkline(&c.trend)
        );
    }
    o.push_str("</tbody></table>");
    let run_label = |i: Option<usize>| {
        i.and_then(|i| a.runs.get(i))
            .map(|r| {
                r.time
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| r.source.clone())
            })
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
    if !troubled.is_empty() {
        o.push_str("<table id=\"test-table\"><thead><tr><th scope=\"col\">test</th><th scope=\"col\">pass</th><th scope=\"col\">flake</th><th scope=\"col\">fail</th><th scope=\"col\">fail rate</th><th scope=\"col\">first failed</th><th scope=\"col\">last failed</th></tr></thead><tbody>");
        for t in troubled.iter().take(500) {
            let _ = write!(
                o,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.name), t.counts.pass, t.counts.flake, t.counts.fail, pct(t.fail_rate), esc(&run_label(t.first_failed)), esc(&run_label(t.last_failed))
            );
        }
        o.push_str("</tbody></table>");
        if troubled.len() > 500 {
            let _ = write!(
                o,
                "<p>… {} more in the JSON form (-o json).</p>",
                troubled.len() - 500
            );
        }
    }
    let missing: Vec<_> = a.tests.iter().filter(|t| t.missing).collect();
    if !missing.is_empty() {
        let _ = write!(
            o,
            "<h2 id=\"missing\">Tests missing from the latest run ({}): renamed or lost</h2><ul>",
            missing.len()
        );
        for t in missing {
            let _ = write!(
                o,
                "<li>{} <small>(last seen {})</small></li>",
                esc(&t.name),
                esc(&run_label(t.last_seen))
            );
        }
        o.push_str("</ul>");
    }

    // Exceptions.
    o.push_str("<h2 id=\"exceptions\">Exceptions</h2>");
    let list_tickets =
        |o: &mut String, title: &str, id: &str, notes: &[super::aggregate::TicketNote]| {
            if notes.is_empty() {
                return;
            }
            let _ = write!(o, "<h3 id=\"{id}\">{title} ({})</h3><ul>", notes.len());
            for n in notes {
                let _ = write!(
                    o,
                    "<li>{}{}: {}</li>",
                    ticket(&n.ticket, jira),
                    n.expires
                        .as_ref()
                        .map(|e| format!(" (expires {})", esc(e)))
                        .unwrap_or_default(),
                    n.tests
                        .iter()
                        .map(|t| esc(t))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
            o.push_str("</ul>");
        };
    list_tickets(
        &mut o,
        "Tickets expired or expiring soon",
        "expiring",
        &a.expiring_tickets,
    );
    list_tickets(
        &mut o,
        "Tickets still excusing violations (their tests still fail underneath)",
        "open-tickets",
        &a.open_tickets,
    );
    let stale = |o: &mut String, title: &str, id: &str, list: &[super::StaleEntry]| {
        if list.is_empty() {
            return;
        }
        let _ = write!(o, "<h3 id=\"{id}\">{title} ({})</h3><ul>", list.len());
        for e in list {
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
    };
    stale(
        &mut o,
        "Stale in the latest run (matched no violation)",
        "stale",
        &a.stale_exceptions,
    );
    stale(
        &mut o,
        &format!(
            "Safe to remove: stale in each of the last {} runs",
            a.stale_runs
        ),
        "safe-to-remove",
        &a.safe_to_remove,
    );
    if a.expiring_tickets.is_empty()
        && a.open_tickets.is_empty()
        && a.stale_exceptions.is_empty()
        && a.safe_to_remove.is_empty()
    {
        o.push_str("<p>Nothing to report about exceptions (JUnit input does not say which entries are stale; JSON reports do).</p>");
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
    o.push_str("<h2 id=\"runs\">Runs</h2><table id=\"run-table\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">time</th><th scope=\"col\">source</th><th scope=\"col\">pass</th><th scope=\"col\">flake</th><th scope=\"col\">fail</th></tr></thead><tbody>");
    for (i, r) in a.runs.iter().enumerate() {
        let _ = write!(o, "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>", i + 1, r.time.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "–".into()), esc(&r.source), r.counts.pass, r.counts.flake, r.counts.fail);
    }
    o.push_str("</tbody></table>");
    let _ = write!(o, "<p><small>Written by vigil {}. This page makes no network request.</small></p></main></body></html>", env!("CARGO_PKG_VERSION"));
    o
}
