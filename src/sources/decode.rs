//! Decoding of `kubectl get -o yaml|json` output into slim objects.
//!
//! A document is a single object or a list (`items`). Objects are dispatched
//! on `kind` while they are being read: `kind` sorts before `metadata`, `spec`
//! and `status` in kubectl's YAML and comes first in API JSON, so the fields
//! that matter are deserialized straight into the typed structs and only the
//! few keys that precede `kind` (say an Event's `involvedObject`) are buffered.
//! Objects of kinds vigil does not read are skipped without being stored.

use serde::de::{
    self, DeserializeSeed, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, Deserializer};
use std::fmt;

use super::snapshot::{CollectionInfo, SnapshotEnd, END_KEY, HEADER_KEY};
use crate::model::objects::*;

/// What one document held: the objects vigil reads, in order, and the
/// header of a vigil snapshot.
#[derive(Debug, Default)]
pub struct Doc {
    pub objects: Vec<Object>,
    pub snapshot: Option<CollectionInfo>,
    /// The end marker of a vigil snapshot (its last line).
    pub snapshot_end: Option<SnapshotEnd>,
    /// Kinds whose lists the document holds (`kind: PodList`, even empty):
    /// the input says it holds those kinds, however few objects it has.
    pub lists: Vec<String>,
    /// Documents and list items without `kind` or `items`: not Kubernetes
    /// objects (a state with only these is not a cluster state).
    pub kindless: usize,
    /// Objects of kinds vigil does not read.
    pub other_kinds: usize,
}

/// What a document held besides the objects vigil reads.
#[derive(Debug, Default)]
struct Tally {
    kindless: usize,
    other_kinds: usize,
    lists: Vec<String>,
}

impl<'de> Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut doc = Doc::default();
        let mut tally = Tally::default();
        d.deserialize_any(ObjectVisitor {
            out: &mut doc.objects,
            snapshot: Some((&mut doc.snapshot, &mut doc.snapshot_end)),
            tally: &mut tally,
        })?;
        doc.kindless = tally.kindless;
        doc.other_kinds = tally.other_kinds;
        doc.lists = tally.lists;
        Ok(doc)
    }
}

/// One page of an API list response: its objects and the `continue` token.
#[derive(Debug, Default)]
pub struct ListPage {
    pub objects: Vec<Object>,
    pub continue_token: Option<String>,
}

/// Decodes one page of `GET <collection>?limit=N`. API list items carry no
/// `kind` (kubectl adds it when printing), so the caller says what they are.
/// `api_version` is the listed group/version: it decides semantics where
/// versions differ (an empty PDB selector under `policy/v1beta1`).
pub fn parse_page(
    kind: &'static str,
    api_version: Option<&str>,
    text: &str,
) -> serde_json::Result<ListPage> {
    // As for files: the fast reader, and serde_json for anything it does not take.
    if let Ok(page) = super::json_fast::from_str_seed(PageSeed { kind, api_version }, text) {
        return Ok(page);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let page = PageSeed { kind, api_version }.deserialize(&mut de)?;
    de.end()?;
    Ok(page)
}

/// A JSON page's `continue` token and how many items it holds, read by the
/// fast reader, which skips over the items without decoding them: what the
/// next request needs, before the slow part. `None` when the fast reader
/// does not take the text; the page is then decoded whole ([`parse_page`]),
/// and serde_json says what is wrong with it.
pub fn outline_page(text: &str) -> Option<(Option<String>, usize)> {
    #[derive(Deserialize)]
    struct Outline {
        #[serde(default)]
        metadata: Option<OutlineMeta>,
        #[serde(default)]
        items: Option<Count>,
    }
    #[derive(Deserialize)]
    struct OutlineMeta {
        #[serde(default, rename = "continue")]
        continue_token: Option<String>,
    }
    struct Count(usize);
    impl<'de> Deserialize<'de> for Count {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Counter;
            impl<'de> Visitor<'de> for Counter {
                type Value = Count;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a list of items")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                    let mut n = 0;
                    while seq.next_element::<IgnoredAny>()?.is_some() {
                        n += 1;
                    }
                    Ok(Count(n))
                }
            }
            d.deserialize_seq(Counter)
        }
    }
    let outline: Outline =
        super::json_fast::from_str_seed(std::marker::PhantomData::<Outline>, text).ok()?;
    Some((
        outline
            .metadata
            .and_then(|m| m.continue_token)
            .filter(|c| !c.is_empty()),
        outline.items.map_or(0, |c| c.0),
    ))
}

