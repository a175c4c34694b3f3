//! `ConnectEx` (EX-3), the extension function that connects a stream socket as an
//! overlapped operation, optionally sending a first buffer on the new connection.
//!
//! This module only starts the operation; [`Machine::poll_socket_ops`] completes it when the
//! transport has established or refused the connection, and CS-6 / CL-5 abort it like any
//! pending operation. It does not write the caller's memory.

use crate::core::overlapped::{OpKind, OpRequest};
use crate::core::providers::sockaddr;
use crate::core::rules::Rule;
use crate::core::transport::{Phase, Proto};
use crate::core::ws2::table::Socket;
use crate::core::{Cx, Machine, ProcessId, Reply, Stop};
use crate::error::WsaError;

/// What [`Machine::ex_3`] is asked about.
#[derive(Debug)]
pub(in crate::core) enum Ex3 {
    /// `ConnectEx` on `s`.
    Connect {
        /// The socket.
        s: Socket,
        /// The operation.
        req: OpRequest,
    },
    /// `setsockopt(s, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, ..)`.
    UpdateContext(Socket),
}

impl Machine {
    /// EX-3, the one place it is decided.
    ///
    /// [`Ex3::Connect`]: `ConnectEx` on `s` needs a bound, unconnected stream
    /// socket. A datagram socket, an unbound one and a listening one fail `WSAEINVAL`; a
    /// connected (or reset) one `WSAEISCONN`; one whose connection attempt is under way
    /// `WSAEALREADY`. The address decodes as `connect`'s (a short or NULL one `WSAEFAULT`, a
    /// wildcard address or port 0 `WSAEADDRNOTAVAIL`). Then the connection attempt starts
    /// and the call returns `WSA_IO_PENDING`; the operation completes once the connection is
    /// established, with the send data queued on it and its length as the byte count, or
    /// with the connection's error (`WSAECONNREFUSED`, `WSAETIMEDOUT`; kernel32 reports
    /// `ERROR_CONNECTION_REFUSED` and `ERROR_SEM_TIMEOUT`) (win: sock.c `test_ConnectEx`).
    /// A failed attempt leaves the socket as a failed `connect` does. A socket that a pending
    /// `AcceptEx` names as its accept socket fails `WSAEINVAL` (win: `test_AcceptEx`).
    ///
    /// [`Ex3::UpdateContext`]: `SO_UPDATE_CONNECT_CONTEXT` is accepted (any value, any
    /// length) on a connected socket, `WSAENOTCONN` on any other. It changes nothing: a
    /// socket that `ConnectEx` connected already answers `getpeername`, `getsockname` and
    /// `shutdown` (sim: Wine's tests set it and read the names, and neither Wine nor the
    /// simulator gates the calls on it; see the divergences).
    pub(in crate::core) fn ex_3(&mut self, cx: &mut Cx, what: Ex3) -> Result<Reply, Stop> {
        cx.rule(Rule::Ex3);
        match what {
            Ex3::Connect { s, req } => self.connect_ex(cx, s, req),
            Ex3::UpdateContext(s) => {
                let ep = self.process_mut(cx.process).socket_mut(cx, s)?.endpoint;
                if !self.transport.ep(ep).is_connected() {
                    return Err(WsaError::NotConnected.into());
                }
                Ok(Reply::Done)
            }
        }
    }

    /// [`Ex3::Connect`].
    fn connect_ex(&mut self, cx: &mut Cx, s: Socket, req: OpRequest) -> Result<Reply, Stop> {
        let OpKind::Connect { ref to, .. } = req.kind else {
            return Err(WsaError::InvalidParameter.into());
        };
        let ep_id = self.process_mut(cx.process).socket_mut(cx, s)?.endpoint;
        let ep = self.transport.ep(ep_id);
        if ep.proto != Proto::Stream || self.overlapped.is_accept_socket(cx.process, s) {
            return Err(WsaError::InvalidArgument.into());
        }
        match ep.phase() {
            Phase::Connected { .. } | Phase::Reset { .. } => {
                return Err(WsaError::IsConnected.into())
            }
            Phase::Connecting => return Err(WsaError::Already.into()),
            Phase::Listening { .. } => return Err(WsaError::InvalidArgument.into()),
            Phase::Open { .. } | Phase::Failed(_) => {}
        }
        if ep.local.is_none() {
            return Err(WsaError::InvalidArgument.into());
        }
        let to = sockaddr::decode(to)?;
        if to.ip().is_unspecified() || to.port() == 0 {
            return Err(WsaError::AddressNotAvailable.into());
        }
        if let Phase::Failed(_) = ep.phase() {
            self.transport.clear_failure(ep_id);
        }
        self.transport.connect(self.now, ep_id, to);
        self.pend_extension(cx, s, req);
        Err(WsaError::IoPending.into())
    }

    /// EX-3's completion: `None` while the connection attempt of `s` is under way; once it
    /// is established, `data` is queued on it and its length is the byte count; a refused,
    /// timed-out or reset attempt completes with its error.
    pub(in crate::core) fn ex_3_outcome(
        &mut self,
        process: ProcessId,
        s: Socket,
        data: &[u8],
    ) -> Option<Result<u32, WsaError>> {
        let ep_id = self.process(process).endpoint_of(s)?;
        let result = match self.transport.ep(ep_id).phase() {
            Phase::Connecting => return None,
            Phase::Failed(e) => Err(e),
            Phase::Connected { .. } => {
                self.transport.queue_stream(ep_id, data);
                self.transport.pump(self.now, ep_id);
                Ok(data.len() as u32)
            }
            Phase::Reset { error, .. } => Err(error),
            Phase::Open { .. } | Phase::Listening { .. } => Err(WsaError::ConnectionAborted),
        };
        Some(result)
    }
}
