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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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

/* What the restore hook did at one level, as STATS and PMD_STATS report it. */
struct level_counts {
	const char *level;		/* "PTE" or "PMD" */
	const char *c_write_uffd_what;
	const char *const *divergence_names;
	unsigned int nr_divergences;
	__u64 restores, writable, write_protected, uffd;
	const __u64 *refused;		/* [3] */
	const __u64 *divergences;	/* [nr_divergences] */
	__u64 c_write_uffd, unexpected, left_to_c;
};

/*
 * The counters struct migentry_stats and struct migentry_pmd_stats share, by
 * name, as initializers of a struct level_counts.
 */
#define LEVEL_COUNTERS(s)						\
	.restores = (s).restores, .writable = (s).writable,		\
	.write_protected = (s).write_protected, .uffd = (s).uffd,	\
	.refused = (s).refused, .divergences = (s).divergences,		\
	.c_write_uffd = (s).c_write_uffd, .unexpected = (s).unexpected,	\
	.left_to_c = (s).left_to_c

/* Everything below the level's first line. */
static void print_level(const struct level_counts *c)
{
	unsigned int i;

	printf("  typed restores %llu: writable %llu, write-protected %llu, uffd %llu\n",
	       (unsigned long long)c->restores, (unsigned long long)c->writable,
	       (unsigned long long)c->write_protected, (unsigned long long)c->uffd);
	for (i = 0; i < ARRAY_SIZE(refused); i++)
		printf("  refused write: %-36s %llu\n", refused[i],
		       (unsigned long long)c->refused[i]);
	for (i = 0; i < c->nr_divergences; i++)
		printf("  unlike C:      %-36s %llu\n", c->divergence_names[i],
		       (unsigned long long)c->divergences[i]);
	printf("  unlike C:      %-36s %llu\n", c->c_write_uffd_what,
	       (unsigned long long)c->c_write_uffd);
	printf("  unlike C, undocumented %llu; C's %s kept %llu\n",
	       (unsigned long long)c->unexpected, c->level, (unsigned long long)c->left_to_c);
}

/* The restore hook's counters (the hooked kernel variant). */
static int print_stats(int fd)
{
	struct migentry_stats s = { .size = sizeof(s) };

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
	print_level(&(struct level_counts){
		.level = "PTE",
		.c_write_uffd_what = "C's PTE writable+uffd (2022 bug)",
		.divergence_names = divergences,
		.nr_divergences = ARRAY_SIZE(divergences),
		LEVEL_COUNTERS(s),
	});
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

	if (ioctl(fd, MIGENTRY_IOC_PMD_STATS, &s)) {
		fprintf(stderr, "MIGENTRY_IOC_PMD_STATS: %s\n", strerror(errno));
		return 1;
	}
	if (!(s.flags & MIGENTRY_STATS_HOOK_AVAILABLE))
		return 0;
	printf("restore hook, THP PMDs: the kernel consulted it %llu times, kept C's PMD %llu times\n",
	       (unsigned long long)s.kernel_called, (unsigned long long)s.kernel_rejected);
	print_level(&(struct level_counts){
		.level = "PMD",
		.c_write_uffd_what = "C's PMD writable+uffd",
		.divergence_names = pmd_divergences,
		.nr_divergences = ARRAY_SIZE(pmd_divergences),
		LEVEL_COUNTERS(s),
	});
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
	for (i = 0; i < ARRAY_SIZE(features); i++)
		printf("  %-11s %-3s  %s\n", features[i].name,
		       info.features & features[i].bit ? "yes" : "no", features[i].what);
	i = print_stats(fd);
	if (!i)
		i = print_pmd_stats(fd);
	close(fd);
	return i;
}
