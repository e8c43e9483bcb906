//! The index on disk, memory-mapped back in milliseconds.
//!
//! Layout (little-endian): the magic `FEIDX\r\n\x1a`, a format version, a header of fixed fields
//! then the token dtype name and the token file's path, a hash of the header; then, each at an
//! offset aligned to 64 bytes, the suffix array (u32 or u64 entries, as the header says), the LCP
//! bytes, the overflow positions (u64) and values (u32). The tokens are not copied: the header
//! records their byte length and a hash of their bytes, checked when the index is opened, so an
//! index whose tokens changed is refused rather than answering wrongly. A file whose length is not
//! the one its header implies (truncated, or appended to) is refused too.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;
use rayon::prelude::*;

use super::lcp::Lcp;
use super::store::{bytes_of, with_sa, Sa, Store};
use super::SuffixIndex;
use crate::control::Control;
use crate::error::{Error, Result};
use crate::tokens::Token;

const MAGIC: &[u8; 8] = b"FEIDX\r\n\x1a";
/// Bumped whenever the layout changes; other versions are refused.
/// Version 2: the entry width in the header, 64-bit overflow positions.
pub const FORMAT_VERSION: u32 = 2;
const ALIGN: usize = 64;
/// Fixed header fields after magic and version: n, has separator, separator, token bytes,
/// token hash, max LCP, overflow count, bytes per suffix-array entry (u64 each), dtype and
/// source lengths (u32 each).
const FIXED: usize = 8 + 4 + 8 * 8 + 2 * 4;
const HASH_CHUNK: usize = 1 << 20;

/// What an index file says about itself and its tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Number of tokens indexed.
    pub n: u64,
    /// The separator id the index was built with, if any.
    pub separator: Option<u64>,
    /// The tokens' numpy dtype name (`"uint16"`, ...).
    pub dtype: String,
    /// Where the tokens were read from when the index was built (empty if from memory).
    pub source: String,
    /// Byte length of the tokens, checked when the index is opened.
    pub token_bytes: u64,
    /// Hash of the tokens' bytes ([`token_hash`]), checked when the index is opened.
    pub token_hash: u64,
    /// The largest LCP value, tokens.
    pub max_lcp: u64,
    /// Number of LCP entries of 127 or more, kept in the overflow table.
    pub overflow: u64,
    /// Bytes per suffix-array entry: 4, or 8 past 2^31 tokens.
    pub entry_bytes: u64,
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(FIXED + 64);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        for v in [
            self.n,
            u64::from(self.separator.is_some()),
            self.separator.unwrap_or(0),
            self.token_bytes,
            self.token_hash,
            self.max_lcp,
            self.overflow,
            self.entry_bytes,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&(self.dtype.len() as u32).to_le_bytes());
        b.extend_from_slice(&(self.source.len() as u32).to_le_bytes());
        b.extend_from_slice(self.dtype.as_bytes());
        b.extend_from_slice(self.source.as_bytes());
        let h = hash_chunk(&b, 0);
        b.extend_from_slice(&h.to_le_bytes());
        b.resize(b.len().next_multiple_of(ALIGN), 0);
        b
    }

    /// Offsets of the arrays after a header of `len` bytes, and the file's total length.
    fn layout(&self, header: usize) -> [usize; 5] {
        let n = self.n as usize;
        let sa = header;
        let lcp = (sa + self.entry_bytes as usize * n).next_multiple_of(ALIGN);
        let at = (lcp + n).next_multiple_of(ALIGN);
        let val = (at + 8 * self.overflow as usize).next_multiple_of(ALIGN);
        let end = val + 4 * self.overflow as usize;
        [sa, lcp, at, val, end]
    }
}

fn bad(path: &Path, why: &str) -> Error {
    Error::Invalid(format!(
        "{} is not a usable suffix index: {why}",
        path.display()
    ))
}

