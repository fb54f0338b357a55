// SPDX-License-Identifier: GPL-2.0

//! The PTE (or PMD) that replaces a migration entry, and the one way it becomes writable.
//!
//! [`MigrationEntry::rebuild`](super::MigrationEntry::rebuild) consumes an entry and starts a
//! [`Restoring<A, L>`]: the write-protected entry for the destination page, which still
//! remembers the entry's kind `A` and bits. Only a [`Restoring<Write, L>`] has
//! [`Restoring::mint`], and a minted [`WriteGrant<L>`] *owns* the entry it was minted for:
//! spending it ([`WriteGrant::mkwrite`]) makes exactly that entry writable. A grant therefore
//! cannot be forged, kept for later, or spent on the entry restored from another migration
//! entry, nor on one of the other level. The rule is the same at both levels ([`super::Level`]),
//! and it is written once, here.

use core::marker::PhantomData;

use super::{
    level::{
        Level,
        PmdLevel,
        PteLevel, //
    },
    pte::{
        Entry,
        Writable,
        WriteProtected, //
    },
    softleaf::{
        Access,
        EntryBits,
        Write, //
    },
    vma::VmaFacts,
};

/// Why a [`Restoring<Write>`] got no [`WriteGrant`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum NoGrant {
    /// The VMA lacks `VM_WRITE`.
    VmaNotWritable,
    /// The entry carries the uffd bit: the user asked to see the next write.
    Uffd,
    /// The VMA tracks soft-dirty and the entry being restored is not soft-dirty: the next write
    /// must fault so that it is recorded.
    SoftDirtyPending,
}

/// The entry of level `L` (PTE by default) being rebuilt from a migration entry of kind `A`.
///
/// # Invariants
///
/// `pte` was made from the destination page by consuming a migration entry of kind `A` and
/// level `L` whose bits are `bits`; it is write-protected and has no uffd bit.
#[derive(PartialEq, Eq, Debug)]
pub(crate) struct Restoring<A: Access, L: Level = PteLevel> {
    bits: EntryBits,
    pte: Entry<WriteProtected, L>,
    _a: PhantomData<A>,
}

impl<A: Access, L: Level> Restoring<A, L> {
    /// Only [`MigrationEntry::rebuild`](super::MigrationEntry::rebuild) starts one.
    #[inline]
    pub(super) fn new(bits: EntryBits, pte: Entry<WriteProtected, L>) -> Self {
        // INVARIANT: called by `rebuild()` with the consumed entry's bits and the PTE it mapped.
        Self {
            bits,
            pte,
            _a: PhantomData,
        }
    }

    /// The bits of the entry this PTE replaces.
    #[inline]
    pub(crate) fn bits(&self) -> EntryBits {
        self.bits
    }

    /// `pte_mkold()` / `pmd_mkold()`.
    #[inline]
    pub(crate) fn mkold(self) -> Self {
        Self {
            pte: self.pte.mkold(),
            ..self
        }
    }

    /// `pte_mkdirty()` / `pmd_mkdirty()` (SavedDirty on this write-protected entry; x86 sets
    /// soft-dirty too).
    #[inline]
    pub(crate) fn mkdirty(self) -> Self {
        Self {
            pte: self.pte.mkdirty(),
            ..self
        }
    }

    /// The soft-dirty bit set, whatever it was.
    pub(crate) fn mksoft_dirty(self) -> Self {
        Self {
            pte: self.pte.mksoft_dirty(),
            ..self
        }
    }

    /// The soft-dirty bit set to `soft_dirty`.
    #[inline]
    pub(crate) fn with_soft_dirty(self, soft_dirty: bool) -> Self {
        Self {
            pte: self.pte.with_soft_dirty(soft_dirty),
            ..self
        }
    }

    /// Gives up on write: the write-protected entry.
    #[inline]
    pub(crate) fn into_write_protected(self) -> Entry<WriteProtected, L> {
        self.pte
    }
}

impl<L: Level> Restoring<Write, L> {
    /// Mints the grant to make this entry writable: the VMA has `VM_WRITE`, the migration entry
    /// has no uffd bit, and no soft-dirty write-fault is pending (the VMA does not track
    /// soft-dirty, or the entry being restored is already soft-dirty, so the write it allows is
    /// recorded). Call it last, once the soft-dirty bit is final.
    ///
    /// # Errors
    ///
    /// Why not, with `self` handed back unchanged.
    #[inline]
    pub(crate) fn mint(self, vma: &VmaFacts) -> Result<WriteGrant<L>, (NoGrant, Self)> {
        let why = if !vma.flags().write {
            Some(NoGrant::VmaNotWritable)
        } else if self.bits.uffd {
            Some(NoGrant::Uffd)
        } else if vma.soft_dirty_tracking() && !self.pte.is_soft_dirty() {
            Some(NoGrant::SoftDirtyPending)
        } else {
            None
        };
        match why {
            Some(why) => Err((why, self)),
            // INVARIANT: the three conditions were just checked for this entry and VMA.
            None => Ok(WriteGrant {
                pte: self.pte,
                shadow_stack: vma.flags().shadow_stack,
            }),
        }
    }
}

/// Permission to make one restored entry of level `L` (PTE by default) writable, holding that
/// entry.
///
/// # Invariants
///
/// Only [`Restoring::mint`] makes one, for a Write migration entry without the uffd bit, in a
/// VMA with `VM_WRITE` where no soft-dirty write-fault is pending; `pte` is the entry restored
/// from that migration entry.
#[derive(Debug)]
pub(crate) struct WriteGrant<L: Level = PteLevel> {
    pte: Entry<WriteProtected, L>,
    shadow_stack: bool,
}

/// Permission to make one restored PMD writable.
// Only the tests (compile-fail cases, KUnit) name it: the device reaches it through generic code.
#[allow(dead_code)]
pub(crate) type PmdWriteGrant = WriteGrant<PmdLevel>;

impl<L: Level> WriteGrant<L> {
    /// Spends the grant: the entry it was minted for, writable as x86 `pte_mkwrite(pte, vma)`
    /// (`pmd_mkwrite(pmd, vma)`) makes it (a shadow-stack entry in a `VM_SHADOW_STACK` VMA).
    #[inline]
    pub(crate) fn mkwrite(self) -> Entry<Writable, L> {
        self.pte.mkwrite(self.shadow_stack)
    }
}
