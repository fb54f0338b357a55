// expect-error: E0521
// A PTE slot exists only inside the walk's closure, while its page-table lock is held.
use kernel::prelude::*;

use crate::mm::{
    PteSlot,
    VmaView, //
};

fn case(vma: &VmaView<'_>, addr: usize) -> Result<u64> {
    let mut kept: Option<&mut PteSlot<'_>> = None;
    vma.walk_ptes(addr, 4096, |slot| {
        kept = Some(slot);
        Ok(())
    })?;
    Ok(kept.map(|s| s.get().val()).unwrap_or(0))
}
