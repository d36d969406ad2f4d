//! Fuzz target: the rawjson decoder and the assembler never panic, whatever the bytes, and the
//! decoder gives the same items whether the input arrives in one read or a few bytes at a time.
#![no_main]

use collector::assemble::Assembler;
use collector::decode::decoder;
use collector::model::Format;
use libfuzzer_sys::fuzz_target;

#[path = "../common/trickle.rs"]
mod trickle;

fuzz_target!(|data: &[u8]| {
    let mut asm = Assembler::new("fuzz", Format::Rawjson);
    for item in decoder(Format::Rawjson, data) {
        match item {
            Ok(ev) => {
                let _ = asm.push(ev);
            }
            Err(_) => break,
        }
    }
    let _ = asm.finish(false);
    assert_eq!(
        trickle::decoded(Format::Rawjson, data, None),
        trickle::decoded(Format::Rawjson, data, Some(trickle::chunk_for(data))),
        "read boundaries changed what was decoded"
    );
});
