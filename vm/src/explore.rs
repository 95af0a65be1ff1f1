//! The data behind `pvm explore`'s page and the browser playground: a run
//! recorded event by event, and the module's static facts, both as JSON.
//!
//! Both front ends draw the same stepper (the page template lives with the
//! CLI, `cli/src/explore.html`), so both get their data from here:
//!
//! * [`record`] runs a module in the interpreter with the tracer in its
//!   recording mode ([`TraceMode::Record`]) and writes one compact JSON array
//!   per line: `[0,3,7,2,42]` ("function 3, pc 7 wrote r2 = 42"), `[3,1,[5]]`
//!   (a call with argument 5), `[8,12,"Point",[1,2]]` (object #12's contents
//!   whenever an instruction creates or writes into it), `[7,...]` (a
//!   collector slice, with the ids it marked and freed), `[13,"text"]` (what
//!   the program printed, where it printed it), and last `[10,output,status]`.
//!   The kinds are listed at the top of the page's script.
//! * [`meta_json`] describes the module: source files, each function's
//!   bytecode as the disassembler prints it, register types, line tables,
//!   globals, class field names and the JIT's listings.
//! * [`recording_literal`] turns the recording into a JavaScript expression
//!   that is safe to paste into a `<script>` element.
//!
//! `pvm explore` runs [`record`] inside the container sandbox and pastes the
//! results into the page; the playground, built for the browser, compiles
//! the editor's text and calls the same functions on every run.

use crate::{Capabilities, Config, Host, JitMode, RunError, TraceMode, Vm};
use pvm_bytecode::{disasm, Module};
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Heap limit of a recorded run.
pub const MAX_HEAP: usize = 256 << 20;
/// Program output kept for the page.
pub const MAX_OUTPUT: usize = 64 << 10;

/// A writer into a shared, capped buffer (the program's output).
#[derive(Clone, Default)]
struct Capped(Arc<Mutex<Vec<u8>>>);

