// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `migentry_restore_cost`: what a typed restore costs next to 7.3's C, per entry.
//!
//! One fixed mix of migration entries (every kind, young/dirty, soft-dirty and uffd bits, clean
//! and dirty folios, anon and file, six kinds of VMA, `vm_page_prot` with and without `_PAGE_RW`)
//! is restored over and over, in rounds, by three sides in turn:
//!
//! - **typed**: [`AnyMigrationEntry::from_raw`] of the entry as read, then [`Restore::restore`]
//!   (`rust/restore.rs`), in a Rust loop;
//! - **C**: the transcription of 7.3's `remove_migration_pte()` value computation and
//!   `RMAP_EXCLUSIVE` (`rust/reference/migentry_ref.c`), everything inlined into one C loop;
//! - **decode+typed**: the typed side, but decoding each value first as the hook does when it
//!   reads a PTE slot ([`RawPte`]'s decoder).
//!
//! Every side folds every result into a checksum, which must equal the one computed before the
//! rounds from results that the differential checked entry by entry (equal to C's, or different
//! exactly where `restore.rs` documents a divergence): the compiler cannot drop a restore and a
//! side cannot compute something else. A round is a number of batches, a batch one pass over the
//! mix per side, the sides in a rotating order; a side's time in a round is its median batch's.
//! Timings are printed, never asserted: a line per round, and the mix and the summary as
//! `# migentry` lines, which `make check`'s summary repeats. The size comes from the module
//! parameters `bench_restores` and `bench_rounds`; `make check` loads the module without them
//! (one batch, one measured round), `make bench` with a real size.
//!
//! [`RawPte`]: crate::mm::RawPte

use kernel::prelude::*;

#[kunit_tests(migentry_restore_cost)]
mod suite {
    use core::hint::black_box;

    use kernel::{
        fmt,
        prelude::*,
        time::{
            Instant,
            Monotonic, //
        },
    };

    use crate::{
        mm::{
            testing::{
                self,
                RawReader, //
            },
            AnyMigrationEntry,
            DestPage,
            EntryBits,
            EntryKind,
            PageProt,
            RawPte,
            VmaFacts,
            VmaFlags, //
        },
        reference::{
            self,
            bench,
            Policy, //
        },
        restore::{
            divergence,
            FolioState,
            Restore, //
        },
    };

    /// The entries' (source) page; nothing is installed.
    const PFN: u64 = 0x1_2345;
    /// The destination page.
    const DEST: u64 = 0x5_4321;

    /// One input of the typed sides.
    struct Case {
        raw: RawPte,
        vma: VmaFacts,
        folio: FolioState,
    }

    /// The VMAs of the mix: private writable (soft-dirty not tracked, and tracked), shared
    /// writable, private read-only, uffd-wp registered, uffd RWP registered.
    fn vma_flags() -> [VmaFlags; 6] {
        let rw = VmaFlags {
            write: true,
            softdirty: true,
            ..Default::default()
        };
        [
            rw,
            VmaFlags {
                softdirty: false,
                ..rw
            },
            VmaFlags { shared: true, ..rw },
            VmaFlags { write: false, ..rw },
            VmaFlags {
                uffd_wp: true,
                ..rw
            },
            VmaFlags {
                uffd_wp: true,
                uffd_rwp: true,
                ..rw
            },
        ]
    }

    /// The typed side: one pass over `cases`, folding every result into the checksum. At the
    /// start of a page of code of its own (see `mm/testing.rs`).
    #[inline(never)]
    #[link_section = ".text.migentry_cost_typed"]
    fn typed(cases: &[Case], dest: &DestPage<'_>) -> u64 {
        let mut acc = bench::SEED;
        for c in black_box(cases) {
            if let Some(e) = AnyMigrationEntry::from_raw(&c.raw) {
                let r = e.restore(dest, &c.vma, c.folio);
                acc = bench::mix(acc, r.pte.val(), r.exclusive);
            }
        }
        acc
    }

