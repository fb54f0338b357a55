// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_oracle: the predictions against the kernel itself. For each
 * scenario, EVALUATE predicts what the upstream and typed policies restore;
 * then the pages are really migrated to the other NUMA node with
 * move_pages(2), and the PTEs the kernel installed must equal, on present,
 * write, dirty, young, soft-dirty and uffd, the prediction of the restore the
 * kernel used: 7.3's C (the C reference of remove_migration_pte()), or, where
 * migentry is the kernel's migration restore hook (the hooked variant,
 * MIGENTRY_FEAT_RESTORE_HOOK), the typed restore, whose counters must then
 * show every restore and divergence. Where the typed prediction differs from
 * the upstream one, it must be a documented divergence (docs/design.md §4).
 */
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

#define NPAGES 64
#define COMPARED (MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE | MIGENTRY_PTE_DIRTY | \
		  MIGENTRY_PTE_YOUNG | MIGENTRY_PTE_SOFT_DIRTY | MIGENTRY_PTE_UFFD)

static long move_pages(int count, void **pages, const int *nodes, int *status, int flags)
{
	return syscall(__NR_move_pages, 0, count, pages, nodes, status, flags);
}

FIXTURE(oracle)
{
	int dev, fd, uffd;
	char *p, *base;
	size_t len;
	pid_t child;
	int to_child[2];
	struct migentry_record before[NPAGES], predicted[NPAGES], after[NPAGES];
};

FIXTURE_VARIANT(oracle)
{
	enum me_mem type;
	bool readonly;		/* mprotect(PROT_READ) after writing */
	bool uffd_wp;		/* uffd-wp on every other page */
	bool clear_refs;	/* soft-dirty tracked: clear_refs, then rewrite every third page */
	bool fork;		/* a child shares the pages (COW) */
	bool david;		/* memfd, clear_refs, then a merge brings VM_SOFTDIRTY back */
	unsigned int divergences;	/* typed/upstream differences expected */
};

FIXTURE_VARIANT_ADD(oracle, private_anon) { .type = ME_PRIVATE_ANON };
FIXTURE_VARIANT_ADD(oracle, shared_anon) { .type = ME_SHARED_ANON };
FIXTURE_VARIANT_ADD(oracle, memfd_shared) { .type = ME_MEMFD_SHARED };
FIXTURE_VARIANT_ADD(oracle, private_anon_readonly) { .type = ME_PRIVATE_ANON, .readonly = true };
FIXTURE_VARIANT_ADD(oracle, memfd_readonly) { .type = ME_MEMFD_SHARED, .readonly = true };
FIXTURE_VARIANT_ADD(oracle, private_anon_uffd_wp) { .type = ME_PRIVATE_ANON, .uffd_wp = true };
FIXTURE_VARIANT_ADD(oracle, memfd_uffd_wp) { .type = ME_MEMFD_SHARED, .uffd_wp = true };
FIXTURE_VARIANT_ADD(oracle, private_anon_soft_dirty) { .type = ME_PRIVATE_ANON, .clear_refs = true };
FIXTURE_VARIANT_ADD(oracle, memfd_soft_dirty) { .type = ME_MEMFD_SHARED, .clear_refs = true };
FIXTURE_VARIANT_ADD(oracle, shared_anon_soft_dirty) { .type = ME_SHARED_ANON, .clear_refs = true };
FIXTURE_VARIANT_ADD(oracle, private_anon_fork) { .type = ME_PRIVATE_ANON, .fork = true };
/* Every page is read-only, yet the kernel's own migration hands write back (D1). */
FIXTURE_VARIANT_ADD(oracle, memfd_merged_david)
{
	.type = ME_MEMFD_SHARED, .david = true, .divergences = NPAGES,
};

