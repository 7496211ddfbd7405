//! One memory budget for the whole process (`--memcap`), shared by every analysis thread.
//!
//! Whoever controls the traffic decides how much a sniffer holds: out-of-order bytes behind holes that
//! never fill, HTTP heads that never end, connections that say one byte and go quiet. Per-structure
//! caps bound each of those, but their sum, times the number of flows, times the number of threads,
//! is not a bound anyone can run a sensor with. So the stages that hold memory on behalf of flows
//! charge a [`Budget`] with what they really hold (allocation sizes, not payload bytes), and credit it
//! when they let go; when a charge does not fit, the owner of the flows (the reassembler) frees from
//! its own tables, the largest holders first, until it does (see `reassembly`).
//!
//! The budget is an atomic counter behind an [`Arc`], one for every analysis thread of the process.
//! Each thread charges an [`Account`]: a lease taken from the shared counter in [`LEASE`] steps, so a
//! charge is a thread-local addition, and the shared counter is touched once per 64 KiB of growth,
//! never per packet. Each account may hold its share of the budget (the limit divided by the number of
//! accounts: flows are spread evenly over the threads by their hash), so that a thread under pressure
//! frees from its own flows and gets back under its own share, whatever the other threads hold: the
//! threads together never hold more than the budget, and no thread sacrifices its own victim because
//! another one is full.
//!
//! A slice of each share ([`TABLE_SHARE_PERCENT`]) is all the flow tables themselves (slots, their
//! index, the handshake cache) may take: a flood of connections then evicts connections (the least
//! recently active first) instead of leaving no room for what the remaining flows hold.
//!
//! What a stage holds outside the flows for the whole run, up to a bound it chooses at start-up (the
//! follow view's logs, a sink's queue and memory backlog), is a [`Reservation`]: taken off the top of
//! the budget when the stage starts, so the accounts share what is left, and given back when it ends.
//! Reservations together get at most [`RESERVE_PERCENT`] of the budget; a stage whose reservation came
//! out smaller than it asked keeps less (and counts what it did not keep), so `--memcap` stays the
//! bound of the whole process, whatever is switched on.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The default `--memcap`: enough for the default flow table's working set (tens of thousands of
/// connections with their buffers) on a sensor, small enough for a laptop or a CI runner.
pub const DEFAULT_MEMCAP: usize = 128 * 1024 * 1024;

/// Bytes an [`Account`] takes from (and gives back to) the shared counter at once: one atomic
/// operation per 64 KiB of growth keeps threads from contending, and the slack a thread may hold
/// unused (at most two leases) is small against any useful budget.
pub const LEASE: usize = 64 * 1024;

/// Percent of an account's share the flow tables (slots, index, handshake cache) may take.
pub const TABLE_SHARE_PERCENT: usize = 50;

/// Percent of the budget all [`Reservation`]s together may take: the flows always keep the rest.
pub const RESERVE_PERCENT: usize = 40;

struct Shared {
    limit: usize,
    /// Bytes reserved off the top ([`Reservation`]s alive): part of `used`, not of any share.
    reserved: AtomicUsize,
    /// Accounts alive (analysis threads).
    accounts: AtomicUsize,
    /// Bytes leased by every account (what they use, plus at most two leases of slack each).
    used: AtomicUsize,
    peak: AtomicUsize,
}

/// The process-wide budget. Cloning shares it.
#[derive(Clone)]
pub struct Budget(Arc<Shared>);

impl Default for Budget {
    fn default() -> Self {
        Budget::new(DEFAULT_MEMCAP)
    }
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget").field("limit", &self.limit()).field("used", &self.used()).finish()
    }
}

impl Budget {
    pub fn new(limit: usize) -> Budget {
        Budget(Arc::new(Shared {
            limit,
            reserved: AtomicUsize::new(0),
            accounts: AtomicUsize::new(0),
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }))
    }

