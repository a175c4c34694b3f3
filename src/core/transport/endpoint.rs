//! One kernel endpoint and the state machine of its life.
//!
//! An endpoint's lifecycle is one value, [`Phase`], and whether a socket handle still refers
//! to it. Both change only through [`Endpoint::set_phase`] and [`Endpoint::detach`]: each
//! checks that the change is a transition of the state machine (a broken one panics with
//! `invariant: ...`, which the harness re-raises with the seed) and appends a [`Transition`]
//! to the transport's log, which the simulation drains for its record.
//!
//! This module does not move packets, decide losses or know Winsock calls: the transport
//! (`super`) does, and asks for transitions through the methods here; the providers read the
//! phase through the accessors ([`Endpoint::writable`], [`Endpoint::is_send_shut`], ...).

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddrV4;
use std::time::Duration;

use super::{EndpointId, Proto};
use crate::core::ws2::table::Socket;
use crate::core::{HostId, ProcessId};
use crate::error::WsaError;

/// The sending half of an endpoint: what the application may still do and how far our end of
/// the stream got on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendHalf {
    /// The application may send.
    Open,
    /// The application shut down sending (shutdown SD_SEND, WSASendDisconnect, a graceful
    /// close or a reset); a stream's FIN waits for the queued data.
    Shut,
    /// Our FIN went out after all queued data (streams).
    FinSent,
    /// The peer acknowledged our FIN (streams).
    FinAcked,
}

/// The receiving half of an endpoint: whether the application shut it down and whether the
/// peer finished sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvHalf {
    /// The application may receive; the peer may send.
    Open,
    /// The application shut down receiving (SD_RECEIVE, WSARecvDisconnect, a reset); stream
    /// data arriving now resets the connection (SD-11).
    Shut,
    /// The peer's FIN arrived: reads return 0 once the receive queue is empty (streams).
    FinRcvd,
    /// Shut down by the application and finished by the peer (streams).
    ShutFinRcvd,
}

/// Where an endpoint is in its life. Changed only through [`Endpoint::set_phase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Created, maybe bound; never connected. Only a datagram socket has a shut half here
    /// (SD-4: shutdown needs no connection on a datagram socket).
    Open {
        /// The sending half.
        send: SendHalf,
        /// The receiving half.
        recv: RecvHalf,
    },
    /// `listen` succeeded: up to `backlog` established connections wait for `accept`.
    Listening {
        /// The listen backlog, clamped to 1..=200.
        backlog: usize,
    },
    /// `connect` sent a SYN and waits for the answer (streams).
    Connecting,
    /// A stream's connection exists (maybe half-closed); a datagram socket has a default peer.
    Connected {
        /// The sending half.
        send: SendHalf,
        /// The receiving half.
        recv: RecvHalf,
    },
    /// The connection was reset by the peer (`WSAECONNRESET`) or aborted here
    /// (`WSAECONNABORTED`): calls fail with `error`. The halves are as the reset left them (an
    /// abort shuts both), and the application may still shut them.
    Reset {
        /// What calls on the connection fail with.
        error: WsaError,
        /// The sending half.
        send: SendHalf,
        /// The receiving half.
        recv: RecvHalf,
    },
    /// The last connection attempt failed with this error (streams).
    Failed(WsaError),
}

impl Phase {
    /// A fresh endpoint's phase: open, both halves open.
    pub const OPEN: Phase = Phase::Open {
        send: SendHalf::Open,
        recv: RecvHalf::Open,
    };

    /// A new connection's phase: connected, both halves open.
    pub const CONNECTED: Phase = Phase::Connected {
        send: SendHalf::Open,
        recv: RecvHalf::Open,
    };

    /// The halves, in the phases that have them.
    fn halves(self) -> Option<(SendHalf, RecvHalf)> {
        match self {
            Phase::Open { send, recv }
            | Phase::Connected { send, recv }
            | Phase::Reset { send, recv, .. } => Some((send, recv)),
            Phase::Listening { .. } | Phase::Connecting | Phase::Failed(_) => None,
        }
    }

    /// This phase with its halves replaced (phases without halves stay as they are).
    fn with_halves(self, send: SendHalf, recv: RecvHalf) -> Phase {
        match self {
            Phase::Open { .. } => Phase::Open { send, recv },
            Phase::Connected { .. } => Phase::Connected { send, recv },
            Phase::Reset { error, .. } => Phase::Reset { error, send, recv },
            Phase::Listening { .. } | Phase::Connecting | Phase::Failed(_) => self,
        }
    }
}

