//! Errors: why a module cannot be loaded, and how a run can end other than
//! by returning.
//!
//! Inside the VM an abnormal stop travels as a [`Trap`] (cheap: a message
//! or a code). At the API boundary it becomes a [`RunError`], which carries
//! the pvm stack trace for errors and says whether the run can be resumed.

use std::fmt;

/// Why execution stopped abnormally, as raised inside the VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Trap {
    /// A catchable runtime error or `throw`, with its message.
    Error(String),
    /// `exit(code)`: not catchable.
    Exit(i32),
    /// A resource limit (heap, stack depth of the host...): not catchable.
    Limit(String),
    /// Standard output was closed by the reader: stop quietly.
    BrokenPipe,
    /// Writing standard output failed for another reason.
    Output(String),
    /// The fuel ran out; the run is suspended and can be resumed.
    OutOfFuel,
    /// Another thread asked the VM to stop; the run is suspended.
    Interrupted,
    /// Compiled code left a loop whose fuel ticks ran out
    /// (`pvm_jit::STATUS_YIELD`): the interpreter continues its frames at
    /// once. Never leaves [`Vm::settle`](crate::Vm). (Only compiled code
    /// makes it: a build without the JIT never does.)
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    Yield,
}

impl Trap {
    /// Whether a `try` can catch this.
    pub(crate) fn catchable(&self) -> bool {
        matches!(self, Trap::Error(_))
    }

    /// Whether the run is suspended (and not unwound) by this.
    pub(crate) fn suspends(&self) -> bool {
        matches!(self, Trap::OutOfFuel | Trap::Interrupted)
    }
}

/// One line of a pvm stack trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLine {
    /// `main`, `Point.norm`, `<lambda>` or `<init>`.
    pub function: String,
    pub file: String,
    pub line: u32,
}

impl fmt::Display for TraceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {} ({}:{})", self.function, self.file, self.line)
    }
}

/// How a run of pvm code ended, when it did not return normally.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunError {
    /// A runtime error or `throw` that no `try` caught, with the stack
    /// trace, innermost frame first.
    Error { message: String, trace: Vec<TraceLine> },
    /// A resource limit was exceeded (the heap): not catchable by pvm code.
    /// (`stack overflow` is an ordinary, catchable error.)
    Limit { message: String, trace: Vec<TraceLine> },
    /// The program called `exit(code)` (only when the host allows it).
    Exit(i32),
    /// The fuel ran out. The run is suspended: add fuel and resume it
    /// ([`crate::Vm::add_fuel`], [`crate::Func::resume`],
    /// [`crate::Vm::resume_main`]), or start another call to abandon it.
    OutOfFuel,
    /// An [`crate::InterruptHandle`] stopped the run. It is suspended like
    /// [`RunError::OutOfFuel`] and can be resumed the same way.
    Interrupted,
    /// The program's output was closed by its reader (a broken pipe).
    BrokenPipe,
    /// Writing the program's output failed.
    Output(String),
    /// A call from the host did not match what the VM holds (a function
    /// that is not there, a wrong signature, nothing to resume).
    Usage(String),
}

impl RunError {
    /// Whether the run is suspended and can be resumed.
    pub fn is_resumable(&self) -> bool {
        matches!(self, RunError::OutOfFuel | RunError::Interrupted)
    }

    /// The process exit status this ending means for `pvm run`: 1 for
    /// errors and limits, the code for `exit`, 0 for a closed pipe.
    pub fn status(&self) -> i32 {
        match self {
            RunError::Exit(c) => *c,
            RunError::BrokenPipe => 0,
            _ => 1,
        }
    }

    /// The text `pvm run` prints on standard error (`error: MESSAGE` and the
    /// trace, one `  at NAME (FILE:LINE)` line per frame), if any.
    pub fn report(&self) -> Option<String> {
        match self {
            RunError::Error { message, trace } | RunError::Limit { message, trace } => {
                let mut s = format!("error: {message}\n");
                for t in trace {
                    s.push_str(&format!("  {t}\n"));
                }
                Some(s)
            }
            RunError::Exit(_) | RunError::BrokenPipe => None,
            other => Some(format!("error: {other}\n")),
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The message alone: a host function that passes a pvm error on
            // raises the same message (`report` adds the trace).
            RunError::Error { message, .. } | RunError::Limit { message, .. } => f.write_str(message),
            RunError::Exit(c) => write!(f, "the program called exit({c})"),
            RunError::OutOfFuel => f.write_str("out of fuel"),
            RunError::Interrupted => f.write_str("interrupted"),
            RunError::BrokenPipe => f.write_str("output closed by its reader"),
            RunError::Output(e) => write!(f, "cannot write output: {e}"),
            RunError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

/// One compile error, located in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The file as shown in messages.
    pub file: String,
    /// 1-based line and column (columns count characters).
    pub line: u32,
    pub column: u32,
    /// Where the offending text ends (exclusive), for an editor to underline it.
    pub end_line: u32,
    pub end_column: u32,
    pub message: String,
}

/// Why a module could not be loaded into a VM.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not a well-formed `.pvmc` file.
    Decode(String),
    /// The bytecode did not verify: every problem found.
    Verify(pvm_bytecode::verify::VerifyError),
    /// A native the module imports is missing or has another signature.
    Link(String),
    /// Source code did not compile (source is only loaded with the
    /// `compiler` feature): the rendered diagnostics and each as a value.
    Compile { rendered: String, errors: Vec<SourceError> },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Decode(m) => f.write_str(m),
            LoadError::Verify(e) => e.fmt(f),
            LoadError::Link(m) => write!(f, "cannot link: {m}"),
            LoadError::Compile { rendered, .. } => f.write_str(rendered.trim_end()),
        }
    }
}

impl std::error::Error for LoadError {}
