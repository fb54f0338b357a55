// SPDX-License-Identifier: GPL-2.0
/*
 * C reference restores; see migentry_ref.h. Each is written from the kernel
 * release it names, with the kernel's own helpers.
 */
#include <linux/leafops.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/swapops.h>

#include "migentry_ref.h"
#include "../mm/migentry_shim.h"

static bool mig_young(softleaf_t entry, bool mig_ad)
{
	return mig_ad && (swp_offset(entry) & SWP_MIG_YOUNG);
}

static bool mig_dirty(softleaf_t entry, bool mig_ad)
{
	return mig_ad && (swp_offset(entry) & SWP_MIG_DIRTY);
}

/* x86's pte_mkwrite(pte, vma) (arch/x86/mm/pgtable.c, not exported). */
static pte_t ref_mkwrite(pte_t pte, bool shadow_stack)
{
	if (shadow_stack)
		return pte_mkwrite_shstk(pte);
	return pte_clear_saveddirty(pte_mkwrite_novma(pte));
}

/*
 * pte_modify(pte, PAGE_NONE). With CONFIG_ARCH_HAS_CC_PLATFORM the kernel's
 * reads the unexported cc_mask, and a module using it does not link; the
 * shim's step-for-step copy (migentry_shim.h) stands in for it there. Every
 * other kernel uses its own, so the differential test also checks the copy.
 */
static pte_t ref_protnone(pte_t pte)
{
#ifdef CONFIG_ARCH_HAS_CC_PLATFORM
	return __pte(migentry_pte_mkprotnone(pte_val(pte)));
#else
	return pte_modify(pte, PAGE_NONE);
#endif
}

/*
 * Linux 7.3, mm/migrate.c remove_migration_pte(), the part that turns a
 * migration entry into the PTE to install, for an order-0 folio that is not
 * hugetlb, not device-private and not mapped to the shared zeropage. Always
 * inlined, as it is into remove_migration_pte(): the restore-cost benchmark
 * times it inside its loop (migentry_ref_bench()).
 */
static __always_inline pte_t ref_upstream(pte_t old_pte, u64 new_pfn,
					  const struct migentry_ref_vma *vma,
					  bool folio_dirty, bool mig_ad)
{
	softleaf_t entry = softleaf_from_pte(old_pte);
	pte_t pte;

	pte = pfn_pte(new_pfn, __pgprot(vma->page_prot));
	if (!mig_young(entry, mig_ad))
		pte = pte_mkold(pte);
	if (folio_dirty && mig_dirty(entry, mig_ad))
		pte = pte_mkdirty(pte);
	if (pte_swp_soft_dirty(old_pte))
		pte = pte_mksoft_dirty(pte);
	else
		pte = pte_clear_soft_dirty(pte);

	if (softleaf_is_migration_write(entry))
		pte = ref_mkwrite(pte, vma->shadow_stack);
	else if (pte_swp_uffd(old_pte))
		pte = pte_mkuffd(pte);

	if (pte_swp_uffd(old_pte) && IS_ENABLED(CONFIG_ARCH_HAS_PTE_PROTNONE) && vma->uffd_rwp)
		pte = ref_protnone(pte);
	return pte;
}

/* x86's pmd_mkwrite(pmd, vma) (arch/x86/mm/pgtable.c, not exported). */
static pmd_t ref_pmd_mkwrite(pmd_t pmd, bool shadow_stack)
{
	if (shadow_stack)
		return pmd_mkwrite_shstk(pmd);
	return pmd_clear_saveddirty(pmd_mkwrite_novma(pmd));
}

/* pmd_modify(pmd, PAGE_NONE), with the shim's copy where the kernel's does not link. */
static pmd_t ref_pmd_protnone(pmd_t pmd)
{
#ifdef CONFIG_ARCH_HAS_CC_PLATFORM
	return __pmd(migentry_pmd_mkprotnone(pmd_val(pmd)));
#else
	return pmd_modify(pmd, PAGE_NONE);
#endif
}