impl SendHalf {
    /// True once the application shut sending down.
    pub fn is_shut(self) -> bool {
        match self {
            SendHalf::Open => false,
            SendHalf::Shut | SendHalf::FinSent | SendHalf::FinAcked => true,
        }
    }

    /// The half after the application shuts it down (unchanged if it already did).
    fn shut(self) -> SendHalf {
        match self {
            SendHalf::Open => SendHalf::Shut,
            SendHalf::Shut | SendHalf::FinSent | SendHalf::FinAcked => self,
        }
    }

    /// True when `self -> to` is one step of the half: the application shuts it, or (streams)
    /// the FIN goes out, or its acknowledgement comes back.
    fn steps_to(self, to: SendHalf, stream: bool) -> bool {
        match (self, to) {
            (SendHalf::Open, SendHalf::Shut) => true,
            (SendHalf::Shut, SendHalf::FinSent) | (SendHalf::FinSent, SendHalf::FinAcked) => stream,
            (SendHalf::Open, SendHalf::Open | SendHalf::FinSent | SendHalf::FinAcked)
            | (SendHalf::Shut, SendHalf::Open | SendHalf::Shut | SendHalf::FinAcked)
            | (SendHalf::FinSent, SendHalf::Open | SendHalf::Shut | SendHalf::FinSent)
            | (
                SendHalf::FinAcked,
                SendHalf::Open | SendHalf::Shut | SendHalf::FinSent | SendHalf::FinAcked,
            ) => false,
        }
    }
}

impl RecvHalf {
    /// True once the application shut receiving down.
    pub fn is_shut(self) -> bool {
        match self {
            RecvHalf::Open | RecvHalf::FinRcvd => false,
            RecvHalf::Shut | RecvHalf::ShutFinRcvd => true,
        }
    }

    /// True once the peer's FIN arrived.
    pub fn fin_received(self) -> bool {
        match self {
            RecvHalf::Open | RecvHalf::Shut => false,
            RecvHalf::FinRcvd | RecvHalf::ShutFinRcvd => true,
        }
    }

    /// The half after the application shuts it down (unchanged if it already did).
    fn shut(self) -> RecvHalf {
        match self {
            RecvHalf::Open => RecvHalf::Shut,
            RecvHalf::FinRcvd => RecvHalf::ShutFinRcvd,
            RecvHalf::Shut | RecvHalf::ShutFinRcvd => self,
        }
    }

    /// The half after the peer's FIN arrives (unchanged if it did already).
    fn fin(self) -> RecvHalf {
        match self {
            RecvHalf::Open => RecvHalf::FinRcvd,
            RecvHalf::Shut => RecvHalf::ShutFinRcvd,
            RecvHalf::FinRcvd | RecvHalf::ShutFinRcvd => self,
        }
    }

    /// True when `self -> to` is one step of the half: the application shuts it, or (streams)
    /// the peer's FIN arrives.
    fn steps_to(self, to: RecvHalf, stream: bool) -> bool {
        (to != self && self.shut() == to) || (stream && to != self && self.fin() == to)
    }
}

/// True when each half stays or takes one step (`stream`: FIN steps allowed too).
fn halves_step(from: (SendHalf, RecvHalf), to: (SendHalf, RecvHalf), stream: bool) -> bool {
    (from.0 == to.0 || from.0.steps_to(to.0, stream))
        && (from.1 == to.1 || from.1.steps_to(to.1, stream))
}

/// True when each half stays or is shut by the application (a reset, and shutdowns after it).
fn halves_shut(from: (SendHalf, RecvHalf), to: (SendHalf, RecvHalf)) -> bool {
    (to.0 == from.0 || to.0 == from.0.shut()) && (to.1 == from.1 || to.1 == from.1.shut())
}

