/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migentry's C glue: one-line wrappers of the kernel's static inline helpers
 * and macros that Rust cannot call, and the C side of the layout guard.
 * No policy lives here; the Rust mm layer (rust/mm/) decides. The PTE bit
 * operations (migentry_pfn_pte() to migentry_swp_uffd()) are computed in Rust
 * on the restore's path (rust/mm/ffi/x86.rs); here they are what the KUnit
 * suite migentry_mm_bits compares those with.
 *
 * The Rust declarations are generated from this header by bindgen at build
 * time (see Kbuild), so the two cannot disagree. Page-table entries cross the
 * boundary as their pteval_t (u64).
 */
#ifndef MIGENTRY_SHIM_H
#define MIGENTRY_SHIM_H

#include <linux/types.h>
#include <linux/spinlock_types.h>
#include <asm/pgtable_types.h>

struct mm_struct;
struct page;
struct vm_area_struct;

#ifdef CONFIG_MIGENTRY_HOOKS
/* The migration restore hook of the test-only hooked kernel (patches/hooked/). */
#include <linux/migentry_hook.h>
#endif

/* One offset, size or constant that C and Rust must agree on. */
struct migentry_layout_field {
	const char *name;	/* "struct.field", "sizeof struct" or "const NAME" */
	size_t value;
};

const struct migentry_layout_field *migentry_layout(size_t *len);

/* The predicates of one entry (pte_write(), softleaf_is_uffd_wp_marker()...). */
#define MIGENTRY_ATTR_PRESENT		(1U << 10)
#define MIGENTRY_ATTR_WRITE		(1U << 0)
#define MIGENTRY_ATTR_DIRTY		(1U << 1)
#define MIGENTRY_ATTR_YOUNG		(1U << 2)
#define MIGENTRY_ATTR_SOFT_DIRTY	(1U << 3)
#define MIGENTRY_ATTR_UFFD		(1U << 4)
#define MIGENTRY_ATTR_SPECIAL		(1U << 5)
#define MIGENTRY_ATTR_PROTNONE		(1U << 6)
#define MIGENTRY_ATTR_MIG_YOUNG		(1U << 7)	/* offset bit, valid only with A/D */
#define MIGENTRY_ATTR_MIG_DIRTY		(1U << 8)	/* offset bit, valid only with A/D */
#define MIGENTRY_ATTR_UFFD_MARKER	(1U << 9)

struct migentry_pte_attrs {
	u64 pfn;	/* pte_pfn() or softleaf_to_pfn(), 0 if none */
	u32 leaf_type;	/* softleaf_type() of a non-present entry, else 0 */
	u32 attrs;	/* MIGENTRY_ATTR_* */
};

void migentry_pte_attrs(u64 pte, struct migentry_pte_attrs *out);

u64 migentry_pfn_pte(u64 pfn, u64 prot);
u64 migentry_pte_mkold(u64 pte);
u64 migentry_pte_mkdirty(u64 pte);
u64 migentry_pte_mksoft_dirty(u64 pte);
u64 migentry_pte_clear_soft_dirty(u64 pte);
u64 migentry_pte_wrprotect(u64 pte);
u64 migentry_pte_mkuffd(u64 pte);
u64 migentry_pte_clear_uffd(u64 pte);
u64 migentry_pte_mkwrite_novma(u64 pte);
u64 migentry_pte_mkwrite_shstk(u64 pte);
u64 migentry_pte_clear_saveddirty(u64 pte);
/*
 * pte_modify(pte, PAGE_NONE), step for step, with one difference in how a
 * value is obtained: with CONFIG_ARCH_HAS_CC_PLATFORM, _PAGE_CHG_MASK
 * contains _PAGE_CC, which reads cc_mask, and cc_mask is not exported (a
 * module calling pte_modify() there does not link). The exported cc_mkdec()
 * sets cc_mask in its argument or clears it, depending on the vendor (and
 * returns it unchanged without a CC vendor), so cc_mkdec(0) | ~cc_mkdec(~0)
 * is cc_mask on every configuration. The rest is pte_modify(): the bits of
 * _PAGE_CHG_MASK kept, PAGE_NONE's added, the PFN inverted as the PTE
 * becomes PROT_NONE (L1TF, flip_protnone_guard()), and SavedDirty set or
 * cleared by the old _PAGE_RW. The KUnit case protnone_is_pte_modify
 * compares it with pte_modify() where pte_modify() links.
 */
