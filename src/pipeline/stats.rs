//! Counters of the whole pipeline, for `--stats`, the TUI header and tests.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::decode::{checksum, defrag};
use crate::http;
use crate::proto;
use crate::reassembly;
use crate::time::Timestamp;

/// Counters kept by the engine itself (decode outcomes, capture time span).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EngineStats {
    pub packets: u64,
    pub bytes: u64,
    pub tcp_segments: u64,
    pub udp_datagrams: u64,
    pub ip_fragments: u64,
    pub other_ip: u64,
    pub not_ip: u64,
    /// Malformed packets by reason (counted and skipped).
    pub malformed: BTreeMap<String, u64>,
    /// Packets of unsupported link types, by DLT number.
    pub unsupported_links: BTreeMap<u32, u64>,
    pub tls_flows: u64,
    /// Connections recognised as one of the other protocols (FTP, IMAP, ...), by protocol.
    pub proto_flows: BTreeMap<&'static str, u64>,
    /// Connections handed to HTTP undecided because too many were being probed at once.
    pub probes_abandoned: u64,
    /// SNMP logins (community strings) reported by the tracker.
    pub snmp_logins: u64,
    /// (client, name) pairs the HSTS rule forgot to make room (`detect::fixes::MAX_PAIRS`).
    pub hsts_pairs_forgotten: u64,
    /// Messages of leaking connections not kept for the follow view (`alert::conversation` bounds).
    pub follow_not_kept: u64,
    /// Logins whose secret-carrying packet had left the table of recent packets
    /// (`pipeline::RECENT_PACKETS`): their packet number is the one that completed the login instead.
    pub packet_numbers_approximate: u64,
    /// Caps of the other protocols hit (data dropped or skipped), per `proto::Event`.
    pub proto_events: ProtoEvents,
    #[serde(skip)]
    pub first_ts: Option<Timestamp>,
    #[serde(skip)]
    pub last_ts: Option<Timestamp>,
    #[serde(skip)]
    pub last_advance: Timestamp,
}

/// How often each cap of the other protocols was hit, per [`proto::Event`]: an array, because some
/// are counted on the per-message path (a pipelining Redis client past its reply queue). Serialised as
/// a map from [`proto::Event::name`] to count, the events never hit left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtoEvents([u64; proto::Event::COUNT]);

impl ProtoEvents {
    pub fn add(&mut self, e: proto::Event, n: u64) {
        if let Some(c) = self.0.get_mut(e as usize) {
            *c += n;
        }
    }

    pub fn get(&self, e: proto::Event) -> u64 {
        self.0.get(e as usize).copied().unwrap_or(0)
    }

    /// The events hit, with their counts, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        proto::Event::ALL.iter().map(|&e| (e.name(), self.get(e))).filter(|(_, n)| *n > 0)
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    pub fn merge(&mut self, o: &ProtoEvents) {
        for e in proto::Event::ALL {
            self.add(e, o.get(e));
        }
    }
}

impl Serialize for ProtoEvents {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// Every stage's counters at one instant.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StatsSnapshot {
    pub engine: EngineStats,
    pub defrag: defrag::Stats,
    pub checksums: checksum::Stats,
    pub reassembly: reassembly::Stats,
    pub http: http::Stats,
    pub active_flows: u64,
    /// Handshakes without data yet (SYN cache).
    pub embryonic_flows: u64,
    /// Cost of the out-of-order runs buffered at the end (allocations included).
    pub buffered_bytes: u64,
    /// What flows held at the end: their runs, partial heads, kept bodies, probers.
    pub held_bytes: u64,
    /// The memory budget (`--memcap`), shared by every analysis thread.
    pub memcap: u64,
    /// The most the budget ever had charged at once (every thread together).
    pub memory_peak: u64,
    /// Of the budget, what is reserved off the top for holdings outside the flows (the alert book,
    /// the follow logs, the sinks' queues and memory backlogs: `memory::Reservation`).
    pub memory_reserved: u64,
    /// Distinct leaks, material included.
    pub leaks: u64,
    /// Of `leaks`, those of the material class (hashes and challenge responses, not cleartext).
    pub material: u64,
    pub sightings: u64,
    pub alerts_not_deduped: u64,
    /// User names of refused logins not remembered (past the alert's 8, or past the book's memory).
    pub alert_users_not_kept: u64,
}

