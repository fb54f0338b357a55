// SPDX-License-Identifier: GPL-2.0
/*
 * seed_scenarios: the migration-entry restore scenarios of the Nov 2022
 * discussion, on a live kernel. Each row takes one page of this process,
 * asks /dev/migentry what each policy would restore (EVALUATE), then runs the
 * typed round trip (ROUNDTRIP) and observes whether the next write faults.
 *
 * A kernel without MIGENTRY_FEAT_TLB_FLUSH (stock) refuses, with EOPNOTSUPP
 * and changing nothing, a round trip that would take rights away from the
 * page. Such rows still show EVALUATE's typed result, but their last column
 * says the behaviour was not measured.
 *
 * Usage: seed_scenarios [--raw] [--markdown]
 *   --raw       add the raw PTE values (needs CAP_SYS_ADMIN)
 *   --markdown  also print the table as markdown between "<<<markdown" and
 *               ">>>markdown" lines
 * Static; uses only include/uapi/migentry.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include <uapi/migentry.h>

enum observe { BY_FAULTS, BY_UFFD_WRITE, BY_UFFD_READ };

struct row {
	const char *name;
	char *page;		/* the page under test */
	__u64 flags;		/* MIGENTRY_RT_* injected during the round trip */
	enum observe how;
	int uffd;
	struct migentry_record ev, rt;
	__u64 vma_flags;
	const char *next_write;
};

static size_t pg;
static int dev;
static bool tlb_flush;		/* MIGENTRY_FEAT_TLB_FLUSH */
static bool raw;
static pid_t child = -1;
static int child_pipe = -1;

static char *map(bool shared_memfd, size_t len)
{
	int fd = -1;
	char *p;

	if (shared_memfd) {
		fd = memfd_create("seed", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, len))
			return MAP_FAILED;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 shared_memfd ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS, fd, 0);
	if (p != MAP_FAILED)
		madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static int clear_refs(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	int ret = fd >= 0 && write(fd, "4", 1) == 1 ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return ret;
}

static int uffd_setup(char *p, __u64 mode, __u64 features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	struct uffdio_register reg = { .range = { (uintptr_t)p, pg }, .mode = mode };
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg))
		return -1;
	if (mode == UFFDIO_REGISTER_MODE_WP) {
		struct uffdio_writeprotect wp = { { (uintptr_t)p, pg }, UFFDIO_WRITEPROTECT_MODE_WP };

		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
			return -1;
	} else {
		struct uffdio_rwprotect rw = { { (uintptr_t)p, pg }, UFFDIO_RWPROTECT_MODE_RWP };

		if (ioctl(uffd, UFFDIO_RWPROTECT, &rw))
			return -1;
	}
	return uffd;
}

static int range(unsigned long cmd, struct row *r, struct migentry_record *rec)
{
	struct migentry_range a = {
		.size = sizeof(a), .addr = (uintptr_t)r->page, .len = pg, .flags = r->flags,
		.records = (uintptr_t)rec, .nr_records = 1,
	};

	if (ioctl(dev, cmd, &a))
		return -1;
	r->vma_flags = a.vma_flags;
	return 0;
}

struct access {
	volatile char *p;
	bool write;
};

static void *access_thread(void *arg)
{
	struct access *a = arg;
	char c;

	if (a->write)
		*a->p = *a->p;
	else
		c = *a->p, (void)c;
	return NULL;
}

/*
 * Whether the typed round trip EVALUATE predicted takes rights away from the
 * page (see MIGENTRY_IOC_ROUNDTRIP): a writable PTE comes back read-only,
 * or an accessible one PROT_NONE.
 */
static bool takes_rights(const struct migentry_record *ev)
{
	const struct migentry_pte_state *b = &ev->before, *a = &ev->after[MIGENTRY_POLICY_TYPED];
	bool accessible = (b->flags & MIGENTRY_PTE_PRESENT) && !(b->flags & MIGENTRY_PTE_PROTNONE);

	if (ev->status != MIGENTRY_REC_DONE)
		return false;
	return ((b->flags & MIGENTRY_PTE_WRITE) && !(a->flags & MIGENTRY_PTE_WRITE)) ||
	       (accessible && (a->flags & MIGENTRY_PTE_PROTNONE));
}

