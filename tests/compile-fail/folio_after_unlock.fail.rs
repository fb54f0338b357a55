// expect-error: E0521
// The folio seen through a slot lives only as long as the page-table lock.
use kernel::prelude::*;

use crate::{
    pte_slot::MappedFolio,
    vma::VmaView, //
};

fn case(vma: &VmaView<'_>, addr: usize) -> Result<bool> {
    let mut kept: Option<MappedFolio<'_>> = None;
    vma.walk_ptes(addr, 4096, |slot| {
        kept = slot.folio();
        Ok(())
    })?;
    Ok(kept.is_some_and(|f| f.reread().dirty != 0))
}
