//! `pvm repl`: type pvm a line at a time and watch what each line becomes.
//!
//! pvm compiles whole programs: a module is checked, verified and linked
//! as one, and a VM runs one module. The REPL keeps that model and does not
//! pretend otherwise. It keeps a *session*: the declarations typed so far
//! (functions, classes, interfaces, imports) and the statements typed so
//! far, which become the body of `main`, so a `let` on one line is a local
//! variable the next line can use. Each input is appended to the session,
//! the whole program is compiled (a compile error rejects the input and
//! leaves the session as it was) and run again from the start in a fresh
//! VM, and only what the new input printed is shown: the output of the
//! earlier lines, printed when they were typed, is not printed again.
//!
//! Running everything again is what makes the session a real program
//! (every line is checked against all the others, and `:dis` shows real
//! bytecode), and it has a consequence worth knowing: every earlier line
//! runs again. That is safe because a program here is deterministic: the
//! REPL grants it no files, no arguments and no clock, so a line does the
//! same every time; a line that fails at run time is dropped from the
//! session, so it does not fail again.
//!
//! An input that does not end in `;` or `}` is an expression: it is kept
//! as `let resN = EXPR;` (so later lines can use `resN`) and its value is
//! printed with its type, `res1: int = 42`. The type is the checker's: the
//! REPL reads it from the typed tree that `pvm dump --hir` prints.
//!
//! Input with unclosed brackets continues on the next line (`...`).
//! Commands start with `:`: `:dis NAME` (the bytecode of a function, `main`
//! for the session's statements), `:hir EXPR`, `:type EXPR`, `:trace
//! on|off` (the next inputs' instructions with their values, as `pvm run
//! --trace=values`), `:source`, `:reset`, `:help`, `:quit`. History is
//! kept in `$HOME/.pvm_history` between runs.
//!
//! Programs run in this process, not in the container, with no access to
//! files, arguments or the clock (the host grants no capabilities), a heap
//! limit and a fuel limit per input, so a runaway loop ends with a message.
//! A top-level `let` is a local of `main`, and a `{...}` typed alone is a
//! map literal, not a block.

use pvm::{Captured, Config, Host, JitMode, RunError, TraceMode, Vm};
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

/// Checkpoints (calls and loop iterations) one input may take, replay
/// included.
const FUEL: u64 = 200_000_000;
/// The heap limit of a session's program.
const MAX_HEAP: usize = 256 << 20;
/// The name the session's program has in messages.
const NAME: &str = "<repl>";
/// Printed by the program just before the new input's value.
const VALUE_MARK: &str = "\u{1}value\u{1}";
/// A string constant the program loads just before the new input runs:
/// the trace is shown from there.
const TRACE_MARK: &str = "--- the new input starts here ---";

/// The declarations and statements typed so far.
#[derive(Default, Clone)]
struct Session {
    decls: Vec<String>,
    stmts: Vec<String>,
    /// Expressions so far (names `res1`, `res2`, ...).
    results: usize,
}

/// What one input is.
enum Input {
    Decl(String),
    Stmt(String),
    Expr(String),
}

fn classify(text: &str) -> Input {
    let t = text.trim();
    let first = t.split_whitespace().next().unwrap_or("");
    if matches!(first, "fn" | "class" | "interface" | "import") {
        Input::Decl(t.to_string())
    } else if (t.ends_with(';') || t.ends_with('}')) && !t.starts_with('{') {
        // (`{...}` alone is a map literal here, not a block.)
        Input::Stmt(t.to_string())
    } else {
        Input::Expr(t.to_string())
    }
}

impl Session {
    /// The program: declarations, then `main` with the statements and
    /// `extra` (the new input's additions) at the end.
    fn program(&self, extra: &[String]) -> String {
        let mut s = String::new();
        for d in &self.decls {
            s.push_str(d);
            s.push('\n');
        }
        s.push_str("fn main() {\n");
        for st in self.stmts.iter().chain(extra) {
            s.push_str(st);
            s.push('\n');
        }
        s.push_str("}\n");
        s
    }
}

