use std::net::{Shutdown, SocketAddrV4};

use crate::consts::*;
use crate::core::call::Call;
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
