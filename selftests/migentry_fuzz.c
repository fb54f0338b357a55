// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_fuzz: a seeded ioctl fuzzer for /dev/migentry.
 *
 * Each iteration makes one call: a command number (mostly a valid one; else
 * one around the magic with another direction, size or number, which must be
 * ENOTTY), a size field (mostly right, sometimes a boundary value), flags,
 * a range (mostly a valid one over this process's own memory of every type
 * the selftests use; sometimes across VMAs, over holes, unaligned, empty,
 * huge, or at an address no VMA has) and record and argument pointers (mostly
 * good; sometimes NULL, read-only, unmapped, kernel, non-canonical, straddling
 * a page whose access differs, or an array too short for the range).
 *
 * A model of the module's checks (rust/device.rs, rust/device/ops.rs, in
 * their order) and of this process's address space (/proc/self/maps) gives
 * the one errno each call must return; ENOMEM (documented for the record
 * buffer and page tables) is the only alternative it accepts. Whether a
 * ROUNDTRIP would take rights away from a page, which a kernel without
 * MIGENTRY_FEAT_TLB_FLUSH refuses with EOPNOTSUPP, is asked of EVALUATE just
 * before. EIO is never expected.
 *
 * Every mapping holds a known pattern per page (or zero), which is checked
 * after each round trip over it and in full every VERIFY_EVERY iterations:
 * ROUNDTRIP never changes data. Successful calls have their records checked
 * against the ABI (record addresses, status against kind, the type rules on
 * the restored PTE) and a round trip's installed PTEs are read back. Failed
 * calls must leave the argument and the records as they were, also when the
 * failure is EFAULT from an output that is not writable (docs/abi.md).
 *
 * Now and then the memory changes state between calls: pages are swapped
 * out, touched, rewritten, dropped (MADV_DONTNEED), migrated to the other
 * node, write-protected through userfaultfd, soft-dirty is cleared, a child
 * shares the pages copy-on-write for a while, VMAs are split and merged.
 *
 * Environment: MIGENTRY_FUZZ_SEED (default DEFAULT_SEED), MIGENTRY_FUZZ_ITERS
 * (default DEFAULT_ITERS), MIGENTRY_FUZZ_SECONDS (time bound, default
 * DEFAULT_SECONDS), MIGENTRY_FUZZ_TRACE=N (print every call from iteration N),
 * MIGENTRY_FUZZ_STRICT_WRITEBACK=0 (do not fail, only count, when a call
 * that fails with EFAULT because an output is not writable has written some
 * of it: issue 13 defect 2, fixed; the default 1 fails it as any other write
 * by a failing call).
 *
 * A report names the seed and the iteration. To replay it in the guest, put
 * the settings in a script and run that with the binary beside it:
 *
 *   printf '#!/bin/sh\nMIGENTRY_FUZZ_SEED=S MIGENTRY_FUZZ_TRACE=N exec /guest/migentry_fuzz\n' > t.sh
 *   GUEST_EXTRA=build/selftests/migentry_fuzz scripts/guest.sh run t.sh
 *
 * The calls and state changes come from the seed alone; the kernel's own
 * choices (which node has room, what reclaim takes) can still differ.
 */
#include <inttypes.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

#define DEFAULT_SEED	0x6d6967656e747279ULL	/* "migentry" */
#define DEFAULT_ITERS	20000
#define DEFAULT_SECONDS	20
#define VERIFY_EVERY	1000
#define MAX_REPORTS	20

#define PG		4096UL
#define HUGE_SZ		(2UL << 20)
#define REC_SZ		sizeof(struct migentry_record)
#define REC_CAP		(MIGENTRY_MAX_PAGES + 64)	/* records in each buffer */
#define SENTINEL_RECS	64				/* records pre-filled per call */

