// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_perm: what a caller without CAP_SYS_ADMIN sees, and whose memory
 * an ioctl reaches.
 *
 * - A process that opened /dev/migentry as root and then dropped
 *   CAP_SYS_ADMIN (uid 0 kept, the capability gone from the effective,
 *   permitted, inheritable and bounding sets), or that gave up root
 *   altogether while keeping the fd, gets records with raw == 0 and pfn == 0
 *   in every entry state, from READ_PTE, EVALUATE and ROUNDTRIP alike, and
 *   otherwise the same records as an admin: the same kinds and flags. For an
 *   admin, raw and pfn are non-zero for present pages.
 * - No ioctl reaches another process's memory: an address mapped only in
 *   another process is EFAULT for the caller, and that process's page is
 *   left as it was; with the same address mapped in both, only the caller's
 *   page is looked at or round-tripped.
 * - An fd acts on the mm of the process calling it, never on the opener's:
 *   inherited across fork(), or taken from the opener with pidfd_getfd().
 *
 * Covered elsewhere, not repeated here: the device node's mode and owner and
 * a non-root open() (migentry_basic), READ_PTE with CAP_SYS_ADMIN dropped from
 * the effective set only (migentry_errors).
 */
#include <grp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "migentry_lib.h"
#include "kselftest_harness.h"

#define NPAGES 4

/* In a forked child: on failure say where and why, and exit 1. */
#define CHILD_CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "# child %d: %s:%d: %s: ", getpid(), __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fprintf(stderr, "\n"); \
		_exit(1); \
	} \
} while (0)

static const unsigned long range_cmds[] = {
	MIGENTRY_IOC_READ_PTE, MIGENTRY_IOC_EVALUATE, MIGENTRY_IOC_ROUNDTRIP,
};

static const char *cmd_name(unsigned long cmd)
{
	return cmd == MIGENTRY_IOC_READ_PTE ? "READ_PTE" :
	       cmd == MIGENTRY_IOC_EVALUATE ? "EVALUATE" : "ROUNDTRIP";
}

static uint64_t pfn_of(void *addr)
{
	return me_pagemap(addr) & ((1ULL << 55) - 1);
}

/* NPAGES private anon pages, written: present, writable, dirty, exclusive. */
static char *map_filled(unsigned int seed)
{
	size_t len = NPAGES * me_page();
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	me_fill(p, len, seed);
	return p;
}

/* The states of a record: before, entry, after[]. */
static const struct migentry_pte_state *rec_state(const struct migentry_record *r, int i)
{
	return i == 0 ? &r->before : i == 1 ? &r->entry : &r->after[i - 2];
}

#define NR_STATES (2 + MIGENTRY_NR_POLICIES)

/* Drops CAP_SYS_ADMIN from every set, keeping uid 0; 0, or what failed. */
static const char *drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	unsigned int i = CAP_TO_INDEX(CAP_SYS_ADMIN);
	__u32 m = CAP_TO_MASK(CAP_SYS_ADMIN);

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0))
		return "PR_CAPBSET_DROP";
	if (syscall(SYS_capget, &h, d))
		return "capget";
	d[i].effective &= ~m;
	d[i].permitted &= ~m;
	d[i].inheritable &= ~m;
	if (syscall(SYS_capset, &h, d))
		return "capset";
	/* Gone for good: it cannot be raised again. */
	if (syscall(SYS_capget, &h, d))
		return "capget (after)";
	if ((d[i].effective | d[i].permitted | d[i].inheritable) & m)
		return "CAP_SYS_ADMIN still set";
	d[i].effective |= m;
	if (syscall(SYS_capset, &h, d) == 0 || errno != EPERM)
		return "CAP_SYS_ADMIN could be raised again";
	if (getuid() != 0 || geteuid() != 0)
		return "uid changed";
	return NULL;
}

static const char *drop_root(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return "setresuid";
	if (geteuid() != 65534)
		return "still root";
	return NULL;
}

/*
 * In a child that keeps dev (opened as root): the admin's view of a fresh
 * mapping, then drop (CAP_SYS_ADMIN or root), then the same calls again.
 * Without the capability every raw and pfn is 0 and kinds and flags are what
 * the admin saw; ROUNDTRIP works and reports the same way.
 */
