//! Safe, idiomatic Winsock for new Rust code: [`Socket`] values and `Result<T, WsaError>`.
//!
//! Every function makes exactly the Winsock call its name says (the trace shows the same calls
//! as code using [`sys`](crate::sys)) and holds no behaviour of its own.
//!
//! ```
//! use ws2sim::{api, consts::*, Linger, Sim, Socket, Version, WsaError};
//! let sim = Sim::new();
//! sim.localhost().process("app").run(|| {
//!     api::startup(Version::V2_2).unwrap();
//!     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
//!     s.set_linger(Linger::on(5)).unwrap();
//!     assert_eq!(s.linger().unwrap(), Linger::on(5));
//!     assert!(!s.dont_linger().unwrap());
//!     s.close().unwrap();
//!     assert_eq!(s.close(), Err(WsaError::NotSocket));
//!     api::cleanup().unwrap();
//! });
//! ```

use std::net::{Shutdown, SocketAddrV4};
use std::time::Duration;

use crate::consts::*;
use crate::core::call::Call;
use crate::core::catalog::{ProtocolInfo, PROTOCOL_INFO_SIZE};
use crate::core::events::{EventHandle, EventOp};
use crate::core::net::{WsaBufIn, WsaBufOut};
use crate::core::sockaddr::{self, SOCKADDR_IN_SIZE};
use crate::core::socket::Linger;
use crate::core::table::Socket;
use crate::core::version::{Version, WsaData, WSADATA_SIZE};
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

/// `WSAStartup`: negotiates `requested` (ST-1) and counts one more startup (ST-4). Returns what
/// Windows writes into `WSADATA`.
pub fn startup(requested: Version) -> Result<WsaData, WsaError> {
    let mut data = [0u8; WSADATA_SIZE];
    call(Call::Startup {
        requested,
        data: Some(&mut data),
    })?;
    Ok(WsaData::for_request(requested))
}

/// `WSACleanup`: one less startup; the last one performs the final cleanup (CL-2).
pub fn cleanup() -> Result<(), WsaError> {
    call(Call::Cleanup).map(drop)
}

/// `WSAGetLastError`: the calling thread's last error, as a raw value (it may be any `i32` a
/// program set with [`set_last_error`]).
pub fn last_error() -> i32 {
    match call(Call::GetLastError) {
        Ok(Reply::LastError(e)) => e,
        other => unreachable!("WSAGetLastError always succeeds, got {other:?}"),
    }
}

/// `WSASetLastError`.
pub fn set_last_error(code: i32) {
    let _ = call(Call::SetLastError(code));
}

/// `WSAEnumProtocolsW` with a buffer of the size Winsock asks for: the listed catalog entries
/// serving any protocol in `filter` (all when `None`).
pub fn enum_protocols(filter: Option<&[i32]>) -> Result<Vec<ProtocolInfo>, WsaError> {
    let mut len = 0u32;
    let sized = call(Call::EnumProtocols {
        filter: filter.map(<[i32]>::to_vec),
        buffer: None,
        len: Some(&mut len),
    });
    match sized {
        Err(WsaError::NoBufferSpace) => {}
        Err(e) => return Err(e),
        Ok(other) => unreachable!("a NULL buffer never succeeds, got {other:?}"),
    }
    let mut buf = vec![0u8; len as usize];
    let n = match call(Call::EnumProtocols {
        filter: filter.map(<[i32]>::to_vec),
        buffer: Some(&mut buf),
        len: Some(&mut len),
    })? {
        Reply::Count(n) => n as usize,
        other => unreachable!("WSAEnumProtocolsW returned {other:?}"),
    };
    Ok(buf
        .chunks_exact(PROTOCOL_INFO_SIZE)
        .take(n)
        .map(|c| ProtocolInfo::decode(c.try_into().expect("chunks are whole entries")))
        .collect())
}

fn new_socket(call_: Call<'_>) -> Result<Socket, WsaError> {
    match call(call_)? {
        Reply::Socket(s) => Ok(s),
        other => unreachable!("socket creation returned {other:?}"),
    }
}

impl Socket {
    /// `socket(af, type, protocol)`.
    pub fn new(af: i32, ty: i32, protocol: i32) -> Result<Socket, WsaError> {
        new_socket(Call::Socket {
            af,
            ty,
            protocol,
            info: None,
            group: 0,
            flags: WSA_FLAG_OVERLAPPED,
            wsa: false,
        })
    }