/* ------------------------------------------------------------------ */
/* Random numbers: splitmix64, so that a seed replays the same calls.  */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rn(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* True with probability pm per mille. */
static bool pm(unsigned int pm)
{
	return rn(1000) < pm;
}

/* ------------------------------------------------------------------ */
/* The memory under test.                                               */

enum {
	R_PRIV,		/* private anon; its tail never touched (pte_none) */
	R_SHARED,	/* shared anon */
	R_MEMFD,	/* memfd, MAP_SHARED */
	R_TMPFS,	/* tmpfs file, MAP_PRIVATE: COW copies and page-cache pages */
	R_UFFD_ANON,	/* private anon, uffd-wp registered, half protected */
	R_UFFD_MEMFD,	/* memfd, uffd-wp registered, half protected */
	R_PROTNONE,	/* populated, then PROT_NONE */
	R_MLOCK,	/* mlocked */
	R_SWAP_ANON,	/* private anon swapped out (MADV_PAGEOUT) */
	R_SWAP_SHMEM,	/* memfd swapped out */
	R_THP,		/* PMD-mapped THP, 2 MiB aligned */
	R_THP_PTE,	/* a THP split to PTEs by mprotect; first page read-only */
	R_HUGETLB,	/* MAP_HUGETLB, 2 MiB */
	R_RO,		/* populated, then PROT_READ */
	R_ZERO,		/* read only: the shared zeropage (special PTEs) */
	R_SPLIT,	/* three VMAs: RW, RO (toggled), RW */
	R_BIG,		/* MIGENTRY_MAX_PAGES pages, PROT_READ, unpopulated */
	NR_REGIONS
};

enum { PG_ZERO, PG_PATTERN };

struct region {
	const char *name;
	char *p;
	size_t npages;
	unsigned char *state;	/* PG_* per page */
	bool shared;		/* VM_SHARED */
	bool uffd;		/* VM_UFFD_WP */
	bool hugetlb;
	bool pmd;		/* PMD-mapped (THP): round trips take it whole */
	bool protnone;		/* unreadable without an mprotect */
	bool redirty;		/* its pattern may be written again */
	bool dontneed;		/* MADV_DONTNEED zeroes it (private anon) */
	bool pageout;		/* MADV_PAGEOUT is applied now and then */
	bool migrate;		/* move_pages() is applied now and then */
	bool check;		/* content verified (not R_BIG) */
	bool swapped;		/* kept mostly swapped out */
};

static struct region R[NR_REGIONS];
static bool thp_state(void);

/* Argument scratch: S0 RW, S1 RO, S2 unmapped, S3 RW, S4 unmapped. */
static char *S;
/* Record buffers, each followed by an unmapped page. */
static char *rbuf, *obuf;
#define RBUF_LEN	(REC_CAP * REC_SZ)
#define RBUF_MAP	((RBUF_LEN + PG - 1) / PG * PG)

static int dev;
static bool tlb_flush;
static int nr_nodes;
static int pagemap_fd = -1;
static int uffd = -1;
static pid_t child = -1;
static int child_pipe = -1;
static bool split_mid_ro = true;	/* R_SPLIT's middle is PROT_READ */
static uint64_t seed;
static char fail_buf[512];

/* Where the pattern of a page comes from; PG_ZERO pages read as zero. */
static uint64_t page_word(int r, size_t page, size_t w)
{
	uint64_t h = seed ^ ((uint64_t)(r + 1) << 48) ^ (page * 0xff51afd7ed558ccdULL);

	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (w * 0x9e3779b97f4a7c15ULL);
}

static void fill_page(int r, size_t page)
{
	uint64_t *q = (uint64_t *)(R[r].p + page * PG);
	size_t w;

	for (w = 0; w < PG / 8; w++)
		q[w] = page_word(r, page, w);
	R[r].state[page] = PG_PATTERN;
}

/* Whether page `page` of region r holds what it should; if not, why into fail_buf. */
static bool page_ok(int r, size_t page)
{
	const volatile uint64_t *q = (const volatile uint64_t *)(R[r].p + page * PG);
	size_t w;

	for (w = 0; w < PG / 8; w++) {
		uint64_t want = R[r].state[page] == PG_ZERO ? 0 : page_word(r, page, w);
		uint64_t got = q[w];

		if (got != want) {
			snprintf(fail_buf, sizeof(fail_buf),
				 "canary: region %s page %zu word %zu: %#" PRIx64 ", want %#" PRIx64,
				 R[r].name, page, w, got, want);
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* The address-space model: /proc/self/maps.                            */

struct vma {
	uintptr_t start, end;
	bool r, w;
	bool special;	/* [vdso], [vvar]...: not modelled, never a target */
	bool thp;	/* has a PMD-mapped THP (AnonHugePages), when last looked */
};

#define MAX_VMAS 1024
static struct vma vmas[MAX_VMAS];
static int nr_vmas;
/* read_smaps() again before the next use (read_maps() forgets the THP state). */
static bool smaps_stale = true;

static void read_maps(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	nr_vmas = 0;
	smaps_stale = true;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && nr_vmas < MAX_VMAS) {
		unsigned long s, e;
		char perms[8], *name;

		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3)
			continue;
		if (s >= (1UL << 47))
			continue;	/* [vsyscall]: no VMA of this mm */
		name = strchr(line, '[');
		vmas[nr_vmas++] = (struct vma){
			.start = s, .end = e, .r = perms[0] == 'r', .w = perms[1] == 'w',
			.special = name && strncmp(name, "[heap]", 6) && strncmp(name, "[stack]", 7),
		};
	}
	fclose(f);
}

/* /proc/self/maps, with each VMA's THP state from /proc/self/smaps. */
static void read_smaps(void)
{
	char line[512];
	struct vma *v = NULL;
	unsigned long kb;
	FILE *f;
	int i;

	read_maps();
	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {
			v = NULL;
			for (i = 0; i < nr_vmas; i++)
				if (vmas[i].start == s)
					v = &vmas[i];
		} else if (v && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) {
			v->thp = kb > 0;
		}
	}
	fclose(f);
}

static const struct vma *vma_at(uint64_t addr)
{
	int i;

	for (i = 0; i < nr_vmas; i++)
		if (vmas[i].start <= addr && addr < vmas[i].end)
			return &vmas[i];
	return NULL;
}

static int region_at(uint64_t addr)
{
	int r;

	for (r = 0; r < NR_REGIONS; r++)
		if ((uintptr_t)R[r].p <= addr && addr < (uintptr_t)R[r].p + R[r].npages * PG)
			return r;
	return -1;
}

/* Access of the page at a: 0 none, 1 read, 2 read-write, as this process sees it. */
static int access_at(uint64_t a)
{
	const struct vma *v;
	uint64_t s = (uintptr_t)S;

	if (a >= (1ULL << 47) - PG)
		return 0;
	if (a >= s && a < s + 5 * PG) {
		static const int acc[5] = { 2, 1, 0, 2, 0 };

		return acc[(a - s) / PG];
	}
	if ((a >= (uintptr_t)rbuf && a < (uintptr_t)rbuf + RBUF_MAP) ||
	    (a >= (uintptr_t)obuf && a < (uintptr_t)obuf + RBUF_MAP))
		return 2;
	if ((a >= (uintptr_t)rbuf + RBUF_MAP && a < (uintptr_t)rbuf + RBUF_MAP + PG) ||
	    (a >= (uintptr_t)obuf + RBUF_MAP && a < (uintptr_t)obuf + RBUF_MAP + PG))
		return 0;
	v = vma_at(a);
	if (!v || !v->r)
		return 0;
	return v->w ? 2 : 1;
}

/* Whether [p, p + n) is all readable (want 1) or writable (want 2) by copy_{from,to}_user. */
static bool accessible(uint64_t p, uint64_t n, int want)
{
	uint64_t a;

	if (p + n < p || p + n > (1ULL << 47) - PG)
		return false;
	for (a = p & ~(PG - 1); a < p + n; a += PG)
		if (access_at(a) < want)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Calls.                                                               */

enum kind { K_INFO, K_READ, K_RT, K_EVAL, K_STATS, K_PMD_STATS, K_BAD, NR_KINDS };
static const char *const kind_name[NR_KINDS] = {
	"INFO", "READ_PTE", "ROUNDTRIP", "EVALUATE", "STATS", "PMD_STATS", "other",
};
static const unsigned long kind_cmd[K_BAD] = {
	MIGENTRY_IOC_INFO, MIGENTRY_IOC_READ_PTE, MIGENTRY_IOC_ROUNDTRIP,
	MIGENTRY_IOC_EVALUATE, MIGENTRY_IOC_STATS, MIGENTRY_IOC_PMD_STATS,
};
static const size_t kind_size[K_BAD] = {
	sizeof(struct migentry_info), sizeof(struct migentry_range), sizeof(struct migentry_range),
	sizeof(struct migentry_range), sizeof(struct migentry_stats),
	sizeof(struct migentry_pmd_stats),
};

enum argmode { A_OK, A_NULL, A_LOW, A_UNMAPPED, A_KERNEL, A_NONCANON, A_PROTNONE, A_RO,
	       A_RW_RO, A_RO_UNMAPPED, A_RW_UNMAPPED, NR_AMODES };
static const char *const amode_name[NR_AMODES] = {
	"ok", "NULL", "low", "unmapped", "kernel", "non-canonical", "PROT_NONE", "read-only",
	"rw|ro", "ro|unmapped", "rw|unmapped",
};
enum recmode { P_OK, P_MISALIGNED, P_NULL, P_UNMAPPED, P_KERNEL, P_NONCANON, P_RO,
	       P_PROTNONE, P_SHORT, NR_PMODES };
static const char *const pmode_name[NR_PMODES] = {
	"ok", "misaligned", "NULL", "unmapped", "kernel", "non-canonical", "read-only",
	"PROT_NONE", "too short",
};

struct call {
	enum kind kind;
	unsigned long cmd;
	enum argmode amode;
	enum recmode pmode;
	uint64_t argp;
	size_t argbytes;	/* bytes of the argument this process wrote */
	const char *range_desc;
	int region;		/* region of addr, or -1 */
	union {
		struct migentry_range r;
		struct migentry_info info;
		struct migentry_stats stats;
		struct migentry_pmd_stats pmd_stats;
		uint64_t words[32];
	} a;
};

enum step {
	ST_CMD, ST_SIZE_READ, ST_SIZE, ST_READ, ST_FLAGS, ST_ALIGN, ST_OVERFLOW, ST_PAGES,
	ST_NRREC, ST_CLAIM, ST_NOVMA, ST_UFFD, ST_VMA_END, ST_VMA_KIND, ST_PMD, ST_WALK,
	ST_WRITEBACK, ST_DONE,
};

/* Unknown command numbers: around the magic, another direction, size or number. */
static unsigned long bad_cmd(void)
{
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };
	unsigned long c;
	unsigned int k;

	do {
		switch (rn(4)) {
		case 0:	/* a valid number with another size */
			k = rn(K_BAD);
			c = _IOC(_IOC_READ | _IOC_WRITE, MIGENTRY_IOC_MAGIC, _IOC_NR(kind_cmd[k]),
				 rn(2) ? kind_size[k] + (rn(2) ? 8 : -8) : rn(1 << _IOC_SIZEBITS));
			break;
		case 1:	/* a valid number with another direction */
			k = rn(K_BAD);
			c = _IOC(dirs[rn(4)], MIGENTRY_IOC_MAGIC, _IOC_NR(kind_cmd[k]), kind_size[k]);
			break;
		case 2:	/* another number in the magic */
			c = _IOC(dirs[rn(4)], MIGENTRY_IOC_MAGIC, 6 + rn(250),
				 rn(2) ? sizeof(struct migentry_range) : rn(1 << _IOC_SIZEBITS));
			break;
		default: /* a neighbouring magic, or anything not the VFS's own */
			if (rn(2)) {
				c = _IOC(dirs[rn(4)], MIGENTRY_IOC_MAGIC + (rn(2) ? 1 : -1), rn(8),
					 sizeof(struct migentry_range));
			} else {
				c = (uint32_t)rnd();
				/* do_vfs_ioctl() answers 'T', 'X', 'f', 0x94, 0x15 and 0. */
				switch (_IOC_TYPE(c)) {
				case 'T': case 'X': case 'f': case 0x94: case 0x15: case 0:
					c = 0;
				}
			}
		}
		for (k = 0; k < K_BAD; k++)
			if (c == kind_cmd[k])
				c = 0;
	} while (!c);
	return c;
}

static uint64_t odd_size(size_t want)
{
	static const uint64_t sizes[] = { 0, 1, 8, 31, 32, 63, 64, 65, 72, 152, 160, 4096,
					  ~0ULL, 1ULL << 32 };
	uint64_t s;

	do
		s = rn(4) ? sizes[rn(sizeof(sizes) / sizeof(sizes[0]))] : rnd();
	while (s == want);
	return s;
}

static int pick_region(void)
{
	if (pm(15))
		return R_BIG;
	return rn(R_BIG);
}

/* VMAs of region r, from the model: their count, and the i-th in *v. */
static int region_vmas(int r, const struct vma **v, int want)
{
	uintptr_t s = (uintptr_t)R[r].p, e = s + R[r].npages * PG;
	int i, n = 0;

	for (i = 0; i < nr_vmas; i++) {
		if (vmas[i].end <= s || vmas[i].start >= e)
			continue;
		if (n++ == want && v)
			*v = &vmas[i];
	}
	return n;
}

static void gen_range(struct call *c, enum kind kind)
{
	struct migentry_range *a = &c->a.r;
	const struct vma *v = NULL;
	uint64_t pages, room;
	int r, n, mode = rn(1000);

	a->flags = 0;
	/* mostly valid: a range inside one VMA of a region */
	if (mode < 700 || (kind == K_RT && mode >= 960)) {
		r = pick_region();
		n = region_vmas(r, NULL, 0);
		region_vmas(r, &v, rn(n));
		if (!v) {
			r = R_PRIV;
			region_vmas(r, &v, 0);
		}
		room = (v->end - v->start) / PG;
		a->addr = v->start + rn(room) * PG;
		room = (v->end - a->addr) / PG;
		switch (rn(10)) {
		case 0:
			/* the rest of the VMA; in R_BIG, at most 512 pages but for below */
			pages = r == R_BIG ? 1 + rn(512) : room;
			break;
		case 1: case 2: case 3:
			pages = 1 + rn(64);
			break;
		default:
			pages = 1 + rn(8);
		}
		if (pages > room)
			pages = room;
		if (r == R_BIG && pm(50)) {
			a->addr = v->start;
			pages = room;	/* MIGENTRY_MAX_PAGES */
		}
		/* The whole THP now and then: the round trips take it only whole. */
		if (r == R_THP && pm(300)) {
			a->addr = v->start;
			pages = (v->end - v->start) / PG;
		}
		a->len = pages * PG;
		c->range_desc = "inside a VMA";
	} else if (mode < 780) {
		/* from a VMA across its end: into the next VMA or a hole */
		r = pick_region();
		n = region_vmas(r, NULL, 0);
		region_vmas(r, &v, rn(n));
		if (!v) {
			r = R_PRIV;
			region_vmas(r, &v, 0);
		}
		a->addr = v->end - (1 + rn(4)) * PG;
		if (a->addr < v->start)
			a->addr = v->start;
		a->len = v->end - a->addr + (1 + rn(8)) * PG;
		c->range_desc = "across a VMA's end";
	} else if (mode < 830) {
		/* starting in a hole: each region has one right below it */
		r = rn(R_BIG);
		a->addr = (uintptr_t)R[r].p - PG;
		a->len = (1 + rn(4)) * PG;
		c->range_desc = "in a hole";
	} else if (mode < 870) {
		r = pick_region();
		a->addr = (uintptr_t)R[r].p + rn(R[r].npages) * PG;
		a->len = (1 + rn(4)) * PG;
		if (rn(2))
			a->addr += 1 + rn(PG - 1);
		else
			a->len += rn(2) ? 1 + rn(PG - 1) : -(1 + rn(PG - 1));
		c->range_desc = "unaligned";
	} else if (mode < 890) {
		r = pick_region();
		a->addr = (uintptr_t)R[r].p + rn(R[r].npages) * PG;
		a->len = 0;
		c->range_desc = "empty";
	} else if (mode < 930) {
		r = pick_region();
		a->addr = (uintptr_t)R[r].p + rn(R[r].npages) * PG;
		switch (rn(5)) {
		case 0:
			a->len = (uint64_t)(MIGENTRY_MAX_PAGES + 1 + rn(4)) * PG;
			break;
		case 1:
			a->len = (uint64_t)MIGENTRY_MAX_PAGES * PG;
			break;
		case 2:
			a->len = ~0ULL & ~(PG - 1);
			break;
		case 3:
			a->len = -a->addr;	/* addr + len == 2^64 */
			break;
		default:
			a->len = rnd() & ~(PG - 1);
		}
		c->range_desc = "huge";
	} else if (mode < 960) {
		static const uint64_t hostile[] = {
			0, PG, 0x7ffffffff000ULL, 0x800000000000ULL, 0xffff800000000000ULL,
			0xffff888000000000ULL, 0xffffffffff600000ULL, 0xfffffffffffff000ULL,
		};
		a->addr = hostile[rn(sizeof(hostile) / sizeof(hostile[0]))];
		a->len = (1 + rn(2)) * PG;
		c->range_desc = "hostile address";
	} else {
		/* READ_PTE and EVALUATE over memory outside the regions (text, stack...) */
		int cand[MAX_VMAS], nc = 0, i;

		if (smaps_stale) {
			read_smaps();
			smaps_stale = false;
		}
		for (i = 0; i < nr_vmas; i++)
			if (!vmas[i].special && !vmas[i].thp && region_at(vmas[i].start) < 0)
				cand[nc++] = i;
		i = cand[rn(nc)];	/* the stack at least */
		a->addr = vmas[i].start;
		room = (vmas[i].end - vmas[i].start) / PG;
		pages = 1 + rn(room < 16 ? room : 16);
		a->addr += rn(room - pages + 1) * PG;
		a->len = pages * PG;
		c->range_desc = "outside the regions";
	}
	c->region = region_at(a->addr);

	/* flags */
	if (kind == K_READ) {
		if (pm(100))
			a->flags = rn(2) ? 1ULL << rn(64) : rnd();
	} else {
		if (pm(600))
			a->flags |= MIGENTRY_RT_CLEAR_SOFT_DIRTY * rn(2) | MIGENTRY_RT_WRPROTECT * rn(2);
		if (c->region >= 0 && R[c->region].uffd ? pm(600) : pm(60))
			a->flags |= MIGENTRY_RT_UFFD_WP;
		if (pm(60))
			a->flags |= 1ULL << (3 + rn(61));
	}
}

/* The records pointer, for a call on `pages` pages. */
static void gen_records(struct call *c, uint64_t pages)
{
	struct migentry_range *a = &c->a.r;
	int m = pm(880) ? P_OK : rn(NR_PMODES);
	uint64_t k;

	c->pmode = m;
	switch (m) {
	case P_OK:
		a->records = (uintptr_t)rbuf;
		break;
	case P_MISALIGNED:
		a->records = (uintptr_t)rbuf + 1 + rn(REC_SZ - 1);
		break;
	case P_NULL:
		a->records = 0;
		break;
	case P_UNMAPPED:
		a->records = (uintptr_t)rbuf + RBUF_MAP;
		break;
	case P_KERNEL:
		a->records = 0xffff888000000000ULL + rn(1 << 20) * PG;
		break;
	case P_NONCANON:
		a->records = 0x0000800000000000ULL + rn(1 << 20) * PG;
		break;
	case P_RO:
		a->records = (uintptr_t)R[R_RO].p;
		break;
	case P_PROTNONE:
		a->records = (uintptr_t)R[R_PROTNONE].p;
		break;
	case P_SHORT:
		/* k < pages records fit before the unmapped page */
		k = pages && pages <= REC_CAP ? rn(pages) : 0;
		a->records = (uintptr_t)rbuf + RBUF_MAP - k * REC_SZ;
		break;
	}
	switch (pm(900) ? 0 : rn(5)) {
	case 0:
		a->nr_records = pages + (pm(100) ? rn(100) : 0);
		break;
	case 1:
		a->nr_records = pages ? pages - 1 : 0;
		break;
	case 2:
		a->nr_records = 0;
		break;
	case 3:
		a->nr_records = ~0ULL;
		break;
	default:
		a->nr_records = rnd() >> rn(64);
	}
}

static void gen_arg(struct call *c)
{
	uint64_t s = (uintptr_t)S, k;
	size_t n = c->kind < K_BAD ? kind_size[c->kind] : sizeof(struct migentry_range);

	c->amode = pm(880) ? A_OK : rn(NR_AMODES);
	/* Straddles split the struct at a random 4-byte boundary, sometimes inside size. */
	k = 4 * (1 + rn(n / 4 - 1));
	switch (c->amode) {
	case A_OK:
		c->argp = s;
		break;
	case A_NULL:
		c->argp = 0;
		break;
	case A_LOW:
		c->argp = 1 + rn(PG);
		break;
	case A_UNMAPPED:
		c->argp = s + 2 * PG + rn(PG / 8) * 8;
		break;
	case A_KERNEL:
		c->argp = 0xffff888000000000ULL + rn(1 << 20) * 8;
		break;
	case A_NONCANON:
		c->argp = 0x0000800000000000ULL - (rn(2) ? 8 : 0);
		break;
	case A_PROTNONE:
		c->argp = (uintptr_t)R[R_PROTNONE].p;
		break;
	case A_RO:
		c->argp = s + PG + rn(PG / 8 - n / 8) * 8;
		break;
	case A_RW_RO:
		c->argp = s + PG - k;
		break;
	case A_RO_UNMAPPED:
		c->argp = s + 2 * PG - k;
		break;
	case A_RW_UNMAPPED:
		c->argp = s + 4 * PG - k;
		break;
	default:
		c->argp = s;
	}
}

static struct call gen_call(void)
{
	struct call c;
	unsigned int w = rn(1000);

	memset(&c, 0, sizeof(c));
	c.region = -1;
	if (w < 40)
		c.kind = K_INFO;
	else if (w < 60)
		c.kind = K_STATS;
	else if (w < 80)
		c.kind = K_PMD_STATS;
	else if (w < 330)
		c.kind = K_READ;
	else if (w < 580)
		c.kind = K_EVAL;
	else if (w < 880)
		c.kind = K_RT;
	else
		c.kind = K_BAD;
	c.cmd = c.kind == K_BAD ? bad_cmd() : kind_cmd[c.kind];
	gen_arg(&c);
	if (c.kind == K_INFO || c.kind == K_STATS || c.kind == K_PMD_STATS) {
		size_t i;

		for (i = 0; i < sizeof(c.a.words) / 8; i++)
			c.a.words[i] = ME_SENTINEL;
		c.a.words[0] = pm(900) ? kind_size[c.kind] : odd_size(kind_size[c.kind]);
		return c;
	}
	/* A range call; an unknown command gets a range argument too. */
	gen_range(&c, c.kind == K_BAD ? K_READ : c.kind);
	c.a.r.size = pm(920) ? sizeof(c.a.r) : odd_size(sizeof(c.a.r));
	gen_records(&c, c.a.r.len / PG);
	c.a.r.nr_done = ME_SENTINEL;
	c.a.r.vma_flags = ME_SENTINEL;
	return c;
}

/*
 * The step at which the call must stop, and with which errno (0: success).
 * *alt_enomem: ENOMEM is acceptable too (an allocation may fail from there on).
 */
static enum step model(const struct call *c, int *err, bool *alt_enomem)
{
	size_t n;
	const struct migentry_range *a = &c->a.r;
	const struct vma *v;
	uint64_t pages, known;
	int r;

	*alt_enomem = false;
	*err = ENOTTY;
	if (c->kind == K_BAD)
		return ST_CMD;
	n = kind_size[c->kind];
	*err = EFAULT;
	if (!accessible(c->argp, 8, 1))
		return ST_SIZE_READ;
	*err = EINVAL;
	if (c->a.words[0] != n)
		return ST_SIZE;
	*err = EFAULT;
	if (!accessible(c->argp, n, 1))
		return ST_READ;
	if (c->kind == K_INFO || c->kind == K_STATS || c->kind == K_PMD_STATS) {
		if (!accessible(c->argp, n, 2))
			return ST_WRITEBACK;
		*err = 0;
		return ST_DONE;
	}
	*err = EINVAL;
	known = c->kind == K_READ ? 0 : MIGENTRY_RT_CLEAR_SOFT_DIRTY | MIGENTRY_RT_WRPROTECT |
					 MIGENTRY_RT_UFFD_WP;
	if (a->flags & ~known)
		return ST_FLAGS;
	if (!a->len || a->addr % PG || a->len % PG)
		return ST_ALIGN;
	if (a->addr + a->len < a->addr)
		return ST_OVERFLOW;
	pages = a->len / PG;
	*err = E2BIG;
	if (pages > MIGENTRY_MAX_PAGES)
		return ST_PAGES;
	*err = ENOSPC;
	if (a->nr_records < pages)
		return ST_NRREC;
	*alt_enomem = true;
	/*
	 * Before any page is looked at, the outputs are proven writable: the
	 * struct's nr_done and vma_flags, and the records the range fills.
	 */
	*err = EFAULT;
	if (!accessible(c->argp + offsetof(struct migentry_range, nr_done), 16, 2) ||
	    !accessible(a->records, pages * REC_SZ, 2))
		return ST_CLAIM;
	v = vma_at(a->addr);
	if (!v)
		return ST_NOVMA;
	r = region_at(a->addr);
	*err = EINVAL;
	if (c->kind != K_READ && (a->flags & MIGENTRY_RT_UFFD_WP) && !(r >= 0 && R[r].uffd))
		return ST_UFFD;
	if (a->addr + a->len > v->end)
		return ST_VMA_END;
	*err = EOPNOTSUPP;
	if (r >= 0 && R[r].hugetlb)
		return ST_VMA_KIND;
	/*
	 * READ_PTE reports a PMD-mapped THP (MIGENTRY_PTE_PMD) page by page; the
	 * round trips take it whole (R_THP is one THP and one VMA): ERANGE for
	 * a range over part of it.
	 */
	*err = ERANGE;
	if (r >= 0 && R[r].pmd && c->kind != K_READ &&
	    (a->addr != (uintptr_t)R[r].p || a->len != HUGE_SZ))
		return ST_PMD;
	/* The walk: ROUNDTRIP without a TLB flush is decided by the caller (EVALUATE). */
	*err = 0;
	return ST_DONE;
}

/* ------------------------------------------------------------------ */
/* Counters.                                                            */

static const int errnos[] = { 0, ENOTTY, EINVAL, EFAULT, E2BIG, ENOSPC, EOPNOTSUPP, ENOMEM,
			      EIO, ERANGE };
#define NR_ERRNOS (sizeof(errnos) / sizeof(errnos[0]))
static const char *const errno_name[NR_ERRNOS + 1] = {
	"ok", "ENOTTY", "EINVAL", "EFAULT", "E2BIG", "ENOSPC", "EOPNOTSUPP", "ENOMEM", "EIO",
	"ERANGE", "other",
};

static struct {
	uint64_t calls[NR_KINDS][NR_ERRNOS + 1];
	uint64_t unexpected, canary, record, oracle_calls, readbacks, mutations;
	uint64_t status[4], entry_kind[11], refused[4], vma_walks[NR_REGIONS];
	uint64_t typed_writable, typed_uffd, rights_refused;
	uint64_t writeback_after_efault[NR_KINDS];	/* issue 13, defect 2 */
	uint64_t thp_changed, thp_raced, swapped_pages;
	unsigned int reports;
} st;

static unsigned int errno_col(int err)
{
	unsigned int i;

	for (i = 0; i < NR_ERRNOS; i++)
		if (errnos[i] == err)
			return i;
	return NR_ERRNOS;
}

static uint64_t iter;
static uint64_t trace_from = ~0ULL;
/* Where the time goes: preparing calls, the calls, checking them, changing state, full checks. */
static double t_prep, t_ioctl, t_check, t_mutate, t_verify;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void describe(const struct call *c, char *buf, size_t n)
{
	if (c->kind == K_INFO || c->kind == K_STATS || c->kind == K_PMD_STATS ||
	    (c->kind == K_BAD && !c->range_desc)) {
		snprintf(buf, n, "%s cmd %#lx arg %s %#" PRIx64 " size %" PRIu64,
			 kind_name[c->kind], c->cmd, amode_name[c->amode], c->argp,
			 (uint64_t)c->a.words[0]);
		return;
	}
	snprintf(buf, n,
		 "%s cmd %#lx arg %s %#" PRIx64 " size %" PRIu64 " addr %#llx len %#llx (%s, region %s) flags %#llx records %s %#llx nr_records %llu",
		 kind_name[c->kind], c->cmd, amode_name[c->amode], c->argp,
		 (uint64_t)c->a.r.size, (unsigned long long)c->a.r.addr,
		 (unsigned long long)c->a.r.len, c->range_desc,
		 c->region >= 0 ? R[c->region].name : "-", (unsigned long long)c->a.r.flags,
		 pmode_name[c->pmode], (unsigned long long)c->a.r.records,
		 (unsigned long long)c->a.r.nr_records);
}

static void report(const struct call *c, const char *what)
{
	char d[512];

	if (st.reports++ >= MAX_REPORTS)
		return;
	describe(c, d, sizeof(d));
	printf("# fuzz: UNEXPECTED at seed %#" PRIx64 " iteration %" PRIu64 ": %s\n#   call: %s\n",
	       seed, iter, what, d);
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Checks.                                                              */

static struct migentry_record rec_at(uint64_t base, size_t i)
{
	struct migentry_record r;

	memcpy(&r, (const char *)(uintptr_t)base + i * REC_SZ, sizeof(r));
	return r;
}

static bool zero_state(const struct migentry_pte_state *s)
{
	return !s->raw && !s->pfn && !s->kind && !s->flags;
}

/* The ABI's promises on the records of a successful call; false (why in buf) if one fails. */
static bool records_ok(const struct call *c, uint64_t base, uint64_t vma_flags, char *buf,
		       size_t n)
{
	const struct migentry_range *a = &c->a.r;
	uint64_t pages = a->len / PG, i;
	unsigned int p;

	for (i = 0; i < pages; i++) {
		struct migentry_record r = rec_at(base, i);
		const struct migentry_pte_state *t = &r.after[MIGENTRY_POLICY_TYPED];
		bool done = r.status == MIGENTRY_REC_DONE;

#define BAD(fmt, ...) do { snprintf(buf, n, "record %" PRIu64 ": " fmt, i, ##__VA_ARGS__); return false; } while (0)
		if (r.addr != a->addr + i * PG)
			BAD("addr %#llx", (unsigned long long)r.addr);
		if (r.status > MIGENTRY_REC_SPECIAL)
			BAD("status %u", r.status);
		if (r.before.kind > MIGENTRY_LEAF_MARKER || r.before.flags & ~0x1ffu)
			BAD("before kind %u flags %#x", r.before.kind, r.before.flags);
		if ((r.before.flags & MIGENTRY_PTE_PMD) && r.before.kind != MIGENTRY_LEAF_PRESENT)
			BAD("PMD flag with kind %u", r.before.kind);
		if ((r.status == MIGENTRY_REC_NONE) != (r.before.kind == MIGENTRY_LEAF_NONE))
			BAD("status %u with kind %u", r.status, r.before.kind);
		if ((r.status == MIGENTRY_REC_DONE || r.status == MIGENTRY_REC_SPECIAL) !=
		    (r.before.kind == MIGENTRY_LEAF_PRESENT))
			BAD("status %u with kind %u", r.status, r.before.kind);
		if (r.before.kind == MIGENTRY_LEAF_PRESENT &&
		    (!(r.before.flags & MIGENTRY_PTE_PRESENT) || !r.before.raw || !r.before.pfn))
			BAD("present without PRESENT, raw or pfn (flags %#x raw %#llx pfn %#llx)",
			    r.before.flags, (unsigned long long)r.before.raw,
			    (unsigned long long)r.before.pfn);
		st.status[r.status]++;
		if (c->kind == K_READ || !done) {
			if (r.refused || !zero_state(&r.entry))
				BAD("status %u but entry/refused filled", r.status);
			for (p = 0; p < MIGENTRY_NR_POLICIES; p++)
				if (!zero_state(&r.after[p]))
					BAD("status %u but after[%u] filled", r.status, p);
			continue;
		}
		/* A page the round trip ran on (or would run on). */
		if (r.entry.kind < MIGENTRY_LEAF_MIGRATION_READ ||
		    r.entry.kind > MIGENTRY_LEAF_MIGRATION_WRITE)
			BAD("entry kind %u", r.entry.kind);
		st.entry_kind[r.entry.kind]++;
		if (r.refused > MIGENTRY_NOGRANT_SOFT_DIRTY)
			BAD("refused %u", r.refused);
		st.refused[r.refused]++;
		if (r.refused && r.entry.kind != MIGENTRY_LEAF_MIGRATION_WRITE)
			BAD("refused %u for entry kind %u", r.refused, r.entry.kind);
		for (p = 0; p < MIGENTRY_NR_POLICIES; p++) {
			/* A PMD has only 7.3's reference: the older ones are left zero. */
			bool none = (r.before.flags & MIGENTRY_PTE_PMD) &&
				    p != MIGENTRY_POLICY_TYPED && p != MIGENTRY_POLICY_UPSTREAM;

			if (none ? r.after[p].kind != MIGENTRY_LEAF_NONE || r.after[p].flags :
				   r.after[p].kind != MIGENTRY_LEAF_PRESENT ||
				   !(r.after[p].flags & MIGENTRY_PTE_PRESENT))
				BAD("after[%u] kind %u flags %#x", p, r.after[p].kind,
				    r.after[p].flags);
		}
		if (r.after[MIGENTRY_POLICY_TYPED].pfn != r.before.pfn)
			BAD("restored onto pfn %#llx, was %#llx", (unsigned long long)t->pfn,
			    (unsigned long long)r.before.pfn);
		/* The type rules. */
		if (t->flags & MIGENTRY_PTE_WRITE) {
			st.typed_writable++;
			if (r.entry.kind != MIGENTRY_LEAF_MIGRATION_WRITE || r.refused)
				BAD("writable from entry kind %u refused %u", r.entry.kind, r.refused);
			if (t->flags & MIGENTRY_PTE_UFFD)
				BAD("writable and uffd-wp");
			if (r.entry.flags & MIGENTRY_PTE_UFFD)
				BAD("writable from a uffd entry");
			if (!(vma_flags & MIGENTRY_VMA_WRITE))
				BAD("writable in a VMA without VM_WRITE");
			/*
			 * A PMD restored soft-dirty (pmd_mkdirty() sets it on x86)
			 * already reads as written: no fault is pending then.
			 */
			if ((vma_flags & MIGENTRY_VMA_SD_TRACKING) &&
			    !(r.entry.flags & MIGENTRY_PTE_SOFT_DIRTY) &&
			    !((r.before.flags & MIGENTRY_PTE_PMD) &&
			      (t->flags & MIGENTRY_PTE_SOFT_DIRTY)))
				BAD("writable with a soft-dirty fault pending");
			if (a->flags & (MIGENTRY_RT_WRPROTECT | MIGENTRY_RT_UFFD_WP))
				BAD("writable after flags %#llx", (unsigned long long)a->flags);
		}
		if (t->flags & MIGENTRY_PTE_UFFD)
			st.typed_uffd++;
		if ((a->flags & MIGENTRY_RT_UFFD_WP) &&
		    (!(r.entry.flags & MIGENTRY_PTE_UFFD) || !(t->flags & MIGENTRY_PTE_UFFD)))
			BAD("RT_UFFD_WP without the uffd bit (entry %#x, typed %#x)", r.entry.flags,
			    t->flags);
		if ((a->flags & MIGENTRY_RT_CLEAR_SOFT_DIRTY) &&
		    (r.entry.flags & MIGENTRY_PTE_SOFT_DIRTY))
			BAD("RT_CLEAR_SOFT_DIRTY left the entry soft-dirty");
#undef BAD
	}
	return true;
}

/* Whether page i of region r is mapped now (pagemap), without touching it. */
static bool page_present(int r, size_t i)
{
	uint64_t ent = 0;

	if (pread(pagemap_fd, &ent, 8, (off_t)((uintptr_t)R[r].p / PG + i) * 8) != 8)
		return true;
	return ent & PM_PRESENT;
}

/* Check pages [first, first + n) of region r; `all`: also unmapped and PROT_NONE ones. */
static bool verify_pages(int r, size_t first, size_t n, bool all)
{
	size_t i;
	bool ok = true;

	if (!R[r].check)
		return true;
	if (R[r].protnone) {
		if (!all)
			return true;
		if (mprotect(R[r].p, R[r].npages * PG, PROT_READ))
			return false;
	}
	for (i = first; i < first + n && i < R[r].npages; i++) {
		if (!all && R[r].swapped && !page_present(r, i))
			continue;	/* keep it swapped out; the module left it alone */
		if (!page_ok(r, i)) {
			ok = false;
			break;
		}
	}
	if (R[r].protnone)
		mprotect(R[r].p, R[r].npages * PG, PROT_NONE);
	return ok;
}

static void page_out(int r)
{
	if (madvise(R[r].p, R[r].npages * PG, MADV_PAGEOUT) == 0 && R[r].swapped) {
		size_t i;

		for (i = 0; i < R[r].npages; i++)
			st.swapped_pages += !page_present(r, i);
	}
}

/* ------------------------------------------------------------------ */
/* Setup.                                                               */

static int uffd_setup(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
	};
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || ioctl(fd, UFFDIO_API, &api))
		return -1;
	return fd;
}

