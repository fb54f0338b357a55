// expect-error: E0624
// twin: forge_write_entry.pass.rs
// Nor can an entry value that was never in a page table be dressed up as one to decode.
use crate::mm::{
    AnyMigrationEntry,
    RawPte, //
};

fn case(val: u64) -> Option<AnyMigrationEntry> {
    AnyMigrationEntry::from_raw(&RawPte::read(val))
}
