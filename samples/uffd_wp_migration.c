// SPDX-License-Identifier: GPL-2.0
/*
 * uffd_wp_migration: does a real page migration keep userfaultfd
 * write-protection? The November 2022 bug, on a live kernel.
 *
 * For a memfd MAP_SHARED region and for private anon memory, N pages each
 * (default 64): write every page, register the region for uffd-wp,
 * write-protect it, migrate every page to the other NUMA node with
 * move_pages(2) and check that it moved. Then read pagemap bit 57 (uffd-wp)
 * and, if /dev/migentry is there, READ_PTE: is a PTE writable and uffd-wp at
 * once? Finally a writer thread writes a new value into each page, once, in
 * order, while the main thread reads the userfaultfd. For each WP message the
 * page must still hold its old value (the write is blocked); the main thread
 * then unprotects that page (UFFDIO_WRITEPROTECT, mode 0) and the writer
 * goes on. A page written without a message is a write the uffd-wp user
 * (a snapshot, say) never saw: "unseen".
 *
 * One line per memory type:
 *   uffd_wp_migration: memfd: 64 pages migrated, 64 uffd-wp in pagemap,
 *   64 WP messages, 0 writes unseen, 0 PTEs writable+uffd
 * ("n/a PTEs writable+uffd" without /dev/migentry; anomalies, such as a
 * message for a page that already held the new value, follow on the line).
 *
 * Options: --pages N; --expect reported (every write of every type reported
 * exactly once), --expect memfd-unseen (every memfd write unseen, every anon
 * write reported exactly once: the 2022 bug). Exit status: 0, 1 if the
 * expectation failed, 2 on error (no second NUMA node, a syscall failed).
 * Static; uses only include/uapi/migentry.h, libc and userfaultfd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>

#include <uapi/migentry.h>

#define PM_UFFD_WP (1ULL << 57)
#define PM_PRESENT (1ULL << 63)

/* Bounds: every wait below ends. TCG is slow, so they are generous. */
#define POLL_MS		100
#define TYPE_SECONDS	60.0

enum expect { EXPECT_NONE, EXPECT_REPORTED, EXPECT_MEMFD_UNSEEN };

struct result {
	const char *name;
	unsigned long pages;		/* pages in the region */
	unsigned long migrated;		/* on the target node after move_pages */
	unsigned long pagemap_uffd;	/* pagemap bit 57 set after migration */
	long pte_wu;			/* PTEs writable+uffd; -1: no /dev/migentry */
	unsigned long messages;		/* WP messages */
	unsigned long unseen;		/* pages written without a message */
	unsigned long repeated;		/* pages with more than one message */
	unsigned long saw_new;		/* messages for a page that held the new value */
	unsigned long not_written;	/* pages without the new value at the end */
	unsigned long stray;		/* messages outside the region or not WP */
	bool timed_out;			/* the writer had to be released */
};

static size_t pagesz;
static unsigned long npages = 64;

/* Shared with the writer thread. */
static char *region;
static atomic_ulong written;	/* pages the writer has written */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t old_value(unsigned long i)
{
	return 0x01d0000000000000ULL | i;
}

static uint64_t new_value(unsigned long i)
{
	return 0x0e30000000000000ULL | i;
}

static volatile uint64_t *word(unsigned long i)
{
	return (volatile uint64_t *)(region + i * pagesz);
}

static void *writer(void *unused __attribute__((unused)))
{
	unsigned long i;

	for (i = 0; i < npages; i++) {
		*word(i) = new_value(i);
		atomic_store(&written, i + 1);
	}
	return NULL;
}

static int wp(int uffd, unsigned long first, unsigned long n, bool protect)
{
	struct uffdio_writeprotect w = {
		.range = { .start = (uintptr_t)region + first * pagesz, .len = n * pagesz },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &w);
}

/* The node of every page (move_pages with no target), into nodes[]. */
static int where(void **pages, int *nodes)
{
	return syscall(__NR_move_pages, 0, npages, pages, NULL, nodes, 0) < 0 ? -1 : 0;
}

