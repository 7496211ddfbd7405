//! Live capture from an interface through libpcap.
//!
//! The capture thread never waits on analysis. It copies frames into pre-allocated [`Batch`]es taken from
//! a free pool and hands full batches to the analysis thread; the analysis thread returns them to the
//! pool once processed. When analysis falls behind, the pool runs dry and the capture thread *drops*
//! packets and counts them (`analysis_dropped`) instead of stalling: a stalled capture thread would make
//! the kernel drop instead, silently and unrecoverably for the whole interface. In steady state nothing
//! is allocated: batches are reused.
//!
//! The handle is non-blocking and the thread waits with `poll(2)` on its descriptor (100 ms), because a
//! blocking handle with a timeout does not return on a quiet link on Linux, and the thread must notice the
//! stop flag (Ctrl-C, `--duration`) promptly.

use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::PacketRef;
use crate::decode::LinkType;
use crate::time::Timestamp;

/// Bytes of frame data one batch holds. 1 MiB is ~700 full-size frames: large enough that the channel
/// hand-off cost is amortised, small enough that a quiet link still sees alerts within one poll cycle
/// (batches are also sent whenever the kernel buffer is drained).
pub const BATCH_BYTES: usize = 1 << 20;
/// Frames one batch holds at most (many tiny frames).
pub const BATCH_FRAMES: usize = 8192;
/// Longest a partly filled batch waits before it is handed to analysis on a busy link (milliseconds).
pub const HANDOFF_MS: u64 = 20;
/// Batches in the pool: how far analysis may lag behind capture before packets are dropped (~64 MiB).
pub const POOL_BATCHES: usize = 64;

/// Errors opening or reading an interface. Each names the interface and, where it helps, the fix.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "{iface}: permission denied: capturing needs the CAP_NET_RAW and CAP_NET_ADMIN capabilities. \
         Run as root, or grant them once: sudo setcap cap_net_raw,cap_net_admin=eip {exe}"
    )]
    Permission { iface: String, exe: String },
    #[error("{iface}: no such interface (see `plainsight interfaces`)")]
    NoSuchInterface { iface: String },
    #[error("{iface}: interface is down (bring it up: ip link set {iface} up)")]
    InterfaceDown { iface: String },
    #[error("no capture interface found (see `plainsight interfaces`, or name one with -i)")]
    NoDefaultInterface,
    #[error("invalid filter {filter:?}: {reason}")]
    Filter { filter: String, reason: String },
    #[error("{iface}: {reason}")]
    Pcap { iface: String, reason: String },
    /// `--fanout`: the platform or the kernel cannot share the capture between handles.
    #[error("{iface}: --fanout: {reason}")]
    Fanout { iface: String, reason: String },
}

/// How to open the interface.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Interface name; `None` is libpcap's default device.
    pub iface: Option<String>,
    pub filter: Option<String>,
    pub promisc: bool,
    pub snaplen: i32,
    /// Kernel ring size. libpcap's default (2 MiB) drops bursts; 128 MiB absorbs a second of a busy
    /// gigabit link while the capture thread is descheduled (measured: scripts/live-bench.sh).
    pub buffer_size: i32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions { iface: None, filter: None, promisc: true, snaplen: 262_144, buffer_size: 128 << 20 }
    }
}

/// Frames captured together: one arena of bytes plus an index (no allocation per frame).
pub struct Batch {
    link: LinkType,
    data: Vec<u8>,
    index: Vec<(Timestamp, u32, u32, u32)>,
}

impl Batch {
    pub fn new(link: LinkType) -> Batch {
        Batch { link, data: Vec::with_capacity(BATCH_BYTES), index: Vec::with_capacity(BATCH_FRAMES) }
    }
    pub fn clear(&mut self) {
        self.data.clear();
        self.index.clear();
    }
    pub fn len(&self) -> usize {
        self.index.len()
    }
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
    /// Append a frame; false when the batch is full (the frame was not added).
    pub fn push(&mut self, ts: Timestamp, frame: &[u8], orig_len: u32) -> bool {
        if self.index.len() >= BATCH_FRAMES || (self.data.len() + frame.len() > BATCH_BYTES && !self.index.is_empty()) {
            return false;
        }
        let start = self.data.len() as u32;
        self.data.extend_from_slice(frame);
        self.index.push((ts, start, frame.len() as u32, orig_len));
        true
    }
    pub fn iter(&self) -> impl Iterator<Item = PacketRef<'_>> {
        self.index.iter().filter_map(move |&(ts, start, len, orig_len)| {
            let data = self.data.get(start as usize..(start as usize + len as usize))?;
            Some(PacketRef { link: self.link, ts, data, orig_len, number: 0 })
        })
    }
}

