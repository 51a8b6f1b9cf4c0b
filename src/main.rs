use clap::Parser as _;

// vigil allocates millions of small strings while reading a large cluster;
// mimalloc keeps that fast and avoids glibc's mmap/munmap churn.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = match vigil::cli::Cli::try_parse() {
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
