// SPDX-License-Identifier: GPL-2.0
/* migentry's C glue: wrappers of the kernel's static inlines and macros. */
#include <linux/leafops.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>
#include <linux/pgtable.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/swapops.h>
#include <asm/tlbflush.h>

#include "migentry_shim.h"

#define FIELD(type, member) { #type "." #member, offsetof(struct type, member) }
#define SIZE(type) { "sizeof " #type, sizeof(struct type) }
#define CONST(name) { "const " #name, name }

/*
 * Every field the module reads through Rust's view of a C struct, and the
 * kernel constants Rust mirrors; rust/mm/layout.rs refuses to load on any
 * difference.
 */
static const struct migentry_layout_field migentry_layout_c[] = {
	FIELD(task_struct, mm),
	FIELD(mm_struct, mmap_lock),
	FIELD(vm_area_struct, vm_mm),
	FIELD(vm_area_struct, vm_flags),
	FIELD(vm_area_struct, vm_page_prot),
	FIELD(vm_area_struct, vm_start),
	FIELD(vm_area_struct, vm_end),
	FIELD(vm_area_struct, vm_file),
	FIELD(vm_area_struct, vm_ops),
	CONST(PMD_SIZE),
	CONST(SOFTLEAF_NONE),
	CONST(SOFTLEAF_SWAP),
	CONST(SOFTLEAF_MIGRATION_READ),
	CONST(SOFTLEAF_MIGRATION_READ_EXCLUSIVE),
	CONST(SOFTLEAF_MIGRATION_WRITE),
	CONST(SOFTLEAF_DEVICE_PRIVATE_READ),
	CONST(SOFTLEAF_DEVICE_PRIVATE_WRITE),
	CONST(SOFTLEAF_DEVICE_EXCLUSIVE),
	CONST(SOFTLEAF_HWPOISON),
	CONST(SOFTLEAF_MARKER),
	CONST(PAGE_SHIFT),
	CONST(_PAGE_PRESENT),
	CONST(_PAGE_RW),
	CONST(_PAGE_USER),
	CONST(_PAGE_ACCESSED),
	CONST(_PAGE_DIRTY),
	CONST(_PAGE_GLOBAL),
	CONST(_PAGE_PROTNONE),
	CONST(_PAGE_SAVED_DIRTY),
	CONST(_PAGE_SOFT_DIRTY),
	CONST(_PAGE_UFFD),
	CONST(_PAGE_SWP_SOFT_DIRTY),
	CONST(_PAGE_SWP_UFFD),
};

const struct migentry_layout_field *migentry_layout(size_t *len)
{
	*len = ARRAY_SIZE(migentry_layout_c);
	return migentry_layout_c;
}

#define ATTR(cond, bit) ((cond) ? (bit) : 0)

void migentry_pte_attrs(u64 val, struct migentry_pte_attrs *out)
{
	pte_t pte = __pte(val);
	softleaf_t entry;

	out->pfn = 0;
	out->leaf_type = 0;
	out->attrs = 0;
	if (pte_none(pte))
		return;
	if (pte_present(pte)) {
		out->pfn = pte_pfn(pte);
		out->attrs = MIGENTRY_ATTR_PRESENT |
			     ATTR(pte_write(pte), MIGENTRY_ATTR_WRITE) |
			     ATTR(pte_dirty(pte), MIGENTRY_ATTR_DIRTY) |
			     ATTR(pte_young(pte), MIGENTRY_ATTR_YOUNG) |
			     ATTR(pte_soft_dirty(pte), MIGENTRY_ATTR_SOFT_DIRTY) |
			     ATTR(pte_uffd(pte), MIGENTRY_ATTR_UFFD) |
			     ATTR(pte_special(pte), MIGENTRY_ATTR_SPECIAL) |
			     ATTR(pte_protnone(pte), MIGENTRY_ATTR_PROTNONE);
		return;
	}
	entry = softleaf_from_pte(pte);
	out->leaf_type = softleaf_type(entry);
	if (softleaf_has_pfn(entry))
		out->pfn = softleaf_to_pfn(entry);
	out->attrs = ATTR(pte_swp_soft_dirty(pte), MIGENTRY_ATTR_SOFT_DIRTY) |
		     ATTR(pte_swp_uffd(pte), MIGENTRY_ATTR_UFFD) |
		     ATTR(softleaf_is_uffd_wp_marker(entry), MIGENTRY_ATTR_UFFD_MARKER);
	if (softleaf_is_migration(entry))
		out->attrs |= ATTR(swp_offset(entry) & SWP_MIG_YOUNG, MIGENTRY_ATTR_MIG_YOUNG) |
			      ATTR(swp_offset(entry) & SWP_MIG_DIRTY, MIGENTRY_ATTR_MIG_DIRTY);
}

