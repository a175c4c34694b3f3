//! Simulated threads: per-thread last error (TH-1), interruption of blocking calls by the final
//! WSACleanup (CL-4), closesocket (CS-7) and WSACancelBlockingCall (CL-13), Winsock 1.1
//! blocking hooks (TH-5, CL-10), APCs (CL-10, SD-13, OV-4), DllMain misuse (CL-12),
//! determinism (TH-2), virtual time (TH-3), deadlock reports (TH-4) and seeds (TH-6).
//!
//! Every test that waits relies on the simulator: time is virtual and a program that can never
//! go on is reported as a deadlock, so no test can hang.

mod common;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use ws2sim::sys::*;
use ws2sim::thread::{self, ThreadId};
use ws2sim::{Rule, Sim, SimError, Version, WsaError, DEFAULT_LATENCY, SEED_ENV};

/// The address of every simulation's "localhost".
const LOCAL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// The calling thread's last error.
fn err() -> i32 {
    unsafe { WSAGetLastError() }
}

/// A result with the last error right after it.
fn with_err<T>(r: T) -> (T, i32) {
    (r, err())
}

/// A connected TCP pair inside the calling process: (listener, client side, accepted side).
#[track_caller]
fn local_pair(port: u16) -> (SOCKET, SOCKET, SOCKET) {
    let addr = sockaddr(LOCAL, port);
    let l = tcp_listener(&addr, 5);
    let c = tcp_connected(&addr);
    let s = accept_one(l);
    (l, c, s)
}

/// A blocking `recv` of up to 64 bytes: (return value, last error if it failed else 0, bytes).
fn recv_result(s: SOCKET) -> (i32, i32, Vec<u8>) {
    let (r, bytes) = recv_n(s, 64, 0);
    let e = if r == SOCKET_ERROR { err() } else { 0 };
    (r, e, bytes)
}

/// The id the trace and diagnostics use for `t`.
fn tid(t: ThreadId) -> u32 {
    t.to_string()
        .parse()
        .expect("a thread id displays as a number")
}

/// The message of a panic payload.
fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        panic!("a simulator panic carries a message")
    }
}

/// Runs `f`, which must panic: its message.
#[track_caller]
fn panics<T>(f: impl FnOnce() -> T) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(p) => panic_message(p),
    }
}

