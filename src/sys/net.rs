use super::types::*;
use super::{bytes_in, bytes_out, count, read_opt, socket_result, status, with_addr_out};
use crate::consts::*;
use crate::core::call::{DataCall, SocketCall};
use crate::core::ws2::table::Socket;
use crate::sim::thread::call;

/// `bind`: gives `s` its local address. The address must be the wildcard (`INADDR_ANY`), a
/// loopback address or the host's own 10.0.0.N ([AD-1]); port 0 picks the host's next free
/// ephemeral port for the protocol, counting up from 49152 as Windows Vista and later do.
///
/// Errors, after the [checks every call makes](crate::sys#errors): a socket already bound
/// `WSAEINVAL`; a NULL `name` or a `namelen` under 16 `WSAEFAULT`; a family other than
/// `AF_INET` `WSAEAFNOSUPPORT`; an address not of this host `WSAEADDRNOTAVAIL`; a port taken
/// on this host for the protocol `WSAEADDRINUSE`, unless `s` set `SO_REUSEADDR`, and then
/// `WSAEACCES` when a socket holding the port set `SO_EXCLUSIVEADDRUSE` ([OP-4]). Of sockets
/// sharing a port, the one bound last receives (sim).
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
///     let a = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let b = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let addr = sockaddr_in(INADDR_LOOPBACK, 5000);
///     assert_eq!(bind(a, (&raw const addr).cast(), LEN), 0);
///     // The port is taken on this host for UDP.
///     assert_eq!(bind(b, (&raw const addr).cast(), LEN), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEADDRINUSE);
///     // Another host's address is not ours to bind.
///     let elsewhere = sockaddr_in(0x0a00_0063, 5000); // 10.0.0.99
///     assert_eq!(bind(b, (&raw const elsewhere).cast(), LEN), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEADDRNOTAVAIL);
///     // Port 0: the first free ephemeral port.
///     let any = sockaddr_in(INADDR_ANY, 0);
///     assert_eq!(bind(b, (&raw const any).cast(), LEN), 0);
///     let mut got: SOCKADDR_IN = std::mem::zeroed();
///     let mut len = LEN;
///     assert_eq!(getsockname(b, (&raw mut got).cast(), &mut len), 0);
///     assert_eq!(u16::from_be(got.sin_port), 49152);
///     // A socket is bound once.
///     assert_eq!(bind(b, (&raw const any).cast(), LEN), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// # Divergence
/// A port is taken per host and protocol: binding 127.0.0.1:p and 10.0.0.N:p separately
/// fails `WSAEADDRINUSE` (Windows allows it when neither is the wildcard). A socket bound to
/// a loopback address only receives from its own host; one bound to a specific address only
/// what is sent to that address.
///
/// [AD-1]: crate::rules#ad-1
/// [OP-4]: crate::rules#op-4
pub unsafe fn bind(s: SOCKET, name: *const SOCKADDR, namelen: i32) -> i32 {
    let addr = bytes_in(name.cast(), namelen);
    status(call(SocketCall::Bind {
        s: Socket::from_raw(s),
        addr,
    }))
}

/// `listen`: makes a bound stream socket accept connections; up to `backlog` of them wait,
/// connected, for [`accept`] (a `connect` to a full backlog is refused). A second call on a
/// listening socket only changes the backlog.
///
/// Errors, after the [checks every call makes](crate::sys#errors): a datagram socket
/// `WSAEOPNOTSUPP`; a connected (or connecting) socket `WSAEISCONN`; an unbound one
/// `WSAEINVAL`.
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
///     assert_eq!(listen(l, 5), SOCKET_ERROR); // not bound yet
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
///     let addr = sockaddr_in(INADDR_LOOPBACK, 8080);
///     assert_eq!(bind(l, (&raw const addr).cast(), LEN), 0);
///     assert_eq!(listen(l, 5), 0);
///     // A connection completes while it waits in the backlog, before any accept.
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
///
///     let u = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     assert_eq!(listen(u, 5), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEOPNOTSUPP);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
pub unsafe fn listen(s: SOCKET, backlog: i32) -> i32 {
    status(call(SocketCall::Listen {
        s: Socket::from_raw(s),
        backlog,
    }))
}

