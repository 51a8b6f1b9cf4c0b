//! Snapshots: what a live run collected, written so that `vigil run --from`
//! on the file judges exactly what the live run judged.
//!
//! A snapshot is a Kubernetes `List` (JSON, `.gz` when the name says so)
//! whose items are the slim objects vigil keeps, in the API's own field
//! names — so managedFields, annotations and everything else vigil never
//! reads are absent by construction — plus a `vigilSnapshot` header saying
//! when and how the state was collected, and which kinds could not be.

use std::path::Path;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::model::objects::*;

pub const HEADER_KEY: &str = "vigilSnapshot";
pub const FORMAT_VERSION: u32 = 1;

/// How the state in a snapshot was collected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionInfo {
    #[serde(default)]
    pub version: u32,
    /// When the listing finished (RFC 3339): the run's "now".
    pub collected_at: String,
    /// The API server's version, e.g. `v1.34.4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Kinds that could not be listed, with why (403, repeated 5xx...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingKind>,
    /// Kinds the server does not serve (OpenShift-only kinds on Kubernetes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingKind {
    pub kind: String,
    pub error: String,
}

impl Object {
    pub fn api_version(&self) -> &str {
        match self {
            Object::Namespace(_)
            | Object::Node(_)
            | Object::Pod(_)
            | Object::Service(_)
            | Object::Endpoints(_)
            | Object::Event(_) => "v1",
            Object::Workload(_) | Object::ReplicaSet(_) => "apps/v1",
            Object::Pdb(p) if !p.api_version.is_empty() => &p.api_version,
            Object::Pdb(_) => "policy/v1",
            Object::Hpa(_) => "autoscaling/v2",
            Object::EndpointSlice(_) => "discovery.k8s.io/v1",
            Object::Infrastructure(_) => "config.openshift.io/v1",
            Object::Unjudged(u) => UNJUDGED_KINDS
                .iter()
                .find(|(k, _)| *k == u.kind)
                .map_or("v1", |(_, v)| v),
        }
    }
}

/// `{"apiVersion": ..., "kind": ..., <the object's own fields>}`.
#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Serialize)]
struct WorkloadBody<'a> {
    metadata: &'a ObjectMeta,
    spec: &'a WorkloadSpec,
    status: &'a WorkloadStatus,
}

#[derive(Serialize)]
struct PdbBody<'a> {
    metadata: &'a ObjectMeta,
    spec: &'a PdbSpec,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: &'a Option<PdbStatus>,
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (api_version, kind) = (self.api_version(), self.kind());
        macro_rules! tagged {
            ($body:expr) => {
                Tagged {
                    api_version,
                    kind,
                    body: $body,
                }
                .serialize(s)
            };
        }
        match self {
            Object::Namespace(o) => tagged!(o),
            Object::Node(o) => tagged!(o),
            Object::Pod(o) => tagged!(o),
            Object::Workload(w) => tagged!(&WorkloadBody {
                metadata: &w.metadata,
                spec: &w.spec,
                status: &w.status,
            }),
            Object::ReplicaSet(o) => tagged!(o),
            Object::Pdb(p) => tagged!(&PdbBody {
                metadata: &p.metadata,
                spec: &p.spec,
                status: &p.status,
            }),
            Object::Hpa(o) => tagged!(o),
            Object::Service(o) => tagged!(o),
            Object::EndpointSlice(o) => tagged!(o),
            Object::Endpoints(o) => tagged!(o),
            Object::Event(o) => tagged!(o),
            Object::Infrastructure(o) => tagged!(o),
            Object::Unjudged(o) => tagged!(o),
        }
    }
}

struct Document<'a> {
    info: &'a CollectionInfo,
    objects: &'a [Object],
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("apiVersion", "v1")?;
        m.serialize_entry("kind", "List")?;
        m.serialize_entry(HEADER_KEY, self.info)?;
        m.serialize_entry("items", self.objects)?;
        m.end()
    }
}

