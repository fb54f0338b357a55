// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_stress: a bounded, seeded concurrency stress of ROUNDTRIP over one
 * region (NPAGES pages) while the process does everything else it can do to
 * that region at the same time.
 *
 * Four variants: private anon and memfd-shared memory, each also registered
 * for uffd write-protect. The region lies between two PROT_NONE guard pages.
 * Threads, all running at once until the deadline (or their iteration bound):
 *
 * - RT_THREADS round-trippers: ROUNDTRIP over the whole region or a random
 *   sub-range, with a random combination of the injection flags
 *   (MIGENTRY_RT_CLEAR_SOFT_DIRTY, MIGENTRY_RT_WRPROTECT, and
 *   MIGENTRY_RT_UFFD_WP in the uffd-wp variants). They take no lock.
 * - WRITERS writers. Writer w owns the pages i with i % WRITERS == w. Under
 *   the page's lock it checks that the page holds exactly what it expects
 *   (the pattern of the page's current generation, or zeroes), then writes
 *   the pattern of the next generation.
 * - a layout thread, which takes the locks of 1..4 adjacent pages and then
 *   replaces them with a fresh mapping (mmap MAP_FIXED, or munmap and mmap
 *   MAP_FIXED_NOREPLACE), mprotects them read-only and back, drops them
 *   with MADV_DONTNEED or (shmem) punches them out with MADV_REMOVE. It
 *   updates the owner's expectation while it holds the locks: a private page
 *   that was dropped or replaced is zero; a shmem page keeps its content
 *   through DONTNEED and a remap, and is zero after MADV_REMOVE.
 * - an mm thread, taking no page lock: MADV_PAGEOUT of a sub-range,
 *   clear_refs (echo 4 > /proc/self/clear_refs), and fork(): a child of a
 *   private variant writes its own marks into its copy-on-write copies and
 *   checks they read back (a child of a shmem variant only reads), then
 *   exits.
 * - a migrate thread, taking no page lock: move_pages(2) of random pages to
 *   node 0 and node 1 in turn (the guest has two nodes).
 * - in the uffd-wp variants, a handler thread that resolves every
 *   write-protect fault by un-protecting the page (UFFDIO_WRITEPROTECT 0).
 *   A remapped page is registered again before its owner gets it back.
 *
 * ROUNDTRIP, move_pages, clear_refs and PAGEOUT must never change a byte,
 * so they run unlocked; any content other than the expected one is a lost
 * byte and fails the test. ROUNDTRIP may only return 0 or, per docs/abi.md:
 *
 * - EFAULT or EINVAL while the layout thread is changing the VMAs under
 *   the range (no VMA at the start, or the range not inside one VMA, or
 *   RT_UFFD_WP on a remapped page not registered yet). The layout thread
 *   counts the starts and ends of its VMA changes (struct changes), so the
 *   checker knows whether one overlapped the call; otherwise they fail.
 * - EOPNOTSUPP on a kernel without MIGENTRY_FEAT_TLB_FLUSH (stock) when
 *   the round trip would take rights away from some page. The checker asks
 *   EVALUATE with the same flags whether some page would (a writable PTE
 *   coming back read-only). Expected with RT_WRPROTECT or RT_UFFD_WP on a
 *   writable page, with RT_CLEAR_SOFT_DIRTY where the VMA tracks soft-dirty,
 *   and even with flags 0 on a writable PTE without soft-dirty in a
 *   soft-dirty tracking VMA, which stock 7.3 leaves behind when clear_refs
 *   races with move_pages (docs/findings.md): the typed restore refuses it
 *   write. An EOPNOTSUPP that EVALUATE does not explain is accepted only if
 *   some thread changed PTEs of the region in the meantime (every change
 *   other than a write by the owner is counted the same way), or a page was
 *   under migration; else it fails. With MIGENTRY_FEAT_TLB_FLUSH,
 *   EOPNOTSUPP fails.
 *
 * ENOSPC (the record array always holds the region), EIO and anything else
 * fail. EIO fails without stopping the run, so that the summary still shows
 * whether a byte went wrong after it. The records of a successful round trip
 * are checked too: on stock no writable page may come back read-only, with
 * RT_WRPROTECT or RT_UFFD_WP no page comes back writable, with RT_UFFD_WP
 * every page carries the uffd bit, and no PTE is ever writable and uffd-wp
 * at once.
 *
 * Environment:
 *   MIGENTRY_STRESS_SECONDS  total run time over all variants (default 16,
 *                            split evenly; about 20 s wall time under TCG)
 *   MIGENTRY_STRESS_ITERS    bound on each thread's iterations (default 1000000)
 *   MIGENTRY_STRESS_SEED     the seed (default: from the clock; printed)
 *   MIGENTRY_STRESS_OPS      the operations besides ROUNDTRIP and the writers,
 *                            comma-separated (default all: remap, mprotect,
 *                            dontneed, remove, pageout, clear_refs,
 *                            move_pages, fork), to narrow a failure down
 *   MIGENTRY_STRESS_ALLOW_EIO=1  count EIO from ROUNDTRIP in the summary
 *                            instead of failing on it (diagnosis only: EIO
 *                            is a failure, see below)
 *
 * Each variant prints one summary line ("stress <variant>: ...") with the
 * operations done per kind, the pages verified and the bytes wrong (0).
 * More vCPUs give more real overlap; the test works with GUEST_SMP=2.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

#define NPAGES		64
#define WRITERS		2
#define RT_THREADS	2
#define MAX_CHILDREN	2	/* forked children alive at once */
#define CHILD_PAGES	8	/* pages a child writes (or reads) */
#define LAYOUT_MAX	4	/* pages one layout operation covers at most */
#define MOVE_MAX	16	/* pages one move_pages call moves at most */
#define NR_VARIANTS	4
#define DEFAULT_SECONDS	16	/* over all variants */
#define DEFAULT_ITERS	1000000
#define MAX_REPORTS	20	/* failure messages printed in full */

/* The operations run against the region besides ROUNDTRIP and the writers. */
enum op {
	OP_REMAP,	/* layout thread, under the page locks */
	OP_MPROTECT,
	OP_DONTNEED,
	OP_REMOVE,	/* shmem only */
	OP_PAGEOUT,	/* mm thread, unlocked */
	OP_CLEAR_REFS,
	OP_MOVE_PAGES,
	OP_FORK,
	NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"remap", "mprotect", "dontneed", "remove", "pageout", "clear_refs", "move_pages", "fork",
};

static struct {
	unsigned int variant_ms;
	unsigned long iters;
	uint64_t seed;
	unsigned int ops;	/* 1 << enum op: the ones enabled */
	bool allow_eio;		/* count EIO from ROUNDTRIP but do not fail on it */
} cfg;

/* What a page must hold, known to whoever holds its lock. */
struct page_state {
	pthread_mutex_t lock;
	unsigned int gen;	/* generation of the pattern it holds */
	bool zero;		/* it holds zeroes instead */
};

enum rt_eopnotsupp {
	EOP_RIGHTS,	/* RT_WRPROTECT/RT_UFFD_WP on a writable page */
	EOP_SD,		/* RT_CLEAR_SOFT_DIRTY in a soft-dirty tracking VMA */
	EOP_LEFTOVER,	/* flags 0: a writable PTE without soft-dirty (7.3's race) */
	EOP_RACED,	/* not explained, but PTEs changed meanwhile, or a migration ran */
	EOP_KINDS
};

struct counters {
	atomic_ulong rt_calls, rt_ok, rt_pages_done, rt_pages_left, rt_efault, rt_einval, rt_eio;
	atomic_ulong rt_eop[EOP_KINDS];
	atomic_ulong rt_ok_flags[8];
	atomic_ulong writes, verified, bytes_wrong;
	atomic_ulong remaps, mprotects, dontneeds, removes;
	atomic_ulong pageouts, clear_refs, moves, pages_moved, forks, children_ok;
	atomic_ulong uffd_faults;
};

/*
 * Changes of one kind made by one or more threads: gen counts their starts
 * and ends, active how many are under way.
 */
struct changes {
	atomic_uint gen;
	atomic_uint active;
};

struct changes_seen {
	unsigned int gen;
	unsigned int active;
};

struct stress {
	const char *name;
	char *guard;		/* PROT_NONE page, then the region, then another */
	char *p;		/* the region: NPAGES pages */
	size_t pg;
	int memfd;		/* the memfd of a shmem variant, else -1 */
	bool shared;
	bool uffd_variant;
	int uffd;
	int dev;
	bool tlb;		/* MIGENTRY_FEAT_TLB_FLUSH */
	int nodes;
	uint64_t seed;
	struct timespec deadline;
	atomic_int stop;
	atomic_int handler_stop;
	/* The layout thread changes VMAs of the region. */
	struct changes layout_seq;
	/* A thread changes PTEs of the region other than by writing. */
	struct changes pte_seq;
	struct page_state pages[NPAGES];
	pthread_mutex_t log_lock;
	atomic_ulong failures;
	struct counters c;
};

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(uint64_t *state)
{
	*state = mix64(*state);
	return *state;
}

static unsigned int rnd_below(uint64_t *state, unsigned int n)
{
	return (unsigned int)(rnd(state) % n);
}

/* A random enabled operation of [first, last] (mask: those that apply), or -1. */
static int pick_op(uint64_t *state, int first, int last, unsigned int mask)
{
	int op, n = 0, k;

	mask &= cfg.ops;
	for (op = first; op <= last; op++)
		n += !!(mask & (1U << op));
	if (!n)
		return -1;
	k = (int)rnd_below(state, (unsigned int)n);
	for (op = first; op <= last; op++)
		if ((mask & (1U << op)) && k-- == 0)
			break;
	return op;
}

/* Word k of page i at generation gen; word 0 names the page and generation. */
static uint64_t pattern(const struct stress *s, unsigned int i, unsigned int gen, size_t k)
{
	if (k == 0)
		return ((uint64_t)i << 32) | gen;
	return mix64(s->seed ^ ((uint64_t)i << 52) ^ ((uint64_t)gen << 20) ^ k);
}

static char *page_addr(const struct stress *s, unsigned int i)
{
	return s->p + (size_t)i * s->pg;
}

static bool stopped(struct stress *s)
{
	struct timespec now;

	if (atomic_load(&s->stop))
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > s->deadline.tv_sec ||
	    (now.tv_sec == s->deadline.tv_sec && now.tv_nsec >= s->deadline.tv_nsec)) {
		atomic_store(&s->stop, 1);
		return true;
	}
	return false;
}

