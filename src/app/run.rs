//! `vigil run`: resolve -> acquire -> judge -> report -> verdict. Every
//! step returns what the next one takes; the meta tests are named fields,
//! and whatever cuts the run short, the [`Guard`] still writes the JUnit.
//! `vigil watch` ends with the same steps ([`judge_and_report`]).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};

use super::args;
use super::guard::{Abort, Guard};
use crate::checks::Profile;
use crate::cli::{CommonRunArgs, Format, RunArgs};
use crate::error::{Result, Status};
use crate::exceptions::{Diagnostic, Exceptions};
use crate::outcomes::Outcome;
use crate::reports::{
    self, plural, MetaTest, RunReport, META_COLLECTED, META_COMPLETED, META_EXCEPTIONS,
    META_REACHABLE,
};
use crate::sources::{self, Loaded};

/// `vigil run`. Whatever happens, a JUnit file records it.
pub fn run(args: &RunArgs, guard: &Guard) -> Result {
    let plan = Plan::resolve(&args.common);
    let intervals = match &args.intervals {
        None => Vec::new(),
        Some(p) => {
            guard.phase("reading the --intervals file");
            match crate::model::intervals::read(p, args::file_limit(&args.common.limits)) {
                Ok(i) => i,
                Err(e) => return Ok(guard.abort(&Abort::Usage(format!("--intervals {e}")))),
            }
        }
    };
    let watched = (!intervals.is_empty() || args.intervals.is_some())
        .then(|| crate::reports::watch_test(&intervals));
    guard.phase(if args.from.is_empty() {
        "collecting the cluster state"
    } else {
        "reading the --from inputs"
    });
    let mut acquired = acquire(&args.common, &args.from);
    if let Some(l) = &mut acquired.loaded {
        l.intervals = intervals;
    }
    judge_and_report(&args.common, &plan, guard, acquired, watched)
}

/// The command line, resolved once.
pub(super) struct Plan {
    started: Instant,
    wall: DateTime<Utc>,
    /// The day exception expiry is judged against: a matter of the calendar,
    /// not of the state's age.
    today: NaiveDate,
}

impl Plan {
    pub(super) fn resolve(common: &CommonRunArgs) -> Plan {
        let wall = Utc::now();
        Plan {
            started: Instant::now(),
            wall,
            today: common.judge.now.unwrap_or(wall).date_naive(),
        }
    }
}

/// The state and how getting it went.
pub(super) struct Acquired {
    /// `None` when the cluster could not be reached.
    pub loaded: Option<Loaded>,
    /// `live cluster https://... (v1.34.4)`, `3 files from state/`.
    pub source: String,
    pub reachable: MetaTest,
    pub collection: Collection,
}

/// What the collection test says.
#[derive(Default)]
pub(super) struct Collection {
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    /// The worst status the collection calls for (an unreadable input: 2,
    /// an unreachable cluster: 3).
    pub status: Option<Status>,
    /// Some objects were read, so the checks ran on them.
    pub judged_anyway: bool,
}

impl Collection {
    fn problem(&mut self, status: Status, what: String) {
        self.problems.push(what);
        self.status = Some(self.status.map_or(status, |s| s.worst(status)));
    }

