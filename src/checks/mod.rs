//! Checks: each one reads the cluster model and reports violations
//! ([`Finding`]s). One file per check; [`ALL`] is the registry, in the order
//! test cases are written.
//!
//! A check knows nothing of exceptions or JUnit: it only says what is wrong,
//! naming the object and the observed values.

use serde::Serialize;
use std::fmt;

use crate::model::objects::{Str, Workload, WorkloadKind};
use crate::model::{Cluster, Topology};

pub mod disruption;
pub mod during;
pub mod ha;
pub mod health;

#[cfg(test)]
pub(crate) mod testing;

/// The Sippy monitor a check's test cases belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Monitor {
    #[serde(rename = "ha-compliance")]
    HaCompliance,
    #[serde(rename = "infra-health")]
    InfraHealth,
    /// Availability measured during the run (`vigil watch --disruption`).
    #[serde(rename = "disruption")]
    Disruption,
}

impl Monitor {
    pub fn as_str(self) -> &'static str {
        match self {
            Monitor::HaCompliance => "ha-compliance",
            Monitor::InfraHealth => "infra-health",
            Monitor::Disruption => "disruption",
        }
    }
}

/// How a check's violations are weighed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A violation no exception covers fails.
    Blocking,
    /// Every violation flakes: how a new check rolls out until its
    /// exceptions are filed (a failing then a passing case, as Sippy reads
    /// flakes).
    FlakeOnly,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Blocking => "blocking",
            Mode::FlakeOnly => "flake-only",
        })
    }
}

/// Sippy's lifecycle of a check's tests: whether their failures block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    /// Failures fail the job (vigil exits 1).
    Blocking,
    /// Failures are written as failures with `lifecycle="informing"`: Sippy
    /// shows them without blocking, and they never change vigil's exit code.
    Informing,
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lifecycle::Blocking => "blocking",
            Lifecycle::Informing => "informing",
        })
    }
}

/// Which conventions the HA checks enforce (`--profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Plain Kubernetes: any priority class, limits allowed.
    #[default]
    Generic,
    /// OpenShift platform conventions: system priority classes, requests without limits,
    /// DaemonSets rolling 10% or 33% at a time.
    Openshift,
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Profile::Generic => "generic",
            Profile::Openshift => "openshift",
        })
    }
}

/// How bad one finding is on its own, before exceptions are weighed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Flake,
    Fail,
}

/// One violation of one rule by one object.
///
/// Names are [`Str`]s, kept inline up to 24 bytes: a large cluster's run holds
/// a hundred thousand findings until the JUnit is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub namespace: Str,
    /// The object's kind, e.g. `Deployment`.
    pub kind: Str,
    pub name: Str,
    /// The pod, when the object is its owner (`StatefulSet/broker`, pod `broker-0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Str>,
    /// What is wrong, with the observed values: `spec.replicas=1, want >= 2`.
    pub detail: String,
    pub severity: Severity,
}

impl Finding {
    /// A finding about an object itself (no pod, no container).
    pub fn object_level(
        check: &'static str,
        namespace: &str,
        kind: &str,
        name: &str,
        detail: String,
        severity: Severity,
    ) -> Finding {
        Finding {
            check,
            namespace: namespace.into(),
            kind: kind.into(),
            name: name.into(),
            pod: None,
            container: None,
            detail,
            severity,
        }
    }

    /// `Kind/name`, as exception `object` globs match it.
    pub fn object(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// What the finding says after its object, as exception `finding` globs
    /// match it: `pod p container c: detail`, `container c: detail`, or the
    /// detail alone.
    pub fn text(&self) -> String {
        let mut s = String::new();
        if let Some(p) = &self.pod {
            s.push_str("pod ");
            s.push_str(p);
            s.push(' ');
        }
        if let Some(c) = &self.container {
            s.push_str("container ");
            s.push_str(c);
            s.push_str(": ");
        } else if !s.is_empty() {
            s.pop();
            s.push_str(": ");
        }
        s.push_str(&self.detail);
        s
    }
}

impl fmt::Display for Finding {
    /// `Deployment/console container proxy: no readinessProbe`, or with the
    /// pod: `StatefulSet/broker pod broker-0 container broker: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.pod.is_some() || self.container.is_some() {
            " "
        } else {
            ": "
        };
        write!(f, "{}/{}{sep}{}", self.kind, self.name, self.text())
    }
}

