//! `ha/tolerations`: OpenShift's conventions on tolerations (enhancements
//! CONVENTIONS.md, "Taints and Tolerations"), where origin's "[sig-arch]
//! Managed cluster should ensure control plane operators do not make
//! themselves unevictable" enforces part of them. For the pods of
//! Deployments and StatefulSets in `kube-*` and `openshift-*` namespaces
//! (DaemonSets are exempt: the DaemonSet controller adds the node-condition
//! and unschedulable tolerations to every daemon pod itself):
//!
//! - never `node.kubernetes.io/unschedulable` (a drain could not move it);
//! - tolerating every taint is for DaemonSets and static pods only;
//! - the not-ready and unreachable `NoExecute` taints only with a
//!   `tolerationSeconds` bound (origin's test), else the pod never leaves a
//!   failed node;
//! - a `NoSchedule` toleration of a node-condition taint (not-ready,
//!   unreachable, network-unavailable, memory-, disk- or pid-pressure) only
//!   "if doing so is necessary to form a functional Kubernetes node", with an
//!   explicit justification: in vigil, an `allow` exception that says it.
//!   memory-pressure is exempt for pods that are not BestEffort: the API
//!   server adds that toleration to them anyway.
//!
//! Each offending toleration is its own finding, so an exception can allow
//! one (its `finding:` glob) without hiding another.

use crate::checks::*;
use crate::model::objects::{PodSpec, Toleration, WorkloadKind};

pub struct Tolerations;

static INFO: CheckInfo = CheckInfo {
    id: "ha/tolerations",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "tolerate only the taints their role allows",
    rule: "OpenShift convention, under --profile openshift, for Deployments and StatefulSets in kube-* and openshift-* \
           namespaces: no toleration of node.kubernetes.io/unschedulable; no toleration of every taint (DaemonSets and \
           static pods only); not-ready and unreachable NoExecute tolerations carry tolerationSeconds (origin's \"control plane \
           operators do not make themselves unevictable\"); NoSchedule tolerations of node-condition taints (not-ready, \
           unreachable, network-unavailable, memory-, disk-, pid-pressure) need a justification, given as an allow exception \
           (memory-pressure is exempt for pods that are not BestEffort: the API server adds it to them)",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: WORKLOAD_KINDS,
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Deployment", "StatefulSet", "DaemonSet"],
};

const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// Taints the node lifecycle controller sets on a failing node.
const CONDITION_TAINTS: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/network-unavailable",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
];

/// The two a pod is evicted for (after `tolerationSeconds`, 300 s by the
/// DefaultTolerationSeconds admission plugin).
const EVICTING_TAINTS: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];

fn describe(t: &Toleration) -> String {
    let mut s = t.key.as_deref().unwrap_or("").to_owned();
    if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        s.push(':');
        s.push_str(e);
    }
    s
}

/// A pod with no request or limit in any container is BestEffort.
fn best_effort(spec: &PodSpec) -> bool {
    spec.containers
        .iter()
        .chain(&spec.init_containers)
        .all(|c| {
            ["cpu", "memory"].iter().all(|r| {
                c.resources.requests.get(r).is_none() && c.resources.limits.get(r).is_none()
            })
        })
}

/// What is wrong with one toleration of a Deployment's or StatefulSet's
/// pods, if anything.
fn problem(t: &Toleration, spec: &PodSpec) -> Option<String> {
    let key = t.key.as_deref().unwrap_or("");
    let effect = t.effect.as_deref().unwrap_or("");
    let exists = t.operator.as_deref() == Some("Exists");
    if key.is_empty() && exists {
        let what = if effect.is_empty() {
            "every taint".to_owned()
        } else {
            format!("every {effect} taint")
        };
        return Some(format!(
            "tolerates {what} (operator Exists without a key): only DaemonSets and static pods may, a drain cannot move it"
        ));
    }
    if key == UNSCHEDULABLE {
        return Some(format!(
            "tolerates {}: a drain may put its pod back on the node being drained; the conventions say never",
            describe(t)
        ));
    }
    if !CONDITION_TAINTS.contains(&key) {
        return None;
    }
    if EVICTING_TAINTS.contains(&key)
        && (effect.is_empty() || effect == "NoExecute")
        && t.toleration_seconds.is_none()
    {
        return Some(format!(
            "tolerates {key}:NoExecute with no tolerationSeconds: its pods stay on a failed node forever instead of moving"
        ));
    }
    let no_schedule = effect.is_empty() || effect == "NoSchedule";
    let added_anyway = key == "node.kubernetes.io/memory-pressure" && !best_effort(spec);
    (no_schedule && !added_anyway).then(|| {
        format!(
            "tolerates {key}:NoSchedule: new pods may be scheduled onto a failing node; the conventions allow it only when needed to form a functional node, with a justification (an allow exception)"
        )
    })
}

impl Check for Tolerations {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn not_applicable(&self, ctx: &Context) -> Option<String> {
        openshift_only(ctx)
    }

