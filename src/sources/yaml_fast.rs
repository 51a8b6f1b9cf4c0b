//! A fast reader for the YAML that kubectl, oc and must-gathers write.
//!
//! Must-gathers are YAML, and a general YAML parser spends most of its time on
//! what that YAML never uses. This reader handles the block style Go's YAML
//! emitters produce (block mappings and sequences, compact sequences under a
//! key, plain scalars folded over lines, single- and double-quoted scalars,
//! literal and folded block scalars, comments, `{}` and `[]`, `---`/`...`) and
//! streams it straight into serde, like `serde_json` does for JSON: nothing is
//! built in between, and subtrees vigil ignores are skipped by indentation
//! without being decoded.
//!
//! Anything else (anchors, aliases, tags, flow collections with content,
//! directives, tabs used as indentation, CRLF line ends, scalars whose type
//! YAML 1.1 and 1.2 read differently such as `yes` or `0755`) and every error
//! make it answer [`Error`], and the caller reads the file again with the full
//! parser, which gives the same objects or the exact error and its place. So
//! this reader is only ever a shortcut, never a second opinion.
//!
//! One difference is deliberate: subtrees vigil ignores are skipped, not
//! checked, so a syntax error inside, say, a pod's `env` list goes unnoticed
//! here where the full parser would reject the file.

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;

use super::decode::Doc;

/// The reader cannot take this input (or it is not valid YAML): read it again
/// with the full parser.
#[derive(Debug)]
pub struct Error;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not in the fast YAML subset")
    }
}
impl std::error::Error for Error {}
impl de::Error for Error {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Error
    }
}

type R<T> = Result<T, Error>;

/// Decodes every document of `text`, or gives up.
pub fn from_multiple(text: &str) -> R<Vec<Doc>> {
    from_multiple_as(text)
}

/// [`from_multiple`] for any type.
pub fn from_multiple_as<'a, T: Deserialize<'a>>(text: &'a str) -> R<Vec<T>> {
    if text.starts_with('\u{feff}') || !printable(text.as_bytes()) {
        return Err(Error);
    }
    let mut p = P {
        b: text.as_bytes(),
        s: text,
        pos: 0,
        ls: 0,
    };
    let mut docs = Vec::new();
    loop {
        // Between documents: markers, comments and blank lines.
        let Some(indent) = p.content_indent()? else {
            if p.pos >= p.b.len() {
                return Ok(docs);
            }
            match p.marker() {
                Some(Marker::Start) => {
                    p.next_line();
                    continue;
                }
                Some(Marker::End) => {
                    p.next_line();
                    continue;
                }
                None => return Err(Error),
            }
        };
        if p.b[p.pos] == b'%' {
            return Err(Error);
        }
        p.pos += indent;
        let doc = T::deserialize(&mut Node {
            p: &mut p,
            parent: -1,
            ctx: Ctx::Root,
            pending: None,
        })?;
        docs.push(doc);
        // A document ends at a marker or at the end of the text.
        if p.content_indent()?.is_some() {
            return Err(Error);
        }
    }
}

/// Whether every character is one YAML lets a stream hold (its
/// c-printable set, line feeds and tabs; no carriage return, which this
/// reader leaves to the full parser): what is not is the full parser's to
/// report, with its place.
fn printable(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\t' | b'\n' | 0x20..=0x7e => {}
            // U+0080..U+009F except NEL (U+0085).
            0xc2 if b
                .get(i + 1)
                .is_some_and(|c| (0x80..=0x9f).contains(c) && *c != 0x85) =>
            {
                return false;
            }
            // U+FFFE and U+FFFF.
            0xef if b.get(i + 1) == Some(&0xbf) && matches!(b.get(i + 2), Some(0xbe | 0xbf)) => {
                return false;
            }
            0x80..=0xff => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

enum Marker {
    Start,
    End,
}

struct P<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Where the current line starts.
    ls: usize,
}

impl<'a> P<'a> {
    fn col(&self) -> usize {
        self.pos - self.ls
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn eol(&self) -> usize {
        memchr(b'\n', &self.b[self.pos..]).map_or(self.b.len(), |i| self.pos + i)
    }

    /// Moves to the start of the next line.
    fn next_line(&mut self) {
        self.pos = match memchr(b'\n', &self.b[self.pos..]) {
            Some(i) => self.pos + i + 1,
            None => self.b.len(),
        };
        self.ls = self.pos;
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') || self.peek() == Some(b'\t') {
            self.pos += 1;
        }
    }

