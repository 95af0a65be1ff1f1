//! # pvm: the runtime of the pvm virtual machine
//!
//! This crate loads verified bytecode ([`pvm_bytecode::Module`]) and runs
//! it: the interpreter, the heap and its collector, the built-in natives,
//! and the API a Rust host program uses to embed pvm. With the `compiler`
//! feature (on by default) it also compiles source text; without it, it
//! links no parser at all and loads `.pvmc` files only.
//!
//! Reading order for the curious:
//!
//! * [`Vm`] (this file): loading, linking, calling in and out, limits;
//! * `interp`: the register interpreter, one `match` arm per instruction;
//! * `heap`: objects and the precise mark-sweep collector;
//! * `natives`: the built-in functions, and how natives are linked;
//! * [`host`] and [`value`]: host functions and the Rust ⇄ pvm values;
//! * `format`: how values become text.
//!
//! ## Embedding in a few lines
//!
//! ```
//! use pvm::{Captured, Config, Host, RunError, Vm};
//!
//! // Host functions are closures; the script's type checker sees them.
//! let mut host = Host::new();
//! host.func("tax_rate", |region: String| if region == "EU" { 0.2 } else { 0.1 }).unwrap();
//!
//! let src = r#"
//!     let calls = 0;
//!     fn price(net: float, region: str) -> float {
//!         calls += 1;
//!         return net * (1.0 + tax_rate(region));
//!     }
//!     fn spin() { while true { } }
//! "#;
//! let mut vm = Vm::from_source("rules.pvm", src, &host, Config::default()).unwrap();
//! let out = Captured::new();
//! vm.set_output(out.clone());
//!
//! // Typed calls: a wrong signature is an error here, at lookup.
//! let price = vm.func::<(f64, String), f64>("price").unwrap();
//! assert_eq!(price.call(&mut vm, (100.0, "EU".into())).unwrap(), 120.0);
//! assert!(vm.func::<(i64,), f64>("price").is_err());
//!
//! // Bounded: a runaway call runs out of fuel instead of hanging the host.
//! vm.set_fuel(Some(10_000));
//! let spin = vm.func::<(), ()>("spin").unwrap();
//! assert_eq!(spin.call(&mut vm, ()), Err(RunError::OutOfFuel));
//! ```
//!
//! Errors come back as [`RunError`] values with the pvm stack trace;
//! [`InterruptHandle`] stops a run from another thread; [`Vm::set_output`]
//! and [`Vm::set_input`] redirect `print` and `read_line`; [`Capabilities`]
//! decide what `read_file`, `write_file`, `args`, `exit` and `clock` may
//! do (nothing, by default). A `Vm` is `Send`, and VMs share nothing: run
//! as many as you like, on any threads.

// The JIT's code reads heap objects at the 64-bit offsets of
// `pvm_bytecode::layout`, which `heap/object.rs` checks only on 64-bit
// targets (Cranelift's hosts are all 64-bit anyway).
#[cfg(all(feature = "jit", not(target_pointer_width = "64")))]
compile_error!("the `jit` feature needs a 64-bit target; build the runtime with `--no-default-features --features compiler`");

mod config;
mod error;
pub mod explore;
mod format;
mod frames;
mod heap;
pub mod host;
mod interp;
mod io;
#[cfg(feature = "jit")]
mod jit_glue;
#[cfg(feature = "jit-listing")]
mod jit_listing;
#[cfg(feature = "jit")]
mod native_stack;
mod natives;
mod stack;
mod trace;
pub mod value;

pub use config::{Config, JitMode, TraceMode};
pub use error::{LoadError, RunError, SourceError, TraceLine};
pub use host::{Caller, Host, HostError};
pub use indexmap::IndexMap;
pub use io::{Access, Capabilities, Captured, ReadFn, WriteFn};
pub use natives::{parse_float, parse_int};
pub use pvm_bytecode as bytecode;
pub use pvm_bytecode::Module;
#[cfg(feature = "compiler")]
pub use pvm_compiler;
pub use value::{ConvError, PvmArgs, PvmKey, PvmType};

use error::Trap;
pub use heap::{GcMode, GcStats};
use heap::{Heap, Layouts};
use natives::Linked;
use pvm_bytecode::{Const, FuncKind, Instr, Type, TypeId};
use pvm_stdlib::Ty;
use std::any::Any;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Per-function data the interpreter needs at hand.
pub(crate) struct FuncRt {
    pub code: Box<[Instr]>,
    pub nregs: usize,
    pub nparams: usize,
    pub ncaps: usize,
    pub ref_regs: Box<[u32]>,
    /// It returns a value (not `void`).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub returns: bool,
}