struct PageSeed<'v> {
    kind: &'static str,
    api_version: Option<&'v str>,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = ListPage;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ListPage, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = ListPage;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes list response")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListPage, A::Error> {
        #[derive(Deserialize)]
        struct ListMeta {
            #[serde(default, rename = "continue")]
            continue_token: Option<String>,
        }
        let mut page = ListPage::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "items" => map.next_value_seed(KindedItems {
                    kind: self.kind,
                    api_version: self.api_version,
                    out: &mut page.objects,
                })?,
                "metadata" => {
                    let meta: ListMeta = map.next_value()?;
                    page.continue_token = meta.continue_token.filter(|c| !c.is_empty());
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(page)
    }
}

/// A list whose items are all of one known kind.
struct KindedItems<'a> {
    kind: &'static str,
    api_version: Option<&'a str>,
    out: &'a mut Vec<Object>,
}

impl<'de> DeserializeSeed<'de> for KindedItems<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KindedItems<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while seq
            .next_element_seed(KindedItem {
                kind: self.kind,
                api_version: self.api_version,
                out: &mut *self.out,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct KindedItem<'a> {
    kind: &'static str,
    api_version: Option<&'a str>,
    out: &'a mut Vec<Object>,
}

impl<'de> DeserializeSeed<'de> for KindedItem<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for KindedItem<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {}", self.kind)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let rest = Chained {
            pending: Vec::new().into_iter(),
            value: None,
            inner: map,
        };
        decode_kind(
            self.kind,
            self.api_version.map(str::to_owned),
            rest,
            self.out,
        )
    }
}

/// Kinds that are decoded; everything else is skipped.
pub const KINDS: &[&str] = &[
    "Namespace",
    "Node",
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "Service",
    "EndpointSlice",
    "Endpoints",
    "Event",
    "Infrastructure",
    "ClusterOperator",
    "ClusterVersion",
    "MachineConfigPool",
    // Read only to be listed as not judged.
    "DeploymentConfig",
    "ReplicationController",
    "Rollout",
];

struct ObjectVisitor<'a> {
    out: &'a mut Vec<Object>,
    /// Where a top-level document stores a snapshot's header and end
    /// marker; `None` inside lists.
    snapshot: Option<(&'a mut Option<CollectionInfo>, &'a mut Option<SnapshotEnd>)>,
    tally: &'a mut Tally,
}

impl<'de> DeserializeSeed<'de> for ObjectVisitor<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object or list (a mapping with `kind` or `items`)")
    }

    // A `null` item or document holds nothing.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    // A bare JSON array of objects reads like a list's items.
    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<(), S::Error> {
        Items {
            out: self.out,
            tally: self.tally,
        }
        .visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut pending: Vec<(String, serde_json::Value)> = Vec::new();
        let mut api_version: Option<String> = None;
        let mut skip = false;
        let mut shaped = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "items" => {
                    shaped = true;
                    map.next_value_seed(Items {
                        out: self.out,
                        tally: self.tally,
                    })?
                }
                HEADER_KEY if self.snapshot.is_some() => {
                    if let Some((slot, _)) = self.snapshot.as_mut() {
                        **slot = Some(map.next_value()?);
                    }
                }
                END_KEY if self.snapshot.is_some() => {
                    if let Some((_, slot)) = self.snapshot.as_mut() {
                        **slot = Some(map.next_value()?);
                    }
                }
                "apiVersion" => api_version = map.next_value()?,
                "kind" => {
                    let kind: String = map.next_value()?;
                    if KINDS.contains(&kind.as_str()) {
                        let rest = Chained {
                            pending: pending.into_iter(),
                            value: None,
                            inner: map,
                        };
                        return decode_kind(&kind, api_version, rest, self.out);
                    }
                    // A list kind (`PodList`, `List`) or a kind vigil does not read.
                    match kind.strip_suffix("List") {
                        Some(of) if KINDS.contains(&of) => self.tally.lists.push(of.to_owned()),
                        Some(_) => {}
                        None => self.tally.other_kinds += 1,
                    }
                    shaped = true;
                    skip = true;
                    pending.clear();
                }
                _ if skip => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => pending.push((key, map.next_value()?)),
            }
        }
        if !shaped {
            self.tally.kindless += 1;
        }
        Ok(())
    }
}

