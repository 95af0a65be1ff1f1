//! Records of active calls, and of active `try` blocks.
//!
//! Every active call has a [`Frame`] in the VM's [`FrameStack`], the running
//! one on top, whichever tier runs it: the interpreter and compiled code
//! push and pop the same records, so the collector finds every frame's
//! registers, a stack trace names every function, and a run suspended in
//! compiled code resumes in the interpreter. The stack is a plain array with
//! a fixed layout (`#[repr(C)]`, no `Vec`), because compiled code pushes and
//! pops records itself: its offsets are part of the contract with the JIT.

use std::alloc::{alloc, dealloc, Layout};

/// An active call.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Frame {
    /// Where its registers start (see `crate::stack`).
    pub base: *mut u64,
    pub func: u32,
    /// For a caller: where it continues (the instruction after its call).
    /// For the running frame: written when it calls or stops.
    pub pc: u32,
    /// Register of the caller receiving the result.
    pub dst: u16,
}

/// An active `try`.
#[derive(Debug, Clone, Copy)]
pub struct Handler {
    /// Index in `frames` of the frame that pushed it.
    pub depth: u32,
    pub target: u32,
    pub reg: u16,
}

/// A growable array of frames with a known layout: `ptr`, `len`, `cap`,
/// and `limit`, the room compiled code may fill without asking: the
/// capacity, but never more than `max` frames (the depth limit).
#[repr(C)]
pub struct FrameStack {
    pub ptr: *mut Frame,
    pub len: usize,
    pub cap: usize,
    pub limit: usize,
    pub max: usize,
}

fn layout(cap: usize) -> Layout {
    Layout::array::<Frame>(cap).expect("frame counts are bounded by max_depth")
}

impl FrameStack {
    /// An empty stack for at most `max` frames (more is refused by
    /// compiled code; the interpreter checks the same limit itself).
    pub fn new(max: usize) -> FrameStack {
        let mut s = FrameStack {
            ptr: std::ptr::null_mut(),
            len: 0,
            cap: 0,
            limit: 0,
            max,
        };
        s.grow();
        s
    }

    /// Doubles the capacity (at least 64 frames).
    #[cold]
    pub fn grow(&mut self) {
        let cap = (self.cap * 2).max(64);
        // SAFETY: a non-zero layout.
        let p = unsafe { alloc(layout(cap)) }.cast::<Frame>();
        if p.is_null() {
            std::alloc::handle_alloc_error(layout(cap));
        }
        if self.cap > 0 {
            // SAFETY: the old buffer holds `len` frames; the new one has room.
            unsafe {
                std::ptr::copy_nonoverlapping(self.ptr, p, self.len);
                dealloc(self.ptr.cast(), layout(self.cap));
            }
        }
        self.ptr = p;
        self.cap = cap;
        self.limit = cap.min(self.max);
    }

    #[inline]
    pub fn push(&mut self, f: Frame) {
        if self.len == self.cap {
            self.grow();
        }
        // SAFETY: `len < cap`.
        unsafe { self.ptr.add(self.len).write(f) };
        self.len += 1;
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn last(&self) -> Option<&Frame> {
        self.as_slice().last()
    }

    #[inline]
    pub fn last_mut(&mut self) -> Option<&mut Frame> {
        self.as_mut_slice().last_mut()
    }

    pub fn first(&self) -> Option<&Frame> {
        self.as_slice().first()
    }

    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Frame> {
        self.as_slice().iter()
    }

    #[inline]
    pub fn as_slice(&self) -> &[Frame] {
        // SAFETY: `ptr` holds `len` initialised frames (and is non-null).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [Frame] {
        // SAFETY: as above.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl std::ops::Index<std::ops::RangeFrom<usize>> for FrameStack {
    type Output = [Frame];
    fn index(&self, r: std::ops::RangeFrom<usize>) -> &[Frame] {
        &self.as_slice()[r]
    }
}

impl Drop for FrameStack {
    fn drop(&mut self) {
        // SAFETY: allocated with this layout (frames need no drop).
        unsafe { dealloc(self.ptr.cast(), layout(self.cap)) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_grow_and_pops_return_in_order() {
        let mut s = FrameStack::new(500);
        for i in 0..1000u32 {
            s.push(Frame {
                base: std::ptr::null_mut(),
                func: i,
                pc: 0,
                dst: 0,
            });
        }
        assert_eq!(s.len(), 1000);
        // Compiled code's room stops at the depth limit.
        assert!(s.cap >= 1000);
        assert_eq!(s.limit, 500);
        assert_eq!(s.last().map(|f| f.func), Some(999));
        s.truncate(10);
        assert_eq!(s.last().map(|f| f.func), Some(9));
        assert_eq!(s.iter().map(|f| f.func).sum::<u32>(), (0..10).sum());
    }
}
