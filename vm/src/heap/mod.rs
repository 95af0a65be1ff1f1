//! The heap and its collector: precise, non-moving, incremental
//! mark-and-sweep with a snapshot-at-the-beginning write barrier.
//!
//! **Allocation** ([`space`]): objects live in size-classed cells of 64 KiB
//! blocks, taken from the system allocator a megabyte at a time; large
//! objects apart. Container elements live in buffers the heap owns and
//! counts. Short strings are interned ([`strings`]); maps keep insertion
//! order with O(1) removal ([`map`]).
//!
//! **Precise**: because the bytecode is statically typed, the collector
//! never guesses what a slot holds: each function's register types, each
//! class's field types and each array or map type say exactly which slots
//! are references.
//!
//! **Incremental**: a collection cycle is spread over many short slices,
//! run at the interpreter's safepoints, between which the program runs:
//!
//! ```text
//!   Idle ──(heap grew to the threshold)──> Mark ──(nothing gray)──> Sweep ──(all swept)──> Idle
//!             roots shaded gray             slices: scan gray        slices and the allocator:
//!                                           objects, shade their     dead cells become free
//!                                           children                 cells, block by block
//! ```
//!
//! Marking uses three colours: white (not marked), gray (marked, on the
//! gray stack, children not yet scanned), black (marked and scanned). The
//! program runs between slices, so it can hide a white object from the
//! marker by moving the only reference to it from an object not yet
//! scanned into one already black. The **write barrier** prevents that:
//! every store of a reference into a heap object goes through
//! [`Heap::write_barrier`], which, while marking, shades the reference
//! being *overwritten* (Yuasa's snapshot-at-the-beginning barrier). So
//! everything reachable when the cycle began is marked, and objects
//! allocated during marking are born black. Registers and globals need no
//! barrier: they are roots, shaded when the cycle begins.
//!
//! ```text
//!   before:  [black A] ─x─> ...        [gray B] ──> (white C)
//!   program: A.f = B.g;  B.g = nil     (C now only reachable from A)
//!   barrier: the store B.g = nil shades C, the old value: C survives
//! ```
//!
//! **Pacing** follows the live heap, as Lua's pause and Go's GOGC do: a
//! cycle starts when the heap reaches twice what the previous cycle left
//! live (at least [`MIN_THRESHOLD`]); during a cycle, every
//! [`STEP_BYTES`] allocated buys a slice that scans [`STEP_WORK`] bytes of
//! objects or sweeps [`SWEEP_BLOCKS`] blocks. A slice is short whatever
//! the heap holds; large arrays and maps are scanned in chunks.
//!
//! `--max-heap`: when the heap passes the limit, the current cycle is
//! finished at once and a full one run; only if the live data still does
//! not fit is it `heap limit exceeded`.

pub(crate) mod map;
mod object;
mod space;
mod strings;

pub(crate) use map::MapObj;
pub(crate) use object::*;

use map::Storage;
use space::{alloc_large, class_of, class_size, free_large, BlockPool, Cells, MAX_SMALL};
use std::time::Duration;
use strings::{Interner, INTERN_MAX};
use web_time::Instant;

/// Collect once this much has been allocated, at the least.
pub(crate) const MIN_THRESHOLD: usize = 256 << 10;
/// Allocation between two slices of a cycle.
pub(crate) const STEP_BYTES: usize = 64 << 10;
/// Bytes of objects a marking slice scans.
pub(crate) const STEP_WORK: usize = 256 << 10;
/// Blocks a sweeping slice sweeps.
pub(crate) const SWEEP_BLOCKS: usize = 8;
/// Elements of an array (entries of a map) scanned at a time.
const CHUNK: usize = 4096;

/// Where a collection cycle stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Idle,
    Mark,
    Sweep,
}

/// How the collector runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GcMode {
    /// Incremental cycles paced by the live heap.
    #[default]
    Normal,
    /// A complete (stop-the-world) collection at every safepoint: finds
    /// references the collector does not know about.
    StressFull,
    /// Incremental cycles back to back, one tiny slice per safepoint, and
    /// after each marking a check that every reachable object is marked:
    /// finds missing write barriers.
    StressIncremental,
}

/// Which slots of each kind of object are references; built from the module.
#[derive(Default)]
pub(crate) struct Layouts {
    /// By type id: for `[T]` and cells of `T`, whether T is a reference; for `{K: V}`, whether V is.
    pub elem_is_ref: Vec<bool>,
    /// By type id: for maps, whether the key is a `str`.
    pub key_is_str: Vec<bool>,
    /// By type id: for arrays, whether the elements are `bool` (one byte each).
    pub elem_is_bool: Vec<bool>,
    /// By class id: field count, and which fields are references.
    pub class_fields: Vec<u32>,
    pub class_ref_fields: Vec<Vec<u32>>,
    /// By function id: which captured slots are references.
    pub capture_refs: Vec<Vec<bool>>,
}

/// Pause durations, bucketed for percentiles: microseconds below 32 each
/// have a bucket; above, each octave has 8 (12.5% precision).
struct PauseHistogram {
    buckets: Vec<u64>,
    count: u64,
}

impl PauseHistogram {
    fn new() -> Self {
        PauseHistogram {
            buckets: vec![0; 32 + 8 * 40],
            count: 0,
        }
    }

    fn bucket(us: u64) -> usize {
        if us < 32 {
            return us as usize;
        }
        let octave = 63 - us.leading_zeros() as usize; // >= 5
        let sub = ((us >> (octave - 3)) & 7) as usize;
        (32 + 8 * (octave - 5) + sub).min(32 + 8 * 40 - 1)
    }

