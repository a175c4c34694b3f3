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
    // NULL reaches the core as 0, which refuses it after ER-1 (WSAEFAULT).
    let hook = lpblockfunc.map_or(0, |f| f as usize);
    match call(Call::SetBlockingHook(Some(hook))) {
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

use crate::core::overlapped::{Completion, Memory, OpKind, OpRequest, PortHandle};

/// `INVALID_HANDLE_VALUE`.
pub const INVALID_HANDLE_VALUE: HANDLE = -1isize as HANDLE;

/// The caller's memory an overlapped operation writes on completion (addresses as integers:
/// the core carries this without looking inside).
struct OpMemory {
    overlapped: usize,
    bufs: Vec<(usize, usize)>,
    from: usize,
    fromlen: usize,
}

/// Reads a WSABUF array: the buffers, or `None` when a buffer is NULL with a length.
unsafe fn wsabufs(p: *const WSABUF, n: u32) -> Option<Vec<(usize, usize)>> {
    if p.is_null() {
        return (n == 0).then(Vec::new);
    }
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n as usize {
        let b = p.add(i).read_unaligned();
        if b.buf.is_null() && b.len > 0 {
            return None;
        }
        // An empty buffer holds nothing (and may be NULL): leave it out.
        if b.len > 0 {
            out.push((b.buf as usize, b.len as usize));
        }
    }
    Some(out)
}

/// Applies a completed overlapped operation to the caller's memory: the data into the
/// buffers, the sender's address, and the status into `Internal`/`InternalHigh`.
pub(crate) fn apply_completion(c: &Completion) {
    let Some(mem) = c.memory.0.downcast_ref::<OpMemory>() else {
        return;
    };
    // SAFETY: the caller of WSASend/WSARecv promised that the OVERLAPPED and the buffers stay
    // valid until the operation completes (the Winsock contract); this is that completion.
    unsafe {
        let mut rest = &c.data[..];
        for &(ptr, len) in &mem.bufs {
            let n = len.min(rest.len());
            if n > 0 {
                std::ptr::copy_nonoverlapping(rest.as_ptr(), ptr as *mut u8, n);
            }
            rest = &rest[n..];
        }
        if let (Some(from), false, false) = (c.from, mem.from == 0, mem.fromlen == 0) {
            let len = (mem.fromlen as *mut i32).read_unaligned();
            if len >= 16 {
                let bytes = crate::core::sockaddr::encode(from);
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), mem.from as *mut u8, 16);
                (mem.fromlen as *mut i32).write_unaligned(16);
            }
        }
        let ov = mem.overlapped as *mut OVERLAPPED;
        if !ov.is_null() {
            (*ov).Internal = crate::core::overlapped::ntstatus(c.result);
            (*ov).InternalHigh = c.result.unwrap_or(0) as usize;
        }
    }
}

/// Calls a completion routine (OV-4).
pub(crate) fn run_completion_routine(
    routine: usize,
    error: u32,
    bytes: u32,
    overlapped: usize,
    flags: u32,
) {
    // SAFETY: `routine` came from a non-NULL LPWSAOVERLAPPED_COMPLETION_ROUTINE the caller
    // passed; `overlapped` is the OVERLAPPED it passed with it.
    unsafe {
        let f: unsafe extern "system" fn(u32, u32, *mut OVERLAPPED, u32) =
            std::mem::transmute(routine);
        f(error, bytes, overlapped as *mut OVERLAPPED, flags);
    }
}

/// The overlapped path shared by the four functions.
#[allow(clippy::too_many_arguments)]
unsafe fn start_overlapped(
    name: &'static str,
    s: SOCKET,
    bufs: Option<Vec<(usize, usize)>>,
    send: Option<Option<std::net::SocketAddrV4>>,
    overlapped: *mut OVERLAPPED,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
    from: (usize, usize),
    bytes_out: *mut u32,
    flags_out: *mut u32,
) -> i32 {
    let fault = bufs.is_none();
    let bufs = bufs.unwrap_or_default();
    let kind = match send {
        Some(to) => {
            let mut data = Vec::new();
            for &(p, n) in &bufs {
                data.extend_from_slice(std::slice::from_raw_parts(p as *const u8, n));
            }
            OpKind::Send { data, to }
        }
        None => OpKind::Recv {
            capacity: bufs.iter().map(|b| b.1).sum(),
        },
    };
    let event = (*overlapped).hEvent as isize;
    (*overlapped).Internal = crate::core::overlapped::status::PENDING;
    (*overlapped).InternalHigh = 0;
    let req = OpRequest {
        kind,
        key: overlapped as usize,
        event: (event != 0).then(|| EventHandle::from_raw(event)),
        routine: routine.map(|r| r as usize),
        memory: Memory(Box::new(OpMemory {
            overlapped: overlapped as usize,
            bufs: if send.is_some() { Vec::new() } else { bufs },
            from: from.0,
            fromlen: from.1,
        })),
    };
    let r = call(Call::Overlapped {
        s: Socket::from_raw(s),
        req: Some(req),
        fault,
        name,
    });
    match r {
        Ok(Reply::Count(n)) => {
            write_opt(bytes_out, Some(n));
            write_opt(flags_out, Some(0));
            0
        }
        _ => SOCKET_ERROR,
    }
}

