//! What happened while `vigil watch` ran: intervals during which an object
//! was in a bad state (a pod not ready, a container crash-looping, a node
//! NotReady), recorded from Kubernetes watches and judged at the end beside
//! the final state.
//!
//! The artifact is JSON lines, one interval per line, sorted by start:
//!
//! ```json
//! {"kind":"Pod","namespace":"shop","name":"cart-0","owner":"StatefulSet/cart","container":"cart",
//!  "reason":"CrashLoopBackOff","start":"2026-11-21T10:02:11Z","end":"2026-11-21T10:22:40Z",
//!  "ongoing":false,"message":"back-off 5m0s restarting failed container"}
//! ```
//!
//! `kind`, `namespace` (empty for nodes and OpenShift's cluster-scoped
//! ClusterOperators and MachineConfigPools), `name`: the object. `owner`: the
//! pod's controller as `Kind/name` when it had one. `container`: for
//! container reasons. `reason`: one of [`Reason`]'s names. `start`, `end`:
//! RFC 3339, when the watch saw the state begin and end (equal for events
//! that happen at an instant: an OOM kill, a restart). On OpenShift the watch
//! also records `OperatorUnavailable`, `OperatorDegraded` and
//! `OperatorProgressing` for ClusterOperators and `PoolDegraded` for
//! MachineConfigPools, with the condition's reason and message. Everywhere it
//! records `WorkloadNotProgressing` and `WorkloadUnavailable` for Deployments
//! and StatefulSets, `ServiceNoReadyEndpoints` for Services (kind `Service`,
//! from their EndpointSlices), and `WarningEvent` instants for Warning events
//! (kind and name of the object the event is about; `count`: how many times
//! during the run). `ongoing`: the state
//! had not ended when the watch stopped (`end` is then the stop time).
//! `message`: what the object said, when it said something.
//!
//! With `--disruption`, kind `Backend` records are the disruption polling
//! ([`crate::sources::disruption`]): `name` the backend (`kube-api`,
//! `console`, a `--disruption-target` NAME), `connection` `new` or
//! `reused`, `component` its Jira component when known, `namespace` a
//! `service:` target's namespace. `Disruption`: an outage from the first
//! failing sample to the next good one, `message` the cause (`connection
//! refused`, `timeout after 3s`, `HTTP 503`); `DisruptionPolled`: one per
//! backend and connection, the polling itself (`count` samples, `message`
//! how many were unknown because vigil itself was starved).

use std::io::{BufRead, Read};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why an interval was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Reason {
    /// A running pod's Ready condition was False.
    PodNotReady,
    /// A container waited in CrashLoopBackOff.
    CrashLoopBackOff,
    /// A container waited in ErrImagePull or ImagePullBackOff.
    ImagePull,
    /// A container was OOM-killed (an instant).
    OOMKilled,
    /// A container restarted (an instant; the message holds the count).
    ContainerRestart,
    /// A node's Ready condition was not True.
    NodeNotReady,
    /// A node reported MemoryPressure, DiskPressure or PIDPressure.
    NodePressure,
    /// A node was cordoned (spec.unschedulable).
    NodeCordoned,
    /// A ClusterOperator's Available condition was not True (OpenShift).
    OperatorUnavailable,
    /// A ClusterOperator reported Degraded=True.
    OperatorDegraded,
    /// A ClusterOperator reported Progressing=True (recorded, not judged:
    /// operators progress through every update).
    OperatorProgressing,
    /// A MachineConfigPool reported Degraded, NodeDegraded or RenderDegraded.
    PoolDegraded,
    /// A Deployment reported Progressing=False (its progress deadline passed).
    WorkloadNotProgressing,
    /// A Deployment or StatefulSet had fewer available replicas than it wants.
    WorkloadUnavailable,
    /// A Service's endpoints were all unready (it had some).
    ServiceNoReadyEndpoints,
    /// A Warning event was emitted (an instant; `count` holds how many
    /// times during the run, `message` its reason and text).
    WarningEvent,
    /// A backend did not answer during `vigil watch --disruption` (kind
    /// `Backend`, `connection` new or reused, `message` the cause).
    Disruption,
    /// A backend was polled (kind `Backend`, from the first sample to the
    /// last, `count` samples, `message` how many were unknown): its test
    /// exists because of this record, outage or not.
    DisruptionPolled,
    /// vigil could not watch this kind (`kind` names it): watching was
    /// forbidden, or the server failed. What happened meanwhile was not seen.
    NotWatched,
}