    /// The upper bound of bucket `i`, in microseconds.
    fn upper(i: usize) -> u64 {
        if i < 32 {
            return i as u64 + 1;
        }
        let octave = (i - 32) / 8 + 5;
        let sub = ((i - 32) % 8) as u64;
        (8 + sub + 1) << (octave - 3)
    }

    fn add(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.buckets[Self::bucket(us)] += 1;
        self.count += 1;
    }

    /// The `q`-quantile (0..=1) as an upper bound.
    fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let want = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= want {
                return Duration::from_micros(Self::upper(i));
            }
        }
        Duration::ZERO
    }
}

/// What the collector has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GcStats {
    /// Incremental cycles completed.
    pub incremental: u64,
    /// Stop-the-world collections (the heap limit, stress mode).
    pub full: u64,
    /// Slices of collector work (each one pause of the program).
    pub slices: u64,
    pub total_pause: Duration,
    pub max_pause: Duration,
    pub p50_pause: Duration,
    pub p99_pause: Duration,
    /// Bytes allocated in all.
    pub allocated: u64,
    /// Most bytes the heap held.
    pub peak: usize,
}

/// Facts about the cycle in progress, for `--gc-log`.
struct Cycle {
    number: u64,
    started: Instant,
    heap_before: usize,
    slices: u64,
    pause: Duration,
    max_pause: Duration,
    full: bool,
    /// Root slots the cycle began from, and the objects they reached
    /// directly (those the first shading marked).
    root_slots: u64,
    root_objects: u64,
}

/// A count of objects and the bytes they take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub objects: u64,
    pub bytes: usize,
}

pub(crate) struct Heap {
    pool: BlockPool,
    objects: Cells,
    buffers: Cells,
    /// Objects too large for a cell, with their size.
    large: Vec<(*mut Header, usize)>,
    large_unswept: usize,
    interner: Interner,
    pub layouts: Layouts,
    pub phase: Phase,
    /// Fast check for the write barrier: `phase == Mark`.
    pub marking: bool,
    /// Marked objects whose children are not scanned yet, with the index
    /// to resume from (arrays and maps are scanned in chunks).
    gray: Vec<(*mut Header, usize)>,
    /// Bytes allocated and not yet freed (objects, buffers, large ones).
    pub bytes: usize,
    /// When to do collector work next: the fast check at safepoints.
    trigger: usize,
    /// Where the next cycle starts.
    threshold: usize,
    /// `stats.allocated` when the sweep began: what is allocated after is
    /// not swept, so it does not count as live.
    allocated_at_sweep: u64,
    pub max: usize,
    mode: GcMode,
    log: bool,
    cycle: Option<Cycle>,
    cycles: u64,
    /// Objects (and their cell bytes) the marker marked this cycle: from
    /// the roots, by scanning, or by the write barrier. Objects allocated
    /// while marking are born marked and not counted.
    marked: Tally,
    /// Objects the sweeper freed this cycle, and the bytes that freed
    /// (cells, element buffers, large objects).
    freed: Tally,
    stats: GcStats,
    pauses: PauseHistogram,
    /// The addresses of the objects freed since the recorder last looked
    /// (`pvm explore`), when it asked for them; `None` otherwise.
    pub freed_log: Option<Vec<u64>>,
}

/// Roots, given by the VM: calls the function with every root slot value.
pub(crate) type Roots<'r> = dyn FnMut(&mut dyn FnMut(u64)) + 'r;

/// Where [`Heap::marking`] lies in a heap (compiled code reads it to skip
/// the write barrier when not marking).
#[cfg(feature = "jit")]
pub(crate) fn marking_offset() -> usize {
    std::mem::offset_of!(Heap, marking)
}

impl Heap {
    pub(crate) fn new(max: usize, mode: GcMode, log: bool, layouts: Layouts) -> Heap {
        let threshold = MIN_THRESHOLD.min(max);
        Heap {
            pool: BlockPool::new(),
            objects: Cells::new(false),
            buffers: Cells::new(true),
            large: Vec::new(),
            large_unswept: 0,
            interner: Interner::new(),
            layouts,
            phase: Phase::Idle,
            marking: false,
            gray: Vec::new(),
            bytes: 0,
            trigger: if mode == GcMode::Normal { threshold } else { 0 },
            threshold,
            allocated_at_sweep: 0,
            max,
            mode,
            log,
            cycle: None,
            cycles: 0,
            marked: Tally::default(),
            freed: Tally::default(),
            freed_log: None,
            stats: GcStats::default(),
            pauses: PauseHistogram::new(),
        }
    }

    /// Whether the safepoint should run [`Heap::step`].
    #[inline(always)]
    pub(crate) fn wants_gc(&self) -> bool {
        self.bytes >= self.trigger
    }

    // ------------------------------------------------------------ allocation

    fn counted(&mut self, n: usize) {
        self.bytes += n;
        self.stats.allocated += n as u64;
        if self.bytes > self.stats.peak {
            self.stats.peak = self.bytes;
        }
    }

    /// A new object of `size` bytes with header `kind`/`aux`; the payload is
    /// for the caller to initialise before anything else can see it.
    fn alloc_obj(&mut self, size: usize, kind: Kind, aux: u32) -> *mut Header {
        let (h, class, cell) = if size <= MAX_SMALL {
            let c = class_of(size);
            let Heap {
                objects,
                pool,
                buffers,
                interner,
                bytes,
                freed,
                freed_log,
                ..
            } = self;
            let p = objects
                .alloc(c, pool, &mut |h| finalize(h, buffers, interner, bytes, freed, freed_log))
                .cast::<Header>();
            (p, c as u8, class_size(c))
        } else {
            let p = alloc_large(size).cast::<Header>();
            self.large.push((p, size));
            (p, LARGE, size)
        };
        // SAFETY: `h` is a fresh cell of at least `size >= 8` bytes.
        unsafe {
            h.write(Header {
                kind,
                // Born black while marking (see the module docs).
                mark: u8::from(self.marking),
                flags: 0,
                class,
                aux,
            });
        }
        self.counted(cell);
        if self.objects.took_fresh {
            self.objects.took_fresh = false;
            // Sweeping lazily used up a class's old blocks: finish the
            // sweep at the next safepoint rather than grow the heap.
            if self.phase == Phase::Sweep {
                self.trigger = 0;
            }
        }
        h
    }

