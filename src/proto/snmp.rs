//! SNMP v1/v2c community strings on UDP datagrams.
//!
//! A v1/v2c message is `SEQUENCE { version INTEGER, community OCTET STRING, data PDU }`; the community
//! works as a password and crosses in every message. SNMPv3 (version 3) has no community (USM
//! authenticates with keyed hashes) and [`parse`] returns `None` for it, as for anything that is not a
//! well-formed v1/v2c message, so it is never reported.
//!
//! Datagrams are stateless, so the [`Tracker`] pairs them: a request (get, getnext, set, getbulk,
//! inform) from a manager waits for the response from that agent with the same request-id and
//! community, which makes it Accepted. Agents silently drop requests with a wrong community, so a request
//! left unanswered for 5 s of capture time (or at the end) is reported with [`Verdict::Unknown`]. A
//! response nobody saw the request of still proves its community is valid: it is reported Accepted. A
//! trap (v1 trap, v2 trap) is reported at once with Unknown. At most [`MAX_PENDING`] requests wait (the oldest is reported
//! Unknown when a new one does not fit). The tracker emits one login per request; the alert stage
//! dedups by (kind, server, secret).
//!
//! Who is the server: the side that receives the community and acts on it. For a request that is the
//! agent (port 161); for a trap or an inform it is the receiver (a manager on port 162), whatever
//! sent it: the community of a trap is the receiver's secret (a trap receiver that accepts it logs,
//! forwards or acts on the event), so the alert names the receiver.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use super::ber::Reader;
use super::{Cred, Event, Line, Login, Proto, Verdict, secret, text};
use crate::secret::{Secret, Text};
use crate::time::Timestamp;

/// Requests awaiting a response; past it the oldest is reported with [`Verdict::Unknown`]
/// ([`Event::SnmpPendingFull`]). A manager polls a few agents at a time; 4,096 covers a network
/// management station sweeping a /20 at once.
pub const MAX_PENDING: usize = 4096;
/// How long a request waits for its response, in capture time.
pub const TIMEOUT_MICROS: i64 = 5_000_000;

/// A decoded v1/v2c message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// 0 = v1, 1 = v2c (3 = v3 is never returned).
    pub version: u8,
    pub community: Vec<u8>,
    /// PDU context tag number: 0 get, 1 getnext, 2 response, 3 set, 4 trap-v1, 5 getbulk, 6 inform,
    /// 7 trapv2, 8 report.
    pub pdu: u8,
    /// The request-id (every PDU but the v1 trap has one).
    pub request_id: Option<i64>,
}

/// Parses a v1/v2c message; `None` for v3 and anything malformed.
pub fn parse(payload: &[u8]) -> Option<Message> {
    let body = Reader::new(payload).expect(0x30)?;
    let mut r = Reader::new(body);
    let version = r.int()?;
    if version != 0 && version != 1 {
        return None;
    }
    let community = r.expect(0x04)?;
    let (tag, pdu) = r.tlv()?;
    if tag & 0xe0 != 0xa0 || tag & 0x1f > 8 {
        return None;
    }
    let n = tag & 0x1f;
    let request_id = if n == 4 {
        None
    } else {
        let mut p = Reader::new(pdu);
        Some(p.int()?)
    };
    Some(Message { version: version as u8, community: community.to_vec(), pdu: n, request_id })
}

/// A community seen between two SNMP entities.
#[derive(Clone, Debug, PartialEq)]
pub struct SnmpLogin {
    /// Who sent the community: a manager's request, the sender of a trap or an inform.
    pub client: SocketAddr,
    /// Who received it and acts on it: the agent of a request, the receiver (port 162) of a trap or an
    /// inform.
    pub server: SocketAddr,
    pub login: Login,
}

fn pdu_name(n: u8) -> &'static str {
    match n {
        0 => "get-request",
        1 => "get-next-request",
        2 => "response",
        3 => "set-request",
        4 => "trap",
        5 => "get-bulk-request",
        6 => "inform-request",
        7 => "snmpV2-trap",
        _ => "report",
    }
}

/// One transcript line for a message, its community a slot showing `community`.
fn summary(prefix: &str, m: &Message, community: &Secret) -> Text {
    let v = if m.version == 0 { "v1" } else { "v2c" };
    let mut l = Line::new(prefix);
    l.lit(format!("{} {v} community=\"", pdu_name(m.pdu)).as_bytes()).secret(community).lit(b"\"");
    if let Some(id) = m.request_id {
        l.lit(format!(" request-id={id}").as_bytes());
    }
    l.into_text()
}

