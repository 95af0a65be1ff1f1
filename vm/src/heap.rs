//! The heap and its garbage collector: precise, non-moving mark-sweep.
//!
//! Every object starts with a [`Header`] and is linked into one list of all
//! objects. A value slot holding a reference is a raw pointer to the header
//! (or 0 for `nil`). Because the bytecode is statically typed, the collector
//! never guesses what a slot holds: each function's register types, each
//! class's field types and each array or map type say exactly which slots
//! are references. That is what makes the collector *precise*.
//!
//! Collection happens only at *safepoints* — after an allocating instruction
//! has stored its result in a register — so no native function or
//! instruction ever holds an unrooted pointer while the collector runs.
//! Allocation only counts bytes; when the count passes the threshold the
//! interpreter collects at its next safepoint. In stress mode the threshold
//! is zero, so it collects after every allocation.
//!
//! Mark uses an explicit stack (no recursion, so deep lists cannot overflow
//! the native stack); sweep walks the object list and frees what is unmarked.
//! Cycles are reclaimed like anything else unreachable.

use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;
use std::alloc::{alloc, dealloc, Layout};
use std::hash::{Hash, Hasher};
use std::ptr;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Str,
    Array,
    Map,
    Object,
    Closure,
    Cell,
}

/// The first field of every heap object.
#[repr(C)]
pub struct Header {
    next: *mut Header,
    pub kind: Kind,
    marked: bool,
    /// Kind-specific: array/map type id, class id, function id, or the cell's "holds a reference" flag.
    pub aux: u32,
}

#[repr(C)]
pub struct StrObj {
    hdr: Header,
    len: usize,
    // `len` bytes of UTF-8 follow.
}

#[repr(C)]
pub struct ArrayObj {
    hdr: Header,
    pub data: Vec<u64>,
}

/// A `str` key compared and hashed by content.
#[derive(Clone, Copy)]
pub struct StrKey(pub *const StrObj);

impl PartialEq for StrKey {
    fn eq(&self, o: &Self) -> bool {
        // SAFETY: map keys are live strings: the map is reachable (we are using
        // it) and the collector marks every key of a reachable map.
        unsafe { str_bytes(self.0) == str_bytes(o.0) }
    }
}
impl Eq for StrKey {}
impl Hash for StrKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        // SAFETY: as for `eq`.
        unsafe { str_bytes(self.0) }.hash(h)
    }
}

pub enum MapData {
    /// `int` and `bool` keys, stored as their 64-bit slot value.
    Int(IndexMap<u64, u64, FxBuildHasher>),
    Str(IndexMap<StrKey, u64, FxBuildHasher>),
}

#[repr(C)]
pub struct MapObj {
    hdr: Header,
    pub data: MapData,
}

#[repr(C)]
pub struct Obj {
    hdr: Header,
    // the fields follow, one u64 each
}

#[repr(C)]
pub struct ClosureObj {
    hdr: Header,
    pub caps: Box<[u64]>,
}

#[repr(C)]
pub struct CellObj {
    hdr: Header,
    pub value: u64,
}

/// Which slots of each kind of object are references; built from the module.
#[derive(Default)]
pub struct Layouts {
    /// By type id: for `[T]` and cells of `T`, whether T is a reference; for `{K: V}`, whether V is.
    pub elem_is_ref: Vec<bool>,
    /// By type id: for maps, whether the key is a `str`.
    pub key_is_str: Vec<bool>,
    /// By class id: field count, and which fields are references.
    pub class_fields: Vec<u32>,
    pub class_ref_fields: Vec<Vec<u32>>,
    /// By function id: which captured slots are references.
    pub capture_refs: Vec<Vec<bool>>,
}

pub struct Heap {
    head: *mut Header,
    pub bytes: usize,
    pub threshold: usize,
    pub max: usize,
    pub stress: bool,
    pub layouts: Layouts,
    gray: Vec<*mut Header>,
    pub collections: u64,
    pub total_pause: Duration,
    pub max_pause: Duration,
    pub peak: usize,
}

