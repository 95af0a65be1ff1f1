//! The JIT against the interpreter: the same program must behave the same
//! in every tier, including where compiled code meets the VM's machinery:
//! fuel and interrupts (a run stopped inside compiled frames resumes in
//! the interpreter), errors and their stack traces, `try` across tiers,
//! natives calling back into compiled code, deep recursion, the depth
//! limit, host panics, and the collector's stress modes.

// Compares the tiers: needs the JIT (the `jit` feature, on by default).
#![cfg(feature = "jit")]

use pvm::{Captured, Config, GcMode, Host, JitMode, RunError, Vm};

/// A workload touching every kind of instruction compiled code handles.
const WORK: &str = r#"
interface Shape { fn area(self) -> float; fn name(self) -> str; }
class Sq : Shape {
    s: float;
    fn area(self) -> float { return self.s * self.s; }
    fn name(self) -> str { return "sq"; }
}
class Circle : Shape {
    r: float;
    fn area(self) -> float { return 3.0 * self.r * self.r; }
    fn name(self) -> str { return "circle"; }
}
class Node { v: int; next: Node; }

let total = 0;

fn fib(n: int) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }

fn risky(i: int) -> int {
    let xs = [1, 2, 3];
    if i % 5 == 0 { return xs[i]; }
    if i % 7 == 0 { return i / (i - i); }
    if i % 11 == 0 { throw "eleven " + str(i); }
    return i;
}

fn adder(k: int) -> fn(int) -> int {
    let count = 0;
    return fn(x: int) -> int { count += 1; return x + k + count; };
}

fn work(n: int) -> str {
    let out = "";
    let shapes: [Shape] = [];
    for i in 0..n {
        if i % 2 == 0 { push(shapes, Sq(float(i))); } else { push(shapes, Circle(float(i) / 2.0)); }
    }
    let area = 0.0;
    let names: {str: int} = {};
    for s in shapes {
        area += s.area();
        let nm = s.name();
        if has(names, nm) { names[nm] = names[nm] + 1; } else { names[nm] = 1; }
    }
    out = out + fixed(area, 3) + " " + str(names["sq"]) + " " + str(names["circle"]);
    let caught = 0;
    let msgs = "";
    let bias = n % 7 + 1;
    for i in 1..n {
        try {
            total += risky(i);
        } catch e {
            // `bias` is read only here: live wherever the run may stop.
            caught += bias;
            if caught < 4 { msgs = msgs + "[" + e + "]"; }
        }
    }
    out = out + " " + str(caught) + msgs;
    let f = adder(10);
    let acc = 0;
    for i in 0..n { acc = (acc * 31 + f(i)) % 1000003; }
    out = out + " " + str(acc);
    let list: Node = nil;
    for i in 0..n { list = Node(i, list); }
    let sum = 0;
    while list != nil { sum += list.v; list = list.next; }
    out = out + " " + str(sum);
    let words: [str] = [];
    for i in 0..n { push(words, str(i * 7919 % 1000)); }
    sort(words);
    out = out + " " + words[0] + words[len(words) - 1];
    sort_by(words, fn(a: str, b: str) -> bool { return len(a) < len(b); });
    out = out + " " + words[0] + words[len(words) - 1];
    let bits = array(n, false);
    for i in 0..n { bits[i] = i % 3 == 0; }
    let trues = 0;
    for b in bits { if b { trues += 1; } }
    let fl = 0.0;
    for i in 0..n { fl = fl + sqrt(float(i)) - float(int(float(i) / 3.0)) + min(float(i), 2.5) + float(i) % 2.5; }
    out = out + " " + str(trues) + " " + fixed(fl, 4) + " " + str(fib(15)) + " " + str(total);
    return out;
}

fn main() { println(work(300)); }
"#;

fn vm_for(src: &str, jit: JitMode, gc: GcMode) -> (Vm, Captured) {
    let config = Config {
        jit,
        jit_threshold: 3,
        gc,
        ..Config::default()
    };
    let mut vm = match Vm::from_source("t.pvm", src, &Host::new(), config) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    let out = Captured::new();
    vm.set_output(out.clone());
    (vm, out)
}

