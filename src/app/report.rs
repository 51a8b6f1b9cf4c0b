//! `vigil report RUN...`: the command around [`crate::results::aggregate`]
//! and [`crate::results::html`].

use std::path::PathBuf;

use crate::cli::{ReportArgs, ReportOutput};
use crate::error::{Error, Result, Status};
use crate::results::aggregate::{aggregate, Aggregate, Options};

pub fn report(args: &ReportArgs) -> Result {
    let runs = crate::results::discover(&args.runs, super::args::file_limit(&args.limits))
        .map_err(Error::Config)?;
    let opts = Options {
        flake_target: args.flake_target / 100.0,
        stale_runs: args.stale_runs,
        ..Options::default()
    };
    let a = aggregate(&runs, &opts);
    let stdout = &mut std::io::BufWriter::new(crate::term::stdout());
    let written = match &args.output {
        ReportOutput::Json => crate::term::write_json(&mut *stdout, &a),
        ReportOutput::Text => summary(stdout, &a, None),
        ReportOutput::Html(path) => {
            let page = crate::results::html::render(&a, args.jira_url.as_deref());
            crate::atomic::write(path, crate::atomic::Existing::Replace, |w| {
                w.write_all(page.as_bytes())
            })
            .map_err(|e| Error::write(path, e))?;
            summary(stdout, &a, Some(path))
        }
    };
    super::printed(written.and_then(|()| std::io::Write::flush(stdout)))?;
    Ok(Status::Passed)
}

/// The few lines a person reads first.
fn summary(
    out: &mut dyn std::io::Write,
    a: &Aggregate,
    page: Option<&PathBuf>,
) -> std::io::Result<()> {
    use crate::reports::plural;
    let b = &a.flake_budget;
    writeln!(out, "{} read", plural(a.runs.len(), "run"))?;
    if let Some(r) = a.runs.last() {
        writeln!(
            out,
            "latest: {} ({} passed, {} flaked, {} failed, {} not evaluated)",
            r.source, r.counts.pass, r.counts.flake, r.counts.fail, r.counts.skip
        )?;
    }
    writeln!(
        out,
        "flake budget: {} of {} with a flake ({:.1}%, target {:.1}%): {}",
        b.runs_with_flake,
        plural(b.runs, "run"),
        b.share * 100.0,
        b.target * 100.0,
        if b.within { "within" } else { "OVER" }
    )?;
    let worst: Vec<_> = a
        .by_component
        .iter()
        .filter(|c| c.counts.fail > 0)
        .take(5)
        .collect();
    if !worst.is_empty() {
        writeln!(out, "components failing most:")?;
        for c in worst {
            writeln!(out, "  {:>5.1}% fail  {}", c.fail_rate * 100.0, c.component)?;
        }
    }
    let missing = a.tests.iter().filter(|t| t.missing).count();
    if missing > 0 {
        writeln!(
            out,
            "{} missing from the latest run (renamed or lost)",
            plural(missing, "test")
        )?;
    }
    if !a.safe_to_remove.is_empty() {
        writeln!(
            out,
            "{} safe to remove (stale in the last {} runs)",
            plural(a.safe_to_remove.len(), "exception"),
            a.stale_runs
        )?;
    }
    if let Some(p) = page {
        writeln!(out, "page: {}", p.display())?;
    }
    Ok(())
}
