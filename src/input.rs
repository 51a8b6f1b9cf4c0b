//! Every byte vigil takes in is read here, under a limit the error names.
//!
//! A CI pod has a memory limit, and an out-of-memory kill leaves no JUnit:
//! so no input may cost more than its limit, whatever it claims. Files
//! (states, snapshots, intervals, exceptions, kubeconfigs and the files
//! they name, CI artifacts), API responses and watch events, what an exec
//! credential plugin prints and what Jira answers are all read through the
//! functions below. Each takes a [`Limit`]; going past it is a
//! [`ReadError::TooLarge`] that says which limit and how to raise it.
//!
//! Files are opened only when they are regular files, and opened
//! non-blocking, so a FIFO or a link to `/dev/zero` (or a file swapped for
//! one after the check) cannot hang the run.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// A bound on one kind of input: how many bytes, of what, and the flag
/// that raises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub bytes: u64,
    /// What is limited, after "the 16 MiB limit on": `input files`.
    pub what: &'static str,
    /// The option that sets it, when there is one.
    pub flag: Option<&'static str>,
}

impl Limit {
    pub const fn new(bytes: u64, what: &'static str, flag: Option<&'static str>) -> Limit {
        Limit { bytes, what, flag }
    }

    /// `--max-file-mib`: state files, snapshots, intervals, artifacts.
    pub const fn files(bytes: u64) -> Limit {
        Limit::new(bytes, "input files", Some("--max-file-mib"))
    }

    /// `--max-page-mib`: one API response, one watch event.
    pub const fn pages(bytes: u64) -> Limit {
        Limit::new(bytes, "API responses", Some("--max-page-mib"))
    }

    /// The error for going past this limit.
    pub fn exceeded(self) -> ReadError {
        ReadError::TooLarge(self)
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = if self.bytes >= 1 << 20 && self.bytes % (1 << 20) == 0 {
            format!("{} MiB", self.bytes >> 20)
        } else if self.bytes >= 1 << 10 && self.bytes % (1 << 10) == 0 {
            format!("{} KiB", self.bytes >> 10)
        } else {
            format!("{} bytes", self.bytes)
        };
        write!(f, "the {size} limit on {}", self.what)?;
        if let Some(flag) = self.flag {
            write!(f, " ({flag})")?;
        }
        Ok(())
    }
}

/// Exception, policy and owners files: written by people.
pub const CONFIG: Limit = Limit::new(16 << 20, "exception and policy files", None);
/// A kubeconfig, and each file it names (certificates, keys, token files).
pub const KUBECONFIG: Limit =
    Limit::new(16 << 20, "kubeconfig files and the files they name", None);
/// What an exec credential plugin prints.
pub const PLUGIN_OUTPUT: Limit = Limit::new(1 << 20, "what an exec credential plugin prints", None);
/// One answer from Jira.
pub const JIRA: Limit = Limit::new(16 << 20, "answers from Jira", None);
/// A must-gather's `timestamp` file.
pub const TIMESTAMP: Limit = Limit::new(4 << 10, "timestamp files", None);

/// Why an input was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("larger than {0}; raise it if the input is genuine")]
    TooLarge(Limit),
    #[error("not read: {0}, not a regular file (reading it might never end); vigil reads only regular files")]
    NotRegular(&'static str),
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl ReadError {
    pub fn is_too_large(&self) -> bool {
        matches!(self, ReadError::TooLarge(_))
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

/// Opens `path` for reading if it is a regular file.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
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
        return Err(ReadError::NotRegular(file_type(&meta)));
    }
    Ok(file)
}

/// What a file that is not regular is: `a FIFO`, `a device`...
pub fn file_type(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        } else if t.is_char_device() || t.is_block_device() {
            return "a device";
        } else if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Checks that `path` is a regular file within `limit`, without reading
/// it: for files another library reads (the certificates a kubeconfig
/// names), so that one it would read whole is refused first.
pub fn check_file(path: &Path, limit: Limit) -> Result<(), ReadError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(file_type(&meta)));
    }
    if meta.len() > limit.bytes {
        return Err(limit.exceeded());
    }
    Ok(())
}

