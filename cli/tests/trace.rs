//! `--trace[=instr|values|json]` and `--gc-log`: what they print for small
//! programs, and that they never change what the program prints.

use std::process::{Command, Output};

fn tmp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("pvm-trace-{}", std::process::id()));
    // Tests run in parallel: each file gets a folder of its own (same name).
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = dir.join(N.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string());
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write temp file");
    p.to_string_lossy().into_owned()
}

fn pvm(flags: &[&str], file: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pvm"))
        .arg("run")
        .arg("--no-sandbox")
        .args(flags)
        .arg(file)
        .output()
        .expect("pvm runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const PROGRAM: &str = r#"class Point {
    x: int;
    y: float;
}

fn fib(n: int) -> int {
    if n < 2 {
        return n;
    }
    return fib(n - 1) + fib(n - 2);
}

fn boom(d: int) -> int {
    if d == 0 {
        throw "boom \"" + str(d) + "\"\n";
    }
    return boom(d - 1);
}

fn main() {
    let p = Point(7, 0.5);
    println(fib(3));
    try {
        boom(2);
    } catch e {
        print("caught " + e);
    }
    println(p.x);
    println(p.y);
}
"#;

/// The lines of a `--trace=values` run of [`PROGRAM`].
fn values_trace() -> Vec<String> {
    let f = tmp("program.pvm", PROGRAM);
    let o = pvm(&["--trace=values"], &f);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stderr(&o).lines().map(str::to_string).collect()
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

#[test]
fn recursion_is_a_staircase_of_calls_and_returns_with_values() {
    let lines = values_trace();
    let find = |text: &str| {
        lines
            .iter()
            .position(|l| l.trim_start() == text)
            .unwrap_or_else(|| panic!("no line {text:?} in\n{}", lines.join("\n")))
    };
    // fib(3) calls fib(2), which calls fib(1) and fib(0); then fib(1).
    let c3 = find("call fib(3)");
    let c2 = find("call fib(2)");
    let c1 = find("call fib(1)");
    let c0 = find("call fib(0)");
    assert!(c3 < c2 && c2 < c1 && c1 < c0);
    assert_eq!(indent_of(&lines[c3]), 0);
    assert_eq!(indent_of(&lines[c2]), 2);
    assert_eq!(indent_of(&lines[c1]), 4);
    assert_eq!(indent_of(&lines[c0]), 4);
    // The callee's instructions are one step deeper than its call event.
    assert!(lines[c1 + 1].starts_with("      [fib:0]"), "{}", lines[c1 + 1]);
    // Each return shows its value, at its callee's depth; fib(3) returns 2.
    let r2 = lines
        .iter()
        .rposition(|l| l.trim_start() == "return 2 from fib")
        .expect("fib(3) returns 2");
    assert_eq!(indent_of(&lines[r2]), 2);
    assert!(lines[c0..].iter().any(|l| l == "      return 0 from fib"));
    assert!(lines.iter().any(|l| l == "    return 1 from fib"));
    // An addition shows what it read and what it wrote.
    assert!(
        lines.iter().any(|l| l.contains("AddI") && l.ends_with("r2=1 r4=1 -> r1=2")),
        "{}",
        lines.join("\n")
    );
    assert!(lines.iter().any(|l| l == "return from main"));
}

#[test]
fn a_caught_throw_unwinds_to_its_handler() {
    let lines = values_trace();
    let c = lines
        .iter()
        .position(|l| l.trim_start() == "call boom(0)")
        .expect("boom(0) is called");
    let u = lines
        .iter()
        .position(|l| l.contains("unwind"))
        .unwrap_or_else(|| panic!("no unwind in\n{}", lines.join("\n")));
    assert!(u > c);
    // boom(0), boom(1) and boom(2) are dropped at once; main's handler runs.
    let handler = lines[u].trim_start();
    assert!(
        handler.starts_with("unwind 3 frames -> handler @") && handler.ends_with(r#" in main: "boom \"0\"\n""#),
        "{handler}"
    );
    assert!(lines[u - 1].contains("Throw"), "{}", lines[u - 1]);
    // The next instruction is main's, at the handler's pc, unindented.
    let at = handler
        .trim_start_matches("unwind 3 frames -> handler @")
        .split(' ')
        .next()
        .expect("a pc");
    assert!(lines[u + 1].starts_with(&format!("[main:{at}] ")), "{}", lines[u + 1]);
}

#[test]
fn values_are_typed_strings_quoted_objects_numbered() {
    let lines = values_trace();
    let all = lines.join("\n");
    // A str register: a quoted, escaped string.
    assert!(all.contains(r#"-> r2="boom \"0\"\n""#), "{all}");
    // An object: its class and a number that stays with it.
    let new = lines.iter().find(|l| l.contains(" New ")).expect("a New");
    assert!(new.ends_with("r1=7 r2=0.5 -> r0=<Point#1>"), "{new}");
    let get = lines.iter().filter(|l| l.contains("GetField")).collect::<Vec<_>>();
    assert_eq!(get.len(), 2, "{all}");
    assert!(get[0].contains("r0=<Point#1> -> ") && get[0].ends_with("=7"), "{}", get[0]);
    // A float field reads as a float.
    assert!(get[1].ends_with("=0.5"), "{}", get[1]);
    // A bool is a bool.
    let src = tmp(
        "bool.pvm",
        "fn main() { let a = 1; let b = a < 2; println(b); let s: str = nil; println(s == nil); }\n",
    );
    let o = pvm(&["--trace=values"], &src);
    let e = stderr(&o);
    assert!(e.contains("=true"), "{e}");
    assert!(e.contains("=nil"), "{e}");
}

/// A JSON value: enough of one to check the trace.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, k: &str) -> Option<&Json> {
        match self {
            Json::Obj(kv) => kv.iter().find(|(key, _)| key == k).map(|(_, v)| v),
            _ => None,
        }
    }

    fn str(&self, k: &str) -> Option<&str> {
        match self.get(k) {
            Some(Json::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn num(&self, k: &str) -> Option<f64> {
        match self.get(k) {
            Some(Json::Num(n)) => Some(*n),
            _ => None,
        }
    }
}

/// A strict parser of one JSON text (RFC 8259), for checking the trace.
struct Parser<'s> {
    s: &'s [u8],
    i: usize,
}

impl Parser<'_> {
    fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser { s: text.as_bytes(), i: 0 };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing text at {}", p.i));
        }
        Ok(v)
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {}", c as char, self.i))
        }
    }

    fn lit(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(format!("bad literal at {}", self.i))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'n') => self.lit("null", Json::Null),
            Some(b't') => self.lit("true", Json::Bool(true)),
            Some(b'f') => self.lit("false", Json::Bool(false)),
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b'[') => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(v));
                }
                loop {
                    v.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(v));
                        }
                        _ => return Err(format!("bad array at {}", self.i)),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut kv = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(kv));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    kv.push((k, self.value()?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(kv));
                        }
                        _ => return Err(format!("bad object at {}", self.i)),
                    }
                }
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                if self.s[self.i] == b'-' {
                    self.i += 1;
                }
                let digits = |p: &mut Self| {
                    let d = p.i;
                    while p.i < p.s.len() && p.s[p.i].is_ascii_digit() {
                        p.i += 1;
                    }
                    p.i > d
                };
                if self.s.get(self.i) == Some(&b'0') {
                    self.i += 1;
                } else if !digits(self) {
                    return Err(format!("bad number at {start}"));
                }
                if self.s.get(self.i) == Some(&b'.') {
                    self.i += 1;
                    if !digits(self) {
                        return Err(format!("bad fraction at {start}"));
                    }
                }
                if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
                    self.i += 1;
                    if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                        self.i += 1;
                    }
                    if !digits(self) {
                        return Err(format!("bad exponent at {start}"));
                    }
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                text.parse().map(Json::Num).map_err(|e| format!("{text}: {e}"))
            }
            _ => Err(format!("unexpected text at {}", self.i)),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return Err("unterminated escape".into());
                    };
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self.s.get(self.i..self.i + 4).ok_or("short \\u")?;
                            let n =
                                u32::from_str_radix(std::str::from_utf8(hex).map_err(|e| e.to_string())?, 16).map_err(|e| e.to_string())?;
                            self.i += 4;
                            let ch = char::from_u32(n).ok_or("surrogate in \\u")?;
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        _ => return Err(format!("bad escape at {}", self.i)),
                    }
                }
                c if c < 0x20 => return Err(format!("raw control character at {}", self.i)),
                c => out.push(c),
            }
        }
    }
}

