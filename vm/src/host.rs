//! Host functions: Rust closures a pvm program calls like built-ins.
//!
//! A [`Host`] collects the functions and [`Capabilities`] a host program
//! gives its scripts. The compiler reads the functions' signatures
//! ([`Host::signatures`]) so a script that calls one with the wrong types
//! does not compile; the VM links each one by name and exact signature,
//! like the built-in natives.
//!
//! A host function is an ordinary closure over [`PvmType`] arguments,
//! returning a [`PvmType`] or a `Result` whose error becomes a catchable
//! pvm runtime error. Taking a [`Caller`] first lets it call back into pvm
//! ([`Caller::call`]) or reach the host's own data ([`Vm::set_data`]).
//!
//! ```
//! use pvm::{Caller, Host};
//! let mut host = Host::new();
//! host.func("twice", |x: i64| x * 2).unwrap();
//! host.func("lookup", |sku: String| -> Result<f64, String> {
//!     if sku == "A1" { Ok(9.5) } else { Err(format!("unknown sku {sku}")) }
//! }).unwrap();
//! host.func("count_calls", |c: &mut Caller| {
//!     *c.data_mut::<u32>().expect("the host set a counter") += 1;
//! }).unwrap();
//! assert_eq!(host.signatures()[1].to_string(), "fn lookup(a0: str) -> float");
//! ```

use crate::error::Trap;
use crate::io::Capabilities;
use crate::value::{PvmArgs, PvmType, Slot};
use crate::{Func, RunError, Vm};
use pvm_bytecode::TypeId;
use pvm_stdlib::{NativeSig, Ty};
use std::fmt::Display;
use std::sync::Arc;

/// The Rust side of a host function, after type erasure: raw argument
/// slots, the module's parameter types and result type.
pub(crate) type HostImpl = dyn Fn(&mut Vm, &[u64], &[TypeId], TypeId) -> Result<u64, Trap> + Send + Sync;

#[derive(Clone)]
pub(crate) struct HostFunc {
    pub(crate) sig: NativeSig,
    pub(crate) imp: Arc<HostImpl>,
}

/// The language's keywords, which cannot name a function.
const KEYWORDS: &[&str] = &[
    "fn",
    "let",
    "if",
    "else",
    "while",
    "for",
    "in",
    "return",
    "break",
    "continue",
    "class",
    "interface",
    "import",
    "true",
    "false",
    "nil",
    "try",
    "catch",
    "throw",
    "self",
];

/// The functions and capabilities a host gives the programs it runs.
/// Cloneable and reusable: one `Host` can configure many VMs.
#[derive(Clone, Default)]
pub struct Host {
    pub(crate) funcs: Vec<HostFunc>,
    /// What programs may do outside the VM (nothing by default).
    pub caps: Capabilities,
}

/// Why a host function could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(pub String);

impl Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostError {}

impl Host {
    /// No functions, no capabilities.
    pub fn new() -> Host {
        Host::default()
    }

    /// Registers a host function under `name`. Its parameter and result
    /// types come from the closure's Rust types. A name already used by a
    /// built-in or another host function is refused.
    pub fn func<M, F: IntoHostFn<M>>(&mut self, name: &str, f: F) -> Result<&mut Host, HostError> {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !KEYWORDS.contains(&name);
        if !valid {
            return Err(HostError(format!("`{name}` is not a pvm identifier")));
        }
        let prelude = pvm_stdlib::prelude();
        if prelude.native(name).is_some() || prelude.intrinsics.iter().any(|i| i == name) {
            return Err(HostError(format!("`{name}` is a built-in function")));
        }
        if self.funcs.iter().any(|h| h.sig.name == name) {
            return Err(HostError(format!("host function `{name}` is already registered")));
        }
        let (params, ret) = F::sig();
        self.funcs.push(HostFunc {
            sig: NativeSig::new(name, params, ret),
            imp: f.into_impl().0,
        });
        Ok(self)
    }

    /// The signatures of the host functions, for the compiler.
    pub fn signatures(&self) -> Vec<NativeSig> {
        self.funcs.iter().map(|h| h.sig.clone()).collect()
    }

    /// Sets what programs may do outside the VM.
    pub fn capabilities(&mut self, caps: Capabilities) -> &mut Host {
        self.caps = caps;
        self
    }
}

/// The VM, as seen by a host function that takes it: to call back into pvm
/// or to reach the host's data.
pub struct Caller<'v> {
    pub(crate) vm: &'v mut Vm,
}

