// SPDX-License-Identifier: GPL-2.0

//! The x86-64 PTE bit operations of a restore, computed in Rust so that they inline.
//!
//! C header: [`arch/x86/include/asm/pgtable.h`](srctree/arch/x86/include/asm/pgtable.h)
//!
//! A typed restore used to call one C shim function per step (`pfn_pte()`, `pte_mkold()`...),
//! 4 to 8 out-of-line calls per entry (5.6 on average over the restore-cost benchmark's mix),
//! where 7.3's `remove_migration_pte()` inlines them all; with the calls between the restore's
//! own steps, they made it about 8 times as costly as C (`docs/design.md`, "What a restore costs").
//! These are the same operations on the same values:
//!
//! - the bit positions are the kernel's own, from bindgen (`_PAGE_BIT_*`); the masks that depend
//!   on the configuration (`_PAGE_SOFT_DIRTY`, `_PAGE_UFFD` and their swap-PTE forms) follow the
//!   same options as C, and the layout guard (`layout.rs`) compares each mask with C's at load;
//! - the masks that may only be known at boot (`PTE_PFN_MASK`, which follows `physical_mask`
//!   with `CONFIG_DYNAMIC_PHYSICAL_MASK`; `__supported_pte_mask`; `_PAGE_CHG_MASK`, which
//!   contains the confidential-computing mask) are read from C once, when the module loads
//!   ([`init`]); where the configuration makes `PTE_PFN_MASK` and `_PAGE_CHG_MASK` constants,
//!   as it does for C, they are constants here too, and [`init`] refuses to load if C's differ;
//! - the KUnit suite `migentry_mm_bits` compares every operation with the C helper it replaces
//!   (still in `migentry_shim.c`) over every combination of the bits either reads.
//!
//! What C does and these do not: `pfn_pte()` warns (`WARN_ON_ONCE`) on a protection with D and
//! without RW, and with `CONFIG_DEBUG_VM` on one with bits `__supported_pte_mask` lacks. A
//! restore's protection is a VMA's `vm_page_prot`, which the kernel built already checked; the
//! resulting value is the same either way.

use core::sync::atomic::{
    AtomicU64,
    Ordering, //
};

use kernel::{
    bindings,
    prelude::*, //
};

const fn bit(n: u32) -> u64 {
    1 << n
}

/// `_PAGE_PRESENT`.
pub(in crate::mm) const PRESENT: u64 = bit(bindings::_PAGE_BIT_PRESENT);
/// `_PAGE_RW`.
pub(in crate::mm) const RW: u64 = bit(bindings::_PAGE_BIT_RW);
/// `_PAGE_USER`.
pub(in crate::mm) const USER: u64 = bit(bindings::_PAGE_BIT_USER);
/// `_PAGE_ACCESSED`.
pub(in crate::mm) const ACCESSED: u64 = bit(bindings::_PAGE_BIT_ACCESSED);
/// `_PAGE_DIRTY`.
pub(in crate::mm) const DIRTY: u64 = bit(bindings::_PAGE_BIT_DIRTY);
/// `_PAGE_GLOBAL`.
pub(in crate::mm) const GLOBAL: u64 = bit(bindings::_PAGE_BIT_GLOBAL);
/// `_PAGE_PROTNONE` (the bit of `_PAGE_GLOBAL`, in a PTE without `_PAGE_PRESENT`).
pub(in crate::mm) const PROTNONE: u64 = bit(bindings::_PAGE_BIT_PROTNONE);
/// `_PAGE_SAVED_DIRTY`.
pub(in crate::mm) const SAVED_DIRTY: u64 = bit(bindings::_PAGE_BIT_SAVED_DIRTY);
/// `_PAGE_SOFT_DIRTY`: 0 without `CONFIG_MEM_SOFT_DIRTY`.
pub(in crate::mm) const SOFT_DIRTY: u64 = if cfg!(CONFIG_MEM_SOFT_DIRTY) {
    bit(bindings::_PAGE_BIT_SOFT_DIRTY)
} else {
    0
};
/// `_PAGE_UFFD`: 0 without `CONFIG_HAVE_ARCH_USERFAULTFD_WP`.
pub(in crate::mm) const UFFD: u64 = if cfg!(CONFIG_HAVE_ARCH_USERFAULTFD_WP) {
    bit(bindings::_PAGE_BIT_UFFD)
} else {
    0
};
/// `_PAGE_SWP_SOFT_DIRTY`: `_PAGE_RW` of a swap PTE, 0 without `CONFIG_MEM_SOFT_DIRTY`.
pub(in crate::mm) const SWP_SOFT_DIRTY: u64 = if cfg!(CONFIG_MEM_SOFT_DIRTY) { RW } else { 0 };
/// `_PAGE_SWP_UFFD`: `_PAGE_USER` of a swap PTE, 0 without `CONFIG_HAVE_ARCH_USERFAULTFD_WP`.
pub(in crate::mm) const SWP_UFFD: u64 = if cfg!(CONFIG_HAVE_ARCH_USERFAULTFD_WP) {
    USER
} else {
    0
};
/// `pgprot_val(PAGE_NONE)`: accessed and global, not present.
pub(in crate::mm) const PAGE_NONE: u64 = ACCESSED | GLOBAL;

