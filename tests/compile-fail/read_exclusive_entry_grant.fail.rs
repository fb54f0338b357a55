// expect-error: E0599
// twin: read_entry_grant.pass.rs
// Nor can the PTE rebuilt from a ReadExclusive entry.
use crate::mm::{
    ReadExclusive,
    Restoring,
    VmaFacts,
    WriteGrant, //
};

fn case(r: Restoring<ReadExclusive>, vma: &VmaFacts) -> Option<WriteGrant> {
    r.mint(vma).ok()
}
