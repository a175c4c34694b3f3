//! mswsock's accept and disconnect functions: `AcceptEx`, `GetAcceptExSockaddrs` and
//! `DisconnectEx` ([EX-2], [EX-4]), exported directly as windows-sys links them and handed out
//! by `WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)` as real callers look them up.
//!
//! This module only translates: the operations are decided in the core
//! (`Machine::ex_2`, `Machine::ex_4_disconnect`), and the output buffer's layout that
//! `GetAcceptExSockaddrs` reads is the core's `AddressOffsets`.
//!
//! [EX-2]: crate::rules#ex-2
//! [EX-4]: crate::rules#ex-4
#![allow(non_snake_case, non_camel_case_types)]

use core::ffi::c_void;

use super::overlapped::into_buffer;
use super::types::*;
use crate::consts::*;
use crate::core::call::IoCall;
use crate::core::overlapped::{AcceptLengths, OpKind, OpRequest};
use crate::core::providers::accept_ex::AddressOffsets;
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::sim::thread::call;

/// `LPFN_ACCEPTEX`: the type of the function `WSAID_ACCEPTEX` names.
pub type LPFN_ACCEPTEX = Option<
    unsafe extern "system-unwind" fn(
        SOCKET,
        SOCKET,
        *mut c_void,
        u32,
        u32,
        u32,
        *mut u32,
        *mut OVERLAPPED,
    ) -> BOOL,
>;

/// `LPFN_GETACCEPTEXSOCKADDRS`: the type of the function `WSAID_GETACCEPTEXSOCKADDRS` names.
pub type LPFN_GETACCEPTEXSOCKADDRS = Option<
    unsafe extern "system-unwind" fn(
        *const c_void,
        u32,
        u32,
        u32,
        *mut *mut SOCKADDR,
        *mut i32,
        *mut *mut SOCKADDR,
        *mut i32,
    ),
>;

/// `LPFN_DISCONNECTEX`: the type of the function `WSAID_DISCONNECTEX` names.
pub type LPFN_DISCONNECTEX =
    Option<unsafe extern "system-unwind" fn(SOCKET, *mut OVERLAPPED, u32, u32) -> BOOL>;

/// `AcceptEx` (SPEC [EX-2]): the next connection of the listening socket `slistensocket`
/// becomes `sacceptsocket`'s (a fresh TCP socket the caller created), as an overlapped
/// operation of the listener, whose completion key its completion-port packet carries.
/// `lpOutputBuffer` receives the first `dwReceiveDataLength` bytes of data (0: complete as
/// soon as the connection is accepted), then the local and the remote address in rooms of
/// `dwLocalAddressLength` and `dwRemoteAddressLength` bytes (at least `sizeof(SOCKADDR_IN) +
/// 16` each), which [`GetAcceptExSockaddrs`] reads back. Returns FALSE with `WSA_IO_PENDING`
/// once started; the byte count is the data's length. Until `SO_UPDATE_ACCEPT_CONTEXT` is set
/// on the accepted socket, `getpeername` on it fails `WSAENOTCONN`. Closing the listener or
/// the accept socket aborts it (`WSA_OPERATION_ABORTED`).
///
/// Refused at once: a NULL `lpOverlapped` (`WSA_INVALID_PARAMETER`), a handle that is no
/// socket (`WSAENOTSOCK`), a listener that is not listening (`WSAEINVAL`), a NULL output
/// buffer or a remote address room of 0 (`WSAEFAULT`), an accept socket that is bound,
/// connected, a datagram socket or already named by a pending `AcceptEx` (`WSAEINVAL`).
///
/// # Divergence
/// [EX-2](crate::rules#ex-2) fails an address room below `sizeof(SOCKADDR_IN) + 16` with
/// `WSAEINVAL`; Windows accepts a local room of 0, fails a remote room of 0 `WSAEFAULT`, and
/// fails a short room only when a connection arrives (`STATUS_BUFFER_TOO_SMALL`; the
/// connection stays queued), and so does the simulator (win: sock.c `test_AcceptEx`).
/// kernel32 then reports `ERROR_NOACCESS` where Windows reports `ERROR_INSUFFICIENT_BUFFER`.
/// The addresses are laid out as Wine lays them out. `SO_UPDATE_ACCEPT_CONTEXT`'s own
/// errors are the simulator's (sim).
///
/// ```
/// use std::net::SocketAddrV4;
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let addr = SOCKADDR_IN::from("127.0.0.1:7000".parse::<SocketAddrV4>().unwrap());
///     let name = (&addr as *const SOCKADDR_IN).cast();
///     let l = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     bind(l, name, 16);
///     listen(l, 4);
///     let a = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     let mut ov = OVERLAPPED::default();
///     let mut buf = [0u8; 2 * 32];
///     let r = AcceptEx(l, a, buf.as_mut_ptr().cast(), 0, 32, 32, std::ptr::null_mut(), &mut ov);
///     assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     assert_eq!(connect(c, name, 16), 0);
///     let (mut n, mut flags) = (0, 0);
///     assert_eq!(WSAGetOverlappedResult(l, &ov, &mut n, TRUE, &mut flags), TRUE);
///     assert_eq!(n, 0);
///     assert_eq!(setsockopt(a, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
///                           (&l as *const SOCKET).cast(), 8), 0);
///     assert_eq!(send(a, b"hi".as_ptr(), 2, 0), 2);
///     let mut got = [0u8; 2];
///     assert_eq!(recv(c, got.as_mut_ptr(), 2, 0), 2);
///     assert_eq!(&got, b"hi");
///     WSACleanup();
/// });
/// ```
///
/// # Safety
/// `lpOutputBuffer` holds the three lengths' sum of bytes and, like the `OVERLAPPED`, stays
/// valid until the operation completed.
///
/// [EX-2]: crate::rules#ex-2
#[allow(clippy::too_many_arguments)]
pub unsafe extern "system-unwind" fn AcceptEx(
    slistensocket: SOCKET,
    sacceptsocket: SOCKET,
    lpoutputbuffer: *mut c_void,
    dwreceivedatalength: u32,
    dwlocaladdresslength: u32,
    dwremoteaddresslength: u32,
    lpdwbytesreceived: *mut u32,
    lpoverlapped: *mut OVERLAPPED,
) -> BOOL {
    let lengths = AcceptLengths {
        data: dwreceivedatalength,
        local: dwlocaladdresslength,
        remote: dwremoteaddresslength,
    };
    let kind = OpKind::Accept {
        accept: Socket::from_raw(sacceptsocket),
        lengths,
        taken: None,
    };
    let buf = lpoutputbuffer as usize;
    let req =
        (!lpoverlapped.is_null()).then(|| into_buffer(kind, lpoverlapped, buf, lengths.total()));
    let r = call(IoCall::Overlapped {
        s: Socket::from_raw(slistensocket),
        req,
        fault: lpoutputbuffer.is_null(),
        to: None,
        flags: 0,
        name: "AcceptEx",
    });
    match r {
        Ok(Reply::Count(n)) => {
            if !lpdwbytesreceived.is_null() {
                lpdwbytesreceived.write_unaligned(n);
            }
            TRUE
        }
        _ => FALSE,
    }
}

