// SPDX-License-Identifier: GPL-2.0
/*
 * reload_stress: unload and load migentry in a loop while other threads
 * migrate their pages back and forth between two NUMA nodes with
 * move_pages(2) and check every byte after every migration. On the hooked
 * kernel each load registers the typed restore as the migration restore hook
 * and each unload unregisters it, so migrations run through the hook, through
 * C, and across the switch. Also checks that an unload is refused (EBUSY or
 * EAGAIN, nothing else) while /dev/migentry is open.
 *
 * Must run as root in the guest with migentry loaded (make vm-run); leaves it
 * loaded. Usage: reload_stress [--cycles N] [--ko PATH] [--args "hook=1"]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mempolicy.h>

#define NPAGES 64
#define NTHREADS 2

static volatile int stop;

struct worker {
	pthread_t thread;
	unsigned int id;
	unsigned long migrations, checked, mismatches, failures;
};

static long move_pages(int count, void **pages, const int *nodes, int *status, int flags)
{
	return syscall(__NR_move_pages, 0, count, pages, nodes, status, flags);
}

static unsigned char pattern(unsigned int id, size_t off, unsigned int round)
{
	return (unsigned char)(id * 131 + off * 7 + round * 13);
}

static void *migrate(void *arg)
{
	struct worker *w = arg;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = NPAGES * pg, off;
	void *pages[NPAGES];
	int nodes[NPAGES], status[NPAGES];
	unsigned int round = 0, i;
	unsigned char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		w->failures++;
		return NULL;
	}
	for (i = 0; i < NPAGES; i++)
		pages[i] = p + i * pg;
	while (!stop) {
		for (off = 0; off < len; off++)
			p[off] = pattern(w->id, off, round);
		if (move_pages(NPAGES, pages, NULL, status, 0)) {
			w->failures++;
			break;
		}
		for (i = 0; i < NPAGES; i++)
			nodes[i] = status[i] == 0 ? 1 : 0;
		if (move_pages(NPAGES, pages, nodes, status, MPOL_MF_MOVE)) {
			w->failures++;
			break;
		}
		w->migrations += NPAGES;
		for (off = 0; off < len; off++) {
			if (p[off] != pattern(w->id, off, round))
				w->mismatches++;
		}
		w->checked += NPAGES;
		round++;
	}
	munmap(p, len);
	return NULL;
}

static int load(int fd, const char *args)
{
	return syscall(__NR_finit_module, fd, args, 0);
}

static int unload(void)
{
	return syscall(__NR_delete_module, "migentry", O_NONBLOCK);
}

int main(int argc, char **argv)
{
	const char *ko = "/migentry.ko", *args = "";
	struct worker w[NTHREADS] = {};
	unsigned long cycles = 20, c, migrations = 0, checked = 0, mismatches = 0, failures = 0;
	int ko_fd, dev, i, bad = 0;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--cycles"))
			cycles = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--ko"))
			ko = argv[i + 1];
		else if (!strcmp(argv[i], "--args"))
			args = argv[i + 1];
	}
	ko_fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (ko_fd < 0) {
		fprintf(stderr, "reload_stress: open %s: %s\n", ko, strerror(errno));
		return 1;
	}

	/* An open device keeps the module: the unload is refused, nothing breaks. */
	dev = open("/dev/migentry", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "reload_stress: /dev/migentry: %s (is migentry loaded?)\n",
			strerror(errno));
		return 1;
	}
	if (unload() == 0 || (errno != EBUSY && errno != EAGAIN)) {
		fprintf(stderr, "reload_stress: unload with the device open: %s, want EBUSY/EAGAIN\n",
			unload() ? strerror(errno) : "succeeded");
		bad = 1;
	}
	close(dev);

	for (i = 0; i < NTHREADS; i++) {
		w[i].id = i + 1;
		if (pthread_create(&w[i].thread, NULL, migrate, &w[i])) {
			fprintf(stderr, "reload_stress: pthread_create failed\n");
			stop = 1;
			return 1;
		}
	}
	for (c = 0; c < cycles && !bad; c++) {
		if (unload()) {
			fprintf(stderr, "reload_stress: cycle %lu: unload: %s\n", c, strerror(errno));
			bad = 1;
			break;
		}
		usleep(20000);
		if (load(ko_fd, args)) {
			fprintf(stderr, "reload_stress: cycle %lu: load: %s\n", c, strerror(errno));
			bad = 1;
			break;
		}
		usleep(20000);
	}
	stop = 1;
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(w[i].thread, NULL);
		migrations += w[i].migrations;
		checked += w[i].checked;
		mismatches += w[i].mismatches;
		failures += w[i].failures;
	}
	/* Leave migentry loaded, as the guest runner expects. */
	if (bad && access("/dev/migentry", F_OK) && load(ko_fd, args))
		fprintf(stderr, "reload_stress: final load: %s\n", strerror(errno));
	close(ko_fd);
	printf("reload_stress: %lu cycles, %lu page migrations, %lu pages checked, %lu bytes wrong, %lu failed calls\n",
	       c, migrations, checked, mismatches, failures);
	return bad || mismatches || failures || !migrations;
}