struct Items<'a> {
    out: &'a mut Vec<Object>,
    tally: &'a mut Tally,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of Kubernetes objects")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while seq
            .next_element_seed(ObjectVisitor {
                out: &mut *self.out,
                snapshot: None,
                tally: &mut *self.tally,
            })?
            .is_some()
        {}
        Ok(())
    }
}

fn decode_kind<'de, A: MapAccess<'de>>(
    kind: &str,
    api_version: Option<String>,
    rest: Chained<A>,
    out: &mut Vec<Object>,
) -> Result<(), A::Error> {
    let d = de::value::MapAccessDeserializer::new(rest);
    let obj = match kind {
        "Namespace" => Object::Namespace(Box::new(Namespace::deserialize(d)?)),
        "Node" => Object::Node(Box::new(Node::deserialize(d)?)),
        "Pod" => Object::Pod(Box::new(Pod::deserialize(d)?)),
        "Deployment" => Object::Workload(Box::new(
            WorkloadRaw::deserialize(d)?
                .into_workload(WorkloadKind::Deployment, api_version.as_deref()),
        )),
        "StatefulSet" => Object::Workload(Box::new(
            WorkloadRaw::deserialize(d)?
                .into_workload(WorkloadKind::StatefulSet, api_version.as_deref()),
        )),
        "DaemonSet" => Object::Workload(Box::new(
            WorkloadRaw::deserialize(d)?
                .into_workload(WorkloadKind::DaemonSet, api_version.as_deref()),
        )),
        "ReplicaSet" => Object::ReplicaSet(Box::new(ReplicaSet::deserialize(d)?)),
        "PodDisruptionBudget" => {
            let raw = PdbRaw::deserialize(d)?;
            Object::Pdb(Box::new(Pdb {
                api_version: raw
                    .api_version
                    .or(api_version.map(Into::into))
                    .unwrap_or_default(),
                metadata: raw.metadata,
                spec: raw.spec,
                status: raw.status,
            }))
        }
        "HorizontalPodAutoscaler" => Object::Hpa(Box::new(Hpa::deserialize(d)?)),
        "Service" => Object::Service(Box::new(Service::deserialize(d)?)),
        "EndpointSlice" => Object::EndpointSlice(Box::new(EndpointSlice::deserialize(d)?)),
        "Endpoints" => Object::Endpoints(Box::new(Endpoints::deserialize(d)?)),
        "Event" => Object::Event(Box::new(Event::deserialize(d)?)),
        "Infrastructure" => Object::Infrastructure(Box::new(Infrastructure::deserialize(d)?)),
        "ClusterOperator" => Object::ClusterOperator(Box::new(ClusterOperator::deserialize(d)?)),
        "ClusterVersion" => Object::ClusterVersion(Box::new(ClusterVersion::deserialize(d)?)),
        "MachineConfigPool" => {
            Object::MachineConfigPool(Box::new(MachineConfigPool::deserialize(d)?))
        }
        other => {
            let Some(&(kind, _)) = UNJUDGED_KINDS.iter().find(|(k, _)| *k == other) else {
                unreachable!("decode_kind called with a kind outside KINDS")
            };
            let mut u = Unjudged::deserialize(d)?;
            u.kind = kind;
            Object::Unjudged(Box::new(u))
        }
    };
    out.push(obj);
    Ok(())
}

