//! Layout facts that generated code relies on: where things are in heap
//! objects and frames. The VM's object definitions are checked against
//! these at compile time (`vm/src/heap/object.rs`), so code generated from
//! them reads the same bytes the interpreter does.
//!
//! ```text
//! every object     [ kind:u8 | mark:u8 | flags:u8 | class:u8 | aux:u32 ]  8 bytes
//! str              header, len: u64, bytes...
//! array            header, len: u64, cap: u64, data: ptr (8-byte slots, or bytes for [bool])
//! object           header, field 0, field 1, ...  (8 bytes each)
//! closure          header, n: u64, captured 0, captured 1, ...
//! cell             header, value
//! ```
//! A frame is a window of 8-byte slots, register `r` at `base + 8 * r`.

/// Bytes of the header every heap object starts with.
pub const HEADER_SIZE: usize = 8;
/// Offset of the kind byte in the header.
pub const HEADER_KIND: usize = 0;
/// Offset of the 32-bit kind-specific word (a class id for objects, a
/// function id for closures, a type id for arrays and maps).
pub const HEADER_AUX: usize = 4;
/// Offset of a string's byte length, and of its first byte.
pub const STR_LEN: usize = 8;
pub const STR_BYTES: usize = 16;
/// Offsets of an array's length, capacity and element pointer.
pub const ARRAY_LEN: usize = 8;
pub const ARRAY_CAP: usize = 16;
pub const ARRAY_DATA: usize = 24;
/// Offset of an object's first field.
pub const OBJ_FIELDS: usize = 8;
/// Offsets of a closure's capture count and first capture.
pub const CLOSURE_N: usize = 8;
pub const CLOSURE_CAPS: usize = 16;
/// Offset of a cell's value.
pub const CELL_VALUE: usize = 8;
/// Bytes per register slot.
pub const SLOT: usize = 8;
