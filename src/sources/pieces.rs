//! A response body kept in the pieces it arrived in.
//!
//! The API server sends a page of 5000 pods (25 MB) in many pieces. Joining
//! them copied every byte into a fresh buffer (a tenth of a live run's
//! CPU, page faults included). [`Pieces`] is a [`Buf`] over them instead:
//! prost decodes from it directly, and an item that lies within one piece is
//! sliced out of it without a copy ([`Buf::copy_to_bytes`]); only the items
//! that straddle two pieces are copied. Unlike `http-body-util`'s list of
//! buffers, it knows its length without walking every piece, which prost
//! asks for at every field.

use std::collections::VecDeque;

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Bytes in pieces, read front to back.
#[derive(Debug, Default)]
pub struct Pieces {
    pieces: VecDeque<Bytes>,
    remaining: usize,
}

impl Pieces {
    /// Adds a piece at the end.
    pub fn push(&mut self, piece: Bytes) {
        if !piece.is_empty() {
            self.remaining += piece.len();
            self.pieces.push_back(piece);
        }
    }

    /// The rest in one piece: no copy when there is only one.
    pub fn into_bytes(mut self) -> Bytes {
        let n = self.remaining;
        self.copy_to_bytes(n)
    }
}

impl Buf for Pieces {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.pieces.front().map_or(&[], |p| p.as_ref())
    }

    fn advance(&mut self, mut cnt: usize) {
        assert!(cnt <= self.remaining, "advance past the end");
        self.remaining -= cnt;
        while cnt > 0 {
            let front = self.pieces.front_mut().expect("counted");
            if cnt < front.len() {
                front.advance(cnt);
                return;
            }
            cnt -= front.len();
            self.pieces.pop_front();
        }
    }

    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        assert!(len <= self.remaining, "copy_to_bytes past the end");
        if let Some(front) = self.pieces.front_mut() {
            if len < front.len() {
                self.remaining -= len;
                return front.split_to(len);
            }
            if len == front.len() {
                self.remaining -= len;
                return self.pieces.pop_front().expect("there");
            }
        }
        let mut out = BytesMut::with_capacity(len);
        out.put((&mut *self).take(len));
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(parts: &[&[u8]]) -> Pieces {
        let mut p = Pieces::default();
        for part in parts {
            p.push(Bytes::copy_from_slice(part));
        }
        p
    }

    #[test]
    fn reads_across_pieces_as_one_buffer_would() {
        let parts: &[&[u8]] = &[b"ab", b"", b"cde", b"f", b"ghij"];
        let whole: Vec<u8> = parts.concat();
        // Every split of every read size gives what a slice gives.
        for first in 0..=whole.len() {
            for second in 0..=whole.len() - first {
                let mut p = pieces(parts);
                let mut s: &[u8] = &whole;
                assert_eq!(p.copy_to_bytes(first), s.copy_to_bytes(first));
                p.advance(second.min(1));
                s.advance(second.min(1));
                let rest = p.remaining().min(second);
                assert_eq!(p.copy_to_bytes(rest), s.copy_to_bytes(rest));
                assert_eq!(p.remaining(), s.remaining());
                assert_eq!(p.into_bytes(), Bytes::copy_from_slice(s));
            }
        }
    }

    #[test]
    fn a_slice_within_one_piece_is_not_copied() {
        let piece = Bytes::from(vec![7u8; 100]);
        let mut p = Pieces::default();
        p.push(piece.clone());
        p.push(Bytes::from_static(b"tail"));
        let item = p.copy_to_bytes(40);
        assert_eq!(item.as_ptr(), piece.as_ptr(), "sliced, not copied");
        let straddling = p.copy_to_bytes(62);
        assert_eq!(&straddling[..60], &[7u8; 60][..]);
        assert_eq!(&straddling[60..], b"ta");
        assert_eq!(p.remaining(), 2);
        assert_eq!(p.chunk(), b"il");
    }

    #[test]
    fn prost_decodes_a_message_split_anywhere() {
        use prost::Message;
        #[derive(Clone, PartialEq, Message)]
        struct M {
            #[prost(string, optional, tag = "1")]
            name: Option<String>,
            #[prost(bytes = "bytes", repeated, tag = "2")]
            items: Vec<Bytes>,
            #[prost(int64, optional, tag = "3")]
            n: Option<i64>,
        }
        let m = M {
            name: Some("pods".into()),
            items: vec![Bytes::from_static(b"first"), Bytes::from(vec![1u8; 300])],
            n: Some(-1),
        };
        let mut encoded = BytesMut::new();
        encoded.put_slice(&m.encode_to_vec());
        let encoded = encoded.freeze();
        for cut in 0..encoded.len() {
            for step in [1, 3, 64] {
                let mut p = Pieces::default();
                p.push(encoded.slice(..cut));
                let mut at = cut;
                while at < encoded.len() {
                    let end = (at + step).min(encoded.len());
                    p.push(encoded.slice(at..end));
                    at = end;
                }
                assert_eq!(M::decode(p).unwrap(), m, "cut at {cut}, step {step}");
            }
        }
    }
}
