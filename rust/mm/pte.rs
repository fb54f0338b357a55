// SPDX-License-Identifier: GPL-2.0

//! Page-table entry values (`pte_t`, and `pmd_t` of a PMD-mapped THP) on x86-64.
//!
//! C header: [`arch/x86/include/asm/pgtable.h`](srctree/arch/x86/include/asm/pgtable.h)
//!
//! [`RawEntry<L>`] ([`RawPte`], [`RawPmd`]) is an entry value as read from a page table of level
//! `L`, decoded once; only the mm layer makes one, so a typed migration entry can only come from
//! a real page table. [`Entry<W, L>`] ([`Pte<W>`], [`Pmd<W>`]) is a present entry being built,
//! whose writability is part of its type: an [`Entry<WriteProtected, L>`] never has the write
//! bit, an [`Entry<Writable, L>`] never the uffd-wp bit, and the only way to an
//! [`Entry<Writable, L>`] is [`WriteGrant::mkwrite`](super::WriteGrant::mkwrite). The level is a
//! type parameter ([`super::Level`]): the rules are written once for both levels.
//!
//! Bit operations are the x86 helpers' of the entry's level. The PTE ones a restore does
//! (`pte_mkold()`, `pte_wrprotect()`...) are computed in Rust from the kernel's own bit
//! positions so that they inline (`ffi/x86.rs`), and compared with the helpers by KUnit; the
//! PMD ones are the kernel's inline helpers, through the C glue.

use core::marker::PhantomData;

use super::{
    ffi,
    level::{
        Level,
        LevelOps,
        PmdLevel,
        PteLevel, //
    },
};

/// The state bits of an entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct PteFlags(u32);

impl PteFlags {
    /// `pte_present()` (which includes `PAGE_NONE` PTEs).
    pub(crate) const PRESENT: u32 = 1 << 0;
    /// `pte_write()`.
    pub(crate) const WRITE: u32 = 1 << 1;
    /// `pte_dirty()` (D or SavedDirty), or a migration entry's dirty bit.
    pub(crate) const DIRTY: u32 = 1 << 2;
    /// `pte_young()`, or a migration entry's young bit.
    pub(crate) const YOUNG: u32 = 1 << 3;
    /// `pte_soft_dirty()` / `pte_swp_soft_dirty()`.
    pub(crate) const SOFT_DIRTY: u32 = 1 << 4;
    /// `pte_uffd()`, `pte_swp_uffd()`, or a uffd-wp marker.
    pub(crate) const UFFD: u32 = 1 << 5;
    /// `pte_special()`.
    pub(crate) const SPECIAL: u32 = 1 << 6;
    /// `pte_protnone()`.
    pub(crate) const PROTNONE: u32 = 1 << 7;

    /// Whether all bits of `mask` are set.
    #[inline]
    pub(crate) fn has(self, mask: u32) -> bool {
        self.0 & mask == mask
    }

    /// From the bits above.
    pub(super) fn from_bits(bits: u32) -> Self {
        Self(bits)
    }
}

/// Kind of an entry: present, none, or a softleaf type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum EntryKind {
    /// `pte_none()`.
    None,
    /// `pte_present()`.
    Present,
    /// `SOFTLEAF_SWAP`.
    Swap,
    /// `SOFTLEAF_MIGRATION_READ`.
    MigrationRead,
    /// `SOFTLEAF_MIGRATION_READ_EXCLUSIVE`.
    MigrationReadExclusive,
    /// `SOFTLEAF_MIGRATION_WRITE`.
    MigrationWrite,
    /// `SOFTLEAF_DEVICE_PRIVATE_READ`.
    DevicePrivateRead,
    /// `SOFTLEAF_DEVICE_PRIVATE_WRITE`.
    DevicePrivateWrite,
    /// `SOFTLEAF_DEVICE_EXCLUSIVE`.
    DeviceExclusive,
    /// `SOFTLEAF_HWPOISON`.
    HwPoison,
    /// `SOFTLEAF_MARKER` (uffd-wp marker, guard, poison).
    Marker,
}