/// Reads the header of the index file at `path`, and its length in bytes.
fn decode(path: &Path, data: &[u8]) -> Result<(Header, usize)> {
    if data.len() < 12 || &data[..8] != MAGIC {
        return Err(bad(path, "it does not start as a fastentropy index file"));
    }
    let version = u32::from_le_bytes(data[8..12].try_into().unwrap_or_default());
    if version != FORMAT_VERSION {
        return Err(bad(
            path,
            &format!(
                "it has format version {version}, this fastentropy reads version \
                 {FORMAT_VERSION}: build the index again"
            ),
        ));
    }
    if data.len() < FIXED {
        return Err(bad(path, "the file is truncated (inside its header)"));
    }
    let u64_at = |k: usize| {
        let o = 12 + 8 * k;
        u64::from_le_bytes(data[o..o + 8].try_into().unwrap_or_default())
    };
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap_or_default());
    let (dlen, slen) = (u32_at(76) as usize, u32_at(80) as usize);
    let text_end = FIXED + dlen + slen;
    if data.len() < text_end + 8 {
        return Err(bad(path, "the file is truncated (inside its header)"));
    }
    let stored = u64::from_le_bytes(data[text_end..text_end + 8].try_into().unwrap_or_default());
    if hash_chunk(&data[..text_end], 0) != stored {
        return Err(bad(
            path,
            "its header is corrupted (the header hash does not match)",
        ));
    }
    let text = |a: usize, b: usize| String::from_utf8_lossy(&data[a..b]).into_owned();
    let header = Header {
        n: u64_at(0),
        separator: (u64_at(1) != 0).then(|| u64_at(2)),
        token_bytes: u64_at(3),
        token_hash: u64_at(4),
        max_lcp: u64_at(5),
        overflow: u64_at(6),
        entry_bytes: u64_at(7),
        dtype: text(FIXED, FIXED + dlen),
        source: text(FIXED + dlen, text_end),
    };
    if header.entry_bytes != 4 && header.entry_bytes != 8 {
        return Err(bad(path, "its header is corrupted (entry width)"));
    }
    Ok((header, (text_end + 8).next_multiple_of(ALIGN)))
}

/// The header of the index file at `path` (to learn its tokens before opening it).
///
/// # Errors
/// The file cannot be read, or is not an index of this format version.
pub fn read_header(path: &Path) -> Result<Header> {
    use std::io::Read;
    let io = |e: std::io::Error| Error::io(path, &e);
    // Only the header is needed: read the start of what may be a very large file.
    let mut data = Vec::new();
    File::open(path)
        .map_err(io)?
        .take(1 << 20)
        .read_to_end(&mut data)
        .map_err(io)?;
    Ok(decode(path, &data)?.0)
}

/// A 64-bit hash of `bytes`, in fixed 1 MiB chunks hashed in parallel and combined in
/// order: the same for any thread count. Not cryptographic; it tells changed tokens from
/// unchanged ones with odds of a miss near 2^-64.
///
/// # Errors
/// Cancellation.
pub fn token_hash(bytes: &[u8], ctl: &Control<'_>) -> Result<u64> {
    let parts: Vec<u64> = bytes
        .par_chunks(HASH_CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            ctl.check()?;
            Ok(hash_chunk(chunk, c as u64))
        })
        .collect::<Result<_>>()?;
    let mut h = mix(bytes.len() as u64 ^ 0x9e37_79b9_7f4a_7c15);
    for p in parts {
        h = mix(h ^ p);
    }
    Ok(h)
}

const P1: u64 = 0x9e37_79b9_7f4a_7c15;
const P2: u64 = 0xc2b2_ae3d_27d4_eb4f;

/// A finaliser with full avalanche (splitmix64's).
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Four independent multiply-rotate lanes over 8-byte words (fast: the lanes overlap),
/// then the tail, folded with the chunk's number and length.
fn hash_chunk(bytes: &[u8], seed: u64) -> u64 {
    let mut lanes = [
        seed ^ P1,
        seed ^ P2,
        seed.rotate_left(17) ^ P1,
        seed.rotate_left(41) ^ P2,
    ];
    let mut words = bytes.chunks_exact(32);
    for block in &mut words {
        for (l, w) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
            *l = (*l ^ w).wrapping_mul(P2).rotate_left(31).wrapping_mul(P1);
        }
    }
    let mut h = mix(bytes.len() as u64 ^ seed);
    for l in lanes {
        h = mix(h ^ l);
    }
    for (k, &b) in words.remainder().iter().enumerate() {
        h = (h ^ (u64::from(b) << (8 * (k % 8)))).wrapping_mul(P1);
    }
    mix(h)
}

fn mapped<T: super::store::Plain>(map: &Arc<Mmap>, offset: usize, len: usize) -> Store<T> {
    Store::Mapped {
        map: Arc::clone(map),
        offset,
        len,
    }
}