static int uffd_wp_range(void *p, size_t len, bool on)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
}

static bool smaps_thp(void *addr)
{
	char line[256];
	bool in = false, thp = false;
	unsigned long start, end, kb;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start <= (uintptr_t)addr && (uintptr_t)addr < end;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			thp = kb >= 2048;
	}
	fclose(f);
	return thp;
}

/*
 * Whether R_THP is PMD-mapped now. move_pages() may have split it (when the
 * other node had no free huge page), and so does a write while a child
 * shares it; it is collapsed again then, so that most calls see it
 * PMD-mapped. The model takes the state from here, after each of those and
 * each full check; should the kernel split or collapse it at another time,
 * a mismatch on R_THP is looked at again (one_call()).
 */
static bool thp_state(void)
{
	if (smaps_thp(R[R_THP].p))
		return true;
	st.thp_changed++;
	madvise(R[R_THP].p, HUGE_SZ, MADV_COLLAPSE);
	return smaps_thp(R[R_THP].p);
}

static bool enough_hugepages(void)
{
	char line[128];
	long total = -1, nr_free = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Total: %ld", &total);
		sscanf(line, "HugePages_Free: %ld", &nr_free);
	}
	fclose(f);
	if (nr_free < 1 && total >= 0) {
		int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY | O_CLOEXEC);
		char n[32];
		int len = snprintf(n, sizeof(n), "%ld", total + 1);

		if (fd < 0)
			return false;
		if (write(fd, n, len) != len) {
			close(fd);
			return false;
		}
		close(fd);
	}
	return true;
}

