//! Snapshots: what a live run collected, written so that `vigil run --from`
//! on the file judges exactly what the live run judged.
//!
//! A snapshot is JSON lines (`.gz` when the name says so), each line a
//! Kubernetes `List` whose items are the slim objects vigil keeps, in the
//! API's own field names — so managedFields, annotations and everything else
//! vigil never reads are absent by construction. The first line also holds a
//! `vigilSnapshot` header saying when and how the state was collected, and
//! which kinds could not be; the last line is an empty `List` holding the
//! `vigilSnapshotEnd` marker with the counts, so that a snapshot cut at a
//! line (or gzip member) boundary is refused rather than judged as a
//! smaller cluster. Compressed, every line is a gzip member that
//! names its own size ([`super::gzip_members`]), so that reading it uses
//! every core. Snapshots written as a single `List` by earlier builds
//! read the same way as any `kubectl get -o json` output.

use std::path::Path;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::model::objects::*;

pub const HEADER_KEY: &str = "vigilSnapshot";
pub const END_KEY: &str = "vigilSnapshotEnd";
/// 2: the header lists the kinds the state holds, and an end marker closes
/// the file. Version 1 snapshots are read, with a note that a cut cannot be
/// told.
pub const FORMAT_VERSION: u32 = 2;

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
    /// The kinds the state holds (listed, even when empty). Absent in
    /// version 1: every kind not missing or skipped was listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
}

impl CollectionInfo {
    /// The kinds this collection listed.
    pub fn kinds_listed(&self) -> Vec<String> {
        match &self.kinds {
            Some(k) => k.clone(),
            None => super::kinds::LISTED
                .iter()
                .map(|l| l.kind.to_owned())
                .filter(|k| !self.missing.iter().any(|m| m.kind == *k) && !self.skipped.contains(k))
                .collect(),
        }
    }
}

/// The last line of a snapshot: how much it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotEnd {
    pub objects: usize,
}

/// Why a snapshot read from a file cannot be trusted whole: cut short
/// (no end marker, or fewer objects than it says), or claiming that the
/// server did not serve kinds every Kubernetes API server serves (a live
/// run refuses that claim; so does a replay). `None` when it is whole.
pub fn validate(
    info: &CollectionInfo,
    end: Option<&SnapshotEnd>,
    objects: usize,
) -> Option<String> {
    let mut problems = Vec::new();
    let core: Vec<&str> = info
        .skipped
        .iter()
        .filter(|k| {
            super::kinds::LISTED
                .iter()
                .any(|l| l.kind == k.as_str() && !l.optional)
        })
        .map(String::as_str)
        .collect();
    if !core.is_empty() {
        problems.push(format!(
            "the snapshot's header says the server did not serve {}, which every Kubernetes API server serves: a damaged or forged snapshot",
            core.join(", ")
        ));
    }
    if info.version >= 2 {
        match end {
            None => problems.push(format!(
                "the snapshot is cut short: its end marker is missing ({objects} objects read); a complete snapshot ends with a `{END_KEY}` line"
            )),
            Some(e) if e.objects != objects => problems.push(format!(
                "the snapshot is incomplete: its end marker counts {} objects, {objects} were read",
                e.objects
            )),
            Some(_) => {}
        }
    }
    (!problems.is_empty()).then(|| problems.join("; "))
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
            Object::Infrastructure(_) | Object::ClusterOperator(_) | Object::ClusterVersion(_) => {
                "config.openshift.io/v1"
            }
            Object::MachineConfigPool(_) => "machineconfiguration.openshift.io/v1",
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
            Object::ClusterOperator(o) => tagged!(o),
            Object::ClusterVersion(o) => tagged!(o),
            Object::MachineConfigPool(o) => tagged!(o),
            Object::Unjudged(o) => tagged!(o),
        }
    }
}

/// One line of a snapshot: a `List` of some of the objects, the first also
/// holding the header, the last (empty) the end marker.
struct Document<'a> {
    info: Option<&'a CollectionInfo>,
    end: Option<SnapshotEnd>,
    objects: &'a [Object],
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("apiVersion", "v1")?;
        m.serialize_entry("kind", "List")?;
        if let Some(info) = self.info {
            m.serialize_entry(HEADER_KEY, info)?;
        }
        if let Some(end) = &self.end {
            m.serialize_entry(END_KEY, end)?;
        }
        m.serialize_entry("items", self.objects)?;
        m.end()
    }
}

/// Objects per line of a snapshot: at 150k pods about a hundred lines of
/// 3 MB, enough to keep every core busy and little to hold at a time.
const OBJECTS_PER_LINE: usize = 4096;