/// The recorded calls named `call` made by thread `t`.
fn calls_of(sim: &Sim, call: &str, t: ThreadId) -> Vec<ws2sim::Event> {
    sim.trace()
        .calls(call)
        .filter(|e| e.thread == tid(t))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// TH-1

#[test]
fn th_1_last_error_is_per_thread_without_startup() {
    let (_sim, p) = app();
    let (a, b, main) = p.run(|| unsafe {
        WSASetLastError(333);
        let a = thread::spawn(|| {
            WSASetLastError(111);
            SleepEx(10, FALSE); // b sets its own error meanwhile
            WSAGetLastError()
        });
        let b = thread::spawn(|| {
            SleepEx(5, FALSE);
            WSASetLastError(222);
            WSAGetLastError()
        });
        (a.join(), b.join(), WSAGetLastError())
    });
    assert_eq!((a, b, main), (111, 222, 333));
    assert_eq!(p.startup_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// CL-4

#[test]
fn cl_4_final_cleanup_interrupts_blocked_calls_of_every_thread() {
    let (sim, p) = app();
    let (r, w, a, cleanup) = p.run(|| {
        startup_2_2();
        let (_l, _c, s) = local_pair(7000);
        let idle = tcp_listener(&sockaddr(LOCAL, 7001), 5);
        let e = event();
        let r = thread::spawn(move || recv_result(s));
        let w = thread::spawn(move || {
            let h = [e as HANDLE];
            with_err(unsafe { WSAWaitForMultipleEvents(1, h.as_ptr(), FALSE, WSA_INFINITE, FALSE) })
        });
        let a = thread::spawn(move || {
            with_err(unsafe { accept(idle, std::ptr::null_mut(), std::ptr::null_mut()) })
        });
        sim.run(); // every thread runs until it blocks
        assert!(!r.is_finished() && !w.is_finished() && !a.is_finished());
        let cleanup = last_error_after(|| unsafe { WSACleanup() });
        let ids = (r.id(), w.id(), a.id());
        (r.join(), w.join(), a.join(), (cleanup, ids))
    });
    assert_eq!(r, (SOCKET_ERROR, WSAEINTR, vec![]), "blocked recv");
    assert_eq!(
        w,
        (WSA_WAIT_FAILED, WSAEINTR),
        "blocked WSAWaitForMultipleEvents"
    );
    assert_eq!(a, (INVALID_SOCKET, WSAEINTR), "blocked accept");
    let (cleanup, (rt, wt, at)) = cleanup;
    assert_eq!(cleanup, (0, 0), "the final WSACleanup succeeds (CL-3)");
    assert_eq!(p.startup_count(), 0);
    for (call, t) in [
        ("recv", rt),
        ("WSAWaitForMultipleEvents", wt),
        ("accept", at),
    ] {
        let ev = calls_of(&sim, call, t);
        assert_eq!(ev.len(), 1, "{call}");
        assert_eq!(ev[0].error, Some(WsaError::Interrupted), "{}", ev[0]);
        assert!(ev[0].rules.contains(&Rule::Cl4), "{}", ev[0]);
    }
}

#[test]
fn cl_4_non_final_cleanup_does_not_interrupt() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        startup_2_2();
        let (_l, c, s) = local_pair(7000);
        let r = thread::spawn(move || recv_result(s));
        sim.run();
        assert_eq!(last_error_after(|| WSACleanup()), (0, 0));
        assert_eq!(p.startup_count(), 1);
        sim.run();
        assert!(
            !r.is_finished(),
            "recv still waits after a non-final cleanup"
        );
        send_all(c, b"late");
        assert_eq!(r.join(), (4, 0, b"late".to_vec()));
        assert_eq!(WSACleanup(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// CS-7

#[test]
fn cs_7_closesocket_interrupts_recv_on_that_socket_only() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let (_l1, _c1, s1) = local_pair(7000);
        let (_l2, c2, s2) = local_pair(7001);
        let on_closed = thread::spawn(move || recv_result(s1));
        let on_other = thread::spawn(move || recv_result(s2));
        sim.run();
        assert!(!on_closed.is_finished() && !on_other.is_finished());
        assert_eq!(closesocket(s1), 0);
        let closed_id = on_closed.id();
        assert_eq!(on_closed.join(), (SOCKET_ERROR, WSAEINTR, vec![]));
        let ev = calls_of(&sim, "recv", closed_id);
        assert!(ev[0].rules.contains(&Rule::Cs7), "{}", ev[0]);
        sim.run();
        assert!(
            !on_other.is_finished(),
            "a recv on another socket is not interrupted"
        );
        send_all(c2, b"ok");
        assert_eq!(on_other.join(), (2, 0, b"ok".to_vec()));
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn cs_7_closing_the_listener_interrupts_a_blocked_accept() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let l = tcp_listener(&sockaddr(LOCAL, 7000), 5);
        let a =
            thread::spawn(move || with_err(accept(l, std::ptr::null_mut(), std::ptr::null_mut())));
        sim.run();
        assert!(!a.is_finished());
        assert_eq!(closesocket(l), 0);
        assert_eq!(a.join(), (INVALID_SOCKET, WSAEINTR));
        assert_eq!(WSACleanup(), 0);
    });
}

/// An `FD_SET` holding `socks`.
fn fd_set(socks: &[SOCKET]) -> FD_SET {
    let mut set = FD_SET {
        fd_count: socks.len() as u32,
        ..FD_SET::default()
    };
    set.fd_array[..socks.len()].copy_from_slice(socks);
    set
}

/// The sockets of an `FD_SET`.
fn members(set: &FD_SET) -> Vec<SOCKET> {
    set.fd_array[..set.fd_count as usize].to_vec()
}

/// `select(read, write, except)` with no timeout: (return value, last error if it failed else
/// 0, the three sets' members afterwards).
fn select_sets(
    read: &[SOCKET],
    write: &[SOCKET],
    except: &[SOCKET],
) -> (i32, i32, [Vec<SOCKET>; 3]) {
    let (mut r, mut w, mut x) = (fd_set(read), fd_set(write), fd_set(except));
    let n = unsafe { select(0, &mut r, &mut w, &mut x, std::ptr::null()) };
    let e = if n == SOCKET_ERROR { err() } else { 0 };
    (n, e, [members(&r), members(&w), members(&x)])
}

#[test]
fn cs_7_closesocket_wakes_a_select_at_once_and_reports_the_socket_readable() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let (_l1, _c1, s1) = local_pair(7000);
        let (_l2, _c2, s2) = local_pair(7001);
        // s1 watched for reading and exceptions, s2 for reading: neither is ready.
        let t = thread::spawn(move || select_sets(&[s1, s2], &[], &[s1]));
        sim.run();
        assert!(!t.is_finished(), "nothing is ready: select waits");
        let closed_at = sim.now();
        assert_eq!(closesocket(s1), 0);
        let id = t.id();
        // Win (test_select): the closed socket is reported readable, and only there.
        assert_eq!(t.join(), (1, 0, [vec![s1], vec![], vec![]]));
        let ev = &calls_of(&sim, "select", id)[0];
        assert_eq!(ev.time, closed_at, "woken at once: {ev}");
        assert!(ev.rules.contains(&Rule::Cs7), "{ev}");
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn cs_7_closesocket_of_a_socket_only_in_exceptfds_fails_select_wsaenotsock() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let (_l1, _c1, s1) = local_pair(7000);
        let (_l2, _c2, s2) = local_pair(7001);
        let t = thread::spawn(move || select_sets(&[s2], &[], &[s1]));
        sim.run();
        assert!(!t.is_finished());
        let closed_at = sim.now();
        assert_eq!(closesocket(s1), 0);
        let id = t.id();
        // Win (test_select): WSAENOTSOCK, and every set it was given is emptied.
        assert_eq!(
            t.join(),
            (SOCKET_ERROR, WSAENOTSOCK, [vec![], vec![], vec![]])
        );
        let ev = &calls_of(&sim, "select", id)[0];
        assert_eq!(ev.time, closed_at, "woken at once: {ev}");
        assert!(ev.rules.contains(&Rule::Cs7), "{ev}");
        assert_eq!(WSACleanup(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// CL-13

#[test]
fn cl_13_cancel_blocking_call_is_not_supported_under_2_2() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        assert_fails(WSACancelBlockingCall(), WSAEOPNOTSUPP);
        // Not even for a thread that is blocked (called from an APC run inside its recv).
        let (_l, c, s) = local_pair(7000);
        let seen = Arc::new(Mutex::new(None));
        let r = thread::spawn(move || recv_result(s));
        sim.run();
        let into = seen.clone();
        r.queue_apc(move || {
            *into.lock().unwrap() = Some(with_err(WSACancelBlockingCall()));
        });
        sim.run();
        assert_eq!(*seen.lock().unwrap(), Some((SOCKET_ERROR, WSAEOPNOTSUPP)));
        assert!(!r.is_finished(), "the recv was not cancelled");
        send_all(c, b"x");
        assert_eq!(r.join(), (1, 0, b"x".to_vec()));
        assert_eq!(WSACleanup(), 0);
    });
}

/// What `cl13_hook` saw: WSACancelBlockingCall's return value, once per run of the hook.
static CL13_CANCEL: Mutex<Vec<i32>> = Mutex::new(Vec::new());

unsafe extern "system" fn cl13_hook() -> isize {
    let r = WSACancelBlockingCall();
    CL13_CANCEL.lock().unwrap().push(r);
    0
}

#[test]
fn cl_13_cancel_blocking_call_from_hook_interrupts_recv_under_1_1() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        assert_eq!(startup(0x0101), 0);
        assert_eq!(p.negotiated_version(), Some(Version::V1_1));
        let (_l, _c, s) = local_pair(7000);
        assert_fails(WSACancelBlockingCall(), WSAEINVAL); // no blocking call
        assert!(
            WSASetBlockingHook(Some(cl13_hook)).is_none(),
            "the default hook was in place"
        );
        assert_eq!(recv_result(s), (SOCKET_ERROR, WSAEINTR, vec![]));
        assert_eq!(
            *CL13_CANCEL.lock().unwrap(),
            vec![0],
            "the hook ran once and cancelled"
        );
        assert_fails(WSACancelBlockingCall(), WSAEINVAL); // that call is over
        assert_eq!(WSAIsBlocking(), FALSE);
        assert_eq!(WSAUnhookBlockingHook(), 0);
        assert_eq!(WSACleanup(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// TH-5, CL-10: Winsock 1.1 blocking hooks

/// What `th5_hook` saw: (call, return value, last error after it).
static TH5_SEEN: Mutex<Vec<(&str, i64, i32)>> = Mutex::new(Vec::new());

unsafe extern "system" fn th5_hook() -> isize {
    let mut seen = Vec::new();
    let s = socket(INET, SOCK_STREAM, IPPROTO_TCP);
    seen.push(("socket", s as i64, WSAGetLastError()));
    WSASetLastError(0);
    seen.push((
        "WSAIsBlocking",
        i64::from(WSAIsBlocking()),
        WSAGetLastError(),
    ));
    let r = WSAUnhookBlockingHook();
    seen.push(("WSAUnhookBlockingHook", i64::from(r), WSAGetLastError()));
    let r = WSACancelBlockingCall();
    seen.push(("WSACancelBlockingCall", i64::from(r), 0));
    TH5_SEEN.lock().unwrap().extend(seen);
    0
}

unsafe extern "system" fn noop_hook() -> isize {
    0
}

#[test]
fn th_5_nested_calls_from_the_blocking_hook_fail_in_progress() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        assert_eq!(startup(0x0101), 0);
        let (_l, _c, s) = local_pair(7000);
        assert_eq!(WSAIsBlocking(), FALSE, "outside a blocking call");
        assert!(WSASetBlockingHook(Some(th5_hook)).is_none());
        assert_eq!(recv_result(s), (SOCKET_ERROR, WSAEINTR, vec![]));
        assert_eq!(
            *TH5_SEEN.lock().unwrap(),
            vec![
                ("socket", INVALID_SOCKET as i64, WSAEINPROGRESS),
                ("WSAIsBlocking", i64::from(TRUE), 0),
                (
                    "WSAUnhookBlockingHook",
                    i64::from(SOCKET_ERROR),
                    WSAEINPROGRESS
                ),
                ("WSACancelBlockingCall", 0, 0),
            ]
        );
        assert_eq!(WSAIsBlocking(), FALSE, "after the blocking call");
        // The failed unhook left the hook installed: setting another returns it.
        let previous = WSASetBlockingHook(Some(noop_hook));
        assert_eq!(
            previous.map(|f| f as usize),
            Some(th5_hook as *const () as usize)
        );
        assert_eq!(WSAUnhookBlockingHook(), 0);
        assert_eq!(WSAUnhookBlockingHook(), 0, "unhooking the default hook");
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn th_5_blocking_hook_functions_fail_under_2_2() {
    started(|| unsafe {
        let (r, e) = last_error_after(|| WSASetBlockingHook(Some(noop_hook)));
        assert!(r.is_none());
        assert_eq!(e, WSAEOPNOTSUPP);
        assert_fails(WSAUnhookBlockingHook(), WSAEOPNOTSUPP);
        assert_eq!(WSAIsBlocking(), FALSE);
    });
}

/// What `kernel32_hook` saw: (port made, dequeue result, last error after it).
static KERNEL32_SEEN: Mutex<Vec<(bool, i32, u32)>> = Mutex::new(Vec::new());

unsafe extern "system" fn kernel32_hook() -> isize {
    let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 0);
    let (mut n, mut key, mut ov) = (0u32, 0usize, std::ptr::null_mut());
    let r = GetQueuedCompletionStatus(port, &mut n, &mut key, &mut ov, 0);
    KERNEL32_SEEN
        .lock()
        .unwrap()
        .push((!port.is_null(), r, WSAGetLastError() as u32));
    WSACancelBlockingCall();
    0
}

#[test]
fn er_1_kernel32_calls_from_a_blocking_hook_are_not_refused() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        assert_eq!(startup(0x0101), 0);
        let (_l, _c, s) = local_pair(7000);
        assert!(WSASetBlockingHook(Some(kernel32_hook)).is_none());
        assert_eq!(recv_result(s), (SOCKET_ERROR, WSAEINTR, vec![]));
        // The port is made and polled: an empty port times out (WAIT_TIMEOUT), where a
        // Winsock call would have failed WSAEINPROGRESS (TH-5).
        assert_eq!(
            *KERNEL32_SEEN.lock().unwrap(),
            vec![(true, FALSE, WAIT_TIMEOUT as u32)]
        );
        assert_eq!(WSACleanup(), 0);
    });
}

