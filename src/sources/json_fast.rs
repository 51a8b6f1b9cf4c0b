//! A fast reader for the JSON that `kubectl get -o json`, the API server and
//! vigil's snapshots write.
//!
//! vigil reads a few fields of each object: of a pod's 3.7 KB, the `spec`
//! (containers, volumes, probes, environment) is almost all skipped. A general
//! JSON parser still tokenizes and checks every byte of what it skips, and at
//! 150k pods that was most of the reading time. This reader streams JSON into
//! serde like `serde_json` does, and skips the subtrees vigil ignores by
//! finding their closing bracket, 64 bytes at a time: only quotes, backslashes
//! and brackets are looked at there (SSE2 on x86-64, byte by byte elsewhere).
//!
//! What it reads, it reads strictly, and it never guesses: a float, an
//! integer beyond 64 bits, a lone surrogate, a control character in a string,
//! nesting deeper than `serde_json`'s limit, and every syntax error make it
//! answer [`Error`], and the caller reads the text again with `serde_json`,
//! which gives the same objects or the exact error and its place. So this
//! reader is only ever a shortcut, never a second opinion.
//!
//! One difference is deliberate, as in [`super::yaml_fast`]: a skipped
//! subtree is only checked for brackets that close in kind and strings that
//! close, so a syntax error inside, say, a pod's `env` list (`[1,,2]`) goes
//! unnoticed here where `serde_json` would reject the file. A cut file (a
//! half-written dump) never closes, and is always left to `serde_json`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;

/// The reader cannot take this input (or it is not valid JSON): read it again
/// with `serde_json`.
#[derive(Debug)]
pub struct Error;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not in the fast JSON subset")
    }
}
impl std::error::Error for Error {}
impl de::Error for Error {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Error
    }
}

type R<T> = Result<T, Error>;

/// `serde_json`'s nesting limit (it refuses the 128th level): deeper text
/// goes to it, for its error.
const MAX_DEPTH: usize = 127;

