//! The socket calls that use the network: bind, listen, connect, accept, send, recv, sendto,
//! recvfrom, getsockname, getpeername, shutdown, WSASendDisconnect, WSARecvDisconnect and the
//! network half of closesocket (CS-2..CS-5).
//!
//! A call that cannot complete yet on a blocking socket returns [`Stop::Block`]; the harness
//! moves virtual time on and makes the same call again with [`Cx::resumed`] set.

use std::time::Duration;

use crate::consts::*;
use crate::core::events::NetEvents;
use crate::core::providers::accept_ex::Ex2;
use crate::core::providers::{sockaddr, sockopt};
use crate::core::rules::Rule;
use crate::core::transport::{is_broadcast, EndpointId, Phase, Share};
use crate::core::ws2::table::Socket;
use crate::core::{Block, Cx, Machine, Reply, Stop};
use crate::error::WsaError;

/// The most disconnect data the built-in disconnect-data provider carries per direction.
///
/// # Divergence
/// Windows leaves the limit to each provider; ws2sim's provider takes up to 64 bytes (as
/// OSI TP4 does) and fails a larger `WSABUF` with `WSAEFAULT` (SD-5).
pub const MAX_DISCONNECT_DATA: usize = 64;

/// The largest UDP payload over IPv4.
const MAX_UDP_PAYLOAD: usize = 65507;

/// A `WSABUF` the caller passes in: `buf` NULL or `len` bytes.
#[derive(Debug)]
pub struct WsaBufIn<'a> {
    /// The bytes, `None` for a NULL `buf`.
    pub buf: Option<&'a [u8]>,
    /// `len` as given.
    pub len: u32,
}

/// A receive as `recv`/`recvfrom` pass it: the buffer, `len`, `flags`, and recvfrom's
/// address buffer and `*fromlen` (`from: None` for `recv`).
#[derive(Debug)]
pub(in crate::core) struct RecvArgs<'a> {
    pub(in crate::core) buf: Option<&'a mut [u8]>,
    pub(in crate::core) len: i32,
    pub(in crate::core) flags: i32,
    pub(in crate::core) from: Option<(Option<&'a mut [u8]>, Option<&'a mut i32>)>,
}

/// A `WSABUF` the call fills: `buf` NULL or `len` bytes; `len` is written back.
#[derive(Debug)]
pub struct WsaBufOut<'a> {
    /// The buffer, `None` for a NULL `buf`.
    pub buf: Option<&'a mut [u8]>,
    /// `len`, read and written back.
    pub len: &'a mut u32,
}

/// What [`World::sd_4`] is asked about.
#[derive(Debug, Clone, Copy)]
enum Sd4 {
    /// `WSASendDisconnect` is called.
    Disconnect,
    /// A datagram is sent.
    DatagramSend,
}

/// What [`World::sd_12`] is asked about.
#[derive(Debug, Clone, Copy)]
pub enum Sd12 {
    /// A receive found nothing to read.
    Receive {
        /// The connection was reset or aborted with this error.
        error: Option<WsaError>,
        /// The peer's FIN arrived.
        fin: bool,
    },
    /// A new overlapped receive is posted on a stream.
    OverlappedReceive {
        /// The connection was reset or aborted with this error.
        error: Option<WsaError>,
        /// Received bytes are still waiting to be read (the receive takes them first).
        unread: bool,
    },
    /// `WSAEnumNetworkEvents` reports these `FD_*` bits.
    Events {
        /// The bits recorded.
        recorded: u32,
    },
}

/// What [`World::sd_10`] is asked about.
#[derive(Debug, Clone, Copy)]
pub enum Sd10 {
    /// `shutdown(s, how)`.
    How(i32),
    /// A new receive on a socket whose receiving half may be shut down.
    NewReceive {
        /// `shutdown(SD_RECEIVE)` was made.
        shut_recv: bool,
    },
}

/// What the calls need to know of a socket, copied out of the process's table.
#[derive(Debug, Clone, Copy)]
pub(in crate::core) struct Info {
    pub(in crate::core) ep: EndpointId,
    pub(in crate::core) nonblocking: bool,
    pub(in crate::core) stream: bool,
    pub(in crate::core) disconnect_data: bool,
    /// SO_RCVTIMEO and SO_SNDTIMEO, in milliseconds (0: none).
    pub(in crate::core) timeouts: (u32, u32),
    /// SO_BROADCAST.
    pub(in crate::core) broadcast: bool,
}

