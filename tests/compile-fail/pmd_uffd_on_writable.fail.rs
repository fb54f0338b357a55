// expect-error: E0599
// The uffd bit can only go on a write-protected PMD: `Pmd<Writable>` has no `mkuffd`.
use crate::mm::{
    Pmd,
    UffdProtected,
    Writable, //
};

fn case(p: Pmd<Writable>) -> Pmd<UffdProtected> {
    p.mkuffd()
}
