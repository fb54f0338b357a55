// SPDX-License-Identifier: GPL-2.0

//! A view of a `vm_area_struct` for the restore: its flags, `vm_page_prot`, and what they imply.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)
//!
//! [`VmaView`] is only handed out by [`MmapWriteGuard::vma`] and [`MmapReadGuard::vma`] and
//! borrows the guard, so a view cannot outlive the mmap lock. The view's type says which lock is
//! held ([`WriteLocked`] or [`ReadLocked`]), and so do the PTE slots a walk of it hands out: only
//! a walk under the write lock can change an entry. [`VmaFacts`] is the plain value the restore
//! computes with, read from a real VMA; only the KUnit suite builds others (`mm::testing`).

use core::marker::PhantomData;

use kernel::{
    bindings,
    mm::{
        self as kmm,
        virt::VmaRef,
        MmWithUser, //
    },
};

use super::ffi;

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

/// `pgprot_t`: the protection new PTEs of a VMA start from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct PageProt(u64);

impl PageProt {
    /// `pgprot_val()`.
    pub(crate) fn val(self) -> u64 {
        self.0
    }

    /// Whether PTEs made from it are writable (`pte_write(pfn_pte(0, prot))`: `_PAGE_RW`).
    pub(crate) fn is_writable(self) -> bool {
        super::pte::decode(ffi::pfn_pte(0, self.0))
            .flags
            .has(super::PteFlags::WRITE)
    }

    /// `PAGE_SHARED` (`shared`) or `PAGE_COPY`: what a shared writable VMA without write-notify
    /// and a private one use. Only the KUnit suite makes protections up.
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn of(shared: bool) -> Self {
        Self(ffi::prot(shared))
    }
}

/// What the restore needs to know about a VMA.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct VmaFacts {
    flags: VmaFlags,
    prot: PageProt,
    anon: bool,
    unsupported: bool,
}

impl VmaFacts {
    /// Reads the facts of a VMA, with `READ_ONCE()` semantics as C reads them unlocked.
    ///
    /// # Safety
    ///
    /// `vma` must point at a VMA that stays valid for the call.
    pub(super) unsafe fn read(vma: *const bindings::vm_area_struct) -> Self {
        // SAFETY: the caller guarantees `vma` is valid for the call.
        let f = unsafe { ffi::migentry_vma_flags(vma) };
        // SAFETY: as above; `vm_page_prot` is an aligned `u64`-sized field (the layout guard
        // checks its offset), read once as `READ_ONCE()` does.
        let prot = unsafe { core::ptr::read_volatile(&raw const (*vma).vm_page_prot) }.pgprot;
        let on = |bit: u32| f & bit != 0;
        Self {
            flags: VmaFlags {
                write: on(ffi::MIGENTRY_VMA_F_WRITE),
                shared: on(ffi::MIGENTRY_VMA_F_SHARED),
                softdirty: on(ffi::MIGENTRY_VMA_F_SOFTDIRTY),
                uffd_wp: on(ffi::MIGENTRY_VMA_F_UFFD_WP),
                uffd_rwp: on(ffi::MIGENTRY_VMA_F_UFFD_RWP),
                shadow_stack: on(ffi::MIGENTRY_VMA_F_SHADOW_STACK),
            },
            // CAST: `pgprotval_t` is `unsigned long`, 64 bits on x86-64.
            prot: PageProt(prot as u64),
            anon: on(ffi::MIGENTRY_VMA_F_ANON),
            unsupported: on(ffi::MIGENTRY_VMA_F_UNSUPPORTED),
        }
    }

    /// A VMA model, for the KUnit suite (`mm::testing`).
    #[cfg(CONFIG_KUNIT)]
    pub(super) fn model(flags: VmaFlags, prot: PageProt) -> Self {
        Self {
            flags,
            prot,
            anon: false,
            unsupported: false,
        }
    }

    /// The flags.
    pub(crate) fn flags(&self) -> VmaFlags {
        self.flags
    }

    /// `vm_page_prot`.
    pub(crate) fn page_prot(&self) -> PageProt {
        self.prot
    }

    /// Whether the VMA is anonymous (`vma_is_anonymous()`).
    pub(crate) fn is_anonymous(&self) -> bool {
        self.anon
    }

    /// Whether the VMA is hugetlb, `VM_PFNMAP`, `VM_IO` or `VM_MIXEDMAP`, which migentry does
    /// not handle.
    pub(crate) fn unsupported(&self) -> bool {
        self.unsupported
    }

    /// Whether soft-dirty is tracked per PTE in this VMA (`vma_soft_dirty_enabled()`): the kernel
    /// supports it and `VM_SOFTDIRTY` is clear, so every write must go through a fault that sets
    /// the PTE's soft-dirty bit.
    pub(crate) fn soft_dirty_tracking(&self) -> bool {
        cfg!(CONFIG_MEM_SOFT_DIRTY) && !self.flags.softdirty
    }

    /// Whether write-notify is in effect: a shared writable VMA whose `vm_page_prot` was
    /// computed without `_PAGE_RW` (`vma_wants_writenotify()` said yes), so the first write to a
    /// clean page faults.
    pub(crate) fn write_notify(&self) -> bool {
        self.flags.shared && self.flags.write && !self.prot.is_writable()
    }
}

mod private {
    pub(crate) trait Sealed {}
}

/// The level at which the mmap lock of a [`VmaView`] is held: [`ReadLocked`] or [`WriteLocked`].
pub(crate) trait LockLevel: private::Sealed {}

