use clap::Parser as _;

// vigil allocates millions of small strings while reading a large cluster;
// mimalloc keeps that fast and avoids glibc's mmap/munmap churn.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
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
        use clap::{CommandFactory, FromArgMatches};
        vigil::cli::Cli::command()
            .bin_name("kubectl vigil")
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
                vigil::app::guard::usage_error(&args, &e.render().to_string());
            }
            e.exit()
        }
    };
    std::process::ExitCode::from(vigil::app::dispatch(cli.command))
}
