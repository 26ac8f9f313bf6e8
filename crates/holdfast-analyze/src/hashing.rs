//! The reader a layer walk parses its tar through: it hashes every byte of the layer, so
//! the diff_id can be checked before the walk's result is cached.
//!
//! SHA-256 is most of what a walk costs besides the analyzers (about 1.4 GB/s with the
//! CPU's SHA instructions). When fewer layers are being walked than the pool has threads,
//! a core is idle, so the hash runs on a thread of its own, a few chunks behind the walk;
//! otherwise it runs inline, where it costs no copy.

use std::collections::VecDeque;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

/// Bytes read from the layer at a time when the hash runs on its own thread, and when a
/// skip is hashed inline.
pub(crate) const CHUNK_BYTES: usize = 128 << 10;

/// Chunks the walk may read ahead of the hashing thread; past that it waits. Bounds the
/// memory of a piped walk to about this many chunks, plus the few being reused.
const CHUNKS_AHEAD: usize = 16;

/// Bytes read between two looks at whether the hash should move between threads.
const REBALANCE_BYTES: u64 = 8 << 20;

/// Layer walks running now, to tell whether a core is free for a hashing thread.
static WALKS: AtomicUsize = AtomicUsize::new(0);

/// Counts a walk in [`WALKS`] while it lives.
struct WalkCount;

impl WalkCount {
    fn enter() -> Self {
        WALKS.fetch_add(1, Ordering::Relaxed);
        WalkCount
    }
}

