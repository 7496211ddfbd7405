//! Offline analysis: drive the engine from capture files.
//!
//! A damaged file stops at the bad record, but not before the engine has been flushed: every alert
//! found before the damage (including messages only completed by the end of their flow) reaches the
//! sinks, and then the error is returned for the caller to report.

use std::path::Path;

use super::Engine;
use crate::alert::AlertSink;
use crate::capture::{CaptureError, FileReader};

/// Something that analyses frames: one [`Engine`], or the sharded workers of `parallel`.
pub trait Analyzer {
    fn start_file(&mut self, name: &str);
    /// One frame, `packet` its number in the file (from 1).
    fn frame(
        &mut self,
        link: crate::decode::LinkType,
        ts: crate::time::Timestamp,
        packet: u64,
        frame: &[u8],
        sink: &mut dyn AlertSink,
    );
    /// The file ended: close its flows (flows never continue across files).
    fn end_file(&mut self, sink: &mut dyn AlertSink);
}

impl Analyzer for Engine {
    fn start_file(&mut self, name: &str) {
        self.set_capture_name(name);
    }
    fn frame(
        &mut self,
        link: crate::decode::LinkType,
        ts: crate::time::Timestamp,
        packet: u64,
        frame: &[u8],
        sink: &mut dyn AlertSink,
    ) {
        self.process_numbered(link, ts, packet, frame, sink);
    }
    fn end_file(&mut self, sink: &mut dyn AlertSink) {
        self.finish(sink);
    }
}

/// Progress callbacks are rate-limited to one per this many packets.
const PROGRESS_EVERY: u64 = 8192;

/// What reading one file did.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileSummary {
    pub packets_read: u64,
    pub packets_filtered: u64,
    pub file_bytes: u64,
}

/// Read `path` through `engine`. `progress(engine, done_bytes, total_bytes)` is called now and then
/// (the engine is there so a UI can take a stats snapshot).
pub fn read_file<A: Analyzer>(
    engine: &mut A,
    path: &Path,
    filter: Option<&str>,
    sink: &mut dyn AlertSink,
    progress: &mut dyn FnMut(&A, u64, u64),
) -> Result<FileSummary, CaptureError> {
    let mut reader = FileReader::open(path, filter)?;
    engine.start_file(&path.display().to_string());
    let mut n: u64 = 0;
    let result = loop {
        match reader.next_packet() {
            Ok(Some(pkt)) => {
                engine.frame(pkt.link, pkt.ts, pkt.number, pkt.data, sink);
                n += 1;
                if n % PROGRESS_EVERY == 0 {
                    let (done, total) = reader.progress();
                    progress(engine, done, total);
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    engine.end_file(sink);
    let (done, total) = reader.progress();
    progress(engine, done, total);
    let summary = FileSummary {
        packets_read: reader.packets_read(),
        packets_filtered: reader.packets_filtered(),
        file_bytes: total,
    };
    result.map(|()| summary)
}
