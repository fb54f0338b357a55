// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_tlb: a ROUNDTRIP that takes write access away must not leave a
 * writable translation behind in another CPU's TLB.
 *
 * A writer thread pinned to one CPU stores an incrementing counter into a
 * private anon page in a tight loop, so that CPU holds a writable TLB entry
 * for it. The main thread, pinned to another CPU, round-trips the page with
 * an operation that write-protects it. With MIGENTRY_FEAT_TLB_FLUSH the
 * module must have flushed the writer's CPU before the ioctl returns, so the
 * writer's next store faults; a store that lands without a fault went
 * through a stale TLB entry, and the test fails. Without the feature (a
 * stock kernel) such a round trip must be refused with EOPNOTSUPP before
 * any PTE changes, while round trips that take no rights away still work.
 * See docs/abi.md, "Rights taken away and the TLB".
 *
 * Needs two CPUs (the guest has GUEST_SMP=2 by default); skips with one.
 * Every wait is bounded, and the writer is always stopped and joined.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

#define PROGRESS	1000	/* stores the writer makes before the round trip */
#define QUIET_MS	100	/* how long a writer stopped by a fault must stay stopped */
#define NO_FAULT_MS	200	/* how long to wait for a uffd message that must not come */
#define WAIT_MS		2000	/* bound on every wait for the writer or for a fault */
#define WRITER_MAX_S	20	/* the writer gives up by itself after this */

/* What the CPU itself may change in a present PTE: _PAGE_ACCESSED, _PAGE_DIRTY. */
#define X86_PTE_AD	((1ULL << 5) | (1ULL << 6))
#define HW_FLAGS	(MIGENTRY_PTE_YOUNG | MIGENTRY_PTE_DIRTY)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The writer: stores ++n into *counter until told to stop (or WRITER_MAX_S). */
struct writer {
	volatile unsigned long *counter;	/* first word of the page under test */
	pthread_t thread;
	bool running;				/* created and not joined yet */
	atomic_int stop;
	atomic_int tid;
	atomic_int cpu;				/* where it found itself after starting */
};

static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	unsigned long n = *w->counter;
	long deadline;

	/* Also maps the vDSO data page now, so the loop itself takes no faults. */
	deadline = now_ms() + WRITER_MAX_S * 1000L;
	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	atomic_store(&w->cpu, sched_getcpu());
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		*w->counter = ++n;
		if (!(n & 0xffff) && now_ms() > deadline)
			break;
	}
	return NULL;
}

static bool writer_start(struct writer *w, void *page, int cpu)
{
	pthread_attr_t attr;
	cpu_set_t set;
	bool ok;

	w->counter = page;
	atomic_store(&w->stop, 0);
	atomic_store(&w->tid, 0);
	atomic_store(&w->cpu, -1);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_attr_init(&attr))
		return false;
	ok = !pthread_attr_setaffinity_np(&attr, sizeof(set), &set) &&
	     !pthread_create(&w->thread, &attr, writer_fn, w);
	pthread_attr_destroy(&attr);
	w->running = ok;
	return ok;
}

static unsigned long counter(const struct writer *w)
{
	return *w->counter;
}

/* Whether the counter goes above v within timeout_ms. */
static bool counter_above(const struct writer *w, unsigned long v, long timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	while (counter(w) <= v) {
		if (now_ms() > deadline)
			return false;
		sleep_ms(1);
	}
	return true;
}

/*
 * The writer is running on its CPU: it has made PROGRESS stores and is
 * still making them right now (so its CPU holds the writable translation).
 */
static bool writer_hot(const struct writer *w)
{
	return counter_above(w, PROGRESS, WAIT_MS) && counter_above(w, counter(w), WAIT_MS);
}

/* Minor faults taken by thread tid (field 10 of /proc/self/task/TID/stat), or -1. */
static long thread_minflt(int tid)
{
	char path[64], buf[1024], *q;
	unsigned long minflt;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	q = strrchr(buf, ')');	/* comm may hold spaces and parentheses */
	if (!q || sscanf(q + 1, " %*c %*d %*d %*d %*d %*d %*u %lu", &minflt) != 1)
		return -1;
	return (long)minflt;
}

