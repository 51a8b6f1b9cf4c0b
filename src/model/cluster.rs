//! The cluster model and its indexes.
//!
//! Every relation a check needs (pods of a workload, PDBs covering a
//! workload, the HPA scaling it) is resolved here once, so that checks stay
//! linear in the number of objects.

use std::collections::{BTreeSet, HashMap};

use super::objects::*;

#[derive(Debug, Default)]
pub struct Cluster {
    /// Every namespace known: from Namespace objects and from the namespaced
    /// objects read, sorted.
    pub namespaces: BTreeSet<String>,
    pub nodes: Vec<Node>,
    pub pods: Vec<Pod>,
    pub workloads: Vec<Workload>,
    pub replicasets: Vec<ReplicaSet>,
    pub pdbs: Vec<Pdb>,
    pub hpas: Vec<Hpa>,
    pub services: Vec<Service>,
    pub endpoint_slices: Vec<EndpointSlice>,
    pub endpoints: Vec<Endpoints>,
    pub events: Vec<Event>,
    pub infrastructure: Option<Infrastructure>,

    /// Pods owned (through a ReplicaSet for Deployments) by each workload.
    pub workload_pods: Vec<Vec<usize>>,
    /// The workload owning each pod.
    pub pod_owner: Vec<Option<usize>>,
    /// PDBs in the workload's namespace whose selector selects its pod template.
    pub workload_pdbs: Vec<Vec<usize>>,
    /// Workloads whose pod template each PDB selects.
    pub pdb_workloads: Vec<Vec<usize>>,
    /// The highest `minReplicas` among HPAs targeting each workload.
    pub workload_hpa_min: Vec<Option<i64>>,
}

type Key = (WorkloadKind, String, String);

impl Cluster {
    pub fn from_objects(objects: Vec<Object>) -> Cluster {
        let mut c = Cluster::default();
        for obj in objects {
            let ns = &obj.metadata().namespace;
            if !ns.is_empty() {
                if !c.namespaces.contains(ns) {
                    c.namespaces.insert(ns.clone());
                }
            }
            match obj {
                Object::Namespace(n) => {
                    c.namespaces.insert(n.metadata.name);
                }
                Object::Node(n) => c.nodes.push(n),
                Object::Pod(p) => c.pods.push(p),
                Object::Workload(w) => c.workloads.push(w),
                Object::ReplicaSet(r) => c.replicasets.push(r),
                Object::Pdb(p) => c.pdbs.push(p),
                Object::Hpa(h) => c.hpas.push(h),
                Object::Service(s) => c.services.push(s),
                Object::EndpointSlice(s) => c.endpoint_slices.push(s),
                Object::Endpoints(e) => c.endpoints.push(e),
                Object::Event(e) => c.events.push(e),
                Object::Infrastructure(i) => {
                    // The singleton is named `cluster`; prefer it over any other.
                    if c.infrastructure.is_none() || i.metadata.name == "cluster" {
                        c.infrastructure = Some(i)
                    }
                }
            }
        }
        c.build_indexes();
        c
    }

    fn build_indexes(&mut self) {
        let by_key: HashMap<Key, usize> = self
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| {
                (
                    (
                        w.kind,
                        w.metadata.namespace.clone(),
                        w.metadata.name.clone(),
                    ),
                    i,
                )
            })
            .collect();

        // ReplicaSet -> owning Deployment name.
        let rs_owner: HashMap<(&str, &str), &str> = self
            .replicasets
            .iter()
            .filter_map(|rs| {
                let owner = rs
                    .metadata
                    .controller()
                    .filter(|o| o.kind == "Deployment")?;
                Some((
                    (rs.metadata.namespace.as_str(), rs.metadata.name.as_str()),
                    owner.name.as_str(),
                ))
            })
            .collect();

