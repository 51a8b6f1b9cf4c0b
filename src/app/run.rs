//! `vigil run`: sources -> model -> checks -> exceptions -> outcomes ->
//! reports, and the exit status.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::exit;
use super::guard::{self, Abort, Guard};
use crate::checks::Profile;
use crate::cli::{Format, RunArgs};
use crate::exceptions::{Diagnostic, Exceptions};
use crate::outcomes::{self, Outcome};
use crate::reports::junit::Target;
use crate::reports::{
    self, plural, MetaTest, RunReport, META_COLLECTED, META_COMPLETED, META_EXCEPTIONS,
    META_REACHABLE,
};
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
    Some(args.junit_dir.clone().unwrap_or_else(default_junit_dir))
}

/// `$ARTIFACT_DIR/junit`, else `./junit`.
pub(crate) fn default_junit_dir() -> PathBuf {
    match std::env::var_os("ARTIFACT_DIR").filter(|v| !v.is_empty()) {
        Some(a) => PathBuf::from(a).join("junit"),
        None => PathBuf::from("junit"),
    }
}

enum Acquired {
    State(Loaded, String),
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
    let limits = sources::Limits {
        max_file_bytes: args.max_file_mib << 20,
    };
    let l = sources::load_paths_with(&args.from, &limits);
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

/// What the collection test says, beyond the kinds a live run could not list.
struct Collection {
    problems: Vec<String>,
    notes: Vec<String>,
    /// An input error (exit 2) rather than a failing test.
    input_error: bool,
    /// Some objects were read, so the checks ran on them.
    judged_anyway: bool,
}

/// `[Monitor:vigil] cluster state should be collected`: fails when any
/// input could not be read, when nothing a cluster state holds was found
/// (never a green run on no data), or when a live run could not list a
/// kind; passes with notes otherwise.
fn assess_collection(loaded: &Loaded, paths: &[PathBuf]) -> Collection {
    let mut c = Collection {
        problems: Vec::new(),
        notes: Vec::new(),
        input_error: false,
        judged_anyway: !loaded.objects.is_empty(),
    };
    for p in &loaded.problems {
        c.problems.push(p.to_string());
        c.input_error = true;
    }
    if loaded.conflicting > 0 {
        c.notes.push(format!(
            "{} of objects read more than once differed; the newest copy of each object was judged (higher resourceVersion, else the one read later): {}",
            plural(loaded.conflicting, "copy"),
            loaded.conflict_examples.join("; ")
        ));
    }
    if let Some(info) = &loaded.collection {
        for m in &info.missing {
            c.problems
                .push(format!("could not list {}: {}", m.kind, m.error));
        }
        // Only kinds a check needs are worth a note (a cluster without
        // Argo Rollouts is not news).
        let needed = |k: &str| {
            crate::checks::ALL
                .iter()
                .any(|c| c.info().needs.iter().any(|n| n.split('|').any(|x| x == k)))
        };
        for k in info.skipped.iter().filter(|k| needed(k)) {
            c.notes.push(format!(
                "{k}: not served by this cluster; the checks that need it are skipped"
            ));
        }
    }
    if loaded.objects.is_empty()
        && loaded
            .collection
            .as_ref()
            .is_none_or(|i| i.missing.is_empty())
    {
        let mut what = if paths.is_empty() {
            "the cluster returned no objects of the kinds vigil reads".to_owned()
        } else {
            format!(
                "no Kubernetes objects of the kinds vigil reads were found in {}: {} read",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                plural(loaded.files.len(), "state file"),
            )
        };
        if loaded.kindless > 0 {
            what.push_str(&format!(
                ", {} without `kind` (not Kubernetes objects)",
                plural(loaded.kindless, "document")
            ));
        }
        if loaded.other_kinds > 0 {
            what.push_str(&format!(
                ", {} of kinds vigil does not read",
                plural(loaded.other_kinds, "object")
            ));
        }
        if !loaded.ignored.is_empty() {
            let names: Vec<String> = loaded
                .ignored
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            what.push_str(&format!(
                "; not state files, so not read: {} (an archive? unpack it first, e.g. `tar -xf FILE`)",
                names.join(", ")
            ));
        }
        what.push_str(
            "; vigil reads `kubectl get -o yaml|json` output, must-gather directories and vigil snapshots",
        );
        c.problems.push(what);
        c.input_error = true;
    } else if loaded.kindless > 0 {
        c.notes.push(format!(
            "{} without `kind` were passed over (not Kubernetes objects)",
            plural(loaded.kindless, "document")
        ));
    }
    c
}

fn collected_test(c: &Collection) -> MetaTest {
    let notes = c.notes.join("\n");
    match c.problems.as_slice() {
        [] if notes.is_empty() => MetaTest::pass(META_COLLECTED),
        [] => MetaTest::pass_with(META_COLLECTED, notes),
        problems => {
            let message = if problems.len() == 1 {
                problems[0].clone()
            } else {
                format!("{} problems; first: {}", problems.len(), problems[0])
            };
            let mut details = if problems.len() > 1 {
                problems.join("\n") + "\n"
            } else {
                String::new()
            };
            if c.judged_anyway {
                details.push_str(
                    "Everything else that was read was judged; the tests of checks that could not look are skipped.",
                );
            }
            if !notes.is_empty() {
                details.push('\n');
                details.push_str(&notes);
            }
            MetaTest::fail(META_COLLECTED, message, details.trim().to_owned())
        }
    }
}

/// The exceptions directory, loaded, with the meta test and what to say
/// about it in every report.
fn load_exceptions(args: &RunArgs) -> (Option<Exceptions>, MetaTest, String) {
    let (ex_dir, explicit) = match &args.exceptions {
        Some(d) => (d.clone(), true),
        None => (PathBuf::from("exceptions"), false),
    };
    match Exceptions::load(&ex_dir, explicit) {
        Ok(ex) => {
            let described = match &ex.dir {
                Some(d) => format!(
                    "{} ({}, {})",
                    d.display(),
                    plural(ex.files.len(), "component file"),
                    plural(ex.entries.len(), "entry")
                ),
                None => format!(
                    "none (no --exceptions given and {} does not exist): every violation fails",
                    ex_dir.display()
                ),
            };
            let test = MetaTest::pass_with(META_EXCEPTIONS, format!("exceptions: {described}"));
            (Some(ex), test, described)
        }
        Err(diags) => {
            eprint_diagnostics(&diags);
            let errors = diags
                .iter()
                .filter(|d| d.level == crate::exceptions::Level::Error)
                .count();
            let test = MetaTest::fail(
                META_EXCEPTIONS,
                format!(
                    "{} in {}; no check was judged",
                    plural(errors, "problem"),
                    ex_dir.display()
                ),
                diags
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            );
            (None, test, format!("{} (invalid)", ex_dir.display()))
        }
    }
}

/// `vigil run`. Whatever happens, a JUnit file records it: see [`guard`].
pub fn run(args: &RunArgs) -> u8 {
    let wall = Utc::now();
    let target = junit_dir(args).map(|d| Target::new(d, args.suite_name.clone(), wall));
    let guard = Guard::install(
        target.clone(),
        Some(std::time::Duration::from_secs(args.deadline)),
    );
    let run = std::panic::AssertUnwindSafe(|| run_guarded(args, &guard, target.as_ref(), wall));
    match std::panic::catch_unwind(run) {
        Ok(code) => code,
        Err(p) => guard.abort(&Abort::Panic(guard::panic_message(&*p))),
    }
}

fn run_guarded(args: &RunArgs, guard: &Guard, target: Option<&Target>, wall: DateTime<Utc>) -> u8 {
    let started = Instant::now();
    guard.phase("checking the command line");
    let now_flag = match super::parse_now(args.now.as_deref()) {
        Ok(n) => n,
        Err(e) => return guard.abort(&Abort::Usage(e)),
    };
    // Exception expiry is a matter of the calendar, not of the state's age.
    let today = now_flag.unwrap_or(wall).date_naive();
    let ns_filter = match args.namespace.as_deref().map(outcomes::namespace_filter) {
        None => None,
        Some(Ok(re)) => Some(re),
        Some(Err(e)) => {
            return guard.abort(&Abort::Usage(format!(
                "--namespace is not a valid regex: {}",
                e.to_string().lines().last().unwrap_or("")
            )))
        }
    };

    let intervals = match &args.intervals {
        None => Vec::new(),
        Some(p) => match crate::model::intervals::read(p) {
            Ok(i) => i,
            Err(e) => return guard.abort(&Abort::Usage(format!("--intervals {e}"))),
        },
    };
    let mut status = exit::OK;

    // Exceptions first: a broken list must not be mistaken for new failures.
    guard.phase("reading the exceptions");
    let (exceptions, exceptions_test, exceptions_used) = load_exceptions(args);
    if exceptions.is_none() {
        status = exit::CONFIG;
    }

    // The state: from files, or from the cluster.
    guard.phase(if args.from.is_empty() {
        "collecting the cluster state"
    } else {
        "reading the --from inputs"
    });
    let (reachable, collected, loaded, source) = match acquire(args) {
        Acquired::State(loaded, source) => {
            let assessed = assess_collection(&loaded, &args.from);
            if assessed.input_error {
                status = status.max(exit::CONFIG);
            }
            for p in &assessed.problems {
                eprintln!("error: {}", printable(p));
            }
            for n in &assessed.notes {
                eprintln!("note: {}", printable(n));
            }
            if let Some(path) = &args.save_snapshot {
                guard.phase("writing the snapshot");
                if let Err(e) = save_snapshot(path, &loaded, now_flag) {
                    eprintln!("error: cannot write the snapshot {}: {e}", path.display());
                    status = status.max(exit::CONFIG);
                }
            }
            (
                MetaTest::pass(META_REACHABLE),
                collected_test(&assessed),
                Some(loaded),
                source,
            )
        }
        Acquired::Unreachable(e) => {
            eprintln!("error: {}", printable(&e.to_string()));
            status = if e.is_config() {
                exit::CONFIG
            } else {
                exit::UNREACHABLE
            };
            (
                MetaTest::fail(META_REACHABLE, e.to_string(), e.to_string()),
                MetaTest::fail(
                    META_COLLECTED,
                    "nothing collected: the cluster could not be reached",
                    e.to_string(),
                ),
                None,
                if e.is_config() {
                    "cluster not configured".to_owned()
                } else {
                    "cluster unreachable".to_owned()
                },
            )
        }
    };
    let mut meta = vec![
        MetaTest::pass(META_COMPLETED),
        reachable,
        collected,
        exceptions_test,
    ];
    let profile = args
        .profile
        .or(exceptions.as_ref().and_then(|e| e.policy.profile))
        .unwrap_or(Profile::Generic);

    guard.phase("judging");
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
    // Nothing read, nothing judged: an empty state must not yield passes.
    let loaded = loaded.filter(|l| !l.objects.is_empty()).map(|mut l| {
        l.intervals = intervals;
        l
    });
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
                phase: &|what| guard.phase(what),
            },
        );
        if let Some(problem) = scope_problem(&judged, args.namespace.as_deref()) {
            eprintln!("error: {}", printable(&problem));
            status = status.max(exit::CONFIG);
            let collected = &mut meta[2];
            if collected.outcome == Outcome::Fail {
                let details = collected.details.take().unwrap_or_default();
                collected.details = Some(format!("{problem}\n{details}"));
            } else {
                *collected = MetaTest::fail(META_COLLECTED, problem.clone(), problem);
            }
        }
        now = (judged.now, judged.now_source);
        // The process ends after the report: the kernel takes the model's
        // memory back at once, where freeing it object by object took 0.3 s
        // at 150k pods. (Only the model: files and locks are not in it.)
        std::mem::forget(judged.model);
        evaluation = Some(judged.evaluation);
        topology = Some(judged.topology);
    }

    let mut report = RunReport {
        suite: args.suite_name.clone(),
        started_at: wall,
        now: now.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        now_source: now.1.to_owned(),
        topology,
        profile,
        source,
        exceptions: Some(exceptions_used),
        meta,
        evaluation,
        junit: None,
        seconds: started.elapsed().as_secs_f64(),
    };
    // The summary's order (broken now first, counts per monitor and
    // component) on the CI page too.
    if let Some(d) = reports::text::digest(&report) {
        if let Some(m) = report
            .meta
            .iter_mut()
            .find(|m| m.name == reports::META_COMPLETED && m.outcome == Outcome::Pass)
        {
            m.details = Some(d);
        }
    }
    guard.phase("building the JUnit");
    let written = guard.finish(|| {
        target.map(|t| {
            let junit = reports::junit::build(&report);
            guard.phase("writing the JUnit");
            (t, t.write(&junit))
        })
    });
    match written {
        // Ended meanwhile (signal or deadline): that path wrote the JUnit.
        None => return exit::INCOMPLETE,
        Some(Some((_, Ok(p)))) => report.junit = Some(p.display().to_string()),
        Some(Some((t, Err(e)))) => {
            eprintln!("error: cannot write JUnit into {}: {e}", t.dir.display());
            status = status.max(exit::CONFIG);
        }
        Some(None) => {}
    }
    report.seconds = started.elapsed().as_secs_f64();
    guard.phase("writing the summary");

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
    guard.phase("exiting");
    if status != exit::OK {
        return status;
    }
    match report.worst_blocking() {
        Outcome::Fail => exit::FAILED,
        _ => exit::OK,
    }
}

