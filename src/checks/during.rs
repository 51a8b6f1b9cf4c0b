//! What happened during the run: the intervals `vigil watch` recorded,
//! judged by the check each reason belongs to (a crash loop by
//! `health/crashloop`, a NotReady node by `health/nodes`...), so they land in
//! the same tests and meet the same exceptions as what the final state shows.
//!
//! A state that is still visible at the end is already a finding of the
//! check itself; only what the final state no longer shows is added here,
//! saying when it began and how long it lasted. Thresholds: each check's
//! `during-minutes` (`health/restarts` counts restarts during the run against
//! its own `flake-at` / `fail-above`, `health/events` counts warnings during
//! the run against its `flake-above` / `fail-above`; every OOM kill, every
//! moment an operator is unavailable and every Deployment past its progress
//! deadline counts).

use std::collections::{BTreeMap, HashSet};

use super::health::{pod_finding, PodOwners};
use super::{CheckInfo, Context, Finding, Severity};
use crate::model::intervals::{Interval, Reason};
use crate::model::objects::Str;
use crate::model::time::human;

/// Adds the findings of `info`'s check from the recorded intervals. `out`
/// holds the findings the check made on the final state.
pub fn judge(info: &CheckInfo, ctx: &Context, out: &mut Vec<Finding>) {
    let intervals = &ctx.cluster.intervals;
    // Disruption is its own check's whole subject: it judges it itself.
    if info.id == "disruption/backends" || !intervals.iter().any(|i| i.reason.check() == info.id) {
        return;
    }
    let owners = ctx.pod_owners();
    // What the final state already shows, by (namespace, pod or object name):
    // those states are the check's own findings.
    let shown: HashSet<(&str, &str)> = out
        .iter()
        .map(|f| (f.namespace.as_str(), f.pod.as_deref().unwrap_or(&f.name)))
        .collect();
    let mine = intervals.iter().filter(|i| {
        i.reason.check() == info.id && !shown.contains(&(i.namespace.as_str(), i.name.as_str()))
    });
    let mine: Vec<&Interval> = mine.collect();
    let added = match info.id {
        "health/restarts" => restarts(info, ctx, owners, &mine),
        "health/events" => warnings(info, ctx, owners, &mine),
        _ => states(info, ctx, owners, &mine),
    };
    out.extend(added);
}

/// Restarts during the run, counted per container against the restart
/// thresholds.
fn restarts(
    info: &CheckInfo,
    ctx: &Context,
    owners: &PodOwners,
    mine: &[&Interval],
) -> Vec<Finding> {
    let flake_at = (ctx.thresholds)(info.id, "flake-at");
    let fail_above = (ctx.thresholds)(info.id, "fail-above");
    let mut per: BTreeMap<(&str, &str, Option<&str>), Vec<&Interval>> = BTreeMap::new();
    for i in mine.iter().filter(|i| i.reason == Reason::ContainerRestart) {
        per.entry((&i.namespace, &i.name, i.container.as_deref()))
            .or_default()
            .push(i);
    }
    let mut added = Vec::new();
    for list in per.values() {
        let n = total(list);
        if n < flake_at {
            continue;
        }
        let severity = if n > fail_above {
            Severity::Fail
        } else {
            Severity::Flake
        };
        let (first, last) = (list[0], list[list.len() - 1]);
        let detail = format!(
            "restarted {n} times during the run, first at {}, last at {}",
            clock(first.start),
            clock(last.start)
        );
        added.push(finding(info, owners, first, detail, severity));
    }
    added
}

/// The instants `list` stands for.
fn total(list: &[&Interval]) -> i64 {
    list.iter()
        .map(|i| i.instants())
        .fold(0u64, u64::saturating_add)
        .min(i64::MAX as u64) as i64
}

/// Warning events during the run, counted per object and event reason
/// against the events check's own `flake-above` / `fail-above`: what was
/// repeated while the run went on, not over the event's lifetime.
fn warnings(
    info: &CheckInfo,
    ctx: &Context,
    owners: &PodOwners,
    mine: &[&Interval],
) -> Vec<Finding> {
    let flake_above = (ctx.thresholds)(info.id, "flake-above");
    let fail_above = (ctx.thresholds)(info.id, "fail-above");
    let mut per: BTreeMap<(&str, &str, &str, &str), Vec<&Interval>> = BTreeMap::new();
    for i in mine.iter().filter(|i| i.reason == Reason::WarningEvent) {
        let message = i.message.as_deref().unwrap_or("");
        let reason = message.split_once(':').map_or(message, |(r, _)| r);
        per.entry((&i.namespace, &i.kind, &i.name, reason))
            .or_default()
            .push(i);
    }
    let mut added = Vec::new();
    for list in per.values() {
        let n = total(list);
        if n <= flake_above {
            continue;
        }
        let severity = if n > fail_above {
            Severity::Fail
        } else {
            Severity::Flake
        };
        let first = list.iter().map(|i| i.start).min().expect("a warning");
        let last = list.iter().map(|i| i.end).max().expect("a warning");
        let minutes = ((last - first).num_seconds() as f64 / 60.0).max(1.0);
        let latest = list.iter().max_by_key(|i| i.end).expect("a warning");
        let mut detail = format!(
            "warned {n} times during the run ({:.1} per minute), {} to {}",
            n as f64 / minutes,
            clock(first),
            clock(last)
        );
        if let Some(m) = &latest.message {
            detail.push_str(&format!(": {}", crate::redact::text(m)));
        }
        added.push(finding(info, owners, latest, detail, severity));
    }
    added
}