type Key = (SocketAddr, SocketAddr, i64);

#[derive(Debug)]
struct Pending {
    seq: u64,
    login: SnmpLogin,
    community: Vec<u8>,
}

/// Pairs requests and responses into logins (bounded).
#[derive(Default, Debug)]
pub struct Tracker {
    pending: HashMap<Key, Pending>,
    /// Keys in arrival order, with the sequence number they were inserted with (an entry whose
    /// sequence number no longer matches was answered or replaced).
    order: VecDeque<(Key, u64, Timestamp)>,
    seq: u64,
    /// Requests reported early because the table was full ([`Event::SnmpPendingFull`]).
    full: u64,
}

/// A login for message `m`, its transcript the summary of `m` as sent by `prefix`'s side.
fn new_login(m: &Message, client: SocketAddr, server: SocketAddr, ts: Timestamp, prefix: &str) -> SnmpLogin {
    let community = secret(&m.community);
    let mechanism = if m.version == 0 { "community v1" } else { "community v2c" };
    let line = summary(prefix, m, &community);
    let login = Login::attempt(Proto::Snmp, mechanism, None, community, Cred::Password, false, ts);
    SnmpLogin { client, server, login: login.with_transcript(vec![line]) }
}

impl Tracker {
    /// One UDP datagram from `src` to `dst` (either way: the payload says what it is).
    pub fn on_datagram(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        ts: Timestamp,
        out: &mut dyn FnMut(SnmpLogin),
    ) {
        self.advance(ts, out);
        let Some(m) = parse(payload) else { return };
        // An empty community, or one of control characters only, is no secret.
        if text(&m.community).is_empty() {
            return;
        }
        match (m.pdu, m.request_id) {
            (0 | 1 | 3 | 5 | 6, Some(id)) => {
                let key = (src, dst, id);
                if let Some(p) = self.pending.get(&key) {
                    if p.community == m.community {
                        return; // a retransmission
                    }
                    if let Some(old) = self.pending.remove(&key) {
                        out(old.login);
                    }
                }
                while self.pending.len() >= MAX_PENDING {
                    if !self.pop_oldest(out) {
                        break;
                    }
                    self.full += 1;
                }
                self.seq += 1;
                let login = new_login(&m, src, dst, ts, "C: ");
                self.pending.insert(key, Pending { seq: self.seq, login, community: m.community });
                self.order.push_back((key, self.seq, ts));
                if self.order.len() > 2 * MAX_PENDING {
                    let pending = &self.pending;
                    self.order.retain(|(k, s, _)| pending.get(k).is_some_and(|p| p.seq == *s));
                }
            }
            (2, Some(id)) => {
                let key = (dst, src, id);
                match self.pending.get(&key) {
                    Some(p) if p.community == m.community => {
                        if let Some(mut p) = self.pending.remove(&key) {
                            // The same community: the response's slot shows the request's secret.
                            let line = summary("S: ", &m, &p.login.login.secret);
                            p.login.login.transcript.push(line);
                            p.login.login.verdict = Verdict::Accepted;
                            out(p.login);
                        }
                    }
                    Some(_) => {}
                    None => {
                        let mut l = new_login(&m, dst, src, ts, "S: ");
                        l.login.verdict = Verdict::Accepted;
                        out(l);
                    }
                }
            }
            // A trap is sent to its receiver: the receiver is the server.
            (4 | 7, _) => out(new_login(&m, src, dst, ts, "C: ")),
            _ => {}
        }
    }

    /// Removes the oldest live request, reporting it Unknown; `false` if there is none.
    fn pop_oldest(&mut self, out: &mut dyn FnMut(SnmpLogin)) -> bool {
        while let Some((key, seq, _)) = self.order.pop_front() {
            if self.pending.get(&key).is_some_and(|p| p.seq == seq) {
                if let Some(p) = self.pending.remove(&key) {
                    out(p.login);
                }
                return true;
            }
        }
        false
    }

    /// Reports requests older than 5 s of capture time as Unknown.
    pub fn advance(&mut self, now: Timestamp, out: &mut dyn FnMut(SnmpLogin)) {
        while let Some(&(key, seq, ts)) = self.order.front() {
            let live = self.pending.get(&key).is_some_and(|p| p.seq == seq);
            if live && now.micros_since(ts) <= TIMEOUT_MICROS {
                break;
            }
            self.order.pop_front();
            if live {
                if let Some(p) = self.pending.remove(&key) {
                    out(p.login);
                }
            }
        }
    }

