// SPDX-License-Identifier: GPL-2.0

//! The typed restore as the kernel's migration restore hook (`hooked` kernel variant), and what
//! it counts.
//!
//! Every real migration of an order-0 or PTE-mapped folio (`move_pages(2)`, compaction, NUMA
//! balancing) then installs the PTE the typed restore builds, for the destination page the
//! kernel passes, instead of the one C built; every migration of a PMD-mapped THP installs the
//! typed PMD. The kernel only accepts an entry that takes permission away from C's (`mm::hook`),
//! which is all the typed restore ever does: its divergences from 7.3 (the lists in `restore.rs`
//! and `restore/pmd.rs`) each write-protect. PTE and PMD restores are counted apart.

// Without the hook (stock kernels), the kernel never calls the typed hook.
#![cfg_attr(not(CONFIG_MIGENTRY_HOOKS), allow(dead_code))]

use core::sync::atomic::{
    AtomicU64,
    Ordering, //
};

use super::{
    divergence,
    pmd::pmd_divergence,
    FolioState,
    Restore, //
};
use crate::mm::{
    hook::{
        HookCall,
        RestoreHook, //
    },
    AnyMigrationEntry,
    EntryBits,
    EntryKind,
    Level,
    NoGrant,
    PmdLevel,
    PteFlags,
    PteLevel,
    RestoredEntry,
    RestoredPmd,
    RestoredPte,
    VmaFacts, //
};

/// The typed restore, registered as the hook.
pub(crate) struct TypedHook;

/// Counters of the hook at one level, as [`Stats`] reports them.
struct Counters {
    restores: AtomicU64,
    writable: AtomicU64,
    write_protected: AtomicU64,
    uffd: AtomicU64,
    refused: [AtomicU64; 3],
    divergences: [AtomicU64; 4],
    unexpected: AtomicU64,
    c_write_uffd: AtomicU64,
    left_to_c: AtomicU64,
}

impl Counters {
    const fn new() -> Self {
        Self {
            restores: AtomicU64::new(0),
            writable: AtomicU64::new(0),
            write_protected: AtomicU64::new(0),
            uffd: AtomicU64::new(0),
            refused: [const { AtomicU64::new(0) }; 3],
            divergences: [const { AtomicU64::new(0) }; 4],
            unexpected: AtomicU64::new(0),
            c_write_uffd: AtomicU64::new(0),
            left_to_c: AtomicU64::new(0),
        }
    }
}

/// PTE restores.
static PTE_COUNTERS: Counters = Counters::new();
/// PMD restores.
static PMD_COUNTERS: Counters = Counters::new();

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// What the hook does differently per level: where it counts, and which documented divergence
/// (the list in `restore.rs` for PTEs, in `restore/pmd.rs` for PMDs) explains a difference.
trait HookLevel: Level {
    fn counters() -> &'static Counters;
    fn divergence(
        kind: EntryKind,
        bits: EntryBits,
        folio: FolioState,
        vma: &VmaFacts,
    ) -> Option<usize>;
}

impl HookLevel for PteLevel {
    fn counters() -> &'static Counters {
        &PTE_COUNTERS
    }
    fn divergence(
        kind: EntryKind,
        bits: EntryBits,
        _folio: FolioState,
        vma: &VmaFacts,
    ) -> Option<usize> {
        divergence(kind, bits, vma).map(|d| d as usize)
    }
}

impl HookLevel for PmdLevel {
    fn counters() -> &'static Counters {
        &PMD_COUNTERS
    }
    fn divergence(
        kind: EntryKind,
        bits: EntryBits,
        folio: FolioState,
        vma: &VmaFacts,
    ) -> Option<usize> {
        pmd_divergence(kind, bits, folio, vma).map(|d| d as usize)
    }
}

