//! Terminal UI (ratatui).