    pub fn limit(&self) -> usize {
        self.0.limit
    }
    /// Bytes taken by every thread now.
    pub fn used(&self) -> usize {
        self.0.used.load(Ordering::Relaxed)
    }
    /// The most ever taken at once.
    pub fn peak(&self) -> usize {
        self.0.peak.load(Ordering::Relaxed)
    }
    /// The budget is exceeded (a charge was forced: nothing was left to free).
    pub fn over(&self) -> bool {
        self.used() > self.0.limit
    }
    /// What one account may hold: the limit less what is reserved, shared evenly by the accounts alive.
    pub fn share(&self) -> usize {
        (self.0.limit - self.reserved()) / self.0.accounts.load(Ordering::Relaxed).max(1)
    }
    /// Bytes reserved off the top now ([`Budget::reserve`]).
    pub fn reserved(&self) -> usize {
        self.0.reserved.load(Ordering::Relaxed)
    }

    /// Reserve up to `want` bytes off the top for a stage's holdings outside the flows, for as long as
    /// the [`Reservation`] lives: as much of `want` as fits in what reservations may still take
    /// ([`RESERVE_PERCENT`] of the limit) and in what the budget has free. The caller bounds what it
    /// holds by [`Reservation::bytes`], which may be less than it asked (even 0).
    pub fn reserve(&self, want: usize) -> Reservation {
        let s = &self.0;
        let cap = s.limit / 100 * RESERVE_PERCENT;
        let got = s.reserved.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| {
            let n = want.min(cap.saturating_sub(r));
            Some(r + n)
        });
        let before = got.unwrap_or_else(|r| r);
        let mut n = want.min(cap.saturating_sub(before));
        // What the accounts hold already stays theirs: only free bytes are reserved.
        while n > 0 && !self.take(n) {
            let free = s.limit.saturating_sub(self.used());
            let fewer = n.min(free);
            s.reserved.fetch_sub(n - fewer, Ordering::Relaxed);
            n = fewer;
        }
        Reservation { budget: self.clone(), bytes: n }
    }

    /// A thread's account on this budget.
    pub fn account(&self) -> Account {
        self.0.accounts.fetch_add(1, Ordering::Relaxed);
        Account { budget: self.clone(), leased: 0, used: 0, tables: 0 }
    }

    /// Take `n` bytes if they fit under the limit.
    fn take(&self, n: usize) -> bool {
        let s = &self.0;
        let got =
            s.used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| u.checked_add(n).filter(|&t| t <= s.limit));
        match got {
            Ok(before) => {
                s.peak.fetch_max(before + n, Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }

    /// Take `n` bytes whatever the limit.
    fn force(&self, n: usize) {
        let before = self.0.used.fetch_add(n, Ordering::Relaxed);
        self.0.peak.fetch_max(before.saturating_add(n), Ordering::Relaxed);
    }

    fn give_back(&self, n: usize) {
        let _ = self.0.used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| Some(u.saturating_sub(n)));
    }
}

/// Why a table charge did not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Short {
    /// The flow tables have their whole part of the share.
    TableShare,
    /// The share (or the budget) is full.
    Budget,
}

/// One thread's part of the [`Budget`]: charges and credits are local until the lease runs out or
/// too much of it is unused. Dropping the account gives everything back.
#[derive(Debug)]
pub struct Account {
    budget: Budget,
    /// Bytes taken from the shared counter.
    leased: usize,
    /// Bytes charged (never more than `leased`).
    used: usize,
    /// Bytes of flow tables charged (part of `used`).
    tables: usize,
}

impl Account {
    pub fn budget(&self) -> &Budget {
        &self.budget
    }
    /// Bytes charged to this account.
    pub fn used(&self) -> usize {
        self.used
    }
    /// Bytes of flow tables charged to this account.
    pub fn tables(&self) -> usize {
        self.tables
    }
    /// This account holds more than its share (a charge was forced). Only this account's own flows
    /// can bring it back: another thread's overshoot is that thread's to free.
    pub fn over(&self) -> bool {
        self.used > self.budget.share()
    }

    /// Charge `n` bytes if they fit in this account's share; otherwise charge nothing and return false.
    pub fn try_charge(&mut self, n: usize) -> bool {
        let want = self.used.saturating_add(n);
        let share = self.budget.share();
        if want > share {
            return false;
        }
        if want > self.leased {
            let short = want - self.leased;
            // A whole lease when the share has room for it, else just what is missing.
            let step = (short.div_ceil(LEASE) * LEASE).min(share - self.leased).max(short);
            if self.budget.take(step) {
                self.leased += step;
            } else if self.budget.take(short) {
                self.leased += short;
            } else {
                return false;
            }
        }
        self.used = want;
        true
    }