    fn test(&self) -> MetaTest {
        let notes = self.notes.join("\n");
        match self.problems.as_slice() {
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
                if self.judged_anyway {
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
}

/// Reads the state: from `--from` paths, or from the cluster.
pub(super) fn acquire(common: &CommonRunArgs, from: &[PathBuf]) -> Acquired {
    if from.is_empty() {
        return match sources::live::collect(&args::live_options(&common.cluster)) {
            Ok(c) => {
                let source = format!(
                    "live cluster {} ({})",
                    c.server_url,
                    c.info.server.as_deref().unwrap_or("unknown version")
                );
                acquired(super::loaded_from_live(c), source, from)
            }
            Err(e) => unreachable_cluster(e),
        };
    }
    let l = sources::load_paths_with(from, &args::file_limits(&common.limits));
    let source = format!(
        "{} from {}",
        plural(l.files.len(), "file"),
        from.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    acquired(l, source, from)
}

fn acquired(loaded: Loaded, source: String, from: &[PathBuf]) -> Acquired {
    let collection = assess_collection(&loaded, from);
    Acquired {
        loaded: Some(loaded),
        source,
        reachable: MetaTest::pass(META_REACHABLE),
        collection,
    }
}

/// The cluster could not be reached: both tests fail, nothing is judged.
pub(super) fn unreachable_cluster(e: sources::live::Unreachable) -> Acquired {
    let status = if e.is_config() {
        Status::Config
    } else {
        Status::Unreachable
    };
    let collection = Collection {
        status: Some(status),
        problems: vec![format!(
            "nothing collected: the cluster could not be reached ({e})"
        )],
        ..Default::default()
    };
    Acquired {
        loaded: None,
        source: if e.is_config() {
            "cluster not configured".to_owned()
        } else {
            "cluster unreachable".to_owned()
        },
        reachable: MetaTest::fail(META_REACHABLE, e.to_string(), e.to_string()),
        collection,
    }
}

/// The kinds whose presence makes an input a cluster state: without a
/// Pod, a Node or a workload there is nothing to judge a cluster by.
const CLUSTER_KINDS: &[&str] = &[
    "Pod",
    "Node",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "DeploymentConfig",
    "Rollout",
];

/// `[Monitor:vigil] cluster state should be collected`: fails when any
/// input could not be read, when nothing a cluster state holds was found
/// (never a green run on no data), or when a live run could not list a
/// kind; passes with notes otherwise.
fn assess_collection(loaded: &Loaded, paths: &[PathBuf]) -> Collection {
    let mut c = Collection {
        judged_anyway: !loaded.objects.is_empty(),
        ..Default::default()
    };
    for p in &loaded.problems {
        c.problem(Status::Config, p.to_string());
    }
    if loaded.conflicting > 0 {
        c.notes.push(format!(
            "{} of objects read more than once differed; the newest copy of each object was judged (higher resourceVersion, else the one read later): {}",
            plural(loaded.conflicting, "copy"),
            loaded.conflict_examples.join("; ")
        ));
    }
    if let Some(info) = &loaded.collection {
        // A kind that could not be listed fails the collection test (exit
        // 1, like any failing test): the cluster answered, the rest is judged.
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
        // A cluster without OpenShift's own kinds is not OpenShift: not news.
        let openshift = |k: &str| crate::outcomes::OPENSHIFT_KINDS.contains(&k);
        for k in info.skipped.iter().filter(|k| needed(k) && !openshift(k)) {
            c.notes.push(format!(
                "{k}: not served by this cluster; the checks that need it are skipped"
            ));
        }
        if info.version < crate::sources::snapshot::FORMAT_VERSION && !paths.is_empty() {
            c.notes.push(format!(
                "a version {} snapshot: it has no end marker, so a copy cut short cannot be told from a whole one",
                info.version
            ));
        }
    }
    let could_not_list = loaded
        .collection
        .as_ref()
        .is_some_and(|i| !i.missing.is_empty());
    if !holds_cluster_data(loaded) && !could_not_list {
        c.judged_anyway = false;
        c.problem(Status::Config, nothing_found(loaded, paths));
    } else if loaded.kindless > 0 {
        c.notes.push(format!(
            "{} without `kind` were passed over (not Kubernetes objects)",
            plural(loaded.kindless, "document")
        ));
    }
    c
}

/// Whether the input holds any kind a cluster's health is judged by.
fn holds_cluster_data(loaded: &Loaded) -> bool {
    CLUSTER_KINDS.iter().any(|k| loaded.lists.contains(*k))
        || loaded.collection.as_ref().is_some_and(|i| {
            i.kinds_listed()
                .iter()
                .any(|k| CLUSTER_KINDS.contains(&k.as_str()))
        })
        || loaded
            .objects
            .iter()
            .any(|o| CLUSTER_KINDS.contains(&o.kind()))
}

/// What an input without cluster data held, and what vigil reads.
fn nothing_found(loaded: &Loaded, paths: &[PathBuf]) -> String {
    let mut what = if paths.is_empty() {
        "the cluster returned no Pod, Node or workload".to_owned()
    } else {
        format!(
            "no Pod, Node or workload (Deployment, StatefulSet, DaemonSet) was found in {}: {} read",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            plural(loaded.files.len(), "state file"),
        )
    };
    let mut kinds: Vec<&str> = loaded.objects.iter().map(|o| o.kind()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    if !kinds.is_empty() {
        what.push_str(&format!(
            ", only {} ({}), which say nothing of the cluster's health",
            plural(loaded.objects.len(), "object"),
            kinds.join(", ")
        ));
    }
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
            "; not state files, so not read: {}",
            names.join(", ")
        ));
    }
    what.push_str(
        "; vigil reads `kubectl get -o yaml|json` output, must-gather directories and archives, and vigil snapshots",
    );
    what
}

/// The exceptions directory, loaded, with its meta test and what every
/// report says about it.
struct LoadedExceptions {
    exceptions: Option<Exceptions>,
    test: MetaTest,
    described: String,
}

fn load_exceptions(dir: Option<&PathBuf>) -> LoadedExceptions {
    let (ex_dir, explicit) = match dir {
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
            LoadedExceptions {
                test: MetaTest::pass_with(META_EXCEPTIONS, format!("exceptions: {described}")),
                exceptions: Some(ex),
                described,
            }
        }
        Err(diags) => {
            eprint_diagnostics(&diags);
            let errors = diags
                .iter()
                .filter(|d| d.level == crate::exceptions::Level::Error)
                .count();
            LoadedExceptions {
                exceptions: None,
                test: MetaTest::fail(
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
                ),
                described: format!("{} (invalid)", ex_dir.display()),
            }
        }
    }
}

pub(super) fn eprint_diagnostics(diags: &[Diagnostic]) {
    let mut err = crate::term::stderr();
    for d in diags {
        let _ = writeln!(err, "{d}\n");
    }
}

/// The meta tests, by name, in the order they are written.
struct Meta {
    completed: MetaTest,
    reachable: MetaTest,
    collected: MetaTest,
    exceptions: MetaTest,
    /// `vigil watch` and `run --intervals` only.
    watched: Option<MetaTest>,
}

impl Meta {
    fn into_vec(self) -> Vec<MetaTest> {
        let mut v = vec![
            self.completed,
            self.reachable,
            self.collected,
            self.exceptions,
        ];
        v.extend(self.watched);
        v
    }
}

/// Judges what was acquired, writes the JUnit and the summary, and gives
/// the verdict: the end of `run` and of `watch`.
pub(super) fn judge_and_report(
    common: &CommonRunArgs,
    plan: &Plan,
    guard: &Guard,
    acquired: Acquired,
    watched: Option<MetaTest>,
) -> Result {
    // Exceptions first: a broken list must not be mistaken for new failures.
    guard.phase("reading the exceptions");
    let ex = load_exceptions(common.judge.exceptions.as_ref());
    let mut status = if ex.exceptions.is_none() {
        Status::Config
    } else {
        Status::Passed
    };
    let Acquired {
        loaded,
        source,
        reachable,
        mut collection,
    } = acquired;
    for p in &collection.problems {
        crate::term::error(p);
    }
    for n in &collection.notes {
        crate::term::note(n);
    }
    if let (Some(path), Some(loaded)) = (&common.save_snapshot, &loaded) {
        guard.phase("writing the snapshot");
        if let Err(e) = save_snapshot(path, loaded, common.judge.now) {
            crate::term::error(&format!(
                "cannot write the snapshot {}: {e}",
                path.display()
            ));
            status = status.worst(Status::Config);
        }
    }
    let (profile, profile_from) =
        match (common.judge.profile.and_then(args::profile), &ex.exceptions) {
            (Some(p), _) => (Some(p), "--profile"),
            (None, Some(e)) if common.judge.profile.is_none() && e.policy.profile.is_some() => {
                (e.policy.profile, "policy.yaml")
            }
            _ => (None, ""),
        };
    guard.phase("judging");
    // Nothing a cluster is judged by: nothing judged, rather than passes.
    let loaded = loaded.filter(|_| collection.judged_anyway);
    let judged = match (loaded, &ex.exceptions) {
        (Some(loaded), Some(exceptions)) => Some(super::judge(
            loaded,
            exceptions,
            &super::Judging {
                topology: args::topology(common.judge.topology),
                profile,
                profile_from,
                namespaces: common.judge.namespace.as_ref().map(|n| &n.regex),
                now: common.judge.now,
                today: plan.today,
                phase: &|what| guard.phase(what),
            },
        )),
        _ => None,
    };
    if let Some(j) = &judged {
        if let Some(problem) = scope_problem(
            j,
            common.judge.namespace.as_ref().map(|n| n.pattern.as_str()),
        ) {
            crate::term::error(&problem);
            collection.problems.insert(0, problem);
            collection.status = Some(Status::Config);
        }
        if !j.lacking.is_empty() {
            let note = format!(
                "the input holds no {}: the checks that read them are skipped as not evaluated",
                j.lacking.join(", ")
            );
            crate::term::note(&note);
            collection.notes.push(note);
        }
    }
    if let Some(s) = collection.status {
        status = status.worst(s);
    }
    let meta = Meta {
        completed: MetaTest::pass(META_COMPLETED),
        reachable,
        collected: collection.test(),
        exceptions: ex.test,
        watched,
    };
    let report = build_report(common, plan, source, ex.described, meta, judged);
    finish(common, plan, guard, report, status)
}

fn build_report(
    common: &CommonRunArgs,
    plan: &Plan,
    source: String,
    exceptions: String,
    meta: Meta,
    judged: Option<super::Judged>,
) -> RunReport {
    let (now, now_source) = match &judged {
        Some(j) => (j.now, j.now_source),
        None => match common.judge.now {
            Some(t) => (t, "--now"),
            None => (plan.wall, "wall clock"),
        },
    };
    let (topology, profile, profile_source, evaluation) = match judged {
        Some(j) => {
            // The process ends after the report: the kernel takes the
            // model's memory back at once, where freeing it object by object
            // took 0.3 s at 150k pods. (Only the model: files and locks are
            // not in it.)
            std::mem::forget(j.model);
            (
                Some(j.topology),
                j.profile,
                j.profile_source,
                Some(j.evaluation),
            )
        }
        None => (
            None,
            Profile::Generic,
            "nothing was judged".to_owned(),
            None,
        ),
    };
    let mut report = RunReport {
        suite: common.junit.suite_name.clone(),
        started_at: plan.wall,
        now: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        now_source: now_source.to_owned(),
        topology,
        profile,
        profile_source,
        source,
        exceptions: Some(exceptions),
        meta: meta.into_vec(),
        evaluation,
        junit: None,
        seconds: plan.started.elapsed().as_secs_f64(),
    };
    // The summary's order (broken now first, counts per monitor and
    // component) on the CI page too.
    if let Some(d) = reports::text::digest(&report) {
        if let Some(m) = report
            .meta
            .iter_mut()
            .find(|m| m.name == META_COMPLETED && m.outcome == Outcome::Pass)
        {
            m.details = Some(d);
        }
    }
    report
}

/// Writes the JUnit (unless the guard already ended the run), prints the
/// summary and returns the verdict.
fn finish(
    common: &CommonRunArgs,
    plan: &Plan,
    guard: &Guard,
    mut report: RunReport,
    mut status: Status,
) -> Result {
    guard.phase("building the JUnit");
    let written = guard.finish(|| {
        guard.target().map(|t| {
            let junit = reports::junit::build(&report);
            guard.phase("writing the JUnit");
            (t, t.write(&junit))
        })
    });
    match written {
        // Ended meanwhile (signal or deadline): that path wrote the JUnit.
        None => return Ok(Status::Incomplete),
        Some(Some((_, Ok(p)))) => report.junit = Some(p.display().to_string()),
        Some(Some((t, Err(e)))) => {
            crate::term::error(&format!("cannot write JUnit into {}: {e}", t.dir.display()));
            status = status.worst(Status::Config);
        }
        Some(None) => {}
    }
    report.seconds = plan.started.elapsed().as_secs_f64();
    guard.phase("writing the summary");
    // Buffered: a big cluster's summary is thousands of small writes.
    let mut out = std::io::BufWriter::new(crate::term::stdout());
    let printed = match common.output {
        Format::Text => reports::text::write(&mut out, &report),
        Format::Json => reports::json::write(&mut out, &report),
    }
    .and_then(|()| out.flush());
    super::printed(printed)?;
    guard.phase("exiting");
    if report.worst_blocking() == Outcome::Fail {
        status = status.worst(Status::Failed);
    }
    Ok(status)
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
/// describes (not the wall clock) and the kinds it holds, so that replaying
/// the snapshot measures ages and skips checks exactly as this run did.
fn save_snapshot(
    path: &std::path::Path,
    loaded: &Loaded,
    now_flag: Option<DateTime<Utc>>,
) -> std::io::Result<()> {
    let info = loaded.collection.clone().unwrap_or_else(|| {
        let (now, _) = super::judge::state_now(loaded, now_flag);
        let mut kinds: std::collections::BTreeSet<String> = loaded.lists.clone();
        kinds.extend(loaded.objects.iter().map(|o| o.kind().to_owned()));
        sources::snapshot::CollectionInfo {
            version: sources::snapshot::FORMAT_VERSION,
            collected_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            kinds: Some(kinds.into_iter().collect()),
            ..Default::default()
        }
    });
    sources::snapshot::write(path, &loaded.objects, &info)
}
