//! # pvm-jit: verified bytecode to machine code, with Cranelift
//!
//! The interpreter runs a function until it is hot (called often, or
//! looping long); then this crate translates the function's verified
//! bytecode into Cranelift IR, which Cranelift compiles to machine code.
//! The VM calls the code instead of interpreting, and the code calls back
//! into the VM for everything that is not a few machine instructions
//! (allocation, natives, map operations, error messages).
//!
//! ## The contract with the VM
//!
//! The VM and compiled code share everything that outlives an instruction:
//! the register stack, the frame records, the handler stack, the heap.
//! Compiled code for a function is
//!
//! ```text
//! extern "C" fn(vm: *mut Vm, regs: *mut u64, entry: u32) -> Ret { status: u64, value: u64 }
//! ```
//!
//! `regs` is the function's register window, already pushed as the top
//! frame record by the caller, with the arguments in place and its
//! reference registers zeroed (the interpreter's trampoline zeroes the
//! rest). `entry` is [`ENTRY_NORMAL`] for a call, or the index of a loop
//! header to continue a run the interpreter started there (on-stack
//! replacement: the registers are all in memory). The status is
//! [`STATUS_OK`] when the function returned (`value` is the result's bits,
//! the frame record is popped), [`STATUS_TRAP`] when it raised (the VM
//! holds the error; the frame record stays, with its pc, for the stack
//! trace and for whoever catches) and [`STATUS_SUSPENDED`] when the run
//! stopped (fuel, interrupt: the frame wrote its live registers back and
//! the interpreter continues it later), or [`STATUS_YIELD`] when a loop
//! ran out of ticks (the same, but the interpreter continues at once).
//!
//! Inside, registers holding `int`, `float` and `bool` live in Cranelift
//! variables (machine registers). References always live in their memory
//! slot: the collector does not move objects and finds every reference in
//! the register windows, as for interpreted frames, so compiled code needs
//! no stack maps. A run that must stop and resume (fuel, interrupts) writes
//! its variables back to their slots and records its pc: the interpreter
//! then continues it from there.
//!
//! [`Runtime`] tells the translator where the VM keeps what compiled code
//! touches (field offsets, table addresses) and where its helper functions
//! are; the VM builds it (`vm/src/jit_glue.rs`).
//!
//! ## Features
//!
//! `exec` (on by default) is the JIT proper: [`Jit`] compiles into
//! executable memory (cranelift-jit) for the machine it runs on. Without
//! it, the crate is only the translator and a [`Lister`], which prints the
//! Cranelift IR and the x86-64 code of a function without running
//! anything: Cranelift's code generator builds for any target, the browser
//! included (the playground uses it so).

mod liveness;
mod translate;

pub use translate::raise;

use cranelift_codegen::ir::{types, AbiParam, Signature, UserFuncName};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
#[cfg(feature = "exec")]
use cranelift_jit::{JITBuilder, JITModule};
#[cfg(feature = "exec")]
use cranelift_module::{default_libcall_names, Linkage, Module};
use pvm_bytecode::Module as Bytecode;
#[cfg(feature = "exec")]
use std::time::Instant;

/// The `entry` argument of an ordinary call.
pub const ENTRY_NORMAL: u32 = u32::MAX;

/// Statuses compiled code (and the helpers it calls) return.
pub const STATUS_OK: i64 = 0;
/// An error: the VM holds it; a handler may catch it.
pub const STATUS_TRAP: i64 = 1;
/// The run stopped (fuel, interrupt): the VM holds the reason; frames
/// wrote their registers back and resume in the interpreter.
pub const STATUS_SUSPENDED: i64 = 2;
/// A loop used up its fuel ticks: like [`STATUS_SUSPENDED`] (every frame
/// wrote its registers back), but the VM holds no reason: it continues the
/// frames in the interpreter at once, which pays for more ticks (or stops
/// the run) at the same back edge and moves the loop back to compiled code
/// at its header. A loop's back edge so never calls a helper, and values
/// live across the loop stay in registers (a call, even a cold one, forces
/// every float into memory on x86-64).
pub const STATUS_YIELD: i64 = 3;

