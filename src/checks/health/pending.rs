//! `health/pending`: pods that never get scheduled or started.

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor, Threshold};
use crate::model::objects::condition;
use crate::model::time::{age, human};

pub struct Pending;

static INFO: CheckInfo = CheckInfo {
    id: "health/pending",
    monitor: Monitor::InfraHealth,
    subject: "pods",
    should: "not stay pending",
    rule: "no pod is Pending for longer than `minutes`; the scheduler's reason is named when PodScheduled gives one",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Node"],
    thresholds: &[Threshold {
        name: "minutes",
        default: 10,
        help: "how long a pod may stay Pending",
    }],
    cluster_scoped: None,
    per_object: None,
    needs: &["Pod"],
};

impl Check for Pending {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let limit = chrono::Duration::minutes((ctx.thresholds)(INFO.id, "minutes"));
        for (pi, pod) in ctx.cluster.pods.iter().enumerate() {
            if pod.status.phase != "Pending" || pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let Some(pending_for) = age(pod.metadata.creation_timestamp.as_deref(), ctx.now) else {
                continue;
            };
            if pending_for <= limit {
                continue;
            }
            let mut detail = format!("Pending for {}", human(pending_for));
            if let Some(s) =
                condition(&pod.status.conditions, "PodScheduled").filter(|s| s.status == "False")
            {
                detail.push_str(&format!(
                    " ({}",
                    s.reason.as_deref().unwrap_or("not scheduled")
                ));
                if let Some(m) = s.message.as_deref().filter(|m| !m.is_empty()) {
                    detail.push_str(&format!(": {}", clip(m, 240)));
                }
                detail.push(')');
            } else if let Some(w) =
                statuses(pod).find_map(|(cs, _)| cs.state.waiting.as_ref()?.reason.clone())
            {
                detail.push_str(&format!(" (scheduled; containers waiting: {w})"));
            }
            out.push(pod_finding(
                &INFO,
                ctx.cluster,
                pi,
                None,
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
    fn pending_past_the_limit_with_scheduler_reason() {
        let yaml = "
---
kind: Pod
metadata: {name: stuck, namespace: ns, creationTimestamp: '2026-11-21T11:00:00Z'}
status:
  phase: Pending
  conditions:
  - {type: PodScheduled, status: 'False', reason: Unschedulable, message: '0/4 nodes are available: 4 Insufficient memory.'}
---
kind: Pod
metadata: {name: young, namespace: ns, creationTimestamp: '2026-11-21T11:55:00Z'}
status: {phase: Pending}
---
kind: Pod
metadata: {name: pulling, namespace: ns, creationTimestamp: '2026-11-21T11:00:00Z'}
status:
  phase: Pending
  conditions: [{type: PodScheduled, status: 'True'}]
  containerStatuses: [{name: c, state: {waiting: {reason: ContainerCreating}}}]
";
        assert_eq!(
            lines(&run(&Pending, yaml)),
            [
                "Pod/stuck: Pending for 1h (Unschedulable: 0/4 nodes are available: 4 Insufficient memory.)",
                "Pod/pulling: Pending for 1h (scheduled; containers waiting: ContainerCreating)",
            ]
        );
    }
}
