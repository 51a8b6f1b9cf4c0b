//! Disruption polling during `vigil watch --disruption`: the cluster's
//! backends (its API server, OpenShift's APIs and routes, the user's URLs
//! and Services) asked once a second on two kinds of connection, every
//! outage recorded as an interval ([`crate::model::intervals`]).
//!
//! As origin measures "backend disruption": a `new` connection opens a
//! fresh TCP+TLS connection for every request (`Connection: close`), which
//! sees a load balancer or a listener that is gone; a `reused` connection
//! keeps one alive, which sees a server that stops answering on
//! established connections. Each sample is one bounded request, never
//! retried: a failure is what is measured.
//!
//! vigil must not mistake its own stall for an outage: a sample taken more
//! than [`STARVED`] late (the process was descheduled, the machine
//! suspended, the clock jumped) is `unknown` and counted as such, never as
//! an outage. Polling runs on its own thread, so a busy watch does not
//! delay it.
//!
//! Requests to the API server (the cluster's own backends and `service:`
//! targets, through its service proxy) carry the kubeconfig's credentials
//! and go through the connection `vigil run` uses (the same outbound
//! policy). URL targets get no credential: a URL with a user or password
//! in it is refused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::live::{Connection, LiveOptions};
use crate::model::intervals::{Interval, Reason};

pub use crate::model::intervals::BACKEND_KIND;

/// How often each backend is asked.
pub const PERIOD: Duration = Duration::from_secs(1);

/// A sample this late is vigil's stall, not the backend's: unknown.
pub const STARVED: Duration = Duration::from_secs(2);

/// A sample reads at most this much of a reply's body.
const BODY_READ: usize = 1 << 20;

/// A backend to poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Stable, for the test name: `kube-api`, `console`, the user's NAME.
    pub name: String,
    /// The Jira component its test is tagged with, when known here.
    pub component: Option<String>,
    /// For `service:` targets, the Service's namespace (its owner tags the
    /// test when no component is given).
    pub namespace: Option<String>,
    pub how: How,
}

/// Where a target is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// A path on the API server, with the kubeconfig's credentials.
    Cluster(String),
    /// A URL, without credentials.
    Url(String),
}

/// The two kinds of connection a backend is polled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Conn {
    New,
    Reused,
}

impl Conn {
    pub fn as_str(self) -> &'static str {
        match self {
            Conn::New => "new",
            Conn::Reused => "reused",
        }
    }
}

/// `NAME=URL`, `NAME=service:NAMESPACE/SERVICE:PORT/PATH`, with an optional
/// `@COMPONENT` after the name: `shop@Shop Team=https://shop.example/healthz`.
pub fn parse_target(spec: &str) -> Result<Target, String> {
    let (head, what) = spec.split_once('=').ok_or_else(|| {
        format!("{spec:?}: want NAME=URL or NAME=service:NAMESPACE/SERVICE:PORT/PATH")
    })?;
    let (name, component) = match head.split_once('@') {
        Some((n, c)) if !c.trim().is_empty() => (n, Some(c.trim().to_owned())),
        Some((n, _)) => (n, None),
        None => (head, None),
    };
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "{spec:?}: the name {name:?} names a test: lowercase letters, digits and '-' only"
        ));
    }
    if let Some(c) = &component {
        if c.contains(['"', ']']) || c.chars().any(char::is_control) {
            return Err(format!(
                "{spec:?}: a component cannot hold '\"', ']' or control characters"
            ));
        }
    }
    let (how, namespace) = match what.strip_prefix("service:") {
        Some(rest) => {
            let (ns, rest) = rest.split_once('/').ok_or_else(|| service_form(spec))?;
            let (svc_port, path) = rest.split_once('/').unwrap_or((rest, ""));
            let (svc, port) = svc_port.split_once(':').ok_or_else(|| service_form(spec))?;
            // Namespaces, Services and port names are DNS labels.
            let dns = |s: &str| {
                !s.is_empty()
                    && !s.starts_with('-')
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            };
            if !dns(ns) || !dns(svc) || !dns(port) {
                return Err(service_form(spec));
            }
            let path_ok = path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b));
            if !path_ok || path.split('/').any(|seg| seg == "..") {
                return Err(format!(
                    "{spec:?}: the path may hold letters, digits and - . _ ~ / only (no query, no ..)"
                ));
            }
            (
                How::Cluster(format!(
                    "/api/v1/namespaces/{ns}/services/{svc}:{port}/proxy/{path}"
                )),
                Some(ns.to_owned()),
            )
        }
        None => {
            let uri: http::Uri = what
                .parse()
                .map_err(|e| format!("{spec:?}: {what:?} is not a URL: {e}"))?;
            match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
                Some("http" | "https") => {}
                _ => return Err(format!("{spec:?}: want an http:// or https:// URL")),
            }
            if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
                return Err(format!(
                    "{spec:?}: a URL with a user or password in it: vigil sends no credentials to disruption targets"
                ));
            }
            (How::Url(what.to_owned()), None)
        }
    };
    Ok(Target {
        name: name.to_owned(),
        component,
        namespace,
        how,
    })
}

