//! A `.npy` file of little-endian uint64 (or uint32) written as it streams: the header reserves
//! room for any shape and is rewritten with the real row count at the end (format 1.0, see numpy's
//! `numpy.lib.format`: magic, version, a u16 header length, a Python dict literal padded with
//! spaces to a multiple of 64 bytes, ending in a newline).

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fastentropy_core::{Error, Result};

/// Bytes of the header, magic included: room for any two u64 dimensions.
const HEADER: usize = 128;
/// Values converted to bytes at once by [`NpyWriter::append`].
const BLOCK: usize = 1 << 16;

/// A `.npy` file of uint64 being written: rows of `cols` values (or a 1-D array).
pub struct NpyWriter {
    file: BufWriter<File>,
    path: PathBuf,
    cols: Option<usize>,
    values: u64,
    /// Bytes per value: 8, or 4 for uint32.
    width: usize,
}

impl NpyWriter {
    /// Creates (or truncates) `path` with a placeholder header.
    pub fn create(path: &Path, cols: Option<usize>) -> Result<Self> {
        Self::with_width(path, cols, 8)
    }

    /// As [`NpyWriter::create`] for values of `width` bytes (8, or 4 for uint32).
    pub fn with_width(path: &Path, cols: Option<usize>, width: usize) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, &e))?;
        let mut w = Self {
            file: BufWriter::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            cols,
            values: 0,
            width,
        };
        w.put(&header(cols, 0, width))?;
        Ok(w)
    }

    /// Appends values (whole rows); each must fit the width. Written a block at a time
    /// (bounded memory for any number of values).
    pub fn append(&mut self, values: &[u64]) -> Result<()> {
        let mut bytes = Vec::with_capacity(values.len().min(BLOCK) * self.width);
        for block in values.chunks(BLOCK) {
            bytes.clear();
            if self.width == 4 {
                for &v in block {
                    let v = u32::try_from(v).map_err(|_| {
                        Error::Invalid(format!("{v} does not fit the uint32 file {:?}", self.path))
                    })?;
                    bytes.extend_from_slice(&v.to_le_bytes());
                }
            } else {
                bytes.extend(block.iter().flat_map(|v| v.to_le_bytes()));
            }
            self.put(&bytes)?;
        }
        self.values += values.len() as u64;
        Ok(())
    }

    /// Writes the header with the rows written and flushes the file.
    pub fn finish(mut self) -> Result<()> {
        let rows = self.values / self.cols.unwrap_or(1).max(1) as u64;
        let head = header(self.cols, rows, self.width);
        let io = |e: std::io::Error| Error::io(&self.path, &e);
        self.file.flush().map_err(io)?;
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        self.file.write_all(&head).map_err(io)?;
        self.file.flush().map_err(io)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        (self.file.write_all(bytes)).map_err(|e| Error::io(&self.path, &e))
    }
}

/// The header of a uint64 (or, `width` 4, uint32) array of `rows` (by `cols`), [`HEADER`]
/// bytes long.
fn header(cols: Option<usize>, rows: u64, width: usize) -> Vec<u8> {
    let shape = match cols {
        Some(c) => format!("({rows}, {c})"),
        None => format!("({rows},)"),
    };
    let dict = format!("{{'descr': '<u{width}', 'fortran_order': False, 'shape': {shape}, }}");
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&((HEADER - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(HEADER - 1, b' ');
    h.push(b'\n');
    h
}
