//! `health/namespaces`: a namespace being deleted finishes. One stuck in
//! Terminating (a finalizer nobody removes, an aggregated API that is down,
//! a resource that cannot be deleted) blocks re-creating it and often says
//! that something else is broken. Its objects are going away on purpose:
//! the other checks do not judge them (their tests there are skipped,
//! saying so).

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor, Threshold};
use crate::model::time::{age, human};

pub struct Namespaces;

static INFO: CheckInfo = CheckInfo {
    id: "health/namespaces",
    monitor: Monitor::InfraHealth,
    subject: "namespace",
    should: "not be stuck terminating",
    rule: "a namespace being deleted (deletionTimestamp set, phase Terminating) is gone within `minutes`; the \
           namespace controller's conditions say what it waits for (content or finalizers remaining, a discovery \
           failure). The objects of a namespace being deleted are not judged by the other checks",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Namespace"],
    thresholds: &[Threshold {
        name: "minutes",
        default: 10,
        help: "how long a namespace may take to be deleted",
    }],
    cluster_scoped: None,
    per_object: None,
    needs: &["Namespace"],
};

/// Why the namespace controller cannot finish, from its conditions.
fn waiting_for(ns: &crate::model::objects::Namespace) -> Vec<String> {
    ns.status
        .conditions
        .iter()
        .filter(|c| c.status == "True")
        .map(|c| {
            let mut s = c.type_.to_string();
            if let Some(m) = c.message.as_deref().filter(|m| !m.is_empty()) {
                s.push_str(": ");
                s.push_str(&clip(m, 200));
            }
            s
        })
        .collect()
}

impl Check for Namespaces {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let limit = chrono::Duration::minutes((ctx.thresholds)(INFO.id, "minutes"));
        for (name, ns) in &ctx.cluster.terminating {
            let since = age(ns.metadata.deletion_timestamp.as_deref(), ctx.now);
            if since.is_some_and(|a| a <= limit) {
                continue;
            }
            let mut detail = match since {
                Some(a) => format!("Terminating for {}", human(a)),
                None => "Terminating since an unknown time".to_owned(),
            };
            let why = waiting_for(ns);
            if !why.is_empty() {
                detail.push_str(&format!(" ({})", why.join("; ")));
            }
            out.push(Finding::object_level(
                INFO.id,
                name,
                "Namespace",
                name,
                detail,
                Severity::Fail,
            ));
        }
    }
}

/// Why a check's test in namespace `ns` is not judged: the namespace is
/// being deleted. `None` for this check itself, and for live namespaces.
pub fn being_deleted(c: &crate::model::Cluster, check: &str, ns: &str) -> Option<String> {
    if check == INFO.id {
        return None;
    }
    let n = c.terminating.get(ns)?;
    Some(match n.metadata.deletion_timestamp.as_deref() {
        Some(t) => format!(
            "not judged: the namespace is being deleted (since {t}); its objects are going away"
        ),
        None => "not judged: the namespace is being deleted; its objects are going away".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    #[test]
    fn a_namespace_terminating_past_the_limit_fails_with_what_it_waits_for() {
        // NOW is 2026-11-21T12:00:00Z.
        let yaml = "
---
kind: Namespace
metadata: {name: stuck, deletionTimestamp: '2026-11-21T09:00:00Z'}
status:
  phase: Terminating
  conditions:
  - {type: NamespaceContentRemaining, status: 'True', message: 'Some resources are remaining: pods. has 1 resource instances'}
  - {type: NamespaceDeletionDiscoveryFailure, status: 'False'}
  - {type: NamespaceFinalizersRemaining, status: 'True', message: 'Some content in the namespace has finalizers remaining: example.com/cleanup in 1 resource instances'}
---
kind: Namespace
metadata: {name: going, deletionTimestamp: '2026-11-21T11:58:00Z'}
status: {phase: Terminating}
---
kind: Namespace
metadata: {name: live}
status: {phase: Active}
";
        assert_eq!(
            lines(&run(&Namespaces, yaml)),
            ["Namespace/stuck: Terminating for 3h (NamespaceContentRemaining: Some resources are remaining: pods. has 1 resource instances; NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: example.com/cleanup in 1 resource instances)"]
        );
        let c = cluster(yaml);
        assert!(being_deleted(&c, "ha/replicas", "going")
            .unwrap()
            .contains("being deleted"));
        assert!(being_deleted(&c, "ha/replicas", "live").is_none());
        assert!(
            being_deleted(&c, INFO.id, "stuck").is_none(),
            "judged by this check"
        );
    }
}
