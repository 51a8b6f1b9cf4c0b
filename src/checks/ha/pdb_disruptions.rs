//! `ha/pdb-disruptions`: a PDB allows at least one voluntary disruption when
//! all its pods are healthy, or it blocks every node drain.

use crate::checks::*;

pub struct PdbDisruptions;

static INFO: CheckInfo = CheckInfo {
    id: "ha/pdb-disruptions",
    monitor: Monitor::HaCompliance,
    subject: "pod disruption budgets",
    should: "allow at least one voluntary disruption",
    rule: "no PDB with maxUnavailable 0 or 0%, minAvailable 100%, or minAvailable >= the replicas it selects; \
           no PDB whose status shows disruptionsAllowed=0 while currentHealthy >= desiredHealthy",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: true,
    kinds: &["PodDisruptionBudget"],
    thresholds: &[],
    cluster_scoped: None,
    needs: &["PodDisruptionBudget", "Deployment", "StatefulSet", "DaemonSet", "HorizontalPodAutoscaler"],
};

impl Check for PdbDisruptions {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let c = ctx.cluster;
        for (pi, pdb) in c.pdbs.iter().enumerate() {
            let selected = &c.pdb_workloads[pi];
            let expected: i64 = selected
                .iter()
                .map(|&wi| {
                    ctx.desired_replicas(wi).unwrap_or_else(|| {
                        c.workloads[wi].status.desired_number_scheduled.unwrap_or(0)
                    })
                })
                .sum();
            let names = || {
                selected
                    .iter()
                    .map(|&wi| c.workload_ref(wi))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let spec = &pdb.spec;
            let detail = if let Some(mu) = spec.max_unavailable.as_ref().filter(|m| m.is_zero()) {
                Some(format!(
                    "maxUnavailable={mu} allows no voluntary disruption"
                ))
            } else if let Some(ma) = &spec.min_available {
                if ma.percent().is_some_and(|p| p >= 100) {
                    Some(format!("minAvailable={ma} allows no voluntary disruption"))
                } else if expected > 0 && ma.scaled(expected, true).is_some_and(|n| n >= expected) {
                    Some(format!(
                        "minAvailable={ma} with {expected} replicas selected ({}) allows no voluntary disruption",
                        names()
                    ))
                } else {
                    None
                }
            } else {
                None
            };
            let detail = detail.or_else(|| {
                let st = pdb.status.as_ref()?;
                (st.expected_pods > 0 && st.disruptions_allowed == 0 && st.current_healthy >= st.desired_healthy)
                    .then(|| {
                        format!(
                            "status.disruptionsAllowed=0 while currentHealthy={} >= desiredHealthy={}",
                            st.current_healthy, st.desired_healthy
                        )
                    })
            });
            if let Some(detail) = detail {
                out.push(Finding::object_level(
                    INFO.id,
                    &pdb.metadata.namespace,
                    "PodDisruptionBudget",
                    &pdb.metadata.name,
                    detail,
                    Severity::Fail,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    fn pdb(name: &str, spec: &str, status: &str) -> String {
        format!(
            "---\nkind: PodDisruptionBudget\napiVersion: policy/v1\nmetadata: {{name: {name}, namespace: ns}}\nspec: {{selector: {{matchLabels: {{app: web}}}}, {spec}}}\n{status}\n"
        )
    }

    fn eval(pdbs: &[String]) -> Vec<String> {
        let yaml = [vec![deployment("web", 2, "")], pdbs.to_vec()]
            .concat()
            .concat();
        lines(&run(&PdbDisruptions, &yaml))
    }

    #[test]
    fn max_unavailable_zero_and_zero_percent() {
        assert_eq!(
            eval(&[
                pdb("a", "maxUnavailable: 0", ""),
                pdb("b", "maxUnavailable: '0%'", ""),
                pdb("ok", "maxUnavailable: 1", "")
            ]),
            [
                "PodDisruptionBudget/a: maxUnavailable=0 allows no voluntary disruption",
                "PodDisruptionBudget/b: maxUnavailable=0% allows no voluntary disruption"
            ]
        );
    }

    #[test]
    fn min_available_against_selected_replicas() {
        assert_eq!(
            eval(&[
                pdb("all", "minAvailable: '100%'", ""),
                pdb("two", "minAvailable: 2", ""),
                pdb("pct", "minAvailable: '60%'", ""),
                pdb("one", "minAvailable: 1", ""),
                pdb("half", "minAvailable: '50%'", ""),
            ]),
            [
                "PodDisruptionBudget/all: minAvailable=100% allows no voluntary disruption",
                "PodDisruptionBudget/two: minAvailable=2 with 2 replicas selected (Deployment/web) allows no voluntary disruption",
                "PodDisruptionBudget/pct: minAvailable=60% with 2 replicas selected (Deployment/web) allows no voluntary disruption",
            ]
        );
    }

    #[test]
    fn status_shows_blocked_drain() {
        let blocked = "status: {currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0, expectedPods: 2}";
        let degraded = "status: {currentHealthy: 1, desiredHealthy: 2, disruptionsAllowed: 0, expectedPods: 2}";
        let empty = "status: {currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0}";
        assert_eq!(
            eval(&[
                pdb("blocked", "maxUnavailable: 1", blocked),
                pdb("degraded", "maxUnavailable: 1", degraded),
                pdb("empty", "maxUnavailable: 1", empty),
            ]),
            ["PodDisruptionBudget/blocked: status.disruptionsAllowed=0 while currentHealthy=2 >= desiredHealthy=2"]
        );
    }

    #[test]
    fn min_available_on_a_pdb_selecting_nothing_is_not_judged_by_replicas() {
        let yaml = pdb("none", "minAvailable: 1", "").replace("app: web", "app: nothing");
        assert!(run(&PdbDisruptions, &yaml).is_empty());
    }
}
