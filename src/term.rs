//! Everything a person reads, on stdout or stderr, goes through here.
//!
//! Text from a cluster, a pull request's files, a Jira ticket or a CI
//! artifact can hold terminal control sequences: a clipboard write (OSC 52),
//! a window title, a screen clear, a carriage return that overwrites the
//! line before. vigil prints such text with every control character shown
//! as `\u{1b}` instead of obeyed, and with every registered secret masked,
//! whichever command prints it. The writers here do that to every line that
//! passes through them; the only escape sequences they let through are the
//! plain colours and weights of SGR (`ESC [ 1 m`, `ESC [ 0 m`...), which is
//! all vigil's own styling uses and which cannot hide or rewrite text.
//!
//! No other module writes to stdout or stderr directly: a unit test below
//! reads the source tree and fails when one does.

use std::borrow::Cow;
use std::io::{self, Write};

/// SGR parameters let through: reset, bold, dim, italic, underline, their
/// resets, and the 16 colours (foreground and background). Not conceal (8),
/// not blink, not 256 or RGB colours.
fn allowed_sgr(params: &[u8]) -> bool {
    params.split(|&b| b == b';').all(|p| {
        let n: Option<u16> = std::str::from_utf8(p).ok().and_then(|s| {
            if s.is_empty() {
                Some(0)
            } else {
                s.parse().ok()
            }
        });
        matches!(
            n,
            Some(0..=4 | 22..=24 | 30..=37 | 39 | 40..=47 | 49 | 90..=97 | 100..=107)
        )
    })
}

/// Characters shown as `\u{..}` instead of written: every control
/// character but line feed and tab (C0, DEL, C1), and the Unicode
/// formatting characters that reorder or break lines on screen (bidi
/// overrides and isolates, line and paragraph separators).
pub fn is_hazard(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// `s` with every hazardous character shown as `\u{1b}`: for text from
/// outside, before it is formatted into anything a person reads.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hazard) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_hazard(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` on one line: also line feeds and tabs shown escaped.
pub fn one_line(s: &str) -> String {
    printable(s).replace('\n', "\\n").replace('\t', " ")
}

/// One line as it may reach a terminal: registered secrets masked, and
/// every hazardous character escaped except vigil's own SGR styling.
fn sanitize_line(line: &str) -> Cow<'_, str> {
    let masked = crate::redact::known(line);
    let quick = !masked
        .bytes()
        .any(|b| b < 0x20 && b != b'\n' && b != b'\t' || b == 0x7f || b == 0xc2 || b == 0xe2);
    if quick {
        return masked;
    }
    let s: &str = &masked;
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b' {
            if let Some(len) = sgr_len(rest.as_bytes()) {
                out.push_str(&rest[..len]);
                rest = &rest[len..];
                continue;
            }
        }
        if is_hazard(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// The length of an allowed SGR sequence at the start of `b`.
fn sgr_len(b: &[u8]) -> Option<usize> {
    if b.len() < 3 || b[0] != 0x1b || b[1] != b'[' {
        return None;
    }
    let end = b[2..]
        .iter()
        .position(|&c| !(c.is_ascii_digit() || c == b';'))?
        + 2;
    (b[end] == b'm' && allowed_sgr(&b[2..end])).then_some(end + 1)
}

/// A writer that sanitizes every line before it reaches `inner`. Lines are
/// held until complete (or until a flush), so that a secret or an escape
/// sequence split across two writes is still seen whole.
pub struct Sanitized<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> Sanitized<W> {
    pub fn new(inner: W) -> Self {
        Sanitized {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        let text = String::from_utf8_lossy(bytes);
        let clean = sanitize_line(&text);
        self.inner.write_all(clean.as_bytes())
    }
}

impl<W: Write> Write for Sanitized<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            let (line, after) = rest.split_at(i + 1);
            if self.pending.is_empty() {
                self.emit(line)?;
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                self.emit(&whole)?;
            }
            rest = after;
        }
        self.pending.extend_from_slice(rest);
        // A line longer than this is written in pieces rather than held.
        if self.pending.len() > 1 << 20 {
            let whole = std::mem::take(&mut self.pending);
            self.emit(&whole)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let whole = std::mem::take(&mut self.pending);
            self.emit(&whole)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for Sanitized<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

pub type Stdout = Sanitized<anstream::AutoStream<io::Stdout>>;
pub type Stderr = Sanitized<anstream::AutoStream<io::Stderr>>;

/// Standard output, sanitized (colours only on a terminal, as anstream decides).
pub fn stdout() -> Stdout {
    Sanitized::new(anstream::stdout())
}

/// Standard error, sanitized.
pub fn stderr() -> Stderr {
    Sanitized::new(anstream::stderr())
}

/// Writes `args` and a line feed to stderr, sanitized; errors writing to
/// stderr are ignored (there is nowhere left to say them).
pub fn eprint_line(args: std::fmt::Arguments<'_>) {
    // Unit tests see it through libtest's capture, which only the print
    // macros reach: a deliberate failure in a passing test stays out of the log.
    #[cfg(test)]
    {
        let mut buf = Vec::new();
        let _ = writeln!(Sanitized::new(&mut buf), "{args}");
        eprint!("{}", String::from_utf8_lossy(&buf));
    }
    #[cfg(not(test))]
    {
        let mut err = stderr();
        let _ = writeln!(err, "{args}");
        let _ = err.flush();
    }
}

/// `error: ...` on stderr.
pub fn error(message: &str) {
    eprint_line(format_args!("error: {}", crate::redact::text(message)));
}

/// `warning: ...` on stderr.
pub fn warning(message: &str) {
    eprint_line(format_args!("warning: {}", crate::redact::text(message)));
}

/// `note: ...` on stderr.
pub fn note(message: &str) {
    eprint_line(format_args!("note: {}", crate::redact::text(message)));
}

/// Whether standard error is a terminal (progress lines are for people).
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    io::stderr().is_terminal()
}

/// Bytes for a program, not a person, to standard output as they are: a
/// man page's roff, an exec plugin's credential for kube-rs.
pub fn write_raw_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Redraws a one-line progress report on stderr (`\r`, erase line, text):
/// the only place vigil moves the cursor, with sanitized text.
pub fn progress(line: &str) {
    let mut err = io::stderr().lock();
    let clean = sanitize_line(line).replace('\n', " ");
    let _ = write!(err, "\r\x1b[K{clean}");
    let _ = err.flush();
}

/// Clears the progress line.
pub fn progress_done() {
    let mut err = io::stderr().lock();
    let _ = write!(err, "\r\x1b[K");
    let _ = err.flush();
}

/// JSON for people and tools: like `serde_json::to_writer_pretty`, with
/// every hazardous character in a string written as a `\uXXXX` escape (JSON
/// escapes only C0 itself), so the document stays the same JSON and holds
/// nothing a terminal would obey.
pub fn write_json<T: serde::Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, SafeJson::default());
    value.serialize(&mut ser).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// `s` as one JSON string (which is also a YAML double-quoted scalar),
