//! `owners.yaml`: which Jira component owns the tests of each namespace.
//!
//! ```yaml
//! owners:
//!   Management Console: [openshift-console, openshift-console-operator]
//! ```
//!
//! It is the only thing that puts a `[Jira:"..."]` tag in a test name, and a
//! deliberate statement of its own: adding, removing or editing exception
//! entries never renames a test. A namespace it does not name gets no tag,
//! and ci-test-mapping assigns its tests by `ns/<namespace>`. Changing an
//! owner renames that namespace's tests; `vigil exceptions lint --base REV`
//! reports each rename with what ci-test-mapping needs to keep the history.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_saphyr::Location;

use super::diagnostics::{from_yaml_error, Diagnostic};
use super::fields::{is_dns_label, Fields};
use super::tree::{self, Node};

pub const OWNERS_FILE: &str = "owners.yaml";

/// Longest component name accepted in a tag.
pub const MAX_COMPONENT_LEN: usize = 100;

/// The parsed ownership statement.
#[derive(Debug, Default, Clone)]
pub struct Owners {
    /// The file read, when there was one.
    pub path: Option<PathBuf>,
    /// Namespace -> (component, where the namespace is written).
    pub by_namespace: BTreeMap<String, (String, Location)>,
    /// ClusterOperator name -> (component, where it is written): the tag of
    /// that operator's `clusteroperator/<name>` tests.
    pub by_operator: BTreeMap<String, (String, Location)>,
}

impl Owners {
    pub fn component(&self, ns: &str) -> Option<&str> {
        self.by_namespace.get(ns).map(|(c, _)| c.as_str())
    }

    /// The component owning ClusterOperator `name`'s tests.
    pub fn operator_component(&self, name: &str) -> Option<&str> {
        self.by_operator.get(name).map(|(c, _)| c.as_str())
    }

    /// Reads `path` if it exists; problems go to `diags`.
    pub fn load(path: &Path, diags: &mut Vec<Diagnostic>) -> Owners {
        match crate::input::read_to_string(path, crate::input::CONFIG) {
            Ok(text) => {
                let mut o = Owners::parse(path, &text, diags);
                o.path = Some(path.to_owned());
                o
            }
            Err(e) if e.is_not_found() => Owners::default(),
            Err(e) => {
                diags.push(Diagnostic::error(path, None, format!("cannot read: {e}")));
                Owners::default()
            }
        }
    }

    /// Parses the text of an owners file; `path` names it in diagnostics.
    pub fn parse(path: &Path, text: &str, diags: &mut Vec<Diagnostic>) -> Owners {
        let mut owners = Owners::default();
        let doc = match tree::parse(text) {
            Ok(Some(d)) => d,
            Ok(None) => return owners,
            Err(e) => {
                diags.push(from_yaml_error(path, text, &e));
                return owners;
            }
        };
        let Some(fields) = Fields::new(
            path,
            &doc,
            "the owners file",
            &["owners", "operators"],
            diags,
        ) else {
            return owners;
        };
        let Some(map) = fields.get("owners") else {
            diags.push(
                Diagnostic::error(path, Some(doc.referenced), "missing `owners:`")
                    .hint("write `owners:` followed by `Component Name: [namespace, ...]` lines"),
            );
            return owners;
        };
        read_section(path, map, "namespace", &mut owners.by_namespace, diags);
        if let Some(map) = fields.get("operators") {
            read_section(path, map, "ClusterOperator", &mut owners.by_operator, diags);
        }
        owners
    }
}

/// One `Component: [name, ...]` mapping into `into` (name -> component),
/// each name owned once.
fn read_section(
    path: &Path,
    map: &serde_saphyr::Spanned<Node>,
    what: &str,
    into: &mut BTreeMap<String, (String, Location)>,
    diags: &mut Vec<Diagnostic>,
) {
    let Node::Map(entries) = &map.value else {
        diags.push(Diagnostic::error(
            path,
            Some(map.referenced),
            format!(
                "owners must map each component to a list of {what} names, found {}",
                map.value.describe()
            ),
        ));
        return;
    };
    for (component, names) in entries {
        if let Some(d) = component_problem(path, &component.value, component.referenced) {
            let fatal = d.level == super::Level::Error;
            diags.push(d);
            if fatal {
                continue;
            }
        }
        let items: Vec<_> = match &names.value {
            Node::Seq(items) => items.iter().collect(),
            Node::Scalar(serde_json::Value::String(_)) => vec![names],
            other => {
                diags.push(Diagnostic::error(
                    path,
                    Some(names.referenced),
                    format!(
                        "the {what} names of `{}` must be a list, found {}",
                        component.value,
                        other.describe()
                    ),
                ));
                continue;
            }
        };
        for item in items {
            let Node::Scalar(serde_json::Value::String(name)) = &item.value else {
                diags.push(Diagnostic::error(
                    path,
                    Some(item.referenced),
                    format!(
                        "a {what} name must be a string, found {}",
                        item.value.describe()
                    ),
                ));
                continue;
            };
            let name = name.trim();
            if !is_dns_label(name) {
                diags.push(
                    Diagnostic::error(
                        path,
                        Some(item.referenced),
                        format!("`{name}` is not a {what} name"),
                    )
                    .hint("names are lowercase letters, digits and '-'"),
                );
                continue;
            }
            if let Some((other, at)) = into.get(name) {
                diags.push(
                    Diagnostic::error(
                        path,
                        Some(item.referenced),
                        format!("{what} `{name}` is owned twice"),
                    )
                    .hint(format!(
                        "line {} gives it to `{other}`; its tests have one owner",
                        at.line()
                    )),
                );
                continue;
            }
            into.insert(name.to_owned(), (component.value.clone(), item.referenced));
        }
    }
}

