// expect-error: E0505
// A VMA view borrows the mmap-lock guard: the guard cannot be dropped while the view is used.
use kernel::mm::MmWithUser;

use crate::mm::MmapWriteGuard;

fn case(mm: &MmWithUser, addr: usize) -> bool {
    let guard = MmapWriteGuard::lock(mm);
    let view = guard.vma(addr);
    drop(guard);
    view.is_some_and(|v| v.facts().flags().write)
}
