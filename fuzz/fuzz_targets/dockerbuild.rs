//! Fuzz target: the dockerbuild decoder and the assembler never panic, whatever the bytes.
#![no_main]

use collector::assemble::Assembler;
use collector::decode::decoder;
use collector::model::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut asm = Assembler::new("fuzz", Format::Dockerbuild);
    for item in decoder(Format::Dockerbuild, data) {
        match item {
            Ok(ev) => {
                let _ = asm.push(ev);
            }
            Err(_) => break,
        }
    }
    let _ = asm.finish(false);
});