/// Why a component name cannot stand in a `[Jira:"..."]` tag, if it cannot:
/// ci-test-mapping reads the tag up to `]` and unquotes it, so quotes,
/// brackets, control characters and surrounding space break it; very long
/// names are not Jira components. Non-ASCII only warns: Jira allows it,
/// but it is easy to get subtly wrong.
pub fn component_problem(path: &Path, name: &str, at: Location) -> Option<Diagnostic> {
    let error = |msg: String| {
        Some(
            Diagnostic::error(path, Some(at), msg)
                .hint("use the Jira component's name exactly as Jira spells it, e.g. `Management Console` or `Networking / DNS`"),
        )
    };
    if name.trim().is_empty() {
        return error("empty component name".into());
    }
    if name.contains(['"', '[', ']', '\\']) {
        return error(format!(
            "component `{name}` cannot stand in a [Jira:\"...\"] tag: it contains a quote, bracket or backslash"
        ));
    }
    if name.chars().any(char::is_control) {
        return error("component name contains a control character".into());
    }
    if name.trim() != name {
        return error(format!(
            "component `{name}` starts or ends with a space, which the tag would not keep"
        ));
    }
    if name.chars().count() > MAX_COMPONENT_LEN {
        return error(format!(
            "component name is {} characters long; Jira component names are at most {MAX_COMPONENT_LEN}",
            name.chars().count()
        ));
    }
    if !name.is_ascii() {
        let mut d = Diagnostic::error(path, Some(at), format!("component `{name}` is not plain ASCII"))
            .hint("check that it matches the Jira component byte for byte: look-alike letters make a different component");
        d.level = super::Level::Warning;
        return Some(d);
    }
    None
}

/// One namespace whose owner differs between two versions of owners.yaml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerChange {
    pub namespace: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// Where the namespace is written now (`None` when it was removed).
    pub at: Option<Location>,
}

/// The namespaces whose tests change names between `before` and `after`.
pub fn changes(before: &Owners, after: &Owners) -> Vec<OwnerChange> {
    changed(&before.by_namespace, &after.by_namespace)
}

/// The ClusterOperators whose tests change names between `before` and
/// `after` (`namespace` holds the operator's name).
pub fn operator_changes(before: &Owners, after: &Owners) -> Vec<OwnerChange> {
    changed(&before.by_operator, &after.by_operator)
}

type ByName = BTreeMap<String, (String, Location)>;

fn changed(before: &ByName, after: &ByName) -> Vec<OwnerChange> {
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    let owner = |m: &ByName, n: &str| m.get(n).map(|(c, _)| c.clone());
    names
        .into_iter()
        .filter_map(|n| {
            let (b, a) = (owner(before, n), owner(after, n));
            (b != a).then(|| OwnerChange {
                namespace: n.clone(),
                before: b,
                after: a,
                at: after.get(n).map(|(_, l)| *l),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Owners, Vec<Diagnostic>) {
        let mut d = Vec::new();
        let o = Owners::parse(Path::new("owners.yaml"), text, &mut d);
        (o, d)
    }

    #[test]
    fn reads_components_and_their_namespaces() {
        let (o, d) = parse("owners:\n  Management Console: [openshift-console, openshift-console-operator]\n  Networking / DNS:\n    - openshift-dns\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(o.component("openshift-console"), Some("Management Console"));
        assert_eq!(o.component("openshift-dns"), Some("Networking / DNS"));
        assert_eq!(o.component("kube-system"), None);
    }

    #[test]
    fn names_that_cannot_round_trip_through_a_tag_are_rejected() {
        for (name, says) in [
            ("'\"Quoted\"'", "quote, bracket or backslash"),
            ("Team]", "quote, bracket or backslash"),
            ("' Padded'", "starts or ends with a space"),
            ("\"Tab\\there\"", "control character"),
        ] {
            let (o, d) = parse(&format!("owners:\n  {name}: [a]\n"));
            assert!(o.by_namespace.is_empty(), "{name}");
            assert_eq!(d.len(), 1, "{name}: {d:?}");
            assert!(d[0].message.contains(says), "{name}: {}", d[0]);
            assert_eq!(d[0].line, Some(2));
        }
        let long = "x".repeat(101);
        let (_, d) = parse(&format!("owners:\n  {long}: [a]\n"));
        assert!(d[0].message.contains("101 characters long"));
        // Non-ASCII warns and is kept.
        let (o, d) = parse("owners:\n  Équipe: [a]\n");
        assert_eq!(d[0].level, super::super::Level::Warning);
        assert_eq!(o.component("a"), Some("Équipe"));
    }

    #[test]
    fn a_namespace_has_one_owner() {
        let (o, d) = parse("owners:\n  A: [x]\n  B: [x, not_a_namespace]\n");
        assert_eq!(o.component("x"), Some("A"));
        assert_eq!(d.len(), 2);
        assert!(d[0].message.contains("owned twice"));
        assert!(d[1].message.contains("not a namespace name"));
    }

    #[test]
    fn changes_are_renames() {
        let (before, _) = parse("owners:\n  A: [ns-x, ns-y]\n");
        let (after, _) = parse("owners:\n  A: [ns-x]\n  B: [ns-y, ns-z]\n");
        let c = changes(&before, &after);
        let got: Vec<_> = c
            .iter()
            .map(|c| {
                (
                    c.namespace.as_str(),
                    c.before.as_deref(),
                    c.after.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [("ns-y", Some("A"), Some("B")), ("ns-z", None, Some("B"))]
        );
    }
}
