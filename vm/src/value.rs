//! Rust values that cross into pvm and back.
//!
//! [`PvmType`] is implemented for the Rust types that have a pvm
//! counterpart:
//!
//! | Rust | pvm |
//! | --- | --- |
//! | `i64` | `int` |
//! | `f64` | `float` |
//! | `bool` | `bool` |
//! | `String` | `str` (a `nil` string is an error) |
//! | `Option<String>` | `str` that may be `nil` |
//! | `Vec<T>` | `[T]` |
//! | `IndexMap<K, V>`, `HashMap<K, V>`, `BTreeMap<K, V>` | `{K: V}` with `K` one of `i64`, `String`, `bool` |
//! | `()` | no value (a function that returns nothing) |
//!
//! The trait is sealed: its methods handle raw VM slots, which only this
//! crate can produce, so no code outside it can make the VM read a slot as
//! the wrong type. Conversions into pvm allocate but never collect (the
//! collector runs only at safepoints: after an allocating instruction, in
//! either tier, and before a call from the host), so a value being built
//! is never freed half-way.

use crate::error::Trap;
use crate::Vm;
use pvm_bytecode::{Type, TypeId};
use pvm_stdlib::Ty;
use std::collections::{BTreeMap, HashMap};

/// A raw 64-bit VM slot. Only this crate can make one, which is what keeps
/// [`PvmType`] safe to expose.
#[derive(Debug, Clone, Copy)]
pub struct Slot(pub(crate) u64);

mod sealed {
    pub trait Sealed {}
}

/// A Rust type with a pvm counterpart (see the module docs for the table).
pub trait PvmType: Sized + sealed::Sealed {
    /// The pvm type, as written in a signature.
    fn ty() -> Ty;

    /// Stores the value in the VM as module type `ty` (which the caller
    /// has matched against [`PvmType::ty`]).
    #[doc(hidden)]
    fn into_slot(self, vm: &mut Vm, ty: TypeId) -> Slot;

    /// Reads a slot holding a value of module type `ty`.
    #[doc(hidden)]
    fn from_slot(vm: &Vm, slot: Slot, ty: TypeId) -> Result<Self, ConvError>;
}

/// A pvm value that does not fit the Rust type asked for (a `nil` where a
/// `String` is wanted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvError(pub String);

impl From<ConvError> for Trap {
    fn from(e: ConvError) -> Trap {
        Trap::Error(e.0)
    }
}

fn nil_error() -> ConvError {
    ConvError("nil reference".into())
}

/// The element type of array type `ty`, or of map type `ty`'s key and value.
fn elem(vm: &Vm, ty: TypeId) -> TypeId {
    match vm.module.types.get(ty as usize) {
        Some(Type::Array(e)) => *e,
        _ => ty,
    }
}

fn key_value(vm: &Vm, ty: TypeId) -> (TypeId, TypeId) {
    match vm.module.types.get(ty as usize) {
        Some(Type::Map(k, v)) => (*k, *v),
        _ => (ty, ty),
    }
}

macro_rules! scalar {
    ($t:ty, $ty:expr, $to:expr, $from:expr) => {
        impl sealed::Sealed for $t {}
        impl PvmType for $t {
            fn ty() -> Ty {
                $ty
            }
            fn into_slot(self, _vm: &mut Vm, _ty: TypeId) -> Slot {
                #[allow(clippy::redundant_closure_call)]
                Slot(($to)(self))
            }
            fn from_slot(_vm: &Vm, s: Slot, _ty: TypeId) -> Result<Self, ConvError> {
                #[allow(clippy::redundant_closure_call)]
                Ok(($from)(s.0))
            }
        }
    };
}

scalar!(i64, Ty::Int, |v: i64| v as u64, |s: u64| s as i64);
scalar!(f64, Ty::Float, f64::to_bits, f64::from_bits);
scalar!(bool, Ty::Bool, |v: bool| v as u64, |s: u64| s != 0);

impl sealed::Sealed for () {}
impl PvmType for () {
    fn ty() -> Ty {
        Ty::Void
    }
    fn into_slot(self, _vm: &mut Vm, _ty: TypeId) -> Slot {
        Slot(0)
    }
    fn from_slot(_vm: &Vm, _s: Slot, _ty: TypeId) -> Result<Self, ConvError> {
        Ok(())
    }
}

impl sealed::Sealed for String {}
impl PvmType for String {
    fn ty() -> Ty {
        Ty::Str
    }
    fn into_slot(self, vm: &mut Vm, _ty: TypeId) -> Slot {
        Slot(vm.new_str(&self))
    }
    fn from_slot(vm: &Vm, s: Slot, _ty: TypeId) -> Result<Self, ConvError> {
        // SAFETY: slots of type `str` hold nil or a live string; callers
        // pass a slot whose module type is `str` (checked at lookup or link).
        unsafe { vm.str_of(s.0) }.map(str::to_string).ok_or_else(nil_error)
    }
}

