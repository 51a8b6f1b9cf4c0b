//! Reading a live cluster through kube-rs.
//!
//! Every kind is listed concurrently and page by page (`limit` +
//! `continue`); each page is decoded straight into the slim model, so memory
//! follows what the checks need rather than the size of the raw JSON. Pages
//! are retried with backoff on 429, 5xx and timeouts; an expired continue
//! token (410 Gone) restarts that kind's listing. A kind the server does not
//! serve (OpenShift's Infrastructure on plain Kubernetes) is skipped; one
//! that is forbidden or keeps failing is reported as missing, and the run
//! goes on with the rest.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::params::ListParams;
use kube::{Client, Config};

use super::decode::parse_page;
use super::snapshot::{CollectionInfo, MissingKind, FORMAT_VERSION};
use crate::model::objects::Object;

/// The kinds vigil lists, with their collection paths (cluster-wide).
pub const LISTED: &[(&str, &str)] = &[
    ("Namespace", "/api/v1/namespaces"),
    ("Node", "/api/v1/nodes"),
    ("Pod", "/api/v1/pods"),
    ("Service", "/api/v1/services"),
    ("Endpoints", "/api/v1/endpoints"),
    ("Event", "/api/v1/events"),
    ("Deployment", "/apis/apps/v1/deployments"),
    ("ReplicaSet", "/apis/apps/v1/replicasets"),
    ("StatefulSet", "/apis/apps/v1/statefulsets"),
    ("DaemonSet", "/apis/apps/v1/daemonsets"),
    (
        "PodDisruptionBudget",
        "/apis/policy/v1/poddisruptionbudgets",
    ),
    (
        "HorizontalPodAutoscaler",
        "/apis/autoscaling/v2/horizontalpodautoscalers",
    ),
    ("EndpointSlice", "/apis/discovery.k8s.io/v1/endpointslices"),
    (
        "Infrastructure",
        "/apis/config.openshift.io/v1/infrastructures",
    ),
];

/// How to reach the cluster.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// `--kubeconfig`; else `KUBECONFIG`, `~/.kube/config`, in-cluster.
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Objects per list request.
    pub page_size: u32,
    /// Per request.
    pub timeout: Duration,
    /// Tries per request on 429, 5xx and timeouts.
    pub attempts: u32,
    /// A progress line on stderr.
    pub progress: bool,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            kubeconfig: None,
            context: None,
            page_size: 500,
            timeout: Duration::from_secs(30),
            attempts: 4,
            progress: false,
        }
    }
}

/// Whether to show progress: on a terminal, outside CI.
pub fn progress_wanted() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// What a live collection produced.
#[derive(Debug)]
pub struct Collected {
    pub objects: Vec<Object>,
    pub info: CollectionInfo,
    /// The API server URL, for messages.
    pub server_url: String,
}

/// The cluster could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

enum KindError {
    /// 404: the server does not serve this kind.
    NotServed,
    /// Forbidden, or failing after retries.
    Failed(String),
}

/// Collects the state of the cluster `opts` points at.
pub fn collect(opts: &LiveOptions) -> Result<Collected, Unreachable> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Unreachable(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(collect_async(opts))
}

/// A client for the cluster `opts` points at, with its URL; resolved as
/// kubectl resolves it, TLS verified, every request bounded by `opts.timeout`.
pub async fn connect(opts: &LiveOptions) -> Result<(Client, String), Unreachable> {
    let kco = KubeConfigOptions {
        context: opts.context.clone(),
        ..Default::default()
    };
    let config = match (&opts.kubeconfig, &opts.context) {
        (Some(path), _) => {
            let kc = Kubeconfig::read_from(path)
                .map_err(|e| Unreachable(format!("cannot read kubeconfig {}: {e}", path.display())))?;
            Config::from_custom_kubeconfig(kc, &kco)
                .await
                .map_err(|e| Unreachable(format!("kubeconfig {}: {e}", path.display())))?
        }
        (None, Some(ctx)) => Config::from_kubeconfig(&kco)
            .await
            .map_err(|e| Unreachable(format!("kubeconfig context {ctx:?}: {e}")))?,
        (None, None) => Config::infer().await.map_err(|e| {
            Unreachable(format!(
                "no cluster configured: {e} (pass --kubeconfig, set KUBECONFIG, or --from a state file)"
            ))
        })?,
    };
    let mut config = config;
    config.connect_timeout = Some(opts.timeout);
    config.read_timeout = Some(opts.timeout);
    let url = config.cluster_url.to_string();
    let client = Client::try_from(config)
        .map_err(|e| Unreachable(format!("cannot set up a client for {url}: {e}")))?;
    Ok((client, url))
}