/// Counters shared between the capture thread and whoever displays them.
#[derive(Debug, Default)]
pub struct LiveCounters {
    /// Frames handed to analysis.
    pub captured: AtomicU64,
    pub captured_bytes: AtomicU64,
    /// Frames dropped because analysis was behind (the pool was empty).
    pub analysis_dropped: AtomicU64,
    /// From pcap_stats: received by the filter, dropped by the kernel, dropped by the interface.
    pub kernel_received: AtomicU64,
    pub kernel_dropped: AtomicU64,
    pub if_dropped: AtomicU64,
}

/// An open interface.
pub struct LiveCapture {
    cap: pcap::Capture<pcap::Active>,
    link: LinkType,
    iface: String,
}

fn exe_name() -> String {
    std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "plainsight".into())
}

fn classify(iface: &str, e: pcap::Error) -> LiveError {
    let reason = e.to_string();
    let lower = reason.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        LiveError::Permission { iface: iface.into(), exe: exe_name() }
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        LiveError::NoSuchInterface { iface: iface.into() }
    } else if lower.contains("is not up") || lower.contains("network is down") {
        LiveError::InterfaceDown { iface: iface.into() }
    } else {
        LiveError::Pcap { iface: iface.into(), reason }
    }
}

impl LiveCapture {
    /// Open and activate the interface (needs the capture privileges; drop them after this).
    pub fn open(opts: &LiveOptions) -> Result<LiveCapture, LiveError> {
        let iface = match &opts.iface {
            Some(i) => i.clone(),
            None => {
                pcap::Device::lookup()
                    .map_err(|e| LiveError::Pcap { iface: "default".into(), reason: e.to_string() })?
                    .ok_or(LiveError::NoDefaultInterface)?
                    .name
            }
        };
        // libpcap opens a down interface without complaint and then sees nothing: say so up front.
        if let Ok(devs) = pcap::Device::list() {
            match devs.iter().find(|d| d.name == iface) {
                Some(d) if !d.flags.is_up() => return Err(LiveError::InterfaceDown { iface }),
                Some(_) => {}
                None if iface != "any" => return Err(LiveError::NoSuchInterface { iface }),
                None => {}
            }
        }
        let inactive = pcap::Capture::from_device(iface.as_str()).map_err(|e| classify(&iface, e))?;
        let cap = inactive
            .promisc(opts.promisc)
            .snaplen(opts.snaplen)
            .immediate_mode(true)
            .buffer_size(opts.buffer_size)
            .timeout(100)
            .open()
            .map_err(|e| classify(&iface, e))?;
        let mut cap = cap.setnonblock().map_err(|e| classify(&iface, e))?;
        if let Some(f) = &opts.filter {
            cap.filter(f, true).map_err(|e| LiveError::Filter { filter: f.clone(), reason: e.to_string() })?;
        }
        let link = LinkType(cap.get_datalink().0 as u32);
        Ok(LiveCapture { cap, link, iface })
    }

    pub fn link(&self) -> LinkType {
        self.link
    }