/// every hazardous character escaped: for text from outside that goes into
/// a file vigil writes (an exception file), so that it reads back as
/// exactly this string and cannot add a line, a key or an entry.
pub fn json_string(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SafeJson::default());
    serde::Serialize::serialize(s, &mut ser).expect("a string serializes");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// serde_json's pretty formatter, escaping the hazardous characters.
#[derive(Default)]
struct SafeJson<'a> {
    pretty: serde_json::ser::PrettyFormatter<'a>,
}

impl serde_json::ser::Formatter for SafeJson<'_> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_hazard(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{:04x}", u)?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(input: &[&str]) -> String {
        let mut buf = Vec::new();
        {
            let mut w = Sanitized::new(&mut buf);
            for piece in input {
                w.write_all(piece.as_bytes()).unwrap();
            }
            w.flush().unwrap();
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn control_sequences_are_shown_not_obeyed() {
        // OSC 52 (clipboard), a window title, a screen clear, a carriage return.
        let hostile = "a\x1b]52;c;ZWNobyBoaQ==\x07b\x1b]0;title\x07c\x1b[2Jd\re\u{202e}f\u{85}\n";
        let out = through(&[hostile]);
        assert!(
            !out.contains('\x1b') && !out.contains('\r') && !out.contains('\x07'),
            "{out:?}"
        );
        assert!(
            out.contains("\\u{1b}]52;c;") && out.contains("\\u{202e}") && out.contains("\\u{85}"),
            "{out}"
        );
        assert!(out.ends_with("e\\u{202e}f\\u{85}\n"), "{out}");
    }

    #[test]
    fn vigil_s_own_colours_pass_but_not_concealment() {
        assert_eq!(
            through(&["\x1b[1mbold\x1b[0m \x1b[31;1mred\x1b[m\n"]),
            "\x1b[1mbold\x1b[0m \x1b[31;1mred\x1b[m\n"
        );
        let out = through(&["\x1b[8mhidden\x1b[0m\n"]);
        assert!(out.starts_with("\\u{1b}[8mhidden"), "{out:?}");
    }

    #[test]
    fn a_sequence_or_secret_split_across_writes_is_still_caught() {
        crate::redact::register("split-secret-value-123");
        let out = through(&["x \x1b", "]52;c;Zm9v\x07 split-secret", "-value-123 y\n"]);
        assert!(!out.contains('\x1b'), "{out:?}");
        assert!(
            !out.contains("split-secret-value-123") && out.contains("[redacted]"),
            "{out}"
        );
    }

    #[test]
    fn json_strings_escape_every_hazard() {
        let s = "a\r\n- check: x\u{85}y\u{2028}z\u{7f}\"q\\";
        let j = json_string(s);
        assert!(!j.chars().any(is_hazard) && !j.contains('\n'), "{j:?}");
        assert_eq!(serde_json::from_str::<String>(&j).unwrap(), s);
    }

    #[test]
    fn json_stays_json_and_holds_no_controls() {
        let v = serde_json::json!({"m": "a\u{1b}]52;c;x\u{7}b\u{85}c\u{202e}", "k": [1, 2]});
        let mut out = Vec::new();
        write_json(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(|c| is_hazard(c) && c != '\n'), "{text:?}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert!(
            text.contains("\\u0085") && text.contains("\\u202e"),
            "{text}"
        );
    }

    /// The structural promise: no module but this one writes to the
    /// process's stdout or stderr itself.
    #[test]
    fn only_this_module_writes_to_the_terminal() {
        let forbidden = [
            "println!",
            "eprintln!",
            "print!(",
            "eprint!(",
            "std::io::stdout()",
            "std::io::stderr()",
            "io::stdout()",
            "io::stderr()",
            "anstream::stdout()",
            "anstream::stderr()",
        ];
        let mut offenders = Vec::new();
        for entry in walk(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))) {
            let rel = entry
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap()
                .to_string_lossy()
                .into_owned();
            // The terminal itself, and the dev tools that never ship.
            if rel.ends_with("src/term.rs")
                || rel.contains("src/devtools/")
                || rel.ends_with("src/app/dev.rs")
            {
                continue;
            }
            let text = std::fs::read_to_string(&entry).unwrap();
            let product = text.split("#[cfg(test)]").next().unwrap_or("");
            for (n, line) in product.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if forbidden.iter().any(|f| code.contains(f)) {
                    offenders.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "write through crate::term instead:\n{}",
            offenders.join("\n")
        );
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
        out
    }
}
