//! A `.npy` file of little-endian uint64 written as it streams: the header reserves room for
//! any shape and is rewritten with the real row count at the end (format 1.0, see numpy's
//! `numpy.lib.format`: magic, version, a u16 header length, a Python dict literal padded
//! with spaces to a multiple of 64 bytes, ending in a newline).

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fastentropy_core::{Error, Result};

/// Bytes of the header, magic included: room for any two u64 dimensions.
const HEADER: usize = 128;

/// A `.npy` file of uint64 being written: rows of `cols` values (or a 1-D array).
pub struct NpyWriter {
    file: BufWriter<File>,
    path: PathBuf,
    cols: Option<usize>,
    values: u64,
}

impl NpyWriter {
    /// Creates (or truncates) `path` with a placeholder header.
    pub fn create(path: &Path, cols: Option<usize>) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, &e))?;
        let mut w = Self {
            file: BufWriter::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            cols,
            values: 0,
        };
        w.put(&header(cols, 0))?;
        Ok(w)
    }

    /// Appends values (whole rows).
    pub fn append(&mut self, values: &[u64]) -> Result<()> {
        let mut bytes = Vec::with_capacity(values.len() * 8);
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.values += values.len() as u64;
        self.put(&bytes)
    }

    /// Writes the header with the rows written and flushes the file.
    pub fn finish(mut self) -> Result<()> {
        let rows = self.values / self.cols.unwrap_or(1).max(1) as u64;
        let head = header(self.cols, rows);
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

/// The header of a uint64 array of `rows` (by `cols`), [`HEADER`] bytes long.
fn header(cols: Option<usize>, rows: u64) -> Vec<u8> {
    let shape = match cols {
        Some(c) => format!("({rows}, {c})"),
        None => format!("({rows},)"),
    };
    let dict = format!("{{'descr': '<u8', 'fortran_order': False, 'shape': {shape}, }}");
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&((HEADER - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(HEADER - 1, b' ');
    h.push(b'\n');
    h
}
