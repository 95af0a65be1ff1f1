//! Where objects live: size-classed blocks, large objects apart, and the
//! buffers that hold container elements.
//!
//! ```text
//!  arena (1 MiB, from the system allocator, 64 KiB aligned)
//! +----------+----------+----------+-- ... --+----------+
//! | block 0  | block 1  | block 2  |         | block 15 |
//! +----------+----------+----------+-- ... --+----------+
//!
//!  block (64 KiB): one size class; a header, then equal cells
//! +--------+------+------+------+------+------+---------------------+
//! | header | cell | cell | cell | cell | cell |  not yet used  ...  |
//! +--------+------+------+------+------+------+---------------------+
//!                                              ^ top: cells below it exist
//! ```
//!
//! A small object gets a cell of the smallest class that fits: from its
//! class's free list, or by bumping the class's current block's `top`, or
//! from a fresh block. Nothing calls the system allocator per object; a
//! whole arena is asked for at a time, and blocks are reused once empty.
//! A cell's block is found from its address (blocks are aligned to their
//! size), and the block's header says its class.
//!
//! Object blocks are swept (see `Cells::sweep_block`): every cell below
//! `top` is looked at; dead objects become free cells, threaded into the
//! class's free list. Buffer blocks (element storage of arrays and maps)
//! are never swept: a buffer is freed explicitly when its object dies or
//! outgrows it. Anything larger than the biggest class is allocated on its
//! own (large objects and large buffers) and freed on its own.

use super::object::{Header, Kind};
use std::alloc::{alloc, dealloc, Layout};
use std::ptr;

pub(crate) const BLOCK_SIZE: usize = 64 << 10;
const BLOCKS_PER_ARENA: usize = 16;
const ARENA_SIZE: usize = BLOCK_SIZE * BLOCKS_PER_ARENA;

/// Cell sizes, in bytes. Each step wastes at most about 25%.
pub(crate) const CLASS_SIZES: [u32; 30] = [
    16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 1024, 1280, 1536, 2048, 2560, 3072, 4096,
    5120, 6144, 8192,
];

/// Objects and buffers larger than this are allocated on their own.
pub(crate) const MAX_SMALL: usize = 8192;

/// The size class for `size` bytes (`size <= MAX_SMALL`).
#[inline]
pub(crate) fn class_of(size: usize) -> usize {
    if size <= 48 {
        // 16, 24, 32, 40, 48: one class per 8 bytes.
        return (size.max(16) - 9) / 8;
    }
    CLASS_SIZES.partition_point(|&c| (c as usize) < size)
}

/// The header at the start of every block.
#[repr(C)]
pub(crate) struct BlockHeader {
    /// Size class index.
    pub class: u8,
    /// Whether the block holds buffers (never swept) rather than objects.
    pub buffers: bool,
    /// Cells in use: set when the block is swept or emptied.
    pub live: u32,
    /// Address just past the last cell ever handed out.
    pub top: *mut u8,
}

/// Cells start after the header, rounded up to 16 bytes.
const FIRST_CELL: usize = (std::mem::size_of::<BlockHeader>() + 15) & !15;

/// A free cell: the header's kind is `Free` (for object cells), and the
/// next free cell follows it. Buffer cells use the first word only.
#[repr(C)]
struct FreeCell {
    hdr: u64,
    next: *mut FreeCell,
}

/// One size class's allocation state.
struct Class {
    size: usize,
    free: *mut FreeCell,
    /// Bump allocation in the current block: `bump..end`.
    bump: *mut u8,
    end: *mut u8,
    /// The block being bumped (its `top` is `bump`).
    current: *mut BlockHeader,
    /// Every block of this class.
    blocks: Vec<*mut BlockHeader>,
    /// Blocks still to be swept in the current sweep (object cells only).
    unswept: Vec<*mut BlockHeader>,
}