/// One interface a class implements: global method slots `first..end`
/// dispatch to `itable_funcs[base + slot - first]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ITable {
    pub first: u32,
    pub end: u32,
    pub base: u32,
}

/// Checkpoints (function entries and loop back edges) paid for at once;
/// the interrupt flag is looked at once per chunk, so a run stops within
/// this many checkpoints of being interrupted.
const FUEL_CHUNK: u64 = 1024;

/// What a suspended run (out of fuel, interrupted) was doing for the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// Nothing is suspended.
    None,
    /// A call from the host: resume it to get its result.
    Call,
    /// `run_main`'s initialisers and `main`, this entry next after the
    /// suspended one.
    Main { next: usize },
    /// An initialiser run before a call from the host.
    Init,
}

/// A loaded, verified program and its runtime state.
pub struct Vm {
    pub(crate) module: Module,
    pub(crate) funcs: Vec<FuncRt>,
    pub(crate) heap: Heap,
    pub(crate) stack: stack::RegStack,
    pub(crate) frames: frames::FrameStack,
    pub(crate) handlers: Vec<interp::Handler>,
    pub(crate) globals: Vec<u64>,
    pub(crate) global_refs: Vec<usize>,
    pub(crate) consts: Vec<u64>,
    pub(crate) static_closures: Vec<u64>,
    pub(crate) natives: Arc<[Linked]>,
    /// Objects that live as long as the VM: string constants and the values
    /// of top-level functions. The collector marks them as roots.
    pub(crate) permanent: Vec<u64>,
    /// Values natives hold while pvm code runs (see `natives::generic`):
    /// roots for the collector.
    pub(crate) roots: Vec<u64>,
    /// Interface dispatch, per class: for each interface it implements,
    /// the range of global method slots and where its methods start in
    /// `itable_funcs`. Memory is proportional to the methods that exist.
    pub(crate) itables: Vec<Box<[ITable]>>,
    pub(crate) itable_funcs: Vec<u32>,
    pub(crate) io: io::Io,
    pub(crate) instructions: u64,
    pub(crate) config: Config,
    /// Checkpoints still paid for (see [`FUEL_CHUNK`]).
    pub(crate) ticks: i64,
    /// Fuel not yet handed to `ticks`; `u64::MAX` for unlimited.
    fuel_left: u64,
    fuel_limited: bool,
    pub(crate) interrupt: Arc<AtomicBool>,
    /// How many initialisers have run to completion.
    inits_done: usize,
    pending: Pending,
    /// A trap that must not be caught by pvm code (a limit, `exit`, a
    /// suspension), met by a call from a host function back into pvm; it
    /// is raised again when the host function returns.
    pub(crate) nested_trap: Option<Trap>,
    /// This VM's identity: a [`Func`] holds a clone and only calls here.
    token: Arc<()>,
    /// Trace lines of an error that left a nested activation (a callback
    /// from a native), innermost first; completed by the outer ones.
    pub(crate) pending_trace: Vec<TraceLine>,
    /// The state of `--trace=values` and `--trace=json` (see `trace`).
    pub(crate) tracer: Option<Box<trace::Tracer>>,
    data: Option<Box<dyn Any + Send>>,
    /// The JIT, when on (see `jit_glue`).
    #[cfg(feature = "jit")]
    pub(crate) jit: Option<jit_glue::JitState>,
    /// The error compiled code (or a helper it called) raised, until the
    /// VM takes it.
    #[cfg(feature = "jit")]
    pub(crate) jit_trap: Option<Trap>,
    /// The machine stack runs switch to when the JIT is on.
    #[cfg(feature = "jit")]
    pub(crate) native_stack: Option<native_stack::NativeStack>,
    /// The stack pointer must stay above this in compiled code (0 when not
    /// on the VM's stack).
    #[cfg(feature = "jit")]
    pub(crate) native_limit: usize,
}

// SAFETY: a `Vm` owns everything its raw pointers point to (its heap
// objects and stack); nothing is shared with another VM or kept in
// thread-local state, and the host functions and I/O it holds are `Send`
// (host functions are also `Sync`). Moving it to another thread moves all
// of its state with it.
unsafe impl Send for Vm {}

fn nil() -> Trap {
    Trap::Error("nil reference".into())
}

fn usage(msg: impl Into<String>) -> RunError {
    RunError::Usage(msg.into())
}