#[test]
fn the_json_parser_of_this_test_rejects_what_is_not_json() {
    for bad in ["{\"a\":1,}", "{'a':1}", "[1 2]", "\"a\nb\"", "01", "NaN", "{\"a\":inf}", "\"\\x\""] {
        assert!(Parser::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        Parser::parse(r#"{"a":[1,-2.5e3,true,null,"x\"\u0001"]}"#),
        Ok(Json::Obj(vec![(
            "a".into(),
            Json::Arr(vec![
                Json::Num(1.0),
                Json::Num(-2500.0),
                Json::Bool(true),
                Json::Null,
                Json::Str("x\"\u{1}".into())
            ])
        )]))
    );
}

#[test]
fn every_json_trace_line_is_an_event_object() {
    let f = tmp("program.pvm", PROGRAM);
    let o = pvm(&["--trace=json"], &f);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut seen = std::collections::BTreeMap::new();
    let events: Vec<Json> = stderr(&o)
        .lines()
        .map(|l| Parser::parse(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(events.len() > 50);
    for ev in &events {
        let kind = ev.str("ev").unwrap_or_else(|| panic!("no \"ev\": {ev:?}"));
        assert!(ev.num("depth").is_some(), "{ev:?}");
        *seen.entry(kind.to_string()).or_insert(0) += 1;
        match kind {
            "instr" => {
                assert!(ev.str("func").is_some() && ev.num("pc").is_some() && ev.str("op").is_some() && ev.str("text").is_some());
                for key in ["reads", "writes"] {
                    let Some(Json::Arr(regs)) = ev.get(key) else {
                        panic!("{key}: {ev:?}")
                    };
                    for r in regs {
                        assert!(r.num("r").is_some() && r.str("t").is_some() && r.get("v").is_some(), "{r:?}");
                    }
                }
                assert!(matches!(ev.get("done"), Some(Json::Bool(_))), "{ev:?}");
            }
            "call" => assert!(ev.str("func").is_some() && matches!(ev.get("args"), Some(Json::Arr(_))), "{ev:?}"),
            "return" => assert!(ev.str("func").is_some(), "{ev:?}"),
            "unwind" => {
                assert_eq!(ev.num("frames"), Some(3.0), "{ev:?}");
                assert_eq!(ev.str("error"), Some("boom \"0\"\n"), "{ev:?}");
                assert_eq!(ev.get("caught"), Some(&Json::Bool(true)), "{ev:?}");
                assert_eq!(ev.str("func"), Some("main"), "{ev:?}");
                assert!(ev.num("handler").is_some(), "{ev:?}");
            }
            other => panic!("unexpected event {other}: {ev:?}"),
        }
    }
    // main, fib(3) and the four calls under it, boom(2) to boom(0); println is a native.
    assert_eq!(seen.get("call"), Some(&9), "{seen:?}");
    assert_eq!(seen.get("return"), Some(&6), "{seen:?}"); // 5 fib and main; the booms unwind
    assert_eq!(seen.get("unwind"), Some(&1), "{seen:?}");
    // Typed values: the object, the float, the string with its escapes.
    let new = events.iter().find(|e| e.str("op") == Some("New")).expect("a New");
    let Some(Json::Arr(w)) = new.get("writes") else { panic!("{new:?}") };
    assert_eq!(w[0].str("t"), Some("Point"));
    assert_eq!(w[0].get("v").and_then(|v| v.str("ref")), Some("Point"));
    assert_eq!(w[0].get("v").and_then(|v| v.num("id")), Some(1.0));
    let Some(Json::Arr(r)) = new.get("reads") else { panic!("{new:?}") };
    assert_eq!(r[1].get("v"), Some(&Json::Num(0.5)));
    let fib3 = events
        .iter()
        .find(|e| e.str("ev") == Some("call") && e.str("func") == Some("fib"))
        .expect("a call of fib");
    let Some(Json::Arr(args)) = fib3.get("args") else {
        panic!("{fib3:?}")
    };
    assert_eq!(args[0].get("v"), Some(&Json::Num(3.0)));
}

#[test]
fn a_collection_is_a_gc_event() {
    // Under --gc-stress every safepoint collects.
    let f = tmp(
        "alloc.pvm",
        "fn main() { let xs: [int] = []; for i in 0..3 { xs = [i, i]; } println(len(xs)); }\n",
    );
    for mode in ["--trace=json", "--trace=values"] {
        let o = pvm(&[mode, "--gc-stress"], &f);
        assert_eq!(stdout(&o), "2\n");
        let e = stderr(&o);
        let gc: Vec<&str> = e.lines().filter(|l| l.contains("gc")).collect();
        assert!(gc.len() >= 3, "{e}");
        if mode == "--trace=json" {
            for l in gc {
                let ev = Parser::parse(l).expect("json");
                assert_eq!(ev.str("ev"), Some("gc"));
                for k in ["cycle", "heap_before", "heap_after", "marked", "freed", "pause_ms"] {
                    assert!(ev.num(k).is_some(), "{k}: {l}");
                }
            }
        } else {
            assert!(gc.iter().all(|l| l.trim_start().starts_with("gc #")), "{e}");
        }
    }
}

#[test]
fn gc_log_counts_roots_marked_and_freed() {
    let f = tmp(
        "garbage.pvm",
        "class Node { v: int; next: Node; }\n\
         fn main() { let keep: Node = nil; let total = 0;\n\
           for i in 0..100000 { let n = Node(i, nil); let s = \"x\" + str(i); total += n.v + len(s);\n\
             if i % 1000 == 0 { keep = Node(i, keep); } }\n\
           println(total); }\n",
    );
    for jit in ["--jit=off", "--jit=on"] {
        let o = pvm(&["--gc-log", jit], &f);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), "5000538890\n");
        let e = stderr(&o);
        let lines: Vec<&str> = e.lines().filter(|l| l.starts_with("[gc #")).collect();
        assert!(lines.len() >= 2, "{e}");
        for l in &lines {
            for field in [
                " roots ",
                " slots (",
                " objects), marked ",
                " freed ",
                " heap ",
                " live)",
                " pause ",
            ] {
                assert!(l.contains(field), "{field:?} missing: {l}");
            }
        }
        // Numbers after a word: `freed N objects`.
        let after = |l: &str, word: &str| -> u64 {
            let rest = &l[l.find(word).unwrap_or_else(|| panic!("{word} in {l}")) + word.len()..];
            rest.split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("a number after {word} in {l}"))
        };
        for l in &lines {
            assert!(after(l, " roots ") > 0, "{l}");
            assert!(after(l, "marked ") > 0, "{l}");
            // Nearly everything each cycle finds is garbage.
            assert!(after(l, "freed ") > 1000, "{l}");
        }
    }
}

#[test]
fn tracing_never_changes_what_the_program_prints() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lang");
    let mut files = vec![tmp("program.pvm", PROGRAM)];
    for name in [
        "try_nested.pvm",
        "closure_counters_independent.pvm",
        "class_methods_and_self.pvm",
        "builtin_map_has_remove_keys.pvm",
        "rt_uncaught_throw.pvm",
    ] {
        files.push(root.join(name).to_string_lossy().into_owned());
    }
    for f in &files {
        let plain = pvm(&[], f);
        for mode in ["--trace", "--trace=instr", "--trace=values", "--trace=json"] {
            let o = pvm(&[mode], f);
            assert_eq!(stdout(&o), stdout(&plain), "{mode} {f}");
            assert_eq!(o.status.code(), plain.status.code(), "{mode} {f}");
            assert!(stderr(&o).len() > stderr(&plain).len(), "{mode} {f}: no trace");
        }
    }
}

#[test]
fn bare_trace_is_the_instruction_listing() {
    let f = tmp("program.pvm", PROGRAM);
    let bare = stderr(&pvm(&["--trace"], &f));
    assert_eq!(bare, stderr(&pvm(&["--trace=instr"], &f)));
    assert!(bare.starts_with("[main:   0] "), "{bare}");
    assert!(!bare.contains("call fib"), "{bare}");
    let o = pvm(&["--trace=bogus"], &f);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
