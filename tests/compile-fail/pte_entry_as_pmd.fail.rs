// expect-error: E0277
// A PTE migration entry restores to a PTE, never to a PMD that would map 512 pages.
use crate::{
    mm::{
        AnyMigrationEntry,
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

fn case(e: AnyMigrationEntry, dest: &DestPage<'_>, vma: &VmaFacts) -> Restored<PmdLevel> {
    Restore::<PmdLevel>::restore(e, dest, vma, FolioState::default())
}
