//! `vigil exceptions lint|suggest|verify`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use super::{exit, judge, parse_now, Judging};
use crate::checks::Profile;
use crate::cli::{ExceptionsCommand, Format, LintArgs, LintFormat, SuggestArgs, VerifyArgs};
use crate::exceptions::diagnostics::PLACEHOLDER_CODE;
use crate::exceptions::verify::{self, Fatal, TicketState};
use crate::exceptions::{lint, suggest, Diagnostic, Exceptions, Level};
use crate::model::TopologyMode;
use crate::sources;

pub fn dispatch(cmd: ExceptionsCommand) -> u8 {
    match cmd {
        ExceptionsCommand::Lint(a) => run_lint(&a),
        ExceptionsCommand::Suggest(a) => run_suggest(&a),
        ExceptionsCommand::Verify(a) => run_verify(&a),
    }
}

fn run_lint(args: &LintArgs) -> u8 {
    let now = match parse_now(args.now.as_deref()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let today = now.unwrap_or_else(Utc::now).date_naive();
    let (ex, mut diags) = Exceptions::read(&args.dir, true);
    let Some(ex) = ex else {
        super::run::eprint_diagnostics(&diags);
        return exit::CONFIG;
    };
    diags.extend(lint::rules(&ex, Some(today)));
    if let Some(base) = &args.base {
        match owners_at(&args.dir, base) {
            Ok(before) => diags.extend(lint::renames(&ex, &before, base)),
            Err(e) => {
                eprintln!("error: --base {base}: {e}");
                return exit::CONFIG;
            }
        }
    }
    if !args.against.is_empty() {
        let Some(judged) = judge_against(&ex, &args.against, now) else {
            return exit::CONFIG;
        };
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
    let mut out = anstream::stdout();
    let _ = match args.format {
        LintFormat::Text => write_lint_text(&mut out, &args.dir, &ex, &diags, errors, warnings),
        LintFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diags,
            }))
            .expect("serializes")
        ),
        LintFormat::Github => write_github(&mut out, &diags),
        LintFormat::Sarif => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&sarif(&diags)).expect("serializes")
        ),
    };
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        exit::FAILED
    } else {
        exit::OK
    }
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
    if diags.is_empty() {
        writeln!(
            out,
            "{}: {}, {}, no problems",
            dir.display(),
            crate::reports::plural(ex.files.len(), "file"),
            crate::reports::plural(ex.entries.len(), "entry")
        )
    } else {
        writeln!(
            out,
            "{}: {errors} error{}, {warnings} warning{}",
            dir.display(),
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
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
                    "artifactLocation": {"uri": uri.to_string_lossy().replace('\\', "/")},
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

fn run_suggest(args: &SuggestArgs) -> u8 {
    let ns_filter = match args
        .namespace
        .as_deref()
        .map(crate::outcomes::namespace_filter)
    {
        None => None,
        Some(Ok(re)) => Some(re),
        Some(Err(e)) => {
            eprintln!("error: --namespace is not a valid regex:\n{e}");
            return exit::CONFIG;
        }
    };
    if !args.exceptions.exists() {
        if let Err(e) = std::fs::create_dir_all(&args.exceptions) {
            eprintln!("error: cannot create {}: {e}", args.exceptions.display());
            return exit::CONFIG;
        }
        eprintln!("created {}", args.exceptions.display());
    }
    let (ex, diags) = Exceptions::read(&args.exceptions, true);
    let blocking: Vec<Diagnostic> = diags
        .into_iter()
        .filter(|d| d.level == Level::Error && d.code != Some(PLACEHOLDER_CODE))
        .collect();
    let Some(ex) = ex.filter(|_| blocking.is_empty()) else {
        super::run::eprint_diagnostics(&blocking);
        eprintln!("error: fix these first (`vigil exceptions lint` lists them): a broken entry would be suggested again");
        return exit::CONFIG;
    };
    let live = args.from.len() == 1 && args.from[0].as_os_str() == "live" && !args.from[0].exists();
    let loaded = if live {
        match sources::live::collect(&args.cluster.live_options()) {
            Ok(c) => super::loaded_from_live(c),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::UNREACHABLE;
            }
        }
    } else {
        match sources::load_paths(&args.from) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::CONFIG;
            }
        }
    };
    let judged = judge(
        loaded,
        &ex,
        &Judging {
            topology: args.topology,
            profile: args
                .profile
                .or(ex.policy.profile)
                .unwrap_or(Profile::Generic),
            namespaces: ns_filter.as_ref(),
            now: None,
            today: Utc::now().date_naive(),
            phase: &|_| {},
        },
    );
    let suggestions = suggest::suggestions(&judged.evaluation);
    if suggestions.is_empty() {
        println!("nothing to suggest: every violation is covered by an exception");
        return exit::OK;
    }
    let edits = match suggest::plan(&ex, &args.exceptions, suggestions, &args.jira) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot read an exceptions file: {e}");
            return exit::CONFIG;
        }
    };
    let mut out = anstream::stdout();
    for edit in &edits {
        if args.stdout {
            let how = if edit.new { "new file" } else { "append" };
            let _ = writeln!(
                out,
                "# ---- {} ({how})\n{}",
                edit.path.display(),
                edit.added
            );
            continue;
        }
        if let Err(e) = suggest::write(edit) {
            eprintln!("error: cannot write {}: {e}", edit.path.display());
            return exit::CONFIG;
        }
        let _ = writeln!(
            out,
            "{}: {} {} entr{}",
            edit.path.display(),
            if edit.new { "created with" } else { "appended" },
            edit.entries.len(),
            if edit.entries.len() == 1 { "y" } else { "ies" }
        );
    }
    if !args.stdout {
        let _ = writeln!(
            out,
            "next: file a ticket per entry, replace each `jira: {}` with its key, then run `vigil exceptions lint`",
            args.jira
        );
    }
    exit::OK
}

