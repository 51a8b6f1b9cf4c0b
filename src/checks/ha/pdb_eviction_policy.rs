//! `ha/pdb-eviction-policy`: PDBs let unhealthy pods be evicted, so a
//! crash-looping pod cannot block a drain.

use crate::checks::*;

pub struct PdbEvictionPolicy;

static INFO: CheckInfo = CheckInfo {
    id: "ha/pdb-eviction-policy",
    monitor: Monitor::HaCompliance,
    subject: "pod disruption budgets",
    should: "allow eviction of unhealthy pods",
    rule: "PDBs set spec.unhealthyPodEvictionPolicy: AlwaysAllow",
    default_mode: Mode::Blocking,
    // A newer convention: shown to owners without blocking their jobs.
    default_lifecycle: Lifecycle::Informing,
    multi_node: false,
    kinds: &["PodDisruptionBudget"],
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["PodDisruptionBudget"],
};

impl Check for PdbEvictionPolicy {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for pdb in &ctx.cluster.pdbs {
            let detail = match pdb.spec.unhealthy_pod_eviction_policy.as_deref() {
                Some("AlwaysAllow") => continue,
                Some(p) => format!("unhealthyPodEvictionPolicy={p}, want AlwaysAllow"),
                None => "unhealthyPodEvictionPolicy unset (defaults to IfHealthyBudget), want AlwaysAllow".into(),
            };
            out.push(Finding::object_level(
                INFO.id,
                &pdb.metadata.namespace,
                "PodDisruptionBudget",
                &pdb.metadata.name,
                detail,
                Severity::Fail,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    #[test]
    fn policies() {
        let pdb = |name: &str, policy: &str| {
            format!("---\nkind: PodDisruptionBudget\nmetadata: {{name: {name}, namespace: ns}}\nspec: {{maxUnavailable: 1{policy}}}\n")
        };
        let yaml = [
            pdb("good", ", unhealthyPodEvictionPolicy: AlwaysAllow"),
            pdb("explicit", ", unhealthyPodEvictionPolicy: IfHealthyBudget"),
            pdb("unset", ""),
        ]
        .concat();
        assert_eq!(
            lines(&run(&PdbEvictionPolicy, &yaml)),
            [
                "PodDisruptionBudget/explicit: unhealthyPodEvictionPolicy=IfHealthyBudget, want AlwaysAllow",
                "PodDisruptionBudget/unset: unhealthyPodEvictionPolicy unset (defaults to IfHealthyBudget), want AlwaysAllow",
            ]
        );
    }
}
