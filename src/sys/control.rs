//! `WSAIoctl` ([EX-1]) and the message functions: `WSASendMsg`, and `WSARecvMsg`, the
//! extension function `SIO_GET_EXTENSION_FUNCTION_POINTER` hands out.
//!
//! This module only translates: the control codes are decided in the core
//! (`Machine::ex_1_control`), and the message functions are `WSASendTo`/`WSARecvFrom` over the
//! `WSAMSG`'s buffers and address.
//!
//! [EX-1]: crate::rules#ex-1
#![allow(non_snake_case, non_camel_case_types)]

use core::ffi::c_void;

use super::overlapped::{recv_msg_overlapped, scatter, status_only};
use super::types::*;
use super::{count, with_addr_out, wsabufs};
use super::{AcceptEx, DisconnectEx, GetAcceptExSockaddrs, WSASendTo, WSASetLastError};
use crate::consts::*;
use crate::core::call::{DataCall, IoCall, MsgOut, OptionCall};
use crate::core::overlapped::OpKind;
use crate::core::providers::control::{Control, Extension};
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::sim::thread::call;

/// `WSAID_WSARECVMSG`: the GUID of `WSARecvMsg` for `SIO_GET_EXTENSION_FUNCTION_POINTER`.
pub const WSAID_WSARECVMSG: GUID = GUID::from_u128(0xf689d7c8_6f1f_436b_8a53_e54fe351c322);
/// `WSAID_ACCEPTEX`: the GUID of [`AcceptEx`].
pub const WSAID_ACCEPTEX: GUID = GUID::from_u128(0xb5367df1_cbac_11cf_95ca_00805f48a192);
/// `WSAID_CONNECTEX`: the GUID of [`ConnectEx`].
pub const WSAID_CONNECTEX: GUID = GUID::from_u128(0x25a207b9_ddf3_4660_8ee9_76e58c74063e);
/// `WSAID_DISCONNECTEX`: the GUID of [`DisconnectEx`].
pub const WSAID_DISCONNECTEX: GUID = GUID::from_u128(0x7fda2e11_8630_436f_a031_f536a6eec157);
/// `WSAID_GETACCEPTEXSOCKADDRS`: the GUID of [`GetAcceptExSockaddrs`].
pub const WSAID_GETACCEPTEXSOCKADDRS: GUID =
    GUID::from_u128(0xb5367df2_cbac_11cf_95ca_00805f48a192);
/// `WSAID_TRANSMITFILE` (not served: `WSAIoctl` fails it `WSAEINVAL`).
pub const WSAID_TRANSMITFILE: GUID = GUID::from_u128(0xb5367df0_cbac_11cf_95ca_00805f48a192);
/// `WSAID_TRANSMITPACKETS` (not served: `WSAIoctl` fails it `WSAEINVAL`).
pub const WSAID_TRANSMITPACKETS: GUID = GUID::from_u128(0xd9689da0_1f90_11d3_9971_00c04f68c876);

/// `CMSGHDR` (`WSACMSGHDR`): the header of one control message in `WSAMSG.Control`; its
/// data starts 16 bytes in (`WSA_CMSGDATA_ALIGN` of the header on 64-bit Windows).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CMSGHDR {
    /// The header's and the data's size in bytes.
    pub cmsg_len: usize,
    /// The protocol level (`IPPROTO_IP`).
    pub cmsg_level: i32,
    /// The message type (`IP_PKTINFO`).
    pub cmsg_type: i32,
}

/// `IN_PKTINFO`: the data of an `IP_PKTINFO` control message ([EX-5]).
///
/// [EX-5]: crate::rules#ex-5
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct IN_PKTINFO {
    /// The address the datagram was sent to.
    pub ipi_addr: IN_ADDR,
    /// The interface it arrived on.
    pub ipi_ifindex: u32,
}

/// `tcp_keepalive`: `SIO_KEEPALIVE_VALS`' input.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct tcp_keepalive {
    /// Non-zero: keep-alive on.
    pub onoff: u32,
    /// Idle time before the first probe, in milliseconds.
    pub keepalivetime: u32,
    /// Time between probes, in milliseconds.
    pub keepaliveinterval: u32,
}

/// `WSAMSG`: the message of `WSASendMsg` and `WSARecvMsg`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct WSAMSG {
    /// The peer's address (NULL: none wanted or given).
    pub name: *mut SOCKADDR,
    /// The address's size in bytes.
    pub namelen: i32,
    /// The data buffers.
    pub lpBuffers: *mut WSABUF,
    /// How many buffers.
    pub dwBufferCount: u32,
    /// The control data (ancillary data).
    pub Control: WSABUF,
    /// The message's flags.
    pub dwFlags: u32,
}

