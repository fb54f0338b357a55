use crate::{
    pte::{
        Pte,
        Writable,
        WriteProtected, //
    },
    restore::WriteGrant,
};

fn case(p: Pte<WriteProtected>, g: WriteGrant) -> Pte<Writable> {
    p.mkwrite(g)
}
