//! Reading a live cluster through kube-rs.
//!
//! Discovery first says which version of each kind the server serves
//! (`policy/v1` or, on older clusters, `policy/v1beta1`...); only a kind
//! discovery does not list is "not served" and skipped. Every kind is then
//! listed concurrently and page by page (`limit` + `continue`). Of each
//! page only its continue token and item count are read at once, so the next
//! page is asked for while this one is decoded straight into the slim model
//! on a blocking thread; a page whose items then fail to decode is asked for
//! again with the same token. The built-in kinds are asked for as protobuf
//! (see [`super::protobuf`]), decoded from the pieces the body arrived in
//! without joining them; the others as JSON; each response is decoded as
//! its content type says. One retry policy covers every
//! request (kube's own is off): 429, 5xx, timeouts, broken connections and
//! cut bodies are retried with backoff within a bounded total time,
//! honouring `Retry-After`, and the message says what the server answered.
//! An expired continue token (410 Gone) restarts that kind's listing; a
//! repeated one stops it. A 401 is a configuration error; a kind that is
//! forbidden or keeps failing is reported as missing, and the run goes on
//! with the rest. No credential reaches a message: see [`crate::redact`].

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use chrono::Utc;
use http_body_util::BodyExt;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

use super::decode::parse_page;
use super::kinds::{Listed, LISTED};
use super::pieces::Pieces;
use super::protobuf;
use super::snapshot::{CollectionInfo, MissingKind, FORMAT_VERSION};
use crate::model::objects::Object;

/// How to reach the cluster.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// `--kubeconfig`; else `KUBECONFIG`, `~/.kube/config`, in-cluster.
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Objects per list request.
    pub page_size: u32,
    /// Per try of a request, the body included.
    pub timeout: Duration,
    /// Tries per request on 429, 5xx, timeouts and broken connections.
    pub attempts: u32,
    /// A progress line on stderr.
    pub progress: bool,
    /// The largest response body read (a list page).
    pub max_page_bytes: u64,
    /// Ask for protobuf where the API server has it (the built-in kinds).
    pub protobuf: bool,
}

/// 256 MiB: a page of 5000 pods is about 40 MB as protobuf, 60 MB as JSON.
pub const DEFAULT_MAX_PAGE_BYTES: u64 = 256 << 20;

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            kubeconfig: None,
            context: None,
            page_size: 5000,
            timeout: Duration::from_secs(30),
            attempts: 4,
            progress: false,
            max_page_bytes: DEFAULT_MAX_PAGE_BYTES,
            protobuf: true,
        }
    }
}

/// Whether to show progress: on a terminal, outside CI.
pub fn progress_wanted() -> bool {
    crate::term::stderr_is_terminal() && std::env::var_os("CI").is_none()
}

/// What a live collection produced.
#[derive(Debug)]
pub struct Collected {
    pub objects: Vec<Object>,
    pub info: CollectionInfo,
    /// The API server URL, for messages (credentials removed).
    pub server_url: String,
    /// How the server encoded each kind listed (both when pages differed).
    pub encodings: BTreeMap<&'static str, Vec<Encoding>>,
}

/// The cluster could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// The configuration is wrong (no or broken kubeconfig, unknown
    /// context, credentials rejected or unobtainable, credentials over
    /// plain http): exit 2, with the fix.
    Config(String),
    /// The API server did not answer usefully: exit 3.
    Down(String),
}

impl Unreachable {
    pub fn is_config(&self) -> bool {
        matches!(self, Unreachable::Config(_))
    }

    pub fn message(&self) -> &str {
        match self {
            Unreachable::Config(m) | Unreachable::Down(m) => m,
        }
    }
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::redact::text(self.message()))
    }
}

enum KindError {
    /// Discovery says the server does not serve this kind.
    NotServed,
    /// The credentials were rejected: the whole run is a configuration error.
    Unauthorized(String),
    /// Forbidden, or failing after retries.
    Failed(String),
}