/// Decodes every JSON value of `text` (one, or several one after another as
/// in JSON lines), or gives up.
pub fn from_stream_as<'a, T: Deserialize<'a>>(text: &'a str) -> R<Vec<T>> {
    let mut p = P {
        s: text,
        b: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let mut out = Vec::new();
    loop {
        p.ws();
        if p.pos >= p.b.len() {
            return Ok(out);
        }
        // Like serde_json's stream: values are objects or arrays here.
        if !matches!(p.b[p.pos], b'{' | b'[') {
            return Err(Error);
        }
        out.push(T::deserialize(&mut p)?);
    }
}

/// Decodes `text`, one JSON value with nothing but whitespace after it,
/// through `seed`, or gives up.
pub fn from_str_seed<'a, S: DeserializeSeed<'a>>(seed: S, text: &'a str) -> R<S::Value> {
    let mut p = P {
        s: text,
        b: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let value = seed.deserialize(&mut p)?;
    p.ws();
    if p.pos != p.b.len() {
        return Err(Error);
    }
    Ok(value)
}

struct P<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
}

/// A JSON number vigil reads: an integer in 64 bits.
enum Int {
    U(u64),
    I(i64),
}

impl<'a> P<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte after whitespace.
    #[inline]
    fn peek(&mut self) -> R<u8> {
        self.ws();
        self.b.get(self.pos).copied().ok_or(Error)
    }

    #[inline]
    fn expect(&mut self, c: u8) -> R<()> {
        if self.peek()? != c {
            return Err(Error);
        }
        self.pos += 1;
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> R<()> {
        if !self.b[self.pos..].starts_with(word) {
            return Err(Error);
        }
        self.pos += word.len();
        Ok(())
    }

    /// The string starting at the quote under `pos`.
    fn string(&mut self) -> R<Cow<'a, str>> {
        let start = self.pos + 1;
        let mut i = plain_run(self.b, start);
        match *self.b.get(i).ok_or(Error)? {
            b'"' => {
                self.pos = i + 1;
                return Ok(Cow::Borrowed(&self.s[start..i]));
            }
            b'\\' => {}
            _ => return Err(Error),
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(&self.s[start..i]);
        loop {
            match *self.b.get(i).ok_or(Error)? {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(Cow::Owned(out));
                }
                b'\\' => {
                    let c = match *self.b.get(i + 1).ok_or(Error)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4(i + 2)?;
                            i += 6;
                            let code = match hi {
                                0xD800..=0xDBFF => {
                                    if self.b.get(i..i + 2) != Some(b"\\u") {
                                        return Err(Error);
                                    }
                                    let lo = self.hex4(i + 2)?;
                                    if !(0xDC00..=0xDFFF).contains(&lo) {
                                        return Err(Error);
                                    }
                                    i += 6;
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                }
                                0xDC00..=0xDFFF => return Err(Error),
                                c => c,
                            };
                            out.push(char::from_u32(code).ok_or(Error)?);
                            continue;
                        }
                        _ => return Err(Error),
                    };
                    out.push(c);
                    i += 2;
                }
                0..=0x1f => return Err(Error),
                _ => {
                    // Up to the next quote or backslash, at a char boundary.
                    let end = plain_run(self.b, i);
                    out.push_str(&self.s[i..end]);
                    i = end;
                }
            }
        }
    }

    fn hex4(&self, at: usize) -> R<u32> {
        let digits = self.b.get(at..at + 4).ok_or(Error)?;
        let mut v = 0;
        for &d in digits {
            v = v * 16 + (d as char).to_digit(16).ok_or(Error)?;
        }
        Ok(v)
    }

    /// An integer as serde_json reads it (non-negative as u64, negative as
    /// i64); a fraction, an exponent, `-0` or an overflow is not taken.
    fn integer(&mut self) -> R<Int> {
        let neg = self.b[self.pos] == b'-';
        let start = self.pos + neg as usize;
        let mut i = start;
        let mut v: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.b.get(i) {
            v = v
                .checked_mul(10)
                .ok_or(Error)?
                .checked_add(u64::from(d - b'0'))
                .ok_or(Error)?;
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || (digits > 1 && self.b[start] == b'0') {
            return Err(Error);
        }
        if let Some(b'.' | b'e' | b'E') = self.b.get(i) {
            return Err(Error);
        }
        self.pos = i;
        if !neg {
            return Ok(Int::U(v));
        }
        if v == 0 || v > i64::MAX as u64 + 1 {
            return Err(Error);
        }
        Ok(Int::I((v as i64).wrapping_neg()))
    }

    /// Skips the value at `pos` without decoding it.
    fn skip_value(&mut self) -> R<()> {
        match self.peek()? {
            b'{' | b'[' => {
                self.pos = skip_nested(self.b, self.pos).ok_or(Error)?;
                Ok(())
            }
            b'"' => {
                let mut i = self.pos + 1;
                loop {
                    // A backslash may be the last byte: then `i` is past the end.
                    let rest = self.b.get(i..).ok_or(Error)?;
                    let k = memchr::memchr2(b'"', b'\\', rest).ok_or(Error)?;
                    if self.b[i + k] == b'\\' {
                        i += k + 2;
                    } else {
                        self.pos = i + k + 1;
                        return Ok(());
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => {
                let len = self.b[self.pos..]
                    .iter()
                    .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .unwrap_or(self.b.len() - self.pos);
                self.pos += len;
                Ok(())
            }
            _ => Err(Error),
        }
    }

    fn nest<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error);
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn visit_map<V: Visitor<'a>>(&mut self, v: V) -> R<V::Value> {
        self.pos += 1;
        self.nest(|p| {
            let mut access = MapA {
                p,
                first: true,
                done: false,
            };
            let value = v.visit_map(&mut access)?;
            // A visitor that stopped early leaves entries serde_json rejects.
            if !access.done {
                return Err(Error);
            }
            Ok(value)
        })
    }

    fn visit_seq<V: Visitor<'a>>(&mut self, v: V) -> R<V::Value> {
        self.pos += 1;
        self.nest(|p| {
            let mut access = SeqA {
                p,
                first: true,
                done: false,
            };
            let value = v.visit_seq(&mut access)?;
            if !access.done {
                return Err(Error);
            }
            Ok(value)
        })
    }
}

fn visit_text<'de, V: Visitor<'de>>(v: V, s: Cow<'de, str>) -> R<V::Value> {
    match s {
        Cow::Borrowed(b) => v.visit_borrowed_str(b),
        Cow::Owned(o) => v.visit_string(o),
    }
}