/// `accept`: takes the oldest connection from a listening socket's backlog as a new socket,
/// which inherits the listener's options ([CS-8]: linger included), and writes the peer's
/// address to `addr` (16 bytes, `*addrlen` set to 16) when `addr` and `addrlen` are given.
/// With the backlog empty a blocking socket waits in virtual time; a non-blocking one fails
/// `WSAEWOULDBLOCK`.
///
/// Errors, after the [checks every call makes](crate::sys#errors): a datagram socket
/// `WSAEOPNOTSUPP`; a socket not listening `WSAEINVAL`; `addr` or `addrlen` NULL while the
/// other is not, or `*addrlen` under 16, `WSAEFAULT` (checked before a connection is taken).
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
///
///     let mut peer: SOCKADDR_IN = std::mem::zeroed();
///     let mut len = LEN;
///     let s = accept(l, (&raw mut peer).cast(), &mut len);
///     assert_ne!(s, INVALID_SOCKET);
///     assert_eq!(len, 16);
///     // The client was bound implicitly, to the first ephemeral port.
///     assert_eq!(u32::from_be(peer.sin_addr.S_un.S_addr), INADDR_LOOPBACK);
///     assert_eq!(u16::from_be(peer.sin_port), 49152);
///
///     // Nothing more in the backlog: a non-blocking listener does not wait.
///     let mut on = 1u32;
///     assert_eq!(ioctlsocket(l, FIONBIO, &mut on), 0);
///     assert_eq!(accept(l, std::ptr::null_mut(), std::ptr::null_mut()), INVALID_SOCKET);
///     assert_eq!(WSAGetLastError(), WSAEWOULDBLOCK);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [CS-8]: crate::rules#cs-8
pub unsafe fn accept(s: SOCKET, addr: *mut SOCKADDR, addrlen: *mut i32) -> SOCKET {
    socket_result(with_addr_out(addr, addrlen, |addr, len| {
        call(SocketCall::Accept {
            s: Socket::from_raw(s),
            addr,
            len,
        })
    }))
}

/// `connect`: on a stream socket, connects to a listening socket; a blocking socket waits in
/// virtual time (one round trip) until the connection is made or refused, a non-blocking one
/// fails `WSAEWOULDBLOCK` and connects later (`FD_CONNECT`, writability in `select`, `SO_ERROR`
/// for a failure ([OP-6])). An unbound socket is first bound to the wildcard and an ephemeral
/// port. On a datagram socket it only sets the default destination, at once.
///
/// Errors, after the [checks every call makes](crate::sys#errors), for a stream socket: a
/// listening socket `WSAEINVAL`; a connected one `WSAEISCONN` ([SD-7]: even after
/// `WSASendDisconnect`); one still connecting (non-blocking) `WSAEALREADY`; then, for any
/// socket, a NULL `name` or a `namelen` under 16 `WSAEFAULT`; a family other than `AF_INET`
/// `WSAEAFNOSUPPORT`; the wildcard address or port 0 `WSAEADDRNOTAVAIL`. Then the network
/// answers: nobody listening on the port `WSAECONNREFUSED`; no host with the address
/// `WSAETIMEDOUT`.
///
/// ```
/// use std::time::Duration;
/// use ws2sim::{sys::*, Sim, DEFAULT_LATENCY};
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
///     let addr = sockaddr_in(INADDR_LOOPBACK, 8080);
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     // Nobody listens yet: the host answers the SYN with a reset.
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAECONNREFUSED);
///
///     let l = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     assert_eq!(bind(l, (&raw const addr).cast(), LEN), 0);
///     assert_eq!(listen(l, 5), 0);
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     let t0 = sim.now();
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
///     assert_eq!(sim.now() - t0, 2 * DEFAULT_LATENCY); // one round trip
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEISCONN);
///
///     // No host is 10.0.0.99: the SYN goes unanswered.
///     let nowhere = sockaddr_in(0x0a00_0063, 80);
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     let t0 = sim.now();
///     assert_eq!(connect(c, (&raw const nowhere).cast(), LEN), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAETIMEDOUT);
///     assert_eq!(sim.now() - t0, Duration::from_secs(21)); // of virtual time
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// # Divergence
/// A connection to an address no simulated host has fails `WSAETIMEDOUT` after 21 s of
/// virtual time (two SYN retransmissions, as Windows' defaults); a full backlog refuses at
/// once (`WSAECONNREFUSED`) instead of letting the SYN be retried.
///
/// [OP-6]: crate::rules#op-6
/// [SD-7]: crate::rules#sd-7
pub unsafe fn connect(s: SOCKET, name: *const SOCKADDR, namelen: i32) -> i32 {
    let addr = bytes_in(name.cast(), namelen);
    status(call(SocketCall::Connect {
        s: Socket::from_raw(s),
        addr,
    }))
}

