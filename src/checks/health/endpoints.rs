//! `health/endpoints`: Services whose pods exist but none is ready to serve.

use std::collections::HashSet;

use crate::model::Index;

use super::*;
use crate::checks::{Check, Context, Lifecycle, Mode, Monitor, Threshold};
use crate::model::selector::{format_labels, Labels};

pub struct Endpoints;

/// A Service with a selector and no ready address.
struct Candidate<'a> {
    ns: &'a str,
    name: &'a str,
    selector: &'a Labels,
}

const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

static INFO: CheckInfo = CheckInfo {
    id: "health/endpoints",
    monitor: Monitor::InfraHealth,
    subject: "services",
    should: "have ready endpoints",
    rule:
        "a Service with a selector has a ready address in its EndpointSlices (else its Endpoints) \
           whenever pods exist that the selector matches, or workloads whose pods it should match; \
           with vigil watch, a Service whose EndpointSlices held endpoints and none ready for `during-minutes` during the run",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Service"],
    thresholds: &[Threshold {
        name: "during-minutes",
        default: 5,
        help: "with vigil watch: minutes a Service may have endpoints and none ready during the run",
    }],
    cluster_scoped: None,
    per_object: None,
    needs: &[
        "Service",
        "EndpointSlice|Endpoints",
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
    ],
};

/// Ready addresses a service has, or `None` when nothing was collected for it.
fn ready_addresses(
    c: &crate::model::Cluster,
    slices: &Index<(&str, &str), Vec<usize>>,
    eps: &Index<(&str, &str), usize>,
    ns: &str,
    name: &str,
) -> Option<usize> {
    if let Some(list) = slices.get(&(ns, name)) {
        return Some(
            list.iter()
                .flat_map(|&i| &c.endpoint_slices[i].endpoints)
                .filter(|e| e.conditions.ready != Some(false))
                .count(),
        );
    }
    eps.get(&(ns, name))
        .map(|&i| c.endpoints[i].subsets.iter().map(|s| s.addresses).sum())
}

impl Check for Endpoints {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let c = ctx.cluster;
        // Without any endpoint objects in the state there is nothing to judge.
        if c.endpoint_slices.is_empty() && c.endpoints.is_empty() {
            return;
        }
        let candidates = unready_services(c);
        if candidates.is_empty() {
            return;
        }
        let (pods_of, owners_of) = what_selectors_match(c, &candidates);
        // A candidate with pods or workloads to serve it and none ready fails.
        for (cand, (pods, owners)) in candidates.iter().zip(pods_of.iter().zip(&owners_of)) {
            let pods: Vec<&str> = pods
                .iter()
                .map(|&pi| c.pods[pi].metadata.name.as_str())
                .collect();
            let owners: Vec<String> = owners.iter().map(|&wi| c.workload_ref(wi)).collect();
            if pods.is_empty() && owners.is_empty() {
                continue;
            }
            out.push(Finding::object_level(
                INFO.id,
                cand.ns,
                "Service",
                cand.name,
                describe(cand.selector, &pods, &owners),
                Severity::Fail,
            ));
        }
    }
}

/// The services with a selector and no ready address: the only ones
/// compared with pods and workloads (usually few of many).
fn unready_services(c: &crate::model::Cluster) -> Vec<Candidate<'_>> {
    let mut slices: Index<(&str, &str), Vec<usize>> = Index::default();
    for (i, s) in c.endpoint_slices.iter().enumerate() {
        if let Some(svc) = s.metadata.labels.get(SERVICE_NAME_LABEL) {
            slices
                .entry((s.metadata.namespace.as_str(), svc))
                .or_default()
                .push(i);
        }
    }
    let eps: Index<(&str, &str), usize> = c
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| ((e.metadata.namespace.as_str(), e.metadata.name.as_str()), i))
        .collect();
    let mut candidates: Vec<Candidate> = Vec::new();
    for svc in &c.services {
        let Some(selector) = svc.spec.selector.as_ref().filter(|s| !s.is_empty()) else {
            continue;
        };
        if svc.spec.type_.as_deref() == Some("ExternalName") {
            continue;
        }
        let (ns, name) = (svc.metadata.namespace.as_str(), svc.metadata.name.as_str());
        if ready_addresses(c, &slices, &eps, ns, name).unwrap_or(0) > 0 {
            continue;
        }
        candidates.push(Candidate { ns, name, selector });
    }
    candidates
}

