//! The lexer: source text to tokens.
//!
//! [`logos`] builds a DFA from the `#[token]` and `#[regex]` attributes on
//! [`Raw`]; this module then turns each raw token into a [`Tok`] carrying its
//! decoded value (numbers parsed, escapes processed). Lexical mistakes do
//! not stop the lexer: each is recorded as a diagnostic and lexing goes on,
//! so that the parser can report the other errors in the file too. What
//! the parser then sees: an unexpected character or an unterminated block
//! comment produces no token; a number that does not fit becomes `0` (or
//! `0.0`); an unknown escape is left out of its string; an unterminated
//! string ends at the end of its line. (The parser does not report its own
//! errors on those lines: see `parse::parse_file`.)

use crate::diag::Diagnostic;
use logos::Logos;
use std::fmt;

/// Raw token classes recognised by the generated DFA.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
#[logos(skip r"/\*([^*]|\*+[^*/])*\*+/")]
enum Raw {
    #[regex(r"/\*([^*]|\*+[^*/])*\**", allow_greedy = true)]
    UnterminatedComment,
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    #[regex(r"[0-9][0-9_]*")]
    Dec,
    #[regex(r"0[xX][0-9a-fA-F_]+")]
    Hex,
    #[regex(r"0[bB][01_]+")]
    Bin,
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9][0-9_]*)?")]
    #[regex(r"[0-9][0-9_]*[eE][+-]?[0-9][0-9_]*")]
    Float,
    #[regex(r#""([^"\\\n]|\\[^\n])*""#, allow_greedy = true)]
    Str,
    #[regex(r#""([^"\\\n]|\\[^\n])*\\?"#, allow_greedy = true)]
    UnterminatedStr,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("..")]
    DotDot,
    #[token("->")]
    Arrow,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("&")]
    Amp,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("~")]
    Tilde,
    #[token("!")]
    Bang,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("=")]
    Assign,
    #[token("+=")]
    PlusEq,
    #[token("-=")]
    MinusEq,
    #[token("*=")]
    StarEq,
    #[token("/=")]
    SlashEq,
    #[token("%=")]
    PercentEq,
}

/// A token with its decoded value, as the parser sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// An integer literal. Values above `i64::MAX` are kept so that
    /// `-9223372036854775808` can be recognised; the checker rejects the rest.
    Int(u64),
    Float(f64),
    Str(String),
    // keywords
    Fn,
    Let,
    If,
    Else,
    While,
    For,
    In,
    Return,
    Break,
    Continue,
    Class,
    Interface,
    Import,
    True,
    False,
    Nil,
    Try,
    Catch,
    Throw,
    SelfKw,
    // punctuation
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Colon,
    Dot,
    DotDot,
    Arrow,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Amp,
    Pipe,
    Caret,
    Tilde,
    Bang,
    Shl,
    Shr,
    AndAnd,
    OrOr,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Assign,
    PlusEq,
    MinusEq,
    StarEq,
    SlashEq,
    PercentEq,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Tok::*;
        let s = match self {
            Ident(n) => return write!(f, "identifier `{n}`"),
            Int(v) => return write!(f, "integer `{v}`"),
            Float(v) => return write!(f, "float `{v:?}`"),
            Str(_) => "string literal",
            Fn => "`fn`",
            Let => "`let`",
            If => "`if`",
            Else => "`else`",
            While => "`while`",
            For => "`for`",
            In => "`in`",
            Return => "`return`",
            Break => "`break`",
            Continue => "`continue`",
            Class => "`class`",
            Interface => "`interface`",
            Import => "`import`",
            True => "`true`",
            False => "`false`",
            Nil => "`nil`",
            Try => "`try`",
            Catch => "`catch`",
            Throw => "`throw`",
            SelfKw => "`self`",
            LParen => "`(`",
            RParen => "`)`",
            LBracket => "`[`",
            RBracket => "`]`",
            LBrace => "`{`",
            RBrace => "`}`",
            Comma => "`,`",
            Semi => "`;`",
            Colon => "`:`",
            Dot => "`.`",
            DotDot => "`..`",
            Arrow => "`->`",
            Plus => "`+`",
            Minus => "`-`",
            Star => "`*`",
            Slash => "`/`",
            Percent => "`%`",
            Amp => "`&`",
            Pipe => "`|`",
            Caret => "`^`",
            Tilde => "`~`",
            Bang => "`!`",
            Shl => "`<<`",
            Shr => "`>>`",
            AndAnd => "`&&`",
            OrOr => "`||`",
            EqEq => "`==`",
            NotEq => "`!=`",
            Lt => "`<`",
            Le => "`<=`",
            Gt => "`>`",
            Ge => "`>=`",
            Assign => "`=`",
            PlusEq => "`+=`",
            MinusEq => "`-=`",
            StarEq => "`*=`",
            SlashEq => "`/=`",
            PercentEq => "`%=`",
        };
        f.write_str(s)
    }
}