    /// After spaces: the end of the line or a comment.
    fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some(b'\n') | Some(b'#'))
    }

    /// `---` or `...` at the start of the current line (at `ls`).
    fn marker(&self) -> Option<Marker> {
        let line = &self.b[self.ls..];
        let kind = if line.starts_with(b"---") {
            Marker::Start
        } else if line.starts_with(b"...") {
            Marker::End
        } else {
            return None;
        };
        match line.get(3) {
            None | Some(b'\n') => Some(kind),
            // `--- # comment` is a marker; `--- value` is content we leave to the full parser.
            Some(b' ') | Some(b'\t') => {
                let rest = &line[3..];
                let end = memchr(b'\n', rest).unwrap_or(rest.len());
                let rest = trim_ascii(&rest[..end]);
                (rest.is_empty() || rest.starts_with(b"#")).then_some(kind)
            }
            _ => None,
        }
    }

    /// From the start of a line, skips blank and comment-only lines and
    /// returns the indentation of the next content line, leaving `pos` at its
    /// start. `None` at the end of the text or at a document marker.
    fn content_indent(&mut self) -> R<Option<usize>> {
        debug_assert_eq!(self.pos, self.ls);
        loop {
            if self.pos >= self.b.len() {
                return Ok(None);
            }
            let mut i = self.pos;
            while i < self.b.len() && self.b[i] == b' ' {
                i += 1;
            }
            match self.b.get(i) {
                None => {
                    self.pos = self.b.len();
                    self.ls = self.pos;
                    return Ok(None);
                }
                Some(b'\n') | Some(b'#') => self.next_line(),
                Some(b'\t') => {
                    // A tab after the indentation of a blank line is fine; as indentation it is not.
                    let rest = &self.b[i..];
                    let end = memchr(b'\n', rest).unwrap_or(rest.len());
                    let t = trim_ascii(&rest[..end]);
                    if t.is_empty() || t.starts_with(b"#") {
                        self.next_line();
                    } else {
                        return Err(Error);
                    }
                }
                Some(_) => {
                    if i == self.pos && self.marker().is_some() {
                        return Ok(None);
                    }
                    return Ok(Some(i - self.pos));
                }
            }
        }
    }

    /// A sequence entry starts at byte `at`: `-` then a space or the end of the line.
    fn dash_at(&self, at: usize) -> bool {
        self.b.get(at) == Some(&b'-')
            && matches!(self.b.get(at + 1), None | Some(b' ') | Some(b'\n'))
    }

    /// [`dash_at`](Self::dash_at) the current position.
    fn at_dash(&self) -> bool {
        self.dash_at(self.pos)
    }

    /// Finishes a line after a value: only spaces and a comment may follow.
    fn end_line(&mut self) -> R<()> {
        self.skip_spaces();
        if !self.at_line_end() {
            return Err(Error);
        }
        self.next_line();
        Ok(())
    }

    /// Whether the plain text at `pos` is a mapping key (`key:` then a space
    /// or the end of the line), and where its `:` is.
    fn plain_key_colon(&self) -> Option<usize> {
        let end = self.eol();
        let line = &self.b[self.pos..end];
        let mut i = 0;
        while let Some(j) = memchr2(b':', b'#', &line[i..]) {
            let k = i + j;
            if line[k] == b'#' {
                if k > 0 && (line[k - 1] == b' ' || line[k - 1] == b'\t') {
                    return None;
                }
            } else if matches!(line.get(k + 1), None | Some(b' ') | Some(b'\t')) {
                return Some(self.pos + k);
            }
            i = k + 1;
        }
        None
    }

    /// Skips the rest of a node whose first line is the current one and whose
    /// further lines are indented at least `min`, or (for a sequence under a
    /// key at `dash` indentation) start with `- ` at `dash`.
    fn skip_block(&mut self, min: usize, dash: Option<usize>) -> R<()> {
        self.next_line();
        while let Some(ind) = self.content_indent()? {
            let at = self.pos + ind;
            let is_dash = self.dash_at(at);
            if ind >= min || (Some(ind) == dash && is_dash) {
                self.next_line();
            } else {
                break;
            }
        }
        Ok(())
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

fn memchr(c: u8, b: &[u8]) -> Option<usize> {
    b.iter().position(|&x| x == c)
}

fn memchr2(c1: u8, c2: u8, b: &[u8]) -> Option<usize> {
    b.iter().position(|&x| x == c1 || x == c2)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// A document's top node.
    Root,
    /// After `key:`.
    Value,
    /// After `- `.
    Item,
}

/// What the next node is, `pos` at its first character (or at the start of
/// its first line for nested collections).
enum Shape<'a> {
    Null,
    EmptySeq,
    EmptyMap,
    /// A block mapping whose keys sit at this column.
    Map(usize),
    /// A block sequence whose dashes sit at this column; `compact` when it
    /// shares its key's indentation.
    Seq(usize),
    Scalar(Scalar<'a>),
}

enum Scalar<'a> {
    /// Plain text: typed by its content when the target does not say.
    Plain(Cow<'a, str>),
    /// Quoted or block text: always a string.
    Text(Cow<'a, str>),
}

/// The next node to decode.
struct Node<'p, 'a> {
    p: &'p mut P<'a>,
    /// Indentation of the collection holding this node (-1 for a document).
    parent: isize,
    ctx: Ctx,
    /// What `shape` already read (an option that turned out to be present).
    pending: Option<Shape<'a>>,
}

impl<'a> Node<'_, 'a> {
    /// Looks at the node and reads it if it is a scalar.
    fn shape(&mut self) -> R<Shape<'a>> {
        if let Some(s) = self.pending.take() {
            return Ok(s);
        }
        if self.ctx != Ctx::Root {
            self.p.skip_spaces();
            if self.p.at_line_end() {
                return self.shape_below();
            }
        }
        let p = &mut *self.p;
        let c = p.col();
        let Some(first) = p.peek() else {
            return Ok(Shape::Null);
        };
        match first {
            b'-' if p.at_dash() => {
                if self.ctx == Ctx::Value {
                    return Err(Error);
                }
                Ok(Shape::Seq(c))
            }
            b'[' | b'{' => empty_collection(p, first),
            b'|' | b'>' => Ok(Shape::Scalar(Scalar::Text(
                self.block_scalar(first == b'>')?,
            ))),
            b'"' | b'\'' => {
                let start = p.pos;
                let text = if first == b'"' {
                    double_quoted(p)?
                } else {
                    single_quoted(p)?
                };
                p.skip_spaces();
                if p.peek() == Some(b':') {
                    // A quoted key: a mapping starts here.
                    if self.ctx == Ctx::Value {
                        return Err(Error);
                    }
                    p.pos = start;
                    return Ok(Shape::Map(c));
                }
                p.end_line()?;
                Ok(Shape::Scalar(Scalar::Text(text)))
            }
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b',' | b']' | b'}' | b'#' => Err(Error),
            b'?' | b':'
                if matches!(
                    p.b.get(p.pos + 1),
                    None | Some(b' ') | Some(b'\n') | Some(b'\t')
                ) =>
            {
                Err(Error)
            }
            _ => {
                if p.plain_key_colon().is_some() {
                    if self.ctx == Ctx::Value {
                        return Err(Error);
                    }
                    return Ok(Shape::Map(c));
                }
                if self.ctx == Ctx::Root {
                    return Err(Error);
                }
                Ok(Shape::Scalar(Scalar::Plain(self.plain()?)))
            }
        }
    }

    /// The shape of a value on the lines below its key (the key's line
    /// ended after the colon or the dash), or `Null` when there is none.
    fn shape_below(&mut self) -> R<Shape<'a>> {
        let p = &mut *self.p;
        p.next_line();
        let Some(ind) = p.content_indent()? else {
            return Ok(Shape::Null);
        };
        let at = p.pos + ind;
        let dash = p.dash_at(at);
        let ind_i = ind as isize;
        if dash && (ind_i > self.parent || (self.ctx == Ctx::Value && ind_i == self.parent)) {
            p.pos = at;
            return Ok(Shape::Seq(ind));
        }
        if ind_i <= self.parent {
            return Ok(Shape::Null);
        }
        p.pos = at;
        if p.b[at] == b'"' || p.b[at] == b'\'' || p.plain_key_colon().is_some() {
            return Ok(Shape::Map(ind));
        }
        // A scalar on its own line: rare, not ours.
        Err(Error)
    }

    /// A plain scalar from `pos`, folded over more-indented lines.
    fn plain(&mut self) -> R<Cow<'a, str>> {
        let p = &mut *self.p;
        let end = p.eol();
        let line = &p.s[p.pos..end];
        let first = match line.find(" #").or_else(|| line.find("\t#")) {
            Some(i) => &line[..i],
            None => line,
        };
        let first = first.trim_end_matches([' ', '\t']);
        p.next_line();
        // Continuation lines: more indented than the parent, not comments.
        let mut out: Option<String> = None;
        let mut blank = 0usize;
        loop {
            let save = (p.pos, p.ls);
            let Some(ind) = p.content_indent()? else {
                break;
            };
            if ind as isize <= self.parent {
                break;
            }
            // Blank lines skipped by content_indent: count them.
            blank += p.s[save.0..p.pos].matches('\n').count();
            let at = p.pos + ind;
            let end = p.eol();
            let text = p.s[at..end].trim_end_matches([' ', '\t']);
            if text.contains(": ") || text.ends_with(':') || text.contains(" #") {
                return Err(Error);
            }
            if p.s[save.0..p.pos].contains('#') {
                // A comment line inside: the scalar ended before it.
                return Err(Error);
            }
            let o = out.get_or_insert_with(|| first.to_owned());
            if blank == 0 {
                o.push(' ');
            } else {
                for _ in 0..blank {
                    o.push('\n');
                }
            }
            o.push_str(text);
            blank = 0;
            p.next_line();
        }
        Ok(match out {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(first),
        })
    }

    /// `|` or `>` with its chomping indicator; content from the next lines.
    fn block_scalar(&mut self, folded: bool) -> R<Cow<'a, str>> {
        let p = &mut *self.p;
        p.pos += 1;
        let chomp = match p.peek() {
            Some(b'-') => {
                p.pos += 1;
                b'-'
            }
            Some(b'+') => {
                p.pos += 1;
                b'+'
            }
            _ => b' ',
        };
        if p.peek().is_some_and(|c| c.is_ascii_digit()) {
            // Explicit indentation: rare, not ours.
            return Err(Error);
        }
        p.end_line()?;
        // Lines up to the first non-blank line indented less than the content.
        let mut lines: Vec<&'a str> = Vec::new();
        let mut k: Option<usize> = None;
        let mut leading_blank_max = 0usize;
        while p.pos < p.b.len() {
            if p.marker().is_some() {
                break;
            }
            let end = p.eol();
            let line = &p.s[p.pos..end];
            let ind = line.len() - line.trim_start_matches(' ').len();
            let blank = line.trim_matches([' ', '\t']).is_empty();
            match k {
                None if blank => {
                    leading_blank_max = leading_blank_max.max(ind);
                    lines.push("");
                }
                None => {
                    if (ind as isize) <= self.parent {
                        break;
                    }
                    if ind < leading_blank_max {
                        return Err(Error);
                    }
                    if line.as_bytes()[ind] == b'\t' {
                        return Err(Error);
                    }
                    k = Some(ind);
                    lines.push(&line[ind..]);
                }
                Some(k) => {
                    if blank && ind <= k {
                        lines.push("");
                    } else if ind < k {
                        // Less indented than the text, yet more than the
                        // key it belongs to: no YAML node starts there.
                        if (ind as isize) > self.parent {
                            return Err(Error);
                        }
                        break;
                    } else {
                        lines.push(&line[k..]);
                    }
                }
            }
            p.next_line();
        }
        // Trailing blank lines are chomped.
        let content_end = lines
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(0, |i| i + 1);
        let trailing = lines.len() - content_end;
        let body = &lines[..content_end];
        let mut out = if folded { fold(body) } else { body.join("\n") };
        match chomp {
            b'-' => {}
            b'+' => {
                if content_end > 0 {
                    out.push('\n');
                }
                out.extend(std::iter::repeat_n('\n', trailing));
            }
            _ => {
                if content_end > 0 {
                    out.push('\n');
                }
            }
        }
        Ok(Cow::Owned(out))
    }

    /// Skips this node without decoding it.
    fn skip(&mut self) -> R<()> {
        match self.shape()? {
            Shape::Null | Shape::EmptySeq | Shape::EmptyMap | Shape::Scalar(_) => Ok(()),
            Shape::Map(m) => self.p.skip_block(m, None),
            Shape::Seq(s) => self.p.skip_block(s + 1, Some(s)),
        }
    }
}