static void *map_fixed(void *at, size_t len, int prot, int flags, int fd)
{
	return mmap(at, len, prot, flags | MAP_FIXED, fd, 0);
}

/* Sets up every region; NULL or what failed. */
static const char *setup(void)
{
	static const struct { const char *name; size_t npages; bool aligned; } layout[NR_REGIONS] = {
		[R_PRIV] = { "private-anon", 64 },
		[R_SHARED] = { "shared-anon", 32 },
		[R_MEMFD] = { "memfd", 32 },
		[R_TMPFS] = { "tmpfs-private", 32 },
		[R_UFFD_ANON] = { "uffd-wp-anon", 32 },
		[R_UFFD_MEMFD] = { "uffd-wp-memfd", 16 },
		[R_PROTNONE] = { "prot-none", 16 },
		[R_MLOCK] = { "mlocked", 16 },
		[R_SWAP_ANON] = { "swapped-anon", 32 },
		[R_SWAP_SHMEM] = { "swapped-shmem", 16 },
		[R_THP] = { "thp", 512, true },
		[R_THP_PTE] = { "thp-pte-mapped", 512, true },
		[R_HUGETLB] = { "hugetlb", 512, true },
		[R_RO] = { "read-only", 16 },
		[R_ZERO] = { "zeropage", 16 },
		[R_SPLIT] = { "split-vmas", 24 },
		[R_BIG] = { "big-unpopulated", MIGENTRY_MAX_PAGES },
	};
	size_t arena_len = 16UL << 20, off = 0, i;
	char *arena;
	int r, fd;

	for (r = 0; r < NR_REGIONS; r++) {
		R[r].name = layout[r].name;
		R[r].npages = layout[r].npages;
		R[r].state = calloc(R[r].npages, 1);
		R[r].check = r != R_BIG;
		if (!R[r].state)
			return "calloc";
	}

	/* Everything else first, so that nothing lands in the arena's holes later. */
	S = mmap(NULL, 5 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (S == MAP_FAILED)
		return "mmap (scratch)";
	memset(S, 0, 5 * PG);
	munmap(S + 2 * PG, PG);
	munmap(S + 4 * PG, PG);
	if (mprotect(S + PG, PG, PROT_READ))
		return "mprotect (scratch)";
	rbuf = mmap(NULL, RBUF_MAP + PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	obuf = mmap(NULL, RBUF_MAP + PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rbuf == MAP_FAILED || obuf == MAP_FAILED)
		return "mmap (records)";
	munmap(rbuf + RBUF_MAP, PG);
	munmap(obuf + RBUF_MAP, PG);
	/* READ_PTE over them must not meet a PMD-mapped THP */
	madvise(rbuf, RBUF_MAP, MADV_NOHUGEPAGE);
	madvise(obuf, RBUF_MAP, MADV_NOHUGEPAGE);
	R[R_BIG].p = mmap(NULL, R[R_BIG].npages * PG, PROT_READ,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (R[R_BIG].p == MAP_FAILED)
		return "mmap (big)";
	madvise(R[R_BIG].p, R[R_BIG].npages * PG, MADV_NOHUGEPAGE);
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0)
		return "pagemap";
	uffd = uffd_setup();
	if (uffd < 0)
		return "userfaultfd";
	if (!enough_hugepages())
		return "cannot reserve a huge page (/proc/sys/vm/nr_hugepages)";

	/*
	 * The arena: a PROT_NONE reservation, 2 MiB aligned. Each region is
	 * mapped over it, with a hole of 1 to 3 pages unmapped right below it;
	 * the rest of the reservation stays, as PROT_NONE VMAs.
	 */
	arena = mmap(NULL, arena_len + HUGE_SZ, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED)
		return "arena mmap";
	arena = (char *)(((uintptr_t)arena + HUGE_SZ - 1) & ~(HUGE_SZ - 1));
	for (r = 0; r < R_BIG; r++) {
		off += (1 + r % 3) * PG;
		if (layout[r].aligned)
			off = (off + HUGE_SZ - 1) & ~(HUGE_SZ - 1);
		R[r].p = arena + off;
		off += R[r].npages * PG;
	}
	if (off + PG > arena_len)
		return "arena too small";

#define MAP(r, prot, flags, fd) \
	(map_fixed(R[r].p, R[r].npages * PG, prot, flags, fd) == MAP_FAILED ? \
	 "mmap " #r : NULL)
#define FILL(r) do { for (i = 0; i < R[r].npages; i++) fill_page(r, i); } while (0)
#define TRY(x) do { const char *_e = (x); if (_e) return _e; } while (0)
#define NOHUGE(r) madvise(R[r].p, R[r].npages * PG, MADV_NOHUGEPAGE)
	TRY(MAP(R_PRIV, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1));
	NOHUGE(R_PRIV);
	for (i = 0; i < 56; i++)
		fill_page(R_PRIV, i);
	R[R_PRIV].redirty = R[R_PRIV].dontneed = R[R_PRIV].pageout = R[R_PRIV].migrate = true;

	TRY(MAP(R_SHARED, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1));
	FILL(R_SHARED);
	R[R_SHARED].shared = R[R_SHARED].redirty = R[R_SHARED].pageout = true;
	R[R_SHARED].migrate = true;

	fd = memfd_create("migentry-fuzz", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, R[R_MEMFD].npages * PG))
		return "memfd";
	TRY(MAP(R_MEMFD, PROT_READ | PROT_WRITE, MAP_SHARED, fd));
	close(fd);
	FILL(R_MEMFD);
	R[R_MEMFD].shared = R[R_MEMFD].redirty = R[R_MEMFD].pageout = R[R_MEMFD].migrate = true;

	{
		char path[] = "/tmp/migentry-fuzz-XXXXXX";
		uint64_t page[PG / 8];
		size_t w;

		fd = mkstemp(path);
		if (fd < 0)
			return "mkstemp";
		unlink(path);
		for (i = 0; i < R[R_TMPFS].npages; i++) {
			for (w = 0; w < PG / 8; w++)
				page[w] = page_word(R_TMPFS, i, w);
			if (pwrite(fd, page, PG, (off_t)(i * PG)) != PG)
				return "tmpfs write";
		}
		TRY(MAP(R_TMPFS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd));
		close(fd);
		NOHUGE(R_TMPFS);
		/* Even pages become private COW copies, odd ones stay page-cache pages. */
		for (i = 0; i < R[R_TMPFS].npages; i++) {
			if (i % 2 == 0)
				fill_page(R_TMPFS, i);
			R[R_TMPFS].state[i] = PG_PATTERN;
			(void)*(volatile char *)(R[R_TMPFS].p + i * PG);
		}
		R[R_TMPFS].pageout = R[R_TMPFS].migrate = true;
	}

	TRY(MAP(R_UFFD_ANON, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1));
	NOHUGE(R_UFFD_ANON);
	FILL(R_UFFD_ANON);
	fd = memfd_create("migentry-fuzz-uffd", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, R[R_UFFD_MEMFD].npages * PG))
		return "memfd (uffd)";
	TRY(MAP(R_UFFD_MEMFD, PROT_READ | PROT_WRITE, MAP_SHARED, fd));
	close(fd);
	FILL(R_UFFD_MEMFD);
	R[R_UFFD_MEMFD].shared = true;
	for (r = R_UFFD_ANON; r <= R_UFFD_MEMFD; r++) {
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)R[r].p, .len = R[r].npages * PG },
			.mode = UFFDIO_REGISTER_MODE_WP,
		};

		if (ioctl(uffd, UFFDIO_REGISTER, &reg))
			return "UFFDIO_REGISTER";
		if (uffd_wp_range(R[r].p, R[r].npages / 2 * PG, true))
			return "UFFDIO_WRITEPROTECT";
		R[r].uffd = R[r].pageout = R[r].migrate = true;
	}

	TRY(MAP(R_PROTNONE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1));
	NOHUGE(R_PROTNONE);
	FILL(R_PROTNONE);
	if (mprotect(R[R_PROTNONE].p, R[R_PROTNONE].npages * PG, PROT_NONE))
		return "mprotect PROT_NONE";
	R[R_PROTNONE].protnone = true;

	TRY(MAP(R_MLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1));
	NOHUGE(R_MLOCK);
	FILL(R_MLOCK);
	if (mlock(R[R_MLOCK].p, R[R_MLOCK].npages * PG))
		return "mlock";
	R[R_MLOCK].redirty = R[R_MLOCK].migrate = true;

	TRY(MAP(R_SWAP_ANON, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1));
	NOHUGE(R_SWAP_ANON);
	FILL(R_SWAP_ANON);
	fd = memfd_create("migentry-fuzz-swap", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, R[R_SWAP_SHMEM].npages * PG))
		return "memfd (swap)";
	TRY(MAP(R_SWAP_SHMEM, PROT_READ | PROT_WRITE, MAP_SHARED, fd));
	close(fd);
	FILL(R_SWAP_SHMEM);
	R[R_SWAP_SHMEM].shared = true;
	for (r = R_SWAP_ANON; r <= R_SWAP_SHMEM; r++) {
		R[r].swapped = R[r].pageout = R[r].redirty = true;
		if (!me_page_out(R[r].p, R[r].npages * PG))
			return "MADV_PAGEOUT left pages mapped (is the guest's swap on?)";
	}

	TRY(MAP(R_THP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1));
	madvise(R[R_THP].p, HUGE_SZ, MADV_HUGEPAGE);
	FILL(R_THP);
	R[R_THP].pmd = smaps_thp(R[R_THP].p);
	if (!R[R_THP].pmd)
		return "no PMD-mapped THP (transparent_hugepage/enabled?)";
	R[R_THP].redirty = R[R_THP].migrate = true;

	TRY(MAP(R_THP_PTE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1));
	madvise(R[R_THP_PTE].p, HUGE_SZ, MADV_HUGEPAGE);
	FILL(R_THP_PTE);
	if (!smaps_thp(R[R_THP_PTE].p))
		return "no THP to split";
	/* Splits the PMD (the folio stays large) and the VMA; no collapse afterwards. */
	if (mprotect(R[R_THP_PTE].p, PG, PROT_READ))
		return "mprotect (THP split)";
	madvise(R[R_THP_PTE].p, HUGE_SZ, MADV_NOHUGEPAGE);
	R[R_THP_PTE].redirty = R[R_THP_PTE].dontneed = R[R_THP_PTE].migrate = true;

	if (MAP(R_HUGETLB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1))
		return "MAP_HUGETLB";
	FILL(R_HUGETLB);
	R[R_HUGETLB].hugetlb = R[R_HUGETLB].redirty = true;

	TRY(MAP(R_RO, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1));
	NOHUGE(R_RO);
	FILL(R_RO);
	if (mprotect(R[R_RO].p, R[R_RO].npages * PG, PROT_READ))
		return "mprotect PROT_READ";
	R[R_RO].migrate = true;

	TRY(MAP(R_ZERO, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1));
	NOHUGE(R_ZERO);
	for (i = 0; i < R[R_ZERO].npages; i++)
		(void)*(volatile char *)(R[R_ZERO].p + i * PG);

	TRY(MAP(R_SPLIT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1));
	NOHUGE(R_SPLIT);
	FILL(R_SPLIT);
	if (mprotect(R[R_SPLIT].p + 8 * PG, 8 * PG, PROT_READ))
		return "mprotect (split)";
	R[R_SPLIT].redirty = R[R_SPLIT].dontneed = R[R_SPLIT].pageout = R[R_SPLIT].migrate = true;

	/* The holes. */
	for (r = 0; r < R_BIG; r++)
		if (munmap(R[r].p - (1 + r % 3) * PG, (1 + r % 3) * PG))
			return "munmap (hole)";
	read_maps();
	return NULL;
