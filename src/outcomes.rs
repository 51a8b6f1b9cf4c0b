//! Outcomes: every (check, namespace) in scope becomes one test case whose
//! outcome is the worst of its weighed findings.
//!
//! A finding with no exception fails (or flakes, when its check says the
//! finding only flakes); one with a valid ticket flakes; one with an
//! `allow` passes but is still listed; one whose ticket expired fails. An
//! flake-only check (one rolling out) turns every failure into a flake. A
//! check's lifecycle (blocking or informing) does not change outcomes: it
//! tells Sippy, and vigil's exit code, whether failures block.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use regex::Regex;
use serde::Serialize;

use crate::checks::{
    self, CheckInfo, Context, Finding, Lifecycle, Mode, Monitor, Profile, Severity,
};
use crate::exceptions::{Disposition, Exceptions, Grant};
use crate::model::objects::Str;
use crate::model::{Cluster, Topology};
use crate::sources::snapshot::MissingKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Not a run: the check does not apply here (a multi-node rule on a
    /// single-node cluster, a kind the cluster does not serve) or could not
    /// look (a kind it needs could not be listed). Written as `<skipped>`,
    /// which Sippy does not count; it never hides a failure, because the
    /// reason it could not look fails a `[Monitor:vigil]` test of its own.
    Skip,
    Pass,
    Flake,
    Fail,
}

impl Outcome {
    /// As a verb in the past: `passed`, `flaked`, `failed`, `skipped`.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Skip => "skipped",
            Outcome::Pass => "passed",
            Outcome::Flake => "flaked",
            Outcome::Fail => "failed",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Skip => "skip",
            Outcome::Pass => "pass",
            Outcome::Flake => "flake",
            Outcome::Fail => "fail",
        }
    }
}

/// A finding with its exception weighed.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    #[serde(flatten)]
    pub finding: Finding,
    pub outcome: Outcome,
    pub disposition: Disposition,
}

/// One JUnit test case (two `<testcase>` elements when it flakes).
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub name: String,
    pub monitor: Monitor,
    pub check: &'static str,
    /// `None` for a cluster-scoped test such as `nodes should be ready`.
    pub namespace: Option<String>,
    /// The Jira component in the name's `[Jira:"..."]` tag: `owners.yaml`'s
    /// owner of the namespace, or the check's own for cluster-wide tests;
    /// `None` (no tag) otherwise.
    pub component: Option<String>,
    pub mode: Mode,
    pub lifecycle: Lifecycle,
    pub outcome: Outcome,
    /// Why the check did not apply, e.g. on a single-node cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Disruption tests: the outages' total in seconds, outage or not, so
    /// that `vigil report` can suggest allowances from history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_seconds: Option<f64>,
    pub findings: Vec<Judged>,
}

impl TestResult {
    pub fn informing(&self) -> bool {
        self.lifecycle == Lifecycle::Informing
    }
}

/// An exception entry that matched no finding in this run.
#[derive(Debug, Clone, Serialize)]
pub struct Stale {
    pub file: String,
    pub line: u64,
    /// Where the entry starts, for diagnostics (JSON has file and line).
    #[serde(skip)]
    pub at: serde_saphyr::Location,
    pub check: &'static str,
    pub namespace: Option<String>,
    pub object: Option<String>,
    /// The entry's `finding` glob, when it narrows the object's findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    pub jira: Option<String>,
    pub allow: Option<String>,
}

/// What to evaluate and how.
pub struct Scope<'a> {
    pub profile: Profile,
    pub topology: &'a Topology,
    /// Full-match filter on namespace names; `None` keeps every namespace.
    pub namespaces: Option<&'a Regex>,
    /// The day exception expiry is judged against.
    pub today: NaiveDate,
    /// The time the state describes; ages are measured against it.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Kinds a live collection could not list: checks needing them are skipped.
    pub missing: &'a [MissingKind],
    /// Kinds the cluster does not serve: checks needing them do not apply.
    pub not_served: &'a [String],
    /// Kinds the input holds; `None` when it is not known (unit tests).
    /// A check that reads a kind the input does not hold has not looked.
    pub held: Option<&'a std::collections::BTreeSet<String>>,
}

/// Kinds only OpenShift serves.
pub const OPENSHIFT_KINDS: &[&str] = &["ClusterOperator", "ClusterVersion", "MachineConfigPool"];

/// Kinds whose absence means "there are none": a cluster that does not
/// serve HPAs has no HPA scaling anything.
const OPTIONAL_KINDS: &[&str] = &["HorizontalPodAutoscaler"];

