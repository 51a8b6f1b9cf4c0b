//! Writing files so that a killed run never leaves a half-written one: the
//! content goes to a temporary file beside the target, is synced, and is
//! renamed into place. JUnit reports, snapshots and exception edits all go
//! through here.

use std::io::{self, BufWriter, Write};
use std::path::Path;

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
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
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