const TIERS: [JitMode; 3] = [JitMode::Off, JitMode::On, JitMode::Always];

#[test]
fn every_tier_computes_the_same() {
    let mut outs = Vec::new();
    for jit in TIERS {
        let (mut vm, out) = vm_for(WORK, jit, GcMode::Normal);
        vm.run_main().expect("runs");
        outs.push(out.text());
    }
    assert!(outs[0].starts_with("7830062.500 150 150 784 "), "a plausible result: {}", outs[0]);
    assert_eq!(outs[0], outs[1], "JIT on");
    assert_eq!(outs[0], outs[2], "JIT always");
}

#[test]
fn every_tier_computes_the_same_under_gc_stress() {
    let (mut vm, out) = vm_for(WORK, JitMode::Off, GcMode::Normal);
    vm.run_main().expect("runs");
    let want = out.text();
    for gc in [GcMode::StressFull, GcMode::StressIncremental] {
        let (mut vm, out) = vm_for(WORK, JitMode::Always, gc);
        vm.run_main().expect("runs");
        assert_eq!(out.text(), want, "{gc:?}");
    }
}

#[test]
fn fuel_is_the_same_in_every_tier_and_runs_resume_across_tiers() {
    // Fuel used by a whole run: the same checkpoints in every tier.
    let mut used = Vec::new();
    for jit in TIERS {
        let (mut vm, _) = vm_for(WORK, jit, GcMode::Normal);
        vm.set_fuel(Some(u64::MAX / 2));
        vm.run_main().expect("runs");
        used.push(u64::MAX / 2 - vm.fuel().expect("limited"));
    }
    assert!(used[0] > 5_000, "{used:?}");
    assert_eq!(used[0], used[1], "{used:?}");
    assert_eq!(used[0], used[2], "{used:?}");

    // Stopped every few checkpoints (inside compiled loops, calls, callbacks
    // of sort_by) and resumed in the interpreter: same output.
    let (mut vm, out) = vm_for(WORK, JitMode::Off, GcMode::Normal);
    vm.run_main().expect("runs");
    let want = out.text();
    for (jit, step) in [(JitMode::Always, 37), (JitMode::On, 101), (JitMode::Always, 1)] {
        let (mut vm, out) = vm_for(WORK, jit, GcMode::Normal);
        vm.set_fuel(Some(step));
        let mut r = vm.run_main();
        let mut stops = 0u64;
        while r == Err(RunError::OutOfFuel) {
            stops += 1;
            vm.add_fuel(step);
            r = vm.resume_main();
        }
        assert_eq!(r, Ok(()));
        assert_eq!(out.text(), want, "{jit:?}, {step} at a time");
        assert!(stops >= used[0] / step - 1, "{stops} stops");
    }
}

#[test]
fn an_interrupt_stops_compiled_loops_and_they_resume() {
    let src = "let n = 0;\nfn spin(k: int) -> int { let s = 0; while n < k { n += 1; s += n % 3; } return s; }";
    let (mut vm, _) = vm_for(src, JitMode::Always, GcMode::Normal);
    let spin = vm.func::<(i64,), i64>("spin").expect("found");
    let handle = vm.interrupt_handle();
    handle.interrupt();
    assert_eq!(spin.call(&mut vm, (1_000_000,)), Err(RunError::Interrupted));
    let mut r = spin.resume(&mut vm);
    let mut stops = 0;
    while r == Err(RunError::Interrupted) {
        stops += 1;
        r = spin.resume(&mut vm);
    }
    assert_eq!(r, Ok((1..=1_000_000).map(|i| i % 3).sum::<i64>()));
    assert_eq!(stops, 0, "one interrupt stops one run");
}

