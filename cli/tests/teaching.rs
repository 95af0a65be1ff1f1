//! The teaching views: `pvm dump --tokens|--ast|--hir`, `pvm dis --tables
//! --offsets --no-verify` and `pvm verify`, checked on their real output,
//! including bytecode files corrupted by hand at offsets `dis --offsets`
//! gives.

use pvm_compiler::bytecode::{disasm, format, verify, TABLE};
use std::process::{Command, Output};

fn pvm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pvm")).args(args).output().expect("pvm runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str, bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("pvm-teaching-{}", std::process::id()));
    // Tests run in parallel: each file gets a folder of its own (same name).
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = dir.join(N.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string());
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p.to_string_lossy().into_owned()
}

const DEMO: &str = "interface Shape { fn area(self) -> float; }
class Sq : Shape {
    side: float;
    fn area(self) -> float { return self.side * self.side; }
}
fn main() {
    let n = 0x10;
    let k = 5;
    let inc = fn() { n += k; };
    inc();
    let s: Shape = Sq(2.0);
    println(str(n) + \" \" + str(s.area()));
}
";

/// The line of `text` whose whitespace-separated words are `words`.
fn has_line(text: &str, words: &[&str]) -> bool {
    text.lines().any(|l| l.split_whitespace().eq(words.iter().copied()))
}

/// The line of `text` containing `needle`, and its indentation after the position column
/// (10 characters wide).
fn node<'t>(text: &'t str, needle: &str) -> (&'t str, usize) {
    let line = text
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{text}"));
    let body = line.get(10..).unwrap_or("");
    (line, body.len() - body.trim_start().len())
}

