//! Short strings are interned, as in Lua: there is at most one string
//! object with a given text of up to [`INTERN_MAX`] bytes. Creating a short
//! string first looks its text up here; a program that makes the same
//! one-character or small-number strings millions of times (`substr`,
//! `chr`, `str(i)`) allocates each once, and two short strings are equal
//! exactly when they are the same object.
//!
//! The table is weak: it does not keep strings alive. When the sweeper
//! frees an interned string it removes it from the table.

use super::map::hash_bytes;
use super::object::{str_bytes, StrObj};

/// Strings of up to this many bytes are interned.
pub(crate) const INTERN_MAX: usize = 40;

/// An open-addressing set of interned strings, keyed by their text.
pub(crate) struct Interner {
    /// Null: empty; `REMOVED`: a deleted entry (probes continue past it).
    table: Vec<*mut StrObj>,
    count: usize,
    removed: usize,
}

/// A sentinel no string object can be at (the table never holds it as a string).
const REMOVED: *mut StrObj = std::ptr::dangling_mut::<StrObj>();

impl Interner {
    pub(crate) fn new() -> Interner {
        Interner {
            table: vec![std::ptr::null_mut(); 256],
            count: 0,
            removed: 0,
        }
    }

    fn mask(&self) -> usize {
        self.table.len() - 1
    }

    /// The interned string with text `b` (hash `h`), if there is one.
    pub(crate) fn find(&self, b: &[u8], h: u32) -> Option<*mut StrObj> {
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let s = self.table[i];
            if s.is_null() {
                return None;
            }
            // SAFETY: entries other than null and REMOVED are live interned
            // strings (the sweeper removes a string before freeing it), whose
            // hash was set when interned.
            if s != REMOVED && unsafe { (*s).hdr.aux == h && str_bytes(s) == b } {
                return Some(s);
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds a string (its hash already in its header) not in the table.
    pub(crate) fn insert(&mut self, s: *mut StrObj) {
        if (self.count + self.removed + 1) * 4 > self.table.len() * 3 {
            self.rehash();
        }
        let mask = self.mask();
        // SAFETY: the caller passes a live string with its hash set.
        let mut i = unsafe { (*s).hdr.aux } as usize & mask;
        while !self.table[i].is_null() && self.table[i] != REMOVED {
            i = (i + 1) & mask;
        }
        if self.table[i] == REMOVED {
            self.removed -= 1;
        }
        self.table[i] = s;
        self.count += 1;
    }

    /// Removes an interned string (it is being freed).
    pub(crate) fn remove(&mut self, s: *mut StrObj) {
        let mask = self.mask();
        // SAFETY: `s` is still a valid string object (not yet freed).
        let mut i = unsafe { (*s).hdr.aux } as usize & mask;
        loop {
            let t = self.table[i];
            if t.is_null() {
                return;
            }
            if t == s {
                self.table[i] = REMOVED;
                self.count -= 1;
                self.removed += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn rehash(&mut self) {
        let size = ((self.count + 1) * 2).next_power_of_two().max(256);
        let old = std::mem::replace(&mut self.table, vec![std::ptr::null_mut(); size]);
        self.count = 0;
        self.removed = 0;
        for s in old {
            if !s.is_null() && s != REMOVED {
                self.insert(s);
            }
        }
    }

    /// Bytes the table uses (counted in the heap's footprint).
    pub(crate) fn bytes(&self) -> usize {
        self.table.len() * std::mem::size_of::<*mut StrObj>()
    }
}

/// The hash of a short string's text.
pub(crate) fn text_hash(b: &[u8]) -> u32 {
    hash_bytes(b)
}