/* Move every page to the other node; count those that got there. */
static int migrate(struct result *r)
{
	void **pages = calloc(npages, sizeof(*pages));
	int *target = calloc(npages, sizeof(*target));
	int *status = calloc(npages, sizeof(*status));
	int ret = -1;
	unsigned long i;

	if (!pages || !target || !status)
		goto out;
	for (i = 0; i < npages; i++)
		pages[i] = region + i * pagesz;
	if (where(pages, status)) {
		perror("move_pages (query)");
		goto out;
	}
	for (i = 0; i < npages; i++) {
		if (status[i] < 0) {
			fprintf(stderr, "uffd_wp_migration: %s: page %lu: %s\n", r->name, i,
				strerror(-status[i]));
			goto out;
		}
		target[i] = status[i] == 0 ? 1 : 0;
	}
	if (syscall(__NR_move_pages, 0, npages, pages, target, status, MPOL_MF_MOVE) < 0) {
		perror("move_pages");
		goto out;
	}
	if (where(pages, status)) {
		perror("move_pages (query)");
		goto out;
	}
	for (i = 0; i < npages; i++)
		r->migrated += status[i] == target[i];
	ret = 0;
out:
	free(pages);
	free(target);
	free(status);
	return ret;
}

static int read_pagemap(struct result *r)
{
	uint64_t *ent = calloc(npages, sizeof(*ent));
	ssize_t want = npages * sizeof(*ent);
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	unsigned long i;
	int ret = -1;

	if (fd < 0 || !ent) {
		perror("pagemap");
		goto out;
	}
	if (pread(fd, ent, want, ((uintptr_t)region / pagesz) * sizeof(*ent)) != want) {
		perror("pagemap read");
		goto out;
	}
	for (i = 0; i < npages; i++)
		r->pagemap_uffd += (ent[i] & (PM_PRESENT | PM_UFFD_WP)) == (PM_PRESENT | PM_UFFD_WP);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(ent);
	return ret;
}

/* READ_PTE through /dev/migentry, if the module is loaded. */
static int read_ptes(struct result *r)
{
	struct migentry_record *rec;
	struct migentry_range rg = { .size = sizeof(rg) };
	unsigned long i;
	int fd;

	r->pte_wu = -1;
	fd = open("/dev/migentry", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		perror("open /dev/migentry");
		return -1;
	}
	rec = calloc(npages, sizeof(*rec));
	if (!rec) {
		close(fd);
		return -1;
	}
	rg.addr = (uintptr_t)region;
	rg.len = npages * pagesz;
	rg.records = (uintptr_t)rec;
	rg.nr_records = npages;
	if (ioctl(fd, MIGENTRY_IOC_READ_PTE, &rg) || rg.nr_done != npages) {
		perror("MIGENTRY_IOC_READ_PTE");
		free(rec);
		close(fd);
		return -1;
	}
	r->pte_wu = 0;
	for (i = 0; i < npages; i++) {
		__u32 f = rec[i].before.flags;

		r->pte_wu += (f & (MIGENTRY_PTE_WRITE | MIGENTRY_PTE_UFFD)) ==
			     (MIGENTRY_PTE_WRITE | MIGENTRY_PTE_UFFD);
	}
	free(rec);
	close(fd);
	return 0;
}

/* Read every message queued on the uffd; unprotect each page reported. */
static int drain(int uffd, unsigned int *seen, struct result *r)
{
	struct uffd_msg msg;
	ssize_t n;

	while ((n = read(uffd, &msg, sizeof(msg))) == sizeof(msg)) {
		uintptr_t a = msg.arg.pagefault.address;
		unsigned long i;

		if (msg.event != UFFD_EVENT_PAGEFAULT ||
		    !(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) ||
		    a < (uintptr_t)region || a >= (uintptr_t)region + npages * pagesz) {
			r->stray++;
			continue;
		}
		i = (a - (uintptr_t)region) / pagesz;
		r->messages++;
		if (seen[i]++)
			r->repeated++;
		/* The write is blocked in the fault: the page must hold the old value. */
		if (*word(i) != old_value(i))
			r->saw_new++;
		if (wp(uffd, i, 1, false)) {
			perror("UFFDIO_WRITEPROTECT (unprotect)");
			return -1;
		}
	}
	if (n < 0 && errno == EAGAIN)
		return 0;
	perror("read userfaultfd");
	return -1;
}

