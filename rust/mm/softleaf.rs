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
//!
//! A THP mapped by one PMD migrates as one PMD migration entry, of the same three kinds: the
//! level is the second type parameter ([`MigrationEntry<A, PmdLevel>`](PmdMigrationEntry)),
//! PTE by default, and every rule here holds at both levels.

use core::marker::PhantomData;

use super::{
    folio::DestPage,
    grant::Restoring,
    level::{
        Level,
        PmdLevel,
        PteLevel, //
    },
    pte::{
        Decoded,
        Entry,
        EntryKind,
        PteFlags,
        RawEntry,
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

/// A migration entry of kind `A` at level `L`, as a non-present PTE (or PMD) value, with its
/// decoded PFN and bits.
///
/// # Invariants
///
/// `val` is a non-present entry of level `L` whose softleaf type is `A::KIND`, `pfn` and `bits`
/// are what it decodes to, and it was decoded from an entry read from a page table of level `L`
/// or derived from one by the operations of this module.
#[derive(PartialEq, Eq, Debug)]
pub(crate) struct MigrationEntry<A: Access, L: Level = PteLevel> {
    val: u64,
    pfn: u64,
    bits: EntryBits,
    _a: PhantomData<A>,
    _l: PhantomData<L>,
}

/// A PMD migration entry of kind `A` (a THP under migration).
// Only the tests (compile-fail cases, KUnit) name it: the device reaches it through generic code.
#[allow(dead_code)]
pub(crate) type PmdMigrationEntry<A> = MigrationEntry<A, PmdLevel>;

impl<A: Access, L: Level> MigrationEntry<A, L> {
    /// Wraps a decoded value. Private: see the type invariant.
    fn of(val: u64, pfn: u64, bits: EntryBits) -> Self {
        Self {
            val,
            pfn,
            bits,
            _a: PhantomData,
            _l: PhantomData,
        }
    }

    /// `make_*_migration_entry()` of kind `A` for `pfn` with `bits` (A/D only where the kernel
    /// keeps them), as an entry of level `L`. Private: entries come from page tables.
    fn make(pfn: u64, bits: EntryBits) -> Self {
        let ad = super::migration_ad();
        let bits = EntryBits {
            young: bits.young && ad,
            dirty: bits.dirty && ad,
            ..bits
        };
        let val = L::mk_migration(A::KIND.softleaf_type(), pfn, bits.young, bits.dirty);
        let val = L::swp_soft_dirty(val, bits.soft_dirty);
        let val = L::swp_uffd(val, bits.uffd);
        // INVARIANT: made by the `make_*_migration_entry()` of `A::KIND` from `pfn` and `bits`
        // with `L`'s `softleaf_to_*()`; the swap bits do not change the type. Only called on
        // values derived from a page table.
        Self::of(val, pfn, bits)
    }

    /// The non-present entry value.
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
        // INVARIANT: only the swap soft-dirty bit changes.
        Self {
            val: L::swp_soft_dirty(self.val, false),
            bits: EntryBits {
                soft_dirty: false,
                ..self.bits
            },
            ..self
        }
    }

    /// Same PFN, A/D and soft-dirty bit, kind `B`; the uffd bit is dropped, as
    /// `change_pte_range()` does when it rebuilds an entry.
    fn rekind<B: Access>(self) -> MigrationEntry<B, L> {
        MigrationEntry::make(
            self.pfn,
            EntryBits {
                uffd: false,
                ..self.bits
            },
        )
    }

    fn with_uffd(self) -> Self {
        // INVARIANT: only the swap uffd bit changes.
        Self {
            val: L::swp_uffd(self.val, true),
            bits: EntryBits {
                uffd: true,
                ..self.bits
            },
            ..self
        }
    }

    /// The first step of `remove_migration_pte()` / `remove_migration_pmd()`: consumes the
    /// entry and starts the entry that replaces it, `mk_pte(dest, vm_page_prot)` (or
    /// `folio_mk_pmd()`) **write-protected**, whatever `prot` says.
    ///
    /// `dest` is the page the entry will map: in a real migration a page of the destination
    /// folio (its head page for a PMD), not the entry's own PFN.
    #[inline]
    pub(crate) fn rebuild(self, dest: &DestPage<'_>, prot: PageProt) -> Restoring<A, L> {
        Restoring::new(self.bits, Entry::map(dest.pfn(), prot.val()))
    }
}

impl<L: Level> MigrationEntry<Write, L> {
    /// What `change_pte_range()` (mm/mprotect.c) does to a writable migration entry when it
    /// removes write permission: it becomes [`ReadExclusive`] for an anon folio and [`Read`]
    /// otherwise, keeping PFN, A/D and soft-dirty.
    pub(crate) fn downgrade(self, anon: bool) -> AnyMigrationEntry<L> {
        if anon {
            AnyMigrationEntry::ReadExclusive(self.rekind())
        } else {
            AnyMigrationEntry::Read(self.rekind())
        }
    }
}

/// A migration entry of any kind, at level `L` (PTE by default).
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum AnyMigrationEntry<L: Level = PteLevel> {
    /// `SOFTLEAF_MIGRATION_READ`.
    Read(MigrationEntry<Read, L>),
    /// `SOFTLEAF_MIGRATION_READ_EXCLUSIVE`.
    ReadExclusive(MigrationEntry<ReadExclusive, L>),
    /// `SOFTLEAF_MIGRATION_WRITE`.
    Write(MigrationEntry<Write, L>),
}

/// A PMD migration entry of any kind.
// Only the tests (compile-fail cases, KUnit) name it: the device reaches it through generic code.
#[allow(dead_code)]
pub(crate) type AnyPmdMigrationEntry = AnyMigrationEntry<PmdLevel>;

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

impl<L: Level> AnyMigrationEntry<L> {
    /// The entry `try_to_migrate_one()` (mm/rmap.c) installs in place of a present PTE (or
    /// `set_pmd_migration_entry()` in place of a present PMD): Write if the entry was writable,
    /// ReadExclusive if the page is anon-exclusive, Read otherwise, with the entry's young,
    /// dirty, soft-dirty and uffd bits carried over.
    ///
    /// Returns `None` if `pte` is not present.
    pub(crate) fn from_present(pte: &RawEntry<L>, anon_exclusive: bool) -> Option<Self> {
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
    #[inline]
    pub(crate) fn from_raw(pte: &RawEntry<L>) -> Option<Self> {
        let d = pte.decoded();
        let (val, pfn, bits) = (pte.val(), d.pfn, EntryBits::of(d.flags));
        // INVARIANT (each arm): the entry, read from a page table of level `L`, was decoded as
        // the kind of the marker, with this PFN and these bits.
        Some(match d.kind {
            EntryKind::MigrationRead => Self::Read(MigrationEntry::of(val, pfn, bits)),
            EntryKind::MigrationReadExclusive => {
                Self::ReadExclusive(MigrationEntry::of(val, pfn, bits))
            }
            EntryKind::MigrationWrite => Self::Write(MigrationEntry::of(val, pfn, bits)),
            _ => return None,
        })
    }

    /// The non-present entry value.
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

    /// Kind, bits and PFN, as [`decode`](super::decode) (or [`decode_pmd`](super::decode_pmd))
    /// would give them (without calling C).
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
impl<L: Level> AnyMigrationEntry<L> {
    /// For [`super::testing`] only: an entry of `kind` made from raw values, then decoded by the
    /// real decoder of level `L`.
    pub(super) fn fabricate(kind: EntryKind, pfn: u64, bits: EntryBits) -> Option<Self> {
        let val = match kind {
            EntryKind::MigrationWrite => MigrationEntry::<Write, L>::make(pfn, bits).val,
            EntryKind::MigrationReadExclusive => {
                MigrationEntry::<ReadExclusive, L>::make(pfn, bits).val
            }
            EntryKind::MigrationRead => MigrationEntry::<Read, L>::make(pfn, bits).val,
            _ => return None,
        };
        Self::from_raw(&RawEntry::read(val))
    }
}
