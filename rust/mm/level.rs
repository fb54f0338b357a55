// SPDX-License-Identifier: GPL-2.0

//! The page-table level an entry lives at: a PTE, or a PMD that maps a THP as one leaf.
//!
//! C header: [`arch/x86/include/asm/pgtable.h`](srctree/arch/x86/include/asm/pgtable.h)
//!
//! The entry types of the mm layer ([`Entry`](super::Entry), [`RawEntry`](super::RawEntry),
//! [`MigrationEntry`](super::MigrationEntry), [`Restoring`](super::Restoring),
//! [`WriteGrant`](super::WriteGrant)) take the level as a type parameter, so that the typestate
//! and the grant rule are written once and a PMD can never be installed where a PTE is expected.
//! What differs between the levels is only which kernel helper computes a bit operation
//! (`pte_mkdirty()` or `pmd_mkdirty()`...), and that is all a [`Level`] says. Implemented by
//! [`PteLevel`] and [`PmdLevel`] only; the operations are private to the mm layer.

use super::{
    ffi,
    pte::{
        decode_attrs,
        Decoded, //
    },
};

mod private {
    use super::Decoded;

    /// The kernel helpers of one level, private to the mm layer (it re-exports this trait as
    /// `LevelOps` to its own modules only). Every function is a pure function of its integer
    /// arguments.
    pub(crate) trait Ops {
        /// `pfn_pte()` / `folio_mk_pmd()`: a present entry mapping `pfn` with protection `prot`.
        fn pfn_entry(pfn: u64, prot: u64) -> u64;
        /// Kind, state bits and PFN of any entry value of this level.
        fn decode(val: u64) -> Decoded;
        /// `*_mkold()`.
        fn mkold(val: u64) -> u64;
        /// `*_mkdirty()` (dirty and soft-dirty on x86; SavedDirty without `_PAGE_RW`).
        fn mkdirty(val: u64) -> u64;
        /// `*_mksoft_dirty()`.
        fn mksoft_dirty(val: u64) -> u64;
        /// `*_clear_soft_dirty()`.
        fn clear_soft_dirty(val: u64) -> u64;
        /// `*_soft_dirty()` of a present entry.
        fn soft_dirty(val: u64) -> bool;
        /// `*_wrprotect()`.
        fn wrprotect(val: u64) -> u64;
        /// `*_mkuffd()` (x86: sets the bit and write-protects).
        fn mkuffd(val: u64) -> u64;
        /// `*_clear_uffd()`.
        fn clear_uffd(val: u64) -> u64;
        /// `*_mkwrite_novma()`.
        fn mkwrite_novma(val: u64) -> u64;
        /// `*_mkwrite_shstk()`.
        fn mkwrite_shstk(val: u64) -> u64;
        /// `*_clear_saveddirty()`.
        fn clear_saveddirty(val: u64) -> u64;
        /// `*_modify(val, PAGE_NONE)`.
        fn mkprotnone(val: u64) -> u64;
        /// `softleaf_to_*()` of the migration entry of softleaf type `kind` for `pfn`.
        fn mk_migration(kind: u32, pfn: u64, young: bool, dirty: bool) -> u64;
        /// `*_swp_mksoft_dirty()` / `*_swp_clear_soft_dirty()`.
        fn swp_soft_dirty(val: u64, set: bool) -> u64;
        /// `*_swp_mkuffd()` / `*_swp_clear_uffd()`.
        fn swp_uffd(val: u64, set: bool) -> u64;
    }
}

pub(super) use private::Ops as LevelOps;

/// A page-table level whose leaf entries migentry types. Implemented by [`PteLevel`] and
/// [`PmdLevel`] only.
pub(crate) trait Level: private::Ops + Copy + Eq + core::fmt::Debug + 'static {
    /// How 7.3's restore at this level treats the migration entry's soft-dirty bit: `true` if it
    /// sets the restored entry's soft-dirty bit to exactly the entry's (`remove_migration_pte()`
    /// sets or clears it after `pte_mkdirty()`), `false` if it only ever sets it
    /// (`remove_migration_pmd()`, where `pmd_mkdirty()` also sets it on x86).
    const EXACT_SOFT_DIRTY: bool;
}

