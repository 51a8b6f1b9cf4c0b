//! Slim Kubernetes object types: only the fields that checks read.
//!
//! Every type deserializes straight from `kubectl -o yaml|json` output or an
//! API response; unknown fields are skipped without being stored, so memory
//! grows with what vigil needs rather than with the size of the objects.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Text in the model: most of it (namespaces, timestamps, reasons, resource
/// versions, names) is 24 bytes or shorter and is kept inline, without an
/// allocation; half the memory of `String` on a large cluster.
pub use super::serde_util::Str;

use super::selector::{LabelSelector, Labels};
use super::serde_util::{null_default, null_default_vec, present, IntOrPercent};

/// Percent comparisons on `IntOrString` values.
pub trait IntOrPercentExt {
    fn is_percent(&self, p: i64) -> bool;
}

impl IntOrPercentExt for IntOrPercent {
    fn is_percent(&self, p: i64) -> bool {
        matches!(self, IntOrPercent::Str(_)) && self.percent() == Some(p)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Str::is_empty")]
    pub name: Str,
    #[serde(default, skip_serializing_if = "Str::is_empty")]
    pub namespace: Str,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub labels: Labels,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub owner_references: Vec<OwnerReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// Which copy of an object is newer, when a dump holds it twice.
    #[serde(default, skip_serializing_if = "Str::is_empty")]
    pub resource_version: Str,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    #[serde(default)]
    pub kind: Str,
    #[serde(default)]
    pub name: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
}

impl ObjectMeta {
    /// The owner reference with `controller: true`, if any.
    pub fn controller(&self) -> Option<&OwnerReference> {
        self.owner_references
            .iter()
            .find(|o| o.controller == Some(true))
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type", default)]
    pub type_: Str,
    #[serde(default)]
    pub status: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Str>,
}

/// Finds the condition of `type_` in a list.
pub fn condition<'a>(conds: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conds.iter().find(|c| c.type_ == type_)
}

// ---------------------------------------------------------------- pod spec

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplate {
    #[serde(default)]
    pub metadata: TemplateMeta,
    #[serde(default)]
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TemplateMeta {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub labels: Labels,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub containers: Vec<Container>,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub init_containers: Vec<Container>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub host_network: bool,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tolerations: Vec<Toleration>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub node_selector: Labels,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Str>,
    /// How long a NoExecute taint is tolerated; none means forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<Str>,
}

impl Toleration {
    /// Whether this toleration matches `taint`, as the scheduler decides:
    /// an empty key with `Exists` matches every key, an empty effect every
    /// effect; `Equal` (the default operator) also compares the value.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        let effect_ok = self
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == taint.effect);
        let key = self.key.as_deref().unwrap_or("");
        let exists = self.operator.as_deref() == Some("Exists");
        effect_ok
            && if key.is_empty() {
                exists
            } else {
                key == taint.key && (exists || self.value.as_deref().unwrap_or("") == taint.value)
            }
    }
}

impl PodSpec {
    /// Whether the pods are pinned to control-plane nodes, whose count (3)
    /// is fixed: there, one replica per node is the design.
    pub fn on_control_plane(&self) -> bool {
        [
            "node-role.kubernetes.io/master",
            "node-role.kubernetes.io/control-plane",
        ]
        .iter()
        .any(|k| self.node_selector.get(k).is_some())
    }

    /// Whether a new pod of this template may be scheduled on `node`: the
    /// node is not cordoned (unless tolerated), carries every label of the
    /// nodeSelector, and each of its `NoSchedule`/`NoExecute` taints is
    /// tolerated. Node affinity is not read, so this may count a node the
    /// scheduler would refuse (never the other way round).
    pub fn fits_node(&self, node: &Node) -> bool {
        let cordon = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            value: Str::default(),
            effect: "NoSchedule".into(),
        };
        let tolerated = |t: &Taint| self.tolerations.iter().any(|tol| tol.tolerates(t));
        (!node.spec.unschedulable || tolerated(&cordon))
            && self
                .node_selector
                .iter()
                .all(|(k, v)| node.metadata.labels.get(k) == Some(v))
            && node
                .spec
                .taints
                .iter()
                .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
                .all(tolerated)
    }

    /// The containers that run for the pod's life: the regular ones and
    /// native sidecars (init containers with `restartPolicy: Always`).
    pub fn running_containers(&self) -> impl Iterator<Item = &Container> {
        self.containers.iter().chain(
            self.init_containers
                .iter()
                .filter(|c| c.restart_policy.as_deref() == Some("Always")),
        )
    }

    /// Host ports any running container binds (with the host network, a
    /// container port is a host port): two such pods can never share a node.
    pub fn host_ports(&self) -> Vec<i64> {
        let mut ports: Vec<i64> = self
            .running_containers()
            .flat_map(|c| c.ports.iter())
            .filter_map(|p| {
                p.host_port
                    .filter(|h| *h > 0)
                    .or_else(|| self.host_network.then_some(p.container_port?))
            })
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(default)]
    pub name: Str,
    #[serde(
        default,
        deserialize_with = "present",
        serialize_with = "present_ser",
        skip_serializing_if = "is_false"
    )]
    pub readiness_probe: bool,
    #[serde(
        default,
        deserialize_with = "present",
        serialize_with = "present_ser",
        skip_serializing_if = "is_false"
    )]
    pub liveness_probe: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub resources: Resources,
    /// `Always` on an init container makes it a native sidecar: it runs for
    /// the pod's whole life, like a regular container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<Str>,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ports: Vec<ContainerPort>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_port: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Str>,
}