fn service_form(spec: &str) -> String {
    format!("{spec:?}: want NAME=service:NAMESPACE/SERVICE:PORT/PATH, e.g. web=service:shop/web:8080/healthz")
}

/// The API server itself: `/readyz`, as its load balancer asks it.
pub fn kube_api() -> Target {
    Target {
        name: "kube-api".into(),
        component: Some("kube-apiserver".into()),
        namespace: None,
        how: How::Cluster("/readyz".into()),
    }
}

/// What one sample saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Up,
    /// Why not: `connection refused`, `timeout after 3s`, `HTTP 503`...
    Down(String),
    /// vigil was starved: the sample says nothing about the backend.
    Unknown,
}

/// Turns one backend's samples on one connection into intervals.
#[derive(Debug)]
pub struct Tracker {
    target: Target,
    conn: Conn,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    samples: u64,
    unknown: u64,
    open: Option<(DateTime<Utc>, String)>,
    done: Vec<Interval>,
}

impl Tracker {
    pub fn new(target: Target, conn: Conn) -> Tracker {
        Tracker {
            target,
            conn,
            first: None,
            last: None,
            samples: 0,
            unknown: 0,
            open: None,
            done: Vec::new(),
        }
    }

    /// A sample taken at `at`. An outage begins at the first failing
    /// sample and ends at the next good one; a change of cause (refused,
    /// then 503) is a new interval.
    pub fn sample(&mut self, at: DateTime<Utc>, outcome: Outcome) {
        self.first.get_or_insert(at);
        self.last = Some(at);
        self.samples += 1;
        match outcome {
            Outcome::Unknown => self.unknown += 1,
            Outcome::Up => self.close(at, false),
            Outcome::Down(why) => match &self.open {
                Some((_, cause)) if *cause == why => {}
                Some(_) => {
                    self.close(at, false);
                    self.open = Some((at, why));
                }
                None => self.open = Some((at, why)),
            },
        }
    }

    fn close(&mut self, at: DateTime<Utc>, ongoing: bool) {
        if let Some((start, cause)) = self.open.take() {
            let mut i = self.record(Reason::Disruption, start, at);
            i.ongoing = ongoing;
            i.message = Some(cause);
            self.done.push(i);
        }
    }

    fn record(&self, reason: Reason, start: DateTime<Utc>, end: DateTime<Utc>) -> Interval {
        Interval {
            kind: BACKEND_KIND.into(),
            namespace: self.target.namespace.clone().unwrap_or_default(),
            name: self.target.name.clone(),
            owner: None,
            container: None,
            reason,
            start,
            end,
            ongoing: false,
            message: None,
            count: None,
            connection: Some(self.conn.as_str().into()),
            component: self.target.component.clone(),
        }
    }