/// A lexical error; the parser wraps it, but lexing errors are reported
/// through [`Lexer::take_errors`] and never stop parsing.
#[derive(Debug, Clone, PartialEq)]
pub struct LexError;

/// Spanned token stream in the shape lalrpop expects: `(start, token, end)`.
pub type Spanned = Result<(usize, Tok, usize), LexError>;

/// Tokenises one file, collecting lexical diagnostics on the side.
pub struct Lexer<'src> {
    inner: logos::Lexer<'src, Raw>,
    file: u16,
    errors: Vec<Diagnostic>,
}

impl<'src> Lexer<'src> {
    pub fn new(src: &'src str, file: u16) -> Self {
        Lexer {
            inner: Raw::lexer(src),
            file,
            errors: Vec::new(),
        }
    }

    /// The diagnostics found so far (call after the parser is done).
    pub fn take_errors(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.errors)
    }

    fn error(&mut self, start: usize, end: usize, msg: impl Into<String>) {
        self.errors.push(Diagnostic::new(self.file, start as u32, end as u32, msg));
    }

    fn int(&mut self, digits: &str, radix: u32, start: usize, end: usize) -> Tok {
        let clean: String = digits.chars().filter(|&c| c != '_').collect();
        match u64::from_str_radix(&clean, radix) {
            Ok(v) if radix == 10 || v <= i64::MAX as u64 => Tok::Int(v),
            _ => {
                self.error(start, end, "integer literal does not fit in a 64-bit signed integer");
                Tok::Int(0)
            }
        }
    }

    fn string(&mut self, body: &str, start: usize) -> String {
        let mut out = String::with_capacity(body.len());
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let esc_start = start + 1 + i;
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((_, '0')) => out.push('\0'),
                Some((_, 'u')) => {
                    // \u{XXXX}: 1 to 6 hex digits naming a Unicode scalar value.
                    let mut hex = String::new();
                    let mut closed = false;
                    if chars.peek().map(|p| p.1) == Some('{') {
                        chars.next();
                        for (_, h) in chars.by_ref() {
                            if h == '}' {
                                closed = true;
                                break;
                            }
                            hex.push(h);
                        }
                    }
                    let end = start + 1 + chars.peek().map(|p| p.0).unwrap_or(body.len());
                    let valid = closed && !hex.is_empty() && hex.len() <= 6;
                    match u32::from_str_radix(&hex, 16).ok().filter(|_| valid).and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => self.error(esc_start, end, "invalid unicode escape: expected `\\u{X}` with a valid code point"),
                    }
                }
                Some((j, other)) => {
                    let end = start + 1 + j + other.len_utf8();
                    self.error(esc_start, end, format!("unknown escape sequence `\\{other}`"));
                }
                None => self.error(esc_start, esc_start + 1, "unterminated escape sequence"),
            }
        }
        out
    }
}

fn keyword(s: &str) -> Option<Tok> {
    Some(match s {
        "fn" => Tok::Fn,
        "let" => Tok::Let,
        "if" => Tok::If,
        "else" => Tok::Else,
        "while" => Tok::While,
        "for" => Tok::For,
        "in" => Tok::In,
        "return" => Tok::Return,
        "break" => Tok::Break,
        "continue" => Tok::Continue,
        "class" => Tok::Class,
        "interface" => Tok::Interface,
        "import" => Tok::Import,
        "true" => Tok::True,
        "false" => Tok::False,
        "nil" => Tok::Nil,
        "try" => Tok::Try,
        "catch" => Tok::Catch,
        "throw" => Tok::Throw,
        "self" => Tok::SelfKw,
        _ => return None,
    })
}

