//! `pvm explore`: the page is written, self-contained, and its recording
//! agrees with the interpreter's own `--trace=json`; and (when Chromium and
//! chromedriver are installed) the page, stepped in a real browser, shows
//! what the trace says (tests/browser/explore_test.py).

mod browser;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PROGRAM: &str = r#"class Point {
    x: int;
    y: int;
}

fn fact(n: int) -> int {
    if n < 2 {
        return 1;
    }
    return n * fact(n - 1);
}

fn main() {
    let p = Point(3, 4);
    p.x = fact(5);
    let xs = [1, 2, 3];
    push(xs, p.x);
    let m = {"a": 1};
    m["b"] = 2;
    try {
        let z = 0;
        println(str(10 / z));
    } catch e {
        println("caught " + e);
    }
    println(str(p.x + xs[3]) + "</script>");
}
"#;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("pvm-explore-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir = dir();
    // Tests run in parallel: each file gets a folder of its own (same name).
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = dir.join(N.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string());
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write temp file");
    p
}

fn pvm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pvm")).args(args).output().expect("pvm runs")
}

fn explore(prog: &Path, extra: &[&str]) -> String {
    let out = prog.with_extension("html");
    let mut args = vec!["explore", "--no-sandbox"];
    args.extend_from_slice(extra);
    let (p, o) = (prog.to_string_lossy().into_owned(), out.to_string_lossy().into_owned());
    args.extend_from_slice(&[p.as_str(), "-o", o.as_str()]);
    let r = pvm(&args);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    std::fs::read_to_string(out).expect("the page is written")
}

/// The recording's lines, as the page embeds them: one JSON string literal
/// given to `JSON.parse`, holding `[` + the lines joined by `,\n` + `]`.
/// (Each line but the last keeps its `,`.)
fn recording(html: &str) -> Vec<String> {
    let key = "let REC = JSON.parse(\"";
    let start = html.find(key).expect("the recording") + key.len();
    let mut text = String::new();
    let mut chars = html[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next().expect("an escape") {
                'n' => text.push('\n'),
                'r' => text.push('\r'),
                't' => text.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let code = u32::from_str_radix(&hex, 16).expect("hex");
                    text.push(char::from_u32(code).expect("a character"));
                }
                c => text.push(c),
            },
            c => text.push(c),
        }
    }
    let inner = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).expect("an array");
    inner.lines().map(str::to_string).collect()
}

/// The `"key":` field of a JSON trace line: a number or a string's text.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[at..];
    if let Some(s) = rest.strip_prefix('"') {
        s.find('"').map(|e| &s[..e])
    } else {
        rest.find([',', '}']).map(|e| &rest[..e])
    }
}

/// Function names by index, from the page's META.
fn function_names(html: &str) -> Vec<String> {
    let funcs = &html[html.find("\"funcs\":[").expect("functions")..];
    let funcs = &funcs[..funcs.find("],\"globals\"").expect("end of functions")];
    funcs
        .split("{\"name\":\"")
        .skip(1)
        .map(|s| s[..s.find('"').expect("a name")].to_string())
        .collect()
}

