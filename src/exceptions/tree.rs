//! A YAML document as a tree whose every node keeps its source position.
//!
//! Exception files are validated from this tree rather than through serde's
//! derived structs, so that one pass reports every unknown field and every
//! wrong type in a file, each with its line and column, instead of stopping
//! at the first.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{Location, Spanned};

#[derive(Debug, Clone)]
pub enum Node {
    /// A string, number, boolean or null.
    Scalar(Value),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    /// What the node is, for "expected a string, found a list" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Node::Scalar(Value::String(_)) => "a string",
            Node::Scalar(Value::Number(_)) => "a number",
            Node::Scalar(Value::Bool(_)) => "a boolean",
            Node::Scalar(Value::Null) => "nothing (null)",
            Node::Scalar(_) => "a value",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// The scalar as text, when it is a string, number or boolean.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Node::Scalar(Value::String(s)) => Some(s.clone()),
            Node::Scalar(Value::Number(n)) => Some(n.to_string()),
            Node::Scalar(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Scalar(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Scalar(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Scalar(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Scalar(Value::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Scalar(Value::String(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Scalar(Value::String(v)))
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar(Value::Null))
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar(Value::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Node>>()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = map.next_key::<Spanned<KeyText>>()? {
                    let key = Spanned::new(k.value.0, k.referenced, k.defined);
                    entries.push((key, map.next_value::<Spanned<Node>>()?));
                }
                Ok(Node::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping key as text, whatever scalar type YAML gave it.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Node::deserialize(d)? {
            Node::Scalar(Value::String(s)) => Ok(KeyText(s)),
            Node::Scalar(Value::Null) => Ok(KeyText("null".into())),
            n => Ok(KeyText(
                n.as_text().unwrap_or_else(|| n.describe().to_owned()),
            )),
        }
    }
}

/// Parses one YAML document into a spanned tree; `None` for an empty file.
pub fn parse(text: &str) -> Result<Option<Spanned<Node>>, serde_saphyr::Error> {
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(None);
    }
    serde_saphyr::from_str::<Spanned<Node>>(text).map(Some)
}

/// The location of a spanned value, for diagnostics.
pub fn loc<T>(s: &Spanned<T>) -> Location {
    s.referenced
}

/// `s` as a YAML scalar that reads back as exactly `s`: double-quoted,
/// with every control and line-breaking character escaped. For text from
/// outside (a Jira summary, an object name) written into an exception file.
pub fn yaml_string(s: &str) -> String {
    crate::term::json_string(s)
}

/// `s` as a YAML scalar: plain when it is a plain token that YAML reads as
/// a string (`Deployment/console`, `openshift-etcd`, `TODO`), else
/// [`yaml_string`].
pub fn yaml_scalar(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        s.to_owned()
    } else {
        yaml_string(s)
    }
}

/// `s` as the text of one YAML comment line: nothing in it can end the
/// comment (no line feed, carriage return, NEL or line separator; every
/// control character shown escaped).
pub fn yaml_comment(s: &str) -> String {
    crate::term::one_line(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_items() {
        let doc = parse("component: A\nnamespaces:\n  - one\n  - two\nexceptions: []\n")
            .unwrap()
            .unwrap();
        let Node::Map(entries) = &doc.value else {
            panic!()
        };
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1].0.value, "namespaces");
        assert_eq!(entries[1].0.referenced.line(), 2);
        let Node::Seq(items) = &entries[1].1.value else {
            panic!()
        };
        assert_eq!(items[1].referenced.line(), 4);
        assert_eq!(items[1].referenced.column(), 5);
        assert_eq!(items[1].value.as_text().as_deref(), Some("two"));
    }

    #[test]
    fn scalars_keep_their_types() {
        let doc = parse("a: 2027-06-30\nb: 3\nc: true\nd:\n")
            .unwrap()
            .unwrap();
        let Node::Map(e) = &doc.value else { panic!() };
        assert_eq!(e[0].1.value.describe(), "a string");
        assert_eq!(e[1].1.value.describe(), "a number");
        assert_eq!(e[2].1.value.describe(), "a boolean");
        assert_eq!(e[3].1.value.describe(), "nothing (null)");
    }

    #[test]
    fn empty_and_comment_only_files() {
        assert!(parse("").unwrap().is_none());
        assert!(parse("# nothing yet\n\n").unwrap().is_none());
    }
}
