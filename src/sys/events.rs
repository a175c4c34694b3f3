use super::types::*;
use super::{boolean, count, read_opt, status, write_opt};
use crate::consts::*;
use crate::core::call::EventCall;
use crate::core::events::{EventHandle, EventOp, PollEntry};
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::sim::thread::call;

/// `WSACreateEvent`: a new manual-reset event object of the process, not signalled; a wait
/// does not reset it, only [`WSAResetEvent`] (or [`WSAEnumNetworkEvents`]) does.
/// `WSA_INVALID_EVENT` on failure: `WSANOTINITIALISED` before `WSAStartup`
/// ([checks](crate::sys#errors)). Final cleanup closes the process's events ([CL-8]).
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let e = WSACreateEvent();
///     assert_ne!(e, WSA_INVALID_EVENT);
///     let handles = [e as HANDLE];
///     let poll = || WSAWaitForMultipleEvents(1, handles.as_ptr(), FALSE, 0, FALSE);
///     // Not signalled: a wait of 0 ms times out at once.
///     assert_eq!(poll(), WSA_WAIT_TIMEOUT);
///     assert_eq!(WSASetEvent(e), TRUE);
///     // Manual reset: it stays signalled after a wait returns.
///     assert_eq!(poll(), WSA_WAIT_EVENT_0 as u32);
///     assert_eq!(poll(), WSA_WAIT_EVENT_0 as u32);
///     assert_eq!(WSACloseEvent(e), TRUE);
///     assert_eq!(WSACleanup(), 0);
///     assert_eq!(WSACreateEvent(), WSA_INVALID_EVENT);
///     assert_eq!(WSAGetLastError(), WSANOTINITIALISED);
/// });
/// ```
///
/// [CL-8]: crate::rules#cl-8
pub unsafe fn WSACreateEvent() -> WSAEVENT {
    match call(EventCall::CreateEvent) {
        Ok(Reply::Event(h)) => h.raw(),
        Ok(other) => unreachable!("WSACreateEvent returned {other:?}"),
        Err(_) => WSA_INVALID_EVENT,
    }
}

/// `WSACloseEvent`: closes an event object; its handle is then unknown. `FALSE` with
/// `WSA_INVALID_HANDLE` for a handle that is not an open event of the process.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let e = WSACreateEvent();
///     assert_eq!(WSACloseEvent(e), TRUE);
///     assert_eq!(WSACloseEvent(e), FALSE);
///     assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
///     assert_eq!(WSASetEvent(e), FALSE);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
pub unsafe fn WSACloseEvent(hevent: WSAEVENT) -> BOOL {
    boolean(call(EventCall::EventOp(
        EventHandle::from_raw(hevent),
        EventOp::Close,
    )))
}

/// `WSASetEvent`: signals an event object, waking the threads waiting for it; it stays
/// signalled until reset. `FALSE` with `WSA_INVALID_HANDLE` for a handle that is not an open
/// event of the process.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let e = WSACreateEvent();
///     // A second thread sets it after 5 ms of virtual time; the wait returns then.
///     let setter = p.spawn(move || unsafe {
///         assert_eq!(SleepEx(5, FALSE), 0);
///         assert_eq!(WSASetEvent(e), TRUE);
///     });
///     let handles = [e as HANDLE];
///     let r = WSAWaitForMultipleEvents(1, handles.as_ptr(), FALSE, WSA_INFINITE, FALSE);
///     assert_eq!(r, WSA_WAIT_EVENT_0 as u32);
///     assert_eq!(sim.now(), std::time::Duration::from_millis(5));
///     setter.join();
///     assert_eq!(WSASetEvent(0x1234), FALSE);
///     assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
pub unsafe fn WSASetEvent(hevent: WSAEVENT) -> BOOL {
    boolean(call(EventCall::EventOp(
        EventHandle::from_raw(hevent),
        EventOp::Set,
    )))
}

/// `WSAResetEvent`: makes an event object not signalled. `FALSE` with `WSA_INVALID_HANDLE`
/// for a handle that is not an open event of the process.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let e = WSACreateEvent();
///     let handles = [e as HANDLE];
///     assert_eq!(WSASetEvent(e), TRUE);
///     assert_eq!(WSAResetEvent(e), TRUE);
///     let r = WSAWaitForMultipleEvents(1, handles.as_ptr(), FALSE, 0, FALSE);
///     assert_eq!(r, WSA_WAIT_TIMEOUT);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
pub unsafe fn WSAResetEvent(hevent: WSAEVENT) -> BOOL {
    boolean(call(EventCall::EventOp(
        EventHandle::from_raw(hevent),
        EventOp::Reset,
    )))
}

