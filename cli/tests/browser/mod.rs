//! Running the Python browser tests (tests/browser/) from Rust tests: they
//! need python3, Chromium and chromedriver; without them a test says why on
//! stderr and passes.

use std::path::Path;
use std::process::Command;

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

/// Why the browser tests cannot run here, if they cannot.
pub fn missing() -> Option<&'static str> {
    if !on_path("python3") {
        return Some("python3 not installed (the browser test needs it)");
    }
    if !on_path("chromedriver") && !Path::new("/usr/bin/chromedriver").exists() {
        return Some("chromium/chromedriver not installed");
    }
    None
}

/// The workspace's root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace")
}

/// Runs `tests/browser/SCRIPT ARGS...`: passes on status 0 or 77 (skipped,
/// printing what it said), panics with its output otherwise.
pub fn run(script: &str, args: &[&std::ffi::OsStr]) {
    let r = Command::new("python3")
        .arg(root().join("tests/browser").join(script))
        .args(args)
        .output()
        .expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
    match r.status.code() {
        Some(0) | Some(77) => eprintln!("{text}"),
        _ => panic!("{script} failed:\n{text}"),
    }
}
