// SPDX-License-Identifier: GPL-2.0
/*
 * bench_migrate: real migration throughput, migentry's restore hook
 * registered vs not (issue 14, question 2).
 *
 * Moves P private-anon pages back and forth between NUMA nodes 0 and 1 with
 * move_pages(2) and reports pages per second.
 *
 * --mode reload (the hooked kernel, migentry NOT loaded at start): every
 * round measures both hook states, each in --blocks blocks of --moves
 * move_pages() calls, the blocks interleaved X Y Y X X Y Y X..., where X is
 * "on" in even rounds and "off" in odd ones, so that a drift of the host's
 * speed within a round weighs on both states alike. Before each block the
 * program unloads migentry (delete_module) and loads it again (finit_module)
 * with "hook=1" or "hook=0", checks through MIGENTRY_IOC_STATS that the hook
 * is registered or not as asked, closes /dev/migentry, and only then
 * measures; afterwards it reads how many times the kernel consulted the hook
 * during the block. A round's pages/s for a state is its median block's, which
 * a few blocks the host stalled do not move. Round 0 is a warm-up and is reported as such. migentry is left
 * unloaded.
 *
 * --mode plain (any kernel, e.g. stock without migentry): every round is
 * --blocks blocks with whatever is loaded; state "absent".
 *
 * Output: one line per block, then one per round and state:
 *   bench_migrate: block N.B state=on|off|absent ns=T
 *   bench_migrate: round N warmup|measured state=on|off|absent pages=P moves=M
 *     blocks=K ns=T pages_per_s=X hook_called=C
 * (moves per block; ns and hook_called summed over the blocks, pages_per_s
 * the median block's). A benchmark, not a test: it
 * judges no timing. It exits non-zero only if a page did not move, the module
 * could not be reloaded, or the hook state was not the one asked for.
 *
 * The program runs on CPU --cpu only (0; -1: anywhere), so that the guest's
 * scheduler does not move it between vCPUs and TLB flushes stay local.
 *
 * Usage: bench_migrate [--mode reload|plain] [--pages P] [--rounds R]
 *                      [--blocks K] [--moves M] [--cpu N] [--ko PATH]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

#include <uapi/migentry.h>

#include "bench_lib.h"

enum state { HOOK_ON, HOOK_OFF, ABSENT };
static const char *const state_name[] = { "on", "off", "absent" };

static long move_pages(unsigned long count, void **pages, const int *nodes, int *status,
		       int flags)
{
	return syscall(__NR_move_pages, 0, count, pages, nodes, status, flags);
}

/* delete_module, retried while a reference is transient (EAGAIN/EBUSY). */
static int unload(void)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!syscall(__NR_delete_module, "migentry", O_NONBLOCK) || errno == ENOENT)
			return 0;
		if (errno != EAGAIN && errno != EBUSY)
			break;
		usleep(10000);
	}
	fprintf(stderr, "bench_migrate: delete_module: %s\n", strerror(errno));
	return -1;
}

static int load(int ko_fd, const char *args)
{
	if (syscall(__NR_finit_module, ko_fd, args, 0)) {
		fprintf(stderr, "bench_migrate: finit_module(%s): %s\n", args, strerror(errno));
		return -1;
	}
	return 0;
}

/* MIGENTRY_IOC_STATS through a short-lived open: never held across an unload. */
static int stats(struct migentry_stats *s)
{
	int fd = open("/dev/migentry", O_RDWR | O_CLOEXEC), rc;

	if (fd < 0) {
		fprintf(stderr, "bench_migrate: /dev/migentry: %s\n", strerror(errno));
		return -1;
	}
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	rc = ioctl(fd, MIGENTRY_IOC_STATS, s);
	if (rc)
		fprintf(stderr, "bench_migrate: MIGENTRY_IOC_STATS: %s\n", strerror(errno));
	close(fd);
	return rc;
}

/*
 * Moves every page to node `to`; returns the number of pages that are not
 * on it afterwards (or -1 if the call failed).
 */
