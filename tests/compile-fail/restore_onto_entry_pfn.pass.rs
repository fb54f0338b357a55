use kernel::prelude::*;

use crate::{
    mm::{
        AnyMigrationEntry,
        VmaView, //
    },
    restore::{
        FolioState,
        Restore, //
    },
};

fn case(vma: &VmaView<'_>, addr: usize) -> Result<bool> {
    let facts = *vma.facts();
    let mut writable = false;
    vma.walk_ptes(addr, 4096, |slot| {
        let pte = slot.get();
        if let Some(folio) = slot.folio(&pte) {
            let exclusive = folio.facts().anon_exclusive;
            if let Some(e) = AnyMigrationEntry::from_present(&pte, exclusive) {
                let r = e.restore(&folio.page(), &facts, FolioState::default());
                writable = r.pte.decode().flags.has(crate::mm::PteFlags::WRITE);
            }
        }
        Ok(())
    })?;
    Ok(writable)
}
