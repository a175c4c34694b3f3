use std::net::{Shutdown, SocketAddrV4};

use crate::consts::*;
use crate::core::call::{DataCall, EventCall, OptionCall, SocketCall};
use crate::core::events::EventHandle;
use crate::core::providers::net::{WsaBufIn, WsaBufOut};
use crate::core::providers::sockaddr::{self, SOCKADDR_IN_SIZE};
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

use super::NetworkEvents;

fn addr_call(
    f: impl FnOnce(&mut [u8], &mut i32) -> Result<Reply, WsaError>,
) -> Result<(Reply, SocketAddrV4), WsaError> {
    let mut buf = [0u8; SOCKADDR_IN_SIZE];
    let mut len = SOCKADDR_IN_SIZE as i32;
    let reply = f(&mut buf, &mut len)?;
    Ok((reply, sockaddr::decode(&buf)?))
}

fn bytes(r: Reply) -> usize {
    match r {
        Reply::Count(n) => n as usize,
        other => unreachable!("a data call returned {other:?}"),
    }
}

fn len_i32(n: usize) -> Result<i32, WsaError> {
    i32::try_from(n).map_err(|_| WsaError::InvalidArgument)
}

/// Network calls on a socket: a server and a client in two processes of one host.
///
/// ```
/// use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};
/// use ws2sim::{api, consts::*, Sim, Socket, Version};
///
/// let sim = Sim::new();
/// let host = sim.localhost();
/// let (server, client) = (host.process("server"), host.process("client"));
/// let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9000);
/// let listener = server.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     l.bind(addr).unwrap();
///     l.listen(5).unwrap();
///     l
/// });
/// let client_addr = client.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     c.connect(addr).unwrap(); // one round trip of virtual time
///     assert_eq!(c.send(b"hello").unwrap(), 5);
///     c.shutdown(Shutdown::Write).unwrap();
///     c.local_addr().unwrap()
/// });
/// // connect bound the client to the host's first ephemeral port.
/// assert_eq!(client_addr, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 49152));
/// server.run(|| {
///     let (s, peer) = listener.accept().unwrap();
///     assert_eq!(peer, client_addr);
///     let mut buf = [0u8; 16];
///     assert_eq!(s.recv(&mut buf).unwrap(), 5);
///     assert_eq!(&buf[..5], b"hello");
///     assert_eq!(s.recv(&mut buf).unwrap(), 0); // graceful close
/// });
/// ```
impl Socket {
    /// `bind`: gives the socket its local address; port 0 picks the host's next free ephemeral
    /// port (from 49152). The errors and their order are [`sys::bind`](crate::sys::bind)'s.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let a = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     let b = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5000);
    ///     a.bind(addr).unwrap();
    ///     assert_eq!(b.bind(addr), Err(WsaError::AddressInUse));
    ///     b.bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    ///     assert_eq!(b.local_addr().unwrap().port(), 49152);
    ///     assert_eq!(b.bind(addr), Err(WsaError::InvalidArgument)); // bound once
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn bind(self, addr: SocketAddrV4) -> Result<(), WsaError> {
        call(SocketCall::Bind {
            s: self,
            addr: Some(&sockaddr::encode(addr)),
        })
        .map(drop)
    }