    /// The handle's packet socket (`capture::fanout` joins it to a fanout group).
    pub(crate) fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.cap.as_fd()
    }

    /// Replace the kernel filter; `None` accepts every packet. libpcap filters what is already in the
    /// ring with the new program too, so nothing captured under the old one is returned after this.
    pub(crate) fn set_filter(&mut self, filter: Option<&str>) -> Result<(), LiveError> {
        let f = filter.unwrap_or("");
        self.cap.filter(f, true).map_err(|e| LiveError::Filter { filter: f.to_string(), reason: e.to_string() })
    }
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// A pool of empty batches for this capture's link type.
    pub fn pool(&self, n: usize) -> Vec<Batch> {
        (0..n).map(|_| Batch::new(self.link)).collect()
    }

    /// The capture loop (run it on its own thread) until `stop` is set or the interface fails.
    pub fn run(
        mut self,
        full: Sender<Batch>,
        free: Receiver<Batch>,
        stop: Arc<AtomicBool>,
        counters: Arc<LiveCounters>,
    ) -> Result<(), LiveError> {
        let mut current: Option<Batch> = None;
        let mut batch_started: Option<Instant> = None;
        let mut last_stats = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let ready = {
                let fd = self.cap.as_fd();
                let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLIN)];
                nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16)).unwrap_or(0)
            };
            if ready > 0 {
                let counters2 = &counters;
                let mut handed_flag = false;
                let handed = &mut handed_flag;
                let res = self.cap.dispatch(Some(BATCH_FRAMES), |pkt| {
                    let ts = Timestamp::from_secs_micros(pkt.header.ts.tv_sec, pkt.header.ts.tv_usec);
                    let frame = pkt.data;
                    loop {
                        if current.is_none() {
                            current = free.try_recv().ok();
                        }
                        let Some(b) = current.as_mut() else {
                            counters2.analysis_dropped.fetch_add(1, Ordering::Relaxed);
                            return;
                        };
                        if b.push(ts, frame, pkt.header.len) {
                            counters2.captured.fetch_add(1, Ordering::Relaxed);
                            counters2.captured_bytes.fetch_add(frame.len() as u64, Ordering::Relaxed);
                            return;
                        }
                        // Full: hand it over and take another.
                        if let Some(b) = current.take() {
                            let _ = full.send(b);
                        }
                        *handed = true;
                    }
                });
                if let Err(e) = res {
                    return Err(classify(&self.iface, e));
                }
                if handed_flag {
                    batch_started = None;
                }
            }
            // Hand a partly filled batch over when the link went quiet or it has waited long enough:
            // low latency on quiet links, full batches (few hand-offs, a deep buffer) on busy ones.
            let waited = batch_started.is_some_and(|t: Instant| t.elapsed() >= Duration::from_millis(HANDOFF_MS));
            if current.as_ref().is_some_and(|b| !b.is_empty()) && (ready == 0 || waited) {
                if let Some(b) = current.take() {
                    batch_started = None;
                    if full.send(b).is_err() {
                        return Ok(()); // analysis is gone: nothing left to do
                    }
                }
            }
            if batch_started.is_none() && current.as_ref().is_some_and(|b| !b.is_empty()) {
                batch_started = Some(Instant::now());
            }
            if last_stats.elapsed() >= Duration::from_millis(500) {
                last_stats = Instant::now();
                self.update_stats(&counters);
            }
        }
        self.update_stats(&counters);
        if let Some(b) = current.take() {
            if !b.is_empty() {
                let _ = full.send(b);
            }
        }
        Ok(())
    }

    fn update_stats(&mut self, counters: &LiveCounters) {
        if let Ok(s) = self.cap.stats() {
            counters.kernel_received.store(s.received as u64, Ordering::Relaxed);
            counters.kernel_dropped.store(s.dropped as u64, Ordering::Relaxed);
            counters.if_dropped.store(s.if_dropped as u64, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_holds_frames_without_per_frame_allocation_and_reports_full() {
        let mut b = Batch::new(LinkType::ETHERNET);
        let cap = b.data.capacity();
        let frame = [0xabu8; 1500];
        let mut n = 0;
        while b.push(Timestamp(n), &frame, 1500) {
            n += 1;
        }
        assert_eq!(n as usize, BATCH_BYTES / 1500);
        assert_eq!(b.data.capacity(), cap, "arena must not reallocate");
        let got: Vec<_> = b.iter().collect();
        assert_eq!(got.len(), n as usize);
        assert_eq!(got[3].ts, Timestamp(3));
        assert_eq!(got[3].data, &frame[..]);
        b.clear();
        assert!(b.is_empty());
    }

    #[test]
    fn oversized_frame_still_fits_an_empty_batch() {
        let mut b = Batch::new(LinkType::ETHERNET);
        let big = vec![1u8; BATCH_BYTES + 10];
        assert!(b.push(Timestamp(0), &big, big.len() as u32));
        assert!(!b.push(Timestamp(1), &[1, 2, 3], 3));
    }
}
