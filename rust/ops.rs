// SPDX-License-Identifier: GPL-2.0

//! What the range ioctls do to one page: READ_PTE reads it, EVALUATE predicts a migration
//! round trip, ROUNDTRIP performs one.
//!
//! Runs under the page-table lock (inside [`VmaView::walk_ptes`](crate::vma::VmaView)): no
//! sleeping, no allocation. Holds no `unsafe`; everything it touches goes through the typed
//! layer.

use kernel::prelude::*;

use crate::{
    pte::{
        PteFlags,
        RawPte, //
    },
    pte_slot::PteSlot,
    reference,
    restore::{
        FolioFacts,
        NoGrant,
        Restore, //
    },
    softleaf::{
        AnyMigrationEntry,
        SoftLeaf, //
    },
    uapi::{
        self,
        Policy, //
    },
    vma::{
        VmaFacts,
        VmaView, //
    },
};

/// The decoded form of an entry for userspace; raw value and PFN only for `CAP_SYS_ADMIN`.
pub(crate) fn pte_state(pte: RawPte, admin: bool) -> uapi::PteState {
    let d = pte.decode();
    uapi::PteState {
        raw: if admin { pte.val() } else { 0 },
        pfn: if admin { d.pfn } else { 0 },
        kind: d.kind as u32,
        flags: d.flags.0,
    }
}

/// What the range ioctls do with a page, by the entry found there.
fn status_of(pte: RawPte) -> u32 {
    match SoftLeaf::from_raw(pte) {
        Some(SoftLeaf::None) => uapi::REC_NONE,
        Some(_) => uapi::REC_NOT_PRESENT,
        None if pte.decode().flags.has(PteFlags::SPECIAL) => uapi::REC_SPECIAL,
        None => uapi::REC_DONE,
    }
}

/// The `MIGENTRY_VMA_*` summary of a VMA.
pub(crate) fn vma_flags(vma: &VmaView<'_>) -> u64 {
    let facts = vma.facts();
    let f = facts.flags();
    [
        (f.write, uapi::VMA_WRITE),
        (f.shared, uapi::VMA_SHARED),
        (f.softdirty, uapi::VMA_SOFTDIRTY),
        (f.uffd_wp, uapi::VMA_UFFD_WP),
        (f.uffd_rwp, uapi::VMA_UFFD_RWP),
        (vma.is_anonymous(), uapi::VMA_ANON),
        (facts.page_prot_writable(), uapi::VMA_PROT_WRITE),
        (facts.soft_dirty_tracking(), uapi::VMA_SD_TRACKING),
        (facts.write_notify(), uapi::VMA_WRITE_NOTIFY),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |acc, (_, bit)| acc | bit)
}

/// READ_PTE: the record of one slot.
pub(crate) fn read(slot: &PteSlot<'_>, admin: bool) -> uapi::Record {
    let pte = slot.get();
    uapi::Record {
        addr: slot.addr() as u64,
        status: status_of(pte),
        before: pte_state(pte, admin),
        ..Default::default()
    }
}

/// The operations a ROUNDTRIP applies to the migration entry while it is installed.
#[derive(Clone, Copy, Default)]
pub(crate) struct Inject {
    /// What `clear_refs` (4) does: clear the swap soft-dirty bit.
    pub(crate) clear_soft_dirty: bool,
    /// What mprotect() removing write does: downgrade a Write entry.
    pub(crate) wrprotect: bool,
    /// What `UFFDIO_WRITEPROTECT` does: downgrade and set the uffd bit.
    pub(crate) uffd_wp: bool,
}

impl Inject {
    fn any(self) -> bool {
        self.clear_soft_dirty || self.wrprotect || self.uffd_wp
    }

    fn apply(self, e: AnyMigrationEntry, anon: bool) -> AnyMigrationEntry {
        let e = if self.clear_soft_dirty {
            e.clear_soft_dirty()
        } else {
            e
        };
        if self.wrprotect || self.uffd_wp {
            e.write_protect(anon, self.uffd_wp)
        } else {
            e
        }
    }
}

