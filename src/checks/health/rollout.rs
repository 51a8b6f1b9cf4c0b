//! `health/rollout`: rollouts that are stuck, and StatefulSet pods still
//! running an old spec — the OnDelete trap behind a nine-hour CI outage.

use std::collections::BTreeMap;

use super::*;
use crate::checks::{
    workload_finding, Check, Context, Lifecycle, Mode, Monitor, Threshold, ALL_WORKLOADS,
};
use crate::model::objects::{condition, Workload, WorkloadKind};

pub struct Rollout;

static INFO: CheckInfo = CheckInfo {
    id: "health/rollout",
    monitor: Monitor::InfraHealth,
    subject: "workloads",
    should: "be fully rolled out",
    rule: "Deployments: observedGeneration >= generation, not Progressing=False, updated and available replicas = spec, \
           and no old replica left (status.replicas = updatedReplicas); \
           StatefulSets: currentRevision = updateRevision and every pod at updateRevision, or with a partitioned rolling \
           update, updatedReplicas >= replicas - partition and every pod from the partition's ordinal on at updateRevision; \
           DaemonSets: no pod unavailable or not updated; \
           with vigil watch, a Deployment that reported Progressing=False during the run, or a Deployment or StatefulSet \
           short of available replicas for `during-minutes`",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Deployment", "StatefulSet", "DaemonSet"],
    thresholds: &[Threshold {
        name: "during-minutes",
        default: 10,
        help: "with vigil watch: minutes a Deployment or StatefulSet may run short of available replicas during the run",
    }],
    cluster_scoped: None,
    per_object: None,
    needs: &["Deployment", "StatefulSet", "DaemonSet", "Pod"],
};

impl Check for Rollout {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (wi, w) in ctx.workloads(ALL_WORKLOADS) {
            let mut problems = Vec::new();
            generation_lag(w, &mut problems);
            match w.kind {
                WorkloadKind::Deployment => deployment(w, &mut problems),
                WorkloadKind::StatefulSet => statefulset(ctx, wi, w, &mut problems),
                WorkloadKind::DaemonSet => daemonset(w, &mut problems),
            }
            if !problems.is_empty() {
                out.push(workload_finding(&INFO, w, None, problems.join("; ")));
            }
        }
    }
}

fn generation_lag(w: &Workload, problems: &mut Vec<String>) {
    if let (Some(generation), Some(observed)) =
        (w.metadata.generation, w.status.observed_generation)
    {
        if observed < generation {
            problems.push(format!(
                "status.observedGeneration={observed} < metadata.generation={generation}: the controller has not acted on the latest spec"
            ));
        }
    }
}

fn deployment(w: &Workload, problems: &mut Vec<String>) {
    let want = w.replicas().unwrap_or(1);
    if let Some(p) = condition(&w.status.conditions, "Progressing").filter(|c| c.status == "False")
    {
        let mut s = format!(
            "Progressing=False ({}",
            p.reason.as_deref().unwrap_or("no reason")
        );
        if let Some(m) = p.message.as_deref().filter(|m| !m.is_empty()) {
            s.push_str(&format!(": {}", clip(m, 200)));
        }
        s.push(')');
        problems.push(s);
    }
    if !status_present(w) {
        return;
    }
    // A status without the field means zero, as the API server omits zeros.
    let updated = w.status.updated_replicas.unwrap_or(0);
    for (field, have) in [
        ("updatedReplicas", updated),
        (
            "availableReplicas",
            w.status.available_replicas.unwrap_or(0),
        ),
    ] {
        if have < want {
            problems.push(format!("{field}={have} of {want}"));
        }
    }
    // As `kubectl rollout status` waits for it: the old pods are gone too.
    let total = w.status.replicas.unwrap_or(0);
    if updated >= want && total > updated {
        let old = total - updated;
        problems.push(format!(
            "{old} old replica{} still terminating (status.replicas={total}, updatedReplicas={updated})",
            if old == 1 { "" } else { "s" }
        ));
    }
}

