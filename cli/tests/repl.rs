//! `pvm repl` driven through a pipe, as a terminal user would type.

use std::io::Write;
use std::process::{Command, Stdio};

fn repl(home: &std::path::Path, input: &str) -> (String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pvm"))
        .arg("repl")
        .env("HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pvm starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("input written");
    let out = child.wait_with_output().expect("pvm ends");
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_session_accumulates_multi_line_input_and_keeps_its_history() {
    let home = std::env::temp_dir().join(format!("pvm-repl-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("home");
    let input = "class P {\n  x: int;\n  y: int;\n}\nlet p = P(3,\n  4);\np.x * p.y\n:type p\nres1 + 1\n:quit\n";
    let (out, err) = repl(&home, input);
    assert!(out.contains("res1: int = 12\n"), "{out}\n{err}");
    assert!(out.contains("p: P\n"), "{out}");
    assert!(out.contains("res2: int = 13\n"), "{out}");
    // Each complete input is one history entry, kept for the next run.
    let history = std::fs::read_to_string(home.join(".pvm_history")).expect("history saved");
    assert!(history.contains("p.x * p.y"), "{history}");
    assert!(history.contains("let p = P(3,"), "{history}");
    let (out, _) = repl(&home, "1 + 1\n");
    assert!(out.contains("res1: int = 2"), "a new session starts empty: {out}");
    let history = std::fs::read_to_string(home.join(".pvm_history")).expect("history saved");
    assert!(history.contains("p.x * p.y") && history.contains("1 + 1"), "{history}");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn programs_typed_at_the_repl_cannot_read_files() {
    let home = std::env::temp_dir().join(format!("pvm-repl-files-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("home");
    let (out, _) = repl(&home, "read_file(\"/etc/passwd\")\n");
    assert!(!out.contains("root:"), "{out}");
    assert!(out.contains("not allowed") && out.contains("not kept"), "{out}");
    let _ = std::fs::remove_dir_all(&home);
}