impl Resources {
    /// Whether `name` is requested. Kubernetes defaults a request to the
    /// limit when only the limit is set, so a limit counts as a request.
    pub fn effective_request(&self, name: &str) -> Option<&str> {
        self.requests.get(name).or_else(|| self.limits.get(name))
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Resources {
    /// Resource name to quantity, kept as written (`cpu: 100m`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub requests: Labels,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub limits: Labels,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affinity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_anti_affinity: Option<PodAntiAffinity>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAntiAffinity {
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub preferred_during_scheduling_ignored_during_execution: Vec<WeightedPodAffinityTerm>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAffinityTerm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    #[serde(default)]
    pub topology_key: Str,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub namespaces: Vec<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
}

impl PodAffinityTerm {
    /// Whether the term looks at pods of namespace `ns` (whose labels are
    /// `ns_labels`): the union of `namespaces` and what `namespaceSelector`
    /// selects (`{}` selects every namespace); with neither, the pod's own.
    pub fn covers_namespace(&self, own: &str, ns: &str, ns_labels: &Labels) -> bool {
        if self.namespaces.is_empty() && self.namespace_selector.is_none() {
            return ns == own;
        }
        self.namespaces.iter().any(|n| n == ns)
            || self
                .namespace_selector
                .as_ref()
                .is_some_and(|s| s.matches(ns_labels))
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightedPodAffinityTerm {
    #[serde(default)]
    pub pod_affinity_term: PodAffinityTerm,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpreadConstraint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_skew: Option<i64>,
    #[serde(default)]
    pub topology_key: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_unsatisfiable: Option<Str>,
}

// ---------------------------------------------------------------- pods

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Pod {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PodRuntimeSpec,
    #[serde(default)]
    pub status: PodStatus,
}

/// The part of a live pod's spec vigil reads (templates use [`PodSpec`]).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodRuntimeSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<Str>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(default)]
    pub phase: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Str>,
    /// Only `Ready` and `PodScheduled`: the others are never read.
    #[serde(
        default,
        deserialize_with = "pod_conditions",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub conditions: Vec<Condition>,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub container_statuses: Vec<ContainerStatus>,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub init_container_statuses: Vec<ContainerStatus>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    #[serde(default)]
    pub name: Str,
    #[serde(default)]
    pub ready: bool,
    #[serde(default)]
    pub restart_count: i64,
    #[serde(default)]
    pub state: ContainerState,
    #[serde(default)]
    pub last_state: ContainerState,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ContainerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Box<StateWaiting>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated: Option<Box<StateTerminated>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct StateWaiting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Str>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateTerminated {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Str>,
    #[serde(default)]
    pub exit_code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Str>,
}

// ---------------------------------------------------------------- workloads

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }
}

/// A Deployment, StatefulSet or DaemonSet. Their specs share almost every
/// field vigil reads; `strategy` is the Deployment's, `update_strategy` the
/// others'.
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub metadata: ObjectMeta,
    pub spec: WorkloadSpec,
    pub status: WorkloadStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct WorkloadRaw {
    /// When written after `kind` (before it, the decoder passes it on).
    #[serde(default, rename = "apiVersion")]
    pub api_version: Option<Str>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: WorkloadSpec,
    #[serde(default)]
    pub status: WorkloadStatus,
}

impl WorkloadRaw {
    /// The workload, with the update strategy its API version defaults to
    /// made explicit: the legacy `extensions/v1beta1` DaemonSet and
    /// `apps/v1beta1` StatefulSet default to `OnDelete`, where `apps/v1`
    /// (and `apps/v1beta2`) default to `RollingUpdate`.
    pub fn into_workload(self, kind: WorkloadKind, api_version: Option<&str>) -> Workload {
        let version = self.api_version.as_deref().or(api_version);
        let mut spec = self.spec;
        let on_delete_by_default = matches!(
            (kind, version),
            (WorkloadKind::DaemonSet, Some("extensions/v1beta1"))
                | (WorkloadKind::StatefulSet, Some("apps/v1beta1"))
        );
        if on_delete_by_default {
            let s = spec.update_strategy.get_or_insert_with(Strategy::default);
            if s.type_.is_none() {
                s.type_ = Some("OnDelete".into());
            }
        }
        Workload {
            kind,
            metadata: self.metadata,
            spec,
            status: self.status,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    #[serde(default)]
    pub template: PodTemplate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<Strategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_deadline_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Strategy {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdate>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrPercent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_surge: Option<IntOrPercent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_replicas: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_revision: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_number_scheduled: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_number_scheduled: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_available: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_unavailable: Option<i64>,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub conditions: Vec<Condition>,
}

impl Workload {
    /// `spec.replicas` with the API default of 1; `None` for DaemonSets.
    pub fn replicas(&self) -> Option<i64> {
        match self.kind {
            WorkloadKind::DaemonSet => None,
            _ => Some(self.spec.replicas.unwrap_or(1)),
        }
    }

    /// Whether every replica the workload wants is available now (its
    /// controller has replaced any pod that failed).
    pub fn fully_available(&self) -> bool {
        let st = &self.status;
        match self.kind {
            WorkloadKind::DaemonSet => {
                let want = st.desired_number_scheduled.unwrap_or(0);
                st.number_available.unwrap_or(0) >= want
            }
            _ => {
                let want = self.replicas().unwrap_or(1);
                st.available_replicas.or(st.ready_replicas).unwrap_or(0) >= want
            }
        }
    }

    /// Scaled to zero: every check passes it.
    pub fn is_scaled_to_zero(&self) -> bool {
        self.replicas() == Some(0)
    }

    pub fn pod_labels(&self) -> &Labels {
        &self.spec.template.metadata.labels
    }

    /// The update strategy this kind actually uses.
    pub fn strategy(&self) -> Option<&Strategy> {
        match self.kind {
            WorkloadKind::Deployment => self.spec.strategy.as_ref(),
            _ => self.spec.update_strategy.as_ref(),
        }
    }

    /// The strategy type with the API server's default (`RollingUpdate` for all three kinds).
    pub fn strategy_type(&self) -> &str {
        self.strategy()
            .and_then(|s| s.type_.as_deref())
            .unwrap_or("RollingUpdate")
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ReplicaSet {
    #[serde(default)]
    pub metadata: ObjectMeta,
}

// ---------------------------------------------------------------- policy

#[derive(Debug, Clone, Default)]
pub struct Pdb {
    pub api_version: Str,
    pub metadata: ObjectMeta,
    pub spec: PdbSpec,
    pub status: Option<PdbStatus>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbRaw {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<Str>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PdbSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PdbStatus>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_available: Option<IntOrPercent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrPercent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_pod_eviction_policy: Option<Str>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbStatus {
    #[serde(default)]
    pub current_healthy: i64,
    #[serde(default)]
    pub desired_healthy: i64,
    #[serde(default)]
    pub disruptions_allowed: i64,
    #[serde(default)]
    pub expected_pods: i64,
}

impl Pdb {
    /// Whether the PDB's selector selects pods with `labels`. `policy/v1`
    /// selects every pod with an empty selector; `policy/v1beta1` none. A
    /// missing selector selects nothing in both.
    pub fn selects(&self, labels: &Labels) -> bool {
        use super::selector::Empty;
        let empty = if self.api_version.ends_with("v1beta1") {
            Empty::Nothing
        } else {
            Empty::Everything
        };
        self.spec
            .selector
            .as_ref()
            .is_some_and(|s| s.matches_with(labels, empty))
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Hpa {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: HpaSpec,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaSpec {
    #[serde(default)]
    pub scale_target_ref: CrossVersionRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CrossVersionRef {
    #[serde(default)]
    pub kind: Str,
    #[serde(default)]
    pub name: Str,
}

// ---------------------------------------------------------------- network

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Service {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ServiceSpec,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<Labels>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<Str>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct EndpointSlice {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub endpoints: Vec<SliceEndpoint>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SliceEndpoint {
    #[serde(default)]
    pub conditions: EndpointConditions,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct EndpointConditions {
    /// `nil` means ready, per the EndpointSlice API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Endpoints {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub subsets: Vec<EndpointSubset>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSubset {
    #[serde(
        default,
        deserialize_with = "seq_len",
        serialize_with = "seq_len_ser",
        skip_serializing_if = "is_zero"
    )]
    pub addresses: usize,
    #[serde(
        default,
        deserialize_with = "seq_len",
        serialize_with = "seq_len_ser",
        skip_serializing_if = "is_zero"
    )]
    pub not_ready_addresses: usize,
}

/// Counts the elements of a sequence without keeping them.
fn seq_len<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    Ok(Option::<Vec<serde::de::IgnoredAny>>::deserialize(d)?
        .map(|v| v.len())
        .unwrap_or(0))
}

fn pod_conditions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Condition>, D::Error> {
    let mut all: Vec<Condition> = null_default(d)?;
    all.retain(|c| c.type_ == "Ready" || c.type_ == "PodScheduled");
    all.shrink_to_fit();
    Ok(all)
}

fn seq_len_ser<S: Serializer>(n: &usize, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(*n))?;
    for _ in 0..*n {
        seq.serialize_element(&serde_json::Map::new())?;
    }
    seq.end()
}

/// A present probe is written back as `{}`: presence is all vigil keeps.
fn present_ser<S: Serializer>(_: &bool, s: S) -> Result<S::Ok, S::Error> {
    serde_json::Map::new().serialize(s)
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

// ---------------------------------------------------------------- cluster

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, alias = "regarding")]
    pub involved_object: InvolvedObject,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Str>,
    #[serde(default, alias = "note", skip_serializing_if = "Option::is_none")]
    pub message: Option<Str>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<Str>,
    #[serde(
        default,
        alias = "deprecatedCount",
        skip_serializing_if = "Option::is_none"
    )]
    pub count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_timestamp: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<EventSeries>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSeries {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_observed_time: Option<Str>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct InvolvedObject {
    #[serde(default)]
    pub kind: Str,
    #[serde(default)]
    pub name: Str,
    #[serde(default)]
    pub namespace: Str,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Namespace {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "NamespaceStatus::is_empty")]
    pub status: NamespaceStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NamespaceStatus {
    /// `Active` or `Terminating`.
    #[serde(default, skip_serializing_if = "Str::is_empty")]
    pub phase: Str,
    /// Why a deletion waits: `NamespaceContentRemaining`,
    /// `NamespaceFinalizersRemaining`, `NamespaceDeletionDiscoveryFailure`...
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub conditions: Vec<Condition>,
}

impl NamespaceStatus {
    pub fn is_empty(&self) -> bool {
        self.phase.is_empty() && self.conditions.is_empty()
    }
}

impl Namespace {
    /// Being deleted: a deletionTimestamp, or phase Terminating.
    pub fn terminating(&self) -> bool {
        self.metadata.deletion_timestamp.is_some() || self.status.phase == "Terminating"
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Node {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NodeSpec,
    #[serde(default)]
    pub status: NodeStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NodeSpec {
    #[serde(default, skip_serializing_if = "is_false")]
    pub unschedulable: bool,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub taints: Vec<Taint>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Taint {
    #[serde(default)]
    pub key: Str,
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub value: Str,
    #[serde(default)]
    pub effect: Str,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NodeStatus {
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub conditions: Vec<Condition>,
}

impl Node {
    /// Accepts new pods: not cordoned and without a `NoSchedule`/`NoExecute` taint.
    pub fn is_schedulable(&self) -> bool {
        !self.spec.unschedulable
            && !self
                .spec
                .taints
                .iter()
                .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
    }
}

/// OpenShift's `Infrastructure` (config.openshift.io/v1), read for the topology.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Infrastructure {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub status: InfrastructureStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InfrastructureStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_topology: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_topology: Option<Str>,
}

// ---------------------------------------------------------------- OpenShift health

/// A ClusterOperator (config.openshift.io/v1): one operator's own report of
/// its health.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ClusterOperator {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub status: ConditionsStatus,
}

/// A status that is its conditions (and the versions it reports).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ConditionsStatus {
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub conditions: Vec<Condition>,
}

/// The ClusterVersion (`version`): the release the cluster runs or is
/// updating to.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ClusterVersion {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub status: ClusterVersionStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ClusterVersionStatus {
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<Release>,
    /// The updates, newest first.
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub history: Vec<UpdateHistory>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Release {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Str>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateHistory {
    /// `Completed` or `Partial`.
    #[serde(default)]
    pub state: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_time: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Str>,
}

/// A MachineConfigPool (machineconfiguration.openshift.io/v1): the nodes of
/// one role and the configuration they should all run.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct MachineConfigPool {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: MachineConfigPoolSpec,
    #[serde(default)]
    pub status: MachineConfigPoolStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct MachineConfigPoolSpec {
    #[serde(default, skip_serializing_if = "is_false")]
    pub paused: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<NamedConfig>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NamedConfig {
    #[serde(default)]
    pub name: Str,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineConfigPoolStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_machine_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_machine_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded_machine_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<NamedConfig>,
    #[serde(
        default,
        deserialize_with = "null_default_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub conditions: Vec<Condition>,
}

/// One decoded object of a kind vigil reads. Boxed, so that lists of
/// objects of mixed kinds cost a pointer each rather than the largest kind.
#[derive(Debug, Clone)]
pub enum Object {
    Namespace(Box<Namespace>),
    Node(Box<Node>),
    Pod(Box<Pod>),
    Workload(Box<Workload>),
    ReplicaSet(Box<ReplicaSet>),
    Pdb(Box<Pdb>),
    Hpa(Box<Hpa>),
    Service(Box<Service>),
    EndpointSlice(Box<EndpointSlice>),
    Endpoints(Box<Endpoints>),
    Event(Box<Event>),
    Infrastructure(Box<Infrastructure>),
    ClusterOperator(Box<ClusterOperator>),
    ClusterVersion(Box<ClusterVersion>),
    MachineConfigPool(Box<MachineConfigPool>),
    /// A workload kind vigil has no rules for yet: listed as not judged.
    Unjudged(Box<Unjudged>),
}

/// Workload kinds vigil reads only to say it did not judge them.
pub const UNJUDGED_KINDS: &[(&str, &str)] = &[
    ("DeploymentConfig", "apps.openshift.io/v1"),
    ("ReplicationController", "v1"),
    ("Rollout", "argoproj.io/v1alpha1"),
];

/// An object of a workload kind vigil does not judge (its name only).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Unjudged {
    #[serde(skip)]
    pub kind: &'static str,
    #[serde(default)]
    pub metadata: ObjectMeta,
}

impl Object {
    pub fn kind(&self) -> &'static str {
        match self {
            Object::Namespace(_) => "Namespace",
            Object::Node(_) => "Node",
            Object::Pod(_) => "Pod",
            Object::Workload(w) => w.kind.as_str(),
            Object::ReplicaSet(_) => "ReplicaSet",
            Object::Pdb(_) => "PodDisruptionBudget",
            Object::Hpa(_) => "HorizontalPodAutoscaler",
            Object::Service(_) => "Service",
            Object::EndpointSlice(_) => "EndpointSlice",
            Object::Endpoints(_) => "Endpoints",
            Object::Event(_) => "Event",
            Object::Infrastructure(_) => "Infrastructure",
            Object::ClusterOperator(_) => "ClusterOperator",
            Object::ClusterVersion(_) => "ClusterVersion",
            Object::MachineConfigPool(_) => "MachineConfigPool",
            Object::Unjudged(u) => u.kind,
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Object::Namespace(o) => &o.metadata,
            Object::Node(o) => &o.metadata,
            Object::Pod(o) => &o.metadata,
            Object::Workload(o) => &o.metadata,
            Object::ReplicaSet(o) => &o.metadata,
            Object::Pdb(o) => &o.metadata,
            Object::Hpa(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::EndpointSlice(o) => &o.metadata,
            Object::Endpoints(o) => &o.metadata,
            Object::Event(o) => &o.metadata,
            Object::Infrastructure(o) => &o.metadata,
            Object::ClusterOperator(o) => &o.metadata,
            Object::ClusterVersion(o) => &o.metadata,
            Object::MachineConfigPool(o) => &o.metadata,
            Object::Unjudged(o) => &o.metadata,
        }
    }

    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Object::Namespace(o) => &mut o.metadata,
            Object::Node(o) => &mut o.metadata,
            Object::Pod(o) => &mut o.metadata,
            Object::Workload(o) => &mut o.metadata,
            Object::ReplicaSet(o) => &mut o.metadata,
            Object::Pdb(o) => &mut o.metadata,
            Object::Hpa(o) => &mut o.metadata,
            Object::Service(o) => &mut o.metadata,
            Object::EndpointSlice(o) => &mut o.metadata,
            Object::Endpoints(o) => &mut o.metadata,
            Object::Event(o) => &mut o.metadata,
            Object::Infrastructure(o) => &mut o.metadata,
            Object::ClusterOperator(o) => &mut o.metadata,
            Object::ClusterVersion(o) => &mut o.metadata,
            Object::MachineConfigPool(o) => &mut o.metadata,
            Object::Unjudged(o) => &mut o.metadata,
        }
    }
}