/// Collects the state of the cluster `opts` points at.
pub fn collect(opts: &LiveOptions) -> Result<Collected, Unreachable> {
    // One thread for the requests; pages are decoded on blocking threads,
    // at most one per core (tokio's default of 512 would start a thread per
    // page waiting to be decoded, and decode them all at once).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(cores)
        .build()
        .map_err(|e| Unreachable::Down(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(collect_async(opts))
}

/// A client and what messages need to know about it.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    /// The server URL, without credentials.
    pub url: String,
    /// How the credentials are obtained, for the message when they cannot be.
    auth: Option<String>,
}

/// A client for the cluster `opts` points at; resolved as kubectl resolves
/// it, TLS verified, kube's own retries off (vigil retries, bounded).
/// Every secret of the kubeconfig is registered for redaction first.
pub async fn connect(opts: &LiveOptions) -> Result<(Client, String), Unreachable> {
    connect_full(opts).await.map(|c| (c.client, c.url))
}

pub(crate) async fn connect_full(opts: &LiveOptions) -> Result<Connection, Unreachable> {
    connect_with(opts, Some(opts.timeout)).await
}

/// A connection whose responses may take `read_timeout` between two reads
/// (`None`: as long as they take, for watches, which bound it themselves).
pub(crate) async fn connect_with(
    opts: &LiveOptions,
    read_timeout: Option<Duration>,
) -> Result<Connection, Unreachable> {
    let kco = KubeConfigOptions {
        context: opts.context.clone(),
        ..Default::default()
    };
    let default_path = || std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config"));
    let from_env = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty());
    let (paths, described): (Vec<PathBuf>, String) = match (&opts.kubeconfig, &from_env) {
        (Some(path), _) => (vec![path.clone()], format!("kubeconfig {}", path.display())),
        (None, Some(list)) => (
            std::env::split_paths(list)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            format!("KUBECONFIG={}", list.to_string_lossy()),
        ),
        (None, None) => match default_path().filter(|p| p.exists()) {
            Some(p) => (vec![p.clone()], format!("kubeconfig {}", p.display())),
            None => (Vec::new(), "in-cluster service account".to_owned()),
        },
    };
    let mut auth = None;
    let mut config = if paths.is_empty() {
        if opts.context.is_some() {
            return Err(Unreachable::Config(
                "--context given but no kubeconfig found (pass --kubeconfig or set KUBECONFIG)"
                    .into(),
            ));
        }
        let token_file =
            std::path::Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token");
        if let Ok(t) = crate::input::read_to_string(token_file, crate::input::KUBECONFIG) {
            crate::redact::register(t.trim());
        }
        Config::incluster().map_err(|e| {
            Unreachable::Config(format!(
                "no cluster configured: no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) and not running in a pod ({e}); or judge a saved state with --from"
            ))
        })?
    } else {
        let mut kc = super::kubeconfig::read(&paths).map_err(Unreachable::Config)?;
        super::kubeconfig::register_secrets(&kc);
        super::kubeconfig::check(&kc, &described).map_err(Unreachable::Config)?;
        auth = auth_source(&kc, opts.context.as_deref());
        super::kubeconfig::guard_exec_plugins(
            &mut kc,
            (opts.timeout * 2).max(Duration::from_secs(60)),
        );
        Config::from_custom_kubeconfig(kc, &kco)
            .await
            .map_err(|e| {
                let why = match (&e, &opts.context) {
                    (KubeconfigError::LoadContext(_), Some(ctx)) => {
                        format!(
                            "it has no context {ctx:?} (`kubectl config get-contexts` lists them)"
                        )
                    }
                    (KubeconfigError::CurrentContextNotSet, _) => {
                        "it sets no current context: pass --context".into()
                    }
                    _ => crate::redact::text(&e.to_string()),
                };
                Unreachable::Config(format!("{described}: {why}"))
            })?
    };
    config.connect_timeout = Some(opts.timeout);
    config.read_timeout = read_timeout;
    // One retry policy, vigil's: bounded in total time, honouring
    // Retry-After, saying what the server answered.
    config.default_retry = false;
    let url = crate::redact::url(&config.cluster_url.to_string());
    refuse_plain_http(&config, &url)?;
    // Setting up the client may already run an exec credential plugin.
    let client = Client::try_from(config).map_err(|e| match e {
        kube::Error::Auth(_) => Unreachable::Config(credentials_failed(auth.as_deref(), &e)),
        other => Unreachable::Config(format!(
            "cannot set up a client for {url}: {}",
            crate::redact::text(&other.to_string())
        )),
    })?;
    Ok(Connection { client, url, auth })
}

/// How the selected user's credentials are obtained, when a program or
/// provider obtains them.
fn auth_source(kc: &Kubeconfig, context: Option<&str>) -> Option<String> {
    let ctx = context.or(kc.current_context.as_deref())?;
    let user = kc
        .contexts
        .iter()
        .find(|c| c.name == ctx)?
        .context
        .as_ref()?
        .user
        .clone()?;
    let a = kc
        .auth_infos
        .iter()
        .find(|a| a.name == user)?
        .auth_info
        .as_ref()?;
    if let Some(cmd) = a.exec.as_ref().and_then(|e| e.command.as_deref()) {
        let base = std::path::Path::new(cmd)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| cmd.to_owned());
        return Some(format!(
            "the exec credential plugin `{base}` of user {user:?}"
        ));
    }
    a.auth_provider
        .as_ref()
        .map(|p| format!("the auth provider `{}` of user {user:?}", p.name))
}

