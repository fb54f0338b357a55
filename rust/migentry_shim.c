// SPDX-License-Identifier: GPL-2.0
/*
 * C half of migentry. See migentry_shim.h.
 */
#include <linux/leafops.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/smp.h>
#include <asm/tlbflush.h>
#include <linux/capability.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/stddef.h>
#include <linux/swapops.h>
#include <uapi/migentry.h>

#include "migentry_shim.h"

static bool migentry_mig_ad;

#define FIELD(type, member) { #type "." #member, offsetof(struct type, member) }
#define SIZE(type) { "sizeof " #type, sizeof(struct type) }

/*
 * Everything the module or the kernel-crate APIs it calls read from a C
 * struct. rust/layout.rs holds the Rust view of the same names; the module
 * refuses to load if any value differs or a name is missing on either side.
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
	SIZE(migentry_info),
	FIELD(migentry_info, features),
	FIELD(migentry_info, nr_online_nodes),
	SIZE(migentry_pte_state),
	SIZE(migentry_record),
	FIELD(migentry_record, after),
	SIZE(migentry_range),
	FIELD(migentry_range, nr_done),
	FIELD(migentry_range, vma_flags),
	SIZE(migentry_folio_facts),
	FIELD(migentry_folio_facts, large),
	SIZE(migentry_vma_facts),
	FIELD(migentry_vma_facts, shadow_stack),
	FIELD(migentry_vma_facts, anon),
};

const struct migentry_layout_field *migentry_layout(size_t *len)
{
	*len = ARRAY_SIZE(migentry_layout_c);
	return migentry_layout_c;
}

u64 migentry_features(void)
{
	u64 f = 0;

	if (IS_ENABLED(CONFIG_PTE_MARKER_UFFD_WP) &&
	    IS_ENABLED(CONFIG_HAVE_ARCH_USERFAULTFD_WP))
		f |= MIGENTRY_FEAT_UFFD_WP;
	if (IS_ENABLED(CONFIG_MEM_SOFT_DIRTY))
		f |= MIGENTRY_FEAT_SOFT_DIRTY;
	if (IS_ENABLED(CONFIG_USERFAULTFD_RWP) && IS_ENABLED(CONFIG_USERFAULTFD))
		f |= MIGENTRY_FEAT_UFFD_RWP;
	if (IS_ENABLED(CONFIG_NUMA))
		f |= MIGENTRY_FEAT_NUMA;
	if (migentry_mig_ad)
		f |= MIGENTRY_FEAT_MIGRATION_AD;
	return f;
}

u32 migentry_nr_online_nodes(void)
{
	return num_online_nodes();
}

bool migentry_capable_sys_admin(void)
{
	return capable(CAP_SYS_ADMIN);
}

/*
 * Whether migration entries carry the A/D bits (migration_entry_supports_ad()).
 * The kernel keeps this in swap_migration_ad_supported, which mm/swapfile.c
 * sets at boot and does not export (and which is never set without
 * CONFIG_SWAP). It is recomputed here the same way: the largest swap offset a
 * PTE can hold (generic_max_swapfile_size()), lowered on CPUs with the L1TF
 * bug as arch/x86/mm/init.c does, must cover the PFN plus the two A/D bits.
 * The L1TF mitigation state is not visible to modules, so the lower limit is
 * assumed whenever the bug is present.
 */
void migentry_shim_init(void)
{
#if defined(CONFIG_MIGRATION) && defined(CONFIG_SWAP)
	swp_entry_t entry = __pte_to_swp_entry(softleaf_to_pte(swp_entry(0, ~0UL)));
	unsigned long long max;

	entry = swp_entry(__swp_type(entry), __swp_offset(entry));
	max = swp_offset(entry) + 1;
	if (boot_cpu_has_bug(X86_BUG_L1TF))
		max = min_t(unsigned long long, max,
			    l1tf_pfn_limit() << (PAGE_SHIFT - SWP_OFFSET_FIRST_BIT));
	migentry_mig_ad = max >= (1ULL << SWP_MIG_TOTAL_BITS);
#endif
}

bool migentry_migration_ad(void)
{
	return migentry_mig_ad;
}