/// The non-overlapped path: a plain send over the gathered buffers.
unsafe fn send_gathered(
    s: SOCKET,
    bufs: Option<Vec<(usize, usize)>>,
    flags: u32,
    to: Option<&[u8]>,
    sent: *mut u32,
) -> i32 {
    let Some(bufs) = bufs else {
        return count(call(Call::Send {
            s: Socket::from_raw(s),
            buf: None,
            len: 1,
            flags: flags as i32,
            to: to.map(Some),
        }));
    };
    let mut data = Vec::new();
    for &(p, n) in &bufs {
        data.extend_from_slice(std::slice::from_raw_parts(p as *const u8, n));
    }
    let r = count(call(Call::Send {
        s: Socket::from_raw(s),
        buf: Some(&data),
        len: i32::try_from(data.len()).unwrap_or(i32::MAX),
        flags: flags as i32,
        to: to.map(Some),
    }));
    if r >= 0 {
        write_opt(sent, Some(r as u32));
        0
    } else {
        r
    }
}

/// The non-overlapped path: a plain recv scattered into the buffers.
unsafe fn recv_scattered(
    s: SOCKET,
    bufs: Option<Vec<(usize, usize)>>,
    flags: *mut u32,
    from: Option<(*mut SOCKADDR, *mut i32)>,
    recvd: *mut u32,
) -> i32 {
    let f = read_opt(flags).unwrap_or(0) as i32;
    let Some(bufs) = bufs else {
        return count(call(Call::Recv {
            s: Socket::from_raw(s),
            buf: None,
            len: 1,
            flags: f,
            from: None,
        }));
    };
    let mut tmp = vec![0u8; bufs.iter().map(|b| b.1).sum()];
    let len = i32::try_from(tmp.len()).unwrap_or(i32::MAX);
    let r = match from {
        None => count(call(Call::Recv {
            s: Socket::from_raw(s),
            buf: Some(&mut tmp),
            len,
            flags: f,
            from: None,
        })),
        Some((name, namelen)) => count(with_addr_out(name, namelen, |a, l| {
            call(Call::Recv {
                s: Socket::from_raw(s),
                buf: Some(&mut tmp),
                len,
                flags: f,
                from: Some((a, l)),
            })
        })),
    };
    if r < 0 {
        return r;
    }
    let mut rest = &tmp[..r as usize];
    for &(p, n) in &bufs {
        let k = n.min(rest.len());
        std::ptr::copy_nonoverlapping(rest.as_ptr(), p as *mut u8, k);
        rest = &rest[k..];
    }
    write_opt(recvd, Some(r as u32));
    write_opt(flags, Some(0));
    0
}

/// `WSASend`: with an `OVERLAPPED` on an overlapped socket, returns 0 when the send completed
/// at once or `SOCKET_ERROR`/`WSA_IO_PENDING`; completion sets `hEvent` (OV-3), or queues the
/// completion routine to this thread for its next alertable wait (OV-4), and posts to the
/// socket's completion port (OV-6). Without one, it is a blocking `send`.
///
/// ```
/// use ws2sim::sys::*;
/// # let sim = ws2sim::Sim::new();
/// # let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let to = SOCKADDR_IN::from("127.0.0.1:9".parse::<std::net::SocketAddrV4>().unwrap());
///     let mut data = *b"ping";
///     let buf = WSABUF { len: 4, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     ov.hEvent = WSACreateEvent() as HANDLE;
///     let mut sent = 0;
///     let r = WSASendTo(s, &buf, 1, &mut sent, 0, (&to as *const SOCKADDR_IN).cast(), 16, &mut ov, None);
///     assert_eq!((r, sent), (0, 4)); // completed at once ...
///     assert_eq!(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, 0, FALSE), WSA_WAIT_EVENT_0 as u32); // ... and signalled
///     WSACleanup();
/// });
/// ```
#[allow(clippy::too_many_arguments)]
pub unsafe fn WSASend(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytessent: *mut u32,
    dwflags: u32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let bufs = wsabufs(lpbuffers, dwbuffercount);
    if lpoverlapped.is_null() {
        return send_gathered(s, bufs, dwflags, None, lpnumberofbytessent);
    }
    start_overlapped(
        "WSASend",
        s,
        bufs,
        Some(None),
        lpoverlapped,
        lpcompletionroutine,
        (0, 0),
        lpnumberofbytessent,
        std::ptr::null_mut(),
    )
}

