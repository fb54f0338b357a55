use kernel::prelude::*;

use crate::mm::{
    VmaView,
    WriteLocked, //
};

fn case(vma: &VmaView<'_, WriteLocked>, addr: usize) -> Result<u64> {
    let mut val = 0;
    vma.walk_ptes(addr, 4096, |slot| {
        let seen = slot.get();
        let old = slot.take(&seen);
        val = old.val();
        slot.install(&old)
    })?;
    Ok(val)
}