/* Drop uffd write-protection from [p, p + len) and wake whoever faulted on it. */
static int uffd_unprotect(int uffd, void *p, size_t len)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
}

/* 1 and *msg filled if a message arrives within timeout_ms, else 0. */
static int uffd_next(int uffd, long timeout_ms, struct uffd_msg *msg)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };

	if (poll(&pfd, 1, (int)timeout_ms) != 1)
		return 0;
	return read(uffd, msg, sizeof(*msg)) == sizeof(*msg);
}

/* Stop the writer, unblocking it if it waits in a uffd fault; false if it would not join. */
static bool writer_stop(struct writer *w, int *uffd, void *page)
{
	struct timespec ts;
	int i;

	if (!w->running)
		return true;
	atomic_store(&w->stop, 1);
	if (*uffd >= 0)
		uffd_unprotect(*uffd, page, me_page());
	for (i = 0; i < 2; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += WAIT_MS / 1000;
		if (!pthread_timedjoin_np(w->thread, NULL, &ts)) {
			w->running = false;
			return true;
		}
		/* Still blocked: releasing the uffd unregisters the range and wakes all waiters. */
		if (*uffd >= 0) {
			close(*uffd);
			*uffd = -1;
		}
	}
	return false;
}

FIXTURE(tlb)
{
	int dev;
	int uffd;
	int fd;
	__u64 features;
	int cpu_main;
	int cpu_writer;
	char *p;
	struct writer w;
};

FIXTURE_SETUP(tlb)
{
	struct migentry_info info = { .size = sizeof(info) };
	cpu_set_t set;
	int cpu, n = 0;

	self->dev = -1;
	self->uffd = -1;
	self->fd = -1;
	self->p = MAP_FAILED;
	self->w.running = false;

	CPU_ZERO(&set);
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(set), &set));
	for (cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (n++ == 0)
			self->cpu_main = cpu;
		else
			self->cpu_writer = cpu;
	}
	if (n < 2)
		SKIP(return, "needs 2 CPUs, %d allowed (boot the guest with GUEST_SMP >= 2)",
		     CPU_COUNT(&set));
	/* The main thread (which issues the ioctl) stays on its own CPU. */
	CPU_ZERO(&set);
	CPU_SET(self->cpu_main, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));

	self->dev = me_open();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", ME_DEV, strerror(errno));
	ASSERT_EQ(0, ioctl(self->dev, MIGENTRY_IOC_INFO, &info));
	self->features = info.features;
	/* A fresh private mapping: VM_SOFTDIRTY set, so no soft-dirty fault is pending. */
	self->p = me_map(ME_PRIVATE_ANON, me_page(), &self->fd);
	ASSERT_NE(MAP_FAILED, self->p);
	memset(self->p, 0, me_page());		/* populated, writable, dirty */
}

FIXTURE_TEARDOWN(tlb)
{
	/*
	 * No handler on this check: after a failed ASSERT the harness runs
	 * teardown with its trigger still set, and a handler would run anyway.
	 */
	if (!writer_stop(&self->w, &self->uffd, self->p))
		TH_LOG("the writer thread did not stop");
	EXPECT_FALSE(self->w.running);
	if (self->uffd >= 0)
		close(self->uffd);
	if (self->p != MAP_FAILED)
		munmap(self->p, me_page());
	if (self->dev >= 0)
		close(self->dev);
}

static bool tlb_flush(const FIXTURE_DATA(tlb) *self)
{
	return self->features & MIGENTRY_FEAT_TLB_FLUSH;
}

static void start_writer(struct __test_metadata *_metadata, FIXTURE_DATA(tlb) *self)
{
	ASSERT_TRUE(writer_start(&self->w, self->p, self->cpu_writer));
	ASSERT_TRUE(writer_hot(&self->w)) TH_LOG("the writer made no progress in %d ms", WAIT_MS);
	ASSERT_EQ(self->cpu_writer, atomic_load(&self->w.cpu));
	ASSERT_EQ(self->cpu_main, sched_getcpu());
}

