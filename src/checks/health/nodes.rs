//! `health/nodes`: nodes that are not ready, under pressure, or cordoned.
//! One cluster-scoped test: `[Monitor:infra-health][Jira:"Node"] nodes should be ready`.

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor, Threshold};
use crate::model::objects::condition;
use crate::model::time::{age, human};

pub struct Nodes;

static INFO: CheckInfo = CheckInfo {
    id: "health/nodes",
    monitor: Monitor::InfraHealth,
    subject: "nodes",
    should: "be ready",
    rule: "no node is NotReady, under MemoryPressure, DiskPressure or PIDPressure, NetworkUnavailable, or unschedulable; \
           the condition's reason and how long are named",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Node"],
    thresholds: &[Threshold {
        name: "during-minutes",
        default: 5,
        help: "with vigil watch: minutes a node may be NotReady, under pressure or cordoned during the run",
    }],
    // A registered OpenShift Jira component (ci-test-mapping ignores tags that are not).
    cluster_scoped: Some("Node / Kubelet"),
    per_object: None,
    needs: &["Node"],
};

impl Check for Nodes {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for node in &ctx.cluster.nodes {
            let conds = &node.status.conditions;
            let mut problems = Vec::new();
            let describe = |c: &crate::model::objects::Condition| {
                let mut s = format!("{}={}", c.type_, c.status);
                if let Some(r) = &c.reason {
                    s.push_str(&format!(" ({r})"));
                }
                if let Some(a) = age(c.last_transition_time.as_deref(), ctx.now) {
                    s.push_str(&format!(" for {}", human(a)));
                }
                s
            };
            if let Some(r) = condition(conds, "Ready") {
                if r.status != "True" {
                    problems.push(describe(r));
                }
            }
            for t in [
                "MemoryPressure",
                "DiskPressure",
                "PIDPressure",
                "NetworkUnavailable",
            ] {
                if let Some(c) = condition(conds, t).filter(|c| c.status == "True") {
                    problems.push(describe(c));
                }
            }
            if node.spec.unschedulable {
                problems.push("unschedulable (cordoned)".into());
            }
            if !problems.is_empty() {
                out.push(Finding::object_level(
                    INFO.id,
                    "",
                    "Node",
                    &node.metadata.name,
                    problems.join("; "),
                    Severity::Fail,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    #[test]
    fn unready_pressured_and_cordoned_nodes() {
        let yaml = "
---
kind: Node
metadata: {name: ok}
status: {conditions: [{type: Ready, status: 'True'}, {type: MemoryPressure, status: 'False'}]}
---
kind: Node
metadata: {name: down}
status:
  conditions:
  - {type: Ready, status: Unknown, reason: NodeStatusUnknown, lastTransitionTime: '2026-11-21T09:47:00Z'}
---
kind: Node
metadata: {name: full}
spec: {unschedulable: true}
status:
  conditions:
  - {type: Ready, status: 'True'}
  - {type: DiskPressure, status: 'True', reason: KubeletHasDiskPressure, lastTransitionTime: '2026-11-21T11:55:00Z'}
";
        assert_eq!(
            lines(&run(&Nodes, yaml)),
            [
                "Node/down: Ready=Unknown (NodeStatusUnknown) for 2h13m",
                "Node/full: DiskPressure=True (KubeletHasDiskPressure) for 5m; unschedulable (cordoned)",
            ]
        );
    }
}