/// The state machine: true when `from -> to` (two different phases) is a transition for an
/// endpoint of protocol `proto`.
///
/// | from | to | when |
/// |---|---|---|
/// | Open | Open | a datagram socket shuts a half down (SD-4) |
/// | Open, Failed | Listening | `listen` (streams) |
/// | Listening | Listening | `listen` again: a new backlog |
/// | Open, Failed | Connecting | `connect` sent the SYN (streams) |
/// | Open | Connected | a datagram socket's default peer (halves kept) |
/// | Connecting | Connected (halves open) | the SYN-ACK came back |
/// | Connecting | Failed | refused (RST) or timed out |
/// | Failed | Open (halves open) | the failure was reported to the `connect` that waited |
/// | Connected | Connected | a half steps: app shutdown, FIN sent, FIN acked, peer's FIN |
/// | Connected | Reset | reset by the peer, or aborted here (both halves shut) (streams) |
/// | Reset | Reset | the application shuts a half after the reset |
fn is_transition(proto: Proto, from: Phase, to: Phase) -> bool {
    use Phase::{Connected, Connecting, Failed, Listening, Open, Reset};
    let stream = proto == Proto::Stream;
    let fresh = (SendHalf::Open, RecvHalf::Open);
    match (from, to) {
        (Open { send, recv }, Open { send: s, recv: r }) => {
            !stream && halves_step((send, recv), (s, r), false)
        }
        (Open { send, recv }, Listening { .. }) => stream && (send, recv) == fresh,
        (Open { .. }, Connecting) => stream,
        (Open { send, recv }, Connected { send: s, recv: r }) => !stream && (send, recv) == (s, r),
        (Open { .. }, Reset { .. } | Failed(_)) => false,
        (Listening { .. }, Listening { .. }) => true,
        (
            Listening { .. },
            Open { .. } | Connecting | Connected { .. } | Reset { .. } | Failed(_),
        ) => false,
        (Connecting, Connected { send, recv }) => stream && (send, recv) == fresh,
        (Connecting, Failed(_)) => stream,
        (Connecting, Open { .. } | Listening { .. } | Connecting | Reset { .. }) => false,
        (Connected { send, recv }, Connected { send: s, recv: r }) => {
            halves_step((send, recv), (s, r), stream)
        }
        (
            Connected { send, recv },
            Reset {
                send: s, recv: r, ..
            },
        ) => stream && halves_shut((send, recv), (s, r)),
        (Connected { .. }, Open { .. } | Listening { .. } | Connecting | Failed(_)) => false,
        (
            Reset { error, send, recv },
            Reset {
                error: e,
                send: s,
                recv: r,
            },
        ) => error == e && halves_shut((send, recv), (s, r)),
        (
            Reset { .. },
            Open { .. } | Listening { .. } | Connecting | Connected { .. } | Failed(_),
        ) => false,
        (Failed(_), Open { send, recv }) => (send, recv) == fresh,
        (Failed(_), Listening { .. } | Connecting) => stream,
        (Failed(_), Connected { .. } | Reset { .. } | Failed(_)) => false,
    }
}

/// One change in an endpoint's life, as the transport's log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The endpoint was created in this phase (a socket's, or an incoming connection's).
    Created(Phase),
    /// Its phase moved.
    Phase {
        /// The phase it left.
        from: Phase,
        /// The phase it entered.
        to: Phase,
    },
    /// No socket handle refers to it any more (closesocket, cleanup, exit, or its listener
    /// went away before it was accepted).
    Detached,
    /// It had nothing left to do and was removed.
    Removed,
}

impl fmt::Display for SendHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendHalf::Open => "open",
            SendHalf::Shut => "shut",
            SendHalf::FinSent => "FIN sent",
            SendHalf::FinAcked => "FIN acked",
        })
    }
}

impl fmt::Display for RecvHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecvHalf::Open => "open",
            RecvHalf::Shut => "shut",
            RecvHalf::FinRcvd => "FIN received",
            RecvHalf::ShutFinRcvd => "shut, FIN received",
        })
    }
}

/// The halves of a phase that are not open, as ` (send …, recv …)`; nothing when both are.
fn halves_text(send: SendHalf, recv: RecvHalf) -> String {
    match (send, recv) {
        (SendHalf::Open, RecvHalf::Open) => String::new(),
        (SendHalf::Open, r) => format!(" (recv {r})"),
        (s, RecvHalf::Open) => format!(" (send {s})"),
        (s, r) => format!(" (send {s}; recv {r})"),
    }
}

