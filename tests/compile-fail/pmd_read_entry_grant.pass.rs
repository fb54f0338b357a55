use crate::mm::{
    PmdLevel,
    PmdWriteGrant,
    Restoring,
    VmaFacts,
    Write, //
};

fn case(r: Restoring<Write, PmdLevel>, vma: &VmaFacts) -> Option<PmdWriteGrant> {
    r.mint(vma).ok()
}