/// `WSASendTo`: `WSASend` to an address (datagram sockets).
#[allow(clippy::too_many_arguments)]
pub unsafe fn WSASendTo(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytessent: *mut u32,
    dwflags: u32,
    lpto: *const SOCKADDR,
    itolen: i32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let bufs = wsabufs(lpbuffers, dwbuffercount);
    let to = bytes_in(lpto.cast(), itolen);
    if lpoverlapped.is_null() {
        return send_gathered(s, bufs, dwflags, to, lpnumberofbytessent);
    }
    let dest = match to.map(crate::core::sockaddr::decode) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(_)) => {
            // A malformed address fails as sendto would.
            return send_gathered(s, bufs, dwflags, to, lpnumberofbytessent);
        }
    };
    start_overlapped(
        "WSASendTo",
        s,
        bufs,
        Some(dest),
        lpoverlapped,
        lpcompletionroutine,
        (0, 0),
        lpnumberofbytessent,
        std::ptr::null_mut(),
    )
}

/// `WSARecv`: with an `OVERLAPPED`, returns 0 when data was there at once or
/// `SOCKET_ERROR`/`WSA_IO_PENDING`; buffers of one socket are filled in posting order (OV-7).
/// Completion as for [`WSASend`]: with a completion routine, the routine is queued to this
/// thread and runs in its next alertable wait (OV-4); otherwise `hEvent` is set. Without an
/// `OVERLAPPED`, it is a blocking `recv`.
///
/// # Divergence
/// Every socket accepts overlapped operations, whether or not it was made with
/// `WSA_FLAG_OVERLAPPED` (sockets from `socket` are overlapped on Windows too).
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use ws2sim::sys::*;
/// static GOT: AtomicU32 = AtomicU32::new(0);
/// unsafe extern "system" fn done(err: u32, n: u32, _ov: *mut OVERLAPPED, _flags: u32) {
///     assert_eq!(err, 0);
///     GOT.store(n, Ordering::SeqCst);
/// }
/// # let sim = ws2sim::Sim::new();
/// # let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let at = SOCKADDR_IN::from("127.0.0.1:7001".parse::<std::net::SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 16];
///     let buf = WSABUF { len: 16, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let mut flags = 0;
///     let r = WSARecv(rx, &buf, 1, std::ptr::null_mut(), &mut flags, &mut ov, Some(done));
///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"hello".as_ptr(), 5, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     // The routine runs in an alertable wait once the datagram arrived (1 ms later).
///     assert_eq!(SleepEx(WSA_INFINITE, TRUE), WAIT_IO_COMPLETION);
///     assert_eq!(GOT.load(Ordering::SeqCst), 5);
///     assert_eq!(&data[..5], b"hello");
///     WSACleanup();
/// });
/// ```
#[allow(clippy::too_many_arguments)]
pub unsafe fn WSARecv(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytesrecvd: *mut u32,
    lpflags: *mut u32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let bufs = wsabufs(lpbuffers, dwbuffercount);
    if lpoverlapped.is_null() {
        return recv_scattered(s, bufs, lpflags, None, lpnumberofbytesrecvd);
    }
    start_overlapped(
        "WSARecv",
        s,
        bufs,
        None,
        lpoverlapped,
        lpcompletionroutine,
        (0, 0),
        lpnumberofbytesrecvd,
        lpflags,
    )
}

