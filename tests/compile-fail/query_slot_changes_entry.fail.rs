// expect-error: E0599
// A walk under the mmap read lock (READ_PTE, EVALUATE) hands out read-only slots: `take` and
// `install` exist only on the slots of a walk under the write lock.
use kernel::prelude::*;

use crate::mm::{
    ReadLocked,
    VmaView, //
};

fn case(vma: &VmaView<'_, ReadLocked>, addr: usize) -> Result<u64> {
    let mut val = 0;
    vma.walk_ptes(addr, 4096, |slot| {
        let seen = slot.get();
        let old = slot.take(&seen);
        val = old.val();
        slot.install(&old)
    })?;
    Ok(val)
}
