//! `vigil dev openshift-owners`: writes `exceptions/owners.yaml` from a
//! checkout of ci-test-mapping (openshift-eng/ci-test-mapping), the registry
//! Sippy uses to give each test its Jira component. Each component is a Go
//! struct literal in `pkg/components/<name>/component.go`:
//!
//! ```go
//! Component: &config.Component{
//!     Name:                 "Etcd",
//!     DefaultJiraComponent: "Etcd",
//!     Namespaces: []string{
//!         "openshift-etcd",
//!         "openshift-etcd-operator",
//!     },
//! ```
//!
//! Each namespace goes to the component's `DefaultJiraComponent`, the name
//! ci-test-mapping itself gives that namespace's tests, so vigil's
//! `[Jira:"..."]` tag and ci-test-mapping agree.

use std::collections::BTreeMap;
use std::path::Path;

/// One registered component with namespaces.
#[derive(Debug, PartialEq, Eq)]
pub struct Registered {
    pub jira: String,
    pub namespaces: Vec<String>,
    /// The ClusterOperators it owns (`Operators:`).
    pub operators: Vec<String>,
}

/// The Go string literals in `text`, in order (`"..."`, with `\"` kept).
fn strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            out.push(after[..end].to_owned());
            rest = &after[end + 1..];
        }
    }
    out
}

/// The first string literal after `field:` in `go`.
fn field(go: &str, name: &str) -> Option<String> {
    let at = go.find(&format!("{name}:"))?;
    let rest = &go[at + name.len() + 1..];
    let line = rest.lines().next()?;
    strings(line).into_iter().next()
}

/// A `[]string{...}` field's strings.
fn list_field(body: &str, name: &str) -> Vec<String> {
    let Some(at) = body.find(&format!("{name}:")) else {
        return Vec::new();
    };
    let list = &body[at..];
    let (Some(open), Some(close)) = (list.find('{'), list.find('}')) else {
        return Vec::new();
    };
    if close < open {
        return Vec::new();
    }
    strings(&list[open + 1..close])
}

/// Reads one `component.go`: `None` when it registers no namespace and no
/// ClusterOperator.
pub fn parse_component(go: &str) -> Option<Registered> {
    let body = &go[go.find("config.Component{")?..];
    let jira = field(body, "DefaultJiraComponent").or_else(|| field(body, "Name"))?;
    let namespaces = list_field(body, "Namespaces");
    let operators = list_field(body, "Operators");
    (!namespaces.is_empty() || !operators.is_empty()).then_some(Registered {
        jira,
        namespaces,
        operators,
    })
}

/// Every registered component with namespaces in a ci-test-mapping checkout.
pub fn read_checkout(dir: &Path) -> std::io::Result<Vec<Registered>> {
    let components = dir.join("pkg/components");
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(&components).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_name() == "component.go" {
            let text = std::fs::read_to_string(entry.path())?;
            out.extend(parse_component(&text));
        }
    }
    if out.is_empty() {
        return Err(std::io::Error::other(format!(
            "no component with namespaces under {}: is it a ci-test-mapping checkout?",
            components.display()
        )));
    }
    Ok(out)
}

/// `name -> component` over `components`' lists picked by `list`, each
/// name once: a namespace registered twice is an error; a ClusterOperator
/// two components claim (ci-test-mapping has one) is left untagged.
fn owned<'a>(
    components: &'a [Registered],
    list: fn(&Registered) -> &Vec<String>,
    what: &str,
) -> Result<BTreeMap<&'a str, Vec<&'a str>>, String> {
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    let mut twice: Vec<&str> = Vec::new();
    for c in components {
        for name in list(c) {
            match owner.insert(name, &c.jira) {
                Some(other) if other != c.jira && what == "namespace" => {
                    return Err(format!(
                        "{name} is registered to both {other:?} and {:?}",
                        c.jira
                    ));
                }
                Some(other) if other != c.jira => twice.push(name),
                _ => {}
            }
        }
    }
    let mut by_jira: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, jira) in owner {
        if !twice.contains(&name) {
            by_jira.entry(jira).or_default().push(name);
        }
    }
    Ok(by_jira)
}

fn section(out: &mut String, by_jira: BTreeMap<&str, Vec<&str>>) {
    use crate::exceptions::tree::yaml_scalar;
    for (jira, names) in by_jira {
        let list: Vec<String> = names.iter().map(|n| yaml_scalar(n)).collect();
        out.push_str(&format!("  {}: [{}]\n", yaml_scalar(jira), list.join(", ")));
    }
}