/// `enum softleaf_type` of `include/linux/leafops.h`, in declaration order; the layout guard
/// checks each value against C at load time.
pub(super) const SOFTLEAF_TYPES: [(&kernel::str::CStr, EntryKind); 10] = [
    (c"const SOFTLEAF_NONE", EntryKind::None),
    (c"const SOFTLEAF_SWAP", EntryKind::Swap),
    (c"const SOFTLEAF_MIGRATION_READ", EntryKind::MigrationRead),
    (
        c"const SOFTLEAF_MIGRATION_READ_EXCLUSIVE",
        EntryKind::MigrationReadExclusive,
    ),
    (c"const SOFTLEAF_MIGRATION_WRITE", EntryKind::MigrationWrite),
    (
        c"const SOFTLEAF_DEVICE_PRIVATE_READ",
        EntryKind::DevicePrivateRead,
    ),
    (
        c"const SOFTLEAF_DEVICE_PRIVATE_WRITE",
        EntryKind::DevicePrivateWrite,
    ),
    (
        c"const SOFTLEAF_DEVICE_EXCLUSIVE",
        EntryKind::DeviceExclusive,
    ),
    (c"const SOFTLEAF_HWPOISON", EntryKind::HwPoison),
    (c"const SOFTLEAF_MARKER", EntryKind::Marker),
];

impl EntryKind {
    /// The `enum softleaf_type` value of a non-present kind.
    pub(super) fn softleaf_type(self) -> u32 {
        // CAST: the table has ten entries.
        SOFTLEAF_TYPES
            .iter()
            .position(|(_, k)| *k == self)
            .unwrap_or(0) as u32
    }
}

/// What an entry value is: kind, state bits and PFN.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Decoded {
    /// What kind of entry it is.
    pub(crate) kind: EntryKind,
    /// Its state bits.
    pub(crate) flags: PteFlags,
    /// The PFN it maps or refers to (0 when it has none).
    pub(crate) pfn: u64,
}

/// Decodes any PTE value with the kernel's helpers (one call into C).
///
/// This gives plain facts, not a capability: a [`RawPte`], from which typed entries are made,
/// only comes from a page table.
pub(crate) fn decode(val: u64) -> Decoded {
    PteLevel::decode(val)
}

/// Decodes any PMD value with the kernel's `pmd_*()` helpers (one call into C).
// Only the KUnit suite decodes PMD values outside the mm layer so far.
#[allow(dead_code)]
pub(crate) fn decode_pmd(val: u64) -> Decoded {
    PmdLevel::decode(val)
}

/// [`Decoded`] from what the shim's `migentry_pte_attrs()` or `migentry_pmd_attrs()` said of
/// `val`.
pub(super) fn decode_attrs(val: u64, a: ffi::migentry_pte_attrs) -> Decoded {
    let present = a.attrs & ffi::MIGENTRY_ATTR_PRESENT != 0;
    let kind = if present {
        EntryKind::Present
    } else if val == 0 {
        EntryKind::None
    } else {
        SOFTLEAF_TYPES
            .get(a.leaf_type as usize)
            .map_or(EntryKind::None, |(_, k)| *k)
    };
    let ad = super::migration_ad()
        && matches!(
            kind,
            EntryKind::MigrationRead
                | EntryKind::MigrationReadExclusive
                | EntryKind::MigrationWrite
        );
    let map = [
        (ffi::MIGENTRY_ATTR_PRESENT, PteFlags::PRESENT),
        (ffi::MIGENTRY_ATTR_WRITE, PteFlags::WRITE),
        (ffi::MIGENTRY_ATTR_DIRTY, PteFlags::DIRTY),
        (ffi::MIGENTRY_ATTR_YOUNG, PteFlags::YOUNG),
        (ffi::MIGENTRY_ATTR_SOFT_DIRTY, PteFlags::SOFT_DIRTY),
        (ffi::MIGENTRY_ATTR_UFFD, PteFlags::UFFD),
        (ffi::MIGENTRY_ATTR_UFFD_MARKER, PteFlags::UFFD),
        (ffi::MIGENTRY_ATTR_SPECIAL, PteFlags::SPECIAL),
        (ffi::MIGENTRY_ATTR_PROTNONE, PteFlags::PROTNONE),
    ];
    let mut flags = map
        .iter()
        .filter(|(c, _)| a.attrs & c != 0)
        .fold(0, |acc, (_, f)| acc | f);
    if ad && a.attrs & ffi::MIGENTRY_ATTR_MIG_YOUNG != 0 {
        flags |= PteFlags::YOUNG;
    }
    if ad && a.attrs & ffi::MIGENTRY_ATTR_MIG_DIRTY != 0 {
        flags |= PteFlags::DIRTY;
    }
    Decoded {
        kind,
        flags: PteFlags(flags),
        pfn: a.pfn,
    }
}

