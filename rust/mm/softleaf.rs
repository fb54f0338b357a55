// SPDX-License-Identifier: GPL-2.0

//! Non-present page-table entries ("softleaf" entries in 7.3), and migration entries whose
//! access kind is a type parameter.
//!
//! C header: [`include/linux/leafops.h`](srctree/include/linux/leafops.h)
//!
//! A migration entry remembers how the page was mapped when migration started: [`Write`] (the
//! PTE was writable), [`ReadExclusive`] (read-only, anon and exclusive) or [`Read`]. The kind
//! decides what the restore may give back, so it is part of the type, and a
//! [`MigrationEntry<A>`] is only ever made by decoding an entry read from a page table
//! ([`AnyMigrationEntry::from_raw`]) or by converting a present PTE read from one
//! ([`AnyMigrationEntry::from_present`], as `try_to_migrate_one()` does); the operations that
//! race with a migration ([`AnyMigrationEntry::write_protect`], `clear_soft_dirty`) then derive
//! new entries from it. Nothing else in the crate can make one.

use core::marker::PhantomData;

use super::{
    ffi,
    folio::DestPage,
    grant::Restoring,
    pte::{
        Decoded,
        EntryKind,
        Pte,
        PteFlags,
        RawPte, //
    },
    vma::PageProt,
};

mod private {
    pub(crate) trait Sealed {}
}

/// The access kind of a migration entry. Implemented by [`Read`], [`ReadExclusive`] and
/// [`Write`] only.
pub(crate) trait Access: private::Sealed {
    /// The kind of entry this access maps to.
    const KIND: EntryKind;
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
    const KIND: EntryKind = EntryKind::MigrationRead;
}
impl Access for ReadExclusive {
    const KIND: EntryKind = EntryKind::MigrationReadExclusive;
}
impl Access for Write {
    const KIND: EntryKind = EntryKind::MigrationWrite;
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

impl EntryBits {
    fn of(flags: PteFlags) -> Self {
        Self {
            young: flags.has(PteFlags::YOUNG),
            dirty: flags.has(PteFlags::DIRTY),
            soft_dirty: flags.has(PteFlags::SOFT_DIRTY),
            uffd: flags.has(PteFlags::UFFD),
        }
    }
}

/// A migration entry of kind `A`, as a non-present PTE value, with its decoded PFN and bits.
///
/// # Invariants
///
/// `val` is a non-present PTE whose softleaf type is `A::KIND`, `pfn` and `bits` are what it
/// decodes to, and it was decoded from an entry read from a page table or derived from one by
/// the operations of this module.
#[derive(PartialEq, Eq, Debug)]
pub(crate) struct MigrationEntry<A: Access> {
    val: u64,
    pfn: u64,
    bits: EntryBits,
    _a: PhantomData<A>,
}

impl<A: Access> MigrationEntry<A> {
    /// `make_*_migration_entry()` of kind `A` for `pfn` with `bits` (A/D only where the kernel
    /// keeps them). Private: entries come from page tables.
    fn make(pfn: u64, bits: EntryBits) -> Self {
        let ad = super::migration_ad();
        let bits = EntryBits {
            young: bits.young && ad,
            dirty: bits.dirty && ad,
            ..bits
        };
        let val = ffi::mk_migration(A::KIND.softleaf_type(), pfn, bits.young, bits.dirty);
        let val = ffi::swp_soft_dirty(val, bits.soft_dirty);
        let val = ffi::swp_uffd(val, bits.uffd);
        // INVARIANT: made by the `make_*_migration_entry()` of `A::KIND` from `pfn` and `bits`;
        // the swap-PTE bits do not change the type. Only called on values derived from a page
        // table.
        Self {
            val,
            pfn,
            bits,
            _a: PhantomData,
        }
    }

    /// The non-present PTE value.
    #[inline]
    pub(crate) fn val(&self) -> u64 {
        self.val
    }

    /// The PFN of the page being migrated (the source page).
    #[inline]
    pub(crate) fn pfn(&self) -> u64 {
        self.pfn
    }

    /// A/D and swap-PTE bits.
    #[inline]
    pub(crate) fn bits(&self) -> EntryBits {
        self.bits
    }

    /// What `clear_refs` (`echo 4 > /proc/PID/clear_refs`) does to a non-present entry in
    /// `clear_soft_dirty()`: it clears the swap-PTE soft-dirty bit and nothing else. In
    /// particular a [`Write`] entry stays [`Write`].
    pub(crate) fn clear_soft_dirty(self) -> Self {
        // INVARIANT: only the swap-PTE soft-dirty bit changes.
        Self {
            val: ffi::swp_soft_dirty(self.val, false),
            bits: EntryBits {
                soft_dirty: false,
                ..self.bits
            },
            ..self
        }
    }

    /// Same PFN, A/D and soft-dirty bit, kind `B`; the uffd bit is dropped, as
    /// `change_pte_range()` does when it rebuilds an entry.
    fn rekind<B: Access>(self) -> MigrationEntry<B> {
        MigrationEntry::make(
            self.pfn,
            EntryBits {
                uffd: false,
                ..self.bits
            },
        )
    }

    fn with_uffd(self) -> Self {
        // INVARIANT: only the swap-PTE uffd bit changes.
        Self {
            val: ffi::swp_uffd(self.val, true),
            bits: EntryBits {
                uffd: true,
                ..self.bits
            },
            ..self
        }
    }

