//! `vigil exceptions lint|suggest|verify`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use super::{args, judge, Judging};
use crate::cli::{ExceptionsCommand, Format, LintArgs, LintFormat, SuggestArgs, VerifyArgs};
use crate::error::{Error, Result, Status};
use crate::exceptions::diagnostics::PLACEHOLDER_CODE;
use crate::exceptions::suggest::Suggestion;
use crate::exceptions::verify::{self, Fatal, TicketState};
use crate::exceptions::{rules, suggest, Diagnostic, Disposition, Exceptions, Level};
use crate::model::TopologyMode;
use crate::outcomes::{Evaluation, Outcome};
use crate::sources;

pub fn dispatch(cmd: ExceptionsCommand) -> Result {
    match cmd {
        ExceptionsCommand::Lint(a) => run_lint(&a),
        ExceptionsCommand::Suggest(a) => run_suggest(&a),
        ExceptionsCommand::Verify(a) => run_verify(&a),
    }
}

fn run_lint(a: &LintArgs) -> Result {
    let now = a.now;
    let today = now.unwrap_or_else(Utc::now).date_naive();
    let (ex, mut diags) = Exceptions::read(&a.dir, true);
    let Some(ex) = ex else {
        super::run::eprint_diagnostics(&diags);
        return Err(Error::Config(format!(
            "{} cannot be read as an exceptions directory (see above)",
            a.dir.display()
        )));
    };
    diags.extend(rules::rules(&ex, Some(today)));
    if let Some(base) = &a.base {
        let before =
            owners_at(&a.dir, base).map_err(|e| Error::Usage(format!("--base {base}: {e}")))?;
        diags.extend(rules::renames(&ex, &before, base));
    }
    let args = a;
    if !args.against.is_empty() {
        let judged = judge_against(&ex, &args.against, now, &args.limits)?;
        let state = args
            .against
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        for s in &judged.evaluation.stale {
            diags.push(
                Diagnostic::error(Path::new(&s.file), Some(s.at), format!("exception for {} matches no violation in {state}", s.check))
                    .warning()
                    .hint("the problem is gone there: delete the entry (or check its namespace and object)"),
            );
        }
    }
    diags.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    let errors = diags.iter().filter(|d| d.level == Level::Error).count();
    let warnings = diags.len() - errors;
    let mut out = crate::term::stdout();
    let written = match args.output {
        LintFormat::Text => write_lint_text(&mut out, &args.dir, &ex, &diags, errors, warnings),
        LintFormat::Json => crate::term::write_json(
            &mut out,
            &serde_json::json!({
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diags,
            }),
        ),
        LintFormat::Github => write_github(&mut out, &diags),
        LintFormat::Sarif => crate::term::write_json(&mut out, &sarif(&diags)),
    };
    super::printed(written.and_then(|()| out.flush()))?;
    Ok(if errors > 0 || (args.deny_warnings && warnings > 0) {
        Status::Failed
    } else {
        Status::Passed
    })
}

