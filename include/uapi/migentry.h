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

#endif /* _UAPI_LINUX_MIGENTRY_H */
