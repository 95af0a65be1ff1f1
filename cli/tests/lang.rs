//! The language suite (`tests/lang`) and the examples, each run normally
//! and with the collector running at every allocation (`--gc-stress`).

mod common;

#[test]
fn language_tests() {
    common::run_dir("tests/lang", &[], 150);
}

#[test]
fn language_tests_gc_stress() {
    common::run_dir("tests/lang", &["--gc-stress"], 150);
}

#[test]
fn examples() {
    common::run_dir("examples", &[], 8);
}

#[test]
fn examples_gc_stress() {
    common::run_dir("examples", &["--gc-stress"], 8);
}

#[test]
fn language_tests_without_sandbox() {
    common::run_dir("tests/lang", &["--no-sandbox"], 150);
}