/// `WSARecvFrom`: `WSARecv` that also reports the sender (written on completion), in event
/// mode here:
///
/// ```
/// use ws2sim::sys::*;
/// # let sim = ws2sim::Sim::new();
/// # let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let at = SOCKADDR_IN::from("127.0.0.1:7002".parse::<std::net::SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 16];
///     let buf = WSABUF { len: 16, buf: data.as_mut_ptr() };
///     let mut from = SOCKADDR_IN::default();
///     let mut fromlen = 16;
///     let mut ov = OVERLAPPED::default();
///     ov.hEvent = WSACreateEvent() as HANDLE;
///     let mut flags = 0;
///     let r = WSARecvFrom(rx, &buf, 1, std::ptr::null_mut(), &mut flags,
///         (&mut from as *mut SOCKADDR_IN).cast(), &mut fromlen, &mut ov, None);
///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"hi".as_ptr(), 2, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     // The event is set when the datagram arrives; the record and the sender are filled.
///     assert_eq!(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, WSA_INFINITE, FALSE), 0);
///     assert_eq!(overlapped_status(&ov), OverlappedStatus::Done(2));
///     assert_eq!(std::net::SocketAddrV4::from(from).ip().octets(), [127, 0, 0, 1]);
///     WSACleanup();
/// });
/// ```
#[allow(clippy::too_many_arguments)]
pub unsafe fn WSARecvFrom(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytesrecvd: *mut u32,
    lpflags: *mut u32,
    lpfrom: *mut SOCKADDR,
    lpfromlen: *mut i32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let bufs = wsabufs(lpbuffers, dwbuffercount);
    if lpoverlapped.is_null() {
        return recv_scattered(
            s,
            bufs,
            lpflags,
            Some((lpfrom, lpfromlen)),
            lpnumberofbytesrecvd,
        );
    }
    let from = (lpfrom as usize, lpfromlen as usize);
    start_overlapped(
        "WSARecvFrom",
        s,
        bufs,
        None,
        lpoverlapped,
        lpcompletionroutine,
        from,
        lpnumberofbytesrecvd,
        lpflags,
    )
}

/// `WSAGetOverlappedResult` (OV-5): TRUE with the byte count once the operation completed;
/// FALSE with `WSA_IO_INCOMPLETE` while pending and `fWait` is FALSE; FALSE with the
/// operation's error when it failed. `fWait` TRUE waits in virtual time, not alertably; a wait
/// whose socket another thread closes returns the aborted operation's
/// `WSA_OPERATION_ABORTED`. After closesocket or the final cleanup a new call fails on the
/// handle first (`WSAENOTSOCK`, `WSANOTINITIALISED`): read the record with
/// [`overlapped_status`] instead.
///
/// ```
/// use ws2sim::sys::*;
/// # let sim = ws2sim::Sim::new();
/// # let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let at = SOCKADDR_IN::from("127.0.0.1:7003".parse::<std::net::SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 8];
///     let buf = WSABUF { len: 8, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let (mut flags, mut n) = (0u32, 0u32);
///     WSARecv(rx, &buf, 1, std::ptr::null_mut(), &mut flags, &mut ov, None);
///     // Still pending.
///     assert_eq!(WSAGetOverlappedResult(rx, &ov, &mut n, FALSE, &mut flags), FALSE);
///     assert_eq!(WSAGetLastError(), WSA_IO_INCOMPLETE);
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"abc".as_ptr(), 3, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     // fWait TRUE waits (1 ms of virtual time here).
///     assert_eq!(WSAGetOverlappedResult(rx, &ov, &mut n, TRUE, &mut flags), TRUE);
///     assert_eq!(n, 3);
///     WSACleanup();
/// });
/// ```
pub unsafe fn WSAGetOverlappedResult(
    s: SOCKET,
    lpoverlapped: *const OVERLAPPED,
    lpcbtransfer: *mut u32,
    fwait: BOOL,
    lpdwflags: *mut u32,
) -> BOOL {
    let r = call(Call::OverlappedResult {
        s: Socket::from_raw(s),
        key: (!lpoverlapped.is_null()).then_some(lpoverlapped as usize),
        wait: fwait != FALSE,
        has_bytes: !lpcbtransfer.is_null() && !lpdwflags.is_null(),
    });
    match r {
        Ok(Reply::Count(n)) => {
            write_opt(lpcbtransfer, Some(n));
            write_opt(lpdwflags, Some(0));
            TRUE
        }
        _ => FALSE,
    }
}

