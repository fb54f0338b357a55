// SPDX-License-Identifier: GPL-2.0

//! Non-present page-table entries ("softleaf" entries in 7.3), and migration entries whose
//! access kind is a type parameter.
//!
//! C header: [`include/linux/leafops.h`](srctree/include/linux/leafops.h)
//!
//! A migration entry remembers how the page was mapped when migration started:
//! [`Write`] (the PTE was writable), [`ReadExclusive`] (read-only, anon and exclusive) or
//! [`Read`]. The kind decides what the restore may give back, so it is part of the type:
//! only a [`MigrationEntry<Write>`] can ever be asked for a
//! [`WriteGrant`](crate::restore::WriteGrant).

use core::marker::PhantomData;

use crate::{
    ffi,
    pte::{
        Decoded,
        LeafKind,
        PteFlags,
        RawPte, //
    },
};

mod private {
    pub(crate) trait Sealed {}
}

/// The access kind of a migration entry. Implemented by [`Read`], [`ReadExclusive`] and
/// [`Write`] only.
pub(crate) trait Access: private::Sealed {
    /// The kind of entry this access maps to.
    const KIND: LeafKind;
}

/// Marker: `SOFTLEAF_MIGRATION_READ`, the page was mapped read-only (and, if anon, shared).
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum Read {}
/// Marker: `SOFTLEAF_MIGRATION_READ_EXCLUSIVE`, read-only but anon-exclusive.
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum ReadExclusive {}
/// Marker: `SOFTLEAF_MIGRATION_WRITE`, the page was mapped writable.
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum Write {}

impl private::Sealed for Read {}
impl private::Sealed for ReadExclusive {}
impl private::Sealed for Write {}

impl Access for Read {
    const KIND: LeafKind = LeafKind::MigrationRead;
}
impl Access for ReadExclusive {
    const KIND: LeafKind = LeafKind::MigrationReadExclusive;
}
impl Access for Write {
    const KIND: LeafKind = LeafKind::MigrationWrite;
}

/// A migration entry of kind `A`, as a non-present PTE value (with its swap-PTE bits).
///
/// # Invariants
///
/// `val` is a non-present PTE whose softleaf type is `A::KIND`.
#[derive(PartialEq, Eq, Debug)]
pub(crate) struct MigrationEntry<A: Access> {
    val: u64,
    _a: PhantomData<A>,
}

/// The state bits a migration entry carries besides its kind and PFN.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct EntryBits {
    /// The PTE was young (only kept when the arch stores A/D in migration entries).
    pub(crate) young: bool,
    /// The PTE was dirty (ditto).
    pub(crate) dirty: bool,
    /// The swap-PTE soft-dirty bit.
    pub(crate) soft_dirty: bool,
    /// The swap-PTE uffd(-wp) bit.
    pub(crate) uffd: bool,
}

impl<A: Access> MigrationEntry<A> {
    /// Builds an entry for `pfn` (`make_*_migration_entry()`, A/D, swap-PTE bits).
    pub(crate) fn new(pfn: u64, bits: EntryBits) -> Self {
        let val = ffi::migentry_mk_migration(A::KIND as u32, pfn, bits.young, bits.dirty);
        let val = ffi::migentry_swp_soft_dirty(val, bits.soft_dirty);
        let val = ffi::migentry_swp_uffd(val, bits.uffd);
        // INVARIANT: made by the `make_*_migration_entry()` of `A::KIND`; the swap-PTE bits do
        // not change the type.
        Self {
            val,
            _a: PhantomData,
        }
    }

    /// The non-present PTE value to install.
    #[inline]
    pub(crate) fn val(&self) -> u64 {
        self.val
    }

    /// Decodes the entry (PFN, A/D, swap-PTE bits).
    pub(crate) fn decode(&self) -> Decoded {
        RawPte::from_val(self.val).decode()
    }

    /// The PFN of the page being migrated.
    pub(crate) fn pfn(&self) -> u64 {
        self.decode().pfn
    }

