//! Parsing: tokens to an arena-allocated [`crate::ast`] tree.
//!
//! The grammar lives in `grammar.lalrpop`; lalrpop turns it into an LR(1)
//! parser at build time. Syntax errors do not stop parsing: the grammar has
//! two recovery points (`!`): a statement skips to the next `;`, a top-level
//! declaration skips to the next declaration. Each recovered error becomes a
//! [`Diagnostic`], and the partial tree is still handed to the checker, so a
//! file with a syntax error on line 3 and a type error on line 9 reports both.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::lexer::{LexError, Lexer, Tok};
use bumpalo::Bump;
use lalrpop_util::{ErrorRecovery, ParseError};

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused)]
    grammar
);

/// Copies a vector into the arena.
pub(crate) fn slice<T>(arena: &Bump, v: Vec<T>) -> &[T] {
    arena.alloc_slice_fill_iter(v)
}

pub(crate) fn bin<'a>(arena: &'a Bump, op: BinOp, a: &'a Expr<'a>, b: &'a Expr<'a>, l: usize, r: usize) -> &'a Expr<'a> {
    arena.alloc(Expr {
        kind: ExprKind::Binary(op, a, b),
        span: Span::new(l, r),
    })
}

pub(crate) fn unary<'a>(arena: &'a Bump, op: UnOp, e: &'a Expr<'a>, l: usize, r: usize) -> &'a Expr<'a> {
    arena.alloc(Expr {
        kind: ExprKind::Unary(op, e),
        span: Span::new(l, r),
    })
}

/// Parses one file. Always returns a tree (possibly with `Error` nodes)
/// together with every lexical and syntax error found.
pub fn parse_file<'a>(arena: &'a Bump, src: &str, file: u16) -> (File<'a>, Vec<Diagnostic>) {
    let mut lexer = Lexer::new(src, file);
    let mut recovered: Vec<ErrorRecovery<usize, Tok, LexError>> = Vec::new();
    let result = grammar::FileParser::new().parse(arena, &mut recovered, lexer.by_ref());
    let mut diags = lexer.take_errors();
    // A lexical error leaves a hole in the token stream (the character is
    // dropped; an unterminated string swallows the rest of its line, `;`
    // included), so the parser's complaint about the same statement is an
    // echo: syntax errors on the line of a lexical error, or on the line
    // after an unterminated string, are not reported.
    let line_of = |at: u32| {
        src.as_bytes()[..(at as usize).min(src.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
    };
    let mut quiet: Vec<usize> = Vec::new();
    for d in &diags {
        let l = line_of(d.start);
        quiet.push(l);
        if d.message.starts_with("unterminated string") {
            quiet.push(l + 1);
        }
    }
    let mut syntax = Vec::new();
    let tree = match result {
        Ok(tree) => tree,
        Err(e) => {
            syntax.push(syntax_error(e, file, src.len()));
            File { items: &[] }
        }
    };
    syntax.extend(recovered.into_iter().map(|r| syntax_error(r.error, file, src.len())));
    diags.extend(syntax.into_iter().filter(|d| !quiet.contains(&line_of(d.start))));
    (tree, diags)
}

fn syntax_error(e: ParseError<usize, Tok, LexError>, file: u16, len: usize) -> Diagnostic {
    match e {
        ParseError::InvalidToken { location } => Diagnostic::new(file, location as u32, location as u32 + 1, "invalid token"),
        ParseError::UnrecognizedEof { location, expected } => Diagnostic::new(
            file,
            location.min(len) as u32,
            location.min(len) as u32,
            format!("unexpected end of file; expected {}", expected_list(&expected)),
        ),
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => Diagnostic::new(
            file,
            l as u32,
            r as u32,
            format!("unexpected {tok}; expected {}", expected_list(&expected)),
        ),
        ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::new(file, l as u32, r as u32, format!("unexpected {tok}")),
        ParseError::User { error: LexError } => Diagnostic::new(file, 0, 0, "lexical error"),
    }
}

/// Turns lalrpop's list of expected terminals into a short phrase.
fn expected_list(expected: &[String]) -> String {
    let names: Vec<String> = expected
        .iter()
        .map(|e| {
            let t = e.trim_matches('"');
            match t {
                "ident" => "an identifier".to_string(),
                "int" => "an integer literal".to_string(),
                "float" | "string" => format!("a {t} literal"),
                _ => format!("`{t}`"),
            }
        })
        .collect();
    match names.len() {
        0 => "something else".to_string(),
        1 => names[0].clone(),
        n if n <= 6 => format!("one of {}", names.join(", ")),
        _ => format!("one of {}, ...", names[..6].join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(src: &str) -> Vec<Diagnostic> {
        let arena = Bump::new();
        parse_file(&arena, src, 0).1
    }

    #[test]
    fn parses_a_whole_program() {
        let src = r#"
            import "lib.pvm";
            let G: [int] = [1, 2,];
            interface S { fn area(self) -> float; }
            class C : S { x: float; fn area(self) -> float { return self.x * 2.0; } }
            fn main() {
                let m = {"a": 1};
                { let y = -9223372036854775808; }
                for i in 0..10 { if i % 2 == 0 { continue; } else if i > 5 { break; } }
                let f = fn(a: int) -> fn(int) -> int { return fn(b: int) -> int { return a + b; }; };
                try { throw "x"; } catch e { println(e); }
                m["a"] += f(1)(2);
                C(1.0).area();
            }
        "#;
        assert_eq!(errors(src), vec![]);
    }

    #[test]
    fn reports_several_syntax_errors() {
        let src = "fn main() {\n let a = (1 + ;\n let b = 2\n let c = 1 < 2 < 3;\n println(a b);\n}\nfn g( {\n}\n";
        let lines: Vec<u32> = errors(src)
            .iter()
            .map(|d| crate::diag::SourceFile::new("t".into(), src.into()).line_of(d.start))
            .collect();
        for want in [2, 4, 5, 7] {
            assert!(lines.contains(&want), "line {want} missing in {lines:?}");
        }
    }

    #[test]
    fn a_let_whose_initializer_fails_still_declares_its_name() {
        let src = "fn main() {\n    let z = ;\n    let w: int = 1 +;\n    println(str(z) + str(w + 1));\n}\n";
        let Err(err) = crate::compile_source("t.pvm", src) else {
            panic!("compiled");
        };
        let lines: Vec<u32> = err.errors().iter().map(|l| l.line).collect();
        // The two syntax errors, and no "undefined name" for their uses on line 4.
        assert_eq!(lines, [2, 3], "{}", err.render());
    }

    #[test]
    fn comparisons_do_not_chain() {
        assert_eq!(errors("fn main() { let c = 1 < 2 < 3; }").len(), 1);
    }
}
