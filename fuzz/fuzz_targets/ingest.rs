//! Fuzz target: format sniffing plus the whole read path (`read_builds`) never panics.
#![no_main]

use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_builds("fuzz", data, None, &AssembleOptions::default());
});
