// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_thp: the device on PMD-mapped transparent huge pages. The guest
 * runs with transparent_hugepage=always, so a 2 MiB aligned, MADV_HUGEPAGE
 * range that is written gets a THP; a test that does not get one fails.
 *
 * READ_PTE reports every 4 KiB page of a PMD-mapped THP with
 * MIGENTRY_PTE_PMD, the PMD's state and the page's own PFN, also for a range
 * that covers only part of the THP, and leaves the THP PMD-mapped.
 *
 * ROUNDTRIP and EVALUATE take the THP as a whole: a range over part of it is
 * ERANGE and changes nothing. A round trip is checked by behaviour: data
 * intact, the THP still PMD-mapped (AnonHugePages), and writes that fault,
 * are reported to userfaultfd or set soft-dirty exactly as the restored PMD
 * says. Round trips that take rights away are refused on a kernel without
 * MIGENTRY_FEAT_TLB_FLUSH (stock), with nothing changed.
 */
#include <poll.h>
#include <pthread.h>
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

/* INFO's features. */
static __u64 features(int dev)
{
	struct migentry_info info = { .size = sizeof(info) };

	return ioctl(dev, MIGENTRY_IOC_INFO, &info) ? 0 : info.features;
}

/* Every record of a whole-THP round trip (or EVALUATE): the PMD's, page by page. */
static void expect_thp_records(struct __test_metadata *_metadata,
			       const struct migentry_record *rec, const char *p)
{
	unsigned int i;

	for (i = 0; i < HUGE_PAGES; i++) {
		const struct migentry_record *r = &rec[i];

		ASSERT_EQ((uintptr_t)p + i * me_page(), r->addr);
		ASSERT_EQ(MIGENTRY_REC_DONE, r->status);
		ASSERT_TRUE(me_has(&r->before, MIGENTRY_PTE_PMD | MIGENTRY_PTE_PRESENT));
		ASSERT_TRUE(me_has(&r->entry, MIGENTRY_PTE_PMD));
		ASSERT_TRUE(me_has(&r->after[MIGENTRY_POLICY_TYPED],
				   MIGENTRY_PTE_PMD | MIGENTRY_PTE_PRESENT));
		ASSERT_TRUE(me_has(&r->after[MIGENTRY_POLICY_UPSTREAM],
				   MIGENTRY_PTE_PMD | MIGENTRY_PTE_PRESENT));
		/* Only 7.3 has a PMD reference. */
		ASSERT_EQ(MIGENTRY_LEAF_NONE, r->after[MIGENTRY_POLICY_PRE_6_2].kind);
		ASSERT_EQ(MIGENTRY_LEAF_NONE, r->after[MIGENTRY_POLICY_PETERX_V3].kind);
		/* One PMD: the same entries, each page its own PFN, restored onto itself. */
		ASSERT_EQ(rec[0].entry.raw, r->entry.raw);
		ASSERT_EQ(rec[0].after[MIGENTRY_POLICY_TYPED].raw,
			  r->after[MIGENTRY_POLICY_TYPED].raw);
		ASSERT_EQ(r->before.pfn, r->after[MIGENTRY_POLICY_TYPED].pfn);
		ASSERT_EQ(rec[0].before.pfn + i, r->before.pfn);
		ASSERT_EQ(r->entry.kind, rec[0].entry.kind);
	}
}

/* READ_PTE of the THP's first page: what the PMD is now. */
static struct migentry_pte_state thp_now(struct __test_metadata *_metadata, int dev, char *p)
{
	struct migentry_record r;

	memset(&r, 0, sizeof(r));
	EXPECT_EQ(0, me_range(dev, MIGENTRY_IOC_READ_PTE, p, me_page(), 0, &r, 1, NULL));
	return r.before;
}

/* A range over part of the THP: ERANGE from both, nothing changed. */
TEST_F(thp, part_of_thp_is_erange)
{
	struct migentry_pte_state was = thp_now(_metadata, self->dev, self->p);
	struct migentry_pte_state now;

	errno = 0;
	EXPECT_EQ(-1, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p + me_page(),
			       HUGE_SZ - me_page(), 0, self->rec, HUGE_PAGES, NULL));
	EXPECT_EQ(ERANGE, errno);
	errno = 0;
	EXPECT_EQ(-1, me_range(self->dev, MIGENTRY_IOC_EVALUATE, self->p - me_page(),
			       2 * me_page(), 0, self->rec, HUGE_PAGES, NULL));
	EXPECT_EQ(ERANGE, errno);
	now = thp_now(_metadata, self->dev, self->p);
	EXPECT_EQ(was.raw, now.raw);
	EXPECT_TRUE(data_intact(self->p));
	EXPECT_LE(2048, anon_huge_kb(self->p));
}

