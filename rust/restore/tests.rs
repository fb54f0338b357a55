// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `migentry_restore`: the typed restore against the C references, exhaustively.
//!
//! Entries, VMAs and destination pages that no page table holds come from `mm::testing`, which
//! only works inside a KUnit test.

use kernel::prelude::*;

#[kunit_tests(migentry_restore)]
mod suite {
    use kernel::prelude::*;

    use crate::{
        mm::{
            self,
            testing::{
                self,
                PresentBits, //
            },
            AnyMigrationEntry,
            AnyPmdMigrationEntry,
            DestPage,
            EntryBits,
            EntryKind as LeafKind,
            NoGrant,
            PageProt,
            PteFlags,
            RestoredPmd,
            RestoredPte,
            SoftLeaf,
            VmaFacts,
            VmaFlags, //
        },
        reference::{
            self,
            Policy, //
        },
        restore::{
            divergence,
            pmd::{pmd_divergence, PmdDivergence},
            Divergence,
            FolioState as FolioFacts,
            Restore, //
        },
    };

    /// The entry's (source) page. Any PFN will do: nothing is installed.
    const PFN: u64 = 0x1_2345;
    /// The destination page: another page than the entry's, as in a real migration.
    const DEST: u64 = 0x5_4321;

    fn dest() -> DestPage<'static> {
        testing::dest_page(DEST).expect("mm::testing works inside KUnit")
    }

    fn vma_of(f: VmaFlags, prot: PageProt) -> VmaFacts {
        testing::vma(f, prot).expect("mm::testing works inside KUnit")
    }

    fn entry(kind: LeafKind, bits: EntryBits) -> AnyMigrationEntry {
        testing::migration_entry(kind, PFN, bits).expect("mm::testing works inside KUnit")
    }

    /// The head page of the THP a PMD migration entry refers to (2 MiB aligned, as a PMD's PFN
    /// must be).
    const PMD_PFN: u64 = 0x1_2200;
    /// The destination THP's head page.
    const PMD_DEST: u64 = 0x5_4200;

    fn pmd_dest() -> DestPage<'static> {
        testing::dest_page(PMD_DEST).expect("mm::testing works inside KUnit")
    }

    fn pmd_entry(kind: LeafKind, bits: EntryBits) -> AnyPmdMigrationEntry {
        testing::pmd_migration_entry(kind, PMD_PFN, bits).expect("mm::testing works inside KUnit")
    }

    fn pmd_flags(val: u64) -> PteFlags {
        mm::decode_pmd(val).flags
    }

    /// The VMA of case `vb` of the matrices (bit 2 set: `VM_SOFTDIRTY` clear, tracking).
    fn matrix_vma(vb: u32, prot_rw: bool) -> VmaFacts {
        vma_of(
            VmaFlags {
                shared: vb & 1 != 0,
                write: vb & 2 != 0,
                softdirty: vb & 4 == 0,
                uffd_wp: vb & 8 != 0,
                uffd_rwp: vb & 16 != 0,
                shadow_stack: false,
            },
            PageProt::of(prot_rw),
        )
    }

    /// The entry bits and folio dirtiness of case `eb` of the matrices.
    fn matrix_bits(eb: u32) -> (EntryBits, bool) {
        let bits = EntryBits {
            young: eb & 1 != 0,
            dirty: eb & 2 != 0,
            soft_dirty: eb & 4 != 0,
            uffd: eb & 8 != 0,
        };
        (bits, eb & 16 != 0)
    }

    fn flags(val: u64) -> PteFlags {
        mm::decode(val).flags
    }

    const KINDS: [LeafKind; 3] = [
        LeafKind::MigrationRead,
        LeafKind::MigrationReadExclusive,
        LeafKind::MigrationWrite,
    ];

    /// Calls `f` once for every case of the differential matrices: every entry kind × young ×
    /// dirty × folio-dirty × swap soft-dirty × swap uffd × anon/file × VMA (private/shared,
    /// VM_WRITE, soft-dirty tracking, uffd-wp, RWP) × `vm_page_prot` with and without `_PAGE_RW`.
    /// Returns how many cases there were.
    fn for_each_case(mut f: impl FnMut(LeafKind, EntryBits, FolioFacts, &VmaFacts)) -> u32 {
        let mut cases = 0u32;
        for kind in KINDS {
            for eb in 0..32u32 {
                let (bits, folio_dirty) = matrix_bits(eb);
                for anon in [false, true] {
                    let folio = FolioFacts {
                        dirty: folio_dirty,
                        anon,
                    };
                    for vb in 0..32u32 {
                        for prot_rw in [false, true] {
                            f(kind, bits, folio, &matrix_vma(vb, prot_rw));
                            cases += 1;
                        }
                    }
                }
            }
        }
        cases
    }

    /// The number of cases `for_each_case()` visits.
    const MATRIX_CASES: u32 = 3 * 32 * 2 * 32 * 2;

    /// The typed PTE restore against the C reference of 7.3's `remove_migration_pte()`, over
    /// every case of `for_each_case()`.
    #[test]
    fn differential_matrix() {
        let mut divergences = 0u32;
        let mut unexpected = 0u32;
        let mut per_class = [0u32; 4];
        let mut pre62_write_uffd = 0u32;
        let mut v3_read_writable = 0u32;
        let mut upstream_write_uffd = 0u32;

        let cases = for_each_case(|kind, bits, folio, vma| {
            let e = entry(kind, bits);
            let raw = e.val();

            let c = reference::restore(Policy::Upstream, raw, DEST, vma, folio);
            let typed = e.restore(&dest(), vma, folio);
            let t = typed.pte.val();
            let tf = flags(t);
            let cf = flags(c.val);

            // Invariants of every typed result: it maps the destination page,
            // not the entry's.
            assert!(tf.has(PteFlags::PRESENT));
            assert_eq!(mm::decode(t).pfn, DEST);
            assert_eq!(mm::decode(raw).pfn, PFN);
            assert!(!(tf.has(PteFlags::WRITE) && tf.has(PteFlags::UFFD)));
            if kind != LeafKind::MigrationWrite {
                assert!(!tf.has(PteFlags::WRITE));
            }
            if vma.soft_dirty_tracking() && !bits.soft_dirty {
                assert!(!tf.has(PteFlags::WRITE));
            }
            if bits.uffd {
                assert!(tf.has(PteFlags::UFFD));
            }
            // Soft-dirty exactly as the entry says (7.3's exact soft-dirty
            // rule), whatever mkdirty() did before.
            assert_eq!(tf.has(PteFlags::SOFT_DIRTY), bits.soft_dirty);
            // Dirty only when both the folio and the entry are.
            assert_eq!(
                tf.has(PteFlags::DIRTY),
                folio.dirty && bits.dirty && mm::migration_ad()
            );
            let writable = matches!(typed.pte, RestoredPte::Writable(_));
            assert_eq!(writable, tf.has(PteFlags::WRITE));
            assert_eq!(typed.exclusive, c.exclusive);

            match divergence(kind, bits, vma) {
                None => {
                    if t != c.val {
                        unexpected += 1;
                        pr_err!(
                            "differential: {:?} bits {:?} folio {:?} vma {:?}: typed {:#x} C {:#x}\n",
                            kind, bits, folio, vma, t, c.val
                        );
                    }
                }
                Some(d) => {
                    divergences += 1;
                    per_class[d as usize] += 1;
                    assert!(t != c.val);
                    assert!(!tf.has(PteFlags::WRITE));
                    if d == Divergence::WriteEntryUffd {
                        assert!(!cf.has(PteFlags::UFFD));
                    } else {
                        assert!(cf.has(PteFlags::WRITE));
                        assert_eq!(t, testing::wrprotect(c.val));
                    }
                }
            }

            // The references themselves tell the history.
            let uf = cf.has(PteFlags::WRITE) && cf.has(PteFlags::UFFD);
            upstream_write_uffd += u32::from(uf);
            let p = reference::restore(Policy::Pre62, raw, DEST, vma, folio);
            let pf = flags(p.val);
            if pf.has(PteFlags::WRITE) && pf.has(PteFlags::UFFD) {
                pre62_write_uffd += 1;
            }
            let v = reference::restore(Policy::PeterxV3, raw, DEST, vma, folio);
            if kind != LeafKind::MigrationWrite && flags(v.val).has(PteFlags::WRITE) {
                v3_read_writable += 1;
            }
        });

        pr_info!(
            "# migentry differential: {} cases, {} documented divergences, {} unexpected\n",
            cases,
            divergences,
            unexpected
        );
        pr_info!(
            "# migentry differential: per divergence {:?}; pre-6.2 write+uffd {}, v3 read->write {}\n",
            per_class,
            pre62_write_uffd,
            v3_read_writable
        );
        assert_eq!(cases, MATRIX_CASES);
        assert_eq!(unexpected, 0);
        for n in per_class {
            assert!(n > 0);
        }
        // 7.3 never builds write ∧ uffd; v6.1 did (Ives van Hoorne's report); Peter's v3 never
        // restored a read-only entry writable.
        assert_eq!(upstream_write_uffd, 0);
        assert!(pre62_write_uffd > 0);
        assert_eq!(v3_read_writable, 0);
    }

    /// The same matrix for PMD migration entries (a THP mapped by one PMD), against the C
    /// reference of 7.3's `remove_migration_pmd()`: the results differ in exactly the cases the
    /// list in `rust/restore/pmd.rs` documents, as `pmd_divergence()` predicts them.
    #[test]
    fn pmd_differential_matrix() {
        let mut divergences = 0u32;
        let mut unexpected = 0u32;
        let mut per_class = [0u32; 3];
        let mut c_write_uffd = 0u32;
        let mut c_writable_not_soft_dirty = 0u32;

        let cases = for_each_case(|kind, bits, folio, vma| {
            let e = pmd_entry(kind, bits);
            // What the entry holds: young and dirty only where migration
            // entries keep A/D.
            let held = e.bits();
            let raw = e.val();

            let c = reference::restore_pmd(raw, PMD_DEST, vma, folio);
            let typed = e.restore(&pmd_dest(), vma, folio);
            let t = typed.pte.val();
            let tf = pmd_flags(t);
            let cf = pmd_flags(c.val);
            assert_eq!(c.decoded.flags, cf);

            // The entry decodes as what it was made from.
            let raw_d = mm::decode_pmd(raw);
            assert_eq!((raw_d.kind, raw_d.pfn), (kind, PMD_PFN));
            assert_eq!(held.soft_dirty, bits.soft_dirty);
            assert_eq!(held.uffd, bits.uffd);
            assert_eq!(held.dirty, bits.dirty && mm::migration_ad());

            // Invariants of every typed result: a present PMD mapping the
            // destination THP, never write with uffd, never write from a Read
            // entry, never write while a soft-dirty fault is pending.
            assert!(tf.has(PteFlags::PRESENT));
            assert_eq!(mm::decode_pmd(t).pfn, PMD_DEST);
            assert!(!(tf.has(PteFlags::WRITE) && tf.has(PteFlags::UFFD)));
            if kind != LeafKind::MigrationWrite {
                assert!(!tf.has(PteFlags::WRITE));
            }
            if vma.soft_dirty_tracking() && !tf.has(PteFlags::SOFT_DIRTY) {
                assert!(!tf.has(PteFlags::WRITE));
            }
            assert_eq!(tf.has(PteFlags::UFFD), bits.uffd);
            assert_eq!(
                tf.has(PteFlags::PROTNONE),
                bits.uffd && vma.flags().uffd_rwp
            );
            // 7.3's PMD rules: soft-dirty only ever set (by the entry's bit, or
            // by pmd_mkdirty()), dirty when folio and entry are, young as the
            // entry says even under PAGE_NONE.
            let mkdirty = folio.dirty && held.dirty;
            assert_eq!(tf.has(PteFlags::SOFT_DIRTY), bits.soft_dirty || mkdirty);
            assert_eq!(tf.has(PteFlags::DIRTY), mkdirty);
            assert_eq!(tf.has(PteFlags::YOUNG), held.young);
            let writable = matches!(typed.pte, RestoredPmd::Writable(_));
            assert_eq!(writable, tf.has(PteFlags::WRITE));
            assert_eq!(typed.exclusive, c.exclusive);

            match pmd_divergence(kind, held, folio, vma) {
                None => {
                    if t != c.val {
                        unexpected += 1;
                        pr_err!(
                            "pmd differential: {:?} bits {:?} folio {:?} vma {:?}: typed {:#x} C {:#x}\n",
                            kind, bits, folio, vma, t, c.val
                        );
                    }
                }
                Some(d) => {
                    divergences += 1;
                    per_class[d as usize] += 1;
                    assert!(t != c.val);
                    assert!(!tf.has(PteFlags::WRITE));
                    assert!(cf.has(PteFlags::WRITE));
                    assert_eq!(t, testing::pmd_wrprotect(c.val));
                    if d == PmdDivergence::WriteEntrySoftDirtyPending {
                        assert!(!cf.has(PteFlags::SOFT_DIRTY));
                    }
                }
            }

            // What 7.3's PMD does: never write with uffd (the unconditional
            // pmd_mkuffd()), but a Write entry in a writable VMA that tracks
            // soft-dirty comes back writable without soft-dirty.
            if cf.has(PteFlags::WRITE) && cf.has(PteFlags::UFFD) {
                c_write_uffd += 1;
            }
            if kind == LeafKind::MigrationWrite
                && vma.flags().write
                && vma.soft_dirty_tracking()
                && cf.has(PteFlags::WRITE)
                && !cf.has(PteFlags::SOFT_DIRTY)
            {
                c_writable_not_soft_dirty += 1;
            }
        });

        pr_info!(
            "# migentry pmd differential: {} cases, {} documented divergences, {} unexpected\n",
            cases,
            divergences,
            unexpected
        );
        pr_info!(
            "# migentry pmd differential: per divergence {:?}; C write+uffd {}, C writable without soft-dirty under tracking {}\n",
            per_class,
            c_write_uffd,
            c_writable_not_soft_dirty
        );
        assert_eq!(cases, MATRIX_CASES);
        assert_eq!(unexpected, 0);
        for n in per_class {
            assert!(n > 0);
        }
        assert_eq!(c_write_uffd, 0);
        assert_eq!(
            c_writable_not_soft_dirty,
            per_class[PmdDivergence::WriteEntrySoftDirtyPending as usize]
        );
    }

    /// The grant rule at the PMD level: the soft-dirty condition looks at the PMD as installed,
    /// which `pmd_mkdirty()` may have made soft-dirty; a PMD grant makes a PMD writable.
    #[test]
    fn pmd_grant_rules() {
        let rw = VmaFlags {
            write: true,
            softdirty: false,
            ..Default::default()
        };
        let vma = vma_of(rw, PageProt::of(false));
        let clean = EntryBits {
            young: true,
            ..Default::default()
        };
        let restore = |b: EntryBits, folio: FolioFacts| {
            pmd_entry(LeafKind::MigrationWrite, b).restore(&pmd_dest(), &vma, folio)
        };

        // clear_refs ran during the migration (soft-dirty clear), the THP is clean: refused.
        let r = restore(clean, FolioFacts::default());
        assert_eq!(r.refused, Some(NoGrant::SoftDirtyPending));
        assert!(matches!(r.pte, RestoredPmd::WriteProtected(_)));
        let c = reference::restore_pmd(
            pmd_entry(LeafKind::MigrationWrite, clean).val(),
            PMD_DEST,
            &vma,
            FolioFacts::default(),
        );
        assert!(pmd_flags(c.val).has(PteFlags::WRITE));
        assert!(!pmd_flags(c.val).has(PteFlags::SOFT_DIRTY));

        // The same with a dirty THP and a dirty entry: pmd_mkdirty() sets soft-dirty where
        // migration entries keep A/D, and then the write is recorded anyway.
        let dirty = EntryBits {
            dirty: true,
            ..clean
        };
        let folio = FolioFacts {
            dirty: true,
            anon: true,
        };
        let r = restore(dirty, folio);
        let f = pmd_flags(r.pte.val());
        if mm::migration_ad() {
            assert_eq!(r.refused, None);
            assert!(f.has(PteFlags::WRITE | PteFlags::DIRTY | PteFlags::SOFT_DIRTY));
        } else {
            assert_eq!(r.refused, Some(NoGrant::SoftDirtyPending));
            assert!(!f.has(PteFlags::WRITE));
        }
        assert!(r.exclusive);

        // The uffd bit: write-protected with the bit, as 7.3's unconditional pmd_mkuffd().
        let r = restore(
            EntryBits {
                uffd: true,
                soft_dirty: true,
                ..clean
            },
            folio,
        );
        assert_eq!(r.refused, Some(NoGrant::Uffd));
        assert!(matches!(r.pte, RestoredPmd::Uffd(_)));
    }

    /// `try_to_migrate_one()`'s choice of entry kind, and the bits it carries over.
    #[test]
    fn entry_from_present() {
        let present = |b| testing::present_pte(PFN, b).expect("mm::testing works inside KUnit");
        let ro_bits = PresentBits {
            dirty: true,
            soft_dirty: true,
            ..Default::default()
        };
        let rw = present(PresentBits {
            write: true,
            ..ro_bits
        });
        let ro = present(ro_bits);
        let uffd = present(PresentBits {
            uffd: true,
            ..ro_bits
        });

        let e = AnyMigrationEntry::from_present(&rw, false);
        assert!(matches!(e, Some(AnyMigrationEntry::Write(_))));
        let e = AnyMigrationEntry::from_present(&ro, true);
        assert!(matches!(e, Some(AnyMigrationEntry::ReadExclusive(_))));
        let e = AnyMigrationEntry::from_present(&ro, false);
        let Some(AnyMigrationEntry::Read(r)) = e else {
            panic!("read-only, not exclusive: want Read");
        };
        let bits = r.bits();
        assert_eq!(r.pfn(), PFN);
        assert!(bits.soft_dirty);
        assert!(!bits.uffd);
        assert_eq!(bits.young, mm::migration_ad());
        assert_eq!(bits.dirty, mm::migration_ad());
        let e = AnyMigrationEntry::from_present(&uffd, false);
        assert!(matches!(&e, Some(AnyMigrationEntry::Read(r)) if r.bits().uffd));

        // What the entry says about itself is what the kernel's decoder says about its value,
        // and the value decodes back to the same kind.
        let Some(w) = AnyMigrationEntry::from_present(&rw, false) else {
            panic!("writable: want an entry");
        };
        assert_eq!(w.decoded(), mm::decode(w.val()));
        let raw = testing::raw(w.val()).expect("mm::testing works inside KUnit");
        let back = AnyMigrationEntry::from_raw(&raw);
        assert_eq!(back.map(|b| b.kind()), Some(LeafKind::MigrationWrite));

        // Not present: no entry. Classification of entries.
        let none = testing::raw(0).expect("mm::testing works inside KUnit");
        assert!(AnyMigrationEntry::from_present(&none, false).is_none());
        assert_eq!(SoftLeaf::from_raw(&rw), None);
        assert_eq!(SoftLeaf::from_raw(&none), Some(SoftLeaf::None));
        assert!(matches!(
            SoftLeaf::from_raw(&raw),
            Some(SoftLeaf::Migration(AnyMigrationEntry::Write(_)))
        ));
    }

    /// mprotect()/UFFDIO_WRITEPROTECT on a Write entry in flight, and clear_refs on one.
    #[test]
    fn in_flight_operations() {
        let bits = EntryBits {
            young: true,
            dirty: true,
            soft_dirty: true,
            uffd: false,
        };
        let w = || entry(LeafKind::MigrationWrite, bits);

        let e = w().write_protect(true, false);
        assert_eq!(e.kind(), LeafKind::MigrationReadExclusive);
        let e = w().write_protect(false, true);
        assert_eq!(e.kind(), LeafKind::MigrationRead);
        let AnyMigrationEntry::Read(r) = e else {
            panic!("want Read");
        };
        assert!(r.bits().uffd);
        assert!(r.bits().soft_dirty);
        assert_eq!(r.pfn(), PFN);

        // clear_refs leaves Write as Write and clears only soft-dirty.
        let e = w().clear_soft_dirty();
        assert_eq!(e.kind(), LeafKind::MigrationWrite);
        let AnyMigrationEntry::Write(cw) = e else {
            panic!("want Write");
        };
        assert!(!cw.bits().soft_dirty);

        // Restored in a private VMA that now tracks soft-dirty: 7.3 gives it back writable with
        // soft-dirty clear; the typed restore refuses the grant.
        let vma = vma_of(
            VmaFlags {
                write: true,
                ..Default::default()
            },
            PageProt::of(false),
        );
        let folio = FolioFacts {
            dirty: true,
            anon: true,
        };
        let c = reference::restore(Policy::Upstream, cw.val(), DEST, &vma, folio);
        assert!(flags(c.val).has(PteFlags::WRITE));
        assert!(!flags(c.val).has(PteFlags::SOFT_DIRTY));
        let r = cw.restore(&dest(), &vma, folio);
        assert_eq!(r.refused, Some(NoGrant::SoftDirtyPending));
        assert!(matches!(r.pte, RestoredPte::WriteProtected(_)));
    }

    /// Each reason a Write entry gets no grant, and the one way it gets one.
    #[test]
    fn grant_rules() {
        let folio = FolioFacts::default();
        let rw = VmaFlags {
            write: true,
            softdirty: true,
            ..Default::default()
        };
        let prot = PageProt::of(false);
        let bits = EntryBits::default();
        let restore = |b: EntryBits, f: VmaFlags| {
            entry(LeafKind::MigrationWrite, b).restore(&dest(), &vma_of(f, prot), folio)
        };

        let r = restore(bits, rw);
        assert_eq!(r.refused, None);
        assert!(matches!(r.pte, RestoredPte::Writable(_)));

        let r = restore(bits, VmaFlags { write: false, ..rw });
        assert_eq!(r.refused, Some(NoGrant::VmaNotWritable));

        let r = restore(EntryBits { uffd: true, ..bits }, rw);
        assert_eq!(r.refused, Some(NoGrant::Uffd));
        assert!(matches!(r.pte, RestoredPte::Uffd(_)));

        let r = restore(
            bits,
            VmaFlags {
                softdirty: false,
                ..rw
            },
        );
        assert_eq!(r.refused, Some(NoGrant::SoftDirtyPending));
        let r = restore(
            EntryBits {
                soft_dirty: true,
                ..bits
            },
            VmaFlags {
                softdirty: false,
                ..rw
            },
        );
        assert_eq!(r.refused, None);

        // uffd RWP: the uffd PTE becomes PAGE_NONE.
        let r = restore(
            EntryBits { uffd: true, ..bits },
            VmaFlags {
                uffd_rwp: true,
                ..rw
            },
        );
        let f = flags(r.pte.val());
        assert!(f.has(PteFlags::PROTNONE | PteFlags::UFFD));
        assert!(!f.has(PteFlags::WRITE));
    }

    /// The shim's `pte_modify(pte, PAGE_NONE)`, which does not read the unexported `cc_mask`,
    /// is the kernel's on every combination of the PTE bits either reads, including the L1TF
    /// PFN inversion into and out of `PROT_NONE`. Only where the kernel's links.
    #[cfg(not(CONFIG_ARCH_HAS_CC_PLATFORM))]
    #[test]
    fn protnone_is_pte_modify() {
        let (checked, bad, first) = reference::check_protnone(false);
        pr_info!(
            "# migentry protnone: {} PTE values, {} differ from pte_modify(PAGE_NONE)\n",
            checked,
            bad
        );
        assert!(checked > 0);
        assert_eq!((bad, first), (0, 0));
    }

    /// The same for the shim's `pmd_modify(pmd, PAGE_NONE)` (`_HPAGE_CHG_MASK`, the PMD's PFN
    /// mask).
    #[cfg(not(CONFIG_ARCH_HAS_CC_PLATFORM))]
    #[test]
    fn protnone_is_pmd_modify() {
        let (checked, bad, first) = reference::check_protnone(true);
        pr_info!(
            "# migentry pmd protnone: {} PMD values, {} differ from pmd_modify(PAGE_NONE)\n",
            checked,
            bad
        );
        assert!(checked > 0);
        assert_eq!((bad, first), (0, 0));
    }
}
