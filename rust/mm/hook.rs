// SPDX-License-Identifier: GPL-2.0

//! The migration restore hook of the test-only `hooked` kernel variant.
//!
//! C header: `include/linux/migentry_hook.h` (added by `patches/hooked/0002`)
//!
//! With `CONFIG_MIGENTRY_HOOKS`, `remove_migration_pte()` (mm/migrate.c) hands a registered hook
//! each PTE it computed for an order-0 or PTE-mapped, non-hugetlb, non-device-private folio, with
//! the migration entry it replaces and the destination page, and installs what the hook returns;
//! `remove_migration_pmd()` (mm/huge_memory.c, `patches/hooked/0003`) does the same with the PMD
//! of a PMD-mapped THP that is not device-private. The kernel's wrapper keeps C's entry (and
//! WARNs once) unless the hook's only takes permission away: present, the same PFN, not writable
//! where C's is not, never writable with the uffd bit.
//!
//! The hook runs under the page-table spinlock with RCU read-locked, inside an rmap walk: a
//! [`RestoreHook`] must not sleep, allocate or panic. [`Registration`] registers one (one owner
//! at a time) and unregisters it on drop, after which the kernel has waited for an RCU grace
//! period, so no call is still running when the module goes away.

// Without the hook (stock kernels), the kernel never calls into this module.
#![cfg_attr(not(CONFIG_MIGENTRY_HOOKS), allow(dead_code))]

use core::{
    marker::PhantomData,
    sync::atomic::{
        AtomicBool,
        Ordering, //
    }, //
};

use kernel::prelude::*;

use super::{
    DestPage,
    FolioFacts,
    Level,
    PmdLevel,
    PteLevel,
    RawEntry,
    RestoredPmd,
    RestoredPte,
    VmaFacts, //
};

/// What the kernel hands the hook for one entry of level `L`: a PTE from
/// `remove_migration_pte()`, or the PMD of a THP from `remove_migration_pmd()`.
pub(crate) struct HookCall<'a, L: Level = PteLevel> {
    /// The VMA, read as C reads it there (`READ_ONCE()`).
    pub(crate) vma: VmaFacts,
    /// The page the entry will map: a page of the destination folio (for a PMD, its head page).
    pub(crate) dest: DestPage<'a>,
    /// The migration entry being replaced, as the page table holds it.
    pub(crate) entry: RawEntry<L>,
    /// The destination folio (locked and referenced by the migration).
    pub(crate) folio: FolioFacts,
    /// The entry C computed.
    pub(crate) c_entry: RawEntry<L>,
}