/// What [`Machine::op_6`] is asked about.
#[derive(Debug, Clone, Copy)]
pub(in crate::core) enum Op6 {
    /// `getsockopt(SO_ERROR)` succeeded on this socket.
    ErrorRead(Socket),
    /// A datagram is sent to `to` by a socket whose SO_BROADCAST is `allowed`.
    Send {
        /// The destination.
        to: std::net::SocketAddrV4,
        /// SO_BROADCAST is TRUE.
        allowed: bool,
    },
}

/// The bytes of a data argument: `None` for NULL; a NULL buffer with a length, or a negative
/// length, is `WSAEFAULT` (ER-3).
fn data_len(present: bool, len: i32) -> Result<usize, WsaError> {
    match usize::try_from(len) {
        Ok(0) => Ok(0),
        Ok(n) if present => Ok(n),
        _ => Err(WsaError::Fault),
    }
}

impl Machine {
    pub(in crate::core) fn info(&mut self, cx: &mut Cx, s: Socket) -> Result<Info, WsaError> {
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        Ok(Info {
            ep: st.endpoint,
            nonblocking: st.nonblocking,
            stream: !st.entry.is_connectionless(),
            disconnect_data: st.entry.has_disconnect_data(),
            timeouts: (st.option(SO_RCVTIMEO), st.option(SO_SNDTIMEO)),
            broadcast: st.option(SO_BROADCAST) != 0,
        })
    }

    /// Changes a socket's WSAEventSelect state (re-enabling after a call).
    fn net_events(&mut self, cx: &mut Cx, s: Socket, f: impl FnOnce(&mut NetEvents)) {
        if let Ok(st) = self.process_mut(cx.process).socket_mut(cx, s) {
            f(&mut st.events);
        }
    }

    /// Blocks the call, or fails `WSAEWOULDBLOCK` on a non-blocking socket.
    pub(in crate::core) fn wait(i: Info, what: &'static str, s: Socket) -> Stop {
        if i.nonblocking {
            Stop::Fail(WsaError::WouldBlock)
        } else {
            Stop::Block(Block {
                deadline: None,
                what,
                socket: Some(s),
            })
        }
    }

    /// OP-2, the one place it is decided: a blocking `recv`/`recvfrom` (`send`: a blocking
    /// `send`) that must wait waits at most SO_RCVTIMEO (SO_SNDTIMEO) milliseconds of virtual
    /// time from when it was made, 0 meaning for ever; then it fails `WSAETIMEDOUT`. Nothing is
    /// lost: bytes that arrive later stay queued for the next receive, and the bytes a timed-out
    /// send had queued are still sent. A non-blocking socket fails `WSAEWOULDBLOCK` at once.
    fn op_2(&self, cx: &mut Cx, i: Info, what: &'static str, s: Socket, send: bool) -> Stop {
        let ms = if send { i.timeouts.1 } else { i.timeouts.0 };
        if i.nonblocking || ms == 0 {
            return Self::wait(i, what, s);
        }
        cx.rule(Rule::Op2);
        let timeout = Some(Duration::from_millis(u64::from(ms)));
        match cx.wait_until_timeout(self.now, timeout, what) {
            Some(Stop::Block(b)) => Stop::Block(Block {
                socket: Some(s),
                ..b
            }),
            Some(Stop::Fail(e)) => Stop::Fail(e),
            None => Stop::Fail(WsaError::TimedOut),
        }
    }

    /// `bind`.
    pub(in crate::core) fn bind(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        addr: Option<&[u8]>,
    ) -> Result<Reply, Stop> {
        let i = self.info(cx, s)?;
        if self.transport.ep(i.ep).local.is_some() {
            return Err(WsaError::InvalidArgument.into());
        }
        let addr = sockaddr::decode(addr.ok_or(WsaError::Fault)?)?;
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        let share = Share {
            reuse: st.option(SO_REUSEADDR) != 0,
            exclusive: st.option(SO_EXCLUSIVEADDRUSE) != 0,
        };
        self.transport.bind(i.ep, addr, share, |held| {
            sockopt::op_4(cx, sockopt::Op4::Bind { later: share, held })
        })?;
        Ok(Reply::Done)
    }