fn run_verify(args: &VerifyArgs) -> u8 {
    let (ex, diags) = Exceptions::read(&args.dir, true);
    let Some(ex) = ex else {
        super::run::eprint_diagnostics(&diags);
        return exit::CONFIG;
    };
    let problems = diags.iter().filter(|d| d.level == Level::Error).count();
    if problems > 0 {
        eprintln!(
            "warning: {problems} problem(s) in {} (see `vigil exceptions lint`); verifying the entries that could be read",
            args.dir.display()
        );
    }
    let token = std::env::var(&args.token_env)
        .ok()
        .filter(|t| !t.is_empty());
    if let Some(t) = &token {
        crate::redact::register(t);
        if let Some(host) = plain_http_host(&args.jira_url) {
            if !crate::sources::live::is_loopback(&host) {
                eprintln!(
                    "error: refusing to send the token in ${} over plain http:// to {host}: anyone on the network could read it; use Jira's https:// URL",
                    args.token_env
                );
                return exit::CONFIG;
            }
        }
    }
    if token.is_none() {
        eprintln!(
            "warning: ${} is not set; asking Jira anonymously",
            args.token_env
        );
    }
    let tickets = verify::referenced(&ex);
    let total = tickets.len();
    let mut results = match verify::verify(
        &args.jira_url,
        token.as_deref(),
        tickets,
        usize::from(args.concurrency),
        Duration::from_secs(args.timeout),
    ) {
        Ok(r) => r,
        Err(Fatal::Unauthorized { status, key }) => {
            eprintln!(
                "error: Jira refused the request for {key} (HTTP {status}): check the token in ${}",
                args.token_env
            );
            return exit::CONFIG;
        }
    };
    verify::check_links(&ex, &mut results);
    // With a state, a fixed ticket whose violation is still there is not
    // dropped: the entry is what keeps that test a flake.
    let mut still_violated: Vec<String> = Vec::new();
    if !args.against.is_empty() {
        if judge_against(&ex, &args.against, None).is_none() {
            return exit::CONFIG;
        }
        for t in &results {
            if !matches!(t.state, TicketState::Closed { .. }) {
                continue;
            }
            for e in ex.entries.iter().filter(|e| e.was_used()) {
                if matches!(&e.grant, crate::exceptions::Grant::Ticket { jira, .. } if *jira == t.key)
                {
                    still_violated.push(format!(
                        "{} is closed, but its violation is still there ({}:{}): reopen it or file a new ticket",
                        t.key,
                        e.file.display(),
                        e.line
                    ));
                }
            }
        }
    }
    let edits = verify::proposed_edits_keeping(&ex, &results, |e| e.was_used());
    let bad: Vec<_> = results
        .iter()
        .filter(|t| matches!(t.state, TicketState::Closed { .. } | TicketState::Missing))
        .collect();
    let unlinked: Vec<_> = results
        .iter()
        .filter(|t| matches!(t.state, TicketState::Open { .. }) && !t.unlinked.is_empty())
        .collect();
    let unknown: Vec<_> = results
        .iter()
        .filter(|t| matches!(t.state, TicketState::Unknown { .. }))
        .collect();
    let mut written = Vec::new();
    if args.write {
        for e in &edits {
            let r = crate::atomic::write(&e.path, crate::atomic::Existing::Replace, |w| {
                w.write_all(e.after.as_bytes())
            });
            match r {
                Ok(()) => written.push(e.path.display().to_string()),
                Err(err) => {
                    eprintln!("error: cannot write {}: {err}", e.path.display());
                    return exit::CONFIG;
                }
            }
        }
    }
    let mut out = anstream::stdout();
    let _ = match args.output {
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "tickets": results,
                "closed_or_missing": bad.len(),
                "unlinked": unlinked.len(),
                "closed_but_still_violated": still_violated,
                "unverified": unknown.len(),
                "edits": edits.iter().map(|e| serde_json::json!({
                    "file": e.path.display().to_string(),
                    "patch": e.diff(),
                    "written": args.write,
                })).collect::<Vec<_>>(),
            }))
            .expect("serializes")
        ),
        Format::Text => {
            for t in &results {
                let line = match &t.state {
                    TicketState::Open { .. } if t.unlinked.is_empty() => continue,
                    TicketState::Open { .. } => format!(
                        "{} is open, but Sippy links it to no test of its entries: its summary or description must contain each exact test name. Paste:\n{}",
                        t.key,
                        t.unlinked.iter().map(|n| format!("      {n}")).collect::<Vec<_>>().join("\n")
                    ),
                    TicketState::Closed { status, resolution } => format!(
                        "{} is closed ({status}{}): see the proposed edit below",
                        t.key,
                        resolution.as_ref().map(|r| format!(", {r}")).unwrap_or_default()
                    ),
                    TicketState::Missing => format!("{} does not exist: a typo?", t.key),
                    TicketState::Unknown { error } => format!("{} could not be checked: {error}", t.key),
                };
                let _ = writeln!(
                    out,
                    "{line}\n    referenced at {}",
                    t.referenced_at.join(", ")
                );
            }
            for s in &still_violated {
                let _ = writeln!(out, "{s}");
            }
            if !edits.is_empty() {
                if args.write {
                    let _ = writeln!(out, "\nApplied to {}:", written.join(", "));
                } else {
                    let _ = writeln!(
                        out,
                        "\nProposed edits for closed tickets (apply with --write, or `git apply`):"
                    );
                }
                for e in &edits {
                    let _ = write!(out, "{}", e.diff());
                }
            }
            writeln!(
                out,
                "{total} tickets: {} open, {} closed or missing, {} not linked to their tests, {} not checked",
                total - bad.len() - unknown.len(),
                bad.len(),
                unlinked.len(),
                unknown.len()
            )
        }
    };
    if !bad.is_empty() || !unlinked.is_empty() {
        exit::FAILED
    } else if !unknown.is_empty() {
        exit::CONFIG
    } else {
        exit::OK
    }
}

/// Judges the state `--against` names with `ex`, which marks the entries
/// that matched a violation (`Entry::was_used`). `None` (said on stderr)
/// when the state cannot be read.
fn judge_against(
    ex: &Exceptions,
    paths: &[std::path::PathBuf],
    now: Option<chrono::DateTime<Utc>>,
) -> Option<super::Judged> {
    let loaded = match sources::load_paths(paths) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: --against: {e}");
            return None;
        }
    };
    Some(judge(
        loaded,
        ex,
        &Judging {
            topology: TopologyMode::Auto,
            profile: ex.policy.profile.unwrap_or(Profile::Generic),
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

/// The host of an `http://` URL (`None` for https and anything else).
fn plain_http_host(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("").to_owned()
    } else {
        host_port.split(':').next().unwrap_or("").to_owned()
    };
    Some(host)
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_http_hosts() {
        use super::plain_http_host as h;
        assert_eq!(
            h("http://jira.example.com/x").as_deref(),
            Some("jira.example.com")
        );
        assert_eq!(
            h("http://user:pw@127.0.0.1:8080").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(h("http://[::1]:80/").as_deref(), Some("::1"));
        assert_eq!(h("https://jira.example.com"), None);
    }
}
