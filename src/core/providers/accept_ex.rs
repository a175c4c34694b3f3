//! `AcceptEx` (EX-2): a listener's next connection handed to a socket the caller created,
//! as an overlapped operation; `SO_UPDATE_ACCEPT_CONTEXT`; and the layout of the output
//! buffer that `GetAcceptExSockaddrs` reads back.
//!
//! This module starts the operation and decides when it is done;
//! [`Machine::poll_socket_ops`] asks it as the network changes, and CS-6 / CL-5 abort it like
//! any pending operation (closing the listener or the accept socket aborts it). It does not
//! write the caller's memory: the output buffer's bytes travel with the completion.

use std::net::SocketAddrV4;

use crate::consts::*;
use crate::core::overlapped::{AcceptLengths, OpKind, OpRequest};
use crate::core::providers::sockaddr;
use crate::core::rules::Rule;
use crate::core::transport::{EndpointId, Phase, Proto};
use crate::core::ws2::table::Socket;
use crate::core::{Cx, Machine, ProcessId, Reply, Stop};
use crate::error::WsaError;

/// The least room an address needs in the output buffer: `sizeof(SOCKADDR_IN) + 16`, as the
/// `AcceptEx` documentation asks.
pub const ADDRESS_ROOM: u32 = 16 + 16;

/// Where `GetAcceptExSockaddrs` finds the addresses in an output buffer of these lengths:
/// each address is an `i32` length followed by the `SOCKADDR`, the local one at
/// `data` (absent when `local` is 0) and the remote one at `data + local`. This is Wine's
/// layout; Windows does not document its own, and callers only read it back through
/// `GetAcceptExSockaddrs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressOffsets {
    /// The offset of the local address's length (`None`: no room was given for it).
    pub local: Option<usize>,
    /// The offset of the remote address's length.
    pub remote: usize,
}

impl AddressOffsets {
    /// The offsets for an output buffer with these lengths.
    pub fn of(lengths: AcceptLengths) -> AddressOffsets {
        let data = lengths.data as usize;
        AddressOffsets {
            local: (lengths.local > 0).then_some(data),
            remote: data + lengths.local as usize,
        }
    }
}

/// One step of an `AcceptEx`: still waiting (with the connection taken for it, if any), or
/// done with its result and the output buffer's bytes.
#[derive(Debug)]
pub(in crate::core) enum Ex2Step {
    /// Not done yet.
    Wait(Option<EndpointId>),
    /// Done: the byte count (the first data's length) or the error, and the buffer.
    Done(Result<u32, WsaError>, Vec<u8>),
}

/// What [`Machine::ex_2`] is asked about.
#[derive(Debug)]
pub(in crate::core) enum Ex2<'a> {
    /// `AcceptEx` on `listener`; `fault`: the output buffer is NULL.
    Accept {
        /// `sListenSocket`.
        listener: Socket,
        /// The operation.
        req: OpRequest,
        /// `lpOutputBuffer` is NULL.
        fault: bool,
    },
    /// `setsockopt(s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, value, len)`.
    UpdateContext {
        /// The accepted socket.
        s: Socket,
        /// `optval`.
        value: Option<&'a [u8]>,
        /// `optlen`.
        len: i32,
    },
    /// `getpeername` on this socket.
    PeerName(Socket),
    /// `connect` on this socket.
    Connect(Socket),
}