#undef MAP
#undef FILL
#undef TRY
#undef NOHUGE
}

/* ------------------------------------------------------------------ */
/* State changes between calls.                                         */

static void child_release(void)
{
	if (child <= 0)
		return;
	close(child_pipe);
	waitpid(child, NULL, 0);
	child = -1;
}

static int pick_with(size_t field_off)
{
	int tries, r;

	for (tries = 0; tries < 64; tries++) {
		r = rn(R_BIG);
		if (*(bool *)((char *)&R[r] + field_off))
			return r;
	}
	return -1;
}

#define PICK(field) pick_with(offsetof(struct region, field))

static void mutate(void)
{
	size_t first, n, i;
	int r = -1;

	st.mutations++;
	switch (rn(11)) {
	case 0: /* swap out */
		r = PICK(pageout);
		if (r < 0)
			break;
		first = rn(R[r].npages);
		n = 1 + rn(R[r].npages - first);
		madvise(R[r].p + first * PG, n * PG, MADV_PAGEOUT);
		break;
	case 1: /* soft-dirty: clear_refs 4 (the whole process) */
		me_clear_soft_dirty();
		break;
	case 2: /* write the pattern again */
		r = PICK(redirty);
		if (r < 0 || (r == R_HUGETLB && child > 0))
			break;
		first = rn(R[r].npages);
		n = 1 + rn(32);
		for (i = first; i < first + n && i < R[r].npages; i++)
			if (access_at((uintptr_t)R[r].p + i * PG) == 2)
				fill_page(r, i);
		/* A write to a THP shared with the child splits its PMD. */
		if (r == R_THP)
			R[r].pmd = thp_state();
		break;
	case 3: /* drop pages: they read as zero */
		r = PICK(dontneed);
		if (r < 0)
			break;
		first = rn(R[r].npages);
		n = 1 + rn(16);
		if (first + n > R[r].npages)
			n = R[r].npages - first;
		if (!madvise(R[r].p + first * PG, n * PG, MADV_DONTNEED))
			memset(R[r].state + first, PG_ZERO, n);
		break;
	case 4: /* a child shares everything copy-on-write, or goes away */
		if (child > 0) {
			child_release();
		} else {
			int fds[2];

			if (pipe(fds))
				break;
			child = fork();
			if (child == 0) {
				char b;

				close(fds[1]);
				while (read(fds[0], &b, 1) > 0)
					;
				_exit(0);
			}
			close(fds[0]);
			child_pipe = fds[1];
			if (child < 0)
				close(child_pipe);
		}
		break;
	case 5: /* migrate pages to the other node */
		if (nr_nodes < 2)
			break;
		r = PICK(migrate);
		if (r < 0)
			break;
		{
			void *pages[16];
			int nodes[16], status[16];
			int node = -1;

			n = 1 + rn(16);
			first = rn(R[r].npages);
			if (first + n > R[r].npages)
				n = R[r].npages - first;
			for (i = 0; i < n; i++)
				pages[i] = R[r].p + (first + i) * PG;
			if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0) == 0 &&
			    status[0] >= 0)
				node = !status[0];
			for (i = 0; i < n; i++) {
				int any = rn(2);	/* drawn either way: the stream stays seeded */

				nodes[i] = node < 0 ? any : node;
			}
			syscall(SYS_move_pages, 0, n, pages, nodes, status, MPOL_MF_MOVE);
			if (r == R_THP)
				R[r].pmd = thp_state();
		}
		break;
	case 6: /* split or merge R_SPLIT's VMAs */
		split_mid_ro = !split_mid_ro;
		mprotect(R[R_SPLIT].p + 8 * PG, 8 * PG,
			 split_mid_ro ? PROT_READ : PROT_READ | PROT_WRITE);
		read_maps();
		break;
	case 7: /* uffd write-protect or unprotect some pages */
		r = rn(2) ? R_UFFD_ANON : R_UFFD_MEMFD;
		first = rn(R[r].npages);
		n = 1 + rn(R[r].npages - first);
		uffd_wp_range(R[r].p + first * PG, n * PG, rn(2));
		break;
	case 8: /* touch: fault pages back in (swap-in, zeropage), checking them */
		r = rn(R_BIG);
		if (R[r].protnone)
			break;
		first = rn(R[r].npages);
		if (!verify_pages(r, first, 1 + rn(4), true)) {
			st.canary++;
			printf("# fuzz: CANARY at seed %#" PRIx64 " iteration %" PRIu64 ": %s\n",
			       seed, iter, fail_buf);
		}
		break;
	default: /* swap the swapped regions out again */
		page_out(rn(2) ? R_SWAP_ANON : R_SWAP_SHMEM);
	}
}