/// `GetAcceptExSockaddrs` (SPEC [EX-2]): the local and remote addresses in an output buffer
/// that [`AcceptEx`] filled, given the same three lengths. Each pointer points into the
/// buffer; each length is the address's size (16). With a local room of 0 the local pointer
/// and length are left as they were (win). Any of the four out-pointers may be NULL. Not a
/// Winsock call: it needs no `WSAStartup` and sets no error.
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
///     let addr = SOCKADDR_IN::from("127.0.0.1:7000".parse::<SocketAddrV4>().unwrap());
///     let name = (&addr as *const SOCKADDR_IN).cast();
///     let l = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     bind(l, name, 16);
///     listen(l, 4);
///     // Accept with the client's first 4 bytes, then two address rooms of 32 bytes.
///     let a = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     let mut ov = OVERLAPPED::default();
///     let mut out = [0u8; 4 + 2 * 32];
///     let r = AcceptEx(l, a, out.as_mut_ptr().cast(), 4, 32, 32, std::ptr::null_mut(), &mut ov);
///     assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     assert_eq!(connect(c, name, 16), 0);
///     assert_eq!(send(c, b"GET /".as_ptr(), 5, 0), 5);
///     let (mut n, mut flags) = (0, 0);
///     assert_eq!(WSAGetOverlappedResult(l, &ov, &mut n, TRUE, &mut flags), TRUE);
///     assert_eq!((n, &out[..4]), (4, &b"GET "[..]));
///     // Where the connection came in and where it came from, from the same buffer.
///     let (mut local, mut remote) = (std::ptr::null_mut(), std::ptr::null_mut());
///     let (mut local_len, mut remote_len) = (0, 0);
///     GetAcceptExSockaddrs(out.as_ptr().cast(), 4, 32, 32,
///         &mut local, &mut local_len, &mut remote, &mut remote_len);
///     assert_eq!((local_len, remote_len), (16, 16));
///     let local = SocketAddrV4::from(*local.cast::<SOCKADDR_IN>());
///     assert_eq!(local, "127.0.0.1:7000".parse().unwrap());
///     let mut client = SOCKADDR_IN::default();
///     let mut len = 16;
///     getsockname(c, (&mut client as *mut SOCKADDR_IN).cast(), &mut len);
///     let remote = SocketAddrV4::from(*remote.cast::<SOCKADDR_IN>());
///     assert_eq!(remote, SocketAddrV4::from(client));
///     WSACleanup();
/// });
/// ```
///
/// # Safety
/// `lpOutputBuffer` holds the three lengths' sum of bytes as `AcceptEx` filled them; the
/// out-pointers are NULL or valid.
///
/// [EX-2]: crate::rules#ex-2
#[allow(clippy::too_many_arguments)]
pub unsafe extern "system-unwind" fn GetAcceptExSockaddrs(
    lpoutputbuffer: *const c_void,
    dwreceivedatalength: u32,
    dwlocaladdresslength: u32,
    dwremoteaddresslength: u32,
    localsockaddr: *mut *mut SOCKADDR,
    localsockaddrlength: *mut i32,
    remotesockaddr: *mut *mut SOCKADDR,
    remotesockaddrlength: *mut i32,
) {
    if lpoutputbuffer.is_null() {
        return;
    }
    let at = AddressOffsets::of(AcceptLengths {
        data: dwreceivedatalength,
        local: dwlocaladdresslength,
        remote: dwremoteaddresslength,
    });
    let base = lpoutputbuffer as *mut u8;
    let give = |offset: usize, addr: *mut *mut SOCKADDR, len: *mut i32| {
        let p = base.add(offset);
        if !len.is_null() {
            len.write_unaligned((p as *const i32).read_unaligned());
        }
        if !addr.is_null() {
            addr.write_unaligned(p.add(4).cast());
        }
    };
    if let Some(offset) = at.local {
        give(offset, localsockaddr, localsockaddrlength);
    }
    give(at.remote, remotesockaddr, remotesockaddrlength);
}

