// SPDX-License-Identifier: GPL-2.0

//! `include/uapi/migentry.h` in Rust.
//!
//! The constants and the struct layouts are generated from the header by bindgen at build time
//! (see `Kbuild`). The structs cross the user boundary as arrays of `u64` words, encoded and
//! decoded here field by field; the `const` assertions below fail the build if a field's word
//! does not match the C layout.

use core::mem::{
    offset_of,
    size_of, //
};

use kernel::ioctl::_IOWR;

#[allow(
    dead_code,
    non_camel_case_types,
    non_upper_case_globals,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::restriction
)]
mod generated {
    use kernel::ffi;

    include!("uapi_generated.rs");
}

pub(crate) use generated::*;

/// Asserts that `$field` of the C struct `$ty` is at byte `$at` and the struct is `$words` long.
macro_rules! at {
    ($ty:ident, $words:expr, $($field:ident = $at:expr),*) => {
        const _: () = {
            assert!(size_of::<generated::$ty>() == $words * 8);
            $(assert!(offset_of!(generated::$ty, $field) == $at);)*
        };
    };
}

at!(
    migentry_info,
    INFO_WORDS,
    size = 0,
    abi_version = 8,
    page_size = 12,
    features = 16,
    nr_online_nodes = 24,
    reserved = 28
);
at!(
    migentry_range,
    RANGE_WORDS,
    size = 0,
    addr = 8,
    len = 16,
    flags = 24,
    records = 32,
    nr_records = 40,
    nr_done = 48,
    vma_flags = 56
);
at!(
    migentry_pte_state,
    3,
    raw = 0,
    pfn = 8,
    kind = 16,
    flags = 20
);
at!(
    migentry_record,
    RECORD_WORDS,
    addr = 0,
    status = 8,
    refused = 12,
    before = 16,
    entry = 40,
    after = 64
);

at!(
    migentry_stats,
    STATS_WORDS,
    size = 0,
    flags = 8,
    restores = 16,
    writable = 24,
    write_protected = 32,
    uffd = 40,
    refused = 48,
    divergences = 72,
    unexpected = 104,
    c_write_uffd = 112,
    left_to_c = 120,
    kernel_called = 128,
    kernel_rejected = 136,
    kernel_unseen = 144
);

at!(
    migentry_pmd_stats,
    PMD_STATS_WORDS,
    size = 0,
    flags = 8,
    restores = 16,
    writable = 24,
    write_protected = 32,
    uffd = 40,
    refused = 48,
    divergences = 72,
    unexpected = 96,
    c_write_uffd = 104,
    left_to_c = 112,
    kernel_called = 120,
    kernel_rejected = 128
);

/// Words of `struct migentry_stats`.
pub(crate) const STATS_WORDS: usize = 19;
/// Words of `struct migentry_pmd_stats`.
pub(crate) const PMD_STATS_WORDS: usize = 17;
/// Words of `struct migentry_info`.
pub(crate) const INFO_WORDS: usize = 4;
/// Words of `struct migentry_range`.
pub(crate) const RANGE_WORDS: usize = 8;
/// Words of `struct migentry_record`.
pub(crate) const RECORD_WORDS: usize = 2 + 3 * (2 + NR_POLICIES);

/// Byte offset of the output words of `struct migentry_range`: `nr_done`, then `vma_flags`.
pub(crate) const RANGE_OUT_OFFSET: usize = offset_of!(generated::migentry_range, nr_done);
const _: () = assert!(offset_of!(generated::migentry_range, vma_flags) == RANGE_OUT_OFFSET + 8);
const _: () = assert!(size_of::<generated::migentry_range>() == RANGE_OUT_OFFSET + 16);

/// `MIGENTRY_NR_POLICIES`.
pub(crate) const NR_POLICIES: usize = MIGENTRY_NR_POLICIES as usize;
/// `MIGENTRY_MAX_PAGES`.
pub(crate) const MAX_PAGES: usize = MIGENTRY_MAX_PAGES as usize;

/// `MIGENTRY_IOC_MAGIC`.
const IOC_MAGIC: u32 = MIGENTRY_IOC_MAGIC;
/// `MIGENTRY_IOC_INFO`.
pub(crate) const IOC_INFO: u32 = _IOWR::<migentry_info>(IOC_MAGIC, 0x00);
/// `MIGENTRY_IOC_READ_PTE`.
pub(crate) const IOC_READ_PTE: u32 = _IOWR::<migentry_range>(IOC_MAGIC, 0x01);
/// `MIGENTRY_IOC_ROUNDTRIP`.
pub(crate) const IOC_ROUNDTRIP: u32 = _IOWR::<migentry_range>(IOC_MAGIC, 0x02);
/// `MIGENTRY_IOC_EVALUATE`.
pub(crate) const IOC_EVALUATE: u32 = _IOWR::<migentry_range>(IOC_MAGIC, 0x03);
/// `MIGENTRY_IOC_STATS`.
pub(crate) const IOC_STATS: u32 = _IOWR::<migentry_stats>(IOC_MAGIC, 0x04);
/// `MIGENTRY_IOC_PMD_STATS`.
pub(crate) const IOC_PMD_STATS: u32 = _IOWR::<migentry_pmd_stats>(IOC_MAGIC, 0x05);

