// expect-error: E0277
// A PMD slot installs PMD-level entries only: a PTE read from a page table cannot go there.
use kernel::prelude::*;

use crate::mm::{
    RawPte,
    Visit,
    VmaView, //
};

fn case(vma: &VmaView<'_>, addr: usize, pte: RawPte) -> Result {
    vma.walk_entries(addr, 1 << 21, |visit| {
        let Visit::Leaf(slot, _, _) = visit else {
            return Ok(());
        };
        let seen = slot.get();
        let _old = slot.take(&seen);
        slot.install(&pte)
    })
}