/// Kinds a check can do without when the input does not hold them: HPAs
/// (none means none scales anything) and ReplicaSets (only the link from
/// a Deployment's pods to it; the pods are still judged).
const OPTIONAL_WHEN_ABSENT: &[&str] = &["HorizontalPodAutoscaler", "ReplicaSet"];

/// The workload kinds: an input that holds any of them holds "workloads"
/// (a dump of a cluster without StatefulSets holds none, and says nothing).
const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet"];

/// A check's needs as groups of which the input must hold one kind each:
/// the workload kinds are one group; `A|B` is one group; HPAs and
/// ReplicaSets are not needed to look.
fn held_groups(info: &CheckInfo) -> Vec<Vec<&'static str>> {
    let mut groups: Vec<Vec<&'static str>> = Vec::new();
    let mut workloads: Vec<&'static str> = Vec::new();
    for need in info.needs {
        let kinds: Vec<&'static str> = need.split('|').collect();
        if kinds.iter().any(|k| OPTIONAL_WHEN_ABSENT.contains(k)) {
            continue;
        }
        if kinds.len() == 1 && WORKLOADS.contains(&kinds[0]) {
            workloads.push(kinds[0]);
        } else {
            groups.push(kinds);
        }
    }
    if !workloads.is_empty() {
        groups.insert(0, workloads);
    }
    groups
}

/// The kinds a check reads that the input does not hold, each group
/// written `A or B`; empty when it can look.
fn not_held(
    info: &CheckInfo,
    held: &std::collections::BTreeSet<String>,
    not_served: &[String],
) -> Vec<String> {
    held_groups(info)
        .into_iter()
        .filter(|g| {
            g.iter()
                .all(|k| !held.contains(*k) && !not_served.iter().any(|s| s == k))
        })
        .map(|g| g.join(" or "))
        .collect()
}

/// Every kind some check reads that the input does not hold (and that was
/// not already reported as not served or not listed): what the collection
/// test names as lacking.
pub fn lacking(
    held: &std::collections::BTreeSet<String>,
    not_served: &[String],
    missing: &[MissingKind],
    profile: Profile,
) -> Vec<&'static str> {
    let known = |k: &str| {
        held.contains(k) || not_served.iter().any(|s| s == k) || missing.iter().any(|m| m.kind == k)
    };
    let mut out: Vec<&'static str> = checks::ALL
        .iter()
        .flat_map(|c| held_groups(c.info()))
        // OpenShift's own kinds are news only where OpenShift is judged.
        .filter(|g| profile == Profile::Openshift || !g.iter().all(|k| OPENSHIFT_KINDS.contains(k)))
        .filter(|g| g.iter().all(|k| !known(k)))
        .flatten()
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Why a check is skipped instead of judged: a kind it needs could not be
/// listed (it could not look: the collection test fails for that), the
/// cluster does not serve that kind at all (the rule does not apply), or
/// the input does not hold it (it has not looked).
fn not_evaluated(info: &CheckInfo, scope: &Scope) -> Option<String> {
    let (missing, not_served) = (scope.missing, scope.not_served);
    let is_missing = |k: &str| missing.iter().any(|m| m.kind == k);
    let is_unserved = |k: &str| not_served.iter().any(|s| s == k) && !OPTIONAL_KINDS.contains(&k);
    let blind: Vec<&str> = info
        .needs
        .iter()
        .filter(|need| need.split('|').all(|k| is_missing(k) || is_unserved(k)))
        .flat_map(|need| need.split('|'))
        .collect();
    let lost: Vec<String> = blind
        .iter()
        .filter_map(|k| missing.iter().find(|m| m.kind == *k))
        .map(|m| format!("{} ({})", m.kind, m.error))
        .collect();
    if !lost.is_empty() {
        return Some(format!("not evaluated: could not list {}", lost.join(", ")));
    }
    let unserved: Vec<&str> = blind.into_iter().filter(|k| is_unserved(k)).collect();
    if !unserved.is_empty() {
        return Some(format!(
            "not applicable: this cluster does not serve {}",
            unserved.join(", ")
        ));
    }
    let absent = not_held(info, scope.held?, not_served);
    (!absent.is_empty())
        .then(|| format!("not evaluated: the input holds no {}", absent.join(", no ")))
}

/// A workload vigil read but has no HA rules for (its pods are still judged
/// by the infra-health checks).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotJudged {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub why: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub tests: Vec<TestResult>,
    pub stale: Vec<Stale>,
    pub namespaces: usize,
    /// Workloads of kinds the HA rules do not cover, listed so that their
    /// absence from the verdicts is said, not silent.
    pub not_judged: Vec<NotJudged>,
}

impl Evaluation {
    pub fn count(&self, o: Outcome) -> usize {
        self.tests.iter().filter(|t| t.outcome == o).count()
    }

