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
    transmute::AsBytes,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::{
    ffi,
    ops,
    uapi,
    vma::{
        MmapWriteGuard,
        VmaView, //
    }, //
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

/// A checked `struct migentry_range`: the range is page-aligned, non-empty, does not overflow,
/// has at most `MIGENTRY_MAX_PAGES` pages, and the record array can hold one record per page.
struct RangeReq {
    arg: uapi::Range,
    pages: usize,
}

impl RangeReq {
    fn read(arg: usize, known_flags: u64) -> Result<Self> {
        let a: uapi::Range = read_arg(arg)?;
        if a.flags & !known_flags != 0 {
            return Err(EINVAL);
        }
        let addr = usize::try_from(a.addr).map_err(|_| EINVAL)?;
        let len = usize::try_from(a.len).map_err(|_| EINVAL)?;
        if len == 0 || addr % PAGE_SIZE != 0 || len % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        addr.checked_add(len).ok_or(EINVAL)?;
        let pages = len / PAGE_SIZE;
        if pages > uapi::MAX_PAGES {
            return Err(E2BIG);
        }
        if a.nr_records < pages as u64 {
            return Err(ENOSPC);
        }
        Ok(Self { arg: a, pages })
    }

    fn addr(&self) -> usize {
        // CAST: checked to fit in `read()`.
        self.arg.addr as usize
    }

    fn len(&self) -> usize {
        self.pages * PAGE_SIZE
    }

    /// Copies `records` to the user's array and `nr_done` back into the argument.
    fn finish(mut self, arg: usize, records: &[uapi::Record]) -> Result<isize> {
        let bytes = records.as_bytes();
        // CAST: `u64` and `usize` are the same size on x86-64.
        let ptr = UserPtr::from_addr(self.arg.records as usize);
        UserSlice::new(ptr, bytes.len())
            .writer()
            .write_slice(bytes)?;
        self.arg.nr_done = records.len() as u64;
        write_arg(arg, &self.arg)?;
        Ok(0)
    }
}

impl RangeReq {
    /// Runs `per_vma` on the VMA of the range, with the caller's mmap lock held for writing, and
    /// copies the records it collects back; `per_vma` gets the VMA and a record vector with room
    /// for one record per page.
    fn run<F>(mut self, arg: usize, per_vma: F) -> Result<isize>
    where
        F: FnOnce(&VmaView<'_>, &mut KVVec<uapi::Record>) -> Result,
    {
        let mut records = KVVec::with_capacity(self.pages, GFP_KERNEL)?;
        let task = kernel::current!();
        let mm = task.mm().ok_or(EFAULT)?;
        {
            let guard = MmapWriteGuard::lock(mm);
            let vma = guard.vma(self.addr()).ok_or(EFAULT)?;
            self.arg.vma_flags = ops::vma_flags(&vma);
            per_vma(&vma, &mut records)?;
        }
        self.finish(arg, &records)
    }
}

impl Migentry {
    fn read_pte(arg: usize) -> Result<isize> {
        let req = RangeReq::read(arg, 0)?;
        let admin = ffi::migentry_capable_sys_admin();
        let (addr, len) = (req.addr(), req.len());
        req.run(arg, |vma, records| {
            vma.walk_ptes(addr, len, |slot| {
                records
                    .push_within_capacity(ops::read(slot, admin))
                    .map_err(|_| ENOSPC)
            })
        })
    }

    /// ROUNDTRIP (`install`) or EVALUATE.
    fn migrate(arg: usize, install: bool) -> Result<isize> {
        let known = uapi::RT_CLEAR_SOFT_DIRTY | uapi::RT_WRPROTECT | uapi::RT_UFFD_WP;
        let req = RangeReq::read(arg, known)?;
        if install && !ffi::migentry_tlb_flush_supported() {
            return Err(EOPNOTSUPP);
        }
        let inject = ops::Inject {
            clear_soft_dirty: req.arg.flags & uapi::RT_CLEAR_SOFT_DIRTY != 0,
            wrprotect: req.arg.flags & uapi::RT_WRPROTECT != 0,
            uffd_wp: req.arg.flags & uapi::RT_UFFD_WP != 0,
        };
        let admin = ffi::migentry_capable_sys_admin();
        let (addr, len) = (req.addr(), req.len());
        req.run(arg, |vma, records| {
            if inject.uffd_wp && !vma.facts().flags().uffd_wp {
                return Err(EINVAL);
            }
            let facts = *vma.facts();
            let walked = vma.walk_ptes(addr, len, |slot| {
                let rec = ops::migrate(slot, &facts, inject, install, admin)?;
                records.push_within_capacity(rec).map_err(|_| ENOSPC)
            });
            // Flush even after a partial walk: some PTEs may have lost write permission.
            if install && !records.is_empty() {
                vma.flush_tlb()?;
            }
            walked
        })
    }

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
            uapi::IOC_READ_PTE => Self::read_pte(arg),
            uapi::IOC_ROUNDTRIP => Self::migrate(arg, true),
            uapi::IOC_EVALUATE => Self::migrate(arg, false),
            _ => Err(ENOTTY),
        }
    }
}