impl Caller<'_> {
    /// Calls the top-level pvm function `name` (re-entering the VM).
    pub fn call<A: PvmArgs, R: PvmType>(&mut self, name: &str, args: A) -> Result<R, RunError> {
        let f: Func<A, R> = self.vm.func(name)?;
        f.call(self.vm, args)
    }

    /// The host data set with [`Vm::set_data`], if it is a `T`.
    pub fn data<T: 'static>(&self) -> Option<&T> {
        self.vm.data()
    }

    /// The host data set with [`Vm::set_data`], mutably, if it is a `T`.
    pub fn data_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.vm.data_mut()
    }
}

/// What a host function may return: a [`PvmType`], or a `Result` whose
/// error (any `Display`) becomes a catchable pvm runtime error.
pub trait HostReturn {
    type Value: PvmType;
    fn into_result(self) -> Result<Self::Value, String>;
}

impl<T: PvmType> HostReturn for T {
    type Value = T;
    fn into_result(self) -> Result<T, String> {
        Ok(self)
    }
}

impl<T: PvmType, E: Display> HostReturn for Result<T, E> {
    type Value = T;
    fn into_result(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

/// Closures that can be host functions. `M` is a marker that tells the
/// shapes apart (with or without a [`Caller`]); it is inferred.
pub trait IntoHostFn<M>: Send + Sync + 'static {
    #[doc(hidden)]
    fn sig() -> (Vec<Ty>, Ty);
    #[doc(hidden)]
    fn into_impl(self) -> Erased;
}

/// A host function with its Rust types erased (opaque outside this crate).
#[doc(hidden)]
pub struct Erased(Arc<HostImpl>);

/// Marker for closures that take a [`Caller`] first.
pub struct WithCaller;

fn finish<R: HostReturn>(vm: &mut Vm, r: R, ret: TypeId) -> Result<u64, Trap> {
    // A limit, an exit or a suspension met by a call back into pvm goes on
    // through this host function whatever it returned: pvm code must not
    // be able to catch it.
    if let Some(t) = vm.nested_trap.take() {
        return Err(t);
    }
    match r.into_result() {
        Ok(v) => Ok(v.into_slot(vm, ret).0),
        Err(e) => Err(Trap::Error(e)),
    }
}

macro_rules! host_fn {
    ($($a:ident $i:tt),*) => {
        impl<Fun, R, $($a),*> IntoHostFn<($($a,)*)> for Fun
        where
            Fun: Fn($($a),*) -> R + Send + Sync + 'static,
            R: HostReturn,
            $($a: PvmType,)*
        {
            fn sig() -> (Vec<Ty>, Ty) {
                (vec![$($a::ty()),*], R::Value::ty())
            }
            fn into_impl(self) -> Erased {
                #[allow(unused_variables, non_snake_case)]
                Erased(Arc::new(move |vm: &mut Vm, args: &[u64], tys: &[TypeId], ret: TypeId| {
                    $(let $a = $a::from_slot(vm, Slot(args[$i]), tys[$i])?;)*
                    let r = (self)($($a),*);
                    finish(vm, r, ret)
                }))
            }
        }

        impl<Fun, R, $($a),*> IntoHostFn<(WithCaller, $($a,)*)> for Fun
        where
            Fun: Fn(&mut Caller<'_>, $($a),*) -> R + Send + Sync + 'static,
            R: HostReturn,
            $($a: PvmType,)*
        {
            fn sig() -> (Vec<Ty>, Ty) {
                (vec![$($a::ty()),*], R::Value::ty())
            }
            fn into_impl(self) -> Erased {
                #[allow(unused_variables, non_snake_case)]
                Erased(Arc::new(move |vm: &mut Vm, args: &[u64], tys: &[TypeId], ret: TypeId| {
                    $(let $a = $a::from_slot(vm, Slot(args[$i]), tys[$i])?;)*
                    let r = (self)(&mut Caller { vm: &mut *vm }, $($a),*);
                    finish(vm, r, ret)
                }))
            }
        }
    };
}

host_fn!();
host_fn!(A 0);
host_fn!(A 0, B 1);
host_fn!(A 0, B 1, C 2);
host_fn!(A 0, B 1, C 2, D 3);
host_fn!(A 0, B 1, C 2, D 3, E 4);
host_fn!(A 0, B 1, C 2, D 3, E 4, F 5);
host_fn!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
host_fn!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
