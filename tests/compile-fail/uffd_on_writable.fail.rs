// expect-error: E0599
// The uffd bit can only go on a write-protected PTE: `Pte<Writable>` has no `mkuffd`.
use crate::mm::{
    Pte,
    UffdProtected,
    Writable, //
};

fn case(p: Pte<Writable>) -> Pte<UffdProtected> {
    p.mkuffd()
}
