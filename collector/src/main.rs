//! Bantam collector.
fn main() {}