    pub fn worst(&self) -> Outcome {
        self.tests
            .iter()
            .map(|t| t.outcome)
            .max()
            .unwrap_or(Outcome::Pass)
    }

    /// The worst outcome of the tests whose failures block (not informing):
    /// what decides vigil's exit status.
    pub fn worst_blocking(&self) -> Outcome {
        self.tests
            .iter()
            .filter(|t| !t.informing())
            .map(|t| t.outcome)
            .max()
            .unwrap_or(Outcome::Pass)
    }

    pub fn violations(&self) -> usize {
        self.tests.iter().map(|t| t.findings.len()).sum()
    }
}

/// The Sippy test name of a check's test ([`CheckInfo::test_name`]).
pub fn test_name(info: &CheckInfo, component: Option<&str>, namespace: Option<&str>) -> String {
    info.test_name(component, namespace)
}

/// Runs every planned check, spread over the cores, each check's findings in
/// its own slot so the result does not depend on scheduling.
fn run_checks(ctx: &Context, plan: &[(bool, Option<String>)]) -> Vec<Vec<Finding>> {
    let planned: Vec<_> = checks::ALL.iter().zip(plan).collect();
    crate::parallel::map_in_order(&planned, |(check, (exempt, blind))| {
        let mut out = Vec::new();
        if !exempt && blind.is_none() {
            check.evaluate(ctx, &mut out);
            checks::during::judge(check.info(), ctx, &mut out);
        }
        out
    })
}

pub fn evaluate(cluster: &Cluster, exceptions: &Exceptions, scope: &Scope) -> Evaluation {
    let in_scope: Vec<&String> = cluster
        .namespaces
        .iter()
        .filter(|ns| scope.namespaces.is_none_or(|re| re.is_match(ns)))
        .collect();
    let thresholds =
        |check: &'static str, name: &'static str| exceptions.policy.threshold(check, name);
    let ctx = Context {
        cluster,
        now: scope.now,
        topology: scope.topology,
        profile: scope.profile,
        thresholds: &thresholds,
        allowances: exceptions.policy.allowances(),
        owners: Default::default(),
    };
    let plan = plan(&ctx, scope);
    // The checks are independent readers of the model: run them on all cores.
    let mut found = run_checks(&ctx, &plan);
    let mut tests = Vec::new();
    let mut evaluated_checks = HashSet::new();
    for (ci, check) in checks::ALL.iter().enumerate() {
        let (exempt, blind) = &plan[ci];
        if !exempt && blind.is_none() {
            evaluated_checks.insert(check.info().id);
        }
        let findings = std::mem::take(&mut found[ci]);
        let judged = JudgedCheck {
            check: *check,
            exempt: *exempt,
            blind: blind.as_deref(),
        };
        tests.extend(judged.tests(&ctx, exceptions, scope, &in_scope, findings));
    }
    Evaluation {
        tests,
        stale: stale(exceptions, scope, &in_scope, &evaluated_checks),
        namespaces: in_scope.len(),
        not_judged: not_judged(cluster, scope),
    }
}

/// Which checks run, and why the others do not: (exempt on this topology,
/// why it cannot look or does not apply).
fn plan(ctx: &Context, scope: &Scope) -> Vec<(bool, Option<String>)> {
    let cluster = ctx.cluster;
    checks::ALL
        .iter()
        .map(|check| {
            let info = check.info();
            let exempt = scope.topology.single_node && info.multi_node;
            let blind = check
                .not_applicable(ctx)
                .or_else(|| not_evaluated(info, scope))
                .or_else(|| {
                    // A cluster-wide test about objects the state does not hold
                    // (no Node in a manifest) has nothing to pass on.
                    (info.cluster_scoped.is_some()
                        && info.kinds.iter().all(|k| cluster.count(k) == 0))
                    .then(|| {
                        format!(
                            "not evaluated: the state holds no {}",
                            info.kinds.join(" or ")
                        )
                    })
                });
            (exempt, blind)
        })
        .collect()
}

/// A polled backend's component: the one recorded (OpenShift's backends, a
/// `NAME@COMPONENT` target), else the owner of a `service:` target's
/// namespace.
fn backend_component(ctx: &Context, exceptions: &Exceptions, object: &str) -> Option<String> {
    let polled = ctx.cluster.intervals.iter().find(|i| {
        i.reason == crate::model::intervals::Reason::DisruptionPolled
            && checks::disruption::backends::object_name(i) == object
    })?;
    polled
        .component
        .clone()
        .or_else(|| exceptions.component(&polled.namespace).map(str::to_owned))
}

/// One check with what the plan says of it.
struct JudgedCheck<'a> {
    check: &'static dyn checks::Check,
    exempt: bool,
    blind: Option<&'a str>,
}