/// `send`: queues `len` bytes of `buf` on a connected stream socket (or sends one datagram
/// to a datagram socket's default destination, as [`sendto`]) and returns how many it took.
/// A blocking socket takes them all, waiting in virtual time while more than `SO_SNDBUF` is
/// queued; a non-blocking one takes what fits and fails `WSAEWOULDBLOCK` when nothing does.
///
/// Errors, after the [checks every call makes](crate::sys#errors), for a stream socket: not
/// connected `WSAENOTCONN`; after `shutdown(SD_SEND)` or `WSASendDisconnect` `WSAESHUTDOWN`
/// ([SD-1]); a reset connection its error (`WSAECONNRESET`, `WSAECONNABORTED`); `MSG_OOB`
/// `WSAEOPNOTSUPP`; a NULL `buf` with `len` > 0, or `len` < 0, `WSAEFAULT`; a blocking send
/// still waiting `SO_SNDTIMEO` milliseconds after it was made `WSAETIMEDOUT`, the bytes it
/// queued still being sent ([OP-2]).
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
///     assert_eq!(send(c, b"early".as_ptr(), 5, 0), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAENOTCONN);
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
///     let s = accept(l, std::ptr::null_mut(), std::ptr::null_mut());
///
///     assert_eq!(send(c, b"hello".as_ptr(), 5, 0), 5);
///     let mut buf = [0u8; 16];
///     assert_eq!(recv(s, buf.as_mut_ptr(), 16, 0), 5);
///     assert_eq!(&buf[..5], b"hello");
///
///     assert_eq!(shutdown(c, SD_SEND), 0);
///     assert_eq!(send(c, b"late".as_ptr(), 4, 0), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAESHUTDOWN);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [OP-2]: crate::rules#op-2
/// [SD-1]: crate::rules#sd-1
pub unsafe fn send(s: SOCKET, buf: *const u8, len: i32, flags: SEND_RECV_FLAGS) -> i32 {
    count(call(DataCall::Send {
        s: Socket::from_raw(s),
        buf: bytes_in(buf, len),
        len,
        flags,
        to: None,
    }))
}

