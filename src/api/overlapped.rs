use std::net::SocketAddrV4;
use std::time::Duration;

use crate::core::call::IoCall;
use crate::core::events::EventHandle;
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

/// An overlapped operation started through the safe API. It owns its buffer, so dropping the
/// handle early is harmless; the outcome is read with [`result`](OverlappedOp::result) or
/// waited for with [`wait`](OverlappedOp::wait) (`WSAGetOverlappedResult`).
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddrV4};
/// use ws2sim::{api, consts::*, Sim, Socket, Version};
/// let sim = Sim::new();
/// let host = sim.localhost();
/// let (a, b) = (host.process("a"), host.process("b"));
/// let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
/// let rx = a.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
///     s.bind(to).unwrap();
///     s
/// });
/// let op = a.run(|| rx.recv_overlapped(64, None).unwrap());
/// assert_eq!(op.result(), None); // pending
/// b.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
///     s.send_to(b"hi", to).unwrap();
/// });
/// let got = a.run(|| op.wait(rx)).unwrap();
/// assert_eq!(got, b"hi");
/// ```
#[derive(Debug)]
pub struct OverlappedOp {
    owned: crate::core::overlapped::OwnedMemory,
}

impl OverlappedOp {
    fn key(&self) -> usize {
        std::sync::Arc::as_ptr(&self.owned) as usize
    }

    /// The value this operation's completion packet carries as [`Packet::overlapped`]: how a
    /// worker draining a [`CompletionPort`] tells its operations apart.
    pub fn id(&self) -> usize {
        self.key()
    }

    /// The outcome once the operation completed: the bytes received (for a send: empty), or
    /// the error. `None` while pending. Closing the socket aborts a pending operation
    /// (`OperationAborted`, [CS-6]).
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
    ///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     rx.bind(to).unwrap();
    ///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     let op = rx.recv_overlapped(64, None).unwrap();
    ///     assert_eq!(op.result(), None); // pending
    ///     tx.send_to(b"hi", to).unwrap();
    ///     assert_eq!(op.wait(rx), Ok(b"hi".to_vec()));
    ///     assert_eq!(op.result(), Some(Ok(b"hi".to_vec())));
    ///     let op = rx.recv_overlapped(64, None).unwrap();
    ///     rx.close().unwrap();
    ///     assert_eq!(op.result(), Some(Err(WsaError::OperationAborted)));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [CS-6]: crate::rules#cs-6
    pub fn result(&self) -> Option<Result<Vec<u8>, WsaError>> {
        let o = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        o.result.map(|r| r.map(|_| o.data.clone()))
    }

    /// The number of bytes transferred, once completed successfully.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
    ///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     rx.bind(to).unwrap();
    ///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     let op = tx.send_overlapped(b"four", Some(to), None).unwrap();
    ///     assert_eq!(op.bytes(), Some(4));
    ///     assert_eq!(op.result(), Some(Ok(vec![]))); // a send returns no bytes
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn bytes(&self) -> Option<usize> {
        let o = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        match o.result {
            Some(Ok(n)) => Some(n as usize),
            _ => None,
        }
    }

    /// The sender of a datagram received, once completed.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
    ///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     rx.bind(to).unwrap();
    ///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     let op = rx.recv_overlapped(64, None).unwrap();
    ///     assert_eq!(op.from(), None);
    ///     tx.send_to(b"hi", to).unwrap();
    ///     op.wait(rx).unwrap();
    ///     // tx is bound to the wildcard and port 49152; the datagram came over loopback.
    ///     assert_eq!(op.from(), Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 49152)));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn from(&self) -> Option<SocketAddrV4> {
        self.owned.lock().unwrap_or_else(|e| e.into_inner()).from
    }

    /// `WSAGetOverlappedResult(s, .., fWait TRUE)`: waits (in virtual time) until the operation
    /// completes; the bytes received (a send: empty), or its error.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use std::time::Duration;
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, DEFAULT_LATENCY};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
    ///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     rx.bind(to).unwrap();
    ///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     let op = rx.recv_overlapped(64, None).unwrap();
    ///     let sender = p.spawn(move || {
    ///         ws2sim::thread::sleep(Duration::from_millis(5));
    ///         tx.send_to(b"late", to).unwrap();
    ///     });
    ///     assert_eq!(op.wait(rx).unwrap(), b"late");
    ///     assert_eq!(sim.now(), Duration::from_millis(5) + DEFAULT_LATENCY);
    ///     sender.join();
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn wait(&self, s: Socket) -> Result<Vec<u8>, WsaError> {
        call(IoCall::OverlappedResult {
            s,
            key: Some(self.key()),
            record: None,
            wait: true,
            has_bytes: true,
        })?;
        self.result().unwrap_or(Err(WsaError::IoIncomplete))
    }
}