/// Whether `text` has more opening than closing brackets (outside string
/// literals and comments): the input goes on on the next line.
fn unfinished(text: &str) -> bool {
    let mut depth = 0i64;
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '/' if chars.peek() == Some(&'/') => {
                // A line comment: skip to the end of the line.
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

/// What running a program printed, and how it ended.
struct Ran {
    out: String,
    trace: String,
    result: Result<(), String>,
}

/// Compiles and runs `src`; `Err` holds the rendered compile errors.
fn run(src: &str, trace: bool) -> Result<Ran, String> {
    let config = Config {
        jit: JitMode::Off,
        max_heap: MAX_HEAP,
        trace: trace.then_some(TraceMode::Values),
        ..Config::default()
    };
    let mut vm = Vm::from_source(NAME, src, &Host::new(), config).map_err(|e| e.to_string())?;
    let out = Captured::new();
    let tr = Captured::new();
    vm.set_output(out.clone());
    if trace {
        vm.set_trace_output(tr.clone());
    }
    vm.set_fuel(Some(FUEL));
    let result = match vm.run_main() {
        Ok(()) => Ok(()),
        Err(RunError::OutOfFuel) => Err(format!(
            "stopped: the input ran for more than {FUEL} calls and loop iterations (the session replays every earlier line too)"
        )),
        Err(e) => Err(e.to_string()),
    };
    Ok(Ran {
        out: out.text(),
        trace: tr.text(),
        result,
    })
}

/// How the session's program is compiled: standard modules only, no files.
fn compile_options() -> pvm_compiler::Options<'static> {
    pvm_compiler::Options {
        resolver: &pvm_compiler::NoImports,
        ..pvm_compiler::Options::default()
    }
}

/// The type the checker gives `resN` in `src`, read from the typed tree.
fn type_of(src: &str, var: &str) -> Option<String> {
    let opts = compile_options();
    let hir = pvm_compiler::dump::dump_hir(NAME, src, &opts).ok()?;
    let key = format!("Let {var}#");
    let line = hir.lines().find(|l| l.contains(&key))?;
    let after = &line[line.find(&key)?..];
    Some(after.split_once(": ")?.1.trim().to_string())
}

/// The typed tree of the statement `let VAR = ...` in `src`: its line and
/// the more deeply indented lines under it.
fn hir_of(src: &str, var: &str) -> Option<String> {
    let opts = compile_options();
    let hir = pvm_compiler::dump::dump_hir(NAME, src, &opts).ok()?;
    let key = format!("Let {var}#");
    let lines: Vec<&str> = hir.lines().collect();
    let at = lines.iter().position(|l| l.contains(&key))?;
    let indent = |l: &str| {
        l.split_once(|c: char| c.is_ascii_digit())
            .map_or(0, |(_, rest)| rest.len() - rest.trim_start().len())
    };
    let base = indent(lines[at]);
    let mut out = vec![lines[at]];
    for l in &lines[at + 1..] {
        if indent(l) <= base {
            break;
        }
        out.push(l);
    }
    Some(out.join("\n"))
}

/// The bytecode of function `name` of the session's program.
fn dis_of(src: &str, name: &str) -> Result<String, String> {
    let opts = compile_options();
    let (m, _) = pvm_compiler::compile_source_with(NAME, src, &opts).map_err(|e| e.render())?;
    let listing = pvm_bytecode::disasm::disassemble(&m, &[Some(src)]);
    let wanted = format!(" {name}(");
    let mut out = String::new();
    let mut on = false;
    for l in listing.lines() {
        if l.starts_with("fn ") {
            on = l.contains(&wanted);
        }
        if on {
            out.push_str(l);
            out.push('\n');
        }
    }
    if out.is_empty() {
        Err(format!("no function `{name}` (the session's statements are `main`)"))
    } else {
        Ok(out)
    }
}

const HELP: &str = "\
Type declarations (fn, class, interface, import), statements (ending in ; or })
or expressions (their value is printed with its type, and kept as resN).
  :dis NAME      the bytecode of function NAME (`main` holds your statements)
  :hir EXPR      the typed tree of an expression
  :type EXPR     the type of an expression
  :trace on|off  show each instruction of the next inputs with its values
  :source        the program the session has built
  :reset         forget everything typed
  :quit          leave (or Ctrl-D)";

/// The REPL's state between inputs.
struct Repl {
    session: Session,
    trace: bool,
}

impl Repl {
    /// Handles one complete input; what to print.
    fn input(&mut self, text: &str) -> String {
        let t = text.trim();
        if t.is_empty() {
            return String::new();
        }
        if let Some(cmd) = t.strip_prefix(':') {
            return self.command(cmd);
        }
        match classify(t) {
            Input::Decl(d) => {
                let mut next = self.session.clone();
                next.decls.push(d);
                match run(&next.program(&[]), false) {
                    Err(e) => e,
                    Ok(_) => {
                        // Declarations run nothing new (globals' initialisers
                        // have run before: the output is not shown again).
                        self.session = next;
                        String::new()
                    }
                }
            }
            Input::Stmt(s) => self.execute(s, None),
            Input::Expr(e) => {
                let var = format!("res{}", self.session.results + 1);
                // In parentheses: `{"a": 1}` is a map here, not a block.
                let stmt = format!("let {var} = ({e});");
                self.execute(stmt, Some(var))
            }
        }
    }

    /// Runs the session with statement `stmt` added; keeps it if it
    /// compiles and runs. `var` names an expression's value to show.
    fn execute(&mut self, stmt: String, var: Option<String>) -> String {
        let before = self.session.program(&[]);
        let mut extra = Vec::new();
        if self.trace {
            extra.push(format!("let __trace_mark = \"{TRACE_MARK}\";"));
        }
        extra.push(stmt.clone());
        if let Some(v) = &var {
            extra.push(format!("print(\"{VALUE_MARK}\");"));
            extra.push(format!("println({v});"));
        }
        let src = self.session.program(&extra);
        let ran = match run(&src, self.trace) {
            Ok(r) => r,
            Err(e) => {
                // `let resN = f();` of a `void` function: run it as a statement.
                if var.is_some() && e.contains("returns nothing") {
                    let call = stmt
                        .strip_prefix("let ")
                        .and_then(|s| s.split_once(" = ("))
                        .and_then(|(_, c)| c.strip_suffix(");"))
                        .map(|c| format!("{c};"));
                    if let Some(call) = call {
                        return self.execute(call, None);
                    }
                }
                return e;
            }
        };
        // What the earlier lines print was shown when they were typed.
        let old = match run(&before, false) {
            Ok(r) => r.out,
            Err(_) => String::new(),
        };
        let mut out = String::new();
        if self.trace {
            if let Some(at) = ran.trace.find(TRACE_MARK) {
                let from = ran.trace[at..].find('\n').map_or(ran.trace.len(), |n| at + n + 1);
                out.push_str(&ran.trace[from..]);
            }
        }
        let printed = ran.out.strip_prefix(old.as_str()).unwrap_or(&ran.out);
        let (printed, value) = match printed.rsplit_once(VALUE_MARK) {
            Some((p, v)) => (p, Some(v)),
            None => (printed, None),
        };
        out.push_str(printed);
        match ran.result {
            Err(e) => {
                out.push_str(&e);
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("(the input is not kept)\n");
            }
            Ok(()) => {
                self.session.stmts.push(stmt);
                if let (Some(v), Some(value)) = (var, value) {
                    self.session.results += 1;
                    let ty = type_of(&src, &v).unwrap_or_else(|| "?".into());
                    out.push_str(&format!("{v}: {ty} = {value}"));
                }
            }
        }
        out
    }

    fn command(&mut self, cmd: &str) -> String {
        let (name, arg) = cmd.split_once(char::is_whitespace).unwrap_or((cmd, ""));
        let arg = arg.trim();
        match name {
            "q" | "quit" | "exit" => String::new(),
            "help" | "h" => format!("{HELP}\n"),
            "source" => self.session.program(&[]),
            "reset" => {
                self.session = Session::default();
                "(the session is empty)\n".into()
            }
            "trace" => match arg {
                "on" => {
                    self.trace = true;
                    "(tracing the next inputs)\n".into()
                }
                "off" => {
                    self.trace = false;
                    "(tracing off)\n".into()
                }
                _ => "usage: :trace on|off\n".into(),
            },
            "dis" if !arg.is_empty() => match dis_of(&self.session.program(&[]), arg) {
                Ok(s) | Err(s) => s,
            },
            "type" | "hir" if !arg.is_empty() => {
                let src = self.session.program(&[format!("let __probe = {arg};")]);
                let opts = compile_options();
                if let Err(e) = pvm_compiler::compile_source_with(NAME, &src, &opts) {
                    return e.render();
                }
                let shown = if name == "type" {
                    type_of(&src, "__probe").map(|t| format!("{arg}: {t}"))
                } else {
                    hir_of(&src, "__probe")
                };
                format!("{}\n", shown.unwrap_or_else(|| "(no typed tree for that)".into()))
            }
            _ => format!("unknown command `:{cmd}` (:help lists them)\n"),
        }
    }
}

/// Where the history is kept between runs.
fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".pvm_history"))
}

