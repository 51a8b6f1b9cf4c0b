//! Helpers for check unit tests: a cluster from inline YAML, evaluated with
//! a chosen profile and topology.

use super::{Check, Context, Finding, Profile};
use crate::model::{Cluster, Topology, TopologyMode};
use crate::sources::decode::Doc;

pub fn cluster(yaml: &str) -> Cluster {
    let docs: Vec<Doc> = serde_saphyr::from_multiple(yaml).expect("test YAML parses");
    Cluster::from_objects(docs.into_iter().flat_map(|d| d.objects).collect())
}

pub fn run_with(
    check: &dyn Check,
    yaml: &str,
    profile: Profile,
    mode: TopologyMode,
) -> Vec<Finding> {
    run_cluster(check, &cluster(yaml), profile, mode)
}

/// Evaluates on a built cluster as a run does: the check on the state, then
/// the intervals a watch recorded ([`super::during`]).
pub fn run_check(check: &dyn Check, c: &Cluster) -> Vec<Finding> {
    let mut out = run_cluster(check, c, Profile::Generic, TopologyMode::Ha);
    let topology = Topology::resolve(TopologyMode::Ha, c);
    let defaults = defaults();
    let ctx = Context {
        cluster: c,
        now: now(),
        topology: &topology,
        profile: Profile::Generic,
        thresholds: &defaults,
        allowances: &crate::checks::NO_ALLOWANCES,
        owners: Default::default(),
    };
    super::during::judge(check.info(), &ctx, &mut out);
    out
}

fn defaults() -> impl Fn(&'static str, &'static str) -> i64 + Sync {
    |check: &'static str, name: &'static str| {
        super::find(check)
            .and_then(|c| c.info().thresholds.iter().find(|t| t.name == name))
            .map(|t| t.default)
            .expect("threshold exists")
    }
}

fn run_cluster(
    check: &dyn Check,
    c: &Cluster,
    profile: Profile,
    mode: TopologyMode,
) -> Vec<Finding> {
    let topology = Topology::resolve(mode, c);
    let defaults = defaults();
    let ctx = Context {
        cluster: c,
        now: now(),
        topology: &topology,
        profile,
        thresholds: &defaults,
        allowances: &crate::checks::NO_ALLOWANCES,
        owners: Default::default(),
    };
    let mut out = Vec::new();
    if !(topology.single_node && check.info().multi_node) {
        check.evaluate(&ctx, &mut out);
    }
    out
}

/// The time test states are judged at: 2026-11-21T12:00:00Z.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    crate::model::time::parse("2026-11-21T12:00:00Z").unwrap()
}

/// Evaluates with the generic profile on an HA topology.
pub fn run(check: &dyn Check, yaml: &str) -> Vec<Finding> {
    run_with(check, yaml, Profile::Generic, TopologyMode::Ha)
}

/// The findings as `Kind/name[ container c]: detail` lines.
pub fn lines(findings: &[Finding]) -> Vec<String> {
    findings.iter().map(|f| f.to_string()).collect()
}

/// A Deployment with the given extra spec YAML (indented under `spec:`) and
/// pod template spec YAML (indented under `template.spec:`).
pub fn deployment(name: &str, replicas: i64, pod_spec: &str) -> String {
    format!(
        "---
kind: Deployment
metadata: {{name: {name}, namespace: ns}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: main}}]
{pod_spec}
"
    )
}