/*
 * Anon private, written: a Write entry, restored writable (the VMA does not
 * track soft-dirty, nothing is injected) as 7.3 would, on every kernel; the
 * THP is still writable without a fault, and still PMD-mapped. A range that
 * starts before the THP round-trips its PTE pages too.
 */
TEST_F(thp, roundtrip_anon_private)
{
	struct migentry_record evaluated[HUGE_PAGES], *big;
	struct migentry_range a;
	struct migentry_pte_state now;

	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_EVALUATE, self->p, HUGE_SZ, 0, evaluated,
			      HUGE_PAGES, NULL));
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, HUGE_SZ, 0, self->rec,
			      HUGE_PAGES, &a));
	ASSERT_EQ(HUGE_PAGES, a.nr_done);
	expect_thp_records(_metadata, self->rec, self->p);
	EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_WRITE, self->rec[0].entry.kind);
	EXPECT_TRUE(me_has(&self->rec[0].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
	EXPECT_EQ(self->rec[0].after[MIGENTRY_POLICY_UPSTREAM].raw,
		  self->rec[0].after[MIGENTRY_POLICY_TYPED].raw);
	/* EVALUATE predicted it. */
	EXPECT_EQ(evaluated[0].after[MIGENTRY_POLICY_TYPED].raw,
		  self->rec[0].after[MIGENTRY_POLICY_TYPED].raw);
	/* What was installed is what the record says. */
	now = thp_now(_metadata, self->dev, self->p);
	EXPECT_EQ(self->rec[0].after[MIGENTRY_POLICY_TYPED].raw, now.raw);
	EXPECT_LE(2048, anon_huge_kb(self->p));
	EXPECT_TRUE(data_intact(self->p));
	EXPECT_EQ(0, me_store_faults(self->p + 7 * me_page(), 7));
	EXPECT_LE(2048, anon_huge_kb(self->p));

	/* The 4 pages before the THP (never touched: none) and the THP, in one range. */
	big = calloc(HUGE_PAGES + 4, sizeof(*big));
	ASSERT_NE(NULL, big);
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p - 4 * me_page(),
			      HUGE_SZ + 4 * me_page(), 0, big, HUGE_PAGES + 4, &a));
	EXPECT_EQ(HUGE_PAGES + 4, a.nr_done);
	EXPECT_EQ(MIGENTRY_REC_NONE, big[3].status);
	EXPECT_EQ(0, big[3].before.flags & MIGENTRY_PTE_PMD);
	expect_thp_records(_metadata, big + 4, self->p);
	free(big);
	EXPECT_LE(2048, anon_huge_kb(self->p));
	EXPECT_TRUE(data_intact(self->p));
}

/*
 * mprotect() injected (MIGENTRY_RT_WRPROTECT): the Write entry becomes
 * ReadExclusive, the THP comes back read-only, so the next write faults
 * (and is granted by the kernel: the THP stays PMD-mapped). That takes
 * rights away: refused on a kernel without MIGENTRY_FEAT_TLB_FLUSH.
 */