/// `WSAWaitForMultipleEvents`: waits in virtual time until one of the `cevents` events at
/// `lphevents` is signalled (`fwaitall` TRUE: all of them) and returns `WSA_WAIT_EVENT_0 + i`,
/// `i` the lowest signalled index (0 with `fwaitall`), or `WSA_WAIT_TIMEOUT` once `dwtimeout`
/// milliseconds have passed (`WSA_INFINITE`: no limit; 0: no wait). No event is reset.
///
/// An alertable wait (`falertable` TRUE) runs the APCs queued to the thread (completion
/// routines, `QueueUserAPC`) and then returns `WSA_WAIT_IO_COMPLETION` ([OV-4]).
///
/// Errors (`WSA_WAIT_FAILED`), after `WSANOTINITIALISED` and `WSAENETDOWN`
/// ([checks](crate::sys#errors)): a NULL `lphevents`, `cevents` 0 or more than
/// `WSA_MAXIMUM_WAIT_EVENTS` (64) `WSA_INVALID_PARAMETER`; a handle that is not an open event
/// of the process `WSA_INVALID_HANDLE`.
///
/// ```
/// use std::time::Duration;
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let (a, b) = (WSACreateEvent(), WSACreateEvent());
///     let handles = [a as HANDLE, b as HANDLE];
///     let wait = |n, all, ms| WSAWaitForMultipleEvents(n, handles.as_ptr(), all, ms, FALSE);
///     let t0 = sim.now();
///     assert_eq!(wait(2, FALSE, 100), WSA_WAIT_TIMEOUT);
///     assert_eq!(sim.now() - t0, Duration::from_millis(100)); // of virtual time
///
///     assert_eq!(WSASetEvent(b), TRUE);
///     assert_eq!(wait(2, FALSE, 100), WSA_WAIT_EVENT_0 as u32 + 1);
///     // Waiting for both: a is not signalled.
///     assert_eq!(wait(2, TRUE, 0), WSA_WAIT_TIMEOUT);
///
///     assert_eq!(wait(0, FALSE, 0), WSA_WAIT_FAILED);
///     assert_eq!(WSAGetLastError(), WSA_INVALID_PARAMETER);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [OV-4]: crate::rules#ov-4
pub unsafe fn WSAWaitForMultipleEvents(
    cevents: u32,
    lphevents: *const HANDLE,
    fwaitall: BOOL,
    dwtimeout: u32,
    falertable: BOOL,
) -> u32 {
    let events = (!lphevents.is_null()).then(|| {
        // One past the maximum is enough for the core to refuse the count (more are not read).
        let n = (cevents as usize).min(WSA_MAXIMUM_WAIT_EVENTS as usize + 1);
        (0..n)
            .map(|i| EventHandle::from_raw(lphevents.add(i).read_unaligned() as isize))
            .collect::<Vec<_>>()
    });
    let timeout =
        (dwtimeout != WSA_INFINITE).then(|| std::time::Duration::from_millis(u64::from(dwtimeout)));
    match call(EventCall::WaitEvents {
        events,
        wait_all: fwaitall != FALSE,
        timeout,
        alertable: falertable != FALSE,
    }) {
        Ok(Reply::Count(n)) => n,
        Ok(Reply::Alerted) => WSA_WAIT_IO_COMPLETION as u32,
        Ok(other) => unreachable!("WSAWaitForMultipleEvents returned {other:?}"),
        Err(_) => WSA_WAIT_FAILED,
    }
}