    /// OP-6, the one place it is decided. [`Op6::ErrorRead`]: reading `SO_ERROR` returns the
    /// socket's pending error (why its last connect failed, or a value set with setsockopt)
    /// and clears it: the next read gives 0 until another connect fails. [`Op6::Send`]: a
    /// datagram to a broadcast address (255.255.255.255 or the simulated subnet's
    /// 10.0.0.255) fails `WSAEACCES` unless `SO_BROADCAST` is TRUE; with it, the datagram
    /// reaches the sockets bound to the port on every host.
    ///
    /// # Divergence
    /// Multicast is not delivered: group memberships are kept (OP-1) but a datagram to a
    /// group address is dropped like one to an address no host has.
    pub(in crate::core) fn op_6(&mut self, cx: &mut Cx, what: Op6) -> Result<(), WsaError> {
        match what {
            Op6::ErrorRead(s) => {
                cx.rule(Rule::Op6);
                let st = self.process_mut(cx.process).socket_mut(cx, s)?;
                st.set_option(SO_ERROR, 0);
                let ep = st.endpoint;
                self.transport.ep_mut(ep).error_reported = true;
                Ok(())
            }
            Op6::Send { to, allowed } if is_broadcast(*to.ip()) => {
                cx.rule(Rule::Op6);
                if allowed {
                    Ok(())
                } else {
                    Err(WsaError::AccessDenied)
                }
            }
            Op6::Send { .. } => Ok(()),
        }
    }

    /// `listen`: streams only; the socket must be bound and not connected.
    pub(in crate::core) fn listen(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        backlog: i32,
    ) -> Result<Reply, Stop> {
        let i = self.info(cx, s)?;
        if !i.stream {
            return Err(WsaError::OperationNotSupported.into());
        }
        let ep = self.transport.ep(i.ep);
        match ep.phase() {
            Phase::Connected { .. } | Phase::Reset { .. } | Phase::Connecting => {
                return Err(WsaError::IsConnected.into())
            }
            Phase::Open { .. } | Phase::Failed(_) | Phase::Listening { .. } => {}
        }
        if ep.local.is_none() {
            return Err(WsaError::InvalidArgument.into());
        }
        self.transport.listen(i.ep, backlog);
        self.process_mut(cx.process).socket_mut(cx, s)?.listening = true;
        Ok(Reply::Done)
    }

    /// `connect`. SD-7: a socket whose connection exists (even after WSASendDisconnect) fails
    /// `WSAEISCONN`.
    pub(in crate::core) fn connect(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        addr: Option<&[u8]>,
    ) -> Result<Reply, Stop> {
        let i = self.info(cx, s)?;
        let phase = self.transport.ep(i.ep).phase();
        let resumed = self.threads.resumed_on(cx, s);
        if i.stream {
            match phase {
                Phase::Listening { .. } => return Err(WsaError::InvalidArgument.into()),
                Phase::Connected { .. } | Phase::Reset { .. } if resumed => return Ok(Reply::Done),
                Phase::Connected { .. } | Phase::Reset { .. } => {
                    cx.rule(Rule::Sd7);
                    return Err(WsaError::IsConnected.into());
                }
                Phase::Connecting if resumed => return Err(Self::wait(i, "connect", s)),
                Phase::Connecting => return Err(WsaError::Already.into()),
                Phase::Failed(e) if resumed => {
                    self.transport.clear_failure(i.ep);
                    return Err(e.into());
                }
                Phase::Open { .. } | Phase::Failed(_) => {}
            }
            self.ex_2(cx, Ex2::Connect(s))?;
        }
        let to = sockaddr::decode(addr.ok_or(WsaError::Fault)?)?;
        if to.ip().is_unspecified() || to.port() == 0 {
            return Err(WsaError::AddressNotAvailable.into());
        }
        self.transport.bind_implicitly(i.ep)?;
        if !i.stream {
            self.transport.connect_datagram(i.ep, to);
            return Ok(Reply::Done);
        }
        self.transport.connect(self.now, i.ep, to);
        self.net_events(cx, s, |e| e.connect_pending = true);
        Err(Self::wait(i, "connect", s))
    }

