//! How a command ends: with a verdict ([`Status`]), or with an [`Error`]
//! that kept it from giving one. Every command returns one of the two, and
//! [`crate::app::main`] is the one place that prints an error and turns the
//! outcome into the process's exit status, so that a new command cannot
//! pick its own numbers.

use std::path::PathBuf;

/// How a command ended, ordered from best to worst: a run that met several
/// problems exits with the worst (`a.worst(b)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Nothing failed (flakes allowed).
    Passed,
    /// A verdict: at least one test (or ticket, or lint rule) failed.
    Failed,
    /// A usage, input or configuration error, or rejected credentials.
    Config,
    /// The cluster (or Jira) could not be reached.
    Unreachable,
    /// vigil did not complete: `--deadline` passed, or it crashed.
    Incomplete,
    /// Ended by this signal.
    Signal(u8),
}

impl Status {
    /// The process's exit status.
    pub const fn code(self) -> u8 {
        match self {
            Status::Passed => 0,
            Status::Failed => 1,
            Status::Config => 2,
            Status::Unreachable => 3,
            Status::Incomplete => 4,
            Status::Signal(n) => 128u8.saturating_add(n),
        }
    }

    /// The worse of the two.
    #[must_use]
    pub fn worst(self, other: Status) -> Status {
        self.max(other)
    }

    /// Every status with what it means, in order: the help texts and the
    /// README print this table, so they cannot drift from the codes.
    pub const MEANINGS: &'static [(&'static str, &'static str)] = &[
        ("0", "no test failed (flakes allowed)"),
        ("1", "at least one test failed"),
        (
            "2",
            "usage, input or configuration error, or rejected credentials (nothing, or not everything, could be judged)",
        ),
        ("3", "the cluster (or, for `exceptions verify`, Jira) could not be reached"),
        ("4", "vigil did not complete: --deadline passed or it crashed"),
        ("128+N", "ended by signal N, e.g. 143 for SIGTERM"),
    ];

    /// The table for `--help`: `  0      no test failed ...`.
    pub fn help_table() -> String {
        Self::MEANINGS
            .iter()
            .map(|(code, what)| format!("  {code:<7}{what}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The table for the README, in Markdown.
    pub fn markdown_table() -> String {
        let mut out = String::from("| exit | meaning |\n|---|---|\n");
        for (code, what) in Self::MEANINGS {
            out.push_str(&format!("| `{code}` | {what} |\n"));
        }
        out
    }
}

/// What kept a command from giving a verdict. Each kind has its exit status
/// ([`Error::status`]); the message is printed once, by `app::main`, through
/// the terminal sanitizer and the secret mask.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// The configuration (exceptions, kubeconfig, credentials) is wrong.
    #[error("{0}")]
    Config(String),
    /// An input could not be read or is not what it should be (at a line,
    /// when one is to blame).
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        path: PathBuf,
        line: Option<u64>,
        message: String,
    },
    /// An output could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A server (the cluster, Jira) could not be reached.
    #[error("{0}")]
    Unreachable(String),
    /// The command did not complete.
    #[error("{0}")]
    Incomplete(String),
}

impl Error {
    pub fn status(&self) -> Status {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Input { .. } | Error::Write { .. } => {
                Status::Config
            }
            Error::Unreachable(_) => Status::Unreachable,
            Error::Incomplete(_) => Status::Incomplete,
        }
    }

    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::Input {
            path: path.into(),
            line: None,
            message: message.into(),
        }
    }

    /// An input at fault at `line`: `file:line: message`.
    pub fn input_at(path: impl Into<PathBuf>, line: u64, message: impl Into<String>) -> Error {
        Error::Input {
            path: path.into(),
            line: Some(line),
            message: message.into(),
        }
    }

    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Write {
            path: path.into(),
            source,
        }
    }
}

/// What a command returns.
pub type Result<T = Status, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_order_from_best_to_worst_and_keep_their_codes() {
        let all = [
            Status::Passed,
            Status::Failed,
            Status::Config,
            Status::Unreachable,
            Status::Incomplete,
            Status::Signal(15),
        ];
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        let codes: Vec<u8> = all.iter().map(|s| s.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 143]);
        assert_eq!(Status::Failed.worst(Status::Config), Status::Config);
        assert_eq!(Status::Config.worst(Status::Passed), Status::Config);
        // The table lists exactly these codes, in order.
        let listed: Vec<&str> = Status::MEANINGS.iter().map(|(c, _)| *c).collect();
        assert_eq!(listed, ["0", "1", "2", "3", "4", "128+N"]);
    }

    #[test]
    fn errors_carry_their_status() {
        assert_eq!(Error::Usage("x".into()).status(), Status::Config);
        assert_eq!(Error::input("a.yaml", "bad").status(), Status::Config);
        assert_eq!(Error::input("a.yaml", "bad").to_string(), "a.yaml: bad");
        assert_eq!(
            Error::input_at("a.yaml", 3, "bad").to_string(),
            "a.yaml:3: bad"
        );
        assert_eq!(Error::Unreachable("x".into()).status(), Status::Unreachable);
        assert_eq!(Error::Incomplete("x".into()).status(), Status::Incomplete);
    }

    /// The README's exit-status table is this type's.
    #[test]
    fn the_readme_prints_this_table() {
        let readme = include_str!("../README.md");
        assert!(
            readme.contains(&Status::markdown_table()),
            "README.md must contain:\n{}",
            Status::markdown_table()
        );
    }
}
