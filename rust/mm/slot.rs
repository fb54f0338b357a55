// SPDX-License-Identifier: GPL-2.0

//! PTE and PMD slots of a VMA, visited by a page-table walk that allocates nothing.
//!
//! C header: [`include/linux/pgtable.h`](srctree/include/linux/pgtable.h),
//! [`include/linux/mm.h`](srctree/include/linux/mm.h) (`pte_offset_map_lock()`, `pmd_lock()`)
//!
//! The walks ([`VmaView::walk_ptes`], [`VmaView::walk_entries`], [`VmaView::read_entries`]) go
//! down pgd → p4d → pud → pmd with the kernel's accessors, and at each PMD take one step
//! ([`pmd_step`]): a PTE table is mapped and locked as `pte_offset_map_lock()` does it (RCU,
//! lockless PMD read, `pmd_same()` recheck under the lock); a missing table at any level is a
//! hole, whose slots read as none; a huge leaf (a PMD-mapped THP) is locked with `pmd_lock()` and
//! rechecked under it ([`PmdSlot`]), where the walk handles THPs, and refused where it does not;
//! anything else (a PMD migration entry, a bad entry, a leaf above the PMD) is refused. No page
//! table is ever allocated, so a query leaves the process's page tables as they were.
//!
//! A [`PteSlot`] or [`PmdSlot`] exists only inside the closure given to the walk, which runs with
//! the slot's lock held; the closure receives it by `&mut` with a lifetime it cannot name, so the
//! slot cannot be kept after the lock is dropped. The slot carries the level of the mmap lock the
//! walk holds ([`LockLevel`]): every slot can be read, only a slot of a walk under the write lock
//! ([`WriteLocked`]) can be cleared and filled, and a slot installs entries of its own
//! page-table level only ([`Installable`]).

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
    level::{
        Level,
        PmdLevel,
        PteLevel, //
    },
    pte::{
        Entry,
        EntryKind,
        PteFlags,
        RawEntry,
        RawPmd,
        RawPte,
        RestoredEntry,
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

/// A value that may be installed in a slot of level `L`: a typed present entry of that level, or
/// an entry read from a page table of that level (put back as it was).
pub(crate) trait Installable<L: Level>: private::Sealed {
    /// The entry value.
    fn entry_val(&self) -> u64;
}

impl<W: WriteState, L: Level> private::Sealed for Entry<W, L> {}
impl<W: WriteState, L: Level> Installable<L> for Entry<W, L> {
    fn entry_val(&self) -> u64 {
        self.val()
    }
}
impl<L: Level> private::Sealed for RestoredEntry<L> {}
impl<L: Level> Installable<L> for RestoredEntry<L> {
    fn entry_val(&self) -> u64 {
        self.val()
    }
}
impl<L: Level> private::Sealed for RawEntry<L> {}
impl<L: Level> Installable<L> for RawEntry<L> {
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
    pub(crate) fn install(&mut self, entry: &impl Installable<PteLevel>) -> Result {
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

/// The PMD of a PMD-mapped THP in a walk under the mmap lock level `L`, with its PMD lock held.
///
/// # Invariants
///
/// `pmdp` points at the PMD entry mapping `addr` (the THP's first address) in `mm`'s page
/// tables, `ptl` is its lock (`pmd_lock()`) and is held until `drop`; the entry was a present
/// huge leaf when the lock was taken, and only this slot changes it while the lock is held.
/// `mm`'s mmap lock is held at level `L` for `'a`.
pub(crate) struct PmdSlot<'a, L: LockLevel = WriteLocked> {
    pmdp: NonNull<bindings::pmd_t>,
    ptl: NonNull<bindings::spinlock_t>,
    addr: usize,
    mm: *mut bindings::mm_struct,
    _lock: PhantomData<(&'a mut bindings::pmd_t, L)>,
}

impl<'a, L: LockLevel> PmdSlot<'a, L> {
    /// Takes the PMD lock of `pmdp`, the PMD entry of `addr` in `mm`; `None` (no lock held) if
    /// the entry is no longer a huge leaf.
    ///
    /// # Safety
    ///
    /// `mm` must be valid with its mmap lock held at level `L` for `'a`, and `pmdp` its PMD entry
    /// for `addr`, in a PMD table that lock keeps.
    unsafe fn lock(
        mm: *mut bindings::mm_struct,
        pmdp: NonNull<bindings::pmd_t>,
        addr: usize,
    ) -> Option<Self> {
        // SAFETY: `pmdp` is a PMD entry of `mm` whose table the mmap lock keeps (caller).
        let ptl = NonNull::new(unsafe { ffi::migentry_pmd_lock_leaf(mm, pmdp.as_ptr()) })?;
        // INVARIANT: the lock is held and the entry is a huge leaf; `addr` is rounded down to
        // the THP's first address.
        Some(Self {
            pmdp,
            ptl,
            addr: addr & !(PMD_SIZE - 1),
            mm,
            _lock: PhantomData,
        })
    }

    /// The first user address the THP maps.
    pub(crate) fn addr(&self) -> usize {
        self.addr
    }

    /// `pmdp_get()`, decoded.
    pub(crate) fn get(&self) -> RawPmd {
        // SAFETY: `pmdp` is valid and its lock is held (type invariant).
        RawPmd::read(unsafe { ffi::migentry_pmdp_get(self.pmdp.as_ptr()) })
    }

    /// The folio `pmd` (read from this slot) maps, if it is present and not special (the huge
    /// zero page is special), as its head page. Lives as long as the PMD lock, as
    /// [`PteSlot::folio`].
    pub(crate) fn folio(&self, pmd: &RawPmd) -> Option<MappedFolio<'a>> {
        let d = pmd.decoded();
        if d.kind != EntryKind::Present || d.flags.has(PteFlags::SPECIAL) {
            return None;
        }
        if self.get().val() != pmd.val() {
            return None;
        }
        // SAFETY: `d.pfn` is the head page mapped by the present, non-special PMD leaf in this
        // slot, whose lock is held for `'a` (type invariant).
        unsafe { MappedFolio::lookup(d.pfn) }
    }
}

impl PmdSlot<'_, WriteLocked> {
    /// `pmdp_huge_get_and_clear()`: atomically takes the PMD and leaves the slot none, so that
    /// no hardware A/D update in between is lost. As [`PteSlot::take`].
    pub(crate) fn take(&mut self, seen: &RawPmd) -> RawPmd {
        // SAFETY: `pmdp` maps `addr` in `mm` and its lock is held (type invariant).
        let val = unsafe {
            ffi::migentry_pmdp_huge_get_and_clear(self.mm, self.addr, self.pmdp.as_ptr())
        };
        if val == seen.val() {
            *seen
        } else {
            RawPmd::read(val)
        }
    }

    /// `set_pmd_at()` into a none slot (one that [`PmdSlot::take`] cleared); `EBUSY` if the
    /// slot is not none, and nothing is written then. The caller is responsible for the TLB, as
    /// with [`PteSlot::install`].
    pub(crate) fn install(&mut self, entry: &impl Installable<PmdLevel>) -> Result {
        // SAFETY: `pmdp` is valid and its lock is held (type invariant).
        if unsafe { ffi::migentry_pmdp_get(self.pmdp.as_ptr()) } != 0 {
            return Err(EBUSY);
        }
        // SAFETY: `pmdp` maps `addr` in `mm`, its lock is held (type invariant), the mmap and
        // VMA locks are held for writing (`WriteLocked`) and the slot is none, so
        // page_table_check's accounting stays balanced; the deposited page table stays.
        unsafe {
            ffi::migentry_set_pmd_at(self.mm, self.addr, self.pmdp.as_ptr(), entry.entry_val())
        };
        Ok(())
    }
}

impl<L: LockLevel> Drop for PmdSlot<'_, L> {
    fn drop(&mut self) {
        // SAFETY: the lock is held (type invariant); this gives it back once.
        unsafe { ffi::migentry_pmd_unlock(self.ptl.as_ptr()) };
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
pub(crate) const PMD_SIZE: usize = 1 << 21;

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

/// What [`VmaView::walk_entries`] gives its visitor: a PTE slot, or the PMD slot of a
/// PMD-mapped THP with the part `[from, to)` of the range it covers.
pub(crate) enum Visit<'s, 'a, L: LockLevel> {
    /// A PTE slot, under its page-table lock.
    Slot(&'s mut PteSlot<'a, L>),
    /// A PMD leaf, under its PMD lock, and the part of the range it covers.
    Leaf(&'s mut PmdSlot<'a, L>, usize, usize),
}

/// How a walk treats PMD-mapped THPs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Leaves {
    /// Refused with `EOPNOTSUPP`.
    Refuse,
    /// Visited, also where the range covers part of the THP.
    Any,
    /// Visited where the range covers the whole THP and the VMA is anonymous; `ERANGE` for a
    /// range that covers part of one, `EOPNOTSUPP` for one in another VMA.
    WholeAnon,
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
    // The device walks with `walk_entries()` and `read_entries()`; the compile-fail cases (and
    // callers that handle no THP) walk the PTEs alone.
    #[allow(dead_code)]
    pub(crate) fn walk_ptes<F>(&self, start: usize, len: usize, mut f: F) -> Result
    where
        F: FnMut(&mut PteSlot<'_, L>) -> Result,
    {
        self.walk(start, len, Leaves::Refuse, |visit| match visit {
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
        self.walk(start, len, Leaves::Any, |visit| match visit {
            Visit::Slot(slot) => f(slot.addr(), PageEntry::Pte(slot.get())),
            Visit::Leaf(slot, from, to) => {
                let pmd = slot.get();
                for a in (from..to).step_by(PAGE_SIZE) {
                    let index = (a & (PMD_SIZE - 1)) / PAGE_SIZE;
                    f(a, PageEntry::Pmd { pmd, index })?;
                }
                Ok(())
            }
        })
    }

    /// Calls `f` on each PTE slot of `[start, start + len)` and on the PMD slot of each
    /// PMD-mapped THP in it (once, with the range's part of it, which is the whole THP), in
    /// address order, with the slot's lock held. Stops at the first error `f` returns and passes
    /// it on. `f` must not sleep.
    ///
    /// # Errors
    ///
    /// As [`VmaView::walk_ptes`], except that a PMD-mapped THP is visited, not refused, where
    /// the VMA is anonymous and the range covers all of it; and:
    ///
    /// - `ERANGE`: the range covers part of a PMD-mapped THP (found before the first slot is
    ///   visited; under the read lock, a THP that appears later is found when it is met);
    /// - `EOPNOTSUPP`: a PMD-mapped THP in a VMA that is not anonymous (a file or shmem THP).
    pub(crate) fn walk_entries<F>(&self, start: usize, len: usize, f: F) -> Result
    where
        F: FnMut(Visit<'_, '_, L>) -> Result,
    {
        self.walk(start, len, Leaves::WholeAnon, f)
    }

    /// The walk of [`VmaView::walk_ptes`]; PMD-mapped THPs as `leaves` says, each visited
    /// under its PMD lock with the part `[from, to)` of the range it covers.
    fn walk<F>(&self, start: usize, len: usize, leaves: Leaves, mut f: F) -> Result
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
        // Whether a THP met at `addr` may be visited.
        let leaf_ok = |addr: usize| match leaves {
            Leaves::Refuse => Err(EOPNOTSUPP),
            Leaves::Any => Ok(()),
            Leaves::WholeAnon if !self.facts().is_anonymous() => Err(EOPNOTSUPP),
            Leaves::WholeAnon => {
                let first = addr & !(PMD_SIZE - 1);
                if first < start || first.saturating_add(PMD_SIZE) > end {
                    Err(ERANGE)
                } else {
                    Ok(())
                }
            }
        };
        // First the refusals, so that nothing is visited (or changed) in a range that has one.
        let mut addr = start;
        while addr < end {
            // SAFETY: `mm` is valid and its mmap lock is held for the borrow of `self` (type
            // invariant of `VmaView`); `addr` is inside this VMA.
            match unsafe { pmd_step(mm, addr) } {
                PmdStep::Hole | PmdStep::Table(_) => {}
                PmdStep::Leaf(_) => leaf_ok(addr)?,
                PmdStep::Other => return Err(EOPNOTSUPP),
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
                PmdStep::Leaf(pmdp) => {
                    leaf_ok(addr)?;
                    // SAFETY: `pmdp` is the PMD entry of `addr` in `mm`, whose PMD table the
                    // mmap lock keeps, held at level `L` for the borrow of `self`.
                    let Some(mut slot) = (unsafe { PmdSlot::<L>::lock(mm, pmdp, addr) }) else {
                        // No longer a leaf: step again at the same address.
                        continue;
                    };
                    f(Visit::Leaf(&mut slot, addr, next))?;
                }
                PmdStep::Other => return Err(EOPNOTSUPP),
            }
            addr = next;
        }
        Ok(())
    }
}