impl StatsSnapshot {
    /// Distinct leaks of a credential in clear (passwords, tokens): what `--fail-on-leak` counts.
    pub fn cleartext_leaks(&self) -> u64 {
        self.leaks.saturating_sub(self.material)
    }

    /// Add another engine's counters (parallel analysis).
    pub fn merge(&mut self, o: &StatsSnapshot) {
        let (e, oe) = (&mut self.engine, &o.engine);
        e.packets += oe.packets;
        e.bytes += oe.bytes;
        e.tcp_segments += oe.tcp_segments;
        e.udp_datagrams += oe.udp_datagrams;
        e.ip_fragments += oe.ip_fragments;
        e.other_ip += oe.other_ip;
        e.not_ip += oe.not_ip;
        e.tls_flows += oe.tls_flows;
        e.probes_abandoned += oe.probes_abandoned;
        e.snmp_logins += oe.snmp_logins;
        e.hsts_pairs_forgotten += oe.hsts_pairs_forgotten;
        e.follow_not_kept += oe.follow_not_kept;
        e.packet_numbers_approximate += oe.packet_numbers_approximate;
        for (k, v) in &oe.proto_flows {
            *e.proto_flows.entry(k).or_insert(0) += v;
        }
        e.proto_events.merge(&oe.proto_events);
        for (k, v) in &oe.malformed {
            *e.malformed.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in &oe.unsupported_links {
            *e.unsupported_links.entry(*k).or_insert(0) += v;
        }
        self.defrag.merge(&o.defrag);
        self.checksums.merge(&o.checksums);
        let (r, or) = (&mut self.reassembly, &o.reassembly);
        r.flows_created += or.flows_created;
        r.flows_closed += or.flows_closed;
        r.flows_timed_out += or.flows_timed_out;
        r.flows_evicted += or.flows_evicted;
        r.gaps += or.gaps;
        r.gap_bytes += or.gap_bytes;
        r.overlaps += or.overlaps;
        r.overlap_conflicts += or.overlap_conflicts;
        r.retransmissions += or.retransmissions;
        r.ooo_segments += or.ooo_segments;
        r.ooo_dropped_bytes += or.ooo_dropped_bytes;
        r.midstream_pickups += or.midstream_pickups;
        r.syn_cache_evicted += or.syn_cache_evicted;
        r.memcap_holes_given_up += or.memcap_holes_given_up;
        r.memcap_flows_evicted += or.memcap_flows_evicted;
        r.bad_checksum_held += or.bad_checksum_held;
        r.bad_checksum_accepted_bytes += or.bad_checksum_accepted_bytes;
        r.bad_checksum_replaced_bytes += or.bad_checksum_replaced_bytes;
        r.bad_checksum_conflicts += or.bad_checksum_conflicts;
        let (h, oh) = (&mut self.http, &o.http);
        h.requests += oh.requests;
        h.responses += oh.responses;
        h.parse_errors += oh.parse_errors;
        h.resyncs += oh.resyncs;
        h.heads_too_large += oh.heads_too_large;
        h.heads_unfolded += oh.heads_unfolded;
        h.head_bytes_dropped += oh.head_bytes_dropped;
        h.framing_conflicts += oh.framing_conflicts;
        h.length_conflicts += oh.length_conflicts;
        h.bodies_truncated += oh.bodies_truncated;
        h.decompression_errors += oh.decompression_errors;
        h.decompressed_bytes_capped += oh.decompressed_bytes_capped;
        h.body_fields_dropped += oh.body_fields_dropped;
        h.tls_connections += oh.tls_connections;
        h.pipeline_overflow += oh.pipeline_overflow;
        h.memcap_heads_dropped += oh.memcap_heads_dropped;
        h.memcap_bodies_dropped += oh.memcap_bodies_dropped;
        h.memcap_pending_dropped += oh.memcap_pending_dropped;
        h.h2.merge(&oh.h2);
        h.ws.merge(&oh.ws);
        self.active_flows += o.active_flows;
        self.embryonic_flows += o.embryonic_flows;
        self.buffered_bytes += o.buffered_bytes;
        self.held_bytes += o.held_bytes;
        // One budget for every engine of the process: not a sum.
        self.memcap = self.memcap.max(o.memcap);
        self.memory_peak = self.memory_peak.max(o.memory_peak);
        self.memory_reserved = self.memory_reserved.max(o.memory_reserved);
        self.leaks += o.leaks;
        self.material += o.material;
        self.sightings += o.sightings;
        self.alerts_not_deduped += o.alerts_not_deduped;
        self.alert_users_not_kept += o.alert_users_not_kept;
    }

    pub fn malformed_total(&self) -> u64 {
        self.engine.malformed.values().sum()
    }

    /// The `--stats` text: one `name: value` per line, grouped by stage.
    pub fn render(&self, elapsed_secs: f64, input_bytes: u64) -> String {
        let e = &self.engine;
        let r = &self.reassembly;
        let h = &self.http;
        let mut s = String::new();
        let mbps = if elapsed_secs > 0.0 { input_bytes as f64 / 1e6 / elapsed_secs } else { 0.0 };
        let _ = writeln!(s, "packets:              {}", e.packets);
        let _ = writeln!(s, "bytes:                {}", e.bytes);
        let _ = writeln!(s, "tcp segments:         {}", e.tcp_segments);
        let _ = writeln!(s, "udp datagrams:        {}", e.udp_datagrams);
        let _ = writeln!(s, "ip fragments:         {}", e.ip_fragments);
        let d = &self.defrag;
        let _ = writeln!(
            s,
            "ip datagrams:         {} reassembled (timed out {}, evicted {}, too large {}, too fragmented {}, malformed fragments {}, incomplete {})",
            d.reassembled, d.timed_out, d.evicted, d.too_large, d.too_fragmented, d.malformed, d.incomplete
        );
        let _ = writeln!(
            s,
            "fragment overlaps:    {} ({} conflicting, {} ipv6 datagrams dropped)",
            d.overlaps, d.overlap_conflicts, d.overlap_dropped
        );
        let c = &self.checksums;
        let _ = writeln!(
            s,
            "checksums:            {} good, {} bad, {} unverifiable, {} not verified (bytes no parser reads)",
            c.good, c.bad, c.unverifiable, c.unread_not_verified
        );
        let _ = writeln!(
            s,
            "bad checksums:        {} segments held ({} bytes taken by their receiver, {} replaced by a good copy, {} decoys), {} dropped, {} bad udp accepted",
            r.bad_checksum_held,
            r.bad_checksum_accepted_bytes,
            r.bad_checksum_replaced_bytes,
            r.bad_checksum_conflicts,
            c.bad_checksum_dropped,
            c.bad_udp_accepted
        );
        let _ = writeln!(s, "other / non-ip:       {} / {}", e.other_ip, e.not_ip);
        let _ = writeln!(s, "malformed packets:    {}", self.malformed_total());
        for (why, n) in &e.malformed {
            let _ = writeln!(s, "  {why}: {n}");
        }
        for (dlt, n) in &e.unsupported_links {
            let _ = writeln!(s, "unsupported link {dlt}:  {n}");
        }
        let _ = writeln!(
            s,
            "flows:                {} (active {}, closed {}, timed out {}, evicted {})",
            r.flows_created, self.active_flows, r.flows_closed, r.flows_timed_out, r.flows_evicted
        );
        let _ = writeln!(
            s,
            "handshakes only:      {} pending (SYN cache evictions {})",
            self.embryonic_flows, r.syn_cache_evicted
        );
        let _ = writeln!(s, "mid-stream pickups:   {}", r.midstream_pickups);
        let _ = writeln!(s, "reassembly gaps:      {} ({} bytes)", r.gaps, r.gap_bytes);
        let _ = writeln!(s, "overlaps:             {} ({} conflicting)", r.overlaps, r.overlap_conflicts);
        let _ = writeln!(s, "retransmissions:      {}", r.retransmissions);
        let _ = writeln!(s, "out-of-order:         {} segments, {} bytes dropped", r.ooo_segments, r.ooo_dropped_bytes);
        let _ = writeln!(s, "http requests:        {}", h.requests);
        let _ = writeln!(s, "http responses:       {}", h.responses);
        let _ = writeln!(
            s,
            "http parse errors:    {} (resyncs {}, heads too large {})",
            h.parse_errors, h.resyncs, h.heads_too_large
        );
        let _ = writeln!(
            s,
            "http bodies capped:   {} (decompression errors {})",
            h.bodies_truncated, h.decompression_errors
        );
        let _ = writeln!(
            s,
            "http heads:           heads_unfolded {}, head_bytes_dropped {}",
            h.heads_unfolded, h.head_bytes_dropped
        );
        let _ = writeln!(
            s,
            "http framing:         framing_conflicts {}, length_conflicts {}",
            h.framing_conflicts, h.length_conflicts
        );
        let _ = writeln!(
            s,
            "http bodies read on:  decompressed_bytes_capped {}, body_fields_dropped {}",
            h.decompressed_bytes_capped, h.body_fields_dropped
        );
        let protos: Vec<String> = e.proto_flows.iter().map(|(p, n)| format!("{p} {n}")).collect();
        let _ = writeln!(
            s,
            "other protocols:      {} (snmp logins {}, undecided for lack of room {})",
            if protos.is_empty() { "none".to_string() } else { protos.join(", ") },
            e.snmp_logins,
            e.probes_abandoned
        );
        let _ = writeln!(s, "http pipeline_overflow: {}", h.pipeline_overflow);
        let h2 = &h.h2;
        let _ = writeln!(
            s,
            "http/2:               {} connections ({} upgraded), {} frames, {} grpc messages; frames_oversized {}, \
             frames_malformed {}, blocks_too_large {}, undecodable {} (blocks_skipped {}), directions_lost {}, \
             streams_over_cap {}, streams_forgotten {}",
            h2.connections + h2.upgrades,
            h2.upgrades,
            h2.frames,
            h2.grpc_messages,
            h2.frames_oversized,
            h2.frames_malformed,
            h2.blocks_too_large,
            h2.undecodable,
            h2.blocks_skipped,
            h2.directions_lost,
            h2.streams_over_cap,
            h2.streams_forgotten
        );
        let w = &h.ws;
        let _ = writeln!(
            s,
            "websocket:            {} connections, {} messages (ws_messages_truncated {}, ws_messages_cut {}, \
             ws_directions_lost {}, ws_protocol_errors {}, ws_inflate_capped {}, ws_inflate_errors {}, \
             ws_undecodable {}, memcap_ws_dropped {})",
            w.connections,
            w.messages,
            w.messages_truncated,
            w.messages_cut,
            w.directions_lost,
            w.protocol_errors,
            w.inflate_capped,
            w.inflate_errors,
            w.undecodable,
            w.memcap_dropped
        );
        let _ = writeln!(s, "other protocol caps:  {}", e.proto_events.total());
        for (name, n) in e.proto_events.iter() {
            let _ = writeln!(s, "  {name}: {n}");
        }
        let _ = writeln!(s, "tls flows:            {}", e.tls_flows);
        let _ = writeln!(s, "hsts pairs forgotten: {}", e.hsts_pairs_forgotten);
        let _ = writeln!(s, "follow messages not kept: {}", e.follow_not_kept);
        let _ = writeln!(s, "packet numbers approximate: {}", e.packet_numbers_approximate);
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let _ = writeln!(
            s,
            "memory:               peak {:.1} MiB of the {:.1} MiB budget ({:.1} MiB of it reserved for alerts, \
             follow logs and sinks; held by flows at the end {:.1} MiB)",
            mib(self.memory_peak),
            mib(self.memcap),
            mib(self.memory_reserved),
            mib(self.held_bytes)
        );
        let _ = writeln!(
            s,
            "memcap:               memcap_holes_given_up {}, memcap_heads_dropped {}, memcap_bodies_dropped {}, \
             memcap_pending_dropped {}, memcap_flows_evicted {}",
            r.memcap_holes_given_up,
            h.memcap_heads_dropped,
            h.memcap_bodies_dropped,
            h.memcap_pending_dropped,
            r.memcap_flows_evicted
        );
        let _ = writeln!(
            s,
            "leaks:                {} ({} sightings): {} cleartext, {} material; alerts_not_deduped {}, \
             alert_users_not_kept {}",
            self.leaks,
            self.sightings,
            self.cleartext_leaks(),
            self.material,
            self.alerts_not_deduped,
            self.alert_users_not_kept
        );
        let _ = writeln!(s, "elapsed:              {elapsed_secs:.3} s");
        let _ = writeln!(s, "throughput:           {mbps:.1} MB/s");
        s
    }
}
