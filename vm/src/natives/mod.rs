//! Native functions: the Rust implementations of the prelude's natives,
//! and how every native (built-in or host) is linked to a module.
//!
//! A module lists the natives it calls by name and function type. Linking
//! ([`link`]) looks each one up in the prelude (`stdlib/prelude.pvm`) or
//! among the host's functions, checks that the module's type is an
//! instance of the declared signature, and binds the implementation. The
//! implementations receive the raw argument slots and the module's types
//! of the parameters and result, so an array a native creates carries the
//! exact type the module expects.
//!
//! * [`text`]: strings and conversions;
//! * [`world`]: output, input, files, arguments, the clock, `exit`;
//! * [`generic`]: `sort_by` and `binary_search` over arrays of any type.

mod generic;
mod text;
mod world;

use crate::error::Trap;
use crate::host::{HostFunc, HostImpl};
use crate::Vm;
use pvm_bytecode::{Module, Type, TypeId};
use std::sync::Arc;

/// A built-in native: the VM, the argument slots, and the module's types
/// of this call (parameters, result).
pub(crate) type BuiltinFn = fn(&mut Vm, &[u64], &Sig) -> Result<u64, Trap>;

/// The module's types at one native import.
#[derive(Debug, Clone)]
pub(crate) struct Sig {
    pub params: Box<[TypeId]>,
    pub ret: TypeId,
}

#[derive(Clone)]
pub(crate) enum Imp {
    Builtin(BuiltinFn),
    Host(Arc<HostImpl>),
}

/// One linked native import.
#[derive(Clone)]
pub(crate) struct Linked {
    pub imp: Imp,
    pub sig: Sig,
    /// Whether it returns a value (stored in the call's `dst`).
    pub returns: bool,
}

/// Natives take at most this many arguments (the interpreter copies them
/// into a fixed array).
pub(crate) const MAX_NATIVE_ARGS: usize = 8;

/// Every built-in native implemented here, by prelude name.
const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("fixed", text::fixed),
    ("substr", text::substr),
    ("find", text::find),
    ("split", text::split),
    ("join", text::join),
    ("trim", text::trim),
    ("replace", text::replace),
    ("ord", text::ord),
    ("chr", text::chr),
    ("int_of_str", text::int_of_str),
    ("float_of_str", text::float_of_str),
    ("sin", |_, a, _| Ok(float(a, f64::sin))),
    ("cos", |_, a, _| Ok(float(a, f64::cos))),
    ("tan", |_, a, _| Ok(float(a, f64::tan))),
    ("exp", |_, a, _| Ok(float(a, f64::exp))),
    ("log", |_, a, _| Ok(float(a, f64::ln))),
    ("floor", |_, a, _| Ok(float(a, f64::floor))),
    ("ceil", |_, a, _| Ok(float(a, f64::ceil))),
    ("atan2", |_, a, _| Ok(f64::from_bits(a[0]).atan2(f64::from_bits(a[1])).to_bits())),
    ("pow", |_, a, _| Ok(f64::from_bits(a[0]).powf(f64::from_bits(a[1])).to_bits())),
    ("print_str", world::print_str),
    ("println_str", world::println_str),
    ("read_line", world::read_line),
    ("read_file", world::read_file),
    ("write_file", world::write_file),
    ("args", world::args),
    ("clock", world::clock),
    ("exit", world::exit),
    ("sort_by", generic::sort_by),
    ("binary_search", generic::binary_search),
];

fn float(a: &[u64], f: fn(f64) -> f64) -> u64 {
    f(f64::from_bits(a[0])).to_bits()
}

/// Links every native a module imports: by name among the prelude's
/// natives, then the host's functions; the module's function type must be
/// an instance of the declared signature.
pub(crate) fn link(m: &Module, host: &[HostFunc]) -> Result<Vec<Linked>, String> {
    let prelude = pvm_stdlib::prelude();
    m.natives
        .iter()
        .map(|imp| {
            let Some(Type::Func(ps, r)) = m.types.get(imp.sig as usize) else {
                return Err(format!("native `{}` has no function type", imp.name));
            };
            if ps.len() > MAX_NATIVE_ARGS {
                return Err(format!("native `{}` takes more than {MAX_NATIVE_ARGS} arguments", imp.name));
            }
            let (decl, imp_) = if let Some(d) = prelude.native(&imp.name) {
                let f = BUILTINS
                    .iter()
                    .find(|b| b.0 == imp.name)
                    .map(|b| b.1)
                    .ok_or_else(|| format!("built-in `{}` has no implementation", imp.name))?;
                (d, Imp::Builtin(f))
            } else if let Some(h) = host.iter().find(|h| h.sig.name == imp.name) {
                (&h.sig, Imp::Host(h.imp.clone()))
            } else {
                return Err(format!("no native function `{}`", imp.name));
            };
            if !decl.matches(&m.types, imp.sig) {
                return Err(format!(
                    "native function `{}` is imported as `{}`, but it is `{decl}`",
                    imp.name,
                    m.type_name(imp.sig)
                ));
            }
            Ok(Linked {
                imp: imp_,
                sig: Sig {
                    params: ps.clone().into_boxed_slice(),
                    ret: *r,
                },
                returns: !matches!(m.types.get(*r as usize), Some(Type::Void)),
            })
        })
        .collect()
}

fn invalid(detail: impl std::fmt::Display) -> Trap {
    Trap::Error(format!("invalid conversion: {detail}"))
}

fn index_error(detail: impl std::fmt::Display) -> Trap {
    Trap::Error(format!("index out of range: {detail}"))
}

pub use text::{parse_float, parse_int};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_native_has_one_implementation() {
        let prelude = pvm_stdlib::prelude();
        for n in &prelude.natives {
            let count = BUILTINS.iter().filter(|b| b.0 == n.name).count();
            assert_eq!(count, 1, "native `{}` has {count} implementations", n.name);
        }
        for (name, _) in BUILTINS {
            assert!(prelude.native(name).is_some(), "`{name}` is implemented but not declared");
        }
    }
}
