// SPDX-License-Identifier: GPL-2.0

//! A view of a `vm_area_struct` for the restore: its flags, `vm_page_prot`, and what they imply.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)
//!
//! [`VmaView`] borrows a [`VmaRef`], which the kernel crate only hands out from a lock guard
//! (`MmapReadGuard::vma_lookup()`), so the view cannot outlive the mmap lock. [`VmaFacts`] is the
//! plain value the restore computes with; the differential test also builds it directly to cover
//! every combination.

use kernel::mm::virt::VmaRef;

use crate::{
    ffi,
    uapi, //
};

/// The VMA flags the restore looks at.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct VmaFlags {
    /// `VM_WRITE`.
    pub(crate) write: bool,
    /// `VM_SHARED`.
    pub(crate) shared: bool,
    /// `VM_SOFTDIRTY`: set on new VMAs and by merges, cleared by `clear_refs`; while it is set
    /// the VMA reports every page soft-dirty and soft-dirty is not tracked per PTE.
    pub(crate) softdirty: bool,
    /// `VM_UFFD_WP`: registered for userfaultfd write-protect.
    pub(crate) uffd_wp: bool,
    /// `VM_UFFD_RWP`: registered for userfaultfd read-write protect.
    pub(crate) uffd_rwp: bool,
    /// `VM_SHADOW_STACK`.
    pub(crate) shadow_stack: bool,
}

/// What the restore needs to know about a VMA: its flags and `vm_page_prot`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct VmaFacts(ffi::VmaFactsC);

impl VmaFacts {
    /// Facts for a VMA with these flags and `vm_page_prot` value (a model; see [`VmaView`] for a
    /// real VMA).
    pub(crate) fn new(flags: VmaFlags, page_prot: u64) -> Self {
        Self(ffi::VmaFactsC {
            page_prot,
            write: flags.write.into(),
            shared: flags.shared.into(),
            softdirty: flags.softdirty.into(),
            uffd_wp: flags.uffd_wp.into(),
            uffd_rwp: flags.uffd_rwp.into(),
            shadow_stack: flags.shadow_stack.into(),
            reserved: [0; 2],
        })
    }

    /// The flags.
    pub(crate) fn flags(&self) -> VmaFlags {
        VmaFlags {
            write: self.0.write != 0,
            shared: self.0.shared != 0,
            softdirty: self.0.softdirty != 0,
            uffd_wp: self.0.uffd_wp != 0,
            uffd_rwp: self.0.uffd_rwp != 0,
            shadow_stack: self.0.shadow_stack != 0,
        }
    }

    /// `pgprot_val(vm_page_prot)`: the protection new PTEs of this VMA start from.
    pub(crate) fn page_prot(&self) -> u64 {
        self.0.page_prot
    }

    /// Whether `vm_page_prot` carries `_PAGE_RW`.
    pub(crate) fn page_prot_writable(&self) -> bool {
        ffi::migentry_prot_writable(self.0.page_prot)
    }

    /// Whether soft-dirty is tracked per PTE in this VMA (`vma_soft_dirty_enabled()`): the kernel
    /// supports it and `VM_SOFTDIRTY` is clear, so every write must go through a fault that sets
    /// the PTE's soft-dirty bit.
    pub(crate) fn soft_dirty_tracking(&self) -> bool {
        ffi::migentry_features() & uapi::FEAT_SOFT_DIRTY != 0 && !self.flags().softdirty
    }

    /// Whether write-notify is in effect: a shared writable VMA whose `vm_page_prot` was
    /// computed without `_PAGE_RW` (`vma_wants_writenotify()` said yes), so the first write to a
    /// clean page faults.
    pub(crate) fn write_notify(&self) -> bool {
        let f = self.flags();
        f.shared && f.write && !self.page_prot_writable()
    }

    /// The C form, for the reference restores.
    pub(crate) fn as_c(&self) -> &ffi::VmaFactsC {
        &self.0
    }
}

/// A VMA seen under the mmap lock (or its VMA lock), with the facts the restore needs.
pub(crate) struct VmaView<'a> {
    vma: &'a VmaRef,
    facts: VmaFacts,
}

impl<'a> VmaView<'a> {
    /// Reads the facts of `vma`.
    pub(crate) fn new(vma: &'a VmaRef) -> Self {
        // SAFETY: `VmaRef`'s invariant is that the caller holds the mmap lock or the VMA lock,
        // for at least the lifetime `'a`, so the VMA is valid during the call.
        let facts = VmaFacts(unsafe { ffi::vma_facts(vma.as_ptr()) });
        Self { vma, facts }
    }

    /// The underlying VMA.
    pub(crate) fn vma(&self) -> &'a VmaRef {
        self.vma
    }

    /// The facts read when the view was made.
    pub(crate) fn facts(&self) -> &VmaFacts {
        &self.facts
    }
}
