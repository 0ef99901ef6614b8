//! The heap allocator entry of generated code, and the vector and string helpers built on it.
//!
//! Every heap allocation a Blood program makes (`Vec` buffers, `String` bytes, `Box` contents)
//! goes through [`blood_alloc`], [`blood_realloc`] and [`blood_free`]: one place where limits
//! and metrics can hook in later (DESIGN.md "Memory"). They forward to the process's global
//! allocator (the system `malloc`) with the size and alignment the compiler computed.
//!
//! Contract (restated in `blood-abi`):
//! * a size of 0 allocates nothing: `blood_alloc` returns the alignment itself (a dangling,
//!   aligned, never-dereferenced pointer) and `blood_free` of a size 0 does nothing;
//! * `blood_free` gets the size and alignment the block was allocated with;
//! * failure is not reported to the caller: the process prints `fatal: out of memory …` and
//!   exits with [`blood_abi::EXIT_OUT_OF_MEMORY`] (no Rust panic crosses the C ABI).
//!
//! A vector is three words `{ ptr, len, cap }` ([`RawVec`]), lengths in elements. Growth
//! happens here (`blood_vec_reserve`): the capacity at least doubles, with a minimum of 4
//! elements, so `n` pushes cost O(n) copying in total; generated code only compares the length
//! with the capacity before a push. A `String` is a vector of bytes.

use alloc_crate::vec::Vec;
use core::alloc::Layout;

use crate::panic::{die, ffi_guard};

/// The memory layout of a Blood `Vec<T>` / `String` (matches codegen's `heap.rs`).
#[repr(C)]
pub struct RawVec {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

fn out_of_memory(bytes: u128) -> ! {
    die(
        "fatal: ",
        alloc_crate::format!("out of memory (allocating {bytes} bytes)").as_bytes(),
        blood_abi::EXIT_OUT_OF_MEMORY,
    )
}

fn layout(size: u128, align: i64) -> Layout {
    let align = usize::try_from(align).ok().filter(|a| a.is_power_of_two()).unwrap_or(1);
    usize::try_from(size)
        .ok()
        .and_then(|s| Layout::from_size_align(s, align).ok())
        .unwrap_or_else(|| out_of_memory(size))
}

/// Allocates `size` bytes aligned to `align` (see the module contract).
pub fn alloc(size: u128, align: i64) -> *mut u8 {
    if size == 0 {
        return align.max(1) as usize as *mut u8;
    }
    let l = layout(size, align);
    // SAFETY: `l` has a non-zero size.
    let p = unsafe { alloc_crate::alloc::alloc(l) };
    if p.is_null() {
        out_of_memory(size);
    }
    p
}

/// Frees a block from [`alloc`] of `size` bytes and alignment `align`.
///
/// # Safety
/// `ptr` came from [`alloc`]/[`realloc`] with this size and alignment and is not used again.
pub unsafe fn free(ptr: *mut u8, size: u128, align: i64) {
    if size == 0 || ptr.is_null() {
        return;
    }
    // SAFETY: the caller's contract: allocated with this layout.
    unsafe { alloc_crate::alloc::dealloc(ptr, layout(size, align)) }
}

/// Resizes a block from `old` to `new` bytes, keeping the contents up to the smaller size.
///
/// # Safety
/// As [`free`] for `(ptr, old, align)`.
pub unsafe fn realloc(ptr: *mut u8, old: u128, align: i64, new: u128) -> *mut u8 {
    if old == 0 {
        return alloc(new, align);
    }
    if new == 0 {
        // SAFETY: forwarded caller contract.
        unsafe { free(ptr, old, align) };
        return align.max(1) as usize as *mut u8;
    }
    let l = layout(old, align);
    let new_size = usize::try_from(new).unwrap_or_else(|_| out_of_memory(new));
    // SAFETY: the caller's contract; `new_size` is non-zero and `layout` checked it fits.
    let p = unsafe { alloc_crate::alloc::realloc(ptr, l, new_size) };
    if p.is_null() {
        out_of_memory(new);
    }
    p
}

/// `void *blood_alloc(int64_t size, int64_t align)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_alloc(size: i64, align: i64) -> *mut u8 {
    ffi_guard("blood_alloc", || alloc(size.max(0) as u128, align))
}

/// `void *blood_realloc(void *ptr, int64_t old_size, int64_t align, int64_t new_size)`.
///
/// # Safety
/// As [`realloc`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_realloc(ptr: *mut u8, old: i64, align: i64, new: i64) -> *mut u8 {
    // SAFETY: forwarded caller contract.
    ffi_guard("blood_realloc", || unsafe { realloc(ptr, old.max(0) as u128, align, new.max(0) as u128) })
}

