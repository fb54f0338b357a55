// SPDX-License-Identifier: GPL-2.0

//! The C reference restores in `rust/migentry_shim.c`, for comparison with the typed one.
//!
//! - [`Policy::Upstream`]: Linux 7.3 `remove_migration_pte()`, PTE level.
//! - [`Policy::Pre62`]: v6.1 on x86, whose `vm_page_prot` still had `_PAGE_RW` in a shared
//!   uffd-wp VMA (no write-notify for uffd-wp before 51d3d5eb74ff) and whose `pte_mkuffd_wp()`
//!   did not write-protect (before f1eb1bacfba9): the Nov 2022 data-loss bug.
//! - [`Policy::PeterxV3`]: v6.1 with Peter Xu's dropped v3 fix, which write-protected every
//!   non-Write entry.

use crate::{
    ffi,
    restore::FolioFacts,
    uapi::Policy,
    vma::VmaFacts, //
};

/// What a C reference would install.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct RefResult {
    /// The PTE value.
    pub(crate) val: u64,
    /// Whether the mapping would be added as exclusive (`RMAP_EXCLUSIVE`).
    pub(crate) exclusive: bool,
}

/// Runs the C reference `policy` (not [`Policy::Typed`]) on the migration entry `entry_val`.
pub(crate) fn restore(
    policy: Policy,
    entry_val: u64,
    vma: &VmaFacts,
    folio: FolioFacts,
) -> RefResult {
    let (val, exclusive) = ffi::ref_restore(
        policy as u32,
        entry_val,
        vma.as_c(),
        folio.dirty,
        folio.anon,
    );
    RefResult { val, exclusive }
}
