//! The reference model: what SPEC.md says a sequential Winsock program returns, step by
//! step, written independently of the simulator so each can check the other.
//!
//! [`ModelState`] holds what the rules need: per process the startup count ([ST-4],
//! [CL-2]), the main thread's last error ([TH-1]), its sockets by slot and its overlapped
//! operations; per socket its type, liveness, linger options ([CS-8]), local address and
//! connection (listening with its queue, or connected with the bytes sent to it, on their way
//! or arrived, and the shutdown states of both ends); every handle any process was given
//! ([CS-1]).
//! [`ModelState::apply`] takes one [`Step`] and predicts its [`Outcome`] ([`Expected`]).
//! [`check_program`] runs a saved program through the model and the simulator side by side
//! and reports the first step where they disagree.
//!
//! With the `proptest` feature, `Model` is the model as a proptest-state-machine
//! `ReferenceStateMachine` (it generates the steps and shrinks them) and `SimTest` the
//! simulator as its `StateMachineTest`: a failing case is shrunk, and the shrunk program is
//! saved as JSON for [`check_program`] to replay.
//!
//! The model covers the calls and options below, in the situations where SPEC.md fixes the
//! result whatever the schedule; where it does not (a receive while bytes may still be in
//! flight, an accept with nothing queued, a port some socket used before, the peer of a
//! reset connection), [`ModelState::predicts`] says no, and the state machine does not draw
//! that step. Not modelled: datagram data, non-blocking connects, completion routines and
//! ports, process endings and faults. Programs with those run
//! ([`Program::run`](crate::testing::program::Program::run)) and are checked by invariants
//! ([`check_invariants`](crate::testing::check_invariants), which also balances CL-7's
//! stream books: every byte sent is read, lost or still held), differential runs and tests of
//! their own.
//!
//! | op | rules |
//! |---|---|
//! | `Startup` | ST-1 (negotiation), ST-4 (count), the last error untouched |
//! | `Cleanup` | CL-1, CL-2, CL-3, CL-6/CL-8 (the final one closes every socket; its peers are not followed after) |
//! | `Socket` | ER-1, SP-11 (catalog match), ER-4, CS-1 (a fresh handle) |
//! | `Close` | ER-1, ER-2 (stale, foreign, made-up handles), CS-1; a graceful close is a FIN at the peer |
//! | `GetOption`, `SetOption`, `SetLinger` (`SOL_SOCKET`: `SO_TYPE`, `SO_LINGER`, `SO_DONTLINGER`, unknown names and levels, short and NULL buffers) | ER-3, CS-8 |
//! | `Bind` | WSAEINVAL when bound, WSAEADDRINUSE for a port a live socket of the host holds (per protocol) |
//! | `Listen` | WSAEINVAL unbound, WSAEOPNOTSUPP for datagrams, WSAEISCONN connected, a new backlog when listening |
//! | `Connect` (blocking, stream) | WSAECONNREFUSED with no listener or a full backlog, WSAEISCONN, WSAEINVAL on a listener |
//! | `Accept` | the queued connections in order (options inherited from the listener), WSAEINVAL not listening, WSAEOPNOTSUPP for datagrams |
//! | `Send`, `Recv` | exactly the bytes sent, in order, once arrived; WSAENOTCONN, WSAESHUTDOWN after `SD_SEND`; 0 after the peer's FIN |
//! | `Shutdown`, `SendDisconnect`, `RecvDisconnect` | WSAEINVAL for an unknown `how` (SD-10); `SD_SEND` and `WSASendDisconnect(NULL)` send a FIN (SD-1, SD-8); TCP has no disconnect data (WSAENOPROTOOPT, SD-2, SD-9); the disconnect-data provider's travels with the close and `WSARecvDisconnect` returns it (WSAEFAULT when it does not fit, SD-3, SD-9); receives after it fail WSAESHUTDOWN (SD-10) |
//! | `RecvOverlapped`, `SendOverlapped`, `WaitOverlapped` (timeout 0) | OV-1 (completes at once with data there, else `WSA_IO_PENDING` and completes with the first bytes to arrive, 0 after a FIN), OV-2, CL-5 (the final cleanup forgets them: the wait fails WSANOTINITIALISED), `WSA_WAIT_TIMEOUT` while pending; CL-8 counts each event and pending operation |
//! | `SetNonBlocking` | `accept` with nothing queued and `recv` with nothing there fail WSAEWOULDBLOCK at once; an accepted socket takes the listener's mode |
//! | `Sleep` | virtual time: after 10 ms everything in flight has arrived |
//!
//! [ST-4]: crate::rules#st-4
//! [CL-2]: crate::rules#cl-2
//! [TH-1]: crate::rules#th-1
//! [CS-8]: crate::rules#cs-8
//! [CS-1]: crate::rules#cs-1

#[cfg(feature = "proptest")]
mod mix;
mod predict;
mod predict_net;
mod predict_ops;
#[cfg(feature = "proptest")]
mod state_machine;

