// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_roundtrip: real user PTEs through a migration entry and back,
 * checked by bits (records, pagemap) and by behaviour (does the next write
 * fault, does it SIGSEGV, is the data intact), on every memory type.
 */
#include <sys/wait.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

#define NPAGES 16

FIXTURE(mem)
{
	int dev;
	int fd;
	char *p;
	size_t len;
	struct migentry_record rec[NPAGES];
	bool tlb_flush;		/* MIGENTRY_FEAT_TLB_FLUSH */
};

FIXTURE_VARIANT(mem)
{
	enum me_mem type;
	bool shared;
};

FIXTURE_VARIANT_ADD(mem, private_anon) { .type = ME_PRIVATE_ANON, .shared = false };
FIXTURE_VARIANT_ADD(mem, shared_anon) { .type = ME_SHARED_ANON, .shared = true };
FIXTURE_VARIANT_ADD(mem, memfd_shared) { .type = ME_MEMFD_SHARED, .shared = true };
FIXTURE_VARIANT_ADD(mem, tmpfs_private) { .type = ME_TMPFS_PRIVATE, .shared = false };

FIXTURE_SETUP(mem)
{
	int tlb;

	self->dev = me_open();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", ME_DEV, strerror(errno));
	tlb = me_tlb_flush(self->dev);
	ASSERT_LE(0, tlb) TH_LOG("INFO: %s", strerror(errno));
	self->tlb_flush = tlb;
	self->len = NPAGES * me_page();
	self->p = me_map(variant->type, self->len, &self->fd);
	ASSERT_NE(MAP_FAILED, self->p);
}

FIXTURE_TEARDOWN(mem)
{
	munmap(self->p, self->len);
	if (self->fd >= 0)
		close(self->fd);
	close(self->dev);
}

/* The kind a written page's PTE migrates as: Write. A read-only one: by type. */
static __u32 ro_kind(const FIXTURE_VARIANT(mem) *variant)
{
	/* Private pages written once are anon-exclusive; shared ones are not anon. */
	return variant->shared ? MIGENTRY_LEAF_MIGRATION_READ :
				 MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE;
}

TEST_F(mem, read_pte_reports_each_page)
{
	size_t pg = me_page();
	struct migentry_range arg;
	unsigned int i;

	self->p[0] = 1;			/* written */
	self->p[pg] = 2;		/* written */
	/* pages 2.. untouched */
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, self->len, 0,
			      self->rec, NPAGES, &arg));
	ASSERT_EQ(NPAGES, arg.nr_done);
	EXPECT_EQ(variant->shared, !!(arg.vma_flags & MIGENTRY_VMA_SHARED));
	EXPECT_TRUE(arg.vma_flags & MIGENTRY_VMA_WRITE);
	/* A fresh mapping is VM_SOFTDIRTY: nothing tracked per PTE yet. */
	EXPECT_TRUE(arg.vma_flags & MIGENTRY_VMA_SOFTDIRTY);
	EXPECT_FALSE(arg.vma_flags & MIGENTRY_VMA_SD_TRACKING);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ((uintptr_t)self->p + i * pg, self->rec[i].addr);
		EXPECT_EQ(MIGENTRY_REC_DONE, self->rec[i].status);
		EXPECT_EQ(MIGENTRY_LEAF_PRESENT, self->rec[i].before.kind);
		EXPECT_TRUE(me_has(&self->rec[i].before, MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE |
							MIGENTRY_PTE_DIRTY));
		/* Root sees the raw value and a PFN matching pagemap's. */
		EXPECT_NE(0, self->rec[i].before.raw);
		EXPECT_EQ(me_pagemap(self->p + i * pg) & ((1ULL << 55) - 1),
			  self->rec[i].before.pfn);
	}
	for (i = 2; i < NPAGES; i++) {
		EXPECT_EQ(MIGENTRY_REC_NONE, self->rec[i].status);
		EXPECT_EQ(MIGENTRY_LEAF_NONE, self->rec[i].before.kind);
	}
}