/// Marker: a page-table entry (`pte_t`) mapping one page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PteLevel {}

/// Marker: a PMD (`pmd_t`) that is a leaf: a PMD-mapped THP, or its migration entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PmdLevel {}

impl Level for PteLevel {
    const EXACT_SOFT_DIRTY: bool = true;
}

impl Level for PmdLevel {
    const EXACT_SOFT_DIRTY: bool = false;
}

/// The `Ops` of a level: the shim's functions of that level.
macro_rules! ops {
    (
        $level:ty,
        decode = $attrs:ident,
        pfn_entry = $pfn:ident,
        mk_migration = $mk:ident,
        swp_soft_dirty = $swp_sd:ident,
        swp_uffd = $swp_uffd:ident,
        soft_dirty = $sd:ident,
        $($op:ident = $c:ident),* $(,)?
    ) => {
        impl private::Ops for $level {
            fn pfn_entry(pfn: u64, prot: u64) -> u64 {
                ffi::$pfn(pfn, prot)
            }
            fn decode(val: u64) -> Decoded {
                decode_attrs(val, ffi::$attrs(val))
            }
            fn mk_migration(kind: u32, pfn: u64, young: bool, dirty: bool) -> u64 {
                ffi::$mk(kind, pfn, young, dirty)
            }
            fn swp_soft_dirty(val: u64, set: bool) -> u64 {
                ffi::$swp_sd(val, set)
            }
            fn swp_uffd(val: u64, set: bool) -> u64 {
                ffi::$swp_uffd(val, set)
            }
            #[inline]
            fn soft_dirty(val: u64) -> bool {
                ffi::$sd(val)
            }
            $(
                #[inline]
                fn $op(val: u64) -> u64 {
                    ffi::$c(val)
                }
            )*
        }
    };
}

ops!(
    PteLevel,
    decode = pte_attrs,
    pfn_entry = pfn_pte,
    mk_migration = mk_migration,
    swp_soft_dirty = swp_soft_dirty,
    swp_uffd = swp_uffd,
    soft_dirty = pte_soft_dirty,
    mkold = pte_mkold,
    mkdirty = pte_mkdirty,
    mksoft_dirty = pte_mksoft_dirty,
    clear_soft_dirty = pte_clear_soft_dirty,
    wrprotect = pte_wrprotect,
    mkuffd = pte_mkuffd,
    clear_uffd = pte_clear_uffd,
    mkwrite_novma = pte_mkwrite_novma,
    mkwrite_shstk = pte_mkwrite_shstk,
    clear_saveddirty = pte_clear_saveddirty,
    mkprotnone = pte_mkprotnone,
);

ops!(
    PmdLevel,
    decode = pmd_attrs,
    pfn_entry = pfn_pmd,
    mk_migration = mk_pmd_migration,
    swp_soft_dirty = pmd_swp_soft_dirty,
    swp_uffd = pmd_swp_uffd,
    soft_dirty = pmd_soft_dirty,
    mkold = pmd_mkold,
    mkdirty = pmd_mkdirty,
    mksoft_dirty = pmd_mksoft_dirty,
    clear_soft_dirty = pmd_clear_soft_dirty,
    wrprotect = pmd_wrprotect,
    mkuffd = pmd_mkuffd,
    clear_uffd = pmd_clear_uffd,
    mkwrite_novma = pmd_mkwrite_novma,
    mkwrite_shstk = pmd_mkwrite_shstk,
    clear_saveddirty = pmd_clear_saveddirty,
    mkprotnone = pmd_mkprotnone,
);
