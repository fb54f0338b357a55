// SPDX-License-Identifier: GPL-2.0

//! The module's C shim (`rust/migentry_shim.c`): raw declarations and their safe wrappers.
//!
//! bindgen does not run on a module's own C files, so the declarations are written by hand and
//! must match `rust/migentry_shim.h`.

use kernel::prelude::*;

/// One entry of the C layout table (`struct migentry_layout_field`).
#[repr(C)]
struct LayoutField {
    /// NUL-terminated `"struct.field"` or `"sizeof struct"`.
    name: *const c_char,
    /// `offsetof()` or `sizeof()` as C computed it.
    value: usize,
}

extern "C" {
    fn migentry_layout(len: *mut usize) -> *const LayoutField;
    fn migentry_features() -> u64;
    fn migentry_nr_online_nodes() -> u32;
}

/// C's view of the layouts that `rust/layout.rs` checks, as `(name, value)` pairs.
pub(crate) fn layout_c() -> impl Iterator<Item = (&'static CStr, usize)> + Clone {
    let mut len = 0usize;
    // SAFETY: `migentry_layout` only writes the table length through the valid pointer it is given.
    let table = unsafe { migentry_layout(&mut len) };
    // SAFETY: C returns a pointer to a static, immutable array of exactly `len` entries, which
    // lives as long as the module.
    let table = unsafe { core::slice::from_raw_parts(table, len) };
    table.iter().map(|f| {
        // SAFETY: every `name` in the C table is a NUL-terminated string literal.
        let name = unsafe { CStr::from_char_ptr(f.name) };
        (name, f.value)
    })
}

/// `MIGENTRY_FEAT_*` bits that the running kernel supports.
pub(crate) fn features() -> u64 {
    // SAFETY: a pure function of the kernel configuration.
    unsafe { migentry_features() }
}

/// Number of NUMA nodes online now.
pub(crate) fn nr_online_nodes() -> u32 {
    // SAFETY: reads the online node mask; callable from any context.
    unsafe { migentry_nr_online_nodes() }
}
