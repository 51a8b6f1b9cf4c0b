//! The watch beyond pods and nodes: Deployments and StatefulSets that stop
//! progressing or lack available replicas, Services whose endpoints are all
//! unready, and Warning events counted while the run goes on.
//!
//! Each is decoded into a lean shape (only the fields judged) and kept only
//! while it is unwell, except two small tables: per Service, which of its
//! EndpointSlices have ready endpoints (a Service is judged on all its
//! slices at once), and per Warning event, the count last seen (so an event
//! repeated during the run counts its repetitions, not its lifetime).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{ObjKey, Recorder, ReportedCondition, States};
use crate::model::intervals::{Interval, Reason};

/// The metadata the watch reads of these kinds.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct Meta {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub resource_version: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// A Deployment or StatefulSet.
#[derive(Deserialize)]
pub(super) struct Rollout {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    spec: RolloutSpec,
    #[serde(default)]
    status: RolloutStatus,
}

#[derive(Deserialize, Default)]
struct RolloutSpec {
    #[serde(default)]
    replicas: Option<i32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RolloutStatus {
    #[serde(default)]
    available_replicas: Option<i32>,
    #[serde(default)]
    ready_replicas: Option<i32>,
    #[serde(default)]
    conditions: Vec<ReportedCondition>,
}

/// An EndpointSlice: whether it has endpoints, and whether any is ready.
#[derive(Deserialize)]
pub(super) struct Slice {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    endpoints: Option<Vec<SliceEndpoint>>,
}

#[derive(Deserialize)]
struct SliceEndpoint {
    #[serde(default)]
    conditions: SliceConditions,
}

#[derive(Deserialize, Default)]
struct SliceConditions {
    /// Absent means unknown, which consumers treat as ready.
    #[serde(default)]
    ready: Option<bool>,
}

/// A core/v1 Event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Event {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    involved_object: Involved,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    count: Option<i32>,
    #[serde(default)]
    series: Option<Series>,
}

#[derive(Deserialize, Default)]
struct Involved {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Series {
    #[serde(default)]
    count: Option<i32>,
}

impl Event {
    /// How many times the event has happened, as it says.
    fn times(&self) -> i64 {
        let own = self.count.unwrap_or(0);
        let series = self.series.as_ref().and_then(|s| s.count).unwrap_or(0);
        i64::from(own.max(series).max(1))
    }
}

/// The label that names an EndpointSlice's Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Warning events seen during the run, per object and event reason.
#[derive(Debug)]
pub(super) struct Warned {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    times: u64,
    owner: Option<String>,
    message: String,
}

/// The tables the watch keeps for these kinds.
#[derive(Debug, Default)]
pub(super) struct More {
    /// Per Service (namespace, name): its slices that have endpoints, and
    /// whether each has a ready one.
    services: HashMap<(String, String), HashMap<String, bool>>,
    /// Per Warning event (namespace, name): the count last seen.
    event_counts: HashMap<(String, String), i64>,
    /// Warnings during the run: (namespace, kind, name, reason).
    warned: BTreeMap<(String, String, String, String), Warned>,
}

impl Recorder {
    /// A Deployment or StatefulSet: not progressing, or fewer available
    /// replicas than it wants.
    pub(super) fn rollout(&mut self, kind: &'static str, w: &Rollout, now: DateTime<Utc>) {
        let key: ObjKey = (kind, w.metadata.namespace.clone(), w.metadata.name.clone());
        let mut states = States::new();
        let want = w.spec.replicas.unwrap_or(1);
        let available = match kind {
            "StatefulSet" => w.status.available_replicas.or(w.status.ready_replicas),
            _ => w.status.available_replicas,
        }
        .unwrap_or(0);
        if available < want {
            states.insert(
                (Reason::WorkloadUnavailable, None),
                Some(format!("{available} of {want} replicas available")),
            );
        }
        for c in &w.status.conditions {
            if c.type_ == "Progressing" && c.status == "False" {
                states.insert((Reason::WorkloadNotProgressing, None), c.said());
            }
        }
        self.objects.entry(key.clone()).or_default();
        self.apply(key, states, now);
    }

    /// An EndpointSlice changed (`gone`: it was deleted): its Service is
    /// judged on all its slices.
    pub(super) fn slice(&mut self, s: &Slice, gone: bool, now: DateTime<Utc>) {
        let Some(service) = s.metadata.labels.get(SERVICE_NAME_LABEL) else {
            return;
        };
        let endpoints = s.endpoints.as_deref().unwrap_or_default();
        let ready = endpoints.iter().any(|e| e.conditions.ready != Some(false));
        let svc = (s.metadata.namespace.clone(), service.clone());
        let slices = self.more.services.entry(svc.clone()).or_default();
        if gone || endpoints.is_empty() {
            slices.remove(&s.metadata.name);
        } else {
            slices.insert(s.metadata.name.clone(), ready);
        }
        self.judge_service(svc, now);
    }