/// Reads a regular file of at most `limit` into `buf` (cleared first),
/// sizing the buffer exactly.
pub fn read_file_into(path: &Path, limit: Limit, buf: &mut Vec<u8>) -> Result<(), ReadError> {
    buf.clear();
    let file = open_regular(path)?;
    let len = file.metadata()?.len();
    if len > limit.bytes {
        return Err(limit.exceeded());
    }
    // `take` hides the file's size from `read_to_end`, which would then
    // grow the buffer by doubling (64 MiB for a 33 MiB file).
    buf.reserve_exact((len as usize).saturating_add(1));
    file.take(limit.bytes + 1).read_to_end(buf)?;
    if buf.len() as u64 > limit.bytes {
        return Err(limit.exceeded());
    }
    Ok(())
}

/// Reads a regular file of at most `limit`.
pub fn read_file(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    read_file_into(path, limit, &mut buf)?;
    Ok(buf)
}

/// Reads a regular UTF-8 text file of at most `limit`.
pub fn read_to_string(path: &Path, limit: Limit) -> Result<String, ReadError> {
    let bytes = read_file(path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        ReadError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not valid UTF-8 text (at byte {})",
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}

/// Reads a stream (a child's output, an HTTP body) of at most `limit`.
pub fn read_all(mut reader: impl Read, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(buf),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        };
        if (buf.len() + n) as u64 > limit.bytes {
            return Err(limit.exceeded());
        }
        grow_within(&mut buf, n, limit.bytes);
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A total shared by several pieces of one input (the members of a gzip
/// file inflated on all cores): each piece takes what it uses, and the
/// input fails as soon as together they pass the limit.
#[derive(Debug)]
pub struct Budget {
    used: AtomicU64,
    limit: Limit,
}

impl Budget {
    pub fn new(limit: Limit) -> Budget {
        Budget {
            used: AtomicU64::new(0),
            limit,
        }
    }

    /// Takes `n` bytes; an error once the total passes the limit.
    pub fn take(&self, n: u64) -> Result<(), ReadError> {
        let before = self.used.fetch_add(n, Ordering::Relaxed);
        if before.saturating_add(n) > self.limit.bytes {
            return Err(self.limit.exceeded());
        }
        Ok(())
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> Limit {
        self.limit
    }
}

/// Inflates gzip (every member) into `out`, taking what it produces from
/// `budget` as it goes: a gzip bomb stops at the limit, not at the end.
pub fn gunzip_into(raw: &[u8], budget: &Budget, out: &mut Vec<u8>) -> Result<(), ReadError> {
    let mut decoder = flate2::read::MultiGzDecoder::new(raw);
    let mut chunk = vec![0u8; 256 << 10];
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(ReadError::Io(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("not valid gzip: {e}"),
                )))
            }
        };
        budget.take(n as u64)?;
        grow_within(out, n, budget.limit().bytes);
        out.extend_from_slice(&chunk[..n]);
    }
}

/// Makes room for `n` more bytes in `out`, doubling as `Vec` does but never
/// past `cap` (the limit): a buffer allowed 100 MiB must not reserve 128 MiB
/// on its way there, which under a CI pod's memory limit is the difference
/// between a result and an OOM kill.
fn grow_within(out: &mut Vec<u8>, n: usize, cap: u64) {
    let need = out.len().saturating_add(n);
    if need <= out.capacity() {
        return;
    }
    let cap = usize::try_from(cap).unwrap_or(usize::MAX).max(need);
    let target = out.capacity().saturating_mul(2).max(need).min(cap);
    out.reserve_exact(target - out.len());
}

/// Splits a stream of bytes into lines, none longer than the limit: for
/// JSON lines arriving in pieces (watch events). Feed it pieces; it hands
/// back each complete line.
#[derive(Debug)]
pub struct LineSplitter {
    pending: Vec<u8>,
    limit: Limit,
}

impl LineSplitter {
    pub fn new(limit: Limit) -> LineSplitter {
        LineSplitter {
            pending: Vec::new(),
            limit,
        }
    }

