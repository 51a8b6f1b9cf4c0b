//! Command-line interface. Parsing only; the work is in [`crate::app`].

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use regex::Regex;

const ABOUT: &str = "Judge a Kubernetes/OpenShift cluster's high availability and health, and write Sippy-ready JUnit";

const LONG_ABOUT: &str = "\
vigil reads the state of a cluster, runs its checks namespace by namespace, weighs every
violation against a Jira-linked exception list, and writes JUnit XML in which each
(check, namespace) is one test that passes, flakes (a known problem with a ticket) or
fails (anything new).";

const SNAPSHOT_AFTER: &str = "\
The snapshot holds only the fields vigil reads (no managedFields, annotations, env or
secrets), in Kubernetes' JSON shape, with a header saying when it was collected and which kinds
could not be listed; `vigil run --from FILE` on it gives exactly the JUnit the live run gave.
Exit status: 0 complete, 1 some kinds could not be listed (still saved), 3 cluster unreachable.";

const RUN_AFTER: &str = "\
Examples:
  vigil run                                     judge the cluster of the current kubeconfig context
  vigil run --context kind-kind --save-snapshot state.json.gz
  vigil run --from must-gather/                 judge a must-gather directory
  vigil run --from pods.yaml --from deploy.json judge kubectl -o yaml|json output
  vigil run --from state/ --namespace 'openshift-.*' -o json

Inputs (--from, repeatable): files or directories of `kubectl get -o yaml|json` output
(Lists, single objects, multi-document YAML, .gz accepted) and OpenShift must-gather
trees. Secrets and ConfigMaps are never read.

Exceptions (--exceptions DIR): one YAML file per component claiming its namespaces and
listing known violations, each with a Jira ticket (flake) or an `allow` with `approved-by`
(pass); `policy.yaml` beside them sets the profile and each check's mode. See README.md.

Without --from, vigil reads the cluster as kubectl would (--kubeconfig, KUBECONFIG,
~/.kube/config, in-cluster; --context), listing every kind concurrently and page by page. It
needs only get/list on the kinds it reads: deploy/rbac.yaml has the ClusterRole.

Always a result: whatever ends the run (a usage error, unreadable input, SIGTERM from a CI
timeout, --deadline, a crash), the JUnit is written with `[Monitor:vigil] ...` tests saying
what went wrong. An input with no Kubernetes objects, or a --namespace matching nothing, is an
error, never a pass; a check whose kinds the input does not hold is skipped as not evaluated.
A kubeconfig whose user has an `exec:` plugin runs it, as kubectl does. Credentials never
appear in output and are never sent over plain http:// except to loopback.

Exit status (in every case the JUnit records what happened):";

/// The command line as it is spelt: `vigil`, or `kubectl vigil` when vigil
/// is installed as the kubectl plugin `kubectl-vigil` (then the usage lines
/// and the examples in every help text say `kubectl vigil ...`).
pub fn command(bin: &str) -> clap::Command {
    let cmd = <Cli as clap::CommandFactory>::command();
    if bin == "vigil" {
        return cmd;
    }
    respell(cmd, bin).bin_name(bin.to_owned())
}