/// What `cl10_hook` saw: WSACleanup's (return value, last error).
static CL10_CLEANUP: Mutex<Vec<(i32, i32)>> = Mutex::new(Vec::new());

unsafe extern "system" fn cl10_hook() -> isize {
    let r = with_err(WSACleanup());
    CL10_CLEANUP.lock().unwrap().push(r);
    WSACancelBlockingCall();
    0
}

#[test]
fn cl_10_cleanup_from_the_blocking_hook_fails_in_progress() {
    let (sim, p) = app();
    let main = p.run(|| unsafe {
        assert_eq!(startup(0x0101), 0);
        let (_l, _c, s) = local_pair(7000);
        assert!(WSASetBlockingHook(Some(cl10_hook)).is_none());
        assert_eq!(recv_result(s), (SOCKET_ERROR, WSAEINTR, vec![]));
        assert_eq!(
            *CL10_CLEANUP.lock().unwrap(),
            vec![(SOCKET_ERROR, WSAEINPROGRESS)]
        );
        assert_eq!(
            p.startup_count(),
            1,
            "the failed WSACleanup did not count down"
        );
        thread::current()
    });
    let ev = calls_of(&sim, "WSACleanup", main);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].error, Some(WsaError::InProgress), "{}", ev[0]);
    assert!(ev[0].rules.contains(&Rule::Cl10), "{}", ev[0]);
    assert!(ev[0].rules.contains(&Rule::Th5), "{}", ev[0]);
    p.run(|| {
        assert_eq!(unsafe { WSACleanup() }, 0);
    });
    assert_eq!(p.startup_count(), 0);
}

#[test]
fn cl_10_cleanup_from_an_apc_fails_in_progress() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let seen = Arc::new(Mutex::new(Vec::new()));
        // An APC queued with ThreadHandle::queue_apc, run in another thread's alertable SleepEx.
        let sleeper = thread::spawn(|| SleepEx(WSA_INFINITE, TRUE));
        sim.run();
        let into = seen.clone();
        sleeper.queue_apc(move || {
            let r = with_err(WSACleanup());
            into.lock().unwrap().push((thread::current(), r));
        });
        let sleeper_id = sleeper.id();
        assert_eq!(sleeper.join(), WAIT_IO_COMPLETION);
        // One queued with thread::queue_apc to the calling thread itself.
        let into = seen.clone();
        thread::queue_apc(thread::current(), move || {
            let r = with_err(WSACleanup());
            into.lock().unwrap().push((thread::current(), r));
        });
        assert_eq!(SleepEx(1000, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                (sleeper_id, (SOCKET_ERROR, WSAEINPROGRESS)),
                (thread::current(), (SOCKET_ERROR, WSAEINPROGRESS)),
            ]
        );
        assert_eq!(p.startup_count(), 1);
        assert_eq!(WSACleanup(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// SD-13

#[test]
fn sd_13_blocking_call_in_an_apc_that_interrupted_a_blocking_call() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let (_l1, c1, s1) = local_pair(7000);
        let (_l2, _c2, s2) = local_pair(7001);
        let outer = thread::spawn(move || recv_result(s1));
        sim.run();
        let inner = Arc::new(Mutex::new(None));
        let into = inner.clone();
        outer.queue_apc(move || {
            let (r, e, _) = recv_result(s2); // nothing to read: it would block
            *into.lock().unwrap() = Some((r, e));
        });
        sim.run();
        assert_eq!(*inner.lock().unwrap(), Some((SOCKET_ERROR, WSAEINPROGRESS)));
        let d = sim.diagnostics();
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].rule, Rule::Sd13);
        assert_eq!((d[0].pid, d[0].process.as_str()), (p.pid(), "app"));
        assert_eq!(d[0].thread, tid(outer.id()));
        // The outer recv goes on waiting and completes normally.
        assert!(!outer.is_finished());
        send_all(c1, b"data");
        assert_eq!(outer.join(), (4, 0, b"data".to_vec()));
        assert_eq!(sim.diagnostics().len(), 1);
        assert_eq!(WSACleanup(), 0);
    });
    let diag: Vec<_> = sim.trace().calls("Diagnostic").cloned().collect();
    assert_eq!(diag.len(), 1);
    assert_eq!(diag[0].rules, vec![Rule::Sd13]);
}

// ---------------------------------------------------------------------------------------------
// CL-12

#[test]
fn cl_12_startup_and_cleanup_in_dllmain_are_diagnosed() {
    let (sim, p) = app();
    let main = p.run(|| unsafe {
        let mut data = WSADATA::default();
        assert_eq!(ws2sim::dllmain(|| WSAStartup(0x0202, &mut data)), 0);
        assert_eq!(data.wVersion, 0x0202);
        assert_eq!(p.startup_count(), 1);
        assert_eq!(sim.diagnostics().len(), 1);
        startup_2_2();
        let s = tcp();
        assert_eq!(WSACleanup(), 0, "outside DllMain: no diagnostic");
        assert_eq!(sim.diagnostics().len(), 1);
        // The final cleanup, in DllMain: it still does everything.
        let r = last_error_after(|| ws2sim::dllmain(|| WSACleanup()));
        assert_eq!(r, (0, 0));
        assert_eq!(p.startup_count(), 0);
        assert_eq!(p.live_resources(), 0);
        startup_2_2();
        assert_fails(closesocket(s), WSAENOTSOCK);
        assert_eq!(WSACleanup(), 0);
        thread::current()
    });
    let d = sim.diagnostics();
    assert_eq!(d.len(), 2, "{d:?}");
    for (d, call) in d.iter().zip(["WSAStartup", "WSACleanup"]) {
        assert_eq!(d.rule, Rule::Cl12);
        assert_eq!(
            (d.pid, d.process.as_str(), d.thread),
            (p.pid(), "app", tid(main))
        );
        assert!(d.message.contains(call), "{}", d.message);
    }
    let diag: Vec<_> = sim.trace().calls("Diagnostic").cloned().collect();
    assert_eq!(diag.len(), 2);
    assert!(diag.iter().all(|e| e.rules == vec![Rule::Cl12]));
}

// ---------------------------------------------------------------------------------------------
// OV-4: APCs run only in alertable waits, which then return WAIT_IO_COMPLETION.