    /// End of the capture: every waiting request is reported Unknown.
    pub fn finish(&mut self, out: &mut dyn FnMut(SnmpLogin)) {
        while self.pop_oldest(out) {}
        self.pending.clear();
        self.order.clear();
    }

    /// Requests waiting for a response.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// How often each cap of the tracker was hit.
    pub fn events(&self) -> impl Iterator<Item = (Event, u64)> {
        std::iter::once((Event::SnmpPendingFull, self.full)).filter(|(_, n)| *n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::ber::enc::{int, seq, tlv};
    use super::*;

    fn message(version: i64, community: &[u8], pdu: u8, id: i64) -> Vec<u8> {
        let varbind = seq(0x30, &[seq(0x30, &[tlv(0x06, &[0x2b, 6, 1, 2, 1, 1, 1, 0]), tlv(0x05, b"")])]);
        let pdu = seq(0xa0 | pdu, &[int(0x02, id), int(0x02, 0), int(0x02, 0), varbind]);
        seq(0x30, &[int(0x02, version), tlv(0x04, community), pdu])
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn collect(f: impl FnOnce(&mut Tracker, &mut dyn FnMut(SnmpLogin))) -> Vec<SnmpLogin> {
        let mut t = Tracker::default();
        let mut got = Vec::new();
        f(&mut t, &mut |l| got.push(l));
        got
    }

    #[test]
    fn parses_v2c_get() {
        let m = parse(&message(1, b"public", 0, 1234)).unwrap();
        assert_eq!(m, Message { version: 1, community: b"public".to_vec(), pdu: 0, request_id: Some(1234) });
    }

    #[test]
    fn get_answered_by_a_response_is_accepted() {
        let (mgr, agent) = (addr("10.0.0.1:40000"), addr("10.0.0.2:161"));
        let got = collect(|t, out| {
            t.on_datagram(mgr, agent, &message(1, b"s3cret", 0, 7), Timestamp::from_secs(10), out);
            t.on_datagram(agent, mgr, &message(1, b"s3cret", 2, 7), Timestamp::from_secs(11), out);
            t.finish(out);
        });
        assert_eq!(got.len(), 1);
        let l = &got[0];
        assert_eq!((l.client, l.server), (mgr, agent));
        assert_eq!((l.login.mechanism, l.login.secret.expose()), ("community v2c", "s3cret"));
        assert_eq!(
            (l.login.verdict, l.login.ts, l.login.user_name()),
            (Verdict::Accepted, Timestamp::from_secs(10), None)
        );
        assert_eq!(l.login.transcript.len(), 2);
    }

    #[test]
    fn unanswered_get_expires_unknown_after_five_seconds() {
        let (mgr, agent) = (addr("10.0.0.1:40000"), addr("10.0.0.2:161"));
        let mut t = Tracker::default();
        let mut got = Vec::new();
        t.on_datagram(mgr, agent, &message(0, b"private", 0, 1), Timestamp::from_secs(10), &mut |l| got.push(l));
        t.advance(Timestamp::from_secs(14), &mut |l| got.push(l));
        assert!(got.is_empty());
        t.advance(Timestamp::from_secs(16), &mut |l| got.push(l));
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].login.verdict, got[0].login.mechanism), (Verdict::Unknown, "community v1"));
        assert_eq!(t.pending(), 0);
    }

    #[test]
    fn v2_and_v1_traps_name_their_receiver_on_port_162_as_the_server() {
        let (agent, receiver) = (addr("10.0.0.2:50000"), addr("10.0.0.1:162"));
        for (version, pdu) in [(1, 7), (0, 4)] {
            let got = collect(|t, out| {
                t.on_datagram(agent, receiver, &message(version, b"traps", pdu, 3), Timestamp::from_secs(1), out)
            });
            assert_eq!(got.len(), 1);
            assert_eq!((got[0].client, got[0].server, got[0].login.verdict), (agent, receiver, Verdict::Unknown));
        }
    }