fn respell(cmd: clap::Command, bin: &str) -> clap::Command {
    let re = Regex::new(
        r"(?m)(^|[\s`(])vigil (run|watch|diff|report|snapshot|checks|exceptions|man|completions)\b",
    )
    .expect("the pattern compiles");
    let with = format!("${{1}}{bin} ${{2}}");
    let mut cmd = cmd;
    if let Some(h) = cmd.get_after_long_help().map(|h| h.to_string()) {
        cmd = cmd.after_long_help(re.replace_all(&h, with.as_str()).into_owned());
    }
    if let Some(h) = cmd.get_long_about().map(|h| h.to_string()) {
        cmd = cmd.long_about(re.replace_all(&h, with.as_str()).into_owned());
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for n in names {
        cmd = cmd.mut_subcommand(n, |sub| respell(sub, bin));
    }
    cmd
}

#[derive(Debug, Parser)]
#[command(name = "vigil", version, about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate the checks and write JUnit (the CI job's last step)
    #[command(after_long_help = format!("{RUN_AFTER}\n{}", crate::error::Status::help_table()))]
    Run(RunArgs),
    /// Record what happens during the e2e run, then judge it with the final state
    #[command(after_long_help = WATCH_AFTER)]
    Watch(WatchArgs),
    /// Compare two runs: what newly fails, flakes or got fixed
    #[command(after_long_help = DIFF_AFTER)]
    Diff(DiffArgs),
    /// The HA overview across components, trends over runs, and the flake budget
    #[command(after_long_help = REPORT_AFTER)]
    Report(ReportArgs),
    /// Save what a run would collect from the cluster, for `run --from` later
    #[command(after_long_help = SNAPSHOT_AFTER)]
    Snapshot(SnapshotArgs),
    /// List every check: id, default mode, and the rule it enforces
    Checks(ChecksArgs),
    /// Check, bootstrap and verify exception files (for pull requests and presubmits)
    #[command(subcommand)]
    Exceptions(ExceptionsCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(after_long_help = COMPLETIONS_AFTER)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff), generated from these help texts
    #[command(after_long_help = MAN_AFTER)]
    Man(ManArgs),
    /// Tools for vigil's own tests and benchmarks (built with --features devtools)
    #[cfg(feature = "devtools")]
    #[command(subcommand, hide = true)]
    Dev(DevCommand),
    /// Runs a kubeconfig's exec credential plugin under vigil's bounds (vigil
    /// points the kubeconfig's `exec:` at itself; not for people)
    #[command(name = "credential-guard", hide = true)]
    CredentialGuard(CredentialGuardArgs),
}

#[derive(Debug, Args)]
pub struct CredentialGuardArgs {
    /// Seconds the plugin may run
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// The plugin and its arguments
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true
    )]
    pub command: Vec<std::ffi::OsString>,
}

const COMPLETIONS_AFTER: &str = "\
  vigil completions bash > ~/.local/share/bash-completion/completions/vigil
  vigil completions zsh > \"${fpath[1]}/_vigil\"
  vigil completions fish > ~/.config/fish/completions/vigil.fish
  vigil man > ~/.local/share/man/man1/vigil.1";

const MAN_AFTER: &str = "\
  vigil man | man -l -                         the overview, vigil(1)
  vigil man run | man -l -                     one command, vigil-run(1)
  vigil man --out-dir ~/.local/share/man/man1  every page: vigil.1, vigil-run.1, vigil-exceptions-lint.1...";

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print, e.g. `run` or `exceptions lint` [default: the overview]
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
    /// Write every page into this directory instead of printing one
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub out_dir: Option<PathBuf>,
}

const WATCH_AFTER: &str = "\
Starts before the e2e run and watches pods, nodes, Deployments, StatefulSets, EndpointSlices
and Warning events (Kubernetes watches with bookmarks, resumed after disconnects and 410 Gone
without recording anything twice; on OpenShift also ClusterOperators and MachineConfigPools).
It records intervals: pods not ready, containers in CrashLoopBackOff or failing to pull their
image, restarts and OOM kills; nodes NotReady, under pressure or cordoned; Deployments past
their progress deadline, Deployments and StatefulSets short of available replicas; Services
with endpoints and none ready; Warning events repeated during the run (from the watch's start,
not the event's lifetime); operators unavailable, degraded or progressing, pools degraded.
Only transitions are kept, never copies of objects.

It stops on SIGTERM, SIGINT or SIGHUP, when --stop-file appears, or after --duration. Then it
writes the intervals (JSON lines, --intervals-out) and does exactly what `vigil run` does on
the final state, with the intervals judged by the same checks: a container that crash-looped
for 20 minutes mid-run fails `pods in ns/x should not be crash-looping` even if it recovered,
saying when and for how long. Thresholds: each check's `during-minutes` in policy.yaml.
Exceptions apply unchanged. A watch that could not record (watching forbidden, the server
failing) fails `[Monitor:vigil] cluster should be watched during the run`, naming when and why.

With --disruption it also measures availability, as origin's backend-disruption monitor does:
the API server's /readyz (and on OpenShift its other APIs and the oauth, console and
image-registry routes), plus each --disruption-target, asked once a second on a new and on a
kept-alive connection. Every outage is an interval with its cause; `disruption/<backend>
connection/<new|reused> should be available throughout the run` fails above the allowance
(policy.yaml: disruption/backends allowed-seconds, or allowed-seconds/<backend>; default 0).
  vigil watch --stop-file done --disruption --disruption-target 'shop=https://shop.example/healthz'

