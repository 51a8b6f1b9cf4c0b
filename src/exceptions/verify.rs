//! `vigil exceptions verify`: are the tickets behind the exceptions still open?
//!
//! A closed ticket means the problem was fixed (delete the entry) or given up
//! on (turn it into an `allow` with a reason); a missing one means a typo.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Exceptions, Grant};

/// What Jira said about one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum TicketState {
    Open {
        status: String,
    },
    Closed {
        status: String,
        resolution: Option<String>,
    },
    Missing,
    /// Jira could not be asked (timeout, connection, unexpected reply).
    Unknown {
        error: String,
    },
}

/// A ticket and where the exception files reference it.
#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    pub key: String,
    #[serde(flatten)]
    pub state: TicketState,
    /// `file:line` of every entry naming the ticket.
    pub referenced_at: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Summary and description: where Sippy looks for test names.
    #[serde(skip)]
    pub text: String,
    /// Test names the entries cover that the ticket's text does not contain:
    /// Sippy links a ticket to a test only by its exact name there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unlinked: Vec<String>,
}

/// Reasons to stop asking: the answers would all be the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fatal {
    /// 401/403: the token is missing, wrong or lacks access.
    Unauthorized { status: u16, key: String },
}

#[derive(Deserialize)]
struct IssueReply {
    fields: IssueFields,
}

#[derive(Deserialize)]
struct IssueFields {
    status: Option<Status>,
    resolution: Option<Named>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// What Jira said about one issue: its state and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub state: TicketState,
    pub summary: Option<String>,
    pub description: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    name: String,
    #[serde(rename = "statusCategory")]
    category: Option<Category>,
}

#[derive(Deserialize)]
struct Category {
    key: String,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

/// The tickets referenced by the exceptions, with their entries' places.
pub fn referenced(ex: &Exceptions) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &ex.entries {
        if let Grant::Ticket { jira, .. } = &e.grant {
            if jira == super::PLACEHOLDER {
                continue;
            }
            out.entry(jira.clone())
                .or_default()
                .push(format!("{}:{}", e.file.display(), e.line));
        }
    }
    out
}

/// Interprets Jira's answer for one issue.
pub fn interpret(status: u16, body: &str) -> Result<TicketState, String> {
    interpret_full(status, body).map(|a| a.state)
}

/// Interprets Jira's answer for one issue, text included.
pub fn interpret_full(status: u16, body: &str) -> Result<Answer, String> {
    match status {
        200 => {
            let reply: IssueReply = serde_json::from_str(body)
                .map_err(|e| format!("unexpected reply from Jira: {e}"))?;
            let status_name = reply
                .fields
                .status
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), |s| s.name.clone());
            let done = reply
                .fields
                .status
                .as_ref()
                .and_then(|s| s.category.as_ref())
                .is_some_and(|c| c.key == "done");
            let resolution = reply.fields.resolution.map(|r| r.name);
            let state = if done || resolution.is_some() {
                TicketState::Closed {
                    status: status_name,
                    resolution,
                }
            } else {
                TicketState::Open {
                    status: status_name,
                }
            };
            Ok(Answer {
                state,
                summary: reply.fields.summary,
                description: reply.fields.description,
            })
        }
        404 => Ok(Answer {
            state: TicketState::Missing,
            summary: None,
            description: None,
        }),
        other => Err(format!("Jira answered HTTP {other}")),
    }
}

/// How to reach Jira.
pub struct Jira<'a> {
    pub base_url: &'a str,
    pub token: Option<&'a str>,
    /// From the outbound policy: connect directly, ignoring proxies.
    pub direct: bool,
    pub timeout: Duration,
}

