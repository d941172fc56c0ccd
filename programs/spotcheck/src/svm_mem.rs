//! `mem*` symbols for the upstream-LLVM SBF build only (`sbf-build/`, which
//! sets `--cfg spotcheck_upstream_sbf`). Solana's platform-tools provide them
//! through `solana-compiler-builtins`, which can't be used with LLVM 22 (its
//! i128 helpers need aggregate returns); here they forward to the SVM's
//! syscalls, which are also what platform-tools' versions call.

unsafe extern "C" {
    fn sol_memcpy_(dst: *mut u8, src: *const u8, n: u64);
    fn sol_memmove_(dst: *mut u8, src: *const u8, n: u64);
    fn sol_memset_(dst: *mut u8, value: u8, n: u64);
    fn sol_memcmp_(a: *const u8, b: *const u8, n: u64, result: *mut i32);
}

/// # Safety
/// As C's `memcpy`: `dst` and `src` valid for `n` bytes, not overlapping.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    unsafe { sol_memcpy_(dst, src, n as u64) };
    dst
}

/// # Safety
/// As C's `memmove`: `dst` and `src` valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    unsafe { sol_memmove_(dst, src, n as u64) };
    dst
}

/// # Safety
/// As C's `memset`: `dst` valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut u8, value: i32, n: usize) -> *mut u8 {
    unsafe { sol_memset_(dst, value as u8, n as u64) };
    dst
}

/// # Safety
/// As C's `memcmp`: `a` and `b` valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut result = 0i32;
    unsafe { sol_memcmp_(a, b, n as u64, &mut result) };
    result
}

/// # Safety
/// As C's `bcmp`: `a` and `b` valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    unsafe { memcmp(a, b, n) }
}
