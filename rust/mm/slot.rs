// SPDX-License-Identifier: GPL-2.0

//! PTE slots of a VMA, visited by a page-table walk that allocates nothing.
//!
//! C header: [`include/linux/pgtable.h`](srctree/include/linux/pgtable.h),
//! [`include/linux/mm.h`](srctree/include/linux/mm.h) (`pte_offset_map_lock()`)
//!
//! [`VmaView::walk_ptes`] goes down pgd → p4d → pud → pmd with the kernel's accessors, and at
//! each PMD takes one step ([`pmd_step`]): a PTE table is mapped and locked as
//! `pte_offset_map_lock()` does it (RCU, lockless PMD read, `pmd_same()` recheck under the lock);
//! a missing table at any level is a hole, whose slots read as none; anything else (a huge leaf,
//! a PMD migration entry, a bad entry) is refused. No page table is ever allocated, so a query
//! leaves the process's page tables as they were.
//!
//! A [`PteSlot`] exists only inside the closure given to the walk, which runs with the slot's
//! page-table lock held; the closure receives it by `&mut` with a lifetime it cannot name, so
//! the slot cannot be kept after the lock is dropped. The slot carries the level of the mmap
//! lock the walk holds ([`LockLevel`]): every slot can be read, only a slot of a walk under the
//! write lock ([`WriteLocked`]) can be cleared and filled.

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
        RawPmd,
        RawPte,
        RestoredPte,
        WriteState, //
    },
    vma::{
        LockLevel,
        VmaView,
        WriteLocked, //
    },
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

/// One PTE slot of a walk under the mmap lock level `L`, with its page-table lock held; or the
/// slot of an address that no page table covers (a hole), which reads as none.
///
/// # Invariants
///
/// If `ptep` is `Some`, it points at the PTE mapping `addr` in `mm`'s page tables, in a table
/// that is mapped and whose page-table lock is held for `'a`. If it is `None`, no page table
/// covered `addr` when the walk looked. `mm`'s mmap lock is held at level `L` for `'a`.
pub(crate) struct PteSlot<'a, L: LockLevel = WriteLocked> {
    ptep: Option<NonNull<bindings::pte_t>>,
    addr: usize,
    mm: *mut bindings::mm_struct,
    _lock: PhantomData<(&'a mut bindings::pte_t, L)>,
}

impl<'a, L: LockLevel> PteSlot<'a, L> {
    /// The user address this slot maps.
    pub(crate) fn addr(&self) -> usize {
        self.addr
    }

    /// `ptep_get()`, decoded; none in a hole.
    pub(crate) fn get(&self) -> RawPte {
        let Some(ptep) = self.ptep else {
            return RawPte::read(0);
        };
        // SAFETY: `ptep` is valid and its lock is held (type invariant).
        RawPte::read(unsafe { ffi::migentry_ptep_get(ptep.as_ptr()) })
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
        // SAFETY: `d.pfn` is mapped by the present, non-special PTE in this slot (a hole reads
        // as none, so this slot has a table), whose lock is held for `'a` (type invariant).
        unsafe { MappedFolio::lookup(d.pfn) }
    }
}