    /// Ends an open outage at `now` (ongoing) and returns the intervals,
    /// with one `DisruptionPolled` record saying the backend was polled:
    /// `count` the samples that were not unknown, `message` all and unknown.
    pub fn finish(mut self, now: DateTime<Utc>) -> Vec<Interval> {
        self.close(now, true);
        let mut polled = self.record(
            Reason::DisruptionPolled,
            self.first.unwrap_or(now),
            self.last.unwrap_or(now),
        );
        // The samples that said something: none at all is no data.
        polled.count = Some(self.samples - self.unknown);
        polled.message = Some(match self.unknown {
            0 => format!("{} samples", self.samples),
            u => format!(
                "{} samples, {u} unknown (vigil itself was starved then)",
                self.samples
            ),
        });
        let mut out = std::mem::take(&mut self.done);
        out.push(polled);
        out
    }
}

/// What to poll.
#[derive(Debug, Clone)]
pub struct Options {
    pub targets: Vec<Target>,
    /// Also discover OpenShift's APIs and routes.
    pub discover: bool,
    /// One sample's limit.
    pub timeout: Duration,
}

/// Polling in progress, on its own thread.
pub struct Poller {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Interval>>,
}

impl Poller {
    /// Starts polling; it runs until [`Poller::finish`].
    pub fn start(live: &LiveOptions, opts: Options) -> Poller {
        let stop = Arc::new(AtomicBool::new(false));
        let (live, flag) = (live.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("vigil-disruption".into())
            .spawn(move || poll(&live, opts, &flag))
            .expect("a thread for disruption polling");
        Poller { stop, thread }
    }

    /// Stops polling and returns what it recorded.
    pub fn finish(self) -> Vec<Interval> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

fn poll(live: &LiveOptions, opts: Options, stop: &Arc<AtomicBool>) -> Vec<Interval> {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return not_polled(
                &opts.targets,
                format!("cannot start the async runtime: {e}"),
            )
        }
    };
    let out = rt.block_on(poll_async(live, opts, stop));
    rt.shutdown_background();
    out
}

/// Every target marked polled with no sample, saying why: judged as not
/// evaluated, never as available.
fn not_polled(targets: &[Target], why: String) -> Vec<Interval> {
    let mut out = Vec::new();
    for t in targets {
        for conn in [Conn::New, Conn::Reused] {
            out.extend(unpolled(t, conn, &why));
        }
    }
    out
}

/// One backend on one connection polled with no sample, saying why.
fn unpolled(t: &Target, conn: Conn, why: &str) -> Vec<Interval> {
    let mut i = Tracker::new(t.clone(), conn).finish(Utc::now());
    if let Some(last) = i.last_mut() {
        last.message = Some(format!("no sample: {why}"));
    }
    i
}

