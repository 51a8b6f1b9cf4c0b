use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = vigil::cli::Cli::parse();
    std::process::ExitCode::from(vigil::app::dispatch(cli.command))
}
