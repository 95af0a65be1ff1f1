//! Host ⇄ script boundary: the same three operations in pvm and in Lua 5.4
//! (through mlua), measured in one run.
//!
//! 1. the host calls a script function `add(int, int) -> int`;
//! 2. the script calls a host function (a loop of 1000 calls, per call);
//! 3. the host calls a script function passing and returning a 100-byte string.

use criterion::{criterion_group, criterion_main, Criterion};
use mlua::{Function, Lua};
use pvm::{Config, Host, Vm};
use std::hint::black_box;

const CALLS: i64 = 1000;

fn pvm_vm() -> Vm {
    let mut host = Host::new();
    host.func("host_inc", |x: i64| x + 1).expect("name");
    let src = "fn add(a: int, b: int) -> int { return a + b; }\n\
               fn loop_host(n: int) -> int { let s = 0; for i in 0..n { s = host_inc(s); } return s; }\n\
               fn echo(s: str) -> str { return s; }";
    Vm::from_source("b.pvm", src, &host, Config::default()).expect("compiles")
}

fn lua_vm() -> Lua {
    let lua = Lua::new();
    let inc = lua.create_function(|_, x: i64| Ok(x + 1)).expect("function");
    lua.globals().set("host_inc", inc).expect("global");
    lua.load(
        "function add(a, b) return a + b end\n\
         function loop_host(n) local s = 0 for i = 1, n do s = host_inc(s) end return s end\n\
         function echo(s) return s end",
    )
    .exec()
    .expect("loads");
    lua
}

fn boundary(c: &mut Criterion) {
    let text = "x".repeat(100);

    let mut vm = pvm_vm();
    let add = vm.func::<(i64, i64), i64>("add").expect("add");
    let loop_host = vm.func::<(i64,), i64>("loop_host").expect("loop_host");
    let echo = vm.func::<(String,), String>("echo").expect("echo");
    let lua = lua_vm();
    let ladd: Function = lua.globals().get("add").expect("add");
    let lloop: Function = lua.globals().get("loop_host").expect("loop_host");
    let lecho: Function = lua.globals().get("echo").expect("echo");

    let mut g = c.benchmark_group("host calls script add(int, int)");
    g.bench_function("pvm", |b| b.iter(|| add.call(&mut vm, (black_box(2), 3)).expect("runs")));
    g.bench_function("mlua", |b| b.iter(|| ladd.call::<i64>((black_box(2), 3)).expect("runs")));
    g.finish();

    let mut g = c.benchmark_group("script calls host fn, x1000");
    g.bench_function("pvm", |b| b.iter(|| loop_host.call(&mut vm, (black_box(CALLS),)).expect("runs")));
    g.bench_function("mlua", |b| b.iter(|| lloop.call::<i64>(black_box(CALLS)).expect("runs")));
    g.finish();

    let mut g = c.benchmark_group("host calls script with a 100-byte str");
    g.bench_function("pvm", |b| b.iter(|| echo.call(&mut vm, (black_box(text.clone()),)).expect("runs")));
    g.bench_function("mlua", |b| b.iter(|| lecho.call::<String>(black_box(text.as_str())).expect("runs")));
    g.finish();
}

criterion_group!(benches, boundary);
criterion_main!(benches);
