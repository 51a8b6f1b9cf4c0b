//! Always a result, for every command: whatever ends it (SIGTERM from a CI
//! timeout, Ctrl-C, SIGHUP, the `--deadline`, a usage error, a crash), the
//! process ends with a status that says so and, for the commands that write
//! JUnit (`run`, `watch`), a JUnit file is written with `[Monitor:vigil] run
//! should complete` failing and saying why, so the dashboard shows a broken
//! run instead of nothing.
//!
//! [`super::main`] installs one guard around every command. The real report
//! and the fallback never both land: whichever gets the lock first writes,
//! the other sees `finished` and stays quiet.
//!
//! `vigil watch` asks for the first stop signal to end the watch instead of
//! the run ([`Guard::stop_on_signal`]): the final judgement then has its
//! grace period, after which (or at a second signal) the fallback is written.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::Status;
use crate::reports::junit::Target;
use crate::reports::{
    self, MetaTest, RunReport, META_COLLECTED, META_COMPLETED, META_EXCEPTIONS, META_REACHABLE,
};

/// Why a run ended early.
#[derive(Debug, Clone)]
pub enum Abort {
    /// A termination signal (SIGTERM, SIGINT, SIGHUP).
    Signal(i32),
    /// `--deadline` passed.
    Deadline(Duration),
    /// A stop signal arrived, and the judgement after it outlasted `--grace`.
    Grace { signal: i32, grace: Duration },
    /// vigil itself failed: a bug. The message and where it happened.
    Panic(String),
    /// The command line or the configuration is wrong; nothing was judged.
    Usage(String),
}

impl Abort {
    pub fn status(&self) -> Status {
        match self {
            Abort::Signal(sig) | Abort::Grace { signal: sig, .. } => Status::Signal(*sig as u8),
            Abort::Deadline(_) | Abort::Panic(_) => Status::Incomplete,
            Abort::Usage(_) => Status::Config,
        }
    }

    fn describe(&self, phase: &str, elapsed: Duration) -> String {
        let after = format!("{:.1}s", elapsed.as_secs_f64());
        match self {
            Abort::Signal(sig) => format!(
                "interrupted by {} after {after} while {phase}; nothing was judged (a CI timeout sends SIGTERM: give the step more time, or lower --deadline below it)",
                signal_name(*sig)
            ),
            Abort::Deadline(d) => format!(
                "did not finish within --deadline {}s (stopped while {phase}); nothing was judged",
                d.as_secs()
            ),
            Abort::Grace { signal, grace } => format!(
                "stopped by {} and did not finish judging within --grace {}s (stopped while {phase}, {after} after starting); nothing was judged",
                signal_name(*signal),
                grace.as_secs()
            ),
            Abort::Panic(msg) => format!(
                "vigil crashed while {phase} (a bug in vigil; please report it with this message): {msg}"
            ),
            Abort::Usage(msg) => format!("usage error, nothing was judged: {msg}"),
        }
    }
}

fn signal_name(sig: i32) -> String {
    match sig {
        signal_hook::consts::SIGTERM => "SIGTERM".into(),
        signal_hook::consts::SIGINT => "SIGINT".into(),
        signal_hook::consts::SIGHUP => "SIGHUP".into(),
        n => format!("signal {n}"),
    }
}

struct Inner {
    target: Option<Target>,
    started: Instant,
    phase: Mutex<&'static str>,
    /// `VIGIL_TIMINGS` set: when the current phase began, to print how
    /// long each took (for benchmarks; stderr only).
    timings: Option<Mutex<Instant>>,
    finished: Mutex<bool>,
    /// When the run is cut short, and how to say it.
    deadline: Mutex<Option<(Instant, Abort)>>,
    wake: Condvar,
    /// When set, the first stop signal sets this flag (and arms the grace
    /// deadline) instead of ending the run.
    stop: Mutex<Option<(Arc<AtomicBool>, Duration)>>,
}

/// Watches a command; see the module documentation.
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