impl fmt::Display for Phase {
    /// The phase as the trace's `Endpoint` events show it: `Connected (send FIN sent)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Phase::Open { send, recv } => write!(f, "Open{}", halves_text(send, recv)),
            Phase::Listening { backlog } => write!(f, "Listening (backlog {backlog})"),
            Phase::Connecting => f.write_str("Connecting"),
            Phase::Connected { send, recv } => {
                write!(f, "Connected{}", halves_text(send, recv))
            }
            Phase::Reset { error, send, recv } => {
                write!(f, "Reset {}{}", error.name(), halves_text(send, recv))
            }
            Phase::Failed(e) => write!(f, "Failed {}", e.name()),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Created(p) => write!(f, "created {p}"),
            Change::Phase { from, to } => write!(f, "{from} -> {to}"),
            Change::Detached => f.write_str("detached from its socket"),
            Change::Removed => f.write_str("removed"),
        }
    }
}

impl fmt::Display for Transition {
    /// `endpoint 3.0 (socket 0x104): Connecting -> Connected`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "endpoint {}", self.endpoint)?;
        if let Some(s) = self.socket {
            write!(f, " (socket {s})")?;
        }
        write!(f, ": {}", self.change)
    }
}

/// A [`Change`] of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The endpoint.
    pub endpoint: EndpointId,
    /// The host it lives on.
    pub host: HostId,
    /// The process that opened it.
    pub origin: ProcessId,
    /// The socket handle that refers (or referred) to it, if one ever did.
    pub socket: Option<Socket>,
    /// What changed.
    pub change: Change,
}

/// A kernel endpoint.
#[derive(Debug)]
pub struct Endpoint {
    /// The host it lives on.
    pub host: HostId,
    /// Stream or datagram.
    pub proto: Proto,
    /// True when the provider carries disconnect data (XP1_DISCONNECT_DATA).
    pub disconnect_data: bool,
    /// The process that opened it.
    pub origin: ProcessId,
    /// The socket handle that refers to it (kept for reports after the socket is closed).
    pub socket: Option<Socket>,
    /// True while a socket handle refers to it (or, for a connection not yet accepted, may).
    attached: bool,
    /// The bound address.
    pub local: Option<SocketAddrV4>,
    /// The socket's address-sharing options when it was bound (OP-4).
    pub share: super::Share,
    /// SO_ERROR already reported the failure of the last connect (OP-6).
    pub error_reported: bool,
    /// The peer's address (streams: once connecting; datagrams: the default peer).
    pub peer_addr: Option<SocketAddrV4>,
    /// Life phase: changed only through `set_phase`.
    phase: Phase,
    /// SO_SNDBUF.
    pub sndbuf: usize,
    /// SO_RCVBUF.
    pub rcvbuf: usize,
    /// The connected peer endpoint (streams).
    pub peer: Option<EndpointId>,
    /// Bytes accepted from the application, not yet transmitted.
    pub send_q: VecDeque<u8>,
    /// Bytes transmitted whose acknowledgement has not come back yet.
    pub unacked: usize,
    /// Overlapped receives pending on the socket (SD-10: they still take data after
    /// SD_RECEIVE).
    pub pending_recvs: usize,
    /// The bytes of buffer those receives posted: data goes into them even when `rcvbuf`
    /// is smaller (`SO_RCVBUF` 0 still receives into a posted buffer, as on Windows).
    pub posted: usize,
    /// Bytes received, not yet read.
    pub recv_q: VecDeque<u8>,
    /// Receive-window bytes promised to packets in flight towards this endpoint.
    pub(super) reserved: usize,
    /// Disconnect data to send with our FIN (SD-3), from the shutdown until the FIN goes.
    pub(super) disc_out: Option<Vec<u8>>,
    /// Disconnect data that came with the peer's FIN, until retrieved (SD-3, SD-9).
    pub disc_in: Option<Vec<u8>>,
    /// Established connections not yet accepted (while listening).
    pub(super) accept_q: VecDeque<EndpointId>,
    /// Datagrams received, not yet read, with their sender and the address they were sent
    /// to.
    pub dgrams: VecDeque<(SocketAddrV4, Vec<u8>, std::net::Ipv4Addr)>,
    /// The arrival time of the last packet this endpoint sent (keeps its packets in order).
    pub(super) last_arrival: Duration,
}

