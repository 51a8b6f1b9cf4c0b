//! `health/not-ready`: running workload pods that stay unready, and
//! controller-owned pods that failed.

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor, Threshold};
use crate::model::objects::condition;
use crate::model::time::{age, human};

pub struct NotReady;

/// Owners whose failed pods are a problem (a Job's failed pods are retries;
/// a static pod's owner is its Node).
const LONG_RUNNING_OWNERS: &[&str] = &[
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "ReplicationController",
    "Node",
];

/// Owners whose running pods are not meant to stay ready: a Job's pod runs
/// to completion, and one whose sidecar has finished reads Ready=False.
const RUN_TO_COMPLETION: &[&str] = &["Job"];

static INFO: CheckInfo = CheckInfo {
    id: "health/not-ready",
    monitor: Monitor::InfraHealth,
    subject: "pods",
    should: "be ready",
    rule: "a Running pod has not had Ready=False for longer than `minutes`, whatever owns it (a workload, a \
           DeploymentConfig's ReplicationController, a Node for static pods, or nothing), except a Job's; pods being deleted \
           within their grace period are going away on purpose; no pod owned by a ReplicaSet, StatefulSet, DaemonSet, \
           ReplicationController or Node is in phase Failed while its workload is short of available replicas",
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
    per_object: None,
    // The workloads only name a pod's owner and say whether it was
    // replaced: without them the pods are still judged.
    needs: &["Pod"],
};

impl Check for NotReady {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let limit = chrono::Duration::minutes((ctx.thresholds)(INFO.id, "minutes"));
        let c = ctx.cluster;
        let mut ready_owners = None;
        for (pi, pod) in c.pods.iter().enumerate() {
            match pod.status.phase.as_str() {
                "Running"
                    if !pod
                        .metadata
                        .controller()
                        .is_some_and(|o| RUN_TO_COMPLETION.contains(&o.kind.as_str())) =>
                {
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
                    let replaced = match c.pod_owner[pi] {
                        Some(wi) => c.workloads[wi].fully_available(),
                        // Its workload is not in the input (a pods-only dump,
                        // a DeploymentConfig): replaced when a sibling runs ready.
                        None => pod.metadata.controller().is_some_and(|o| {
                            ready_owners
                                .get_or_insert_with(|| ready_owners_of(c))
                                .contains(&(
                                    pod.metadata.namespace.as_str(),
                                    o.kind.as_str(),
                                    o.name.as_str(),
                                ))
                        }),
                    };
                    if replaced {
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

/// The controllers (namespace, kind, name) with a pod that runs and is ready.
fn ready_owners_of(c: &crate::model::Cluster) -> std::collections::HashSet<(&str, &str, &str)> {
    c.pods
        .iter()
        .filter(|p| {
            p.status.phase == "Running"
                && condition(&p.status.conditions, "Ready").is_some_and(|r| r.status == "True")
        })
        .filter_map(|p| {
            let o = p.metadata.controller()?;
            Some((
                p.metadata.namespace.as_str(),
                o.kind.as_str(),
                o.name.as_str(),
            ))
        })
        .collect()
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
            [
                "Deployment/web pod web-h-old: Ready=False (ContainersNotReady: containers with unready status: [web]) for 20m",
                // A ReplicaSet vigil does not hold is still an owner: named as found.
                "ReplicaSet/not-a-workload pod loose: Ready=False (ContainersNotReady: containers with unready status: [web]) for 2h",
            ]
        );
    }

    #[test]
    fn pods_no_judged_workload_owns_are_judged_too() {
        let unready = |name: &str, owner: &str| {
            format!(
                "---\nkind: Pod\nmetadata: {{name: {name}, namespace: ns{owner}}}\nstatus:\n  phase: Running\n  conditions: [{{type: Ready, status: 'False', lastTransitionTime: '2026-11-21T10:00:00Z'}}]\n"
            )
        };
        let yaml = [
            // A static pod (kube-apiserver, etcd): its owner is the Node.
            unready(
                "kube-apiserver-master-0",
                ", ownerReferences: [{kind: Node, name: master-0, controller: true}]",
            ),
            // A DeploymentConfig's pod, through its ReplicationController.
            unready(
                "api-1-x7k2p",
                ", ownerReferences: [{kind: ReplicationController, name: api-1, controller: true}]",
            ),
            // A pod from a plain `kubectl get pods -A` dump, or a bare pod.
            unready("bare", ""),
            // A Job's pod runs to completion: not judged for readiness.
            unready(
                "migrate-x1",
                ", ownerReferences: [{kind: Job, name: migrate, controller: true}]",
            ),
        ]
        .concat();
        assert_eq!(
            lines(&run(&NotReady, &yaml)),
            [
                "Node/master-0 pod kube-apiserver-master-0: Ready=False for 2h",
                "ReplicationController/api-1 pod api-1-x7k2p: Ready=False for 2h",
                "Pod/bare: Ready=False for 2h",
            ]
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

    #[test]
    fn a_failed_pod_without_its_workload_in_the_input_counts_unless_a_sibling_replaced_it() {
        let pod = |name: &str, phase: &str, ready: &str, rs: &str| {
            format!(
                "---\nkind: Pod\nmetadata: {{name: {name}, namespace: ns, ownerReferences: [{{kind: ReplicaSet, name: {rs}, controller: true}}]}}\nstatus:\n  phase: {phase}\n  reason: Evicted\n  conditions: [{{type: Ready, status: '{ready}', lastTransitionTime: '2026-11-21T11:59:00Z'}}]\n"
            )
        };
        let yaml = [
            pod("web-a-1", "Failed", "False", "web-a"),
            pod("web-a-2", "Running", "True", "web-a"),
            pod("db-b-1", "Failed", "False", "db-b"),
        ]
        .concat();
        assert_eq!(
            lines(&run(&NotReady, &yaml)),
            ["ReplicaSet/db-b pod db-b-1: phase=Failed (Evicted)"]
        );
    }
}