/// An entry value as read from a page table of level `L`, with its decoded form.
///
/// # Invariants
///
/// `val` was read from a page table of level `L` (or handed over by the kernel as the entry of
/// one), and `decoded` is `L::decode(val)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct RawEntry<L: Level> {
    val: u64,
    decoded: Decoded,
    _l: PhantomData<L>,
}

/// A PTE value read from a page table.
pub(crate) type RawPte = RawEntry<PteLevel>;
/// A PMD value read from a page table.
pub(crate) type RawPmd = RawEntry<PmdLevel>;

impl<L: Level> RawEntry<L> {
    /// Wraps a value read from a page table of level `L`.
    pub(super) fn read(val: u64) -> Self {
        // INVARIANT: the caller read `val` from a page table of level `L`; it is decoded here
        // with that level's helpers.
        Self {
            val,
            decoded: L::decode(val),
            _l: PhantomData,
        }
    }

    /// The entry value (`pte_val()`).
    #[inline]
    pub(crate) fn val(&self) -> u64 {
        self.val
    }

    /// Kind, state bits and PFN, decoded when the entry was read.
    #[inline]
    pub(crate) fn decoded(&self) -> Decoded {
        self.decoded
    }
}

mod private {
    pub(crate) trait Sealed {}
}

/// Whether, and why not, a present PTE may be written through. Implemented by [`Writable`],
/// [`WriteProtected`] and [`UffdProtected`] only.
pub(crate) trait WriteState: private::Sealed {}

/// Marker: the CPU may write through the PTE (`_PAGE_RW`, or a shadow-stack PTE); no uffd bit.
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum Writable {}

/// Marker: write-protected without the uffd bit; the next write faults and the kernel decides
/// (COW, write-notify, soft-dirty).
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum WriteProtected {}

/// Marker: write-protected with the uffd bit; the next write is reported to userfaultfd. There
/// is no way back to [`Writable`] from here.
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum UffdProtected {}

impl private::Sealed for Writable {}
impl private::Sealed for WriteProtected {}
impl private::Sealed for UffdProtected {}
impl WriteState for Writable {}
impl WriteState for WriteProtected {}
impl WriteState for UffdProtected {}

/// A present entry value of level `L` whose writability is `W`.
///
/// # Invariants
///
/// - `val` is present at level `L` (`pte_present()` / `pmd_present()`, which include
///   `PAGE_NONE` entries).
/// - `W` = [`Writable`]: `pte_uffd(val)` / `pmd_uffd(val)` is false.
/// - `W` = [`WriteProtected`]: the write and the uffd bit are clear.
/// - `W` = [`UffdProtected`]: the write bit is clear and the uffd bit is set.
#[derive(PartialEq, Eq, Debug)]
pub(crate) struct Entry<W: WriteState, L: Level> {
    val: u64,
    _w: PhantomData<W>,
    _l: PhantomData<L>,
}

