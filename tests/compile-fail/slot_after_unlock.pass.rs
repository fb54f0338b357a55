use kernel::prelude::*;

use crate::mm::VmaView;

fn case(vma: &VmaView<'_>, addr: usize) -> Result<u64> {
    let mut val = 0;
    vma.walk_ptes(addr, 4096, |slot| {
        val = slot.get().val();
        Ok(())
    })?;
    Ok(val)
}