After a signal the final judgement has --grace seconds (keep it below the time your CI gives
a step between SIGTERM and SIGKILL); a second signal, or the grace running out, writes the
JUnit at once, saying so. Whatever happens, the JUnit is written. Exit status: as `vigil run`.

CI step (the e2e run in between):
  vigil watch --stop-file \"$ARTIFACT_DIR/e2e-done\" &
  ...run the e2e tests...
  touch \"$ARTIFACT_DIR/e2e-done\"; wait $!

Judge again offline, with exactly the same result:
  vigil run --from state.json.gz --intervals vigil-intervals.jsonl
(take the snapshot with --save-snapshot).";

const DIFF_AFTER: &str = "\
BEFORE and AFTER are each a `vigil run -o json` report, or a JUnit file or directory of
them. Reports are compared test by test (by name): tests newly failing, newly flaking,
fixed, appeared and vanished (a rename shows as both), and per test the violations added
and removed, by object and rule rather than message text (JSON reports only). With JSON
reports, exception entries that became stale or newly needed are listed too.

Made for a pull request (\"did my change regress HA?\") and for a local kind loop:
  vigil run -o json > before.json; ...change...; vigil run -o json > after.json
  vigil diff before.json after.json

Exit status: 0 nothing newly fails, 1 something newly fails, 2 unreadable input.";

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Stop once this file exists (checked five times a second)
    #[arg(long, value_name = "FILE")]
    pub stop_file: Option<PathBuf>,

    /// Stop after this many seconds
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u64>,

    /// Where the intervals go [default: $ARTIFACT_DIR/vigil-intervals.jsonl, else ./vigil-intervals.jsonl]
    #[arg(long, value_name = "FILE")]
    pub intervals_out: Option<PathBuf>,

    /// Seconds the final judgement may take after a stop signal; then the
    /// JUnit is written as it stands. Keep it below the grace period your CI
    /// gives a step between SIGTERM and SIGKILL (OpenShift CI: 300)
    #[arg(long, value_name = "SECONDS", default_value_t = 240,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub grace: u64,

    /// Measure disruption: ask the API server's /readyz once a second on a new
    /// and on a kept-alive connection (and, on OpenShift, its other APIs and
    /// the oauth, console and image-registry routes), recording every outage
    #[arg(long, help_heading = "Disruption")]
    pub disruption: bool,

    /// Another backend to measure (implies --disruption; repeatable):
    /// NAME=URL, or NAME=service:NAMESPACE/SERVICE:PORT/PATH through the API
    /// server's service proxy; NAME@COMPONENT=... tags its test with a Jira
    /// component
    #[arg(long, value_name = "NAME=WHERE", help_heading = "Disruption",
          value_parser = crate::sources::disruption::parse_target)]
    pub disruption_target: Vec<crate::sources::disruption::Target>,

    /// Seconds one disruption sample may take before it counts as an outage
    #[arg(long, value_name = "SECONDS", default_value_t = 3, help_heading = "Disruption",
          value_parser = clap::value_parser!(u64).range(1..=30))]
    pub disruption_timeout: u64,

    #[command(flatten)]
    pub common: CommonRunArgs,
}

const REPORT_AFTER: &str = "\
RUN is a `vigil run -o json` report, a JUnit file, or a directory (a folder of downloaded CI
artifacts): every JSON report in it is a run, and the JUnit files of each directory without one
are one run. Each run's time comes from the report or the JUnit suite's timestamp; its job, PR
and build from a Prow-shaped path (pr-logs/pull/<repo>/<pr>/<job>/<build>/, logs/<job>/<build>/).

One run: a matrix of components by checks, worst first, each cell opening its violations with
object, rule, ticket or approval; expiring tickets, stale exceptions, tests not evaluated.
Many runs: per test and component the pass/flake/fail counts and rates, a trend per component,
first and last failure, tests gone missing; the flake budget (share of runs with a flake against
--flake-target) with the tests and components spending it; exceptions stale in the last
--stale-runs runs, safe to remove.

