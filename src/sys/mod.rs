//! Winsock with windows-sys' names, types and signatures, so the same source compiles against
//! either:
//!
//! ```
//! #[cfg(windows)]
//! use windows_sys::Win32::Networking::WinSock as ws;
//! #[cfg(not(windows))]
//! use ws2sim::sys as ws;
//! # fn main() {
//! # let sim = ws2sim::Sim::new();
//! # sim.localhost().process("app").run(|| unsafe {
//! let mut data: ws::WSADATA = std::mem::zeroed();
//! assert_eq!(ws::WSAStartup(0x0202, &mut data), 0);
//! let s = ws::socket(ws::AF_INET as i32, ws::SOCK_STREAM, ws::IPPROTO_TCP);
//! assert_ne!(s, ws::INVALID_SOCKET);
//! assert_eq!(ws::closesocket(s), 0);
//! assert_eq!(ws::closesocket(s), ws::SOCKET_ERROR);
//! assert_eq!(ws::WSAGetLastError(), ws::WSAENOTSOCK);
//! assert_eq!(ws::WSACleanup(), 0);
//! # });
//! # }
//! ```
//!
//! Every function is an `unsafe fn` taking raw pointers, as in windows-sys. Each pointer must
//! be NULL or valid for the access the Winsock documentation describes; NULL where a value is
//! needed gives `WSAEFAULT` at the point SPEC ER-3 puts it, never a panic. The functions hold no
//! behaviour of their own: they turn pointers into byte slices and hand the call to the core.
//!
//! # Panics
//! Calling any of these outside [`Process::run`](crate::Process::run) panics with a message
//! saying so: there is no process whose call could fail.
#![allow(non_snake_case, clippy::missing_safety_doc)]
#![allow(unsafe_code)]

mod types;

pub use crate::consts::*;
pub use types::*;

use crate::core::call::Call;
use crate::core::catalog::{ProtocolInfo, PROTOCOL_INFO_SIZE};
use crate::core::table::Socket;
use crate::core::version::{Version, WSADATA_SIZE};
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

/// 0 on success, `SOCKET_ERROR` on failure.
fn status(r: Result<Reply, WsaError>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(_) => SOCKET_ERROR,
    }
}

/// Reads `*p` if `p` is not NULL. Callers copy scalars in and out so that a caller passing
/// overlapping pointers never makes two Rust references alias.
unsafe fn read_opt<T: Copy>(p: *const T) -> Option<T> {
    if p.is_null() {
        None
    } else {
        Some(p.read_unaligned())
    }
}

unsafe fn write_opt<T: Copy>(p: *mut T, v: Option<T>) {
    if let (false, Some(v)) = (p.is_null(), v) {
        p.write_unaligned(v);
    }
}

/// `WSAStartup`: ST-1..ST-6. Returns 0 or the error code itself (not `SOCKET_ERROR`).
pub unsafe fn WSAStartup(wversionrequested: u16, lpwsadata: *mut WSADATA) -> i32 {
    let data = lpwsadata.cast::<[u8; WSADATA_SIZE]>().as_mut();
    let requested = Version::from_word(wversionrequested);
    match call(Call::Startup { requested, data }) {
        Ok(_) => 0,
        Err(e) => e.code(),
    }
}

/// `WSACleanup`: CL-1..CL-13.
pub unsafe fn WSACleanup() -> i32 {
    status(call(Call::Cleanup))
}

/// `WSAGetLastError`: the calling thread's last error (TH-1).
pub unsafe fn WSAGetLastError() -> WSA_ERROR {
    match call(Call::GetLastError) {
        Ok(Reply::LastError(e)) => e,
        other => unreachable!("WSAGetLastError always succeeds, got {other:?}"),
    }
}

/// `WSASetLastError`: sets the calling thread's last error (TH-1).
pub unsafe fn WSASetLastError(ierror: i32) {
    let _ = call(Call::SetLastError(ierror));
}

