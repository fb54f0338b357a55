/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the migentry selftests: the device, memory of each type,
 * and ways to observe a PTE from userspace (pagemap bits, fault counts,
 * SIGSEGV).
 */
#ifndef MIGENTRY_LIB_H
#define MIGENTRY_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include <uapi/migentry.h>

#define ME_DEV "/dev/migentry"

/* /proc/PID/pagemap bits (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_EXCLUSIVE	(1ULL << 56)	/* PM_MMAP_EXCLUSIVE: mapped by one process */
#define PM_UFFD_WP	(1ULL << 57)
#define PM_FILE		(1ULL << 61)
#define PM_SWAP		(1ULL << 62)
#define PM_PRESENT	(1ULL << 63)

static inline size_t me_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static inline int me_open(void)
{
	return open(ME_DEV, O_RDWR | O_CLOEXEC);
}

/*
 * Run a range ioctl on [addr, addr + len); records must hold len / page
 * entries. Returns the ioctl's result; *arg receives the argument as returned.
 */
static inline int me_range(int fd, unsigned long cmd, void *addr, size_t len, __u64 flags,
			   struct migentry_record *recs, size_t nr, struct migentry_range *arg)
{
	struct migentry_range a = {
		.size = sizeof(a),
		.addr = (uintptr_t)addr,
		.len = len,
		.flags = flags,
		.records = (uintptr_t)recs,
		.nr_records = nr,
	};
	int ret = ioctl(fd, cmd, &a);

	if (arg)
		*arg = a;
	return ret;
}

/* One page through ROUNDTRIP or EVALUATE (cmd), its record in *rec. */
static inline int me_one(int fd, unsigned long cmd, void *addr, __u64 flags,
			 struct migentry_record *rec)
{
	return me_range(fd, cmd, addr, me_page(), flags, rec, 1, NULL);
}

static inline uint64_t me_pagemap(void *addr)
{
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent), (off_t)((uintptr_t)addr / me_page()) * 8) != 8)
		ent = 0;
	close(fd);
	return ent;
}

/* echo 4 > /proc/self/clear_refs: clear soft-dirty (and start tracking). */
static inline int me_clear_soft_dirty(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, "4", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

static inline long me_minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt;
}

/* Page faults taken by one store of v at p (0: the PTE was writable). */
static inline long me_store_faults(void *p, char v)
{
	long before = me_minflt();

	*(volatile char *)p = v;
	return me_minflt() - before;
}

static sigjmp_buf me_segv_jmp;

static inline void me_segv_handler(int sig)
{
	siglongjmp(me_segv_jmp, 1);
}

/* Whether a store to p raises SIGSEGV (the store does not happen then). */
static inline bool me_store_segv(void *p, char v)
{
	struct sigaction sa = { .sa_handler = me_segv_handler }, old;
	bool segv = false;

	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(me_segv_jmp, 1) == 0)
		*(volatile char *)p = v;
	else
		segv = true;
	sigaction(SIGSEGV, &old, NULL);
	return segv;
}

/* Memory types the scenarios run on. */
enum me_mem {
	ME_PRIVATE_ANON,
	ME_SHARED_ANON,
	ME_MEMFD_SHARED,
	ME_TMPFS_PRIVATE,
};

/*
 * Map len bytes of the given type, read-write, without THP. *fdp receives
 * the backing file (or -1). Returns MAP_FAILED on error.
 */
static inline void *me_map(enum me_mem type, size_t len, int *fdp)
{
	char path[] = "/tmp/migentry-XXXXXX";
	int fd = -1, flags = MAP_PRIVATE;
	void *p;

	switch (type) {
	case ME_PRIVATE_ANON:
		flags = MAP_PRIVATE | MAP_ANONYMOUS;
		break;
	case ME_SHARED_ANON:
		flags = MAP_SHARED | MAP_ANONYMOUS;
		break;
	case ME_MEMFD_SHARED:
		fd = memfd_create("migentry", MFD_CLOEXEC);
		flags = MAP_SHARED;
		break;
	case ME_TMPFS_PRIVATE:
		fd = mkstemp(path);
		if (fd >= 0)
			unlink(path);
		flags = MAP_PRIVATE;
		break;
	}
	if (type == ME_MEMFD_SHARED || type == ME_TMPFS_PRIVATE) {
		if (fd < 0 || ftruncate(fd, (off_t)len)) {
			if (fd >= 0)
				close(fd);
			return MAP_FAILED;
		}
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p != MAP_FAILED)
		madvise(p, len, MADV_NOHUGEPAGE);
	*fdp = fd;
	return p;
}

