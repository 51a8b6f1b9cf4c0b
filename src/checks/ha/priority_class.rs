//! `ha/priority-class`: workload pods set a priority class, so they are not
//! the first evicted under node pressure.

use crate::checks::*;

pub struct PriorityClass;

/// The classes the openshift profile accepts.
pub const OPENSHIFT_CLASSES: &[&str] = &[
    "system-cluster-critical",
    "system-node-critical",
    "openshift-user-critical",
];

static INFO: CheckInfo = CheckInfo {
    id: "ha/priority-class",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "set a priority class",
    rule: "pod templates of Deployments, StatefulSets and DaemonSets set priorityClassName; the openshift profile \
           requires system-cluster-critical, system-node-critical or openshift-user-critical",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: WORKLOAD_KINDS,
    thresholds: &[],
    cluster_scoped: None,
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
            let detail = match (class, ctx.profile) {
                (None, Profile::Generic) => "priorityClassName unset".to_owned(),
                (None, Profile::Openshift) => {
                    format!(
                        "priorityClassName unset, want one of {}",
                        OPENSHIFT_CLASSES.join(", ")
                    )
                }
                (Some(c), Profile::Openshift) if !OPENSHIFT_CLASSES.contains(&c) => {
                    format!(
                        "priorityClassName={c}, want one of {}",
                        OPENSHIFT_CLASSES.join(", ")
                    )
                }
                _ => continue,
            };
            out.push(workload_finding(&INFO, w, None, detail));
        }
    }
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
    fn openshift_wants_a_system_class() {
        assert_eq!(
            lines(&run_with(&PriorityClass, &yaml(), Profile::Openshift, TopologyMode::Ha)),
            [
                "Deployment/none: priorityClassName unset, want one of system-cluster-critical, system-node-critical, openshift-user-critical",
                "Deployment/custom: priorityClassName=high, want one of system-cluster-critical, system-node-critical, openshift-user-critical",
            ]
        );
    }
}
