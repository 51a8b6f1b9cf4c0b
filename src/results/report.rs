//! `vigil report RUN...`: the command around [`aggregate`](super::aggregate)
//! and [`html`](super::html).

use std::path::PathBuf;

use super::aggregate::{aggregate, Aggregate, Options};
use crate::cli::{ReportArgs, ReportOutput};

pub fn command(args: &ReportArgs) -> u8 {
    let runs = match super::discover(&args.runs) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::app::exit::CONFIG;
        }
    };
    let opts = Options {
        flake_target: args.flake_target / 100.0,
        stale_runs: args.stale_runs,
        ..Options::default()
    };
    let a = aggregate(&runs, &opts);
    let stdout = &mut std::io::BufWriter::new(anstream::stdout());
    let written = match &args.output {
        ReportOutput::Json => serde_json::to_writer_pretty(&mut *stdout, &a)
            .map_err(std::io::Error::from)
            .and_then(|()| std::io::Write::write_all(stdout, b"\n")),
        ReportOutput::Text => summary(stdout, &a, None),
        ReportOutput::Html(path) => {
            let page = super::html::render(&a, args.jira_url.as_deref());
            match crate::atomic::write(path, crate::atomic::Existing::Replace, |w| {
                w.write_all(page.as_bytes())
            }) {
                Ok(()) => summary(stdout, &a, Some(path)),
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    return crate::app::exit::CONFIG;
                }
            }
        }
    };
    if let Err(e) = written.and_then(|()| std::io::Write::flush(stdout)) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to stdout: {e}");
        }
    }
    crate::app::exit::OK
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