    /// `accept`: the next established connection as a new socket that inherits the
    /// listener's options (CS-8: linger included).
    pub(in crate::core) fn accept(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        addr: Option<&mut [u8]>,
        len: Option<&mut i32>,
    ) -> Result<Reply, Stop> {
        let i = self.info(cx, s)?;
        if !i.stream {
            return Err(WsaError::OperationNotSupported.into());
        }
        if !self.transport.ep(i.ep).is_listening() {
            return Err(WsaError::InvalidArgument.into());
        }
        if addr.is_some() || len.is_some() {
            sockaddr::check_out(&addr, &len)?;
        }
        self.net_events(cx, s, |e| e.reenable(FD_ACCEPT));
        let Some(child) = self.transport.pop_accept(i.ep) else {
            return Err(Self::wait(i, "accept", s));
        };
        let template = self.process_mut(cx.process).socket_mut(cx, s)?.clone();
        // The accepted socket inherits the listener's options, linger included.
        sockopt::cs_8(cx, sockopt::Cs8::Inherit)?;
        let (process, generations) = self.process_and_generations(cx.process);
        let new = process.adopt_socket(generations, template, child)?;
        let ep = self.transport.ep_mut(child);
        ep.socket = Some(new);
        if let Some(peer) = ep.peer_addr {
            sockaddr::write_out(peer, addr, len);
        }
        Ok(Reply::Socket(new))
    }

    /// `send` and `sendto` (`to` is ignored on stream sockets, as on Windows).
    pub(in crate::core) fn send(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        data: Option<&[u8]>,
        len: i32,
        flags: i32,
        to: Option<Option<&[u8]>>,
    ) -> Result<Reply, Stop> {
        let i = self.info(cx, s)?;
        if !i.stream {
            return self.send_datagram(cx, i, data, len, flags, to);
        }
        let resumed = self.threads.resumed_on(cx, s);
        let ep = self.transport.ep(i.ep);
        if !ep.is_connected() {
            return Err(WsaError::NotConnected.into());
        }
        if ep.is_send_shut() && !resumed {
            cx.rule(Rule::Sd1); // Sends after shutdown(SD_SEND) fail.
            return Err(WsaError::Shutdown.into());
        }
        if let Some(e) = ep.reset_error() {
            return Err(e.into());
        }
        if flags & MSG_OOB != 0 {
            return Err(WsaError::OperationNotSupported.into());
        }
        let n = data_len(data.is_some(), len)?;
        if resumed {
            // A blocking send returns once everything it queued fits in SO_SNDBUF.
            return if ep.send_q.len() <= ep.sndbuf {
                Ok(Reply::Count(n as u32))
            } else {
                Err(self.op_2(cx, i, "send", s, true))
            };
        }
        let data = &data.unwrap_or_default()[..n];
        let ep = self.transport.ep_mut(i.ep);
        let taken = if i.nonblocking {
            let room = ep.sndbuf.saturating_sub(ep.send_q.len());
            if room == 0 && n > 0 {
                self.net_events(cx, s, |e| e.reenable(FD_WRITE));
                return Err(WsaError::WouldBlock.into());
            }
            room.min(n)
        } else {
            n
        };
        self.transport.queue_stream(i.ep, &data[..taken]);
        self.transport.pump(self.now, i.ep);
        let ep = self.transport.ep(i.ep);
        if i.nonblocking || ep.send_q.len() <= ep.sndbuf {
            Ok(Reply::Count(taken as u32))
        } else {
            Err(self.op_2(cx, i, "send", s, true))
        }
    }

    fn send_datagram(
        &mut self,
        cx: &mut Cx,
        i: Info,
        data: Option<&[u8]>,
        len: i32,
        flags: i32,
        to: Option<Option<&[u8]>>,
    ) -> Result<Reply, Stop> {
        self.sd_4(cx, i, Sd4::DatagramSend)?;
        let ep = self.transport.ep(i.ep);
        let dest = match to.flatten() {
            Some(bytes) => sockaddr::decode(bytes)?,
            None => ep.peer_addr.ok_or(WsaError::NotConnected)?,
        };
        if flags & MSG_OOB != 0 {
            return Err(WsaError::OperationNotSupported.into());
        }
        let n = data_len(data.is_some(), len)?;
        Self::op_7_datagram_fits(cx, n)?;
        let allowed = i.broadcast;
        self.op_6(cx, Op6::Send { to: dest, allowed })?;
        self.transport.bind_implicitly(i.ep)?;
        let payload = data.unwrap_or_default()[..n].to_vec();
        self.transport.send_datagram(self.now, i.ep, dest, payload);
        Ok(Reply::Count(n as u32))
    }