impl SuffixIndex {
    /// Writes the index to `path`. `dtype` and `source` describe the tokens (their numpy
    /// dtype name and the file they came from, if any); their bytes are hashed, not copied.
    ///
    /// # Errors
    /// Tokens of another length than the index, an I/O error, or cancellation.
    pub fn save<T: Token>(
        &self,
        path: &Path,
        tokens: &[T],
        dtype: &str,
        source: Option<&str>,
        ctl: &Control<'_>,
    ) -> Result<()> {
        self.check_tokens(tokens)?;
        let token_bytes = bytes_of(tokens);
        let header = Header {
            n: self.len() as u64,
            separator: self.separator,
            dtype: dtype.to_string(),
            source: source.unwrap_or("").to_string(),
            token_bytes: token_bytes.len() as u64,
            token_hash: ctl.run(|| token_hash(token_bytes, ctl))?,
            max_lcp: u64::from(self.lcp.max),
            overflow: self.lcp.over_at.as_slice().len() as u64,
            entry_bytes: self.entry_bytes() as u64,
        };
        let head = header.encode();
        let [sa_at, lcp_at, at_at, val_at, end] = header.layout(head.len());
        let io = |e: std::io::Error| Error::io(path, &e);
        let mut w = BufWriter::with_capacity(1 << 20, File::create(path).map_err(io)?);
        let mut written = 0usize;
        let mut put = |w: &mut BufWriter<File>, at: usize, bytes: &[u8]| -> Result<()> {
            w.write_all(&vec![0u8; at - written]).map_err(io)?;
            w.write_all(bytes).map_err(io)?;
            written = at + bytes.len();
            ctl.check()
        };
        put(&mut w, 0, &head)?;
        with_sa!(&self.sa, |sa| put(&mut w, sa_at, bytes_of(sa)))?;
        put(&mut w, lcp_at, self.lcp.bytes.as_slice())?;
        put(&mut w, at_at, bytes_of(self.lcp.over_at.as_slice()))?;
        put(&mut w, val_at, bytes_of(self.lcp.over_val.as_slice()))?;
        debug_assert_eq!(written, end);
        w.flush().map_err(io)?;
        Ok(())
    }

    /// Memory-maps the index at `path` and checks it against `tokens`: their count, byte
    /// length and hash must be those it was built on.
    ///
    /// # Errors
    /// An I/O error; a file that is not an index, of another format version, truncated or
    /// extended; tokens other than those it was built on; cancellation.
    pub fn open<T: Token>(path: &Path, tokens: &[T], ctl: &Control<'_>) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, &e))?;
        // SAFETY: the file is mapped read-only; a writer that changes it while the index is
        // open is outside this library's contract (as for numpy's memmap).
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, &e))?;
        let (header, head) = decode(path, &map)?;
        let [sa_at, lcp_at, at_at, val_at, end] = header.layout(head);
        if map.len() != end {
            return Err(bad(
                path,
                &format!(
                    "its header describes {end} bytes but the file has {}: it is truncated or \
                     was changed",
                    map.len()
                ),
            ));
        }
        let token_bytes = bytes_of(tokens);
        let source = if header.source.is_empty() {
            "the tokens given".to_string()
        } else {
            format!("the tokens ({})", header.source)
        };
        if tokens.len() as u64 != header.n || token_bytes.len() as u64 != header.token_bytes {
            return Err(bad(
                path,
                &format!(
                    "it was built on {} tokens ({} bytes) but {source} are {} tokens ({} bytes)",
                    header.n,
                    header.token_bytes,
                    tokens.len(),
                    token_bytes.len()
                ),
            ));
        }
        if ctl.run(|| token_hash(token_bytes, ctl))? != header.token_hash {
            return Err(bad(
                path,
                &format!("{source} changed since it was built (their hash differs)"),
            ));
        }
        let map = Arc::new(map);
        let n = header.n as usize;
        let k = header.overflow as usize;
        let sa = if header.entry_bytes == 8 {
            Sa::Wide(mapped(&map, sa_at, n))
        } else {
            Sa::Narrow(mapped(&map, sa_at, n))
        };
        let lcp = Lcp {
            bytes: mapped(&map, lcp_at, n),
            over_at: mapped(&map, at_at, k),
            over_val: mapped(&map, val_at, k),
            max: u32::try_from(header.max_lcp).map_err(|_| bad(path, "its header is corrupted"))?,
        };
        Ok(Self {
            sa,
            lcp,
            separator: header.separator,
        })
    }
}
