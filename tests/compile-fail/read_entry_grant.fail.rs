// expect-error: E0599
// Only the PTE rebuilt from a Write entry can ask for a WriteGrant: `Restoring<Read>` has no `mint`.
use crate::mm::{
    Read,
    Restoring,
    VmaFacts,
    WriteGrant, //
};

fn case(r: Restoring<Read>, vma: &VmaFacts) -> Option<WriteGrant> {
    r.mint(vma).ok()
}
