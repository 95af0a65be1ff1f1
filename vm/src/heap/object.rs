//! The shapes of heap objects.
//!
//! Every object starts with an 8-byte [`Header`]; a reference to an object
//! is the address of its header (0 is `nil`). The header says what kind of
//! object follows, carries the collector's mark, and one kind-specific
//! 32-bit word:
//!
//! ```text
//!  byte 0     1      2       3        4 .. 8
//! +--------+------+-------+--------+-------------------------------+
//! |  kind  | mark | flags | class  |  aux                          |
//! +--------+------+-------+--------+-------------------------------+
//!   kind : Str, Array, Map, Object, Closure, Cell, or Free (a free cell)
//!   mark : set by the collector for reachable objects
//!   flags: per kind (an interned string; a [bool] array of bytes)
//!   class: size class of the cell it lives in, or LARGE
//!   aux  : str -> its hash (0 until computed); array, map -> its type id;
//!          object -> its class; closure -> its function; cell -> holds a reference
//! ```
//!
//! The payloads, all `#[repr(C)]` so that generated code can use the same
//! offsets ([`offsets`]):
//!
//! | kind | after the header |
//! | --- | --- |
//! | `Str` | `len: usize`, then `len` bytes of UTF-8 |
//! | `Array` | `len`, `cap`, `data` (a buffer of `cap` elements, 8 bytes each, or 1 for `[bool]`) |
//! | `Map` | see [`super::map`] |
//! | `Object` | one 8-byte slot per field |
//! | `Closure` | `n: usize`, then `n` captured slots |
//! | `Cell` | one slot |
//!
//! Containers' element storage lives in buffers the heap owns and counts
//! (see [`super::space`]); they are freed with their object.

/// What a heap cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// A free cell (in a free list); never reachable.
    Free = 0,
    Str,
    Array,
    Map,
    Object,
    Closure,
    Cell,
}

/// The first field of every heap object.
#[repr(C)]
pub(crate) struct Header {
    pub kind: Kind,
    pub mark: u8,
    pub flags: u8,
    /// Size class of the cell, or [`LARGE`].
    pub class: u8,
    pub aux: u32,
}

/// `Header::class` of an object allocated on its own (too big for a cell).
pub(crate) const LARGE: u8 = u8::MAX;

/// `Header::flags` of a string: it is in the intern table.
pub(crate) const STR_INTERNED: u8 = 1;
/// `Header::flags` of an array: elements are one byte (`[bool]`).
pub(crate) const ARRAY_BYTES: u8 = 1;
/// `Header::flags` of a map: keys are strings.
pub(crate) const MAP_STR_KEYS: u8 = 1;

impl Header {
    #[cfg(test)]
    pub(crate) fn new(kind: Kind, aux: u32) -> Header {
        Header {
            kind,
            mark: 0,
            flags: 0,
            class: 0,
            aux,
        }
    }
}

#[repr(C, align(8))]
pub(crate) struct StrObj {
    pub hdr: Header,
    pub len: usize,
    // `len` bytes of UTF-8 follow.
}

#[repr(C, align(8))]
pub(crate) struct ArrayObj {
    pub hdr: Header,
    pub len: usize,
    pub cap: usize,
    /// `cap` elements: 8-byte slots, or bytes for `[bool]`.
    pub data: *mut u8,
}

#[repr(C, align(8))]
pub(crate) struct Obj {
    pub hdr: Header,
    // the fields follow, one u64 each
}

#[repr(C, align(8))]
pub(crate) struct ClosureObj {
    pub hdr: Header,
    pub n: usize,
    // `n` captured slots follow
}

#[repr(C, align(8))]
pub(crate) struct CellObj {
    pub hdr: Header,
    pub value: u64,
}