        self.workload_pods = vec![Vec::new(); self.workloads.len()];
        self.pod_owner = Vec::with_capacity(self.pods.len());
        for (pi, pod) in self.pods.iter().enumerate() {
            let owner = resolve_owner(pod, &rs_owner, &by_key);
            if let Some(wi) = owner {
                self.workload_pods[wi].push(pi);
            }
            self.pod_owner.push(owner);
        }

        let mut ns_workloads: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, w) in self.workloads.iter().enumerate() {
            ns_workloads
                .entry(w.metadata.namespace.as_str())
                .or_default()
                .push(i);
        }
        self.workload_pdbs = vec![Vec::new(); self.workloads.len()];
        self.pdb_workloads = Vec::with_capacity(self.pdbs.len());
        for (pi, pdb) in self.pdbs.iter().enumerate() {
            let mut selected = Vec::new();
            if let Some(ws) = ns_workloads.get(pdb.metadata.namespace.as_str()) {
                for &wi in ws {
                    if pdb.selects(self.workloads[wi].pod_labels()) {
                        selected.push(wi);
                        self.workload_pdbs[wi].push(pi);
                    }
                }
            }
            self.pdb_workloads.push(selected);
        }

        self.workload_hpa_min = vec![None; self.workloads.len()];
        for hpa in &self.hpas {
            let target = &hpa.spec.scale_target_ref;
            let kind = match target.kind.as_str() {
                "Deployment" => WorkloadKind::Deployment,
                "StatefulSet" => WorkloadKind::StatefulSet,
                _ => continue,
            };
            let key = (kind, hpa.metadata.namespace.clone(), target.name.clone());
            if let Some(&wi) = by_key.get(&key) {
                let min = hpa.spec.min_replicas.unwrap_or(1);
                let slot = &mut self.workload_hpa_min[wi];
                *slot = Some(slot.map_or(min, |m| m.max(min)));
            }
        }
    }

    /// The newest timestamp anywhere in the state: the best guess of when it
    /// was collected when nothing says so.
    pub fn newest_timestamp(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        use super::time::parse;
        let metas = self
            .pods
            .iter()
            .map(|p| &p.metadata)
            .chain(self.workloads.iter().map(|w| &w.metadata))
            .chain(self.nodes.iter().map(|n| &n.metadata))
            .chain(self.events.iter().map(|e| &e.metadata));
        let mut stamps: Vec<&str> = metas
            .filter_map(|m| m.creation_timestamp.as_deref())
            .collect();
        for p in &self.pods {
            stamps.extend(
                p.status
                    .conditions
                    .iter()
                    .filter_map(|c| c.last_transition_time.as_deref()),
            );
            stamps.extend(
                p.status
                    .container_statuses
                    .iter()
                    .chain(&p.status.init_container_statuses)
                    .flat_map(|c| [&c.state, &c.last_state])
                    .filter_map(|s| s.terminated.as_ref()?.finished_at.as_deref()),
            );
        }
        for n in &self.nodes {
            stamps.extend(
                n.status
                    .conditions
                    .iter()
                    .filter_map(|c| c.last_transition_time.as_deref()),
            );
        }
        for w in &self.workloads {
            stamps.extend(
                w.status
                    .conditions
                    .iter()
                    .filter_map(|c| c.last_transition_time.as_deref()),
            );
        }
        for e in &self.events {
            stamps.extend(
                [
                    e.last_timestamp.as_deref(),
                    e.event_time.as_deref(),
                    e.first_timestamp.as_deref(),
                ]
                .into_iter()
                .flatten(),
            );
            if let Some(s) = e
                .series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_deref())
            {
                stamps.push(s);
            }
        }
        stamps.into_iter().filter_map(parse).max()
    }

    /// Nodes that accept new pods.
    pub fn schedulable_nodes(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_schedulable()).count()
    }

    /// `Kind/name` of a workload, as findings name it.
    pub fn workload_ref(&self, wi: usize) -> String {
        let w = &self.workloads[wi];
        format!("{}/{}", w.kind.as_str(), w.metadata.name)
    }
}

