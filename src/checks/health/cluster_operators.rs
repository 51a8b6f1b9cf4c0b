//! `health/cluster-operators`: OpenShift's operators report their own
//! health in ClusterOperator conditions; origin's monitor tests read them
//! during and after every run. One test per operator, tagged with the
//! component that owns it (owners.yaml's `operators:`, generated from
//! ci-test-mapping), so a Degraded kube-apiserver is the kube-apiserver
//! team's red test even when no pod crash-loops.

use super::*;
use crate::checks::{openshift_only, Check, Context, Lifecycle, Mode, Monitor, Threshold};
use crate::model::objects::{condition, Condition};
use crate::model::time::{age, human};

pub struct ClusterOperators;

static INFO: CheckInfo = CheckInfo {
    id: "health/cluster-operators",
    monitor: Monitor::InfraHealth,
    subject: "clusteroperators",
    should: "be available and not degraded",
    rule: "OpenShift, under --profile openshift, one test per ClusterOperator: Available=False (or no Available condition) \
           and Degraded=True fail, naming the condition's reason, message and since when; Progressing=True for longer \
           than `progressing-minutes` flakes; Upgradeable=False is not judged (it only holds back the next update). With vigil watch, \
           as origin's monitor judges a run: any moment of Available=False during it fails, Degraded for `during-minutes` fails",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["ClusterOperator"],
    thresholds: &[
        Threshold {
            name: "progressing-minutes",
            default: 30,
            help: "how long an operator may report Progressing=True before its test flakes",
        },
        Threshold {
            name: "during-minutes",
            default: 5,
            help: "with vigil watch: minutes an operator may be Degraded during the run (any Available=False fails)",
        },
    ],
    cluster_scoped: None,
    per_object: Some("clusteroperator"),
    needs: &["ClusterOperator"],
};

/// `Degraded=True (Reason: message) for 2h`.
pub fn describe(c: &Condition, now: chrono::DateTime<chrono::Utc>) -> String {
    let mut s = format!("{}={}", c.type_, c.status);
    if let Some(r) = c.reason.as_deref().filter(|r| !r.is_empty()) {
        s.push_str(&format!(" ({r}"));
        if let Some(m) = c.message.as_deref().filter(|m| !m.is_empty()) {
            s.push_str(&format!(": {}", clip(m, 240)));
        }
        s.push(')');
    } else if let Some(m) = c.message.as_deref().filter(|m| !m.is_empty()) {
        s.push_str(&format!(" ({})", clip(m, 240)));
    }
    match age(c.last_transition_time.as_deref(), now) {
        Some(a) => s.push_str(&format!(" for {}", human(a))),
        None => s.push_str(" since an unknown time"),
    }
    s
}

impl Check for ClusterOperators {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn not_applicable(&self, ctx: &Context) -> Option<String> {
        openshift_only(ctx)
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let limit = chrono::Duration::minutes((ctx.thresholds)(INFO.id, "progressing-minutes"));
        for co in &ctx.cluster.cluster_operators {
            let conds = &co.status.conditions;
            let name = co.metadata.name.as_str();
            let mut push = |detail: String, severity| {
                out.push(Finding::object_level(
                    INFO.id,
                    "",
                    "ClusterOperator",
                    name,
                    detail,
                    severity,
                ))
            };
            match condition(conds, "Available") {
                Some(c) if c.status != "True" => push(describe(c, ctx.now), Severity::Fail),
                None => push("reports no Available condition".to_owned(), Severity::Fail),
                _ => {}
            }
            if let Some(c) = condition(conds, "Degraded").filter(|c| c.status == "True") {
                push(describe(c, ctx.now), Severity::Fail);
            }
            if let Some(c) = condition(conds, "Progressing").filter(|c| c.status == "True") {
                if age(c.last_transition_time.as_deref(), ctx.now).is_none_or(|a| a > limit) {
                    push(describe(c, ctx.now), Severity::Flake);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::checks::Profile;
    use crate::model::TopologyMode;

    fn co(name: &str, conditions: &str) -> String {
        format!("---\napiVersion: config.openshift.io/v1\nkind: ClusterOperator\nmetadata: {{name: {name}}}\nstatus:\n  conditions: {conditions}\n")
    }

    #[test]
    fn unavailable_or_degraded_fail_long_progressing_flakes() {
        // NOW is 2026-11-21T12:00:00Z.
        let yaml = [
            co("healthy", "[{type: Available, status: 'True'}, {type: Degraded, status: 'False'}, {type: Progressing, status: 'False'}, {type: Upgradeable, status: 'False'}]"),
            co("kube-apiserver", "[{type: Available, status: 'True'}, {type: Degraded, status: 'True', reason: NodeInstaller_InstallerPodFailed, message: 'installer pod failed', lastTransitionTime: '2026-11-21T10:00:00Z'}]"),
            co("dns", "[{type: Available, status: 'False', reason: DNSUnavailable, message: 'No DNS pods are available.', lastTransitionTime: '2026-11-21T11:30:00Z'}]"),
            co("network", "[{type: Available, status: 'True'}, {type: Progressing, status: 'True', reason: Deploying, message: 'DaemonSet is rolling out', lastTransitionTime: '2026-11-21T11:00:00Z'}]"),
            co("ingress", "[{type: Available, status: 'True'}, {type: Progressing, status: 'True', lastTransitionTime: '2026-11-21T11:50:00Z'}]"),
            co("empty", "[]"),
        ]
        .concat();
        let found = run_with(
            &ClusterOperators,
            &yaml,
            Profile::Openshift,
            TopologyMode::Ha,
        );
        assert_eq!(
            lines(&found),
            [
                "ClusterOperator/kube-apiserver: Degraded=True (NodeInstaller_InstallerPodFailed: installer pod failed) for 2h",
                "ClusterOperator/dns: Available=False (DNSUnavailable: No DNS pods are available.) for 30m",
                "ClusterOperator/network: Progressing=True (Deploying: DaemonSet is rolling out) for 1h",
                "ClusterOperator/empty: reports no Available condition",
            ]
        );
        assert_eq!(found[2].severity, Severity::Flake);
        assert_eq!(found[0].severity, Severity::Fail);
    }
}
