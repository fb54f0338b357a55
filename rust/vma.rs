// SPDX-License-Identifier: GPL-2.0

//! A view of a `vm_area_struct` for the restore: its flags, `vm_page_prot`, and what they imply.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)
//!
//! [`VmaView`] is only handed out by [`MmapWriteGuard::vma`] and borrows the guard, so a view
//! cannot outlive the mmap lock. [`VmaFacts`] is the plain value the restore computes with; the
//! differential test also builds it directly to cover every combination.

use core::marker::PhantomData;

use kernel::{
    bindings,
    error::Result,
    mm::{
        virt::VmaRef,
        MmWithUser, //
    },
};

use crate::{
    ffi,
    uapi, //
};

/// The VMA flags the restore looks at.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct VmaFlags {
    /// `VM_WRITE`.
    pub(crate) write: bool,
    /// `VM_SHARED`.
    pub(crate) shared: bool,
    /// `VM_SOFTDIRTY`: set on new VMAs and by merges, cleared by `clear_refs`; while it is set
    /// the VMA reports every page soft-dirty and soft-dirty is not tracked per PTE.
    pub(crate) softdirty: bool,
    /// `VM_UFFD_WP`: registered for userfaultfd write-protect.
    pub(crate) uffd_wp: bool,
    /// `VM_UFFD_RWP`: registered for userfaultfd read-write protect.
    pub(crate) uffd_rwp: bool,
    /// `VM_SHADOW_STACK`.
    pub(crate) shadow_stack: bool,
}

/// What the restore needs to know about a VMA: its flags and `vm_page_prot`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct VmaFacts(ffi::VmaFactsC);

impl VmaFacts {
    /// Facts for a VMA with these flags and `vm_page_prot` value (a model; see [`VmaView`] for a
    /// real VMA).
    pub(crate) fn new(flags: VmaFlags, page_prot: u64) -> Self {
        Self(ffi::VmaFactsC {
            page_prot,
            write: flags.write.into(),
            shared: flags.shared.into(),
            softdirty: flags.softdirty.into(),
            uffd_wp: flags.uffd_wp.into(),
            uffd_rwp: flags.uffd_rwp.into(),
            shadow_stack: flags.shadow_stack.into(),
            unsupported: 0,
            anon: 0,
        })
    }

    /// The flags.
    pub(crate) fn flags(&self) -> VmaFlags {
        VmaFlags {
            write: self.0.write != 0,
            shared: self.0.shared != 0,
            softdirty: self.0.softdirty != 0,
            uffd_wp: self.0.uffd_wp != 0,
            uffd_rwp: self.0.uffd_rwp != 0,
            shadow_stack: self.0.shadow_stack != 0,
        }
    }

    /// `pgprot_val(vm_page_prot)`: the protection new PTEs of this VMA start from.
    pub(crate) fn page_prot(&self) -> u64 {
        self.0.page_prot
    }

    /// Whether `vm_page_prot` carries `_PAGE_RW`.
    pub(crate) fn page_prot_writable(&self) -> bool {
        ffi::migentry_prot_writable(self.0.page_prot)
    }

    /// Whether soft-dirty is tracked per PTE in this VMA (`vma_soft_dirty_enabled()`): the kernel
    /// supports it and `VM_SOFTDIRTY` is clear, so every write must go through a fault that sets
    /// the PTE's soft-dirty bit.
    pub(crate) fn soft_dirty_tracking(&self) -> bool {
        ffi::migentry_features() & uapi::FEAT_SOFT_DIRTY != 0 && !self.flags().softdirty
    }

    /// Whether write-notify is in effect: a shared writable VMA whose `vm_page_prot` was
    /// computed without `_PAGE_RW` (`vma_wants_writenotify()` said yes), so the first write to a
    /// clean page faults.
    pub(crate) fn write_notify(&self) -> bool {
        let f = self.flags();
        f.shared && f.write && !self.page_prot_writable()
    }

    /// The C form, for the reference restores.
    pub(crate) fn as_c(&self) -> &ffi::VmaFactsC {
        &self.0
    }
}