impl Drop for WalkCount {
    fn drop(&mut self) {
        WALKS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where the hash runs.
enum Hash {
    /// On the walker's thread, over the bytes as they are read.
    Inline(Sha256),
    /// On a thread of its own; the walk reads from the chunks handed to it.
    Piped(Piped),
}

/// The walker's side of a hashing thread.
struct Piped {
    /// The chunk the walk reads from now, and how far.
    chunk: Arc<Vec<u8>>,
    len: usize,
    pos: usize,
    /// Chunks the walk is done with, for reuse once the hashing thread is done too.
    used: VecDeque<Arc<Vec<u8>>>,
    tx: SyncSender<(Arc<Vec<u8>>, usize)>,
    thread: JoinHandle<Sha256>,
}

impl Piped {
    /// Starts a hashing thread that goes on from `sha`; `None` if no thread can be had.
    fn start(mut sha: Sha256) -> Option<Self> {
        let (tx, rx) = sync_channel::<(Arc<Vec<u8>>, usize)>(CHUNKS_AHEAD);
        let thread = std::thread::Builder::new()
            .name("layer-hash".into())
            .spawn(move || {
                for (chunk, len) in rx {
                    sha.update(&chunk[..len]);
                }
                sha
            })
            .ok()?;
        Some(Piped {
            chunk: Arc::new(Vec::new()),
            len: 0,
            pos: 0,
            used: VecDeque::new(),
            tx,
            thread,
        })
    }

    /// Reads the next chunk of `inner` and hands it to the hashing thread. Returns the
    /// bytes read: 0 at the end of the stream.
    fn refill(&mut self, inner: &mut dyn Read) -> io::Result<usize> {
        // The oldest chunk the walk is done with, once the hashing thread is done too.
        let reusable = self.used.front().is_some_and(|c| Arc::strong_count(c) == 1);
        let mut next = reusable
            .then(|| self.used.pop_front())
            .flatten()
            .unwrap_or_else(|| Arc::new(vec![0; CHUNK_BYTES]));
        // Not shared (reused only once the thread let go, or new), so never copied.
        let buf = Arc::make_mut(&mut next);
        let n = loop {
            match inner.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            return Ok(0);
        }
        self.tx
            .send((Arc::clone(&next), n))
            .map_err(|_| io::Error::other("the layer's hashing thread stopped"))?;
        let done = std::mem::replace(&mut self.chunk, next);
        if !done.is_empty() {
            self.used.push_back(done);
            if self.used.len() > CHUNKS_AHEAD + 1 {
                self.used.pop_front();
            }
        }
        self.len = n;
        self.pos = 0;
        Ok(n)
    }

    /// Bytes of the current chunk the walk has not read yet.
    fn unread(&self) -> usize {
        self.len - self.pos
    }

    /// Waits for the hashing thread to hash everything sent and takes its state. A panic
    /// of that thread goes on in the walker's, as it would have inline.
    fn stop(self) -> Sha256 {
        drop(self.tx);
        self.thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// Reads a layer's stream and hashes every byte that passes, read or skipped: inline, or
/// on a thread of its own while fewer walks run than the pool has threads. It looks again
/// every [`REBALANCE_BYTES`], so a walk that had a core to itself hashes inline once the
/// other layers start, and the last layer walking gets the freed core back.
pub(crate) struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    hash: Hash,
    /// Where skipped bytes are read to be hashed inline; allocated on the first skip.
    skipped: Vec<u8>,
    /// The pool's threads, or `None` to keep the hash where it is (tests).
    threads: Option<usize>,
    /// The value of `bytes` at which [`HashingReader::rebalance`] looks next.
    next_look: u64,
    /// Bytes read from the stream.
    pub(crate) bytes: u64,
    _walk: WalkCount,
}

impl<'a> HashingReader<'a> {
    /// Hashes on a thread of its own while fewer walks run than the pool has threads.
    pub(crate) fn new(inner: &'a mut dyn Read) -> Self {
        Self::with(inner, Some(rayon::current_num_threads()), false)
    }

    /// Hashes inline or piped, as asked, and stays so (for tests of both).
    #[cfg(test)]
    pub(crate) fn new_as(inner: &'a mut dyn Read, piped: bool) -> Self {
        Self::with(inner, None, piped)
    }

    fn with(inner: &'a mut dyn Read, threads: Option<usize>, piped: bool) -> Self {
        let mut reader = HashingReader {
            inner,
            hash: Hash::Inline(Sha256::new()),
            skipped: Vec::new(),
            threads,
            next_look: 0,
            bytes: 0,
            _walk: WalkCount::enter(),
        };
        if piped {
            reader.move_to_thread();
        }
        reader
    }

    /// Moves the hash to a thread of its own, if one can be had.
    fn move_to_thread(&mut self) {
        if let Hash::Inline(sha) = &self.hash {
            if let Some(piped) = Piped::start(sha.clone()) {
                self.hash = Hash::Piped(piped);
            }
        }
    }

    /// Takes the hash back from its thread. Only between chunks: what the walk has not
    /// read of the current one would be lost.
    fn move_inline(&mut self) {
        self.hash = match std::mem::replace(&mut self.hash, Hash::Inline(Sha256::new())) {
            Hash::Piped(piped) => Hash::Inline(piped.stop()),
            inline => inline,
        };
    }

    /// Every [`REBALANCE_BYTES`], between chunks: moves the hash to a thread when a core is
    /// free, back inline when every thread walks a layer.
    fn rebalance(&mut self) {
        let Some(threads) = self.threads else {
            return;
        };
        if self.bytes < self.next_look || self.unread() > 0 {
            return;
        }
        self.next_look = self.bytes + REBALANCE_BYTES;
        let free_core = WALKS.load(Ordering::Relaxed) < threads;
        match self.hash {
            Hash::Inline(_) if free_core => self.move_to_thread(),
            Hash::Piped(_) if !free_core => self.move_inline(),
            _ => {}
        }
    }

    /// Bytes read from the stream but not yet given out: what a piped chunk has left.
    fn unread(&self) -> usize {
        match &self.hash {
            Hash::Piped(p) => p.unread(),
            Hash::Inline(_) => 0,
        }
    }

    /// The SHA-256 of every byte read.
    pub(crate) fn finish(self) -> [u8; 32] {
        let sha = match self.hash {
            Hash::Inline(sha) => sha,
            Hash::Piped(piped) => piped.stop(),
        };
        sha.finalize().into()
    }

    /// Moves the stream on by up to `len` bytes, hashing them: copied into `out` when it
    /// is given, otherwise skipped (`len` at most [`CHUNK_BYTES`] then). Returns how many;
    /// 0 at the end of the stream.
    fn advance(&mut self, out: Option<&mut [u8]>, len: usize) -> io::Result<usize> {
        self.rebalance();
        let n = match &mut self.hash {
            Hash::Piped(p) => {
                if p.unread() == 0 {
                    self.bytes += p.refill(self.inner)? as u64;
                }
                let n = len.min(p.unread());
                if let Some(out) = out {
                    out[..n].copy_from_slice(&p.chunk[p.pos..p.pos + n]);
                }
                p.pos += n;
                n
            }
            Hash::Inline(sha) => {
                let buf = match out {
                    Some(out) => &mut out[..len],
                    None => {
                        if self.skipped.is_empty() {
                            self.skipped = vec![0; CHUNK_BYTES];
                        }
                        &mut self.skipped[..len]
                    }
                };
                let n = self.inner.read(buf)?;
                sha.update(&buf[..n]);
                self.bytes += n as u64;
                n
            }
        };
        Ok(n)
    }
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len();
        self.advance(Some(buf), len)
    }
}

/// Forward only, for `tar`'s skip over the data of entries nobody read: the skipped bytes
/// are still hashed, read a chunk at a time into one buffer kept for the walk (or passed
/// over in the piped chunks). Without it `tar` skips through a zeroed 32 KiB buffer of its
/// own per entry, which was a pass of `memset` per entry and eight reads per 256 KiB.
impl Seek for HashingReader<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let forward_only = || {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "a layer stream only skips forward",
            )
        };
        let SeekFrom::Current(ahead) = pos else {
            return Err(forward_only());
        };
        let mut left = u64::try_from(ahead).map_err(|_| forward_only())?;
        while left > 0 {
            let step = usize::try_from(left).map_or(CHUNK_BYTES, |l| l.min(CHUNK_BYTES));
            match self.advance(None, step) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => left -= n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // The position: every byte given out or skipped.
        Ok(self.bytes - self.unread() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_io::Trickle;

    /// Inline and piped, reads and skips of every size: the same bytes come out, and the
    /// hash covers every byte of the stream.
    #[test]
    fn both_hashers_see_every_byte_read_or_skipped() {
        let data: Vec<u8> = (0..CHUNK_BYTES * 3 + 17).map(|i| (i % 253) as u8).collect();
        let want: [u8; 32] = Sha256::digest(&data).into();
        for piped in [false, true] {
            for chunk in [1 << 20, 7919, 1] {
                let mut stream = Trickle { data: &data, chunk };
                let mut r = HashingReader::new_as(&mut stream, piped);
                let mut out = Vec::new();
                let mut at = 0usize;
                let mut step = 1usize;
                while at < data.len() {
                    // Alternate reads and skips of growing sizes, across chunk ends.
                    let n = step.min(data.len() - at);
                    if step.is_multiple_of(2) {
                        let mut buf = vec![0; n];
                        r.read_exact(&mut buf).unwrap();
                        assert_eq!(buf, data[at..at + n], "piped {piped} chunk {chunk}");
                        out.extend_from_slice(&buf);
                    } else {
                        assert_eq!(
                            r.seek(SeekFrom::Current(n as i64)).unwrap(),
                            (at + n) as u64
                        );
                    }
                    at += n;
                    step = step * 3 + 1;
                }
                let mut rest = [0u8; 1];
                assert_eq!(r.read(&mut rest).unwrap(), 0);
                assert_eq!(r.bytes, data.len() as u64);
                assert_eq!(r.finish(), want, "piped {piped} chunk {chunk}");
            }
        }
    }

    /// The hash moves to a thread and back between chunks, many times in one stream, and
    /// still covers every byte once, in order.
    #[test]
    fn the_hash_moves_between_threads_and_stays_whole() {
        let data: Vec<u8> = (0..CHUNK_BYTES * 6 + 5).map(|i| (i % 241) as u8).collect();
        let want: [u8; 32] = Sha256::digest(&data).into();
        for chunk in [CHUNK_BYTES, 5000] {
            let mut stream = Trickle { data: &data, chunk };
            let mut r = HashingReader::new_as(&mut stream, false);
            let mut out = Vec::new();
            let mut buf = vec![0; 3000];
            let mut moves = 0;
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
                match &r.hash {
                    Hash::Inline(_) => r.move_to_thread(),
                    Hash::Piped(p) if p.unread() == 0 => r.move_inline(),
                    Hash::Piped(_) => continue,
                }
                moves += 1;
            }
            assert!(moves > 10, "{moves} moves");
            assert_eq!(out, data);
            assert_eq!(r.finish(), want, "chunk {chunk}");
        }
    }

    #[test]
    fn a_skip_past_the_end_is_an_error_and_a_backward_seek_refused() {
        for piped in [false, true] {
            let data = [7u8; 100];
            let mut stream = &data[..];
            let mut r = HashingReader::new_as(&mut stream, piped);
            assert!(r.seek(SeekFrom::Current(-1)).is_err());
            assert!(r.seek(SeekFrom::Start(0)).is_err());
            let e = r.seek(SeekFrom::Current(101)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        }
    }
}