    /// Adds a piece, calling `line` with each line it completes (without
    /// its line feed). An error as soon as a line passes the limit, before
    /// it is held whole.
    pub fn push(
        &mut self,
        mut piece: &[u8],
        line: &mut dyn FnMut(&[u8]) -> Result<(), ReadError>,
    ) -> Result<(), ReadError> {
        while let Some(i) = memchr::memchr(b'\n', piece) {
            if (self.pending.len() + i) as u64 > self.limit.bytes {
                return Err(self.limit.exceeded());
            }
            if self.pending.is_empty() {
                line(&piece[..i])?;
            } else {
                self.pending.extend_from_slice(&piece[..i]);
                let whole = std::mem::take(&mut self.pending);
                line(&whole)?;
            }
            piece = &piece[i + 1..];
        }
        if (self.pending.len() + piece.len()) as u64 > self.limit.bytes {
            return Err(self.limit.exceeded());
        }
        self.pending.extend_from_slice(piece);
        Ok(())
    }

    /// What is left after the last line feed (a stream cut mid-line).
    pub fn rest(&self) -> &[u8] {
        &self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_never_reserves_past_its_limit() {
        let limit = Limit::new(3_000_000, "a test limit", None);
        let data = vec![b'x'; 2_900_000];
        let buf = read_all(&data[..], limit).unwrap();
        assert!(buf.capacity() as u64 <= limit.bytes, "{}", buf.capacity());
        let budget = Budget::new(limit);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &data).unwrap();
        let mut out = Vec::new();
        gunzip_into(&gz.finish().unwrap(), &budget, &mut out).unwrap();
        assert_eq!(out.len(), data.len());
        assert!(out.capacity() as u64 <= limit.bytes, "{}", out.capacity());
    }

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("policy.yaml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Returns at once instead of waiting for a writer.
        let err = read_to_string(&fifo, CONFIG).unwrap_err();
        assert!(
            err.to_string().contains("a FIFO, not a regular file"),
            "{err}"
        );
        let err = read_file(Path::new("/dev/zero"), CONFIG).unwrap_err();
        assert!(err.to_string().contains("a device"), "{err}");
        assert!(read_file(d.path(), CONFIG).is_err());
        assert!(check_file(Path::new("/dev/zero"), KUBECONFIG).is_err());
    }

    #[test]
    fn the_error_names_the_limit_and_its_flag() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("big.yaml");
        std::fs::write(&f, "x".repeat(2048)).unwrap();
        let err = read_file(&f, Limit::files(1024)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "larger than the 1 KiB limit on input files (--max-file-mib); raise it if the input is genuine"
        );
        assert_eq!(read_file(&f, Limit::files(4096)).unwrap().len(), 2048);
        assert!(check_file(&f, Limit::files(1024))
            .unwrap_err()
            .is_too_large());
        let err =
            read_all(&b"0123456789"[..], Limit::new(4, "answers from Jira", None)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "larger than the 4 bytes limit on answers from Jira; raise it if the input is genuine"
        );
    }

    #[test]
    fn a_budget_holds_for_the_total_of_its_pieces() {
        let budget = Budget::new(Limit::files(10 << 10));
        let member = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&[b'a'; 6 << 10]).unwrap();
            e.finish().unwrap()
        };
        let mut out = Vec::new();
        gunzip_into(&member, &budget, &mut out).unwrap();
        assert_eq!(out.len(), 6 << 10);
        // The second member alone is within the limit, the two together not.
        let mut out2 = Vec::new();
        assert!(gunzip_into(&member, &budget, &mut out2)
            .unwrap_err()
            .is_too_large());
    }

    #[test]
    fn lines_are_bounded_before_they_are_held() {
        let mut s = LineSplitter::new(Limit::pages(8));
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut take = |l: &[u8]| {
            got.push(l.to_vec());
            Ok(())
        };
        s.push(b"abc\nde", &mut take).unwrap();
        s.push(b"f\n", &mut take).unwrap();
        assert_eq!(got, vec![b"abc".to_vec(), b"def".to_vec()]);
        let mut ignore = |_: &[u8]| Ok(());
        assert!(s
            .push(b"0123456789", &mut ignore)
            .unwrap_err()
            .is_too_large());
    }
}
