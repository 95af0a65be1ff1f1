//! Criterion benches of the JIT itself: how long Cranelift takes per
//! bytecode instruction, on the functions of real programs (every function
//! of each benchmark program, compiled one after the other). Run with
//! `cargo bench -p pvm-jit`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pvm_jit::{Jit, Runtime};

const PROGRAMS: &[(&str, &str)] = &[
    ("nbody", include_str!("../../benches/pvm/nbody.pvm")),
    ("jsonparse", include_str!("../../benches/pvm/jsonparse.pvm")),
    ("dispatch", include_str!("../../benches/pvm/dispatch.pvm")),
];

fn benches(c: &mut Criterion) {
    // Compiling needs addresses only to embed them in the code, which never
    // runs here: a default (all-zero) runtime will do.
    let rt = Runtime::default();
    let mut g = c.benchmark_group("jit compile");
    for (name, src) in PROGRAMS {
        let m = pvm_compiler::compile_source(name, src).expect("bench program compiles");
        pvm_bytecode::verify::verify(&m).expect("verifies");
        let instrs: usize = m.functions.iter().map(|f| f.code.len()).sum();
        g.throughput(Throughput::Elements(instrs as u64));
        g.bench_function(
            format!("{name}.pvm ({} functions, {instrs} instructions)", m.functions.len()),
            |b| {
                b.iter(|| {
                    let mut jit = Jit::new().expect("host supported");
                    for f in 0..m.functions.len() {
                        jit.compile(&m, &rt, f as u16).expect("compiles");
                    }
                })
            },
        );
    }
    g.finish();
}

criterion_group!(compile, benches);
criterion_main!(compile);