impl PteSlot<'_, WriteLocked> {
    /// `ptep_get_and_clear()`: atomically takes the entry and leaves the slot none, so that no
    /// hardware A/D update in between is lost. `seen` is the entry last read from the slot; its
    /// decoded form is reused when the hardware did not change the entry meanwhile. A hole gives
    /// none.
    pub(crate) fn take(&mut self, seen: &RawPte) -> RawPte {
        let Some(ptep) = self.ptep else {
            return RawPte::read(0);
        };
        // SAFETY: `ptep` maps `addr` in `mm` and its lock is held (type invariant).
        let val = unsafe { ffi::migentry_ptep_get_and_clear(self.mm, self.addr, ptep.as_ptr()) };
        if val == seen.val() {
            *seen
        } else {
            RawPte::read(val)
        }
    }

    /// `set_pte_at()` into a none slot; `EBUSY` if the slot is not none, `ENOENT` in a hole (the
    /// walk allocates no page table); nothing is written then.
    ///
    /// The caller is responsible for the TLB: installing over none needs no flush, but a PTE
    /// taken with [`PteSlot::take`] may still be cached by other CPUs (see
    /// [`Invalidation`](super::Invalidation)).
    pub(crate) fn install(&mut self, entry: &impl Installable) -> Result {
        let ptep = self.ptep.ok_or(ENOENT)?;
        // SAFETY: `ptep` is valid and its lock is held (type invariant).
        if unsafe { ffi::migentry_ptep_get(ptep.as_ptr()) } != 0 {
            return Err(EBUSY);
        }
        // SAFETY: `ptep` maps `addr` in `mm`, its lock is held (type invariant), the mmap and
        // VMA locks are held for writing (`WriteLocked`) and the slot is none, so
        // page_table_check's accounting stays balanced.
        unsafe { ffi::migentry_set_pte_at(self.mm, self.addr, ptep.as_ptr(), entry.entry_val()) };
        Ok(())
    }
}

/// A PTE table, mapped and locked by `migentry_pte_map_lock()` (`pte_offset_map_lock()`).
///
/// # Invariants
///
/// `first` points at the PTE for `addr` in a mapped page table of `mm`, `ptl` is that table's
/// lock and is held, and the RCU read lock is held, until `drop` gives all three back.
pub(crate) struct PteTable {
    first: NonNull<bindings::pte_t>,
    ptl: *mut bindings::spinlock_t,
    addr: usize,
    mm: *mut bindings::mm_struct,
}

impl PteTable {
    /// The slot of `addr`, which must lie in `[self.addr, end of its PMD)`.
    fn slot<L: LockLevel>(&self, addr: usize) -> PteSlot<'_, L> {
        debug_assert!(addr >= self.addr && (addr ^ self.addr) < PMD_SIZE);
        let index = (addr - self.addr) / PAGE_SIZE;
        // SAFETY: `addr` is in the PMD range of `self.addr` (precondition), so its PTE is in the
        // same table, `index` entries after `first` (type invariant).
        let ptep = unsafe { self.first.add(index) };
        // INVARIANT: the table is mapped and locked for the borrow of `self`; the mmap lock
        // level is the walk's.
        PteSlot {
            ptep: Some(ptep),
            addr,
            mm: self.mm,
            _lock: PhantomData,
        }
    }
}

impl Drop for PteTable {
    fn drop(&mut self) {
        // SAFETY: the table is mapped and locked (type invariant); this gives both back once.
        unsafe { ffi::migentry_pte_unmap_unlock(self.first.as_ptr(), self.ptl) };
    }
}

/// What the PMD covering an address holds, as one step of a walk finds it.
pub(crate) enum PmdStep {
    /// No page table covers the address, at the PMD or a level above: every slot is none.
    Hole,
    /// A PTE table, mapped and locked.
    Table(PteTable),
    /// A huge (PMD-mapped) leaf: the PMD entry, not locked.
    Leaf(NonNull<bindings::pmd_t>),
    /// A PMD migration or device entry, a leaf above the PMD, or an entry that `p?d_bad()`
    /// rejects.
    Other,
}