    /// `listen`: makes a bound stream socket accept connections, up to `backlog` waiting. The
    /// errors are [`sys::listen`](crate::sys::listen)'s.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     assert_eq!(l.listen(5), Err(WsaError::InvalidArgument)); // not bound
    ///     l.bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080)).unwrap();
    ///     l.listen(5).unwrap();
    ///     let u = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     assert_eq!(u.listen(5), Err(WsaError::OperationNotSupported));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn listen(self, backlog: i32) -> Result<(), WsaError> {
        call(SocketCall::Listen { s: self, backlog }).map(drop)
    }

    /// `accept`: the oldest connection waiting on a listening socket, as a new socket (with the
    /// listener's options), and the peer's address; a blocking listener waits in virtual time
    /// for one, a non-blocking one fails `WouldBlock`. The errors are
    /// [`sys::accept`](crate::sys::accept)'s.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     c.connect(addr).unwrap(); // completes in the backlog
    ///     let (s, peer) = l.accept().unwrap();
    ///     assert_eq!(peer, c.local_addr().unwrap());
    ///     assert_eq!(s.peer_addr().unwrap(), peer);
    ///     l.set_nonblocking(true).unwrap();
    ///     assert_eq!(l.accept(), Err(WsaError::WouldBlock));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn accept(self) -> Result<(Socket, SocketAddrV4), WsaError> {
        let (reply, peer) = addr_call(|buf, len| {
            call(SocketCall::Accept {
                s: self,
                addr: Some(buf),
                len: Some(len),
            })
        })?;
        match reply {
            Reply::Socket(s) => Ok((s, peer)),
            other => unreachable!("accept returned {other:?}"),
        }
    }

    /// `connect`: a blocking stream socket waits in virtual time (one round trip) until the
    /// connection is made or refused; an unbound socket is bound to an ephemeral port first. On
    /// a datagram socket it sets the default destination. The errors are
    /// [`sys::connect`](crate::sys::connect)'s.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError, DEFAULT_LATENCY};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     assert_eq!(c.connect(addr), Err(WsaError::ConnectionRefused)); // nobody listens
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let t0 = sim.now();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     c.connect(addr).unwrap();
    ///     assert_eq!(sim.now() - t0, 2 * DEFAULT_LATENCY);
    ///     assert_eq!(c.connect(addr), Err(WsaError::IsConnected));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn connect(self, addr: SocketAddrV4) -> Result<(), WsaError> {
        call(SocketCall::Connect {
            s: self,
            addr: Some(&sockaddr::encode(addr)),
        })
        .map(drop)
    }

    /// `send`: queues the bytes on a connected socket and returns how many it took (all of them
    /// on a blocking socket). The errors are [`sys::send`](crate::sys::send)'s.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     c.connect(addr).unwrap();
    ///     let (s, _) = l.accept().unwrap();
    ///     assert_eq!(c.send(b"hello").unwrap(), 5);
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(s.recv(&mut buf).unwrap(), 5);
    ///     c.shutdown(Shutdown::Write).unwrap();
    ///     assert_eq!(c.send(b"more"), Err(WsaError::Shutdown));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn send(self, data: &[u8]) -> Result<usize, WsaError> {
        call(DataCall::Send {
            s: self,
            buf: Some(data),
            len: len_i32(data.len())?,
            flags: 0,
            to: None,
        })
        .map(bytes)
    }

    /// `sendto`: sends one datagram to `to`, binding the socket to an ephemeral port first if
    /// needed; it arrives after the link's latency. The errors are
    /// [`sys::sendto`](crate::sys::sendto)'s.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5353);
    ///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     rx.bind(to).unwrap();
    ///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     assert_eq!(tx.send_to(b"ping", to).unwrap(), 4);
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(rx.recv(&mut buf).unwrap(), 4);
    ///     assert_eq!(&buf[..4], b"ping");
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn send_to(self, data: &[u8], to: SocketAddrV4) -> Result<usize, WsaError> {
        call(DataCall::Send {
            s: self,
            buf: Some(data),
            len: len_i32(data.len())?,
            flags: 0,
            to: Some(Some(&sockaddr::encode(to))),
        })
        .map(bytes)
    }

    /// `recv` with `flags`: `MSG_PEEK` leaves the bytes queued, `MSG_WAITALL` on a blocking
    /// stream socket waits for the whole buffer (or the end of the stream) ([OP-7]). The errors
    /// are [`sys::recv`](crate::sys::recv)'s.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     c.connect(addr).unwrap();
    ///     let (s, _) = l.accept().unwrap();
    ///     c.send(b"ab").unwrap();
    ///     c.send(b"cd").unwrap();
    ///     let mut buf = [0u8; 4];
    ///     assert_eq!(s.recv_with(&mut buf[..1], MSG_PEEK).unwrap(), 1);
    ///     assert_eq!(s.recv_with(&mut buf, MSG_WAITALL).unwrap(), 4);
    ///     assert_eq!(&buf, b"abcd");
    ///     assert_eq!(s.recv_with(&mut buf, MSG_OOB), Err(WsaError::OperationNotSupported));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [OP-7]: crate::rules#op-7
    pub fn recv_with(self, buf: &mut [u8], flags: i32) -> Result<usize, WsaError> {
        let len = len_i32(buf.len())?;
        call(DataCall::Recv {
            s: self,
            buf: Some(buf),
            len,
            flags,
            from: None,
            msg: None,
        })
        .map(bytes)
    }

    /// `recv`: the bytes read, waiting in virtual time for some on a blocking socket; 0 once the
    /// peer closed gracefully and everything was read ([SD-12]). The errors are
    /// [`sys::recv`](crate::sys::recv)'s.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     c.connect(addr).unwrap();
    ///     let (s, _) = l.accept().unwrap();
    ///     c.send(b"hello").unwrap();
    ///     c.close().unwrap(); // graceful: the data, then FIN
    ///     let mut buf = [0u8; 3];
    ///     assert_eq!(s.recv(&mut buf).unwrap(), 3);
    ///     assert_eq!(s.recv(&mut buf).unwrap(), 2);
    ///     assert_eq!(&buf[..2], b"lo");
    ///     assert_eq!(s.recv(&mut buf).unwrap(), 0);
    ///     s.shutdown(Shutdown::Read).unwrap();
    ///     assert_eq!(s.recv(&mut buf), Err(WsaError::Shutdown));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [SD-12]: crate::rules#sd-12
    pub fn recv(self, buf: &mut [u8]) -> Result<usize, WsaError> {
        self.recv_with(buf, 0)
    }

    /// `recvfrom`: one datagram (or, on a stream, what [`recv`](Socket::recv) reads) and the
    /// sender's address. A datagram longer than `buf` fails `MessageSize`, its first bytes in
    /// `buf` and the rest lost. The errors are [`sys::recvfrom`](crate::sys::recvfrom)'s.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5353);
    ///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     rx.bind(to).unwrap();
    ///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     tx.send_to(b"hello", to).unwrap();
    ///     tx.send_to(b"again", to).unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let (n, from) = rx.recv_from(&mut buf).unwrap();
    ///     assert_eq!((n, &buf[..n]), (5, &b"hello"[..]));
    ///     assert_eq!(from.port(), tx.local_addr().unwrap().port());
    ///     assert_eq!(rx.recv_from(&mut buf[..2]), Err(WsaError::MessageSize));
    ///     assert_eq!(&buf[..2], b"ag");
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn recv_from(self, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), WsaError> {
        let len = len_i32(buf.len())?;
        let (reply, from) = addr_call(|a, alen| {
            call(DataCall::Recv {
                s: self,
                buf: Some(buf),
                len,
                flags: 0,
                from: Some((Some(a), Some(alen))),
                msg: None,
            })
        })?;
        Ok((bytes(reply), from))
    }

    /// `getsockname`: the address the socket is bound to; `InvalidArgument` while unbound.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     assert_eq!(s.local_addr(), Err(WsaError::InvalidArgument));
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5353);
    ///     s.bind(addr).unwrap();
    ///     assert_eq!(s.local_addr().unwrap(), addr);
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn local_addr(self) -> Result<SocketAddrV4, WsaError> {
        addr_call(|buf, len| {
            call(SocketCall::SockName {
                s: self,
                addr: Some(buf),
                len: Some(len),
            })
        })
        .map(|(_, a)| a)
    }

    /// `getpeername`: the address of the connected peer; `NotConnected` otherwise.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     assert_eq!(c.peer_addr(), Err(WsaError::NotConnected));
    ///     c.connect(addr).unwrap();
    ///     assert_eq!(c.peer_addr().unwrap(), addr);
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn peer_addr(self) -> Result<SocketAddrV4, WsaError> {
        addr_call(|buf, len| {
            call(SocketCall::PeerName {
                s: self,
                addr: Some(buf),
                len: Some(len),
            })
        })
        .map(|(_, a)| a)
    }

    /// `shutdown`: `Read` is `SD_RECEIVE`, `Write` is `SD_SEND`, `Both` is `SD_BOTH`. After
    /// `Write` sends fail `Shutdown` and the peer reads 0 once it has the rest ([SD-1]); after
    /// `Read` receives fail `Shutdown` ([SD-10]) and, on TCP, unread or later data resets the
    /// connection ([SD-11]). A socket not connected fails `NotConnected`.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     c.connect(addr).unwrap();
    ///     let (s, _) = l.accept().unwrap();
    ///     c.send(b"bye").unwrap();
    ///     c.shutdown(Shutdown::Write).unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(s.recv(&mut buf).unwrap(), 3);
    ///     assert_eq!(s.recv(&mut buf).unwrap(), 0);
    ///     assert_eq!(s.send(b"ok").unwrap(), 2); // the other direction still works
    ///     assert_eq!(c.recv(&mut buf).unwrap(), 2);
    ///     assert_eq!(l.shutdown(Shutdown::Both), Err(WsaError::NotConnected));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [SD-1]: crate::rules#sd-1
    /// [SD-10]: crate::rules#sd-10
    /// [SD-11]: crate::rules#sd-11
    pub fn shutdown(self, how: Shutdown) -> Result<(), WsaError> {
        let how = match how {
            Shutdown::Read => SD_RECEIVE,
            Shutdown::Write => SD_SEND,
            Shutdown::Both => SD_BOTH,
        };
        call(DataCall::Shutdown { s: self, how }).map(drop)
    }

    /// `WSASendDisconnect`: closes the sending direction, as `shutdown(SD_SEND)`, with
    /// disconnect data on providers that carry it ([SD-1] to [SD-8]); data on TCP/IP fails
    /// `NoProtocolOption` and changes nothing ([SD-2]). See
    /// [`sys::WSASendDisconnect`](crate::sys::WSASendDisconnect) for every rule.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     c.connect(addr).unwrap();
    ///     let (s, _) = l.accept().unwrap();
    ///     assert_eq!(c.send_disconnect(Some(b"bye")), Err(WsaError::NoProtocolOption));
    ///     c.send_disconnect(None).unwrap();
    ///     c.send_disconnect(None).unwrap(); // a second call succeeds
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(s.recv(&mut buf).unwrap(), 0);
    ///     assert_eq!(c.send(b"late"), Err(WsaError::Shutdown));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [SD-1]: crate::rules#sd-1
    /// [SD-2]: crate::rules#sd-2
    /// [SD-8]: crate::rules#sd-8
    pub fn send_disconnect(self, data: Option<&[u8]>) -> Result<(), WsaError> {
        let data = match data {
            Some(d) => Some(WsaBufIn {
                buf: Some(d),
                len: u32::try_from(d.len()).map_err(|_| WsaError::Fault)?,
            }),
            None => None,
        };
        call(DataCall::SendDisconnect { s: self, data }).map(drop)
    }

    /// `WSARecvDisconnect`: shuts down receiving (as `shutdown(SD_RECEIVE)`); with a buffer,
    /// copies the peer's disconnect data into it and returns its length ([SD-9]). A buffer on
    /// TCP/IP fails `NoProtocolOption`; ws2sim's disconnect-data provider
    /// ([`IPPROTO_WS2SIM_DISCONNECT_DATA`](crate::consts::IPPROTO_WS2SIM_DISCONNECT_DATA)) carries
    /// the data.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     const PROTO: i32 = IPPROTO_WS2SIM_DISCONNECT_DATA;
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, PROTO).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, PROTO).unwrap();
    ///     c.connect(addr).unwrap();
    ///     let (s, _) = l.accept().unwrap();
    ///     s.send_disconnect(Some(b"bye")).unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(c.recv(&mut buf).unwrap(), 0); // the close has arrived
    ///     assert_eq!(c.recv_disconnect(Some(&mut buf)).unwrap(), 3);
    ///     assert_eq!(&buf[..3], b"bye");
    ///     assert_eq!(c.recv(&mut buf), Err(WsaError::Shutdown));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [SD-9]: crate::rules#sd-9
    pub fn recv_disconnect(self, buf: Option<&mut [u8]>) -> Result<usize, WsaError> {
        match buf {
            None => call(DataCall::RecvDisconnect {
                s: self,
                data: None,
            })
            .map(|_| 0),
            Some(b) => {
                let mut len = u32::try_from(b.len()).map_err(|_| WsaError::Fault)?;
                call(DataCall::RecvDisconnect {
                    s: self,
                    data: Some(WsaBufOut {
                        buf: Some(b),
                        len: &mut len,
                    }),
                })?;
                Ok(len as usize)
            }
        }
    }

    /// `WSAEventSelect`: records the `FD_*` events in `mask` and signals `event` when one
    /// happens (mask 0: no association); conditions that already hold are recorded at once. The
    /// socket becomes non-blocking. See [`sys::WSAEventSelect`](crate::sys::WSAEventSelect).
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use std::time::Duration;
    /// use ws2sim::api::Wait;
    /// use ws2sim::{api, consts::*, EventHandle, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let e = EventHandle::create().unwrap();
    ///     l.event_select(e, FD_ACCEPT).unwrap();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     c.connect(addr).unwrap();
    ///     let timeout = Some(Duration::from_secs(1));
    ///     assert_eq!(api::wait_for_events(&[e], false, timeout).unwrap(), Wait::Signaled(0));
    ///     assert!(l.network_events(Some(e)).unwrap().has(FD_ACCEPT));
    ///     l.accept().unwrap();
    ///     assert_eq!(l.accept(), Err(WsaError::WouldBlock)); // non-blocking now
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn event_select(self, event: EventHandle, mask: u32) -> Result<(), WsaError> {
        call(EventCall::EventSelect {
            s: self,
            event,
            mask: mask as i32,
        })
        .map(drop)
    }

    /// `WSAEnumNetworkEvents`: the events recorded since the last call, with their error codes;
    /// clears them and resets `event` if given. `FD_CLOSE` comes once the data before it is read,
    /// with 0 for a graceful close ([SD-12]).
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, EventHandle, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    ///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     l.bind(addr).unwrap();
    ///     l.listen(5).unwrap();
    ///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     c.connect(addr).unwrap();
    ///     let (s, _) = l.accept().unwrap();
    ///     let e = EventHandle::create().unwrap();
    ///     s.event_select(e, FD_READ | FD_CLOSE).unwrap();
    ///     c.send(b"hi").unwrap();
    ///     c.close().unwrap();
    ///     api::wait_for_events(&[e], false, None).unwrap();
    ///     let got = s.network_events(Some(e)).unwrap();
    ///     assert_eq!((got.has(FD_READ), got.has(FD_CLOSE)), (true, false));
    ///     assert_eq!(s.recv(&mut [0u8; 8]).unwrap(), 2);
    ///     api::wait_for_events(&[e], false, None).unwrap();
    ///     let got = s.network_events(Some(e)).unwrap();
    ///     assert_eq!(got.events, FD_CLOSE);
    ///     assert_eq!(got.error(FD_CLOSE), Some(0));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [SD-12]: crate::rules#sd-12
    pub fn network_events(self, event: Option<EventHandle>) -> Result<NetworkEvents, WsaError> {
        let mut out = (0u32, [0i32; FD_MAX_EVENTS as usize]);
        call(EventCall::EnumNetworkEvents {
            s: self,
            event,
            out: Some(&mut out),
        })?;
        Ok(NetworkEvents {
            events: out.0,
            errors: out.1,
        })
    }

    /// `SO_SNDBUF`: how many bytes may wait to be sent (64 KiB by default). A blocking `send`
    /// waits while more are queued; a non-blocking one takes what fits.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     assert_eq!(s.option(SOL_SOCKET, SO_SNDBUF, 4).unwrap(), 65536u32.to_ne_bytes());
    ///     s.set_send_buffer_size(1024).unwrap();
    ///     assert_eq!(s.option(SOL_SOCKET, SO_SNDBUF, 4).unwrap(), 1024u32.to_ne_bytes());
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn set_send_buffer_size(self, bytes: u32) -> Result<(), WsaError> {
        self.set_option(SOL_SOCKET, SO_SNDBUF, &bytes.to_ne_bytes())
    }

    /// `SO_RCVBUF` (64 KiB by default).
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     s.set_recv_buffer_size(4096).unwrap();
    ///     assert_eq!(s.option(SOL_SOCKET, SO_RCVBUF, 4).unwrap(), 4096u32.to_ne_bytes());
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn set_recv_buffer_size(self, bytes: u32) -> Result<(), WsaError> {
        self.set_option(SOL_SOCKET, SO_RCVBUF, &bytes.to_ne_bytes())
    }

    /// `ioctlsocket(FIONREAD)`: the bytes one `recv` can read at once (a datagram socket: the
    /// size of the next datagram).
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5353);
    ///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     rx.bind(to).unwrap();
    ///     assert_eq!(rx.bytes_readable().unwrap(), 0);
    ///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     tx.send_to(b"abc", to).unwrap();
    ///     tx.send_to(b"defgh", to).unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(rx.recv_with(&mut buf, MSG_PEEK).unwrap(), 3); // waits for the first
    ///     assert_eq!(rx.bytes_readable().unwrap(), 3);
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn bytes_readable(self) -> Result<usize, WsaError> {
        let mut arg = 0u32;
        call(OptionCall::IoctlSocket {
            s: self,
            cmd: FIONREAD,
            arg: Some(&mut arg),
        })?;
        Ok(arg as usize)
    }
}