impl Vm {
    /// Verifies a module and links it against the built-ins and the host's
    /// functions.
    pub fn new(module: Module, host: &Host, config: Config) -> Result<Vm, LoadError> {
        pvm_bytecode::verify::verify(&module).map_err(LoadError::Verify)?;
        let natives = natives::link(&module, &host.funcs).map_err(LoadError::Link)?;
        let vm = Vm::link(module, natives, host.caps.clone(), config);
        #[cfg(feature = "jit")]
        let vm = {
            let mut vm = vm;
            vm.start_jit();
            vm
        };
        Ok(vm)
    }

    /// Decodes a `.pvmc` file's bytes, then as [`Vm::new`].
    pub fn from_bytecode(bytes: &[u8], host: &Host, config: Config) -> Result<Vm, LoadError> {
        let m = pvm_bytecode::format::decode(bytes).map_err(|e| LoadError::Decode(e.to_string()))?;
        Vm::new(m, host, config)
    }

    /// Compiles source text, type-checking calls of the host's functions;
    /// then as [`Vm::new`]. It may import the standard modules (`std/...`)
    /// and nothing else: a script from an untrusted source reads no file.
    /// ([`Vm::from_source_with`] takes a resolver for other imports.) A
    /// program without `main` is fine here: the host calls its functions.
    #[cfg(feature = "compiler")]
    pub fn from_source(name: &str, source: &str, host: &Host, config: Config) -> Result<Vm, LoadError> {
        Vm::from_source_with(name, source, &pvm_compiler::NoImports, host, config)
    }

    /// As [`Vm::from_source`], with imports served by `resolver` (for
    /// example a [`pvm_compiler::MemoryResolver`] of modules held in memory).
    #[cfg(feature = "compiler")]
    pub fn from_source_with(
        name: &str,
        source: &str,
        resolver: &dyn pvm_compiler::Resolver,
        host: &Host,
        config: Config,
    ) -> Result<Vm, LoadError> {
        let sigs = host.signatures();
        let opts = pvm_compiler::Options {
            host: &sigs,
            resolver,
            require_main: false,
        };
        let (m, _) = pvm_compiler::compile_source_with(name, source, &opts).map_err(compile_error)?;
        Vm::new(m, host, config)
    }

    /// Compiles the program in file `path`, with its imports read from disk
    /// relative to it (see [`Vm::from_source`]).
    #[cfg(feature = "compiler")]
    pub fn from_file(path: &str, host: &Host, config: Config) -> Result<Vm, LoadError> {
        let sigs = host.signatures();
        let opts = pvm_compiler::Options {
            host: &sigs,
            resolver: &pvm_compiler::FsResolver,
            require_main: false,
        };
        let (m, _) = pvm_compiler::compile_file_with(path, &opts).map_err(compile_error)?;
        Vm::new(m, host, config)
    }