#[test]
fn errors_have_the_same_message_and_trace_in_every_tier() {
    let src = "fn a(xs: [int], i: int) -> int { return xs[i]; }\nfn b(xs: [int], i: int) -> int {\n  let s = 0;\n  for k in 0..i { s += a(xs, k); }\n  return s;\n}\nfn c(i: int) -> int { return b([1, 2, 3], i); }";
    let mut errs = Vec::new();
    for jit in TIERS {
        let (mut vm, _) = vm_for(src, jit, GcMode::Normal);
        let c = vm.func::<(i64,), i64>("c").expect("found");
        for _ in 0..5 {
            assert_eq!(c.call(&mut vm, (3,)), Ok(6));
        }
        errs.push(c.call(&mut vm, (5,)).expect_err("out of range"));
    }
    let RunError::Error { message, trace } = &errs[0] else {
        panic!("{:?}", errs[0]);
    };
    assert_eq!(message, "index out of range: index 3 for length 3");
    let fns: Vec<&str> = trace.iter().map(|t| t.function.as_str()).collect();
    assert_eq!(fns, ["a", "b", "c"]);
    assert_eq!(trace.iter().map(|t| t.line).collect::<Vec<_>>(), [1, 4, 7]);
    assert_eq!(errs[1], errs[0]);
    assert_eq!(errs[2], errs[0]);
}

#[test]
fn deep_recursion_works_and_runaway_recursion_is_a_catchable_error() {
    let src = "fn depth(n: int) -> int { if n == 0 { return 0; } return 1 + depth(n - 1); }\n\
               fn forever(n: int) -> int { return forever(n + 1) + 1; }\n\
               fn guarded() -> str { try { return str(forever(0)); } catch e { return e; } }";
    for jit in TIERS {
        let (mut vm, _) = vm_for(src, jit, GcMode::Normal);
        let depth = vm.func::<(i64,), i64>("depth").expect("found");
        assert_eq!(depth.call(&mut vm, (150_000,)), Ok(150_000), "{jit:?}");
        let guarded = vm.func::<(), String>("guarded").expect("found");
        assert_eq!(guarded.call(&mut vm, ()), Ok("stack overflow".to_string()), "{jit:?}");
        // And the VM is fine afterwards.
        assert_eq!(depth.call(&mut vm, (10,)), Ok(10), "{jit:?}");
    }
}

#[test]
fn the_depth_limit_is_the_same_in_every_tier() {
    // `leaf` is compiled into `down` (a small leaf): the call still counts
    // against the limit.
    let src = "let deepest = 0;\nfn leaf(n: int) -> int { return n; }\nfn down(n: int) -> int { deepest = leaf(n); return down(n + 1); }\n\
               fn probe() -> int { try { down(1); } catch e { } return deepest; }";
    let mut got = Vec::new();
    for jit in TIERS {
        let config = Config {
            jit,
            jit_threshold: 1,
            max_depth: 1000,
            ..Config::default()
        };
        let mut vm = Vm::from_source("t.pvm", src, &Host::new(), config).expect("loads");
        let probe = vm.func::<(), i64>("probe").expect("found");
        got.push(probe.call(&mut vm, ()).expect("runs"));
    }
    assert_eq!(
        got[0], 998,
        "probe and down(1) .. down(999) fill the 1000 frames: leaf(999) is one too many"
    );
    assert_eq!(got, [got[0]; 3]);
}

#[test]
fn a_host_panic_crosses_compiled_code_to_the_host() {
    let mut host = Host::new();
    host.func("boom", |n: i64| -> i64 {
        if n == 50 {
            panic!("host says no");
        }
        n
    })
    .expect("registers");
    let src = "fn run() -> int { let s = 0; for i in 0..100 { s += boom(i); } return s; }";
    let config = Config {
        jit: JitMode::Always,
        ..Config::default()
    };
    let mut vm = Vm::from_source("t.pvm", src, &host, config).expect("loads");
    let run = vm.func::<(), i64>("run").expect("found");
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.call(&mut vm, ())));
    let payload = r.expect_err("the panic reaches the host");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"host says no"));
}

