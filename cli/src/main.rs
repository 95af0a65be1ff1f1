//! The `pvm` command: run, check, build and disassemble pvm programs, and show the
//! compiler's stages and the verifier's verdict (`dump`, `verify`: [`teach`]).
//!
//! This is the only place where errors become exit statuses:
//! 0 success, 1 runtime error, 2 compile error or unusable input
//! (missing file, bad flag, malformed bytecode), 124 time limit, 137 memory
//! limit, 125 the container itself failed (as Docker and Podman), or the
//! program's own `exit(n)`.

mod confine;
mod explore;
mod repl;
mod teach;

use clap::{Parser, Subcommand};
use confine::{ConfinedResolver, Grants};
use pvm::{Access, Capabilities, Config, GcMode, Host, InterruptHandle, JitMode, TraceMode, Vm};
use pvm_bytecode::{format as bcformat, Module};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

#[derive(Parser)]
#[command(name = "pvm", version, about = "The pvm process virtual machine", propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct RunOpts {
    /// Heap limit (bytes, or with K, M, G suffix); exceeding it stops the program.
    /// Default: 1G, or half of --memory if that is less (so that the program stops at its
    /// own heap limit, with its output written, before the container's memory limit).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_heap: Option<u64>,
    /// Test the collector: `full` collects completely at every allocation;
    /// `incremental` runs incremental cycles back to back in tiny slices and
    /// checks after each marking that every reachable object is marked.
    #[arg(long, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "full", value_enum)]
    gc_stress: Option<StressMode>,
    /// Print one line per garbage collection cycle to stderr.
    #[arg(long)]
    gc_log: bool,
    /// Print instructions executed, collections, pause times and peak heap to stderr at exit.
    #[arg(long)]
    stats: bool,
    /// Print every instruction as it executes, to stderr (the interpreter runs
    /// everything): `instr` (the default) the instruction; `values` also the
    /// values it read and wrote, and call, return, unwind and gc events,
    /// indented by call depth; `json` the same events, one JSON object a line.
    #[arg(long, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "instr", value_enum)]
    trace: Option<TraceOpt>,
    /// When to compile to machine code: `on` (hot functions and loops),
    /// `off` (interpret only) or `always` (every function, before it runs).
    #[arg(long, value_name = "MODE", default_value = "on", value_enum)]
    jit: JitOpt,
    /// Calls plus loop iterations after which a function is compiled.
    #[arg(long, value_name = "N", default_value_t = Config::default().jit_threshold, value_parser = clap::value_parser!(u32).range(1..))]
    jit_threshold: u32,
    /// Print one line per compiled function to stderr.
    #[arg(long)]
    jit_log: bool,
    /// Run directly in this process, without the container sandbox.
    #[arg(long)]
    no_sandbox: bool,
    /// Make a host path readable inside the container (at the same path), and importable.
    /// Repeatable. Nothing of the host is visible otherwise.
    #[arg(long, value_name = "PATH")]
    allow_read: Vec<PathBuf>,
    /// Make a host path readable and writable inside the container. Repeatable.
    #[arg(long, value_name = "PATH")]
    allow_write: Vec<PathBuf>,
    /// Set an environment variable inside the container: NAME=VALUE, or NAME to pass the
    /// caller's value. Repeatable. The environment is empty otherwise.
    #[arg(long, value_name = "NAME[=VALUE]")]
    env: Vec<String>,
    /// Do not print the warning about missing cgroup limits (also: PVM_QUIET_FALLBACK=1).
    /// It is printed once per user and machine otherwise.
    #[arg(long)]
    quiet_fallback: bool,
    /// Size of the container's private /tmp.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    tmp_size: u64,
    /// Memory limit of the container, loading included (the outer fence around --max-heap).
    #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = parse_size)]
    memory: u64,
    /// Maximum number of processes and threads in the container.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pids: u64,
    /// CPU time limit in seconds.
    #[arg(long, value_name = "SECONDS")]
    cpu_time: Option<u64>,
    /// Wall-clock time limit in seconds for loading and running the program (enforced from
    /// outside the container). --cpu-time applies to the run.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
}

