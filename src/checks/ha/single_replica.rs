//! `ha/single-replica`: on a single-node OpenShift cluster (SingleReplica
//! topology) operands run exactly one replica; more only compete for the one
//! node and cannot spread anyway.

use crate::checks::*;

pub struct SingleReplica;

static INFO: CheckInfo = CheckInfo {
    id: "ha/single-replica",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "run exactly one replica on a single-node cluster",
    rule: "OpenShift convention, under --profile openshift on a SingleReplica topology: Deployments and StatefulSets \
           run exactly one replica (an HPA's minReplicas counts)",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Deployment", "StatefulSet"],
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Deployment", "StatefulSet", "HorizontalPodAutoscaler"],
};

impl Check for SingleReplica {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn not_applicable(&self, ctx: &Context) -> Option<String> {
        openshift_only(ctx).or_else(|| {
            (!ctx.topology.single_node).then(|| {
                format!(
                    "not applicable: a rule for single-node clusters ({})",
                    ctx.topology.source
                )
            })
        })
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (_, w, replicas) in ctx.replicated() {
            out.push(workload_finding(
                &INFO,
                w,
                None,
                format!("{replicas} replicas on a single-node cluster, want exactly 1"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::model::TopologyMode;

    #[test]
    fn operands_run_one_replica_on_a_single_node() {
        let yaml = [deployment("one", 1, ""), deployment("two", 2, "")].concat();
        assert_eq!(
            lines(&run_with(
                &SingleReplica,
                &yaml,
                Profile::Openshift,
                TopologyMode::Single
            )),
            ["Deployment/two: 2 replicas on a single-node cluster, want exactly 1"]
        );
    }
}
