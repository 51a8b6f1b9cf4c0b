//! Command-line interface. Parsing only; the work is in [`crate::app`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::checks::Profile;
use crate::model::TopologyMode;

const ABOUT: &str = "Judge a Kubernetes/OpenShift cluster's high availability and health, and write Sippy-ready JUnit";

const LONG_ABOUT: &str = "\
vigil reads the state of a cluster, runs its checks namespace by namespace, weighs every
violation against a Jira-linked exception list, and writes JUnit XML in which each
(check, namespace) is one test that passes, flakes (a known problem with a ticket) or
fails (anything new).";

const RUN_AFTER: &str = "\
Examples:
  vigil run --from must-gather/                 judge a must-gather directory
  vigil run --from pods.yaml --from deploy.json judge kubectl -o yaml|json output
  vigil run --from state/ --namespace 'openshift-.*' -o json

Inputs (--from, repeatable): files or directories of `kubectl get -o yaml|json` output
(Lists, single objects, multi-document YAML, .gz accepted) and OpenShift must-gather
trees. Secrets and ConfigMaps are never read.

Exceptions (--exceptions DIR): one YAML file per component claiming its namespaces and
listing known violations, each with a Jira ticket (flake) or an `allow` with `approved-by`
(pass); `policy.yaml` beside them sets the profile and each check's mode. See README.md.

Exit status:
  0  no test failed (flakes allowed)
  1  at least one test failed
  2  usage, input or configuration error (the JUnit still records it)";

#[derive(Debug, Parser)]
#[command(name = "vigil", version, about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate the checks and write JUnit (the CI job's last step)
    #[command(after_long_help = RUN_AFTER)]
    Run(RunArgs),
    /// List every check: id, default mode, and the rule it enforces
    Checks(ChecksArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary for people: failures and flakes with their violations
    Text,
    /// One JSON document (schema: docs/json-output.md)
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Read cluster state from a file or directory (repeatable; .gz accepted)
    #[arg(long = "from", value_name = "PATH", required = true)]
    pub from: Vec<PathBuf>,

    /// Directory of exception files and policy.yaml [default: ./exceptions, if present]
    #[arg(long, value_name = "DIR")]
    pub exceptions: Option<PathBuf>,

    /// Where to write junit_vigil_<UTC time>.xml [default: $ARTIFACT_DIR/junit, else ./junit]
    #[arg(long, value_name = "DIR")]
    pub junit_dir: Option<PathBuf>,

    /// Do not write JUnit (print the summary only)
    #[arg(long, conflicts_with = "junit_dir")]
    pub no_junit: bool,

    /// The JUnit test suite name Sippy groups the tests under
    #[arg(long, value_name = "NAME", default_value = "vigil")]
    pub suite_name: String,

    /// Only namespaces whose whole name matches this regex
    #[arg(long, value_name = "REGEX")]
    pub namespace: Option<String>,

    /// Cluster topology; single-node clusters pass the multi-node rules
    #[arg(long, value_enum, default_value_t = TopologyMode::Auto)]
    pub topology: TopologyMode,

    /// Conventions to enforce [default: policy.yaml's profile, else generic]
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,

    /// Output format on stdout
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    pub output: Format,

    /// Judge as if at this time (RFC 3339), e.g. for exception expiry [default: now]
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    pub output: Format,
}
