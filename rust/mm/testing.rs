// SPDX-License-Identifier: GPL-2.0

//! What the KUnit suite computes with and nothing else may: migration entries fabricated from
//! raw values (then decoded by the real decoder), present PTE values as if read from a page
//! table, VMA models and unmapped destination pages.
//!
//! Compiled only with `CONFIG_KUNIT`, and every constructor returns `None` unless the caller is
//! running inside a KUnit test ([`in_kunit_test`]), so ordinary code of the module cannot use
//! them to forge a [`MigrationEntry<Write>`](super::MigrationEntry) or a VMA that mints grants.

use kernel::kunit::in_kunit_test;

use super::{
    ffi,
    AnyMigrationEntry,
    AnyPmdMigrationEntry,
    DestPage,
    EntryBits,
    EntryKind,
    PageProt,
    RawPte,
    VmaFacts,
    VmaFlags, //
};

/// A migration entry of `kind` for `pfn` with `bits`, decoded from its raw value.
pub(crate) fn migration_entry(
    kind: EntryKind,
    pfn: u64,
    bits: EntryBits,
) -> Option<AnyMigrationEntry> {
    in_kunit_test()
        .then(|| AnyMigrationEntry::fabricate(kind, pfn, bits))
        .flatten()
}

/// A PMD migration entry of `kind` for `pfn` (a THP's head page) with `bits`, decoded from its
/// raw value by the PMD decoder.
pub(crate) fn pmd_migration_entry(
    kind: EntryKind,
    pfn: u64,
    bits: EntryBits,
) -> Option<AnyPmdMigrationEntry> {
    in_kunit_test()
        .then(|| AnyPmdMigrationEntry::fabricate(kind, pfn, bits))
        .flatten()
}

/// A model of a VMA with these flags and `vm_page_prot`.
pub(crate) fn vma(flags: VmaFlags, prot: PageProt) -> Option<VmaFacts> {
    in_kunit_test().then(|| VmaFacts::model(flags, prot))
}

/// A destination page that is never mapped.
pub(crate) fn dest_page(pfn: u64) -> Option<DestPage<'static>> {
    in_kunit_test().then(|| DestPage::model(pfn))
}

/// What a present PTE can carry besides its PFN.
#[derive(Clone, Copy, Default)]
pub(crate) struct PresentBits {
    /// `pte_mkwrite()`.
    pub(crate) write: bool,
    /// `pte_mkdirty()`.
    pub(crate) dirty: bool,
    /// `pte_mksoft_dirty()`.
    pub(crate) soft_dirty: bool,
    /// `pte_mkuffd()` (write-protects).
    pub(crate) uffd: bool,
}

/// A present PTE for `pfn` (`PAGE_COPY`, young), as if read from a page table.
pub(crate) fn present_pte(pfn: u64, b: PresentBits) -> Option<RawPte> {
    let mut v = ffi::pfn_pte(pfn, PageProt::of(false).val());
    if b.dirty {
        v = ffi::pte_mkdirty(v);
    }
    if b.soft_dirty {
        v = ffi::pte_mksoft_dirty(v);
    }
    if b.write {
        v = ffi::pte_clear_saveddirty(ffi::pte_mkwrite_novma(v));
    }
    if b.uffd {
        v = ffi::pte_mkuffd(v);
    }
    in_kunit_test().then(|| RawPte::read(v))
}

/// `pte_wrprotect()` of a value, for relations the suite checks.
pub(crate) fn wrprotect(val: u64) -> u64 {
    ffi::pte_wrprotect(val)
}

/// `pmd_wrprotect()` of a value, for relations the suite checks.
pub(crate) fn pmd_wrprotect(val: u64) -> u64 {
    ffi::pmd_wrprotect(val)
}

/// Any entry value, as if read from a page table.
pub(crate) fn raw(val: u64) -> Option<RawPte> {
    in_kunit_test().then(|| RawPte::read(val))
}

/// Reads entry values as if from a page table, without asking KUnit each time: the
/// restore-cost benchmark decodes in its timed loop, as the hook does.
///
/// # Invariants
///
/// Made inside a running KUnit test only.
pub(crate) struct RawReader(());

impl RawReader {
    /// A reader, inside a KUnit test only.
    pub(crate) fn new() -> Option<Self> {
        // INVARIANT: checked here.
        in_kunit_test().then_some(Self(()))
    }

    /// Any entry value, as if read from a page table (decoded as [`RawPte`]s are).
    #[inline]
    pub(crate) fn read(&self, val: u64) -> RawPte {
        RawPte::read(val)
    }
}

// The restore-cost benchmark's Rust loops (`rust/restore/bench.rs`) each start a 4 KiB page of
// code of their own, as its C loop does (`migentry_ref_bench()`): under QEMU's TCG a jump from one
// page of code to another is not chained and costs a lookup, so a loop that happened to straddle
// a page boundary would measure the module's layout, not its code. The alignment directive raises
// each section's alignment; the benchmark puts one function in each (`#[link_section]`), which the
// module's linker script merges into `.text` at that alignment.
core::arch::global_asm!(
    ".pushsection .text.migentry_cost_typed,\"ax\",@progbits",
    ".p2align 12",
    ".popsection",
    ".pushsection .text.migentry_cost_decode,\"ax\",@progbits",
    ".p2align 12",
    ".popsection",
);