fn write_lint_text(
    out: &mut dyn Write,
    dir: &Path,
    ex: &Exceptions,
    diags: &[Diagnostic],
    errors: usize,
    warnings: usize,
) -> std::io::Result<()> {
    let red = anstyle::AnsiColor::Red.on_default().bold();
    let yellow = anstyle::AnsiColor::Yellow.on_default().bold();
    for d in diags {
        let style = if d.level == Level::Error { red } else { yellow };
        let text = d.to_string();
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let (label, msg) = first.split_once(": ").unwrap_or(("", first));
        writeln!(out, "{style}{label}{style:#}: {msg}\n{rest}\n")?;
    }
    let plural = crate::reports::plural;
    let mut read = vec![plural(ex.files.len(), "component file")];
    read.extend(
        ex.owners
            .path
            .iter()
            .map(|_| crate::exceptions::OWNERS_FILE.to_owned()),
    );
    if dir.join("policy.yaml").is_file() {
        read.push("policy.yaml".to_owned());
    }
    let read = format!(
        "{} ({})",
        read.join(", "),
        plural(ex.entries.len(), "entry")
    );
    if diags.is_empty() {
        writeln!(out, "{}: {read}, no problems", dir.display())
    } else {
        writeln!(
            out,
            "{}: {}, {}",
            dir.display(),
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    }
}

/// The diagnostics as a SARIF 2.1.0 log: one rule per diagnostic code
/// (`lint` for those without one), paths relative to the working directory
/// as code scanning wants them.
fn sarif(diags: &[Diagnostic]) -> serde_json::Value {
    use serde_json::json;
    let rule = |d: &Diagnostic| d.code.unwrap_or("lint");
    let mut rules: Vec<&str> = diags.iter().map(rule).collect();
    rules.sort_unstable();
    rules.dedup();
    let cwd = std::env::current_dir().unwrap_or_default();
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let uri = d.path.strip_prefix(&cwd).unwrap_or(&d.path);
            let mut text = d.message.clone();
            if let Some(h) = &d.hint {
                text.push_str(&format!("\nhelp: {h}"));
            }
            let mut region = serde_json::Map::new();
            region.insert("startLine".into(), json!(d.line.unwrap_or(1).max(1)));
            if let Some(c) = d.column.filter(|c| *c > 0) {
                region.insert("startColumn".into(), json!(c));
            }
            if let Some(s) = &d.snippet {
                region.insert(
                    "snippet".into(),
                    json!({"text": s.replace("\n   | ", "\n")}),
                );
            }
            json!({
                "ruleId": rule(d),
                "level": if d.level == Level::Error { "error" } else { "warning" },
                "message": {"text": text},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri_reference(&uri.to_string_lossy().replace('\\', "/"))},
                    "region": region,
                }}],
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "vigil",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|r| json!({
                    "id": r,
                    "shortDescription": {"text": format!("vigil exceptions lint: {r}")},
                })).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}

/// A relative path as a SARIF `uri` (an RFC 3986 relative reference): every
/// byte but the unreserved ones and `/` percent-encoded, so `a#frag.yaml`
/// or `a b.yaml` stay the file they name.
fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// GitHub workflow command escaping: data and property values.
fn gh_escape(s: &str, property: bool) -> String {
    let mut out = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

fn write_github(out: &mut dyn Write, diags: &[Diagnostic]) -> std::io::Result<()> {
    for d in diags {
        let level = if d.level == Level::Error {
            "error"
        } else {
            "warning"
        };
        let mut props = format!("file={}", gh_escape(&d.path.display().to_string(), true));
        if let Some(l) = d.line {
            props.push_str(&format!(",line={l}"));
        }
        if let Some(c) = d.column {
            props.push_str(&format!(",col={c}"));
        }
        props.push_str(&format!(
            ",title={}",
            gh_escape("vigil exceptions lint", true)
        ));
        let mut msg = d.message.clone();
        if let Some(s) = &d.snippet {
            msg.push_str(&format!("\n  | {s}"));
        }
        if let Some(h) = &d.hint {
            msg.push_str(&format!("\nhelp: {h}"));
        }
        writeln!(out, "::{level} {props}::{}", gh_escape(&msg, false))?;
    }
    Ok(())
}

fn run_suggest(args: &SuggestArgs) -> Result {
    let dir = args
        .judge
        .exceptions
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("exceptions"));
    if !dir.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
        crate::term::eprint_line(format_args!("created {}", dir.display()));
    }
    let (ex, diags) = Exceptions::read(&dir, true);
    let blocking: Vec<Diagnostic> = diags
        .into_iter()
        .filter(|d| d.level == Level::Error && d.code != Some(PLACEHOLDER_CODE))
        .collect();
    let Some(ex) = ex.filter(|_| blocking.is_empty()) else {
        super::run::eprint_diagnostics(&blocking);
        return Err(Error::Config(
            "fix these first (`vigil exceptions lint` lists them): a broken entry would be suggested again".into(),
        ));
    };
    let live = args.from.len() == 1 && args.from[0].as_os_str() == "live" && !args.from[0].exists();
    let loaded = if live {
        sources::live::collect(&args::live_options(&args.cluster))
            .map(super::loaded_from_live)
            .map_err(|e| {
                if e.is_config() {
                    Error::Config(e.to_string())
                } else {
                    Error::Unreachable(e.to_string())
                }
            })?
    } else {
        let loaded = sources::load_paths_with(&args.from, &args::file_limits(&args.limits));
        if let Some(p) = loaded.problems.first() {
            return Err(Error::Input {
                path: p.path.clone(),
                line: p.line,
                message: p.message.clone(),
            });
        }
        loaded
    };
    let judged = judge(
        loaded,
        &ex,
        &Judging {
            topology: args::topology(args.judge.topology),
            profile: args
                .judge
                .profile
                .and_then(args::profile)
                .or(ex.policy.profile),
            profile_from: "given",
            namespaces: args.judge.namespace.as_ref().map(|n| &n.regex),
            now: args.judge.now,
            today: args.judge.now.unwrap_or_else(Utc::now).date_naive(),
            phase: &|_| {},
        },
    );
    let suggestions = suggestions(&judged.evaluation);
    let mut out = crate::term::stdout();
    if suggestions.is_empty() {
        super::printed(writeln!(
            out,
            "nothing to suggest: every violation is covered by an exception"
        ))?;
        return Ok(Status::Passed);
    }
    let edits = suggest::plan(&ex, &dir, suggestions, &args.jira)
        .map_err(|e| Error::Config(format!("cannot read an exceptions file: {e}")))?;
    for edit in &edits {
        if args.stdout {
            let how = if edit.new { "new file" } else { "append" };
            super::printed(writeln!(
                out,
                "# ---- {} ({how})\n{}",
                edit.path.display(),
                edit.added
            ))?;
            continue;
        }
        suggest::write(edit).map_err(|e| Error::write(&edit.path, e))?;
        super::printed(writeln!(
            out,
            "{}: {} {}",
            edit.path.display(),
            if edit.new { "created with" } else { "appended" },
            crate::reports::plural(edit.entries.len(), "entry")
        ))?;
    }
    if !args.stdout {
        super::printed(writeln!(
            out,
            "next: file a ticket per entry, replace each `jira: {}` with its key, then run `vigil exceptions lint`",
            args.jira
        ))?;
    }
    Ok(Status::Passed)
}