/// For each candidate, the live pods and the workloads its selector
/// matches, as cluster indexes. Candidates are indexed by (namespace, first
/// selector pair): a pod or workload is compared only with those sharing
/// one of its label pairs.
fn what_selectors_match(
    c: &crate::model::Cluster,
    candidates: &[Candidate],
) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let mut by_pair: Index<(&str, &str, &str), Vec<usize>> = Index::default();
    for (ci, cand) in candidates.iter().enumerate() {
        let (k0, v0) = cand.selector.iter().next().expect("selector is not empty");
        by_pair.entry((cand.ns, k0, v0)).or_default().push(ci);
    }
    let namespaces: HashSet<&str> = candidates.iter().map(|cand| cand.ns).collect();
    let matching = |ns: &str, labels: &Labels, each: &mut dyn FnMut(usize)| {
        if !namespaces.contains(ns) {
            return;
        }
        for (k, v) in labels.iter() {
            for &ci in by_pair.get(&(ns, k, v)).into_iter().flatten() {
                if candidates[ci]
                    .selector
                    .iter()
                    .all(|(sk, sv)| labels.get(sk) == Some(sv))
                {
                    each(ci);
                }
            }
        }
    };
    let mut pods_of: Vec<Vec<usize>> = vec![Vec::new(); candidates.len()];
    for (pi, p) in c.pods.iter().enumerate() {
        if p.status.phase != "Succeeded" && p.status.phase != "Failed" {
            matching(&p.metadata.namespace, &p.metadata.labels, &mut |ci| {
                pods_of[ci].push(pi)
            });
        }
    }
    let mut owners_of: Vec<Vec<usize>> = vec![Vec::new(); candidates.len()];
    for (wi, w) in c.workloads.iter().enumerate() {
        if !w.is_scaled_to_zero() {
            matching(&w.metadata.namespace, w.pod_labels(), &mut |ci| {
                owners_of[ci].push(wi)
            });
        }
    }
    (pods_of, owners_of)
}

fn describe(selector: &Labels, pods: &[&str], owners: &[String]) -> String {
    let sel = format_labels(selector);
    if pods.is_empty() {
        return format!(
            "no ready endpoint; selector {sel} matches no pod, though {} should provide them",
            owners.join(", ")
        );
    }
    let shown: Vec<&str> = pods.iter().take(5).copied().collect();
    let more = if pods.len() > 5 {
        format!(" and {} more", pods.len() - 5)
    } else {
        String::new()
    };
    format!(
        "no ready endpoint; selector {sel} matches {} pod{}, none ready ({}{more})",
        pods.len(),
        if pods.len() == 1 { "" } else { "s" },
        shown.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    const STATE: &str = "
---
kind: Service
metadata: {name: api, namespace: ns}
spec: {selector: {app: api}}
---
kind: EndpointSlice
metadata: {name: api-x1, namespace: ns, labels: {kubernetes.io/service-name: api}}
endpoints:
- {addresses: [10.0.0.1], conditions: {ready: false}}
---
kind: Pod
metadata: {name: api-0, namespace: ns, labels: {app: api}}
status: {phase: Running}
---
kind: Service
metadata: {name: healthy, namespace: ns}
spec: {selector: {app: healthy}}
---
kind: EndpointSlice
metadata: {name: healthy-x1, namespace: ns, labels: {kubernetes.io/service-name: healthy}}
endpoints:
- {addresses: [10.0.0.2]}
---
kind: Service
metadata: {name: legacy, namespace: ns}
spec: {selector: {app: legacy}}
---
kind: Endpoints
metadata: {name: legacy, namespace: ns}
subsets: [{notReadyAddresses: [{ip: 10.0.0.3}]}]
---
kind: Deployment
metadata: {name: legacy, namespace: ns}
spec: {replicas: 1, template: {metadata: {labels: {app: legacy}}}}
---
kind: Service
metadata: {name: orphan, namespace: ns}
spec: {selector: {app: gone}}
---
kind: Service
metadata: {name: manual, namespace: ns}
spec: {}
";

    #[test]
    fn services_without_ready_endpoints() {
        assert_eq!(
            lines(&run(&Endpoints, STATE)),
            [
                "Service/api: no ready endpoint; selector app=api matches 1 pod, none ready (api-0)",
                "Service/legacy: no ready endpoint; selector app=legacy matches no pod, though Deployment/legacy should provide them",
            ]
        );
    }

    #[test]
    fn nothing_is_judged_without_endpoint_objects() {
        let yaml = "kind: Service\nmetadata: {name: api, namespace: ns}\nspec: {selector: {app: api}}\n---\nkind: Pod\nmetadata: {name: p, namespace: ns, labels: {app: api}}\n";
        assert!(run(&Endpoints, yaml).is_empty());
    }
}
