//! Capture: packet sources (capture files and live interfaces). The only stage that knows libpcap.
//!
//! STUB: the capture helper implements this module. The public surface below is the contract.

pub mod live;

use std::path::PathBuf;

use crate::decode::LinkType;
use crate::time::Timestamp;

/// One captured frame, borrowing the source's buffer until the next call.
#[derive(Clone, Copy, Debug)]
pub struct PacketRef<'a> {
    pub link: LinkType,
    pub ts: Timestamp,
    pub data: &'a [u8],
    /// Length on the wire (may exceed `data.len()` when the snap length cut the frame).
    pub orig_len: u32,
}

/// Errors of packet sources. Each names the file or interface.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: cannot open: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a pcap or pcapng file")]
    NotACapture { path: PathBuf },
    #[error("{path}: truncated at byte {offset} (after {packets} packets): {reason}")]
    Truncated { path: PathBuf, offset: u64, packets: u64, reason: String },
    #[error("{path}: corrupt at byte {offset} (after {packets} packets): {reason}")]
    Corrupt { path: PathBuf, offset: u64, packets: u64, reason: String },
    #[error("{path}: read error at byte {offset}: {source}")]
    Read { path: PathBuf, offset: u64, source: std::io::Error },
    #[error("invalid filter {filter:?}: {reason}")]
    Filter { filter: String, reason: String },
}

/// Reads a pcap or pcapng file record by record (streaming: memory does not grow with file size).
pub struct FileReader {}

impl FileReader {
    /// Open `path`; `filter` is a BPF expression applied to every packet (compiled per link type).
    pub fn open(_path: &std::path::Path, _filter: Option<&str>) -> Result<FileReader, CaptureError> {
        Err(CaptureError::NotACapture { path: PathBuf::new() })
    }
    /// Next packet that passes the filter; `Ok(None)` at a clean end of file.
    pub fn next_packet(&mut self) -> Result<Option<PacketRef<'_>>, CaptureError> {
        Ok(None)
    }
    /// (bytes consumed, file size), for progress.
    pub fn progress(&self) -> (u64, u64) {
        (0, 0)
    }
    /// Packets read from the file (before the filter).
    pub fn packets_read(&self) -> u64 {
        0
    }
    /// Packets the BPF filter rejected.
    pub fn packets_filtered(&self) -> u64 {
        0
    }
}
