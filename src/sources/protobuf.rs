//! Decoding API list responses sent as Kubernetes protobuf.
//!
//! The API server encodes the built-in kinds as protobuf when asked
//! (`Accept: application/vnd.kubernetes.protobuf`): three times cheaper for
//! it to write than JSON, and cheaper to read. The body is the magic
//! `k8s\0` followed by a `runtime.Unknown` envelope whose `raw` field holds
//! the list message (`PodList`: `metadata` = 1, `items` = 2).
//!
//! The messages below hold only the fields vigil reads, with the field
//! numbers of `k8s.io/api` (`generated.proto`, v1.34); prost skips every
//! other field without decoding it. Each message converts into the same
//! slim model the JSON decoder ([`super::decode`]) produces, field for
//! field, including what JSON leaves out: Go omits empty strings and zero
//! numbers marked `omitempty` from JSON but always writes them in protobuf,
//! so those become `None` here as they are there, and a zero `Time` is no
//! time in both. `tests/live.rs` lists one cluster both ways and compares.
//!
//! Kinds outside the built-in groups (OpenShift's, Argo's) are not served as
//! protobuf; they are asked for as JSON, and any response that comes back as
//! JSON (a proxy in the way) is decoded as JSON.

use std::collections::BTreeMap;

use bytes::{Buf, Bytes};
use chrono::SecondsFormat;
use prost::Message;

use crate::model::objects as m;
use crate::model::objects::{Object, Str};
use crate::model::selector::{LabelSelector, Labels, Requirement};
use crate::model::serde_util::IntOrPercent;

/// The media type of Kubernetes protobuf.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

const MAGIC: &[u8] = b"k8s\0";
const NOT_PROTOBUF: &str = "not Kubernetes protobuf (no k8s\\0 prefix)";

/// Whether the API server can send `kind` (of `group`) as protobuf: the
/// built-in API groups can, custom resources and OpenShift's cannot.
pub fn served_as_protobuf(kind: &str, group: &str) -> bool {
    matches!(
        group,
        "" | "apps" | "policy" | "autoscaling" | "discovery.k8s.io"
    ) && decodes(kind)
}

fn decodes(kind: &str) -> bool {
    DECODERS.iter().any(|(k, _)| *k == kind)
}

/// Decodes a list's items (each one's bytes, sliced out of the body) given
/// the listed group/version.
type Decoder = fn(Vec<Bytes>, &str) -> Result<Vec<Object>, prost::DecodeError>;

/// The kinds vigil reads as protobuf, and how.
const DECODERS: &[(&str, Decoder)] = &[
    ("Namespace", |items, _| {
        list(items, |o: Namespace| {
            let status = o.status.unwrap_or_default();
            Object::Namespace(Box::new(m::Namespace {
                metadata: meta(o.metadata),
                status: m::NamespaceStatus {
                    phase: text(status.phase),
                    conditions: conditions(status.conditions),
                },
            }))
        })
    }),
    ("Node", |items, _| {
        list(items, |o: Node| Object::Node(Box::new(o.into())))
    }),
    ("Pod", |items, _| {
        list(items, |o: Pod| Object::Pod(Box::new(o.into())))
    }),
    ("Service", |items, _| {
        list(items, |o: Service| Object::Service(Box::new(o.into())))
    }),
    ("Endpoints", |items, _| {
        list(items, |o: Endpoints| Object::Endpoints(Box::new(o.into())))
    }),
    ("Event", |items, _| {
        list(items, |o: Event| Object::Event(Box::new(o.into())))
    }),
    ("Deployment", |items, _| {
        list(items, |o: Deployment| Object::Workload(Box::new(o.into())))
    }),
    ("StatefulSet", |items, _| {
        list(items, |o: StatefulSet| Object::Workload(Box::new(o.into())))
    }),
    ("DaemonSet", |items, _| {
        list(items, |o: DaemonSet| Object::Workload(Box::new(o.into())))
    }),
    ("ReplicaSet", |items, _| {
        list(items, |o: MetaOnly| {
            Object::ReplicaSet(Box::new(m::ReplicaSet {
                metadata: meta(o.metadata),
            }))
        })
    }),
    ("ReplicationController", |items, _| {
        list(items, |o: MetaOnly| {
            Object::Unjudged(Box::new(m::Unjudged {
                kind: "ReplicationController",
                metadata: meta(o.metadata),
            }))
        })
    }),
    ("PodDisruptionBudget", |items, api_version| {
        list(items, |o: Pdb| {
            Object::Pdb(Box::new(o.into_model(api_version)))
        })
    }),
    ("HorizontalPodAutoscaler", |items, _| {
        list(items, |o: Hpa| Object::Hpa(Box::new(o.into())))
    }),
    ("EndpointSlice", |items, _| {
        list(items, |o: EndpointSlice| {
            Object::EndpointSlice(Box::new(o.into()))
        })
    }),
];

/// The `runtime.Unknown` envelope of a protobuf body.
fn envelope(body: Bytes) -> Result<Unknown, String> {
    if !body.starts_with(MAGIC) {
        return Err(NOT_PROTOBUF.into());
    }
    Unknown::decode(body.slice(MAGIC.len()..)).map_err(|e| e.to_string())
}

impl Unknown {
    fn kind(&self) -> &str {
        self.type_meta
            .as_ref()
            .and_then(|t| t.kind.as_deref())
            .unwrap_or("")
    }
}

/// Whether a response's `Content-Type` is protobuf.
pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(MEDIA_TYPE))
}

/// The `message` of a `Status` (an error answer) sent as protobuf: asked
/// for protobuf, the API server sends its errors that way too.
pub fn status_message(body: &[u8]) -> Option<String> {
    #[derive(Clone, PartialEq, Message)]
    struct Status {
        #[prost(string, optional, tag = "3")]
        message: Option<String>,
    }
    let envelope = envelope(Bytes::copy_from_slice(body)).ok()?;
    if envelope.kind() != "Status" {
        return None;
    }
    Status::decode(envelope.raw?).ok()?.message
}

/// Decodes one page of `GET <collection>?limit=N` sent as protobuf, both
/// steps at once. `api_version` is the listed group/version (a PDB's
/// semantics depend on it).
#[cfg(test)]
pub fn parse_page(
    kind: &'static str,
    api_version: &str,
    body: Bytes,
) -> Result<super::decode::ListPage, String> {
    let page = outline_page(kind, api_version, body)?;
    let continue_token = page.continue_token.clone();
    Ok(super::decode::ListPage {
        objects: page.decode()?,
        continue_token,
    })
}

/// A protobuf page whose outer layers are read (the envelope, the list's
/// metadata, where each item starts and ends) and whose items are not yet
/// decoded: what the next request needs is known before the slow part.
#[derive(Debug)]
pub struct Outlined {
    kind: &'static str,
    api_version: String,
    decode: Decoder,
    continue_token: Option<String>,
    items: Vec<Bytes>,
}

impl Outlined {
    /// The token for the next page; `None` on the last one.
    pub fn continue_token(&self) -> Option<&str> {
        self.continue_token.as_deref()
    }

    /// How many objects the page holds.
    pub fn count(&self) -> usize {
        self.items.len()
    }

    /// Decodes the items into the slim model. Items are sliced out of the
    /// body (no copy) and decoded one by one, so only one item's
    /// intermediate message exists at a time.
    pub fn decode(self) -> Result<Vec<Object>, String> {
        (self.decode)(self.items, &self.api_version).map_err(|e| format!("{}List: {e}", self.kind))
    }
}

