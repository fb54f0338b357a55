// expect-error: E0308
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
