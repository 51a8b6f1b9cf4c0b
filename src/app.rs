//! The pipeline behind each subcommand: sources -> model -> checks ->
//! exceptions -> outcomes -> reports, and the exit status.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::checks::{self, Profile};
use crate::cli::{ChecksArgs, Command, Format, RunArgs};
use crate::exceptions::{Diagnostic, Exceptions};
use crate::model::{Cluster, Topology};
use crate::outcomes::{self, Outcome, Scope};
use crate::reports::{self, MetaTest, RunReport, META_COLLECTED, META_EXCEPTIONS};
use crate::sources;

/// Exit statuses.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const CONFIG: u8 = 2;
}

pub fn dispatch(command: Command) -> u8 {
    match command {
        Command::Run(args) => run(&args),
        Command::Checks(args) => list_checks(&args),
    }
}

fn eprint_diagnostics(diags: &[Diagnostic]) {
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
    let now_flag: Option<DateTime<Utc>> = match &args.now {
        None => None,
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(e) => {
                eprintln!("error: --now {s:?} is not an RFC 3339 time ({e}); write it like 2026-11-21T04:00:00Z");
                return exit::CONFIG;
            }
        },
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
        let mg_time = loaded.timestamp_files.iter().filter_map(|f| {
            crate::model::time::parse_must_gather_timestamp(&std::fs::read_to_string(f).ok()?)
        });
        let mg_time = mg_time.max();
        let cluster = Cluster::from_objects(loaded.objects);
        if now_flag.is_none() {
            if let Some(t) = mg_time {
                now = (t, "must-gather timestamp");
            } else if let Some(t) = cluster.newest_timestamp() {
                now = (t, "newest timestamp in the state");
            }
        }
        let topo = Topology::resolve(args.topology, &cluster);
        let scope = Scope {
            profile,
            topology: &topo,
            namespaces: ns_filter.as_ref(),
            today,
            now: now.0,
        };
        evaluation = Some(outcomes::evaluate(&cluster, exceptions, &scope));
        topology = Some(topo);
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

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn list_checks(args: &ChecksArgs) -> u8 {
    let mut out = anstream::stdout();
    let _ = match args.output {
        Format::Json => {
            let list: Vec<_> = checks::ALL
                .iter()
                .map(|c| {
                    let i = c.info();
                    serde_json::json!({
                        "id": i.id,
                        "monitor": i.monitor,
                        "default_mode": i.default_mode,
                        "multi_node": i.multi_node,
                        "kinds": i.kinds,
                        "test_name": format!("{} in ns/<namespace> should {}", i.subject, i.should),
                        "rule": i.rule,
                        "thresholds": i.thresholds.iter().map(|t| serde_json::json!({"name": t.name, "default": t.default, "help": t.help})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&list).expect("serializes")
            )
        }
        Format::Text => write_checks_text(&mut out),
    };
    exit::OK
}

fn write_checks_text(out: &mut dyn Write) -> std::io::Result<()> {
    let bold = anstyle::Style::new().bold();
    let dim = anstyle::Style::new().dimmed();
    for c in checks::ALL {
        let i = c.info();
        let single = if i.multi_node {
            ", passes on single-node clusters"
        } else {
            ""
        };
        writeln!(
            out,
            "{bold}{}{bold:#}  {dim}[{}] {}{single}{dim:#}",
            i.id,
            i.monitor.as_str(),
            i.default_mode
        )?;
        writeln!(
            out,
            "    {} in ns/<namespace> should {}",
            i.subject, i.should
        )?;
        writeln!(out, "    {}", i.rule)?;
        for t in i.thresholds {
            writeln!(out, "    threshold {} = {} ({})", t.name, t.default, t.help)?;
        }
    }
    Ok(())
}