/* The test pattern: byte at offset off for a given seed. */
static inline char me_pattern(size_t off, unsigned int seed)
{
	return (char)((off * 131 + seed) & 0xff);
}

static inline void me_fill(char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = me_pattern(i, seed);
}

static inline bool me_check(const char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != me_pattern(i, seed))
			return false;
	return true;
}

/*
 * Push [p, p + len) out to swap with MADV_PAGEOUT until no page of it is
 * mapped any more (reclaim is best effort, so retry a few times). Private
 * anon pages then have swap PTEs; shmem pages have none PTEs. Needs the
 * guest's swap device.
 */
static inline bool me_page_out(char *p, size_t len)
{
	size_t off;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		bool mapped = false;

		if (madvise(p, len, MADV_PAGEOUT))
			return false;
		for (off = 0; off < len; off += me_page())
			if (me_pagemap(p + off) & PM_PRESENT)
				mapped = true;
		if (!mapped)
			return true;
	}
	return false;
}

static inline bool me_has(const struct migentry_pte_state *s, __u32 flags)
{
	return (s->flags & flags) == flags;
}

/*
 * Whether the running kernel offers MIGENTRY_FEAT_TLB_FLUSH (the hooked
 * variant): 1 or 0, or -1 (errno set) if INFO fails. Without it, ROUNDTRIP
 * refuses with EOPNOTSUPP a round trip that would take rights away from a
 * page (a writable PTE coming back read-only, an accessible one PROT_NONE),
 * before it changes anything; see docs/abi.md, "Rights taken away and the
 * TLB". EVALUATE works either way.
 */
static inline int me_tlb_flush(int fd)
{
	struct migentry_info info = { .size = sizeof(info) };

	if (ioctl(fd, MIGENTRY_IOC_INFO, &info))
		return -1;
	return !!(info.features & MIGENTRY_FEAT_TLB_FLUSH);
}

/* What a call that must copy nothing back starts with in its output. */
#define ME_SENTINEL_BYTE	0xa5
#define ME_SENTINEL		0xa5a5a5a5a5a5a5a5ULL

/*
 * me_range() with the out fields of the argument (nr_done, vma_flags) and
 * all of recs[0..nr) filled with sentinels first, so that the caller can
 * tell whether a failing call wrote anything back (me_untouched()). errno
 * is the ioctl's.
 */
static inline int me_range_sentinel(int fd, unsigned long cmd, void *addr, size_t len,
				    __u64 flags, struct migentry_record *recs, size_t nr,
				    struct migentry_range *arg)
{
	struct migentry_range a = {
		.size = sizeof(a),
		.addr = (uintptr_t)addr,
		.len = len,
		.flags = flags,
		.records = (uintptr_t)recs,
		.nr_records = nr,
		.nr_done = ME_SENTINEL,
		.vma_flags = ME_SENTINEL,
	};
	int ret;

	memset(recs, ME_SENTINEL_BYTE, nr * sizeof(*recs));
	ret = ioctl(fd, cmd, &a);
	*arg = a;
	return ret;
}

/*
 * After me_range_sentinel(): NULL if neither the argument nor any record
 * was written, else what was (into buf).
 */
static inline const char *me_untouched(const struct migentry_range *arg,
				       const struct migentry_record *recs, size_t nr,
				       char *buf, size_t n)
{
	const unsigned char *b = (const unsigned char *)recs;
	size_t i;

	if (arg->nr_done != ME_SENTINEL || arg->vma_flags != ME_SENTINEL) {
		snprintf(buf, n, "argument written back: nr_done %#llx, vma_flags %#llx",
			 (unsigned long long)arg->nr_done, (unsigned long long)arg->vma_flags);
		return buf;
	}
	for (i = 0; i < nr * sizeof(*recs); i++)
		if (b[i] != ME_SENTINEL_BYTE) {
			snprintf(buf, n, "record %zu written at byte %zu", i / sizeof(*recs),
				 i % sizeof(*recs));
			return buf;
		}
	return NULL;
}

/*
 * What the CPU itself may change in a present PTE at any time: accessed and
 * dirty (x86 _PAGE_ACCESSED, _PAGE_DIRTY). Comparisons of one PTE over time
 * leave them out.
 */