impl JudgedCheck<'_> {
    /// The check's tests: one cluster-wide, or one per namespace in scope.
    fn tests(
        &self,
        ctx: &Context,
        exceptions: &Exceptions,
        scope: &Scope,
        in_scope: &[&String],
        findings: Vec<Finding>,
    ) -> Vec<TestResult> {
        let info = self.check.info();
        let mode = exceptions.policy.mode(info.id);
        let mut by_ns: BTreeMap<Str, Vec<Finding>> = BTreeMap::new();
        for f in findings {
            by_ns.entry(f.namespace.clone()).or_default().push(f);
        }
        if info.per_object.is_some() {
            return self.object_tests(ctx, exceptions, scope, by_ns.remove("").unwrap_or_default());
        }
        let places: Vec<(Option<&String>, Option<String>)> = match info.cluster_scoped {
            Some(component) => vec![(None, Some(component.to_owned()))],
            None => in_scope
                .iter()
                .map(|ns| (Some(*ns), exceptions.component(ns).map(str::to_owned)))
                .collect(),
        };
        places
            .into_iter()
            .map(|(ns, component)| {
                let key = ns.map(String::as_str).unwrap_or("");
                let judged: Vec<Judged> = by_ns
                    .remove(key)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| judge(f, exceptions, mode, scope.today))
                    .collect();
                self.test(ctx, exceptions, scope, ns, component, judged)
            })
            .collect()
    }

    /// A per-object check's tests: one per object of its kind in the state
    /// (a ClusterOperator each), tagged with the component that owns it.
    fn object_tests(
        &self,
        ctx: &Context,
        exceptions: &Exceptions,
        scope: &Scope,
        findings: Vec<Finding>,
    ) -> Vec<TestResult> {
        let info = self.check.info();
        let mode = exceptions.policy.mode(info.id);
        let mut by_object: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
        for f in findings {
            by_object.entry(f.name.to_string()).or_default().push(f);
        }
        let kind = info.kinds.first().copied().unwrap_or_default();
        ctx.cluster
            .object_names(kind)
            .into_iter()
            .map(|name| {
                let component = if kind == crate::model::intervals::BACKEND_KIND {
                    backend_component(ctx, exceptions, &name)
                } else {
                    exceptions
                        .owners
                        .operator_component(&name)
                        .or(info.cluster_scoped)
                        .map(str::to_owned)
                };
                let judged = by_object
                    .remove(&name)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| judge(f, exceptions, mode, scope.today))
                    .collect();
                let mut t = self.test(ctx, exceptions, scope, None, component.clone(), judged);
                t.name = info.object_test_name(component.as_deref(), &name);
                if kind == crate::model::intervals::BACKEND_KIND {
                    t.measured_seconds = Some(checks::disruption::backends::total_seconds(
                        &ctx.cluster.intervals,
                        &name,
                    ));
                }
                t
            })
            .collect()
    }

    /// One test from its judged findings: its outcome, and the note when it
    /// is skipped.
    fn test(
        &self,
        ctx: &Context,
        exceptions: &Exceptions,
        scope: &Scope,
        ns: Option<&String>,
        component: Option<String>,
        mut judged: Vec<Judged>,
    ) -> TestResult {
        let info = self.check.info();
        judged.sort_by(|a, b| {
            b.outcome
                .cmp(&a.outcome)
                .then_with(|| a.finding.kind.cmp(&b.finding.kind))
                .then_with(|| a.finding.name.cmp(&b.finding.name))
                .then_with(|| a.finding.container.cmp(&b.finding.container))
                .then_with(|| a.finding.detail.cmp(&b.finding.detail))
        });
        let mut outcome = judged
            .iter()
            .map(|j| j.outcome)
            .max()
            .unwrap_or(Outcome::Pass);
        let elsewhere = match (ns, self.exempt || self.blind.is_some()) {
            (Some(ns), false) => {
                checks::health::namespaces::being_deleted(ctx.cluster, info.id, ns)
                    .or_else(|| self.check.not_applicable_in(ctx, ns))
            }
            _ => None,
        };
        if elsewhere.is_some() {
            // Going away, or not this rule's business: nothing to list.
            judged.clear();
        }
        if self.blind.is_some() || self.exempt || elsewhere.is_some() {
            // Not a run: Sippy must not count it as a pass. A check that
            // could not look is not green either: the collection test
            // fails, naming what could not be listed.
            outcome = Outcome::Skip;
        }
        TestResult {
            name: test_name(info, component.as_deref(), ns.map(String::as_str)),
            monitor: info.monitor,
            check: info.id,
            namespace: ns.cloned(),
            component,
            mode: exceptions.policy.mode(info.id),
            lifecycle: exceptions.policy.lifecycle(info.id),
            outcome,
            // A rule that does not apply says so first: whether the
            // input could have fed it does not matter then.
            note: self
                .exempt
                .then(|| {
                    format!(
                        "not applicable: a multi-node rule on a single-node cluster ({})",
                        scope.topology.source
                    )
                })
                .or_else(|| self.blind.map(str::to_owned))
                .or(elsewhere),
            measured_seconds: None,
            findings: judged,
        }
    }
}

