//! The policy file (`policy.yaml` beside the exception files): the profile,
//! and per check its mode, lifecycle and thresholds.
//!
//! ```yaml
//! profile: openshift
//! checks:
//!   ha/pdb-eviction-policy:
//!     lifecycle: blocking     # blocking | informing (Sippy shows it, vigil's exit code ignores it)
//!   ha/probes:
//!     mode: flake-only        # blocking | flake-only (every violation flakes while it rolls out)
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde_saphyr::Spanned;

use super::diagnostics::{from_yaml_error, Diagnostic};
use super::fields::Fields;
use super::tree::{self, Node};
use crate::checks::{self, Lifecycle, Mode, Profile};

pub const POLICY_FILE: &str = "policy.yaml";

/// The effective policy, defaults applied.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `None` when the file does not set it (the CLI default applies).
    pub profile: Option<Profile>,
    modes: HashMap<&'static str, Mode>,
    lifecycles: HashMap<&'static str, Lifecycle>,
    thresholds: HashMap<(&'static str, &'static str), i64>,
    /// `allowed-seconds/NAME` of disruption/backends: per backend.
    allowances: std::collections::BTreeMap<String, i64>,
}

impl Policy {
    pub fn mode(&self, check: &'static str) -> Mode {
        self.modes.get(check).copied().unwrap_or_else(|| {
            checks::find(check)
                .map(|c| c.info().default_mode)
                .unwrap_or(Mode::Blocking)
        })
    }

    pub fn lifecycle(&self, check: &'static str) -> Lifecycle {
        self.lifecycles.get(check).copied().unwrap_or_else(|| {
            checks::find(check)
                .map(|c| c.info().default_lifecycle)
                .unwrap_or(Lifecycle::Blocking)
        })
    }

    /// Per-backend disruption allowances, in seconds.
    pub fn allowances(&self) -> &std::collections::BTreeMap<String, i64> {
        &self.allowances
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

/// Reads `path` if it exists. Problems are appended to `diags`; what could be
/// read is still returned so that every problem is reported in one run.
pub fn load(path: &Path, diags: &mut Vec<Diagnostic>) -> Policy {
    let mut policy = Policy::default();
    let text = match crate::input::read_to_string(path, crate::input::CONFIG) {
        Ok(t) => t,
        Err(e) if e.is_not_found() => return policy,
        Err(e) => {
            diags.push(Diagnostic::error(path, None, format!("cannot read: {e}")));
            return policy;
        }
    };
    let doc = match tree::parse(&text) {
        Ok(Some(d)) => d,
        Ok(None) => return policy,
        Err(e) => {
            diags.push(from_yaml_error(path, &text, &e));
            return policy;
        }
    };
    let Some(fields) = Fields::new(path, &doc, "the policy file", &["profile", "checks"], diags)
    else {
        return policy;
    };
    if let Some(p) = fields.string("profile", diags) {
        match p.value.as_str() {
            "generic" => policy.profile = Some(Profile::Generic),
            "openshift" => policy.profile = Some(Profile::Openshift),
            // Detected from the state, as without a profile.
            "auto" => {}
            other => diags.push(
                Diagnostic::at(path, &p, format!("unknown profile `{other}`"))
                    .hint("the profiles are: auto, generic, openshift"),
            ),
        }
    }
    for (id, settings) in checks_map(&fields, diags) {
        let Some(check) = checks::find(&id.value) else {
            let d = Diagnostic::at(path, id, format!("unknown check id `{}`", id.value));
            diags.push(match checks::closest(&id.value) {
                Some(c) => d.hint(format!("did you mean `{c}`?")),
                None => d.hint("`vigil checks` lists every check id"),
            });
            continue;
        };
        let info = check.info();
        let Some(f) = Fields::new(
            path,
            settings,
            "check settings",
            &["mode", "lifecycle", "thresholds"],
            diags,
        ) else {
            continue;
        };
        read_mode(&f, info.id, &mut policy, diags);
        read_lifecycle(&f, info.id, &mut policy, diags);
        if let Some(thresholds) = f.get("thresholds") {
            read_thresholds(path, info, thresholds, &mut policy, diags);
        }
    }
    policy
}

/// `checks:` as (check id, settings) pairs.
fn checks_map<'a>(
    fields: &Fields<'a>,
    diags: &mut Vec<Diagnostic>,
) -> &'a [(Spanned<String>, Spanned<Node>)] {
    match fields.get("checks").map(|n| &n.value) {
        None | Some(Node::Scalar(serde_json::Value::Null)) => &[],
        Some(Node::Map(m)) => m,
        Some(other) => {
            diags.push(Diagnostic::error(
                fields.path,
                fields.get("checks").map(|n| n.referenced),
                format!(
                    "`checks` must map check ids to settings, found {}",
                    other.describe()
                ),
            ));
            &[]
        }
    }
}

