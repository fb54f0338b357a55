// expect-error: E0451
// twin: read_entry_grant.pass.rs
// A WriteGrant has one constructor, `Restoring::<Write>::mint`; its fields are private.
use crate::mm::{
    Pte,
    WriteGrant,
    WriteProtected, //
};

fn case(pte: Pte<WriteProtected>) -> WriteGrant {
    WriteGrant {
        pte,
        shadow_stack: false,
    }
}