TEST_F(mem, roundtrip_keeps_data_and_writability)
{
	struct migentry_range arg;
	unsigned int i;

	me_fill(self->p, self->len, 7);
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, self->len, 0,
			      self->rec, NPAGES, &arg));
	ASSERT_EQ(NPAGES, arg.nr_done);
	for (i = 0; i < NPAGES; i++) {
		struct migentry_record *r = &self->rec[i];

		EXPECT_EQ(MIGENTRY_REC_DONE, r->status);
		EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_WRITE, r->entry.kind);
		EXPECT_TRUE(me_has(&r->after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
		EXPECT_EQ(MIGENTRY_NOGRANT_NONE, r->refused);
		/* Nothing to diverge on: typed is bit for bit what 7.3 installs. */
		EXPECT_EQ(r->after[MIGENTRY_POLICY_UPSTREAM].raw, r->after[MIGENTRY_POLICY_TYPED].raw);
	}
	ASSERT_TRUE(me_check(self->p, self->len, 7));
	for (i = 0; i < NPAGES; i++) {
		uint64_t pm = me_pagemap(self->p + i * me_page());

		EXPECT_TRUE(pm & PM_PRESENT);
		/* Still mapped by this process only: the round trip changed no mapcount. */
		EXPECT_TRUE(pm & PM_EXCLUSIVE);
		EXPECT_EQ(0, me_store_faults(self->p + i * me_page(), me_pattern(i * me_page(), 7)));
	}
	/* What READ_PTE sees now is what ROUNDTRIP said it installed. */
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, me_page(), 0,
			      self->rec + 1, 1, NULL));
	EXPECT_TRUE(me_has(&self->rec[1].before, MIGENTRY_PTE_WRITE | MIGENTRY_PTE_PRESENT));
}

/*
 * Swapped-out pages are not the device's business: private ones have swap
 * PTEs (reported as such, status NOT_PRESENT), shared ones none PTEs (their
 * swap entry lives in the shmem mapping). Both stay exactly as they were, and
 * the data comes back from swap intact.
 */
TEST_F(mem, swapped_out_pages_are_left_alone)
{
	__u32 kind = variant->shared ? MIGENTRY_LEAF_NONE : MIGENTRY_LEAF_SWAP;
	__u32 status = variant->shared ? MIGENTRY_REC_NONE : MIGENTRY_REC_NOT_PRESENT;
	struct migentry_record rt[NPAGES];
	struct migentry_range arg;
	unsigned int i;

	me_fill(self->p, self->len, 13);
	ASSERT_TRUE(me_page_out(self->p, self->len))
		TH_LOG("MADV_PAGEOUT left pages mapped; is the guest's swap on?");
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, self->len, 0,
			      self->rec, NPAGES, &arg));
	ASSERT_EQ(NPAGES, arg.nr_done);
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, self->len, 0,
			      rt, NPAGES, &arg));
	ASSERT_EQ(NPAGES, arg.nr_done);
	for (i = 0; i < NPAGES; i++) {
		uint64_t pm = me_pagemap(self->p + i * me_page());

		EXPECT_EQ(kind, self->rec[i].before.kind);
		EXPECT_FALSE(self->rec[i].before.flags & MIGENTRY_PTE_PRESENT);
		EXPECT_EQ(status, rt[i].status);
		/* Untouched: the same entry before and after the round trip. */
		EXPECT_EQ(self->rec[i].before.raw, rt[i].before.raw);
		EXPECT_FALSE(pm & PM_PRESENT);
		if (!variant->shared) {
			EXPECT_TRUE(pm & PM_SWAP);
			EXPECT_NE(0, self->rec[i].before.raw);
		}
	}
	/* Reading swaps the pages back in, pattern intact. */
	ASSERT_TRUE(me_check(self->p, self->len, 13));
	EXPECT_TRUE(me_pagemap(self->p) & PM_PRESENT);
}

