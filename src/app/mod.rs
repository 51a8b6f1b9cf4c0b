//! The work behind each subcommand. `cli` parses; these modules run the
//! pipeline and decide the exit status.

mod exceptions;
pub mod guard;
mod run;
mod watch;

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
    pub const UNREACHABLE: u8 = 3;
    /// vigil did not complete its run: `--deadline` passed or it crashed.
    /// (A termination signal exits with 128 + the signal's number.)
    pub const INCOMPLETE: u8 = 4;
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
    /// Told what judging does now (the run's guard names it if cut short).
    pub phase: &'a dyn Fn(&'static str),
}

pub(crate) struct Judged {
    pub evaluation: Evaluation,
    /// Every namespace in the state, in scope or not.
    pub all_namespaces: Vec<String>,
    pub topology: Topology,
    pub now: DateTime<Utc>,
    pub now_source: &'static str,
    /// The model judged: freeing a large one is millions of small frees
    /// (0.3 s at 150k pods), which a command about to exit can skip.
    pub model: Cluster,
}

/// The time a state describes, and where that came from: `--now`, else
/// when it was collected (live run, snapshot), else the must-gather's
/// `timestamp`, else the newest time in the state, else the wall clock.
pub(crate) fn state_now(
    loaded: &Loaded,
    now_flag: Option<DateTime<Utc>>,
) -> (DateTime<Utc>, &'static str) {
    if let Some(t) = now_flag {
        return (t, "--now");
    }
    if let Some(t) = loaded
        .collection
        .as_ref()
        .and_then(|c| crate::model::time::parse(&c.collected_at))
    {
        return (t, "collection time");
    }
    let gathered = loaded
        .timestamp_files
        .iter()
        .filter_map(|f| {
            parse_must_gather_timestamp(&crate::safe_read::read_to_string(f, 4096).ok()?)
        })
        .max();
    if let Some(t) = gathered {
        return (t, "must-gather timestamp");
    }
    match crate::model::cluster::newest_timestamp(&loaded.objects) {
        Some(t) => (t, "newest timestamp in the state"),
        None => (Utc::now(), "wall clock"),
    }
}

/// Builds the model from what was read and evaluates every check against
/// the exceptions, at the state's own time ([`state_now`]).
pub(crate) fn judge(loaded: Loaded, exceptions: &Exceptions, how: &Judging) -> Judged {
    let (now, now_source) = state_now(&loaded, how.now);
    let (missing, not_served) = loaded
        .collection
        .map(|c| (c.missing, c.skipped))
        .unwrap_or_default();
    (how.phase)("building the cluster model");
    let mut cluster = Cluster::from_objects(loaded.objects);
    cluster.intervals = loaded.intervals;
    let topology = Topology::resolve(how.topology, &cluster);
    let scope = Scope {
        profile: how.profile,
        topology: &topology,
        namespaces: how.namespaces,
        today: how.today,
        now,
        missing: &missing,
        not_served: &not_served,
    };
    (how.phase)("evaluating the checks");
    let evaluation = outcomes::evaluate(&cluster, exceptions, &scope);
    let all_namespaces = cluster.namespaces.iter().cloned().collect();
    Judged {
        evaluation,
        all_namespaces,
        topology,
        now,
        now_source,
        model: cluster,
    }
}

/// A live collection as if it had been read from a snapshot file.
pub(crate) fn loaded_from_live(c: crate::sources::live::Collected) -> Loaded {
    Loaded {
        objects: c.objects,
        collection: Some(c.info),
        ..Default::default()
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
        Command::Watch(args) => watch::watch(args),
        Command::Diff(args) => crate::results::diff::command(&args),
        Command::Report(args) => crate::results::report::command(&args),
        Command::Checks(args) => list_checks(&args),
        Command::Exceptions(cmd) => exceptions::dispatch(cmd),
        Command::Snapshot(args) => snapshot(&args),
        #[cfg(feature = "devtools")]
        Command::Dev(cmd) => dev(cmd),
        Command::Completions { shell } => {
            let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "vigil", &mut std::io::stdout());
            exit::OK
        }
        Command::Man => {
            let cmd = <crate::cli::Cli as clap::CommandFactory>::command();
            match clap_mangen::Man::new(cmd).render(&mut std::io::stdout()) {
                Ok(()) => exit::OK,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
                Err(e) => {
                    eprintln!("error: cannot write the man page: {e}");
                    exit::CONFIG
                }
            }
        }
    }
}

