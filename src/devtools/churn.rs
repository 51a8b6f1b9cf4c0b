//! `vigil dev churn`: changes pod and node statuses at a steady rate, as an
//! e2e run would (crash loops, not-ready spells, recoveries, a node that
//! flaps), so that a long `vigil watch` can be measured on a big cluster.
//!
//! The pods and nodes are listed once; then every `1/rate` seconds one of
//! them gets a status written through its status subresource (no
//! controller runs on the test API server to undo it). Seeded: the same
//! seed changes the same objects in the same order.

use std::time::{Duration, Instant};

use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::Client;
use rand::{RngExt, SeedableRng};
use serde_json::json;

/// What a churn did.
#[derive(Debug, Default)]
pub struct Churned {
    pub updates: u64,
    pub failed: u64,
    pub seconds: f64,
    pub pods: usize,
    pub nodes: usize,
}

/// Lists `(namespace, name)` of every object of `api`, page by page.
async fn names<K>(api: &Api<K>) -> Result<Vec<(String, String)>, kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut out = Vec::new();
    let mut lp = ListParams::default().limit(5000);
    loop {
        let page = api.list_metadata(&lp).await?;
        for o in &page.items {
            out.push((
                o.metadata.namespace.clone().unwrap_or_default(),
                o.metadata.name.clone().unwrap_or_default(),
            ));
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => return Ok(out),
        }
    }
}

/// Every pod's namespace, name and first container: the churn writes
/// that container's status, as a kubelet would (a made-up container
/// would add one to every pod it touches, which no real run does).
async fn pods(api: &Api<k8s_openapi::api::core::v1::Pod>) -> Result<Vec<Churnable>, kube::Error> {
    let mut out = Vec::new();
    let mut lp = ListParams::default().limit(1000);
    loop {
        let page = api.list(&lp).await?;
        for p in &page.items {
            let container = p
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .map_or_else(|| "main".to_owned(), |c| c.name.clone());
            out.push(Churnable {
                namespace: p.metadata.namespace.clone().unwrap_or_default(),
                name: p.metadata.name.clone().unwrap_or_default(),
                container,
            });
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => return Ok(out),
        }
    }
}

/// A pod the churn may change.
struct Churnable {
    namespace: String,
    name: String,
    container: String,
}

/// A pod status for one of the churn's moves.
fn pod_status(kind: u32, container: &str, restarts: i32) -> serde_json::Value {
    let (ready, state) = match kind {
        0 => (
            false,
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container"}}),
        ),
        1 => (
            false,
            json!({"running": {"startedAt": "2026-12-01T00:00:00Z"}}),
        ),
        _ => (
            true,
            json!({"running": {"startedAt": "2026-12-01T00:00:00Z"}}),
        ),
    };
    let s = if ready { "True" } else { "False" };
    json!({"status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": s}],
        "containerStatuses": [{"name": container, "ready": ready, "restartCount": restarts,
                               "image": "registry.example/app:1", "imageID": "", "state": state}]
    }})
}

fn node_status(ready: bool) -> serde_json::Value {
    let (s, reason) = if ready {
        ("True", "KubeletReady")
    } else {
        ("Unknown", "NodeStatusUnknown")
    };
    json!({"status": {"conditions": [{"type": "Ready", "status": s, "reason": reason}]}})
}

/// Churns for `duration` at `rate` updates a second: 95% pods (two in
/// five go into a crash loop, one in five unready, two in five recover),
/// 5% nodes (NotReady or back). At most 16 writes in flight.
pub async fn churn(
    client: Client,
    rate: f64,
    duration: Duration,
    seed: u64,
) -> Result<Churned, kube::Error> {
    use k8s_openapi::api::core::v1::{Node, Pod};
    let pods = pods(&Api::<Pod>::all(client.clone())).await?;
    let nodes = names(&Api::<Node>::all(client.clone())).await?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let period = Duration::from_secs_f64(1.0 / rate.max(0.01));
    let started = Instant::now();
    let mut restarts: std::collections::HashMap<usize, i32> = Default::default();
    let inflight = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    let ok = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let failed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut n: u32 = 0;
    while started.elapsed() < duration {
        tokio::time::sleep_until((started + period * n).into()).await;
        n += 1;
        let pp = PatchParams::default();
        let write: futures::future::BoxFuture<'static, bool> =
            if rng.random_range(0..100) < 95 && !pods.is_empty() {
                let i = rng.random_range(0..pods.len());
                let kind = match rng.random_range(0..5) {
                    0 | 1 => 0,
                    2 => 1,
                    _ => 2,
                };
                let r = restarts.entry(i).or_default();
                if kind == 0 {
                    *r += 1;
                }
                let p = &pods[i];
                let body = pod_status(kind, &p.container, *r);
                let (ns, name) = (p.namespace.clone(), p.name.clone());
                let api = Api::<Pod>::namespaced(client.clone(), &ns);
                Box::pin(async move {
                    api.patch_status(&name, &pp, &Patch::Merge(body))
                        .await
                        .is_ok()
                })
            } else if !nodes.is_empty() {
                let i = rng.random_range(0..nodes.len());
                let body = node_status(rng.random_bool(0.5));
                let name = nodes[i].1.clone();
                let api = Api::<Node>::all(client.clone());
                Box::pin(async move {
                    api.patch_status(&name, &pp, &Patch::Merge(body))
                        .await
                        .is_ok()
                })
            } else {
                continue;
            };
        let permit = inflight
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (ok, failed) = (ok.clone(), failed.clone());
        tokio::spawn(async move {
            let counter = if write.await { ok } else { failed };
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            drop(permit);
        });
    }
    // Wait for the writes still in flight.
    let _ = inflight.acquire_many(16).await;
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    let (updates, failed) = (load(&ok), load(&failed));
    Ok(Churned {
        updates,
        failed,
        seconds: started.elapsed().as_secs_f64(),
        pods: pods.len(),
        nodes: nodes.len(),
    })
}