/*
 * Write all pages from a thread while reading the uffd. Ends when the writer
 * has finished and the uffd is quiet, or at the deadline: then everything is
 * unprotected so that the writer can finish, and the thread is joined.
 */
static int write_and_watch(int uffd, struct result *r)
{
	unsigned int *seen = calloc(npages, sizeof(*seen));
	struct pollfd p = { .fd = uffd, .events = POLLIN };
	double deadline = now() + TYPE_SECONDS;
	bool done = false;
	unsigned long i;
	pthread_t t;
	int ret = 0;

	if (!seen)
		return -1;
	atomic_store(&written, 0);
	if (pthread_create(&t, NULL, writer, NULL)) {
		perror("pthread_create");
		free(seen);
		return -1;
	}
	while (!done && now() < deadline) {
		bool finished = atomic_load(&written) == npages;
		int n = poll(&p, 1, POLL_MS);

		if (n < 0 && errno != EINTR) {
			perror("poll userfaultfd");
			ret = -1;
			break;
		}
		if (n > 0 && drain(uffd, seen, r)) {
			ret = -1;
			break;
		}
		/* Quiet for a whole poll after the writer finished. */
		done = n == 0 && finished;
	}
	if (!done) {
		if (ret == 0) {
			fprintf(stderr, "uffd_wp_migration: %s: writer not done after %.0fs (%lu of %lu pages)\n",
				r->name, TYPE_SECONDS, (unsigned long)atomic_load(&written), npages);
			r->timed_out = true;
		}
		/* Release the writer whatever happened: it must be joinable. */
		if (wp(uffd, 0, npages, false))
			perror("UFFDIO_WRITEPROTECT (release)");
	}
	pthread_join(t, NULL);
	for (i = 0; i < npages; i++) {
		r->unseen += !seen[i];
		r->not_written += *word(i) != new_value(i);
	}
	free(seen);
	return ret;
}

static int run_type(bool memfd, struct result *r)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
	};
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	size_t len = npages * pagesz;
	int uffd = -1, mfd = -1, ret = -1;
	unsigned long i;

	memset(r, 0, sizeof(*r));
	r->name = memfd ? "memfd" : "anon";
	r->pages = npages;
	r->pte_wu = -1;
	if (memfd) {
		mfd = memfd_create("uffd_wp_migration", MFD_CLOEXEC);
		if (mfd < 0 || ftruncate(mfd, len)) {
			perror("memfd");
			goto out_close;
		}
		region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	} else {
		region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (region == MAP_FAILED) {
		perror("mmap");
		goto out_close;
	}
	/* Small pages only: the PTE-level restore is what is tested. */
	madvise(region, len, MADV_NOHUGEPAGE);
	for (i = 0; i < npages; i++) {
		memset(region + i * pagesz, 0x5a, pagesz);
		*word(i) = old_value(i);
	}

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0) {
		perror("userfaultfd");
		goto out;
	}
	if (ioctl(uffd, UFFDIO_API, &api)) {
		perror("UFFDIO_API");
		goto out;
	}
	reg.range.start = (uintptr_t)region;
	reg.range.len = len;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		perror("UFFDIO_REGISTER (WP)");
		goto out;
	}
	if (!(reg.ioctls & (1ULL << _UFFDIO_WRITEPROTECT))) {
		fprintf(stderr, "uffd_wp_migration: %s: no UFFDIO_WRITEPROTECT on this range\n",
			r->name);
		goto out;
	}
	if (wp(uffd, 0, npages, true)) {
		perror("UFFDIO_WRITEPROTECT");
		goto out;
	}
	if (migrate(r) || read_pagemap(r) || read_ptes(r))
		goto out;
	ret = write_and_watch(uffd, r);