/// Two `__u32` fields that share a word (the first at the lower address).
fn pair(lo: u32, hi: u32) -> u64 {
    u64::from(lo) | (u64::from(hi) << 32)
}

/// `struct migentry_info`.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Info {
    /// `abi_version`.
    pub(crate) abi_version: u32,
    /// `page_size`.
    pub(crate) page_size: u32,
    /// `features`.
    pub(crate) features: u64,
    /// `nr_online_nodes`.
    pub(crate) nr_online_nodes: u32,
}

impl Info {
    /// The struct as the caller reads it; `reserved` is zero.
    pub(crate) fn encode(&self) -> [u64; INFO_WORDS] {
        [
            INFO_WORDS as u64 * 8,
            pair(self.abi_version, self.page_size),
            self.features,
            pair(self.nr_online_nodes, 0),
        ]
    }
}

/// `struct migentry_range`.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Range {
    /// In: `addr`.
    pub(crate) addr: u64,
    /// In: `len`.
    pub(crate) len: u64,
    /// In: `flags`.
    pub(crate) flags: u64,
    /// In: `records`, a user pointer.
    pub(crate) records: u64,
    /// In: `nr_records`.
    pub(crate) nr_records: u64,
    /// Out: `nr_done`.
    pub(crate) nr_done: u64,
    /// Out: `vma_flags`.
    pub(crate) vma_flags: u64,
}

impl Range {
    /// From the caller's struct (whose `size` has been checked).
    pub(crate) fn decode(w: [u64; RANGE_WORDS]) -> Self {
        Self {
            addr: w[1],
            len: w[2],
            flags: w[3],
            records: w[4],
            nr_records: w[5],
            nr_done: w[6],
            vma_flags: w[7],
        }
    }
}

/// `struct migentry_pte_state`.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct PteState {
    /// `raw` (0 without `CAP_SYS_ADMIN`).
    pub(crate) raw: u64,
    /// `pfn` (0 without `CAP_SYS_ADMIN`).
    pub(crate) pfn: u64,
    /// `kind`: `MIGENTRY_LEAF_*`.
    pub(crate) kind: u32,
    /// `flags`: `MIGENTRY_PTE_*`.
    pub(crate) flags: u32,
}

/// `struct migentry_record`.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Record {
    /// `addr`.
    pub(crate) addr: u64,
    /// `status`: `MIGENTRY_REC_*`.
    pub(crate) status: u32,
    /// `refused`: `MIGENTRY_NOGRANT_*`.
    pub(crate) refused: u32,
    /// `before`.
    pub(crate) before: PteState,
    /// `entry`.
    pub(crate) entry: PteState,
    /// `after`, by `MIGENTRY_POLICY_*`.
    pub(crate) after: [PteState; NR_POLICIES],
}

impl Record {
    /// Appends the struct's words to `out`.
    pub(crate) fn encode(&self, out: &mut [u64; RECORD_WORDS]) {
        out[0] = self.addr;
        out[1] = pair(self.status, self.refused);
        let states = [&self.before, &self.entry]
            .into_iter()
            .chain(self.after.iter());
        for (i, s) in states.enumerate() {
            out[2 + 3 * i] = s.raw;
            out[3 + 3 * i] = s.pfn;
            out[4 + 3 * i] = pair(s.kind, s.flags);
        }
    }
}

/// The counters of the restore hook at one level, as `struct migentry_stats` (PTEs: `D` = 4
/// divergences, `K` = 3 kernel counters) and `struct migentry_pmd_stats` (PMDs: 3 and 2) lay them
/// out, one word each, in this order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HookStats<const D: usize, const K: usize> {
    /// `flags`: `MIGENTRY_STATS_*`.
    pub(crate) flags: u64,
    /// `restores`, `writable`, `write_protected`, `uffd`.
    pub(crate) restores: [u64; 4],
    /// `refused`.
    pub(crate) refused: [u64; 3],
    /// `divergences`.
    pub(crate) divergences: [u64; D],
    /// `unexpected`, `c_write_uffd`, `left_to_c`.
    pub(crate) other: [u64; 3],
    /// `kernel_called`, `kernel_rejected` and, for PTEs, `kernel_unseen`.
    pub(crate) kernel: [u64; K],
}

/// `struct migentry_stats`.
pub(crate) type Stats = HookStats<4, 3>;
/// `struct migentry_pmd_stats`.
pub(crate) type PmdStats = HookStats<3, 2>;

impl<const D: usize, const K: usize> HookStats<D, K> {
    /// The struct as the caller reads it: `W` words, `size` first.
    pub(crate) fn encode<const W: usize>(&self) -> [u64; W] {
        // `size` and `flags`, then every counter: the word count of the struct, checked against
        // the C layout by the assertions above.
        const { assert!(W == 2 + 4 + 3 + D + 3 + K) };
        let mut w = [0u64; W];
        // CAST: a few words.
        w[0] = W as u64 * 8;
        w[1] = self.flags;
        let fields = self
            .restores
            .iter()
            .chain(self.refused.iter())
            .chain(self.divergences.iter())
            .chain(self.other.iter())
            .chain(self.kernel.iter());
        for (slot, v) in w[2..].iter_mut().zip(fields) {
            *slot = *v;
        }
        w
    }
}
