//! End-to-end tests of `vigil run` on the project's own testdata, through the
//! real binary: exit codes, the JUnit Sippy reads, and the error paths.

mod common;

use common::*;
use std::io::Write;

const HA: &str = "testdata/states/ha-cluster";
const SINGLE: &str = "testdata/states/single-node";
const DEMO_EX: &str = "testdata/exceptions/demo";
const OPENSHIFT: &str = "testdata/states/openshift-platform";

fn run_to_junit(args: &[&str]) -> (std::process::Output, Vec<Suite>) {
    let dir = tempfile::tempdir().unwrap();
    let mut all: Vec<&str> = args.to_vec();
    let d = dir.path().to_str().unwrap().to_owned();
    all.extend(["--junit-dir", &d, "--now", NOW]);
    let out = vigil(&all);
    let xml = std::fs::read_to_string(junit_file(dir.path())).unwrap();
    (out, parse_junit(&xml))
}

fn outcome<'a>(outcomes: &'a [(String, &'static str)], needle: &str) -> &'a str {
    let hits: Vec<_> = outcomes
        .iter()
        .filter(|(n, _)| n.contains(needle))
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "exactly one test matches {needle:?}: {hits:?}"
    );
    hits[0].1
}

#[test]
fn demo_cluster_pass_flake_fail() {
    let (out, suites) = run_to_junit(&["run", "--from", HA, "--exceptions", DEMO_EX]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(suites.len(), 1);
    let suite = &suites[0];
    assert_eq!(suite.name, "Symptom Detection");
    assert_flakes_are_adjacent_pairs(suite);
    let o = sippy_outcomes(suite);
    // 23 namespaced checks x 5 namespaces, the cluster-scoped nodes test,
    // and vigil's own four tests.
    assert_eq!(o.len(), 120);
    assert_eq!(outcome(&o, "run should complete"), "pass");
    assert_eq!(outcome(&o, "cluster state should be collected"), "pass");
    assert_eq!(outcome(&o, "exceptions should be valid"), "pass");
    // A ticket flakes; the ledger's allow passes (but is listed).
    assert_eq!(
        outcome(
            &o,
            "[Jira:\"Billing\"] workloads in ns/billing should have at least two replicas"
        ),
        "flake"
    );
    assert_eq!(
        outcome(&o, "ns/billing should use a rolling update strategy"),
        "flake"
    );
    // The expired ticket fails, together with the other blocking PDBs.
    assert_eq!(outcome(&o, "[Jira:\"Payments\"] pod disruption budgets in ns/payments should allow at least one voluntary disruption"), "fail");
    // Namespaces owners.yaml does not name carry no tag (never "Unknown").
    assert_eq!(outcome(&o, "[Monitor:ha-compliance] workloads in ns/catalog should run their pods on more than one node"), "fail");
    assert!(o.iter().all(|(n, _)| !n.contains("Unknown")));
    // The healthy namespace passes everything.
    assert!(o
        .iter()
        .filter(|(n, _)| n.contains("ns/storefront "))
        .all(|(_, r)| matches!(*r, "pass" | "skip")));
    assert_eq!(
        o.iter()
            .filter(|(n, _)| n.contains("ns/storefront "))
            .count(),
        23
    );
    // Informing tests are marked, both halves.
    let informing: Vec<_> = suite
        .cases
        .iter()
        .filter(|c| c.lifecycle.as_deref() == Some("informing"))
        .collect();
    assert_eq!(
        informing.len(),
        5,
        "one per namespace; payments' fails, without blocking"
    );
    assert_eq!(
        outcome(&o, "ns/payments should allow eviction of unhealthy pods"),
        "fail"
    );
    assert!(informing
        .iter()
        .all(|c| c.name.contains("should allow eviction of unhealthy pods")));

    let replicas = suite
        .cases
        .iter()
        .find(|c| {
            c.name
                .contains("ns/billing should have at least two replicas")
                && c.failure.is_some()
        })
        .unwrap();
    let (message, body) = replicas.failure.clone().unwrap();
    assert_eq!(
        message,
        "Deployment/invoicer: spec.replicas=1, want >= 2 [BILL-101]"
    );
    assert!(
        body.starts_with("FLAKE Deployment/invoicer: spec.replicas=1, want >= 2  [BILL-101: "),
        "{body}"
    );
    let allowed = replicas.system_out.clone().unwrap();
    assert!(allowed.contains("ALLOWED StatefulSet/ledger: spec.replicas=1, want >= 2  [allowed: the ledger is a single writer"), "{allowed}");

    let pdb = suite
        .cases
        .iter()
        .find(|c| {
            c.name
                .contains("ns/payments should allow at least one voluntary disruption")
        })
        .unwrap();
    let (message, body) = pdb.failure.clone().unwrap();
    assert!(
        message.starts_with("3 violations; first: PodDisruptionBudget/"),
        "{message}"
    );
    assert!(
        body.contains(
            "exception PAY-7 expired on 2025-01-31 (testdata/exceptions/demo/payments.yaml:4)"
        ),
        "{body}"
    );

    let text = stdout(&out);
    assert!(text.contains("Stale exceptions"), "{text}");
    assert!(text.contains("testdata/exceptions/demo/payments.yaml:10  ha/probes ns/payments Deployment/old-api  PAY-9"), "{text}");
    assert!(
        text.contains(
            "120 tests in 5 namespaces: 94 passed, 2 flaked, 9 failed (1 informing, not blocking), 15 skipped"
        ),
        "{text}"
    );
}

#[test]
fn healthy_namespace_exits_zero() {
    let (out, suites) = run_to_junit(&[
        "run",
        "--from",
        HA,
        "--exceptions",
        DEMO_EX,
        "--namespace",
        "storefront",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let o = sippy_outcomes(&suites[0]);
    assert_eq!(o.len(), 28);
    assert!(
        o.iter().all(|(_, r)| matches!(*r, "pass" | "skip")),
        "{o:?}"
    );
}

#[test]
fn flakes_alone_exit_zero() {
    let (out, suites) = run_to_junit(&[
        "run",
        "--from",
        HA,
        "--exceptions",
        DEMO_EX,
        "--namespace",
        "billing",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let o = sippy_outcomes(&suites[0]);
    assert_eq!(o.iter().filter(|(_, r)| *r == "flake").count(), 2);
    assert!(!o.iter().any(|(_, r)| *r == "fail"));
}

#[test]
fn single_node_cluster_exempts_multi_node_rules() {
    let (out, suites) = run_to_junit(&["run", "--from", SINGLE]);
    assert_eq!(out.status.code(), Some(1));
    let suite = &suites[0];
    let o = sippy_outcomes(suite);
    for multi in [
        "should have at least two replicas",
        "should be covered by a pod disruption budget",
        "should spread replicas across nodes",
        "should run their pods on more than one node",
    ] {
        // Not applicable is not a pass: Sippy must not count it as a run.
        assert_eq!(outcome(&o, multi), "skip", "{multi}");
        let case = suite.cases.iter().find(|c| c.name.contains(multi)).unwrap();
        assert!(
            case.skipped.as_deref().unwrap().contains(
                "not applicable: a multi-node rule on a single-node cluster (the cluster has 1 node)"
            ),
            "{case:?}"
        );
    }
    assert_eq!(
        outcome(&o, "should have readiness and liveness probes"),
        "fail"
    );
    assert!(stdout(&out).contains("topology SingleReplica (the cluster has 1 node)"));

    // --topology ha overrides the node count.
    let (_, suites) = run_to_junit(&["run", "--from", SINGLE, "--topology", "ha"]);
    assert_eq!(
        outcome(
            &sippy_outcomes(&suites[0]),
            "should have at least two replicas"
        ),
        "fail"
    );
}

#[test]
fn openshift_profile_adds_its_conventions_in_platform_namespaces() {
    // The fixture holds OpenShift's Infrastructure: `--profile auto` picks openshift.
    let (out, suites) = run_to_junit(&["run", "--from", OPENSHIFT]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let o = sippy_outcomes(&suites[0]);
    let generic = run_to_junit(&["run", "--from", OPENSHIFT, "--profile", "generic"]).1;
    let g = sippy_outcomes(&generic[0]);
    // dns-default is paced by one node: the conventions want 10% or 33%.
    assert_eq!(
        outcome(&g, "ns/openshift-dns should use a rolling update strategy"),
        "pass"
    );
    assert_eq!(
        outcome(&o, "ns/openshift-dns should use a rolling update strategy"),
        "fail"
    );
    // A user's namespace: no convention applies (tolerations are not even
    // judged there; limits and a team priority class are the team's choice).
    assert_eq!(
        outcome(
            &o,
            "ns/team-a should tolerate only the taints their role allows"
        ),
        "skip"
    );
    assert_eq!(
        outcome(&o, "ns/team-a should request CPU and memory"),
        "pass"
    );
    assert_eq!(outcome(&o, "ns/team-a should set a priority class"), "pass");
}

#[test]
fn openshift_fixture_what_real_must_gathers_taught() {
    let (out, suites) = run_to_junit(&["run", "--from", OPENSHIFT, "-o", "json"]);
    let o = sippy_outcomes(&suites[0]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let details = |check: &str, ns: &str| -> Vec<String> {
        report["tests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["check"] == check && t["namespace"] == ns)
            .flat_map(|t| t["findings"].as_array().unwrap().iter())
            .map(|f| {
                format!(
                    "{}/{}: {}",
                    f["kind"].as_str().unwrap(),
                    f["name"].as_str().unwrap(),
                    f["detail"].as_str().unwrap()
                )
            })
            .collect()
    };
    // A DaemonSet pinned to the control plane: origin's test skips it.
    assert_eq!(
        outcome(
            &o,
            "ns/openshift-multus should use a rolling update strategy"
        ),
        "pass"
    );
    // An integer maxUnavailable covering all three masters.
    assert_eq!(
        outcome(
            &o,
            "ns/openshift-controller-manager should use a rolling update strategy"
        ),
        "fail"
    );
    // 2 replicas, hard anti-affinity, two workers, maxUnavailable 25% (0 of 2): wedged.
    assert!(
        details("ha/rollout-strategy", "openshift-console")[0].contains("a rollout cannot start")
    );
    // The router's maxUnavailable 50% removes a pod first: it can roll ...
    assert!(details("ha/rollout-strategy", "openshift-ingress").is_empty());
    // ... and its old replica still terminating is not "rolled out".
    assert_eq!(
        details("health/rollout", "openshift-ingress"),
        ["Deployment/router-default: 1 old replica still terminating (status.replicas=3, updatedReplicas=2)"]
    );
    // run-level "" exempts nothing.
    assert_eq!(outcome(&o, "ns/openshift-insights should grant the run-level exemption only to platform namespaces"), "pass");
    // A DoNotSchedule hostname spread is hard; a complete partitioned rollout is complete.
    assert_eq!(
        outcome(
            &o,
            "ns/openshift-monitoring should spread replicas across nodes by pod anti-affinity"
        ),
        "pass"
    );
    assert_eq!(
        outcome(&o, "ns/openshift-monitoring should be fully rolled out"),
        "pass"
    );
    // The network operator's not-ready and network-unavailable tolerations
    // pass under the shipped exception; its unschedulable one still fails.
    assert_eq!(
        details("ha/tolerations", "openshift-network-operator").len(),
        3,
        "{:?}",
        details("ha/tolerations", "openshift-network-operator")
    );
    assert_eq!(
        outcome(
            &o,
            "ns/openshift-network-operator should tolerate only the taints their role allows"
        ),
        "fail"
    );
    // A static pod unready for two hours: owned by its Node, judged all the same.
    assert_eq!(
        details("health/not-ready", "openshift-etcd"),
        ["Node/master-0: Ready=False (ContainersNotReady: containers with unready status: [etcd]) for 2h"]
    );
    // The HPA's floor, not today's scale.
    assert_eq!(
        outcome(&o, "ns/team-a should have at least two replicas"),
        "fail"
    );
    // A namespace stuck terminating fails; its objects are not judged.
    assert_eq!(
        outcome(
            &o,
            "ns/openshift-old-operator should not be stuck terminating"
        ),
        "fail"
    );
    assert_eq!(
        outcome(
            &o,
            "ns/openshift-old-operator should have at least two replicas"
        ),
        "skip"
    );
}

#[test]
fn malformed_state_still_writes_junit_naming_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("half-written.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: \"unterminated\n",
    )
    .unwrap();
    let junit = dir.path().join("junit");
    let out = vigil(&[
        "run",
        "--from",
        bad.to_str().unwrap(),
        "--junit-dir",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:", bad.display())), "{err}");
    assert!(
        err.contains(":5:") || err.contains(":6:"),
        "line named: {err}"
    );
    let suites = parse_junit(&std::fs::read_to_string(junit_file(&junit)).unwrap());
    let o = sippy_outcomes(&suites[0]);
    assert_eq!(
        o,
        [
            ("[Monitor:vigil] run should complete".to_owned(), "pass"),
            (
                "[Monitor:vigil] cluster should be reachable".to_owned(),
                "pass"
            ),
            (
                "[Monitor:vigil] cluster state should be collected".to_owned(),
                "fail"
            ),
            (
                "[Monitor:vigil] exceptions should be valid".to_owned(),
                "pass"
            ),
        ]
    );
}

#[test]
fn missing_input_is_a_clear_error() {
    let out = vigil(&["run", "--from", "testdata/does-not-exist", "--no-junit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("testdata/does-not-exist: cannot read: No such file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn invalid_exceptions_are_reported_all_at_once() {
    let ex = tempfile::tempdir().unwrap();
    std::fs::write(
        ex.path().join("team.yaml"),
        "component: Team\nnamespaces: [billing]\nexceptions:\n  - check: ha/replica\n    jira: BILL-1\n  - check: ha/probes\n    jira: TODO\n",
    )
    .unwrap();
    let junit = tempfile::tempdir().unwrap();
    let out = vigil(&[
        "run",
        "--from",
        HA,
        "--exceptions",
        ex.path().to_str().unwrap(),
        "--junit-dir",
        junit.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let file = ex.path().join("team.yaml");
    assert!(err.contains(&format!("{}:4:", file.display())), "{err}");
    assert!(err.contains("did you mean `ha/replicas`?"), "{err}");
    assert!(err.contains(&format!("{}:7:", file.display())), "{err}");
    assert!(err.contains("not a Jira key or issue URL"), "{err}");
    let o = sippy_outcomes(
        &parse_junit(&std::fs::read_to_string(junit_file(junit.path())).unwrap())[0],
    );
    assert_eq!(
        o.len(),
        4,
        "no check is judged against a broken exception list"
    );
    assert_eq!(outcome(&o, "exceptions should be valid"), "fail");
    assert_eq!(outcome(&o, "cluster state should be collected"), "pass");
}

#[test]
fn explicit_exceptions_dir_must_exist() {
    let out = vigil(&[
        "run",
        "--from",
        HA,
        "--exceptions",
        "testdata/nope",
        "--no-junit",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("exceptions directory not found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn gzip_input_reads_like_plain() {
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(HA).unwrap() {
        let p = f.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        let name = format!("{}.gz", p.file_name().unwrap().to_str().unwrap());
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(dir.path().join(name)).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(&data).unwrap();
        gz.finish().unwrap();
    }
    let plain = run_to_junit(&["run", "--from", HA, "--exceptions", DEMO_EX]).1;
    let gz = run_to_junit(&[
        "run",
        "--from",
        dir.path().to_str().unwrap(),
        "--exceptions",
        DEMO_EX,
    ])
    .1;
    assert_eq!(plain[0].cases, gz[0].cases);
}

/// A miniature must-gather: pods listed twice, a secrets file that would not
/// even parse (proving it is never opened), an image directory level.
#[test]
fn must_gather_layout_dedupes_pods_and_skips_secrets() {
    let root = tempfile::tempdir().unwrap();
    let mg = root.path().join("quay-io-example-must-gather-sha256-0000");
    let ns = mg.join("namespaces/shop");
    for d in ["core", "apps", "policy", "pods/web-1"] {
        std::fs::create_dir_all(ns.join(d)).unwrap();
    }
    std::fs::create_dir_all(mg.join("cluster-scoped-resources/core/nodes")).unwrap();
    std::fs::create_dir_all(mg.join("cluster-scoped-resources/config.openshift.io")).unwrap();
    std::fs::write(
        root.path().join("timestamp"),
        "2026-11-21 10:00:00.0 +0000 UTC m=+0.1\n",
    )
    .unwrap();
    std::fs::write(
        ns.join("shop.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    )
    .unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: shop, uid: u-1, labels: {app: web}, ownerReferences: [{kind: StatefulSet, name: web, controller: true}]}\nspec: {nodeName: n1}\nstatus: {phase: Running}\n";
    std::fs::write(
        ns.join("core/pods.yaml"),
        format!(
            "apiVersion: v1\nkind: PodList\nitems:\n- {}\n",
            pod.replace('\n', "\n  ").trim_end()
        ),
    )
    .unwrap();
    std::fs::write(ns.join("pods/web-1/web-1.yaml"), pod).unwrap();
    std::fs::write(ns.join("core/secrets.yaml"), "this: is: not: yaml: [").unwrap();
    std::fs::write(ns.join("core/configmaps.yaml"), "{{{{").unwrap();
    std::fs::write(
        ns.join("apps/statefulsets.yaml"),
        "apiVersion: apps/v1\nkind: StatefulSetList\nitems:\n- kind: StatefulSet\n  metadata: {name: web, namespace: shop}\n  spec: {replicas: 2, template: {metadata: {labels: {app: web}}}}\n",
    )
    .unwrap();
    for n in ["n1", "n2"] {
        std::fs::write(
            mg.join(format!("cluster-scoped-resources/core/nodes/{n}.yaml")),
            format!("apiVersion: v1\nkind: Node\nmetadata: {{name: {n}}}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        mg.join("cluster-scoped-resources/config.openshift.io/infrastructures.yaml"),
        "apiVersion: config.openshift.io/v1\nkind: InfrastructureList\nitems:\n- kind: Infrastructure\n  metadata: {name: cluster}\n  status: {infrastructureTopology: HighlyAvailable}\n",
    )
    .unwrap();
    let out = vigil(&[
        "run",
        "--from",
        root.path().to_str().unwrap(),
        "--no-junit",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        json["topology"]["source"],
        "Infrastructure/cluster says infrastructureTopology=HighlyAvailable"
    );
    assert_eq!(json["now"], "2026-11-21T10:00:00Z");
    assert_eq!(json["now_source"], "must-gather timestamp");
    let spread = json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["check"] == "ha/spread")
        .unwrap();
    // One running pod, counted once although the must-gather lists it twice.
    assert_eq!(
        spread["findings"][0]["detail"],
        "1 of 2 replicas running, on node n1; want pods on >= 2 nodes"
    );
}

#[test]
fn refuses_to_read_a_secrets_file_named_directly() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("secrets.yaml");
    std::fs::write(&f, "kind: List\nitems: []\n").unwrap();
    let out = vigil(&["run", "--from", f.to_str().unwrap(), "--no-junit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("refusing to read Secrets or ConfigMaps"));
}

#[test]
fn hostile_text_still_yields_parseable_junit() {
    let dir = tempfile::tempdir().unwrap();
    // Control characters, an ANSI colour, CDATA terminators, quotes, markup,
    // XML non-characters and mojibake that looks like broken UTF-8.
    let nasty = r#"evil\u0001\u001b[31m]]>\"'<&>\uFFFE\uFFFFÃ(\u00a0😀"#;
    let state = format!(
        "kind: List\nitems:\n- kind: Deployment\n  metadata: {{name: \"{nasty}\", namespace: \"ns\"}}\n  spec: {{replicas: 1}}\n"
    );
    std::fs::write(dir.path().join("state.yaml"), state).unwrap();
    let suite_name = "suite \"with\" <markup> & ]]> \u{1}";
    let (out, suites) = run_to_junit(&[
        "run",
        "--from",
        dir.path().to_str().unwrap(),
        "--suite-name",
        suite_name,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(suites[0].name, "suite \"with\" <markup> & ]]> ");
    assert_flakes_are_adjacent_pairs(&suites[0]);
    let case = suites[0]
        .cases
        .iter()
        .find(|c| c.name.contains("at least two replicas"))
        .unwrap();
    let (message, body) = case.failure.clone().unwrap();
    assert_eq!(
        message,
        "Deployment/evil]]>\"'<&>Ã(\u{a0}😀: spec.replicas=1, want >= 2"
    );
    assert!(
        body.contains("FAIL  Deployment/evil]]>\"'<&>Ã(\u{a0}😀: spec.replicas=1"),
        "{body:?}"
    );
}

#[test]
fn readme_documents_every_check() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let out = vigil(&["checks", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let checks: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let checks = checks.as_array().unwrap();
    assert_eq!(checks.len(), 28);
    for c in checks {
        let id = c["id"].as_str().unwrap();
        assert!(
            readme.contains(&format!("| `{id}` |")),
            "README's check table lacks {id}"
        );
    }
}

#[test]
fn checks_text_lists_ids_and_modes() {
    let out = vigil(&["checks"]);
    let text = stdout(&out);
    assert!(
        text.contains(
            "ha/pdb-eviction-policy  [ha-compliance] mode blocking · lifecycle informing"
        ),
        "{text}"
    );
    assert!(
        text.contains("ha/replicas  [ha-compliance] mode blocking · lifecycle blocking · skipped on single-node clusters"),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_two() {
    let conflicting = vigil(&["run", "--from", HA, "--no-junit", "--junit-dir", "x"]);
    assert_eq!(
        conflicting.status.code(),
        Some(2),
        "clap's usage errors exit 2"
    );
    let no_cluster = vigil(&[
        "run",
        "--kubeconfig",
        "testdata/no-such-kubeconfig",
        "--no-junit",
    ]);
    // A missing kubeconfig is a configuration error, not an unreachable cluster.
    assert_eq!(no_cluster.status.code(), Some(2), "{}", stderr(&no_cluster));
    assert!(
        stderr(&no_cluster).contains("kubeconfig testdata/no-such-kubeconfig: cannot read"),
        "{}",
        stderr(&no_cluster)
    );
    let bad_regex = vigil(&["run", "--from", HA, "--namespace", "(", "--no-junit"]);
    assert_eq!(bad_regex.status.code(), Some(2));
    assert!(stderr(&bad_regex).contains("'--namespace <REGEX>': not a valid regex"));
    let bad_now = vigil(&["run", "--from", HA, "--now", "yesterday", "--no-junit"]);
    assert_eq!(bad_now.status.code(), Some(2));
    assert!(stderr(&bad_now).contains("not an RFC 3339 time"));
}

#[test]
fn now_defaults_to_the_newest_time_in_the_state() {
    let out = vigil(&[
        "run",
        "--from",
        "testdata/states/broken-infra",
        "--no-junit",
        "-o",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    // The broker's last crash finished at 11:57:02; the BackOff event was last seen at 11:57:30.
    assert_eq!(json["now"], "2026-11-21T11:57:30Z");
    assert_eq!(json["now_source"], "newest timestamp in the state");
    let with_flag = vigil(&[
        "run",
        "--from",
        "testdata/states/broken-infra",
        "--no-junit",
        "--now",
        NOW,
    ]);
    assert!(stdout(&with_flag).contains("state at 2026-11-21T12:00:00Z (--now)"));
}

/// The outage that motivated the infra-health checks: each part of it is a
/// red test of its own.
#[test]
fn broken_infra_is_red_where_it_is_broken() {
    let (out, suites) = run_to_junit(&["run", "--from", "testdata/states/broken-infra"]);
    assert_eq!(out.status.code(), Some(1));
    let o = sippy_outcomes(&suites[0]);
    for (test, want) in [
        (
            "infra-health] pods in ns/ci-infra should not be crash-looping",
            "fail",
        ),
        (
            "infra-health] workloads in ns/ci-infra should be fully rolled out",
            "fail",
        ),
        (
            "infra-health] workloads in ns/ci-tools should be fully rolled out",
            "fail",
        ),
        (
            "infra-health] services in ns/ci-infra should have ready endpoints",
            "fail",
        ),
        (
            "infra-health] events in ns/ci-infra should not repeat warnings",
            "fail",
        ),
        (
            "infra-health] events in ns/ci-tools should not repeat warnings",
            "flake",
        ),
        (
            "infra-health] pods in ns/ci-tools should not be killed for running out of memory",
            "flake",
        ),
        (
            "infra-health][Jira:\"Node / Kubelet\"] nodes should be ready",
            "fail",
        ),
        (
            "infra-health] pods in ns/ci-infra should pull their images",
            "pass",
        ),
    ] {
        assert_eq!(outcome(&o, test), want, "{test}");
    }
    let rollout = suites[0]
        .cases
        .iter()
        .find(|c| c.name.contains("ns/ci-infra should be fully rolled out"))
        .unwrap();
    let (message, _) = rollout.failure.clone().unwrap();
    assert!(
        message.contains("1 pod on stale revision resource-broker-6d9f8b7c5 (resource-broker-0), want resource-broker-7f4c9d2e1"),
        "{message}"
    );
}

#[test]
fn health_findings_take_exceptions_and_thresholds_from_policy() {
    let ex = tempfile::tempdir().unwrap();
    std::fs::write(
        ex.path().join("policy.yaml"),
        "checks:\n  health/restarts:\n    thresholds: {flake-at: 200, fail-above: 400}\n",
    )
    .unwrap();
    std::fs::write(
        ex.path().join("ci.yaml"),
        "component: CI Infrastructure\nnamespaces: [ci-infra, ci-tools]\nexceptions:\n  - check: health/crashloop\n    namespace: ci-infra\n    object: StatefulSet/resource-broker\n    jira: DPTP-4242\n",
    )
    .unwrap();
    let (_, suites) = run_to_junit(&[
        "run",
        "--from",
        "testdata/states/broken-infra",
        "--exceptions",
        ex.path().to_str().unwrap(),
    ]);
    let o = sippy_outcomes(&suites[0]);
    assert_eq!(
        outcome(
            &o,
            "[Monitor:infra-health] pods in ns/ci-infra should not be crash-looping"
        ),
        "flake"
    );
    assert_eq!(
        outcome(&o, "pods in ns/ci-infra should not restart repeatedly"),
        "pass",
        "108 < flake-at 200"
    );
    assert_eq!(
        outcome(&o, "pods in ns/ci-tools should not restart repeatedly"),
        "pass"
    );
}

/// Judges the HA state under a policy setting `key: value` for every check.
fn run_with_policy_for_all(setting: &str) -> (std::process::Output, Vec<Suite>) {
    let ex = tempfile::tempdir().unwrap();
    let out = vigil(&["checks", "-o", "json"]);
    let checks: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mut text = String::from("checks:\n");
    for c in checks.as_array().unwrap() {
        text.push_str(&format!("  {}: {{{setting}}}\n", c["id"].as_str().unwrap()));
    }
    std::fs::write(ex.path().join("policy.yaml"), text).unwrap();
    run_to_junit(&[
        "run",
        "--from",
        HA,
        "--exceptions",
        ex.path().to_str().unwrap(),
    ])
}

#[test]
fn informing_failures_are_failures_that_never_decide_the_exit_status() {
    let (out, suites) = run_with_policy_for_all("lifecycle: informing");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let suite = &suites[0];
    let failing: Vec<_> = suite.cases.iter().filter(|c| c.failure.is_some()).collect();
    assert!(
        failing.len() >= 8,
        "failures stay failures: {}",
        failing.len()
    );
    assert!(failing
        .iter()
        .all(|c| c.lifecycle.as_deref() == Some("informing")));
    assert!(stdout(&out).contains("not blocking"), "{}", stdout(&out));
}

#[test]
fn flake_only_turns_every_violation_into_a_flake_for_a_rollout() {
    let (out, suites) = run_with_policy_for_all("mode: flake-only");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let o = sippy_outcomes(&suites[0]);
    assert!(o.iter().all(|(_, r)| *r != "fail"), "{o:?}");
    assert_eq!(
        outcome(
            &o,
            "ns/catalog should be covered by a pod disruption budget"
        ),
        "flake"
    );
    // The mode does not touch the lifecycle: only the informing-by-default check is informing.
    assert!(suites[0]
        .cases
        .iter()
        .all(|c| c.lifecycle.is_none() != c.name.contains("eviction of unhealthy pods")));
    let body = &suites[0]
        .cases
        .iter()
        .find(|c| c.name.contains("ns/catalog should be covered") && c.failure.is_some())
        .unwrap()
        .failure
        .as_ref()
        .unwrap()
        .1;
    assert!(body.contains("is flake-only while it rolls out"), "{body}");
}

#[test]
fn a_snapshot_of_files_replays_at_the_time_the_files_describe() {
    let d = tempfile::tempdir().unwrap();
    let snap = d.path().join("state.json.gz");
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--no-junit", "-o", "json"]);
        serde_json::from_str(&stdout(&vigil(&all))).unwrap()
    };
    let first = json(&[
        "run",
        "--from",
        "testdata/states/broken-infra",
        "--save-snapshot",
        snap.to_str().unwrap(),
    ]);
    let replay = json(&["run", "--from", snap.to_str().unwrap()]);
    assert_eq!(first["now"], "2026-11-21T11:57:30Z");
    assert_eq!(
        replay["now"], first["now"],
        "not the wall clock of the first run"
    );
    assert_eq!(replay["now_source"], "collection time");
    assert_eq!(
        replay["tests"], first["tests"],
        "ages, and so verdicts, are the same"
    );
}

#[test]
fn duplicates_keep_the_newest_copy_and_say_so() {
    let (out, suites) = run_to_junit(&["run", "--from", "testdata/states/duplicates"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let suite = &suites[0];
    let o = sippy_outcomes(suite);
    // The later capture shows both containers crash-looping.
    assert_eq!(
        outcome(&o, "pods in ns/shop should not be crash-looping"),
        "fail"
    );
    let crash = suite
        .cases
        .iter()
        .find(|c| {
            c.name
                .contains("pods in ns/shop should not be crash-looping")
        })
        .unwrap();
    let body = &crash.failure.as_ref().unwrap().1;
    assert!(
        body.contains("container worker") && body.contains("container uploader"),
        "{body}"
    );
    // The Deployment at resourceVersion 260 (1 replica) wins over 100 (3), wherever it is listed.
    let replicas = suite
        .cases
        .iter()
        .find(|c| c.name.contains("ns/shop should have at least two replicas"))
        .unwrap();
    assert!(
        replicas
            .failure
            .as_ref()
            .unwrap()
            .1
            .contains("Deployment/cart: spec.replicas=1"),
        "{replicas:?}"
    );
    let collected = suite
        .cases
        .iter()
        .find(|c| c.name.contains("state should be collected"))
        .unwrap();
    let note = collected.system_out.as_deref().unwrap();
    assert!(note.starts_with("3 copies of objects read more than once differed; the newest copy of each object was judged"), "{note}");
    assert!(note.contains("Pod shop/worker-0: resourceVersion 120 in testdata/states/duplicates/1-earlier.yaml, resourceVersion 250 in testdata/states/duplicates/2-later.yaml; the second is judged"), "{note}");
}

#[test]
fn in_a_manifest_the_last_copy_wins_as_kubectl_apply_leaves_it() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("manifest.yaml");
    std::fs::write(
        &f,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {replicas: 3, template: {spec: {containers: [{name: c}]}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {replicas: 1, template: {spec: {containers: [{name: c}]}}}\n",
    )
    .unwrap();
    let (_, suites) = run_to_junit(&["run", "--from", f.to_str().unwrap()]);
    let case = suites[0]
        .cases
        .iter()
        .find(|c| c.name.contains("ns/shop should have at least two replicas"))
        .unwrap();
    assert!(
        case.failure.as_ref().unwrap().1.contains("spec.replicas=1"),
        "{case:?}"
    );
}

#[test]
fn workload_kinds_without_rules_are_listed_as_not_judged() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("legacy.yaml");
    std::fs::write(
        &f,
        "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {name: legacy-app, namespace: shop}\nspec: {replicas: 1}\n---\napiVersion: v1\nkind: ReplicationController\nmetadata: {name: old-rc, namespace: shop}\n---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: bare-rs, namespace: shop}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: canary, namespace: shop}\n",
    )
    .unwrap();
    let out = vigil(&["run", "--no-junit", "--from", f.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(text.contains("Not judged by the HA rules"), "{text}");
    assert!(
        text.contains("1 DeploymentConfig: shop/legacy-app"),
        "{text}"
    );
    assert!(
        text.contains("1 ReplicationController: shop/old-rc"),
        "{text}"
    );
    assert!(text.contains("1 ReplicaSet: shop/bare-rs"), "{text}");
    assert!(text.contains("1 Rollout: shop/canary"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&vigil(&[
        "run",
        "--no-junit",
        "-o",
        "json",
        "--from",
        f.to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(json["not_judged"].as_array().unwrap().len(), 4);
    assert_eq!(json["not_judged"][0]["kind"], "DeploymentConfig");
}

#[test]
fn openshift_health_signals_one_test_per_operator_pool_and_version() {
    let (out, suites) = run_to_junit(&["run", "--from", OPENSHIFT]);
    assert_eq!(out.status.code(), Some(1));
    let o = sippy_outcomes(&suites[0]);
    // Tagged with the component owners.yaml's `operators:` names.
    assert_eq!(
        outcome(&o, "[Monitor:infra-health][Jira:\"kube-apiserver\"] clusteroperator/kube-apiserver should be available and not degraded"),
        "fail"
    );
    assert_eq!(
        outcome(
            &o,
            "clusteroperator/dns should be available and not degraded"
        ),
        "fail"
    );
    assert_eq!(
        outcome(
            &o,
            "clusteroperator/network should be available and not degraded"
        ),
        "flake"
    );
    assert_eq!(
        outcome(
            &o,
            "clusteroperator/etcd should be available and not degraded"
        ),
        "pass"
    );
    assert_eq!(
        outcome(&o, "[Jira:\"Cluster Version Operator\"] clusterversion/version should run its release without failing"),
        "fail"
    );
    assert_eq!(
        outcome(
            &o,
            "machineconfigpool/worker should have every machine on its configuration"
        ),
        "fail"
    );
    assert_eq!(
        outcome(
            &o,
            "machineconfigpool/master should have every machine on its configuration"
        ),
        "pass"
    );

    // A Jira-linked exception flakes an operator, as on any other test.
    let ex = tempfile::tempdir().unwrap();
    std::fs::write(
        ex.path().join("dns.yaml"),
        "component: Networking / DNS\nnamespaces: [openshift-dns]\nexceptions:\n  - check: health/cluster-operators\n    object: ClusterOperator/dns\n    jira: OCPBUGS-4242\n",
    )
    .unwrap();
    let (_, suites) = run_to_junit(&[
        "run",
        "--from",
        OPENSHIFT,
        "--exceptions",
        ex.path().to_str().unwrap(),
    ]);
    let o = sippy_outcomes(&suites[0]);
    assert_eq!(
        outcome(
            &o,
            "clusteroperator/dns should be available and not degraded"
        ),
        "flake"
    );

    // Not OpenShift: not applicable, and not news in the summary.
    let (out, suites) = run_to_junit(&["run", "--from", HA]);
    let o = sippy_outcomes(&suites[0]);
    assert!(!o.iter().any(|(n, _)| n.contains("clusteroperator/")));
    assert!(
        !stderr(&out).contains("ClusterOperator"),
        "{}",
        stderr(&out)
    );
}
