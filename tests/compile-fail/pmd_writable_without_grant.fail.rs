// expect-error: E0624
// A PMD is made writable only by spending a grant: `mkwrite` of a write-protected PMD is private
// to the mm layer, as a PTE's is.
use crate::mm::{
    Pmd,
    Writable,
    WriteProtected, //
};

fn case(p: Pmd<WriteProtected>) -> Pmd<Writable> {
    p.mkwrite(false)
}