    /// The typed side, decoding each entry value first. At the start of a page of code of its
    /// own.
    #[inline(never)]
    #[link_section = ".text.migentry_cost_decode"]
    fn decode_typed(cases: &[Case], dest: &DestPage<'_>, reader: &RawReader) -> u64 {
        let mut acc = bench::SEED;
        for c in black_box(cases) {
            let raw = reader.read(c.raw.val());
            if let Some(e) = AnyMigrationEntry::from_raw(&raw) {
                let r = e.restore(dest, &c.vma, c.folio);
                acc = bench::mix(acc, r.pte.val(), r.exclusive);
            }
        }
        acc
    }

    /// Nanoseconds `f` took, and what it returned.
    fn timed<T>(f: impl FnOnce() -> T) -> (u64, T) {
        let t0 = Instant::<Monotonic>::now();
        let v = f();
        let ns = t0.elapsed().as_nanos();
        (u64::try_from(ns).unwrap_or(0), v)
    }

    /// `num / den` rounded to thousandths (`milli`) or hundredths, for printing.
    struct Fixed {
        num: u64,
        den: u64,
        milli: bool,
    }

    impl Fixed {
        fn scale(&self) -> u64 {
            if self.milli {
                1000
            } else {
                100
            }
        }

        /// The value in units of the last decimal.
        fn scaled(&self) -> u64 {
            let den = self.den.max(1);
            self.num
                .saturating_mul(self.scale())
                .saturating_add(den / 2)
                / den
        }
    }