async fn poll_async(live: &LiveOptions, opts: Options, stop: &Arc<AtomicBool>) -> Vec<Interval> {
    let mut targets = opts.targets.clone();
    // One client per connection kind: their pools are apart, so the
    // `reused` connection is never one a `new` request opened.
    let clients = async {
        let new = super::live::connect_with(live, Some(opts.timeout)).await?;
        let reused = super::live::connect_with(live, Some(opts.timeout)).await?;
        Ok::<_, super::live::Unreachable>((new, reused))
    }
    .await;
    let (new, reused) = match clients {
        Ok(c) => c,
        Err(e) => return not_polled(&targets, e.message().to_owned()),
    };
    if opts.discover {
        let found = discover(&reused, opts.timeout).await;
        // A name the user gave is the user's backend.
        targets.extend(
            found
                .into_iter()
                .filter(|d| opts.targets.iter().all(|t| t.name != d.name)),
        );
    }
    let mut out = Vec::new();
    let mut tasks = Vec::new();
    let mut threads = Vec::new();
    for t in &targets {
        for conn in [Conn::New, Conn::Reused] {
            let tracker = Tracker::new(t.clone(), conn);
            match &t.how {
                How::Cluster(path) => {
                    let client = match conn {
                        Conn::New => new.clone(),
                        Conn::Reused => reused.clone(),
                    };
                    let (path, stop) = (path.clone(), stop.clone());
                    let task = poll_cluster(client, path, conn, opts.timeout, tracker, stop);
                    tasks.push((t, conn, tokio::spawn(task)));
                }
                // ureq is blocking: its own thread, small, started here
                // once; a thread that cannot start is said, not a panic.
                How::Url(url) => {
                    let agent = url_agent(conn, opts.timeout);
                    let (url, stop, timeout) = (url.clone(), stop.clone(), opts.timeout);
                    let spawned = std::thread::Builder::new()
                        .name("vigil-disruption-url".into())
                        .stack_size(256 << 10)
                        .spawn(move || poll_url(&agent, &url, timeout, tracker, &stop));
                    match spawned {
                        Ok(h) => threads.push((t, conn, h)),
                        Err(e) => out.extend(unpolled(
                            t,
                            conn,
                            &format!("vigil could not start a thread to poll it: {e}"),
                        )),
                    }
                }
            }
        }
    }
    for (t, conn, task) in tasks {
        match task.await {
            Ok(i) => out.extend(i),
            Err(e) => out.extend(unpolled(t, conn, &format!("polling failed: {e}"))),
        }
    }
    for (t, conn, h) in threads {
        match h.join() {
            Ok(i) => out.extend(i),
            Err(_) => out.extend(unpolled(t, conn, "polling failed: its thread panicked")),
        }
    }
    out
}

/// When each sample is due, and whether vigil itself kept time.
struct Schedule {
    start: Instant,
    n: u32,
    clocks: Clocks,
}

impl Schedule {
    fn new() -> Schedule {
        Schedule {
            start: Instant::now(),
            n: 0,
            clocks: Clocks::now(),
        }
    }

    /// The next slot: once per [`PERIOD`]; after a sample that took longer
    /// than a period (a timeout), the next slot, not a burst to catch up.
    fn next(&mut self) -> Instant {
        let now = Instant::now();
        let mut planned = self.start + PERIOD * self.n;
        if planned < now {
            self.n = (now.duration_since(self.start).as_millis() / PERIOD.as_millis()) as u32 + 1;
            planned = self.start + PERIOD * self.n;
        }
        self.n = self.n.saturating_add(1);
        planned
    }

    /// After waking for `planned`: whether vigil woke more than [`STARVED`]
    /// late or its clock jumped, so the sample would say nothing.
    fn starved(&mut self, planned: Instant) -> bool {
        let late = Instant::now().saturating_duration_since(planned) > STARVED;
        let jumped = self.clocks.jumped();
        late || jumped
    }
}

/// A sample that took far longer than its own timeout allows was stalled
/// here, not there: unknown.
fn kept_time(began: Instant, timeout: Duration, o: Outcome) -> Outcome {
    if began.elapsed() > timeout + STARVED {
        Outcome::Unknown
    } else {
        o
    }
}

/// Polls a path on the API server until stopped.
async fn poll_cluster(
    client: Connection,
    path: String,
    conn: Conn,
    timeout: Duration,
    mut tracker: Tracker,
    stop: Arc<AtomicBool>,
) -> Vec<Interval> {
    let mut schedule = Schedule::new();
    while !stop.load(Ordering::Relaxed) {
        let planned = schedule.next();
        tokio::time::sleep_until(planned.into()).await;
        let at = Utc::now();
        let outcome = if schedule.starved(planned) {
            Outcome::Unknown
        } else {
            let began = Instant::now();
            let o = cluster_sample(&client, &path, conn, timeout).await;
            kept_time(began, timeout, o)
        };
        if stop.load(Ordering::Relaxed) {
            break;
        }
        tracker.sample(at, outcome);
    }
    tracker.finish(Utc::now())
}