    #[test]
    fn an_inform_names_its_receiver_as_the_server_and_its_response_accepts_it() {
        let (sender, receiver) = (addr("10.0.0.2:50001"), addr("10.0.0.1:162"));
        let got = collect(|t, out| {
            t.on_datagram(sender, receiver, &message(1, b"inform-c", 6, 9), Timestamp::from_secs(1), out);
            t.on_datagram(receiver, sender, &message(1, b"inform-c", 2, 9), Timestamp::from_secs(2), out);
        });
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].client, got[0].server, got[0].login.verdict), (sender, receiver, Verdict::Accepted));
    }

    #[test]
    fn v3_is_ignored() {
        let v3 =
            seq(0x30, &[int(0x02, 3), seq(0x30, &[int(0x02, 1), int(0x02, 65507), tlv(0x04, &[4]), int(0x02, 3)])]);
        assert_eq!(parse(&v3), None);
        let got = collect(|t, out| {
            t.on_datagram(addr("1.1.1.1:1"), addr("2.2.2.2:161"), &v3, Timestamp::from_secs(1), out);
            t.finish(out);
        });
        assert!(got.is_empty());
    }

    #[test]
    fn garbage_never_panics() {
        let good = message(1, b"public", 0, 99);
        let mut x: u32 = 0x1234_5678;
        let mut t = Tracker::default();
        for i in 0..5000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let mut p = good.clone();
            let at = x as usize % p.len();
            p[at] = (x >> 8) as u8;
            p.truncate(p.len() - (i % 5));
            let len = (x >> 20) as usize % 64;
            let random: Vec<u8> = (0..len).map(|k| (x.rotate_left(k as u32) & 0xff) as u8).collect();
            let _ = parse(&p);
            let _ = parse(&random);
            t.on_datagram(addr("1.1.1.1:1"), addr("2.2.2.2:161"), &p, Timestamp::from_secs(i as i64), &mut |_| {});
        }
    }

    #[test]
    fn pending_requests_are_bounded() {
        let (mgr, agent) = (addr("10.0.0.1:40000"), addr("10.0.0.2:161"));
        let mut t = Tracker::default();
        let mut early = 0;
        for id in 0..(MAX_PENDING as i64 + 100) {
            t.on_datagram(mgr, agent, &message(1, b"c", 0, id), Timestamp::from_secs(1), &mut |_| early += 1);
        }
        assert_eq!(early, 100);
        assert_eq!(t.pending(), MAX_PENDING);
        let mut rest = 0;
        t.finish(&mut |l| {
            assert_eq!(l.login.verdict, Verdict::Unknown);
            rest += 1
        });
        assert_eq!(rest, MAX_PENDING);
    }

    #[test]
    fn no_transcript_line_shows_a_community_once_redacted_and_the_reply_slot_is_the_same_secret() {
        use crate::secret::Reveal;
        let (mgr, agent) = (addr("10.0.0.1:40000"), addr("10.0.0.2:161"));
        let got = collect(|t, out| {
            t.on_datagram(mgr, agent, &message(1, b"s3cret-comm", 0, 7), Timestamp::from_secs(10), out);
            t.on_datagram(agent, mgr, &message(1, b"s3cret-comm", 2, 7), Timestamp::from_secs(11), out);
            t.on_datagram(agent, mgr, &message(1, b"other-comm", 2, 8), Timestamp::from_secs(12), out);
            t.on_datagram(agent, mgr, &message(0, b"trap-comm", 4, 0), Timestamp::from_secs(13), out);
        });
        assert_eq!(got.len(), 3);
        for l in &got {
            for line in &l.login.transcript {
                let r = line.render(Reveal::Redacted);
                for c in ["s3cret-comm", "other-comm", "trap-comm"] {
                    assert!(!r.contains(c), "{r}");
                }
                assert!(line.secrets().all(|s| s == &l.login.secret), "{r}");
            }
        }
        let t: Vec<String> = got[0].login.transcript.iter().map(|t| t.render(Reveal::Full)).collect();
        assert_eq!(
            t,
            [
                "C: get-request v2c community=\"s3cret-comm\" request-id=7",
                "S: response v2c community=\"s3cret-comm\" request-id=7"
            ]
        );
    }

    #[test]
    fn a_full_table_is_counted() {
        let (mgr, agent) = (addr("10.0.0.1:40000"), addr("10.0.0.2:161"));
        let mut t = Tracker::default();
        for id in 0..(MAX_PENDING as i64 + 5) {
            t.on_datagram(mgr, agent, &message(1, b"c", 0, id), Timestamp::from_secs(1), &mut |_| {});
        }
        assert_eq!(t.events().collect::<Vec<_>>(), [(Event::SnmpPendingFull, 5)]);
    }
}