    /// `recv` and `recvfrom`. SD-12: a stream whose peer closed gracefully reads 0; one that
    /// was reset fails `WSAECONNRESET` once the bytes that did arrive are read.
    pub(in crate::core) fn recv(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        a: RecvArgs<'_>,
    ) -> Result<Reply, Stop> {
        let (buf, len, flags, from) = (a.buf, a.len, a.flags, a.from);
        let i = self.info(cx, s)?;
        let ep = self.transport.ep(i.ep);
        if i.stream && !ep.is_connected() {
            return Err(WsaError::NotConnected.into());
        }
        Self::sd_10(
            cx,
            Sd10::NewReceive {
                shut_recv: ep.is_recv_shut(),
            },
        )?;
        if flags & !(MSG_PEEK | MSG_WAITALL) != 0 {
            return Err(WsaError::OperationNotSupported.into());
        }
        let n = data_len(buf.is_some(), len)?;
        let (from_buf, from_len) = match from {
            Some((b, l)) => {
                if b.is_some() || l.is_some() {
                    sockaddr::check_out(&b, &l)?;
                }
                (b, l)
            }
            None => (None, None),
        };
        let peek = flags & MSG_PEEK != 0;
        self.net_events(cx, s, |e| e.reenable(FD_READ));
        let buf = &mut buf.unwrap_or_default()[..n];
        if !i.stream {
            let Some((sender, dgram, to)) = self.transport.ep(i.ep).dgrams.front().cloned() else {
                return Err(self.op_2(cx, i, "recvfrom", s, false));
            };
            // For WSARecvMsg's control data (EX-5): where the datagram was sent.
            self.received_to = Some(to);
            if !peek {
                self.transport.ep_mut(i.ep).dgrams.pop_front();
            }
            let copied = dgram.len().min(n);
            buf[..copied].copy_from_slice(&dgram[..copied]);
            sockaddr::write_out(sender, from_buf, from_len);
            return if copied < dgram.len() {
                Err(WsaError::MessageSize.into())
            } else {
                Ok(Reply::Count(copied as u32))
            };
        }
        let ep = self.transport.ep(i.ep);
        let waitall = flags & MSG_WAITALL != 0 && !i.nonblocking && !peek;
        let ended = ep.fin_received() || ep.reset_error().is_some();
        if n == 0 || (!ep.recv_q.is_empty() && (!waitall || ep.recv_q.len() >= n || ended)) {
            let got = self.transport.read(self.now, i.ep, buf, peek);
            if let Some(peer) = self.transport.ep(i.ep).peer_addr {
                sockaddr::write_out(peer, from_buf, from_len);
            }
            return Ok(Reply::Count(got as u32));
        }
        let seen = Sd12::Receive {
            error: ep.reset_error(),
            fin: ep.fin_received(),
        };
        match Self::sd_12(cx, seen) {
            Some(r) => Ok(Reply::Count(r?)),
            None => {
                let stop = self.op_2(cx, i, "recv", s, false);
                if let Stop::Block(_) = stop {
                    self.post_while_blocked(cx, i.ep, n);
                }
                Err(stop)
            }
        }
    }

    /// A blocking stream `recv` that waits on a socket with `SO_RCVBUF` 0 posts its buffer,
    /// as an overlapped receive does: with no receive buffer the data goes straight into the
    /// waiting call's, as on Windows (before, `SO_RCVBUF` 0 stopped delivery for good). With
    /// a receive buffer the data flows into it, and the flow control stays the buffer's.
    /// Taken back when the call ends ([`Machine::release_blocked_post`]).
    fn post_while_blocked(&mut self, cx: &mut Cx, ep: EndpointId, n: usize) {
        if self.blocked_posts.contains_key(&cx.thread) || self.transport.ep(ep).rcvbuf > 0 {
            return;
        }
        self.blocked_posts.insert(cx.thread, (ep, n));
        let e = self.transport.ep_mut(ep);
        e.posted = e.posted.saturating_add(n);
        if let Some(peer) = e.peer {
            self.transport.pump(self.now, peer);
        }
    }

    /// The buffer a blocking `recv` of `thread` posted while it waited, taken back once the
    /// call ended (done, failed, interrupted or timed out).
    pub(in crate::core) fn release_blocked_post(&mut self, thread: crate::core::ThreadId) {
        if let Some((ep, n)) = self.blocked_posts.remove(&thread) {
            if let Some(e) = self.transport.get_mut(ep) {
                e.posted = e.posted.saturating_sub(n);
            }
        }
    }

