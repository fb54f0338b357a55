/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * migentry: userspace ABI of /dev/migentry.
 *
 * Every argument struct starts with a __u64 size, which must equal sizeof()
 * of that struct as this header defines it; any other value is -EINVAL and
 * nothing else is read. The ioctl number encodes sizeof() of the struct too
 * (_IOWR), so a caller built with a struct of another size uses a different
 * command and gets -ENOTTY before size is looked at. No other sizes are
 * accepted: if a struct ever grows, the larger struct will come with a new
 * ioctl number, and the old number keeps its old struct.
 *
 * On error nothing is copied back: the argument struct and the record array
 * keep their contents. Before any page is looked at, every byte the call
 * will write (the struct's out fields, the records for the range) is proven
 * writable by writing it with the value read from it (which can fault pages
 * in and set soft-dirty, but changes no content), so an output that is not
 * writable is -EFAULT before any PTE changes. Only the results are written
 * after that, once every lock is dropped: records first, then nr_done and
 * vma_flags. The one exception is the caller's own doing: if another thread
 * unmaps or protects the output buffers during the call (or a ROUNDTRIP
 * write-protects them, through uffd-wp, because they lie in its range), that
 * copy can fail with -EFAULT after a ROUNDTRIP changed PTEs, with the
 * records partly written and nr_done and vma_flags as they were.
 */
#ifndef _UAPI_LINUX_MIGENTRY_H
#define _UAPI_LINUX_MIGENTRY_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Counts additions to the ABI: a new MIGENTRY_PTE_* or MIGENTRY_FEAT_* bit, or
 * a request that used to fail now succeeding. Struct layouts and the meaning
 * of existing fields and bits never change. 2: READ_PTE reports PMD-mapped
 * THPs (MIGENTRY_PTE_PMD) instead of failing with -EOPNOTSUPP. 3: ROUNDTRIP
 * and EVALUATE take a PMD-mapped THP of an anonymous VMA whole (-ERANGE for
 * a range over part of one). 4: MIGENTRY_IOC_PMD_STATS.
 */
#define MIGENTRY_ABI_VERSION		4

/* Not claimed in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define MIGENTRY_IOC_MAGIC		0xBE

/* migentry_info.features: what the running kernel supports. */
#define MIGENTRY_FEAT_UFFD_WP		(1ULL << 0)	/* uffd write-protect, incl. shmem markers */
#define MIGENTRY_FEAT_SOFT_DIRTY	(1ULL << 1)	/* soft-dirty tracking (clear_refs 4) */
#define MIGENTRY_FEAT_UFFD_RWP		(1ULL << 2)	/* uffd read-write protect */
#define MIGENTRY_FEAT_NUMA		(1ULL << 3)	/* CONFIG_NUMA; see nr_online_nodes */
#define MIGENTRY_FEAT_MIGRATION_AD	(1ULL << 4)	/* migration entries keep young/dirty */
/*
 * The kernel lets migentry flush a user mm's TLB and secondary MMUs: the
 * test-only "hooked" kernel variant (CONFIG_MIGENTRY_HOOKS) exports
 * flush_tlb_mm_range() and the mmu_notifier range calls to migentry. A stock
 * kernel exports neither. Without this bit, ROUNDTRIP refuses round trips
 * that take rights away from a page (see MIGENTRY_IOC_ROUNDTRIP).
 */
#define MIGENTRY_FEAT_TLB_FLUSH		(1ULL << 5)
/* The typed restore is the kernel's migration restore hook: real migrations use it. */
#define MIGENTRY_FEAT_RESTORE_HOOK	(1ULL << 6)

struct migentry_info {
	__u64 size;		/* in: sizeof(struct migentry_info) */
	__u32 abi_version;	/* out: MIGENTRY_ABI_VERSION */
	__u32 page_size;	/* out: PAGE_SIZE */
	__u64 features;		/* out: MIGENTRY_FEAT_* */
	__u32 nr_online_nodes;	/* out: NUMA nodes online now */
	__u32 reserved;		/* out: 0 */
};

#define MIGENTRY_IOC_INFO	_IOWR(MIGENTRY_IOC_MAGIC, 0x00, struct migentry_info)

/*
 * Decoded state of one page-table entry. For a present entry the bits are the
 * PTE's own; for a non-present one SOFT_DIRTY and UFFD are the swap-PTE bits
 * and YOUNG/DIRTY the A/D bits a migration entry carries.
 */
#define MIGENTRY_PTE_PRESENT	(1U << 0)	/* pte_present() (includes PROT_NONE) */
#define MIGENTRY_PTE_WRITE	(1U << 1)	/* pte_write() */
#define MIGENTRY_PTE_DIRTY	(1U << 2)	/* pte_dirty(): D or SavedDirty */
#define MIGENTRY_PTE_YOUNG	(1U << 3)	/* pte_young() */
#define MIGENTRY_PTE_SOFT_DIRTY	(1U << 4)	/* pte_soft_dirty() / pte_swp_soft_dirty() */
#define MIGENTRY_PTE_UFFD	(1U << 5)	/* uffd-wp: pte_uffd(), pte_swp_uffd(), marker */
#define MIGENTRY_PTE_SPECIAL	(1U << 6)	/* pte_special() */
#define MIGENTRY_PTE_PROTNONE	(1U << 7)	/* present but PROT_NONE (NUMA hint, uffd RWP) */
/*
 * The state is a PMD's: the page is part of a THP mapped by one PMD (ABI
 * version 2). Records stay one per 4 KiB page: each page of the THP gets one,
 * whose states (before, and for ROUNDTRIP/EVALUATE entry and after[]) are the
 * PMD's, each with this bit (raw is the PMD value, the same in every record of
 * the THP), and whose pfns are the PMD's plus the page's index in the THP.
 * For a PMD only MIGENTRY_POLICY_TYPED and _UPSTREAM (7.3's
 * remove_migration_pmd()) are filled; the other policies stay zero.
 */
#define MIGENTRY_PTE_PMD	(1U << 8)

/* Kind of a page-table entry (the kernel's softleaf types, plus PRESENT). */
#define MIGENTRY_LEAF_NONE			0
#define MIGENTRY_LEAF_PRESENT			1
#define MIGENTRY_LEAF_SWAP			2
#define MIGENTRY_LEAF_MIGRATION_READ		3
#define MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE	4
#define MIGENTRY_LEAF_MIGRATION_WRITE		5
#define MIGENTRY_LEAF_DEVICE_PRIVATE_READ	6
#define MIGENTRY_LEAF_DEVICE_PRIVATE_WRITE	7
#define MIGENTRY_LEAF_DEVICE_EXCLUSIVE		8
#define MIGENTRY_LEAF_HWPOISON			9
#define MIGENTRY_LEAF_MARKER			10

/*
 * Restore policies: who decides the PTE that replaces a migration entry.
 * TYPED is migentry's; the others are C references written from the kernel
 * sources they name (see rust/restore.rs for the differences).
 */
#define MIGENTRY_POLICY_TYPED		0	/* migentry's typed restore */
#define MIGENTRY_POLICY_UPSTREAM	1	/* Linux 7.3 remove_migration_pte() */
#define MIGENTRY_POLICY_PRE_6_2		2	/* v6.1: no write-notify for uffd-wp */
#define MIGENTRY_POLICY_PETERX_V3	3	/* v6.1 + Peter Xu's unmerged v3 fix */
#define MIGENTRY_NR_POLICIES		4

/* One page-table entry, decoded. raw and pfn are 0 without CAP_SYS_ADMIN. */
struct migentry_pte_state {
	__u64 raw;		/* the entry value (pte_val()) */
	__u64 pfn;		/* PFN mapped or referred to, 0 if none */
	__u32 kind;		/* MIGENTRY_LEAF_* */
	__u32 flags;		/* MIGENTRY_PTE_* */
};

/* migentry_record.status */
#define MIGENTRY_REC_DONE		0	/* the operation ran on this page */
#define MIGENTRY_REC_NONE		1	/* pte_none(): left alone */
#define MIGENTRY_REC_NOT_PRESENT	2	/* swap, migration, marker...: left alone */
#define MIGENTRY_REC_SPECIAL		3	/* special PTE (shared zeropage): left alone */

/* migentry_record.refused: why the typed restore gave a Write entry no write */
#define MIGENTRY_NOGRANT_NONE		0	/* not refused (or not a Write entry) */
#define MIGENTRY_NOGRANT_VMA_NOT_WRITABLE 1	/* the VMA lacks VM_WRITE */
#define MIGENTRY_NOGRANT_UFFD		2	/* the entry carries the uffd bit */
#define MIGENTRY_NOGRANT_SOFT_DIRTY	3	/* soft-dirty tracked, entry not soft-dirty */

/* What happened to one page. */
struct migentry_record {
	__u64 addr;				/* user address of the page */
	__u32 status;				/* MIGENTRY_REC_* */
	__u32 refused;				/* MIGENTRY_NOGRANT_* */
	struct migentry_pte_state before;	/* the entry as found */
	struct migentry_pte_state entry;	/* the migration entry */
	struct migentry_pte_state after[MIGENTRY_NR_POLICIES]; /* by MIGENTRY_POLICY_* */
};

/*
 * Argument of the range ioctls: [addr, addr + len) of the caller's own
 * memory, page-aligned, inside one VMA, at most MIGENTRY_MAX_PAGES pages.
 * records points at nr_records struct migentry_record; the call fails with
 * -ENOSPC (copying nothing) if that is fewer than the pages in the range.
 * The module's buffers for the call (up to a few MiB for the largest range)
 * are charged to the caller's memory cgroup: -ENOMEM when they do not fit.
 *
 * No range ioctl allocates page tables: pages without them read as
 * MIGENTRY_LEAF_NONE (status MIGENTRY_REC_NONE) and are left alone.
 * READ_PTE and EVALUATE take the mmap lock for reading, so the process's
 * page faults go on while they run; ROUNDTRIP takes it for writing.
 */
#define MIGENTRY_MAX_PAGES		65536

struct migentry_range {
	__u64 size;		/* in: sizeof(struct migentry_range) */
	__u64 addr;		/* in: start, page-aligned */
	__u64 len;		/* in: length in bytes, page-aligned, > 0 */
	__u64 flags;		/* in: per ioctl; unknown bits -> -EINVAL */
	__u64 records;		/* in: user pointer to the record array */
	__u64 nr_records;	/* in: capacity of the record array */
	__u64 nr_done;		/* out: records filled (one per page) */
	__u64 vma_flags;	/* out: MIGENTRY_VMA_* of the VMA, as seen under the lock */
};

/* migentry_range.vma_flags */
#define MIGENTRY_VMA_WRITE		(1ULL << 0)	/* VM_WRITE */
#define MIGENTRY_VMA_SHARED		(1ULL << 1)	/* VM_SHARED */
#define MIGENTRY_VMA_SOFTDIRTY		(1ULL << 2)	/* VM_SOFTDIRTY (not tracking) */
#define MIGENTRY_VMA_UFFD_WP		(1ULL << 3)	/* VM_UFFD_WP */
#define MIGENTRY_VMA_UFFD_RWP		(1ULL << 4)	/* VM_UFFD_RWP */
#define MIGENTRY_VMA_ANON		(1ULL << 5)	/* vma_is_anonymous() */
#define MIGENTRY_VMA_PROT_WRITE		(1ULL << 6)	/* vm_page_prot has _PAGE_RW */
#define MIGENTRY_VMA_SD_TRACKING	(1ULL << 7)	/* soft-dirty tracked per PTE */
#define MIGENTRY_VMA_WRITE_NOTIFY	(1ULL << 8)	/* write-notify in effect */

/*
 * READ_PTE: fills before (and addr, status) for every page; flags must be 0.
 * The entries are read one page table at a time: a fault elsewhere in the
 * range can be seen or not, each entry is one the page table held. A page of
 * a PMD-mapped THP is reported with MIGENTRY_PTE_PMD, read under the PMD
 * lock (ABI version 2; version 1 failed with -EOPNOTSUPP).
 */
#define MIGENTRY_IOC_READ_PTE	_IOWR(MIGENTRY_IOC_MAGIC, 0x01, struct migentry_range)

/*
 * ROUNDTRIP flags: an operation applied to the migration entry while it is in
 * the page table, as if it had raced with the migration (both may be given;
 * CLEAR_SOFT_DIRTY is applied first).
 */
#define MIGENTRY_RT_CLEAR_SOFT_DIRTY	(1ULL << 0)	/* what clear_refs 4 does to it */
#define MIGENTRY_RT_WRPROTECT		(1ULL << 1)	/* what mprotect(PROT_READ) does */
#define MIGENTRY_RT_UFFD_WP		(1ULL << 2)	/* what UFFDIO_WRITEPROTECT does;
							 * needs a uffd-wp registered VMA */

/*
 * ROUNDTRIP: for every present page, under its page-table lock: take the PTE,
 * install the migration entry try_to_migrate_one() would, apply the RT_*
 * operations, restore it with the typed restore and install the result.
 * A PMD-mapped THP of an anonymous VMA is taken whole, under its PMD lock, as
 * set_pmd_migration_entry() and remove_migration_pmd() would (ABI version 3):
 * the range must cover all of it, else the call fails with -ERANGE before
 * anything changes; a THP of another VMA is -EOPNOTSUPP.
 * Records: before, entry, after[] for all policies (after[TYPED] is what was
 * installed), refused.
 *
 * A round trip takes rights away from a page when the PTE it installs allows
 * less than the PTE it replaced: the old one was writable and the new one is
 * not, or the old one was accessible and the new one is PROT_NONE (uffd
 * RWP). Other CPUs may still hold the old translation in their TLBs, so such
 * a round trip needs a TLB flush, which only MIGENTRY_FEAT_TLB_FLUSH provides:
 *
 * - Without MIGENTRY_FEAT_TLB_FLUSH, ROUNDTRIP fails with -EOPNOTSUPP if any
 *   page of the range would lose rights, before it changes any PTE: no page
 *   is round-tripped and nothing is copied back. The module logs the reason
 *   once. Round trips that take no rights away work on every kernel: a
 *   stale TLB entry then allows nothing the new PTE forbids.
 * - With MIGENTRY_FEAT_TLB_FLUSH, the module flushes the range's TLB entries
 *   on all CPUs and invalidates secondary MMUs before the ioctl returns, also
 *   when the walk stopped early with an error after some PTEs were replaced.
 *
 * EVALUATE changes nothing and works on every kernel.
 */
#define MIGENTRY_IOC_ROUNDTRIP	_IOWR(MIGENTRY_IOC_MAGIC, 0x02, struct migentry_range)

/* EVALUATE: ROUNDTRIP's records, computed without changing anything. */
#define MIGENTRY_IOC_EVALUATE	_IOWR(MIGENTRY_IOC_MAGIC, 0x03, struct migentry_range)

/*
 * STATS: what the typed restore did as the kernel's migration restore hook
 * (the test-only hooked kernel variant; everything 0 elsewhere). Counters
 * run from module load; the kernel_* ones are the kernel's own.
 */
#define MIGENTRY_STATS_HOOK_AVAILABLE	(1ULL << 0)	/* the kernel has the hook */
#define MIGENTRY_STATS_HOOK_REGISTERED	(1ULL << 1)	/* migentry is registered as it */

struct migentry_stats {
	__u64 size;		/* in: sizeof(struct migentry_stats) */
	__u64 flags;		/* out: MIGENTRY_STATS_* */
	__u64 restores;		/* out: PTEs the typed hook restored (PMDs: PMD_STATS) */
	__u64 writable;		/* out: ... writable */
	__u64 write_protected;	/* out: ... write-protected, no uffd bit */
	__u64 uffd;		/* out: ... with the uffd bit */
	__u64 refused[3];	/* out: Write entries refused write, by MIGENTRY_NOGRANT_* - 1 */
	__u64 divergences[4];	/* out: PTEs unlike C's, by documented divergence D1..D4 */
	__u64 unexpected;	/* out: PTEs unlike C's in an undocumented way (0) */
	__u64 c_write_uffd;	/* out: C's PTE was writable with the uffd bit and the
				 * typed one was not: the 2022 bug, prevented (pre62) */
	__u64 left_to_c;	/* out: calls where C's PTE was kept: not a migration entry,
				 * or the VMA changed between C's read and the hook's */
	__u64 kernel_called;	/* out: the kernel consulted the hook */
	__u64 kernel_rejected;	/* out: the kernel kept C's PTE: the hook's broke the contract */
	__u64 kernel_unseen;	/* out: restores the hook was not asked about (hugetlb,
				 * device-private, zeropage) */
};

#define MIGENTRY_IOC_STATS	_IOWR(MIGENTRY_IOC_MAGIC, 0x04, struct migentry_stats)

/*
 * PMD_STATS: the same for PMD-mapped THPs, whose migrations end in
 * remove_migration_pmd(), which asks the hook for the PMD (hooked kernel
 * variant, patches/hooked/0003). Counters run from module load.
 */
struct migentry_pmd_stats {
	__u64 size;		/* in: sizeof(struct migentry_pmd_stats) */
	__u64 flags;		/* out: MIGENTRY_STATS_* */
	__u64 restores;		/* out: PMDs the typed hook restored */
	__u64 writable;		/* out: ... writable */
	__u64 write_protected;	/* out: ... write-protected, no uffd bit */
	__u64 uffd;		/* out: ... with the uffd bit */
	__u64 refused[3];	/* out: Write entries refused write, by MIGENTRY_NOGRANT_* - 1 */
	__u64 divergences[3];	/* out: PMDs unlike C's, by documented divergence P1..P3 */
	__u64 unexpected;	/* out: PMDs unlike C's in an undocumented way (0) */
	__u64 c_write_uffd;	/* out: C's PMD was writable with the uffd bit */
	__u64 left_to_c;	/* out: calls where C's PMD was kept (see left_to_c above) */
	__u64 kernel_called;	/* out: the kernel consulted the hook about a PMD */
	__u64 kernel_rejected;	/* out: the kernel kept C's PMD: the hook's broke the contract */
};

#define MIGENTRY_IOC_PMD_STATS	_IOWR(MIGENTRY_IOC_MAGIC, 0x05, struct migentry_pmd_stats)

#endif /* _UAPI_LINUX_MIGENTRY_H */
