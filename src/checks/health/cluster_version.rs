//! `health/cluster-version`: the ClusterVersion says whether the cluster
//! runs the release it should: an update that fails, or that has been
//! progressing for longer than an update takes, is a broken cluster for
//! every test that runs on it.

use super::cluster_operators::describe;
use super::*;
use crate::checks::{openshift_only, Check, Context, Lifecycle, Mode, Monitor, Threshold};
use crate::model::objects::condition;
use crate::model::time::{age, human};

pub struct ClusterVersion;

static INFO: CheckInfo = CheckInfo {
    id: "health/cluster-version",
    monitor: Monitor::InfraHealth,
    subject: "clusterversion",
    should: "run its release without failing",
    rule: "OpenShift, under --profile openshift, the ClusterVersion: Failing=True and Available=False fail; an update \
           (Progressing=True, the newest history entry Partial) running for longer than `update-minutes` fails, naming \
           the target version and the message",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["ClusterVersion"],
    thresholds: &[Threshold {
        name: "update-minutes",
        default: 120,
        help: "how long an update may progress before the test fails",
    }],
    cluster_scoped: Some("Cluster Version Operator"),
    per_object: Some("clusterversion"),
    needs: &["ClusterVersion"],
};

impl Check for ClusterVersion {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn not_applicable(&self, ctx: &Context) -> Option<String> {
        openshift_only(ctx)
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let Some(cv) = ctx.cluster.cluster_version.as_deref() else {
            return;
        };
        let limit = chrono::Duration::minutes((ctx.thresholds)(INFO.id, "update-minutes"));
        let name = cv.metadata.name.as_str();
        let conds = &cv.status.conditions;
        let mut push = |detail: String| {
            out.push(Finding::object_level(
                INFO.id,
                "",
                "ClusterVersion",
                name,
                detail,
                Severity::Fail,
            ))
        };
        if let Some(c) = condition(conds, "Failing").filter(|c| c.status == "True") {
            push(describe(c, ctx.now));
        }
        if let Some(c) = condition(conds, "Available").filter(|c| c.status != "True") {
            push(describe(c, ctx.now));
        }
        let updating = condition(conds, "Progressing").filter(|c| c.status == "True");
        let newest = cv.status.history.first().filter(|h| h.state == "Partial");
        if let (Some(c), Some(h)) = (updating, newest) {
            let since = age(h.started_time.as_deref(), ctx.now);
            if since.is_some_and(|a| a > limit) {
                let target = h
                    .version
                    .as_deref()
                    .or(cv
                        .status
                        .desired
                        .as_ref()
                        .and_then(|d| d.version.as_deref()))
                    .unwrap_or("an unnamed release");
                push(format!(
                    "the update to {target} has been progressing for {} (Progressing: {})",
                    since.map(human).unwrap_or_default(),
                    clip(c.message.as_deref().unwrap_or("no message"), 240)
                ));
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

    fn cv(conditions: &str, history: &str) -> String {
        format!("---\napiVersion: config.openshift.io/v1\nkind: ClusterVersion\nmetadata: {{name: version}}\nstatus:\n  desired: {{version: 4.9.1}}\n  conditions: {conditions}\n  history: {history}\n")
    }

    #[test]
    fn failing_and_long_updates_fail() {
        // NOW is 2026-11-21T12:00:00Z.
        let judge = |y: &str| {
            lines(&run_with(
                &ClusterVersion,
                y,
                Profile::Openshift,
                TopologyMode::Ha,
            ))
        };
        let done = "[{state: Completed, version: 4.9.0, startedTime: '2026-11-20T09:00:00Z'}]";
        assert!(judge(&cv("[{type: Available, status: 'True'}, {type: Failing, status: 'False'}, {type: Progressing, status: 'False'}]", done)).is_empty());
        assert_eq!(
            judge(&cv("[{type: Available, status: 'True'}, {type: Failing, status: 'True', reason: ClusterOperatorDegraded, message: 'Cluster operator kube-apiserver is degraded', lastTransitionTime: '2026-11-21T11:00:00Z'}]", done)),
            ["ClusterVersion/version: Failing=True (ClusterOperatorDegraded: Cluster operator kube-apiserver is degraded) for 1h"]
        );
        let partial = |started: &str| {
            format!("[{{state: Partial, version: 4.9.1, startedTime: '{started}'}}, {{state: Completed, version: 4.9.0}}]")
        };
        let progressing = "[{type: Available, status: 'True'}, {type: Progressing, status: 'True', message: 'Working towards 4.9.1: 512 of 734 done (69% complete)'}]";
        assert_eq!(
            judge(&cv(progressing, &partial("2026-11-21T07:00:00Z"))),
            ["ClusterVersion/version: the update to 4.9.1 has been progressing for 5h (Progressing: Working towards 4.9.1: 512 of 734 done (69% complete))"]
        );
        assert!(
            judge(&cv(progressing, &partial("2026-11-21T11:00:00Z"))).is_empty(),
            "an hour in: still updating"
        );
    }
}