/// A configurable number a check compares against.
#[derive(Debug, Clone, Copy)]
pub struct Threshold {
    pub name: &'static str,
    pub default: i64,
    pub help: &'static str,
}

/// Static description of a check.
#[derive(Debug)]
pub struct CheckInfo {
    /// Stable id, used in exception files and the policy file.
    pub id: &'static str,
    pub monitor: Monitor,
    /// The test name's subject: `workloads` in `workloads in ns/x should ...`.
    pub subject: &'static str,
    /// The test name's predicate, after `should`.
    pub should: &'static str,
    /// The rule, for `vigil checks` and the README.
    pub rule: &'static str,
    pub default_mode: Mode,
    pub default_lifecycle: Lifecycle,
    /// Passes on single-node topology.
    pub multi_node: bool,
    /// Object kinds the check reports.
    pub kinds: &'static [&'static str],
    /// For checks about the cluster as a whole: the Jira component of their
    /// single test, named `<subject> should <should>` without a namespace.
    pub cluster_scoped: Option<&'static str>,
    /// For checks with one test per object of `kinds[0]` (OpenShift's
    /// ClusterOperators): the name's subject before `/<object name>`, e.g.
    /// `clusteroperator`; the component comes from owners.yaml's
    /// `operators:`, else `cluster_scoped`.
    pub per_object: Option<&'static str>,
    /// Kinds the check reads; `A|B` means either will do. When a live run
    /// could not list one, the check's tests fail as not evaluated.
    pub needs: &'static [&'static str],
    pub thresholds: &'static [Threshold],
}

impl CheckInfo {
    /// The Sippy test name. No counts, ids or object names: the same test
    /// must have the same name in every run. `namespace` is `None` for
    /// cluster-scoped tests.
    pub fn test_name(&self, component: Option<&str>, namespace: Option<&str>) -> String {
        let place = namespace
            .map(|ns| format!(" in ns/{ns}"))
            .unwrap_or_default();
        // owners.yaml refuses names that cannot stand in a tag; the replace
        // only guards names built elsewhere.
        let tag = component
            .map(|c| format!("[Jira:\"{}\"]", c.replace(['"', ']'], "'")))
            .unwrap_or_default();
        format!(
            "[Monitor:{}]{tag} {}{place} should {}",
            self.monitor.as_str(),
            self.subject,
            self.should
        )
    }

    /// The Sippy test name of a per-object check's test about `object`:
    /// `[Monitor:infra-health][Jira:"kube-apiserver"] clusteroperator/kube-apiserver should ...`.
    pub fn object_test_name(&self, component: Option<&str>, object: &str) -> String {
        let tag = component
            .map(|c| format!("[Jira:\"{}\"]", c.replace(['"', ']'], "'")))
            .unwrap_or_default();
        format!(
            "[Monitor:{}]{tag} {}/{object} should {}",
            self.monitor.as_str(),
            self.per_object.unwrap_or(self.subject),
            self.should
        )
    }

    /// The check's test name as `vigil checks` shows it: with
    /// `ns/<namespace>` for per-namespace checks, with the component for
    /// cluster-wide ones.
    pub fn test_name_pattern(&self) -> String {
        if self.per_object.is_some() {
            return self.object_test_name(None, "<name>");
        }
        match self.cluster_scoped {
            Some(component) => self.test_name(Some(component), None),
            None => self.test_name(None, Some("<namespace>")),
        }
    }
}

/// Everything a check may read.
pub struct Context<'a> {
    pub cluster: &'a Cluster,
    /// The time the state describes; ages are measured against it.
    pub now: chrono::DateTime<chrono::Utc>,
    pub topology: &'a Topology,
    pub profile: Profile,
    /// Threshold values by name for the check being run (defaults applied).
    pub thresholds: &'a (dyn Fn(&'static str, &'static str) -> i64 + Sync),
    /// Per-backend disruption allowances (policy.yaml's
    /// `allowed-seconds/NAME` of disruption/backends), in seconds.
    pub allowances: &'a std::collections::BTreeMap<String, i64>,
    /// Pods and workloads by name, built once when a check first asks
    /// ([`Context::pod_owners`]): `Default::default()` here.
    pub owners: std::sync::OnceLock<health::PodOwners<'a>>,
}

