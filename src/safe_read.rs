//! Opening input files without hanging or exhausting memory: only regular
//! files are read (a FIFO named `policy.yaml` or a link to `/dev/zero` would
//! block or never end), opened non-blocking so that even a file swapped for
//! a FIFO after the check cannot hang the run, and never beyond a size limit.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The largest exception or policy file read: they are written by people.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Opens `path` for reading if it is a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, device or socket); vigil reads only regular files",
        ));
    }
    Ok(file)
}

/// Reads a regular text file of at most `max` bytes.
pub fn read_to_string(path: &Path, max: u64) -> io::Result<String> {
    let file = open_regular(path)?;
    if file.metadata()?.len() > max {
        return Err(too_large(max));
    }
    let mut text = String::new();
    file.take(max + 1).read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(text)
}

fn too_large(max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("larger than the {} MiB vigil reads", max >> 20),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("policy.yaml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Returns at once instead of waiting for a writer.
        let err = read_to_string(&fifo, 1024).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(read_to_string(Path::new("/dev/zero"), 1024).is_err());
        assert!(read_to_string(d.path(), 1024).is_err());
    }

    #[test]
    fn refuses_what_is_too_large() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("big.yaml");
        std::fs::write(&f, "x".repeat(2048)).unwrap();
        assert!(read_to_string(&f, 1024)
            .unwrap_err()
            .to_string()
            .contains("larger than"));
        assert_eq!(read_to_string(&f, 4096).unwrap().len(), 2048);
    }
}
