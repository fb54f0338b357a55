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

use super::{
    ffi,
    folio::MappedFolio,
    pte::{
        EntryKind,
        Pte,
        PteFlags,
        RawPte,
        RestoredPte,
        WriteState, //
    },
    vma::VmaView,
};

mod private {
    pub(crate) trait Sealed {}
}

/// A value that may be installed in a PTE slot: a typed present PTE, or an entry read from a
/// page table (put back as it was).
pub(crate) trait Installable: private::Sealed {
    /// The entry value.
    fn entry_val(&self) -> u64;
}

impl<W: WriteState> private::Sealed for Pte<W> {}
impl<W: WriteState> Installable for Pte<W> {
    fn entry_val(&self) -> u64 {
        self.val()
    }
}
impl private::Sealed for RestoredPte {}
impl Installable for RestoredPte {
    fn entry_val(&self) -> u64 {
        self.val()
    }
}
impl private::Sealed for RawPte {}
impl Installable for RawPte {
    fn entry_val(&self) -> u64 {
        self.val()
    }
}

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
    /// The user address this slot maps.
    pub(crate) fn addr(&self) -> usize {
        self.addr
    }

    /// `ptep_get()`, decoded.
    pub(crate) fn get(&self) -> RawPte {
        // SAFETY: `ptep` is valid and its lock is held (type invariant).
        RawPte::read(unsafe { ffi::migentry_ptep_get(self.ptep.as_ptr()) })
    }

    /// The folio `pte` (read from this slot) maps, if it is present and not special (the shared
    /// zeropage and other pages without a refcounted folio are special on x86).
    ///
    /// The result lives as long as the page-table lock, not as a borrow of the slot, so the
    /// slot can still be cleared and refilled meanwhile: the mapping's folio reference, which
    /// keeps the folio alive, is not dropped by [`PteSlot::take`].
    pub(crate) fn folio(&self, pte: &RawPte) -> Option<MappedFolio<'a>> {
        let d = pte.decoded();
        if d.kind != EntryKind::Present || d.flags.has(PteFlags::SPECIAL) {
            return None;
        }
        if self.get().val() != pte.val() {
            return None;
        }
        // SAFETY: `d.pfn` is mapped by the present, non-special PTE in this slot, whose lock is
        // held for `'a` (type invariant).
        unsafe { MappedFolio::lookup(d.pfn) }
    }

    /// `ptep_get_and_clear()`: atomically takes the entry and leaves the slot none, so that no
    /// hardware A/D update in between is lost. `seen` is the entry last read from the slot; its
    /// decoded form is reused when the hardware did not change the entry meanwhile.
    pub(crate) fn take(&mut self, seen: &RawPte) -> RawPte {
        // SAFETY: `ptep` maps `addr` in `mm` and its lock is held (type invariant).
        let val =
            unsafe { ffi::migentry_ptep_get_and_clear(self.mm, self.addr, self.ptep.as_ptr()) };
        if val == seen.val() {
            *seen
        } else {
            RawPte::read(val)
        }
    }

    /// `set_pte_at()` into a none slot; `EBUSY` if the slot is not none (nothing is written).
    ///
    /// The caller is responsible for the TLB: installing over none needs no flush, but a PTE
    /// taken with [`PteSlot::take`] may still be cached by other CPUs (see
    /// [`Invalidation`](super::Invalidation)).
    pub(crate) fn install(&mut self, entry: &impl Installable) -> Result {
        // SAFETY: `ptep` is valid and its lock is held (type invariant).
        if unsafe { ffi::migentry_ptep_get(self.ptep.as_ptr()) } != 0 {
            return Err(EBUSY);
        }
        // SAFETY: `ptep` maps `addr` in `mm`, its lock is held (type invariant) and the slot is
        // none, so page_table_check's accounting stays balanced.
        unsafe {
            ffi::migentry_set_pte_at(self.mm, self.addr, self.ptep.as_ptr(), entry.entry_val())
        };
        Ok(())
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

/// `PMD_SIZE` on x86-64; the layout guard checks it against C.
pub(super) const PMD_SIZE: usize = 1 << 21;

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
    /// - `EOPNOTSUPP`: a hugetlb, `VM_PFNMAP`, `VM_IO` or `VM_MIXEDMAP` VMA, or a huge (PMD/PUD)
    ///   mapping or a non-table entry above PTE level in the range.
    /// - `ENOMEM`: a page table could not be allocated.
    pub(crate) fn walk_ptes<F>(&self, start: usize, len: usize, f: F) -> Result
    where
        F: FnMut(&mut PteSlot<'_>) -> Result,
    {
        let end = start.checked_add(len).ok_or(EINVAL)?;
        if len == 0 || start % PAGE_SIZE != 0 || len % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        if start < self.start() || end > self.end() {
            return Err(EINVAL);
        }
        if self.facts().unsupported() {
            return Err(EOPNOTSUPP);
        }
        let mm = self.mm().as_raw();
        // apply_to_page_range() WARNs (and at PUD level BUGs) on a leaf above PTE level: refuse
        // the range unless every PMD it covers is none or a page table. With the mmap and VMA
        // write locks held (type invariant of `VmaView`) no fault, collapse or UFFDIO_* ioctl
        // can install a huge entry meanwhile; a THP split by rmap only turns a leaf into a table.
        let mut addr = start;
        while addr < end {
            // SAFETY: `mm` is valid and its mmap lock is held for writing (type invariant).
            let state = unsafe { ffi::migentry_pmd_state(mm, addr) };
            if state < 0 {
                return Err(EOPNOTSUPP);
            }
            addr = (addr & !(PMD_SIZE - 1)).saturating_add(PMD_SIZE);
        }

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
