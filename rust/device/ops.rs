// SPDX-License-Identifier: GPL-2.0

//! What the range ioctls do to one page: READ_PTE reads it, EVALUATE predicts a migration
//! round trip, ROUNDTRIP performs one.
//!
//! The per-page step (per THP for a PMD-mapped one, through [`LeafSlot`], one implementation
//! for both levels) runs under the page-table or PMD lock (inside
//! [`VmaView::walk_entries`](crate::mm::VmaView::walk_entries)): no sleeping, no allocation, one
//! decode of the entry, a pure plan (the migration entry, the injected operations, the typed
//! restore), then, in a round trip only, one write to the page table. READ_PTE and EVALUATE get
//! read-only slots ([`ReadLocked`](crate::mm::ReadLocked)): they cannot change an entry. The
//! records, with the C references beside the typed result, are made afterwards from what the
//! step kept, outside every lock.

use kernel::{
    page::PAGE_SIZE,
    prelude::*, //
};

use super::uapi;
use crate::{
    mm::{
        AnyMigrationEntry,
        Decoded,
        EntryKind,
        Level,
        LockLevel,
        MappedFolio,
        NoGrant,
        PageEntry,
        PmdLevel,
        PmdSlot,
        PteFlags,
        PteLevel,
        PteSlot,
        RawEntry,
        RawPte,
        RestoredEntry,
        SoftLeaf,
        VmaFacts,
        WriteLocked,
        PMD_SIZE, //
    },
    reference::{
        self,
        Policy, //
    },
    restore::{
        FolioState,
        Restore,
        Restored, //
    },
};

/// `MIGENTRY_LEAF_*` of a kind.
fn leaf(kind: EntryKind) -> u32 {
    match kind {
        EntryKind::None => uapi::MIGENTRY_LEAF_NONE,
        EntryKind::Present => uapi::MIGENTRY_LEAF_PRESENT,
        EntryKind::Swap => uapi::MIGENTRY_LEAF_SWAP,
        EntryKind::MigrationRead => uapi::MIGENTRY_LEAF_MIGRATION_READ,
        EntryKind::MigrationReadExclusive => uapi::MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE,
        EntryKind::MigrationWrite => uapi::MIGENTRY_LEAF_MIGRATION_WRITE,
        EntryKind::DevicePrivateRead => uapi::MIGENTRY_LEAF_DEVICE_PRIVATE_READ,
        EntryKind::DevicePrivateWrite => uapi::MIGENTRY_LEAF_DEVICE_PRIVATE_WRITE,
        EntryKind::DeviceExclusive => uapi::MIGENTRY_LEAF_DEVICE_EXCLUSIVE,
        EntryKind::HwPoison => uapi::MIGENTRY_LEAF_HWPOISON,
        EntryKind::Marker => uapi::MIGENTRY_LEAF_MARKER,
    }
}

/// `MIGENTRY_PTE_*` of an entry's state bits.
fn pte_flags(f: PteFlags) -> u32 {
    [
        (PteFlags::PRESENT, uapi::MIGENTRY_PTE_PRESENT),
        (PteFlags::WRITE, uapi::MIGENTRY_PTE_WRITE),
        (PteFlags::DIRTY, uapi::MIGENTRY_PTE_DIRTY),
        (PteFlags::YOUNG, uapi::MIGENTRY_PTE_YOUNG),
        (PteFlags::SOFT_DIRTY, uapi::MIGENTRY_PTE_SOFT_DIRTY),
        (PteFlags::UFFD, uapi::MIGENTRY_PTE_UFFD),
        (PteFlags::SPECIAL, uapi::MIGENTRY_PTE_SPECIAL),
        (PteFlags::PROTNONE, uapi::MIGENTRY_PTE_PROTNONE),
    ]
    .iter()
    .filter(|(m, _)| f.has(*m))
    .fold(0, |acc, (_, u)| acc | u)
}

/// The decoded form of an entry for userspace; raw value and PFN only for `CAP_SYS_ADMIN`.
fn pte_state(raw: u64, d: Decoded, admin: bool) -> uapi::PteState {
    uapi::PteState {
        raw: if admin { raw } else { 0 },
        pfn: if admin { d.pfn } else { 0 },
        kind: leaf(d.kind),
        flags: pte_flags(d.flags),
    }
}

