//! `vigil snapshot --to FILE`: collect what `run` would judge, and keep it.

use std::io::Write;

use super::guard::Guard;
use crate::cli::SnapshotArgs;
use crate::error::{Error, Result, Status};

pub fn snapshot(args: &SnapshotArgs, guard: &Guard) -> Result {
    let path = match (&args.to, &args.output_file) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => {
            crate::term::warning(
                "`vigil snapshot -o FILE` is now `--to FILE` (-o means the output format in every other command); -o FILE still works for now",
            );
            p.clone()
        }
        (None, None) => return Err(Error::Usage("--to FILE is required".into())),
    };
    guard.phase("collecting the cluster state");
    let c =
        crate::sources::live::collect(&super::args::live_options(&args.cluster)).map_err(|e| {
            if e.is_config() {
                Error::Config(e.to_string())
            } else {
                Error::Unreachable(e.to_string())
            }
        })?;
    guard.phase("writing the snapshot");
    crate::sources::snapshot::write(&path, &c.objects, &c.info)
        .map_err(|e| Error::write(&path, e))?;
    let mut out = crate::term::stdout();
    let printed = writeln!(
        out,
        "{}: {} objects from {} ({}) at {}",
        path.display(),
        c.objects.len(),
        c.server_url,
        c.info.server.as_deref().unwrap_or("unknown version"),
        c.info.collected_at
    )
    .and_then(|()| {
        c.info
            .skipped
            .iter()
            .try_for_each(|s| writeln!(out, "  {s}: not served by this cluster, skipped"))
    })
    .and_then(|()| out.flush());
    super::printed(printed)?;
    for m in &c.info.missing {
        crate::term::warning(&format!("could not list {}: {}", m.kind, m.error));
    }
    Ok(if c.info.missing.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    })
}