/// Credentials that could not be obtained. A plugin's command line and
/// output are never quoted: they hold client secrets and tokens.
fn credentials_failed(source: Option<&str>, e: &kube::Error) -> String {
    match source {
        Some(src) => format!(
            "the credentials could not be obtained: {src} failed; run it by hand to see why (its arguments and output are not shown here: they may hold secrets)"
        ),
        None => {
            // No plugin: the error is about a token file or certificate.
            let text = describe(e);
            let first = text.split(": Output {").next().unwrap_or(&text);
            format!(
                "the credentials could not be obtained: {}",
                crate::redact::text(first)
            )
        }
    }
}

/// Credentials over plain http:// are readable by anyone on the path:
/// refused unless the server is on this machine (the outbound policy).
fn refuse_plain_http(config: &Config, url: &str) -> Result<(), Unreachable> {
    let a = &config.auth_info;
    let credentials = a.token.is_some()
        || a.token_file.is_some()
        || a.password.is_some()
        || a.exec.is_some()
        || a.auth_provider.is_some();
    if !credentials {
        return Ok(());
    }
    if config.proxy_url.is_some() && config.cluster_url.scheme_str() == Some("http") {
        return Err(Unreachable::Config(format!(
            "refusing to send credentials over plain http:// to {url} through the kubeconfig's proxy-url: the proxy could read them; use the server's https:// URL"
        )));
    }
    crate::outbound::route(&config.cluster_url.to_string(), "credentials")
        .map(|_| ())
        .map_err(Unreachable::Config)
}

/// Whether a host name or address is this machine.
pub fn is_loopback(host: &str) -> bool {
    crate::outbound::is_loopback(host)
}

