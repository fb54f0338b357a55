// SPDX-License-Identifier: GPL-2.0

//! The module's C shim (`rust/migentry_shim.c`): declarations and safe wrappers.
//!
//! bindgen does not run on a module's own C files, so the declarations are written by hand and
//! must match `rust/migentry_shim.h`. Page-table entries cross the boundary as their `pteval_t`
//! (`u64`).

use kernel::{
    bindings,
    prelude::*, //
};

/// `struct migentry_folio_facts`.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct FolioFactsC {
    /// `folio_ref_count()`.
    pub(crate) refcount: u32,
    /// `folio_mapcount()`.
    pub(crate) mapcount: u32,
    /// `folio_test_anon()`.
    pub(crate) anon: u8,
    /// `folio_test_dirty()`.
    pub(crate) dirty: u8,
    /// `PageAnonExclusive()`.
    pub(crate) anon_exclusive: u8,
    /// `folio_test_large()`.
    pub(crate) large: u8,
}

/// One entry of the C layout table (`struct migentry_layout_field`).
#[repr(C)]
struct LayoutField {
    /// NUL-terminated `"struct.field"` or `"sizeof struct"`.
    name: *const c_char,
    /// `offsetof()` or `sizeof()` as C computed it.
    value: usize,
}

/// `struct migentry_vma_facts`: what a restore needs to know about a VMA.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct VmaFactsC {
    /// `pgprot_val(vma->vm_page_prot)`.
    pub(crate) page_prot: u64,
    /// `VM_WRITE`.
    pub(crate) write: u8,
    /// `VM_SHARED`.
    pub(crate) shared: u8,
    /// `VM_SOFTDIRTY` (set means soft-dirty is *not* being tracked).
    pub(crate) softdirty: u8,
    /// `VM_UFFD_WP`.
    pub(crate) uffd_wp: u8,
    /// `VM_UFFD_RWP`.
    pub(crate) uffd_rwp: u8,
    /// `VM_SHADOW_STACK`.
    pub(crate) shadow_stack: u8,
    /// `VM_HUGETLB`, `VM_PFNMAP` or `VM_IO`: not handled by migentry.
    pub(crate) unsupported: u8,
    /// `vma_is_anonymous()`.
    pub(crate) anon: u8,
}

