//! `health/restarts`: containers that keep restarting.

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor, Threshold};

pub struct Restarts;

static INFO: CheckInfo = CheckInfo {
    id: "health/restarts",
    monitor: Monitor::InfraHealth,
    subject: "pods",
    should: "not restart repeatedly",
    rule: "a container's restartCount at or above flake-at flakes, above fail-above fails; \
           the last termination reason and exit code are named",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &[
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "Node",
    ],
    thresholds: &[
        Threshold {
            name: "flake-at",
            default: 2,
            help: "restartCount from which a container flakes",
        },
        Threshold {
            name: "fail-above",
            default: 4,
            help: "restartCount above which a container fails",
        },
    ],
    cluster_scoped: None,
    per_object: None,
    needs: &["Pod"],
};

impl Check for Restarts {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let flake_at = (ctx.thresholds)(INFO.id, "flake-at");
        let fail_above = (ctx.thresholds)(INFO.id, "fail-above");
        for (pi, cs, init) in containers(ctx.cluster) {
            let n = cs.restart_count;
            let severity = if n > fail_above {
                Severity::Fail
            } else if n >= flake_at {
                Severity::Flake
            } else {
                continue;
            };
            let mut detail = format!("{} restartCount={n}", container_label(init));
            match last_termination(cs, ctx.now) {
                Some(t) => detail.push_str(&format!("; last terminated: {t}")),
                None => detail.push_str("; last termination unknown"),
            }
            out.push(container_finding(
                &INFO,
                ctx.cluster,
                pi,
                cs,
                detail,
                severity,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    fn pod(restarts: &[i64]) -> String {
        let statuses: Vec<String> = restarts
            .iter()
            .enumerate()
            .map(|(i, n)| {
                format!("{{name: c{i}, restartCount: {n}, lastState: {{terminated: {{reason: OOMKilled, exitCode: 137}}}}}}")
            })
            .collect();
        format!(
            "kind: Pod\nmetadata: {{name: p, namespace: ns}}\nstatus: {{containerStatuses: [{}]}}\n",
            statuses.join(", ")
        )
    }

    #[test]
    fn thresholds_split_flake_and_fail() {
        let found = run(&Restarts, &pod(&[0, 1, 2, 4, 5]));
        let got: Vec<_> = found
            .iter()
            .map(|f| (f.container.as_deref().unwrap(), f.severity))
            .collect();
        assert_eq!(
            got,
            [
                ("c2", Severity::Flake),
                ("c3", Severity::Flake),
                ("c4", Severity::Fail)
            ]
        );
        assert_eq!(
            found[2].to_string(),
            "Pod/p container c4: container restartCount=5; last terminated: OOMKilled, exit code 137"
        );
    }

    #[test]
    fn pods_that_are_done_restart_no_more() {
        // A completed Job's pod that was retried after OOM kills: history.
        for phase in ["Succeeded", "Failed"] {
            let done = pod(&[9]).replace("status: {", &format!("status: {{phase: {phase}, "));
            assert!(run(&Restarts, &done).is_empty(), "{phase}");
            assert!(run(&super::super::oom::Oom, &done).is_empty(), "{phase}");
        }
        assert_eq!(
            run(
                &Restarts,
                &pod(&[9]).replace("status: {", "status: {phase: Running, ")
            )
            .len(),
            1
        );
    }
}
