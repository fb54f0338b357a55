use kernel::prelude::*;

use crate::mm::{
    AnyMigrationEntry,
    VmaView, //
};

fn case(vma: &VmaView<'_>, addr: usize) -> Result<bool> {
    let mut write = false;
    vma.walk_ptes(addr, 4096, |slot| {
        write = matches!(
            AnyMigrationEntry::from_raw(&slot.get()),
            Some(AnyMigrationEntry::Write(_))
        );
        Ok(())
    })?;
    Ok(write)
}