#[test]
fn ov_4_alertable_sleepex_runs_queued_apcs() {
    let (sim, p) = app();
    p.run(|| unsafe {
        let ran = Arc::new(Mutex::new(Vec::new()));
        let sleeper = thread::spawn(|| SleepEx(WSA_INFINITE, TRUE));
        sim.run();
        assert!(!sleeper.is_finished());
        let t0 = sim.now();
        let into = ran.clone();
        sleeper.queue_apc(move || into.lock().unwrap().push(thread::current()));
        let sleeper_id = sleeper.id();
        assert_eq!(sleeper.join(), WAIT_IO_COMPLETION);
        assert_eq!(
            *ran.lock().unwrap(),
            vec![sleeper_id],
            "ran once, on its thread"
        );
        assert_eq!(sim.now(), t0);

        // Already queued: SleepEx(1000, TRUE) returns at once.
        let into = ran.clone();
        thread::queue_apc(thread::current(), move || {
            into.lock().unwrap().push(thread::current())
        });
        assert_eq!(SleepEx(1000, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(ran.lock().unwrap().len(), 2);
        assert_eq!(sim.now(), t0);

        // A non-alertable sleep leaves it queued and takes its whole time.
        let into = ran.clone();
        thread::queue_apc(thread::current(), move || {
            into.lock().unwrap().push(thread::current())
        });
        assert_eq!(SleepEx(50, FALSE), 0);
        assert_eq!(sim.now(), t0 + Duration::from_millis(50));
        assert_eq!(
            ran.lock().unwrap().len(),
            2,
            "not run by a non-alertable sleep"
        );
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(ran.lock().unwrap().len(), 3);
        assert_eq!(SleepEx(0, TRUE), 0, "nothing left to run");
    });
}

#[test]
fn ov_4_alertable_wait_for_events_returns_io_completion() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let e = event();
        let ran = Arc::new(AtomicUsize::new(0));
        let waiter = thread::spawn(move || {
            let h = [e as HANDLE];
            {
                WSAWaitForMultipleEvents(1, h.as_ptr(), FALSE, WSA_INFINITE, TRUE)
            }
        });
        sim.run();
        assert!(!waiter.is_finished());
        let count = ran.clone();
        waiter.queue_apc(move || {
            count.fetch_add(1, SeqCst);
        });
        assert_eq!(waiter.join(), WSA_WAIT_IO_COMPLETION as u32);
        assert_eq!(ran.load(SeqCst), 1);
        assert_eq!(WSACloseEvent(e), TRUE);
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn ov_4_non_alertable_wait_for_events_does_not_run_apcs() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let e = event();
        let ran = Arc::new(AtomicUsize::new(0));
        let count = ran.clone();
        thread::queue_apc(thread::current(), move || {
            count.fetch_add(1, SeqCst);
        });
        let t0 = sim.now();
        let h = [e as HANDLE];
        let r = WSAWaitForMultipleEvents(1, h.as_ptr(), FALSE, 20, FALSE);
        assert_eq!(r, WSA_WAIT_TIMEOUT);
        assert_eq!(sim.now(), t0 + Duration::from_millis(20));
        assert_eq!(ran.load(SeqCst), 0, "a non-alertable wait runs no APC");
        let r = WSAWaitForMultipleEvents(1, h.as_ptr(), FALSE, 20, TRUE);
        assert_eq!(r, WSA_WAIT_IO_COMPLETION as u32);
        assert_eq!(ran.load(SeqCst), 1);
        assert_eq!(sim.now(), t0 + Duration::from_millis(20));
        assert_eq!(WSACleanup(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// TH-3

#[test]
fn th_3_sleep_takes_exactly_its_virtual_time() {
    let (sim, p) = app();
    p.run(|| unsafe {
        let t0 = sim.now();
        assert_eq!(SleepEx(50, FALSE), 0);
        assert_eq!(sim.now(), t0 + Duration::from_millis(50));
        thread::sleep(Duration::from_millis(7));
        assert_eq!(sim.now(), t0 + Duration::from_millis(57));
    });
}

#[test]
fn th_3_time_stands_still_while_a_thread_can_run() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let (_l, c, s) = local_pair(7000);
        set_nonblocking(s, true);
        let t0 = sim.now();
        let sleeper = thread::spawn(|| SleepEx(100, FALSE));
        let clock = sim.clone();
        let sender = thread::spawn(move || {
            for _ in 0..50 {
                send_all(c, b"x");
                assert_eq!(clock.now(), t0);
            }
        });
        let clock = sim.clone();
        let poller = thread::spawn(move || {
            let mut would_block = 0;
            for _ in 0..100 {
                let (r, _) = recv_n(s, 64, 0);
                if r == SOCKET_ERROR && err() == WSAEWOULDBLOCK {
                    would_block += 1;
                }
                assert_eq!(clock.now(), t0);
            }
            would_block
        });
        // Nothing was delivered: the packets need time, and time did not pass.
        assert_eq!(poller.join(), 100);
        sender.join();
        assert_eq!(sim.now(), t0);
        assert_eq!(sleeper.join(), 0);
        assert_eq!(sim.now(), t0 + Duration::from_millis(100));
        assert_eq!(fionread(s), 50, "delivered once time could pass");
        assert_eq!(WSACleanup(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// TH-2

/// Four threads: T1 and T2 block in recv, T3 sends to T1 and after 1 ms (when that data
/// arrives) makes the final WSACleanup. Whether T1 gets the data or WSAEINTR is decided by the
/// scheduler's seed. Returns T1's result.
fn race_program(sim: &Sim) -> (i32, i32, Vec<u8>) {
    let p = sim.localhost().process("race");
    p.run(|| {
        startup_2_2();
        let (_l1, c1, s1) = local_pair(5000);
        let (_l2, _c2, s2) = local_pair(5001);
        let t1 = thread::spawn(move || {
            unsafe { WSASetLastError(1) };
            recv_result(s1)
        });
        let t2 = thread::spawn(move || {
            unsafe { WSASetLastError(2) };
            let x = tcp();
            assert_eq!(unsafe { closesocket(x) }, 0);
            recv_result(s2)
        });
        let t3 = thread::spawn(move || unsafe {
            send_all(c1, b"hi");
            let _ = WSAGetLastError();
            SleepEx(1, FALSE);
            WSACleanup()
        });
        let r1 = t1.join();
        assert_eq!(t2.join(), (SOCKET_ERROR, WSAEINTR, vec![]));
        assert_eq!(t3.join(), 0);
        assert!(
            r1 == (2, 0, b"hi".to_vec()) || r1 == (SOCKET_ERROR, WSAEINTR, vec![]),
            "{r1:?}"
        );
        r1
    })
}

#[test]
fn th_2_same_seed_same_trace_and_seeds_change_interleavings() {
    ws2sim::check_determinism(2, |sim| {
        race_program(sim);
    });
    let mut traces = HashSet::new();
    let mut outcomes = HashSet::new();
    for seed in 0..200u64 {
        let run = || {
            let sim = Sim::builder().seed(seed).build();
            let r = race_program(&sim);
            let trace = sim.trace();
            let threads: HashSet<u32> = trace
                .events()
                .iter()
                .filter(|e| e.thread != 0)
                .map(|e| e.thread)
                .collect();
            (r, trace.to_json_lines(), threads.len())
        };
        let (r1, a, threads) = run();
        let (r2, b, _) = run();
        assert_eq!(r1, r2, "seed {seed}");
        if a != b {
            let (i, (x, y)) = a
                .lines()
                .zip(b.lines())
                .enumerate()
                .find(|(_, (x, y))| x != y)
                .unwrap_or((0, ("(length)", "(length)")));
            panic!("seed {seed}: traces differ at event {i}:\n  {x}\n  {y}");
        }
        assert_eq!(threads, 4, "seed {seed}: four threads make calls");
        traces.insert(a);
        outcomes.insert(r1);
    }
    assert!(
        traces.len() >= 2,
        "200 seeds gave {} interleavings",
        traces.len()
    );
    assert_eq!(outcomes.len(), 2, "the seed decides the race: {outcomes:?}");
}

// ---------------------------------------------------------------------------------------------
// TH-4

#[test]
fn th_4_deadlock_in_join_is_reported_not_hung() {
    let sim = Sim::builder().seed(4242).build();
    let p = sim.localhost().process("app");
    let ids = Mutex::new(None);
    let msg = panics(|| {
        p.run(|| unsafe {
            startup_2_2();
            let (_l1, _c1, s1) = local_pair(7000);
            let (_l2, _c2, s2) = local_pair(7001);
            let a = thread::spawn(move || recv_result(s1));
            let b = thread::spawn(move || recv_result(s2));
            *ids.lock().unwrap() = Some((thread::current(), a.id(), b.id(), s1, s2));
            SleepEx(25, FALSE);
            a.join()
        })
    });
    let (main, a, b, s1, s2) = ids.lock().unwrap().expect("the program ran");
    assert!(msg.contains("deadlock"), "{msg}");
    assert!(msg.contains("seed 4242"), "{msg}");
    assert!(sim.now() >= Duration::from_millis(25));
    assert!(
        msg.contains(&format!("deadlock at {:?} of virtual time", sim.now())),
        "{msg}"
    );
    for (t, s) in [(a, s1), (b, s2)] {
        let line = msg
            .lines()
            .find(|l| l.contains(&format!("thread {t} ")))
            .unwrap_or_else(|| panic!("thread {t} is listed: {msg}"));
        assert!(line.contains("blocked in recv("), "{line}");
        assert!(line.contains(&format!("on socket {s:#x}")), "{line}");
    }
    assert!(msg.contains(&format!("thread {main} ")), "{msg}");
    assert!(msg.contains(&format!("join(thread {a})")), "{msg}");
}

#[test]
fn th_4_sim_run_from_outside_reports_a_thread_blocked_for_ever() {
    let sim = Sim::builder().seed(99).build();
    let p = sim.localhost().process("app");
    let s = p.run(|| {
        startup_2_2();
        local_pair(7000).2
    });
    sim.run(); // nothing blocked: no report
    let h = p.spawn(move || recv_result(s));
    let id = h.id();
    let msg = panics(|| sim.run());
    assert!(msg.contains("deadlock"), "{msg}");
    assert!(msg.contains("seed 99"), "{msg}");
    assert!(msg.contains(&format!("{:?}", sim.now())), "{msg}");
    let line = msg
        .lines()
        .find(|l| l.contains(&format!("thread {id} ")))
        .unwrap_or_else(|| panic!("thread {id} is listed: {msg}"));
    assert!(line.contains("blocked in recv("), "{line}");
    assert!(h.is_finished(), "the blocked thread was terminated");
    let msg = panics(|| h.join());
    assert!(
        msg.contains("terminated") && msg.contains("seed 99"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------
// TH-6

/// Set for the child processes that run the helper tests below.
const CHILD_ENV: &str = "WS2SIM_THREADS_TEST_CHILD";

/// Runs the helper test `name` of this test binary in a child process, with `WS2SIM_SEED`
/// set to `seed` (or unset).
fn run_child(name: &str, seed: Option<&str>) -> Output {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env(CHILD_ENV, "1");
    match seed {
        Some(s) => cmd.env(SEED_ENV, s),
        None => cmd.env_remove(SEED_ENV),
    };
    cmd.output().expect("the child test process runs")
}

/// What follows `prefix` on the lines of `out` that contain it (libtest may print its own
/// "test ... " before the first line a test prints).
fn tagged(out: &[u8], prefix: &str) -> Vec<String> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| Some(l[l.find(prefix)? + prefix.len()..].to_owned()))
        .collect()
}

#[test]
#[ignore = "helper: run in a child process by th_6_ws2sim_seed_gives_the_default_seed"]
fn th_6_helper_prints_seed_and_trace() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let sim = Sim::new();
    println!("TH6 seed={}", sim.seed());
    println!("TH6 override={}", Sim::builder().seed(7).build().seed());
    race_program(&sim);
    for line in sim.trace().to_json_lines().lines() {
        println!("TH6 trace {line}");
    }
}

#[test]
#[ignore = "helper: run in a child process by th_6_a_failing_test_prints_its_seed"]
fn th_6_helper_fails_with_a_deadlock() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let sim = Sim::new();
    let p = sim.localhost().process("app");
    p.run(|| {
        startup_2_2();
        let (_l, _c, s) = local_pair(7000);
        recv_result(s)
    });
}

#[test]
fn th_6_ws2sim_seed_gives_the_default_seed() {
    let out = run_child("th_6_helper_prints_seed_and_trace", Some("424242"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tagged(&out.stdout, "TH6 seed="), ["424242"]);
    assert_eq!(
        tagged(&out.stdout, "TH6 override="),
        ["7"],
        "the builder's seed wins"
    );
    // Re-running with the seed reproduces the run.
    let sim = Sim::builder().seed(424242).build();
    race_program(&sim);
    let expected: Vec<String> = sim
        .trace()
        .to_json_lines()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(tagged(&out.stdout, "TH6 trace "), expected);

    let out = run_child("th_6_helper_prints_seed_and_trace", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        tagged(&out.stdout, "TH6 seed="),
        ["0"],
        "no WS2SIM_SEED: seed 0"
    );

    assert_eq!(Sim::builder().seed(5).build().seed(), 5);
}

#[test]
fn th_6_a_failing_test_prints_its_seed() {
    let out = run_child("th_6_helper_fails_with_a_deadlock", Some("31337"));
    assert!(!out.status.success(), "the helper test fails");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("seed 31337"), "{all}");
    assert!(all.contains("deadlock"), "{all}");
}

/// Starts a process with a thread blocked in recv and one that never ran; ends the process
/// with `end`; both joins panic naming the termination and the seed.
fn ended_process_terminates_its_threads(end: fn(&ws2sim::Process)) {
    let sim = Sim::builder().seed(31).build();
    let p = sim.localhost().process("app");
    let (blocked, never_ran) = p.run(|| {
        startup_2_2();
        let (_l, _c, s) = local_pair(7000);
        let blocked = thread::spawn(move || recv_result(s));
        sim.run();
        assert!(!blocked.is_finished());
        (blocked, thread::spawn(|| 5))
    });
    end(&p);
    assert!(!p.is_running());
    assert!(blocked.is_finished() && never_ran.is_finished());
    for msg in [panics(|| blocked.join()), panics(|| never_ran.join())] {
        assert!(msg.contains("terminated"), "{msg}");
        assert!(msg.contains("seed 31"), "{msg}");
    }
    let msg = panics(|| p.run(|| ()));
    assert!(msg.contains("ended") && msg.contains("seed 31"), "{msg}");
    let msg = panics(|| p.spawn(|| ()));
    assert!(msg.contains("ended") && msg.contains("seed 31"), "{msg}");
    // The simulation goes on: another process runs normally.
    let q = sim.localhost().process("next");
    let h = q.spawn(|| {
        startup_2_2();
        unsafe { WSACleanup() }
    });
    assert_eq!(h.join(), 0);
    assert_eq!(p.live_resources(), 0);
}

#[test]
fn th_6_kill_terminates_the_process_threads() {
    ended_process_terminates_its_threads(|p| p.kill());
}

#[test]
fn th_6_exit_terminates_the_process_threads() {
    ended_process_terminates_its_threads(|p| p.exit());
}

/// A blocking 4-byte `recv` on `s`, for which nothing will ever arrive: its return value.
unsafe fn recv_what_never_comes(s: SOCKET) -> i32 {
    let mut b = [0u8; 4];
    recv(s, b.as_mut_ptr(), 4, 0)
}

/// TH-4 (never hang): simulated threads still parked when the last handle of their
/// simulation goes are terminated, so their OS threads end instead of waiting for ever.
#[test]
fn th_4_dropping_the_sim_ends_its_parked_threads() {
    let (alive_tx, alive_rx) = std::sync::mpsc::channel::<()>();
    {
        let sim = Sim::new();
        let p = sim.localhost().process("app");
        p.run(|| unsafe {
            assert_eq!(startup(0x0202), 0);
            let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
            let h = ws2sim::thread::spawn(move || {
                let _alive = alive_tx; // dropped when this thread ends, however it ends
                recv_what_never_comes(s)
            });
            // Let the thread run until it blocks; then walk away from it.
            ws2sim::thread::sleep(Duration::from_millis(1));
            drop(h);
        });
    }
    // The thread's OS thread ended: its end of the channel is gone.
    let r = alive_rx.recv_timeout(Duration::from_secs(10));
    assert_eq!(r, Err(std::sync::mpsc::RecvTimeoutError::Disconnected));
}

/// TH-2: a simulation runs one simulated thread at a time; a second OS thread entering it
/// while it runs is refused with a clear message instead of breaking determinism.
#[test]
fn th_2_a_sim_is_driven_from_one_os_thread_at_a_time() {
    let sim = Sim::builder().seed(77).build();
    let p = sim.localhost().process("a");
    let q = sim.localhost().process("b");
    let err = p.run(|| {
        std::thread::scope(|scope| {
            scope
                .spawn(|| q.run(|| ()))
                .join()
                .expect_err("a second OS thread must not enter a running simulation")
        })
    });
    let msg = panic_message(err);
    assert!(
        msg.contains("already running on another OS thread"),
        "{msg}"
    );
    assert!(msg.contains("seed 77"), "{msg}");
    // The simulation is still usable from its own thread afterwards.
    assert_eq!(q.run(|| 5), 5);
}

/// TH-4: after a deadlock report is caught, the thread that was blocked is not left "inside"
/// its blocking call: its next calls are ordinary ones (no WSAEINPROGRESS, no SD-13).
#[test]
fn th_4_a_caught_deadlock_leaves_no_blocking_call_behind() {
    let sim = Sim::builder().seed(5).build();
    let p = sim.localhost().process("app");
    let s = p.run(|| unsafe {
        assert_eq!(startup(0x0101), 0); // Winsock 1.1: a nested call would fail WSAEINPROGRESS
        socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP)
    });
    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        p.run(|| unsafe { recv_what_never_comes(s) })
    }))
    .expect_err("a recv nobody can satisfy is a deadlock");
    let msg = panic_message(report);
    assert!(msg.contains("deadlock") && msg.contains("seed 5"), "{msg}");
    p.run(|| unsafe {
        assert_eq!(WSAIsBlocking(), FALSE);
        let t = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
        assert_ne!(t, INVALID_SOCKET, "error {}", WSAGetLastError());
        assert_eq!(closesocket(t), 0);
    });
    assert!(sim.diagnostics().is_empty());
}

/// TH-10: after `Sim::advance(Duration::MAX)` every call that adds a delay to "now" still
/// answers as it would earlier in time; nothing overflows.
#[test]
fn th_10_delays_after_the_end_of_virtual_time_saturate() {
    let (sim, p) = app();
    sim.advance(Duration::MAX);
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.now(), Duration::MAX);
    p.run(|| unsafe {
        assert_eq!(startup(0x0202), 0);
        // A datagram's arrival time.
        let rx = udp_bound(&sockaddr(LOCAL, 7100));
        assert_eq!(send_to(udp(), b"x", &sockaddr(LOCAL, 7100)), 1);
        assert_eq!(recv_n(rx, 8, 0), (1, b"x".to_vec()));
        // Timeouts of waits.
        assert_eq!(SleepEx(5, FALSE), 0);
        thread::sleep(Duration::from_millis(5));
        let e = event();
        assert_eq!(wait_one(e, 5), WSA_WAIT_TIMEOUT);
        let mut read = FD_SET {
            fd_count: 1,
            fd_array: [rx; 64],
        };
        let tv = TIMEVAL {
            tv_sec: 0,
            tv_usec: 5_000,
        };
        let n = select(
            0,
            &mut read,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &tv,
        );
        assert_eq!((n, read.fd_count), (0, 0));
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 0);
        let (mut n, mut key, mut ov) = (0u32, 0usize, std::ptr::null_mut());
        let r = GetQueuedCompletionStatus(port, &mut n, &mut key, &mut ov, 5);
        assert_eq!((r, err()), (FALSE, WAIT_TIMEOUT));
        // A connection attempt to nobody times out; a real one connects and carries data.
        let nobody = sockaddr(std::net::Ipv4Addr::new(10, 9, 9, 9), 80);
        let s = tcp();
        let r = connect(s, name_ptr(&nobody), 16);
        assert_eq!((r, err()), (SOCKET_ERROR, WSAETIMEDOUT));
        let (_l, c, a) = local_pair(7101);
        assert_eq!(send_bytes(c, b"abc"), 3);
        assert_eq!(recv_n(a, 8, 0), (3, b"abc".to_vec()));
        // A linger timeout.
        set_linger(c, 1, 5);
        assert_eq!(send_bytes(c, b"def"), 3);
        assert_eq!(closesocket(c), 0);
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!(sim.now(), Duration::MAX);
}

/// TH-10: `Sim::advance` from another OS thread while a simulated thread runs is refused, as
/// `Process::run` is: time never jumps under a running thread.
#[test]
fn th_10_advance_from_another_os_thread_while_a_thread_runs_is_refused() {
    let (sim, p) = app();
    let before = p.run(|| {
        let t0 = sim.now();
        let other = sim.clone();
        let refused = std::thread::spawn(move || other.advance(Duration::from_secs(3600)))
            .join()
            .expect_err("advance must refuse");
        let msg = panic_message(refused);
        assert!(
            msg.contains("already running on another OS thread"),
            "{msg}"
        );
        assert!(msg.contains("seed"), "{msg}");
        assert_eq!(sim.now(), t0, "time did not move under the running thread");
        t0
    });
    // Outside any run it is the driver's call.
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.now(), before + Duration::from_secs(1));
}

