//! # pvm-stdlib: the built-ins, declared once
//!
//! pvm's standard library has two halves, and this crate holds the part
//! both the compiler and the VM read:
//!
//! * **The prelude** (`stdlib/prelude.pvm`): the signature of every built-in
//!   native function and the names of the intrinsics (generic built-ins such
//!   as `len` that the checker types itself). The checker reads it to type
//!   calls; the VM's linker reads it to check each native a module imports
//!   before binding it to its Rust implementation. A host program's own
//!   functions are described with the same [`NativeSig`], so the checker
//!   sees them too.
//! * **Standard modules** written in pvm (`stdlib/std/*.pvm`), compiled into
//!   this crate and imported by programs as `import "std/strings";`.
//!
//! The implementations of the natives are Rust functions in the VM
//! (`vm/src/natives/`); a test there checks that every native declared here
//! has exactly one implementation.
//!
//! ```
//! let substr = pvm_stdlib::prelude().native("substr").expect("declared");
//! assert_eq!(substr.to_string(), "fn substr(s: str, i: int, j: int) -> str");
//! assert!(pvm_stdlib::module_source("std/strings").is_some());
//! ```

mod sig;

pub use sig::{parse_declarations, NativeSig, ParseError, Ty};
use std::sync::OnceLock;

/// The text of the prelude.
pub const PRELUDE_SOURCE: &str = include_str!("../prelude.pvm");

/// The standard modules, by import path.
const MODULES: &[(&str, &str)] = &[
    ("std/strings", include_str!("../std/strings.pvm")),
    ("std/math", include_str!("../std/math.pvm")),
    ("std/collections", include_str!("../std/collections.pvm")),
];

/// The parsed prelude.
#[derive(Debug)]
pub struct Prelude {
    /// Every native function, in declaration order.
    pub natives: Vec<NativeSig>,
    /// Names of the intrinsics.
    pub intrinsics: Vec<String>,
}

impl Prelude {
    /// The native called `name`, if the prelude declares one.
    pub fn native(&self, name: &str) -> Option<&NativeSig> {
        self.natives.iter().find(|n| n.name == name)
    }

    /// Whether `name` is a built-in a program may call by name (an
    /// intrinsic or a native that is not internal).
    pub fn is_builtin(&self, name: &str) -> bool {
        self.intrinsics.iter().any(|i| i == name) || self.native(name).is_some_and(|n| !n.internal)
    }
}

/// The prelude, parsed once per process.
pub fn prelude() -> &'static Prelude {
    static PRELUDE: OnceLock<Prelude> = OnceLock::new();
    PRELUDE.get_or_init(|| {
        let (natives, intrinsics) = parse_declarations(PRELUDE_SOURCE).unwrap_or_else(|e| panic!("stdlib/prelude.pvm is malformed: {e}"));
        Prelude { natives, intrinsics }
    })
}

/// The source of a standard module (`"std/strings"`), if there is one.
pub fn module_source(path: &str) -> Option<&'static str> {
    MODULES.iter().find(|(p, _)| *p == path).map(|(_, s)| *s)
}

/// The import paths of every standard module.
pub fn module_paths() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(p, _)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelude_parses_and_names_are_unique() {
        let p = prelude();
        assert!(p.natives.len() >= 30);
        let mut names: Vec<&str> = p.natives.iter().map(|n| n.name.as_str()).collect();
        names.extend(p.intrinsics.iter().map(String::as_str));
        let visible: Vec<&str> = p
            .natives
            .iter()
            .filter(|n| !n.internal)
            .map(|n| n.name.as_str())
            .chain(p.intrinsics.iter().map(String::as_str))
            .collect();
        let mut dedup = visible.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), visible.len(), "a built-in is declared twice");
        assert!(p.is_builtin("len") && p.is_builtin("substr") && p.is_builtin("sort_by"));
        assert!(!p.is_builtin("int_of_str"), "internal natives are not callable by name");
        assert!(!p.is_builtin("no_such_thing"));
    }

    #[test]
    fn generic_signatures() {
        let s = prelude().native("sort_by").expect("declared");
        assert_eq!(s.generics, 1);
        assert_eq!(s.to_string(), "fn sort_by<T>(a: [T], less: fn(T, T) -> bool)");
    }

    #[test]
    fn standard_modules_are_present() {
        for p in ["std/strings", "std/math", "std/collections"] {
            assert!(module_source(p).is_some_and(|s| s.contains("fn ")), "{p}");
        }
        assert!(module_source("std/nope").is_none());
    }
}
