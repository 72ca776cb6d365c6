//! A temporary file of records, written once and read back once, for what a format must keep
//! until the end of its report without holding it in memory (Mocha's tests, whose status comes
//! later). Records are written field by field: numbers as little-endian bytes, texts as their
//! length (a `u32`, `u32::MAX` for none) and their bytes. JSON lines cost a fifth of Mocha's
//! time in escaping and reading back.

use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};

use crate::error::{Error, Result};

/// The writing side.
pub(crate) struct Spool(BufWriter<std::fs::File>);

/// The reading side, from the first record.
pub(crate) struct Records(BufReader<std::fs::File>);

fn spool_error(e: std::io::Error) -> Error {
    Error::Usage(format!(
        "cannot use the temporary file: {}",
        crate::cli::io_reason(&e)
    ))
}

impl Spool {
    /// A new spool: an unlinked temporary file.
    pub(crate) fn new() -> Result<Spool> {
        let f = tempfile::tempfile().map_err(|e| {
            Error::Usage(format!(
                "cannot make a temporary file: {}",
                crate::cli::io_reason(&e)
            ))
        })?;
        Ok(Spool(BufWriter::with_capacity(1 << 16, f)))
    }

    pub(crate) fn u8(&mut self, n: u8) -> Result<()> {
        self.0.write_all(&[n]).map_err(spool_error)
    }

    pub(crate) fn u64(&mut self, n: u64) -> Result<()> {
        self.0.write_all(&n.to_le_bytes()).map_err(spool_error)
    }

    pub(crate) fn f64(&mut self, n: f64) -> Result<()> {
        self.0.write_all(&n.to_le_bytes()).map_err(spool_error)
    }

    pub(crate) fn text(&mut self, s: Option<&str>) -> Result<()> {
        let Some(s) = s else {
            return self
                .0
                .write_all(&u32::MAX.to_le_bytes())
                .map_err(spool_error);
        };
        // A text is at most a block of the document: far below 4 GB.
        let s = s
            .get(..s.len().min(u32::MAX as usize - 1))
            .unwrap_or_default();
        self.0
            .write_all(&(s.len() as u32).to_le_bytes())
            .and_then(|()| self.0.write_all(s.as_bytes()))
            .map_err(spool_error)
    }

    /// The records written, to be read from the first.
    pub(crate) fn read(self) -> Result<Records> {
        let mut f = self
            .0
            .into_inner()
            .map_err(|e| spool_error(e.into_error()))?;
        f.rewind().map_err(spool_error)?;
        Ok(Records(BufReader::with_capacity(1 << 16, f)))
    }
}

impl Records {
    /// Whether every record has been read.
    pub(crate) fn done(&mut self) -> Result<bool> {
        Ok(self.0.fill_buf().map_err(spool_error)?.is_empty())
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut b = [0; N];
        self.0.read_exact(&mut b).map_err(spool_error)?;
        Ok(b)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes::<1>()?[0])
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        self.bytes().map(u64::from_le_bytes)
    }

    pub(crate) fn f64(&mut self) -> Result<f64> {
        self.bytes().map(f64::from_le_bytes)
    }

    pub(crate) fn text(&mut self) -> Result<Option<String>> {
        let n = u32::from_le_bytes(self.bytes()?);
        if n == u32::MAX {
            return Ok(None);
        }
        let mut b = vec![0; n as usize];
        self.0.read_exact(&mut b).map_err(spool_error)?;
        String::from_utf8(b)
            .map(Some)
            .map_err(|e| spool_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_as_written() {
        let mut s = Spool::new().unwrap();
        for i in 0..3u64 {
            s.u64(i * 7).unwrap();
            s.u8(i as u8).unwrap();
            s.f64(i as f64 / 2.0).unwrap();
            s.text(Some("é\u{0}x")).unwrap();
            s.text(None).unwrap();
            s.text(Some("")).unwrap();
        }
        let mut r = s.read().unwrap();
        for i in 0..3u64 {
            assert!(!r.done().unwrap());
            assert_eq!(r.u64().unwrap(), i * 7);
            assert_eq!(r.u8().unwrap(), i as u8);
            assert_eq!(r.f64().unwrap(), i as f64 / 2.0);
            assert_eq!(r.text().unwrap().as_deref(), Some("é\u{0}x"));
            assert_eq!(r.text().unwrap(), None);
            assert_eq!(r.text().unwrap().as_deref(), Some(""));
        }
        assert!(r.done().unwrap());
    }
}