/// `void blood_free(void *ptr, int64_t size, int64_t align)`.
///
/// # Safety
/// As [`free`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_free(ptr: *mut u8, size: i64, align: i64) {
    // SAFETY: forwarded caller contract.
    ffi_guard("blood_free", || unsafe { free(ptr, size.max(0) as u128, align) })
}

/// Grows `v` so that `cap >= len + additional`.
///
/// # Safety
/// `v` is a valid vector whose buffer was allocated by this module with `elem_size`/`align`.
unsafe fn reserve(v: &mut RawVec, additional: usize, elem_size: i64, align: i64) {
    let size = elem_size.max(0) as u128;
    if size == 0 {
        v.cap = usize::MAX;
        return;
    }
    let needed = v.len.checked_add(additional).unwrap_or_else(|| out_of_memory(u128::MAX));
    if needed <= v.cap {
        return;
    }
    let new_cap = needed.max(v.cap.saturating_mul(2)).max(4);
    // SAFETY: the buffer is `cap * size` bytes from this allocator (or none when `cap == 0`).
    v.ptr = unsafe { realloc(v.ptr, v.cap as u128 * size, align, new_cap as u128 * size) };
    v.cap = new_cap;
}

/// `void blood_vec_reserve(vec *v, int64_t additional, int64_t elem_size, int64_t elem_align)`.
///
/// # Safety
/// `v` points to a valid vector of elements of that size and alignment.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_vec_reserve(v: *mut RawVec, additional: i64, elem_size: i64, align: i64) {
    ffi_guard("blood_vec_reserve", || {
        // SAFETY: the caller's contract.
        let v = unsafe { &mut *v };
        // SAFETY: as above.
        unsafe { reserve(v, additional.max(0) as usize, elem_size, align) }
    })
}

/// `void blood_vec_clone(vec *dst, const vec *src, int64_t elem_size, int64_t elem_align)`.
///
/// # Safety
/// `src` points to a valid vector; `dst` to writable memory for one.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_vec_clone(dst: *mut RawVec, src: *const RawVec, elem_size: i64, align: i64) {
    ffi_guard("blood_vec_clone", || {
        // SAFETY: the caller's contract.
        let src = unsafe { &*src };
        let mut out = RawVec { ptr: align.max(1) as usize as *mut u8, len: 0, cap: 0 };
        // SAFETY: `out` is a valid empty vector.
        unsafe { reserve(&mut out, src.len, elem_size, align) };
        let bytes = src.len * elem_size.max(0) as usize;
        if bytes > 0 {
            // SAFETY: both buffers hold at least `bytes` bytes and are distinct allocations.
            unsafe { core::ptr::copy_nonoverlapping(src.ptr, out.ptr, bytes) };
        }
        out.len = src.len;
        // SAFETY: the caller's contract.
        unsafe { dst.write(out) };
    })
}

/// Appends bytes to a string.
///
/// # Safety
/// `s` is a valid `String`; `bytes` does not point into its buffer's spare capacity.
unsafe fn push_bytes(s: &mut RawVec, bytes: &[u8]) {
    // SAFETY: the caller's contract.
    unsafe { reserve(s, bytes.len(), 1, 1) };
    // SAFETY: `reserve` made room for `bytes.len()` more bytes after `len`; `bytes` is not in
    // that spare capacity (the caller's contract).
    unsafe { core::ptr::copy(bytes.as_ptr(), s.ptr.add(s.len), bytes.len()) };
    s.len += bytes.len();
}

/// `void blood_string_push_str(vec *s, const uint8_t *ptr, int64_t len)`.
///
/// # Safety
/// `s` points to a valid `String`; `(ptr, len)` is a valid `&str`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_string_push_str(s: *mut RawVec, ptr: *const u8, len: i64) {
    ffi_guard("blood_string_push_str", || {
        let len = len.max(0) as usize;
        let bytes = if len == 0 {
            Vec::new()
        } else {
            // SAFETY: the caller's contract. Copied first: `ptr` may point into `s` itself.
            unsafe { core::slice::from_raw_parts(ptr, len) }.to_vec()
        };
        // SAFETY: the caller's contract; `bytes` is a separate buffer.
        unsafe { push_bytes(&mut *s, &bytes) }
    })
}

/// `void blood_string_push_char(vec *s, uint32_t c)`.
///
/// # Safety
/// `s` points to a valid `String`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_string_push_char(s: *mut RawVec, c: u32) {
    ffi_guard("blood_string_push_char", || {
        let ch = char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut buf = [0u8; 4];
        let bytes = ch.encode_utf8(&mut buf).as_bytes();
        // SAFETY: the caller's contract; `buf` is a local buffer.
        unsafe { push_bytes(&mut *s, bytes) }
    })
}
