// SPDX-License-Identifier: GPL-2.0

//! Page-table entry values (`pte_t`) on x86-64.
//!
//! C header: [`arch/x86/include/asm/pgtable.h`](srctree/arch/x86/include/asm/pgtable.h)
//!
//! [`RawPte`] is any entry value, present or not, as read from a page table; it only decodes.
//! [`Pte<W>`] is a present entry whose writability is part of its type: [`Pte<WriteProtected>`]
//! can never have the write bit set, and [`Pte<Writable>`] can never carry the uffd-wp bit. The
//! only way from the first to the second is [`Pte::mkwrite`], which consumes a
//! [`WriteGrant`](crate::restore::WriteGrant).
//!
//! Bit operations are done by the kernel's own inline helpers through the C shim, so this file
//! re-implements no x86 bit layout.

use core::marker::PhantomData;

use crate::{
    ffi,
    restore::WriteGrant, //
};

/// Decoded state of an entry: `MIGENTRY_PTE_*` bits of `include/uapi/migentry.h`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct PteFlags(pub(crate) u32);

impl PteFlags {
    pub(crate) const PRESENT: u32 = 1 << 0;
    pub(crate) const WRITE: u32 = 1 << 1;
    pub(crate) const DIRTY: u32 = 1 << 2;
    pub(crate) const YOUNG: u32 = 1 << 3;
    pub(crate) const SOFT_DIRTY: u32 = 1 << 4;
    pub(crate) const UFFD: u32 = 1 << 5;
    pub(crate) const SPECIAL: u32 = 1 << 6;
    pub(crate) const PROTNONE: u32 = 1 << 7;

    /// Whether all bits of `mask` are set.
    #[inline]
    pub(crate) fn has(self, mask: u32) -> bool {
        self.0 & mask == mask
    }
}

/// Kind of an entry: `MIGENTRY_LEAF_*` of `include/uapi/migentry.h`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub(crate) enum LeafKind {
    /// `pte_none()`.
    None = 0,
    /// `pte_present()`.
    Present = 1,
    /// A swap entry.
    Swap = 2,
    /// `SOFTLEAF_MIGRATION_READ`.
    MigrationRead = 3,
    /// `SOFTLEAF_MIGRATION_READ_EXCLUSIVE`.
    MigrationReadExclusive = 4,
    /// `SOFTLEAF_MIGRATION_WRITE`.
    MigrationWrite = 5,
    /// `SOFTLEAF_DEVICE_PRIVATE_READ`.
    DevicePrivateRead = 6,
    /// `SOFTLEAF_DEVICE_PRIVATE_WRITE`.
    DevicePrivateWrite = 7,
    /// `SOFTLEAF_DEVICE_EXCLUSIVE`.
    DeviceExclusive = 8,
    /// `SOFTLEAF_HWPOISON`.
    HwPoison = 9,
    /// `SOFTLEAF_MARKER` (uffd-wp marker, guard, poison).
    Marker = 10,
}

impl LeafKind {
    fn from_u32(v: u32) -> Self {
        match v {
            1 => Self::Present,
            2 => Self::Swap,
            3 => Self::MigrationRead,
            4 => Self::MigrationReadExclusive,
            5 => Self::MigrationWrite,
            6 => Self::DevicePrivateRead,
            7 => Self::DevicePrivateWrite,
            8 => Self::DeviceExclusive,
            9 => Self::HwPoison,
            10 => Self::Marker,
            _ => Self::None,
        }
    }
}

/// Any page-table entry value, as read from a page table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct RawPte(u64);

/// The decoded view of a [`RawPte`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Decoded {
    /// What kind of entry it is.
    pub(crate) kind: LeafKind,
    /// Its state bits.
    pub(crate) flags: PteFlags,
    /// The PFN it maps or refers to (0 when it has none).
    pub(crate) pfn: u64,
}

impl RawPte {
    /// Wraps an entry value.
    #[inline]
    pub(crate) fn from_val(val: u64) -> Self {
        Self(val)
    }

    /// The entry value (`pte_val()`).
    #[inline]
    pub(crate) fn val(self) -> u64 {
        self.0
    }

    /// Decodes kind, state bits and PFN with the kernel's helpers.
    pub(crate) fn decode(self) -> Decoded {
        let (flags, kind, pfn) = ffi::pte_decode(self.0);
        Decoded {
            kind: LeafKind::from_u32(kind),
            flags: PteFlags(flags),
            pfn,
        }
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

    /// `pte_mkold()`: clears the accessed bit.
    #[inline]
    pub(crate) fn mkold(self) -> Self {
        // INVARIANT: `pte_mkold()` only clears `_PAGE_ACCESSED`.
        Self {
            val: ffi::migentry_pte_mkold(self.val),
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
            val: ffi::migentry_pte_mkdirty(self.val),
            _w: PhantomData,
        }
    }

    /// Sets the soft-dirty bit to `soft_dirty` (`pte_mksoft_dirty()` / `pte_clear_soft_dirty()`).
    #[inline]
    pub(crate) fn with_soft_dirty(self, soft_dirty: bool) -> Self {
        let val = if soft_dirty {
            ffi::migentry_pte_mksoft_dirty(self.val)
        } else {
            ffi::migentry_pte_clear_soft_dirty(self.val)
        };
        // INVARIANT: only `_PAGE_SOFT_DIRTY` changes.
        Self {
            val,
            _w: PhantomData,
        }
    }
}

impl Pte<WriteProtected> {
    /// `mk_pte()` for `pfn` with protection `prot`, write-protected whatever `prot` says.
    ///
    /// This is where the typed restore parts from C: the `vm_page_prot` of a shared mapping
    /// without write-notify carries `_PAGE_RW`, and C keeps it. Here write permission can only
    /// come back through [`Pte::mkwrite`], which needs a [`WriteGrant`].
    pub(crate) fn from_pfn_prot(pfn: u64, prot: u64) -> Self {
        let val = ffi::migentry_pfn_pte(pfn, prot);
        let val = ffi::migentry_pte_wrprotect(ffi::migentry_pte_clear_uffd(val));
        // INVARIANT: `pte_clear_uffd()` and `pte_wrprotect()` clear `_PAGE_UFFD` and
        // `_PAGE_RW`; `pfn_pte()` with a user protection gives a present PTE (`_PAGE_PRESENT`,
        // or `_PAGE_PROTNONE` for `PAGE_NONE`).
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
            val: ffi::migentry_pte_mkuffd(self.val),
            _w: PhantomData,
        }
    }

    /// Makes the PTE writable as x86 `pte_mkwrite(pte, vma)` does, spending `grant`.
    pub(crate) fn mkwrite(self, grant: WriteGrant) -> Pte<Writable> {
        let val = ffi::migentry_pte_mkwrite(self.val, grant.shadow_stack());
        // INVARIANT: `_PAGE_UFFD` was clear (type invariant) and `pte_mkwrite()` does not set
        // it; the PTE stays present.
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
            val: ffi::migentry_pte_mkprotnone(self.val),
            _w: PhantomData,
        }
    }
}