static void sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void vreport(struct stress *s, const char *fmt, va_list ap)
{
	unsigned long n = atomic_fetch_add(&s->failures, 1) + 1;

	if (n > MAX_REPORTS)
		return;
	pthread_mutex_lock(&s->log_lock);
	fprintf(stderr, "# FAIL stress %s (MIGENTRY_STRESS_SEED=%#llx): ", s->name,
		(unsigned long long)cfg.seed);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&s->log_lock);
}

/* Records a failure (the first MAX_REPORTS in full) and stops every thread. */
static void __attribute__((format(printf, 2, 3))) fail(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(s, fmt, ap);
	va_end(ap);
	atomic_store(&s->stop, 1);
}

/*
 * Records a failure and lets the run go on: for an EIO from ROUNDTRIP, which
 * restores the page all the same, so that the run still shows whether any
 * byte goes wrong after it.
 */
static void __attribute__((format(printf, 2, 3))) fail_go_on(struct stress *s,
							     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(s, fmt, ap);
	va_end(ap);
}

static void seq_begin(struct changes *c)
{
	atomic_fetch_add(&c->active, 1);
	atomic_fetch_add(&c->gen, 1);
}

static void seq_end(struct changes *c)
{
	atomic_fetch_add(&c->gen, 1);
	atomic_fetch_sub(&c->active, 1);
}

static struct changes_seen seq_read(struct changes *c)
{
	struct changes_seen v;

	v.gen = atomic_load(&c->gen);
	v.active = atomic_load(&c->active);
	return v;
}

/* Whether a change bracketed by seq_begin/seq_end can have overlapped [seq_read(), now]. */
static bool seq_moved(struct changes *c, struct changes_seen v)
{
	return v.active || atomic_load(&c->gen) != v.gen;
}

/* The region's lines of /proc/self/maps, for a failure report. */
static void dump_maps(struct stress *s)
{
	uintptr_t lo = (uintptr_t)s->p, hi = lo + NPAGES * s->pg;
	char line[256];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return;
	pthread_mutex_lock(&s->log_lock);
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && b > lo && a < hi)
			fprintf(stderr, "#   maps: %s", line);
	}
	pthread_mutex_unlock(&s->log_lock);
	fclose(f);
}

/*
 * Compares page i with what its state says it holds; the caller holds the
 * page's lock. Counts the page and its wrong bytes and reports a mismatch.
 */