    /// `getsockname`: unbound → `WSAEINVAL`.
    pub(in crate::core) fn sockname(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        buf: Option<&mut [u8]>,
        len: Option<&mut i32>,
    ) -> Result<Reply, Stop> {
        let i = self.info(cx, s)?;
        let local = self
            .transport
            .ep(i.ep)
            .local
            .ok_or(WsaError::InvalidArgument)?;
        sockaddr::check_out(&buf, &len)?;
        sockaddr::write_out(local, buf, len);
        Ok(Reply::Done)
    }

    /// `getpeername`: not connected → `WSAENOTCONN`, checked before the pointers (ER-3).
    pub(in crate::core) fn peername(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        buf: Option<&mut [u8]>,
        len: Option<&mut i32>,
    ) -> Result<Reply, Stop> {
        let i = self.info(cx, s)?;
        self.ex_2(cx, Ex2::PeerName(s))?;
        let ep = self.transport.ep(i.ep);
        let peer = ep
            .peer_addr
            .filter(|_| ep.is_connected())
            .ok_or(WsaError::NotConnected)?;
        crate::core::er_3_pointers(cx, sockaddr::check_out(&buf, &len))?;
        sockaddr::write_out(peer, buf, len);
        Ok(Reply::Done)
    }

    /// SD-10 and SD-4: is the socket in a state where shutdown applies?
    /// SD-4, the one place it is decided: `WSASendDisconnect` on a stream socket that is not
    /// connected fails `WSAENOTCONN`; connectionless sockets never get `WSAENOTCONN`, and
    /// after `WSASendDisconnect(NULL)` (or shutdown(SD_SEND)) their sends fail `WSAESHUTDOWN`.
    fn sd_4(&self, cx: &mut Cx, i: Info, what: Sd4) -> Result<(), WsaError> {
        match what {
            Sd4::Disconnect if i.stream => {
                cx.rule(Rule::Sd4);
                self.check_shutdown_state(i)
            }
            Sd4::Disconnect => Ok(()),
            Sd4::DatagramSend if self.transport.ep(i.ep).is_send_shut() => {
                cx.rule(Rule::Sd4);
                Err(WsaError::Shutdown)
            }
            Sd4::DatagramSend => Ok(()),
        }
    }

    /// OP-7, the size part and the one place it is decided: a datagram over 65,507 bytes (the
    /// largest UDP payload) fails `WSAEMSGSIZE` at once, before any byte is copied.
    pub(in crate::core) fn op_7_datagram_fits(cx: &mut Cx, len: usize) -> Result<(), WsaError> {
        if len > MAX_UDP_PAYLOAD {
            cx.rule(Rule::Op7);
            return Err(WsaError::MessageSize);
        }
        Ok(())
    }

    /// SD-10, the one place it is decided: `shutdown`'s `how` must be `SD_RECEIVE`, `SD_SEND`
    /// or `SD_BOTH` (else `WSAEINVAL`); after `SD_RECEIVE` new receives, overlapped or not,
    /// fail `WSAESHUTDOWN` (one already pending still completes: see the overlapped queue).
    pub(in crate::core) fn sd_10(cx: &mut Cx, what: Sd10) -> Result<(), WsaError> {
        match what {
            Sd10::How(how) => {
                cx.rule(Rule::Sd10);
                if [SD_RECEIVE, SD_SEND, SD_BOTH].contains(&how) {
                    Ok(())
                } else {
                    Err(WsaError::InvalidArgument)
                }
            }
            Sd10::NewReceive { shut_recv: true } => {
                cx.rule(Rule::Sd10);
                Err(WsaError::Shutdown)
            }
            Sd10::NewReceive { shut_recv: false } => Ok(()),
        }
    }

