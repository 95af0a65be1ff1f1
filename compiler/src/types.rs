//! The type table: every type the program mentions, hash-consed.
//!
//! Types are interned, so two types are equal exactly when their
//! [`TypeId`]s are equal, and the table becomes the module's type table
//! unchanged. A composite type is always interned after its parts, which
//! keeps the table ordered the way the verifier expects.

use crate::bytecode::{Type, TypeId};
use rustc_hash::FxHashMap;

pub const VOID: TypeId = 0;
pub const INT: TypeId = 1;
pub const FLOAT: TypeId = 2;
pub const BOOL: TypeId = 3;
pub const STR: TypeId = 4;
pub const NIL: TypeId = 5;
pub const ERROR: TypeId = 6;

#[derive(Debug, Clone)]
pub struct TypeTable {
    pub types: Vec<Type>,
    index: FxHashMap<Type, TypeId>,
    /// Set when more types were asked for than a [`TypeId`] can index
    /// (they became `<error>`; the checker reports it).
    pub overflow: bool,
}

impl Default for TypeTable {
    fn default() -> Self {
        let mut t = TypeTable {
            types: Vec::new(),
            index: FxHashMap::default(),
            overflow: false,
        };
        for ty in [Type::Void, Type::Int, Type::Float, Type::Bool, Type::Str, Type::Nil, Type::Error] {
            t.intern(ty);
        }
        t
    }
}

impl TypeTable {
    pub fn intern(&mut self, ty: Type) -> TypeId {
        if let Some(&id) = self.index.get(&ty) {
            return id;
        }
        let Ok(id) = TypeId::try_from(self.types.len()) else {
            self.overflow = true;
            return ERROR;
        };
        self.types.push(ty.clone());
        self.index.insert(ty, id);
        id
    }

    pub fn get(&self, id: TypeId) -> &Type {
        &self.types[id as usize]
    }

    pub fn array(&mut self, elem: TypeId) -> TypeId {
        self.intern(Type::Array(elem))
    }

    pub fn map(&mut self, k: TypeId, v: TypeId) -> TypeId {
        self.intern(Type::Map(k, v))
    }

    pub fn func(&mut self, params: Vec<TypeId>, ret: TypeId) -> TypeId {
        self.intern(Type::Func(params, ret))
    }

    pub fn cell(&mut self, t: TypeId) -> TypeId {
        self.intern(Type::Cell(t))
    }

    pub fn is_ref(&self, id: TypeId) -> bool {
        self.get(id).is_ref()
    }

    pub fn elem(&self, id: TypeId) -> Option<TypeId> {
        match self.get(id) {
            Type::Array(e) => Some(*e),
            _ => None,
        }
    }
}
