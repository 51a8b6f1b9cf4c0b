//! vigil against a real kube-apiserver behind a fault-injecting proxy on
//! loopback: storms, stalls, broken bodies, stuck pagination, wrong 404s,
//! rejected credentials, a failing /version, and an old cluster serving only
//! policy/v1beta1. Each asserts the exit code, an upper bound on time, and
//! what the JUnit says.

mod common;
#[path = "common/proxy.rs"]
mod proxy;

use common::*;
use proxy::{Fault, Proxy};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use vigil::devtools::control_plane::{ControlPlane, ADMIN_TOKEN};

const STATE: &str = "testdata/states/ha-cluster";
const SCOPE: &str = "storefront|billing|catalog|payments|node-agents";

fn cluster() -> &'static ControlPlane {
    static CP: OnceLock<ControlPlane> = OnceLock::new();
    CP.get_or_init(|| {
        let cp = start();
        load_into(&cp, &[Path::new(env!("CARGO_MANIFEST_DIR")).join(STATE)]);
        cp
    })
}

fn proxy() -> Proxy {
    let cp = cluster();
    Proxy::start(&cp.url, &cp.ca_pem, ADMIN_TOKEN)
}

struct Run {
    code: Option<i32>,
    took: Duration,
    suite: Suite,
    stderr: String,
}

fn run_through(p: &Proxy, extra: &[&str]) -> Run {
    let d = tempfile::tempdir().unwrap();
    let kubeconfig = p.kubeconfig(d.path());
    let junit = d.path().join("junit");
    let mut args = vec![
        "run",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--junit-dir",
        junit.to_str().unwrap(),
        "--now",
        NOW,
        "--namespace",
        SCOPE,
        "--exceptions",
        "testdata/exceptions/demo",
    ];
    args.extend(extra);
    let started = Instant::now();
    let out = vigil(&args);
    let took = started.elapsed();
    let suite = parse_junit(&std::fs::read_to_string(junit_file(&junit)).unwrap()).remove(0);
    Run {
        code: out.status.code(),
        took,
        suite,
        stderr: stderr(&out),
    }
}

fn meta(r: &Run, name: &str) -> (&'static str, String) {
    let c = r
        .suite
        .cases
        .iter()
        .find(|c| c.name == format!("[Monitor:vigil] {name}"))
        .unwrap();
    match (&c.failure, &c.skipped) {
        (Some((m, b)), _) => ("fail", format!("{m}\n{b}")),
        (None, Some(s)) => ("skip", s.clone()),
        _ => ("pass", String::new()),
    }
}

/// The run read the whole state and judged it as a run without faults did.
fn assert_nothing_lost(r: &Run) {
    assert_eq!(meta(r, "cluster state should be collected").0, "pass");
    assert_eq!(&sippy_outcomes(&r.suite), baseline());
}

/// Forwards asking for JSON, with the first `from` in the body (which must
/// be there) replaced by `to`.
fn replace_first(from: &'static str, to: &'static str) -> Fault {
    Fault::Edit(Arc::new(move |body: &str| {
        assert!(body.contains(from), "{from:?} is not in {body}");
        body.replacen(from, to, 1)
    }))
}

fn outcome_of(r: &Run, needle: &str) -> &'static str {
    sippy_outcomes(&r.suite)
        .into_iter()
        .find(|(n, _)| n.contains(needle))
        .unwrap()
        .1
}

