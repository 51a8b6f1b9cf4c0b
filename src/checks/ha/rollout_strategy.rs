//! `ha/rollout-strategy`: workloads roll out without downtime, and a spec
//! change actually reaches the pods.

use crate::checks::ha::anti_affinity::HOSTNAME;
use crate::checks::*;
use crate::model::objects::{IntOrPercentExt, Workload, WorkloadKind};
use crate::model::selector::optional_matches;
use crate::model::serde_util::IntOrPercent;

pub struct RolloutStrategy;

static INFO: CheckInfo = CheckInfo {
    id: "ha/rollout-strategy",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "use a rolling update strategy",
    rule: "Deployments with replicas >= 2 do not use Recreate; StatefulSets and DaemonSets do not use OnDelete \
           (a spec change would never roll out; extensions/v1beta1 DaemonSets and apps/v1beta1 StatefulSets default to it); \
           a rolling update's maxUnavailable does not cover every replica, or every node a DaemonSet runs on \
           (100% is Recreate by another name); a rolling update can start: a Deployment whose maxUnavailable \
           rounds down to 0 surges, and under required anti-affinity on kubernetes.io/hostname the surge pod \
           needs a node none of its replicas is on. Under the openshift profile, as origin's \
           \"[sig-arch] Managed cluster should only include cluster daemonsets that have maxUnavailable or maxSurge \
           update of 10 percent or maxUnavailable of 33 percent\" checks it: DaemonSets in openshift-* namespaces \
           that are not pinned to the control plane set maxUnavailable 10% or 33%, or maxSurge 10%",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: WORKLOAD_KINDS,
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Deployment", "StatefulSet", "DaemonSet", "HorizontalPodAutoscaler"],
};

impl Check for RolloutStrategy {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (wi, w) in ctx.workloads(ALL_WORKLOADS) {
            let ty = w.strategy_type();
            let detail = match w.kind {
                WorkloadKind::Deployment => {
                    let replicas = ctx.desired_replicas(wi).unwrap_or(1);
                    (ty == "Recreate" && replicas >= 2).then(|| {
                        format!("strategy.type=Recreate with {replicas} replicas takes every replica down at once, want RollingUpdate")
                    })
                }
                WorkloadKind::StatefulSet | WorkloadKind::DaemonSet if ty == "OnDelete" => Some(
                    "updateStrategy.type=OnDelete: a spec change never reaches running pods, want RollingUpdate".to_owned(),
                ),
                WorkloadKind::DaemonSet if ctx.profile == Profile::Openshift => daemonset_pace(w),
                _ => None,
            };
            let detail = detail
                .or_else(|| all_at_once(ctx, wi, w))
                .or_else(|| surge_without_room(ctx, wi, w));
            if let Some(detail) = detail {
                out.push(workload_finding(&INFO, w, None, detail));
            }
        }
    }
}

/// A rolling update whose maxUnavailable covers every replica (or every
/// node of a DaemonSet) takes them all down at once, as Recreate would.
fn all_at_once(ctx: &Context, wi: usize, w: &Workload) -> Option<String> {
    if w.strategy_type() != "RollingUpdate" {
        return None;
    }
    let mu = w
        .strategy()?
        .rolling_update
        .as_ref()?
        .max_unavailable
        .as_ref()?;
    let (everything, of) = match w.kind {
        // The DaemonSet controller rounds a percentage up.
        WorkloadKind::DaemonSet => match w.status.desired_number_scheduled.filter(|n| *n >= 2) {
            Some(nodes) => (
                mu.scaled(nodes, true).is_some_and(|n| n >= nodes),
                format!("all {nodes} nodes it runs on"),
            ),
            None => (
                mu.percent().is_some_and(|p| p >= 100),
                "every node it runs on".to_owned(),
            ),
        },
        _ => {
            let replicas = ctx.desired_replicas(wi).unwrap_or(1);
            (
                replicas >= 2 && mu.scaled(replicas, false).is_some_and(|n| n >= replicas),
                format!("all {replicas} replicas"),
            )
        }
    };
    everything.then(|| {
        format!("rollingUpdate.maxUnavailable={mu} takes {of} down at once, like Recreate; want 25% or less")
    })
}