/// Collect once 256 KiB have been allocated (or twice the live heap, when
/// larger). Small programs that churn strings (wordfreq) stay close to
/// Lua's footprint; a 1 MiB floor cost them 2x the memory for ~10% speed.
const MIN_THRESHOLD: usize = 1 << 18;

// SAFETY (for the accessors below): callers pass pointers to live objects of
// the right kind. The verifier guarantees that a register of type `str` only
// ever holds a string (or nil, which callers check first), and so on.

/// # Safety
/// `s` must point to a live string object.
pub unsafe fn str_bytes<'x>(s: *const StrObj) -> &'x [u8] {
    let len = (*s).len;
    std::slice::from_raw_parts((s as *const u8).add(std::mem::size_of::<StrObj>()), len)
}

/// # Safety
/// `s` must point to a live string object.
pub unsafe fn str_ref<'x>(s: *const StrObj) -> &'x str {
    // SAFETY: strings are only built from `&str`, so their bytes are UTF-8.
    std::str::from_utf8_unchecked(str_bytes(s))
}

/// # Safety
/// `o` must point to a live object of class with at least `i + 1` fields.
#[inline(always)]
pub unsafe fn field_ptr(o: *mut Obj, i: usize) -> *mut u64 {
    (o as *mut u8).add(std::mem::size_of::<Obj>()).cast::<u64>().add(i)
}

fn str_layout(len: usize) -> Layout {
    Layout::from_size_align(std::mem::size_of::<StrObj>() + len, 8).expect("string size fits")
}

fn obj_layout(n: usize) -> Layout {
    Layout::from_size_align(std::mem::size_of::<Obj>() + 8 * n, 8).expect("object size fits")
}

impl Heap {
    pub fn new(max: usize, stress: bool, layouts: Layouts) -> Heap {
        Heap {
            head: ptr::null_mut(),
            bytes: 0,
            threshold: if stress { 0 } else { MIN_THRESHOLD },
            max,
            stress,
            layouts,
            gray: Vec::new(),
            collections: 0,
            total_pause: Duration::ZERO,
            max_pause: Duration::ZERO,
            peak: 0,
        }
    }

    /// Whether the interpreter should collect at its next safepoint.
    #[inline(always)]
    pub fn wants_gc(&self) -> bool {
        self.bytes >= self.threshold
    }

    fn link(&mut self, h: *mut Header, size: usize) {
        // SAFETY: `h` was just allocated and initialised by the caller.
        unsafe { (*h).next = self.head };
        self.head = h;
        self.bytes += size;
        if self.bytes > self.peak {
            self.peak = self.bytes;
        }
    }

    /// Whether `extra` more bytes could ever fit under the heap limit.
    pub fn can_grow(&self, extra: usize) -> bool {
        extra <= self.max
    }

    pub fn alloc_str(&mut self, s: &str) -> *mut StrObj {
        self.alloc_str_parts(&[s.as_bytes()])
    }

    /// A string made of the concatenation of `parts`, which must together be
    /// UTF-8 (each part is, for `+` on two strings), written in place.
    pub fn alloc_str_parts(&mut self, parts: &[&[u8]]) -> *mut StrObj {
        let len = parts.iter().map(|p| p.len()).sum();
        let layout = str_layout(len);
        // SAFETY: the layout has non-zero size (the header); the memory is
        // fully initialised before it is linked.
        unsafe {
            let p = alloc(layout) as *mut StrObj;
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            ptr::write(
                p,
                StrObj {
                    hdr: Header {
                        next: ptr::null_mut(),
                        kind: Kind::Str,
                        marked: false,
                        aux: 0,
                    },
                    len,
                },
            );
            let mut at = (p as *mut u8).add(std::mem::size_of::<StrObj>());
            for part in parts {
                ptr::copy_nonoverlapping(part.as_ptr(), at, part.len());
                at = at.add(part.len());
            }
            self.link(p as *mut Header, layout.size());
            p
        }
    }

