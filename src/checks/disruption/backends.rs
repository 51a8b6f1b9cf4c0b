//! `disruption/backends`: one test per backend and connection kind polled
//! during the run, failing when its outages add up to more than allowed.

use std::collections::BTreeMap;

use crate::checks::{
    Check, CheckInfo, Context, Finding, Lifecycle, Mode, Monitor, Severity, Threshold,
};
use crate::model::intervals::BACKEND_KIND;
use crate::model::intervals::{Interval, Reason};
use crate::model::time::human;

pub struct Backends;

pub const ID: &str = "disruption/backends";

static INFO: CheckInfo = CheckInfo {
    id: ID,
    monitor: Monitor::Disruption,
    subject: "backends",
    should: "be available throughout the run",
    rule: "with vigil watch --disruption, one test per backend and connection kind (new: a fresh connection per \
           request; reused: one kept alive), polled once a second: the outages' total fails above `allowed-seconds` \
           (per backend: `allowed-seconds/NAME`), naming each outage with its cause; a backend no sample could be \
           taken of (vigil starved, the cluster unreachable) fails as not measured",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &[BACKEND_KIND],
    thresholds: &[Threshold {
        name: "allowed-seconds",
        default: 0,
        help: "seconds of outage a backend may have during the run (per backend: allowed-seconds/NAME)",
    }],
    cluster_scoped: None,
    per_object: Some("disruption"),
    needs: &[],
};

/// Outages listed in a finding; the rest are counted.
const LISTED: usize = 10;

pub use crate::model::intervals::backend_object as object_name;

impl Check for Backends {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let default = (ctx.thresholds)(ID, "allowed-seconds");
        let mut polled: BTreeMap<String, &Interval> = BTreeMap::new();
        let mut outages: BTreeMap<String, Vec<&Interval>> = BTreeMap::new();
        for i in &ctx.cluster.intervals {
            match i.reason {
                Reason::DisruptionPolled => {
                    polled.insert(object_name(i), i);
                }
                Reason::Disruption => outages.entry(object_name(i)).or_default().push(i),
                _ => {}
            }
        }
        for (object, p) in polled {
            let fail = |detail: String| {
                Finding::object_level(ID, "", BACKEND_KIND, &object, detail, Severity::Fail)
            };
            if p.count.unwrap_or(0) == 0 {
                let why = p.message.as_deref().unwrap_or("no sample");
                out.push(fail(format!(
                    "not measured: not one sample said whether it was available ({why})"
                )));
                continue;
            }
            let list = outages.remove(&object).unwrap_or_default();
            // Summed in milliseconds: ten outages of 0.9 s are 9 s, not 0.
            let total_ms: i64 = list.iter().map(|i| i.millis()).sum();
            let allowed = ctx.allowance(&p.name).unwrap_or(default);
            if total_ms > allowed.saturating_mul(1000) {
                out.push(fail(describe(&list, rounded(total_ms), allowed)));
            }
        }
    }
}

/// The outages' total of one test's object, in seconds to a tenth.
pub fn total_seconds(intervals: &[Interval], object: &str) -> f64 {
    let ms: i64 = intervals
        .iter()
        .filter(|i| i.reason == Reason::Disruption && object_name(i) == object)
        .map(Interval::millis)
        .sum();
    (ms as f64 / 100.0).round() / 10.0
}

/// Whole seconds, rounded.
fn rounded(ms: i64) -> i64 {
    (ms + 500) / 1000
}

fn clock(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%H:%M:%SZ").to_string()
}

/// `unavailable for 8s in all (allowed 0s): 10:00:01Z to 10:00:06Z (5s) connection refused; ...`
fn describe(list: &[&Interval], total: i64, allowed: i64) -> String {
    let span = |s: i64| human(chrono::Duration::seconds(s));
    let mut parts: Vec<String> = list
        .iter()
        .take(LISTED)
        .map(|i| {
            let end = if i.ongoing {
                "the watch's end".to_owned()
            } else {
                clock(i.end)
            };
            format!(
                "{} to {end} ({}) {}",
                clock(i.start),
                span(rounded(i.millis())),
                crate::redact::text(i.message.as_deref().unwrap_or("down"))
            )
        })
        .collect();
    if list.len() > LISTED {
        parts.push(format!("and {} more", list.len() - LISTED));
    }
    format!(
        "unavailable for {} in all (allowed {}) in {} outage{}: {}",
        span(total),
        span(allowed),
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::sources::disruption::{kube_api, Conn, Outcome, Tracker};
    use chrono::{DateTime, Utc};

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::seconds(s)
    }

    #[test]
    fn outages_over_the_allowance_fail_naming_each_and_no_samples_is_not_a_pass() {
        let mut new = Tracker::new(kube_api(), Conn::New);
        new.sample(t(0), Outcome::Up);
        new.sample(t(1), Outcome::Down("connection refused".into()));
        new.sample(t(6), Outcome::Down("HTTP 503".into()));
        new.sample(t(9), Outcome::Up);
        let mut reused = Tracker::new(kube_api(), Conn::Reused);
        reused.sample(t(0), Outcome::Up);
        reused.sample(t(1), Outcome::Up);
        let mut starved = Tracker::new(kube_api(), Conn::Reused);
        starved.sample(t(0), Outcome::Unknown);
        let mut c = cluster("kind: Namespace\nmetadata: {name: default}\n");
        c.intervals = new.finish(t(10));
        c.intervals.extend(reused.finish(t(10)));
        let f = run_check(&Backends, &c);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].name.as_str(), "kube-api connection/new");
        assert_eq!(
            f[0].detail,
            "unavailable for 8s in all (allowed 0s) in 2 outages: 10:00:01Z to 10:00:06Z (5s) connection refused; \
             10:00:06Z to 10:00:09Z (3s) HTTP 503"
        );
        // All samples unknown: not measured, which fails.
        c.intervals = starved.finish(t(1));
        let f = run_check(&Backends, &c);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].detail.starts_with("not measured"), "{}", f[0].detail);
    }
}
