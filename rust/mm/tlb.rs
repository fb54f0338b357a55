// SPDX-License-Identifier: GPL-2.0

//! Invalidating what other CPUs and secondary MMUs cache of a range whose PTEs lose rights.
//!
//! C header: [`arch/x86/include/asm/tlbflush.h`](srctree/arch/x86/include/asm/tlbflush.h),
//! [`include/linux/mmu_notifier.h`](srctree/include/linux/mmu_notifier.h)
//!
//! A PTE that is replaced by one allowing less (write removed, or `PAGE_NONE`) may still be
//! cached, writable, by another CPU's TLB or by a secondary MMU (KVM, IOMMU SVA). Only the
//! kernel's own `flush_tlb_mm_range()` knows every place that caches an mm (PCID slots, global
//! ASIDs and INVLPGB, the PTI user ASID), and secondary MMUs are told through the mmu_notifier
//! range calls. Stock 7.3 exports neither to modules; the test-only `hooked` kernel variant
//! (`CONFIG_MIGENTRY_HOOKS`) exports both to this module. Without them, nothing that takes rights
//! away may be done: see [`Invalidation::available`].

use kernel::prelude::*;

use super::{
    ffi,
    vma::VmaView, //
};

/// An open invalidation of `[start, end)` of a VMA's mm: `mmu_notifier_invalidate_range_start()`
/// was called; dropping it flushes the TLB of the range on every CPU (`flush_tlb_mm_range()`)
/// and ends the range (`mmu_notifier_invalidate_range_end()`), on every path, so an early error
/// after some PTEs were replaced still flushes.
///
/// # Invariants
///
/// The range was started on `view`'s mm and is ended exactly once, by `drop`.
pub(crate) struct Invalidation<'a, 'v> {
    view: &'a VmaView<'v>,
    start: usize,
    end: usize,
}

impl<'a, 'v> Invalidation<'a, 'v> {
    /// Whether this kernel lets the module flush a user mm's TLB and notify secondary MMUs.
    pub(crate) fn available() -> bool {
        cfg!(CONFIG_MIGENTRY_HOOKS)
    }

    /// Starts invalidating `[start, start + len)` of `view`'s mm; may sleep, so call it before
    /// taking any page-table lock.
    ///
    /// # Errors
    ///
    /// `EOPNOTSUPP` where [`Invalidation::available`] is false.
    pub(crate) fn start(view: &'a VmaView<'v>, start: usize, len: usize) -> Result<Self> {
        let end = start.checked_add(len).ok_or(EINVAL)?;
        // SAFETY: the mm is valid and has users for `'v` (type invariant of `VmaView`); its
        // mmap lock is held, which the notifier range calls allow.
        let ret = unsafe { ffi::migentry_invalidate_start(view.mm().as_raw(), start, end) };
        kernel::error::to_result(ret)?;
        // INVARIANT: started just now; ended in `drop`.
        Ok(Self { view, start, end })
    }
}

impl Drop for Invalidation<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: the range was started on this mm (type invariant), which is still valid and
        // locked for the borrow of `view`; no page-table lock is held here.
        unsafe { ffi::migentry_invalidate_end(self.view.mm().as_raw(), self.start, self.end) };
    }
}
