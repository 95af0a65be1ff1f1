//! The embedding API, bullet by bullet: loading, host functions, typed
//! calls, re-entry, errors, limits, I/O and capabilities, many VMs.

use indexmap::IndexMap;
use pvm::{Access, Capabilities, Captured, Config, Host, JitMode, LoadError, RunError, Vm};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn load(src: &str) -> Vm {
    vm_with(src, &Host::new())
}

fn vm_with(src: &str, host: &Host) -> Vm {
    match Vm::from_source("t.pvm", src, host, Config::default()) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

// ---------------------------------------------------------------- loading

#[test]
fn compile_errors_are_structured_and_rendered() {
    let err = Vm::from_source(
        "bad.pvm",
        "fn f() -> int {\n  return \"x\";\n}\nfn g() { h(); }\n",
        &Host::new(),
        Config::default(),
    )
    .err()
    .expect("does not compile");
    let LoadError::Compile { rendered, errors } = &err else {
        panic!("not a compile error: {err}");
    };
    assert_eq!(errors.len(), 2, "{rendered}");
    assert_eq!((errors[0].file.as_str(), errors[0].line, errors[0].column), ("bad.pvm", 2, 10));
    // The extent of the offending text, for an editor to underline: `"x"`.
    assert_eq!((errors[0].end_line, errors[0].end_column), (2, 13));
    assert!(errors[0].message.contains("expected `int`"), "{}", errors[0].message);
    assert_eq!((errors[1].line, errors[1].column), (4, 10));
    assert!(rendered.starts_with("bad.pvm:2:10: error: "), "{rendered}");
}

#[test]
fn imports_can_be_served_from_memory() {
    let mut r = pvm_compiler::MemoryResolver::default();
    r.files
        .insert("lib/util".into(), "fn triple(x: int) -> int { return 3 * x; }".into());
    let src = "import \"lib/util\";\nimport \"std/math\";\nfn go() -> int { return triple(gcd(12, 18)); }";
    let mut vm = Vm::from_source_with("main.pvm", src, &r, &Host::new(), Config::default()).expect("compiles");
    let go = vm.func::<(), i64>("go").expect("found");
    assert_eq!(go.call(&mut vm, ()), Ok(18));
    let missing = Vm::from_source_with("m.pvm", "import \"nope\";", &r, &Host::new(), Config::default());
    assert!(matches!(missing, Err(LoadError::Compile { ref rendered, .. }) if rendered.contains("cannot import \"nope\"")));
}

#[test]
fn bytecode_loads_without_the_compiler_path() {
    let m = pvm_compiler::compile_source("b.pvm", "fn main() {}\nfn sq(x: float) -> float { return x * x; }").expect("compiles");
    let bytes = pvm::bytecode::format::encode(&m);
    let mut vm = Vm::from_bytecode(&bytes, &Host::new(), Config::default()).expect("loads");
    assert_eq!(vm.func::<(f64,), f64>("sq").expect("found").call(&mut vm, (1.5,)), Ok(2.25));
    let mut bad = bytes.clone();
    bad.truncate(bytes.len() / 2);
    assert!(matches!(
        Vm::from_bytecode(&bad, &Host::new(), Config::default()),
        Err(LoadError::Decode(_))
    ));
}

// ---------------------------------------------------------------- host functions

#[test]
fn host_functions_take_and_return_every_kind_of_value() {
    let mut host = Host::new();
    host.func("sum", |xs: Vec<i64>| xs.iter().sum::<i64>()).unwrap();
    host.func("words", |s: String| s.split(' ').map(str::to_string).collect::<Vec<_>>())
        .unwrap();
    host.func("env", |k: String| if k == "HOME" { Some("/home/a".to_string()) } else { None })
        .unwrap();
    host.func("stock", || {
        let mut m = IndexMap::new();
        m.insert("apple".to_string(), 3i64);
        m.insert("pear".to_string(), 0);
        m
    })
    .unwrap();
    host.func("total", |m: HashMap<String, i64>| m.values().sum::<i64>()).unwrap();
    host.func("flags", |b: bool, f: f64| if b { f } else { -f }).unwrap();
    host.func("grid", |n: i64| vec![vec![n; 2]; 2]).unwrap();
    let src = r#"
        fn go() -> str {
            let s = str(sum([1, 2, 3])) + " " + str(words("a b c")) + " " + str(env("HOME")) + " " + str(env("X"));
            let st = stock();
            s += " " + str(st) + " " + str(total({"a": 2, "b": 5})) + " " + str(flags(false, 2.5)) + " " + str(grid(7));
            return s;
        }
    "#;
    let mut vm = vm_with(src, &host);
    let go = vm.func::<(), String>("go").expect("found");
    assert_eq!(
        go.call(&mut vm, ()).expect("runs"),
        r#"6 ["a", "b", "c"] /home/a nil {"apple": 3, "pear": 0} 7 -2.5 [[7, 7], [7, 7]]"#
    );
}

#[test]
fn the_checker_sees_host_signatures() {
    let mut host = Host::new();
    host.func("score", |a: i64, s: String| a as f64 * s.len() as f64).unwrap();
    let err = Vm::from_source("t.pvm", "fn f() -> float { return score(\"x\", 3); }", &host, Config::default())
        .err()
        .expect("wrong argument types do not compile");
    let LoadError::Compile { errors, .. } = err else {
        panic!("not a compile error")
    };
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().all(|e| e.message.contains("expected")), "{errors:?}");
    // And without the host function, the name is unknown.
    assert!(Vm::from_source(
        "t.pvm",
        "fn f() -> float { return score(1, \"x\"); }",
        &Host::new(),
        Config::default()
    )
    .is_err());
    // A module compiled against one host does not link against another.
    let m = pvm_compiler::compile_source_with(
        "t.pvm",
        "fn f() -> float { return score(1, \"ab\"); }",
        &pvm_compiler::Options {
            host: &host.signatures(),
            require_main: false,
            ..Default::default()
        },
    )
    .expect("compiles")
    .0;
    let mut other = Host::new();
    other.func("score", |a: i64| a as f64).unwrap();
    assert!(matches!(Vm::new(m.clone(), &other, Config::default()), Err(LoadError::Link(_))));
    assert!(matches!(
        Vm::new(m.clone(), &Host::new(), Config::default()),
        Err(LoadError::Link(_))
    ));
    let mut vm = Vm::new(m, &host, Config::default()).expect("links");
    assert_eq!(vm.func::<(), f64>("f").expect("found").call(&mut vm, ()), Ok(2.0));
}