impl<'a> Context<'a> {
    /// The disruption allowance policy.yaml sets for backend `name`.
    pub fn allowance(&self, name: &str) -> Option<i64> {
        self.allowances.get(name).copied()
    }

    /// The name indexes that health/events and the intervals of a watch use
    /// to report a pod on its owner: one build per run, shared by the checks.
    pub fn pod_owners(&self) -> &health::PodOwners<'a> {
        self.owners
            .get_or_init(|| health::PodOwners::new(self.cluster))
    }
}

impl Context<'_> {
    /// Workloads of the given kinds, skipping those scaled to zero (which pass).
    pub fn workloads<'s>(
        &'s self,
        kinds: &'s [WorkloadKind],
    ) -> impl Iterator<Item = (usize, &'s Workload)> + 's {
        self.cluster
            .workloads
            .iter()
            .map(|w| &**w)
            .enumerate()
            .filter(move |(_, w)| kinds.contains(&w.kind) && !w.is_scaled_to_zero())
    }

    /// Replicas a workload is meant to run: `spec.replicas`, raised to the
    /// HPA's `minReplicas` when one targets it. `None` for DaemonSets. The
    /// rules about how replicas are spread and rolled judge this.
    pub fn desired_replicas(&self, wi: usize) -> Option<i64> {
        desired_replicas(self.cluster, wi)
    }

    /// The fewest replicas a workload may run at: the HPA's `minReplicas`
    /// when one targets it (it may scale down to that at any time, whatever
    /// `spec.replicas` says now), else `spec.replicas`. `None` for
    /// DaemonSets. `ha/replicas` and `ha/pdb-disruptions` judge this.
    pub fn floor_replicas(&self, wi: usize) -> Option<i64> {
        floor_replicas(self.cluster, wi)
    }

    /// Deployments and StatefulSets meant to run two replicas or more.
    pub fn replicated(&self) -> impl Iterator<Item = (usize, &Workload, i64)> + '_ {
        let c = self.cluster;
        self.workloads(REPLICATED).filter_map(move |(wi, w)| {
            let r = desired_replicas(c, wi)?;
            (r >= 2).then_some((wi, w, r))
        })
    }
}

pub fn floor_replicas(c: &Cluster, wi: usize) -> Option<i64> {
    let r = c.workloads[wi].replicas()?;
    Some(c.workload_hpa_min[wi].unwrap_or(r))
}

fn desired_replicas(c: &Cluster, wi: usize) -> Option<i64> {
    let r = c.workloads[wi].replicas()?;
    Some(c.workload_hpa_min[wi].map_or(r, |m| m.max(r)))
}

pub const REPLICATED: &[WorkloadKind] = &[WorkloadKind::Deployment, WorkloadKind::StatefulSet];
pub const ALL_WORKLOADS: &[WorkloadKind] = &[
    WorkloadKind::Deployment,
    WorkloadKind::StatefulSet,
    WorkloadKind::DaemonSet,
];
pub const WORKLOAD_KINDS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet"];

/// A check: static description plus evaluation.
pub trait Check: Sync {
    fn info(&self) -> &'static CheckInfo;
    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>);
    /// Why the rule does not apply to this cluster or profile (its tests
    /// are then skipped, saying so); `None` when it applies.
    fn not_applicable(&self, _ctx: &Context) -> Option<String> {
        None
    }
    /// Why the rule does not apply to namespace `ns` (its test there is
    /// skipped, saying so); `None` when it applies.
    fn not_applicable_in(&self, _ctx: &Context, _ns: &str) -> Option<String> {
        None
    }
}

/// For checks of OpenShift's conventions: they apply under `--profile openshift`.
pub fn openshift_only(ctx: &Context) -> Option<String> {
    (ctx.profile != Profile::Openshift).then(|| {
        "not applicable: an OpenShift convention, judged under --profile openshift".to_owned()
    })
}

/// Whether OpenShift's conventions judge namespace `ns`: origin's
/// "[sig-arch] Managed cluster" tests look at `kube-*` and `openshift-*`
/// (each check narrows or widens it as its origin test does).
pub fn platform_namespace(ns: &str) -> bool {
    ns.starts_with("openshift-") || ns.starts_with("kube-")
}