/// TH-8: a thread polling a non-blocking socket while time stands still makes time jump to
/// the next delivery once it made the spin limit of calls.
#[test]
fn th_8_spinning_threads_jump_to_the_next_delivery() {
    let sim = Sim::builder().spin_limit(100).build();
    let p = sim.localhost().process("app");
    let (tries, got) = p.run(|| {
        assert_eq!(startup(0x0202), 0);
        let rx = udp_bound(&sockaddr(LOCAL, 7200));
        set_nonblocking(rx, true);
        assert_eq!(send_to(udp(), b"ping", &sockaddr(LOCAL, 7200)), 4);
        let mut tries = 0;
        let got = loop {
            tries += 1;
            match recv_n(rx, 8, 0) {
                (4, data) => break data,
                (SOCKET_ERROR, _) if err() == WSAEWOULDBLOCK && tries < 1_000 => {}
                other => panic!("after {tries} tries: {other:?}, error {}", err()),
            }
        };
        (tries, got)
    });
    assert_eq!(got, b"ping");
    // Time jumped to the arrival (1 ms) once the thread had polled for nothing 100 times.
    assert_eq!(sim.now(), DEFAULT_LATENCY);
    assert_eq!(tries, 101);
}

/// TH-8: spinning with nothing pending is a livelock, reported with the threads' last calls
/// and the seed instead of running for ever.
#[test]
fn th_8_spinning_with_nothing_pending_is_reported_as_a_livelock() {
    let sim = Sim::builder().seed(42).spin_limit(100).build();
    let p = sim.localhost().process("app");
    let msg = panics(|| {
        p.run(|| {
            assert_eq!(startup(0x0202), 0);
            let rx = udp_bound(&sockaddr(LOCAL, 7201));
            set_nonblocking(rx, true);
            for _ in 0..1_000 {
                assert_eq!(recv_n(rx, 8, 0).0, SOCKET_ERROR);
            }
        })
    });
    assert!(msg.contains("livelock"), "{msg}");
    assert!(msg.contains("(TH-8)"), "{msg}");
    assert!(
        msg.contains("seed 42") && msg.contains("WS2SIM_SEED=42"),
        "{msg}"
    );
    assert!(msg.contains("100 polls, the last recv"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// TH-6, TH-7: panics

#[test]
#[ignore = "helper: run in a child process by th_6_a_user_assertion_prints_its_seed"]
fn th_6_helper_fails_with_a_user_assertion() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let sim = Sim::new();
    sim.localhost()
        .process("app")
        .run(|| assert_eq!(startup(0x0202), 1, "the user's own assertion"));
}

#[test]
fn th_6_a_user_assertion_prints_its_seed() {
    let out = run_child("th_6_helper_fails_with_a_user_assertion", Some("2718"));
    assert!(!out.status.success(), "the helper test fails");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the user's own assertion"), "{err}");
    assert!(
        err.contains("process \"app\" panicked (seed 2718; replay with WS2SIM_SEED=2718)"),
        "{err}"
    );
}

#[test]
fn th_7_join_re_raises_a_thread_panic_with_the_thread_and_seed() {
    let sim = Sim::builder().seed(77).build();
    let p = sim.localhost().process("app");
    let h = p.spawn(|| -> u32 { panic!("boom in a thread") });
    let id = h.id();
    let msg = panics(|| h.join());
    assert!(
        msg.contains(&format!("thread {id} panicked: boom in a thread")),
        "{msg}"
    );
    assert!(
        msg.contains("seed 77") && msg.contains("WS2SIM_SEED=77"),
        "{msg}"
    );
    sim.run(); // joined: reported once, nothing left to raise
}

#[test]
fn th_7_an_unjoined_panic_fails_the_next_run_and_try_run_returns_it() {
    let sim = Sim::builder().seed(78).build();
    let p = sim.localhost().process("app");
    let h = p.spawn(|| -> u32 { panic!("nobody joins me") });
    let id = h.id();
    assert_eq!(
        sim.try_run(),
        Err(SimError::Panicked {
            thread: id,
            process: "app".into(),
            message: "nobody joins me".into(),
            seed: 78,
        })
    );
    assert_eq!(sim.try_run(), Ok(()), "raised once");
    // The same through Sim::run and Process::run.
    let _h2 = p.spawn(|| -> u32 { panic!("second") });
    let msg = panics(|| sim.run());
    assert!(
        msg.contains("panicked: second") && msg.contains("seed 78"),
        "{msg}"
    );
    let _h3 = p.spawn(|| -> u32 { panic!("third") });
    let msg = panics(|| p.run(|| thread::sleep(Duration::from_millis(1))));
    assert!(msg.contains("panicked: third"), "{msg}");
}

#[test]
fn th_7_a_deadlock_report_names_the_thread_that_panicked() {
    let sim = Sim::builder().seed(79).build();
    let p = sim.localhost().process("app");
    let s = p.run(|| {
        startup_2_2();
        local_pair(7300).2
    });
    let _blocked = p.spawn(move || recv_result(s));
    let _panics = p.spawn(|| -> u32 { panic!("it fell over") });
    match sim.try_run() {
        Err(SimError::Deadlock { report, seed: 79 }) => {
            assert!(report.contains("blocked in recv("), "{report}");
            assert!(report.contains("panicked: it fell over"), "{report}");
        }
        other => panic!("expected a deadlock report, got {other:?}"),
    }
}

#[test]
fn th_7_dropping_the_sim_raises_a_panic_nobody_saw() {
    let msg = panics(|| {
        let sim = Sim::builder().seed(80).build();
        let p = sim.localhost().process("app");
        // The thread panics while Process::run itself fails, so neither reports it ...
        let first = catch_unwind(AssertUnwindSafe(|| {
            p.run(|| {
                let _h = thread::spawn(|| -> u32 { panic!("unseen") });
                thread::sleep(Duration::from_millis(1));
                panic!("the test's own failure");
            })
        }));
        assert!(first.is_err());
        // ... and the last handle's drop does.
        drop(p);
        drop(sim);
    });
    assert!(
        msg.contains("panicked: unseen") && msg.contains("seed 80"),
        "{msg}"
    );
}

#[test]
fn th_7_winsock_from_a_plain_os_thread_points_at_thread_spawn() {
    let payload = std::thread::spawn(|| unsafe { WSAGetLastError() })
        .join()
        .expect_err("no simulated thread: a panic");
    let msg = panic_message(payload);
    assert!(msg.contains("ws2sim::thread::spawn"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// TH-9: ending a thread never unwinds through a user's extern "system" callback. Each case
// runs in a child process: before the fix, the unwind aborted the whole test binary.

unsafe extern "system" fn th9_sleeping_routine(_: u32, _: u32, _: *mut OVERLAPPED, _: u32) {
    // Blocks for ever: nothing will wake it.
    SleepEx(WSA_INFINITE, FALSE);
}

unsafe extern "system" fn th9_sleeping_hook() -> isize {
    SleepEx(WSA_INFINITE, FALSE);
    0
}

/// A UDP socket with an overlapped WSARecv whose routine blocks for ever, and a datagram on
/// its way to complete it.
unsafe fn th9_routine_armed(port: u16) -> (SOCKET, Box<OVERLAPPED>, Box<[u8; 8]>) {
    let at = sockaddr(LOCAL, port);
    let s = udp_bound(&at);
    let mut buf = Box::new([0u8; 8]);
    let wsabuf = WSABUF {
        len: 8,
        buf: buf.as_mut_ptr(),
    };
    let mut ov: Box<OVERLAPPED> = Box::default();
    let mut flags = 0u32;
    let r = WSARecv(
        s,
        &wsabuf,
        1,
        std::ptr::null_mut(),
        &mut flags,
        &mut *ov,
        Some(th9_sleeping_routine),
    );
    assert_eq!((r, err()), (SOCKET_ERROR, WSA_IO_PENDING));
    assert_eq!(send_to(udp(), b"x", &at), 1);
    (s, ov, buf)
}

#[test]
#[ignore = "helper: run in a child process by th_9_a_deadlock_inside_a_routine_is_reported"]
fn th_9_helper_deadlock_inside_a_routine() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let sim = Sim::new();
    sim.localhost().process("app").run(|| unsafe {
        startup_2_2();
        let _armed = th9_routine_armed(7001);
        SleepEx(WSA_INFINITE, TRUE);
    });
}

#[test]
fn th_9_a_deadlock_inside_a_routine_is_reported() {
    let out = run_child("th_9_helper_deadlock_inside_a_routine", Some("909"));
    // A test failure (exit code 101), not an abort by signal.
    assert_eq!(out.status.code(), Some(101), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("deadlock") && err.contains("seed 909"),
        "{err}"
    );
    assert!(err.contains("blocked in SleepEx"), "{err}");
}

#[test]
#[ignore = "helper: run in a child process by th_9_a_deadlock_inside_a_blocking_hook_is_reported"]
fn th_9_helper_deadlock_inside_a_hook() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let sim = Sim::new();
    sim.localhost().process("app").run(|| unsafe {
        assert_eq!(startup(0x0101), 0);
        let (_l, _c, s) = local_pair(7002);
        assert!(WSASetBlockingHook(Some(th9_sleeping_hook)).is_none());
        recv_result(s)
    });
}

#[test]
fn th_9_a_deadlock_inside_a_blocking_hook_is_reported() {
    let out = run_child("th_9_helper_deadlock_inside_a_hook", Some("910"));
    assert_eq!(out.status.code(), Some(101), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("deadlock") && err.contains("seed 910"),
        "{err}"
    );
}

#[test]
#[ignore = "helper: run in a child process by th_9_killing_a_thread_inside_a_routine_ends_it"]
fn th_9_helper_kill_inside_a_routine() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let sim = Sim::new();
    let p = sim.localhost().process("app");
    let h = p.spawn(|| unsafe {
        startup_2_2();
        let _armed = th9_routine_armed(7003);
        SleepEx(WSA_INFINITE, TRUE);
    });
    let other = sim.localhost().process("other");
    other.run(|| thread::sleep(Duration::from_millis(5))); // the routine is now blocked
    p.kill();
    let msg = panics(|| h.join());
    assert!(msg.contains("terminated"), "{msg}");
    println!("TH9 killed cleanly");
}

#[test]
fn th_9_killing_a_thread_inside_a_routine_ends_it() {
    let out = run_child("th_9_helper_kill_inside_a_routine", None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(tagged(&out.stdout, "TH9 "), ["killed cleanly"]);
}

/// TH-9: what ending threads changes happens at the scheduling point that ends them: a final
/// WSACleanup after a caught deadlock sees the same state (no blocked call left to interrupt,
/// so no CL-4) whether or not the ended thread's OS thread has finished unwinding yet.
#[test]
fn th_9_ending_threads_changes_state_at_the_scheduling_point() {
    let run = |join_first: bool| {
        let sim = Sim::builder().seed(913).build();
        let p = sim.localhost().process("app");
        let s = p.run(|| {
            startup_2_2();
            local_pair(7310).2
        });
        let blocked = p.spawn(move || recv_result(s));
        assert!(matches!(sim.try_run(), Err(SimError::Deadlock { .. })));
        if join_first {
            // Waits for the ended thread's OS thread to finish unwinding.
            assert!(panics(|| blocked.join()).contains("terminated"));
            p.run(|| assert_eq!(unsafe { WSACleanup() }, 0));
        } else {
            p.run(|| assert_eq!(unsafe { WSACleanup() }, 0));
            assert!(panics(|| blocked.join()).contains("terminated"));
        }
        let cleanup = events_of(&sim, "WSACleanup", &p);
        assert_eq!(cleanup.len(), 1);
        assert!(!cleanup[0].rules.contains(&Rule::Cl4), "{}", cleanup[0]);
        sim.trace().to_json_lines()
    };
    assert_eq!(run(false), run(true));
}

/// KW-1: kernel32's GetLastError/SetLastError and Winsock's WSAGetLastError/WSASetLastError
/// share one slot per thread, without WSAStartup, and a failed Winsock call is seen by both.
#[test]
fn kw_1_get_and_set_last_error_share_the_winsock_slot() {
    let (sim, p) = app();
    p.run(|| unsafe {
        SetLastError(1234);
        assert_eq!((GetLastError(), WSAGetLastError()), (1234, 1234));
        WSASetLastError(WSAEWOULDBLOCK);
        assert_eq!(GetLastError(), WSAEWOULDBLOCK as u32);
        assert_eq!(closesocket(0x4242), SOCKET_ERROR); // WSANOTINITIALISED: no startup
        assert_eq!(GetLastError(), WSANOTINITIALISED as u32);
        // Per thread.
        let other = thread::spawn(|| GetLastError());
        assert_eq!(other.join(), 0);
        assert_eq!(GetLastError(), WSANOTINITIALISED as u32);
    });
    let ev = &events_of(&sim, "GetLastError", &p)[0];
    assert_eq!(ev.result, "1234");
    assert!(ev.rules.contains(&Rule::Kw1), "{ev}");
}

/// DU-2: SetHandleInformation / GetHandleInformation store HANDLE_FLAG_INHERIT and
/// HANDLE_FLAG_PROTECT_FROM_CLOSE on a socket; a bad handle fails ERROR_INVALID_HANDLE (6).
#[test]
fn du_2_handle_information_round_trips_and_a_bad_handle_fails_6() {
    let (sim, p) = app();
    p.run(|| unsafe {
        // Before WSAStartup no handle is a socket.
        assert_eq!(
            SetHandleInformation(0x1000 as HANDLE, HANDLE_FLAG_INHERIT, 0),
            FALSE
        );
        assert_eq!(GetLastError(), 6);
        startup_2_2();
        let s = tcp() as HANDLE;
        let flags = |h| {
            let mut f = 0xdead_u32;
            (GetHandleInformation(h, &mut f), f)
        };
        // A new socket's handle is inheritable (WSASocketW's reference).
        assert_eq!(flags(s), (TRUE, HANDLE_FLAG_INHERIT));
        let both = HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE;
        assert_eq!(SetHandleInformation(s, both, both), TRUE);
        assert_eq!(flags(s), (TRUE, both));
        // Only the masked flags change; unknown bits are ignored.
        assert_eq!(
            SetHandleInformation(s, HANDLE_FLAG_INHERIT | 0x80, 0x80),
            TRUE
        );
        assert_eq!(flags(s), (TRUE, HANDLE_FLAG_PROTECT_FROM_CLOSE));
        // NULL lpdwFlags: ERROR_INVALID_PARAMETER.
        WSASetLastError(0);
        assert_eq!(GetHandleInformation(s, std::ptr::null_mut()), FALSE);
        assert_eq!(GetLastError(), 87);
        // A closed socket is a bad handle.
        assert_eq!(closesocket(s as SOCKET), 0);
        assert_eq!(flags(s), (FALSE, 0xdead));
        assert_eq!(GetLastError(), 6);
        assert_eq!(WSACleanup(), 0);
    });
    let ev = &events_of(&sim, "SetHandleInformation", &p)[1];
    assert!(ev.rules.contains(&Rule::Du2), "{ev}");
}

/// DU-2: "a socket handle created by the WSASocket or the socket function is inheritable by
/// default" (Microsoft's WSASocketW reference) unless WSA_FLAG_NO_HANDLE_INHERIT is given;
/// an accepted socket takes its listener's flags.
#[test]
fn du_2_new_sockets_are_inheritable_unless_wsa_flag_no_handle_inherit() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let flags = |s: SOCKET| {
            let mut f = 0xdead_u32;
            (GetHandleInformation(s as HANDLE, &mut f), f)
        };
        let plain = udp();
        assert_eq!(flags(plain), (TRUE, HANDLE_FLAG_INHERIT));
        let overlapped = WSASocketW(
            AF_INET.into(),
            SOCK_STREAM,
            IPPROTO_TCP,
            std::ptr::null(),
            0,
            WSA_FLAG_OVERLAPPED,
        );
        assert_eq!(flags(overlapped), (TRUE, HANDLE_FLAG_INHERIT));
        let private = WSASocketW(
            AF_INET.into(),
            SOCK_STREAM,
            IPPROTO_TCP,
            std::ptr::null(),
            0,
            WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT,
        );
        assert_eq!(flags(private), (TRUE, 0));
        // Accepted from a non-inheritable listener: non-inheritable too.
        let addr = sockaddr(std::net::Ipv4Addr::LOCALHOST, 7600);
        assert_eq!(bind(private, name_ptr(&addr), 16), 0);
        assert_eq!(listen(private, 1), 0);
        let c = tcp();
        assert_eq!(connect(c, name_ptr(&addr), 16), 0);
        let a = accept(private, std::ptr::null_mut(), std::ptr::null_mut());
        assert_ne!(a, INVALID_SOCKET);
        assert_eq!(flags(a), (TRUE, 0));
        assert_eq!(flags(c), (TRUE, HANDLE_FLAG_INHERIT));
        assert_eq!(WSACleanup(), 0);
    });
}