#[test]
fn host_functions_capture_state_and_reach_host_data() {
    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    let mut host = Host::new();
    host.func("tick", move || seen.fetch_add(1, Ordering::Relaxed) as i64).unwrap();
    host.func("note", |c: &mut pvm::Caller, msg: String| {
        c.data_mut::<Vec<String>>().expect("data").push(msg)
    })
    .unwrap();
    let mut vm = vm_with("fn go(n: int) { for i in 0..n { note(str(tick())); } }", &host);
    vm.set_data(Vec::<String>::new());
    vm.func::<(i64,), ()>("go").expect("found").call(&mut vm, (3,)).expect("runs");
    assert_eq!(calls.load(Ordering::Relaxed), 3);
    assert_eq!(vm.data::<Vec<String>>().expect("data"), &["0", "1", "2"]);
}

#[test]
fn host_errors_are_catchable_pvm_errors() {
    let mut host = Host::new();
    host.func("price", |sku: String| -> Result<f64, String> {
        if sku == "A" {
            Ok(2.0)
        } else {
            Err(format!("unknown sku {sku}"))
        }
    })
    .unwrap();
    let src = "fn get(s: str) -> float { try { return price(s); } catch e { println(e); return -1.0; } }\n\
               fn raw(s: str) -> float { return price(s); }";
    let mut vm = vm_with(src, &host);
    let out = Captured::new();
    vm.set_output(out.clone());
    let get = vm.func::<(String,), f64>("get").expect("found");
    assert_eq!(get.call(&mut vm, ("A".into(),)), Ok(2.0));
    assert_eq!(get.call(&mut vm, ("B".into(),)), Ok(-1.0));
    assert_eq!(out.text(), "unknown sku B\n");
    let raw = vm.func::<(String,), f64>("raw").expect("found");
    let Err(RunError::Error { message, trace }) = raw.call(&mut vm, ("Z".into(),)) else {
        panic!("an uncaught host error")
    };
    assert_eq!(message, "unknown sku Z");
    assert_eq!((trace[0].function.as_str(), trace[0].line), ("raw", 2));
}