/// owners.yaml for `components`, saying where it came from.
pub fn render(components: &[Registered], source: &str) -> Result<String, String> {
    let namespaces = owned(components, |c| &c.namespaces, "namespace")?;
    let operators = owned(components, |c| &c.operators, "ClusterOperator")?;
    let mut out = String::from(
        "# Which Jira component owns the tests of each namespace (`owners:`) and of\n\
         # each ClusterOperator (`operators:`): the [Jira:\"...\"] tag in their test\n\
         # names, which Sippy and ci-test-mapping read. What is not listed gets no\n\
         # tag, and ci-test-mapping assigns its tests itself.\n\
         #\n\
         # Generated from what ci-test-mapping registers (each name to its\n\
         # component's DefaultJiraComponent, as ci-test-mapping names its tests):\n",
    );
    out.push_str(&format!("#   {source}\n"));
    out.push_str(
        "# Regenerate with a newer checkout:\n\
         #   cargo run --features devtools -- dev openshift-owners --ci-test-mapping DIR\n\
         #\n\
         # This file is the only thing that names owners: editing exception entries\n\
         # never renames a test, editing this file does. `vigil exceptions lint --base\n\
         # origin/main` lists every rename, with the TestRenames lines ci-test-mapping\n\
         # needs to keep each test's history.\n\
         owners:\n",
    );
    section(&mut out, namespaces);
    out.push_str("operators:\n");
    section(&mut out, operators);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETCD: &str = r#"
var EtcdComponent = Component{
	Component: &config.Component{
		Name:                 "Etcd",
		Operators:            []string{"etcd"},
		DefaultJiraComponent: "Etcd",
		Namespaces: []string{
			"openshift-etcd",
			// a comment "with quotes"
			"openshift-etcd-operator",
		},
		Matchers: []config.ComponentMatcher{
			{SIG: "sig-etcd"},
		},
	},
}
"#;

    #[test]
    fn reads_a_component_literal() {
        assert_eq!(
            parse_component(ETCD),
            Some(Registered {
                jira: "Etcd".into(),
                namespaces: vec!["openshift-etcd".into(), "openshift-etcd-operator".into()],
                operators: vec!["etcd".into()],
            })
        );
        let no_namespaces = ETCD.replace(
            "Namespaces: []string{\n\t\t\t\"openshift-etcd\",\n\t\t\t// a comment \"with quotes\"\n\t\t\t\"openshift-etcd-operator\",\n\t\t},\n",
            "",
        );
        let none = no_namespaces.replace("Operators:            []string{\"etcd\"},\n", "");
        assert_eq!(parse_component(&none), None);
    }

    #[test]
    fn renders_owners_yaml_that_vigil_reads_back() {
        let components = vec![
            Registered {
                jira: "Networking / cluster-network-operator".into(),
                namespaces: vec![
                    "openshift-network-operator".into(),
                    "openshift-host-network".into(),
                ],
                operators: vec!["network".into()],
            },
            Registered {
                jira: "Etcd".into(),
                namespaces: vec!["openshift-etcd".into()],
                operators: vec!["etcd".into(), "shared".into()],
            },
            Registered {
                jira: "Other".into(),
                namespaces: vec![],
                operators: vec!["shared".into()],
            },
        ];
        let text = render(&components, "openshift-eng/ci-test-mapping at abc1234").unwrap();
        let mut diags = Vec::new();
        let o =
            crate::exceptions::owners::Owners::parse(Path::new("owners.yaml"), &text, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            o.component("openshift-host-network"),
            Some("Networking / cluster-network-operator")
        );
        assert_eq!(o.component("openshift-etcd"), Some("Etcd"));
        assert_eq!(
            o.operator_component("network"),
            Some("Networking / cluster-network-operator")
        );
        assert_eq!(
            o.operator_component("shared"),
            None,
            "claimed twice: left to ci-test-mapping"
        );
        assert!(text.contains("abc1234"));
        let twice = vec![
            Registered {
                jira: "A".into(),
                namespaces: vec!["openshift-x".into()],
                operators: vec![],
            },
            Registered {
                jira: "B".into(),
                namespaces: vec!["openshift-x".into()],
                operators: vec![],
            },
        ];
        assert!(render(&twice, "").unwrap_err().contains("openshift-x"));
    }
}
