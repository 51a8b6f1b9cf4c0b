//! A fault-injecting HTTP proxy on loopback, in front of the real
//! kube-apiserver of the test control plane. vigil talks plain HTTP to it
//! (allowed for loopback); it forwards over TLS with the admin token, or
//! answers with the fault a rule says, and counts requests per path. It
//! passes the client's `Accept` on and the server's `Content-Type` back, so
//! faults hit protobuf bodies as vigil receives them; rewriting rules
//! (`Edit`) ask for JSON, which vigil must take as well.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does with a request.
#[derive(Clone)]
pub enum Fault {
    /// Pass it on.
    Forward,
    /// Answer with this status and a Kubernetes `Status` body, with a
    /// `Retry-After` header when given.
    Status(u16, Option<u64>),
    /// Accept and say nothing for this long, then close.
    Stall(Duration),
    /// Forward, then send the headers and half the body and reset the connection.
    ResetMidBody,
    /// Forward, then send half the body as if it were all of it.
    Truncate,
    /// A page of one pod whose continue token is always the same.
    RepeatContinue,
    /// Forward to another path (same query).
    ForwardAs(String),
    /// Forward and rewrite the body.
    Edit(Arc<dyn Fn(&str) -> String + Send + Sync>),
    /// Answer 200 with this body.
    Body(String),
    /// Forward asking for JSON whatever the client accepts (a proxy that
    /// cannot pass protobuf).
    JsonOnly,
    /// Forward as protobuf, then break the first list item's own bytes (its
    /// first byte becomes a field of wire type 7), every length around it
    /// left whole.
    CorruptItem,
    /// Write whatever this writes on the connection (a stream with no end).
    #[allow(dead_code)]
    Raw(Arc<dyn Fn(&mut TcpStream) + Send + Sync>),
}

struct Rule {
    /// Matches the path (without query) exactly, or as a prefix when it ends
    /// in `*`; with `?watch` after it, only watch requests.
    path: String,
    fault: Fault,
    /// Applies this many times, then the next rule (or forwarding) applies.
    times: Option<usize>,
}

struct Shared {
    upstream: String,
    token: String,
    agent: ureq::Agent,
    rules: Mutex<Vec<Rule>>,
    counts: Mutex<HashMap<String, usize>>,
    stop: AtomicBool,
}

pub struct Proxy {
    pub url: String,
    shared: Arc<Shared>,
    port: u16,
}

impl Proxy {
    /// Starts a proxy for `upstream` (https, verified with `ca_pem`).
    pub fn start(upstream: &str, ca_pem: &str, token: &str) -> Proxy {
        // The serving certificate file holds the chain: trust every certificate in it.
        let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(ca_pem.as_bytes())
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
                    .build(),
            )
            .build()
            .into();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            agent,
            rules: Mutex::new(Vec::new()),
            counts: Mutex::new(HashMap::new()),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(&s, conn));
            }
        });
        Proxy {
            url: format!("http://127.0.0.1:{port}"),
            shared,
            port,
        }
    }

    /// Applies `fault` to requests for `path` (`*` at the end: a prefix).
    pub fn on(&self, path: &str, fault: Fault) -> &Self {
        self.rule(path, fault, None)
    }

    /// Applies `fault` to the next `times` requests for `path`.
    pub fn on_times(&self, path: &str, fault: Fault, times: usize) -> &Self {
        self.rule(path, fault, Some(times))
    }

    fn rule(&self, path: &str, fault: Fault, times: Option<usize>) -> &Self {
        self.shared.rules.lock().unwrap().push(Rule {
            path: path.to_owned(),
            fault,
            times,
        });
        self
    }

    /// Requests seen for `path` (without query).
    pub fn count(&self, path: &str) -> usize {
        *self.shared.counts.lock().unwrap().get(path).unwrap_or(&0)
    }

    /// A kubeconfig pointing at the proxy, with a token of its own.
    pub fn kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let p = dir.join("proxy.kubeconfig");
        std::fs::write(
            &p,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: proxy\n  cluster: {{server: '{}'}}\nusers:\n- name: u\n  user: {{token: proxy-user-token}}\ncontexts:\n- name: proxy\n  context: {{cluster: proxy, user: u}}\ncurrent-context: proxy\n",
                self.url
            ),
        )
        .unwrap();
        p
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn read_head(conn: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    String::from_utf8(head).ok()
}

