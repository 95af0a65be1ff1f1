//! `pvm explore FILE -o out.html`: a program's run as one web page to step
//! through, forward and back (Python Tutor for a whole VM).
//!
//! The page is made in two halves:
//!
//! 1. **Recording.** The program runs in the interpreter (the JIT is off)
//!    with the tracer in its recording mode (`TraceMode::Record`, see the
//!    VM's `trace` module): one compact JSON array per event, such as
//!    `[0,3,7,2,42]` ("function 3, pc 7 wrote r2 = 42"), `[3,1,[5]]` ("a
//!    call of function 1 with argument 5"), `[8,12,"Point",[1,2]]` ("object
//!    #12 is a Point with fields 1 and 2", written whenever an instruction
//!    creates or writes into an object) or `[7,...]` (a collector slice,
//!    with the ids it has marked and those it freed). Only instructions are
//!    counted as steps; the recording stops after `--max-steps` of them and
//!    the run is interrupted there. Fuel, a heap limit and (in the sandbox)
//!    a wall-clock limit bound the run itself, so a runaway program ends.
//!
//!    By default the recording runs inside the same container sandbox as
//!    `pvm run`: `pvm explore` starts itself again as
//!    `pvm explore-record`, which loads the program and runs it in the
//!    container, writing the recording to its standard output, a pipe back
//!    to this process. The program's own output goes into the recording
//!    too, line by line (`[13,"text"]`), so the page shows what was printed
//!    by each step. `--no-sandbox` records in this process instead.
//!
//! 2. **The page.** The static facts (source files, each function's
//!    bytecode as the disassembler prints it, register types, line tables,
//!    and the JIT's Cranelift IR and machine code) and the recording are
//!    written into `explore.html` (a template with inline CSS and
//!    JavaScript) as two JavaScript literals. The script replays the
//!    recording once on loading, keeping a copy of the call stack every few
//!    hundred steps (a keyframe), and every version of every object; to
//!    show step *k* it starts from the keyframe before *k* and replays
//!    writes up to *k*, and looks each object up as it was at *k*. Nothing
//!    is fetched: the file works offline, from `file://`.
//!
//! A step *k* shows the state after the *k*-th instruction ran (and after
//! the call, return or collection that instruction caused).

use crate::confine::Grants;
use crate::{load, Fail};
use pvm::{Capabilities, Captured, Config, Host, JitMode, RunError, TraceMode, Vm};
use pvm_bytecode::{disasm, Module};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The page template: `/*PVM_META*/null` and `/*PVM_REC*/[]` are replaced.
const TEMPLATE: &str = include_str!("explore.html");

/// Heap limit of a recorded run.
const MAX_HEAP: usize = 256 << 20;
/// Program output kept for the page.
const MAX_OUTPUT: usize = 64 << 10;
/// Wall-clock limit of a sandboxed recording, in seconds.
const TIMEOUT_SECS: u64 = 120;
/// The most recording bytes read back from the sandboxed child.
const MAX_RECORDING: u64 = 1 << 30;

/// What `pvm explore` was asked for.
pub struct ExploreOpts {
    pub file: String,
    pub output: PathBuf,
    pub max_steps: u64,
    pub no_sandbox: bool,
    pub allow_read: Vec<PathBuf>,
}

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