static bool verify_all(void)
{
	int r;
	bool ok = true;

	for (r = 0; r < NR_REGIONS; r++)
		if (!verify_pages(r, 0, R[r].npages, true)) {
			ok = false;
			printf("# fuzz: CANARY at seed %#" PRIx64 " iteration %" PRIu64 ": %s\n",
			       seed, iter, fail_buf);
		}
	/*
	 * Round trips with RT_WRPROTECT and the forked children leave more and
	 * more pages read-only or shared: write every page that may be written
	 * again (but R_PRIV's never-touched tail), so that writable, exclusive
	 * and dirty PTEs keep coming back.
	 */
	for (r = 0; r < R_BIG; r++) {
		size_t i, n = r == R_PRIV ? 56 : R[r].npages;

		if (!R[r].redirty)
			continue;
		/* A private hugetlb page shared with the child would need a second huge page. */
		if (r == R_HUGETLB && child > 0)
			continue;
		for (i = 0; i < n; i++)
			if (access_at((uintptr_t)R[r].p + i * PG) == 2)
				fill_page(r, i);
	}
	page_out(R_SWAP_ANON);
	page_out(R_SWAP_SHMEM);
	R[R_THP].pmd = thp_state();
	read_maps();
	return ok;
}

/* ------------------------------------------------------------------ */
/* One call.                                                            */

