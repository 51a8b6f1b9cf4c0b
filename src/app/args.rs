//! The command line, resolved once into what the stages take: clap's
//! types stay here and in `cli`, the pipeline never sees them.

use chrono::Utc;

use crate::checks::Profile;
use crate::cli::{ApiFormat, ClusterArgs, FileLimitArgs, JunitArgs, ProfileArg, TopologyArg};
use crate::model::TopologyMode;
use crate::reports::junit::Target;

/// Where a run's JUnit goes, unless `--no-junit`.
pub fn junit_target(a: &JunitArgs) -> Option<Target> {
    if a.no_junit {
        return None;
    }
    let dir = a
        .junit_dir
        .clone()
        .unwrap_or_else(crate::reports::junit::default_dir);
    Some(Target::new(dir, a.suite_name.clone(), Utc::now()))
}

/// How to reach and read a live cluster.
pub fn live_options(a: &ClusterArgs) -> crate::sources::live::LiveOptions {
    crate::sources::live::LiveOptions {
        kubeconfig: a.kubeconfig.clone(),
        context: a.context.clone(),
        page_size: a.page_size.max(1),
        timeout: std::time::Duration::from_secs(a.request_timeout.clamp(1, 3600)),
        attempts: 4,
        progress: crate::sources::live::progress_wanted(),
        max_page_bytes: a.max_page_mib.clamp(1, 65_536) << 20,
        protobuf: a.api_format == ApiFormat::Protobuf,
    }
}

/// The bound on each input file.
pub fn file_limits(a: &FileLimitArgs) -> crate::sources::Limits {
    crate::sources::Limits {
        max_file_bytes: a.max_file_mib << 20,
    }
}

pub fn file_limit(a: &FileLimitArgs) -> crate::input::Limit {
    crate::input::Limit::files(a.max_file_mib << 20)
}

pub fn topology(t: TopologyArg) -> TopologyMode {
    match t {
        TopologyArg::Auto => TopologyMode::Auto,
        TopologyArg::Ha => TopologyMode::Ha,
        TopologyArg::Single => TopologyMode::Single,
    }
}

/// `--profile`: a profile, or `None` to detect it from the state.
pub fn profile(p: ProfileArg) -> Option<Profile> {
    match p {
        ProfileArg::Auto => None,
        ProfileArg::Generic => Some(Profile::Generic),
        ProfileArg::Openshift => Some(Profile::Openshift),
    }
}
