// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_thp: the device on PMD-mapped transparent huge pages. The guest
 * runs with transparent_hugepage=always, so a 2 MiB aligned, MADV_HUGEPAGE
 * range that is written gets a THP; a test that does not get one fails.
 *
 * READ_PTE reports every 4 KiB page of a PMD-mapped THP with
 * MIGENTRY_PTE_PMD, the PMD's state and the page's own PFN, also for a range
 * that covers only part of the THP, and leaves the THP PMD-mapped.
 */
#include <stddef.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

#define HUGE_SZ (2UL << 20)
#define HUGE_PAGES 512

/* The kB of AnonHugePages in the /proc/self/smaps entry of the VMA holding addr. */
static unsigned long anon_huge_kb(void *addr)
{
	unsigned long start, end, kb, found = 0;
	char line[256];
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start <= (uintptr_t)addr && (uintptr_t)addr < end;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			found = kb;
	}
	fclose(f);
	return found;
}

FIXTURE(thp)
{
	int dev;
	char *raw;	/* three huge pages of address space */
	char *p;	/* the 2 MiB aligned THP inside it */
	struct migentry_record rec[HUGE_PAGES];
};

FIXTURE_SETUP(thp)
{
	size_t i;

	self->dev = me_open();
	ASSERT_LE(0, self->dev);
	self->raw = mmap(NULL, 3 * HUGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->raw);
	/* Past raw's start even if raw is aligned: ranges may begin before p. */
	self->p = (char *)(((uintptr_t)self->raw + HUGE_SZ) & ~(HUGE_SZ - 1));
	/* The whole mapping, so that it stays one VMA (ranges may cross p). */
	ASSERT_EQ(0, madvise(self->raw, 3 * HUGE_SZ, MADV_HUGEPAGE));
	for (i = 0; i < HUGE_SZ; i += me_page())
		self->p[i] = (char)(i / me_page());
	/* Fails, not skips: the guest runs with THP=always and must give one. */
	ASSERT_LE(2048, anon_huge_kb(self->p))
		TH_LOG("no PMD-mapped THP at %p; check transparent_hugepage/enabled", self->p);
}

FIXTURE_TEARDOWN(thp)
{
	munmap(self->raw, 3 * HUGE_SZ);
	close(self->dev);
}

/* Every byte as the setup wrote it. */
static bool data_intact(const char *p)
{
	size_t i;

	for (i = 0; i < HUGE_SZ; i += me_page())
		if (p[i] != (char)(i / me_page()))
			return false;
	return true;
}

TEST_F(thp, read_pte_whole_thp)
{
	struct migentry_range a;
	unsigned int i;
	__u32 want = MIGENTRY_PTE_PMD | MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE |
		     MIGENTRY_PTE_DIRTY;

	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, HUGE_SZ, 0, self->rec,
			      HUGE_PAGES, &a));
	ASSERT_EQ(HUGE_PAGES, a.nr_done);
	/* The selftests run as root: raw and pfn are filled. */
	ASSERT_NE(0, self->rec[0].before.raw);
	EXPECT_EQ(0, self->rec[0].before.pfn % HUGE_PAGES);
	for (i = 0; i < HUGE_PAGES; i++) {
		const struct migentry_record *r = &self->rec[i];

		ASSERT_EQ((uintptr_t)self->p + i * me_page(), r->addr);
		ASSERT_EQ(MIGENTRY_REC_DONE, r->status);
		ASSERT_EQ(MIGENTRY_LEAF_PRESENT, r->before.kind);
		ASSERT_EQ(want, r->before.flags & (want | MIGENTRY_PTE_SPECIAL))
			TH_LOG("page %u: flags %#x", i, r->before.flags);
		/* One PMD: the same value for every page, each page its own PFN. */
		ASSERT_EQ(self->rec[0].before.raw, r->before.raw);
		ASSERT_EQ(self->rec[0].before.pfn + i, r->before.pfn);
	}
	EXPECT_TRUE(data_intact(self->p));
	EXPECT_LE(2048, anon_huge_kb(self->p));
}

/*
 * A range across the start of the THP: the pages before it (never touched:
 * none) are reported as PTEs, the THP's first pages with the PMD, from its
 * PFN on; a range inside the THP gets the pages' own PFNs.
 */
TEST_F(thp, read_pte_part_of_thp)
{
	struct migentry_record whole[HUGE_PAGES];
	struct migentry_range a;
	char *from = self->p - 4 * me_page();
	unsigned int i;

	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, HUGE_SZ, 0, whole,
			      HUGE_PAGES, NULL));
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, from, 8 * me_page(), 0,
			      self->rec, 8, &a));
	ASSERT_EQ(8, a.nr_done);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(MIGENTRY_REC_NONE, self->rec[i].status);
		EXPECT_EQ(0, self->rec[i].before.flags & MIGENTRY_PTE_PMD);
	}
	for (i = 4; i < 8; i++) {
		EXPECT_EQ(MIGENTRY_REC_DONE, self->rec[i].status);
		EXPECT_NE(0, self->rec[i].before.flags & MIGENTRY_PTE_PMD);
		EXPECT_EQ(whole[i - 4].before.pfn, self->rec[i].before.pfn);
	}
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p + 100 * me_page(),
			      3 * me_page(), 0, self->rec, 3, &a));
	ASSERT_EQ(3, a.nr_done);
	for (i = 0; i < 3; i++) {
		EXPECT_NE(0, self->rec[i].before.flags & MIGENTRY_PTE_PMD);
		EXPECT_EQ(whole[100 + i].before.pfn, self->rec[i].before.pfn);
		EXPECT_EQ(whole[100 + i].before.raw, self->rec[i].before.raw);
	}
	EXPECT_TRUE(data_intact(self->p));
	EXPECT_LE(2048, anon_huge_kb(self->p));
}

/* The PMD's state bits as they change: write-protected by mprotect(), back after. */
TEST_F(thp, read_pte_follows_the_pmd)
{
	ASSERT_EQ(0, mprotect(self->p, HUGE_SZ, PROT_READ));
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, me_page(), 0,
			      self->rec, 1, NULL));
	EXPECT_EQ(MIGENTRY_PTE_PMD | MIGENTRY_PTE_PRESENT,
		  self->rec[0].before.flags & (MIGENTRY_PTE_PMD | MIGENTRY_PTE_PRESENT |
					       MIGENTRY_PTE_WRITE));
	ASSERT_EQ(0, mprotect(self->p, HUGE_SZ, PROT_READ | PROT_WRITE));
	self->p[0] = 0;
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, me_page(), 0,
			      self->rec, 1, NULL));
	EXPECT_NE(0, self->rec[0].before.flags & MIGENTRY_PTE_WRITE);
	EXPECT_NE(0, self->rec[0].before.flags & MIGENTRY_PTE_PMD);
	EXPECT_LE(2048, anon_huge_kb(self->p));
}

TEST_HARNESS_MAIN