/* Puts the argument where the call wants it; the read-only page is made writable meanwhile. */
static void place_arg(struct call *c)
{
	size_t n = c->kind < K_BAD ? kind_size[c->kind] : sizeof(struct migentry_range);
	uint64_t s = (uintptr_t)S, lo, hi;

	c->argbytes = 0;
	lo = c->argp;
	hi = c->argp + n;
	if (lo < s || lo >= s + 5 * PG || !access_at(lo & ~(PG - 1)))
		return;
	/* Bytes that land in mapped scratch pages (S0, S1, S3). */
	if (c->amode == A_RO_UNMAPPED || c->amode == A_RW_UNMAPPED)
		hi = (lo & ~(PG - 1)) + PG;
	c->argbytes = hi - lo;
	if (hi <= s + PG || lo >= s + 2 * PG) {
		memcpy((void *)(uintptr_t)lo, c->a.words, c->argbytes);
		return;
	}
	mprotect(S + PG, PG, PROT_READ | PROT_WRITE);
	memcpy((void *)(uintptr_t)lo, c->a.words, c->argbytes);
	mprotect(S + PG, PG, PROT_READ);
}

/*
 * ROUNDTRIP without a TLB flush: whether EVALUATE says that some page of the
 * range would lose rights (then the round trip must be refused). -1 if
 * EVALUATE itself failed.
 */
static int loses_rights(const struct call *c)
{
	struct migentry_range a = c->a.r;
	uint64_t i, pages = a.len / PG;

	a.size = sizeof(a);
	a.records = (uintptr_t)obuf;
	a.nr_records = pages;
	st.oracle_calls++;
	if (ioctl(dev, MIGENTRY_IOC_EVALUATE, &a))
		return -1;
	for (i = 0; i < pages; i++) {
		struct migentry_record r = rec_at((uintptr_t)obuf, i);
		const struct migentry_pte_state *t = &r.after[MIGENTRY_POLICY_TYPED];

		if (r.status != MIGENTRY_REC_DONE)
			continue;
		if ((r.before.flags & MIGENTRY_PTE_WRITE) && !(t->flags & MIGENTRY_PTE_WRITE))
			return 1;
		if (!(r.before.flags & MIGENTRY_PTE_PROTNONE) && (t->flags & MIGENTRY_PTE_PROTNONE) &&
		    (t->flags & MIGENTRY_PTE_UFFD))
			return 1;
	}
	return 0;
}

/* After a successful ROUNDTRIP: READ_PTE shows what the records say was installed. */
static bool readback_ok(const struct call *c, char *buf, size_t n)
{
	struct migentry_range a = c->a.r;
	uint64_t i, pages = a.len / PG;

	a.size = sizeof(a);
	a.flags = 0;
	a.records = (uintptr_t)obuf;
	a.nr_records = pages;
	st.readbacks++;
	if (ioctl(dev, MIGENTRY_IOC_READ_PTE, &a)) {
		snprintf(buf, n, "READ_PTE after the round trip: %s", strerror(errno));
		return false;
	}
	for (i = 0; i < pages; i++) {
		struct migentry_record was = rec_at(c->a.r.records, i);
		struct migentry_record now = rec_at((uintptr_t)obuf, i);
		const struct migentry_pte_state *want =
			was.status == MIGENTRY_REC_DONE ? &was.after[MIGENTRY_POLICY_TYPED] :
							  &was.before;

		if (!me_pte_same(want, &now.before)) {
			snprintf(buf, n,
				 "page %" PRIu64 " (status %u): installed kind %u flags %#x raw %#llx, READ_PTE says kind %u flags %#x raw %#llx",
				 i, was.status, want->kind, want->flags,
				 (unsigned long long)want->raw, now.before.kind, now.before.flags,
				 (unsigned long long)now.before.raw);
			return false;
		}
	}
	return true;
}

/* Records pre-filled with the sentinel: how many, from where. */
static uint64_t sentinel_base;
static size_t sentinel_n;
static bool strict_writeback;	/* MIGENTRY_FUZZ_STRICT_WRITEBACK */

static void place_sentinels(const struct call *c)
{
	uint64_t base = c->a.r.records, room;

	sentinel_n = 0;
	if (c->kind == K_INFO || c->kind == K_STATS || c->kind == K_PMD_STATS)
		return;
	if (base < (uintptr_t)rbuf || base >= (uintptr_t)rbuf + RBUF_MAP)
		return;
	room = ((uintptr_t)rbuf + RBUF_MAP - base) / REC_SZ;
	sentinel_n = room < SENTINEL_RECS ? room : SENTINEL_RECS;
	sentinel_base = base;
	memset((void *)(uintptr_t)base, ME_SENTINEL_BYTE, sentinel_n * REC_SZ);
}

static bool sentinels_intact(void)
{
	const unsigned char *b = (const unsigned char *)(uintptr_t)sentinel_base;
	size_t i;

	for (i = 0; i < sentinel_n * REC_SZ; i++)
		if (b[i] != ME_SENTINEL_BYTE)
			return false;
	return true;
}

/* The argument bytes this process can read back: unchanged? */
static bool arg_intact(const struct call *c)
{
	return !c->argbytes || !memcmp((void *)(uintptr_t)c->argp, c->a.words, c->argbytes);
}