/// What the range ioctls do with a page, by the entry found there.
fn status_of(pte: &RawPte) -> u32 {
    match SoftLeaf::from_raw(pte) {
        Some(SoftLeaf::None) => uapi::MIGENTRY_REC_NONE,
        Some(_) => uapi::MIGENTRY_REC_NOT_PRESENT,
        None if pte.decoded().flags.has(PteFlags::SPECIAL) => uapi::MIGENTRY_REC_SPECIAL,
        None => uapi::MIGENTRY_REC_DONE,
    }
}

/// The `MIGENTRY_VMA_*` summary of a VMA.
pub(super) fn vma_flags(facts: &VmaFacts) -> u64 {
    let f = facts.flags();
    [
        (f.write, uapi::MIGENTRY_VMA_WRITE),
        (f.shared, uapi::MIGENTRY_VMA_SHARED),
        (f.softdirty, uapi::MIGENTRY_VMA_SOFTDIRTY),
        (f.uffd_wp, uapi::MIGENTRY_VMA_UFFD_WP),
        (f.uffd_rwp, uapi::MIGENTRY_VMA_UFFD_RWP),
        (facts.is_anonymous(), uapi::MIGENTRY_VMA_ANON),
        (
            facts.page_prot().is_writable(),
            uapi::MIGENTRY_VMA_PROT_WRITE,
        ),
        (facts.soft_dirty_tracking(), uapi::MIGENTRY_VMA_SD_TRACKING),
        (facts.write_notify(), uapi::MIGENTRY_VMA_WRITE_NOTIFY),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |acc, (_, bit)| acc | u64::from(*bit))
}

/// READ_PTE: the record of the page at `addr`, whose entry was `entry`.
///
/// A page of a PMD-mapped THP gets the PMD's state with `MIGENTRY_PTE_PMD`, and its own PFN:
/// the PMD's first plus the page's index in the THP.
pub(super) fn read(addr: usize, entry: &PageEntry, admin: bool) -> uapi::Record {
    let (status, before) = match entry {
        PageEntry::Pte(pte) => (status_of(pte), pte_state(pte.val(), pte.decoded(), admin)),
        PageEntry::Pmd { pmd, index } => {
            let mut d = pmd.decoded();
            // CAST: at most 511.
            d.pfn += *index as u64;
            let status = if d.flags.has(PteFlags::SPECIAL) {
                uapi::MIGENTRY_REC_SPECIAL
            } else {
                uapi::MIGENTRY_REC_DONE
            };
            let mut state = pte_state(pmd.val(), d, admin);
            state.flags |= uapi::MIGENTRY_PTE_PMD;
            (status, state)
        }
    };
    uapi::Record {
        // CAST: user addresses fit in `u64`.
        addr: addr as u64,
        status,
        before,
        ..Default::default()
    }
}

/// The operations a ROUNDTRIP applies to the migration entry, as if they had raced with the
/// migration.
#[derive(Clone, Copy, Default)]
pub(super) struct Inject {
    /// What `clear_refs` (4) does: clear the swap soft-dirty bit.
    pub(super) clear_soft_dirty: bool,
    /// What mprotect() removing write does: downgrade a Write entry.
    pub(super) wrprotect: bool,
    /// What `UFFDIO_WRITEPROTECT` does: downgrade and set the uffd bit.
    pub(super) uffd_wp: bool,
}

impl Inject {
    fn apply<L: Level>(self, e: AnyMigrationEntry<L>, anon: bool) -> AnyMigrationEntry<L> {
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

/// How far [`round_trip`] goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// The first pass on a kernel without a TLB flush: plan only, and fail with `EOPNOTSUPP`
    /// if the page would lose rights.
    Check,
    /// Plan and install; `flush` says whether an invalidation covers the range, so that the
    /// page may lose rights.
    Install {
        /// An [`Invalidation`](crate::mm::Invalidation) is open on the range.
        flush: bool,
    },
}

/// What [`evaluate`] or [`round_trip`] planned (and, in a round trip, installed) for a page or
/// a PMD-mapped THP.
struct Planned {
    entry_val: u64,
    entry: Decoded,
    dest_pfn: u64,
    folio: FolioState,
    /// The typed restore's entry, decoded.
    after_val: u64,
    after: Decoded,
    refused: Option<NoGrant>,
}

/// What happened to one page, or to the pages of a PMD-mapped THP, kept until the records are
/// made outside the locks.
pub(super) struct Outcome {
    addr: usize,
    /// `Some((index, pages))` for a PMD-mapped THP: the index in the THP of the page at `addr`
    /// and how many pages of the range it covers, each reported with the PMD's values.
    pmd: Option<(usize, usize)>,
    status: u32,
    before_val: u64,
    before: Decoded,
    planned: Option<Planned>,
}

impl Outcome {
    /// How many records this outcome makes.
    pub(super) fn pages(&self) -> usize {
        self.pmd.map_or(1, |(_, n)| n)
    }