impl<'de> Deserializer<'de> for &mut P<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'{' => self.visit_map(v),
            b'[' => self.visit_seq(v),
            b'"' => visit_text(v, self.string()?),
            b't' => {
                self.literal(b"true")?;
                v.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                v.visit_bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                v.visit_unit()
            }
            b'-' | b'0'..=b'9' => match self.integer()? {
                Int::U(u) => v.visit_u64(u),
                Int::I(i) => v.visit_i64(i),
            },
            _ => Err(Error),
        }
    }

    // Typed requests take only what serde_json takes for them where a
    // visitor could accept more (a string visitor given a number).
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'"' => visit_text(v, self.string()?),
            _ => Err(Error),
        }
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_str(v)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_str(v)
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'n' => self.deserialize_any(v),
            _ => Err(Error),
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, v: V) -> R<V::Value> {
        self.deserialize_unit(v)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'[' => self.visit_seq(v),
            _ => Err(Error),
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> R<V::Value> {
        self.deserialize_seq(v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> R<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'{' => self.visit_map(v),
            _ => Err(Error),
        }
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> R<V::Value> {
        match self.peek()? {
            b'{' => self.visit_map(v),
            b'[' => self.visit_seq(v),
            _ => Err(Error),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> R<V::Value> {
        match self.peek()? {
            b'"' => v.visit_enum(self.string()?.into_owned().into_deserializer()),
            _ => Err(Error),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, v: V) -> R<V::Value> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.skip_value()?;
        v.visit_unit()
    }

    // Numbers as serde_json gives them (u64, i64): the visitor converts,
    // and refuses anything else as serde_json's would.
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _v: V) -> R<V::Value> {
        Err(Error)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, _v: V) -> R<V::Value> {
        Err(Error)
    }
    fn deserialize_i128<V: Visitor<'de>>(self, _v: V) -> R<V::Value> {
        Err(Error)
    }
    fn deserialize_u128<V: Visitor<'de>>(self, _v: V) -> R<V::Value> {
        Err(Error)
    }
}

struct MapA<'p, 'a> {
    p: &'p mut P<'a>,
    first: bool,
    /// The closing brace has been read.
    done: bool,
}

impl<'de> MapAccess<'de> for MapA<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> R<Option<K::Value>> {
        let p = &mut *self.p;
        let mut c = p.peek()?;
        if c == b'}' {
            p.pos += 1;
            self.done = true;
            return Ok(None);
        }
        if !self.first {
            if c != b',' {
                return Err(Error);
            }
            p.pos += 1;
            c = p.peek()?;
        }
        self.first = false;
        if c != b'"' {
            return Err(Error);
        }
        let key = p.string()?;
        p.expect(b':')?;
        match key {
            Cow::Borrowed(k) => seed.deserialize(de::value::BorrowedStrDeserializer::new(k)),
            Cow::Owned(k) => seed.deserialize(de::value::StringDeserializer::new(k)),
        }
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> R<V::Value> {
        seed.deserialize(&mut *self.p)
    }
}

struct SeqA<'p, 'a> {
    p: &'p mut P<'a>,
    first: bool,
    /// The closing bracket has been read.
    done: bool,
}

impl<'de> SeqAccess<'de> for SeqA<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> R<Option<T::Value>> {
        let p = &mut *self.p;
        let c = p.peek()?;
        if c == b']' {
            p.pos += 1;
            self.done = true;
            return Ok(None);
        }
        if !self.first {
            if c != b',' {
                return Err(Error);
            }
            p.pos += 1;
        }
        self.first = false;
        seed.deserialize(&mut *self.p).map(Some)
    }
}

