// expect-error: E0308
// twin: pmd_writable_without_grant.pass.rs
// A grant minted for a PTE makes that PTE writable, never a PMD: the level is part of its type.
use crate::mm::{
    Pmd,
    Writable,
    WriteGrant, //
};

fn case(g: WriteGrant) -> Pmd<Writable> {
    g.mkwrite()
}