static void hidden_raw_values_child(int dev, const char *(*drop)(void))
{
	size_t pg = me_page(), len = NPAGES * pg, i;
	struct migentry_record admin[2][NPAGES], user[2][NPAGES], rt[NPAGES];
	static const __u64 eval_flags[2] = { 0, MIGENTRY_RT_WRPROTECT };
	const char *why;
	char *p = map_filled(3);
	int k, s;

	CHILD_CHECK(p, "mmap: %s", strerror(errno));
	/* As admin: raw and pfn are there for every present page. */
	CHILD_CHECK(!me_range(dev, MIGENTRY_IOC_READ_PTE, p, len, 0, admin[0], NPAGES, NULL),
		    "READ_PTE: %s", strerror(errno));
	CHILD_CHECK(!me_range(dev, MIGENTRY_IOC_EVALUATE, p, len, eval_flags[1], admin[1], NPAGES,
			      NULL), "EVALUATE: %s", strerror(errno));
	for (i = 0; i < NPAGES; i++) {
		CHILD_CHECK(admin[0][i].before.kind == MIGENTRY_LEAF_PRESENT, "page %zu kind %u",
			    i, admin[0][i].before.kind);
		CHILD_CHECK(admin[0][i].before.raw && admin[0][i].before.pfn == pfn_of(p + i * pg),
			    "admin READ_PTE page %zu: raw %#llx pfn %#llx, pagemap %#llx", i,
			    (unsigned long long)admin[0][i].before.raw,
			    (unsigned long long)admin[0][i].before.pfn,
			    (unsigned long long)pfn_of(p + i * pg));
		for (s = 0; s < NR_STATES; s++) {
			const struct migentry_pte_state *st = rec_state(&admin[1][i], s);

			CHILD_CHECK(st->raw && st->pfn,
				    "admin EVALUATE page %zu state %d: raw %#llx pfn %#llx", i, s,
				    (unsigned long long)st->raw, (unsigned long long)st->pfn);
		}
	}

	why = drop();
	CHILD_CHECK(!why, "%s: %s", why, strerror(errno));

	for (k = 0; k < 2; k++) {
		unsigned long cmd = k ? MIGENTRY_IOC_EVALUATE : MIGENTRY_IOC_READ_PTE;

		CHILD_CHECK(!me_range(dev, cmd, p, len, eval_flags[k], user[k], NPAGES, NULL),
			    "%s without the capability: %s", cmd_name(cmd), strerror(errno));
		for (i = 0; i < NPAGES; i++) {
			CHILD_CHECK(user[k][i].status == admin[k][i].status &&
				    user[k][i].refused == admin[k][i].refused &&
				    user[k][i].addr == admin[k][i].addr,
				    "%s page %zu: status %u refused %u, admin saw %u %u",
				    cmd_name(cmd), i, user[k][i].status, user[k][i].refused,
				    admin[k][i].status, admin[k][i].refused);
			for (s = 0; s < (k ? NR_STATES : 1); s++) {
				const struct migentry_pte_state *u = rec_state(&user[k][i], s);
				const struct migentry_pte_state *a = rec_state(&admin[k][i], s);

				CHILD_CHECK(!u->raw && !u->pfn,
					    "%s page %zu state %d: raw %#llx pfn %#llx",
					    cmd_name(cmd), i, s, (unsigned long long)u->raw,
					    (unsigned long long)u->pfn);
				CHILD_CHECK(u->kind == a->kind &&
					    (u->flags & ~ME_HW_FLAGS) == (a->flags & ~ME_HW_FLAGS),
					    "%s page %zu state %d: kind %u flags %#x, admin saw %u %#x",
					    cmd_name(cmd), i, s, u->kind, u->flags, a->kind, a->flags);
			}
			for (s = k ? NR_STATES : 1; s < NR_STATES; s++)
				CHILD_CHECK(!rec_state(&user[k][i], s)->kind,
					    "READ_PTE filled state %d", s);
		}
	}
	/* A round trip that takes no rights away works on every kernel. */
	CHILD_CHECK(!me_range(dev, MIGENTRY_IOC_ROUNDTRIP, p, len, 0, rt, NPAGES, NULL),
		    "ROUNDTRIP without the capability: %s", strerror(errno));
	for (i = 0; i < NPAGES; i++) {
		for (s = 0; s < NR_STATES; s++) {
			const struct migentry_pte_state *st = rec_state(&rt[i], s);

			CHILD_CHECK(!st->raw && !st->pfn, "ROUNDTRIP page %zu state %d: raw %#llx pfn %#llx",
				    i, s, (unsigned long long)st->raw, (unsigned long long)st->pfn);
		}
		CHILD_CHECK(rt[i].status == MIGENTRY_REC_DONE &&
			    rt[i].before.kind == MIGENTRY_LEAF_PRESENT &&
			    rt[i].entry.kind == MIGENTRY_LEAF_MIGRATION_WRITE &&
			    me_has(&rt[i].after[MIGENTRY_POLICY_TYPED],
				   MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE),
			    "ROUNDTRIP page %zu: status %u, kinds %u -> %u, typed flags %#x", i,
			    rt[i].status, rt[i].before.kind, rt[i].entry.kind,
			    rt[i].after[MIGENTRY_POLICY_TYPED].flags);
	}
	CHILD_CHECK(me_check(p, len, 3), "data changed");
	_exit(0);
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

TEST(no_cap_sys_admin_no_raw_values)
{
	int dev = me_open();
	pid_t pid;

	ASSERT_LE(0, dev) TH_LOG("open %s: %s", ME_DEV, strerror(errno));
	ASSERT_EQ(0, getuid()) TH_LOG("run as root");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		hidden_raw_values_child(dev, drop_cap_sys_admin);
	EXPECT_EQ(0, wait_child(pid));
	close(dev);
}

/* Gave up root altogether, kept the fd: the fd still works, on the caller's memory only. */
TEST(non_root_with_inherited_fd_no_raw_values)
{
	int dev = me_open();
	pid_t pid;

	ASSERT_LE(0, dev) TH_LOG("open %s: %s", ME_DEV, strerror(errno));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		hidden_raw_values_child(dev, drop_root);
	EXPECT_EQ(0, wait_child(pid));
	close(dev);
}

/* A free address: mapped and unmapped again, so no VMA is there. */
static char *free_address(size_t len)
{
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, len);
	return p;
}