/// `sendto`: sends one datagram of `len` bytes to `to` (or, when `to` is NULL, to the default
/// destination [`connect`] set) and returns `len`; an unbound socket is first bound to the
/// wildcard and an ephemeral port. Delivery takes the link's latency of virtual time. On a
/// stream socket `to` is ignored and the call is [`send`].
///
/// Errors, after the [checks every call makes](crate::sys#errors), for a datagram socket:
/// after `shutdown(SD_SEND)` `WSAESHUTDOWN` ([SD-4]); a `to` shorter than 16 bytes
/// `WSAEFAULT`, of another family `WSAEAFNOSUPPORT`; a NULL `to` with no default destination
/// `WSAENOTCONN`; `MSG_OOB` `WSAEOPNOTSUPP`; a NULL `buf` with `len` > 0, or `len` < 0,
/// `WSAEFAULT`; more than 65,507 bytes `WSAEMSGSIZE`; a broadcast `to` (255.255.255.255 or
/// 10.0.0.255) without `SO_BROADCAST` `WSAEACCES` ([OP-6]). With it, the datagram reaches the
/// sockets bound to the port on every host.
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
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let addr = sockaddr_in(INADDR_LOOPBACK, 5353);
///     assert_eq!(bind(rx, (&raw const addr).cast(), LEN), 0);
///
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     assert_eq!(sendto(tx, b"ping".as_ptr(), 4, 0, (&raw const addr).cast(), LEN), 4);
///     // No destination given and none connected.
///     assert_eq!(sendto(tx, b"ping".as_ptr(), 4, 0, std::ptr::null(), 0), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAENOTCONN);
///
///     let mut buf = [0u8; 16];
///     assert_eq!(recv(rx, buf.as_mut_ptr(), 16, 0), 4);
///     assert_eq!(&buf[..4], b"ping");
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// # Divergence
/// A datagram to a port nobody has bound is dropped silently: the simulated network sends
/// no ICMP port-unreachable, so a later `recv` never fails `WSAECONNRESET` as on Windows.
/// Multicast datagrams are not delivered ([OP-6]; the `op_6` entry of
/// [the divergences](crate::divergences)).
///
/// [SD-4]: crate::rules#sd-4
/// [OP-6]: crate::rules#op-6
pub unsafe fn sendto(
    s: SOCKET,
    buf: *const u8,
    len: i32,
    flags: i32,
    to: *const SOCKADDR,
    tolen: i32,
) -> i32 {
    count(call(DataCall::Send {
        s: Socket::from_raw(s),
        buf: bytes_in(buf, len),
        len,
        flags,
        to: Some(bytes_in(to.cast(), tolen)),
    }))
}

/// `recv`: reads up to `len` bytes into `buf` and returns how many; 0 once the peer closed
/// gracefully and everything it sent was read ([SD-12]). With nothing to read a blocking
/// socket waits in virtual time, a non-blocking one fails `WSAEWOULDBLOCK`. `MSG_PEEK` leaves
/// the bytes queued; `MSG_WAITALL` on a blocking stream socket waits for all `len` ([OP-7]).
/// On a datagram socket it reads one datagram, as [`recvfrom`].
///
/// Errors, after the [checks every call makes](crate::sys#errors): a stream socket not
/// connected `WSAENOTCONN`; after `shutdown(SD_RECEIVE)` `WSAESHUTDOWN` ([SD-10]); a flag
/// other than `MSG_PEEK` and `MSG_WAITALL` `WSAEOPNOTSUPP`; a NULL `buf` with `len` > 0, or
/// `len` < 0, `WSAEFAULT`; a reset connection, once its data is read, `WSAECONNRESET` ([SD-12]);
/// a datagram longer than `len` `WSAEMSGSIZE`, with `len` bytes of it copied and the rest lost;
/// a blocking receive still waiting `SO_RCVTIMEO` milliseconds after it was made
/// `WSAETIMEDOUT`, nothing that arrives later being lost ([OP-2]).
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
///
///     assert_eq!(send(c, b"hello".as_ptr(), 5, 0), 5);
///     assert_eq!(closesocket(c), 0); // graceful: the data, then FIN
///     let mut buf = [0u8; 3];
///     assert_eq!(recv(s, buf.as_mut_ptr(), 3, MSG_PEEK), 3);
///     assert_eq!(recv(s, buf.as_mut_ptr(), 3, 0), 3);
///     assert_eq!(&buf, b"hel");
///     assert_eq!(recv(s, buf.as_mut_ptr(), 3, 0), 2);
///     assert_eq!(&buf[..2], b"lo");
///     assert_eq!(recv(s, buf.as_mut_ptr(), 3, 0), 0); // the peer's FIN
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// # Divergence
/// After the peer resets the connection, bytes already in the receive buffer stay readable;
/// `WSAECONNRESET` comes once they are read (the SPEC's "the peer gets what was already
/// delivered, then a reset"). `WSAEDISCON` is never returned: no built-in provider is
/// message-oriented and connection-based.
///
/// [OP-2]: crate::rules#op-2
/// [OP-7]: crate::rules#op-7
/// [SD-10]: crate::rules#sd-10
/// [SD-12]: crate::rules#sd-12
pub unsafe fn recv(s: SOCKET, buf: *mut u8, len: i32, flags: SEND_RECV_FLAGS) -> i32 {
    count(call(DataCall::Recv {
        s: Socket::from_raw(s),
        buf: bytes_out(buf, Some(len)),
        len,
        flags,
        from: None,
        msg: None,
    }))
}

