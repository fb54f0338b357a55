// expect-error: E0451
// A WriteGrant has one constructor, `WriteGrant::mint`; its fields are private.
use crate::restore::WriteGrant;

fn case() -> WriteGrant {
    WriteGrant {
        shadow_stack: false,
    }
}
