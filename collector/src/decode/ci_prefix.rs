//! CI log line prefixes (placeholder).
