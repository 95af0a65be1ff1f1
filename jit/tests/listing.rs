//! The lister the browser uses prints the IR the JIT itself compiles: for
//! the same module and runtime, `Lister::clif` and `Jit::clif` agree (but
//! for the index in the name of the function's reference to itself). The
//! offsets the browser uses are checked against the VM's native layout in
//! `vm/src/jit_listing.rs`.

#![cfg(all(feature = "exec", target_arch = "x86_64"))]

use pvm_jit::{Jit, Lister, Runtime};

const SRC: &str = "
class P { x: int; y: float; }
interface S { fn area(self) -> float; }
class Sq : S { side: float; fn area(self) -> float { return self.side * self.side; } }
fn fib(n: int) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }
fn main() {
    let p = P(1, 2.5);
    let s: S = Sq(3.0);
    let total = 0.0;
    for i in 0..10 { total += float(fib(i)) * p.y + s.area(); }
    let m: {str: int} = {};
    m[\"a\"] = 1;
    try { println(str(total) + str(m[\"b\"])); } catch e { println(e); }
}
";

/// `fn0 = colocated u0:N sig0` names the self-reference by an index that
/// differs between the two (a declaration count against a function id).
fn normalized(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("colocated u0:") {
            Some(i) => format!(
                "{}colocated u0:_{}",
                &l[..i],
                l[i..].split_once(' ').map_or("", |(_, r)| r).split_once(' ').map_or("", |(_, r)| r)
            ),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_lister_prints_what_the_jit_compiles() {
    let m = pvm_compiler::compile_source("t.pvm", SRC).expect("compiles");
    pvm_bytecode::verify::verify(&m).expect("verifies");
    let rt = Runtime::default();
    let mut jit = Jit::new().expect("a JIT for this machine");
    let mut lister = Lister::x86_64().expect("an x86-64 lister");
    for f in 0..u16::try_from(m.functions.len()).expect("few functions") {
        let native = jit.clif(&m, &rt, f).expect("the JIT lists it");
        let listed = lister.clif(&m, &rt, f).expect("the lister lists it");
        assert_eq!(normalized(&native), normalized(&listed), "function {f}");
        let asm = lister.asm(&m, &rt, f).expect("x86-64 code");
        assert!(asm.contains("retq"), "function {f}: {asm}");
    }
}
