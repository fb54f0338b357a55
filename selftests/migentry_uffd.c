// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_uffd: userfaultfd write-protection (and read-write protection)
 * across a migration round trip, on private anon and shmem (memfd) memory.
 * Behaviour is checked by the fault messages userfaultfd delivers.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

#define NPAGES 4

static int uffd_wp(int uffd, void *p, size_t len, bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
}

/* 1 and *msg filled if a page-fault message arrives within timeout_ms, else 0. */
static int uffd_next(int uffd, int timeout_ms, struct uffd_msg *msg)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) != 1)
		return 0;
	if (read(uffd, msg, sizeof(*msg)) != sizeof(*msg))
		return 0;
	return msg->event == UFFD_EVENT_PAGEFAULT;
}

struct access {
	volatile char *p;
	char v;
	bool write;
	volatile char seen;
};

static void *access_thread(void *arg)
{
	struct access *a = arg;

	if (a->write)
		*a->p = a->v;
	else
		a->seen = *a->p;
	return NULL;
}

FIXTURE(uffd)
{
	int dev;
	int fd;
	int uffd;
	char *p;
	size_t len;
};

FIXTURE_VARIANT(uffd)
{
	enum me_mem type;
};

FIXTURE_VARIANT_ADD(uffd, private_anon) { .type = ME_PRIVATE_ANON };
FIXTURE_VARIANT_ADD(uffd, memfd_shared) { .type = ME_MEMFD_SHARED };

FIXTURE_SETUP(uffd)
{
	size_t pg = me_page();

	self->dev = me_open();
	ASSERT_LE(0, self->dev);
	self->len = NPAGES * pg;
	self->p = me_map(variant->type, self->len, &self->fd);
	ASSERT_NE(MAP_FAILED, self->p);
	me_fill(self->p, self->len, 11);
	self->uffd = me_uffd_open(UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
	ASSERT_LE(0, self->uffd) TH_LOG("userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, me_uffd_register(self->uffd, self->p, self->len, UFFDIO_REGISTER_MODE_WP));
	/* Pages 0 and 2 write-protected, 1 and 3 not. */
	ASSERT_EQ(0, uffd_wp(self->uffd, self->p, pg, true));
	ASSERT_EQ(0, uffd_wp(self->uffd, self->p + 2 * pg, pg, true));
}

FIXTURE_TEARDOWN(uffd)
{
	close(self->uffd);
	munmap(self->p, self->len);
	if (self->fd >= 0)
		close(self->fd);
	close(self->dev);
}

/* Write page `idx` from another thread; return how many WP faults it raised. */
static int write_from_thread(int uffd, char *page, char v, int *wp_flag_ok)
{
	struct access a = { .p = page, .v = v, .write = true };
	struct uffd_msg msg;
	pthread_t t;
	int faults = 0;

	*wp_flag_ok = 1;
	if (pthread_create(&t, NULL, access_thread, &a))
		return -1;
	while (uffd_next(uffd, 300, &msg)) {
		faults++;
		if (!(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) ||
		    msg.arg.pagefault.address != (uintptr_t)page)
			*wp_flag_ok = 0;
		/* Resolve: drop the protection and wake the writer. */
		uffd_wp(uffd, page, me_page(), false);
	}
	pthread_join(t, NULL);
	return faults;
}

/*
 * Page 0 is still protected and page 1 is not: pagemap bit 57 says so, and so
 * does behaviour (a write from another thread to page 1 raises no uffd
 * fault, one to page 0 exactly one WP fault). The pattern is intact.
 */
static void expect_protection_kept(struct __test_metadata *_metadata, int uffd, char *p,
				   size_t len)
{
	size_t pg = me_page();
	int ok;

	EXPECT_TRUE(me_pagemap(p) & PM_UFFD_WP);
	EXPECT_FALSE(me_pagemap(p + pg) & PM_UFFD_WP);
	EXPECT_EQ(0, write_from_thread(uffd, p + pg, me_pattern(pg, 11), &ok));
	EXPECT_EQ(1, write_from_thread(uffd, p, me_pattern(0, 11), &ok));
	EXPECT_TRUE(ok);
	EXPECT_TRUE(me_check(p, len, 11));
}

TEST_F(uffd, wp_survives_roundtrip)
{
	struct migentry_record rec[NPAGES];

	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, self->len, 0, rec,
			      NPAGES, NULL));
	/* Protected pages: uffd bit kept through the entry, never writable. */
	EXPECT_TRUE(me_has(&rec[0].before, MIGENTRY_PTE_UFFD));
	EXPECT_TRUE(me_has(&rec[0].entry, MIGENTRY_PTE_UFFD));
	EXPECT_EQ(variant->type == ME_PRIVATE_ANON ? MIGENTRY_LEAF_MIGRATION_READ_EXCLUSIVE :
						      MIGENTRY_LEAF_MIGRATION_READ,
		  rec[0].entry.kind);
	EXPECT_TRUE(me_has(&rec[0].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_UFFD));
	EXPECT_FALSE(me_has(&rec[0].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
	EXPECT_EQ(rec[0].after[MIGENTRY_POLICY_UPSTREAM].raw, rec[0].after[MIGENTRY_POLICY_TYPED].raw);
	/* Unprotected pages come back writable. */
	EXPECT_EQ(MIGENTRY_LEAF_MIGRATION_WRITE, rec[1].entry.kind);
	EXPECT_TRUE(me_has(&rec[1].after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));

	expect_protection_kept(_metadata, self->uffd, self->p, self->len);
}

/*
 * Out to swap and back: a protected private page's swap PTE keeps the uffd
 * bit; a protected shmem page leaves a uffd-wp marker where its PTE was.
 * READ_PTE reports both as protected, and the protection survives swap-in.
 */
TEST_F(uffd, wp_survives_swap)
{
	bool anon = variant->type == ME_PRIVATE_ANON;
	struct migentry_record rec[NPAGES];

	ASSERT_TRUE(me_page_out(self->p, self->len))
		TH_LOG("MADV_PAGEOUT left pages mapped; is the guest's swap on?");
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, self->len, 0, rec,
			      NPAGES, NULL));
	EXPECT_EQ(anon ? MIGENTRY_LEAF_SWAP : MIGENTRY_LEAF_MARKER, rec[0].before.kind);
	EXPECT_TRUE(me_has(&rec[0].before, MIGENTRY_PTE_UFFD));
	EXPECT_EQ(anon ? MIGENTRY_LEAF_SWAP : MIGENTRY_LEAF_NONE, rec[1].before.kind);
	EXPECT_FALSE(me_has(&rec[1].before, MIGENTRY_PTE_UFFD));
	/* Swapped in by the writes: page 1 silently, page 0 with exactly one WP fault. */
	expect_protection_kept(_metadata, self->uffd, self->p, self->len);
}

