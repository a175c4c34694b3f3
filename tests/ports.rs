//! EX-7 beyond `GetOverlappedResult`: `GetQueuedCompletionStatusEx` (batches, failed packets,
//! timeouts, alertable waits), `PostQueuedCompletionStatus` (user packets in order, waking a
//! worker), `CancelIo` (the calling thread's operations) and `CancelIoEx` (one, or all), and
//! `GetOverlappedResultEx` (a timeout, alertably). Results and Win32 codes are asserted
//! exactly.

use std::net::Ipv4Addr;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ws2sim::sys::*;

mod common;
use common::*;

const ERROR_INVALID_HANDLE: u32 = 6;
const ERROR_INVALID_PARAMETER: u32 = 87;
const ERROR_IO_INCOMPLETE: u32 = 996;
const ERROR_NOT_FOUND: u32 = 1168;

/// A UDP socket bound to 127.0.0.1:`port`.
fn udp_at(port: u16) -> SOCKET {
    udp_bound(&sockaddr(Ipv4Addr::LOCALHOST, port))
}

/// Starts an overlapped `WSARecv` of up to 8 bytes on `s` into leaked memory; returns its
/// `OVERLAPPED`.
unsafe fn recv_on(
    s: SOCKET,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> &'static mut OVERLAPPED {
    let data: &'static mut [u8; 8] = Box::leak(Box::new([0; 8]));
    let buf: &'static WSABUF = Box::leak(Box::new(WSABUF {
        len: 8,
        buf: data.as_mut_ptr(),
    }));
    let ov: &'static mut OVERLAPPED = Box::leak(Box::new(ov_with_event()));
    let mut flags = 0;
    let r = WSARecv(s, buf, 1, null_mut(), &mut flags, &mut *ov, routine);
    assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
    ov
}

/// Virtual time, from kernel32's clock.
fn now() -> Duration {
    Duration::from_millis(unsafe { GetTickCount64() })
}

fn dgram_to(port: u16, data: &[u8]) {
    let tx = udp();
    assert_eq!(
        send_to(tx, data, &sockaddr(Ipv4Addr::LOCALHOST, port)),
        data.len() as i32
    );
    unsafe { closesocket(tx) };
}

