//! pvm in the browser: the compiler, the verifier and the interpreter built
//! for `wasm32-unknown-unknown`, behind the same stepper `pvm explore` writes.
//!
//! The page (`playground/build.sh` makes it) holds an editor. Each time the
//! student runs the program, the page calls [`run`] with the editor's text;
//! this crate compiles it, verifies the bytecode (loading a module into a VM
//! always does), runs it in the interpreter with the tracer recording every
//! instruction, and returns one JSON object:
//!
//! ```text
//! {"ok":true,  "meta":{...}, "rec":[[3,0,[]],[0,0,0,1,42],...]}
//! {"ok":false, "errors":[{"line":2,"column":9,"endLine":2,"endColumn":12,"message":"..."}],
//!              "text":"the errors as `pvm run` prints them"}
//! ```
//!
//! `meta` and `rec` are exactly what `pvm explore` pastes into its page
//! (see `pvm::explore`), so the browser shows the same panes: source,
//! bytecode, registers of every frame, the heap with the collector's
//! marking, and the output. [`dump`] prints the compiler's stages (tokens,
//! syntax tree, typed HIR, disassembly) for the page's other tabs.
//!
//! What is left out in the browser: the container (there is no kernel to
//! ask), the JIT's execution (no executable memory: the program runs in the
//! interpreter, but the page still shows the Cranelift IR and x86-64 code
//! the JIT would make of each function), files and standard input (the
//! program gets none: reading a file is the runtime error "not allowed").
//! Everything here is plain Rust with no `unsafe`; the functions work the
//! same natively, which is how the tests below check them.

pub mod pack;

use pvm::explore;
use pvm::{Access, Capabilities, Captured};
use pvm_compiler::{CompileError, NoImports, Options};
use std::fmt::Write as _;
use wasm_bindgen::prelude::*;

/// The example programs the page offers (the first is shown on loading):
/// the book's running example, then one for each thing worth watching.
pub const EXAMPLES: [(&str, &str); 4] = [
    ("1-counter.pvm", include_str!("../web/examples/1-counter.pvm")),
    ("2-fib.pvm", include_str!("../web/examples/2-fib.pvm")),
    ("3-garbage.pvm", include_str!("../web/examples/3-garbage.pvm")),
    ("4-closures.pvm", include_str!("../web/examples/4-closures.pvm")),
];

/// The program's name in messages.
pub const FILE: &str = "playground.pvm";
/// The most steps a run may record (the page's own default is lower).
pub const MAX_STEPS: u32 = 1_000_000;

fn options() -> Options<'static> {
    Options {
        host: &[],
        resolver: &NoImports,
        require_main: true,
    }
}

/// Compiles and runs `source`, recording at most `max_steps` instructions;
/// returns the JSON object described in the crate's docs.
#[wasm_bindgen]
pub fn run(source: &str, max_steps: u32) -> String {
    let max_steps = u64::from(max_steps.clamp(1, MAX_STEPS));
    let module = match pvm_compiler::compile_source_with(FILE, source, &options()) {
        Ok((m, _)) => m,
        Err(e) => return errors_json(&e),
    };
    let caps = Capabilities {
        read_file: Access::Deny,
        write_file: Access::Deny,
        args: Some(Vec::new()),
        exit: true,
        clock: true,
    };
    let buf = Captured::new();
    if let Err(e) = explore::record(module.clone(), caps, max_steps, Box::new(buf.clone())) {
        // The compiler's output always verifies; this would be a bug in pvm.
        let mut out = String::from("{\"ok\":false,\"errors\":[],\"text\":");
        explore::json_str(&mut out, &format!("error: {e}\n"));
        out.push('}');
        return out;
    }
    let recording = String::from_utf8_lossy(&buf.bytes()).into_owned();
    let (steps, _) = explore::recording_steps(&recording);
    // The JIT does not run here, but what it would make of each function
    // can be printed (`pvm::explore::jit_listings`, a Cranelift lister).
    let (clif, asm) = explore::jit_listings(&module);
    let texts = [Some(source.to_string())];
    let meta = explore::meta_json(
        &module,
        &explore::Meta {
            file: FILE,
            texts: &texts,
            steps,
            max_steps,
            clif: &clif,
            asm: &asm,
        },
    );
    format!("{{\"ok\":true,\"meta\":{meta},\"rec\":{}}}", explore::recording_array(&recording))
}

/// Compiles `source` without running it: `{"ok":true}`, or its errors as
/// [`run`] returns them (the page checks as the student types).
#[wasm_bindgen]
pub fn check(source: &str) -> String {
    match pvm_compiler::compile_source_with(FILE, source, &options()) {
        Ok(_) => "{\"ok\":true}".to_string(),
        Err(e) => errors_json(&e),
    }
}

