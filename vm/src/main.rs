//! The `pvm` command: run, check, build and disassemble pvm programs.
//!
//! This is the only place where errors become exit statuses:
//! 0 success, 1 runtime error, 2 compile error or unusable input
//! (missing file, bad flag, malformed bytecode), or the program's own
//! `exit(n)`.

use clap::{Parser, Subcommand};
use pvm::{Config, Outcome, Vm};
use pvm_compiler::bytecode::{disasm, format as bcformat, Module};
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
    /// Collect garbage at every allocation (slow; for testing the collector).
    #[arg(long)]
    gc_stress: bool,
    /// Print instructions executed, collections, pause times and peak heap to stderr at exit.
    #[arg(long)]
    stats: bool,
    /// Print every instruction as it executes (to stderr).
    #[arg(long)]
    trace: bool,
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
    },
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
    let n: u64 = num.trim().parse().map_err(|_| format!("`{s}` is not a size (examples: 65536, 64M, 1G)"))?;
    n.checked_mul(mult).filter(|v| *v > 0).ok_or_else(|| format!("size `{s}` is out of range"))
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
            std::io::Read::read_exact(&mut f, &mut magic).ok().map(|_| &magic == bcformat::MAGIC)
        })
        .unwrap_or(false)
}

/// Loads a program from source or bytecode.
fn load(path: &str) -> Result<Module, Fail> {
    if is_bytecode(path) {
        let bytes = std::fs::read(path).map_err(|e| Fail::Status(format!("error: {path}: {e}\n"), 2))?;
        return bcformat::decode(&bytes).map_err(|e| Fail::Status(format!("error: {path}: {e}\n"), 2));
    }
    pvm_compiler::compile_file(path).map(|(m, _)| m).map_err(|e| Fail::Status(e.render(), 2))
}

fn run(opts: RunOpts, file: String, args: Vec<String>) -> Result<u8, Fail> {
    let module = load(&file)?;
    let config = Config {
        max_heap: usize::try_from(opts.max_heap).unwrap_or(usize::MAX),
        gc_stress: opts.gc_stress,
        count_instructions: opts.stats,
        trace: opts.trace,
        args,
        ..Config::default()
    };
    let mut vm = Vm::new(module, config).map_err(|e| Fail::Status(format!("error: {file}: {e}\n"), 2))?;
    let outcome = vm.run_main();
    if let Some(report) = outcome.report() {
        eprint!("{report}");
    }
    if opts.stats {
        let h = &vm.heap;
        eprintln!(
            "stats: {} instructions, {} collections, {:.3} ms total pause, {:.3} ms max pause, {} bytes peak heap, {:.3} s",
            vm.instructions,
            h.collections,
            h.total_pause.as_secs_f64() * 1e3,
            h.max_pause.as_secs_f64() * 1e3,
            h.peak,
            vm.started.elapsed().as_secs_f64()
        );
    }
    let status = match outcome {
        Outcome::Exit(c) => c as u8,
        o => o.status() as u8,
    };
    Ok(status)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Run { opts, file, args } => run(opts, file, args),
        Cmd::Check { file } => load(&file).and_then(|m| {
            pvm::verify::verify(&m).map_err(|e| Fail::Status(format!("error: {file}: {e}\n"), 2))?;
            Ok(0)
        }),
        Cmd::Build { file, output } => load(&file).and_then(|m| {
            pvm::verify::verify(&m).map_err(|e| Fail::Status(format!("error: {file}: {e}\n"), 2))?;
            std::fs::write(&output, bcformat::encode(&m)).map_err(|e| Fail::Status(format!("error: {output}: {e}\n"), 2))?;
            Ok(0)
        }),
        Cmd::Dis { file } => load(&file).and_then(|m| {
            pvm::verify::verify(&m).map_err(|e| Fail::Status(format!("error: {file}: {e}\n"), 2))?;
            let texts: Vec<Option<String>> = m.files.iter().map(|p| std::fs::read_to_string(p).ok()).collect();
            let refs: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
            let listing = disasm::disassemble(&m, &refs);
            use std::io::Write;
            let _ = std::io::stdout().write_all(listing.as_bytes());
            Ok(0)
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
