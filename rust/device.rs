// SPDX-License-Identifier: GPL-2.0

//! `/dev/migentry`: the misc device and its ioctls.
//!
//! This layer decodes ioctl arguments, walks the caller's own memory through the mm layer and
//! reports, in safe Rust only and without calling C (`uapi` encodes the ABI structs word by word,
//! `ops` does the per-page work).

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
    mm::{
        self,
        Invalidation,
        MmapReadGuard,
        MmapWriteGuard,
        ReadLocked,
        Visit,
        VmaFacts,
        VmaView, //
    },
    restore,
};

mod ops;
mod uapi;

/// Allocation flags of the buffers of a call: their size is the caller's choice (up to a few MiB
/// at `MIGENTRY_MAX_PAGES`), so they are charged to the caller's memory cgroup, and a failure is
/// the caller's `ENOMEM`, not a warning with a stack trace on the console.
fn buf_gfp() -> kernel::alloc::Flags {
    GFP_KERNEL_ACCOUNT | __GFP_NOWARN
}

/// State of one open file of `/dev/migentry`; the device keeps none.
pub(crate) struct Migentry;

/// Reads the ioctl argument at `arg`, `N` words whose first is `__u64 size`.
///
/// The size is read first and must be the size of the struct this ABI defines; a caller built
/// against another size gets `EINVAL` and nothing else is read. (A struct of another size has
/// another ioctl number anyway, since `_IOWR` encodes it.)
fn read_words<const N: usize>(arg: usize) -> Result<[u64; N]> {
    let mut size = UserSlice::new(UserPtr::from_addr(arg), size_of::<u64>()).reader();
    // CAST: `N` words are at most a few hundred bytes.
    if size.read::<u64>()? != (N * size_of::<u64>()) as u64 {
        return Err(EINVAL);
    }
    UserSlice::new(UserPtr::from_addr(arg), N * size_of::<u64>())
        .reader()
        .read::<[u64; N]>()
}

/// Writes `w` to the caller's memory at `addr`.
fn write_at<const N: usize>(addr: UserPtr, w: &[u64; N]) -> Result {
    UserSlice::new(addr, N * size_of::<u64>()).writer().write(w)
}

/// Writes a whole argument struct (INFO, STATS) back to `arg`, from which `read` was read.
///
/// The struct is first written with the words it was read with, which changes nothing; a
/// struct that is not entirely writable (a read-only page under part of it) fails with
/// `EFAULT` then, with its contents as they were. Only after that are the results written.
fn write_back<const N: usize>(arg: usize, read: &[u64; N], out: &[u64; N]) -> Result {
    write_at(UserPtr::from_addr(arg), read)?;
    write_at(UserPtr::from_addr(arg), out)
}

/// Records encoded and copied to the caller per chunk of this many, after the walk.
const CHUNK_RECORDS: usize = 32;

/// A checked `struct migentry_range`: the range is page-aligned, non-empty, does not overflow,
/// has at most `MIGENTRY_MAX_PAGES` pages, and the record array can hold one record per page.
struct RangeReq {
    arg: uapi::Range,
    addr: usize,
    pages: usize,
    /// The words of up to [`CHUNK_RECORDS`] records, on their way to the caller.
    chunk: KVec<u64>,
}

impl RangeReq {
    fn read(arg: usize, known_flags: u64) -> Result<Self> {
        let a = uapi::Range::decode(read_words(arg)?);
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
        // CAST: at most `MAX_PAGES`.
        if a.nr_records < pages as u64 {
            return Err(ENOSPC);
        }
        let chunk = KVec::with_capacity(CHUNK_RECORDS * uapi::RECORD_WORDS, buf_gfp())?;
        Ok(Self {
            arg: a,
            addr,
            pages,
            chunk,
        })
    }

    fn len(&self) -> usize {
        self.pages * PAGE_SIZE
    }