/* One byte over a pipe; false on EOF or error. */
static bool sync_send(int fd)
{
	return write(fd, "x", 1) == 1;
}

static bool sync_wait(int fd)
{
	char c;

	return read(fd, &c, 1) == 1;
}

/*
 * A child's page, at an address the parent does not map: every range ioctl
 * of the parent at that address is EFAULT, with nothing copied back, and the
 * child's page keeps its PTE, its data, and its writability.
 */
TEST(other_process_address_is_efault)
{
	size_t pg = me_page(), len = NPAGES * pg;
	static const __u64 flags[] = { 0, MIGENTRY_RT_WRPROTECT, MIGENTRY_RT_CLEAR_SOFT_DIRTY };
	struct migentry_record rec[NPAGES];
	struct migentry_range arg;
	int dev = me_open(), to_child[2], to_parent[2];
	char *x = free_address(len), buf[160];
	unsigned int c, f;
	pid_t pid;

	ASSERT_LE(0, dev);
	ASSERT_NE(NULL, x);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct migentry_record before[NPAGES], after[NPAGES];
		char *p;
		size_t i;

		p = mmap(x, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		CHILD_CHECK(p == x, "mmap at %p: %s", x, strerror(errno));
		madvise(p, len, MADV_NOHUGEPAGE);
		me_fill(p, len, 5);
		CHILD_CHECK(!me_range(dev, MIGENTRY_IOC_READ_PTE, p, len, 0, before, NPAGES, NULL),
			    "READ_PTE: %s", strerror(errno));
		CHILD_CHECK(sync_send(to_parent[1]) && sync_wait(to_child[0]), "sync");
		CHILD_CHECK(!me_range(dev, MIGENTRY_IOC_READ_PTE, p, len, 0, after, NPAGES, NULL),
			    "READ_PTE: %s", strerror(errno));
		for (i = 0; i < NPAGES; i++) {
			CHILD_CHECK(me_has(&after[i].before, MIGENTRY_PTE_PRESENT | MIGENTRY_PTE_WRITE),
				    "page %zu flags %#x", i, after[i].before.flags);
			CHILD_CHECK(me_pte_same(&before[i].before, &after[i].before),
				    "page %zu: raw %#llx -> %#llx", i,
				    (unsigned long long)before[i].before.raw,
				    (unsigned long long)after[i].before.raw);
			CHILD_CHECK(me_store_faults(p + i * pg, me_pattern(i * pg, 5)) == 0,
				    "page %zu: a store faults", i);
		}
		CHILD_CHECK(me_check(p, len, 5), "data changed");
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	ASSERT_TRUE(sync_wait(to_parent[0]));
	for (c = 0; c < sizeof(range_cmds) / sizeof(range_cmds[0]); c++)
		for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
			if (range_cmds[c] == MIGENTRY_IOC_READ_PTE && flags[f])
				continue;
			errno = 0;
			EXPECT_EQ(-1, me_range_sentinel(dev, range_cmds[c], x, len, flags[f], rec,
							NPAGES, &arg));
			EXPECT_EQ(EFAULT, errno) TH_LOG("%s flags %#llx at the child's address: %s",
						       cmd_name(range_cmds[c]),
						       (unsigned long long)flags[f], strerror(errno));
			EXPECT_EQ(NULL, me_untouched(&arg, rec, NPAGES, buf, sizeof(buf)));
		}
	EXPECT_TRUE(sync_send(to_child[1]));
	EXPECT_EQ(0, wait_child(pid));
	close(to_child[1]);
	close(to_parent[0]);
	close(dev);
}