/// `PTE_PFN_MASK` where it is a constant (without `CONFIG_DYNAMIC_PHYSICAL_MASK`): the page
/// bits below `1 << __PHYSICAL_MASK_SHIFT`.
const CONST_PFN_MASK: Option<u64> = if cfg!(CONFIG_DYNAMIC_PHYSICAL_MASK) {
    None
} else {
    Some(((1 << bindings::__PHYSICAL_MASK_SHIFT) - 1) & !((1 << bindings::PAGE_SHIFT) - 1))
};

/// `_PAGE_CHG_MASK` where it is a constant: with a constant `PTE_PFN_MASK` and without
/// `CONFIG_ARCH_HAS_CC_PLATFORM` (whose `_PAGE_CC` is `cc_mask`).
const CONST_CHG_MASK: Option<u64> = match CONST_PFN_MASK {
    Some(pfn) if !cfg!(CONFIG_ARCH_HAS_CC_PLATFORM) => Some(
        pfn | bit(bindings::_PAGE_BIT_PCD)
            | bit(bindings::_PAGE_BIT_PWT)
            | bit(bindings::_PAGE_BIT_SPECIAL)
            | ACCESSED
            | DIRTY
            | SAVED_DIRTY
            | SOFT_DIRTY
            | UFFD
            | bit(bindings::_PAGE_BIT_PAT),
    ),
    _ => None,
};

/// The masks known only at boot, as C computes them (`migentry_pte_masks()`).
struct BootMasks {
    /// `PTE_PFN_MASK`.
    pfn: AtomicU64,
    /// `__supported_pte_mask`.
    supported: AtomicU64,
    /// `_PAGE_CHG_MASK`.
    chg: AtomicU64,
}

/// 0 until [`init`] runs, in the module's init, before anything restores.
static MASKS: BootMasks = BootMasks {
    pfn: AtomicU64::new(0),
    supported: AtomicU64::new(0),
    chg: AtomicU64::new(0),
};

/// Keeps the boot-time masks C computed (`PTE_PFN_MASK`, `__supported_pte_mask`,
/// `_PAGE_CHG_MASK`); called once by the module's init.
///
/// Returns `EINVAL`, with a log line, if a mask this file takes for a constant is not C's.
pub(in crate::mm) fn init(pfn: u64, supported: u64, chg: u64) -> Result {
    MASKS.pfn.store(pfn, Ordering::Relaxed);
    MASKS.supported.store(supported, Ordering::Relaxed);
    MASKS.chg.store(chg, Ordering::Relaxed);
    for (name, rust, c) in [
        ("PTE_PFN_MASK", CONST_PFN_MASK, pfn),
        ("_PAGE_CHG_MASK", CONST_CHG_MASK, chg),
    ] {
        if let Some(rust) = rust.filter(|r| *r != c) {
            pr_err!(
                "layout guard: {} is {:#x} in C but {:#x} in Rust\n",
                name,
                c,
                rust
            );
            return Err(EINVAL);
        }
    }
    Ok(())
}

/// `PTE_PFN_MASK`.
#[inline]
pub(in crate::mm) fn pfn_mask() -> u64 {
    match CONST_PFN_MASK {
        Some(m) => m,
        None => MASKS.pfn.load(Ordering::Relaxed),
    }
}

/// `__supported_pte_mask`.
#[inline]
pub(in crate::mm) fn supported_mask() -> u64 {
    MASKS.supported.load(Ordering::Relaxed)
}

/// `_PAGE_CHG_MASK`.
#[inline]
fn chg_mask() -> u64 {
    match CONST_CHG_MASK {
        Some(m) => m,
        None => MASKS.chg.load(Ordering::Relaxed),
    }
}