    /// Builds the runtime state of a verified, linked module.
    fn link(module: Module, natives: Vec<Linked>, caps: Capabilities, config: Config) -> Vm {
        let m = &module;
        let is_ref = |t: u16| m.types.get(t as usize).is_some_and(Type::is_ref);
        let mut layouts = Layouts::default();
        for t in &m.types {
            let (er, ks, eb) = match t {
                Type::Array(e) => (is_ref(*e), false, matches!(m.types.get(*e as usize), Some(Type::Bool))),
                Type::Cell(e) => (is_ref(*e), false, false),
                Type::Map(k, v) => (is_ref(*v), matches!(m.types.get(*k as usize), Some(Type::Str)), false),
                _ => (false, false, false),
            };
            layouts.elem_is_ref.push(er);
            layouts.key_is_str.push(ks);
            layouts.elem_is_bool.push(eb);
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
        let mut funcs = Vec::with_capacity(m.functions.len());
        for f in &m.functions {
            let (p, c) = (f.params as usize, f.captures as usize);
            layouts
                .capture_refs
                .push(f.regs.get(p..p + c).unwrap_or(&[]).iter().map(|t| is_ref(*t)).collect());
            funcs.push(FuncRt {
                code: f.code.clone().into_boxed_slice(),
                nregs: f.regs.len(),
                nparams: p,
                ncaps: c,
                ref_regs: f
                    .regs
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| is_ref(**t))
                    .map(|(i, _)| i as u32)
                    .collect(),
                returns: !matches!(m.types.get(f.ret as usize), Some(Type::Void)),
            });
        }
        // Interface tables (itables), as the JVM has them: a class lists
        // the interfaces it implements, each with its methods in slot order.
        let mut itable_funcs = Vec::new();
        let itables = m
            .classes
            .iter()
            .map(|c| {
                let by_name: std::collections::HashMap<&str, u16> = c.methods.iter().map(|(n, f)| (n.as_str(), *f)).collect();
                let mut v = Vec::with_capacity(c.interfaces.len());
                for &ii in &c.interfaces {
                    let Some(iface) = m.interfaces.get(ii as usize) else { continue };
                    let base = itable_funcs.len() as u32;
                    for (name, _) in &iface.methods {
                        let f = by_name.get(name.as_str()).map(|f| u32::from(*f));
                        // The verifier proved every method is there.
                        itable_funcs.push(f.unwrap_or(u32::MAX));
                    }
                    let n = iface.methods.len() as u32;
                    v.push(ITable {
                        first: u32::from(iface.first_slot),
                        end: u32::from(iface.first_slot) + n,
                        base,
                    });
                }
                v.into_boxed_slice()
            })
            .collect();
        let global_refs = m.globals.iter().enumerate().filter(|(_, g)| is_ref(g.ty)).map(|(i, _)| i).collect();
        let mut heap = Heap::new(config.max_heap, config.gc, config.gc_log, layouts);
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
                    heap.alloc_closure(i as u32, &[]) as u64
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
        if config.trace == Some(TraceMode::Record) {
            // The recorder reports which objects the collector frees.
            heap.freed_log = Some(Vec::new());
        }
        Vm {
            funcs,
            heap,
            stack: stack::RegStack::new(),
            frames: frames::FrameStack::new(config.max_depth),
            handlers: Vec::new(),
            globals,
            global_refs,
            consts,
            static_closures,
            natives: natives.into(),
            permanent,
            roots: Vec::new(),
            itables,
            itable_funcs,
            io: io::Io::new(caps),
            instructions: 0,
            ticks: 0,
            fuel_left: u64::MAX,
            fuel_limited: false,
            interrupt: Arc::new(AtomicBool::new(false)),
            inits_done: 0,
            pending: Pending::None,
            nested_trap: None,
            token: Arc::new(()),
            pending_trace: Vec::new(),
            tracer: config.trace.map(|m| Box::new(trace::Tracer::new(m, config.record_steps))),
            data: None,
            #[cfg(feature = "jit")]
            jit: None,
            #[cfg(feature = "jit")]
            jit_trap: None,
            #[cfg(feature = "jit")]
            native_stack: None,
            #[cfg(feature = "jit")]
            native_limit: 0,
            config,
            module,
        }
    }

    /// The module this VM runs.
    pub fn module(&self) -> &Module {
        &self.module
    }

    // ------------------------------------------------------------ running

    /// Runs every file's global initialisers, then `main`, and flushes the
    /// output. For `pvm run`.
    pub fn run_main(&mut self) -> Result<(), RunError> {
        if self.module.main.is_none() {
            return Err(usage("the program has no `fn main()`"));
        }
        // An initialiser suspended before a call from the host is finished,
        // not run again (its side effects have happened); anything else
        // suspended is dropped.
        if self.pending == Pending::Init {
            self.ensure_init()?;
        } else {
            self.abandon();
        }
        // Initialisers that already ran (before calls from the host) do not
        // run again.
        self.drive_main(self.inits_done)
    }

    /// Continues a suspended [`Vm::run_main`] (after [`RunError::OutOfFuel`]
    /// or [`RunError::Interrupted`]).
    pub fn resume_main(&mut self) -> Result<(), RunError> {
        let Pending::Main { next } = self.pending else {
            return Err(usage("no run_main is suspended"));
        };
        self.pending = Pending::None;
        match self.resume_raw() {
            Ok(_) => self.drive_main(next),
            Err(e) => Err(self.suspend_or_end(e, Pending::Main { next })),
        }
    }

    fn drive_main(&mut self, from: usize) -> Result<(), RunError> {
        let entries: Vec<u16> = self.module.inits.iter().copied().chain(self.module.main).collect();
        for (i, &f) in entries.iter().enumerate().skip(from) {
            if let Err(e) = self.invoke(f, &[]) {
                return Err(self.suspend_or_end(e, Pending::Main { next: i + 1 }));
            }
            self.inits_done = self.inits_done.max((i + 1).min(self.module.inits.len()));
        }
        self.io.flush().map_err(|t| self.run_error(t))
    }