    /// SD-12, the one place it is decided: what the application observes of its peer's
    /// close. A receive with nothing left to read fails with the reset's error (abortive
    /// close) or returns 0 (graceful close), and `None` while the connection is open; a new
    /// overlapped receive with nothing left to read on a reset connection fails at once with
    /// the reset's error instead of starting (`None`: it starts); an
    /// `FD_CLOSE` reported by `WSAEnumNetworkEvents` carries the close's code (recorded
    /// per profile when the close arrived).
    pub(in crate::core) fn sd_12(cx: &mut Cx, seen: Sd12) -> Option<Result<u32, WsaError>> {
        match seen {
            Sd12::Receive { error: Some(e), .. } => {
                cx.rule(Rule::Sd12);
                Some(Err(e))
            }
            Sd12::Receive {
                error: None,
                fin: true,
            } => {
                cx.rule(Rule::Sd12);
                Some(Ok(0))
            }
            Sd12::Receive {
                error: None,
                fin: false,
            } => None,
            // win: test_tcp_reset: after a reset, a new overlapped receive fails at once too
            // (no completion is indicated, OV-1).
            Sd12::OverlappedReceive {
                error: Some(e),
                unread: false,
            } => {
                cx.rule(Rule::Sd12);
                Some(Err(e))
            }
            Sd12::OverlappedReceive {
                error: None,
                unread: _,
            }
            | Sd12::OverlappedReceive {
                error: Some(_),
                unread: true,
            } => None,
            Sd12::Events { recorded } => {
                if recorded & FD_CLOSE != 0 {
                    cx.rule(Rule::Sd12);
                }
                None
            }
        }
    }

    fn check_shutdown_state(&self, i: Info) -> Result<(), WsaError> {
        if i.stream && !self.transport.ep(i.ep).is_connected() {
            return Err(WsaError::NotConnected);
        }
        Ok(())
    }

    /// The receiving half: no more receives; on a stream, unread data resets the connection
    /// (SD-11), as does data arriving later.
    fn shut_recv(&mut self, cx: &mut Cx, i: Info) {
        self.transport.shut_recv(i.ep);
        let ep = self.transport.ep(i.ep);
        if i.stream && !ep.recv_q.is_empty() {
            cx.rule(Rule::Sd11); // The unread data can never be read: it is lost.
            let reset = ep.reset_error().is_none();
            self.transport
                .discard_unread(i.ep, Rule::Sd11, "unread data discarded by SD_RECEIVE");
            if reset {
                self.transport
                    .abort(self.now, i.ep, Rule::Sd11, "connection reset by SD_RECEIVE");
            }
        }
    }

    /// `shutdown`: SD-10 (bad `how` → `WSAEINVAL`, not connected → `WSAENOTCONN`), SD-8
    /// (twice is fine), SD-11.
    pub(in crate::core) fn shutdown(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        how: i32,
    ) -> Result<Reply, Stop> {
        let i = self.info(cx, s)?;
        Self::sd_10(cx, Sd10::How(how))?;
        self.check_shutdown_state(i)?;
        if how == SD_SEND || how == SD_BOTH {
            self.transport.shut_send(self.now, i.ep, None);
        }
        if how == SD_RECEIVE || how == SD_BOTH {
            self.shut_recv(cx, i);
        }
        Ok(Reply::Done)
    }

    /// `WSASendDisconnect`: SD-1..SD-8.
    pub(in crate::core) fn send_disconnect(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        data: Option<WsaBufIn<'_>>,
    ) -> Result<Reply, Stop> {
        let i = self.info(cx, s)?;
        cx.rule(Rule::Sd6); // Never blocks, never closes.
        self.sd_4(cx, i, Sd4::Disconnect)?;
        let disconnect = match data {
            None => None,
            Some(_) if !i.disconnect_data => {
                cx.rule(Rule::Sd2); // Nothing changes.
                return Err(WsaError::NoProtocolOption.into());
            }
            Some(WsaBufIn { buf, len }) => {
                cx.rule(Rule::Sd5);
                let len = len as usize;
                if len > MAX_DISCONNECT_DATA {
                    return Err(WsaError::Fault.into());
                }
                match buf {
                    Some(b) => Some(b[..len].to_vec()),
                    None if len == 0 => Some(Vec::new()),
                    None => return Err(WsaError::Fault.into()),
                }
            }
        };
        if self.transport.ep(i.ep).is_send_shut() {
            cx.rule(Rule::Sd8); // The second call succeeds and changes nothing.
            return Ok(Reply::Done);
        }
        cx.rule(if disconnect.is_some() {
            Rule::Sd3
        } else {
            Rule::Sd1
        }); // SD-1, SD-3
        self.transport.shut_send(self.now, i.ep, disconnect);
        Ok(Reply::Done)
    }