/// A folded block scalar's lines (`>`): lines join with a space, blank
/// lines and more-indented lines keep their line breaks.
fn fold(body: &[&str]) -> String {
    let more = |l: &str| l.starts_with([' ', '\t']);
    let mut out = String::new();
    let mut prev: Option<&str> = None;
    let mut blanks = 0usize;
    for &l in body {
        if l.is_empty() {
            blanks += 1;
            continue;
        }
        if let Some(pl) = prev {
            if more(pl) || more(l) {
                out.extend(std::iter::repeat_n('\n', blanks + 1));
            } else if blanks == 0 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', blanks));
            }
        } else {
            out.extend(std::iter::repeat_n('\n', blanks));
        }
        out.push_str(l);
        prev = Some(l);
        blanks = 0;
    }
    out
}

/// `[]` or `{}`, the only flow collections this reader takes.
fn empty_collection<'a>(p: &mut P<'a>, first: u8) -> R<Shape<'a>> {
    let close = if first == b'[' { b']' } else { b'}' };
    p.pos += 1;
    p.skip_spaces();
    if p.peek() != Some(close) {
        return Err(Error);
    }
    p.pos += 1;
    p.end_line()?;
    Ok(if first == b'[' {
        Shape::EmptySeq
    } else {
        Shape::EmptyMap
    })
}