impl sealed::Sealed for Option<String> {}
impl PvmType for Option<String> {
    fn ty() -> Ty {
        Ty::Str
    }
    fn into_slot(self, vm: &mut Vm, ty: TypeId) -> Slot {
        match self {
            Some(s) => s.into_slot(vm, ty),
            None => Slot(0),
        }
    }
    fn from_slot(vm: &Vm, s: Slot, _ty: TypeId) -> Result<Self, ConvError> {
        // SAFETY: as for `String`.
        Ok(unsafe { vm.str_of(s.0) }.map(str::to_string))
    }
}

impl<T: PvmType> sealed::Sealed for Vec<T> {}
impl<T: PvmType> PvmType for Vec<T> {
    fn ty() -> Ty {
        Ty::Array(Box::new(T::ty()))
    }
    fn into_slot(self, vm: &mut Vm, ty: TypeId) -> Slot {
        let e = elem(vm, ty);
        let items: Vec<u64> = self.into_iter().map(|x| x.into_slot(vm, e).0).collect();
        Slot(vm.new_array(ty, &items))
    }
    fn from_slot(vm: &Vm, s: Slot, ty: TypeId) -> Result<Self, ConvError> {
        let e = elem(vm, ty);
        // SAFETY: the slot's module type is the array type `ty`.
        let items = unsafe { vm.array_items(s.0) }.ok_or_else(nil_error)?;
        items.into_iter().map(|x| T::from_slot(vm, Slot(x), e)).collect()
    }
}

/// Types that can be map keys in pvm (`int`, `str`, `bool`).
pub trait PvmKey: PvmType {}
impl PvmKey for i64 {}
impl PvmKey for String {}
impl PvmKey for bool {}

macro_rules! map_type {
    ($m:ident $(, $bound:path)*) => {
        impl<K: PvmKey $(+ $bound)*, V: PvmType> sealed::Sealed for $m<K, V> {}
        impl<K: PvmKey $(+ $bound)*, V: PvmType> PvmType for $m<K, V> {
            fn ty() -> Ty {
                Ty::Map(Box::new(K::ty()), Box::new(V::ty()))
            }
            fn into_slot(self, vm: &mut Vm, ty: TypeId) -> Slot {
                let (kt, vt) = key_value(vm, ty);
                let map = vm.new_map(ty);
                for (k, v) in self {
                    let k = k.into_slot(vm, kt).0;
                    let v = v.into_slot(vm, vt).0;
                    // SAFETY: `map` is a live map of type `ty`, and `k`, `v`
                    // are slots of its key and value types.
                    unsafe { vm.map_insert(map, k, v) };
                }
                Slot(map)
            }
            fn from_slot(vm: &Vm, s: Slot, ty: TypeId) -> Result<Self, ConvError> {
                let (kt, vt) = key_value(vm, ty);
                // SAFETY: the slot's module type is the map type `ty`.
                let entries = unsafe { vm.map_entries(s.0) }.ok_or_else(nil_error)?;
                entries
                    .into_iter()
                    .map(|(k, v)| Ok((K::from_slot(vm, Slot(k), kt)?, V::from_slot(vm, Slot(v), vt)?)))
                    .collect()
            }
        }
    };
}

map_type!(IndexMap, std::hash::Hash, Eq);
map_type!(HashMap, std::hash::Hash, Eq);
map_type!(BTreeMap, Ord);

use indexmap::IndexMap;

/// The argument list of a pvm function called from Rust: tuples of up to
/// eight [`PvmType`]s (and `()` for none).
pub trait PvmArgs: Sized {
    /// The parameter types.
    fn tys() -> Vec<Ty>;
    #[doc(hidden)]
    fn into_slots(self, vm: &mut Vm, tys: &[TypeId]) -> Vec<Slot>;
}

macro_rules! args_tuple {
    ($($t:ident $i:tt),*) => {
        impl<$($t: PvmType),*> PvmArgs for ($($t,)*) {
            fn tys() -> Vec<Ty> {
                vec![$($t::ty()),*]
            }
            #[allow(unused_variables)]
            fn into_slots(self, vm: &mut Vm, tys: &[TypeId]) -> Vec<Slot> {
                vec![$(self.$i.into_slot(vm, tys[$i])),*]
            }
        }
    };
}

args_tuple!();
args_tuple!(A 0);
args_tuple!(A 0, B 1);
args_tuple!(A 0, B 1, C 2);
args_tuple!(A 0, B 1, C 2, D 3);
args_tuple!(A 0, B 1, C 2, D 3, E 4);
args_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
args_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
args_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
