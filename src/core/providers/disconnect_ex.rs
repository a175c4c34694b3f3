//! `DisconnectEx` (EX-4): a graceful close of a connection's sending half that completes when
//! the close does, overlapped or blocking; with `TF_REUSE_SOCKET` the socket is fresh again
//! afterwards, for `AcceptEx` or `ConnectEx`.
//!
//! This module starts the operation and decides when it is done;
//! [`Machine::poll_socket_ops`] asks it as the network changes, and CS-6 / CL-5 abort it like
//! any pending operation. It does not close the socket: the handle stays valid.

use crate::consts::*;
use crate::core::overlapped::{OpKind, OpRequest};
use crate::core::rules::Rule;
use crate::core::transport::{Phase, Proto};
use crate::core::ws2::table::Socket;
use crate::core::{Cx, Machine, ProcessId, Reply, Stop};
use crate::error::WsaError;

impl Machine {
    /// EX-4, the one place it is decided: `DisconnectEx(s, lpOverlapped, dwFlags,
    /// dwReserved)`.
    ///
    /// A handle that is no socket fails `WSAENOTSOCK`; `dwFlags` other than 0 or
    /// `TF_REUSE_SOCKET`, or `dwReserved` not 0, `WSAEINVAL` (Microsoft's `DisconnectEx`
    /// page); a socket without a connection (a datagram socket included) `WSAENOTCONN`, at
    /// once even with an `OVERLAPPED` (win: sock.c `test_DisconnectEx`). Otherwise sending is
    /// shut down as `shutdown(SD_SEND)` does (the peer reads the end of the data; receiving
    /// goes on), and the close completes once everything sent, the FIN included, has been
    /// acknowledged: with an `OVERLAPPED` the call returns `WSA_IO_PENDING` and the
    /// operation then completes with 0 bytes; with NULL the call waits for it (a
    /// non-blocking socket fails `WSAEWOULDBLOCK` while it is not done) and returns TRUE.
    /// Calling it again on a closed half returns the same. A connection reset meanwhile
    /// completes it with the reset's error. Afterwards `send` fails `WSAESHUTDOWN` and
    /// `connect` `WSAEISCONN`; with `TF_REUSE_SOCKET` the socket instead gets a fresh,
    /// unbound endpoint once the close completed.
    pub(in crate::core) fn ex_4_disconnect(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        req: OpRequest,
    ) -> Result<Reply, Stop> {
        cx.rule(Rule::Ex4);
        let OpKind::Disconnect {
            flags,
            reserved,
            blocking,
        } = req.kind
        else {
            return Err(WsaError::InvalidParameter.into());
        };
        let i = self.info(cx, s)?;
        if flags & !TF_REUSE_SOCKET != 0 || reserved != 0 {
            return Err(WsaError::InvalidArgument.into());
        }
        let ep = self.transport.ep(i.ep);
        if ep.proto != Proto::Stream || !ep.is_connected() {
            return Err(WsaError::NotConnected.into());
        }
        if !ep.is_send_shut() {
            self.transport.shut_send(self.now, i.ep, None);
        }
        if !blocking {
            self.pend_extension(cx, s, req);
            return Err(WsaError::IoPending.into());
        }
        match self.ex_4_outcome(cx.process, s, flags) {
            Some(Ok(n)) => Ok(Reply::Count(n)),
            Some(Err(e)) => Err(e.into()),
            None => Err(Self::wait(i, "DisconnectEx", s)),
        }
    }

    /// EX-4's completion: `None` until the close of `s`'s sending half has been
    /// acknowledged; then 0 bytes (and with `TF_REUSE_SOCKET` a fresh endpoint for the
    /// socket), or the error of a connection reset meanwhile.
    pub(in crate::core) fn ex_4_outcome(
        &mut self,
        process: ProcessId,
        s: Socket,
        flags: u32,
    ) -> Option<Result<u32, WsaError>> {
        let ep_id = self.process(process).endpoint_of(s)?;
        let ep = self.transport.ep(ep_id);
        let result = match ep.phase() {
            Phase::Reset { error, .. } => Err(error),
            Phase::Connected { .. } if ep.drained() => Ok(0),
            Phase::Connected { .. }
            | Phase::Open { .. }
            | Phase::Listening { .. }
            | Phase::Connecting
            | Phase::Failed(_) => return None,
        };
        if result.is_ok() && flags & TF_REUSE_SOCKET != 0 {
            self.renew_endpoint(process, s);
        }
        Some(result)
    }

    /// `TF_REUSE_SOCKET`: the closed connection goes on without the socket (it finishes
    /// on its own), and the socket gets a fresh, unbound endpoint with its buffer sizes.
    fn renew_endpoint(&mut self, process: ProcessId, s: Socket) {
        let host = self.process(process).host();
        let Some(row) = self.process_mut(process).row_mut(s) else {
            return;
        };
        let bufs = (
            row.option(SO_SNDBUF) as usize,
            row.option(SO_RCVBUF) as usize,
        );
        let disc = row.entry.has_disconnect_data();
        let old = row.endpoint;
        let fresh = self
            .transport
            .create(host, Proto::Stream, disc, process, bufs);
        self.transport.ep_mut(fresh).socket = Some(s);
        if let Some(row) = self.process_mut(process).row_mut(s) {
            row.endpoint = fresh;
            row.accept_context = None;
        }
        self.transport.detach(self.now, old);
    }
}