    /// A buffer of `bytes` bytes (element storage), counted in the heap.
    pub(crate) fn alloc_buffer(&mut self, bytes: usize) -> *mut u8 {
        if bytes <= MAX_SMALL {
            let c = class_of(bytes);
            self.counted(class_size(c));
            self.buffers.alloc(c, &mut self.pool, &mut |_| {})
        } else {
            self.counted(bytes);
            alloc_large(bytes)
        }
    }

    /// # Safety
    /// `p` came from `alloc_buffer(bytes)` and is no longer used.
    pub(crate) unsafe fn free_buffer(&mut self, p: *mut u8, bytes: usize) {
        // SAFETY: the caller's promise.
        unsafe { free_buffer(&mut self.buffers, &mut self.bytes, p, bytes) }
    }

    /// A string made of the concatenation of `parts` (together UTF-8).
    /// Short strings are interned: an existing equal string is returned.
    #[inline(never)]
    pub(crate) fn alloc_str_parts(&mut self, parts: &[&[u8]]) -> *mut StrObj {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len <= INTERN_MAX {
            let mut buf = [0u8; INTERN_MAX];
            let mut at = 0;
            for p in parts {
                buf[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
            let text = &buf[..len];
            let h = strings::text_hash(text);
            if let Some(s) = self.interner.find(text, h) {
                // A dead string not swept yet comes back to life: marked, it
                // survives this cycle's sweep (see `strings`).
                if self.phase != Phase::Idle {
                    // SAFETY: interned strings are live (not yet freed).
                    unsafe { (*s).hdr.mark = 1 };
                }
                return s;
            }
            let s = self.new_str(text.len(), &[text]);
            // SAFETY: `s` is the fresh string.
            unsafe {
                (*s).hdr.aux = h;
                (*s).hdr.flags |= STR_INTERNED;
            }
            self.interner.insert(s);
            return s;
        }
        self.new_str(len, parts)
    }

    fn new_str(&mut self, len: usize, parts: &[&[u8]]) -> *mut StrObj {
        let s = self.alloc_obj(offsets::STR_BYTES + len, Kind::Str, 0).cast::<StrObj>();
        // SAFETY: the cell has room for the length and `len` bytes.
        unsafe {
            (*s).len = len;
            let mut at = (s as *mut u8).add(offsets::STR_BYTES);
            for p in parts {
                std::ptr::copy_nonoverlapping(p.as_ptr(), at, p.len());
                at = at.add(p.len());
            }
        }
        s
    }

    pub(crate) fn alloc_str(&mut self, s: &str) -> *mut StrObj {
        self.alloc_str_parts(&[s.as_bytes()])
    }

    /// A new array of type `ty` holding `items`.
    #[inline(never)]
    pub(crate) fn alloc_array(&mut self, ty: u32, items: &[u64]) -> *mut ArrayObj {
        let a = self.new_array(ty, items.len());
        // SAFETY: the fresh array has room for `items.len()` elements.
        unsafe {
            for (i, v) in items.iter().enumerate() {
                (*a).put(i, *v);
            }
            (*a).len = items.len();
        }
        a
    }

    /// A new array of type `ty` of `n` copies of `v`.
    #[inline(never)]
    pub(crate) fn alloc_array_fill(&mut self, ty: u32, n: usize, v: u64) -> *mut ArrayObj {
        let a = self.new_array(ty, n);
        // SAFETY: the fresh array has room for `n` elements.
        unsafe {
            if (*a).bytes() {
                std::ptr::write_bytes((*a).data, v as u8, n);
            } else {
                std::slice::from_raw_parts_mut((*a).data.cast::<u64>(), n).fill(v);
            }
            (*a).len = n;
        }
        a
    }

    /// An empty array of type `ty` with room for `cap` elements.
    fn new_array(&mut self, ty: u32, cap: usize) -> *mut ArrayObj {
        let bytes = self.layouts.elem_is_bool.get(ty as usize).copied().unwrap_or(false);
        let width = if bytes { 1 } else { 8 };
        // An empty array's storage is a dangling but aligned, non-null
        // pointer: slices of length 0 over it are valid (over null they are
        // undefined behaviour), and it is never freed or read.
        let data = if cap == 0 {
            std::ptr::NonNull::<u64>::dangling().as_ptr().cast::<u8>()
        } else {
            self.alloc_buffer(cap * width)
        };
        let a = self.alloc_obj(std::mem::size_of::<ArrayObj>(), Kind::Array, ty).cast::<ArrayObj>();
        // SAFETY: the cell has room for an array header.
        unsafe {
            if bytes {
                (*a).hdr.flags |= ARRAY_BYTES;
            }
            (*a).len = 0;
            (*a).cap = cap;
            (*a).data = data;
        }
        a
    }

    /// Appends to an array, growing its storage.
    /// # Safety
    /// `a` is a live array; `v` a value of its element type.
    #[inline(never)]
    pub(crate) unsafe fn array_push(&mut self, a: *mut ArrayObj, v: u64) {
        // SAFETY: the caller's promise.
        unsafe {
            if (*a).len == (*a).cap {
                let width = (*a).width();
                let new_cap = ((*a).cap * 2).max(4);
                let data = self.alloc_buffer(new_cap * width);
                if (*a).len > 0 {
                    std::ptr::copy_nonoverlapping((*a).data, data, (*a).len * width);
                }
                if (*a).cap > 0 {
                    self.free_buffer((*a).data, (*a).cap * width);
                }
                (*a).data = data;
                (*a).cap = new_cap;
            }
            let i = (*a).len;
            (*a).len += 1;
            (*a).put(i, v);
        }
    }

    /// Removes and returns an array's last element.
    /// # Safety
    /// `a` is a live array.
    pub(crate) unsafe fn array_pop(&mut self, a: *mut ArrayObj) -> Option<u64> {
        // SAFETY: the caller's promise.
        unsafe {
            if (*a).len == 0 {
                return None;
            }
            (*a).len -= 1;
            let v = (*a).get((*a).len);
            // The element leaves the array for a register: a deletion, as
            // far as the snapshot is concerned.
            if self.marking && self.array_holds_refs(a) {
                self.write_barrier(v);
            }
            Some(v)
        }
    }

    /// `a[i] = v` through the write barrier.
    /// # Safety
    /// `a` is a live array, `i < len`, `v` a value of its element type.
    #[inline]
    pub(crate) unsafe fn array_set(&mut self, a: *mut ArrayObj, i: usize, v: u64) {
        // SAFETY: the caller's promise.
        unsafe {
            if self.marking && self.array_holds_refs(a) {
                self.write_barrier((*a).get(i));
            }
            (*a).put(i, v);
        }
    }

    /// `a[i] = v` for an array of 8-byte slots, through the write barrier.
    /// # Safety
    /// `a` is a live array that is not a `[bool]`, `i < len`, `v` a value
    /// of its element type.
    #[inline]
    pub(crate) unsafe fn array_set_slot(&mut self, a: *mut ArrayObj, i: usize, v: u64) {
        // SAFETY: the caller's promise.
        unsafe {
            let slot = (*a).data.cast::<u64>().add(i);
            if self.marking && self.array_holds_refs(a) {
                self.write_barrier(*slot);
            }
            *slot = v;
        }
    }

    /// # Safety
    /// `a` is a live array.
    unsafe fn array_holds_refs(&self, a: *mut ArrayObj) -> bool {
        // SAFETY: the caller's promise.
        let ty = unsafe { (*a).hdr.aux } as usize;
        self.layouts.elem_is_ref.get(ty).copied().unwrap_or(false)
    }

    /// The elements of an array were reordered in place (`sort`): while
    /// marking, scan it again from the start, since a chunked scan may be
    /// part way through it.
    /// # Safety
    /// `a` is a live array.
    pub(crate) unsafe fn array_reordered(&mut self, a: *mut ArrayObj) {
        // SAFETY: the caller's promise.
        if self.marking && unsafe { self.array_holds_refs(a) } {
            self.gray.push((a.cast(), 0));
        }
    }

    /// A new empty map of type `ty`.
    #[inline(never)]
    pub(crate) fn alloc_map(&mut self, ty: u32) -> *mut MapObj {
        let str_keys = self.layouts.key_is_str.get(ty as usize).copied().unwrap_or(false);
        let m = self.alloc_obj(std::mem::size_of::<MapObj>(), Kind::Map, ty).cast::<MapObj>();
        // SAFETY: the cell has room for a map; the header is initialised.
        unsafe {
            let mut hdr = std::ptr::read(m.cast::<Header>());
            if str_keys {
                hdr.flags |= MAP_STR_KEYS;
            }
            m.write(MapObj::new_header(hdr));
        }
        m
    }

    /// `m[k] = v` through the write barrier.
    /// # Safety
    /// `m` is a live map, `k` and `v` values of its key and value types.
    #[inline(never)]
    pub(crate) unsafe fn map_insert(&mut self, m: *mut MapObj, k: u64, v: u64) {
        // SAFETY: the caller's promise.
        unsafe {
            let old = (*m).insert(self, k, v);
            if let Some(old) = old {
                if self.marking && self.map_values_are_refs(m) {
                    self.write_barrier(old);
                }
            }
        }
    }

    /// `remove(m, k)`: a deletion, so both key and value are shaded while marking.
    /// # Safety
    /// As `map_insert`.
    #[inline(never)]
    pub(crate) unsafe fn map_remove(&mut self, m: *mut MapObj, k: u64) {
        // SAFETY: the caller's promise.
        unsafe {
            if let Some((key, val)) = (*m).remove(self, k) {
                if self.marking {
                    if (*m).str_keys() {
                        self.write_barrier(key);
                    }
                    if self.map_values_are_refs(m) {
                        self.write_barrier(val);
                    }
                }
            }
        }
    }

    /// # Safety
    /// `m` is a live map.
    unsafe fn map_values_are_refs(&self, m: *mut MapObj) -> bool {
        // SAFETY: the caller's promise.
        let ty = unsafe { (*m).hdr.aux } as usize;
        self.layouts.elem_is_ref.get(ty).copied().unwrap_or(false)
    }

    /// A new instance; fields are copied from `fields`.
    #[inline(never)]
    pub(crate) fn alloc_object(&mut self, class: u32, fields: &[u64]) -> *mut Obj {
        let o = self
            .alloc_obj(offsets::OBJ_FIELDS + 8 * fields.len(), Kind::Object, class)
            .cast::<Obj>();
        // SAFETY: the cell has room for the fields.
        unsafe { std::ptr::copy_nonoverlapping(fields.as_ptr(), field_ptr(o, 0), fields.len()) };
        o
    }

    /// `o.field = v` through the write barrier.
    /// # Safety
    /// `o` is a live object with field `i`; `v` a value of its type.
    #[inline]
    pub(crate) unsafe fn set_field(&mut self, o: *mut Obj, i: usize, v: u64) {
        // SAFETY: the caller's promise.
        unsafe {
            let slot = field_ptr(o, i);
            if self.marking {
                let class = (*o).hdr.aux as usize;
                if self.layouts.class_ref_fields.get(class).is_some_and(|r| r.contains(&(i as u32))) {
                    self.write_barrier(*slot);
                }
            }
            *slot = v;
        }
    }

    #[inline(never)]
    pub(crate) fn alloc_closure(&mut self, func: u32, caps: &[u64]) -> *mut ClosureObj {
        let c = self
            .alloc_obj(offsets::CLOSURE_CAPS + 8 * caps.len(), Kind::Closure, func)
            .cast::<ClosureObj>();
        // SAFETY: the cell has room for the captures.
        unsafe {
            (*c).n = caps.len();
            std::ptr::copy_nonoverlapping(caps.as_ptr(), (c as *mut u8).add(offsets::CLOSURE_CAPS).cast::<u64>(), caps.len());
        }
        c
    }

    #[inline(never)]
    pub(crate) fn alloc_cell(&mut self, holds_ref: bool, value: u64) -> *mut CellObj {
        let c = self
            .alloc_obj(std::mem::size_of::<CellObj>(), Kind::Cell, u32::from(holds_ref))
            .cast::<CellObj>();
        // SAFETY: the cell has room for the value.
        unsafe { (*c).value = value };
        c
    }

    /// `cell.value = v` through the write barrier.
    /// # Safety
    /// `c` is a live cell; `v` a value of its type.
    #[inline]
    pub(crate) unsafe fn cell_set(&mut self, c: *mut CellObj, v: u64) {
        // SAFETY: the caller's promise.
        unsafe {
            if self.marking && (*c).hdr.aux != 0 {
                self.write_barrier((*c).value);
            }
            (*c).value = v;
        }
    }

    /// The write barrier's one entry point: `old`, a reference about to be
    /// overwritten or removed from a heap object, is shaded while marking.
    /// Every store of a reference into the heap calls it (the helpers above
    /// for the interpreter and natives; compiled code calls it too).
    #[inline]
    pub(crate) fn write_barrier(&mut self, old: u64) {
        if self.marking {
            self.shade(old);
        }
    }

    /// Marks one object gray (a string, which has no children, black).
    #[inline]
    pub(crate) fn shade(&mut self, v: u64) {
        let h = v as *mut Header;
        if h.is_null() {
            return;
        }
        // SAFETY: a non-zero slot of reference type points to a live object.
        unsafe {
            if (*h).mark == 0 {
                (*h).mark = 1;
                self.marked.objects += 1;
                self.marked.bytes += self.object_bytes(h);
                if (*h).kind != Kind::Str {
                    self.gray.push((h, 0));
                }
            }
        }
    }

    /// The number of the latest cycle (1 for the first; 0 before any), and
    /// what it has marked and freed so far (for trace events).
    pub(crate) fn progress(&self) -> (u64, Tally, Tally) {
        (self.cycles, self.marked, self.freed)
    }

    /// The bytes of the cell (or large allocation) object `h` occupies.
    /// # Safety
    /// `h` is a live object.
    unsafe fn object_bytes(&self, h: *mut Header) -> usize {
        // SAFETY: the caller's promise.
        unsafe {
            if (*h).class != LARGE {
                return class_size((*h).class as usize);
            }
            // Only strings, objects and closures can be large.
            match (*h).kind {
                Kind::Str => offsets::STR_BYTES + (*h.cast::<StrObj>()).len,
                Kind::Object => {
                    let n = self.layouts.class_fields.get((*h).aux as usize).copied().unwrap_or(0);
                    offsets::OBJ_FIELDS + 8 * n as usize
                }
                Kind::Closure => offsets::CLOSURE_CAPS + 8 * (*h.cast::<ClosureObj>()).n,
                _ => 0,
            }
        }
    }

    // ------------------------------------------------------------ collection

    /// One slice of collector work, at a safepoint. Returns `false` when the
    /// heap limit is exceeded even after a full collection.
    #[inline(never)]
    pub(crate) fn step(&mut self, roots: &mut Roots<'_>) -> bool {
        let t0 = Instant::now();
        match self.mode {
            GcMode::StressFull => self.full_collection(roots),
            _ => {
                let (work, blocks) = if self.mode == GcMode::StressIncremental {
                    (64, 1)
                } else {
                    (STEP_WORK, SWEEP_BLOCKS)
                };
                match self.phase {
                    Phase::Idle => {
                        self.start_cycle(roots, false);
                        self.mark_some(work, roots);
                    }
                    Phase::Mark => self.mark_some(work, roots),
                    Phase::Sweep => self.sweep_some(blocks),
                }
            }
        }
        let ok = if self.bytes > self.max {
            self.full_collection(roots);
            self.bytes <= self.max
        } else {
            true
        };
        self.slice_done(t0.elapsed());
        self.set_trigger();
        ok
    }

    /// Whether `extra` more bytes could fit under the limit, collecting
    /// fully first if that is what it takes. For one large allocation.
    pub(crate) fn reserve(&mut self, extra: usize, roots: &mut Roots<'_>) -> bool {
        if self.bytes.saturating_add(extra) <= self.max {
            return true;
        }
        let t0 = Instant::now();
        self.full_collection(roots);
        self.slice_done(t0.elapsed());
        self.set_trigger();
        self.bytes.saturating_add(extra) <= self.max
    }

    fn set_trigger(&mut self) {
        let due = match (self.mode, self.phase) {
            (GcMode::Normal, Phase::Idle) => self.threshold,
            (GcMode::Normal, _) => self.bytes + STEP_BYTES,
            _ => 0,
        };
        // Past the limit, the next safepoint must look (and collect fully,
        // or stop the program) whatever the pacing says: otherwise a heap
        // limit below the threshold's floor would be checked only once the
        // heap reached that floor.
        self.trigger = due.min(self.max.saturating_add(1));
    }

    fn slice_done(&mut self, d: Duration) {
        self.stats.slices += 1;
        self.stats.total_pause += d;
        self.stats.max_pause = self.stats.max_pause.max(d);
        self.pauses.add(d);
        if let Some(c) = &mut self.cycle {
            c.slices += 1;
            c.pause += d;
            c.max_pause = c.max_pause.max(d);
        }
    }

    /// Finishes the cycle in progress, then runs a complete one, so that
    /// objects that died during the first are freed too.
    fn full_collection(&mut self, roots: &mut Roots<'_>) {
        if self.phase != Phase::Idle {
            self.mark_some(usize::MAX, roots);
            self.sweep_some(usize::MAX);
        }
        self.start_cycle(roots, true);
        self.mark_some(usize::MAX, roots);
        self.sweep_some(usize::MAX);
    }

    /// Begins a cycle: shades every root. Objects allocated from now on are
    /// black until marking ends.
    fn start_cycle(&mut self, roots: &mut Roots<'_>, full: bool) {
        debug_assert_eq!(self.phase, Phase::Idle);
        self.cycles += 1;
        self.cycle = Some(Cycle {
            number: self.cycles,
            started: Instant::now(),
            heap_before: self.bytes,
            slices: 0,
            pause: Duration::ZERO,
            max_pause: Duration::ZERO,
            full,
            root_slots: 0,
            root_objects: 0,
        });
        self.marked = Tally::default();
        self.freed = Tally::default();
        self.phase = Phase::Mark;
        self.marking = true;
        let mut slots = 0u64;
        roots(&mut |v| {
            slots += 1;
            self.shade(v);
        });
        let reached = self.marked.objects;
        if let Some(c) = &mut self.cycle {
            c.root_slots = slots;
            c.root_objects = reached;
        }
    }

    /// Scans gray objects until `budget` bytes of them are scanned or none
    /// is left; then marking is over and sweeping begins.
    fn mark_some(&mut self, budget: usize, roots: &mut Roots<'_>) {
        if self.phase != Phase::Mark {
            return;
        }
        let mut work = 0usize;
        while work < budget {
            let Some((h, from)) = self.gray.pop() else { break };
            // SAFETY: gray objects are live and of the kind their header says.
            work += unsafe { self.scan(h, from) };
        }
        if self.gray.is_empty() {
            if self.mode == GcMode::StressIncremental {
                self.verify_marks(roots);
            }
            self.phase = Phase::Sweep;
            self.marking = false;
            self.allocated_at_sweep = self.stats.allocated;
            self.objects.begin_sweep();
            self.large_unswept = self.large.len();
        }
    }

    /// Shades the children of `h` from index `from` (a chunk of them for
    /// arrays and maps, the rest pushed back gray); returns the bytes scanned.
    unsafe fn scan(&mut self, h: *mut Header, from: usize) -> usize {
        // SAFETY: the caller's promise; the layouts come from the verified
        // module, so the slots they name are references.
        unsafe {
            match (*h).kind {
                Kind::Free | Kind::Str => 16,
                Kind::Array => {
                    let a = h.cast::<ArrayObj>();
                    if !self.array_holds_refs(a) {
                        return 32;
                    }
                    let end = (*a).len.min(from + CHUNK);
                    for i in from..end {
                        self.shade((*a).get(i));
                    }
                    if end < (*a).len {
                        self.gray.push((h, end));
                    }
                    32 + 8 * (end - from.min(end))
                }
                Kind::Map => {
                    let m = h.cast::<MapObj>();
                    let vref = self.map_values_are_refs(m);
                    let skeys = (*m).str_keys();
                    let len = (*m).len as usize;
                    let end = len.min(from + CHUNK);
                    if vref || skeys {
                        for i in from..end {
                            let e = *(*m).entries.add(i);
                            if e.dead != 0 {
                                continue;
                            }
                            if skeys {
                                self.shade(e.key);
                            }
                            if vref {
                                self.shade(e.value);
                            }
                        }
                    }
                    if end < len {
                        self.gray.push((h, end));
                    }
                    64 + 24 * (end - from.min(end))
                }
                Kind::Object => {
                    let o = h.cast::<Obj>();
                    let class = (*h).aux as usize;
                    let n = self.layouts.class_ref_fields.get(class).map_or(0, Vec::len);
                    for k in 0..n {
                        let i = self.layouts.class_ref_fields[class][k] as usize;
                        self.shade(*field_ptr(o, i));
                    }
                    16 + 8 * self.layouts.class_fields.get(class).copied().unwrap_or(0) as usize
                }
                Kind::Closure => {
                    let c = h.cast::<ClosureObj>();
                    let func = (*h).aux as usize;
                    let caps = closure_caps(c);
                    for (i, &v) in caps.iter().enumerate() {
                        if self.layouts.capture_refs.get(func).and_then(|r| r.get(i)).copied().unwrap_or(false) {
                            self.shade(v);
                        }
                    }
                    16 + 8 * caps.len()
                }
                Kind::Cell => {
                    if (*h).aux != 0 {
                        self.shade((*h.cast::<CellObj>()).value);
                    }
                    16
                }
            }
        }
    }

    /// Sweeps up to `blocks` blocks; ends the cycle when all are swept.
    fn sweep_some(&mut self, blocks: usize) {
        if self.phase != Phase::Sweep {
            return;
        }
        let Heap {
            objects,
            pool,
            buffers,
            interner,
            bytes,
            large,
            large_unswept,
            freed,
            freed_log,
            ..
        } = self;
        let n = objects.sweep_some(blocks, pool, &mut |h| finalize(h, buffers, interner, bytes, freed, freed_log));
        let mut budget = blocks.saturating_sub(n).saturating_mul(64).max(1);
        while budget > 0 && *large_unswept > 0 {
            // From the end, so that removing is a swap; objects pushed
            // after the sweep began sit past `large_unswept` and are not swept.
            *large_unswept -= 1;
            let i = *large_unswept;
            let (h, size) = large[i];
            // SAFETY: `h` is a live large object.
            unsafe {
                if (*h).mark != 0 {
                    (*h).mark = 0;
                } else {
                    finalize(h, buffers, interner, bytes, freed, freed_log);
                    large.swap_remove(i);
                    free_large(h.cast(), size);
                    *bytes = bytes.saturating_sub(size);
                    freed.bytes += size;
                }
            }
            budget -= 1;
        }
        if objects.swept() && *large_unswept == 0 {
            self.end_cycle();
        }
    }

    fn end_cycle(&mut self) {
        self.phase = Phase::Idle;
        // What survived the sweep: the heap less what was allocated since
        // the sweep began (none of that was swept).
        let since = usize::try_from(self.stats.allocated - self.allocated_at_sweep).unwrap_or(usize::MAX);
        let live = self.bytes.saturating_sub(since);
        // GOGC = 100: the next cycle starts when the heap is twice the live data.
        self.threshold = live.saturating_mul(2).max(MIN_THRESHOLD);
        let Some(c) = self.cycle.take() else { return };
        if c.full {
            self.stats.full += 1;
        } else {
            self.stats.incremental += 1;
        }
        if self.log {
            eprintln!(
                "[gc #{} {}] roots {} slots ({} objects), marked {} objects ({}), freed {} objects ({}), \
                 heap {} -> {} ({} live), {} slice{}, pause {:.3} ms (longest {:.3} ms), {:.3} ms from start to end",
                c.number,
                if c.full { "full" } else { "incremental" },
                c.root_slots,
                c.root_objects,
                self.marked.objects,
                human(self.marked.bytes),
                self.freed.objects,
                human(self.freed.bytes),
                human(c.heap_before),
                human(self.bytes),
                human(live),
                c.slices + 1,
                if c.slices == 0 { "" } else { "s" },
                c.pause.as_secs_f64() * 1e3,
                c.max_pause.as_secs_f64() * 1e3,
                c.started.elapsed().as_secs_f64() * 1e3,
            );
        }
    }

    /// The stress mode's check: after marking, every object reachable from
    /// the roots must be marked. A failure means a store escaped the write
    /// barrier (or a root is missing), and the collector would free a live
    /// object: it stops the program.
    fn verify_marks(&mut self, roots: &mut Roots<'_>) {
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<u64> = Vec::new();
        roots(&mut |v| stack.push(v));
        let mut bad = None;
        while let Some(v) = stack.pop() {
            if v == 0 || !seen.insert(v) {
                continue;
            }
            let h = v as *mut Header;
            if !self.pool.in_arenas(h.cast()) && !self.large.iter().any(|&(l, _)| l == h) {
                bad = Some(format!("a reference {v:#x} points outside the heap"));
                break;
            }
            // SAFETY: `h` points into the heap (checked just above).
            unsafe {
                if (*h).mark == 0 || (*h).kind == Kind::Free {
                    bad = Some(format!("a reachable {:?} at {v:#x} is not marked", (*h).kind));
                    break;
                }
                self.children(h, &mut |c| stack.push(c));
            }
        }
        if let Some(why) = bad {
            panic!("collector invariant broken after marking: {why} (a store escaped the write barrier?)");
        }
    }

    /// Calls `f` with every reference held by object `h`.
    unsafe fn children(&self, h: *mut Header, f: &mut dyn FnMut(u64)) {
        // SAFETY: the caller's promise: `h` is a live object.
        unsafe {
            match (*h).kind {
                Kind::Array => {
                    let a = h.cast::<ArrayObj>();
                    if self.array_holds_refs(a) {
                        (0..(*a).len).for_each(|i| f((*a).get(i)));
                    }
                }
                Kind::Map => {
                    let m = h.cast::<MapObj>();
                    let vref = self.map_values_are_refs(m);
                    for e in (*m).iter() {
                        if (*m).str_keys() {
                            f(e.key);
                        }
                        if vref {
                            f(e.value);
                        }
                    }
                }
                Kind::Object => {
                    let class = (*h).aux as usize;
                    for &i in self.layouts.class_ref_fields.get(class).map(Vec::as_slice).unwrap_or(&[]) {
                        f(*field_ptr(h.cast(), i as usize));
                    }
                }
                Kind::Closure => {
                    let func = (*h).aux as usize;
                    for (i, &v) in closure_caps(h.cast()).iter().enumerate() {
                        if self.layouts.capture_refs.get(func).and_then(|r| r.get(i)).copied().unwrap_or(false) {
                            f(v);
                        }
                    }
                }
                Kind::Cell => {
                    if (*h).aux != 0 {
                        f((*h.cast::<CellObj>()).value);
                    }
                }
                Kind::Str | Kind::Free => {}
            }
        }
    }

    /// Counters so far.
    pub(crate) fn stats(&self) -> GcStats {
        GcStats {
            p50_pause: self.pauses.quantile(0.50),
            p99_pause: self.pauses.quantile(0.99),
            ..self.stats
        }
    }

    /// Bytes obtained from the system for the heap (arenas, large objects,
    /// the intern table), whether in use or not.
    pub(crate) fn footprint(&self) -> usize {
        self.pool.footprint + self.large.iter().map(|l| l.1).sum::<usize>() + self.interner.bytes()
    }
}

impl Storage for Heap {
    fn alloc_buffer(&mut self, bytes: usize) -> *mut u8 {
        Heap::alloc_buffer(self, bytes)
    }

    unsafe fn free_buffer(&mut self, p: *mut u8, bytes: usize) {
        // SAFETY: the caller's promise.
        unsafe { Heap::free_buffer(self, p, bytes) }
    }

    fn entries_moved(&mut self, m: *mut MapObj) {
        if self.marking {
            self.gray.push((m.cast(), 0));
        }
    }
}

/// Frees what a dead object owns and uncounts its cell.
fn finalize(
    h: *mut Header,
    buffers: &mut Cells,
    interner: &mut Interner,
    bytes: &mut usize,
    freed: &mut Tally,
    log: &mut Option<Vec<u64>>,
) {
    let before = *bytes;
    if let Some(log) = log {
        log.push(h as u64);
    }
    // SAFETY: `h` is a dead object the sweeper found: nothing refers to it,
    // and its payload is still intact.
    unsafe {
        match (*h).kind {
            Kind::Str if (*h).flags & STR_INTERNED != 0 => interner.remove(h.cast()),
            Kind::Array => {
                let a = h.cast::<ArrayObj>();
                if (*a).cap > 0 {
                    free_buffer(buffers, bytes, (*a).data, (*a).cap * (*a).width());
                }
            }
            Kind::Map => {
                let m = h.cast::<MapObj>();
                let mut s = Freeing { buffers, bytes };
                (*m).free_storage(&mut s);
            }
            _ => {}
        }
        // A large object's size is uncounted by its own sweep.
        if (*h).class != LARGE {
            *bytes = bytes.saturating_sub(class_size((*h).class as usize));
        }
    }
    freed.objects += 1;
    freed.bytes += before.saturating_sub(*bytes);
}

/// # Safety
/// `p` came from `alloc_buffer(n)` and is no longer used.
unsafe fn free_buffer(buffers: &mut Cells, bytes: &mut usize, p: *mut u8, n: usize) {
    if n <= MAX_SMALL {
        let c = class_of(n);
        // SAFETY: the caller's promise: a buffer cell of class `c`.
        unsafe { buffers.free(c, p) };
        *bytes = bytes.saturating_sub(class_size(c));
    } else {
        // SAFETY: the caller's promise: a large buffer of `n` bytes.
        unsafe { free_large(p, n) };
        *bytes = bytes.saturating_sub(n);
    }
}

/// Map storage freed during a sweep (when only the buffers are at hand).
struct Freeing<'a> {
    buffers: &'a mut Cells,
    bytes: &'a mut usize,
}

impl Storage for Freeing<'_> {
    fn alloc_buffer(&mut self, _bytes: usize) -> *mut u8 {
        unreachable!("a dead map does not grow")
    }

