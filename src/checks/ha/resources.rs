//! `ha/resources`: containers request CPU and memory, so the scheduler can
//! place them; the openshift profile also forbids limits.

use crate::checks::*;

pub struct Resources;

static INFO: CheckInfo = CheckInfo {
    id: "ha/resources",
    monitor: Monitor::HaCompliance,
    subject: "containers",
    should: "request CPU and memory",
    rule: "every container and native sidecar (init container with restartPolicy Always) of Deployments, StatefulSets and \
           DaemonSets requests cpu and memory (a limit alone counts: Kubernetes defaults the request to it); \
           under the openshift profile, setting limits is a violation too",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: WORKLOAD_KINDS,
    thresholds: &[],
    cluster_scoped: None,
    needs: &["Deployment", "StatefulSet", "DaemonSet"],
};

impl Check for Resources {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (_, w) in ctx.workloads(ALL_WORKLOADS) {
            for c in w.spec.template.spec.running_containers() {
                let mut problems = Vec::new();
                for (res, label) in [("cpu", "CPU"), ("memory", "memory")] {
                    if c.resources.effective_request(res).is_none() {
                        problems.push(format!("no {label} request"));
                    }
                }
                if ctx.profile == Profile::Openshift && !c.resources.limits.is_empty() {
                    let limits: Vec<String> = c
                        .resources
                        .limits
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    problems.push(format!(
                        "limits set ({}), the openshift profile wants requests only",
                        limits.join(", ")
                    ));
                }
                if !problems.is_empty() {
                    out.push(workload_finding(
                        &INFO,
                        w,
                        Some(&c.name),
                        problems.join("; "),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::model::TopologyMode;

    const YAML: &str = "
kind: StatefulSet
metadata: {name: db, namespace: ns}
spec:
  replicas: 1
  template:
    spec:
      containers:
      - {name: full, resources: {requests: {cpu: 10m, memory: 50Mi}}}
      - {name: cpu-only, resources: {requests: {cpu: 1}}}
      - {name: bare}
      - {name: limited, resources: {requests: {cpu: 10m, memory: 50Mi}, limits: {cpu: 1, memory: 1Gi}}}
      - {name: limits-only, resources: {limits: {cpu: 1, memory: 1Gi}}}
      initContainers:
      - {name: setup}
      - {name: sidecar, restartPolicy: Always, resources: {requests: {cpu: 10m}}}
";

    #[test]
    fn generic_wants_requests() {
        assert_eq!(
            lines(&run(&Resources, YAML)),
            [
                "StatefulSet/db container cpu-only: no memory request",
                "StatefulSet/db container bare: no CPU request; no memory request",
                // A native sidecar runs for the pod's life; a plain init container does not.
                "StatefulSet/db container sidecar: no memory request",
            ]
        );
    }

    #[test]
    fn openshift_forbids_limits() {
        assert_eq!(
            lines(&run_with(&Resources, YAML, Profile::Openshift, TopologyMode::Ha))[2],
            "StatefulSet/db container limited: limits set (cpu=1, memory=1Gi), the openshift profile wants requests only"
        );
    }
}
