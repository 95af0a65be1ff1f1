//! # pvm: a process virtual machine
//!
//! This crate loads, verifies and runs the bytecode produced by
//! [`pvm_compiler`]. Reading order for the curious:
//!
//! * [`verify`]: why a module from anywhere is safe to run.
//! * [`interp`]: the register interpreter, one `match` arm per instruction.
//! * [`heap`]: objects and the precise mark-sweep collector.
//! * [`natives`]: built-in functions and how a host adds its own.
//! * [`format`]: how values become text.
//!
//! Embedding in a few lines:
//!
//! ```
//! use pvm::{Vm, Config, Outcome};
//! let module = pvm_compiler::compile_source("demo.pvm", "fn main() { let x = 6 * 7; }").unwrap();
//! let mut vm = Vm::new(module, Config::default()).expect("verifies");
//! assert!(matches!(vm.run_main(), Outcome::Finished));
//! ```

pub mod format;
pub mod heap;
pub mod interp;
pub mod natives;
pub mod verify;

use heap::{Heap, Layouts};
use natives::{NativeFn, Natives};
use pvm_compiler::bytecode::{Const, FuncKind, Instr, Module, Type};
use std::io::Write;
use std::time::Instant;

/// Why execution stopped abnormally, as raised inside the VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trap {
    /// A catchable runtime error or `throw`, with its message.
    Error(String),
    /// `exit(code)`: not catchable.
    Exit(i32),
    /// A resource limit (heap, stack depth of the host...): not catchable.
    Limit(String),
    /// Standard output was closed by the reader: stop quietly.
    BrokenPipe,
}

/// One line of a stack trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLine {
    pub function: String,
    pub file: String,
    pub line: u32,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    Exit(i32),
    /// An uncaught error (message, trace innermost first).
    Error(String, Vec<TraceLine>),
    /// A resource limit was exceeded.
    Limit(String, Vec<TraceLine>),
    BrokenPipe,
}

impl Outcome {
    /// The process exit status for this outcome (LANGUAGE.md).
    pub fn status(&self) -> i32 {
        match self {
            Outcome::Finished | Outcome::BrokenPipe => 0,
            Outcome::Exit(c) => *c,
            Outcome::Error(..) | Outcome::Limit(..) => 1,
        }
    }

    /// The text to print on standard error, if any.
    pub fn report(&self) -> Option<String> {
        let (msg, trace) = match self {
            Outcome::Error(m, t) | Outcome::Limit(m, t) => (m, t),
            _ => return None,
        };
        let mut s = format!("error: {msg}\n");
        for t in trace {
            s.push_str(&format!("  at {} ({}:{})\n", t.function, t.file, t.line));
        }
        Some(s)
    }
}

/// Settings for one VM.
#[derive(Debug, Clone)]
pub struct Config {
    /// Heap limit in bytes.
    pub max_heap: usize,
    /// Collect at every allocation (for testing the collector).
    pub gc_stress: bool,
    /// Count instructions (for `--stats`).
    pub count_instructions: bool,
    /// Print every instruction as it runs (for `--trace`).
    pub trace: bool,
    /// Arguments visible to `args()`.
    pub args: Vec<String>,
    /// Maximum call depth before `stack overflow`.
    pub max_depth: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_heap: 1 << 30,
            gc_stress: false,
            count_instructions: false,
            trace: false,
            args: Vec::new(),
            max_depth: 200_000,
        }
    }
}

