// SPDX-License-Identifier: GPL-2.0

//! Load-time guard: Rust's view of every C struct field and kernel constant the module relies
//! on must equal C's.
//!
//! bindgen can silently disagree with the C compiler (for instance it drops the alignment of an
//! empty `____cacheline_aligned` struct, which moves `task_struct.mm`). A wrong offset would make
//! the module read the wrong memory under a lock it believes it holds, so the module refuses to
//! load on any difference.

use core::mem::offset_of;

use kernel::{
    bindings,
    prelude::*, //
};

use super::{
    ffi::{
        self,
        x86, //
    },
    pte::SOFTLEAF_TYPES,
    slot::PMD_SIZE, //
};

/// The Rust side of the table in `rust/mm/migentry_shim.c`, by the same names (the
/// `SOFTLEAF_*` values come from `pte.rs`).
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
    (c"const PMD_SIZE", PMD_SIZE),
    // CAST (these): the PTE masks are `u64` and `usize` is 64 bits on x86-64.
    (c"const PAGE_SHIFT", bindings::PAGE_SHIFT as usize),
    (c"const _PAGE_PRESENT", x86::PRESENT as usize),
    (c"const _PAGE_RW", x86::RW as usize),
    (c"const _PAGE_USER", x86::USER as usize),
    (c"const _PAGE_ACCESSED", x86::ACCESSED as usize),
    (c"const _PAGE_DIRTY", x86::DIRTY as usize),
    (c"const _PAGE_GLOBAL", x86::GLOBAL as usize),
    (c"const _PAGE_PROTNONE", x86::PROTNONE as usize),
    (c"const _PAGE_SAVED_DIRTY", x86::SAVED_DIRTY as usize),
    (c"const _PAGE_SOFT_DIRTY", x86::SOFT_DIRTY as usize),
    (c"const _PAGE_UFFD", x86::UFFD as usize),
    (c"const _PAGE_SWP_SOFT_DIRTY", x86::SWP_SOFT_DIRTY as usize),
    (c"const _PAGE_SWP_UFFD", x86::SWP_UFFD as usize),
];

/// Every name Rust knows, with its value.
fn rust_layout() -> impl Iterator<Item = (&'static CStr, usize)> + Clone {
    let softleaf = SOFTLEAF_TYPES
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (*name, i));
    Iterator::chain(RUST_LAYOUT.iter().copied(), softleaf)
}

/// Compares the Rust and C layout tables; logs every difference.
///
/// Returns `EINVAL` if any value differs or any name is present on one side only.
pub(crate) fn check() -> Result {
    let c_table = ffi::layout_c();
    let mut bad = 0usize;

    for (name, rust) in rust_layout() {
        match c_table.clone().find(|(n, _)| *n == name) {
            Some((_, c)) if c == rust => {}
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
        if !rust_layout().any(|(n, _)| n == name) {
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
