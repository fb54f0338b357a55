// SPDX-License-Identifier: GPL-2.0
/*
 * bench_roundtrip: per-page cost of MIGENTRY_IOC_ROUNDTRIP against the
 * kernel's own PTE rewriting, an mprotect(PROT_READ) +
 * mprotect(PROT_READ|PROT_WRITE) pair over the same range, with EVALUATE and
 * READ_PTE beside them (issue 14, question 3).
 *
 * For each range size (pages) there is one populated, writable private-anon
 * VMA of exactly that size, fenced by PROT_NONE pages so that it merges with
 * nothing and neither operation splits or merges VMAs. ROUNDTRIP runs with
 * flags 0: a Write entry restored writable, a round trip that keeps write.
 * The record array holds MIGENTRY_MAX_PAGES records.
 *
 * One measurement is about --min-pages pages' worth of calls of one
 * operation on one range, timed with CLOCK_MONOTONIC in batches of about
 * BATCH_PAGES pages (one call from 256 pages up, 256 calls of one page), at
 * least MIN_BATCHES batches. The four operations' batches are interleaved,
 * in an order rotated from batch to batch, so that a change of the host's
 * speed weighs on all four alike, and a measurement's cost is its median
 * batch's, which a few batches the host stalled do not move. After every
 * batch, untimed, READ_PTE checks that the range is still present and
 * writable. Each round measures every size; round 0 is a warm-up and is
 * reported as such.
 *
 * Each round also times two per-call baselines, about --min-pages / 4 calls
 * each in alternating batches of BATCH_PAGES calls: getppid() (a bare system
 * call) and MIGENTRY_IOC_INFO (the device's ioctl path, no mm work), reported
 * with size=0.
 *
 * Output, one line per measurement (ns: all batches; ns_per_page and
 * ns_per_call: the median batch's):
 *   bench_roundtrip: round N warmup|measured size=S op=roundtrip|mprotect|evaluate|read_pte
 *     iters=I batches=B ns=T ns_per_page=X ns_per_call=Y
 *   bench_roundtrip: round N warmup|measured size=0 op=getppid|info iters=I batches=B ns=T
 *     ns_per_call=Y
 * A benchmark, not a test: it judges no timing. It exits non-zero only if an
 * operation failed or did not do what is measured (a page not round-tripped,
 * or not writable afterwards).
 *
 * Must run as root with migentry loaded. Meant for the hooked kernel
 * (MIGENTRY_FEAT_TLB_FLUSH), where ROUNDTRIP walks once inside an
 * invalidation that flushes the range's TLB. On stock it runs too, since
 * these round trips take no rights away, but ROUNDTRIP there walks twice
 * (a check pass first) and flushes nothing.
 *
 * The program runs on CPU --cpu only (0; -1: anywhere), so that the guest's
 * scheduler does not move it between vCPUs and TLB flushes stay local.
 *
 * Usage: bench_roundtrip [--rounds R] [--sizes 1,16,256,4096,65536] [--min-pages N]
 *                        [--cpu N]
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

#include <uapi/migentry.h>

#include "bench_lib.h"

#define MAX_SIZES 16
/* Calls are timed in batches of this many pages (at least one call). */
#define BATCH_PAGES 256UL
/* Batches per operation and measurement, at least. */
#define MIN_BATCHES 4UL

enum op { OP_ROUNDTRIP, OP_MPROTECT, OP_EVALUATE, OP_READ_PTE, NR_OPS };
static const char *const op_name[NR_OPS] = { "roundtrip", "mprotect", "evaluate", "read_pte" };

static int dev;
static struct migentry_record *records;
static size_t pg;