    /// Runs the initialisers of globals that have not run yet. One that
    /// runs out of fuel (or is interrupted) stays suspended: the next call
    /// from the host resumes it before doing anything else.
    fn ensure_init(&mut self) -> Result<(), RunError> {
        if self.pending == Pending::Init {
            self.pending = Pending::None;
            match self.resume_raw() {
                Ok(_) => self.inits_done += 1,
                Err(t) => return Err(self.suspend_or_end(t, Pending::Init)),
            }
        }
        while self.inits_done < self.module.inits.len() {
            let f = self.module.inits[self.inits_done];
            if let Err(t) = self.invoke(f, &[]) {
                return Err(self.suspend_or_end(t, Pending::Init));
            }
            self.inits_done += 1;
        }
        Ok(())
    }

    /// A suspension keeps the frames for resuming; anything else ends the run.
    fn suspend_or_end(&mut self, t: Trap, pending: Pending) -> RunError {
        if t.suspends() {
            self.pending = pending;
        } else {
            self.frames.clear();
            self.handlers.clear();
            let _ = self.io.flush();
        }
        self.run_error(t)
    }

    /// Drops a suspended run, if any.
    fn abandon(&mut self) {
        self.pending = Pending::None;
        self.frames.clear();
        self.handlers.clear();
        self.roots.clear();
        self.pending_trace.clear();
        self.nested_trap = None;
    }

    fn run_error(&mut self, t: Trap) -> RunError {
        let trace = std::mem::take(&mut self.pending_trace);
        match t {
            Trap::Error(message) => RunError::Error { message, trace },
            Trap::Limit(message) => RunError::Limit { message, trace },
            Trap::Exit(c) => {
                let _ = self.io.flush();
                RunError::Exit(c)
            }
            Trap::BrokenPipe => RunError::BrokenPipe,
            Trap::Output(e) => RunError::Output(e),
            Trap::OutOfFuel => RunError::OutOfFuel,
            Trap::Interrupted => RunError::Interrupted,
            Trap::Yield => RunError::Error {
                message: "internal error: a compiled loop's yield escaped the VM".into(),
                trace,
            },
        }
    }

    /// Looks up the top-level function `name` with parameter types `A` and
    /// result `R`. A missing function or another signature is an error
    /// here, not at the call.
    pub fn func<A: PvmArgs, R: PvmType>(&self, name: &str) -> Result<Func<A, R>, RunError> {
        let m = &self.module;
        let id = m
            .functions
            .iter()
            .position(|f| f.kind == FuncKind::Function && f.name == name)
            .ok_or_else(|| usage(format!("no function `{name}`")))?;
        let f = &m.functions[id];
        let want = A::tys();
        let params = f.regs.get(..f.params as usize).unwrap_or(&[]);
        let mut bound = [];
        let ok = want.len() == params.len()
            && want.iter().zip(params).all(|(t, p)| t.matches(&m.types, *p, &mut bound))
            && R::ty().matches(&m.types, f.ret, &mut bound);
        if !ok {
            let sig = |ps: Vec<String>, r: String| match r.as_str() {
                "void" => format!("fn({})", ps.join(", ")),
                _ => format!("fn({}) -> {r}", ps.join(", ")),
            };
            let have = sig(params.iter().map(|p| m.type_name(*p)).collect(), m.type_name(f.ret));
            let asked = sig(want.iter().map(Ty::to_string).collect(), R::ty().to_string());
            return Err(usage(format!("`{name}` is `{have}`, not `{asked}`")));
        }
        Ok(Func {
            vm: self.token.clone(),
            id: id as u16,
            params: params.to_vec(),
            ret: f.ret,
            _sig: PhantomData,
        })
    }

    // ------------------------------------------------------------ limits

    /// Limits the run to `fuel` checkpoints (function entries and loop back
    /// edges), or removes the limit with `None`. The same program consumes
    /// the same fuel on every run.
    pub fn set_fuel(&mut self, fuel: Option<u64>) {
        self.fuel_limited = fuel.is_some();
        self.fuel_left = fuel.unwrap_or(u64::MAX);
        self.ticks = 0;
    }

    /// Adds fuel (to resume a run that ran out).
    pub fn add_fuel(&mut self, fuel: u64) {
        self.fuel_left = self.fuel_left.saturating_add(fuel);
    }

    /// The fuel left, or `None` when unlimited.
    pub fn fuel(&self) -> Option<u64> {
        self.fuel_limited
            .then(|| self.fuel_left.saturating_add(u64::try_from(self.ticks).unwrap_or(0)))
    }