void migentry_pmd_attrs(u64 val, struct migentry_pte_attrs *out)
{
	pmd_t pmd = __pmd(val);
	softleaf_t entry;

	out->pfn = 0;
	out->leaf_type = 0;
	out->attrs = 0;
	if (pmd_none(pmd))
		return;
	if (pmd_present(pmd)) {
		out->pfn = pmd_pfn(pmd);
		out->attrs = MIGENTRY_ATTR_PRESENT |
			     ATTR(pmd_write(pmd), MIGENTRY_ATTR_WRITE) |
			     ATTR(pmd_dirty(pmd), MIGENTRY_ATTR_DIRTY) |
			     ATTR(pmd_young(pmd), MIGENTRY_ATTR_YOUNG) |
			     ATTR(pmd_soft_dirty(pmd), MIGENTRY_ATTR_SOFT_DIRTY) |
			     ATTR(pmd_uffd(pmd), MIGENTRY_ATTR_UFFD) |
			     ATTR(pmd_special(pmd), MIGENTRY_ATTR_SPECIAL) |
			     ATTR(pmd_protnone(pmd), MIGENTRY_ATTR_PROTNONE);
		return;
	}
	entry = softleaf_from_pmd(pmd);
	out->leaf_type = softleaf_type(entry);
	if (softleaf_has_pfn(entry))
		out->pfn = softleaf_to_pfn(entry);
	out->attrs = ATTR(pmd_swp_soft_dirty(pmd), MIGENTRY_ATTR_SOFT_DIRTY) |
		     ATTR(pmd_swp_uffd(pmd), MIGENTRY_ATTR_UFFD);
	if (softleaf_is_migration(entry))
		out->attrs |= ATTR(swp_offset(entry) & SWP_MIG_YOUNG, MIGENTRY_ATTR_MIG_YOUNG) |
			      ATTR(swp_offset(entry) & SWP_MIG_DIRTY, MIGENTRY_ATTR_MIG_DIRTY);
}

#define PTE_OP(name, expr)			\
u64 migentry_##name(u64 val)			\
{						\
	pte_t pte = __pte(val);			\
						\
	return pte_val(expr);			\
}

PTE_OP(pte_mkold, pte_mkold(pte))
PTE_OP(pte_mkdirty, pte_mkdirty(pte))
PTE_OP(pte_mksoft_dirty, pte_mksoft_dirty(pte))
PTE_OP(pte_clear_soft_dirty, pte_clear_soft_dirty(pte))
PTE_OP(pte_wrprotect, pte_wrprotect(pte))
PTE_OP(pte_mkuffd, pte_mkuffd(pte))
PTE_OP(pte_clear_uffd, pte_clear_uffd(pte))
PTE_OP(pte_mkwrite_novma, pte_mkwrite_novma(pte))
PTE_OP(pte_mkwrite_shstk, pte_mkwrite_shstk(pte))
PTE_OP(pte_clear_saveddirty, pte_clear_saveddirty(pte))

#define PMD_OP(name, expr)			\
u64 migentry_##name(u64 val)			\
{						\
	pmd_t pmd = __pmd(val);			\
						\
	return pmd_val(expr);			\
}

PMD_OP(pmd_mkold, pmd_mkold(pmd))
PMD_OP(pmd_mkdirty, pmd_mkdirty(pmd))
PMD_OP(pmd_mksoft_dirty, pmd_mksoft_dirty(pmd))
PMD_OP(pmd_clear_soft_dirty, pmd_clear_soft_dirty(pmd))
PMD_OP(pmd_wrprotect, pmd_wrprotect(pmd))
PMD_OP(pmd_mkuffd, pmd_mkuffd(pmd))
PMD_OP(pmd_clear_uffd, pmd_clear_uffd(pmd))
PMD_OP(pmd_mkwrite_novma, pmd_mkwrite_novma(pmd))
PMD_OP(pmd_mkwrite_shstk, pmd_mkwrite_shstk(pmd))
PMD_OP(pmd_clear_saveddirty, pmd_clear_saveddirty(pmd))