/*
 * The 2022 bug: a uffd-wp'd shmem page as a Read entry. Before 6.2 its
 * vm_page_prot was writable and pte_mkuffd_wp() did not write-protect, so it
 * came back write ∧ uffd-wp. EVALUATE shows what each policy installs.
 */
TEST_F(uffd, evaluate_shows_2022_bug)
{
	struct migentry_record rec;
	struct migentry_range arg;
	const struct migentry_pte_state *pre = &rec.after[MIGENTRY_POLICY_PRE_6_2];

	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_EVALUATE, self->p, me_page(), 0, &rec, 1,
			      &arg));
	EXPECT_TRUE(arg.vma_flags & MIGENTRY_VMA_UFFD_WP);
	EXPECT_FALSE(arg.vma_flags & MIGENTRY_VMA_PROT_WRITE);
	if (variant->type == ME_MEMFD_SHARED) {
		/* Since 51d3d5eb74ff a shared uffd-wp VMA has write-notify. */
		EXPECT_TRUE(arg.vma_flags & MIGENTRY_VMA_WRITE_NOTIFY);
		EXPECT_TRUE(me_has(pre, MIGENTRY_PTE_WRITE | MIGENTRY_PTE_UFFD));
	} else {
		/* Private anon was never affected: PAGE_COPY has no _PAGE_RW. */
		EXPECT_FALSE(me_has(pre, MIGENTRY_PTE_WRITE));
	}
	EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_PETERX_V3], MIGENTRY_PTE_WRITE));
	EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_UPSTREAM], MIGENTRY_PTE_WRITE));
	EXPECT_TRUE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_UFFD));
	EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
}

/*
 * UFFDIO_WRITEPROTECT racing with migration: the Write entry comes back
 * uffd-protected. That takes write access away from page 1, so without
 * MIGENTRY_FEAT_TLB_FLUSH (stock kernel) the round trip is refused and
 * changes nothing: EVALUATE must predict the protected result, and the
 * pages keep the protection they had (page 0 protected, page 1 not).
 */
