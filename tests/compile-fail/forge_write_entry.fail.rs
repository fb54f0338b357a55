// expect-error: E0624
// A MigrationEntry<Write> cannot be made from a PFN and bits: its constructor is private to the
// mm layer, and entries come only from decoding what a page table holds.
use crate::mm::{
    EntryBits,
    MigrationEntry,
    Write, //
};

fn case(pfn: u64) -> MigrationEntry<Write> {
    MigrationEntry::<Write>::make(pfn, EntryBits::default())
}
