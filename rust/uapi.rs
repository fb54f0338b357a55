// SPDX-License-Identifier: GPL-2.0

//! Rust mirror of `include/uapi/migentry.h`.
//!
//! The layout guard (`rust/layout.rs`) compares sizes and offsets of these structs with the C
//! header as compiled by the shim, so the two cannot drift apart unnoticed.

use kernel::{
    ioctl::_IOWR,
    transmute::{
        AsBytes,
        FromBytes, //
    },
};

/// `MIGENTRY_ABI_VERSION`.
pub(crate) const ABI_VERSION: u32 = 1;

/// `MIGENTRY_FEAT_SOFT_DIRTY`.
pub(crate) const FEAT_SOFT_DIRTY: u64 = 1 << 1;

/// `MIGENTRY_POLICY_*`: who decides the restored PTE.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub(crate) enum Policy {
    /// migentry's typed restore.
    Typed = 0,
    /// Linux 7.3 `remove_migration_pte()`.
    Upstream = 1,
    /// v6.1, before write-notify for uffd-wp VMAs.
    Pre62 = 2,
    /// v6.1 with Peter Xu's unmerged v3 fix.
    PeterxV3 = 3,
}

/// `MIGENTRY_IOC_MAGIC`.
const IOC_MAGIC: u32 = 0xBE;

/// `struct migentry_info`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Info {
    /// In: `sizeof(struct migentry_info)`.
    pub(crate) size: u64,
    /// Out: [`ABI_VERSION`].
    pub(crate) abi_version: u32,
    /// Out: `PAGE_SIZE`.
    pub(crate) page_size: u32,
    /// Out: `MIGENTRY_FEAT_*`.
    pub(crate) features: u64,
    /// Out: NUMA nodes online.
    pub(crate) nr_online_nodes: u32,
    /// Out: zero.
    pub(crate) reserved: u32,
}

// SAFETY: `Info` is `repr(C)` and made of integers only, so every bit pattern is a valid value.
unsafe impl FromBytes for Info {}
// SAFETY: `Info` is `repr(C)`, its fields are naturally aligned integers that leave no padding,
// so all of its bytes are initialised.
unsafe impl AsBytes for Info {}

/// `MIGENTRY_IOC_INFO`.
pub(crate) const IOC_INFO: u32 = _IOWR::<Info>(IOC_MAGIC, 0x00);

/// `struct migentry_pte_state`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct PteState {
    /// `pte_val()`, 0 without `CAP_SYS_ADMIN`.
    pub(crate) raw: u64,
    /// PFN, 0 without `CAP_SYS_ADMIN`.
    pub(crate) pfn: u64,
    /// `MIGENTRY_LEAF_*`.
    pub(crate) kind: u32,
    /// `MIGENTRY_PTE_*`.
    pub(crate) flags: u32,
}

/// `MIGENTRY_REC_DONE`.
pub(crate) const REC_DONE: u32 = 0;
/// `MIGENTRY_REC_NONE`.
pub(crate) const REC_NONE: u32 = 1;
/// `MIGENTRY_REC_NOT_PRESENT`.
pub(crate) const REC_NOT_PRESENT: u32 = 2;
/// `MIGENTRY_REC_SPECIAL`.
pub(crate) const REC_SPECIAL: u32 = 3;

/// `MIGENTRY_NR_POLICIES`.
pub(crate) const NR_POLICIES: usize = 4;

/// `struct migentry_record`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Record {
    /// User address of the page.
    pub(crate) addr: u64,
    /// `MIGENTRY_REC_*`.
    pub(crate) status: u32,
    /// `MIGENTRY_NOGRANT_*`.
    pub(crate) refused: u32,
    /// The entry as found.
    pub(crate) before: PteState,
    /// The migration entry.
    pub(crate) entry: PteState,
    /// By `MIGENTRY_POLICY_*`.
    pub(crate) after: [PteState; NR_POLICIES],
}

/// `MIGENTRY_MAX_PAGES`.
pub(crate) const MAX_PAGES: usize = 65536;