/// Polls a URL until stopped, on its own thread.
fn poll_url(
    agent: &ureq::Agent,
    url: &str,
    timeout: Duration,
    mut tracker: Tracker,
    stop: &AtomicBool,
) -> Vec<Interval> {
    let mut schedule = Schedule::new();
    while !stop.load(Ordering::Relaxed) {
        let planned = schedule.next();
        std::thread::sleep(planned.saturating_duration_since(Instant::now()));
        let at = Utc::now();
        let outcome = if schedule.starved(planned) {
            Outcome::Unknown
        } else {
            let began = Instant::now();
            kept_time(began, timeout, url_sample(agent, url, timeout))
        };
        if stop.load(Ordering::Relaxed) {
            break;
        }
        tracker.sample(at, outcome);
    }
    tracker.finish(Utc::now())
}

/// The wall clock against the monotonic one: when they part by more than
/// [`STARVED`] between two samples, the machine was suspended or the clock
/// was set, and the sample in between says nothing.
struct Clocks {
    wall: DateTime<Utc>,
    mono: Instant,
}

impl Clocks {
    fn now() -> Clocks {
        Clocks {
            wall: Utc::now(),
            mono: Instant::now(),
        }
    }

    fn jumped(&mut self) -> bool {
        let next = Clocks::now();
        let wall = (next.wall - self.wall).num_milliseconds();
        let mono = next.mono.duration_since(self.mono).as_millis() as i64;
        *self = next;
        (wall - mono).unsigned_abs() > STARVED.as_millis() as u64
    }
}

/// An agent for a URL target: no pool for `new` (every request connects),
/// one kept-alive connection for `reused`. The certificate is not verified:
/// no credential is sent, only availability is measured, and ingress
/// certificates are often signed by the cluster's own CA.
fn url_agent(conn: Conn, timeout: Duration) -> ureq::Agent {
    let idle = match conn {
        Conn::New => 0,
        Conn::Reused => 1,
    };
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .max_idle_connections(idle)
        .max_idle_connections_per_host(idle)
        .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION"), " disruption"))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .disable_verification(true)
                .build(),
        )
        .build()
        .into()
}

fn url_sample(agent: &ureq::Agent, url: &str, timeout: Duration) -> Outcome {
    let mut req = agent.get(url);
    if idle_disabled(agent) {
        req = req.header("Connection", "close");
    }
    match req.call() {
        Ok(mut r) => {
            let status = r.status().as_u16();
            if !(200..=399).contains(&status) {
                return Outcome::Down(format!("HTTP {status}"));
            }
            // The body is read (a reply cut short is down), up to
            // BODY_READ: a large page that keeps coming is up.
            let mut reader = r.body_mut().as_reader();
            let (mut buf, mut read) = ([0u8; 8192], 0usize);
            loop {
                match std::io::Read::read(&mut reader, &mut buf) {
                    Ok(0) => return Outcome::Up,
                    Ok(n) => {
                        read += n;
                        if read >= BODY_READ {
                            return Outcome::Up;
                        }
                    }
                    Err(e) => return Outcome::Down(classify(&e.to_string(), timeout)),
                }
            }
        }
        Err(e) => Outcome::Down(classify(&e.to_string(), timeout)),
    }
}

fn idle_disabled(agent: &ureq::Agent) -> bool {
    agent.config().max_idle_connections() == 0
}