TEST_F(mem, roundtrip_read_only_stays_read_only)
{
	unsigned int i;

	me_fill(self->p, self->len, 3);
	ASSERT_EQ(0, mprotect(self->p, self->len, PROT_READ));
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, self->len, 0,
			      self->rec, NPAGES, NULL));
	for (i = 0; i < NPAGES; i++) {
		EXPECT_EQ(ro_kind(variant), self->rec[i].entry.kind);
		EXPECT_FALSE(me_has(&self->rec[i].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
		EXPECT_TRUE(me_store_segv(self->p + i * me_page(), 0x55));
	}
	EXPECT_TRUE(me_check(self->p, self->len, 3));
}

/*
 * Without MIGENTRY_FEAT_TLB_FLUSH (stock kernel): a ROUNDTRIP of [p, p + len)
 * with flags, which would take write access away, is refused and leaves
 * everything as it was. Its records are checked as EVALUATE's prediction
 * instead (the caller's assertions), and behaviour as before the call.
 */
static void expect_refused(struct __test_metadata *_metadata, FIXTURE_DATA(mem) *self,
			   char *p, size_t len, __u64 flags)
{
	char why[256];
	const char *bad = me_refused_roundtrip(self->dev, p, len, flags, why, sizeof(why));

	EXPECT_EQ(NULL, bad) TH_LOG("%s", bad);
}

/*
 * clear_refs while the page is a Write migration entry: the entry stays
 * Write with soft-dirty clear. 7.3 restores it writable, so the next write is
 * never recorded; the typed restore write-protects it and the write shows up.
 * That takes write access away: without MIGENTRY_FEAT_TLB_FLUSH the round
 * trip is refused, and EVALUATE's records must say the same.
 */
TEST_F(mem, clear_refs_during_migration)
{
	struct migentry_range arg;
	char *q = self->p;

	me_fill(self->p, self->len, 9);
	ASSERT_EQ(0, me_clear_soft_dirty());
	*q = 1;			/* faults, sets soft-dirty, PTE writable again */
	*q = me_pattern(0, 9);
	ASSERT_TRUE(me_pagemap(q) & PM_SOFT_DIRTY);

	if (!self->tlb_flush) {
		TH_LOG("no MIGENTRY_FEAT_TLB_FLUSH (stock kernel): ROUNDTRIP refused, EVALUATE checked");
		ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_EVALUATE, q, me_page(),
				      MIGENTRY_RT_CLEAR_SOFT_DIRTY, self->rec, 1, &arg));
		/* The rights it would take away: writable now, read-only after. */
		EXPECT_TRUE(me_has(&self->rec[0].before, MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE));
		expect_refused(_metadata, self, q, me_page(), MIGENTRY_RT_CLEAR_SOFT_DIRTY);
	} else {
		TH_LOG("MIGENTRY_FEAT_TLB_FLUSH: ROUNDTRIP");
		ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, q, me_page(),
				      MIGENTRY_RT_CLEAR_SOFT_DIRTY, self->rec, 1, &arg));
	}
	EXPECT_TRUE(arg.vma_flags & MIGENTRY_VMA_SD_TRACKING);
	EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_WRITE, self->rec[0].entry.kind);
	EXPECT_FALSE(me_has(&self->rec[0].entry, MIGENTRY_PTE_SOFT_DIRTY));
	EXPECT_EQ(MIGENTRY_NOGRANT_SOFT_DIRTY, self->rec[0].refused);
	/* Upstream: writable, soft-dirty clear: the next write would be invisible. */
	EXPECT_TRUE(me_has(&self->rec[0].after[MIGENTRY_POLICY_UPSTREAM], MIGENTRY_PTE_WRITE));
	EXPECT_FALSE(me_has(&self->rec[0].after[MIGENTRY_POLICY_UPSTREAM],
			    MIGENTRY_PTE_SOFT_DIRTY));
	EXPECT_FALSE(me_has(&self->rec[0].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));

	if (!self->tlb_flush) {
		/* Nothing happened: still soft-dirty, still writable, data intact. */
		EXPECT_TRUE(me_pagemap(q) & PM_SOFT_DIRTY);
		EXPECT_EQ(0, me_store_faults(q, me_pattern(0, 9)));
		EXPECT_TRUE(me_pagemap(q) & PM_SOFT_DIRTY);
		EXPECT_TRUE(me_check(self->p, self->len, 9));
		return;
	}
	EXPECT_FALSE(me_pagemap(q) & PM_SOFT_DIRTY);
	EXPECT_EQ(1, me_store_faults(q, me_pattern(0, 9)));
	EXPECT_TRUE(me_pagemap(q) & PM_SOFT_DIRTY);
	q[0] = me_pattern(0, 9);
	EXPECT_TRUE(me_check(self->p, self->len, 9));
}

/*
 * mprotect()/UFFDIO_WRITEPROTECT-style downgrade of a Write entry in flight.
 * Without MIGENTRY_FEAT_TLB_FLUSH that round trip is refused; EVALUATE's
 * records must predict the same downgrade, and the pages stay writable.
 */
