// SPDX-License-Identifier: GPL-2.0

//! The mm layer: safe types over page-table entries, migration entries, VMAs, PTE slots, folios
//! and the TLB.
//!
//! This layer owns every `unsafe` block and every call into C (the generated declarations of the
//! C glue live in the private `ffi` module). Above it, the restore, the C references and the
//! device see plain Rust types only. The shape follows the kernel crate's `mm.rs` and
//! `mm/virt.rs`: one family of types per C struct, and the lock that is held is part of the type
//! (a [`VmaView`] borrows the [`MmapWriteGuard`] or [`MmapReadGuard`] and says which it is, a
//! [`PteSlot`] lives inside the walk that holds its page-table lock, and only a slot of a walk
//! under the write lock can change its entry).
//!
//! | C                                   | here                                                  |
//! |-------------------------------------|-------------------------------------------------------|
//! | `pte_t` read from a page table      | [`RawPte`], decoded once into [`Decoded`]             |
//! | a present `pte_t` being built       | [`Pte<W>`], `W` ∈ {[`Writable`], [`WriteProtected`], [`UffdProtected`]} |
//! | `softleaf_t`, migration entries     | [`SoftLeaf`], [`MigrationEntry<A>`], [`AnyMigrationEntry`] |
//! | `remove_migration_pte()`'s PTE      | [`Restoring<A>`] and its [`WriteGrant`]               |
//! | the same for a PMD-mapped THP       | the same types at level [`PmdLevel`]: [`RawPmd`], [`Pmd<W>`], [`PmdMigrationEntry<A>`], `Restoring<A, PmdLevel>`, [`PmdWriteGrant`] |
//! | `vm_area_struct`                    | [`VmaFacts`] (values), [`VmaView`] (locked)           |
//! | `mmap_write_lock()`, `mmap_read_lock()` | [`MmapWriteGuard`], [`MmapReadGuard`]             |
//! | `pte_t *` under its PTL             | [`PteSlot<L>`], `L` ∈ {[`WriteLocked`], [`ReadLocked`]} |
//! | `struct folio` / destination `struct page` | [`MappedFolio`], [`DestPage`]                  |
//! | `flush_tlb_mm_range()` + mmu_notifier | [`Invalidation`]                                    |
//!

use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};

use kernel::prelude::*;

mod ffi;
mod folio;
mod grant;
pub(crate) mod hook;
mod layout;
mod level;
mod pte;
mod slot;
mod softleaf;
#[cfg(CONFIG_KUNIT)]
pub(crate) mod testing;
mod tlb;
mod vma;

pub(crate) use folio::{
    DestPage,
    FolioFacts,
    MappedFolio, //
};
// The PMD names are part of the layer's API even where the crate only names the PTE ones (the
// compile-fail cases name them).
#[allow(unused_imports)]
pub(crate) use grant::{
    NoGrant,
    PmdWriteGrant,
    Restoring,
    WriteGrant, //
};
#[allow(unused_imports)]
pub(crate) use level::{
    Level,
    PmdLevel,
    PteLevel, //
};
// The typestate is part of the layer's API even where the crate itself only names it through
// other types (the compile-fail cases name every state).
#[allow(unused_imports)]
pub(crate) use pte::{
    decode,
    decode_pmd,
    Decoded,
    Entry,
    EntryKind,
    Pmd,
    Pte,
    PteFlags,
    RawEntry,
    RawPmd,
    RawPte,
    RestoredEntry,
    RestoredPmd,
    RestoredPte,
    UffdProtected,
    Writable,
    WriteProtected, //
};
pub(crate) use slot::{
    PageEntry,
    PmdSlot,
    PteSlot,
    Visit,
    PMD_SIZE, //
};
#[allow(unused_imports)]
pub(crate) use softleaf::{
    Access,
    AnyMigrationEntry,
    AnyPmdMigrationEntry,
    EntryBits,
    MigrationEntry,
    PmdMigrationEntry,
    Read,
    ReadExclusive,
    SoftLeaf,
    Write, //
};
pub(crate) use tlb::Invalidation;
// `WriteLocked` is the default lock level of views and slots: the crate names it only in its
// compile-fail cases.
#[allow(unused_imports)]
pub(crate) use vma::{
    LockLevel,
    MmapReadGuard,
    MmapWriteGuard,
    ReadLocked,
    VmaFacts,
    VmaView,
    WriteLocked, //
};
// Only the KUnit suite names these: the crate passes them along without naming them.
#[cfg(CONFIG_KUNIT)]
pub(crate) use vma::{
    PageProt,
    VmaFlags, //
};