#[test]
fn registering_bad_names_is_refused() {
    let mut host = Host::new();
    assert!(host.func("len", || 1i64).is_err(), "a built-in");
    assert!(host.func("sort_by", || 1i64).is_err(), "a built-in");
    assert!(host.func("9x", || 1i64).is_err(), "not an identifier");
    host.func("once", || 1i64).unwrap();
    assert!(host.func("once", || 2i64).is_err(), "registered twice");
}

// ---------------------------------------------------------------- calls

#[test]
fn typed_calls_keep_globals_between_calls() {
    let src = "let total = 0;\nlet names: [str] = [];\n\
               fn add(x: int, name: str) -> int { total += x; push(names, name); return total; }\n\
               fn all() -> [str] { return names; }";
    let mut vm = load(src);
    let add = vm.func::<(i64, String), i64>("add").expect("found");
    for (i, n) in ["a", "b", "c"].iter().enumerate() {
        assert_eq!(add.call(&mut vm, (i as i64 + 1, n.to_string())), Ok([1, 3, 6][i]));
    }
    assert_eq!(
        vm.func::<(), Vec<String>>("all").expect("found").call(&mut vm, ()),
        Ok(vec!["a".into(), "b".into(), "c".into()])
    );
}

#[test]
fn a_wrong_signature_is_an_error_at_lookup() {
    let vm = load("fn f(a: int, b: str) -> float { return 1.0; }\nclass P { x: int; fn m(self) {} }");
    assert!(vm.func::<(i64, String), f64>("f").is_ok());
    for e in [
        vm.func::<(i64,), f64>("f").err(),
        vm.func::<(i64, String), i64>("f").err(),
        vm.func::<(String, i64), f64>("f").err(),
        vm.func::<(), ()>("nope").err(),
        vm.func::<(), ()>("P.m").err(),
    ] {
        assert!(matches!(e, Some(RunError::Usage(_))), "{e:?}");
    }
    let Some(RunError::Usage(msg)) = vm.func::<(i64,), f64>("f").err() else {
        unreachable!()
    };
    assert_eq!(msg, "`f` is `fn(int, str) -> float`, not `fn(int) -> float`");
}

#[test]
fn host_functions_can_call_back_into_pvm() {
    let mut host = Host::new();
    host.func(
        "apply_twice",
        |c: &mut pvm::Caller, name: String, x: i64| -> Result<i64, RunError> {
            let once: i64 = c.call(&name, (x,))?;
            c.call(&name, (once,))
        },
    )
    .unwrap();
    let src = "fn inc(x: int) -> int { return x + 1; }\nfn fact(n: int) -> int { if n <= 1 { return 1; } return n * apply_twice(\"id\", fact(n - 1)); }\n\
               fn id(x: int) -> int { return x; }\nfn go() -> int { return apply_twice(\"inc\", 40) + fact(5); }\n\
               fn boom(x: int) -> int { return x / 0; }\nfn bad() -> int { try { return apply_twice(\"boom\", 1); } catch e { return len(e); } }";
    let mut vm = vm_with(src, &host);
    assert_eq!(vm.func::<(), i64>("go").expect("found").call(&mut vm, ()), Ok(42 + 120));
    assert_eq!(
        vm.func::<(), i64>("bad").expect("found").call(&mut vm, ()),
        Ok("division by zero".len() as i64)
    );
}

