//! A game loop: the world's behaviour is a pvm script (`scripts/game.pvm`)
//! whose `update(dt)` the host calls every tick, thousands of times, with
//! a fixed fuel budget per tick. A tick that needs more than its budget is
//! not killed: it is suspended and resumed on the next tick, so one heavy
//! tick is spread over several frames instead of stalling the loop.
//!
//! Run: `cargo run -p pvm-embed-examples --bin game [TICKS]`

use pvm::{Config, Host, RunError, Vm};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Checkpoints (calls and loop iterations) a tick may use.
const BUDGET_PER_TICK: u64 = 2_000;

fn main() {
    let ticks: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);

    // The host's random numbers: a seeded generator, so runs repeat.
    let seed = Arc::new(AtomicU64::new(42));
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut host = Host::new();
    let s = seed.clone();
    host.func("rand", move || {
        let x = s
            .load(Ordering::Relaxed)
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
    .expect("a valid name");
    let l = log.clone();
    host.func("emit", move |event: String| {
        if let Ok(mut l) = l.lock() {
            l.push(event);
        }
    })
    .expect("a valid name");

    let source = include_str!("../../scripts/game.pvm");
    let mut vm = match Vm::from_source("game.pvm", source, &host, Config::default()) {
        Ok(vm) => vm,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let update = match vm.func::<(f64,), ()>("update") {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };

    let dt = 1.0 / 60.0;
    let mut suspended = false;
    let (mut over_budget, mut calls) = (0, 0);
    for _ in 0..ticks {
        vm.set_fuel(Some(BUDGET_PER_TICK));
        let r = if suspended {
            update.resume(&mut vm)
        } else {
            calls += 1;
            update.call(&mut vm, (dt,))
        };
        match r {
            Ok(()) => suspended = false,
            Err(RunError::OutOfFuel) => {
                suspended = true;
                over_budget += 1;
            }
            Err(e) => {
                eprintln!("error: {e}");
                if let Some(report) = e.report() {
                    eprint!("{report}");
                }
                std::process::exit(1);
            }
        }
    }
    if let Ok(events) = log.lock() {
        for e in events.iter() {
            println!("{e}");
        }
    }
    vm.set_fuel(None);
    match vm.func::<(), String>("stats").and_then(|f| f.call(&mut vm, ())) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: {e}"),
    }
    println!("{calls} updates in {ticks} ticks; {over_budget} ticks ran out of budget and continued on the next");
}