impl Endpoint {
    /// A fresh endpoint in `phase`: attached, unbound, with the given buffer sizes.
    pub(super) fn new(
        host: HostId,
        proto: Proto,
        disconnect_data: bool,
        origin: ProcessId,
        bufs: (usize, usize),
        phase: Phase,
    ) -> Endpoint {
        Endpoint {
            host,
            proto,
            disconnect_data,
            origin,
            socket: None,
            attached: true,
            local: None,
            share: super::Share::default(),
            error_reported: false,
            peer_addr: None,
            phase,
            sndbuf: bufs.0,
            rcvbuf: bufs.1,
            peer: None,
            send_q: VecDeque::new(),
            unacked: 0,
            pending_recvs: 0,
            posted: 0,
            recv_q: VecDeque::new(),
            reserved: 0,
            disc_out: None,
            disc_in: None,
            accept_q: VecDeque::new(),
            dgrams: VecDeque::new(),
            last_arrival: Duration::ZERO,
        }
    }

    /// The one place the phase changes: checks `to` is a transition from the current phase
    /// (panics naming the invariant otherwise) and records it in `log`. Moving to the phase
    /// the endpoint is in already changes and records nothing.
    pub(super) fn set_phase(&mut self, id: EndpointId, to: Phase, log: &mut Vec<Transition>) {
        let from = self.phase;
        if from == to {
            return;
        }
        if !is_transition(self.proto, from, to) {
            panic!(
                "invariant: endpoint phase {from:?} -> {to:?} is not a transition \
                 ({:?} endpoint {id:?})",
                self.proto
            );
        }
        self.phase = to;
        if let Phase::Failed(_) = to {
            self.error_reported = false; // A new failure for SO_ERROR to report (OP-6).
        }
        log.push(self.transition(id, Change::Phase { from, to }));
    }

    /// Detaches the endpoint from its socket handle (once), recording it in `log`.
    pub(super) fn detach(&mut self, id: EndpointId, log: &mut Vec<Transition>) {
        if !self.attached {
            panic!("invariant: an endpoint is detached from its socket once ({id:?})");
        }
        self.attached = false;
        log.push(self.transition(id, Change::Detached));
    }

    /// The record of `change` to this endpoint.
    pub(super) fn transition(&self, id: EndpointId, change: Change) -> Transition {
        Transition {
            endpoint: id,
            host: self.host,
            origin: self.origin,
            socket: self.socket,
            change,
        }
    }

    /// Shuts the sending half (if it has one and it is open): the phase it moves to.
    pub(super) fn send_shut_phase(&self) -> Phase {
        match self.phase.halves() {
            Some((send, recv)) => self.phase.with_halves(send.shut(), recv),
            None => self.phase,
        }
    }

    /// The phase after the application shuts receiving down.
    pub(super) fn recv_shut_phase(&self) -> Phase {
        match self.phase.halves() {
            Some((send, recv)) => self.phase.with_halves(send, recv.shut()),
            None => self.phase,
        }
    }

    /// The phase after the peer's FIN: a live connection's receiving half finishes.
    pub(super) fn fin_rcvd_phase(&self) -> Phase {
        match self.phase {
            Phase::Connected { send, recv } => Phase::Connected {
                send,
                recv: recv.fin(),
            },
            Phase::Open { .. }
            | Phase::Listening { .. }
            | Phase::Connecting
            | Phase::Reset { .. }
            | Phase::Failed(_) => self.phase,
        }
    }

    /// The phase of a connection reset with `error`; `shut`: both halves shut too (an abort).
    /// Only a connection is reset; any other phase stays as it is.
    pub(super) fn reset_phase(&self, error: WsaError, shut: bool) -> Phase {
        match self.phase {
            Phase::Connected { send, recv } if shut => Phase::Reset {
                error,
                send: send.shut(),
                recv: recv.shut(),
            },
            Phase::Connected { send, recv } => Phase::Reset { error, send, recv },
            // Reset already: the first error stays; an abort still shuts the halves.
            Phase::Reset {
                error: first,
                send,
                recv,
            } if shut => Phase::Reset {
                error: first,
                send: send.shut(),
                recv: recv.shut(),
            },
            Phase::Open { .. }
            | Phase::Listening { .. }
            | Phase::Connecting
            | Phase::Reset { .. }
            | Phase::Failed(_) => self.phase,
        }
    }

    /// The phase: where the endpoint is in its life.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// True while a socket handle refers to it; false after closesocket, cleanup or exit.
    pub fn is_attached(&self) -> bool {
        self.attached
    }

    /// `connect` succeeded: a stream's connection exists, even half-closed or reset (calls
    /// then fail with the reset's error); a datagram socket has a default peer.
    pub fn is_connected(&self) -> bool {
        match self.phase {
            Phase::Connected { .. } | Phase::Reset { .. } => true,
            Phase::Open { .. } | Phase::Listening { .. } | Phase::Connecting | Phase::Failed(_) => {
                false
            }
        }
    }

