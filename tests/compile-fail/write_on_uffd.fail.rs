// expect-error: E0599
// A uffd-protected PTE cannot be made writable, even with a grant.
use crate::{
    pte::{
        Pte,
        UffdProtected,
        Writable, //
    },
    restore::WriteGrant,
};

fn case(p: Pte<UffdProtected>, g: WriteGrant) -> Pte<Writable> {
    p.mkwrite(g)
}
