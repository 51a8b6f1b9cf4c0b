//! Reports: JUnit for Sippy, a summary for people, JSON for machines.

pub mod json;
pub mod junit;
pub mod text;

use serde::Serialize;

use crate::exceptions::Disposition;
use crate::model::intervals::Interval;
use crate::outcomes::{Evaluation, Judged, Outcome};

/// A test about vigil's own run (`[Monitor:vigil] ...`): whether the cluster
/// state could be collected and the exceptions read.
#[derive(Debug, Clone, Serialize)]
pub struct MetaTest {
    pub name: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

pub const META_COMPLETED: &str = "[Monitor:vigil] run should complete";
pub const META_REACHABLE: &str = "[Monitor:vigil] cluster should be reachable";
pub const META_COLLECTED: &str = "[Monitor:vigil] cluster state should be collected";
pub const META_EXCEPTIONS: &str = "[Monitor:vigil] exceptions should be valid";
/// Written by `vigil watch` (and `run --intervals`): whether the watch could
/// record the whole run.
pub const META_WATCHED: &str = "[Monitor:vigil] cluster should be watched during the run";

impl MetaTest {
    pub fn pass(name: &str) -> Self {
        MetaTest {
            name: name.into(),
            outcome: Outcome::Pass,
            message: None,
            details: None,
        }
    }

    /// A failing meta test. Its text is redacted: these messages quote
    /// kubeconfig, plugin and server errors, and CI publishes the JUnit.
    pub fn fail(name: &str, message: impl Into<String>, details: impl Into<String>) -> Self {
        MetaTest {
            name: name.into(),
            outcome: Outcome::Fail,
            message: Some(crate::redact::text(&message.into())),
            details: Some(crate::redact::text(&details.into())),
        }
    }

    /// A passing meta test with a note in its system-out.
    pub fn pass_with(name: &str, details: impl Into<String>) -> Self {
        MetaTest {
            details: Some(crate::redact::text(&details.into())),
            ..MetaTest::pass(name)
        }
    }

    /// A meta test that did not run, with why.
    pub fn skip(name: &str, message: impl Into<String>) -> Self {
        MetaTest {
            name: name.into(),
            outcome: Outcome::Skip,
            message: Some(crate::redact::text(&message.into())),
            details: None,
        }
    }
}

/// Longer than this in all, a kind not watched fails the watch test:
/// shorter gaps (an API server restarting) are noted, not failed.
pub const WATCH_GAP_FAILS_AFTER: i64 = 60;

/// `[Monitor:vigil] cluster should be watched during the run`, from the
/// intervals: it fails when a kind was not being watched when the watch
/// stopped (watching forbidden, the server failing), or went unwatched for
/// longer than [`WATCH_GAP_FAILS_AFTER`] seconds in all, saying when and
/// why; what happened then was not seen. Shorter gaps that ended (an API
/// server restarting) are noted.
pub fn watch_test(intervals: &[Interval]) -> MetaTest {
    let mut per: std::collections::BTreeMap<&str, (i64, Vec<String>)> = Default::default();
    for i in intervals
        .iter()
        .filter(|i| i.reason == crate::model::intervals::Reason::NotWatched)
    {
        let e = per.entry(i.kind.as_str()).or_default();
        // Not watching at the end fails whatever the length.
        e.0 += if i.ongoing { i64::MAX / 4 } else { i.seconds() };
        let until = if i.ongoing {
            "until the watch stopped".to_owned()
        } else {
            format!("to {}", i.end.format("%H:%M:%SZ"))
        };
        e.1.push(format!(
            "{} not watched from {} {until} ({}){}",
            i.kind,
            i.start.format("%H:%M:%SZ"),
            crate::model::time::human(chrono::Duration::seconds(i.seconds())),
            i.message
                .as_deref()
                .map(|m| format!(": {}", crate::redact::text(m)))
                .unwrap_or_default()
        ));
    }
    let failing: Vec<&str> = per
        .iter()
        .filter(|(_, (secs, _))| *secs > WATCH_GAP_FAILS_AFTER)
        .map(|(k, _)| *k)
        .collect();
    let lines: Vec<String> = per.values().flat_map(|(_, l)| l.clone()).collect();
    if failing.is_empty() {
        return if lines.is_empty() {
            MetaTest::pass(META_WATCHED)
        } else {
            MetaTest::pass_with(
                META_WATCHED,
                format!("short gaps, not counted:\n{}", lines.join("\n")),
            )
        };
    }
    MetaTest::fail(
        META_WATCHED,
        format!(
            "{} not watched during the run (still not watched when it stopped, or for more than {WATCH_GAP_FAILS_AFTER}s in all): what happened then was not seen, and its tests may pass on what the watch missed",
            failing.join(", ")
        ),
        lines.join("\n"),
    )
}

/// Everything a report shows about one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub suite: String,
    /// When the run started (wall clock).
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// The time the state describes (RFC 3339): ages are measured against it.
    pub now: String,
    /// Where `now` came from: `--now`, `must-gather timestamp`, `newest
    /// timestamp in the state` or `wall clock`.
    pub now_source: String,
    pub topology: Option<crate::model::Topology>,
    pub profile: crate::checks::Profile,
    /// Why that profile: `--profile`, `policy.yaml`, or what detection saw.
    pub profile_source: String,
    /// Where the state came from, e.g. `3 paths, 1382 files`.
    pub source: String,
    /// Which exceptions directory was used, or that none was: the verdict
    /// depends on it, so every report says it.
    pub exceptions: Option<String>,
    pub meta: Vec<MetaTest>,
    pub evaluation: Option<Evaluation>,
    /// The JUnit file written, if any.
    pub junit: Option<String>,
    pub seconds: f64,
}