    /// The outcome of a PMD-mapped THP, for the part `[from, to)` of the range it covers.
    pub(super) fn covering(mut self, from: usize, to: usize) -> Self {
        self.pmd = Some(((from & (PMD_SIZE - 1)) / PAGE_SIZE, (to - from) / PAGE_SIZE));
        self.addr = from;
        self
    }
}

/// A slot EVALUATE and ROUNDTRIP work on, with its lock held: a PTE, or the PMD of a PMD-mapped
/// THP.
pub(super) trait LeafSlot<'a> {
    /// The page-table level of the slot.
    type Level: Level;
    /// The slot's first user address.
    fn addr(&self) -> usize;
    /// The entry in the slot.
    fn get(&self) -> RawEntry<Self::Level>;
    /// `MIGENTRY_REC_*` of what the slot holds, before its folio is looked up.
    fn status(seen: &RawEntry<Self::Level>) -> u32;
    /// The folio mapped by `seen`, read from the slot.
    fn folio(&self, seen: &RawEntry<Self::Level>) -> Option<MappedFolio<'a>>;
}

/// A slot a ROUNDTRIP changes (under the mmap write lock).
pub(super) trait TakeSlot<'a>: LeafSlot<'a> {
    /// Takes the entry atomically, leaving none.
    fn take(&mut self, seen: &RawEntry<Self::Level>) -> RawEntry<Self::Level>;
    /// Puts back an entry taken from it.
    fn put_back(&mut self, old: &RawEntry<Self::Level>) -> Result;
    /// Installs a restored entry.
    fn install(&mut self, new: &RestoredEntry<Self::Level>) -> Result;
}

impl<'a, L: LockLevel> LeafSlot<'a> for PteSlot<'a, L> {
    type Level = PteLevel;
    fn addr(&self) -> usize {
        PteSlot::addr(self)
    }
    fn get(&self) -> RawPte {
        PteSlot::get(self)
    }
    fn status(seen: &RawPte) -> u32 {
        status_of(seen)
    }
    fn folio(&self, seen: &RawPte) -> Option<MappedFolio<'a>> {
        PteSlot::folio(self, seen)
    }
}

impl<'a, L: LockLevel> LeafSlot<'a> for PmdSlot<'a, L> {
    type Level = PmdLevel;
    fn addr(&self) -> usize {
        PmdSlot::addr(self)
    }
    fn get(&self) -> RawEntry<PmdLevel> {
        PmdSlot::get(self)
    }
    fn status(seen: &RawEntry<PmdLevel>) -> u32 {
        // The walk locked the PMD as a present leaf: it maps a THP or the huge zero page.
        if seen.decoded().flags.has(PteFlags::SPECIAL) {
            uapi::MIGENTRY_REC_SPECIAL
        } else {
            uapi::MIGENTRY_REC_DONE
        }
    }
    fn folio(&self, seen: &RawEntry<PmdLevel>) -> Option<MappedFolio<'a>> {
        PmdSlot::folio(self, seen)
    }
}

impl<'a> TakeSlot<'a> for PteSlot<'a, WriteLocked> {
    fn take(&mut self, seen: &RawPte) -> RawPte {
        PteSlot::take(self, seen)
    }
    fn put_back(&mut self, old: &RawPte) -> Result {
        PteSlot::install(self, old)
    }
    fn install(&mut self, new: &RestoredEntry<PteLevel>) -> Result {
        PteSlot::install(self, new)
    }
}

impl<'a> TakeSlot<'a> for PmdSlot<'a, WriteLocked> {
    fn take(&mut self, seen: &RawEntry<PmdLevel>) -> RawEntry<PmdLevel> {
        PmdSlot::take(self, seen)
    }
    fn put_back(&mut self, old: &RawEntry<PmdLevel>) -> Result {
        PmdSlot::install(self, old)
    }
    fn install(&mut self, new: &RestoredEntry<PmdLevel>) -> Result {
        PmdSlot::install(self, new)
    }
}