/// Writes a snapshot through a temporary file renamed into place; gzip when
/// the name ends in `.gz`.
pub fn write(path: &Path, objects: &[Object], info: &CollectionInfo) -> std::io::Result<()> {
    let doc = Document { info, objects };
    crate::atomic::write(path, crate::atomic::Existing::Replace, |w| {
        if path.extension().is_some_and(|e| e == "gz") {
            // serde_json writes token by token; deflate wants large blocks
            // (unbuffered, 150k pods took 38 s to compress; buffered, seconds).
            let gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
            let mut buf = std::io::BufWriter::with_capacity(1 << 20, gz);
            serde_json::to_writer(&mut buf, &doc)?;
            buf.into_inner()
                .map_err(|e| e.into_error())?
                .finish()
                .map(drop)
        } else {
            serde_json::to_writer(w, &doc).map_err(std::io::Error::from)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exceptions::Exceptions;
    use crate::model::{Cluster, Topology, TopologyMode};
    use crate::outcomes::{evaluate, Scope};
    use crate::sources::load_paths;

    fn judged(objects: Vec<Object>) -> String {
        let c = Cluster::from_objects(objects);
        let t = Topology::resolve(TopologyMode::Auto, &c);
        let ex = Exceptions::load(std::path::Path::new("testdata/exceptions/demo"), true).unwrap();
        let ev = evaluate(
            &c,
            &ex,
            &Scope {
                profile: crate::checks::Profile::Openshift,
                topology: &t,
                namespaces: None,
                today: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
                now: crate::checks::testing::now(),
                missing: &[],
                not_served: &[],
            },
        );
        serde_json::to_string_pretty(&ev).unwrap()
    }

    /// Every testdata state, written as a snapshot and read back, judges the same.
    #[test]
    fn snapshots_round_trip_exactly() {
        for state in ["ha-cluster", "single-node", "broken-infra"] {
            let path = std::path::PathBuf::from(format!("testdata/states/{state}"));
            let original = load_paths(&[path]).unwrap();
            let dir = tempfile::tempdir().unwrap();
            for name in ["snap.json", "snap.json.gz"] {
                let file = dir.path().join(name);
                let info = CollectionInfo {
                    version: FORMAT_VERSION,
                    collected_at: "2026-11-21T12:00:00Z".into(),
                    server: Some("v1.34.4".into()),
                    missing: vec![MissingKind {
                        kind: "Event".into(),
                        error: "forbidden".into(),
                    }],
                    skipped: vec!["Infrastructure".into()],
                };
                write(&file, &original.objects, &info).unwrap();
                let back = load_paths(&[file]).unwrap();
                assert_eq!(back.collection.as_ref(), Some(&info));
                assert_eq!(back.objects.len(), original.objects.len(), "{state}");
                assert_eq!(
                    judged(back.objects),
                    judged(original.objects.clone()),
                    "{state} via {name}"
                );
            }
        }
    }

    #[test]
    fn snapshots_hold_only_what_vigil_reads() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s.json");
        std::fs::write(
            dir.path().join("in.yaml"),
            "kind: Pod\napiVersion: v1\nmetadata:\n  name: p\n  namespace: n\n  annotations: {kubectl.kubernetes.io/last-applied-configuration: '{}'}\n  managedFields: [{manager: kubectl}]\nspec: {nodeName: a, containers: [{name: c, image: x, env: [{name: SECRET, value: s3cret}]}]}\nstatus: {phase: Running}\n",
        )
        .unwrap();
        let objs = load_paths(&[dir.path().join("in.yaml")]).unwrap().objects;
        write(&f, &objs, &CollectionInfo::default()).unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            !text.contains("managedFields")
                && !text.contains("last-applied")
                && !text.contains("s3cret"),
            "{text}"
        );
        assert!(
            text.contains(r#""kind":"Pod""#) && text.contains(r#""nodeName":"a""#),
            "{text}"
        );
    }
}
