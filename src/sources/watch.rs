//! `vigil watch`: Kubernetes watches on pods and nodes, turned into
//! intervals ([`crate::model::intervals`]) while the e2e run goes on.
//!
//! Only transitions are kept: per object, the set of bad states it is in now
//! and since when, never a copy of the object, so memory follows the number
//! of objects that are unwell, not the cluster's size or the run's length.
//!
//! Each kind is listed, then watched with bookmarks; the server ends each
//! watch after a few minutes and it is resumed from the last version seen;
//! after a 410 Gone it is listed again. States are compared with what was
//! known, so a re-list records nothing twice; an object missing from a
//! re-list was deleted meanwhile and its open states end at the re-list.
//!
//! Every byte comes through vigil's bounds: list pages hold at most the
//! objects asked for, each watch event is at most `--max-page-mib`, a
//! restart count that leaps is one record. A kind that cannot be watched
//! (watching forbidden, a failing server) is retried with backoff, and the
//! time it went unwatched is recorded as a `NotWatched` interval, which
//! fails `[Monitor:vigil] cluster should be watched during the run`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, Pod};

use crate::model::intervals::{Interval, Reason};

mod more;
mod spill;

/// One bad state of one object: the reason, and the container it is about.
type StateKey = (Reason, Option<String>);

#[derive(Debug, Clone)]
struct Open {
    start: DateTime<Utc>,
    message: Option<String>,
}

#[derive(Debug, Default)]
struct Tracked {
    owner: Option<String>,
    open: BTreeMap<StateKey, Open>,
    /// restartCount per container, to see restarts.
    restarts: HashMap<String, i32>,
    /// The last OOM kill seen per container (its finishedAt), to count each once.
    oom_seen: HashMap<String, String>,
}

/// The object: kind, namespace, name.
type ObjKey = (&'static str, String, String);

/// Turns watch events into intervals.
#[derive(Debug, Default)]
pub struct Recorder {
    objects: HashMap<ObjKey, Tracked>,
    /// Closed intervals (spilled to a temporary file in a long watch).
    done: spill::Done,
    /// Objects seen during a re-list, per kind.
    relisting: HashMap<&'static str, HashSet<ObjKey>>,
    /// Kinds not being watched now: since when, and why.
    gaps: HashMap<&'static str, (DateTime<Utc>, String)>,
    /// Kinds listed completely at least once.
    listed_once: HashSet<&'static str>,
    /// Services' slices and Warning events' counts.
    more: more::More,
    stats: Stats,
}

/// What a watch saw, for its last line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Re-lists after the first list (disconnects, 410 Gone).
    pub relists: usize,
    /// Object states applied.
    pub events: u64,
}

/// The bad states an object is in, with their messages.
type States = BTreeMap<StateKey, Option<String>>;

