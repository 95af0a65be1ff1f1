//! The example hosts run, and print what their scripts decide.

use std::process::Command;

fn run(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin).args(args).output().expect("the example starts");
    assert!(out.status.success(), "{bin} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn pricing_applies_the_rules_and_rejects_bad_lines() {
    let out = run(env!("CARGO_BIN_EXE_pricing"), &[]);
    let want = "line 1: A-100 x60 for acme: 615.00\n\
                line 2: B-200 x12 for globex: 44.05\n\
                line 3: C-300 x1 for initech: 149.00\n\
                line 4: rejected: only 3 of C-300 in stock\n\
                line 5: rejected: unknown sku Z-999\n\
                line 6: rejected: quantity must be positive, got 0\n\
                line 7: A-100 x10 for initech: 118.75\n\
                4 lines priced; acme saved 135.00; globex saved 3.83; initech saved 6.25\n\
                total: 926.80\n";
    assert_eq!(out, want);
}

#[test]
fn pricing_survives_a_runaway_rule() {
    let dir = std::env::temp_dir().join(format!("pvm-pricing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rules = dir.join("loop.pvm");
    std::fs::write(
        &rules,
        "fn price(customer: str, sku: str, qty: int) -> int { if customer == \"acme\" { while true { } } return qty; }\n\
         fn summary() -> str { return \"done\"; }\n",
    )
    .expect("write rules");
    let out = run(env!("CARGO_BIN_EXE_pricing"), &[rules.to_str().expect("path")]);
    assert!(
        out.starts_with("line 1: rejected: the rules took too long\nline 2: B-200 x12 for globex: 0.12\n"),
        "{out}"
    );
    assert!(out.ends_with("done\ntotal: 0.24\n"), "{out}");
}

#[test]
fn the_game_loop_spreads_heavy_ticks_over_frames() {
    let out = run(env!("CARGO_BIN_EXE_game"), &["10000"]);
    let last: Vec<&str> = out.lines().rev().take(2).collect();
    assert!(
        last[0].starts_with("99"),
        "fewer updates than ticks, because heavy ticks were spread: {out}"
    );
    assert!(last[0].ends_with("ticks ran out of budget and continued on the next"), "{out}");
    let over: u64 = last[0]
        .split("; ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(over >= 10, "the census ticks exceed the budget: {out}");
    assert!(last[1].starts_with(&format!("{} ticks, 24 balls", 10000 - over)), "{out}");
    assert!(out.contains("tick 1: ball 1 enters\n") && out.contains("close pairs\n"), "{out}");
    // Deterministic: the same run twice prints the same.
    assert_eq!(out, run(env!("CARGO_BIN_EXE_game"), &["10000"]));
}
