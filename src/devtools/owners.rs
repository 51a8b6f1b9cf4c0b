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

/// Reads one `component.go`: `None` when it registers no namespace.
pub fn parse_component(go: &str) -> Option<Registered> {
    let body = &go[go.find("config.Component{")?..];
    let jira = field(body, "DefaultJiraComponent").or_else(|| field(body, "Name"))?;
    let at = body.find("Namespaces:")?;
    let list = &body[at..];
    let open = list.find('{')?;
    let close = list[open..].find('}')? + open;
    let namespaces = strings(&list[open + 1..close]);
    (!namespaces.is_empty()).then_some(Registered { jira, namespaces })
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

/// owners.yaml for `components`, saying where it came from.
pub fn render(components: &[Registered], source: &str) -> Result<String, String> {
    let mut by_jira: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for c in components {
        for ns in &c.namespaces {
            if let Some(other) = owner.insert(ns, &c.jira) {
                if other != c.jira {
                    return Err(format!(
                        "{ns} is registered to both {other:?} and {:?}",
                        c.jira
                    ));
                }
                continue;
            }
            by_jira.entry(&c.jira).or_default().push(ns);
        }
    }
    let mut out = String::from(
        "# Which Jira component owns the tests of each namespace: the [Jira:\"...\"] tag\n\
         # in their test names, which Sippy and ci-test-mapping read. Namespaces not\n\
         # listed here get no tag, and ci-test-mapping assigns their tests by\n\
         # `ns/<namespace>`.\n\
         #\n\
         # Generated from what ci-test-mapping registers (each namespace to its\n\
         # component's DefaultJiraComponent, as ci-test-mapping names their tests):\n",
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
    for (jira, mut namespaces) in by_jira {
        namespaces.sort_unstable();
        let list: Vec<String> = namespaces
            .iter()
            .map(|n| crate::exceptions::tree::yaml_scalar(n))
            .collect();
        out.push_str(&format!(
            "  {}: [{}]\n",
            crate::exceptions::tree::yaml_scalar(jira),
            list.join(", ")
        ));
    }
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
            })
        );
        let no_namespaces = ETCD.replace(
            "Namespaces: []string{\n\t\t\t\"openshift-etcd\",\n\t\t\t// a comment \"with quotes\"\n\t\t\t\"openshift-etcd-operator\",\n\t\t},\n",
            "",
        );
        assert_eq!(parse_component(&no_namespaces), None);
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
            },
            Registered {
                jira: "Etcd".into(),
                namespaces: vec!["openshift-etcd".into()],
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
        assert!(text.contains("abc1234"));
        let twice = vec![
            Registered {
                jira: "A".into(),
                namespaces: vec!["openshift-x".into()],
            },
            Registered {
                jira: "B".into(),
                namespaces: vec!["openshift-x".into()],
            },
        ];
        assert!(render(&twice, "").unwrap_err().contains("openshift-x"));
    }
}