TEST_F(mem, wrprotect_injection)
{
	unsigned long cmd = MIGENTRY_IOC_ROUNDTRIP;
	unsigned int i;

	me_fill(self->p, self->len, 5);
	if (!self->tlb_flush) {
		TH_LOG("no MIGENTRY_FEAT_TLB_FLUSH (stock kernel): ROUNDTRIP refused, EVALUATE checked");
		cmd = MIGENTRY_IOC_EVALUATE;
		expect_refused(_metadata, self, self->p, self->len, MIGENTRY_RT_WRPROTECT);
	} else {
		TH_LOG("MIGENTRY_FEAT_TLB_FLUSH: ROUNDTRIP");
	}
	ASSERT_EQ(0, me_range(self->dev, cmd, self->p, self->len,
			      MIGENTRY_RT_WRPROTECT, self->rec, NPAGES, NULL));
	for (i = 0; i < NPAGES; i++) {
		if (!self->tlb_flush)
			EXPECT_TRUE(me_has(&self->rec[i].before,
					   MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE));
		EXPECT_EQ(ro_kind(variant), self->rec[i].entry.kind);
		EXPECT_FALSE(me_has(&self->rec[i].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
		/* A shared mapping without write-notify: 7.3 would hand write back. */
		EXPECT_EQ(variant->shared,
			  me_has(&self->rec[i].after[MIGENTRY_POLICY_UPSTREAM], MIGENTRY_PTE_WRITE));
		/* Refused: the page is as writable as it was, the store takes no fault. */
		EXPECT_EQ(self->tlb_flush ? 1 : 0,
			  me_store_faults(self->p + i * me_page(), me_pattern(i * me_page(), 5)));
	}
	EXPECT_TRUE(me_check(self->p, self->len, 5));
}

/* dirty, young and soft-dirty come back exactly as 7.3's rules give them. */
TEST_F(mem, bits_follow_upstream_rules)
{
	struct migentry_info info = { .size = sizeof(info) };
	unsigned int i;
	bool ad;

	ASSERT_EQ(0, ioctl(self->dev, MIGENTRY_IOC_INFO, &info));
	ad = info.features & MIGENTRY_FEAT_MIGRATION_AD;
	me_fill(self->p, self->len, 1);
	ASSERT_EQ(0, me_clear_soft_dirty());
	/* Soft-dirty on even pages only; every page was written, so dirty and young. */
	for (i = 0; i < NPAGES; i += 2)
		self->p[i * me_page()] = me_pattern(i * me_page(), 1);
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, self->len, 0,
			      self->rec, NPAGES, NULL));
	for (i = 0; i < NPAGES; i++) {
		struct migentry_record *r = &self->rec[i];
		const struct migentry_pte_state *t = &r->after[MIGENTRY_POLICY_TYPED];
		bool sd = !(i % 2);

		/* The entry carries the PTE's bits over. */
		EXPECT_TRUE(me_has(&r->before, MIGENTRY_PTE_DIRTY | MIGENTRY_PTE_YOUNG));
		EXPECT_EQ(sd, me_has(&r->before, MIGENTRY_PTE_SOFT_DIRTY));
		EXPECT_EQ(sd, me_has(&r->entry, MIGENTRY_PTE_SOFT_DIRTY));
		EXPECT_EQ(ad, me_has(&r->entry, MIGENTRY_PTE_DIRTY | MIGENTRY_PTE_YOUNG));
		EXPECT_EQ(r->before.pfn, r->entry.pfn);
		/* Folio dirty and entry dirty -> dirty; young only if the entry says so. */
		EXPECT_EQ(ad, me_has(t, MIGENTRY_PTE_DIRTY));
		EXPECT_EQ(ad, me_has(t, MIGENTRY_PTE_YOUNG));
		/* Soft-dirty exactly as in the entry, although pte_mkdirty() sets it. */
		EXPECT_EQ(sd, me_has(t, MIGENTRY_PTE_SOFT_DIRTY));
		EXPECT_EQ(r->before.pfn, t->pfn);
		/* Odd pages are read-only Write-less entries or pending soft-dirty: never writable. */
		EXPECT_EQ(sd, me_has(t, MIGENTRY_PTE_WRITE));
		/* Same bits as 7.3 wherever the policies agree on write. */
		if (me_has(&r->after[MIGENTRY_POLICY_UPSTREAM], MIGENTRY_PTE_WRITE) ==
		    me_has(t, MIGENTRY_PTE_WRITE))
			EXPECT_EQ(r->after[MIGENTRY_POLICY_UPSTREAM].raw, t->raw);
	}
}

