// SPDX-License-Identifier: GPL-2.0

//! The folio a PTE maps, and the page a restored PTE will map.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)

use core::marker::PhantomData;

use super::ffi;

/// The state of a folio, read under the page-table lock of a PTE that maps it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct FolioFacts {
    /// `folio_test_anon()`.
    pub(crate) anon: bool,
    /// `folio_test_dirty()`.
    pub(crate) dirty: bool,
    /// `PageAnonExclusive()` of the mapped page.
    pub(crate) anon_exclusive: bool,
}

/// The folio mapped at a PTE slot, while the slot's page-table lock is held.
///
/// # Invariants
///
/// `pfn` is a page of a folio that was mapped by a present, non-special PTE whose page-table
/// lock is held for `'a`; that mapping's reference keeps the folio alive for `'a`.
pub(crate) struct MappedFolio<'a> {
    pfn: u64,
    facts: FolioFacts,
    _lock: PhantomData<&'a ()>,
}

impl FolioFacts {
    /// Reads the state of the folio of `pfn`.
    ///
    /// # Safety
    ///
    /// The folio of `pfn` must be referenced for the duration of the call.
    pub(super) unsafe fn read(pfn: u64) -> Option<Self> {
        let mut c = ffi::migentry_folio_facts::default();
        // SAFETY: per the caller, the folio is referenced, so it cannot be freed; `c` is a valid
        // local.
        if unsafe { ffi::migentry_folio_facts(pfn, &mut c) } != 0 {
            return None;
        }
        Some(Self {
            anon: c.anon,
            dirty: c.dirty,
            anon_exclusive: c.anon_exclusive,
        })
    }
}

impl<'a> MappedFolio<'a> {
    /// Looks up the folio of `pfn`.
    ///
    /// # Safety
    ///
    /// `pfn` must be mapped by a present, non-special PTE whose page-table lock is held for `'a`.
    pub(super) unsafe fn lookup(pfn: u64) -> Option<Self> {
        // SAFETY: per the caller, the page is mapped, so its folio is referenced.
        let facts = unsafe { FolioFacts::read(pfn) }?;
        // INVARIANT: as the caller guarantees.
        Some(Self {
            pfn,
            facts,
            _lock: PhantomData,
        })
    }

    /// The state read when the folio was looked up.
    pub(crate) fn facts(&self) -> FolioFacts {
        self.facts
    }

    /// `folio_mark_dirty()`, as `try_to_migrate_one()` does for a dirty PTE it replaces.
    pub(crate) fn mark_dirty(&self) {
        // SAFETY: the folio is alive and the page-table lock is held (type invariant), which is
        // how `zap_present_folio_ptes()` calls `folio_mark_dirty()` too.
        unsafe { ffi::migentry_folio_mark_dirty(self.pfn) };
    }

    /// The mapped page, as the page a restored PTE maps: in a round trip through a migration
    /// entry that never left the page table, source and destination are the same page.
    pub(crate) fn page(&self) -> DestPage<'a> {
        // INVARIANT: the page is alive for `'a` (type invariant).
        DestPage {
            pfn: self.pfn,
            _page: PhantomData,
        }
    }
}

/// The page a restored PTE maps: in a real migration a page of the destination folio, which is
/// not the migration entry's own (source) PFN.
///
/// # Invariants
///
/// `pfn` is a page that stays allocated for `'a` and that the caller is entitled to map (it was
/// mapped at the slot, or is the destination of the migration being completed); the KUnit suite
/// makes unmapped ones for pure computation (`mm::testing`).
pub(crate) struct DestPage<'a> {
    pfn: u64,
    _page: PhantomData<&'a ()>,
}

impl<'a> DestPage<'a> {
    /// The destination page of a migration that is being completed.
    ///
    /// # Invariants
    ///
    /// The caller (`remove_migration_pte()` or `remove_migration_pmd()` through the restore hook)
    /// holds the destination folio locked and referenced for `'a`.
    #[cfg_attr(not(CONFIG_MIGENTRY_HOOKS), allow(dead_code))]
    pub(super) fn of_migration(pfn: u64) -> Self {
        Self {
            pfn,
            _page: PhantomData,
        }
    }

    /// The page's PFN.
    pub(crate) fn pfn(&self) -> u64 {
        self.pfn
    }

    /// A page for pure computation in the KUnit suite, never installed.
    #[cfg(CONFIG_KUNIT)]
    pub(super) fn model(pfn: u64) -> DestPage<'static> {
        // INVARIANT: only `mm::testing` makes one, and only inside a KUnit test.
        DestPage {
            pfn,
            _page: PhantomData,
        }
    }
}