impl Class {
    fn new(size: usize) -> Class {
        Class {
            size,
            free: ptr::null_mut(),
            bump: ptr::null_mut(),
            end: ptr::null_mut(),
            current: ptr::null_mut(),
            blocks: Vec::new(),
            unswept: Vec::new(),
        }
    }
}

/// Called for each dead object a sweep finds, before its cell is reused:
/// frees what the object owns and returns nothing.
pub(crate) type Finalize<'f> = dyn FnMut(*mut Header) + 'f;

/// Arenas and the blocks not in use by any class.
pub(crate) struct BlockPool {
    spare: Vec<*mut BlockHeader>,
    arenas: Vec<*mut u8>,
    /// Bytes of arenas obtained from the system allocator.
    pub footprint: usize,
}

impl BlockPool {
    pub(crate) fn new() -> BlockPool {
        BlockPool {
            spare: Vec::new(),
            arenas: Vec::new(),
            footprint: 0,
        }
    }

    /// A fresh block: a spare one or one of a new arena.
    fn fresh_block(&mut self, class: usize, buffers: bool) -> *mut BlockHeader {
        if self.spare.is_empty() {
            let layout = Layout::from_size_align(ARENA_SIZE, BLOCK_SIZE).expect("arena layout is valid");
            // SAFETY: the layout has a non-zero size.
            let a = unsafe { alloc(layout) };
            if a.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            self.arenas.push(a);
            self.footprint += ARENA_SIZE;
            // Hand out blocks from the arena's start first, so the pages of
            // unused blocks are never touched.
            for i in (0..BLOCKS_PER_ARENA).rev() {
                // SAFETY: block i is inside the arena.
                self.spare.push(unsafe { a.add(i * BLOCK_SIZE) }.cast());
            }
        }
        let b = self.spare.pop().expect("a spare block exists");
        // SAFETY: `b` is an unused, aligned block of BLOCK_SIZE bytes.
        unsafe {
            b.write(BlockHeader {
                class: class as u8,
                buffers,
                live: 0,
                top: (b as *mut u8).add(FIRST_CELL),
            });
        }
        b
    }

    /// Whether `p` is inside one of the arenas.
    pub(crate) fn in_arenas(&self, p: *const u8) -> bool {
        self.arenas
            .iter()
            .any(|&a| p >= a.cast_const() && (p as usize) < a as usize + ARENA_SIZE)
    }
}

impl Drop for BlockPool {
    fn drop(&mut self) {
        let layout = Layout::from_size_align(ARENA_SIZE, BLOCK_SIZE).expect("arena layout is valid");
        for &a in &self.arenas {
            // SAFETY: every arena was allocated with this layout, and is
            // freed once, when the heap goes.
            unsafe { dealloc(a, layout) };
        }
    }
}

/// Allocates `size` bytes on their own (a large object or buffer).
pub(crate) fn alloc_large(size: usize) -> *mut u8 {
    let layout = large_layout(size);
    // SAFETY: non-zero size.
    let p = unsafe { alloc(layout) };
    if p.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    p
}

/// # Safety
/// `p` came from `alloc_large(size)` and is no longer used.
pub(crate) unsafe fn free_large(p: *mut u8, size: usize) {
    // SAFETY: the caller's promise.
    unsafe { dealloc(p, large_layout(size)) };
}

fn large_layout(size: usize) -> Layout {
    Layout::from_size_align(size.max(16), 16).expect("sizes are checked against the heap limit")
}

/// Cells of every size class: for objects (swept) or for buffers (freed
/// explicitly).
pub(crate) struct Cells {
    classes: Vec<Class>,
    buffers: bool,
    /// Set when a fresh block was taken: during a sweep, a sign that the
    /// lazily swept blocks of a class are used up.
    pub took_fresh: bool,
}

impl Cells {
    pub(crate) fn new(buffers: bool) -> Cells {
        Cells {
            classes: CLASS_SIZES.iter().map(|&s| Class::new(s as usize)).collect(),
            buffers,
            took_fresh: false,
        }
    }