/// `struct migentry_range`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Range {
    /// In: `sizeof(struct migentry_range)`.
    pub(crate) size: u64,
    /// In: start address.
    pub(crate) addr: u64,
    /// In: length in bytes.
    pub(crate) len: u64,
    /// In: flags.
    pub(crate) flags: u64,
    /// In: user pointer to the records.
    pub(crate) records: u64,
    /// In: capacity of the records.
    pub(crate) nr_records: u64,
    /// Out: records filled.
    pub(crate) nr_done: u64,
    /// Out: `MIGENTRY_VMA_*`.
    pub(crate) vma_flags: u64,
}

/// `MIGENTRY_VMA_WRITE`.
pub(crate) const VMA_WRITE: u64 = 1 << 0;
/// `MIGENTRY_VMA_SHARED`.
pub(crate) const VMA_SHARED: u64 = 1 << 1;
/// `MIGENTRY_VMA_SOFTDIRTY`.
pub(crate) const VMA_SOFTDIRTY: u64 = 1 << 2;
/// `MIGENTRY_VMA_UFFD_WP`.
pub(crate) const VMA_UFFD_WP: u64 = 1 << 3;
/// `MIGENTRY_VMA_UFFD_RWP`.
pub(crate) const VMA_UFFD_RWP: u64 = 1 << 4;
/// `MIGENTRY_VMA_ANON`.
pub(crate) const VMA_ANON: u64 = 1 << 5;
/// `MIGENTRY_VMA_PROT_WRITE`.
pub(crate) const VMA_PROT_WRITE: u64 = 1 << 6;
/// `MIGENTRY_VMA_SD_TRACKING`.
pub(crate) const VMA_SD_TRACKING: u64 = 1 << 7;
/// `MIGENTRY_VMA_WRITE_NOTIFY`.
pub(crate) const VMA_WRITE_NOTIFY: u64 = 1 << 8;

// SAFETY: `repr(C)` structs of integers (and arrays of such structs) without padding: every bit
// pattern is valid and every byte is initialised.
unsafe impl FromBytes for PteState {}
// SAFETY: see above.
unsafe impl AsBytes for PteState {}
// SAFETY: see above.
unsafe impl FromBytes for Record {}
// SAFETY: see above.
unsafe impl AsBytes for Record {}
// SAFETY: see above.
unsafe impl FromBytes for Range {}
// SAFETY: see above.
unsafe impl AsBytes for Range {}

/// `MIGENTRY_IOC_READ_PTE`.
pub(crate) const IOC_READ_PTE: u32 = _IOWR::<Range>(IOC_MAGIC, 0x01);
/// `MIGENTRY_IOC_ROUNDTRIP`.
pub(crate) const IOC_ROUNDTRIP: u32 = _IOWR::<Range>(IOC_MAGIC, 0x02);
/// `MIGENTRY_IOC_EVALUATE`.
pub(crate) const IOC_EVALUATE: u32 = _IOWR::<Range>(IOC_MAGIC, 0x03);

/// `MIGENTRY_RT_CLEAR_SOFT_DIRTY`.
pub(crate) const RT_CLEAR_SOFT_DIRTY: u64 = 1 << 0;
/// `MIGENTRY_RT_WRPROTECT`.
pub(crate) const RT_WRPROTECT: u64 = 1 << 1;
/// `MIGENTRY_RT_UFFD_WP`.
pub(crate) const RT_UFFD_WP: u64 = 1 << 2;

/// `MIGENTRY_NOGRANT_VMA_NOT_WRITABLE`.
pub(crate) const NOGRANT_VMA_NOT_WRITABLE: u32 = 1;
/// `MIGENTRY_NOGRANT_UFFD`.
pub(crate) const NOGRANT_UFFD: u32 = 2;
/// `MIGENTRY_NOGRANT_SOFT_DIRTY`.
pub(crate) const NOGRANT_SOFT_DIRTY: u32 = 3;

/// Structs that start with the `__u64 size` field of the extensible-struct convention.
pub(crate) trait SizedArg: FromBytes + AsBytes + Sized {
    /// The only `size` value this ABI version accepts.
    const SIZE: u64 = core::mem::size_of::<Self>() as u64;
}

impl SizedArg for Info {}
impl SizedArg for Range {}