fn socket_result(r: Result<Reply, WsaError>) -> SOCKET {
    match r {
        Ok(Reply::Socket(s)) => s.raw(),
        Ok(other) => unreachable!("socket creation returned {other:?}"),
        Err(_) => INVALID_SOCKET,
    }
}

/// `socket`: a socket of the catalog entry chosen for (af, type, protocol) (SP-11). Sockets
/// made by `socket` are overlapped-capable, as on Windows.
pub unsafe fn socket(af: i32, r#type: WINSOCK_SOCKET_TYPE, protocol: i32) -> SOCKET {
    socket_result(call(Call::Socket {
        af,
        ty: r#type,
        protocol,
        info: None,
        group: 0,
        flags: WSA_FLAG_OVERLAPPED,
        wsa: false,
    }))
}

/// `WSASocketW`: like `socket`, optionally from a `WSAPROTOCOL_INFOW` (arguments that are 0 or
/// `FROM_PROTOCOL_INFO` are taken from it).
pub unsafe fn WSASocketW(
    af: i32,
    r#type: i32,
    protocol: i32,
    lpprotocolinfo: *const WSAPROTOCOL_INFOW,
    g: u32,
    dwflags: u32,
) -> SOCKET {
    let info = read_opt(lpprotocolinfo).map(|i| ProtocolInfo::from(&i));
    socket_result(call(Call::Socket {
        af,
        ty: r#type,
        protocol,
        info,
        group: g,
        flags: dwflags,
        wsa: true,
    }))
}

/// `closesocket`: CS-1..CS-8.
pub unsafe fn closesocket(s: SOCKET) -> i32 {
    status(call(Call::CloseSocket(Socket::from_raw(s))))
}

/// `setsockopt` at `SOL_SOCKET` (CS-8); `optval` must hold `optlen` bytes.
pub unsafe fn setsockopt(
    s: SOCKET,
    level: i32,
    optname: i32,
    optval: *const u8,
    optlen: i32,
) -> i32 {
    let value = (!optval.is_null())
        .then(|| std::slice::from_raw_parts(optval, usize::try_from(optlen).unwrap_or(0)));
    status(call(Call::SetSockOpt {
        s: Socket::from_raw(s),
        level,
        name: optname,
        value,
        len: optlen,
    }))
}

/// `getsockopt` at `SOL_SOCKET` (CS-8); `optval` must hold `*optlen` bytes.
pub unsafe fn getsockopt(
    s: SOCKET,
    level: i32,
    optname: i32,
    optval: *mut u8,
    optlen: *mut i32,
) -> i32 {
    let mut len = read_opt(optlen);
    let n = len.map_or(0, |l| usize::try_from(l).unwrap_or(0));
    let value = (!optval.is_null()).then(|| std::slice::from_raw_parts_mut(optval, n));
    let r = call(Call::GetSockOpt {
        s: Socket::from_raw(s),
        level,
        name: optname,
        value,
        len: len.as_mut(),
    });
    write_opt(optlen, len);
    status(r)
}

/// `ioctlsocket`: `FIONBIO`, `FIONREAD`, `SIOCATMARK`.
pub unsafe fn ioctlsocket(s: SOCKET, cmd: i32, argp: *mut u32) -> i32 {
    let mut arg = read_opt(argp);
    let r = call(Call::IoctlSocket {
        s: Socket::from_raw(s),
        cmd,
        arg: arg.as_mut(),
    });
    write_opt(argp, arg);
    status(r)
}