static bool mig_young(softleaf_t entry)
{
	return migentry_mig_ad ? swp_offset(entry) & SWP_MIG_YOUNG : false;
}

static bool mig_dirty(softleaf_t entry)
{
	return migentry_mig_ad ? swp_offset(entry) & SWP_MIG_DIRTY : false;
}

static u32 leaf_kind(softleaf_t entry)
{
	switch (softleaf_type(entry)) {
	case SOFTLEAF_NONE:
		return MIGENTRY_LEAF_NONE;
	case SOFTLEAF_SWAP:
		return MIGENTRY_LEAF_SWAP;
	case SOFTLEAF_MIGRATION_READ:
		return MIGENTRY_LEAF_MIGRATION_READ;
	case SOFTLEAF_MIGRATION_READ_EXCLUSIVE:
		return MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE;
	case SOFTLEAF_MIGRATION_WRITE:
		return MIGENTRY_LEAF_MIGRATION_WRITE;
	case SOFTLEAF_DEVICE_PRIVATE_READ:
		return MIGENTRY_LEAF_DEVICE_PRIVATE_READ;
	case SOFTLEAF_DEVICE_PRIVATE_WRITE:
		return MIGENTRY_LEAF_DEVICE_PRIVATE_WRITE;
	case SOFTLEAF_DEVICE_EXCLUSIVE:
		return MIGENTRY_LEAF_DEVICE_EXCLUSIVE;
	case SOFTLEAF_HWPOISON:
		return MIGENTRY_LEAF_HWPOISON;
	case SOFTLEAF_MARKER:
		return MIGENTRY_LEAF_MARKER;
	}
	return MIGENTRY_LEAF_NONE;
}

u32 migentry_pte_decode(u64 val, u32 *leaf, u64 *pfn)
{
	pte_t pte = __pte(val);
	softleaf_t entry;
	u32 f = 0;

	*pfn = 0;
	if (pte_none(pte)) {
		*leaf = MIGENTRY_LEAF_NONE;
		return 0;
	}
	if (pte_present(pte)) {
		*leaf = MIGENTRY_LEAF_PRESENT;
		*pfn = pte_pfn(pte);
		f |= MIGENTRY_PTE_PRESENT;
		if (pte_write(pte))
			f |= MIGENTRY_PTE_WRITE;
		if (pte_dirty(pte))
			f |= MIGENTRY_PTE_DIRTY;
		if (pte_young(pte))
			f |= MIGENTRY_PTE_YOUNG;
		if (pte_soft_dirty(pte))
			f |= MIGENTRY_PTE_SOFT_DIRTY;
		if (pte_uffd(pte))
			f |= MIGENTRY_PTE_UFFD;
		if (pte_special(pte))
			f |= MIGENTRY_PTE_SPECIAL;
		if (pte_protnone(pte))
			f |= MIGENTRY_PTE_PROTNONE;
		return f;
	}

	entry = softleaf_from_pte(pte);
	*leaf = leaf_kind(entry);
	if (softleaf_has_pfn(entry))
		*pfn = softleaf_to_pfn(entry);
	if (softleaf_is_migration(entry)) {
		if (mig_young(entry))
			f |= MIGENTRY_PTE_YOUNG;
		if (mig_dirty(entry))
			f |= MIGENTRY_PTE_DIRTY;
	}
	if (pte_swp_soft_dirty(pte))
		f |= MIGENTRY_PTE_SOFT_DIRTY;
	/* A uffd-wp marker keeps the protection of a page that is gone. */
	if (pte_swp_uffd(pte) || softleaf_is_uffd_wp_marker(entry))
		f |= MIGENTRY_PTE_UFFD;
	return f;
}

u64 migentry_pfn_pte(u64 pfn, u64 prot)
{
	return pte_val(pfn_pte(pfn, __pgprot(prot)));
}

u64 migentry_pte_mkold(u64 pte)
{
	return pte_val(pte_mkold(__pte(pte)));
}

u64 migentry_pte_mkdirty(u64 pte)
{
	return pte_val(pte_mkdirty(__pte(pte)));
}

u64 migentry_pte_mksoft_dirty(u64 pte)
{
	return pte_val(pte_mksoft_dirty(__pte(pte)));
}

