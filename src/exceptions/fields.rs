//! The fields of a mapping in an exceptions directory's YAML, checked
//! against the names it may have: shared by the component files, the
//! policy and owners.yaml, so every file reports unknown and mistyped
//! fields the same way, with their place.

use std::path::Path;

use serde_saphyr::{Location, Spanned};

use super::diagnostics::Diagnostic;
use super::tree::Node;
use crate::checks::closest_of;

/// The fields of a mapping node, checked against the names it may have.
pub(crate) struct Fields<'a> {
    pub(crate) path: &'a Path,
    pub(crate) at: Location,
    map: &'a [(Spanned<String>, Spanned<Node>)],
}

impl<'a> Fields<'a> {
    /// Every key with its value, in the file's order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&'a str, &'a Spanned<Node>)> {
        self.map.iter().map(|(k, v)| (k.value.as_str(), v))
    }

    /// Reports a node that is not a mapping, and every unknown key.
    pub(crate) fn new(
        path: &'a Path,
        node: &'a Spanned<Node>,
        what: &str,
        known: &[&str],
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Self> {
        let Node::Map(map) = &node.value else {
            diags.push(Diagnostic::error(
                path,
                Some(node.referenced),
                format!("{what} must be a mapping, found {}", node.value.describe()),
            ));
            return None;
        };
        for (key, _) in map {
            if !known.contains(&key.value.as_str()) {
                let mut d = Diagnostic::at(
                    path,
                    key,
                    format!("unknown field `{}` in {what}", key.value),
                );
                d = match closest_of(&key.value, known) {
                    Some(k) => d.hint(format!("did you mean `{k}`?")),
                    None => d.hint(format!("the fields are: {}", known.join(", "))),
                };
                diags.push(d);
            }
        }
        Some(Fields {
            path,
            at: node.referenced,
            map,
        })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'a Spanned<Node>> {
        self.map
            .iter()
            .find(|(k, _)| k.value == name)
            .map(|(_, v)| v)
    }

    /// A string field. Numbers and booleans are refused: YAML turns `no`,
    /// `1.10` and dates into other types, and a silent conversion would hide it.
    pub(crate) fn string(
        &self,
        name: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<String>> {
        let v = self.get(name)?;
        match &v.value {
            Node::Scalar(serde_json::Value::String(s)) => {
                Some(Spanned::new(s.clone(), v.referenced, v.defined))
            }
            Node::Scalar(serde_json::Value::Null) => {
                diags.push(Diagnostic::error(
                    self.path,
                    Some(v.referenced),
                    format!("`{name}` is empty"),
                ));
                None
            }
            other => {
                diags.push(
                    Diagnostic::error(
                        self.path,
                        Some(v.referenced),
                        format!("`{name}` must be a string, found {}", other.describe()),
                    )
                    .hint(format!(
                        "quote the value: {name}: \"{}\"",
                        other.as_text().unwrap_or_default()
                    )),
                );
                None
            }
        }
    }

    /// A list of strings (a single string is accepted as a list of one).
    pub(crate) fn string_list(
        &self,
        name: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<Spanned<String>> {
        let Some(v) = self.get(name) else {
            return Vec::new();
        };
        let items: Vec<&Spanned<Node>> = match &v.value {
            Node::Seq(items) => items.iter().collect(),
            Node::Scalar(serde_json::Value::String(_)) => vec![v],
            other => {
                diags.push(Diagnostic::error(
                    self.path,
                    Some(v.referenced),
                    format!(
                        "`{name}` must be a list of names, found {}",
                        other.describe()
                    ),
                ));
                return Vec::new();
            }
        };
        items
            .into_iter()
            .filter_map(|i| match &i.value {
                Node::Scalar(serde_json::Value::String(s)) => {
                    Some(Spanned::new(s.clone(), i.referenced, i.defined))
                }
                other => {
                    diags.push(Diagnostic::error(
                        self.path,
                        Some(i.referenced),
                        format!("`{name}` items must be strings, found {}", other.describe()),
                    ));
                    None
                }
            })
            .collect()
    }
}

pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}