#[test]
fn callbacks_from_natives_run_compiled_code() {
    // sort_by calls the comparator (compiled under --jit=always) from Rust,
    // which was called from compiled code.
    let src = "fn run(n: int) -> int {\n  let xs: [int] = [];\n  for i in 0..n { push(xs, i * 7919 % n); }\n  \
               sort_by(xs, fn(a: int, b: int) -> bool { return a > b; });\n  return xs[0] * 1000 + xs[n - 1];\n}";
    for jit in TIERS {
        let (mut vm, _) = vm_for(src, jit, GcMode::Normal);
        let run = vm.func::<(i64,), i64>("run").expect("found");
        assert_eq!(run.call(&mut vm, (1000,)), Ok(999_000), "{jit:?}");
    }
}

#[test]
fn compiled_code_can_be_listed() {
    let (mut vm, _) = vm_for(WORK, JitMode::On, GcMode::Normal);
    let clif = vm.jit_listing(false).expect("listing");
    assert!(clif.contains("function %fib"), "{}", &clif[..200.min(clif.len())]);
    let asm = vm.jit_listing(true).expect("listing");
    assert!(asm.contains("ret"), "machine code is shown");
}

#[test]
fn small_leaves_compiled_into_their_callers_fail_like_real_calls() {
    // `ratio` and `first` qualify for inlining (small, no calls, no loops,
    // no allocation); their errors must still name them in the trace, and
    // a `try` in the caller must still catch them.
    let src = "class P { x: int; }\nfn ratio(a: int, b: int) -> int { return a / b; }\nfn first(xs: [int], p: P) -> int { return xs[0] + p.x; }\n\
               fn sum(n: int) -> int {\n  let s = 0;\n  for i in 0..n { s += ratio(100, n - 1 - i); }\n  return s;\n}\n\
               fn safe(n: int) -> str { try { return str(sum(n)); } catch e { return e; } }\n\
               fn pick(k: int) -> int { let xs: [int] = []; let p: P = nil; if k > 0 { push(xs, k); p = P(k); } if k > 1 { p = nil; } return first(xs, p); }";
    let mut errs = Vec::new();
    for jit in TIERS {
        let (mut vm, _) = vm_for(src, jit, GcMode::Normal);
        let safe = vm.func::<(i64,), String>("safe").expect("found");
        assert_eq!(safe.call(&mut vm, (50,)), Ok("division by zero".to_string()), "{jit:?}");
        let sum = vm.func::<(i64,), i64>("sum").expect("found");
        let e = sum.call(&mut vm, (50,)).expect_err("fails");
        let pick = vm.func::<(i64,), i64>("pick").expect("found");
        for _ in 0..5 {
            assert_eq!(pick.call(&mut vm, (1,)), Ok(2), "{jit:?}");
        }
        let e0 = pick.call(&mut vm, (0,)).expect_err("empty array");
        let e2 = pick.call(&mut vm, (2,)).expect_err("nil object");
        errs.push((e, e0, e2));
    }
    let (RunError::Error { message, trace }, _, _) = &errs[0] else {
        panic!("{:?}", errs[0]);
    };
    assert_eq!(message, "division by zero");
    assert_eq!(trace.iter().map(|t| t.function.as_str()).collect::<Vec<_>>(), ["ratio", "sum"]);
    assert_eq!(trace.iter().map(|t| t.line).collect::<Vec<_>>(), [2, 6]);
    assert_eq!(errs[1], errs[0]);
    assert_eq!(errs[2], errs[0]);
    let RunError::Error { message, .. } = &errs[0].1 else { panic!() };
    assert_eq!(message, "index out of range: index 0 for length 0");
    let RunError::Error { message, .. } = &errs[0].2 else { panic!() };
    assert_eq!(message, "nil reference");
}

/// Resident memory of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = s.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("resident pages");
    pages * 4
}

