//! `health/crashloop`: containers waiting in CrashLoopBackOff.

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor, Threshold};

pub struct CrashLoop;

static INFO: CheckInfo = CheckInfo {
    id: "health/crashloop",
    monitor: Monitor::InfraHealth,
    subject: "pods",
    should: "not be crash-looping",
    rule: "no container or init container is waiting with reason CrashLoopBackOff",
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
    thresholds: &[Threshold {
        name: "during-minutes",
        default: 0,
        help: "with vigil watch: minutes a container may crash-loop during the run (0: any)",
    }],
    cluster_scoped: None,
    per_object: None,
    needs: &["Pod"],
};

impl Check for CrashLoop {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (pi, cs, init) in containers(ctx.cluster) {
            let waiting = cs.state.waiting.as_ref().and_then(|w| w.reason.as_deref());
            if waiting != Some("CrashLoopBackOff") {
                continue;
            }
            let mut detail = format!(
                "{} CrashLoopBackOff, restartCount={}",
                container_label(init),
                cs.restart_count
            );
            if let Some(t) = last_termination(cs, ctx.now) {
                detail.push_str(&format!("; last terminated: {t}"));
            }
            out.push(container_finding(
                &INFO,
                ctx.cluster,
                pi,
                cs,
                detail,
                Severity::Fail,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    #[test]
    fn crash_looping_container_and_init_container() {
        let yaml = "
kind: Pod
metadata: {name: broker-0, namespace: ns}
status:
  phase: Running
  initContainerStatuses:
  - {name: migrate, restartCount: 3, state: {waiting: {reason: CrashLoopBackOff}}}
  containerStatuses:
  - name: broker
    restartCount: 108
    state: {waiting: {reason: CrashLoopBackOff, message: back-off 5m0s}}
    lastState: {terminated: {reason: Error, exitCode: 1, finishedAt: '2026-11-21T11:58:00Z'}}
  - {name: sidecar, restartCount: 0, state: {running: {}}}
";
        assert_eq!(
            lines(&run(&CrashLoop, yaml)),
            [
                "Pod/broker-0 container migrate: init container CrashLoopBackOff, restartCount=3",
                "Pod/broker-0 container broker: container CrashLoopBackOff, restartCount=108; last terminated: Error, exit code 1, at 2026-11-21T11:58:00Z (2m ago)",
            ]
        );
    }

    #[test]
    fn other_waiting_reasons_pass() {
        let yaml = "kind: Pod\nmetadata: {name: p, namespace: ns}\nstatus: {containerStatuses: [{name: c, state: {waiting: {reason: ContainerCreating}}}]}\n";
        assert!(run(&CrashLoop, yaml).is_empty());
    }
}
