use clap::Parser;

// vigil allocates millions of small strings while reading a large cluster;
// mimalloc keeps that fast and avoids glibc's mmap/munmap churn.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = vigil::cli::Cli::parse();
    std::process::ExitCode::from(vigil::app::dispatch(cli.command))
}