impl Iterator for Lexer<'_> {
    type Item = Spanned;

    fn next(&mut self) -> Option<Spanned> {
        loop {
            let raw = self.inner.next()?;
            let span = self.inner.span();
            let (start, end) = (span.start, span.end);
            let text = self.inner.slice();
            let tok = match raw {
                Err(()) => {
                    let c = text.chars().next().unwrap_or('?');
                    self.error(start, end, format!("unexpected character `{}`", c.escape_debug()));
                    continue;
                }
                Ok(Raw::UnterminatedComment) => {
                    self.error(start, start + 2, "unterminated block comment");
                    continue;
                }
                Ok(Raw::Ident) => keyword(text).unwrap_or_else(|| Tok::Ident(text.to_string())),
                Ok(Raw::Dec) => self.int(text, 10, start, end),
                Ok(Raw::Hex) => self.int(&text[2..], 16, start, end),
                Ok(Raw::Bin) => self.int(&text[2..], 2, start, end),
                Ok(Raw::Float) => {
                    let clean: String = text.chars().filter(|&c| c != '_').collect();
                    match clean.parse::<f64>() {
                        Ok(v) if v.is_finite() => Tok::Float(v),
                        _ => {
                            self.error(start, end, "float literal is out of range");
                            Tok::Float(0.0)
                        }
                    }
                }
                Ok(Raw::Str) => Tok::Str(self.string(&text[1..text.len() - 1], start)),
                Ok(Raw::UnterminatedStr) => {
                    self.error(start, end, "unterminated string literal");
                    // Stand in a complete statement end so the rest of the line
                    // does not produce a second, confusing error.
                    let _ = self.string(&text[1..], start);
                    Tok::Str(String::new())
                }
                Ok(Raw::LParen) => Tok::LParen,
                Ok(Raw::RParen) => Tok::RParen,
                Ok(Raw::LBracket) => Tok::LBracket,
                Ok(Raw::RBracket) => Tok::RBracket,
                Ok(Raw::LBrace) => Tok::LBrace,
                Ok(Raw::RBrace) => Tok::RBrace,
                Ok(Raw::Comma) => Tok::Comma,
                Ok(Raw::Semi) => Tok::Semi,
                Ok(Raw::Colon) => Tok::Colon,
                Ok(Raw::Dot) => Tok::Dot,
                Ok(Raw::DotDot) => Tok::DotDot,
                Ok(Raw::Arrow) => Tok::Arrow,
                Ok(Raw::Plus) => Tok::Plus,
                Ok(Raw::Minus) => Tok::Minus,
                Ok(Raw::Star) => Tok::Star,
                Ok(Raw::Slash) => Tok::Slash,
                Ok(Raw::Percent) => Tok::Percent,
                Ok(Raw::Amp) => Tok::Amp,
                Ok(Raw::Pipe) => Tok::Pipe,
                Ok(Raw::Caret) => Tok::Caret,
                Ok(Raw::Tilde) => Tok::Tilde,
                Ok(Raw::Bang) => Tok::Bang,
                Ok(Raw::Shl) => Tok::Shl,
                Ok(Raw::Shr) => Tok::Shr,
                Ok(Raw::AndAnd) => Tok::AndAnd,
                Ok(Raw::OrOr) => Tok::OrOr,
                Ok(Raw::EqEq) => Tok::EqEq,
                Ok(Raw::NotEq) => Tok::NotEq,
                Ok(Raw::Lt) => Tok::Lt,
                Ok(Raw::Le) => Tok::Le,
                Ok(Raw::Gt) => Tok::Gt,
                Ok(Raw::Ge) => Tok::Ge,
                Ok(Raw::Assign) => Tok::Assign,
                Ok(Raw::PlusEq) => Tok::PlusEq,
                Ok(Raw::MinusEq) => Tok::MinusEq,
                Ok(Raw::StarEq) => Tok::StarEq,
                Ok(Raw::SlashEq) => Tok::SlashEq,
                Ok(Raw::PercentEq) => Tok::PercentEq,
            };
            return Some(Ok((start, tok, end)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> (Vec<Tok>, usize) {
        let mut lx = Lexer::new(src, 0);
        let v: Vec<Tok> = lx.by_ref().filter_map(|t| t.ok().map(|(_, t, _)| t)).collect();
        (v, lx.take_errors().len())
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("42 1_000 0xff 0b1010").0,
            vec![Tok::Int(42), Tok::Int(1000), Tok::Int(255), Tok::Int(10)]
        );
        assert_eq!(
            toks("2.5e-3 1e9 4.8e+00").0,
            vec![Tok::Float(0.0025), Tok::Float(1e9), Tok::Float(4.8)]
        );
        assert_eq!(toks("1..n").0, vec![Tok::Int(1), Tok::DotDot, Tok::Ident("n".into())]);
        assert_eq!(toks("9223372036854775808").0, vec![Tok::Int(1 << 63)]);
        assert_eq!(toks("0xffffffffffffffff").1, 1);
        assert_eq!(toks("99999999999999999999").1, 1);
        assert_eq!(toks("1e400").1, 1);
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(toks(r#""a\tb\u{1F600}\0""#).0, vec![Tok::Str("a\tb\u{1F600}\0".into())]);
        assert_eq!(toks(r#""\q""#).1, 1);
        assert_eq!(toks(r#""\u{110000}""#).1, 1);
        let (t, e) = toks("\"open\nlet");
        assert_eq!(e, 1);
        assert_eq!(t.last(), Some(&Tok::Let));
    }

    #[test]
    fn comments_and_keywords() {
        let (t, e) = toks("/* a // b */ fn // x\n self");
        assert_eq!((t, e), (vec![Tok::Fn, Tok::SelfKw], 0));
        assert_eq!(toks("/* open").1, 1);
        assert_eq!(toks("a <= b >> c").0[1], Tok::Le);
    }
}
