//! `vigil diff BEFORE AFTER`: the command around [`crate::results::diff`].

use crate::cli::{DiffArgs, Format};
use crate::error::{Error, Result, Status};
use crate::results::diff::{compare, Change, Diff};
use crate::results::{load_run, Outcome, RunResult};

pub fn diff(args: &DiffArgs) -> Result {
    let limit = super::args::file_limit(&args.limits);
    let load = |p: &std::path::Path| -> Result<RunResult> {
        let run = load_run(p, limit).map_err(|e| Error::input(p, e))?;
        // No vigil test at all: no data, not "everything vanished".
        if !run.tests.keys().any(|n| n.starts_with("[Monitor:")) {
            return Err(Error::input(
                p,
                "holds no vigil test (an empty report or suite, or another tool's JUnit): nothing to compare",
            ));
        }
        Ok(run)
    };
    let before = load(&args.before)?;
    let after = load(&args.after)?;
    let d = compare(&before, &after);
    let mut out = std::io::BufWriter::new(crate::term::stdout());
    let written = match args.output {
        Format::Json => crate::term::write_json(&mut out, &d),
        Format::Text => write_text(&mut out, &before, &after, &d),
    };
    super::printed(written.and_then(|()| std::io::Write::flush(&mut out)))?;
    Ok(if d.regressed() {
        Status::Failed
    } else {
        Status::Passed
    })
}

fn write_text(
    out: &mut dyn std::io::Write,
    before: &RunResult,
    after: &RunResult,
    d: &Diff,
) -> std::io::Result<()> {
    for (label, r) in [("before:", before), ("after: ", after)] {
        writeln!(
            out,
            "{label} {} ({} tests)",
            r.source.display(),
            r.tests.len()
        )?;
    }
    write_changes(out, "NEWLY FAILING", &d.newly_failing)?;
    write_changes(out, "NEWLY FLAKING", &d.newly_flaking)?;
    write_changes(out, "FIXED", &d.fixed)?;
    write_changes(out, "SAME OUTCOME, OTHER VIOLATIONS", &d.changed)?;
    if !d.renamed.is_empty() {
        writeln!(
            out,
            "\nRENAMED: owner tag changed, same check and namespace ({}); compared as one test:",
            d.renamed.len()
        )?;
        for (from, to) in &d.renamed {
            writeln!(out, "  {from}\n    -> {to}")?;
        }
    }
    write_names(out, "APPEARED (new, or renamed otherwise)", &d.appeared)?;
    write_names(out, "VANISHED (removed, or renamed otherwise)", &d.vanished)?;
    write_exceptions(out, d)?;
    writeln!(out, "\n{}", totals(d))
}

/// One section of changed tests, with the violations each gained and lost.
fn write_changes(
    out: &mut dyn std::io::Write,
    title: &str,
    list: &[Change],
) -> std::io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{title} ({}):", list.len())?;
    for c in list {
        let was = c.before.map_or("absent", Outcome::word);
        let informing = if c.informing { " (informing)" } else { "" };
        writeln!(out, "  {}{informing}  [was {was}]", c.name)?;
        for v in &c.added {
            writeln!(out, "      + {v}")?;
        }
        for v in &c.removed {
            writeln!(out, "      - {v}")?;
        }
    }
    Ok(())
}

fn write_names(out: &mut dyn std::io::Write, title: &str, list: &[String]) -> std::io::Result<()> {
    if !list.is_empty() {
        writeln!(out, "\n{title} ({}):", list.len())?;
        for n in list {
            writeln!(out, "  {n}")?;
        }
    }
    Ok(())
}

/// Exception entries that became stale, and new violations none covers.
fn write_exceptions(out: &mut dyn std::io::Write, d: &Diff) -> std::io::Result<()> {
    if !d.became_stale.is_empty() {
        writeln!(
            out,
            "\nEXCEPTIONS NOW STALE ({}): their violation is gone; remove them",
            d.became_stale.len()
        )?;
        for s in &d.became_stale {
            writeln!(
                out,
                "  {}:{} {} {}",
                s.file,
                s.line,
                s.check,
                s.object.as_deref().or(s.namespace.as_deref()).unwrap_or("")
            )?;
        }
    }
    write_names(out, "NEW VIOLATIONS NO EXCEPTION COVERS", &d.newly_needed)
}

fn totals(d: &Diff) -> String {
    let quiet = d.newly_failing.is_empty()
        && d.newly_flaking.is_empty()
        && d.fixed.is_empty()
        && d.changed.is_empty()
        && d.appeared.is_empty()
        && d.vanished.is_empty()
        && d.renamed.is_empty();
    if quiet {
        return "no change in outcomes or violations".to_owned();
    }
    format!(
        "{} newly failing, {} newly flaking, {} fixed, {} renamed, {} appeared, {} vanished",
        crate::reports::plural(d.newly_failing.len(), "test"),
        d.newly_flaking.len(),
        d.fixed.len(),
        d.renamed.len(),
        d.appeared.len(),
        d.vanished.len()
    )
}