fn double_quoted<'a>(p: &mut P<'a>) -> R<Cow<'a, str>> {
    p.pos += 1;
    let start = p.pos;
    // Fast case: on one line, no escapes.
    let mut i = p.pos;
    while i < p.b.len() {
        match p.b[i] {
            b'"' => {
                p.pos = i + 1;
                return Ok(Cow::Borrowed(&p.s[start..i]));
            }
            b'\\' | b'\n' => break,
            _ => i += 1,
        }
    }
    let mut out = String::from(&p.s[start..i]);
    p.pos = i;
    loop {
        let Some(c) = p.peek() else {
            return Err(Error);
        };
        match c {
            b'"' => {
                p.pos += 1;
                return Ok(Cow::Owned(out));
            }
            b'\\' => {
                p.pos += 1;
                let e = p.peek().ok_or(Error)?;
                p.pos += 1;
                let ch = match e {
                    b'0' => '\0',
                    b'a' => '\x07',
                    b'b' => '\x08',
                    b't' | b'\t' => '\t',
                    b'n' => '\n',
                    b'v' => '\x0b',
                    b'f' => '\x0c',
                    b'r' => '\r',
                    b'e' => '\x1b',
                    b' ' => ' ',
                    b'"' => '"',
                    b'/' => '/',
                    b'\\' => '\\',
                    b'N' => '\u{85}',
                    b'_' => '\u{a0}',
                    b'L' => '\u{2028}',
                    b'P' => '\u{2029}',
                    b'x' | b'u' | b'U' => {
                        let n = match e {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let hex = p.s.get(p.pos..p.pos + n).ok_or(Error)?;
                        let v = u32::from_str_radix(hex, 16).map_err(|_| Error)?;
                        p.pos += n;
                        char::from_u32(v).ok_or(Error)?
                    }
                    b'\n' => {
                        // An escaped line break: joined without a space.
                        p.ls = p.pos;
                        while matches!(p.peek(), Some(b' ') | Some(b'\t')) {
                            p.pos += 1;
                        }
                        continue;
                    }
                    _ => return Err(Error),
                };
                out.push(ch);
            }
            b'\n' => fold_quoted_break(p, &mut out),
            _ => {
                // Copy a run of ordinary characters.
                let rest = &p.b[p.pos..];
                let n = rest
                    .iter()
                    .position(|&x| x == b'"' || x == b'\\' || x == b'\n')
                    .unwrap_or(rest.len());
                out.push_str(&p.s[p.pos..p.pos + n]);
                p.pos += n;
            }
        }
    }
}

/// A line break inside a quoted scalar: trailing spaces dropped, one break
/// becomes a space, n+1 breaks become n newlines, leading spaces dropped.
fn fold_quoted_break(p: &mut P<'_>, out: &mut String) {
    let trimmed = out.trim_end_matches([' ', '\t']).len();
    out.truncate(trimmed);
    let mut breaks = 0;
    while p.peek() == Some(b'\n') {
        breaks += 1;
        p.pos += 1;
        p.ls = p.pos;
        while matches!(p.peek(), Some(b' ') | Some(b'\t')) {
            p.pos += 1;
        }
    }
    if breaks == 1 {
        out.push(' ');
    } else {
        out.extend(std::iter::repeat_n('\n', breaks - 1));
    }
}

fn single_quoted<'a>(p: &mut P<'a>) -> R<Cow<'a, str>> {
    p.pos += 1;
    let start = p.pos;
    let mut i = p.pos;
    while i < p.b.len() {
        match p.b[i] {
            b'\'' if p.b.get(i + 1) != Some(&b'\'') => {
                p.pos = i + 1;
                return Ok(Cow::Borrowed(&p.s[start..i]));
            }
            b'\'' | b'\n' => break,
            _ => i += 1,
        }
    }
    let mut out = String::from(&p.s[start..i]);
    p.pos = i;
    loop {
        match p.peek() {
            None => return Err(Error),
            Some(b'\'') if p.b.get(p.pos + 1) == Some(&b'\'') => {
                out.push('\'');
                p.pos += 2;
            }
            Some(b'\'') => {
                p.pos += 1;
                return Ok(Cow::Owned(out));
            }
            Some(b'\n') => fold_quoted_break(p, &mut out),
            Some(_) => {
                let rest = &p.b[p.pos..];
                let n = rest
                    .iter()
                    .position(|&x| x == b'\'' || x == b'\n')
                    .unwrap_or(rest.len());
                out.push_str(&p.s[p.pos..p.pos + n]);
                p.pos += n;
            }
        }
    }
}

