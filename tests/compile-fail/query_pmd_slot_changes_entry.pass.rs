use kernel::prelude::*;

use crate::mm::{
    Visit,
    VmaView,
    WriteLocked, //
};

fn case(vma: &VmaView<'_, WriteLocked>, addr: usize) -> Result<u64> {
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
