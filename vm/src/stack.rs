//! The register stack: where every active call's registers live.
//!
//! A call's registers are a window of 8-byte slots. Windows of nested calls
//! sit one after another in a *chunk*, a 1 MiB block aligned to its size,
//! so the end of the chunk holding a window is found from the window's
//! address alone. When a callee's window does not fit in the rest of its
//! caller's chunk, it starts the next chunk, which is allocated the first
//! time it is needed and kept for reuse:
//!
//! ```text
//!  chunk 0 (1 MiB)                              chunk 1
//! +---------+---------+-----------+--------+   +---------+---------+-- ...
//! | main    | f       | g         | (free) |   | h       | h       |
//! +---------+---------+-----------+--------+   +---------+---------+-- ...
//!                                    h does not fit here: it goes there
//! ```
//!
//! So the stack grows as deep recursion needs, bounded by memory (the heap
//! limit counts the chunks) rather than by a constant, and a window never
//! moves once placed (frames refer to it by address, and so will compiled
//! code). A window is at most 65,536 registers (the verifier's bound), half
//! a chunk, so it always fits in a fresh one.

use std::alloc::{alloc_zeroed, dealloc, Layout};

/// Slots per chunk.
pub(crate) const CHUNK_SLOTS: usize = 1 << 17;
pub(crate) const CHUNK_BYTES: usize = CHUNK_SLOTS * 8;

/// The largest window (registers of one function) a chunk is sure to hold:
/// the verifier allows no more registers than that.
const MAX_WINDOW: usize = CHUNK_SLOTS / 2;
const _: () = assert!(pvm_bytecode::verify::MAX_REGISTERS <= MAX_WINDOW);

/// The window right after `[base, base + caller_n)` for `n` registers, if
/// it fits in the same chunk (the fast path of every call).
#[inline(always)]
pub(crate) fn fits(base: *mut u64, caller_n: usize, n: usize) -> Option<*mut u64> {
    let end = (base as usize & !(CHUNK_BYTES - 1)) + CHUNK_BYTES;
    let nb = base as usize + caller_n * 8;
    (nb + n * 8 <= end).then_some(nb as *mut u64)
}

pub(crate) struct RegStack {
    chunks: Vec<*mut u64>,
}

fn layout() -> Layout {
    Layout::from_size_align(CHUNK_BYTES, CHUNK_BYTES).expect("chunk layout is valid")
}

impl RegStack {
    pub(crate) fn new() -> RegStack {
        let mut s = RegStack { chunks: Vec::new() };
        s.grow();
        s
    }

    fn grow(&mut self) -> *mut u64 {
        // SAFETY: the layout has a non-zero size. Zeroed, so the pages are
        // only touched (made resident) when used.
        let p = unsafe { alloc_zeroed(layout()) }.cast::<u64>();
        if p.is_null() {
            std::alloc::handle_alloc_error(layout());
        }
        self.chunks.push(p);
        p
    }

    /// Where the first window (an activation with no caller) starts.
    pub(crate) fn bottom(&self) -> *mut u64 {
        self.chunks[0]
    }

    /// Bytes of chunks allocated (counted against the heap limit).
    pub(crate) fn bytes(&self) -> usize {
        self.chunks.len() * CHUNK_BYTES
    }

    /// The window for a callee of `n` registers after its caller's window
    /// `[base, base + caller_n)`: right after it if it fits in that chunk,
    /// else at the start of the next chunk. `None` when a new chunk would
    /// be needed but `may_grow` says no (the memory limit).
    pub(crate) fn next_window(
        &mut self,
        base: *mut u64,
        caller_n: usize,
        n: usize,
        may_grow: impl FnOnce(usize) -> bool,
    ) -> Option<*mut u64> {
        if let Some(nb) = fits(base, caller_n, n) {
            return Some(nb);
        }
        let start = base as usize & !(CHUNK_BYTES - 1);
        let i = self.chunks.iter().position(|&c| c as usize == start)?;
        if let Some(&next) = self.chunks.get(i + 1) {
            return Some(next);
        }
        if !may_grow(CHUNK_BYTES) {
            return None;
        }
        Some(self.grow())
    }
}

impl Drop for RegStack {
    fn drop(&mut self) {
        for &c in &self.chunks {
            // SAFETY: every chunk was allocated with this layout and is
            // freed once, here.
            unsafe { dealloc(c.cast(), layout()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_each_other_and_spill_into_new_chunks() {
        let mut s = RegStack::new();
        let b0 = s.bottom();
        let b1 = s.next_window(b0, 10, 20, |_| true).expect("fits");
        assert_eq!(b1 as usize - b0 as usize, 80);
        // A window that does not fit the rest of the chunk starts the next.
        let far = (b0 as usize + (CHUNK_SLOTS - 5) * 8) as *mut u64;
        let b2 = s.next_window(far, 1, 10, |_| true).expect("new chunk");
        assert_eq!(b2 as usize % CHUNK_BYTES, 0);
        assert_ne!(b2 as usize & !(CHUNK_BYTES - 1), b0 as usize & !(CHUNK_BYTES - 1));
        assert_eq!(s.bytes(), 2 * CHUNK_BYTES);
        // The chunk is reused, and refused growth is `None`.
        assert_eq!(s.next_window(far, 1, 10, |_| false), Some(b2));
        let far2 = (b2 as usize + (CHUNK_SLOTS - 5) * 8) as *mut u64;
        assert_eq!(s.next_window(far2, 1, 10, |_| false), None);
    }
}
