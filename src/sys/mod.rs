//! Winsock with windows-sys' names, types and signatures, so the same source compiles against
//! either:
//!
//! ```
//! #[cfg(windows)]
//! use windows_sys::Win32::Networking::WinSock as ws;
//! #[cfg(not(windows))]
//! use ws2sim::sys as ws;
//!
//! // The Winsock code, run here inside a simulated process.
//! let sim = ws2sim::Sim::new();
//! sim.localhost().process("app").run(|| unsafe {
//!     let mut data: ws::WSADATA = std::mem::zeroed();
//!     assert_eq!(ws::WSAStartup(0x0202, &mut data), 0);
//!     let s = ws::socket(ws::AF_INET as i32, ws::SOCK_STREAM, ws::IPPROTO_TCP);
//!     assert_ne!(s, ws::INVALID_SOCKET);
//!     assert_eq!(ws::closesocket(s), 0);
//!     assert_eq!(ws::closesocket(s), ws::SOCKET_ERROR);
//!     assert_eq!(ws::WSAGetLastError(), ws::WSAENOTSOCK);
//!     assert_eq!(ws::WSACleanup(), 0);
//! });
//! ```
//!
//! Every function is an `unsafe fn` taking raw pointers, as in windows-sys. Each pointer must
//! be NULL or valid for the access the Winsock documentation describes; NULL where a value is
//! needed gives `WSAEFAULT` at the point SPEC [ER-3] puts it, never a panic. Output buffers
//! (`recv`, `getsockopt`, ...) must hold initialised bytes, as any `&mut [u8]` in Rust must
//! (`WSADATA` may be uninitialised). Buffers and `OVERLAPPED`s of overlapped operations must
//! stay valid, and not move, until the operation completes, as on Windows. The functions hold no
//! behaviour of their own: they turn pointers into byte slices and hand the call to the core.
//!
//! The examples build a `SOCKADDR_IN` field by field, as code written against windows-sys
//! does, and start structures such as `WSADATA` from `std::mem::zeroed()`.
//!
//! # Errors
//! A failed call sets the calling thread's last error ([`WSAGetLastError`]) and returns
//! `SOCKET_ERROR` (`INVALID_SOCKET`, `FALSE`, `WSA_WAIT_FAILED`, as its signature requires);
//! only [`WSAStartup`] returns its error itself ([ER-4]). Every call that needs Winsock
//! started checks, in this order, before its own errors:
//! 1. the process's startup count is 0: `WSANOTINITIALISED` ([ER-1]; not checked by
//!    `WSAStartup`, `WSAGetLastError`, `WSASetLastError` and the kernel32 event, wait and
//!    completion-port functions);
//! 2. the host's network is marked failed: `WSAENETDOWN` ([ER-5]);
//! 3. the socket handle is not an open socket of the process (never one, closed, or from before
//!    the last final cleanup): `WSAENOTSOCK` ([ER-2]).
//!
//! Then each function's own errors, as its page lists them: the socket's state before its
//! pointers and lengths ([ER-3]).
//!
//! # Panics
//! Calling any of these outside [`Process::run`](crate::Process::run) panics with a message
//! saying so: there is no process whose call could fail.
//!
//! [ER-1]: crate::rules#er-1
//! [ER-2]: crate::rules#er-2
//! [ER-3]: crate::rules#er-3
//! [ER-4]: crate::rules#er-4
//! [ER-5]: crate::rules#er-5
#![allow(non_snake_case, clippy::missing_safety_doc)]
#![allow(unsafe_code)]

mod addr;
mod control;
mod events;
mod mswsock;
mod net;
mod overlapped;
mod ports;
pub(crate) mod program_exec;
mod resolve;
mod sync;
mod threads;
mod types;

pub use crate::consts::*;
pub use addr::*;
pub use control::*;
pub use events::*;
pub use mswsock::*;
pub use net::*;
pub use overlapped::*;
pub use ports::*;
pub use resolve::*;
pub use sync::*;

pub use threads::*;
pub use types::*;

