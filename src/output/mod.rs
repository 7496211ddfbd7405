//! Output: sinks that consume alerts (JSON lines file, end-of-run report).