impl Default for WSAMSG {
    fn default() -> Self {
        WSAMSG {
            name: std::ptr::null_mut(),
            namelen: 0,
            lpBuffers: std::ptr::null_mut(),
            dwBufferCount: 0,
            Control: WSABUF::default(),
            dwFlags: 0,
        }
    }
}

/// `LPFN_WSARECVMSG`: the type of the function `WSAID_WSARECVMSG` names.
pub type LPFN_WSARECVMSG = Option<
    unsafe extern "system-unwind" fn(
        SOCKET,
        *mut WSAMSG,
        *mut u32,
        *mut OVERLAPPED,
        LPWSAOVERLAPPED_COMPLETION_ROUTINE,
    ) -> i32,
>;

/// `WSAIoctl`: the control code `dwIoControlCode` with an input and an output buffer
/// (SPEC [EX-1]). Served by the built-in providers:
///
/// | code | input | output |
/// |---|---|---|
/// | `FIONBIO` | a `u32`, zero for blocking | — |
/// | `FIONREAD` | — | a `u32`: the bytes one `recv` can read at once |
/// | `SIOCATMARK` | — | a `BOOL`: TRUE (no urgent data waits) |
/// | `SIO_KEEPALIVE_VALS` | a [`tcp_keepalive`] | — |
/// | `SIO_BASE_HANDLE`, `SIO_BSP_HANDLE`, `_SELECT`, `_POLL` | — | the `SOCKET` itself |
/// | `SIO_GET_EXTENSION_FUNCTION_POINTER` | a `GUID` | the function's address |
///
/// `*lpcbBytesReturned` gets the bytes written. A NULL `lpcbBytesReturned` fails `WSAEFAULT`
/// before anything else, with or without an `OVERLAPPED`; a NULL or too small buffer fails
/// `WSAEFAULT`, an unknown GUID `WSAEINVAL`, any other code `WSAEOPNOTSUPP` (a failure of the
/// last kind, or of `SIO_KEEPALIVE_VALS`, sets `*lpcbBytesReturned` to 0; the others leave it).
///
/// With an `OVERLAPPED`, a served code completes at once: the call returns 0 and the
/// completion is indicated as any overlapped operation's, with 0 bytes (the event set, the
/// completion routine queued, a packet posted to the socket's completion port). An
/// unsupported code, and the base-handle codes, return `WSA_IO_PENDING` instead and complete
/// with `WSAEOPNOTSUPP` (`STATUS_NOT_SUPPORTED`; `GetQueuedCompletionStatus` reports
/// `ERROR_NOT_SUPPORTED`). A call refused by a check indicates nothing (win: sock.c
/// `test_get_extension_func`, `test_base_handle`, `test_unsupported_ioctls`).
///
/// The extension functions served: `WSAID_WSARECVMSG` ([`WSARecvMsg`]) and
/// `WSAID_CONNECTEX` ([`ConnectEx`]).
///
/// # Divergence
/// AcceptEx, DisconnectEx, GetAcceptExSockaddrs, TransmitFile and TransmitPackets are not
/// served yet: their GUIDs fail `WSAEINVAL`, Windows' answer for a GUID the provider
/// does not know. A successful overlapped `SIO_KEEPALIVE_VALS` writes 0 into
/// `*lpcbBytesReturned`, which Windows leaves alone (win: sock.c `test_keepalive_vals`). The
/// functions handed out are `extern "system-unwind"`, like the facade's, so the simulation
/// can end a thread inside one; windows-sys' `LPFN_*` types say `"system"`, through which
/// such an ending aborts instead (sim).
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let (mut f, mut n): (LPFN_WSARECVMSG, u32) = (None, 0);
///     let r = WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER,
///         (&WSAID_WSARECVMSG as *const GUID).cast(), 16,
///         (&mut f as *mut LPFN_WSARECVMSG).cast(), 8, &mut n,
///         std::ptr::null_mut(), None);
///     assert_eq!((r, n), (0, 8));
///     assert!(f.is_some());
///     let mut base: SOCKET = 0;
///     let r = WSAIoctl(s, SIO_BASE_HANDLE, std::ptr::null(), 0,
///         (&mut base as *mut SOCKET).cast(), 8, &mut n, std::ptr::null_mut(), None);
///     assert_eq!((r, base), (0, s));
///     let r = WSAIoctl(s, 0x1234, std::ptr::null(), 0, std::ptr::null_mut(), 0, &mut n,
///         std::ptr::null_mut(), None);
///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSAEOPNOTSUPP));
///     WSACleanup();
/// });
/// ```
///
/// # Safety
/// The buffers hold the sizes given; `lpcbBytesReturned` is NULL or writable; an
/// `OVERLAPPED` stays valid until its completion was indicated.
///
/// [EX-1]: crate::rules#ex-1
#[allow(clippy::too_many_arguments)]
pub unsafe fn WSAIoctl(
    s: SOCKET,
    dwiocontrolcode: u32,
    lpvinbuffer: *const c_void,
    cbinbuffer: u32,
    lpvoutbuffer: *mut c_void,
    cboutbuffer: u32,
    lpcbbytesreturned: *mut u32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    // The input is copied: a caller may pass one buffer as both.
    let input = (!lpvinbuffer.is_null()).then(|| {
        std::slice::from_raw_parts(lpvinbuffer as *const u8, cbinbuffer as usize).to_vec()
    });
    let output = (!lpvoutbuffer.is_null())
        .then(|| std::slice::from_raw_parts_mut(lpvoutbuffer as *mut u8, cboutbuffer as usize));
    let req = (!lpoverlapped.is_null())
        .then(|| status_only(OpKind::Control, lpoverlapped, lpcompletionroutine));
    let r = call(OptionCall::WsaIoctl {
        s: Socket::from_raw(s),
        code: dwiocontrolcode,
        input: input.as_deref(),
        output,
        returned: lpcbbytesreturned.as_mut(),
        req,
    });
    let Ok(Reply::Control(c)) = r else {
        return SOCKET_ERROR;
    };
    if let Control::Extension(e) = c {
        let f: usize = match e {
            Extension::RecvMsg => WSARecvMsg as *const () as usize,
            Extension::ConnectEx => ConnectEx as *const () as usize,
            Extension::AcceptEx => AcceptEx as *const () as usize,
            Extension::GetAcceptExSockaddrs => GetAcceptExSockaddrs as *const () as usize,
            Extension::DisconnectEx => DisconnectEx as *const () as usize,
        };
        // The core checked that the output holds a pointer.
        (lpvoutbuffer as *mut usize).write_unaligned(f);
    }
    0
}

