// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_errors: every way a range ioctl can be refused gets its precise
 * errno, copies nothing back, and leaves no trace in the kernel log (the
 * guest runner fails the run on any WARN). Outputs that are not writable are
 * found before any PTE is looked at: EFAULT then, with nothing written and
 * no PTE changed.
 */
#include <dirent.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

static const unsigned long range_cmds[] = {
	MIGENTRY_IOC_READ_PTE, MIGENTRY_IOC_ROUNDTRIP, MIGENTRY_IOC_EVALUATE,
};

#define NCMDS (sizeof(range_cmds) / sizeof(range_cmds[0]))

FIXTURE(err)
{
	int dev;
	char *p;
	size_t pg;
	struct migentry_record rec[8];
};

FIXTURE_SETUP(err)
{
	self->dev = me_open();
	ASSERT_LE(0, self->dev);
	self->pg = me_page();
	self->p = mmap(NULL, 4 * self->pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->p);
	madvise(self->p, 4 * self->pg, MADV_NOHUGEPAGE);
	memset(self->p, 1, 4 * self->pg);
}

FIXTURE_TEARDOWN(err)
{
	munmap(self->p, 4 * self->pg);
	close(self->dev);
}

/* Run cmd on [addr, addr + len) expecting -1/err; the argument must come back untouched. */
static int expect_errno(int dev, unsigned long cmd, void *addr, size_t len, __u64 flags,
			struct migentry_record *rec, size_t nr)
{
	struct migentry_range a = {
		.size = sizeof(a), .addr = (uintptr_t)addr, .len = len, .flags = flags,
		.records = (uintptr_t)rec, .nr_records = nr, .nr_done = 12345, .vma_flags = 777,
	};

	errno = 0;
	if (ioctl(dev, cmd, &a) != -1)
		return 0;
	if (a.nr_done != 12345 || a.vma_flags != 777)
		return -2;	/* copied back on error */
	return errno;
}

TEST_F(err, bad_ranges_are_einval)
{
	unsigned int i;

	for (i = 0; i < NCMDS; i++) {
		unsigned long c = range_cmds[i];

		EXPECT_EQ(EINVAL, expect_errno(self->dev, c, self->p, 0, 0, self->rec, 8));
		EXPECT_EQ(EINVAL, expect_errno(self->dev, c, self->p + 1, self->pg, 0, self->rec, 8));
		EXPECT_EQ(EINVAL, expect_errno(self->dev, c, self->p, self->pg + 1, 0, self->rec, 8));
		/* addr + len wraps around */
		EXPECT_EQ(EINVAL, expect_errno(self->dev, c, (void *)-self->pg, 2 * self->pg, 0,
					       self->rec, 8));
		/* unknown flag bit */
		EXPECT_EQ(EINVAL, expect_errno(self->dev, c, self->p, self->pg, 1ULL << 63,
					       self->rec, 8));
	}
	/* READ_PTE takes no flags at all. */
	EXPECT_EQ(EINVAL, expect_errno(self->dev, MIGENTRY_IOC_READ_PTE, self->p, self->pg,
				       MIGENTRY_RT_WRPROTECT, self->rec, 8));
}

TEST_F(err, range_across_vmas_is_einval)
{
	unsigned int i;

	/* Split the mapping into two VMAs. */
	ASSERT_EQ(0, mprotect(self->p + 2 * self->pg, 2 * self->pg, PROT_READ));
	for (i = 0; i < NCMDS; i++)
		EXPECT_EQ(EINVAL, expect_errno(self->dev, range_cmds[i], self->p + self->pg,
					       2 * self->pg, 0, self->rec, 8));
	/* Each half alone is fine. */
	EXPECT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, 2 * self->pg, 0,
			      self->rec, 8, NULL));
}

TEST_F(err, unmapped_is_efault)
{
	unsigned int i;

	ASSERT_EQ(0, munmap(self->p + 3 * self->pg, self->pg));
	for (i = 0; i < NCMDS; i++)
		EXPECT_EQ(EFAULT, expect_errno(self->dev, range_cmds[i], self->p + 3 * self->pg,
					       self->pg, 0, self->rec, 8));
}