    /// A cell of class `c`: from its free list, by bumping, by sweeping one
    /// of its unswept blocks (lazy sweeping, object cells only), or from a
    /// fresh block. Never collects.
    #[inline]
    pub(crate) fn alloc(&mut self, c: usize, pool: &mut BlockPool, fin: &mut Finalize<'_>) -> *mut u8 {
        let cl = &mut self.classes[c];
        if !cl.free.is_null() {
            let cell = cl.free;
            // SAFETY: free-list cells are unused cells of this class.
            cl.free = unsafe { (*cell).next };
            return cell.cast();
        }
        let size = cl.size;
        if (cl.end as usize).saturating_sub(cl.bump as usize) >= size {
            let cell = cl.bump;
            // SAFETY: `bump + size <= end`, inside the current block.
            cl.bump = unsafe { cl.bump.add(size) };
            // SAFETY: `current` is the live block being bumped.
            unsafe { (*cl.current).top = cl.bump };
            return cell;
        }
        self.alloc_slow(c, pool, fin)
    }

    #[cold]
    fn alloc_slow(&mut self, c: usize, pool: &mut BlockPool, fin: &mut Finalize<'_>) -> *mut u8 {
        while let Some(b) = self.classes[c].unswept.pop() {
            // SAFETY: unswept blocks are live object blocks of this class.
            unsafe { self.sweep_block(b, pool, fin) };
            if !self.classes[c].free.is_null() {
                return self.alloc(c, pool, fin);
            }
        }
        let b = pool.fresh_block(c, self.buffers);
        self.took_fresh = true;
        let cl = &mut self.classes[c];
        cl.blocks.push(b);
        cl.current = b;
        // SAFETY: the block's cells run from its top to its end.
        unsafe {
            cl.bump = (*b).top;
            cl.end = (b as *mut u8).add(BLOCK_SIZE);
        }
        self.alloc(c, pool, fin)
    }

    /// Returns a cell of class `c` to its free list.
    /// # Safety
    /// `p` is a cell of class `c` of these (buffer) cells, no longer used.
    pub(crate) unsafe fn free(&mut self, c: usize, p: *mut u8) {
        let cl = &mut self.classes[c];
        let cell = p.cast::<FreeCell>();
        // SAFETY: the caller's promise: the cell is ours to reuse.
        unsafe { (*cell).next = cl.free };
        cl.free = cell;
    }

    /// Starts a sweep of every block. Cells handed out from now on come
    /// from swept blocks or fresh ones, so the sweep never frees an object
    /// allocated after marking ended.
    pub(crate) fn begin_sweep(&mut self) {
        for cl in &mut self.classes {
            // The free list and the bump block are rebuilt by sweeping.
            cl.free = ptr::null_mut();
            cl.bump = ptr::null_mut();
            cl.end = ptr::null_mut();
            cl.current = ptr::null_mut();
            cl.unswept.clone_from(&cl.blocks);
        }
    }

    /// Sweeps up to `budget` blocks; returns how many it swept.
    pub(crate) fn sweep_some(&mut self, budget: usize, pool: &mut BlockPool, fin: &mut Finalize<'_>) -> usize {
        let mut n = 0;
        for c in 0..self.classes.len() {
            while n < budget {
                let Some(b) = self.classes[c].unswept.pop() else { break };
                // SAFETY: unswept blocks are live object blocks of this class.
                unsafe { self.sweep_block(b, pool, fin) };
                n += 1;
            }
        }
        n
    }

    /// Whether every block has been swept.
    pub(crate) fn swept(&self) -> bool {
        self.classes.iter().all(|c| c.unswept.is_empty())
    }