    pub fn alloc_array(&mut self, ty: u32, data: Vec<u64>) -> *mut ArrayObj {
        let size = std::mem::size_of::<ArrayObj>() + data.capacity() * 8;
        let p = Box::into_raw(Box::new(ArrayObj {
            hdr: Header {
                next: ptr::null_mut(),
                kind: Kind::Array,
                marked: false,
                aux: ty,
            },
            data,
        }));
        self.link(p as *mut Header, size);
        p
    }

    /// Records growth of an array's or map's storage.
    pub fn grew(&mut self, bytes: usize) {
        self.bytes += bytes;
        if self.bytes > self.peak {
            self.peak = self.bytes;
        }
    }

    pub fn alloc_map(&mut self, ty: u32) -> *mut MapObj {
        let str_keys = self.layouts.key_is_str.get(ty as usize).copied().unwrap_or(false);
        let data = if str_keys {
            MapData::Str(IndexMap::default())
        } else {
            MapData::Int(IndexMap::default())
        };
        let p = Box::into_raw(Box::new(MapObj {
            hdr: Header {
                next: ptr::null_mut(),
                kind: Kind::Map,
                marked: false,
                aux: ty,
            },
            data,
        }));
        self.link(p as *mut Header, std::mem::size_of::<MapObj>());
        p
    }

    /// A new instance; fields are copied from `fields`.
    pub fn alloc_object(&mut self, class: u32, fields: &[u64]) -> *mut Obj {
        let layout = obj_layout(fields.len());
        // SAFETY: as in `alloc_str`; every field is written before linking.
        unsafe {
            let p = alloc(layout) as *mut Obj;
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            ptr::write(
                p,
                Obj {
                    hdr: Header {
                        next: ptr::null_mut(),
                        kind: Kind::Object,
                        marked: false,
                        aux: class,
                    },
                },
            );
            ptr::copy_nonoverlapping(fields.as_ptr(), field_ptr(p, 0), fields.len());
            self.link(p as *mut Header, layout.size());
            p
        }
    }

    pub fn alloc_closure(&mut self, func: u32, caps: Box<[u64]>) -> *mut ClosureObj {
        let size = std::mem::size_of::<ClosureObj>() + caps.len() * 8;
        let p = Box::into_raw(Box::new(ClosureObj {
            hdr: Header {
                next: ptr::null_mut(),
                kind: Kind::Closure,
                marked: false,
                aux: func,
            },
            caps,
        }));
        self.link(p as *mut Header, size);
        p
    }

    pub fn alloc_cell(&mut self, holds_ref: bool, value: u64) -> *mut CellObj {
        let p = Box::into_raw(Box::new(CellObj {
            hdr: Header {
                next: ptr::null_mut(),
                kind: Kind::Cell,
                marked: false,
                aux: holds_ref as u32,
            },
            value,
        }));
        self.link(p as *mut Header, std::mem::size_of::<CellObj>());
        p
    }

    /// Marks one slot value as reachable.
    #[inline]
    pub fn mark(&mut self, v: u64) {
        let h = v as *mut Header;
        if h.is_null() {
            return;
        }
        // SAFETY: a non-zero slot of reference type points to a live object.
        unsafe {
            if !(*h).marked {
                (*h).marked = true;
                self.gray.push(h);
            }
        }
    }

    /// Traces everything reachable from the marked roots, then frees the rest.
    /// The caller marks the roots first with [`Heap::mark`].
    pub fn finish_collection(&mut self, started: Instant) {
        while let Some(h) = self.gray.pop() {
            // SAFETY: gray objects are live and of the kind their header says.
            unsafe { self.trace(h) };
        }
        // SAFETY: the list contains exactly the objects allocated by this heap.
        unsafe { self.sweep() };
        self.threshold = if self.stress { 0 } else { (self.bytes * 2).max(MIN_THRESHOLD) };
        self.collections += 1;
        let pause = started.elapsed();
        self.total_pause += pause;
        self.max_pause = self.max_pause.max(pause);
    }