/// Offsets of the VM state compiled code reads and writes, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offsets {
    /// `i64`: fuel ticks left before the VM must be asked (see `Vm::refuel`).
    pub ticks: i32,
    /// The frame stack: `*mut Frame`, `usize` records, `usize` room (the
    /// capacity, at most the depth limit).
    pub frames_ptr: i32,
    pub frames_len: i32,
    pub frames_limit: i32,
    /// `usize`: the native stack pointer must stay above this.
    pub native_limit: i32,
    /// `u8`/`bool`: the collector is marking (stores need the barrier).
    pub marking: i32,
    /// A frame record: size and fields.
    pub frame_size: i32,
    pub frame_base: i32,
    pub frame_func: i32,
    pub frame_pc: i32,
    pub frame_dst: i32,
    /// Offset of a map's live-entry count (`u32`).
    pub map_live: i32,
}

/// Addresses of the VM's helper functions (`extern "C"`, first argument
/// the VM). Their signatures are fixed by the translator; see
/// `vm/src/jit_glue.rs` for what each does.
#[derive(Debug, Clone, Copy, Default)]
pub struct Helpers {
    pub refuel: usize,
    pub window: usize,
    pub frames_grow: usize,
    pub raise: usize,
    pub unwind: usize,
    pub iface: usize,
    pub native: usize,
    pub new_object: usize,
    pub new_array: usize,
    pub array_fill: usize,
    pub push: usize,
    pub pop: usize,
    pub sort: usize,
    pub new_map: usize,
    pub map_get: usize,
    pub map_set: usize,
    pub map_has: usize,
    pub map_remove: usize,
    pub map_keys: usize,
    pub new_cell: usize,
    pub closure: usize,
    pub concat: usize,
    pub tostr: usize,
    pub str_eq: usize,
    pub str_cmp: usize,
    pub throw: usize,
    pub try_begin: usize,
    pub try_end: usize,
    pub leave: usize,
    pub barrier: usize,
    pub fmod: usize,
    pub zero: usize,
}

/// What the translator needs to know of the VM it compiles for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Runtime {
    pub off: Offsets,
    pub helpers: Helpers,
    /// Each function's entry point (compiled code, or the interpreter's
    /// trampoline), indexed by function id; the table never moves.
    pub code_table: usize,
    /// Constant slot values (`int`/`float` bits, string pointers), never moving.
    pub consts: usize,
    /// Global slots, never moving.
    pub globals: usize,
    /// Each top-level function's value (a closure object), by function id.
    pub static_closures: usize,
    /// Bytes per register-stack chunk (a power of two; windows never cross one).
    pub chunk_bytes: u64,
    /// Per function, `registers | captures << 32` (`u64`), never moving.
    pub fn_info: usize,
    /// Interface dispatch, `u32` function ids by `class * iface_slots +
    /// slot`, never moving; 0 when the VM has no such table (too big).
    pub iface_table: usize,
    pub iface_slots: u32,
}

/// Why a function was compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Called often enough.
    Calls,
    /// A loop at this instruction ran often enough (on-stack replacement).
    Loop(u32),
    /// `--jit=always`.
    Always,
}

/// What one compilation produced.
#[cfg(feature = "exec")]
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The function's entry point.
    pub code: *const u8,
    /// Bytecode instructions, Cranelift IR instructions, machine code bytes.
    pub bytecode_len: usize,
    pub ir_len: usize,
    pub code_len: usize,
    /// Time taken, in microseconds.
    pub micros: u64,
    /// Loop headers where the code can be entered mid-run.
    pub osr_entries: Vec<u32>,
}

/// A Cranelift JIT for one VM: owns the executable memory, which is freed
/// with it. Code pages are writable only until they are finished, then
/// readable and executable, never both writable and executable.
#[cfg(feature = "exec")]
pub struct Jit {
    module: Option<JITModule>,
    ctx: Context,
    fctx: FunctionBuilderContext,
    count: u32,
}

// SAFETY: the JIT module owns its code memory and nothing in it is tied to
// a thread; the VM that holds a `Jit` moves it with all its other state.
#[cfg(feature = "exec")]
unsafe impl Send for Jit {}