    /// The caller's `nr_done` and `vma_flags`, the struct's output words.
    fn out_ptr(arg: usize) -> UserPtr {
        UserPtr::from_addr(arg).wrapping_byte_add(uapi::RANGE_OUT_OFFSET)
    }

    /// Proves, before any page is looked at, that everything the call will write is writable:
    /// the struct's output words and every page of the part of the record array the records
    /// will fill. Each is written with the value just read from it, so nothing changes, also
    /// when this fails (`EFAULT`) half-way.
    ///
    /// What can still fail afterwards is the caller's own doing: its buffers unmapped or
    /// protected by another thread (or by this very round trip) before the records are copied.
    fn claim_outputs(&self, arg: usize) -> Result {
        write_at(Self::out_ptr(arg), &[self.arg.nr_done, self.arg.vma_flags])?;
        let base = usize::try_from(self.arg.records).map_err(|_| EFAULT)?;
        let bytes = self.pages * uapi::RECORD_WORDS * size_of::<u64>();
        let end = base.checked_add(bytes).ok_or(EFAULT)?;
        let mut at = base;
        while at < end {
            let ptr = UserPtr::from_addr(at);
            let byte = UserSlice::new(ptr, 1).reader().read::<u8>()?;
            UserSlice::new(ptr, 1).writer().write(&byte)?;
            at = (at & !(PAGE_SIZE - 1)).saturating_add(PAGE_SIZE);
        }
        Ok(())
    }

