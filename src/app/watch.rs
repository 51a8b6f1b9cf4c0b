//! `vigil watch`: record intervals until told to stop, then judge the final
//! state with them, exactly as `vigil run --intervals` would.
//!
//! The guard is installed before anything else (a usage error, SIGHUP, a
//! hang still leave a JUnit); the first stop signal ends the watch and
//! gives the judgement `--grace` seconds, a second one ends it at once.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::args;
use super::guard::{Abort, Guard};
use super::run::{self, Plan};
use crate::cli::WatchArgs;
use crate::error::Result;
use crate::reports::{MetaTest, META_WATCHED};
use crate::sources::disruption::{self, Poller};
use crate::sources::watch::{self, Stop};

/// `$ARTIFACT_DIR/vigil-intervals.jsonl`, else `./vigil-intervals.jsonl`.
fn default_out() -> PathBuf {
    match std::env::var_os("ARTIFACT_DIR").filter(|v| !v.is_empty()) {
        Some(a) => PathBuf::from(a).join("vigil-intervals.jsonl"),
        None => PathBuf::from("vigil-intervals.jsonl"),
    }
}

pub fn watch(args: &WatchArgs, guard: &Guard) -> Result {
    let plan = Plan::resolve(&args.common);
    let stopped = Arc::new(AtomicBool::new(false));
    guard.stop_on_signal(stopped.clone(), Duration::from_secs(args.grace));
    let stop = Stop {
        file: args.stop_file.clone(),
        after: args.duration.map(Duration::from_secs),
    };
    let out = args.intervals_out.clone().unwrap_or_else(default_out);
    if let Some(why) = duplicate_target(args) {
        return Ok(guard.abort(&Abort::Usage(why)));
    }
    guard.phase("watching the cluster");
    let options = args::live_options(&args.common.cluster);
    let poller = disruption_poller(args, &options);
    let recorded = watch::watch(&options, &stop, &|| stopped.load(Ordering::Relaxed));
    let polled = poller.map(Poller::finish).unwrap_or_default();
    // Stopped: the judgement has --deadline (and, after a signal, --grace).
    let deadline = Duration::from_secs(args.common.deadline);
    guard.arm(deadline, Abort::Deadline(deadline));
    guard.phase("writing the intervals");
    let (intervals, watched) = match recorded {
        Ok(mut rec) => {
            rec.intervals.extend(polled);
            crate::model::intervals::sort(&mut rec.intervals);
            crate::term::eprint_line(format_args!(
                "vigil watch: stopped; {} intervals recorded ({} events, {} re-lists), written to {}",
                rec.intervals.len(),
                rec.stats.events,
                rec.stats.relists,
                out.display()
            ));
            let mut test = crate::reports::watch_test(&rec.intervals);
            if let Err(e) = crate::model::intervals::write(&out, &rec.intervals) {
                let why = format!(
                    "the intervals could not be written to {}: {e}; this JUnit judges them, but `vigil run --intervals` cannot replay them",
                    out.display()
                );
                crate::term::error(&why);
                test = MetaTest::fail(META_WATCHED, why.clone(), why);
            }
            (rec.intervals, test)
        }
        Err(e) => {
            let why = format!("could not watch the cluster: {e}; only the final state is judged");
            crate::term::error(&why);
            (polled, MetaTest::fail(META_WATCHED, why.clone(), why))
        }
    };
    guard.phase("collecting the cluster state");
    let mut acquired = run::acquire(&args.common, &[]);
    if let Some(l) = &mut acquired.loaded {
        l.intervals = intervals;
    }
    run::judge_and_report(&args.common, &plan, guard, acquired, Some(watched))
}

/// With `--disruption` (or a target), polling starts with the watch.
fn disruption_poller(args: &WatchArgs, live: &crate::sources::live::LiveOptions) -> Option<Poller> {
    if !args.disruption && args.disruption_target.is_empty() {
        return None;
    }
    let mut targets = vec![disruption::kube_api()];
    targets.extend(args.disruption_target.iter().cloned());
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    crate::term::eprint_line(format_args!(
        "vigil watch: measuring disruption of {} once a second on new and reused connections",
        names.join(", ")
    ));
    Some(Poller::start(
        live,
        disruption::Options {
            targets,
            discover: true,
            timeout: Duration::from_secs(args.disruption_timeout),
        },
    ))
}

/// Two backends under one name would share one test: refused.
fn duplicate_target(args: &WatchArgs) -> Option<String> {
    let mut seen = std::collections::HashSet::from(["kube-api"]);
    args.disruption_target
        .iter()
        .find(|t| !seen.insert(t.name.as_str()))
        .map(|t| {
            format!(
                "--disruption-target: the name {:?} is taken (kube-api is built in): each backend needs its own name",
                t.name
            )
        })
}