/// `WSARecvMsg` (the extension function of `WSAID_WSARECVMSG`, SPEC [EX-5]): `WSARecvFrom` into
/// the message's buffers, the sender into `name`/`namelen`, and on return the message's
/// `dwFlags` and control data. Without an `OVERLAPPED`: `Control` receives an `IN_PKTINFO`
/// message (`cmsg_level` `IPPROTO_IP`, `cmsg_type` `IP_PKTINFO`: the address the datagram was
/// sent to and the interface index, 1 for loopback, 2 otherwise) when `IP_PKTINFO` is set on
/// the socket, `Control.len` says how many bytes, and `dwFlags` is `MSG_TRUNC` for a datagram
/// larger than the buffers (the call fails `WSAEMSGSIZE`, the buffers filled) and
/// `MSG_CTRUNC` when `Control` had no room for the `IN_PKTINFO` (24 bytes).
///
/// ```
/// use std::net::SocketAddrV4;
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let at = SOCKADDR_IN::from("127.0.0.1:7006".parse::<SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let on: u32 = 1;
///     setsockopt(rx, IPPROTO_IP, IP_PKTINFO, (&on as *const u32).cast(), 4);
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"hi".as_ptr(), 2, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 8];
///     let mut control = [0u8; 64];
///     let mut buf = WSABUF { len: 8, buf: data.as_mut_ptr() };
///     let mut msg = WSAMSG {
///         lpBuffers: &mut buf,
///         dwBufferCount: 1,
///         Control: WSABUF { len: 64, buf: control.as_mut_ptr() },
///         ..WSAMSG::default()
///     };
///     let mut n = 0;
///     assert_eq!(WSARecvMsg(rx, &mut msg, &mut n, std::ptr::null_mut(), None), 0);
///     assert_eq!((n, msg.Control.len, msg.dwFlags), (2, 24, 0));
///     let hdr = (control.as_ptr() as *const CMSGHDR).read_unaligned();
///     assert_eq!((hdr.cmsg_len, hdr.cmsg_level, hdr.cmsg_type), (24, IPPROTO_IP, IP_PKTINFO));
///     let info = (control.as_ptr().add(16) as *const IN_PKTINFO).read_unaligned();
///     assert_eq!((info.ipi_addr.S_un.S_addr, info.ipi_ifindex), (INADDR_LOOPBACK.to_be(), 1));
///     WSACleanup();
/// });
/// ```
///
/// With an `OVERLAPPED` the same lands in the `WSAMSG` when the operation completes.
///
/// # Divergence
/// `IPV6_PKTINFO` waits for `AF_INET6` sockets. The interface indexes are the simulator's
/// (1 and 2).
///
/// # Safety
/// `lpmsg` is NULL or a valid `WSAMSG` whose buffers are valid, all until the operation
/// completed.
///
/// [EX-5]: crate::rules#ex-5
pub unsafe extern "system-unwind" fn WSARecvMsg(
    s: SOCKET,
    lpmsg: *mut WSAMSG,
    lpdwnumberofbytesrecvd: *mut u32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let Some(m) = lpmsg.as_mut() else {
        WSASetLastError(WSAEFAULT);
        return SOCKET_ERROR;
    };
    let namelen: *mut i32 = if m.name.is_null() {
        std::ptr::null_mut()
    } else {
        &mut m.namelen
    };
    if !lpoverlapped.is_null() {
        return recv_msg_overlapped(
            s,
            m,
            lpdwnumberofbytesrecvd,
            lpoverlapped,
            lpcompletionroutine,
        );
    }
    let Some(bufs) = wsabufs(m.lpBuffers, m.dwBufferCount) else {
        WSASetLastError(WSAEFAULT);
        return SOCKET_ERROR;
    };
    let mut tmp = vec![0u8; bufs.iter().map(|b| b.1).sum()];
    let len = i32::try_from(tmp.len()).unwrap_or(i32::MAX);
    let room = if m.Control.buf.is_null() {
        0
    } else {
        m.Control.len as usize
    };
    let mut out = MsgOut {
        room,
        ..MsgOut::default()
    };
    let flags = m.dwFlags as i32;
    let r = count(with_addr_out(m.name, namelen, |a, l| {
        call(DataCall::Recv {
            s: Socket::from_raw(s),
            buf: Some(&mut tmp),
            len,
            flags,
            from: Some((a, l)),
            msg: Some(&mut out),
        })
    }));
    let truncated = out.flags & MSG_TRUNC != 0;
    if r < 0 && !truncated {
        return r;
    }
    let got = if r < 0 { tmp.len() } else { r as usize };
    scatter(&tmp[..got.min(tmp.len())], &bufs);
    if !out.control.is_empty() {
        std::ptr::copy_nonoverlapping(out.control.as_ptr(), m.Control.buf, out.control.len());
    }
    m.Control.len = out.control.len() as u32;
    m.dwFlags = out.flags;
    if r < 0 {
        // WSAEMSGSIZE, with the buffers filled and MSG_TRUNC set.
        return r;
    }
    if !lpdwnumberofbytesrecvd.is_null() {
        lpdwnumberofbytesrecvd.write_unaligned(r as u32);
    }
    0
}