/// `recvfrom`: [`recv`], and the sender's address into `from` (16 bytes, `*fromlen` set to 16)
/// when `from` and `fromlen` are given. On a datagram socket it reads one datagram; on a
/// stream socket the address is the peer's.
///
/// Errors: those of [`recv`]; `from` or `fromlen` NULL while the other is not, or `*fromlen`
/// under 16, `WSAEFAULT`, checked after the flags and `buf`, before anything is read.
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
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let addr = sockaddr_in(INADDR_LOOPBACK, 5353);
///     assert_eq!(bind(rx, (&raw const addr).cast(), LEN), 0);
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     assert_eq!(sendto(tx, b"hello".as_ptr(), 5, 0, (&raw const addr).cast(), LEN), 5);
///     assert_eq!(sendto(tx, b"again".as_ptr(), 5, 0, (&raw const addr).cast(), LEN), 5);
///
///     let mut buf = [0u8; 16];
///     let mut from: SOCKADDR_IN = std::mem::zeroed();
///     let mut fromlen = LEN;
///     let n = recvfrom(rx, buf.as_mut_ptr(), 16, 0, (&raw mut from).cast(), &mut fromlen);
///     assert_eq!((n, &buf[..5]), (5, &b"hello"[..]));
///     // tx was bound implicitly, to the first ephemeral port.
///     assert_eq!(u16::from_be(from.sin_port), 49152);
///
///     // A buffer too small: the first bytes, WSAEMSGSIZE, and the datagram is gone.
///     let n = recvfrom(rx, buf.as_mut_ptr(), 2, 0, (&raw mut from).cast(), &mut fromlen);
///     assert_eq!((n, WSAGetLastError()), (SOCKET_ERROR, WSAEMSGSIZE));
///     assert_eq!(&buf[..2], b"ag");
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
pub unsafe fn recvfrom(
    s: SOCKET,
    buf: *mut u8,
    len: i32,
    flags: i32,
    from: *mut SOCKADDR,
    fromlen: *mut i32,
) -> i32 {
    count(with_addr_out(from, fromlen, |addr, alen| {
        call(DataCall::Recv {
            s: Socket::from_raw(s),
            buf: bytes_out(buf, Some(len)),
            len,
            flags,
            from: Some((addr, alen)),
            msg: None,
        })
    }))
}