/// Exception entries that matched nothing, among the checks that ran and
/// the namespaces in scope.
fn stale(
    exceptions: &Exceptions,
    scope: &Scope,
    in_scope: &[&String],
    evaluated_checks: &HashSet<&'static str>,
) -> Vec<Stale> {
    exceptions
        .entries
        .iter()
        .filter(|e| !e.was_used() && evaluated_checks.contains(e.check))
        .filter(|e| scope.namespaces.is_none() || in_scope.iter().any(|ns| e.covers_namespace(ns)))
        .map(|e| {
            let (jira, allow) = match &e.grant {
                Grant::Ticket { jira, .. } => (Some(jira.clone()), None),
                Grant::Allow { reason, .. } => (None, Some(reason.clone())),
            };
            Stale {
                at: e.at,
                file: e.file.display().to_string(),
                line: e.line,
                check: e.check,
                namespace: e.namespace.clone(),
                object: e.object.clone(),
                finding: e.finding.clone(),
                jira,
                allow,
            }
        })
        .collect()
}

/// Workloads vigil read but has no HA rules for, said rather than silent.
fn not_judged(cluster: &Cluster, scope: &Scope) -> Vec<NotJudged> {
    let in_scope_ns = |ns: &str| scope.namespaces.is_none_or(|re| re.is_match(ns));
    let mut not_judged: Vec<NotJudged> = cluster
        .unjudged
        .iter()
        .filter(|u| in_scope_ns(&u.metadata.namespace))
        .map(|u| NotJudged {
            kind: u.kind.to_owned(),
            namespace: u.metadata.namespace.to_string(),
            name: u.metadata.name.to_string(),
            why: "vigil has no HA rules for this kind yet; its pods are still judged by the infra-health checks",
        })
        .chain(
            cluster
                .replicasets
                .iter()
                .filter(|r| r.metadata.controller().is_none() && in_scope_ns(&r.metadata.namespace))
                .map(|r| NotJudged {
                    kind: "ReplicaSet".into(),
                    namespace: r.metadata.namespace.to_string(),
                    name: r.metadata.name.to_string(),
                    why: "a ReplicaSet no Deployment owns; the HA rules judge Deployments",
                }),
        )
        .collect();
    not_judged.sort();
    not_judged
}

