/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C reference restores: what Linux 7.3, v6.1 and v6.1 with Peter Xu's
 * unmerged v3 fix install in place of a migration entry. They are oracles for
 * the differential test and the device's records; the module's real path
 * never uses them. Pure functions of their arguments.
 */
#ifndef MIGENTRY_REF_H
#define MIGENTRY_REF_H

#include <linux/types.h>

#define MIGENTRY_REF_UPSTREAM	1	/* Linux 7.3 remove_migration_pte() */
#define MIGENTRY_REF_PRE_6_2	2	/* v6.1: no write-notify for uffd-wp */
#define MIGENTRY_REF_PETERX_V3	3	/* v6.1 + Peter Xu's v3 */

/* The VMA as the references see it. */
struct migentry_ref_vma {
	u64 page_prot;		/* pgprot_val(vma->vm_page_prot) */
	bool write;		/* VM_WRITE */
	bool shared;		/* VM_SHARED */
	bool softdirty;		/* VM_SOFTDIRTY (set = not tracking) */
	bool uffd_wp;		/* VM_UFFD_WP */
	bool uffd_rwp;		/* VM_UFFD_RWP */
	bool shadow_stack;	/* VM_SHADOW_STACK */
};

/*
 * The PTE that policy installs for the migration entry swp_pte, mapping
 * new_pfn (the destination page). mig_ad: migration_entry_supports_ad().
 */
u64 migentry_ref_restore(u32 policy, u64 swp_pte, u64 new_pfn,
			 const struct migentry_ref_vma *vma, bool folio_dirty, bool mig_ad);

/* Whether the mapping is added with RMAP_EXCLUSIVE (the same in every policy). */
bool migentry_ref_exclusive(u64 swp_pte, bool folio_anon);

/*
 * The PMD Linux 7.3's remove_migration_pmd() installs for the PMD migration
 * entry swp_pmd, mapping the THP whose head page is new_pfn, and whether it is
 * added with RMAP_EXCLUSIVE.
 */
u64 migentry_ref_restore_pmd(u64 swp_pmd, u64 new_pfn, const struct migentry_ref_vma *vma,
			     bool folio_dirty, bool mig_ad);
bool migentry_ref_exclusive_pmd(u64 swp_pmd, bool folio_anon);

/* One input of the restore-cost benchmark (rust/restore/bench.rs). */
struct migentry_ref_bench_case {
	u64 swp_pte;			/* the migration entry */
	struct migentry_ref_vma vma;
	bool folio_dirty;		/* folio_test_dirty() */
	bool folio_anon;		/* folio_test_anon() */
};

/*
 * The restore-cost benchmark's C side: reps passes over cases[0..n), each
 * computing 7.3's PTE (migentry_ref_restore() with MIGENTRY_REF_UPSTREAM) and
 * RMAP_EXCLUSIVE for new_pfn, all inlined into one loop. Returns the checksum
 * of every result, folded in order by migentry_ref_bench_mix(), so that no
 * restore can be left out.
 */
u64 migentry_ref_bench(const struct migentry_ref_bench_case *cases, u32 n, u32 reps,
		       u64 new_pfn, bool mig_ad);

/* The benchmark's checksum: acc folded with one restore's PTE and RMAP_EXCLUSIVE. */
static inline u64 migentry_ref_bench_mix(u64 acc, u64 pte, bool exclusive)
{
	return ((acc ^ pte) * 0x100000001b3ULL) ^ exclusive;
}

#define MIGENTRY_REF_BENCH_SEED	0xcbf29ce484222325ULL

#ifndef CONFIG_ARCH_HAS_CC_PLATFORM
/*
 * The oracle of the shim's migentry_pte_mkprotnone() (pmd: of
 * migentry_pmd_mkprotnone()): compares it with the kernel's
 * pte_modify(pte, PAGE_NONE) (pmd_modify(pmd, PAGE_NONE)) on every
 * combination of the entry bits either one reads, for a zero, an ordinary
 * and an all-ones PFN field (so that the L1TF PFN inversion is checked both
 * ways). Returns the number of values compared; *mismatches counts those that
 * differ, *first_bad is the first of them.
 * Only where pte_modify() links: without CONFIG_ARCH_HAS_CC_PLATFORM.
 */
u64 migentry_ref_check_protnone(bool pmd, u64 *mismatches, u64 *first_bad);
#endif

#endif /* MIGENTRY_REF_H */