/// Asks Jira about every ticket, `concurrency` requests at a time, each
/// under the one retry policy (429, 5xx, timeouts and broken connections
/// are tried again, honouring `Retry-After`) and read under
/// [`crate::input::JIRA`].
pub fn verify(
    jira: &Jira,
    tickets: BTreeMap<String, Vec<String>>,
    concurrency: usize,
) -> Result<Vec<Ticket>, Fatal> {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(jira.timeout))
        .http_status_as_error(false)
        .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")));
    if jira.direct {
        // Plain http to this machine: a proxy would read the token.
        config = config.proxy(None);
    }
    let agent: ureq::Agent = config.build().into();
    let base = jira.base_url.trim_end_matches('/');
    let keys: Vec<(String, Vec<String>)> = tickets.into_iter().collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Ticket>>> = Mutex::new(vec![None; keys.len()]);
    let fatal: Mutex<Option<Fatal>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..concurrency.clamp(1, keys.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((key, refs)) = keys.get(i) else {
                    break;
                };
                if fatal.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                    break;
                }
                let url = format!(
                    "{base}/rest/api/2/issue/{key}?fields=status,resolution,summary,description"
                );
                let answer = match ask(&agent, &url, jira) {
                    Ok((status @ (401 | 403), _)) => {
                        *fatal.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(Fatal::Unauthorized {
                                status,
                                key: key.clone(),
                            });
                        break;
                    }
                    Ok((status, body)) => {
                        interpret_full(status, &body).unwrap_or_else(|error| Answer {
                            state: TicketState::Unknown { error },
                            summary: None,
                            description: None,
                        })
                    }
                    Err(error) => Answer {
                        state: TicketState::Unknown {
                            error: crate::redact::text(&error),
                        },
                        summary: None,
                        description: None,
                    },
                };
                let text = format!(
                    "{}\n{}",
                    answer.summary.as_deref().unwrap_or(""),
                    answer.description.as_deref().unwrap_or("")
                );
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(Ticket {
                    key: key.clone(),
                    state: answer.state,
                    referenced_at: refs.clone(),
                    summary: answer.summary,
                    text,
                    unlinked: Vec::new(),
                });
            });
        }
    });
    if let Some(f) = fatal.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(f);
    }
    Ok(results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect())
}

/// One GET under the retry policy: the final status and body, or why not.
fn ask(agent: &ureq::Agent, url: &str, jira: &Jira) -> Result<(u16, String), String> {
    let policy = crate::outbound::Retry::new(4, jira.timeout);
    let started = std::time::Instant::now();
    let mut tries = 0;
    loop {
        let mut req = agent.get(url).header("Accept", "application/json");
        if let Some(t) = jira.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let (what, after) = match req.call() {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let after = crate::outbound::retry_after(
                    resp.headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()),
                );
                let body = crate::input::read_all(resp.body_mut().as_reader(), crate::input::JIRA)
                    .map_err(|e| format!("Jira's answer is {e}"))?;
                let body = String::from_utf8_lossy(&body).into_owned();
                if !crate::outbound::Retry::retryable(status) {
                    return Ok((status, body));
                }
                (format!("Jira answered HTTP {status}"), after)
            }
            Err(e) => (e.to_string(), None),
        };
        let wait = policy.wait(tries, started.elapsed(), after);
        tries += 1;
        match wait {
            Some(w) => std::thread::sleep(w),
            None => {
                return Err(format!(
                    "{what} ({})",
                    crate::outbound::Retry::tally(tries, started.elapsed())
                ))
            }
        }
    }
}

