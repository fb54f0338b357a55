use kernel::prelude::*;

use crate::mm::VmaView;

fn case(vma: &VmaView<'_>, addr: usize) -> Result<bool> {
    let mut dirty = false;
    vma.walk_ptes(addr, 4096, |slot| {
        dirty = slot.folio(&slot.get()).is_some_and(|f| f.facts().dirty);
        Ok(())
    })?;
    Ok(dirty)
}