#[test]
fn runtime_errors_come_back_with_the_stack_trace() {
    let src = "fn a(x: int) -> int {\n  return b(x) + 1;\n}\nfn b(x: int) -> int {\n  let xs = [1];\n  return xs[x];\n}";
    let mut vm = load(src);
    let a = vm.func::<(i64,), i64>("a").expect("found");
    assert_eq!(a.call(&mut vm, (0,)), Ok(2));
    let Err(RunError::Error { message, trace }) = a.call(&mut vm, (5,)) else {
        panic!("an error")
    };
    assert_eq!(message, "index out of range: index 5 for length 1");
    let frames: Vec<(&str, u32)> = trace.iter().map(|t| (t.function.as_str(), t.line)).collect();
    assert_eq!(frames, [("b", 6), ("a", 2)]);
    // The VM is still usable.
    assert_eq!(a.call(&mut vm, (0,)), Ok(2));
}

// ---------------------------------------------------------------- limits

/// The heap limit holds at any size, below the collector's 256 KiB
/// threshold floor too, in both tiers: the program stops with the limit's
/// error, and the heap never grew much past the limit (one allocation at
/// most) before it did.
#[test]
fn the_heap_limit_holds_at_any_size() {
    for (limit, jit) in [
        (4usize << 10, JitMode::Off),
        (4 << 10, JitMode::Always),
        (64 << 10, JitMode::Off),
        (4 << 20, JitMode::On),
    ] {
        let mut vm = Vm::from_source(
            "t.pvm",
            "fn grow() { let xs: [str] = []; while true { push(xs, \"abcdefgh\" + str(len(xs))); } }",
            &Host::new(),
            Config {
                max_heap: limit,
                jit,
                ..Config::default()
            },
        )
        .expect("compiles");
        let r = vm.func::<(), ()>("grow").expect("found").call(&mut vm, ());
        assert!(
            matches!(r, Err(RunError::Limit { ref message, .. }) if message.starts_with("heap limit exceeded")),
            "{r:?}"
        );
        let peak = vm.stats().gc.peak;
        // The array's buffer doubles: the last step may add as much as it held.
        assert!(peak <= 2 * limit + 1024, "limit {limit} ({jit:?}): peak {peak}");
    }
}

const SPIN: &str = "let count = 0;\nfn work(n: int) -> int { let s = 0; for i in 0..n { s += helper(i); } count += 1; return s; }\n\
                    fn helper(i: int) -> int { return i % 7; }\nfn forever() { while true { count += 1; } }\nfn runs() -> int { return count; }";

#[test]
fn fuel_is_deterministic_and_resumable() {
    let mut used = Vec::new();
    for _ in 0..3 {
        let mut vm = load(SPIN);
        vm.set_fuel(Some(1_000_000));
        let work = vm.func::<(i64,), i64>("work").expect("found");
        assert_eq!(work.call(&mut vm, (5000,)), Ok((0..5000).map(|i| i % 7).sum()));
        used.push(1_000_000 - vm.fuel().expect("limited"));
    }
    assert!(used.iter().all(|u| *u == used[0]), "{used:?}");
    // 5000 loop iterations and 5000 calls: 10,000 checkpoints (give or take the loop's exit).
    assert!((9_999..=10_001).contains(&used[0]), "{}", used[0]);

    // Out of fuel, then resumed with more: same answer as without a limit.
    let mut vm = load(SPIN);
    vm.set_fuel(Some(1000));
    let work = vm.func::<(i64,), i64>("work").expect("found");
    let mut r = work.call(&mut vm, (5000,));
    let mut refills = 0;
    while r == Err(RunError::OutOfFuel) {
        refills += 1;
        vm.add_fuel(1000);
        r = work.resume(&mut vm);
    }
    assert_eq!(r, Ok((0..5000).map(|i| i % 7).sum()));
    assert!(refills >= 9, "{refills}");
    // `work` ran once, however often it was suspended: nothing ran twice.
    vm.set_fuel(None);
    assert_eq!(vm.func::<(), i64>("runs").expect("found").call(&mut vm, ()), Ok(1));

    // Abandoning: a new call discards the suspended one.
    let mut vm = load(SPIN);
    vm.set_fuel(Some(500));
    let forever = vm.func::<(), ()>("forever").expect("found");
    assert_eq!(forever.call(&mut vm, ()), Err(RunError::OutOfFuel));
    vm.set_fuel(Some(100_000));
    assert_eq!(vm.func::<(i64,), i64>("work").expect("found").call(&mut vm, (10,)), Ok(24));
    assert!(forever.resume(&mut vm).is_err(), "nothing to resume after abandoning");
}