async fn collect_async(opts: &LiveOptions) -> Result<Collected, Unreachable> {
    let conn = connect_full(opts).await?;
    let url = conn.url.clone();
    let version = match fetch(&conn, "/version", opts, JSON, |r| {
        serde_json::from_slice::<k8s_openapi::apimachinery::pkg::version::Info>(&r.bytes())
            .map_err(|e| format!("not a version document: {e}"))
    })
    .await
    {
        Ok(v) => v.git_version,
        Err(Failure::Unauthorized(m)) => return Err(Unreachable::Config(m)),
        Err(Failure::Credentials(m)) => return Err(Unreachable::Config(m)),
        Err(Failure::Status(404, m)) => {
            return Err(Unreachable::Down(format!(
                "{url} is not a Kubernetes API server (GET /version: {m})"
            )))
        }
        Err(f) => {
            return Err(Unreachable::Down(format!(
                "API server {url} did not answer: {}",
                f.message()
            )))
        }
    };
    let served = discover(&conn, opts).await?;
    let progress = Progress::new(opts.progress, &url);
    let lists = LISTED.iter().map(|listed| {
        let conn = &conn;
        let progress = &progress;
        let served = &served;
        async move {
            let result = match served.get(listed.kind) {
                Some(Served::Version(v)) => list_kind(conn, listed, v, true, opts, progress).await,
                // Every Kubernetes API server serves these: a server that
                // says otherwise is not one, and must not look healthy.
                Some(Served::No) if !listed.optional => Err(KindError::Failed(format!(
                    "discovery says this server does not serve {} ({}), which every Kubernetes API server does",
                    listed.resource,
                    listed.group_version(listed.versions[0])
                ))),
                Some(Served::No) => Err(KindError::NotServed),
                // Discovery could not say: list the newest version, and a
                // 404 then is a failure, not "not served".
                None => list_kind(conn, listed, listed.versions[0], false, opts, progress).await,
            };
            (listed.kind, result)
        }
    });
    let results = futures::future::join_all(lists).await;
    progress.finish();
    let mut objects = Vec::new();
    let mut missing = Vec::new();
    let mut skipped = Vec::new();
    let mut kinds = Vec::new();
    let mut encodings = BTreeMap::new();
    for (kind, result) in results {
        match result {
            Ok(listing) => {
                kinds.push(kind.to_owned());
                objects.extend(listing.objects);
                encodings.insert(kind, listing.encodings.into_iter().collect());
            }
            Err(KindError::NotServed) => skipped.push(kind.to_owned()),
            Err(KindError::Unauthorized(m)) => return Err(Unreachable::Config(m)),
            Err(KindError::Failed(error)) => missing.push(MissingKind {
                kind: kind.to_owned(),
                error: crate::redact::text(&error),
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
            kinds: Some(kinds),
        },
        server_url: url,
        encodings,
    })
}

/// What discovery says of a kind.
enum Served {
    /// Served; list this version.
    Version(&'static str),
    /// Not served by this cluster.
    No,
}

/// Which version of each kind the server serves. Kinds missing from the
/// map could not be looked up (discovery failed): they are listed anyway.
async fn discover(
    conn: &Connection,
    opts: &LiveOptions,
) -> Result<BTreeMap<&'static str, Served>, Unreachable> {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, APIResourceList};
    let groups = match fetch(conn, "/apis", opts, JSON, |r| {
        serde_json::from_slice::<APIGroupList>(&r.bytes()).map_err(|e| e.to_string())
    })
    .await
    {
        Ok(g) => Some(g),
        Err(Failure::Unauthorized(m)) => return Err(Unreachable::Config(m)),
        Err(_) => None,
    };
    // group/version -> resources served there.
    let mut wanted: Vec<String> = vec!["v1".into()];
    for l in LISTED.iter().filter(|l| !l.group.is_empty()) {
        let Some(groups) = &groups else { break };
        if let Some(g) = groups.groups.iter().find(|g| g.name == l.group) {
            for v in l.versions {
                let gv = l.group_version(v);
                if g.versions.iter().any(|x| x.group_version == gv) && !wanted.contains(&gv) {
                    wanted.push(gv);
                }
            }
        }
    }
    let lookups = wanted.iter().map(|gv| async move {
        let path = if gv.contains('/') {
            format!("/apis/{gv}")
        } else {
            format!("/api/{gv}")
        };
        let r = fetch(conn, &path, opts, JSON, |r| {
            serde_json::from_slice::<APIResourceList>(&r.bytes()).map_err(|e| e.to_string())
        })
        .await;
        (gv.clone(), r)
    });
    let mut resources: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    for (gv, r) in futures::future::join_all(lookups).await {
        match r {
            Ok(list) => {
                resources.insert(
                    gv,
                    Some(list.resources.into_iter().map(|r| r.name).collect()),
                );
            }
            Err(Failure::Unauthorized(m)) => return Err(Unreachable::Config(m)),
            Err(_) => {
                resources.insert(gv, None);
            }
        }
    }
    let mut served = BTreeMap::new();
    for l in LISTED {
        if l.group.is_empty() {
            match resources.get("v1") {
                Some(Some(r)) if r.iter().any(|x| x == l.resource) => {
                    served.insert(l.kind, Served::Version("v1"));
                }
                Some(Some(_)) => {
                    served.insert(l.kind, Served::No);
                }
                _ => {}
            }
            continue;
        }
        if groups.is_none() {
            continue;
        }
        let mut known = true;
        let mut found = None;
        for v in l.versions {
            match resources.get(&l.group_version(v)) {
                Some(Some(r)) if r.iter().any(|x| x == l.resource) => {
                    found = Some(*v);
                    break;
                }
                Some(None) => known = false,
                _ => {}
            }
        }
        match (found, known) {
            (Some(v), _) => {
                served.insert(l.kind, Served::Version(v));
            }
            (None, true) => {
                served.insert(l.kind, Served::No);
            }
            (None, false) => {}
        }
    }
    Ok(served)
}

/// Why a request gave up.
#[derive(Debug)]
pub(crate) enum Failure {
    /// 401: the credentials were rejected.
    Unauthorized(String),
    /// The credentials could not be obtained (exec plugin, auth provider).
    Credentials(String),
    /// An HTTP status that retrying does not change (403, 404, 410...).
    Status(u16, String),
    /// Retries used up, or a limit passed.
    GaveUp(String),
    /// The body was larger than `--max-page-mib`.
    TooLarge(String),
}

impl Failure {
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Unauthorized(m)
            | Failure::Credentials(m)
            | Failure::GaveUp(m)
            | Failure::TooLarge(m) => m.clone(),
            Failure::Status(_, m) => m.clone(),
        }
    }
}

/// One try's outcome.
enum Try {
    Retry {
        what: String,
        after: Option<Duration>,
    },
    Stop(Failure),
}

