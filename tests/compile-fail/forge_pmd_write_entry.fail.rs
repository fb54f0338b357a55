// expect-error: E0624
// twin: pte_entry_as_pmd.pass.rs
// A PMD migration entry of kind Write cannot be made from a PFN and bits either.
use crate::mm::{
    EntryBits,
    PmdMigrationEntry,
    Write, //
};

fn case(pfn: u64) -> PmdMigrationEntry<Write> {
    PmdMigrationEntry::<Write>::make(pfn, EntryBits::default())
}