FIXTURE_SETUP(oracle)
{
	size_t pg = me_page();
	unsigned int i;

	self->dev = me_open();
	ASSERT_LE(0, self->dev);
	self->uffd = -1;
	self->child = -1;
	self->len = NPAGES * pg;
	self->base = NULL;
	if (variant->david) {
		self->fd = memfd_create("david", MFD_CLOEXEC);
		ASSERT_LE(0, self->fd);
		ASSERT_EQ(0, ftruncate(self->fd, 2 * self->len));
		self->base = mmap(NULL, 2 * self->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->base);
		self->p = mmap(self->base, self->len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, self->fd, 0);
		ASSERT_EQ(self->base, self->p);
		me_fill(self->p, self->len, 21);
		ASSERT_EQ(0, me_clear_soft_dirty());
		ASSERT_EQ(self->base + self->len,
			  mmap(self->base + self->len, self->len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, self->fd, self->len));
	} else {
		self->p = me_map(variant->type, self->len, &self->fd);
		ASSERT_NE(MAP_FAILED, self->p);
		me_fill(self->p, self->len, 21);
	}
	if (variant->uffd_wp) {
		struct uffdio_api api = {
			.api = UFFD_API,
			.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
		};
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)self->p, .len = self->len },
			.mode = UFFDIO_REGISTER_MODE_WP,
		};

		self->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		ASSERT_LE(0, self->uffd);
		ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_API, &api));
		ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_REGISTER, &reg));
		for (i = 0; i < NPAGES; i += 2) {
			struct uffdio_writeprotect wp = {
				.range = { .start = (uintptr_t)self->p + i * pg, .len = pg },
				.mode = UFFDIO_WRITEPROTECT_MODE_WP,
			};

			ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_WRITEPROTECT, &wp));
		}
	}
	if (variant->clear_refs) {
		ASSERT_EQ(0, me_clear_soft_dirty());
		for (i = 0; i < NPAGES; i += 3)
			self->p[i * pg] = me_pattern(i * pg, 21);
	}
	if (variant->readonly)
		ASSERT_EQ(0, mprotect(self->p, self->len, PROT_READ));
	if (variant->fork) {
		char c;

		ASSERT_EQ(0, pipe(self->to_child));
		self->child = fork();
		ASSERT_LE(0, self->child);
		if (self->child == 0) {
			if (read(self->to_child[0], &c, 1) != 1)
				_exit(2);
			_exit(me_check(self->p, self->len, 21) ? 0 : 3);
		}
	}
}

FIXTURE_TEARDOWN(oracle)
{
	if (self->child > 0) {
		int status;

		if (write(self->to_child[1], "x", 1) != 1)
			kill(self->child, SIGKILL);
		waitpid(self->child, &status, 0);
	}
	if (self->uffd >= 0)
		close(self->uffd);
	if (self->base)
		munmap(self->base, 2 * self->len);
	else
		munmap(self->p, self->len);
	if (self->fd >= 0)
		close(self->fd);
	close(self->dev);
}

/* Is the typed/upstream difference of this record one that docs/design.md documents? */
static bool documented(const struct migentry_record *r, __u64 vma_flags)
{
	bool uffd = r->entry.flags & MIGENTRY_PTE_UFFD;

	if (r->entry.kind == MIGENTRY_LEAF_MIGRATION_WRITE)
		return r->refused != MIGENTRY_NOGRANT_NONE;		/* D2, D3, D4 */
	return (vma_flags & MIGENTRY_VMA_PROT_WRITE) && !uffd;	/* D1 */
}

static void stats(int dev, struct migentry_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	if (ioctl(dev, MIGENTRY_IOC_STATS, s))
		s->size = 0;
}

