//! Loads a state directory (testdata, a must-gather, a generated cluster)
//! into an API server, statuses included, for tests and benchmarks.
//!
//! Objects are created as written, minus what the server owns (uid,
//! resourceVersion, timestamps, managedFields) and with the few changes an
//! empty cluster needs: missing required fields filled (a container image, a
//! service port, an owner's uid), cluster IPs and node ports left to the
//! allocator. Then each status is written through the status subresource,
//! since no controller will ever write one.

use std::collections::BTreeMap;

use futures::StreamExt;
use kube::Client;
use serde_json::{json, Value};

/// (kind, plural, namespaced, default apiVersion, has a status subresource)
const KINDS: &[(&str, &str, bool, &str, bool)] = &[
    ("Namespace", "namespaces", false, "v1", false),
    ("Node", "nodes", false, "v1", true),
    ("Pod", "pods", true, "v1", true),
    ("Service", "services", true, "v1", false),
    ("Endpoints", "endpoints", true, "v1", false),
    ("Event", "events", true, "v1", false),
    (
        "ReplicationController",
        "replicationcontrollers",
        true,
        "v1",
        true,
    ),
    ("Deployment", "deployments", true, "apps/v1", true),
    ("ReplicaSet", "replicasets", true, "apps/v1", true),
    ("StatefulSet", "statefulsets", true, "apps/v1", true),
    ("DaemonSet", "daemonsets", true, "apps/v1", true),
    (
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        "policy/v1",
        true,
    ),
    (
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        "autoscaling/v2",
        true,
    ),
    (
        "EndpointSlice",
        "endpointslices",
        true,
        "discovery.k8s.io/v1",
        false,
    ),
    ("ServiceAccount", "serviceaccounts", true, "v1", false),
    (
        "ClusterRole",
        "clusterroles",
        false,
        "rbac.authorization.k8s.io/v1",
        false,
    ),
    (
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        "rbac.authorization.k8s.io/v1",
        false,
    ),
    // OpenShift's kinds, served once testdata/openshift-crds.yaml is loaded.
    (
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        "apiextensions.k8s.io/v1",
        false,
    ),
    (
        "Infrastructure",
        "infrastructures",
        false,
        "config.openshift.io/v1",
        false,
    ),
    (
        "ClusterOperator",
        "clusteroperators",
        false,
        "config.openshift.io/v1",
        false,
    ),
    (
        "ClusterVersion",
        "clusterversions",
        false,
        "config.openshift.io/v1",
        false,
    ),
    (
        "MachineConfigPool",
        "machineconfigpools",
        false,
        "machineconfiguration.openshift.io/v1",
        false,
    ),
];

/// API versions retired from current servers, and what replaced them.
fn current_version(api_version: &str) -> &str {
    match api_version {
        "policy/v1beta1" => "policy/v1",
        "autoscaling/v2beta1" | "autoscaling/v2beta2" => "autoscaling/v2",
        "discovery.k8s.io/v1beta1" => "discovery.k8s.io/v1",
        "extensions/v1beta1" | "apps/v1beta1" | "apps/v1beta2" => "apps/v1",
        other => other,
    }
}

#[derive(Debug, Default)]
pub struct LoadReport {
    pub created: usize,
    /// Objects that already existed (the namespaces every cluster has).
    pub existing: usize,
    /// Kinds vigil does not read, left out.
    pub ignored: usize,
    /// `Kind ns/name: error` for everything the server refused.
    pub failed: Vec<String>,
}

/// Reads the raw objects (every field) from state files.
pub fn read_raw(paths: &[std::path::PathBuf]) -> Result<Vec<Value>, String> {
    let files = crate::sources::list_state_files(paths).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let bytes = if f.extension().is_some_and(|e| e == "gz") {
            use std::io::Read;
            let mut v = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut v)
                .map_err(|e| format!("{}: {e}", f.display()))?;
            v
        } else {
            bytes
        };
        let text = String::from_utf8(bytes).map_err(|e| format!("{}: {e}", f.display()))?;
        let docs: Vec<Value> = if text.trim_start().starts_with(['{', '[']) {
            serde_json::Deserializer::from_str(&text)
                .into_iter::<Value>()
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{}: {e}", f.display()))?
        } else {
            serde_saphyr::from_multiple::<Value>(&text)
                .map_err(|e| format!("{}: {e}", f.display()))?
        };
        for doc in docs {
            match doc.get("items").and_then(Value::as_array) {
                Some(items) => out.extend(items.iter().cloned()),
                None if doc.is_object() => out.push(doc),
                None => {}
            }
        }
    }
    Ok(out)
}

