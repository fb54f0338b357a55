/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C half of migentry: wrappers for static inline kernel helpers that the Rust
 * half cannot reach through kernel::bindings, and the C view of the struct
 * layouts that the Rust half relies on.
 *
 * Every function here is declared by hand in rust/ffi.rs; keep both in sync.
 */
#ifndef MIGENTRY_SHIM_H
#define MIGENTRY_SHIM_H

#include <linux/types.h>

/* One field (or size) whose offset C and Rust must agree on. */
struct migentry_layout_field {
	const char *name;	/* "struct.field" or "sizeof struct" */
	size_t value;
};

const struct migentry_layout_field *migentry_layout(size_t *len);

u64 migentry_features(void);
u32 migentry_nr_online_nodes(void);
bool migentry_capable_sys_admin(void);
void migentry_shim_init(void);
bool migentry_migration_ad(void);

/*
 * Page-table entry values. pte_t travels as its pteval_t (u64) so that both
 * sides agree on the ABI without bindgen.
 */
u32 migentry_pte_decode(u64 pte, u32 *leaf, u64 *pfn);
u64 migentry_pfn_pte(u64 pfn, u64 prot);
u64 migentry_pte_mkold(u64 pte);
u64 migentry_pte_mkdirty(u64 pte);
u64 migentry_pte_mksoft_dirty(u64 pte);
u64 migentry_pte_clear_soft_dirty(u64 pte);
u64 migentry_pte_wrprotect(u64 pte);
u64 migentry_pte_mkuffd(u64 pte);
u64 migentry_pte_clear_uffd(u64 pte);
u64 migentry_pte_mkwrite(u64 pte, bool shadow_stack);
u64 migentry_pte_mkprotnone(u64 pte);
u64 migentry_prot_private(void);
u64 migentry_prot_shared(void);
bool migentry_prot_writable(u64 prot);

/* Migration entries (softleaf), as non-present PTE values. */
u64 migentry_mk_migration(u32 leaf, u64 pfn, bool young, bool dirty);
u64 migentry_migration_rekind(u64 pte, u32 leaf);
u64 migentry_swp_soft_dirty(u64 pte, bool set);
u64 migentry_swp_uffd(u64 pte, bool set);

/*
 * What a restore needs to know about a VMA. Filled from a real VMA by
 * migentry_vma_facts() or built directly by the differential test.
 */
struct migentry_vma_facts {
	u64 page_prot;		/* pgprot_val(vma->vm_page_prot) */
	u8 write;		/* VM_WRITE */
	u8 shared;		/* VM_SHARED */
	u8 softdirty;		/* VM_SOFTDIRTY (set = not tracking) */
	u8 uffd_wp;		/* VM_UFFD_WP */
	u8 uffd_rwp;		/* VM_UFFD_RWP */
	u8 shadow_stack;	/* VM_SHADOW_STACK */
	u8 unsupported;		/* VM_HUGETLB, VM_PFNMAP or VM_IO: not handled */
	u8 anon;		/* vma_is_anonymous() */
};

struct mm_struct;
struct vm_area_struct;

void migentry_mmap_write_lock(struct mm_struct *mm);
void migentry_mmap_write_unlock(struct mm_struct *mm);
void migentry_vma_start_write(struct vm_area_struct *vma);
int migentry_check_tables(struct mm_struct *mm, unsigned long start, unsigned long end);
u64 migentry_ptep_get(pte_t *ptep);
u64 migentry_ptep_get_and_clear(struct mm_struct *mm, unsigned long addr, pte_t *ptep);
void migentry_set_pte_at(struct mm_struct *mm, unsigned long addr, pte_t *ptep, u64 pte);

/* The folio mapped by a present PTE, as seen under its page-table lock. */
struct migentry_folio_facts {
	u32 refcount;		/* folio_ref_count() */
	u32 mapcount;		/* folio_mapcount() */
	u8 anon;		/* folio_test_anon() */
	u8 dirty;		/* folio_test_dirty() */
	u8 anon_exclusive;	/* PageAnonExclusive() of the page */
	u8 large;		/* folio_test_large() */
};

int migentry_folio_facts(u64 pfn, struct migentry_folio_facts *out);
void migentry_folio_mark_dirty(u64 pfn);
bool migentry_tlb_flush_supported(void);
int migentry_flush_tlb_mm(struct mm_struct *mm);

void migentry_vma_facts(const struct vm_area_struct *vma, struct migentry_vma_facts *out);

u64 migentry_ref_restore(u32 policy, u64 swp_pte,
			 const struct migentry_vma_facts *vma,
			 bool folio_dirty, bool folio_anon, bool *exclusive);

#endif /* MIGENTRY_SHIM_H */
