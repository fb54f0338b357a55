use kernel::prelude::*;

use crate::vma::VmaView;

fn case(vma: &VmaView<'_>, addr: usize) -> Result<bool> {
    let mut dirty = false;
    vma.walk_ptes(addr, 4096, |slot| {
        dirty = slot.folio().is_some_and(|f| f.reread().dirty != 0);
        Ok(())
    })?;
    Ok(dirty)
}
