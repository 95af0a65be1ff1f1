//! Settings of one VM: limits and debugging switches.

/// Settings for one VM. `Config::default()` is what `pvm run` uses without flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// Heap limit in bytes: exceeding it is the uncatchable error
    /// `heap limit exceeded`.
    pub max_heap: usize,
    /// Collect at every allocation (for testing the collector).
    pub gc_stress: bool,
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
            gc_stress: false,
            count_instructions: false,
            trace: false,
            max_depth: 200_000,
        }
    }
}