Output (-o): text (a summary), json (the aggregates, docs/report-json.md), or a FILE.html: one
self-contained page (no network access, printable) plus the text summary.
  vigil report artifacts/ -o report.html
  vigil report runs/*.json -o json > report.json";

/// What `vigil report` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutput {
    Text,
    Json,
    /// A page at this path.
    Html(PathBuf),
}

fn report_output(s: &str) -> Result<ReportOutput, String> {
    match s {
        "text" => Ok(ReportOutput::Text),
        "json" => Ok(ReportOutput::Json),
        p if p.ends_with(".html") || p.ends_with(".htm") => {
            Ok(ReportOutput::Html(PathBuf::from(p)))
        }
        _ => Err(format!(
            "{s:?}: want text, json, or a file name ending in .html"
        )),
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Runs: JSON reports, JUnit files, or directories of them
    #[arg(value_name = "RUN", required = true)]
    pub runs: Vec<PathBuf>,
    /// text, json, or FILE.html
    #[arg(short = 'o', long = "output", value_name = "FORMAT|FILE.html", default_value = "text", value_parser = report_output)]
    pub output: ReportOutput,
    /// Percent of runs that may have a flake (the flakiness SLA)
    #[arg(long, value_name = "PERCENT", default_value_t = 1.0)]
    pub flake_target: f64,
    /// An exception stale in this many latest runs is listed as safe to remove
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub stale_runs: usize,
    /// Jira base URL: ticket keys become links (https://issues.example.com)
    #[arg(long, value_name = "URL")]
    pub jira_url: Option<String>,
    #[command(flatten)]
    pub limits: FileLimitArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run: a `-o json` report, or a JUnit file or directory
    #[arg(value_name = "BEFORE")]
    pub before: PathBuf,
    /// The later run, in either form
    #[arg(value_name = "AFTER")]
    pub after: PathBuf,
    /// text: what changed, worst first; json: the same lists for tools
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    pub output: Format,
    #[command(flatten)]
    pub limits: FileLimitArgs,
}

/// The bound on each file read.
#[derive(Debug, Args, Clone)]
pub struct FileLimitArgs {
    /// The largest input file vigil reads, in MiB after decompression; a
    /// larger one is an error naming it instead of exhausting memory
    #[arg(long, value_name = "MIB", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub max_file_mib: u64,
}

#[cfg(feature = "devtools")]
#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Start etcd + kube-apiserver on loopback and print an admin kubeconfig path; stops on Ctrl-C or stdin EOF
    ControlPlane {
        /// Directory holding bin/etcd and bin/kube-apiserver (scripts/build-control-plane prints it)
        #[arg(long, value_name = "DIR")]
        control_plane: PathBuf,
    },
    /// Write a realistic cluster state of about N pods (seeded, deterministic)
    Generate {
        /// About how many pods
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: PathBuf,
        /// One YAML document per object instead of JSON Lists
        #[arg(long, conflicts_with = "must_gather")]
        yaml: bool,
        /// An OpenShift must-gather tree (YAML Lists per namespace and kind)
        #[arg(long)]
        must_gather: bool,
    },
    /// Write exceptions/owners.yaml from a ci-test-mapping checkout (openshift-eng/ci-test-mapping)
    OpenshiftOwners {
        /// The checkout (its pkg/components/*/component.go are read)
        #[arg(long, value_name = "DIR")]
        ci_test_mapping: PathBuf,
        /// The checkout's commit, to record [default: what `git log` says there]
        #[arg(long, value_name = "REV")]
        commit: Option<String>,
        /// Where to write it
        #[arg(
            short = 'o',
            long = "out",
            value_name = "FILE",
            default_value = "exceptions/owners.yaml"
        )]
        out: PathBuf,
    },
    /// Change pod and node statuses at a steady rate (crash loops, unready spells, recoveries, node flaps), to measure a long watch
    Churn {
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Status updates a second
        #[arg(long, default_value_t = 20.0)]
        rate: f64,
        /// How long, in seconds
        #[arg(long, default_value_t = 60)]
        duration: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Create every object of a state (files, must-gather) in a cluster, statuses included
    Load {
        /// The state to load: files, directories, must-gathers (repeatable)
        #[arg(long, value_name = "PATH", required = true)]
        from: Vec<PathBuf>,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Requests in flight
        #[arg(long, default_value_t = 16)]
        parallel: usize,
    },
}

