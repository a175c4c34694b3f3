//! Overlapped I/O: SPEC rules OV-1..OV-8, and what closesocket (CS-6), the final cleanup (CL-5,
//! CL-8, seeds 000/001) and shutdown (SD-10) do to pending operations.
//!
//! Every operation's memory is an [`Op`]: its `OVERLAPPED` comes first, so the completion
//! routine finds the whole record from `lpOverlapped` (Windows' CONTAINING_RECORD idiom) and
//! records what it saw there. No test shares a static with another.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use ws2sim::sys::*;
use ws2sim::thread::ThreadId;
use ws2sim::{Process, Profile, Sim, WsaError};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Operation records and the completion routine.

/// What the completion routines of one test share: the order they ran in (by tag) and how
/// deeply they nested.
#[derive(Default)]
struct Log {
    order: Mutex<Vec<usize>>,
    depth: AtomicU32,
    max_depth: AtomicU32,
}

impl Log {
    fn order(&self) -> Vec<usize> {
        self.order.lock().unwrap().clone()
    }
}

/// The memory of one overlapped operation. `ov` must stay the first field.
#[repr(C)]
struct Op {
    ov: OVERLAPPED,
    wsabuf: WSABUF,
    buf: Box<[u8]>,
    /// Completion routine calls, and the arguments of the last one.
    calls: AtomicU32,
    error: AtomicU32,
    bytes: AtomicU32,
    flags: AtomicU32,
    thread: Mutex<Option<ThreadId>>,
    tag: usize,
    log: Arc<Log>,
    /// Run by the routine after it recorded its call.
    hook: Option<Box<dyn Fn() + Send + Sync>>,
}

/// An [`Op`] on the heap: it never moves, and it is freed only when the test drops it (after
/// the operation completed or was aborted).
struct OpBox(*mut Op);

impl OpBox {
    /// A receive buffer of `cap` bytes prefilled with 0xee.
    fn recv(cap: usize, tag: usize, log: &Arc<Log>) -> OpBox {
        OpBox::with(vec![0xee; cap], tag, log)
    }

    /// A send buffer holding `data`.
    fn send(data: &[u8], tag: usize, log: &Arc<Log>) -> OpBox {
        OpBox::with(data.to_vec(), tag, log)
    }

    fn with(data: Vec<u8>, tag: usize, log: &Arc<Log>) -> OpBox {
        let mut buf = data.into_boxed_slice();
        let wsabuf = WSABUF {
            len: buf.len() as u32,
            buf: buf.as_mut_ptr(),
        };
        OpBox(Box::into_raw(Box::new(Op {
            ov: OVERLAPPED::default(),
            wsabuf,
            buf,
            calls: AtomicU32::new(0),
            error: AtomicU32::new(0xdead),
            bytes: AtomicU32::new(0xdead),
            flags: AtomicU32::new(0xdead),
            thread: Mutex::new(None),
            tag,
            log: log.clone(),
            hook: None,
        })))
    }

    fn ptr(&self) -> *mut Op {
        self.0
    }

    fn ov(&self) -> *mut OVERLAPPED {
        self.0.cast()
    }

    fn addr(&self) -> usize {
        self.0 as usize
    }

    /// Sets what the routine runs after recording its call (before the operation starts).
    fn set_hook(&self, hook: impl Fn() + Send + Sync + 'static) {
        unsafe { (*self.0).hook = Some(Box::new(hook)) };
    }

    fn status(&self) -> OverlappedStatus {
        overlapped_status(unsafe { &(*self.0).ov })
    }

    fn calls(&self) -> u32 {
        unsafe { (*self.0).calls.load(SeqCst) }
    }

    /// The last routine call's (dwError, cbTransferred, dwFlags).
    fn routine_args(&self) -> (u32, u32, u32) {
        unsafe {
            (
                (*self.0).error.load(SeqCst),
                (*self.0).bytes.load(SeqCst),
                (*self.0).flags.load(SeqCst),
            )
        }
    }

    fn routine_thread(&self) -> Option<ThreadId> {
        unsafe { *(*self.0).thread.lock().unwrap() }
    }

    /// The first `n` bytes of the buffer.
    fn data(&self, n: usize) -> Vec<u8> {
        unsafe { (&(*self.0).buf)[..n].to_vec() }
    }
}

impl Drop for OpBox {
    fn drop(&mut self) {
        unsafe { drop(Box::from_raw(self.0)) };
    }
}

/// The completion routine: records its call in the [`Op`] that holds `lpoverlapped`. It must
/// not panic (it is `extern "system"`): tests assert on what it recorded.
unsafe extern "system" fn record(dwerror: u32, cb: u32, lpoverlapped: *mut OVERLAPPED, flags: u32) {
    let op = lpoverlapped.cast::<Op>().cast_const();
    let log = &(*op).log;
    let depth = log.depth.fetch_add(1, SeqCst) + 1;
    log.max_depth.fetch_max(depth, SeqCst);
    log.order.lock().unwrap().push((*op).tag);
    (*op).error.store(dwerror, SeqCst);
    (*op).bytes.store(cb, SeqCst);
    (*op).flags.store(flags, SeqCst);
    *(*op).thread.lock().unwrap() = Some(ws2sim::thread::current());
    (*op).calls.fetch_add(1, SeqCst);
    if let Some(hook) = &(*op).hook {
        hook();
    }
    log.depth.fetch_sub(1, SeqCst);
}

const ROUTINE: LPWSAOVERLAPPED_COMPLETION_ROUTINE = Some(record);
const NO_ROUTINE: LPWSAOVERLAPPED_COMPLETION_ROUTINE = None;
const NO_EVENT: WSAEVENT = 0;

/// How a WSASend/WSARecv call returned (OV-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Started {
    /// 0: completed at once with this many bytes.
    Now(u32),
    /// SOCKET_ERROR / WSA_IO_PENDING.
    Pending,
    /// SOCKET_ERROR with another error: never started.
    Failed(i32),
}

unsafe fn started(r: i32, n: u32) -> Started {
    match r {
        0 => Started::Now(n),
        SOCKET_ERROR => match WSAGetLastError() {
            WSA_IO_PENDING => Started::Pending,
            e => Started::Failed(e),
        },
        other => panic!("WSASend/WSARecv returned {other}"),
    }
}

/// Starts an operation on `op`: sets `hEvent = ev`, presets the last error to [`BEEF`] and
/// runs `call` with the op's one `WSABUF`, its `OVERLAPPED` and a byte count prefilled with
/// 0xdead; how the call returned.
unsafe fn start_op(
    op: *mut Op,
    ev: WSAEVENT,
    call: impl FnOnce(*const WSABUF, *mut OVERLAPPED, &mut u32) -> i32,
) -> Started {
    (*op).ov.hEvent = ev as HANDLE;
    let mut n = 0xdead_u32;
    WSASetLastError(BEEF);
    let r = call(
        std::ptr::addr_of!((*op).wsabuf),
        std::ptr::addr_of_mut!((*op).ov),
        &mut n,
    );
    started(r, n)
}

/// `WSARecv(s, op's buffer, &n, &flags, &op.ov, routine)` with `hEvent = ev`.
unsafe fn recv_op(
    s: SOCKET,
    op: *mut Op,
    ev: WSAEVENT,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> Started {
    let mut flags = 0u32;
    start_op(op, ev, |buf, ov, n| {
        WSARecv(s, buf, 1, n, &mut flags, ov, routine)
    })
}

/// `WSASend(s, op's buffer, &n, 0, &op.ov, routine)` with `hEvent = ev`.
unsafe fn send_op(
    s: SOCKET,
    op: *mut Op,
    ev: WSAEVENT,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> Started {
    start_op(op, ev, |buf, ov, n| WSASend(s, buf, 1, n, 0, ov, routine))
}

/// `DisconnectEx(s, &op.ov, 0, 0)` with `hEvent = ev` (EX-4): no data, no routine.
unsafe fn disconnect_op(s: SOCKET, op: *mut Op, ev: WSAEVENT) -> Started {
    start_op(op, ev, |_, ov, n| {
        if DisconnectEx(s, ov, 0, 0) == TRUE {
            *n = 0;
            0
        } else {
            SOCKET_ERROR
        }
    })
}

/// `WSARecvFrom` into the op's buffer, the sender into `from`.
unsafe fn recv_from_op(
    s: SOCKET,
    op: *mut Op,
    from: *mut SOCKADDR_IN,
    fromlen: *mut i32,
    ev: WSAEVENT,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> Started {
    let mut flags = 0u32;
    start_op(op, ev, |buf, ov, n| {
        WSARecvFrom(s, buf, 1, n, &mut flags, from.cast(), fromlen, ov, routine)
    })
}

// ---------------------------------------------------------------------------------------------
// Events, alertable waits and completion ports.

/// The event is signalled (a zero-timeout wait finds it).
fn is_set(e: WSAEVENT) -> bool {
    match wait_one(e, 0) {
        SIGNALLED => true,
        WSA_WAIT_TIMEOUT => false,
        other => panic!("WSAWaitForMultipleEvents returned {other:#x}"),
    }
}

/// `WSAWaitForMultipleEvents(1, &e, FALSE, timeout, TRUE)`.
fn wait_alertable(e: WSAEVENT, timeout: u32) -> u32 {
    let h = e as HANDLE;
    unsafe { WSAWaitForMultipleEvents(1, &h, FALSE, timeout, TRUE) }
}

/// `SleepEx(0, TRUE)` until it runs nothing: how many returned WAIT_IO_COMPLETION.
fn run_routines() -> u32 {
    let mut n = 0;
    while unsafe { SleepEx(0, TRUE) } == WAIT_IO_COMPLETION {
        n += 1;
        assert!(
            n < 1000,
            "SleepEx(0, TRUE) keeps returning WAIT_IO_COMPLETION"
        );
    }
    n
}

/// `CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0)`: a new port.
#[track_caller]
fn new_port() -> HANDLE {
    let port = unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 0) };
    assert!(!port.is_null(), "CreateIoCompletionPort made a port");
    port
}

/// Associates `s` with `port` under `key`; asserts the port is returned.
#[track_caller]
fn associate(s: SOCKET, port: HANDLE, key: usize) {
    let r = unsafe { CreateIoCompletionPort(s as HANDLE, port, key, 0) };
    assert_eq!(r, port, "CreateIoCompletionPort(socket, port, key)");
}

/// What `GetQueuedCompletionStatus` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dequeued {
    ok: BOOL,
    bytes: u32,
    key: usize,
    overlapped: usize,
    /// The last error after the call (preset to BEEF).
    error: i32,
}

/// `GetQueuedCompletionStatus(port, .., ms)` with every output prefilled.
fn dequeue(port: HANDLE, ms: u32) -> Dequeued {
    let (mut bytes, mut key) = (0xdead_u32, 0xdead_usize);
    let mut ov = std::ptr::without_provenance_mut::<OVERLAPPED>(0x1);
    unsafe {
        WSASetLastError(BEEF);
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut ov, ms);
        Dequeued {
            ok,
            bytes,
            key,
            overlapped: ov as usize,
            error: WSAGetLastError(),
        }
    }
}

/// Asserts the port has no packet: a zero timeout fails with WAIT_TIMEOUT and a NULL
/// `*lpOverlapped`.
#[track_caller]
fn assert_port_empty(port: HANDLE) {
    let d = dequeue(port, 0);
    assert_eq!(
        (d.ok, d.overlapped, d.error),
        (FALSE, 0, WAIT_TIMEOUT),
        "no packet queued: {d:?}"
    );
}

