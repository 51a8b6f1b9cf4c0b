//! The work behind each subcommand, one file per command. `cli` parses;
//! these modules resolve the arguments, run the pipeline and return a
//! verdict or an [`Error`]. [`main`] is the one place that prints an error
//! and turns the outcome into the exit status, inside one [`guard`] for
//! every command.

mod args;
mod checks;
#[cfg(feature = "devtools")]
mod dev;
mod diff;
mod exceptions;
pub mod guard;
mod judge;
mod man;
mod report;
mod run;
mod snapshot;
mod watch;

use std::process::ExitCode;

use crate::cli::Command;
use crate::error::{Error, Result, Status};
use guard::{Abort, Guard};

pub(crate) use judge::{judge, loaded_from_live, Judged, Judging};

/// Runs one command and returns the exit status: the only place that
/// prints an error a command returned and maps outcomes to exit codes.
pub fn main(command: Command) -> ExitCode {
    let guard = guard_for(&command);
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(command, &guard)));
    let status = match ran {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => {
            crate::term::error(&e.to_string());
            e.status()
        }
        Err(p) => guard.abort(&Abort::Panic(guard::panic_message(&*p))),
    };
    ExitCode::from(status.code())
}

/// One guard per command: signals, panics and, for the commands that write
/// JUnit, the fallback file and the deadline.
fn guard_for(command: &Command) -> Guard {
    let deadline = |s: u64| Some(std::time::Duration::from_secs(s));
    match command {
        Command::Run(a) => Guard::install(
            args::junit_target(&a.common.junit),
            deadline(a.common.deadline),
        ),
        // A watch lasts as long as the e2e run: its judgement arms the deadline.
        Command::Watch(a) => Guard::install(args::junit_target(&a.common.junit), None),
        Command::Snapshot(a) => Guard::install(None, deadline(a.deadline)),
        _ => Guard::install(None, None),
    }
}

fn dispatch(command: Command, guard: &Guard) -> Result {
    match command {
        Command::Run(a) => run::run(&a, guard),
        Command::Watch(a) => watch::watch(&a, guard),
        Command::Diff(a) => diff::diff(&a),
        Command::Report(a) => report::report(&a),
        Command::Checks(a) => checks::list(&a),
        Command::Exceptions(c) => exceptions::dispatch(c),
        Command::Snapshot(a) => snapshot::snapshot(&a, guard),
        Command::Completions { shell } => {
            let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
            let mut out = crate::term::stdout();
            clap_complete::generate(shell, &mut cmd, "vigil", &mut out);
            Ok(Status::Passed)
        }
        Command::Man(a) => man::man(&a),
        #[cfg(feature = "devtools")]
        Command::Dev(c) => dev::dev(c),
        Command::CredentialGuard(a) => credential_guard(&a),
    }
}

/// `vigil credential-guard`: see [`crate::sources::kubeconfig`].
fn credential_guard(a: &crate::cli::CredentialGuardArgs) -> Result {
    let (command, args) = a
        .command
        .split_first()
        .ok_or_else(|| Error::Usage("no plugin given".into()))?;
    let (out, status) = crate::sources::kubeconfig::run_plugin(
        command,
        args,
        std::time::Duration::from_secs(a.timeout.max(1)),
    )
    .map_err(Error::Config)?;
    crate::term::write_raw_stdout(&out).map_err(|e| Error::write("standard output", e))?;
    Ok(if status.success() {
        Status::Passed
    } else {
        Status::Failed
    })
}

/// Writing to stdout failed: a closed pipe (`vigil ... | head`) is not an error.
pub(crate) fn printed(r: std::io::Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::write("standard output", e))
        }
        _ => Ok(()),
    }
}