/// `DisconnectEx` (SPEC [EX-4]): closes the connection of `s` gracefully, as
/// `shutdown(SD_SEND)` does, and completes when the close has: with an `OVERLAPPED` it
/// returns FALSE with `WSA_IO_PENDING` and completes with 0 bytes; with NULL it returns TRUE
/// once done. `dwFlags` is 0 or `TF_REUSE_SOCKET` (then the socket is fresh afterwards, for
/// [`AcceptEx`] or `ConnectEx`), `dwReserved` 0, else `WSAEINVAL`; an unconnected socket
/// fails `WSAENOTCONN`.
///
/// # Divergence
/// "Completes when the close completes" is read as: once the FIN is acknowledged (sim).
/// With `TF_REUSE_SOCKET` the handle gets a fresh endpoint at once; Windows may hold the
/// old connection in TIME_WAIT first (the simulator has no TIME_WAIT).
///
/// ```
/// use std::net::SocketAddrV4;
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let addr = SOCKADDR_IN::from("127.0.0.1:7001".parse::<SocketAddrV4>().unwrap());
///     let name = (&addr as *const SOCKADDR_IN).cast();
///     let l = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     bind(l, name, 16);
///     listen(l, 4);
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     assert_eq!(DisconnectEx(c, std::ptr::null_mut(), 0, 0), FALSE);
///     assert_eq!(WSAGetLastError(), WSAENOTCONN);
///     connect(c, name, 16);
///     let a = accept(l, std::ptr::null_mut(), std::ptr::null_mut());
///     assert_eq!(DisconnectEx(c, std::ptr::null_mut(), 0, 0), TRUE);
///     let mut buf = [0u8; 4];
///     assert_eq!(recv(a, buf.as_mut_ptr(), 4, 0), 0); // the peer reads the end
///     assert_eq!(send(c, b"x".as_ptr(), 1, 0), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAESHUTDOWN);
///     WSACleanup();
/// });
/// ```
///
/// # Safety
/// The `OVERLAPPED` is NULL or stays valid until the operation completed.
///
/// [EX-4]: crate::rules#ex-4
pub unsafe extern "system-unwind" fn DisconnectEx(
    s: SOCKET,
    lpoverlapped: *mut OVERLAPPED,
    dwflags: u32,
    dwreserved: u32,
) -> BOOL {
    let kind = OpKind::Disconnect {
        flags: dwflags,
        reserved: dwreserved,
        blocking: lpoverlapped.is_null(),
    };
    let r = call(IoCall::Overlapped {
        s: Socket::from_raw(s),
        req: Some(if lpoverlapped.is_null() {
            OpRequest::without_record(kind)
        } else {
            into_buffer(kind, lpoverlapped, 0, 0)
        }),
        fault: false,
        to: None,
        flags: 0,
        name: "DisconnectEx",
    });
    match r {
        Ok(Reply::Count(_)) => TRUE,
        _ => FALSE,
    }
}
