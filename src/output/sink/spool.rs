//! Where events wait while the engine is away: a bounded backlog, in order, oldest out first.
//!
//! [`DiskSpool`] (`--spool DIR`) survives the process: one directory per sink, holding numbered segment
//! files (`00000000000000000001.jsonl`, one event per line, each created by
//! [`create_private`](crate::output::file::create_private): 0600, never through a link) and a `head`
//! file saying how far the oldest segment has been delivered. A run appends to segments of its own
//! (numbered after every segment already there) and replays from the head, so the events a previous
//! run left are delivered first, in order, by the next run that uses the same directory. A consumed
//! segment is deleted; `head` is replaced (written aside, then renamed) after each delivered batch, so
//! a crash delivers a batch twice at worst, never skips one (at least once: each event carries its id
//! for consumers to drop duplicates).
//!
//! The directory must be ours and writable by nobody else: whoever can write there could plant lines
//! that we would replay into the SIEM as our events. A lock file keeps two runs off one directory.
//!
//! Without `--spool`, [`MemoryBacklog`] holds the events in memory under the same interface (lost if
//! the process ends before the engine is back, and said so at the end).
//!
//! Both are bounded in bytes (`--spool-max`; in memory, [`MEMORY_BACKLOG_BYTES`] at most, reserved off
//! `--memcap` and counted with each line's allocation): an event that does not fit is dropped and
//! counted (`dropped, spool full`) rather than evicting an older one, which keeps what is kept
//! contiguous and in order.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::output::file::create_private;

/// Without `--spool`, events wait in memory up to this many bytes (their lines' allocations
/// included), reserved off `--memcap` when the sink starts: enough for minutes of a busy sensor's
/// alerts (an alert line is about 1 KiB). A budget too small to reserve it keeps less.
pub const MEMORY_BACKLOG_BYTES: u64 = 8 << 20;

/// What a line held in memory costs: its bytes and its `String`.
pub fn line_cost(l: &str) -> u64 {
    (l.len() + std::mem::size_of::<String>()) as u64
}
/// A segment file is closed and a new one started past this size: a delivered segment is deleted
/// whole, so the disk holds at most this much more than `--spool-max` of delivered lines.
pub const SEGMENT_BYTES: u64 = 4 << 20;

/// A backlog of event lines (no newline inside; each is one JSON object).
pub trait Backlog: Send {
    /// Events held, not yet delivered.
    fn events(&self) -> u64;
    /// Bytes held (what counts against the bound).
    fn bytes(&self) -> u64;
    /// Append in order; returns how many did not fit (dropped). An error means the lines from the
    /// first that failed on are lost (the count of held events stays exact).
    fn append(&mut self, lines: &[String]) -> io::Result<u64>;
    /// Up to `max` of the oldest events, still held until [`Backlog::consume`].
    fn peek(&mut self, max: usize) -> io::Result<Vec<String>>;
    /// The `n` oldest events were delivered: forget them.
    fn consume(&mut self, n: usize) -> io::Result<()>;
    /// Everything written to disk (no-op in memory).
    fn close(&mut self) -> io::Result<()>;
    /// The spool directory, if on disk.
    fn location(&self) -> Option<&Path>;
    /// Lines found damaged in a spool left by an earlier run (cut by a crash), skipped.
    fn damaged(&self) -> u64 {
        0
    }
}

/// In-memory backlog (no `--spool`).
pub struct MemoryBacklog {
    lines: VecDeque<String>,
    bytes: u64,
    max: u64,
}

impl MemoryBacklog {
    pub fn new(max: u64) -> MemoryBacklog {
        MemoryBacklog { lines: VecDeque::new(), bytes: 0, max }
    }
}