TEST_F(oracle, kernel_matches_prediction)
{
	struct migentry_info info = { .size = sizeof(info) };
	struct migentry_stats s0, s1;
	void *pages[NPAGES];
	int nodes[NPAGES], status[NPAGES];
	struct migentry_range arg;
	unsigned int i, d, diverged = 0, policy;
	__u64 div0 = 0, div1 = 0;
	size_t pg = me_page();
	bool hook;

	ASSERT_EQ(0, ioctl(self->dev, MIGENTRY_IOC_INFO, &info));
	hook = info.features & MIGENTRY_FEAT_RESTORE_HOOK;
	policy = hook ? MIGENTRY_POLICY_TYPED : MIGENTRY_POLICY_UPSTREAM;
	TH_LOG("the kernel restores with %s", hook ? "migentry's typed hook" : "7.3's C");
	stats(self->dev, &s0);
	ASSERT_NE(0, s0.size) TH_LOG("MIGENTRY_IOC_STATS: %s", strerror(errno));
	ASSERT_EQ(hook, !!(s0.flags & MIGENTRY_STATS_HOOK_REGISTERED));

	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, self->len, 0,
			      self->before, NPAGES, NULL));
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_EVALUATE, self->p, self->len, 0,
			      self->predicted, NPAGES, &arg));
	for (i = 0; i < NPAGES; i++)
		pages[i] = self->p + i * pg;
	ASSERT_EQ(0, move_pages(NPAGES, pages, NULL, status, 0));
	for (i = 0; i < NPAGES; i++) {
		ASSERT_LE(0, status[i]) TH_LOG("page %u: not on a node (%d)", i, status[i]);
		nodes[i] = !status[i];
	}
	ASSERT_EQ(0, move_pages(NPAGES, pages, nodes, status, MPOL_MF_MOVE_ALL));
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(nodes[i], status[i]) TH_LOG("page %u did not move", i);
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, self->len, 0,
			      self->after, NPAGES, NULL));
	stats(self->dev, &s1);
	ASSERT_NE(0, s1.size);

	for (i = 0; i < NPAGES; i++) {
		const struct migentry_record *pr = &self->predicted[i];
		__u32 up = pr->after[MIGENTRY_POLICY_UPSTREAM].flags & COMPARED;
		__u32 typed = pr->after[MIGENTRY_POLICY_TYPED].flags & COMPARED;
		__u32 want = pr->after[policy].flags & COMPARED;
		__u32 got = self->after[i].before.flags & COMPARED;

		EXPECT_EQ(MIGENTRY_REC_DONE, pr->status);
		EXPECT_NE(self->before[i].before.pfn, self->after[i].before.pfn);
		EXPECT_EQ(want, got) TH_LOG("page %u: kernel %#x, predicted %#x (entry kind %u %#x)",
					    i, got, want, pr->entry.kind, pr->entry.flags);
		if (typed != up) {
			diverged++;
			EXPECT_TRUE(documented(pr, arg.vma_flags))
				TH_LOG("page %u: typed %#x vs upstream %#x is not documented", i, typed, up);
		}
	}
	TH_LOG("%u pages migrated, %u typed divergences", NPAGES, diverged);
	EXPECT_EQ(variant->divergences, diverged);

	/* Every page went through the hook, which only ever diverged as documented. */
	for (d = 0; d < 4; d++) {
		div0 += s0.divergences[d];
		div1 += s1.divergences[d];
	}
	TH_LOG("hook counters: %llu restores, %llu divergences, kernel called it %llu times",
	       (unsigned long long)(s1.restores - s0.restores),
	       (unsigned long long)(div1 - div0),
	       (unsigned long long)(s1.kernel_called - s0.kernel_called));
	if (hook) {
		/* Each page is mapped once, twice with the forked child. */
		EXPECT_LE(NPAGES, s1.restores - s0.restores);
		EXPECT_LE(NPAGES, s1.kernel_called - s0.kernel_called);
		EXPECT_EQ(0, s1.kernel_rejected - s0.kernel_rejected);
		EXPECT_EQ(0, s1.unexpected - s0.unexpected);
		EXPECT_EQ(variant->divergences * (variant->fork ? 2 : 1), div1 - div0);
	} else {
		EXPECT_EQ(0, s1.restores - s0.restores);
	}
	EXPECT_TRUE(me_check(self->p, self->len, 21));
}

/* ------------------------------------------------------------------ */
/* PMD-mapped THPs: remove_migration_pmd() and, on the hooked kernel,  */
/* the typed PMD restore (MIGENTRY_IOC_PMD_STATS).                     */

#define THP_SIZE (2UL << 20)

