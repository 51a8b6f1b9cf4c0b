//! `vigil watch`: record intervals until told to stop, then `run` with them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::cli::WatchArgs;
use crate::sources::watch::{self, Stop};

/// `$ARTIFACT_DIR/vigil-intervals.jsonl`, else `./vigil-intervals.jsonl`.
fn default_out() -> PathBuf {
    match std::env::var_os("ARTIFACT_DIR").filter(|v| !v.is_empty()) {
        Some(a) => PathBuf::from(a).join("vigil-intervals.jsonl"),
        None => PathBuf::from("vigil-intervals.jsonl"),
    }
}

pub fn watch(mut args: WatchArgs) -> u8 {
    if !args.run.from.is_empty() {
        eprintln!("error: vigil watch reads a live cluster; --from is for `vigil run`");
        return super::exit::CONFIG;
    }
    if args.run.intervals.is_some() {
        eprintln!(
            "error: vigil watch records the intervals itself; --intervals is for `vigil run`"
        );
        return super::exit::CONFIG;
    }
    // A stop signal ends the watch, not the run that follows it.
    let stopped = Arc::new(AtomicBool::new(false));
    let ids: Vec<_> = [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT]
        .into_iter()
        .filter_map(|s| signal_hook::flag::register(s, stopped.clone()).ok())
        .collect();
    let stop = Stop {
        file: args.stop_file.clone(),
        after: args.duration.map(std::time::Duration::from_secs),
    };
    let out = args.intervals_out.clone().unwrap_or_else(default_out);
    let recorded = watch::watch(&args.run.cluster.live_options(), &stop, &|| {
        stopped.load(Ordering::Relaxed)
    });
    for id in ids {
        signal_hook::low_level::unregister(id);
    }
    match recorded {
        Ok((intervals, stats)) => {
            eprintln!(
                "vigil watch: stopped; {} intervals recorded ({} events, {} re-lists), written to {}",
                intervals.len(),
                stats.events,
                stats.relists,
                out.display()
            );
            if let Err(e) = crate::model::intervals::write(&out, &intervals) {
                eprintln!("error: cannot write {}: {e}", out.display());
                return super::exit::CONFIG;
            }
            args.run.intervals = Some(out);
        }
        // The run that follows says so in the JUnit (cluster should be reachable).
        Err(e) => eprintln!("vigil watch: could not watch: {e}; judging the final state only"),
    }
    super::run::run(&args.run)
}