u64 migentry_pte_mkprotnone(u64 pte);
/*
 * The masks of the PTE operations that are only known at boot, for the Rust
 * copies of those operations (rust/mm/ffi/x86.rs): PTE_PFN_MASK,
 * __supported_pte_mask and _PAGE_CHG_MASK (with cc_mask obtained as in
 * migentry_pte_mkprotnone()).
 */
void migentry_pte_masks(u64 *pfn_mask, u64 *supported, u64 *chg_mask);
u64 migentry_prot(bool shared);	/* PAGE_SHARED or PAGE_COPY */

/*
 * The same at the PMD level (a PMD-mapped THP), with the pmd_*() helpers:
 * pfn_pmd() is folio_mk_pmd()'s pmd_mkhuge(pfn_pmd()), and
 * migentry_pmd_mkprotnone() is pmd_modify(pmd, PAGE_NONE) as
 * migentry_pte_mkprotnone() is pte_modify() (_HPAGE_CHG_MASK, the PMD's PFN
 * mask). The predicates of a PMD fill the same struct as a PTE's.
 */
void migentry_pmd_attrs(u64 pmd, struct migentry_pte_attrs *out);
u64 migentry_pfn_pmd(u64 pfn, u64 prot);
u64 migentry_pmd_mkold(u64 pmd);
u64 migentry_pmd_mkdirty(u64 pmd);
u64 migentry_pmd_mksoft_dirty(u64 pmd);
u64 migentry_pmd_clear_soft_dirty(u64 pmd);
u64 migentry_pmd_wrprotect(u64 pmd);
u64 migentry_pmd_mkuffd(u64 pmd);
u64 migentry_pmd_clear_uffd(u64 pmd);
u64 migentry_pmd_mkwrite_novma(u64 pmd);
u64 migentry_pmd_mkwrite_shstk(u64 pmd);
u64 migentry_pmd_clear_saveddirty(u64 pmd);
u64 migentry_pmd_mkprotnone(u64 pmd);

/* Migration entries as non-present PTE values. */
/* kind: the softleaf_type of the entry to make (a migration one). */
u64 migentry_mk_migration(u32 kind, u64 pfn, bool young, bool dirty);
u64 migentry_swp_soft_dirty(u64 pte, bool set);
u64 migentry_swp_uffd(u64 pte, bool set);
/* The same as non-present PMD values (softleaf_to_pmd(), pmd_swp_*()). */
u64 migentry_mk_pmd_migration(u32 kind, u64 pfn, bool young, bool dirty);
u64 migentry_pmd_swp_soft_dirty(u64 pmd, bool set);
u64 migentry_pmd_swp_uffd(u64 pmd, bool set);

/*
 * What migration_entry_supports_ad() is computed from: the largest swap
 * offset plus one (as generic_max_swapfile_size()), the L1TF limit
 * arch_max_swapfile_size() applies in swap offsets (0 without X86_BUG_L1TF),
 * and SWP_MIG_TOTAL_BITS.
 */
void migentry_swp_limits(u64 *max_offset, u64 *l1tf_offset, u32 *mig_bits);

/* The VM_* flags a restore reads (READ_ONCE, as C reads them unlocked). */
#define MIGENTRY_VMA_F_WRITE		(1U << 0)
#define MIGENTRY_VMA_F_SHARED		(1U << 1)
#define MIGENTRY_VMA_F_SOFTDIRTY	(1U << 2)
#define MIGENTRY_VMA_F_UFFD_WP		(1U << 3)
#define MIGENTRY_VMA_F_UFFD_RWP		(1U << 4)
#define MIGENTRY_VMA_F_SHADOW_STACK	(1U << 5)
#define MIGENTRY_VMA_F_UNSUPPORTED	(1U << 6)	/* hugetlb, PFNMAP, IO, MIXEDMAP */
#define MIGENTRY_VMA_F_ANON		(1U << 7)

