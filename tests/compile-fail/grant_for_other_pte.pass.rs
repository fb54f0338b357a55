use crate::mm::{
    Pte,
    Restoring,
    VmaFacts,
    Writable,
    Write,
    WriteGrant, //
};

fn case(a: Restoring<Write>, vma: &VmaFacts) -> Option<Pte<Writable>> {
    let grant = a.mint(vma).ok()?;
    Some(WriteGrant::mkwrite(grant))
}