/// A restore the kernel may call from `remove_migration_pte()` and `remove_migration_pmd()`.
pub(crate) trait RestoreHook: 'static {
    /// The PTE to install instead of C's, or `None` to keep C's. Runs under a spinlock: must not
    /// sleep, allocate or panic.
    fn restore(call: &HookCall<'_>) -> Option<RestoredPte>;

    /// The same for the PMD of a PMD-mapped THP.
    fn restore_pmd(call: &HookCall<'_, PmdLevel>) -> Option<RestoredPmd>;
}

/// What the kernel counts about the hook (`struct migration_restore_hook_counts`).
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct KernelCounts {
    /// Times the hook was consulted.
    pub(crate) called: u64,
    /// Times its PTE broke the contract and C's was kept.
    pub(crate) rejected: u64,
    /// Restores the hook was not asked about (hugetlb, device-private, zeropage).
    pub(crate) unseen: u64,
    /// Times the hook was consulted about a PMD.
    pub(crate) called_pmd: u64,
    /// Times its PMD broke the contract and C's was kept.
    pub(crate) rejected_pmd: u64,
}

/// Whether a [`Registration`] exists.
static REGISTERED: AtomicBool = AtomicBool::new(false);

/// Whether this module's hook is registered with the kernel now.
pub(crate) fn registered() -> bool {
    REGISTERED.load(Ordering::Relaxed)
}

/// Whether this kernel has the restore hook.
pub(crate) fn available() -> bool {
    cfg!(CONFIG_MIGENTRY_HOOKS)
}

/// The kernel's counters, where it has the hook.
pub(crate) fn kernel_counts() -> Option<KernelCounts> {
    imp::kernel_counts()
}

/// A registered [`RestoreHook`] `H`.
///
/// # Invariants
///
/// `H`'s hook is registered with the kernel while this exists.
pub(crate) struct Registration<H: RestoreHook> {
    _h: PhantomData<H>,
}

impl<H: RestoreHook> Registration<H> {
    /// Registers `H` as the kernel's migration restore hook; may sleep (it flips a static key).
    ///
    /// # Errors
    ///
    /// `EOPNOTSUPP` where the kernel has no hook, `EBUSY` if another hook is registered.
    pub(crate) fn register() -> Result<Self> {
        imp::register::<H>()?;
        REGISTERED.store(true, Ordering::Relaxed);
        // INVARIANT: registered just now; unregistered in `drop`.
        Ok(Self { _h: PhantomData })
    }
}

impl<H: RestoreHook> Drop for Registration<H> {
    fn drop(&mut self) {
        imp::unregister::<H>();
        REGISTERED.store(false, Ordering::Relaxed);
    }
}

#[cfg(CONFIG_MIGENTRY_HOOKS)]
mod imp {
    use kernel::{
        bindings,
        prelude::*, //
    };

    use super::{
        super::{
            ffi,
            DestPage,
            FolioFacts,
            RawEntry,
            VmaFacts, //
        },
        HookCall,
        KernelCounts,
        RestoreHook, //
    };

    /// `H`'s `struct migration_restore_hook`, a constant the kernel keeps a pointer to.
    struct Ops<H>(core::marker::PhantomData<H>);

    impl<H: RestoreHook> Ops<H> {
        const OPS: ffi::migration_restore_hook = ffi::migration_restore_hook {
            restore_pte: Some(restore_pte::<H>),
            restore_pmd: Some(restore_pmd::<H>),
        };
    }

    /// Passes `remove_migration_pte()`'s call on to `H`.
    ///
    /// # Safety
    ///
    /// Called by the kernel as the hook's `restore_pte`: `vma` is the VMA being restored, stable
    /// under the rmap lock; `folio` is the destination folio, locked and referenced; `new` is a
    /// page of it; the PTE lock is held and RCU read-locked.
    unsafe extern "C" fn restore_pte<H: RestoreHook>(
        vma: *mut bindings::vm_area_struct,
        _folio: *mut bindings::folio,
        new: *mut bindings::page,
        _addr: c_ulong,
        old_pte: bindings::pte_t,
        pte: bindings::pte_t,
    ) -> bindings::pte_t {
        // SAFETY: `vma` is valid for the call (see the function's safety section).
        let vma = unsafe { VmaFacts::read(vma) };
        // SAFETY: `new` is a valid page (see above).
        let pfn = unsafe { ffi::migentry_page_to_pfn(new) };
        // SAFETY: the destination folio is referenced by the migration for the call.
        let Some(folio) = (unsafe { FolioFacts::read(pfn) }) else {
            return pte;
        };
        let call = HookCall {
            vma,
            // INVARIANT: `new` is a page of the destination folio, locked for the call.
            dest: DestPage::of_migration(pfn),
            // The migration entry the kernel read from the page table, and the PTE it computed.
            // CAST: `pteval_t` is `unsigned long`, 64 bits on x86-64.
            entry: RawEntry::read(old_pte.pte as u64),
            folio,
            // CAST: as above.
            c_entry: RawEntry::read(pte.pte as u64),
        };
        match H::restore(&call) {
            // CAST: as above.
            Some(p) => bindings::pte_t {
                pte: p.val() as bindings::pteval_t,
            },
            None => pte,
        }
    }

    /// Passes `remove_migration_pmd()`'s call on to `H`.
    ///
    /// # Safety
    ///
    /// Called by the kernel as the hook's `restore_pmd`: `vma` is the VMA being restored, stable
    /// under the rmap lock; `folio` is the destination folio, a PMD-mappable THP, locked and
    /// referenced; the PMD lock is held and RCU read-locked.
    unsafe extern "C" fn restore_pmd<H: RestoreHook>(
        vma: *mut bindings::vm_area_struct,
        folio: *mut bindings::folio,
        _haddr: c_ulong,
        old_pmd: bindings::pmd_t,
        pmd: bindings::pmd_t,
    ) -> bindings::pmd_t {
        // SAFETY: `vma` is valid for the call (see the function's safety section).
        let vma = unsafe { VmaFacts::read(vma) };
        // SAFETY: `folio` is a valid folio (see above).
        let pfn = unsafe { ffi::migentry_folio_pfn(folio) };
        // SAFETY: the destination folio is referenced by the migration for the call.
        let Some(facts) = (unsafe { FolioFacts::read(pfn) }) else {
            return pmd;
        };
        let call = HookCall {
            vma,
            // INVARIANT: `pfn` is the head page of the destination folio, locked for the call.
            dest: DestPage::of_migration(pfn),
            // The PMD migration entry the kernel read, and the PMD it computed.
            // CAST: `pmdval_t` is `unsigned long`, 64 bits on x86-64.
            entry: RawEntry::read(old_pmd.pmd as u64),
            folio: facts,
            // CAST: as above.
            c_entry: RawEntry::read(pmd.pmd as u64),
        };
        match H::restore_pmd(&call) {
            // CAST: as above.
            Some(p) => bindings::pmd_t {
                pmd: p.val() as bindings::pmdval_t,
            },
            None => pmd,
        }
    }

    pub(super) fn register<H: RestoreHook>() -> Result {
        // SAFETY: `Ops::<H>::OPS` is a constant, so the reference is `'static` as the kernel
        // needs; its function has the type the kernel calls. Called from module init, which may
        // sleep.
        let ret = unsafe { ffi::migration_restore_hook_register(&Ops::<H>::OPS) };
        kernel::error::to_result(ret)
    }

    pub(super) fn unregister<H: RestoreHook>() {
        // SAFETY: `H`'s hook is registered (type invariant of `Registration`); called from its
        // drop, at module exit, which may sleep.
        unsafe { ffi::migration_restore_hook_unregister(&Ops::<H>::OPS) };
    }

    pub(super) fn kernel_counts() -> Option<KernelCounts> {
        let mut c = ffi::migration_restore_hook_counts::default();
        // SAFETY: the kernel writes only through the valid pointer it is given.
        unsafe { ffi::migration_restore_hook_counts(&mut c) };
        Some(KernelCounts {
            called: c.called as u64,
            rejected: c.rejected as u64,
            unseen: c.unseen as u64,
            called_pmd: c.called_pmd as u64,
            rejected_pmd: c.rejected_pmd as u64,
        })
    }
}

#[cfg(not(CONFIG_MIGENTRY_HOOKS))]
mod imp {
    use kernel::prelude::*;

    use super::{
        KernelCounts,
        RestoreHook, //
    };

    pub(super) fn register<H: RestoreHook>() -> Result {
        Err(EOPNOTSUPP)
    }

    pub(super) fn unregister<H: RestoreHook>() {}

    pub(super) fn kernel_counts() -> Option<KernelCounts> {
        None
    }
}