/// Every packet of the port (zero timeouts until none is left).
fn drain_port(port: HANDLE) -> Vec<Dequeued> {
    let mut out = Vec::new();
    loop {
        let d = dequeue(port, 0);
        if d.overlapped == 0 {
            assert_eq!((d.ok, d.error), (FALSE, WAIT_TIMEOUT), "{d:?}");
            return out;
        }
        out.push(d);
        assert!(out.len() < 10_000);
    }
}

/// `WSAGetOverlappedResult(s, ov, &n, wait, &flags)`: (return, n, last error).
unsafe fn get_result(s: SOCKET, ov: *const OVERLAPPED, wait: bool) -> (BOOL, u32, i32) {
    let (mut n, mut flags) = (0xdead_u32, 0xdead_u32);
    WSASetLastError(BEEF);
    let r = WSAGetOverlappedResult(s, ov, &mut n, if wait { TRUE } else { FALSE }, &mut flags);
    (r, n, WSAGetLastError())
}

/// The client resets the connection: linger on with timeout 0, then closesocket (CS-3).
fn reset_by_client(p: &Pair) {
    p.client.run(|| unsafe {
        set_linger(p.c, 1, 0);
        assert_eq!(closesocket(p.c), 0);
    });
}

/// A TCP connection with default buffers on `port`, in a new Sim of `profile`.
fn pair_in(profile: Profile, port: u16) -> Pair {
    let sim = Sim::builder().profile(profile).build();
    tcp_pair_with(&sim, port, |_| {})
}

/// A TCP connection with default buffers on `port` ([`pair_in`] of `Profile::Documented`),
/// and the [`Log`] its operations' routines share.
fn pair(port: u16) -> (Pair, Arc<Log>) {
    (pair_in(Profile::Documented, port), Arc::default())
}

/// `N` receive operations of 8 bytes, tagged `1..=N`.
fn recvs<const N: usize>(log: &Arc<Log>) -> [OpBox; N] {
    std::array::from_fn(|i| OpBox::recv(8, i + 1, log))
}

/// A connection on `port` whose server has "A" then "B" queued, and two 1-byte receives
/// tagged 1 and 2 to take them.
fn queued_a_b(port: u16) -> (Pair, Arc<Log>, OpBox, OpBox) {
    let (p, log) = pair(port);
    deliver(&p, &[b"A", b"B"]);
    let first = OpBox::recv(1, 1, &log);
    let second = OpBox::recv(1, 2, &log);
    (p, log, first, second)
}

/// The client sends each chunk in turn, then the network delivers everything in flight.
#[track_caller]
fn deliver(p: &Pair, chunks: &[&[u8]]) {
    p.client.run(|| {
        for chunk in chunks {
            send_all(p.c, chunk);
        }
    });
    p.sim.run();
}

/// How the socket of an aborted operation reports it.
const ABORTED: OverlappedStatus = OverlappedStatus::Failed(WsaError::OperationAborted);

/// The CS-6/CL-5 setup on the server: associates `s` with a new port under key 42, then posts
/// `a` as an event-mode and `b` as a routine-mode `WSARecv`; asserts both are pending and the
/// event is not set: (the port, the event).
#[track_caller]
unsafe fn post_on_port_42(s: SOCKET, a: &OpBox, b: &OpBox) -> (HANDLE, WSAEVENT) {
    let port = new_port();
    associate(s, port, 42);
    let e = event();
    assert_eq!(recv_op(s, a.ptr(), e, NO_ROUTINE), Started::Pending);
    assert_eq!(recv_op(s, b.ptr(), NO_EVENT, ROUTINE), Started::Pending);
    assert!(!is_set(e));
    (port, e)
}

// ---------------------------------------------------------------------------------------------
// OV-1

#[test]
fn ov_1_recv_with_data_queued_completes_at_once_and_still_notifies() {
    let (p, log) = pair(7101);
    deliver(&p, &[b"hello", b"world!"]);
    let a = OpBox::recv(5, 1, &log);
    let b = OpBox::recv(16, 2, &log);
    p.server.run(|| unsafe {
        // Event mode: returns 0 with the count, and the event is set.
        let e = event();
        assert_eq!(recv_op(p.s, a.ptr(), e, NO_ROUTINE), Started::Now(5));
        assert_eq!(a.data(5), b"hello");
        assert_eq!(a.status(), OverlappedStatus::Done(5));
        assert!(
            is_set(e),
            "OV-1/OV-3: the event of an at-once completion is set"
        );
        // Routine mode: returns 0 with the count; the routine is queued, not run.
        assert_eq!(recv_op(p.s, b.ptr(), NO_EVENT, ROUTINE), Started::Now(6));
        assert_eq!(b.data(6), b"world!");
        assert_eq!(b.status(), OverlappedStatus::Done(6));
        assert_eq!(b.calls(), 0, "the routine waits for an alertable wait");
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(b.calls(), 1);
        assert_eq!(b.routine_args(), (0, 6, 0));
        assert_eq!(a.calls(), 0, "event mode runs no routine");
        assert_eq!(SleepEx(0, TRUE), 0);
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!(log.order(), vec![2]);
}

#[test]
fn ov_1_recv_with_nothing_queued_is_pending() {
    let (p, log) = pair(7102);
    let [a] = recvs(&log);
    p.server.run(|| unsafe {
        let e = event();
        assert_eq!(recv_op(p.s, a.ptr(), e, NO_ROUTINE), Started::Pending);
        assert_eq!(a.status(), OverlappedStatus::Pending);
        assert_eq!((*a.ov()).Internal, 0x103, "STATUS_PENDING in Internal");
        assert!(!is_set(e));
    });
    deliver(&p, &[b"abc"]);
    assert_eq!(a.status(), OverlappedStatus::Done(3));
    assert_eq!(a.data(3), b"abc");
    p.server.run(|| unsafe { assert_eq!(WSACleanup(), 0) });
}

#[test]
fn ov_1_errors_before_start_never_complete() {
    let (p, log) = pair(7103);
    let ops: Vec<OpBox> = (0..6).map(|i| OpBox::recv(8, i, &log)).collect();
    let (port, events, u) = p.server.run(|| unsafe {
        let port = new_port();
        associate(p.s, port, 7);
        let u = tcp();
        associate(u, port, 8);
        let events: Vec<WSAEVENT> = (0..3).map(|_| event()).collect();
        // Not connected: WSAENOTCONN (event mode, routine mode, a send).
        assert_eq!(
            recv_op(u, ops[0].ptr(), events[0], NO_ROUTINE),
            Started::Failed(WSAENOTCONN)
        );
        assert_eq!(
            recv_op(u, ops[1].ptr(), NO_EVENT, ROUTINE),
            Started::Failed(WSAENOTCONN)
        );
        assert_eq!(
            send_op(u, ops[2].ptr(), events[1], ROUTINE),
            Started::Failed(WSAENOTCONN)
        );
        // A NULL buffer with a length on the connected socket: WSAEFAULT.
        for (i, op) in ops[3..5].iter().enumerate() {
            (*op.ptr()).wsabuf.buf = std::ptr::null_mut();
            let (ev, routine) = if i == 0 {
                (events[2], NO_ROUTINE)
            } else {
                (NO_EVENT, ROUTINE)
            };
            assert_eq!(
                recv_op(p.s, op.ptr(), ev, routine),
                Started::Failed(WSAEFAULT)
            );
        }
        // A closed handle: WSAENOTSOCK.
        let dead = tcp();
        assert_eq!(closesocket(dead), 0);
        assert_eq!(
            recv_op(dead, ops[5].ptr(), NO_EVENT, ROUTINE),
            Started::Failed(WSAENOTSOCK)
        );
        (port, events, u)
    });
    // Data that a secretly registered receive would take.
    deliver(&p, &[b"data"]);
    p.server.run(|| unsafe {
        for &e in &events {
            assert!(!is_set(e), "OV-1: no completion, no event");
        }
        assert_eq!(SleepEx(10, TRUE), 0, "OV-1: no routine queued");
        assert_port_empty(port);
        // listener, s, u and three events: no pending operation was registered.
        assert_eq!(p.server.live_resources(), 6);
        // The data is still there for a plain recv.
        assert_eq!(recv_n(p.s, 16, 0), (4, b"data".to_vec()));
        assert_eq!(closesocket(u), 0);
        assert_eq!(WSACleanup(), 0);
    });
    for op in &ops {
        assert_eq!(op.calls(), 0);
    }
    assert!(log.order().is_empty());
}

/// A record no operation wrote: `Internal`/`InternalHigh` hold values no completion writes.
fn untouched_record() -> OVERLAPPED {
    OVERLAPPED {
        Internal: 0x5eed_0001,
        InternalHigh: 0x5eed_0002,
        ..OVERLAPPED::default()
    }
}

/// The four overlapped functions on `s` with `ov`: each one's (return value, last error).
unsafe fn all_four(s: SOCKET, ov: &mut OVERLAPPED, buf: *mut u8) -> [(i32, i32); 4] {
    let wsabuf = WSABUF { len: 8, buf };
    let to = sockaddr(std::net::Ipv4Addr::LOCALHOST, 9);
    let (mut n, mut flags) = (0u32, 0u32);
    let (mut from, mut fromlen) = (sockaddr(std::net::Ipv4Addr::UNSPECIFIED, 0), 16);
    [
        last_error_after(|| WSASend(s, &wsabuf, 1, &mut n, 0, ov, None)),
        last_error_after(|| WSASendTo(s, &wsabuf, 1, &mut n, 0, name_ptr(&to), 16, ov, None)),
        last_error_after(|| WSARecv(s, &wsabuf, 1, &mut n, &mut flags, ov, None)),
        last_error_after(|| {
            WSARecvFrom(
                s,
                &wsabuf,
                1,
                &mut n,
                &mut flags,
                name_mut(&mut from),
                &mut fromlen,
                ov,
                None,
            )
        }),
    ]
}

/// ER-1 (issue 12 item 8): before `WSAStartup` the overlapped functions fail
/// WSANOTINITIALISED without looking at their arguments: the record is not written (it was
/// left `STATUS_PENDING` for ever).
#[test]
fn er_1_overlapped_calls_before_startup_leave_the_record_alone() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        let mut ov = untouched_record();
        let mut data = [0u8; 8];
        let got = all_four(0x1234, &mut ov, data.as_mut_ptr());
        assert_eq!(got, [(SOCKET_ERROR, WSANOTINITIALISED); 4]);
        assert_eq!((ov.Internal, ov.InternalHigh), (0x5eed_0001, 0x5eed_0002));
    });
}

