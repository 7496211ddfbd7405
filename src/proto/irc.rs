//! Placeholder while the parser is written.
use super::{LoginSink, Session};
use crate::reassembly::Side;
use crate::time::Timestamp;

#[derive(Default, Debug)]
pub struct Irc {
    _todo: (),
}

impl Session for Irc {
    fn on_data(&mut self, _: Side, _: &[u8], _: Timestamp, _: &mut dyn LoginSink) {}
    fn on_gap(&mut self, _: Side, _: u64) {}
    fn on_close(&mut self, _: Timestamp, _: &mut dyn LoginSink) {}
}