    /// A handle another thread can use to stop this VM's runs.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.interrupt.clone())
    }

    /// Called when `ticks` runs out: pays for the next chunk of
    /// checkpoints, or suspends. The checkpoint that called this has not
    /// been paid for; on `Err` it will run again when the run resumes.
    #[cold]
    #[inline(never)]
    pub(crate) fn refuel(&mut self) -> Result<(), Trap> {
        self.ticks = 0;
        if self.interrupt.swap(false, Ordering::Relaxed) {
            return Err(Trap::Interrupted);
        }
        let n = if self.fuel_limited {
            self.fuel_left.min(FUEL_CHUNK)
        } else {
            FUEL_CHUNK
        };
        if n == 0 {
            return Err(Trap::OutOfFuel);
        }
        if self.fuel_limited {
            self.fuel_left -= n;
        }
        // This checkpoint takes one of the n.
        self.ticks = n as i64 - 1;
        Ok(())
    }

    // ------------------------------------------------------------ host I/O

    /// Sends the program's output (`print`, `println`) to `w`.
    pub fn set_output(&mut self, w: impl std::io::Write + Send + 'static) {
        let _ = self.io.set_output(Box::new(w), false);
    }

    /// Sends the trace (`Config::trace`) to `w` instead of standard error.
    pub fn set_trace_output(&mut self, w: impl std::io::Write + Send + 'static) {
        if let Some(t) = &mut self.tracer {
            t.set_output(Box::new(w));
        }
    }

    /// Sends output to `w`, writing it out at every newline (for terminals).
    pub fn set_output_line_buffered(&mut self, w: impl std::io::Write + Send + 'static) {
        let _ = self.io.set_output(Box::new(w), true);
    }

    /// Makes `read_line` read from `r` (by default it finds no input).
    pub fn set_input(&mut self, r: impl std::io::BufRead + Send + 'static) {
        self.io.set_input(Box::new(r));
    }

    /// Writes out buffered output.
    pub fn flush(&mut self) -> Result<(), RunError> {
        self.io.flush().map_err(|t| self.run_error(t))
    }

    /// Stores host data, reachable from host functions through
    /// [`Caller::data_mut`].
    pub fn set_data<T: Any + Send>(&mut self, data: T) {
        self.data = Some(Box::new(data));
    }

    /// The host data, if it is a `T`.
    pub fn data<T: 'static>(&self) -> Option<&T> {
        self.data.as_ref()?.downcast_ref()
    }

    /// The host data, mutably, if it is a `T`.
    pub fn data_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.data.as_mut()?.downcast_mut()
    }

    /// Counters of the run so far.
    pub fn stats(&self) -> Stats {
        Stats {
            instructions: self.instructions,
            gc: self.heap.stats(),
            heap: self.heap.bytes,
            footprint: self.heap.footprint(),
            #[cfg(feature = "jit")]
            jit: self.jit_stats(),
            #[cfg(not(feature = "jit"))]
            jit: JitStats::default(),
        }
    }

    // ------------------------------------------------------------ for natives and conversions

    /// The text of a `str` argument (`nil reference` if nil).
    pub(crate) fn str_arg(&self, v: u64) -> Result<&str, Trap> {
        // SAFETY: natives receive `str` arguments only where the linker
        // matched a `str` parameter; such a slot holds nil or a live string.
        unsafe { self.str_of(v) }.ok_or_else(nil)
    }

    /// # Safety
    /// `v` must be a slot of type `str`.
    pub(crate) unsafe fn str_of(&self, v: u64) -> Option<&str> {
        // SAFETY: the caller's promise; the borrow of `self` keeps the text
        // from outliving a use of the VM that could free it.
        (v != 0).then(|| unsafe { heap::str_ref(v as *const heap::StrObj) })
    }

    /// Allocates a string.
    pub(crate) fn new_str(&mut self, s: &str) -> u64 {
        self.heap.alloc_str(s) as u64
    }

    /// Allocates an array of type `ty` holding `items`.
    pub(crate) fn new_array(&mut self, ty: TypeId, items: &[u64]) -> u64 {
        self.heap.alloc_array(u32::from(ty), items) as u64
    }

    /// Allocates an empty map of type `ty`.
    pub(crate) fn new_map(&mut self, ty: TypeId) -> u64 {
        self.heap.alloc_map(u32::from(ty)) as u64
    }

    /// # Safety
    /// `map` must be a live map; `k` and `v` slots of its key and value types.
    pub(crate) unsafe fn map_insert(&mut self, map: u64, k: u64, v: u64) {
        // SAFETY: the caller's promise.
        unsafe { self.heap.map_insert(map as *mut heap::MapObj, k, v) }
    }

    /// # Safety
    /// `v` must be a slot of a map type.
    pub(crate) unsafe fn map_entries(&self, v: u64) -> Option<Vec<(u64, u64)>> {
        // SAFETY: the caller's promise.
        (v != 0).then(|| unsafe { (*(v as *const heap::MapObj)).iter().map(|e| (e.key, e.value)).collect() })
    }

    /// # Safety
    /// `v` must be a slot of an array type.
    pub(crate) unsafe fn array_items(&self, v: u64) -> Option<Vec<u64>> {
        // SAFETY: the caller's promise.
        (v != 0).then(|| unsafe { (*(v as *const heap::ArrayObj)).to_vec() })
    }

    /// # Safety
    /// `v` must be a slot of an array type.
    pub(crate) unsafe fn array_len(&self, v: u64) -> Option<usize> {
        // SAFETY: the caller's promise.
        (v != 0).then(|| unsafe { (*(v as *const heap::ArrayObj)).len })
    }

    /// Element `i`, or `None` when out of range.
    /// # Safety
    /// `v` must be a non-nil slot of an array type.
    pub(crate) unsafe fn array_get(&self, v: u64, i: i64) -> Option<u64> {
        // SAFETY: the caller's promise; `i` is checked against the length.
        let a = unsafe { &*(v as *const heap::ArrayObj) };
        usize::try_from(i).ok().filter(|&i| i < a.len).map(|i| unsafe { a.get(i) })
    }

    /// Overwrites every element (through the write barrier); `false` (and
    /// nothing written) if the lengths differ.
    /// # Safety
    /// `v` must be a non-nil slot of an array type, `items` values of its
    /// element type that are alive.
    pub(crate) unsafe fn array_replace(&mut self, v: u64, items: &[u64]) -> bool {
        let a = v as *mut heap::ArrayObj;
        // SAFETY: the caller's promise.
        unsafe {
            if (*a).len != items.len() {
                return false;
            }
            for (i, x) in items.iter().enumerate() {
                self.heap.array_set(a, i, *x);
            }
        }
        true
    }

    /// The element type of array type `ty`.
    pub(crate) fn elem_type(&self, ty: TypeId) -> TypeId {
        match self.module.types.get(ty as usize) {
            Some(Type::Array(e)) => *e,
            _ => ty,
        }
    }

    pub(crate) fn is_ref_type(&self, ty: TypeId) -> bool {
        self.module.types.get(ty as usize).is_some_and(Type::is_ref)
    }

    /// Makes `items` roots of the collector until [`Vm::pop_roots`]; returns
    /// where they start. For references only.
    pub(crate) fn push_roots(&mut self, items: &[u64]) -> usize {
        let base = self.roots.len();
        self.roots.extend_from_slice(items);
        base
    }

    pub(crate) fn set_roots(&mut self, base: usize, items: &[u64]) {
        if let Some(r) = self.roots.get_mut(base..base + items.len()) {
            r.copy_from_slice(items);
        }
    }

    pub(crate) fn pop_roots(&mut self, base: usize) {
        self.roots.truncate(base);
    }

    /// Bytes the heap can still grow by before its limit.
    pub(crate) fn heap_room(&self) -> usize {
        self.heap.max.saturating_sub(self.heap.bytes)
    }

    pub(crate) fn heap_limit_trap(&self) -> Trap {
        Trap::Limit(format!("heap limit exceeded ({} bytes)", self.heap.max))
    }

    /// `print`/`println` of a `str` slot.
    pub(crate) fn print_slot(&mut self, v: u64, newline: bool) -> Result<(), Trap> {
        if v == 0 {
            return Err(nil());
        }
        // SAFETY: only called with `print_str`/`println_str`'s `str`
        // argument, a live string. Writing to `io` touches no heap object,
        // so the bytes stay valid while they are copied.
        let bytes = unsafe { heap::str_bytes(v as *const heap::StrObj) };
        self.io.write(bytes)?;
        if newline {
            self.io.write(b"\n")?;
        }
        Ok(())
    }
}