/// `WSAEventSelect`: associates `heventobject` with `s` for the `FD_*` events in
/// `lnetworkevents`, replacing any earlier association, and makes `s` non-blocking. When one
/// of them happens it is recorded, with its error code, for [`WSAEnumNetworkEvents`], and the
/// event is signalled. A condition that already holds is recorded at once. Each of `FD_READ`,
/// `FD_WRITE`, `FD_ACCEPT` is recorded once until the call that re-enables it (`recv`, a `send`
/// that failed `WSAEWOULDBLOCK`, `accept`); `FD_CONNECT` once per connect; `FD_CLOSE` once,
/// with the close's code ([SD-12]). A mask of 0 ends the association; the socket stays
/// non-blocking.
///
/// Errors, after the [checks every call makes](crate::sys#errors): a non-zero mask with a
/// handle that is not an event of the process `WSAEINVAL`.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// // A SOCKADDR_IN built field by field, as with windows-sys (`ip` in host byte order).
/// fn sockaddr_in(ip: u32, port: u16) -> SOCKADDR_IN {
///     let mut a: SOCKADDR_IN = unsafe { std::mem::zeroed() };
///     a.sin_family = AF_INET;
///     a.sin_port = port.to_be();
///     a.sin_addr.S_un.S_addr = ip.to_be();
///     a
/// }
/// const LEN: i32 = size_of::<SOCKADDR_IN>() as i32;
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let l = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     let addr = sockaddr_in(INADDR_LOOPBACK, 8080);
///     assert_eq!(bind(l, (&raw const addr).cast(), LEN), 0);
///     assert_eq!(listen(l, 5), 0);
///     let e = WSACreateEvent();
///     assert_eq!(WSAEventSelect(l, e, FD_ACCEPT as i32), 0);
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
///
///     let handles = [e as HANDLE];
///     let r = WSAWaitForMultipleEvents(1, handles.as_ptr(), FALSE, 1000, FALSE);
///     assert_eq!(r, WSA_WAIT_EVENT_0 as u32);
///     let mut ne: WSANETWORKEVENTS = std::mem::zeroed();
///     assert_eq!(WSAEnumNetworkEvents(l, e, &mut ne), 0);
///     assert_eq!(ne.lNetworkEvents, FD_ACCEPT as i32);
///     assert_ne!(accept(l, std::ptr::null_mut(), std::ptr::null_mut()), INVALID_SOCKET);
///     // The listener is non-blocking now.
///     assert_eq!(accept(l, std::ptr::null_mut(), std::ptr::null_mut()), INVALID_SOCKET);
///     assert_eq!(WSAGetLastError(), WSAEWOULDBLOCK);
///
///     assert_eq!(WSAEventSelect(l, 0x1234, FD_ACCEPT as i32), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [SD-12]: crate::rules#sd-12
pub unsafe fn WSAEventSelect(s: SOCKET, heventobject: WSAEVENT, lnetworkevents: i32) -> i32 {
    status(call(EventCall::EventSelect {
        s: Socket::from_raw(s),
        event: EventHandle::from_raw(heventobject),
        mask: lnetworkevents,
    }))
}

