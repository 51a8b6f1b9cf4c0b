//! `health/machine-config-pools`: a MachineConfigPool is the OpenShift form
//! of the lesson behind vigil (a spec changed, and what runs never got it):
//! a pool whose machines are not all on the configuration it wants, with
//! nothing updating them, or updating for hours, or degraded.

use super::cluster_operators::describe;
use super::*;
use crate::checks::{openshift_only, Check, Context, Lifecycle, Mode, Monitor, Threshold};
use crate::model::objects::{condition, MachineConfigPool};
use crate::model::time::{age, human};

pub struct MachineConfigPools;

static INFO: CheckInfo = CheckInfo {
    id: "health/machine-config-pools",
    monitor: Monitor::InfraHealth,
    subject: "machineconfigpools",
    should: "have every machine on its configuration",
    rule: "OpenShift, under --profile openshift, one test per MachineConfigPool: Degraded, NodeDegraded or RenderDegraded \
           True fails; fewer updated machines than machines, or a status configuration other than the one the spec \
           wants, fails when the pool is not Updating (nothing will roll it out) or has been Updating for longer than \
           `updating-minutes`; a paused pool is not judged on its update (pausing holds updates back on purpose). With vigil \
           watch, degraded for `during-minutes` during the run fails",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["MachineConfigPool"],
    thresholds: &[
        Threshold {
            name: "updating-minutes",
            default: 90,
            help: "how long a pool may be Updating before its test fails",
        },
        Threshold {
            name: "during-minutes",
            default: 5,
            help: "with vigil watch: minutes a pool may be degraded during the run",
        },
    ],
    cluster_scoped: Some("Machine Config Operator"),
    per_object: Some("machineconfigpool"),
    needs: &["MachineConfigPool"],
};

/// What the pool's update looks like, when its machines are not all on
/// the configuration it wants.
fn behind(p: &MachineConfigPool) -> Option<String> {
    let s = &p.status;
    let (machines, updated) = (
        s.machine_count.unwrap_or(0),
        s.updated_machine_count.unwrap_or(0),
    );
    let want = p
        .spec
        .configuration
        .as_ref()
        .map(|c| c.name.as_str())
        .unwrap_or("");
    let have = s
        .configuration
        .as_ref()
        .map(|c| c.name.as_str())
        .unwrap_or("");
    let config_differs = !want.is_empty() && !have.is_empty() && want != have;
    (updated < machines || config_differs).then(|| {
        let mut d = format!("{updated} of {machines} machines updated");
        if config_differs {
            d.push_str(&format!("; it wants {want}, its machines run {have}"));
        } else if !want.is_empty() {
            d.push_str(&format!(" to {want}"));
        }
        d
    })
}

impl Check for MachineConfigPools {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn not_applicable(&self, ctx: &Context) -> Option<String> {
        openshift_only(ctx)
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let limit = chrono::Duration::minutes((ctx.thresholds)(INFO.id, "updating-minutes"));
        for p in &ctx.cluster.machine_config_pools {
            let name = p.metadata.name.as_str();
            let conds = &p.status.conditions;
            let mut push = |detail: String| {
                out.push(Finding::object_level(
                    INFO.id,
                    "",
                    "MachineConfigPool",
                    name,
                    detail,
                    Severity::Fail,
                ))
            };
            for t in ["Degraded", "NodeDegraded", "RenderDegraded"] {
                if let Some(c) = condition(conds, t).filter(|c| c.status == "True") {
                    push(describe(c, ctx.now));
                }
            }
            if p.spec.paused {
                continue;
            }
            let Some(behind) = behind(p) else { continue };
            match condition(conds, "Updating").filter(|c| c.status == "True") {
                None => push(format!("{behind}, and the pool is not Updating: nothing is rolling the configuration out")),
                Some(c) => {
                    let since = age(c.last_transition_time.as_deref(), ctx.now);
                    if since.is_some_and(|a| a > limit) {
                        push(format!("{behind}; Updating for {}", since.map(human).unwrap_or_default()));
                    }
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

    fn pool(name: &str, spec: &str, status: &str) -> String {
        format!("---\napiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfigPool\nmetadata: {{name: {name}}}\nspec: {spec}\nstatus: {status}\n")
    }

    #[test]
    fn a_pool_whose_machines_never_got_its_configuration_fails() {
        // NOW is 2026-11-21T12:00:00Z.
        let yaml = [
            pool("master", "{configuration: {name: rendered-master-a}}", "{machineCount: 3, updatedMachineCount: 3, configuration: {name: rendered-master-a}, conditions: [{type: Updated, status: 'True'}, {type: Updating, status: 'False'}]}"),
            // Half updated, and nothing updating: the Boskos lesson.
            pool("worker", "{configuration: {name: rendered-worker-new}}", "{machineCount: 3, updatedMachineCount: 1, configuration: {name: rendered-worker-old}, conditions: [{type: Updating, status: 'False'}]}"),
            // Updating for five hours.
            pool("infra", "{configuration: {name: rendered-infra-b}}", "{machineCount: 2, updatedMachineCount: 1, configuration: {name: rendered-infra-b}, conditions: [{type: Updating, status: 'True', lastTransitionTime: '2026-11-21T07:00:00Z'}]}"),
            // Updating for ten minutes: fine.
            pool("edge", "{configuration: {name: rendered-edge-b}}", "{machineCount: 2, updatedMachineCount: 1, configuration: {name: rendered-edge-b}, conditions: [{type: Updating, status: 'True', lastTransitionTime: '2026-11-21T11:50:00Z'}]}"),
            // Paused on purpose.
            pool("paused", "{paused: true, configuration: {name: rendered-p-b}}", "{machineCount: 2, updatedMachineCount: 0, configuration: {name: rendered-p-a}}"),
            pool("broken", "{}", "{machineCount: 1, updatedMachineCount: 1, conditions: [{type: NodeDegraded, status: 'True', reason: '1 nodes are reporting degraded status on sync', message: 'Node ip-10-0-1-1 is reporting: \"unexpected on-disk state\"', lastTransitionTime: '2026-11-21T11:00:00Z'}]}"),
        ]
        .concat();
        assert_eq!(
            lines(&run_with(&MachineConfigPools, &yaml, Profile::Openshift, TopologyMode::Ha)),
            [
                "MachineConfigPool/worker: 1 of 3 machines updated; it wants rendered-worker-new, its machines run rendered-worker-old, and the pool is not Updating: nothing is rolling the configuration out",
                "MachineConfigPool/infra: 1 of 2 machines updated to rendered-infra-b; Updating for 5h",
                "MachineConfigPool/broken: NodeDegraded=True (1 nodes are reporting degraded status on sync: Node ip-10-0-1-1 is reporting: \"unexpected on-disk state\") for 1h",
            ]
        );
    }
}