static void read_pte(struct __test_metadata *_metadata, FIXTURE_DATA(tlb) *self,
		     struct migentry_pte_state *out)
{
	struct migentry_record rec;

	ASSERT_EQ(0, me_one(self->dev, MIGENTRY_IOC_READ_PTE, self->p, 0, &rec));
	*out = rec.before;
}

static void expect_writable_pte(struct __test_metadata *_metadata, FIXTURE_DATA(tlb) *self)
{
	struct migentry_pte_state s;

	read_pte(_metadata, self, &s);
	EXPECT_EQ(MIGENTRY_LEAF_PRESENT, s.kind);
	EXPECT_TRUE(me_has(&s, MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE));
	EXPECT_FALSE(me_has(&s, MIGENTRY_PTE_UFFD));
}

/* No uffd message within NO_FAULT_MS (nothing to check without a uffd). */
static void expect_no_uffd_fault(struct __test_metadata *_metadata, FIXTURE_DATA(tlb) *self)
{
	struct uffd_msg msg = { 0 };

	if (self->uffd >= 0)
		EXPECT_EQ(0, uffd_next(self->uffd, NO_FAULT_MS, &msg))
			TH_LOG("unexpected uffd message: event %u", msg.event);
}

/*
 * Round trips that take no rights away work on every kernel: the entry is
 * Write and nothing withholds the grant (no uffd bit; VM_SOFTDIRTY, so no
 * soft-dirty fault pending, even after CLEAR_SOFT_DIRTY), so the page comes
 * back writable and the writer never notices.
 */
static void expect_rights_kept_roundtrips(struct __test_metadata *_metadata,
					  FIXTURE_DATA(tlb) *self)
{
	const __u64 flags[] = { 0, MIGENTRY_RT_CLEAR_SOFT_DIRTY };
	unsigned int i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct migentry_record rec;
		struct migentry_range arg;
		unsigned long c = counter(&self->w);

		ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, me_page(),
				      flags[i], &rec, 1, &arg))
			TH_LOG("flags %#llx took no rights away, yet: %s",
			       (unsigned long long)flags[i], strerror(errno));
		ASSERT_TRUE(arg.vma_flags & MIGENTRY_VMA_SOFTDIRTY);
		EXPECT_FALSE(arg.vma_flags & MIGENTRY_VMA_SD_TRACKING);
		EXPECT_EQ(MIGENTRY_REC_DONE, rec.status);
		EXPECT_TRUE(me_has(&rec.before, MIGENTRY_PTE_WRITE));
		EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_WRITE, rec.entry.kind);
		EXPECT_EQ(MIGENTRY_NOGRANT_NONE, rec.refused);
		EXPECT_TRUE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
		EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_UFFD));
		expect_writable_pte(_metadata, self);
		EXPECT_TRUE(counter_above(&self->w, c, WAIT_MS)) TH_LOG("the writer stopped");
		expect_no_uffd_fault(_metadata, self);
	}
}

/*
 * Stock kernel: a round trip with `flags` would write-protect the page, so it
 * is refused before anything changes: EOPNOTSUPP, no record and no argument
 * copied back, the PTE exactly as it was, the writer still running.
 */
