//! `health/image-pull`: containers that cannot get their image.

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor, Threshold};

pub struct ImagePull;

const REASONS: &[&str] = &["ErrImagePull", "ImagePullBackOff", "InvalidImageName"];

static INFO: CheckInfo = CheckInfo {
    id: "health/image-pull",
    monitor: Monitor::InfraHealth,
    subject: "pods",
    should: "pull their images",
    rule: "no container or init container is waiting with reason ErrImagePull, ImagePullBackOff or InvalidImageName",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Node"],
    thresholds: &[Threshold {
        name: "during-minutes",
        default: 5,
        help: "with vigil watch: minutes a container may fail to pull its image during the run",
    }],
    cluster_scoped: None,
    per_object: None,
    needs: &["Pod"],
};

impl Check for ImagePull {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (pi, cs, init) in containers(ctx.cluster) {
            let Some(w) = cs.state.waiting.as_ref() else {
                continue;
            };
            let Some(reason) = w.reason.as_deref().filter(|r| REASONS.contains(r)) else {
                continue;
            };
            let mut detail = format!("{} {reason}", container_label(init));
            if let Some(m) = w.message.as_deref().filter(|m| !m.is_empty()) {
                detail.push_str(&format!(": {}", clip(m, 240)));
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
    fn pull_failures() {
        let yaml = "
kind: Pod
metadata: {name: p, namespace: ns}
status:
  containerStatuses:
  - {name: a, state: {waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image \"registry.example/x:nope\"'}}}
  - {name: b, state: {waiting: {reason: InvalidImageName}}}
  - {name: c, state: {waiting: {reason: CrashLoopBackOff}}}
";
        assert_eq!(
            lines(&run(&ImagePull, yaml)),
            [
                "Pod/p container a: container ImagePullBackOff: Back-off pulling image \"registry.example/x:nope\"",
                "Pod/p container b: container InvalidImageName",
            ]
        );
    }
}