fn read_mode(f: &Fields, id: &'static str, policy: &mut Policy, diags: &mut Vec<Diagnostic>) {
    let Some(m) = f.string("mode", diags) else {
        return;
    };
    let path = f.path;
    match m.value.as_str() {
        "blocking" => {
            policy.modes.insert(id, Mode::Blocking);
        }
        "flake-only" => {
            policy.modes.insert(id, Mode::FlakeOnly);
        }
        "informing" => {
            // Before modes and lifecycles were separate, `informing`
            // meant both; what people wanted was Sippy's lifecycle.
            policy.lifecycles.insert(id, Lifecycle::Informing);
            diags.push(
                Diagnostic::at(path, &m, "`mode: informing` is now `lifecycle: informing`")
                    .warning()
                    .hint("`lifecycle: informing` keeps failures as failures that do not block; `mode: flake-only` turns every violation into a flake"),
            );
        }
        other => diags.push(
            Diagnostic::at(path, &m, format!("unknown mode `{other}`"))
                .hint("the modes are: blocking, flake-only (for a check rolling out); for Sippy's informing tests use `lifecycle: informing`"),
        ),
    }
}

fn read_lifecycle(f: &Fields, id: &'static str, policy: &mut Policy, diags: &mut Vec<Diagnostic>) {
    let Some(l) = f.string("lifecycle", diags) else {
        return;
    };
    match l.value.as_str() {
        "blocking" => {
            policy.lifecycles.insert(id, Lifecycle::Blocking);
        }
        "informing" => {
            policy.lifecycles.insert(id, Lifecycle::Informing);
        }
        other => diags.push(
            Diagnostic::at(f.path, &l, format!("unknown lifecycle `{other}`"))
                .hint("the lifecycles are: blocking, informing"),
        ),
    }
}

const ALLOWANCE_PREFIX: &str = "allowed-seconds/";

