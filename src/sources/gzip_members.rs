//! Gzip written as independent members that each name their own size, so a
//! reader finds every member without inflating the ones before it and can
//! inflate them on all cores.
//!
//! A member is an ordinary gzip member (RFC 1952) whose header carries one
//! extra subfield, `VG`, holding the member's whole length in bytes (header
//! and trailer included) as a little-endian `u32`, the way BGZF marks its
//! blocks. Any gzip reader (`zcat`, `gzip -d`, flate2's `MultiGzDecoder`)
//! reads such a file as one stream, since concatenated members are one file
//! by RFC 1952 §2.2. [`split`] finds the members; a file whose members do not
//! all carry the subfield, or do not tile it exactly (a truncated download),
//! is not split, and the caller reads it in order as any gzip.

use std::io::Write as _;
use std::ops::Range;

const ID: [u8; 3] = [0x1f, 0x8b, 8]; // gzip, deflate
const FEXTRA: u8 = 0x04;
const SUBFIELD: [u8; 2] = *b"VG";
/// Header: 10 fixed bytes, XLEN (2), the subfield (2 + 2 + 4).
const HEADER: usize = 10 + 2 + 8;
/// Trailer: CRC-32 and ISIZE.
const TRAILER: usize = 8;

/// `data` compressed as one self-describing member.
pub fn member(data: &[u8], level: flate2::Compression) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(HEADER + data.len() / 6 + TRAILER);
    out.extend_from_slice(&ID);
    out.push(FEXTRA);
    out.extend_from_slice(&[0, 0, 0, 0]); // MTIME: none
    out.push(0); // XFL
    out.push(255); // OS: unknown
    out.extend_from_slice(&8u16.to_le_bytes()); // XLEN
    out.extend_from_slice(&SUBFIELD);
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // the size, filled in below
    let mut deflate = flate2::write::DeflateEncoder::new(out, level);
    deflate.write_all(data)?;
    let mut out = deflate.finish()?;
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes()); // ISIZE: mod 2^32
    let size = u32::try_from(out.len())
        .map_err(|_| std::io::Error::other("a gzip member over 4 GiB: write smaller members"))?;
    out[HEADER - 4..HEADER].copy_from_slice(&size.to_le_bytes());
    Ok(out)
}

/// The byte ranges of the members of `raw`, when every member names its
/// size and together they are exactly the file; `None` otherwise.
pub fn split(raw: &[u8]) -> Option<Vec<Range<usize>>> {
    let mut members = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        let size = named_size(&raw[at..])?;
        if size < HEADER + TRAILER || raw.len() - at < size {
            return None;
        }
        members.push(at..at + size);
        at += size;
    }
    (!members.is_empty()).then_some(members)
}

/// The size the member at the start of `m` names, from its `VG` subfield.
fn named_size(m: &[u8]) -> Option<usize> {
    if m.len() < 12 || m[..3] != ID || m[3] & FEXTRA == 0 {
        return None;
    }
    let xlen = u16::from_le_bytes([m[10], m[11]]) as usize;
    let mut extra = m.get(12..12 + xlen)?;
    while extra.len() >= 4 {
        let len = u16::from_le_bytes([extra[2], extra[3]]) as usize;
        let body = extra.get(4..4 + len)?;
        if extra[..2] == SUBFIELD && len == 4 {
            return Some(u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize);
        }
        extra = &extra[4 + len..];
    }
    None
}

/// The uncompressed size a member's trailer states (modulo 4 GiB).
pub fn stated_size(member: &[u8]) -> usize {
    member.len().checked_sub(4).map_or(0, |i| {
        u32::from_le_bytes(member[i..].try_into().unwrap()) as usize
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn file(parts: &[&[u8]]) -> Vec<u8> {
        parts
            .iter()
            .flat_map(|p| member(p, flate2::Compression::fast()).unwrap())
            .collect()
    }

    #[test]
    fn members_are_found_and_any_gzip_reader_reads_the_whole() {
        let parts: [&[u8]; 3] = [b"{\"a\":1}\n", b"", b"{\"b\":2}\n"];
        let raw = file(&parts);
        let members = split(&raw).expect("every member names its size");
        assert_eq!(members.len(), 3);
        for (range, part) in members.iter().zip(parts) {
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(&raw[range.clone()])
                .read_to_end(&mut text)
                .unwrap();
            assert_eq!(text, part);
            assert_eq!(stated_size(&raw[range.clone()]), part.len());
        }
        let mut all = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut all)
            .unwrap();
        assert_eq!(all, b"{\"a\":1}\n{\"b\":2}\n");
    }

    #[test]
    fn files_that_are_not_exactly_members_are_not_split() {
        let raw = file(&[b"one\n", b"two\n"]);
        // Cut short, as a half-downloaded artifact is.
        assert_eq!(split(&raw[..raw.len() - 3]), None);
        // Something after the last member.
        let mut longer = raw.clone();
        longer.extend_from_slice(b"\0\0");
        assert_eq!(split(&longer), None);
        // An ordinary gzip file names no sizes.
        let mut plain = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        plain.write_all(b"plain\n").unwrap();
        assert_eq!(split(&plain.finish().unwrap()), None);
        assert_eq!(split(b""), None);
        assert_eq!(split(b"\x1f\x8b"), None);
    }
}
