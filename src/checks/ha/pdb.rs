//! `ha/pdb`: replicated workloads are covered by a PodDisruptionBudget.

use crate::checks::*;
use crate::model::selector::format_labels;

pub struct Pdb;

static INFO: CheckInfo = CheckInfo {
    id: "ha/pdb",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "be covered by a pod disruption budget",
    rule: "every Deployment and StatefulSet with replicas >= 2 is selected by a PodDisruptionBudget in its namespace",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: true,
    kinds: &["Deployment", "StatefulSet"],
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Deployment", "StatefulSet", "HorizontalPodAutoscaler", "PodDisruptionBudget"],
};

impl Check for Pdb {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (wi, w, replicas) in ctx.replicated() {
            if ctx.cluster.workload_pdbs[wi].is_empty() {
                let detail = format!(
                    "{replicas} replicas and no PodDisruptionBudget selects its pods (labels {})",
                    format_labels(w.pod_labels())
                );
                out.push(workload_finding(&INFO, w, None, detail));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    const PDB: &str = "---
kind: PodDisruptionBudget
apiVersion: policy/v1
metadata: {name: covered, namespace: ns}
spec: {selector: {matchLabels: {app: covered}}, maxUnavailable: 1}
";

    #[test]
    fn covered_and_uncovered() {
        let yaml = [
            deployment("covered", 2, ""),
            deployment("bare", 3, ""),
            deployment("single", 1, ""),
            PDB.into(),
        ]
        .concat();
        assert_eq!(
            lines(&run(&Pdb, &yaml)),
            ["Deployment/bare: 3 replicas and no PodDisruptionBudget selects its pods (labels app=bare)"]
        );
    }

    #[test]
    fn pdb_in_another_namespace_does_not_cover() {
        let yaml = [
            deployment("covered", 2, ""),
            PDB.replace("namespace: ns", "namespace: other"),
        ]
        .concat();
        assert_eq!(run(&Pdb, &yaml).len(), 1);
    }

    #[test]
    fn v1beta1_empty_selector_selects_nothing_v1_everything() {
        let pdb = |api: &str| {
            format!("---\nkind: PodDisruptionBudget\napiVersion: {api}\nmetadata: {{name: all, namespace: ns}}\nspec: {{selector: {{}}}}\n")
        };
        let d = deployment("web", 2, "");
        assert!(run(&Pdb, &[d.clone(), pdb("policy/v1")].concat()).is_empty());
        assert_eq!(run(&Pdb, &[d, pdb("policy/v1beta1")].concat()).len(), 1);
    }
}
