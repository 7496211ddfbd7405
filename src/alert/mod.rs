//! Alert: the one model every sink consumes, with severity, dedup, redaction and fingerprints.