    fn not_applicable_in(&self, _ctx: &Context, ns: &str) -> Option<String> {
        (!platform_namespace(ns)).then(|| {
            "not applicable: OpenShift's toleration conventions are for its own components (kube-* and openshift-* namespaces, as origin checks them)".to_owned()
        })
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (_, w) in ctx.workloads(ALL_WORKLOADS) {
            if w.kind == WorkloadKind::DaemonSet || !platform_namespace(&w.metadata.namespace) {
                continue;
            }
            let spec = &w.spec.template.spec;
            let mut seen = Vec::new();
            for detail in spec.tolerations.iter().filter_map(|t| problem(t, spec)) {
                if !seen.contains(&detail) {
                    seen.push(detail.clone());
                    out.push(workload_finding(&INFO, w, None, detail));
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

    fn with(kind: &str, tolerations: &str) -> String {
        in_ns(
            "openshift-x",
            kind,
            tolerations,
            "{name: c, resources: {requests: {cpu: 10m, memory: 50Mi}}}",
        )
    }

    fn in_ns(ns: &str, kind: &str, tolerations: &str, container: &str) -> String {
        format!(
            "---\nkind: {kind}\nmetadata: {{name: w, namespace: {ns}}}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers: [{container}]\n      tolerations: {tolerations}\n"
        )
    }

    fn judge(yaml: &str) -> Vec<String> {
        lines(&run_with(
            &Tolerations,
            yaml,
            Profile::Openshift,
            TopologyMode::Ha,
        ))
    }

    #[test]
    fn each_rule() {
        assert_eq!(
            judge(&with("Deployment", "[{key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoSchedule}]")),
            ["Deployment/w: tolerates node.kubernetes.io/unschedulable:NoSchedule: a drain may put its pod back on the node being drained; the conventions say never"]
        );
        assert_eq!(
            judge(&with("StatefulSet", "[{operator: Exists}]")),
            ["StatefulSet/w: tolerates every taint (operator Exists without a key): only DaemonSets and static pods may, a drain cannot move it"]
        );
        assert_eq!(
            judge(&with("Deployment", "[{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}, {key: node.kubernetes.io/disk-pressure, operator: Exists, effect: NoSchedule}]")),
            [
                "Deployment/w: tolerates node.kubernetes.io/not-ready:NoExecute with no tolerationSeconds: its pods stay on a failed node forever instead of moving",
                "Deployment/w: tolerates node.kubernetes.io/disk-pressure:NoSchedule: new pods may be scheduled onto a failing node; the conventions allow it only when needed to form a functional node, with a justification (an allow exception)",
            ],
            "one finding per toleration, so an exception can allow one alone"
        );
        assert_eq!(
            judge(&with("Deployment", "[{key: node.kubernetes.io/network-unavailable, operator: Exists, effect: NoSchedule}]")).len(),
            1
        );
        // Bounded, as OpenShift's operators do to move sooner than the default.
        assert!(judge(&with("Deployment", "[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 120}]")).is_empty());
        // The master taint is what the conventions ask operators to tolerate.
        assert!(judge(&with(
            "Deployment",
            "[{key: node-role.kubernetes.io/master, operator: Exists, effect: NoSchedule}]"
        ))
        .is_empty());
    }

    #[test]
    fn daemonsets_are_exempt_the_controller_adds_these_itself() {
        for t in [
            "[{operator: Exists}]",
            "[{key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoSchedule}]",
            "[{key: node.kubernetes.io/not-ready, operator: Exists}]",
        ] {
            assert!(judge(&with("DaemonSet", t)).is_empty(), "{t}");
        }
    }

    #[test]
    fn memory_pressure_is_what_the_api_server_adds_to_pods_that_are_not_best_effort() {
        let t = "[{key: node.kubernetes.io/memory-pressure, operator: Exists, effect: NoSchedule}]";
        assert!(judge(&with("Deployment", t)).is_empty());
        // A BestEffort pod does not get it: then it is a choice to justify.
        assert_eq!(
            judge(&in_ns("openshift-x", "Deployment", t, "{name: c}")).len(),
            1
        );
    }

    #[test]
    fn only_platform_namespaces_as_origin_checks_them() {
        let yaml = in_ns("team-a", "Deployment", "[{operator: Exists}]", "{name: c}");
        assert!(judge(&yaml).is_empty());
        let c = cluster(&yaml);
        let topology = crate::model::Topology::resolve(TopologyMode::Ha, &c);
        let thresholds = |_: &'static str, _: &'static str| 0;
        let ctx = Context {
            cluster: &c,
            now: now(),
            topology: &topology,
            profile: Profile::Openshift,
            thresholds: &thresholds,
            allowances: &crate::checks::NO_ALLOWANCES,
            owners: Default::default(),
        };
        assert!(Tolerations
            .not_applicable_in(&ctx, "team-a")
            .unwrap()
            .contains("kube-* and openshift-*"));
        assert!(Tolerations.not_applicable_in(&ctx, "kube-system").is_none());
        assert!(Tolerations
            .not_applicable_in(&ctx, "openshift-etcd")
            .is_none());
    }

    #[test]
    fn only_under_the_openshift_profile() {
        let ctx_yaml = with("Deployment", "[{operator: Exists}]");
        let c = cluster(&ctx_yaml);
        let topology = crate::model::Topology::resolve(TopologyMode::Ha, &c);
        let thresholds = |_: &'static str, _: &'static str| 0;
        let ctx = Context {
            cluster: &c,
            now: now(),
            topology: &topology,
            profile: Profile::Generic,
            thresholds: &thresholds,
            allowances: &crate::checks::NO_ALLOWANCES,
            owners: Default::default(),
        };
        assert!(Tolerations
            .not_applicable(&ctx)
            .unwrap()
            .contains("--profile openshift"));
    }
}
