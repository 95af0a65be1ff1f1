//! What a program may do outside the VM: its output and input, files, its
//! arguments, the clock and `exit`.
//!
//! Every built-in that reaches outside (`print`, `read_line`, `read_file`,
//! `write_file`, `args`, `clock`, `exit`) goes through [`Capabilities`] and
//! the VM's [`Io`]. An embedded VM starts with nothing granted except
//! printing to the process's standard output; `pvm run` grants everything
//! ([`Capabilities::all`]) and lets the container decide what the files are.
//! A denied call is a catchable runtime error that names what was denied.

use crate::error::Trap;
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use web_time::Instant;

/// Reads a whole file for `read_file`: `Ok(text)` or `Err(reason)`.
pub type ReadFn = dyn Fn(&str) -> Result<String, String> + Send + Sync;
/// Writes a whole file for `write_file`.
pub type WriteFn = dyn Fn(&str, &str) -> Result<(), String> + Send + Sync;

/// How one file operation is handled.
#[derive(Default)]
pub enum Access<F: ?Sized> {
    /// Calling it is the runtime error `PERMISSION is not allowed`.
    #[default]
    Deny,
    /// The real file system of the process.
    Files,
    /// The host's own function.
    Custom(Arc<F>),
}

impl<F: ?Sized> Clone for Access<F> {
    fn clone(&self) -> Self {
        match self {
            Access::Deny => Access::Deny,
            Access::Files => Access::Files,
            Access::Custom(f) => Access::Custom(f.clone()),
        }
    }
}

/// What a VM's program may do outside the VM. Cloneable: one value can
/// configure many VMs.
#[derive(Clone, Default)]
pub struct Capabilities {
    pub read_file: Access<ReadFn>,
    pub write_file: Access<WriteFn>,
    /// What `args()` returns; `None` denies it.
    pub args: Option<Vec<String>>,
    /// Whether `exit(n)` may end the run (as [`crate::RunError::Exit`]).
    pub exit: bool,
    /// Whether `clock()` may read the time.
    pub clock: bool,
}

impl Capabilities {
    /// Nothing granted: the default for an embedded VM.
    pub fn none() -> Capabilities {
        Capabilities::default()
    }

    /// Everything granted, with the real file system: what `pvm run` uses.
    pub fn all(args: Vec<String>) -> Capabilities {
        Capabilities {
            read_file: Access::Files,
            write_file: Access::Files,
            args: Some(args),
            exit: true,
            clock: true,
        }
    }
}

/// An in-memory output that can be read after (or while) a VM writes to it:
/// give a clone to [`crate::Vm::set_output`] and keep one.
#[derive(Clone, Default, Debug)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn new() -> Captured {
        Captured::default()
    }

    /// Everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    /// Empties the buffer.
    pub fn clear(&self) {
        if let Ok(mut b) = self.0.lock() {
            b.clear();
        }
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned output buffer"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Output is written to its destination when this much is buffered.
const OUT_CHUNK: usize = 1 << 15;

/// A VM's streams and the state of its capabilities.
pub(crate) struct Io {
    out: Box<dyn Write + Send>,
    buf: Vec<u8>,
    /// Write out at every newline (when output is a terminal).
    line_buffered: bool,
    input: Box<dyn BufRead + Send>,
    pub(crate) caps: Capabilities,
    pub(crate) started: Instant,
}

impl Io {
    pub(crate) fn new(caps: Capabilities) -> Io {
        Io {
            out: Box::new(std::io::stdout()),
            buf: Vec::with_capacity(1 << 12),
            line_buffered: false,
            input: Box::new(std::io::empty()),
            caps,
            started: Instant::now(),
        }
    }

    pub(crate) fn set_output(&mut self, w: Box<dyn Write + Send>, line_buffered: bool) -> Result<(), Trap> {
        self.flush()?;
        self.out = w;
        self.line_buffered = line_buffered;
        Ok(())
    }

    pub(crate) fn set_input(&mut self, r: Box<dyn BufRead + Send>) {
        self.input = r;
    }

    /// Buffers output; writes it out when the buffer is full, or at a
    /// newline when line-buffered.
    pub(crate) fn write(&mut self, b: &[u8]) -> Result<(), Trap> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= OUT_CHUNK || (self.line_buffered && b.contains(&b'\n')) {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes buffered output; a closed pipe becomes [`Trap::BrokenPipe`].
    pub(crate) fn flush(&mut self) -> Result<(), Trap> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let r = self.out.write_all(&self.buf).and_then(|_| self.out.flush());
        self.buf.clear();
        r.map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => Trap::BrokenPipe,
            _ => Trap::Output(e.to_string()),
        })
    }

    /// The next line of input without its newline, or `None` at the end.
    pub(crate) fn read_line(&mut self) -> Result<Option<String>, Trap> {
        self.flush()?;
        let mut line = String::new();
        let got = self
            .input
            .read_line(&mut line)
            .map_err(|e| Trap::Error(format!("read_line failed: {e}")))?;
        if got == 0 {
            return Ok(None);
        }
        if line.ends_with('\n') {
            line.pop();
        }
        Ok(Some(line))
    }
}

/// The error for a capability the host did not grant.
pub(crate) fn denied(what: &str) -> Trap {
    Trap::Error(format!("{what} is not allowed in this VM (the host has not granted it)"))
}
