//! `ha/probes`: every container of a workload has readiness and liveness probes.

use crate::checks::*;

pub struct Probes;

static INFO: CheckInfo = CheckInfo {
    id: "ha/probes",
    monitor: Monitor::HaCompliance,
    subject: "containers",
    should: "have readiness and liveness probes",
    rule: "every container and native sidecar (init container with restartPolicy Always) of Deployments, StatefulSets and DaemonSets has a readinessProbe and a livenessProbe",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: WORKLOAD_KINDS,
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Deployment", "StatefulSet", "DaemonSet"],
};

impl Check for Probes {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (_, w) in ctx.workloads(ALL_WORKLOADS) {
            for c in w.spec.template.spec.running_containers() {
                let missing: Vec<&str> = [
                    (!c.readiness_probe).then_some("readinessProbe"),
                    (!c.liveness_probe).then_some("livenessProbe"),
                ]
                .into_iter()
                .flatten()
                .collect();
                if !missing.is_empty() {
                    let detail = format!("no {}", missing.join(", no "));
                    out.push(workload_finding(&INFO, w, Some(&c.name), detail));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    #[test]
    fn each_missing_probe_is_named_per_container() {
        let yaml = "
kind: DaemonSet
metadata: {name: agent, namespace: ns}
spec:
  template:
    spec:
      initContainers:
      - {name: setup}
      - {name: proxy, restartPolicy: Always, readinessProbe: {httpGet: {port: 1}}}
      containers:
      - {name: both, readinessProbe: {httpGet: {port: 1}}, livenessProbe: {httpGet: {port: 1}}}
      - {name: ready-only, readinessProbe: {exec: {command: [x]}}}
      - {name: live-only, livenessProbe: {tcpSocket: {port: 1}}}
      - {name: none}
";
        assert_eq!(
            lines(&run(&Probes, yaml)),
            [
                "DaemonSet/agent container ready-only: no livenessProbe",
                "DaemonSet/agent container live-only: no readinessProbe",
                "DaemonSet/agent container none: no readinessProbe, no livenessProbe",
                // A native sidecar runs for the pod's life; a plain init container does not.
                "DaemonSet/agent container proxy: no livenessProbe",
            ]
        );
    }

    #[test]
    fn scaled_to_zero_passes() {
        assert!(run(&Probes, &deployment("idle", 0, "")).is_empty());
        assert_eq!(run(&Probes, &deployment("busy", 1, "")).len(), 1);
    }
}
