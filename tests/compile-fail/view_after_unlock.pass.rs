use kernel::mm::MmWithUser;

use crate::mm::MmapWriteGuard;

fn case(mm: &MmWithUser, addr: usize) -> bool {
    let guard = MmapWriteGuard::lock(mm);
    let view = guard.vma(addr);
    let write = view.is_some_and(|v| v.facts().flags().write);
    drop(guard);
    write
}
