// expect-error: E0521
// A PMD slot exists only inside the walk's closure, while its PMD lock is held.
use kernel::prelude::*;

use crate::mm::{
    PmdSlot,
    Visit,
    VmaView, //
};

fn case(vma: &VmaView<'_>, addr: usize) -> Result<u64> {
    let mut kept: Option<&mut PmdSlot<'_>> = None;
    vma.walk_entries(addr, 1 << 21, |visit| {
        if let Visit::Leaf(slot, _, _) = visit {
            kept = Some(slot);
        }
        Ok(())
    })?;
    Ok(kept.map(|s| s.get().val()).unwrap_or(0))
}