/// The run without faults, for comparison.
fn baseline() -> &'static Vec<(String, &'static str)> {
    static B: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();
    B.get_or_init(|| {
        let p = proxy();
        let r = run_through(&p, &[]);
        assert_eq!(r.code, Some(1), "{}", r.stderr);
        assert_eq!(meta(&r, "cluster state should be collected").0, "pass");
        sippy_outcomes(&r.suite)
    })
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_503_storm_on_one_kind_is_bounded_and_says_503() {
    let p = proxy();
    p.on("/api/v1/pods", Fault::Status(503, None));
    let r = run_through(&p, &["--request-timeout", "5"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.took < Duration::from_secs(15), "{:?}", r.took);
    assert_eq!(p.count("/api/v1/pods"), 4, "4 tries, no retry layer inside");
    let (o, why) = meta(&r, "cluster state should be collected");
    assert_eq!(o, "fail");
    assert!(
        why.contains("could not list Pod: HTTP 503 Service Unavailable: injected by the test proxy (4 tries over"),
        "{why}"
    );
    assert_eq!(
        outcome_of(&r, "pods in ns/catalog should not be crash-looping"),
        "skip"
    );
    assert_eq!(meta(&r, "cluster should be reachable").0, "pass");
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_429_storm_honours_retry_after_within_the_budget() {
    let p = proxy();
    p.on("/apis/apps/v1/deployments", Fault::Status(429, Some(1)));
    let r = run_through(&p, &["--request-timeout", "5"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(p.count("/apis/apps/v1/deployments"), 4);
    assert!(
        r.took >= Duration::from_secs(3),
        "waited as asked: {:?}",
        r.took
    );
    assert!(r.took < Duration::from_secs(15), "{:?}", r.took);
    let (_, why) = meta(&r, "cluster state should be collected");
    assert!(
        why.contains("could not list Deployment: HTTP 429 Too Many Requests"),
        "{why}"
    );
    // A Retry-After beyond the budget is not waited for.
    let p = proxy();
    p.on("/apis/apps/v1/deployments", Fault::Status(429, Some(3600)));
    let r = run_through(&p, &["--request-timeout", "5"]);
    assert_eq!(p.count("/apis/apps/v1/deployments"), 1);
    assert!(r.took < Duration::from_secs(15));
    let (_, why) = meta(&r, "cluster state should be collected");
    assert!(
        why.contains("the server asked to retry after 3600s, beyond vigil's budget"),
        "{why}"
    );
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_stalled_list_gives_up_within_twice_the_request_timeout() {
    let p = proxy();
    p.on("/api/v1/events", Fault::Stall(Duration::from_secs(60)));
    let r = run_through(&p, &["--request-timeout", "2"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.took < Duration::from_secs(12), "{:?}", r.took);
    assert!(p.count("/api/v1/events") <= 3);
    let (_, why) = meta(&r, "cluster state should be collected");
    assert!(
        why.contains("could not list Event: no answer within 2s"),
        "{why}"
    );
    assert_eq!(
        outcome_of(&r, "events in ns/payments should not repeat warnings"),
        "skip"
    );
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_reset_mid_body_is_retried_and_nothing_is_lost() {
    let p = proxy();
    p.on_times("/api/v1/pods", Fault::ResetMidBody, 1);
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(p.count("/api/v1/pods"), 2);
    assert_nothing_lost(&r);
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn json_where_protobuf_was_asked_for_is_read_as_json() {
    let p = proxy();
    p.on("/api/*", Fault::JsonOnly);
    p.on("/apis/*", Fault::JsonOnly);
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_nothing_lost(&r);
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_truncated_body_is_never_taken_for_the_whole_list() {
    let p = proxy();
    p.on("/api/v1/nodes", Fault::Truncate);
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(1));
    assert_eq!(p.count("/api/v1/nodes"), 4);
    let (_, why) = meta(&r, "cluster state should be collected");
    assert!(
        why.contains("could not list Node: the response could not be decoded"),
        "{why}"
    );
    // Cut in the middle of a protobuf body (the proxy passes vigil's Accept
    // on): the envelope's length prefix gives the cut away, as the JSON
    // brackets do.
    assert!(
        why.contains("(application/vnd.kubernetes.protobuf, "),
        "{why}"
    );
    assert_eq!(outcome_of(&r, "nodes should be ready"), "skip");
}

/// A page is outlined on arrival (its continue token, its length) and its
/// objects decoded while the next page is on its way; an object that then
/// cannot be decoded sends vigil back for that page, the others kept.
#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_broken_object_in_a_whole_page_is_asked_for_again() {
    // A page in the middle of a paged listing.
    let plain = proxy();
    let r = run_through(&plain, &["--page-size", "2"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let pages = plain.count("/api/v1/pods");
    assert!(pages >= 3, "only {pages} pages of pods");
    let p = proxy();
    p.on_times("/api/v1/pods", Fault::Forward, 1);
    p.on_times("/api/v1/pods", Fault::CorruptItem, 1);
    let r = run_through(&p, &["--page-size", "2"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(p.count("/api/v1/pods"), pages + 1);
    assert_nothing_lost(&r);

    // The same as JSON: an item the outline skips over, of the wrong type.
    let p = proxy();
    p.on_times(
        "/api/v1/pods",
        replace_first(r#""phase":"Running""#, r#""phase":7"#),
        1,
    );
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(p.count("/api/v1/pods"), 2);
    assert_nothing_lost(&r);

    // Asked for again after the cluster changed, the page comes back with
    // another continue token (another snapshot): the kind is listed again
    // from the start, not failed and not stitched from two snapshots.
    let p = proxy();
    p.on_times(
        "/api/v1/pods",
        replace_first(r#""phase":"Running""#, r#""phase":7"#),
        1,
    );
    p.on_times("/api/v1/pods", Fault::Forward, pages - 1);
    p.on_times(
        "/api/v1/pods",
        replace_first(r#""continue":""#, r#""continue":"another-snapshot-"#),
        1,
    );
    let r = run_through(&p, &["--page-size", "2"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(
        p.count("/api/v1/pods"),
        2 * pages + 1,
        "pages, the page again, pages"
    );
    assert_nothing_lost(&r);

    // Broken every time: retried as any undecodable answer, then missing.
    let p = proxy();
    p.on("/api/v1/pods", Fault::CorruptItem);
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(p.count("/api/v1/pods"), 5, "the first answer and 4 tries");
    let (o, why) = meta(&r, "cluster state should be collected");
    assert_eq!(o, "fail");
    assert!(
        why.contains("could not list Pod: the response could not be decoded (application/vnd.kubernetes.protobuf, "),
        "{why}"
    );
    assert!(why.contains("PodList: "), "{why}");
    assert!(why.contains("(4 tries over"), "{why}");
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_repeated_continue_token_stops_the_listing() {
    let p = proxy();
    p.on("/api/v1/pods", Fault::RepeatContinue);
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(1));
    assert!(r.took < Duration::from_secs(10));
    assert_eq!(p.count("/api/v1/pods"), 2);
    let (_, why) = meta(&r, "cluster state should be collected");
    assert!(
        why.contains("the server sent the same continue token twice (after 2 pages)"),
        "{why}"
    );
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_404_on_a_kind_discovery_lists_is_a_failure_not_not_served() {
    let p = proxy();
    p.on(
        "/apis/policy/v1/poddisruptionbudgets",
        Fault::Status(404, None),
    );
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(1));
    assert_eq!(
        p.count("/apis/policy/v1/poddisruptionbudgets"),
        1,
        "404 is not retried"
    );
    let (o, why) = meta(&r, "cluster state should be collected");
    assert_eq!(o, "fail");
    assert!(
        why.contains("although discovery says policy/v1 serves poddisruptionbudgets"),
        "{why}"
    );
    assert_eq!(
        outcome_of(
            &r,
            "ns/payments should allow at least one voluntary disruption"
        ),
        "skip"
    );
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn rejected_credentials_are_a_configuration_error() {
    let p = proxy();
    p.on("/*", Fault::Status(401, None));
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.took < Duration::from_secs(10));
    assert_eq!(p.count("/version"), 1, "401 is not retried");
    let (o, why) = meta(&r, "cluster should be reachable");
    assert_eq!(o, "fail");
    assert!(
        why.contains("rejected the credentials (HTTP 401 Unauthorized"),
        "{why}"
    );
    assert!(why.contains("log in again"), "{why}");
    assert!(!why.contains("did not answer"), "{why}");
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn version_is_retried_like_every_request() {
    let p = proxy();
    p.on_times("/version", Fault::Status(502, None), 1);
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(p.count("/version"), 2);
    assert_eq!(&sippy_outcomes(&r.suite), baseline());

    let p = proxy();
    p.on("/version", Fault::Status(502, None));
    let r = run_through(&p, &["--request-timeout", "3"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.took < Duration::from_secs(12));
    let (_, why) = meta(&r, "cluster should be reachable");
    assert!(
        why.contains("did not answer: HTTP 502 Bad Gateway"),
        "{why}"
    );
    assert!(why.contains("(4 tries over"), "{why}");
}

/// A cluster from before policy/v1 (Kubernetes < 1.21): discovery lists only
/// policy/v1beta1, and vigil reads it there, with v1beta1 semantics.
#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn an_old_cluster_is_read_through_the_versions_it_serves() {
    let p = proxy();
    let only_v1beta1 = |body: &str| {
        let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
        for g in v["groups"].as_array_mut().unwrap() {
            if g["name"] == "policy" {
                let gv =
                    serde_json::json!({"groupVersion": "policy/v1beta1", "version": "v1beta1"});
                g["versions"] = serde_json::json!([gv.clone()]);
                g["preferredVersion"] = gv;
            }
        }
        v.to_string()
    };
    p.on("/apis", Fault::Edit(Arc::new(only_v1beta1)));
    p.on(
        "/apis/policy/v1beta1",
        Fault::Body(
            r#"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"policy/v1beta1","resources":[{"name":"poddisruptionbudgets","singularName":"","namespaced":true,"kind":"PodDisruptionBudget","verbs":["list"]}]}"#.into(),
        ),
    );
    p.on(
        "/apis/policy/v1beta1/poddisruptionbudgets",
        Fault::ForwardAs("/apis/policy/v1/poddisruptionbudgets".into()),
    );
    p.on(
        "/apis/policy/v1/poddisruptionbudgets",
        Fault::Status(404, None),
    );
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(
        p.count("/apis/policy/v1/poddisruptionbudgets"),
        0,
        "v1 never asked"
    );
    assert!(p.count("/apis/policy/v1beta1/poddisruptionbudgets") >= 1);
    assert_eq!(meta(&r, "cluster state should be collected").0, "pass");
    // Every PDB of the state has a selector, so v1beta1 reads them the same.
    assert_eq!(&sippy_outcomes(&r.suite), baseline());
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_page_larger_than_the_limit_is_refused_not_held_in_memory() {
    let p = proxy();
    let pod = r#"{"metadata":{"name":"p","namespace":"catalog"},"spec":{"containers":[{"name":"c","image":"i"}]},"status":{"phase":"Running"}}"#;
    let items = vec![pod; 12_000].join(",");
    p.on(
        "/api/v1/pods",
        Fault::Body(format!(
            r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{}},"items":[{items}]}}"#
        )),
    );
    let r = run_through(&p, &["--max-page-mib", "1"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(
        p.count("/api/v1/pods"),
        5,
        "asked again in pages of 625, 78, 9 and 1, never more"
    );
    let (_, why) = meta(&r, "cluster state should be collected");
    assert!(
        why.contains("could not list Pod: the response to GET /api/v1/pods?limit=1 is larger than the 1 MiB limit on API responses (--max-page-mib); raise it if the input is genuine (even at one object per page, or the server ignores `limit`)"),
        "{why}"
    );
}

#[test]
#[ignore = "needs the test control plane (kube-apiserver, etcd): scripts/test runs it"]
fn a_server_whose_discovery_lists_no_pods_is_not_a_healthy_cluster() {
    let p = proxy();
    p.on(
        "/api/v1",
        Fault::Edit(Arc::new(|body: &str| {
            let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
            v["resources"]
                .as_array_mut()
                .unwrap()
                .retain(|r| r["name"] != "pods");
            v.to_string()
        })),
    );
    let r = run_through(&p, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(p.count("/api/v1/pods"), 0);
    let (o, why) = meta(&r, "cluster state should be collected");
    assert_eq!(o, "fail");
    assert!(why.contains("discovery says this server does not serve pods (v1), which every Kubernetes API server does"), "{why}");
}
