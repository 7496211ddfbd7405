//! The alert file: JSON lines, first sighting of each leak written (and flushed) at once.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::alert::{Alert, AlertSink, Reveal};
use crate::output::file::{OutputFileError, create_private};

/// Writes one JSON object per new leak. Write errors are kept (not panicked on) and reported at the end;
/// a closed pipe (`plainsight ... --alerts - | head`) stops the writing quietly.
pub struct JsonLines {
    out: Box<dyn Write + Send>,
    reveal: Reveal,
    error: Option<io::Error>,
    written: u64,
}

impl JsonLines {
    /// `-` is standard output; anything else is opened by [`create_private`]: a new or own regular file
    /// (mode 0600, truncated), or a FIFO or device of ours; links and other users' files are refused.
    pub fn create(path: &Path, reveal: Reveal) -> Result<JsonLines, OutputFileError> {
        let out: Box<dyn Write + Send> = if path.as_os_str() == "-" {
            Box::new(io::stdout())
        } else {
            Box::new(BufWriter::new(create_private(path)?))
        };
        Ok(JsonLines { out, reveal, error: None, written: 0 })
    }

    /// A sink over any writer (tests).
    pub fn from_writer(out: Box<dyn Write + Send>, reveal: Reveal) -> JsonLines {
        JsonLines { out, reveal, error: None, written: 0 }
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flush and return the first write error, if any (a broken pipe is not an error).
    pub fn finish(mut self) -> io::Result<u64> {
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
}

impl AlertSink for JsonLines {
    fn on_new(&mut self, alert: &Alert) {
        if self.error.is_some() {
            return;
        }
        let rec = alert.record(self.reveal);
        let res = super::term::to_json_line(&mut self.out, &rec).and_then(|()| self.out.flush());
        match res {
            Ok(()) => self.written += 1,
            Err(e) => self.error = Some(e),
        }
    }
}