/// Entries for every unexcepted violation, one per (check, namespace, object).
/// Cluster-wide findings are left out: they have no namespace to file them under.
fn suggestions(ev: &Evaluation) -> Vec<Suggestion> {
    let mut by_key: std::collections::BTreeMap<(String, &'static str, String), Vec<String>> =
        Default::default();
    for t in &ev.tests {
        let Some(ns) = &t.namespace else { continue };
        for j in &t.findings {
            if j.outcome == Outcome::Pass || j.disposition != Disposition::New {
                continue;
            }
            by_key
                .entry((ns.clone(), j.finding.check, j.finding.object()))
                .or_default()
                .push(j.finding.to_string());
        }
    }
    by_key
        .into_iter()
        .map(|((namespace, check, object), comments)| Suggestion {
            namespace,
            check,
            object,
            comments,
        })
        .collect()
}

fn run_verify(args: &VerifyArgs) -> Result {
    let ex = read_for_verify(&args.dir)?;
    let (jira_token, route_direct) = verify_credentials(args)?;
    let tickets = verify::referenced(&ex);
    let jira = verify::Jira {
        base_url: &args.jira_url,
        token: jira_token.as_deref().map(str::trim),
        direct: route_direct,
        timeout: Duration::from_secs(args.timeout),
    };
    let mut results = verify::verify(&jira, tickets, usize::from(args.concurrency)).map_err(
        |Fatal::Unauthorized { status, key }| {
            Error::Config(format!(
                "Jira refused the request for {key} (HTTP {status}): check the token in ${}",
                args.token_env
            ))
        },
    )?;
    verify::check_links(&ex, &mut results);
    let still_violated = closed_but_still_violated(args, &ex, &results)?;
    let edits = verify::proposed_edits_keeping(&ex, &results, |e| e.was_used());
    let count = |f: fn(&verify::Ticket) -> bool| results.iter().filter(|t| f(t)).count();
    let bad = count(|t| matches!(t.state, TicketState::Closed { .. } | TicketState::Missing));
    let unlinked = count(|t| matches!(t.state, TicketState::Open { .. }) && !t.unlinked.is_empty());
    let unknown = count(|t| matches!(t.state, TicketState::Unknown { .. }));
    let mut written = Vec::new();
    if args.write {
        for e in &edits {
            // What Jira said is in the new text: never a credential.
            let text = crate::redact::known(&e.after);
            crate::atomic::write(&e.path, crate::atomic::Existing::Replace, |w| {
                w.write_all(text.as_bytes())
            })
            .map_err(|err| Error::write(&e.path, err))?;
            written.push(e.path.display().to_string());
        }
    }
    let mut out = crate::term::stdout();
    let printed = match args.output {
        Format::Json => crate::term::write_json(
            &mut out,
            &serde_json::json!({
                "tickets": results,
                "closed_or_missing": bad,
                "unlinked": unlinked,
                "closed_but_still_violated": still_violated,
                "unverified": unknown,
                "edits": edits.iter().map(|e| serde_json::json!({
                    "file": e.path.display().to_string(),
                    "patch": e.diff(),
                    "written": args.write,
                })).collect::<Vec<_>>(),
            }),
        ),
        Format::Text => write_verify_text(
            &mut out,
            &results,
            &still_violated,
            &edits,
            &written,
            args.write,
        )
        .and_then(|()| {
            let total = results.len();
            writeln!(
                out,
                "{}: {} open, {} closed or missing, {} not linked to their tests, {} not checked",
                crate::reports::plural(total, "ticket"),
                total - bad - unknown,
                bad,
                unlinked,
                unknown
            )
        }),
    };
    super::printed(printed.and_then(|()| out.flush()))?;
    Ok(if bad > 0 || unlinked > 0 {
        Status::Failed
    } else if unknown > 0 {
        Status::Unreachable
    } else {
        Status::Passed
    })
}

/// The exceptions directory, with its problems said but not fatal: the
/// entries that could be read are verified.
fn read_for_verify(dir: &std::path::Path) -> std::result::Result<Exceptions, Error> {
    let (ex, diags) = Exceptions::read(dir, true);
    let Some(ex) = ex else {
        super::run::eprint_diagnostics(&diags);
        return Err(Error::Config(format!(
            "{} cannot be read as an exceptions directory (see above)",
            dir.display()
        )));
    };
    let problems = diags.iter().filter(|d| d.level == Level::Error).count();
    if problems > 0 {
        crate::term::warning(&format!(
            "{} in {} (see `vigil exceptions lint`); verifying the entries that could be read",
            crate::reports::plural(problems, "problem"),
            dir.display()
        ));
    }
    Ok(ex)
}

/// The token (registered as a secret, checked as a header value) and
/// whether the one outbound policy sends it directly.
fn verify_credentials(args: &VerifyArgs) -> std::result::Result<(Option<String>, bool), Error> {
    let token = std::env::var(&args.token_env)
        .ok()
        .filter(|t| !t.trim().is_empty());
    let what = format!("the token in ${}", args.token_env);
    if let Some(t) = &token {
        crate::redact::register(t);
        crate::outbound::check_header_value(t.trim(), &what).map_err(Error::Config)?;
    }
    // The one outbound policy, token or not (Jira's answers are trusted).
    let route = crate::outbound::route(&args.jira_url, &what).map_err(Error::Config)?;
    if token.is_none() {
        crate::term::warning(&format!(
            "${} is not set; asking Jira anonymously",
            args.token_env
        ));
    }
    Ok((token, route.direct))
}

/// With a state, a fixed ticket whose violation is still there is not
/// dropped: the entry is what keeps that test a flake.
fn closed_but_still_violated(
    args: &VerifyArgs,
    ex: &Exceptions,
    results: &[verify::Ticket],
) -> std::result::Result<Vec<String>, Error> {
    let mut still_violated: Vec<String> = Vec::new();
    if args.against.is_empty() {
        return Ok(still_violated);
    }
    judge_against(ex, &args.against, None, &args.limits)?;
    for t in results {
        if !matches!(t.state, TicketState::Closed { .. }) {
            continue;
        }
        for e in ex.entries.iter().filter(|e| e.was_used()) {
            if matches!(&e.grant, crate::exceptions::Grant::Ticket { jira, .. } if *jira == t.key) {
                still_violated.push(format!(
                    "{} is closed, but its violation is still there ({}:{}): reopen it or file a new ticket",
                    t.key,
                    e.file.display(),
                    e.line
                ));
            }
        }
    }
    Ok(still_violated)
}

fn write_verify_text(
    out: &mut dyn Write,
    results: &[verify::Ticket],
    still_violated: &[String],
    edits: &[verify::Edit],
    written: &[String],
    write: bool,
) -> std::io::Result<()> {
    for t in results {
        let line = match &t.state {
            TicketState::Open { .. } if t.unlinked.is_empty() => continue,
            TicketState::Open { .. } => format!(
                "{} is open, but Sippy links it to no test of its entries: its summary or description must contain each exact test name. Paste:\n{}",
                t.key,
                t.unlinked.iter().map(|n| format!("      {n}")).collect::<Vec<_>>().join("\n")
            ),
            TicketState::Closed { status, resolution } => format!(
                "{} is closed ({}{}): see the proposed edit below",
                t.key,
                crate::term::one_line(status),
                resolution.as_ref().map(|r| format!(", {}", crate::term::one_line(r))).unwrap_or_default()
            ),
            TicketState::Missing => format!("{} does not exist: a typo?", t.key),
            TicketState::Unknown { error } => format!("{} could not be checked: {}", t.key, crate::term::one_line(error)),
        };
        writeln!(
            out,
            "{line}\n    referenced at {}",
            t.referenced_at.join(", ")
        )?;
    }
    for s in still_violated {
        writeln!(out, "{s}")?;
    }
    if !edits.is_empty() {
        if write {
            writeln!(out, "\nApplied to {}:", written.join(", "))?;
        } else {
            writeln!(
                out,
                "\nProposed edits for closed tickets (apply with --write, or `git apply`):"
            )?;
        }
        for e in edits {
            write!(out, "{}", e.diff())?;
        }
    }
    Ok(())
}

/// Judges the state `--against` names with `ex`, which marks the entries
/// that matched a violation (`Entry::was_used`).
fn judge_against(
    ex: &Exceptions,
    paths: &[std::path::PathBuf],
    now: Option<chrono::DateTime<Utc>>,
    limits: &crate::cli::FileLimitArgs,
) -> Result<super::Judged> {
    let loaded = sources::load_paths_with(paths, &args::file_limits(limits));
    if let Some(p) = loaded.problems.first() {
        return Err(Error::Input {
            path: p.path.clone(),
            line: p.line,
            message: format!("--against: {}", p.message),
        });
    }
    Ok(judge(
        loaded,
        ex,
        &Judging {
            topology: TopologyMode::Auto,
            profile: ex.policy.profile,
            profile_from: "policy.yaml",
            namespaces: None,
            now,
            today: now.unwrap_or_else(Utc::now).date_naive(),
            phase: &|_| {},
        },
    ))
}

/// owners.yaml as it was at git revision `base` (empty when it did not exist).
fn owners_at(dir: &Path, base: &str) -> Result<crate::exceptions::Owners, String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .arg("show")
        .arg(format!("{base}:./{}", crate::exceptions::OWNERS_FILE))
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        // The file did not exist then: every owner is new.
        if stderr.contains("does not exist") || stderr.contains("exists on disk, but not in") {
            return Ok(crate::exceptions::Owners::default());
        }
        return Err(format!("git show failed: {}", stderr.trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let name = format!("{base}:{}", crate::exceptions::OWNERS_FILE);
    let mut ignored = Vec::new();
    Ok(crate::exceptions::Owners::parse(
        Path::new(&name),
        &text,
        &mut ignored,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sarif_uris_are_percent_encoded() {
        assert_eq!(
            super::uri_reference("exceptions/a#frag.yaml"),
            "exceptions/a%23frag.yaml"
        );
        assert_eq!(super::uri_reference("a b/ü.yaml"), "a%20b/%C3%BC.yaml");
        assert_eq!(
            super::uri_reference("exceptions/etcd.yaml"),
            "exceptions/etcd.yaml"
        );
    }
}