pub(super) fn start_op(
    s: Socket,
    kind: crate::core::overlapped::OpKind,
    event: Option<EventHandle>,
) -> Result<OverlappedOp, WsaError> {
    use crate::core::overlapped::{Memory, OpRequest, OwnedMemory};
    let owned: OwnedMemory = Default::default();
    let op = OverlappedOp {
        owned: owned.clone(),
    };
    let name = match kind {
        crate::core::overlapped::OpKind::Send { to: Some(_), .. } => "WSASendTo",
        crate::core::overlapped::OpKind::Send { .. } => "WSASend",
        crate::core::overlapped::OpKind::Recv { .. } => "WSARecv",
        crate::core::overlapped::OpKind::Control => "WSAIoctl",
        crate::core::overlapped::OpKind::Connect { .. } => "ConnectEx",
        crate::core::overlapped::OpKind::Accept { .. } => "AcceptEx",
        crate::core::overlapped::OpKind::Disconnect { .. } => "DisconnectEx",
    };
    let req = OpRequest {
        kind,
        key: op.key(),
        event,
        routine: None,
        memory: Memory(Box::new(owned)),
    };
    match call(IoCall::Overlapped {
        s,
        req: Some(req),
        fault: false,
        to: None,
        flags: 0,
        name,
    }) {
        Ok(_) | Err(WsaError::IoPending) => Ok(op),
        Err(e) => Err(e),
    }
}

/// A completion port (`CreateIoCompletionPort`, `GetQueuedCompletionStatus`): each operation
/// of an associated socket that completes queues one [`Packet`] with the socket's key
/// ([OV-6]).
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
///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
///     rx.bind(to).unwrap();
///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
///     let port = CompletionPort::new().unwrap();
///     port.associate(rx, 7).unwrap();
///     let _op = rx.recv_overlapped(64, None).unwrap();
///     tx.send_to(b"hi", to).unwrap();
///     let packet = port.get(None).unwrap().unwrap();
///     assert_eq!((packet.bytes, packet.key, packet.error), (2, 7, None));
///     api::cleanup().unwrap();
/// });
/// ```
///
/// [OV-6]: crate::rules#ov-6
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletionPort(crate::core::overlapped::PortHandle);

/// A dequeued completion packet.
pub use crate::core::overlapped::Packet;

impl CompletionPort {
    pub(super) fn raw_handle(self) -> crate::core::overlapped::PortHandle {
        self.0
    }

    /// A new port, with no socket associated. A kernel32 object: no `WSAStartup` needed ([ER-1]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ws2sim::api::{self, CompletionPort};
    /// use ws2sim::{Sim, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     let port = CompletionPort::new().unwrap();
    ///     assert_eq!(port.get(Some(Duration::ZERO)).unwrap(), None);
    /// });
    /// ```
    ///
    /// [ER-1]: crate::rules#er-1
    pub fn new() -> Result<CompletionPort, WsaError> {
        match call(IoCall::CreatePort {
            socket: None,
            existing: None,
            key: 0,
        })? {
            Reply::Port(p) => Ok(CompletionPort(p)),
            other => unreachable!("CreateIoCompletionPort returned {other:?}"),
        }
    }

