//! The extension operations through the safe API ([EX-2]..[EX-4], [EX-7]): `AcceptEx`
//! ([`Socket::accept_overlapped`]), `ConnectEx` ([`Socket::connect_overlapped`]),
//! `DisconnectEx` ([`Socket::disconnect_overlapped`]), `SO_UPDATE_ACCEPT_CONTEXT`, and the
//! batch and user packets of a [`CompletionPort`].
//!
//! This module only translates: the operations are decided in the core, as the `sys`
//! functions of the same names are.
//!
//! [EX-2]: crate::rules#ex-2
//! [EX-4]: crate::rules#ex-4
//! [EX-7]: crate::rules#ex-7

use std::net::SocketAddrV4;
use std::time::Duration;

use super::overlapped::{start_op, CompletionPort, OverlappedOp, Packet};
use crate::consts::*;
use crate::core::call::IoCall;
use crate::core::events::EventHandle;
use crate::core::overlapped::{AcceptLengths, OpKind};
use crate::core::providers::accept_ex::{AddressOffsets, ADDRESS_ROOM};
use crate::core::providers::sockaddr;
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

/// A pending `AcceptEx` started with [`Socket::accept_overlapped`]: its outcome is the
/// connection's first data and both addresses ([`Accepted`]).
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddrV4};
/// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let at = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7100);
///     let tcp = || Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     let l = tcp();
///     l.bind(at).unwrap();
///     l.listen(1).unwrap();
///     let a = tcp();
///     let op = l.accept_overlapped(a, 0, None).unwrap();
///     assert_eq!(op.result(), None); // pending: nobody connected yet
///     let c = tcp();
///     c.connect(at).unwrap();
///     let got = op.result().unwrap().unwrap(); // no data room: done at the connection
///     assert_eq!((got.local, got.remote), (at, c.local_addr().unwrap()));
///     // Closing the listener aborts a pending AcceptEx.
///     let again = l.accept_overlapped(tcp(), 0, None).unwrap();
///     l.close().unwrap();
///     assert_eq!(again.result(), Some(Err(WsaError::OperationAborted)));
///     api::cleanup().unwrap();
/// });
/// ```
#[derive(Debug)]
pub struct AcceptOp {
    op: OverlappedOp,
    lengths: AcceptLengths,
}

/// What a completed `AcceptEx` gives: its first data and both addresses, as
/// `GetAcceptExSockaddrs` reads them.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddrV4};
/// use ws2sim::{api, consts::*, Sim, Socket, Version};
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let at = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7101);
///     let tcp = || Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     let l = tcp();
///     l.bind(at).unwrap();
///     l.listen(1).unwrap();
///     let op = l.accept_overlapped(tcp(), 64, None).unwrap();
///     let c = tcp();
///     c.connect(at).unwrap();
///     c.send(b"GET /").unwrap();
///     let got = op.wait(l).unwrap(); // completes with the first data
///     assert_eq!(got.data, b"GET /");
///     assert_eq!(got.remote, c.local_addr().unwrap());
///     api::cleanup().unwrap();
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The first data (empty when no room was asked for, or the client closed first).
    pub data: Vec<u8>,
    /// The accepted connection's local address.
    pub local: SocketAddrV4,
    /// The client's address.
    pub remote: SocketAddrV4,
}

impl AcceptOp {
    /// The operation underneath (its [`id`](OverlappedOp::id) is the packet's `overlapped`).
    pub fn op(&self) -> &OverlappedOp {
        &self.op
    }

    /// The outcome once the operation completed; `None` while pending.
    pub fn result(&self) -> Option<Result<Accepted, WsaError>> {
        self.op.result().map(|r| r.map(|image| self.parse(&image)))
    }

    /// Waits for the outcome (`WSAGetOverlappedResult` on the listener `l`).
    pub fn wait(&self, l: Socket) -> Result<Accepted, WsaError> {
        self.op.wait(l).map(|image| self.parse(&image))
    }

