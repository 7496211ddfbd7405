//! Follow stream: the messages of a connection that leaked, in the order they crossed, as the TUI's
//! follow view shows them (Wireshark's Follow TCP Stream, redacted).
//!
//! A connection's log starts with the message that carried its first credential; every later message on
//! it (both directions) is added as it is parsed, so the view shows what the server answered and what
//! the client did next. Above it, the view shows the last [`PRELUDE_TURNS`] messages that crossed before
//! the leak, by their first line ([`Prelude`]: kept for every HTTP connection while it has not leaked,
//! only when a terminal UI will show them), and counts the requests before those. Each message is kept as its excerpt: the head, and the start of the body, with
//! its credentials as slots (`secret::Text`, placed by the detectors): rendering a log is rendering
//! slots, redacted or revealed, never a search of finished text.
//!
//! Bounds: [`MAX_TURNS`] messages per connection (the rest counted, and said in the view), and a byte
//! budget per engine held by the stage that fills the logs (`pipeline`), counted as `follow_not_kept`.
//! A prelude is charged to the same budget, and gives its bytes back when its connection ends without
//! leaking.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::secret::Text;
use crate::time::Timestamp;

/// Messages kept per connection: enough for a login, its answer and the first requests that reuse
/// what it handed out; a connection that stays open for hours keeps its beginning.
pub const MAX_TURNS: usize = 64;

/// Messages kept of a connection before its first leak, by their first line: the requests that led to
/// it and what the server answered them.
pub const PRELUDE_TURNS: usize = 4;

/// One message of the conversation.
#[derive(Clone, Debug)]
pub struct Turn {
    pub ts: Timestamp,
    /// Sent by the client (the side that opened the connection).
    pub from_client: bool,
    pub lines: Arc<[Text]>,
    /// A message from before the leak: only its first line is kept (it carried no credential).
    pub head_only: bool,
}

/// The last [`PRELUDE_TURNS`] messages of a connection that has not leaked yet (their first lines),
/// and how many requests crossed before them.
#[derive(Default, Debug)]
pub struct Prelude {
    turns: VecDeque<Turn>,
    requests_before: u64,
    bytes: usize,
}

impl Prelude {
    /// Keep `line`, the first line of a message with no credential; the oldest message gives way past
    /// [`PRELUDE_TURNS`]. Returns the bytes the prelude holds now minus before (the caller's budget).
    pub fn push(&mut self, ts: Timestamp, from_client: bool, line: Text) -> isize {
        let before = self.bytes;
        if self.turns.len() == PRELUDE_TURNS {
            if let Some(old) = self.turns.pop_front() {
                self.bytes -= weight(&old.lines);
                self.requests_before += u64::from(old.from_client);
            }
        }
        let turn = Turn { ts, from_client, lines: Arc::from(vec![line]), head_only: true };
        self.bytes += weight(&turn.lines);
        self.turns.push_back(turn);
        self.bytes as isize - before as isize
    }

    /// What it holds, as the budget counts it.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[derive(Default, Debug)]
struct Log {
    turns: Vec<Turn>,
    /// Messages after [`MAX_TURNS`] or past the budget: counted, not kept.
    not_kept: u64,
    /// Requests on the connection before the one that leaked (they carried no credential).
    earlier_requests: u64,
}

/// The log of one connection, shared by the stage that fills it and every alert of that connection.
#[derive(Clone, Default)]
pub struct Conversation(Arc<Mutex<Log>>);

impl std::fmt::Debug for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (turns, not_kept, _) = self.snapshot();
        write!(f, "Conversation({} turns, {not_kept} not kept)", turns.len())
    }
}

/// The bytes a message's lines stand for (what the budget counts): literal text and slots alike.
pub fn weight(lines: &[Text]) -> usize {
    lines.iter().map(|l| std::mem::size_of::<Text>() + l.heap_bytes()).sum::<usize>() + std::mem::size_of::<Turn>() + 16
}