/// The test names an entry's violations appear under: one per namespace it
/// covers (its `namespace`, or the namespaces its file claims that match),
/// tagged as owners.yaml says; the cluster-wide name for cluster-wide checks.
pub fn test_names(ex: &Exceptions, e: &super::Entry) -> Vec<String> {
    let Some(check) = crate::checks::find(e.check) else {
        return Vec::new();
    };
    let info = check.info();
    if info.per_object.is_some() {
        // One test per object: the entry's object names it, when it names one.
        let Some(name) = e
            .object
            .as_deref()
            .and_then(|o| o.split_once('/'))
            .map(|(_, n)| n)
        else {
            return Vec::new();
        };
        if name.contains(['*', '?', '[', '{']) {
            return Vec::new();
        }
        let component = ex.owners.operator_component(name).or(info.cluster_scoped);
        return vec![info.object_test_name(component, name)];
    }
    if let Some(component) = info.cluster_scoped {
        return vec![info.test_name(Some(component), None)];
    }
    let mut namespaces: Vec<String> = match &e.namespace {
        Some(ns) if !ns.contains(['*', '?', '[', '{']) => vec![ns.clone()],
        _ => ex.files[e.file_index]
            .namespaces
            .iter()
            .map(|(n, _)| n.clone())
            .filter(|n| e.covers_namespace(n))
            .collect(),
    };
    namespaces.sort();
    namespaces.dedup();
    namespaces
        .iter()
        .map(|ns| info.test_name(ex.component(ns), Some(ns)))
        .collect()
}

/// Fills each ticket's `unlinked`: the names of its entries' tests that its
/// summary and description do not contain.
pub fn check_links(ex: &Exceptions, tickets: &mut [Ticket]) {
    for t in tickets.iter_mut() {
        if matches!(t.state, TicketState::Missing | TicketState::Unknown { .. }) {
            continue;
        }
        let mut names: Vec<String> = ex
            .entries
            .iter()
            .filter(|e| matches!(&e.grant, Grant::Ticket { jira, .. } if *jira == t.key))
            .flat_map(|e| test_names(ex, e))
            .filter(|n| !t.text.contains(n.as_str()))
            .collect();
        names.sort();
        names.dedup();
        t.unlinked = names;
    }
}

/// Resolutions that mean "this will not be fixed": the entry becomes an
/// `allow` carrying the reason, rather than disappearing.
const WONT_FIX: &[&str] = &[
    "won't do",
    "won't fix",
    "wont fix",
    "obsolete",
    "not a bug",
    "works as designed",
    "working as designed",
    "rejected",
];

/// A proposed change to one exception file.
#[derive(Debug, Clone)]
pub struct Edit {
    pub path: std::path::PathBuf,
    pub before: String,
    pub after: String,
}

impl Edit {
    /// The change as a unified diff, `git apply`-able.
    pub fn diff(&self) -> String {
        let name = self.path.display().to_string();
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{name}"), &format!("b/{name}"))
            .to_string()
    }
}

/// For closed tickets, the edits the enhancement review asks for: an entry
/// whose ticket was fixed is dropped (if the violation is still there, the
/// next run fails and says so: reopen the ticket); one closed as won't fix
/// becomes an `allow` with the closing reason, for a person to approve.
pub fn proposed_edits(ex: &Exceptions, tickets: &[Ticket]) -> Vec<Edit> {
    proposed_edits_keeping(ex, tickets, |_| false)
}