/// Runs the REPL until `:quit` or the end of input. The status to exit with.
pub fn main() -> u8 {
    let mut rl = match DefaultEditor::new() {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return 2;
        }
    };
    let history = history_path();
    if let Some(h) = &history {
        // A missing history file is the first run.
        let _ = rl.load_history(h);
    }
    println!("pvm {} REPL: :help for commands, Ctrl-D to leave", env!("CARGO_PKG_VERSION"));
    let mut repl = Repl {
        session: Session::default(),
        trace: false,
    };
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { ">> " } else { "... " };
        match rl.readline(prompt) {
            Ok(line) => {
                pending.push_str(&line);
                pending.push('\n');
                if unfinished(&pending) {
                    continue;
                }
                let text = std::mem::take(&mut pending);
                let t = text.trim();
                if !t.is_empty() {
                    let _ = rl.add_history_entry(t);
                }
                if matches!(t, ":q" | ":quit" | ":exit") {
                    break;
                }
                let out = repl.input(&text);
                print!("{out}");
                if !out.is_empty() && !out.ends_with('\n') {
                    println!();
                }
            }
            // Ctrl-C drops the input being typed.
            Err(ReadlineError::Interrupted) => pending.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        if let Err(e) = rl.save_history(h) {
            eprintln!("warning: history not saved to {}: {e}", h.display());
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repl() -> Repl {
        Repl {
            session: Session::default(),
            trace: false,
        }
    }

    #[test]
    fn brackets_decide_whether_input_goes_on() {
        assert!(unfinished("fn f() {"));
        assert!(!unfinished("fn f() { return 1; }"));
        assert!(!unfinished("let s = \"{\";"));
        assert!(unfinished("let xs = [1,\n"));
        assert!(!unfinished("let x = 1; // {"));
    }

    #[test]
    fn lines_accumulate_and_values_come_with_types() {
        let mut r = repl();
        assert_eq!(r.input("let x = 40;"), "");
        assert_eq!(r.input("fn twice(n: int) -> int { return 2 * n; }"), "");
        assert_eq!(r.input("x + 2"), "res1: int = 42\n");
        assert_eq!(r.input("twice(res1)"), "res2: int = 84\n");
        assert_eq!(r.input("\"a\" + str(x)"), "res3: str = a40\n");
        assert_eq!(r.input("{\"k\": [x]}"), "res4: {str: [int]} = {\"k\": [40]}\n");
        // A call of a `void` function is a statement.
        assert_eq!(r.input("fn hello() { println(\"hello\"); }"), "");
        assert_eq!(r.input("hello()"), "hello\n");
        // Output of earlier lines is not shown again.
        assert_eq!(r.input("println(\"hi\");"), "hi\n");
        assert_eq!(r.input("println(\"ho\");"), "ho\n");
    }

    #[test]
    fn bad_input_is_reported_and_not_kept() {
        let mut r = repl();
        let e = r.input("let y: int = \"s\";");
        assert!(e.contains("error"), "{e}");
        let e = r.input("let xs = [1]; println(xs[3]);");
        assert!(e.contains("index out of range") && e.contains("not kept"), "{e}");
        // Neither is in the session.
        assert_eq!(r.input("let y = 1;"), "");
        assert_eq!(r.input("let xs = 2;"), "");
    }

    #[test]
    fn commands_show_internals() {
        let mut r = repl();
        r.input("fn sq(n: int) -> int { return n * n; }");
        let d = r.input(":dis sq");
        assert!(d.starts_with("fn #") && d.contains("MulI"), "{d}");
        assert_eq!(r.input(":type sq(2) > 3"), "sq(2) > 3: bool\n");
        let h = r.input(":hir 1 + sq(2)");
        assert!(h.contains("AddI") && h.contains("sq"), "{h}");
        r.input(":trace on");
        let t = r.input("sq(3)");
        assert!(t.contains("MulI") && t.ends_with("res1: int = 9\n"), "{t}");
        assert!(!t.contains(TRACE_MARK), "{t}");
    }
}