fn judge(finding: Finding, exceptions: &Exceptions, mode: Mode, today: NaiveDate) -> Judged {
    let disposition = exceptions.weigh(&finding, today);
    let own = match finding.severity {
        Severity::Fail => Outcome::Fail,
        Severity::Flake => Outcome::Flake,
    };
    let outcome = match &disposition {
        Disposition::New | Disposition::Expired(_) => own,
        Disposition::Ticket(_) => Outcome::Flake.min(own),
        Disposition::Allowed(_) => Outcome::Pass,
    };
    let outcome = match (mode, outcome) {
        (Mode::FlakeOnly, Outcome::Fail) => Outcome::Flake,
        (_, o) => o,
    };
    Judged {
        finding,
        outcome,
        disposition,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::cluster;
    use crate::model::TopologyMode;

    fn eval_with(
        yaml: &str,
        ex: &Exceptions,
        mode: TopologyMode,
        filter: Option<&Regex>,
    ) -> Evaluation {
        let c = cluster(yaml);
        let topology = Topology::resolve(mode, &c);
        evaluate(
            &c,
            ex,
            &Scope {
                profile: Profile::Generic,
                topology: &topology,
                namespaces: filter,
                today: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
                now: crate::checks::testing::now(),
                missing: &[],
                not_served: &[],
                held: None,
            },
        )
    }

    const STATE: &str = "---
kind: Namespace
metadata: {name: a}
---
kind: Namespace
metadata: {name: b}
---
kind: Deployment
metadata: {name: web, namespace: a}
spec: {replicas: 1}
";

    #[test]
    fn one_test_per_check_and_namespace_always() {
        let ev = eval_with(STATE, &Exceptions::default(), TopologyMode::Ha, None);
        let namespaced = checks::ALL
            .iter()
            .filter(|c| c.info().cluster_scoped.is_none() && c.info().per_object.is_none())
            .count();
        let cluster_wide = checks::ALL
            .iter()
            .filter(|c| c.info().cluster_scoped.is_some() && c.info().per_object.is_none())
            .count();
        // Per-object checks (ClusterOperators...) have one test per object:
        // none here.
        assert_eq!(ev.tests.len(), namespaced * 2 + cluster_wide);
        let nodes = ev.tests.iter().find(|t| t.check == "health/nodes").unwrap();
        assert_eq!(
            nodes.name,
            "[Monitor:infra-health][Jira:\"Node / Kubelet\"] nodes should be ready"
        );
        assert_eq!(nodes.namespace, None);
        let names: HashSet<_> = ev.tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names.len(), ev.tests.len(), "names are unique");
        let replicas_a = ev
            .tests
            .iter()
            .find(|t| t.check == "ha/replicas" && t.namespace.as_deref() == Some("a"))
            .unwrap();
        assert_eq!(replicas_a.outcome, Outcome::Fail);
        assert_eq!(
            replicas_a.name,
            "[Monitor:ha-compliance] workloads in ns/a should have at least two replicas",
            "no owner, no tag: ci-test-mapping assigns it by namespace"
        );
        let replicas_b = ev
            .tests
            .iter()
            .find(|t| t.check == "ha/replicas" && t.namespace.as_deref() == Some("b"))
            .unwrap();
        assert_eq!(replicas_b.outcome, Outcome::Pass);
    }

    fn exceptions(text: &str) -> (tempfile::TempDir, Exceptions) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("c.yaml"), text).unwrap();
        let ex = Exceptions::load(d.path(), true).unwrap();
        (d, ex)
    }

    #[test]
    fn only_owners_yaml_tags_test_names() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("owners.yaml"), "owners:\n  Web Team: [a]\n").unwrap();
        let ex = Exceptions::load(d.path(), true).unwrap();
        let ev = eval_with(STATE, &ex, TopologyMode::Ha, None);
        let name = |ns: &str| {
            ev.tests
                .iter()
                .find(|t| t.check == "ha/replicas" && t.namespace.as_deref() == Some(ns))
                .unwrap()
                .name
                .clone()
        };
        assert_eq!(
            name("a"),
            "[Monitor:ha-compliance][Jira:\"Web Team\"] workloads in ns/a should have at least two replicas"
        );
        assert_eq!(
            name("b"),
            "[Monitor:ha-compliance] workloads in ns/b should have at least two replicas"
        );
        // Adding a component file with exceptions changes no name.
        std::fs::write(
            d.path().join("web.yaml"),
            "component: Other\nnamespaces: [a, b]\nexceptions:\n  - check: ha/replicas\n    jira: WEB-1\n",
        )
        .unwrap();
        let ex2 = Exceptions::load(d.path(), true).unwrap();
        let ev2 = eval_with(STATE, &ex2, TopologyMode::Ha, None);
        let names = |e: &Evaluation| e.tests.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&ev), names(&ev2));
    }

    #[test]
    fn a_finding_glob_excepts_one_of_an_objects_findings_not_all() {
        // One toleration justified, one not: the entry allows the first only.
        let state = "---\nkind: Deployment\nmetadata: {name: op, namespace: openshift-x}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers: [{name: c}]\n      tolerations:\n      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoSchedule}\n      - {key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoSchedule}\n";
        let (_d, ex) = exceptions(
            "component: Ops\nnamespaces: [openshift-x]\nexceptions:\n  - check: ha/tolerations\n    object: Deployment/op\n    finding: \"tolerates node.kubernetes.io/not-ready:NoSchedule*\"\n    allow: needed to form a node\n    approved-by: lead\n",
        );
        let c = crate::checks::testing::cluster(state);
        let topology = Topology::resolve(TopologyMode::Ha, &c);
        let scope = Scope {
            profile: Profile::Openshift,
            topology: &topology,
            namespaces: None,
            today: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            now: crate::checks::testing::now(),
            missing: &[],
            not_served: &[],
            held: None,
        };
        let ev = evaluate(&c, &ex, &scope);
        let t = ev
            .tests
            .iter()
            .find(|t| t.check == "ha/tolerations" && t.namespace.as_deref() == Some("openshift-x"))
            .unwrap();
        assert_eq!(t.outcome, Outcome::Fail);
        let outcomes: Vec<(Outcome, bool)> = t
            .findings
            .iter()
            .map(|j| (j.outcome, j.finding.detail.contains("not-ready")))
            .collect();
        assert_eq!(outcomes, [(Outcome::Fail, false), (Outcome::Pass, true)]);
        assert!(ev.stale.is_empty());
    }

    #[test]
    fn ticket_flakes_allow_passes_expired_fails() {
        let outcome_with = |grant: &str| {
            let (_d, ex) = exceptions(&format!(
                "component: Web\nnamespaces: [a]\nexceptions:\n  - check: ha/replicas\n    object: Deployment/web\n{grant}"
            ));
            let ev = eval_with(STATE, &ex, TopologyMode::Ha, None);
            let t = ev
                .tests
                .into_iter()
                .find(|t| t.check == "ha/replicas" && t.namespace.as_deref() == Some("a"))
                .unwrap();
            // Exceptions never name owners: adding them renames nothing.
            assert!(!t.name.contains("[Jira:"), "{}", t.name);
            (t.outcome, t.findings.len())
        };
        assert_eq!(outcome_with("    jira: OCPBUGS-1\n"), (Outcome::Flake, 1));
        assert_eq!(
            outcome_with("    allow: fine\n    approved-by: lead\n"),
            (Outcome::Pass, 1)
        );
        assert_eq!(
            outcome_with("    jira: OCPBUGS-1\n    expires: 2020-01-01\n"),
            (Outcome::Fail, 1)
        );
    }

    #[test]
    fn flake_only_mode_turns_failures_into_flakes_informing_does_not() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("policy.yaml"),
            "checks:\n  ha/replicas: {mode: flake-only}\n  ha/priority-class: {lifecycle: informing}\n",
        )
        .unwrap();
        let ex = Exceptions::load(d.path(), true).unwrap();
        let ev = eval_with(STATE, &ex, TopologyMode::Ha, None);
        let t = ev
            .tests
            .iter()
            .find(|t| t.check == "ha/replicas" && t.namespace.as_deref() == Some("a"))
            .unwrap();
        assert_eq!((t.outcome, t.informing()), (Outcome::Flake, false));
        let t = ev
            .tests
            .iter()
            .find(|t| t.check == "ha/priority-class" && t.namespace.as_deref() == Some("a"))
            .unwrap();
        assert_eq!((t.outcome, t.informing()), (Outcome::Fail, true));
        // The informing failure is a failure, but not one that blocks.
        let only_informing: Vec<TestResult> = ev
            .tests
            .iter()
            .filter(|t| t.check == "ha/priority-class")
            .cloned()
            .collect();
        let ev2 = Evaluation {
            tests: only_informing,
            stale: vec![],
            namespaces: 2,
            not_judged: vec![],
        };
        assert_eq!(ev2.worst(), Outcome::Fail);
        assert_eq!(ev2.worst_blocking(), Outcome::Pass);
    }

    #[test]
    fn single_node_exempts_multi_node_checks() {
        let ev = eval_with(STATE, &Exceptions::default(), TopologyMode::Single, None);
        let t = ev
            .tests
            .iter()
            .find(|t| t.check == "ha/replicas" && t.namespace.as_deref() == Some("a"))
            .unwrap();
        assert_eq!(t.outcome, Outcome::Skip);
        assert!(t
            .note
            .as_deref()
            .unwrap()
            .starts_with("not applicable: a multi-node rule on a single-node cluster"));
        // Rules that hold on one node are still judged.
        let probes = ev
            .tests
            .iter()
            .find(|t| t.check == "ha/probes" && t.namespace.as_deref() == Some("a"))
            .unwrap();
        assert_ne!(probes.outcome, Outcome::Skip);
    }

    #[test]
    fn stale_exceptions_are_listed() {
        let (_d, ex) = exceptions(
            "component: Web\nnamespaces: [a, b]\nexceptions:\n  - check: ha/replicas\n    namespace: b\n    jira: OCPBUGS-2\n",
        );
        let ev = eval_with(STATE, &ex, TopologyMode::Ha, None);
        assert_eq!(ev.stale.len(), 1);
        assert_eq!(ev.stale[0].jira.as_deref(), Some("OCPBUGS-2"));
        // Out of scope: not judged stale.
        let only_a = Regex::new("^(?:a)$").unwrap();
        let ev = eval_with(STATE, &ex, TopologyMode::Ha, Some(&only_a));
        assert!(ev.stale.is_empty());
        assert_eq!(ev.namespaces, 1);
    }

    #[test]
    fn checks_that_cannot_look_are_skipped_the_others_run() {
        let c = cluster(STATE);
        let topology = Topology::resolve(TopologyMode::Ha, &c);
        let missing = [MissingKind {
            kind: "Pod".into(),
            error: "HTTP 403 Forbidden: pods is forbidden".into(),
        }];
        let ev = evaluate(
            &c,
            &Exceptions::default(),
            &Scope {
                profile: Profile::Generic,
                topology: &topology,
                namespaces: None,
                today: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
                now: crate::checks::testing::now(),
                missing: &missing,
                not_served: &[],
                held: None,
            },
        );
        let by = |check: &str| {
            ev.tests
                .iter()
                .find(|t| t.check == check && t.namespace.as_deref() == Some("b"))
                .unwrap()
        };
        let crash = by("health/crashloop");
        assert_eq!(crash.outcome, Outcome::Skip);
        assert_eq!(
            crash.note.as_deref(),
            Some("not evaluated: could not list Pod (HTTP 403 Forbidden: pods is forbidden)")
        );
        assert_eq!(
            by("ha/probes").outcome,
            Outcome::Pass,
            "checks not reading pods still run"
        );
        // Endpoints need EndpointSlices or Endpoints: losing one of the two is fine.
        let only_slices = [MissingKind {
            kind: "EndpointSlice".into(),
            error: "x".into(),
        }];
        let endpoints = crate::checks::find("health/endpoints").unwrap().info();
        assert!(ne(endpoints, &only_slices, &[], None).is_none());
        // Losing one and the cluster not serving the other: still blind.
        assert_eq!(
            ne(endpoints, &only_slices, &["Endpoints".into()], None).as_deref(),
            Some("not evaluated: could not list EndpointSlice (x)")
        );
    }

    #[test]
    fn kinds_the_cluster_does_not_serve() {
        let pdb_rules = crate::checks::find("ha/pdb-eviction-policy")
            .unwrap()
            .info();
        assert_eq!(
            ne(pdb_rules, &[], &["PodDisruptionBudget".into()], None).as_deref(),
            Some("not applicable: this cluster does not serve PodDisruptionBudget")
        );
        // No HPA API means no HPA: the replica rules still apply.
        let replicas = crate::checks::find("ha/replicas").unwrap().info();
        assert!(ne(replicas, &[], &["HorizontalPodAutoscaler".into()], None).is_none());
        assert!(ne(replicas, &[], &["Infrastructure".into()], None).is_none());
    }

    fn ne(
        info: &CheckInfo,
        missing: &[MissingKind],
        not_served: &[String],
        held: Option<&std::collections::BTreeSet<String>>,
    ) -> Option<String> {
        let topology = Topology {
            single_node: false,
            source: String::new(),
        };
        not_evaluated(
            info,
            &Scope {
                profile: Profile::Generic,
                topology: &topology,
                namespaces: None,
                today: NaiveDate::MIN,
                now: chrono::Utc::now(),
                missing,
                not_served,
                held,
            },
        )
    }

    #[test]
    fn a_check_whose_kinds_the_input_lacks_has_not_looked() {
        let held = |kinds: &[&str]| -> std::collections::BTreeSet<String> {
            kinds.iter().map(|k| k.to_string()).collect()
        };
        let info = |id| crate::checks::find(id).unwrap().info();
        // Only Namespaces: nothing about pods, workloads or nodes.
        let ns_only = held(&["Namespace"]);
        assert_eq!(
            ne(info("health/crashloop"), &[], &[], Some(&ns_only)).as_deref(),
            Some("not evaluated: the input holds no Pod")
        );
        assert_eq!(
            ne(info("ha/replicas"), &[], &[], Some(&ns_only)).as_deref(),
            Some("not evaluated: the input holds no Deployment or StatefulSet")
        );
        assert_eq!(
            ne(info("health/nodes"), &[], &[], Some(&ns_only)).as_deref(),
            Some("not evaluated: the input holds no Node")
        );
        assert!(ne(info("ha/run-level"), &[], &[], Some(&ns_only)).is_none());
        // Any workload kind stands for the workloads: a cluster without
        // StatefulSets still has its Deployments judged; HPAs and
        // ReplicaSets are not needed to look.
        let some = held(&["Deployment", "Pod", "Node"]);
        assert!(ne(info("ha/replicas"), &[], &[], Some(&some)).is_none());
        assert!(ne(info("ha/spread"), &[], &[], Some(&some)).is_none());
        assert_eq!(
            ne(info("ha/pdb"), &[], &[], Some(&some)).as_deref(),
            Some("not evaluated: the input holds no PodDisruptionBudget")
        );
        // Endpoints: a Service and either kind of endpoints.
        let svc = held(&["Service", "EndpointSlice", "Pod", "Deployment"]);
        assert!(ne(info("health/endpoints"), &[], &[], Some(&svc)).is_none());
        assert_eq!(
            lacking(&held(&["Pod"]), &[], &[], Profile::Generic)
                .iter()
                .take(3)
                .collect::<Vec<_>>(),
            [&"DaemonSet", &"Deployment", &"EndpointSlice"]
        );
    }
}