async fn cluster_sample(client: &Connection, path: &str, conn: Conn, timeout: Duration) -> Outcome {
    use http_body_util::BodyExt;
    let mut req = http::Request::get(path);
    if conn == Conn::New {
        req = req.header(http::header::CONNECTION, "close");
    }
    let Ok(req) = req.body(kube::client::Body::empty()) else {
        return Outcome::Down(format!("bad request path {path}"));
    };
    let asked = async {
        let r = client
            .client
            .send(req)
            .await
            .map_err(|e| classify(&super::live::describe(&e), timeout))?;
        let status = r.status();
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        // The body is read (a reply cut short is down), up to BODY_READ.
        let mut body = r.into_body();
        let mut read = 0usize;
        while read < BODY_READ {
            match body.frame().await {
                None => break,
                Some(Ok(f)) => read += f.data_ref().map_or(0, |d| d.len()),
                Some(Err(e)) => return Err(classify(&e.to_string(), timeout)),
            }
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, asked).await {
        Err(_) => Outcome::Down(format!("timeout after {}s", timeout.as_secs_f32())),
        Ok(Ok(())) => Outcome::Up,
        Ok(Err(why)) => Outcome::Down(why),
    }
}

/// A short, stable cause: an interval is split where the cause changes, so
/// it must not carry ports, addresses or counters.
pub fn classify(error: &str, timeout: Duration) -> String {
    let e = error.to_ascii_lowercase();
    let cause = if e.contains("refused") {
        "connection refused"
    } else if e.contains("reset") {
        "connection reset"
    } else if e.contains("timed out") || e.contains("timeout") || e.contains("deadline") {
        return format!("timeout after {}s", timeout.as_secs_f32());
    } else if e.contains("dns") || e.contains("resolve") || e.contains("lookup") {
        "name not resolved"
    } else if e.contains("certificate") || e.contains("tls") || e.contains("handshake") {
        "TLS handshake failed"
    } else if e.contains("closed")
        || e.contains("eof")
        || e.contains("incomplete")
        || e.contains("disconnected")
    {
        "connection closed early"
    } else if e.contains("unreachable") || e.contains("no route") {
        "network unreachable"
    } else {
        // Something else: its words, without the numbers (addresses,
        // ports, counters) that would split one outage into many.
        let words: String = crate::term::one_line(&crate::redact::text(error))
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .take(80)
            .collect();
        return format!("request failed: {}", words.trim());
    };
    cause.to_owned()
}

/// OpenShift's own backends, where they exist: its API servers (through
/// the API server's aggregation, with the kubeconfig's credentials) and
/// the routes of oauth, the console and the image registry (by URL).
async fn discover(client: &Connection, timeout: Duration) -> Vec<Target> {
    let mut out = Vec::new();
    let cluster = |name: &str, component: &str, path: &str| Target {
        name: name.into(),
        component: Some(component.into()),
        namespace: None,
        how: How::Cluster(path.into()),
    };
    for (name, component, path) in [
        (
            "openshift-api",
            "openshift-apiserver",
            "/apis/image.openshift.io/v1",
        ),
        (
            "oauth-api",
            "oauth-apiserver",
            "/apis/oauth.openshift.io/v1",
        ),
    ] {
        if answers(client, path, timeout).await {
            out.push(cluster(name, component, path));
        }
    }
    for (name, component, ns, route, path) in [
        (
            "oauth",
            "apiserver-auth",
            "openshift-authentication",
            "oauth-openshift",
            "/healthz",
        ),
        (
            "console",
            "Management Console",
            "openshift-console",
            "console",
            "/",
        ),
        (
            "image-registry",
            "Image Registry",
            "openshift-image-registry",
            "default-route",
            "/healthz",
        ),
    ] {
        if let Some(host) = route_host(client, ns, route, timeout).await {
            out.push(Target {
                name: name.into(),
                component: Some(component.into()),
                namespace: None,
                how: How::Url(format!("https://{host}{path}")),
            });
        }
    }
    if !out.is_empty() {
        let names: Vec<&str> = out.iter().map(|t| t.name.as_str()).collect();
        crate::term::eprint_line(format_args!(
            "vigil watch: measuring disruption of OpenShift's {} too",
            names.join(", ")
        ));
    }
    out
}

async fn answers(client: &Connection, path: &str, timeout: Duration) -> bool {
    cluster_sample(client, path, Conn::Reused, timeout).await == Outcome::Up
}

async fn route_host(
    client: &Connection,
    ns: &str,
    route: &str,
    timeout: Duration,
) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Route {
        spec: RouteSpec,
    }
    #[derive(serde::Deserialize)]
    struct RouteSpec {
        host: String,
    }
    let path = format!("/apis/route.openshift.io/v1/namespaces/{ns}/routes/{route}");
    let req = http::Request::get(&path)
        .header(http::header::ACCEPT, "application/json")
        .body(kube::client::Body::empty())
        .ok()?;
    let got = async {
        let r = client.client.send(req).await.ok()?;
        if !r.status().is_success() {
            return None;
        }
        let body = super::live::read_small_body(r.into_body()).await;
        serde_json::from_slice::<Route>(&body).ok()
    };
    let host = tokio::time::timeout(timeout, got).await.ok()??.spec.host;
    // A host name, nothing that could steer the URL elsewhere.
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::seconds(s)
    }

    #[test]
    fn targets_parse_and_bad_ones_say_why() {
        let u = parse_target("shop@Shop Team=https://shop.example/healthz").unwrap();
        assert_eq!(u.name, "shop");
        assert_eq!(u.component.as_deref(), Some("Shop Team"));
        assert_eq!(u.how, How::Url("https://shop.example/healthz".into()));
        let s = parse_target("web=service:shop/web:8080/healthz").unwrap();
        assert_eq!(
            s.how,
            How::Cluster("/api/v1/namespaces/shop/services/web:8080/proxy/healthz".into())
        );
        assert_eq!(s.namespace.as_deref(), Some("shop"));
        for (bad, says) in [
            ("https://x", "want NAME=URL"),
            ("Web=https://x", "lowercase letters"),
            ("web=ftp://x", "http:// or https://"),
            ("web=https://user:pw@x/", "no credentials"),
            (
                "web=service:shop/web/healthz",
                "NAMESPACE/SERVICE:PORT/PATH",
            ),
            ("web=service:../web:80/", "NAMESPACE/SERVICE:PORT/PATH"),
            ("web@a\"b=https://x", "cannot hold"),
        ] {
            let e = parse_target(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn outages_split_by_cause_and_unknown_samples_are_not_outages() {
        let mut tr = Tracker::new(kube_api(), Conn::New);
        tr.sample(t(0), Outcome::Up);
        tr.sample(t(1), Outcome::Down("connection refused".into()));
        tr.sample(t(2), Outcome::Unknown);
        tr.sample(t(3), Outcome::Down("connection refused".into()));
        tr.sample(t(6), Outcome::Down("HTTP 503".into()));
        tr.sample(t(9), Outcome::Up);
        tr.sample(t(10), Outcome::Unknown);
        tr.sample(t(11), Outcome::Down("timeout after 3s".into()));
        let iv = tr.finish(t(14));
        let got: Vec<_> = iv
            .iter()
            .map(|i| (i.reason, i.start, i.end, i.ongoing, i.message.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    Reason::Disruption,
                    t(1),
                    t(6),
                    false,
                    Some("connection refused")
                ),
                (Reason::Disruption, t(6), t(9), false, Some("HTTP 503")),
                (
                    Reason::Disruption,
                    t(11),
                    t(14),
                    true,
                    Some("timeout after 3s")
                ),
                (
                    Reason::DisruptionPolled,
                    t(0),
                    t(11),
                    false,
                    Some("8 samples, 2 unknown (vigil itself was starved then)")
                ),
            ]
        );
        assert!(iv
            .iter()
            .all(|i| i.connection.as_deref() == Some("new") && i.name == "kube-api"));
    }

    #[test]
    fn causes_are_short_and_stable() {
        let s = Duration::from_secs(3);
        assert_eq!(
            classify(
                "client error (Connect): tcp connect error: Connection refused (os error 111)",
                s
            ),
            "connection refused"
        );
        assert_eq!(classify("operation timed out", s), "timeout after 3s");
        assert_eq!(
            classify("io: Peer disconnected", s),
            "connection closed early"
        );
        assert_eq!(
            classify("invalid peer certificate: UnknownIssuer", s),
            "TLS handshake failed"
        );
        assert_eq!(
            classify("something odd at 10.0.0.7:443", s),
            "request failed: something odd at ...:"
        );
    }
}