impl Machine {
    /// EX-2, the one place it is decided: `AcceptEx(listener, accept, ...)`, its accept
    /// socket's context, and what that socket can do meanwhile.
    ///
    /// [`Ex2::Accept`]: its `OVERLAPPED` reads `STATUS_PENDING` even when a check below fails
    /// (win; see [`pending_before_checks`]). Then, in this order: a listener or accept
    /// socket that is no socket fails `WSAENOTSOCK`; a listener that is not listening
    /// `WSAEINVAL`; a NULL output buffer `WSAEFAULT`; a remote address length of 0 `WSAEFAULT`; an accept socket that is not a fresh stream
    /// socket (a datagram socket, a bound, listening or connected one, or one another
    /// `AcceptEx` already names) `WSAEINVAL`. Otherwise the operation pends
    /// (`WSA_IO_PENDING`) and completes, as the listener's operation (its completion key),
    /// when a connection is accepted, or with `dwReceiveDataLength > 0` when its first data
    /// (or its end) has arrived, with the data's length as the byte count. An address length
    /// below [`ADDRESS_ROOM`] fails at that point with `STATUS_BUFFER_TOO_SMALL` and leaves
    /// the connection queued for the next accept (a local length of 0 is allowed: no local
    /// address is written) (win: sock.c `test_AcceptEx`).
    ///
    /// [`Ex2::UpdateContext`]: `setsockopt(accept, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
    /// &listener, sizeof(SOCKET))`. A value shorter than a `SOCKET` fails `WSAEFAULT`; a value
    /// that names no socket `WSAENOTSOCK`, one that is not listening `WSAEINVAL`; an accept
    /// socket that is not connected `WSAENOTCONN`. Otherwise the accepted socket takes the
    /// listener's options (linger, non-blocking mode, the stored options), as `accept`'s
    /// sockets do at once (sim: Windows' tests set the option and read the names, and show
    /// no failure).
    ///
    /// [`Ex2::PeerName`]: until then, `getpeername` on the socket fails `WSAENOTCONN` (the
    /// SPEC; Microsoft's `AcceptEx` page). [`Ex2::Connect`]: `connect` on an accept socket
    /// of a pending `AcceptEx` fails `WSAEINVAL` (win: `test_AcceptEx`).
    pub(in crate::core) fn ex_2(&mut self, cx: &mut Cx, what: Ex2<'_>) -> Result<Reply, Stop> {
        match what {
            Ex2::Accept {
                listener,
                req,
                fault,
            } => {
                cx.rule(Rule::Ex2);
                self.accept_ex(cx, listener, req, fault)
            }
            Ex2::UpdateContext { s, value, len } => {
                cx.rule(Rule::Ex2);
                self.update_accept_context(cx, s, value, len)?;
                Ok(Reply::Done)
            }
            Ex2::PeerName(s) => {
                let row = self.process_mut(cx.process).socket_mut(cx, s)?;
                if row.accept_context.is_some() {
                    cx.rule(Rule::Ex2);
                    return Err(WsaError::NotConnected.into());
                }
                Ok(Reply::Done)
            }
            Ex2::Connect(s) => {
                if self.overlapped.is_accept_socket(cx.process, s) {
                    cx.rule(Rule::Ex2);
                    return Err(WsaError::InvalidArgument.into());
                }
                Ok(Reply::Done)
            }
        }
    }

    /// [`Ex2::Accept`].
    fn accept_ex(
        &mut self,
        cx: &mut Cx,
        listener: Socket,
        req: OpRequest,
        fault: bool,
    ) -> Result<Reply, Stop> {
        let OpKind::Accept {
            accept, lengths, ..
        } = req.kind
        else {
            return Err(WsaError::InvalidParameter.into());
        };
        let process = self.process_mut(cx.process);
        let l_ep = process.socket_mut(cx, listener)?.endpoint;
        let a_ep = process.socket_mut(cx, accept)?.endpoint;
        if !self.transport.ep(l_ep).is_listening() {
            return Err(WsaError::InvalidArgument.into());
        }
        if fault || lengths.remote == 0 {
            return Err(WsaError::Fault.into());
        }
        let a = self.transport.ep(a_ep);
        let fresh = a.proto == Proto::Stream
            && a.local.is_none()
            && matches!(a.phase(), Phase::Open { .. })
            && !self.overlapped.is_accept_socket(cx.process, accept);
        if !fresh {
            return Err(WsaError::InvalidArgument.into());
        }
        self.pend_extension(cx, listener, req);
        Err(WsaError::IoPending.into())
    }

    /// EX-2's completion, asked for a pending `AcceptEx` of `listener` each time its
    /// sockets may have changed (see [`Machine::ex_2`]).
    pub(in crate::core) fn ex_2_outcome(
        &mut self,
        process: ProcessId,
        listener: Socket,
        accept: Socket,
        lengths: AcceptLengths,
        taken: Option<EndpointId>,
    ) -> Ex2Step {
        let child = match taken {
            Some(child) => child,
            None => {
                let Some(l_ep) = self.process(process).endpoint_of(listener) else {
                    return Ex2Step::Wait(None);
                };
                let Some(child) = self.transport.peek_accept(l_ep) else {
                    return Ex2Step::Wait(None);
                };
                let short = |n: u32| n < ADDRESS_ROOM;
                if (lengths.local > 0 && short(lengths.local)) || short(lengths.remote) {
                    return Ex2Step::Done(Err(WsaError::Fault), Vec::new());
                }
                self.transport.pop_accept(l_ep);
                self.give_connection(process, listener, accept, child);
                child
            }
        };
        let mut data = vec![0; lengths.data as usize];
        let mut got = 0;
        if lengths.data > 0 {
            let ep = self.transport.ep(child);
            if let Some(e) = ep.reset_error() {
                return Ex2Step::Done(Err(e), Vec::new());
            }
            if ep.recv_q.is_empty() && !ep.fin_received() {
                return Ex2Step::Wait(Some(child));
            }
            got = self.transport.read(self.now, child, &mut data, false);
        }
        let ep = self.transport.ep(child);
        let image = output_image(lengths, data, ep.local, ep.peer_addr);
        Ex2Step::Done(Ok(got as u32), image)
    }

