// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_basic: the /dev/migentry device itself - it opens, INFO answers
 * with sane values, and bad requests get precise errnos.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uapi/migentry.h>

#include "kselftest_harness.h"

#define DEV_PATH "/dev/migentry"
/* What selftests/config gives every kernel variant. */
#define CONFIG_FEATURES (MIGENTRY_FEAT_UFFD_WP | MIGENTRY_FEAT_SOFT_DIRTY | \
			 MIGENTRY_FEAT_UFFD_RWP | MIGENTRY_FEAT_NUMA | \
			 MIGENTRY_FEAT_MIGRATION_AD)
/* TLB_FLUSH and RESTORE_HOOK: the hooked variant only. */
#define VARIANT_FEATURES (MIGENTRY_FEAT_TLB_FLUSH | MIGENTRY_FEAT_RESTORE_HOOK)
#define KNOWN_FEATURES (CONFIG_FEATURES | VARIANT_FEATURES)

/* Whether the CPU has the L1TF bug (sysfs says anything but "Not affected"). */
static bool l1tf_affected(void)
{
	char buf[64] = "";
	FILE *f = fopen("/sys/devices/system/cpu/vulnerabilities/l1tf", "r");
	bool affected;

	if (!f)
		return false;
	affected = fgets(buf, sizeof(buf), f) && strncmp(buf, "Not affected", 12);
	fclose(f);
	return affected;
}

FIXTURE(dev)
{
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", DEV_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(dev, info_fields_are_sane)
{
	struct migentry_info info;

	memset(&info, 0xa5, sizeof(info));
	info.size = sizeof(info);
	ASSERT_EQ(0, ioctl(self->fd, MIGENTRY_IOC_INFO, &info));

	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(MIGENTRY_ABI_VERSION, info.abi_version);
	EXPECT_EQ(sysconf(_SC_PAGESIZE), info.page_size);
	EXPECT_EQ(0, info.features & ~KNOWN_FEATURES);
	EXPECT_EQ(0, info.reserved);
	EXPECT_LE(1, info.nr_online_nodes);
	if (!(info.features & MIGENTRY_FEAT_NUMA))
		EXPECT_EQ(1, info.nr_online_nodes);
	/*
	 * The guest kernel is built from selftests/config, which enables all of
	 * them. A/D in migration entries also needs a CPU without the L1TF bug
	 * (QEMU's default model): on one with it, the swap offset limit may
	 * leave no room for them, and the module then says so.
	 */
	if (l1tf_affected()) {
		EXPECT_EQ(CONFIG_FEATURES & ~MIGENTRY_FEAT_MIGRATION_AD,
			  info.features & ~(VARIANT_FEATURES | MIGENTRY_FEAT_MIGRATION_AD));
	} else {
		EXPECT_EQ(CONFIG_FEATURES, info.features & ~VARIANT_FEATURES);
	}
}

/*
 * Lines of /proc/kallsyms ending in " name": how many symbols there are
 * whose name starts with prefix (in *nr_prefix), and whether name is one.
 * -1 if the file cannot be read.
 */
static int kallsyms_has(const char *name, const char *prefix, long *nr_prefix)
{
	char line[512];
	size_t plen = strlen(prefix);
	int found = 0;
	FILE *f = fopen("/proc/kallsyms", "re");

	*nr_prefix = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *sym, *end;

		/* "address type name [module]" */
		sym = strchr(line, ' ');
		sym = sym ? strchr(sym + 1, ' ') : NULL;
		if (!sym)
			continue;
		sym++;
		end = sym + strcspn(sym, " \t\n");
		*end = '\0';
		if (!strncmp(sym, prefix, plen))
			(*nr_prefix)++;
		if (!strcmp(sym, name))
			found = 1;
	}
	fclose(f);
	return found;
}

/*
 * TLB_FLUSH is there exactly when the kernel exports flush_tlb_mm_range()
 * (to migentry): the hooked variant, CONFIG_MIGENTRY_HOOKS. Its export
 * table entry is visible in /proc/kallsyms where that lists data symbols
 * at all (CONFIG_KALLSYMS_ALL, as the guest kernels have it).
 */