#[test]
fn ex_7_get_queued_completion_status_ex_dequeues_batches_with_failed_packets_as_true() {
    started(|| unsafe {
        let s = udp_at(7600);
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert_eq!(CreateIoCompletionPort(s as HANDLE, port, 3, 0), port);
        let ok_op = recv_on(s, None);
        let aborted = recv_on(s, None);
        dgram_to(7600, b"abc");
        assert_eq!(wait_one(ok_op.hEvent as WSAEVENT, 1000), SIGNALLED);
        assert_eq!(CancelIoEx(s as HANDLE, &*aborted), TRUE);
        assert_eq!(PostQueuedCompletionStatus(port, 77, 9, null()), TRUE);
        let mut e = [OVERLAPPED_ENTRY::default(); 2];
        let mut n = 0xdead;
        let r = GetQueuedCompletionStatusEx(port, e.as_mut_ptr(), 2, &mut n, 0, FALSE);
        assert_eq!((r, n), (TRUE, 2));
        let got: Vec<_> = e
            .iter()
            .map(|x| {
                (
                    x.lpCompletionKey,
                    x.lpOverlapped as usize,
                    x.Internal,
                    x.dwNumberOfBytesTransferred,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (3, ok_op as *mut OVERLAPPED as usize, 0, 3),
                (3, aborted as *mut OVERLAPPED as usize, STATUS_CANCELLED, 0),
            ]
        );
        let r = GetQueuedCompletionStatusEx(port, e.as_mut_ptr(), 2, &mut n, 0, FALSE);
        assert_eq!((r, n), (TRUE, 1), "the posted packet, last");
        assert_eq!(
            (
                e[0].lpCompletionKey,
                e[0].dwNumberOfBytesTransferred,
                e[0].lpOverlapped
            ),
            (9, 77, null_mut())
        );
        // Empty: a timeout in virtual time.
        let t0 = now();
        let r = GetQueuedCompletionStatusEx(port, e.as_mut_ptr(), 2, &mut n, 30, FALSE);
        assert_eq!((r, n, GetLastError()), (FALSE, 0, WAIT_TIMEOUT as u32));
        assert_eq!(now() - t0, Duration::from_millis(30));
        let r = GetQueuedCompletionStatusEx(port, e.as_mut_ptr(), 0, &mut n, 0, FALSE);
        assert_eq!(
            (r, GetLastError()),
            (FALSE, ERROR_INVALID_PARAMETER),
            "ulCount 0"
        );
        let r = GetQueuedCompletionStatusEx(port, null_mut(), 2, &mut n, 0, FALSE);
        assert_eq!(
            (r, GetLastError()),
            (FALSE, ERROR_INVALID_PARAMETER),
            "NULL array"
        );
        let r = GetQueuedCompletionStatusEx(0x4321 as HANDLE, e.as_mut_ptr(), 2, &mut n, 0, FALSE);
        assert_eq!((r, GetLastError()), (FALSE, ERROR_INVALID_HANDLE));
        let r = PostQueuedCompletionStatus(0x4321 as HANDLE, 0, 0, null());
        assert_eq!((r, GetLastError()), (FALSE, ERROR_INVALID_HANDLE));
        closesocket(s);
        assert_eq!(CloseHandle(port), TRUE);
    });
}

static ROUTINES: AtomicU32 = AtomicU32::new(0);

unsafe extern "system" fn count_routine(_: u32, _: u32, _: *mut OVERLAPPED, _: u32) {
    ROUTINES.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn ex_7_alertable_waits_return_wait_io_completion_once_routines_ran() {
    started(|| unsafe {
        let s = udp_at(7610);
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        let pending = recv_on(s, None);
        let with_routine = recv_on(s, Some(count_routine));
        let _ = with_routine;
        // The first datagram completes `pending`; the second the routine's operation.
        dgram_to(7610, b"1");
        dgram_to(7610, b"2");
        let before = ROUTINES.load(Ordering::SeqCst);
        let mut e = [OVERLAPPED_ENTRY::default(); 1];
        let mut n = 0;
        let r = GetQueuedCompletionStatusEx(port, e.as_mut_ptr(), 1, &mut n, WSA_INFINITE, TRUE);
        assert_eq!((r, n, GetLastError()), (FALSE, 0, WAIT_IO_COMPLETION));
        assert_eq!(ROUTINES.load(Ordering::SeqCst), before + 1);
        // GetOverlappedResultEx: at once, then with a timeout, then alertably.
        let later = recv_on(s, None);
        let mut bytes = 0;
        assert_eq!(
            GetOverlappedResultEx(s as HANDLE, &*later, &mut bytes, 0, FALSE),
            FALSE
        );
        assert_eq!(GetLastError(), ERROR_IO_INCOMPLETE);
        let t0 = now();
        assert_eq!(
            GetOverlappedResultEx(s as HANDLE, &*later, &mut bytes, 40, FALSE),
            FALSE
        );
        assert_eq!(GetLastError(), WAIT_TIMEOUT as u32);
        assert_eq!(now() - t0, Duration::from_millis(40));
        let _routine_op = recv_on(s, Some(count_routine));
        dgram_to(7610, b"3"); // completes `later`
        assert_eq!(
            GetOverlappedResultEx(s as HANDLE, &*later, &mut bytes, 40, TRUE),
            TRUE
        );
        assert_eq!(bytes, 1);
        dgram_to(7610, b"4"); // completes the routine's operation
        let other = recv_on(s, None);
        assert_eq!(
            GetOverlappedResultEx(s as HANDLE, &*other, &mut bytes, WSA_INFINITE, TRUE),
            FALSE
        );
        assert_eq!(GetLastError(), WAIT_IO_COMPLETION);
        assert_eq!(
            GetOverlappedResultEx(s as HANDLE, &*pending, &mut bytes, 0, FALSE),
            TRUE
        );
        assert_eq!(
            GetOverlappedResultEx(s as HANDLE, null(), &mut bytes, 0, FALSE),
            FALSE
        );
        assert_eq!(GetLastError(), ERROR_INVALID_PARAMETER);
        closesocket(s);
        assert_eq!(CloseHandle(port), TRUE);
    });
}

#[test]
fn ex_7_a_posted_packet_wakes_a_worker_waiting_on_the_port() {
    let (sim, p) = app();
    let port = p
        .run(|| unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0) as usize });
    let worker = p.spawn(move || unsafe {
        let mut e = [OVERLAPPED_ENTRY::default(); 4];
        let mut n = 0;
        let r = GetQueuedCompletionStatusEx(
            port as HANDLE,
            e.as_mut_ptr(),
            4,
            &mut n,
            WSA_INFINITE,
            FALSE,
        );
        (r, n, e[0].lpCompletionKey, now())
    });
    p.run(|| unsafe {
        SleepEx(25, FALSE);
        assert_eq!(
            PostQueuedCompletionStatus(port as HANDLE, 0, 0xE0F, null()),
            TRUE
        );
    });
    let (r, n, key, when) = worker.join();
    assert_eq!((r, n, key), (TRUE, 1, 0xE0F));
    assert_eq!(when, Duration::from_millis(25));
    drop(sim);
}

