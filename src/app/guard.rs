//! Always a result: whatever ends a `vigil run` (SIGTERM from a CI timeout,
//! Ctrl-C, the `--deadline`, a usage error, a crash), a JUnit file is
//! written, with `[Monitor:vigil] run should complete` failing and saying
//! why, so the dashboard shows a broken run instead of nothing.
//!
//! The real report and the fallback never both land: whichever gets the
//! lock first writes, the other sees `finished` and stays quiet.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::exit;
use crate::outcomes::Outcome;
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
    /// vigil itself failed: a bug. The message and where it happened.
    Panic(String),
    /// The command line or the configuration is wrong; nothing was judged.
    Usage(String),
}

impl Abort {
    fn exit_code(&self) -> u8 {
        match self {
            Abort::Signal(sig) => 128u8.saturating_add(*sig as u8),
            Abort::Deadline(_) | Abort::Panic(_) => exit::INCOMPLETE,
            Abort::Usage(_) => exit::CONFIG,
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
}

/// Watches a run; see the module documentation.
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

impl Guard {
    /// Starts watching: termination signals and, when given, the deadline
    /// end the run with a JUnit file in `target` (none with `--no-junit`).
    pub fn install(target: Option<Target>, deadline: Option<Duration>) -> Guard {
        let guard = Guard::new(target);
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        match signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP]) {
            Ok(mut signals) => {
                let g = guard.clone();
                std::thread::spawn(move || {
                    if let Some(sig) = signals.forever().next() {
                        let code = g.abort(&Abort::Signal(sig));
                        std::process::exit(code.into());
                    }
                });
            }
            Err(e) => eprintln!("warning: cannot watch for termination signals: {e}"),
        }
        if let Some(d) = deadline {
            let g = guard.clone();
            std::thread::spawn(move || {
                std::thread::sleep(d);
                let code = g.abort(&Abort::Deadline(d));
                std::process::exit(code.into());
            });
        }
        install_panic_hook();
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
            }),
        }
    }

    /// What the run is doing now, for the message if it is cut short.
    pub fn phase(&self, what: &'static str) {
        let before = std::mem::replace(
            &mut *self.inner.phase.lock().unwrap_or_else(|e| e.into_inner()),
            what,
        );
        if let Some(began) = &self.inner.timings {
            let mut began = began.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!(
                "timing: {:>8.3} s {before}{}",
                began.elapsed().as_secs_f64(),
                peak_rss().map_or(String::new(), |kb| format!(
                    " (peak RSS so far {} MB)",
                    kb / 1024
                ))
            );
            *began = Instant::now();
        }
    }

    /// Runs `write` (the real report) unless the run was already ended.
    pub fn finish<T>(&self, write: impl FnOnce() -> T) -> Option<T> {
        let mut done = self
            .inner
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *done {
            return None;
        }
        let out = write();
        *done = true;
        Some(out)
    }

    /// Ends the run: writes the fallback JUnit (once) and says why on
    /// stderr. Returns the exit status.
    pub fn abort(&self, why: &Abort) -> u8 {
        let mut done = self
            .inner
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let code = why.exit_code();
        if *done {
            return code;
        }
        *done = true;
        let phase = *self.inner.phase.lock().unwrap_or_else(|e| e.into_inner());
        let message = why.describe(phase, self.inner.started.elapsed());
        let _ = writeln!(
            std::io::stderr(),
            "\nerror: {}",
            crate::redact::text(&message)
        );
        if let Some(target) = &self.inner.target {
            write_fallback(target, &message);
        }
        code
    }
}

/// Writes the JUnit of a run that did not complete, saying why.
pub fn write_fallback(target: &Target, message: &str) {
    let mut err = std::io::stderr().lock();
    match target.write(&reports::junit::build(&fallback_report(target, message))) {
        Ok(p) => {
            let _ = writeln!(err, "JUnit: {} (records this failure)", p.display());
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "error: cannot write JUnit into {}: {e}",
                target.dir.display()
            );
        }
    }
}

/// A command line clap rejected. When it was a `vigil run`, its JUnit is
/// still written (where `--junit-dir` says, else the default), so that a
/// typo in a CI step shows as a failing test instead of a missing result.
pub fn usage_error(args: &[std::ffi::OsString], message: &str) {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if args.get(1).map(String::as_str) != Some("run") || args.iter().any(|a| a == "--no-junit") {
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
        .unwrap_or_else(super::run::default_junit_dir);
    let suite = value("--suite-name").unwrap_or_else(|| "vigil".into());
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
    let not_reached = |name: &str| MetaTest {
        name: name.into(),
        outcome: Outcome::Skip,
        message: Some("not reached: the run did not complete".into()),
        details: None,
    };
    RunReport {
        suite: target.suite.clone(),
        started_at: target.at,
        now: target.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        now_source: "wall clock".into(),
        topology: None,
        profile: crate::checks::Profile::Generic,
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
                *PANIC_AT.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(format!("{}:{}", l.file(), l.line()));
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
    match PANIC_AT.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Some(at) => format!("{msg} (at {at})"),
        None => msg,
    }
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
        assert_eq!(guard.abort(&Abort::Panic(msg)), exit::INCOMPLETE);
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
        assert_eq!(guard.abort(&Abort::Signal(15)), 143);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }
}

/// The process's peak resident memory in KiB (`VmHWM`), where the kernel
/// tells it (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
