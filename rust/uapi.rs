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

/// `MIGENTRY_FEAT_UFFD_WP`.
pub(crate) const FEAT_UFFD_WP: u64 = 1 << 0;
/// `MIGENTRY_FEAT_SOFT_DIRTY`.
pub(crate) const FEAT_SOFT_DIRTY: u64 = 1 << 1;
/// `MIGENTRY_FEAT_UFFD_RWP`.
pub(crate) const FEAT_UFFD_RWP: u64 = 1 << 2;
/// `MIGENTRY_FEAT_NUMA`.
pub(crate) const FEAT_NUMA: u64 = 1 << 3;

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

/// Structs that start with the `__u64 size` field of the extensible-struct convention.
pub(crate) trait SizedArg: FromBytes + AsBytes + Sized {
    /// The only `size` value this ABI version accepts.
    const SIZE: u64 = core::mem::size_of::<Self>() as u64;
}

impl SizedArg for Info {}
