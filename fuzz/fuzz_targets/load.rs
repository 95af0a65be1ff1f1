//! Fuzzes the `.pvmc` loader and the verifier: any input must be refused
//! with an error or accepted, never panic. Run with `cargo +nightly fuzz run load`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = pvm_compiler::bytecode::format::decode(data) {
        let _ = pvm::verify::verify(&m);
    }
});