static void expect_refused(struct __test_metadata *_metadata, FIXTURE_DATA(tlb) *self,
			   __u64 flags)
{
	struct migentry_pte_state before, after;
	struct migentry_record rec;
	struct migentry_range arg;
	const unsigned char *b = (const unsigned char *)&rec;
	unsigned long c;
	size_t i;
	int ret;

	read_pte(_metadata, self, &before);
	EXPECT_EQ(MIGENTRY_LEAF_PRESENT, before.kind);
	EXPECT_TRUE(me_has(&before, MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE));
	EXPECT_FALSE(me_has(&before, MIGENTRY_PTE_UFFD));
	memset(&rec, 0xa5, sizeof(rec));
	errno = 0;
	ret = me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, me_page(), flags, &rec, 1, &arg);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("errno %d (%s)", errno, strerror(errno));
	/* me_range() starts them at 0; a successful call always sets vma_flags. */
	EXPECT_EQ(0, arg.nr_done);
	EXPECT_EQ(0, arg.vma_flags);
	for (i = 0; i < sizeof(rec); i++)
		if (b[i] != 0xa5)
			break;
	EXPECT_EQ(sizeof(rec), i) TH_LOG("record written at byte %zu", i);

	/* Equal but for the accessed and dirty bits, which the CPU may set at any time. */
	read_pte(_metadata, self, &after);
	EXPECT_EQ(before.kind, after.kind);
	EXPECT_EQ(before.flags & ~HW_FLAGS, after.flags & ~HW_FLAGS);
	EXPECT_EQ(before.pfn, after.pfn);
	EXPECT_EQ(before.raw & ~X86_PTE_AD, after.raw & ~X86_PTE_AD);
	EXPECT_FALSE(me_pagemap(self->p) & PM_UFFD_WP);
	c = counter(&self->w);
	EXPECT_TRUE(counter_above(&self->w, c, WAIT_MS)) TH_LOG("the writer stopped");
	expect_no_uffd_fault(_metadata, self);
}

/*
 * uffd-wp injected into the round trip of a page a thread on another CPU is
 * writing. With the flush, every store after the ioctl returns must fault
 * into userfaultfd, so the counter must not move at all until the fault is
 * resolved.
 *
 * Why not even one more store: the flush runs on the writer's CPU as an
 * interrupt, between two instructions, and the ioctl returns only after that
 * CPU has reported the flush done. A store that used the old translation
 * retired before the interrupt and, stores being visible in program order on
 * x86, is visible before the completion is. So the first sample taken after
 * the ioctl already includes every store the old translation allowed;
 * anything later is a store through a stale writable TLB entry. (If the
 * writer's CPU was off running something else, the flush is deferred to its
 * next switch to this mm, which also comes before any user store.)
 */
TEST_F(tlb, uffd_wp_roundtrip_stops_running_writer)
{
	struct migentry_record rec;
	struct migentry_pte_state s;
	struct uffd_msg msg;
	unsigned long s0, s1, s2;
	int ret, got;

	if (!(self->features & MIGENTRY_FEAT_UFFD_WP))
		SKIP(return, "the kernel has no uffd write-protect (MIGENTRY_FEAT_UFFD_WP)");
	self->uffd = me_uffd_open(UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	ASSERT_LE(0, self->uffd) TH_LOG("userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, me_uffd_register(self->uffd, self->p, me_page(), UFFDIO_REGISTER_MODE_WP));
	start_writer(_metadata, self);
	expect_writable_pte(_metadata, self);

	if (!tlb_flush(self)) {
		TH_LOG("stock kernel (no MIGENTRY_FEAT_TLB_FLUSH): the uffd-wp round trip must be refused");
		expect_refused(_metadata, self, MIGENTRY_RT_UFFD_WP);
		expect_rights_kept_roundtrips(_metadata, self);
		return;
	}
	TH_LOG("MIGENTRY_FEAT_TLB_FLUSH: writer on CPU %d, round trip from CPU %d",
	       self->cpu_writer, self->cpu_main);
	expect_rights_kept_roundtrips(_metadata, self);

	ASSERT_TRUE(counter_above(&self->w, counter(&self->w), WAIT_MS));
	ret = me_one(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, MIGENTRY_RT_UFFD_WP, &rec);
	s0 = counter(&self->w);
	ASSERT_EQ(0, ret) TH_LOG("ROUNDTRIP: %s", strerror(errno));
	EXPECT_TRUE(me_has(&rec.before, MIGENTRY_PTE_WRITE));
	EXPECT_TRUE(me_has(&rec.entry, MIGENTRY_PTE_UFFD));
	EXPECT_TRUE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_UFFD));
	EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));

	sleep_ms(QUIET_MS);
	s1 = counter(&self->w);
	EXPECT_EQ(s0, s1) TH_LOG("%lu stores landed after ROUNDTRIP returned: CPU %d kept a writable TLB entry",
				 s1 - s0, self->cpu_writer);
	got = uffd_next(self->uffd, WAIT_MS, &msg);
	EXPECT_TRUE(got) TH_LOG("no uffd fault within %d ms", WAIT_MS);
	if (got) {
		EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
		EXPECT_TRUE(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP);
		EXPECT_EQ((uintptr_t)self->p, msg.arg.pagefault.address & ~(__u64)(me_page() - 1));
	}
	s2 = counter(&self->w);
	EXPECT_EQ(s0, s2);
	/* Still protected: the writer waits in the fault. */
	read_pte(_metadata, self, &s);
	EXPECT_TRUE(me_has(&s, MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_UFFD));
	EXPECT_FALSE(me_has(&s, MIGENTRY_PTE_WRITE));
	EXPECT_TRUE(me_pagemap(self->p) & PM_UFFD_WP);

	/* Resolving the fault lets the writer go on. */
	ASSERT_EQ(0, uffd_unprotect(self->uffd, self->p, me_page()));
	EXPECT_TRUE(counter_above(&self->w, s2, WAIT_MS)) TH_LOG("the writer did not resume");
	EXPECT_TRUE(writer_stop(&self->w, &self->uffd, self->p));
}