    impl fmt::Display for Fixed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let (v, scale) = (self.scaled(), self.scale());
            if self.milli {
                write!(f, "{}.{:03}", v / scale, v % scale)
            } else {
                write!(f, "{}.{:02}", v / scale, v % scale)
            }
        }
    }

    /// `num / den` to hundredths (ns per restore).
    fn per(num: u64, den: u64) -> Fixed {
        Fixed {
            num,
            den,
            milli: false,
        }
    }

    /// `num / den` to thousandths (ratios).
    fn ratio(num: u64, den: u64) -> Fixed {
        Fixed {
            num,
            den,
            milli: true,
        }
    }

    /// The median (the lower middle one) of `v`, which it sorts.
    fn median(v: &mut [u64]) -> u64 {
        v.sort_unstable();
        v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(0)
    }

    /// Min, median (the lower middle one) and max of ratios in thousandths.
    fn spread(v: &mut [u64]) -> (u64, u64, u64) {
        v.sort_unstable();
        match (v.first(), v.get(v.len().saturating_sub(1) / 2), v.last()) {
            (Some(a), Some(m), Some(b)) => (*a, *m, *b),
            _ => (0, 0, 0),
        }
    }

    #[test]
    fn restore_cost() -> Result {
        // Opaque to the compiler, as the C side's `new_pfn` argument is.
        let dest = testing::dest_page(black_box(DEST)).ok_or(EINVAL)?;
        let reader = RawReader::new().ok_or(EINVAL)?;
        let kinds = [
            EntryKind::MigrationRead,
            EntryKind::MigrationReadExclusive,
            EntryKind::MigrationWrite,
        ];

        // The mix, each entry checked against C once: `(typed PTE, C PTE, exclusive)`.
        let mut cases = KVVec::new();
        let mut c_cases = KVVec::new();
        let mut results = KVVec::new();
        let mut divergent = 0u32;
        for kind in kinds {
            for eb in 0..32u32 {
                let bits = EntryBits {
                    young: eb & 1 != 0,
                    dirty: eb & 2 != 0,
                    soft_dirty: eb & 4 != 0,
                    uffd: eb & 8 != 0,
                };
                for flags in vma_flags() {
                    for prot_rw in [false, true] {
                        let vma = testing::vma(flags, PageProt::of(prot_rw)).ok_or(EINVAL)?;
                        let folio = FolioState {
                            dirty: eb & 16 != 0,
                            anon: !flags.shared,
                        };
                        let e = testing::migration_entry(kind, PFN, bits).ok_or(EINVAL)?;
                        let raw = reader.read(e.val());
                        let t = e.restore(&dest, &vma, folio);
                        let c = reference::restore(Policy::Upstream, raw.val(), DEST, &vma, folio);
                        assert_eq!(t.exclusive, c.exclusive);
                        match divergence(kind, bits, &vma) {
                            None => assert_eq!(t.pte.val(), c.val),
                            Some(_) => {
                                assert_ne!(t.pte.val(), c.val);
                                divergent += 1;
                            }
                        }
                        c_cases.push(
                            bench::Case::new(raw.val(), &vma, folio.dirty, folio.anon),
                            GFP_KERNEL,
                        )?;
                        cases.push(Case { raw, vma, folio }, GFP_KERNEL)?;
                        results.push((t.pte.val(), c.val, t.exclusive), GFP_KERNEL)?;
                    }
                }
            }
        }
        let n = u64::try_from(cases.len()).map_err(|_| EINVAL)?;
        let want = u64::from(crate::module_parameters::bench_restores.value());
        let batches = usize::try_from(want.div_ceil(n).max(1)).map_err(|_| EINVAL)?;
        let rounds = crate::module_parameters::bench_rounds.value().max(1);

        // What each side's checksum of one pass must be: every result the differential checked,
        // in order.
        let (mut want_t, mut want_c) = (bench::SEED, bench::SEED);
        for (t, c, ex) in results.iter() {
            want_t = bench::mix(want_t, *t, *ex);
            want_c = bench::mix(want_c, *c, *ex);
        }

        pr_info!(
            "# migentry restore cost: mix {} entries ({} documented divergences), {} restores per side and round, {} measured rounds\n",
            n,
            divergent,
            n * batches as u64,
            rounds
        );
        let mut ratios = KVec::with_capacity(rounds as usize, GFP_KERNEL)?;
        let mut dratios = KVec::with_capacity(rounds as usize, GFP_KERNEL)?;
        let mut times = [KVec::new(), KVec::new(), KVec::new()];
        for round in 0..=rounds {
            // A round is `batches` batches of one pass over the mix per side, the sides in a
            // rotating order; a side's time for the round is its median batch's, which a few
            // batches the host preempted do not move.
            for v in times.iter_mut() {
                v.clear();
            }
            for b in 0..batches {
                for k in 0..3 {
                    let side = (b + k) % 3;
                    let (ns, ok) = match side {
                        0 => {
                            let (ns, sum) = timed(|| typed(&cases, &dest));
                            (ns, sum == want_t)
                        }
                        1 => {
                            let (ns, sum) = timed(|| bench::upstream(&c_cases, 1, DEST));
                            (ns, sum == Some(want_c))
                        }
                        _ => {
                            let (ns, sum) = timed(|| decode_typed(&cases, &dest, &reader));
                            (ns, sum == want_t)
                        }
                    };
                    if !ok {
                        pr_err!("restore cost: side {} computed another checksum\n", side);
                    }
                    assert!(ok);
                    times[side].push(ns, GFP_KERNEL)?;
                }
            }
            let [tt, tc, td] = &mut times;
            let (t, c, d) = (median(tt), median(tc).max(1), median(td));
            let what = if round == 0 { "warmup" } else { "measured" };
            pr_info!(
                "migentry restore cost: round {} {} batches {} restores {} typed_ns {} c_ns {} decode_typed_ns {}: typed {} C {} decode+typed {} ns per restore (median batch), typed/C {}\n",
                round,
                what,
                batches,
                n,
                t,
                c,
                d,
                per(t, n),
                per(c, n),
                per(d, n),
                ratio(t, c)
            );
            if round > 0 {
                ratios.push(ratio(t, c).scaled(), GFP_KERNEL)?;
                dratios.push(ratio(d, c).scaled(), GFP_KERNEL)?;
            }
        }
        let (lo, mid, hi) = spread(&mut ratios);
        let (dlo, dmid, dhi) = spread(&mut dratios);
        pr_info!(
            "# migentry restore cost: summary over {} rounds: typed/C min {} median {} max {}; decode+typed/C min {} median {} max {}\n",
            rounds,
            ratio(lo, 1000),
            ratio(mid, 1000),
            ratio(hi, 1000),
            ratio(dlo, 1000),
            ratio(dmid, 1000),
            ratio(dhi, 1000)
        );
        Ok(())
    }
}