impl RunOpts {
    fn max_heap(&self) -> u64 {
        self.max_heap.unwrap_or_else(|| (1u64 << 30).min(self.memory / 2))
    }

    fn grants(&self) -> Vec<PathBuf> {
        self.allow_read.iter().chain(&self.allow_write).cloned().collect()
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum JitOpt {
    Off,
    On,
    Always,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TraceOpt {
    Instr,
    Values,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StressMode {
    Full,
    Incremental,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compile (or load a .pvmc) and run a program.
    Run {
        #[command(flatten)]
        opts: RunOpts,
        /// The program: a .pvm source file or a .pvmc bytecode file.
        file: String,
        /// Arguments passed to the program (see `args()`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check a program for errors without running it.
    Check {
        file: String,
        /// Also allow imports from this path (besides the program's own directory).
        #[arg(long, value_name = "PATH")]
        allow_read: Vec<PathBuf>,
    },
    /// Compile a program to a bytecode file.
    Build {
        file: String,
        /// Output path for the bytecode.
        #[arg(short, long, value_name = "OUT")]
        output: String,
        /// Also allow imports from this path (besides the program's own directory).
        #[arg(long, value_name = "PATH")]
        allow_read: Vec<PathBuf>,
    },
    /// Print the bytecode of a program, interleaved with its source lines.
    Dis {
        file: String,
        /// Print the Cranelift IR the JIT makes of each function instead.
        #[arg(long, conflicts_with = "asm")]
        clif: bool,
        /// Print the machine code the JIT makes of each function instead.
        #[arg(long)]
        asm: bool,
        /// First print the module's tables: types, constants, globals, classes (fields and
        /// method tables), interfaces (method slots), natives, files.
        #[arg(long, conflicts_with_all = ["clif", "asm"])]
        tables: bool,
        /// Print each instruction's byte offset (hex) in the .pvmc file: in FILE itself if it
        /// is bytecode, else in the file `pvm build` would write. The offset is that of the
        /// opcode byte; the operands follow it (registers 2 bytes, constants, globals, jump
        /// targets and immediates 4, all little-endian).
        #[arg(long, conflicts_with_all = ["clif", "asm"])]
        offsets: bool,
        /// Show a module that fails verification instead of refusing it. The listing is
        /// marked UNVERIFIED; indices out of range are printed as `?`.
        #[arg(long, conflicts_with_all = ["clif", "asm"])]
        no_verify: bool,
        /// Also allow imports from this path (besides the program's own directory).
        #[arg(long, value_name = "PATH")]
        allow_read: Vec<PathBuf>,
    },
    /// Print what a compiler stage makes of a source file: its tokens, its syntax tree, or
    /// its typed intermediate tree (HIR), one node per line.
    #[command(group(clap::ArgGroup::new("stage").required(true).args(["tokens", "ast", "hir"])))]
    Dump {
        file: String,
        /// The tokens: LINE:COL, kind and text of each (the lexer's output).
        #[arg(long)]
        tokens: bool,
        /// The syntax tree, with LINE:COL of each node (the parser's output).
        #[arg(long)]
        ast: bool,
        /// The typed tree: every expression's type, each lambda's captures, and which
        /// variables live in cells (the checker's output).
        #[arg(long)]
        hir: bool,
        /// Also allow imports from this path (besides the program's own directory).
        #[arg(long, value_name = "PATH")]
        allow_read: Vec<PathBuf>,
    },
    /// Record a run of a program (interpreted, sandboxed) into one self-contained web page
    /// to step through, forward and back: source, bytecode, call stack with every register,
    /// the heap as boxes and arrows (coloured by the collector), and the JIT's output.
    Explore {
        file: String,
        /// The page to write.
        #[arg(short, long, value_name = "OUT.html")]
        output: PathBuf,
        /// Instructions to record; the run is stopped there.
        #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        max_steps: u64,
        /// Record in this process, without the container sandbox.
        #[arg(long)]
        no_sandbox: bool,
        /// Also allow imports (and reads) from this path.
        #[arg(long, value_name = "PATH")]
        allow_read: Vec<PathBuf>,
    },
    /// The sandboxed half of `pvm explore`: writes the recording to stdout.
    #[command(hide = true)]
    ExploreRecord {
        file: String,
        #[arg(long, value_name = "N", default_value_t = 100_000)]
        max_steps: u64,
        #[arg(long, value_name = "PATH")]
        allow_read: Vec<PathBuf>,
    },
    /// Run the bytecode verifier on a program (.pvm or .pvmc) and list every problem it
    /// finds, one per line. Status 0 if it verifies, 2 if not.
    Verify {
        file: String,
        /// Also allow imports from this path (besides the program's own directory).
        #[arg(long, value_name = "PATH")]
        allow_read: Vec<PathBuf>,
    },
    /// Type pvm a line at a time: declarations and statements accumulate, an expression's
    /// value is printed with its type; :dis, :hir, :type and :trace show the internals.
    /// Programs run in this process with no access to files (see :help).
    Repl,
}

/// Parses sizes like `64M`, `1G`, `512K` or plain bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("unknown size suffix in `{s}` (use K, M or G)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size (examples: 65536, 64M, 1G)"))?;
    n.checked_mul(mult)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("size `{s}` is out of range"))
}

enum Fail {
    /// Print and exit with this status.
    Status(String, u8),
}

/// Loads a program from source or bytecode: the entry file (or pipe) is read once with a
/// size cap, imports only from its directory tree and `grants` ([`ConfinedResolver`]).
/// Verified. Also returns the source texts of the files, for `dis`.
fn load(path: &str, grants: &[PathBuf]) -> Result<(Module, Vec<Option<String>>), Fail> {
    let (m, texts) = load_unverified(path, grants)?;
    pvm_bytecode::verify::verify(&m).map_err(|e| Fail::Status(format!("error: {path}: {e}\n"), 2))?;
    Ok((m, texts))
}

/// [`load`] without the verifier, for the commands that inspect a module (`dis --no-verify`,
/// `verify`). Nothing may run what this returns.
fn load_unverified(path: &str, grants: &[PathBuf]) -> Result<(Module, Vec<Option<String>>), Fail> {
    let fail = |why: String| Fail::Status(format!("error: {path}: {why}\n"), 2);
    let program = confine::read_program(path).map_err(fail)?;
    let (m, texts) = match program {
        confine::Program::Bytecode(bytes) => {
            let m = bcformat::decode(&bytes).map_err(|e| fail(e.to_string()))?;
            let texts = bytecode_sources(path, &m, grants);
            (m, texts)
        }
        confine::Program::SourceFile | confine::Program::SourceText(_) => {
            let is_file = matches!(program, confine::Program::SourceFile);
            let resolver = ConfinedResolver::for_entry(path, is_file, grants);
            let opts = pvm_compiler::Options {
                resolver: &resolver,
                ..Default::default()
            };
            let r = match &program {
                confine::Program::SourceText(text) => pvm_compiler::compile_source_with(path, text, &opts),
                _ => pvm_compiler::compile_file_with(path, &opts),
            };
            let (m, sm) = r.map_err(|e| Fail::Status(e.render(), 2))?;
            let texts = sm.files.iter().map(|f| Some(f.text.clone())).collect();
            (m, texts)
        }
    };
    Ok((m, texts))
}

/// Source texts named by a bytecode file, for `dis`: read only through the same confinement
/// as imports (a .pvmc file could name any path).
fn bytecode_sources(path: &str, m: &Module, grants: &[PathBuf]) -> Vec<Option<String>> {
    let resolver = ConfinedResolver::for_entry(path, true, grants);
    m.files
        .iter()
        .map(|f| {
            let abs = confine::absolute(&std::env::current_dir().unwrap_or_default(), f);
            let rel = abs.to_string_lossy().into_owned();
            pvm_compiler::Resolver::resolve(&resolver, "/", &rel).ok().map(|r| r.text)
        })
        .collect()
}

/// The VM of a sandboxed run, for the stop signal's handler (which may only set its flag).
static VM_STOP: OnceLock<InterruptHandle> = OnceLock::new();

fn vm_config(opts: &RunOpts) -> Config {
    Config {
        max_heap: usize::try_from(opts.max_heap()).unwrap_or(usize::MAX),
        gc: match opts.gc_stress {
            None => GcMode::Normal,
            Some(StressMode::Full) => GcMode::StressFull,
            Some(StressMode::Incremental) => GcMode::StressIncremental,
        },
        gc_log: opts.gc_log,
        count_instructions: opts.stats,
        trace: opts.trace.map(|t| match t {
            TraceOpt::Instr => TraceMode::Instr,
            TraceOpt::Values => TraceMode::Values,
            TraceOpt::Json => TraceMode::Json,
        }),
        jit: match opts.jit {
            JitOpt::Off => JitMode::Off,
            JitOpt::On => JitMode::On,
            JitOpt::Always => JitMode::Always,
        },
        jit_threshold: opts.jit_threshold,
        jit_log: opts.jit_log,
        ..Config::default()
    }
}

/// Output at every line to a terminal, in large blocks otherwise; input from stdin.
fn connect_stdio(vm: &mut Vm, stdout_is_tty: bool) {
    if stdout_is_tty {
        vm.set_output_line_buffered(std::io::stdout());
    } else {
        vm.set_output(std::io::stdout());
    }
    vm.set_input(std::io::BufReader::new(std::io::stdin()));
}

fn run(opts: RunOpts, file: String, args: Vec<String>) -> Result<u8, Fail> {
    let started = std::time::Instant::now();
    let stdout_is_tty = std::io::stdout().is_terminal();
    let grants = opts.grants();
    if opts.no_sandbox {
        let (module, _) = load(&file, &grants)?;
        let mut host = Host::new();
        host.capabilities(Capabilities::all(args));
        let mut vm = Vm::new(module, &host, vm_config(&opts)).map_err(|e| Fail::Status(format!("error: {file}: {e}\n"), 2))?;
        connect_stdio(&mut vm, stdout_is_tty);
        return Ok(run_vm(&mut vm, opts.stats));
    }
    let env = parse_env(&opts.env)?;
    let mut cfg = pvm_sandbox::Config::new();
    cfg.allow_read = opts.allow_read.clone();
    cfg.allow_write = opts.allow_write.clone();
    cfg.env = env;
    cfg.tmp_size = opts.tmp_size;
    cfg.memory = opts.memory;
    cfg.pids = opts.pids;
    cfg.cpu_time = opts.cpu_time;
    cfg.quiet_fallback = opts.quiet_fallback || std::env::var_os("PVM_QUIET_FALLBACK").is_some_and(|v| !v.is_empty() && v != "0");
    cfg.warn_marker = warn_marker();
    // The time limit counts from pvm's start: loading is part of it.
    cfg.timeout = opts.timeout.map(std::time::Duration::from_secs);
    cfg.timeout_from = Some(started);
    let file_grants = Grants::new(&opts.allow_read, &opts.allow_write);
    let max_read = usize::try_from(opts.max_heap()).unwrap_or(usize::MAX);
    let config = vm_config(&opts);
    let stats = opts.stats;
    // Loading (reading, compiling, verifying) runs in the container's supervising child,
    // inside its memory limit and under --timeout, with pvm's own view of the files.
    let load = || {
        load(&file, &grants).map(|(m, _)| m).map_err(|Fail::Status(msg, code)| {
            eprint!("{msg}");
            i32::from(code)
        })
    };
    // The body runs as PID 1 of a fresh container, where the module is verified and linked
    // again when the VM is made.
    let body = |module: Module| {
        let mut host = Host::new();
        host.capabilities(sandboxed_caps(args, file_grants, max_read));
        let mut vm = match Vm::new(module, &host, config) {
            Ok(vm) => vm,
            Err(e) => {
                eprintln!("error: {file}: {e}");
                return 2;
            }
        };
        connect_stdio(&mut vm, stdout_is_tty);
        // A time limit first asks the program to stop: the VM stops at its next
        // instruction and its buffered output is written out.
        let _ = VM_STOP.set(vm.interrupt_handle());
        let _ = pvm_sandbox::on_stop_request(|| {
            if let Some(h) = VM_STOP.get() {
                h.interrupt();
            }
        });
        run_vm(&mut vm, stats) as i32
    };
    match pvm_sandbox::run_with(&cfg, load, body) {
        Ok(code) => Ok(code.clamp(0, 255) as u8),
        Err(e) => Err(Fail::Status(format!("error: {e}\n"), pvm_sandbox::EXIT_SANDBOX as u8)),
    }
}

/// `read_file`/`write_file` inside the container: a path that is not granted fails with an
/// error naming the flag that grants it (the container shows nothing there anyway).
fn sandboxed_caps(args: Vec<String>, grants: Grants, max_read: usize) -> Capabilities {
    let mut caps = Capabilities::all(args);
    let g = Arc::new(grants);
    let gr = g.clone();
    caps.read_file = Access::Custom(Arc::new(move |path: &str| {
        gr.check_read(path)?;
        let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let bytes = confine::read_capped(f, max_read as u64).map_err(|e| {
            if e.starts_with("is larger") {
                "the file is larger than the heap limit".to_string()
            } else {
                e
            }
        })?;
        String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
    }));
    caps.write_file = Access::Custom(Arc::new(move |path: &str, text: &str| {
        g.check_write(path)?;
        std::fs::write(path, text).map_err(|e| e.to_string())
    }));
    caps
}

/// `--env NAME=VALUE` and `--env NAME` (the caller's value).
fn parse_env(list: &[String]) -> Result<Vec<(std::ffi::OsString, std::ffi::OsString)>, Fail> {
    let mut out = Vec::new();
    for e in list {
        match e.split_once('=') {
            Some((k, v)) if !k.is_empty() => out.push((k.into(), v.into())),
            None if !e.is_empty() => match std::env::var_os(e) {
                Some(v) => out.push((e.into(), v)),
                None => {
                    return Err(Fail::Status(
                        format!("error: --env {e}: {e} is not set here; use --env {e}=VALUE\n"),
                        2,
                    ))
                }
            },
            _ => return Err(Fail::Status(format!("error: --env {e}: expected NAME or NAME=VALUE\n"), 2)),
        }
    }
    Ok(out)
}

/// Where the one-time warning about missing cgroup limits is remembered.
fn warn_marker() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("pvm").join("cgroup-fallback-warned"))
}

/// Runs a loaded VM to the end; returns the process exit status.
fn run_vm(vm: &mut Vm, stats: bool) -> u8 {
    let started = std::time::Instant::now();
    let mut outcome = vm.run_main();
    // Write out what is buffered however the run ended (an uncaught error, an interrupt from
    // a time limit); a failure to write is an error of its own.
    let flushed = vm.flush();
    if let (Ok(()), Err(e)) = (&outcome, flushed) {
        outcome = Err(e);
    }
    let status = match &outcome {
        Ok(()) => 0,
        // Only a time limit interrupts a `pvm run`: the supervisor reports it.
        Err(pvm::RunError::Interrupted) => pvm_sandbox::EXIT_TIME,
        Err(e) => {
            if let Some(report) = e.report() {
                eprint!("{report}");
            }
            e.status()
        }
    };
    if stats {
        let s = vm.stats();
        let g = s.gc;
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        let j = s.jit;
        let total = started.elapsed();
        let compiled = if j.compiled == 0 {
            "stats: jit: nothing compiled".to_string()
        } else {
            format!(
                "stats: jit: {} functions compiled in {:.3} ms, {} bytes of machine code\n\
                 stats: time: {:.3} s in compiled code, {:.3} s in the interpreter and the runtime",
                j.compiled,
                ms(j.compile_time),
                j.code_bytes,
                j.compiled_time.as_secs_f64(),
                total.saturating_sub(j.compiled_time).as_secs_f64(),
            )
        };
        eprintln!("{compiled}");
        eprintln!(
            "stats: {} instructions interpreted in {:.3} s\n\
             stats: gc: {} incremental cycles, {} full collections, {} slices\n\
             stats: gc pauses: {:.3} ms total, {:.3} ms longest, p50 {:.3} ms, p99 {:.3} ms\n\
             stats: memory: {} bytes allocated, {} bytes peak heap, {} peak RSS",
            s.instructions,
            started.elapsed().as_secs_f64(),
            g.incremental,
            g.full,
            g.slices,
            ms(g.total_pause),
            ms(g.max_pause),
            ms(g.p50_pause),
            ms(g.p99_pause),
            g.allocated,
            g.peak,
            peak_rss().map(|k| format!("{k} KiB")).unwrap_or_else(|| "unknown".into()),
        );
    }
    status as u8
}

/// This process's peak resident set size, in KiB (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Run { opts, file, args } => run(opts, file, args),
        Cmd::Check { file, allow_read } => load(&file, &allow_read).map(|_| 0),
        Cmd::Build { file, output, allow_read } => load(&file, &allow_read).and_then(|(m, _)| {
            std::fs::write(&output, bcformat::encode(&m)).map_err(|e| Fail::Status(format!("error: {output}: {e}\n"), 2))?;
            Ok(0)
        }),
        Cmd::Dis {
            file,
            clif,
            asm,
            allow_read,
            ..
        } if clif || asm => load(&file, &allow_read).and_then(|(m, _)| {
            let config = Config {
                jit: JitMode::On,
                ..Config::default()
            };
            let mut vm = Vm::new(m, &Host::new(), config).map_err(|e| Fail::Status(format!("error: {file}: {e}\n"), 2))?;
            let listing = vm.jit_listing(asm).map_err(|e| Fail::Status(format!("error: {file}: {e}\n"), 1))?;
            use std::io::Write;
            let _ = std::io::stdout().write_all(listing.as_bytes());
            Ok(0)
        }),
        Cmd::Dis {
            file,
            allow_read,
            tables,
            offsets,
            no_verify,
            ..
        } => teach::dis(
            &file,
            &allow_read,
            teach::DisFlags {
                tables,
                offsets,
                no_verify,
            },
        ),
        Cmd::Dump {
            file,
            tokens,
            ast,
            allow_read,
            ..
        } => {
            let stage = match (tokens, ast) {
                (true, _) => teach::Stage::Tokens,
                (_, true) => teach::Stage::Ast,
                _ => teach::Stage::Hir,
            };
            teach::dump(&file, stage, &allow_read)
        }
        Cmd::Verify { file, allow_read } => teach::verify(&file, &allow_read),
        Cmd::Repl => Ok(repl::main()),
        Cmd::Explore {
            file,
            output,
            max_steps,
            no_sandbox,
            allow_read,
        } => explore::explore(&explore::ExploreOpts {
            file,
            output,
            max_steps,
            no_sandbox,
            allow_read,
        }),
        Cmd::ExploreRecord {
            file,
            max_steps,
            allow_read,
        } => explore::record_sandboxed(&file, max_steps, &allow_read),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Fail::Status(msg, code)) => {
            eprint!("{msg}");
            ExitCode::from(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("0").is_err());
    }
}