/*
 * The same address mapped in the parent and (another page) in the child:
 * the parent's ioctls report and round-trip the parent's page only. On a
 * kernel with MIGENTRY_FEAT_TLB_FLUSH the parent's round trip write-protects
 * its page (its next store faults) while the child's stays writable.
 */
TEST(same_address_acts_on_callers_page)
{
	size_t pg = me_page(), len = NPAGES * pg, i;
	struct migentry_record rec[NPAGES];
	int dev = me_open(), to_child[2], to_parent[2], tlb;
	uint64_t child_pfn[NPAGES];
	__u64 flags;
	char *x;
	pid_t pid;

	ASSERT_LE(0, dev);
	tlb = me_tlb_flush(dev);
	ASSERT_LE(0, tlb);
	flags = tlb ? MIGENTRY_RT_WRPROTECT : 0;
	x = map_filled(7);
	ASSERT_NE(NULL, x);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct migentry_record before[NPAGES], after[NPAGES];
		char *p;

		/* Another page at the same address. */
		munmap(x, len);
		p = mmap(x, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		CHILD_CHECK(p == x, "mmap at %p: %s", x, strerror(errno));
		madvise(p, len, MADV_NOHUGEPAGE);
		me_fill(p, len, 8);
		CHILD_CHECK(!me_range(dev, MIGENTRY_IOC_READ_PTE, p, len, 0, before, NPAGES, NULL),
			    "READ_PTE: %s", strerror(errno));
		for (i = 0; i < NPAGES; i++) {
			uint64_t pfn = before[i].before.pfn;

			CHILD_CHECK(write(to_parent[1], &pfn, sizeof(pfn)) == sizeof(pfn), "pipe");
		}
		CHILD_CHECK(sync_wait(to_child[0]), "sync");
		CHILD_CHECK(!me_range(dev, MIGENTRY_IOC_READ_PTE, p, len, 0, after, NPAGES, NULL),
			    "READ_PTE: %s", strerror(errno));
		for (i = 0; i < NPAGES; i++) {
			CHILD_CHECK(me_pte_same(&before[i].before, &after[i].before),
				    "page %zu: raw %#llx -> %#llx", i,
				    (unsigned long long)before[i].before.raw,
				    (unsigned long long)after[i].before.raw);
			CHILD_CHECK(me_store_faults(p + i * pg, me_pattern(i * pg, 8)) == 0,
				    "page %zu: a store faults", i);
		}
		CHILD_CHECK(me_check(p, len, 8), "data changed");
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(sizeof(child_pfn[i]), read(to_parent[0], &child_pfn[i], sizeof(child_pfn[i])));
	/* The parent's pages after fork(): write-protected, shared with nobody now. */
	for (i = 0; i < NPAGES; i++)
		x[i * pg] = me_pattern(i * pg, 7);
	ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_READ_PTE, x, len, 0, rec, NPAGES, NULL));
	for (i = 0; i < NPAGES; i++) {
		EXPECT_EQ(pfn_of(x + i * pg), rec[i].before.pfn);
		EXPECT_NE(child_pfn[i], rec[i].before.pfn);
	}
	ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_ROUNDTRIP, x, len, flags, rec, NPAGES, NULL))
		TH_LOG("ROUNDTRIP flags %#llx: %s", (unsigned long long)flags, strerror(errno));
	for (i = 0; i < NPAGES; i++) {
		EXPECT_EQ(MIGENTRY_REC_DONE, rec[i].status);
		EXPECT_EQ(pfn_of(x + i * pg), rec[i].before.pfn);
		EXPECT_NE(child_pfn[i], rec[i].before.pfn);
		EXPECT_EQ(rec[i].before.pfn, rec[i].after[MIGENTRY_POLICY_TYPED].pfn);
		if (tlb)
			EXPECT_LE(1, me_store_faults(x + i * pg, me_pattern(i * pg, 7)))
				TH_LOG("page %zu: the parent's round trip did not write-protect it", i);
	}
	EXPECT_TRUE(me_check(x, len, 7));
	EXPECT_TRUE(sync_send(to_child[1]));
	EXPECT_EQ(0, wait_child(pid));
	munmap(x, len);
	close(to_child[1]);
	close(to_parent[0]);
	close(dev);
}

