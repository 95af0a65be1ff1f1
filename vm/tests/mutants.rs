//! A mutation campaign against the verifier's promise: take compiled
//! modules, change single bytes of their `.pvmc` encoding, and run every
//! mutant that still loads (decodes, verifies, links), plainly, with a full
//! collection at every safepoint, and with every function compiled to
//! machine code first, under a fuel and heap bound. Each
//! must end cleanly: a result or a pvm error. A crash, a hang or a Rust
//! panic fails the test (the process itself would die).
//!
//! The test runs a sample of mutations per byte; `cargo test --release -p
//! pvm --test mutants -- --ignored` runs every one of the 255 values at
//! every byte (the campaign reported in the notes).

use pvm::{Captured, Config, GcMode, Host, JitMode, Vm};

const PROGRAMS: &[&str] = &[
    r#"
    interface Shape { fn area(self) -> float; fn name(self) -> str; }
    class Sq : Shape { s: float; fn area(self) -> float { return self.s * self.s; } fn name(self) -> str { return "sq"; } }
    class Ci : Shape { r: float; fn area(self) -> float { return 3.0 * self.r * self.r; } fn name(self) -> str { return "ci"; } }
    let G = {"k": [1, 2]};
    fn main() {
        let xs: [Shape] = [Sq(2.0), Ci(1.0), nil];
        let total = 0.0;
        for s in xs { try { total += s.area(); println(s.name()); } catch e { println(e); } }
        let f = fn(x: int) -> int { return x + len(G); };
        println(str(total) + str(f(1)));
    }
    "#,
    r#"
    class Node { v: int; next: Node; }
    fn build(n: int) -> Node { let h: Node = nil; for i in 0..n { h = Node(i, h); } return h; }
    fn main() {
        let m: {str: int} = {};
        let words = split("a b c a b a", " ");
        for w in words { if has(m, w) { m[w] += 1; } else { m[w] = 1; } }
        remove(m, "c");
        println(m);
        let count = 0;
        let total = 0;
        let h = build(50);
        while h != nil { count += 1; total += h.v; h = h.next; }
        println(count + total);
        let flags = array(10, false);
        flags[3] = true;
        println(flags);
        let s = "x";
        for i in 0..20 { s += str(i); }
        println(substr(s, 0, 5) + trim("  y  ") + join(keys(m), ","));
    }
    "#,
    r#"
    fn fib(n: int) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }
    fn main() {
        let counter = 0;
        let inc = fn() { counter += 1; };
        for i in 0..10 { inc(); }
        let xs = [5, 3, 9, 1];
        sort(xs);
        let fs: [float] = [];
        for x in xs { push(fs, float(x) / 2.0); }
        try { println(10 / (counter - 10)); } catch e { println(e); }
        println(str(fib(15)) + " " + str(counter) + " " + str(fs) + " " + fixed(3.14159, 3));
        let q = pop(xs);
        println(q * -1 % 7);
        throw "done " + str(min(3, 4)) + str(abs(-2.5));
    }
    "#,
];

fn compiled() -> Vec<Vec<u8>> {
    PROGRAMS
        .iter()
        .map(|src| {
            let m = pvm_compiler::compile_source("m.pvm", src).unwrap_or_else(|e| panic!("{}", e.render()));
            pvm::bytecode::format::encode(&m)
        })
        .collect()
}

#[derive(Default, Debug)]
struct Tally {
    mutants: usize,
    loaded: usize,
    finished: usize,
    errors: usize,
}

/// Loads and runs one mutant both ways; a crash would end the process.
fn try_mutant(bytes: &[u8], t: &mut Tally) {
    t.mutants += 1;
    let host = Host::new();
    // Plainly (the JIT compiling what gets hot), under full GC stress, and
    // with every function compiled before it runs (the JIT's translator
    // meets every verified mutant).
    // Under valgrind the JIT stays off: compiled code runs on a stack of the
    // VM's own, and memcheck takes the switch to it for the thread's stack
    // being freed (every read of the old stack is then "invalid").
    let no_jit = std::env::var_os("PVM_MUTANT_NO_JIT").is_some();
    for (k, (mode, jit, fuel)) in [
        (GcMode::Normal, JitMode::On, 20_000),
        (GcMode::StressFull, JitMode::On, 2_000),
        (GcMode::Normal, JitMode::Always, 20_000),
    ]
    .into_iter()
    .enumerate()
    {
        let jit = if no_jit { JitMode::Off } else { jit };
        let config = Config {
            max_heap: 4 << 20,
            gc: mode,
            jit,
            ..Config::default()
        };
        let Ok(mut vm) = Vm::from_bytecode(bytes, &host, config) else {
            return;
        };
        if k == 0 {
            t.loaded += 1;
        }
        vm.set_output(Captured::new());
        vm.set_fuel(Some(fuel));
        match vm.run_main() {
            Ok(()) => t.finished += 1,
            Err(_) => t.errors += 1,
        }
    }
}

fn campaign(values: &dyn Fn(u8) -> Vec<u8>) -> Tally {
    sampled_campaign(values, 1)
}

/// Every `stride`-th mutant of the campaign.
fn sampled_campaign(values: &dyn Fn(u8) -> Vec<u8>, stride: usize) -> Tally {
    let mut t = Tally::default();
    let mut n = 0usize;
    for original in compiled() {
        // The header (magic, version) only gates decoding.
        for i in 8..original.len() {
            let mut m = original.clone();
            for v in values(original[i]) {
                if v == original[i] {
                    continue;
                }
                m[i] = v;
                n += 1;
                if n.is_multiple_of(stride) {
                    try_mutant(&m, &mut t);
                }
            }
        }
    }
    t
}

#[test]
fn single_byte_mutants_end_cleanly() {
    let t = campaign(&|b| vec![b ^ 0x01, b ^ 0x80, b.wrapping_add(1), b.wrapping_sub(1), 0x00, 0xff, b ^ 0x10]);
    eprintln!("{t:?}");
    // Enough mutants get past the verifier for this to mean something.
    assert!(t.mutants > 10_000, "{t:?}");
    assert!(t.loaded > 1_000, "{t:?}");
}

#[test]
#[ignore = "the full campaign: every value at every byte (minutes)"]
fn every_single_byte_mutant_ends_cleanly() {
    let t = campaign(&|_| (0..=255).collect());
    eprintln!("{t:?}");
}

/// A sample of the campaign for a memory checker, which runs everything
/// tens of times slower:
/// `PVM_MUTANT_NO_JIT=1 PVM_MUTANT_STRIDE=20 valgrind --error-exitcode=99
/// target/release/deps/mutants-HASH --ignored sampled` (the stride defaults
/// to 20: every 20th mutant; see `try_mutant` for why the JIT is off).
#[test]
#[ignore = "for running under valgrind by hand"]
fn sampled_mutants_end_cleanly() {
    let stride = std::env::var("PVM_MUTANT_STRIDE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(20);
    let t = sampled_campaign(
        &|b| vec![b ^ 0x01, b ^ 0x80, b.wrapping_add(1), b.wrapping_sub(1), 0x00, 0xff, b ^ 0x10],
        stride,
    );
    eprintln!("{t:?}");
    assert!(t.loaded > 0, "{t:?}");
}
