//! `vigil report RUN...`: the command around [`crate::results::aggregate`]
//! and [`crate::results::html`].

use std::path::PathBuf;

use crate::cli::{ReportArgs, ReportOutput};
use crate::error::{Error, Result, Status};
use crate::results::aggregate::{Accumulator, Aggregate, Options};
use crate::results::{Detail, Source};

/// Reads the runs a few at a time on every core, adding them oldest first:
/// memory holds one batch of runs, whatever their number; only the latest
/// is read in detail.
fn aggregate_sources(
    sources: &[Source],
    opts: Options,
    limit: crate::input::Limit,
) -> Result<Aggregate> {
    let batch = std::thread::available_parallelism().map_or(2, |n| n.get()) * 4;
    let last = sources.len().saturating_sub(1);
    let indexed: Vec<(usize, &Source)> = sources.iter().enumerate().collect();
    let mut acc = Accumulator::new(opts);
    let mut vigil_tests = false;
    for chunk in indexed.chunks(batch) {
        let runs = crate::parallel::map_in_order(chunk, |(i, s)| {
            s.load(
                limit,
                if *i == last {
                    Detail::Full
                } else {
                    Detail::Outcomes
                },
            )
        });
        for r in runs {
            let r = r.map_err(Error::Config)?;
            vigil_tests |= r.tests.keys().any(|n| n.starts_with("[Monitor:"));
            acc.add(r);
        }
    }
    if !vigil_tests {
        return Err(Error::Config(
            "the runs given hold no vigil test (another tool's JUnit?): nothing to report".into(),
        ));
    }
    Ok(acc.finish())
}

pub fn report(args: &ReportArgs) -> Result {
    let sources = crate::results::discover(&args.runs).map_err(Error::Config)?;
    let opts = Options {
        flake_target: args.flake_target / 100.0,
        stale_runs: args.stale_runs,
        ..Options::default()
    };
    let a = aggregate_sources(&sources, opts, super::args::file_limit(&args.limits))?;
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
    if !a.disruption.is_empty() {
        writeln!(
            out,
            "disruption allowances history suggests (P99 of outage totals; policy.yaml disruption/backends allowed-seconds/NAME):"
        )?;
        for d in &a.disruption {
            let object = d
                .test
                .split_once("disruption/")
                .map_or(d.test.as_str(), |(_, rest)| rest);
            let object = object.split(" should ").next().unwrap_or(object);
            writeln!(
                out,
                "  {:>6.1}s  {}  (max {:.1}s over {})",
                d.p99_seconds,
                crate::term::one_line(object),
                d.max_seconds,
                plural(d.runs, "run")
            )?;
        }
    }
    if let Some(p) = page {
        writeln!(out, "page: {}", p.display())?;
    }
    Ok(())
}