/// `WSAEnumNetworkEvents`: writes the `FD_*` events recorded for `s` since the last call, each
/// with its error code (`iErrorCode[FD_*_BIT]`), into `*lpnetworkevents`; clears them and
/// resets `heventobject` (if not 0). `FD_CLOSE` carries 0 for a graceful close and the reset's
/// code for an abortive one ([SD-12]).
///
/// Errors, after the [checks every call makes](crate::sys#errors): an `heventobject` that is
/// not 0 and not an event of the process `WSAEINVAL`; a NULL `lpnetworkevents` `WSAEFAULT`. A
/// failed call writes nothing and clears nothing.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// // A SOCKADDR_IN built field by field, as with windows-sys (`ip` in host byte order).
/// fn sockaddr_in(ip: u32, port: u16) -> SOCKADDR_IN {
///     let mut a: SOCKADDR_IN = unsafe { std::mem::zeroed() };
///     a.sin_family = AF_INET;
///     a.sin_port = port.to_be();
///     a.sin_addr.S_un.S_addr = ip.to_be();
///     a
/// }
/// const LEN: i32 = size_of::<SOCKADDR_IN>() as i32;
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let l = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     let addr = sockaddr_in(INADDR_LOOPBACK, 8080);
///     assert_eq!(bind(l, (&raw const addr).cast(), LEN), 0);
///     assert_eq!(listen(l, 5), 0);
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
///     let s = accept(l, std::ptr::null_mut(), std::ptr::null_mut());
///     let e = WSACreateEvent();
///     assert_eq!(WSAEventSelect(s, e, (FD_READ | FD_CLOSE) as i32), 0);
///     assert_eq!(send(c, b"hi".as_ptr(), 2, 0), 2);
///     assert_eq!(closesocket(c), 0);
///
///     let handles = [e as HANDLE];
///     let mut ne: WSANETWORKEVENTS = std::mem::zeroed();
///     assert_eq!(WSAWaitForMultipleEvents(1, handles.as_ptr(), FALSE, 1000, FALSE), 0);
///     assert_eq!(WSAEnumNetworkEvents(s, e, &mut ne), 0);
///     assert_eq!(ne.lNetworkEvents, FD_READ as i32); // FD_CLOSE waits for the data to be read
///     let mut buf = [0u8; 8];
///     assert_eq!(recv(s, buf.as_mut_ptr(), 8, 0), 2);
///
///     assert_eq!(WSAWaitForMultipleEvents(1, handles.as_ptr(), FALSE, 1000, FALSE), 0);
///     assert_eq!(WSAEnumNetworkEvents(s, e, &mut ne), 0);
///     assert_eq!(ne.lNetworkEvents, FD_CLOSE as i32);
///     assert_eq!(ne.iErrorCode[FD_CLOSE_BIT as usize], 0); // graceful
///
///     assert_eq!(WSAEnumNetworkEvents(s, e, std::ptr::null_mut()), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEFAULT);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// # Divergence
/// An `heventobject` that is not an event of the process fails `WSAEINVAL`: what Windows
/// returns is not documented, and `WSAEINVAL` is the one of the page's errors
/// (`WSANOTINITIALISED`, `WSAENETDOWN`, `WSAEINVAL`, `WSAEINPROGRESS`, `WSAENOTSOCK`,
/// `WSAEFAULT`) that fits an invalid argument.
///
/// [SD-12]: crate::rules#sd-12
pub unsafe fn WSAEnumNetworkEvents(
    s: SOCKET,
    heventobject: WSAEVENT,
    lpnetworkevents: *mut WSANETWORKEVENTS,
) -> i32 {
    let mut out = (!lpnetworkevents.is_null()).then_some((0u32, [0i32; 10]));
    let event = (heventobject != 0).then(|| EventHandle::from_raw(heventobject));
    let r = call(EventCall::EnumNetworkEvents {
        s: Socket::from_raw(s),
        event,
        out: out.as_mut(),
    });
    if let (Ok(_), Some((bits, codes))) = (&r, out) {
        write_opt(
            lpnetworkevents,
            Some(WSANETWORKEVENTS {
                lNetworkEvents: bits as i32,
                iErrorCode: codes,
            }),
        );
    }
    status(r)
}

/// `select`: waits in virtual time until a socket of one of the sets is ready, or `*timeout`
/// passes (NULL: no limit; zero: no wait), and returns how many are ready; each set given is
/// rewritten to hold only its ready sockets (all empty on a timeout). Ready to read: data to
/// read, a connection to accept, or a stream whose peer closed or reset it. Ready to write: a
/// connected stream with room in its send buffer, or any datagram socket. In `exceptfds`: a
/// failed non-blocking connect. `nfds` is ignored, as on Windows.
///
/// Errors, after `WSANOTINITIALISED` and `WSAENETDOWN` ([checks](crate::sys#errors)): a
/// negative `tv_sec` or `tv_usec` `WSAEINVAL`; every set NULL or empty `WSAEINVAL`; a
/// socket that is not an open socket of the process `WSAENOTSOCK`.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// // A SOCKADDR_IN built field by field, as with windows-sys (`ip` in host byte order).
/// fn sockaddr_in(ip: u32, port: u16) -> SOCKADDR_IN {
///     let mut a: SOCKADDR_IN = unsafe { std::mem::zeroed() };
///     a.sin_family = AF_INET;
///     a.sin_port = port.to_be();
///     a.sin_addr.S_un.S_addr = ip.to_be();
///     a
/// }
/// const LEN: i32 = size_of::<SOCKADDR_IN>() as i32;
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let l = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     let addr = sockaddr_in(INADDR_LOOPBACK, 8080);
///     assert_eq!(bind(l, (&raw const addr).cast(), LEN), 0);
///     assert_eq!(listen(l, 5), 0);
///     let mut read: FD_SET = std::mem::zeroed();
///     read.fd_count = 1;
///     read.fd_array[0] = l;
///     let zero = TIMEVAL { tv_sec: 0, tv_usec: 0 };
///     let none = std::ptr::null_mut();
///     let mut set = read;
///     assert_eq!(select(0, &mut set, none, none, &zero), 0); // nothing to accept
///     assert_eq!(set.fd_count, 0);
///
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
///     let mut set = read;
///     let mut write: FD_SET = std::mem::zeroed();
///     write.fd_count = 1;
///     write.fd_array[0] = c;
///     let second = TIMEVAL { tv_sec: 1, tv_usec: 0 };
///     assert_eq!(select(0, &mut set, &mut write, none, &second), 2);
///     assert_eq!((set.fd_count, set.fd_array[0]), (1, l));
///     assert_eq!((write.fd_count, write.fd_array[0]), (1, c));
///
///     let mut empty: FD_SET = std::mem::zeroed();
///     assert_eq!(select(0, &mut empty, none, none, &zero), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
pub unsafe fn select(
    nfds: i32,
    readfds: *mut FD_SET,
    writefds: *mut FD_SET,
    exceptfds: *mut FD_SET,
    timeout: *const TIMEVAL,
) -> i32 {
    let _ = nfds;
    let load = |p: *mut FD_SET| {
        read_opt(p).map(|set| {
            let n = (set.fd_count as usize).min(set.fd_array.len());
            set.fd_array[..n]
                .iter()
                .map(|&s| Socket::from_raw(s))
                .collect::<Vec<_>>()
        })
    };
    let (mut r, mut w, mut e) = (load(readfds), load(writefds), load(exceptfds));
    let given = [r.clone(), w.clone(), e.clone()];
    let timeout = match read_opt(timeout) {
        None => Ok(None),
        Some(t) if t.tv_sec < 0 || t.tv_usec < 0 => Err(()),
        Some(t) => Ok(Some(
            std::time::Duration::from_secs(t.tv_sec as u64)
                + std::time::Duration::from_micros(t.tv_usec as u64),
        )),
    };
    let res = call(EventCall::Select {
        read: r.as_mut(),
        write: w.as_mut(),
        except: e.as_mut(),
        timeout,
    });
    // The sets the core changed are written back (on success, and when a failure empties
    // them: CS-7).
    for ((p, v), before) in [(readfds, r), (writefds, w), (exceptfds, e)]
        .into_iter()
        .zip(given)
    {
        if res.is_ok() || v != before {
            if let Some(v) = v {
                let mut set = FD_SET {
                    fd_count: v.len() as u32,
                    ..FD_SET::default()
                };
                for (slot, s) in set.fd_array.iter_mut().zip(v) {
                    *slot = s.raw();
                }
                write_opt(p, Some(set));
            }
        }
    }
    count(res)
}