/// The typed restore of `call`'s entry at level `L`, or `None` to keep C's.
fn restore<L: HookLevel>(call: &HookCall<'_, L>) -> Option<RestoredEntry<L>> {
    let counters = L::counters();
    let Some(entry) = AnyMigrationEntry::from_raw(&call.entry) else {
        // Not a migration entry: leave the entry to C.
        bump(&counters.left_to_c);
        return None;
    };
    let (kind, bits) = (entry.kind(), entry.bits());
    let folio = FolioState {
        dirty: call.folio.dirty,
        anon: call.folio.anon,
    };
    let r = entry.restore(&call.dest, &call.vma, folio);
    // `vm_page_prot` and `vm_flags` are read unlocked, by C and again here: an mprotect() or a
    // uffd (un)registration between the two reads can make this entry allow what C's, computed
    // from the older values, does not. The kernel would refuse it (and WARN); leave such an
    // entry to C instead, and count it.
    let (t, c) = (r.pte.decode(), call.c_entry.decoded());
    let more_write = t.flags.has(PteFlags::WRITE) && !c.flags.has(PteFlags::WRITE);
    let more_access = c.flags.has(PteFlags::PROTNONE) && !t.flags.has(PteFlags::PROTNONE);
    if more_write || more_access || t.pfn != c.pfn {
        bump(&counters.left_to_c);
        return None;
    }
    bump(&counters.restores);
    bump(match &r.pte {
        RestoredEntry::Writable(_) => &counters.writable,
        RestoredEntry::WriteProtected(_) => &counters.write_protected,
        RestoredEntry::Uffd(_) => &counters.uffd,
    });
    match r.refused {
        Some(NoGrant::VmaNotWritable) => bump(&counters.refused[0]),
        Some(NoGrant::Uffd) => bump(&counters.refused[1]),
        Some(NoGrant::SoftDirtyPending) => bump(&counters.refused[2]),
        None => {}
    }
    if r.pte.val() != call.c_entry.val() {
        // The differences from 7.3's C are documented; a kernel whose C builds a writable entry
        // with the uffd bit (pre62: the 2022 bug) differs there too, and the typed one never
        // is one.
        if c.flags.has(PteFlags::WRITE) && c.flags.has(PteFlags::UFFD) {
            bump(&counters.c_write_uffd);
        } else {
            match L::divergence(kind, bits, folio, &call.vma) {
                Some(d) => bump(&counters.divergences[d]),
                None => bump(&counters.unexpected),
            }
        }
    }
    Some(r.pte)
}

impl RestoreHook for TypedHook {
    fn restore(call: &HookCall<'_>) -> Option<RestoredPte> {
        restore(call)
    }

    fn restore_pmd(call: &HookCall<'_, PmdLevel>) -> Option<RestoredPmd> {
        restore(call)
    }
}

/// A snapshot of the hook's counters.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Stats {
    /// Restores the typed hook made.
    pub(crate) restores: u64,
    /// ... that came back writable.
    pub(crate) writable: u64,
    /// ... write-protected without the uffd bit.
    pub(crate) write_protected: u64,
    /// ... with the uffd bit.
    pub(crate) uffd: u64,
    /// Write entries refused a grant, by [`NoGrant`]: VMA not writable, uffd, soft-dirty pending.
    pub(crate) refused: [u64; 3],
    /// Restores whose PTE differs from C's, by documented divergence (D1..D4).
    pub(crate) divergences: [u64; 4],
    /// Restores whose PTE differs from C's in an undocumented way (should stay 0).
    pub(crate) unexpected: u64,
    /// Restores where C's PTE was writable with the uffd bit (a kernel with the 2022 bug).
    pub(crate) c_write_uffd: u64,
    /// Calls where the typed hook left C's PTE: the entry was not a migration entry, or the
    /// VMA changed between C's read of it and the hook's, so that the typed PTE would allow
    /// more than C's.
    pub(crate) left_to_c: u64,
}

/// The counters of the PTE restores now.
pub(crate) fn stats() -> Stats {
    snapshot(&PTE_COUNTERS)
}

/// The counters of the PMD restores (PMD-mapped THPs) now; `divergences` counts P1..P3 in its
/// first three slots.
pub(crate) fn pmd_stats() -> Stats {
    snapshot(&PMD_COUNTERS)
}

fn snapshot(c: &Counters) -> Stats {
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    Stats {
        restores: get(&c.restores),
        writable: get(&c.writable),
        write_protected: get(&c.write_protected),
        uffd: get(&c.uffd),
        refused: c.refused.each_ref().map(get),
        divergences: c.divergences.each_ref().map(get),
        unexpected: get(&c.unexpected),
        c_write_uffd: get(&c.c_write_uffd),
        left_to_c: get(&c.left_to_c),
    }
}
