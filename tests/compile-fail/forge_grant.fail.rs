// expect-error: E0451
// twin: read_entry_grant.pass.rs
// A WriteGrant has one constructor, `WriteGrant::mint`; its fields are private.
use crate::restore::WriteGrant;

fn case() -> WriteGrant {
    WriteGrant {
        shadow_stack: false,
    }
}
