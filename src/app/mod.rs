//! The work behind each subcommand. `cli` parses; these modules run the
//! pipeline and decide the exit status.

mod exceptions;
mod run;

use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;

use crate::checks::{self, Profile};
use crate::cli::{ChecksArgs, Command, Format};
use crate::exceptions::Exceptions;
use crate::model::time::parse_must_gather_timestamp;
use crate::model::{Cluster, Topology, TopologyMode};
use crate::outcomes::{self, Evaluation, Scope};
use crate::sources::Loaded;

/// Exit statuses.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const CONFIG: u8 = 2;
}

/// How to judge a state.
pub(crate) struct Judging<'a> {
    pub topology: TopologyMode,
    pub profile: Profile,
    pub namespaces: Option<&'a Regex>,
    /// `--now`, when given.
    pub now: Option<DateTime<Utc>>,
    /// The day exception expiry is judged against.
    pub today: NaiveDate,
}

pub(crate) struct Judged {
    pub evaluation: Evaluation,
    pub topology: Topology,
    pub now: DateTime<Utc>,
    pub now_source: &'static str,
}

/// Builds the model from what was read and evaluates every check against
/// the exceptions. "Now" is `--now`, else the must-gather's timestamp, else
/// the newest time in the state, else the wall clock.
pub(crate) fn judge(loaded: Loaded, exceptions: &Exceptions, how: &Judging) -> Judged {
    let gathered = loaded
        .timestamp_files
        .iter()
        .filter_map(|f| parse_must_gather_timestamp(&std::fs::read_to_string(f).ok()?))
        .max();
    let cluster = Cluster::from_objects(loaded.objects);
    let (now, now_source) = match (how.now, gathered, cluster.newest_timestamp()) {
        (Some(t), _, _) => (t, "--now"),
        (None, Some(t), _) => (t, "must-gather timestamp"),
        (None, None, Some(t)) => (t, "newest timestamp in the state"),
        (None, None, None) => (Utc::now(), "wall clock"),
    };
    let topology = Topology::resolve(how.topology, &cluster);
    let scope = Scope {
        profile: how.profile,
        topology: &topology,
        namespaces: how.namespaces,
        today: how.today,
        now,
    };
    let evaluation = outcomes::evaluate(&cluster, exceptions, &scope);
    Judged {
        evaluation,
        topology,
        now,
        now_source,
    }
}

/// Parses `--now`.
pub(crate) fn parse_now(s: Option<&str>) -> Result<Option<DateTime<Utc>>, String> {
    match s {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| {
                format!(
                    "--now {s:?} is not an RFC 3339 time ({e}); write it like 2026-11-21T04:00:00Z"
                )
            }),
    }
}

pub fn dispatch(command: Command) -> u8 {
    match command {
        Command::Run(args) => run::run(&args),
        Command::Checks(args) => list_checks(&args),
        Command::Exceptions(cmd) => exceptions::dispatch(cmd),
    }
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