/*
 * evaluate_predicts_roundtrip without MIGENTRY_FEAT_TLB_FLUSH. The even pages
 * were written after clear_refs: writable and soft-dirty; CLEAR_SOFT_DIRTY
 * leaves a soft-dirty fault pending, so they would come back read-only, and
 * the kernel must refuse to round-trip the whole range, and each of them
 * alone. EVALUATE must have predicted exactly that loss. The odd pages are
 * read-only since clear_refs, so they lose nothing: each of them alone is
 * round-tripped, and its records must be what EVALUATE predicted.
 */
static void evaluate_vs_page_roundtrips(struct __test_metadata *_metadata,
					FIXTURE_DATA(mem) *self, const struct migentry_record *ev)
{
	size_t pg = me_page();
	unsigned int i, p;

	expect_refused(_metadata, self, self->p, self->len, MIGENTRY_RT_CLEAR_SOFT_DIRTY);
	for (i = 0; i < NPAGES; i++) {
		const struct migentry_pte_state *typed = &ev[i].after[MIGENTRY_POLICY_TYPED];
		bool writable = !(i % 2);
		struct migentry_record rec;

		EXPECT_EQ(writable, me_has(&ev[i].before, MIGENTRY_PTE_WRITE)) TH_LOG("page %u", i);
		EXPECT_FALSE(me_has(typed, MIGENTRY_PTE_WRITE)) TH_LOG("page %u", i);
		if (writable) {
			EXPECT_EQ(MIGENTRY_NOGRANT_SOFT_DIRTY, ev[i].refused) TH_LOG("page %u", i);
			expect_refused(_metadata, self, self->p + i * pg, pg,
				       MIGENTRY_RT_CLEAR_SOFT_DIRTY);
			/* Still writable: the store takes no fault. */
			EXPECT_EQ(0, me_store_faults(self->p + i * pg, me_pattern(i * pg, 4)))
				TH_LOG("page %u", i);
			continue;
		}
		ASSERT_EQ(0, me_one(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p + i * pg,
				    MIGENTRY_RT_CLEAR_SOFT_DIRTY, &rec))
			TH_LOG("page %u lost nothing, yet: %s", i, strerror(errno));
		EXPECT_EQ(ev[i].before.raw, rec.before.raw) TH_LOG("page %u", i);
		EXPECT_EQ(ev[i].entry.raw, rec.entry.raw) TH_LOG("page %u", i);
		EXPECT_EQ(ev[i].refused, rec.refused) TH_LOG("page %u", i);
		for (p = 0; p < MIGENTRY_NR_POLICIES; p++)
			EXPECT_EQ(ev[i].after[p].raw, rec.after[p].raw)
				TH_LOG("page %u, policy %u", i, p);
	}
	EXPECT_TRUE(me_check(self->p, self->len, 4));
}

/* EVALUATE predicts ROUNDTRIP and changes nothing. */
TEST_F(mem, evaluate_predicts_roundtrip)
{
	struct migentry_record ev[NPAGES];
	unsigned int i;

	me_fill(self->p, self->len, 4);
	ASSERT_EQ(0, me_clear_soft_dirty());
	for (i = 0; i < NPAGES; i += 2)
		self->p[i * me_page()] = me_pattern(i * me_page(), 4);
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_EVALUATE, self->p, self->len,
			      MIGENTRY_RT_CLEAR_SOFT_DIRTY, ev, NPAGES, NULL));
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, self->len, 0,
			      self->rec, NPAGES, NULL));
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(ev[i].before.raw, self->rec[i].before.raw) TH_LOG("page %u changed", i);
	if (!self->tlb_flush) {
		TH_LOG("no MIGENTRY_FEAT_TLB_FLUSH (stock kernel): pages losing write refused, the others round-tripped one by one");
		evaluate_vs_page_roundtrips(_metadata, self, ev);
		return;
	}
	TH_LOG("MIGENTRY_FEAT_TLB_FLUSH: the whole range round-tripped");
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, self->len,
			      MIGENTRY_RT_CLEAR_SOFT_DIRTY, self->rec, NPAGES, NULL));
	for (i = 0; i < NPAGES; i++) {
		unsigned int p;

		EXPECT_EQ(ev[i].entry.raw, self->rec[i].entry.raw);
		EXPECT_EQ(ev[i].refused, self->rec[i].refused);
		for (p = 0; p < MIGENTRY_NR_POLICIES; p++)
			EXPECT_EQ(ev[i].after[p].raw, self->rec[i].after[p].raw);
	}
}