const LINT_AFTER: &str = "\
Every problem is reported in one run, each with file:line:column, the offending text and a
hint. Errors: YAML syntax, unknown or misspelt fields, wrong types, unknown check ids, bad
globs, a kind the check never reports, entries with neither or both of `jira`/`allow`, Jira
values that are not keys or /browse/ URLs, `allow` without `approved-by`, `expires` that is not
a date or has passed, a namespace claimed by two files, entries for namespaces their file does
not claim, duplicate and shadowed entries, placeholders left by `suggest`.
Warnings: tickets expiring within 30 days; with --against, entries matching no violation; a
file claiming a namespace owners.yaml gives to another component; with --base REV, every
namespace whose owner changed since REV (that renames its tests: the warning lists the
TestRenames lines ci-test-mapping needs to keep their history). Component names that cannot
stand in a [Jira:\"...\"] tag (quotes, brackets, control characters, surrounding spaces, over
100 characters) are errors; non-ASCII names warn.

Exit status: 0 clean (warnings allowed unless --deny-warnings), 1 problems found, 2 usage error.

Presubmit:
  vigil exceptions lint -o github --deny-warnings --base origin/main exceptions/";

const SUGGEST_AFTER: &str = "\
For every violation no exception covers, writes one entry per (check, object) into the file of
the component that claims the namespace, with the violation as a comment and `jira: TODO`.
Existing files are appended to: nothing is reordered and no comment is dropped. Namespaces no
file claims go to a new unclaimed.yaml (never an existing file). `lint` rejects the TODOs until
real tickets replace them. Use --stdout to only print what would be added.";

const VERIFY_AFTER: &str = "\
Asks Jira (GET /rest/api/2/issue/KEY?fields=status,resolution,summary,description) about every
ticket the exception files reference, a few at a time, and reports:
- tickets that do not exist (a typo?);
- open tickets Sippy cannot link: Sippy links a ticket to a test only when the ticket's summary
  or description contains the exact test name; the names to paste are printed;
- closed tickets, with the edit the enhancement review asks for, as a patch: an entry whose
  ticket was fixed is dropped (with --against STATE, only when its violation is gone there;
  otherwise the ticket is reported as fixed but still violated: reopen it); one closed as won't
  fix / won't do / obsolete / not a bug becomes an `allow` carrying the closing reason and
  `approved-by: TODO` for a person to fill in. --write applies the edits.

The token is read from the environment variable named by --token-env (sent as a Bearer token).
Requests are retried as the API server's are (429, 5xx, timeouts: 4 tries within twice
--timeout, honouring Retry-After); each answer is read up to 16 MiB.
Exit status: 0 every ticket open and linked, 1 closed, missing or unlinked tickets found, 2 bad
credentials or configuration, 3 Jira could not be asked about every ticket (unreachable,
timeouts). The token is never sent over plain http:// except to loopback, and never through a
proxy over plain http://.";

#[derive(Debug, Subcommand)]
pub enum ExceptionsCommand {
    /// Check exception files: every problem, with file:line:column and a hint
    #[command(after_long_help = LINT_AFTER)]
    Lint(LintArgs),
    /// Write `jira: TODO` entries for every violation no exception covers
    #[command(after_long_help = SUGGEST_AFTER)]
    Suggest(SuggestArgs),
    /// Ask Jira whether every referenced ticket is still open
    #[command(after_long_help = VERIFY_AFTER)]
    Verify(VerifyArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// rustc-style messages for people
    Text,
    /// One JSON document
    Json,
    /// GitHub Actions workflow annotations (::error file=...)
    Github,
    /// SARIF 2.1.0, for GitHub code scanning (upload-sarif)
    Sarif,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// The exceptions directory
    #[arg(value_name = "DIR", default_value = "exceptions")]
    pub dir: PathBuf,

    /// text: rustc-style messages; json: one document; github: workflow annotations; sarif: for code scanning
    #[arg(short = 'o', long = "output", visible_alias = "format", value_enum, default_value_t = LintFormat::Text)]
    pub output: LintFormat,

    /// Exit 1 on warnings too
    #[arg(long)]
    pub deny_warnings: bool,

    /// Also list entries that match no violation in this state (as `run --from` takes; repeatable)
    #[arg(long, value_name = "STATE")]
    pub against: Vec<PathBuf>,

    #[command(flatten)]
    pub limits: FileLimitArgs,

    /// Judge expiry as if at this time (RFC 3339) [default: now]
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,

    /// Report every test that owners.yaml renames compared with this git
    /// revision (e.g. origin/main), with the lines ci-test-mapping needs
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
}

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// The state to judge (as `run --from` takes; repeatable), or `live` for the cluster
    #[arg(long = "from", value_name = "STATE|live", required = true)]
    pub from: Vec<PathBuf>,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// The placeholder written as each entry's `jira:`
    #[arg(long, value_name = "PLACEHOLDER", default_value = "TODO")]
    pub jira: String,

