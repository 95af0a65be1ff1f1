//! Fuzzes the `.pvmc` loader, the verifier and the interpreter: any input
//! must be refused with an error, or run to a clean end (a result or a pvm
//! error) under a fuel and heap bound; never panic or crash.
//! Run with `cargo +nightly fuzz run load`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pvm::{Captured, Config, Host, Vm};

fuzz_target!(|data: &[u8]| {
    let config = Config {
        max_heap: 8 << 20,
        ..Config::default()
    };
    if let Ok(mut vm) = Vm::from_bytecode(data, &Host::new(), config) {
        vm.set_output(Captured::new());
        vm.set_fuel(Some(100_000));
        let _ = vm.run_main();
    }
});