impl Write for Capped {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            let room = MAX_OUTPUT.saturating_sub(v.len());
            v.extend_from_slice(&b[..b.len().min(room)]);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The recording's writer, shared by the tracer and the program's output.
type Sink = Arc<Mutex<std::io::BufWriter<Box<dyn Write + Send>>>>;

/// The tracer's side of the [`Sink`]: whole lines, as it writes them.
struct TraceSink(Sink);

impl Write for TraceSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut w) = self.0.lock() {
            w.write_all(b)?;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The program's output: kept whole for the page, and written into the
/// recording as `[13,"text"]` where it happened (the output is line
/// buffered, so a `println` shows at the step that ran it).
struct OutSink {
    sink: Sink,
    printed: Capped,
}

impl Write for OutSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let room = self.printed.0.lock().map_or(0, |v| MAX_OUTPUT.saturating_sub(v.len()));
        if room > 0 {
            let mut line = String::from("[13,");
            json_str(&mut line, &String::from_utf8_lossy(&b[..b.len().min(room)]));
            line.push_str("]\n");
            if let Ok(mut w) = self.sink.lock() {
                w.write_all(line.as_bytes())?;
            }
        }
        self.printed.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Records a run of `module` (in the interpreter, with `caps`) into `out`:
/// the tracer's events and the program's output, at most `max_steps`
/// instructions, then one last line `[10,output,how it ended]`.
///
/// Fuel bounds the run as well as the recording, and the heap is limited
/// to [`MAX_HEAP`], so a runaway program ends. Returns an error only when
/// the module cannot be loaded (its text is the reason).
pub fn record(module: Module, caps: Capabilities, max_steps: u64, out: Box<dyn Write + Send>) -> Result<(), String> {
    let config = Config {
        trace: Some(TraceMode::Record),
        record_steps: max_steps,
        jit: JitMode::Off,
        max_heap: MAX_HEAP,
        ..Config::default()
    };
    let mut host = Host::new();
    host.capabilities(caps);
    let mut vm = Vm::new(module, &host, config).map_err(|e| e.to_string())?;
    let sink: Sink = Arc::new(Mutex::new(std::io::BufWriter::with_capacity(1 << 16, out)));
    let printed = Capped::default();
    vm.set_trace_output(TraceSink(sink.clone()));
    vm.set_output_line_buffered(OutSink {
        sink: sink.clone(),
        printed: printed.clone(),
    });
    vm.set_input(std::io::empty());
    // Fuel counts calls and loop iterations, each at least one instruction:
    // the run cannot outlast the recording by more than this.
    vm.set_fuel(Some(max_steps.saturating_add(1000)));
    let r = vm.run_main();
    let _ = vm.flush();
    let status = match &r {
        Ok(()) => "the program finished".to_string(),
        Err(RunError::Interrupted) => "stopped: --max-steps reached".to_string(),
        Err(RunError::OutOfFuel) => "stopped: out of fuel".to_string(),
        Err(e) => e.report().unwrap_or_else(|| e.to_string()),
    };
    drop(vm);
    let text = printed
        .0
        .lock()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default();
    let mut last = String::from("[10,");
    json_str(&mut last, &text);
    last.push(',');
    json_str(&mut last, status.trim_end());
    last.push_str("]\n");
    if let Ok(mut w) = sink.lock() {
        let _ = w.write_all(last.as_bytes());
        let _ = w.flush();
    }
    Ok(())
}

/// How many steps (instructions) a recording holds, and whether it was cut
/// short by its step bound.
pub fn recording_steps(recording: &str) -> (usize, bool) {
    let steps = recording
        .lines()
        .filter(|l| l.starts_with("[0,") || l.starts_with("[1,") || l.starts_with("[2,"))
        .count();
    (steps, recording.lines().any(|l| l.starts_with("[9,")))
}

/// A JSON string literal that is also safe inside a `<script>` element
/// (`<` is written `\u003c`, so no `</script>` can appear).
pub fn json_str(out: &mut String, s: &str) {
    crate::trace::push_json(out, s, true);
}

fn json_strs<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    out.push('[');
    for (i, s) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_str(out, s);
    }
    out.push(']');
}

/// The JIT's listings (Cranelift IR and machine code) of every function,
/// or why there are none.
pub fn jit_listings(module: &Module) -> (String, String) {
    #[cfg(feature = "jit")]
    {
        let config = Config {
            jit: JitMode::On,
            ..Config::default()
        };
        let Ok(mut vm) = Vm::new(module.clone(), &Host::new(), config) else {
            return ("(the JIT could not load this module)".into(), String::new());
        };
        let clif = vm.jit_listing(false).unwrap_or_else(|e| format!("(no Cranelift IR: {e})"));
        let asm = vm.jit_listing(true).unwrap_or_else(|e| format!("(no machine code: {e})"));
        (clif, asm)
    }
    #[cfg(all(feature = "jit-listing", not(feature = "jit")))]
    {
        crate::jit_listing::listings(module)
    }
    #[cfg(not(feature = "jit-listing"))]
    {
        let _ = module;
        let why = "(this build of pvm has no JIT)".to_string();
        (why.clone(), why)
    }
}

/// What the page shows besides the recording.
pub struct Meta<'a> {
    /// The entry file's name, as shown.
    pub file: &'a str,
    /// Each source file's text, indexed as `module.files` (`None`: unknown).
    pub texts: &'a [Option<String>],
    /// Steps recorded, and the bound they were recorded under.
    pub steps: usize,
    pub max_steps: u64,
    /// Cranelift IR and machine code, from [`jit_listings`] (or a reason).
    pub clif: &'a str,
    pub asm: &'a str,
}

