// expect-error: E0521
// The folio seen through a slot lives only as long as the page-table lock.
use kernel::prelude::*;

use crate::mm::VmaView;

fn case(vma: &VmaView<'_>, addr: usize) -> Result<bool> {
    let mut kept = None;
    vma.walk_ptes(addr, 4096, |slot| {
        kept = slot.folio(&slot.get());
        Ok(())
    })?;
    Ok(kept.is_some_and(|f| f.facts().dirty))
}