TEST_F(err, bad_pointers_are_efault)
{
	unsigned int i;

	for (i = 0; i < NCMDS; i++) {
		EXPECT_EQ(EFAULT, expect_errno(self->dev, range_cmds[i], self->p, self->pg, 0,
					       NULL, 8));
		EXPECT_EQ(EFAULT, ioctl(self->dev, range_cmds[i], NULL) == -1 ? errno : 0);
	}
	/* The page is still intact after a ROUNDTRIP whose records could not be returned. */
	EXPECT_EQ(1, self->p[0]);
}

/*
 * Two pages for outputs, the second read-only: an object placed to end k bytes
 * into the second page runs into read-only memory.
 */
static char *ro_tail_pages(void)
{
	size_t pg = me_page();
	char *b = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (b == MAP_FAILED)
		return NULL;
	memset(b, ME_SENTINEL_BYTE, 2 * pg);
	if (mprotect(b + pg, pg, PROT_READ)) {
		munmap(b, 2 * pg);
		return NULL;
	}
	return b;
}

static bool all_bytes(const char *p, size_t n, unsigned char v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] != v)
			return false;
	return true;
}

/*
 * ROUNDTRIP with injected operations (which, on a kernel with
 * MIGENTRY_FEAT_TLB_FLUSH, would write-protect every page) whose record array
 * ends in a read-only page: EFAULT, decided before any PTE changes. Every
 * PTE is as it was, the writable part of the array and the argument keep
 * their contents, and stores still go through without a fault.
 */
TEST_F(err, roundtrip_records_into_readonly_page_changes_nothing)
{
	const __u64 flags = MIGENTRY_RT_CLEAR_SOFT_DIRTY | MIGENTRY_RT_WRPROTECT;
	size_t pg = self->pg, nr = 4, i;
	size_t bytes = nr * sizeof(struct migentry_record);
	struct migentry_record before[4], after[4];
	struct migentry_range a;
	char *buf = ro_tail_pages();
	char *recs;

	ASSERT_NE(NULL, buf);
	/* All but the last 16 bytes of the array are writable. */
	recs = buf + pg + 16 - bytes;
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, nr * pg, 0, before, nr,
			      NULL));
	for (i = 0; i < nr; i++)
		ASSERT_TRUE(me_has(&before[i].before, MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE));

	a = (struct migentry_range){
		.size = sizeof(a), .addr = (uintptr_t)self->p, .len = nr * pg, .flags = flags,
		.records = (uintptr_t)recs, .nr_records = nr, .nr_done = 12345, .vma_flags = 777,
	};
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev, MIGENTRY_IOC_ROUNDTRIP, &a));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(12345, a.nr_done);
	EXPECT_EQ(777, a.vma_flags);
	EXPECT_TRUE(all_bytes(buf, 2 * pg, ME_SENTINEL_BYTE)) TH_LOG("records written");

	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, nr * pg, 0, after, nr,
			      NULL));
	for (i = 0; i < nr; i++) {
		EXPECT_TRUE(me_pte_same(&before[i].before, &after[i].before))
			TH_LOG("page %zu: PTE %#llx became %#llx", i,
			       (unsigned long long)before[i].before.raw,
			       (unsigned long long)after[i].before.raw);
		EXPECT_EQ(0, me_store_faults(self->p + i * pg, 2)) TH_LOG("page %zu", i);
	}
	munmap(buf, 2 * pg);
}

/*
 * An argument struct whose output words (nr_done, vma_flags) lie on a
 * read-only page: EFAULT for every range ioctl, nothing written, no PTE
 * changed. INFO and STATS with half their struct read-only: EFAULT, and the
 * writable half as it was.
 */