TEST_F(dev, tlb_flush_feature_matches_kernel)
{
	struct migentry_info info = { .size = sizeof(info) };
	bool flush;
	long nr_exports;
	int exported;

	ASSERT_EQ(0, ioctl(self->fd, MIGENTRY_IOC_INFO, &info));
	flush = info.features & MIGENTRY_FEAT_TLB_FLUSH;
	TH_LOG("MIGENTRY_FEAT_TLB_FLUSH %s: a %s kernel", flush ? "set" : "clear",
	       flush ? "hooked" : "stock");
	exported = kallsyms_has("__ksymtab_flush_tlb_mm_range", "__ksymtab_", &nr_exports);
	ASSERT_LE(0, exported) TH_LOG("/proc/kallsyms: %s", strerror(errno));
	if (!nr_exports) {
		TH_LOG("/proc/kallsyms lists no export table entries (no CONFIG_KALLSYMS_ALL): nothing to compare with");
		return;
	}
	EXPECT_EQ(flush, exported)
		TH_LOG("FEAT_TLB_FLUSH %s but flush_tlb_mm_range() is %sexported",
		       flush ? "set" : "clear", exported ? "" : "not ");
}

/*
 * The restore hook is there with the hooked variant, and migentry registers
 * itself as it by default (module parameter hook=1); STATS says so, and so
 * does INFO. A wrong size is EINVAL.
 */
TEST_F(dev, stats_report_the_hook)
{
	struct migentry_info info = { .size = sizeof(info) };
	struct migentry_stats s = { .size = sizeof(s) };
	bool available, registered;

	ASSERT_EQ(0, ioctl(self->fd, MIGENTRY_IOC_INFO, &info));
	ASSERT_EQ(0, ioctl(self->fd, MIGENTRY_IOC_STATS, &s));
	EXPECT_EQ(sizeof(s), s.size);
	available = s.flags & MIGENTRY_STATS_HOOK_AVAILABLE;
	registered = s.flags & MIGENTRY_STATS_HOOK_REGISTERED;
	TH_LOG("restore hook %s, %s", available ? "available" : "absent",
	       registered ? "registered" : "not registered");
	EXPECT_EQ(0, s.flags & ~(MIGENTRY_STATS_HOOK_AVAILABLE | MIGENTRY_STATS_HOOK_REGISTERED));
	/* The hook and the TLB exports come with the same kernel variant. */
	EXPECT_EQ(available, !!(info.features & MIGENTRY_FEAT_TLB_FLUSH));
	EXPECT_EQ(registered, available);
	EXPECT_EQ(registered, !!(info.features & MIGENTRY_FEAT_RESTORE_HOOK));
	if (!available)
		EXPECT_EQ(0, s.restores + s.kernel_called);
	EXPECT_EQ(0, s.unexpected);
	EXPECT_EQ(0, s.kernel_rejected);

	s.size = sizeof(s) - 8;
	EXPECT_EQ(-1, ioctl(self->fd, MIGENTRY_IOC_STATS, &s));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, unknown_ioctl_is_enotty)
{
	struct migentry_info info = { .size = sizeof(info) };

	/* Unknown command number in our magic. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(MIGENTRY_IOC_MAGIC, 0x7f, struct migentry_info), &info));
	EXPECT_EQ(ENOTTY, errno);
	/* INFO's number with another direction or size is another command. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(MIGENTRY_IOC_MAGIC, 0x00, struct migentry_info), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(MIGENTRY_IOC_MAGIC, 0x00, __u64), &info));
	EXPECT_EQ(ENOTTY, errno);
	/* Another driver's magic. */
	EXPECT_EQ(-1, ioctl(self->fd, _IO('|', 0x80)));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, wrong_size_is_einval)
{
	const __u64 sizes[] = { 0, 8, sizeof(struct migentry_info) - 1,
				sizeof(struct migentry_info) + 1,
				sizeof(struct migentry_info) + 8, 4096, ~0ULL };
	struct migentry_info info;
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&info, 0x5a, sizeof(info));
		info.size = sizes[i];
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, MIGENTRY_IOC_INFO, &info));
		EXPECT_EQ(EINVAL, errno) TH_LOG("size %llu", (unsigned long long)sizes[i]);
		/* Nothing is copied back on error. */
		EXPECT_EQ(0x5a5a5a5au, info.abi_version);
	}
}

TEST_F(dev, bad_pointer_is_efault)
{
	EXPECT_EQ(-1, ioctl(self->fd, MIGENTRY_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, MIGENTRY_IOC_INFO, (void *)-4096L));
	EXPECT_EQ(EFAULT, errno);
}

TEST(device_node_is_root_only)
{
	struct stat st;

	ASSERT_EQ(0, stat(DEV_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

TEST(non_root_cannot_open)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, getuid()) TH_LOG("this test drops root itself; run it as root");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		if (geteuid() != 65534)
			_exit(11);
		fd = open(DEV_PATH, O_RDWR);
		if (fd >= 0)
			_exit(12);
		_exit(errno == EACCES ? 0 : 13);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child: 10 drop failed, 12 open succeeded, 13 wrong errno");
}

TEST_HARNESS_MAIN