/// GETs `path` and decodes the body, retrying 429, 5xx, timeouts, broken
/// connections and undecodable (cut) bodies with backoff, within
/// `opts.attempts` tries and `opts.budget()` in all; a `Retry-After` the
/// server sends is honoured when it fits the budget. Bodies larger than
/// `opts.max_page_bytes` are refused rather than held in memory.
pub(crate) async fn fetch<T>(
    conn: &Connection,
    path: &str,
    opts: &LiveOptions,
    accept: &str,
    mut decode: impl FnMut(Reply) -> Result<T, String>,
) -> Result<T, Failure> {
    let started = Instant::now();
    let policy = crate::outbound::Retry::new(opts.attempts, opts.timeout);
    let mut last = String::new();
    let mut tries = 0;
    for attempt in 0..policy.attempts {
        tries = attempt + 1;
        let outcome = match tokio::time::timeout(opts.timeout, get(conn, path, accept, opts)).await
        {
            Err(_) => Try::Retry {
                what: format!("no answer within {}s", opts.timeout.as_secs()),
                after: None,
            },
            Ok(Ok(reply)) => {
                let content_type = if reply.content_type.is_empty() {
                    "no content type".to_owned()
                } else {
                    reply.content_type.clone()
                };
                let len = reply.len;
                match decode(reply) {
                    Ok(v) => return Ok(v),
                    Err(e) => Try::Retry {
                        what: format!(
                            "the response could not be decoded ({content_type}, {len} bytes): {e}"
                        ),
                        after: None,
                    },
                }
            }
            Ok(Err(t)) => t,
        };
        let (what, after) = match outcome {
            Try::Stop(f) => return Err(f),
            Try::Retry { what, after } => (what, after),
        };
        last = what;
        let Some(wait) = policy.wait(attempt, started.elapsed(), after) else {
            if let (Some(a), true) = (after, attempt + 1 < policy.attempts) {
                last = format!(
                    "{last}; the server asked to retry after {}s, beyond vigil's budget",
                    a.as_secs()
                );
            }
            break;
        };
        tokio::time::sleep(wait).await;
    }
    Err(Failure::GaveUp(format!(
        "{last} ({})",
        crate::outbound::Retry::tally(tries, started.elapsed())
    )))
}

/// A successful response.
pub(crate) struct Reply {
    /// The body in the pieces it arrived in: protobuf is decoded from
    /// them as they are (joining a page's pieces was a copy of every byte
    /// and a fresh buffer per page).
    body: Pieces,
    len: usize,
    /// The `Content-Type` the server sent (empty if none).
    content_type: String,
}

impl Reply {
    /// The body in one piece (a copy when it came in several).
    pub(crate) fn bytes(self) -> Bytes {
        self.body.into_bytes()
    }
}

pub(crate) const JSON: &str = "application/json";
const PROTOBUF_OR_JSON: &str = "application/vnd.kubernetes.protobuf, application/json;q=0.9";

/// One GET: the body, or what to do about its failure.
async fn get(
    conn: &Connection,
    path: &str,
    accept: &str,
    opts: &LiveOptions,
) -> Result<Reply, Try> {
    let request = http::Request::get(path)
        .header(http::header::ACCEPT, accept)
        .body(kube::client::Body::empty())
        .map_err(|e| Try::Stop(Failure::GaveUp(format!("bad request {path}: {e}"))))?;
    let response = conn.client.send(request).await.map_err(|e| match e {
        kube::Error::Auth(_) => Try::Stop(Failure::Credentials(credentials_failed(
            conn.auth.as_deref(),
            &e,
        ))),
        other => {
            let what = describe(&other);
            // kube's own read timeout says "timed out" deep in a chain of
            // client errors: say it the way vigil's own timeout does.
            Try::Retry {
                what: if what.contains("timed out") {
                    format!("no answer within {}s", opts.timeout.as_secs())
                } else {
                    what
                },
                after: None,
            }
        }
    })?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let retry_after = crate::outbound::retry_after(
        response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
    );
    let body = read_body(response.into_body(), opts.max_page_bytes)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => Try::Stop(Failure::TooLarge(format!(
                "the response to GET {path} is {}",
                crate::input::Limit::pages(opts.max_page_bytes).exceeded()
            ))),
            BodyError::Broken(what) => Try::Retry {
                what: format!("the connection broke while reading the response: {what}"),
                after: None,
            },
        })?;
    let len = body.remaining();
    if status.is_success() {
        return Ok(Reply {
            body,
            len,
            content_type,
        });
    }
    let answer = status_text(status, &body.into_bytes());
    Err(match status.as_u16() {
        401 => Try::Stop(Failure::Unauthorized(format!(
            "the API server {} rejected the credentials ({answer}): they are wrong or expired; log in again (`oc login`, `kubectl config`)",
            conn.url
        ))),
        code if crate::outbound::Retry::retryable(code) => Try::Retry {
            what: answer,
            after: retry_after,
        },
        code => Try::Stop(Failure::Status(code, answer)),
    })
}

