use super::types::*;
use super::{bytes_in, bytes_out, count, read_opt, socket_result, status, with_addr_out};
use crate::consts::*;
use crate::core::call::Call;
use crate::core::ws2::table::Socket;
use crate::sim::thread::call;

/// `bind`: the address must be the wildcard, loopback or the host's own; port 0 picks an
/// ephemeral port.
///
/// # Divergence
/// A port is taken per host and protocol: binding 127.0.0.1:p and 10.0.0.N:p separately
/// fails `WSAEADDRINUSE` (Windows allows it when neither is the wildcard). A socket bound to
/// a loopback address only receives from its own host; one bound to a specific address only
/// what is sent to that address.
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
///
/// # Divergence
/// A connection to an address no simulated host has fails `WSAETIMEDOUT` after 21 s of
/// virtual time (two SYN retransmissions, as Windows' defaults); a full backlog refuses at
/// once (`WSAECONNREFUSED`) instead of letting the SYN be retried.
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
///
/// # Divergence
/// A datagram to a port nobody has bound is dropped silently: the simulated network sends
/// no ICMP port-unreachable, so a later `recv` never fails `WSAECONNRESET` as on Windows.
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
///
/// # Divergence
/// After the peer resets the connection, bytes already in the receive buffer stay readable;
/// `WSAECONNRESET` comes once they are read (the SPEC's "the peer gets what was already
/// delivered, then a reset"). `WSAEDISCON` is never returned: no built-in provider is
/// message-oriented and connection-based.
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
    status(call(Call::SendDisconnect {
        s: Socket::from_raw(s),
        data,
    }))
}

/// `WSARecvDisconnect`: shutdown(SD_RECEIVE), and the peer's disconnect data into the
/// `WSABUF` (its `len` is set to the bytes copied) (SD-9).
///
/// The signature takes `*const WSABUF` as windows-sys does, but Winsock writes `len` back:
/// pass a pointer made from a mutable place (`&raw mut buf`), never from `&buf`. Only a
/// successful call that changes `len` writes it; a failed call writes nothing.
pub unsafe fn WSARecvDisconnect(s: SOCKET, lpinbounddisconnectdata: *const WSABUF) -> i32 {
    let Some(mut wsabuf) = read_opt(lpinbounddisconnectdata) else {
        return status(call(Call::RecvDisconnect {
            s: Socket::from_raw(s),
            data: None,
        }));
    };
    let before = wsabuf.len;
    let buf = bytes_out(wsabuf.buf, Some(i32::try_from(before).unwrap_or(i32::MAX)));
    let r = call(Call::RecvDisconnect {
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