impl Guard {
    /// Starts watching: termination signals and, when given, the deadline
    /// end the command, with a JUnit file in `target` when it has one.
    pub fn install(target: Option<Target>, deadline: Option<Duration>) -> Guard {
        let guard = Guard::new(target);
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        match signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP]) {
            Ok(mut signals) => {
                let g = guard.clone();
                std::thread::spawn(move || {
                    for sig in signals.forever() {
                        if g.stop_requested(sig) {
                            continue;
                        }
                        let status = g.abort(&Abort::Signal(sig));
                        std::process::exit(status.code().into());
                    }
                });
            }
            Err(e) => crate::term::warning(&format!("cannot watch for termination signals: {e}")),
        }
        if let Some(d) = deadline {
            guard.arm(d, Abort::Deadline(d));
        }
        let g = guard.clone();
        std::thread::spawn(move || g.wait_for_deadline());
        guard
    }

    /// A guard that only ends the run when told (no signals, no deadline).
    pub fn new(target: Option<Target>) -> Guard {
        install_panic_hook();
        Guard {
            inner: Arc::new(Inner {
                target,
                started: Instant::now(),
                phase: Mutex::new("starting"),
                timings: std::env::var_os("VIGIL_TIMINGS").map(|_| Mutex::new(Instant::now())),
                finished: Mutex::new(false),
                deadline: Mutex::new(None),
                wake: Condvar::new(),
                stop: Mutex::new(None),
            }),
        }
    }

    /// The JUnit target, when the command writes one.
    pub fn target(&self) -> Option<&Target> {
        self.inner.target.as_ref()
    }

    /// Ends the command `after` from now, saying `why`; replaces an earlier
    /// deadline only when it comes sooner.
    pub fn arm(&self, after: Duration, why: Abort) {
        let at = Instant::now() + after;
        let mut d = lock(&self.inner.deadline);
        if d.as_ref().is_none_or(|(t, _)| at < *t) {
            *d = Some((at, why));
            self.inner.wake.notify_all();
        }
    }

    fn wait_for_deadline(&self) {
        let mut d = lock(&self.inner.deadline);
        loop {
            match d.clone() {
                None => d = self.inner.wake.wait(d).unwrap_or_else(|e| e.into_inner()),
                Some((at, why)) => {
                    let now = Instant::now();
                    if now >= at {
                        drop(d);
                        let status = self.abort(&why);
                        std::process::exit(status.code().into());
                    }
                    d = self
                        .inner
                        .wake
                        .wait_timeout(d, at - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }

    /// From now on, the first stop signal sets `flag` and gives what
    /// follows `grace` to finish, instead of ending the command.
    pub fn stop_on_signal(&self, flag: Arc<AtomicBool>, grace: Duration) {
        *lock(&self.inner.stop) = Some((flag, grace));
    }

    /// A signal arrived: true when it only asked the command to stop.
    fn stop_requested(&self, sig: i32) -> bool {
        let Some((flag, grace)) = lock(&self.inner.stop).take() else {
            return false;
        };
        if flag.swap(true, Ordering::SeqCst) {
            return false;
        }
        crate::term::eprint_line(format_args!(
            "vigil: {} received: stopping, and judging the final state within --grace {}s (a second signal ends it at once)",
            signal_name(sig),
            grace.as_secs()
        ));
        self.arm(grace, Abort::Grace { signal: sig, grace });
        true
    }

    /// What the run is doing now, for the message if it is cut short.
    pub fn phase(&self, what: &'static str) {
        let before = std::mem::replace(&mut *lock(&self.inner.phase), what);
        if let Some(began) = &self.inner.timings {
            let mut began = lock(began);
            crate::term::eprint_line(format_args!(
                "timing: {:>8.3} s {before}{}",
                began.elapsed().as_secs_f64(),
                peak_rss().map_or(String::new(), |kb| format!(
                    " (peak RSS so far {} MB)",
                    kb / 1024
                ))
            ));
            *began = Instant::now();
        }
    }

    /// Runs `write` (the real report) unless the run was already ended.
    pub fn finish<T>(&self, write: impl FnOnce() -> T) -> Option<T> {
        let mut done = lock(&self.inner.finished);
        if *done {
            return None;
        }
        let out = write();
        *done = true;
        Some(out)
    }

    /// Ends the run: writes the fallback JUnit (once) and says why on
    /// stderr. Returns the status to exit with.
    pub fn abort(&self, why: &Abort) -> Status {
        let mut done = lock(&self.inner.finished);
        let status = why.status();
        if *done {
            return status;
        }
        *done = true;
        let phase = *lock(&self.inner.phase);
        let message = why.describe(phase, self.inner.started.elapsed());
        crate::term::eprint_line(format_args!("\nerror: {}", crate::redact::text(&message)));
        if let Some(target) = &self.inner.target {
            write_fallback(target, &message);
        }
        status
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes the JUnit of a run that did not complete, saying why.
pub fn write_fallback(target: &Target, message: &str) {
    match target.write(&reports::junit::build(&fallback_report(target, message))) {
        Ok(p) => crate::term::eprint_line(format_args!(
            "JUnit: {} (records this failure)",
            p.display()
        )),
        Err(e) => crate::term::error(&format!(
            "cannot write JUnit into {}: {e}",
            target.dir.display()
        )),
    }
}

/// The commands that write JUnit, so that a command line clap rejected
/// still leaves one.
const WRITES_JUNIT: &[&str] = &["run", "watch"];

/// A command line clap rejected. When it was a command that writes JUnit,
/// the JUnit is still written (where `--junit-dir` says, else the default),
/// so that a typo in a CI step shows as a failing test instead of a missing
/// result.
pub fn usage_error(args: &[std::ffi::OsString], message: &str) {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let command = args.get(1).map(String::as_str).unwrap_or("");
    if !WRITES_JUNIT.contains(&command) || args.iter().any(|a| a == "--no-junit") {
        return;
    }
    let value = |flag: &str| -> Option<String> {
        let eq = format!("{flag}=");
        args.iter().enumerate().find_map(|(i, a)| {
            if a == flag {
                args.get(i + 1).cloned()
            } else {
                a.strip_prefix(&eq).map(str::to_owned)
            }
        })
    };
    let dir = value("--junit-dir")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(reports::junit::default_dir);
    let suite = value("--suite-name").unwrap_or_else(|| reports::junit::DEFAULT_SUITE.into());
    let target = Target::new(dir, suite, chrono::Utc::now());
    let first = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid command line")
        .trim()
        .trim_start_matches("error: ");
    write_fallback(
        &target,
        &Abort::Usage(first.to_owned()).describe("", Duration::ZERO),
    );
}

/// The report of a run that did not finish: it did not complete, and the
/// other meta tests were not reached.
fn fallback_report(target: &Target, message: &str) -> RunReport {
    let not_reached = |name: &str| MetaTest::skip(name, "not reached: the run did not complete");
    RunReport {
        suite: target.suite.clone(),
        started_at: target.at,
        now: target.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        now_source: "wall clock".into(),
        topology: None,
        profile: crate::checks::Profile::Generic,
        profile_source: "the run did not complete".into(),
        source: "the run did not complete".into(),
        exceptions: None,
        meta: vec![
            MetaTest::fail(META_COMPLETED, message, message),
            not_reached(META_REACHABLE),
            not_reached(META_COLLECTED),
            not_reached(META_EXCEPTIONS),
        ],
        evaluation: None,
        junit: None,
        seconds: 0.0,
    }
}

/// Keeps where a panic happened, for the JUnit; the default hook still
/// prints it.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(l) = info.location() {
                *lock(&PANIC_AT) = Some(format!("{}:{}", l.file(), l.line()));
            }
            default(info);
        }));
    });
}