    /// `WSASocketW(af, type, protocol, info, 0, flags)`.
    pub fn wsa(
        af: i32,
        ty: i32,
        protocol: i32,
        info: Option<&ProtocolInfo>,
        flags: u32,
    ) -> Result<Socket, WsaError> {
        new_socket(Call::Socket {
            af,
            ty,
            protocol,
            info: info.cloned(),
            group: 0,
            flags,
            wsa: true,
        })
    }

    /// `WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, info, 0, flags)`:
    /// a socket of exactly this catalog entry.
    pub fn from_protocol_info(info: &ProtocolInfo, flags: u32) -> Result<Socket, WsaError> {
        Socket::wsa(
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            Some(info),
            flags,
        )
    }

    /// `closesocket`.
    pub fn close(self) -> Result<(), WsaError> {
        call(Call::CloseSocket(self)).map(drop)
    }

    /// `setsockopt(level, name)` with the value's bytes.
    pub fn set_option(self, level: i32, name: i32, value: &[u8]) -> Result<(), WsaError> {
        let len = i32::try_from(value.len()).map_err(|_| WsaError::Fault)?;
        call(Call::SetSockOpt {
            s: self,
            level,
            name,
            value: Some(value),
            len,
        })
        .map(drop)
    }

    /// `getsockopt(level, name)` with a buffer of `capacity` bytes; returns the bytes Winsock
    /// reports (`optlen` on return).
    pub fn option(self, level: i32, name: i32, capacity: usize) -> Result<Vec<u8>, WsaError> {
        let mut buf = vec![0u8; capacity];
        let mut len = i32::try_from(capacity).map_err(|_| WsaError::Fault)?;
        call(Call::GetSockOpt {
            s: self,
            level,
            name,
            value: Some(&mut buf),
            len: Some(&mut len),
        })?;
        buf.truncate(usize::try_from(len).unwrap_or(0));
        Ok(buf)
    }

    fn dword(self, name: i32) -> Result<u32, WsaError> {
        let b = self.option(SOL_SOCKET, name, 4)?;
        let mut raw = [0u8; 4];
        raw[..b.len().min(4)].copy_from_slice(&b[..b.len().min(4)]);
        Ok(u32::from_ne_bytes(raw))
    }

    /// `SO_LINGER` (CS-8).
    pub fn set_linger(self, linger: Linger) -> Result<(), WsaError> {
        self.set_option(SOL_SOCKET, SO_LINGER, &linger.to_bytes())
    }

    /// `SO_LINGER` (CS-8).
    pub fn linger(self) -> Result<Linger, WsaError> {
        Ok(Linger::from_bytes(self.dword(SO_LINGER)?.to_ne_bytes()))
    }

    /// `SO_DONTLINGER` (CS-8): `true` turns linger off, keeping `l_linger`.
    pub fn set_dont_linger(self, on: bool) -> Result<(), WsaError> {
        self.set_option(SOL_SOCKET, SO_DONTLINGER, &u32::from(on).to_ne_bytes())
    }

    /// `SO_DONTLINGER` (CS-8): `!l_onoff`.
    pub fn dont_linger(self) -> Result<bool, WsaError> {
        Ok(self.dword(SO_DONTLINGER)? != 0)
    }

    /// `SO_TYPE`: `SOCK_STREAM` or `SOCK_DGRAM`.
    pub fn socket_type(self) -> Result<i32, WsaError> {
        Ok(self.dword(SO_TYPE)? as i32)
    }

    /// `SO_PROTOCOL_INFOW`: the catalog entry the socket belongs to.
    pub fn protocol_info(self) -> Result<ProtocolInfo, WsaError> {
        let b = self.option(SOL_SOCKET, SO_PROTOCOL_INFOW, PROTOCOL_INFO_SIZE)?;
        let b: [u8; PROTOCOL_INFO_SIZE] = b.try_into().map_err(|_| WsaError::Fault)?;
        Ok(ProtocolInfo::decode(&b))
    }

    /// `ioctlsocket(FIONBIO)`.
    pub fn set_nonblocking(self, on: bool) -> Result<(), WsaError> {
        let mut arg = u32::from(on);
        call(Call::IoctlSocket {
            s: self,
            cmd: FIONBIO,
            arg: Some(&mut arg),
        })
        .map(drop)
    }
}

/// What `WSAEnumNetworkEvents` reports: the `FD_*` events recorded and their error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetworkEvents {
    /// The `FD_*` bits recorded.
    pub events: u32,
    /// Error codes by `FD_*_BIT` (0: none).
    pub errors: [i32; FD_MAX_EVENTS as usize],
}