static const char *observe(struct row *r)
{
	struct rusage ru0, ru1;

	if (r->how == BY_FAULTS) {
		getrusage(RUSAGE_THREAD, &ru0);
		*(volatile char *)r->page = *(volatile char *)r->page;
		getrusage(RUSAGE_THREAD, &ru1);
		return ru1.ru_minflt > ru0.ru_minflt ? "yes" : "no";
	} else {
		struct access a = { r->page, r->how == BY_UFFD_WRITE };
		struct pollfd pfd = { .fd = r->uffd, .events = POLLIN };
		struct uffd_msg msg;
		int msgs = 0;
		pthread_t t;

		if (pthread_create(&t, NULL, access_thread, &a))
			return "error";
		while (poll(&pfd, 1, 300) == 1 && read(r->uffd, &msg, sizeof(msg)) == sizeof(msg)) {
			msgs++;
			if (r->how == BY_UFFD_WRITE) {
				struct uffdio_writeprotect wp = { { (uintptr_t)r->page, pg }, 0 };

				ioctl(r->uffd, UFFDIO_WRITEPROTECT, &wp);
			} else {
				struct uffdio_rwprotect rw = { { (uintptr_t)r->page, pg }, 0 };

				ioctl(r->uffd, UFFDIO_RWPROTECT, &rw);
			}
		}
		pthread_join(t, NULL);
		if (!msgs)
			return "no";
		return r->how == BY_UFFD_WRITE ? "yes (uffd)" : "yes (uffd, even a read)";
	}
}

/* "WDASU" letters: W or r (write), D dirty, A young, S soft-dirty, U uffd; N = PROT_NONE. */
static void cell(char *buf, size_t n, const struct migentry_pte_state *s, bool entry)
{
	static const char *kind[] = {
		[MIGENTRY_LEAF_MIGRATION_READ] = "Read",
		[MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE] = "ReadEx",
		[MIGENTRY_LEAF_MIGRATION_WRITE] = "Write",
	};
	char bits[8];

	snprintf(bits, sizeof(bits), "%c%c%c%c%c%s",
		 entry ? ' ' : (s->flags & MIGENTRY_PTE_WRITE ? 'W' : 'r'),
		 s->flags & MIGENTRY_PTE_DIRTY ? 'D' : '-',
		 s->flags & MIGENTRY_PTE_YOUNG ? 'A' : '-',
		 s->flags & MIGENTRY_PTE_SOFT_DIRTY ? 'S' : '-',
		 s->flags & MIGENTRY_PTE_UFFD ? 'U' : '-',
		 s->flags & MIGENTRY_PTE_PROTNONE ? "N" : "");
	if (entry)
		snprintf(buf, n, "%s %s", s->kind < 6 && kind[s->kind] ? kind[s->kind] : "?", bits + 1);
	else
		snprintf(buf, n, "%s", bits);
	if (raw)
		snprintf(buf + strlen(buf), n - strlen(buf), " %#llx", (unsigned long long)s->raw);
}

/*
 * The marks say what a writable result costs, by who relies on the next write
 * to the page faulting. '!' and '#' break a protection someone relies on; '~'
 * hands back write access that nothing tracks.
 *  '!' data: the entry carried uffd-wp (the 2022 bug: the write goes through
 *      unseen by the uffd-wp monitor), or the VMA itself needs the fault (no
 *      VM_WRITE, a private COW page, or write-notify, which a filesystem may
 *      need);
 *  '#' tracking: the page comes back writable and clean in a VMA that tracks
 *      soft-dirty, so the next write is never recorded (a CRIU-style pre-dump
 *      misses the page; no data is lost);
 *  '~' nothing: a page that was read-only comes back writable in a shared
 *      writable VMA without write-notify (VM_SOFTDIRTY set, no uffd-wp), where
 *      a write fault would only make it writable again.
 */
static const char *mark(const struct row *r, const struct migentry_pte_state *s)
{
	__u64 v = r->vma_flags;
	bool was_writable = r->ev.entry.kind == MIGENTRY_LEAF_MIGRATION_WRITE;

	if (!(s->flags & MIGENTRY_PTE_WRITE))
		return " ";
	if (r->ev.entry.flags & MIGENTRY_PTE_UFFD)
		return "!";
	if (!(v & MIGENTRY_VMA_WRITE) || (!was_writable && !(v & MIGENTRY_VMA_SHARED)))
		return "!";
	if ((v & MIGENTRY_VMA_SD_TRACKING) && !(s->flags & MIGENTRY_PTE_SOFT_DIRTY))
		return "#";
	if (was_writable)
		return " ";
	return v & MIGENTRY_VMA_WRITE_NOTIFY ? "!" : "~";
}

/* Each scenario prepares its page right before it is measured: clear_refs and fork act on the
 * whole process, so no scenario may be set up before the previous one is measured. */
static int simple(struct row *r, bool shm)
{
	r->page = map(shm, pg);
	if (r->page == MAP_FAILED)
		return -1;
	r->page[0] = 1;
	return 0;
}

