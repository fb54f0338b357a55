// SPDX-License-Identifier: GPL-2.0

//! The migration-entry restore: which PTE replaces a migration entry once the folio is back.
//!
//! This is the PTE-level part of `remove_migration_pte()` in
//! [`mm/migrate.c`](srctree/mm/migrate.c) (Linux 7.3), for an order-0 folio that is neither
//! hugetlb, device-private, nor mapped to the shared zeropage. Rmap, mlock and cache
//! maintenance stay with the caller.
//!
//! The point of the typed version: **write permission is a value that must be earned**. The
//! restored PTE starts write-protected whatever `vm_page_prot` says; it becomes writable only by
//! spending a [`WriteGrant`], a grant can only be minted for the PTE rebuilt from a
//! [`MigrationEntry<Write>`] when the VMA allows writing, the entry carries no uffd bit, and no
//! soft-dirty write-fault is pending, and it makes exactly that PTE writable. A Read or
//! ReadExclusive entry has no way to ask for a grant at all, and the uffd bit can only be put on
//! a write-protected PTE ([`Pte::mkuffd`]). All of these types live in the mm layer
//! ([`crate::mm`]); this module only decides, step by step, as C does.
//!
//! # The C steps and their typed counterparts
//!
//! | 7.3 C (`remove_migration_pte()`)                            | typed                                      |
//! |-------------------------------------------------------------|--------------------------------------------|
//! | `entry = softleaf_from_pte(old_pte)`                        | [`AnyMigrationEntry::from_raw`] (kind → type) |
//! | `new = folio_page(folio, idx)`                              | the [`DestPage`] the caller passes in      |
//! | `pte = mk_pte(new, READ_ONCE(vma->vm_page_prot))`           | [`MigrationEntry::rebuild`]: same, then write-protected |
//! | `if (!softleaf_is_migration_young(entry)) pte_mkold`        | [`Restoring::mkold`], same condition       |
//! | `if (folio_test_dirty && softleaf_is_migration_dirty) pte_mkdirty` | [`Restoring::mkdirty`], same condition |
//! | `pte_swp_soft_dirty(old) ? pte_mksoft_dirty : pte_clear_soft_dirty` | [`Restoring::with_soft_dirty`]    |
//! | `if (softleaf_is_migration_write) pte_mkwrite(pte, vma)`    | `Write` only: [`Restoring::mint`], then [`WriteGrant::mkwrite`] |
//! | `else if (pte_swp_uffd(old)) pte_mkuffd`                    | [`Pte::mkuffd`] whenever the entry has the uffd bit and no grant was spent |
//! | `if (pte_swp_uffd(old) && userfaultfd_rwp(vma)) pte_modify(PAGE_NONE)` | [`Pte::into_protnone`] on the uffd PTE |
//! | `if (anon && !softleaf_is_migration_read) RMAP_EXCLUSIVE`   | [`Restored::exclusive`], same rule          |
//!
//! # Where the typed result differs from 7.3, on purpose
//!
//! The differential KUnit test (`rust/restore/tests.rs`) checks every combination of inputs and
//! asserts that the results differ from the C reference in exactly these cases:
//!
//! 1. **Read / ReadExclusive entry, `vm_page_prot` with `_PAGE_RW`, no uffd bit.** C keeps
//!    `_PAGE_RW` from `vm_page_prot` (shmem, memfd and shared anon mappings without write-notify;
//!    David Hildenbrand's VMA-merge case in Nov 2022). Typed: write-protected. A page that was
//!    read-only before migration stays read-only; the next write takes the fault the kernel
//!    would have taken without the migration. Result: C's PTE with `pte_wrprotect()` applied.
//! 2. **Write entry in a VMA without `VM_WRITE`.** C calls `pte_mkwrite()` unconditionally
//!    (since 717f95b494ac it relies on mprotect() having downgraded the entry). Typed:
//!    write-protected, because the grant checks the VMA. Result: C's PTE, write-protected.
//! 3. **Write entry whose soft-dirty write-fault is pending**: the VMA tracks soft-dirty
//!    (`VM_SOFTDIRTY` clear) and the entry's soft-dirty bit is clear, which `clear_refs` produces
//!    when it runs while the page is under migration (`clear_soft_dirty()` leaves a Write entry
//!    Write). C restores it writable with soft-dirty clear, so the next write is never recorded.
//!    Typed: write-protected, so that write faults and sets soft-dirty (as `do_swap_page()`
//!    does with `pte_needs_soft_dirty_wp()`). Result: C's PTE, write-protected.
//! 4. **Write entry with the uffd bit** (mprotect/`UFFDIO_WRITEPROTECT` never leave one, and
//!    page_table_check would WARN on its PTE). C's `else if` drops the uffd bit and restores
//!    writable (or `PAGE_NONE` without the bit under RWP). Typed: uffd write-protected, under
//!    RWP also `PAGE_NONE`. The protection the user asked for is never dropped.
//!
//! In every other case the typed PTE is bit-for-bit the C one. (`VM_SHADOW_STACK` is carried
//! through a grant as C's `pte_mkwrite()` does; it is outside the differential matrix.)
//!
//! # PMD-mapped THPs
//!
//! The same code restores a PMD migration entry: every type here takes the page-table level as
//! a parameter ([`Level`]), so the steps, the grant rule and the uffd rule are written once.
//! 7.3's `remove_migration_pmd()` differs from `remove_migration_pte()` in one step the typed
//! restore follows: soft-dirty is only ever set, never cleared ([`Level::EXACT_SOFT_DIRTY`]).
//! The PMD's C steps, its own divergences and their predictor are in [`pmd`].
//!
//! [`Pte::mkuffd`]: crate::mm::Entry::mkuffd
//! [`Pte::into_protnone`]: crate::mm::Entry::into_protnone