/// Whether the object carries a status at all (hand-written states may not).
fn status_present(w: &Workload) -> bool {
    let s = &w.status;
    s.observed_generation.is_some()
        || s.replicas.is_some()
        || !s.conditions.is_empty()
        || s.desired_number_scheduled.is_some()
}

fn statefulset(ctx: &Context, wi: usize, w: &Workload, problems: &mut Vec<String>) {
    let Some(update) = w.status.update_revision.as_deref() else {
        return;
    };
    // A partitioned rolling update moves only the pods with an ordinal at or
    // above the partition; the others keep the old revision by design, and
    // the rollout is complete when updatedReplicas >= replicas - partition
    // (as `kubectl rollout status` judges it).
    let partition = (w.strategy_type() == "RollingUpdate")
        .then(|| w.strategy()?.rolling_update.as_ref()?.partition)
        .flatten()
        .filter(|p| *p > 0);
    if let Some(p) = partition {
        let want = (w.replicas().unwrap_or(1) - p).max(0);
        let updated = w.status.updated_replicas.unwrap_or(0);
        if updated < want {
            problems.push(format!(
                "partitioned rollout (partition={p}): updatedReplicas={updated} of {want}"
            ));
        }
    } else if let Some(current) = w
        .status
        .current_revision
        .as_deref()
        .filter(|c| *c != update)
    {
        problems.push(format!(
            "currentRevision={current} but updateRevision={update}"
        ));
    }
    let mut stale: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &pi in &ctx.cluster.workload_pods[wi] {
        let pod = &ctx.cluster.pods[pi];
        let held_back =
            partition.is_some_and(|p| ordinal(&pod.metadata.name).is_some_and(|o| o < p));
        if let Some(rev) = pod
            .metadata
            .labels
            .get("controller-revision-hash")
            .filter(|r| *r != update && !held_back)
        {
            stale.entry(rev).or_default().push(&pod.metadata.name);
        }
    }
    for (rev, pods) in stale {
        let n = pods.len();
        let how = if w.strategy_type() == "OnDelete" {
            " (updateStrategy OnDelete: they change only when deleted)"
        } else {
            ""
        };
        problems.push(format!(
            "{n} pod{} on stale revision {rev} ({}), want {update}{how}",
            if n == 1 { "" } else { "s" },
            pods.join(", ")
        ));
    }
}

/// A StatefulSet pod's ordinal: the number after its last `-`.
fn ordinal(pod: &str) -> Option<i64> {
    pod.rsplit_once('-')?.1.parse().ok()
}