use crate::core::call::{OptionCall, ProcessCall, SocketCall};
use crate::core::catalog::{ProtocolInfo, PROTOCOL_INFO_SIZE};
use crate::core::ws2::table::Socket;
use crate::core::ws2::version::{Version, WSADATA_SIZE};
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

/// `WSAStartup`: starts Winsock for the calling process and fills `*lpwsadata`. Returns 0, or
/// the error code itself rather than `SOCKET_ERROR` ([ER-4]).
///
/// - The version is negotiated by major number: 0 fails `WSAVERNOTSUPPORTED`, 1 gives 1.0 or
///   1.1, 2 gives 2.0 to 2.2, 3 and above 2.2; `wHighVersion` is 2.2 ([ST-1]).
/// - `*lpwsadata` is filled even when the call fails ([ST-2]); a NULL `lpwsadata` fails
///   `WSAEFAULT`, checked after the version ([ST-3]).
/// - Each success adds one to the process's startup count, which [`WSACleanup`] counts down
///   ([ST-4]); the first creates the process's Ws2_32 state, and one after a final cleanup
///   starts from a clean state ([ST-6]).
/// - The lowest version negotiated governs Winsock 1.1 behaviour ([ST-5]).
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0000, &mut data), WSAVERNOTSUPPORTED); // major 0
///     assert_eq!(data.wHighVersion, 0x0202); // filled all the same
///     assert_eq!(WSAStartup(0x0202, std::ptr::null_mut()), WSAEFAULT);
///
///     assert_eq!(WSAStartup(0x0303, &mut data), 0); // 3.3 is answered with 2.2
///     assert_eq!(data.wVersion, 0x0202);
///     assert_eq!(WSAStartup(0x0101, &mut data), 0); // 1.1
///     assert_eq!(data.wVersion, 0x0101);
///     // Two successful startups: two cleanups end Winsock.
///     assert_eq!(WSACleanup(), 0);
///     assert_eq!(WSACleanup(), 0);
///     assert_eq!(WSACleanup(), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSANOTINITIALISED);
/// });
/// ```
///
/// [ER-4]: crate::rules#er-4
/// [ST-1]: crate::rules#st-1
/// [ST-2]: crate::rules#st-2
/// [ST-3]: crate::rules#st-3
/// [ST-4]: crate::rules#st-4
/// [ST-5]: crate::rules#st-5
/// [ST-6]: crate::rules#st-6
pub unsafe fn WSAStartup(wversionrequested: u16, lpwsadata: *mut WSADATA) -> i32 {
    // The core fills a local copy; the fields are then written one by one, so the caller's
    // structure may be uninitialised and lpVendorInfo is never touched (ST-2).
    let mut local = [0u8; WSADATA_SIZE];
    let data = (!lpwsadata.is_null()).then_some(&mut local);
    let requested = Version::from_word(wversionrequested);
    let r = call(ProcessCall::Startup { requested, data });
    if !lpwsadata.is_null() {
        let filled = std::mem::transmute::<[u8; WSADATA_SIZE], WSADATA>(local);
        let p = lpwsadata;
        std::ptr::addr_of_mut!((*p).wVersion).write_unaligned(filled.wVersion);
        std::ptr::addr_of_mut!((*p).wHighVersion).write_unaligned(filled.wHighVersion);
        std::ptr::addr_of_mut!((*p).iMaxSockets).write_unaligned(filled.iMaxSockets);
        std::ptr::addr_of_mut!((*p).iMaxUdpDg).write_unaligned(filled.iMaxUdpDg);
        std::ptr::addr_of_mut!((*p).szDescription).write_unaligned(filled.szDescription);
        std::ptr::addr_of_mut!((*p).szSystemStatus).write_unaligned(filled.szSystemStatus);
    }
    match r {
        Ok(_) => 0,
        Err(e) => e.code(),
    }
}