/// `getsockname`: the local address `s` is bound to, into `name` (16 bytes, `*namelen` set to
/// 16). A stream socket that `connect` bound implicitly reports the address its connection
/// uses.
///
/// Errors, after the [checks every call makes](crate::sys#errors): a socket not bound
/// (neither by `bind` nor implicitly by `connect`, `sendto`) `WSAEINVAL`; then a NULL `name`
/// or `namelen`, or `*namelen` under 16, `WSAEFAULT`.
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
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let mut name: SOCKADDR_IN = std::mem::zeroed();
///     let mut len = LEN;
///     assert_eq!(getsockname(s, (&raw mut name).cast(), &mut len), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
///
///     let addr = sockaddr_in(INADDR_LOOPBACK, 5353);
///     assert_eq!(bind(s, (&raw const addr).cast(), LEN), 0);
///     assert_eq!(getsockname(s, (&raw mut name).cast(), &mut len), 0);
///     assert_eq!(len, 16);
///     assert_eq!(u32::from_be(name.sin_addr.S_un.S_addr), INADDR_LOOPBACK);
///     assert_eq!(u16::from_be(name.sin_port), 5353);
///     let mut short = 8;
///     assert_eq!(getsockname(s, (&raw mut name).cast(), &mut short), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEFAULT);
///
///     let l = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     let addr = sockaddr_in(INADDR_LOOPBACK, 8080);
///     assert_eq!(bind(l, (&raw const addr).cast(), LEN), 0);
///     assert_eq!(listen(l, 5), 0);
///     let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
///     assert_eq!(getsockname(c, (&raw mut name).cast(), &mut len), 0);
///     assert_eq!(u32::from_be(name.sin_addr.S_un.S_addr), INADDR_LOOPBACK);
///     assert_eq!(u16::from_be(name.sin_port), 49152);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
pub unsafe fn getsockname(s: SOCKET, name: *mut SOCKADDR, namelen: *mut i32) -> i32 {
    status(with_addr_out(name, namelen, |addr, len| {
        call(SocketCall::SockName {
            s: Socket::from_raw(s),
            addr,
            len,
        })
    }))
}

/// `getpeername`: the address of the peer `s` is connected to, into `name` (16 bytes,
/// `*namelen` set to 16).
///
/// Errors, after the [checks every call makes](crate::sys#errors): a socket not connected
/// `WSAENOTCONN`, checked before the pointers ([ER-3]); then a NULL `name` or `namelen`, or
/// `*namelen` under 16, `WSAEFAULT`.
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
///     // Not connected comes before the NULL pointers.
///     assert_eq!(getpeername(c, std::ptr::null_mut(), std::ptr::null_mut()), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAENOTCONN);
///
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
///     let mut peer: SOCKADDR_IN = std::mem::zeroed();
///     let mut len = LEN;
///     assert_eq!(getpeername(c, (&raw mut peer).cast(), &mut len), 0);
///     assert_eq!(u32::from_be(peer.sin_addr.S_un.S_addr), INADDR_LOOPBACK);
///     assert_eq!(u16::from_be(peer.sin_port), 8080);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [ER-3]: crate::rules#er-3
pub unsafe fn getpeername(s: SOCKET, name: *mut SOCKADDR, namelen: *mut i32) -> i32 {
    status(with_addr_out(name, namelen, |addr, len| {
        call(SocketCall::PeerName {
            s: Socket::from_raw(s),
            addr,
            len,
        })
    }))
}

/// `shutdown`: closes one direction of a connection, or both, without closing the socket.
/// `SD_SEND` sends FIN after the queued data: later sends fail `WSAESHUTDOWN` and the peer
/// reads 0 once it has read the rest ([SD-1]). `SD_RECEIVE` makes later receives fail
/// `WSAESHUTDOWN` ([SD-10]); on TCP, data unread then, or arriving later, resets the
/// connection ([SD-11]). `SD_BOTH` does both. Calling it again succeeds ([SD-8]).
///
/// Errors, after the [checks every call makes](crate::sys#errors): a `how` other than
/// `SD_RECEIVE`, `SD_SEND`, `SD_BOTH` `WSAEINVAL`; then a stream socket not connected
/// `WSAENOTCONN` ([SD-10]). On a datagram socket it needs no connection.
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
///     assert_eq!(shutdown(c, SD_SEND), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAENOTCONN);
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
///     let s = accept(l, std::ptr::null_mut(), std::ptr::null_mut());
///     assert_eq!(shutdown(c, 7), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
///
///     assert_eq!(send(c, b"bye".as_ptr(), 3, 0), 3);
///     assert_eq!(shutdown(c, SD_SEND), 0);
///     let mut buf = [0u8; 8];
///     assert_eq!(recv(s, buf.as_mut_ptr(), 8, 0), 3);
///     assert_eq!(recv(s, buf.as_mut_ptr(), 8, 0), 0);
///     // The other direction still works.
///     assert_eq!(send(s, b"ok".as_ptr(), 2, 0), 2);
///     assert_eq!(recv(c, buf.as_mut_ptr(), 8, 0), 2);
///
///     assert_eq!(shutdown(c, SD_RECEIVE), 0);
///     assert_eq!(recv(c, buf.as_mut_ptr(), 8, 0), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAESHUTDOWN);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [SD-1]: crate::rules#sd-1
/// [SD-8]: crate::rules#sd-8
/// [SD-10]: crate::rules#sd-10
/// [SD-11]: crate::rules#sd-11
pub unsafe fn shutdown(s: SOCKET, how: WINSOCK_SHUTDOWN_HOW) -> i32 {
    status(call(DataCall::Shutdown {
        s: Socket::from_raw(s),
        how,
    }))
}

