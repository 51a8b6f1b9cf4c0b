//! `ha/replicas`: Deployments and StatefulSets run at least two replicas.

use crate::checks::*;

pub struct Replicas;

static INFO: CheckInfo = CheckInfo {
    id: "ha/replicas",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "have at least two replicas",
    rule: "Deployments and StatefulSets have spec.replicas >= 2, or an HPA targeting them with minReplicas >= 2",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: true,
    kinds: &["Deployment", "StatefulSet"],
    thresholds: &[],
    cluster_scoped: None,
    needs: &["Deployment", "StatefulSet", "HorizontalPodAutoscaler"],
};

impl Check for Replicas {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (wi, w) in ctx.workloads(REPLICATED) {
            let replicas = w.replicas().unwrap_or(1);
            let hpa = ctx.cluster.workload_hpa_min[wi];
            if replicas >= 2 || hpa.is_some_and(|m| m >= 2) {
                continue;
            }
            let detail = match hpa {
                Some(min) => format!("spec.replicas={replicas}, HPA minReplicas={min}, want >= 2"),
                None => format!("spec.replicas={replicas}, want >= 2"),
            };
            out.push(workload_finding(&INFO, w, None, detail));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::model::TopologyMode;

    #[test]
    fn single_replica_fails_two_pass_zero_passes() {
        let yaml = [
            deployment("one", 1, ""),
            deployment("two", 2, ""),
            deployment("zero", 0, ""),
        ]
        .concat();
        assert_eq!(
            lines(&run(&Replicas, &yaml)),
            ["Deployment/one: spec.replicas=1, want >= 2"]
        );
    }

    #[test]
    fn missing_replicas_defaults_to_one() {
        let yaml = "kind: StatefulSet\nmetadata: {name: db, namespace: ns}\nspec: {}\n";
        assert_eq!(
            lines(&run(&Replicas, yaml)),
            ["StatefulSet/db: spec.replicas=1, want >= 2"]
        );
    }

    #[test]
    fn hpa_min_replicas_counts() {
        let hpa = |name: &str, min: i64| {
            format!("---\nkind: HorizontalPodAutoscaler\nmetadata: {{name: {name}, namespace: ns}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: {name}}}, minReplicas: {min}}}\n")
        };
        let yaml = [
            deployment("a", 1, ""),
            hpa("a", 2),
            deployment("b", 1, ""),
            hpa("b", 1),
        ]
        .concat();
        assert_eq!(
            lines(&run(&Replicas, &yaml)),
            ["Deployment/b: spec.replicas=1, HPA minReplicas=1, want >= 2"]
        );
    }

    #[test]
    fn daemonsets_are_not_judged() {
        let yaml = "kind: DaemonSet\nmetadata: {name: ds, namespace: ns}\nspec: {}\n";
        assert!(run(&Replicas, yaml).is_empty());
    }

    #[test]
    fn single_node_passes() {
        let yaml = deployment("one", 1, "");
        assert!(run_with(&Replicas, &yaml, Profile::Generic, TopologyMode::Single).is_empty());
    }
}
