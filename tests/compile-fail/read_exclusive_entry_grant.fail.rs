// expect-error: E0308
// twin: read_entry_grant.pass.rs
// Nor can a ReadExclusive entry.
use crate::{
    restore::WriteGrant,
    softleaf::{
        MigrationEntry,
        ReadExclusive, //
    },
    vma::VmaFacts,
};

fn case(e: &MigrationEntry<ReadExclusive>, vma: &VmaFacts) -> Option<WriteGrant> {
    WriteGrant::mint(e, vma).ok()
}
