// expect-error: E0451
// The restore maps the destination page it is given, which only a mapped folio (or the
// migration being completed) provides: it cannot be made up from the entry's own PFN.
use core::marker::PhantomData;

use crate::{
    mm::{
        AnyMigrationEntry,
        DestPage,
        VmaFacts, //
    },
    restore::{
        FolioState,
        Restore,
        Restored, //
    },
};

fn case(e: AnyMigrationEntry, vma: &VmaFacts) -> Restored {
    let dest = DestPage {
        pfn: e.pfn(),
        _page: PhantomData,
    };
    e.restore(&dest, vma, FolioState::default())
}