/// `allowed-seconds/NAME: N` of disruption/backends.
fn read_allowances(path: &Path, tf: &Fields, policy: &mut Policy, diags: &mut Vec<Diagnostic>) {
    for (key, v) in tf.entries() {
        let Some(backend) = key.strip_prefix(ALLOWANCE_PREFIX) else {
            continue;
        };
        match &v.value {
            Node::Scalar(serde_json::Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => {
                policy
                    .allowances
                    .insert(backend.to_owned(), n.as_i64().unwrap_or(0));
            }
            other => diags.push(Diagnostic::error(
                path,
                Some(v.referenced),
                format!(
                    "threshold `{key}` must be a whole number of seconds >= 0, found {}",
                    other.describe()
                ),
            )),
        }
    }
}

/// A check's `thresholds:`: whole numbers, and never a failure before a flake.
fn read_thresholds(
    path: &Path,
    info: &'static checks::CheckInfo,
    thresholds: &Spanned<Node>,
    policy: &mut Policy,
    diags: &mut Vec<Diagnostic>,
) {
    let mut known: Vec<&str> = info.thresholds.iter().map(|t| t.name).collect();
    // Disruption allowances may name a backend: `allowed-seconds/console`.
    if info.id == crate::checks::disruption::backends::ID {
        if let Node::Map(map) = &thresholds.value {
            known.extend(
                map.iter()
                    .map(|(k, _)| k.value.as_str())
                    .filter(|k| k.starts_with(ALLOWANCE_PREFIX)),
            );
        }
    }
    let Some(tf) = Fields::new(
        path,
        thresholds,
        &format!("{}'s thresholds", info.id),
        &known,
        diags,
    ) else {
        return;
    };
    for t in info.thresholds {
        let Some(v) = tf.get(t.name) else { continue };
        match &v.value {
            Node::Scalar(serde_json::Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => {
                policy
                    .thresholds
                    .insert((info.id, t.name), n.as_i64().unwrap_or(t.default));
            }
            other => diags.push(Diagnostic::error(
                path,
                Some(v.referenced),
                format!(
                    "threshold `{}` must be a whole number >= 0, found {}",
                    t.name,
                    other.describe()
                ),
            )),
        }
    }
    read_allowances(path, &tf, policy, diags);
    // A failure must never come before a flake: `fail-above` below the
    // flake threshold would fail counts that do not even flake.
    let value = |name: &str| {
        info.thresholds.iter().find(|t| t.name == name).map(|t| {
            *policy
                .thresholds
                .get(&(info.id, t.name))
                .unwrap_or(&t.default)
        })
    };
    let flake = value("flake-at")
        .map(|v| (v, "flake-at"))
        .or(value("flake-above").map(|v| (v, "flake-above")));
    if let (Some((flake, flake_name)), Some(fail)) = (flake, value("fail-above")) {
        if fail < flake {
            let place = tf
                .get("fail-above")
                .or(tf.get(flake_name))
                .map(|v| v.referenced);
            diags.push(
                Diagnostic::error(
                    path,
                    place,
                    format!("impossible thresholds for {}: fail-above {fail} is below {flake_name} {flake}", info.id),
                )
                .hint(format!("a count fails only above fail-above and flakes from {flake_name}: set fail-above to {flake} or more")),
            );
        }
    }
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
        assert_eq!(p.mode("ha/pdb-eviction-policy"), Mode::Blocking);
        assert_eq!(p.lifecycle("ha/pdb-eviction-policy"), Lifecycle::Informing);
        assert_eq!(p.mode("ha/replicas"), Mode::Blocking);
        assert_eq!(p.lifecycle("ha/replicas"), Lifecycle::Blocking);
        assert_eq!(p.profile, None);
    }

    #[test]
    fn modes_lifecycles_and_profile() {
        let (p, d) = load_str("profile: openshift\nchecks:\n  ha/probes:\n    mode: flake-only\n  ha/pdb-eviction-policy: {lifecycle: blocking}\n  ha/spread: {lifecycle: informing}\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(p.profile, Some(Profile::Openshift));
        assert_eq!(
            (p.mode("ha/probes"), p.lifecycle("ha/probes")),
            (Mode::FlakeOnly, Lifecycle::Blocking)
        );
        assert_eq!(p.lifecycle("ha/pdb-eviction-policy"), Lifecycle::Blocking);
        assert_eq!(
            (p.mode("ha/spread"), p.lifecycle("ha/spread")),
            (Mode::Blocking, Lifecycle::Informing)
        );
    }

    #[test]
    fn the_old_informing_mode_means_the_lifecycle_and_says_so() {
        let (p, d) = load_str("checks:\n  ha/probes:\n    mode: informing\n");
        assert_eq!(
            (p.mode("ha/probes"), p.lifecycle("ha/probes")),
            (Mode::Blocking, Lifecycle::Informing)
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].level, crate::exceptions::Level::Warning);
        assert_eq!(
            d[0].message,
            "`mode: informing` is now `lifecycle: informing`"
        );
    }

    #[test]
    fn unknown_check_is_located_with_a_suggestion() {
        let (_, d) = load_str("checks:\n  ha/probe:\n    mode: flake-only\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, Some(2));
        assert_eq!(d[0].message, "unknown check id `ha/probe`");
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `ha/probes`?"));
    }

    #[test]
    fn every_problem_in_one_pass() {
        let (_, d) = load_str("profile: openshfit\nchecks:\n  ha/probe: {mode: flake-only}\n  ha/probes: {mood: informing, mode: sometimes}\nextra: 1\n");
        let got: Vec<_> = d
            .iter()
            .map(|d| (d.line.unwrap(), d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (5, "unknown field `extra` in the policy file"),
                (1, "unknown profile `openshfit`"),
                (3, "unknown check id `ha/probe`"),
                (4, "unknown field `mood` in check settings"),
                (4, "unknown mode `sometimes`"),
            ]
        );
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
    fn impossible_thresholds_are_errors() {
        let (_, d) =
            load_str("checks:\n  health/restarts:\n    thresholds: {flake-at: 5, fail-above: 2}\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("fail-above 2 is below flake-at 5"),
            "{}",
            d[0].message
        );
        assert_eq!(d[0].line, Some(3));
        // Against a default: flake-above 10 (default fail-above is lower? say so too).
        let (_, d) = load_str(
            "checks:\n  health/events:\n    thresholds: {fail-above: 1, flake-above: 3}\n",
        );
        assert!(
            d.iter()
                .any(|d| d.message.contains("fail-above 1 is below flake-above 3")),
            "{d:?}"
        );
        let (_, d) =
            load_str("checks:\n  health/restarts:\n    thresholds: {flake-at: 2, fail-above: 2}\n");
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn unknown_threshold() {
        let (_, d) = load_str("checks:\n  ha/replicas:\n    thresholds: {min: 3}\n");
        assert_eq!(
            d[0].message,
            "unknown field `min` in ha/replicas's thresholds"
        );
        let (p, d) = load_str(
            "checks:\n  health/restarts:\n    thresholds: {flake-at: 3, fail-above: many}\n",
        );
        assert_eq!(p.threshold("health/restarts", "flake-at"), 3);
        assert_eq!(
            d[0].message,
            "threshold `fail-above` must be a whole number >= 0, found a string"
        );
        assert_eq!(d[0].line, Some(3));
    }
}
