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
use crate::core::{Cx, Machine, Reply, Stop};
use crate::error::WsaError;

impl Machine {
    /// EX-3, the one place it is decided: `ConnectEx` on `s` needs a bound, unconnected stream
    /// socket. A datagram socket, an unbound one and a listening one fail `WSAEINVAL`; a
    /// connected (or reset) one `WSAEISCONN`; one whose connection attempt is under way
    /// `WSAEALREADY`. The address decodes as `connect`'s (a short or NULL one `WSAEFAULT`, a
    /// wildcard address or port 0 `WSAEADDRNOTAVAIL`). Then the connection attempt starts
    /// and the call returns `WSA_IO_PENDING`; the operation completes once the connection is
    /// established, with the send data queued on it and its length as the byte count, or
    /// with the connection's error (`WSAECONNREFUSED`, `WSAETIMEDOUT`; kernel32 reports
    /// `ERROR_CONNECTION_REFUSED` and `ERROR_SEM_TIMEOUT`) (win: sock.c `test_ConnectEx`).
    /// A failed attempt leaves the socket as a failed `connect` does.
    pub(in crate::core) fn ex_3_connect(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        req: OpRequest,
    ) -> Result<Reply, Stop> {
        cx.rule(Rule::Ex3);
        let OpKind::Connect { ref to, .. } = req.kind else {
            return Err(WsaError::InvalidParameter.into());
        };
        let ep_id = self.process_mut(cx.process).socket_mut(cx, s)?.endpoint;
        let ep = self.transport.ep(ep_id);
        if ep.proto != Proto::Stream {
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
        self.pend_connect(cx, s, req);
        Err(WsaError::IoPending.into())
    }
}
