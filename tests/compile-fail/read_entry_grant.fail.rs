// expect-error: E0308
// A Read entry cannot be asked for a WriteGrant: `mint` takes only `MigrationEntry<Write>`.
use crate::{
    restore::WriteGrant,
    softleaf::{
        MigrationEntry,
        Read, //
    },
    vma::VmaFacts,
};

fn case(e: &MigrationEntry<Read>, vma: &VmaFacts) -> Option<WriteGrant> {
    WriteGrant::mint(e, vma).ok()
}