/// The module's static facts as one JSON object (the page's `META`).
pub fn meta_json(m: &Module, facts: &Meta<'_>) -> String {
    let mut meta = String::from("{\"file\":");
    json_str(&mut meta, facts.file);
    let _ = write!(meta, ",\"steps\":{},\"max\":{},\"files\":[", facts.steps, facts.max_steps);
    for (i, name) in m.files.iter().enumerate() {
        if i > 0 {
            meta.push(',');
        }
        meta.push_str("{\"name\":");
        json_str(&mut meta, name);
        meta.push_str(",\"text\":");
        json_str(&mut meta, facts.texts.get(i).and_then(|t| t.as_deref()).unwrap_or(""));
        meta.push('}');
    }
    meta.push_str("],\"funcs\":[");
    for (i, f) in m.functions.iter().enumerate() {
        if i > 0 {
            meta.push(',');
        }
        meta.push_str("{\"name\":");
        json_str(&mut meta, &f.name);
        let _ = write!(meta, ",\"file\":{},\"params\":{},\"regs\":", f.file, f.params);
        let names: Vec<String> = f.regs.iter().map(|&t| m.type_name(t)).collect();
        json_strs(&mut meta, names.iter().map(String::as_str));
        meta.push_str(",\"lines\":[");
        let lines: Vec<String> = f.lines.iter().map(u32::to_string).collect();
        meta.push_str(&lines.join(","));
        meta.push_str("],\"code\":");
        let code: Vec<String> = f.code.iter().map(|ins| disasm::instruction_in(m, Some(f), ins)).collect();
        json_strs(&mut meta, code.iter().map(String::as_str));
        meta.push('}');
    }
    meta.push_str("],\"globals\":[");
    for (i, g) in m.globals.iter().enumerate() {
        if i > 0 {
            meta.push(',');
        }
        meta.push_str("{\"name\":");
        json_str(&mut meta, &g.name);
        meta.push_str(",\"t\":");
        json_str(&mut meta, &m.type_name(g.ty));
        meta.push('}');
    }
    meta.push_str("],\"classes\":{");
    for (i, c) in m.classes.iter().enumerate() {
        if i > 0 {
            meta.push(',');
        }
        json_str(&mut meta, &c.name);
        meta.push(':');
        json_strs(&mut meta, c.fields.iter().map(|f| f.name.as_str()));
    }
    meta.push_str("},\"clif\":");
    json_str(&mut meta, facts.clif);
    meta.push_str(",\"asm\":");
    json_str(&mut meta, facts.asm);
    meta.push('}');
    meta
}

/// The recording as a JSON array of its lines.
pub fn recording_array(recording: &str) -> String {
    let mut joined = String::with_capacity(recording.len() + 16);
    joined.push('[');
    for (i, line) in recording.lines().enumerate() {
        if i > 0 {
            joined.push_str(",\n");
        }
        joined.push_str(line);
    }
    joined.push(']');
    joined
}

/// The recording as a JavaScript expression for a `<script>` element.
///
/// A recording may come from a sandboxed child: it is data, never code. It
/// goes into the page as one JSON string literal (escaped by [`json_str`],
/// so no `</script>` and no way out of the literal), which the page hands
/// to `JSON.parse`: a malformed recording is an error on the page, not
/// script.
pub fn recording_literal(recording: &str) -> String {
    let mut rec = String::from("JSON.parse(");
    json_str(&mut rec, &recording_array(recording));
    rec.push(')');
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_end_the_script() {
        let mut s = String::new();
        json_str(&mut s, "</script>\"\n\u{2028}");
        assert_eq!(s, "\"\\u003c/script>\\\"\\n\\u2028\"");
    }

    #[test]
    fn a_hostile_recording_stays_a_string() {
        let lit = recording_literal("[13,\"x\"]\n</script><script>alert(1)</script>");
        assert!(lit.starts_with("JSON.parse(\"[[13,\\\"x\\\"],\\n\\u003c/script>"), "{lit}");
        assert!(!lit.contains("</"), "{lit}");
    }
}