u32 migentry_vma_flags(const struct vm_area_struct *vma);

void migentry_mmap_write(struct mm_struct *mm, bool lock);	/* lock or unlock */
void migentry_vma_start_write(struct vm_area_struct *vma);

/*
 * The page-table walk, which allocates nothing. migentry_pmd_find() reads
 * the levels above the PMD with the mmap lock held (which keeps their tables
 * from being freed): 0 with *pmdp the PMD entry covering addr, 0 with *pmdp
 * NULL if a level above is none (a hole), -EOPNOTSUPP for a leaf or bad
 * entry above the PMD.
 */
int migentry_pmd_find(struct mm_struct *mm, unsigned long addr, pmd_t **pmdp);

/* What a PMD value holds. */
#define MIGENTRY_PMD_NONE		0	/* no page table: a hole */
#define MIGENTRY_PMD_TABLE		1	/* a PTE table */
#define MIGENTRY_PMD_LEAF		2	/* present and huge (THP) */
#define MIGENTRY_PMD_NOT_PRESENT	3	/* a PMD migration or device entry */
#define MIGENTRY_PMD_BAD		4	/* pmd_bad() */

int migentry_pmd_kind(u64 pmd);

/*
 * pte_offset_map_lock(): reads *pmdp locklessly under RCU, maps the PTE
 * table it points at and takes its lock, and retries if the PMD changed
 * before the lock was held. Returns the PTE for addr, mapped and locked
 * (*ptlp), or NULL with *kind saying what the PMD holds instead (then no
 * lock is held). Undo with migentry_pte_unmap_unlock().
 */
pte_t *migentry_pte_map_lock(struct mm_struct *mm, pmd_t *pmdp, unsigned long addr,
			     spinlock_t **ptlp, int *kind);
void migentry_pte_unmap_unlock(pte_t *pte, spinlock_t *ptl);

/*
 * A PMD leaf (a PMD-mapped THP): migentry_pmd_lock_leaf() takes pmd_lock()
 * and returns it held if *pmdp is still a huge leaf; NULL, with no lock
 * held, if the THP was split, zapped or started migrating since the walk
 * looked. Undo with migentry_pmd_unlock(). Under that lock: pmdp_get(),
 * pmdp_huge_get_and_clear() and set_pmd_at() (page_table_check accounted).
 */
spinlock_t *migentry_pmd_lock_leaf(struct mm_struct *mm, pmd_t *pmdp);
void migentry_pmd_unlock(spinlock_t *ptl);
u64 migentry_pmdp_get(pmd_t *pmdp);
u64 migentry_pmdp_huge_get_and_clear(struct mm_struct *mm, unsigned long addr, pmd_t *pmdp);
void migentry_set_pmd_at(struct mm_struct *mm, unsigned long addr, pmd_t *pmdp, u64 pmd);

u64 migentry_ptep_get(pte_t *ptep);
u64 migentry_ptep_get_and_clear(struct mm_struct *mm, unsigned long addr, pte_t *ptep);
void migentry_set_pte_at(struct mm_struct *mm, unsigned long addr, pte_t *ptep, u64 pte);

struct migentry_folio_facts {
	bool anon;		/* folio_test_anon() */
	bool dirty;		/* folio_test_dirty() */
	bool anon_exclusive;	/* PageAnonExclusive() of the page */
};

int migentry_folio_facts(u64 pfn, struct migentry_folio_facts *out);
void migentry_folio_mark_dirty(u64 pfn);
u64 migentry_page_to_pfn(const struct page *page);
u64 migentry_folio_pfn(const struct folio *folio);

/* TLB and secondary MMUs: -EOPNOTSUPP unless the kernel exports them to us. */
int migentry_invalidate_start(struct mm_struct *mm, unsigned long start, unsigned long end);
void migentry_invalidate_end(struct mm_struct *mm, unsigned long start, unsigned long end);

u32 migentry_nr_online_nodes(void);

#endif /* MIGENTRY_SHIM_H */