/// Makes a raw object acceptable to an empty API server.
fn prepare(mut obj: Value, kind: &str) -> Value {
    strip_server_fields(&mut obj);
    let spec = || json!({});
    match kind {
        "Pod" => {
            let spec = obj
                .as_object_mut()
                .unwrap()
                .entry("spec")
                .or_insert_with(spec);
            if spec
                .get("containers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
            {
                spec["containers"] = placeholder_containers();
            }
            if let Some(s) = spec.as_object_mut() {
                s.remove("ephemeralContainers");
            }
        }
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
            let spec = obj
                .as_object_mut()
                .unwrap()
                .entry("spec")
                .or_insert_with(spec);
            prepare_workload(spec);
        }
        "Service" => {
            let spec = obj
                .as_object_mut()
                .unwrap()
                .entry("spec")
                .or_insert_with(spec);
            prepare_service(spec);
        }
        _ => {}
    }
    obj
}

fn placeholder_containers() -> Value {
    json!([{"name": "placeholder", "image": "registry.invalid/placeholder:1"}])
}

/// What the server sets itself, and owner references it would refuse.
fn strip_server_fields(obj: &mut Value) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    for f in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "managedFields",
        "generation",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        meta.remove(f);
    }
    if let Some(owners) = meta
        .get_mut("ownerReferences")
        .and_then(Value::as_array_mut)
    {
        for (i, o) in owners.iter_mut().enumerate() {
            if o.get("uid")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                o["uid"] = json!(format!("00000000-0000-4000-8000-{i:012}"));
            }
            if o.get("apiVersion").is_none() {
                o["apiVersion"] = json!("apps/v1");
            }
        }
    }
}

/// A workload's template labels, selector and containers, as the API
/// server requires them.
fn prepare_workload(spec: &mut Value) {
    let labels = spec
        .pointer("/template/metadata/labels")
        .cloned()
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()));
    let labels = match labels {
        Some(l) => l,
        None => {
            let l = json!({"vigil-placeholder": "1"});
            spec["template"]["metadata"]["labels"] = l.clone();
            l
        }
    };
    if spec.get("selector").is_none() {
        spec["selector"] = json!({"matchLabels": labels});
    }
    if spec
        .pointer("/template/spec/containers")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        spec["template"]["spec"]["containers"] = placeholder_containers();
    }
}

/// A Service without what the test cluster would allocate or refuse.
fn prepare_service(spec: &mut Value) {
    if let Some(s) = spec.as_object_mut() {
        for f in [
            "clusterIP",
            "clusterIPs",
            "healthCheckNodePort",
            "loadBalancerIP",
            "externalIPs",
            // the test cluster is single-stack
            "ipFamilies",
            "ipFamilyPolicy",
        ] {
            s.remove(f);
        }
        if matches!(
            s.get("type").and_then(Value::as_str),
            Some("NodePort" | "LoadBalancer")
        ) {
            s.insert("type".into(), json!("ClusterIP"));
            s.remove("externalTrafficPolicy");
            s.remove("allocateLoadBalancerNodePorts");
        }
    }
    let external = spec.get("type").and_then(Value::as_str) == Some("ExternalName");
    match spec.get_mut("ports").and_then(Value::as_array_mut) {
        Some(ports) if !ports.is_empty() => {
            for p in ports {
                if let Some(p) = p.as_object_mut() {
                    p.remove("nodePort");
                }
            }
        }
        _ if !external => spec["ports"] = json!([{"port": 80}]),
        _ => {}
    }
}

fn collection_path(api_version: &str, plural: &str, ns: Option<&str>) -> String {
    let base = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    match ns {
        Some(ns) => format!("{base}/namespaces/{ns}/{plural}"),
        None => format!("{base}/{plural}"),
    }
}