/// As [`proposed_edits`], but an entry for which `still_violated` says yes
/// is not dropped although its ticket was fixed: the fix did not hold.
pub fn proposed_edits_keeping(
    ex: &Exceptions,
    tickets: &[Ticket],
    still_violated: impl Fn(&super::Entry) -> bool,
) -> Vec<Edit> {
    let mut by_file: BTreeMap<std::path::PathBuf, Vec<(u64, String, Option<String>)>> =
        BTreeMap::new();
    for t in tickets {
        let TicketState::Closed { resolution, .. } = &t.state else {
            continue;
        };
        let wont = resolution
            .as_deref()
            .is_some_and(|r| WONT_FIX.contains(&r.to_lowercase().replace('’', "'").as_str()));
        for e in &ex.entries {
            if !matches!(&e.grant, Grant::Ticket { jira, .. } if *jira == t.key) {
                continue;
            }
            if !wont && still_violated(e) {
                continue;
            }
            let allow = wont.then(|| {
                format!(
                    "closed as {} in {}: {}",
                    resolution.as_deref().unwrap_or("won't fix"),
                    t.key,
                    t.summary.as_deref().unwrap_or("").trim()
                )
            });
            by_file
                .entry(e.file.clone())
                .or_default()
                .push((e.line, t.key.clone(), allow));
        }
    }
    let mut edits = Vec::new();
    for (path, mut changes) in by_file {
        let Ok(before) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut lines: Vec<String> = before.lines().map(str::to_owned).collect();
        // Bottom up, so earlier line numbers stay valid.
        changes.sort_by_key(|c| std::cmp::Reverse(c.0));
        for (line, key, allow) in changes {
            let start = (line as usize).saturating_sub(1);
            if start >= lines.len() {
                continue;
            }
            let end = entry_end(&lines, start);
            match allow {
                None => {
                    lines.drain(start..end);
                }
                Some(reason) => {
                    let mut replaced = Vec::new();
                    for l in &lines[start..end] {
                        let t = l.trim_start().trim_start_matches("- ");
                        let indent = &l[..l.len() - l.trim_start().len()];
                        let item = if l.trim_start().starts_with("- ") {
                            "- "
                        } else {
                            ""
                        };
                        if t.starts_with("jira:") && t.contains(key.as_str()) {
                            // Jira's text: one YAML string, whatever it holds.
                            replaced.push(format!(
                                "{indent}{item}allow: {}",
                                super::tree::yaml_string(&crate::redact::known(&reason))
                            ));
                            let pad = " ".repeat(indent.len() + item.len());
                            replaced.push(format!(
                                "{pad}approved-by: TODO   # who accepts this for good"
                            ));
                        } else if t.starts_with("expires:") {
                            continue;
                        } else {
                            replaced.push(l.clone());
                        }
                    }
                    lines.splice(start..end, replaced);
                }
            }
        }
        let mut after = lines.join("\n");
        if before.ends_with('\n') {
            after.push('\n');
        }
        // A file left with an empty list keeps valid YAML.
        if after.trim_end().ends_with("exceptions:") {
            after = after.trim_end().to_owned() + " []\n";
        }
        edits.push(Edit {
            path,
            before,
            after,
        });
    }
    edits
}

/// The line after an entry starting at `start` (its `- check:` item): the
/// next line at the item's indentation or less, leaving the comments just
/// above the next entry with it.
fn entry_end(lines: &[String], start: usize) -> usize {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(&lines[start]);
    let mut end = start + 1;
    while end < lines.len() {
        let l = &lines[end];
        if !l.trim().is_empty() && indent(l) <= own && !l.trim_start().starts_with('#') {
            break;
        }
        end += 1;
    }
    // Comments and blank lines at the item's indentation just before the next
    // entry describe that entry.
    while end > start + 1 {
        let l = &lines[end - 1];
        let t = l.trim();
        if t.is_empty() || (t.starts_with('#') && indent(l) <= own) {
            end -= 1;
        } else {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_closed_missing() {
        let open = r#"{"key":"A-1","fields":{"status":{"name":"In Progress","statusCategory":{"key":"indeterminate"}},"resolution":null}}"#;
        assert_eq!(
            interpret(200, open),
            Ok(TicketState::Open {
                status: "In Progress".into()
            })
        );
        let done = r#"{"key":"A-2","fields":{"status":{"name":"Closed","statusCategory":{"key":"done"}},"resolution":{"name":"Done"}}}"#;
        assert_eq!(
            interpret(200, done),
            Ok(TicketState::Closed {
                status: "Closed".into(),
                resolution: Some("Done".into())
            })
        );
        // Resolved but with a status category Jira does not mark done.
        let verified = r#"{"fields":{"status":{"name":"Verified","statusCategory":{"key":"indeterminate"}},"resolution":{"name":"Fixed"}}}"#;
        assert!(matches!(
            interpret(200, verified),
            Ok(TicketState::Closed { .. })
        ));
        assert_eq!(interpret(404, "{}"), Ok(TicketState::Missing));
        assert!(interpret(500, "").is_err());
        assert!(interpret(200, "<html>login</html>").is_err());
    }
}