/*
 * Linux 7.3, mm/huge_memory.c remove_migration_pmd(): the PMD it installs in
 * place of a PMD migration entry, for a THP that is not device-private. The
 * order is the kernel's: soft-dirty is only ever set, pmd_mkuffd() follows
 * pmd_mkwrite() unconditionally, PAGE_NONE comes before the young and dirty
 * bits, and pmd_mkdirty() sets soft-dirty too on x86.
 */
static pmd_t ref_pmd_upstream(pmd_t old_pmd, u64 new_pfn, const struct migentry_ref_vma *vma,
			      bool folio_dirty, bool mig_ad)
{
	softleaf_t entry = softleaf_from_pmd(old_pmd);
	pmd_t pmd;

	pmd = pmd_mkhuge(pfn_pmd(new_pfn, __pgprot(vma->page_prot)));
	if (pmd_swp_soft_dirty(old_pmd))
		pmd = pmd_mksoft_dirty(pmd);
	if (softleaf_is_migration_write(entry))
		pmd = ref_pmd_mkwrite(pmd, vma->shadow_stack);
	if (pmd_swp_uffd(old_pmd))
		pmd = pmd_mkuffd(pmd);
	if (pmd_swp_uffd(old_pmd) && IS_ENABLED(CONFIG_ARCH_HAS_PTE_PROTNONE) && vma->uffd_rwp)
		pmd = ref_pmd_protnone(pmd);
	if (!mig_young(entry, mig_ad))
		pmd = pmd_mkold(pmd);
	if (folio_dirty && mig_dirty(entry, mig_ad))
		pmd = pmd_mkdirty(pmd);
	return pmd;
}

u64 migentry_ref_restore_pmd(u64 swp_pmd, u64 new_pfn, const struct migentry_ref_vma *vma,
			     bool folio_dirty, bool mig_ad)
{
	return pmd_val(ref_pmd_upstream(__pmd(swp_pmd), new_pfn, vma, folio_dirty, mig_ad));
}

bool migentry_ref_exclusive_pmd(u64 swp_pmd, bool folio_anon)
{
	return folio_anon && !softleaf_is_migration_read(softleaf_from_pmd(__pmd(swp_pmd)));
}

/*
 * vm_page_prot as v6.1 computed it: vma_wants_writenotify() did not yet list
 * userfaultfd_wp() (added by 51d3d5eb74ff for v6.2), so a shared writable
 * VMA whose only reason for write-notify is uffd-wp kept _PAGE_RW.
 */
static pgprot_t ref_v61_page_prot(const struct migentry_ref_vma *vma)
{
	bool tracking = pgtable_supports_soft_dirty() && !vma->softdirty;

	if (vma->shared && vma->write && vma->uffd_wp && !tracking)
		return __pgprot(vma->page_prot | _PAGE_RW);
	return __pgprot(vma->page_prot);
}

/*
 * v6.1 (x86), mm/migrate.c remove_migration_pte(), with the x86 helpers of
 * that release: pte_mkdirty() set D and soft-dirty with no SavedDirty,
 * pte_mkuffd_wp() set the bit without write-protecting (until f1eb1bacfba9,
 * v6.3), maybe_mkwrite() checked VM_WRITE, soft-dirty was only ever set, and
 * there was no uffd RWP. With peterx_v3 the non-Write branch write-protects
 * first, as the dropped v3 patch (Nov 2022) did.
 */
static pte_t ref_v61(pte_t old_pte, u64 new_pfn, const struct migentry_ref_vma *vma,
		     bool folio_dirty, bool mig_ad, bool peterx_v3)
{
	softleaf_t entry = softleaf_from_pte(old_pte);
	pte_t pte;

	pte = pfn_pte(new_pfn, ref_v61_page_prot(vma));
	if (pte_swp_soft_dirty(old_pte))
		pte = pte_set_flags(pte, _PAGE_SOFT_DIRTY);
	if (!mig_young(entry, mig_ad))
		pte = pte_clear_flags(pte, _PAGE_ACCESSED);
	if (folio_dirty && mig_dirty(entry, mig_ad))
		pte = pte_set_flags(pte, _PAGE_DIRTY | _PAGE_SOFT_DIRTY);

	if (softleaf_is_migration_write(entry)) {
		if (vma->write)
			pte = pte_set_flags(pte, _PAGE_RW);
	} else if (peterx_v3) {
		pte = pte_clear_flags(pte, _PAGE_RW);
	}
	if (pte_swp_uffd(old_pte) && (peterx_v3 || !softleaf_is_migration_write(entry)))
		pte = pte_set_flags(pte, _PAGE_UFFD);
	return pte;
}