static bool verify_page(struct stress *s, unsigned int i, const char *who)
{
	const struct page_state *ps = &s->pages[i];
	const volatile uint64_t *w = (const volatile uint64_t *)page_addr(s, i);
	size_t words = s->pg / 8, k, first = words, bad = 0;
	uint64_t want_first = 0, got_first = 0;

	for (k = 0; k < words; k++) {
		uint64_t want = ps->zero ? 0 : pattern(s, i, ps->gen, k);
		uint64_t got = w[k];
		uint64_t d = want ^ got;

		if (!d)
			continue;
		if (first == words) {
			first = k;
			want_first = want;
			got_first = got;
		}
		for (; d; d >>= 8)
			if (d & 0xff)
				bad++;
	}
	atomic_fetch_add(&s->c.verified, 1);
	if (!bad)
		return true;
	atomic_fetch_add(&s->c.bytes_wrong, bad);
	{
		struct migentry_record rec = { 0 };
		uint64_t head = w[0];
		int r = me_one(s->dev, MIGENTRY_IOC_READ_PTE, page_addr(s, i), 0, &rec);

		fail(s, "%s: page %u: %zu bytes wrong; expected %s gen %u; first bad word %zu: %#llx, want %#llx; word 0 %#llx (page %llu gen %llu); pagemap %#llx; PTE kind %u flags %#x (READ_PTE %d)",
		     who, i, bad, ps->zero ? "zeroes" : "pattern", ps->gen, first,
		     (unsigned long long)got_first, (unsigned long long)want_first,
		     (unsigned long long)head, (unsigned long long)(head >> 32),
		     (unsigned long long)(head & 0xffffffff),
		     (unsigned long long)me_pagemap(page_addr(s, i)), rec.before.kind,
		     rec.before.flags, r);
	}
	return false;
}

/* Writes the next generation into page i; the caller holds its lock. */
static void write_page(struct stress *s, unsigned int i)
{
	struct page_state *ps = &s->pages[i];
	volatile uint64_t *w = (volatile uint64_t *)page_addr(s, i);
	size_t words = s->pg / 8, k;

	ps->gen++;
	ps->zero = false;
	for (k = 1; k < words; k++)
		w[k] = pattern(s, i, ps->gen, k);
	w[0] = pattern(s, i, ps->gen, 0);
	atomic_fetch_add(&s->c.writes, 1);
}

static void *writer_thread(void *arg)
{
	struct stress *s = ((void **)arg)[0];
	unsigned int w = (unsigned int)(uintptr_t)((void **)arg)[1];
	uint64_t r = s->seed ^ mix64(0x1000 + w);
	unsigned long n;

	for (n = 0; n < cfg.iters && !stopped(s); n++) {
		unsigned int i = rnd_below(&r, NPAGES / WRITERS) * WRITERS + w;

		pthread_mutex_lock(&s->pages[i].lock);
		if (verify_page(s, i, "writer"))
			write_page(s, i);
		pthread_mutex_unlock(&s->pages[i].lock);
	}
	return NULL;
}

/* What a record says the PTE was, as one character (for failure reports). */
static char pte_char(const struct migentry_record *rec)
{
	const struct migentry_pte_state *b = &rec->before;

	switch (b->kind) {
	case MIGENTRY_LEAF_NONE:
		return '.';
	case MIGENTRY_LEAF_PRESENT:
		if (me_has(b, MIGENTRY_PTE_SPECIAL))
			return 'z';
		if (me_has(b, MIGENTRY_PTE_WRITE))
			return me_has(b, MIGENTRY_PTE_SOFT_DIRTY) ? 'W' : 'C';
		return me_has(b, MIGENTRY_PTE_UFFD) ? 'u' : 'r';
	case MIGENTRY_LEAF_SWAP:
		return 's';
	case MIGENTRY_LEAF_MIGRATION_READ:
	case MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE:
	case MIGENTRY_LEAF_MIGRATION_WRITE:
		return 'm';
	case MIGENTRY_LEAF_MARKER:
		return 'x';
	default:
		return '?';
	}
}

/*
 * Why a ROUNDTRIP of the range with these flags was refused with EOPNOTSUPP,
 * by EVALUATE with the same flags: 1 if some page would lose write (*why
 * gets the kind of reason), 0 if none would, -1 if EVALUATE failed. desc
 * gets the pages as EVALUATE saw them, one pte_char() each ('W' writable,
 * 'C' writable without soft-dirty, 'r' read-only, 'u' uffd-wp, 's' swap,
 * 'm' migration entry, 'x' marker, '.' none, 'z' zeropage), and *migrating
 * whether one of them was under migration.
 */
static int evaluate_explains(struct stress *s, char *addr, size_t len, __u64 flags,
			     struct migentry_record *recs, enum rt_eopnotsupp *why,
			     char *desc, size_t desc_len, bool *migrating)
{
	struct migentry_range arg;
	int found = 0;
	size_t k;

	*migrating = false;
	if (me_range(s->dev, MIGENTRY_IOC_EVALUATE, addr, len, flags, recs, NPAGES, &arg)) {
		snprintf(desc, desc_len, "EVALUATE: %s", strerror(errno));
		return -1;
	}
	for (k = 0; k < arg.nr_done; k++) {
		const struct migentry_record *rec = &recs[k];
		const struct migentry_pte_state *after = &rec->after[MIGENTRY_POLICY_TYPED];

		if (k + 1 < desc_len)
			desc[k] = pte_char(rec);
		if (pte_char(rec) == 'm')
			*migrating = true;
		if (found || rec->status != MIGENTRY_REC_DONE ||
		    !me_has(&rec->before, MIGENTRY_PTE_WRITE) || me_has(after, MIGENTRY_PTE_WRITE))
			continue;
		if (flags & (MIGENTRY_RT_WRPROTECT | MIGENTRY_RT_UFFD_WP))
			*why = EOP_RIGHTS;
		else if (flags & MIGENTRY_RT_CLEAR_SOFT_DIRTY)
			*why = EOP_SD;
		else
			*why = EOP_LEFTOVER;
		found = 1;
	}
	desc[k < desc_len ? k : desc_len - 1] = '\0';
	return found;
}

