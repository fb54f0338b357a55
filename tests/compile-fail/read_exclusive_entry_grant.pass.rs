use crate::{
    restore::WriteGrant,
    softleaf::{
        MigrationEntry,
        Write, //
    },
    vma::VmaFacts,
};

fn case(e: &MigrationEntry<Write>, vma: &VmaFacts) -> Option<WriteGrant> {
    WriteGrant::mint(e, vma).ok()
}