/*
 * The same without userfaultfd: an mprotect()-style downgrade injected into
 * the round trip. The writer's next store takes a write fault, which the
 * kernel resolves by reusing the exclusive anon page and making the PTE
 * writable again, so the writer goes on either way. What tells a flushed
 * TLB from a stale one is how it goes on: with the flush it takes one write
 * fault (the writer thread's own minor-fault count grows, and the PTE is
 * writable again); through a stale writable entry its stores land with no
 * fault, and the PTE stays read-only while the page is being written.
 * Nothing else in the writer's loop faults (the vDSO page is mapped before
 * it starts), so a count that grew does mean the write fault.
 */
TEST_F(tlb, wrprotect_roundtrip_faults_running_writer)
{
	struct migentry_record rec;
	struct migentry_pte_state s;
	unsigned long c0;
	long f0, f1;
	int ret, tid;

	start_writer(_metadata, self);
	expect_writable_pte(_metadata, self);

	if (!tlb_flush(self)) {
		TH_LOG("stock kernel (no MIGENTRY_FEAT_TLB_FLUSH): the write-protecting round trip must be refused");
		expect_refused(_metadata, self, MIGENTRY_RT_WRPROTECT);
		expect_rights_kept_roundtrips(_metadata, self);
		return;
	}
	TH_LOG("MIGENTRY_FEAT_TLB_FLUSH: writer on CPU %d, round trip from CPU %d",
	       self->cpu_writer, self->cpu_main);
	expect_rights_kept_roundtrips(_metadata, self);

	tid = atomic_load(&self->w.tid);
	f0 = thread_minflt(tid);
	ASSERT_LE(0, f0) TH_LOG("cannot read the writer's fault count");
	ASSERT_TRUE(counter_above(&self->w, counter(&self->w), WAIT_MS));
	ret = me_one(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, MIGENTRY_RT_WRPROTECT, &rec);
	c0 = counter(&self->w);
	ASSERT_EQ(0, ret) TH_LOG("ROUNDTRIP: %s", strerror(errno));
	EXPECT_TRUE(me_has(&rec.before, MIGENTRY_PTE_WRITE));
	EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE, rec.entry.kind);
	EXPECT_TRUE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_PRESENT));
	EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));

	/* Well past the writer's next store. */
	ASSERT_TRUE(counter_above(&self->w, c0 + PROGRESS, WAIT_MS)) TH_LOG("the writer stopped");
	f1 = thread_minflt(tid);
	EXPECT_LT(f0, f1) TH_LOG("%lu stores after ROUNDTRIP returned without a write fault: CPU %d kept a writable TLB entry",
				 counter(&self->w) - c0, self->cpu_writer);
	/* Writable again, which only the write fault can have done. */
	read_pte(_metadata, self, &s);
	EXPECT_TRUE(me_has(&s, MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE))
		TH_LOG("the page is being written through a read-only PTE");
	EXPECT_TRUE(writer_stop(&self->w, &self->uffd, self->p));
}

TEST_HARNESS_MAIN
