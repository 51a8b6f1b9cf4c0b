//! `health/events`: the same Warning event repeated over and over.

use std::collections::HashMap;

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor, Threshold};

pub struct Events;

static INFO: CheckInfo = CheckInfo {
    id: "health/events",
    monitor: Monitor::InfraHealth,
    subject: "events",
    should: "not repeat warnings",
    rule: "the same Warning event (object, reason, message), last seen within window-minutes before now, \
           counted more than flake-above times flakes, more than fail-above times fails; events about a pod \
           (even one since deleted) are reported on its workload",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Node", "Service"],
    thresholds: &[
        Threshold {
            name: "flake-above",
            default: 10,
            help: "repetitions above which a warning flakes",
        },
        Threshold {
            name: "fail-above",
            default: 20,
            help: "repetitions above which a warning fails",
        },
        Threshold {
            name: "window-minutes",
            default: 60,
            help: "only warnings last seen this recently count (install-time storms of hours ago do not)",
        },
    ],
    cluster_scoped: None,
    per_object: None,
    needs: &["Event"],
};

impl Check for Events {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let c = ctx.cluster;
        // Events about a pod are reported on its owner, like every pod finding.
        let owners = ctx.pod_owners();
        let flake_above = (ctx.thresholds)(INFO.id, "flake-above");
        let fail_above = (ctx.thresholds)(INFO.id, "fail-above");
        let window = chrono::Duration::minutes((ctx.thresholds)(INFO.id, "window-minutes"));
        // (namespace, kind, name, reason, message) -> (total count, last seen), in first-seen order.
        type Key<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);
        let mut totals: HashMap<Key, (i64, Option<chrono::DateTime<chrono::Utc>>)> = HashMap::new();
        let mut order = Vec::new();
        for e in &ctx.cluster.events {
            if e.type_.as_deref() != Some("Warning") {
                continue;
            }
            let last_seen = [
                e.series
                    .as_ref()
                    .and_then(|s| s.last_observed_time.as_deref()),
                e.last_timestamp.as_deref(),
                e.event_time.as_deref(),
                e.first_timestamp.as_deref(),
                e.metadata.creation_timestamp.as_deref(),
            ]
            .into_iter()
            .flatten()
            .filter_map(crate::model::time::parse)
            .max();
            // Old news: a storm that ended long before now is not a finding.
            if last_seen.is_some_and(|t| ctx.now - t > window) {
                continue;
            }
            let key = (
                e.metadata.namespace.as_str(),
                e.involved_object.kind.as_str(),
                e.involved_object.name.as_str(),
                e.reason.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or(""),
            );
            let n = e
                .series
                .as_ref()
                .and_then(|s| s.count)
                .or(e.count)
                .unwrap_or(1)
                .max(1);
            let slot = totals.entry(key).or_insert_with(|| {
                order.push(key);
                (0, None)
            });
            // Counts come from the cluster: two near i64::MAX must not wrap
            // into a small (passing) total.
            slot.0 = slot.0.saturating_add(n);
            slot.1 = slot.1.max(last_seen);
        }
        for key in order {
            let (count, last_seen) = totals[&key];
            let severity = if count > fail_above {
                Severity::Fail
            } else if count > flake_above {
                Severity::Flake
            } else {
                continue;
            };
            let (ns, kind, name, reason, message) = key;
            let seen = last_seen
                .map(|t| format!(", last seen {} ago", crate::model::time::human(ctx.now - t)))
                .unwrap_or_default();
            let detail = format!("Warning {reason} x{count}{seen}: {}", clip(message, 200));
            if kind == "Pod" {
                if let Some(pi) = owners.pod(ns, name) {
                    out.push(pod_finding(&INFO, c, pi, None, detail, severity));
                    continue;
                }
                // The pod is gone (replaced by a rollout): its name still
                // says whose it was, and exceptions are written for that.
                if let Some(wi) = owners.of_deleted_pod(ns, name) {
                    let mut f =
                        crate::checks::workload_finding(&INFO, &c.workloads[wi], None, detail);
                    f.pod = Some(name.into());
                    f.severity = severity;
                    out.push(f);
                    continue;
                }
            }
            let kind = if kind.is_empty() { "Object" } else { kind };
            out.push(Finding::object_level(
                INFO.id, ns, kind, name, detail, severity,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    fn event(name: &str, obj: &str, reason: &str, count: i64, type_: &str) -> String {
        format!(
            "---\nkind: Event\nmetadata: {{name: {name}, namespace: ns}}\ninvolvedObject: {{kind: Pod, name: {obj}, namespace: ns}}\nreason: {reason}\nmessage: Back-off restarting failed container\ntype: {type_}\ncount: {count}\n"
        )
    }

    #[test]
    fn storms_flake_then_fail_and_duplicates_add_up() {
        let yaml = [
            event("a", "broker-0", "BackOff", 15, "Warning"),
            event("b", "broker-0", "BackOff", 9, "Warning"),
            event("c", "web-0", "BackOff", 11, "Warning"),
            event("d", "web-1", "BackOff", 10, "Warning"),
            event("e", "web-2", "Pulled", 500, "Normal"),
        ]
        .concat();
        let found = run(&Events, &yaml);
        assert_eq!(
            lines(&found),
            [
                "Pod/broker-0: Warning BackOff x24: Back-off restarting failed container",
                "Pod/web-0: Warning BackOff x11: Back-off restarting failed container",
            ]
        );
        assert_eq!(found[0].severity, Severity::Fail);
        assert_eq!(found[1].severity, Severity::Flake);
    }

    #[test]
    fn pod_events_name_the_owner() {
        let yaml = [
            event("a", "broker-0", "BackOff", 30, "Warning"),
            "---\nkind: StatefulSet\nmetadata: {name: broker, namespace: ns}\nspec: {replicas: 1}\n---\nkind: Pod\nmetadata: {name: broker-0, namespace: ns, ownerReferences: [{kind: StatefulSet, name: broker, controller: true}]}\n".to_owned(),
        ]
        .concat();
        assert_eq!(
            lines(&run(&Events, &yaml)),
            ["StatefulSet/broker pod broker-0: Warning BackOff x30: Back-off restarting failed container"]
        );
    }

    #[test]
    fn huge_counts_saturate_instead_of_wrapping() {
        let max = i64::MAX;
        let yaml = format!(
            "{}{}",
            event("a", "p", "BackOff", max, "Warning"),
            event("b", "p", "BackOff", max, "Warning")
        );
        let f = run(&Events, &yaml);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Fail);
        assert!(f[0].detail.contains(&format!("x{max}")), "{}", f[0].detail);
    }

    #[test]
    fn series_count_wins() {
        let yaml = "kind: Event\nmetadata: {name: s, namespace: ns}\nregarding: {kind: Node, name: n1}\nreason: Rebooted\nnote: node rebooted\ntype: Warning\ndeprecatedCount: 1\nseries: {count: 30}\n";
        assert_eq!(
            lines(&run(&Events, yaml)),
            ["Node/n1: Warning Rebooted x30: node rebooted"]
        );
    }

    #[test]
    fn only_warnings_seen_within_the_window_count() {
        // NOW is 2026-11-21T12:00:00Z; the window is 60 minutes.
        let at = |name: &str, last: &str| {
            event(name, name, "BackOff", 30, "Warning").replace(
                "count: 30\n",
                &format!("count: 30\nlastTimestamp: '{last}'\n"),
            )
        };
        let yaml = [
            at("old", "2026-11-21T08:00:00Z"),
            at("recent", "2026-11-21T11:48:00Z"),
        ]
        .concat();
        assert_eq!(
            lines(&run(&Events, &yaml)),
            ["Pod/recent: Warning BackOff x30, last seen 12m ago: Back-off restarting failed container"]
        );
    }

    #[test]
    fn events_about_deleted_pods_name_their_workload() {
        let workloads = "---\nkind: Deployment\nmetadata: {name: web, namespace: ns}\nspec: {replicas: 2}\n---\nkind: StatefulSet\nmetadata: {name: db, namespace: ns}\nspec: {replicas: 3}\n---\nkind: DaemonSet\nmetadata: {name: agent, namespace: ns}\n";
        let yaml = [
            workloads.to_owned(),
            event("a", "web-7d9f8b7c5-x2k9p", "BackOff", 30, "Warning"),
            event("b", "db-2", "BackOff", 30, "Warning"),
            event("c", "agent-q7z4m", "BackOff", 30, "Warning"),
            event("d", "stranger-abc12", "BackOff", 30, "Warning"),
        ]
        .concat();
        assert_eq!(
            lines(&run(&Events, &yaml)),
            [
                "Deployment/web pod web-7d9f8b7c5-x2k9p: Warning BackOff x30: Back-off restarting failed container",
                "StatefulSet/db pod db-2: Warning BackOff x30: Back-off restarting failed container",
                "DaemonSet/agent pod agent-q7z4m: Warning BackOff x30: Back-off restarting failed container",
                "Pod/stranger-abc12: Warning BackOff x30: Back-off restarting failed container",
            ]
        );
    }
}
