use crate::mm::{
    Pmd,
    PmdWriteGrant,
    Writable, //
};

fn case(g: PmdWriteGrant) -> Pmd<Writable> {
    g.mkwrite()
}
