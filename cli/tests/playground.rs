//! The playground (pvm built for WebAssembly, `playground/`) in a real
//! browser: `playground/build.sh --pkg-only` builds the module (installing
//! the wasm32 target and wasm-bindgen-cli when they are missing), the page
//! is put together here with `pvm_playground::pack`, and
//! tests/browser/playground_test.py drives it in headless Chromium, checking
//! every step it shows against this `pvm`'s own `--trace=json`.
//!
//! Skipped, with the reason on stderr, when python3, chromium/chromedriver,
//! the wasm32 target or wasm-bindgen-cli cannot be had.

mod browser;

use std::process::Command;

#[test]
fn playground_in_a_browser_matches_the_interpreter_or_says_why_not() {
    if let Some(why) = browser::missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let root = browser::root();
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
    browser::run(
        "playground_test.py",
        &[
            "--page".as_ref(),
            page.as_os_str(),
            "--pvm".as_ref(),
            env!("CARGO_BIN_EXE_pvm").as_ref(),
        ],
    );
}
