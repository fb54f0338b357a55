// expect-error: E0599
// Only the PMD rebuilt from a Write PMD migration entry can ask for a grant: a
// `Restoring<Read, PmdLevel>` has no `mint`.
use crate::mm::{
    PmdLevel,
    PmdWriteGrant,
    Read,
    Restoring,
    VmaFacts, //
};

fn case(r: Restoring<Read, PmdLevel>, vma: &VmaFacts) -> Option<PmdWriteGrant> {
    r.mint(vma).ok()
}