    unsafe fn free_buffer(&mut self, p: *mut u8, n: usize) {
        // SAFETY: the caller's promise.
        unsafe { free_buffer(self.buffers, self.bytes, p, n) }
    }

    fn entries_moved(&mut self, _m: *mut MapObj) {}
}

fn human(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        // Arenas go with the pool; large objects and large buffers are
        // freed here. Buffer cells live in arenas.
        let mut owned: Vec<(*mut u8, usize)> = Vec::new();
        let mut collect = |h: *mut Header| {
            // SAFETY: every object below the tops is a live or dead object
            // with an intact payload; nothing runs while the heap drops.
            unsafe {
                match (*h).kind {
                    Kind::Array => {
                        let a = h.cast::<ArrayObj>();
                        let n = (*a).cap * (*a).width();
                        if n > MAX_SMALL {
                            owned.push(((*a).data, n));
                        }
                    }
                    Kind::Map => {
                        let m = h.cast::<MapObj>();
                        let e = (*m).cap as usize * std::mem::size_of::<map::Entry>();
                        if e > MAX_SMALL {
                            owned.push(((*m).entries.cast(), e));
                        }
                        if (*m).index_bits != 0 && (4usize << (*m).index_bits) > MAX_SMALL {
                            owned.push(((*m).index.cast(), 4 << (*m).index_bits));
                        }
                    }
                    _ => {}
                }
            }
        };
        self.objects.for_each_object(&mut collect);
        for &(h, _) in &self.large {
            collect(h);
        }
        for (p, n) in owned {
            // SAFETY: each large buffer is owned by exactly one object and
            // freed once, here.
            unsafe { free_large(p, n) };
        }
        for &(h, size) in &self.large {
            // SAFETY: each large object is freed once, here.
            unsafe { free_large(h.cast(), size) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_freed_by_a_cycle() {
        let mut h = Heap::new(1 << 30, GcMode::Normal, false, Layouts::default());
        for i in 0..100_000 {
            h.alloc_str(&format!("a string long enough not to be interned, number {i}"));
        }
        let before = h.bytes;
        let mut no_roots = |_: &mut dyn FnMut(u64)| {};
        h.full_collection(&mut no_roots);
        assert!(h.bytes < before / 10, "{} of {before} bytes left", h.bytes);
    }

    #[test]
    fn incremental_cycles_free_garbage_as_the_program_runs() {
        let mut h = Heap::new(1 << 30, GcMode::Normal, false, Layouts::default());
        let mut no_roots = |_: &mut dyn FnMut(u64)| {};
        for i in 0..2_000_000 {
            h.alloc_str(&format!("a string long enough not to be interned, number {i}"));
            if h.wants_gc() {
                assert!(h.step(&mut no_roots));
            }
        }
        assert!(h.stats().incremental > 5);
        assert!(h.stats().peak < 4 * MIN_THRESHOLD, "peak {}", h.stats().peak);
    }
}