use crate::mm::{
    Access,
    AnyMigrationEntry,
    DestPage,
    EntryBits,
    EntryKind,
    Level,
    MigrationEntry,
    NoGrant,
    PteLevel,
    Read,
    ReadExclusive,
    RestoredEntry,
    Restoring,
    VmaFacts,
    Write,
    WriteGrant, //
};

#[cfg(CONFIG_KUNIT)]
mod bench;
pub(crate) mod hook;
pub(crate) mod pmd;
#[cfg(CONFIG_KUNIT)]
mod tests;

/// What the restore needs to know about the folio.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct FolioState {
    /// `folio_test_dirty()`.
    pub(crate) dirty: bool,
    /// `folio_test_anon()`.
    pub(crate) anon: bool,
}

/// The documented divergences from 7.3's PTE (the list at the top of this file), numbered as
/// there.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Divergence {
    /// 1: a Read or ReadExclusive entry, `vm_page_prot` with `_PAGE_RW`, no uffd bit.
    ReadEntryRwProt = 0,
    /// 2: a Write entry in a VMA without `VM_WRITE`.
    WriteEntryVmaNotWritable = 1,
    /// 3: a Write entry whose soft-dirty write-fault is pending.
    WriteEntrySoftDirtyPending = 2,
    /// 4: a Write entry with the uffd bit.
    WriteEntryUffd = 3,
}

/// Which divergence the list at the top of this file predicts for an entry of `kind` with
/// `bits` in `vma`, computed from that list, not from the restore code (the differential test
/// checks one against the other).
pub(crate) fn divergence(kind: EntryKind, bits: EntryBits, vma: &VmaFacts) -> Option<Divergence> {
    if kind == EntryKind::MigrationWrite {
        if bits.uffd {
            Some(Divergence::WriteEntryUffd)
        } else if !vma.flags().write {
            Some(Divergence::WriteEntryVmaNotWritable)
        } else if vma.soft_dirty_tracking() && !bits.soft_dirty {
            Some(Divergence::WriteEntrySoftDirtyPending)
        } else {
            None
        }
    } else if vma.page_prot().is_writable() && !bits.uffd {
        Some(Divergence::ReadEntryRwProt)
    } else {
        None
    }
}

