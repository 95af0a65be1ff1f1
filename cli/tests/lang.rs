//! The language suite (`tests/lang`) and the examples, each run normally,
//! with a complete collection at every allocation (`--gc-stress`), and
//! with back-to-back incremental collections whose marking is verified
//! (`--gc-stress=incremental`: catches missing write barriers); and in
//! every tier: the interpreter alone (`--jit=off`), everything compiled
//! before it runs (`--jit=always`, also under GC stress), and everything
//! hot at once (`--jit-threshold=2`: loops move to compiled code mid-run).
//!
//! Sandboxed runs grant nothing (no `--allow-read`/`--allow-write`): the
//! tests' `read_file`/`write_file` use `/tmp`, which is the container's
//! private one, and their imports stay inside `tests/lang`, the program's
//! own directory tree, which pvm reads before the container starts.

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
fn language_tests_gc_stress_incremental() {
    common::run_dir("tests/lang", &["--gc-stress=incremental"], 150);
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
fn examples_gc_stress_incremental() {
    common::run_dir("examples", &["--gc-stress=incremental"], 8);
}

#[test]
fn language_tests_without_sandbox() {
    common::run_dir("tests/lang", &["--no-sandbox"], 150);
}

#[test]
fn language_tests_interpreter_only() {
    common::run_dir("tests/lang", &["--jit=off"], 150);
}

#[test]
fn language_tests_jit_always() {
    common::run_dir("tests/lang", &["--jit=always"], 150);
}

#[test]
fn language_tests_jit_hot_at_once() {
    common::run_dir("tests/lang", &["--jit-threshold=2"], 150);
}

#[test]
fn language_tests_jit_always_gc_stress_incremental() {
    common::run_dir("tests/lang", &["--jit=always", "--gc-stress=incremental"], 150);
}

#[test]
fn examples_jit_always() {
    common::run_dir("examples", &["--jit=always"], 8);
}