/* pte_modify(pte, PAGE_NONE) without reading the unexported cc_mask (see the header). */
#pragma push_macro("_PAGE_CC")
#undef _PAGE_CC
#define _PAGE_CC ((pteval_t)(cc_mkdec(0) | ~cc_mkdec(~0ULL)))
u64 migentry_pte_mkprotnone(u64 old)
{
	u64 val = (old & _PAGE_CHG_MASK) | (check_pgprot(PAGE_NONE) & ~_PAGE_CHG_MASK);
	pte_t pte = __pte(flip_protnone_guard(old, val, PTE_PFN_MASK));

	return pte_val(old & _PAGE_RW ? pte_mksaveddirty(pte) : pte_clear_saveddirty(pte));
}

/* pmd_modify(pmd, PAGE_NONE), the same way. */
u64 migentry_pmd_mkprotnone(u64 old)
{
	u64 val = (old & _HPAGE_CHG_MASK) | (check_pgprot(PAGE_NONE) & ~_HPAGE_CHG_MASK);
	pmd_t pmd = __pmd(flip_protnone_guard(old, val, PHYSICAL_PMD_PAGE_MASK));

	return pmd_val(old & _PAGE_RW ? pmd_mksaveddirty(pmd) : pmd_clear_saveddirty(pmd));
}

void migentry_pte_masks(u64 *pfn_mask, u64 *supported, u64 *chg_mask)
{
	*pfn_mask = PTE_PFN_MASK;
	*supported = __supported_pte_mask;
	*chg_mask = _PAGE_CHG_MASK;
}
#pragma pop_macro("_PAGE_CC")

u64 migentry_pfn_pte(u64 pfn, u64 prot)
{
	return pte_val(pfn_pte(pfn, __pgprot(prot)));
}

u64 migentry_pfn_pmd(u64 pfn, u64 prot)
{
	return pmd_val(pmd_mkhuge(pfn_pmd(pfn, __pgprot(prot))));
}

u64 migentry_prot(bool shared)
{
	return pgprot_val(shared ? PAGE_SHARED : PAGE_COPY);
}

static softleaf_t mk_migration(u32 kind, u64 pfn, bool young, bool dirty)
{
	unsigned long offset = pfn | (young ? SWP_MIG_YOUNG : 0) | (dirty ? SWP_MIG_DIRTY : 0);

	if (kind == SOFTLEAF_MIGRATION_WRITE)
		return make_writable_migration_entry(offset);
	if (kind == SOFTLEAF_MIGRATION_READ_EXCLUSIVE)
		return make_readable_exclusive_migration_entry(offset);
	return make_readable_migration_entry(offset);
}

u64 migentry_mk_migration(u32 kind, u64 pfn, bool young, bool dirty)
{
	return pte_val(softleaf_to_pte(mk_migration(kind, pfn, young, dirty)));
}

u64 migentry_mk_pmd_migration(u32 kind, u64 pfn, bool young, bool dirty)
{
	return pmd_val(softleaf_to_pmd(mk_migration(kind, pfn, young, dirty)));
}

u64 migentry_pmd_swp_soft_dirty(u64 val, bool set)
{
	pmd_t pmd = __pmd(val);

	return pmd_val(set ? pmd_swp_mksoft_dirty(pmd) : pmd_swp_clear_soft_dirty(pmd));
}

u64 migentry_pmd_swp_uffd(u64 val, bool set)
{
	return pmd_val(set ? pmd_swp_mkuffd(__pmd(val)) : pmd_swp_clear_uffd(__pmd(val)));
}

u64 migentry_swp_soft_dirty(u64 val, bool set)
{
	return pte_val(set ? pte_swp_mksoft_dirty(__pte(val)) : pte_swp_clear_soft_dirty(__pte(val)));
}

u64 migentry_swp_uffd(u64 val, bool set)
{
	return pte_val(set ? pte_swp_mkuffd(__pte(val)) : pte_swp_clear_uffd(__pte(val)));
}