    fn parse(&self, image: &[u8]) -> Accepted {
        let at = AddressOffsets::of(self.lengths);
        let addr = |offset: usize| {
            image
                .get(offset + 4..offset + 20)
                .and_then(|b| sockaddr::decode(b).ok())
                .unwrap_or(SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0))
        };
        let n = self.op.bytes().unwrap_or(0);
        Accepted {
            data: image[..n.min(image.len())].to_vec(),
            local: at
                .local
                .map_or(SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0), addr),
            remote: addr(at.remote),
        }
    }
}

/// The extension operations ([EX-2]..[EX-4]) through the safe API.
///
/// [EX-2]: crate::rules#ex-2
/// [EX-4]: crate::rules#ex-4
impl Socket {
    /// `AcceptEx` on this listening socket: the next connection becomes `accept`'s (a fresh
    /// TCP socket), with up to `data_room` bytes of its first data (0: complete at the
    /// connection). It is the listener's operation: its packet carries the listener's
    /// completion key. Then [`update_accept_context`](Socket::update_accept_context) makes
    /// `accept` a full socket (`getpeername` and the listener's options).
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::api::{self, CompletionPort};
    /// use ws2sim::{consts::*, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let at = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
    ///     let tcp = || Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     let l = tcp();
    ///     l.bind(at).unwrap();
    ///     l.listen(4).unwrap();
    ///     let port = CompletionPort::new().unwrap();
    ///     port.associate(l, 1).unwrap();
    ///     let a = tcp();
    ///     let op = l.accept_overlapped(a, 16, None).unwrap();
    ///     let c = tcp();
    ///     c.connect(at).unwrap();
    ///     c.send(b"hello").unwrap();
    ///     let packets = port.get_many(8, None).unwrap();
    ///     assert_eq!((packets[0].key, packets[0].overlapped), (1, op.op().id()));
    ///     let got = op.wait(l).unwrap();
    ///     assert_eq!((&got.data[..], got.local), (&b"hello"[..], at));
    ///     a.update_accept_context(l).unwrap();
    ///     assert_eq!(a.peer_addr().unwrap(), got.remote);
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn accept_overlapped(
        self,
        accept: Socket,
        data_room: usize,
        event: Option<EventHandle>,
    ) -> Result<AcceptOp, WsaError> {
        let lengths = AcceptLengths {
            data: u32::try_from(data_room).map_err(|_| WsaError::InvalidArgument)?,
            local: ADDRESS_ROOM,
            remote: ADDRESS_ROOM,
        };
        let kind = OpKind::Accept {
            accept,
            lengths,
            taken: None,
        };
        let op = start_op(self, kind, event)?;
        Ok(AcceptOp { op, lengths })
    }

    /// `setsockopt(SO_UPDATE_ACCEPT_CONTEXT)` with `listener`, after this socket's `AcceptEx`
    /// completed ([EX-2]); [`accept_overlapped`](Socket::accept_overlapped) shows it in use.
    /// Before, the accepted socket is not connected as far as `getpeername` goes.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// sim.localhost().process("app").run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let at = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7102);
    ///     let tcp = || Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     let l = tcp();
    ///     l.bind(at).unwrap();
    ///     l.listen(1).unwrap();
    ///     let a = tcp();
    ///     let op = l.accept_overlapped(a, 0, None).unwrap();
    ///     let c = tcp();
    ///     c.connect(at).unwrap();
    ///     op.wait(l).unwrap();
    ///     assert_eq!(a.peer_addr(), Err(WsaError::NotConnected));
    ///     a.update_accept_context(l).unwrap();
    ///     assert_eq!(a.peer_addr(), Ok(c.local_addr().unwrap()));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [EX-2]: crate::rules#ex-2
    pub fn update_accept_context(self, listener: Socket) -> Result<(), WsaError> {
        self.set_option(
            SOL_SOCKET,
            SO_UPDATE_ACCEPT_CONTEXT,
            &listener.raw().to_ne_bytes(),
        )
    }

