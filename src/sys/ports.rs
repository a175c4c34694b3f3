//! kernel32's completion-port batch and user packets, cancellation and
//! `GetOverlappedResultEx` ([EX-7]), with windows-sys' names, types and module places
//! (`Win32::System::IO`).
//!
//! This module only translates: the calls are decided in the core (`Machine::ex_7`). Failures
//! set kernel32's codes (`ERROR_INVALID_HANDLE`, `ERROR_INVALID_PARAMETER`, `WAIT_TIMEOUT`,
//! `ERROR_IO_INCOMPLETE`, `ERROR_NOT_FOUND`, `WAIT_IO_COMPLETION`), read with `GetLastError`.
//!
//! [EX-7]: crate::rules#ex-7
#![allow(non_snake_case, non_camel_case_types)]

use std::time::Duration;

use super::threads::SetLastError;
use super::types::*;
use super::write_opt;
use crate::consts::*;
use crate::core::call::{Cancel, IoCall, Record};
use crate::core::overlapped::{ntstatus, Packet, PortHandle};
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::sim::thread::call;

/// `OVERLAPPED_ENTRY`: one packet as `GetQueuedCompletionStatusEx` returns it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct OVERLAPPED_ENTRY {
    /// The association's completion key.
    pub lpCompletionKey: usize,
    /// The operation's `OVERLAPPED` (or what `PostQueuedCompletionStatus` passed).
    pub lpOverlapped: *mut OVERLAPPED,
    /// The operation's status (an NTSTATUS: 0 for success, `STATUS_CANCELLED` for an abort).
    pub Internal: usize,
    /// Bytes transferred.
    pub dwNumberOfBytesTransferred: u32,
}

impl Default for OVERLAPPED_ENTRY {
    fn default() -> OVERLAPPED_ENTRY {
        OVERLAPPED_ENTRY {
            lpCompletionKey: 0,
            lpOverlapped: std::ptr::null_mut(),
            Internal: 0,
            dwNumberOfBytesTransferred: 0,
        }
    }
}

fn timeout_of(ms: u32) -> Option<Duration> {
    (ms != WSA_INFINITE).then(|| Duration::from_millis(u64::from(ms)))
}

/// FALSE with `WAIT_IO_COMPLETION` after an alertable wait ran APCs ([OV-4]), else `r`'s.
///
/// [OV-4]: crate::rules#ov-4
unsafe fn alerted(r: &Result<Reply, crate::WsaError>) -> bool {
    if let Ok(Reply::Alerted) = r {
        SetLastError(WAIT_IO_COMPLETION);
        return true;
    }
    false
}

/// `GetQueuedCompletionStatusEx` (SPEC [EX-7]): up to `ulCount` packets of the port at once,
/// oldest first, into `lpCompletionPortEntries`; `*ulNumEntriesRemoved` says how many. A
/// failed operation's packet comes back with TRUE too, its status in `Internal`. With none
/// queued it waits up to `dwMilliseconds` of virtual time (`INFINITE`: no limit): then FALSE,
/// `WAIT_TIMEOUT`; with `fAlertable`, APCs and completion routines run during the wait, which
/// then returns FALSE, `WAIT_IO_COMPLETION`. An unknown port: `ERROR_INVALID_HANDLE`;
/// `ulCount` 0 or a NULL array: `ERROR_INVALID_PARAMETER`.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 0);
///     assert_eq!(PostQueuedCompletionStatus(port, 1, 10, std::ptr::null()), TRUE);
///     assert_eq!(PostQueuedCompletionStatus(port, 2, 20, std::ptr::null()), TRUE);
///     let mut entries = [OVERLAPPED_ENTRY::default(); 4];
///     let mut n = 0;
///     let r = GetQueuedCompletionStatusEx(port, entries.as_mut_ptr(), 4, &mut n, 0, FALSE);
///     assert_eq!((r, n), (TRUE, 2));
///     assert_eq!((entries[0].lpCompletionKey, entries[1].dwNumberOfBytesTransferred), (10, 2));
///     let r = GetQueuedCompletionStatusEx(port, entries.as_mut_ptr(), 4, &mut n, 50, FALSE);
///     assert_eq!((r, n, GetLastError()), (FALSE, 0, WAIT_TIMEOUT as u32));
///     CloseHandle(port);
/// });
/// ```
///
/// # Safety
/// `lpCompletionPortEntries` holds `ulCount` entries; `ulNumEntriesRemoved` is valid or NULL.
///
/// [EX-7]: crate::rules#ex-7
pub unsafe fn GetQueuedCompletionStatusEx(
    completionport: HANDLE,
    lpcompletionportentries: *mut OVERLAPPED_ENTRY,
    ulcount: u32,
    ulnumentriesremoved: *mut u32,
    dwmilliseconds: u32,
    falertable: BOOL,
) -> BOOL {
    let max = if lpcompletionportentries.is_null() {
        0
    } else {
        ulcount
    };
    let r = call(IoCall::GetQueuedEx {
        port: PortHandle::from_raw(completionport as isize),
        max,
        timeout: timeout_of(dwmilliseconds),
        alertable: falertable != FALSE,
    });
    let packets = match r {
        Ok(Reply::Packets(list)) => list,
        ref other => {
            alerted(other);
            write_opt(ulnumentriesremoved, Some(0));
            return FALSE;
        }
    };
    for (i, p) in packets.iter().enumerate() {
        lpcompletionportentries
            .add(i)
            .write_unaligned(OVERLAPPED_ENTRY {
                lpCompletionKey: p.key,
                lpOverlapped: p.overlapped as *mut OVERLAPPED,
                Internal: p.error.map_or(0, |e| ntstatus(Err(e))),
                dwNumberOfBytesTransferred: p.bytes,
            });
    }
    write_opt(ulnumentriesremoved, Some(packets.len() as u32));
    TRUE
}