/// A map that first replays the entries buffered before `kind` was known,
/// then continues with the remaining entries of the underlying map.
struct Chained<A> {
    pending: std::vec::IntoIter<(String, serde_json::Value)>,
    value: Option<serde_json::Value>,
    inner: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Chained<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if let Some((key, value)) = self.pending.next() {
            self.value = Some(value);
            return seed.deserialize(key.into_deserializer()).map(Some);
        }
        self.inner.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(v).map_err(de::Error::custom),
            None => self.inner.next_value_seed(seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Vec<Object> {
        serde_json::from_str::<Doc>(s).unwrap().objects
    }

    #[test]
    fn list_pages_carry_the_continue_token() {
        let page = parse_page(
            "Pod",
            None,
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"abc"},
                "items":[{"metadata":{"name":"a","namespace":"n"},"spec":{},"status":{"phase":"Running"}}]}"#,
        )
        .unwrap();
        assert_eq!(page.continue_token.as_deref(), Some("abc"));
        // API list items carry no kind; the page's kind says what they are.
        assert_eq!(page.objects.len(), 1);
        assert_eq!(page.objects[0].kind(), "Pod");
        let last = parse_page("Node", None, r#"{"metadata":{"continue":""},"items":[]}"#).unwrap();
        assert_eq!(last.continue_token, None);
    }