    /// `ConnectEx`: connects this bound, unconnected TCP socket to `to`, then sends `data`;
    /// completes with `data`'s length once connected ([EX-3]).
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let at = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
    ///     let tcp = || Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     let l = tcp();
    ///     l.bind(at).unwrap();
    ///     l.listen(4).unwrap();
    ///     let c = tcp();
    ///     c.bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    ///     let op = c.connect_overlapped(at, b"first", None).unwrap();
    ///     assert_eq!(op.wait(c), Ok(vec![]));
    ///     assert_eq!(op.bytes(), Some(5));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [EX-3]: crate::rules#ex-3
    pub fn connect_overlapped(
        self,
        to: SocketAddrV4,
        data: &[u8],
        event: Option<EventHandle>,
    ) -> Result<OverlappedOp, WsaError> {
        let kind = OpKind::Connect {
            to: sockaddr::encode(to).to_vec(),
            data: data.to_vec(),
        };
        start_op(self, kind, event)
    }

    /// `DisconnectEx` with an `OVERLAPPED`: shuts sending down and completes (0 bytes) once
    /// the close is acknowledged; with `reuse` (`TF_REUSE_SOCKET`) the socket is fresh
    /// afterwards, for [`accept_overlapped`](Socket::accept_overlapped) or
    /// [`connect_overlapped`](Socket::connect_overlapped) ([EX-4]).
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// sim.localhost().process("app").run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let at = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7103);
    ///     let tcp = || Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     let l = tcp();
    ///     l.bind(at).unwrap();
    ///     l.listen(2).unwrap();
    ///     let c = tcp();
    ///     c.connect(at).unwrap();
    ///     let (server_side, _) = l.accept().unwrap();
    ///     let op = c.disconnect_overlapped(true, None).unwrap();
    ///     assert_eq!(op.wait(c), Ok(vec![])); // the FIN was acknowledged
    ///     let mut buf = [0u8; 4];
    ///     assert_eq!(server_side.recv(&mut buf), Ok(0)); // the peer sees a graceful close
    ///     // TF_REUSE_SOCKET: the same socket connects again.
    ///     c.bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    ///     let again = c.connect_overlapped(at, b"", None).unwrap();
    ///     assert_eq!(again.wait(c), Ok(vec![]));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [EX-4]: crate::rules#ex-4
    pub fn disconnect_overlapped(
        self,
        reuse: bool,
        event: Option<EventHandle>,
    ) -> Result<OverlappedOp, WsaError> {
        let kind = OpKind::Disconnect {
            flags: if reuse { TF_REUSE_SOCKET } else { 0 },
            reserved: 0,
            blocking: false,
        };
        start_op(self, kind, event)
    }
}

/// The batch and user packets of a completion port ([EX-7]).
///
/// [EX-7]: crate::rules#ex-7
impl CompletionPort {
    /// `GetQueuedCompletionStatusEx`: up to `max` packets at once, oldest first, waiting up
    /// to `timeout` (`None`: no limit) for the first; an empty list when the timeout passed.
    /// A failed operation's packet is in the list with its error.
    pub fn get_many(self, max: usize, timeout: Option<Duration>) -> Result<Vec<Packet>, WsaError> {
        match call(IoCall::GetQueuedEx {
            port: self.raw_handle(),
            max: u32::try_from(max).unwrap_or(u32::MAX),
            timeout,
            alertable: false,
        }) {
            Ok(Reply::Packets(list)) => Ok(list),
            Ok(other) => unreachable!("GetQueuedCompletionStatusEx returned {other:?}"),
            Err(WsaError::WaitTimeout) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// `PostQueuedCompletionStatus`: queues a packet of the caller's own after the others
    /// (a worker pool's shutdown signal).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ws2sim::api::{CompletionPort, Packet};
    /// use ws2sim::Sim;
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     let port = CompletionPort::new().unwrap();
    ///     port.post(7, 0xdead, 0).unwrap();
    ///     let got = port.get_many(4, Some(Duration::ZERO)).unwrap();
    ///     let want = Packet { bytes: 7, key: 0xdead, overlapped: 0, error: None };
    ///     assert_eq!(got, vec![want]);
    /// });
    /// ```
    pub fn post(self, bytes: u32, key: usize, overlapped: usize) -> Result<(), WsaError> {
        let packet = Packet {
            bytes,
            key,
            overlapped,
            error: None,
        };
        call(IoCall::PostPacket {
            port: self.raw_handle(),
            packet,
        })
        .map(drop)
    }
}