TEST_F(thp, wrprotect_injection)
{
	char why[256];
	const char *bad;

	if (!(features(self->dev) & MIGENTRY_FEAT_TLB_FLUSH)) {
		TH_LOG("no MIGENTRY_FEAT_TLB_FLUSH (stock kernel): ROUNDTRIP refused, EVALUATE checked");
		bad = me_refused_roundtrip(self->dev, self->p, HUGE_SZ, MIGENTRY_RT_WRPROTECT, why,
					   sizeof(why));
		EXPECT_EQ(NULL, bad) TH_LOG("%s", bad);
		ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_EVALUATE, self->p, HUGE_SZ,
				      MIGENTRY_RT_WRPROTECT, self->rec, HUGE_PAGES, NULL));
	} else {
		ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, HUGE_SZ,
				      MIGENTRY_RT_WRPROTECT, self->rec, HUGE_PAGES, NULL));
	}
	expect_thp_records(_metadata, self->rec, self->p);
	EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE, self->rec[0].entry.kind);
	EXPECT_FALSE(me_has(&self->rec[0].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
	EXPECT_FALSE(me_has(&self->rec[0].after[MIGENTRY_POLICY_UPSTREAM], MIGENTRY_PTE_WRITE));
	EXPECT_LE(2048, anon_huge_kb(self->p));
	EXPECT_TRUE(data_intact(self->p));
	/* Refused: as writable as it was; done: the write faults once. */
	EXPECT_EQ(features(self->dev) & MIGENTRY_FEAT_TLB_FLUSH ? 1 : 0,
		  me_store_faults(self->p + 3 * me_page(), 3));
	EXPECT_LE(2048, anon_huge_kb(self->p));
}

/*
 * Soft-dirty with clear_refs injected: after clear_refs 4 and a write the
 * THP is writable and soft-dirty; the round trip clears the entry's
 * soft-dirty bit as a clear_refs racing with the migration would. Where
 * migration entries keep the dirty bit, pmd_mkdirty() sets soft-dirty again
 * and the THP comes back writable; where they do not, the typed restore
 * write-protects it (7.3 would not: the next write would go unrecorded).
 * Either way, after the round trip and a write, pagemap says soft-dirty.
 */
TEST_F(thp, soft_dirty_clear_refs_injection)
{
	__u64 f = features(self->dev);
	bool ad = f & MIGENTRY_FEAT_MIGRATION_AD;
	struct migentry_range a;
	char why[256];
	const char *bad;

	ASSERT_TRUE(f & MIGENTRY_FEAT_SOFT_DIRTY);
	ASSERT_EQ(0, me_clear_soft_dirty());
	EXPECT_FALSE(me_pagemap(self->p) & PM_SOFT_DIRTY);
	self->p[0] = 0;		/* page 0's pattern: faults, soft-dirty again */
	ASSERT_TRUE(me_pagemap(self->p) & PM_SOFT_DIRTY);
	ASSERT_LE(2048, anon_huge_kb(self->p));

	if (!ad && !(f & MIGENTRY_FEAT_TLB_FLUSH)) {
		TH_LOG("no A/D in migration entries, no MIGENTRY_FEAT_TLB_FLUSH: refused");
		bad = me_refused_roundtrip(self->dev, self->p, HUGE_SZ,
					   MIGENTRY_RT_CLEAR_SOFT_DIRTY, why, sizeof(why));
		EXPECT_EQ(NULL, bad) TH_LOG("%s", bad);
		EXPECT_EQ(0, me_store_faults(self->p + me_page(), 1));
		EXPECT_TRUE(me_pagemap(self->p) & PM_SOFT_DIRTY);
		return;
	}
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, HUGE_SZ,
			      MIGENTRY_RT_CLEAR_SOFT_DIRTY, self->rec, HUGE_PAGES, &a));
	expect_thp_records(_metadata, self->rec, self->p);
	EXPECT_TRUE(a.vma_flags & MIGENTRY_VMA_SD_TRACKING);
	EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_WRITE, self->rec[0].entry.kind);
	EXPECT_FALSE(me_has(&self->rec[0].entry, MIGENTRY_PTE_SOFT_DIRTY));
	EXPECT_LE(2048, anon_huge_kb(self->p));
	EXPECT_TRUE(data_intact(self->p));
	TH_LOG("migration entries %s A/D", ad ? "keep" : "do not keep");
	if (ad) {
		/* Dirty entry and folio: pmd_mkdirty() sets soft-dirty, write is granted. */
		EXPECT_EQ(MIGENTRY_NOGRANT_NONE, self->rec[0].refused);
		EXPECT_TRUE(me_has(&self->rec[0].after[MIGENTRY_POLICY_TYPED],
				   MIGENTRY_PTE_WRITE | MIGENTRY_PTE_SOFT_DIRTY));
		EXPECT_EQ(self->rec[0].after[MIGENTRY_POLICY_UPSTREAM].raw,
			  self->rec[0].after[MIGENTRY_POLICY_TYPED].raw);
		EXPECT_TRUE(me_pagemap(self->p) & PM_SOFT_DIRTY);
		EXPECT_EQ(0, me_store_faults(self->p + me_page(), 1));
	} else {
		EXPECT_EQ(MIGENTRY_NOGRANT_SOFT_DIRTY, self->rec[0].refused);
		EXPECT_FALSE(me_has(&self->rec[0].after[MIGENTRY_POLICY_TYPED],
				    MIGENTRY_PTE_WRITE));
		EXPECT_FALSE(me_pagemap(self->p) & PM_SOFT_DIRTY);
		EXPECT_EQ(1, me_store_faults(self->p + me_page(), 1));
	}
	EXPECT_TRUE(me_pagemap(self->p) & PM_SOFT_DIRTY);
	EXPECT_LE(2048, anon_huge_kb(self->p));
}

/* A store from another thread, so that this one can read the uffd. */
struct store {
	char *p;
	char v;
};

static void *store_thread(void *arg)
{
	struct store *s = arg;

	__atomic_store_n(s->p, s->v, __ATOMIC_RELAXED);
	return NULL;
}

/*
 * UFFDIO_WRITEPROTECT on (wp true) or off the whole THP: a whole, aligned
 * range keeps it PMD-mapped.
 */