fn daemonset(w: &Workload, problems: &mut Vec<String>) {
    let s = &w.status;
    let Some(desired) = s.desired_number_scheduled else {
        return;
    };
    if let Some(n) = s.number_unavailable.filter(|n| *n > 0) {
        problems.push(format!("numberUnavailable={n} of {desired}"));
    }
    if let Some(updated) = s.updated_number_scheduled.filter(|u| *u < desired) {
        problems.push(format!("updatedNumberScheduled={updated} of {desired}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    #[test]
    fn stale_statefulset_pods_on_delete() {
        let yaml = "
---
kind: StatefulSet
metadata: {name: broker, namespace: ns, generation: 7}
spec: {replicas: 1, updateStrategy: {type: OnDelete}}
status: {observedGeneration: 7, currentRevision: broker-6d9f, updateRevision: broker-7f4c, replicas: 1}
---
kind: Pod
metadata:
  name: broker-0
  namespace: ns
  labels: {controller-revision-hash: broker-6d9f}
  ownerReferences: [{kind: StatefulSet, name: broker, controller: true}]
";
        assert_eq!(
            lines(&run(&Rollout, yaml)),
            ["StatefulSet/broker: currentRevision=broker-6d9f but updateRevision=broker-7f4c; 1 pod on stale revision broker-6d9f (broker-0), want broker-7f4c (updateStrategy OnDelete: they change only when deleted)"]
        );
    }

    #[test]
    fn deployment_past_its_progress_deadline() {
        let yaml = "
kind: Deployment
metadata: {name: api, namespace: ns, generation: 5}
spec: {replicas: 3}
status:
  observedGeneration: 4
  replicas: 3
  updatedReplicas: 1
  availableReplicas: 3
  conditions:
  - {type: Progressing, status: 'False', reason: ProgressDeadlineExceeded, message: ReplicaSet \"api-7d\" has timed out progressing.}
";
        assert_eq!(
            lines(&run(&Rollout, yaml)),
            ["Deployment/api: status.observedGeneration=4 < metadata.generation=5: the controller has not acted on the latest spec; Progressing=False (ProgressDeadlineExceeded: ReplicaSet \"api-7d\" has timed out progressing.); updatedReplicas=1 of 3"]
        );
    }

    #[test]
    fn healthy_and_statusless_workloads_pass() {
        let yaml = "
---
kind: Deployment
metadata: {name: ok, namespace: ns, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}
---
kind: Deployment
metadata: {name: handwritten, namespace: ns}
spec: {replicas: 2}
---
kind: StatefulSet
metadata: {name: db, namespace: ns}
spec: {replicas: 1}
status: {currentRevision: db-1, updateRevision: db-1}
";
        assert!(run(&Rollout, yaml).is_empty());
    }

    #[test]
    fn daemonset_unavailable_and_not_updated() {
        let yaml = "
kind: DaemonSet
metadata: {name: agent, namespace: ns}
status: {desiredNumberScheduled: 6, numberUnavailable: 2, updatedNumberScheduled: 4, numberAvailable: 4}
";
        assert_eq!(
            lines(&run(&Rollout, yaml)),
            ["DaemonSet/agent: numberUnavailable=2 of 6; updatedNumberScheduled=4 of 6"]
        );
    }

    #[test]
    fn old_replicas_still_terminating_are_not_rolled_out() {
        let yaml = "
kind: Deployment
metadata: {name: api, namespace: ns, generation: 3}
spec: {replicas: 2}
status: {observedGeneration: 3, replicas: 3, updatedReplicas: 2, availableReplicas: 2}
";
        assert_eq!(
            lines(&run(&Rollout, yaml)),
            ["Deployment/api: 1 old replica still terminating (status.replicas=3, updatedReplicas=2)"]
        );
    }

    fn partitioned(updated: i64, pods: &[(&str, &str)]) -> String {
        let mut yaml = format!("
---
kind: StatefulSet
metadata: {{name: db, namespace: ns, generation: 4}}
spec: {{replicas: 3, updateStrategy: {{type: RollingUpdate, rollingUpdate: {{partition: 2}}}}}}
status: {{observedGeneration: 4, replicas: 3, updatedReplicas: {updated}, currentRevision: db-old, updateRevision: db-new}}
");
        for (name, rev) in pods {
            yaml.push_str(&format!("---\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ns\n  labels: {{controller-revision-hash: {rev}}}\n  ownerReferences: [{{kind: StatefulSet, name: db, controller: true}}]\n"));
        }
        yaml
    }

    #[test]
    fn a_partitioned_rollout_is_complete_when_the_pods_past_the_partition_are_updated() {
        // partition 2 of 3: db-2 moves, db-0 and db-1 keep the old revision by design.
        let done = partitioned(
            1,
            &[("db-0", "db-old"), ("db-1", "db-old"), ("db-2", "db-new")],
        );
        assert!(
            run(&Rollout, &done).is_empty(),
            "{:?}",
            lines(&run(&Rollout, &done))
        );
        let waiting = partitioned(
            0,
            &[("db-0", "db-old"), ("db-1", "db-old"), ("db-2", "db-old")],
        );
        assert_eq!(
            lines(&run(&Rollout, &waiting)),
            ["StatefulSet/db: partitioned rollout (partition=2): updatedReplicas=0 of 1; 1 pod on stale revision db-old (db-2), want db-new"]
        );
    }
}
