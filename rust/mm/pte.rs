// SPDX-License-Identifier: GPL-2.0

//! Page-table entry values (`pte_t`) on x86-64.
//!
//! C header: [`arch/x86/include/asm/pgtable.h`](srctree/arch/x86/include/asm/pgtable.h)
//!
//! [`RawPte`] is an entry value as read from a page table, decoded once; only the mm layer makes
//! one, so a typed migration entry can only come from a real page table. [`Pte<W>`] is a present
//! entry being built, whose writability is part of its type: [`Pte<WriteProtected>`] never has
//! the write bit, [`Pte<Writable>`] never the uffd-wp bit, and the only way to a
//! [`Pte<Writable>`] is [`WriteGrant::mkwrite`](super::WriteGrant::mkwrite).
//!
//! Bit operations are done by the kernel's own inline helpers, so no x86 bit layout is written
//! again in Rust.

use core::marker::PhantomData;

use super::ffi;

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

/// Decodes any entry value with the kernel's helpers (one call into C).
///
/// This gives plain facts, not a capability: a [`RawPte`], from which typed entries are made,
/// only comes from a page table.
pub(crate) fn decode(val: u64) -> Decoded {
    let a = ffi::pte_attrs(val);
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

/// An entry value as read from a page table, with its decoded form.
///
/// # Invariants
///
/// `val` was read from a page table (or handed over by the kernel as the entry of one), and
/// `decoded` is `decode(val)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct RawPte {
    val: u64,
    decoded: Decoded,
}

