//! Capture: packet sources (capture files and live interfaces). The only stage that knows libpcap.
//!
//! - [`FileReader`]: pcap and pcapng files, streaming, with exact offsets for errors and progress.
//! - [`live`]: an interface through libpcap, on a capture thread that never waits on analysis.
//! - [`fanout`]: several handles on one interface sharing its flows (`live --fanout`, Linux).
//! - [`writer`]: pcap and pcapng writers (tests, generators).

pub mod fanout;
mod file;
pub mod inputs;
pub mod live;
pub mod ring;
pub mod writer;

pub use file::FileReader;

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
    /// The frame's number in its file, from 1, as Wireshark numbers it (records rejected by the filter
    /// counted too); 0 from a source that does not number (live batches: the engine numbers them).
    pub number: u64,
}

/// Errors of packet sources. Each names the file or interface.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: cannot open: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a pcap or pcapng file{hint}")]
    NotACapture { path: PathBuf, hint: &'static str },
    #[error("{path}: truncated at byte {offset} (after {packets} packets): {reason}")]
    Truncated { path: PathBuf, offset: u64, packets: u64, reason: String },
    #[error("{path}: corrupt at byte {offset} (after {packets} packets): {reason}")]
    Corrupt { path: PathBuf, offset: u64, packets: u64, reason: String },
    #[error("{path}: read error at byte {offset}: {source}")]
    Read { path: PathBuf, offset: u64, source: std::io::Error },
    #[error("invalid filter {filter:?}: {reason}")]
    Filter { filter: String, reason: String },
}

/// A capture device as `plainsight interfaces` lists it.
#[derive(Clone, Debug)]
pub struct InterfaceInfo {
    pub name: String,
    pub description: Option<String>,
    pub addresses: Vec<String>,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
    pub wireless: bool,
}

/// Every device libpcap can capture on.
pub fn interfaces() -> Result<Vec<InterfaceInfo>, String> {
    let devs = pcap::Device::list().map_err(|e| e.to_string())?;
    Ok(devs
        .into_iter()
        .map(|d| InterfaceInfo {
            addresses: d.addresses.iter().map(|a| a.addr.to_string()).collect(),
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            loopback: d.flags.is_loopback(),
            wireless: d.flags.is_wireless(),
            name: d.name,
            description: d.desc,
        })
        .collect())
}
