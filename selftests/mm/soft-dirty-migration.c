// SPDX-License-Identifier: GPL-2.0
/*
 * Soft-dirty must record every write, also when clear_refs runs while a page
 * is under migration. clear_refs has to leave a writable migration entry
 * unable to come back writable; otherwise the page is restored writable with
 * soft-dirty clear and the next write goes unrecorded.
 *
 * One thread moves the pages between two NUMA nodes with move_pages(2). The
 * main thread loops: clear_refs, write every page, then check the pagemap
 * soft-dirty bit of every page it just wrote. Private anon memory, shmem
 * (memfd) and a PMD-mapped THP are tested.
 *
 * Bounded and repeatable: -t SECONDS per case (default 3), -s SEED for the
 * written values and the page order.
 */
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
#include <time.h>
#include <unistd.h>
#include <linux/mempolicy.h>

#include "kselftest.h"
#include "vm_util.h"

#define NR_SMALL_PAGES	64

static double seconds = 3;
static uint64_t seed = 1;

struct mover {
	char *mem;
	unsigned long nr;	/* pages to move */
	size_t stride;		/* distance between them */
	atomic_bool stop;
	unsigned long moves;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void *move_loop(void *arg)
{
	struct mover *m = arg;
	void *pages[NR_SMALL_PAGES];
	int nodes[NR_SMALL_PAGES], status[NR_SMALL_PAGES];
	int target = 1;
	unsigned long i;

	for (i = 0; i < m->nr; i++)
		pages[i] = m->mem + i * m->stride;
	while (!atomic_load(&m->stop)) {
		for (i = 0; i < m->nr; i++)
			nodes[i] = target;
		if (syscall(__NR_move_pages, 0, m->nr, pages, nodes, status, MPOL_MF_MOVE) == 0)
			m->moves++;
		target = !target;
	}
	return NULL;
}

/* Returns the number of writes the pagemap did not show as soft-dirty. */
static unsigned long run(const char *name, char *mem, unsigned long nr_pages, bool thp,
			 int pagemap_fd)
{
	struct mover m = { .mem = mem, .nr = thp ? 1 : nr_pages, .stride = psize() };
	unsigned long iterations = 0, checked = 0, lost = 0, i;
	uint64_t rnd = seed;
	pthread_t thread;
	double end;

	if (pthread_create(&thread, NULL, move_loop, &m))
		ksft_exit_fail_msg("pthread_create failed\n");
	end = now() + seconds;
	while (now() < end) {
		unsigned long start = next_rand(&rnd) % nr_pages;

		clear_softdirty();
		for (i = 0; i < nr_pages; i++)
			mem[((start + i) % nr_pages) * psize()] = (char)next_rand(&rnd);
		for (i = 0; i < nr_pages; i++) {
			uint64_t ent = pagemap_get_entry(pagemap_fd, mem + i * psize());

			checked++;
			if ((ent & PM_PRESENT) && !(ent & PM_SOFT_DIRTY))
				lost++;
		}
		iterations++;
	}
	atomic_store(&m.stop, true);
	pthread_join(thread, NULL);
	ksft_print_msg("%s: %lu iterations, %lu pages checked, %lu migrations, %lu writes lost\n",
		       name, iterations, checked, m.moves, lost);
	if (!m.moves)
		ksft_print_msg("%s: no migration succeeded, the race was not exercised\n", name);
	return m.moves ? lost : ~0UL;
}

static void report(const char *name, unsigned long lost)
{
	if (lost == ~0UL)
		ksft_test_result_fail("%s: pages did not migrate\n", name);
	else
		ksft_test_result(lost == 0, "%s: no write lost to clear_refs during migration\n",
				 name);
}

static void test_anon(int pagemap_fd)
{
	size_t len = NR_SMALL_PAGES * psize();
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		ksft_exit_fail_msg("mmap failed\n");
	madvise(mem, len, MADV_NOHUGEPAGE);
	memset(mem, 1, len);
	report("anon", run("anon", mem, NR_SMALL_PAGES, false, pagemap_fd));
	munmap(mem, len);
}

static void test_shmem(int pagemap_fd)
{
	size_t len = NR_SMALL_PAGES * psize();
	int fd = memfd_create("soft-dirty-migration", MFD_CLOEXEC);
	char *mem;

	if (fd < 0 || ftruncate(fd, len))
		ksft_exit_fail_msg("memfd failed\n");
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		ksft_exit_fail_msg("mmap failed\n");
	madvise(mem, len, MADV_NOHUGEPAGE);
	memset(mem, 1, len);
	report("shmem", run("shmem", mem, NR_SMALL_PAGES, false, pagemap_fd));
	munmap(mem, len);
	close(fd);
}

static void test_thp(int pagemap_fd)
{
	size_t hpage = read_pmd_pagesize();
	char *raw, *mem;

	if (!hpage) {
		ksft_test_result_skip("thp: no PMD size\n");
		return;
	}
	raw = mmap(NULL, 2 * hpage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		ksft_exit_fail_msg("mmap failed\n");
	mem = (char *)(((uintptr_t)raw + hpage - 1) & ~(hpage - 1));
	madvise(mem, hpage, MADV_HUGEPAGE);
	memset(mem, 1, hpage);
	if (!check_huge_anon(mem, hpage, 1, hpage)) {
		ksft_test_result_skip("thp: could not get a PMD-mapped THP\n");
		munmap(raw, 2 * hpage);
		return;
	}
	report("thp", run("thp", mem, hpage / psize(), true, pagemap_fd));
	ksft_print_msg("thp: %s PMD-mapped at the end\n",
		       check_huge_anon(mem, hpage, 1, hpage) ? "still" : "no longer");
	munmap(raw, 2 * hpage);
}

static int online_nodes(void)
{
	char buf[64] = "";
	int a, b;

	if (read_file("/sys/devices/system/node/online", buf, sizeof(buf)) <= 0)
		return 1;
	if (sscanf(buf, "%d-%d", &a, &b) == 2)
		return b - a + 1;
	return 1;
}

int main(int argc, char **argv)
{
	int opt, pagemap_fd;

	while ((opt = getopt(argc, argv, "t:s:")) != -1) {
		switch (opt) {
		case 't':
			seconds = atof(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			ksft_exit_fail_msg("usage: %s [-t seconds] [-s seed]\n", argv[0]);
		}
	}
	if (seconds <= 0 || !seed)
		ksft_exit_fail_msg("-t and -s must be > 0\n");

	ksft_print_header();
	if (!softdirty_supported())
		ksft_exit_skip("soft-dirty is not supported\n");
	if (online_nodes() < 2)
		ksft_exit_skip("needs two NUMA nodes\n");
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap_fd < 0)
		ksft_exit_fail_msg("open pagemap failed\n");

	ksft_set_plan(3);
	ksft_print_msg("seed %llu, %.1f s per case\n", (unsigned long long)seed, seconds);
	test_anon(pagemap_fd);
	test_shmem(pagemap_fd);
	test_thp(pagemap_fd);
	close(pagemap_fd);
	ksft_finished();
}