impl RawPte {
    /// Wraps a value read from a page table.
    pub(super) fn read(val: u64) -> Self {
        // INVARIANT: the caller read `val` from a page table; it is decoded here.
        Self {
            val,
            decoded: decode(val),
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

/// A present PTE value whose writability is `W`.
///
/// # Invariants
///
/// - `val` is present (`pte_present()`, which includes `PAGE_NONE` PTEs).
/// - `W` = [`Writable`]: `pte_uffd(val)` is false.
/// - `W` = [`WriteProtected`]: `pte_write(val)` and `pte_uffd(val)` are false.
/// - `W` = [`UffdProtected`]: `pte_write(val)` is false and `pte_uffd(val)` is true.
#[derive(PartialEq, Eq, Debug)]
pub(crate) struct Pte<W: WriteState> {
    val: u64,
    _w: PhantomData<W>,
}

impl<W: WriteState> Pte<W> {
    /// The entry value to install.
    #[inline]
    pub(crate) fn val(&self) -> u64 {
        self.val
    }

    /// Kind, state bits and PFN (one call into C).
    pub(crate) fn decode(&self) -> Decoded {
        decode(self.val)
    }

    /// `pte_mkold()`: clears the accessed bit.
    #[inline]
    pub(crate) fn mkold(self) -> Self {
        // INVARIANT: `pte_mkold()` only clears `_PAGE_ACCESSED`.
        Self {
            val: ffi::pte_mkold(self.val),
            _w: PhantomData,
        }
    }

    /// `pte_mkdirty()`: marks the PTE dirty and soft-dirty (x86 sets both).
    ///
    /// On a PTE without `_PAGE_RW`, x86 records the dirtiness in `_PAGE_SAVED_DIRTY` rather than
    /// `_PAGE_DIRTY`, so the PTE does not turn into a shadow-stack (writable) PTE.
    #[inline]
    pub(crate) fn mkdirty(self) -> Self {
        // INVARIANT: `pte_mkdirty()` never sets `_PAGE_RW` or `_PAGE_UFFD`, and it moves D to
        // SavedDirty when `_PAGE_RW` is clear.
        Self {
            val: ffi::pte_mkdirty(self.val),
            _w: PhantomData,
        }
    }

    /// Sets the soft-dirty bit to `soft_dirty` (`pte_mksoft_dirty()` / `pte_clear_soft_dirty()`).
    #[inline]
    pub(crate) fn with_soft_dirty(self, soft_dirty: bool) -> Self {
        let val = if soft_dirty {
            ffi::pte_mksoft_dirty(self.val)
        } else {
            ffi::pte_clear_soft_dirty(self.val)
        };
        // INVARIANT: only `_PAGE_SOFT_DIRTY` changes.
        Self {
            val,
            _w: PhantomData,
        }
    }
}

impl Pte<WriteProtected> {
    /// `mk_pte()` for the page `pfn` with protection `prot`, write-protected whatever `prot`
    /// says. Only the mm layer maps a page: see [`MigrationEntry::rebuild`](super::MigrationEntry).
    pub(super) fn map(pfn: u64, prot: u64) -> Self {
        let val = ffi::pte_wrprotect(ffi::pte_clear_uffd(ffi::pfn_pte(pfn, prot)));
        // INVARIANT: `pte_clear_uffd()` and `pte_wrprotect()` clear `_PAGE_UFFD` and `_PAGE_RW`;
        // `pfn_pte()` with a user protection gives a present PTE (`_PAGE_PRESENT`, or
        // `_PAGE_PROTNONE` for `PAGE_NONE`).
        Self {
            val,
            _w: PhantomData,
        }
    }

    /// `pte_mkuffd()`: marks the PTE uffd write-protected. A [`Writable`] PTE has no such
    /// method and an [`UffdProtected`] one cannot be made writable, so `uffd ∧ write` cannot be
    /// built.
    #[inline]
    pub(crate) fn mkuffd(self) -> Pte<UffdProtected> {
        // INVARIANT: x86 `pte_mkuffd()` sets `_PAGE_UFFD` and write-protects.
        Pte {
            val: ffi::pte_mkuffd(self.val),
            _w: PhantomData,
        }
    }

    /// x86 `pte_mkwrite(pte, vma)` (not exported): `pte_mkwrite_shstk()` in a shadow-stack VMA,
    /// else `pte_mkwrite_novma()` and `pte_clear_saveddirty()`. Only a grant calls this.
    pub(super) fn mkwrite(self, shadow_stack: bool) -> Pte<Writable> {
        let val = if shadow_stack {
            ffi::pte_mkwrite_shstk(self.val)
        } else {
            ffi::pte_clear_saveddirty(ffi::pte_mkwrite_novma(self.val))
        };
        // INVARIANT: `_PAGE_UFFD` was clear (type invariant) and neither helper sets it; the PTE
        // stays present.
        Pte {
            val,
            _w: PhantomData,
        }
    }
}

impl Pte<UffdProtected> {
    /// `pte_modify(pte, PAGE_NONE)`: no access at all until the uffd RWP fault is resolved.
    #[inline]
    pub(crate) fn into_protnone(self) -> Self {
        // INVARIANT: `PAGE_NONE` has no `_PAGE_RW`, `pte_modify()` keeps `_PAGE_UFFD`
        // (`_PAGE_CHG_MASK`), and `_PAGE_PROTNONE` keeps the PTE present.
        Self {
            val: ffi::pte_mkprotnone(self.val),
            _w: PhantomData,
        }
    }
}

/// A present PTE of any write state, by what the next write does: what a restore installs.
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum RestoredPte {
    /// The next write goes through.
    Writable(Pte<Writable>),
    /// The next write faults in the kernel (COW, write-notify, soft-dirty).
    WriteProtected(Pte<WriteProtected>),
    /// The next write is reported to userfaultfd (or, under RWP, any access).
    Uffd(Pte<UffdProtected>),
}

impl RestoredPte {
    /// The PTE value to install.
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

    /// Whether installing this PTE in place of `old` takes rights away from what other CPUs may
    /// still cache of `old`: write (`old` writable, this not), or all access (this one
    /// `PAGE_NONE`, `old` not). Such a replacement needs a TLB flush before it is complete.
    pub(crate) fn takes_rights_from(&self, old: &Decoded) -> bool {
        let lost_write = old.flags.has(PteFlags::WRITE) && !matches!(self, Self::Writable(_));
        let lost_access = !old.flags.has(PteFlags::PROTNONE)
            && matches!(self, Self::Uffd(_))
            && self.decode().flags.has(PteFlags::PROTNONE);
        lost_write || lost_access
    }
}