/// Why a module could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    Verify(verify::VerifyError),
    /// A native the module imports is missing or has another signature.
    Native(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Verify(e) => e.fmt(f),
            LoadError::Native(m) => write!(f, "cannot link: {m}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Per-function data the interpreter needs at hand.
pub(crate) struct FuncRt {
    pub code: Box<[Instr]>,
    pub nregs: usize,
    pub nparams: usize,
    pub ncaps: usize,
    pub ref_regs: Box<[u16]>,
}

/// A loaded, verified program and its runtime state.
pub struct Vm {
    pub module: Module,
    pub(crate) funcs: Vec<FuncRt>,
    pub heap: Heap,
    pub(crate) stack: Vec<u64>,
    pub(crate) frames: Vec<interp::Frame>,
    pub(crate) handlers: Vec<interp::Handler>,
    pub(crate) globals: Vec<u64>,
    pub(crate) global_refs: Vec<usize>,
    pub(crate) consts: Vec<u64>,
    pub(crate) static_closures: Vec<u64>,
    pub(crate) natives: Vec<NativeFn>,
    pub(crate) native_arity: Vec<usize>,
    /// Whether each native returns a value (to be stored in the call's `dst`).
    pub(crate) native_returns: Vec<bool>,
    /// Objects that live as long as the VM: string constants and the values
    /// of top-level functions. The collector marks them as roots.
    pub(crate) permanent: Vec<u64>,
    /// `vtable[class * slots + slot]` = method function, or `u32::MAX`.
    pub(crate) vtable: Vec<u32>,
    pub(crate) slots: usize,
    pub(crate) str_array_ty: u32,
    out: Vec<u8>,
    pub args: Vec<String>,
    pub started: Instant,
    pub instructions: u64,
    pub(crate) config: Config,
}

/// Stack slots reserved for registers (pages are only touched when used).
const STACK_SLOTS: usize = 1 << 23;

impl Vm {
    /// Verifies and links a module against the standard natives.
    pub fn new(module: Module, config: Config) -> Result<Vm, LoadError> {
        Vm::with_natives(module, config, &Natives::standard())
    }

    /// Verifies and links a module against the given natives.
    pub fn with_natives(module: Module, config: Config, natives: &Natives) -> Result<Vm, LoadError> {
        verify::verify(&module).map_err(LoadError::Verify)?;
        let mut linked = Vec::new();
        let mut arity = Vec::new();
        let mut returns = Vec::new();
        for imp in &module.natives {
            let def = natives
                .by_name
                .get(&imp.name)
                .ok_or_else(|| LoadError::Native(format!("no native function `{}`", imp.name)))?;
            let Some(Type::Func(ps, r)) = module.types.get(imp.sig as usize) else {
                return Err(LoadError::Native(format!("bad signature for `{}`", imp.name)));
            };
            let ok = ps.len() == def.params.len()
                && ps.iter().zip(&def.params).all(|(t, p)| p.matches(&module, *t))
                && def.ret.matches(&module, *r);
            if !ok || ps.len() > 8 {
                return Err(LoadError::Native(format!(
                    "native function `{}` has a different signature",
                    imp.name
                )));
            }
            linked.push(def.f);
            arity.push(ps.len());
            returns.push(def.ret != natives::ValType::Void);
        }
        let m = &module;
        let is_ref = |t: u16| m.types.get(t as usize).map(|t| t.is_ref()).unwrap_or(false);
        let mut layouts = Layouts::default();
        for t in &m.types {
            let (er, ks) = match t {
                Type::Array(e) | Type::Cell(e) => (is_ref(*e), false),
                Type::Map(k, v) => (is_ref(*v), matches!(m.types.get(*k as usize), Some(Type::Str))),
                _ => (false, false),
            };
            layouts.elem_is_ref.push(er);
            layouts.key_is_str.push(ks);
        }
        for c in &m.classes {
            layouts.class_fields.push(c.fields.len() as u32);
            layouts.class_ref_fields.push(
                c.fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| is_ref(f.ty))
                    .map(|(i, _)| i as u32)
                    .collect(),
            );
        }
        let mut funcs = Vec::new();
        for f in &m.functions {
            layouts.capture_refs.push(
                f.regs[f.params as usize..(f.params + f.captures) as usize]
                    .iter()
                    .map(|t| is_ref(*t))
                    .collect(),
            );
            funcs.push(FuncRt {
                code: f.code.clone().into_boxed_slice(),
                nregs: f.regs.len(),
                nparams: f.params as usize,
                ncaps: f.captures as usize,
                ref_regs: f
                    .regs
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| is_ref(**t))
                    .map(|(i, _)| i as u16)
                    .collect(),
            });
        }
        let slots: usize = m.interfaces.iter().map(|i| i.methods.len()).sum();
        let mut vtable = vec![u32::MAX; m.classes.len() * slots];
        for (ci, c) in m.classes.iter().enumerate() {
            for &ii in &c.interfaces {
                let iface = &m.interfaces[ii as usize];
                for (k, (name, _)) in iface.methods.iter().enumerate() {
                    if let Some((_, fid)) = c.methods.iter().find(|x| &x.0 == name) {
                        vtable[ci * slots + iface.first_slot as usize + k] = *fid as u32;
                    }
                }
            }
        }
        let str_ty = m.types.iter().position(|t| *t == Type::Str);
        let str_array_ty = str_ty
            .and_then(|s| m.types.iter().position(|t| *t == Type::Array(s as u16)))
            .unwrap_or(u32::MAX as usize) as u32;
        let global_refs = m.globals.iter().enumerate().filter(|(_, g)| is_ref(g.ty)).map(|(i, _)| i).collect();
        let mut heap = Heap::new(config.max_heap, config.gc_stress, layouts);
        // Constants and top-level function values live as long as the VM.
        let consts: Vec<u64> = m
            .consts
            .iter()
            .map(|c| match c {
                Const::Int(i) => *i as u64,
                Const::Float(f) => f.to_bits(),
                Const::Str(s) => heap.alloc_str(s) as u64,
            })
            .collect();
        let static_closures: Vec<u64> = m
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if f.kind == FuncKind::Function {
                    heap.alloc_closure(i as u32, Box::new([])) as u64
                } else {
                    0
                }
            })
            .collect();
        let permanent = m
            .consts
            .iter()
            .zip(&consts)
            .filter(|(c, _)| matches!(c, Const::Str(_)))
            .map(|(_, v)| *v)
            .chain(static_closures.iter().copied().filter(|v| *v != 0))
            .collect();
        let globals = vec![0; m.globals.len()];
        Ok(Vm {
            funcs,
            heap,
            stack: vec![0; STACK_SLOTS],
            frames: Vec::new(),
            handlers: Vec::new(),
            globals,
            global_refs,
            consts,
            static_closures,
            natives: linked,
            native_arity: arity,
            native_returns: returns,
            permanent,
            vtable,
            slots,
            str_array_ty,
            out: Vec::with_capacity(1 << 16),
            args: config.args.clone(),
            started: Instant::now(),
            instructions: 0,
            config,
            module,
        })
    }

    /// Runs every file's global initialisers, then `main`, and flushes output.
    pub fn run_main(&mut self) -> Outcome {
        let mut outcome = Outcome::Finished;
        let entries: Vec<u16> = self.module.inits.iter().copied().chain([self.module.main]).collect();
        for f in entries {
            outcome = self.call(f);
            if outcome != Outcome::Finished {
                break;
            }
        }
        if self.flush_out().is_err() && outcome == Outcome::Finished {
            outcome = Outcome::BrokenPipe;
        }
        outcome
    }

    // ------------------------------------------------------------ helpers for natives

    /// The text of a `str` argument (`nil reference` if nil).
    pub fn str_arg(&self, v: u64) -> Result<&str, Trap> {
        if v == 0 {
            return Err(Trap::Error("nil reference".into()));
        }
        // SAFETY: a verified module only passes strings where a native takes
        // `str`; the string stays alive while the native runs because it is in
        // a register, and collection only happens between instructions. The
        // borrow of `self` keeps the text from outliving the call's use of
        // the VM: a native copies it before allocating.
        Ok(unsafe { heap::str_ref(v as *const heap::StrObj) })
    }

    /// The strings of a `[str]` argument.
    pub fn str_array_arg(&self, v: u64) -> Result<Vec<String>, Trap> {
        if v == 0 {
            return Err(Trap::Error("nil reference".into()));
        }
        // SAFETY: as for `str_arg`, for an array of strings.
        let a = unsafe { &*(v as *const heap::ArrayObj) };
        a.data.iter().map(|&s| self.str_arg(s).map(str::to_string)).collect()
    }

    /// Allocates a string.
    pub fn new_str(&mut self, s: &str) -> u64 {
        self.heap.alloc_str(s) as u64
    }

    /// Allocates a `[str]`.
    pub fn new_str_array(&mut self, items: &[String]) -> u64 {
        let data: Vec<u64> = items.iter().map(|s| self.heap.alloc_str(s) as u64).collect();
        self.heap.alloc_array(self.str_array_ty, data) as u64
    }

    /// Buffers bytes for standard output.
    pub fn write_out(&mut self, b: &[u8]) -> Result<(), Trap> {
        self.out.extend_from_slice(b);
        if self.out.len() >= 1 << 15 {
            self.flush_out()?;
        }
        Ok(())
    }

    /// Writes buffered output; a closed pipe becomes [`Trap::BrokenPipe`].
    pub fn flush_out(&mut self) -> Result<(), Trap> {
        if self.out.is_empty() {
            return Ok(());
        }
        let mut so = std::io::stdout().lock();
        let r = so.write_all(&self.out).and_then(|_| so.flush());
        self.out.clear();
        r.map_err(|_| Trap::BrokenPipe)
    }
}