/// The mmap lock of an mm, held for writing.
///
/// The kernel crate offers only the read lock; the write lock is what keeps page faults,
/// khugepaged collapses and `UFFDIO_*` ioctls away from a range while its page tables are
/// walked (together with the per-VMA write lock that [`MmapWriteGuard::vma`] takes).
///
/// # Invariants
///
/// `mm`'s mmap lock is held for writing while this guard exists.
pub(crate) struct MmapWriteGuard<'a> {
    mm: &'a MmWithUser,
    _nts: PhantomData<*mut ()>,
}

impl<'a> MmapWriteGuard<'a> {
    /// Takes the mmap lock of `mm` for writing (`mmap_write_lock()`); may sleep.
    pub(crate) fn lock(mm: &'a MmWithUser) -> Self {
        // SAFETY: `mm` is a valid `mm_struct` with a user reference (type invariant of
        // `MmWithUser`), so its mmap lock is initialised.
        unsafe { ffi::migentry_mmap_write_lock(mm.as_raw().cast()) };
        // INVARIANT: the lock was just taken.
        Self {
            mm,
            _nts: PhantomData,
        }
    }

    /// The VMA containing `addr`, write-locked (`vma_start_write()`) so that faults under the
    /// per-VMA lock wait too; `None` if no VMA contains `addr`.
    pub(crate) fn vma(&self, addr: usize) -> Option<VmaView<'_>> {
        // SAFETY: the mmap lock is held (type invariant), as `vma_lookup()` requires.
        let raw = unsafe { bindings::vma_lookup(self.mm.as_raw(), addr) };
        if raw.is_null() {
            return None;
        }
        // SAFETY: `raw` is a VMA of this mm and the mmap write lock is held, which
        // `vma_start_write()` requires; the VMA lock is released with the mmap write lock.
        unsafe { ffi::migentry_vma_start_write(raw.cast()) };
        // SAFETY: `raw` is valid while the mmap lock is held, i.e. for the borrow of `self`,
        // which satisfies `VmaRef`'s invariant (mmap lock held, here for writing).
        let vma = unsafe { VmaRef::from_raw(raw) };
        // SAFETY: as above, the VMA is valid for the call.
        let facts = VmaFacts(unsafe { ffi::vma_facts(vma.as_ptr()) });
        // INVARIANT: the mmap write lock and the VMA write lock are held for `'_`.
        Some(VmaView {
            vma,
            mm: self.mm,
            facts,
        })
    }
}

impl Drop for MmapWriteGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the lock is held (type invariant); dropping the guard gives it back.
        unsafe { ffi::migentry_mmap_write_unlock(self.mm.as_raw().cast()) };
    }
}

/// A VMA whose mm is write-locked and which is itself write-locked, with the facts the restore
/// needs.
///
/// # Invariants
///
/// The mmap lock of `mm` is held for writing and `vma` is write-locked for `'a`; `vma` belongs
/// to `mm`.
pub(crate) struct VmaView<'a> {
    vma: &'a VmaRef,
    mm: &'a MmWithUser,
    facts: VmaFacts,
}

impl<'a> VmaView<'a> {
    /// The underlying VMA.
    pub(crate) fn vma(&self) -> &'a VmaRef {
        self.vma
    }

    /// The mm the VMA belongs to.
    pub(crate) fn mm(&self) -> &'a MmWithUser {
        self.mm
    }

    /// The VMA's facts (its flags cannot change while the view exists).
    pub(crate) fn facts(&self) -> &VmaFacts {
        &self.facts
    }

    /// Whether the VMA is hugetlb, `VM_PFNMAP` or `VM_IO`, which migentry does not handle.
    pub(crate) fn unsupported(&self) -> bool {
        self.facts.0.unsupported != 0
    }

    /// Flushes the TLB of every CPU that may cache translations of this mm, as
    /// `flush_tlb_mm()` would (which modules cannot call).
    ///
    /// # Errors
    ///
    /// `EOPNOTSUPP` under page-table isolation, whose user address-space IDs a module cannot
    /// reach.
    pub(crate) fn flush_tlb(&self) -> Result {
        // SAFETY: `mm` is valid and has users (type invariant of `MmWithUser`).
        let ret = unsafe { ffi::migentry_flush_tlb_mm(self.mm.as_raw().cast()) };
        kernel::error::to_result(ret)
    }

    /// Whether the VMA is anonymous (`vma_is_anonymous()`).
    pub(crate) fn is_anonymous(&self) -> bool {
        self.facts.0.anon != 0
    }
}
