//! KW-2: kernel32's event objects and waits through the `sys` layer: `CreateEventW`,
//! `SetEvent`, `ResetEvent`, `CloseHandle`, `WaitForSingleObject(Ex)`,
//! `WaitForMultipleObjects(Ex)`, and their sharing of objects with the WSA event functions.
//! Every failure is checked for its Win32 code (`ERROR_INVALID_HANDLE` 6,
//! `ERROR_INVALID_PARAMETER` 87).

use std::ptr::{null, null_mut};
use std::time::Duration;

use ws2sim::sys::*;
use ws2sim::thread;

mod common;
use common::*;

const ERROR_INVALID_HANDLE: u32 = 6;
const ERROR_INVALID_PARAMETER: u32 = 87;
const TIMEOUT: u32 = WAIT_TIMEOUT as u32;

unsafe fn event(manual: bool, initial: bool) -> HANDLE {
    let h = CreateEventW(null(), manual as BOOL, initial as BOOL, null());
    assert!(!h.is_null());
    h
}

/// The result of a call and `GetLastError` after it (preset to 0xdeadbeef).
fn win32<T>(f: impl FnOnce() -> T) -> (T, u32) {
    unsafe { SetLastError(0xdead_beef) };
    let r = f();
    (r, unsafe { GetLastError() })
}

#[test]
fn kw_2_create_event_makes_manual_or_auto_reset_events_without_startup() {
    process().run(|| unsafe {
        let manual = event(true, true);
        let auto = event(false, true);
        let off = event(true, false);
        assert_eq!(WaitForSingleObject(manual, 0), WAIT_OBJECT_0);
        assert_eq!(
            WaitForSingleObject(manual, 0),
            WAIT_OBJECT_0,
            "manual stays set"
        );
        assert_eq!(WaitForSingleObject(auto, 0), WAIT_OBJECT_0);
        assert_eq!(
            WaitForSingleObject(auto, 0),
            TIMEOUT,
            "auto reset by the wait"
        );
        assert_eq!(WaitForSingleObject(off, 0), TIMEOUT);
        assert_eq!(SetEvent(off), TRUE);
        assert_eq!(WaitForSingleObject(off, 0), WAIT_OBJECT_0);
        assert_eq!(ResetEvent(off), TRUE);
        assert_eq!(WaitForSingleObject(off, 0), TIMEOUT);
        let named: Vec<u16> = "Global\\x\0".encode_utf16().collect();
        let h = CreateEventW(null(), TRUE, FALSE, named.as_ptr());
        assert!(!h.is_null() && h != off, "names are ignored: a new event");
        for h in [manual, auto, off, h] {
            assert_eq!(CloseHandle(h), TRUE);
        }
    });
}

#[test]
fn kw_2_wait_for_multiple_objects_returns_the_lowest_signalled_and_resets_auto_ones() {
    process().run(|| unsafe {
        let (a, b, c) = (event(true, false), event(false, true), event(false, true));
        let hs = [a, b, c];
        assert_eq!(
            WaitForMultipleObjects(3, hs.as_ptr(), FALSE, 0),
            WAIT_OBJECT_0 + 1
        );
        assert_eq!(
            WaitForMultipleObjects(3, hs.as_ptr(), FALSE, 0),
            WAIT_OBJECT_0 + 2
        );
        assert_eq!(WaitForMultipleObjects(3, hs.as_ptr(), FALSE, 0), TIMEOUT);
        SetEvent(b);
        SetEvent(c);
        assert_eq!(
            WaitForMultipleObjects(3, hs.as_ptr(), TRUE, 0),
            TIMEOUT,
            "a is not set"
        );
        SetEvent(a);
        assert_eq!(
            WaitForMultipleObjects(3, hs.as_ptr(), TRUE, 0),
            WAIT_OBJECT_0
        );
        // Wait-all reset both auto-reset events; the manual one stays set.
        assert_eq!(
            WaitForMultipleObjects(3, hs.as_ptr(), FALSE, 0),
            WAIT_OBJECT_0
        );
        assert_eq!(
            WaitForMultipleObjects(2, hs[1..].as_ptr(), FALSE, 0),
            TIMEOUT
        );
    });
}