out:
	if (uffd >= 0)
		close(uffd);
	munmap(region, len);
out_close:
	if (mfd >= 0)
		close(mfd);
	return ret;
}

static void print(const struct result *r)
{
	printf("uffd_wp_migration: %s: %lu pages migrated, %lu uffd-wp in pagemap, %lu WP messages, %lu writes unseen, ",
	       r->name, r->migrated, r->pagemap_uffd, r->messages, r->unseen);
	if (r->pte_wu < 0)
		printf("n/a PTEs writable+uffd (no /dev/migentry)");
	else
		printf("%ld PTEs writable+uffd", r->pte_wu);
	if (r->migrated != r->pages)
		printf(", only %lu of %lu pages migrated", r->migrated, r->pages);
	if (r->repeated)
		printf(", %lu pages reported more than once", r->repeated);
	if (r->saw_new)
		printf(", %lu messages for a page already written", r->saw_new);
	if (r->not_written)
		printf(", %lu pages without the new value", r->not_written);
	if (r->stray)
		printf(", %lu stray messages", r->stray);
	if (r->timed_out)
		printf(", writer released at the deadline");
	printf("\n");
}

/* Every page migrated, written, and every write reported exactly once. */
static bool all_reported(const struct result *r)
{
	return r->migrated == r->pages && r->messages == r->pages && !r->unseen &&
	       !r->repeated && !r->saw_new && !r->not_written && !r->stray && !r->timed_out;
}

/* Every page migrated and written, and not one write reported. */
static bool all_unseen(const struct result *r)
{
	return r->migrated == r->pages && !r->messages && r->unseen == r->pages &&
	       !r->not_written && !r->stray && !r->timed_out;
}

int main(int argc, char **argv)
{
	enum expect expect = EXPECT_NONE;
	struct result res[2];
	bool ok = true;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "reported"))
				expect = EXPECT_REPORTED;
			else if (!strcmp(argv[i], "memfd-unseen"))
				expect = EXPECT_MEMFD_UNSEEN;
			else
				goto usage;
		} else if (!strcmp(argv[i], "--pages") && i + 1 < argc) {
			npages = strtoul(argv[++i], NULL, 0);
		} else {
			goto usage;
		}
	}
	if (!npages || npages > MIGENTRY_MAX_PAGES) {
		fprintf(stderr, "uffd_wp_migration: --pages must be in 1..%d\n", MIGENTRY_MAX_PAGES);
		return 2;
	}
	pagesz = sysconf(_SC_PAGESIZE);

	for (i = 0; i < 2; i++) {
		if (run_type(i == 0, &res[i]))
			return 2;
		print(&res[i]);
		fflush(stdout);
	}

	switch (expect) {
	case EXPECT_NONE:
		break;
	case EXPECT_REPORTED:
		for (i = 0; i < 2; i++) {
			if (!all_reported(&res[i])) {
				printf("uffd_wp_migration: FAIL: %s: not every write was reported exactly once\n",
				       res[i].name);
				ok = false;
			}
		}
		break;
	case EXPECT_MEMFD_UNSEEN:
		if (!all_unseen(&res[0])) {
			printf("uffd_wp_migration: FAIL: memfd: expected every write unseen (the 2022 bug)\n");
			ok = false;
		}
		if (!all_reported(&res[1])) {
			printf("uffd_wp_migration: FAIL: anon: not every write was reported exactly once\n");
			ok = false;
		}
		break;
	}
	if (expect != EXPECT_NONE && ok)
		printf("uffd_wp_migration: expectation '%s' met\n",
		       expect == EXPECT_REPORTED ? "reported" : "memfd-unseen");
	return ok ? 0 : 1;

usage:
	fprintf(stderr, "usage: %s [--pages N] [--expect reported|memfd-unseen]\n", argv[0]);
	return 2;
}
