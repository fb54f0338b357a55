// SPDX-License-Identifier: GPL-2.0
/*
 * C half of migentry. See migentry_shim.h.
 */
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/stddef.h>
#include <uapi/migentry.h>

#include "migentry_shim.h"

#define FIELD(type, member) { #type "." #member, offsetof(struct type, member) }
#define SIZE(type) { "sizeof " #type, sizeof(struct type) }

/*
 * Everything the module or the kernel-crate APIs it calls read from a C
 * struct. rust/layout.rs holds the Rust view of the same names; the module
 * refuses to load if any value differs or a name is missing on either side.
 */
static const struct migentry_layout_field migentry_layout_c[] = {
	FIELD(task_struct, mm),
	FIELD(mm_struct, mmap_lock),
	FIELD(vm_area_struct, vm_mm),
	FIELD(vm_area_struct, vm_flags),
	FIELD(vm_area_struct, vm_page_prot),
	FIELD(vm_area_struct, vm_start),
	FIELD(vm_area_struct, vm_end),
	FIELD(vm_area_struct, vm_file),
	FIELD(vm_area_struct, vm_ops),
	SIZE(migentry_info),
	FIELD(migentry_info, features),
	FIELD(migentry_info, nr_online_nodes),
};

const struct migentry_layout_field *migentry_layout(size_t *len)
{
	*len = ARRAY_SIZE(migentry_layout_c);
	return migentry_layout_c;
}

u64 migentry_features(void)
{
	u64 f = 0;

	if (IS_ENABLED(CONFIG_PTE_MARKER_UFFD_WP) &&
	    IS_ENABLED(CONFIG_HAVE_ARCH_USERFAULTFD_WP))
		f |= MIGENTRY_FEAT_UFFD_WP;
	if (IS_ENABLED(CONFIG_MEM_SOFT_DIRTY))
		f |= MIGENTRY_FEAT_SOFT_DIRTY;
	if (IS_ENABLED(CONFIG_USERFAULTFD_RWP) && IS_ENABLED(CONFIG_USERFAULTFD))
		f |= MIGENTRY_FEAT_UFFD_RWP;
	if (IS_ENABLED(CONFIG_NUMA))
		f |= MIGENTRY_FEAT_NUMA;
	return f;
}

u32 migentry_nr_online_nodes(void)
{
	return num_online_nodes();
}
