use clap::Parser as _;

// vigil allocates millions of small strings while reading a large cluster;
// mimalloc keeps that fast and avoids glibc's mmap/munmap churn.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc 3 holds freed memory for a second (ten, in its arenas) before
/// returning it to the kernel, which suits a long-lived server. vigil is a
/// batch run whose peak matters (a CI step's memory limit): returning freed
/// pages at once lowers the peak at 150k pods by 40-85 MiB for about 0.1 s
/// (BENCHMARKS.md, round five). `MIMALLOC_PURGE_DELAY` still wins.
fn tune_allocator() {
    // glibc's malloc still serves C code (name resolution, TLS setup) and
    // gives each new thread its own 64 MiB arena reservation: five threads
    // cost 320 MiB of address space, and under a CI pod's address-space
    // limit the watch could not start its disruption pollers. One arena
    // is plenty for what little C code allocates. `MALLOC_ARENA_MAX` wins.
    #[cfg(target_env = "gnu")]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: a plain C call before any other thread exists.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
    }
    // SAFETY: plain C calls, made before any other thread exists.
    if unsafe { libmimalloc_sys::mi_version() } / 100 != MIMALLOC_MINOR {
        return; // another mimalloc: its option numbers may differ
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: as above; the option is read whenever memory is freed.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    }
}

/// The mimalloc `PURGE_DELAY` was taken from (3.3.x): its index into
/// `mi_option_e`, which the binding does not name.
const MIMALLOC_MINOR: i32 = 303;
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    tune_allocator();
    // Installed as `kubectl-vigil`, kubectl runs it for `kubectl vigil ...`:
    // the help then shows that spelling.
    let as_plugin = std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().starts_with("kubectl-vigil"))
        })
        .unwrap_or(false);
    let parsed = if as_plugin {
        use clap::FromArgMatches;
        vigil::cli::command("kubectl vigil")
            .try_get_matches()
            .and_then(|m| vigil::cli::Cli::from_arg_matches(&m))
    } else {
        vigil::cli::Cli::try_parse()
    };
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if !matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let args: Vec<_> = std::env::args_os().collect();
                let message = e.render().to_string();
                vigil::app::guard::usage_error(&args, &message);
                // clap quotes the value it refused: printed as every other
                // line, credentials masked and terminal controls shown,
                // never obeyed.
                for line in message.trim_end().lines() {
                    let line = vigil::redact::text(line);
                    vigil::term::eprint_line(format_args!("{}", vigil::term::printable(&line)));
                }
                std::process::exit(2);
            }
            e.exit()
        }
    };
    if matches!(cli.command, vigil::cli::Command::Report(_)) {
        hold_freed_memory();
    }
    vigil::app::main(cli.command)
}

/// `vigil report` reads thousands of runs one after another, each freed
/// before the next: returning those pages at once made the kernel clear
/// them again for the next run (a third of its time at 1,000 runs). Its
/// peak is small (tens of MB), so freed memory is held for mimalloc's
/// default second. `MIMALLOC_PURGE_DELAY` still wins.
fn hold_freed_memory() {
    // SAFETY: as in `tune_allocator`; reading the option is thread-safe.
    if unsafe { libmimalloc_sys::mi_version() } / 100 == MIMALLOC_MINOR
        && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
    {
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 1000) };
    }
}

#[cfg(test)]
mod tests {
    /// Upgrading mimalloc would silently turn the tuning off: this says to
    /// look up the option's number in its mimalloc.h again.
    #[test]
    fn the_allocator_tuning_matches_the_linked_mimalloc() {
        let version = unsafe { libmimalloc_sys::mi_version() };
        assert_eq!(
            version / 100,
            super::MIMALLOC_MINOR,
            "mimalloc {version}: recheck PURGE_DELAY in mi_option_e"
        );
        // The number names purge_delay: 1000 ms is its default in 3.3.
        let expected = std::env::var("MIMALLOC_PURGE_DELAY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        let got = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(
            got,
            expected,
            "option {} is not purge_delay",
            super::PURGE_DELAY
        );
    }
}