u64 migentry_pte_clear_soft_dirty(u64 pte)
{
	return pte_val(pte_clear_soft_dirty(__pte(pte)));
}

u64 migentry_pte_wrprotect(u64 pte)
{
	return pte_val(pte_wrprotect(__pte(pte)));
}

u64 migentry_pte_mkuffd(u64 pte)
{
	return pte_val(pte_mkuffd(__pte(pte)));
}

u64 migentry_pte_clear_uffd(u64 pte)
{
	return pte_val(pte_clear_uffd(__pte(pte)));
}

/*
 * x86's pte_mkwrite(pte, vma) (arch/x86/mm/pgtable.c) is not exported; this is
 * the same logic with the VMA reduced to the one fact it reads.
 */
static pte_t mkwrite(pte_t pte, bool shadow_stack)
{
	if (shadow_stack)
		return pte_mkwrite_shstk(pte);
	return pte_clear_saveddirty(pte_mkwrite_novma(pte));
}

u64 migentry_pte_mkwrite(u64 pte, bool shadow_stack)
{
	return pte_val(mkwrite(__pte(pte), shadow_stack));
}

u64 migentry_pte_mkprotnone(u64 pte)
{
	return pte_val(pte_modify(__pte(pte), PAGE_NONE));
}

u64 migentry_prot_private(void)
{
	return pgprot_val(PAGE_COPY);
}

u64 migentry_prot_shared(void)
{
	return pgprot_val(PAGE_SHARED);
}

bool migentry_prot_writable(u64 prot)
{
	return prot & _PAGE_RW;
}

static softleaf_t mk_migration(u32 leaf, unsigned long offset)
{
	switch (leaf) {
	case MIGENTRY_LEAF_MIGRATION_WRITE:
		return make_writable_migration_entry(offset);
	case MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE:
		return make_readable_exclusive_migration_entry(offset);
	default:
		return make_readable_migration_entry(offset);
	}
}

u64 migentry_mk_migration(u32 leaf, u64 pfn, bool young, bool dirty)
{
	unsigned long offset = pfn;

	if (migentry_mig_ad && young)
		offset |= SWP_MIG_YOUNG;
	if (migentry_mig_ad && dirty)
		offset |= SWP_MIG_DIRTY;
	return pte_val(softleaf_to_pte(mk_migration(leaf, offset)));
}

/*
 * New kind, same offset (PFN and A/D) and soft-dirty bit, as
 * change_pte_range() (mm/mprotect.c) rebuilds a migration entry.
 */
u64 migentry_migration_rekind(u64 val, u32 leaf)
{
	pte_t old = __pte(val);
	pte_t pte = softleaf_to_pte(mk_migration(leaf, swp_offset(softleaf_from_pte(old))));

	if (pte_swp_soft_dirty(old))
		pte = pte_swp_mksoft_dirty(pte);
	return pte_val(pte);
}

u64 migentry_swp_soft_dirty(u64 pte, bool set)
{
	return pte_val(set ? pte_swp_mksoft_dirty(__pte(pte)) :
			     pte_swp_clear_soft_dirty(__pte(pte)));
}

u64 migentry_swp_uffd(u64 pte, bool set)
{
	return pte_val(set ? pte_swp_mkuffd(__pte(pte)) : pte_swp_clear_uffd(__pte(pte)));
}

void migentry_vma_facts(const struct vm_area_struct *vma, struct migentry_vma_facts *out)
{
	vm_flags_t flags = READ_ONCE(vma->vm_flags);

	memset(out, 0, sizeof(*out));
	out->page_prot = pgprot_val(READ_ONCE(vma->vm_page_prot));
	out->write = !!(flags & VM_WRITE);
	out->shared = !!(flags & VM_SHARED);
	out->softdirty = !!(flags & VM_SOFTDIRTY);
	out->uffd_wp = !!(flags & VM_UFFD_WP);
	out->uffd_rwp = !!(flags & VM_UFFD_RWP);
	out->shadow_stack = !!(flags & VM_SHADOW_STACK);
	out->unsupported = !!(flags & (VM_HUGETLB | VM_PFNMAP | VM_IO | VM_MIXEDMAP));
	out->anon = vma_is_anonymous((struct vm_area_struct *)vma);
}

/* Locking and page tables -------------------------------------------------- */