impl Reason {
    /// The check that judges intervals of this reason.
    pub fn check(self) -> &'static str {
        match self {
            Reason::PodNotReady => "health/not-ready",
            Reason::CrashLoopBackOff => "health/crashloop",
            Reason::ImagePull => "health/image-pull",
            Reason::OOMKilled => "health/oom",
            Reason::ContainerRestart => "health/restarts",
            Reason::NodeNotReady | Reason::NodePressure | Reason::NodeCordoned => "health/nodes",
            Reason::OperatorUnavailable
            | Reason::OperatorDegraded
            | Reason::OperatorProgressing => "health/cluster-operators",
            Reason::PoolDegraded => "health/machine-config-pools",
            Reason::WorkloadNotProgressing | Reason::WorkloadUnavailable => "health/rollout",
            Reason::ServiceNoReadyEndpoints => "health/endpoints",
            Reason::WarningEvent => "health/events",
            Reason::Disruption | Reason::DisruptionPolled => "disruption/backends",
            Reason::NotWatched => "vigil",
        }
    }

    /// Whether the reason marks an instant rather than a state with a length.
    pub fn is_instant(self) -> bool {
        matches!(
            self,
            Reason::OOMKilled | Reason::ContainerRestart | Reason::WarningEvent
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    pub kind: String,
    #[serde(default)]
    pub namespace: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub reason: Reason,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    #[serde(default)]
    pub ongoing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// How many instants this record stands for (restarts seen at once: a
    /// restartCount that jumped by 40 is one record of 40); absent means 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Disruption only: the connection kind, `new` or `reused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// Disruption only: the Jira component the backend's test is tagged with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
}

impl Interval {
    /// The instants this record stands for.
    pub fn instants(&self) -> u64 {
        self.count.unwrap_or(1)
    }

    pub fn seconds(&self) -> i64 {
        (self.end - self.start).num_seconds().max(0)
    }

    /// The length in milliseconds (sums of short outages need them).
    pub fn millis(&self) -> i64 {
        (self.end - self.start).num_milliseconds().max(0)
    }
}

/// The kind of disruption records: a backend polled during the run.
pub const BACKEND_KIND: &str = "Backend";

/// A disruption record's object, as its test names it: `kube-api connection/new`.
pub fn backend_object(i: &Interval) -> String {
    format!(
        "{} connection/{}",
        i.name,
        i.connection.as_deref().unwrap_or("new")
    )
}

/// Sorts intervals as the file holds them: by start, then object.
pub fn sort(intervals: &mut [Interval]) {
    intervals.sort_by(|a, b| {
        (
            a.start,
            &a.kind,
            &a.namespace,
            &a.name,
            a.reason,
            &a.container,
            &a.connection,
        )
            .cmp(&(
                b.start,
                &b.kind,
                &b.namespace,
                &b.name,
                b.reason,
                &b.container,
                &b.connection,
            ))
    });
}

/// Writes intervals as JSON lines, atomically.
pub fn write(path: &Path, intervals: &[Interval]) -> std::io::Result<()> {
    crate::atomic::write(path, crate::atomic::Existing::Replace, |w| {
        for i in intervals {
            serde_json::to_writer(&mut *w, i)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Reads a JSON-lines interval file of at most `limit`; an error names the
/// file and the line.
pub fn read(path: &Path, limit: crate::input::Limit) -> Result<Vec<Interval>, crate::error::Error> {
    use crate::error::Error;
    let file = crate::input::open_regular(path)
        .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| Error::input(path, format!("cannot read: {e}")))?
        .len();
    if size > limit.bytes {
        return Err(Error::input(path, limit.exceeded().to_string()));
    }
    let mut out = Vec::new();
    let mut read = 0u64;
    for (n, line) in std::io::BufReader::new(file.take(limit.bytes + 1))
        .lines()
        .enumerate()
    {
        let at = |what: String| Error::input_at(path, n as u64 + 1, what);
        let line = line.map_err(|e| at(format!("cannot read: {e}")))?;
        read += line.len() as u64 + 1;
        if read > limit.bytes + 1 {
            return Err(Error::input(path, limit.exceeded().to_string()));
        }
        if line.trim().is_empty() {
            continue;
        }
        let i: Interval = serde_json::from_str(&line).map_err(|e| {
            at(format!(
                "not an interval ({e}); see `vigil watch --help` for the format"
            ))
        })?;
        out.push(i);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("i.jsonl");
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let iv = Interval {
            kind: "Pod".into(),
            namespace: "shop".into(),
            name: "cart-0".into(),
            owner: Some("StatefulSet/cart".into()),
            container: Some("cart".into()),
            reason: Reason::CrashLoopBackOff,
            start: t("2026-11-21T10:02:11Z"),
            end: t("2026-11-21T10:22:40Z"),
            ongoing: false,
            message: None,
            count: None,
            connection: None,
            component: None,
        };
        write(&p, std::slice::from_ref(&iv)).unwrap();
        let limit = crate::input::Limit::files(1 << 20);
        assert_eq!(read(&p, limit).unwrap(), vec![iv.clone()]);
        assert_eq!(iv.seconds(), 20 * 60 + 29);
        std::fs::write(&p, "{\"kind\":\"Pod\"}\n").unwrap();
        let e = read(&p, limit).unwrap_err().to_string();
        assert!(e.contains("i.jsonl:1: not an interval"), "{e}");
        std::fs::write(&p, "\n".repeat(2048)).unwrap();
        let e = read(&p, crate::input::Limit::files(1024))
            .unwrap_err()
            .to_string();
        assert!(e.contains("limit on input files (--max-file-mib)"), "{e}");
    }
}