/* The records of a successful ROUNDTRIP of [addr, addr + npages pages). */
static void check_records(struct stress *s, char *addr, unsigned int npages, __u64 flags,
			  const struct migentry_range *arg, const struct migentry_record *recs)
{
	unsigned long done = 0;
	unsigned int k;

	if (arg->nr_done != npages) {
		fail(s, "ROUNDTRIP %p+%u pages flags %#llx: nr_done %llu", addr, npages,
		     (unsigned long long)flags, (unsigned long long)arg->nr_done);
		return;
	}
	for (k = 0; k < npages; k++) {
		const struct migentry_record *rec = &recs[k];
		const struct migentry_pte_state *after = &rec->after[MIGENTRY_POLICY_TYPED];
		const char *bad = NULL;

		if (rec->addr != (uintptr_t)(addr + (size_t)k * s->pg))
			bad = "record for another address";
		else if (rec->status > MIGENTRY_REC_SPECIAL)
			bad = "unknown status";
		if (!bad && rec->status == MIGENTRY_REC_DONE) {
			done++;
			if (rec->entry.kind < MIGENTRY_LEAF_MIGRATION_READ ||
			    rec->entry.kind > MIGENTRY_LEAF_MIGRATION_WRITE)
				bad = "the entry is no migration entry";
			else if (!me_has(after, MIGENTRY_PTE_PRESENT))
				bad = "restored PTE not present";
			else if (me_has(after, MIGENTRY_PTE_WRITE | MIGENTRY_PTE_UFFD))
				bad = "restored PTE writable and uffd-wp";
			else if ((flags & (MIGENTRY_RT_WRPROTECT | MIGENTRY_RT_UFFD_WP)) &&
				 me_has(after, MIGENTRY_PTE_WRITE))
				bad = "write-protecting round trip left the page writable";
			else if ((flags & MIGENTRY_RT_UFFD_WP) && !me_has(after, MIGENTRY_PTE_UFFD))
				bad = "RT_UFFD_WP round trip without the uffd bit";
			else if (!s->tlb && me_has(&rec->before, MIGENTRY_PTE_WRITE) &&
				 !me_has(after, MIGENTRY_PTE_WRITE))
				bad = "write taken away without MIGENTRY_FEAT_TLB_FLUSH";
		}
		if (bad) {
			fail(s, "ROUNDTRIP %p+%u pages flags %#llx, page %u (region page %zu): %s; status %u, before kind %u flags %#x, entry kind %u flags %#x, after flags %#x, refused %u",
			     addr, npages, (unsigned long long)flags, k,
			     (size_t)((char *)(uintptr_t)rec->addr - s->p) / s->pg, bad,
			     rec->status,
			     rec->before.kind, rec->before.flags, rec->entry.kind, rec->entry.flags,
			     after->flags, rec->refused);
			return;
		}
	}
	atomic_fetch_add(&s->c.rt_pages_done, done);
	atomic_fetch_add(&s->c.rt_pages_left, npages - done);
}

struct rt_arg {
	struct stress *s;
	unsigned int id;
	struct migentry_record recs[NPAGES];
	struct migentry_record eval[NPAGES];
};

static void *rt_thread(void *arg)
{
	struct rt_arg *a = arg;
	struct stress *s = a->s;
	uint64_t r = s->seed ^ mix64(0x2000 + a->id);
	__u64 mask = s->uffd_variant ? 7 : 3;
	unsigned long n;

	for (n = 0; n < cfg.iters && !stopped(s); n++) {
		unsigned int start, npages, sel = rnd_below(&r, 4);
		struct changes_seen lseq, pseq;
		__u64 flags = rnd(&r) & mask;
		struct migentry_range arg;
		enum rt_eopnotsupp why;
		char desc[NPAGES + 64];
		bool migrating;
		char *addr;
		int ret, err;

		if (sel == 0) {
			start = 0;
			npages = NPAGES;
		} else {
			start = rnd_below(&r, NPAGES);
			npages = 1 + rnd_below(&r, sel == 3 ? NPAGES - start : 8);
			if (start + npages > NPAGES)
				npages = NPAGES - start;
		}
		addr = page_addr(s, start);
		lseq = seq_read(&s->layout_seq);
		pseq = seq_read(&s->pte_seq);
		errno = 0;
		ret = me_range(s->dev, MIGENTRY_IOC_ROUNDTRIP, addr, (size_t)npages * s->pg, flags,
			       a->recs, NPAGES, &arg);
		err = errno;
		atomic_fetch_add(&s->c.rt_calls, 1);
		if (ret == 0) {
			atomic_fetch_add(&s->c.rt_ok, 1);
			atomic_fetch_add(&s->c.rt_ok_flags[flags], 1);
			check_records(s, addr, npages, flags, &arg, a->recs);
			continue;
		}
		switch (err) {
		case EFAULT:
		case EINVAL:
			if (!seq_moved(&s->layout_seq, lseq)) {
				fail(s, "ROUNDTRIP pages %u+%u flags %#llx: %s while no VMA of the region changed",
				     start, npages, (unsigned long long)flags, strerror(err));
				dump_maps(s);
				break;
			}
			atomic_fetch_add(err == EFAULT ? &s->c.rt_efault : &s->c.rt_einval, 1);
			break;
		case EOPNOTSUPP:
			if (s->tlb) {
				fail(s, "ROUNDTRIP pages %u+%u flags %#llx: EOPNOTSUPP with MIGENTRY_FEAT_TLB_FLUSH",
				     start, npages, (unsigned long long)flags);
				break;
			}
			if (evaluate_explains(s, addr, (size_t)npages * s->pg, flags, a->eval, &why,
					      desc, sizeof(desc), &migrating) == 1) {
				atomic_fetch_add(&s->c.rt_eop[why], 1);
				break;
			}
			/* Refused for a page whose PTE another thread (or the kernel) changed. */
			if (seq_moved(&s->pte_seq, pseq) || seq_moved(&s->layout_seq, lseq) ||
			    migrating) {
				atomic_fetch_add(&s->c.rt_eop[EOP_RACED], 1);
				break;
			}
			fail(s, "ROUNDTRIP pages %u+%u flags %#llx: EOPNOTSUPP, but no page would lose rights and no PTE changed; EVALUATE's view: %s",
			     start, npages, (unsigned long long)flags, desc);
			break;
		case EIO:
			atomic_fetch_add(&s->c.rt_eio, 1);
			if (cfg.allow_eio)
				break;
			fail_go_on(s, "ROUNDTRIP pages %u+%u flags %#llx: EIO (the kernel log says why)",
				   start, npages, (unsigned long long)flags);
			break;
		default:
			fail(s, "ROUNDTRIP pages %u+%u flags %#llx: %d, errno %d (%s)", start, npages,
			     (unsigned long long)flags, ret, err, strerror(err));
			break;
		}
	}
	return NULL;
}

/*
 * Resolves write-protect faults by un-protecting the page. Only the owners
 * write, and an owner holds the page's lock while it is blocked in the
 * fault, so the page cannot be unmapped or remapped meanwhile.
 *
 * Un-protecting changes the PTE like mprotect() does: it is rebuilt from
 * vm_page_prot, which is read-only (write-notify, or COW), and made
 * writable again only where the kernel may skip the write fault. A message
 * can also arrive for a fault that no longer waits (userfaultfd queues it
 * before it rechecks the PTE), when the page may be writable again. So this
 * may take write away from a page, and counts as a PTE change (pte_seq).
 */