/// The start of an error response's body (its Status), at most 64 KiB.
pub(crate) async fn read_small_body(body: kube::client::Body) -> Vec<u8> {
    match read_body(body, 64 << 10).await {
        Ok(p) => p.into_bytes().to_vec(),
        Err(_) => Vec::new(),
    }
}

enum BodyError {
    TooLarge,
    Broken(String),
}

/// The body in the pieces it arrives in; bodies larger than `max` are
/// refused as they come in, not held.
async fn read_body(mut body: kube::client::Body, max: u64) -> Result<Pieces, BodyError> {
    let mut pieces = Pieces::default();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Broken(describe(&e)))?;
        if let Ok(data) = frame.into_data() {
            if (pieces.remaining() + data.len()) as u64 > max {
                return Err(BodyError::TooLarge);
            }
            pieces.push(data);
        }
    }
    Ok(pieces)
}

/// `HTTP 503 Service Unavailable: <the Status message>`.
pub(crate) fn status_text(status: http::StatusCode, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Status {
        #[serde(default)]
        message: String,
    }
    let message = serde_json::from_slice::<Status>(body)
        .map(|s| s.message)
        .ok()
        .or_else(|| protobuf::status_message(body))
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&body[..body.len().min(200)])
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        });
    let reason = status.canonical_reason().unwrap_or("");
    let message = crate::redact::text(message.trim());
    if message.is_empty() {
        format!("HTTP {} {reason}", status.as_u16())
    } else {
        format!("HTTP {} {reason}: {message}", status.as_u16())
    }
}

pub(crate) fn describe(e: &dyn std::error::Error) -> String {
    // The innermost cause says most (connection refused, certificate...).
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !msg.contains(&s_text) {
            msg = format!("{msg}: {s_text}");
        }
        src = s.source();
    }
    msg
}

/// How a response was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Encoding {
    Protobuf,
    Json,
}

/// One kind's objects, and how the server sent them.
struct Listing {
    objects: Vec<Object>,
    encodings: std::collections::BTreeSet<Encoding>,
}

/// Consecutive empty pages with a continue token before a listing is
/// judged stuck.
const MAX_EMPTY_PAGES: usize = 50;

/// A page as it arrived: the continue token and the number of objects are
/// read at once, so that the next page is asked for while this one's
/// objects are decoded on another thread. Decoding in line left the API
/// server idle for that kind while vigil decoded, page after page.
struct Received {
    continue_token: Option<String>,
    count: usize,
    encoding: Encoding,
    objects: Pending,
}

/// A page's objects, decoded or still to be.
enum Pending {
    /// Decoded at once (a JSON page the fast reader did not take).
    Ready(Vec<Object>),
    Protobuf(protobuf::Outlined),
    Json {
        body: Bytes,
        kind: &'static str,
        gv: String,
        continue_token: Option<String>,
    },
}

impl Pending {
    fn decode(self) -> Result<Vec<Object>, String> {
        match self {
            Pending::Ready(objects) => Ok(objects),
            Pending::Protobuf(outlined) => outlined.decode(),
            Pending::Json {
                body,
                kind,
                gv,
                continue_token,
            } => {
                let text = std::str::from_utf8(&body).map_err(|e| format!("not UTF-8: {e}"))?;
                let page = parse_page(kind, Some(&gv), text).map_err(|e| e.to_string())?;
                // The outline and the whole decoding read the same text.
                if page.continue_token != continue_token {
                    return Err("the continue token read twice differs".into());
                }
                Ok(page.objects)
            }
        }
    }
}

/// Reads what the next request needs from a response (see [`Received`]);
/// a body that is not a whole page of `kind` is refused here.
fn receive(kind: &'static str, gv: &str, r: Reply) -> Result<Received, String> {
    if protobuf::is_protobuf(&r.content_type) {
        let outlined = protobuf::outline_page(kind, gv, r.body)?;
        return Ok(Received {
            continue_token: outlined.continue_token().map(str::to_owned),
            count: outlined.count(),
            encoding: Encoding::Protobuf,
            objects: Pending::Protobuf(outlined),
        });
    }
    let body = r.bytes();
    let text = std::str::from_utf8(&body).map_err(|e| format!("not UTF-8: {e}"))?;
    if let Some((continue_token, count)) = super::decode::outline_page(text) {
        return Ok(Received {
            continue_token: continue_token.clone(),
            count,
            encoding: Encoding::Json,
            objects: Pending::Json {
                body: body.clone(),
                kind,
                gv: gv.to_owned(),
                continue_token,
            },
        });
    }
    let page = parse_page(kind, Some(gv), text).map_err(|e| e.to_string())?;
    Ok(Received {
        continue_token: page.continue_token,
        count: page.objects.len(),
        encoding: Encoding::Json,
        objects: Pending::Ready(page.objects),
    })
}