impl Backlog for MemoryBacklog {
    fn events(&self) -> u64 {
        self.lines.len() as u64
    }
    fn bytes(&self) -> u64 {
        self.bytes
    }
    fn append(&mut self, lines: &[String]) -> io::Result<u64> {
        let mut dropped = 0;
        for l in lines {
            let size = line_cost(l);
            if self.bytes + size > self.max {
                dropped += 1;
                continue;
            }
            self.bytes += size;
            self.lines.push_back(l.clone());
        }
        Ok(dropped)
    }
    fn peek(&mut self, max: usize) -> io::Result<Vec<String>> {
        Ok(self.lines.iter().take(max).cloned().collect())
    }
    fn consume(&mut self, n: usize) -> io::Result<()> {
        for _ in 0..n {
            if let Some(l) = self.lines.pop_front() {
                self.bytes -= line_cost(&l);
            }
        }
        Ok(())
    }
    fn close(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn location(&self) -> Option<&Path> {
        None
    }
}

/// Why a spool directory was not used.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("{}: {what}", path.display())]
    Unsafe { path: PathBuf, what: String },
    #[error("{}: in use by another plainsight run (one spool directory per sink and run)", path.display())]
    Locked { path: PathBuf },
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
}

struct Segment {
    seq: u64,
    /// Bytes in the file (as far as we know: what we wrote, or its size when found).
    size: u64,
}

/// The on-disk spool of one sink (see the module documentation).
pub struct DiskSpool {
    dir: PathBuf,
    max: u64,
    segments: VecDeque<Segment>,
    /// Delivered bytes of `segments[0]`.
    head_offset: u64,
    /// Reads `segments[0]` from `head_offset` + the bytes of `ahead`.
    reader: Option<BufReader<File>>,
    /// Lines read but not yet delivered, oldest first, each with how far its delivery moves the head
    /// (its bytes and newline, and those of any damaged line skipped just before it).
    ahead: VecDeque<(String, u64)>,
    /// Bytes of damaged lines skipped since the last line put in `ahead`.
    pending_skip: u64,
    /// Bytes read past the last full line (a line still being cut by a crash, or damaged).
    partial: Vec<u8>,
    /// The segment this run appends to (always the last of `segments`).
    writer: Option<BufWriter<File>>,
    next_seq: u64,
    events: u64,
    bytes: u64,
    damaged: u64,
    _lock: Flock<File>,
}

impl DiskSpool {
    /// Open (creating it, mode 0700) the spool directory `dir`, lock it, and take stock of what an
    /// earlier run left there.
    pub fn open(dir: &Path, max: u64) -> Result<DiskSpool, SpoolError> {
        let io_err = |error: io::Error| SpoolError::Io { path: dir.to_path_buf(), error };
        private_dir(dir)?;
        let lock_path = dir.join("lock");
        let lock_file = create_private(&lock_path)
            .map_err(|e| SpoolError::Unsafe { path: lock_path.clone(), what: e.to_string() })?;
        let lock = Flock::lock(lock_file, FlockArg::LockExclusiveNonblock)
            .map_err(|_| SpoolError::Locked { path: dir.to_path_buf() })?;
        let mut seqs = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_err)? {
            let entry = entry.map_err(io_err)?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(seq) = name.strip_suffix(".jsonl").filter(|s| s.len() == 20).and_then(|s| s.parse::<u64>().ok())
            {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable();
        let (head_seq, head_off) = read_head(&dir.join("head")).unwrap_or((0, 0));
        let mut spool = DiskSpool {
            dir: dir.to_path_buf(),
            max,
            segments: VecDeque::new(),
            head_offset: 0,
            reader: None,
            ahead: VecDeque::new(),
            pending_skip: 0,
            partial: Vec::new(),
            writer: None,
            next_seq: seqs.last().map_or(1, |s| s + 1),
            events: 0,
            bytes: 0,
            damaged: 0,
            _lock: lock,
        };
        for seq in seqs {
            let path = spool.segment_path(seq);
            if seq < head_seq {
                // Delivered, but the run stopped before deleting it.
                std::fs::remove_file(&path).map_err(io_err)?;
                continue;
            }
            let mut f = open_read(&path).map_err(|error| SpoolError::Io { path: path.clone(), error })?;
            let size = f.metadata().map_err(io_err)?.len();
            let from = if seq == head_seq && spool.segments.is_empty() { head_off.min(size) } else { 0 };
            if from > 0 {
                f.seek(SeekFrom::Start(from)).map_err(io_err)?;
                spool.head_offset = from;
            }
            spool.events += count_lines(f).map_err(io_err)?;
            spool.bytes += size - from;
            spool.segments.push_back(Segment { seq, size });
        }
        Ok(spool)
    }

    fn segment_path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}.jsonl"))
    }

    /// Whether `segments[0]` is the one being appended to (its end is not the end of its data).
    fn head_is_writing(&self) -> bool {
        self.writer.is_some() && self.segments.len() == 1
    }

    fn save_head(&self) -> io::Result<()> {
        let Some(first) = self.segments.front() else {
            return match std::fs::remove_file(self.dir.join("head")) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        };
        let tmp = self.dir.join("head.tmp");
        let mut f = create_private(&tmp).map_err(io::Error::other)?;
        writeln!(f, "{} {}", first.seq, self.head_offset)?;
        drop(f);
        std::fs::rename(&tmp, self.dir.join("head"))
    }

    /// A new segment for this run's appends.
    fn start_segment(&mut self) -> io::Result<()> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let f = create_private(&self.segment_path(seq)).map_err(io::Error::other)?;
        self.writer = Some(BufWriter::with_capacity(64 << 10, f));
        self.segments.push_back(Segment { seq, size: 0 });
        Ok(())
    }
}