static void *uffd_thread(void *arg)
{
	struct stress *s = arg;

	while (!atomic_load(&s->handler_stop)) {
		struct pollfd pfd = { .fd = s->uffd, .events = POLLIN };
		struct uffdio_writeprotect wp = { .mode = 0 };
		struct uffd_msg msg;
		int tries;

		if (poll(&pfd, 1, 20) != 1)
			continue;
		if (read(s->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT ||
		    !(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)) {
			fail(s, "uffd: unexpected message: event %u flags %#llx", msg.event,
			     (unsigned long long)msg.arg.pagefault.flags);
			continue;
		}
		wp.range.start = msg.arg.pagefault.address & ~(__u64)(s->pg - 1);
		wp.range.len = s->pg;
		seq_begin(&s->pte_seq);
		for (tries = 0; tries < 1000; tries++) {
			if (!ioctl(s->uffd, UFFDIO_WRITEPROTECT, &wp))
				break;
			if (errno != EAGAIN) {
				fail(s, "UFFDIO_WRITEPROTECT 0 at %#llx: %s",
				     (unsigned long long)wp.range.start, strerror(errno));
				break;
			}
		}
		seq_end(&s->pte_seq);
		atomic_fetch_add(&s->c.uffd_faults, 1);
	}
	return NULL;
}

/*
 * The layout thread: operations that change what a page holds or whether
 * it is mapped, done under the locks of the pages they cover.
 */
static void *layout_thread(void *arg)
{
	struct stress *s = arg;
	uint64_t r = s->seed ^ mix64(0x3000);
	int prot_rw = PROT_READ | PROT_WRITE;
	unsigned long n;

	for (n = 0; n < cfg.iters && !stopped(s); n++) {
		unsigned int i0 = rnd_below(&r, NPAGES), m = 1 + rnd_below(&r, LAYOUT_MAX), i;
		int op = pick_op(&r, OP_REMAP, OP_REMOVE,
				 s->shared ? ~0U : ~(1U << OP_REMOVE));
		char *addr;
		size_t len;

		if (op < 0)
			break;

		if (i0 + m > NPAGES)
			m = NPAGES - i0;
		addr = page_addr(s, i0);
		len = (size_t)m * s->pg;
		for (i = i0; i < i0 + m; i++)
			pthread_mutex_lock(&s->pages[i].lock);

		switch (op) {
		case OP_REMAP: {	/* replace with a fresh mapping */
			int flags = s->shared ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;
			off_t off = s->shared ? (off_t)i0 * (off_t)s->pg : 0;
			bool direct = rnd(&r) & 1;
			void *q;

			seq_begin(&s->layout_seq);
			seq_begin(&s->pte_seq);
			if (direct) {
				q = mmap(addr, len, prot_rw, flags | MAP_FIXED, s->memfd, off);
			} else {
				if (munmap(addr, len))
					fail(s, "munmap pages %u+%u: %s", i0, m, strerror(errno));
				q = mmap(addr, len, prot_rw, flags | MAP_FIXED_NOREPLACE, s->memfd,
					 off);
			}
			if (q != addr) {
				fail(s, "mmap %s pages %u+%u: %p, %s", direct ? "MAP_FIXED" :
				     "MAP_FIXED_NOREPLACE", i0, m, q, strerror(errno));
			} else {
				/* The region's flags, so that the new VMA merges back into it. */
				if (madvise(addr, len, MADV_NOHUGEPAGE))
					fail(s, "MADV_NOHUGEPAGE: %s", strerror(errno));
				if (s->uffd_variant &&
				    me_uffd_register(s->uffd, addr, len, UFFDIO_REGISTER_MODE_WP))
					fail(s, "UFFDIO_REGISTER pages %u+%u: %s", i0, m,
					     strerror(errno));
			}
			seq_end(&s->pte_seq);
			seq_end(&s->layout_seq);
			/* A private page starts over at zero; shmem keeps its page cache. */
			for (i = i0; i < i0 + m; i++) {
				if (!s->shared)
					s->pages[i].zero = true;
				if (q == addr)
					verify_page(s, i, "after remap");
			}
			atomic_fetch_add(&s->c.remaps, 1);
			break;
		}
		case OP_MPROTECT:	/* read-only for a while: the owner waits */
			/* The VMA stays split until the second mprotect merges it back. */
			seq_begin(&s->layout_seq);
			seq_begin(&s->pte_seq);
			if (mprotect(addr, len, PROT_READ))
				fail(s, "mprotect(PROT_READ) pages %u+%u: %s", i0, m,
				     strerror(errno));
			seq_end(&s->pte_seq);
			for (i = i0; i < i0 + m; i++)
				verify_page(s, i, "read-only");
			sleep_us(200);
			seq_begin(&s->pte_seq);
			if (mprotect(addr, len, prot_rw))
				fail(s, "mprotect(PROT_READ|PROT_WRITE) pages %u+%u: %s", i0, m,
				     strerror(errno));
			seq_end(&s->pte_seq);
			seq_end(&s->layout_seq);
			atomic_fetch_add(&s->c.mprotects, 1);
			break;
		case OP_DONTNEED:	/* private pages read zero, shmem keeps them */
			seq_begin(&s->pte_seq);
			if (madvise(addr, len, MADV_DONTNEED))
				fail(s, "MADV_DONTNEED pages %u+%u: %s", i0, m, strerror(errno));
			seq_end(&s->pte_seq);
			for (i = i0; i < i0 + m; i++) {
				if (!s->shared)
					s->pages[i].zero = true;
				if (rnd(&r) & 1)
					verify_page(s, i, "after MADV_DONTNEED");
			}
			atomic_fetch_add(&s->c.dontneeds, 1);
			break;
		case OP_REMOVE:		/* shmem: MADV_REMOVE punches the pages out: zero */
			seq_begin(&s->pte_seq);
			if (madvise(addr, len, MADV_REMOVE))
				fail(s, "MADV_REMOVE pages %u+%u: %s", i0, m, strerror(errno));
			seq_end(&s->pte_seq);
			for (i = i0; i < i0 + m; i++) {
				s->pages[i].zero = true;
				if (rnd(&r) & 1)
					verify_page(s, i, "after MADV_REMOVE");
			}
			atomic_fetch_add(&s->c.removes, 1);
			break;
		}
		for (i = i0 + m; i-- > i0;)
			pthread_mutex_unlock(&s->pages[i].lock);
		sleep_us(500);
	}
	return NULL;
}

static sigjmp_buf child_jmp;
static uint64_t child_rnd;	/* a child's random state: it survives a siglongjmp */

static void child_fault(int sig)
{
	siglongjmp(child_jmp, 1);
}

/*
 * A forked child: in a private variant it writes its own marks into
 * CHILD_PAGES of its copy-on-write copies and checks that they read back;
 * in a shmem variant it only reads (a write would be the parent's data).
 * A page that was read-only or unmapped at the fork is skipped. Only
 * async-signal-safe calls: the parent has other threads.
 */
static void __attribute__((noreturn)) child_main(struct stress *s, uint64_t r)
{
	struct sigaction sa = { .sa_handler = child_fault };
	volatile unsigned int k;

	child_rnd = r;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	for (k = 0; k < CHILD_PAGES; k++) {
		unsigned int i = rnd_below(&child_rnd, NPAGES);
		volatile uint64_t *w = (volatile uint64_t *)page_addr(s, i);
		uint64_t mark = 0xc41dc41d00000000ULL | ((uint64_t)k << 16) | i;
		size_t j;

		if (sigsetjmp(child_jmp, 1))
			continue;
		if (s->shared) {
			(void)w[rnd_below(&child_rnd, s->pg / 8)];
			continue;
		}
		for (j = 0; j < s->pg / 8; j += 64)
			w[j] = mark ^ j;
		for (j = 0; j < s->pg / 8; j += 64)
			if (w[j] != (mark ^ j))
				_exit(3);
	}
	_exit(0);
}

static void reap(struct stress *s, pid_t *kids, int *nkids, bool wait_all)
{
	int k = 0;

	while (k < *nkids) {
		int status;
		pid_t pid = waitpid(kids[k], &status, wait_all ? 0 : WNOHANG);

		if (pid == 0) {
			k++;
			continue;
		}
		if (pid != kids[k])
			fail(s, "waitpid %d: %s", kids[k], strerror(errno));
		else if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail(s, "child %d: status %#x (3: its own write to a COW copy read back wrong)",
			     kids[k], status);
		else
			atomic_fetch_add(&s->c.children_ok, 1);
		kids[k] = kids[--*nkids];
	}
}

/*
 * The migrate thread: move_pages(2) of up to MOVE_MAX random pages to node
 * 0 and 1 in turn, unlocked. A thread of its own, so that migrations also
 * overlap clear_refs (which on stock 7.3 leaves writable PTEs without
 * soft-dirty: docs/findings.md) and the other mm operations.
 */
static void *migrate_thread(void *arg)
{
	struct stress *s = arg;
	uint64_t r = s->seed ^ mix64(0x5000);
	unsigned long n;

	if (!(cfg.ops & (1U << OP_MOVE_PAGES)) || s->nodes < 2)
		return NULL;
	for (n = 0; n < cfg.iters && !stopped(s); n++) {
		void *pages[MOVE_MAX];
		int nodes[MOVE_MAX], status[MOVE_MAX];
		int target = (int)(n & 1), cnt = 1 + (int)rnd_below(&r, MOVE_MAX), k;
		long ret;

		for (k = 0; k < cnt; k++) {
			pages[k] = page_addr(s, rnd_below(&r, NPAGES));
			nodes[k] = target;
			status[k] = -1;
		}
		seq_begin(&s->pte_seq);
		ret = syscall(__NR_move_pages, 0, cnt, pages, nodes, status, MPOL_MF_MOVE_ALL);
		seq_end(&s->pte_seq);
		if (ret < 0) {
			fail(s, "move_pages of %d pages: %s", cnt, strerror(errno));
			break;
		}
		for (k = 0; k < cnt; k++)
			if (status[k] == target)
				atomic_fetch_add(&s->c.pages_moved, 1);
		atomic_fetch_add(&s->c.moves, 1);
		sleep_us(1000);
	}
	return NULL;
}

/* The mm thread: operations that must not change any byte, unlocked. */
static void *mm_thread(void *arg)
{
	struct stress *s = arg;
	uint64_t r = s->seed ^ mix64(0x4000);
	pid_t kids[MAX_CHILDREN];
	int nkids = 0;
	unsigned long n;

	for (n = 0; n < cfg.iters && !stopped(s); n++) {
		int op = pick_op(&r, OP_PAGEOUT, OP_FORK, ~(1U << OP_MOVE_PAGES));

		if (op < 0)
			break;
		reap(s, kids, &nkids, false);
		switch (op) {
		case OP_PAGEOUT: {	/* a sub-range */
			unsigned int i0 = rnd_below(&r, NPAGES), m = 1 + rnd_below(&r, NPAGES - i0);
			struct changes_seen lseq = seq_read(&s->layout_seq);
			int ret;

			seq_begin(&s->pte_seq);
			ret = madvise(page_addr(s, i0), (size_t)m * s->pg, MADV_PAGEOUT);
			seq_end(&s->pte_seq);
			/* ENOMEM: a hole in the range, while a page is being remapped. */
			if (ret && !(errno == ENOMEM && seq_moved(&s->layout_seq, lseq)))
				fail(s, "MADV_PAGEOUT pages %u+%u: %s", i0, m, strerror(errno));
			atomic_fetch_add(&s->c.pageouts, 1);
			break;
		}
		case OP_CLEAR_REFS:	/* write-protects every PTE, clears soft-dirty */
			seq_begin(&s->pte_seq);
			if (me_clear_soft_dirty())
				fail(s, "clear_refs: %s", strerror(errno));
			seq_end(&s->pte_seq);
			atomic_fetch_add(&s->c.clear_refs, 1);
			break;
		case OP_FORK: {		/* the child writes to its copies and exits */
			uint64_t cr = rnd(&r);
			pid_t pid;

			if (nkids == MAX_CHILDREN)
				break;
			seq_begin(&s->pte_seq);
			pid = fork();
			if (pid == 0)
				child_main(s, cr);
			seq_end(&s->pte_seq);
			if (pid < 0) {
				fail(s, "fork: %s", strerror(errno));
				break;
			}
			kids[nkids++] = pid;
			atomic_fetch_add(&s->c.forks, 1);
			break;
		}
		}
		sleep_us(1000);
	}
	reap(s, kids, &nkids, true);
	return NULL;
}

/*
 * The region, between two PROT_NONE guard pages, so that no mapping made in
 * it can merge with a VMA outside. (A fresh private page at the edge would
 * otherwise merge with an anon VMA below it, take that VMA's anon_vma when
 * UFFDIO_REGISTER splits it off again, and never merge back into the region.)
 * Read-write, no THP; a shmem variant maps a memfd of NPAGES pages.
 */
static char *map_region(struct stress *s, enum me_mem mem)
{
	size_t len = NPAGES * s->pg;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
	char *p;

	s->guard = mmap(NULL, len + 2 * s->pg, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->guard == MAP_FAILED)
		return MAP_FAILED;
	if (mem == ME_MEMFD_SHARED) {
		s->memfd = memfd_create("migentry_stress", MFD_CLOEXEC);
		if (s->memfd < 0 || ftruncate(s->memfd, (off_t)len))
			return MAP_FAILED;
		flags = MAP_SHARED | MAP_FIXED;
	}
	p = mmap(s->guard + s->pg, len, PROT_READ | PROT_WRITE, flags, s->memfd, 0);
	if (p == MAP_FAILED || madvise(p, len, MADV_NOHUGEPAGE))
		return MAP_FAILED;
	return p;
}

FIXTURE(stress)
{
	struct stress s;
};

FIXTURE_VARIANT(stress)
{
	enum me_mem mem;
	bool uffd;
};

FIXTURE_VARIANT_ADD(stress, anon)
{
	.mem = ME_PRIVATE_ANON,
	.uffd = false,
};

FIXTURE_VARIANT_ADD(stress, memfd)
{
	.mem = ME_MEMFD_SHARED,
	.uffd = false,
};

FIXTURE_VARIANT_ADD(stress, anon_uffd_wp)
{
	.mem = ME_PRIVATE_ANON,
	.uffd = true,
};

FIXTURE_VARIANT_ADD(stress, memfd_uffd_wp)
{
	.mem = ME_MEMFD_SHARED,
	.uffd = true,
};

FIXTURE_SETUP(stress)
{
	struct stress *s = &self->s;
	struct migentry_info info = { .size = sizeof(info) };
	unsigned int i;

	s->name = variant->mem == ME_PRIVATE_ANON ?
		  (variant->uffd ? "anon_uffd_wp" : "anon") :
		  (variant->uffd ? "memfd_uffd_wp" : "memfd");
	s->guard = MAP_FAILED;
	s->p = MAP_FAILED;
	s->memfd = -1;
	s->uffd = -1;
	s->pg = me_page();
	s->shared = variant->mem == ME_MEMFD_SHARED;
	s->uffd_variant = variant->uffd;
	s->seed = cfg.seed ^ mix64((uint64_t)variant->mem * 2 + variant->uffd);
	pthread_mutex_init(&s->log_lock, NULL);
	for (i = 0; i < NPAGES; i++)
		pthread_mutex_init(&s->pages[i].lock, NULL);

	s->dev = me_open();
	ASSERT_LE(0, s->dev) TH_LOG("open %s: %s", ME_DEV, strerror(errno));
	ASSERT_EQ(0, ioctl(s->dev, MIGENTRY_IOC_INFO, &info));
	s->tlb = info.features & MIGENTRY_FEAT_TLB_FLUSH;
	s->nodes = (int)info.nr_online_nodes;
	if (variant->uffd && !(info.features & MIGENTRY_FEAT_UFFD_WP))
		SKIP(return, "the kernel has no uffd write-protect (MIGENTRY_FEAT_UFFD_WP)");

	s->p = map_region(s, variant->mem);
	ASSERT_NE(MAP_FAILED, s->p) TH_LOG("mapping the region: %s", strerror(errno));
	if (variant->uffd) {
		struct uffdio_api api = {
			.api = UFFD_API,
			.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP |
				    (s->shared ? UFFD_FEATURE_WP_HUGETLBFS_SHMEM : 0),
		};

		s->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		ASSERT_LE(0, s->uffd) TH_LOG("userfaultfd: %s", strerror(errno));
		ASSERT_EQ(0, ioctl(s->uffd, UFFDIO_API, &api)) TH_LOG("UFFDIO_API: %s",
								      strerror(errno));
		ASSERT_EQ(0, me_uffd_register(s->uffd, s->p, NPAGES * s->pg,
					      UFFDIO_REGISTER_MODE_WP))
			TH_LOG("UFFDIO_REGISTER: %s", strerror(errno));
	}
	for (i = 0; i < NPAGES; i++)
		write_page(s, i);
}

FIXTURE_TEARDOWN(stress)
{
	struct stress *s = &self->s;

	if (s->uffd >= 0)
		close(s->uffd);
	if (s->guard != MAP_FAILED)
		munmap(s->guard, (NPAGES + 2) * s->pg);
	if (s->memfd >= 0)
		close(s->memfd);
	if (s->dev >= 0)
		close(s->dev);
}

/*
 * After the threads stopped: the region is one VMA again, a last round trip
 * over all of it is documented, and every page still holds what it should.
 */
static void final_checks(struct __test_metadata *_metadata, struct stress *s)
{
	static struct migentry_record recs[NPAGES], eval[NPAGES];
	size_t len = NPAGES * s->pg;
	struct migentry_range arg;
	enum rt_eopnotsupp why;
	char desc[NPAGES + 64];
	bool migrating;
	unsigned int i;
	int ret;

	for (i = 0; i < NPAGES; i++)
		verify_page(s, i, "final");
	ret = me_range(s->dev, MIGENTRY_IOC_READ_PTE, s->p, len, 0, recs, NPAGES, NULL);
	EXPECT_EQ(0, ret) TH_LOG("READ_PTE of the region: %s (still several VMAs?)",
				 strerror(errno));
	if (ret)
		dump_maps(s);
	errno = 0;
	ret = me_range(s->dev, MIGENTRY_IOC_ROUNDTRIP, s->p, len, 0, recs, NPAGES, &arg);
	if (ret == 0) {
		check_records(s, s->p, NPAGES, 0, &arg, recs);
	} else if (errno != EOPNOTSUPP || s->tlb) {
		fail(s, "final ROUNDTRIP of the region, flags 0: %s", strerror(errno));
	} else if (evaluate_explains(s, s->p, len, 0, eval, &why, desc, sizeof(desc),
				     &migrating) == 1) {
		atomic_fetch_add(&s->c.rt_eop[why], 1);
	} else {
		fail(s, "final ROUNDTRIP of the region, flags 0: EOPNOTSUPP, but no page would lose rights; EVALUATE's view: %s",
		     desc);
	}
	for (i = 0; i < NPAGES; i++)
		verify_page(s, i, "final, after a round trip");
}

TEST_F(stress, run)
{
	struct stress *s = &self->s;
	static struct rt_arg rts[RT_THREADS];
	pthread_t rt[RT_THREADS], wr[WRITERS], layout, mm, migrate, handler;
	void *wargs[WRITERS][2];
	struct counters *c = &s->c;
	struct timespec t0, t1;
	unsigned int i;
	double secs;

	TH_LOG("%s: %d pages, MIGENTRY_STRESS_SEED=%#llx, %u ms, MIGENTRY_FEAT_TLB_FLUSH %s, %d nodes",
	       s->name, NPAGES, (unsigned long long)cfg.seed, cfg.variant_ms,
	       s->tlb ? "yes" : "no (rights-taking round trips are refused)", s->nodes);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s->deadline = t0;
	s->deadline.tv_sec += cfg.variant_ms / 1000;
	s->deadline.tv_nsec += (long)(cfg.variant_ms % 1000) * 1000000L;
	if (s->deadline.tv_nsec >= 1000000000L) {
		s->deadline.tv_sec++;
		s->deadline.tv_nsec -= 1000000000L;
	}
	if (s->uffd_variant)
		ASSERT_EQ(0, pthread_create(&handler, NULL, uffd_thread, s));
	for (i = 0; i < WRITERS; i++) {
		wargs[i][0] = s;
		wargs[i][1] = (void *)(uintptr_t)i;
		ASSERT_EQ(0, pthread_create(&wr[i], NULL, writer_thread, wargs[i]));
	}
	for (i = 0; i < RT_THREADS; i++) {
		rts[i].s = s;
		rts[i].id = i;
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, rt_thread, &rts[i]));
	}
	ASSERT_EQ(0, pthread_create(&layout, NULL, layout_thread, s));
	ASSERT_EQ(0, pthread_create(&mm, NULL, mm_thread, s));
	ASSERT_EQ(0, pthread_create(&migrate, NULL, migrate_thread, s));

	for (i = 0; i < RT_THREADS; i++)
		pthread_join(rt[i], NULL);
	pthread_join(layout, NULL);
	pthread_join(mm, NULL);
	pthread_join(migrate, NULL);
	for (i = 0; i < WRITERS; i++)
		pthread_join(wr[i], NULL);
	if (s->uffd_variant) {
		atomic_store(&s->handler_stop, 1);
		pthread_join(handler, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	final_checks(_metadata, s);

	ksft_print_msg("stress %s: seed %#llx, %.1f s, roundtrips %lu (ok %lu [flags 0/sd/wp/sd+wp/uffd/uffd+sd/uffd+wp/all: %lu/%lu/%lu/%lu/%lu/%lu/%lu/%lu], %lu pages done, %lu left alone; EOPNOTSUPP %lu [rights %lu, soft-dirty tracked %lu, 7.3 writable-clean %lu, raced %lu]; EFAULT %lu, EINVAL %lu while remapping; EIO %lu), writes %lu, remaps %lu, mprotects %lu, dontneeds %lu, removes %lu, pageouts %lu, clear_refs %lu, move_pages %lu (%lu pages moved), forks %lu (%lu children ok), uffd faults %lu; pages verified %lu, bytes wrong %lu\n",
		       s->name, (unsigned long long)cfg.seed, secs, c->rt_calls, c->rt_ok,
		       c->rt_ok_flags[0], c->rt_ok_flags[1], c->rt_ok_flags[2], c->rt_ok_flags[3],
		       c->rt_ok_flags[4], c->rt_ok_flags[5], c->rt_ok_flags[6], c->rt_ok_flags[7],
		       c->rt_pages_done, c->rt_pages_left,
		       c->rt_eop[EOP_RIGHTS] + c->rt_eop[EOP_SD] + c->rt_eop[EOP_LEFTOVER] +
		       c->rt_eop[EOP_RACED],
		       c->rt_eop[EOP_RIGHTS], c->rt_eop[EOP_SD], c->rt_eop[EOP_LEFTOVER],
		       c->rt_eop[EOP_RACED], c->rt_efault, c->rt_einval, c->rt_eio, c->writes,
		       c->remaps,
		       c->mprotects, c->dontneeds, c->removes, c->pageouts, c->clear_refs, c->moves,
		       c->pages_moved, c->forks, c->children_ok, c->uffd_faults, c->verified,
		       c->bytes_wrong);
	EXPECT_EQ(0, atomic_load(&s->failures))
		TH_LOG("MIGENTRY_STRESS_SEED=%#llx: see the FAIL lines above",
		       (unsigned long long)cfg.seed);
	EXPECT_EQ(0, atomic_load(&c->bytes_wrong));
	/* The threads really ran against each other. */
	EXPECT_LT(0, atomic_load(&c->rt_ok));
	EXPECT_LT(0, atomic_load(&c->writes));
}

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *v = getenv(name);
	char *end;
	unsigned long x;

	if (!v || !*v)
		return def;
	errno = 0;
	x = strtoul(v, &end, 0);
	if (errno || *end || !x) {
		fprintf(stderr, "# %s=%s is not a positive number; using %lu\n", name, v, def);
		return def;
	}
	return x;
}