    /// Runs `per_vma` on the VMA of the range with the caller's mmap lock held for reading.
    fn with_read_vma<T, F>(&mut self, per_vma: F) -> Result<(VmaFacts, T)>
    where
        F: FnOnce(&VmaView<'_, ReadLocked>) -> Result<T>,
    {
        let task = kernel::current!();
        let mm = task.mm().ok_or(EFAULT)?;
        let guard = MmapReadGuard::lock(mm);
        let vma = guard.vma(self.addr).ok_or(EFAULT)?;
        let facts = *vma.facts();
        self.arg.vma_flags = ops::vma_flags(&facts);
        Ok((facts, per_vma(&vma)?))
    }

    /// Runs `per_vma` on the VMA of the range with the caller's mmap lock held for writing.
    fn with_write_vma<T, F>(&mut self, per_vma: F) -> Result<(VmaFacts, T)>
    where
        F: FnOnce(&VmaView<'_>) -> Result<T>,
    {
        let task = kernel::current!();
        let mm = task.mm().ok_or(EFAULT)?;
        let guard = MmapWriteGuard::lock(mm);
        let vma = guard.vma(self.addr).ok_or(EFAULT)?;
        let facts = *vma.facts();
        self.arg.vma_flags = ops::vma_flags(&facts);
        Ok((facts, per_vma(&vma)?))
    }

    /// Copies `records` to the caller's array, [`CHUNK_RECORDS`] at a time, then `nr_done` and
    /// `vma_flags` into the argument; runs after every lock is dropped. Nothing is written to
    /// the caller when this is not reached.
    fn finish(mut self, arg: usize, records: impl Iterator<Item = uapi::Record>) -> Result<isize> {
        // CAST: `u64` and `usize` are the same size on x86-64.
        let mut ptr = UserPtr::from_addr(self.arg.records as usize);
        let mut records = records.peekable();
        let mut n = 0u64;
        while records.peek().is_some() {
            self.chunk.clear();
            for r in records.by_ref().take(CHUNK_RECORDS) {
                let mut w = [0u64; uapi::RECORD_WORDS];
                r.encode(&mut w);
                // Within the capacity reserved in `read`: no allocation.
                self.chunk.extend_from_slice(&w, buf_gfp())?;
                n += 1;
            }
            let bytes = AsBytes::as_bytes(self.chunk.as_slice());
            UserSlice::new(ptr, bytes.len())
                .writer()
                .write_slice(bytes)?;
            ptr = ptr.wrapping_byte_add(bytes.len());
        }
        self.arg.nr_done = n;
        write_at(Self::out_ptr(arg), &[n, self.arg.vma_flags])?;
        Ok(0)
    }
}

impl Migentry {
    /// READ_PTE, under the mmap read lock: faults of the process go on meanwhile, and the walk
    /// allocates no page table. A page of a PMD-mapped THP is reported with its PMD.
    fn read_pte(arg: usize) -> Result<isize> {
        let mut req = RangeReq::read(arg, 0)?;
        let admin = mm::pfns_visible();
        let mut entries = KVVec::with_capacity(req.pages, buf_gfp())?;
        req.claim_outputs(arg)?;
        let (addr, len) = (req.addr, req.len());
        req.with_read_vma(|vma| {
            vma.read_entries(addr, len, |_, entry| {
                entries.push_within_capacity(entry).map_err(|_| ENOSPC)
            })
        })?;
        let records = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| ops::read(addr + i * PAGE_SIZE, entry, admin));
        req.finish(arg, records)
    }

    /// ROUNDTRIP (`install`) or EVALUATE.
    ///
    /// EVALUATE only reads: it runs under the mmap read lock, with read-only PTE slots.
    /// ROUNDTRIP changes PTEs and the restore needs the VMA as it is: it runs under the mmap and
    /// VMA write locks. Both walk without allocating page tables, so a round trip over a hole
    /// reports none and changes nothing there.
    ///
    /// A round trip that takes rights away from a page needs the TLB (and secondary MMUs)
    /// flushed before it is complete. Where the kernel lets the module flush, the whole walk runs
    /// inside an [`Invalidation`], which flushes when it ends, whatever the walk returned. Where
    /// it does not, a first pass checks every page and the ioctl fails with `EOPNOTSUPP` before
    /// any PTE is touched if one would lose rights.
    fn migrate(arg: usize, install: bool) -> Result<isize> {
        let known = u64::from(uapi::MIGENTRY_RT_CLEAR_SOFT_DIRTY)
            | u64::from(uapi::MIGENTRY_RT_WRPROTECT)
            | u64::from(uapi::MIGENTRY_RT_UFFD_WP);
        let mut req = RangeReq::read(arg, known)?;
        let flags = req.arg.flags;
        let inject = ops::Inject {
            clear_soft_dirty: flags & u64::from(uapi::MIGENTRY_RT_CLEAR_SOFT_DIRTY) != 0,
            wrprotect: flags & u64::from(uapi::MIGENTRY_RT_WRPROTECT) != 0,
            uffd_wp: flags & u64::from(uapi::MIGENTRY_RT_UFFD_WP) != 0,
        };
        let mut outcomes = KVVec::with_capacity(req.pages, buf_gfp())?;
        req.claim_outputs(arg)?;
        let (addr, len) = (req.addr, req.len());
        let check_inject = |facts: &VmaFacts| {
            if inject.uffd_wp && !facts.flags().uffd_wp {
                return Err(EINVAL);
            }
            Ok(())
        };
        let (facts, ()) = if install {
            req.with_write_vma(|vma| {
                let facts = *vma.facts();
                check_inject(&facts)?;
                let mut walk = |mode| {
                    outcomes.clear();
                    vma.walk_entries(addr, len, |visit| {
                        let o = match visit {
                            Visit::Slot(slot) => ops::round_trip(slot, &facts, inject, mode)?,
                            Visit::Leaf(slot, from, to) => {
                                ops::round_trip(slot, &facts, inject, mode)?.covering(from, to)
                            }
                        };
                        outcomes.push_within_capacity(o).map_err(|_| ENOSPC)
                    })
                };
                if Invalidation::available() {
                    let _flush = Invalidation::start(vma, addr, len)?;
                    return walk(ops::Mode::Install { flush: true });
                }
                walk(ops::Mode::Check)?;
                walk(ops::Mode::Install { flush: false })
            })?
        } else {
            req.with_read_vma(|vma| {
                let facts = *vma.facts();
                check_inject(&facts)?;
                vma.walk_entries(addr, len, |visit| {
                    let o = match visit {
                        Visit::Slot(slot) => ops::evaluate(slot, &facts, inject)?,
                        Visit::Leaf(slot, from, to) => {
                            ops::evaluate(slot, &facts, inject)?.covering(from, to)
                        }
                    };
                    outcomes.push_within_capacity(o).map_err(|_| ENOSPC)
                })
            })?
        };
        let admin = mm::pfns_visible();
        let records = outcomes
            .iter()
            .flat_map(|o| (0..o.pages()).map(move |k| ops::record(o, k, &facts, admin)));
        req.finish(arg, records)
    }

    /// `MIGENTRY_STATS_*`: whether the kernel has the hook and whether it is registered.
    fn hook_flags() -> u64 {
        [
            (mm::hook::available(), uapi::MIGENTRY_STATS_HOOK_AVAILABLE),
            (mm::hook::registered(), uapi::MIGENTRY_STATS_HOOK_REGISTERED),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0u64, |acc, (_, bit)| acc | u64::from(*bit))
    }

    fn stats(arg: usize) -> Result<isize> {
        let read = read_words::<{ uapi::STATS_WORDS }>(arg)?;
        let s = restore::hook::stats();
        let k = mm::hook::kernel_counts().unwrap_or_default();
        let out = uapi::Stats {
            flags: Self::hook_flags(),
            restores: [s.restores, s.writable, s.write_protected, s.uffd],
            refused: s.refused,
            divergences: s.divergences,
            other: [s.unexpected, s.c_write_uffd, s.left_to_c],
            kernel: [k.called, k.rejected, k.unseen],
        };
        write_back(arg, &read, &out.encode::<{ uapi::STATS_WORDS }>())?;
        Ok(0)
    }

    fn pmd_stats(arg: usize) -> Result<isize> {
        let read = read_words::<{ uapi::PMD_STATS_WORDS }>(arg)?;
        let s = restore::hook::pmd_stats();
        let k = mm::hook::kernel_counts().unwrap_or_default();
        let [p1, p2, p3, _] = s.divergences;
        let out = uapi::PmdStats {
            flags: Self::hook_flags(),
            restores: [s.restores, s.writable, s.write_protected, s.uffd],
            refused: s.refused,
            divergences: [p1, p2, p3],
            other: [s.unexpected, s.c_write_uffd, s.left_to_c],
            kernel: [k.called_pmd, k.rejected_pmd],
        };
        write_back(arg, &read, &out.encode::<{ uapi::PMD_STATS_WORDS }>())?;
        Ok(0)
    }

    fn info(arg: usize) -> Result<isize> {
        let read = read_words::<{ uapi::INFO_WORDS }>(arg)?;
        let f = mm::features();
        let features = [
            (f.uffd_wp, uapi::MIGENTRY_FEAT_UFFD_WP),
            (f.soft_dirty, uapi::MIGENTRY_FEAT_SOFT_DIRTY),
            (f.uffd_rwp, uapi::MIGENTRY_FEAT_UFFD_RWP),
            (f.numa, uapi::MIGENTRY_FEAT_NUMA),
            (f.migration_ad, uapi::MIGENTRY_FEAT_MIGRATION_AD),
            (f.tlb_flush, uapi::MIGENTRY_FEAT_TLB_FLUSH),
            (mm::hook::registered(), uapi::MIGENTRY_FEAT_RESTORE_HOOK),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0u64, |acc, (_, bit)| acc | u64::from(*bit));
        let info = uapi::Info {
            abi_version: uapi::MIGENTRY_ABI_VERSION,
            // CAST: `PAGE_SIZE` is 4096 on x86-64.
            page_size: PAGE_SIZE as u32,
            features,
            nr_online_nodes: mm::nr_online_nodes(),
        };
        write_back(arg, &read, &info.encode())?;
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
            uapi::IOC_STATS => Self::stats(arg),
            uapi::IOC_PMD_STATS => Self::pmd_stats(arg),
            _ => Err(ENOTTY),
        }
    }
}