/// A page asked for and still being decoded.
struct InFlight {
    path: String,
    continue_token: Option<String>,
    objects: tokio::task::JoinHandle<Result<Vec<Object>, String>>,
}

async fn list_kind(
    conn: &Connection,
    listed: &Listed,
    version: &'static str,
    discovered: bool,
    opts: &LiveOptions,
    progress: &Progress,
) -> Result<Listing, KindError> {
    let listing = list_pages(conn, listed, version, discovered, opts, progress).await;
    progress.done(listed.kind);
    listing
}

/// The pages of one kind, put together; see [`list_kind`].
async fn list_pages(
    conn: &Connection,
    listed: &Listed,
    version: &'static str,
    discovered: bool,
    opts: &LiveOptions,
    progress: &Progress,
) -> Result<Listing, KindError> {
    let kind = listed.kind;
    let gv = listed.group_version(version);
    // Protobuf where the server has it, JSON otherwise; the response's
    // content type says which came back.
    let accept = if opts.protobuf && protobuf::served_as_protobuf(kind, listed.group) {
        PROTOBUF_OR_JSON
    } else {
        JSON
    };
    let l = Lister {
        conn,
        listed,
        kind,
        base: listed.path(version),
        gv,
        accept,
        discovered,
        opts,
        progress,
    };
    let mut restarts = 0;
    loop {
        let result = match l.request_pages().await {
            Ok((pages, encodings)) => l
                .gather(pages)
                .await
                .map(|objects| Listing { objects, encodings }),
            Err(e) => Err(e),
        };
        match result {
            Ok(listing) => return Ok(listing),
            // The continue token expired, or the cluster changed between
            // two answers: list again from the start, three times at most.
            Err(Again::Restart(_)) if restarts < 3 => {
                restarts += 1;
                progress.reset(kind);
            }
            Err(Again::Restart(e) | Again::Fail(e)) => return Err(e),
        }
    }
}

/// Why one pass over the pages did not make a listing.
enum Again {
    /// Listing again from the start may work; the error if it may not.
    Restart(KindError),
    Fail(KindError),
}

/// One kind's listing: what every page request needs.
struct Lister<'a> {
    conn: &'a Connection,
    listed: &'a Listed,
    kind: &'static str,
    base: String,
    gv: String,
    accept: &'static str,
    discovered: bool,
    opts: &'a LiveOptions,
    progress: &'a Progress,
}

