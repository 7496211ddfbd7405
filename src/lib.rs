//! plainsight: a passive sniffer that proves, from the wire, which credentials an application sends
//! without TLS.
//!
//! The pipeline is the architecture, one module per stage; each stage owns its types and knows nothing
//! of the stages after it:
//!
//! `capture` -> `decode` -> `reassembly` -> `http` -> `detect` -> `alert` -> `output` / `tui`
//!
//! `pipeline` wires them together for one packet source. `fleet` is the other source of alerts: the
//! events many sensors sent to one engine, merged for `plainsight watch`. See ARCHITECTURE.md.

pub mod alert;
pub mod capture;
pub mod decode;
pub mod detect;
pub mod fleet;
pub mod http;
pub mod memory;
pub mod output;
pub mod pipeline;
pub mod proto;
pub mod reassembly;
pub mod secret;
pub mod time;
pub mod tui;