    /// Sweeps one object block: dead objects are finalized and their cells
    /// join the class's free list; a block left empty goes back to the pool.
    /// # Safety
    /// `b` is a live object block not swept yet in this sweep.
    unsafe fn sweep_block(&mut self, b: *mut BlockHeader, pool: &mut BlockPool, fin: &mut Finalize<'_>) {
        // SAFETY: the caller's promise; every cell below `top` is a
        // header-first cell (an object or a free cell) of the class size.
        unsafe {
            let c = (*b).class as usize;
            let size = self.classes[c].size;
            let mut p = (b as *mut u8).add(FIRST_CELL);
            let top = (*b).top;
            let mut live = 0u32;
            let mut head: *mut FreeCell = ptr::null_mut();
            let mut tail: *mut FreeCell = ptr::null_mut();
            while p < top {
                let h = p.cast::<Header>();
                if (*h).kind != Kind::Free {
                    if (*h).mark != 0 {
                        (*h).mark = 0;
                        live += 1;
                    } else {
                        fin(h);
                        (*h).kind = Kind::Free;
                    }
                }
                if (*h).kind == Kind::Free {
                    let f = p.cast::<FreeCell>();
                    (*f).next = ptr::null_mut();
                    if head.is_null() {
                        head = f;
                    } else {
                        (*tail).next = f;
                    }
                    tail = f;
                }
                p = p.add(size);
            }
            (*b).live = live;
            let cl = &mut self.classes[c];
            if live == 0 {
                // Empty: the block goes back to the pool for any class.
                if let Some(i) = cl.blocks.iter().position(|x| *x == b) {
                    cl.blocks.swap_remove(i);
                }
                pool.spare.push(b);
                return;
            }
            if !head.is_null() {
                (*tail).next = cl.free;
                cl.free = head;
            }
        }
    }

    /// Every object of these (object) cells.
    pub(crate) fn for_each_object(&self, f: &mut dyn FnMut(*mut Header)) {
        for cl in &self.classes {
            for &b in &cl.blocks {
                // SAFETY: live blocks hold cells of their class up to `top`.
                unsafe {
                    let mut p = (b as *mut u8).add(FIRST_CELL);
                    while p < (*b).top {
                        let h = p.cast::<Header>();
                        if (*h).kind != Kind::Free {
                            f(h);
                        }
                        p = p.add(cl.size);
                    }
                }
            }
        }
    }
}

/// The size of cells of class `c`.
#[inline]
pub(crate) fn class_size(c: usize) -> usize {
    CLASS_SIZES[c] as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_fit_and_are_tight() {
        for size in 1..=MAX_SMALL {
            let c = class_of(size);
            assert!(CLASS_SIZES[c] as usize >= size, "{size} -> {}", CLASS_SIZES[c]);
            if c > 0 {
                assert!((CLASS_SIZES[c - 1] as usize) < size.max(16), "{size} fits a smaller class");
            }
        }
    }

    #[test]
    fn cells_are_reused_after_a_sweep() {
        let mut pool = BlockPool::new();
        let mut s = Cells::new(false);
        let mut fin = |_: *mut Header| {};
        let a = s.alloc(0, &mut pool, &mut fin);
        let b = s.alloc(0, &mut pool, &mut fin);
        assert_eq!(b as usize - a as usize, 16);
        // SAFETY: both are fresh cells of class 0 (16 bytes).
        unsafe {
            a.cast::<Header>().write(Header::new(Kind::Str, 0));
            b.cast::<Header>().write(Header::new(Kind::Str, 0));
            (*b.cast::<Header>()).mark = 1;
        }
        s.begin_sweep();
        let mut freed = 0;
        let mut count = |_: *mut Header| freed += 1;
        assert_eq!(s.sweep_some(100, &mut pool, &mut count), 1);
        assert!(s.swept());
        assert_eq!(freed, 1, "a is dead, b is live");
        let c = s.alloc(0, &mut pool, &mut fin);
        assert_eq!(c, a, "the dead cell is reused first");
    }
}
