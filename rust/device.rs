// SPDX-License-Identifier: GPL-2.0

//! `/dev/migentry`: the misc device and its ioctl dispatch.
//!
//! This file holds no `unsafe`: it only uses the kernel crate and the module's abstraction layer.

use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    page::PAGE_SIZE,
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::{
    ffi,
    uapi, //
};

/// State of one open file of `/dev/migentry`; the device keeps none yet.
pub(crate) struct Migentry;

/// Reads an ioctl argument whose first field is `__u64 size`.
///
/// The size is read first and checked against the struct this module was built with, so a
/// caller built against another ABI version gets `EINVAL` and nothing else is read.
fn read_arg<T: uapi::SizedArg>(arg: usize) -> Result<T> {
    let mut sized = UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<u64>()).reader();
    if sized.read::<u64>()? != T::SIZE {
        return Err(EINVAL);
    }
    UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<T>())
        .reader()
        .read::<T>()
}

/// Copies an ioctl result back to the caller's struct.
fn write_arg<T: uapi::SizedArg>(arg: usize, val: &T) -> Result {
    UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<T>())
        .writer()
        .write(val)
}

impl Migentry {
    fn info(arg: usize) -> Result<isize> {
        let mut info: uapi::Info = read_arg(arg)?;
        info.abi_version = uapi::ABI_VERSION;
        // CAST: `PAGE_SIZE` is 4096 on x86-64.
        info.page_size = PAGE_SIZE as u32;
        info.features = ffi::migentry_features();
        info.nr_online_nodes = ffi::migentry_nr_online_nodes();
        info.reserved = 0;
        write_arg(arg, &info)?;
        Ok(0)
    }
}

#[vtable]
impl MiscDevice for Migentry {
    type Ptr = KBox<Self>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        Ok(KBox::new(Migentry, GFP_KERNEL)?)
    }

    fn ioctl(_me: &Migentry, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        // The struct size encoded in `cmd` is part of the command: a caller compiled against
        // another struct size gets `ENOTTY` here rather than a short copy.
        match cmd {
            uapi::IOC_INFO => Self::info(arg),
            _ => Err(ENOTTY),
        }
    }
}