async fn create(client: &Client, raw: Value) -> Result<bool, String> {
    let kind = raw
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let Some(&(_, plural, namespaced, default_version, has_status)) =
        KINDS.iter().find(|k| k.0 == kind)
    else {
        return Ok(false);
    };
    let api_version = current_version(
        raw.get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or(default_version),
    )
    .to_owned();
    let name = raw
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let ns = raw
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let id = format!("{kind} {}/{name}", ns.as_deref().unwrap_or(""));
    let status = raw.get("status").cloned();
    let mut body = prepare(raw, &kind);
    body["apiVersion"] = json!(api_version);
    let path = collection_path(
        &api_version,
        plural,
        namespaced.then_some(ns.as_deref().unwrap_or("default")),
    );
    let req = http::Request::post(&path)
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(&body).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let created: Value = match client.request(req).await {
        Ok(v) => v,
        Err(kube::Error::Api(s)) if s.code == 409 => return Err(format!("{id}: AlreadyExists")),
        Err(kube::Error::Api(s)) => return Err(format!("{id}: HTTP {}: {}", s.code, s.message)),
        Err(e) => return Err(format!("{id}: {e}")),
    };
    if let (true, Some(status)) = (has_status, status) {
        let mut with_status = created;
        with_status["status"] = status;
        let req = http::Request::put(format!("{path}/{name}/status"))
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&with_status).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        client.request::<Value>(req).await.map_err(|e| match e {
            kube::Error::Api(s) => format!("{id} status: HTTP {}: {}", s.code, s.message),
            e => format!("{id} status: {e}"),
        })?;
    }
    Ok(true)
}

/// Connects to the cluster `opts` points at and loads `objects` into it.
pub fn load_into(
    opts: &crate::sources::live::LiveOptions,
    objects: Vec<Value>,
    parallel: usize,
) -> Result<LoadReport, crate::sources::live::Unreachable> {
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| crate::sources::live::Unreachable::Down(e.to_string()))?;
    rt.block_on(async {
        let (client, _) = crate::sources::live::connect(opts).await?;
        Ok(load(&client, objects, parallel).await)
    })
}

/// Creates every object, namespaces and nodes first, the rest `parallel`
/// at a time.
pub async fn load(client: &Client, objects: Vec<Value>, parallel: usize) -> LoadReport {
    let mut report = LoadReport::default();
    let mut namespaces: BTreeMap<String, Value> = BTreeMap::new();
    let mut first = Vec::new();
    let mut rest = Vec::new();
    for o in objects {
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
        if !KINDS.iter().any(|k| k.0 == kind) {
            report.ignored += 1;
            continue;
        }
        if let Some(ns) = o.pointer("/metadata/namespace").and_then(Value::as_str) {
            namespaces.entry(ns.to_owned()).or_insert_with(
                || json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            );
        }
        match kind {
            "Namespace" => {
                let name = o
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                namespaces.insert(name, o);
            }
            "Node" | "ClusterRole" => first.push(o),
            _ => rest.push(o),
        }
    }
    let phases = [
        namespaces.into_values().chain(first).collect::<Vec<_>>(),
        rest,
    ];
    for phase in phases {
        let results: Vec<Result<bool, String>> =
            futures::stream::iter(phase.into_iter().map(|o| create(client, o)))
                .buffer_unordered(parallel.max(1))
                .collect()
                .await;
        for r in results {
            match r {
                Ok(true) => report.created += 1,
                Ok(false) => report.ignored += 1,
                Err(e) if e.contains("AlreadyExists") => report.existing += 1,
                Err(e) => report.failed.push(e),
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            collection_path("v1", "pods", Some("a")),
            "/api/v1/namespaces/a/pods"
        );
        assert_eq!(
            collection_path("apps/v1", "deployments", Some("a")),
            "/apis/apps/v1/namespaces/a/deployments"
        );
        assert_eq!(collection_path("v1", "nodes", None), "/api/v1/nodes");
        assert_eq!(current_version("policy/v1beta1"), "policy/v1");
    }

    #[test]
    fn prepare_fills_what_an_empty_cluster_requires() {
        let pod = prepare(
            json!({"kind": "Pod", "metadata": {"name": "p", "uid": "x", "resourceVersion": "1",
                   "ownerReferences": [{"kind": "ReplicaSet", "name": "r", "controller": true}]},
                   "spec": {"nodeName": "n"}}),
            "Pod",
        );
        assert!(pod.pointer("/metadata/uid").is_none());
        assert!(pod.pointer("/metadata/ownerReferences/0/uid").is_some());
        assert_eq!(
            pod.pointer("/spec/containers/0/name"),
            Some(&json!("placeholder"))
        );
        assert_eq!(pod.pointer("/spec/nodeName"), Some(&json!("n")));
        let svc = prepare(
            json!({"kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "NodePort", "clusterIP": "172.30.0.1",
                   "ports": [{"port": 443, "nodePort": 30001}]}}),
            "Service",
        );
        assert_eq!(svc.pointer("/spec/type"), Some(&json!("ClusterIP")));
        assert!(svc.pointer("/spec/clusterIP").is_none());
        assert!(svc.pointer("/spec/ports/0/nodePort").is_none());
    }
}
