//! Black-box tests of the `pvm` command: exit statuses, bad input, limits,
//! the bytecode file round trip and the debugging switches.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn pvm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pvm")).args(args).output().expect("pvm runs")
}

fn tmp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("pvm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write temp file");
    p.to_string_lossy().into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn missing_file_directory_and_binary_are_one_line_errors() {
    for (arg, why) in [("/nonexistent/x.pvm", "no such file"), ("/tmp", "is a directory")] {
        let o = pvm(&["run", arg]);
        assert_eq!(o.status.code(), Some(2));
        let e = stderr(&o);
        assert!(e.contains(why), "{e}");
        assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    }
    let bin = tmp("bin.pvm", "\u{0}\u{1}\u{2}garbage");
    let o = pvm(&["run", &bin]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("binary"), "{}", stderr(&o));
}

#[test]
fn bad_flag_is_status_2() {
    let o = pvm(&["run", "--no-such-flag", "x.pvm"]);
    assert_eq!(o.status.code(), Some(2));
    let o = pvm(&["run", "--max-heap", "lots", "x.pvm"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn compile_errors_are_all_reported_with_source_lines() {
    let f = tmp("errs.pvm", "fn main() {\n    let x: int = 1.5;\n    println(y);\n}\n");
    let o = pvm(&["check", &f]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("errs.pvm:2:18: error: expected `int`, found `float`"), "{e}");
    assert!(e.contains("errs.pvm:3:13: error: undefined name `y`"), "{e}");
    assert!(e.contains("2 |     let x: int = 1.5;"), "{e}");
}

#[test]
fn build_then_run_bytecode() {
    let src = tmp(
        "prog.pvm",
        "fn main() { let m = {\"a\": [1, 2]}; println(m); println(fixed(2.5, 1)); }\n",
    );
    let out = src.replace(".pvm", ".pvmc");
    let o = pvm(&["build", &src, "-o", &out]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = pvm(&["run", &out]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "{\"a\": [1, 2]}\n2.5\n");
    // A truncated file is refused with a clear message.
    let bytes = std::fs::read(&out).expect("read pvmc");
    std::fs::write(&out, &bytes[..bytes.len() / 2]).expect("truncate");
    let o = pvm(&["run", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("malformed bytecode"), "{}", stderr(&o));
}

#[test]
fn dis_interleaves_source() {
    let src = tmp("dis.pvm", "fn main() {\n    let a = 40;\n    println(a + 2);\n}\n");
    let o = pvm(&["dis", &src]);
    assert_eq!(o.status.code(), Some(0));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("fn #0 main"), "{s}");
    assert!(s.contains("3 | println(a + 2);"), "{s}");
    assert!(s.contains("AddIImm"), "{s}");
}

#[test]
fn stats_and_trace_report_on_stderr() {
    let src = tmp(
        "stats.pvm",
        "fn main() { let s = \"\"; for i in 0..100 { s += str(i); } println(len(s)); }\n",
    );
    let o = pvm(&["run", "--stats", &src]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "190\n");
    let e = stderr(&o);
    assert!(
        e.contains("instructions") && e.contains("collections") && e.contains("peak heap"),
        "{e}"
    );
    let o = pvm(&["run", "--trace", &src]);
    assert!(stderr(&o).contains("[main:"), "{}", stderr(&o));
}

#[test]
fn cycles_are_reclaimed_under_a_small_heap() {
    // Each iteration makes a two-node cycle that becomes garbage at once.
    let src = tmp(
        "cycles.pvm",
        "class N { other: N; pad: [int]; }\nfn main() { for i in 0..200000 { let a = N(nil, array(8, i)); let b = N(a, []); a.other = b; } println(\"ok\"); }\n",
    );
    let o = pvm(&["run", "--max-heap", "4M", &src]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "ok\n");
}

#[test]
fn heap_limit_stops_the_program() {
    let src = tmp(
        "hog.pvm",
        "fn main() { let keep: [[int]] = []; println(\"start\"); while true { push(keep, array(1000, 1)); } }\n",
    );
    let o = pvm(&["run", "--max-heap", "8M", &src]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "start\n");
    assert!(stderr(&o).contains("error: heap limit exceeded"), "{}", stderr(&o));
}

#[test]
fn closed_pipe_ends_quietly() {
    let src = tmp("yes.pvm", "fn main() { while true { println(\"y\"); } }\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pvm"))
        .args(["run", &src])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut buf = [0u8; 4];
    std::io::Read::read_exact(&mut out, &mut buf).expect("some output");
    drop(out);
    let o = child.wait_with_output().expect("exits");
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn output_is_flushed_before_exit_and_errors() {
    let src = tmp("flush.pvm", "fn main() { print(\"a\"); exit(7); }\n");
    let o = pvm(&["run", &src]);
    assert_eq!((o.status.code(), o.stdout.as_slice()), (Some(7), b"a".as_slice()));
    let src = tmp(
        "deep.pvm",
        "fn d(n: int) -> int { return d(n + 1) + 1; }\nfn main() { print(\"b\"); println(d(0)); }\n",
    );
    let o = pvm(&["run", &src]);
    assert_eq!((o.status.code(), o.stdout.as_slice()), (Some(1), b"b".as_slice()));
    assert!(stderr(&o).contains("error: stack overflow"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_pvm"))
        .args(["run", &src])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let _ = child.stdin.take().map(|mut s| s.write_all(b""));
    assert_eq!(child.wait().expect("wait").code(), Some(1));
}