/// The signature of compiled functions, in the target's calling convention.
pub(crate) fn function_signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::I64)); // vm
    sig.params.push(AbiParam::new(types::I64)); // regs
    sig.params.push(AbiParam::new(types::I32)); // entry
    sig.returns.push(AbiParam::new(types::I64)); // status
    sig.returns.push(AbiParam::new(types::I64)); // result
    sig
}

/// Cranelift's settings for pvm's code, on every target.
fn flags() -> Result<settings::Flags, String> {
    let mut flags = settings::builder();
    for (k, v) in [("use_colocated_libcalls", "false"), ("is_pic", "false"), ("opt_level", "speed")] {
        flags.set(k, v).map_err(|e| e.to_string())?;
    }
    Ok(settings::Flags::new(flags))
}

/// Function `f` translated into `ctx.func` (whose signature and name the
/// caller set, and `me` its reference to itself), printed: the IR, or with
/// `asm` the machine code `isa` makes of it.
#[allow(clippy::too_many_arguments)]
fn listing(
    isa: &dyn TargetIsa,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
    m: &Bytecode,
    rt: &Runtime,
    f: u16,
    me: cranelift_codegen::ir::FuncRef,
    asm: bool,
) -> Result<String, String> {
    translate::translate(&mut ctx.func, fctx, isa.frontend_config(), m, rt, f, Some(me))?;
    if !asm {
        return Ok(ctx.func.display().to_string());
    }
    ctx.set_disasm(true);
    let mut ctrl = cranelift_codegen::control::ControlPlane::default();
    let r = match ctx.compile(isa, &mut ctrl) {
        Ok(c) => Ok(c.vcode.clone().unwrap_or_default()),
        Err(e) => Err(format!("{:?}", e.inner)),
    };
    ctx.set_disasm(false);
    r
}

#[cfg(feature = "exec")]
impl Jit {
    /// A JIT for the host machine.
    pub fn new() -> Result<Jit, String> {
        let isa = cranelift_native::builder()
            .map_err(|e| format!("this machine is not supported by the JIT: {e}"))?
            .finish(flags()?)
            .map_err(|e| e.to_string())?;
        let module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
        let ctx = module.make_context();
        Ok(Jit {
            module: Some(module),
            ctx,
            fctx: FunctionBuilderContext::new(),
            count: 0,
        })
    }

    fn module(&mut self) -> &mut JITModule {
        self.module.as_mut().expect("the module lives as long as the JIT")
    }

    /// Compiles function `f` of a verified module. The module must be the
    /// one the VM runs (its code was verified: the translation relies on
    /// every index and type the verifier checked).
    pub fn compile(&mut self, m: &Bytecode, rt: &Runtime, f: u16) -> Result<Compiled, String> {
        let started = Instant::now();
        let sig = function_signature(self.module().isa().default_call_conv());
        let name = format!("pvm_{}_{}", f, self.count);
        self.count += 1;
        let id = self
            .module()
            .declare_function(&name, Linkage::Local, &sig)
            .map_err(|e| e.to_string())?;
        self.ctx.clear();
        self.ctx.func.signature = sig;
        self.ctx.func.name = UserFuncName::user(0, id.as_u32());
        let module = self.module.as_mut().expect("the module lives as long as the JIT");
        let me = module.declare_func_in_func(id, &mut self.ctx.func);
        let config = module.target_config();
        let osr_entries = translate::translate(&mut self.ctx.func, &mut self.fctx, config, m, rt, f, Some(me))?;
        let ir_len = self.ctx.func.dfg.num_insts();
        let module = self.module.as_mut().expect("the module lives as long as the JIT");
        module
            .define_function(id, &mut self.ctx)
            .map_err(|e| format!("Cranelift could not compile `{}`: {e:?}", m.functions[f as usize].name))?;
        let code_len = self.ctx.compiled_code().map(|c| c.code_info().total_size as usize).unwrap_or(0);
        module.finalize_definitions().map_err(|e| e.to_string())?;
        let code = module.get_finalized_function(id);
        Ok(Compiled {
            code,
            bytecode_len: m.functions[f as usize].code.len(),
            ir_len,
            code_len,
            micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            osr_entries,
        })
    }

