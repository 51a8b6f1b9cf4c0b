//! Writing files so that a killed run never leaves a half-written one: the
//! content goes to a temporary file beside the target, is synced, and is
//! renamed into place. JUnit reports, snapshots and exception edits all go
//! through here.

use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Temporary files end so, which tells them apart from anything else.
const TMP_SUFFIX: &str = ".vigil-tmp";

/// A temporary file this old was left by a killed run: no write takes an hour.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes temporary files that killed runs left in `dir` (SIGKILL and OOM
/// kills skip every cleanup), so that they do not pile up in CI artifacts.
fn clean_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        // Also the `.tmp` files of earlier vigil versions' JUnit writes.
        let ours = name.starts_with('.')
            && (name.ends_with(TMP_SUFFIX)
                || (name.starts_with(".junit_vigil_") && name.ends_with(".tmp")));
        if !ours {
            continue;
        }
        let old = e
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Whether an existing file at the path may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Replace,
    /// Fail rather than replace a file that appeared meanwhile.
    Keep,
}

/// Writes `path` with what `fill` writes. A replaced file keeps its mode; a
/// new one is 0644 (temporary files start 0600, and reports and snapshots are
/// meant to be read by whoever collects CI artifacts).
pub fn write(
    path: &Path,
    existing: Existing,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("vigil");
    // Like --junit-dir, every output's directory is made when missing
    // (`$ARTIFACTS/...` in CI often does not exist yet).
    std::fs::create_dir_all(dir)?;
    clean_stale(dir);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(TMP_SUFFIX)
        .tempfile_in(dir)?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0o644);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.as_file().sync_all()?;
    match existing {
        Existing::Replace => tmp.persist(path).map(drop).map_err(|e| e.error),
        Existing::Keep => tmp.persist_noclobber(path).map(drop).map_err(|e| e.error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap()
    }

    #[test]
    fn stale_temporary_files_of_killed_runs_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let stale = d.path().join(".junit_vigil_x.xml.abc123.vigil-tmp");
        let fresh = d.path().join(".out.txt.def456.vigil-tmp");
        let legacy = d.path().join(".junit_vigil_20261121-120000.xml.Xyz.tmp");
        let other = d.path().join(".someone-elses.tmp");
        for f in [&stale, &fresh, &legacy, &other] {
            std::fs::write(f, "x").unwrap();
        }
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for f in [&stale, &legacy, &other] {
            std::fs::File::options()
                .write(true)
                .open(f)
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
        write(&d.path().join("out.txt"), Existing::Replace, |w| {
            w.write_all(b"x")
        })
        .unwrap();
        assert!(!stale.exists() && !legacy.exists(), "stale ones are gone");
        assert!(fresh.exists(), "a run in progress keeps its file");
        assert!(other.exists(), "files vigil did not write are left alone");
    }

    #[test]
    fn writes_replaces_and_keeps() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.txt");
        write(&p, Existing::Replace, |w| w.write_all(b"one")).unwrap();
        assert_eq!(read(&p), "one");
        write(&p, Existing::Replace, |w| w.write_all(b"two")).unwrap();
        assert_eq!(read(&p), "two");
        assert!(write(&p, Existing::Keep, |w| w.write_all(b"three")).is_err());
        assert_eq!(read(&p), "two");
        // A failing writer leaves the old file and no temporary file behind.
        assert!(write(&p, Existing::Replace, |_| Err(io::Error::other("boom"))).is_err());
        assert_eq!(read(&p), "two");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o644
            );
        }
    }
}
