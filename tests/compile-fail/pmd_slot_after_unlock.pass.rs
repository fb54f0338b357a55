use kernel::prelude::*;

use crate::mm::{
    Visit,
    VmaView, //
};

fn case(vma: &VmaView<'_>, addr: usize) -> Result<u64> {
    let mut val = 0;
    vma.walk_entries(addr, 1 << 21, |visit| {
        if let Visit::Leaf(slot, _, _) = visit {
            val = slot.get().val();
        }
        Ok(())
    })?;
    Ok(val)
}