/// `WSAEnumProtocolsW`: the visible catalog entries (SP-11); `lpiprotocols` is NULL or a
/// 0-terminated array; the buffer holds `*lpdwbufferlength` bytes.
pub unsafe fn WSAEnumProtocolsW(
    lpiprotocols: *const i32,
    lpprotocolbuffer: *mut WSAPROTOCOL_INFOW,
    lpdwbufferlength: *mut u32,
) -> i32 {
    let filter = (!lpiprotocols.is_null()).then(|| {
        let mut v = Vec::new();
        let mut p = lpiprotocols;
        while p.read_unaligned() != 0 {
            v.push(p.read_unaligned());
            p = p.add(1);
        }
        v
    });
    let mut len = read_opt(lpdwbufferlength);
    let bytes = len.map_or(0, |l| l as usize);
    // Whole entries only: the core never writes past the last complete WSAPROTOCOL_INFOW.
    let bytes = bytes - bytes % PROTOCOL_INFO_SIZE;
    let buffer = (!lpprotocolbuffer.is_null())
        .then(|| std::slice::from_raw_parts_mut(lpprotocolbuffer.cast::<u8>(), bytes));
    let r = call(Call::EnumProtocols {
        filter,
        buffer,
        len: len.as_mut(),
    });
    write_opt(lpdwbufferlength, len);
    match r {
        Ok(Reply::Count(n)) => n as i32,
        Ok(other) => unreachable!("WSAEnumProtocolsW returned {other:?}"),
        Err(_) => SOCKET_ERROR,
    }
}

/// `len` bytes at `p`, or `None` for NULL (a negative length reads nothing).
unsafe fn bytes_in<'a>(p: *const u8, len: i32) -> Option<&'a [u8]> {
    (!p.is_null()).then(|| std::slice::from_raw_parts(p, usize::try_from(len).unwrap_or(0)))
}

/// `len` writable bytes at `p`, or `None` for NULL.
unsafe fn bytes_out<'a>(p: *mut u8, len: Option<i32>) -> Option<&'a mut [u8]> {
    let n = len.map_or(0, |l| usize::try_from(l).unwrap_or(0));
    (!p.is_null()).then(|| std::slice::from_raw_parts_mut(p, n))
}

fn count(r: Result<Reply, WsaError>) -> i32 {
    match r {
        Ok(Reply::Count(n)) => n as i32,
        Ok(Reply::Done) => 0,
        Ok(other) => unreachable!("a data call returned {other:?}"),
        Err(_) => SOCKET_ERROR,
    }
}

/// Runs an address-returning call: `name`/`namelen` are copied in and out.
unsafe fn with_addr_out(
    name: *mut SOCKADDR,
    namelen: *mut i32,
    f: impl FnOnce(Option<&mut [u8]>, Option<&mut i32>) -> Result<Reply, WsaError>,
) -> Result<Reply, WsaError> {
    let mut len = read_opt(namelen);
    let buf = bytes_out(name.cast(), len);
    let r = f(buf, len.as_mut());
    write_opt(namelen, len);
    r
}

/// `bind`: the address must be the wildcard, loopback or the host's own; port 0 picks an
/// ephemeral port.
pub unsafe fn bind(s: SOCKET, name: *const SOCKADDR, namelen: i32) -> i32 {
    let addr = bytes_in(name.cast(), namelen);
    status(call(Call::Bind {
        s: Socket::from_raw(s),
        addr,
    }))
}

/// `listen`.
pub unsafe fn listen(s: SOCKET, backlog: i32) -> i32 {
    status(call(Call::Listen {
        s: Socket::from_raw(s),
        backlog,
    }))
}

/// `accept`: blocks (in virtual time) until a connection arrives on a blocking socket.
pub unsafe fn accept(s: SOCKET, addr: *mut SOCKADDR, addrlen: *mut i32) -> SOCKET {
    socket_result(with_addr_out(addr, addrlen, |addr, len| {
        call(Call::Accept {
            s: Socket::from_raw(s),
            addr,
            len,
        })
    }))
}

/// `connect`: blocks (in virtual time) until the connection is made or refused on a
/// blocking socket; a non-blocking one fails `WSAEWOULDBLOCK` and connects later.
pub unsafe fn connect(s: SOCKET, name: *const SOCKADDR, namelen: i32) -> i32 {
    let addr = bytes_in(name.cast(), namelen);
    status(call(Call::Connect {
        s: Socket::from_raw(s),
        addr,
    }))
}

/// `send`: the number of bytes queued, or `SOCKET_ERROR`.
pub unsafe fn send(s: SOCKET, buf: *const u8, len: i32, flags: SEND_RECV_FLAGS) -> i32 {
    count(call(Call::Send {
        s: Socket::from_raw(s),
        buf: bytes_in(buf, len),
        len,
        flags,
        to: None,
    }))
}

