// SPDX-License-Identifier: GPL-2.0

//! PTE slots of a VMA, visited with their page-table lock held.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h) (`apply_to_page_range()`)
//!
//! A [`PteSlot`] exists only inside the closure given to [`VmaView::walk_ptes`], which runs with
//! the slot's page-table lock held (`apply_to_page_range()` takes it for user mms); the closure
//! receives it by `&mut` with a lifetime it cannot name, so the slot cannot be kept after the
//! lock is dropped. Reading, clearing and installing an entry go only through the slot.

use core::{
    marker::PhantomData,
    ptr::NonNull, //
};

use kernel::{
    bindings,
    page::PAGE_SIZE,
    prelude::*, //
};

use crate::{
    ffi,
    pte::{
        LeafKind,
        PteFlags,
        RawPte, //
    },
    vma::VmaView, //
};

/// One PTE slot, with its page-table lock held.
///
/// # Invariants
///
/// `ptep` points at the PTE mapping `addr` in `mm`'s page tables, its page-table lock is held
/// for `'a`, and lazy-MMU mode is on (no sleeping).
pub(crate) struct PteSlot<'a> {
    ptep: NonNull<bindings::pte_t>,
    addr: usize,
    mm: *mut bindings::mm_struct,
    _lock: PhantomData<&'a mut bindings::pte_t>,
}

impl<'a> PteSlot<'a> {
    /// The folio the slot's entry maps, if the entry is present and not special (the shared
    /// zeropage and other pages without a refcounted folio are special on x86).
    ///
    /// The result lives as long as the page-table lock, not as a borrow of the slot, so the
    /// slot can still be cleared and refilled meanwhile: the mapping's folio reference, which
    /// keeps the folio alive, is not dropped by [`PteSlot::take`].
    pub(crate) fn folio(&self) -> Option<MappedFolio<'a>> {
        let d = self.get().decode();
        if d.kind != LeafKind::Present || d.flags.has(PteFlags::SPECIAL) {
            return None;
        }
        let mut facts = ffi::FolioFactsC::default();
        // SAFETY: `d.pfn` is mapped by a present, non-special PTE whose lock is held (type
        // invariant), so its folio is referenced and cannot be freed; `facts` is a valid local.
        if unsafe { ffi::migentry_folio_facts(d.pfn, &mut facts) } != 0 {
            return None;
        }
        // INVARIANT: as just established.
        Some(MappedFolio {
            pfn: d.pfn,
            facts,
            _lock: PhantomData,
        })
    }

    /// The user address this slot maps.
    pub(crate) fn addr(&self) -> usize {
        self.addr
    }

    /// `ptep_get()`.
    pub(crate) fn get(&self) -> RawPte {
        // SAFETY: `ptep` is valid and its lock is held (type invariant).
        RawPte::from_val(unsafe { ffi::migentry_ptep_get(self.ptep.as_ptr().cast()) })
    }

    /// `ptep_get_and_clear()`: atomically takes the entry and leaves the slot none, so that no
    /// hardware A/D update in between is lost.
    pub(crate) fn take(&mut self) -> RawPte {
        // SAFETY: `ptep` maps `addr` in `mm` and its lock is held (type invariant).
        let val = unsafe {
            ffi::migentry_ptep_get_and_clear(self.mm.cast(), self.addr, self.ptep.as_ptr().cast())
        };
        RawPte::from_val(val)
    }

    /// `set_pte_at()` into a none slot; `EBUSY` if the slot is not none (nothing is written).
    ///
    /// The caller is responsible for the TLB: installing over none needs no flush, but a PTE
    /// taken with [`PteSlot::take`] may still be cached by other CPUs.
    pub(crate) fn install(&mut self, val: u64) -> Result {
        if self.get().val() != 0 {
            return Err(EBUSY);
        }
        // SAFETY: `ptep` maps `addr` in `mm`, its lock is held (type invariant) and the slot is
        // none, so page_table_check's accounting stays balanced.
        unsafe {
            ffi::migentry_set_pte_at(self.mm.cast(), self.addr, self.ptep.as_ptr().cast(), val)
        };
        Ok(())
    }
}

/// The folio mapped at a PTE slot, while the slot's page-table lock is held.
///
/// # Invariants
///
/// `pfn` belongs to a folio that was mapped by a present, non-special PTE whose page-table lock
/// is held for `'a`; that mapping's reference keeps the folio alive for `'a`.
pub(crate) struct MappedFolio<'a> {
    pfn: u64,
    facts: ffi::FolioFactsC,
    _lock: PhantomData<&'a ()>,
}

