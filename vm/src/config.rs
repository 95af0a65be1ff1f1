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
    /// Print every instruction as it runs, to standard error (`--trace`).
    pub trace: bool,
    /// Maximum call depth before the catchable error `stack overflow`.
    pub max_depth: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_heap: 1 << 30,
            gc: GcMode::Normal,
            gc_log: false,
            count_instructions: false,
            trace: false,
            max_depth: 200_000,
        }
    }
}