    /// `WSARecvDisconnect`: SD-9 — shutdown(SD_RECEIVE) plus the peer's disconnect data, once.
    pub(in crate::core) fn recv_disconnect(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        out: Option<WsaBufOut<'_>>,
    ) -> Result<Reply, Stop> {
        let i = self.info(cx, s)?;
        cx.rule(Rule::Sd9);
        self.check_shutdown_state(i)?;
        if out.is_some() && !i.disconnect_data {
            return Err(WsaError::NoProtocolOption.into());
        }
        let pending = self.transport.ep(i.ep).disc_in.as_ref().map_or(0, Vec::len);
        if let Some(WsaBufOut { buf, len }) = &out {
            let room = if buf.is_some() { **len as usize } else { 0 };
            if (buf.is_none() && **len > 0) || pending > room {
                return Err(WsaError::Fault.into());
            }
        }
        self.shut_recv(cx, i);
        if let Some(WsaBufOut { buf, len }) = out {
            let data = self
                .transport
                .ep_mut(i.ep)
                .disc_in
                .take()
                .unwrap_or_default();
            if let Some(b) = buf {
                b[..data.len()].copy_from_slice(&data);
            }
            *len = data.len() as u32;
            if !data.is_empty() {
                cx.rule(Rule::Sd3);
            }
        }
        Ok(Reply::Done)
    }

    /// closesocket's network half; `Ok` when the socket may be freed now.
    ///
    /// CS-2: linger off → graceful (queued data still goes, then FIN). CS-3: linger on with 0 →
    /// reset, unsent data discarded. CS-4: linger on with a timeout on a blocking socket → wait
    /// (virtual time) until the data is out or the timeout expires, then reset. CS-5: the same
    /// on a non-blocking socket with data queued → `WSAEWOULDBLOCK`, nothing changes.
    ///
    /// # Divergence
    /// Two refinements the SPEC leaves open, both as TCP and Windows behave: data counts as
    /// "sent" once the peer acknowledged it (an acknowledgement takes the link's latency back),
    /// so CS-4 waits for the acknowledgement and CS-5 sees unacknowledged data as queued; and a
    /// connection closed with received data it never read is reset instead of closed
    /// gracefully, the unread bytes counted as lost (RFC 1122 §4.2.2.13).
    pub(in crate::core) fn close_network(&mut self, cx: &mut Cx, s: Socket) -> Result<(), Stop> {
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        let (ep, linger, nonblocking, closing) =
            (st.endpoint, st.linger, st.nonblocking, st.closing);
        let connected = self.transport.ep(ep).is_live_stream();
        if let (true, Some(deadline)) = (self.threads.resumed_on(cx, s), closing) {
            if self.transport.ep(ep).drained() {
                cx.rule(Rule::Cs4); // Sent (and acknowledged) in time.
            } else if self.now >= deadline {
                cx.rule(Rule::Cs4); // Timed out, reset.
                self.transport
                    .abort(self.now, ep, Rule::Cs4, "linger timeout expired");
            } else {
                return Err(Stop::Block(Block {
                    deadline: Some(deadline),
                    what: "closesocket (linger)",
                    socket: Some(s),
                }));
            }
            self.transport.detach(self.now, ep);
            return Ok(());
        }
        if !connected {
            self.transport.detach(self.now, ep);
            return Ok(());
        }
        // Data counts as sent once the peer acknowledged it, as Windows' linger waits.
        let queued = self.transport.ep(ep).unsent();
        match (linger.is_on(), linger.seconds) {
            (false, _) => {
                cx.rule(Rule::Cs2);
                self.transport.shut_send(self.now, ep, None);
            }
            (true, 0) => {
                cx.rule(Rule::Cs3);
                self.transport
                    .abort(self.now, ep, Rule::Cs3, "closesocket with linger 0");
            }
            (true, _) if !queued => {
                cx.rule(Rule::Cs4); // Nothing to wait for.
                self.transport.shut_send(self.now, ep, None);
            }
            (true, _) if nonblocking => {
                cx.rule(Rule::Cs5);
                return Err(WsaError::WouldBlock.into());
            }
            (true, secs) => {
                cx.rule(Rule::Cs4);
                self.transport.shut_send(self.now, ep, None);
                let deadline = self
                    .now
                    .saturating_add(Duration::from_secs(u64::from(secs)));
                self.process_mut(cx.process).socket_mut(cx, s)?.closing = Some(deadline);
                return Err(Stop::Block(Block {
                    deadline: Some(deadline),
                    what: "closesocket (linger)",
                    socket: Some(s),
                }));
            }
        }
        self.transport.detach(self.now, ep);
        Ok(())
    }
}