#[test]
fn machine_code_and_stacks_are_freed_with_their_vm() {
    // Each VM compiles every function and reserves its own machine stack;
    // dropping it must give both back: 10,000 VMs later the process has
    // not grown.
    let src = "fn sq(x: int) -> int { return x * x; }\nfn run(n: int) -> int { let s = 0; for i in 0..n { s += sq(i); } return s; }";
    let make = || {
        let config = Config {
            jit: JitMode::Always,
            ..Config::default()
        };
        let mut vm = Vm::from_source("t.pvm", src, &Host::new(), config).expect("loads");
        let run = vm.func::<(i64,), i64>("run").expect("found");
        assert_eq!(run.call(&mut vm, (10,)), Ok(285));
        assert_eq!(vm.stats().jit.compiled, 2);
    };
    for _ in 0..200 {
        make();
    }
    let before = rss_kib();
    for _ in 0..10_000 {
        make();
    }
    let after = rss_kib();
    assert!(after < before + 8 * 1024, "grew from {before} KiB to {after} KiB");
}

#[test]
fn a_call_stopped_and_resumed_then_failing_keeps_the_old_destination() {
    // `x = f(x)` inside a `try`: when the run stops at the call and `f`
    // fails after resuming, the handler must see `x`'s old value.
    let src = "fn f(n: int) -> int { if n > 5 { throw \"big\"; } return n + 1; }\n\
               fn g(k: int) -> int {\n  let x = k;\n  let total = 0;\n  for i in 0..20 {\n    try { x = f(x); } catch e { total += x * 1000; x = 0; }\n    total += x;\n  }\n  return total;\n}";
    let mut want = None;
    // Two checkpoints per iteration (the call and the back edge): 6 ticks
    // stop the compiled loop at the call that throws, with `x` changed in
    // machine registers since the frame was entered.
    let runs = [(JitMode::Off, 0)].into_iter().chain((1..=9).map(|step| (JitMode::Always, step)));
    for (jit, step) in runs {
        let (mut vm, _) = vm_for(src, jit, GcMode::Normal);
        let g = vm.func::<(i64,), i64>("g").expect("found");
        let r = if step == 0 {
            g.call(&mut vm, (3,))
        } else {
            vm.set_fuel(Some(step));
            let mut r = g.call(&mut vm, (3,));
            while r == Err(RunError::OutOfFuel) {
                vm.add_fuel(step);
                r = g.resume(&mut vm);
            }
            r
        };
        let r = r.expect("runs");
        match want {
            None => want = Some(r),
            Some(w) => assert_eq!(r, w, "{jit:?}, {step} at a time"),
        }
    }
    assert!(want.is_some_and(|w| w > 6000), "{want:?}");
}

#[test]
fn loops_that_outlast_their_ticks_yield_and_come_back() {
    // A compiled loop that uses up a chunk of fuel ticks (1024 back edges)
    // leaves to the interpreter, which pays for more and moves it back to
    // compiled code at its header; its callers (compiled) continue in the
    // interpreter. Here the loops run millions of back edges: in a caller
    // several calls deep, with floats and ints live across the loop, and
    // inside a comparator that a native calls back.
    let src = r#"
fn spin(n: int, x: float) -> float {
    let a = x; let b = 1.0; let k = 0;
    for i in 0..n { a = a * 0.5 + b; b = b + 0.25; k += i % 3; }
    return a + b + float(k);
}
fn middle(n: int) -> float {
    let s = 0.0;
    let j = 0;
    while j < 4 { s += spin(n, float(j)); j += 1; }
    return s;
}
fn run(n: int) -> str {
    let xs: [int] = [];
    for i in 0..40 { push(xs, i * 17 % 40); }
    sort_by(xs, fn(a: int, b: int) -> bool { return spin(n / 100, float(a)) + float(a) < spin(n / 100, float(b)) + float(b); });
    return fixed(middle(n), 3) + " " + str(xs[0]) + " " + str(xs[39]);
}
"#;
    let mut outs = Vec::new();
    for jit in TIERS {
        let (mut vm, _) = vm_for(src, jit, GcMode::Normal);
        let run = vm.func::<(i64,), String>("run").expect("found");
        outs.push(run.call(&mut vm, (200_000,)).expect("runs"));
    }
    // 4 * (b = 1 + n/4) + 2n/3-ish: the exact value is the interpreter's.
    assert!(outs[0].ends_with(" 0 39"), "sorted: {}", outs[0]);
    assert_eq!(outs[0], outs[1], "JIT on");
    assert_eq!(outs[0], outs[2], "JIT always");
}