    #[test]
    fn a_page_outline_says_what_the_whole_decoding_says() {
        let pages = [
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"abc"},
                "items":[{"metadata":{"name":"a","namespace":"n"},"spec":{},"status":{"phase":"Running"}},
                         {"metadata":{"name":"b","namespace":"n","annotations":{"x":"{\"continue\":\"no\"}"}}}]}"#,
            // Items before metadata, an empty token, no items at all.
            r#"{"items":[{"metadata":{"name":"a"}}],"metadata":{"continue":"later"}}"#,
            r#"{"metadata":{"continue":""},"items":[]}"#,
            r#"{"metadata":{}}"#,
            r#"{"metadata":{"continue":"a"},"items":null}"#,
        ];
        for text in pages {
            let whole = parse_page("Pod", None, text).unwrap();
            let (token, count) = outline_page(text).unwrap();
            assert_eq!(token, whole.continue_token, "{text}");
            assert_eq!(count, whole.objects.len(), "{text}");
        }
        // What the fast reader does not take is left to the whole decoding.
        for text in [
            r#"{"metadata":{"continue":"a"},"items":[{"metadata":{"name":"a"}}]"#,
            r#"{"metadata":{"continue":"a"},"items":{}}"#,
            "not json",
        ] {
            assert_eq!(outline_page(text), None, "{text}");
        }
    }

    #[test]
    fn list_pages_know_their_api_version() {
        // policy/v1beta1 list items carry no apiVersion; an empty selector
        // there selects nothing, so the version must reach the object.
        let page = parse_page(
            "PodDisruptionBudget",
            Some("policy/v1beta1"),
            r#"{"items":[{"metadata":{"name":"p","namespace":"n"},"spec":{"selector":{}}}]}"#,
        )
        .unwrap();
        let Object::Pdb(p) = &page.objects[0] else {
            panic!("not a PDB")
        };
        assert_eq!(p.api_version, "policy/v1beta1");
    }

    #[test]
    fn kindless_documents_and_other_kinds_are_counted() {
        let d: Doc = serde_json::from_str(
            r#"{"kind":"List","items":[{"metadata":{"name":"x"}},{"kind":"ConfigMap"},{"kind":"Pod","metadata":{"name":"p"}}]}"#,
        )
        .unwrap();
        assert_eq!((d.objects.len(), d.kindless, d.other_kinds), (1, 1, 1));
        let d: Doc = serde_json::from_str(r#"{"name":"left-pad","version":"1.0.0"}"#).unwrap();
        assert_eq!((d.objects.len(), d.kindless), (0, 1));
    }

    #[test]
    fn single_object_and_list() {
        let objs = json(
            r#"{"apiVersion":"v1","items":[
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"n"}},
                {"kind":"ConfigMap","metadata":{"name":"skip"},"data":{"x":"y"}},
                {"kind":"Namespace","metadata":{"name":"n"}}
            ],"kind":"List"}"#,
        );
        let kinds: Vec<_> = objs.iter().map(|o| o.kind()).collect();
        assert_eq!(kinds, ["Pod", "Namespace"]);
    }

    #[test]
    fn fields_before_kind_are_replayed() {
        // kubectl sorts keys, so an Event's involvedObject precedes its kind.
        let objs = json(
            r#"{"apiVersion":"v1","count":12,"involvedObject":{"kind":"Pod","name":"p","namespace":"n"},
                "kind":"Event","metadata":{"name":"e","namespace":"n"},"reason":"BackOff"}"#,
        );
        let Object::Event(e) = &objs[0] else {
            panic!("not an event")
        };
        assert_eq!(e.count, Some(12));
        assert_eq!(e.involved_object.name, "p");
        assert_eq!(e.reason.as_deref(), Some("BackOff"));
    }

    #[test]
    fn pdb_api_version_is_kept_from_either_side_of_kind() {
        for doc in [
            r#"{"apiVersion":"policy/v1beta1","kind":"PodDisruptionBudget","metadata":{"name":"a"}}"#,
            r#"{"kind":"PodDisruptionBudget","apiVersion":"policy/v1beta1","metadata":{"name":"a"}}"#,
        ] {
            let Object::Pdb(p) = &json(doc)[0] else {
                panic!()
            };
            assert_eq!(p.api_version, "policy/v1beta1");
        }
    }

    #[test]
    fn workload_kinds() {
        let objs = json(
            r#"{"items":[
              {"kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":3}},
              {"kind":"StatefulSet","metadata":{"name":"s"},"spec":{"updateStrategy":{"type":"OnDelete"}}},
              {"kind":"DaemonSet","metadata":{"name":"ds"}}]}"#,
        );
        let ws: Vec<_> = objs
            .iter()
            .map(|o| match o {
                Object::Workload(w) => (w.kind, w.replicas(), w.strategy_type().to_owned()),
                _ => panic!(),
            })
            .collect();
        assert_eq!(
            ws,
            [
                (
                    WorkloadKind::Deployment,
                    Some(3),
                    "RollingUpdate".to_owned()
                ),
                (WorkloadKind::StatefulSet, Some(1), "OnDelete".to_owned()),
                (WorkloadKind::DaemonSet, None, "RollingUpdate".to_owned()),
            ]
        );
    }

    #[test]
    fn legacy_api_versions_default_to_on_delete() {
        let strategy = |doc: &str| match &json(doc)[0] {
            Object::Workload(w) => w.strategy_type().to_owned(),
            _ => panic!(),
        };
        for (api, kind, want) in [
            ("extensions/v1beta1", "DaemonSet", "OnDelete"),
            ("apps/v1beta1", "StatefulSet", "OnDelete"),
            ("apps/v1beta2", "DaemonSet", "RollingUpdate"),
            ("apps/v1beta2", "StatefulSet", "RollingUpdate"),
            ("apps/v1", "DaemonSet", "RollingUpdate"),
        ] {
            for doc in [
                format!(r#"{{"apiVersion":"{api}","kind":"{kind}","metadata":{{"name":"x"}}}}"#),
                format!(r#"{{"kind":"{kind}","apiVersion":"{api}","metadata":{{"name":"x"}}}}"#),
            ] {
                assert_eq!(strategy(&doc), want, "{doc}");
            }
        }
        // An explicit strategy wins over the version's default.
        assert_eq!(
            strategy(
                r#"{"apiVersion":"extensions/v1beta1","kind":"DaemonSet","metadata":{"name":"x"},"spec":{"updateStrategy":{"type":"RollingUpdate"}}}"#
            ),
            "RollingUpdate"
        );
    }

    #[test]
    fn type_errors_are_reported() {
        let err = serde_json::from_str::<Doc>(
            r#"{"kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":"many"}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
