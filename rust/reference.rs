// SPDX-License-Identifier: GPL-2.0

//! The C reference restores (`rust/reference/migentry_ref.c`), for comparison with the typed
//! one: the differential KUnit test and the records of EVALUATE and ROUNDTRIP. The module's
//! real path never uses them, and the device runs them outside any page-table lock.
//!
//! - [`Policy::Upstream`]: Linux 7.3 `remove_migration_pte()`, PTE level.
//! - [`Policy::Pre62`]: v6.1 on x86, whose `vm_page_prot` still had `_PAGE_RW` in a shared
//!   uffd-wp VMA (no write-notify for uffd-wp before 51d3d5eb74ff) and whose `pte_mkuffd_wp()`
//!   did not write-protect (before f1eb1bacfba9): the Nov 2022 data-loss bug.
//! - [`Policy::PeterxV3`]: v6.1 with Peter Xu's dropped v3 fix, which write-protected every
//!   non-Write entry.
//!
//! [`restore_pmd`] is Linux 7.3's `remove_migration_pmd()`, for PMD migration entries.

use crate::{
    mm::{
        self,
        Decoded,
        VmaFacts, //
    },
    restore::FolioState,
};

/// A C reference policy.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Policy {
    /// Linux 7.3 `remove_migration_pte()`.
    Upstream,
    /// v6.1, before write-notify for uffd-wp VMAs.
    Pre62,
    /// v6.1 with Peter Xu's unmerged v3 fix.
    PeterxV3,
}

impl Policy {
    /// Every policy.
    pub(crate) const ALL: [Self; 3] = [Self::Upstream, Self::Pre62, Self::PeterxV3];
}

/// What a C reference would install.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct RefResult {
    /// The PTE value.
    pub(crate) val: u64,
    /// The PTE value, decoded.
    pub(crate) decoded: Decoded,
    /// Whether the mapping would be added as exclusive (`RMAP_EXCLUSIVE`).
    pub(crate) exclusive: bool,
}

/// What `policy` installs in place of the migration entry value `entry`, mapping the page
/// `dest_pfn`, in a VMA described by `vma`.
pub(crate) fn restore(
    policy: Policy,
    entry: u64,
    dest_pfn: u64,
    vma: &VmaFacts,
    folio: FolioState,
) -> RefResult {
    let c = match policy {
        Policy::Upstream => mm::cref::UPSTREAM,
        Policy::Pre62 => mm::cref::PRE_6_2,
        Policy::PeterxV3 => mm::cref::PETERX_V3,
    };
    let (val, exclusive) = mm::cref::restore(c, entry, dest_pfn, vma, folio.dirty, folio.anon);
    RefResult {
        val,
        decoded: mm::decode(val),
        exclusive,
    }
}

/// What Linux 7.3's `remove_migration_pmd()` installs in place of the PMD migration entry value
/// `entry`, mapping the THP whose head page is `dest_pfn`, in a VMA described by `vma`
/// (`rust/reference/migentry_ref.c`, `ref_pmd_upstream()`). Only 7.3 has a PMD reference.
pub(crate) fn restore_pmd(
    entry: u64,
    dest_pfn: u64,
    vma: &VmaFacts,
    folio: FolioState,
) -> RefResult {
    let (val, exclusive) = mm::cref::restore_pmd(entry, dest_pfn, vma, folio.dirty, folio.anon);
    RefResult {
        val,
        decoded: mm::decode_pmd(val),
        exclusive,
    }
}

/// The shim's `pte_modify(pte, PAGE_NONE)` (with `pmd`: `pmd_modify(pmd, PAGE_NONE)`), the
/// typed restore's [`into_protnone`], against the kernel's, on every combination of the entry
/// bits either reads: `(values compared, how many differ, the first that differs)`. Only where
/// the kernel's links: without `CONFIG_ARCH_HAS_CC_PLATFORM` (see `migentry_shim.h`).
///
/// [`into_protnone`]: crate::mm::Entry::into_protnone
#[cfg(all(CONFIG_KUNIT, not(CONFIG_ARCH_HAS_CC_PLATFORM)))]
pub(crate) fn check_protnone(pmd: bool) -> (u64, u64, u64) {
    mm::cref::check_protnone(pmd)
}

/// The C side of the restore-cost benchmark: its inputs, its checksum and 7.3's restore run over
/// them in one C loop.
#[cfg(CONFIG_KUNIT)]
pub(crate) mod bench {
    pub(crate) use crate::mm::cref::{
        bench_mix as mix,
        BenchCase as Case,
        BENCH_SEED as SEED, //
    };

    /// `reps` passes of 7.3's `remove_migration_pte()` value computation (the
    /// [`Policy::Upstream`](super::Policy::Upstream) reference) and `RMAP_EXCLUSIVE` over
    /// `cases`, mapping `dest_pfn`, all inlined into one C loop: the checksum of every result in
    /// order ([`mix`] from [`SEED`]), or `None` if `cases` is too long for C.
    pub(crate) fn upstream(cases: &[Case], reps: u32, dest_pfn: u64) -> Option<u64> {
        crate::mm::cref::bench(cases, reps, dest_pfn)
    }
}
