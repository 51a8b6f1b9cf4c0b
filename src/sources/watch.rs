//! `vigil watch`: Kubernetes watches on pods and nodes, turned into
//! intervals ([`crate::model::intervals`]) while the e2e run goes on.
//!
//! Only transitions are kept: per object, the set of bad states it is in now
//! and since when, never a copy of the object, so memory follows the number
//! of objects that are unwell, not the cluster's size or the run's length.
//!
//! kube-rs's watcher lists, then watches with bookmarks, and after a
//! disconnect or a 410 Gone lists again. States are compared with what was
//! known, so a re-list records nothing twice; an object missing from a
//! re-list was deleted meanwhile and its open states end at the re-list.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, Pod};

use crate::model::intervals::{Interval, Reason};

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
    done: Vec<Interval>,
    /// Objects seen during a re-list, per kind.
    relisting: HashMap<&'static str, HashSet<ObjKey>>,
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
        tracked.owner = owner;
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
            if let Some(b) = before {
                for n in b + 1..=cs.restart_count {
                    instants.push((
                        Reason::ContainerRestart,
                        cs.name.clone(),
                        Some(format!("restartCount {n}")),
                    ));
                }
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
                        instants.push((Reason::OOMKilled, cs.name.clone(), None));
                    }
                }
            }
        }
        for (reason, container, message) in instants {
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
        if self.relisting.insert(kind, HashSet::new()).is_none()
            && self.objects.keys().any(|k| k.0 == kind)
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
                    if message.is_some() {
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
        // Healthy objects keep only their restart counts: small.
        if t.open.is_empty() && t.restarts.is_empty() && key.0 == "Node" {
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
        let keys: BTreeSet<ObjKey> = self.objects.keys().cloned().collect();
        for key in keys {
            let t = self.objects.get_mut(&key).expect("tracked");
            for (k, o) in std::mem::take(&mut t.open) {
                let owner = t.owner.clone();
                self.done.push(interval(&key, owner, k, o, now, true));
            }
        }
        self.done.sort_by(|a, b| {
            (
                a.start,
                &a.kind,
                &a.namespace,
                &a.name,
                a.reason,
                &a.container,
            )
                .cmp(&(
                    b.start,
                    &b.kind,
                    &b.namespace,
                    &b.name,
                    b.reason,
                    &b.container,
                ))
        });
        self.done
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

/// Watches pods and nodes until `stopped()` or a [`Stop`] condition holds,
/// and returns the intervals. Errors only when the cluster cannot be
/// reached at all; a watch that breaks later is resumed (and said so on
/// stderr).
pub fn watch(
    opts: &super::live::LiveOptions,
    stop: &Stop,
    stopped: &(dyn Fn() -> bool + Sync),
) -> Result<(Vec<Interval>, Stats), super::live::Unreachable> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            super::live::Unreachable::Down(format!("cannot start the async runtime: {e}"))
        })?;
    rt.block_on(watch_async(opts, stop, stopped))
}

async fn watch_async(
    opts: &super::live::LiveOptions,
    stop: &Stop,
    stopped: &(dyn Fn() -> bool + Sync),
) -> Result<(Vec<Interval>, Stats), super::live::Unreachable> {
    use futures::StreamExt;
    use kube::runtime::watcher::{self, Event};
    use kube::runtime::WatchStreamExt;
    use kube::Api;

    let (client, url) = super::live::connect(opts).await?;
    eprintln!("vigil watch: watching pods and nodes on {url}");
    let config = watcher::Config::default();
    let mut pods = watcher::watcher(Api::<Pod>::all(client.clone()), config.clone())
        .default_backoff()
        .boxed();
    let mut nodes = watcher::watcher(Api::<Node>::all(client), config)
        .default_backoff()
        .boxed();
    let mut rec = Recorder::default();
    let started = std::time::Instant::now();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
    let mut broken: HashSet<&'static str> = HashSet::new();
    loop {
        tokio::select! {
            ev = pods.next() => match ev {
                Some(Ok(ev)) => {
                    broken.remove("Pod");
                    let now = Utc::now();
                    match ev {
                        Event::Init => rec.relist_started("Pod"),
                        Event::InitApply(p) => {
                            rec.listed("Pod", p.metadata.namespace.as_deref().unwrap_or(""), p.metadata.name.as_deref().unwrap_or(""));
                            rec.pod(&p, now)
                        }
                        Event::InitDone => rec.relist_done("Pod", now),
                        Event::Apply(p) => rec.pod(&p, now),
                        Event::Delete(p) => rec.pod_deleted(&p, now),
                    }
                }
                Some(Err(e)) => {
                    if broken.insert("Pod") {
                        eprintln!("vigil watch: the pod watch broke ({}); resuming", crate::redact::text(&e.to_string()));
                    }
                }
                None => break,
            },
            ev = nodes.next() => match ev {
                Some(Ok(ev)) => {
                    broken.remove("Node");
                    let now = Utc::now();
                    match ev {
                        Event::Init => rec.relist_started("Node"),
                        Event::InitApply(n) => {
                            rec.listed("Node", "", n.metadata.name.as_deref().unwrap_or(""));
                            rec.node(&n, now)
                        }
                        Event::InitDone => rec.relist_done("Node", now),
                        Event::Apply(n) => rec.node(&n, now),
                        Event::Delete(n) => rec.node_deleted(&n, now),
                    }
                }
                Some(Err(e)) => {
                    if broken.insert("Node") {
                        eprintln!("vigil watch: the node watch broke ({}); resuming", crate::redact::text(&e.to_string()));
                    }
                }
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
    let stats = rec.stats();
    Ok((rec.finish(Utc::now()), stats))
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
