//! Hostile bytecode: truncations at every length, single-bit flips and
//! random bytes must all be refused cleanly (an `Err`, never a panic), and
//! whatever still verifies must keep the verifier's promises.

use pvm_compiler::bytecode::format::{decode, encode};

fn sample() -> Vec<u8> {
    let src = r#"
        interface Shape { fn area(self) -> float; }
        class Sq : Shape { s: float; fn area(self) -> float { return self.s * self.s; } }
        let G = {"k": [1, 2]};
        fn main() {
            let xs: [Shape] = [Sq(2.0)];
            let f = fn(x: int) -> int { return x + len(G); };
            try { println(str(xs[0].area()) + str(f(1))); } catch e { println(e); }
        }
    "#;
    encode(&pvm_compiler::compile_source("s.pvm", src).expect("sample compiles"))
}

fn check(bytes: &[u8]) -> bool {
    match decode(bytes) {
        Ok(m) => pvm_bytecode::verify::verify(&m).is_ok(),
        Err(_) => false,
    }
}

#[test]
fn intact_module_round_trips_and_verifies() {
    let b = sample();
    let m = decode(&b).expect("decodes");
    assert_eq!(encode(&m), b);
    assert!(pvm_bytecode::verify::verify(&m).is_ok());
}

#[test]
fn every_truncation_is_refused() {
    let b = sample();
    for len in 0..b.len() {
        assert!(decode(&b[..len]).is_err(), "truncated at {len} was accepted");
    }
}

#[test]
fn bit_flips_never_panic() {
    let b = sample();
    let mut accepted = 0;
    for i in 0..b.len() {
        for bit in 0..8 {
            let mut c = b.clone();
            c[i] ^= 1 << bit;
            if check(&c) {
                accepted += 1;
            }
        }
    }
    // Some flips (e.g. in a constant's value or a line number) are harmless;
    // most must be caught.
    assert!(accepted < b.len() * 8 / 2, "{accepted} of {} flips verified", b.len() * 8);
}

#[test]
fn random_bytes_are_refused() {
    // A fixed xorshift generator keeps the test reproducible.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let header = &sample()[..8];
    for round in 0..2000 {
        let len = (round * 7) % 600;
        let mut v = header.to_vec();
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.push(x as u8);
        }
        assert!(!check(&v), "random module {round} verified");
    }
}