#[test]
fn kw_2_waits_time_out_in_virtual_time() {
    let (sim, p) = app();
    p.run(|| unsafe {
        let e = event(true, false);
        let before = sim.now();
        assert_eq!(WaitForSingleObject(e, 1500), TIMEOUT);
        assert_eq!(sim.now() - before, Duration::from_millis(1500));
    });
}

#[test]
fn kw_2_set_event_wakes_one_waiter_of_an_auto_reset_event() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        let e = event(false, false);
        let raw = e as usize;
        let waiter = || thread::spawn(move || WaitForSingleObject(raw as HANDLE, 5000));
        let (w1, w2) = (waiter(), waiter());
        Sleep(10); // both are waiting now (sim.run would wait out their timeouts)
        assert_eq!(SetEvent(e), TRUE);
        let mut results = [w1.join(), w2.join()];
        results.sort();
        assert_eq!(results, [WAIT_OBJECT_0, TIMEOUT]);
    });
}

#[test]
fn kw_2_wsa_events_and_kernel_events_are_the_same_objects() {
    process().run(|| unsafe {
        startup_2_2();
        let wsa = WSACreateEvent();
        let h = wsa as HANDLE;
        assert_eq!(WaitForSingleObject(h, 0), TIMEOUT);
        assert_eq!(SetEvent(h), TRUE);
        assert_eq!(
            WaitForSingleObject(h, 0),
            WAIT_OBJECT_0,
            "WSA events are manual-reset"
        );
        let k = event(true, false);
        assert_eq!(WSASetEvent(k as WSAEVENT), TRUE);
        let both = [h, k];
        assert_eq!(
            WSAWaitForMultipleEvents(2, both.as_ptr(), TRUE, 0, FALSE),
            0
        );
        // A network event signals a CreateEventW event too.
        ResetEvent(k);
        let s = socket(INET, SOCK_DGRAM, IPPROTO_UDP);
        assert_eq!(WSAEventSelect(s, k as WSAEVENT, FD_WRITE as i32), 0);
        assert_eq!(WaitForSingleObject(k, 0), WAIT_OBJECT_0);
        assert_eq!(CloseHandle(h), TRUE, "CloseHandle closes a WSA event");
        assert_eq!(
            WSACloseEvent(k as WSAEVENT),
            TRUE,
            "and WSACloseEvent a kernel one"
        );
        closesocket(s);
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn kw_2_bad_handles_and_counts_fail_with_win32_codes() {
    process().run(|| unsafe {
        startup_2_2();
        let e = event(true, true);
        let hs = [e; 65];
        let bogus = 0x1234usize as HANDLE;
        assert_eq!(
            win32(|| WaitForMultipleObjects(0, hs.as_ptr(), FALSE, 0)),
            (WAIT_FAILED, ERROR_INVALID_PARAMETER)
        );
        assert_eq!(
            win32(|| WaitForMultipleObjects(65, hs.as_ptr(), FALSE, 0)),
            (WAIT_FAILED, ERROR_INVALID_PARAMETER)
        );
        assert_eq!(
            WaitForMultipleObjects(64, hs.as_ptr(), TRUE, 0),
            WAIT_OBJECT_0
        );
        assert_eq!(
            win32(|| WaitForMultipleObjects(1, null(), FALSE, 0)),
            (WAIT_FAILED, ERROR_INVALID_PARAMETER)
        );
        let mixed = [e, bogus];
        assert_eq!(
            win32(|| WaitForMultipleObjects(2, mixed.as_ptr(), FALSE, 0)),
            (WAIT_FAILED, ERROR_INVALID_HANDLE)
        );
        assert_eq!(win32(|| SetEvent(bogus)), (FALSE, ERROR_INVALID_HANDLE));
        assert_eq!(
            win32(|| ResetEvent(null_mut())),
            (FALSE, ERROR_INVALID_HANDLE)
        );
        let s = socket(INET, SOCK_STREAM, IPPROTO_TCP);
        assert_eq!(
            win32(|| CloseHandle(s as HANDLE)),
            (FALSE, ERROR_INVALID_HANDLE)
        );
        assert_eq!(closesocket(s), 0, "the socket is still open");
        assert_eq!(CloseHandle(e), TRUE);
        assert_eq!(win32(|| CloseHandle(e)), (FALSE, ERROR_INVALID_HANDLE));
        assert_eq!(
            win32(|| WaitForSingleObject(e, INFINITE)),
            (WAIT_FAILED, ERROR_INVALID_HANDLE)
        );
    });
}

#[test]
fn kw_2_alertable_waits_run_apcs_and_return_wait_io_completion() {
    let (sim, p) = app();
    p.run(|| unsafe {
        let e = event(true, false);
        let raw = e as usize;
        let alertable = thread::spawn(move || WaitForSingleObjectEx(raw as HANDLE, INFINITE, TRUE));
        let plain = thread::spawn(move || WaitForSingleObjectEx(raw as HANDLE, 1000, FALSE));
        sim.run();
        alertable.queue_apc(|| {});
        plain.queue_apc(|| {});
        assert_eq!(alertable.join(), WAIT_IO_COMPLETION);
        assert_eq!(plain.join(), TIMEOUT, "a non-alertable wait keeps waiting");
        let hs = [e];
        thread::queue_apc(thread::current(), || {});
        assert_eq!(
            WaitForMultipleObjectsEx(1, hs.as_ptr(), FALSE, 50, TRUE),
            WAIT_IO_COMPLETION
        );
    });
}

#[test]
fn kw_2_kernel_objects_survive_cleanup_count_as_live_and_close_with_close_handle() {
    let (_sim, p) = app();
    let (e, port) = p.run(|| unsafe {
        startup_2_2();
        let e = event(true, true);
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert!(!port.is_null());
        assert_eq!(WSACleanup(), 0);
        (e as usize, port as usize)
    });
    assert_eq!(p.live_resources(), 1, "the event; ports are not counted");
    p.run(|| unsafe {
        assert_eq!(WaitForSingleObject(e as HANDLE, 0), WAIT_OBJECT_0);
        assert_eq!(CloseHandle(e as HANDLE), TRUE);
        assert_eq!(CloseHandle(port as HANDLE), TRUE);
        assert_eq!(
            win32(|| CloseHandle(port as HANDLE)),
            (FALSE, ERROR_INVALID_HANDLE)
        );
    });
    assert_eq!(p.live_resources(), 0);
}

#[test]
fn kw_3_waits_on_simulated_thread_handles_end_when_the_threads_do() {
    let sim = ws2sim::Sim::new();
    let p = sim.localhost().process("app");
    let a = p.spawn(|| unsafe { SleepEx(10, FALSE) });
    let b = p.spawn(|| unsafe { SleepEx(40, FALSE) });
    let handles = [a.raw_handle() as HANDLE, b.raw_handle() as HANDLE];
    assert_eq!(p.live_resources(), 0, "a thread's object is not a leak");
    p.run(|| unsafe {
        assert_eq!(
            WaitForMultipleObjects(2, handles.as_ptr(), FALSE, WSA_INFINITE),
            WAIT_OBJECT_0
        );
        assert_eq!(GetTickCount64(), 10);
        assert_eq!(
            WaitForMultipleObjects(2, handles.as_ptr(), TRUE, 5),
            WAIT_TIMEOUT as u32
        );
        assert_eq!(
            WaitForMultipleObjects(2, handles.as_ptr(), TRUE, WSA_INFINITE),
            WAIT_OBJECT_0
        );
        assert_eq!(GetTickCount64(), 40);
        // Signalled for good, and only by the thread's end.
        assert_eq!(WaitForSingleObject(handles[0], 0), WAIT_OBJECT_0);
        assert_eq!(ResetEvent(handles[0]), FALSE);
        assert_eq!(GetLastError(), 6);
        assert_eq!(SetEvent(handles[1]), FALSE);
        assert_eq!(GetLastError(), 6);
        assert_eq!(WaitForSingleObject(handles[0], 0), WAIT_OBJECT_0);
        assert_eq!(CloseHandle(handles[0]), TRUE);
        assert_eq!(WaitForSingleObject(handles[0], 0), WAIT_FAILED);
    });
    a.join();
    b.join();
}