/// `__pte_needs_invert()`: a non-zero value without `_PAGE_PRESENT` keeps its PFN inverted
/// (L1TF).
#[inline]
fn needs_invert(v: u64) -> bool {
    v != 0 && v & PRESENT == 0
}

/// `mksaveddirty_shift()`: on a value without `_PAGE_RW`, D moves to SavedDirty.
#[inline]
fn mksaveddirty_shift(v: u64) -> u64 {
    let cond = (!v >> bindings::_PAGE_BIT_RW) & 1;
    let v = v | (((v >> bindings::_PAGE_BIT_DIRTY) & cond) << bindings::_PAGE_BIT_SAVED_DIRTY);
    v & !(cond << bindings::_PAGE_BIT_DIRTY)
}

/// `clear_saveddirty_shift()`: on a value with `_PAGE_RW`, SavedDirty moves to D.
#[inline]
fn clear_saveddirty_shift(v: u64) -> u64 {
    let cond = (v >> bindings::_PAGE_BIT_RW) & 1;
    let v = v | (((v >> bindings::_PAGE_BIT_SAVED_DIRTY) & cond) << bindings::_PAGE_BIT_DIRTY);
    v & !(cond << bindings::_PAGE_BIT_SAVED_DIRTY)
}

/// `check_pgprot()` without its warning: a present protection keeps only supported bits.
#[inline]
fn check_pgprot(prot: u64) -> u64 {
    if prot & PRESENT != 0 {
        prot & supported_mask()
    } else {
        prot
    }
}

/// `pfn_pte()`.
#[inline]
pub(in crate::mm) fn pfn_pte(pfn: u64, prot: u64) -> u64 {
    let mut phys = pfn << bindings::PAGE_SHIFT;
    if needs_invert(prot) {
        phys = !phys;
    }
    (phys & pfn_mask()) | check_pgprot(prot)
}

/// `pte_mkold()`.
#[inline]
pub(in crate::mm) fn pte_mkold(pte: u64) -> u64 {
    pte & !ACCESSED
}

/// `pte_mkdirty()`: D and soft-dirty, D as SavedDirty without `_PAGE_RW`.
#[inline]
pub(in crate::mm) fn pte_mkdirty(pte: u64) -> u64 {
    mksaveddirty_shift(pte | DIRTY | SOFT_DIRTY)
}

/// `pte_mksoft_dirty()`.
#[inline]
pub(in crate::mm) fn pte_mksoft_dirty(pte: u64) -> u64 {
    pte | SOFT_DIRTY
}

/// `pte_clear_soft_dirty()`.
#[inline]
pub(in crate::mm) fn pte_clear_soft_dirty(pte: u64) -> u64 {
    pte & !SOFT_DIRTY
}

/// `pte_soft_dirty()` of a present PTE: its soft-dirty bit (never set without
/// `CONFIG_MEM_SOFT_DIRTY`).
#[inline]
pub(in crate::mm) fn pte_soft_dirty(pte: u64) -> bool {
    pte & SOFT_DIRTY != 0
}

/// `pte_wrprotect()`: `_PAGE_RW` cleared, D moved to SavedDirty.
#[inline]
pub(in crate::mm) fn pte_wrprotect(pte: u64) -> u64 {
    mksaveddirty_shift(pte & !RW)
}

/// `pte_mkuffd()`: the uffd bit, write-protected.
#[inline]
pub(in crate::mm) fn pte_mkuffd(pte: u64) -> u64 {
    pte_wrprotect(pte | UFFD)
}

/// `pte_clear_uffd()`.
#[inline]
pub(in crate::mm) fn pte_clear_uffd(pte: u64) -> u64 {
    pte & !UFFD
}

/// `pte_mkwrite_novma()`.
#[inline]
pub(in crate::mm) fn pte_mkwrite_novma(pte: u64) -> u64 {
    pte | RW
}

/// `pte_mkwrite_shstk()`: a shadow-stack PTE, D without `_PAGE_RW`.
#[inline]
pub(in crate::mm) fn pte_mkwrite_shstk(pte: u64) -> u64 {
    (pte & !RW) | DIRTY
}

/// `pte_clear_saveddirty()`.
#[inline]
pub(in crate::mm) fn pte_clear_saveddirty(pte: u64) -> u64 {
    clear_saveddirty_shift(pte)
}

