//! `sort_by` and `binary_search`: algorithms over arrays of any element
//! type, calling back into pvm for every comparison.
//!
//! The comparator is pvm code, so it can allocate (and the collector run),
//! throw, or even change the array. Two rules keep that safe:
//! * the elements being sorted are copied into a list that the collector
//!   treats as roots ([`Vm::push_roots`]), so none is freed mid-sort;
//! * the sort is our own merge sort, which finishes whatever the
//!   comparator answers (Rust's `sort_by` may panic on an inconsistent
//!   order), and it writes back only if the array still has its length.

use super::Sig;
use crate::error::Trap;
use crate::Vm;

pub(super) fn sort_by(vm: &mut Vm, a: &[u64], sig: &Sig) -> Result<u64, Trap> {
    let (arr, less) = (a[0], a[1]);
    if less == 0 {
        return Err(crate::nil());
    }
    // SAFETY: the linker matched parameter 0 against an array type.
    let items = unsafe { vm.array_items(arr) }.ok_or_else(crate::nil)?;
    let mut cmp = |vm: &mut Vm, x, y| Ok(vm.call_closure(less, &[x, y])? != 0);
    let sorted = if vm.is_ref_type(vm.elem_type(sig.params[0])) {
        let base = vm.push_roots(&items);
        let r = merge_sort(vm, items, Some(base), &mut cmp);
        vm.pop_roots(base);
        r?
    } else {
        merge_sort(vm, items, None, &mut cmp)?
    };
    // SAFETY: `arr` is still a live array (it is an argument of this call,
    // so a register of the calling frame holds it), and `sorted` holds
    // values of its element type.
    unsafe { vm.array_replace(arr, &sorted) }
        .then_some(0)
        .ok_or_else(|| Trap::Error("invalid argument: the array changed length while sort_by compared its elements".into()))
}

pub(super) fn binary_search(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let (arr, x, cmp) = (a[0], a[1], a[2]);
    if cmp == 0 {
        return Err(crate::nil());
    }
    let (mut lo, mut hi) = (0i64, {
        // SAFETY: the linker matched parameter 0 against an array type.
        unsafe { vm.array_len(arr) }.ok_or_else(crate::nil)? as i64
    });
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        // Read the element afresh each time: the comparator may change the array.
        // SAFETY: as above.
        let Some(e) = (unsafe { vm.array_get(arr, mid) }) else {
            return Err(Trap::Error("index out of range: the array changed during binary_search".into()));
        };
        let c = vm.call_closure(cmp, &[e, x])? as i64;
        if c < 0 {
            lo = mid + 1;
        } else if c > 0 {
            hi = mid;
        } else {
            return Ok(mid as u64);
        }
    }
    Ok((-lo - 1) as u64)
}

type Less<'f> = dyn FnMut(&mut Vm, u64, u64) -> Result<bool, Trap> + 'f;

/// A stable merge sort, which never fails on an inconsistent comparator.
/// When the values are references, `roots` is where [`Vm::push_roots`] put
/// them: the working copy is mirrored there after each pass, so every value
/// stays reachable while the comparator runs.
fn merge_sort(vm: &mut Vm, items: Vec<u64>, roots: Option<usize>, less: &mut Less<'_>) -> Result<Vec<u64>, Trap> {
    let n = items.len();
    let mut width = 1;
    let mut src = items;
    let mut dst = vec![0u64; n];
    while width < n {
        let mut i = 0;
        while i < n {
            let mid = (i + width).min(n);
            let end = (i + 2 * width).min(n);
            let (mut l, mut r, mut o) = (i, mid, i);
            while l < mid && r < end {
                // Stable: take from the right only when it is strictly less.
                if less(vm, src[r], src[l])? {
                    dst[o] = src[r];
                    r += 1;
                } else {
                    dst[o] = src[l];
                    l += 1;
                }
                o += 1;
            }
            dst[o..o + (mid - l)].copy_from_slice(&src[l..mid]);
            o += mid - l;
            dst[o..o + (end - r)].copy_from_slice(&src[r..end]);
            i = end;
        }
        std::mem::swap(&mut src, &mut dst);
        if let Some(base) = roots {
            vm.set_roots(base, &src);
        }
        width *= 2;
    }
    Ok(src)
}
