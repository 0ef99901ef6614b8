//! The heap entry points of generated code (`blood-runtime-core`'s `alloc.rs`): string and
//! vector growth, clones, zero sizes.

use blood_runtime::alloc::*;

fn empty() -> RawVec {
    RawVec { ptr: std::ptr::dangling_mut::<u8>(), len: 0, cap: 0 }
}

#[test]
fn strings_grow_and_hold_utf8() {
    let mut s = empty();
    // SAFETY: `s` is a valid empty string owned by the test.
    unsafe {
        blood_string_push_str(&mut s, "héllo".as_ptr(), 6);
        blood_string_push_char(&mut s, 'é' as u32);
        let own = s.ptr;
        blood_string_push_str(&mut s, own, 2);
        let mut want = "hélloé".as_bytes().to_vec();
        want.extend_from_slice(b"h\xc3");
        assert_eq!(std::slice::from_raw_parts(s.ptr, s.len), want.as_slice());
        assert!(s.cap >= s.len);
        blood_free(s.ptr, s.cap as i64, 1);
    }
}

#[test]
fn reserve_doubles_and_clone_copies() {
    let mut v = empty();
    // SAFETY: `v` is a valid empty vector of 8-byte elements owned by the test.
    unsafe {
        blood_vec_reserve(&mut v, 1, 8, 8);
        assert_eq!(v.cap, 4);
        v.len = 4;
        for i in 0..4 {
            (v.ptr as *mut u64).add(i).write(i as u64 * 10);
        }
        blood_vec_reserve(&mut v, 1, 8, 8);
        assert_eq!(v.cap, 8);
        let mut c = empty();
        blood_vec_clone(&mut c, &v, 8, 8);
        assert_eq!(c.len, 4);
        assert_eq!(*(c.ptr as *const u64).add(3), 30);
        blood_free(v.ptr, (v.cap * 8) as i64, 8);
        blood_free(c.ptr, (c.cap * 8) as i64, 8);
    }
}

#[test]
fn zero_sizes_allocate_nothing() {
    let p = blood_alloc(0, 8);
    assert_eq!(p as usize, 8);
    // SAFETY: a size-0 free is a no-op.
    unsafe { blood_free(p, 0, 8) };
}
