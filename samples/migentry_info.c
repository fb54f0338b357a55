// SPDX-License-Identifier: GPL-2.0
/*
 * migentry_info: print what /dev/migentry reports about the running kernel.
 * Static, uses only include/uapi/migentry.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <uapi/migentry.h>

static const struct {
	__u64 bit;
	const char *name;
	const char *what;
} features[] = {
	{ MIGENTRY_FEAT_UFFD_WP, "uffd-wp", "userfaultfd write-protect" },
	{ MIGENTRY_FEAT_SOFT_DIRTY, "soft-dirty", "soft-dirty tracking (clear_refs 4)" },
	{ MIGENTRY_FEAT_UFFD_RWP, "uffd-rwp", "userfaultfd read-write protect" },
	{ MIGENTRY_FEAT_NUMA, "numa", "NUMA (page migration between nodes)" },
	{ MIGENTRY_FEAT_MIGRATION_AD, "mig-ad", "migration entries keep young/dirty" },
	{ MIGENTRY_FEAT_TLB_FLUSH, "tlb-flush", "the module may flush a user mm's TLB" },
	{ MIGENTRY_FEAT_RESTORE_HOOK, "hook", "real migrations use the typed restore" },
};

static const char *const refused[] = { "VM_WRITE missing", "uffd bit", "soft-dirty pending" };
static const char *const divergences[] = {
	"D1 read entry, writable vm_page_prot", "D2 write entry, no VM_WRITE",
	"D3 soft-dirty pending", "D4 write entry with uffd",
};

/* The restore hook's counters (the hooked kernel variant). */
static int print_stats(int fd)
{
	struct migentry_stats s = { .size = sizeof(s) };
	unsigned int i;

	if (ioctl(fd, MIGENTRY_IOC_STATS, &s)) {
		fprintf(stderr, "MIGENTRY_IOC_STATS: %s\n", strerror(errno));
		return 1;
	}
	if (!(s.flags & MIGENTRY_STATS_HOOK_AVAILABLE)) {
		printf("restore hook: this kernel has none\n");
		return 0;
	}
	printf("restore hook: %s; the kernel consulted it %llu times, kept C's PTE %llu times, did not ask %llu times\n",
	       s.flags & MIGENTRY_STATS_HOOK_REGISTERED ? "registered" : "not registered",
	       (unsigned long long)s.kernel_called, (unsigned long long)s.kernel_rejected,
	       (unsigned long long)s.kernel_unseen);
	printf("  typed restores %llu: writable %llu, write-protected %llu, uffd %llu\n",
	       (unsigned long long)s.restores, (unsigned long long)s.writable,
	       (unsigned long long)s.write_protected, (unsigned long long)s.uffd);
	for (i = 0; i < 3; i++)
		printf("  refused write: %-36s %llu\n", refused[i],
		       (unsigned long long)s.refused[i]);
	for (i = 0; i < 4; i++)
		printf("  unlike C:      %-36s %llu\n", divergences[i],
		       (unsigned long long)s.divergences[i]);
	printf("  unlike C:      %-36s %llu\n", "C's PTE writable+uffd (2022 bug)",
	       (unsigned long long)s.c_write_uffd);
	printf("  unlike C, undocumented %llu; C's PTE kept %llu\n",
	       (unsigned long long)s.unexpected, (unsigned long long)s.left_to_c);
	return 0;
}

/* The same for PMD-mapped THPs (remove_migration_pmd()). */
static int print_pmd_stats(int fd)
{
	static const char *const pmd_divergences[] = {
		"P1 read entry, writable vm_page_prot", "P2 write entry, no VM_WRITE",
		"P3 soft-dirty pending",
	};
	struct migentry_pmd_stats s = { .size = sizeof(s) };
	unsigned int i;

	if (ioctl(fd, MIGENTRY_IOC_PMD_STATS, &s)) {
		fprintf(stderr, "MIGENTRY_IOC_PMD_STATS: %s\n", strerror(errno));
		return 1;
	}
	if (!(s.flags & MIGENTRY_STATS_HOOK_AVAILABLE))
		return 0;
	printf("restore hook, THP PMDs: the kernel consulted it %llu times, kept C's PMD %llu times\n",
	       (unsigned long long)s.kernel_called, (unsigned long long)s.kernel_rejected);
	printf("  typed restores %llu: writable %llu, write-protected %llu, uffd %llu\n",
	       (unsigned long long)s.restores, (unsigned long long)s.writable,
	       (unsigned long long)s.write_protected, (unsigned long long)s.uffd);
	for (i = 0; i < 3; i++)
		printf("  refused write: %-36s %llu\n", refused[i],
		       (unsigned long long)s.refused[i]);
	for (i = 0; i < 3; i++)
		printf("  unlike C:      %-36s %llu\n", pmd_divergences[i],
		       (unsigned long long)s.divergences[i]);
	printf("  unlike C:      %-36s %llu\n", "C's PMD writable+uffd",
	       (unsigned long long)s.c_write_uffd);
	printf("  unlike C, undocumented %llu; C's PMD kept %llu\n",
	       (unsigned long long)s.unexpected, (unsigned long long)s.left_to_c);
	return 0;
}

int main(void)
{
	struct migentry_info info = { .size = sizeof(info) };
	unsigned int i;
	int fd;

	fd = open("/dev/migentry", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "open /dev/migentry: %s\n", strerror(errno));
		return 1;
	}
	if (ioctl(fd, MIGENTRY_IOC_INFO, &info)) {
		fprintf(stderr, "MIGENTRY_IOC_INFO: %s\n", strerror(errno));
		return 1;
	}
	printf("migentry ABI %u, page size %u, %u NUMA node(s) online\n",
	       info.abi_version, info.page_size, info.nr_online_nodes);
	for (i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		printf("  %-11s %-3s  %s\n", features[i].name,
		       info.features & features[i].bit ? "yes" : "no", features[i].what);
	i = print_stats(fd);
	if (!i)
		i = print_pmd_stats(fd);
	close(fd);
	return i;
}