/// A Deployment rollout that cannot start: maxUnavailable rounds down to 0,
/// so the controller must add a pod before it removes one, and required
/// anti-affinity on the hostname forbids that pod every node where a
/// replica runs. With no other node it may use, the new pod stays Pending
/// and the rollout never progresses. Judged only when the input holds the
/// nodes.
fn surge_without_room(ctx: &Context, wi: usize, w: &Workload) -> Option<String> {
    if w.kind != WorkloadKind::Deployment || w.strategy_type() != "RollingUpdate" {
        return None;
    }
    let replicas = ctx.desired_replicas(wi)?;
    let spec = &w.spec.template.spec;
    let nodes = &ctx.cluster.nodes;
    if replicas < 1 || nodes.is_empty() || !required_hostname_anti_affinity(ctx, w) {
        return None;
    }
    let ru = w.strategy()?.rolling_update.as_ref();
    // The API server's defaults: 25% each. maxUnavailable rounds down,
    // maxSurge up.
    let default = IntOrPercent::Str("25%".into());
    let mu = ru
        .and_then(|r| r.max_unavailable.as_ref())
        .unwrap_or(&default);
    let surge = ru.and_then(|r| r.max_surge.as_ref()).unwrap_or(&default);
    if mu.scaled(replicas, false) != Some(0) || surge.scaled(replicas, true).unwrap_or(0) == 0 {
        return None;
    }
    let fitting = nodes.iter().filter(|n| spec.fits_node(n)).count() as i64;
    (fitting <= replicas).then(|| {
        format!(
            "a rollout cannot start: maxUnavailable={mu} rounds down to 0 of {replicas} replicas, so it must first add a pod (maxSurge={surge}), \
             and required anti-affinity on {HOSTNAME} leaves that pod no node ({fitting} of {} nodes accept these pods); want maxUnavailable of at least 1 replica",
            nodes.len()
        )
    })
}

/// Whether the template requires, on the hostname, that no two of its own
/// pods share a node.
fn required_hostname_anti_affinity(ctx: &Context, w: &Workload) -> bool {
    let labels = w.pod_labels();
    let ns = w.metadata.namespace.as_str();
    let ns_labels = ctx.cluster.labels_of_namespace(ns);
    w.spec
        .template
        .spec
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .is_some_and(|pa| {
            pa.required_during_scheduling_ignored_during_execution
                .iter()
                .any(|t| {
                    t.topology_key == HOSTNAME
                        && optional_matches(t.label_selector.as_ref(), labels)
                        && t.covers_namespace(ns, ns, &ns_labels)
                })
        })
}