/// `WSAPoll`: which of the requested events hold on each socket, waiting up to `timeout`
/// milliseconds of virtual time (negative: for ever) until one does ([PL-1], [PL-2]).
/// Returns how many entries have events (0 on timeout) or `SOCKET_ERROR`. `POLLERR`,
/// `POLLHUP` and `POLLNVAL` are reported whether asked for or not; asking for anything but
/// `POLLRDNORM`, `POLLRDBAND`, `POLLWRNORM` fails `WSAEINVAL`.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let mut fds = [
///         WSAPOLLFD { fd: s, events: POLLRDNORM | POLLWRNORM, revents: 0 },
///         WSAPOLLFD { fd: 0x4444, events: POLLRDNORM, revents: 0 },
///     ];
///     assert_eq!(WSAPoll(fds.as_mut_ptr(), 2, 0), 2);
///     assert_eq!(fds[0].revents, POLLWRNORM); // a datagram socket can always send
///     assert_eq!(fds[1].revents, POLLNVAL);
///     fds[0].events = POLLPRI;
///     assert_eq!(WSAPoll(fds.as_mut_ptr(), 1, 0), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
///     WSACleanup();
/// });
/// ```
///
/// [PL-1]: crate::rules#pl-1
/// [PL-2]: crate::rules#pl-2
pub unsafe fn WSAPoll(fdarray: *mut WSAPOLLFD, fds: u32, timeout: i32) -> i32 {
    let mut entries: Option<Vec<PollEntry>> = (!fdarray.is_null()).then(|| {
        (0..fds as usize)
            .map(|i| {
                let f = fdarray.add(i).read_unaligned();
                PollEntry {
                    fd: ((f.fd as isize) >= 0).then(|| Socket::from_raw(f.fd)),
                    events: f.events,
                    revents: 0,
                }
            })
            .collect()
    });
    let timeout = (timeout >= 0).then(|| std::time::Duration::from_millis(timeout as u64));
    let r = call(EventCall::Poll {
        fds: entries.as_deref_mut(),
        count: fds,
        timeout,
    });
    match r {
        Ok(Reply::Count(n)) => {
            for (i, e) in entries.iter().flatten().enumerate() {
                (*fdarray.add(i)).revents = e.revents;
            }
            n as i32
        }
        _ => SOCKET_ERROR,
    }
}
