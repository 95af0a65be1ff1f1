//! The commands that show how pvm works: `pvm dump`, `pvm dis` and `pvm verify`.
//!
//! A program goes through stages on its way to running, and each of these
//! commands prints one of them for a person to read:
//!
//! * `pvm dump --tokens|--ast|--hir FILE`: the compiler's stages
//!   ([`pvm_compiler::dump`]): the tokens the lexer cuts the text into, the
//!   syntax tree the parser builds from them, and the typed tree the checker
//!   makes of that (every name resolved, every expression typed, each
//!   lambda's captures and the variables boxed in cells).
//! * `pvm dis FILE`: the bytecode the emitter produced
//!   ([`pvm_bytecode::disasm`]), with `--tables` for the module's tables and
//!   `--offsets` for where each instruction sits in the `.pvmc` file. A
//!   module that fails the verifier is refused unless `--no-verify` is
//!   given; the listing then says UNVERIFIED at the top.
//! * `pvm verify FILE`: the verifier's verdict ([`pvm_bytecode::verify`]),
//!   every problem on its own line.
//!
//! All three only read: nothing here runs the program.

use crate::confine::{self, ConfinedResolver};
use crate::{load_unverified, Fail};
use pvm_bytecode::{disasm, verify};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Which compiler stage `pvm dump` prints.
#[derive(Clone, Copy)]
pub enum Stage {
    Tokens,
    Ast,
    Hir,
}

/// `pvm dump`: a source file as one compiler stage sees it. Compile errors are the usual
/// diagnostics, with status 2.
pub fn dump(path: &str, stage: Stage, grants: &[PathBuf]) -> Result<u8, Fail> {
    let fail = |why: String| Fail::Status(format!("error: {path}: {why}\n"), 2);
    let (text, is_file) = match confine::read_program(path).map_err(fail)? {
        confine::Program::SourceFile => (pvm_compiler::loader::read_source(Path::new(path)).map_err(fail)?, true),
        confine::Program::SourceText(text) => (text, false),
        confine::Program::Bytecode(_) => {
            return Err(fail(
                "is bytecode; `pvm dump` shows the compiler's stages of a source file (`pvm dis` shows bytecode)".into(),
            ))
        }
    };
    let out = match stage {
        // The tokens are listed even around lexical errors (how the lexer
        // recovers is worth seeing); the errors follow on stderr, status 2.
        Stage::Tokens => match pvm_compiler::dump::dump_tokens_partial(path, &text) {
            (out, None) => Ok(out),
            (out, Some(e)) => {
                let _ = std::io::stdout().write_all(out.as_bytes());
                Err(e)
            }
        },
        Stage::Ast => pvm_compiler::dump::dump_ast(path, &text),
        Stage::Hir => {
            let resolver = ConfinedResolver::for_entry(path, is_file, grants);
            let opts = pvm_compiler::Options {
                resolver: &resolver,
                ..Default::default()
            };
            pvm_compiler::dump::dump_hir(path, &text, &opts)
        }
    };
    let out = out.map_err(|e| Fail::Status(e.render(), 2))?;
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(0)
}

/// What `pvm dis` prints besides the code.
pub struct DisFlags {
    pub tables: bool,
    pub offsets: bool,
    pub no_verify: bool,
}

/// `pvm dis`: the bytecode listing. A module that does not verify is refused (status 2)
/// unless `--no-verify` asks to see it anyway, marked UNVERIFIED.
pub fn dis(path: &str, grants: &[PathBuf], flags: DisFlags) -> Result<u8, Fail> {
    let (m, texts) = load_unverified(path, grants)?;
    let problems = verify::problems(&m);
    let unverified = match (problems.len(), flags.no_verify) {
        (0, _) => None,
        (n, false) => {
            return Err(Fail::Status(
                format!(
                    "error: {path}: invalid bytecode: {}{}\n\
                     (`pvm verify {path}` lists every problem; `pvm dis --no-verify {path}` shows the code anyway)\n",
                    problems[0],
                    match n {
                        1 => String::new(),
                        2 => " (and 1 more problem)".to_string(),
                        _ => format!(" (and {} more problems)", n - 1),
                    },
                ),
                2,
            ))
        }
        (n, true) => Some(format!(
            "the verifier rejects this module ({n} problem{}; `pvm verify {path}` lists them)",
            if n == 1 { "" } else { "s" }
        )),
    };
    let refs: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
    let opts = disasm::Options {
        tables: flags.tables,
        offsets: flags.offsets,
        unverified,
    };
    let listing = disasm::disassemble_with(&m, &refs, &opts);
    let _ = std::io::stdout().write_all(listing.as_bytes());
    Ok(0)
}

/// `pvm verify`: every problem the verifier finds, one per line (status 2), or
/// `ok: N functions verified` (status 0).
pub fn verify(path: &str, grants: &[PathBuf]) -> Result<u8, Fail> {
    let (m, _) = load_unverified(path, grants)?;
    let problems = verify::problems(&m);
    let mut out = String::new();
    if problems.is_empty() {
        out.push_str(&format!("ok: {} functions verified\n", m.functions.len()));
    } else {
        for p in &problems {
            out.push_str(&format!("{path}: {p}\n"));
        }
        out.push_str(&format!(
            "{path}: {} problem{}; the VM refuses to run this module\n",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ));
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(if problems.is_empty() { 0 } else { 2 })
}
