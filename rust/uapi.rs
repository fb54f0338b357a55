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
