use crate::{
    mm::{
        AnyPmdMigrationEntry,
        DestPage,
        PmdLevel,
        VmaFacts, //
    },
    restore::{
        FolioState,
        Restore,
        Restored, //
    },
};

fn case(e: AnyPmdMigrationEntry, dest: &DestPage<'_>, vma: &VmaFacts) -> Restored<PmdLevel> {
    Restore::<PmdLevel>::restore(e, dest, vma, FolioState::default())
}
