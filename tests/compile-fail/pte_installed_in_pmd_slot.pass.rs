use kernel::prelude::*;

use crate::mm::{
    RawPte,
    Visit,
    VmaView, //
};

fn case(vma: &VmaView<'_>, addr: usize, _pte: RawPte) -> Result {
    vma.walk_entries(addr, 1 << 21, |visit| {
        let Visit::Leaf(slot, _, _) = visit else {
            return Ok(());
        };
        let seen = slot.get();
        let old = slot.take(&seen);
        slot.install(&old)
    })
}