/// The PMD step of a walk: looks at the PMD entry covering `addr` (going down from the pgd, and
/// allocating nothing) and maps and locks its PTE table if it has one.
///
/// A hole may be filled by a fault right after this returns (under the mmap read lock); a table
/// that is freed or replaced while the step takes its lock is looked at again, as
/// `pte_offset_map_lock()` does. A leaf is reported, not locked: a caller that handles huge
/// mappings takes `pmd_lock()` itself.
///
/// # Safety
///
/// `mm` must be a valid mm with users whose mmap lock is held (at least for reading) for as long
/// as the result lives, and `addr` must lie in one of its VMAs.
pub(crate) unsafe fn pmd_step(mm: *mut bindings::mm_struct, addr: usize) -> PmdStep {
    let mut pmdp = core::ptr::null_mut();
    // SAFETY: `mm` is valid and its mmap lock is held (caller), which keeps the tables above
    // the PTE level from being freed; `pmdp` is a valid local.
    if unsafe { ffi::migentry_pmd_find(mm, addr, &mut pmdp) } != 0 {
        return PmdStep::Other;
    }
    if pmdp.is_null() {
        return PmdStep::Hole;
    }
    let mut ptl = core::ptr::null_mut();
    let mut kind = 0;
    // SAFETY: `pmdp` is the PMD entry of `addr` in `mm`, whose PMD table the mmap lock keeps;
    // `ptl` and `kind` are valid locals.
    let pte = unsafe { ffi::migentry_pte_map_lock(mm, pmdp, addr, &mut ptl, &mut kind) };
    let Some(first) = NonNull::new(pte) else {
        return match (u32::try_from(kind), NonNull::new(pmdp)) {
            (Ok(ffi::MIGENTRY_PMD_NONE), _) => PmdStep::Hole,
            (Ok(ffi::MIGENTRY_PMD_LEAF), Some(pmdp)) => PmdStep::Leaf(pmdp),
            _ => PmdStep::Other,
        };
    };
    // INVARIANT: `migentry_pte_map_lock()` returned the PTE of `addr` mapped, with its lock
    // `ptl` and the RCU read lock held.
    PmdStep::Table(PteTable {
        first,
        ptl,
        addr,
        mm,
    })
}

/// `PMD_SIZE` on x86-64; the layout guard checks it against C.
pub(super) const PMD_SIZE: usize = 1 << 21;

/// What a read-only walk ([`VmaView::read_entries`]) found at one page.
#[derive(Clone, Copy)]
pub(crate) enum PageEntry {
    /// The page's PTE (none in a hole).
    Pte(RawPte),
    /// The page is part of a THP mapped by one PMD, `pmd`, read under the PMD lock; `index` is
    /// the page's index in the THP (0 to 511).
    Pmd {
        /// The PMD leaf.
        pmd: RawPmd,
        /// The page's index in the THP.
        index: usize,
    },
}

