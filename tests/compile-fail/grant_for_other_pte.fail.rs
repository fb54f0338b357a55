// expect-error: E0061
// A grant holds the PTE it was minted for: it cannot be spent on the PTE restored from another
// entry.
use crate::mm::{
    Pte,
    Restoring,
    VmaFacts,
    Writable,
    Write,
    WriteGrant, //
};

fn case(a: Restoring<Write>, b: Restoring<Write>, vma: &VmaFacts) -> Option<Pte<Writable>> {
    let grant = a.mint(vma).ok()?;
    Some(WriteGrant::mkwrite(grant, b.into_write_protected()))
}