/// `WSACleanup`: ends one [`WSAStartup`] of the calling process ([CL-1] to [CL-13]).
///
/// With the startup count at 0 it fails `WSANOTINITIALISED` ([CL-1]); above 1 it only counts
/// down ([CL-2]). The call that reaches 0 is the final cleanup:
/// - blocking calls in every thread of the process return `WSAEINTR` ([CL-4]);
/// - pending overlapped operations fail `WSA_OPERATION_ABORTED`, with no event, completion
///   routine or port packet ([CL-5]);
/// - open sockets are reset and freed as if `closesocket` were called, as the
///   [`Profile`](crate::Profile) says ([CL-6]); sockets already closed keep sending their data
///   while the process lives ([CL-7]);
/// - every per-process resource is released, so
///   [`Process::live_resources`](crate::Process::live_resources) is then 0 ([CL-8]).
///
/// A successful call sets the thread's last error to 0 ([CL-3]).
///
/// # Divergence
/// With the network failed ([CL-11]) the call returns `WSAENETDOWN` after counting down, and
/// when the count reaches 0 the final cleanup is still performed (the SPEC says only that the
/// count drops; a final cleanup left undone would leak the state). A successful call leaves the
/// thread's last error 0 ([CL-3]).
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSACleanup(), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSANOTINITIALISED);
///
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     assert_eq!(WSACleanup(), 0); // count 2 -> 1: nothing else changes
///     let mut on = 1u32;
///     assert_eq!(ioctlsocket(s, FIONBIO, &mut on), 0);
///
///     assert_eq!(WSACleanup(), 0); // count 1 -> 0: the final cleanup frees the socket
///     assert_eq!(WSAGetLastError(), 0);
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     assert_eq!(closesocket(s), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAENOTSOCK);
///     assert_eq!(WSACleanup(), 0);
/// });
/// assert_eq!(p.live_resources(), 0);
/// ```
///
/// [CL-1]: crate::rules#cl-1
/// [CL-2]: crate::rules#cl-2
/// [CL-3]: crate::rules#cl-3
/// [CL-4]: crate::rules#cl-4
/// [CL-5]: crate::rules#cl-5
/// [CL-6]: crate::rules#cl-6
/// [CL-7]: crate::rules#cl-7
/// [CL-8]: crate::rules#cl-8
/// [CL-11]: crate::rules#cl-11
/// [CL-13]: crate::rules#cl-13
pub unsafe fn WSACleanup() -> i32 {
    status(call(ProcessCall::Cleanup))
}

/// `WSAGetLastError`: the calling thread's last error, which every failing call sets ([ER-4]).
/// Each simulated thread has its own, and it works without `WSAStartup` ([TH-1]).
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     assert_eq!(WSAGetLastError(), 0);
///     assert_eq!(socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP), INVALID_SOCKET);
///     assert_eq!(WSAGetLastError(), WSANOTINITIALISED);
///     // Another thread has its own.
///     let t = p.spawn(|| unsafe { WSAGetLastError() });
///     assert_eq!(t.join(), 0);
/// });
/// ```
///
/// [ER-4]: crate::rules#er-4
/// [TH-1]: crate::rules#th-1
pub unsafe fn WSAGetLastError() -> WSA_ERROR {
    match call(ProcessCall::GetLastError) {
        Ok(Reply::LastError(e)) => e,
        other => unreachable!("WSAGetLastError always succeeds, got {other:?}"),
    }
}

/// `WSASetLastError`: sets the calling thread's last error to any value ([TH-1]); it works
/// without `WSAStartup`.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     WSASetLastError(WSAEWOULDBLOCK);
///     assert_eq!(WSAGetLastError(), WSAEWOULDBLOCK);
///     WSASetLastError(-7);
///     assert_eq!(WSAGetLastError(), -7);
/// });
/// ```
///
/// [TH-1]: crate::rules#th-1
pub unsafe fn WSASetLastError(ierror: i32) {
    let _ = call(ProcessCall::SetLastError(ierror));
}

fn socket_result(r: Result<Reply, WsaError>) -> SOCKET {
    match r {
        Ok(Reply::Socket(s)) => s.raw(),
        Ok(other) => unreachable!("socket creation returned {other:?}"),
        Err(_) => INVALID_SOCKET,
    }
}

