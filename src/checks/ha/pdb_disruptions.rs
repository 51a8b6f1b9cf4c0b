//! `ha/pdb-disruptions`: a PDB allows at least one voluntary disruption when
//! all its pods are healthy, or it blocks every node drain.

use crate::checks::*;

pub struct PdbDisruptions;

static INFO: CheckInfo = CheckInfo {
    id: "ha/pdb-disruptions",
    monitor: Monitor::HaCompliance,
    subject: "pod disruption budgets",
    should: "allow at least one voluntary disruption",
    rule: "no PDB with maxUnavailable 0 or 0%, minAvailable 100%, or minAvailable >= the replicas it selects \
           (an HPA's minReplicas, the scale the budget must survive, when one scales the workload); \
           no PDB whose status shows disruptionsAllowed=0 while every expected pod is healthy; \
           no pod selected by two PDBs (the eviction API refuses to evict it)",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: true,
    kinds: &["PodDisruptionBudget"],
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
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
            // The scale the budget must survive: an HPA may scale the
            // workload down to its minReplicas at any time.
            let scaled_by_hpa = selected.iter().any(|&wi| c.workload_hpa_min[wi].is_some());
            let expected: i64 = selected
                .iter()
                .map(|&wi| {
                    ctx.floor_replicas(wi).unwrap_or_else(|| {
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
                        "minAvailable={ma} with {expected} replicas selected ({}{}) allows no voluntary disruption",
                        names(),
                        if scaled_by_hpa { ", at the HPA's minReplicas" } else { "" }
                    ))
                } else {
                    None
                }
            } else {
                None
            };
            let detail = detail.or_else(|| {
                let st = pdb.status.as_ref()?;
                // Only when every expected pod is healthy: an unready pod
                // rightly holds the budget (and is health/not-ready's finding).
                (st.expected_pods > 0
                    && st.disruptions_allowed == 0
                    && st.current_healthy >= st.desired_healthy
                    && st.current_healthy >= st.expected_pods)
                    .then(|| {
                        format!(
                            "status.disruptionsAllowed=0 while currentHealthy={} >= desiredHealthy={}",
                            st.current_healthy, st.desired_healthy
                        )
                    })
            });
            let detail = detail.or_else(|| {
                // A pod under two budgets cannot be evicted at all.
                let shared: Vec<String> = selected
                    .iter()
                    .filter(|&&wi| c.workload_pdbs[wi].len() > 1)
                    .map(|&wi| {
                        let others: Vec<String> = c.workload_pdbs[wi]
                            .iter()
                            .filter(|&&o| o != pi)
                            .map(|&o| format!("PodDisruptionBudget/{}", c.pdbs[o].metadata.name))
                            .collect();
                        format!("{} is also selected by {}", c.workload_ref(wi), others.join(", "))
                    })
                    .collect();
                (!shared.is_empty()).then(|| {
                    format!(
                        "{}: the eviction API refuses pods under more than one budget, so no drain can evict them",
                        shared.join("; ")
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

    /// Each budget judged alone over one 2-replica Deployment (two budgets
    /// over the same pods are a finding of their own).
    fn eval(pdbs: &[String]) -> Vec<String> {
        pdbs.iter()
            .flat_map(|p| lines(&run(&PdbDisruptions, &(deployment("web", 2, "") + p))))
            .collect()
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
        // maxUnavailable 1 over 3 with one pod unready: the budget is right to hold.
        let one_unready = "status: {currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0, expectedPods: 3}";
        let degraded = "status: {currentHealthy: 1, desiredHealthy: 2, disruptionsAllowed: 0, expectedPods: 2}";
        let empty = "status: {currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0}";
        assert_eq!(
            eval(&[
                pdb("blocked", "maxUnavailable: 1", blocked),
                pdb("degraded", "maxUnavailable: 1", degraded),
                pdb("one-unready", "maxUnavailable: 1", one_unready),
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

    #[test]
    fn an_hpa_sets_the_scale_the_budget_must_survive() {
        let hpa = |min: i64| {
            format!("---\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web, namespace: ns}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: web}}, minReplicas: {min}, maxReplicas: 10}}\n")
        };
        // At 5 replicas now, but the HPA may go down to 2: minAvailable 2 then blocks.
        let yaml = [
            deployment("web", 5, ""),
            hpa(2),
            pdb("p", "minAvailable: 2", ""),
        ]
        .concat();
        assert_eq!(
            lines(&run(&PdbDisruptions, &yaml)),
            ["PodDisruptionBudget/p: minAvailable=2 with 2 replicas selected (Deployment/web, at the HPA's minReplicas) allows no voluntary disruption"]
        );
        let yaml = [
            deployment("web", 2, ""),
            hpa(3),
            pdb("p", "minAvailable: 2", ""),
        ]
        .concat();
        assert!(
            run(&PdbDisruptions, &yaml).is_empty(),
            "3 replicas at least: one may go"
        );
    }

    #[test]
    fn two_budgets_over_the_same_pods_block_every_eviction() {
        let yaml = [
            deployment("web", 3, ""),
            pdb("a", "maxUnavailable: 1", ""),
            pdb("b", "minAvailable: 1", ""),
        ]
        .concat();
        assert_eq!(
            lines(&run(&PdbDisruptions, &yaml)),
            [
                "PodDisruptionBudget/a: Deployment/web is also selected by PodDisruptionBudget/b: the eviction API refuses pods under more than one budget, so no drain can evict them",
                "PodDisruptionBudget/b: Deployment/web is also selected by PodDisruptionBudget/a: the eviction API refuses pods under more than one budget, so no drain can evict them",
            ]
        );
    }
}