#[cfg(feature = "compiler")]
fn compile_error(e: pvm_compiler::CompileError) -> LoadError {
    LoadError::Compile {
        rendered: e.render(),
        errors: e
            .errors()
            .into_iter()
            .map(|l| SourceError {
                file: l.file,
                line: l.line,
                column: l.column,
                end_line: l.end_line,
                end_column: l.end_column,
                message: l.message,
            })
            .collect(),
    }
}

/// Counters of a VM's work so far (`pvm run --stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Instructions executed (counted only with [`Config::count_instructions`]).
    pub instructions: u64,
    /// What the collector did.
    pub gc: GcStats,
    /// Bytes the heap holds now.
    pub heap: usize,
    /// Bytes the heap has taken from the system.
    pub footprint: usize,
    /// What the JIT did.
    pub jit: JitStats,
}

/// What the JIT did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JitStats {
    /// Functions compiled to machine code.
    pub compiled: u64,
    /// Time spent compiling them.
    pub compile_time: std::time::Duration,
    /// Bytes of machine code made.
    pub code_bytes: u64,
    /// Time spent running compiled code (measured only with
    /// [`Config::count_instructions`], as `--stats` sets it).
    pub compiled_time: std::time::Duration,
}

/// A typed handle on a top-level pvm function, from [`Vm::func`].
pub struct Func<A, R> {
    /// The VM this function belongs to.
    vm: Arc<()>,
    id: u16,
    params: Vec<TypeId>,
    ret: TypeId,
    _sig: PhantomData<fn(A) -> R>,
}

