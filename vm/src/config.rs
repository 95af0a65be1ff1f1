//! Settings of one VM: limits and debugging switches.

use crate::GcMode;

/// Settings for one VM. `Config::default()` is what `pvm run` uses without flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// Heap limit in bytes: exceeding it is the uncatchable error
    /// `heap limit exceeded`.
    pub max_heap: usize,
    /// How the collector runs: normally, or in a stress mode that tests it.
    pub gc: GcMode,
    /// Print one line per collection cycle to standard error (`--gc-log`).
    pub gc_log: bool,
    /// Count instructions (for `--stats`).
    pub count_instructions: bool,
    /// Print every instruction as it runs, to standard error (`--trace`):
    /// `None` for no trace, else in which form (see [`TraceMode`]). Any
    /// trace runs everything in the interpreter.
    pub trace: Option<TraceMode>,
    /// Maximum call depth before the catchable error `stack overflow`.
    pub max_depth: usize,
    /// When functions are compiled to machine code (the `jit` feature;
    /// without it, or on a machine Cranelift does not support, the
    /// interpreter runs everything).
    pub jit: JitMode,
    /// Calls plus loop iterations after which a function is compiled.
    pub jit_threshold: u32,
    /// Print one line per compiled function to standard error (`--jit-log`).
    pub jit_log: bool,
    /// With `TraceMode::Record`: instructions to record before the
    /// recording stops and the run is interrupted (`pvm explore --max-steps`).
    pub record_steps: u64,
}

/// What `--trace` prints for each instruction (`crate::trace` explains the
/// output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceMode {
    /// `[function:pc] instruction`, as the disassembler prints it.
    #[default]
    Instr,
    /// Each instruction with the registers it read and wrote, typed, and
    /// call, return, unwind and collector events, indented by call depth.
    Values,
    /// The same events as `Values`, one JSON object per line, for tools.
    Json,
    /// A compact recording for `pvm explore`: the same events as JSON
    /// arrays with numbers for functions, plus the contents of every object
    /// an instruction creates or writes, and the collector's marked and
    /// freed objects (see `crate::trace`, "Recording").
    Record,
}

/// When compiled code takes over from the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JitMode {
    /// The interpreter only.
    Off,
    /// Hot functions are compiled: called often, or looping long (a hot
    /// loop moves to compiled code at once, mid-run).
    #[default]
    On,
    /// Every function is compiled before it first runs (for testing the
    /// compiler on every function; slower to start).
    Always,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_heap: 1 << 30,
            gc: GcMode::Normal,
            gc_log: false,
            count_instructions: false,
            trace: None,
            max_depth: 200_000,
            jit: JitMode::On,
            jit_threshold: 1000,
            jit_log: false,
            record_steps: 100_000,
        }
    }
}
