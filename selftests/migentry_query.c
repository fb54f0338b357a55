// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_query: what a query costs the process it looks at.
 *
 * - READ_PTE and EVALUATE (and ROUNDTRIP) over memory without page tables
 *   allocate none: VmPTE in /proc/self/status does not move.
 * - A query does not hold up the process's page faults while it walks: a
 *   thread faulting pages in the queried VMA makes progress during a walk,
 *   which a READ_PTE can only see if the walk was not one atomic snapshot.
 * - The record buffers of a call are charged to the caller's memory cgroup:
 *   its memory.peak rises by the buffers' size during a 65536-page READ_PTE.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

#define MAX_PG		MIGENTRY_MAX_PAGES

/* A field of /proc/self/status in kB, or -1. */
static long status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * 64 MiB never touched, in a VMA of its own: 32 PMDs' worth of PTE tables
 * that do not exist. Queries over it must report none and allocate nothing.
 */
TEST(queries_allocate_no_page_tables)
{
	static const unsigned long cmds[] = {
		MIGENTRY_IOC_READ_PTE, MIGENTRY_IOC_EVALUATE, MIGENTRY_IOC_ROUNDTRIP,
	};
	static const char *const names[] = { "READ_PTE", "EVALUATE", "ROUNDTRIP" };
	size_t pg = me_page(), len = 64UL << 20, nr = len / pg, i, k;
	struct migentry_record *rec = calloc(nr, sizeof(*rec));
	struct migentry_range a;
	long before, after;
	int dev = me_open();
	char *p, *warm;

	ASSERT_LE(0, dev);
	ASSERT_NE(NULL, rec);
	/* The records and a small populated range, touched first. */
	memset(rec, 0, nr * sizeof(*rec));
	warm = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, warm);
	warm[0] = 1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	for (k = 0; k < 3; k++) {
		/* Warm up the call path itself on the populated page. */
		ASSERT_EQ(0, me_range(dev, cmds[k], warm, pg, 0, rec, 1, NULL));
		before = status_kb("VmPTE");
		ASSERT_LE(0, before);
		ASSERT_EQ(0, me_range(dev, cmds[k], p, len, 0, rec, nr, &a))
			TH_LOG("%s: %s", names[k], strerror(errno));
		after = status_kb("VmPTE");
		EXPECT_EQ(before, after)
			TH_LOG("%s over %zu unpopulated pages: VmPTE %ld kB -> %ld kB", names[k], nr,
			       before, after);
		EXPECT_EQ(nr, a.nr_done);
		for (i = 0; i < nr; i++)
			if (rec[i].status != MIGENTRY_REC_NONE ||
			    rec[i].before.kind != MIGENTRY_LEAF_NONE ||
			    rec[i].addr != (uintptr_t)p + i * pg)
				break;
		EXPECT_EQ(nr, i) TH_LOG("%s: record %zu is not a none page of the range",
					names[k], i);
	}
	munmap(p, len);
	munmap(warm, pg);
	free(rec);
	close(dev);
}

/*
 * The faulting thread: touches the pages of two regions of one VMA in
 * pairs, a page of the high region (from its top down) and then one of the
 * low region (from its bottom up), so that at any moment the high region
 * has as many present pages as the low one, or one more.
 */
struct faulter {
	char *low, *high;
	size_t pages;		/* per region */
	atomic_size_t done;	/* pairs faulted in */
	atomic_int stop;
	atomic_int reset;	/* main thread asks for a new round; cleared when seen */
};

static void *fault_pairs(void *arg)
{
	struct faulter *f = arg;
	size_t pg = me_page(), j = 0;

	while (!atomic_load(&f->stop)) {
		if (atomic_load(&f->reset)) {
			j = 0;
			atomic_store(&f->done, 0);
			atomic_store(&f->reset, 0);
		}
		if (j == f->pages) {
			usleep(1000);
			continue;
		}
		f->high[(f->pages - 1 - j) * pg] = 1;
		f->low[j * pg] = 1;
		atomic_store(&f->done, ++j);
	}
	return NULL;
}

/*
 * READ_PTE walks in address order, the low region first. Were the walk one
 * snapshot (the mmap write lock held throughout, as before issue 13 defect
 * 5 was fixed), it would always find as many present pages in the high
 * region as in the low one, or one more. Finding two or more additional
 * ones means faults completed while the walk ran. Both outcomes are
 * reported; the test fails only if no walk in 60 s (or 40 rounds) saw one.
 */
