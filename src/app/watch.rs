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
    guard.phase("watching the cluster");
    let options = args::live_options(&args.common.cluster);
    let recorded = watch::watch(&options, &stop, &|| stopped.load(Ordering::Relaxed));
    // Stopped: the judgement has --deadline (and, after a signal, --grace).
    let deadline = Duration::from_secs(args.common.deadline);
    guard.arm(deadline, Abort::Deadline(deadline));
    guard.phase("writing the intervals");
    let (intervals, watched) = match recorded {
        Ok(rec) => {
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
            (Vec::new(), MetaTest::fail(META_WATCHED, why.clone(), why))
        }
    };
    guard.phase("collecting the cluster state");
    let mut acquired = run::acquire(&args.common, &[]);
    if let Some(l) = &mut acquired.loaded {
        l.intervals = intervals;
    }
    run::judge_and_report(&args.common, &plan, guard, acquired, Some(watched))
}