    /// A/D and swap-PTE bits.
    pub(crate) fn bits(&self) -> EntryBits {
        let f = self.decode().flags;
        EntryBits {
            young: f.has(PteFlags::YOUNG),
            dirty: f.has(PteFlags::DIRTY),
            soft_dirty: f.has(PteFlags::SOFT_DIRTY),
            uffd: f.has(PteFlags::UFFD),
        }
    }

    /// What `clear_refs` (`echo 4 > /proc/PID/clear_refs`) does to a non-present entry in
    /// `clear_soft_dirty()`: it clears the swap-PTE soft-dirty bit and nothing else. In
    /// particular a [`Write`] entry stays [`Write`].
    pub(crate) fn clear_soft_dirty(self) -> Self {
        // INVARIANT: only the swap-PTE soft-dirty bit changes.
        Self {
            val: ffi::migentry_swp_soft_dirty(self.val, false),
            _a: PhantomData,
        }
    }

    /// Same PFN, A/D and soft-dirty bit, kind `B`; the uffd bit is dropped, as
    /// `change_pte_range()` does when it rebuilds an entry.
    fn rekind<B: Access>(self) -> MigrationEntry<B> {
        // INVARIANT: `migentry_migration_rekind()` makes an entry of kind `B::KIND`.
        MigrationEntry {
            val: ffi::migentry_migration_rekind(self.val, B::KIND as u32),
            _a: PhantomData,
        }
    }

    fn with_uffd(self) -> Self {
        // INVARIANT: only the swap-PTE uffd bit changes.
        Self {
            val: ffi::migentry_swp_uffd(self.val, true),
            _a: PhantomData,
        }
    }
}

impl MigrationEntry<Write> {
    /// What `change_pte_range()` (mm/mprotect.c) does to a writable migration entry when it
    /// removes write permission: it becomes [`ReadExclusive`] for an anon folio and [`Read`]
    /// otherwise, keeping PFN, A/D and soft-dirty.
    pub(crate) fn downgrade(self, anon: bool) -> AnyMigrationEntry {
        if anon {
            AnyMigrationEntry::ReadExclusive(self.rekind())
        } else {
            AnyMigrationEntry::Read(self.rekind())
        }
    }
}

/// A migration entry of any kind.
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum AnyMigrationEntry {
    /// `SOFTLEAF_MIGRATION_READ`.
    Read(MigrationEntry<Read>),
    /// `SOFTLEAF_MIGRATION_READ_EXCLUSIVE`.
    ReadExclusive(MigrationEntry<ReadExclusive>),
    /// `SOFTLEAF_MIGRATION_WRITE`.
    Write(MigrationEntry<Write>),
}

impl AnyMigrationEntry {
    /// The entry `try_to_migrate_one()` (mm/rmap.c) installs in place of a present PTE: Write if
    /// the PTE was writable, ReadExclusive if the page is anon-exclusive, Read otherwise, with
    /// the PTE's young, dirty, soft-dirty and uffd bits carried over.
    ///
    /// Returns `None` if `pte` is not present.
    pub(crate) fn from_present(pte: RawPte, anon_exclusive: bool) -> Option<Self> {
        let d = pte.decode();
        if d.kind != LeafKind::Present {
            return None;
        }
        let bits = EntryBits {
            young: d.flags.has(PteFlags::YOUNG),
            dirty: d.flags.has(PteFlags::DIRTY),
            soft_dirty: d.flags.has(PteFlags::SOFT_DIRTY),
            uffd: d.flags.has(PteFlags::UFFD),
        };
        Some(if d.flags.has(PteFlags::WRITE) {
            Self::Write(MigrationEntry::new(d.pfn, bits))
        } else if anon_exclusive {
            Self::ReadExclusive(MigrationEntry::new(d.pfn, bits))
        } else {
            Self::Read(MigrationEntry::new(d.pfn, bits))
        })
    }

