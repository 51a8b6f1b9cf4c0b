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
    rule: "the same Warning event (object, reason, message) counted more than flake-above times flakes, \
           more than fail-above times fails",
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
    ],
    cluster_scoped: None,
    needs: &["Event"],
};

impl Check for Events {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let c = ctx.cluster;
        // Events about a pod are reported on its owner, like every pod finding.
        let pods: HashMap<(&str, &str), usize> = c
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| ((p.metadata.namespace.as_str(), p.metadata.name.as_str()), i))
            .collect();
        let flake_above = (ctx.thresholds)(INFO.id, "flake-above");
        let fail_above = (ctx.thresholds)(INFO.id, "fail-above");
        // (namespace, kind, name, reason, message) -> total count, in first-seen order.
        let mut totals: HashMap<(&str, &str, &str, &str, &str), i64> = HashMap::new();
        let mut order = Vec::new();
        for e in &ctx.cluster.events {
            if e.type_.as_deref() != Some("Warning") {
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
                0
            });
            // Counts come from the cluster: two near i64::MAX must not wrap
            // into a small (passing) total.
            *slot = slot.saturating_add(n);
        }
        for key in order {
            let count = totals[&key];
            let severity = if count > fail_above {
                Severity::Fail
            } else if count > flake_above {
                Severity::Flake
            } else {
                continue;
            };
            let (ns, kind, name, reason, message) = key;
            let detail = format!("Warning {reason} x{count}: {}", clip(message, 200));
            if let Some(&pi) = pods.get(&(ns, name)).filter(|_| kind == "Pod") {
                out.push(pod_finding(&INFO, c, pi, None, detail, severity));
                continue;
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
}