    /// A reference to a function declared for listings only (never defined),
    /// standing for the function itself in recursive calls.
    fn listing_ref(&mut self) -> Result<cranelift_codegen::ir::FuncRef, String> {
        let sig = function_signature(self.module().isa().default_call_conv());
        let name = format!("pvm_listing_{}", self.count);
        self.count += 1;
        let module = self.module.as_mut().expect("the module lives as long as the JIT");
        let id = module.declare_function(&name, Linkage::Local, &sig).map_err(|e| e.to_string())?;
        Ok(module.declare_func_in_func(id, &mut self.ctx.func))
    }

    /// The Cranelift IR of function `f`, as text (`pvm dis --clif`).
    pub fn clif(&mut self, m: &Bytecode, rt: &Runtime, f: u16) -> Result<String, String> {
        self.listing(m, rt, f, false)
    }

    /// The machine code of function `f`, as assembly text (`pvm dis --asm`).
    pub fn asm(&mut self, m: &Bytecode, rt: &Runtime, f: u16) -> Result<String, String> {
        self.listing(m, rt, f, true)
    }

    fn listing(&mut self, m: &Bytecode, rt: &Runtime, f: u16, asm: bool) -> Result<String, String> {
        let sig = function_signature(self.module().isa().default_call_conv());
        self.ctx.clear();
        self.ctx.func.signature = sig;
        self.ctx.func.name = UserFuncName::testcase(m.functions[f as usize].name.as_bytes());
        let me = self.listing_ref()?;
        let module = self.module.as_ref().expect("the module lives as long as the JIT");
        listing(module.isa(), &mut self.ctx, &mut self.fctx, m, rt, f, me, asm)
    }
}

/// Prints what the JIT makes of a function for a target it need not run
/// on: the Cranelift IR, and the machine code for baseline x86-64 (SSE2,
/// no later extensions). Nothing is compiled into memory and nothing runs,
/// so it works where [`Jit`] cannot (in the browser).
pub struct Lister {
    isa: cranelift_codegen::isa::OwnedTargetIsa,
    ctx: Context,
    fctx: FunctionBuilderContext,
}

impl Lister {
    /// A lister for x86-64 (System V calling convention, as on Linux).
    pub fn x86_64() -> Result<Lister, String> {
        let isa = cranelift_codegen::isa::lookup_by_name("x86_64-unknown-linux-gnu")
            .map_err(|e| e.to_string())?
            .finish(flags()?)
            .map_err(|e| e.to_string())?;
        Ok(Lister {
            isa,
            ctx: Context::new(),
            fctx: FunctionBuilderContext::new(),
        })
    }

    /// The Cranelift IR of function `f` of a verified module, as text.
    pub fn clif(&mut self, m: &Bytecode, rt: &Runtime, f: u16) -> Result<String, String> {
        self.listing(m, rt, f, false)
    }

    /// The machine code of function `f` of a verified module, as assembly text.
    pub fn asm(&mut self, m: &Bytecode, rt: &Runtime, f: u16) -> Result<String, String> {
        self.listing(m, rt, f, true)
    }

    fn listing(&mut self, m: &Bytecode, rt: &Runtime, f: u16, asm: bool) -> Result<String, String> {
        let func = m.functions.get(f as usize).ok_or("no such function")?;
        self.ctx.clear();
        self.ctx.func.signature = function_signature(self.isa.default_call_conv());
        self.ctx.func.name = UserFuncName::testcase(func.name.as_bytes());
        // The function's reference to itself (recursive calls), declared as
        // cranelift-module declares a local function.
        let own = self.ctx.func.signature.clone();
        let sig = self.ctx.func.import_signature(own);
        let name = self
            .ctx
            .func
            .declare_imported_user_function(cranelift_codegen::ir::UserExternalName {
                namespace: 0,
                index: u32::from(f),
            });
        let me = self.ctx.func.import_function(cranelift_codegen::ir::ExtFuncData {
            name: cranelift_codegen::ir::ExternalName::user(name),
            signature: sig,
            colocated: true,
            patchable: false,
        });
        listing(&*self.isa, &mut self.ctx, &mut self.fctx, m, rt, f, me, asm)
    }
}

#[cfg(feature = "exec")]
impl Drop for Jit {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the VM that owns this JIT is being dropped: no code
            // compiled by it can run any more, and nothing keeps a pointer
            // to it (the VM's code table goes with the VM).
            unsafe { m.free_memory() };
        }
    }
}
