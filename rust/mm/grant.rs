// SPDX-License-Identifier: GPL-2.0

//! The PTE that replaces a migration entry, and the one way it becomes writable.
//!
//! [`MigrationEntry::rebuild`](super::MigrationEntry::rebuild) consumes an entry and starts a
//! [`Restoring<A>`]: the write-protected PTE for the destination page, which still remembers the
//! entry's kind `A` and bits. Only a [`Restoring<Write>`] has [`Restoring::mint`], and a minted
//! [`WriteGrant`] *owns* the PTE it was minted for: spending it ([`WriteGrant::mkwrite`]) makes
//! exactly that PTE writable. A grant therefore cannot be forged, kept for later, or spent on the
//! PTE restored from another entry.

use core::marker::PhantomData;

use super::{
    pte::{
        Pte,
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
    /// The VMA tracks soft-dirty and the entry's soft-dirty bit is clear: the next write must
    /// fault so that it is recorded.
    SoftDirtyPending,
}

/// The PTE being rebuilt from a migration entry of kind `A`.
///
/// # Invariants
///
/// `pte` was made from the destination page by consuming an entry of kind `A` whose bits are
/// `bits`; it is write-protected and has no uffd bit.
#[derive(PartialEq, Eq, Debug)]
pub(crate) struct Restoring<A: Access> {
    bits: EntryBits,
    pte: Pte<WriteProtected>,
    _a: PhantomData<A>,
}

impl<A: Access> Restoring<A> {
    /// Only [`MigrationEntry::rebuild`](super::MigrationEntry::rebuild) starts one.
    pub(super) fn new(bits: EntryBits, pte: Pte<WriteProtected>) -> Self {
        // INVARIANT: called by `rebuild()` with the consumed entry's bits and the PTE it mapped.
        Self {
            bits,
            pte,
            _a: PhantomData,
        }
    }

    /// The bits of the entry this PTE replaces.
    pub(crate) fn bits(&self) -> EntryBits {
        self.bits
    }

    /// `pte_mkold()`.
    pub(crate) fn mkold(self) -> Self {
        Self {
            pte: self.pte.mkold(),
            ..self
        }
    }

    /// `pte_mkdirty()` (SavedDirty on this write-protected PTE).
    pub(crate) fn mkdirty(self) -> Self {
        Self {
            pte: self.pte.mkdirty(),
            ..self
        }
    }

    /// The soft-dirty bit set to `soft_dirty`.
    pub(crate) fn with_soft_dirty(self, soft_dirty: bool) -> Self {
        Self {
            pte: self.pte.with_soft_dirty(soft_dirty),
            ..self
        }
    }

    /// Gives up on write: the write-protected PTE.
    pub(crate) fn into_write_protected(self) -> Pte<WriteProtected> {
        self.pte
    }
}

impl Restoring<Write> {
    /// Mints the grant to make this PTE writable: the VMA has `VM_WRITE`, the entry has no uffd
    /// bit, and no soft-dirty write-fault is pending (the VMA does not track soft-dirty, or the
    /// entry is soft-dirty).
    ///
    /// # Errors
    ///
    /// Why not, with `self` handed back unchanged.
    pub(crate) fn mint(self, vma: &VmaFacts) -> Result<WriteGrant, (NoGrant, Self)> {
        let why = if !vma.flags().write {
            Some(NoGrant::VmaNotWritable)
        } else if self.bits.uffd {
            Some(NoGrant::Uffd)
        } else if vma.soft_dirty_tracking() && !self.bits.soft_dirty {
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

/// Permission to make one restored PTE writable, holding that PTE.
///
/// # Invariants
///
/// Only [`Restoring::mint`] makes one, for a Write entry without the uffd bit, in a VMA with
/// `VM_WRITE` where no soft-dirty write-fault is pending; `pte` is the PTE restored from that
/// entry.
#[derive(Debug)]
pub(crate) struct WriteGrant {
    pte: Pte<WriteProtected>,
    shadow_stack: bool,
}

impl WriteGrant {
    /// Spends the grant: the PTE it was minted for, writable as x86 `pte_mkwrite(pte, vma)`
    /// makes it (a shadow-stack PTE in a `VM_SHADOW_STACK` VMA).
    pub(crate) fn mkwrite(self) -> Pte<Writable> {
        self.pte.mkwrite(self.shadow_stack)
    }
}