/// `sendto`.
pub unsafe fn sendto(
    s: SOCKET,
    buf: *const u8,
    len: i32,
    flags: i32,
    to: *const SOCKADDR,
    tolen: i32,
) -> i32 {
    count(call(Call::Send {
        s: Socket::from_raw(s),
        buf: bytes_in(buf, len),
        len,
        flags,
        to: Some(bytes_in(to.cast(), tolen)),
    }))
}

/// `recv`: the number of bytes read, 0 when the peer closed gracefully, or `SOCKET_ERROR`.
pub unsafe fn recv(s: SOCKET, buf: *mut u8, len: i32, flags: SEND_RECV_FLAGS) -> i32 {
    count(call(Call::Recv {
        s: Socket::from_raw(s),
        buf: bytes_out(buf, Some(len)),
        len,
        flags,
        from: None,
    }))
}

/// `recvfrom`.
pub unsafe fn recvfrom(
    s: SOCKET,
    buf: *mut u8,
    len: i32,
    flags: i32,
    from: *mut SOCKADDR,
    fromlen: *mut i32,
) -> i32 {
    count(with_addr_out(from, fromlen, |addr, alen| {
        call(Call::Recv {
            s: Socket::from_raw(s),
            buf: bytes_out(buf, Some(len)),
            len,
            flags,
            from: Some((addr, alen)),
        })
    }))
}

/// `getsockname`.
pub unsafe fn getsockname(s: SOCKET, name: *mut SOCKADDR, namelen: *mut i32) -> i32 {
    status(with_addr_out(name, namelen, |addr, len| {
        call(Call::SockName {
            s: Socket::from_raw(s),
            addr,
            len,
        })
    }))
}

/// `getpeername`.
pub unsafe fn getpeername(s: SOCKET, name: *mut SOCKADDR, namelen: *mut i32) -> i32 {
    status(with_addr_out(name, namelen, |addr, len| {
        call(Call::PeerName {
            s: Socket::from_raw(s),
            addr,
            len,
        })
    }))
}

/// `shutdown`: SD-10, SD-11.
pub unsafe fn shutdown(s: SOCKET, how: WINSOCK_SHUTDOWN_HOW) -> i32 {
    status(call(Call::Shutdown {
        s: Socket::from_raw(s),
        how,
    }))
}

/// `WSASendDisconnect`: shutdown(SD_SEND), with disconnect data on providers that carry it
/// (SD-1..SD-8). Never blocks.
pub unsafe fn WSASendDisconnect(s: SOCKET, lpoutbounddisconnectdata: *const WSABUF) -> i32 {
    let data = read_opt(lpoutbounddisconnectdata).map(|b| crate::core::net::WsaBufIn {
        buf: bytes_in(b.buf, i32::try_from(b.len).unwrap_or(i32::MAX)),
        len: b.len,
    });
    status(call(Call::SendDisconnect {
        s: Socket::from_raw(s),
        data,
    }))
}

/// `WSARecvDisconnect`: shutdown(SD_RECEIVE), and the peer's disconnect data into the
/// `WSABUF` (its `len` is set to the bytes copied) (SD-9).
///
/// The signature takes `*const WSABUF` as windows-sys does, but Winsock writes `len` back:
/// pass a pointer made from a mutable place (`&raw mut buf`), never from `&buf`.
pub unsafe fn WSARecvDisconnect(s: SOCKET, lpinbounddisconnectdata: *const WSABUF) -> i32 {
    let p = lpinbounddisconnectdata.cast_mut();
    let mut wsabuf = read_opt(p.cast_const());
    let r = match wsabuf.as_mut() {
        None => call(Call::RecvDisconnect {
            s: Socket::from_raw(s),
            data: None,
        }),
        Some(b) => {
            let buf = bytes_out(b.buf, Some(i32::try_from(b.len).unwrap_or(i32::MAX)));
            call(Call::RecvDisconnect {
                s: Socket::from_raw(s),
                data: Some(crate::core::net::WsaBufOut {
                    buf,
                    len: &mut b.len,
                }),
            })
        }
    };
    write_opt(p, wsabuf);
    status(r)
}

