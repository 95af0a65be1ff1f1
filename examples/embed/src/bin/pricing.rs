//! A pricing engine: business rules live in a pvm script
//! (`scripts/pricing.pvm`) that the business can change without
//! rebuilding the host. The host owns the data (catalogue, customers,
//! stock), exposes lookups as host functions, and calls the script's
//! `price` once per order line with a fuel budget, so a rule that loops
//! forever cannot stall the batch.
//!
//! Run: `cargo run -p pvm-embed-examples --bin pricing [RULES.pvm]`

use pvm::{Config, Host, RunError, Vm};
use std::collections::HashMap;
use std::sync::Arc;

/// Fuel per order line: far more than a sane rule needs.
const FUEL_PER_LINE: u64 = 100_000;

struct Order {
    customer: &'static str,
    sku: &'static str,
    qty: i64,
}

fn main() {
    let rules_path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pricing.pvm").to_string());

    // The host's data: shared, read-only, captured by the host functions.
    let catalogue: Arc<HashMap<&str, f64>> = Arc::new([("A-100", 12.5), ("B-200", 3.99), ("C-300", 149.0)].into_iter().collect());
    let tiers: Arc<HashMap<&str, &str>> = Arc::new([("acme", "gold"), ("globex", "silver")].into_iter().collect());
    let stock: Arc<HashMap<&str, i64>> = Arc::new([("A-100", 500), ("B-200", 20), ("C-300", 3)].into_iter().collect());

    let mut host = Host::new();
    let c = catalogue.clone();
    host.func("base_price", move |sku: String| -> Result<f64, String> {
        c.get(sku.as_str()).copied().ok_or_else(|| format!("unknown sku {sku}"))
    })
    .expect("a valid name");
    let t = tiers.clone();
    host.func("tier", move |customer: String| {
        t.get(customer.as_str()).copied().unwrap_or("standard").to_string()
    })
    .expect("a valid name");
    let s = stock.clone();
    host.func("in_stock", move |sku: String| s.get(sku.as_str()).copied().unwrap_or(0))
        .expect("a valid name");

    // Compile the rules: calls of the host functions are type-checked.
    let source = match std::fs::read_to_string(&rules_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {rules_path}: {e}");
            std::process::exit(2);
        }
    };
    let mut vm = match Vm::from_source(&rules_path, &source, &host, Config::default()) {
        Ok(vm) => vm,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let price = match vm.func::<(String, String, i64), i64>("price") {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: the rules must define `fn price(customer: str, sku: str, qty: int) -> int`: {e}");
            std::process::exit(2);
        }
    };

    let orders = [
        Order {
            customer: "acme",
            sku: "A-100",
            qty: 60,
        },
        Order {
            customer: "globex",
            sku: "B-200",
            qty: 12,
        },
        Order {
            customer: "initech",
            sku: "C-300",
            qty: 1,
        },
        Order {
            customer: "acme",
            sku: "C-300",
            qty: 5,
        },
        Order {
            customer: "initech",
            sku: "Z-999",
            qty: 1,
        },
        Order {
            customer: "globex",
            sku: "A-100",
            qty: 0,
        },
        Order {
            customer: "initech",
            sku: "A-100",
            qty: 10,
        },
    ];
    let mut total = 0;
    for (i, o) in orders.iter().enumerate() {
        vm.set_fuel(Some(FUEL_PER_LINE));
        match price.call(&mut vm, (o.customer.into(), o.sku.into(), o.qty)) {
            Ok(cents) => {
                total += cents;
                println!(
                    "line {}: {} x{} for {}: {}.{:02}",
                    i + 1,
                    o.sku,
                    o.qty,
                    o.customer,
                    cents / 100,
                    cents % 100
                );
            }
            Err(RunError::Error { message, .. }) => println!("line {}: rejected: {message}", i + 1),
            Err(RunError::OutOfFuel) => println!("line {}: rejected: the rules took too long", i + 1),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
    vm.set_fuel(None);
    let summary = vm.func::<(), String>("summary").and_then(|f| f.call(&mut vm, ()));
    match summary {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: summary: {e}"),
    }
    println!("total: {}.{:02}", total / 100, total % 100);
}