/// `WSASendMsg` ([EX-5]): `WSASendTo` from the message's buffers to `name` (NULL: the
/// connected peer), overlapped or not.
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
///     let mut at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     // A header and a payload, gathered into one datagram to `name`.
///     let (mut head, mut body) = (*b"v1:", *b"data");
///     let mut bufs = [
///         WSABUF { len: 3, buf: head.as_mut_ptr() },
///         WSABUF { len: 4, buf: body.as_mut_ptr() },
///     ];
///     let msg = WSAMSG {
///         name: (&mut at as *mut SOCKADDR_IN).cast(),
///         namelen: 16,
///         lpBuffers: bufs.as_mut_ptr(),
///         dwBufferCount: 2,
///         ..WSAMSG::default()
///     };
///     let mut sent = 0;
///     let r = WSASendMsg(tx, &msg, 0, &mut sent, std::ptr::null_mut(), None);
///     assert_eq!((r, sent), (0, 7));
///     let mut got = [0u8; 16];
///     assert_eq!(recv(rx, got.as_mut_ptr(), 16, 0), 7);
///     assert_eq!(&got[..7], b"v1:data");
///     let r = WSASendMsg(tx, std::ptr::null(), 0, &mut sent, std::ptr::null_mut(), None);
///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSAEFAULT));
///     WSACleanup();
/// });
/// ```
///
/// # Divergence
/// The control data is not interpreted (sim: an `IN_PKTINFO` choosing the source address
/// is ignored; the simulated hosts have one address per family).
///
/// # Safety
/// `lpmsg` is NULL or a valid `WSAMSG`; an `OVERLAPPED` stays valid until its completion.
///
/// [EX-5]: crate::rules#ex-5
pub unsafe fn WSASendMsg(
    handle: SOCKET,
    lpmsg: *const WSAMSG,
    dwflags: u32,
    lpnumberofbytessent: *mut u32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let Some(m) = lpmsg.as_ref() else {
        WSASetLastError(WSAEFAULT);
        return SOCKET_ERROR;
    };
    WSASendTo(
        handle,
        m.lpBuffers,
        m.dwBufferCount,
        lpnumberofbytessent,
        dwflags,
        m.name,
        if m.name.is_null() { 0 } else { m.namelen },
        lpoverlapped,
        lpcompletionroutine,
    )
}