impl Recorder {
    pub fn pod(&mut self, pod: &Pod, now: DateTime<Utc>) {
        let key = pod_key(pod);
        let owner = pod
            .metadata
            .owner_references
            .as_ref()
            .and_then(|o| o.iter().find(|r| r.controller == Some(true)))
            .map(|r| format!("{}/{}", r.kind, r.name));
        let mut states = States::new();
        let status = pod.status.as_ref();
        let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
        let terminating = pod.metadata.deletion_timestamp.is_some();
        if phase == "Running" && !terminating {
            if let Some(c) = status
                .and_then(|s| s.conditions.as_ref())
                .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
            {
                if c.status != "True" {
                    states.insert(
                        (Reason::PodNotReady, None),
                        c.reason.clone().or(c.message.clone()),
                    );
                }
            }
        }
        let tracked = self.objects.entry(key.clone()).or_default();
        // Long-lived strings are replaced only when they change, not
        // copied again on every event among its short-lived allocations.
        if tracked.owner != owner {
            tracked.owner = owner;
        }
        let mut instants = Vec::new();
        let all = status.into_iter().flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .chain(s.container_statuses.iter().flatten())
        });
        for cs in all {
            if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
                let reason = match w.reason.as_deref() {
                    Some("CrashLoopBackOff") => Some(Reason::CrashLoopBackOff),
                    Some("ErrImagePull" | "ImagePullBackOff") => Some(Reason::ImagePull),
                    _ => None,
                };
                if let Some(r) = reason {
                    states.insert((r, Some(cs.name.clone())), w.message.clone());
                }
            }
            let before = tracked.restarts.insert(cs.name.clone(), cs.restart_count);
            if let Some(b) = before.filter(|b| cs.restart_count > *b) {
                // One record however far the count jumped: a count that
                // leaps to 2^31 is one record of that many restarts.
                let n = (i64::from(cs.restart_count) - i64::from(b)) as u64;
                instants.push((
                    Reason::ContainerRestart,
                    cs.name.clone(),
                    Some(format!("restartCount {} -> {}", b, cs.restart_count)),
                    n,
                ));
            }
            if let Some(t) = cs
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .filter(|t| t.reason.as_deref() == Some("OOMKilled"))
            {
                let at = t
                    .finished_at
                    .as_ref()
                    .map(|f| f.0.to_string())
                    .unwrap_or_default();
                let first_sight = before.is_none();
                if tracked.oom_seen.get(&cs.name) != Some(&at) {
                    tracked.oom_seen.insert(cs.name.clone(), at);
                    // A kill from before the watch started is the final state's business.
                    if !first_sight {
                        instants.push((Reason::OOMKilled, cs.name.clone(), None, 1));
                    }
                }
            }
        }
        for (reason, container, message, count) in instants {
            let t = &self.objects[&key];
            self.done.push(Interval {
                kind: "Pod".into(),
                namespace: key.1.clone(),
                name: key.2.clone(),
                owner: t.owner.clone(),
                container: Some(container),
                reason,
                start: now,
                end: now,
                ongoing: false,
                message,
                count: (count > 1).then_some(count),
                connection: None,
                component: None,
            });
        }
        self.apply(key, states, now);
    }

    pub fn node(&mut self, node: &Node, now: DateTime<Utc>) {
        let key: ObjKey = (
            "Node",
            String::new(),
            node.metadata.name.clone().unwrap_or_default(),
        );
        let mut states = States::new();
        let conds = node.status.as_ref().and_then(|s| s.conditions.as_ref());
        for c in conds.into_iter().flatten() {
            match c.type_.as_str() {
                "Ready" if c.status != "True" => {
                    states.insert((Reason::NodeNotReady, None), c.reason.clone());
                }
                "MemoryPressure" | "DiskPressure" | "PIDPressure" if c.status == "True" => {
                    states.insert(
                        (Reason::NodePressure, Some(c.type_.clone())),
                        c.reason.clone(),
                    );
                }
                _ => {}
            }
        }
        if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
            states.insert((Reason::NodeCordoned, None), None);
        }
        self.objects.entry(key.clone()).or_default();
        self.apply(key, states, now);
    }

    /// A ClusterOperator or MachineConfigPool: the bad states its
    /// conditions report.
    fn reported(&mut self, kind: &'static str, r: &Reported, now: DateTime<Utc>) {
        let key: ObjKey = (
            kind,
            String::new(),
            r.metadata.name.clone().unwrap_or_default(),
        );
        let mut states = States::new();
        for c in &r.status.conditions {
            let reason = match (kind, c.type_.as_str(), c.status.as_str()) {
                ("ClusterOperator", "Available", s) if s != "True" => Reason::OperatorUnavailable,
                ("ClusterOperator", "Degraded", "True") => Reason::OperatorDegraded,
                ("ClusterOperator", "Progressing", "True") => Reason::OperatorProgressing,
                ("MachineConfigPool", "Degraded" | "NodeDegraded" | "RenderDegraded", "True") => {
                    Reason::PoolDegraded
                }
                _ => continue,
            };
            states.insert((reason, None), c.said());
        }
        self.objects.entry(key.clone()).or_default();
        self.apply(key, states, now);
    }

    pub fn pod_deleted(&mut self, pod: &Pod, now: DateTime<Utc>) {
        self.delete(pod_key(pod), now);
    }

    pub fn node_deleted(&mut self, node: &Node, now: DateTime<Utc>) {
        self.delete(
            (
                "Node",
                String::new(),
                node.metadata.name.clone().unwrap_or_default(),
            ),
            now,
        );
    }

    /// A (re-)list of `kind` begins.
    pub fn relist_started(&mut self, kind: &'static str) {
        if self.relisting.insert(kind, HashSet::new()).is_none() && self.listed_once.contains(kind)
        {
            self.stats.relists += 1;
        }
    }

    /// Marks an object seen during the current list of its kind.
    pub fn listed(&mut self, kind: &'static str, ns: &str, name: &str) {
        if let Some(seen) = self.relisting.get_mut(kind) {
            seen.insert((kind, ns.to_owned(), name.to_owned()));
        }
    }

    /// The list is complete: whatever was known and not listed is gone.
    pub fn relist_done(&mut self, kind: &'static str, now: DateTime<Utc>) {
        let Some(seen) = self.relisting.remove(kind) else {
            return;
        };
        let gone: Vec<ObjKey> = self
            .objects
            .keys()
            .filter(|k| k.0 == kind && !seen.contains(*k))
            .cloned()
            .collect();
        for k in gone {
            self.delete(k, now);
        }
        self.prune(kind, &seen, now);
        self.listed_once.insert(kind);
    }

    fn delete(&mut self, key: ObjKey, now: DateTime<Utc>) {
        self.apply(key.clone(), States::new(), now);
        self.objects.remove(&key);
    }

    fn apply(&mut self, key: ObjKey, states: States, now: DateTime<Utc>) {
        self.stats.events += 1;
        let Some(t) = self.objects.get_mut(&key) else {
            return;
        };
        let ended: Vec<StateKey> = t
            .open
            .keys()
            .filter(|k| !states.contains_key(*k))
            .cloned()
            .collect();
        for k in ended {
            let o = t.open.remove(&k).expect("open state");
            self.done
                .push(interval(&key, t.owner.clone(), k, o, now, false));
        }
        for (k, message) in states {
            match t.open.get_mut(&k) {
                Some(o) => {
                    if message.is_some() && o.message != message {
                        o.message = message;
                    }
                }
                None => {
                    t.open.insert(
                        k,
                        Open {
                            start: now,
                            message,
                        },
                    );
                }
            }
        }
        // Healthy objects keep only their restart counts: small. Only pods
        // have them.
        if t.open.is_empty() && t.restarts.is_empty() && key.0 != "Pod" {
            self.objects.remove(&key);
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// How many states are open now (for progress lines).
    pub fn open_count(&self) -> usize {
        self.objects.values().map(|t| t.open.len()).sum()
    }

    /// Ends every open state at `now` (marked ongoing) and returns all
    /// intervals, sorted by start, then object.
    pub fn finish(mut self, now: DateTime<Utc>) -> Vec<Interval> {
        for (kind, (start, why)) in std::mem::take(&mut self.gaps) {
            self.done.push(gap_interval(kind, start, now, why, true));
        }
        for w in self.warnings() {
            self.done.push(w);
        }
        let keys: BTreeSet<ObjKey> = self.objects.keys().cloned().collect();
        for key in keys {
            let t = self.objects.get_mut(&key).expect("tracked");
            for (k, o) in std::mem::take(&mut t.open) {
                let owner = t.owner.clone();
                self.done.push(interval(&key, owner, k, o, now, true));
            }
        }
        let (mut all, lost) = self.done.into_vec();
        if let Some(why) = lost {
            // Not silently fewer: the watch's own test fails, saying so.
            all.push(gap_interval("Interval", now, now, why, false));
        }
        crate::model::intervals::sort(&mut all);
        all
    }
}

fn pod_key(pod: &Pod) -> ObjKey {
    (
        "Pod",
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}

fn interval(
    key: &ObjKey,
    owner: Option<String>,
    (reason, container): StateKey,
    o: Open,
    end: DateTime<Utc>,
    ongoing: bool,
) -> Interval {
    Interval {
        kind: key.0.to_owned(),
        namespace: key.1.clone(),
        name: key.2.clone(),
        owner: if key.0 == "Pod" { owner } else { None },
        // Pressure intervals name the condition in `container`'s place? No:
        // they carry it in the message, containers are for pods only.
        container: if key.0 == "Pod" {
            container.clone()
        } else {
            None
        },
        reason,
        start: o.start,
        end,
        ongoing,
        count: None,
        connection: None,
        component: None,
        message: match (key.0, container, o.message) {
            ("Node", Some(cond), Some(m)) => Some(format!("{cond}: {m}")),
            ("Node", Some(cond), None) => Some(cond),
            (_, _, m) => m,
        },
    }
}

/// How `watch` stops.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    /// Stop once this file exists.
    pub file: Option<std::path::PathBuf>,
    /// Stop after this long.
    pub after: Option<std::time::Duration>,
}

/// What a watch recorded.
#[derive(Debug)]
pub struct Recording {
    pub intervals: Vec<Interval>,
    pub stats: Stats,
}

/// A kind `vigil watch` watches: its name and its cluster-wide path.
#[derive(Debug, Clone, Copy)]
struct Watched {
    kind: &'static str,
    path: &'static str,
    /// Added to the path's query: a selector.
    query: &'static str,
    /// Served only by some clusters (OpenShift's kinds): where the server
    /// does not know it, it is not watched, and that is no gap.
    optional: bool,
}

const WATCHED: &[Watched] = &[
    Watched {
        kind: "Pod",
        path: "/api/v1/pods",
        query: "",
        optional: false,
    },
    Watched {
        kind: "Node",
        path: "/api/v1/nodes",
        query: "",
        optional: false,
    },
    Watched {
        kind: "ClusterOperator",
        path: "/apis/config.openshift.io/v1/clusteroperators",
        query: "",
        optional: true,
    },
    Watched {
        kind: "MachineConfigPool",
        path: "/apis/machineconfiguration.openshift.io/v1/machineconfigpools",
        query: "",
        optional: true,
    },
    Watched {
        kind: "Deployment",
        path: "/apis/apps/v1/deployments",
        query: "",
        optional: false,
    },
    Watched {
        kind: "StatefulSet",
        path: "/apis/apps/v1/statefulsets",
        query: "",
        optional: false,
    },
    Watched {
        kind: "EndpointSlice",
        path: "/apis/discovery.k8s.io/v1/endpointslices",
        query: "",
        optional: false,
    },
    Watched {
        kind: "Event",
        path: "/api/v1/events",
        query: "fieldSelector=type%3DWarning&",
        optional: false,
    },
];

impl Watched {
    /// The kind's path with `query` (`name=value&...`) and the selector.
    fn url(&self, query: &str) -> String {
        format!("{}?{}{query}", self.path, self.query)
    }
}

/// What the watch reads of an OpenShift object that reports its health in
/// conditions (a ClusterOperator, a MachineConfigPool).
#[derive(serde::Deserialize)]
struct Reported {
    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    #[serde(default)]
    status: ReportedStatus,
}

#[derive(serde::Deserialize, Default)]
struct ReportedStatus {
    #[serde(default)]
    conditions: Vec<ReportedCondition>,
}

#[derive(serde::Deserialize)]
pub(super) struct ReportedCondition {
    #[serde(rename = "type", default)]
    type_: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// An object a watch delivered.
enum Obj {
    Pod(Box<Pod>),
    Node(Box<Node>),
    Reported(&'static str, Box<Reported>),
    Rollout(&'static str, Box<more::Rollout>),
    Slice(Box<more::Slice>),
    Event(Box<more::Event>),
}

impl Obj {
    fn decode(kind: &'static str, raw: &serde_json::value::RawValue) -> Result<Obj, String> {
        let e = |e: serde_json::Error| format!("a {kind} that does not decode: {e}");
        Ok(match kind {
            "Pod" => Obj::Pod(Box::new(serde_json::from_str(raw.get()).map_err(e)?)),
            "Node" => Obj::Node(Box::new(serde_json::from_str(raw.get()).map_err(e)?)),
            "Deployment" | "StatefulSet" => {
                Obj::Rollout(kind, Box::new(serde_json::from_str(raw.get()).map_err(e)?))
            }
            "EndpointSlice" => Obj::Slice(Box::new(serde_json::from_str(raw.get()).map_err(e)?)),
            "Event" => Obj::Event(Box::new(serde_json::from_str(raw.get()).map_err(e)?)),
            _ => Obj::Reported(kind, Box::new(serde_json::from_str(raw.get()).map_err(e)?)),
        })
    }

    fn resource_version(&self) -> Option<&str> {
        match self {
            Obj::Pod(p) => p.metadata.resource_version.as_deref(),
            Obj::Node(n) => n.metadata.resource_version.as_deref(),
            Obj::Reported(_, r) => r.metadata.resource_version.as_deref(),
            Obj::Rollout(_, w) => w.metadata.resource_version.as_deref(),
            Obj::Slice(s) => s.metadata.resource_version.as_deref(),
            Obj::Event(e) => e.metadata.resource_version.as_deref(),
        }
    }

    /// The kind, namespace and name a list marks seen.
    fn key(&self) -> (&'static str, &str, &str) {
        fn name(m: &Option<String>) -> &str {
            m.as_deref().unwrap_or("")
        }
        match self {
            Obj::Pod(p) => ("Pod", name(&p.metadata.namespace), name(&p.metadata.name)),
            Obj::Node(n) => ("Node", "", name(&n.metadata.name)),
            Obj::Reported(kind, r) => (kind, "", name(&r.metadata.name)),
            Obj::Rollout(kind, w) => (kind, &w.metadata.namespace, &w.metadata.name),
            Obj::Slice(s) => ("EndpointSlice", &s.metadata.namespace, &s.metadata.name),
            Obj::Event(e) => ("Event", &e.metadata.namespace, &e.metadata.name),
        }
    }
}

/// What a kind's watcher tells the recorder.
enum Msg {
    Relist(&'static str),
    Listed(Obj),
    RelistDone(&'static str, DateTime<Utc>),
    Apply(Obj, DateTime<Utc>),
    Delete(Obj, DateTime<Utc>),
    /// Not watching this kind from `at`, and why.
    Gap(&'static str, DateTime<Utc>, String),
    /// Watching it again.
    Watching(&'static str, DateTime<Utc>),
}

impl Recorder {
    fn take(&mut self, m: Msg) {
        match m {
            Msg::Relist(kind) => self.relist_started(kind),
            Msg::Listed(o) => {
                let (kind, ns, name) = o.key();
                let (ns, name) = (ns.to_owned(), name.to_owned());
                self.listed(kind, &ns, &name);
                self.object(o, false, Utc::now());
            }
            Msg::RelistDone(kind, at) => self.relist_done(kind, at),
            Msg::Apply(o, at) => self.object(o, false, at),
            Msg::Delete(o, at) => self.object(o, true, at),
            Msg::Gap(kind, at, why) => {
                crate::term::eprint_line(format_args!(
                    "vigil watch: cannot watch {kind}s ({why}); trying again, and recording the gap"
                ));
                self.gaps.entry(kind).or_insert((at, why));
            }
            Msg::Watching(kind, at) => {
                if let Some((start, why)) = self.gaps.remove(kind) {
                    crate::term::eprint_line(format_args!("vigil watch: watching {kind}s again"));
                    self.done.push(gap_interval(kind, start, at, why, false));
                }
            }
        }
    }
}

impl Recorder {
    /// An object as a list or watch delivered it (`deleted`: gone now).
    fn object(&mut self, o: Obj, deleted: bool, at: DateTime<Utc>) {
        match (o, deleted) {
            (Obj::Pod(p), false) => self.pod(&p, at),
            (Obj::Pod(p), true) => self.pod_deleted(&p, at),
            (Obj::Node(n), false) => self.node(&n, at),
            (Obj::Node(n), true) => self.node_deleted(&n, at),
            (Obj::Reported(kind, r), false) => self.reported(kind, &r, at),
            (Obj::Reported(kind, r), true) => {
                let name = r.metadata.name.clone().unwrap_or_default();
                self.delete((kind, String::new(), name), at)
            }
            (Obj::Rollout(kind, w), false) => self.rollout(kind, &w, at),
            (Obj::Rollout(kind, w), true) => {
                let (ns, name) = (w.metadata.namespace.clone(), w.metadata.name.clone());
                self.delete((kind, ns, name), at)
            }
            (Obj::Slice(s), deleted) => self.slice(&s, deleted, at),
            (Obj::Event(e), false) => self.event(&e, at),
            (Obj::Event(e), true) => self.event_deleted(&e),
        }
    }
}

fn gap_interval(
    kind: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    why: String,
    ongoing: bool,
) -> Interval {
    Interval {
        kind: kind.to_owned(),
        namespace: String::new(),
        name: String::new(),
        owner: None,
        container: None,
        reason: Reason::NotWatched,
        start,
        end,
        ongoing,
        message: Some(why),
        count: None,
        connection: None,
        component: None,
    }
}

/// Watches pods and nodes until `stopped()` or a [`Stop`] condition holds,
/// and returns the intervals. Errors only when the cluster cannot be
/// reached at all (no usable kubeconfig); a watch that cannot be kept up
/// (forbidden, a failing server) is retried and recorded as a gap, which
/// the watch test judges.
pub fn watch(
    opts: &super::live::LiveOptions,
    stop: &Stop,
    stopped: &(dyn Fn() -> bool + Sync),
) -> Result<Recording, super::live::Unreachable> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            super::live::Unreachable::Down(format!("cannot start the async runtime: {e}"))
        })?;
    let recording = rt.block_on(watch_async(opts, stop, stopped));
    // The watchers may be inside a request: do not wait for them.
    rt.shutdown_background();
    recording
}

async fn watch_async(
    opts: &super::live::LiveOptions,
    stop: &Stop,
    stopped: &(dyn Fn() -> bool + Sync),
) -> Result<Recording, super::live::Unreachable> {
    // No read timeout on the connection: a watch is idle for minutes, and
    // bounds itself (the server ends it after `timeoutSeconds`).
    let conn = super::live::connect_with(opts, None).await?;
    crate::term::eprint_line(format_args!(
        "vigil watch: watching pods and nodes, Deployments, StatefulSets, Services' endpoints and Warning events (and OpenShift's operators and machine config pools where served) on {}",
        conn.url
    ));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(1024);
    let tasks: Vec<_> = WATCHED
        .iter()
        .map(|w| tokio::spawn(watch_kind(conn.clone(), *w, opts.clone(), tx.clone())))
        .collect();
    drop(tx);
    let mut rec = Recorder::default();
    let started = std::time::Instant::now();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
    loop {
        tokio::select! {
            m = rx.recv() => match m {
                Some(m) => rec.take(m),
                None => break,
            },
            _ = tick.tick() => {
                let by_file = stop.file.as_ref().is_some_and(|f| f.exists());
                let by_time = stop.after.is_some_and(|d| started.elapsed() >= d);
                if stopped() || by_file || by_time {
                    break;
                }
            }
        }
    }
    for t in tasks {
        t.abort();
    }
    let stats = rec.stats();
    Ok(Recording {
        intervals: rec.finish(Utc::now()),
        stats,
    })
}

/// How one watch request ended.
enum WatchEnd {
    /// The server closed it (its `timeoutSeconds`), or the connection broke
    /// after it was established: watch again from this resourceVersion.
    Closed(String),
    /// 410 Gone: the resourceVersion is too old; list again.
    Expired,
    /// The watch could not be established or was refused.
    Failed(String),
    /// The recorder stopped listening.
    Done,
}

/// Lists and watches one kind for as long as the recorder listens.
async fn watch_kind(
    conn: super::live::Connection,
    w: Watched,
    opts: super::live::LiveOptions,
    tx: tokio::sync::mpsc::Sender<Msg>,
) {
    use std::time::Duration;
    let mut backoff = Duration::from_secs(1);
    let mut rv: Option<String> = None;
    let mut in_gap = false;
    let gap = |tx: &tokio::sync::mpsc::Sender<Msg>, why: String, in_gap: &mut bool| {
        let opened = !*in_gap;
        *in_gap = true;
        let tx = tx.clone();
        async move {
            if opened {
                let _ = tx.send(Msg::Gap(w.kind, Utc::now(), why)).await;
            }
        }
    };
    if w.optional && !served(&conn, w, &opts).await {
        return;
    }
    loop {
        if tx.is_closed() {
            return;
        }
        let from = match rv.take() {
            Some(v) => v,
            None => match list_kind(&conn, w, &opts, &tx).await {
                Ok(Some(v)) => v,
                Ok(None) => return,
                Err(why) => {
                    gap(&tx, why, &mut in_gap).await;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            },
        };
        match watch_once(&conn, w, &from, &opts, &tx, &mut in_gap).await {
            WatchEnd::Closed(next) => {
                backoff = Duration::from_secs(1);
                rv = Some(next);
            }
            WatchEnd::Expired => rv = None,
            WatchEnd::Failed(why) => {
                gap(&tx, why, &mut in_gap).await;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                // Resume from where it was; a 410 then sends it to a list.
                rv = Some(from);
            }
            WatchEnd::Done => return,
        }
    }
}

/// Whether the server knows an optional kind: only a 404 says it does not
/// (any other failure is the watch's to retry and record).
async fn served(
    conn: &super::live::Connection,
    w: Watched,
    opts: &super::live::LiveOptions,
) -> bool {
    let path = w.url("limit=1");
    !matches!(
        super::live::fetch(conn, &path, opts, super::live::JSON, |_| Ok(())).await,
        Err(super::live::Failure::Status(404, _))
    )
}

/// A list page as the API sends it.
#[derive(serde::Deserialize)]
struct Page {
    #[serde(default)]
    metadata: PageMeta,
    #[serde(default)]
    items: Vec<Box<serde_json::value::RawValue>>,
}

#[derive(serde::Deserialize, Default)]
struct PageMeta {
    #[serde(default, rename = "resourceVersion")]
    resource_version: Option<String>,
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
}

/// Objects per list page of a watch's (re-)list.
const WATCH_PAGE: u32 = 500;

/// Lists `w` page by page, sending each object to the recorder; returns the
/// list's resourceVersion to watch from (`None`: the recorder stopped).
async fn list_kind(
    conn: &super::live::Connection,
    w: Watched,
    opts: &super::live::LiveOptions,
    tx: &tokio::sync::mpsc::Sender<Msg>,
) -> Result<Option<String>, String> {
    let mut token: Option<String> = None;
    let mut seen = HashSet::new();
    let mut rv: Option<String> = None;
    let mut started = false;
    loop {
        let mut path = w.url(&format!("limit={WATCH_PAGE}"));
        if let Some(t) = &token {
            path.push_str("&continue=");
            path.push_str(&super::live::percent_encode(t));
        }
        let page = super::live::fetch(conn, &path, opts, super::live::JSON, |r| {
            let body = r.bytes();
            let text = std::str::from_utf8(&body).map_err(|e| format!("not UTF-8: {e}"))?;
            // Counted before decoding: a page of millions of tiny items costs
            // far more decoded than sent.
            if let Some((_, n)) = super::decode::outline_page(text) {
                if n > WATCH_PAGE as usize {
                    return Err(format!("{n} objects in a page of at most {WATCH_PAGE}"));
                }
            }
            serde_json::from_str::<Page>(text).map_err(|e| e.to_string())
        })
        .await
        .map_err(|f| f.message())?;
        if page.items.len() > WATCH_PAGE as usize {
            return Err(format!(
                "the server sent {} objects in a page of at most {WATCH_PAGE}: it ignores `limit`",
                page.items.len()
            ));
        }
        if rv.is_none() {
            rv = page.metadata.resource_version.clone();
        }
        // Each page goes to the recorder as it comes: holding a whole
        // list decoded cost 2.8 GB at 50,000 pods. A list that fails
        // half-way has still seen what it saw; only its end (RelistDone)
        // says what was deleted meanwhile.
        if !std::mem::replace(&mut started, true) && tx.send(Msg::Relist(w.kind)).await.is_err() {
            return Ok(None);
        }
        for raw in &page.items {
            if tx
                .send(Msg::Listed(Obj::decode(w.kind, raw)?))
                .await
                .is_err()
            {
                return Ok(None);
            }
        }
        match page.metadata.continue_token.filter(|t| !t.is_empty()) {
            None => break,
            Some(t)
                if !seen.insert(std::hash::BuildHasher::hash_one(
                    &foldhash::quality::FixedState::with_seed(7),
                    &t,
                )) =>
            {
                return Err("the server sent the same continue token twice".into());
            }
            Some(t) => token = Some(t),
        }
    }
    if tx.send(Msg::RelistDone(w.kind, Utc::now())).await.is_err() {
        return Ok(None);
    }
    rv.map(Some)
        .ok_or_else(|| "the list had no resourceVersion to watch from".to_owned())
}

/// One watch request from `rv`, its events sent to the recorder as they
/// come, each no larger than `--max-page-mib`.
async fn watch_once(
    conn: &super::live::Connection,
    w: Watched,
    rv: &str,
    opts: &super::live::LiveOptions,
    tx: &tokio::sync::mpsc::Sender<Msg>,
    in_gap: &mut bool,
) -> WatchEnd {
    use http_body_util::BodyExt;
    use std::time::Duration;
    let path = w.url(&format!(
        "watch=1&allowWatchBookmarks=true&timeoutSeconds={WATCH_SECONDS}&resourceVersion={}",
        super::live::percent_encode(rv)
    ));
    let request = match http::Request::get(&path)
        .header(http::header::ACCEPT, super::live::JSON)
        .body(kube::client::Body::empty())
    {
        Ok(r) => r,
        Err(e) => return WatchEnd::Failed(format!("bad request {path}: {e}")),
    };
    let response = match tokio::time::timeout(opts.timeout, conn.client.send(request)).await {
        Err(_) => return WatchEnd::Failed(format!("no answer within {}s", opts.timeout.as_secs())),
        Ok(Err(e)) => return WatchEnd::Failed(crate::redact::text(&super::live::describe(&e))),
        Ok(Ok(r)) => r,
    };
    let status = response.status();
    if !status.is_success() {
        let body = super::live::read_small_body(response.into_body()).await;
        return match status.as_u16() {
            410 => WatchEnd::Expired,
            _ => WatchEnd::Failed(super::live::status_text(status, &body)),
        };
    }
    if std::mem::take(in_gap) && tx.send(Msg::Watching(w.kind, Utc::now())).await.is_err() {
        return WatchEnd::Done;
    }
    let limit = crate::input::Limit::pages(opts.max_page_bytes);
    let mut lines = crate::input::LineSplitter::new(limit);
    let mut body = response.into_body();
    let mut latest = rv.to_owned();
    // The server sends a bookmark about every minute; silence well past the
    // watch's own length means the connection is gone.
    let idle = Duration::from_secs(WATCH_SECONDS + 60);
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) | Ok(None) => return WatchEnd::Closed(latest),
            // Broken after it was established: resume from the latest version.
            Ok(Some(Err(_))) => return WatchEnd::Closed(latest),
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let mut events = Vec::new();
        let pushed = lines.push(&data, &mut |line| {
            if !line.iter().all(|b| b.is_ascii_whitespace()) {
                events.push(line.to_vec());
            }
            Ok(())
        });
        if let Err(e) = pushed {
            return WatchEnd::Failed(format!("a watch event is {e}"));
        }
        for line in events {
            match event(w.kind, &line) {
                Ok(Event::Bookmark(v)) => latest = v,
                Ok(Event::Gone) => return WatchEnd::Expired,
                Ok(Event::Error(m)) => return WatchEnd::Failed(m),
                Ok(Event::Object(deleted, obj)) => {
                    if let Some(v) = obj.resource_version() {
                        latest = v.to_owned();
                    }
                    let now = Utc::now();
                    let m = if deleted {
                        Msg::Delete(obj, now)
                    } else {
                        Msg::Apply(obj, now)
                    };
                    if tx.send(m).await.is_err() {
                        return WatchEnd::Done;
                    }
                }
                Err(e) => {
                    return WatchEnd::Failed(format!("a watch event that does not decode: {e}"))
                }
            }
        }
    }
}

/// Seconds the server keeps one watch open before ending it cleanly.
const WATCH_SECONDS: u64 = 240;

/// One watch event.
enum Event {
    Object(bool, Obj),
    Bookmark(String),
    Gone,
    Error(String),
}

fn event(kind: &'static str, line: &[u8]) -> Result<Event, String> {
    #[derive(serde::Deserialize)]
    struct Raw<'a> {
        #[serde(rename = "type")]
        ty: &'a str,
        #[serde(borrow)]
        object: &'a serde_json::value::RawValue,
    }
    #[derive(serde::Deserialize)]
    struct Status {
        #[serde(default)]
        code: u16,
        #[serde(default)]
        message: String,
    }
    #[derive(serde::Deserialize)]
    struct Versioned {
        #[serde(default)]
        metadata: PageMeta,
    }
    let raw: Raw = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    match raw.ty {
        "ADDED" | "MODIFIED" => Ok(Event::Object(false, Obj::decode(kind, raw.object)?)),
        "DELETED" => Ok(Event::Object(true, Obj::decode(kind, raw.object)?)),
        "BOOKMARK" => {
            let v: Versioned = serde_json::from_str(raw.object.get()).map_err(|e| e.to_string())?;
            v.metadata
                .resource_version
                .map(Event::Bookmark)
                .ok_or_else(|| "a bookmark without a resourceVersion".into())
        }
        "ERROR" => {
            let s: Status = serde_json::from_str(raw.object.get()).map_err(|e| e.to_string())?;
            if s.code == 410 {
                Ok(Event::Gone)
            } else {
                Ok(Event::Error(format!(
                    "the server ended the watch: HTTP {} {}",
                    s.code,
                    crate::redact::text(&s.message)
                )))
            }
        }
        other => Err(format!(
            "unknown event type {:?}",
            crate::term::one_line(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::minutes(min)
    }

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    fn ready(status: &str, restarts: i32, waiting: Option<&str>) -> Pod {
        let state = match waiting {
            Some(r) => serde_json::json!({"waiting": {"reason": r}}),
            None => serde_json::json!({"running": {}}),
        };
        pod(serde_json::json!({
            "metadata": {"name": "web-1", "namespace": "shop",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9", "uid": "u", "controller": true}]},
            "status": {"phase": "Running",
                       "conditions": [{"type": "Ready", "status": status}],
                       "containerStatuses": [{"name": "web", "ready": status == "True", "restartCount": restarts,
                                              "image": "i", "imageID": "", "state": state}]}
        }))
    }

    fn operator(available: &str, degraded: &str) -> Reported {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "kube-apiserver", "resourceVersion": "7"},
            "status": {"conditions": [
                {"type": "Available", "status": available, "reason": "AsExpected"},
                {"type": "Degraded", "status": degraded, "reason": "NodeInstaller_InstallerPodFailed", "message": "installer pod failed"},
            ]}
        }))
        .unwrap()
    }

    #[test]
    fn an_operator_that_degraded_and_recovered_gives_its_intervals() {
        let mut r = Recorder::default();
        r.reported("ClusterOperator", &operator("True", "False"), t(0));
        r.reported("ClusterOperator", &operator("True", "True"), t(3));
        r.reported("ClusterOperator", &operator("False", "True"), t(10));
        r.reported("ClusterOperator", &operator("True", "False"), t(12));
        r.reported("ClusterOperator", &operator("False", "False"), t(20));
        let iv = r.finish(t(30));
        let summary: Vec<_> = iv
            .iter()
            .map(|i| {
                (
                    i.kind.as_str(),
                    i.name.as_str(),
                    i.reason,
                    i.start,
                    i.end,
                    i.ongoing,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "ClusterOperator",
                    "kube-apiserver",
                    Reason::OperatorDegraded,
                    t(3),
                    t(12),
                    false
                ),
                (
                    "ClusterOperator",
                    "kube-apiserver",
                    Reason::OperatorUnavailable,
                    t(10),
                    t(12),
                    false
                ),
                (
                    "ClusterOperator",
                    "kube-apiserver",
                    Reason::OperatorUnavailable,
                    t(20),
                    t(30),
                    true
                ),
            ]
        );
        assert_eq!(
            iv[0].message.as_deref(),
            Some("NodeInstaller_InstallerPodFailed: installer pod failed")
        );
    }

    #[test]
    fn a_pod_that_went_unready_and_back_gives_one_closed_interval() {
        let mut r = Recorder::default();
        r.pod(&ready("True", 0, None), t(0));
        r.pod(&ready("False", 1, Some("CrashLoopBackOff")), t(5));
        r.pod(&ready("False", 2, Some("CrashLoopBackOff")), t(7));
        r.pod(&ready("True", 2, None), t(25));
        let iv = r.finish(t(30));
        let summary: Vec<_> = iv
            .iter()
            .map(|i| (i.reason, i.start, i.end, i.ongoing, i.owner.clone()))
            .collect();
        let owner = Some("ReplicaSet/web-7d9".to_owned());
        assert_eq!(
            summary,
            vec![
                (Reason::PodNotReady, t(5), t(25), false, owner.clone()),
                (Reason::CrashLoopBackOff, t(5), t(25), false, owner.clone()),
                (Reason::ContainerRestart, t(5), t(5), false, owner.clone()),
                (Reason::ContainerRestart, t(7), t(7), false, owner.clone()),
            ]
        );
    }

    #[test]
    fn a_relist_records_nothing_twice_and_ends_what_was_deleted_meanwhile() {
        let mut r = Recorder::default();
        r.relist_started("Pod");
        r.listed("Pod", "shop", "web-1");
        r.pod(&ready("False", 0, None), t(0));
        r.relist_done("Pod", t(0));
        // The watch breaks; the re-list sees the same state: nothing new.
        r.relist_started("Pod");
        r.listed("Pod", "shop", "web-1");
        r.pod(&ready("False", 0, None), t(10));
        r.relist_done("Pod", t(10));
        assert_eq!(r.stats().relists, 1);
        // Deleted while the watch was down: missing from the next list.
        r.relist_started("Pod");
        r.relist_done("Pod", t(20));
        let iv = r.finish(t(30));
        assert_eq!(iv.len(), 1, "{iv:?}");
        assert_eq!(
            (iv[0].start, iv[0].end, iv[0].ongoing),
            (t(0), t(20), false)
        );
    }

    #[test]
    fn open_states_end_at_the_stop_marked_ongoing() {
        let mut r = Recorder::default();
        let node: Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "worker-1"},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"},
                                      {"type": "DiskPressure", "status": "True"}]}
        }))
        .unwrap();
        r.node(&node, t(0));
        assert_eq!(r.open_count(), 3);
        let iv = r.finish(t(12));
        assert!(iv
            .iter()
            .all(|i| i.ongoing && i.end == t(12) && i.kind == "Node"));
        let reasons: BTreeSet<_> = iv.iter().map(|i| i.reason).collect();
        assert_eq!(
            reasons,
            [
                Reason::NodeNotReady,
                Reason::NodePressure,
                Reason::NodeCordoned
            ]
            .into()
        );
        assert!(iv
            .iter()
            .any(|i| i.message.as_deref() == Some("DiskPressure")));
    }

    #[test]
    fn healthy_objects_cost_only_their_restart_counts() {
        let mut r = Recorder::default();
        for i in 0..1000 {
            let mut p = ready("True", 0, None);
            p.metadata.name = Some(format!("web-{i}"));
            r.pod(&p, t(0));
        }
        assert_eq!(r.open_count(), 0);
        assert!(r
            .objects
            .values()
            .all(|t| t.open.is_empty() && t.restarts.len() == 1));
    }
}
