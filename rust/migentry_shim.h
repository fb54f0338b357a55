/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C half of migentry: wrappers for static inline kernel helpers that the Rust
 * half cannot reach through kernel::bindings, and the C view of the struct
 * layouts that the Rust half relies on.
 *
 * Every function here is declared by hand in rust/ffi.rs; keep both in sync.
 */
#ifndef MIGENTRY_SHIM_H
#define MIGENTRY_SHIM_H

#include <linux/types.h>

/* One field (or size) whose offset C and Rust must agree on. */
struct migentry_layout_field {
	const char *name;	/* "struct.field" or "sizeof struct" */
	size_t value;
};

const struct migentry_layout_field *migentry_layout(size_t *len);

u64 migentry_features(void);
u32 migentry_nr_online_nodes(void);

#endif /* MIGENTRY_SHIM_H */
