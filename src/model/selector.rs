//! Label selectors with the exact semantics of `metav1.LabelSelectorAsSelector`.
//!
//! A *missing* selector and an *empty* one differ in Kubernetes: for most
//! fields a missing selector selects nothing and `{}` selects everything. The
//! callers decide what a missing selector means through [`Empty`].

use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};

use super::serde_util::{null_default, Str};

/// Labels (or a selector's `matchLabels`), sorted by key.
///
/// A sorted vector rather than a `BTreeMap`: objects carry a handful of
/// labels, and a map's node costs hundreds of bytes even for three entries,
/// which at a few hundred thousand objects is the largest part of the model.
/// Keys and values of up to 24 bytes (nearly all: `app`, `pod-template-hash`,
/// a workload's name) are kept inline, without an allocation each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(Vec<(Str, Str)>);

impl Labels {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &*self.0[i].1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<K: Into<Str>, V: Into<Str>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let v: Vec<(Str, Str)> = iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Labels::from_pairs(v)
    }
}

impl Labels {
    /// Sorted by key, later duplicates winning, without spare room.
    fn from_pairs(mut v: Vec<(Str, Str)>) -> Labels {
        v.sort_by(|a, b| a.0.cmp(&b.0));
        // Later duplicates win, as with a map.
        v.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                std::mem::swap(&mut earlier.1, &mut later.1);
            }
            same
        });
        v.shrink_to_fit();
        Labels(v)
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of label names to values")
            }
            fn visit_unit<E>(self) -> Result<Labels, E> {
                Ok(Labels::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Labels, A::Error> {
                let mut pairs: Vec<(Str, Str)> = Vec::with_capacity(m.size_hint().unwrap_or(4));
                while let Some((k, v)) = m.next_entry::<Str, super::serde_util::Scalar>()? {
                    pairs.push((k, v.0));
                }
                Ok(Labels::from_pairs(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

impl Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub match_labels: Labels,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub match_expressions: Vec<Requirement>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub values: Vec<String>,
}

/// What a selector with no requirements at all selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    Everything,
    Nothing,
}

impl LabelSelector {
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether `labels` satisfy every requirement. An empty selector answers
    /// according to `empty`. An unknown operator makes the selector invalid,
    /// and an invalid selector selects nothing (as controllers treat it).
    pub fn matches_with(&self, labels: &Labels, empty: Empty) -> bool {
        if self.is_empty() {
            return empty == Empty::Everything;
        }
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }

    /// Kubernetes' default: `{}` selects everything.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_with(labels, Empty::Everything)
    }
}

impl Requirement {
    fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator.as_str() {
            "In" => value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            "NotIn" => value.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    }
}

/// Evaluates an optional selector: `None` selects nothing, as for affinity
/// terms, topology spread constraints and `policy/v1` PDBs.
pub fn optional_matches(sel: Option<&LabelSelector>, labels: &Labels) -> bool {
    sel.is_some_and(|s| s.matches(labels))
}

impl fmt::Display for LabelSelector {
    /// Renders in `kubectl` selector syntax: `app=console,tier notin (a,b)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("{}");
        }
        let mut out = String::new();
        for (k, v) in self.match_labels.iter() {
            if !out.is_empty() {
                out.push(',');
            }
            let _ = write!(out, "{k}={v}");
        }
        for r in &self.match_expressions {
            if !out.is_empty() {
                out.push(',');
            }
            let _ = match r.operator.as_str() {
                "Exists" => write!(out, "{}", r.key),
                "DoesNotExist" => write!(out, "!{}", r.key),
                op => write!(
                    out,
                    "{} {} ({})",
                    r.key,
                    op.to_lowercase(),
                    r.values.join(",")
                ),
            };
        }
        f.write_str(&out)
    }
}

/// Renders labels as `a=b,c=d` for messages.
pub fn format_labels(labels: &Labels) -> String {
    if labels.is_empty() {
        return "(none)".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(json: &str) -> LabelSelector {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn match_labels_require_every_pair() {
        let s = sel(r#"{"matchLabels":{"app":"a","tier":"web"}}"#);
        assert!(s.matches(&labels(&[("app", "a"), ("tier", "web"), ("x", "y")])));
        assert!(!s.matches(&labels(&[("app", "a")])));
        assert!(!s.matches(&labels(&[("app", "a"), ("tier", "db")])));
    }

    #[test]
    fn in_requires_the_key() {
        let s = sel(r#"{"matchExpressions":[{"key":"env","operator":"In","values":["a","b"]}]}"#);
        assert!(s.matches(&labels(&[("env", "b")])));
        assert!(!s.matches(&labels(&[("env", "c")])));
        assert!(!s.matches(&labels(&[])));
    }

    #[test]
    fn not_in_accepts_a_missing_key() {
        let s = sel(r#"{"matchExpressions":[{"key":"env","operator":"NotIn","values":["a"]}]}"#);
        assert!(s.matches(&labels(&[])));
        assert!(s.matches(&labels(&[("env", "b")])));
        assert!(!s.matches(&labels(&[("env", "a")])));
    }

    #[test]
    fn exists_and_does_not_exist() {
        let e = sel(r#"{"matchExpressions":[{"key":"k","operator":"Exists"}]}"#);
        let d = sel(r#"{"matchExpressions":[{"key":"k","operator":"DoesNotExist"}]}"#);
        let with = labels(&[("k", "")]);
        let without = labels(&[("j", "v")]);
        assert!(e.matches(&with) && !e.matches(&without));
        assert!(!d.matches(&with) && d.matches(&without));
    }

    #[test]
    fn unknown_operator_selects_nothing() {
        let s = sel(r#"{"matchExpressions":[{"key":"k","operator":"Like","values":["v"]}]}"#);
        assert!(!s.matches(&labels(&[("k", "v")])));
    }

    #[test]
    fn empty_selector_depends_on_context() {
        let s = sel("{}");
        assert!(s.matches_with(&labels(&[]), Empty::Everything));
        assert!(!s.matches_with(&labels(&[("a", "b")]), Empty::Nothing));
        assert!(!optional_matches(None, &labels(&[("a", "b")])));
        assert!(optional_matches(Some(&s), &labels(&[("a", "b")])));
    }

    #[test]
    fn null_collections_are_empty() {
        let s = sel(r#"{"matchLabels":null,"matchExpressions":null}"#);
        assert!(s.is_empty());
    }

    #[test]
    fn labels_are_sorted_and_looked_up_by_key() {
        let l: Labels =
            serde_json::from_str(r#"{"z": "1", "a": "2", "m": "3", "b": true}"#).unwrap();
        assert_eq!(
            l.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["a", "b", "m", "z"]
        );
        assert_eq!(l.get("m"), Some("3"));
        assert_eq!(
            l.get("b"),
            Some("true"),
            "YAML scalars that are not strings still label"
        );
        assert_eq!(l.get("q"), None);
        let dup: Labels = [("k", "old"), ("k", "new")].into_iter().collect();
        assert_eq!((dup.len(), dup.get("k")), (1, Some("new")));
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            r#"{"a":"2","b":"true","m":"3","z":"1"}"#
        );
    }

    #[test]
    fn display_uses_kubectl_syntax() {
        let s = sel(
            r#"{"matchLabels":{"app":"a"},"matchExpressions":[{"key":"env","operator":"NotIn","values":["x","y"]},{"key":"k","operator":"Exists"}]}"#,
        );
        assert_eq!(s.to_string(), "app=a,env notin (x,y),k");
    }
}