#[test]
fn an_interrupt_from_another_thread_stops_a_run_quickly() {
    let mut vm = load(SPIN);
    let handle = vm.interrupt_handle();
    let forever = vm.func::<(), ()>("forever").expect("found");
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let at = Instant::now();
        handle.interrupt();
        at
    });
    let r = forever.call(&mut vm, ());
    let stopped = Instant::now();
    let asked = t.join().expect("thread");
    assert_eq!(r, Err(RunError::Interrupted));
    let latency = stopped.duration_since(asked);
    assert!(latency < Duration::from_millis(10), "took {latency:?}");
    // Resumable, and interruptible again.
    let handle = vm.interrupt_handle();
    handle.interrupt();
    assert_eq!(forever.resume(&mut vm), Err(RunError::Interrupted));
}

// ---------------------------------------------------------------- I/O and capabilities

#[test]
fn output_and_input_are_redirected() {
    let mut vm = load("fn echo() { let l = read_line(); while l != nil { println(\"> \" + l); l = read_line(); } print(\"done\"); }");
    let out = Captured::new();
    vm.set_output(out.clone());
    vm.set_input(std::io::Cursor::new("one\ntwo\n"));
    vm.func::<(), ()>("echo").expect("found").call(&mut vm, ()).expect("runs");
    assert_eq!(out.text(), "> one\n> two\ndone");
}

#[test]
fn capabilities_are_denied_by_default_and_granted_by_the_host() {
    let src = "fn try_all() -> [str] { let r: [str] = [];\n\
               try { read_file(\"/etc/hostname\"); push(r, \"read\"); } catch e { push(r, e); }\n\
               try { write_file(\"/tmp/pvm-embed-denied\", \"x\"); push(r, \"wrote\"); } catch e { push(r, e); }\n\
               try { push(r, str(len(args()))); } catch e { push(r, e); }\n\
               try { clock(); push(r, \"clock\"); } catch e { push(r, e); }\n\
               try { exit(3); } catch e { push(r, e); }\n\
               return r; }";
    let mut vm = load(src);
    let got = vm
        .func::<(), Vec<String>>("try_all")
        .expect("found")
        .call(&mut vm, ())
        .expect("runs");
    assert_eq!(got.len(), 5);
    for (g, what) in got.iter().zip(["read_file", "write_file", "args", "clock", "exit"]) {
        assert_eq!(g, &format!("{what} is not allowed in this VM (the host has not granted it)"));
    }
    assert!(!std::path::Path::new("/tmp/pvm-embed-denied").exists());

    let mut host = Host::new();
    host.capabilities(Capabilities {
        read_file: Access::Custom(Arc::new(|p: &str| {
            if p == "/etc/hostname" {
                Ok("virtual".into())
            } else {
                Err("no".into())
            }
        })),
        write_file: Access::Deny,
        args: Some(vec!["a".into(), "b".into()]),
        exit: true,
        clock: true,
    });
    let mut vm = vm_with(src, &host);
    let r = vm.func::<(), Vec<String>>("try_all").expect("found").call(&mut vm, ());
    assert_eq!(r, Err(RunError::Exit(3)));
    let src2 = "fn f() -> str { return read_file(\"/etc/hostname\") + str(len(args())); }";
    let mut vm = vm_with(src2, &host);
    assert_eq!(vm.func::<(), String>("f").expect("found").call(&mut vm, ()), Ok("virtual2".into()));
}

// ---------------------------------------------------------------- many VMs, threads