/// How a plain scalar reads when nothing says what it should be. Forms that
/// YAML 1.1 and 1.2 read differently (`yes`, `on`, `0755`, `0x1f`, `1_000`,
/// `.inf`) are left to the full parser.
enum Typed {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str,
}

fn resolve(s: &str) -> R<Typed> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Typed::Null),
        "true" | "True" | "TRUE" => return Ok(Typed::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Typed::Bool(false)),
        _ => {}
    }
    let b = s.as_bytes();
    if s.len() <= 5
        && matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n"
                | "yes"
                | "no"
                | "on"
                | "off"
                | ".inf"
                | "-.inf"
                | "+.inf"
                | ".nan"
                | "<<"
                | "="
        )
    {
        return Err(Error);
    }
    let first = b[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Ok(Typed::Str);
    }
    let digits = s.trim_start_matches(['-', '+']);
    if digits.is_empty() {
        return Ok(Typed::Str);
    }
    if digits.bytes().all(|c| c.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') {
            return Err(Error);
        }
        if let Ok(v) = s.trim_start_matches('+').parse::<i64>() {
            return Ok(Typed::I64(v));
        }
        if let Ok(v) = s.trim_start_matches('+').parse::<u64>() {
            return Ok(Typed::U64(v));
        }
        return Err(Error);
    }
    if digits
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|c| c.is_ascii_digit())
    {
        return match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Typed::F64(v)),
            Ok(_) => Err(Error),
            // `1.2.3`, `2026-11-08`: text (a date is a timestamp only with a tag here).
            Err(_) => Ok(Typed::Str),
        };
    }
    // Numbers in one of the two versions: 0x1f, 0o17, 0b101, 1_000, 1:20
    // (sexagesimal in 1.1): not ours. Text that only starts like them (a
    // pod-template-hash such as 0b98d71c3b, a time such as 10:00:00Z) is
    // text in both.
    let all = |rest: &str, ok: fn(u8) -> bool| {
        !rest.is_empty() && rest.bytes().all(|c| ok(c) || c == b'_')
    };
    let number_in_1_1 = if let Some(rest) = digits.strip_prefix("0x") {
        all(rest, |c| c.is_ascii_hexdigit())
    } else if let Some(rest) = digits.strip_prefix("0o") {
        all(rest, |c| matches!(c, b'0'..=b'7'))
    } else if let Some(rest) = digits.strip_prefix("0b") {
        all(rest, |c| matches!(c, b'0' | b'1'))
    } else {
        (digits.contains('_') || digits.contains(':'))
            && all(digits, |c| {
                c.is_ascii_digit() || matches!(c, b':' | b'.' | b'e' | b'E' | b'-' | b'+')
            })
    };
    if number_in_1_1 {
        return Err(Error);
    }
    Ok(Typed::Str)
}

fn visit_text<'de, V: Visitor<'de>>(v: V, s: Cow<'de, str>) -> R<V::Value> {
    match s {
        Cow::Borrowed(b) => v.visit_borrowed_str(b),
        Cow::Owned(o) => v.visit_string(o),
    }
}

impl<'de> Deserializer<'de> for &mut Node<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.shape()? {
            Shape::Null => v.visit_unit(),
            Shape::EmptySeq => v.visit_seq(EmptyAccess),
            Shape::EmptyMap => v.visit_map(EmptyAccess),
            Shape::Map(m) => v.visit_map(MapA {
                p: self.p,
                indent: m,
                first: true,
            }),
            Shape::Seq(s) => {
                let compact = self.ctx == Ctx::Value && s as isize == self.parent;
                v.visit_seq(SeqA {
                    p: self.p,
                    indent: s,
                    first: true,
                    compact,
                })
            }
            Shape::Scalar(Scalar::Text(t)) => visit_text(v, t),
            Shape::Scalar(Scalar::Plain(t)) => {
                let typed = match &t {
                    Cow::Borrowed(b) => resolve(b)?,
                    Cow::Owned(o) => {
                        // Only strings fold over lines.
                        match resolve(o)? {
                            Typed::Str => return v.visit_string(t.into_owned()),
                            _ => return Err(Error),
                        }
                    }
                };
                match typed {
                    Typed::Null => v.visit_unit(),
                    Typed::Bool(b) => v.visit_bool(b),
                    Typed::I64(i) => v.visit_i64(i),
                    Typed::U64(u) => v.visit_u64(u),
                    Typed::F64(f) => v.visit_f64(f),
                    Typed::Str => visit_text(v, t),
                }
            }
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.shape()? {
            Shape::Scalar(Scalar::Text(t)) => visit_text(v, t),
            Shape::Scalar(Scalar::Plain(t)) => {
                if matches!(t.as_ref(), "~" | "null" | "Null" | "NULL") {
                    return Err(Error);
                }
                visit_text(v, t)
            }
            _ => Err(Error),
        }
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_str(v)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.shape()? {
            Shape::Null => v.visit_none(),
            Shape::Scalar(Scalar::Plain(t))
                if matches!(t.as_ref(), "~" | "null" | "Null" | "NULL") =>
            {
                v.visit_none()
            }
            shape => {
                self.pending = Some(shape);
                v.visit_some(self)
            }
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.skip()?;
        v.visit_unit()
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> R<V::Value> {
        match self.shape()? {
            Shape::Scalar(Scalar::Text(t)) | Shape::Scalar(Scalar::Plain(t)) => {
                v.visit_enum(t.into_owned().into_deserializer())
            }
            _ => Err(Error),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_any(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, v: V) -> R<V::Value> {
        v.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit_struct seq tuple tuple_struct map struct
    }
}

struct EmptyAccess;

impl<'de> SeqAccess<'de> for EmptyAccess {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, _: T) -> R<Option<T::Value>> {
        Ok(None)
    }
}
impl<'de> MapAccess<'de> for EmptyAccess {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, _: K) -> R<Option<K::Value>> {
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _: V) -> R<V::Value> {
        Err(Error)
    }
}

struct MapA<'p, 'a> {
    p: &'p mut P<'a>,
    indent: usize,
    first: bool,
}

impl<'de> MapAccess<'de> for MapA<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> R<Option<K::Value>> {
        let p = &mut *self.p;
        if self.first {
            self.first = false;
        } else {
            match p.content_indent()? {
                Some(ind) if ind == self.indent => {
                    p.pos += ind;
                    if p.at_dash() {
                        return Err(Error);
                    }
                }
                Some(ind) if ind > self.indent => return Err(Error),
                _ => return Ok(None),
            }
        }
        let key: Cow<'de, str> = match p.peek() {
            Some(b'"') => double_quoted(p)?,
            Some(b'\'') => single_quoted(p)?,
            Some(
                b'?' | b'&' | b'*' | b'!' | b'[' | b'{' | b'|' | b'>' | b'%' | b'@' | b'`' | b'-',
            ) => {
                // `-` starts a plain key only when not followed by a space; keep it simple.
                if p.peek() == Some(b'-') && !p.at_dash() {
                    plain_key(p)?
                } else {
                    return Err(Error);
                }
            }
            _ => plain_key(p)?,
        };
        p.skip_spaces();
        if p.peek() != Some(b':') {
            return Err(Error);
        }
        p.pos += 1;
        if !matches!(p.peek(), None | Some(b' ') | Some(b'\n') | Some(b'\t')) {
            return Err(Error);
        }
        match key {
            Cow::Borrowed(k) => seed.deserialize(de::value::BorrowedStrDeserializer::new(k)),
            Cow::Owned(k) => seed.deserialize(de::value::StringDeserializer::new(k)),
        }
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> R<V::Value> {
        seed.deserialize(&mut Node {
            p: &mut *self.p,
            parent: self.indent as isize,
            ctx: Ctx::Value,
            pending: None,
        })
    }
}