static int private_anon(struct row *r)
{
	return simple(r, false);
}

static int shmem(struct row *r)
{
	return simple(r, true);
}

static int uffd_wp(struct row *r, bool shm)
{
	__u64 features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | (shm ? UFFD_FEATURE_WP_HUGETLBFS_SHMEM : 0);

	if (simple(r, shm))
		return -1;
	r->uffd = uffd_setup(r->page, UFFDIO_REGISTER_MODE_WP, features);
	r->how = BY_UFFD_WRITE;
	return r->uffd < 0 ? -1 : 0;
}

static int uffd_wp_anon(struct row *r)
{
	return uffd_wp(r, false);
}

static int uffd_wp_shmem(struct row *r)
{
	return uffd_wp(r, true);
}

/* David's case: clear_refs write-protects, then a merge brings VM_SOFTDIRTY back. */
static int david(struct row *r)
{
	int fd = memfd_create("david", MFD_CLOEXEC);
	char *base = mmap(NULL, 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (fd < 0 || ftruncate(fd, 2 * pg) || base == MAP_FAILED)
		return -1;
	r->page = mmap(base, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (r->page == MAP_FAILED)
		return -1;
	r->page[0] = 1;
	if (clear_refs())
		return -1;
	return mmap(base + pg, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, pg) ==
	       MAP_FAILED ? -1 : 0;
}

/* Written after clear_refs, then clear_refs again while it is a Write entry. */
static int clear_refs_race(struct row *r)
{
	if (simple(r, false) || clear_refs())
		return -1;
	r->page[0] = 2;
	r->flags = MIGENTRY_RT_CLEAR_SOFT_DIRTY;
	return 0;
}

static int mprotect_race(struct row *r)
{
	r->flags = MIGENTRY_RT_WRPROTECT;
	return simple(r, false);
}

static int fork_cow(struct row *r)
{
	int pipefd[2];
	pid_t pid;

	if (simple(r, false) || pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;

		/* Keep the page shared until the parent is done; hold no device reference. */
		close(dev);
		close(pipefd[1]);
		_exit(read(pipefd[0], &c, 1) < 0);
	}
	close(pipefd[0]);
	child = pid;
	child_pipe = pipefd[1];
	return 0;
}

/* A shmem page that was only ever read: present, clean, young. */
static int read_only_use(struct row *r)
{
	r->page = map(true, pg);
	if (r->page == MAP_FAILED)
		return -1;
	(void)*(volatile char *)r->page;
	return 0;
}

static int rwp(struct row *r)
{
	if (simple(r, false))
		return -1;
	r->uffd = uffd_setup(r->page, UFFDIO_REGISTER_MODE_RWP, UFFD_FEATURE_RWP);
	r->how = BY_UFFD_READ;
	return r->uffd < 0 ? -1 : 0;
}

static const struct {
	const char *name;
	int (*setup)(struct row *r);
} scenarios[] = {
	{ "private anon", private_anon },
	{ "shmem (memfd)", shmem },
	{ "uffd-wp anon", uffd_wp_anon },
	{ "uffd-wp shmem (2022 bug)", uffd_wp_shmem },
	{ "David's VMA-merge case", david },
	{ "clear_refs during migration", clear_refs_race },
	{ "mprotect during migration", mprotect_race },
	{ "fork COW (parent)", fork_cow },
	{ "dirty/young (shmem, read)", read_only_use },
	{ "uffd RWP anon", rwp },
};

#define NSCEN ((int)(sizeof(scenarios) / sizeof(scenarios[0])))

int main(int argc, char **argv)
{
	static const char *cols[] = { "scenario", "PTE before", "migration entry", "pre-6.2 C",
				      "Peter Xu v3", "upstream 7.3", "migentry typed", "next write faults?" };
	static const int pol[] = { MIGENTRY_POLICY_PRE_6_2, MIGENTRY_POLICY_PETERX_V3,
				   MIGENTRY_POLICY_UPSTREAM, MIGENTRY_POLICY_TYPED };
	bool markdown = false;
	struct row rows[NSCEN] = {};
	char c[8][64];
	int i, j, n, nrefused = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--raw"))
			raw = true;
		else if (!strcmp(argv[i], "--markdown"))
			markdown = true;
		else {
			fprintf(stderr, "usage: %s [--raw] [--markdown]\n", argv[0]);
			return 2;
		}
	}
	pg = sysconf(_SC_PAGESIZE);
	dev = open("/dev/migentry", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		perror("open /dev/migentry");
		return 1;
	}
	{
		struct migentry_info info = { .size = sizeof(info) };

		if (ioctl(dev, MIGENTRY_IOC_INFO, &info)) {
			perror("MIGENTRY_IOC_INFO");
			return 1;
		}
		tlb_flush = info.features & MIGENTRY_FEAT_TLB_FLUSH;
	}
	n = NSCEN;
	for (i = 0; i < n; i++) {
		struct row *r = &rows[i];

		r->name = scenarios[i].name;
		r->uffd = -1;
		if (scenarios[i].setup(r)) {
			fprintf(stderr, "%s: setup: %s\n", r->name, strerror(errno));
			return 1;
		}
		if (range(MIGENTRY_IOC_EVALUATE, r, &r->ev)) {
			fprintf(stderr, "%s: EVALUATE: %s\n", r->name, strerror(errno));
			return 1;
		}
		if (range(MIGENTRY_IOC_ROUNDTRIP, r, &r->rt)) {
			/* Refused, as documented, only without the flush and only if rights go. */
			if (errno != EOPNOTSUPP || tlb_flush || !takes_rights(&r->ev)) {
				fprintf(stderr, "%s: ROUNDTRIP: %s\n", r->name, strerror(errno));
				return 1;
			}
			nrefused++;
			r->next_write = "not measured (refused)";
			continue;
		}
		r->next_write = observe(r);
	}

	for (int pass = 0; pass < 1 + markdown; pass++) {
		bool md = pass == 1;

		if (md)
			printf("<<<markdown\n| %s |", cols[0]);
		else
			printf("%-28s", cols[0]);
		for (j = 1; j < 8; j++)
			if (md)
				printf(" %s |", cols[j]);
			else
				printf(" %-*s", raw ? 26 : 16, cols[j]);
		printf("\n");
		if (md) {
			for (j = 0; j < 8; j++)
				printf("|---");
			printf("|\n");
		}
		for (i = 0; i < n; i++) {
			struct row *r = &rows[i];

			cell(c[1], sizeof(c[1]), &r->ev.before, false);
			cell(c[2], sizeof(c[2]), &r->ev.entry, true);
			for (j = 0; j < 4; j++) {
				char b[48];

				cell(b, sizeof(b), &r->ev.after[pol[j]], false);
				snprintf(c[3 + j], sizeof(c[3 + j]), "%s%s", b, mark(r, &r->ev.after[pol[j]]));
			}
			printf(md ? "| %s |" : "%-28s", r->name);
			for (j = 1; j < 7; j++)
				if (md)
					printf(" `%s` |", c[j]);
				else
					printf(" %-*s", raw ? 26 : 16, c[j]);
			printf(md ? " %s |\n" : " %s\n", r->next_write);
		}
		if (md)
			printf(">>>markdown\n");
	}
	if (child > 0) {
		close(child_pipe);
		waitpid(child, NULL, 0);
	}
	printf("\nLegend: W writable / r read-only, D dirty, A young, S soft-dirty, U uffd-wp, N PROT_NONE.\n"
	       "Entry: the migration entry's kind (Write, ReadEx = read-only anon-exclusive, Read)\n"
	       "and the bits it carries. A mark says what a writable result costs:\n"
	       "'!' data: a write that had to fault goes through unseen. The entry was uffd-wp\n"
	       "    (the 2022 bug: the snapshot misses the write), or the VMA needs the fault\n"
	       "    (no VM_WRITE, COW, write-notify).\n"
	       "'#' tracking: the page is writable and clean in a VMA that tracks soft-dirty, so\n"
	       "    the next write is never recorded and a CRIU-style pre-dump misses the page.\n"
	       "'~' nothing: write goes back to a page that was read-only, but nothing tracks its\n"
	       "    writes: VM_SOFTDIRTY is set (every page reads soft-dirty anyway), no uffd-wp,\n"
	       "    so no write-notify. Read-only there only costs one more write fault.\n"
	       "'!' and '#' both break a protection someone relies on; they differ in what is lost.\n"
	       "'next write faults?' is observed after migentry's typed round trip.\n");
	if (nrefused)
		printf("'not measured (refused)' (%d of %d rows): this kernel lacks\n"
		       "    MIGENTRY_FEAT_TLB_FLUSH (a stock kernel), so ROUNDTRIP refuses with EOPNOTSUPP,\n"
		       "    changing nothing, a round trip that takes rights away from the page (a\n"
		       "    writable PTE would come back read-only, or an accessible one PROT_NONE).\n"
		       "    Those rows' 'migentry typed' column is EVALUATE's prediction; what the next\n"
		       "    write does after the round trip can only be observed on the hooked kernel.\n",
		       nrefused, n);
	return 0;
}
