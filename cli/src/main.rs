//! The `pvm` command: run, check, build and disassemble pvm programs.
//!
//! This is the only place where errors become exit statuses:
//! 0 success, 1 runtime error, 2 compile error or unusable input
//! (missing file, bad flag, malformed bytecode), or the program's own
//! `exit(n)`.

use clap::{Parser, Subcommand};
use pvm::{Capabilities, Config, GcMode, Host, JitMode, Vm};
use pvm_bytecode::{disasm, format as bcformat, Module};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "pvm", version, about = "The pvm process virtual machine", propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct RunOpts {
    /// Heap limit (bytes, or with K, M, G suffix); exceeding it stops the program.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    max_heap: u64,
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
    /// Print every instruction as it executes (to stderr; the interpreter
    /// runs everything).
    #[arg(long)]
    trace: bool,
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
    /// Make a host path readable inside the container (at the same path). Repeatable.
    #[arg(long, value_name = "PATH")]
    allow_read: Vec<std::path::PathBuf>,
    /// Make a host path readable and writable inside the container. Repeatable.
    #[arg(long, value_name = "PATH")]
    allow_write: Vec<std::path::PathBuf>,
    /// Size of the container's private /tmp.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    tmp_size: u64,
    /// Memory limit of the container (the outer fence around --max-heap).
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    memory: u64,
    /// Maximum number of processes and threads in the container.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pids: u64,
    /// CPU time limit in seconds.
    #[arg(long, value_name = "SECONDS")]
    cpu_time: Option<u64>,
    /// Wall-clock time limit in seconds (enforced from outside the container).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum JitOpt {
    Off,
    On,
    Always,
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
    Check { file: String },
    /// Compile a program to a bytecode file.
    Build {
        file: String,
        /// Output path for the bytecode.
        #[arg(short, long, value_name = "OUT")]
        output: String,
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
    },
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

fn is_bytecode(path: &str) -> bool {
    if path.ends_with(".pvmc") {
        return true;
    }
    std::fs::File::open(path)
        .ok()
        .and_then(|mut f| {
            let mut magic = [0u8; 4];
            std::io::Read::read_exact(&mut f, &mut magic)
                .ok()
                .map(|_| &magic == bcformat::MAGIC)
        })
        .unwrap_or(false)
}

/// Loads a program from source or bytecode.
fn load(path: &str) -> Result<Module, Fail> {
    if is_bytecode(path) {
        let bytes = std::fs::read(path).map_err(|e| Fail::Status(format!("error: {path}: {e}\n"), 2))?;
        return bcformat::decode(&bytes).map_err(|e| Fail::Status(format!("error: {path}: {e}\n"), 2));
    }
    pvm_compiler::compile_file(path)
        .map(|(m, _)| m)
        .map_err(|e| Fail::Status(e.render(), 2))
}

/// Loads a program and verifies it (for the commands that do not run it;
/// `run` verifies when it creates the VM).
fn load_verified(path: &str) -> Result<Module, Fail> {
    let m = load(path)?;
    pvm_bytecode::verify::verify(&m).map_err(|e| Fail::Status(format!("error: {path}: {e}\n"), 2))?;
    Ok(m)
}

fn run(opts: RunOpts, file: String, args: Vec<String>) -> Result<u8, Fail> {
    let module = load(&file)?;
    let config = Config {
        max_heap: usize::try_from(opts.max_heap).unwrap_or(usize::MAX),
        gc: match opts.gc_stress {
            None => GcMode::Normal,
            Some(StressMode::Full) => GcMode::StressFull,
            Some(StressMode::Incremental) => GcMode::StressIncremental,
        },
        gc_log: opts.gc_log,
        count_instructions: opts.stats,
        trace: opts.trace,
        jit: match opts.jit {
            JitOpt::Off => JitMode::Off,
            JitOpt::On => JitMode::On,
            JitOpt::Always => JitMode::Always,
        },
        jit_threshold: opts.jit_threshold,
        jit_log: opts.jit_log,
        ..Config::default()
    };
    let mut host = Host::new();
    host.capabilities(Capabilities::all(args));
    // Verify and link before entering the container, so a bad module is
    // reported the same way with or without the sandbox.
    let mut vm = Vm::new(module, &host, config).map_err(|e| Fail::Status(format!("error: {file}: {e}\n"), 2))?;
    // Output is written at every line when it goes to a terminal, in
    // large blocks otherwise; input is the process's standard input.
    if std::io::stdout().is_terminal() {
        vm.set_output_line_buffered(std::io::stdout());
    } else {
        vm.set_output(std::io::stdout());
    }
    vm.set_input(std::io::BufReader::new(std::io::stdin()));
    if opts.no_sandbox {
        return Ok(run_vm(&mut vm, opts.stats));
    }
    let mut cfg = pvm_sandbox::Config::for_program(&file);
    cfg.allow_read = opts.allow_read.clone();
    cfg.allow_write = opts.allow_write.clone();
    cfg.tmp_size = opts.tmp_size;
    cfg.memory = opts.memory;
    cfg.pids = opts.pids;
    cfg.cpu_time = opts.cpu_time;
    cfg.timeout = opts.timeout.map(std::time::Duration::from_secs);
    // The sandbox forks here: the body runs as PID 1 of a fresh container.
    match pvm_sandbox::run(&cfg, || run_vm(&mut vm, opts.stats) as i32) {
        Ok(code) => Ok(code.clamp(0, 255) as u8),
        Err(e) => Err(Fail::Status(format!("error: {e}\n"), 2)),
    }
}

/// Runs a loaded VM to the end; returns the process exit status.
fn run_vm(vm: &mut Vm, stats: bool) -> u8 {
    let started = std::time::Instant::now();
    let outcome = vm.run_main();
    let status = match &outcome {
        Ok(()) => 0,
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
        let compiled = if j.compiled == 0 {
            "stats: jit: nothing compiled".to_string()
        } else {
            format!(
                "stats: jit: {} functions compiled in {:.3} ms, {} bytes of machine code",
                j.compiled,
                ms(j.compile_time),
                j.code_bytes
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
        Cmd::Check { file } => load_verified(&file).map(|_| 0),
        Cmd::Build { file, output } => load_verified(&file).and_then(|m| {
            std::fs::write(&output, bcformat::encode(&m)).map_err(|e| Fail::Status(format!("error: {output}: {e}\n"), 2))?;
            Ok(0)
        }),
        Cmd::Dis { file, clif, asm } if clif || asm => load_verified(&file).and_then(|m| {
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
        Cmd::Dis { file, .. } => load_verified(&file).map(|m| {
            let texts: Vec<Option<String>> = m.files.iter().map(|p| std::fs::read_to_string(p).ok()).collect();
            let refs: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
            let listing = disasm::disassemble(&m, &refs);
            use std::io::Write;
            let _ = std::io::stdout().write_all(listing.as_bytes());
            0
        }),
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