#define ME_HW_FLAGS	(MIGENTRY_PTE_YOUNG | MIGENTRY_PTE_DIRTY)
#define ME_X86_PTE_AD	((1ULL << 5) | (1ULL << 6))

/*
 * The same entry, but for the bits the CPU may set: same kind, same
 * PRESENT/WRITE/SOFT_DIRTY/UFFD/SPECIAL/PROTNONE, same PFN and raw value
 * (both 0 without CAP_SYS_ADMIN).
 */
static inline bool me_pte_same(const struct migentry_pte_state *a,
			       const struct migentry_pte_state *b)
{
	return a->kind == b->kind &&
	       (a->flags & ~ME_HW_FLAGS) == (b->flags & ~ME_HW_FLAGS) &&
	       a->pfn == b->pfn && (a->raw & ~ME_X86_PTE_AD) == (b->raw & ~ME_X86_PTE_AD);
}

/*
 * A ROUNDTRIP of [addr, addr + len) with flags that a kernel without
 * MIGENTRY_FEAT_TLB_FLUSH must refuse: it fails with EOPNOTSUPP, copies
 * nothing back (argument and records keep their sentinels) and changes no
 * PTE (READ_PTE before and after agree, see me_pte_same()). NULL if all of
 * that holds, else what did not (into buf). Data and behaviour (does a
 * store fault) are the caller's to check.
 */
static inline const char *me_refused_roundtrip(int fd, void *addr, size_t len, __u64 flags,
					       char *buf, size_t n)
{
	size_t nr = len / me_page(), i;
	struct migentry_record *before = calloc(nr, sizeof(*before));
	struct migentry_record *after = calloc(nr, sizeof(*after));
	struct migentry_record *recs = calloc(nr, sizeof(*recs));
	const char *why = NULL;
	struct migentry_range arg;
	int ret, err;

	if (!before || !after || !recs) {
		snprintf(buf, n, "out of memory");
		why = buf;
		goto out;
	}
	if (me_range(fd, MIGENTRY_IOC_READ_PTE, addr, len, 0, before, nr, NULL)) {
		snprintf(buf, n, "READ_PTE before: %s", strerror(errno));
		why = buf;
		goto out;
	}
	errno = 0;
	ret = me_range_sentinel(fd, MIGENTRY_IOC_ROUNDTRIP, addr, len, flags, recs, nr, &arg);
	err = errno;
	if (ret != -1 || err != EOPNOTSUPP) {
		snprintf(buf, n, "ROUNDTRIP flags %#llx returned %d, errno %d (%s), not EOPNOTSUPP",
			 (unsigned long long)flags, ret, err, strerror(err));
		why = buf;
		goto out;
	}
	why = me_untouched(&arg, recs, nr, buf, n);
	if (why)
		goto out;
	if (me_range(fd, MIGENTRY_IOC_READ_PTE, addr, len, 0, after, nr, NULL)) {
		snprintf(buf, n, "READ_PTE after: %s", strerror(errno));
		why = buf;
		goto out;
	}
	for (i = 0; i < nr; i++)
		if (!me_pte_same(&before[i].before, &after[i].before)) {
			snprintf(buf, n, "page %zu changed: kind %u -> %u, flags %#x -> %#x, raw %#llx -> %#llx",
				 i, before[i].before.kind, after[i].before.kind,
				 before[i].before.flags, after[i].before.flags,
				 (unsigned long long)before[i].before.raw,
				 (unsigned long long)after[i].before.raw);
			why = buf;
			goto out;
		}
out:
	free(before);
	free(after);
	free(recs);
	return why;
}

/*
 * A non-blocking userfaultfd with the UFFDIO_API handshake done for
 * features; -1 (errno set) if either step fails.
 */
static inline int me_uffd_open(__u64 features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int err;

	if (uffd < 0)
		return -1;
	if (ioctl(uffd, UFFDIO_API, &api)) {
		err = errno;
		close(uffd);
		errno = err;
		return -1;
	}
	return uffd;
}

/* UFFDIO_REGISTER [p, p + len) on uffd in mode (UFFDIO_REGISTER_MODE_*). */
static inline int me_uffd_register(int uffd, void *p, size_t len, __u64 mode)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = mode,
	};

	return ioctl(uffd, UFFDIO_REGISTER, &reg);
}

#endif /* MIGENTRY_LIB_H */
