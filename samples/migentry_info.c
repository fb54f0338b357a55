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
};

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
	close(fd);
	return 0;
}