/// States with a length: each counts from the check's `during-minutes` on,
/// except those that count at once.
fn states(info: &CheckInfo, ctx: &Context, owners: &PodOwners, mine: &[&Interval]) -> Vec<Finding> {
    let minutes = (ctx.thresholds)(info.id, "during-minutes");
    let mut added = Vec::new();
    for i in mine {
        let counts = match i.reason {
            // As origin's monitor judges an operator: any moment
            // unavailable counts; progressing is what updates do. A
            // Deployment that reports Progressing=False has already run
            // out its own progress deadline.
            Reason::OOMKilled | Reason::OperatorUnavailable | Reason::WorkloadNotProgressing => {
                true
            }
            Reason::ContainerRestart | Reason::OperatorProgressing | Reason::WarningEvent => false,
            _ => i.seconds() >= minutes * 60,
        };
        if counts {
            added.push(finding(info, owners, i, describe(i), Severity::Fail));
        }
    }
    added
}

fn clock(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%H:%M:%SZ").to_string()
}

fn describe(i: &Interval) -> String {
    let what = match i.reason {
        Reason::PodNotReady => "not ready",
        Reason::CrashLoopBackOff => "in CrashLoopBackOff",
        Reason::ImagePull => "failing to pull its image",
        Reason::OOMKilled => "OOM-killed",
        Reason::ContainerRestart => "restarted",
        Reason::NodeNotReady => "NotReady",
        Reason::NodePressure => "under pressure",
        Reason::NodeCordoned => "cordoned",
        Reason::OperatorUnavailable => "unavailable",
        Reason::OperatorDegraded | Reason::PoolDegraded => "degraded",
        Reason::OperatorProgressing => "progressing",
        Reason::WorkloadNotProgressing => "not progressing",
        Reason::WorkloadUnavailable => "short of available replicas",
        Reason::ServiceNoReadyEndpoints => "without a ready endpoint",
        Reason::WarningEvent => "warned",
        Reason::Disruption => "unavailable",
        Reason::DisruptionPolled => "polled",
        Reason::NotWatched => "not watched",
    };
    let mut s = if i.reason.is_instant() {
        format!("{what} during the run at {}", clock(i.start))
    } else {
        let how_long = human(chrono::Duration::seconds(i.seconds()));
        if i.ongoing {
            format!(
                "{what} during the run for {how_long}, from {} until the watch stopped",
                clock(i.start)
            )
        } else {
            format!(
                "{what} during the run for {how_long}, {} to {} (recovered)",
                clock(i.start),
                clock(i.end)
            )
        }
    };
    if let Some(m) = &i.message {
        s.push_str(&format!(": {}", crate::redact::text(m)));
    }
    s
}