/// The first steps of EVALUATE and ROUNDTRIP on a slot: the entry seen, the outcome so far and,
/// for a present, non-special page, the folio it maps (`None`: report the page and leave it).
fn begin<'a, S: LeafSlot<'a>>(slot: &S) -> (RawEntry<S::Level>, Outcome, Option<MappedFolio<'a>>) {
    let seen = slot.get();
    let mut out = Outcome {
        addr: slot.addr(),
        pmd: None,
        status: S::status(&seen),
        before_val: seen.val(),
        before: seen.decoded(),
        planned: None,
    };
    if out.status != uapi::MIGENTRY_REC_DONE {
        return (seen, out, None);
    }
    let folio = slot.folio(&seen);
    if folio.is_none() {
        out.status = uapi::MIGENTRY_REC_SPECIAL;
    }
    (seen, out, folio)
}

/// The plan for the present PTE (or PMD) `old` mapping `folio`: the entry
/// `try_to_migrate_one()` (`set_pmd_migration_entry()`) would make from it, `inject` applied,
/// restored with the typed restore onto the same page. Also the restored entry, whether `old`
/// was dirty and whether the restored entry takes rights away from `old`. `None` if `old` is not
/// an entry a migration entry can be made from.
fn plan<L: Level>(
    old: &RawEntry<L>,
    folio: &MappedFolio<'_>,
    vma: &VmaFacts,
    inject: Inject,
) -> Option<(Planned, Restored<L>, bool, bool)> {
    let f0 = folio.facts();
    let entry = AnyMigrationEntry::from_present(old, f0.anon_exclusive)?;
    let was_dirty = old.decoded().flags.has(PteFlags::DIRTY);
    let entry = inject.apply(entry, f0.anon);
    let (entry_val, entry_decoded) = (entry.val(), entry.decoded());
    // `try_to_migrate_one()` marks the folio dirty before it replaces a dirty PTE.
    let folio_state = FolioState {
        dirty: f0.dirty || was_dirty,
        anon: f0.anon,
    };
    let dest = folio.page();
    let restored = entry.restore(&dest, vma, folio_state);
    let loses_rights = restored.pte.takes_rights_from(&old.decoded());
    let planned = Planned {
        entry_val,
        entry: entry_decoded,
        dest_pfn: dest.pfn(),
        folio: folio_state,
        after_val: restored.pte.val(),
        after: restored.pte.decode(),
        refused: restored.refused,
    };
    Some((planned, restored, was_dirty, loses_rights))
}

/// EVALUATE of one slot: ROUNDTRIP's plan for the page, from a read-only slot.
///
/// Pages that are none, not present or special are reported.
///
/// # Errors
///
/// `EIO` if a present PTE gives no migration entry (which would be a bug in migentry).
pub(super) fn evaluate<'a, S: LeafSlot<'a>>(
    slot: &S,
    vma: &VmaFacts,
    inject: Inject,
) -> Result<Outcome> {
    let (seen, mut out, folio) = begin(slot);
    let Some(folio) = folio else {
        return Ok(out);
    };
    let (planned, ..) = plan(&seen, &folio, vma, inject).ok_or(EIO)?;
    out.planned = Some(planned);
    Ok(out)
}

/// ROUNDTRIP (or its check pass) of one slot.
///
/// Pages that are none, not present or special are reported and left alone. For the others,
/// the PTE is taken atomically from the slot, the entry `try_to_migrate_one()` would make is
/// computed from it, `inject` is applied to it and it is restored with the typed restore onto
/// the same page; [`Mode::Install`] installs the result.
///
/// # Errors
///
/// - `EOPNOTSUPP` ([`Mode::Check`], or [`Mode::Install`] without an invalidation): the page
///   would lose rights that only a TLB flush can take away; it is left as it was.
/// - `EIO` if the folio's exclusive marking (`PageAnonExclusive`) disagrees with the restore's
///   `RMAP_EXCLUSIVE` decision, which would be a bug in migentry; the page is still restored.
pub(super) fn round_trip<'a, S: TakeSlot<'a>>(
    slot: &mut S,
    vma: &VmaFacts,
    inject: Inject,
    mode: Mode,
) -> Result<Outcome> {
    let (seen, mut out, folio) = begin(slot);
    let Some(folio) = folio else {
        return Ok(out);
    };
    let install = matches!(mode, Mode::Install { .. });

    // A round trip takes the PTE atomically, so that an A/D update by the hardware between
    // reading and replacing it is not lost; the plan is made from what was taken.
    let old = if install { slot.take(&seen) } else { seen };
    let Some((planned, restored, was_dirty, loses_rights)) = plan(&old, &folio, vma, inject) else {
        // Under the page-table lock a present PTE stays present; should that ever not hold,
        // the entry is put back as it was rather than lost.
        if install {
            slot.put_back(&old)?;
        }
        return Err(EIO);
    };

    match mode {
        Mode::Check | Mode::Install { flush: false } if loses_rights => {
            kernel::pr_notice_once!(
                "ROUNDTRIP refused: it would take rights away from a PTE, and this kernel does not let modules flush a user TLB (see patches/hooked)\n"
            );
            if install {
                slot.put_back(&old)?;
            }
            return Err(EOPNOTSUPP);
        }
        Mode::Check => {}
        Mode::Install { .. } => {
            if was_dirty {
                folio.mark_dirty();
            }
            slot.install(&restored.pte)?;
            // The round trip leaves rmap alone: the mapping's exclusive marking must be what the
            // restore decided. (Refcount and mapcount are not compared: other processes sharing
            // the folio change them without any lock this ioctl holds.)
            let f0 = folio.facts();
            if f0.anon && restored.exclusive != f0.anon_exclusive {
                // Once: any holder of the device could otherwise flood the console.
                kernel::pr_err_once!(
                    "roundtrip at {:#x}: restore says exclusive={} but PageAnonExclusive={}\n",
                    slot.addr(),
                    restored.exclusive,
                    f0.anon_exclusive
                );
                return Err(EIO);
            }
        }
    }
    out.planned = Some(planned);
    Ok(out)
}

