//! vigil against a real kube-apiserver (with etcd) started on loopback.
//!
//! The binaries come from scripts/build-control-plane (its cache, or the
//! directory in $VIGIL_CONTROL_PLANE). One control plane, loaded with the
//! project's ha-cluster state, serves the read-only tests; the test that
//! stops its API server gets its own.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use vigil::devtools::control_plane::{ControlPlane, NOPODS_TOKEN, VIGIL_TOKEN};

const STATE: &str = "testdata/states/ha-cluster";
const EXCEPTIONS: &str = "testdata/exceptions/demo";
const SCOPE: &str = "storefront|billing|catalog|payments|node-agents";

/// RBAC for the test users: `vigil` gets deploy/rbac.yaml's ClusterRole;
/// `nopods` the same rules without pods.
const BINDINGS: &str = "
apiVersion: v1
kind: List
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: vigil-user}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vigil-reader}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: vigil}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: vigil-reader-no-pods}
  rules:
  - {apiGroups: [''], resources: [namespaces, nodes, services, endpoints, events, replicationcontrollers], verbs: [get, list]}
  - {apiGroups: [apps], resources: [deployments, replicasets, statefulsets, daemonsets], verbs: [get, list]}
  - {apiGroups: [policy], resources: [poddisruptionbudgets], verbs: [get, list]}
  - {apiGroups: [autoscaling], resources: [horizontalpodautoscalers], verbs: [get, list]}
  - {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [get, list]}
  - {apiGroups: [config.openshift.io], resources: [infrastructures], verbs: [get, list]}
  - {apiGroups: [apps.openshift.io], resources: [deploymentconfigs], verbs: [get, list]}
  - {apiGroups: [argoproj.io], resources: [rollouts], verbs: [get, list]}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: nopods-user}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vigil-reader-no-pods}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: nopods}]
";

struct Shared {
    /// Held for the whole run: dropping it stops the control plane.
    _cp: ControlPlane,
    admin: PathBuf,
    vigil: PathBuf,
    nopods: PathBuf,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let cp = start();
        let bindings = cp.dir.path().join("bindings.yaml");
        std::fs::write(&bindings, BINDINGS).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        load_into(
            &cp,
            &[root.join("deploy/rbac.yaml"), bindings, root.join(STATE)],
        );
        Shared {
            admin: cp.admin_kubeconfig().unwrap(),
            vigil: cp.kubeconfig("vigil", VIGIL_TOKEN).unwrap(),
            nopods: cp.kubeconfig("nopods", NOPODS_TOKEN).unwrap(),
            _cp: cp,
        }
    })
}

