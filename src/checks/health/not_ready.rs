//! `health/not-ready`: running workload pods that stay unready, and
//! controller-owned pods that failed.

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor, Threshold};
use crate::model::objects::condition;
use crate::model::time::{age, human};

pub struct NotReady;

/// Owners whose failed pods are a problem (a Job's failed pods are retries).
const LONG_RUNNING_OWNERS: &[&str] = &[
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "ReplicationController",
];

static INFO: CheckInfo = CheckInfo {
    id: "health/not-ready",
    monitor: Monitor::InfraHealth,
    subject: "pods",
    should: "be ready",
    rule: "a Running pod of a workload has not had Ready=False for longer than `minutes` (pods being deleted within their \
           grace period are going away on purpose); no pod owned by a ReplicaSet, StatefulSet, DaemonSet or \
           ReplicationController is in phase Failed while its workload is short of available replicas",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"],
    thresholds: &[Threshold {
        name: "minutes",
        default: 5,
        help: "how long a running pod may stay unready",
    }, Threshold {
        name: "during-minutes",
        default: 10,
        help: "with vigil watch: minutes a running pod may be unready during the run",
    }],
    cluster_scoped: None,
    needs: &["Pod", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet"],
};

impl Check for NotReady {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let limit = chrono::Duration::minutes((ctx.thresholds)(INFO.id, "minutes"));
        let c = ctx.cluster;
        for (pi, pod) in c.pods.iter().enumerate() {
            match pod.status.phase.as_str() {
                "Running" if c.pod_owner[pi].is_some() => {
                    if terminating_in_grace(pod, ctx.now) {
                        continue;
                    }
                    let Some(ready) = condition(&pod.status.conditions, "Ready") else {
                        continue;
                    };
                    if ready.status != "False" {
                        continue;
                    }
                    let since = age(ready.last_transition_time.as_deref(), ctx.now);
                    if since.is_some_and(|a| a <= limit) {
                        continue;
                    }
                    let mut detail = "Ready=False".to_owned();
                    if let Some(r) = &ready.reason {
                        detail.push_str(&format!(" ({r}"));
                        if let Some(m) = ready.message.as_deref().filter(|m| !m.is_empty()) {
                            detail.push_str(&format!(": {}", clip(m, 160)));
                        }
                        detail.push(')');
                    }
                    match since {
                        Some(a) => detail.push_str(&format!(" for {}", human(a))),
                        None => detail.push_str(" since an unknown time"),
                    }
                    out.push(pod_finding(&INFO, c, pi, None, detail, Severity::Fail));
                }
                "Failed" => {
                    let owned = pod
                        .metadata
                        .controller()
                        .is_some_and(|o| LONG_RUNNING_OWNERS.contains(&o.kind.as_str()));
                    if !owned {
                        continue;
                    }
                    // An evicted pod its controller has long replaced is a
                    // record, not a problem.
                    if c.pod_owner[pi].is_some_and(|wi| c.workloads[wi].fully_available()) {
                        continue;
                    }
                    let mut detail = "phase=Failed".to_owned();
                    if let Some(r) = &pod.status.reason {
                        detail.push_str(&format!(" ({r}"));
                        if let Some(m) = pod.status.message.as_deref().filter(|m| !m.is_empty()) {
                            detail.push_str(&format!(": {}", clip(m, 160)));
                        }
                        detail.push(')');
                    }
                    out.push(pod_finding(&INFO, c, pi, None, detail, Severity::Fail));
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    fn pod(name: &str, phase: &str, ready: &str, since: &str, owner: &str) -> String {
        format!(
            "---\nkind: Pod\nmetadata: {{name: {name}, namespace: ns, labels: {{app: web, pod-template-hash: h}}, ownerReferences: [{{kind: ReplicaSet, name: {owner}, controller: true}}]}}\nstatus:\n  phase: {phase}\n  reason: Evicted\n  message: 'The node was low on resource: memory.'\n  conditions: [{{type: Ready, status: '{ready}', reason: ContainersNotReady, message: 'containers with unready status: [web]', lastTransitionTime: '{since}'}}]\n"
        )
    }

    #[test]
    fn unready_for_longer_than_the_limit() {
        // NOW is 2026-11-21T12:00:00Z.
        let yaml = [
            deployment("web", 2, ""),
            pod(
                "web-h-old",
                "Running",
                "False",
                "2026-11-21T11:40:00Z",
                "web-h",
            ),
            pod(
                "web-h-new",
                "Running",
                "False",
                "2026-11-21T11:58:00Z",
                "web-h",
            ),
            pod(
                "web-h-ok",
                "Running",
                "True",
                "2026-11-21T10:00:00Z",
                "web-h",
            ),
            pod(
                "loose",
                "Running",
                "False",
                "2026-11-21T10:00:00Z",
                "not-a-workload",
            ),
        ]
        .concat();
        assert_eq!(
            lines(&run(&NotReady, &yaml)),
            ["Deployment/web pod web-h-old: Ready=False (ContainersNotReady: containers with unready status: [web]) for 20m"]
        );
    }

    #[test]
    fn failed_pods_of_long_running_controllers() {
        let yaml = [
            pod("evicted", "Failed", "False", "2026-11-21T11:59:00Z", "web-h"),
            "---\nkind: Pod\nmetadata: {name: job-pod, namespace: ns, ownerReferences: [{kind: Job, name: backup, controller: true}]}\nstatus: {phase: Failed}\n".to_owned(),
        ]
        .concat();
        assert_eq!(
            lines(&run(&NotReady, &yaml)),
            ["ReplicaSet/web-h pod evicted: phase=Failed (Evicted: The node was low on resource: memory.)"]
        );
    }

    #[test]
    fn pods_deleted_within_their_grace_period_are_going_away_on_purpose() {
        let terminating = |name: &str, deletion: &str| {
            pod(name, "Running", "False", "2026-11-21T11:00:00Z", "web-h").replace(
                "metadata: {",
                &format!("metadata: {{deletionTimestamp: '{deletion}', "),
            )
        };
        let yaml = [
            deployment("web", 2, ""),
            terminating("leaving", "2026-11-21T12:00:20Z"),
            terminating("stuck", "2026-11-21T11:30:00Z"),
        ]
        .concat();
        let found = lines(&run(&NotReady, &yaml));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("Deployment/web pod stuck: Ready=False"),
            "{found:?}"
        );
    }

    #[test]
    fn failed_pods_a_controller_has_replaced_are_records_not_problems() {
        let evicted = pod(
            "evicted",
            "Failed",
            "False",
            "2026-11-20T11:59:00Z",
            "web-h",
        );
        let replaced = "---\nkind: Deployment\nmetadata: {name: web, namespace: ns}\nspec: {replicas: 2, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}}}\nstatus: {availableReplicas: 2, readyReplicas: 2}\n---\nkind: ReplicaSet\nmetadata: {name: web-h, namespace: ns, labels: {app: web, pod-template-hash: h}, ownerReferences: [{kind: Deployment, name: web, controller: true}]}\n";
        assert!(run(&NotReady, &(replaced.to_owned() + &evicted)).is_empty());
        let short = replaced.replace("availableReplicas: 2", "availableReplicas: 1");
        assert_eq!(run(&NotReady, &(short + &evicted)).len(), 1);
    }
}
