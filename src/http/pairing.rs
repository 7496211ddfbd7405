//! Which request a response answers: the oldest unanswered one (pipelining); interim 1xx responses do
//! not consume it. Past `max_pending_requests` unanswered requests (or once the pending ones were
//! dropped to free memory) which request a later response answers is unknown: responses past the
//! pending ones are not paired at all, rather than paired with the wrong request.

use std::collections::VecDeque;

use super::{Config, RequestLine, Stats};

/// Allocator header per heap block, for the memory estimates.
const ALLOC: usize = 16;

fn string_cost(s: &str) -> usize {
    if s.is_empty() { 0 } else { s.len() + ALLOC }
}

pub fn request_line_cost(r: &RequestLine) -> usize {
    std::mem::size_of::<RequestLine>()
        + string_cost(&r.method)
        + string_cost(&r.target)
        + r.host.as_deref().map_or(0, string_cost)
}

#[derive(Default)]
pub struct Pending {
    queue: VecDeque<RequestLine>,
    /// Heap bytes of `queue`.
    bytes: usize,
    /// Pairing stopped (see the module doc).
    unpaired: bool,
    /// Requests seen on this connection (the next one's `seq`).
    requests: u64,
}

impl Pending {
    /// Whether a new request will be remembered (its request line is built only then). Past the cap
    /// pairing stops: forgetting the oldest would pair every later response with the wrong request
    /// (and a HEAD's answer with a body it never has).
    /// The next request's number on the connection (0 for the first).
    pub fn next_seq(&mut self) -> u64 {
        self.requests += 1;
        self.requests - 1
    }

    /// Requests seen so far (the next one's `seq`): HTTP/2 streams go on numbering from here.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    pub fn admits(&mut self, cfg: &Config, stats: &mut Stats) -> bool {
        if !self.unpaired && self.queue.len() >= cfg.max_pending_requests {
            self.unpaired = true;
            stats.pipeline_overflow += 1;
        }
        !self.unpaired
    }

    pub fn push(&mut self, line: RequestLine) {
        self.bytes += request_line_cost(&line);
        // Most connections have one request in flight: room for one, not the four a first push takes
        // (every byte here is paid by every connection at once on a busy link).
        if self.queue.capacity() == 0 {
            self.queue.reserve_exact(1);
        }
        self.queue.push_back(line);
    }

    /// The request a response with `status` answers, when known.
    pub fn answer(&mut self, status: u16) -> Option<RequestLine> {
        if (100..200).contains(&status) && status != 101 {
            return self.queue.front().cloned();
        }
        let r = self.queue.pop_front()?;
        self.bytes = self.bytes.saturating_sub(request_line_cost(&r));
        Some(r)
    }

    /// Heap bytes held.
    #[inline]
    pub fn held(&self) -> usize {
        self.bytes
    }

    /// Memory is short: forget the pending requests (later responses are not paired).
    pub fn shed(&mut self, stats: &mut Stats) {
        if !self.queue.is_empty() {
            stats.memcap_pending_dropped += 1;
            self.queue = VecDeque::new();
            self.bytes = 0;
            self.unpaired = true;
        }
    }
}
