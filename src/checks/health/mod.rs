//! Infrastructure-health checks (`health/*`, monitor `infra-health`): is the
//! cluster healthy right now? A crash-looping broker or a stuck rollout shows
//! up as its own red test instead of a day of "just another flake".
//!
//! Findings about pods name the pod's owner (`StatefulSet/broker`), so that
//! exceptions stay valid when pods are recreated under new names.

use crate::checks::{CheckInfo, Finding, Severity};
use crate::model::objects::{ContainerStatus, Pod, Str};
use crate::model::{Cluster, Index};

pub mod cluster_operators;
pub mod cluster_version;
pub mod crashloop;
pub mod endpoints;
pub mod events;
pub mod image_pull;
pub mod machine_config_pools;
pub mod namespaces;
pub mod nodes;
pub mod not_ready;
pub mod oom;
pub mod pending;
pub mod restarts;
pub mod rollout;

/// A finding about pod `pi`, reported on its owner when it has one.
pub fn pod_finding(
    info: &CheckInfo,
    c: &Cluster,
    pi: usize,
    container: Option<&str>,
    detail: String,
    severity: Severity,
) -> Finding {
    let pod = &c.pods[pi];
    let (kind, name, pod_name) = match c.pod_owner[pi] {
        Some(wi) => {
            let w = &c.workloads[wi];
            (
                Str::from(w.kind.as_str()),
                w.metadata.name.clone(),
                Some(pod.metadata.name.clone()),
            )
        }
        None => match pod.metadata.controller() {
            Some(ctrl) => (
                ctrl.kind.clone(),
                ctrl.name.clone(),
                Some(pod.metadata.name.clone()),
            ),
            None => ("Pod".into(), pod.metadata.name.clone(), None),
        },
    };
    Finding {
        check: info.id,
        namespace: pod.metadata.namespace.clone(),
        kind,
        name,
        pod: pod_name,
        container: container.map(Str::from),
        detail,
        severity,
    }
}

/// Every container status of a pod, init containers first, with a flag for init.
pub fn statuses(pod: &Pod) -> impl Iterator<Item = (&ContainerStatus, bool)> {
    pod.status
        .init_container_statuses
        .iter()
        .map(|s| (s, true))
        .chain(pod.status.container_statuses.iter().map(|s| (s, false)))
}

/// Every container status in the cluster with its pod's index, init
/// containers first within a pod: what the container-level checks walk.
pub fn containers(c: &Cluster) -> impl Iterator<Item = (usize, &ContainerStatus, bool)> {
    c.pods
        .iter()
        .enumerate()
        // A pod that is done (a finished Job's, or one that failed and is
        // judged by health/not-ready) has no container to restart or pull.
        .filter(|(_, pod)| !is_done(pod))
        .flat_map(|(pi, pod)| statuses(pod).map(move |(cs, init)| (pi, cs, init)))
}

/// Phase Succeeded or Failed: the pod's containers will not run again.
pub fn is_done(pod: &Pod) -> bool {
    matches!(pod.status.phase.as_str(), "Succeeded" | "Failed")
}

/// Being deleted and still within its grace period: it is going away on
/// purpose (a rollout, a drain), so it being unready is not a finding.
pub fn terminating_in_grace(pod: &Pod, now: chrono::DateTime<chrono::Utc>) -> bool {
    pod.metadata
        .deletion_timestamp
        .as_deref()
        .and_then(crate::model::time::parse)
        .is_some_and(|deadline| now <= deadline)
}

/// A finding about one container of pod `pi`.
pub fn container_finding(
    info: &CheckInfo,
    c: &Cluster,
    pi: usize,
    cs: &ContainerStatus,
    detail: String,
    severity: Severity,
) -> Finding {
    pod_finding(info, c, pi, Some(&cs.name), detail, severity)
}

/// `init container` or `container`, for messages.
pub fn container_label(init: bool) -> &'static str {
    if init {
        "init container"
    } else {
        "container"
    }
}

