//! The cluster model and its indexes.
//!
//! Every relation a check needs (pods of a workload, PDBs covering a
//! workload, the HPA scaling it) is resolved here once, so that checks stay
//! linear in the number of objects.

use std::collections::{BTreeSet, HashMap};

use super::objects::*;
use super::selector::Labels;
use super::Index;

#[derive(Debug, Default)]
pub struct Cluster {
    /// Every namespace known: from Namespace objects and from the namespaced
    /// objects read, sorted.
    pub namespaces: BTreeSet<String>,
    /// Labels of the Namespace objects read.
    pub namespace_labels: HashMap<String, Labels>,
    /// The namespaces being deleted, by name: their objects are going away
    /// and are not judged; `health/namespaces` judges how long it takes.
    pub terminating: std::collections::BTreeMap<String, Box<Namespace>>,
    pub nodes: Vec<Box<Node>>,
    pub pods: Vec<Box<Pod>>,
    pub workloads: Vec<Box<Workload>>,
    pub replicasets: Vec<Box<ReplicaSet>>,
    pub pdbs: Vec<Box<Pdb>>,
    pub hpas: Vec<Box<Hpa>>,
    pub services: Vec<Box<Service>>,
    pub endpoint_slices: Vec<Box<EndpointSlice>>,
    pub endpoints: Vec<Box<Endpoints>>,
    pub events: Vec<Box<Event>>,
    pub infrastructure: Option<Infrastructure>,
    /// OpenShift's own health reports: operators, the cluster version, the
    /// machine config pools (empty elsewhere).
    pub cluster_operators: Vec<Box<ClusterOperator>>,
    pub cluster_version: Option<Box<ClusterVersion>>,
    pub machine_config_pools: Vec<Box<MachineConfigPool>>,
    /// Workloads of kinds vigil has no rules for.
    pub unjudged: Vec<Box<Unjudged>>,
    /// What `vigil watch` recorded during the run (empty otherwise).
    pub intervals: Vec<super::intervals::Interval>,

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

impl Cluster {
    pub fn from_objects(objects: Vec<Object>) -> Cluster {
        let mut c = Cluster::default();
        // Sized up front: growing by doubling would leave half-empty lists
        // behind. Every object stays in the box it was decoded into: moving
        // it out would copy it and leave the box's memory as a hole the
        // allocator keeps (at 150k pods, 105 MB for pods and workloads alone).
        let mut counts = [0usize; 10];
        for o in &objects {
            let slot = match o {
                Object::Node(_) => 0,
                Object::Pod(_) => 1,
                Object::Workload(_) => 2,
                Object::ReplicaSet(_) => 3,
                Object::Pdb(_) => 4,
                Object::Hpa(_) => 5,
                Object::Service(_) => 6,
                Object::EndpointSlice(_) => 7,
                Object::Endpoints(_) => 8,
                Object::Event(_) => 9,
                _ => continue,
            };
            counts[slot] += 1;
        }
        c.nodes.reserve_exact(counts[0]);
        c.pods.reserve_exact(counts[1]);
        c.workloads.reserve_exact(counts[2]);
        c.replicasets.reserve_exact(counts[3]);
        c.pdbs.reserve_exact(counts[4]);
        c.hpas.reserve_exact(counts[5]);
        c.services.reserve_exact(counts[6]);
        c.endpoint_slices.reserve_exact(counts[7]);
        c.endpoints.reserve_exact(counts[8]);
        c.events.reserve_exact(counts[9]);
        // Objects come grouped by namespace (one List or file per
        // namespace): the set is only searched when the namespace changes.
        let mut last_ns = Str::default();
        for obj in objects {
            let ns = &obj.metadata().namespace;
            if !ns.is_empty() && *ns != last_ns {
                if !c.namespaces.contains(ns.as_str()) {
                    c.namespaces.insert(ns.to_string());
                }
                last_ns = ns.clone();
            }
            match obj {
                Object::Namespace(mut n) => {
                    let name = n.metadata.name.to_string();
                    c.namespace_labels
                        .insert(name.clone(), std::mem::take(&mut n.metadata.labels));
                    c.namespaces.insert(name.clone());
                    if n.terminating() {
                        c.terminating.insert(name, n);
                    }
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
                Object::Unjudged(u) => c.unjudged.push(u),
                Object::ClusterOperator(o) => c.cluster_operators.push(o),
                Object::ClusterVersion(v) => {
                    // The singleton is named `version`.
                    if c.cluster_version.is_none() || v.metadata.name == "version" {
                        c.cluster_version = Some(v)
                    }
                }
                Object::MachineConfigPool(p) => c.machine_config_pools.push(p),
                Object::Infrastructure(i) => {
                    // The singleton is named `cluster`; prefer it over any other.
                    if c.infrastructure.is_none() || i.metadata.name == "cluster" {
                        c.infrastructure = Some(*i)
                    }
                }
            }
        }
        c.build_indexes();
        c
    }

    /// A namespace's labels, with `kubernetes.io/metadata.name`, which the
    /// API server sets on every namespace (also when no Namespace object
    /// was read).
    pub fn labels_of_namespace(&self, ns: &str) -> Labels {
        let own = self.namespace_labels.get(ns);
        own.into_iter()
            .flat_map(|l| l.iter())
            .chain(std::iter::once(("kubernetes.io/metadata.name", ns)))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// How many objects of `kind` the state holds.
    pub fn count(&self, kind: &str) -> usize {
        match kind {
            "Namespace" => self.namespace_labels.len(),
            "Node" => self.nodes.len(),
            "Pod" => self.pods.len(),
            "Deployment" | "StatefulSet" | "DaemonSet" => self
                .workloads
                .iter()
                .filter(|w| w.kind.as_str() == kind)
                .count(),
            "ReplicaSet" => self.replicasets.len(),
            "PodDisruptionBudget" => self.pdbs.len(),
            "HorizontalPodAutoscaler" => self.hpas.len(),
            "Service" => self.services.len(),
            "EndpointSlice" => self.endpoint_slices.len(),
            "Endpoints" => self.endpoints.len(),
            "Event" => self.events.len(),
            "Infrastructure" => usize::from(self.infrastructure.is_some()),
            "ClusterOperator" => self.cluster_operators.len(),
            "ClusterVersion" => usize::from(self.cluster_version.is_some()),
            "MachineConfigPool" => self.machine_config_pools.len(),
            "ReplicationController" | "DeploymentConfig" | "Rollout" => {
                self.unjudged.iter().filter(|u| u.kind == kind).count()
            }
            _ => 0,
        }
    }

    fn build_indexes(&mut self) {
        let idx = Indexes::build(self);
        self.workload_pods = idx.workload_pods;
        self.pod_owner = idx.pod_owner;
        self.workload_pdbs = idx.workload_pdbs;
        self.pdb_workloads = idx.pdb_workloads;
        self.workload_hpa_min = idx.workload_hpa_min;
    }

    /// The names of the objects of a per-object check's kind, sorted.
    pub fn object_names(&self, kind: &str) -> Vec<String> {
        let mut names: Vec<String> = match kind {
            "ClusterOperator" => self
                .cluster_operators
                .iter()
                .map(|o| o.metadata.name.to_string())
                .collect(),
            "ClusterVersion" => self
                .cluster_version
                .iter()
                .map(|o| o.metadata.name.to_string())
                .collect(),
            "MachineConfigPool" => self
                .machine_config_pools
                .iter()
                .map(|o| o.metadata.name.to_string())
                .collect(),
            // Backends polled during the run: one per backend and connection.
            crate::model::intervals::BACKEND_KIND => self
                .intervals
                .iter()
                .filter(|i| i.reason == crate::model::intervals::Reason::DisruptionPolled)
                .map(crate::model::intervals::backend_object)
                .collect(),
            _ => Vec::new(),
        };
        names.sort_unstable();
        names.dedup();
        names
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

/// The relations between objects, computed with borrowed keys so that
/// building them allocates nothing per object.
struct Indexes {
    workload_pods: Vec<Vec<usize>>,
    pod_owner: Vec<Option<usize>>,
    workload_pdbs: Vec<Vec<usize>>,
    pdb_workloads: Vec<Vec<usize>>,
    workload_hpa_min: Vec<Option<i64>>,
}

type Key<'a> = (WorkloadKind, &'a str, &'a str);

impl Indexes {
    fn build(c: &Cluster) -> Indexes {
        // PDBs and owners are independent: on a second core, the PDB
        // matching takes a third of building the indexes off the critical path.
        let (mut idx, (workload_pdbs, pdb_workloads)) =
            crate::parallel::join(|| Indexes::owners(c), || pdb_matches(c));
        idx.workload_pdbs = workload_pdbs;
        idx.pdb_workloads = pdb_workloads;
        idx
    }

    /// Pods and HPAs to their workloads.
    fn owners(c: &Cluster) -> Indexes {
        let by_key: Index<Key, usize> = c
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| {
                (
                    (
                        w.kind,
                        w.metadata.namespace.as_str(),
                        w.metadata.name.as_str(),
                    ),
                    i,
                )
            })
            .collect();

        // ReplicaSet -> owning Deployment name.
        let rs_owner: Index<(&str, &str), &str> = c
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

        let mut workload_pods = vec![Vec::new(); c.workloads.len()];
        let mut pod_owner = Vec::with_capacity(c.pods.len());
        for (pi, pod) in c.pods.iter().enumerate() {
            let owner = resolve_owner(pod, &rs_owner, &by_key);
            if let Some(wi) = owner {
                workload_pods[wi].push(pi);
            }
            pod_owner.push(owner);
        }

        let mut workload_hpa_min = vec![None; c.workloads.len()];
        for hpa in &c.hpas {
            let target = &hpa.spec.scale_target_ref;
            let kind = match target.kind.as_str() {
                "Deployment" => WorkloadKind::Deployment,
                "StatefulSet" => WorkloadKind::StatefulSet,
                _ => continue,
            };
            if let Some(&wi) =
                by_key.get(&(kind, hpa.metadata.namespace.as_str(), target.name.as_str()))
            {
                let min = hpa.spec.min_replicas.unwrap_or(1);
                let slot: &mut Option<i64> = &mut workload_hpa_min[wi];
                *slot = Some(slot.map_or(min, |m| m.max(min)));
            }
        }
        Indexes {
            workload_pods,
            pod_owner,
            workload_pdbs: Vec::new(),
            pdb_workloads: Vec::new(),
            workload_hpa_min,
        }
    }
}

/// PDB -> workloads and workload -> PDBs.
fn pdb_matches(c: &Cluster) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    // PDB -> workloads: candidates come from an index of pod-template
    // labels, so a PDB is compared with the workloads sharing one of its
    // matchLabels pairs, not with its whole namespace.
    let mut by_label: Index<(&str, &str, &str), Vec<usize>> = Index::default();
    let mut ns_workloads: Index<&str, Vec<usize>> = Index::default();
    for (i, w) in c.workloads.iter().enumerate() {
        let ns = w.metadata.namespace.as_str();
        ns_workloads.entry(ns).or_default().push(i);
        for (k, v) in w.pod_labels().iter() {
            by_label.entry((ns, k, v)).or_default().push(i);
        }
    }
    let mut workload_pdbs = vec![Vec::new(); c.workloads.len()];
    let mut pdb_workloads = Vec::with_capacity(c.pdbs.len());
    for (pi, pdb) in c.pdbs.iter().enumerate() {
        let ns = pdb.metadata.namespace.as_str();
        let first_pair = pdb
            .spec
            .selector
            .as_ref()
            .and_then(|s| s.match_labels.iter().next());
        let candidates: &[usize] = match first_pair {
            Some((k, v)) => by_label.get(&(ns, k, v)).map_or(&[], Vec::as_slice),
            None => ns_workloads.get(ns).map_or(&[], Vec::as_slice),
        };
        let mut selected = Vec::new();
        for &wi in candidates {
            if pdb.selects(c.workloads[wi].pod_labels()) {
                selected.push(wi);
                workload_pdbs[wi].push(pi);
            }
        }
        pdb_workloads.push(selected);
    }

    (workload_pdbs, pdb_workloads)
}

/// Pod -> ReplicaSet -> Deployment, or Pod -> StatefulSet/DaemonSet. When the
/// ReplicaSet was not collected, the Deployment is found by stripping the
/// `pod-template-hash` suffix from the ReplicaSet's name.
fn resolve_owner(
    pod: &Pod,
    rs_owner: &Index<(&str, &str), &str>,
    by_key: &Index<Key, usize>,
) -> Option<usize> {
    let ctrl = pod.metadata.controller()?;
    let ns = pod.metadata.namespace.as_str();
    let (kind, name): (WorkloadKind, &str) = match ctrl.kind.as_str() {
        "StatefulSet" => (WorkloadKind::StatefulSet, &ctrl.name),
        "DaemonSet" => (WorkloadKind::DaemonSet, &ctrl.name),
        "ReplicaSet" => {
            let dep = match rs_owner.get(&(ns, ctrl.name.as_str())) {
                Some(d) => *d,
                None => {
                    let hash = pod.metadata.labels.get("pod-template-hash")?;
                    ctrl.name.strip_suffix(hash)?.strip_suffix('-')?
                }
            };
            (WorkloadKind::Deployment, dep)
        }
        _ => return None,
    };
    by_key.get(&(kind, ns, name)).copied()
}

/// The newest timestamp anywhere in `objects`: the best guess of when the
/// state was collected when nothing says so.
pub fn newest_timestamp(objects: &[Object]) -> Option<chrono::DateTime<chrono::Utc>> {
    use super::time::parse;
    // Kubernetes writes `2026-11-22T04:00:00Z`: strings of that one shape
    // order as their times do, so only the latest of them is parsed.
    let mut newest_plain: Option<&str> = None;
    let mut newest_other = None;
    each_timestamp(objects, &mut |s| {
        if is_plain_utc(s) {
            if newest_plain.is_none_or(|n| s > n) {
                newest_plain = Some(s);
            }
        } else {
            newest_other = newest_other.max(parse(s));
        }
    });
    let plain = match newest_plain.map(parse) {
        // Shaped but impossible (month 13): parse them all.
        Some(None) => {
            let mut newest = None;
            each_timestamp(objects, &mut |s| {
                if is_plain_utc(s) {
                    newest = newest.max(parse(s));
                }
            });
            newest
        }
        newest => newest.flatten(),
    };
    plain.max(newest_other)
}

/// Calls `f` with every timestamp of the objects that carry the state's time.
fn each_timestamp<'a>(objects: &'a [Object], f: &mut dyn FnMut(&'a str)) {
    for obj in objects {
        let conditions: &[Condition] = match obj {
            Object::Pod(p) => {
                p.status
                    .container_statuses
                    .iter()
                    .chain(&p.status.init_container_statuses)
                    .flat_map(|c| [&c.state, &c.last_state])
                    .filter_map(|s| s.terminated.as_ref()?.finished_at.as_deref())
                    .for_each(&mut *f);
                &p.status.conditions
            }
            Object::Node(n) => &n.status.conditions,
            Object::Workload(w) => &w.status.conditions,
            Object::Event(e) => {
                [
                    e.last_timestamp.as_deref(),
                    e.event_time.as_deref(),
                    e.first_timestamp.as_deref(),
                    e.series
                        .as_ref()
                        .and_then(|s| s.last_observed_time.as_deref()),
                ]
                .into_iter()
                .flatten()
                .for_each(&mut *f);
                &[]
            }
            _ => continue,
        };
        obj.metadata()
            .creation_timestamp
            .as_deref()
            .into_iter()
            .for_each(&mut *f);
        conditions
            .iter()
            .filter_map(|c| c.last_transition_time.as_deref())
            .for_each(&mut *f);
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, digits where digits belong.
fn is_plain_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
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

    fn newest(json: &str) -> String {
        let objects = serde_json::from_str::<Doc>(json).unwrap().objects;
        newest_timestamp(&objects).unwrap().to_rfc3339()
    }

    #[test]
    fn the_newest_timestamp_compares_times_not_strings() {
        let pod = |created: &str| {
            format!(
                r#"{{"kind":"Pod","metadata":{{"name":"p{created}","namespace":"a","creationTimestamp":"{created}"}}}}"#
            )
        };
        let event = |at: &str| {
            format!(
                r#"{{"kind":"Event","metadata":{{"name":"e","namespace":"a"}},"eventTime":"{at}"}}"#
            )
        };
        let items = |objs: &[String]| format!(r#"{{"items":[{}]}}"#, objs.join(","));
        // Six digits of a second are later than the whole second, though
        // "05.5Z" sorts before "05Z" as text.
        assert_eq!(
            newest(&items(&[
                pod("2026-01-01T00:00:05Z"),
                event("2026-01-01T00:00:05.500000Z"),
                pod("2026-01-01T00:00:04Z")
            ])),
            "2026-01-01T00:00:05.500+00:00"
        );
        // An offset is converted: 01:00+02:00 is 23:00 the day before.
        assert_eq!(
            newest(&items(&[
                pod("2026-01-01T00:00:06Z"),
                pod("2026-01-01T01:00:00+02:00")
            ])),
            "2026-01-01T00:00:06+00:00"
        );
        // A shaped but impossible time is skipped, not taken as the newest.
        assert_eq!(
            newest(&items(&[
                pod("2026-13-01T00:00:00Z"),
                pod("2026-01-02T00:00:00Z"),
                pod("2026-01-01T00:00:00Z")
            ])),
            "2026-01-02T00:00:00+00:00"
        );
    }

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