    unsafe fn trace(&mut self, h: *mut Header) {
        match (*h).kind {
            Kind::Str => {}
            Kind::Array => {
                let a = h as *mut ArrayObj;
                if self.layouts.elem_is_ref.get((*h).aux as usize).copied().unwrap_or(false) {
                    for i in 0..(*a).data.len() {
                        let v = (&(*a).data)[i];
                        self.mark(v);
                    }
                }
            }
            Kind::Map => {
                let m = h as *mut MapObj;
                let vref = self.layouts.elem_is_ref.get((*h).aux as usize).copied().unwrap_or(false);
                // `m` is a raw pointer, so iterating its map does not borrow `self`.
                match &(*m).data {
                    MapData::Int(map) => {
                        if vref {
                            map.values().for_each(|&v| self.mark(v));
                        }
                    }
                    MapData::Str(map) => {
                        for (k, &v) in map {
                            self.mark(k.0 as u64);
                            if vref {
                                self.mark(v);
                            }
                        }
                    }
                }
            }
            Kind::Object => {
                let o = h as *mut Obj;
                let class = (*h).aux as usize;
                let n = self.layouts.class_ref_fields.get(class).map(|v| v.len()).unwrap_or(0);
                for k in 0..n {
                    let i = self.layouts.class_ref_fields[class][k] as usize;
                    self.mark(*field_ptr(o, i));
                }
            }
            Kind::Closure => {
                let c = h as *mut ClosureObj;
                let func = (*h).aux as usize;
                let caps = &(*c).caps;
                let n = caps.len();
                for i in 0..n {
                    if self.layouts.capture_refs.get(func).and_then(|v| v.get(i)).copied().unwrap_or(false) {
                        let v = (&(*c).caps)[i];
                        self.mark(v);
                    }
                }
            }
            Kind::Cell => {
                if (*h).aux != 0 {
                    let v = (*(h as *mut CellObj)).value;
                    self.mark(v);
                }
            }
        }
    }

    unsafe fn sweep(&mut self) {
        let mut link: *mut *mut Header = &mut self.head;
        while !(*link).is_null() {
            let h = *link;
            if (*h).marked {
                (*h).marked = false;
                link = &mut (*h).next;
            } else {
                *link = (*h).next;
                self.bytes = self.bytes.saturating_sub(self.free(h));
            }
        }
    }

    /// Frees one object; returns the bytes it accounted for.
    unsafe fn free(&mut self, h: *mut Header) -> usize {
        match (*h).kind {
            Kind::Str => {
                let layout = str_layout((*(h as *mut StrObj)).len);
                dealloc(h as *mut u8, layout);
                layout.size()
            }
            Kind::Array => {
                let b = Box::from_raw(h as *mut ArrayObj);
                std::mem::size_of::<ArrayObj>() + b.data.capacity() * 8
            }
            Kind::Map => {
                let b = Box::from_raw(h as *mut MapObj);
                std::mem::size_of::<MapObj>() + map_bytes(&b.data)
            }
            Kind::Object => {
                let n = self.layouts.class_fields.get((*h).aux as usize).copied().unwrap_or(0) as usize;
                let layout = obj_layout(n);
                dealloc(h as *mut u8, layout);
                layout.size()
            }
            Kind::Closure => {
                let b = Box::from_raw(h as *mut ClosureObj);
                std::mem::size_of::<ClosureObj>() + b.caps.len() * 8
            }
            Kind::Cell => {
                drop(Box::from_raw(h as *mut CellObj));
                std::mem::size_of::<CellObj>()
            }
        }
    }
}

/// Approximate bytes used by a map's entries (for heap accounting).
pub fn map_bytes(d: &MapData) -> usize {
    match d {
        MapData::Int(m) => m.capacity() * 24,
        MapData::Str(m) => m.capacity() * 24,
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        let mut h = self.head;
        while !h.is_null() {
            // SAFETY: every object in the list was allocated by this heap and is freed once.
            unsafe {
                let next = (*h).next;
                self.free(h);
                h = next;
            }
        }
    }
}