    /// Charge `n` bytes even past the share (nothing was left to free): `over()` until enough is
    /// credited.
    pub fn charge(&mut self, n: usize) {
        if !self.try_charge(n) {
            let want = self.used.saturating_add(n);
            if want > self.leased {
                self.budget.force(want - self.leased);
                self.leased = want;
            }
            self.used = want;
        }
    }

    /// `n` bytes charged earlier are released.
    pub fn credit(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
        let spare = self.leased - self.used;
        // Past the limit (a charge was forced), every spare byte goes back at once.
        let back = if self.budget.over() {
            spare
        } else if spare > 2 * LEASE {
            spare - LEASE
        } else {
            0
        };
        if back > 0 {
            self.budget.give_back(back);
            self.leased -= back;
        }
    }

    /// Charge `n` bytes of flow table, if the tables' part of this account's share and the share have
    /// room.
    pub fn try_charge_table(&mut self, n: usize) -> Result<(), Short> {
        if self.tables.saturating_add(n) > self.budget.share() / 100 * TABLE_SHARE_PERCENT {
            return Err(Short::TableShare);
        }
        if !self.try_charge(n) {
            return Err(Short::Budget);
        }
        self.tables += n;
        Ok(())
    }

    /// Charge `n` bytes of flow table whatever the limits (a table must have room for one entry).
    pub fn charge_table(&mut self, n: usize) {
        if self.try_charge_table(n).is_err() {
            self.tables += n;
            self.charge(n);
        }
    }

