//! Configuration problems, reported in the style of rustc: what is wrong,
//! where (`file:line:column`), the offending text, and what to do.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::{Location, Spanned};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub level: Level,
    pub path: PathBuf,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub message: String,
    /// The offending text, when there is one to quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// A stable name for problems tools act on, e.g. `placeholder`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

/// `s` cut to `max` characters, saying how long it was: a 400 KB value
/// must not become a 400 KB error message.
pub fn clip(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}… ({n} characters)")
}

/// The code of a `TODO` left by `vigil exceptions suggest`.
pub const PLACEHOLDER_CODE: &str = "placeholder";

impl Diagnostic {
    pub fn error(path: &Path, loc: Option<Location>, message: impl Into<String>) -> Self {
        let known = loc.filter(|l| l.line() > 0);
        Diagnostic {
            level: Level::Error,
            path: path.to_owned(),
            // serde-saphyr reports an unknown place as line 0.
            line: known.map(|l| l.line()),
            column: known.map(|l| l.column()),
            message: message.into(),
            snippet: None,
            hint: None,
            code: None,
        }
    }

    /// An error about a spanned value, quoting it.
    pub fn at<T: fmt::Display>(
        path: &Path,
        value: &Spanned<T>,
        message: impl Into<String>,
    ) -> Self {
        let mut d = Self::error(path, Some(value.referenced), message);
        d.snippet = Some(clip(&value.value.to_string(), 120));
        d
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn warning(mut self) -> Self {
        self.level = Level::Warning;
        self
    }

    /// `file:line:column`, or as much of it as is known.
    pub fn location(&self) -> String {
        let mut s = self.path.display().to_string();
        if let Some(l) = self.line {
            s.push_str(&format!(":{l}"));
            if let Some(c) = self.column {
                s.push_str(&format!(":{c}"));
            }
        }
        s
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        writeln!(f, "{level}: {}", self.message)?;
        write!(f, "  --> {}", self.location())?;
        if let Some(s) = &self.snippet {
            write!(f, "\n   | {s}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n   = help: {h}")?;
        }
        Ok(())
    }
}

/// Turns a serde-saphyr error into a diagnostic at its position, quoting
/// the line (and the one before, where an unclosed bracket or quote usually
/// is) with a hint for YAML syntax errors.
pub fn from_yaml_error(path: &Path, text: &str, e: &serde_saphyr::Error) -> Diagnostic {
    let msg = crate::sources::yaml_message(e);
    let mut d = Diagnostic::error(path, e.location(), msg.clone());
    if let Some(hint) = unknown_field_hint(&msg) {
        d.hint = Some(hint);
    }
    let Some(line) = d.line.filter(|l| *l > 0) else {
        return d;
    };
    let lines: Vec<&str> = text.lines().collect();
    let at = (line as usize).saturating_sub(1);
    if let Some(l) = lines.get(at) {
        let before = at
            .checked_sub(1)
            .and_then(|i| lines.get(i))
            .filter(|b| !b.trim().is_empty())
            .map(|b| format!("{}\n   | ", clip(b, 120)))
            .unwrap_or_default();
        let caret = d
            .column
            .map(|c| {
                format!(
                    "\n   | {}^",
                    " ".repeat((c as usize).saturating_sub(1).min(120))
                )
            })
            .unwrap_or_default();
        d.snippet = Some(format!("{before}{}{caret}", clip(l, 120)));
    }
    if d.hint.is_none() && is_syntax(&msg) {
        d.hint = Some(
            "a YAML syntax error: the cause is often just before this place (an unclosed `[`, `{` or quote, \
             a missing space after `:` or `-`, a tab in the indentation); `vigil exceptions lint` reads \
             every file, so fix this one and run it again"
                .into(),
        );
    }
    d
}

/// Whether a parser message is about YAML syntax rather than content.
fn is_syntax(msg: &str) -> bool {
    [
        "indicator",
        "did not find expected",
        "while parsing",
        "while scanning",
        "mapping values are not allowed",
        "unexpected end",
        "invalid",
        "tab",
        "found character",
    ]
    .iter()
    .any(|k| msg.contains(k))
        && !msg.contains("unknown field")
        && !msg.contains("invalid type")
}

/// For serde's "unknown field `x`, expected one of `a`, `b`", suggests the
/// closest expected field.
fn unknown_field_hint(msg: &str) -> Option<String> {
    let rest = msg.split("unknown field `").nth(1)?;
    let (field, expected) = rest.split_once('`')?;
    let expected = expected.split_once("expected")?.1;
    let expected = expected.trim_start().trim_start_matches("one of").trim();
    let best = expected
        .split(',')
        .map(|c| c.trim().trim_matches('`'))
        .filter(|c| !c.is_empty())
        .map(|c| (crate::checks::strsim_distance(field, c), c))
        .filter(|(d, c)| *d <= c.len().max(field.len()) / 2)
        .min()?;
    Some(format!("did you mean `{}`?", best.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_suggestion() {
        assert_eq!(
            unknown_field_hint("unknown field `jria`, expected one of `check`, `jira`, `allow`")
                .as_deref(),
            Some("did you mean `jira`?")
        );
        assert_eq!(
            unknown_field_hint("unknown field `mood`, expected one of mode, thresholds").as_deref(),
            Some("did you mean `mode`?")
        );
        assert_eq!(
            unknown_field_hint("unknown field `zzzzzzzz`, expected `check`"),
            None
        );
    }

    #[test]
    fn rendering() {
        let d = Diagnostic {
            level: Level::Error,
            path: "exceptions/console.yaml".into(),
            line: Some(5),
            column: Some(12),
            message: "unknown check id".into(),
            snippet: Some("ha/replica".into()),
            hint: Some("did you mean `ha/replicas`?".into()),
            code: None,
        };
        assert_eq!(
            d.to_string(),
            "error: unknown check id\n  --> exceptions/console.yaml:5:12\n   | ha/replica\n   = help: did you mean `ha/replicas`?"
        );
    }
}
