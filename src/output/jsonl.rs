//! The alert file: JSON lines, first sighting of each leak written (and flushed) at once, in the shape
//! `--alerts-format` names (every line rendered by [`super::event::render`]).

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use super::event::{self, EventFormat, EventKind, EventMeta, Throttle};
use crate::alert::{Alert, AlertSink, Reveal};
use crate::output::file::{OutputFileError, create_private};

/// Writes one JSON object per new leak (and, when asked, update events of a leak seen again, at most
/// one per second of capture time: [`Throttle`]). Write errors are kept (not panicked on) and reported
/// at the end; a closed pipe (`plainsight ... --alerts - | head`) stops the writing quietly.
pub struct JsonLines {
    out: Box<dyn Write + Send>,
    reveal: Reveal,
    error: Option<io::Error>,
    written: u64,
    format: EventFormat,
    meta: EventMeta,
    /// Update events: None when only first sightings are written.
    updates: Option<Throttle>,
    /// Reused list of the updates due.
    due: Vec<Alert>,
}

impl JsonLines {
    /// `-` is standard output; anything else is opened by [`create_private`]: a new or own regular file
    /// (mode 0600, truncated), or a FIFO or device of ours; links and other users' files are refused.
    /// Native events, first sightings only, until [`JsonLines::events`] says otherwise.
    pub fn create(path: &Path, reveal: Reveal) -> Result<JsonLines, OutputFileError> {
        let out: Box<dyn Write + Send> = if path.as_os_str() == "-" {
            Box::new(io::stdout())
        } else {
            Box::new(BufWriter::new(create_private(path)?))
        };
        Ok(JsonLines::from_writer(out, reveal))
    }

    /// A sink over any writer (tests).
    pub fn from_writer(out: Box<dyn Write + Send>, reveal: Reveal) -> JsonLines {
        JsonLines {
            out,
            reveal,
            error: None,
            written: 0,
            format: EventFormat::Native,
            meta: EventMeta { sensor: Arc::from(""), run_id: Arc::from(""), iface: None },
            updates: None,
            due: Vec::new(),
        }
    }

    /// Events in `format`, from the sensor and run `meta` names; with `updates`, a leak seen again is
    /// written again (same event id) as [`Throttle`] allows.
    pub fn events(mut self, format: EventFormat, meta: EventMeta, updates: bool) -> JsonLines {
        self.format = format;
        self.meta = meta;
        self.updates = updates.then(Throttle::default);
        self
    }

    /// Lines written (first sightings and updates).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Update events folded into a later one, and those not written because too many leaks were
    /// tracked (see [`event::MAX_TRACKED`]).
    pub fn updates_suppressed(&self) -> (u64, u64) {
        self.updates.as_ref().map_or((0, 0), |t| (t.suppressed, t.untracked))
    }

    /// Write the updates still held back, flush, and return the first write error, if any (a broken
    /// pipe is not an error).
    pub fn finish(mut self) -> io::Result<u64> {
        self.flush_updates();
        if self.error.is_none() {
            if let Err(e) = self.out.flush() {
                self.error = Some(e);
            }
        }
        match self.error {
            Some(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
            _ => Ok(self.written),
        }
    }

    /// [`JsonLines::finish`] that keeps the sink (callers that own it behind a reference): the
    /// pending updates written and the output flushed.
    pub fn flush_updates(&mut self) {
        if let Some(t) = self.updates.as_mut() {
            let mut due = std::mem::take(&mut self.due);
            t.finish(&mut due);
            self.write_due(&mut due);
            self.due = due;
        }
    }

    fn write(&mut self, alert: &Alert, kind: EventKind) {
        if self.error.is_some() {
            return;
        }
        let mut line = event::render(alert, kind, self.reveal, self.format, &self.meta);
        line.push('\n');
        let res = self.out.write_all(line.as_bytes()).and_then(|()| self.out.flush());
        match res {
            Ok(()) => self.written += 1,
            Err(e) => self.error = Some(e),
        }
    }

    fn write_due(&mut self, due: &mut Vec<Alert>) {
        for a in due.drain(..) {
            self.write(&a, EventKind::Update);
        }
    }
}

impl AlertSink for JsonLines {
    fn on_new(&mut self, alert: &Alert) {
        self.write(alert, EventKind::New);
        if let Some(t) = self.updates.as_mut() {
            let mut due = std::mem::take(&mut self.due);
            t.on_new(alert, &mut due);
            self.write_due(&mut due);
            self.due = due;
        }
    }

    fn on_repeat(&mut self, alert: &Alert) {
        if let Some(t) = self.updates.as_mut() {
            let mut due = std::mem::take(&mut self.due);
            t.on_repeat(alert, &mut due);
            self.write_due(&mut due);
            self.due = due;
        }
    }
}