TEST_F(err, half_readonly_argument_is_efault_and_untouched)
{
	const __u64 flags = MIGENTRY_RT_CLEAR_SOFT_DIRTY | MIGENTRY_RT_WRPROTECT;
	size_t pg = self->pg, i;
	struct migentry_record before[4], after[4];
	struct migentry_range *a;
	struct migentry_info *info;
	struct migentry_stats *stats;
	char *buf = ro_tail_pages();

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, 4 * pg, 0, before, 4,
			      NULL));
	/* nr_done and vma_flags are the last 16 bytes: on the read-only page. */
	a = (struct migentry_range *)(buf + pg - offsetof(struct migentry_range, nr_done));
	for (i = 0; i < NCMDS; i++) {
		/* The input fields only: the rest is read-only (and holds sentinels). */
		a->size = sizeof(*a);
		a->addr = (uintptr_t)self->p;
		a->len = 4 * pg;
		a->flags = range_cmds[i] == MIGENTRY_IOC_READ_PTE ? 0 : flags;
		a->records = (uintptr_t)self->rec;
		a->nr_records = 8;
		memset(self->rec, ME_SENTINEL_BYTE, sizeof(self->rec));
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->dev, range_cmds[i], a));
		EXPECT_EQ(EFAULT, errno) TH_LOG("command %zu", i);
		EXPECT_TRUE(all_bytes((char *)self->rec, sizeof(self->rec), ME_SENTINEL_BYTE))
			TH_LOG("command %zu wrote records", i);
		EXPECT_TRUE(all_bytes(buf + pg, pg, ME_SENTINEL_BYTE));
	}
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, 4 * pg, 0, after, 4,
			      NULL));
	for (i = 0; i < 4; i++)
		EXPECT_TRUE(me_pte_same(&before[i].before, &after[i].before)) TH_LOG("page %zu", i);

	/* INFO: its second half on the read-only page. */
	info = (struct migentry_info *)(buf + pg - 16);
	memset(info, ME_SENTINEL_BYTE, 16);
	info->size = sizeof(*info);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev, MIGENTRY_IOC_INFO, info));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(sizeof(*info), info->size);
	EXPECT_TRUE(all_bytes(buf + pg - 8, 8, ME_SENTINEL_BYTE)) TH_LOG("INFO written");

	/* STATS: all but its last word writable. */
	stats = (struct migentry_stats *)(buf + pg + 8 - sizeof(*stats));
	memset(stats, ME_SENTINEL_BYTE, sizeof(*stats) - 8);
	stats->size = sizeof(*stats);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev, MIGENTRY_IOC_STATS, stats));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(sizeof(*stats), stats->size);
	EXPECT_TRUE(all_bytes((char *)stats + 8, sizeof(*stats) - 16, ME_SENTINEL_BYTE))
		TH_LOG("STATS written");
	munmap(buf, 2 * pg);
}

TEST_F(err, small_record_buffer_is_enospc)
{
	unsigned int i;

	for (i = 0; i < NCMDS; i++) {
		EXPECT_EQ(ENOSPC, expect_errno(self->dev, range_cmds[i], self->p, 4 * self->pg, 0,
					       self->rec, 3));
		EXPECT_EQ(ENOSPC, expect_errno(self->dev, range_cmds[i], self->p, self->pg, 0,
					       self->rec, 0));
	}
}

TEST_F(err, too_many_pages_is_e2big)
{
	unsigned int i;

	for (i = 0; i < NCMDS; i++)
		EXPECT_EQ(E2BIG, expect_errno(self->dev, range_cmds[i], self->p,
					      (MIGENTRY_MAX_PAGES + 1) * self->pg, 0, self->rec, 8));
}

/* The largest range is accepted (its ~10 MiB of records come from kvmalloc). */
TEST(max_range_is_accepted)
{
	size_t len = (size_t)MIGENTRY_MAX_PAGES * me_page();
	struct migentry_record *rec = calloc(MIGENTRY_MAX_PAGES, sizeof(*rec));
	struct migentry_range arg;
	int dev = me_open();
	char *p;

	ASSERT_LE(0, dev);
	ASSERT_NE(NULL, rec);
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	madvise(p, len, MADV_NOHUGEPAGE);
	ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_READ_PTE, p, len, 0, rec, MIGENTRY_MAX_PAGES, &arg))
		TH_LOG("READ_PTE of %zu bytes: %s", len, strerror(errno));
	EXPECT_EQ(MIGENTRY_MAX_PAGES, arg.nr_done);
	EXPECT_EQ(MIGENTRY_REC_NONE, rec[MIGENTRY_MAX_PAGES - 1].status);
	EXPECT_EQ((uintptr_t)p + len - me_page(), rec[MIGENTRY_MAX_PAGES - 1].addr);
	munmap(p, len);
	free(rec);
	close(dev);
}

TEST_F(err, uffd_wp_injection_needs_uffd_vma)
{
	EXPECT_EQ(EINVAL, expect_errno(self->dev, MIGENTRY_IOC_ROUNDTRIP, self->p, self->pg,
				       MIGENTRY_RT_UFFD_WP, self->rec, 8));
	EXPECT_EQ(EINVAL, expect_errno(self->dev, MIGENTRY_IOC_EVALUATE, self->p, self->pg,
				       MIGENTRY_RT_UFFD_WP, self->rec, 8));
}