use crate::core::events::{EventHandle, EventOp};

fn boolean(r: Result<Reply, WsaError>) -> BOOL {
    if r.is_ok() {
        TRUE
    } else {
        FALSE
    }
}

/// `WSACreateEvent`: a manual-reset event object, not signalled; `WSA_INVALID_EVENT` on failure.
pub unsafe fn WSACreateEvent() -> WSAEVENT {
    match call(Call::CreateEvent) {
        Ok(Reply::Event(h)) => h.raw(),
        Ok(other) => unreachable!("WSACreateEvent returned {other:?}"),
        Err(_) => WSA_INVALID_EVENT,
    }
}

/// `WSACloseEvent`.
pub unsafe fn WSACloseEvent(hevent: WSAEVENT) -> BOOL {
    boolean(call(Call::EventOp(
        EventHandle::from_raw(hevent),
        EventOp::Close,
    )))
}

/// `WSASetEvent`.
pub unsafe fn WSASetEvent(hevent: WSAEVENT) -> BOOL {
    boolean(call(Call::EventOp(
        EventHandle::from_raw(hevent),
        EventOp::Set,
    )))
}

/// `WSAResetEvent`.
pub unsafe fn WSAResetEvent(hevent: WSAEVENT) -> BOOL {
    boolean(call(Call::EventOp(
        EventHandle::from_raw(hevent),
        EventOp::Reset,
    )))
}

/// `WSAWaitForMultipleEvents`: `WSA_WAIT_EVENT_0 + i`, `WSA_WAIT_TIMEOUT` or `WSA_WAIT_FAILED`.
/// Waiting takes virtual time; `dwtimeout` is in milliseconds (`WSA_INFINITE`: no limit).
///
/// # Divergence
/// Alertable waits (`falertable` TRUE) run no completion routines yet: there are no
/// overlapped operations to complete.
pub unsafe fn WSAWaitForMultipleEvents(
    cevents: u32,
    lphevents: *const HANDLE,
    fwaitall: BOOL,
    dwtimeout: u32,
    falertable: BOOL,
) -> u32 {
    let events = (!lphevents.is_null()).then(|| {
        let n = (cevents as usize).min(WSA_MAXIMUM_WAIT_EVENTS as usize + 1);
        (0..n)
            .map(|i| EventHandle::from_raw(lphevents.add(i).read_unaligned() as isize))
            .collect::<Vec<_>>()
    });
    let events = match (events, cevents) {
        (Some(mut v), n) if n as usize > v.len() => {
            v.push(EventHandle::from_raw(0)); // more than the maximum: invalid either way
            Some(v)
        }
        (e, _) => e,
    };
    let timeout =
        (dwtimeout != WSA_INFINITE).then(|| std::time::Duration::from_millis(u64::from(dwtimeout)));
    match call(Call::WaitEvents {
        events,
        wait_all: fwaitall != FALSE,
        timeout,
        alertable: falertable != FALSE,
    }) {
        Ok(Reply::Count(n)) => n,
        Ok(other) => unreachable!("WSAWaitForMultipleEvents returned {other:?}"),
        Err(_) => WSA_WAIT_FAILED,
    }
}

/// `WSAEventSelect`: records the `FD_*` events in `lnetworkevents` and signals the event when
/// one happens; makes the socket non-blocking.
pub unsafe fn WSAEventSelect(s: SOCKET, heventobject: WSAEVENT, lnetworkevents: i32) -> i32 {
    status(call(Call::EventSelect {
        s: Socket::from_raw(s),
        event: EventHandle::from_raw(heventobject),
        mask: lnetworkevents,
    }))
}