static int thp_wp(int uffd, char *p, bool wp)
{
	struct uffdio_writeprotect w = {
		.range = { .start = (uintptr_t)p, .len = HUGE_SZ },
		.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &w);
}

/*
 * A store of v at q from another thread: the number of uffd write-protect
 * faults it raised (each resolved by unprotecting the whole THP), or -1.
 */
static int uffd_faults_of_store(int uffd, char *thp, char *q, char v)
{
	struct store s = { .p = q, .v = v };
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;
	int faults = 0;
	pthread_t t;

	if (pthread_create(&t, NULL, store_thread, &s))
		return -1;
	while (poll(&pfd, 1, 300) == 1) {
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT ||
		    !(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP))
			faults = -1000;
		faults++;
		thp_wp(uffd, thp, false);
	}
	pthread_join(t, NULL);
	return faults;
}

/*
 * uffd-wp THP: protected before the round trip, the PMD carries the uffd
 * bit; the migration entry keeps it and the THP comes back protected (no
 * rights taken: every kernel), so a write is reported once to userfaultfd.
 * Then MIGENTRY_RT_UFFD_WP injected on the unprotected THP: refused without
 * MIGENTRY_FEAT_TLB_FLUSH (writes go on unreported), else the THP comes back
 * protected and the next write is reported.
 */
TEST_F(thp, uffd_wp)
{
	__u64 f = features(self->dev);
	char why[256];
	const char *bad;
	int uffd;

	ASSERT_TRUE(f & MIGENTRY_FEAT_UFFD_WP);
	uffd = me_uffd_open(0);
	ASSERT_LE(0, uffd);
	ASSERT_EQ(0, me_uffd_register(uffd, self->raw, 3 * HUGE_SZ,
				      UFFDIO_REGISTER_MODE_WP));
	ASSERT_EQ(0, thp_wp(uffd, self->p, true));
	ASSERT_TRUE(me_pagemap(self->p) & PM_UFFD_WP);
	ASSERT_LE(2048, anon_huge_kb(self->p));

	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, HUGE_SZ, 0, self->rec,
			      HUGE_PAGES, NULL));
	expect_thp_records(_metadata, self->rec, self->p);
	EXPECT_TRUE(me_has(&self->rec[0].before, MIGENTRY_PTE_UFFD));
	EXPECT_TRUE(me_has(&self->rec[0].entry, MIGENTRY_PTE_UFFD));
	EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE, self->rec[0].entry.kind);
	EXPECT_TRUE(me_has(&self->rec[0].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_UFFD));
	EXPECT_FALSE(me_has(&self->rec[0].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
	EXPECT_EQ(self->rec[0].after[MIGENTRY_POLICY_UPSTREAM].raw,
		  self->rec[0].after[MIGENTRY_POLICY_TYPED].raw);
	EXPECT_TRUE(me_pagemap(self->p + 9 * me_page()) & PM_UFFD_WP);
	EXPECT_LE(2048, anon_huge_kb(self->p));
	EXPECT_EQ(1, uffd_faults_of_store(uffd, self->p, self->p + 9 * me_page(), 9));
	EXPECT_FALSE(me_pagemap(self->p) & PM_UFFD_WP);

	if (!(f & MIGENTRY_FEAT_TLB_FLUSH)) {
		TH_LOG("no MIGENTRY_FEAT_TLB_FLUSH (stock kernel): MIGENTRY_RT_UFFD_WP refused");
		bad = me_refused_roundtrip(self->dev, self->p, HUGE_SZ, MIGENTRY_RT_UFFD_WP, why,
					   sizeof(why));
		EXPECT_EQ(NULL, bad) TH_LOG("%s", bad);
		EXPECT_EQ(0, uffd_faults_of_store(uffd, self->p, self->p + 5 * me_page(), 5));
	} else {
		ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, HUGE_SZ,
				      MIGENTRY_RT_UFFD_WP, self->rec, HUGE_PAGES, NULL));
		expect_thp_records(_metadata, self->rec, self->p);
		EXPECT_FALSE(me_has(&self->rec[0].before, MIGENTRY_PTE_UFFD));
		EXPECT_TRUE(me_has(&self->rec[0].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_UFFD));
		EXPECT_TRUE(me_pagemap(self->p + 5 * me_page()) & PM_UFFD_WP);
		EXPECT_LE(2048, anon_huge_kb(self->p));
		EXPECT_EQ(1, uffd_faults_of_store(uffd, self->p, self->p + 5 * me_page(), 5));
	}
	EXPECT_LE(2048, anon_huge_kb(self->p));
	self->p[9 * me_page()] = 9;
	self->p[5 * me_page()] = 5;
	EXPECT_TRUE(data_intact(self->p));
	close(uffd);
}

TEST_HARNESS_MAIN
