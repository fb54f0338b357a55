/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * migentry: userspace ABI of /dev/migentry.
 *
 * Every argument struct starts with a __u64 size that the caller sets to
 * sizeof() of the struct it was compiled with. The kernel rejects sizes it
 * does not know with -EINVAL, so a struct can grow in a later ABI version
 * without breaking old binaries. On error nothing is copied back.
 */
#ifndef _UAPI_LINUX_MIGENTRY_H
#define _UAPI_LINUX_MIGENTRY_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MIGENTRY_ABI_VERSION		1

/* Not claimed in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define MIGENTRY_IOC_MAGIC		0xBE

/* migentry_info.features: what the running kernel supports. */
#define MIGENTRY_FEAT_UFFD_WP		(1ULL << 0)	/* uffd write-protect, incl. shmem markers */
#define MIGENTRY_FEAT_SOFT_DIRTY	(1ULL << 1)	/* soft-dirty tracking (clear_refs 4) */
#define MIGENTRY_FEAT_UFFD_RWP		(1ULL << 2)	/* uffd read-write protect */
#define MIGENTRY_FEAT_NUMA		(1ULL << 3)	/* CONFIG_NUMA; see nr_online_nodes */

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
#define MIGENTRY_PTE_UFFD	(1U << 5)	/* pte_uffd() / pte_swp_uffd() (uffd-wp) */
#define MIGENTRY_PTE_SPECIAL	(1U << 6)	/* pte_special() */
#define MIGENTRY_PTE_PROTNONE	(1U << 7)	/* present but PROT_NONE (NUMA hint, uffd RWP) */

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

#endif /* _UAPI_LINUX_MIGENTRY_H */