/// Pod -> ReplicaSet -> Deployment, or Pod -> StatefulSet/DaemonSet. When the
/// ReplicaSet was not collected, the Deployment is found by stripping the
/// `pod-template-hash` suffix from the ReplicaSet's name.
fn resolve_owner(
    pod: &Pod,
    rs_owner: &HashMap<(&str, &str), &str>,
    by_key: &HashMap<Key, usize>,
) -> Option<usize> {
    let ctrl = pod.metadata.controller()?;
    let ns = pod.metadata.namespace.as_str();
    let (kind, name) = match ctrl.kind.as_str() {
        "StatefulSet" => (WorkloadKind::StatefulSet, ctrl.name.clone()),
        "DaemonSet" => (WorkloadKind::DaemonSet, ctrl.name.clone()),
        "ReplicaSet" => {
            let dep = match rs_owner.get(&(ns, ctrl.name.as_str())) {
                Some(d) => (*d).to_owned(),
                None => {
                    let hash = pod.metadata.labels.get("pod-template-hash")?;
                    ctrl.name.strip_suffix(&format!("-{hash}"))?.to_owned()
                }
            };
            (WorkloadKind::Deployment, dep)
        }
        _ => return None,
    };
    by_key.get(&(kind, ns.to_owned(), name)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::decode::Doc;

    fn cluster(json: &str) -> Cluster {
        Cluster::from_objects(serde_json::from_str::<Doc>(json).unwrap().objects)
    }

    const BASE: &str = r#"{"items":[
      {"kind":"Deployment","metadata":{"name":"web","namespace":"a"},
       "spec":{"replicas":2,"template":{"metadata":{"labels":{"app":"web"}}}}},
      {"kind":"ReplicaSet","metadata":{"name":"web-abc","namespace":"a",
       "ownerReferences":[{"kind":"Deployment","name":"web","controller":true}]}},
      {"kind":"Pod","metadata":{"name":"web-abc-1","namespace":"a","labels":{"app":"web"},
       "ownerReferences":[{"kind":"ReplicaSet","name":"web-abc","controller":true}]}},
      {"kind":"Pod","metadata":{"name":"web-def-1","namespace":"a","labels":{"app":"web","pod-template-hash":"def"},
       "ownerReferences":[{"kind":"ReplicaSet","name":"web-def","controller":true}]}},
      {"kind":"Pod","metadata":{"name":"loose","namespace":"a","labels":{"app":"web"}}},
      {"kind":"PodDisruptionBudget","apiVersion":"policy/v1","metadata":{"name":"web","namespace":"a"},
       "spec":{"selector":{"matchLabels":{"app":"web"}}}},
      {"kind":"PodDisruptionBudget","apiVersion":"policy/v1","metadata":{"name":"other-ns","namespace":"b"},
       "spec":{"selector":{}}},
      {"kind":"HorizontalPodAutoscaler","metadata":{"name":"h","namespace":"a"},
       "spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"minReplicas":3}}
    ]}"#;

    #[test]
    fn ownership_through_replicasets_and_hash_fallback() {
        let c = cluster(BASE);
        assert_eq!(c.workload_pods[0], vec![0, 1]);
        assert_eq!(c.pod_owner, vec![Some(0), Some(0), None]);
    }

    #[test]
    fn pdbs_cover_workloads_in_their_namespace_only() {
        let c = cluster(BASE);
        assert_eq!(c.workload_pdbs[0], vec![0]);
        assert!(c.pdb_workloads[1].is_empty());
    }

    #[test]
    fn hpa_min_replicas() {
        let c = cluster(BASE);
        assert_eq!(c.workload_hpa_min[0], Some(3));
    }

    #[test]
    fn namespaces_from_objects() {
        let c = cluster(BASE);
        assert_eq!(c.namespaces.iter().collect::<Vec<_>>(), ["a", "b"]);
    }
}