/// `WSASendDisconnect`: closes the sending direction of `s`, with disconnect data on providers
/// that carry it ([SD-1] to [SD-8]).
///
/// - With a NULL `lpoutbounddisconnectdata` it is [`shutdown`]`(s, SD_SEND)`: later sends fail
///   `WSAESHUTDOWN`, and the peer's receives return 0 once its buffered data is read ([SD-1]).
/// - With data, on a provider without `XP1_DISCONNECT_DATA` (TCP/IP): `WSAENOPROTOOPT`, and
///   nothing changes ([SD-2]); on one with it
///   ([`DISCONNECT_DATA_PROVIDER`](crate::spi::DISCONNECT_DATA_PROVIDER)) the data travels with
///   the close and the peer reads it with `WSARecvDisconnect` ([SD-3]).
/// - A socket never connected, or listening, fails `WSAENOTCONN`; on UDP the call acts as
///   `shutdown(SD_SEND)` ([SD-4]). A `WSABUF` with a NULL `buf` and `len` > 0, or longer than
///   [`MAX_DISCONNECT_DATA`](crate::MAX_DISCONNECT_DATA), fails `WSAEFAULT` ([SD-5]).
/// - It never blocks, whatever `SO_LINGER` says, and does not close the socket ([SD-6]);
///   `connect` on it afterwards fails `WSAEISCONN` ([SD-7]); a second call returns 0 ([SD-8]).
///
/// Errors, after the [checks every call makes](crate::sys#errors): a stream socket not
/// connected `WSAENOTCONN` ([SD-4]); data on a provider without disconnect data
/// `WSAENOPROTOOPT` ([SD-2]); then a bad `WSABUF` `WSAEFAULT` ([SD-5]).
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
///
///     // TCP/IP carries no disconnect data: nothing changes.
///     let mut bye = *b"bye";
///     let with_data = WSABUF { len: 3, buf: bye.as_mut_ptr() };
///     assert_eq!(WSASendDisconnect(c, &with_data), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAENOPROTOOPT);
///     assert_eq!(send(c, b"data".as_ptr(), 4, 0), 4);
///
///     // Without data it is shutdown(SD_SEND).
///     assert_eq!(WSASendDisconnect(c, std::ptr::null()), 0);
///     let mut buf = [0u8; 8];
///     assert_eq!(recv(s, buf.as_mut_ptr(), 8, 0), 4);
///     assert_eq!(recv(s, buf.as_mut_ptr(), 8, 0), 0);
///     assert_eq!(WSASendDisconnect(c, std::ptr::null()), 0); // again: 0
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEISCONN);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [SD-1]: crate::rules#sd-1
/// [SD-2]: crate::rules#sd-2
/// [SD-3]: crate::rules#sd-3
/// [SD-4]: crate::rules#sd-4
/// [SD-5]: crate::rules#sd-5
/// [SD-6]: crate::rules#sd-6
/// [SD-7]: crate::rules#sd-7
/// [SD-8]: crate::rules#sd-8
pub unsafe fn WSASendDisconnect(s: SOCKET, lpoutbounddisconnectdata: *const WSABUF) -> i32 {
    let data = read_opt(lpoutbounddisconnectdata).map(|b| crate::core::providers::net::WsaBufIn {
        buf: bytes_in(b.buf, i32::try_from(b.len).unwrap_or(i32::MAX)),
        len: b.len,
    });
    status(call(DataCall::SendDisconnect {
        s: Socket::from_raw(s),
        data,
    }))
}

