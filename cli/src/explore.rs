//! `pvm explore FILE -o out.html`: a program's run as one web page to step
//! through, forward and back (Python Tutor for a whole VM).
//!
//! The page is made in two halves:
//!
//! 1. **Recording.** The program runs in the interpreter (the JIT is off)
//!    with the tracer in its recording mode (`TraceMode::Record`, see the
//!    VM's `trace` module), through `pvm::explore::record`, which the
//!    browser playground (`playground/`) shares: one compact JSON array per
//!    event, such as `[0,3,7,2,42]` ("function 3, pc 7 wrote r2 = 42"),
//!    `[3,1,[5]]` ("a call of function 1 with argument 5"),
//!    `[8,12,"Point",[1,2]]` ("object #12 is a Point with fields 1 and 2",
//!    written whenever an instruction creates or writes into an object) or
//!    `[7,...]` (a collector slice, with the ids it has marked and those it
//!    freed). Only instructions are counted as steps; the recording stops
//!    after `--max-steps` of them and the run is interrupted there. Fuel, a
//!    heap limit and (in the sandbox) a wall-clock limit bound the run
//!    itself, so a runaway program ends.
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
//!    and the JIT's Cranelift IR and machine code, `pvm::explore::meta_json`)
//!    and the recording are written into `explore.html` (a template with
//!    inline CSS and JavaScript) as two JavaScript literals. The script replays the
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
use pvm::explore;
use pvm::{Capabilities, Captured};
use pvm_bytecode::Module;
use std::io::{Read, Write};
use std::path::PathBuf;

/// The page template: `/*PVM_META*/null` and `/*PVM_REC*/[]` are replaced.
const TEMPLATE: &str = include_str!("explore.html");

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

/// Records a run of `module` into `out` (see [`pvm::explore::record`]).
fn record(module: Module, caps: Capabilities, max_steps: u64, out: Box<dyn Write + Send>) -> i32 {
    match pvm::explore::record(module, caps, max_steps, out) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
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
        let caps = crate::sandboxed_caps(Vec::new(), Grants::new(allow_read, &[]), explore::MAX_HEAP);
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
    let (steps, stopped) = explore::recording_steps(&recording);
    let html = page(&module, &texts, &o.file, &recording, o.max_steps);
    std::fs::write(&o.output, html.as_bytes()).map_err(|e| Fail::Status(format!("error: {}: {e}\n", o.output.display()), 2))?;
    eprintln!(
        "pvm explore: {} steps recorded{}; wrote {} ({} bytes)",
        steps,
        if stopped { " (the --max-steps bound)" } else { "" },
        o.output.display(),
        html.len()
    );
    Ok(0)
}

/// The page: the template with the module's facts and the recording in.
pub(crate) fn page(m: &Module, texts: &[Option<String>], file: &str, recording: &str, max_steps: u64) -> String {
    let (steps, _) = explore::recording_steps(recording);
    let (clif, asm) = explore::jit_listings(m);
    let meta = explore::meta_json(
        m,
        &explore::Meta {
            file,
            texts,
            steps,
            max_steps,
            clif: &clif,
            asm: &asm,
        },
    );
    TEMPLATE
        .replacen("/*PVM_META*/null", &meta, 1)
        .replacen("/*PVM_REC*/[]", &explore::recording_literal(recording), 1)
}
