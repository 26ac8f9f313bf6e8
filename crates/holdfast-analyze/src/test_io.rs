//! Readers for the crate's tests.

use std::io::{self, Read};

/// Gives at most `chunk` bytes per read, as a pipe or a decompressor does.
pub(crate) struct Trickle<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) chunk: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}
