//! `ha/rollout-strategy`: workloads roll out without downtime, and a spec
//! change actually reaches the pods.

use crate::checks::*;
use crate::model::objects::{IntOrPercentExt, WorkloadKind};

pub struct RolloutStrategy;

static INFO: CheckInfo = CheckInfo {
    id: "ha/rollout-strategy",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "use a rolling update strategy",
    rule: "Deployments with replicas >= 2 do not use Recreate; StatefulSets and DaemonSets do not use OnDelete \
           (a spec change would never roll out; extensions/v1beta1 DaemonSets and apps/v1beta1 StatefulSets default to it); \
           a rolling update's maxUnavailable does not cover every replica (100% is Recreate by another name); \
           under the openshift profile DaemonSets set maxUnavailable 10% or 33% (or maxSurge 10%), and 2-replica \
           Deployments off the control plane roll by maxUnavailable 25% without maxSurge (a surge pod does not fit \
           two nodes under hard anti-affinity)",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: WORKLOAD_KINDS,
    thresholds: &[],
    cluster_scoped: None,
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
                .or_else(|| two_replica_pace(ctx, wi, w));
            if let Some(detail) = detail {
                out.push(workload_finding(&INFO, w, None, detail));
            }
        }
    }
}

/// A rolling update whose maxUnavailable covers every replica takes them all
/// down at once, as Recreate would.
fn all_at_once(ctx: &Context, wi: usize, w: &crate::model::objects::Workload) -> Option<String> {
    if w.strategy_type() != "RollingUpdate" {
        return None;
    }
    let mu = w
        .strategy()?
        .rolling_update
        .as_ref()?
        .max_unavailable
        .as_ref()?;
    let everything = match w.kind {
        WorkloadKind::DaemonSet => mu.percent().is_some_and(|p| p >= 100),
        _ => {
            let replicas = ctx.desired_replicas(wi).unwrap_or(1);
            replicas >= 2 && mu.scaled(replicas, false).is_some_and(|n| n >= replicas)
        }
    };
    everything.then(|| {
        format!("rollingUpdate.maxUnavailable={mu} takes every replica down at once, like Recreate; want 25% or less")
    })
}

/// OpenShift's HA convention for a 2-replica Deployment off the control
/// plane (hard anti-affinity, two worker nodes): roll by maxUnavailable
/// (25%), never by surge, since a third pod has no node to go to.
fn two_replica_pace(
    ctx: &Context,
    wi: usize,
    w: &crate::model::objects::Workload,
) -> Option<String> {
    if ctx.profile != Profile::Openshift
        || w.kind != WorkloadKind::Deployment
        || ctx.desired_replicas(wi) != Some(2)
        || w.spec.template.spec.on_control_plane()
    {
        return None;
    }
    let ru = w.strategy()?.rolling_update.as_ref()?;
    // A surge of 0 is the maxUnavailable strategy (the API server fills in
    // 25% when a manifest says nothing, so "set" alone means little).
    if let Some(surge) = ru
        .max_surge
        .as_ref()
        .filter(|m| m.scaled(2, true).is_some_and(|n| n > 0))
    {
        return Some(format!(
            "rollingUpdate.maxSurge={surge} with 2 replicas: under hard anti-affinity on two workers the surge pod has no node; OpenShift's conventions roll by maxUnavailable 25%"
        ));
    }
    match &ru.max_unavailable {
        Some(mu) if !mu.is_percent(25) => Some(format!(
            "rollingUpdate.maxUnavailable={mu} with 2 replicas; OpenShift's conventions use 25% for consistency"
        )),
        _ => None,
    }
}

/// OpenShift DaemonSets roll 10% or 33% of nodes at a time, or surge 10%.
fn daemonset_pace(w: &crate::model::objects::Workload) -> Option<String> {
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
    fn openshift_daemonset_pace() {
        let ds = |name: &str, ru: &str| {
            format!("---\nkind: DaemonSet\nmetadata: {{name: {name}, namespace: ns}}\nspec: {{updateStrategy: {{type: RollingUpdate{ru}}}}}\n")
        };
        let yaml = [
            ds("ten", ", rollingUpdate: {maxUnavailable: 10%}"),
            ds("third", ", rollingUpdate: {maxUnavailable: 33%}"),
            ds(
                "surge",
                ", rollingUpdate: {maxUnavailable: 0, maxSurge: 10%}",
            ),
            ds("one", ", rollingUpdate: {maxUnavailable: 1}"),
            ds("default", ""),
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
    fn max_unavailable_covering_every_replica_is_recreate_by_another_name() {
        let with = |kind: &str, field: &str, mu: &str, replicas: i64| {
            format!(
                "---\nkind: {kind}\nmetadata: {{name: w, namespace: ns}}\nspec:\n  replicas: {replicas}\n  {field}: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: {mu}}}}}\n  template: {{spec: {{containers: [{{name: c}}]}}}}\n"
            )
        };
        assert_eq!(
            lines(&run(&RolloutStrategy, &with("Deployment", "strategy", "'100%'", 3))),
            ["Deployment/w: rollingUpdate.maxUnavailable=100% takes every replica down at once, like Recreate; want 25% or less"]
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

    #[test]
    fn openshift_two_replica_deployments_roll_by_max_unavailable() {
        let with = |ru: &str| {
            format!(
                "---\nkind: Deployment\nmetadata: {{name: w, namespace: ns}}\nspec:\n  replicas: 2\n  strategy: {{type: RollingUpdate, rollingUpdate: {ru}}}\n  template: {{spec: {{containers: [{{name: c}}]}}}}\n"
            )
        };
        let judge = |yaml: &str| {
            lines(&run_with(
                &RolloutStrategy,
                yaml,
                Profile::Openshift,
                TopologyMode::Ha,
            ))
        };
        assert!(judge(&with("{maxUnavailable: '25%'}")).is_empty());
        assert!(judge(&with("{}")).is_empty());
        assert!(
            judge(&with("{maxSurge: 0, maxUnavailable: '25%'}")).is_empty(),
            "no surge is the maxUnavailable strategy"
        );
        assert_eq!(
            judge(&with("{maxSurge: 1, maxUnavailable: 0}")),
            ["Deployment/w: rollingUpdate.maxSurge=1 with 2 replicas: under hard anti-affinity on two workers the surge pod has no node; OpenShift's conventions roll by maxUnavailable 25%"]
        );
        assert_eq!(
            judge(&with("{maxUnavailable: 1}")),
            ["Deployment/w: rollingUpdate.maxUnavailable=1 with 2 replicas; OpenShift's conventions use 25% for consistency"]
        );
        assert!(lines(&run_with(
            &RolloutStrategy,
            &with("{maxSurge: 1}"),
            Profile::Generic,
            TopologyMode::Ha
        ))
        .is_empty());
    }
}