/// `MIGENTRY_NOGRANT_*` of a refusal.
fn nogrant(r: Option<NoGrant>) -> u32 {
    match r {
        None => uapi::MIGENTRY_NOGRANT_NONE,
        Some(NoGrant::VmaNotWritable) => uapi::MIGENTRY_NOGRANT_VMA_NOT_WRITABLE,
        Some(NoGrant::Uffd) => uapi::MIGENTRY_NOGRANT_UFFD,
        Some(NoGrant::SoftDirtyPending) => uapi::MIGENTRY_NOGRANT_SOFT_DIRTY,
    }
}

/// The record of page `k` of an outcome, with every C reference's result beside the typed one.
/// Runs outside the page-table lock.
///
/// A page of a PMD-mapped THP gets the PMD's states, each with `MIGENTRY_PTE_PMD` and the page's
/// own PFN (the PMD's plus the page's index in the THP); its C reference is 7.3's
/// `remove_migration_pmd()` (`after[UPSTREAM]`), the only one written for PMDs: `after[PRE_6_2]`
/// and `after[PETERX_V3]` are left zero (`MIGENTRY_LEAF_NONE`).
pub(super) fn record(o: &Outcome, k: usize, vma: &VmaFacts, admin: bool) -> uapi::Record {
    // CAST: at most 511.
    let (offset, pmd_flag) = match o.pmd {
        Some((index, _)) => ((index + k) as u64, uapi::MIGENTRY_PTE_PMD),
        None => (0, 0),
    };
    let state = |val: u64, mut d: Decoded| {
        if d.pfn != 0 {
            d.pfn += offset;
        }
        let mut st = pte_state(val, d, admin);
        st.flags |= pmd_flag;
        st
    };
    let mut rec = uapi::Record {
        // CAST: user addresses fit in `u64`.
        addr: (o.addr + k * PAGE_SIZE) as u64,
        status: o.status,
        before: state(o.before_val, o.before),
        ..Default::default()
    };
    let Some(p) = &o.planned else {
        return rec;
    };
    rec.entry = state(p.entry_val, p.entry);
    rec.refused = nogrant(p.refused);
    rec.after[uapi::MIGENTRY_POLICY_TYPED as usize] = state(p.after_val, p.after);
    if o.pmd.is_some() {
        let r = reference::restore_pmd(p.entry_val, p.dest_pfn, vma, p.folio);
        rec.after[uapi::MIGENTRY_POLICY_UPSTREAM as usize] = state(r.val, r.decoded);
        return rec;
    }
    for policy in Policy::ALL {
        let r = reference::restore(policy, p.entry_val, p.dest_pfn, vma, p.folio);
        let slot = match policy {
            Policy::Upstream => uapi::MIGENTRY_POLICY_UPSTREAM,
            Policy::Pre62 => uapi::MIGENTRY_POLICY_PRE_6_2,
            Policy::PeterxV3 => uapi::MIGENTRY_POLICY_PETERX_V3,
        };
        rec.after[slot as usize] = state(r.val, r.decoded);
    }
    rec
}