/// `PostQueuedCompletionStatus` (SPEC [EX-7]): queues a packet of the caller's own (`bytes`,
/// `key`, `lpOverlapped` as given) after the port's others; `GetQueuedCompletionStatus(Ex)`
/// returns it as a success. The `OVERLAPPED` is not read. An unknown port:
/// `ERROR_INVALID_HANDLE`. A worker pool's usual shutdown signal (see
/// [`GetQueuedCompletionStatusEx`]'s example).
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// const JOB: usize = 1;
/// const STOP: usize = 0;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 0);
///     let p = port as usize;
///     // A worker takes packets until the stop packet, and adds up the jobs' byte counts.
///     let worker = ws2sim::thread::spawn(move || unsafe {
///         let mut total = 0;
///         loop {
///             let (mut n, mut key, mut ov) = (0u32, 0usize, std::ptr::null_mut());
///             let r = GetQueuedCompletionStatus(p as HANDLE, &mut n, &mut key, &mut ov, INFINITE);
///             assert_eq!(r, TRUE);
///             match key {
///                 STOP => return total,
///                 _ => total += n,
///             }
///         }
///     });
///     assert_eq!(PostQueuedCompletionStatus(port, 10, JOB, std::ptr::null()), TRUE);
///     assert_eq!(PostQueuedCompletionStatus(port, 32, JOB, std::ptr::null()), TRUE);
///     assert_eq!(PostQueuedCompletionStatus(port, 0, STOP, std::ptr::null()), TRUE);
///     assert_eq!(worker.join(), 42);
///     CloseHandle(port);
///     assert_eq!(PostQueuedCompletionStatus(port, 0, STOP, std::ptr::null()), FALSE);
///     assert_eq!(GetLastError(), 6); // ERROR_INVALID_HANDLE
/// });
/// ```
///
/// # Safety
/// Nothing is dereferenced.
///
/// [EX-7]: crate::rules#ex-7
pub unsafe fn PostQueuedCompletionStatus(
    completionport: HANDLE,
    dwnumberofbytestransferred: u32,
    dwcompletionkey: usize,
    lpoverlapped: *const OVERLAPPED,
) -> BOOL {
    let packet = Packet {
        bytes: dwnumberofbytestransferred,
        key: dwcompletionkey,
        overlapped: lpoverlapped as usize,
        error: None,
    };
    let r = call(IoCall::PostPacket {
        port: PortHandle::from_raw(completionport as isize),
        packet,
    });
    BOOL::from(r.is_ok())
}

/// `CancelIo` (SPEC [EX-7]): cancels the pending operations the calling thread started on the
/// socket; each completes with `ERROR_OPERATION_ABORTED` (`WSA_OPERATION_ABORTED`) through its
/// completion action (event, routine, completion packet). TRUE even with nothing to cancel;
/// FALSE, `ERROR_INVALID_HANDLE` for a handle that is no socket.
///
/// ```
/// use std::net::SocketAddrV4;
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<SocketAddrV4>().unwrap());
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(s, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 8];
///     let buf = WSABUF { len: 8, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     ov.hEvent = WSACreateEvent() as HANDLE;
///     let mut flags = 0;
///     let r = WSARecv(s, &buf, 1, std::ptr::null_mut(), &mut flags, &mut ov, None);
///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
///     // Give up on the receive: it completes at once, aborted, and sets its event.
///     assert_eq!(CancelIo(s as HANDLE), TRUE);
///     assert_eq!(WaitForSingleObject(ov.hEvent, 0), WAIT_OBJECT_0);
///     let mut n = 0;
///     assert_eq!(GetOverlappedResult(s as HANDLE, &ov, &mut n, FALSE), FALSE);
///     assert_eq!(GetLastError(), 995); // ERROR_OPERATION_ABORTED
///     assert_eq!(CancelIo(s as HANDLE), TRUE); // nothing left to cancel
///     assert_eq!(CancelIo(0x4242 as HANDLE), FALSE);
///     assert_eq!(GetLastError(), 6); // ERROR_INVALID_HANDLE
///     WSACleanup();
/// });
/// ```
///
/// # Safety
/// Nothing is dereferenced.
///
/// [EX-7]: crate::rules#ex-7
pub unsafe fn CancelIo(hfile: HANDLE) -> BOOL {
    let r = call(IoCall::Cancel {
        s: Socket::from_raw(hfile as usize),
        which: Cancel::ThreadOps,
    });
    BOOL::from(r.is_ok())
}