/// Reads the outer layers of one protobuf page (see [`Outlined`]): a body
/// that is not a whole `<kind>List` (cut, another kind, an encoding vigil
/// cannot read) is refused here, before anything is decoded.
pub fn outline_page(
    kind: &'static str,
    api_version: &str,
    mut body: impl Buf,
) -> Result<Outlined, String> {
    /// `runtime.Unknown` with its `raw` read as the list it holds (bytes
    /// and an embedded message are the same on the wire), so the items
    /// are sliced out of the body's own pieces, never copied whole.
    #[derive(Clone, PartialEq, Message)]
    struct Envelope {
        #[prost(message, optional, tag = "1")]
        type_meta: Option<TypeMeta>,
        #[prost(message, optional, tag = "2")]
        raw: Option<Outline>,
        #[prost(string, optional, tag = "3")]
        content_encoding: Option<String>,
    }
    #[derive(Clone, PartialEq, Message)]
    struct Outline {
        #[prost(message, optional, tag = "1")]
        metadata: Option<ListMeta>,
        #[prost(bytes = "bytes", repeated, tag = "2")]
        items: Vec<Bytes>,
    }
    let Some((_, decode)) = DECODERS.iter().find(|(k, _)| *k == kind) else {
        return Err(format!("vigil has no protobuf decoder for {kind}"));
    };
    let mut magic = [0u8; MAGIC.len()];
    if body.remaining() < magic.len() || {
        body.copy_to_slice(&mut magic);
        magic != MAGIC
    } {
        return Err(NOT_PROTOBUF.into());
    }
    let envelope = Envelope::decode(body).map_err(|e| e.to_string())?;
    let sent = envelope
        .type_meta
        .as_ref()
        .and_then(|t| t.kind.as_deref())
        .unwrap_or("");
    if sent != format!("{kind}List") {
        return Err(format!("expected a {kind}List, the server sent {sent:?}"));
    }
    if let Some(enc) = envelope
        .content_encoding
        .as_deref()
        .filter(|e| !e.is_empty())
    {
        return Err(format!("unsupported content encoding {enc:?}"));
    }
    let outline = envelope.raw.unwrap_or_default();
    Ok(Outlined {
        kind,
        api_version: api_version.to_owned(),
        decode: *decode,
        continue_token: outline
            .metadata
            .and_then(|m| m.continue_token)
            .filter(|c| !c.is_empty()),
        items: outline.items,
    })
}

/// Decodes a list's items as `T`, converting each as soon as it is read.
fn list<T: Message + Default>(
    items: Vec<Bytes>,
    convert: impl Fn(T) -> Object,
) -> Result<Vec<Object>, prost::DecodeError> {
    let mut objects = Vec::with_capacity(items.len());
    for item in items {
        objects.push(convert(T::decode(item)?));
    }
    Ok(objects)
}

// ---------------------------------------------------------------- conversions

/// A string Go always sends (no `omitempty`, or a non-empty default).
fn text(s: Option<String>) -> Str {
    s.map(Str::from).unwrap_or_default()
}

/// A string JSON omits when empty (`omitempty`): empty is absent.
fn nonempty(s: Option<String>) -> Option<Str> {
    s.filter(|s| !s.is_empty()).map(Str::from)
}

/// A pointer string (`*string`): present even when empty.
fn pointer(s: Option<String>) -> Option<Str> {
    s.map(Str::from)
}

/// A number JSON omits when zero (`omitempty`).
fn nonzero<N: Into<i64>>(n: Option<N>) -> Option<i64> {
    n.map(Into::into).filter(|n| *n != 0)
}

/// A pointer number, or one Go always sends.
fn number<N: Into<i64>>(n: Option<N>) -> Option<i64> {
    n.map(Into::into)
}

fn labels(map: BTreeMap<String, String>) -> Labels {
    map.into_iter().collect()
}

fn quantities(map: BTreeMap<String, Quantity>) -> Labels {
    map.into_iter()
        .map(|(k, q)| (k, q.string.unwrap_or_default()))
        .collect()
}

/// `metav1.Time` as JSON writes it (RFC 3339, seconds); the zero time
/// (an empty message) is no time, as JSON's `null` is.
fn time(t: Option<Time>) -> Option<Str> {
    let at = chrono::DateTime::from_timestamp(t?.seconds?, 0)?;
    Some(at.to_rfc3339_opts(SecondsFormat::Secs, true).into())
}

/// `metav1.MicroTime` as JSON writes it (six fractional digits).
fn micro_time(t: Option<Time>) -> Option<Str> {
    let t = t?;
    let nanos = u32::try_from(t.nanos.unwrap_or(0)).unwrap_or(0);
    let at = chrono::DateTime::from_timestamp(t.seconds?, nanos)?;
    Some(at.to_rfc3339_opts(SecondsFormat::Micros, true).into())
}

fn int_or_percent(v: IntOrString) -> IntOrPercent {
    match v.type_ {
        Some(1) => {
            let s = v.str_val.unwrap_or_default();
            // As the JSON decoder reads a string holding an integer.
            match s.trim().parse::<i64>() {
                Ok(n) => IntOrPercent::Int(n),
                Err(_) => IntOrPercent::Str(s),
            }
        }
        _ => IntOrPercent::Int(v.int_val.unwrap_or(0).into()),
    }
}

fn selector(s: PbLabelSelector) -> LabelSelector {
    LabelSelector {
        match_labels: labels(s.match_labels),
        match_expressions: s
            .match_expressions
            .into_iter()
            .map(|r| Requirement {
                key: r.key.unwrap_or_default(),
                operator: r.operator.unwrap_or_default(),
                values: r.values,
            })
            .collect(),
    }
}

fn meta(o: Option<ObjectMeta>) -> m::ObjectMeta {
    let o = o.unwrap_or_default();
    m::ObjectMeta {
        name: text(o.name),
        namespace: text(o.namespace),
        labels: labels(o.labels),
        owner_references: o
            .owner_references
            .into_iter()
            .map(|r| m::OwnerReference {
                kind: text(r.kind),
                name: text(r.name),
                controller: r.controller,
            })
            .collect(),
        creation_timestamp: time(o.creation_timestamp),
        deletion_timestamp: time(o.deletion_timestamp),
        generation: nonzero(o.generation),
        resource_version: text(o.resource_version),
    }
}

// ---------------------------------------------------------------- apimachinery

