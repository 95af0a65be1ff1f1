//! Shared helpers: running `.pvm` files with inline expectations, in the
//! inline format of the language tests (`// expect:`, `// expect-exit:`,
//! `// expect-stderr:`, `// stdin:`, `// args:`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Expect {
    pub out: Vec<String>,
    pub err: Vec<String>,
    pub stdin: String,
    pub code: i32,
    pub args: Vec<String>,
}

fn after<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    let i = line.find("//")?;
    let rest = line[i + 2..].trim_start();
    let rest = rest.strip_prefix(tag)?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// Splits `args:` text as a shell would for simple quoting.
fn shell_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                quote = !quote;
                any = true;
            }
            c if c.is_whitespace() && !quote => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

pub fn parse(path: &Path) -> Expect {
    let text = std::fs::read_to_string(path).expect("test file is readable");
    let mut e = Expect {
        out: vec![],
        err: vec![],
        stdin: String::new(),
        code: 0,
        args: vec![],
    };
    for line in text.lines() {
        if let Some(v) = after(line, "expect:") {
            e.out.push(v.to_string());
        } else if let Some(v) = after(line, "expect-exit:") {
            e.code = v.trim().parse().expect("expect-exit is a number");
        } else if let Some(v) = after(line, "expect-stderr:") {
            e.err.push(v.to_string());
        } else if let Some(v) = after(line, "stdin:") {
            e.stdin.push_str(v);
            e.stdin.push('\n');
        } else if let Some(v) = after(line, "args:") {
            e.args.extend(shell_split(v));
        }
    }
    e
}

/// Runs one test file; returns a description of each mismatch.
pub fn run_file(path: &Path, extra: &[&str]) -> Vec<String> {
    let e = parse(path);
    let dir = path.parent().expect("file has a folder");
    let name = path.file_name().expect("file name").to_string_lossy().to_string();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pvm"));
    cmd.arg("run").args(extra).arg(&name).args(&e.args).current_dir(dir);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("pvm starts");
    if let Some(mut si) = child.stdin.take() {
        let _ = si.write_all(e.stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("pvm finishes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut got: Vec<&str> = stdout.split('\n').collect();
    if got.last() == Some(&"") {
        got.pop();
    }
    let mut problems = Vec::new();
    if got != e.out {
        problems.push(format!("stdout differs:\n  expected {:?}\n  actual   {:?}", e.out, got));
    }
    let code = out.status.code().unwrap_or(-1);
    if code != e.code {
        problems.push(format!("exit status {code}, expected {}", e.code));
    }
    for s in &e.err {
        if !stderr.contains(s.as_str()) {
            problems.push(format!("stderr lacks {s:?}"));
        }
    }
    if !problems.is_empty() {
        problems.push(format!("stderr was: {}", stderr.lines().take(8).collect::<Vec<_>>().join(" | ")));
    }
    problems
}

/// Every top-level `.pvm` file of a folder (relative to the workspace root).
pub fn pvm_files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pvm"))
        .collect();
    v.sort();
    v
}

/// Runs all files of a folder with extra flags; panics listing every failure.
pub fn run_dir(dir: &str, extra: &[&str], min_files: usize) {
    let files = pvm_files(dir);
    assert!(
        files.len() >= min_files,
        "expected at least {min_files} tests in {dir}, found {}",
        files.len()
    );
    // Files run on a few threads at once: each is its own pvm process.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let p = run_file(f, extra);
                if !p.is_empty() {
                    let msg = format!("FAIL {}\n  {}", f.display(), p.join("\n  "));
                    failures.lock().expect("no worker panicked").push(msg);
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("no worker panicked");
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