    /// `n` bytes of flow table are released.
    pub fn credit_table(&mut self, n: usize) {
        let n = n.min(self.tables);
        self.tables -= n;
        self.credit(n);
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        self.budget.give_back(self.leased);
        self.budget.0.accounts.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Bytes a holder outside the flows may still take, within a bound it was given (what its
/// [`Reservation`] got, or a fixed size): charged as it keeps things, never credited (what it keeps,
/// it keeps for the run). No bound: the holder is bounded by its count alone.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quota {
    limit: Option<usize>,
    used: usize,
}

impl Quota {
    pub fn new(limit: usize) -> Quota {
        Quota { limit: Some(limit), used: 0 }
    }
    pub fn unbounded() -> Quota {
        Quota::default()
    }
    /// Charge `n` bytes if they fit; false (nothing charged) if not.
    pub fn take(&mut self, n: usize) -> bool {
        if self.limit.is_some_and(|max| self.used.saturating_add(n) > max) {
            return false;
        }
        self.used += n;
        true
    }
    /// Bytes charged.
    pub fn used(&self) -> usize {
        self.used
    }
}

/// Bytes reserved off the top of a [`Budget`] ([`Budget::reserve`]), given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Budget,
    bytes: usize,
}

impl Reservation {
    /// A reservation of nothing (the stage is off), on no budget anyone shares.
    pub fn none() -> Reservation {
        Reservation { budget: Budget::new(0), bytes: 0 }
    }
    /// What the holder may keep.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.give_back(self.bytes);
        self.budget.0.reserved.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// Parse a size: bytes, or a number with a binary suffix (`64K`, `128M`, `1G`; `KiB`, `MB`... read the
/// same way).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num.parse().map_err(|_| format!("{s:?} is not a size (bytes, or a number with K, M or G)"))?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use K, M or G)")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("{s:?} is too large"))
}

/// Heap bytes of a std `HashMap` able to hold `capacity` entries of `entry` bytes (hashbrown: a power
/// of two of buckets at most 7/8 full, one control byte per bucket and a group of 16).
pub fn map_bytes(capacity: usize, entry: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 { if capacity < 4 { 4 } else { 8 } } else { (capacity * 8 / 7).next_power_of_two() };
    buckets * (entry + 1) + 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_of_two_threads_each_hold_at_most_their_share() {
        let b = Budget::new(4 * LEASE);
        let mut a = b.account();
        let mut c = b.account();
        assert_eq!(b.share(), 2 * LEASE);
        assert!(a.try_charge(LEASE + 1));
        assert!(c.try_charge(2 * LEASE));
        assert!(a.try_charge(LEASE - 1));
        // a's share is full, whatever the budget holds.
        assert!(!a.try_charge(1));
        assert!(!a.over());
        a.charge(10);
        assert!(a.over() && b.over());
        assert!(!c.over());
        a.credit(10);
        assert!(!a.over());
        assert_eq!(b.used(), 4 * LEASE);
        drop(a);
        // One account left: it may hold the whole budget.
        assert_eq!(b.share(), 4 * LEASE);
        assert!(c.try_charge(2 * LEASE));
        drop(c);
        assert_eq!(b.used(), 0);
        assert!(b.peak() >= 4 * LEASE);
    }

    #[test]
    fn a_reservation_comes_off_the_top_and_the_accounts_share_the_rest_until_it_is_dropped() {
        let b = Budget::new(8 * LEASE);
        let mut a = b.account();
        let r = b.reserve(LEASE);
        assert_eq!(r.bytes(), LEASE);
        assert_eq!((b.used(), b.reserved(), b.share()), (LEASE, LEASE, 7 * LEASE));
        assert!(a.try_charge(7 * LEASE));
        assert!(!a.try_charge(1), "the account's share is what the reservation left");
        assert!(!b.over());
        drop(r);
        assert_eq!((b.reserved(), b.share()), (0, 8 * LEASE));
        assert!(a.try_charge(LEASE));
    }

    #[test]
    fn reservations_together_take_at_most_their_percent_and_only_free_bytes() {
        let b = Budget::new(100 * LEASE);
        let cap = 100 * LEASE / 100 * RESERVE_PERCENT;
        let r1 = b.reserve(cap - LEASE);
        let r2 = b.reserve(10 * LEASE);
        assert_eq!(r1.bytes() + r2.bytes(), cap, "the second got what was left of the percent");
        assert_eq!(b.reserve(1).bytes(), 0);
        drop((r1, r2));
        // Flows that hold nearly everything keep it: a reservation gets only what is free.
        let mut a = b.account();
        assert!(a.try_charge(99 * LEASE));
        let r = b.reserve(10 * LEASE);
        assert!(r.bytes() <= LEASE && r.bytes() > 0, "{}", r.bytes());
        assert!(b.used() <= b.limit());
        assert_eq!(Reservation::none().bytes(), 0);
    }

    #[test]
    fn small_charges_touch_the_shared_counter_once_per_lease() {
        let b = Budget::new(1 << 30);
        let mut a = b.account();
        for _ in 0..1000 {
            assert!(a.try_charge(64));
        }
        assert_eq!(a.used(), 64_000);
        assert_eq!(b.used(), LEASE);
        for _ in 0..1000 {
            a.credit(64);
        }
        assert!(b.used() <= 2 * LEASE);
    }

    #[test]
    fn a_charge_larger_than_what_is_left_takes_exactly_what_is_left() {
        let b = Budget::new(LEASE + 10);
        let mut a = b.account();
        assert!(a.try_charge(LEASE + 10));
        assert!(!a.try_charge(1));
        assert_eq!(b.used(), LEASE + 10);
    }

    #[test]
    fn tables_get_at_most_their_part_of_the_share() {
        let b = Budget::new(100 * LEASE);
        let mut a = b.account();
        assert_eq!(a.try_charge_table(50 * LEASE), Ok(()));
        assert_eq!(a.try_charge_table(1), Err(Short::TableShare));
        assert!(a.try_charge(49 * LEASE));
        a.credit_table(LEASE);
        assert_eq!(a.try_charge_table(2 * LEASE), Err(Short::TableShare));
        assert_eq!(a.try_charge_table(LEASE), Ok(()));
        assert!(!a.try_charge(2 * LEASE));
        a.credit(10 * LEASE);
        assert_eq!(a.try_charge_table(LEASE), Err(Short::TableShare));
        drop(a);
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