fn plain_key<'a>(p: &mut P<'a>) -> R<Cow<'a, str>> {
    let colon = p.plain_key_colon().ok_or(Error)?;
    let key = p.s[p.pos..colon].trim_end_matches([' ', '\t']);
    if key.is_empty() {
        return Err(Error);
    }
    p.pos = colon;
    Ok(Cow::Borrowed(key))
}

struct SeqA<'p, 'a> {
    p: &'p mut P<'a>,
    indent: usize,
    first: bool,
    /// Under a key at the same indentation (`key:\n- a`).
    compact: bool,
}

impl<'de> SeqAccess<'de> for SeqA<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> R<Option<T::Value>> {
        let p = &mut *self.p;
        if self.first {
            self.first = false;
        } else {
            match p.content_indent()? {
                Some(ind) if ind == self.indent => {
                    let at = p.pos + ind;
                    let dash = p.dash_at(at);
                    if !dash {
                        if self.compact {
                            return Ok(None);
                        }
                        return Err(Error);
                    }
                    p.pos = at;
                }
                Some(ind) if ind > self.indent => return Err(Error),
                _ => return Ok(None),
            }
        }
        // At the dash.
        p.pos += 1;
        seed.deserialize(&mut Node {
            p: &mut *self.p,
            parent: self.indent as isize,
            ctx: Ctx::Item,
            pending: None,
        })
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn full(text: &str) -> Vec<Value> {
        serde_saphyr::from_multiple::<Value>(text).expect("the full parser reads it")
    }

    /// The fast reader takes `text` and reads exactly what the full parser reads.
    #[track_caller]
    fn same(text: &str) {
        let fast = from_multiple_as::<Value>(text).expect("the fast reader takes it");
        let full = full(text);
        // The full parser yields empty documents as null; they hold nothing.
        let full: Vec<Value> = full.into_iter().filter(|v| !v.is_null()).collect();
        assert_eq!(fast, full, "for:\n{text}");
    }

    #[test]
    fn reads_what_kubectl_writes_exactly_as_the_full_parser() {
        same("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    app: x\n    \"quoted key\": 'it''s'\n");
        // Compact and nested sequences, sequences of mappings.
        same("spec:\n  containers:\n  - name: a\n    args:\n    - --x=1\n    - - nested\n      - pair\n  - name: b\n  volumes: []\n  extra: {}\nstatus: {}\n");
        same("items:\n  - a\n  -   b\n  -\n    c: 1\n");
        // Scalars: typed plain values, nulls, quoted numbers, escapes.
        same("a: 1\nb: -2\nc: 1.5\nd: true\ne: null\nf: ~\ng:\nh: \"80\"\ni: 'x: y'\nj: \"tab\\there \\u00e9 \\\"q\\\"\"\nk: 1e3\nl: 2026-11-08\nm: x # comment\nn: a#b\n");
        // Plain scalars folded over lines, with a blank line inside.
        same("msg: this is a long\n  text that Go's emitter\n\n  wrapped\nnext: 1\n");
        same("- one\n  two\n- three\n");
        // Quoted scalars over lines.
        same("q: \"first\n  second\n\n  third \\\n  joined\"\ns: 'one\n  two'\n");
        // Block scalars: literal and folded, every chomping.
        same("a: |\n  line one\n    indented\n\n  line three\n\nb: |-\n  x\n  y\nc: |+\n  keep\n\n\nd: >\n  folded\n  text\n\n  para\n    more\n  back\ne: >-\n  registry.example/image@sha256:abc\nf: |\n\n  after a blank\ng: done\n");
        same("- |\n  in a sequence\n- >-\n  folded in a sequence\n");
        // Documents: markers, comments, an end marker, empty documents.
        same("# leading comment\n---\na: 1\n...\n---\n# only a comment\n---\nb: 2\n--- # trailing\nc: [ ]\n");
        same("a: 1\n# comment at the edge\n  # indented comment\nb:\n  # inside\n  c: 2\n");
        // Keys with odd but plain characters.
        same("metadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"a\":1}'\n    foo.io/x-y_z: http://example.com:8080/path\n    -dash: 1\n");
    }

