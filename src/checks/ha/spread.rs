//! `ha/spread`: observed, not declared — the running pods of a replicated
//! workload sit on at least two nodes.

use std::collections::BTreeSet;

use crate::checks::*;

pub struct Spread;

static INFO: CheckInfo = CheckInfo {
    id: "ha/spread",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "run their pods on more than one node",
    rule: "the running pods of Deployments and StatefulSets with replicas >= 2 sit on at least two distinct nodes, \
           when the cluster has two or more schedulable nodes",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: true,
    kinds: &["Deployment", "StatefulSet"],
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Deployment", "StatefulSet", "HorizontalPodAutoscaler", "Pod", "ReplicaSet", "Node"],
};

impl Check for Spread {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let c = ctx.cluster;
        // With no Node objects the node count is unknown: judge by the pods.
        if !c.nodes.is_empty() && c.schedulable_nodes() < 2 {
            return;
        }
        for (wi, w, replicas) in ctx.replicated() {
            let mut nodes = BTreeSet::new();
            let mut running = 0;
            for &pi in &c.workload_pods[wi] {
                let pod = &c.pods[pi];
                if pod.status.phase != "Running" || pod.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                if let Some(node) = pod.spec.node_name.as_deref().filter(|n| !n.is_empty()) {
                    running += 1;
                    nodes.insert(node);
                }
            }
            // No running pod: nothing to observe (the health checks say why).
            if nodes.len() == 1 {
                let node = nodes.first().copied().unwrap_or_default();
                let detail = if running == 1 {
                    format!(
                        "1 of {replicas} replicas running, on node {node}; want pods on >= 2 nodes"
                    )
                } else {
                    format!("all {running} running pods on node {node}; want pods on >= 2 nodes")
                };
                out.push(workload_finding(&INFO, w, None, detail));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    fn pod(name: &str, owner: &str, node: &str, phase: &str) -> String {
        format!(
            "---\nkind: Pod\nmetadata: {{name: {name}, namespace: ns, labels: {{app: {owner}}}, ownerReferences: [{{kind: StatefulSet, name: {owner}, controller: true}}]}}\nspec: {{nodeName: {node}}}\nstatus: {{phase: {phase}}}\n"
        )
    }

    fn sts(name: &str) -> String {
        format!("---\nkind: StatefulSet\nmetadata: {{name: {name}, namespace: ns}}\nspec: {{replicas: 2, template: {{metadata: {{labels: {{app: {name}}}}}}}}}\n")
    }

    const NODES: &str =
        "---\nkind: Node\nmetadata: {name: n1}\n---\nkind: Node\nmetadata: {name: n2}\n";

    #[test]
    fn same_node_fails_two_nodes_pass() {
        let yaml = [
            NODES.to_owned(),
            sts("packed"),
            pod("packed-0", "packed", "n1", "Running"),
            pod("packed-1", "packed", "n1", "Running"),
            sts("spread"),
            pod("spread-0", "spread", "n1", "Running"),
            pod("spread-1", "spread", "n2", "Running"),
        ]
        .concat();
        assert_eq!(
            lines(&run(&Spread, &yaml)),
            ["StatefulSet/packed: all 2 running pods on node n1; want pods on >= 2 nodes"]
        );
    }

    #[test]
    fn only_running_pods_count() {
        let yaml = [
            NODES.to_owned(),
            sts("db"),
            pod("db-0", "db", "n1", "Running"),
            pod("db-1", "db", "n2", "Pending"),
        ]
        .concat();
        assert_eq!(
            lines(&run(&Spread, &yaml)),
            ["StatefulSet/db: 1 of 2 replicas running, on node n1; want pods on >= 2 nodes"]
        );
    }

    #[test]
    fn no_running_pods_is_not_judged() {
        let yaml = [
            NODES.to_owned(),
            sts("db"),
            pod("db-0", "db", "n1", "Failed"),
        ]
        .concat();
        assert!(run(&Spread, &yaml).is_empty());
    }

    #[test]
    fn one_schedulable_node_is_exempt() {
        let yaml = [
            "---\nkind: Node\nmetadata: {name: n1}\n---\nkind: Node\nmetadata: {name: n2}\nspec: {unschedulable: true}\n".to_owned(),
            sts("db"),
            pod("db-0", "db", "n1", "Running"),
            pod("db-1", "db", "n1", "Running"),
        ]
        .concat();
        assert!(run(&Spread, &yaml).is_empty());
    }
}
