//! `live --fanout N`: N capture handles on one interface sharing its packets, flow by flow (Linux).
//!
//! Each handle is a libpcap packet socket joined to one `PACKET_FANOUT` group of type
//! `PACKET_FANOUT_HASH`: the kernel hands each packet to exactly one socket of the group, chosen by the
//! flow hash of its 5-tuple, which is symmetric (the flow dissector orders the two endpoints before
//! hashing), so both directions of a connection reach the same socket and so the same analysis worker,
//! as with Suricata's and Zeek's AF_PACKET workers. `PACKET_FANOUT_FLAG_DEFRAG` has the kernel put IP
//! fragments back together before hashing: a later fragment has no ports, and without the flag the
//! pieces of one datagram could be spread over workers that each hold only part of it.
//!
//! Opening is ordered so that no packet is seen twice and none is seen by a handle outside the group:
//! every handle opens with a filter that accepts nothing, joins the group, and only when all have
//! joined gets the real filter (libpcap filters what is already in a ring with the new program, so
//! nothing captured before that is returned).
//!
//! The group id is unique per process (derived from the pid): fanout groups are per network namespace
//! and interface-bound, and a second `plainsight live --fanout` on the same interface must not join
//! (and split) this one's group.
//!
//! The one `setsockopt` is the crate's only unsafe code ([`join`]).

use super::live::{LiveCapture, LiveError, LiveOptions};

/// Most handles (and workers) a group may have: the kernel's own limit on a fanout group's members is
/// 65,536, but past one per core a worker only waits for the others; 64 covers any sensor.
pub const MAX_FANOUT: usize = 64;

/// A BPF filter that accepts no packet (no frame is one byte long): the handles wait on it until
/// every one has joined the group.
const NOTHING: &str = "less 1";

/// The process's fanout group id: from the pid, folded into the 16 bits the kernel takes.
pub fn group_id() -> u16 {
    let pid = std::process::id();
    (pid ^ (pid >> 16)) as u16
}

/// Open `n` handles on `opts.iface`, joined in one hash fanout group, each with `opts.filter`.
pub fn open_group(opts: &LiveOptions, n: usize) -> Result<Vec<LiveCapture>, LiveError> {
    let name = || opts.iface.clone().unwrap_or_else(|| "default".into());
    if !(1..=MAX_FANOUT).contains(&n) {
        return Err(LiveError::Fanout { iface: name(), reason: format!("{n} handles: give 1 to {MAX_FANOUT}") });
    }
    let mut waiting = LiveOptions { filter: Some(NOTHING.into()), ..opts.clone() };
    let mut caps = Vec::with_capacity(n);
    let group = group_id();
    for _ in 0..n {
        let cap = LiveCapture::open(&waiting)?;
        // Every handle on the same interface (libpcap's default device is looked up once).
        waiting.iface = Some(cap.iface().to_string());
        join(&cap, group).map_err(|reason| LiveError::Fanout { iface: cap.iface().to_string(), reason })?;
        caps.push(cap);
    }
    for cap in &mut caps {
        cap.set_filter(opts.filter.as_deref())?;
    }
    Ok(caps)
}

/// Join `cap`'s socket to hash fanout group `group` (with defragmentation).
#[cfg(target_os = "linux")]
fn join(cap: &LiveCapture, group: u16) -> Result<(), String> {
    use nix::libc;
    use std::os::fd::AsRawFd;

    let kind = libc::PACKET_FANOUT_HASH | libc::PACKET_FANOUT_FLAG_DEFRAG;
    // The option's argument: the group id in the low 16 bits, type and flags in the high 16.
    let arg: libc::c_int = (u32::from(group) | (kind << 16)) as libc::c_int;
    let fd = cap.fd();
    let rc = setsockopt_int(fd.as_raw_fd(), libc::SOL_PACKET, libc::PACKET_FANOUT, arg);
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    Err(match e.raw_os_error() {
        Some(libc::EINVAL) => format!(
            "the kernel refused to join packet fanout group {group} ({e}): a group of that id with other \
             settings exists (another capture's), or the kernel lacks hash fanout with defragmentation \
             (Linux 3.1 or later); run without --fanout"
        ),
        Some(libc::ENOPROTOOPT) => {
            format!("this kernel has no PACKET_FANOUT (Linux 3.1 or later needed); run without --fanout ({e})")
        }
        _ => format!("cannot join packet fanout group {group}: {e}; run without --fanout"),
    })
}

/// `setsockopt(fd, level, name, &value, sizeof(int))`: the crate's one unsafe call.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn setsockopt_int(
    fd: std::os::fd::RawFd,
    level: nix::libc::c_int,
    name: nix::libc::c_int,
    value: nix::libc::c_int,
) -> i32 {
    // SAFETY: `fd` is borrowed from a live libpcap handle by the caller (`join` holds a `BorrowedFd`
    // for the duration of the call), so it is an open descriptor this process owns. The kernel reads
    // exactly `optlen` bytes from `optval`, and `optval` points at `value`, a `c_int` on this stack
    // frame that outlives the call, with `optlen` its exact size. Nothing is written through the
    // pointer and nothing keeps it after the call returns; a failure is reported through errno and the
    // return value, which the caller checks.
    unsafe {
        nix::libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast::<nix::libc::c_void>(),
            std::mem::size_of::<nix::libc::c_int>() as nix::libc::socklen_t,
        )
    }
}

#[cfg(not(target_os = "linux"))]
fn join(_cap: &LiveCapture, _group: u16) -> Result<(), String> {
    Err("packet fanout (PACKET_FANOUT) exists only on Linux: run without --fanout".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_id_is_the_same_for_the_whole_process() {
        assert_eq!(group_id(), group_id());
    }

    #[test]
    fn a_group_of_no_handle_or_too_many_is_refused_before_anything_is_opened() {
        let opts = LiveOptions { iface: Some("nosuchif0".into()), ..LiveOptions::default() };
        for n in [0, MAX_FANOUT + 1] {
            let e = open_group(&opts, n).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("--fanout") && e.contains(&format!("{n} handles")), "{e}");
        }
    }
}