/// One stage of the compiler as text: `tokens`, `ast`, `hir` or `dis`
/// (the bytecode as `pvm dis` prints it). Errors come back as text too.
#[wasm_bindgen]
pub fn dump(source: &str, stage: &str) -> String {
    let r = match stage {
        "tokens" => {
            return match pvm_compiler::dump::dump_tokens_partial(FILE, source) {
                (out, None) => out,
                (out, Some(e)) => format!("{out}\n{}", e.render()),
            }
        }
        "ast" => pvm_compiler::dump::dump_ast(FILE, source),
        "hir" => pvm_compiler::dump::dump_hir(FILE, source, &options()),
        "dis" => pvm_compiler::compile_source_with(FILE, source, &options()).map(|(m, _)| {
            let opts = pvm::bytecode::disasm::Options {
                tables: true,
                ..Default::default()
            };
            pvm::bytecode::disasm::disassemble_with(&m, &[Some(source)], &opts)
        }),
        other => return format!("unknown stage {other:?}: tokens, ast, hir or dis\n"),
    };
    r.unwrap_or_else(|e| e.render())
}

/// The errors of a failed compilation as the JSON object of the crate docs.
fn errors_json(e: &CompileError) -> String {
    let mut out = String::from("{\"ok\":false,\"errors\":[");
    for (i, l) in e.errors().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"line\":{},\"column\":{},\"endLine\":{},\"endColumn\":{},\"message\":",
            l.line, l.column, l.end_line, l.end_column
        );
        explore::json_str(&mut out, &l.message);
        out.push('}');
    }
    out.push_str("],\"text\":");
    explore::json_str(&mut out, &e.render());
    out.push('}');
    out
}

/// The version of pvm this playground was built from.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_runs_and_its_steps_are_recorded() {
        let out = run("fn main() {\n  let x = 40;\n  println(str(x + 2));\n}\n", 1000);
        assert!(out.starts_with("{\"ok\":true,\"meta\":{\"file\":\"playground.pvm\""), "{out}");
        assert!(out.contains("[13,\"42\\n\"]"), "the output is in the recording: {out}");
        assert!(out.contains("[10,\"42\\n\",\"the program finished\"]"), "{out}");
        // The JIT's listings: IR and x86-64 code of `main` (in the browser
        // with placeholder addresses; natively, where the workspace's
        // features bring in the JIT itself, from it).
        assert!(out.contains("\"clif\":\"; fn #0 main\\n"), "{out}");
        assert!(out.contains("function %main(i64, i64, i32) -> i64, i64 system_v {"), "{out}");
        assert!(out.contains("\"asm\":\"; fn #0 main") && out.contains("  retq\\n"), "{out}");
    }

    #[test]
    fn compile_errors_come_back_located() {
        let out = run("fn main() {\n  let x: int = \"no\";\n  println(y);\n}\n", 1000);
        assert!(out.starts_with("{\"ok\":false,\"errors\":[{\"line\":2,"), "{out}");
        assert!(out.contains("\"line\":3,\"column\":11,\"endLine\":3,\"endColumn\":12"), "{out}");
        assert!(out.contains("playground.pvm:3:11"), "the rendered text is there too: {out}");
    }

    #[test]
    fn check_compiles_without_running() {
        assert_eq!(check("fn main() { while true { } }\n"), "{\"ok\":true}");
        let out = check("fn main() { let s: str = 1; }\n");
        assert!(out.contains("\"line\":1,\"column\":26,\"endLine\":1,\"endColumn\":27"), "{out}");
    }

    #[test]
    fn the_page_examples_run_to_their_end() {
        for (name, src) in EXAMPLES {
            let out = run(src, 100_000);
            assert!(out.starts_with("{\"ok\":true"), "{name}: {out}");
            assert!(out.contains("\"the program finished\"]"), "{name} did not finish in 100,000 steps");
        }
        let garbage = run(EXAMPLES[2].1, 100_000);
        assert!(garbage.contains("\n[7,"), "the garbage example shows a collection");
    }

    #[test]
    fn a_runaway_program_is_cut_at_its_step_bound() {
        let out = run("fn main() { let n = 0; while true { n += 1; } }\n", 500);
        let steps = out.matches("[0,").count() + out.matches("[1,").count() + out.matches("[2,").count();
        assert!((500..=502).contains(&steps), "{steps} steps: {out}");
        assert!(out.contains("[9,"), "the bound is marked: {out}");
    }

    #[test]
    fn files_are_not_reachable_from_the_browser_build() {
        let out = run("fn main() { println(read_file(\"/etc/passwd\")); }\n", 1000);
        assert!(out.contains("not allowed"), "{out}");
        assert!(!out.contains("root:"), "{out}");
    }

    #[test]
    fn imports_other_than_std_are_refused() {
        let out = run("import \"other.pvm\";\nfn main() {}\n", 100);
        assert!(out.contains("\"ok\":false") && out.contains("not allowed here"), "{out}");
    }

    #[test]
    fn every_stage_prints() {
        let src = "fn main() { let f = fn(a: int) -> int { return a * 2; }; println(str(f(3))); }\n";
        assert!(dump(src, "tokens").contains("KIND"));
        assert!(dump(src, "ast").contains("File"));
        assert!(dump(src, "hir").contains("main"));
        assert!(dump(src, "dis").contains("fn main"), "{}", dump(src, "dis"));
        assert!(dump("fn main() { let = ; }", "ast").contains("error"));
        let lexical = dump("fn main() { let x = 1 @ 2; }", "tokens");
        assert!(
            lexical.contains("error      unexpected character `@`") && lexical.contains("Int        2"),
            "{lexical}"
        );
        assert!(dump(src, "nonsense").starts_with("unknown stage"));
    }
}
