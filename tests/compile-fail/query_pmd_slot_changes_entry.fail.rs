// expect-error: E0599
// EVALUATE's walk, under the mmap read lock, hands out read-only PMD slots too: `take` and
// `install` exist only on the PMD slots of a walk under the write lock.
use kernel::prelude::*;

use crate::mm::{
    ReadLocked,
    Visit,
    VmaView, //
};

fn case(vma: &VmaView<'_, ReadLocked>, addr: usize) -> Result<u64> {
    let mut val = 0;
    vma.walk_entries(addr, 1 << 21, |visit| {
        let Visit::Leaf(slot, _, _) = visit else {
            return Ok(());
        };
        let seen = slot.get();
        let old = slot.take(&seen);
        val = old.val();
        slot.install(&old)
    })?;
    Ok(val)
}
