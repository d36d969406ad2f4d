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
    // One pass over the whole input feeds the assembler and is compared with a trickled one.
    let whole: Vec<_> = decoder(Format::Rawjson, data).collect();
    let mut asm = Assembler::new("fuzz", Format::Rawjson);
    for item in &whole {
        match item {
            Ok(ev) => {
                let _ = asm.push(ev.clone());
            }
            Err(_) => break,
        }
    }
    let _ = asm.finish(false);
    let whole: Vec<String> = whole.iter().map(|r| format!("{r:?}")).collect();
    let trickled: Vec<String> = trickle::trickled(Format::Rawjson, data, trickle::chunk_for(data))
        .map(|r| format!("{r:?}"))
        .collect();
    assert_eq!(whole, trickled, "read boundaries changed what was decoded");
});
