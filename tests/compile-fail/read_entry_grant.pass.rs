use crate::mm::{
    Restoring,
    VmaFacts,
    Write,
    WriteGrant, //
};

fn case(r: Restoring<Write>, vma: &VmaFacts) -> Option<WriteGrant> {
    r.mint(vma).ok()
}