/// `socket`: a new socket of the first catalog entry ([SP-11]) serving (`af`, `type`,
/// `protocol`); `af` or `type` 0 matches any, `protocol` 0 the entry's default. The first
/// socket of a provider in the process loads it ([SP-1]). Sockets made by `socket` are
/// overlapped-capable, as on Windows; they start blocking, unbound, with linger off.
///
/// Errors, after `WSANOTINITIALISED` and `WSAENETDOWN` ([checks](crate::sys#errors)): `af` and
/// `protocol` both 0 `WSAEINVAL`; a type no entry has `WSAESOCKTNOSUPPORT`; a family no entry
/// has `WSAEAFNOSUPPORT`; no entry serving all three `WSAEPROTONOSUPPORT`.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let s = socket(AF_INET as i32, SOCK_STREAM, 0); // TCP, the stream default
///     assert_ne!(s, INVALID_SOCKET);
///     assert_eq!(WSAGetLastError(), 0);
///     let mut ty = 0i32;
///     let mut len = 4;
///     assert_eq!(getsockopt(s, SOL_SOCKET, SO_TYPE, (&raw mut ty).cast(), &mut len), 0);
///     assert_eq!(ty, SOCK_STREAM);
///
///     assert_eq!(socket(AF_INET as i32, 99, 0), INVALID_SOCKET);
///     assert_eq!(WSAGetLastError(), WSAESOCKTNOSUPPORT);
///     assert_eq!(socket(AF_INET as i32, SOCK_STREAM, IPPROTO_UDP), INVALID_SOCKET);
///     assert_eq!(WSAGetLastError(), WSAEPROTONOSUPPORT);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// # Divergence
/// A successful `socket`/`WSASocketW` leaves the thread's last error 0, as Windows does in
/// Wine's conformance tests (so do successful `setsockopt` and `ioctlsocket`); other
/// successful calls leave it alone.
///
/// [SP-1]: crate::rules#sp-1
/// [SP-11]: crate::rules#sp-11
pub unsafe fn socket(af: i32, r#type: WINSOCK_SOCKET_TYPE, protocol: i32) -> SOCKET {
    socket_result(call(SocketCall::Socket {
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
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let flags = WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT;
///     let s = WSASocketW(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP, std::ptr::null(), 0, flags);
///     assert_ne!(s, INVALID_SOCKET);
///     // From a catalog entry: the UDP one, found with WSAEnumProtocolsW.
///     let udp = [IPPROTO_UDP, 0];
///     let mut info = WSAPROTOCOL_INFOW::default();
///     let mut len = std::mem::size_of::<WSAPROTOCOL_INFOW>() as u32;
///     assert_eq!(WSAEnumProtocolsW(udp.as_ptr(), &mut info, &mut len), 1);
///     let any = FROM_PROTOCOL_INFO;
///     let u = WSASocketW(any, any, any, &info, 0, WSA_FLAG_OVERLAPPED);
///     let (mut ty, mut optlen) = (0i32, 4);
///     assert_eq!(getsockopt(u, SOL_SOCKET, SO_TYPE, (&raw mut ty).cast(), &mut optlen), 0);
///     assert_eq!(ty, SOCK_DGRAM);
///     assert_eq!(WSASocketW(AF_INET as i32, SOCK_DGRAM, IPPROTO_TCP, std::ptr::null(), 0, 0),
///         INVALID_SOCKET);
///     assert_eq!(WSAGetLastError(), WSAEPROTONOSUPPORT);
///     WSACleanup();
/// });
/// ```
pub unsafe fn WSASocketW(
    af: i32,
    r#type: i32,
    protocol: i32,
    lpprotocolinfo: *const WSAPROTOCOL_INFOW,
    g: u32,
    dwflags: u32,
) -> SOCKET {
    let info = read_opt(lpprotocolinfo).map(|i| ProtocolInfo::from(&i));
    socket_result(call(SocketCall::Socket {
        af,
        ty: r#type,
        protocol,
        info,
        group: g,
        flags: dwflags,
        wsa: true,
    }))
}

/// `WSADuplicateSocketW` ([DU-1]): fills `*lpProtocolInfo` so that process `dwProcessId`
/// opens the same socket with `WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
/// FROM_PROTOCOL_INFO, &info, 0, 0)`: its own handle to the same endpoint, connection and
/// data. The connection is closed only when its last handle is closed, and a process's final
/// `WSACleanup` destroys its own handles only. Each call's info opens one handle, in the
/// process it names. A bad handle fails `WSAENOTSOCK`; a NULL `lpProtocolInfo`
/// `WSAEFAULT`; a process id that names no running process `WSAEINVAL`.
///
/// ```
/// use ws2sim::{sys::*, Sim};
/// let sim = Sim::new();
/// let host = sim.localhost();
/// let (parent, child) = (host.process("parent"), host.process("child"));
/// let start = || unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
/// };
/// child.run(start);
/// let child_pid = child.run(|| unsafe { GetCurrentProcessId() });
/// let info = parent.run(|| unsafe {
///     start();
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let mut info = WSAPROTOCOL_INFOW::default();
///     assert_eq!(WSADuplicateSocketW(s, child_pid, &mut info), 0);
///     assert_eq!(WSADuplicateSocketW(s, 999, &mut info), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
///     (s, info)
/// });
/// let dup = child.run(|| unsafe {
///     let s = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info.1, 0, 0);
///     assert_ne!(s, INVALID_SOCKET);
///     s
/// });
/// parent.run(|| unsafe { assert_eq!(closesocket(info.0), 0) }); // the child's handle keeps it
/// child.run(|| unsafe { assert_eq!(closesocket(dup), 0) }); // the last handle: closed
/// ```
///
/// # Divergence
/// The `WSAPROTOCOL_INFOW` must be used while a handle of the socket is still open: here an
/// unused one lapses when the last handle closes (Windows duplicates the handle at once).
///
/// [DU-1]: crate::rules#du-1
pub unsafe fn WSADuplicateSocketW(
    s: SOCKET,
    dwprocessid: u32,
    lpprotocolinfo: *mut WSAPROTOCOL_INFOW,
) -> i32 {
    let info = (!lpprotocolinfo.is_null()).then(|| {
        std::slice::from_raw_parts_mut(
            lpprotocolinfo.cast::<u8>(),
            std::mem::size_of::<WSAPROTOCOL_INFOW>(),
        )
    });
    status(call(SocketCall::Duplicate {
        s: Socket::from_raw(s),
        process: dwprocessid,
        info,
    }))
}

/// `closesocket`: closes `s` ([CS-1] to [CS-8]).
///
/// An unknown or closed handle fails `WSAENOTSOCK`, and a closed socket's handle is never
/// handed out again ([CS-1]). The socket's `SO_LINGER` decides how the connection ends:
/// - off (the default): returns at once; queued data is still sent, then FIN ([CS-2]);
/// - on with timeout 0: the connection is reset and unsent data discarded ([CS-3]);
/// - on with a timeout, blocking socket: waits in virtual time until the data is sent or the
///   timeout expires, then resets ([CS-4]); non-blocking socket with data queued: fails
///   `WSAEWOULDBLOCK` and the socket stays valid ([CS-5]).
///
/// Pending overlapped operations on `s` fail `WSA_OPERATION_ABORTED` through their completion
/// action ([CS-6]); blocking calls on `s` in other threads return `WSAEINTR` ([CS-7]).
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// // SO_LINGER's value, as windows-sys' LINGER { l_onoff, l_linger }.
/// fn linger(on: u16, seconds: u16) -> LINGER {
///     LINGER { l_onoff: on, l_linger: seconds }
/// }
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let s = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     // Linger on with a timeout, on a socket with nothing queued: closes at once.
///     let l = linger(1, 5);
///     assert_eq!(setsockopt(s, SOL_SOCKET, SO_LINGER, (&raw const l).cast(), 4), 0);
///     assert_eq!(closesocket(s), 0);
///     assert_eq!(closesocket(s), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAENOTSOCK);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [CS-1]: crate::rules#cs-1
/// [CS-2]: crate::rules#cs-2
/// [CS-3]: crate::rules#cs-3
/// [CS-4]: crate::rules#cs-4
/// [CS-5]: crate::rules#cs-5
/// [CS-6]: crate::rules#cs-6
/// [CS-7]: crate::rules#cs-7
/// [CS-8]: crate::rules#cs-8
pub unsafe fn closesocket(s: SOCKET) -> i32 {
    status(call(SocketCall::CloseSocket(Socket::from_raw(s))))
}

/// `setsockopt`: sets an option from the `optlen` bytes at `optval`, with Windows' value
/// types and sizes ([OP-1]):
///
/// - `SOL_SOCKET`: `SO_LINGER` takes a `LINGER`, `SO_DONTLINGER` a `BOOL` (it sets `l_onoff`
///   to its negation, keeping `l_linger`) ([CS-8]); `SO_SNDBUF`, `SO_RCVBUF`, `SO_SNDTIMEO`,
///   `SO_RCVTIMEO` (milliseconds, 0 = none: [OP-2]) and `SO_ERROR` a `DWORD`; `SO_REUSEADDR`,
///   `SO_EXCLUSIVEADDRUSE` ([OP-4]), `SO_BROADCAST` ([OP-6]), `SO_OOBINLINE` a `BOOL` of 0..4
///   bytes; `SO_KEEPALIVE` a one-byte `BOOL`.
/// - `IPPROTO_TCP` (stream sockets): `TCP_NODELAY` a one-byte `BOOL`; `TCP_KEEPALIVE` (=
///   `TCP_KEEPIDLE`), `TCP_KEEPINTVL`, `TCP_KEEPCNT` (at most 255) `DWORD`s.
/// - `IPPROTO_IP`: `IP_TTL`, `IP_TOS` (0..=255, 1..4 bytes), `IP_DONTFRAGMENT` (a `BOOL`); on
///   datagram sockets also `IP_MULTICAST_TTL`, `IP_MULTICAST_LOOP`, `IP_MULTICAST_IF` (an
///   `IN_ADDR`), `IP_PKTINFO`, and `IP_ADD_MEMBERSHIP` / `IP_DROP_MEMBERSHIP` (an `IP_MREQ`),
///   `IP_ADD_SOURCE_MEMBERSHIP` / `IP_DROP_SOURCE_MEMBERSHIP` (an `IP_MREQ_SOURCE`).
/// - `IPPROTO_IPV6`: the `IPV6_*` options of [OP-1] on `AF_INET6` sockets, which the catalog
///   does not have yet.
///
/// Errors, after the [checks every call makes](crate::sys#errors): an unknown level (and
/// `IPPROTO_IPV6` on an `AF_INET` socket) `WSAEINVAL`, as Windows does; an unknown option, an
/// option of another socket type (`IPPROTO_TCP` or `IP_MULTICAST_*` options, `SO_LINGER`
/// on a datagram socket ([CS-8])), any `IPPROTO_UDP` option, or a read-only option
/// (`SO_TYPE`, `SO_ACCEPTCONN`, ...) `WSAENOPROTOOPT`; `SO_REUSEADDR` and
/// `SO_EXCLUSIVEADDRUSE` both TRUE `WSAEINVAL` ([OP-4]); a value out of range (`IP_TTL` over
/// 255, ...) `WSAEINVAL`; joining a group twice `WSAEADDRINUSE`, leaving one not joined
/// `WSAEADDRNOTAVAIL`, a group outside 224.0.0.0/4 `WSAEINVAL`; then ([ER-3]) a NULL `optval`,
/// a negative `optlen`, or fewer bytes than the option's type `WSAEFAULT`.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let s = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     let l = LINGER { l_onoff: 1, l_linger: 10 };
///     assert_eq!(setsockopt(s, SOL_SOCKET, SO_LINGER, (&raw const l).cast(), 4), 0);
///     let off: i32 = 1; // SO_DONTLINGER TRUE: linger off, l_linger kept
///     assert_eq!(setsockopt(s, SOL_SOCKET, SO_DONTLINGER, (&raw const off).cast(), 4), 0);
///     let mut got: LINGER = std::mem::zeroed();
///     let mut len = 4;
///     assert_eq!(getsockopt(s, SOL_SOCKET, SO_LINGER, (&raw mut got).cast(), &mut len), 0);
///     assert_eq!((got.l_onoff, got.l_linger), (0, 10));
///
///     assert_eq!(setsockopt(s, SOL_SOCKET, SO_LINGER, std::ptr::null(), 4), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEFAULT);
///     let u = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     assert_eq!(setsockopt(u, SOL_SOCKET, SO_LINGER, (&raw const l).cast(), 4), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAENOPROTOOPT);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// # Divergence
/// A negative `optlen` fails `WSAEFAULT` for every option, where Windows 7–10 accept it for
/// 4-byte ones; an unknown level fails `WSAEINVAL` as on Windows, not `WSAENOPROTOOPT` as
/// [OP-1] says; the multicast, TOS and don't-fragment options are stored and read back but
/// change nothing on the simulated network ([the divergences](crate::divergences) of the
/// core's option code).
///
/// [CS-8]: crate::rules#cs-8
/// [ER-3]: crate::rules#er-3
/// [OP-1]: crate::rules#op-1
/// [OP-2]: crate::rules#op-2
/// [OP-4]: crate::rules#op-4
/// [OP-6]: crate::rules#op-6
pub unsafe fn setsockopt(
    s: SOCKET,
    level: i32,
    optname: i32,
    optval: *const u8,
    optlen: i32,
) -> i32 {
    let value = (!optval.is_null())
        .then(|| std::slice::from_raw_parts(optval, usize::try_from(optlen).unwrap_or(0)));
    status(call(OptionCall::SetSockOpt {
        s: Socket::from_raw(s),
        level,
        name: optname,
        value,
        len: optlen,
    }))
}

/// `getsockopt`: reads an option of [`setsockopt`]'s levels into the `*optlen` bytes at
/// `optval` and sets `*optlen` to the bytes written ([OP-1]): `SO_LINGER` (a `LINGER`),
/// `SO_DONTLINGER` (`!l_onoff`) ([CS-8]), `SO_TYPE`, `SO_ACCEPTCONN`, `SO_SNDBUF`/`SO_RCVBUF`
/// (64 KiB by default), `SO_PROTOCOL_INFOW` (the socket's catalog entry, a
/// `WSAPROTOCOL_INFOW`), `SO_ERROR` (the pending error, cleared by reading it: [OP-6]), the
/// `BOOL`s (4 bytes; `SO_KEEPALIVE` and `TCP_NODELAY` 1 byte), and Windows' defaults for the
/// others (`IP_TTL` 128, `TCP_KEEPALIVE` 7200 s, `TCP_KEEPINTVL` 1 s, `TCP_KEEPCNT` 10,
/// `IP_MULTICAST_TTL` 1, `IP_MULTICAST_LOOP` TRUE). The membership options are set only.
///
/// Errors, after the [checks every call makes](crate::sys#errors): the level and option
/// errors of [`setsockopt`] (no option is read-only here); then ([ER-3]) a NULL `optval` or
/// `optlen`, or a buffer too small for the option's type, `WSAEFAULT`.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let mut v = 0u32;
///     let mut len = 4;
///     assert_eq!(getsockopt(s, SOL_SOCKET, SO_RCVBUF, (&raw mut v).cast(), &mut len), 0);
///     assert_eq!((v, len), (65536, 4));
///     assert_eq!(getsockopt(s, SOL_SOCKET, SO_TYPE, (&raw mut v).cast(), &mut len), 0);
///     assert_eq!(v, SOCK_DGRAM as u32);
///
///     let mut info: WSAPROTOCOL_INFOW = std::mem::zeroed();
///     let mut len = size_of::<WSAPROTOCOL_INFOW>() as i32;
///     let p_info = (&raw mut info).cast();
///     assert_eq!(getsockopt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, p_info, &mut len), 0);
///     assert_eq!(info.iProtocol, IPPROTO_UDP);
///
///     let mut len = 4;
///     assert_eq!(getsockopt(s, IPPROTO_TCP, 1, (&raw mut v).cast(), &mut len), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAENOPROTOOPT);
///     assert_eq!(getsockopt(s, IPPROTO_IP, IP_TTL, (&raw mut v).cast(), &mut len), 0);
///     assert_eq!((v, len), (128, 4));
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [CS-8]: crate::rules#cs-8
/// [ER-3]: crate::rules#er-3
/// [OP-1]: crate::rules#op-1
/// [OP-6]: crate::rules#op-6
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
    let r = call(OptionCall::GetSockOpt {
        s: Socket::from_raw(s),
        level,
        name: optname,
        value,
        len: len.as_mut(),
    });
    write_opt(optlen, len);
    status(r)
}

/// `ioctlsocket`: `FIONBIO` makes the socket non-blocking (`*argp` non-zero) or blocking;
/// `FIONREAD` sets `*argp` to the bytes one `recv` can read at once (a datagram socket: the
/// size of the next datagram); `SIOCATMARK` sets it TRUE (no urgent data is ever waiting).
///
/// Errors, after the [checks every call makes](crate::sys#errors): another command
/// `WSAEOPNOTSUPP`; a NULL `argp` `WSAEFAULT`; `FIONBIO` 0 on a socket with a `WSAEventSelect`
/// association `WSAEINVAL`.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let mut n = 1u32;
///     assert_eq!(ioctlsocket(s, FIONBIO, &mut n), 0);
///     let mut buf = [0u8; 4];
///     // Non-blocking: recv does not wait (the socket is not even bound).
///     assert_eq!(recv(s, buf.as_mut_ptr(), 4, 0), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEWOULDBLOCK);
///     assert_eq!(ioctlsocket(s, FIONREAD, &mut n), 0);
///     assert_eq!(n, 0);
///     assert_eq!(ioctlsocket(s, 0x1234, &mut n), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEOPNOTSUPP);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
pub unsafe fn ioctlsocket(s: SOCKET, cmd: i32, argp: *mut u32) -> i32 {
    let mut arg = read_opt(argp);
    let r = call(OptionCall::IoctlSocket {
        s: Socket::from_raw(s),
        cmd,
        arg: arg.as_mut(),
    });
    write_opt(argp, arg);
    status(r)
}

/// `WSAEnumProtocolsW`: the visible catalog entries ([SP-11]); `lpiprotocols` is NULL or a
/// 0-terminated array; the buffer holds `*lpdwbufferlength` bytes.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     // First ask how much room the whole catalog takes ...
///     let mut len = 0;
///     let r = WSAEnumProtocolsW(std::ptr::null(), std::ptr::null_mut(), &mut len);
///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSAENOBUFS));
///     let size = std::mem::size_of::<WSAPROTOCOL_INFOW>() as u32;
///     assert_eq!(len, 3 * size);
///     // ... then read it.
///     let mut entries = vec![WSAPROTOCOL_INFOW::default(); (len / size) as usize];
///     assert_eq!(WSAEnumProtocolsW(std::ptr::null(), entries.as_mut_ptr(), &mut len), 3);
///     let tcp = &entries[0];
///     let entry = (tcp.iAddressFamily, tcp.iSocketType, tcp.iProtocol);
///     assert_eq!(entry, (AF_INET as i32, SOCK_STREAM, IPPROTO_TCP));
///     let name = &tcp.szProtocol[..tcp.szProtocol.iter().position(|&c| c == 0).unwrap()];
///     assert_eq!(String::from_utf16_lossy(name), "MSAFD Tcpip [TCP/IP]");
///     // Only the UDP entries.
///     let udp = [IPPROTO_UDP, 0];
///     assert_eq!(WSAEnumProtocolsW(udp.as_ptr(), entries.as_mut_ptr(), &mut len), 1);
///     assert_eq!(entries[0].iSocketType, SOCK_DGRAM);
///     WSACleanup();
/// });
/// ```
///
/// # Divergence
/// A NULL `lpdwBufferLength` fails `WSAEFAULT` (Windows' behaviour is undocumented); with a
/// NULL buffer the call always fails `WSAENOBUFS` with the needed length, even when no entry
/// matches the filter (needed length 0), as Wine does.
///
/// [SP-11]: crate::rules#sp-11
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
    let r = call(ProcessCall::EnumProtocols {
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

fn boolean(r: Result<Reply, WsaError>) -> BOOL {
    if r.is_ok() {
        TRUE
    } else {
        FALSE
    }
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
