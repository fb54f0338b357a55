use crate::mm::{
    Pmd,
    UffdProtected,
    WriteProtected, //
};

fn case(p: Pmd<WriteProtected>) -> Pmd<UffdProtected> {
    p.mkuffd()
}