/// OV-1 (issue 12 item 8): a call that fails before the operation starts indicates no
/// completion, and writes nothing into the record either: a bad handle, a socket that is not
/// connected, a NULL buffer with a length. Once a receive is accepted, it is `STATUS_PENDING`.
#[test]
fn ov_1_refused_overlapped_calls_leave_the_record_alone() {
    let (p, _log) = pair(7104);
    p.server.run(|| unsafe {
        let mut ov = untouched_record();
        let mut data = [0u8; 8];
        let unchanged = (0x5eed_0001, 0x5eed_0002);
        let got = all_four(0x1234, &mut ov, data.as_mut_ptr());
        assert_eq!(got, [(SOCKET_ERROR, WSAENOTSOCK); 4]);
        assert_eq!((ov.Internal, ov.InternalHigh), unchanged);
        let u = tcp();
        let got = all_four(u, &mut ov, data.as_mut_ptr());
        assert_eq!(got, [(SOCKET_ERROR, WSAENOTCONN); 4]);
        assert_eq!((ov.Internal, ov.InternalHigh), unchanged);
        let (mut n, mut flags) = (0u32, 0u32);
        let null = WSABUF {
            len: 8,
            buf: std::ptr::null_mut(),
        };
        assert_eq!(
            last_error_after(|| WSARecv(p.s, &null, 1, &mut n, &mut flags, &mut ov, None)),
            (SOCKET_ERROR, WSAEFAULT)
        );
        assert_eq!((ov.Internal, ov.InternalHigh), unchanged);
        // Accepted: pending, and the record says so.
        let buf = WSABUF {
            len: 8,
            buf: data.as_mut_ptr(),
        };
        assert_eq!(
            last_error_after(|| WSARecv(p.s, &buf, 1, &mut n, &mut flags, &mut ov, None)),
            (SOCKET_ERROR, WSA_IO_PENDING)
        );
        assert_eq!((ov.Internal, ov.InternalHigh), (0x103, 0));
        assert_eq!(closesocket(u), 0);
        assert_eq!(closesocket(p.s), 0);
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn ov_1_wsasendto_with_a_malformed_lpto_fails_as_sendto_and_leaves_the_record_alone() {
    let (p, _log) = pair(7105);
    p.server.run(|| unsafe {
        let u = udp();
        let mut ov = untouched_record();
        let unchanged = (0x5eed_0001, 0x5eed_0002);
        let mut data = *b"datagram";
        let wsabuf = WSABUF {
            len: 8,
            buf: data.as_mut_ptr(),
        };
        let mut n = 0u32;
        let to = sockaddr(std::net::Ipv4Addr::LOCALHOST, 9);
        // Too short: WSAEFAULT, as sendto with an 8-byte name.
        assert_eq!(
            last_error_after(|| WSASendTo(
                u,
                &wsabuf,
                1,
                &mut n,
                0,
                name_ptr(&to),
                8,
                &mut ov,
                None
            )),
            (SOCKET_ERROR, WSAEFAULT)
        );
        assert_eq!((ov.Internal, ov.InternalHigh), unchanged);
        // Not AF_INET: WSAEAFNOSUPPORT, as sendto.
        let mut other = to;
        other.sin_family = 23; // AF_INET6 in a sockaddr_in's size
        assert_eq!(
            last_error_after(|| WSASendTo(
                u,
                &wsabuf,
                1,
                &mut n,
                0,
                name_ptr(&other),
                16,
                &mut ov,
                None
            )),
            (SOCKET_ERROR, WSAEAFNOSUPPORT)
        );
        assert_eq!((ov.Internal, ov.InternalHigh), unchanged);
        // The socket checks still come first.
        assert_eq!(
            last_error_after(|| WSASendTo(
                0x1234,
                &wsabuf,
                1,
                &mut n,
                0,
                name_ptr(&to),
                8,
                &mut ov,
                None
            )),
            (SOCKET_ERROR, WSAENOTSOCK)
        );
        // Nothing was registered: the UDP socket, the listener and the accepted socket.
        assert_eq!(p.server.live_resources(), 3);
        assert_eq!(closesocket(u), 0);
    });
}

#[test]
fn ov_1_wsasendto_on_a_stream_socket_ignores_a_malformed_lpto() {
    let (p, log) = pair(7106);
    let op = OpBox::send(b"ping", 1, &log);
    p.server.run(|| unsafe {
        let e = event();
        let to = sockaddr(std::net::Ipv4Addr::LOCALHOST, 9);
        let started = start_op(op.ptr(), e, |buf, ov, n| {
            WSASendTo(p.s, buf, 1, n, 0, name_ptr(&to), 8, ov, None)
        });
        assert_eq!(
            started,
            Started::Now(4),
            "the stream has its peer: sent at once"
        );
        assert_eq!(op.status(), OverlappedStatus::Done(4));
        assert!(is_set(e), "set at completion");
        assert_eq!(shutdown(p.s, SD_SEND), 0);
    });
    p.client_reads(b"ping", GRACEFUL);
}

#[test]
fn ov_1_send_on_connected_socket_completes_at_once() {
    let (p, log) = pair(7104);
    let a = OpBox::send(b"ping!", 1, &log);
    let b = OpBox::send(b"pong", 2, &log);
    p.server.run(|| unsafe {
        let e = event();
        assert_eq!(WSASetEvent(e), TRUE);
        assert_eq!(send_op(p.s, a.ptr(), e, NO_ROUTINE), Started::Now(5));
        assert_eq!(a.status(), OverlappedStatus::Done(5));
        assert!(is_set(e), "set at completion");
        assert_eq!(send_op(p.s, b.ptr(), NO_EVENT, ROUTINE), Started::Now(4));
        assert_eq!(b.status(), OverlappedStatus::Done(4));
        assert_eq!(b.calls(), 0);
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(b.routine_args(), (0, 4, 0));
        assert_eq!(shutdown(p.s, SD_SEND), 0);
    });
    p.client_reads(b"ping!pong", GRACEFUL);
}

// ---------------------------------------------------------------------------------------------
// OV-2

#[test]
fn ov_2_every_operation_completes_exactly_once() {
    let (p, log) = pair(7201);
    // Tags 0..4 receives of 3 bytes, 4..7 sends, 7..9 event-mode receives after them.
    let recvs: Vec<OpBox> = (0..4).map(|i| OpBox::recv(3, i, &log)).collect();
    let sends: Vec<OpBox> = (4..7)
        .map(|i| OpBox::send(&pattern(10 + i), i, &log))
        .collect();
    let erecvs: Vec<OpBox> = (7..9).map(|i| OpBox::recv(4, i, &log)).collect();
    let port = p.server.run(|| unsafe {
        let port = new_port();
        associate(p.s, port, 0xabc);
        for op in &recvs {
            assert_eq!(recv_op(p.s, op.ptr(), NO_EVENT, ROUTINE), Started::Pending);
        }
        for op in &sends {
            assert!(matches!(
                send_op(p.s, op.ptr(), NO_EVENT, ROUTINE),
                Started::Now(_)
            ));
        }
        for op in &erecvs {
            assert_eq!(
                recv_op(p.s, op.ptr(), event(), NO_ROUTINE),
                Started::Pending
            );
        }
        port
    });
    // 7 bytes: 3 + 3 + 1 for the first three receives; the rest stay pending.
    deliver(&p, &[b"ABCDEFG"]);
    let packets = p.server.run(|| unsafe {
        assert_eq!(recvs[3].status(), OverlappedStatus::Pending);
        // closesocket aborts the rest (CS-6): they complete too, once.
        assert_eq!(closesocket(p.s), 0);
        run_routines();
        p.sim.run();
        run_routines();
        drain_port(port)
    });
    let mut per_op: HashMap<usize, u32> = HashMap::new();
    for d in &packets {
        assert_eq!(d.key, 0xabc);
        *per_op.entry(d.overlapped).or_default() += 1;
    }
    let all: Vec<&OpBox> = recvs.iter().chain(&sends).chain(&erecvs).collect();
    assert_eq!(
        packets.len(),
        all.len(),
        "OV-6/OV-2: one packet per operation"
    );
    for op in &all {
        assert_eq!(
            per_op.get(&op.addr()),
            Some(&1),
            "one packet for each OVERLAPPED"
        );
        assert_ne!(op.status(), OverlappedStatus::Pending);
    }
    for op in recvs.iter().chain(&sends) {
        assert_eq!(op.calls(), 1, "OV-2: routine ran exactly once");
    }
    for op in &erecvs {
        assert_eq!(op.calls(), 0);
        assert_eq!(op.status(), ABORTED);
    }
    let statuses: Vec<OverlappedStatus> = recvs.iter().map(OpBox::status).collect();
    use OverlappedStatus::Done;
    assert_eq!(statuses, vec![Done(3), Done(3), Done(1), ABORTED]);
    assert_eq!(recvs[3].routine_args(), (995, 0, 0));
    let mut order = log.order();
    order.sort_unstable();
    assert_eq!(order, (0..7).collect::<Vec<_>>(), "each routine once");
    p.server.run(|| unsafe {
        assert_eq!(SleepEx(20, TRUE), 0, "nothing runs a second time");
        assert_eq!(WSACleanup(), 0);
        assert_port_empty(port);
    });
}

// ---------------------------------------------------------------------------------------------
// OV-3

#[test]
fn ov_3_event_reset_at_start_and_set_at_completion() {
    let (p, log) = pair(7301);
    let [a] = recvs(&log);
    let e = p.server.run(|| unsafe {
        let e = event();
        assert_eq!(WSASetEvent(e), TRUE);
        assert!(is_set(e));
        assert_eq!(recv_op(p.s, a.ptr(), e, NO_ROUTINE), Started::Pending);
        assert!(!is_set(e), "OV-3: reset when the operation starts");
        e
    });
    p.client.run(|| send_all(p.c, b"abc"));
    p.server.run(|| {
        let t0 = p.sim.now();
        assert_eq!(wait_one(e, WSA_INFINITE), SIGNALLED);
        assert_eq!(
            p.sim.now() - t0,
            Duration::from_millis(1),
            "set when the data arrives"
        );
        assert_eq!(a.status(), OverlappedStatus::Done(3));
        assert_eq!(a.data(3), b"abc");
        assert_eq!(unsafe { WSACleanup() }, 0);
    });
}

// ---------------------------------------------------------------------------------------------
// OV-4

#[test]
fn ov_4_routine_runs_only_in_an_alertable_wait() {
    let (p, log) = pair(7401);
    let [a, b] = recvs(&log);
    let e = p.server.run(|| unsafe {
        let e = event();
        assert_eq!(recv_op(p.s, a.ptr(), e, ROUTINE), Started::Pending);
        e
    });
    deliver(&p, &[b"one"]);
    assert_eq!(a.status(), OverlappedStatus::Done(3));
    p.server.run(|| unsafe {
        assert_eq!(a.calls(), 0);
        assert_eq!(SleepEx(0, FALSE), 0);
        assert_eq!(SleepEx(5, FALSE), 0);
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT, "a non-alertable wait");
        assert_eq!(a.calls(), 0, "only an alertable wait runs it");
        assert!(!is_set(e), "with a routine, hEvent is left alone");
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(a.calls(), 1);
        assert_eq!(a.routine_args(), (0, 3, 0));
        assert_eq!(SleepEx(0, TRUE), 0, "nothing left");
        // An alertable WSAWaitForMultipleEvents waits (virtual time) for the completion.
        assert_eq!(recv_op(p.s, b.ptr(), NO_EVENT, ROUTINE), Started::Pending);
    });
    p.client.run(|| send_all(p.c, b"two!"));
    p.server.run(|| unsafe {
        let t0 = p.sim.now();
        assert_eq!(
            wait_alertable(e, WSA_INFINITE),
            WSA_WAIT_IO_COMPLETION as u32
        );
        assert_eq!(WSA_WAIT_IO_COMPLETION, 192);
        assert_eq!(p.sim.now() - t0, Duration::from_millis(1));
        assert_eq!(b.calls(), 1);
        assert_eq!(b.routine_args(), (0, 4, 0));
        assert_eq!(wait_alertable(e, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!(log.order(), vec![1, 2]);
}

#[test]
fn ov_4_routines_run_in_completion_order() {
    let (p, log) = pair(7402);
    let r1 = OpBox::recv(8, 1, &log);
    let s2 = OpBox::send(b"x", 2, &log);
    let s3 = OpBox::send(b"yz", 3, &log);
    let r4 = OpBox::recv(8, 4, &log);
    p.server.run(|| unsafe {
        assert_eq!(recv_op(p.s, r1.ptr(), NO_EVENT, ROUTINE), Started::Pending);
        assert_eq!(send_op(p.s, s2.ptr(), NO_EVENT, ROUTINE), Started::Now(1));
        assert_eq!(send_op(p.s, s3.ptr(), NO_EVENT, ROUTINE), Started::Now(2));
    });
    deliver(&p, &[b"late"]);
    p.server.run(|| unsafe {
        // Completed meanwhile: the receive after the two sends; then one completing at once.
        assert_eq!(recv_op(p.s, r4.ptr(), NO_EVENT, ROUTINE), Started::Pending);
    });
    deliver(&p, &[b"!"]);
    p.server.run(|| unsafe {
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(
            SleepEx(0, TRUE),
            0,
            "one alertable wait ran every queued routine"
        );
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!(log.order(), vec![2, 3, 1, 4]);
    assert_eq!(log.max_depth.load(SeqCst), 1);
}

/// Two threads of the server: thread A posts a routine-mode WSARecv and waits without being
/// alertable; the main thread waits alertably while the data arrives.
fn routine_stays_with_its_thread(seed: u64) {
    let sim = Sim::builder().seed(seed).build();
    let p = tcp_pair_with(&sim, 7403, |_| {});
    let log = Arc::default();
    let [a] = recvs(&log);
    let (addr, s) = (a.addr(), p.s);
    let (posted, go) = p.server.run(|| (event(), event()));
    let (h, main_id) = p.server.run(|| {
        let h = ws2sim::thread::spawn(move || unsafe {
            let me = ws2sim::thread::current();
            let r = recv_op(s, addr as *mut Op, NO_EVENT, ROUTINE);
            assert_eq!(WSASetEvent(posted), TRUE);
            // Not alertable: the routine stays queued while this thread waits.
            assert_eq!(wait_one(go, WSA_INFINITE), SIGNALLED);
            let ran = (*(addr as *mut Op)).calls.load(SeqCst);
            let sleep = SleepEx(0, TRUE);
            (me, r, ran, sleep)
        });
        assert_eq!(wait_one(posted, WSA_INFINITE), SIGNALLED);
        (h, ws2sim::thread::current())
    });
    p.client.run(|| send_all(p.c, b"for A"));
    p.server.run(|| unsafe {
        // The data arrives while the main thread waits alertably: not its routine.
        assert_eq!(SleepEx(50, TRUE), 0, "seed {seed}");
        assert_eq!(a.status(), OverlappedStatus::Done(5));
        assert_eq!(wait_alertable(posted, 0), SIGNALLED, "seed {seed}");
        assert_eq!(
            a.calls(),
            0,
            "OV-4: never in another thread's wait (seed {seed})"
        );
        assert_eq!(WSASetEvent(go), TRUE);
        let (a_id, r, ran_before, sleep) = h.join();
        assert_eq!(r, Started::Pending);
        assert_eq!(
            ran_before, 0,
            "not in thread A's non-alertable wait (seed {seed})"
        );
        assert_eq!(
            sleep, WAIT_IO_COMPLETION,
            "thread A's alertable wait runs it"
        );
        assert_eq!(a.calls(), 1);
        assert_eq!(a.routine_thread(), Some(a_id));
        assert_ne!(a_id, main_id);
        assert_eq!(SleepEx(0, TRUE), 0);
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn ov_4_routine_never_runs_in_another_thread() {
    // Every schedule of the two threads the seeds pick.
    for seed in 0..16 {
        routine_stays_with_its_thread(seed);
    }
}

#[test]
fn ov_4_blocking_non_alertable_wait_runs_no_routine() {
    let (p, log) = pair(7406);
    let a = OpBox::send(b"x", 1, &log);
    p.server.run(|| unsafe {
        let e = event();
        assert_eq!(send_op(p.s, a.ptr(), NO_EVENT, ROUTINE), Started::Now(1));
        let t0 = p.sim.now();
        assert_eq!(wait_one(e, 5), WSA_WAIT_TIMEOUT);
        assert_eq!(p.sim.now() - t0, Duration::from_millis(5));
        assert_eq!(a.calls(), 0, "OV-4: only an alertable wait runs a routine");
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(a.calls(), 1);
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn ov_4_get_queued_completion_status_runs_no_routine() {
    let (p, log) = pair(7407);
    let a = OpBox::send(b"x", 1, &log);
    p.server.run(|| unsafe {
        let port = new_port();
        assert_eq!(send_op(p.s, a.ptr(), NO_EVENT, ROUTINE), Started::Now(1));
        let d = dequeue(port, 5);
        assert_eq!((d.ok, d.overlapped, d.error), (FALSE, 0, WAIT_TIMEOUT));
        assert_eq!(
            a.calls(),
            0,
            "OV-4: GetQueuedCompletionStatus is not alertable"
        );
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(a.calls(), 1);
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn ov_4_routines_of_one_socket_never_nest() {
    let (p, log, first, second) = queued_a_b(7404);
    let inner: Arc<Mutex<Option<(Started, u32, u32)>>> = Arc::default();
    {
        let (s, second, inner) = (p.s, second.addr(), inner.clone());
        first.set_hook(move || unsafe {
            // Completes at once ("B" is queued): its routine is queued to this thread ...
            let r = recv_op(s, second as *mut Op, NO_EVENT, ROUTINE);
            // ... and must not run inside this one.
            let sleep = SleepEx(0, TRUE);
            let calls = (*(second as *mut Op)).calls.load(SeqCst);
            *inner.lock().unwrap() = Some((r, sleep, calls));
        });
    }
    p.server.run(|| unsafe {
        assert_eq!(
            recv_op(p.s, first.ptr(), NO_EVENT, ROUTINE),
            Started::Now(1)
        );
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(first.calls(), 1);
        let (r, _, calls) = inner.lock().unwrap().expect("the hook ran");
        assert_eq!(r, Started::Now(1));
        assert_eq!(
            calls, 0,
            "OV-4: the second routine did not run inside the first"
        );
        assert_eq!(log.max_depth.load(SeqCst), 1);
        // It runs in the next alertable wait.
        run_routines();
        assert_eq!(second.calls(), 1);
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!(log.order(), vec![1, 2]);
    assert_eq!(second.data(1), b"B");
}

#[test]
fn ov_4_held_back_routine_does_not_end_an_alertable_wait() {
    let (p, _log, first, second) = queued_a_b(7405);
    let inner: Arc<Mutex<Option<(u32, u32)>>> = Arc::default();
    {
        let (s, second, inner) = (p.s, second.addr(), inner.clone());
        first.set_hook(move || unsafe {
            recv_op(s, second as *mut Op, NO_EVENT, ROUTINE);
            // Nothing may run here: SleepEx waits its 0 ms and returns 0, as Windows' SleepEx
            // returns WAIT_IO_COMPLETION only when callbacks ran.
            let sleep = SleepEx(0, TRUE);
            let h = WSACreateEvent() as HANDLE;
            let wait = WSAWaitForMultipleEvents(1, &h, FALSE, 0, TRUE);
            WSACloseEvent(h as WSAEVENT);
            *inner.lock().unwrap() = Some((sleep, wait));
        });
    }
    p.server.run(|| unsafe {
        assert_eq!(
            recv_op(p.s, first.ptr(), NO_EVENT, ROUTINE),
            Started::Now(1)
        );
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        let got = inner.lock().unwrap().expect("the hook ran");
        assert_eq!(
            got,
            (0, WSA_WAIT_TIMEOUT),
            "(SleepEx, WSAWaitForMultipleEvents)"
        );
        assert_eq!(WSACleanup(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// OV-5

#[test]
fn ov_5_get_overlapped_result() {
    let (p, log) = pair(7501);
    let [a, b] = recvs(&log);
    p.server.run(|| unsafe {
        let e = event();
        assert_eq!(recv_op(p.s, a.ptr(), e, NO_ROUTINE), Started::Pending);
        assert_eq!(
            get_result(p.s, a.ov(), false),
            (FALSE, 0xdead, WSA_IO_INCOMPLETE)
        );
        // NULL lpcbTransfer, NULL lpOverlapped: WSAEFAULT.
        let mut flags = 0u32;
        WSASetLastError(BEEF);
        let r = WSAGetOverlappedResult(p.s, a.ov(), std::ptr::null_mut(), FALSE, &mut flags);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEFAULT));
        let mut n = 0xdead_u32;
        WSASetLastError(BEEF);
        let r = WSAGetOverlappedResult(p.s, std::ptr::null(), &mut n, TRUE, &mut flags);
        assert_eq!((r, n, WSAGetLastError()), (FALSE, 0xdead, WSAEFAULT));
    });
    p.client.run(|| send_all(p.c, b"xyz"));
    p.server.run(|| unsafe {
        // fWait TRUE waits in virtual time for the data.
        let t0 = p.sim.now();
        let (r, n, _) = get_result(p.s, a.ov(), true);
        assert_eq!((r, n), (TRUE, 3));
        assert_eq!(p.sim.now() - t0, Duration::from_millis(1));
        assert_eq!(a.data(3), b"xyz");
        // Completed: fWait FALSE gives the same.
        let (r, n, _) = get_result(p.s, a.ov(), false);
        assert_eq!((r, n), (TRUE, 3));
        assert_eq!(
            recv_op(p.s, b.ptr(), NO_EVENT, NO_ROUTINE),
            Started::Pending
        );
    });
    // Completed with an error: the peer resets the connection.
    reset_by_client(&p);
    p.server.run(|| unsafe {
        assert_eq!(
            get_result(p.s, b.ov(), true),
            (FALSE, 0xdead, WSAECONNRESET)
        );
        assert_eq!(
            b.status(),
            OverlappedStatus::Failed(WsaError::ConnectionReset)
        );
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn ov_5_aborted_operation_reads_operation_aborted() {
    let (p, log) = pair(7502);
    let [a] = recvs(&log);
    p.server.run(|| unsafe {
        let e = event();
        assert_eq!(recv_op(p.s, a.ptr(), e, NO_ROUTINE), Started::Pending);
        assert_eq!(closesocket(p.s), 0);
        assert!(is_set(e), "CS-6: the event is set");
        assert_eq!(a.status(), ABORTED);
        assert_eq!((*a.ov()).Internal, 0xC000_0120, "STATUS_CANCELLED");
        // ER-2 comes first: the handle is closed, so the result is no longer asked of it.
        assert_eq!(get_result(p.s, a.ov(), false), (FALSE, 0xdead, WSAENOTSOCK));
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn ov_5_waiting_result_of_an_aborted_operation_is_operation_aborted() {
    let (p, log) = pair(7503);
    let [a] = recvs(&log);
    let (addr, s) = (a.addr(), p.s);
    p.server.run(|| unsafe {
        let e = event();
        assert_eq!(recv_op(p.s, a.ptr(), e, NO_ROUTINE), Started::Pending);
        let h = ws2sim::thread::spawn(move || get_result(s, addr as *const OVERLAPPED, true));
        // Let the waiter block, then close the socket under it.
        assert_eq!(SleepEx(5, FALSE), 0);
        assert_eq!(closesocket(p.s), 0);
        assert_eq!(h.join(), (FALSE, 0xdead, WSA_OPERATION_ABORTED));
        assert_eq!(WSACleanup(), 0);
    });
}

/// OV-5 (win: test_WSAGetOverlappedResult): the answer comes from the record itself, so a
/// record no operation posted works too, with the status map of OV-5. Issue 12 item 14: the
/// answer was looked up by the record's address, and such a record gave FALSE with 87.
#[test]
fn ov_5_get_overlapped_result_reads_a_record_the_caller_filled_in() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        assert_eq!(startup(0x0202), 0);
        let s = udp();
        let mut ov = OVERLAPPED {
            Internal: 0, // STATUS_SUCCESS
            InternalHigh: 5,
            ..OVERLAPPED::default()
        };
        assert_eq!(get_result(s, &ov, false), (TRUE, 5, BEEF));
        assert_eq!(get_result(s, &ov, true), (TRUE, 5, BEEF));
        for (status, error) in [
            (0x0000_0103, WSA_IO_INCOMPLETE),     // STATUS_PENDING, fWait FALSE
            (0xC000_0120, WSA_OPERATION_ABORTED), // STATUS_CANCELLED
            (0xC000_0241, WSAECONNABORTED),       // STATUS_CONNECTION_ABORTED
            (0xC000_013B, WSAECONNABORTED),       // STATUS_LOCAL_DISCONNECT
            (0xC000_020D, WSAECONNRESET),         // STATUS_CONNECTION_RESET
            (0xC000_013C, WSAECONNRESET),         // STATUS_REMOTE_DISCONNECT
            (0x8000_0005, WSAEMSGSIZE),           // STATUS_BUFFER_OVERFLOW
            (0xC000_0237, WSAEDISCON),            // STATUS_GRACEFUL_DISCONNECT
        ] {
            ov.Internal = status;
            assert_eq!(
                get_result(s, &ov, false),
                (FALSE, 0xdead, error),
                "Internal {status:#x}"
            );
        }
        assert_eq!(WSACleanup(), 0);
    });
}

/// SD-12 (win: test_tcp_reset; issue 12 item 15): once the peer reset the connection, a new
/// overlapped WSARecv with nothing left to read fails at once with WSAECONNRESET, as recv
/// and send do: no completion is indicated (OV-1), no time passes. It was WSA_IO_PENDING,
/// completing with WSAECONNRESET about 1 ms later.
#[test]
fn sd_12_new_overlapped_recv_after_a_reset_fails_at_once() {
    let (p, log) = pair(7520);
    let [a, b] = recvs(&log);
    reset_by_client(&p);
    p.sim.run();
    p.server.run(|| unsafe {
        let port = new_port();
        associate(p.s, port, 12);
        let e = event();
        let t0 = p.sim.now();
        assert_eq!(
            recv_op(p.s, a.ptr(), e, NO_ROUTINE),
            Started::Failed(WSAECONNRESET)
        );
        assert_eq!(
            recv_op(p.s, b.ptr(), NO_EVENT, ROUTINE),
            Started::Failed(WSAECONNRESET)
        );
        assert_eq!(p.sim.now(), t0);
        // Nothing was started: no event, no routine, no packet, and plain calls agree.
        assert_eq!(SleepEx(10, TRUE), 0);
        assert!(!is_set(e));
        assert_port_empty(port);
        assert_eq!(
            last_error_after(|| recv_n(p.s, 8, 0).0),
            (SOCKET_ERROR, WSAECONNRESET)
        );
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!((a.calls(), b.calls()), (0, 0));
}

// ---------------------------------------------------------------------------------------------
// EX-7: kernel32 GetOverlappedResult

/// kernel32 `GetOverlappedResult`: (result, bytes, last error).
unsafe fn k32_result(s: SOCKET, ov: *const OVERLAPPED, wait: bool) -> (BOOL, u32, i32) {
    let mut n = 0xdead_u32;
    WSASetLastError(BEEF);
    let r = GetOverlappedResult(s as HANDLE, ov, &mut n, if wait { TRUE } else { FALSE });
    (r, n, WSAGetLastError())
}

#[test]
fn ex_7_get_overlapped_result_answers_with_win32_codes() {
    let (p, log) = pair(7511);
    let [a, b] = recvs(&log);
    p.server.run(|| unsafe {
        assert_eq!(recv_op(p.s, a.ptr(), event(), NO_ROUTINE), Started::Pending);
        // ERROR_IO_INCOMPLETE (996) while pending; NULL pointers: ERROR_INVALID_PARAMETER.
        assert_eq!(k32_result(p.s, a.ov(), false), (FALSE, 0xdead, 996));
        WSASetLastError(BEEF);
        let r = GetOverlappedResult(p.s as HANDLE, a.ov(), std::ptr::null_mut(), FALSE);
        assert_eq!((r, WSAGetLastError()), (FALSE, 87));
        assert_eq!(
            k32_result(p.s, std::ptr::null(), false),
            (FALSE, 0xdead, 87)
        );
        // A handle that is no socket: ERROR_INVALID_HANDLE (6).
        assert_eq!(k32_result(0x4242, a.ov(), false), (FALSE, 0xdead, 6));
    });
    p.client.run(|| send_all(p.c, b"xyz"));
    p.server.run(|| unsafe {
        // bWait TRUE waits in virtual time for the data.
        let t0 = p.sim.now();
        assert_eq!(k32_result(p.s, a.ov(), true), (TRUE, 3, BEEF));
        assert_eq!(p.sim.now() - t0, Duration::from_millis(1));
        assert_eq!(
            recv_op(p.s, b.ptr(), NO_EVENT, NO_ROUTINE),
            Started::Pending
        );
    });
    // The peer resets: ERROR_NETNAME_DELETED (64), where WSAGetOverlappedResult says 10054.
    reset_by_client(&p);
    p.server.run(|| unsafe {
        assert_eq!(k32_result(p.s, b.ov(), true), (FALSE, 0xdead, 64));
        assert_eq!(
            get_result(p.s, b.ov(), false),
            (FALSE, 0xdead, WSAECONNRESET)
        );
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn ex_7_get_overlapped_result_reads_any_record_without_startup() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        assert_eq!(startup(0x0202), 0);
        let s = udp();
        // A record the caller filled in: STATUS_SUCCESS with 5 bytes, then STATUS_CANCELLED.
        let mut ov = OVERLAPPED {
            Internal: 0,
            InternalHigh: 5,
            ..OVERLAPPED::default()
        };
        assert_eq!(k32_result(s, &ov, false), (TRUE, 5, BEEF));
        ov.Internal = 0xC000_0120;
        assert_eq!(k32_result(s, &ov, false), (FALSE, 0xdead, 995));
        // kernel32 needs no WSAStartup: after the final cleanup the handle is simply bad.
        assert_eq!(WSACleanup(), 0);
        assert_eq!(k32_result(s, &ov, false), (FALSE, 0xdead, 6));
    });
}

#[test]
fn ex_7_waiting_get_overlapped_result_sees_the_abort_by_closesocket() {
    let (p, log) = pair(7512);
    let [a] = recvs(&log);
    let (addr, s) = (a.addr(), p.s);
    p.server.run(|| unsafe {
        assert_eq!(recv_op(p.s, a.ptr(), event(), NO_ROUTINE), Started::Pending);
        let h = ws2sim::thread::spawn(move || k32_result(s, addr as *const OVERLAPPED, true));
        assert_eq!(SleepEx(5, FALSE), 0);
        assert_eq!(closesocket(p.s), 0);
        // CS-6 aborted it (Documented: STATUS_CANCELLED): ERROR_OPERATION_ABORTED.
        assert_eq!(h.join(), (FALSE, 0xdead, 995));
        assert_eq!(WSACleanup(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// OV-6

#[test]
fn ov_6_completion_port_gets_one_packet_per_operation() {
    let (p, log) = pair(7601);
    let sent = OpBox::send(b"hello", 1, &log);
    let got = OpBox::recv(8, 2, &log);
    let reset = OpBox::recv(8, 3, &log);
    let other = OpBox::recv(8, 4, &log);
    let key = 0x5eed_usize;
    let (port, u) = p.server.run(|| unsafe {
        let port = new_port();
        associate(p.s, port, key);
        assert_port_empty(port);
        assert_eq!(
            send_op(p.s, sent.ptr(), NO_EVENT, NO_ROUTINE),
            Started::Now(5)
        );
        let d = dequeue(port, 0);
        assert_eq!(
            (d.ok, d.bytes, d.key, d.overlapped),
            (TRUE, 5, key, sent.addr())
        );
        assert_eq!(
            recv_op(p.s, got.ptr(), NO_EVENT, NO_ROUTINE),
            Started::Pending
        );
        assert_port_empty(port);
        // A socket not associated with the port posts nothing to it.
        let u = udp_bound(&sockaddr(std::net::Ipv4Addr::UNSPECIFIED, 7602));
        assert_eq!(
            recv_op(u, other.ptr(), NO_EVENT, NO_ROUTINE),
            Started::Pending
        );
        (port, u)
    });
    p.client.run(|| {
        send_all(p.c, b"abc");
        let to = sockaddr(*std::net::SocketAddrV4::from(p.addr).ip(), 7602);
        assert_eq!(send_to(udp(), b"dgram", &to), 5);
    });
    p.server.run(|| unsafe {
        let t0 = p.sim.now();
        let d = dequeue(port, WSA_INFINITE);
        assert_eq!(
            (d.ok, d.bytes, d.key, d.overlapped),
            (TRUE, 3, key, got.addr())
        );
        assert_eq!(p.sim.now() - t0, Duration::from_millis(1), "waited for it");
        assert_eq!(got.data(3), b"abc");
        assert_eq!(
            recv_op(p.s, reset.ptr(), NO_EVENT, NO_ROUTINE),
            Started::Pending
        );
    });
    assert_eq!(other.status(), OverlappedStatus::Done(5));
    // A failed operation: FALSE, *lpOverlapped set, the operation's error as Win32 numbers it
    // (OV-6: ERROR_NETNAME_DELETED, 64, after the peer's reset; not WSAECONNRESET).
    reset_by_client(&p);
    p.server.run(|| unsafe {
        let d = dequeue(port, WSA_INFINITE);
        assert_eq!(
            d,
            Dequeued {
                ok: FALSE,
                bytes: 0,
                key,
                overlapped: reset.addr(),
                error: 64
            }
        );
        // Nothing more: a 50 ms timeout takes exactly 50 ms of virtual time.
        let t0 = p.sim.now();
        let d = dequeue(port, 50);
        assert_eq!((d.ok, d.overlapped, d.error), (FALSE, 0, WAIT_TIMEOUT));
        assert_eq!(WAIT_TIMEOUT, 258);
        assert_eq!(p.sim.now() - t0, Duration::from_millis(50));
        assert_eq!(closesocket(u), 0);
        assert_eq!(WSACleanup(), 0);
        assert_port_empty(port);
    });
}

// ---------------------------------------------------------------------------------------------
// OV-7

#[test]
fn ov_7_receives_are_filled_in_posting_order() {
    let (p, log) = pair(7701);
    let ops: Vec<OpBox> = (0..3).map(|i| OpBox::recv(4, i, &log)).collect();
    p.server.run(|| unsafe {
        let e = event();
        assert_eq!(recv_op(p.s, ops[0].ptr(), e, NO_ROUTINE), Started::Pending);
        assert_eq!(
            recv_op(p.s, ops[1].ptr(), NO_EVENT, ROUTINE),
            Started::Pending
        );
        assert_eq!(
            recv_op(p.s, ops[2].ptr(), NO_EVENT, NO_ROUTINE),
            Started::Pending
        );
    });
    // One burst of 10 bytes.
    deliver(&p, &[b"0123456789"]);
    use OverlappedStatus::Done;
    let got: Vec<(OverlappedStatus, Vec<u8>)> =
        ops.iter().map(|o| (o.status(), o.data(4))).collect();
    assert_eq!(
        got,
        vec![
            (Done(4), b"0123".to_vec()),
            (Done(4), b"4567".to_vec()),
            (Done(2), b"89\xee\xee".to_vec()),
        ]
    );
    p.server.run(|| unsafe { assert_eq!(WSACleanup(), 0) });
}

#[test]
fn ov_7_datagram_receives_are_filled_in_posting_order() {
    let Hosts {
        sim,
        server,
        client,
        server_ip,
        client_ip,
    } = two_hosts(Sim::new());
    let log = Arc::default();
    let ops: Vec<OpBox> = (0..3).map(|i| OpBox::recv(8, i, &log)).collect();
    let mut from = [SOCKADDR_IN::default(); 3];
    let mut fromlen = [16i32; 3];
    let addr = sockaddr(server_ip, 7702);
    server.run(|| unsafe {
        let u = udp_bound(&addr);
        for i in 0..3 {
            let r = recv_from_op(
                u,
                ops[i].ptr(),
                &mut from[i],
                &mut fromlen[i],
                NO_EVENT,
                NO_ROUTINE,
            );
            assert_eq!(r, Started::Pending);
        }
    });
    client.run(|| {
        let u = udp_bound(&sockaddr(client_ip, 7703));
        for d in [&b"first"[..], b"second", b"3rd"] {
            assert_eq!(send_to(u, d, &addr), d.len() as i32);
        }
    });
    sim.run();
    use OverlappedStatus::Done;
    assert_eq!(ops[0].status(), Done(5));
    assert_eq!(ops[1].status(), Done(6));
    assert_eq!(ops[2].status(), Done(3));
    assert_eq!(ops[0].data(5), b"first");
    assert_eq!(ops[1].data(6), b"second");
    assert_eq!(ops[2].data(3), b"3rd");
    for i in 0..3 {
        assert_eq!(
            std::net::SocketAddrV4::from(from[i]),
            std::net::SocketAddrV4::new(client_ip, 7703)
        );
        assert_eq!(fromlen[i], 16);
    }
    server.run(|| unsafe { assert_eq!(WSACleanup(), 0) });
}

// ---------------------------------------------------------------------------------------------
// OV-8

#[test]
fn ov_8_thread_exit_keeps_the_operation_but_drops_its_routine() {
    let (p, log) = pair(7801);
    let [a] = recvs(&log);
    let (addr, s) = (a.addr(), p.s);
    p.server.run(|| {
        let h = ws2sim::thread::spawn(move || unsafe {
            recv_op(s, addr as *mut Op, NO_EVENT, ROUTINE)
        });
        assert_eq!(h.join(), Started::Pending);
        // The thread is gone; the operation is not cancelled.
        assert_eq!(a.status(), OverlappedStatus::Pending);
        assert_eq!(
            p.server.live_resources(),
            3,
            "listener, s and the pending operation"
        );
    });
    deliver(&p, &[b"late"]);
    assert_eq!(a.status(), OverlappedStatus::Done(4));
    assert_eq!(a.data(4), b"late");
    p.server.run(|| unsafe {
        let e = event();
        assert_eq!(SleepEx(10, TRUE), 0);
        assert_eq!(wait_alertable(e, 10), WSA_WAIT_TIMEOUT);
        assert_eq!(a.calls(), 0, "OV-8: the routine went with its thread");
        assert_eq!(
            p.server.live_resources(),
            3,
            "listener, s, event: no routine queued"
        );
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!(a.calls(), 0);
}

// ---------------------------------------------------------------------------------------------
// CL-5, CS-6, CL-8: what the final cleanup and closesocket do to pending operations.

#[test]
fn cl_5_final_cleanup_aborts_overlapped_without_event_or_routine() {
    let (p, log) = pair(7901);
    let [a, b] = recvs(&log);
    p.server.run(|| unsafe {
        let (port, _e) = post_on_port_42(p.s, &a, &b);
        assert_eq!(
            p.server.live_resources(),
            5,
            "2 sockets, 1 event, 2 operations"
        );
        assert_eq!(WSACleanup(), 0);
        // CL-5: both failed WSA_OPERATION_ABORTED, readable in the records ...
        assert_eq!(a.status(), ABORTED);
        assert_eq!(b.status(), ABORTED);
        // ... with no packet, and no routine now or later.
        assert_port_empty(port);
        assert_eq!(SleepEx(0, TRUE), 0);
        assert_eq!(SleepEx(20, TRUE), 0);
        assert_eq!(b.calls(), 0);
        assert_eq!(p.server.live_resources(), 0, "CL-8");
        // A new startup starts clean.
        startup_2_2();
        assert_eq!(SleepEx(0, TRUE), 0);
        assert_eq!(p.server.live_resources(), 0);
        assert_eq!(WSACleanup(), 0);
        assert_port_empty(port);
    });
    p.sim.run();
    assert_eq!(b.calls(), 0);
    assert_eq!(a.status(), ABORTED);
    assert!(log.order().is_empty());
}

#[test]
fn cl_5_final_cleanup_aborts_operations_of_every_thread_silently() {
    let Hosts {
        sim,
        server,
        client,
        server_ip,
        client_ip,
    } = two_hosts(Sim::new());
    let log = Arc::default();
    let [a, b] = recvs(&log);
    let mut from = SOCKADDR_IN::default();
    let mut fromlen = 16i32;
    let addr = sockaddr(server_ip, 7902);
    let (from_p, fromlen_p) = (
        std::ptr::addr_of_mut!(from) as usize,
        std::ptr::addr_of_mut!(fromlen) as usize,
    );
    let (a_addr, b_addr) = (a.addr(), b.addr());
    server.run(|| unsafe {
        let u = udp_bound(&addr);
        let port = new_port();
        associate(u, port, 1);
        let e = event();
        let posted = event();
        // A thread posts a routine-mode WSARecvFrom and waits alertably for ever.
        let h = ws2sim::thread::spawn(move || {
            let r = recv_from_op(
                u,
                a_addr as *mut Op,
                from_p as *mut SOCKADDR_IN,
                fromlen_p as *mut i32,
                NO_EVENT,
                ROUTINE,
            );
            WSASetEvent(posted);
            let wait = wait_alertable(e, WSA_INFINITE);
            (r, wait, WSAGetLastError())
        });
        assert_eq!(wait_one(posted, WSA_INFINITE), SIGNALLED);
        assert_eq!(
            recv_op(u, b_addr as *mut Op, e, NO_ROUTINE),
            Started::Pending
        );
        assert_eq!(server.live_resources(), 5, "socket, 2 events, 2 operations");
        assert_eq!(WSACleanup(), 0);
        let (r, wait, err) = h.join();
        assert_eq!(r, Started::Pending);
        // CL-4: its wait is cancelled; CL-5: no routine ran in it.
        assert_eq!((wait, err), (WSA_WAIT_FAILED, WSAEINTR));
        assert_eq!(a.calls(), 0);
        assert_eq!(a.status(), ABORTED);
        assert_eq!(b.status(), ABORTED);
        assert_port_empty(port);
        assert_eq!(server.live_resources(), 0);
    });
    // A datagram arriving afterwards goes nowhere.
    client.run(|| {
        let u = udp_bound(&sockaddr(client_ip, 7903));
        assert_eq!(send_to(u, b"too late", &addr), 8);
    });
    sim.run();
    assert_eq!(a.status(), ABORTED);
    assert_eq!(b.status(), ABORTED);
    assert_eq!(a.calls(), 0);
    assert_eq!(fromlen, 16);
    assert_eq!(server.run(|| unsafe { SleepEx(0, TRUE) }), 0);
}

/// The CS-6 setup: an event-mode and a routine-mode WSARecv pending on a connected socket
/// associated with a port, then closesocket. Returns the error each operation reports.
fn closesocket_aborts(profile: Profile, port_no: u16, expect: WsaError) {
    let p = pair_in(profile, port_no);
    let log = Arc::default();
    let [a, b] = recvs(&log);
    p.server.run(|| unsafe {
        let (port, e) = post_on_port_42(p.s, &a, &b);
        assert_eq!(closesocket(p.s), 0);
        let failed = OverlappedStatus::Failed(expect);
        assert_eq!(a.status(), failed);
        assert_eq!(b.status(), failed);
        // The completion actions ARE performed: the event ...
        assert!(is_set(e), "CS-6: the event is set");
        // ... one packet per operation, each FALSE with the operation's error in Win32's
        // numbering (OV-6: ERROR_OPERATION_ABORTED 995, ERROR_CONNECTION_ABORTED 1236) ...
        let mut packets = drain_port(port);
        packets.sort_by_key(|d| d.overlapped);
        let mut expected: Vec<Dequeued> = [a.addr(), b.addr()]
            .into_iter()
            .map(|overlapped| Dequeued {
                ok: FALSE,
                bytes: 0,
                key: 42,
                overlapped,
                error: expect.win32_code(),
            })
            .collect();
        expected.sort_by_key(|d| d.overlapped);
        assert_eq!(packets, expected);
        // ... and the routine, in the next alertable wait.
        assert_eq!(b.calls(), 0);
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(b.calls(), 1);
        assert_eq!(b.routine_args(), (expect.code() as u32, 0, 0));
        assert_eq!(a.calls(), 0);
        assert_eq!(SleepEx(0, TRUE), 0);
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn cs_6_closesocket_aborts_overlapped_with_completion_actions() {
    closesocket_aborts(Profile::Documented, 8001, WsaError::OperationAborted);
}

#[test]
fn cs_6_closesocket_aborts_overlapped_with_completion_actions_windows_profile() {
    closesocket_aborts(Profile::Windows, 8002, WsaError::ConnectionAborted);
}

#[test]
fn cs_6_windows_profile_aborts_sends_and_unconnected_receives_with_operation_aborted() {
    // Under Profile::Windows only a receive on a connected stream differs.
    let sim = Sim::builder().profile(Profile::Windows).build();
    let log = Arc::new(Log::default());
    let [a] = recvs(&log);
    sim.localhost().process("app").run(|| unsafe {
        startup_2_2();
        let u = udp_bound(&sockaddr(std::net::Ipv4Addr::UNSPECIFIED, 8003));
        assert_eq!(recv_op(u, a.ptr(), NO_EVENT, ROUTINE), Started::Pending);
        assert_eq!(closesocket(u), 0);
        assert_eq!(a.status(), ABORTED);
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(a.routine_args(), (995, 0, 0));
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn cl_8_pending_operations_and_queued_routines_are_live_resources() {
    let (p, log) = pair(8101);
    let pending = OpBox::recv(8, 1, &log);
    let sent = OpBox::send(b"hi", 2, &log);
    p.server.run(|| unsafe {
        assert_eq!(p.server.live_resources(), 2, "listener and s");
        let e = event();
        assert_eq!(p.server.live_resources(), 3);
        assert_eq!(recv_op(p.s, pending.ptr(), e, NO_ROUTINE), Started::Pending);
        assert_eq!(p.server.live_resources(), 4, "+ the pending operation");
        assert_eq!(send_op(p.s, sent.ptr(), NO_EVENT, ROUTINE), Started::Now(2));
        assert_eq!(p.server.live_resources(), 5, "+ the queued routine");
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.server.live_resources(), 0, "CL-8");
        // The routine queued before the cleanup was dropped with it.
        assert_eq!(SleepEx(0, TRUE), 0);
    });
    assert_eq!(sent.calls(), 0);
    assert_eq!(sent.status(), OverlappedStatus::Done(2));
    assert_eq!(pending.status(), ABORTED);
}

#[test]
fn cl_8_non_final_cleanup_leaves_pending_operations_alone() {
    let (p, log) = pair(8102);
    let [a] = recvs(&log);
    p.server.run(|| unsafe {
        startup_2_2();
        assert_eq!(recv_op(p.s, a.ptr(), NO_EVENT, ROUTINE), Started::Pending);
        assert_eq!(WSACleanup(), 0, "count 2 → 1");
        assert_eq!(
            a.status(),
            OverlappedStatus::Pending,
            "CL-2: nothing changes"
        );
        assert_eq!(p.server.live_resources(), 3);
    });
    p.client.run(|| send_all(p.c, b"ok"));
    p.server.run(|| unsafe {
        assert_eq!(SleepEx(WSA_INFINITE, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(a.routine_args(), (0, 2, 0));
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.server.live_resources(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// SD-10

#[test]
fn sd_10_pending_receive_survives_shutdown_receive() {
    let (p, log) = pair(8201);
    let [pending, late] = recvs(&log);
    let e = p.server.run(|| unsafe {
        let e = event();
        assert_eq!(recv_op(p.s, pending.ptr(), e, NO_ROUTINE), Started::Pending);
        assert_eq!(shutdown(p.s, SD_RECEIVE), 0);
        // New receives fail at once and never complete.
        assert_eq!(
            recv_op(p.s, late.ptr(), NO_EVENT, ROUTINE),
            Started::Failed(WSAESHUTDOWN)
        );
        assert_eq!(pending.status(), OverlappedStatus::Pending);
        // The socket can still send.
        send_all(p.s, b"still");
        e
    });
    p.client.run(|| send_all(p.c, b"data"));
    p.server.run(|| unsafe {
        assert_eq!(wait_one(e, WSA_INFINITE), SIGNALLED);
        assert_eq!(pending.status(), OverlappedStatus::Done(4));
        assert_eq!(pending.data(4), b"data");
        assert_eq!(SleepEx(10, TRUE), 0);
        assert_eq!(late.calls(), 0);
        assert_eq!(WSACleanup(), 0);
    });
    let (r, got) = p.client.run(|| recv_n(p.c, 16, 0));
    assert_eq!((r, got), (5, b"still".to_vec()));
}

// ---------------------------------------------------------------------------------------------
// The property: random programs of overlapped operations over two processes.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Event,
    Routine,
    /// Neither: only a port (when the socket has one) hears of it.
    Plain,
}

#[derive(Debug, Clone)]
enum Step {
    Send {
        p: usize,
        mode: Mode,
        len: usize,
    },
    Recv {
        p: usize,
        mode: Mode,
        cap: usize,
    },
    /// EX-4/EX-6: an overlapped `DisconnectEx` (event or plain: it takes no routine).
    Disconnect {
        p: usize,
        event: bool,
    },
    /// Deliver everything in flight, then collect every notification.
    Deliver,
    Close {
        p: usize,
    },
    Startup {
        p: usize,
    },
    Cleanup {
        p: usize,
    },
    /// EX-7: `CancelIoEx` of the `nth` latest operation of process `p` (or, with `all`, of
    /// every one on its socket): a cancelled operation still completes exactly once.
    Cancel {
        p: usize,
        nth: usize,
        all: bool,
    },
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Event), Just(Mode::Routine), Just(Mode::Plain)]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..2usize, mode(), 1..48usize).prop_map(|(p, mode, len)| Step::Send { p, mode, len }),
        6 => (0..2usize, mode(), 1..48usize).prop_map(|(p, mode, cap)| Step::Recv { p, mode, cap }),
        4 => Just(Step::Deliver),
        1 => (0..2usize, any::<bool>()).prop_map(|(p, event)| Step::Disconnect { p, event }),
        1 => (0..2usize).prop_map(|p| Step::Close { p }),
        1 => (0..2usize).prop_map(|p| Step::Startup { p }),
        1 => (0..2usize).prop_map(|p| Step::Cleanup { p }),
        2 => (0..2usize, 0..4usize, proptest::bool::weighted(0.2))
            .prop_map(|(p, nth, all)| Step::Cancel { p, nth, all }),
    ]
}

/// What [`World::post`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Post {
    Send,
    Recv,
    Disconnect,
}

/// How an operation of the program ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// The call failed: no completion may ever be indicated (OV-1).
    NotStarted,
    /// Returned 0 or WSA_IO_PENDING: completes exactly once (OV-2) ...
    Started,
    /// ... unless the final cleanup aborted it, silently (CL-5).
    AbortedByCleanup,
}

struct Rec {
    p: usize,
    send: bool,
    mode: Mode,
    op: OpBox,
    event: WSAEVENT,
    /// The process's Ws2_32 incarnation the event belongs to.
    epoch: u32,
    start: Started,
    fate: Fate,
    /// Times its event was seen set (then reset).
    events_seen: u32,
    packets: u32,
    /// Routine calls when its process's final cleanup dropped what was still queued.
    frozen_calls: Option<u32>,
}

struct Proc {
    proc: Process,
    s: SOCKET,
    port: usize,
    associated: bool,
    count: u32,
    epoch: u32,
    /// Bytes handed to started sends, in posting order.
    sent: Vec<u8>,
}

struct World {
    sim: Sim,
    procs: Vec<Proc>,
    recs: Vec<Rec>,
    by_addr: HashMap<usize, usize>,
    log: Arc<Log>,
}

impl World {
    fn new(seed: u64, assoc: [bool; 2]) -> World {
        let sim = Sim::builder().seed(seed).build();
        let pair = tcp_pair_with(&sim, 9000, |_| {});
        let mk = |proc: Process, s: SOCKET, associated: bool| {
            let port = proc.run(|| {
                let port = new_port();
                if associated {
                    associate(s, port, s);
                }
                port as usize
            });
            Proc {
                proc,
                s,
                port,
                associated,
                count: 1,
                epoch: 0,
                sent: Vec::new(),
            }
        };
        let listener = pair.listener;
        let server = mk(pair.server.clone(), pair.s, assoc[0]);
        pair.server
            .run(|| assert_eq!(unsafe { closesocket(listener) }, 0));
        let client = mk(pair.client.clone(), pair.c, assoc[1]);
        World {
            sim,
            procs: vec![server, client],
            recs: Vec::new(),
            by_addr: HashMap::new(),
            log: Arc::default(),
        }
    }

    fn post(&mut self, p: usize, what: Post, mode: Mode, len: usize) -> Result<(), TestCaseError> {
        let send = what == Post::Send;
        let tag = self.recs.len();
        let pr = &mut self.procs[p];
        let data: Vec<u8> = (pr.sent.len()..pr.sent.len() + len)
            .map(|i| (i % 251) as u8)
            .collect();
        let op = if send {
            OpBox::send(&data, tag, &self.log)
        } else {
            OpBox::recv(len, tag, &self.log)
        };
        let (ptr, s) = (op.ptr(), pr.s);
        let (event, start) = pr.proc.run(|| unsafe {
            let ev = match mode {
                Mode::Event => WSACreateEvent(),
                _ => NO_EVENT,
            };
            let routine = if mode == Mode::Routine {
                ROUTINE
            } else {
                NO_ROUTINE
            };
            let start = match what {
                Post::Send => send_op(s, ptr, ev, routine),
                Post::Recv => recv_op(s, ptr, ev, routine),
                Post::Disconnect => disconnect_op(s, ptr, ev),
            };
            (ev, start)
        });
        let fate = match start {
            Started::Failed(e) => {
                prop_assert_ne!(e, BEEF, "a failing call sets the last error");
                Fate::NotStarted
            }
            Started::Now(n) => {
                prop_assert_eq!(op.status(), OverlappedStatus::Done(n), "OV-1: done at once");
                Fate::Started
            }
            Started::Pending => Fate::Started,
        };
        if send && fate == Fate::Started {
            pr.sent.extend_from_slice(&data);
        }
        self.by_addr.insert(op.addr(), self.recs.len());
        let epoch = pr.epoch;
        self.recs.push(Rec {
            p,
            send,
            mode,
            op,
            event,
            epoch,
            start,
            fate,
            events_seen: 0,
            packets: 0,
            frozen_calls: None,
        });
        self.collect_events(p)
    }

    /// Reads and resets the set events of `p`'s operations of its current Ws2_32 state; each
    /// completed event-mode operation's event has then been seen exactly once.
    fn collect_events(&mut self, p: usize) -> Result<(), TestCaseError> {
        let pr = &self.procs[p];
        if pr.count == 0 {
            return Ok(());
        }
        let mine: Vec<usize> = (0..self.recs.len())
            .filter(|&i| {
                let r = &self.recs[i];
                r.p == p && r.event != NO_EVENT && r.epoch == pr.epoch
            })
            .collect();
        let seen: Vec<bool> = pr.proc.run(|| {
            mine.iter()
                .map(|&i| {
                    let ev = self.recs[i].event;
                    let set = is_set(ev);
                    if set {
                        assert_eq!(unsafe { WSAResetEvent(ev) }, TRUE);
                    }
                    set
                })
                .collect()
        });
        for (&i, set) in mine.iter().zip(seen) {
            let r = &mut self.recs[i];
            r.events_seen += u32::from(set);
            let done = r.op.status() != OverlappedStatus::Pending;
            let want = u32::from(r.fate == Fate::Started && r.mode == Mode::Event && done);
            prop_assert_eq!(
                r.events_seen,
                want,
                "OV-1/OV-3: op {} ({:?}, {:?}) event seen",
                i,
                r.start,
                r.op.status()
            );
        }
        Ok(())
    }

    /// Runs `p`'s queued routines and dequeues its port's packets; each completed operation
    /// has then been notified exactly once.
    fn collect(&mut self, p: usize) -> Result<(), TestCaseError> {
        let pr = &self.procs[p];
        let port = pr.port as HANDLE;
        let packets = pr.proc.run(|| {
            run_routines();
            drain_port(port)
        });
        for d in packets {
            let i = *self
                .by_addr
                .get(&d.overlapped)
                .ok_or_else(|| TestCaseError::fail(format!("unknown packet {d:?}")))?;
            let r = &mut self.recs[i];
            prop_assert_eq!(r.p, p);
            prop_assert_eq!(d.key, self.procs[p].s);
            match r.op.status() {
                OverlappedStatus::Done(n) => {
                    prop_assert_eq!((d.ok, d.bytes), (TRUE, n), "op {}", i)
                }
                OverlappedStatus::Failed(e) => {
                    prop_assert_eq!(
                        (d.ok, d.bytes, d.error),
                        (FALSE, 0, e.win32_code()),
                        "op {}",
                        i
                    )
                }
                OverlappedStatus::Pending => {
                    return Err(TestCaseError::fail(format!("packet for pending op {i}")))
                }
            }
            r.packets += 1;
        }
        let assoc = self.procs[p].associated;
        for (i, r) in self.recs.iter().enumerate().filter(|(_, r)| r.p == p) {
            let done = r.fate == Fate::Started && r.op.status() != OverlappedStatus::Pending;
            prop_assert_eq!(
                r.packets,
                u32::from(done && assoc),
                "OV-6: op {} packets",
                i
            );
            let calls = r.op.calls();
            match r.frozen_calls {
                Some(frozen) => prop_assert_eq!(calls, frozen, "CL-8: op {} routine dropped", i),
                None => prop_assert_eq!(
                    calls,
                    u32::from(done && r.mode == Mode::Routine),
                    "OV-2/OV-4: op {} ({:?}) routine calls",
                    i,
                    r.op.status()
                ),
            }
        }
        self.collect_events(p)
    }

    fn collect_all(&mut self) -> Result<(), TestCaseError> {
        for p in 0..2 {
            self.collect(p)?;
        }
        Ok(())
    }

    fn cleanup(&mut self, p: usize) -> Result<(), TestCaseError> {
        if self.procs[p].count == 0 {
            let r = self.procs[p]
                .proc
                .run(|| unsafe { (WSACleanup(), WSAGetLastError()) });
            prop_assert_eq!(r, (SOCKET_ERROR, WSANOTINITIALISED));
            return Ok(());
        }
        if self.procs[p].count == 1 {
            // Observe the events before the cleanup frees them (routines stay queued: CL-8
            // drops them).
            self.collect_events(p)?;
        }
        let pending: Vec<usize> = (0..self.recs.len())
            .filter(|&i| {
                let r = &self.recs[i];
                r.p == p && r.fate == Fate::Started && r.op.status() == OverlappedStatus::Pending
            })
            .collect();
        let pr = &mut self.procs[p];
        prop_assert_eq!(pr.proc.run(|| unsafe { WSACleanup() }), 0);
        pr.count -= 1;
        if pr.count > 0 {
            for &i in &pending {
                prop_assert_eq!(self.recs[i].op.status(), OverlappedStatus::Pending, "CL-2");
            }
            return Ok(());
        }
        pr.epoch += 1;
        prop_assert_eq!(pr.proc.live_resources(), 0, "CL-8");
        for &i in &pending {
            let r = &mut self.recs[i];
            prop_assert_eq!(r.op.status(), ABORTED, "CL-5: op {}", i);
            r.fate = Fate::AbortedByCleanup;
        }
        for r in self.recs.iter_mut().filter(|r| r.p == p) {
            if r.frozen_calls.is_none() {
                r.frozen_calls = Some(r.op.calls());
            }
        }
        Ok(())
    }

    fn step(&mut self, step: &Step) -> Result<(), TestCaseError> {
        match *step {
            Step::Send { p, mode, len } => self.post(p, Post::Send, mode, len),
            Step::Recv { p, mode, cap } => self.post(p, Post::Recv, mode, cap),
            Step::Disconnect { p, event } => {
                let mode = if event { Mode::Event } else { Mode::Plain };
                self.post(p, Post::Disconnect, mode, 1)
            }
            Step::Deliver => {
                self.sim.run();
                self.collect_all()
            }
            Step::Close { p } => {
                let pr = &self.procs[p];
                let s = pr.s;
                let r = pr.proc.run(|| unsafe { closesocket(s) });
                prop_assert!(r == 0 || r == SOCKET_ERROR);
                Ok(())
            }
            Step::Startup { p } => {
                let pr = &mut self.procs[p];
                prop_assert_eq!(pr.proc.run(|| startup(0x0202)), 0);
                pr.count += 1;
                Ok(())
            }
            Step::Cleanup { p } => self.cleanup(p),
            Step::Cancel { p, nth, all } => {
                let ov = self
                    .recs
                    .iter()
                    .rev()
                    .filter(|r| r.p == p)
                    .nth(nth)
                    .map_or(std::ptr::null_mut(), |r| r.op.ov());
                let s = self.procs[p].s;
                let ov = if all { std::ptr::null_mut() } else { ov };
                let (r, e) = self.procs[p].proc.run(|| unsafe {
                    let r = CancelIoEx(s as HANDLE, ov);
                    (r, GetLastError())
                });
                // Done, nothing left to cancel, or a socket already closed.
                prop_assert!(r == TRUE || e == 1168 || e == 6, "CancelIoEx: {} {}", r, e);
                Ok(())
            }
        }
    }

    /// Final cleanups, then the invariants over every operation.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        self.sim.run();
        self.collect_all()?;
        for p in 0..2 {
            while self.procs[p].count > 0 {
                self.cleanup(p)?;
            }
        }
        self.sim.run();
        self.collect_all()?;
        for p in 0..2 {
            prop_assert_eq!(self.procs[p].proc.live_resources(), 0, "CL-8");
        }
        for (i, r) in self.recs.iter().enumerate() {
            let status = r.op.status();
            let calls = r.op.calls();
            let assoc = self.procs[r.p].associated;
            match r.fate {
                Fate::NotStarted => {
                    prop_assert_eq!(
                        (calls, r.events_seen, r.packets),
                        (0, 0, 0),
                        "OV-1: op {} never started",
                        i
                    );
                }
                Fate::AbortedByCleanup => {
                    prop_assert_eq!(status, ABORTED);
                    prop_assert_eq!(
                        (calls, r.events_seen, r.packets),
                        (0, 0, 0),
                        "CL-5: op {} aborted silently",
                        i
                    );
                }
                Fate::Started => {
                    prop_assert_ne!(status, OverlappedStatus::Pending, "op {}", i);
                    prop_assert_eq!(r.packets, u32::from(assoc), "OV-6: op {}", i);
                    let (want_calls, want_events) = match r.mode {
                        // A routine still queued at the final cleanup is dropped (CL-8).
                        Mode::Routine => (r.frozen_calls.unwrap_or(1).min(1), 0),
                        Mode::Event => (0, 1),
                        Mode::Plain => (0, 0),
                    };
                    prop_assert_eq!(calls, want_calls, "OV-2/OV-4: op {}", i);
                    prop_assert_eq!(r.events_seen, want_events, "OV-2/OV-3: op {}", i);
                    if calls == 1 {
                        let expect = match status {
                            OverlappedStatus::Done(n) => (0, n, 0),
                            OverlappedStatus::Failed(e) => (e.code() as u32, 0, 0),
                            OverlappedStatus::Pending => unreachable!(),
                        };
                        prop_assert_eq!(r.op.routine_args(), expect, "op {}", i);
                    }
                    if r.send {
                        if let OverlappedStatus::Done(n) = status {
                            prop_assert_eq!(n as usize, len_of(r), "op {}: a send sends all", i);
                        }
                    }
                }
            }
        }
        prop_assert_eq!(self.log.max_depth.load(SeqCst) <= 1, true);
        // OV-7: each side's completed receives, in posting order, are a prefix of what the
        // other side's started sends handed over, in posting order.
        for p in 0..2 {
            let mut got = Vec::new();
            for r in self.recs.iter().filter(|r| r.p == p && !r.send) {
                if let OverlappedStatus::Done(n) = r.op.status() {
                    if r.fate == Fate::Started {
                        got.extend(r.op.data(n as usize));
                    }
                }
            }
            let sent = &self.procs[1 - p].sent;
            prop_assert!(
                got.len() <= sent.len() && got[..] == sent[..got.len()],
                "process {} received {:?}, peer sent {:?}",
                p,
                got,
                sent
            );
        }
        Ok(())
    }
}

/// The length of a send's buffer.
fn len_of(r: &Rec) -> usize {
    unsafe { (*r.op.ptr()).wsabuf.len as usize }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// OV-1..OV-7, CS-6, CL-5, CL-8 together: every operation that started completes exactly
    /// once (or is aborted silently by the final cleanup), bytes arrive in posting order, and
    /// nothing of either process is left after its final cleanup.
    #[test]
    fn ov_2_random_overlapped_programs_complete_exactly_once(
        seed in any::<u64>(),
        assoc in any::<[bool; 2]>(),
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let mut w = World::new(seed, assoc);
        for s in &steps {
            w.step(s)?;
        }
        w.finish()?;
    }
}

/// An event-mode `WSARecv(s)` of 8 bytes into `rec` with a new event, no byte count and no
/// routine; asserts it is pending (SOCKET_ERROR / WSA_IO_PENDING): the event.
#[track_caller]
unsafe fn post_event_recv(s: SOCKET, rec: &mut (OVERLAPPED, [u8; 8])) -> WSAEVENT {
    let ev = WSACreateEvent();
    rec.0.hEvent = ev as HANDLE;
    let buf = WSABUF {
        len: 8,
        buf: rec.1.as_mut_ptr(),
    };
    let mut flags = 0;
    let r = WSARecv(
        s,
        &buf,
        1,
        std::ptr::null_mut(),
        &mut flags,
        &mut rec.0,
        None,
    );
    assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
    ev
}

/// SP-4's overlapped part: the final cleanup is also the final WSPCleanup of every loaded
/// provider, and pending operations on sockets of each built-in provider (TCP, UDP and the
/// disconnect-data stream provider) fail WSA_OPERATION_ABORTED without their event being set
/// and without a completion-port packet.
#[test]
fn sp_4_final_cleanup_aborts_overlapped_of_every_provider_silently() {
    let sim = Sim::new();
    let tcp = stream_pair(&sim, 7501, IPPROTO_TCP, |_| {});
    let disc = stream_pair(&sim, 7502, IPPROTO_WS2SIM_DISCONNECT_DATA, |_| {});
    // Both pairs' client sockets live in their own client processes; a UDP socket joins the
    // TCP client. One event-mode WSARecv pends on each, all three on one completion port.
    let mut records: Vec<Box<(OVERLAPPED, [u8; 8])>> = (0..3)
        .map(|_| Box::new((OVERLAPPED::default(), [0u8; 8])))
        .collect();
    let (port, events) = tcp.client.run(|| unsafe {
        let udp = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
        let at = SOCKADDR_IN::from("127.0.0.1:7503".parse::<std::net::SocketAddrV4>().unwrap());
        assert_eq!(bind(udp, (&at as *const SOCKADDR_IN).cast(), 16), 0);
        let port = CreateIoCompletionPort(tcp.c as HANDLE, std::ptr::null_mut(), 1, 0);
        assert_eq!(CreateIoCompletionPort(udp as HANDLE, port, 2, 0), port);
        let mut events = Vec::new();
        for (rec, s) in records[..2].iter_mut().zip([tcp.c, udp]) {
            events.push(post_event_recv(s, rec));
        }
        (port, events)
    });
    disc.client.run(|| unsafe {
        post_event_recv(disc.c, &mut records[2]);
    });
    tcp.client.run(|| unsafe {
        // Before the cleanup the events are unsignalled; the cleanup must not set them.
        assert_eq!(
            WSAWaitForMultipleEvents(2, events.as_ptr().cast(), FALSE, 0, FALSE),
            WSA_WAIT_TIMEOUT
        );
        assert_eq!(WSACleanup(), 0);
        let (mut n, mut key, mut ov) = (0u32, 0usize, std::ptr::null_mut());
        assert_eq!(
            GetQueuedCompletionStatus(port, &mut n, &mut key, &mut ov, 0),
            FALSE
        );
        assert_eq!(
            (WSAGetLastError(), ov),
            (WAIT_TIMEOUT, std::ptr::null_mut())
        );
    });
    disc.client.run(|| unsafe { assert_eq!(WSACleanup(), 0) });
    for rec in &records {
        assert_eq!(
            overlapped_status(&rec.0),
            OverlappedStatus::Failed(WsaError::OperationAborted)
        );
    }
    assert_eq!(tcp.client.live_resources(), 0);
    assert_eq!(disc.client.live_resources(), 0);
}

/// With SO_RCVBUF 0 the socket buffers nothing, but a posted receive still takes the data
/// (as on Windows): its buffer is the receive window (issue 12 item 11).
#[test]
fn ov_7_a_posted_receive_takes_data_with_so_rcvbuf_0() {
    let (p, log) = pair(7801);
    let [a] = recvs(&log);
    p.server.run(|| {
        set_dword_opt(p.s, SO_RCVBUF, 0);
    });
    p.client.run(|| send_all(p.c, b"abcdef"));
    p.server.run(|| unsafe {
        let e = event();
        // The data waits at the sender: nothing is buffered, so nothing is readable yet.
        assert_eq!(fionread(p.s), 0);
        assert_eq!(recv_op(p.s, a.ptr(), e, NO_ROUTINE), Started::Pending);
        assert_eq!(wait_one(e, 100), SIGNALLED, "the posted receive completes");
        assert_eq!(a.status(), OverlappedStatus::Done(6));
        assert_eq!(a.data(6), b"abcdef");
        assert_eq!(WSACleanup(), 0);
    });
}
