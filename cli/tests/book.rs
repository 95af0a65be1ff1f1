//! The book (`docs/*.md`) is tested: every command it shows is run and its
//! output compared with the listing, so the book cannot go stale.
//!
//! The convention (also described in `docs/README.md`, "Reading the
//! listings"):
//!
//! * A fenced block whose info string has `file=NAME` (```` ```pvm
//!   file=prog.pvm ````) defines a file: its text is written to `NAME` in the
//!   chapter's own temporary directory when the block is reached. A later
//!   block may redefine it. Files defined in `README.md` (the program the
//!   book follows) are written into every chapter's directory first.
//! * A ```` ```console ```` block holds commands, each on a line starting
//!   with `$ `, each followed by its expected output. A command is run by
//!   `sh -c` in the chapter's directory, with the `pvm` under test first on
//!   `PATH`, so `|`, `&&` and `2>&1` work as in a terminal. The output shown
//!   is the command's standard output, then its standard error, then, if the
//!   status is not 0, a line `(exit status N)`.
//! * ```` ```console norun ```` blocks are not run (the sandbox's listings,
//!   which need a machine set up for it); the text after the block's info
//!   string should say why.
//! * Comparison is exact, except that trailing spaces and trailing empty
//!   lines are ignored and volatile numbers are masked on both sides: a
//!   number followed by ` s`, ` ms`, ` us`, ` µs`, ` KiB peak RSS`,
//!   ` bytes of machine code` or ` bytes)` (times, memory of the process,
//!   machine code, which depends on the CPU, and the size of `pvm
//!   explore`'s page, which holds machine code) matches any number, and so does a hex
//!   number of more than 8 digits (`0x5571_b54d_3080`: an address).
//! * `BLESS=1 cargo test -p pvm-cli --test book` rewrites every listing that
//!   does not match with the actual output (a listing that matches once
//!   masked is left alone, so its numbers do not churn).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const UNITS: &[&str] = &[" s", " ms", " us", " µs", " KiB peak RSS", " bytes of machine code", " bytes)"];

