//! pvm's map: a hash map that remembers insertion order, with removal in
//! amortised O(1), laid out as CPython's dict is.
//!
//! ```text
//!  index (power of two, open addressing)     entries (insertion order)
//!  +---+---+---+---+---+---+---+---+         +-----+-------+------+------+
//!  | 0 | 3 | T | 0 | 1 | 0 | 2 | 0 |         | key | value | hash | dead |  0
//!  +---+---+---+---+---+---+---+---+         | key | value | hash | dead |  1
//!    0 = empty, T = removed, n = entry n-1   | ... |       |      |      |
//! ```
//!
//! Lookup hashes the key once, probes the index and compares the stored
//! hash before the key. Removal marks the entry dead and its index slot
//! removed (T); when dead entries outnumber live ones, the entries are
//! compacted in place (order kept) and the index rebuilt. Maps of up to
//! eight entries have no index at all: they are scanned.
//!
//! String keys are compared by content; each string caches its hash, so a
//! key is hashed at most once in its life. The entry last found is tried
//! first, so `m[k] += 1` probes for `k` once.

use super::object::{str_bytes, Header, StrObj, MAP_STR_KEYS};

/// One entry. `dead` entries keep their place until compaction.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Entry {
    pub key: u64,
    pub value: u64,
    pub hash: u32,
    pub dead: u32,
}

#[repr(C)]
pub(crate) struct MapObj {
    pub hdr: Header,
    pub entries: *mut Entry,
    /// Entries used, dead ones included.
    pub len: u32,
    pub live: u32,
    pub cap: u32,
    /// log2 of the index size; 0 when there is no index.
    pub index_bits: u32,
    pub index: *mut u32,
    /// The entry last found or inserted (`u32::MAX`: none), tried first.
    pub last_pos: u32,
}

const EMPTY: u32 = 0;
const REMOVED: u32 = u32::MAX;
/// Maps with at most this many entries have no index.
const SCAN_MAX: u32 = 8;

/// Allocation of map storage, provided by the heap (which counts it).
pub(crate) trait Storage {
    fn alloc_buffer(&mut self, bytes: usize) -> *mut u8;
    /// # Safety
    /// `p` came from `alloc_buffer(bytes)` and is no longer used.
    unsafe fn free_buffer(&mut self, p: *mut u8, bytes: usize);
    /// A map's entries were moved (compaction): if the collector is
    /// marking, the map must be scanned again.
    fn entries_moved(&mut self, m: *mut MapObj);
}

/// The hash of an `int` or `bool` key.
#[inline]
fn hash_int(k: u64) -> u32 {
    (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}

/// The hash of string bytes (never 0: 0 means "not computed").
pub(crate) fn hash_bytes(b: &[u8]) -> u32 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(b);
    let x = h.finish();
    ((x >> 32) as u32 ^ x as u32) | 1
}

/// The cached hash of a string, computing it on first use.
/// # Safety
/// `s` is a live string.
#[inline]
pub(crate) unsafe fn str_hash(s: *mut StrObj) -> u32 {
    // SAFETY: the caller's promise.
    unsafe {
        let h = (*s).hdr.aux;
        if h != 0 {
            return h;
        }
        let h = hash_bytes(str_bytes(s));
        (*s).hdr.aux = h;
        h
    }
}

impl MapObj {
    pub(crate) fn new_header(hdr: Header) -> MapObj {
        MapObj {
            hdr,
            entries: std::ptr::null_mut(),
            len: 0,
            live: 0,
            cap: 0,
            index_bits: 0,
            index: std::ptr::null_mut(),
            last_pos: u32::MAX,
        }
    }

    #[inline]
    pub(crate) fn str_keys(&self) -> bool {
        self.hdr.flags & MAP_STR_KEYS != 0
    }

    /// # Safety
    /// For a map with string keys, `k` is a live string.
    #[inline]
    unsafe fn hash_of(&self, k: u64) -> u32 {
        if self.str_keys() {
            // SAFETY: the caller's promise.
            unsafe { str_hash(k as *mut StrObj) }
        } else {
            hash_int(k)
        }
    }

    /// # Safety
    /// As `hash_of`, for both keys.
    #[inline]
    unsafe fn same_key(&self, a: u64, b: u64) -> bool {
        a == b
            // SAFETY: the caller's promise: both are live strings.
            || (self.str_keys() && unsafe { str_bytes(a as *const StrObj) == str_bytes(b as *const StrObj) })
    }