void migentry_swp_limits(u64 *max_offset, u64 *l1tf_offset, u32 *mig_bits)
{
	swp_entry_t entry = __pte_to_swp_entry(softleaf_to_pte(swp_entry(0, ~0UL)));

	*max_offset = swp_offset(swp_entry(__swp_type(entry), __swp_offset(entry))) + 1;
	*l1tf_offset = boot_cpu_has_bug(X86_BUG_L1TF) ?
		       (u64)l1tf_pfn_limit() << (PAGE_SHIFT - SWP_OFFSET_FIRST_BIT) : 0;
	*mig_bits = SWP_MIG_TOTAL_BITS;
}

u32 migentry_vma_flags(const struct vm_area_struct *vma)
{
	vm_flags_t f = READ_ONCE(vma->vm_flags);

	return ATTR(f & VM_WRITE, MIGENTRY_VMA_F_WRITE) |
	       ATTR(f & VM_SHARED, MIGENTRY_VMA_F_SHARED) |
	       ATTR(f & VM_SOFTDIRTY, MIGENTRY_VMA_F_SOFTDIRTY) |
	       ATTR(f & VM_UFFD_WP, MIGENTRY_VMA_F_UFFD_WP) |
	       ATTR(f & VM_UFFD_RWP, MIGENTRY_VMA_F_UFFD_RWP) |
	       ATTR(f & VM_SHADOW_STACK, MIGENTRY_VMA_F_SHADOW_STACK) |
	       ATTR(f & (VM_HUGETLB | VM_PFNMAP | VM_IO | VM_MIXEDMAP),
		    MIGENTRY_VMA_F_UNSUPPORTED) |
	       ATTR(vma_is_anonymous((struct vm_area_struct *)vma), MIGENTRY_VMA_F_ANON);
}

void migentry_mmap_write(struct mm_struct *mm, bool lock)
{
	lock ? mmap_write_lock(mm) : mmap_write_unlock(mm);
}

void migentry_vma_start_write(struct vm_area_struct *vma)
{
	vma_start_write(vma);
}

int migentry_pmd_find(struct mm_struct *mm, unsigned long addr, pmd_t **pmdp)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	pgd_t pgdval = pgdp_get(pgd);
	p4d_t *p4d;
	p4d_t p4dval;
	pud_t *pud;
	pud_t pudval;

	*pmdp = NULL;
	if (pgd_none(pgdval))
		return 0;
	if (pgd_bad(pgdval))
		return -EOPNOTSUPP;
	p4d = p4d_offset(pgd, addr);
	p4dval = p4dp_get(p4d);
	if (p4d_none(p4dval))
		return 0;
	if (p4d_leaf(p4dval) || p4d_bad(p4dval))
		return -EOPNOTSUPP;
	pud = pud_offset(p4d, addr);
	pudval = pudp_get(pud);
	if (pud_none(pudval))
		return 0;
	if (!pud_present(pudval) || pud_leaf(pudval) || pud_bad(pudval))
		return -EOPNOTSUPP;
	*pmdp = pmd_offset(pud, addr);
	return 0;
}

int migentry_pmd_kind(u64 val)
{
	pmd_t pmd = __pmd(val);

	if (pmd_none(pmd))
		return MIGENTRY_PMD_NONE;
	if (!pmd_present(pmd))
		return MIGENTRY_PMD_NOT_PRESENT;
	if (pmd_leaf(pmd))
		return MIGENTRY_PMD_LEAF;
	if (pmd_bad(pmd))
		return MIGENTRY_PMD_BAD;
	return MIGENTRY_PMD_TABLE;
}

pte_t *migentry_pte_map_lock(struct mm_struct *mm, pmd_t *pmdp, unsigned long addr,
			     spinlock_t **ptlp, int *kind)
{
	spinlock_t *ptl;
	pmd_t pmdval;
	pte_t *pte;

	/*
	 * __pte_offset_map() and pte_offset_map_lock() of mm/pgtable-generic.c,
	 * which 7.3 does not export. x86-64 has neither CONFIG_HIGHPTE nor
	 * CONFIG_GUP_GET_PXX_LOW_HIGH, so there is nothing to kmap and the PMD is
	 * read in one access. A bad PMD is refused, not cleared: a query must
	 * not change page tables.
	 */
	for (;;) {
		rcu_read_lock();
		pmdval = pmdp_get_lockless(pmdp);
		*kind = migentry_pmd_kind(pmd_val(pmdval));
		if (*kind != MIGENTRY_PMD_TABLE) {
			rcu_read_unlock();
			return NULL;
		}
		pte = __pte_map(&pmdval, addr);
		ptl = pte_lockptr(mm, &pmdval);
		spin_lock(ptl);
		if (likely(pmd_same(pmdval, pmdp_get_lockless(pmdp)))) {
			*ptlp = ptl;
			return pte;
		}
		/* The table was freed or replaced meanwhile (khugepaged): look again. */
		pte_unmap_unlock(pte, ptl);
	}
}