/// `LPFN_CONNECTEX`: the type of the function `WSAID_CONNECTEX` names.
pub type LPFN_CONNECTEX = Option<
    unsafe extern "system-unwind" fn(
        SOCKET,
        *const SOCKADDR,
        i32,
        *const c_void,
        u32,
        *mut u32,
        *mut OVERLAPPED,
    ) -> BOOL,
>;

/// `ConnectEx` (the extension function of `WSAID_CONNECTEX`, SPEC [EX-3]): connects the bound,
/// unconnected stream socket `s` to `name` as an overlapped operation, then sends the
/// `dwSendDataLength` bytes at `lpSendBuffer` on the new connection. Returns FALSE with
/// `WSA_IO_PENDING` once started; the operation completes (event, completion routine
/// none, completion port packet) with the bytes sent once the connection is established,
/// or with its error (`WSAECONNREFUSED`, `WSAETIMEDOUT`). Refused at once: a NULL
/// `lpOverlapped` (`WSA_INVALID_PARAMETER`), an unbound, datagram or listening socket
/// (`WSAEINVAL`), a connected one (`WSAEISCONN`), a short address (`WSAEFAULT`).
///
/// # Divergence
/// `SO_UPDATE_CONNECT_CONTEXT` is accepted on the connected socket but gates nothing:
/// `getpeername` and `shutdown` work as soon as the connection is up, as under Wine, where
/// [EX-3](crate::rules#ex-3) says the option enables them (sim).
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let any = SOCKADDR_IN::from("0.0.0.0:0".parse::<std::net::SocketAddrV4>().unwrap());
///     let to = SOCKADDR_IN::from("127.0.0.1:80".parse::<std::net::SocketAddrV4>().unwrap());
///     let s = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     let mut ov = OVERLAPPED::default();
///     let name = (&to as *const SOCKADDR_IN).cast();
///     let r = ConnectEx(s, name, 16, std::ptr::null(), 0, std::ptr::null_mut(), &mut ov);
///     assert_eq!((r, WSAGetLastError()), (FALSE, WSAEINVAL)); // not bound
///     bind(s, (&any as *const SOCKADDR_IN).cast(), 16);
///     let r = ConnectEx(s, name, 16, std::ptr::null(), 0, std::ptr::null_mut(), &mut ov);
///     assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
///     // Nobody listens on port 80: the operation completes refused.
///     let (mut n, mut flags) = (0, 0);
///     assert_eq!(WSAGetOverlappedResult(s, &ov, &mut n, TRUE, &mut flags), FALSE);
///     assert_eq!(WSAGetLastError(), WSAECONNREFUSED);
///     WSACleanup();
/// });
/// ```
///
/// # Safety
/// `name` holds `namelen` bytes, `lpSendBuffer` `dwSendDataLength`; the `OVERLAPPED` stays
/// valid until the operation completed.
///
/// [EX-3]: crate::rules#ex-3
pub unsafe extern "system-unwind" fn ConnectEx(
    s: SOCKET,
    name: *const SOCKADDR,
    namelen: i32,
    lpsendbuffer: *const c_void,
    dwsenddatalength: u32,
    lpdwbytessent: *mut u32,
    lpoverlapped: *mut OVERLAPPED,
) -> BOOL {
    let to = if name.is_null() || namelen <= 0 {
        Vec::new()
    } else {
        std::slice::from_raw_parts(name as *const u8, namelen as usize).to_vec()
    };
    let data = if lpsendbuffer.is_null() {
        Vec::new()
    } else {
        std::slice::from_raw_parts(lpsendbuffer as *const u8, dwsenddatalength as usize).to_vec()
    };
    let req = (!lpoverlapped.is_null())
        .then(|| status_only(OpKind::Connect { to, data }, lpoverlapped, None));
    let r = call(IoCall::Overlapped {
        s: Socket::from_raw(s),
        req,
        fault: false,
        to: None,
        flags: 0,
        name: "ConnectEx",
    });
    match r {
        Ok(Reply::Count(n)) => {
            if !lpdwbytessent.is_null() {
                lpdwbytessent.write_unaligned(n);
            }
            TRUE
        }
        _ => FALSE,
    }
}
