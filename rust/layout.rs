// SPDX-License-Identifier: GPL-2.0

//! Start-up guard: Rust's view of every C struct field the module relies on must equal C's.
//!
//! bindgen can silently disagree with the C compiler (for instance it drops the alignment of an
//! empty `____cacheline_aligned` struct, which moves `task_struct.mm`). A wrong offset would make
//! the module read the wrong memory under a lock it believes it holds, so the module refuses to
//! load on any difference.

use core::mem::{
    offset_of,
    size_of, //
};
use kernel::{
    bindings,
    prelude::*, //
};

use crate::{
    ffi,
    uapi, //
};

/// The Rust side of the table in `rust/migentry_shim.c`, by the same names.
const RUST_LAYOUT: &[(&CStr, usize)] = &[
    (c"task_struct.mm", offset_of!(bindings::task_struct, mm)),
    (
        c"mm_struct.mmap_lock",
        offset_of!(bindings::mm_struct, __bindgen_anon_1.mmap_lock),
    ),
    (
        c"vm_area_struct.vm_mm",
        offset_of!(bindings::vm_area_struct, vm_mm),
    ),
    (
        c"vm_area_struct.vm_flags",
        offset_of!(bindings::vm_area_struct, __bindgen_anon_2.vm_flags),
    ),
    (
        c"vm_area_struct.vm_page_prot",
        offset_of!(bindings::vm_area_struct, vm_page_prot),
    ),
    (
        c"vm_area_struct.vm_start",
        offset_of!(
            bindings::vm_area_struct,
            __bindgen_anon_1.__bindgen_anon_1.vm_start
        ),
    ),
    (
        c"vm_area_struct.vm_end",
        offset_of!(
            bindings::vm_area_struct,
            __bindgen_anon_1.__bindgen_anon_1.vm_end
        ),
    ),
    (
        c"vm_area_struct.vm_file",
        offset_of!(bindings::vm_area_struct, vm_file),
    ),
    (
        c"vm_area_struct.vm_ops",
        offset_of!(bindings::vm_area_struct, vm_ops),
    ),
    (c"sizeof migentry_info", size_of::<uapi::Info>()),
    (c"migentry_info.features", offset_of!(uapi::Info, features)),
    (
        c"migentry_info.nr_online_nodes",
        offset_of!(uapi::Info, nr_online_nodes),
    ),
    (c"sizeof migentry_pte_state", size_of::<uapi::PteState>()),
    (c"sizeof migentry_record", size_of::<uapi::Record>()),
    (c"migentry_record.after", offset_of!(uapi::Record, after)),
    (c"sizeof migentry_range", size_of::<uapi::Range>()),
    (c"migentry_range.nr_done", offset_of!(uapi::Range, nr_done)),
    (
        c"migentry_range.vma_flags",
        offset_of!(uapi::Range, vma_flags),
    ),
    (
        c"sizeof migentry_folio_facts",
        size_of::<ffi::FolioFactsC>(),
    ),
    (
        c"migentry_folio_facts.large",
        offset_of!(ffi::FolioFactsC, large),
    ),
    (c"sizeof migentry_vma_facts", size_of::<ffi::VmaFactsC>()),
    (
        c"migentry_vma_facts.shadow_stack",
        offset_of!(ffi::VmaFactsC, shadow_stack),
    ),
    (c"migentry_vma_facts.anon", offset_of!(ffi::VmaFactsC, anon)),
];

/// Compares the Rust and C layout tables; logs every difference.
///
/// Returns `EINVAL` if any value differs or any name is present on one side only.
pub(crate) fn check() -> Result {
    let c_table = ffi::layout_c();
    let mut bad = 0usize;

    for (name, rust) in RUST_LAYOUT {
        match c_table.clone().find(|(n, _)| n == name) {
            Some((_, c)) if c == *rust => {}
            Some((_, c)) => {
                pr_err!(
                    "layout guard: {:?} is {} in C but {} in Rust\n",
                    name,
                    c,
                    rust
                );
                bad += 1;
            }
            None => {
                pr_err!("layout guard: {:?} has no C counterpart\n", name);
                bad += 1;
            }
        }
    }
    for (name, _) in c_table {
        if !RUST_LAYOUT.iter().any(|(n, _)| *n == name) {
            pr_err!("layout guard: {:?} has no Rust counterpart\n", name);
            bad += 1;
        }
    }
    if bad != 0 {
        pr_err!(
            "layout guard: {} mismatch(es); bindgen's view of kernel structs is wrong, refusing to load\n",
            bad
        );
        return Err(EINVAL);
    }
    Ok(())
}