/// The last termination as text: `Error, exit code 1, at 2021-08-03T09:40:00Z`.
/// The last termination, with its age against the state's `now` ("54m ago").
pub fn last_termination(
    cs: &ContainerStatus,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<String> {
    let t = cs
        .last_state
        .terminated
        .as_ref()
        .or(cs.state.terminated.as_ref())?;
    let mut s = format!(
        "{}, exit code {}",
        t.reason.as_deref().unwrap_or("terminated"),
        t.exit_code
    );
    if let Some(at) = &t.finished_at {
        s.push_str(&format!(", at {at}"));
        if let Some(a) = crate::model::time::age(Some(at), now) {
            s.push_str(&format!(" ({} ago)", crate::model::time::human(a)));
        }
    }
    Some(s)
}

/// Shortens free text (event and condition messages) for one-line details.
pub fn clip(s: &str, max: usize) -> String {
    let s = s.trim().replace('\n', " ");
    if s.chars().count() <= max {
        return s;
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}

/// Pods by name, and the workload a pod belonged to from the pod's name
/// alone, for events and watch intervals about pods that no longer exist: `<deployment>-<hash>-<suffix>`
/// (through its ReplicaSet when that was read), `<statefulset>-<ordinal>`,
/// `<daemonset>-<suffix>`. Only workloads in the state are named.
pub struct PodOwners<'a> {
    c: &'a crate::model::Cluster,
    /// Pods in the state by (namespace, name).
    pods: Index<(&'a str, &'a str), usize>,
    workloads: Index<(&'a str, &'a str), usize>,
    /// ReplicaSet (namespace, name) -> its Deployment's name.
    replicasets: Index<(&'a str, &'a str), &'a str>,
}

impl<'a> PodOwners<'a> {
    pub fn new(c: &'a crate::model::Cluster) -> Self {
        PodOwners {
            c,
            pods: c
                .pods
                .iter()
                .enumerate()
                .map(|(i, p)| ((p.metadata.namespace.as_str(), p.metadata.name.as_str()), i))
                .collect(),
            workloads: c
                .workloads
                .iter()
                .enumerate()
                .map(|(i, w)| ((w.metadata.namespace.as_str(), w.metadata.name.as_str()), i))
                .collect(),
            replicasets: c
                .replicasets
                .iter()
                .filter_map(|r| {
                    let owner = r.metadata.controller().filter(|o| o.kind == "Deployment")?;
                    Some((
                        (r.metadata.namespace.as_str(), r.metadata.name.as_str()),
                        owner.name.as_str(),
                    ))
                })
                .collect(),
        }
    }

    pub fn cluster(&self) -> &'a Cluster {
        self.c
    }

    /// The pod with this name in the state.
    pub fn pod(&self, ns: &str, name: &str) -> Option<usize> {
        self.pods.get(&(ns, name)).copied()
    }

    /// The Deployment owning a ReplicaSet, when both were read.
    pub fn of_replicaset(&self, ns: &str, rs: &str) -> Option<usize> {
        let deploy = self.replicasets.get(&(ns, rs))?;
        self.workloads.get(&(ns, *deploy)).copied().filter(|&wi| {
            self.c.workloads[wi].kind == crate::model::objects::WorkloadKind::Deployment
        })
    }

    pub fn of_deleted_pod(&self, ns: &str, pod: &str) -> Option<usize> {
        use crate::model::objects::WorkloadKind;
        let kind_of = |name: &str, kinds: &[WorkloadKind]| {
            self.workloads
                .get(&(ns, name))
                .copied()
                .filter(|&wi| kinds.contains(&self.c.workloads[wi].kind))
        };
        let (stem, last) = pod.rsplit_once('-')?;
        // <statefulset>-<ordinal>
        if last.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(wi) = kind_of(stem, &[WorkloadKind::StatefulSet]) {
                return Some(wi);
            }
        }
        // <replicaset>-<suffix>, the ReplicaSet being <deployment>-<hash>
        if let Some(deploy) = self.replicasets.get(&(ns, stem)) {
            if let Some(wi) = kind_of(deploy, &[WorkloadKind::Deployment]) {
                return Some(wi);
            }
        }
        if let Some((deploy, _hash)) = stem.rsplit_once('-') {
            if let Some(wi) = kind_of(deploy, &[WorkloadKind::Deployment]) {
                return Some(wi);
            }
        }
        // <daemonset>-<suffix>
        kind_of(stem, &[WorkloadKind::DaemonSet])
    }
}