impl NetworkEvents {
    /// True when `fd` (one `FD_*` bit) was recorded.
    pub fn has(&self, fd: u32) -> bool {
        self.events & fd != 0
    }

    /// The error code recorded with `fd` (one `FD_*` bit), if it was recorded.
    pub fn error(&self, fd: u32) -> Option<i32> {
        self.has(fd)
            .then(|| self.errors[fd.trailing_zeros() as usize])
    }
}

/// The outcome of [`wait_for_events`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The event at this index is signalled (with `wait_all`: all are, index 0).
    Signaled(usize),
    /// The timeout passed first.
    Timeout,
}

impl EventHandle {
    /// `WSACreateEvent`: a manual-reset event, not signalled.
    pub fn create() -> Result<EventHandle, WsaError> {
        match call(Call::CreateEvent)? {
            Reply::Event(h) => Ok(h),
            other => unreachable!("WSACreateEvent returned {other:?}"),
        }
    }

    /// `WSASetEvent`.
    pub fn set(self) -> Result<(), WsaError> {
        call(Call::EventOp(self, EventOp::Set)).map(drop)
    }

    /// `WSAResetEvent`.
    pub fn reset(self) -> Result<(), WsaError> {
        call(Call::EventOp(self, EventOp::Reset)).map(drop)
    }

    /// `WSACloseEvent`.
    pub fn close(self) -> Result<(), WsaError> {
        call(Call::EventOp(self, EventOp::Close)).map(drop)
    }
}

/// `WSAWaitForMultipleEvents` (not alertable): waits in virtual time until one event (or, with
/// `wait_all`, every event) is signalled, or `timeout` passes (`None`: no limit).
pub fn wait_for_events(
    events: &[EventHandle],
    wait_all: bool,
    timeout: Option<Duration>,
) -> Result<Wait, WsaError> {
    match call(Call::WaitEvents {
        events: Some(events.to_vec()),
        wait_all,
        timeout,
        alertable: false,
    })? {
        Reply::Count(WSA_WAIT_TIMEOUT) => Ok(Wait::Timeout),
        Reply::Count(n) => Ok(Wait::Signaled(n as usize)),
        other => unreachable!("WSAWaitForMultipleEvents returned {other:?}"),
    }
}

/// `select`: waits in virtual time until a socket of a set is ready or `timeout` passes
/// (`None`: no limit); each set keeps only its ready sockets. Returns how many are ready.
pub fn select(
    read: &mut Vec<Socket>,
    write: &mut Vec<Socket>,
    except: &mut Vec<Socket>,
    timeout: Option<Duration>,
) -> Result<usize, WsaError> {
    match call(Call::Select {
        read: Some(read),
        write: Some(write),
        except: Some(except),
        timeout: Ok(timeout),
    })? {
        Reply::Count(n) => Ok(n as usize),
        other => unreachable!("select returned {other:?}"),
    }
}

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

/// Network calls on a socket.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddrV4};
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
/// let c = client.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     c.connect(addr).unwrap(); // one round trip of virtual time
///     assert_eq!(c.send(b"hello").unwrap(), 5);
///     c.shutdown(std::net::Shutdown::Write).unwrap();
///     c
/// });
/// server.run(|| {
///     let (s, peer) = listener.accept().unwrap();
///     assert_eq!(peer, c_addr(&client, c));
///     let mut buf = [0u8; 16];
///     assert_eq!(s.recv(&mut buf).unwrap(), 5);
///     assert_eq!(s.recv(&mut buf).unwrap(), 0); // graceful close
/// });
/// # fn c_addr(p: &ws2sim::Process, c: Socket) -> SocketAddrV4 { p.run(|| c.local_addr().unwrap()) }
/// ```
impl Socket {
    /// `bind`.
    pub fn bind(self, addr: SocketAddrV4) -> Result<(), WsaError> {
        call(Call::Bind {
            s: self,
            addr: Some(&sockaddr::encode(addr)),
        })
        .map(drop)
    }

    /// `listen`.
    pub fn listen(self, backlog: i32) -> Result<(), WsaError> {
        call(Call::Listen { s: self, backlog }).map(drop)
    }