impl Lister<'_> {
    fn failed(&self, f: Failure) -> KindError {
        kind_failure(f, self.listed, &self.gv, self.discovered)
    }

    /// Requests every page in turn, decoding each in the background as the
    /// next is asked for.
    async fn request_pages(
        &self,
    ) -> Result<(Vec<InFlight>, std::collections::BTreeSet<Encoding>), Again> {
        let (kind, opts) = (self.kind, self.opts);
        let mut in_flight: Vec<InFlight> = Vec::new();
        let mut token: Option<String> = None;
        // Hashes, not the tokens: a server handing out a new 60 kB token
        // per page would otherwise grow this without bound.
        let mut seen_tokens: HashSet<u64> = HashSet::new();
        let mut empty_pages = 0;
        let mut pages = 0usize;
        let mut encodings = std::collections::BTreeSet::new();
        let mut limit = opts.page_size.max(1);
        loop {
            let mut path = format!("{}?limit={limit}", self.base);
            if let Some(t) = &token {
                path.push_str("&continue=");
                path.push_str(&percent_encode(t));
            }
            let gv = &self.gv;
            match fetch(self.conn, &path, opts, self.accept, |r| {
                receive(kind, gv, r)
            })
            .await
            {
                Ok(page) if page.count > limit as usize => {
                    return Err(Again::Fail(KindError::Failed(format!(
                        "the server sent {} objects in a page of at most {limit}: it ignores `limit`, and such a page is not read (a page's objects cost far more memory decoded than sent)",
                        page.count
                    ))));
                }
                Ok(page) => {
                    pages += 1;
                    encodings.insert(page.encoding);
                    self.progress.add(kind, page.count);
                    empty_pages = if page.count == 0 { empty_pages + 1 } else { 0 };
                    let next = page.continue_token.clone();
                    let pending = page.objects;
                    in_flight.push(InFlight {
                        path,
                        continue_token: next.clone(),
                        objects: tokio::task::spawn_blocking(move || pending.decode()),
                    });
                    match next {
                        None => return Ok((in_flight, encodings)),
                        Some(t) if !seen_tokens.insert(token_hash(&t)) => {
                            return Err(Again::Fail(KindError::Failed(format!(
                                "the server sent the same continue token twice (after {pages} pages): the listing would never end"
                            ))));
                        }
                        Some(_) if empty_pages >= MAX_EMPTY_PAGES => {
                            return Err(Again::Fail(KindError::Failed(format!(
                                "{MAX_EMPTY_PAGES} empty pages in a row, each with a continue token: the listing would never end"
                            ))));
                        }
                        Some(t) => token = Some(t),
                    }
                }
                Err(Failure::TooLarge(_)) if limit > 1 => {
                    // Large objects (nodes with hundreds of images): ask
                    // for the same page again, in smaller pages.
                    limit = (limit / 8).max(1);
                }
                Err(Failure::TooLarge(m)) => {
                    return Err(Again::Fail(KindError::Failed(format!(
                        "{m} (even at one object per page, or the server ignores `limit`)"
                    ))));
                }
                Err(f @ Failure::Status(410, _)) => return Err(Again::Restart(self.failed(f))),
                Err(f) => return Err(Again::Fail(self.failed(f))),
            }
        }
    }

    /// Every page has arrived; gathers their objects in order. A page that
    /// was whole but held an object that could not be decoded is asked for
    /// again and decoded at once, retried as any undecodable response is.
    async fn gather(&self, in_flight: Vec<InFlight>) -> Result<Vec<Object>, Again> {
        let (kind, gv) = (self.kind, &self.gv);
        let mut objects = Vec::new();
        for page in in_flight {
            let decoded = page
                .objects
                .await
                .unwrap_or_else(|e| Err(format!("decoding stopped: {e}")));
            if let Ok(decoded) = decoded {
                objects.extend(decoded);
                continue;
            }
            let again = fetch(self.conn, &page.path, self.opts, self.accept, |r| {
                let received = receive(kind, gv, r)?;
                let token = received.continue_token;
                received.objects.decode().map(|o| (token, o))
            })
            .await;
            match again {
                Ok((token, decoded)) if token == page.continue_token => objects.extend(decoded),
                // Another continue token: the cluster changed since the
                // first answer and this page is of another snapshot.
                Ok(_) => {
                    return Err(Again::Restart(KindError::Failed(
                        "a page asked for again kept coming back with another continue token (the cluster changes faster than it can be listed): the listing cannot be put together".into(),
                    )));
                }
                Err(f @ Failure::Status(410, _)) => return Err(Again::Restart(self.failed(f))),
                Err(f) => return Err(Again::Fail(self.failed(f))),
            }
        }
        Ok(objects)
    }
}

/// A continue token's hash, to see a repeat without keeping the token.
fn token_hash(t: &str) -> u64 {
    std::hash::BuildHasher::hash_one(&foldhash::quality::FixedState::with_seed(7), t)
}

/// What a request's failure means for the listing of a kind.
fn kind_failure(f: Failure, listed: &Listed, gv: &str, discovered: bool) -> KindError {
    match f {
        Failure::Status(410, _) => {
            KindError::Failed("the listing kept expiring (410 Gone) before it could finish".into())
        }
        Failure::Status(404, m) if discovered => KindError::Failed(format!(
            "{m}, although discovery says {gv} serves {}: a proxy or gateway in the way?",
            listed.resource
        )),
        Failure::Status(404, m) => KindError::Failed(format!(
            "{m} (discovery could not be read, so this is not taken as \"not served\")"
        )),
        Failure::Status(403, m) => KindError::Failed(format!(
            "{m} (grant get/list on {}: deploy/rbac.yaml has the ClusterRole vigil needs)",
            listed.resource
        )),
        Failure::Unauthorized(m) | Failure::Credentials(m) => KindError::Unauthorized(m),
        other => KindError::Failed(other.message()),
    }
}

/// Percent-encodes a continue token for the query string.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
        crate::term::progress(&format!(
            "collecting from {}: {objects} objects, {done}/{} kinds listed",
            self.server,
            LISTED.len()
        ));
    }

    fn finish(&self) {
        if self.enabled {
            crate::term::progress_done();
        }
    }
}
