//! `ha/replicas`: Deployments and StatefulSets run at least two replicas.

use crate::checks::*;

pub struct Replicas;

static INFO: CheckInfo = CheckInfo {
    id: "ha/replicas",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "have at least two replicas",
    rule: "Deployments and StatefulSets have spec.replicas >= 2; under an HPA, its minReplicas >= 2 (the autoscaler \
           may scale down to it at any time, whatever spec.replicas says now: the same floor ha/pdb-disruptions uses)",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: true,
    kinds: &["Deployment", "StatefulSet"],
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
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
            if ctx.floor_replicas(wi).unwrap_or(1) >= 2 {
                continue;
            }
            let detail = match hpa {
                Some(min) => format!(
                    "HPA minReplicas={min} (spec.replicas={replicas} now): the autoscaler may scale it down to {min}, want minReplicas >= 2"
                ),
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
    fn under_an_hpa_its_floor_counts_not_the_current_scale() {
        let hpa = |name: &str, min: &str| {
            format!("---\nkind: HorizontalPodAutoscaler\nmetadata: {{name: {name}, namespace: ns}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: {name}}}{min}}}\n")
        };
        let yaml = [
            deployment("a", 1, ""),
            hpa("a", ", minReplicas: 2"),
            deployment("b", 1, ""),
            hpa("b", ", minReplicas: 1"),
            // At 3 now, but the autoscaler may go down to 1 at any time.
            deployment("c", 3, ""),
            hpa("c", ", minReplicas: 1"),
            // minReplicas defaults to 1.
            deployment("d", 3, ""),
            hpa("d", ""),
        ]
        .concat();
        assert_eq!(
            lines(&run(&Replicas, &yaml)),
            [
                "Deployment/b: HPA minReplicas=1 (spec.replicas=1 now): the autoscaler may scale it down to 1, want minReplicas >= 2",
                "Deployment/c: HPA minReplicas=1 (spec.replicas=3 now): the autoscaler may scale it down to 1, want minReplicas >= 2",
                "Deployment/d: HPA minReplicas=1 (spec.replicas=3 now): the autoscaler may scale it down to 1, want minReplicas >= 2",
            ]
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
