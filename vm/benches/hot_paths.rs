//! Criterion benches of the hot paths: compiling a program (lexer, parser,
//! checker, emitter), verifying it, and the interpreter on call-heavy,
//! float-heavy and allocation-heavy code. Run with `cargo bench -p pvm`.

use criterion::{criterion_group, criterion_main, Criterion};
use pvm::{Config, Host, JitMode, Vm};

const NBODY: &str = include_str!("../../benches/pvm/nbody.pvm");

fn program(body: &str) -> pvm_compiler::Module {
    pvm_compiler::compile_source("bench.pvm", body).expect("bench program compiles")
}

fn run_with(m: &pvm_compiler::Module, jit: JitMode) {
    let config = Config { jit, ..Config::default() };
    let mut vm = Vm::new(m.clone(), &Host::new(), config).expect("verifies");
    vm.run_main().expect("runs");
}

fn run(m: &pvm_compiler::Module) {
    run_with(m, JitMode::Off);
}

fn benches(c: &mut Criterion) {
    c.bench_function("compile nbody.pvm", |b| b.iter(|| program(NBODY)));
    let nbody = program(NBODY);
    c.bench_function("verify nbody.pvm", |b| {
        b.iter(|| pvm::bytecode::verify::verify(&nbody).expect("valid"))
    });
    let fib = program("fn fib(n: int) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }\nfn main() { let x = fib(22); }");
    c.bench_function("interpret fib(22)", |b| b.iter(|| run(&fib)));
    c.bench_function("compile and run fib(22) with --jit=always", |b| {
        b.iter(|| run_with(&fib, JitMode::Always))
    });
    let mandel = program(
        "fn main() { let c = 0; for y in 0..60 { for x in 0..60 { let zr = 0.0; let zi = 0.0; let i = 0; \
         let cr = float(x) / 30.0 - 1.5; let ci = float(y) / 30.0 - 1.0; \
         while i < 50 && zr * zr + zi * zi <= 4.0 { let t = zr * zr - zi * zi + cr; zi = 2.0 * zr * zi + ci; zr = t; i += 1; } \
         if i == 50 { c += 1; } } } }",
    );
    c.bench_function("interpret mandelbrot 60x60", |b| b.iter(|| run(&mandel)));
    c.bench_function("compile and run mandelbrot 60x60 with --jit=always", |b| {
        b.iter(|| run_with(&mandel, JitMode::Always))
    });
    let alloc = program(
        "class N { l: N; r: N; }\nfn make(d: int) -> N { if d == 0 { return N(nil, nil); } return N(make(d - 1), make(d - 1)); }\n\
         fn main() { for i in 0..20 { let t = make(10); } let m: {str: int} = {}; for i in 0..2000 { m[\"k\" + str(i % 100)] = i; } }",
    );
    c.bench_function("interpret allocation + maps", |b| b.iter(|| run(&alloc)));
}

criterion_group!(hot, benches);
criterion_main!(hot);