use std::collections::BTreeMap;

#[cfg(feature = "proptest")]
pub use mix::{Balanced, CleanupHeavy, ConnectionHeavy, Mix, OptionHeavy, Weights};
pub use predict::{check_program, Mismatch, KNOWN_LEVELS, KNOWN_OPTIONS};
#[cfg(feature = "proptest")]
pub use state_machine::{saved_program_path, Model, SimTest, SimUnderTest, Subject};

use super::program::{Handle, Outcome, ProcessSpec, Step};

/// What the model predicts a step returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this outcome.
    Exactly(Outcome),
    /// A handle never given out before in the simulation ([CS-1]), with the last error
    /// `error` after the call: the model cannot know which value the simulator picks.
    ///
    /// [CS-1]: crate::rules#cs-1
    NewHandle {
        /// The last error after the call.
        error: i32,
    },
}

/// One socket the model knows, by the order it was made in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketModel {
    /// The process that owns it.
    pub process: usize,
    /// `SO_TYPE`.
    pub ty: i32,
    /// Open (not closed, not taken by a final cleanup).
    pub live: bool,
    /// `l_onoff` as last set ([CS-8]).
    ///
    /// [CS-8]: crate::rules#cs-8
    pub onoff: u16,
    /// `l_linger` as last set.
    pub seconds: u16,
    /// Made from the disconnect-data provider's entry (`IPPROTO_WS2SIM_DISCONNECT_DATA`), or
    /// accepted on such a listener.
    pub disconnect_data: bool,
    /// Non-blocking (`ioctlsocket(FIONBIO)`): a call that would wait fails WSAEWOULDBLOCK.
    pub nonblocking: bool,
    /// Its local address.
    pub bound: Bound,
    /// Where its connection is.
    pub conn: Conn,
}

/// A socket's local address, as far as the model knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Not bound.
    No,
    /// Bound to this port of its host (`bind`, or the listener's port for an accepted socket).
    Port(u16),
    /// Bound to a port the system chose (`bind` to port 0, an implicit bind by `connect`).
    Any,
    /// Not known (after a refused `connect`).
    Unknown,
}

/// A socket's connection, as far as the model knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    /// Neither listening nor connected.
    Fresh,
    /// Listening: `queue` holds the connections made to it and not accepted yet (sockets by
    /// index, owned by the listener's process, not live until accepted).
    Listening {
        /// The backlog `listen` was given.
        backlog: usize,
        /// The connections waiting for `accept`.
        queue: Vec<usize>,
    },
    /// A connected stream socket.
    Connected(Stream),
    /// Connected somehow the model does not follow (a datagram socket's default peer, a peer
    /// that reset the connection): only closing it is predicted.
    Unknown,
}

/// One end of a connection the model follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// The socket at the other end.
    pub peer: usize,
    /// Bytes the peer sent that arrived and this end has not read yet.
    pub inbox: Vec<u8>,
    /// Bytes the peer sent that may still be on their way, by the epoch they were sent in
    /// (virtual time moves between epochs: a pending receive completes with the first).
    pub arriving: Vec<(u64, Vec<u8>)>,
    /// The overlapped receive waiting on this end (by index into [`ModelState::ops`]).
    pub pending: Option<usize>,
    /// Bytes or a FIN may still be on their way here (cleared by a `Sleep` of 10 ms or more:
    /// every link's latency is below that).
    pub in_flight: bool,
    /// The peer shut down its sending side (or closed gracefully): after `inbox`, `recv` 0.
    pub peer_fin: bool,
    /// The peer's socket is closed.
    pub peer_closed: bool,
    /// This end shut down sending (`SD_SEND`).
    pub shut_send: bool,
    /// This end shut down receiving (`WSARecvDisconnect`).
    pub shut_recv: bool,
    /// The peer shut down receiving: what this end sends would reset the connection (SD-11).
    pub peer_shut_recv: bool,
    /// The disconnect data the peer's close carries (SD-3), once it arrives with the FIN.
    pub disconnect: Option<Vec<u8>>,
}

/// An overlapped operation the model follows (`RecvOverlapped`, `SendOverlapped`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpModel {
    /// The process that started it.
    pub process: usize,
    /// Its socket (by index into [`ModelState::sockets`]); `None`: the handle named none.
    pub socket: Option<usize>,
    /// The buffer's length.
    pub len: u32,
    /// Where it is.
    pub state: OpState,
}

/// Where an overlapped operation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpState {
    /// Waiting for data.
    Pending,
    /// Completed: the bytes a receive got, or the count a send took.
    Received(Vec<u8>),
    /// Completed: a send of this many bytes.
    Sent(u32),
    /// The call failed; its event is never set.
    Failed,
    /// Taken by the final `WSACleanup` (CL-5: no completion); its event went with it.
    Forgotten,
    /// Not followed (its socket closed under it, made before a startup).
    Unknown,
}