/// `pte_modify(pte, PAGE_NONE)`: the bits of `_PAGE_CHG_MASK` kept, `PAGE_NONE`'s added, the
/// PFN inverted when the PTE stops being present (L1TF), SavedDirty set or cleared by the old
/// `_PAGE_RW`.
#[inline]
pub(in crate::mm) fn pte_mkprotnone(old: u64) -> u64 {
    let chg = chg_mask();
    let mut val = (old & chg) | (check_pgprot(PAGE_NONE) & !chg);
    if needs_invert(old) != needs_invert(val) {
        let mask = pfn_mask();
        val = (val & !mask) | (!val & mask);
    }
    if old & RW != 0 {
        mksaveddirty_shift(val)
    } else {
        clear_saveddirty_shift(val)
    }
}

/// `pte_swp_mksoft_dirty()` (`set`) or `pte_swp_clear_soft_dirty()`.
#[inline]
pub(in crate::mm) fn swp_soft_dirty(pte: u64, set: bool) -> u64 {
    if set {
        pte | SWP_SOFT_DIRTY
    } else {
        pte & !SWP_SOFT_DIRTY
    }
}

/// `pte_swp_mkuffd()` (`set`) or `pte_swp_clear_uffd()`.
#[inline]
pub(in crate::mm) fn swp_uffd(pte: u64, set: bool) -> u64 {
    if set {
        pte | SWP_UFFD
    } else {
        pte & !SWP_UFFD
    }
}

#[cfg(CONFIG_KUNIT)]
#[kunit_tests(migentry_mm_bits)]
mod tests {
    use kernel::{
        bindings,
        prelude::*, //
    };

    use super::super as ffi;

    /// Every bit a PTE operation of a restore reads or writes, and its neighbours.
    const BITS: [u32; 16] = [
        bindings::_PAGE_BIT_PRESENT,
        bindings::_PAGE_BIT_RW,
        bindings::_PAGE_BIT_USER,
        bindings::_PAGE_BIT_PWT,
        bindings::_PAGE_BIT_PCD,
        bindings::_PAGE_BIT_ACCESSED,
        bindings::_PAGE_BIT_DIRTY,
        bindings::_PAGE_BIT_PAT,
        bindings::_PAGE_BIT_GLOBAL,
        bindings::_PAGE_BIT_SOFTW1,
        bindings::_PAGE_BIT_SOFTW2,
        bindings::_PAGE_BIT_SOFTW3,
        bindings::_PAGE_BIT_SOFTW4,
        bindings::_PAGE_BIT_SOFTW5,
        bindings::_PAGE_BIT_PKEY_BIT0,
        bindings::_PAGE_BIT_NX,
    ];

    /// The value with the bits of `BITS` that `combo` selects.
    fn flags(combo: u32) -> u64 {
        BITS.iter()
            .enumerate()
            .filter(|(i, _)| combo & (1 << i) != 0)
            .fold(0, |v, (_, b)| v | (1u64 << b))
    }

