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
use crate::reports::{self, MetaTest, RunReport, META_COLLECTED, META_EXCEPTIONS, META_REACHABLE};
use crate::sources::{self, Loaded};

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

enum Acquired {
    State(Loaded, String),
    Unreadable(sources::SourceError),
    Unreachable(sources::live::Unreachable),
}

fn acquire(args: &RunArgs) -> Acquired {
    if args.from.is_empty() {
        return match sources::live::collect(&args.cluster.live_options()) {
            Ok(c) => {
                let source = format!(
                    "live cluster {} ({})",
                    c.server_url,
                    c.info.server.as_deref().unwrap_or("unknown version")
                );
                Acquired::State(super::loaded_from_live(c), source)
            }
            Err(e) => Acquired::Unreachable(e),
        };
    }
    match sources::load_paths(&args.from) {
        Ok(l) => {
            let source = format!(
                "{} from {}",
                plural(l.files.len(), "file"),
                args.from
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Acquired::State(l, source)
        }
        Err(e) => Acquired::Unreadable(e),
    }
}

/// `[Monitor:vigil] cluster state should be collected`: fails naming every
/// kind that could not be listed.
fn collected_test(loaded: &Loaded) -> MetaTest {
    let missing = loaded
        .collection
        .as_ref()
        .map(|c| c.missing.as_slice())
        .unwrap_or(&[]);
    if missing.is_empty() {
        return MetaTest::pass(META_COLLECTED);
    }
    let kinds: Vec<&str> = missing.iter().map(|m| m.kind.as_str()).collect();
    let details: Vec<String> = missing
        .iter()
        .map(|m| format!("{}: {}", m.kind, m.error))
        .collect();
    MetaTest::fail(
        META_COLLECTED,
        format!(
            "could not list {}; the checks that need them were not evaluated",
            kinds.join(", ")
        ),
        details.join("\n"),
    )
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

    // The state: from files, or from the cluster. vigil's own tests come
    // first in the JUnit: reachable, collected, exceptions valid.
    let (loaded, source) = match acquire(args) {
        Acquired::State(loaded, source) => {
            meta.insert(0, MetaTest::pass(META_REACHABLE));
            meta.insert(1, collected_test(&loaded));
            if let Some(path) = &args.save_snapshot {
                let info = loaded.collection.clone().unwrap_or_else(|| {
                    sources::snapshot::CollectionInfo {
                        version: sources::snapshot::FORMAT_VERSION,
                        collected_at: now_flag
                            .unwrap_or(wall)
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        ..Default::default()
                    }
                });
                if let Err(e) = sources::snapshot::write(path, &loaded.objects, &info) {
                    eprintln!("error: cannot write the snapshot {}: {e}", path.display());
                    status = exit::CONFIG;
                }
            }
            (Some(loaded), source)
        }
        Acquired::Unreadable(e) => {
            eprintln!("error: {e}");
            meta.insert(0, MetaTest::pass(META_REACHABLE));
            meta.insert(
                1,
                MetaTest::fail(
                    META_COLLECTED,
                    format!("cannot read the cluster state: {e}"),
                    e.to_string(),
                ),
            );
            status = exit::CONFIG;
            (None, "no state".to_owned())
        }
        Acquired::Unreachable(e) => {
            eprintln!("error: {e}");
            meta.insert(
                0,
                MetaTest::fail(META_REACHABLE, e.to_string(), e.to_string()),
            );
            meta.insert(
                1,
                MetaTest::fail(
                    META_COLLECTED,
                    "nothing collected: the cluster could not be reached",
                    e.to_string(),
                ),
            );
            status = exit::UNREACHABLE;
            (None, "cluster unreachable".to_owned())
        }
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

    // Buffered: a big cluster's summary is thousands of small writes.
    let mut out = std::io::BufWriter::new(anstream::stdout());
    let printed = match args.output {
        Format::Text => reports::text::write(&mut out, &report),
        Format::Json => reports::json::write(&mut out, &report),
    }
    .and_then(|()| out.flush());
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