/// `WSARecvDisconnect`: `shutdown(s, SD_RECEIVE)` ([SD-10], [SD-11]), and, with a `WSABUF`,
/// the disconnect data the peer sent with its close copied into it, its `len` set to the
/// bytes copied (0 when there is none yet) ([SD-9], [SD-3]). The data is handed over once.
///
/// The signature takes `*const WSABUF` as windows-sys does, but Winsock writes `len` back:
/// pass a pointer made from a mutable place (`&raw mut buf`), never from `&buf`. Only a
/// successful call that changes `len` writes it; a failed call writes nothing.
///
/// Errors, after the [checks every call makes](crate::sys#errors): a stream socket not
/// connected `WSAENOTCONN`; a `WSABUF` on a provider without disconnect data (TCP/IP)
/// `WSAENOPROTOOPT`; a NULL `buf` with `len` > 0, or a buffer too small for the data,
/// `WSAEFAULT` (and nothing changes).
///
/// The disconnect data below travels on ws2sim's own disconnect-data provider
/// ([`DISCONNECT_DATA_PROVIDER`](crate::spi::DISCONNECT_DATA_PROVIDER)), as Windows ships
/// none:
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
/// use ws2sim::consts::IPPROTO_WS2SIM_DISCONNECT_DATA as PROTO;
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut data), 0);
///     let l = socket(AF_INET as i32, SOCK_STREAM, PROTO);
///     let addr = sockaddr_in(INADDR_LOOPBACK, 8080);
///     assert_eq!(bind(l, (&raw const addr).cast(), LEN), 0);
///     assert_eq!(listen(l, 5), 0);
///     let c = socket(AF_INET as i32, SOCK_STREAM, PROTO);
///     assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
///     let s = accept(l, std::ptr::null_mut(), std::ptr::null_mut());
///
///     let mut bye = *b"bye";
///     let out = WSABUF { len: 3, buf: bye.as_mut_ptr() };
///     assert_eq!(WSASendDisconnect(s, &out), 0);
///     let mut buf = [0u8; 8];
///     assert_eq!(recv(c, buf.as_mut_ptr(), 8, 0), 0); // the close has arrived
///
///     let mut inbound = WSABUF { len: 8, buf: buf.as_mut_ptr() };
///     assert_eq!(WSARecvDisconnect(c, &raw mut inbound), 0);
///     assert_eq!(inbound.len, 3);
///     assert_eq!(&buf[..3], b"bye");
///     assert_eq!(recv(c, buf.as_mut_ptr(), 8, 0), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAESHUTDOWN);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [SD-3]: crate::rules#sd-3
/// [SD-9]: crate::rules#sd-9
/// [SD-10]: crate::rules#sd-10
/// [SD-11]: crate::rules#sd-11
pub unsafe fn WSARecvDisconnect(s: SOCKET, lpinbounddisconnectdata: *const WSABUF) -> i32 {
    let Some(mut wsabuf) = read_opt(lpinbounddisconnectdata) else {
        return status(call(DataCall::RecvDisconnect {
            s: Socket::from_raw(s),
            data: None,
        }));
    };
    let before = wsabuf.len;
    let buf = bytes_out(wsabuf.buf, Some(i32::try_from(before).unwrap_or(i32::MAX)));
    let r = call(DataCall::RecvDisconnect {
        s: Socket::from_raw(s),
        data: Some(crate::core::providers::net::WsaBufOut {
            buf,
            len: &mut wsabuf.len,
        }),
    });
    // Only a success writes back, and only the `len` it changed: the record may be a
    // constant, as a failed call leaves it alone.
    if r.is_ok() && wsabuf.len != before {
        let p = lpinbounddisconnectdata.cast_mut();
        std::ptr::addr_of_mut!((*p).len).write_unaligned(wsabuf.len);
    }
    status(r)
}