/// A finding about the interval's object, named as the checks name it on
/// the final state: a pod that still exists through [`pod_finding`]; a gone
/// one through the owner it recorded (a ReplicaSet becomes its Deployment
/// when the state knows it), else through its name ([`PodOwners`]).
fn finding(
    info: &CheckInfo,
    owners: &PodOwners,
    i: &Interval,
    detail: String,
    severity: Severity,
) -> Finding {
    if i.kind != "Pod" {
        return Finding::object_level(info.id, &i.namespace, &i.kind, &i.name, detail, severity);
    }
    let container = i.container.as_deref();
    if let Some(pi) = owners.pod(&i.namespace, &i.name) {
        return pod_finding(info, owners.cluster(), pi, container, detail, severity);
    }
    let recorded = i.owner.as_deref().and_then(|o| o.split_once('/'));
    let workload = match recorded {
        Some(("ReplicaSet", rs)) => owners.of_replicaset(&i.namespace, rs),
        _ => None,
    }
    .or_else(|| owners.of_deleted_pod(&i.namespace, &i.name));
    let (kind, name) = match (workload, recorded) {
        (Some(wi), _) => {
            let w = &owners.cluster().workloads[wi];
            (Str::from(w.kind.as_str()), w.metadata.name.clone())
        }
        (None, Some((k, n))) => (k.into(), n.into()),
        (None, None) => ("Pod".into(), i.name.as_str().into()),
    };
    Finding {
        check: info.id,
        namespace: i.namespace.as_str().into(),
        kind,
        name,
        pod: Some(i.name.as_str().into()),
        container: i.container.as_deref().map(Str::from),
        detail,
        severity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use chrono::{DateTime, Utc};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn iv(reason: Reason, name: &str, start: &str, end: &str) -> Interval {
        Interval {
            kind: "Pod".into(),
            namespace: "shop".into(),
            name: name.into(),
            owner: Some("StatefulSet/cart".into()),
            container: Some("cart".into()),
            reason,
            start: t(start),
            end: t(end),
            ongoing: false,
            message: None,
            count: None,
            connection: None,
            component: None,
        }
    }

    #[test]
    fn an_operator_unavailable_for_a_moment_fails_degraded_briefly_does_not() {
        let mut c = cluster(
            "---\nkind: ClusterOperator\nmetadata: {name: dns}\nstatus: {conditions: [{type: Available, status: 'True'}]}\n",
        );
        let op = |reason, start, end| Interval {
            kind: "ClusterOperator".into(),
            namespace: String::new(),
            name: "dns".into(),
            owner: None,
            container: None,
            reason,
            start: t(start),
            end: t(end),
            ongoing: false,
            message: Some("DNSUnavailable: No DNS pods are available.".into()),
            count: None,
            connection: None,
            component: None,
        };
        c.intervals = vec![
            op(
                Reason::OperatorUnavailable,
                "2026-11-21T10:00:00Z",
                "2026-11-21T10:00:40Z",
            ),
            op(
                Reason::OperatorDegraded,
                "2026-11-21T10:10:00Z",
                "2026-11-21T10:12:00Z",
            ),
            op(
                Reason::OperatorProgressing,
                "2026-11-21T10:20:00Z",
                "2026-11-21T11:20:00Z",
            ),
        ];
        let f = run_check(
            &crate::checks::health::cluster_operators::ClusterOperators,
            &c,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].kind.as_str(), f[0].name.as_str()),
            ("ClusterOperator", "dns")
        );
        assert!(
            f[0].detail.starts_with("unavailable during the run for 40s, 10:00:00Z to 10:00:40Z (recovered): DNSUnavailable"),
            "{}",
            f[0].detail
        );
        // Degraded for ten minutes counts.
        c.intervals[1].end = t("2026-11-21T10:20:00Z");
        assert_eq!(
            run_check(
                &crate::checks::health::cluster_operators::ClusterOperators,
                &c
            )
            .len(),
            2
        );
    }

    #[test]
    fn a_crash_loop_that_recovered_still_fails_naming_when_and_how_long() {
        let mut c = cluster(
            "---\nkind: StatefulSet\nmetadata: {name: cart, namespace: shop, uid: s1}\nspec: {replicas: 2}\n\
             ---\nkind: Pod\nmetadata: {name: cart-0, namespace: shop, ownerReferences: [{kind: StatefulSet, name: cart, uid: s1, controller: true}]}\n\
             status: {phase: Running}\n",
        );
        c.intervals = vec![
            iv(
                Reason::CrashLoopBackOff,
                "cart-0",
                "2026-11-21T10:02:11Z",
                "2026-11-21T10:22:40Z",
            ),
            // cart-1 is gone by the end: named through its recorded owner.
            iv(
                Reason::CrashLoopBackOff,
                "cart-1",
                "2026-11-21T11:00:00Z",
                "2026-11-21T11:01:00Z",
            ),
        ];
        let mut f = run_check(&crate::checks::health::crashloop::CrashLoop, &c);
        assert_eq!(f.len(), 2, "{f:?}");
        let gone = f.pop().unwrap();
        assert_eq!(
            (gone.kind.as_str(), gone.name.as_str(), gone.pod.as_deref()),
            ("StatefulSet", "cart", Some("cart-1"))
        );
        assert_eq!(
            (f[0].kind.as_str(), f[0].name.as_str()),
            ("StatefulSet", "cart")
        );
        assert_eq!(f[0].pod.as_deref(), Some("cart-0"));
        assert!(
            f[0].detail.contains("10:02:11Z to 10:22:40Z (recovered)"),
            "{}",
            f[0].detail
        );
        assert!(f[0].detail.contains("20m"), "{}", f[0].detail);
    }

    #[test]
    fn short_unready_spells_pass_and_long_ones_fail() {
        let mut c = cluster(
            "kind: Pod\nmetadata: {name: web-1, namespace: shop}\nstatus: {phase: Running}\n",
        );
        c.intervals = vec![
            iv(
                Reason::PodNotReady,
                "web-1",
                "2026-11-21T10:00:00Z",
                "2026-11-21T10:03:00Z",
            ),
            iv(
                Reason::PodNotReady,
                "web-2",
                "2026-11-21T10:00:00Z",
                "2026-11-21T10:30:00Z",
            ),
        ];
        let f = run_check(&crate::checks::health::not_ready::NotReady, &c);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].pod.as_deref(), Some("web-2"));
    }

    #[test]
    fn restarts_during_the_run_use_the_restart_thresholds() {
        let mut c = cluster(
            "kind: Pod\nmetadata: {name: web-1, namespace: shop}\nstatus: {phase: Running}\n",
        );
        c.intervals = (0..3)
            .map(|k| {
                let s = format!("2026-11-21T10:0{k}:00Z");
                iv(Reason::ContainerRestart, "web-1", &s, &s)
            })
            .collect();
        let f = run_check(&crate::checks::health::restarts::Restarts, &c);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Flake);
        assert!(f[0].detail.contains("restarted 3 times during the run"));
    }

    #[test]
    fn a_node_that_flapped_fails_the_nodes_test() {
        let mut c = cluster("kind: Node\nmetadata: {name: worker-1}\nstatus: {conditions: [{type: Ready, status: 'True'}]}\n");
        let mut i = iv(
            Reason::NodeNotReady,
            "worker-1",
            "2026-11-21T10:00:00Z",
            "2026-11-21T10:10:00Z",
        );
        i.kind = "Node".into();
        i.namespace = String::new();
        i.owner = None;
        i.container = None;
        c.intervals = vec![i];
        let f = run_check(&crate::checks::health::nodes::Nodes, &c);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].kind.as_str(), f[0].name.as_str()),
            ("Node", "worker-1")
        );
        assert!(
            f[0].detail.starts_with("NotReady during the run for 10m"),
            "{}",
            f[0].detail
        );
    }

    #[test]
    fn workloads_services_and_warnings_during_the_run_are_judged() {
        let mut c = cluster(
            "---\nkind: Deployment\nmetadata: {name: web, namespace: shop, uid: d1}\nspec: {replicas: 2}\n\
             status: {replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2}\n\
             ---\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}}\n\
             ---\nkind: Pod\nmetadata: {name: web-1, namespace: shop}\nstatus: {phase: Running}\n",
        );
        let obj = |kind: &str, reason, start: &str, end: &str| Interval {
            kind: kind.into(),
            owner: None,
            container: None,
            ..iv(reason, "web", start, end)
        };
        c.intervals = vec![
            // Short of replicas for 4 minutes: a rollout, not a finding.
            obj(
                "Deployment",
                Reason::WorkloadUnavailable,
                "2026-11-21T10:00:00Z",
                "2026-11-21T10:04:00Z",
            ),
            // Past its progress deadline: counts at once.
            obj(
                "Deployment",
                Reason::WorkloadNotProgressing,
                "2026-11-21T10:10:00Z",
                "2026-11-21T10:11:00Z",
            ),
            obj(
                "Service",
                Reason::ServiceNoReadyEndpoints,
                "2026-11-21T10:00:00Z",
                "2026-11-21T10:06:00Z",
            ),
        ];
        let f = run_check(&crate::checks::health::rollout::Rollout, &c);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].detail
                .starts_with("not progressing during the run for 1m"),
            "{}",
            f[0].detail
        );
        let f = run_check(&crate::checks::health::endpoints::Endpoints, &c);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].kind.as_str(), f[0].name.as_str()), ("Service", "web"));

        // Warnings: 10 repetitions pass, 11 flake, 21 fail (the check's
        // own flake-above 10 / fail-above 20), counted across records.
        let warned = |n: u64| {
            let mut w = iv(
                Reason::WarningEvent,
                "web-1",
                "2026-11-21T10:00:00Z",
                "2026-11-21T10:10:00Z",
            );
            w.owner = None;
            w.container = None;
            w.count = Some(n);
            w.message = Some("BackOff: Back-off restarting failed container".into());
            w
        };
        let mut events = |records: Vec<Interval>| {
            c.intervals = records;
            run_check(&crate::checks::health::events::Events, &c)
        };
        assert!(events(vec![warned(10)]).is_empty());
        let f = events(vec![warned(5), warned(6)]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Flake);
        assert_eq!((f[0].kind.as_str(), f[0].name.as_str()), ("Pod", "web-1"));
        assert!(
            f[0].detail.starts_with(
                "warned 11 times during the run (1.1 per minute), 10:00:00Z to 10:10:00Z: BackOff"
            ),
            "{}",
            f[0].detail
        );
        assert_eq!(events(vec![warned(21)])[0].severity, Severity::Fail);
    }
}