/// A present PTE whose writability is `W`.
// The crate names the PTE states through other types; the compile-fail cases name this.
#[allow(dead_code)]
pub(crate) type Pte<W> = Entry<W, PteLevel>;
/// A present PMD (a PMD-mapped THP) whose writability is `W`.
// Only the tests (compile-fail cases, KUnit) name it: the device reaches it through generic code.
#[allow(dead_code)]
pub(crate) type Pmd<W> = Entry<W, PmdLevel>;

impl<W: WriteState, L: Level> Entry<W, L> {
    /// The entry `val` in state `V`, of the same level. Private: each caller states why `val`
    /// satisfies the invariant of `V`.
    #[inline]
    fn with<V: WriteState>(val: u64) -> Entry<V, L> {
        Entry {
            val,
            _w: PhantomData,
            _l: PhantomData,
        }
    }

    /// The entry value to install.
    #[inline]
    pub(crate) fn val(&self) -> u64 {
        self.val
    }

    /// Kind, state bits and PFN (one call into C).
    pub(crate) fn decode(&self) -> Decoded {
        L::decode(self.val)
    }

    /// `pte_mkold()` / `pmd_mkold()`: clears the accessed bit.
    #[inline]
    pub(crate) fn mkold(self) -> Self {
        // INVARIANT: `*_mkold()` only clears `_PAGE_ACCESSED`.
        Self::with(L::mkold(self.val))
    }

    /// `pte_mkdirty()` / `pmd_mkdirty()`: marks the entry dirty and soft-dirty (x86 sets both).
    ///
    /// On an entry without `_PAGE_RW`, x86 records the dirtiness in `_PAGE_SAVED_DIRTY` rather
    /// than `_PAGE_DIRTY`, so the entry does not turn into a shadow-stack (writable) one.
    #[inline]
    pub(crate) fn mkdirty(self) -> Self {
        // INVARIANT: `*_mkdirty()` never sets `_PAGE_RW` or `_PAGE_UFFD`, and it moves D to
        // SavedDirty when `_PAGE_RW` is clear.
        Self::with(L::mkdirty(self.val))
    }

    /// Sets the soft-dirty bit (`*_mksoft_dirty()`).
    #[inline]
    pub(crate) fn mksoft_dirty(self) -> Self {
        // INVARIANT: only `_PAGE_SOFT_DIRTY` changes.
        Self::with(L::mksoft_dirty(self.val))
    }

    /// Sets the soft-dirty bit to `soft_dirty` (`*_mksoft_dirty()` / `*_clear_soft_dirty()`).
    #[inline]
    pub(crate) fn with_soft_dirty(self, soft_dirty: bool) -> Self {
        if soft_dirty {
            return self.mksoft_dirty();
        }
        // INVARIANT: only `_PAGE_SOFT_DIRTY` changes.
        Self::with(L::clear_soft_dirty(self.val))
    }

    /// Whether the entry is soft-dirty (`pte_soft_dirty()` / `pmd_soft_dirty()`). Inline, and
    /// for a PTE computed in Rust: a restore's grant asks it for every Write entry in a VMA
    /// that tracks soft-dirty, where a full decode cost two calls, one into C.
    #[inline]
    pub(crate) fn is_soft_dirty(&self) -> bool {
        L::soft_dirty(self.val)
    }
}

impl<L: Level> Entry<WriteProtected, L> {
    /// `mk_pte()` / `folio_mk_pmd()` for the page `pfn` with protection `prot`, write-protected
    /// whatever `prot` says. Only the mm layer maps a page: see
    /// [`MigrationEntry::rebuild`](super::MigrationEntry).
    #[inline]
    pub(super) fn map(pfn: u64, prot: u64) -> Self {
        let val = L::wrprotect(L::clear_uffd(L::pfn_entry(pfn, prot)));
        // INVARIANT: `*_clear_uffd()` and `*_wrprotect()` clear `_PAGE_UFFD` and `_PAGE_RW`;
        // `pfn_pte()` (`pmd_mkhuge(pfn_pmd())`) with a user protection gives a present entry
        // (`_PAGE_PRESENT`, or `_PAGE_PROTNONE` for `PAGE_NONE`).
        Self::with(val)
    }