/// Where the run of string bytes from `b[i]` ends: at the first quote,
/// backslash or control character, or at the end of `b`.
#[inline]
fn plain_run(b: &[u8], mut i: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    while let Some(chunk) = b.get(i..i + 16).and_then(|c| <&[u8; 16]>::try_from(c).ok()) {
        // SAFETY: SSE2 is part of x86-64 (see `skip_nested`).
        let m = unsafe { simd::specials(chunk) };
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
        i += 16;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// The end of the object or array whose bracket is at `b[i]`: just past the
/// bracket that closes it, outside strings. `None` when the text ends first,
/// a bracket closes one of the other kind (`[}`), or the value nests deeper
/// than [`Scan`] follows (serde_json skips any depth: it is left to it).
fn skip_nested(b: &[u8], mut i: usize) -> Option<usize> {
    let mut scan = Scan {
        depth: 0,
        curly: 0,
        in_str: false,
    };
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    while let Some(chunk) = b.get(i..i + 64).and_then(|c| <&[u8; 64]>::try_from(c).ok()) {
        // SAFETY: SSE2 is part of x86-64 (this path is compiled only where
        // the build has it).
        let m = unsafe { simd::Masks::of(chunk) };
        let step = if m.backslash == 0 {
            scan.block(&m, i)
        } else {
            // Escapes are rare (messages, JSON inside annotations): take
            // such a block byte by byte.
            scan.bytes(b, i, i + 64)
        };
        match step {
            Step::End(end) => return Some(end),
            Step::More(next) => i = next,
            Step::Bad => return None,
        }
    }
    match scan.bytes(b, i, b.len()) {
        Step::End(end) => Some(end),
        Step::More(_) | Step::Bad => None,
    }
}

/// Where a skip stands: which brackets are open, and whether it is inside
/// a string.
struct Scan {
    /// At most 128, the bits of `curly`.
    depth: usize,
    /// Bit n set: the bracket open at depth n is a `{`.
    curly: u128,
    in_str: bool,
}

enum Step {
    /// The value ends here.
    End(usize),
    /// Go on from here (past the scanned range when an escape straddles it).
    More(usize),
    /// Not JSON, or deeper than serde_json goes.
    Bad,
}

impl Scan {
    /// A bracket outside strings (`{` when `open` and `curly`): `Ok(true)`
    /// when it closes the value.
    #[inline(always)]
    fn bracket(&mut self, open: bool, curly: bool) -> Result<bool, ()> {
        if open {
            if self.depth >= 128 {
                return Err(());
            }
            self.curly = self.curly & !(1 << self.depth) | (u128::from(curly) << self.depth);
            self.depth += 1;
            Ok(false)
        } else {
            if self.depth == 0 || (self.curly >> (self.depth - 1) & 1 == 1) != curly {
                return Err(());
            }
            self.depth -= 1;
            Ok(self.depth == 0)
        }
    }

    /// Scans `b[from..to]` byte by byte.
    fn bytes(&mut self, b: &[u8], from: usize, to: usize) -> Step {
        let mut i = from;
        while i < to {
            let c = b[i];
            if self.in_str {
                match c {
                    b'\\' => i += 1,
                    b'"' => self.in_str = false,
                    _ => {}
                }
            } else {
                match c {
                    b'"' => self.in_str = true,
                    b'{' | b'[' | b'}' | b']' => {
                        match self.bracket(matches!(c, b'{' | b'['), matches!(c, b'{' | b'}')) {
                            Ok(true) => return Step::End(i + 1),
                            Ok(false) => {}
                            Err(()) => return Step::Bad,
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        Step::More(i)
    }

    /// One 64-byte block at `at` without backslashes, from its masks.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    fn block(&mut self, m: &simd::Masks, at: usize) -> Step {
        // Bit k set: byte k is inside a string (opening quote included).
        let inside = simd::prefix_xor(m.quote) ^ if self.in_str { !0 } else { 0 };
        let mut brackets = (m.open | m.close) & !inside;
        while brackets != 0 {
            let k = brackets.trailing_zeros() as usize;
            brackets &= brackets - 1;
            match self.bracket(m.open >> k & 1 == 1, m.curly >> k & 1 == 1) {
                Ok(true) => return Step::End(at + k + 1),
                Ok(false) => {}
                Err(()) => return Step::Bad,
            }
        }
        self.in_str = inside >> 63 == 1;
        Step::More(at + 64)
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod simd {
    use std::arch::x86_64::*;

    /// Which bytes of a 64-byte block are quotes, backslashes, opening
    /// brackets (`{` `[`) and closing brackets (`}` `]`), one bit per byte.
    pub struct Masks {
        pub quote: u64,
        pub backslash: u64,
        pub open: u64,
        pub close: u64,
        /// `{` and `}` among the brackets.
        pub curly: u64,
    }

    impl Masks {
        #[inline]
        #[target_feature(enable = "sse2")]
        pub fn of(block: &[u8; 64]) -> Masks {
            let mut m = Masks {
                quote: 0,
                backslash: 0,
                open: 0,
                close: 0,
                curly: 0,
            };
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            // `[` and `]` are `{` and `}` without bit 5.
            let open = _mm_set1_epi8(b'{' as i8);
            let close = _mm_set1_epi8(b'}' as i8);
            let bit5 = _mm_set1_epi8(0x20);
            for (j, part) in block.chunks_exact(16).enumerate() {
                // SAFETY: `part` is 16 readable bytes; the load is unaligned.
                let v = unsafe { _mm_loadu_si128(part.as_ptr().cast()) };
                let folded = _mm_or_si128(v, bit5);
                let bits = |x: __m128i| u64::from(_mm_movemask_epi8(x) as u16) << (16 * j);
                m.quote |= bits(_mm_cmpeq_epi8(v, quote));
                m.backslash |= bits(_mm_cmpeq_epi8(v, backslash));
                m.open |= bits(_mm_cmpeq_epi8(folded, open));
                m.close |= bits(_mm_cmpeq_epi8(folded, close));
                m.curly |= bits(_mm_or_si128(
                    _mm_cmpeq_epi8(v, open),
                    _mm_cmpeq_epi8(v, close),
                ));
            }
            m
        }
    }

    /// Which bytes of a 16-byte run end a string's plain text: quotes,
    /// backslashes and control characters, one bit per byte.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub fn specials(run: &[u8; 16]) -> u32 {
        // SAFETY: `run` is 16 readable bytes; the load is unaligned.
        let v = unsafe { _mm_loadu_si128(run.as_ptr().cast()) };
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // v <= 0x1f, unsigned.
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }

    /// Bit k of the result is the XOR of bits 0..=k of `x`.
    #[inline]
    pub fn prefix_xor(mut x: u64) -> u64 {
        x ^= x << 1;
        x ^= x << 2;
        x ^= x << 4;
        x ^= x << 8;
        x ^= x << 16;
        x ^= x << 32;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn full(text: &str) -> Vec<Value> {
        serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .expect("serde_json reads it")
    }

    /// The fast reader takes `text` and reads exactly what serde_json reads.
    #[track_caller]
    fn same(text: &str) {
        let fast = from_stream_as::<Value>(text).expect("the fast reader takes it");
        assert_eq!(fast, full(text), "for:\n{text}");
    }

    #[test]
    fn reads_what_kubectl_and_the_api_server_write_exactly_as_serde_json() {
        same(r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","labels":{"app":"x"}}}"#);
        same("{\n    \"items\": [\n        {\n            \"a\": 1\n        },\n        {}\n    ],\n    \"kind\": \"List\"\n}\n");
        same(r#"{"a":[],"b":{},"c":[[],[{}]],"d":null,"e":true,"f":false}"#);
        // Integers at the edges of 64 bits.
        same(
            r#"{"a":0,"b":-1,"c":18446744073709551615,"d":-9223372036854775808,"e":9223372036854775807}"#,
        );
        // Escapes, non-ASCII text, a surrogate pair, an escaped slash.
        same(
            r#"{"a":"tab\there \u00e9 \"q\" \\ \/ \b\f\n\r","b":"ünïcödé ✓ 😀","c":"\ud83d\ude00","d":"x\u0000y"}"#,
        );
        same(
            r#"{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}\n"}"#,
        );
        // Several documents, as JSON lines and back to back.
        same("{\"a\":1}\n{\"b\":[2]}\n\n[3]{}  \t\r\n");
        same("");
    }

    #[test]
    fn leaves_everything_else_to_serde_json() {
        // What serde_json reads, but not as this reader would.
        for text in [
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":-9223372036854775809}"#,
            r#"{"a":-0}"#,
            r#""top-level string""#,
            "1",
        ] {
            assert!(from_stream_as::<Value>(text).is_err(), "took: {text}");
            assert!(serde_json::from_str::<Value>(text).is_ok(), "{text}");
        }
        // What serde_json refuses.
        for text in [
            r#"{"a":01}"#,
            r#"{"a":"\ud83d"}"#,
            r#"{"a":"\ude00"}"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"raw\u{1}control\"}",
            r#"{"a":1,}"#,
            r#"{,"a":1}"#,
            r#"{"a" 1}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":[1 2]}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul}"#,
            r#"{"a":1}x"#,
            r#"{'a':1}"#,
            r#"{"a":"unterminated}"#,
            r#"{"a":{"b":1}"#,
            r#"[1,2"#,
        ] {
            assert!(from_stream_as::<Value>(text).is_err(), "took: {text}");
            let all_ok = serde_json::Deserializer::from_str(text)
                .into_iter::<Value>()
                .all(|v| v.is_ok());
            assert!(!all_ok, "{text}");
        }
        // serde_json's nesting limit is kept, for its error.
        let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(from_stream_as::<Value>(&deep).is_err());
        assert!(serde_json::from_str::<Value>(&deep).is_err());
        let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert_eq!(from_stream_as::<Value>(&ok).unwrap(), full(&ok));
    }

    #[test]
    fn one_value_is_one_value() {
        let one = |t| from_str_seed(std::marker::PhantomData::<Value>, t);
        assert_eq!(
            one("{\"a\":[1]}\n  ").unwrap(),
            serde_json::json!({"a": [1]})
        );
        for text in ["{} {}", "{}x", "", "{"] {
            assert!(one(text).is_err(), "took {text:?}");
        }
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Around {
        before: u32,
        after: u32,
    }

    /// A deterministic generator of JSON values full of what a skip can
    /// trip on: brackets and quotes inside strings, escaped quotes and
    /// backslashes, non-ASCII text, deep and wide nesting.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn value(&mut self, depth: u32, out: &mut String) {
            match self.next() % if depth > 5 { 4 } else { 7 } {
                0 => out.push_str(
                    ["true", "false", "null", "-12", "3.25e-2", "0"][self.next() as usize % 6],
                ),
                1..=3 => {
                    out.push('"');
                    // Escapes are rare, as in real text: most 64-byte blocks
                    // take the SIMD scan, some the byte scan.
                    let escapes = self.next() % 3 == 0;
                    for _ in 0..self.next() % 120 {
                        let piece = if escapes && self.next() % 40 == 0 {
                            ["\\\"", "\\\\", "\\n", "\\u00e9"][self.next() as usize % 4]
                        } else {
                            ["a", "bc", "{", "}", "[", "]", "é", "😀", ":", ",", " "]
                                [self.next() as usize % 11]
                        };
                        out.push_str(piece);
                    }
                    out.push('"');
                }
                4 | 5 => {
                    out.push('{');
                    for i in 0..self.next() % 5 {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&format!("\"k{i}}}\\\"\" : "));
                        self.value(depth + 1, out);
                    }
                    out.push('}');
                }
                _ => {
                    out.push_str("[ ");
                    for i in 0..self.next() % 5 {
                        if i > 0 {
                            out.push_str(" ,\n");
                        }
                        self.value(depth + 1, out);
                    }
                    out.push(']');
                }
            }
        }
    }

    /// Skipped values end exactly where they end, at every offset against
    /// the 64-byte blocks, and the SIMD scan agrees with the byte scan.
    #[test]
    fn skipping_lands_after_the_skipped_value() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        for round in 0..3000 {
            let mut v = String::new();
            // Objects and arrays exercise the block scan; scalars the rest.
            g.value(if round % 3 == 0 { 0 } else { 6 }, &mut v);
            let pad = " ".repeat(round % 64);
            let text = format!("{{{pad}\"before\":1,\"skipped\":{v},\"after\":2}}");
            assert!(serde_json::from_str::<Value>(&text).is_ok(), "{text}");
            let got = from_stream_as::<Around>(&text).unwrap_or_else(|_| panic!("{text}"));
            assert_eq!(
                got,
                vec![Around {
                    before: 1,
                    after: 2
                }],
                "{text}"
            );
            if v.starts_with(['{', '[']) {
                let b = v.as_bytes();
                let mut scan = Scan {
                    depth: 0,
                    curly: 0,
                    in_str: false,
                };
                assert_eq!(skip_nested(b, 0), Some(b.len()), "{v}");
                assert!(
                    matches!(scan.bytes(b, 0, b.len()), Step::End(n) if n == b.len()),
                    "{v}"
                );
            }
        }
    }

    /// A skipped value is checked for what a skip can check: brackets that
    /// close in kind. One nested deeper than the skip follows is left to
    /// serde_json, which skips any depth.
    #[test]
    fn skipped_values_close_their_brackets_in_kind() {
        let long = "x".repeat(70);
        for skipped in [
            "[1}".to_owned(),
            "{\"a\":[1]]}".to_owned(),
            format!("[\"{long}\", {{\"a\": [1, 2}}]"),
            format!("[\"{long}\\\"\", 1}}"),
        ] {
            let text = format!("{{\"before\":1,\"skipped\":{skipped},\"after\":2}}");
            assert!(from_stream_as::<Around>(&text).is_err(), "took {text}");
            assert!(serde_json::from_str::<Around>(&text).is_err(), "{text}");
        }
        for (levels, fast) in [(128, true), (129, false)] {
            let text = format!(
                "{{\"before\":1,\"skipped\":{}{},\"after\":2}}",
                "[".repeat(levels),
                "]".repeat(levels)
            );
            assert_eq!(from_stream_as::<Around>(&text).is_ok(), fast, "{levels}");
            assert!(serde_json::from_str::<Around>(&text).is_ok(), "{levels}");
        }
    }

    /// A cut document (a half-written file) never reads as a smaller one.
    /// Found by the fuzz target: a skipped string whose last byte is a
    /// backslash read past the end (a panic on untrusted input).
    #[test]
    fn a_backslash_at_the_very_end_is_refused_not_a_panic() {
        for text in [
            r#"{"kind":"Pod","x":"abc\"#,
            r#"{"x":"\"#,
            "{\"vigilSnapshot\":{\"v\":\"\\",
        ] {
            assert!(
                from_stream_as::<crate::sources::decode::Doc>(text).is_err(),
                "{text}"
            );
            assert_eq!(crate::sources::fuzzing::json_agrees(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn a_cut_document_is_never_taken() {
        let mut g = Gen(42);
        let mut v = String::new();
        while v.len() < 3000 {
            v.clear();
            g.value(0, &mut v);
        }
        let text = format!("{{\"before\":1,\"skipped\":{v},\"after\":2}}");
        // An empty text is no document, for serde_json too.
        for cut in 1..text.len() - 1 {
            if text.is_char_boundary(cut) {
                assert!(
                    from_stream_as::<Around>(&text[..cut]).is_err(),
                    "took {cut} bytes"
                );
            }
        }
    }

    /// A typed field is given only what serde_json gives it.
    #[test]
    fn typed_fields_take_what_serde_json_takes() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct S {
            a: String,
            b: Option<u32>,
            c: Vec<bool>,
            #[serde(default)]
            d: Option<String>,
        }
        let text = r#"{"a":"x\"y","b":null,"c":[true,false],"ignored":{"deep":[1,{"x":"]"}]}}"#;
        assert_eq!(
            from_stream_as::<S>(text).unwrap(),
            vec![serde_json::from_str::<S>(text).unwrap()]
        );
        for bad in [
            r#"{"a":1,"c":[]}"#,
            r#"{"a":"x","b":"1","c":[]}"#,
            r#"{"a":"x","c":[1]}"#,
        ] {
            assert!(from_stream_as::<S>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<S>(bad).is_err(), "{bad}");
        }
    }

    fn json_files(root: &std::path::Path) -> Vec<String> {
        super::super::texts_under(root, &["json"])
    }

    /// Both readers decode the same objects from `files`; returns how many
    /// files the fast reader took.
    fn compare(files: &[String]) -> usize {
        use super::super::decode::Doc;
        let mut taken = 0;
        for text in files {
            let Ok(fast) = from_stream_as::<Doc>(text) else {
                continue;
            };
            taken += 1;
            let full: Vec<Doc> = serde_json::Deserializer::from_str(text)
                .into_iter()
                .collect::<Result<_, _>>()
                .unwrap();
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

    /// The objects decoded from a generated cluster and from the JSON under
    /// testdata are the same through both readers, and the fast reader takes
    /// every generated file. VIGIL_JSON_EQUIVALENCE_DIR adds a tree, say a
    /// directory of `kubectl get -o json` output from a real cluster.
    #[test]
    fn decodes_the_same_objects_as_serde_json() {
        let dir = tempfile::tempdir().unwrap();
        crate::devtools::generate::generate(
            dir.path(),
            400,
            7,
            crate::devtools::generate::Format::Json,
        )
        .unwrap();
        let generated = json_files(dir.path());
        assert!(generated.len() > 3);
        assert_eq!(
            compare(&generated),
            generated.len(),
            "every generated file is fast"
        );

        let testdata =
            json_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata"));
        assert!(!testdata.is_empty());
        compare(&testdata);

        if let Some(extra) = std::env::var_os("VIGIL_JSON_EQUIVALENCE_DIR") {
            let files = json_files(std::path::Path::new(&extra));
            let taken = compare(&files);
            eprintln!("{taken} of {} files taken by the fast reader", files.len());
        }
    }
}