static void one_call(void)
{
	struct call c = gen_call();
	enum step step;
	int want, err, ret, rights = 0;
	bool alt, trace = iter >= trace_from;
	char why[512];
	double t0 = now(), t1, t2;

	step = model(&c, &want, &alt);
	/* Never round-trip memory outside the regions: its data is not known. */
	if (c.kind == K_RT && step >= ST_WALK && c.region < 0)
		return;
	if (c.kind == K_RT && step >= ST_WALK && !tlb_flush) {
		rights = loses_rights(&c);
		if (rights < 0) {
			st.unexpected++;
			snprintf(why, sizeof(why), "EVALUATE before the round trip: %s",
				 strerror(errno));
			report(&c, why);
			return;
		}
		if (rights) {
			step = ST_WALK;
			want = EOPNOTSUPP;
			st.rights_refused++;
		}
	}
	if (c.region >= 0 && step >= ST_WALK)
		st.vma_walks[c.region]++;
	place_arg(&c);
	place_sentinels(&c);
	if (trace) {
		describe(&c, why, sizeof(why));
		printf("# fuzz: %" PRIu64 ": %s (expect %s)\n", iter, why,
		       errno_name[errno_col(want)]);
		fflush(stdout);
	}
	t1 = now();
	errno = 0;
	ret = ioctl(dev, c.cmd, (void *)(uintptr_t)c.argp);
	err = ret ? errno : 0;
	t2 = now();
	t_prep += t1 - t0;
	t_ioctl += t2 - t1;
	if (ret != 0 && ret != -1)
		err = -1000 - ret;
	st.calls[c.kind][errno_col(err)]++;

	if (err != want && !(alt && err == ENOMEM)) {
		/*
		 * A THP the kernel split or collapsed since it was last looked at is
		 * not the module's doing: the call is judged by the state now.
		 */
		int want2 = want;
		bool alt2 = alt, raced = c.region == R_THP && smaps_thp(R[R_THP].p) != R[R_THP].pmd;

		if (raced) {
			R[R_THP].pmd = !R[R_THP].pmd;
			model(&c, &want2, &alt2);
			R[R_THP].pmd = thp_state();
		}
		if (raced && (err == want2 || (alt2 && err == ENOMEM) ||
			      (c.kind == K_RT && !tlb_flush && err == EOPNOTSUPP))) {
			st.thp_raced++;
		} else {
			st.unexpected++;
			snprintf(why, sizeof(why), "returned %d errno %d (%s), expected %s%s",
				 ret, err, err > 0 ? strerror(err) : "?",
				 errno_name[errno_col(want)], alt ? " (or ENOMEM)" : "");
			report(&c, why);
		}
	} else if (err) {
		/*
		 * Nothing copied back (docs/abi.md): the argument and the records
		 * are as they were, also when the failure is EFAULT from an output
		 * that is not writable. MIGENTRY_FUZZ_STRICT_WRITEBACK=0 only counts
		 * the latter, as the module did before issue 13 defect 2.
		 */
		bool writeback = step == ST_CLAIM || step == ST_WRITEBACK;
		bool lenient = writeback && !strict_writeback;
		bool recs = sentinels_intact(), arg = arg_intact(&c);

		if (writeback && (!arg || !recs))
			st.writeback_after_efault[c.kind]++;
		if (!lenient && !recs) {
			st.unexpected++;
			report(&c, "records written by a failing call");
		}
		if (!lenient && !arg) {
			st.unexpected++;
			report(&c, "argument written back by a failing call");
		}
	} else if (c.kind == K_INFO) {
		const struct migentry_info *i = (const void *)(uintptr_t)c.argp;

		if (i->abi_version != MIGENTRY_ABI_VERSION || i->page_size != PG ||
		    i->features >> 7 || i->reserved || !i->nr_online_nodes) {
			st.record++;
			report(&c, "INFO fields");
		}
	} else if (c.kind == K_STATS) {
		const struct migentry_stats *s = (const void *)(uintptr_t)c.argp;

		if (s->flags & ~3ULL || s->unexpected || s->kernel_rejected) {
			st.record++;
			report(&c, "STATS: unknown flags, or unexpected / rejected restores");
		}
	} else if (c.kind == K_PMD_STATS) {
		const struct migentry_pmd_stats *s = (const void *)(uintptr_t)c.argp;

		if (s->flags & ~3ULL || s->unexpected || s->kernel_rejected) {
			st.record++;
			report(&c, "PMD_STATS: unknown flags, or unexpected / rejected restores");
		}
	} else {
		/* A range call that succeeded; the argument was at S0 (A_OK). */
		const struct migentry_range *o = (const void *)(uintptr_t)c.argp;
		struct migentry_range exp = c.a.r;
		uint64_t vf = o->vma_flags;

		exp.nr_done = c.a.r.len / PG;
		exp.vma_flags = vf;
		if (memcmp(o, &exp, sizeof(exp))) {
			st.record++;
			report(&c, "argument after success: nr_done or other fields wrong");
		} else if (vf >> 9 || !!(vf & MIGENTRY_VMA_UFFD_WP) != (c.region >= 0 &&
									     R[c.region].uffd) ||
			   (c.region >= 0 && !!(vf & MIGENTRY_VMA_SHARED) != R[c.region].shared) ||
			   !!(vf & MIGENTRY_VMA_WRITE) != (access_at(c.a.r.addr) == 2)) {
			st.record++;
			snprintf(why, sizeof(why), "vma_flags %#" PRIx64, vf);
			report(&c, why);
		} else if (!records_ok(&c, c.a.r.records, vf, why, sizeof(why))) {
			st.record++;
			report(&c, why);
		} else if (c.kind == K_RT && !readback_ok(&c, why, sizeof(why))) {
			st.record++;
			report(&c, why);
		}
	}
	/* A round trip that ran (whatever it returned) leaves the data as it was. */
	if (c.kind == K_RT && step >= ST_WALK && c.region >= 0) {
		size_t first = (c.a.r.addr - (uintptr_t)R[c.region].p) / PG;

		if (!verify_pages(c.region, first, c.a.r.len / PG, false)) {
			st.canary++;
			report(&c, fail_buf);
		}
	}
	t_check += now() - t2;
}

/* ------------------------------------------------------------------ */

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static void print_table(uint64_t iters, double secs)
{
	unsigned int k, e;
	uint64_t total = 0;

	printf("# fuzz: results by command and errno\n#   %-10s %8s", "command", "total");
	for (e = 0; e <= NR_ERRNOS; e++)
		printf(" %*s", e == 6 ? 10 : 7, errno_name[e]);
	printf("\n");
	for (k = 0; k < NR_KINDS; k++) {
		uint64_t t = 0;

		for (e = 0; e <= NR_ERRNOS; e++)
			t += st.calls[k][e];
		total += t;
		printf("#   %-10s %8" PRIu64, kind_name[k], t);
		for (e = 0; e <= NR_ERRNOS; e++)
			printf(" %*" PRIu64, e == 6 ? 10 : 7, st.calls[k][e]);
		printf("\n");
	}
	printf("# fuzz: %" PRIu64 " iterations, %" PRIu64 " fuzzed ioctls, %" PRIu64
	       " EVALUATE oracle calls, %" PRIu64 " READ_PTE read-backs, %" PRIu64
	       " state changes in %.1f s\n",
	       iters, total, st.oracle_calls, st.readbacks, st.mutations, secs);
	printf("# fuzz: time: preparing calls (model, maps, EVALUATE oracle) %.1f s, fuzzed ioctls %.1f s, checking them (records, read-backs, canaries) %.1f s, state changes %.1f s, full canary checks %.1f s\n",
	       t_prep, t_ioctl, t_check, t_mutate, t_verify);

	printf("# fuzz: walks per region:");
	for (k = 0; k < NR_REGIONS; k++)
		printf(" %s %" PRIu64, R[k].name, st.vma_walks[k]);
	printf("\n# fuzz: records: DONE %" PRIu64 " NONE %" PRIu64 " NOT_PRESENT %" PRIu64
	       " SPECIAL %" PRIu64 "; entries Read %" PRIu64 " ReadExclusive %" PRIu64
	       " Write %" PRIu64 "; refused vma %" PRIu64 " uffd %" PRIu64 " soft-dirty %" PRIu64
	       "; typed writable %" PRIu64 " uffd %" PRIu64 "; round trips refused for rights %" PRIu64 "\n",
	       st.status[0], st.status[1], st.status[2], st.status[3],
	       st.entry_kind[MIGENTRY_LEAF_MIGRATION_READ],
	       st.entry_kind[MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE],
	       st.entry_kind[MIGENTRY_LEAF_MIGRATION_WRITE], st.refused[1], st.refused[2],
	       st.refused[3], st.typed_writable, st.typed_uffd, st.rights_refused);
	printf("# fuzz: EFAULT from an unwritable output with something written anyway (issue 13, defect 2):");
	for (k = 0; k < K_BAD; k++)
		printf(" %s %" PRIu64, kind_name[k], st.writeback_after_efault[k]);
	printf("\n# fuzz: THP found split (collapsed again) %" PRIu64 ", changed under a call %" PRIu64
	       "; pages found swapped out after MADV_PAGEOUT: %" PRIu64 "\n",
	       st.thp_changed, st.thp_raced, st.swapped_pages);
	printf("# fuzz: %" PRIu64 " unexpected results, %" PRIu64 " bad records, %" PRIu64
	       " canary mismatches\n", st.unexpected, st.record, st.canary);
	fflush(stdout);
}

FIXTURE(fuzz)
{
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
	child_release();
}

/*
 * The harness's timeout only catches a hang: the run stops by itself after
 * MIGENTRY_FUZZ_SECONDS.
 */
TEST_F_TIMEOUT(fuzz, ioctls, 600)
{
	uint64_t iters = env_u64("MIGENTRY_FUZZ_ITERS", DEFAULT_ITERS);
	double limit = (double)env_u64("MIGENTRY_FUZZ_SECONDS", DEFAULT_SECONDS), t0, t;
	struct migentry_info info = { .size = sizeof(info) };
	const char *err;

	seed = env_u64("MIGENTRY_FUZZ_SEED", DEFAULT_SEED);
	strict_writeback = env_u64("MIGENTRY_FUZZ_STRICT_WRITEBACK", 1);
	trace_from = env_u64("MIGENTRY_FUZZ_TRACE", ~0ULL);
	rng_state = seed;
	dev = me_open();
	ASSERT_LE(0, dev) TH_LOG("open %s: %s", ME_DEV, strerror(errno));
	ASSERT_EQ(0, ioctl(dev, MIGENTRY_IOC_INFO, &info));
	tlb_flush = info.features & MIGENTRY_FEAT_TLB_FLUSH;
	nr_nodes = info.nr_online_nodes;
	printf("# fuzz: seed %#" PRIx64 " (MIGENTRY_FUZZ_SEED), %" PRIu64
	       " iterations (MIGENTRY_FUZZ_ITERS), at most %.0f s (MIGENTRY_FUZZ_SECONDS); %s, %d nodes\n",
	       seed, iters, limit, tlb_flush ? "FEAT_TLB_FLUSH (hooked)" : "no FEAT_TLB_FLUSH (stock)",
	       nr_nodes);
	fflush(stdout);
	err = setup();
	ASSERT_EQ(NULL, err) TH_LOG("setup: %s: %s", err, strerror(errno));
	ASSERT_TRUE(verify_all());

	t0 = now();
	for (iter = 0; iter < iters; iter++) {
		if (iter % 64 == 0 && now() - t0 > limit) {
			printf("# fuzz: time bound of %.0f s reached after %" PRIu64 " iterations\n",
			       limit, iter);
			break;
		}
		one_call();
		if (pm(25)) {
			double m = now();

			mutate();
			t_mutate += now() - m;
		}
		if (iter % VERIFY_EVERY == VERIFY_EVERY - 1) {
			double v = now();

			if (!verify_all())
				st.canary++;
			t_verify += now() - v;
		}
	}
	t = now() - t0;
	child_release();
	if (!verify_all())
		st.canary++;
	print_table(iter, t);
	EXPECT_EQ(0, st.unexpected);
	EXPECT_EQ(0, st.record);
	EXPECT_EQ(0, st.canary);
	close(dev);
}

TEST_HARNESS_MAIN
