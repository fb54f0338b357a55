// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `migentry_restore`: the typed restore against the C references, exhaustively.

use kernel::prelude::*;

#[kunit_tests(migentry_restore)]
mod tests {
    use kernel::prelude::*;

    use crate::{
        ffi,
        pte::{
            LeafKind,
            PteFlags,
            RawPte, //
        },
        reference,
        restore::{
            FolioFacts,
            NoGrant,
            Restore,
            RestoredPte, //
        },
        softleaf::{
            AnyMigrationEntry,
            EntryBits,
            MigrationEntry,
            SoftLeaf, //
        },
        uapi::Policy,
        vma::{
            VmaFacts,
            VmaFlags, //
        },
    };

    /// Any PFN will do: nothing is installed.
    const PFN: u64 = 0x1_2345;

    /// The documented divergences of `rust/restore.rs`, numbered as there.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Divergence {
        ReadEntryRwProt = 0,
        WriteEntryVmaNotWritable = 1,
        WriteEntrySoftDirtyPending = 2,
        WriteEntryUffd = 3,
    }

    /// Which divergence the documentation predicts for these inputs, computed from the prose,
    /// not from the restore code.
    fn predicted(kind: LeafKind, bits: EntryBits, vma: &VmaFacts) -> Option<Divergence> {
        if kind == LeafKind::MigrationWrite {
            if bits.uffd {
                Some(Divergence::WriteEntryUffd)
            } else if !vma.flags().write {
                Some(Divergence::WriteEntryVmaNotWritable)
            } else if vma.soft_dirty_tracking() && !bits.soft_dirty {
                Some(Divergence::WriteEntrySoftDirtyPending)
            } else {
                None
            }
        } else if vma.page_prot_writable() && !bits.uffd {
            Some(Divergence::ReadEntryRwProt)
        } else {
            None
        }
    }

    fn entry(kind: LeafKind, bits: EntryBits) -> AnyMigrationEntry {
        match kind {
            LeafKind::MigrationWrite => AnyMigrationEntry::Write(MigrationEntry::new(PFN, bits)),
            LeafKind::MigrationReadExclusive => {
                AnyMigrationEntry::ReadExclusive(MigrationEntry::new(PFN, bits))
            }
            _ => AnyMigrationEntry::Read(MigrationEntry::new(PFN, bits)),
        }
    }

    fn flags(val: u64) -> PteFlags {
        RawPte::from_val(val).decode().flags
    }

    const KINDS: [LeafKind; 3] = [
        LeafKind::MigrationRead,
        LeafKind::MigrationReadExclusive,
        LeafKind::MigrationWrite,
    ];

    /// Every entry kind × young × dirty × folio-dirty × swap soft-dirty × swap uffd × anon/file ×
    /// VMA (private/shared, VM_WRITE, soft-dirty tracking, uffd-wp, RWP) × `vm_page_prot` with
    /// and without `_PAGE_RW`.
    #[test]
    fn differential_matrix() {
        let mut cases = 0u32;
        let mut divergences = 0u32;
        let mut unexpected = 0u32;
        let mut per_class = [0u32; 4];
        let mut pre62_write_uffd = 0u32;
        let mut v3_read_writable = 0u32;
        let mut upstream_write_uffd = 0u32;

        for kind in KINDS {
            for eb in 0..32u32 {
                let bits = EntryBits {
                    young: eb & 1 != 0,
                    dirty: eb & 2 != 0,
                    soft_dirty: eb & 4 != 0,
                    uffd: eb & 8 != 0,
                };
                let folio_dirty = eb & 16 != 0;
                for anon in [false, true] {
                    let folio = FolioFacts {
                        dirty: folio_dirty,
                        anon,
                    };
                    for vb in 0..32u32 {
                        let vflags = VmaFlags {
                            shared: vb & 1 != 0,
                            write: vb & 2 != 0,
                            softdirty: vb & 4 == 0,
                            uffd_wp: vb & 8 != 0,
                            uffd_rwp: vb & 16 != 0,
                            shadow_stack: false,
                        };
                        for prot_rw in [false, true] {
                            let prot = if prot_rw {
                                ffi::migentry_prot_shared()
                            } else {
                                ffi::migentry_prot_private()
                            };
                            let vma = VmaFacts::new(vflags, prot);
                            let e = entry(kind, bits);
                            let raw = e.val();
                            cases += 1;

                            let c = reference::restore(Policy::Upstream, raw, &vma, folio);
                            let typed = e.restore(&vma, folio);
                            let t = typed.pte.val();
                            let tf = flags(t);
                            let cf = flags(c.val);

                            // Invariants of every typed result.
                            assert!(tf.has(PteFlags::PRESENT));
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
                                folio.dirty && bits.dirty && ffi::migentry_migration_ad()
                            );
                            let writable = matches!(typed.pte, RestoredPte::Writable(_));
                            assert_eq!(writable, tf.has(PteFlags::WRITE));
                            assert_eq!(typed.exclusive, c.exclusive);

                            match predicted(kind, bits, &vma) {
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
                                        assert_eq!(t, ffi::migentry_pte_wrprotect(c.val));
                                    }
                                }
                            }

                            // The references themselves tell the history.
                            let uf = cf.has(PteFlags::WRITE) && cf.has(PteFlags::UFFD);
                            upstream_write_uffd += u32::from(uf);
                            let p = reference::restore(Policy::Pre62, raw, &vma, folio);
                            let pf = flags(p.val);
                            if pf.has(PteFlags::WRITE) && pf.has(PteFlags::UFFD) {
                                pre62_write_uffd += 1;
                            }
                            let v = reference::restore(Policy::PeterxV3, raw, &vma, folio);
                            if kind != LeafKind::MigrationWrite && flags(v.val).has(PteFlags::WRITE)
                            {
                                v3_read_writable += 1;
                            }
                        }
                    }
                }
            }
        }

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
        assert_eq!(cases, 3 * 32 * 2 * 32 * 2);
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

    /// `try_to_migrate_one()`'s choice of entry kind, and the bits it carries over.
    #[test]
    fn entry_from_present() {
        let prot = ffi::migentry_prot_private();
        let ro = ffi::migentry_pte_mkdirty(ffi::migentry_pfn_pte(PFN, prot));
        let ro = ffi::migentry_pte_mksoft_dirty(ro);
        let rw = ffi::migentry_pte_mkwrite(ro, false);
        let uffd = ffi::migentry_pte_mkuffd(ro);

        let e = AnyMigrationEntry::from_present(RawPte::from_val(rw), false);
        assert!(matches!(e, Some(AnyMigrationEntry::Write(_))));
        let e = AnyMigrationEntry::from_present(RawPte::from_val(ro), true);
        assert!(matches!(e, Some(AnyMigrationEntry::ReadExclusive(_))));
        let e = AnyMigrationEntry::from_present(RawPte::from_val(ro), false);
        let Some(AnyMigrationEntry::Read(r)) = e else {
            panic!("read-only, not exclusive: want Read");
        };
        let bits = r.bits();
        assert_eq!(r.pfn(), PFN);
        assert!(bits.soft_dirty);
        assert!(!bits.uffd);
        assert_eq!(bits.young, ffi::migentry_migration_ad());
        assert_eq!(bits.dirty, ffi::migentry_migration_ad());
        let e = AnyMigrationEntry::from_present(RawPte::from_val(uffd), false);
        assert!(matches!(&e, Some(AnyMigrationEntry::Read(r)) if r.bits().uffd));

        // Not present: no entry; a migration entry's value round-trips through from_raw().
        assert!(AnyMigrationEntry::from_present(RawPte::from_val(0), false).is_none());
        let w = AnyMigrationEntry::from_present(RawPte::from_val(rw), false);
        let w = w.map(|w| w.val()).unwrap_or(0);
        let back = AnyMigrationEntry::from_raw(RawPte::from_val(w));
        assert_eq!(back.map(|b| b.kind()), Some(LeafKind::MigrationWrite));

        // Classification of non-present entries.
        assert_eq!(SoftLeaf::from_raw(RawPte::from_val(rw)), None);
        assert_eq!(
            SoftLeaf::from_raw(RawPte::from_val(0)),
            Some(SoftLeaf::None)
        );
        assert!(matches!(
            SoftLeaf::from_raw(RawPte::from_val(w)),
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
        let w = || AnyMigrationEntry::Write(MigrationEntry::new(PFN, bits));

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
        let vma = VmaFacts::new(
            VmaFlags {
                write: true,
                ..Default::default()
            },
            ffi::migentry_prot_private(),
        );
        let folio = FolioFacts {
            dirty: true,
            anon: true,
        };
        let c = reference::restore(Policy::Upstream, cw.val(), &vma, folio);
        assert!(flags(c.val).has(PteFlags::WRITE));
        assert!(!flags(c.val).has(PteFlags::SOFT_DIRTY));
        let r = cw.restore(&vma, folio);
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
        let prot = ffi::migentry_prot_private();
        let bits = EntryBits::default();
        let restore = |b: EntryBits, f: VmaFlags| {
            AnyMigrationEntry::Write(MigrationEntry::new(PFN, b))
                .restore(&VmaFacts::new(f, prot), folio)
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
}