    /// A stream connection that exists and was not reset.
    pub fn is_live_stream(&self) -> bool {
        self.proto == Proto::Stream && matches!(self.phase, Phase::Connected { .. })
    }

    /// True while listening.
    pub fn is_listening(&self) -> bool {
        matches!(self.phase, Phase::Listening { .. })
    }

    /// The application shut sending down (or an abort did).
    pub fn is_send_shut(&self) -> bool {
        self.phase.halves().is_some_and(|(send, _)| send.is_shut())
    }

    /// The application shut receiving down (or an abort did).
    pub fn is_recv_shut(&self) -> bool {
        self.phase.halves().is_some_and(|(_, recv)| recv.is_shut())
    }

    /// The peer's FIN arrived: reads return 0 once the receive queue is empty.
    pub fn fin_received(&self) -> bool {
        self.phase
            .halves()
            .is_some_and(|(_, recv)| recv.fin_received())
    }

    /// The error calls fail with after a reset or abort.
    pub fn reset_error(&self) -> Option<WsaError> {
        match self.phase {
            Phase::Reset { error, .. } => Some(error),
            Phase::Open { .. }
            | Phase::Listening { .. }
            | Phase::Connecting
            | Phase::Connected { .. }
            | Phase::Failed(_) => None,
        }
    }

    /// Why the last connection attempt failed, while that is the phase.
    pub fn failure(&self) -> Option<WsaError> {
        match self.phase {
            Phase::Failed(e) => Some(e),
            Phase::Open { .. }
            | Phase::Listening { .. }
            | Phase::Connecting
            | Phase::Connected { .. }
            | Phase::Reset { .. } => None,
        }
    }

    /// Established connections waiting for `accept`.
    pub fn pending_accepts(&self) -> usize {
        self.accept_q.len()
    }

    /// The one definition of "writable", for `select`'s write set and FD_WRITE alike: a send
    /// would not block now. A datagram socket always is; a stream is once connected (a reset
    /// connection too: its sends fail at once) while its send buffer has room. Shutting
    /// sending down does not change it: the next send fails `WSAESHUTDOWN` at once (win:
    /// Wine's AFD poll tests, run on Windows, still see `AFD_POLL_WRITE` on a client after
    /// `shutdown(SD_SEND)`).
    pub fn writable(&self) -> bool {
        match (self.proto, self.phase) {
            (Proto::Datagram, _) => true,
            (Proto::Stream, Phase::Connected { .. } | Phase::Reset { .. }) => {
                self.send_q.len() < self.sndbuf.max(1)
            }
            (
                Proto::Stream,
                Phase::Open { .. } | Phase::Listening { .. } | Phase::Connecting | Phase::Failed(_),
            ) => false,
        }
    }

    /// True while data handed to Winsock has not been acknowledged by the peer: queued, in
    /// flight, or a FIN not yet acknowledged after a shutdown.
    pub fn unsent(&self) -> bool {
        !self.send_q.is_empty() || self.unacked > 0
    }

    /// CS-4: everything sent and acknowledged, FIN included (or the connection is gone).
    pub fn drained(&self) -> bool {
        match self.phase {
            Phase::Reset { .. } => true,
            Phase::Connected { send, .. } => !self.unsent() && send == SendHalf::FinAcked,
            Phase::Open { .. } | Phase::Listening { .. } | Phase::Connecting | Phase::Failed(_) => {
                false
            }
        }
    }

    /// A stream with nothing left to do on the wire: reset, or both FINs exchanged and every
    /// byte out (what a detached connection waits for before it is removed).
    pub(super) fn finished(&self) -> bool {
        match self.phase {
            Phase::Reset { .. } => true,
            Phase::Connected { send, recv } => {
                matches!(send, SendHalf::FinSent | SendHalf::FinAcked)
                    && recv.fin_received()
                    && self.send_q.is_empty()
            }
            Phase::Open { .. } | Phase::Listening { .. } | Phase::Connecting | Phase::Failed(_) => {
                false
            }
        }
    }

    /// Bytes that can be read now (streams) or the size of the next datagram.
    pub fn readable_bytes(&self) -> usize {
        match self.proto {
            Proto::Stream => self.recv_q.len(),
            Proto::Datagram => self.dgrams.front().map_or(0, |d| d.1.len()),
        }
    }
}
