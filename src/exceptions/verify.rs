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
            if jira == super::load::PLACEHOLDER {
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
            Ok(if done || resolution.is_some() {
                TicketState::Closed {
                    status: status_name,
                    resolution,
                }
            } else {
                TicketState::Open {
                    status: status_name,
                }
            })
        }
        404 => Ok(TicketState::Missing),
        other => Err(format!("Jira answered HTTP {other}")),
    }
}

/// Asks Jira about every ticket, `concurrency` requests at a time.
pub fn verify(
    base_url: &str,
    token: Option<&str>,
    tickets: BTreeMap<String, Vec<String>>,
    concurrency: usize,
    timeout: Duration,
) -> Result<Vec<Ticket>, Fatal> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let base = base_url.trim_end_matches('/');
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
                if fatal.lock().unwrap().is_some() {
                    break;
                }
                let url = format!("{base}/rest/api/2/issue/{key}?fields=status,resolution");
                let mut req = agent.get(&url).header("Accept", "application/json");
                if let Some(t) = token {
                    req = req.header("Authorization", &format!("Bearer {t}"));
                }
                let state = match req.call() {
                    Ok(mut resp) => {
                        let status = resp.status().as_u16();
                        if status == 401 || status == 403 {
                            *fatal.lock().unwrap() = Some(Fatal::Unauthorized {
                                status,
                                key: key.clone(),
                            });
                            break;
                        }
                        let body = resp.body_mut().read_to_string().unwrap_or_default();
                        interpret(status, &body)
                            .unwrap_or_else(|error| TicketState::Unknown { error })
                    }
                    Err(e) => TicketState::Unknown {
                        error: e.to_string(),
                    },
                };
                results.lock().unwrap()[i] = Some(Ticket {
                    key: key.clone(),
                    state,
                    referenced_at: refs.clone(),
                });
            });
        }
    });
    if let Some(f) = fatal.into_inner().unwrap() {
        return Err(f);
    }
    Ok(results
        .into_inner()
        .unwrap()
        .into_iter()
        .flatten()
        .collect())
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
