//! No size cliffs: programs that are merely large compile, and what exceeds
//! a real limit is a clear error at a source position, never a crash.

use pvm_compiler::{compile_source, CompileError};

fn ok(src: &str) {
    if let Err(e) = compile_source("big.pvm", src) {
        panic!("{}", e.render().chars().take(500).collect::<String>());
    }
}

fn err(src: &str) -> String {
    match compile_source("big.pvm", src) {
        Err(e) => e.render(),
        Ok(_) => panic!("compiled"),
    }
}

#[test]
fn a_long_flat_sum_compiles() {
    let terms = vec!["x"; 20_000].join(" + ");
    ok(&format!("fn main() {{ let x = 1; println({terms}); }}"));
}

#[test]
fn a_long_else_if_chain_compiles() {
    let mut s = String::from("fn f(x: int) -> int {\n if x == 0 { return 0; }\n");
    for i in 1..10_000 {
        s.push_str(&format!(" else if x == {i} {{ return {i}; }}\n"));
    }
    s.push_str(" return -1;\n}\nfn main() { println(f(9999)); }\n");
    ok(&s);
}

#[test]
fn deep_blocks_and_long_unary_chains_compile() {
    ok(&format!(
        "fn main() {{ let x = 0; {} x += 1; {} println(x); }}",
        "{ ".repeat(20_000),
        "} ".repeat(20_000)
    ));
    ok(&format!("fn main() {{ let x = 5; println({}x); }}", "-".repeat(10_000)));
    ok(&format!("fn main() {{ let b = true; println({}b); }}", "!".repeat(10_000)));
    ok(&format!(
        "fn main() {{ let x = {}1{}; println(x); }}",
        "(".repeat(20_000),
        ")".repeat(20_000)
    ));
}

#[test]
fn nesting_past_the_limit_is_an_error_at_a_position() {
    let e = err(&format!(
        "fn main() {{\n  let x = 0; {} x += 1; {} }}",
        "{ ".repeat(60_000),
        "} ".repeat(60_000)
    ));
    assert!(e.starts_with("big.pvm:2:"), "{}", &e[..200.min(e.len())]);
    assert!(e.contains("nested more than 50000 levels deep"), "{}", &e[..300.min(e.len())]);
    // The source line is shown as a window, not 120,000 characters.
    assert!(e.lines().all(|l| l.len() < 400), "a long line was printed whole");
}

#[test]
fn a_huge_array_literal_compiles() {
    let items: Vec<String> = (0..70_000).map(|i| i.to_string()).collect();
    let m = compile_source(
        "big.pvm",
        &format!("fn main() {{ let a = [{}]; println(len(a)); }}", items.join(", ")),
    )
    .expect("compiles");
    // Built by pushes: a handful of registers, not one per element.
    let main = &m.functions[m.main.expect("has main") as usize];
    assert!(main.regs.len() < 16, "{} registers", main.regs.len());
}

#[test]
fn too_many_functions_is_an_error_at_the_one_too_many() {
    let mut s = String::new();
    for i in 0..65_540 {
        s.push_str(&format!("fn f{i}() {{}}\n"));
    }
    s.push_str("fn main() {}\n");
    let e = err(&s);
    assert!(
        e.starts_with("big.pvm:65536:4: error: the program declares more than 65535 functions"),
        "{}",
        &e[..200.min(e.len())]
    );
}

#[test]
fn too_many_registers_is_an_error_at_the_function() {
    // 70,000 locals, all live at once.
    let mut s = String::from("fn main() {\n");
    for i in 0..70_000 {
        s.push_str(&format!("let v{i} = {i};\n"));
    }
    s.push_str("println(v0 + v69999);\n}\n");
    match compile_source("big.pvm", &s) {
        Err(CompileError::Limit { file, line, message }) => {
            assert_eq!(file, "big.pvm");
            assert!(line > 0);
            assert!(message.contains("more than 65535 registers"), "{message}");
        }
        Err(e) => panic!("{}", &e.render()[..200]),
        Ok(_) => panic!("compiled"),
    }
}

#[test]
fn bad_bytes_in_source_are_reported_with_their_position() {
    let dir = std::env::temp_dir().join(format!("pvm-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let utf = dir.join("utf.pvm");
    std::fs::write(&utf, b"fn main() {\n  let s = \"ab\xffc\";\n}\n").expect("write");
    let e = pvm_compiler::compile_file(utf.to_str().expect("path"))
        .expect_err("refused")
        .render();
    assert!(e.contains("not UTF-8 text (an invalid byte at line 2, column 14)"), "{e}");
    let nul = dir.join("nul.pvm");
    std::fs::write(&nul, b"fn main() {}\n\n  \0").expect("write");
    let e = pvm_compiler::compile_file(nul.to_str().expect("path"))
        .expect_err("refused")
        .render();
    assert!(e.contains("a NUL byte at line 3, column 3"), "{e}");
}