#[test]
fn dump_tokens_prints_position_kind_and_text() {
    let f = tmp("demo_tokens.pvm", DEMO.as_bytes());
    let o = pvm(&["dump", "--tokens", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(has_line(&out, &["1:1", "Interface", "interface"]), "{out}");
    assert!(has_line(&out, &["6:4", "Ident", "main"]), "{out}");
    assert!(has_line(&out, &["7:13", "Int", "0x10", "=", "16"]), "{out}");
    assert!(has_line(&out, &["9:24", "PlusEq", "+="]), "{out}");
    assert!(has_line(&out, &["12:22", "Str", "\"", "\""]), "{out}");
    assert!(out.lines().any(|l| l.ends_with(" tokens")), "{out}");
}

#[test]
fn dump_ast_is_an_indented_tree_with_line_and_column() {
    let f = tmp("demo_ast.pvm", DEMO.as_bytes());
    let o = pvm(&["dump", "--ast", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let (line, class) = node(&out, "Class Sq : Shape");
    assert!(line.starts_with("2:7 "), "{line}");
    let (line, field) = node(&out, "Field side: float");
    assert!(line.starts_with("3:5 ") && field == class + 2, "{line}");
    let (_, let_) = node(&out, "Let inc");
    let (line, lambda) = node(&out, "Lambda ()");
    assert!(line.starts_with("9:15 ") && lambda == let_ + 2, "{line}");
    let (line, assign) = node(&out, "Assign +=");
    assert!(line.starts_with("9:22 ") && assign > lambda, "{line}");
}

#[test]
fn dump_hir_shows_types_captures_and_cells() {
    let f = tmp("demo_hir.pvm", DEMO.as_bytes());
    let o = pvm(&["dump", "--hir", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // `n` is captured and assigned in the lambda: a cell; `k` is only read: copied.
    assert!(out.contains("Let n#0 (cell): int"), "{out}");
    assert!(out.contains("Let k#1: int"), "{out}");
    assert!(out.contains("Lambda #2 <lambda> captures [n#0 (cell), k#1] : fn()"), "{out}");
    assert!(out.contains("n#2 (cell): int  shares the cell of n#0 (cell)"), "{out}");
    assert!(out.contains("k#3: int  copy of k#1"), "{out}");
    // Every expression is typed; operators are picked by type; dispatch is resolved.
    assert!(out.contains("Binary MulF : float"), "{out}");
    assert!(out.contains("Field .side (field #0) : float"), "{out}");
    assert!(out.contains("CallIface slot 0 Shape.area (dynamic dispatch) : float"), "{out}");
}

#[test]
fn dump_of_a_wrong_program_gives_the_diagnostics_and_status_2() {
    let lexical = tmp("lex.pvm", b"fn main() {\n  let s = \"a\\qb\";\n}\n");
    let syntax = tmp("syn.pvm", b"fn main() {\n  let = 1;\n}\n");
    let types = tmp("ty.pvm", b"fn main() {\n  let x: int = 1.5;\n}\n");
    for (args, want) in [
        (["dump", "--tokens", &lexical], "lex.pvm:2:13: error: unknown escape sequence"),
        (["dump", "--ast", &syntax], "syn.pvm:2:7: error: unexpected `=`"),
        (["dump", "--hir", &types], "ty.pvm:2:16: error: expected `int`, found `float`"),
    ] {
        let o = pvm(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        if args[1] == "--tokens" {
            // The tokens around a lexical error are listed too, with the error among them.
            let out = stdout(&o);
            assert!(out.contains("2:13      error      unknown escape sequence `\\q`"), "{out}");
            assert!(
                out.contains("2:11      Str        \"a\\qb\"  = \"ab\"") && out.ends_with("\n11 tokens, 1 lexical error\n"),
                "{out}"
            );
        } else {
            assert!(stdout(&o).is_empty());
        }
    }
    // A syntax error is no lexical error: the tokens are still shown.
    assert_eq!(pvm(&["dump", "--tokens", &syntax]).status.code(), Some(0));
    // Exactly one stage.
    assert_eq!(pvm(&["dump", &types]).status.code(), Some(2));
    assert_eq!(pvm(&["dump", "--ast", "--hir", &types]).status.code(), Some(2));
}

/// `demo.pvm` built to bytecode, and its `dis --offsets` listing.
fn built() -> (Vec<u8>, String) {
    // Tests run in parallel: each build has files of its own.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let src = tmp(&format!("built{n}.pvm"), DEMO.as_bytes());
    let out = src.replace(".pvm", ".pvmc");
    let o = pvm(&["build", &src, "-o", &out]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = pvm(&["dis", "--offsets", &out]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (std::fs::read(&out).expect("read bytecode"), stdout(&o))
}

/// The byte offset `dis --offsets` shows for the first instruction with `mnemonic`.
fn offset_of(listing: &str, mnemonic: &str) -> usize {
    let line = listing
        .lines()
        .find(|l| l.split_whitespace().nth(2) == Some(mnemonic))
        .unwrap_or_else(|| panic!("no {mnemonic} in\n{listing}"));
    let hex = line
        .split_whitespace()
        .next()
        .and_then(|w| w.strip_prefix("0x"))
        .expect("offset column");
    usize::from_str_radix(hex, 16).expect("hex offset")
}

#[test]
fn dis_offsets_point_at_the_opcode_bytes_in_the_file() {
    let (bytes, listing) = built();
    let mut checked = 0;
    for line in listing.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let Some(hex) = w.first().and_then(|x| x.strip_prefix("0x")) else {
            continue;
        };
        let at = usize::from_str_radix(hex, 16).expect("hex offset");
        let op = TABLE.iter().position(|i| i.name == w[2]).expect("a mnemonic");
        assert_eq!(bytes[at] as usize, op, "{line}");
        checked += 1;
    }
    assert!(checked > 20, "{listing}");
}

#[test]
fn dis_names_fields_and_methods_and_prints_the_tables() {
    let f = tmp("names.pvm", DEMO.as_bytes());
    let o = pvm(&["dis", "--tables", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(has_line(&out, &["c0", "Sq", ":", "Shape"]), "{out}");
    assert!(has_line(&out, &["field", "0", "side:", "float"]), "{out}");
    assert!(has_line(&out, &["vtable", "0", "area", "->", "f1", "Sq.area"]), "{out}");
    assert!(has_line(&out, &["slot", "m0", "area:", "fn()", "->", "float"]), "{out}");
    assert!(has_line(&out, &["x0", "println_str:", "fn(str)"]), "{out}");
    assert!(has_line(&out, &["k0", "float", "2.0"]), "{out}");
    assert!(has_line(&out, &["main:", "f0", "main"]), "{out}");
    assert!(out.contains("GetField    r2, r0, 0  ; Sq.side"), "{out}");
    assert!(out.contains("CallIface   r13, m0, r14  ; Shape.area"), "{out}");
}

/// Sets the register operand at byte `operand` (0-based) of the instruction at `at`.
fn set_reg(bytes: &mut [u8], at: usize, operand: usize, reg: u16) {
    let p = at + 1 + 2 * operand;
    bytes[p..p + 2].copy_from_slice(&reg.to_le_bytes());
}

#[test]
fn corrupted_bytecode_is_refused_shown_unverified_and_every_problem_listed() {
    let (bytes, listing) = built();
    let ok = tmp("good.pvmc", &bytes);
    let o = pvm(&["verify", &ok]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "ok: 3 functions verified\n"));

    // One corruption: `AddI r2, r2, r1` in the lambda reads r2313.
    let mut one = bytes.clone();
    set_reg(&mut one, offset_of(&listing, "AddI"), 2, 0x0909);
    let one = tmp("one.pvmc", &one);
    let o = pvm(&["dis", &one]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("invalid bytecode: function 2 `<lambda>`: at 1 (AddI): register r2313 out of range"),
        "{e}"
    );
    assert!(e.contains("--no-verify"), "{e}");
    assert!(stdout(&o).is_empty());
    let o = pvm(&["dis", "--no-verify", &one]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("UNVERIFIED: the verifier rejects this module (1 problem;"), "{out}");
    assert!(out.contains("AddI        r2, r2, r2313  ; r2313=?"), "{out}");

    // Two corruptions, in two functions: `verify` lists both, with function and pc.
    let mut two = bytes.clone();
    set_reg(&mut two, offset_of(&listing, "AddI"), 2, 0x0909);
    set_reg(&mut two, offset_of(&listing, "GetField"), 1, 7);
    let two = tmp("two.pvmc", &two);
    let o = pvm(&["verify", &two]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].ends_with("function 1 `Sq.area`: at 0 (GetField): register r7 out of range"),
        "{out}"
    );
    assert!(
        lines[1].ends_with("function 2 `<lambda>`: at 1 (AddI): register r2313 out of range"),
        "{out}"
    );
    assert!(lines[2].ends_with("2 problems; the VM refuses to run this module"), "{out}");
    let o = pvm(&["dis", "--no-verify", "--tables", "--offsets", &two]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("GetField    r2, r7, 0  ; r7=?, .?"), "{}", stdout(&o));
    // The JIT views never take an unverified module.
    assert_eq!(pvm(&["dis", "--no-verify", "--clif", &two]).status.code(), Some(2));
}

#[test]
fn disassembling_any_decodable_corruption_never_panics() {
    let m = pvm_compiler::compile_source("s.pvm", DEMO).expect("compiles");
    let bytes = format::encode(&m);
    let opts = disasm::Options {
        tables: true,
        offsets: true,
        unverified: Some("test".into()),
    };
    let mut decoded = 0;
    for i in 8..bytes.len() {
        for v in [0x00, 0xFF, bytes[i] ^ 0x01, bytes[i] ^ 0x80] {
            let mut c = bytes.clone();
            c[i] = v;
            let Ok(m) = format::decode(&c) else { continue };
            decoded += 1;
            let _ = verify::problems(&m);
            let listing = disasm::disassemble_with(&m, &[], &opts);
            assert!(listing.starts_with("UNVERIFIED"));
        }
    }
    assert!(decoded > 500, "{decoded}");
}