impl<A, R> Clone for Func<A, R> {
    fn clone(&self) -> Self {
        Func {
            vm: self.vm.clone(),
            id: self.id,
            params: self.params.clone(),
            ret: self.ret,
            _sig: PhantomData,
        }
    }
}

impl<A: PvmArgs, R: PvmType> Func<A, R> {
    /// Calls the function. Globals keep their values between calls; the
    /// initialisers run before the first call. Called from a host function
    /// (through [`Caller::call`]), this re-enters the VM.
    pub fn call(&self, vm: &mut Vm, args: A) -> Result<R, RunError> {
        if !Arc::ptr_eq(&self.vm, &vm.token) {
            return Err(usage("this function belongs to another VM"));
        }
        let nested = !vm.frames.is_empty() && vm.pending == Pending::None;
        if !nested {
            if vm.pending != Pending::Init {
                vm.abandon();
            }
            vm.ensure_init()?;
        }
        // The host's own allocations (arguments, results) happen outside
        // the interpreter's safepoints: collect here, while no converted
        // value is held outside the VM's roots.
        if vm.heap.wants_gc() {
            vm.gc_step().map_err(|t| vm.run_error(t))?;
        }
        let slots: Vec<u64> = args.into_slots(vm, &self.params).into_iter().map(|s| s.0).collect();
        match vm.invoke(self.id, &slots) {
            Ok(v) => self.finish(vm, v),
            Err(t) if nested => {
                // Inside a host function: the error unwinds through it to
                // the pvm code that called it. What pvm code must not catch
                // is kept, and raised again when the host function returns.
                if !t.catchable() {
                    vm.nested_trap = Some(t.clone());
                }
                Err(vm.run_error(t))
            }
            Err(t) => Err(vm.suspend_or_end(t, Pending::Call)),
        }
    }

    /// Continues a suspended call (after [`RunError::OutOfFuel`] or
    /// [`RunError::Interrupted`]) and returns its result.
    pub fn resume(&self, vm: &mut Vm) -> Result<R, RunError> {
        if !Arc::ptr_eq(&self.vm, &vm.token) {
            return Err(usage("this function belongs to another VM"));
        }
        if vm.pending != Pending::Call || vm.frames.first().map(|f| f.func) != Some(u32::from(self.id)) {
            return Err(usage("this function has no suspended call"));
        }
        vm.pending = Pending::None;
        match vm.resume_raw() {
            Ok(v) => self.finish(vm, v),
            Err(t) => Err(vm.suspend_or_end(t, Pending::Call)),
        }
    }

    fn finish(&self, vm: &mut Vm, v: u64) -> Result<R, RunError> {
        let r = R::from_slot(vm, value::Slot(v), self.ret).map_err(|e| {
            let name = &vm.module.functions[self.id as usize].name;
            usage(format!("`{name}` returned a value the Rust type cannot hold: {}", e.0))
        });
        vm.io.flush().map_err(|t| vm.run_error(t))?;
        r
    }
}

/// Stops a VM's run from another thread: the run ends with
/// [`RunError::Interrupted`] within about a thousand loop iterations or
/// calls (microseconds), and can be resumed. Cloneable, `Send` and `Sync`.
#[derive(Clone, Debug)]
pub struct InterruptHandle(Arc<AtomicBool>);

impl InterruptHandle {
    /// Asks the VM to stop at its next checkpoint. If it is not running,
    /// its next run stops at once.
    pub fn interrupt(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