#[test]
fn vms_are_independent_and_can_move_between_threads() {
    let src = "let n = 0;\nfn bump() -> int { n += 1; return n; }";
    let mut a = load(src);
    let mut b = load(src);
    let bump_a = a.func::<(), i64>("bump").expect("found");
    let bump_b = b.func::<(), i64>("bump").expect("found");
    assert_eq!(bump_a.call(&mut a, ()), Ok(1));
    assert_eq!(bump_a.call(&mut a, ()), Ok(2));
    assert_eq!(bump_b.call(&mut b, ()), Ok(1));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let mut v = load(src);
            std::thread::spawn(move || {
                let f = v.func::<(), i64>("bump").expect("found");
                (0..=i).map(|_| f.call(&mut v, ()).expect("runs")).last()
            })
        })
        .collect();
    let results: Vec<Option<i64>> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
    assert_eq!(results, [Some(1), Some(2), Some(3), Some(4)]);
    // A VM created here and moved into a thread keeps its globals.
    let t = std::thread::spawn(move || bump_a.call(&mut a, ()));
    assert_eq!(t.join().expect("thread"), Ok(3));
}

#[test]
fn sort_by_and_binary_search_work_on_classes_with_closures() {
    let src = "class P { name: str; age: int; }\n\
               fn go() -> str { let ps = [P(\"c\", 3), P(\"a\", 1), P(\"b\", 2), P(\"d\", 1)];\n\
               sort_by(ps, fn(x: P, y: P) -> bool { return x.age < y.age; });\n\
               let s = \"\"; for p in ps { s += p.name; }\n\
               let ages: [int] = []; for p in ps { push(ages, p.age); }\n\
               let i = binary_search(ages, 2, fn(a: int, b: int) -> int { return a - b; });\n\
               let j = binary_search(ages, 5, fn(a: int, b: int) -> int { return a - b; });\n\
               return s + \" \" + str(i) + \" \" + str(j); }";
    let mut vm = Vm::from_source(
        "t.pvm",
        src,
        &Host::new(),
        Config {
            gc: pvm::GcMode::StressFull,
            ..Config::default()
        },
    )
    .expect("compiles");
    assert_eq!(
        vm.func::<(), String>("go").expect("found").call(&mut vm, ()),
        Ok("adbc 2 -5".into())
    );
}

// ---------------------------------------------------------------- the API cannot be misused into unsafety

#[test]
fn a_function_only_runs_on_its_own_vm() {
    let a = load("fn f(x: int) -> int { return x + 1; }");
    let mut b = load("fn g(s: str) -> str { return s; }");
    let f = a.func::<(i64,), i64>("f").expect("found");
    assert!(matches!(f.call(&mut b, (1,)), Err(RunError::Usage(m)) if m.contains("another VM")));
    assert!(matches!(f.resume(&mut b), Err(RunError::Usage(_))));
}

#[test]
fn limits_met_in_a_callback_cannot_be_caught_by_pvm_code() {
    let mut host = Host::new();
    host.func("call_back", |c: &mut pvm::Caller, name: String| -> Result<i64, RunError> {
        c.call(&name, ())
    })
    .unwrap();
    host.capabilities(Capabilities {
        exit: true,
        ..Capabilities::none()
    });
    let src = "fn bye() -> int { exit(7); return 0; }\n\
               fn hog() -> int { let xs: [str] = []; while true { push(xs, \"0123456789abcdef\" + str(len(xs))); } return 0; }\n\
               fn spin() -> int { let n = 0; while true { n += 1; } return n; }\n\
               fn guarded(name: str) -> int { try { return call_back(name); } catch e { return -1; } }";
    let mut vm = Vm::from_source(
        "t.pvm",
        src,
        &host,
        Config {
            max_heap: 2 << 20,
            ..Config::default()
        },
    )
    .expect("compiles");
    let guarded = vm.func::<(String,), i64>("guarded").expect("found");
    assert_eq!(guarded.call(&mut vm, ("bye".into(),)), Err(RunError::Exit(7)));
    assert!(matches!(guarded.call(&mut vm, ("hog".into(),)), Err(RunError::Limit { .. })));
    vm.set_fuel(Some(5000));
    assert_eq!(guarded.call(&mut vm, ("spin".into(),)), Err(RunError::OutOfFuel));
    vm.add_fuel(5000);
    // Resuming calls the host function again, which runs out again.
    assert_eq!(guarded.resume(&mut vm), Err(RunError::OutOfFuel));
}