/* Without CAP_SYS_ADMIN, records carry no raw values or PFNs; the decoded bits remain. */
TEST_F(err, raw_values_need_cap_sys_admin)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct d[2];
		struct migentry_record r;

		if (syscall(SYS_capget, &h, d))
			_exit(10);
		d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
		if (syscall(SYS_capset, &h, d))
			_exit(11);
		if (me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, self->pg, 0, &r, 1, NULL))
			_exit(12);
		if (r.before.raw || r.before.pfn)
			_exit(13);
		if (r.before.kind != MIGENTRY_LEAF_PRESENT || !(r.before.flags & MIGENTRY_PTE_PRESENT))
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, me_range(self->dev, MIGENTRY_IOC_READ_PTE, self->p, self->pg, 0, self->rec,
			      1, NULL));
	EXPECT_NE(0, self->rec[0].before.raw);
}

static bool range_has_thp(void *addr)
{
	char line[256];
	bool in = false, thp = false;
	unsigned long start, end, kb;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start <= (uintptr_t)addr && (uintptr_t)addr < end;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1 && kb >= 2048)
			thp = true;
	}
	fclose(f);
	return thp;
}

/*
 * READ_PTE reports a PMD-mapped THP page by page, the round trips handle it
 * as a whole (migentry_thp); a round trip over part of one is ERANGE.
 */
TEST(part_of_pmd_mapped_thp_is_erange)
{
	size_t huge = 2UL << 20;
	struct migentry_record rec[512];
	unsigned int i;
	char *raw, *p;
	int dev;

	dev = me_open();
	ASSERT_LE(0, dev);
	raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	p = (char *)(((uintptr_t)raw + huge - 1) & ~(huge - 1));
	ASSERT_EQ(0, madvise(p, huge, MADV_HUGEPAGE));
	memset(p, 7, huge);
	ASSERT_TRUE(range_has_thp(p)) TH_LOG("no PMD-mapped THP; check transparent_hugepage/enabled");
	for (i = 0; i < NCMDS; i++) {
		if (range_cmds[i] == MIGENTRY_IOC_READ_PTE)
			continue;
		EXPECT_EQ(ERANGE, me_range(dev, range_cmds[i], p, me_page(), 0, rec, 512, NULL)
			  == -1 ? errno : 0);
	}
	EXPECT_EQ(7, p[huge - 1]);
	munmap(raw, 2 * huge);
	close(dev);
}

TEST(hugetlb_is_eopnotsupp)
{
	size_t huge = 2UL << 20;
	struct migentry_record rec[1];
	unsigned int i;
	int dev, fd;
	char *p;

	fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "2", 1));
	close(fd);
	dev = me_open();
	ASSERT_LE(0, dev);
	p = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		 -1, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("MAP_HUGETLB: %s", strerror(errno));
	p[0] = 1;
	for (i = 0; i < NCMDS; i++)
		EXPECT_EQ(EOPNOTSUPP, me_range(dev, range_cmds[i], p, me_page(), 0, rec, 1, NULL)
			  == -1 ? errno : 0);
	munmap(p, huge);
	close(dev);
}

/* A PCI memory BAR mapped through sysfs is VM_IO | VM_PFNMAP. */
TEST(pfnmap_io_is_eopnotsupp)
{
	struct migentry_record rec[1];
	char path[300];
	struct dirent *de;
	void *p = MAP_FAILED;
	unsigned int i;
	int dev, fd = -1;
	DIR *d;

	d = opendir("/sys/bus/pci/devices");
	ASSERT_NE(NULL, d);
	while (p == MAP_FAILED && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		p = mmap(NULL, me_page(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			close(fd);
	}
	closedir(d);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("no mappable PCI memory BAR in the guest");
	dev = me_open();
	ASSERT_LE(0, dev);
	for (i = 0; i < NCMDS; i++)
		EXPECT_EQ(EOPNOTSUPP, me_range(dev, range_cmds[i], p, me_page(), 0, rec, 1, NULL)
			  == -1 ? errno : 0);
	munmap(p, me_page());
	close(fd);
	close(dev);
}

TEST_HARNESS_MAIN