    /// The entries, dead ones included.
    pub(crate) fn entries(&self) -> &[Entry] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `entries` holds `len` initialised entries.
        unsafe { std::slice::from_raw_parts(self.entries, self.len as usize) }
    }

    /// Live entries in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries().iter().filter(|e| e.dead == 0)
    }

    /// The position of key `k`'s live entry.
    /// # Safety
    /// For a map with string keys, `k` is a live string.
    #[inline(never)]
    pub(crate) unsafe fn find(&mut self, k: u64) -> Option<u32> {
        if self.last_pos < self.len {
            // SAFETY: `last_pos < len`.
            let e = unsafe { *self.entries.add(self.last_pos as usize) };
            // The same key object is the common case (`m[k] += 1`); another
            // object with the same text is checked by hash and content.
            // SAFETY: the caller's promise; live keys are live strings.
            if e.dead == 0
                && (e.key == k || (self.str_keys() && e.hash == unsafe { self.hash_of(k) } && unsafe { self.same_key(e.key, k) }))
            {
                return Some(self.last_pos);
            }
        }
        // SAFETY: the caller's promise.
        let h = unsafe { self.hash_of(k) };
        let pos = if self.index_bits == 0 {
            self.entries()
                .iter()
                // SAFETY: live keys of a string map are live strings.
                .position(|e| e.dead == 0 && e.hash == h && unsafe { self.same_key(e.key, k) })
                .map(|p| p as u32)
        } else {
            let mask = (1u32 << self.index_bits) - 1;
            let mut i = h & mask;
            loop {
                // SAFETY: `i <= mask` indexes the index table.
                let slot = unsafe { *self.index.add(i as usize) };
                if slot == EMPTY {
                    break None;
                }
                if slot != REMOVED {
                    // SAFETY: index slots name entries < len.
                    let e = unsafe { &*self.entries.add(slot as usize - 1) };
                    // SAFETY: as above.
                    if e.dead == 0 && e.hash == h && unsafe { self.same_key(e.key, k) } {
                        break Some(slot - 1);
                    }
                }
                i = (i + 1) & mask;
            }
        };
        if let Some(p) = pos {
            self.last_pos = p;
        }
        pos
    }

    /// The value of key `k`.
    /// # Safety
    /// As `find`.
    pub(crate) unsafe fn get(&mut self, k: u64) -> Option<u64> {
        // SAFETY: the caller's promise; found positions are < len.
        unsafe { self.find(k).map(|p| (*self.entries.add(p as usize)).value) }
    }

    /// Sets key `k` to `v`; returns the value it replaced, if any.
    /// # Safety
    /// As `find`; `s` is the heap that owns this map's storage.
    pub(crate) unsafe fn insert(&mut self, s: &mut dyn Storage, k: u64, v: u64) -> Option<u64> {
        // SAFETY: the caller's promise.
        if let Some(p) = unsafe { self.find(k) } {
            // SAFETY: found positions are < len.
            let e = unsafe { &mut *self.entries.add(p as usize) };
            return Some(std::mem::replace(&mut e.value, v));
        }
        if self.len == self.cap {
            // SAFETY: `s` owns the storage.
            unsafe { self.make_room(s) };
        }
        // SAFETY: the caller's promise.
        let h = unsafe { self.hash_of(k) };
        let pos = self.len;
        // SAFETY: `len < cap` after `make_room`.
        unsafe {
            self.entries.add(pos as usize).write(Entry {
                key: k,
                value: v,
                hash: h,
                dead: 0,
            })
        };
        self.len += 1;
        self.live += 1;
        if self.index_bits != 0 {
            // SAFETY: the index has room (load <= 1/2).
            unsafe { self.index_insert(h, pos) };
        }
        self.last_pos = pos;
        None
    }

    /// Removes key `k`; returns its entry's key and value.
    /// # Safety
    /// As `insert`.
    pub(crate) unsafe fn remove(&mut self, s: &mut dyn Storage, k: u64) -> Option<(u64, u64)> {
        // SAFETY: the caller's promise.
        let p = unsafe { self.find(k) }?;
        // SAFETY: found positions are < len.
        let e = unsafe { &mut *self.entries.add(p as usize) };
        e.dead = 1;
        let out = (e.key, e.value);
        self.live -= 1;
        self.last_pos = u32::MAX;
        if self.index_bits != 0 {
            let mask = (1u32 << self.index_bits) - 1;
            let mut i = e.hash & mask;
            loop {
                // SAFETY: `i <= mask`.
                let slot = unsafe { &mut *self.index.add(i as usize) };
                if *slot == p + 1 {
                    *slot = REMOVED;
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        if self.live == 0 {
            // Nothing left: start again from the first entry.
            self.len = 0;
            if self.index_bits != 0 {
                // SAFETY: the index has 1 << bits slots.
                unsafe { std::ptr::write_bytes(self.index, 0, 1 << self.index_bits) };
            }
        } else if self.len > SCAN_MAX && self.len - self.live > self.live {
            // SAFETY: `s` owns the storage.
            unsafe { self.compact(s) };
        }
        Some(out)
    }

    /// # Safety
    /// The index exists and has an empty slot.
    unsafe fn index_insert(&mut self, h: u32, pos: u32) {
        let mask = (1u32 << self.index_bits) - 1;
        let mut i = h & mask;
        // SAFETY: the caller's promise; `i <= mask`.
        unsafe {
            while *self.index.add(i as usize) != EMPTY {
                i = (i + 1) & mask;
            }
            *self.index.add(i as usize) = pos + 1;
        }
    }

    /// Makes room for one more entry: compacts if many are dead, else grows.
    unsafe fn make_room(&mut self, s: &mut dyn Storage) {
        if self.len > SCAN_MAX && self.len - self.live >= self.len / 4 {
            // SAFETY: `s` owns the storage.
            unsafe { self.compact(s) };
            return;
        }
        let new_cap = if self.cap == 0 { 4 } else { self.cap * 2 };
        let bytes = new_cap as usize * std::mem::size_of::<Entry>();
        let p = s.alloc_buffer(bytes).cast::<Entry>();
        if self.len > 0 {
            // SAFETY: the old buffer holds `len` entries; the new has room.
            unsafe { std::ptr::copy_nonoverlapping(self.entries, p, self.len as usize) };
        }
        if self.cap > 0 {
            // SAFETY: the old buffer is no longer used.
            unsafe { s.free_buffer(self.entries.cast(), self.cap as usize * std::mem::size_of::<Entry>()) };
        }
        self.entries = p;
        self.cap = new_cap;
        // SAFETY: `s` owns the storage.
        unsafe { self.rebuild_index(s) };
    }

    /// Moves live entries to the front, in order, and rebuilds the index.
    unsafe fn compact(&mut self, s: &mut dyn Storage) {
        let mut w = 0usize;
        for r in 0..self.len as usize {
            // SAFETY: `r < len`, `w <= r`.
            unsafe {
                let e = *self.entries.add(r);
                if e.dead == 0 {
                    *self.entries.add(w) = e;
                    w += 1;
                }
            }
        }
        self.len = w as u32;
        self.last_pos = u32::MAX;
        s.entries_moved(self);
        // SAFETY: `s` owns the storage.
        unsafe { self.rebuild_index(s) };
    }

    /// Sizes the index for `cap` entries (at most half full) and fills it.
    unsafe fn rebuild_index(&mut self, s: &mut dyn Storage) {
        let want_bits = if self.cap <= SCAN_MAX {
            0
        } else {
            (self.cap * 2).next_power_of_two().trailing_zeros()
        };
        if want_bits != self.index_bits {
            if self.index_bits != 0 {
                // SAFETY: the old index is no longer used.
                unsafe { s.free_buffer(self.index.cast(), 4 << self.index_bits) };
            }
            self.index_bits = want_bits;
            self.index = if want_bits == 0 {
                std::ptr::null_mut()
            } else {
                s.alloc_buffer(4 << want_bits).cast()
            };
        }
        if self.index_bits == 0 {
            return;
        }
        // SAFETY: the index has 1 << bits slots; entries < len are initialised.
        unsafe {
            std::ptr::write_bytes(self.index, 0, 1 << self.index_bits);
            for p in 0..self.len {
                let e = *self.entries.add(p as usize);
                if e.dead == 0 {
                    self.index_insert(e.hash, p);
                }
            }
        }
    }

    /// Frees the storage (when the map dies).
    /// # Safety
    /// The map is dead and `s` owns its storage.
    pub(crate) unsafe fn free_storage(&mut self, s: &mut dyn Storage) {
        // SAFETY: the caller's promise.
        unsafe {
            if self.cap > 0 {
                s.free_buffer(self.entries.cast(), self.cap as usize * std::mem::size_of::<Entry>());
            }
            if self.index_bits != 0 {
                s.free_buffer(self.index.cast(), 4 << self.index_bits);
            }
        }
        self.cap = 0;
        self.index_bits = 0;
    }
}