/// Records a run of `module` into `out`: the tracer's events and the
/// program's output, then one last line `[10,output,how it ended]`.
fn record(module: Module, caps: Capabilities, max_steps: u64, out: Box<dyn Write + Send>) -> i32 {
    let config = Config {
        trace: Some(TraceMode::Record),
        record_steps: max_steps,
        jit: JitMode::Off,
        max_heap: MAX_HEAP,
        ..Config::default()
    };
    let mut host = Host::new();
    host.capabilities(caps);
    let mut vm = match Vm::new(module, &host, config) {
        Ok(vm) => vm,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
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
    0
}

/// `pvm explore-record FILE`: the sandboxed half, run by `pvm explore`.
pub fn record_sandboxed(file: &str, max_steps: u64, allow_read: &[PathBuf]) -> Result<u8, Fail> {
    let mut cfg = pvm_sandbox::Config::new();
    cfg.allow_read = allow_read.to_vec();
    cfg.quiet_fallback = true;
    cfg.timeout = Some(std::time::Duration::from_secs(TIMEOUT_SECS));
    cfg.memory = 1 << 30;
    let grants = allow_read.to_vec();
    let load = || {
        load(file, &grants).map(|(m, _)| m).map_err(|Fail::Status(msg, code)| {
            eprint!("{msg}");
            i32::from(code)
        })
    };
    let body = |module: Module| {
        let caps = crate::sandboxed_caps(Vec::new(), Grants::new(allow_read, &[]), MAX_HEAP);
        record(module, caps, max_steps, Box::new(std::io::stdout()))
    };
    match pvm_sandbox::run_with(&cfg, load, body) {
        Ok(code) => Ok(code.clamp(0, 255) as u8),
        Err(e) => Err(Fail::Status(format!("error: {e}\n"), pvm_sandbox::EXIT_SANDBOX as u8)),
    }
}

/// `pvm explore`: records the run and writes the page.
pub fn explore(o: &ExploreOpts) -> Result<u8, Fail> {
    let fail = |why: String| Fail::Status(format!("error: {}: {why}\n", o.file), 2);
    let (module, texts) = load(&o.file, &o.allow_read)?;
    let recording: Vec<u8> = if o.no_sandbox {
        let buf = Captured::new();
        record(module.clone(), Capabilities::all(Vec::new()), o.max_steps, Box::new(buf.clone()));
        buf.bytes()
    } else {
        let exe = std::env::current_exe().map_err(|e| fail(format!("cannot find pvm itself: {e}")))?;
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("explore-record").arg("--max-steps").arg(o.max_steps.to_string());
        for p in &o.allow_read {
            cmd.arg("--allow-read").arg(p);
        }
        let mut child = cmd
            .arg(&o.file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot start the sandboxed recording: {e}")))?;
        let mut v = Vec::new();
        if let Some(out) = child.stdout.take() {
            let _ = out.take(MAX_RECORDING).read_to_end(&mut v);
        }
        let status = child.wait().map_err(|e| fail(e.to_string()))?;
        if v.is_empty() {
            return Err(Fail::Status(
                format!(
                    "error: {}: the sandboxed recording failed ({status}); `--no-sandbox` records in this process\n",
                    o.file
                ),
                pvm_sandbox::EXIT_SANDBOX as u8,
            ));
        }
        v
    };
    let recording = String::from_utf8_lossy(&recording);
    let steps = recording
        .lines()
        .filter(|l| l.starts_with("[0,") || l.starts_with("[1,") || l.starts_with("[2,"))
        .count();
    let html = page(&module, &texts, &o.file, &recording, steps, o.max_steps);
    std::fs::write(&o.output, html.as_bytes()).map_err(|e| Fail::Status(format!("error: {}: {e}\n", o.output.display()), 2))?;
    let stopped = recording.lines().any(|l| l.starts_with("[9,"));
    eprintln!(
        "pvm explore: {} steps recorded{}; wrote {} ({} bytes)",
        steps,
        if stopped { " (the --max-steps bound)" } else { "" },
        o.output.display(),
        html.len()
    );
    Ok(0)
}

/// A JSON string literal that is also safe inside a `<script>` element
/// (`<` is written `\u003c`, so no `</script>` can appear).
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
fn jit_listings(module: &Module) -> (String, String) {
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

/// The page: the template with the module's facts and the recording in.
fn page(m: &Module, texts: &[Option<String>], file: &str, recording: &str, steps: usize, max_steps: u64) -> String {
    let mut meta = String::from("{\"file\":");
    json_str(&mut meta, file);
    let _ = write!(meta, ",\"steps\":{steps},\"max\":{max_steps},\"files\":[");
    for (i, name) in m.files.iter().enumerate() {
        if i > 0 {
            meta.push(',');
        }
        meta.push_str("{\"name\":");
        json_str(&mut meta, name);
        meta.push_str(",\"text\":");
        json_str(&mut meta, texts.get(i).and_then(|t| t.as_deref()).unwrap_or(""));
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
    let (clif, asm) = jit_listings(m);
    meta.push_str("},\"clif\":");
    json_str(&mut meta, &clif);
    meta.push_str(",\"asm\":");
    json_str(&mut meta, &asm);
    meta.push('}');

    // The recording comes from the sandboxed child: it is data, never
    // code. It goes into the page as one JSON string literal (escaped by
    // `json_str`, so no `</script>` and no way out of the literal), which
    // the page hands to `JSON.parse`: a malformed recording is an error on
    // the page, not script.
    let mut joined = String::with_capacity(recording.len() + 16);
    joined.push('[');
    for (i, line) in recording.lines().enumerate() {
        if i > 0 {
            joined.push_str(",\n");
        }
        joined.push_str(line);
    }
    joined.push(']');
    let mut rec = String::from("JSON.parse(");
    json_str(&mut rec, &joined);
    rec.push(')');
    TEMPLATE.replacen("/*PVM_META*/null", &meta, 1).replacen("/*PVM_REC*/[]", &rec, 1)
}

#[cfg(test)]
mod tests {
    use super::json_str;

    #[test]
    fn strings_cannot_end_the_script() {
        let mut s = String::new();
        json_str(&mut s, "</script>\"\n");
        assert_eq!(s, "\"\\u003c/script>\\\"\\n\"");
    }
}