/// One process as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessModel {
    /// The startup count ([ST-4], [CL-2]).
    ///
    /// [ST-4]: crate::rules#st-4
    /// [CL-2]: crate::rules#cl-2
    pub count: u32,
    /// The main thread's last error ([TH-1]).
    ///
    /// [TH-1]: crate::rules#th-1
    pub last_error: i32,
    /// Slot → socket (by index into [`ModelState::sockets`]); `None`: the slot holds
    /// `INVALID_SOCKET` (a `Socket` that failed).
    pub slots: BTreeMap<u8, Option<usize>>,
    /// Overlapped operation number → operation (by index into [`ModelState::ops`]).
    pub ops: BTreeMap<u8, usize>,
    /// Events made for overlapped operations since the last final cleanup (the runner never
    /// closes them).
    pub events: usize,
    /// An operation may still be pending where the model does not follow it (its
    /// connection was reset): the resource count is not known until the final cleanup.
    pub resources_unknown: bool,
}

/// The model's state: processes, sockets, and the prediction for the last step applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelState {
    /// The simulation's seed (sequential programs rarely depend on it; replays use it).
    pub seed: u64,
    /// The processes, as the program lists them.
    pub specs: Vec<ProcessSpec>,
    /// Each process's state.
    pub processes: Vec<ProcessModel>,
    /// Every socket ever made, in order.
    pub sockets: Vec<SocketModel>,
    /// The sockets in the order their handles were given out (what [`Handle::Seen`] indexes).
    pub seen: Vec<usize>,
    /// Every overlapped operation started, in order.
    pub ops: Vec<OpModel>,
    /// Virtual time's epoch: it moves on with every step that lets time pass (a sleep, a
    /// blocking connect).
    pub epoch: u64,
    /// The prediction for the last step applied.
    pub expected: Option<Expected>,
    /// Steps applied so far.
    pub steps: usize,
}

/// What a [`Handle`] names, in the model's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// A socket the model knows.
    Socket(usize),
    /// No handle any process was given (0, `INVALID_SOCKET`, a made-up value).
    Nothing,
}

impl ModelState {
    /// A fresh state for `specs` (no process has started Winsock).
    pub fn new(seed: u64, specs: Vec<ProcessSpec>) -> ModelState {
        ModelState {
            seed,
            processes: vec![ProcessModel::default(); specs.len()],
            specs,
            sockets: Vec::new(),
            seen: Vec::new(),
            ops: Vec::new(),
            epoch: 0,
            expected: None,
            steps: 0,
        }
    }

    fn named(&self, process: usize, h: Handle) -> Named {
        match h {
            Handle::Slot(s) => match self.processes[process].slots.get(&s) {
                Some(Some(id)) => Named::Socket(*id),
                Some(None) | None => Named::Nothing,
            },
            Handle::Seen(_) if self.seen.is_empty() => Named::Nothing,
            Handle::Seen(i) => Named::Socket(self.seen[usize::from(i) % self.seen.len()]),
            Handle::Raw(_) => Named::Nothing,
        }
    }

    /// The socket `h` names if it is live in `process` (ER-2: a handle of another process,
    /// closed, or from before a final cleanup is not a socket there).
    fn live(&self, process: usize, h: Handle) -> Option<usize> {
        match self.named(process, h) {
            Named::Socket(id) if self.sockets[id].live && self.sockets[id].process == process => {
                Some(id)
            }
            Named::Socket(_) | Named::Nothing => None,
        }
    }

    /// CL-8's count for process `p`: its live sockets, its events and its pending
    /// operations; `None` when an operation the model stopped following may be pending.
    pub fn live_resources(&self, p: usize) -> Option<usize> {
        let pm = &self.processes[p];
        if pm.resources_unknown {
            return None;
        }
        let sockets = self
            .sockets
            .iter()
            .filter(|s| s.live && s.process == p)
            .count();
        let pending: Vec<&OpModel> = self
            .ops
            .iter()
            .filter(|op| op.process == p && op.state == OpState::Pending)
            .collect();
        // A pending receive with something on its way may have completed already.
        let arriving = pending.iter().any(|op| {
            op.socket.is_some_and(
                |s| matches!(&self.sockets[s].conn, Conn::Connected(st) if st.in_flight),
            )
        });
        if arriving {
            return None;
        }
        let pending = pending.len();
        Some(sockets + pm.events + pending)
    }

    /// Whether the model predicts `step`'s outcome in this state (applying it).
    pub fn predicts(&mut self, step: &Step) -> bool {
        self.apply(step);
        self.expected.is_some()
    }

    /// Applies `step`, storing the prediction in [`ModelState::expected`] (`None`: the model
    /// does not cover the op, or the step names no process of the program).
    pub fn apply(&mut self, step: &Step) {
        self.expected = predict::predict(self, step);
        self.steps += 1;
    }
}