    /// A PTE operation: its name, the Rust one and the C one.
    type Op = (&'static str, fn(u64) -> u64, fn(u64) -> u64);

    /// Counts and reports the values on which a Rust operation differs from C's.
    struct Tally {
        checked: u64,
        bad: u64,
    }

    impl Tally {
        fn check(&mut self, op: &str, val: u64, rust: u64, c: u64) {
            self.checked += 1;
            if rust != c {
                if self.bad < 8 {
                    pr_err!(
                        "x86 bits: {} of {:#x}: Rust {:#x}, C {:#x}\n",
                        op,
                        val,
                        rust,
                        c
                    );
                }
                self.bad += 1;
            }
        }
    }

    /// Every unary operation on every combination of `BITS`, over a zero, an ordinary and an
    /// all-ones PFN field (so that the L1TF inversion of `pte_modify()` goes both ways).
    #[test]
    fn pte_ops_are_cs() {
        let mut t = Tally { checked: 0, bad: 0 };
        let ops: [Op; 12] = [
            ("pte_mkold", ffi::pte_mkold, ffi::c_pte_mkold),
            ("pte_mkdirty", ffi::pte_mkdirty, ffi::c_pte_mkdirty),
            (
                "pte_mksoft_dirty",
                ffi::pte_mksoft_dirty,
                ffi::c_pte_mksoft_dirty,
            ),
            (
                "pte_clear_soft_dirty",
                ffi::pte_clear_soft_dirty,
                ffi::c_pte_clear_soft_dirty,
            ),
            ("pte_wrprotect", ffi::pte_wrprotect, ffi::c_pte_wrprotect),
            ("pte_mkuffd", ffi::pte_mkuffd, ffi::c_pte_mkuffd),
            ("pte_clear_uffd", ffi::pte_clear_uffd, ffi::c_pte_clear_uffd),
            (
                "pte_mkwrite_novma",
                ffi::pte_mkwrite_novma,
                ffi::c_pte_mkwrite_novma,
            ),
            (
                "pte_mkwrite_shstk",
                ffi::pte_mkwrite_shstk,
                ffi::c_pte_mkwrite_shstk,
            ),
            (
                "pte_clear_saveddirty",
                ffi::pte_clear_saveddirty,
                ffi::c_pte_clear_saveddirty,
            ),
            ("pte_mkprotnone", ffi::pte_mkprotnone, ffi::c_pte_mkprotnone),
            (
                "swp",
                |v| ffi::swp_uffd(ffi::swp_soft_dirty(v, true), false),
                |v| ffi::c_swp_uffd(ffi::c_swp_soft_dirty(v, true), false),
            ),
        ];
        for pfn in [0, 0x1_2345u64 << bindings::PAGE_SHIFT, super::pfn_mask()] {
            for combo in 0..1u32 << BITS.len() {
                let v = pfn | flags(combo);
                for (name, rust, c) in &ops {
                    t.check(name, v, rust(v), c(v));
                }
                t.check(
                    "swp_soft_dirty",
                    v,
                    ffi::swp_soft_dirty(v, false),
                    ffi::c_swp_soft_dirty(v, false),
                );
                t.check(
                    "swp_uffd",
                    v,
                    ffi::swp_uffd(v, true),
                    ffi::c_swp_uffd(v, true),
                );
            }
        }
        pr_info!(
            "# migentry x86 bits: {} values compared, {} differ\n",
            t.checked,
            t.bad
        );
        assert_eq!(t.checked, 3 * (1 << BITS.len()) * 14);
        assert_eq!(t.bad, 0);
    }

    /// `pte_soft_dirty()` on every present value (`_PAGE_PRESENT` or `_PAGE_PROTNONE`) of the
    /// combinations of `BITS` and PFN fields `pte_ops_are_cs` uses, against C's (the shim's
    /// `pte_attrs()`).
    #[test]
    fn pte_soft_dirty_is_cs() {
        let mut t = Tally { checked: 0, bad: 0 };
        for pfn in [0, 0x1_2345u64 << bindings::PAGE_SHIFT, super::pfn_mask()] {
            for combo in 0..1u32 << BITS.len() {
                let v = pfn | flags(combo);
                let a = ffi::pte_attrs(v);
                if a.attrs & ffi::MIGENTRY_ATTR_PRESENT == 0 {
                    continue;
                }
                let c = a.attrs & ffi::MIGENTRY_ATTR_SOFT_DIRTY != 0;
                t.check(
                    "pte_soft_dirty",
                    v,
                    u64::from(ffi::pte_soft_dirty(v)),
                    u64::from(c),
                );
            }
        }
        pr_info!(
            "# migentry x86 bits: pte_soft_dirty: {} present values compared, {} differ\n",
            t.checked,
            t.bad
        );
        // Present or PROT_NONE: three of the four combinations of those two bits.
        assert_eq!(t.checked, 3 * 3 * (1 << (BITS.len() - 2)));
        assert_eq!(t.bad, 0);
    }

    /// `pfn_pte()` for every protection C accepts without a warning (no D without RW; present
    /// only with supported bits), over PFNs from 0 to beyond the PFN mask.
    #[test]
    fn pfn_pte_is_cs() {
        let mut t = Tally { checked: 0, bad: 0 };
        let supported = super::supported_mask();
        let pfns = [
            0,
            1,
            0x1_2345,
            0xf_ffff_ffff,
            u64::MAX >> bindings::PAGE_SHIFT,
            u64::MAX,
        ];
        let mut skipped = 0u64;
        for combo in 0..1u32 << BITS.len() {
            let prot = flags(combo);
            let shadow_stack = prot & (super::DIRTY | super::RW) == super::DIRTY;
            if shadow_stack || (prot & super::PRESENT != 0 && prot & !supported != 0) {
                skipped += 1;
                continue;
            }
            for pfn in pfns {
                t.check(
                    "pfn_pte",
                    pfn,
                    ffi::pfn_pte(pfn, prot),
                    ffi::c_pfn_pte(pfn, prot),
                );
            }
        }
        pr_info!(
            "# migentry x86 bits: pfn_pte: {} values compared, {} differ ({} protections C warns on left out)\n",
            t.checked,
            t.bad,
            skipped
        );
        // At least every protection without D and without a bit the CPU lacks.
        assert!(t.checked >= 6 * (1 << (BITS.len() - 2)));
        assert_eq!(t.bad, 0);
    }
}
