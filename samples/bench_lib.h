/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmark programs share: a monotonic clock in nanoseconds, a
 * comparison for sorting samples, and pinning the caller to one CPU.
 */
#ifndef MIGENTRY_BENCH_LIB_H
#define MIGENTRY_BENCH_LIB_H

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* qsort() order of uint64_t samples. */
static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Runs the caller on `cpu` only (none if cpu < 0); 0, or -1 with a message naming prog. */
static inline int pin(const char *prog, int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "%s: CPU %d: %s\n", prog, cpu, strerror(errno));
		return -1;
	}
	return 0;
}

#endif /* MIGENTRY_BENCH_LIB_H */