spinlock_t *migentry_pmd_lock_leaf(struct mm_struct *mm, pmd_t *pmdp)
{
	spinlock_t *ptl = pmd_lock(mm, pmdp);

	if (migentry_pmd_kind(pmd_val(pmdp_get(pmdp))) == MIGENTRY_PMD_LEAF)
		return ptl;
	spin_unlock(ptl);
	return NULL;
}

void migentry_pmd_unlock(spinlock_t *ptl)
{
	spin_unlock(ptl);
}

u64 migentry_pmdp_get(pmd_t *pmdp)
{
	return pmd_val(pmdp_get(pmdp));
}

u64 migentry_pmdp_huge_get_and_clear(struct mm_struct *mm, unsigned long addr, pmd_t *pmdp)
{
	return pmd_val(pmdp_huge_get_and_clear(mm, addr, pmdp));
}

void migentry_set_pmd_at(struct mm_struct *mm, unsigned long addr, pmd_t *pmdp, u64 pmd)
{
	set_pmd_at(mm, addr, pmdp, __pmd(pmd));
}

void migentry_pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)
{
	pte_unmap_unlock(pte, ptl);
}

u64 migentry_ptep_get(pte_t *ptep)
{
	return pte_val(ptep_get(ptep));
}

u64 migentry_ptep_get_and_clear(struct mm_struct *mm, unsigned long addr, pte_t *ptep)
{
	return pte_val(ptep_get_and_clear(mm, addr, ptep));
}

void migentry_set_pte_at(struct mm_struct *mm, unsigned long addr, pte_t *ptep, u64 pte)
{
	set_pte_at(mm, addr, ptep, __pte(pte));
}

int migentry_folio_facts(u64 pfn, struct migentry_folio_facts *out)
{
	struct page *page;
	struct folio *folio;

	if (!pfn_valid(pfn))
		return -EINVAL;
	page = pfn_to_page(pfn);
	folio = page_folio(page);
	out->anon = folio_test_anon(folio);
	out->dirty = folio_test_dirty(folio);
	out->anon_exclusive = folio_test_anon(folio) && PageAnonExclusive(page);
	return 0;
}

u64 migentry_page_to_pfn(const struct page *page)
{
	return page_to_pfn(page);
}

u64 migentry_folio_pfn(const struct folio *folio)
{
	return folio_pfn(folio);
}

void migentry_folio_mark_dirty(u64 pfn)
{
	folio_mark_dirty(page_folio(pfn_to_page(pfn)));
}

/*
 * Stock 7.3 exports neither the mm TLB flush nor the mmu_notifier range calls;
 * the test-only hooked kernel exports both to migentry (patches/hooked/), but
 * asm/tlbflush.h still hides the flush's declaration from modules.
 */
#ifdef CONFIG_MIGENTRY_HOOKS
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start, unsigned long end,
			unsigned int stride_shift, bool freed_tables);
#endif

int migentry_invalidate_start(struct mm_struct *mm, unsigned long start, unsigned long end)
{
#ifdef CONFIG_MIGENTRY_HOOKS
	struct mmu_notifier_range range;

	mmu_notifier_range_init(&range, MMU_NOTIFY_PROTECTION_PAGE, 0, mm, start, end);
	mmu_notifier_invalidate_range_start(&range);
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}

void migentry_invalidate_end(struct mm_struct *mm, unsigned long start, unsigned long end)
{
#ifdef CONFIG_MIGENTRY_HOOKS
	struct mmu_notifier_range range;

	flush_tlb_mm_range(mm, start, end, PAGE_SHIFT, false);
	mmu_notifier_range_init(&range, MMU_NOTIFY_PROTECTION_PAGE, 0, mm, start, end);
	mmu_notifier_invalidate_range_end(&range);
#endif
}

u32 migentry_nr_online_nodes(void)
{
	return num_online_nodes();
}