    /// The first step of `remove_migration_pte()`: consumes the entry and starts the PTE that
    /// replaces it, `mk_pte(dest, vm_page_prot)` **write-protected**, whatever `prot` says.
    ///
    /// `dest` is the page the PTE will map: in a real migration a page of the destination folio,
    /// not the entry's own PFN.
    pub(crate) fn rebuild(self, dest: &DestPage<'_>, prot: PageProt) -> Restoring<A> {
        Restoring::new(self.bits, Pte::map(dest.pfn(), prot.val()))
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

/// Applies the same expression to the entry inside any kind.
macro_rules! each_kind {
    ($e:expr, $x:ident => $body:expr) => {
        match $e {
            AnyMigrationEntry::Read($x) => $body,
            AnyMigrationEntry::ReadExclusive($x) => $body,
            AnyMigrationEntry::Write($x) => $body,
        }
    };
}

impl AnyMigrationEntry {
    /// The entry `try_to_migrate_one()` (mm/rmap.c) installs in place of a present PTE: Write if
    /// the PTE was writable, ReadExclusive if the page is anon-exclusive, Read otherwise, with
    /// the PTE's young, dirty, soft-dirty and uffd bits carried over.
    ///
    /// Returns `None` if `pte` is not present.
    pub(crate) fn from_present(pte: &RawPte, anon_exclusive: bool) -> Option<Self> {
        let d = pte.decoded();
        if d.kind != EntryKind::Present {
            return None;
        }
        let bits = EntryBits::of(d.flags);
        Some(if d.flags.has(PteFlags::WRITE) {
            Self::Write(MigrationEntry::make(d.pfn, bits))
        } else if anon_exclusive {
            Self::ReadExclusive(MigrationEntry::make(d.pfn, bits))
        } else {
            Self::Read(MigrationEntry::make(d.pfn, bits))
        })
    }

    /// Classifies an entry read from a page table; `None` if it is not a migration entry.
    pub(crate) fn from_raw(pte: &RawPte) -> Option<Self> {
        let d = pte.decoded();
        let (val, pfn, bits) = (pte.val(), d.pfn, EntryBits::of(d.flags));
        // INVARIANT (each arm): the entry, read from a page table, was decoded as the kind of the
        // marker, with this PFN and these bits.
        Some(match d.kind {
            EntryKind::MigrationRead => Self::Read(MigrationEntry {
                val,
                pfn,
                bits,
                _a: PhantomData,
            }),
            EntryKind::MigrationReadExclusive => Self::ReadExclusive(MigrationEntry {
                val,
                pfn,
                bits,
                _a: PhantomData,
            }),
            EntryKind::MigrationWrite => Self::Write(MigrationEntry {
                val,
                pfn,
                bits,
                _a: PhantomData,
            }),
            _ => return None,
        })
    }

    /// The non-present PTE value.
    pub(crate) fn val(&self) -> u64 {
        each_kind!(self, e => e.val())
    }

    /// The PFN of the page being migrated.
    pub(crate) fn pfn(&self) -> u64 {
        each_kind!(self, e => e.pfn())
    }

    /// A/D and swap-PTE bits.
    pub(crate) fn bits(&self) -> EntryBits {
        each_kind!(self, e => e.bits())
    }

    /// Kind, bits and PFN, as [`decode`](super::decode) would give them (without calling C).
    pub(crate) fn decoded(&self) -> Decoded {
        let b = self.bits();
        let flags = [
            (b.young, PteFlags::YOUNG),
            (b.dirty, PteFlags::DIRTY),
            (b.soft_dirty, PteFlags::SOFT_DIRTY),
            (b.uffd, PteFlags::UFFD),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |acc, (_, f)| acc | f);
        Decoded {
            kind: self.kind(),
            flags: PteFlags::from_bits(flags),
            pfn: self.pfn(),
        }
    }

    /// The entry's kind.
    pub(crate) fn kind(&self) -> EntryKind {
        match self {
            Self::Read(_) => EntryKind::MigrationRead,
            Self::ReadExclusive(_) => EntryKind::MigrationReadExclusive,
            Self::Write(_) => EntryKind::MigrationWrite,
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
    /// Classifies an entry read from a page table; `None` if it is present.
    pub(crate) fn from_raw(pte: &RawPte) -> Option<Self> {
        Some(match pte.decoded().kind {
            EntryKind::Present => return None,
            EntryKind::None => Self::None,
            EntryKind::Swap => Self::Swap,
            EntryKind::MigrationRead
            | EntryKind::MigrationReadExclusive
            | EntryKind::MigrationWrite => Self::Migration(AnyMigrationEntry::from_raw(pte)?),
            EntryKind::DevicePrivateRead => Self::DevicePrivate { write: false },
            EntryKind::DevicePrivateWrite => Self::DevicePrivate { write: true },
            EntryKind::DeviceExclusive => Self::DeviceExclusive,
            EntryKind::HwPoison => Self::HwPoison,
            EntryKind::Marker => Self::Marker,
        })
    }
}

#[cfg(CONFIG_KUNIT)]
impl AnyMigrationEntry {
    /// For [`super::testing`] only: an entry of `kind` made from raw values, then decoded by the
    /// real decoder.
    pub(super) fn fabricate(kind: EntryKind, pfn: u64, bits: EntryBits) -> Option<Self> {
        let val = match kind {
            EntryKind::MigrationWrite => MigrationEntry::<Write>::make(pfn, bits).val,
            EntryKind::MigrationReadExclusive => {
                MigrationEntry::<ReadExclusive>::make(pfn, bits).val
            }
            EntryKind::MigrationRead => MigrationEntry::<Read>::make(pfn, bits).val,
            _ => return None,
        };
        Self::from_raw(&RawPte::read(val))
    }
}