/// KW-3: Sleep, the tick counts, the performance counter and the system time all read
/// virtual time: a 1.5 s sleep moves each by exactly 1.5 s of its unit, without WSAStartup.
#[test]
fn kw_3_kernel32_clocks_read_virtual_time() {
    let (sim, p) = app();
    sim.advance(Duration::from_millis(250));
    p.run(|| unsafe {
        let counter = || {
            let mut c = -1i64;
            assert_eq!(QueryPerformanceCounter(&mut c), TRUE);
            c
        };
        let filetime = || {
            let mut ft = FILETIME::default();
            GetSystemTimeAsFileTime(&mut ft);
            (u64::from(ft.dwHighDateTime) << 32) | u64::from(ft.dwLowDateTime)
        };
        assert_eq!((GetTickCount(), GetTickCount64()), (250, 250));
        assert_eq!(counter(), 2_500_000);
        // 2000-01-01 00:00:00 UTC plus the 250 ms.
        assert_eq!(filetime(), 125_911_584_000_000_000 + 2_500_000);
        let mut f = 0i64;
        assert_eq!(QueryPerformanceFrequency(&mut f), TRUE);
        assert_eq!(f, 10_000_000);
        Sleep(1500);
        assert_eq!((GetTickCount(), GetTickCount64()), (1750, 1750));
        assert_eq!(counter(), 17_500_000);
        assert_eq!(filetime(), 125_911_584_000_000_000 + 17_500_000);
        assert_eq!(QueryPerformanceCounter(std::ptr::null_mut()), FALSE);
    });
    assert_eq!(sim.now(), Duration::from_millis(1750));
    let ev = &events_of(&sim, "GetTickCount64", &p)[0];
    assert!(ev.rules.contains(&Rule::Kw3), "{ev}");
}