TEST_F(uffd, uffd_wp_injection)
{
	size_t pg = me_page();
	struct migentry_record rec;
	int ok, tlb;

	tlb = me_tlb_flush(self->dev);
	ASSERT_LE(0, tlb) TH_LOG("INFO: %s", strerror(errno));
	if (!tlb) {
		char why[256];
		const char *bad;

		TH_LOG("no MIGENTRY_FEAT_TLB_FLUSH (stock kernel): ROUNDTRIP refused, EVALUATE checked");
		ASSERT_EQ(0, me_one(self->dev, MIGENTRY_IOC_EVALUATE, self->p + pg,
				    MIGENTRY_RT_UFFD_WP, &rec));
		EXPECT_TRUE(me_has(&rec.before, MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE));
		EXPECT_FALSE(me_has(&rec.before, MIGENTRY_PTE_UFFD));
		EXPECT_NE(MIGENTRY_LEAF_MIGRATION_WRITE, rec.entry.kind);
		EXPECT_TRUE(me_has(&rec.entry, MIGENTRY_PTE_UFFD));
		EXPECT_TRUE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_UFFD));
		EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));

		bad = me_refused_roundtrip(self->dev, self->p + pg, pg, MIGENTRY_RT_UFFD_WP, why,
					   sizeof(why));
		EXPECT_EQ(NULL, bad) TH_LOG("%s", bad);
		/* Page 1 is as writable as it was: a store takes no fault at all. */
		EXPECT_EQ(0, me_store_faults(self->p + pg, me_pattern(pg, 11)));
		EXPECT_FALSE(me_pagemap(self->p + pg) & PM_UFFD_WP);
		/* And the protection is what it was: page 0 protected, page 1 not. */
		expect_protection_kept(_metadata, self->uffd, self->p, self->len);
		return;
	}
	TH_LOG("MIGENTRY_FEAT_TLB_FLUSH: ROUNDTRIP");
	ASSERT_EQ(0, me_one(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p + pg, MIGENTRY_RT_UFFD_WP,
			    &rec));
	EXPECT_NE(MIGENTRY_LEAF_MIGRATION_WRITE, rec.entry.kind);
	EXPECT_TRUE(me_has(&rec.entry, MIGENTRY_PTE_UFFD));
	EXPECT_TRUE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_UFFD));
	EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));
	EXPECT_TRUE(me_pagemap(self->p + pg) & PM_UFFD_WP);
	EXPECT_EQ(1, write_from_thread(self->uffd, self->p + pg, me_pattern(pg, 11), &ok));
	EXPECT_TRUE(ok);
}

/* uffd RWP: a read-write-protected page comes back PAGE_NONE: even a read faults. */
TEST(rwp_survives_roundtrip)
{
	size_t pg = me_page();
	struct uffdio_rwprotect rw = { .range = { .len = pg }, .mode = UFFDIO_RWPROTECT_MODE_RWP };
	struct migentry_record rec;
	struct access a = { .write = false };
	struct uffd_msg msg;
	int dev, fd, uffd, faults = 0;
	pthread_t t;
	char *p;

	dev = me_open();
	ASSERT_LE(0, dev);
	p = me_map(ME_PRIVATE_ANON, pg, &fd);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'r';
	uffd = me_uffd_open(UFFD_FEATURE_RWP);
	ASSERT_LE(0, uffd) TH_LOG("userfaultfd with UFFD_FEATURE_RWP: %s", strerror(errno));
	ASSERT_EQ(0, me_uffd_register(uffd, p, pg, UFFDIO_REGISTER_MODE_RWP));
	rw.range.start = (uintptr_t)p;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_RWPROTECT, &rw));

	ASSERT_EQ(0, me_one(dev, MIGENTRY_IOC_ROUNDTRIP, p, 0, &rec));
	EXPECT_TRUE(me_has(&rec.entry, MIGENTRY_PTE_UFFD));
	EXPECT_TRUE(me_has(&rec.after[MIGENTRY_POLICY_TYPED],
			   MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_PROTNONE | MIGENTRY_PTE_UFFD));
	EXPECT_FALSE(me_has(&rec.after[MIGENTRY_POLICY_TYPED], MIGENTRY_PTE_WRITE));

	a.p = p;
	ASSERT_EQ(0, pthread_create(&t, NULL, access_thread, &a));
	while (uffd_next(uffd, 300, &msg)) {
		faults++;
		EXPECT_TRUE(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_RWP);
		rw.mode = 0;
		ioctl(uffd, UFFDIO_RWPROTECT, &rw);
	}
	pthread_join(t, NULL);
	EXPECT_EQ(1, faults);
	EXPECT_EQ('r', a.seen);
	close(uffd);
	munmap(p, pg);
	close(dev);
}

TEST_HARNESS_MAIN