/// Writes a snapshot through a temporary file renamed into place; gzip when
/// the name ends in `.gz`.
///
/// The file is JSON lines, each a `List` of up to [`OBJECTS_PER_LINE`]
/// objects in order, the first with the `vigilSnapshot` header: any reader
/// of `kubectl get -o json` streams reads it as one state. Compressed, each
/// line is its own gzip member naming its size (see
/// [`super::gzip_members`]): `zcat` reads the whole, and vigil inflates and
/// decodes the lines on all cores. Lines are built and compressed on all
/// cores too, and the bytes do not depend on how many there are.
pub fn write(path: &Path, objects: &[Object], info: &CollectionInfo) -> std::io::Result<()> {
    let gz = path.extension().is_some_and(|e| e == "gz");
    let info = CollectionInfo {
        version: FORMAT_VERSION,
        ..info.clone()
    };
    let mut lines: Vec<&[Object]> = if objects.is_empty() {
        vec![&[]]
    } else {
        objects.chunks(OBJECTS_PER_LINE).collect()
    };
    // The end marker: an empty List of its own, the file's last line.
    lines.push(&[]);
    let last = lines.len() - 1;
    let encode = |i: &usize| {
        let doc = Document {
            info: (*i == 0).then_some(&info),
            end: (*i == last).then_some(SnapshotEnd {
                objects: objects.len(),
            }),
            objects: lines[*i],
        };
        let mut text = Vec::with_capacity(lines[*i].len() * 768);
        serde_json::to_writer(&mut text, &doc)?;
        text.push(b'\n');
        if gz {
            super::gzip_members::member(&text, flate2::Compression::default())
        } else {
            Ok(text)
        }
    };
    let indexes: Vec<usize> = (0..lines.len()).collect();
    crate::atomic::write(path, crate::atomic::Existing::Replace, |w| {
        // A batch at a time, so that an uncompressed snapshot is not held whole.
        for batch in indexes.chunks(16) {
            for bytes in crate::parallel::map_in_order(batch, encode) {
                w.write_all(&bytes?)?;
            }
        }
        Ok(())
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
                held: None,
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
                    kinds: None,
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

    /// The broken-infra state, its pods copied under new names until the
    /// snapshot needs several lines.
    fn many_objects() -> Vec<Object> {
        let base = load_paths(&[std::path::PathBuf::from("testdata/states/broken-infra")])
            .unwrap()
            .objects;
        let pods: Vec<Object> = base
            .iter()
            .filter(|o| matches!(o, Object::Pod(_)))
            .cloned()
            .collect();
        let mut objects = base;
        let mut n = 0;
        while objects.len() < OBJECTS_PER_LINE * 2 + 10 {
            for p in &pods {
                let mut p = p.clone();
                n += 1;
                let m = p.metadata_mut();
                m.name = format!("{}-copy{n}", m.name).into();
                objects.push(p);
            }
        }
        objects
    }

    /// A snapshot of several lines is read member by member on all cores,
    /// and judges exactly as the state it was written from, compressed or not.
    #[test]
    fn large_snapshots_are_read_in_parallel_and_judge_the_same() {
        let objects = many_objects();
        let dir = tempfile::tempdir().unwrap();
        let info = CollectionInfo {
            version: FORMAT_VERSION,
            collected_at: "2026-11-21T12:00:00Z".into(),
            ..Default::default()
        };
        let expected = judged(objects.clone());
        for name in ["snap.json.gz", "snap.json"] {
            let file = dir.path().join(name);
            write(&file, &objects, &info).unwrap();
            let raw = std::fs::read(&file).unwrap();
            if name.ends_with(".gz") {
                let members = super::super::gzip_members::split(&raw).expect("members");
                // One member per line, and the end marker.
                assert_eq!(members.len(), objects.len().div_ceil(OBJECTS_PER_LINE) + 1);
                let parallel = super::super::files::parse_members(
                    &file,
                    &raw,
                    &crate::input::Budget::new(crate::input::Limit::files(1 << 30)),
                )
                .expect("read member by member");
                assert_eq!(parallel.objects.len(), objects.len());
                assert_eq!(parallel.snapshot.as_ref(), Some(&info));
            } else {
                let text = String::from_utf8(raw).unwrap();
                assert_eq!(
                    text.lines().count(),
                    objects.len().div_ceil(OBJECTS_PER_LINE) + 1
                );
            }
            let back = load_paths(&[file]).unwrap();
            assert_eq!(back.collection.as_ref(), Some(&info), "{name}");
            assert_eq!(back.objects.len(), objects.len(), "{name}");
            assert_eq!(judged(back.objects), expected, "{name}");
        }
    }

    /// A damaged member is refused, a cut file too: never a smaller state.
    #[test]
    fn damaged_snapshots_are_errors_not_smaller_states() {
        let objects = many_objects();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("snap.json.gz");
        write(&file, &objects, &CollectionInfo::default()).unwrap();
        let raw = std::fs::read(&file).unwrap();
        let members = super::super::gzip_members::split(&raw).unwrap();
        let mut flipped = raw.clone();
        let middle = members[1].start + (members[1].end - members[1].start) / 2;
        flipped[middle] ^= 0x55;
        std::fs::write(&file, &flipped).unwrap();
        let err = load_paths(std::slice::from_ref(&file)).unwrap_err();
        assert!(err.to_string().contains("snap.json.gz"), "{err}");
        std::fs::write(&file, &raw[..members[2].start + 40]).unwrap();
        let err = load_paths(std::slice::from_ref(&file)).unwrap_err();
        assert!(err.to_string().contains("not valid gzip"), "{err}");
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
