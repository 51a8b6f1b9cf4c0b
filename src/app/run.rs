//! `vigil run`: sources -> model -> checks -> exceptions -> outcomes ->
//! reports, and the exit status.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use chrono::Utc;

use super::exit;
use crate::checks::Profile;
use crate::cli::{Format, RunArgs};
use crate::exceptions::{Diagnostic, Exceptions};
use crate::outcomes::{self, Outcome};
use crate::reports::{self, MetaTest, RunReport, META_COLLECTED, META_EXCEPTIONS};
use crate::sources;

pub(super) fn eprint_diagnostics(diags: &[Diagnostic]) {
    let mut err = anstream::stderr();
    for d in diags {
        let _ = writeln!(err, "{d}\n");
    }
}

fn junit_dir(args: &RunArgs) -> Option<PathBuf> {
    if args.no_junit {
        return None;
    }
    Some(args.junit_dir.clone().unwrap_or_else(|| {
        match std::env::var_os("ARTIFACT_DIR").filter(|v| !v.is_empty()) {
            Some(a) => PathBuf::from(a).join("junit"),
            None => PathBuf::from("junit"),
        }
    }))
}

pub fn run(args: &RunArgs) -> u8 {
    let started = Instant::now();
    let wall = Utc::now();
    let now_flag = match super::parse_now(args.now.as_deref()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    // Exception expiry is a matter of the calendar, not of the state's age.
    let today = now_flag.unwrap_or(wall).date_naive();
    let ns_filter = match args.namespace.as_deref().map(outcomes::namespace_filter) {
        None => None,
        Some(Ok(re)) => Some(re),
        Some(Err(e)) => {
            eprintln!("error: --namespace is not a valid regex:\n{e}");
            return exit::CONFIG;
        }
    };

    let mut meta = Vec::new();
    let mut status = exit::OK;

    // Exceptions first: a broken list must not be mistaken for new failures.
    let (ex_dir, explicit) = match &args.exceptions {
        Some(d) => (d.clone(), true),
        None => (PathBuf::from("exceptions"), false),
    };
    let exceptions = match Exceptions::load(&ex_dir, explicit) {
        Ok(ex) => {
            meta.push(MetaTest::pass(META_EXCEPTIONS));
            Some(ex)
        }
        Err(diags) => {
            eprint_diagnostics(&diags);
            let errors = diags
                .iter()
                .filter(|d| d.level == crate::exceptions::Level::Error)
                .count();
            meta.push(MetaTest::fail(
                META_EXCEPTIONS,
                format!(
                    "{errors} problem(s) in {}; no check was judged",
                    ex_dir.display()
                ),
                diags
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            ));
            status = exit::CONFIG;
            None
        }
    };

    let loaded = match sources::load_paths(&args.from) {
        Ok(l) => {
            meta.insert(0, MetaTest::pass(META_COLLECTED));
            Some(l)
        }
        Err(e) => {
            eprintln!("error: {e}");
            meta.insert(
                0,
                MetaTest::fail(
                    META_COLLECTED,
                    format!("cannot read the cluster state: {e}"),
                    e.to_string(),
                ),
            );
            status = exit::CONFIG;
            None
        }
    };

    let source = match &loaded {
        Some(l) => format!(
            "{} from {}",
            plural(l.files.len(), "file"),
            args.from
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "no state".into(),
    };
    let profile = args
        .profile
        .or(exceptions.as_ref().and_then(|e| e.policy.profile))
        .unwrap_or(Profile::Generic);

    let mut topology = None;
    let mut evaluation = None;
    let mut now = (
        now_flag.unwrap_or(wall),
        if now_flag.is_some() {
            "--now"
        } else {
            "wall clock"
        },
    );
    if let (Some(loaded), Some(exceptions)) = (loaded, &exceptions) {
        let judged = super::judge(
            loaded,
            exceptions,
            &super::Judging {
                topology: args.topology,
                profile,
                namespaces: ns_filter.as_ref(),
                now: now_flag,
                today,
            },
        );
        now = (judged.now, judged.now_source);
        evaluation = Some(judged.evaluation);
        topology = Some(judged.topology);
    }

    let mut report = RunReport {
        suite: args.suite_name.clone(),
        now: now.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        now_source: now.1.to_owned(),
        topology,
        profile,
        source,
        meta,
        evaluation,
        junit: None,
        seconds: 0.0,
    };
    if let Some(dir) = junit_dir(args) {
        match reports::junit::write_atomic(&dir, &reports::junit::build(&report), wall) {
            Ok(p) => report.junit = Some(p.display().to_string()),
            Err(e) => {
                eprintln!("error: cannot write JUnit into {}: {e}", dir.display());
                status = exit::CONFIG;
            }
        }
    }
    report.seconds = started.elapsed().as_secs_f64();

    let mut out = anstream::stdout();
    let printed = match args.output {
        Format::Text => reports::text::write(&mut out, &report),
        Format::Json => writeln!(out, "{}", reports::json::to_string(&report)),
    };
    if let Err(e) = printed {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to stdout: {e}");
        }
    }
    if status != exit::OK {
        return status;
    }
    match report.worst() {
        Outcome::Fail => exit::FAILED,
        _ => exit::OK,
    }
}

pub(super) fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