/// TH-4: `Process::try_run` returns a deadlock as `SimError::Deadlock` (the report names the
/// blocked call and the seed) instead of panicking; the closure's own panics still go through.
#[test]
fn th_4_try_run_returns_a_deadlock_and_lets_other_panics_through() {
    let sim = ws2sim::Sim::builder().seed(11).build();
    let app = sim.localhost().process("app");
    let r = app.try_run(|| unsafe {
        let mut d: ws2sim::sys::WSADATA = std::mem::zeroed();
        assert_eq!(ws2sim::sys::WSAStartup(0x0202, &mut d), 0);
        let s = ws2sim::sys::socket(2, ws2sim::sys::SOCK_DGRAM, ws2sim::sys::IPPROTO_UDP);
        let a = ws2sim::sys::SOCKADDR_IN::from(
            "127.0.0.1:9".parse::<std::net::SocketAddrV4>().unwrap(),
        );
        ws2sim::sys::bind(s, (&a as *const ws2sim::sys::SOCKADDR_IN).cast(), 16);
        let mut buf = [0u8; 4];
        ws2sim::sys::recv(s, buf.as_mut_ptr(), 4, 0)
    });
    match r {
        Err(ws2sim::SimError::Deadlock { report, seed: 11 }) => {
            assert!(report.contains("blocked in recv"), "{report}");
            assert!(report.contains("ws2sim (seed 11)"), "{report}");
        }
        other => panic!("expected a deadlock, got {other:?}"),
    }
    let other = sim.localhost().process("other");
    assert_eq!(other.try_run(|| 7), Ok(7));
    let own = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        other.try_run(|| panic!("the closure's own"))
    }));
    let payload = own.expect_err("the closure's panic goes through");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the closure's own"));
}