#[test]
fn initialisers_run_once_even_when_suspended() {
    let src = "let inits = 0;\nlet big = fill();\n\
               fn fill() -> [int] { inits += 1; let xs: [int] = []; for i in 0..3000 { push(xs, i); } return xs; }\n\
               fn count() -> int { return inits * 100000 + len(big); }\nfn main() { println(str(count())); }";
    let mut vm = load(src);
    let out = Captured::new();
    vm.set_output(out.clone());
    vm.set_fuel(Some(1000));
    let count = vm.func::<(), i64>("count").expect("found");
    let mut r = count.call(&mut vm, ());
    let mut tries = 0;
    while r == Err(RunError::OutOfFuel) {
        tries += 1;
        vm.add_fuel(1000);
        r = count.call(&mut vm, ());
    }
    assert!(tries >= 2, "{tries}");
    assert_eq!(r, Ok(100_000 + 3000), "the initialiser ran exactly once");
    // run_main does not run it again either.
    vm.set_fuel(None);
    vm.run_main().expect("runs");
    assert_eq!(out.text(), "103000\n");

    // Suspended in the initialiser, then run_main: it finishes the
    // initialiser instead of starting it again.
    let mut vm = load(src);
    let out = Captured::new();
    vm.set_output(out.clone());
    vm.set_fuel(Some(1000));
    let count = vm.func::<(), i64>("count").expect("found");
    assert_eq!(count.call(&mut vm, ()), Err(RunError::OutOfFuel));
    vm.set_fuel(None);
    vm.run_main().expect("runs");
    assert_eq!(out.text(), "103000\n", "the initialiser ran exactly once");
}

#[test]
fn source_from_a_string_reads_no_files() {
    let dir = std::env::temp_dir().join(format!("pvm-noimports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("secret.pvm"), "fn secret() -> str { return \"s3cr3t\"; }").expect("write");
    let name = dir.join("main.pvm");
    let src = "import \"secret.pvm\";\nfn f() -> str { return secret(); }";
    let Err(LoadError::Compile { rendered, .. }) = Vm::from_source(name.to_str().expect("path"), src, &Host::new(), Config::default())
    else {
        panic!("an import from disk must be refused");
    };
    assert!(rendered.contains("not allowed") && !rendered.contains("s3cr3t"), "{rendered}");
    // The standard modules are still there.
    assert!(Vm::from_source(
        "m.pvm",
        "import \"std/strings\";\nfn f() -> str { return upper(\"a\"); }",
        &Host::new(),
        Config::default()
    )
    .is_ok());
    // from_file is for programs on disk: their imports are read.
    std::fs::write(&name, src).expect("write");
    let mut vm = Vm::from_file(name.to_str().expect("path"), &Host::new(), Config::default()).expect("compiles");
    assert_eq!(vm.func::<(), String>("f").expect("found").call(&mut vm, ()), Ok("s3cr3t".into()));
}

#[test]
fn host_functions_take_up_to_eight_arguments() {
    let mut host = Host::new();
    host.func("sum8", |a: i64, b: i64, c: i64, d: i64, e: i64, f: i64, g: i64, h: i64| {
        a + b + c + d + e + f + g + h
    })
    .unwrap();
    assert!(host.func("while", || 1i64).is_err(), "a keyword");
    let mut vm = vm_with("fn f() -> int { return sum8(1, 2, 3, 4, 5, 6, 7, 8); }", &host);
    assert_eq!(vm.func::<(), i64>("f").expect("found").call(&mut vm, ()), Ok(36));
}

#[test]
fn garbage_made_by_host_calls_is_collected() {
    // `echo` allocates nothing itself: only the host's conversions of its
    // argument and result do. They must not pile up.
    let mut vm = load("fn echo(s: str) -> str { return s; }");
    let echo = vm.func::<(String,), String>("echo").expect("found");
    let text = "x".repeat(1000);
    for _ in 0..100_000 {
        assert_eq!(echo.call(&mut vm, (text.clone(),)).expect("runs").len(), 1000);
    }
    let s = vm.stats();
    assert!(s.gc.incremental + s.gc.full > 10, "{s:?}");
    assert!(s.gc.peak < 16 << 20, "100 MB of garbage, peak heap {}", s.gc.peak);
}
