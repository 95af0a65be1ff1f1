//! The JIT's listings where the JIT cannot run: the browser playground.
//!
//! The translator (`pvm_jit`) needs a [`Runtime`]: where the VM keeps what
//! compiled code touches and where its helpers are. A native VM builds it
//! from itself (`jit_glue.rs`). In the browser there is no native VM to ask:
//! this build's `Vm` is laid out for 32-bit pointers, and nothing is ever
//! compiled into memory. So the listings use
//!
//! * the offsets of the native x86-64 VM, [`X86_64_OFFSETS`], written down
//!   here and checked against the native layout by a test (a JIT build on
//!   x86-64 fails it if the VM's layout changes), so the loads and stores
//!   in the listing are the ones the native JIT emits;
//! * placeholder addresses for the tables and helpers, which differ from
//!   run to run anyway: helpers from `0x1000` in steps of `0x10`, in the
//!   order of [`pvm_jit::Helpers`]; constants `0x200000`, globals
//!   `0x300000`, function values `0x400000`, the code table `0x100000`,
//!   function facts `0x500000`, interface dispatch `0x600000`.
//!
//! The machine code is for baseline x86-64 ([`pvm_jit::Lister`]).

// A build with the JIT itself lists from it (`explore::jit_listings`) and
// uses only the offsets below, in the test that checks them.
#![cfg_attr(feature = "jit", allow(dead_code))]

use pvm_bytecode::Module;
use pvm_jit::{Helpers, Lister, Offsets, Runtime};

/// The offsets `jit_glue::offsets()` computes on x86-64 Linux.
pub(crate) const X86_64_OFFSETS: Offsets = Offsets {
    ticks: 10648,
    frames_ptr: 10600,
    frames_len: 10608,
    frames_limit: 10624,
    native_limit: 10696,
    marking: 10192,
    frame_size: 24,
    frame_base: 0,
    frame_func: 8,
    frame_pc: 12,
    frame_dst: 16,
    map_live: 20,
};

/// Entries of the interface dispatch table at most (as `jit_glue.rs`).
const MAX_IFACE_TABLE: usize = 1 << 20;

fn placeholder_runtime(m: &Module) -> Runtime {
    let h = |i: usize| 0x1000 + 0x10 * i;
    let helpers = Helpers {
        refuel: h(0),
        window: h(1),
        frames_grow: h(2),
        raise: h(3),
        unwind: h(4),
        iface: h(5),
        native: h(6),
        new_object: h(7),
        new_array: h(8),
        array_fill: h(9),
        push: h(10),
        pop: h(11),
        sort: h(12),
        new_map: h(13),
        map_get: h(14),
        map_set: h(15),
        map_has: h(16),
        map_remove: h(17),
        map_keys: h(18),
        new_cell: h(19),
        closure: h(20),
        concat: h(21),
        tostr: h(22),
        str_eq: h(23),
        str_cmp: h(24),
        throw: h(25),
        try_begin: h(26),
        try_end: h(27),
        leave: h(28),
        barrier: h(29),
        fmod: h(30),
        zero: h(31),
    };
    // The dispatch table's shape, as the native VM decides it.
    let slots = m
        .interfaces
        .iter()
        .map(|i| usize::from(i.first_slot) + i.methods.len())
        .max()
        .unwrap_or(0);
    let table = m
        .classes
        .len()
        .checked_mul(slots)
        .filter(|&n| n > 0 && n <= MAX_IFACE_TABLE)
        .and_then(|_| u32::try_from(slots).ok());
    Runtime {
        off: X86_64_OFFSETS,
        helpers,
        code_table: 0x10_0000,
        consts: 0x20_0000,
        globals: 0x30_0000,
        static_closures: 0x40_0000,
        chunk_bytes: crate::stack::CHUNK_BYTES as u64,
        fn_info: 0x50_0000,
        iface_table: if table.is_some() { 0x60_0000 } else { 0 },
        iface_slots: table.unwrap_or(0),
    }
}

/// Every function's Cranelift IR and x86-64 code, as `pvm dis --clif` and
/// `--asm` print them (each function after a `; fn #N name` line), or why
/// there are none. The module is verified first: the translator relies on
/// every index and type the verifier checks.
pub(crate) fn listings(m: &Module) -> (String, String) {
    if let Err(e) = pvm_bytecode::verify::verify(m) {
        let why = format!("(no listing: the module does not verify: {e})");
        return (why.clone(), why);
    }
    let Ok(mut lister) = Lister::x86_64() else {
        let why = "(no listing: Cranelift has no x86-64 backend in this build)".to_string();
        return (why.clone(), why);
    };
    let rt = placeholder_runtime(m);
    let note = "; (browser build: baseline x86-64; table and helper addresses are placeholders, see vm/src/jit_listing.rs)\n";
    let (mut clif, mut asm) = (String::new(), String::new());
    for (i, f) in m.functions.iter().enumerate() {
        let Ok(id) = u16::try_from(i) else { break };
        for (out, text) in [(&mut clif, lister.clif(m, &rt, id)), (&mut asm, lister.asm(m, &rt, id))] {
            out.push_str(&format!("; fn #{i} {}\n{note}", f.name));
            out.push_str(&text.unwrap_or_else(|e| format!("(not compiled: {e})")));
            out.push('\n');
        }
    }
    (clif, asm)
}

#[cfg(all(test, feature = "jit", target_arch = "x86_64"))]
mod tests {
    #[test]
    fn the_written_down_offsets_are_the_native_layout() {
        assert_eq!(
            super::X86_64_OFFSETS,
            crate::jit_glue::offsets(),
            "the VM's layout changed: copy the right-hand side into X86_64_OFFSETS"
        );
    }
}