fn serve(s: &Shared, mut conn: TcpStream) {
    let Some(head) = read_head(&mut conn) else {
        return;
    };
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let accept = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("accept")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| JSON.to_owned());
    let path = target.split('?').next().unwrap_or("").to_owned();
    *s.counts.lock().unwrap().entry(path.clone()).or_default() += 1;
    let fault = {
        let mut rules = s.rules.lock().unwrap();
        let watching = target.contains("watch=1") || target.contains("watch=true");
        let hit = rules.iter_mut().find(|r| {
            let (rule, only_watch) = match r.path.strip_suffix("?watch") {
                Some(p) => (p, true),
                None => (r.path.as_str(), false),
            };
            let matches = match rule.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => path == rule,
            };
            matches && (!only_watch || watching) && r.times != Some(0)
        });
        match hit {
            Some(r) => {
                if let Some(t) = r.times.as_mut() {
                    *t -= 1;
                }
                r.fault.clone()
            }
            None => Fault::Forward,
        }
    };
    let query = target.strip_prefix(&path).unwrap_or("").to_owned();
    match fault {
        Fault::Forward if target.contains("watch=1") => stream(s, &target, &mut conn),
        Fault::Forward => {
            let (code, ct, body) = forward(s, &target, &accept);
            respond(&mut conn, code, &ct, &body, None);
        }
        Fault::Raw(write) => write(&mut conn),
        Fault::ForwardAs(other) => {
            let (code, ct, body) = forward(s, &format!("{other}{query}"), &accept);
            respond(&mut conn, code, &ct, &body, None);
        }
        Fault::Edit(f) => {
            let (code, ct, body) = forward(s, &target, JSON);
            let edited = f(&String::from_utf8_lossy(&body));
            respond(&mut conn, code, &ct, edited.as_bytes(), None);
        }
        Fault::Body(body) => respond(&mut conn, 200, JSON, body.as_bytes(), None),
        Fault::JsonOnly => {
            let (code, ct, body) = forward(s, &target, JSON);
            respond(&mut conn, code, &ct, &body, None);
        }
        Fault::Status(code, retry_after) => {
            let body = format!(
                r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected by the test proxy","code":{code}}}"#
            );
            respond(&mut conn, code, JSON, body.as_bytes(), retry_after);
        }
        Fault::Stall(d) => {
            std::thread::sleep(d);
        }
        Fault::ResetMidBody => {
            let (code, ct, body) = forward(s, &target, &accept);
            let head = format!(
                "HTTP/1.1 {code} OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body[..body.len() / 2]);
            let _ = conn.flush();
            // SO_LINGER 0: close with a reset, as a crashing peer would.
            let sock = socket2::SockRef::from(&conn);
            let _ = sock.set_linger(Some(Duration::ZERO));
        }
        Fault::CorruptItem => {
            let (code, ct, mut body) = forward(s, &target, PROTOBUF);
            assert!(
                corrupt_first_item(&mut body),
                "no list item to break in {target}"
            );
            respond(&mut conn, code, &ct, &body, None);
        }
        Fault::Truncate => {
            let (code, ct, body) = forward(s, &target, &accept);
            respond(&mut conn, code, &ct, &body[..body.len() / 2], None);
        }
        Fault::RepeatContinue => {
            let body = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"the-same-token"},"items":[{"metadata":{"name":"p","namespace":"catalog","uid":"u1"},"spec":{"containers":[{"name":"c","image":"i"}]},"status":{"phase":"Running"}}]}"#;
            respond(&mut conn, 200, JSON, body.as_bytes(), None);
        }
    }
}

const JSON: &str = "application/json";

/// A watch, passed on as it comes (chunked), until either side ends.
fn stream(s: &Shared, target: &str, conn: &mut TcpStream) {
    let resp = s
        .agent
        .get(format!("{}{target}", s.upstream))
        .header("Authorization", format!("Bearer {}", s.token))
        .header("Accept", JSON)
        .config()
        .timeout_global(None)
        .build()
        .call();
    let Ok(mut resp) = resp else {
        let _ = conn.write_all(b"HTTP/1.1 502 X\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let code = resp.status().as_u16();
    let head =
        format!("HTTP/1.1 {code} X\r\nContent-Type: {JSON}\r\nTransfer-Encoding: chunked\r\n\r\n");
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut reader = resp.body_mut().as_reader();
    let mut buf = vec![0u8; 16 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = conn.write_all(b"0\r\n\r\n");
                return;
            }
            Ok(n) => n,
        };
        let framed = [format!("{n:x}\r\n").as_bytes(), &buf[..n], b"\r\n"].concat();
        if conn.write_all(&framed).is_err() {
            return;
        }
        let _ = conn.flush();
    }
}

/// The upstream's status, content type and body.
fn forward(s: &Shared, target: &str, accept: &str) -> (u16, String, Vec<u8>) {
    match s
        .agent
        .get(format!("{}{target}", s.upstream))
        .header("Authorization", format!("Bearer {}", s.token))
        .header("Accept", accept)
        .call()
    {
        Ok(mut r) => {
            let code = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or(JSON)
                .to_owned();
            let body = r
                .body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()
                .unwrap_or_default();
            (code, ct, body)
        }
        Err(e) => (
            502,
            JSON.to_owned(),
            format!("{{\"message\":\"proxy: {e}\"}}").into_bytes(),
        ),
    }
}

fn respond(
    conn: &mut TcpStream,
    code: u16,
    content_type: &str,
    body: &[u8],
    retry_after: Option<u64>,
) {
    let mut head = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(r) = retry_after {
        head.push_str(&format!("Retry-After: {r}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// `k8s\0`, then a `runtime.Unknown` whose field 2 holds the list, whose
/// field 2 is each item.
fn corrupt_first_item(body: &mut [u8]) -> bool {
    if !body.starts_with(b"k8s\0") {
        return false;
    }
    let Some((start, end)) = find_field(body, 4, body.len(), 2) else {
        return false;
    };
    match find_field(body, start, end, 2) {
        Some((item, item_end)) if item < item_end => {
            body[item] = 0x0f;
            true
        }
        _ => false,
    }
}

/// The bounds of the first length-delimited field `want` in `b[i..end]`.
fn find_field(b: &[u8], mut i: usize, end: usize, want: u64) -> Option<(usize, usize)> {
    fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*i)?;
            *i += 1;
            n |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(n);
            }
        }
        None
    }
    while i < end {
        let key = varint(b, &mut i)?;
        match key & 7 {
            0 => {
                varint(b, &mut i)?;
            }
            1 => i += 8,
            2 => {
                let n = usize::try_from(varint(b, &mut i)?).ok()?;
                if key >> 3 == want {
                    return Some((i, i + n));
                }
                i += n;
            }
            5 => i += 4,
            _ => return None,
        }
    }
    None
}