/// The outcome of a restore at level `L` (PTE by default).
#[derive(PartialEq, Eq, Debug)]
pub(crate) struct Restored<L: Level = PteLevel> {
    /// The PTE (or PMD) to install.
    pub(crate) pte: RestoredEntry<L>,
    /// Whether the mapping is added as exclusive (`RMAP_EXCLUSIVE`).
    pub(crate) exclusive: bool,
    /// For a Write entry restored write-protected: why.
    pub(crate) refused: Option<NoGrant>,
}

/// Restoring a migration entry of one kind at level `L`.
pub(crate) trait Restore<L: Level> {
    /// The entry to install in place of `self` in `vma`, mapping `dest` (the destination page;
    /// for a PMD the destination folio's head page), for a folio described by `folio`.
    fn restore(self, dest: &DestPage<'_>, vma: &VmaFacts, folio: FolioState) -> Restored<L>;
}

/// The steps every kind shares: the entry from `vm_page_prot` for `dest` (write-protected),
/// young, dirty and soft-dirty as 7.3 sets them at level `L`: exactly the migration entry's bit
/// for a PTE, only ever set for a PMD (where `pmd_mkdirty()` has set it too).
#[inline]
fn common<A: Access, L: Level>(
    entry: MigrationEntry<A, L>,
    dest: &DestPage<'_>,
    vma: &VmaFacts,
    folio: FolioState,
) -> Restoring<A, L> {
    let bits = entry.bits();
    let mut r = entry.rebuild(dest, vma.page_prot());
    if !bits.young {
        r = r.mkold();
    }
    if folio.dirty && bits.dirty {
        r = r.mkdirty();
    }
    if L::EXACT_SOFT_DIRTY {
        r.with_soft_dirty(bits.soft_dirty)
    } else if bits.soft_dirty {
        r.mksoft_dirty()
    } else {
        r
    }
}

/// The write-protected entry, with the uffd bit (and, under RWP, `PAGE_NONE`) if the migration
/// entry had it.
#[inline]
fn protected<A: Access, L: Level>(r: Restoring<A, L>, vma: &VmaFacts) -> RestoredEntry<L> {
    let uffd = r.bits().uffd;
    let pte = r.into_write_protected();
    if !uffd {
        return RestoredEntry::WriteProtected(pte);
    }
    let pte = pte.mkuffd();
    if vma.flags().uffd_rwp {
        RestoredEntry::Uffd(pte.into_protnone())
    } else {
        RestoredEntry::Uffd(pte)
    }
}

impl<L: Level> Restore<L> for MigrationEntry<Read, L> {
    #[inline]
    fn restore(self, dest: &DestPage<'_>, vma: &VmaFacts, folio: FolioState) -> Restored<L> {
        Restored {
            pte: protected(common(self, dest, vma, folio), vma),
            exclusive: false,
            refused: None,
        }
    }
}

impl<L: Level> Restore<L> for MigrationEntry<ReadExclusive, L> {
    #[inline]
    fn restore(self, dest: &DestPage<'_>, vma: &VmaFacts, folio: FolioState) -> Restored<L> {
        Restored {
            pte: protected(common(self, dest, vma, folio), vma),
            exclusive: folio.anon,
            refused: None,
        }
    }
}

impl<L: Level> Restore<L> for MigrationEntry<Write, L> {
    #[inline]
    fn restore(self, dest: &DestPage<'_>, vma: &VmaFacts, folio: FolioState) -> Restored<L> {
        let (pte, refused) = match common(self, dest, vma, folio).mint(vma) {
            Ok(grant) => (RestoredEntry::Writable(WriteGrant::mkwrite(grant)), None),
            Err((why, r)) => (protected(r, vma), Some(why)),
        };
        Restored {
            pte,
            exclusive: folio.anon,
            refused,
        }
    }
}

impl<L: Level> Restore<L> for AnyMigrationEntry<L> {
    #[inline(always)]
    fn restore(self, dest: &DestPage<'_>, vma: &VmaFacts, folio: FolioState) -> Restored<L> {
        match self {
            Self::Read(e) => e.restore(dest, vma, folio),
            Self::ReadExclusive(e) => e.restore(dest, vma, folio),
            Self::Write(e) => e.restore(dest, vma, folio),
        }
    }
}