async fn collect_async(opts: &LiveOptions) -> Result<Collected, Unreachable> {
    let (client, url) = connect(opts).await?;
    let version = match tokio::time::timeout(opts.timeout, client.apiserver_version()).await {
        Ok(Ok(v)) => v.git_version,
        Ok(Err(e)) => {
            return Err(Unreachable(format!(
                "API server {url} did not answer: {}",
                describe(&e)
            )))
        }
        Err(_) => {
            return Err(Unreachable(format!(
                "API server {url} did not answer within {}s",
                opts.timeout.as_secs()
            )))
        }
    };
    let progress = Progress::new(opts.progress, &url);
    let lists = LISTED.iter().map(|&(kind, path)| {
        let client = client.clone();
        let progress = &progress;
        async move { (kind, list_kind(&client, kind, path, opts, progress).await) }
    });
    let results = futures::future::join_all(lists).await;
    progress.finish();
    let mut objects = Vec::new();
    let mut missing = Vec::new();
    let mut skipped = Vec::new();
    for (kind, result) in results {
        match result {
            Ok(objs) => objects.extend(objs),
            Err(KindError::NotServed) => skipped.push(kind.to_owned()),
            Err(KindError::Failed(error)) => missing.push(MissingKind {
                kind: kind.to_owned(),
                error,
            }),
        }
    }
    Ok(Collected {
        objects,
        info: CollectionInfo {
            version: FORMAT_VERSION,
            collected_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            server: Some(version),
            missing,
            skipped,
        },
        server_url: url,
    })
}

fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("HTTP {} {}: {}", s.code, s.reason, s.message),
        other => {
            // The innermost cause says most (connection refused, certificate...).
            let mut msg = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            msg
        }
    }
}

enum PageError {
    Gone,
    Kind(KindError),
}

async fn list_kind(
    client: &Client,
    kind: &'static str,
    path: &str,
    opts: &LiveOptions,
    progress: &Progress,
) -> Result<Vec<Object>, KindError> {
    let mut restarts = 0;
    'listing: loop {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            match page(client, kind, path, token.as_deref(), opts).await {
                Ok((objs, next)) => {
                    progress.add(kind, objs.len());
                    objects.extend(objs);
                    match next {
                        Some(t) => token = Some(t),
                        None => {
                            progress.done(kind);
                            return Ok(objects);
                        }
                    }
                }
                Err(PageError::Gone) if restarts < 3 => {
                    // The continue token expired: list again from the start.
                    restarts += 1;
                    progress.reset(kind);
                    continue 'listing;
                }
                Err(PageError::Gone) => {
                    return Err(KindError::Failed(
                        "the listing kept expiring (410 Gone) before it could finish".into(),
                    ))
                }
                Err(PageError::Kind(e)) => {
                    progress.done(kind);
                    return Err(e);
                }
            }
        }
    }
}

async fn page(
    client: &Client,
    kind: &'static str,
    path: &str,
    token: Option<&str>,
    opts: &LiveOptions,
) -> Result<(Vec<Object>, Option<String>), PageError> {
    let mut lp = ListParams::default().limit(opts.page_size);
    if let Some(t) = token {
        lp = lp.continue_token(t);
    }
    let mut last_error = String::new();
    for attempt in 0..opts.attempts.max(1) {
        if attempt > 0 {
            let backoff = Duration::from_millis(250 * (1 << (attempt - 1).min(4)));
            tokio::time::sleep(backoff).await;
        }
        let request = kube::core::Request::new(path)
            .list(&lp)
            .map_err(|e| PageError::Kind(KindError::Failed(e.to_string())))?;
        match tokio::time::timeout(opts.timeout, client.request_text(request)).await {
            Err(_) => last_error = format!("no answer within {}s", opts.timeout.as_secs()),
            Ok(Ok(text)) => {
                return match parse_page(kind, &text) {
                    Ok(p) => Ok((p.objects, p.continue_token)),
                    Err(e) => Err(PageError::Kind(KindError::Failed(format!(
                        "cannot decode the list: {e}"
                    )))),
                }
            }
            Ok(Err(kube::Error::Api(s))) => match s.code {
                404 => return Err(PageError::Kind(KindError::NotServed)),
                410 => return Err(PageError::Gone),
                401 | 403 => {
                    return Err(PageError::Kind(KindError::Failed(format!(
                        "HTTP {} {}: {}",
                        s.code, s.reason, s.message
                    ))))
                }
                429 | 500..=599 => {
                    last_error = format!("HTTP {} {}: {}", s.code, s.reason, s.message)
                }
                _ => {
                    return Err(PageError::Kind(KindError::Failed(format!(
                        "HTTP {} {}: {}",
                        s.code, s.reason, s.message
                    ))))
                }
            },
            Ok(Err(e)) => last_error = describe(&e),
        }
    }
    Err(PageError::Kind(KindError::Failed(format!(
        "{last_error} (after {} tries)",
        opts.attempts.max(1)
    ))))
}

/// A one-line progress report on stderr, redrawn as pages arrive.
struct Progress {
    enabled: bool,
    server: String,
    counts: Mutex<BTreeMap<&'static str, (usize, bool)>>,
}

impl Progress {
    fn new(enabled: bool, server: &str) -> Self {
        Progress {
            enabled,
            server: server.to_owned(),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    fn add(&self, kind: &'static str, n: usize) {
        if self.enabled {
            self.counts.lock().unwrap().entry(kind).or_default().0 += n;
            self.draw();
        }
    }

    fn reset(&self, kind: &'static str) {
        if self.enabled {
            self.counts.lock().unwrap().insert(kind, (0, false));
        }
    }

    fn done(&self, kind: &'static str) {
        if self.enabled {
            self.counts.lock().unwrap().entry(kind).or_default().1 = true;
            self.draw();
        }
    }

    fn draw(&self) {
        let counts = self.counts.lock().unwrap();
        let objects: usize = counts.values().map(|c| c.0).sum();
        let done = counts.values().filter(|c| c.1).count();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[Kcollecting from {}: {objects} objects, {done}/{} kinds listed",
            self.server,
            LISTED.len()
        );
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.enabled {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