/// `CreateIoCompletionPort`: a new port (`FileHandle` `INVALID_HANDLE_VALUE`), or associates
/// a socket with `ExistingCompletionPort` (or a new port) under `CompletionKey`. NULL on
/// failure. Completion ports need no WSAStartup (they are kernel objects). Every operation
/// that completes on an associated socket posts one packet (OV-6), except those the final
/// cleanup aborts (CL-5).
///
/// ```
/// use ws2sim::sys::*;
/// # let sim = ws2sim::Sim::new();
/// # let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let port = CreateIoCompletionPort(s as HANDLE, std::ptr::null_mut(), 42, 0);
///     assert!(!port.is_null());
///     let to = SOCKADDR_IN::from("127.0.0.1:9".parse::<std::net::SocketAddrV4>().unwrap());
///     let mut data = *b"ping";
///     let buf = WSABUF { len: 4, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let mut sent = 0;
///     WSASendTo(s, &buf, 1, &mut sent, 0, (&to as *const SOCKADDR_IN).cast(), 16, &mut ov, None);
///     let (mut n, mut key, mut done) = (0u32, 0usize, std::ptr::null_mut());
///     assert_eq!(GetQueuedCompletionStatus(port, &mut n, &mut key, &mut done, 0), TRUE);
///     assert_eq!((n, key, done), (4, 42, &mut ov as *mut OVERLAPPED));
///     // Nothing more: a timeout of 10 ms of virtual time.
///     assert_eq!(GetQueuedCompletionStatus(port, &mut n, &mut key, &mut done, 10), FALSE);
///     assert_eq!(WSAGetLastError(), WAIT_TIMEOUT);
///     WSACleanup();
/// });
/// ```
pub unsafe fn CreateIoCompletionPort(
    filehandle: HANDLE,
    existingcompletionport: HANDLE,
    completionkey: usize,
    numberofconcurrentthreads: u32,
) -> HANDLE {
    let _ = numberofconcurrentthreads;
    let socket =
        (filehandle != INVALID_HANDLE_VALUE).then(|| Socket::from_raw(filehandle as usize));
    let existing = (!existingcompletionport.is_null())
        .then(|| PortHandle::from_raw(existingcompletionport as isize));
    match call(Call::CreatePort {
        socket,
        existing,
        key: completionkey,
    }) {
        Ok(Reply::Port(p)) => p.raw() as HANDLE,
        _ => std::ptr::null_mut(),
    }
}

/// `GetQueuedCompletionStatus` (OV-6): the oldest packet of the port, waiting up to
/// `dwmilliseconds` of virtual time (`INFINITE`: no limit). TRUE for a successful operation;
/// FALSE with `*lpoverlapped` set and the operation's error for a failed one; FALSE with
/// `*lpoverlapped` NULL and `WAIT_TIMEOUT` on timeout.
pub unsafe fn GetQueuedCompletionStatus(
    completionport: HANDLE,
    lpnumberofbytestransferred: *mut u32,
    lpcompletionkey: *mut usize,
    lpoverlapped: *mut *mut OVERLAPPED,
    dwmilliseconds: u32,
) -> BOOL {
    let timeout = (dwmilliseconds != WSA_INFINITE)
        .then(|| std::time::Duration::from_millis(u64::from(dwmilliseconds)));
    let r = call(Call::GetQueued {
        port: PortHandle::from_raw(completionport as isize),
        timeout,
    });
    match r {
        Ok(Reply::Packet(p)) => {
            write_opt(lpnumberofbytestransferred, Some(p.bytes));
            write_opt(lpcompletionkey, Some(p.key));
            write_opt(lpoverlapped, Some(p.overlapped as *mut OVERLAPPED));
            if p.error.is_some() {
                FALSE
            } else {
                TRUE
            }
        }
        _ => {
            write_opt(lpoverlapped, Some(std::ptr::null_mut()));
            FALSE
        }
    }
}

/// What an `OVERLAPPED` record says of its operation (ws2sim helper, not a Windows function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlappedStatus {
    /// `Internal` is `STATUS_PENDING`.
    Pending,
    /// Completed: `InternalHigh` bytes.
    Done(u32),
    /// Failed with this error (`Internal` holds its NTSTATUS, e.g. `STATUS_CANCELLED` for
    /// `WSA_OPERATION_ABORTED`).
    Failed(WsaError),
}

/// Reads an `OVERLAPPED` record's `Internal`/`InternalHigh` as ws2sim and Windows write them
/// (NTSTATUS values), e.g. to check that the final cleanup left WSA_OPERATION_ABORTED (CL-5).
pub fn overlapped_status(ov: &OVERLAPPED) -> OverlappedStatus {
    use crate::core::overlapped::{error_of_ntstatus, status};
    if ov.Internal == status::PENDING {
        return OverlappedStatus::Pending;
    }
    match error_of_ntstatus(ov.Internal) {
        None => OverlappedStatus::Done(ov.InternalHigh as u32),
        Some(e) => OverlappedStatus::Failed(e),
    }
}
