//! The policy file (`policy.yaml` beside the exception files): the profile,
//! and per check its mode and thresholds.
//!
//! ```yaml
//! profile: openshift
//! checks:
//!   ha/pdb-eviction-policy:
//!     mode: blocking
//!   ha/probes:
//!     mode: informing
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::diagnostics::{from_yaml_error, Diagnostic};
use crate::checks::{self, Mode, Profile};

pub const POLICY_FILE: &str = "policy.yaml";

/// One check's settings, under its id in `checks:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckPolicy {
    #[serde(default)]
    mode: Option<Mode>,
    #[serde(default)]
    thresholds: HashMap<String, i64>,
}

/// The effective policy, defaults applied.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `None` when the file does not set it (the CLI default applies).
    pub profile: Option<Profile>,
    modes: HashMap<&'static str, Mode>,
    thresholds: HashMap<(&'static str, &'static str), i64>,
}

impl Policy {
    pub fn mode(&self, check: &'static str) -> Mode {
        self.modes.get(check).copied().unwrap_or_else(|| {
            checks::find(check)
                .map(|c| c.info().default_mode)
                .unwrap_or(Mode::Blocking)
        })
    }

    pub fn threshold(&self, check: &'static str, name: &'static str) -> i64 {
        self.thresholds
            .get(&(check, name))
            .copied()
            .unwrap_or_else(|| {
                checks::find(check)
                    .and_then(|c| c.info().thresholds.iter().find(|t| t.name == name))
                    .map(|t| t.default)
                    .unwrap_or(0)
            })
    }
}

/// The file as written: a map of check id to settings, order kept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicyDoc {
    #[serde(default)]
    profile: Option<Profile>,
    #[serde(default)]
    checks: Option<Spanned<indexmap_lite::SpannedMap<RawCheckPolicy>>>,
}

mod indexmap_lite {
    //! A YAML map whose keys keep their source positions.
    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
    use serde_saphyr::Spanned;
    use std::fmt;
    use std::marker::PhantomData;

    #[derive(Debug)]
    pub struct SpannedMap<V>(pub Vec<(Spanned<String>, V)>);

    impl<'de, V: Deserialize<'de>> Deserialize<'de> for SpannedMap<V> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Vis<V>(PhantomData<V>);
            impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
                type Value = SpannedMap<V>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a map of check ids to settings")
                }
                fn visit_unit<E>(self) -> Result<Self::Value, E> {
                    Ok(SpannedMap(Vec::new()))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                    let mut out = Vec::new();
                    while let Some(k) = m.next_key::<Spanned<String>>()? {
                        out.push((k, m.next_value()?));
                    }
                    Ok(SpannedMap(out))
                }
            }
            d.deserialize_map(Vis(PhantomData))
        }
    }
}

/// Reads `path` if it exists. Problems are appended to `diags`; what could be
/// read is still returned so that every problem is reported in one run.
pub fn load(path: &Path, diags: &mut Vec<Diagnostic>) -> Policy {
    let mut policy = Policy::default();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return policy,
        Err(e) => {
            diags.push(Diagnostic::error(path, None, format!("cannot read: {e}")));
            return policy;
        }
    };
    let raw: RawPolicyDoc = match serde_saphyr::from_str::<Option<RawPolicyDoc>>(&text) {
        Ok(Some(r)) => r,
        Ok(None) => return policy,
        Err(e) => {
            diags.push(from_yaml_error(path, &e));
            return policy;
        }
    };
    policy.profile = raw.profile;
    let Some(checks_map) = raw.checks else {
        return policy;
    };
    for (id, settings) in checks_map.value.0 {
        let Some(check) = checks::find(&id.value) else {
            let mut d = Diagnostic::at(path, &id, format!("unknown check id `{}`", id.value));
            d = match checks::closest(&id.value) {
                Some(c) => d.hint(format!("did you mean `{c}`?")),
                None => d.hint("`vigil checks` lists every check id"),
            };
            diags.push(d);
            continue;
        };
        let info = check.info();
        if let Some(mode) = settings.mode {
            policy.modes.insert(info.id, mode);
        }
        let mut names: Vec<_> = settings.thresholds.into_iter().collect();
        names.sort();
        for (name, value) in names {
            match info.thresholds.iter().find(|t| t.name == name) {
                Some(t) => {
                    policy.thresholds.insert((info.id, t.name), value);
                }
                None => {
                    let known: Vec<_> = info.thresholds.iter().map(|t| t.name).collect();
                    let hint = if known.is_empty() {
                        format!("{} has no thresholds", info.id)
                    } else {
                        format!("{} has thresholds: {}", info.id, known.join(", "))
                    };
                    diags.push(
                        Diagnostic::at(
                            path,
                            &id,
                            format!("unknown threshold `{name}` for {}", info.id),
                        )
                        .hint(hint),
                    );
                }
            }
        }
    }
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> (Policy, Vec<Diagnostic>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(POLICY_FILE);
        std::fs::write(&p, text).unwrap();
        let mut diags = Vec::new();
        let policy = load(&p, &mut diags);
        (policy, diags)
    }

    #[test]
    fn defaults_without_a_file() {
        let mut diags = Vec::new();
        let p = load(Path::new("/nonexistent/policy.yaml"), &mut diags);
        assert!(diags.is_empty());
        assert_eq!(p.mode("ha/pdb-eviction-policy"), Mode::Informing);
        assert_eq!(p.mode("ha/replicas"), Mode::Blocking);
        assert_eq!(p.profile, None);
    }

    #[test]
    fn modes_and_profile() {
        let (p, d) = load_str("profile: openshift\nchecks:\n  ha/probes:\n    mode: informing\n  ha/pdb-eviction-policy: {mode: blocking}\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(p.profile, Some(Profile::Openshift));
        assert_eq!(p.mode("ha/probes"), Mode::Informing);
        assert_eq!(p.mode("ha/pdb-eviction-policy"), Mode::Blocking);
    }

    #[test]
    fn unknown_check_is_located_with_a_suggestion() {
        let (_, d) = load_str("checks:\n  ha/probe:\n    mode: informing\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, Some(2));
        assert_eq!(d[0].message, "unknown check id `ha/probe`");
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `ha/probes`?"));
    }

    #[test]
    fn unknown_field_and_bad_mode() {
        let (_, d) = load_str("checks:\n  ha/probes:\n    mood: informing\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, Some(3), "{}", d[0]);
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `mode`?"));
        let (_, d) = load_str("checks:\n  ha/probes:\n    mode: sometimes\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, Some(3), "{}", d[0]);
    }

    #[test]
    fn unknown_threshold() {
        let (_, d) = load_str("checks:\n  ha/replicas:\n    thresholds: {min: 3}\n");
        assert_eq!(d[0].message, "unknown threshold `min` for ha/replicas");
    }
}