static long move_all(void **pages, unsigned int n, int *nodes, int *status, int to)
{
	unsigned int i;
	long bad = 0;

	for (i = 0; i < n; i++)
		nodes[i] = to;
	if (move_pages(n, pages, nodes, status, MPOL_MF_MOVE) < 0) {
		fprintf(stderr, "bench_migrate: move_pages: %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++)
		bad += status[i] != to;
	return bad;
}

/*
 * `moves` move_pages() calls, alternating the target node, starting with every
 * page on node 0; returns ns, or 0 on failure.
 */
static uint64_t measure(void **pages, unsigned int n, int *nodes, int *status, unsigned int moves)
{
	uint64_t t0, t1;
	unsigned int m;
	long bad;

	t0 = now_ns();
	for (m = 0; m < moves; m++) {
		bad = move_all(pages, n, nodes, status, (m & 1) ? 0 : 1);
		if (bad) {
			fprintf(stderr, "bench_migrate: move %u: %ld pages not moved\n", m, bad);
			return 0;
		}
	}
	t1 = now_ns();
	return t1 > t0 ? t1 - t0 : 1;
}

/* The median of t[0..n) (n > 0); sorts t. */
static double median(uint64_t *t, unsigned int n)
{
	qsort(t, n, sizeof(*t), cmp_u64);
	return n % 2 ? (double)t[n / 2] : ((double)t[n / 2 - 1] + (double)t[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	const char *ko = "/guest/migentry.ko", *mode = "reload";
	unsigned int npages = 256, rounds = 7, blocks = 4, moves = 8, r, b, i;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int reload, ko_fd = -1, cpu = 0, *nodes, *status;
	struct migentry_stats s0, s1;
	uint64_t *bt[3];
	void **pages;
	char *p;

	for (i = 1; i + 1 < (unsigned int)argc; i += 2) {
		if (!strcmp(argv[i], "--mode"))
			mode = argv[i + 1];
		else if (!strcmp(argv[i], "--pages"))
			npages = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--cpu"))
			cpu = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--blocks"))
			blocks = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--moves"))
			moves = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--ko"))
			ko = argv[i + 1];
		else
			break;
	}
	if (i != (unsigned int)argc || !npages || !moves || !blocks ||
	    (strcmp(mode, "reload") && strcmp(mode, "plain"))) {
		fprintf(stderr, "usage: bench_migrate [--mode reload|plain] [--pages P] [--rounds R] [--blocks K] [--moves M] [--cpu N] [--ko PATH]\n");
		return 2;
	}
	if (pin("bench_migrate", cpu))
		return 1;
	reload = !strcmp(mode, "reload");
	if (moves & 1)
		moves++; /* an even number: the pages end where they started */

	p = mmap(NULL, npages * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pages = calloc(npages, sizeof(*pages));
	nodes = calloc(npages, sizeof(*nodes));
	status = calloc(npages, sizeof(*status));
	for (i = 0; i < 3; i++)
		bt[i] = calloc(blocks, sizeof(*bt[i]));
	if (p == MAP_FAILED || !pages || !nodes || !status || !bt[0] || !bt[1] || !bt[2]) {
		fprintf(stderr, "bench_migrate: out of memory\n");
		return 1;
	}
	madvise(p, npages * pg, MADV_NOHUGEPAGE); /* fails without THP: fine */
	for (i = 0; i < npages; i++) {
		memset(p + i * pg, (int)(i & 0xff) | 1, pg);
		pages[i] = p + i * pg;
	}

	if (reload) {
		ko_fd = open(ko, O_RDONLY | O_CLOEXEC);
		if (ko_fd < 0) {
			fprintf(stderr, "bench_migrate: open %s: %s\n", ko, strerror(errno));
			return 1;
		}
	}
	printf("bench_migrate: mode=%s pages=%u rounds=%u blocks=%u moves=%u cpu=%d (round 0 is a warm-up)\n",
	       mode, npages, rounds, blocks, moves, cpu);
	fflush(stdout);

	for (r = 0; r <= rounds; r++) {
		uint64_t ns[3] = { 0 }, called[3] = { 0 };
		unsigned int nb[3] = { 0 };
		enum state x = r % 2 ? HOOK_OFF : HOOK_ON, y = r % 2 ? HOOK_ON : HOOK_OFF;
		unsigned int nblocks = reload ? 2 * blocks : blocks, k;

		for (b = 0; b < nblocks; b++) {
			/* X Y Y X X Y Y X ... */
			enum state st = !reload ? ABSENT : (b % 4 == 0 || b % 4 == 3) ? x : y;
			uint64_t t;

			/* Every block starts with every page on node 0. */
			if (move_all(pages, npages, nodes, status, 0)) {
				fprintf(stderr, "bench_migrate: pages not on node 0 before measuring\n");
				return 1;
			}
			if (reload) {
				if (unload() || load(ko_fd, st == HOOK_ON ? "hook=1" : "hook=0"))
					return 1;
				if (stats(&s0))
					return 1;
				if (!!(s0.flags & MIGENTRY_STATS_HOOK_REGISTERED) != (st == HOOK_ON)) {
					fprintf(stderr, "bench_migrate: hook %sregistered, asked %s\n",
						s0.flags & MIGENTRY_STATS_HOOK_REGISTERED ? "" : "not ",
						state_name[st]);
					return 1;
				}
			}
			t = measure(pages, npages, nodes, status, moves);
			if (!t)
				return 1;
			ns[st] += t;
			bt[st][nb[st]++] = t;
			if (reload) {
				if (stats(&s1))
					return 1;
				called[st] += s1.kernel_called - s0.kernel_called;
			}
			printf("bench_migrate: block %u.%u state=%s ns=%llu\n", r, b, state_name[st],
			       (unsigned long long)t);
		}
		for (k = 0; k < 3; k++) {
			if (!nb[k])
				continue;
			printf("bench_migrate: round %u %s state=%s pages=%u moves=%u blocks=%u ns=%llu pages_per_s=%.0f hook_called=%llu\n",
			       r, r ? "measured" : "warmup", state_name[k], npages, moves, nb[k],
			       (unsigned long long)ns[k],
			       (double)npages * moves * 1e9 / median(bt[k], nb[k]),
			       (unsigned long long)called[k]);
		}
		fflush(stdout);
	}
	if (reload && unload())
		return 1;
	for (i = 0; i < npages; i++) {
		if ((unsigned char)p[i * pg + pg - 1] != ((i & 0xff) | 1)) {
			fprintf(stderr, "bench_migrate: page %u lost its contents\n", i);
			return 1;
		}
	}
	printf("bench_migrate: done\n");
	return 0;
}