impl MappedFolio<'_> {
    /// The state read when the folio was looked up.
    pub(crate) fn facts(&self) -> &ffi::FolioFactsC {
        &self.facts
    }

    /// The state now.
    pub(crate) fn reread(&self) -> ffi::FolioFactsC {
        let mut facts = ffi::FolioFactsC::default();
        // SAFETY: the folio is alive for `'a` (type invariant); `facts` is a valid local. The
        // PFN was valid at lookup and stays so.
        unsafe { ffi::migentry_folio_facts(self.pfn, &mut facts) };
        facts
    }

    /// `folio_mark_dirty()`, as `try_to_migrate_one()` does for a dirty PTE it replaces.
    pub(crate) fn mark_dirty(&self) {
        // SAFETY: the folio is alive and the page-table lock is held (type invariant), which is
        // how `zap_present_folio_ptes()` calls `folio_mark_dirty()` too.
        unsafe { ffi::migentry_folio_mark_dirty(self.pfn) };
    }
}

/// Passes `apply_to_page_range()`'s callback on to the Rust closure `F`.
///
/// # Safety
///
/// `data` must point at the `(F, mm)` pair that [`VmaView::walk_ptes`] passed, and `pte` must be
/// the slot for `addr` in `mm`, with its page-table lock held, as `apply_to_page_range()`
/// guarantees.
unsafe extern "C" fn visit<F>(pte: *mut bindings::pte_t, addr: c_ulong, data: *mut c_void) -> c_int
where
    F: FnMut(&mut PteSlot<'_>) -> Result,
{
    // SAFETY: `data` is the exclusive borrow of the closure that `walk_ptes` passed, live for
    // the whole walk.
    let (f, mm) = unsafe { &mut *data.cast::<(F, *mut bindings::mm_struct)>() };
    let Some(ptep) = NonNull::new(pte) else {
        return EINVAL.to_errno();
    };
    // INVARIANT: `apply_to_page_range()` calls us with the slot for `addr`, locked, in lazy-MMU
    // mode; the slot only lives for this call.
    let mut slot = PteSlot {
        ptep,
        addr,
        mm: *mm,
        _lock: PhantomData,
    };
    match f(&mut slot) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

impl VmaView<'_> {
    /// Calls `f` on each PTE slot of `[start, start + len)`, in address order, with the slot's
    /// page-table lock held. Stops at the first error `f` returns and passes it on.
    ///
    /// `f` runs under a spinlock: it must not sleep. Missing page tables are allocated (as a
    /// fault would); the slots of unpopulated pages are none.
    ///
    /// # Errors
    ///
    /// - `EINVAL`: `start` or `len` not page-aligned, `len` zero, the range overflows or is not
    ///   inside this VMA.
    /// - `EOPNOTSUPP`: a hugetlb, `VM_PFNMAP` or `VM_IO` VMA, or a huge (PMD/PUD) mapping or a
    ///   non-table entry above PTE level in the range.
    /// - `ENOMEM`: a page table could not be allocated.
    pub(crate) fn walk_ptes<F>(&self, start: usize, len: usize, f: F) -> Result
    where
        F: FnMut(&mut PteSlot<'_>) -> Result,
    {
        let end = start.checked_add(len).ok_or(EINVAL)?;
        if len == 0 || start % PAGE_SIZE != 0 || len % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        if start < self.vma().start() || end > self.vma().end() {
            return Err(EINVAL);
        }
        if self.unsupported() {
            return Err(EOPNOTSUPP);
        }
        let mm = self.mm().as_raw();
        // SAFETY: the mmap lock is held for writing and the VMA is write-locked (type invariant
        // of `VmaView`), as `migentry_check_tables()` requires.
        let ret = unsafe { ffi::migentry_check_tables(mm.cast(), start, end) };
        kernel::error::to_result(ret)?;

        let mut data = (f, mm);
        // SAFETY: `mm` is valid and locked as above, so the upper-level entries just checked
        // stay none or tables and `apply_to_page_range()` neither WARNs nor BUGs; `visit::<F>`
        // matches `data`'s type, and `data` outlives the call.
        let ret = unsafe {
            bindings::apply_to_page_range(
                mm,
                start,
                len,
                Some(visit::<F>),
                core::ptr::from_mut(&mut data).cast(),
            )
        };
        kernel::error::to_result(ret)
    }
}