static PANIC_AT: Mutex<Option<String>> = Mutex::new(None);

/// The text of a caught panic, with where it happened.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    match lock(&PANIC_AT).take() {
        Some(at) => format!("{msg} (at {at})"),
        None => msg,
    }
}

/// The process's peak resident memory in KiB (`VmHWM`), where the kernel
/// tells it (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(dir: &std::path::Path) -> String {
        let files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        std::fs::read_to_string(&files[0]).unwrap()
    }

    #[test]
    fn a_crash_is_caught_and_recorded_with_its_place() {
        let d = tempfile::tempdir().unwrap();
        let target = Target::new(d.path().to_owned(), "vigil".into(), chrono::Utc::now());
        let guard = Guard::new(Some(target));
        guard.phase("judging");
        let payload = std::panic::catch_unwind(|| panic!("index out of bounds")).unwrap_err();
        let msg = panic_message(&*payload);
        assert!(
            msg.starts_with("index out of bounds (at src/app/guard.rs:"),
            "{msg}"
        );
        assert_eq!(guard.abort(&Abort::Panic(msg)), Status::Incomplete);
        let xml = written(d.path());
        assert!(
            xml.contains("vigil crashed while judging (a bug in vigil"),
            "{xml}"
        );
        assert!(xml.contains(
            r#"<testcase name="[Monitor:vigil] cluster state should be collected" time="0.000">"#
        ));
        assert!(xml.contains(r#"<skipped message="not reached: the run did not complete"/>"#));
        // Once ended, the real report is not written over it.
        assert!(guard.finish(|| unreachable!("not written twice")).is_none());
    }

    #[test]
    fn the_real_report_wins_when_it_comes_first() {
        let d = tempfile::tempdir().unwrap();
        let target = Target::new(d.path().to_owned(), "vigil".into(), chrono::Utc::now());
        let guard = Guard::new(Some(target));
        assert_eq!(guard.finish(|| 7), Some(7));
        // A signal arriving after the report was written changes nothing on disk.
        assert_eq!(guard.abort(&Abort::Signal(15)), Status::Signal(15));
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_stop_signal_stops_once_then_ends() {
        let guard = Guard::new(None);
        let flag = Arc::new(AtomicBool::new(false));
        guard.stop_on_signal(flag.clone(), Duration::from_secs(60));
        assert!(guard.stop_requested(signal_hook::consts::SIGTERM));
        assert!(flag.load(Ordering::SeqCst));
        // The grace deadline is armed; a second signal is not a stop.
        assert!(lock(&guard.inner.deadline).is_some());
        assert!(!guard.stop_requested(signal_hook::consts::SIGTERM));
    }

    #[test]
    fn a_sooner_deadline_wins() {
        let guard = Guard::new(None);
        guard.arm(
            Duration::from_secs(100),
            Abort::Deadline(Duration::from_secs(100)),
        );
        guard.arm(
            Duration::from_secs(10),
            Abort::Deadline(Duration::from_secs(10)),
        );
        guard.arm(
            Duration::from_secs(50),
            Abort::Deadline(Duration::from_secs(50)),
        );
        let d = lock(&guard.inner.deadline).clone().unwrap();
        assert!(matches!(d.1, Abort::Deadline(x) if x.as_secs() == 10));
    }
}