/// Builds a finding for a workload-level violation.
pub fn workload_finding(
    info: &CheckInfo,
    w: &Workload,
    container: Option<&str>,
    detail: String,
) -> Finding {
    Finding {
        check: info.id,
        namespace: w.metadata.namespace.clone(),
        kind: w.kind.as_str().into(),
        name: w.metadata.name.clone(),
        pod: None,
        container: container.map(Str::from),
        detail,
        severity: Severity::Fail,
    }
}

/// Every check, in the order their test cases are written.
pub static ALL: &[&dyn Check] = &[
    &ha::replicas::Replicas,
    &ha::pdb::Pdb,
    &ha::pdb_disruptions::PdbDisruptions,
    &ha::pdb_eviction_policy::PdbEvictionPolicy,
    &ha::anti_affinity::AntiAffinity,
    &ha::spread::Spread,
    &ha::probes::Probes,
    &ha::priority_class::PriorityClass,
    &ha::resources::Resources,
    &ha::rollout_strategy::RolloutStrategy,
    &ha::single_replica::SingleReplica,
    &ha::tolerations::Tolerations,
    &ha::run_level::RunLevel,
    &health::crashloop::CrashLoop,
    &health::restarts::Restarts,
    &health::image_pull::ImagePull,
    &health::oom::Oom,
    &health::not_ready::NotReady,
    &health::pending::Pending,
    &health::rollout::Rollout,
    &health::endpoints::Endpoints,
    &health::events::Events,
    &health::nodes::Nodes,
    &health::namespaces::Namespaces,
    &health::cluster_operators::ClusterOperators,
    &health::cluster_version::ClusterVersion,
    &health::machine_config_pools::MachineConfigPools,
    &disruption::backends::Backends,
];

/// No per-backend disruption allowances (tests, defaults).
pub static NO_ALLOWANCES: std::collections::BTreeMap<String, i64> =
    std::collections::BTreeMap::new();

/// Looks a check up by id.
pub fn find(id: &str) -> Option<&'static dyn Check> {
    ALL.iter().copied().find(|c| c.info().id == id)
}

/// The candidate closest to `word`, when close enough to be a typo.
pub fn closest_of<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim_distance(word, c), *c))
        .filter(|(d, c)| *d <= c.len().max(word.len()) / 2)
        .min()
        .map(|(_, c)| c)
}

/// The id closest to `id`, for "did you mean" hints.
pub fn closest(id: &str) -> Option<&'static str> {
    let ids = || ALL.iter().map(|c| c.info().id);
    // A truncated id names its check when only one starts that way.
    let mut prefixed = ids().filter(|cand| cand.starts_with(id));
    if let (Some(only), None) = (prefixed.next(), prefixed.next()) {
        return Some(only);
    }
    closest_of(id, &ids().collect::<Vec<_>>())
}

/// Levenshtein distance, small inputs only.
pub fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_namespaced() {
        let mut ids: Vec<_> = ALL.iter().map(|c| c.info().id).collect();
        assert!(ids.iter().all(|id| ["ha/", "health/", "disruption/"]
            .iter()
            .any(|p| id.starts_with(p))));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
    }

    #[test]
    fn test_names_carry_no_numbers() {
        for c in ALL {
            let i = c.info();
            assert!(
                !format!("{} {}", i.subject, i.should)
                    .chars()
                    .any(|ch| ch.is_ascii_digit()),
                "{}",
                i.id
            );
        }
    }

    #[test]
    fn needs_name_listed_kinds() {
        let listed: Vec<&str> = crate::sources::kinds::LISTED
            .iter()
            .map(|l| l.kind)
            .collect();
        for c in ALL {
            // Disruption reads only what the watch measured: its tests
            // exist only for backends that were polled.
            let measured = c.info().id.starts_with("disruption/");
            assert_eq!(c.info().needs.is_empty(), measured, "{}", c.info().id);
            for need in c.info().needs {
                for kind in need.split('|') {
                    assert!(
                        listed.contains(&kind),
                        "{} needs unlisted {kind}",
                        c.info().id
                    );
                }
            }
        }
    }

    #[test]
    fn closest_suggests_typos() {
        assert_eq!(closest("ha/replica"), Some("ha/replicas"));
        assert_eq!(closest("ha/pdb-eviction"), Some("ha/pdb-eviction-policy"));
        assert_eq!(closest("something/else-entirely"), None);
    }
}