/// `CancelIoEx` (SPEC [EX-7]): cancels the operation of `lpOverlapped` on the socket, or with
/// NULL every pending operation on it, whichever thread started it; each completes with
/// `ERROR_OPERATION_ABORTED` through its completion action. Nothing to cancel: FALSE,
/// `ERROR_NOT_FOUND`; a handle that is no socket: `ERROR_INVALID_HANDLE`.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let at = SOCKADDR_IN::from("127.0.0.1:7005".parse::<std::net::SocketAddrV4>().unwrap());
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(s, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 8];
///     let buf = WSABUF { len: 8, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let mut flags = 0u32;
///     WSARecv(s, &buf, 1, std::ptr::null_mut(), &mut flags, &mut ov, None);
///     assert_eq!(CancelIoEx(s as HANDLE, &ov), TRUE);
///     let mut n = 0;
///     assert_eq!(GetOverlappedResult(s as HANDLE, &ov, &mut n, TRUE), FALSE);
///     assert_eq!(GetLastError(), 995); // ERROR_OPERATION_ABORTED
///     assert_eq!(CancelIoEx(s as HANDLE, &ov), FALSE);
///     assert_eq!(GetLastError(), 1168); // ERROR_NOT_FOUND
///     WSACleanup();
/// });
/// ```
///
/// # Safety
/// Nothing is dereferenced.
///
/// [EX-7]: crate::rules#ex-7
pub unsafe fn CancelIoEx(hfile: HANDLE, lpoverlapped: *const OVERLAPPED) -> BOOL {
    let which = if lpoverlapped.is_null() {
        Cancel::All
    } else {
        Cancel::One(lpoverlapped as usize)
    };
    let r = call(IoCall::Cancel {
        s: Socket::from_raw(hfile as usize),
        which,
    });
    BOOL::from(r.is_ok())
}

/// `GetOverlappedResultEx` (SPEC [EX-7]): [`GetOverlappedResult`](super::GetOverlappedResult)
/// that waits at most `dwMilliseconds` of virtual time for a pending operation (0: not at all,
/// `ERROR_IO_INCOMPLETE`; `INFINITE`: for ever), then fails `WAIT_TIMEOUT`; with
/// `bAlertable`, APCs and completion routines run during the wait, which then fails
/// `WAIT_IO_COMPLETION`.
///
/// ```
/// use std::net::SocketAddrV4;
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 8];
///     let buf = WSABUF { len: 8, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let mut flags = 0;
///     WSARecv(rx, &buf, 1, std::ptr::null_mut(), &mut flags, &mut ov, None);
///     let h = rx as HANDLE;
///     let mut n = 0;
///     // 0 ms: just a look.
///     assert_eq!(GetOverlappedResultEx(h, &ov, &mut n, 0, FALSE), FALSE);
///     assert_eq!(GetLastError(), 996); // ERROR_IO_INCOMPLETE
///     // Wait at most 50 ms: nothing arrives.
///     let t0 = GetTickCount64();
///     assert_eq!(GetOverlappedResultEx(h, &ov, &mut n, 50, FALSE), FALSE);
///     assert_eq!((GetLastError(), GetTickCount64() - t0), (WAIT_TIMEOUT as u32, 50));
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"abc".as_ptr(), 3, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     // The datagram arrives 1 ms later, well within the limit.
///     assert_eq!(GetOverlappedResultEx(h, &ov, &mut n, 50, FALSE), TRUE);
///     assert_eq!((n, GetTickCount64() - t0), (3, 51));
///     WSACleanup();
/// });
/// ```
///
/// # Safety
/// `lpOverlapped` is valid or NULL and stays valid during the call; the count pointer too.
///
/// [EX-7]: crate::rules#ex-7
pub unsafe fn GetOverlappedResultEx(
    hfile: HANDLE,
    lpoverlapped: *const OVERLAPPED,
    lpnumberofbytestransferred: *mut u32,
    dwmilliseconds: u32,
    balertable: BOOL,
) -> BOOL {
    // SAFETY: the caller passes a valid OVERLAPPED or NULL, as for the real function; the
    // core reads it only during this call.
    let read = || unsafe { ((*lpoverlapped).Internal, (*lpoverlapped).InternalHigh) };
    let r = call(IoCall::GetOverlappedResultEx {
        s: Socket::from_raw(hfile as usize),
        record: (!lpoverlapped.is_null()).then_some(Record(&read)),
        timeout: timeout_of(dwmilliseconds),
        alertable: balertable != FALSE,
        has_bytes: !lpnumberofbytestransferred.is_null(),
    });
    match r {
        Ok(Reply::Count(n)) => {
            write_opt(lpnumberofbytestransferred, Some(n));
            TRUE
        }
        ref other => {
            alerted(other);
            FALSE
        }
    }
}