#[test]
fn the_page_is_self_contained_and_agrees_with_the_json_trace() {
    let prog = write("prog.pvm", PROGRAM);
    let html = explore(&prog, &[]);
    for bad in ["http://", "https://", "src=", "<link", "@import"] {
        assert!(!html.contains(bad), "the page refers to something outside: {bad}");
    }
    // The program's `</script>` output cannot end the script early.
    assert_eq!(html.matches("</script>").count(), 1);
    let rec = recording(&html);
    let steps: Vec<&str> = rec
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with("[0,") || l.starts_with("[1,") || l.starts_with("[2,"))
        .collect();
    assert!(
        html.contains(&format!("\"steps\":{}", steps.len())),
        "the step count is in the page"
    );
    assert!(
        rec.iter().any(|l| l.starts_with("[8,") && l.contains("\"Point\",[120,4]")),
        "{rec:?}"
    );
    assert!(rec.iter().any(|l| l.starts_with("[8,") && l.contains("[1,2,3,120],4]")));
    assert!(rec.iter().any(|l| l.starts_with("[6,") && l.contains("division by zero")));
    assert!(
        rec.iter().any(|l| l.starts_with("[13,\"caught division by zero\\n\"]")),
        "output where it happened"
    );
    assert!(rec
        .last()
        .is_some_and(|l| l.starts_with("[10,") && l.contains("the program finished")));

    let t = pvm(&["run", "--no-sandbox", "--trace=json", &prog.to_string_lossy()]);
    assert_eq!(t.status.code(), Some(0));
    let trace = String::from_utf8_lossy(&t.stderr).into_owned();
    let instrs: Vec<&str> = trace.lines().filter(|l| l.starts_with("{\"ev\":\"instr\"")).collect();
    assert_eq!(instrs.len(), steps.len(), "one step per traced instruction");
    let names = function_names(&html);
    for (i, (s, j)) in steps.iter().zip(&instrs).enumerate() {
        let parts: Vec<&str> = s.trim_start_matches('[').trim_end_matches([']', ',']).split(',').collect();
        let f: usize = parts[1].parse().expect("a function");
        assert_eq!(Some(names[f].as_str()), field(j, "func"), "step {i}: function");
        assert_eq!(Some(parts[2]), field(j, "pc"), "step {i}: pc");
        // An int written: the same register and value as the trace's write.
        if s.starts_with("[0,") && parts.len() == 5 && !parts[4].starts_with('[') && !parts[4].starts_with('"') {
            let w = &j[j.find("\"writes\":[").expect("writes")..];
            assert_eq!(field(w, "r"), Some(parts[3]), "step {i}: register written");
            assert_eq!(field(w, "v"), Some(parts[4]), "step {i}: value written");
        }
    }
}

#[test]
fn a_runaway_program_is_stopped_at_max_steps_and_the_page_says_so() {
    let prog = write("forever.pvm", "fn main() { let i = 0; while true { i += 1; } }\n");
    let html = explore(&prog, &["--max-steps", "500"]);
    let rec = recording(&html);
    assert!(rec.iter().any(|l| l == "[9,500],"), "the bound is recorded");
    assert!(html.contains("\"steps\":500,"));
    assert!(html.contains("--max-steps bound"), "the page explains the bound");
}

#[test]
fn the_sandboxed_recording_matches_the_in_process_one_or_says_why_not() {
    let prog = write("sandboxed.pvm", PROGRAM);
    let out = prog.with_extension("sandboxed.html");
    let r = pvm(&["explore", &prog.to_string_lossy(), "-o", &out.to_string_lossy()]);
    if r.status.code() != Some(0) {
        eprintln!(
            "skipped: the container sandbox is not available here: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        return;
    }
    let sandboxed = std::fs::read_to_string(&out).expect("page");
    let direct = explore(&prog, &[]);
    assert_eq!(recording(&sandboxed), recording(&direct));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let prog = write("bad.pvm", "fn main() { let x = ; }\n");
    let r = pvm(&["explore", "--no-sandbox", &prog.to_string_lossy(), "-o", "/nonexistent/x.html"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&r.stderr).contains("panicked"));
    let good = write("good.pvm", "fn main() { println(1); }\n");
    let r = pvm(&["explore", "--no-sandbox", &good.to_string_lossy(), "-o", "/nonexistent/x.html"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("/nonexistent/x.html"));
}

/// Runs tests/browser/explore_test.py when python3 and chromedriver exist;
/// otherwise says so (on stderr) and passes.
#[test]
fn browser_stepper_matches_the_interpreter_or_says_why_not() {
    if let Some(why) = browser::missing() {
        eprintln!("skipped: {why}");
        return;
    }
    browser::run("explore_test.py", &["--pvm".as_ref(), env!("CARGO_BIN_EXE_pvm").as_ref()]);
}
