// SPDX-License-Identifier: GPL-2.0

//! The typed restore of a PMD migration entry (a THP mapped by one PMD), against 7.3's
//! `remove_migration_pmd()` in [`mm/huge_memory.c`](srctree/mm/huge_memory.c).
//!
//! There is no second restore: [`Restore`](super::Restore) is implemented once for every level,
//! and a [`PmdMigrationEntry<A>`] goes through the same steps, the same [`WriteGrant`] rule (VMA
//! writable, no uffd bit, no pending soft-dirty write-fault) and the same uffd rule as a PTE's.
//! This file holds what is the PMD's own: the C steps side by side with the typed ones, the
//! divergences from 7.3 and the function that predicts them.
//!
//! # The C steps and their typed counterparts
//!
//! | 7.3 C (`remove_migration_pmd()`)                             | typed                                      |
//! |--------------------------------------------------------------|--------------------------------------------|
//! | `entry = softleaf_from_pmd(*pvmw->pmd)`                      | [`AnyMigrationEntry::from_raw`] of a [`RawPmd`] |
//! | `pmde = folio_mk_pmd(folio, READ_ONCE(vma->vm_page_prot))`   | `rebuild`: `pmd_mkhuge(pfn_pmd())`, then write-protected |
//! | `if (pmd_swp_soft_dirty(old)) pmd_mksoft_dirty` (never cleared) | `Restoring::mksoft_dirty`, same condition ([`Level::EXACT_SOFT_DIRTY`] is false) |
//! | `if (softleaf_is_migration_write) pmd_mkwrite(pmde, vma)`    | `Write` only: `Restoring::mint`, then [`WriteGrant::mkwrite`] |
//! | `if (pmd_swp_uffd(old)) pmd_mkuffd` (not `else if`: after a `pmd_mkwrite()` too) | `Entry::mkuffd` whenever the entry has the uffd bit; a grant is never minted then |
//! | `if (pmd_swp_uffd(old) && userfaultfd_rwp(vma)) pmd_modify(PAGE_NONE)` | `Entry::into_protnone` on the uffd PMD |
//! | `if (!softleaf_is_migration_young) pmd_mkold` (after `pmd_modify()`) | `Restoring::mkold`, same condition (before `into_protnone`, which keeps the accessed bit) |
//! | `if (folio_test_dirty && softleaf_is_migration_dirty) pmd_mkdirty` (x86: also soft-dirty) | `Restoring::mkdirty`, same condition, soft-dirty included |
//! | `if (anon && !softleaf_is_migration_read) RMAP_EXCLUSIVE`    | [`Restored::exclusive`], same rule          |
//!
//! The typed restore applies age, dirty and soft-dirty to the write-protected PMD before it
//! decides on write, as it does for a PTE: on x86 the result is the same (`pmd_mkwrite()` moves
//! SavedDirty back to Dirty; `pmd_modify()` keeps the accessed, dirty, SavedDirty and soft-dirty
//! bits, `_HPAGE_CHG_MASK`), which the differential test checks bit for bit. The grant's soft-dirty condition looks at the PMD as it will be installed: where
//! `pmd_mkdirty()` has set soft-dirty, the page already reads as written since the last
//! `clear_refs`, so no write can go unrecorded (that is how the A/D bits of a migration entry
//! hide the PMD's soft-dirty window, docs/findings.md).
//!
//! # Where the typed result differs from 7.3, on purpose
//!
//! The KUnit case `pmd_differential_matrix` (`rust/restore/tests.rs`) checks every combination
//! of inputs and asserts that the results differ from the C reference
//! (`migentry_ref_restore_pmd()`) in exactly these cases:
//!
//! 1. **Read / ReadExclusive entry, `vm_page_prot` with `_PAGE_RW`, no uffd bit.** As for a PTE:
//!    C keeps `_PAGE_RW` from `vm_page_prot`; typed: write-protected. Result: C's PMD with
//!    `pmd_wrprotect()` applied.
//! 2. **Write entry, no uffd bit, in a VMA without `VM_WRITE`.** C calls `pmd_mkwrite()`
//!    unconditionally. Typed: write-protected. Result: C's PMD, write-protected.
//! 3. **Write entry, no uffd bit, VMA writable, soft-dirty write-fault pending**: the VMA tracks
//!    soft-dirty, the entry's soft-dirty bit is clear, and `pmd_mkdirty()` does not set it
//!    (the folio or the entry is clean, or migration entries do not keep A/D on this kernel).
//!    C restores the PMD writable and not soft-dirty, so the next write to the THP is never
//!    recorded. Typed: write-protected. Result: C's PMD, write-protected.
//!
//! A Write entry with the uffd bit is not a divergence at this level: 7.3's unconditional
//! `pmd_mkuffd()` write-protects what `pmd_mkwrite()` made writable, which is what the typed
//! restore builds. In every case not listed the typed PMD is bit-for-bit the C one.
//!
//! [`AnyMigrationEntry::from_raw`]: crate::mm::AnyMigrationEntry::from_raw
//! [`PmdMigrationEntry<A>`]: crate::mm::PmdMigrationEntry
//! [`RawPmd`]: crate::mm::RawPmd
//! [`WriteGrant`]: crate::mm::WriteGrant
//! [`WriteGrant::mkwrite`]: crate::mm::WriteGrant::mkwrite
//! [`Level::EXACT_SOFT_DIRTY`]: crate::mm::Level::EXACT_SOFT_DIRTY
//! [`Restored::exclusive`]: super::Restored::exclusive

use crate::mm::{
    EntryBits,
    EntryKind,
    VmaFacts, //
};

use super::FolioState;

/// The documented divergences from 7.3's PMD (the list at the top of this file), numbered as
/// there.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PmdDivergence {
    /// 1: a Read or ReadExclusive entry, `vm_page_prot` with `_PAGE_RW`, no uffd bit.
    ReadEntryRwProt = 0,
    /// 2: a Write entry without the uffd bit in a VMA without `VM_WRITE`.
    WriteEntryVmaNotWritable = 1,
    /// 3: a Write entry without the uffd bit whose soft-dirty write-fault is pending.
    WriteEntrySoftDirtyPending = 2,
}

/// Which divergence the list at the top of this file predicts for a PMD migration entry of
/// `kind` with `bits` (as the entry holds them: young and dirty only where migration entries
/// keep A/D) in `vma`, for a folio described by `folio`; computed from that list, not from the
/// restore code (the differential test and the restore hook check one against the other).
pub(crate) fn pmd_divergence(
    kind: EntryKind,
    bits: EntryBits,
    folio: FolioState,
    vma: &VmaFacts,
) -> Option<PmdDivergence> {
    if bits.uffd {
        return None;
    }
    if kind != EntryKind::MigrationWrite {
        return vma
            .page_prot()
            .is_writable()
            .then_some(PmdDivergence::ReadEntryRwProt);
    }
    let mkdirty_sets_soft_dirty = folio.dirty && bits.dirty;
    if !vma.flags().write {
        Some(PmdDivergence::WriteEntryVmaNotWritable)
    } else if vma.soft_dirty_tracking() && !bits.soft_dirty && !mkdirty_sets_soft_dirty {
        Some(PmdDivergence::WriteEntrySoftDirtyPending)
    } else {
        None
    }
}
