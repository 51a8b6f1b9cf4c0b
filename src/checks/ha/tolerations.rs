//! `ha/tolerations`: OpenShift's conventions on tolerations. No workload
//! tolerates `node.kubernetes.io/unschedulable` (it would land on nodes being
//! drained); tolerating every taint is for DaemonSets only; Deployments and
//! StatefulSets do not tolerate not-ready, unreachable or pressure taints
//! forever (their pods must move off a failing node; a bounded
//! `tolerationSeconds`, as OpenShift's operators set to move sooner than the
//! default 300 s, is fine), unless excepted with a reason.

use crate::checks::*;
use crate::model::objects::{Toleration, WorkloadKind};

pub struct Tolerations;

static INFO: CheckInfo = CheckInfo {
    id: "ha/tolerations",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "tolerate only the taints their role allows",
    rule: "OpenShift convention, under --profile openshift: no pod template tolerates node.kubernetes.io/unschedulable; \
           only DaemonSets tolerate every taint (operator Exists without a key); Deployments and StatefulSets do not \
           tolerate the not-ready, unreachable, memory-, disk- or pid-pressure taints without a tolerationSeconds bound \
           (except with an exception and its reason)",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: WORKLOAD_KINDS,
    thresholds: &[],
    cluster_scoped: None,
    needs: &["Deployment", "StatefulSet", "DaemonSet"],
};

/// Taints that mean "this node is failing": a replicated workload's pods
/// must be evicted from it and rescheduled elsewhere.
const FAILING_NODE_TAINTS: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
];

fn describe(t: &Toleration) -> String {
    let mut s = t.key.as_deref().unwrap_or("<every key>").to_owned();
    if let Some(e) = &t.effect {
        s.push(':');
        s.push_str(e);
    }
    s
}

impl Check for Tolerations {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn not_applicable(&self, ctx: &Context) -> Option<String> {
        openshift_only(ctx)
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (_, w) in ctx.workloads(ALL_WORKLOADS) {
            let mut problems = Vec::new();
            for t in &w.spec.template.spec.tolerations {
                let key = t.key.as_deref().unwrap_or("");
                let everything = key.is_empty() && t.operator.as_deref() == Some("Exists");
                if key == "node.kubernetes.io/unschedulable" {
                    problems.push(format!(
                        "tolerates {}: its pods would land on nodes being drained",
                        describe(t)
                    ));
                } else if everything && w.kind != WorkloadKind::DaemonSet {
                    problems.push(
                        "tolerates every taint (operator Exists without a key), which only DaemonSets may".to_owned(),
                    );
                } else if w.kind != WorkloadKind::DaemonSet
                    && FAILING_NODE_TAINTS.contains(&key)
                    && t.toleration_seconds.is_none()
                {
                    problems.push(match t.effect.as_deref() {
                        Some("NoSchedule") | Some("PreferNoSchedule") => format!(
                            "tolerates {}: new pods may be scheduled onto a failing node",
                            describe(t)
                        ),
                        _ => format!(
                            "tolerates {} forever (no tolerationSeconds): its pods stay on a failing node instead of moving",
                            describe(t)
                        ),
                    });
                }
            }
            if !problems.is_empty() {
                out.push(workload_finding(&INFO, w, None, problems.join("; ")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::model::TopologyMode;

    fn with(kind: &str, tolerations: &str) -> String {
        format!(
            "---\nkind: {kind}\nmetadata: {{name: w, namespace: ns}}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers: [{{name: c}}]\n      tolerations: {tolerations}\n"
        )
    }

    fn judge(yaml: &str) -> Vec<String> {
        lines(&run_with(
            &Tolerations,
            yaml,
            Profile::Openshift,
            TopologyMode::Ha,
        ))
    }

    #[test]
    fn each_rule() {
        assert_eq!(
            judge(&with("Deployment", "[{key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoSchedule}]")),
            ["Deployment/w: tolerates node.kubernetes.io/unschedulable:NoSchedule: its pods would land on nodes being drained"]
        );
        assert_eq!(
            judge(&with("StatefulSet", "[{operator: Exists}]")),
            ["StatefulSet/w: tolerates every taint (operator Exists without a key), which only DaemonSets may"]
        );
        assert!(judge(&with("DaemonSet", "[{operator: Exists}]")).is_empty());
        assert_eq!(
            judge(&with("Deployment", "[{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}, {key: node.kubernetes.io/memory-pressure, operator: Exists}]")),
            ["Deployment/w: tolerates node.kubernetes.io/not-ready:NoExecute forever (no tolerationSeconds): its pods stay on a failing node instead of moving; tolerates node.kubernetes.io/memory-pressure forever (no tolerationSeconds): its pods stay on a failing node instead of moving"]
        );
        assert_eq!(
            judge(&with("Deployment", "[{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoSchedule}]")),
            ["Deployment/w: tolerates node.kubernetes.io/not-ready:NoSchedule: new pods may be scheduled onto a failing node"]
        );
        // Bounded, as OpenShift's operators do to move sooner than the default.
        assert!(judge(&with("Deployment", "[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 120}]")).is_empty());
        assert!(judge(&with(
            "DaemonSet",
            "[{key: node.kubernetes.io/not-ready, operator: Exists}]"
        ))
        .is_empty());
        assert!(judge(&with(
            "Deployment",
            "[{key: node-role.kubernetes.io/master, operator: Exists, effect: NoSchedule}]"
        ))
        .is_empty());
    }

    #[test]
    fn only_under_the_openshift_profile() {
        let ctx_yaml = with("Deployment", "[{operator: Exists}]");
        let c = cluster(&ctx_yaml);
        let topology = crate::model::Topology::resolve(TopologyMode::Ha, &c);
        let thresholds = |_: &'static str, _: &'static str| 0;
        let ctx = Context {
            cluster: &c,
            now: now(),
            topology: &topology,
            profile: Profile::Generic,
            thresholds: &thresholds,
            owners: Default::default(),
        };
        assert!(Tolerations
            .not_applicable(&ctx)
            .unwrap()
            .contains("--profile openshift"));
    }
}