/* MIGENTRY_STRESS_OPS: a comma-separated list of op_names, or "all" (default). */
static unsigned int env_ops(void)
{
	const char *v = getenv("MIGENTRY_STRESS_OPS");
	unsigned int ops = 0;
	const char *p;
	int op;

	if (!v || !*v || !strcmp(v, "all"))
		return (1U << NR_OPS) - 1;
	for (p = v; *p;) {
		size_t len = strcspn(p, ",");

		for (op = 0; op < NR_OPS; op++)
			if (strlen(op_names[op]) == len && !strncmp(p, op_names[op], len))
				break;
		if (op == NR_OPS)
			fprintf(stderr, "# MIGENTRY_STRESS_OPS: unknown operation '%.*s'\n", (int)len,
				p);
		else
			ops |= 1U << op;
		p += len;
		if (*p == ',')
			p++;
	}
	return ops;
}

int main(int argc, char **argv)
{
	struct timespec ts;
	unsigned long secs = env_ulong("MIGENTRY_STRESS_SECONDS", DEFAULT_SECONDS);
	char ops[128] = "";
	int op;

	clock_gettime(CLOCK_REALTIME, &ts);
	cfg.seed = mix64((uint64_t)ts.tv_sec ^ ((uint64_t)ts.tv_nsec << 20) ^ getpid()) >> 16;
	cfg.seed = env_ulong("MIGENTRY_STRESS_SEED", cfg.seed);
	cfg.iters = env_ulong("MIGENTRY_STRESS_ITERS", DEFAULT_ITERS);
	cfg.ops = env_ops();
	cfg.allow_eio = getenv("MIGENTRY_STRESS_ALLOW_EIO") &&
			!strcmp(getenv("MIGENTRY_STRESS_ALLOW_EIO"), "1");
	for (op = 0; op < NR_OPS; op++)
		if (cfg.ops & (1U << op))
			snprintf(ops + strlen(ops), sizeof(ops) - strlen(ops), "%s%s",
				 *ops ? "," : "", op_names[op]);
	cfg.variant_ms = (unsigned int)(secs * 1000 / NR_VARIANTS);
	/* The harness kills a test after its timeout: the run time plus a margin. */
	_stress_run_object->timeout = (int)(cfg.variant_ms / 1000) + 60;
	ksft_print_msg("migentry_stress: seed %#llx (MIGENTRY_STRESS_SEED), %lu s over %d variants (MIGENTRY_STRESS_SECONDS), at most %lu iterations per thread (MIGENTRY_STRESS_ITERS), operations %s (MIGENTRY_STRESS_OPS)%s\n",
		       (unsigned long long)cfg.seed, secs, NR_VARIANTS, cfg.iters,
		       *ops ? ops : "none",
		       cfg.allow_eio ?
		       "; EIO from ROUNDTRIP counted, not failed (MIGENTRY_STRESS_ALLOW_EIO=1)" : "");
	return test_harness_run(argc, argv);
}
