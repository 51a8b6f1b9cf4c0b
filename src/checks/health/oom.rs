//! `health/oom`: containers killed for running out of memory.

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor};

pub struct Oom;

static INFO: CheckInfo = CheckInfo {
    id: "health/oom",
    monitor: Monitor::InfraHealth,
    subject: "pods",
    should: "not be killed for running out of memory",
    rule: "no container's last termination reason is OOMKilled (flakes: one OOM kill is a warning sign, not an outage)",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Node"],
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Pod"],
};

impl Check for Oom {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (pi, cs, init) in containers(ctx.cluster) {
            let t = cs
                .last_state
                .terminated
                .as_ref()
                .or(cs.state.terminated.as_ref());
            if t.and_then(|t| t.reason.as_deref()) != Some("OOMKilled") {
                continue;
            }
            let detail = format!(
                "{} last terminated: {}; restartCount={}",
                container_label(init),
                last_termination(cs, ctx.now).unwrap_or_default(),
                cs.restart_count
            );
            out.push(container_finding(
                &INFO,
                ctx.cluster,
                pi,
                cs,
                detail,
                Severity::Flake,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    #[test]
    fn oom_kills_flake() {
        let yaml = "
kind: Pod
metadata: {name: p, namespace: ns}
status:
  containerStatuses:
  - {name: a, restartCount: 1, lastState: {terminated: {reason: OOMKilled, exitCode: 137}}}
  - {name: b, restartCount: 1, lastState: {terminated: {reason: Error, exitCode: 2}}}
";
        let found = run(&Oom, yaml);
        assert_eq!(lines(&found), ["Pod/p container a: container last terminated: OOMKilled, exit code 137; restartCount=1"]);
        assert_eq!(found[0].severity, Severity::Flake);
    }
}