impl RunReport {
    /// The worst outcome of every test, meta tests included.
    pub fn worst(&self) -> Outcome {
        self.worst_with(Evaluation::worst)
    }

    /// The worst outcome of the tests that block: informing tests' failures
    /// are reported but never decide the exit status.
    pub fn worst_blocking(&self) -> Outcome {
        self.worst_with(Evaluation::worst_blocking)
    }

    fn worst_with(&self, of_tests: fn(&Evaluation) -> Outcome) -> Outcome {
        let meta = self
            .meta
            .iter()
            .map(|m| m.outcome)
            .max()
            .unwrap_or(Outcome::Pass);
        meta.max(self.evaluation.as_ref().map_or(Outcome::Pass, of_tests))
    }
}

/// `1 file`, `2 files`, `3 entries`: a count with its noun, for messages.
pub fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        return format!("1 {what}");
    }
    let consonant_y =
        what.ends_with('y') && !what[..what.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if consonant_y {
        format!("{n} {}ies", &what[..what.len() - 1])
    } else {
        format!("{n} {what}s")
    }
}

/// The annotation after a finding: its ticket, expiry or approval.
pub fn disposition_note(j: &Judged) -> Option<String> {
    match &j.disposition {
        Disposition::New => None,
        Disposition::Ticket(m) => {
            let mut s = m.jira.clone();
            if let Some(r) = &m.reason {
                s.push_str(": ");
                s.push_str(r);
            }
            if let Some(e) = m.expires {
                s.push_str(&format!("; expires {e}"));
            }
            Some(s)
        }
        Disposition::Expired(m) => Some(format!(
            "exception {} expired on {} ({}:{}): fix the problem or renew the exception",
            m.jira,
            m.expired,
            m.file.display(),
            m.line
        )),
        Disposition::Allowed(m) => Some(format!(
            "allowed: {}; approved by {}",
            m.reason, m.approved_by
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plurals() {
        use super::plural;
        assert_eq!(plural(1, "entry"), "1 entry");
        assert_eq!(plural(3, "entry"), "3 entries");
        assert_eq!(plural(2, "copy"), "2 copies");
        assert_eq!(plural(0, "file"), "0 files");
        assert_eq!(plural(2, "key"), "2 keys");
    }
}
