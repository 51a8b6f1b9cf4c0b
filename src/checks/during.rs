//! What happened during the run: the intervals `vigil watch` recorded,
//! judged by the check each reason belongs to (a crash loop by
//! `health/crashloop`, a NotReady node by `health/nodes`...), so they land in
//! the same tests and meet the same exceptions as what the final state shows.
//!
//! A state that is still visible at the end is already a finding of the
//! check itself; only what the final state no longer shows is added here,
//! saying when it began and how long it lasted. Thresholds: each check's
//! `during-minutes` (`health/restarts` counts restarts during the run against
//! its own `flake-at` / `fail-above`; every OOM kill counts).

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
    if !intervals.iter().any(|i| i.reason.check() == info.id) {
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
    let mut added = Vec::new();
    if info.id == "health/restarts" {
        let flake_at = (ctx.thresholds)(info.id, "flake-at");
        let fail_above = (ctx.thresholds)(info.id, "fail-above");
        let mut per: BTreeMap<(&str, &str, Option<&str>), Vec<&Interval>> = BTreeMap::new();
        for i in mine.filter(|i| i.reason == Reason::ContainerRestart) {
            per.entry((&i.namespace, &i.name, i.container.as_deref()))
                .or_default()
                .push(i);
        }
        for list in per.values() {
            let n = list
                .iter()
                .map(|i| i.instants())
                .sum::<u64>()
                .min(i64::MAX as u64) as i64;
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
    } else {
        let minutes = (ctx.thresholds)(info.id, "during-minutes");
        for i in mine {
            // Every OOM kill counts; states count from `during-minutes` on.
            let counts = match i.reason {
                // As origin's monitor judges an operator: any moment
                // unavailable counts; progressing is what updates do.
                Reason::OOMKilled | Reason::OperatorUnavailable => true,
                Reason::ContainerRestart | Reason::OperatorProgressing => false,
                _ => i.seconds() >= minutes * 60,
            };
            if counts {
                added.push(finding(info, owners, i, describe(i), Severity::Fail));
            }
        }
    }
    out.extend(added);
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
}