/// The mmap lock is held for reading ([`MmapReadGuard`]): the VMA cannot change or go away, page
/// faults and other readers run meanwhile. Walks hand out read-only PTE slots.
pub(crate) struct ReadLocked;

/// The mmap lock and the VMA's own lock are held for writing ([`MmapWriteGuard`]): no fault,
/// collapse or `UFFDIO_*` ioctl touches the VMA's page tables but the holder. Walks hand out PTE
/// slots that can be cleared and filled.
pub(crate) struct WriteLocked;

impl private::Sealed for ReadLocked {}
impl LockLevel for ReadLocked {}
impl private::Sealed for WriteLocked {}
impl LockLevel for WriteLocked {}

/// The mmap lock of an mm, held for writing.
///
/// The kernel crate offers only the read lock; the write lock is what keeps page faults,
/// khugepaged collapses and `UFFDIO_*` ioctls away from a range while its page tables are
/// changed (together with the per-VMA write lock that [`MmapWriteGuard::vma`] takes).
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
        unsafe { ffi::migentry_mmap_write(mm.as_raw(), true) };
        // INVARIANT: the lock was just taken.
        Self {
            mm,
            _nts: PhantomData,
        }
    }

    /// The VMA containing `addr`, write-locked (`vma_start_write()`) so that faults under the
    /// per-VMA lock wait too; `None` if no VMA contains `addr`.
    pub(crate) fn vma(&self, addr: usize) -> Option<VmaView<'_, WriteLocked>> {
        // SAFETY: the mmap lock is held (type invariant), as `vma_lookup()` requires.
        let raw = unsafe { bindings::vma_lookup(self.mm.as_raw(), addr) };
        if raw.is_null() {
            return None;
        }
        // SAFETY: `raw` is a VMA of this mm and the mmap write lock is held, which
        // `vma_start_write()` requires; the VMA lock is released with the mmap write lock.
        unsafe { ffi::migentry_vma_start_write(raw) };
        // SAFETY: `raw` is valid while the mmap lock is held, i.e. for the borrow of `self`,
        // which satisfies `VmaRef`'s invariant (mmap lock held, here for writing).
        let vma = unsafe { VmaRef::from_raw(raw) };
        // SAFETY: as above, the VMA is valid for the call.
        let facts = unsafe { VmaFacts::read(raw) };
        // INVARIANT: the mmap write lock and the VMA write lock are held for `'_`.
        Some(VmaView {
            vma,
            mm: self.mm,
            facts,
            _lock: PhantomData,
        })
    }
}

impl Drop for MmapWriteGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the lock is held (type invariant); dropping the guard gives it back.
        unsafe { ffi::migentry_mmap_write(self.mm.as_raw(), false) };
    }
}

/// The mmap lock of an mm, held for reading: the kernel crate's guard, with the mm it locks.
///
/// Page faults (which take the mmap lock or the VMA lock for reading) are not held up by it.
///
/// # Invariants
///
/// `guard` holds `mm`'s mmap lock for reading.
pub(crate) struct MmapReadGuard<'a> {
    guard: kmm::MmapReadGuard<'a>,
    mm: &'a MmWithUser,
}

impl<'a> MmapReadGuard<'a> {
    /// Takes the mmap lock of `mm` for reading (`mmap_read_lock()`); may sleep.
    pub(crate) fn lock(mm: &'a MmWithUser) -> Self {
        // INVARIANT: `mmap_read_lock()` returns a guard of `mm`'s lock.
        Self {
            guard: mm.mmap_read_lock(),
            mm,
        }
    }

    /// The VMA containing `addr` (`vma_lookup()`); `None` if no VMA contains `addr`.
    pub(crate) fn vma(&self, addr: usize) -> Option<VmaView<'_, ReadLocked>> {
        let vma = self.guard.vma_lookup(addr)?;
        // SAFETY: the VMA is valid while the mmap lock is held, i.e. for the borrow of `self`.
        let facts = unsafe { VmaFacts::read(vma.as_ptr()) };
        // INVARIANT: the mmap read lock is held for `'_`; the VMA's flags and `vm_page_prot`
        // change only under the mmap write lock, so `facts` stay true meanwhile.
        Some(VmaView {
            vma,
            mm: self.mm,
            facts,
            _lock: PhantomData,
        })
    }
}

/// A VMA whose mm is locked at level `L`, with the facts the restore needs.
///
/// # Invariants
///
/// The mmap lock of `mm` is held for `'a`: for writing, with `vma` write-locked too, if `L` is
/// [`WriteLocked`]; at least for reading if `L` is [`ReadLocked`]. `vma` belongs to `mm`; `facts`
/// were read from `vma` under that lock, so they cannot change while the view exists.
pub(crate) struct VmaView<'a, L: LockLevel = WriteLocked> {
    vma: &'a VmaRef,
    mm: &'a MmWithUser,
    facts: VmaFacts,
    _lock: PhantomData<L>,
}

impl<'a, L: LockLevel> VmaView<'a, L> {
    /// The VMA's start address.
    pub(crate) fn start(&self) -> usize {
        self.vma.start()
    }

    /// The VMA's end address.
    pub(crate) fn end(&self) -> usize {
        self.vma.end()
    }

    /// The mm the VMA belongs to.
    pub(super) fn mm(&self) -> &'a MmWithUser {
        self.mm
    }

    /// The VMA's facts.
    pub(crate) fn facts(&self) -> &VmaFacts {
        &self.facts
    }
}