/*
 * David Hildenbrand's case: a shmem page write-protected by clear_refs, then
 * the VMA merged with a new neighbour gets VM_SOFTDIRTY and a writable
 * vm_page_prot back. 7.3 restores the Read entry writable (so the next write
 * takes no fault); the typed restore keeps it read-only.
 */
TEST(david_merge_case)
{
	size_t pg = me_page();
	struct migentry_record rec, two[2];
	struct migentry_range arg;
	int dev, fd;
	char *base, *p;

	dev = me_open();
	ASSERT_LE(0, dev);
	fd = memfd_create("david", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 2 * pg));
	base = mmap(NULL, 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, base);
	p = mmap(base, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	p[0] = 'd';
	ASSERT_EQ(0, me_clear_soft_dirty());
	ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_READ_PTE, p, pg, 0, &rec, 1, &arg));
	EXPECT_FALSE(me_has(&rec.before, MIGENTRY_PTE_WRITE));
	EXPECT_TRUE(arg.vma_flags & MIGENTRY_VMA_WRITE_NOTIFY);

	ASSERT_EQ(base + pg, mmap(base + pg, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				  fd, pg));
	/* One VMA again: a two-page range is accepted. */
	ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_READ_PTE, p, 2 * pg, 0, two, 2, NULL));
	ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_EVALUATE, p, pg, 0, &rec, 1, &arg));
	/* Merged: one VMA again, VM_SOFTDIRTY back, vm_page_prot writable. */
	EXPECT_TRUE(arg.vma_flags & MIGENTRY_VMA_SOFTDIRTY);
	EXPECT_TRUE(arg.vma_flags & MIGENTRY_VMA_PROT_WRITE);
	EXPECT_FALSE(me_has(&rec.before, MIGENTRY_PTE_WRITE));
	EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_READ, rec.entry.kind);
	EXPECT_TRUE(me_has(&rec.after[MIGENTRY_POLICY_UPSTREAM], MIGENTRY_PTE_WRITE));
	EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
	EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_PETERX_V3], MIGENTRY_PTE_WRITE));

	ASSERT_EQ(0, me_one(dev, MIGENTRY_IOC_ROUNDTRIP, p, 0, &rec));
	EXPECT_EQ(1, me_store_faults(p, 'e'));
	EXPECT_EQ('e', p[0]);
	munmap(base, 2 * pg);
	close(fd);
	close(dev);
}

/*
 * fork(): the parent's anon page is shared with the child, so it migrates as
 * a Read entry and must come back read-only; both sides then write their own
 * copy.
 */
TEST(fork_cow)
{
	size_t pg = me_page();
	struct migentry_record rec;
	int dev, fd, to_child[2], to_parent[2], status;
	char *p, c;
	pid_t pid;

	dev = me_open();
	ASSERT_LE(0, dev);
	p = me_map(ME_PRIVATE_ANON, pg, &fd);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'A';
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (read(to_child[0], &c, 1) != 1)
			_exit(2);
		if (p[0] != 'A')
			_exit(3);
		p[0] = 'C';
		if (write(to_parent[1], "x", 1) != 1)
			_exit(4);
		if (read(to_child[0], &c, 1) != 1)
			_exit(5);
		_exit(p[0] == 'C' ? 0 : 6);
	}
	ASSERT_EQ(0, me_one(dev, MIGENTRY_IOC_ROUNDTRIP, p, 0, &rec));
	EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_READ, rec.entry.kind);
	EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
	EXPECT_EQ(1, write(to_child[1], "go", 1));
	EXPECT_EQ(1, read(to_parent[0], &c, 1));
	EXPECT_EQ('A', p[0]);
	EXPECT_EQ(1, me_store_faults(p, 'P'));
	EXPECT_EQ(1, write(to_child[1], "go", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("child status %d", status);
	EXPECT_EQ('P', p[0]);
	munmap(p, pg);
	close(dev);
}

TEST_HARNESS_MAIN