fn nogrant(r: Option<NoGrant>) -> u32 {
    match r {
        None => 0,
        Some(NoGrant::VmaNotWritable) => uapi::NOGRANT_VMA_NOT_WRITABLE,
        Some(NoGrant::Uffd) => uapi::NOGRANT_UFFD,
        Some(NoGrant::SoftDirtyPending) => uapi::NOGRANT_SOFT_DIRTY,
    }
}

/// EVALUATE (`install` false) or ROUNDTRIP (`install` true) of one slot.
///
/// Pages that are none, not present or special are reported and left alone. For the others,
/// the entry `try_to_migrate_one()` would make is computed (and with `install`, put in the page
/// table in place of the PTE, which is taken atomically), `inject` is applied to it, and every
/// policy's restore is recorded; with `install` the typed result replaces the entry.
///
/// # Errors
///
/// `EIO` if the folio's refcount or mapcount changed across the round trip, or its exclusive
/// marking disagrees with the entry, which would be a bug in migentry (or a concurrent GUP-fast
/// reference, which is transient); the page is still restored.
pub(crate) fn migrate(
    slot: &mut PteSlot<'_>,
    vma: &VmaFacts,
    inject: Inject,
    install: bool,
    admin: bool,
) -> Result<uapi::Record> {
    let mut rec = read(slot, admin);
    if rec.status != uapi::REC_DONE {
        return Ok(rec);
    }
    let Some(folio) = slot.folio() else {
        rec.status = uapi::REC_SPECIAL;
        return Ok(rec);
    };
    let f0 = *folio.facts();
    let anon = f0.anon != 0;

    // Take the PTE atomically so that an A/D update by the hardware is not lost between reading
    // it and replacing it. Under the page-table lock a present PTE stays present, so every
    // `install()` below finds the slot none and cannot fail; should that ever not hold, the page
    // is put back as it was rather than lost.
    let old = if install { slot.take() } else { slot.get() };
    let Some(entry) = AnyMigrationEntry::from_present(old, f0.anon_exclusive != 0) else {
        if install {
            slot.install(old.val())?;
        }
        return Err(EIO);
    };
    let was_dirty = old.decode().flags.has(PteFlags::DIRTY);
    if install && was_dirty {
        folio.mark_dirty();
    }
    if install {
        slot.install(entry.val())?;
    }
    let entry = if inject.any() {
        let e = inject.apply(entry, anon);
        if install {
            slot.take();
            slot.install(e.val())?;
        }
        e
    } else {
        entry
    };
    rec.entry = pte_state(RawPte::from_val(entry.val()), admin);

    let folio_facts = FolioFacts {
        dirty: if install {
            folio.reread().dirty != 0
        } else {
            f0.dirty != 0 || was_dirty
        },
        anon,
    };
    for policy in [Policy::Upstream, Policy::Pre62, Policy::PeterxV3] {
        let r = reference::restore(policy, entry.val(), vma, folio_facts);
        rec.after[policy as usize] = pte_state(RawPte::from_val(r.val), admin);
    }
    let restored = entry.restore(vma, folio_facts);
    rec.after[Policy::Typed as usize] = pte_state(RawPte::from_val(restored.pte.val()), admin);
    rec.refused = nogrant(restored.refused);

    if install {
        slot.take();
        slot.install(restored.pte.val())?;
        let f1 = folio.reread();
        if f1.refcount != f0.refcount || f1.mapcount != f0.mapcount {
            pr_err!(
                "roundtrip at {:#x}: folio refcount {} -> {}, mapcount {} -> {}\n",
                slot.addr(),
                f0.refcount,
                f1.refcount,
                f0.mapcount,
                f1.mapcount
            );
            return Err(EIO);
        }
        if anon && restored.exclusive != (f0.anon_exclusive != 0) {
            pr_err!(
                "roundtrip at {:#x}: restore says exclusive={} but PageAnonExclusive={}\n",
                slot.addr(),
                restored.exclusive,
                f0.anon_exclusive
            );
            return Err(EIO);
        }
    }
    Ok(rec)
}
