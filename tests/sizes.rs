//! OP-7: sizes are checked before any copy. A counting allocator in this test binary measures
//! the heap a call takes: a datagram far over the limit must fail `WSAEMSGSIZE` without the
//! simulator gathering its bytes (issue 12 item 11: a 3 GiB WSASendTo used to be copied
//! first).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use ws2sim::sys::*;
use ws2sim::Rule;

struct Peak;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every call goes to the system allocator unchanged; only counters are kept.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::SeqCst);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() {
            grew(new - l.size());
        } else {
            LIVE.fetch_sub(l.size() - new, Ordering::SeqCst);
        }
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static ALLOC: Peak = Peak;

/// The counters are the whole binary's: one measuring test at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// `f`'s result and the most heap it held at once above what was live before it.
fn heap_taken<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let r = f();
    (r, PEAK.load(Ordering::SeqCst) - before)
}

#[test]
fn op_7_a_huge_datagram_fails_msgsize_before_any_copy() {
    let _one = serial();
    let (sim, p) = app();
    // 3 GiB of zeroed memory: the pages are only mapped when touched, so this costs nothing
    // unless someone copies it.
    let huge = vec![0u8; 3 << 30];
    p.run(|| unsafe {
        startup_2_2();
        let s = udp();
        let to = sockaddr(std::net::Ipv4Addr::LOCALHOST, 7400);
        let buf = WSABUF {
            len: huge.len() as u32,
            buf: huge.as_ptr().cast_mut(),
        };
        let mut sent = 0u32;
        let (r, peak) = heap_taken(|| {
            let none = std::ptr::null_mut();
            WSASendTo(s, &buf, 1, &mut sent, 0, name_ptr(&to), 16, none, None)
        });
        assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSAEMSGSIZE));
        assert!(peak < 1 << 20, "the call took {peak} bytes of heap");
        assert_eq!(WSACleanup(), 0);
    });
    // A non-overlapped WSASendTo is traced as the sendto it makes.
    let ev = &events_of(&sim, "sendto", &p)[0];
    assert!(ev.rules.contains(&Rule::Op7), "{ev}");
}

#[test]
fn op_7_a_huge_overlapped_datagram_fails_msgsize_before_any_copy() {
    let _one = serial();
    let (sim, p) = app();
    let huge = vec![0u8; 3 << 30];
    p.run(|| unsafe {
        startup_2_2();
        let s = udp();
        let to = sockaddr(std::net::Ipv4Addr::LOCALHOST, 7401);
        // Two buffers of 1.5 GiB each: gathered, they would be a 3 GiB copy.
        let half = huge.len() / 2;
        let bufs = [
            WSABUF {
                len: half as u32,
                buf: huge.as_ptr().cast_mut(),
            },
            WSABUF {
                len: half as u32,
                buf: huge.as_ptr().add(half).cast_mut(),
            },
        ];
        let mut ov: OVERLAPPED = std::mem::zeroed();
        let (r, peak) = heap_taken(|| {
            let none = std::ptr::null_mut();
            WSASendTo(
                s,
                bufs.as_ptr(),
                2,
                none,
                0,
                name_ptr(&to),
                16,
                &mut ov,
                None,
            )
        });
        assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSAEMSGSIZE));
        assert!(peak < 1 << 20, "the call took {peak} bytes of heap");
        // Refused, so never started: the record is left as it was (OV-1).
        assert_eq!(ov.Internal, 0);
        assert_eq!(WSACleanup(), 0);
    });
    let ev = &events_of(&sim, "WSASendTo", &p)[0];
    assert!(ev.rules.contains(&Rule::Op7), "{ev}");
    assert_eq!(ev.arguments[1].value, "3221225472 bytes", "{ev}");
}