    /// Print the entries instead of writing them into the files
    #[arg(long)]
    pub stdout: bool,

    #[command(flatten)]
    pub judge: JudgeArgs,

    #[command(flatten)]
    pub limits: FileLimitArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The exceptions directory
    #[arg(value_name = "DIR", default_value = "exceptions")]
    pub dir: PathBuf,

    /// Jira's base URL, e.g. https://issues.redhat.com
    #[arg(long, value_name = "URL")]
    pub jira_url: String,

    /// The environment variable holding the API token
    #[arg(long, value_name = "NAME", default_value = "JIRA_TOKEN")]
    pub token_env: String,

    /// text: tickets by problem, with the names to paste and the patches; json: the same for tools
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    pub output: Format,

    /// Requests in flight at once
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Seconds before a request is given up
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,

    /// Apply the proposed edits for closed tickets to the exception files
    /// (they are printed as a patch otherwise)
    #[arg(long)]
    pub write: bool,

    /// A state (as `run --from` takes; repeatable): an entry whose ticket was
    /// fixed is proposed for removal only when its violation is gone there
    #[arg(long, value_name = "STATE")]
    pub against: Vec<PathBuf>,

    #[command(flatten)]
    pub limits: FileLimitArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people
    Text,
    /// For tools: one JSON document
    Json,
}

/// How to reach a live cluster.
#[derive(Debug, Args, Clone)]
pub struct ClusterArgs {
    /// Kubeconfig file [default: $KUBECONFIG, else ~/.kube/config, else in-cluster]
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context [default: the current context]
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Seconds one try of an API request may take; a request is tried up to
    /// 4 times within twice this in all
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: u64,

    /// Objects per list request. Fewer, larger pages cost the API server
    /// less (it counts what remains at every page); a page over
    /// --max-page-mib is asked for again in smaller pages
    #[arg(long, value_name = "N", default_value_t = 5000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub page_size: u32,

    /// The largest API response vigil reads, in MiB; a larger list page is
    /// asked for again in smaller pages rather than held in memory
    #[arg(long, value_name = "MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub max_page_mib: u64,

    /// How the API server encodes list responses: `protobuf` for the
    /// built-in kinds (3x cheaper for the server to write and for vigil to
    /// read) and JSON for the rest, or `json` for everything (say, behind a
    /// proxy that cannot pass protobuf)
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = ApiFormat::Protobuf)]
    pub api_format: ApiFormat,
}

/// The encoding asked of the API server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiFormat {
    /// Protobuf where the server has it, JSON elsewhere
    Protobuf,
    /// JSON only
    Json,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Where to write the snapshot (.gz compresses)
    #[arg(
        long = "to",
        value_name = "FILE",
        required_unless_present = "output_file"
    )]
    pub to: Option<PathBuf>,

    /// The old spelling of --to (-o is the output format everywhere else); accepted with a warning
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        hide = true,
        conflicts_with = "to"
    )]
    pub output_file: Option<PathBuf>,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Give up after this many seconds in all
    #[arg(long, value_name = "SECONDS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub deadline: u64,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Read cluster state from a file or directory instead of the cluster (repeatable; .gz accepted)
    #[arg(long = "from", value_name = "PATH")]
    pub from: Vec<PathBuf>,

    /// Also judge what `vigil watch` recorded during the run (its JSON-lines intervals file)
    #[arg(long, value_name = "FILE")]
    pub intervals: Option<PathBuf>,

    #[command(flatten)]
    pub common: CommonRunArgs,
}