/// Masks every volatile number of `line` (see the module comment) with `#`.
fn mask(line: &str) -> String {
    let b = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.');
        if boundary && line[i..].starts_with("0x") {
            let mut j = i + 2;
            while j < b.len() && (b[j].is_ascii_hexdigit() || b[j] == b'_') {
                j += 1;
            }
            if line[i + 2..j].bytes().filter(u8::is_ascii_hexdigit).count() > 8 {
                out.push_str("0x#");
            } else {
                out.push_str(&line[i..j]);
            }
            i = j;
        } else if b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.')) {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                j += 1;
            }
            let rest = &line[j..];
            let volatile = UNITS
                .iter()
                .any(|u| rest.starts_with(u) && rest[u.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric()));
            if volatile {
                out.push('#');
            } else {
                out.push_str(&line[i..j]);
            }
            i = j;
        } else {
            let c = line[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn normalise(lines: &[String]) -> Vec<String> {
    let mut v: Vec<String> = lines.iter().map(|l| mask(l.trim_end())).collect();
    while v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

/// A line diff (longest common subsequence) with 2 lines of context:
/// `-` the listing (with its line number in the chapter, from `first`),
/// `+` the actual output.
fn diff(exp: &[String], act: &[String], first: usize) -> String {
    let (n, m) = (exp.len(), act.len());
    let mut l = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = if exp[i] == act[j] {
                l[i + 1][j + 1] + 1
            } else {
                l[i + 1][j].max(l[i][j + 1])
            };
        }
    }
    // (kind, listing line index or the next one, text)
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && exp[i] == act[j] {
            ops.push((' ', i, &exp[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || l[i + 1][j] >= l[i][j + 1]) {
            ops.push(('-', i, &exp[i]));
            i += 1;
        } else {
            ops.push(('+', i, &act[j]));
            j += 1;
        }
    }
    let near = |k: usize| ops[k.saturating_sub(2)..(k + 3).min(ops.len())].iter().any(|o| o.0 != ' ');
    let mut out = String::new();
    let mut skipped = false;
    for (k, &(kind, at, text)) in ops.iter().enumerate() {
        if !near(k) {
            skipped = true;
            continue;
        }
        if skipped {
            out.push_str("      ...\n");
            skipped = false;
        }
        let _ = writeln!(
            out,
            "{:>5} {kind} {text}",
            if kind == '+' { String::new() } else { (first + at).to_string() }
        );
    }
    out
}

struct Run {
    /// 0-based line index of the `$ ` line, and the range of expected lines.
    cmd_line: usize,
    out_start: usize,
    out_end: usize,
    indent: String,
    actual: Vec<String>,
}

fn run(cmd: &str, dir: &Path, bin_dir: &Path) -> Vec<String> {
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let o = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .env("PATH", path)
        .env("PVM_QUIET_FALLBACK", "1")
        .output()
        .expect("sh runs");
    let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&o.stderr));
    let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    if let Some(code) = o.status.code().filter(|&c| c != 0) {
        lines.push(format!("(exit status {code})"));
    } else if o.status.code().is_none() {
        lines.push("(killed by a signal)".to_string());
    }
    lines
}

/// Runs one chapter; returns its failures and the runs (for blessing).
fn chapter(path: &Path, root: &Path, bin_dir: &Path, shared: &Path) -> (Vec<String>, Vec<Run>, usize) {
    let text = std::fs::read_to_string(path).expect("read chapter");
    let lines: Vec<&str> = text.lines().collect();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let dir = root.join(name.trim_end_matches(".md"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("chapter dir");
    if shared.exists() && shared != dir {
        for e in std::fs::read_dir(shared).expect("shared dir") {
            let e = e.expect("dir entry");
            if e.path().is_file() {
                std::fs::copy(e.path(), dir.join(e.file_name())).expect("copy shared file");
            }
        }
    }
    let (mut failures, mut runs, mut count) = (Vec::new(), Vec::new(), 0);
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        if !t.starts_with("```") {
            i += 1;
            continue;
        }
        let indent = lines[i][..lines[i].len() - t.len()].to_string();
        let info: Vec<&str> = t[3..].split_whitespace().collect();
        let open = i;
        let mut close = i + 1;
        while close < lines.len() && lines[close].trim() != "```" {
            close += 1;
        }
        assert!(close < lines.len(), "{name}:{}: unclosed code block", open + 1);
        let body: Vec<String> = lines[open + 1..close]
            .iter()
            .map(|l| l.strip_prefix(indent.as_str()).unwrap_or(l).to_string())
            .collect();
        if let Some(f) = info.iter().find_map(|w| w.strip_prefix("file=")) {
            let mut content = body.join("\n");
            content.push('\n');
            std::fs::write(dir.join(f), content).expect("write block file");
        }
        if info.first() == Some(&"console") && !info.contains(&"norun") {
            let mut k = 0;
            while k < body.len() {
                let Some(cmd) = body[k].strip_prefix("$ ") else {
                    failures.push(format!(
                        "{name}:{}: a console block's output must follow a `$ ` command",
                        open + 2 + k
                    ));
                    break;
                };
                let mut e = k + 1;
                while e < body.len() && !body[e].starts_with("$ ") {
                    e += 1;
                }
                count += 1;
                let actual = run(cmd, &dir, bin_dir);
                let (exp, act) = (normalise(&body[k + 1..e]), normalise(&actual));
                if exp != act {
                    failures.push(format!(
                        "docs/{name}:{}: `$ {cmd}`: the output differs from the listing (- listing, + actual):\n{}",
                        open + 2 + k,
                        diff(&exp, &act, open + 3 + k)
                    ));
                    runs.push(Run {
                        cmd_line: open + 1 + k,
                        out_start: open + 2 + k,
                        out_end: open + 1 + e,
                        indent: indent.clone(),
                        actual,
                    });
                }
                k = e;
            }
        }
        i = close + 1;
    }
    (failures, runs, count)
}

fn bless(path: &Path, runs: &[Run]) {
    let text = std::fs::read_to_string(path).expect("read chapter");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for r in runs.iter().rev() {
        assert!(lines[r.cmd_line].trim_start().starts_with("$ "));
        let mut actual = r.actual.clone();
        while actual.last().is_some_and(|l| l.is_empty()) {
            actual.pop();
        }
        let new: Vec<String> = actual
            .iter()
            .map(|l| if l.is_empty() { String::new() } else { format!("{}{l}", r.indent) })
            .collect();
        lines.splice(r.out_start..r.out_end, new);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    std::fs::write(path, out).expect("write chapter");
}

#[test]
fn every_listing_in_the_book_is_the_real_output() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let root = std::env::temp_dir().join(format!("pvm-book-{}", std::process::id()));
    let bin_dir = root.join("bin");
    std::fs::create_dir_all(&bin_dir).expect("temp dir");
    let link = bin_dir.join("pvm");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_pvm"), &link).expect("link pvm");
    let blessing = std::env::var_os("BLESS").is_some_and(|v| v != "0");

    let mut chapters: Vec<PathBuf> = std::fs::read_dir(&docs)
        .expect("docs/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    // README.md first: the files it defines are shared by every chapter.
    chapters.sort_by_key(|p| (!p.ends_with("README.md"), p.clone()));
    let shared = root.join("README");
    let (mut failures, mut total) = (Vec::new(), 0);
    for path in &chapters {
        let (f, runs, count) = chapter(path, &root, &bin_dir, &shared);
        total += count;
        if blessing && !runs.is_empty() {
            bless(path, &runs);
            eprintln!("blessed {} listing(s) in {}", runs.len(), path.display());
        } else {
            failures.extend(f);
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    eprintln!("the book ran {total} commands");
    assert!(total > 0, "no commands found in {}", docs.display());
    assert!(
        failures.is_empty(),
        "{} listing(s) of the book are stale (rerun with BLESS=1 to rewrite them, then read them):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn masking_hides_only_volatile_numbers() {
    assert_eq!(
        mask("stats: 67 instructions interpreted in 0.000 s"),
        "stats: 67 instructions interpreted in # s"
    );
    assert_eq!(
        mask("-> 1249 bytes of machine code in 1530 us"),
        "-> # bytes of machine code in # us"
    );
    assert_eq!(
        mask("pause 0.058 ms (longest 0.043 ms), 5776 KiB peak RSS"),
        "pause # ms (longest # ms), # KiB peak RSS"
    );
    assert_eq!(
        mask("heap 256.0 KiB -> 320.0 KiB, 3 slices, r2 5 sq"),
        "heap 256.0 KiB -> 320.0 KiB, 3 slices, r2 5 sq"
    );
}