// Soundness of the `safe` declarations: every function declared `safe` here is, in the C shim, a pure function of its integer
// arguments (it reads and writes no memory beyond its own stack, takes no locks and cannot
// fail), reads a value the shim computed once at module init, or asks about the current task
// (`capable()`), which is valid in any process context. The others take pointers and are called
// from `unsafe` blocks that justify them.
unsafe extern "C" {
    fn migentry_layout(len: *mut usize) -> *const LayoutField;
    pub(crate) safe fn migentry_features() -> u64;
    pub(crate) safe fn migentry_nr_online_nodes() -> u32;
    pub(crate) safe fn migentry_capable_sys_admin() -> bool;
    pub(crate) safe fn migentry_tlb_flush_supported() -> bool;
    fn migentry_shim_init();
    pub(crate) safe fn migentry_migration_ad() -> bool;

    fn migentry_pte_decode(pte: u64, leaf: *mut u32, pfn: *mut u64) -> u32;
    pub(crate) safe fn migentry_pfn_pte(pfn: u64, prot: u64) -> u64;
    pub(crate) safe fn migentry_pte_mkold(pte: u64) -> u64;
    pub(crate) safe fn migentry_pte_mkdirty(pte: u64) -> u64;
    pub(crate) safe fn migentry_pte_mksoft_dirty(pte: u64) -> u64;
    pub(crate) safe fn migentry_pte_clear_soft_dirty(pte: u64) -> u64;
    pub(crate) safe fn migentry_pte_wrprotect(pte: u64) -> u64;
    pub(crate) safe fn migentry_pte_mkuffd(pte: u64) -> u64;
    pub(crate) safe fn migentry_pte_clear_uffd(pte: u64) -> u64;
    pub(crate) safe fn migentry_pte_mkwrite(pte: u64, shadow_stack: bool) -> u64;
    pub(crate) safe fn migentry_pte_mkprotnone(pte: u64) -> u64;
    pub(crate) safe fn migentry_prot_private() -> u64;
    pub(crate) safe fn migentry_prot_shared() -> u64;
    pub(crate) safe fn migentry_prot_writable(prot: u64) -> bool;

    pub(crate) safe fn migentry_mk_migration(leaf: u32, pfn: u64, young: bool, dirty: bool) -> u64;
    pub(crate) safe fn migentry_migration_rekind(pte: u64, leaf: u32) -> u64;
    pub(crate) safe fn migentry_swp_soft_dirty(pte: u64, set: bool) -> u64;
    pub(crate) safe fn migentry_swp_uffd(pte: u64, set: bool) -> u64;

    fn migentry_vma_facts(vma: *const c_void, out: *mut VmaFactsC);
    pub(crate) fn migentry_mmap_write_lock(mm: *mut c_void);
    pub(crate) fn migentry_mmap_write_unlock(mm: *mut c_void);
    pub(crate) fn migentry_vma_start_write(vma: *mut c_void);
    pub(crate) fn migentry_check_tables(mm: *mut c_void, start: usize, end: usize) -> c_int;
    pub(crate) fn migentry_ptep_get(ptep: *mut c_void) -> u64;
    pub(crate) fn migentry_folio_facts(pfn: u64, out: *mut FolioFactsC) -> c_int;
    pub(crate) fn migentry_folio_mark_dirty(pfn: u64);
    pub(crate) fn migentry_flush_tlb_mm(mm: *mut c_void) -> c_int;
    pub(crate) fn migentry_ptep_get_and_clear(
        mm: *mut c_void,
        addr: usize,
        ptep: *mut c_void,
    ) -> u64;
    pub(crate) fn migentry_set_pte_at(mm: *mut c_void, addr: usize, ptep: *mut c_void, pte: u64);
    fn migentry_ref_restore(
        policy: u32,
        swp_pte: u64,
        vma: *const VmaFactsC,
        folio_dirty: bool,
        folio_anon: bool,
        exclusive: *mut bool,
    ) -> u64;
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

/// Computes the shim's boot-time facts (whether migration entries carry A/D bits).
pub(crate) fn init() {
    // SAFETY: writes one static of the shim; called once from module init, before any other shim
    // function runs.
    unsafe { migentry_shim_init() }
}

/// Decodes a page-table entry value into `(MIGENTRY_PTE_* flags, MIGENTRY_LEAF_* kind, pfn)`.
pub(crate) fn pte_decode(pte: u64) -> (u32, u32, u64) {
    let mut leaf = 0u32;
    let mut pfn = 0u64;
    // SAFETY: the shim writes only through the two valid pointers it is given.
    let flags = unsafe { migentry_pte_decode(pte, &mut leaf, &mut pfn) };
    (flags, leaf, pfn)
}

/// Fills VMA facts from a VMA.
///
/// # Safety
///
/// `vma` must point at a VMA that stays valid for the call (the caller holds the mmap lock or
/// the VMA lock).
pub(crate) unsafe fn vma_facts(vma: *const bindings::vm_area_struct) -> VmaFactsC {
    let mut out = VmaFactsC::default();
    // SAFETY: the caller guarantees `vma` is valid; `out` is a valid local.
    unsafe { migentry_vma_facts(vma.cast(), &mut out) };
    out
}

/// Runs one of the C reference restores; returns the PTE value and whether the mapping would be
/// added as exclusive (`RMAP_EXCLUSIVE`).
pub(crate) fn ref_restore(
    policy: u32,
    swp_pte: u64,
    vma: &VmaFactsC,
    folio_dirty: bool,
    folio_anon: bool,
) -> (u64, bool) {
    let mut exclusive = false;
    // SAFETY: `vma` is a valid reference and `exclusive` a valid local; the reference functions
    // only compute on values.
    let pte = unsafe {
        migentry_ref_restore(
            policy,
            swp_pte,
            vma,
            folio_dirty,
            folio_anon,
            &mut exclusive,
        )
    };
    (pte, exclusive)
}