/// What `vigil run` and `vigil watch` share: where the state comes from,
/// how it is judged, where the results go and the bounds on the run.
#[derive(Debug, Args)]
pub struct CommonRunArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Also save what was read as a snapshot (for CI artifacts; .gz compresses)
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<PathBuf>,

    #[command(flatten)]
    pub judge: JudgeArgs,

    #[command(flatten)]
    pub junit: JunitArgs,

    /// text: the summary of failures and flakes, worst first; json: every test and finding (docs/json-output.md)
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    pub output: Format,

    /// Give up after this many seconds in all, still writing the JUnit
    /// (failing `run should complete`); keep it below the CI step's timeout.
    /// For `vigil watch`, the time the final judgement may take
    #[arg(long, value_name = "SECONDS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub deadline: u64,

    #[command(flatten)]
    pub limits: FileLimitArgs,
}

/// How a state is judged: by `run`, `watch` and `exceptions suggest`.
#[derive(Debug, Args, Clone)]
pub struct JudgeArgs {
    /// Directory of exception files and policy.yaml [default: ./exceptions, if present]
    #[arg(long, value_name = "DIR")]
    pub exceptions: Option<PathBuf>,

    /// Only namespaces whose whole name matches this regex
    #[arg(long, value_name = "REGEX", value_parser = parse_namespace_filter)]
    pub namespace: Option<NamespaceFilter>,

    /// Cluster topology; on a single-node cluster the multi-node rules are skipped as not applicable
    #[arg(long, value_enum, default_value_t = TopologyArg::Auto)]
    pub topology: TopologyArg,

    /// Conventions to enforce [default: policy.yaml's profile, else auto: openshift when the
    /// state is an OpenShift cluster's (ClusterVersion or Infrastructure), else generic]
    #[arg(long, value_enum)]
    pub profile: Option<ProfileArg>,

    /// Judge as if at this time (RFC 3339), e.g. for exception expiry [default: now]
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
}

/// Where the JUnit goes.
#[derive(Debug, Args, Clone)]
pub struct JunitArgs {
    /// Where to write junit_<suite>_<UTC time>_<6 hex>.xml [default: $ARTIFACT_DIR/junit, else ./junit]
    #[arg(long, value_name = "DIR")]
    pub junit_dir: Option<PathBuf>,

    /// Do not write JUnit (print the summary only)
    #[arg(long, conflicts_with = "junit_dir")]
    pub no_junit: bool,

    /// The JUnit test suite name Sippy groups the tests under (Sippy stores
    /// only the suites on its allowlist)
    #[arg(long, value_name = "NAME", default_value = crate::reports::junit::DEFAULT_SUITE)]
    pub suite_name: String,
}

/// `--namespace`: a regex that must match a namespace's whole name.
#[derive(Debug, Clone)]
pub struct NamespaceFilter {
    pub pattern: String,
    pub regex: Regex,
}

fn parse_namespace_filter(s: &str) -> Result<NamespaceFilter, String> {
    Regex::new(&format!("^(?:{s})$"))
        .map(|regex| NamespaceFilter {
            pattern: s.to_owned(),
            regex,
        })
        .map_err(|e| {
            format!(
                "not a valid regex: {}",
                e.to_string().lines().last().unwrap_or("").trim()
            )
        })
}

/// `--now`: an RFC 3339 time.
pub fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time ({e}); write it like 2026-11-21T04:00:00Z"))
}

/// `--topology`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TopologyArg {
    /// Read `Infrastructure.status.infrastructureTopology`, else count the nodes
    Auto,
    /// Treat the cluster as highly available
    Ha,
    /// Treat the cluster as single-node: the multi-node rules are skipped
    Single,
}

/// `--profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// OpenShift's conventions when the state is an OpenShift cluster's, else generic
    Auto,
    /// Plain Kubernetes: any priority class, limits allowed
    Generic,
    /// OpenShift platform conventions: system priority classes, requests without limits,
    /// DaemonSets rolling 10% or 33% at a time
    Openshift,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// text: a table of every check's id, default mode and rule; json: the same with thresholds
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    pub output: Format,
}