/* AnonHugePages of the VMA that holds p, in kB; -1 if not found. */
static long thp_kb(const void *p)
{
	unsigned long start, end, a = (uintptr_t)p;
	bool in = false;
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = start <= a && a < end;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static void pmd_stats(int dev, struct migentry_pmd_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	if (ioctl(dev, MIGENTRY_IOC_PMD_STATS, s))
		s->size = 0;
}

FIXTURE(thp)
{
	int dev;
	char *map, *p;
};

FIXTURE_VARIANT(thp)
{
	bool clear_refs;	/* soft-dirty: clear_refs before the migration */
};

FIXTURE_VARIANT_ADD(thp, private_anon) { };
FIXTURE_VARIANT_ADD(thp, soft_dirty) { .clear_refs = true };

FIXTURE_SETUP(thp)
{
	self->dev = me_open();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", ME_DEV, strerror(errno));
	self->map = mmap(NULL, 2 * THP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->p = (char *)(((uintptr_t)self->map + THP_SIZE - 1) & ~(THP_SIZE - 1));
	ASSERT_EQ(0, madvise(self->p, THP_SIZE, MADV_HUGEPAGE));
	me_fill(self->p, THP_SIZE, 31);
	/* The guest's kernel has THP=always: a missing THP is a failure, not a skip. */
	ASSERT_EQ((long)(THP_SIZE >> 10), thp_kb(self->p))
		TH_LOG("the 2 MiB range is not one PMD-mapped THP");
}

FIXTURE_TEARDOWN(thp)
{
	munmap(self->map, 2 * THP_SIZE);
	close(self->dev);
}

/*
 * The THP goes to the other node and back as one PMD migration entry. The
 * restored PMD must behave as the documented restore says: a written private
 * THP comes back writable (a store takes no fault); after clear_refs the
 * entry is not writable, so the PMD comes back write-protected, and the next
 * store faults and marks the page soft-dirty. On the hooked kernel with
 * migentry as the hook, the typed PMD restore made each of these PMDs.
 */
TEST_F(thp, migration_restores_pmd)
{
	struct migentry_info info = { .size = sizeof(info) };
	struct migentry_pmd_stats s0, s1;
	size_t pg = me_page(), n = THP_SIZE / pg, i;
	void **pages = calloc(n, sizeof(*pages));
	int *nodes = calloc(n, sizeof(*nodes)), *status = calloc(n, sizeof(*status));
	unsigned int trip;
	bool hook;

	ASSERT_TRUE(pages && nodes && status);
	ASSERT_EQ(0, ioctl(self->dev, MIGENTRY_IOC_INFO, &info));
	hook = info.features & MIGENTRY_FEAT_RESTORE_HOOK;
	pmd_stats(self->dev, &s0);
	ASSERT_NE(0, s0.size) TH_LOG("MIGENTRY_IOC_PMD_STATS: %s", strerror(errno));
	if (variant->clear_refs)
		ASSERT_EQ(0, me_clear_soft_dirty());

	for (i = 0; i < n; i++)
		pages[i] = self->p + i * pg;
	/*
	 * One page per THP is passed: the others of the same folio would find
	 * it isolated already (-EBUSY). Then every page must be on the node.
	 */
	for (trip = 0; trip < 2; trip++) {
		ASSERT_EQ(0, move_pages(1, pages, NULL, status, 0));
		nodes[0] = !status[0];
		ASSERT_EQ(0, move_pages(1, pages, nodes, status, MPOL_MF_MOVE_ALL));
		ASSERT_EQ(nodes[0], status[0]) TH_LOG("trip %u: the THP did not move", trip);
		ASSERT_EQ(0, move_pages(n, pages, NULL, status, 0));
		for (i = 0; i < n; i++)
			if (status[i] != nodes[0])
				break;
		ASSERT_EQ(n, i) TH_LOG("trip %u: page %zu on node %d", trip, i, status[i]);
		ASSERT_EQ((long)(THP_SIZE >> 10), thp_kb(self->p))
			TH_LOG("trip %u: the THP was split, not migrated as a PMD", trip);
	}
	pmd_stats(self->dev, &s1);
	ASSERT_NE(0, s1.size);
	TH_LOG("%s: PMD restores %llu (writable %llu, write-protected %llu), kernel asked %llu",
	       hook ? "typed hook" : "7.3's C",
	       (unsigned long long)(s1.restores - s0.restores),
	       (unsigned long long)(s1.writable - s0.writable),
	       (unsigned long long)(s1.write_protected - s0.write_protected),
	       (unsigned long long)(s1.kernel_called - s0.kernel_called));

	EXPECT_TRUE(me_check(self->p, THP_SIZE, 31));
	if (variant->clear_refs) {
		/*
		 * Where migration entries keep A/D, the dirty THP's restored PMD
		 * is dirty, and on x86 pmd_mkdirty() sets soft-dirty too (C and
		 * typed alike: docs/findings.md); without A/D it stays clear.
		 */
		EXPECT_EQ(!!(info.features & MIGENTRY_FEAT_MIGRATION_AD),
			  !!(me_pagemap(self->p) & PM_SOFT_DIRTY));
		EXPECT_LE(1, me_store_faults(self->p, 1))
			TH_LOG("a store after clear_refs and migration went through a writable PMD");
		EXPECT_TRUE(me_pagemap(self->p) & PM_SOFT_DIRTY);
	} else {
		EXPECT_EQ(0, me_store_faults(self->p, 1))
			TH_LOG("the written private THP came back write-protected");
	}
	if (hook) {
		EXPECT_EQ(2, s1.kernel_called - s0.kernel_called);
		EXPECT_EQ(2, s1.restores - s0.restores);
		EXPECT_EQ(variant->clear_refs ? 0 : 2, s1.writable - s0.writable);
		EXPECT_EQ(variant->clear_refs ? 2 : 0, s1.write_protected - s0.write_protected);
		EXPECT_EQ(0, s1.kernel_rejected - s0.kernel_rejected);
		EXPECT_EQ(0, s1.unexpected - s0.unexpected);
		EXPECT_EQ(0, s1.left_to_c - s0.left_to_c);
	} else {
		EXPECT_EQ(0, s1.restores - s0.restores);
		EXPECT_EQ(0, s1.kernel_called - s0.kernel_called);
	}
	free(pages);
	free(nodes);
	free(status);
}

TEST_HARNESS_MAIN