impl Backlog for DiskSpool {
    fn events(&self) -> u64 {
        self.events
    }
    fn bytes(&self) -> u64 {
        self.bytes
    }

    fn append(&mut self, lines: &[String]) -> io::Result<u64> {
        let mut dropped = 0;
        for l in lines {
            let size = l.len() as u64 + 1;
            if self.bytes + size > self.max {
                dropped += 1;
                continue;
            }
            let full = self.segments.back().is_none_or(|s| s.size >= SEGMENT_BYTES);
            if self.writer.is_none() || full {
                if let Some(mut w) = self.writer.take() {
                    w.flush()?;
                }
                self.start_segment()?;
            }
            let (Some(w), Some(seg)) = (self.writer.as_mut(), self.segments.back_mut()) else {
                return Err(io::Error::other("spool segment not open"));
            };
            let res = w.write_all(l.as_bytes()).and_then(|()| w.write_all(b"\n"));
            if let Err(e) = res {
                // The segment may end in a cut line: never append after it (it is skipped as damaged
                // when replayed).
                self.writer = None;
                return Err(e);
            }
            seg.size += size;
            self.bytes += size;
            self.events += 1;
        }
        if let Some(w) = self.writer.as_mut() {
            // Whole lines reach the file before anyone reads it back (the reader is this thread).
            if let Err(e) = w.flush() {
                self.writer = None;
                return Err(e);
            }
        }
        Ok(dropped)
    }