    /// `accept`: the new socket and the peer's address.
    pub fn accept(self) -> Result<(Socket, SocketAddrV4), WsaError> {
        let (reply, peer) = addr_call(|buf, len| {
            call(Call::Accept {
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

    /// `connect`.
    pub fn connect(self, addr: SocketAddrV4) -> Result<(), WsaError> {
        call(Call::Connect {
            s: self,
            addr: Some(&sockaddr::encode(addr)),
        })
        .map(drop)
    }

    /// `send`: the bytes queued.
    pub fn send(self, data: &[u8]) -> Result<usize, WsaError> {
        call(Call::Send {
            s: self,
            buf: Some(data),
            len: len_i32(data.len())?,
            flags: 0,
            to: None,
        })
        .map(bytes)
    }

    /// `sendto`.
    pub fn send_to(self, data: &[u8], to: SocketAddrV4) -> Result<usize, WsaError> {
        call(Call::Send {
            s: self,
            buf: Some(data),
            len: len_i32(data.len())?,
            flags: 0,
            to: Some(Some(&sockaddr::encode(to))),
        })
        .map(bytes)
    }

    /// `recv` with `flags` (`MSG_PEEK`, `MSG_WAITALL`).
    pub fn recv_with(self, buf: &mut [u8], flags: i32) -> Result<usize, WsaError> {
        let len = len_i32(buf.len())?;
        call(Call::Recv {
            s: self,
            buf: Some(buf),
            len,
            flags,
            from: None,
        })
        .map(bytes)
    }

    /// `recv`: the bytes read; 0 once the peer closed gracefully.
    pub fn recv(self, buf: &mut [u8]) -> Result<usize, WsaError> {
        self.recv_with(buf, 0)
    }

    /// `recvfrom`: the bytes read and the sender.
    pub fn recv_from(self, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), WsaError> {
        let len = len_i32(buf.len())?;
        let (reply, from) = addr_call(|a, alen| {
            call(Call::Recv {
                s: self,
                buf: Some(buf),
                len,
                flags: 0,
                from: Some((Some(a), Some(alen))),
            })
        })?;
        Ok((bytes(reply), from))
    }

    /// `getsockname`.
    pub fn local_addr(self) -> Result<SocketAddrV4, WsaError> {
        addr_call(|buf, len| {
            call(Call::SockName {
                s: self,
                addr: Some(buf),
                len: Some(len),
            })
        })
        .map(|(_, a)| a)
    }

    /// `getpeername`.
    pub fn peer_addr(self) -> Result<SocketAddrV4, WsaError> {
        addr_call(|buf, len| {
            call(Call::PeerName {
                s: self,
                addr: Some(buf),
                len: Some(len),
            })
        })
        .map(|(_, a)| a)
    }

    /// `shutdown`: `Read` is `SD_RECEIVE`, `Write` is `SD_SEND`, `Both` is `SD_BOTH`.
    pub fn shutdown(self, how: Shutdown) -> Result<(), WsaError> {
        let how = match how {
            Shutdown::Read => SD_RECEIVE,
            Shutdown::Write => SD_SEND,
            Shutdown::Both => SD_BOTH,
        };
        call(Call::Shutdown { s: self, how }).map(drop)
    }

    /// `WSASendDisconnect`, with disconnect data on providers that carry it.
    pub fn send_disconnect(self, data: Option<&[u8]>) -> Result<(), WsaError> {
        let data = match data {
            Some(d) => Some(WsaBufIn {
                buf: Some(d),
                len: u32::try_from(d.len()).map_err(|_| WsaError::Fault)?,
            }),
            None => None,
        };
        call(Call::SendDisconnect { s: self, data }).map(drop)
    }

    /// `WSARecvDisconnect`: shuts down receiving; with a buffer, copies the peer's disconnect
    /// data into it and returns its length.
    pub fn recv_disconnect(self, buf: Option<&mut [u8]>) -> Result<usize, WsaError> {
        match buf {
            None => call(Call::RecvDisconnect {
                s: self,
                data: None,
            })
            .map(|_| 0),
            Some(b) => {
                let mut len = u32::try_from(b.len()).map_err(|_| WsaError::Fault)?;
                call(Call::RecvDisconnect {
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
    /// happens (mask 0: no association). The socket becomes non-blocking.
    pub fn event_select(self, event: EventHandle, mask: u32) -> Result<(), WsaError> {
        call(Call::EventSelect {
            s: self,
            event,
            mask: mask as i32,
        })
        .map(drop)
    }

    /// `WSAEnumNetworkEvents`: the events recorded since the last call; clears them and resets
    /// `event` if given.
    pub fn network_events(self, event: Option<EventHandle>) -> Result<NetworkEvents, WsaError> {
        let mut out = (0u32, [0i32; FD_MAX_EVENTS as usize]);
        call(Call::EnumNetworkEvents {
            s: self,
            event,
            out: Some(&mut out),
        })?;
        Ok(NetworkEvents {
            events: out.0,
            errors: out.1,
        })
    }

    /// `SO_SNDBUF`.
    pub fn set_send_buffer_size(self, bytes: u32) -> Result<(), WsaError> {
        self.set_option(SOL_SOCKET, SO_SNDBUF, &bytes.to_ne_bytes())
    }

    /// `SO_RCVBUF`.
    pub fn set_recv_buffer_size(self, bytes: u32) -> Result<(), WsaError> {
        self.set_option(SOL_SOCKET, SO_RCVBUF, &bytes.to_ne_bytes())
    }

    /// `ioctlsocket(FIONREAD)`: the bytes that can be read at once.
    pub fn bytes_readable(self) -> Result<usize, WsaError> {
        let mut arg = 0u32;
        call(Call::IoctlSocket {
            s: self,
            cmd: FIONREAD,
            arg: Some(&mut arg),
        })?;
        Ok(arg as usize)
    }
}

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

    /// The outcome once the operation completed: the bytes received (for a send: empty), or
    /// the error. `None` while pending.
    pub fn result(&self) -> Option<Result<Vec<u8>, WsaError>> {
        let o = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        o.result.map(|r| r.map(|_| o.data.clone()))
    }

    /// The number of bytes transferred, once completed successfully.
    pub fn bytes(&self) -> Option<usize> {
        let o = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        match o.result {
            Some(Ok(n)) => Some(n as usize),
            _ => None,
        }
    }

    /// The sender of a datagram received, once completed.
    pub fn from(&self) -> Option<SocketAddrV4> {
        self.owned.lock().unwrap_or_else(|e| e.into_inner()).from
    }

    /// `WSAGetOverlappedResult(s, .., fWait TRUE)`: waits (in virtual time) until the operation
    /// completes; the bytes received (a send: empty), or its error.
    pub fn wait(&self, s: Socket) -> Result<Vec<u8>, WsaError> {
        call(Call::OverlappedResult {
            s,
            key: Some(self.key()),
            wait: true,
            has_bytes: true,
        })?;
        self.result().unwrap_or(Err(WsaError::IoIncomplete))
    }
}

fn start_op(
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
    };
    let req = OpRequest {
        kind,
        key: op.key(),
        event,
        routine: None,
        memory: Memory(Box::new(owned)),
    };
    match call(Call::Overlapped {
        s,
        req: Some(req),
        fault: false,
        name,
    }) {
        Ok(_) | Err(WsaError::IoPending) => Ok(op),
        Err(e) => Err(e),
    }
}

/// A completion port (`CreateIoCompletionPort`, `GetQueuedCompletionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletionPort(crate::core::overlapped::PortHandle);

/// A dequeued completion packet.
pub use crate::core::overlapped::Packet;

impl CompletionPort {
    /// A new port.
    pub fn new() -> Result<CompletionPort, WsaError> {
        match call(Call::CreatePort {
            socket: None,
            existing: None,
            key: 0,
        })? {
            Reply::Port(p) => Ok(CompletionPort(p)),
            other => unreachable!("CreateIoCompletionPort returned {other:?}"),
        }
    }

    /// Associates `s` with the port: its operations' completions arrive as packets with `key`.
    pub fn associate(self, s: Socket, key: usize) -> Result<(), WsaError> {
        call(Call::CreatePort {
            socket: Some(s),
            existing: Some(self.0),
            key,
        })
        .map(drop)
    }

    /// The oldest packet, waiting up to `timeout` of virtual time (`None`: no limit);
    /// `Ok(None)` when the timeout passed.
    pub fn get(self, timeout: Option<Duration>) -> Result<Option<Packet>, WsaError> {
        match call(Call::GetQueued {
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

/// Overlapped operations (OV-1..OV-7) through the safe API.
impl Socket {
    /// WSARecv with an `OVERLAPPED`: receives up to `capacity` bytes; `event` (if any) is reset
    /// now and set at completion.
    pub fn recv_overlapped(
        self,
        capacity: usize,
        event: Option<EventHandle>,
    ) -> Result<OverlappedOp, WsaError> {
        start_op(
            self,
            crate::core::overlapped::OpKind::Recv { capacity },
            event,
        )
    }

    /// WSASend (or WSASendTo with `to`) with an `OVERLAPPED`.
    pub fn send_overlapped(
        self,
        data: &[u8],
        to: Option<SocketAddrV4>,
        event: Option<EventHandle>,
    ) -> Result<OverlappedOp, WsaError> {
        let kind = crate::core::overlapped::OpKind::Send {
            data: data.to_vec(),
            to,
        };
        start_op(self, kind, event)
    }
}
