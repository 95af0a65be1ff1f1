//! The VM's own machine stack, for compiled code.
//!
//! The interpreter keeps pvm calls off the machine stack (frames are
//! records in `crate::frames`), but compiled code calls compiled code with
//! machine `call` instructions, so recursion in pvm is recursion on the
//! machine stack. The thread that calls into the VM may have little of it
//! (2 MiB for a Rust thread by default), so with the JIT on, every run
//! switches to a stack the VM owns, big enough for its `max_depth`, and
//! switches back when it returns.
//!
//! The stack is reserved address space (`mmap` with `MAP_NORESERVE`): pages
//! become memory only when touched. Below it lies a guard page, and every
//! compiled function's prologue (and every re-entry of the VM) checks that
//! the stack pointer is above [`NativeStack::limit`], a red zone above the
//! guard, so deep recursion is the catchable error `stack overflow`, never
//! a crash: the red zone leaves room for the Rust code compiled code calls
//! (helpers, natives, the collector).

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// Room kept free above the guard page for Rust code.
const RED_ZONE: usize = 1 << 20;
const GUARD: usize = 1 << 16;

pub(crate) struct NativeStack {
    /// The whole mapping, guard included.
    map: *mut u8,
    len: usize,
}

impl NativeStack {
    /// Reserves a stack of `size` bytes (rounded to 64 KiB); `None` when
    /// the system refuses the address space.
    pub(crate) fn new(size: usize) -> Option<NativeStack> {
        let size = size.checked_next_multiple_of(GUARD)?.max(4 * RED_ZONE);
        let len = size.checked_add(GUARD)?;
        // SAFETY: an anonymous private mapping at an address of the
        // kernel's choosing: no existing memory is affected.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return None;
        }
        let s = NativeStack { map: map.cast(), len };
        // SAFETY: the first GUARD bytes are part of the mapping just made.
        if unsafe { libc::mprotect(map, GUARD, libc::PROT_NONE) } != 0 {
            return None; // dropped: unmapped
        }
        Some(s)
    }

    /// The lowest address the stack pointer may reach in pvm code.
    pub(crate) fn limit(&self) -> usize {
        self.map as usize + GUARD + RED_ZONE
    }

    /// Runs `f` on this stack. A panic in `f` is caught on this stack and
    /// raised again on the caller's.
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let base = self.map.wrapping_add(GUARD);
        let size = self.len - GUARD;
        // SAFETY: `[base, base + size)` is mapped read-write, 64 KiB aligned
        // (page aligned, and a multiple of any stack alignment), owned by
        // this value, which outlives the call; the callback cannot unwind
        // (panics are caught inside it).
        let r = unsafe { psm::on_stack(base, size, || catch_unwind(AssertUnwindSafe(f))) };
        match r {
            Ok(v) => v,
            Err(p) => resume_unwind(p),
        }
    }
}

impl Drop for NativeStack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once; no code runs on
        // it any more (`run` has returned).
        unsafe { libc::munmap(self.map.cast(), self.len) };
    }
}

/// The current stack pointer, near enough (a local's address).
#[inline(always)]
pub(crate) fn stack_pointer() -> usize {
    let x = 0u8;
    std::hint::black_box(&x) as *const u8 as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_its_own_stack_and_passes_panics_back() {
        let s = NativeStack::new(8 << 20).expect("8 MiB of address space");
        let sp = s.run(stack_pointer);
        assert!(sp > s.limit() && sp < s.map as usize + s.len, "ran on the private stack");
        // Deep recursion that would not fit a 2 MiB thread stack.
        fn down(n: u64) -> u64 {
            let pad = std::hint::black_box([n; 64]);
            if n == 0 {
                0
            } else {
                pad[3] + down(n - 1) - n + 1
            }
        }
        assert_eq!(s.run(|| down(5_000)), 5_000);
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| s.run(|| panic!("boom"))));
        assert!(r.is_err());
        assert_eq!(s.run(|| 7), 7, "usable after a panic");
    }
}
