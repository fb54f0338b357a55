// SPDX-License-Identifier: GPL-2.0
/*
 * clear_refs_race: does soft-dirty tracking lose writes when clear_refs runs
 * while pages are being migrated?
 *
 * One thread moves the pages back and forth between two NUMA nodes with
 * move_pages(2). The main thread loops: clear_refs (echo 4), write every
 * page, then read pagemap bit 55 (soft-dirty) of every page. A page whose bit
 * is clear right after it was written is a write the kernel did not record.
 *
 * Bounded and seeded: runs for --seconds (default 20); --seed picks the
 * values written and the order pages are checked in. Prints one line:
 *   clear_refs_race: kernel K, seed S, Ns: I iterations, P pages checked,
 *   M migrations, R races hit, L lost writes
 * Exit status: 0 if no write was lost, 1 if some were, 2 on error.
 *
 * Options: --seconds N, --seed N, --pages N, --shmem (memfd instead of
 * private anon), --thp (one PMD-mapped THP instead of small pages),
 * --no-migrate (control run).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/mempolicy.h>

#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_PRESENT (1ULL << 63)

static size_t pagesz;
static char *mem;
static unsigned long npages = 64;
static atomic_bool stop;
static atomic_ulong migrations;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: small, seedable, good enough to vary values and order. */
static uint64_t rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void *migrator(void *unused __attribute__((unused)))
{
	void **pages = calloc(npages, sizeof(*pages));
	int *nodes = calloc(npages, sizeof(*nodes));
	int *status = calloc(npages, sizeof(*status));
	int target = 1;
	unsigned long i;

	if (!pages || !nodes || !status)
		return NULL;
	for (i = 0; i < npages; i++)
		pages[i] = mem + i * pagesz;
	while (!atomic_load(&stop)) {
		for (i = 0; i < npages; i++)
			nodes[i] = target;
		if (syscall(__NR_move_pages, 0, npages, pages, nodes, status, MPOL_MF_MOVE) >= 0)
			atomic_fetch_add(&migrations, 1);
		target = !target;
	}
	free(pages);
	free(nodes);
	free(status);
	return NULL;
}

static int clear_refs(int fd)
{
	return pwrite(fd, "4", 1, 0) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned long iterations = 0, checked = 0, races = 0, lost = 0, i;
	uint64_t seed = 1, state;
	double seconds = 20, end;
	bool migrate = true, shmem = false, thp = false;
	int refs, pm, mfd = -1;
	struct utsname u;
	pthread_t t;
	size_t len;

	for (i = 1; i < (unsigned long)argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < (unsigned long)argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < (unsigned long)argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--pages") && i + 1 < (unsigned long)argc)
			npages = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--shmem"))
			shmem = true;
		else if (!strcmp(argv[i], "--thp"))
			thp = true;
		else if (!strcmp(argv[i], "--no-migrate"))
			migrate = false;
		else {
			fprintf(stderr, "usage: %s [--seconds N] [--seed N] [--pages N] [--shmem] [--thp] [--no-migrate]\n",
				argv[0]);
			return 2;
		}
	}
	if (!seed || !npages || seconds <= 0) {
		fprintf(stderr, "clear_refs_race: --seed, --pages and --seconds must be > 0\n");
		return 2;
	}
	pagesz = sysconf(_SC_PAGESIZE);
	if (thp)
		npages = (2UL << 20) / pagesz;
	len = npages * pagesz;
	if (shmem) {
		mfd = memfd_create("race", MFD_CLOEXEC);
		if (mfd < 0 || ftruncate(mfd, len)) {
			perror("memfd");
			return 2;
		}
		mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	} else if (thp) {
		char *raw = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		mem = raw == MAP_FAILED ? raw : (char *)(((uintptr_t)raw + len - 1) & ~(len - 1));
	} else {
		mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	madvise(mem, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(mem, 1, len);
	refs = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (refs < 0 || pm < 0) {
		perror("open /proc/self");
		return 2;
	}
	if (migrate && pthread_create(&t, NULL, migrator, NULL)) {
		perror("pthread_create");
		return 2;
	}

	state = seed;
	end = now() + seconds;
	while (now() < end) {
		unsigned long start = rng(&state) % npages, lost_now = 0;
		uint64_t *ent = malloc(npages * sizeof(*ent));

		if (!ent || clear_refs(refs)) {
			perror("clear_refs");
			return 2;
		}
		for (i = 0; i < npages; i++)
			mem[((start + i) % npages) * pagesz + 8] = (char)rng(&state);
		if (pread(pm, ent, npages * sizeof(*ent), ((uintptr_t)mem / pagesz) * 8) !=
		    (ssize_t)(npages * sizeof(*ent))) {
			perror("pagemap");
			return 2;
		}
		for (i = 0; i < npages; i++) {
			checked++;
			if ((ent[i] & PM_PRESENT) && !(ent[i] & PM_SOFT_DIRTY))
				lost_now++;
		}
		free(ent);
		lost += lost_now;
		races += lost_now > 0;
		iterations++;
	}
	atomic_store(&stop, true);
	if (migrate)
		pthread_join(t, NULL);
	uname(&u);
	printf("clear_refs_race: kernel %s, seed %llu, %s%s, %.0fs: %lu iterations, %lu pages checked, %lu migrations, %lu races hit, %lu lost writes\n",
	       u.release, (unsigned long long)seed, shmem ? "shmem" : thp ? "thp" : "anon",
	       migrate ? "" : " (no migration)", seconds, iterations, checked,
	       (unsigned long)atomic_load(&migrations), races, lost);
	return lost ? 1 : 0;
}