static int range_ioctl(unsigned long cmd, char *addr, unsigned long npages)
{
	struct migentry_range r = {
		.size = sizeof(r),
		.addr = (uintptr_t)addr,
		.len = npages * pg,
		.flags = 0,
		.records = (uintptr_t)records,
		.nr_records = MIGENTRY_MAX_PAGES,
	};

	if (ioctl(dev, cmd, &r))
		return -1;
	if (r.nr_done != npages) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* One call of `op` on [addr, addr + npages pages). */
static int run_op(enum op op, char *addr, unsigned long npages)
{
	switch (op) {
	case OP_ROUNDTRIP:
		return range_ioctl(MIGENTRY_IOC_ROUNDTRIP, addr, npages);
	case OP_EVALUATE:
		return range_ioctl(MIGENTRY_IOC_EVALUATE, addr, npages);
	case OP_READ_PTE:
		return range_ioctl(MIGENTRY_IOC_READ_PTE, addr, npages);
	case OP_MPROTECT:
		if (mprotect(addr, npages * pg, PROT_READ))
			return -1;
		return mprotect(addr, npages * pg, PROT_READ | PROT_WRITE);
	default:
		errno = EINVAL;
		return -1;
	}
}

/*
 * Whether the range is as every measurement must find and leave it: every
 * page present and writable (READ_PTE's view). After a ROUNDTRIP, also that
 * every page was round-tripped and restored writable.
 */
static int check(enum op op, char *addr, unsigned long npages)
{
	unsigned long i, bad = 0;

	if (op == OP_ROUNDTRIP) {
		for (i = 0; i < npages; i++)
			bad += records[i].status != MIGENTRY_REC_DONE ||
			       !(records[i].after[MIGENTRY_POLICY_TYPED].flags & MIGENTRY_PTE_WRITE);
		if (bad) {
			fprintf(stderr, "bench_roundtrip: %lu of %lu pages not round-tripped writable\n",
				bad, npages);
			return -1;
		}
	}
	if (range_ioctl(MIGENTRY_IOC_READ_PTE, addr, npages)) {
		fprintf(stderr, "bench_roundtrip: READ_PTE: %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < npages; i++)
		bad += records[i].before.kind != MIGENTRY_LEAF_PRESENT ||
		       !(records[i].before.flags & MIGENTRY_PTE_WRITE);
	if (bad) {
		fprintf(stderr, "bench_roundtrip: after %s: %lu of %lu pages not present and writable\n",
			op_name[op], bad, npages);
		return -1;
	}
	return 0;
}

/* `iters` calls of a baseline: getppid() or MIGENTRY_IOC_INFO; ns, or 0 on failure. */
static uint64_t baseline(int info, unsigned long iters)
{
	struct migentry_info in;
	unsigned long it;
	uint64_t t0, t1;

	t0 = now_ns();
	for (it = 0; it < iters; it++) {
		if (info) {
			in.size = sizeof(in);
			if (ioctl(dev, MIGENTRY_IOC_INFO, &in))
				return 0;
		} else {
			syscall(__NR_getppid);
		}
	}
	t1 = now_ns();
	return t1 > t0 ? t1 - t0 : 1;
}

/*
 * Prints one measurement: `nb` batches of `calls` calls on `size` pages
 * (0: a baseline), their times in t[] (sorted here). The per-call and
 * per-page costs are the median batch's.
 */
static void report(unsigned int r, unsigned long size, const char *op, uint64_t *t,
		   unsigned long nb, unsigned long calls)
{
	uint64_t sum = 0;
	double med;
	unsigned long i;

	for (i = 0; i < nb; i++)
		sum += t[i];
	qsort(t, nb, sizeof(*t), cmp_u64);
	med = nb % 2 ? (double)t[nb / 2] : ((double)t[nb / 2 - 1] + (double)t[nb / 2]) / 2;
	printf("bench_roundtrip: round %u %s size=%lu op=%s iters=%lu batches=%lu ns=%llu",
	       r, r ? "measured" : "warmup", size, op, nb * calls, nb, (unsigned long long)sum);
	if (size)
		printf(" ns_per_page=%.1f", med / ((double)calls * (double)size));
	printf(" ns_per_call=%.0f\n", med / (double)calls);
}

/* A populated writable private-anon VMA of `npages`, between two PROT_NONE pages. */
static char *make_range(unsigned long npages)
{
	char *p = mmap(NULL, (npages + 2) * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long i;

	if (p == MAP_FAILED)
		return NULL;
	p += pg;
	if (mprotect(p, npages * pg, PROT_READ | PROT_WRITE))
		return NULL;
	madvise(p, npages * pg, MADV_NOHUGEPAGE); /* fails without THP: fine */
	for (i = 0; i < npages; i++)
		memset(p + i * pg, (int)(i & 0x7f) | 1, pg);
	return p;
}

int main(int argc, char **argv)
{
	unsigned long sizes[MAX_SIZES] = { 1, 16, 256, 4096, 65536 }, min_pages = 65536;
	unsigned int nsizes = 5, rounds = 5, r, s, k, i;
	int cpu = 0;
	struct migentry_info info = { .size = sizeof(info) };
	char *ranges[MAX_SIZES];
	uint64_t *bt[NR_OPS];
	unsigned long max_batches;

	pg = (size_t)sysconf(_SC_PAGESIZE);
	for (i = 1; i + 1 < (unsigned int)argc; i += 2) {
		if (!strcmp(argv[i], "--rounds")) {
			rounds = strtoul(argv[i + 1], NULL, 0);
		} else if (!strcmp(argv[i], "--cpu")) {
			cpu = atoi(argv[i + 1]);
		} else if (!strcmp(argv[i], "--min-pages")) {
			min_pages = strtoul(argv[i + 1], NULL, 0);
		} else if (!strcmp(argv[i], "--sizes")) {
			char *tok, *save = NULL;

			nsizes = 0;
			for (tok = strtok_r(argv[i + 1], ",", &save); tok && nsizes < MAX_SIZES;
			     tok = strtok_r(NULL, ",", &save))
				sizes[nsizes++] = strtoul(tok, NULL, 0);
		} else {
			break;
		}
	}
	if (i != (unsigned int)argc || !nsizes) {
		fprintf(stderr, "usage: bench_roundtrip [--rounds R] [--sizes 1,16,...] [--min-pages N] [--cpu N]\n");
		return 2;
	}
	if (pin("bench_roundtrip", cpu))
		return 1;
	for (s = 0; s < nsizes; s++) {
		if (!sizes[s] || sizes[s] > MIGENTRY_MAX_PAGES) {
			fprintf(stderr, "bench_roundtrip: size %lu: want 1..%u pages\n", sizes[s],
				MIGENTRY_MAX_PAGES);
			return 2;
		}
	}

	dev = open("/dev/migentry", O_RDWR | O_CLOEXEC);
	if (dev < 0 || ioctl(dev, MIGENTRY_IOC_INFO, &info)) {
		fprintf(stderr, "bench_roundtrip: /dev/migentry: %s (is migentry loaded?)\n",
			strerror(errno));
		return 1;
	}
	/* Room for the batch times of the longest measurement (the baselines' included). */
	max_batches = min_pages / 4 / BATCH_PAGES;
	for (s = 0; s < nsizes; s++) {
		unsigned long batch = sizes[s] < BATCH_PAGES ? BATCH_PAGES / sizes[s] : 1;
		unsigned long nb = (min_pages / sizes[s] + batch - 1) / batch;

		if (nb > max_batches)
			max_batches = nb;
	}
	if (max_batches < MIN_BATCHES)
		max_batches = MIN_BATCHES;
	records = calloc(MIGENTRY_MAX_PAGES, sizeof(*records));
	for (k = 0; k < NR_OPS; k++)
		bt[k] = calloc(max_batches, sizeof(*bt[k]));
	if (!records || !bt[0] || !bt[1] || !bt[2] || !bt[3]) {
		fprintf(stderr, "bench_roundtrip: out of memory for the records\n");
		return 1;
	}
	for (s = 0; s < nsizes; s++) {
		ranges[s] = make_range(sizes[s]);
		if (!ranges[s]) {
			fprintf(stderr, "bench_roundtrip: range of %lu pages: %s\n", sizes[s],
				strerror(errno));
			return 1;
		}
	}
	printf("bench_roundtrip: rounds=%u min_pages=%lu cpu=%d tlb_flush=%s record_bytes=%zu (round 0 is a warm-up)\n",
	       rounds, min_pages, cpu, info.features & MIGENTRY_FEAT_TLB_FLUSH ? "yes" : "no",
	       sizeof(*records));
	fflush(stdout);

	for (r = 0; r <= rounds; r++) {
		unsigned long bbatches = min_pages / 4 / BATCH_PAGES;

		/* The baselines, in alternating batches of BATCH_PAGES calls. */
		if (bbatches < MIN_BATCHES)
			bbatches = MIN_BATCHES;
		for (i = 0; i < 2 * bbatches; i++) {
			int info = (i + r) % 2;
			uint64_t t = baseline(info, BATCH_PAGES);

			if (!t) {
				fprintf(stderr, "bench_roundtrip: MIGENTRY_IOC_INFO: %s\n",
					strerror(errno));
				return 1;
			}
			bt[info][i / 2] = t;
		}
		for (k = 0; k < 2; k++)
			report(r, 0, k ? "info" : "getppid", bt[k], bbatches, BATCH_PAGES);

		for (s = 0; s < nsizes; s++) {
			unsigned long n = sizes[s], batch = n < BATCH_PAGES ? BATCH_PAGES / n : 1;
			unsigned long batches, bi, it;

			/* About min_pages pages in all, at least MIN_BATCHES batches. */
			batches = (min_pages / n + batch - 1) / batch;
			if (batches < MIN_BATCHES)
				batches = MIN_BATCHES;
			for (bi = 0; bi < batches; bi++) {
				for (k = 0; k < NR_OPS; k++) {
					enum op op = (enum op)((k + bi + r + s) % NR_OPS);
					uint64_t t0, t1;

					t0 = now_ns();
					for (it = 0; it < batch; it++) {
						if (run_op(op, ranges[s], n)) {
							fprintf(stderr, "bench_roundtrip: %s of %lu pages: %s\n",
								op_name[op], n, strerror(errno));
							return 1;
						}
					}
					t1 = now_ns();
					bt[op][bi] = t1 - t0;
					if (check(op, ranges[s], n))
						return 1;
				}
			}
			for (k = 0; k < NR_OPS; k++)
				report(r, n, op_name[k], bt[k], batches, batch);
			fflush(stdout);
		}
	}
	close(dev);
	printf("bench_roundtrip: done\n");
	return 0;
}