/// Nothing to judge in scope: no namespace in the state, or none that
/// `--namespace` matches. Never a green run on nothing.
fn scope_problem(judged: &super::Judged, filter: Option<&str>) -> Option<String> {
    let all = &judged.all_namespaces;
    if all.is_empty() {
        return Some(
            "the state holds no namespace and no namespaced object: there is nothing to judge per namespace".into(),
        );
    }
    let pattern = filter?;
    if judged.evaluation.namespaces > 0 {
        return None;
    }
    let names: Vec<&str> = all.iter().map(String::as_str).collect();
    let hint = names
        .iter()
        .find(|n| n.contains(pattern))
        .copied()
        .or_else(|| crate::checks::closest_of(pattern, &names))
        .map(|n| format!("; did you mean {n:?}? (the pattern must match the whole name)"))
        .unwrap_or_else(|| "; the pattern must match the whole name".into());
    Some(format!(
        "--namespace {pattern:?} matches none of the {} in the state{hint}",
        plural(all.len(), "namespace")
    ))
}

/// Saves what was read. A state read from files is saved with the time it
/// describes (not the wall clock), so that replaying the snapshot measures
/// ages exactly as this run did.
fn save_snapshot(
    path: &std::path::Path,
    loaded: &Loaded,
    now_flag: Option<DateTime<Utc>>,
) -> std::io::Result<()> {
    let info = loaded.collection.clone().unwrap_or_else(|| {
        let (now, _) = super::state_now(loaded, now_flag);
        sources::snapshot::CollectionInfo {
            version: sources::snapshot::FORMAT_VERSION,
            collected_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ..Default::default()
        }
    });
    sources::snapshot::write(path, &loaded.objects, &info)
}

/// Text from inputs and servers made safe for a terminal: control
/// characters (screen clears, clipboard writes) are shown, not obeyed.
pub(crate) fn printable(s: &str) -> String {
    crate::reports::text::printable(&crate::redact::text(s)).into_owned()
}