    /// Classifies a non-present entry value read from a page table; `None` if it is not a
    /// migration entry.
    pub(crate) fn from_raw(pte: RawPte) -> Option<Self> {
        let kind = pte.decode().kind;
        // INVARIANT (for each arm): the entry's softleaf type was just checked to be the kind
        // of the marker.
        Some(match kind {
            LeafKind::MigrationRead => Self::Read(MigrationEntry {
                val: pte.val(),
                _a: PhantomData,
            }),
            LeafKind::MigrationReadExclusive => Self::ReadExclusive(MigrationEntry {
                val: pte.val(),
                _a: PhantomData,
            }),
            LeafKind::MigrationWrite => Self::Write(MigrationEntry {
                val: pte.val(),
                _a: PhantomData,
            }),
            _ => return None,
        })
    }

    /// The non-present PTE value.
    pub(crate) fn val(&self) -> u64 {
        match self {
            Self::Read(e) => e.val(),
            Self::ReadExclusive(e) => e.val(),
            Self::Write(e) => e.val(),
        }
    }

    /// The entry's kind.
    pub(crate) fn kind(&self) -> LeafKind {
        match self {
            Self::Read(_) => LeafKind::MigrationRead,
            Self::ReadExclusive(_) => LeafKind::MigrationReadExclusive,
            Self::Write(_) => LeafKind::MigrationWrite,
        }
    }

    /// What mprotect() removing write, or `UFFDIO_WRITEPROTECT` (`uffd` = true), does to a
    /// migration entry in `change_pte_range()`: a [`Write`] entry is downgraded
    /// ([`MigrationEntry::downgrade`]), and with `uffd` every kind gets the uffd bit.
    pub(crate) fn write_protect(self, anon: bool, uffd: bool) -> Self {
        let e = match self {
            Self::Write(e) => e.downgrade(anon),
            other => other,
        };
        if !uffd {
            return e;
        }
        match e {
            Self::Read(e) => Self::Read(e.with_uffd()),
            Self::ReadExclusive(e) => Self::ReadExclusive(e.with_uffd()),
            Self::Write(e) => Self::Write(e.with_uffd()),
        }
    }

    /// [`MigrationEntry::clear_soft_dirty`] whatever the kind.
    pub(crate) fn clear_soft_dirty(self) -> Self {
        match self {
            Self::Read(e) => Self::Read(e.clear_soft_dirty()),
            Self::ReadExclusive(e) => Self::ReadExclusive(e.clear_soft_dirty()),
            Self::Write(e) => Self::Write(e.clear_soft_dirty()),
        }
    }
}

/// A non-present page-table entry, classified by its softleaf type.
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum SoftLeaf {
    /// `pte_none()`.
    None,
    /// A swap entry.
    Swap,
    /// A migration entry, typed by its access kind.
    Migration(AnyMigrationEntry),
    /// A device-private entry (the page lives in device memory); `write` if writable.
    DevicePrivate {
        /// `SOFTLEAF_DEVICE_PRIVATE_WRITE`.
        write: bool,
    },
    /// `SOFTLEAF_DEVICE_EXCLUSIVE`.
    DeviceExclusive,
    /// `SOFTLEAF_HWPOISON`.
    HwPoison,
    /// `SOFTLEAF_MARKER`: uffd-wp marker, guard region or poison marker.
    Marker,
}

impl SoftLeaf {
    /// Classifies `pte`; `None` if it is present (not a softleaf entry).
    pub(crate) fn from_raw(pte: RawPte) -> Option<Self> {
        Some(match pte.decode().kind {
            LeafKind::Present => return None,
            LeafKind::None => Self::None,
            LeafKind::Swap => Self::Swap,
            LeafKind::MigrationRead
            | LeafKind::MigrationReadExclusive
            | LeafKind::MigrationWrite => Self::Migration(AnyMigrationEntry::from_raw(pte)?),
            LeafKind::DevicePrivateRead => Self::DevicePrivate { write: false },
            LeafKind::DevicePrivateWrite => Self::DevicePrivate { write: true },
            LeafKind::DeviceExclusive => Self::DeviceExclusive,
            LeafKind::HwPoison => Self::HwPoison,
            LeafKind::Marker => Self::Marker,
        })
    }
}