/// OpenShift DaemonSets roll 10% or 33% of nodes at a time, or surge 10%;
/// origin holds to it only the DaemonSets of `openshift-*` namespaces that
/// are not pinned to the control plane (whose node count is fixed).
fn daemonset_pace(w: &Workload) -> Option<String> {
    if !w.metadata.namespace.starts_with("openshift-") || w.spec.template.spec.on_control_plane() {
        return None;
    }
    let ru = w.strategy().and_then(|s| s.rolling_update.as_ref());
    let max_unavailable = ru.and_then(|r| r.max_unavailable.as_ref());
    let max_surge = ru.and_then(|r| r.max_surge.as_ref());
    if max_unavailable.is_some_and(|m| m.is_percent(10) || m.is_percent(33))
        || max_surge.is_some_and(|m| m.is_percent(10))
    {
        return None;
    }
    let shown = max_unavailable.map_or("1 (default)".to_owned(), |m| m.to_string());
    Some(format!(
        "updateStrategy.rollingUpdate.maxUnavailable={shown}, want 10% or 33% (or maxSurge 10%)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::model::TopologyMode;

    #[test]
    fn recreate_with_replicas() {
        let yaml = [
            deployment("one", 1, "").replace(
                "  replicas: 1\n",
                "  replicas: 1\n  strategy: {type: Recreate}\n",
            ),
            deployment("two", 2, "").replace(
                "  replicas: 2\n",
                "  replicas: 2\n  strategy: {type: Recreate}\n",
            ),
            deployment("rolling", 2, ""),
        ]
        .concat();
        assert_eq!(
            lines(&run(&RolloutStrategy, &yaml)),
            ["Deployment/two: strategy.type=Recreate with 2 replicas takes every replica down at once, want RollingUpdate"]
        );
    }

    #[test]
    fn on_delete() {
        let yaml = "---
kind: StatefulSet
metadata: {name: broker, namespace: ns}
spec: {replicas: 1, updateStrategy: {type: OnDelete}}
---
kind: DaemonSet
metadata: {name: agent, namespace: ns}
spec: {updateStrategy: {type: OnDelete}}
---
kind: StatefulSet
metadata: {name: fine, namespace: ns}
spec: {replicas: 1, updateStrategy: {type: RollingUpdate}}
";
        assert_eq!(
            lines(&run(&RolloutStrategy, yaml)),
            [
                "StatefulSet/broker: updateStrategy.type=OnDelete: a spec change never reaches running pods, want RollingUpdate",
                "DaemonSet/agent: updateStrategy.type=OnDelete: a spec change never reaches running pods, want RollingUpdate",
            ]
        );
    }

    #[test]
    fn openshift_daemonset_pace_as_origin_checks_it() {
        let ds = |name: &str, ns: &str, ru: &str, node_selector: &str| {
            format!("---\nkind: DaemonSet\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  updateStrategy: {{type: RollingUpdate{ru}}}\n  template: {{spec: {{containers: [{{name: c}}]{node_selector}}}}}\n")
        };
        let yaml = [
            ds(
                "ten",
                "openshift-a",
                ", rollingUpdate: {maxUnavailable: 10%}",
                "",
            ),
            ds(
                "third",
                "openshift-a",
                ", rollingUpdate: {maxUnavailable: 33%}",
                "",
            ),
            ds(
                "surge",
                "openshift-a",
                ", rollingUpdate: {maxUnavailable: 0, maxSurge: 10%}",
                "",
            ),
            ds(
                "one",
                "openshift-a",
                ", rollingUpdate: {maxUnavailable: 1}",
                "",
            ),
            ds("default", "openshift-a", "", ""),
            // origin skips DaemonSets pinned to the control plane (their
            // node count is fixed) and namespaces outside openshift-*.
            ds(
                "masters",
                "openshift-a",
                ", rollingUpdate: {maxUnavailable: 1}",
                ", nodeSelector: {node-role.kubernetes.io/master: ''}",
            ),
            ds(
                "cp",
                "openshift-a",
                ", rollingUpdate: {maxUnavailable: 1}",
                ", nodeSelector: {node-role.kubernetes.io/control-plane: ''}",
            ),
            ds(
                "theirs",
                "kube-system",
                ", rollingUpdate: {maxUnavailable: 1}",
                "",
            ),
        ]
        .concat();
        assert_eq!(
            lines(&run_with(&RolloutStrategy, &yaml, Profile::Openshift, TopologyMode::Ha)),
            [
                "DaemonSet/one: updateStrategy.rollingUpdate.maxUnavailable=1, want 10% or 33% (or maxSurge 10%)",
                "DaemonSet/default: updateStrategy.rollingUpdate.maxUnavailable=1 (default), want 10% or 33% (or maxSurge 10%)",
            ]
        );
        assert!(
            run(&RolloutStrategy, &yaml).is_empty(),
            "generic profile does not judge the pace"
        );
    }

    #[test]
    fn daemonset_max_unavailable_covering_every_node() {
        let ds = |mu: &str, desired: i64| {
            format!("---\nkind: DaemonSet\nmetadata: {{name: w, namespace: ns}}\nspec:\n  updateStrategy: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: {mu}}}}}\n  template: {{spec: {{containers: [{{name: c}}]}}}}\nstatus: {{desiredNumberScheduled: {desired}}}\n")
        };
        assert_eq!(
            lines(&run(&RolloutStrategy, &ds("3", 3))),
            ["DaemonSet/w: rollingUpdate.maxUnavailable=3 takes all 3 nodes it runs on down at once, like Recreate; want 25% or less"]
        );
        // The DaemonSet controller rounds a percentage up: 67% of 3 is 3.
        assert_eq!(run(&RolloutStrategy, &ds("'67%'", 3)).len(), 1);
        assert!(run(&RolloutStrategy, &ds("2", 3)).is_empty());
        assert!(run(&RolloutStrategy, &ds("'50%'", 6)).is_empty());
        assert!(
            run(&RolloutStrategy, &ds("1", 1)).is_empty(),
            "one node: the default maxUnavailable 1 is all there is"
        );
    }

    #[test]
    fn max_unavailable_covering_every_replica_is_recreate_by_another_name() {
        let with = |kind: &str, field: &str, mu: &str, replicas: i64| {
            format!(
                "---\nkind: {kind}\nmetadata: {{name: w, namespace: ns}}\nspec:\n  replicas: {replicas}\n  {field}: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: {mu}}}}}\n  template: {{spec: {{containers: [{{name: c}}]}}}}\n"
            )
        };
        assert_eq!(
            lines(&run(&RolloutStrategy, &with("Deployment", "strategy", "'100%'", 3))),
            ["Deployment/w: rollingUpdate.maxUnavailable=100% takes all 3 replicas down at once, like Recreate; want 25% or less"]
        );
        assert_eq!(
            run(&RolloutStrategy, &with("Deployment", "strategy", "3", 3)).len(),
            1
        );
        assert!(run(
            &RolloutStrategy,
            &with("Deployment", "strategy", "'50%'", 3)
        )
        .is_empty());
        assert!(
            run(
                &RolloutStrategy,
                &with("Deployment", "strategy", "'100%'", 1)
            )
            .is_empty(),
            "one replica: nothing to keep up"
        );
        assert_eq!(
            run(
                &RolloutStrategy,
                &with("StatefulSet", "updateStrategy", "'100%'", 3)
            )
            .len(),
            1
        );
        assert_eq!(
            run(
                &RolloutStrategy,
                &with("DaemonSet", "updateStrategy", "'100%'", 1)
            )
            .len(),
            1
        );
    }

    #[test]
    fn legacy_daemonsets_without_a_strategy_are_on_delete() {
        let yaml = "---\napiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata: {name: agent, namespace: ns}\nspec: {template: {spec: {containers: [{name: c}]}}}\n";
        assert_eq!(
            lines(&run(&RolloutStrategy, yaml)),
            ["DaemonSet/agent: updateStrategy.type=OnDelete: a spec change never reaches running pods, want RollingUpdate"]
        );
    }

    /// Nodes `n0..count`, workers, schedulable.
    fn nodes(count: usize) -> String {
        (0..count)
            .map(|i| format!("---\nkind: Node\nmetadata: {{name: n{i}, labels: {{node-role.kubernetes.io/worker: ''}}}}\n"))
            .collect()
    }

    fn with_anti_affinity(replicas: i64, ru: &str, hard: bool) -> String {
        let term = "{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: w}}}";
        let affinity = if hard {
            format!(
                "{{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{term}]}}}}"
            )
        } else {
            format!("{{podAntiAffinity: {{preferredDuringSchedulingIgnoredDuringExecution: [{{weight: 100, podAffinityTerm: {term}}}]}}}}")
        };
        format!(
            "---\nkind: Deployment\nmetadata: {{name: w, namespace: ns}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: w}}}}\n  strategy: {{type: RollingUpdate, rollingUpdate: {ru}}}\n  template:\n    metadata: {{labels: {{app: w}}}}\n    spec: {{containers: [{{name: c}}], affinity: {affinity}}}\n"
        )
    }

    #[test]
    fn a_surge_under_hard_anti_affinity_without_a_free_node_never_starts() {
        let judge = |yaml: String| lines(&run(&RolloutStrategy, &yaml));
        // 25% of 2 rounds down to 0: the rollout must surge, and two nodes
        // both hold a replica.
        assert_eq!(
            judge(with_anti_affinity(2, "{maxUnavailable: '25%', maxSurge: '25%'}", true) + &nodes(2)),
            ["Deployment/w: a rollout cannot start: maxUnavailable=25% rounds down to 0 of 2 replicas, so it must first add a pod (maxSurge=25%), and required anti-affinity on kubernetes.io/hostname leaves that pod no node (2 of 2 nodes accept these pods); want maxUnavailable of at least 1 replica"]
        );
        // The API server's defaults (25%/25%) are the same case.
        assert_eq!(
            judge(with_anti_affinity(2, "{}", true) + &nodes(2)).len(),
            1
        );
        // A third node takes the surge pod.
        assert!(judge(
            with_anti_affinity(2, "{maxUnavailable: '25%', maxSurge: '25%'}", true) + &nodes(3)
        )
        .is_empty());
        // maxUnavailable 1: the controller removes a pod first.
        assert!(
            judge(with_anti_affinity(2, "{maxUnavailable: 1, maxSurge: 1}", true) + &nodes(2))
                .is_empty()
        );
        assert!(judge(
            with_anti_affinity(2, "{maxUnavailable: '50%', maxSurge: '25%'}", true) + &nodes(2)
        )
        .is_empty());
        // Preferred anti-affinity lets the surge pod share a node.
        assert!(judge(
            with_anti_affinity(2, "{maxUnavailable: 0, maxSurge: 1}", false) + &nodes(2)
        )
        .is_empty());
        // Without the nodes, the room cannot be judged: no claim.
        assert!(judge(with_anti_affinity(
            2,
            "{maxUnavailable: 0, maxSurge: 1}",
            true
        ))
        .is_empty());
        // A node the pods cannot use (cordoned, or tainted) is no room.
        let cordoned = "---\nkind: Node\nmetadata: {name: spare}\nspec: {unschedulable: true}\n---\nkind: Node\nmetadata: {name: gpu}\nspec: {taints: [{key: gpu, value: 'true', effect: NoSchedule}]}\n";
        assert_eq!(
            judge(
                with_anti_affinity(2, "{maxUnavailable: 0, maxSurge: 1}", true)
                    + &nodes(2)
                    + cordoned
            )
            .len(),
            1
        );
        let tolerating = with_anti_affinity(2, "{maxUnavailable: 0, maxSurge: 1}", true).replace(
            "affinity:",
            "tolerations: [{key: gpu, operator: Equal, value: 'true', effect: NoSchedule}], affinity:",
        );
        assert!(judge(tolerating + &nodes(2) + cordoned).is_empty());
    }

    #[test]
    fn two_replicas_that_can_roll_are_not_judged_by_their_surge() {
        // What OpenShift's own 2-replica Deployments do (router-default,
        // thanos-querier, image-registry): maxUnavailable reaches 1.
        for ru in [
            "{maxSurge: '25%', maxUnavailable: '50%'}",
            "{maxSurge: '25%', maxUnavailable: 1}",
            "{maxSurge: 1, maxUnavailable: 1}",
            "{maxUnavailable: 1}",
        ] {
            let yaml = with_anti_affinity(2, ru, true) + &nodes(3);
            assert!(
                run_with(
                    &RolloutStrategy,
                    &yaml,
                    Profile::Openshift,
                    TopologyMode::Ha
                )
                .is_empty(),
                "{ru}"
            );
        }
    }
}