    fn judge_service(&mut self, svc: (String, String), now: DateTime<Utc>) {
        let slices = self.more.services.get(&svc);
        let mut states = States::new();
        if let Some(slices) = slices.filter(|s| !s.is_empty() && !s.values().any(|r| *r)) {
            let n = slices.len();
            states.insert(
                (Reason::ServiceNoReadyEndpoints, None),
                Some(format!(
                    "no ready endpoint in its {n} EndpointSlice{}",
                    if n == 1 { "" } else { "s" }
                )),
            );
        }
        if slices.is_some_and(|s| s.is_empty()) {
            self.more.services.remove(&svc);
        }
        let key: ObjKey = ("Service", svc.0, svc.1);
        self.objects.entry(key.clone()).or_default();
        self.apply(key, states, now);
    }

    /// A Warning event: what it added since last seen counts. The first
    /// list is the baseline (what happened before the run is not the
    /// run's); an event first seen later counts whole.
    pub(super) fn event(&mut self, e: &Event, now: DateTime<Utc>) {
        if e.type_.as_deref() != Some("Warning") {
            return;
        }
        let times = e.times();
        let id = (e.metadata.namespace.clone(), e.metadata.name.clone());
        let before = match self.more.event_counts.insert(id, times) {
            Some(n) => n,
            None if !self.listed_once.contains("Event") => times,
            None => 0,
        };
        let added = times - before;
        if added <= 0 {
            return;
        }
        let o = &e.involved_object;
        let ns = o
            .namespace
            .clone()
            .unwrap_or_else(|| e.metadata.namespace.clone());
        let reason = e.reason.clone().unwrap_or_default();
        let message = match (&e.reason, &e.message) {
            (Some(r), Some(m)) if !m.is_empty() => format!("{r}: {m}"),
            (Some(r), _) => r.clone(),
            (None, m) => m.clone().unwrap_or_default(),
        };
        let owner = (o.kind == "Pod")
            .then(|| {
                let pod: ObjKey = ("Pod", ns.clone(), o.name.clone());
                self.objects.get(&pod).and_then(|t| t.owner.clone())
            })
            .flatten();
        let w = self
            .more
            .warned
            .entry((ns, o.kind.clone(), o.name.clone(), reason))
            .or_insert(Warned {
                first: now,
                last: now,
                times: 0,
                owner: None,
                message: String::new(),
            });
        w.last = now;
        w.times = w.times.saturating_add(added as u64);
        w.message = crate::term::one_line(&message).chars().take(1024).collect();
        if owner.is_some() {
            w.owner = owner;
        }
    }

    pub(super) fn event_deleted(&mut self, e: &Event) {
        self.more
            .event_counts
            .remove(&(e.metadata.namespace.clone(), e.metadata.name.clone()));
    }

    /// After a complete list of `kind`: what the tables hold and the list
    /// did not is gone.
    pub(super) fn prune(&mut self, kind: &str, seen: &HashSet<ObjKey>, now: DateTime<Utc>) {
        let listed = |ns: &str, name: &str| seen.contains(&(kind_of(kind), ns.into(), name.into()));
        match kind {
            "Event" => self
                .more
                .event_counts
                .retain(|(ns, name), _| listed(ns, name)),
            "EndpointSlice" => {
                let mut touched = Vec::new();
                for (svc, slices) in &mut self.more.services {
                    let before = slices.len();
                    slices.retain(|slice, _| listed(&svc.0, slice));
                    if slices.len() != before {
                        touched.push(svc.clone());
                    }
                }
                for svc in touched {
                    self.judge_service(svc, now);
                }
            }
            _ => {}
        }
    }

    /// The warnings counted during the run, one record per object and
    /// event reason, from the first to the last time seen.
    pub(super) fn warnings(&mut self) -> Vec<Interval> {
        std::mem::take(&mut self.more.warned)
            .into_iter()
            .map(|((namespace, kind, name, _), w)| Interval {
                kind,
                namespace,
                name,
                owner: w.owner,
                container: None,
                reason: Reason::WarningEvent,
                start: w.first,
                end: w.last,
                ongoing: false,
                message: Some(w.message).filter(|m| !m.is_empty()),
                count: Some(w.times),
                connection: None,
                component: None,
            })
            .collect()
    }
}

/// The `&'static str` a kind's keys hold.
fn kind_of(kind: &str) -> &'static str {
    match kind {
        "Event" => "Event",
        "EndpointSlice" => "EndpointSlice",
        _ => "",
    }
}