impl Conversation {
    /// A new log; `earlier_requests` requests crossed on the connection before the first leak.
    pub fn new(earlier_requests: u64) -> Conversation {
        Conversation(Arc::new(Mutex::new(Log { earlier_requests, ..Log::default() })))
    }

    /// A new log that starts with what crossed before the first leak (its bytes stay charged).
    pub fn with_prelude(prelude: Prelude) -> Conversation {
        let Prelude { turns, requests_before, .. } = prelude;
        let turns: Vec<Turn> = turns.into();
        Conversation(Arc::new(Mutex::new(Log { turns, earlier_requests: requests_before, ..Log::default() })))
    }

    /// Add a message. Returns false when it was not kept (the log is full).
    pub fn push(&self, turn: Turn) -> bool {
        let Ok(mut log) = self.0.lock() else { return false };
        if log.turns.len() >= MAX_TURNS {
            log.not_kept += 1;
            return false;
        }
        log.turns.push(turn);
        true
    }

    /// Whether another message would be kept.
    pub fn has_room(&self) -> bool {
        self.0.lock().is_ok_and(|log| log.turns.len() < MAX_TURNS)
    }

    /// A message that was not kept (the engine's budget is spent): the view says how many.
    pub fn skipped(&self) {
        if let Ok(mut log) = self.0.lock() {
            log.not_kept += 1;
        }
    }

    /// The messages so far, how many were not kept, and how many requests came before the first leak
    /// and are not shown.
    pub fn snapshot(&self) -> (Vec<Turn>, u64, u64) {
        match self.0.lock() {
            Ok(log) => (log.turns.clone(), log.not_kept, log.earlier_requests),
            Err(_) => (Vec::new(), 0, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(i: i64) -> Turn {
        Turn {
            ts: Timestamp::ZERO.add_micros(i),
            from_client: i % 2 == 0,
            lines: Arc::from(vec![Text::lit("GET / HTTP/1.1")]),
            head_only: false,
        }
    }

    #[test]
    fn a_prelude_keeps_the_last_messages_before_the_leak_counts_the_requests_before_and_its_bytes() {
        let mut p = Prelude::default();
        let mut held = 0isize;
        for i in 0..7u8 {
            let line = Text::lit(if i % 2 == 0 { format!("GET /{i} HTTP/1.1") } else { "HTTP/1.1 200 OK".into() });
            held += p.push(Timestamp::ZERO.add_micros(i64::from(i)), i % 2 == 0, line);
        }
        assert_eq!(held, p.bytes() as isize, "what the budget was charged is what it holds");
        assert!(p.bytes() > 0);
        let c = Conversation::with_prelude(p);
        c.push(turn(100));
        let (turns, _, earlier) = c.snapshot();
        let first: Vec<String> = turns.iter().map(|t| t.lines[0].render(crate::secret::Reveal::Full)).collect();
        assert_eq!(
            first,
            ["HTTP/1.1 200 OK", "GET /4 HTTP/1.1", "HTTP/1.1 200 OK", "GET /6 HTTP/1.1", "GET / HTTP/1.1"]
        );
        assert!(turns[..PRELUDE_TURNS].iter().all(|t| t.head_only) && !turns[PRELUDE_TURNS].head_only);
        assert_eq!(earlier, 2, "GET /0 and GET /2 crossed before what is shown");
    }

    #[test]
    fn a_conversation_keeps_its_first_messages_and_counts_the_rest() {
        let c = Conversation::new(2);
        for i in 0..(MAX_TURNS as i64 + 5) {
            c.push(turn(i));
        }
        let (turns, not_kept, earlier) = c.snapshot();
        assert_eq!(turns.len(), MAX_TURNS);
        assert_eq!(turns[0].ts, Timestamp::ZERO);
        assert_eq!(not_kept, 5);
        assert_eq!(earlier, 2);
    }

    #[test]
    fn clones_share_one_log() {
        let c = Conversation::new(0);
        let alert_copy = c.clone();
        c.push(turn(1));
        assert_eq!(alert_copy.snapshot().0.len(), 1);
    }
}
