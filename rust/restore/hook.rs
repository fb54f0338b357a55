// SPDX-License-Identifier: GPL-2.0

//! The typed restore as the kernel's migration restore hook (`hooked` kernel variant), and what
//! it counts.
//!
//! Every real migration of an order-0 or PTE-mapped folio (`move_pages(2)`, compaction, NUMA
//! balancing) then installs the PTE the typed restore builds, for the destination page the
//! kernel passes, instead of the one C built. The kernel only accepts a PTE that takes
//! permission away from C's (`mm::hook`), which is all the typed restore ever does: its
//! divergences from 7.3 (the list in `restore.rs`) each write-protect.

// Without the hook (stock kernels), the kernel never calls the typed hook.
#![cfg_attr(not(CONFIG_MIGENTRY_HOOKS), allow(dead_code))]

use core::sync::atomic::{
    AtomicU64,
    Ordering, //
};

use super::{
    divergence,
    FolioState,
    Restore, //
};
use crate::mm::{
    self,
    hook::{
        HookCall,
        RestoreHook, //
    },
    AnyMigrationEntry,
    NoGrant,
    PteFlags,
    RestoredPte, //
};

/// The typed restore, registered as the hook.
pub(crate) struct TypedHook;

/// Counters of the hook, as [`Stats`] reports them.
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

static COUNTERS: Counters = Counters {
    restores: AtomicU64::new(0),
    writable: AtomicU64::new(0),
    write_protected: AtomicU64::new(0),
    uffd: AtomicU64::new(0),
    refused: [const { AtomicU64::new(0) }; 3],
    divergences: [const { AtomicU64::new(0) }; 4],
    unexpected: AtomicU64::new(0),
    c_write_uffd: AtomicU64::new(0),
    left_to_c: AtomicU64::new(0),
};

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl RestoreHook for TypedHook {
    fn restore(call: &HookCall<'_>) -> Option<RestoredPte> {
        let Some(entry) = AnyMigrationEntry::from_raw(&call.entry) else {
            // Not a migration entry: leave the PTE to C.
            bump(&COUNTERS.left_to_c);
            return None;
        };
        let (kind, bits) = (entry.kind(), entry.bits());
        let folio = FolioState {
            dirty: call.folio.dirty,
            anon: call.folio.anon,
        };
        let r = entry.restore(&call.dest, &call.vma, folio);
        // `vm_page_prot` and `vm_flags` are read unlocked, by C and again here: an mprotect()
        // or a uffd (un)registration between the two reads can make this PTE allow what C's,
        // computed from the older values, does not. The kernel would refuse it (and WARN);
        // leave such a PTE to C instead, and count it.
        let (t, c) = (r.pte.decode(), mm::decode(call.c_pte));
        let more_write = t.flags.has(PteFlags::WRITE) && !c.flags.has(PteFlags::WRITE);
        let more_access = c.flags.has(PteFlags::PROTNONE) && !t.flags.has(PteFlags::PROTNONE);
        if more_write || more_access || t.pfn != c.pfn {
            bump(&COUNTERS.left_to_c);
            return None;
        }
        bump(&COUNTERS.restores);
        bump(match &r.pte {
            RestoredPte::Writable(_) => &COUNTERS.writable,
            RestoredPte::WriteProtected(_) => &COUNTERS.write_protected,
            RestoredPte::Uffd(_) => &COUNTERS.uffd,
        });
        match r.refused {
            Some(NoGrant::VmaNotWritable) => bump(&COUNTERS.refused[0]),
            Some(NoGrant::Uffd) => bump(&COUNTERS.refused[1]),
            Some(NoGrant::SoftDirtyPending) => bump(&COUNTERS.refused[2]),
            None => {}
        }
        if r.pte.val() != call.c_pte {
            // The differences from 7.3's C are documented; a kernel whose C builds a writable
            // PTE with the uffd bit (pre62: the 2022 bug) differs there too, and the typed PTE
            // never is one.
            if c.flags.has(PteFlags::WRITE) && c.flags.has(PteFlags::UFFD) {
                bump(&COUNTERS.c_write_uffd);
            } else {
                match divergence(kind, bits, &call.vma) {
                    Some(d) => bump(&COUNTERS.divergences[d as usize]),
                    None => bump(&COUNTERS.unexpected),
                }
            }
        }
        Some(r.pte)
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

/// The counters now.
pub(crate) fn stats() -> Stats {
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    Stats {
        restores: get(&COUNTERS.restores),
        writable: get(&COUNTERS.writable),
        write_protected: get(&COUNTERS.write_protected),
        uffd: get(&COUNTERS.uffd),
        refused: COUNTERS.refused.each_ref().map(get),
        divergences: COUNTERS.divergences.each_ref().map(get),
        unexpected: get(&COUNTERS.unexpected),
        c_write_uffd: get(&COUNTERS.c_write_uffd),
        left_to_c: get(&COUNTERS.left_to_c),
    }
}
