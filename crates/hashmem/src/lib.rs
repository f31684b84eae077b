//! argon2id's working memory, on huge pages where the kernel offers them.
//!
//! argon2id at the default parameters reads 19 MiB in an order that defeats the TLB: with 4 KiB
//! pages nearly every reference block costs a page walk. On 2 MiB pages the same memory needs
//! ten TLB entries. Measured on one core: the server's hashes ran 3-9% slower on 4 KiB pages
//! than the same hashes on huge pages (bench/results/2026-11-29-profiles-3.md).
//!
//! Most hosts run transparent huge pages in `madvise` mode, so memory gets them only when asked.
//! [`BlockMemory`] is aligned to 2 MiB and asks with `madvise(MADV_HUGEPAGE)` before its first
//! touch. Where the kernel says no (THP `never`, other systems), it is ordinary memory, and
//! hashing works the same, only slower.

use std::alloc::Layout;
use std::ptr::NonNull;

use argon2::Block;

/// The size of a transparent huge page on x86-64 and most arm64 kernels.
const HUGE_PAGE: usize = 2 << 20;

/// A zeroed array of argon2 blocks, 2 MiB aligned, advised onto huge pages.
pub struct BlockMemory {
    blocks: NonNull<Block>,
    len: usize,
    layout: Layout,
}

// SAFETY: BlockMemory owns its allocation outright, like a Box<[Block]>; nothing else points
// into it, so it may move to another thread.
#[allow(unsafe_code)]
unsafe impl Send for BlockMemory {}

impl BlockMemory {
    /// `len` zeroed blocks, or `None` when `len` is zero or the allocation fails.
    pub fn new(len: usize) -> Option<BlockMemory> {
        let size = len.checked_mul(size_of::<Block>())?;
        if size == 0 {
            return None;
        }
        let layout = Layout::from_size_align(size, HUGE_PAGE).ok()?;
        // SAFETY: the layout has a non-zero size (checked above).
        #[allow(unsafe_code)]
        let raw = unsafe { std::alloc::alloc(layout) };
        let blocks = NonNull::new(raw.cast::<Block>())?;
        advise_huge_pages(raw, size);
        // SAFETY: `raw` is a fresh allocation of `size` bytes = `len` blocks; all-zero bytes are a
        // valid Block (an array of u64), so after this the memory is initialised.
        #[allow(unsafe_code)]
        unsafe {
            blocks.as_ptr().write_bytes(0, len);
        }
        Some(BlockMemory {
            blocks,
            len,
            layout,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_mut_slice(&mut self) -> &mut [Block] {
        // SAFETY: `blocks` points to `len` initialised blocks that this value owns; the
        // exclusive borrow of self makes the slice the only access while it lives.
        #[allow(unsafe_code)]
        unsafe {
            std::slice::from_raw_parts_mut(self.blocks.as_ptr(), self.len)
        }
    }
}

impl Drop for BlockMemory {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with exactly this layout, and freed only here.
        #[allow(unsafe_code)]
        unsafe {
            std::alloc::dealloc(self.blocks.as_ptr().cast(), self.layout);
        }
    }
}

/// Asks for huge pages; a refusal only means ordinary pages.
#[cfg(target_os = "linux")]
fn advise_huge_pages(start: *mut u8, size: usize) {
    // SAFETY: madvise only reads the range's bounds, which are the allocation just made;
    // MADV_HUGEPAGE changes how the kernel backs it, never its contents.
    #[allow(unsafe_code)]
    let _refused = unsafe { libc::madvise(start.cast(), size, libc::MADV_HUGEPAGE) };
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: *mut u8, _size: usize) {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// argon2's Block offers no comparison, but prints its words.
    fn is_zero(block: &Block) -> bool {
        format!("{block:?}") == format!("{:?}", Block::default())
    }

    #[test]
    fn memory_is_zeroed_and_huge_page_aligned() {
        let mut memory = BlockMemory::new(3000).unwrap();
        assert_eq!(memory.len(), 3000);
        let blocks = memory.as_mut_slice();
        assert_eq!(blocks.len(), 3000);
        assert_eq!(blocks.as_ptr() as usize % HUGE_PAGE, 0);
        assert!(blocks.iter().all(is_zero));
    }

    #[test]
    fn nothing_to_allocate_is_none() {
        assert!(BlockMemory::new(0).is_none());
        assert!(BlockMemory::new(usize::MAX).is_none());
    }

    #[test]
    fn argon2_hashes_alike_in_it_and_in_a_vec() {
        use argon2::{Algorithm, Argon2, Params, Version};
        let params = Params::new(4096, 1, 1, None).unwrap();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let (mut ours, mut theirs) = ([0u8; 32], [0u8; 32]);
        let mut memory = BlockMemory::new(params.block_count()).unwrap();
        argon
            .hash_password_into_with_memory(b"pw", b"saltsalt", &mut ours, memory.as_mut_slice())
            .unwrap();
        argon
            .hash_password_into(b"pw", b"saltsalt", &mut theirs)
            .unwrap();
        assert_eq!(ours, theirs);
        // argon2 wrote its blocks here.
        assert!(!memory.as_mut_slice().iter().all(is_zero));
    }
}