    /// The accepted connection `child` becomes `accept`'s: the socket's own endpoint (fresh
    /// and unbound) goes away, and the socket waits for `SO_UPDATE_ACCEPT_CONTEXT`.
    fn give_connection(
        &mut self,
        process: ProcessId,
        listener: Socket,
        accept: Socket,
        child: EndpointId,
    ) {
        let Some(row) = self.process_mut(process).row_mut(accept) else {
            // The accept socket is gone: its closing aborted this operation already.
            self.transport
                .abort(self.now, child, Rule::Ex2, "accept socket closed");
            self.transport.detach(self.now, child);
            return;
        };
        let old = std::mem::replace(&mut row.endpoint, child);
        row.accept_context = Some(listener);
        self.transport.detach(self.now, old);
        self.transport.ep_mut(child).socket = Some(accept);
    }

    /// [`Ex2::UpdateContext`].
    fn update_accept_context(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        value: Option<&[u8]>,
        len: i32,
    ) -> Result<(), Stop> {
        const SOCKET_SIZE: usize = std::mem::size_of::<usize>();
        let bytes = match (value, usize::try_from(len)) {
            (Some(v), Ok(n)) if n >= SOCKET_SIZE && v.len() >= SOCKET_SIZE => &v[..SOCKET_SIZE],
            _ => return Err(WsaError::Fault.into()),
        };
        let mut raw = [0u8; SOCKET_SIZE];
        raw.copy_from_slice(bytes);
        let listener = Socket::from_raw(usize::from_ne_bytes(raw));
        let process = self.process_mut(cx.process);
        let template = process.socket_mut(cx, listener)?.clone();
        let ep = process.socket_mut(cx, s)?.endpoint;
        if !self.transport.ep(template.endpoint).is_listening() {
            return Err(WsaError::InvalidArgument.into());
        }
        if !self.transport.ep(ep).is_connected() {
            return Err(WsaError::NotConnected.into());
        }
        let row = self.process_mut(cx.process).socket_mut(cx, s)?;
        row.accept_context = None;
        row.linger = template.linger;
        row.nonblocking = template.nonblocking;
        row.options = template.options;
        let (snd, rcv) = (row.option(SO_SNDBUF), row.option(SO_RCVBUF));
        let e = self.transport.ep_mut(ep);
        e.sndbuf = snd as usize;
        e.rcvbuf = rcv as usize;
        Ok(())
    }
}

/// EX-2's first step, before Ws2_32 or the provider checks anything: mswsock marks an
/// `AcceptEx`'s record `STATUS_PENDING`, so a refused call leaves it there too (win:
/// `test_AcceptEx`). Other operations' records are marked only once accepted (OV-1).
pub(in crate::core) fn pending_before_checks(req: &OpRequest) {
    if let OpKind::Accept { .. } = req.kind {
        req.memory.0.pending();
    }
}

/// The output buffer's bytes: the first data, then the addresses where [`AddressOffsets`]
/// puts them.
fn output_image(
    lengths: AcceptLengths,
    mut data: Vec<u8>,
    local: Option<SocketAddrV4>,
    remote: Option<SocketAddrV4>,
) -> Vec<u8> {
    data.resize(lengths.total(), 0);
    let at = AddressOffsets::of(lengths);
    let mut put = |offset: usize, addr: Option<SocketAddrV4>| {
        let Some(addr) = addr else { return };
        let bytes = sockaddr::encode(addr);
        let len = (bytes.len() as i32).to_ne_bytes();
        data[offset..offset + 4].copy_from_slice(&len);
        data[offset + 4..offset + 4 + bytes.len()].copy_from_slice(&bytes);
    };
    if let Some(offset) = at.local {
        put(offset, local);
    }
    put(at.remote, remote);
    data
}