#[test]
fn ex_7_cancel_io_cancels_the_calling_threads_operations_cancel_io_ex_any() {
    let (_sim, p) = app();
    let s = p.run(|| {
        startup_2_2();
        udp_at(7620)
    });
    let mine = p.run(|| unsafe { recv_on(s, None) as *mut OVERLAPPED as usize });
    let theirs = p
        .spawn(move || unsafe { recv_on(s, None) as *mut OVERLAPPED as usize })
        .join();
    p.run(|| unsafe {
        let (mine, theirs) = (mine as *mut OVERLAPPED, theirs as *mut OVERLAPPED);
        assert_eq!(CancelIo(s as HANDLE), TRUE);
        assert_eq!((*mine).Internal, STATUS_CANCELLED);
        assert_eq!(wait_one((*mine).hEvent as WSAEVENT, 0), SIGNALLED);
        assert_eq!((*theirs).Internal, STATUS_PENDING, "another thread's");
        assert_eq!(
            CancelIo(s as HANDLE),
            TRUE,
            "nothing left of mine: still TRUE"
        );
        assert_eq!(CancelIoEx(s as HANDLE, null()), TRUE);
        assert_eq!((*theirs).Internal, STATUS_CANCELLED);
        let (mut n, mut flags) = (0, 0);
        assert_eq!(
            WSAGetOverlappedResult(s, theirs, &mut n, FALSE, &mut flags),
            FALSE
        );
        assert_eq!(WSAGetLastError(), WSA_OPERATION_ABORTED);
        assert_eq!(CancelIoEx(s as HANDLE, null()), FALSE);
        assert_eq!(GetLastError(), ERROR_NOT_FOUND);
        assert_eq!(CancelIoEx(s as HANDLE, theirs), FALSE);
        assert_eq!(GetLastError(), ERROR_NOT_FOUND);
        assert_eq!(CancelIo(0x4321 as HANDLE), FALSE);
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        assert_eq!(CancelIoEx(0x4321 as HANDLE, null()), FALSE);
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        closesocket(s);
    });
}

#[test]
fn cl_4_final_cleanup_leaves_a_kernel32_wait_on_a_port_alone() {
    let (_sim, p) = app();
    let port = p.run(|| unsafe {
        startup_2_2();
        CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0) as usize
    });
    let worker = p.spawn(move || unsafe {
        let (mut bytes, mut key, mut ov) = (0, 0, null_mut());
        let r =
            GetQueuedCompletionStatus(port as HANDLE, &mut bytes, &mut key, &mut ov, WSA_INFINITE);
        (r, key, GetLastError())
    });
    p.run(|| unsafe {
        SleepEx(5, FALSE); // the worker is waiting
        assert_eq!(WSACleanup(), 0);
        // GetQueuedCompletionStatus is no Winsock call: CL-4 does not cancel it.
        assert_eq!(
            PostQueuedCompletionStatus(port as HANDLE, 0, 42, null()),
            TRUE
        );
    });
    assert_eq!(worker.join(), (TRUE, 42, 0));
}
