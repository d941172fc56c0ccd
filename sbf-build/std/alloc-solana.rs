// Spotcheck SBF build: std's `System` allocator for os = "solana".
// Copied into library/std/src/sys/alloc/solana.rs by sbf-build/setup.sh.
//
// On-chain programs never use `System`: the program entrypoint installs the
// SVM heap (a bump allocator over the 32 KiB heap region) as the
// `#[global_allocator]`. std still needs a `System` to compile, so this one
// refuses every allocation; reaching it would be a bug, and a null return
// turns into an allocation-failure abort rather than memory corruption.
use crate::alloc::{GlobalAlloc, Layout, System};

#[stable(feature = "alloc_system_type", since = "1.28.0")]
unsafe impl GlobalAlloc for System {
    #[inline]
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        crate::ptr::null_mut()
    }

    #[inline]
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}
