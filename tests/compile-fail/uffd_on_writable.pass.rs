use crate::mm::{
    Pte,
    UffdProtected,
    WriteProtected, //
};

fn case(p: Pte<WriteProtected>) -> Pte<UffdProtected> {
    p.mkuffd()
}