    fn peek(&mut self, max: usize) -> io::Result<Vec<String>> {
        while self.ahead.len() < max {
            let Some(first) = self.segments.front() else { break };
            let seq = first.seq;
            if self.reader.is_none() {
                let mut f = open_read(&self.segment_path(seq))?;
                let at = self.head_offset + self.ahead.iter().map(|(_, n)| n).sum::<u64>() + self.pending_skip;
                f.seek(SeekFrom::Start(at))?;
                self.reader = Some(BufReader::with_capacity(64 << 10, f));
                self.partial.clear();
            }
            let Some(r) = self.reader.as_mut() else { break };
            let n = r.read_until(b'\n', &mut self.partial)?;
            if n > 0 && self.partial.last() == Some(&b'\n') {
                let raw = std::mem::take(&mut self.partial);
                let len = raw.len() as u64;
                match String::from_utf8(raw) {
                    Ok(mut s) if s.len() > 1 => {
                        s.pop();
                        let advance = len + std::mem::take(&mut self.pending_skip);
                        self.ahead.push_back((s, advance));
                    }
                    _ => {
                        // Not one of our lines (an empty line, bytes that are not UTF-8): skipped.
                        // The head moves past it with the next line delivered (or at once when
                        // nothing read is waiting before it).
                        self.damaged += 1;
                        self.events = self.events.saturating_sub(1);
                        self.bytes = self.bytes.saturating_sub(len);
                        if self.ahead.is_empty() {
                            self.head_offset += len;
                        } else {
                            self.pending_skip += len;
                        }
                    }
                }
                continue;
            }
            // The end of the segment's data for now.
            if self.head_is_writing() {
                break;
            }
            if !self.ahead.is_empty() {
                // Deliver what was read before letting the segment go.
                break;
            }
            if !self.partial.is_empty() {
                // A line cut by a crash at the end of an earlier run's segment (no newline: it was
                // not counted as an event).
                self.damaged += 1;
                self.bytes = self.bytes.saturating_sub(self.partial.len() as u64);
                self.partial.clear();
            }
            self.reader = None;
            self.segments.pop_front();
            self.head_offset = 0;
            self.pending_skip = 0;
            let _ = std::fs::remove_file(self.segment_path(seq));
            self.save_head()?;
        }
        if self.ahead.is_empty() && self.segments.len() <= 1 && self.partial.is_empty() {
            // Everything there is has been read: whatever the count says, nothing is held (a count
            // taken from a damaged spool may be off).
            self.events = 0;
        }
        Ok(self.ahead.iter().take(max).map(|(s, _)| s.clone()).collect())
    }

    fn consume(&mut self, n: usize) -> io::Result<()> {
        for _ in 0..n {
            let Some((line, advance)) = self.ahead.pop_front() else { break };
            self.head_offset += advance;
            self.bytes = self.bytes.saturating_sub(line.len() as u64 + 1);
            self.events = self.events.saturating_sub(1);
        }
        self.save_head()
    }

    fn close(&mut self) -> io::Result<()> {
        if let Some(mut w) = self.writer.take() {
            w.flush()?;
        }
        if self.events == 0 {
            // Nothing left: leave an empty directory (the lock file aside).
            for s in std::mem::take(&mut self.segments) {
                let _ = std::fs::remove_file(self.segment_path(s.seq));
            }
            self.head_offset = 0;
        }
        self.save_head()
    }

    fn location(&self) -> Option<&Path> {
        Some(&self.dir)
    }

    fn damaged(&self) -> u64 {
        self.damaged
    }
}

/// `dir` created with mode 0700 if missing; refused when it is a link, not a directory, another
/// user's, or writable by group or others.
fn private_dir(dir: &Path) -> Result<(), SpoolError> {
    let unsafe_ = |what: &str| SpoolError::Unsafe { path: dir.to_path_buf(), what: what.to_string() };
    if let Err(e) = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        return Err(SpoolError::Io { path: dir.to_path_buf(), error: e });
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|error| SpoolError::Io { path: dir.to_path_buf(), error })?;
    if meta.file_type().is_symlink() {
        return Err(unsafe_("is a symbolic link: refusing to follow it"));
    }
    if !meta.is_dir() {
        return Err(unsafe_("is not a directory"));
    }
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        return Err(unsafe_(&format!("owned by uid {}, not by us: refusing to spool events into it", meta.uid())));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(unsafe_(&format!(
            "writable by others (mode {:o}): they could plant events for us to replay; chmod go-w it",
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

/// Open a segment for reading: never through a link, and only a regular file of ours.
fn open_read(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new().read(true).custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC).open(path)?;
    let m = f.metadata()?;
    if !m.is_file() || m.uid() != nix::unistd::geteuid().as_raw() {
        return Err(io::Error::other(format!("{}: not a regular file of ours", path.display())));
    }
    Ok(f)
}

fn read_head(path: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let (a, b) = text.trim().split_once(' ')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn count_lines(f: File) -> io::Result<u64> {
    let mut r = BufReader::with_capacity(64 << 10, f);
    let mut n = 0u64;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(n);
        }
        n += memchr::memchr_iter(b'\n', buf).count() as u64;
        let len = buf.len();
        r.consume(len);
    }
}