pub(crate) mod cref {
    //! The entry point of the C reference restores (`rust/reference/migentry_ref.c`), for
    //! the reference layer (`rust/reference.rs`) only: the module's real path never calls them.
    #[cfg(all(CONFIG_KUNIT, not(CONFIG_ARCH_HAS_CC_PLATFORM)))]
    pub(crate) use super::ffi::cref_check_protnone as check_protnone;
    pub(crate) use super::ffi::cref_restore_pmd as restore_pmd;
    #[cfg(CONFIG_KUNIT)]
    pub(crate) use super::ffi::{
        cref_bench as bench,
        cref_bench_mix as bench_mix,
        CrefBenchCase as BenchCase,
        CREF_BENCH_SEED as BENCH_SEED, //
    };
    pub(crate) use super::ffi::{
        cref_restore as restore,
        MIGENTRY_REF_PETERX_V3 as PETERX_V3,
        MIGENTRY_REF_PRE_6_2 as PRE_6_2,
        MIGENTRY_REF_UPSTREAM as UPSTREAM, //
    };
}

/// `migration_entry_supports_ad()`, computed once at init.
static MIGRATION_AD: AtomicBool = AtomicBool::new(false);

/// Whether migration entries carry the young and dirty bits on this kernel
/// (`migration_entry_supports_ad()` in `include/linux/swapops.h`).
pub(crate) fn migration_ad() -> bool {
    MIGRATION_AD.load(Ordering::Relaxed)
}

/// Checks that Rust's view of the C structs is right and computes the boot-time facts.
///
/// # Errors
///
/// `EINVAL` (and a log line per difference) if Rust and C disagree on a layout.
pub(crate) fn init() -> Result {
    layout::check()?;
    ffi::init_pte_masks()?;
    MIGRATION_AD.store(compute_migration_ad(), Ordering::Relaxed);
    Ok(())
}

/// The kernel keeps `migration_entry_supports_ad()` in `swap_migration_ad_supported`, which
/// `mm/swapfile.c` sets at boot, never without `CONFIG_SWAP`, and does not export. It is
/// recomputed here the same way: the largest swap offset a PTE can hold, lowered on CPUs with the
/// L1TF bug as `arch_max_swapfile_size()` does, must cover the PFN plus the two A/D bits. Modules
/// cannot see whether the L1TF mitigation is on, so the lower limit is assumed whenever the bug
/// is present.
fn compute_migration_ad() -> bool {
    if !cfg!(CONFIG_MIGRATION) || !cfg!(CONFIG_SWAP) {
        return false;
    }
    let (mut max, l1tf, bits) = ffi::swp_limits();
    if l1tf != 0 {
        max = max.min(l1tf);
    }
    max >= 1u64 << bits
}

/// What the running kernel supports, as far as the restore and its tests care.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Features {
    /// uffd write-protect, including shmem markers (`CONFIG_PTE_MARKER_UFFD_WP`).
    pub(crate) uffd_wp: bool,
    /// Soft-dirty tracking (`CONFIG_MEM_SOFT_DIRTY`).
    pub(crate) soft_dirty: bool,
    /// uffd read-write protect (`CONFIG_USERFAULTFD_RWP`).
    pub(crate) uffd_rwp: bool,
    /// `CONFIG_NUMA`.
    pub(crate) numa: bool,
    /// Migration entries keep young/dirty ([`migration_ad`]).
    pub(crate) migration_ad: bool,
    /// The kernel lets this module flush a user mm's TLB and secondary MMUs
    /// ([`Invalidation::available`]).
    pub(crate) tlb_flush: bool,
}

/// The features of the running kernel.
pub(crate) fn features() -> Features {
    Features {
        uffd_wp: cfg!(CONFIG_PTE_MARKER_UFFD_WP) && cfg!(CONFIG_HAVE_ARCH_USERFAULTFD_WP),
        soft_dirty: cfg!(CONFIG_MEM_SOFT_DIRTY),
        uffd_rwp: cfg!(CONFIG_USERFAULTFD_RWP) && cfg!(CONFIG_USERFAULTFD),
        numa: cfg!(CONFIG_NUMA),
        migration_ad: migration_ad(),
        tlb_flush: Invalidation::available(),
    }
}

/// NUMA nodes online now (`num_online_nodes()`).
pub(crate) fn nr_online_nodes() -> u32 {
    ffi::nr_online_nodes()
}

/// Whether the caller may see raw entry values and PFNs: `CAP_SYS_ADMIN`, the capability
/// `/proc/PID/pagemap` asks before it shows PFNs.
pub(crate) fn pfns_visible() -> bool {
    ffi::capable_sys_admin()
}