#[cfg(feature = "devtools")]
fn dev(cmd: crate::cli::DevCommand) -> u8 {
    use crate::devtools::{control_plane::ControlPlane, load};
    match cmd {
        crate::cli::DevCommand::ControlPlane { control_plane } => {
            let cp = match ControlPlane::start(&control_plane.join("bin")) {
                Ok(cp) => cp,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::CONFIG;
                }
            };
            match cp.admin_kubeconfig() {
                Ok(k) => println!("{}", k.display()),
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::CONFIG;
                }
            }
            // Runs until stdin closes (or the process is killed).
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            exit::OK
        }
        crate::cli::DevCommand::Generate {
            pods,
            seed,
            output,
            yaml,
            must_gather,
        } => {
            use crate::devtools::generate::{generate, Format};
            let format = match (yaml, must_gather) {
                (_, true) => Format::MustGather,
                (true, _) => Format::Yaml,
                _ => Format::Json,
            };
            match generate(&output, pods, seed, format) {
                Ok(c) => {
                    println!(
                        "{}: {} nodes, {} namespaces, {} workloads, {} pods, {} objects",
                        output.display(),
                        c.nodes,
                        c.namespaces,
                        c.workloads,
                        c.pods,
                        c.objects
                    );
                    exit::OK
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::CONFIG
                }
            }
        }
        crate::cli::DevCommand::Load {
            from,
            cluster,
            parallel,
        } => {
            let objects = match load::read_raw(&from) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::CONFIG;
                }
            };
            let report = load::load_into(&cluster.live_options(), objects, parallel);
            match report {
                Ok(r) => {
                    println!(
                        "created {}, already there {}, ignored {}, failed {}",
                        r.created,
                        r.existing,
                        r.ignored,
                        r.failed.len()
                    );
                    for f in r.failed.iter().take(20) {
                        eprintln!("  {f}");
                    }
                    if r.failed.is_empty() {
                        exit::OK
                    } else {
                        exit::FAILED
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::UNREACHABLE
                }
            }
        }
    }
}

fn snapshot(args: &crate::cli::SnapshotArgs) -> u8 {
    let path = match (&args.to, &args.output_file) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => {
            eprintln!(
                "warning: `vigil snapshot -o FILE` is now `--to FILE` (-o means the output format in every other command); -o FILE still works for now"
            );
            p.clone()
        }
        (None, None) => unreachable!("clap requires --to"),
    };
    let c = match crate::sources::live::collect(&args.cluster.live_options()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::UNREACHABLE;
        }
    };
    if let Err(e) = crate::sources::snapshot::write(&path, &c.objects, &c.info) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return exit::CONFIG;
    }
    println!(
        "{}: {} objects from {} ({}) at {}",
        path.display(),
        c.objects.len(),
        c.server_url,
        c.info.server.as_deref().unwrap_or("unknown version"),
        c.info.collected_at
    );
    for s in &c.info.skipped {
        println!("  {s}: not served by this cluster, skipped");
    }
    for m in &c.info.missing {
        eprintln!("warning: could not list {}: {}", m.kind, m.error);
    }
    if c.info.missing.is_empty() {
        exit::OK
    } else {
        exit::FAILED
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
                        "default_lifecycle": i.default_lifecycle,
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
    writeln!(
        out,
        "Defaults; policy.yaml changes them per check. mode: blocking (an unexcepted violation fails) or\n\
         flake-only (every violation flakes, while a new check rolls out). lifecycle: blocking, or\n\
         informing (failures stay failures, marked lifecycle=\"informing\" for Sippy, and never\n\
         change vigil's exit status).\n"
    )?;
    let bold = anstyle::Style::new().bold();
    let dim = anstyle::Style::new().dimmed();
    for c in checks::ALL {
        let i = c.info();
        let single = if i.multi_node {
            " · skipped on single-node clusters"
        } else {
            ""
        };
        writeln!(
            out,
            "{bold}{}{bold:#}  {dim}[{}] mode {} · lifecycle {}{single}{dim:#}",
            i.id,
            i.monitor.as_str(),
            i.default_mode,
            i.default_lifecycle
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
