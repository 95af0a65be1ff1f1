//! The playground (pvm built for WebAssembly, `playground/`) in a real
//! browser: `playground/build.sh --pkg-only` builds the module (installing
//! the wasm32 target and wasm-bindgen-cli when they are missing), the page
//! is put together here with `pvm_playground::pack`, and
//! tests/browser/playground_test.py drives it in headless Chromium, checking
//! every step it shows against this `pvm`'s own `--trace=json`.
//!
//! Skipped, with the reason on stderr, when python3, chromium/chromedriver,
//! the wasm32 target or wasm-bindgen-cli cannot be had.

use std::path::Path;
use std::process::Command;

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

#[test]
fn playground_in_a_browser_matches_the_interpreter_or_says_why_not() {
    if !on_path("python3") {
        eprintln!("skipped: python3 not installed (the browser test needs it)");
        return;
    }
    if !on_path("chromedriver") && !Path::new("/usr/bin/chromedriver").exists() {
        eprintln!("skipped: chromium/chromedriver not installed");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
    // A target folder of its own: the cargo running this test may hold the main one.
    let build = Command::new(root.join("playground/build.sh"))
        .arg("--pkg-only")
        .env("CARGO_TARGET_DIR", root.join("target/wasm"))
        .output()
        .expect("playground/build.sh runs");
    let log = String::from_utf8_lossy(&build.stderr);
    match build.status.code() {
        Some(0) => {}
        Some(77) => {
            eprintln!("{log}");
            return;
        }
        _ => panic!("playground/build.sh failed:\n{log}"),
    }
    let pkg = root.join(String::from_utf8_lossy(&build.stdout).trim());
    let glue = std::fs::read_to_string(pkg.join("pvm_playground.js")).expect("the glue");
    let wasm = std::fs::read(pkg.join("pvm_playground_bg.wasm")).expect("the module");
    let html = pvm_playground::pack::page(&glue, &wasm).expect("the page");
    let artifacts = root.join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).expect("mkdir");
    let page = artifacts.join("playground.html");
    std::fs::write(&page, html).expect("write the page");
    let r = Command::new("python3")
        .arg(root.join("tests/browser/playground_test.py"))
        .arg("--page")
        .arg(&page)
        .arg("--pvm")
        .arg(env!("CARGO_BIN_EXE_pvm"))
        .output()
        .expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
    match r.status.code() {
        Some(0) | Some(77) => eprintln!("{text}"),
        _ => panic!("the playground's browser test failed:\n{text}"),
    }
}
