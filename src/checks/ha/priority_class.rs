//! `ha/priority-class`: workload pods set a priority class, so they are not
//! the first evicted under node pressure.

use crate::checks::*;

pub struct PriorityClass;

static INFO: CheckInfo = CheckInfo {
    id: "ha/priority-class",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "set a priority class",
    rule: "pod templates of Deployments, StatefulSets and DaemonSets set priorityClassName; the openshift profile, \
           in kube-* and openshift-* namespaces (not openshift-marketplace), requires a system-* class or openshift-user-critical, \
           as origin's \"[sig-arch] Managed cluster should ensure platform components have system-* priority class associated\" does",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: WORKLOAD_KINDS,
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Deployment", "StatefulSet", "DaemonSet"],
};

impl Check for PriorityClass {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (_, w) in ctx.workloads(ALL_WORKLOADS) {
            let class = w
                .spec
                .template
                .spec
                .priority_class_name
                .as_deref()
                .filter(|c| !c.is_empty());
            let conventions = ctx.profile == Profile::Openshift && platform(&w.metadata.namespace);
            let detail = match (class, conventions) {
                (None, false) => "priorityClassName unset".to_owned(),
                (None, true) => format!("priorityClassName unset, want {WANTED}"),
                (Some(c), true) if !openshift_class(c) => {
                    format!("priorityClassName={c}, want {WANTED}")
                }
                _ => continue,
            };
            out.push(workload_finding(&INFO, w, None, detail));
        }
    }
}

const WANTED: &str =
    "a system-* class (system-cluster-critical, system-node-critical) or openshift-user-critical";

/// What origin's "[sig-arch] Managed cluster should ensure platform
/// components have system-* priority class associated" accepts.
fn openshift_class(c: &str) -> bool {
    c.starts_with("system-") || c.eq_ignore_ascii_case("openshift-user-critical")
}

/// The namespaces that test judges: kube-* and openshift-*, except
/// openshift-marketplace (catalog pods, not platform components). Elsewhere
/// under the openshift profile the generic rule applies: a user workload
/// must not claim a platform class.
fn platform(ns: &str) -> bool {
    platform_namespace(ns) && ns != "openshift-marketplace"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::model::TopologyMode;

    fn yaml() -> String {
        [
            deployment("none", 1, ""),
            deployment("custom", 1, "      priorityClassName: high"),
            deployment(
                "system",
                1,
                "      priorityClassName: system-cluster-critical",
            ),
        ]
        .concat()
    }

    #[test]
    fn generic_wants_any_class() {
        assert_eq!(
            lines(&run(&PriorityClass, &yaml())),
            ["Deployment/none: priorityClassName unset"]
        );
    }

    #[test]
    fn openshift_wants_a_system_class_in_platform_namespaces() {
        let platform = yaml().replace("namespace: ns", "namespace: openshift-x")
            + &deployment("node", 1, "      priorityClassName: system-node-critical")
                .replace("namespace: ns", "namespace: kube-x")
            + &deployment(
                "user",
                1,
                "      priorityClassName: Openshift-User-Critical",
            )
            .replace("namespace: ns", "namespace: openshift-x");
        assert_eq!(
            lines(&run_with(&PriorityClass, &platform, Profile::Openshift, TopologyMode::Ha)),
            [
                "Deployment/none: priorityClassName unset, want a system-* class (system-cluster-critical, system-node-critical) or openshift-user-critical",
                "Deployment/custom: priorityClassName=high, want a system-* class (system-cluster-critical, system-node-critical) or openshift-user-critical",
            ]
        );
        // A user's namespace keeps the generic rule: any class, set.
        assert_eq!(
            lines(&run_with(
                &PriorityClass,
                &yaml(),
                Profile::Openshift,
                TopologyMode::Ha
            )),
            ["Deployment/none: priorityClassName unset"]
        );
        let marketplace = yaml().replace("namespace: ns", "namespace: openshift-marketplace");
        assert_eq!(
            lines(&run_with(
                &PriorityClass,
                &marketplace,
                Profile::Openshift,
                TopologyMode::Ha
            )),
            ["Deployment/none: priorityClassName unset"]
        );
    }
}