/// `WSAEnumNetworkEvents`: the events recorded since the last call, with their error codes;
/// clears them and resets `heventobject` (if not 0).
pub unsafe fn WSAEnumNetworkEvents(
    s: SOCKET,
    heventobject: WSAEVENT,
    lpnetworkevents: *mut WSANETWORKEVENTS,
) -> i32 {
    let mut out = (!lpnetworkevents.is_null()).then_some((0u32, [0i32; 10]));
    let event = (heventobject != 0).then(|| EventHandle::from_raw(heventobject));
    let r = call(Call::EnumNetworkEvents {
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

/// `select`: waits (in virtual time) until a socket of a set is ready or the timeout passes;
/// each set keeps only its ready sockets. `nfds` is ignored, as on Windows.
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
    let timeout = match read_opt(timeout) {
        None => Ok(None),
        Some(t) if t.tv_sec < 0 || t.tv_usec < 0 => Err(()),
        Some(t) => Ok(Some(
            std::time::Duration::from_secs(t.tv_sec as u64)
                + std::time::Duration::from_micros(t.tv_usec as u64),
        )),
    };
    let res = call(Call::Select {
        read: r.as_mut(),
        write: w.as_mut(),
        except: e.as_mut(),
        timeout,
    });
    if res.is_ok() {
        for (p, v) in [(readfds, r), (writefds, w), (exceptfds, e)] {
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

/// `FARPROC`: a function pointer as `WSASetBlockingHook` takes it.
pub type FARPROC = Option<unsafe extern "system" fn() -> isize>;

/// Calls a Winsock 1.1 blocking hook (TH-5).
pub(crate) fn run_blocking_hook(hook: usize) {
    // SAFETY: `hook` is an address WSASetBlockingHook stored from a non-null FARPROC; the
    // caller of WSASetBlockingHook promised it is a valid blocking hook.
    unsafe {
        let f: unsafe extern "system" fn() -> isize = std::mem::transmute(hook);
        f();
    }
}

/// `WSAIsBlocking`: TRUE while the calling thread's blocking call is in progress (from its
/// blocking hook or an APC).
pub unsafe fn WSAIsBlocking() -> BOOL {
    match call(Call::IsBlocking) {
        Ok(Reply::Count(n)) => n as BOOL,
        _ => FALSE,
    }
}

/// `WSACancelBlockingCall` (CL-13): removed in Winsock 2 (`WSAEOPNOTSUPP`); under 1.1 it
/// cancels the thread's blocking call, which then fails `WSAEINTR`.
pub unsafe fn WSACancelBlockingCall() -> i32 {
    status(call(Call::CancelBlocking))
}

/// `WSASetBlockingHook` (TH-5, Winsock 1.1 only): the hook runs while the thread's blocking
/// calls wait; returns the previous hook (NULL: the default), or NULL on failure.
pub unsafe fn WSASetBlockingHook(lpblockfunc: FARPROC) -> FARPROC {
    let Some(f) = lpblockfunc else {
        WSASetLastError(WSAEFAULT);
        return None;
    };
    match call(Call::SetBlockingHook(Some(f as usize))) {
        // SAFETY: a non-zero previous value is a FARPROC stored by an earlier call.
        Ok(Reply::Hook(prev)) if prev != 0 => Some(std::mem::transmute::<
            usize,
            unsafe extern "system" fn() -> isize,
        >(prev)),
        _ => None,
    }
}

/// `WSAUnhookBlockingHook` (TH-5): back to the default hook.
pub unsafe fn WSAUnhookBlockingHook() -> i32 {
    status(call(Call::SetBlockingHook(None)))
}

/// `SleepEx`: waits `dwmilliseconds` of virtual time (`INFINITE`: no limit); when
/// `balertable`, queued APCs run and it returns `WAIT_IO_COMPLETION` (0xC0), else 0.
pub unsafe fn SleepEx(dwmilliseconds: u32, balertable: BOOL) -> u32 {
    let d = (dwmilliseconds != WSA_INFINITE)
        .then(|| std::time::Duration::from_millis(u64::from(dwmilliseconds)));
    if crate::sim::thread::sleep_ex(d, balertable != FALSE) {
        WAIT_IO_COMPLETION
    } else {
        0
    }
}