/// Byte offsets of object payloads. On 64-bit targets, the only ones the
/// JIT compiles for, they are the bytecode crate's layout facts, which
/// compiled code relies on, checked here against the definitions above. On
/// 32-bit targets (the browser build, which has no JIT) `usize` and pointers
/// are 4 bytes, the structs are smaller, and the heap uses their own sizes;
/// `align(8)` on the payload structs keeps every 8-byte slot that follows
/// them aligned on both.
pub(crate) mod offsets {
    use super::*;
    use std::mem::size_of;
    pub const STR_BYTES: usize = size_of::<StrObj>();
    pub const OBJ_FIELDS: usize = size_of::<Obj>();
    pub const CLOSURE_CAPS: usize = size_of::<ClosureObj>();
    #[cfg(target_pointer_width = "64")]
    const _: () = {
        use pvm_bytecode::layout as l;
        use std::mem::offset_of;
        assert!(size_of::<Header>() == l::HEADER_SIZE);
        assert!(offset_of!(Header, kind) == l::HEADER_KIND);
        assert!(offset_of!(Header, aux) == l::HEADER_AUX);
        assert!(offset_of!(StrObj, len) == l::STR_LEN && STR_BYTES == l::STR_BYTES);
        assert!(offset_of!(ArrayObj, len) == l::ARRAY_LEN);
        assert!(offset_of!(ArrayObj, cap) == l::ARRAY_CAP);
        assert!(offset_of!(ArrayObj, data) == l::ARRAY_DATA);
        assert!(OBJ_FIELDS == l::OBJ_FIELDS);
        assert!(offset_of!(ClosureObj, n) == l::CLOSURE_N && CLOSURE_CAPS == l::CLOSURE_CAPS);
        assert!(offset_of!(CellObj, value) == l::CELL_VALUE);
    };
    // Every payload that 8-byte slots follow ends on an 8-byte boundary.
    const _: () = assert!(STR_BYTES.is_multiple_of(8) && OBJ_FIELDS.is_multiple_of(8) && CLOSURE_CAPS.is_multiple_of(8));
}

// SAFETY (for the accessors below): callers pass pointers to live objects
// of the right kind. The verifier guarantees that a register of type `str`
// only ever holds a string (or nil, which callers check first), and so on.

/// # Safety
/// `s` must point to a live string object.
#[inline]
pub(crate) unsafe fn str_bytes<'x>(s: *const StrObj) -> &'x [u8] {
    // SAFETY: the caller's promise; `len` bytes follow the payload.
    unsafe { std::slice::from_raw_parts((s as *const u8).add(offsets::STR_BYTES), (*s).len) }
}

/// # Safety
/// `s` must point to a live string object.
#[inline]
pub(crate) unsafe fn str_ref<'x>(s: *const StrObj) -> &'x str {
    // SAFETY: strings are only built from UTF-8 (`&str`, or concatenations of
    // them), so their bytes are valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(str_bytes(s)) }
}

/// # Safety
/// `o` must point to a live object of a class with at least `i + 1` fields.
#[inline(always)]
pub(crate) unsafe fn field_ptr(o: *mut Obj, i: usize) -> *mut u64 {
    // SAFETY: the caller's promise: field `i` is inside the object.
    unsafe { (o as *mut u8).add(offsets::OBJ_FIELDS).cast::<u64>().add(i) }
}

/// # Safety
/// `c` must point to a live closure.
#[inline]
pub(crate) unsafe fn closure_caps<'x>(c: *const ClosureObj) -> &'x [u64] {
    // SAFETY: the caller's promise; `n` slots follow the payload.
    unsafe { std::slice::from_raw_parts((c as *const u8).add(offsets::CLOSURE_CAPS).cast::<u64>(), (*c).n) }
}

impl ArrayObj {
    /// Whether elements are single bytes (`[bool]`).
    #[inline]
    pub(crate) fn bytes(&self) -> bool {
        self.hdr.flags & ARRAY_BYTES != 0
    }

    /// Element `i`, which must be `< len`.
    /// # Safety
    /// `i < self.len`.
    #[inline]
    pub(crate) unsafe fn get(&self, i: usize) -> u64 {
        // SAFETY: `data` holds `cap >= len > i` elements of the array's width.
        unsafe {
            if self.bytes() {
                u64::from(*self.data.add(i))
            } else {
                *self.data.cast::<u64>().add(i)
            }
        }
    }

    /// Stores element `i` (no write barrier: see `Heap::array_set`).
    /// # Safety
    /// `i < self.len`.
    #[inline]
    pub(crate) unsafe fn put(&mut self, i: usize, v: u64) {
        // SAFETY: as for `get`. A `[bool]` element is 0 or 1.
        unsafe {
            if self.bytes() {
                *self.data.add(i) = v as u8;
            } else {
                *self.data.cast::<u64>().add(i) = v;
            }
        }
    }

    /// The elements of an array of 8-byte slots.
    /// # Safety
    /// The array is not a `[bool]` array, and nothing changes it while the
    /// slice is in use.
    pub(crate) unsafe fn slots<'x>(&self) -> &'x mut [u64] {
        debug_assert!(!self.bytes());
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: `data` holds `len` initialised 8-byte elements.
        unsafe { std::slice::from_raw_parts_mut(self.data.cast::<u64>(), self.len) }
    }

    /// All elements as slots (copied).
    pub(crate) fn to_vec(&self) -> Vec<u64> {
        // SAFETY: every index is < len.
        (0..self.len).map(|i| unsafe { self.get(i) }).collect()
    }

    /// Bytes per element.
    pub(crate) fn width(&self) -> usize {
        if self.bytes() {
            1
        } else {
            8
        }
    }
}
