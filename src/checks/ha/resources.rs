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
           under the openshift profile, in openshift-*, kube-* and default (not openshift-must-gather), a limit on any \
           container, init containers included, is a violation too (a limit on management.workload.openshift.io/cores \
           is allowed), as origin's \"[sig-arch] Managed cluster should set requests but not limits\" checks",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: WORKLOAD_KINDS,
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Deployment", "StatefulSet", "DaemonSet"],
};

impl Check for Resources {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (_, w) in ctx.workloads(ALL_WORKLOADS) {
            let spec = &w.spec.template.spec;
            let no_limits =
                ctx.profile == Profile::Openshift && limits_judged(&w.metadata.namespace);
            for c in spec.running_containers() {
                let mut problems = Vec::new();
                for (res, label) in [("cpu", "CPU"), ("memory", "memory")] {
                    if c.resources.effective_request(res).is_none() {
                        problems.push(format!("no {label} request"));
                    }
                }
                if no_limits {
                    if let Some(l) = limits(c) {
                        problems.push(l);
                    }
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
            // Origin holds init containers to "no limits" too (their
            // requests it does not enforce).
            let run_once = spec
                .init_containers
                .iter()
                .filter(|c| c.restart_policy.as_deref() != Some("Always"));
            for c in run_once.filter(|_| no_limits) {
                if let Some(l) = limits(c) {
                    out.push(workload_finding(&INFO, w, Some(&c.name), l));
                }
            }
        }
    }
}

/// The namespaces origin's "[sig-arch] Managed cluster should set requests
/// but not limits" judges: openshift-*, kube-* and default, except
/// openshift-must-gather.
fn limits_judged(ns: &str) -> bool {
    (platform_namespace(ns) || ns == "default") && ns != "openshift-must-gather"
}

/// The limits a container sets, as a problem; a limit on
/// `management.workload.openshift.io/cores` (workload partitioning) is allowed.
fn limits(c: &crate::model::objects::Container) -> Option<String> {
    let set: Vec<String> = c
        .resources
        .limits
        .iter()
        .filter(|(k, _)| *k != "management.workload.openshift.io/cores")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    (!set.is_empty()).then(|| {
        format!(
            "limits set ({}), the openshift profile wants requests only",
            set.join(", ")
        )
    })
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
    fn openshift_forbids_limits_in_platform_namespaces() {
        let platform = YAML.replace("namespace: ns", "namespace: openshift-x").replace(
            "      - {name: setup}",
            "      - {name: setup, resources: {limits: {memory: 1Gi}}}\n      - {name: partitioned, resources: {limits: {management.workload.openshift.io/cores: 10}}}",
        );
        let found = lines(&run_with(
            &Resources,
            &platform,
            Profile::Openshift,
            TopologyMode::Ha,
        ));
        assert_eq!(
            found[2],
            "StatefulSet/db container limited: limits set (cpu=1, memory=1Gi), the openshift profile wants requests only"
        );
        assert!(found.contains(&"StatefulSet/db container setup: limits set (memory=1Gi), the openshift profile wants requests only".to_owned()), "{found:?}");
        assert!(
            !found.iter().any(|f| f.contains("partitioned")),
            "{found:?}"
        );
        // A user's namespace: limits are the user's business.
        let user = lines(&run_with(
            &Resources,
            YAML,
            Profile::Openshift,
            TopologyMode::Ha,
        ));
        assert!(!user.iter().any(|f| f.contains("limits set")), "{user:?}");
        let must_gather = YAML.replace("namespace: ns", "namespace: openshift-must-gather");
        assert!(!lines(&run_with(
            &Resources,
            &must_gather,
            Profile::Openshift,
            TopologyMode::Ha
        ))
        .iter()
        .any(|f| f.contains("limits set")));
    }
}
