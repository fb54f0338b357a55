use crate::mm::{
    Pte,
    Writable,
    WriteGrant, //
};

fn case(g: WriteGrant) -> Pte<Writable> {
    g.mkwrite()
}