void migentry_mmap_write_lock(struct mm_struct *mm)
{
	mmap_write_lock(mm);
}

void migentry_mmap_write_unlock(struct mm_struct *mm)
{
	mmap_write_unlock(mm);
}

void migentry_vma_start_write(struct vm_area_struct *vma)
{
	vma_start_write(vma);
}

/*
 * apply_to_page_range() WARNs (and, at PUD level, BUGs) on a leaf entry above
 * PTE level, and "repairs" a non-table entry it calls bad. Refuse the range
 * unless every upper-level entry it covers is either none or a page table.
 * The caller holds the mmap lock for writing and has write-locked the VMA,
 * so no fault, khugepaged collapse or UFFDIO_* ioctl can install a huge
 * entry until it lets go; a THP split by rmap only turns a leaf into a table.
 */
int migentry_check_tables(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	unsigned long addr, next;

	for (addr = start; addr < end; addr = next) {
		pgd_t *pgd = pgd_offset(mm, addr);
		p4d_t *p4d;
		pud_t *pud;
		pmd_t *pmd;
		pmd_t pmdval;

		next = pmd_addr_end(addr, end);
		if (pgd_none(*pgd))
			continue;
		if (pgd_bad(*pgd))
			return -EOPNOTSUPP;
		p4d = p4d_offset(pgd, addr);
		if (p4d_none(*p4d))
			continue;
		if (p4d_leaf(*p4d) || p4d_bad(*p4d))
			return -EOPNOTSUPP;
		pud = pud_offset(p4d, addr);
		if (pud_none(*pud))
			continue;
		if (!pud_present(*pud) || pud_leaf(*pud) || pud_bad(*pud))
			return -EOPNOTSUPP;
		pmd = pmd_offset(pud, addr);
		pmdval = pmdp_get(pmd);
		if (pmd_none(pmdval))
			continue;
		if (!pmd_present(pmdval) || pmd_leaf(pmdval) || pmd_bad(pmdval))
			return -EOPNOTSUPP;
	}
	return 0;
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

/* Folios and the TLB ------------------------------------------------------ */

/*
 * The caller holds the page-table lock of a present, non-special user PTE
 * that maps pfn, so the folio is mapped and referenced and cannot go away.
 */
int migentry_folio_facts(u64 pfn, struct migentry_folio_facts *out)
{
	struct page *page;
	struct folio *folio;

	if (!pfn_valid(pfn))
		return -EINVAL;
	page = pfn_to_page(pfn);
	folio = page_folio(page);
	out->refcount = folio_ref_count(folio);
	out->mapcount = folio_mapcount(folio);
	out->anon = folio_test_anon(folio);
	out->dirty = folio_test_dirty(folio);
	out->anon_exclusive = folio_test_anon(folio) && PageAnonExclusive(page);
	out->large = folio_test_large(folio);
	return 0;
}

/*
 * As try_to_migrate_one() does before it replaces a dirty PTE, so that the
 * dirtiness survives the entry (zap_present_folio_ptes() calls it under the
 * page-table lock too).
 */
void migentry_folio_mark_dirty(u64 pfn)
{
	folio_mark_dirty(page_folio(pfn_to_page(pfn)));
}

static void flush_local(void *unused)
{
	/*
	 * Reloading CR3 drops every non-global translation of the current
	 * address-space ID. Other ASIDs that cached the mm are flushed by
	 * switch_mm() when it sees the bumped tlb_gen.
	 */
	native_write_cr3(__native_read_cr3());
}

/*
 * flush_tlb_mm_range() is not exported, and asm/tlbflush.h hides its helpers
 * (inc_mm_tlb_gen() among them) from modules. This is the whole-mm flush it
 * would do, for the x86 configurations migentry supports: bump the mm's TLB
 * generation, which makes switch_mm() flush any other address-space ID that
 * still caches the mm, then reload CR3 on every CPU that has the mm loaded.
 * With page-table isolation the user ASID would need flushing too, through
 * per-CPU state modules cannot reach: refused.
 */
bool migentry_tlb_flush_supported(void)
{
	return !boot_cpu_has(X86_FEATURE_PTI);
}

int migentry_flush_tlb_mm(struct mm_struct *mm)
{
	if (!migentry_tlb_flush_supported())
		return -EOPNOTSUPP;
	atomic64_inc_return(&mm->context.tlb_gen);
	preempt_disable();
	on_each_cpu_mask(mm_cpumask(mm), flush_local, NULL, true);
	preempt_enable();
	return 0;
}

/* C references ---------------------------------------------------------- */

/*
 * Linux 7.3, mm/migrate.c remove_migration_pte(), the part that turns a
 * migration entry into the PTE to install, for an order-0 folio that is not
 * hugetlb, not device-private and not mapped to the shared zeropage.
 */
static pte_t ref_upstream(pte_t old_pte, const struct migentry_vma_facts *vma,
			  bool folio_dirty, bool folio_anon, bool *exclusive)
{
	softleaf_t entry = softleaf_from_pte(old_pte);
	pte_t pte;

	pte = pfn_pte(softleaf_to_pfn(entry), __pgprot(vma->page_prot));
	if (!mig_young(entry))
		pte = pte_mkold(pte);
	if (folio_dirty && mig_dirty(entry))
		pte = pte_mkdirty(pte);
	if (pte_swp_soft_dirty(old_pte))
		pte = pte_mksoft_dirty(pte);
	else
		pte = pte_clear_soft_dirty(pte);

	if (softleaf_is_migration_write(entry))
		pte = mkwrite(pte, vma->shadow_stack);
	else if (pte_swp_uffd(old_pte))
		pte = pte_mkuffd(pte);

	if (pte_swp_uffd(old_pte) && IS_ENABLED(CONFIG_ARCH_HAS_PTE_PROTNONE) && vma->uffd_rwp)
		pte = pte_modify(pte, PAGE_NONE);

	*exclusive = folio_anon && !softleaf_is_migration_read(entry);
	return pte;
}

/*
 * vm_page_prot as v6.1 computed it: vma_wants_writenotify() did not yet list
 * userfaultfd_wp() (added by 51d3d5eb74ff for v6.2), so a shared writable
 * VMA whose only reason for write-notify is uffd-wp kept _PAGE_RW.
 */
static pgprot_t ref_v61_page_prot(const struct migentry_vma_facts *vma)
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
static pte_t ref_v61(pte_t old_pte, const struct migentry_vma_facts *vma,
		     bool folio_dirty, bool folio_anon, bool peterx_v3, bool *exclusive)
{
	softleaf_t entry = softleaf_from_pte(old_pte);
	pte_t pte;

	pte = pfn_pte(softleaf_to_pfn(entry), ref_v61_page_prot(vma));
	if (pte_swp_soft_dirty(old_pte))
		pte = pte_set_flags(pte, _PAGE_SOFT_DIRTY);
	if (!mig_young(entry))
		pte = pte_clear_flags(pte, _PAGE_ACCESSED);
	if (folio_dirty && mig_dirty(entry))
		pte = pte_set_flags(pte, _PAGE_DIRTY | _PAGE_SOFT_DIRTY);

	if (softleaf_is_migration_write(entry)) {
		if (vma->write)
			pte = pte_set_flags(pte, _PAGE_RW);
	} else if (peterx_v3) {
		pte = pte_clear_flags(pte, _PAGE_RW);
	}
	if (pte_swp_uffd(old_pte) && (peterx_v3 || !softleaf_is_migration_write(entry)))
		pte = pte_set_flags(pte, _PAGE_UFFD);

	*exclusive = folio_anon && !softleaf_is_migration_read(entry);
	return pte;
}

u64 migentry_ref_restore(u32 policy, u64 swp_pte, const struct migentry_vma_facts *vma,
			 bool folio_dirty, bool folio_anon, bool *exclusive)
{
	pte_t old = __pte(swp_pte);

	switch (policy) {
	case MIGENTRY_POLICY_PRE_6_2:
		return pte_val(ref_v61(old, vma, folio_dirty, folio_anon, false, exclusive));
	case MIGENTRY_POLICY_PETERX_V3:
		return pte_val(ref_v61(old, vma, folio_dirty, folio_anon, true, exclusive));
	default:
		return pte_val(ref_upstream(old, vma, folio_dirty, folio_anon, exclusive));
	}
}
