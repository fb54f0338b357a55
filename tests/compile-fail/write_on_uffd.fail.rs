// expect-error: E0599
// A uffd-protected PTE cannot be made writable, even with a grant in hand.
use crate::mm::{
    Pte,
    UffdProtected,
    Writable,
    WriteGrant, //
};

fn case(p: Pte<UffdProtected>, g: WriteGrant) -> Pte<Writable> {
    p.mkwrite(g)
}