impl ReportedCondition {
    /// "Reason: message", or what of it there is.
    pub(super) fn said(&self) -> Option<String> {
        match (&self.reason, &self.message) {
            (Some(r), Some(m)) if !m.is_empty() => Some(format!("{r}: {m}")),
            (Some(r), _) => Some(r.clone()),
            (None, m) => m.clone().filter(|m| !m.is_empty()),
        }
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

    fn deployment(available: i32, progressing: &str) -> Rollout {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "3"},
            "spec": {"replicas": 3},
            "status": {"availableReplicas": available, "conditions": [
                {"type": "Progressing", "status": progressing, "reason": "ProgressDeadlineExceeded",
                 "message": "ReplicaSet \"web-7d9\" has timed out progressing."}]}
        }))
        .unwrap()
    }

    fn slice(name: &str, ready: &[bool]) -> Slice {
        let endpoints: Vec<_> = ready
            .iter()
            .map(|r| serde_json::json!({"addresses": ["10.0.0.1"], "conditions": {"ready": r}}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "shop",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "endpoints": endpoints
        }))
        .unwrap()
    }

    fn warning(name: &str, count: i32) -> Event {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "shop"},
            "type": "Warning",
            "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-1"},
            "reason": "BackOff", "message": "Back-off restarting failed container",
            "count": count
        }))
        .unwrap()
    }

    #[test]
    fn a_stuck_deployment_gives_unavailable_and_not_progressing_intervals() {
        let mut r = Recorder::default();
        r.rollout("Deployment", &deployment(3, "True"), t(0));
        r.rollout("Deployment", &deployment(1, "True"), t(2));
        r.rollout("Deployment", &deployment(1, "False"), t(12));
        r.rollout("Deployment", &deployment(3, "True"), t(15));
        // Healthy again: nothing is kept of it.
        assert!(r.objects.is_empty());
        let iv = r.finish(t(20));
        let got: Vec<_> = iv
            .iter()
            .map(|i| (i.reason, i.start, i.end, i.message.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    Reason::WorkloadUnavailable,
                    t(2),
                    t(15),
                    Some("1 of 3 replicas available")
                ),
                (
                    Reason::WorkloadNotProgressing,
                    t(12),
                    t(15),
                    Some("ProgressDeadlineExceeded: ReplicaSet \"web-7d9\" has timed out progressing.")
                ),
            ]
        );
    }

    #[test]
    fn a_service_is_judged_on_all_its_slices() {
        let mut r = Recorder::default();
        r.slice(&slice("web-a", &[true]), false, t(0));
        r.slice(&slice("web-b", &[false]), false, t(1));
        assert_eq!(r.open_count(), 0, "one slice still has a ready endpoint");
        r.slice(&slice("web-a", &[false, false]), false, t(2));
        assert_eq!(r.open_count(), 1);
        // A slice with no endpoints at all says nothing either way.
        r.slice(&slice("web-c", &[]), false, t(3));
        assert_eq!(r.open_count(), 1);
        r.slice(&slice("web-a", &[true]), true, t(4));
        assert_eq!(r.open_count(), 1, "deleted: web-b alone, unready");
        // A re-list that no longer holds web-b ends the state.
        r.relist_started("EndpointSlice");
        r.relist_done("EndpointSlice", t(6));
        assert_eq!(r.open_count(), 0);
        assert!(r.more.services.is_empty());
        let iv = r.finish(t(9));
        assert_eq!(iv.len(), 1, "{iv:?}");
        assert_eq!(
            (iv[0].kind.as_str(), iv[0].name.as_str(), iv[0].reason),
            ("Service", "web", Reason::ServiceNoReadyEndpoints)
        );
        assert_eq!((iv[0].start, iv[0].end), (t(2), t(6)));
    }

    #[test]
    fn warnings_count_what_happened_during_the_run_not_before() {
        let mut r = Recorder::default();
        // The first list: a storm of 500 before the run is the baseline.
        r.relist_started("Event");
        r.listed("Event", "shop", "web-1.a");
        r.event(&warning("web-1.a", 500), t(0));
        r.relist_done("Event", t(0));
        r.event(&warning("web-1.a", 503), t(1));
        r.event(&warning("web-1.a", 503), t(2));
        // A new event during the run counts whole.
        r.event(&warning("web-1.b", 4), t(5));
        // Normal events are not counted.
        let mut normal = warning("web-1.c", 9);
        normal.type_ = Some("Normal".into());
        r.event(&normal, t(6));
        let iv = r.finish(t(10));
        assert_eq!(iv.len(), 1, "{iv:?}");
        let i = &iv[0];
        assert_eq!(
            (i.kind.as_str(), i.name.as_str(), i.reason, i.count),
            ("Pod", "web-1", Reason::WarningEvent, Some(7))
        );
        assert_eq!((i.start, i.end), (t(1), t(5)));
        assert_eq!(
            i.message.as_deref(),
            Some("BackOff: Back-off restarting failed container")
        );
    }

    #[test]
    fn an_event_relisted_after_a_gap_counts_only_what_it_added() {
        let mut r = Recorder::default();
        r.relist_started("Event");
        r.relist_done("Event", t(0));
        r.event(&warning("web-1.a", 2), t(1));
        // A 410 sends the watch to a list again: the known count is kept.
        r.relist_started("Event");
        r.listed("Event", "shop", "web-1.a");
        r.event(&warning("web-1.a", 5), t(4));
        r.relist_done("Event", t(4));
        assert_eq!(r.finish(t(5))[0].count, Some(5));
    }
}