/*
 * fork() after open(): the child's calls on the inherited fd act on the
 * child's mm. They see the child's own page (after its COW copy), and an
 * address the child unmapped is EFAULT though the opener still maps it. A
 * round trip in the child leaves the parent's PTE and data alone.
 */
TEST(inherited_fd_acts_on_callers_mm)
{
	size_t pg = me_page(), len = NPAGES * pg, i;
	struct migentry_record before[NPAGES], after[NPAGES];
	int dev = me_open(), to_child[2], to_parent[2], tlb;
	uint64_t parent_pfn[NPAGES];
	char *x;
	pid_t pid;

	ASSERT_LE(0, dev);
	tlb = me_tlb_flush(dev);
	ASSERT_LE(0, tlb);
	x = map_filled(9);
	ASSERT_NE(NULL, x);
	for (i = 0; i < NPAGES; i++)
		parent_pfn[i] = pfn_of(x + i * pg);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct migentry_record rec[NPAGES];
		struct migentry_range arg;
		char buf[160];

		CHILD_CHECK(sync_wait(to_child[0]), "sync");
		/* COW-copy pages 0 and 1; pages 2 and 3 stay shared with the parent. */
		x[0] = me_pattern(0, 9);
		x[pg] = me_pattern(pg, 9);
		CHILD_CHECK(!me_range(dev, MIGENTRY_IOC_READ_PTE, x, len, 0, rec, NPAGES, NULL),
			    "READ_PTE: %s", strerror(errno));
		for (i = 0; i < NPAGES; i++)
			CHILD_CHECK(rec[i].before.pfn == pfn_of(x + i * pg),
				    "page %zu: record pfn %#llx, own pagemap %#llx", i,
				    (unsigned long long)rec[i].before.pfn,
				    (unsigned long long)pfn_of(x + i * pg));
		for (i = 0; i < 2; i++)
			CHILD_CHECK(rec[i].before.pfn != parent_pfn[i] &&
				    me_has(&rec[i].before, MIGENTRY_PTE_WRITE),
				    "page %zu: the parent's page, or not writable (flags %#x)", i,
				    rec[i].before.flags);
		/* The child's own round trip, on its copies and on the shared pages. */
		CHILD_CHECK(!me_range(dev, MIGENTRY_IOC_ROUNDTRIP, x, len,
				      tlb ? MIGENTRY_RT_WRPROTECT : 0, rec, NPAGES, NULL),
			    "ROUNDTRIP: %s", strerror(errno));
		for (i = 0; i < NPAGES; i++)
			CHILD_CHECK(rec[i].before.pfn == pfn_of(x + i * pg),
				    "ROUNDTRIP page %zu: pfn %#llx, own pagemap %#llx", i,
				    (unsigned long long)rec[i].before.pfn,
				    (unsigned long long)pfn_of(x + i * pg));
		CHILD_CHECK(me_check(x, len, 9), "data changed");
		/* Unmapped here, mapped in the opener: EFAULT. */
		CHILD_CHECK(!munmap(x, len), "munmap");
		for (i = 0; i < sizeof(range_cmds) / sizeof(range_cmds[0]); i++) {
			errno = 0;
			CHILD_CHECK(me_range_sentinel(dev, range_cmds[i], x, len, 0, rec, NPAGES,
						      &arg) == -1 && errno == EFAULT,
				    "%s at an address only the opener maps: errno %d",
				    cmd_name(range_cmds[i]), errno);
			CHILD_CHECK(!me_untouched(&arg, rec, NPAGES, buf, sizeof(buf)), "%s", buf);
		}
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	/* The parent's PTEs as fork() left them (write-protected), before the child acts. */
	ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_READ_PTE, x, len, 0, before, NPAGES, NULL));
	ASSERT_TRUE(sync_send(to_child[1]));
	EXPECT_EQ(0, wait_child(pid));
	ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_READ_PTE, x, len, 0, after, NPAGES, NULL));
	for (i = 0; i < NPAGES; i++) {
		EXPECT_EQ(parent_pfn[i], after[i].before.pfn);
		EXPECT_TRUE(me_pte_same(&before[i].before, &after[i].before))
			TH_LOG("parent page %zu: raw %#llx -> %#llx", i,
			       (unsigned long long)before[i].before.raw,
			       (unsigned long long)after[i].before.raw);
	}
	EXPECT_TRUE(me_check(x, len, 9));
	munmap(x, len);
	close(to_child[1]);
	close(to_parent[0]);
	close(dev);
}