u64 migentry_ref_restore(u32 policy, u64 swp_pte, u64 new_pfn,
			 const struct migentry_ref_vma *vma, bool folio_dirty, bool mig_ad)
{
	pte_t old = __pte(swp_pte);

	switch (policy) {
	case MIGENTRY_REF_PRE_6_2:
		return pte_val(ref_v61(old, new_pfn, vma, folio_dirty, mig_ad, false));
	case MIGENTRY_REF_PETERX_V3:
		return pte_val(ref_v61(old, new_pfn, vma, folio_dirty, mig_ad, true));
	default:
		return pte_val(ref_upstream(old, new_pfn, vma, folio_dirty, mig_ad));
	}
}

bool migentry_ref_exclusive(u64 swp_pte, bool folio_anon)
{
	return folio_anon && !softleaf_is_migration_read(softleaf_from_pte(__pte(swp_pte)));
}

/*
 * At the start of a page of code, as the Rust loops are (rust/mm/testing.rs):
 * under QEMU's TCG a jump between two pages of code costs a lookup.
 */
__aligned(PAGE_SIZE) u64 migentry_ref_bench(const struct migentry_ref_bench_case *cases, u32 n,
					     u32 reps, u64 new_pfn, bool mig_ad)
{
	u64 acc = MIGENTRY_REF_BENCH_SEED;
	const struct migentry_ref_bench_case *c;
	pte_t old, pte;
	u32 r, i;

	for (r = 0; r < reps; r++) {
		/* Every pass reads the cases again: nothing is hoisted out of the loop. */
		OPTIMIZER_HIDE_VAR(cases);
		for (i = 0; i < n; i++) {
			c = &cases[i];
			old = __pte(c->swp_pte);
			pte = ref_upstream(old, new_pfn, &c->vma, c->folio_dirty, mig_ad);
			acc = migentry_ref_bench_mix(acc, pte_val(pte), c->folio_anon &&
						     !softleaf_is_migration_read(softleaf_from_pte(old)));
		}
	}
	return acc;
}

#ifndef CONFIG_ARCH_HAS_CC_PLATFORM
u64 migentry_ref_check_protnone(bool pmd, u64 *mismatches, u64 *first_bad)
{
	static const pteval_t bits[] = {
		_PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_PWT, _PAGE_PCD, _PAGE_ACCESSED,
		_PAGE_DIRTY, _PAGE_PAT, _PAGE_PROTNONE, _PAGE_SPECIAL, _PAGE_UFFD,
		_PAGE_SOFT_DIRTY, _PAGE_SAVED_DIRTY, _PAGE_NX, _PAGE_PKEY_BIT0, _PAGE_NOPTISHADOW,
		_PAGE_PAT_LARGE,
	};
	const u64 pfns[] = { 0, 0x12345ULL << PAGE_SHIFT, PTE_PFN_MASK };
	u64 checked = 0, combo, val, got, want;
	unsigned int i, p;

	*mismatches = 0;
	*first_bad = 0;
	for (p = 0; p < ARRAY_SIZE(pfns); p++) {
		for (combo = 0; combo < (1ULL << ARRAY_SIZE(bits)); combo++) {
			val = pfns[p];
			for (i = 0; i < ARRAY_SIZE(bits); i++)
				val |= combo & (1ULL << i) ? bits[i] : 0;
			checked++;
			if (pmd) {
				/* _PAGE_PSE is _PAGE_PAT's bit (7): bits[] has both. */
				got = migentry_pmd_mkprotnone(val);
				want = pmd_val(pmd_modify(__pmd(val), PAGE_NONE));
			} else {
				got = migentry_pte_mkprotnone(val);
				want = pte_val(pte_modify(__pte(val), PAGE_NONE));
			}
			if (got == want)
				continue;
			if (!(*mismatches)++)
				*first_bad = val;
		}
	}
	return checked;
}
#endif