FIXTURE(slow)
{
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

/* The harness's timeout only catches a hang: the test stops by itself after 60 s. */
TEST_F_TIMEOUT(slow, query_does_not_block_faults, 180)
{
	size_t pg = me_page(), len = (size_t)MAX_PG * pg, region = MAX_PG / 4, nr = MAX_PG, i;
	struct migentry_record *rec = calloc(nr, sizeof(*rec));
	struct faulter f = { 0 };
	size_t walks = 0, seen = 0, rounds = 0, max_lead = 0;
	pthread_t t;
	double t0;
	int dev = me_open();
	char *p;

	ASSERT_LE(0, dev);
	ASSERT_NE(NULL, rec);
	memset(rec, 0, nr * sizeof(*rec));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* No THP: a PMD-mapped page would make the walk refuse the range. */
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	f.low = p;
	f.high = p + len - region * pg;
	f.pages = region;
	ASSERT_EQ(0, pthread_create(&t, NULL, fault_pairs, &f));

	t0 = now();
	while (!seen && now() - t0 < 60 && rounds < 40) {
		size_t lo = 0, hi = 0;
		int ret = me_range(dev, MIGENTRY_IOC_READ_PTE, p, len, 0, rec, nr, NULL);

		ASSERT_EQ(0, ret) TH_LOG("READ_PTE: %s", strerror(errno));
		walks++;
		for (i = 0; i < region; i++) {
			lo += rec[i].before.kind == MIGENTRY_LEAF_PRESENT;
			hi += rec[nr - region + i].before.kind == MIGENTRY_LEAF_PRESENT;
		}
		ASSERT_LE(lo, hi) TH_LOG("walk %zu: low %zu present, high %zu", walks, lo, hi);
		if (hi - lo > max_lead)
			max_lead = hi - lo;
		if (hi - lo >= 2)
			seen++;
		if (atomic_load(&f.done) == region) {
			/* All faulted: start over on empty regions. */
			ASSERT_EQ(0, madvise(f.low, region * pg, MADV_DONTNEED));
			ASSERT_EQ(0, madvise(f.high, region * pg, MADV_DONTNEED));
			atomic_store(&f.reset, 1);
			while (atomic_load(&f.reset))
				usleep(100);
			rounds++;
		}
	}
	atomic_store(&f.stop, 1);
	pthread_join(t, NULL);
	printf("# %zu walks of %zu pages in %.1f s, %zu rounds; faults seen completing during a walk: %zu walks, at most %zu pages ahead\n",
	       walks, nr, now() - t0, rounds, seen, max_lead);
	EXPECT_LT(0, seen) TH_LOG("no fault completed while a READ_PTE walked the VMA");
	munmap(p, len);
	free(rec);
	close(dev);
}

/* Writes s to path; 0 or -errno. */
static int put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* A number from a cgroup file, the value of key (or the first word if key is NULL); -1 if none. */
static long long cg_read(const char *path, const char *key)
{
	char line[256], name[64];
	long long v = -1, x;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strtoll(line, NULL, 10);
			break;
		}
		if (sscanf(line, "%63s %lld", name, &x) == 2 && !strcmp(name, key)) {
			v = x;
			break;
		}
	}
	fclose(f);
	return v;
}

static bool has_cgroup2(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/filesystems", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "\tcgroup2\n"))
			found = true;
	fclose(f);
	return found;
}

#define CG_ROOT	"/tmp/migentry-cg"
#define CG	CG_ROOT "/query"

/*
 * The records of a 65536-page READ_PTE (about 1.5 MiB, allocated by the
 * module for the call) are charged to the caller's memory cgroup: its
 * memory.peak, reset just before the call (a per-open-file reset), rises by
 * at least 1 MiB during it. The record array and the range were populated,
 * or are left unpopulated, before the process joined the cgroup, so the call
 * is the only thing that charges it. (With a small memory.max instead, the
 * call fails with ENOMEM, after the memcg OOM killer has been asked and
 * printed its report: the guest runner counts that as a failure.)
 */
TEST(record_buffers_are_charged_to_the_memcg)
{
	size_t pg = me_page(), len = (size_t)MAX_PG * pg;
	struct migentry_record *rec;
	long long *seen, cur;
	char pid[32], buf[64];
	int dev, status, ret, pfd;
	ssize_t n;
	pid_t child;
	char *p;

	if (!has_cgroup2())
		SKIP(return, "no cgroup2 in this kernel (the guest config has no CONFIG_CGROUPS / CONFIG_MEMCG)");
	mkdir(CG_ROOT, 0755);
	if (mount("none", CG_ROOT, "cgroup2", 0, NULL) && errno != EBUSY)
		SKIP(return, "mount cgroup2: %s", strerror(errno));
	if (put(CG_ROOT "/cgroup.subtree_control", "+memory")) {
		umount(CG_ROOT);
		SKIP(return, "no memory controller (CONFIG_MEMCG)");
	}
	rmdir(CG);
	ASSERT_EQ(0, mkdir(CG, 0755));

	dev = me_open();
	ASSERT_LE(0, dev);
	/* Shared, so that the child writing records breaks no COW (a charge of its own). */
	rec = mmap(NULL, MAX_PG * sizeof(*rec), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, rec);
	seen = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, seen);
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	madvise(p, len, MADV_NOHUGEPAGE);

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (put(CG "/cgroup.procs", pid))
			_exit(10);
		pfd = open(CG "/memory.peak", O_RDWR | O_CLOEXEC);
		if (pfd < 0 || write(pfd, "reset\n", 6) != 6)
			_exit(11);
		cur = cg_read(CG "/memory.current", NULL);
		ret = me_range(dev, MIGENTRY_IOC_READ_PTE, p, len, 0, rec, MAX_PG, NULL);
		if (ret)
			_exit(30);
		n = pread(pfd, buf, sizeof(buf) - 1, 0);
		if (cur < 0 || n <= 0)
			_exit(12);
		buf[n] = 0;
		seen[0] = cur;
		seen[1] = strtoll(buf, NULL, 10);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child killed by signal %d", WTERMSIG(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("exit %d: 30 = the READ_PTE failed, 1x = cgroup setup", WEXITSTATUS(status));
	TH_LOG("memory.current %lld before the call, memory.peak %lld during it", seen[0], seen[1]);
	EXPECT_LE(seen[0] + (1 << 20), seen[1])
		TH_LOG("the module's record buffers were not charged to the cgroup");
	rmdir(CG);
	umount(CG_ROOT);
	rmdir(CG_ROOT);
	munmap(p, len);
	munmap(seen, pg);
	munmap(rec, MAX_PG * sizeof(*rec));
	close(dev);
}

TEST_HARNESS_MAIN