#[derive(Clone, PartialEq, Message)]
struct Unknown {
    #[prost(message, optional, tag = "1")]
    type_meta: Option<TypeMeta>,
    #[prost(bytes = "bytes", optional, tag = "2")]
    raw: Option<Bytes>,
    #[prost(string, optional, tag = "3")]
    content_encoding: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct TypeMeta {
    #[prost(string, optional, tag = "2")]
    kind: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct ListMeta {
    #[prost(string, optional, tag = "3")]
    continue_token: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct ObjectMeta {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(string, optional, tag = "3")]
    namespace: Option<String>,
    #[prost(string, optional, tag = "6")]
    resource_version: Option<String>,
    #[prost(int64, optional, tag = "7")]
    generation: Option<i64>,
    #[prost(message, optional, tag = "8")]
    creation_timestamp: Option<Time>,
    #[prost(message, optional, tag = "9")]
    deletion_timestamp: Option<Time>,
    #[prost(btree_map = "string, string", tag = "11")]
    labels: BTreeMap<String, String>,
    #[prost(message, repeated, tag = "13")]
    owner_references: Vec<OwnerReference>,
}

/// A pod template's metadata: its labels.
#[derive(Clone, PartialEq, Message)]
struct TemplateMeta {
    #[prost(btree_map = "string, string", tag = "11")]
    labels: BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, Message)]
struct OwnerReference {
    #[prost(string, optional, tag = "1")]
    kind: Option<String>,
    #[prost(string, optional, tag = "3")]
    name: Option<String>,
    #[prost(bool, optional, tag = "6")]
    controller: Option<bool>,
}

/// `metav1.Time` and `metav1.MicroTime`.
#[derive(Clone, PartialEq, Message)]
struct Time {
    #[prost(int64, optional, tag = "1")]
    seconds: Option<i64>,
    #[prost(int32, optional, tag = "2")]
    nanos: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
struct PbLabelSelector {
    #[prost(btree_map = "string, string", tag = "1")]
    match_labels: BTreeMap<String, String>,
    #[prost(message, repeated, tag = "2")]
    match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Clone, PartialEq, Message)]
struct LabelSelectorRequirement {
    #[prost(string, optional, tag = "1")]
    key: Option<String>,
    #[prost(string, optional, tag = "2")]
    operator: Option<String>,
    #[prost(string, repeated, tag = "3")]
    values: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
struct IntOrString {
    #[prost(int64, optional, tag = "1")]
    type_: Option<i64>,
    #[prost(int32, optional, tag = "2")]
    int_val: Option<i32>,
    #[prost(string, optional, tag = "3")]
    str_val: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct Quantity {
    #[prost(string, optional, tag = "1")]
    string: Option<String>,
}

/// A message whose presence is all vigil keeps (a probe), or that it only
/// counts (an endpoint address): its fields are skipped.
#[derive(Clone, PartialEq, Message)]
struct Present {}

/// Pod and node conditions. The numbers of `lastTransitionTime`, `reason`
/// and `message` differ between kinds, hence three condition messages.
#[derive(Clone, PartialEq, Message)]
struct CoreCondition {
    #[prost(string, optional, tag = "1")]
    type_: Option<String>,
    #[prost(string, optional, tag = "2")]
    status: Option<String>,
    #[prost(message, optional, tag = "4")]
    last_transition_time: Option<Time>,
    #[prost(string, optional, tag = "5")]
    reason: Option<String>,
    #[prost(string, optional, tag = "6")]
    message: Option<String>,
}

/// StatefulSet and DaemonSet conditions.
#[derive(Clone, PartialEq, Message)]
struct AppsCondition {
    #[prost(string, optional, tag = "1")]
    type_: Option<String>,
    #[prost(string, optional, tag = "2")]
    status: Option<String>,
    #[prost(message, optional, tag = "3")]
    last_transition_time: Option<Time>,
    #[prost(string, optional, tag = "4")]
    reason: Option<String>,
    #[prost(string, optional, tag = "5")]
    message: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct DeploymentCondition {
    #[prost(string, optional, tag = "1")]
    type_: Option<String>,
    #[prost(string, optional, tag = "2")]
    status: Option<String>,
    #[prost(string, optional, tag = "4")]
    reason: Option<String>,
    #[prost(string, optional, tag = "5")]
    message: Option<String>,
    #[prost(message, optional, tag = "7")]
    last_transition_time: Option<Time>,
}

macro_rules! condition_into {
    ($($t:ty),*) => {$(
        impl From<$t> for m::Condition {
            fn from(c: $t) -> Self {
                m::Condition {
                    type_: text(c.type_),
                    status: text(c.status),
                    reason: nonempty(c.reason),
                    message: nonempty(c.message),
                    last_transition_time: time(c.last_transition_time),
                }
            }
        }
    )*};
}
condition_into!(CoreCondition, AppsCondition, DeploymentCondition);

fn conditions<C: Into<m::Condition>>(cs: Vec<C>) -> Vec<m::Condition> {
    cs.into_iter().map(Into::into).collect()
}

#[derive(Clone, PartialEq, Message)]
struct Namespace {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "3")]
    status: Option<NamespaceStatus>,
}

#[derive(Clone, PartialEq, Message)]
struct NamespaceStatus {
    #[prost(string, optional, tag = "1")]
    phase: Option<String>,
    #[prost(message, repeated, tag = "2")]
    conditions: Vec<CoreCondition>,
}

/// Kinds read for their metadata alone.
#[derive(Clone, PartialEq, Message)]
struct MetaOnly {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
}

// ---------------------------------------------------------------- pods

#[derive(Clone, PartialEq, Message)]
struct Pod {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<PodRuntimeSpec>,
    #[prost(message, optional, tag = "3")]
    status: Option<PodStatus>,
}

#[derive(Clone, PartialEq, Message)]
struct PodRuntimeSpec {
    #[prost(string, optional, tag = "10")]
    node_name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct PodStatus {
    #[prost(string, optional, tag = "1")]
    phase: Option<String>,
    #[prost(message, repeated, tag = "2")]
    conditions: Vec<CoreCondition>,
    #[prost(string, optional, tag = "3")]
    message: Option<String>,
    #[prost(string, optional, tag = "4")]
    reason: Option<String>,
    #[prost(message, optional, tag = "7")]
    start_time: Option<Time>,
    #[prost(message, repeated, tag = "8")]
    container_statuses: Vec<ContainerStatus>,
    #[prost(message, repeated, tag = "10")]
    init_container_statuses: Vec<ContainerStatus>,
}

#[derive(Clone, PartialEq, Message)]
struct ContainerStatus {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(message, optional, tag = "2")]
    state: Option<ContainerState>,
    #[prost(message, optional, tag = "3")]
    last_state: Option<ContainerState>,
    #[prost(bool, optional, tag = "4")]
    ready: Option<bool>,
    #[prost(int32, optional, tag = "5")]
    restart_count: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
struct ContainerState {
    #[prost(message, optional, tag = "1")]
    waiting: Option<StateWaiting>,
    #[prost(message, optional, tag = "3")]
    terminated: Option<StateTerminated>,
}

#[derive(Clone, PartialEq, Message)]
struct StateWaiting {
    #[prost(string, optional, tag = "1")]
    reason: Option<String>,
    #[prost(string, optional, tag = "2")]
    message: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct StateTerminated {
    #[prost(int32, optional, tag = "1")]
    exit_code: Option<i32>,
    #[prost(string, optional, tag = "3")]
    reason: Option<String>,
    #[prost(message, optional, tag = "6")]
    finished_at: Option<Time>,
}

impl From<Pod> for m::Pod {
    fn from(p: Pod) -> Self {
        let spec = p.spec.unwrap_or_default();
        let st = p.status.unwrap_or_default();
        let mut pod_conditions: Vec<m::Condition> = st
            .conditions
            .into_iter()
            .filter(|c| matches!(c.type_.as_deref(), Some("Ready" | "PodScheduled")))
            .map(Into::into)
            .collect();
        pod_conditions.shrink_to_fit();
        m::Pod {
            metadata: meta(p.metadata),
            spec: m::PodRuntimeSpec {
                node_name: nonempty(spec.node_name),
            },
            status: m::PodStatus {
                phase: text(st.phase),
                reason: nonempty(st.reason),
                message: nonempty(st.message),
                start_time: time(st.start_time),
                conditions: pod_conditions,
                container_statuses: st.container_statuses.into_iter().map(Into::into).collect(),
                init_container_statuses: st
                    .init_container_statuses
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            },
        }
    }
}

impl From<ContainerStatus> for m::ContainerStatus {
    fn from(c: ContainerStatus) -> Self {
        m::ContainerStatus {
            name: text(c.name),
            ready: c.ready.unwrap_or(false),
            restart_count: c.restart_count.unwrap_or(0).into(),
            state: c.state.map(Into::into).unwrap_or_default(),
            last_state: c.last_state.map(Into::into).unwrap_or_default(),
        }
    }
}

impl From<ContainerState> for m::ContainerState {
    fn from(s: ContainerState) -> Self {
        m::ContainerState {
            waiting: s.waiting.map(|w| {
                Box::new(m::StateWaiting {
                    reason: nonempty(w.reason),
                    message: nonempty(w.message),
                })
            }),
            terminated: s.terminated.map(|t| {
                Box::new(m::StateTerminated {
                    reason: nonempty(t.reason),
                    exit_code: t.exit_code.unwrap_or(0).into(),
                    finished_at: time(t.finished_at),
                })
            }),
        }
    }
}

// ---------------------------------------------------------------- pod templates

#[derive(Clone, PartialEq, Message)]
struct PodTemplate {
    #[prost(message, optional, tag = "1")]
    metadata: Option<TemplateMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<PodSpec>,
}

#[derive(Clone, PartialEq, Message)]
struct PodSpec {
    #[prost(message, repeated, tag = "2")]
    containers: Vec<Container>,
    #[prost(btree_map = "string, string", tag = "7")]
    node_selector: BTreeMap<String, String>,
    #[prost(string, optional, tag = "10")]
    node_name: Option<String>,
    #[prost(bool, optional, tag = "11")]
    host_network: Option<bool>,
    #[prost(message, optional, tag = "18")]
    affinity: Option<Affinity>,
    #[prost(message, repeated, tag = "20")]
    init_containers: Vec<Container>,
    #[prost(message, repeated, tag = "22")]
    tolerations: Vec<Toleration>,
    #[prost(string, optional, tag = "24")]
    priority_class_name: Option<String>,
    #[prost(message, repeated, tag = "33")]
    topology_spread_constraints: Vec<TopologySpreadConstraint>,
}

#[derive(Clone, PartialEq, Message)]
struct Container {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(message, repeated, tag = "6")]
    ports: Vec<ContainerPort>,
    #[prost(message, optional, tag = "8")]
    resources: Option<Resources>,
    #[prost(message, optional, tag = "10")]
    liveness_probe: Option<Present>,
    #[prost(message, optional, tag = "11")]
    readiness_probe: Option<Present>,
    #[prost(string, optional, tag = "24")]
    restart_policy: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct ContainerPort {
    #[prost(int32, optional, tag = "2")]
    host_port: Option<i32>,
    #[prost(int32, optional, tag = "3")]
    container_port: Option<i32>,
    #[prost(string, optional, tag = "4")]
    protocol: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct Resources {
    #[prost(btree_map = "string, message", tag = "1")]
    limits: BTreeMap<String, Quantity>,
    #[prost(btree_map = "string, message", tag = "2")]
    requests: BTreeMap<String, Quantity>,
}

#[derive(Clone, PartialEq, Message)]
struct Toleration {
    #[prost(string, optional, tag = "1")]
    key: Option<String>,
    #[prost(string, optional, tag = "2")]
    operator: Option<String>,
    #[prost(string, optional, tag = "3")]
    value: Option<String>,
    #[prost(string, optional, tag = "4")]
    effect: Option<String>,
    #[prost(int64, optional, tag = "5")]
    toleration_seconds: Option<i64>,
}

#[derive(Clone, PartialEq, Message)]
struct Affinity {
    #[prost(message, optional, tag = "3")]
    pod_anti_affinity: Option<PodAntiAffinity>,
}

#[derive(Clone, PartialEq, Message)]
struct PodAntiAffinity {
    #[prost(message, repeated, tag = "1")]
    required: Vec<PodAffinityTerm>,
    #[prost(message, repeated, tag = "2")]
    preferred: Vec<WeightedPodAffinityTerm>,
}

#[derive(Clone, PartialEq, Message)]
struct PodAffinityTerm {
    #[prost(message, optional, tag = "1")]
    label_selector: Option<PbLabelSelector>,
    #[prost(string, repeated, tag = "2")]
    namespaces: Vec<String>,
    #[prost(string, optional, tag = "3")]
    topology_key: Option<String>,
    #[prost(message, optional, tag = "4")]
    namespace_selector: Option<PbLabelSelector>,
}

#[derive(Clone, PartialEq, Message)]
struct WeightedPodAffinityTerm {
    #[prost(message, optional, tag = "2")]
    pod_affinity_term: Option<PodAffinityTerm>,
}

#[derive(Clone, PartialEq, Message)]
struct TopologySpreadConstraint {
    #[prost(int32, optional, tag = "1")]
    max_skew: Option<i32>,
    #[prost(string, optional, tag = "2")]
    topology_key: Option<String>,
    #[prost(string, optional, tag = "3")]
    when_unsatisfiable: Option<String>,
    #[prost(message, optional, tag = "4")]
    label_selector: Option<PbLabelSelector>,
}

impl From<PodTemplate> for m::PodTemplate {
    fn from(t: PodTemplate) -> Self {
        let s = t.spec.unwrap_or_default();
        m::PodTemplate {
            metadata: m::TemplateMeta {
                labels: labels(t.metadata.unwrap_or_default().labels),
            },
            spec: m::PodSpec {
                containers: s.containers.into_iter().map(Into::into).collect(),
                init_containers: s.init_containers.into_iter().map(Into::into).collect(),
                priority_class_name: nonempty(s.priority_class_name),
                node_name: nonempty(s.node_name),
                affinity: s.affinity.map(|a| m::Affinity {
                    pod_anti_affinity: a.pod_anti_affinity.map(|p| m::PodAntiAffinity {
                        required_during_scheduling_ignored_during_execution: p
                            .required
                            .into_iter()
                            .map(Into::into)
                            .collect(),
                        preferred_during_scheduling_ignored_during_execution: p
                            .preferred
                            .into_iter()
                            .map(|w| m::WeightedPodAffinityTerm {
                                pod_affinity_term: w
                                    .pod_affinity_term
                                    .map(Into::into)
                                    .unwrap_or_default(),
                            })
                            .collect(),
                    }),
                }),
                topology_spread_constraints: s
                    .topology_spread_constraints
                    .into_iter()
                    .map(|c| m::TopologySpreadConstraint {
                        max_skew: c.max_skew.map(i64::from),
                        topology_key: text(c.topology_key),
                        label_selector: c.label_selector.map(selector),
                        // Always in JSON (no omitempty).
                        when_unsatisfiable: Some(text(c.when_unsatisfiable)),
                    })
                    .collect(),
                host_network: s.host_network.unwrap_or(false),
                tolerations: s
                    .tolerations
                    .into_iter()
                    .map(|t| m::Toleration {
                        key: nonempty(t.key),
                        toleration_seconds: t.toleration_seconds,
                        operator: nonempty(t.operator),
                        value: nonempty(t.value),
                        effect: nonempty(t.effect),
                    })
                    .collect(),
                node_selector: labels(s.node_selector),
            },
        }
    }
}

impl From<PodAffinityTerm> for m::PodAffinityTerm {
    fn from(t: PodAffinityTerm) -> Self {
        m::PodAffinityTerm {
            label_selector: t.label_selector.map(selector),
            topology_key: text(t.topology_key),
            namespaces: t.namespaces.into_iter().map(Str::from).collect(),
            namespace_selector: t.namespace_selector.map(selector),
        }
    }
}

impl From<Container> for m::Container {
    fn from(c: Container) -> Self {
        let r = c.resources.unwrap_or_default();
        m::Container {
            name: text(c.name),
            readiness_probe: c.readiness_probe.is_some(),
            liveness_probe: c.liveness_probe.is_some(),
            resources: m::Resources {
                requests: quantities(r.requests),
                limits: quantities(r.limits),
            },
            restart_policy: pointer(c.restart_policy),
            ports: c
                .ports
                .into_iter()
                .map(|p| m::ContainerPort {
                    host_port: nonzero(p.host_port),
                    container_port: Some(p.container_port.unwrap_or(0).into()),
                    protocol: nonempty(p.protocol),
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------- workloads

#[derive(Clone, PartialEq, Message)]
struct RollingUpdate {
    // Deployments and DaemonSets: maxUnavailable = 1, maxSurge = 2.
    #[prost(message, optional, tag = "1")]
    max_unavailable: Option<IntOrString>,
    #[prost(message, optional, tag = "2")]
    max_surge: Option<IntOrString>,
}

#[derive(Clone, PartialEq, Message)]
struct RollingUpdateStatefulSet {
    #[prost(int32, optional, tag = "1")]
    partition: Option<i32>,
    #[prost(message, optional, tag = "2")]
    max_unavailable: Option<IntOrString>,
}

#[derive(Clone, PartialEq, Message)]
struct Strategy {
    #[prost(string, optional, tag = "1")]
    type_: Option<String>,
    #[prost(message, optional, tag = "2")]
    rolling_update: Option<RollingUpdate>,
}

#[derive(Clone, PartialEq, Message)]
struct StatefulSetStrategy {
    #[prost(string, optional, tag = "1")]
    type_: Option<String>,
    #[prost(message, optional, tag = "2")]
    rolling_update: Option<RollingUpdateStatefulSet>,
}

impl From<RollingUpdate> for m::RollingUpdate {
    fn from(r: RollingUpdate) -> Self {
        m::RollingUpdate {
            max_unavailable: r.max_unavailable.map(int_or_percent),
            max_surge: r.max_surge.map(int_or_percent),
            partition: None,
        }
    }
}

impl From<RollingUpdateStatefulSet> for m::RollingUpdate {
    fn from(r: RollingUpdateStatefulSet) -> Self {
        m::RollingUpdate {
            max_unavailable: r.max_unavailable.map(int_or_percent),
            max_surge: None,
            partition: number(r.partition),
        }
    }
}

macro_rules! strategy_into {
    ($($t:ty),*) => {$(
        impl From<$t> for m::Strategy {
            fn from(s: $t) -> Self {
                m::Strategy {
                    type_: nonempty(s.type_),
                    rolling_update: s.rolling_update.map(Into::into),
                }
            }
        }
    )*};
}
strategy_into!(Strategy, StatefulSetStrategy);

#[derive(Clone, PartialEq, Message)]
struct Deployment {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<DeploymentSpec>,
    #[prost(message, optional, tag = "3")]
    status: Option<DeploymentStatus>,
}

#[derive(Clone, PartialEq, Message)]
struct DeploymentSpec {
    #[prost(int32, optional, tag = "1")]
    replicas: Option<i32>,
    #[prost(message, optional, tag = "2")]
    selector: Option<PbLabelSelector>,
    #[prost(message, optional, tag = "3")]
    template: Option<PodTemplate>,
    #[prost(message, optional, tag = "4")]
    strategy: Option<Strategy>,
    #[prost(int32, optional, tag = "9")]
    progress_deadline_seconds: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
struct DeploymentStatus {
    #[prost(int64, optional, tag = "1")]
    observed_generation: Option<i64>,
    #[prost(int32, optional, tag = "2")]
    replicas: Option<i32>,
    #[prost(int32, optional, tag = "3")]
    updated_replicas: Option<i32>,
    #[prost(int32, optional, tag = "4")]
    available_replicas: Option<i32>,
    #[prost(message, repeated, tag = "6")]
    conditions: Vec<DeploymentCondition>,
    #[prost(int32, optional, tag = "7")]
    ready_replicas: Option<i32>,
}

impl From<Deployment> for m::Workload {
    fn from(d: Deployment) -> Self {
        let spec = d.spec.unwrap_or_default();
        let st = d.status.unwrap_or_default();
        m::Workload {
            kind: m::WorkloadKind::Deployment,
            metadata: meta(d.metadata),
            spec: m::WorkloadSpec {
                replicas: number(spec.replicas),
                selector: spec.selector.map(selector),
                template: spec.template.map(Into::into).unwrap_or_default(),
                strategy: spec.strategy.map(Into::into),
                update_strategy: None,
                progress_deadline_seconds: number(spec.progress_deadline_seconds),
            },
            status: m::WorkloadStatus {
                observed_generation: nonzero(st.observed_generation),
                replicas: nonzero(st.replicas),
                ready_replicas: nonzero(st.ready_replicas),
                updated_replicas: nonzero(st.updated_replicas),
                available_replicas: nonzero(st.available_replicas),
                conditions: conditions(st.conditions),
                ..Default::default()
            },
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct StatefulSet {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<StatefulSetSpec>,
    #[prost(message, optional, tag = "3")]
    status: Option<StatefulSetStatus>,
}

#[derive(Clone, PartialEq, Message)]
struct StatefulSetSpec {
    #[prost(int32, optional, tag = "1")]
    replicas: Option<i32>,
    #[prost(message, optional, tag = "2")]
    selector: Option<PbLabelSelector>,
    #[prost(message, optional, tag = "3")]
    template: Option<PodTemplate>,
    #[prost(message, optional, tag = "7")]
    update_strategy: Option<StatefulSetStrategy>,
}

#[derive(Clone, PartialEq, Message)]
struct StatefulSetStatus {
    #[prost(int64, optional, tag = "1")]
    observed_generation: Option<i64>,
    #[prost(int32, optional, tag = "2")]
    replicas: Option<i32>,
    #[prost(int32, optional, tag = "3")]
    ready_replicas: Option<i32>,
    #[prost(int32, optional, tag = "5")]
    updated_replicas: Option<i32>,
    #[prost(string, optional, tag = "6")]
    current_revision: Option<String>,
    #[prost(string, optional, tag = "7")]
    update_revision: Option<String>,
    #[prost(message, repeated, tag = "10")]
    conditions: Vec<AppsCondition>,
    #[prost(int32, optional, tag = "11")]
    available_replicas: Option<i32>,
}

impl From<StatefulSet> for m::Workload {
    fn from(s: StatefulSet) -> Self {
        let spec = s.spec.unwrap_or_default();
        let st = s.status.unwrap_or_default();
        m::Workload {
            kind: m::WorkloadKind::StatefulSet,
            metadata: meta(s.metadata),
            spec: m::WorkloadSpec {
                replicas: number(spec.replicas),
                selector: spec.selector.map(selector),
                template: spec.template.map(Into::into).unwrap_or_default(),
                strategy: None,
                update_strategy: spec.update_strategy.map(Into::into),
                progress_deadline_seconds: None,
            },
            status: m::WorkloadStatus {
                observed_generation: nonzero(st.observed_generation),
                // `replicas` and `availableReplicas` have no omitempty.
                replicas: number(st.replicas),
                ready_replicas: nonzero(st.ready_replicas),
                updated_replicas: nonzero(st.updated_replicas),
                available_replicas: number(st.available_replicas),
                current_revision: nonempty(st.current_revision),
                update_revision: nonempty(st.update_revision),
                conditions: conditions(st.conditions),
                ..Default::default()
            },
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct DaemonSet {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<DaemonSetSpec>,
    #[prost(message, optional, tag = "3")]
    status: Option<DaemonSetStatus>,
}

#[derive(Clone, PartialEq, Message)]
struct DaemonSetSpec {
    #[prost(message, optional, tag = "1")]
    selector: Option<PbLabelSelector>,
    #[prost(message, optional, tag = "2")]
    template: Option<PodTemplate>,
    #[prost(message, optional, tag = "3")]
    update_strategy: Option<Strategy>,
}

#[derive(Clone, PartialEq, Message)]
struct DaemonSetStatus {
    #[prost(int32, optional, tag = "3")]
    desired_number_scheduled: Option<i32>,
    #[prost(int64, optional, tag = "5")]
    observed_generation: Option<i64>,
    #[prost(int32, optional, tag = "6")]
    updated_number_scheduled: Option<i32>,
    #[prost(int32, optional, tag = "7")]
    number_available: Option<i32>,
    #[prost(int32, optional, tag = "8")]
    number_unavailable: Option<i32>,
    #[prost(message, repeated, tag = "10")]
    conditions: Vec<AppsCondition>,
}

impl From<DaemonSet> for m::Workload {
    fn from(d: DaemonSet) -> Self {
        let spec = d.spec.unwrap_or_default();
        let st = d.status.unwrap_or_default();
        m::Workload {
            kind: m::WorkloadKind::DaemonSet,
            metadata: meta(d.metadata),
            spec: m::WorkloadSpec {
                replicas: None,
                selector: spec.selector.map(selector),
                template: spec.template.map(Into::into).unwrap_or_default(),
                strategy: None,
                update_strategy: spec.update_strategy.map(Into::into),
                progress_deadline_seconds: None,
            },
            status: m::WorkloadStatus {
                observed_generation: nonzero(st.observed_generation),
                // `desiredNumberScheduled` has no omitempty.
                desired_number_scheduled: number(st.desired_number_scheduled),
                updated_number_scheduled: nonzero(st.updated_number_scheduled),
                number_available: nonzero(st.number_available),
                number_unavailable: nonzero(st.number_unavailable),
                conditions: conditions(st.conditions),
                ..Default::default()
            },
        }
    }
}

// ---------------------------------------------------------------- policy, autoscaling

#[derive(Clone, PartialEq, Message)]
struct Pdb {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<PdbSpec>,
    #[prost(message, optional, tag = "3")]
    status: Option<PdbStatus>,
}

#[derive(Clone, PartialEq, Message)]
struct PdbSpec {
    #[prost(message, optional, tag = "1")]
    min_available: Option<IntOrString>,
    #[prost(message, optional, tag = "2")]
    selector: Option<PbLabelSelector>,
    #[prost(message, optional, tag = "3")]
    max_unavailable: Option<IntOrString>,
    #[prost(string, optional, tag = "4")]
    unhealthy_pod_eviction_policy: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct PdbStatus {
    #[prost(int32, optional, tag = "3")]
    disruptions_allowed: Option<i32>,
    #[prost(int32, optional, tag = "4")]
    current_healthy: Option<i32>,
    #[prost(int32, optional, tag = "5")]
    desired_healthy: Option<i32>,
    #[prost(int32, optional, tag = "6")]
    expected_pods: Option<i32>,
}

impl Pdb {
    fn into_model(self, api_version: &str) -> m::Pdb {
        let spec = self.spec.unwrap_or_default();
        m::Pdb {
            api_version: api_version.into(),
            metadata: meta(self.metadata),
            spec: m::PdbSpec {
                selector: spec.selector.map(selector),
                min_available: spec.min_available.map(int_or_percent),
                max_unavailable: spec.max_unavailable.map(int_or_percent),
                unhealthy_pod_eviction_policy: pointer(spec.unhealthy_pod_eviction_policy),
            },
            status: self.status.map(|s| m::PdbStatus {
                current_healthy: s.current_healthy.unwrap_or(0).into(),
                desired_healthy: s.desired_healthy.unwrap_or(0).into(),
                disruptions_allowed: s.disruptions_allowed.unwrap_or(0).into(),
                expected_pods: s.expected_pods.unwrap_or(0).into(),
            }),
        }
    }
}

/// `autoscaling/v2` and `v1` number these fields alike.
#[derive(Clone, PartialEq, Message)]
struct Hpa {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<HpaSpec>,
}

#[derive(Clone, PartialEq, Message)]
struct HpaSpec {
    #[prost(message, optional, tag = "1")]
    scale_target_ref: Option<CrossVersionRef>,
    #[prost(int32, optional, tag = "2")]
    min_replicas: Option<i32>,
    #[prost(int32, optional, tag = "3")]
    max_replicas: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
struct CrossVersionRef {
    #[prost(string, optional, tag = "1")]
    kind: Option<String>,
    #[prost(string, optional, tag = "2")]
    name: Option<String>,
}

impl From<Hpa> for m::Hpa {
    fn from(h: Hpa) -> Self {
        let spec = h.spec.unwrap_or_default();
        let target = spec.scale_target_ref.unwrap_or_default();
        m::Hpa {
            metadata: meta(h.metadata),
            spec: m::HpaSpec {
                scale_target_ref: m::CrossVersionRef {
                    kind: text(target.kind),
                    name: text(target.name),
                },
                min_replicas: number(spec.min_replicas),
                max_replicas: number(spec.max_replicas),
            },
        }
    }
}

// ---------------------------------------------------------------- network

#[derive(Clone, PartialEq, Message)]
struct Service {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<ServiceSpec>,
}

#[derive(Clone, PartialEq, Message)]
struct ServiceSpec {
    #[prost(btree_map = "string, string", tag = "2")]
    selector: BTreeMap<String, String>,
    #[prost(string, optional, tag = "4")]
    type_: Option<String>,
}

impl From<Service> for m::Service {
    fn from(s: Service) -> Self {
        let spec = s.spec.unwrap_or_default();
        m::Service {
            metadata: meta(s.metadata),
            spec: m::ServiceSpec {
                // JSON omits an empty selector, as protobuf does.
                selector: (!spec.selector.is_empty()).then(|| labels(spec.selector)),
                type_: nonempty(spec.type_),
            },
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct Endpoints {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, repeated, tag = "2")]
    subsets: Vec<EndpointSubset>,
}

#[derive(Clone, PartialEq, Message)]
struct EndpointSubset {
    #[prost(message, repeated, tag = "1")]
    addresses: Vec<Present>,
    #[prost(message, repeated, tag = "2")]
    not_ready_addresses: Vec<Present>,
}

impl From<Endpoints> for m::Endpoints {
    fn from(e: Endpoints) -> Self {
        m::Endpoints {
            metadata: meta(e.metadata),
            subsets: e
                .subsets
                .into_iter()
                .map(|s| m::EndpointSubset {
                    addresses: s.addresses.len(),
                    not_ready_addresses: s.not_ready_addresses.len(),
                })
                .collect(),
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct EndpointSlice {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, repeated, tag = "2")]
    endpoints: Vec<SliceEndpoint>,
}

#[derive(Clone, PartialEq, Message)]
struct SliceEndpoint {
    #[prost(message, optional, tag = "2")]
    conditions: Option<EndpointConditions>,
}

#[derive(Clone, PartialEq, Message)]
struct EndpointConditions {
    #[prost(bool, optional, tag = "1")]
    ready: Option<bool>,
}

impl From<EndpointSlice> for m::EndpointSlice {
    fn from(e: EndpointSlice) -> Self {
        m::EndpointSlice {
            metadata: meta(e.metadata),
            endpoints: e
                .endpoints
                .into_iter()
                .map(|p| m::SliceEndpoint {
                    conditions: m::EndpointConditions {
                        ready: p.conditions.and_then(|c| c.ready),
                    },
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------- nodes, events

#[derive(Clone, PartialEq, Message)]
struct Node {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<NodeSpec>,
    #[prost(message, optional, tag = "3")]
    status: Option<NodeStatus>,
}

#[derive(Clone, PartialEq, Message)]
struct NodeSpec {
    #[prost(bool, optional, tag = "4")]
    unschedulable: Option<bool>,
    #[prost(message, repeated, tag = "5")]
    taints: Vec<Taint>,
}

#[derive(Clone, PartialEq, Message)]
struct Taint {
    #[prost(string, optional, tag = "1")]
    key: Option<String>,
    #[prost(string, optional, tag = "2")]
    value: Option<String>,
    #[prost(string, optional, tag = "3")]
    effect: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct NodeStatus {
    #[prost(message, repeated, tag = "4")]
    conditions: Vec<CoreCondition>,
}

impl From<Node> for m::Node {
    fn from(n: Node) -> Self {
        let spec = n.spec.unwrap_or_default();
        m::Node {
            metadata: meta(n.metadata),
            spec: m::NodeSpec {
                unschedulable: spec.unschedulable.unwrap_or(false),
                taints: spec
                    .taints
                    .into_iter()
                    .map(|t| m::Taint {
                        key: text(t.key),
                        value: text(t.value),
                        effect: text(t.effect),
                    })
                    .collect(),
            },
            status: m::NodeStatus {
                conditions: conditions(n.status.unwrap_or_default().conditions),
            },
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct Event {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    involved_object: Option<ObjectReference>,
    #[prost(string, optional, tag = "3")]
    reason: Option<String>,
    #[prost(string, optional, tag = "4")]
    message: Option<String>,
    #[prost(message, optional, tag = "6")]
    first_timestamp: Option<Time>,
    #[prost(message, optional, tag = "7")]
    last_timestamp: Option<Time>,
    #[prost(int32, optional, tag = "8")]
    count: Option<i32>,
    #[prost(string, optional, tag = "9")]
    type_: Option<String>,
    #[prost(message, optional, tag = "10")]
    event_time: Option<Time>,
    #[prost(message, optional, tag = "11")]
    series: Option<EventSeries>,
}

#[derive(Clone, PartialEq, Message)]
struct ObjectReference {
    #[prost(string, optional, tag = "1")]
    kind: Option<String>,
    #[prost(string, optional, tag = "2")]
    namespace: Option<String>,
    #[prost(string, optional, tag = "3")]
    name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct EventSeries {
    #[prost(int32, optional, tag = "1")]
    count: Option<i32>,
    #[prost(message, optional, tag = "2")]
    last_observed_time: Option<Time>,
}

impl From<Event> for m::Event {
    fn from(e: Event) -> Self {
        let involved = e.involved_object.unwrap_or_default();
        m::Event {
            metadata: meta(e.metadata),
            involved_object: m::InvolvedObject {
                kind: text(involved.kind),
                name: text(involved.name),
                namespace: text(involved.namespace),
            },
            reason: nonempty(e.reason),
            message: nonempty(e.message),
            type_: nonempty(e.type_),
            count: nonzero(e.count),
            first_timestamp: time(e.first_timestamp),
            last_timestamp: time(e.last_timestamp),
            event_time: micro_time(e.event_time),
            series: e.series.map(|s| m::EventSeries {
                count: nonzero(s.count),
                last_observed_time: micro_time(s.last_observed_time),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wraps a list message the way the API server does.
    fn envelope(kind: &str, list: impl Message) -> Bytes {
        let mut body = MAGIC.to_vec();
        #[derive(Clone, PartialEq, Message)]
        struct Envelope {
            #[prost(message, optional, tag = "1")]
            type_meta: Option<FullTypeMeta>,
            #[prost(bytes = "vec", optional, tag = "2")]
            raw: Option<Vec<u8>>,
        }
        #[derive(Clone, PartialEq, Message)]
        struct FullTypeMeta {
            #[prost(string, optional, tag = "1")]
            api_version: Option<String>,
            #[prost(string, optional, tag = "2")]
            kind: Option<String>,
        }
        Envelope {
            type_meta: Some(FullTypeMeta {
                api_version: Some("v1".into()),
                kind: Some(kind.into()),
            }),
            raw: Some(list.encode_to_vec()),
        }
        .encode(&mut body)
        .unwrap();
        body.into()
    }

    #[derive(Clone, PartialEq, Message)]
    struct PodList {
        #[prost(message, optional, tag = "1")]
        metadata: Option<ListMeta>,
        #[prost(message, repeated, tag = "2")]
        items: Vec<Pod>,
    }

    fn pod(name: &str) -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                generation: Some(0),
                creation_timestamp: Some(Time {
                    seconds: Some(1_700_000_000),
                    nanos: Some(0),
                }),
                // The zero time: an empty message.
                deletion_timestamp: None,
                labels: [("app".to_owned(), "a".to_owned())].into(),
                ..Default::default()
            }),
            spec: Some(PodRuntimeSpec {
                node_name: Some(String::new()),
            }),
            status: Some(PodStatus {
                phase: Some("Running".into()),
                reason: Some(String::new()),
                conditions: vec![
                    CoreCondition {
                        type_: Some("Ready".into()),
                        status: Some("True".into()),
                        last_transition_time: Some(Time::default()),
                        ..Default::default()
                    },
                    CoreCondition {
                        type_: Some("ContainersReady".into()),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_pod_list_decodes_like_its_json() {
        let body = envelope(
            "PodList",
            PodList {
                metadata: Some(ListMeta {
                    continue_token: Some("next".into()),
                }),
                items: vec![pod("a"), pod("b")],
            },
        );
        let page = parse_page("Pod", "v1", body).unwrap();
        assert_eq!(page.continue_token.as_deref(), Some("next"));
        assert_eq!(page.objects.len(), 2);
        let Object::Pod(p) = &page.objects[1] else {
            panic!("not a pod")
        };
        assert_eq!(p.metadata.name, "b");
        assert_eq!(p.metadata.labels.get("app"), Some("a"));
        assert_eq!(
            p.metadata.creation_timestamp.as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        // What JSON omits (empty strings, zero numbers, zero times) is absent.
        assert_eq!(p.metadata.generation, None);
        assert_eq!(p.spec.node_name, None);
        assert_eq!(p.status.reason, None);
        assert_eq!(p.status.conditions.len(), 1, "only Ready and PodScheduled");
        assert_eq!(p.status.conditions[0].last_transition_time, None);
        let json = crate::sources::decode::parse_page(
            "Pod",
            Some("v1"),
            r#"{"items":[{"metadata":{"name":"b","namespace":"ns","labels":{"app":"a"},
               "creationTimestamp":"2023-11-14T22:13:20Z"},"spec":{},
               "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":null},
               {"type":"ContainersReady"}]}}]}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&**p).unwrap(),
            match &json.objects[0] {
                Object::Pod(j) => serde_json::to_value(&**j).unwrap(),
                _ => unreachable!(),
            }
        );
    }

    #[test]
    fn the_last_page_has_no_token_and_a_wrong_list_is_refused() {
        let body = envelope(
            "PodList",
            PodList {
                metadata: Some(ListMeta {
                    continue_token: Some(String::new()),
                }),
                items: vec![],
            },
        );
        assert_eq!(
            parse_page("Pod", "v1", body.clone())
                .unwrap()
                .continue_token,
            None
        );
        let err = parse_page("Node", "v1", body).unwrap_err();
        assert!(err.contains("expected a NodeList"), "{err}");
        let err = parse_page("Pod", "v1", Bytes::from_static(b"{\"items\":[]}")).unwrap_err();
        assert!(err.contains("no k8s"), "{err}");
        // A body cut short is an error (retried by the caller), not a short list.
        let full = envelope(
            "PodList",
            PodList {
                metadata: None,
                items: vec![pod("a")],
            },
        );
        // Refused by the outline already: the live listing asks for the
        // next page on the strength of it.
        for end in [5, full.len() / 2, full.len() - 5] {
            let cut = full.slice(..end);
            assert!(outline_page("Pod", "v1", cut).is_err(), "cut at {end}");
        }
    }

    #[test]
    fn the_outline_counts_the_items_and_leaves_them_to_decode() {
        let body = envelope(
            "PodList",
            PodList {
                metadata: Some(ListMeta {
                    continue_token: Some("next".into()),
                }),
                items: vec![pod("a"), pod("b"), pod("c")],
            },
        );
        let outlined = outline_page("Pod", "v1", body).unwrap();
        assert_eq!(outlined.continue_token(), Some("next"));
        assert_eq!(outlined.count(), 3);
        let names: Vec<_> = outlined
            .decode()
            .unwrap()
            .iter()
            .map(|o| o.metadata().name.to_string())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);

        // An item whose own bytes are broken (a field of wire type 7) is
        // whole to the outline and an error to the decoding.
        #[derive(Clone, PartialEq, Message)]
        struct RawList {
            #[prost(bytes = "vec", repeated, tag = "2")]
            items: Vec<Vec<u8>>,
        }
        let broken = envelope(
            "PodList",
            RawList {
                items: vec![pod("a").encode_to_vec(), vec![0x0f, 0x00]],
            },
        );
        let outlined = outline_page("Pod", "v1", broken).unwrap();
        assert_eq!(outlined.continue_token(), None);
        assert_eq!(outlined.count(), 2);
        let err = outlined.decode().unwrap_err();
        assert!(err.starts_with("PodList: "), "{err}");
    }

    #[test]
    fn error_statuses_say_their_message() {
        #[derive(Clone, PartialEq, Message)]
        struct Status {
            #[prost(string, optional, tag = "2")]
            status: Option<String>,
            #[prost(string, optional, tag = "3")]
            message: Option<String>,
            #[prost(int32, optional, tag = "6")]
            code: Option<i32>,
        }
        let body = envelope(
            "Status",
            Status {
                status: Some("Failure".into()),
                message: Some("pods is forbidden: User \"x\" cannot list".into()),
                code: Some(403),
            },
        );
        assert_eq!(
            status_message(&body).as_deref(),
            Some("pods is forbidden: User \"x\" cannot list")
        );
        let list = envelope("PodList", PodList::default());
        assert_eq!(status_message(&list), None);
        assert_eq!(status_message(b"{\"message\":\"json\"}"), None);
    }

    #[test]
    fn times_are_written_as_json_writes_them() {
        let t = |s, n| {
            Some(Time {
                seconds: Some(s),
                nanos: Some(n),
            })
        };
        assert_eq!(time(t(0, 0)).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            time(t(1_700_000_000, 999)).as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(time(Some(Time::default())), None);
        assert_eq!(
            micro_time(t(1_700_000_000, 123_456_789)).as_deref(),
            Some("2023-11-14T22:13:20.123456Z")
        );
    }

    #[test]
    fn int_or_string_reads_as_json_does() {
        let v = |t, i, s: &str| IntOrString {
            type_: Some(t),
            int_val: Some(i),
            str_val: Some(s.into()),
        };
        assert_eq!(int_or_percent(v(0, 2, "")), IntOrPercent::Int(2));
        assert_eq!(
            int_or_percent(v(1, 0, "25%")),
            IntOrPercent::Str("25%".into())
        );
        assert_eq!(int_or_percent(v(1, 0, "3")), IntOrPercent::Int(3));
    }

    #[test]
    fn only_built_in_groups_are_asked_for_protobuf() {
        assert!(served_as_protobuf("Pod", ""));
        assert!(served_as_protobuf("PodDisruptionBudget", "policy"));
        assert!(!served_as_protobuf("Infrastructure", "config.openshift.io"));
        assert!(!served_as_protobuf("DeploymentConfig", "apps.openshift.io"));
        assert!(!served_as_protobuf("Rollout", "argoproj.io"));
    }

    /// Bodies a real kube-apiserver (v1.34) sent for testdata/wire/every-field.yaml,
    /// once as protobuf and once as JSON (testdata/wire/captured/): each
    /// protobuf decoder against the JSON decoder, offline, so a wrong
    /// field number shows here and not only in a live test.
    #[test]
    fn captured_protobuf_bodies_decode_as_their_json_twins() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/wire/captured");
        for (file, kind, gv) in [
            ("pods", "Pod", "v1"),
            ("nodes", "Node", "v1"),
            ("namespaces", "Namespace", "v1"),
            ("services", "Service", "v1"),
            ("endpoints", "Endpoints", "v1"),
            ("events", "Event", "v1"),
            ("deployments", "Deployment", "apps/v1"),
            ("statefulsets", "StatefulSet", "apps/v1"),
            ("daemonsets", "DaemonSet", "apps/v1"),
            ("replicasets", "ReplicaSet", "apps/v1"),
            ("poddisruptionbudgets", "PodDisruptionBudget", "policy/v1"),
            (
                "horizontalpodautoscalers",
                "HorizontalPodAutoscaler",
                "autoscaling/v2",
            ),
            ("endpointslices", "EndpointSlice", "discovery.k8s.io/v1"),
        ] {
            let pb = std::fs::read(dir.join(format!("{file}.pb"))).unwrap();
            let json = std::fs::read_to_string(dir.join(format!("{file}.json"))).unwrap();
            let from_pb = parse_page(kind, gv, Bytes::from(pb)).unwrap().objects;
            let from_json = crate::sources::decode::parse_page(kind, Some(gv), &json)
                .unwrap()
                .objects;
            assert!(!from_pb.is_empty(), "{file}: no object");
            assert_eq!(
                serde_json::to_value(&from_pb).unwrap(),
                serde_json::to_value(&from_json).unwrap(),
                "{file}: protobuf and JSON decode differently"
            );
        }
    }
}
