//! Judging a state read by any command (`run`, `watch`, `exceptions
//! suggest`, `lint --against`, `verify --against`): the time it describes,
//! the profile, the kinds it holds, and the evaluation.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;

use crate::checks::Profile;
use crate::exceptions::Exceptions;
use crate::model::time::parse_must_gather_timestamp;
use crate::model::{Cluster, Topology, TopologyMode};
use crate::outcomes::{self, Evaluation, Scope};
use crate::sources::Loaded;

/// How to judge a state.
pub(crate) struct Judging<'a> {
    pub topology: TopologyMode,
    /// `None`: detect it from the state ([`detect_profile`]).
    pub profile: Option<Profile>,
    /// Where a given profile came from (`--profile`, `policy.yaml`).
    pub profile_from: &'static str,
    pub namespaces: Option<&'a Regex>,
    /// `--now`, when given.
    pub now: Option<DateTime<Utc>>,
    /// The day exception expiry is judged against.
    pub today: NaiveDate,
    /// Told what judging does now (the run's guard names it if cut short).
    pub phase: &'a dyn Fn(&'static str),
}

pub(crate) struct Judged {
    pub evaluation: Evaluation,
    /// Every namespace in the state, in scope or not.
    pub all_namespaces: Vec<String>,
    pub topology: Topology,
    pub profile: Profile,
    pub profile_source: String,
    pub now: DateTime<Utc>,
    pub now_source: &'static str,
    /// Kinds a check reads that the input does not hold: those checks were
    /// skipped as not evaluated.
    pub lacking: Vec<&'static str>,
    /// The model judged: freeing a large one is millions of small frees
    /// (0.3 s at 150k pods), which a command about to exit can skip.
    pub model: Cluster,
}

/// The time a state describes, and where that came from: `--now`, else
/// when it was collected (live run, snapshot), else the must-gather's
/// `timestamp`, else the newest time in the state, else the wall clock.
pub(crate) fn state_now(
    loaded: &Loaded,
    now_flag: Option<DateTime<Utc>>,
) -> (DateTime<Utc>, &'static str) {
    if let Some(t) = now_flag {
        return (t, "--now");
    }
    if let Some(t) = loaded
        .collection
        .as_ref()
        .and_then(|c| crate::model::time::parse(&c.collected_at))
    {
        return (t, "collection time");
    }
    let gathered = loaded
        .timestamp_files
        .iter()
        .filter_map(|f| crate::input::read_to_string(f, crate::input::TIMESTAMP).ok())
        .chain(loaded.timestamp_texts.iter().cloned())
        .filter_map(|t| parse_must_gather_timestamp(&t))
        .max();
    if let Some(t) = gathered {
        return (t, "must-gather timestamp");
    }
    match crate::model::cluster::newest_timestamp(&loaded.objects) {
        Some(t) => (t, "newest timestamp in the state"),
        None => (Utc::now(), "wall clock"),
    }
}

/// OpenShift's conventions apply to an OpenShift cluster's state: one
/// that holds OpenShift's cluster-scoped configuration objects.
pub(crate) fn detect_profile(cluster: &Cluster) -> (Profile, String) {
    if cluster.infrastructure.is_some() {
        return (
            Profile::Openshift,
            "auto: the state holds OpenShift's Infrastructure".into(),
        );
    }
    (
        Profile::Generic,
        "auto: no OpenShift ClusterVersion or Infrastructure in the state".into(),
    )
}

/// The kinds the input holds: those of the objects read, those whose
/// (possibly empty) lists it holds, and, from a live collection or a
/// snapshot, every kind listed.
pub(crate) fn kinds_held(
    lists: &BTreeSet<String>,
    collection: Option<&crate::sources::snapshot::CollectionInfo>,
    cluster: &Cluster,
) -> BTreeSet<String> {
    let mut held: BTreeSet<String> = crate::sources::kinds::LISTED
        .iter()
        .map(|l| l.kind)
        .filter(|k| cluster.count(k) > 0)
        .map(str::to_owned)
        .collect();
    held.extend(lists.iter().cloned());
    if let Some(info) = collection {
        held.extend(info.kinds_listed());
    }
    held
}

/// Builds the model from what was read and evaluates every check against
/// the exceptions, at the state's own time ([`state_now`]).
pub(crate) fn judge(loaded: Loaded, exceptions: &Exceptions, how: &Judging) -> Judged {
    let (now, now_source) = state_now(&loaded, how.now);
    let (missing, not_served) = loaded
        .collection
        .as_ref()
        .map(|c| (c.missing.clone(), c.skipped.clone()))
        .unwrap_or_default();
    (how.phase)("building the cluster model");
    let mut cluster = Cluster::from_objects(loaded.objects);
    cluster.intervals = loaded.intervals;
    let held = kinds_held(&loaded.lists, loaded.collection.as_ref(), &cluster);
    let topology = Topology::resolve(how.topology, &cluster);
    let (profile, profile_source) = match how.profile {
        Some(p) => (p, how.profile_from.to_owned()),
        None => detect_profile(&cluster),
    };
    let scope = Scope {
        profile,
        topology: &topology,
        namespaces: how.namespaces,
        today: how.today,
        now,
        missing: &missing,
        not_served: &not_served,
        held: Some(&held),
    };
    (how.phase)("evaluating the checks");
    let evaluation = outcomes::evaluate(&cluster, exceptions, &scope);
    let lacking = outcomes::lacking(&held, &not_served, &missing, profile);
    let all_namespaces = cluster.namespaces.iter().cloned().collect();
    Judged {
        evaluation,
        all_namespaces,
        topology,
        profile,
        profile_source,
        now,
        now_source,
        lacking,
        model: cluster,
    }
}

/// A live collection as if it had been read from a snapshot file.
pub(crate) fn loaded_from_live(c: crate::sources::live::Collected) -> Loaded {
    Loaded {
        objects: c.objects,
        collection: Some(c.info),
        ..Default::default()
    }
}
