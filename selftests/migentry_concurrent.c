// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_concurrent: ROUNDTRIP while other threads of the same process
 * write to, fault on and munmap/mmap the range. Nothing may be lost and the
 * kernel must stay quiet (the guest runner fails the run on any WARN).
 * Bounded: a fixed number of iterations, no timing assumptions.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

#define NPAGES 32
#define ROUNDS 200

struct shared {
	char *p;
	size_t len;
	atomic_int stop;
	atomic_long writes;
};

/* Each page holds a counter its writer bumps; the last value must survive. */
static void *writer(void *arg)
{
	struct shared *s = arg;
	size_t pg = me_page();
	unsigned long n = 0;

	while (!atomic_load(&s->stop)) {
		size_t i;

		for (i = 0; i < NPAGES; i++)
			((volatile unsigned long *)(s->p + i * pg))[1] = n;
		n++;
		/* Passes written so far: the test waits for the first ones. */
		atomic_store(&s->writes, (long)n);
	}
	return NULL;
}

/*
 * Every third round write-protects the pages under the writer. With
 * MIGENTRY_FEAT_TLB_FLUSH it goes through (and the writer's next stores
 * fault). Without it (stock kernel) the pages are writable and would come
 * back read-only, so that round must be refused with EOPNOTSUPP, changing
 * and copying back nothing, while the other rounds, which take no rights
 * away (the fresh mapping is VM_SOFTDIRTY, so CLEAR_SOFT_DIRTY leaves no
 * soft-dirty fault pending), still go through. Either way the writer's data
 * survives.
 */
TEST(roundtrip_while_writing)
{
	size_t pg = me_page();
	struct migentry_record rec[NPAGES];
	struct shared s = { .len = NPAGES * pg };
	unsigned long last;
	long started, during;
	pthread_t t;
	int dev, i, fd, tlb, refused = 0;
	char why[256];
	size_t j;

	dev = me_open();
	ASSERT_LE(0, dev);
	tlb = me_tlb_flush(dev);
	ASSERT_LE(0, tlb) TH_LOG("INFO: %s", strerror(errno));
	if (tlb)
		TH_LOG("MIGENTRY_FEAT_TLB_FLUSH: every round must succeed");
	else
		TH_LOG("no MIGENTRY_FEAT_TLB_FLUSH (stock kernel): the RT_WRPROTECT rounds must be refused");
	s.p = me_map(ME_MEMFD_SHARED, s.len, &fd);
	ASSERT_NE(MAP_FAILED, s.p);
	memset(s.p, 0, s.len);
	ASSERT_EQ(0, pthread_create(&t, NULL, writer, &s));
	/* Under load the writer may start late: the round trips begin once it runs. */
	while (!atomic_load(&s.writes))
		sched_yield();
	started = atomic_load(&s.writes);
	for (i = 0; i < ROUNDS; i++) {
		__u64 flags = (i % 3 == 1) ? MIGENTRY_RT_WRPROTECT :
			      (i % 3 == 2) ? MIGENTRY_RT_CLEAR_SOFT_DIRTY : 0;
		const char *bad;

		if (!tlb && flags == MIGENTRY_RT_WRPROTECT) {
			bad = me_refused_roundtrip(dev, s.p, s.len, flags, why, sizeof(why));
			EXPECT_EQ(NULL, bad) TH_LOG("round %d: %s", i, bad);
			refused++;
			continue;
		}
		ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_ROUNDTRIP, s.p, s.len, flags, rec, NPAGES,
				      NULL)) TH_LOG("round %d: %s", i, strerror(errno));
		if (!tlb) {
			/* Without the flush nothing may have come back with less than it had. */
			for (j = 0; j < NPAGES; j++)
				EXPECT_TRUE(me_has(&rec[j].after[MIGENTRY_POLICY_TYPED],
						   MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE))
					TH_LOG("round %d, page %zu", i, j);
		}
	}
	if (!tlb)
		TH_LOG("%d RT_WRPROTECT rounds refused, %d other rounds done", refused,
		       ROUNDS - refused);
	/* The writer really ran concurrently with the round trips. */
	during = atomic_load(&s.writes) - started;
	atomic_store(&s.stop, 1);
	pthread_join(t, NULL);
	last = (unsigned long)atomic_load(&s.writes) - 1;
	for (j = 0; j < NPAGES; j++)
		EXPECT_EQ(last, ((unsigned long *)(s.p + j * pg))[1]) TH_LOG("page %zu", j);
	TH_LOG("the writer made %ld passes during the round trips", during);
	EXPECT_LT(0, during);
	munmap(s.p, s.len);
	close(fd);
	close(dev);
}

static void *remapper(void *arg)
{
	struct shared *s = arg;

	while (!atomic_load(&s->stop)) {
		/* Replace the second half with a fresh mapping and fill it. */
		void *q = mmap(s->p + s->len / 2, s->len / 2, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		if (q == MAP_FAILED)
			break;
		memset(q, 0x5a, s->len / 2);
		munmap(q, s->len / 2);
	}
	return NULL;
}

TEST(roundtrip_while_unmapping)
{
	struct migentry_record rec[NPAGES];
	struct shared s = { .len = NPAGES * me_page() };
	int dev, i, ok = 0, gone = 0;
	pthread_t t;

	dev = me_open();
	ASSERT_LE(0, dev);
	s.p = mmap(NULL, s.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, s.p);
	madvise(s.p, s.len, MADV_NOHUGEPAGE);
	me_fill(s.p, s.len / 2, 3);
	ASSERT_EQ(0, pthread_create(&t, NULL, remapper, &s));
	for (i = 0; i < ROUNDS; i++) {
		/* The whole range: one VMA, two, or half of it unmapped. */
		int r = me_range(dev, MIGENTRY_IOC_ROUNDTRIP, s.p, s.len, 0, rec, NPAGES, NULL);

		if (r == 0)
			ok++;
		else if (errno == EINVAL || errno == EFAULT)
			gone++;
		else
			ASSERT_EQ(0, errno) TH_LOG("round %d: unexpected %s", i, strerror(errno));
		/* The first half is never touched by the remapper. */
		ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_ROUNDTRIP, s.p, s.len / 2, 0, rec, NPAGES,
				      NULL));
	}
	atomic_store(&s.stop, 1);
	pthread_join(t, NULL);
	EXPECT_TRUE(me_check(s.p, s.len / 2, 3));
	TH_LOG("%d whole-range round trips, %d refused while remapped", ok, gone);
	munmap(s.p, s.len);
	close(dev);
}

TEST_HARNESS_MAIN