/* The fd `fd` of process `pid`, duplicated into this one (pidfd_getfd(2)): the same open file. */
static int steal_fd(pid_t pid, int fd)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0), ret;

	if (pidfd < 0)
		return -1;
	ret = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	return ret;
}

/*
 * An fd opened by another process and handed over (pidfd_getfd(); the guest
 * kernel has no unix sockets for SCM_RIGHTS) acts on the receiver's mm: the
 * opener's mapping is EFAULT for the receiver (and left alone), the
 * receiver's own pages are reported as its own.
 */
TEST(received_fd_acts_on_receivers_mm)
{
	size_t pg = me_page(), len = NPAGES * pg, i;
	struct migentry_record rec[NPAGES];
	struct migentry_range arg;
	int dev, to_child[2], to_parent[2], child_fd;
	char *x = free_address(len), *mine, buf[160];
	pid_t pid;

	ASSERT_NE(NULL, x);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct migentry_record b[NPAGES], a[NPAGES];
		int fd = me_open();
		char *p;

		CHILD_CHECK(fd >= 0, "open: %s", strerror(errno));
		p = mmap(x, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		CHILD_CHECK(p == x, "mmap at %p: %s", x, strerror(errno));
		madvise(p, len, MADV_NOHUGEPAGE);
		me_fill(p, len, 11);
		CHILD_CHECK(!me_range(fd, MIGENTRY_IOC_READ_PTE, p, len, 0, b, NPAGES, NULL),
			    "READ_PTE: %s", strerror(errno));
		CHILD_CHECK(write(to_parent[1], &fd, sizeof(fd)) == sizeof(fd), "pipe");
		CHILD_CHECK(sync_wait(to_child[0]), "sync");
		CHILD_CHECK(!me_range(fd, MIGENTRY_IOC_READ_PTE, p, len, 0, a, NPAGES, NULL),
			    "READ_PTE: %s", strerror(errno));
		for (i = 0; i < NPAGES; i++)
			CHILD_CHECK(me_pte_same(&b[i].before, &a[i].before),
				    "page %zu: raw %#llx -> %#llx", i,
				    (unsigned long long)b[i].before.raw,
				    (unsigned long long)a[i].before.raw);
		CHILD_CHECK(me_check(p, len, 11), "data changed");
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	ASSERT_EQ(sizeof(child_fd), read(to_parent[0], &child_fd, sizeof(child_fd)));
	dev = steal_fd(pid, child_fd);
	ASSERT_LE(0, dev) TH_LOG("pidfd_getfd: %s", strerror(errno));
	for (i = 0; i < sizeof(range_cmds) / sizeof(range_cmds[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, me_range_sentinel(dev, range_cmds[i], x, len, 0, rec, NPAGES, &arg));
		EXPECT_EQ(EFAULT, errno) TH_LOG("%s at the sender's address: %s",
					       cmd_name(range_cmds[i]), strerror(errno));
		EXPECT_EQ(NULL, me_untouched(&arg, rec, NPAGES, buf, sizeof(buf)));
	}
	mine = map_filled(12);
	ASSERT_NE(NULL, mine);
	ASSERT_EQ(0, me_range(dev, MIGENTRY_IOC_ROUNDTRIP, mine, len, 0, rec, NPAGES, NULL))
		TH_LOG("ROUNDTRIP of the receiver's own pages: %s", strerror(errno));
	for (i = 0; i < NPAGES; i++) {
		EXPECT_EQ(MIGENTRY_REC_DONE, rec[i].status);
		EXPECT_EQ(pfn_of(mine + i * pg), rec[i].before.pfn);
	}
	EXPECT_TRUE(me_check(mine, len, 12));
	EXPECT_TRUE(sync_send(to_child[1]));
	EXPECT_EQ(0, wait_child(pid));
	munmap(mine, len);
	close(to_child[1]);
	close(to_parent[0]);
	close(dev);
}

TEST_HARNESS_MAIN