/// What [`VmaView`]'s walk gives its visitor: a PTE slot, or the part `[from, to)` of the range
/// that a PMD leaf covers, with the PMD.
enum Visit<'s, 'a, L: LockLevel> {
    Slot(&'s mut PteSlot<'a, L>),
    Leaf(usize, usize, &'s RawPmd),
}

impl<L: LockLevel> VmaView<'_, L> {
    /// Calls `f` on each PTE slot of `[start, start + len)`, in address order, with the slot's
    /// page-table lock held. Stops at the first error `f` returns and passes it on.
    ///
    /// `f` runs under a spinlock: it must not sleep. No page table is allocated: the slots of a
    /// range without page tables are holes, which read as none. Each PTE table is locked while
    /// its slots are visited, one table at a time, so faults elsewhere in the range proceed
    /// (under the read lock).
    ///
    /// # Errors
    ///
    /// - `EINVAL`: `start` or `len` not page-aligned, `len` zero, the range overflows or is not
    ///   inside this VMA.
    /// - `EOPNOTSUPP`: a hugetlb, `VM_PFNMAP`, `VM_IO` or `VM_MIXEDMAP` VMA, or a huge (PMD/PUD)
    ///   mapping, a PMD migration entry or a bad entry above PTE level in the range. The range
    ///   is checked for them before the first slot is visited; under the write lock none can
    ///   appear afterwards, under the read lock one that does is refused when it is met.
    pub(crate) fn walk_ptes<F>(&self, start: usize, len: usize, mut f: F) -> Result
    where
        F: FnMut(&mut PteSlot<'_, L>) -> Result,
    {
        self.walk(start, len, false, |visit| match visit {
            Visit::Slot(slot) => f(slot),
            // Not reached: without `leaves` the walk refuses PMD leaves.
            Visit::Leaf(..) => Err(EOPNOTSUPP),
        })
    }

    /// Calls `f` with the address and the entry of each page of `[start, start + len)`, in
    /// address order: its PTE, read under the page-table lock, or, for a page of a PMD-mapped
    /// THP, the PMD read under `pmd_lock()` (once per PMD; every page it covers in the range is
    /// reported with it). Stops at the first error `f` returns and passes it on.
    ///
    /// As [`VmaView::walk_ptes`], but a PMD-mapped THP is read, not refused: a THP that is split,
    /// zapped or starts migrating between the step that found it and its PMD lock is looked at
    /// again. `f` must not sleep.
    ///
    /// # Errors
    ///
    /// As [`VmaView::walk_ptes`], except for PMD-mapped THPs.
    pub(crate) fn read_entries<F>(&self, start: usize, len: usize, mut f: F) -> Result
    where
        F: FnMut(usize, PageEntry) -> Result,
    {
        self.walk(start, len, true, |visit| match visit {
            Visit::Slot(slot) => f(slot.addr(), PageEntry::Pte(slot.get())),
            Visit::Leaf(from, to, pmd) => {
                for a in (from..to).step_by(PAGE_SIZE) {
                    let index = (a & (PMD_SIZE - 1)) / PAGE_SIZE;
                    f(a, PageEntry::Pmd { pmd: *pmd, index })?;
                }
                Ok(())
            }
        })
    }

    /// The walk of [`VmaView::walk_ptes`]; with `leaves`, a PMD-mapped THP is read under its PMD
    /// lock and `f` is given the part `[from, to)` of the range it covers and the PMD.
    fn walk<F>(&self, start: usize, len: usize, leaves: bool, mut f: F) -> Result
    where
        F: FnMut(Visit<'_, '_, L>) -> Result,
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
        let pmd_end = |addr: usize| (addr & !(PMD_SIZE - 1)).saturating_add(PMD_SIZE).min(end);
        // First the refusals, so that nothing is visited (or changed) in a range that has one.
        let mut addr = start;
        while addr < end {
            // SAFETY: `mm` is valid and its mmap lock is held for the borrow of `self` (type
            // invariant of `VmaView`); `addr` is inside this VMA.
            match unsafe { pmd_step(mm, addr) } {
                PmdStep::Hole | PmdStep::Table(_) => {}
                PmdStep::Leaf(_) if leaves => {}
                PmdStep::Leaf(_) | PmdStep::Other => return Err(EOPNOTSUPP),
            }
            addr = pmd_end(addr);
        }
        let mut addr = start;
        while addr < end {
            let next = pmd_end(addr);
            // SAFETY: as above.
            match unsafe { pmd_step(mm, addr) } {
                PmdStep::Hole => {
                    for a in (addr..next).step_by(PAGE_SIZE) {
                        // INVARIANT: no page table covered `a` just now.
                        let mut slot = PteSlot {
                            ptep: None,
                            addr: a,
                            mm,
                            _lock: PhantomData,
                        };
                        f(Visit::Slot(&mut slot))?;
                    }
                }
                PmdStep::Table(table) => {
                    for a in (addr..next).step_by(PAGE_SIZE) {
                        f(Visit::Slot(&mut table.slot::<L>(a)))?;
                    }
                }
                PmdStep::Leaf(_) if !leaves => return Err(EOPNOTSUPP),
                PmdStep::Leaf(pmdp) => {
                    let mut val = 0;
                    // SAFETY: `pmdp` is the PMD entry of `addr` in `mm`, whose PMD table the
                    // mmap lock keeps (held for the borrow of `self`); `val` is a valid local.
                    if unsafe { ffi::migentry_pmd_read_leaf(mm, pmdp.as_ptr(), &mut val) } != 0 {
                        // No longer a leaf: step again at the same address.
                        continue;
                    }
                    // The value was read from the PMD (under its lock).
                    f(Visit::Leaf(addr, next, &RawPmd::read(val)))?;
                }
                PmdStep::Other => return Err(EOPNOTSUPP),
            }
            addr = next;
        }
        Ok(())
    }
}