    /// `pte_mkuffd()` / `pmd_mkuffd()`: marks the entry uffd write-protected. A [`Writable`]
    /// entry has no such method and an [`UffdProtected`] one cannot be made writable, so
    /// `uffd ∧ write` cannot be built.
    #[inline]
    pub(crate) fn mkuffd(self) -> Entry<UffdProtected, L> {
        // INVARIANT: x86 `*_mkuffd()` sets `_PAGE_UFFD` and write-protects.
        Self::with(L::mkuffd(self.val))
    }

    /// x86 `pte_mkwrite(pte, vma)` / `pmd_mkwrite(pmd, vma)` (not exported):
    /// `*_mkwrite_shstk()` in a shadow-stack VMA, else `*_mkwrite_novma()` and
    /// `*_clear_saveddirty()`. Only a grant calls this.
    #[inline]
    pub(super) fn mkwrite(self, shadow_stack: bool) -> Entry<Writable, L> {
        let val = if shadow_stack {
            L::mkwrite_shstk(self.val)
        } else {
            L::clear_saveddirty(L::mkwrite_novma(self.val))
        };
        // INVARIANT: `_PAGE_UFFD` was clear (type invariant) and neither helper sets it; the
        // entry stays present.
        Self::with(val)
    }
}

impl<L: Level> Entry<UffdProtected, L> {
    /// `pte_modify(pte, PAGE_NONE)` / `pmd_modify(pmd, PAGE_NONE)`: no access at all until the
    /// uffd RWP fault is resolved.
    #[inline]
    pub(crate) fn into_protnone(self) -> Self {
        // INVARIANT: `PAGE_NONE` has no `_PAGE_RW`, `*_modify()` keeps `_PAGE_UFFD`
        // (`_PAGE_CHG_MASK`, `_HPAGE_CHG_MASK`), and `_PAGE_PROTNONE` keeps the entry present.
        Self::with(L::mkprotnone(self.val))
    }
}

/// A present entry of level `L` of any write state, by what the next write does: what a
/// restore installs.
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum RestoredEntry<L: Level> {
    /// The next write goes through.
    Writable(Entry<Writable, L>),
    /// The next write faults in the kernel (COW, write-notify, soft-dirty).
    WriteProtected(Entry<WriteProtected, L>),
    /// The next write is reported to userfaultfd (or, under RWP, any access).
    Uffd(Entry<UffdProtected, L>),
}

/// A restored PTE.
pub(crate) type RestoredPte = RestoredEntry<PteLevel>;
/// A restored PMD.
// Only the tests (compile-fail cases, KUnit) name it: the device reaches it through generic code.
#[allow(dead_code)]
pub(crate) type RestoredPmd = RestoredEntry<PmdLevel>;

impl<L: Level> RestoredEntry<L> {
    /// The entry value to install.
    pub(crate) fn val(&self) -> u64 {
        match self {
            Self::Writable(p) => p.val(),
            Self::WriteProtected(p) => p.val(),
            Self::Uffd(p) => p.val(),
        }
    }

    /// Kind, state bits and PFN (one call into C).
    pub(crate) fn decode(&self) -> Decoded {
        match self {
            Self::Writable(p) => p.decode(),
            Self::WriteProtected(p) => p.decode(),
            Self::Uffd(p) => p.decode(),
        }
    }

    /// Whether installing this entry in place of `old` takes rights away from what other CPUs
    /// may still cache of `old`: write (`old` writable, this not), or all access (this one
    /// `PAGE_NONE`, `old` not). Such a replacement needs a TLB flush before it is complete.
    pub(crate) fn takes_rights_from(&self, old: &Decoded) -> bool {
        let lost_write = old.flags.has(PteFlags::WRITE) && !matches!(self, Self::Writable(_));
        let lost_access = !old.flags.has(PteFlags::PROTNONE)
            && matches!(self, Self::Uffd(_))
            && self.decode().flags.has(PteFlags::PROTNONE);
        lost_write || lost_access
    }
}