/// Runs vigil with `args` plus a fresh JUnit dir and fixed "now"; returns
/// the exit code and the JUnit text.
fn run_junit(args: &[&str]) -> (Option<i32>, String, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let mut all = args.to_vec();
    all.extend([
        "--junit-dir",
        &d,
        "--now",
        NOW,
        "--exceptions",
        EXCEPTIONS,
        "--namespace",
        SCOPE,
    ]);
    let out = vigil(&all);
    let xml = without_run_times(&std::fs::read_to_string(junit_file(dir.path())).unwrap());
    (out.status.code(), xml, out)
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn live_run_equals_its_snapshot_replay_equals_the_files() {
    let s = shared();
    let snap_dir = tempfile::tempdir().unwrap();
    let snap = snap_dir.path().join("state.json.gz");
    let (live_code, live, out) = run_junit(&[
        "run",
        "--kubeconfig",
        s.admin.to_str().unwrap(),
        "--save-snapshot",
        snap.to_str().unwrap(),
    ]);
    assert_eq!(live_code, Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("live cluster https://127.0.0.1:"),
        "{}",
        stdout(&out)
    );
    let (replay_code, replay, _) = run_junit(&["run", "--from", snap.to_str().unwrap()]);
    let (files_code, files, _) = run_junit(&["run", "--from", STATE]);
    assert_eq!(live, replay, "snapshot replay differs from the live run");
    assert_eq!(
        live, files,
        "live run differs from the files it was loaded from"
    );
    assert_eq!(
        (live_code, replay_code, files_code),
        (Some(1), Some(1), Some(1))
    );
    let o = sippy_outcomes(&parse_junit(&live)[0]);
    assert_eq!(
        o[1],
        (
            "[Monitor:vigil] cluster should be reachable".to_owned(),
            "pass"
        )
    );
    assert_eq!(
        o[2],
        (
            "[Monitor:vigil] cluster state should be collected".to_owned(),
            "pass"
        )
    );
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn kinds_the_server_does_not_serve_are_skipped() {
    let s = shared();
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.json");
    let out = vigil(&[
        "snapshot",
        "--kubeconfig",
        s.admin.to_str().unwrap(),
        "-o",
        snap.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The old spelling still works, and says what replaced it.
    assert!(
        stderr(&out).contains("is now `--to FILE`"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("Infrastructure: not served by this cluster, skipped"));
    let text = std::fs::read_to_string(&snap).unwrap();
    let json: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        json["vigilSnapshot"]["skipped"],
        serde_json::json!([
            "DeploymentConfig",
            "Rollout",
            "Infrastructure",
            "ClusterOperator",
            "ClusterVersion",
            "MachineConfigPool"
        ])
    );
    assert_eq!(json["vigilSnapshot"]["server"], "v1.34.4");
    assert!(json["vigilSnapshot"].get("missing").is_none());
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn pagination_reads_every_page() {
    let s = shared();
    let dir = tempfile::tempdir().unwrap();
    let items = |page: &str| {
        let f = dir.path().join(format!("p{page}.json"));
        let out = vigil(&[
            "snapshot",
            "--kubeconfig",
            s.admin.to_str().unwrap(),
            "--page-size",
            page,
            "--to",
            f.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        // JSON lines: every line a List, the last one the end marker.
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(lines.last().unwrap()["vigilSnapshotEnd"]["objects"].is_u64());
        let mut names: Vec<String> = lines
            .iter()
            .flat_map(|l| l["items"].as_array().unwrap())
            .map(|o| {
                format!(
                    "{} {}/{}",
                    o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]
                )
            })
            .collect();
        names.sort();
        names
    };
    let one_page = items("500");
    let pages_of_two = items("2");
    let pods = one_page.iter().filter(|n| n.starts_with("\"Pod\"")).count();
    assert_eq!(pods, 7, "the loaded state's pods, listed in 4 pages of 2");
    assert_eq!(pages_of_two, one_page);
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn restricted_user_with_the_shipped_rbac_sees_everything() {
    let s = shared();
    let (admin_code, admin, _) = run_junit(&["run", "--kubeconfig", s.admin.to_str().unwrap()]);
    let (code, restricted, out) = run_junit(&["run", "--kubeconfig", s.vigil.to_str().unwrap()]);
    assert_eq!(code, admin_code, "{}", stderr(&out));
    assert_eq!(restricted, admin);
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_user_without_pods_access_gets_partial_results() {
    let s = shared();
    let (_, admin, _) = run_junit(&["run", "--kubeconfig", s.admin.to_str().unwrap()]);
    let (code, partial, out) = run_junit(&["run", "--kubeconfig", s.nopods.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{}", stderr(&out));
    let suite = &parse_junit(&partial)[0];
    let collected = suite
        .cases
        .iter()
        .find(|c| c.name == "[Monitor:vigil] cluster state should be collected")
        .unwrap();
    let (message, body) = collected.failure.clone().expect("collection fails");
    assert!(
        message.starts_with("could not list Pod: HTTP 403 Forbidden: pods is forbidden: User \"nopods\" cannot list resource \"pods\""),
        "{message}"
    );
    assert!(
        message.ends_with(
            "(grant get/list on pods: deploy/rbac.yaml has the ClusterRole vigil needs)"
        ),
        "{message}"
    );
    assert!(
        body.contains("the tests of checks that could not look are skipped"),
        "{body}"
    );
    let crash = suite
        .cases
        .iter()
        .find(|c| {
            c.name
                .contains("pods in ns/catalog should not be crash-looping")
        })
        .unwrap();
    // Skipped, not failed on every team: the collection test is the one red.
    assert!(crash.failure.is_none(), "{crash:?}");
    assert!(
        crash
            .skipped
            .as_deref()
            .unwrap()
            .starts_with("not evaluated: could not list Pod (HTTP 403 Forbidden"),
        "{crash:?}"
    );
    assert_eq!(
        suite.cases.iter().filter(|c| c.failure.is_some()).count(),
        sippy_outcomes(&parse_junit(&admin)[0])
            .iter()
            .filter(|(n, o)| matches!(*o, "fail" | "flake")
                && !n.contains("pods in ns/")
                && !n.contains("more than one node")
                && !n.contains("should be fully rolled out")
                && !n.contains("ready endpoints"))
            .count()
            + 1,
        "only the collection test and the failures of checks that do not read pods"
    );
    // Checks that do not read pods give exactly what the admin run gave.
    let full = sippy_outcomes(&parse_junit(&admin)[0]);
    let part = sippy_outcomes(suite);
    for check_name in [
        "should have at least two replicas",
        "should set a priority class",
        "should be covered by a pod disruption budget",
    ] {
        let pick = |o: &[(String, &'static str)]| -> Vec<(String, &'static str)> {
            o.iter()
                .filter(|(n, _)| n.contains(check_name))
                .cloned()
                .collect()
        };
        assert_eq!(pick(&part), pick(&full), "{check_name}");
    }
    // ha/spread reads pods: it is skipped as not evaluated, never passed.
    assert!(part
        .iter()
        .filter(|(n, _)| n.contains("should run their pods on more than one node"))
        .all(|(_, o)| *o == "skip"));
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_stopped_api_server_still_yields_junit_and_exit_3() {
    let mut cp = start();
    let kubeconfig = cp.admin_kubeconfig().unwrap();
    cp.stop_apiserver();
    let dir = tempfile::tempdir().unwrap();
    let out = vigil(&[
        "run",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--junit-dir",
        dir.path().to_str().unwrap(),
        "--request-timeout",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("did not answer"), "{}", stderr(&out));
    let suite = &parse_junit(&std::fs::read_to_string(junit_file(dir.path())).unwrap())[0];
    let o = sippy_outcomes(suite);
    assert_eq!(
        o,
        [
            ("[Monitor:vigil] run should complete".to_owned(), "pass"),
            (
                "[Monitor:vigil] cluster should be reachable".to_owned(),
                "fail"
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
    let (message, _) = suite.cases[1].failure.clone().unwrap();
    assert!(
        message.contains(&cp.url) && message.contains("Connection refused"),
        "{message}"
    );
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn suggest_reads_the_live_cluster() {
    let s = shared();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("payments.yaml"),
        "component: Payments\nnamespaces: [payments]\n",
    )
    .unwrap();
    let out = vigil(&[
        "exceptions",
        "suggest",
        "--from",
        "live",
        "--kubeconfig",
        s.admin.to_str().unwrap(),
        "--exceptions",
        d.path().to_str().unwrap(),
        "--namespace",
        "payments",
        "--stdout",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("    object: PodDisruptionBudget/db-pdb\n    jira: TODO"),
        "{}",
        stdout(&out)
    );
}

/// The built-in kinds come as protobuf and decode to exactly what the same
/// listing as JSON gives: every field vigil reads, on a fixture that sets
/// each of them (and leaves some empty, which JSON omits and protobuf
/// does not), plus the project's states.
#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn protobuf_and_json_listings_read_the_same_objects() {
    use vigil::sources::live::{collect, Encoding, LiveOptions};
    let cp = start();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // And a generated cluster: the variety of a real one.
    let generated = tempfile::tempdir().unwrap();
    vigil::devtools::generate::generate(
        generated.path(),
        400,
        5,
        vigil::devtools::generate::Format::Json,
    )
    .unwrap();
    load_into(
        &cp,
        &[
            root.join("testdata/wire/every-field.yaml"),
            root.join(STATE),
            root.join("testdata/states/broken-infra"),
            generated.path().to_owned(),
        ],
    );
    let listed_with = |protobuf: bool, page_size: u32, max_page_bytes: u64| {
        collect(&LiveOptions {
            kubeconfig: Some(cp.admin_kubeconfig().unwrap()),
            protobuf,
            page_size,
            max_page_bytes,
            ..Default::default()
        })
        .expect("the control plane answers")
    };
    let listed = |protobuf: bool, page_size: u32| listed_with(protobuf, page_size, 256 << 20);
    let as_json = |c: &vigil::sources::live::Collected| {
        let mut items: Vec<String> = c
            .objects
            .iter()
            .map(|o| {
                let mut v = serde_json::to_value(o).unwrap();
                v["kind"] = o.kind().into();
                v.to_string()
            })
            .collect();
        items.sort();
        items
    };
    let pb = listed(true, 500);
    let json = listed(false, 500);
    // Small pages: continue tokens travel in protobuf list metadata too.
    let pb_paged = listed(true, 3);
    // Pages over the size limit are asked for again, smaller: nothing lost
    // (400 pods are megabytes; with no shrinking, Pod would be missing).
    let pb_small = listed_with(true, 5000, 64 << 10);
    assert!(
        pb_small.info.missing.is_empty(),
        "{:?}",
        pb_small.info.missing
    );
    for kind in [
        "Namespace",
        "Node",
        "Pod",
        "Service",
        "Endpoints",
        "Event",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "EndpointSlice",
        "ReplicationController",
    ] {
        assert_eq!(pb.encodings[kind], [Encoding::Protobuf], "{kind}");
        assert_eq!(json.encodings[kind], [Encoding::Json], "{kind}");
        assert!(
            pb.objects.iter().any(|o| o.kind() == kind),
            "the fixture has no {kind}"
        );
    }
    let (pb, json, pb_paged) = (as_json(&pb), as_json(&json), as_json(&pb_paged));
    assert!(pb.len() > 1000, "{} objects", pb.len());
    assert_eq!(as_json(&pb_small), pb);
    for (p, j) in pb.iter().zip(&json) {
        assert_eq!(p, j, "protobuf and JSON differ");
    }
    assert_eq!(pb, json);
    assert_eq!(pb_paged, pb);
    // Spot checks that the fixture's fields arrived at all (equal and empty
    // would also be equal).
    let api = pb
        .iter()
        .find(|o| o.contains(r#""name":"api","namespace":"wire""#) && o.contains("Deployment"))
        .expect("the api Deployment");
    for field in [
        "\"maxUnavailable\":\"25%\"",
        "\"tolerationSeconds\":120",
        "\"namespaceSelector\"",
        "\"restartPolicy\":\"Always\"",
        "\"hostPort\":8443",
        "\"progressDeadlineSeconds\":120",
        "\"priorityClassName\":\"system-cluster-critical\"",
        "\"DoesNotExist\"",
    ] {
        assert!(api.contains(field), "{field} missing from {api}");
    }
    let series = pb
        .iter()
        .find(|o| o.contains("api.series"))
        .expect("the event");
    assert!(
        series.contains("\"lastObservedTime\":\"2026-11-21T09:50:00.654321Z\""),
        "{series}"
    );
}

/// OpenShift's health reports, served as on OpenShift (their CRDs loaded),
/// read live with the shipped RBAC: one test per operator and pool, as
/// from files.
#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn openshift_health_reports_are_read_live_with_the_shipped_rbac() {
    let cp = start();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    load_into(&cp, &[root.join("testdata/openshift-crds.yaml")]);
    // A CRD is served once it is established: the first objects may wait.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let health = root.join("testdata/states/openshift-platform/openshift-health.yaml");
    loop {
        let objects = vigil::devtools::load::read_raw(std::slice::from_ref(&health)).unwrap();
        let opts = vigil::sources::live::LiveOptions {
            kubeconfig: Some(cp.admin_kubeconfig().unwrap()),
            ..Default::default()
        };
        let r = vigil::devtools::load::load_into(&opts, objects, 8).unwrap();
        if r.failed.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{:?}", r.failed);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let bindings = cp.dir.path().join("bindings.yaml");
    std::fs::write(&bindings, BINDINGS).unwrap();
    load_into(&cp, &[root.join("deploy/rbac.yaml"), bindings]);
    let kubeconfig = cp.kubeconfig("vigil", VIGIL_TOKEN).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = vigil(&[
        "run",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--profile",
        "openshift",
        "--now",
        NOW,
        "--junit-dir",
        dir.path().to_str().unwrap(),
    ]);
    let xml = std::fs::read_to_string(junit_file(dir.path())).unwrap();
    let o = sippy_outcomes(&parse_junit(&xml)[0]);
    let of = |needle: &str| {
        o.iter()
            .find(|(n, _)| n.contains(needle))
            .map(|(_, r)| *r)
            .unwrap_or_else(|| panic!("no test {needle}: {}", stdout(&out)))
    };
    assert_eq!(
        of("clusteroperator/kube-apiserver should be available"),
        "fail"
    );
    assert_eq!(of("clusteroperator/network should be available"), "flake");
    assert_eq!(of("clusteroperator/etcd should be available"), "pass");
    assert_eq!(of("clusterversion/version should run its release"), "fail");
    assert_eq!(
        of("machineconfigpool/worker should have every machine"),
        "fail"
    );
    assert_eq!(
        of("machineconfigpool/master should have every machine"),
        "pass"
    );
    assert_eq!(
        of("cluster state should be collected"),
        "pass",
        "{}",
        stdout(&out)
    );
}