    #[test]
    fn leaves_everything_else_to_the_full_parser() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: [1, 2]\n",
            "a: {b: 1}\n",
            "%YAML 1.2\n---\na: 1\n",
            "a:\n\tb: 1\n",
            "a: 1\r\nb: 2\r\n",
            "a: yes\n",
            "a: 0755\n",
            "a: 0x1f\n",
            "a: .inf\n",
            "? complex\n: key\n",
            "a: b: c\n",
            "a: |2\n   x\n",
            "- a\nb: 1\n",
            "a: 1\n b: 2\n",
            "a: \"unterminated\n",
            "a: 'unterminated\n",
            "key: \"x\" trailing\n",
        ] {
            assert!(from_multiple_as::<Value>(text).is_err(), "took:\n{text}");
        }
    }

    /// Text that starts like a YAML 1.1 number but is none (hashes, times)
    /// is read by the fast reader, as the full parser reads it; what is a
    /// number in either version is not.
    #[test]
    fn text_that_only_looks_numeric_is_text() {
        for scalar in [
            "0b98d71c3b",
            "0b2",
            "0xfg",
            "0x",
            "0o8",
            "0o17x",
            "1_a",
            "10:00:00Z",
            "1:2:x",
            "0bad",
            "7e8924dc-8972",
        ] {
            let text = format!("a: {scalar}\n");
            let fast = from_multiple_as::<Value>(&text)
                .unwrap_or_else(|_| panic!("left {scalar:?} to the full parser"));
            let full: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
            assert_eq!(fast, full, "{scalar}");
            assert_eq!(fast[0]["a"], Value::String(scalar.into()), "{scalar}");
        }
        for scalar in [
            "0b101", "0b1_0", "0x1F", "0x_a", "0o17", "1_000", "1:20", "-1:20:30", "1_0.5",
        ] {
            let text = format!("a: {scalar}\n");
            assert!(from_multiple_as::<Value>(&text).is_err(), "took {scalar:?}");
        }
    }

    #[test]
    fn a_string_target_takes_plain_text_as_written() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct S {
            a: String,
            b: Option<String>,
            c: Option<u32>,
        }
        let v: Vec<S> = from_multiple_as("a: 0755\nb: 12\nc:\n").unwrap();
        assert_eq!(
            v,
            vec![S {
                a: "0755".into(),
                b: Some("12".into()),
                c: None
            }]
        );
    }

    fn yaml_files(root: &std::path::Path) -> Vec<String> {
        super::super::texts_under(root, &["yaml", "yml"])
    }

    /// Both readers decode the same objects from `files`; returns how many
    /// files the fast reader took.
    fn compare(files: &[String]) -> usize {
        let mut taken = 0;
        for text in files {
            let Ok(fast) = from_multiple(text) else {
                continue;
            };
            taken += 1;
            let full: Vec<Doc> = serde_saphyr::from_multiple(text).unwrap();
            let objects = |docs: Vec<Doc>| {
                docs.into_iter()
                    .flat_map(|d| d.objects)
                    .map(|o| format!("{o:?}"))
                    .collect::<Vec<_>>()
            };
            assert_eq!(objects(fast), objects(full));
        }
        taken
    }

    /// The objects decoded from a generated cluster (kubectl's shapes, folded
    /// image names, long strings) and from every YAML file under testdata
    /// (hand-written, with flow mappings the fast reader leaves alone) are
    /// the same through both readers. VIGIL_YAML_EQUIVALENCE_DIR adds a tree,
    /// say an unpacked must-gather.
    #[test]
    fn decodes_the_same_objects_as_the_full_parser() {
        let dir = tempfile::tempdir().unwrap();
        crate::devtools::generate::generate(
            dir.path(),
            400,
            7,
            crate::devtools::generate::Format::Yaml,
        )
        .unwrap();
        let generated = yaml_files(dir.path());
        assert!(generated.len() > 3);
        assert_eq!(
            compare(&generated),
            generated.len(),
            "every generated file is fast"
        );

        let testdata =
            yaml_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/states"));
        assert!(testdata.len() > 10);
        compare(&testdata);

        if let Some(extra) = std::env::var_os("VIGIL_YAML_EQUIVALENCE_DIR") {
            let files = yaml_files(std::path::Path::new(&extra));
            let taken = compare(&files);
            eprintln!("{taken} of {} files taken by the fast reader", files.len());
        }
    }

    #[test]
    fn a_block_scalar_ends_where_its_node_ends() {
        for t in [
            "- |\n  text\n- x\n",
            "a:\n- |\n  text\n- x\nb: 1\n",
            "a:\n  - |\n    text\n  - x\n",
            "a:\n  b: |\n    text\n  c: 1\n",
            "- a: |\n    t\n  b: 2\n- c\n",
        ] {
            same(t);
        }
        // Less indented than its text, more than its key: no node starts
        // there (serde-saphyr: "did not find expected key").
        let t = "a:\n  b: |\n      more\n    x: y\n";
        assert!(serde_saphyr::from_multiple::<Value>(t).is_err());
        assert!(from_multiple_as::<Value>(t).is_err());
    }

    /// Found by the fuzz target: a control character in a plain scalar was
    /// read as text, where YAML refuses it.
    #[test]
    fn characters_yaml_does_not_allow_are_left_to_the_full_parser() {
        for t in [
            "a: informi\u{1}ng\n",
            "a: b\u{7f}\n",
            "a: \u{9b}x\n",
            "a: \u{fffe}\n",
        ] {
            assert!(from_multiple_as::<Value>(t).is_err(), "{t:?}");
            assert_eq!(crate::sources::fuzzing::yaml_agrees(t), Ok(()), "{t:?}");
        }
        same("a: \u{85}é\u{a0}😀\tb\n");
    }

    /// A seeded generator of YAML as kubectl writes it and as people do:
    /// block mappings and sequences, flow `{}`/`[]`, plain, single- and
    /// double-quoted scalars, block scalars, comments, several documents.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
            of[self.next() as usize % of.len()]
        }
        fn scalar(&mut self) -> String {
            match self.next() % 6 {
                0 => self
                    .pick(&[
                        "a",
                        "web-1",
                        "true",
                        "null",
                        "~",
                        "0",
                        "-12",
                        "3.5",
                        "1e3",
                        "0x1F",
                        "10:00",
                        "2021-08-03T09:45:28Z",
                        "yes",
                        "x y z",
                        "é😀",
                    ])
                    .to_owned(),
                1 => format!("'{}'", self.pick(&["it''s", "a: b", "#no", "", " padded "])),
                2 => format!(
                    "\"{}\"",
                    self.pick(&["\\n", "tab\\t", "quote \\\" in", "\\u00e9", "", "a: b # c"])
                ),
                3 => self.pick(&["[]", "{}"]).to_owned(),
                4 => format!("{} # a comment", self.pick(&["plain", "42", "ok"])),
                _ => self
                    .pick(&["v", "Running", "openshift-etcd", "kubernetes.io/hostname"])
                    .to_owned(),
            }
        }
        /// A node at `indent` after a key (or a dash) on the current line.
        fn node(&mut self, depth: u32, indent: usize, out: &mut String) {
            match self.next() % if depth > 4 { 2 } else { 6 } {
                0 | 1 => {
                    out.push(' ');
                    out.push_str(&self.scalar());
                    out.push('\n');
                }
                2 => {
                    // A block scalar.
                    out.push_str(self.pick(&[" |\n", " |-\n", " >\n", " |+\n"]));
                    for _ in 0..1 + self.next() % 3 {
                        out.push_str(&" ".repeat(indent + 2));
                        out.push_str(self.pick(&[
                            "line",
                            "  more indented",
                            "x: y",
                            "# not a comment",
                        ]));
                        out.push('\n');
                    }
                }
                3 => {
                    out.push_str(" {");
                    for i in 0..self.next() % 3 {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        out.push_str(&format!("k{i}: {}", self.pick(&["a", "1", "'q'", "\"d\""])));
                    }
                    out.push_str("}\n");
                }
                4 => {
                    out.push('\n');
                    for i in 0..1 + self.next() % 4 {
                        out.push_str(&" ".repeat(indent + 2));
                        out.push_str(&format!("k{i}:"));
                        self.node(depth + 1, indent + 2, out);
                    }
                }
                _ => {
                    out.push('\n');
                    // kubectl writes sequences at the key's indentation.
                    let at = if self.next() % 2 == 0 {
                        indent
                    } else {
                        indent + 2
                    };
                    for _ in 0..1 + self.next() % 3 {
                        out.push_str(&" ".repeat(at));
                        out.push('-');
                        if self.next() % 2 == 0 {
                            self.node(depth + 1, at + 2, out);
                        } else {
                            out.push_str(" name:");
                            self.node(depth + 1, at + 2, out);
                        }
                    }
                }
            }
        }
        fn documents(&mut self) -> String {
            let mut out = String::new();
            for d in 0..1 + self.next() % 3 {
                if d > 0 || self.next() % 2 == 0 {
                    out.push_str("---\n");
                }
                out.push_str(self.pick(&[
                    "kind: Pod\n",
                    "kind: List\nitems:\n- kind: Pod\n  metadata: {name: p}\n",
                    "",
                    "# a comment\n",
                ]));
                for i in 0..1 + self.next() % 4 {
                    out.push_str(self.pick(&["metadata", "spec", "status", "x"]));
                    out.push_str(&format!("{i}:"));
                    self.node(0, 0, &mut out);
                }
            }
            out
        }
    }

    /// Thousands of generated documents: the fast reader reads exactly what
    /// serde-saphyr reads, or refuses; and it takes most of them (a reader
    /// that refused everything would pass the first half alone).
    #[test]
    fn generated_yaml_reads_as_the_full_parser_reads_it_or_is_refused() {
        let mut g = Gen(0x2545_f491_4f6c_dd1d);
        let (mut taken, mut valid) = (0, 0);
        let rounds = 4000;
        for _ in 0..rounds {
            let text = g.documents();
            if let Err(e) = crate::sources::fuzzing::yaml_agrees(&text) {
                panic!("{e}\nfor:\n{text}");
            }
            taken += usize::from(from_multiple_as::<Value>(&text).is_ok());
            valid += usize::from(serde_saphyr::from_multiple::<Value>(&text).is_ok());
        }
        // The generator writes mostly valid YAML, and the fast reader reads
        // a good share of it (it leaves flow collections with content,
        // anchors and the like to serde-saphyr, and one refusal is the file's).
        assert!(
            valid * 2 > rounds,
            "only {valid} of {rounds} generated texts are YAML"
        );
        assert!(
            taken * 10 > rounds,
            "the fast reader took only {taken} of {rounds}"
        );
    }
}
