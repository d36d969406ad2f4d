//! Fuzz target: the dockerbuild decoder and the assembler on archives whose member files are
//! fuzzed (see `fuzz/common/members.rs`), past the gzip and tar checksums that stop raw bytes.
#![no_main]

use collector::assemble::Assembler;
use collector::decode::decoder;
use collector::model::Format;
use libfuzzer_sys::fuzz_target;

#[path = "../common/members.rs"]
mod members;

fuzz_target!(|data: &[u8]| {
    let archive = members::pack(&members::split(data));
    let mut asm = Assembler::new("fuzz", Format::Dockerbuild);
    for item in decoder(Format::Dockerbuild, archive.as_slice()) {
        match item {
            Ok(ev) => {
                let _ = asm.push(ev);
            }
            Err(_) => break,
        }
    }
    let _ = asm.finish(false);
});