    /// Associates `s` with the port: its operations' completions arrive as packets with `key`.
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
    ///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
    ///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     rx.bind(to).unwrap();
    ///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     let port = CompletionPort::new().unwrap();
    ///     port.associate(tx, 42).unwrap();
    ///     let _op = tx.send_overlapped(b"x", Some(to), None).unwrap();
    ///     let packet = port.get(None).unwrap().unwrap();
    ///     assert_eq!((packet.key, packet.bytes), (42, 1));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn associate(self, s: Socket, key: usize) -> Result<(), WsaError> {
        call(IoCall::CreatePort {
            socket: Some(s),
            existing: Some(self.0),
            key,
        })
        .map(drop)
    }

    /// The oldest packet, waiting up to `timeout` of virtual time (`None`: no limit);
    /// `Ok(None)` when the timeout passed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ws2sim::api::{self, CompletionPort};
    /// use ws2sim::{Sim, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     let port = CompletionPort::new().unwrap();
    ///     let t0 = sim.now();
    ///     assert_eq!(port.get(Some(Duration::from_millis(50))).unwrap(), None);
    ///     assert_eq!(sim.now() - t0, Duration::from_millis(50));
    /// });
    /// ```
    pub fn get(self, timeout: Option<Duration>) -> Result<Option<Packet>, WsaError> {
        match call(IoCall::GetQueued {
            port: self.0,
            timeout,
        }) {
            Ok(Reply::Packet(p)) => Ok(Some(p)),
            Ok(other) => unreachable!("GetQueuedCompletionStatus returned {other:?}"),
            Err(WsaError::WaitTimeout) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Overlapped operations ([OV-1]..[OV-7]) through the safe API.
///
/// [OV-1]: crate::rules#ov-1
/// [OV-7]: crate::rules#ov-7
impl Socket {
    /// `WSARecv` with an `OVERLAPPED`: receives up to `capacity` bytes; `event` (if any) is reset
    /// now and set at completion ([OV-3]). Buffers posted on one socket are filled in posting
    /// order ([OV-7]).
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::api::{self, Wait};
    /// use ws2sim::{consts::*, EventHandle, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
    ///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     rx.bind(to).unwrap();
    ///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     let e = EventHandle::create().unwrap();
    ///     let first = rx.recv_overlapped(64, Some(e)).unwrap();
    ///     let second = rx.recv_overlapped(64, None).unwrap();
    ///     tx.send_to(b"one", to).unwrap();
    ///     tx.send_to(b"two", to).unwrap();
    ///     assert_eq!(api::wait_for_events(&[e], false, None).unwrap(), Wait::Signaled(0));
    ///     assert_eq!(first.result(), Some(Ok(b"one".to_vec())));
    ///     assert_eq!(second.wait(rx).unwrap(), b"two");
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [OV-3]: crate::rules#ov-3
    /// [OV-7]: crate::rules#ov-7
    pub fn recv_overlapped(
        self,
        capacity: usize,
        event: Option<EventHandle>,
    ) -> Result<OverlappedOp, WsaError> {
        start_op(
            self,
            crate::core::overlapped::OpKind::Recv {
                capacity,
                control: None,
            },
            event,
        )
    }

    /// `WSASend` (or `WSASendTo` with `to`) with an `OVERLAPPED`; the data is copied, so the
    /// caller's slice may go at once.
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000);
    ///     let rx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     rx.bind(to).unwrap();
    ///     let tx = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     let op = tx.send_overlapped(b"ping", Some(to), None).unwrap();
    ///     assert_eq!(op.wait(tx).unwrap(), b"");
    ///     assert_eq!(op.bytes(), Some(4));
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(rx.recv(&mut buf).unwrap(), 4);
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn send_overlapped(
        self,
        data: &[u8],
        to: Option<SocketAddrV4>,
        event: Option<EventHandle>,
    ) -> Result<OverlappedOp, WsaError> {
        let kind = crate::core::overlapped::OpKind::Send {
            data: crate::core::overlapped::Payload::bytes(data.to_vec()),
            to,
        };
        start_op(self, kind, event)
    }
}
