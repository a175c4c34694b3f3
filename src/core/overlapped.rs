//! Overlapped I/O: pending WSASend/WSARecv operations per socket, their completion (event,
//! completion routine, completion port), WSAGetOverlappedResult, completion ports, and what
//! closesocket (CS-6) and the final cleanup (CL-5) do to them.
//!
//! The core never sees the caller's memory for an overlapped operation: it carries an opaque
//! token made by `sys` and hands it back in a [`Completion`], which the harness applies (data
//! into the buffers, status into the `OVERLAPPED`) and whose routine it queues as an APC.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddrV4;

use super::events::EventHandle;
use super::providers::accept_ex::{Ex2, Ex2Step};
use super::providers::connect_ex::Ex3;
use super::providers::net::{Sd10, Sd12};
use super::rules::Rule;
use super::transport::{EndpointId, Proto};
use super::ws2::table::{Key, Socket};
use super::{Block, Cx, Machine, ProcessId, Profile, Reply, Stop, ThreadId};
use crate::error::WsaError;

/// Where a completed operation's outcome goes in the caller's memory: written by the layer
/// that started the operation (`sys`: the caller's buffers and `OVERLAPPED`; `api`: a buffer
/// the operation owns). The core hands it the outcome and never looks inside.
pub trait Sink: Send {
    /// Marks the operation as started (OV-1): `sys` writes `STATUS_PENDING` into the
    /// `OVERLAPPED`. Called once the operation is accepted, before it can complete: a call
    /// refused by a check (ER-1, ER-2, ER-3) leaves the caller's record alone.
    fn pending(&self);

    /// Writes the outcome: `data` into the buffers, `from` as the sender, `result` as the
    /// status.
    fn write(&self, result: Result<u32, WsaError>, data: &[u8], from: Option<SocketAddrV4>);

    /// An overlapped `WSARecvMsg`'s control data and flags (EX-5), written before
    /// [`Sink::write`]. Memory without a `WSAMSG` ignores them.
    fn write_message(&self, _control: &[u8], _flags: u32) {}
}

/// The caller's memory an operation writes when it completes ([`Sink`]).
pub struct Memory(pub Box<dyn Sink>);

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memory(..)")
    }
}

/// A completion routine the application passed (OV-4), as the layer that took it made it
/// callable: `(dwError, cbTransferred, dwFlags)`; it knows its own `OVERLAPPED`.
#[derive(Clone)]
pub struct Routine(pub std::sync::Arc<dyn Fn(u32, u32, u32) + Send + Sync>);

impl std::fmt::Debug for Routine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Routine(..)")
    }
}

/// Memory owned by an operation started through the safe API: the completion fills it, no
/// pointers involved.
#[derive(Debug, Default)]
pub struct Owned {
    /// The outcome, once completed.
    pub result: Option<Result<u32, WsaError>>,
    /// The bytes received.
    pub data: Vec<u8>,
    /// The sender (receives on datagram sockets).
    pub from: Option<SocketAddrV4>,
}

/// The shared handle of an [`Owned`] buffer.
pub type OwnedMemory = std::sync::Arc<std::sync::Mutex<Owned>>;

impl Sink for OwnedMemory {
    /// The safe API's memory has no record: `result` stays `None` until the completion.
    fn pending(&self) {}

    fn write(&self, result: Result<u32, WsaError>, data: &[u8], from: Option<SocketAddrV4>) {
        let mut o = self.lock().unwrap_or_else(|e| e.into_inner());
        o.result = Some(result);
        o.data = data.to_vec();
        o.from = from;
    }
}

impl Completion {
    /// Writes the outcome into the caller's memory.
    pub fn write_memory(&self) {
        if let Some(m) = &self.message {
            self.memory.0.write_message(&m.control, m.flags);
        }
        self.memory.0.write(self.result, &self.data, self.from);
    }
}

/// An overlapped operation, unique in its simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(u64);

/// An overlapped send's bytes: their count is known at once, but they are read from the
/// caller's buffers only when the operation is accepted, so a datagram too large for the
/// protocol fails `WSAEMSGSIZE` (OP-7) before any byte is copied.
pub struct Payload {
    len: usize,
    bytes: Unread,
}

enum Unread {
    /// Read already (or never in the caller's memory).
    Bytes(Vec<u8>),
    /// Reads the buffers: made by `sys` from the `WSABUF` array.
    Later(Box<dyn FnOnce() -> Vec<u8> + Send>),
}

impl Payload {
    /// Bytes the caller handed over as they are.
    pub fn bytes(data: Vec<u8>) -> Payload {
        Payload {
            len: data.len(),
            bytes: Unread::Bytes(data),
        }
    }

    /// `len` bytes that `read` gathers from the caller's buffers when they are needed; `read`
    /// must return exactly `len` bytes.
    pub fn later(len: usize, read: Box<dyn FnOnce() -> Vec<u8> + Send>) -> Payload {
        Payload {
            len,
            bytes: Unread::Later(read),
        }
    }

    /// How many bytes the send carries (read or not).
    pub fn len(&self) -> usize {
        self.len
    }

    /// The bytes, read from the caller's buffers now if they were not yet.
    pub fn read(&mut self) -> &[u8] {
        if let Unread::Later(_) = self.bytes {
            let Unread::Later(read) = std::mem::replace(&mut self.bytes, Unread::Bytes(Vec::new()))
            else {
                unreachable!("matched above")
            };
            self.bytes = Unread::Bytes(read());
        }
        match &self.bytes {
            Unread::Bytes(b) => b,
            Unread::Later(_) => unreachable!("read above"),
        }
    }

    /// Takes the bytes (reading them now if they were not yet); [`len`](Payload::len) keeps
    /// the count.
    pub fn take(&mut self) -> Vec<u8> {
        self.read();
        match std::mem::replace(&mut self.bytes, Unread::Bytes(Vec::new())) {
            Unread::Bytes(b) => b,
            Unread::Later(_) => unreachable!("read above"),
        }
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Payload({} bytes)", self.len)
    }
}

/// What an overlapped operation does.
#[derive(Debug)]
pub enum OpKind {
    /// WSASend / WSASendTo: these bytes (to this address for an unconnected datagram socket).
    Send {
        /// The bytes of the buffers, read once the operation is accepted.
        data: Payload,
        /// WSASendTo's destination.
        to: Option<SocketAddrV4>,
    },
    /// WSARecv / WSARecvFrom into buffers holding `capacity` bytes.
    Recv {
        /// The buffers' total size.
        capacity: usize,
        /// `WSARecvMsg`: the room in `WSAMSG.Control` (`None`: another function).
        control: Option<usize>,
    },
    /// An overlapped `WSAIoctl` (EX-1): it has done its work when the call returns, and
    /// only its completion is indicated.
    Control,
    /// `ConnectEx` (EX-3): a connection to the address in `to` (a `SOCKADDR` as passed), then
    /// `data` sent on it; completes with `data`'s length once connected.
    Connect {
        /// The `SOCKADDR` bytes, decoded by the provider.
        to: Vec<u8>,
        /// `lpSendBuffer`'s bytes.
        data: Vec<u8>,
    },
    /// `AcceptEx` (EX-2), an operation of the listening socket: its next connection becomes
    /// `accept`'s, and the first data and both addresses go into the output buffer.
    Accept {
        /// `sAcceptSocket`.
        accept: Socket,
        /// The output buffer's three parts.
        lengths: AcceptLengths,
        /// The connection taken for it while it waits for the first data.
        taken: Option<EndpointId>,
    },
    /// `DisconnectEx` (EX-4): a graceful close of the sending half that completes when the
    /// close does.
    Disconnect {
        /// `dwFlags`: `TF_REUSE_SOCKET` (or 0); anything else fails `WSAEINVAL`.
        flags: u32,
        /// `dwReserved`: must be 0.
        reserved: u32,
        /// `lpOverlapped` was NULL: the call itself waits, and no completion is indicated.
        blocking: bool,
    },
}

/// `AcceptEx`'s `dwReceiveDataLength`, `dwLocalAddressLength` and `dwRemoteAddressLength`:
/// the output buffer holds the first data, then the local address, then the remote one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptLengths {
    /// Room for the first data (0: complete as soon as a connection is accepted).
    pub data: u32,
    /// Room for the local address.
    pub local: u32,
    /// Room for the remote address.
    pub remote: u32,
}

impl AcceptLengths {
    /// The output buffer's size.
    pub fn total(self) -> usize {
        self.data as usize + self.local as usize + self.remote as usize
    }
}

/// A WSASend/WSARecv call with an `OVERLAPPED`.
#[derive(Debug)]
pub struct OpRequest {
    /// What to do.
    pub kind: OpKind,
    /// The `OVERLAPPED`'s address: identifies the operation for WSAGetOverlappedResult.
    pub key: usize,
    /// `hEvent` (`None`: NULL).
    pub event: Option<EventHandle>,
    /// The completion routine (`None`: NULL).
    pub routine: Option<Routine>,
    /// The caller's memory the completion writes.
    pub memory: Memory,
}

impl OpRequest {
    /// A call that waits for its work itself, with no `OVERLAPPED` (a blocking
    /// `DisconnectEx`): no record, no event, no routine. A blocked call is made again when it
    /// may go on, so the request it passes each time is made anew from its arguments.
    pub fn without_record(kind: OpKind) -> OpRequest {
        OpRequest {
            kind,
            key: 0,
            event: None,
            routine: None,
            memory: Memory(Box::new(NoRecord)),
        }
    }

    /// The request of a call that itself waits (see [`OpRequest::without_record`]) made
    /// again: the same request.
    pub fn again(&self) -> Option<OpRequest> {
        match self.kind {
            OpKind::Disconnect {
                flags,
                reserved,
                blocking: true,
            } => Some(OpRequest::without_record(OpKind::Disconnect {
                flags,
                reserved,
                blocking: true,
            })),
            OpKind::Disconnect { .. }
            | OpKind::Send { .. }
            | OpKind::Recv { .. }
            | OpKind::Control
            | OpKind::Connect { .. }
            | OpKind::Accept { .. } => None,
        }
    }
}

/// The memory of a call with no `OVERLAPPED`: nothing to write.
struct NoRecord;

impl Sink for NoRecord {
    fn pending(&self) {}

    fn write(&self, _: Result<u32, WsaError>, _: &[u8], _: Option<SocketAddrV4>) {}
}

/// A pending operation.
#[derive(Debug)]
struct Pending {
    process: ProcessId,
    thread: ThreadId,
    socket: Socket,
    req: OpRequest,
}

/// A completed operation, for the harness to apply: copy `data` into the buffers and the
/// status into the `OVERLAPPED`, then (when `routine` is set) queue the routine as an APC to
/// `thread`.
#[derive(Debug)]
pub struct Completion {
    /// The issuing process.
    pub process: ProcessId,
    /// The issuing thread.
    pub thread: ThreadId,
    /// The socket.
    pub socket: Socket,
    /// Bytes transferred, or the error.
    pub result: Result<u32, WsaError>,
    /// Received bytes for the buffers.
    pub data: Vec<u8>,
    /// WSARecvFrom's sender.
    pub from: Option<SocketAddrV4>,
    /// An overlapped `WSARecvMsg`'s control data and flags (EX-5).
    pub message: Option<crate::core::call::MsgOut>,
    /// The completion routine to queue (None: none, or not notified: CL-5).
    pub routine: Option<Routine>,
    /// The `OVERLAPPED`'s address: which operation this is (the core's tests tell completions
    /// apart by it; the harness needs only the memory).
    #[cfg_attr(not(test), allow(dead_code))]
    pub key: usize,
    /// The caller's memory.
    pub memory: Memory,
}

/// A completion port handle (`HANDLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortHandle(isize);

impl PortHandle {
    /// The handle with this raw value (valid or not).
    pub const fn from_raw(raw: isize) -> PortHandle {
        PortHandle(raw)
    }

    /// The raw `HANDLE` value.
    pub const fn raw(self) -> isize {
        self.0
    }
}

impl Key for PortHandle {
    fn encode(generation: u64, slot: usize) -> Self {
        PortHandle(Socket::encode(generation, slot).raw() as isize)
    }

    fn decode(self) -> Option<(u64, usize)> {
        Socket::from_raw(self.0 as usize).decode()
    }
}

impl std::fmt::Display for PortHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// One completion packet, as [`CompletionPort::get`](crate::api::CompletionPort::get) returns
/// it (the [`CompletionPort`](crate::api::CompletionPort) example shows one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    /// Bytes transferred.
    pub bytes: u32,
    /// The completion key of the socket's association.
    pub key: usize,
    /// The `OVERLAPPED`'s address.
    pub overlapped: usize,
    /// The operation's error, if it failed.
    pub error: Option<WsaError>,
}

/// A completion port's queue.
#[derive(Debug, Default)]
pub struct PortState {
    /// Packets not yet dequeued, oldest first.
    pub packets: VecDeque<Packet>,
}

/// NTSTATUS values Windows stores in `OVERLAPPED.Internal`.
pub mod status {
    /// The operation is still pending.
    pub const PENDING: usize = 0x103;
    /// Success.
    pub const SUCCESS: usize = 0;
}

/// The NTSTATUS values used, with the error each stands for (OV-5's status map). The first
/// entry of an error is the one written for it.
const NTSTATUS: [(u32, WsaError); 11] = [
    (0xC000_00BB, WsaError::OperationNotSupported), // STATUS_NOT_SUPPORTED
    (0xC000_0120, WsaError::OperationAborted),      // STATUS_CANCELLED
    (0xC000_020D, WsaError::ConnectionReset),       // STATUS_CONNECTION_RESET
    (0xC000_0241, WsaError::ConnectionAborted),     // STATUS_CONNECTION_ABORTED
    (0x8000_0005, WsaError::MessageSize),           // STATUS_BUFFER_OVERFLOW
    (0xC000_0237, WsaError::Disconnected),          // STATUS_GRACEFUL_DISCONNECT
    (0xC000_023C, WsaError::NetworkDown),           // STATUS_NETWORK_UNREACHABLE
    (0xC000_020C, WsaError::Shutdown),              // STATUS_CONNECTION_DISCONNECTED
    (0xC000_013B, WsaError::ConnectionAborted),     // STATUS_LOCAL_DISCONNECT
    (0xC000_013C, WsaError::ConnectionReset),       // STATUS_REMOTE_DISCONNECT
    (0xC000_0023, WsaError::Fault),                 // STATUS_BUFFER_TOO_SMALL (EX-2)
];

/// `NTSTATUS_FROM_WIN32`: the NTSTATUS of facility `FACILITY_NTWIN32` carrying a Win32 (or
/// Winsock) error code in its low 16 bits.
const FROM_WIN32: usize = 0xC007_0000;

/// The error an NTSTATUS in `OVERLAPPED.Internal` stands for (`None`: success or pending).
/// An NTSTATUS that stands for no error the simulator reports reads as
/// `WSA_INVALID_PARAMETER`.
pub fn error_of_ntstatus(status: usize) -> Option<WsaError> {
    match status {
        status::SUCCESS | status::PENDING => None,
        s if s & !0xFFFF == FROM_WIN32 => {
            Some(WsaError::from_code((s & 0xFFFF) as i32).unwrap_or(WsaError::InvalidParameter))
        }
        s => Some(
            NTSTATUS
                .iter()
                .find(|(c, _)| *c as usize == s)
                .map_or(WsaError::InvalidParameter, |(_, e)| *e),
        ),
    }
}

/// The NTSTATUS Windows stores in `OVERLAPPED.Internal` for an outcome: an error without an
/// NTSTATUS of its own is stored as `NTSTATUS_FROM_WIN32(code)`, so that reading the record
/// ([`error_of_ntstatus`]) gives back exactly the error (`WSAENETRESET`, `WSAETIMEDOUT`, ...).
pub fn ntstatus(result: Result<u32, WsaError>) -> usize {
    match result {
        Ok(_) => status::SUCCESS,
        Err(e) => NTSTATUS
            .iter()
            .find(|(_, x)| *x == e)
            .map_or(FROM_WIN32 | (e.code() as usize & 0xFFFF), |(c, _)| {
                *c as usize
            }),
    }
}

/// What a record's `(Internal, InternalHigh)` answers, for `WSAGetOverlappedResult` (OV-5) and
/// kernel32 `GetOverlappedResult` (EX-7) alike: still `STATUS_PENDING` → `WSA_IO_INCOMPLETE`,
/// or with `wait` a wait (in `what`) until the record changes; `STATUS_SUCCESS` → the byte
/// count; another status → its error.
fn answer_of_record(
    (internal, bytes): (usize, usize),
    wait: bool,
    what: &'static str,
) -> Result<Reply, Stop> {
    match (internal, error_of_ntstatus(internal)) {
        (status::PENDING, _) if wait => Err(Stop::Block(Block {
            deadline: None,
            what,
            socket: None,
        })),
        (status::PENDING, _) => Err(WsaError::IoIncomplete.into()),
        (_, Some(e)) => Err(e.into()),
        (_, None) => Ok(Reply::Count(bytes as u32)),
    }
}

/// The overlapped state of a simulation.
#[derive(Debug, Default)]
pub struct Overlapped {
    next: u64,
    pending: BTreeMap<OpId, Pending>,
    /// Per socket, pending receives and sends in posting order (OV-7).
    recvs: BTreeMap<Socket, VecDeque<OpId>>,
    sends: BTreeMap<Socket, VecDeque<OpId>>,
    /// Per socket, its pending extension operations in posting order: `ConnectEx` (EX-3),
    /// `DisconnectEx` (EX-4), and on a listener its `AcceptEx`s (EX-2).
    extensions: BTreeMap<Socket, VecDeque<OpId>>,
    /// The accept sockets of the pending `AcceptEx`s (EX-2: one at a time).
    accept_sockets: BTreeSet<(ProcessId, Socket)>,
    /// The last outcome of each `OVERLAPPED` address: whether an operation completed at once,
    /// and the answer of `WSAGetOverlappedResult` for the safe API's operations (no record).
    finished: BTreeMap<usize, Result<u32, WsaError>>,
    completions: Vec<Completion>,
    /// OV-2's books: operations made pending, completed, and forgotten with their process.
    books: Books,
}

/// How many operations were made pending, completed (with or without their completion
/// action), and forgotten because their process's memory went away (OV-2: started =
/// completed + forgotten + still pending).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Books {
    /// Made pending (`register` counts them).
    pub started: u64,
    /// Completed, each once.
    pub completed: u64,
    /// Forgotten with their process (it exited: no memory to complete into).
    pub forgotten: u64,
}

impl Overlapped {
    /// EX-2: whether a pending `AcceptEx` names `s` as its accept socket.
    pub(in crate::core) fn is_accept_socket(&self, p: ProcessId, s: Socket) -> bool {
        self.accept_sockets.contains(&(p, s))
    }

    /// OV-2's books, and how many operations are pending now.
    pub fn books(&self) -> (Books, usize) {
        (self.books, self.pending.len())
    }

    /// Pending operations of a process (CL-8 counts them).
    pub fn pending_of(&self, p: ProcessId) -> usize {
        self.pending.values().filter(|o| o.process == p).count()
    }

    /// The completions since the last call, for the harness to apply.
    pub fn take_completions(&mut self) -> Vec<Completion> {
        std::mem::take(&mut self.completions)
    }

    /// Forgets a process's pending operations without completing them (its memory is gone).
    pub fn discard(&mut self, p: ProcessId) {
        let ids: Vec<OpId> = self
            .pending
            .iter()
            .filter(|(_, o)| o.process == p)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(op) = self.pending.remove(&id) {
                self.books.forgotten += 1;
                for q in [&mut self.recvs, &mut self.sends] {
                    if let Some(queue) = q.get_mut(&op.socket) {
                        queue.retain(|o| *o != id);
                    }
                }
            }
        }
        self.recvs.retain(|_, q| !q.is_empty());
        self.sends.retain(|_, q| !q.is_empty());
    }

    fn is_pending_key(&self, key: usize) -> bool {
        self.pending.values().any(|o| o.req.key == key)
    }
}

/// What `WSAGetOverlappedResult` asks about: the `OVERLAPPED` (`key`: its address, `None`
/// for NULL; `record`: reads it, `None` for an operation of the safe API), `fWait`, and
/// whether `lpcbTransfer` is there.
#[derive(Debug, Clone, Copy)]
pub(in crate::core) struct ResultArgs<'a> {
    pub(in crate::core) key: Option<usize>,
    pub(in crate::core) record: Option<crate::core::call::Record<'a>>,
    pub(in crate::core) wait: bool,
    pub(in crate::core) has_bytes: bool,
}

impl Machine {
    /// WSASend/WSARecv/WSASendTo/WSARecvFrom with an `OVERLAPPED` (OV-1, OV-3, OV-7): completes
    /// at once (returns the byte count; the completion is still indicated) or stays pending
    /// (`WSA_IO_PENDING`). Errors found before the operation starts mean no completion.
    pub(super) fn start_overlapped(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        req: OpRequest,
        fault: bool,
    ) -> Result<Reply, Stop> {
        match req.kind {
            OpKind::Connect { .. } => self.ex_3(cx, Ex3::Connect { s, req }),
            OpKind::Accept { .. } => {
                let what = Ex2::Accept {
                    listener: s,
                    req,
                    fault,
                };
                self.ex_2(cx, what)
            }
            OpKind::Disconnect { .. } => self.ex_4_disconnect(cx, s, req),
            OpKind::Send { .. } | OpKind::Recv { .. } | OpKind::Control => {
                self.start_transfer(cx, s, req, fault)
            }
        }
    }

    /// [`Machine::start_overlapped`] for a send or a receive (and `WSAIoctl`'s record).
    fn start_transfer(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        mut req: OpRequest,
        fault: bool,
    ) -> Result<Reply, Stop> {
        let (ep_id, stream) = self.overlapped_checks(cx, s, &req.kind, fault)?;
        cx.rule(Rule::Ov1);
        self.ov_3_started(cx, &req);
        let is_send = matches!(req.kind, OpKind::Send { .. });
        if let OpKind::Send { data, to } = &mut req.kind {
            // The bytes go to the transport at once (read from the caller's buffers now that
            // the operation is accepted); the send completes once they fit the send buffer.
            let (data, to) = (data.take(), *to);
            if stream {
                self.transport.queue_stream(ep_id, &data);
                self.transport.pump(self.now, ep_id);
            } else {
                let dest = to
                    .or(self.transport.ep(ep_id).peer_addr)
                    .ok_or(WsaError::NotConnected)?;
                self.transport.bind_implicitly(ep_id)?;
                self.transport.send_datagram(self.now, ep_id, dest, data);
            }
        } else {
            let capacity = match req.kind {
                OpKind::Recv { capacity, .. } => capacity,
                OpKind::Send { .. }
                | OpKind::Control
                | OpKind::Connect { .. }
                | OpKind::Accept { .. }
                | OpKind::Disconnect { .. } => 0,
            };
            let e = self.transport.ep_mut(ep_id);
            e.pending_recvs += 1;
            e.posted = e.posted.saturating_add(capacity);
            // The posted buffer opens the receive window: the peer may send into it now.
            if let Some(peer) = e.peer {
                self.transport.pump(self.now, peer);
            }
        }
        let key = req.key;
        let id = self.register(cx, s, req);
        let queue = if is_send {
            &mut self.overlapped.sends
        } else {
            &mut self.overlapped.recvs
        };
        queue.entry(s).or_default().push_back(id);
        // Only this socket's operations can have become completable.
        self.poll_socket_ops(s);
        match self.overlapped.finished.get(&key) {
            Some(Ok(n)) if !self.overlapped.pending.contains_key(&id) => Ok(Reply::Count(*n)),
            _ => Err(WsaError::IoPending.into()),
        }
    }

    /// An overlapped call that completed while it ran (EX-1: `WSAIoctl`): its completion
    /// is indicated at once, like any operation's (OV-2 .. OV-6), with `result`.
    pub(in crate::core) fn complete_at_once(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        req: OpRequest,
        result: Result<u32, WsaError>,
    ) {
        let id = self.register(cx, s, req);
        self.complete(id, result, Vec::new(), None, true);
    }

    /// OV-1: an accepted operation of `cx`'s thread on `s` becomes pending. Its record says
    /// so (`STATUS_PENDING`) before it can complete.
    fn register(&mut self, cx: &Cx, s: Socket, req: OpRequest) -> OpId {
        self.overlapped.next += 1;
        let id = OpId(self.overlapped.next);
        req.memory.0.pending();
        if let OpKind::Accept { accept, .. } = req.kind {
            self.overlapped.accept_sockets.insert((cx.process, accept));
        }
        let pending = Pending {
            process: cx.process,
            thread: cx.thread,
            socket: s,
            req,
        };
        self.overlapped.pending.insert(id, pending);
        self.overlapped.books.started += 1;
        id
    }

    /// OV-3, the part decided as an operation starts: its `hEvent` is reset, unless a
    /// completion routine was given (then the event is the caller's to use). The other part,
    /// signalling it on completion, is [`Machine::complete`]'s.
    fn ov_3_started(&mut self, cx: &mut Cx, req: &OpRequest) {
        if let (Some(ev), None) = (req.event, &req.routine) {
            cx.rule(Rule::Ov3);
            self.process_mut(cx.process).signal(ev, false);
        }
    }

    /// An extension operation (EX-2..EX-4) that the provider started: pending until
    /// [`Machine::poll_socket_ops`] sees it done. Its event is reset as it starts (OV-3).
    pub(in crate::core) fn pend_extension(&mut self, cx: &mut Cx, s: Socket, req: OpRequest) {
        self.ov_3_started(cx, &req);
        let id = self.register(cx, s, req);
        self.overlapped
            .extensions
            .entry(s)
            .or_default()
            .push_back(id);
        // It may be done at once (a connection already queued for an AcceptEx).
        self.poll_socket_ops(s);
    }

    /// The checks an overlapped operation passes before it starts, in Winsock's order (state,
    /// then pointers, then sizes): an error here means no completion will ever be indicated
    /// (OV-1). Returns the socket's endpoint and whether it is a stream.
    fn overlapped_checks(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        kind: &OpKind,
        fault: bool,
    ) -> Result<(EndpointId, bool), Stop> {
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        let ep_id = st.endpoint;
        let ep = self.transport.ep(ep_id);
        let stream = ep.proto == Proto::Stream;
        match kind {
            OpKind::Send { to, .. } => {
                if stream && !ep.is_connected() {
                    return Err(WsaError::NotConnected.into());
                }
                if ep.is_send_shut() {
                    return Err(WsaError::Shutdown.into());
                }
                if let Some(e) = ep.reset_error() {
                    return Err(e.into());
                }
                if !stream && to.is_none() && ep.peer_addr.is_none() {
                    return Err(WsaError::NotConnected.into());
                }
            }
            OpKind::Recv { .. } => {
                if stream && !ep.is_connected() {
                    return Err(WsaError::NotConnected.into());
                }
                let shut_recv = ep.is_recv_shut();
                Machine::sd_10(cx, Sd10::NewReceive { shut_recv })?;
                if stream {
                    let seen = Sd12::OverlappedReceive {
                        error: ep.reset_error(),
                        unread: !ep.recv_q.is_empty(),
                    };
                    if let Some(Err(e)) = Machine::sd_12(cx, seen) {
                        return Err(e.into());
                    }
                }
            }
            // Started by `WSAIoctl` and the extension functions, which decide before they
            // get here.
            OpKind::Control
            | OpKind::Connect { .. }
            | OpKind::Accept { .. }
            | OpKind::Disconnect { .. } => {}
        }
        crate::core::er_3_pointers(cx, if fault { Err(WsaError::Fault) } else { Ok(()) })?;
        if let (OpKind::Send { data, .. }, false) = (kind, stream) {
            Machine::op_7_datagram_fits(cx, data.len())?;
        }
        Ok((ep_id, stream))
    }

    /// Completes every pending operation that can complete now, per socket in posting order.
    pub fn poll_overlapped(&mut self) {
        let sockets: Vec<Socket> = self
            .overlapped
            .recvs
            .keys()
            .chain(self.overlapped.sends.keys())
            .chain(self.overlapped.extensions.keys())
            .copied()
            .collect();
        for s in sockets {
            self.poll_socket_ops(s);
        }
    }

    /// Whether the extension operation `id` is done, and how: its result and the bytes for
    /// its buffer. `None` while it waits. Each kind is decided by its rule's function.
    fn extension_outcome(&mut self, id: OpId) -> Option<(Result<u32, WsaError>, Vec<u8>)> {
        let op = self.overlapped.pending.get(&id)?;
        let (process, s) = (op.process, op.socket);
        match op.req.kind {
            OpKind::Connect { ref data, .. } => {
                let data = data.clone();
                self.ex_3_outcome(process, s, &data)
                    .map(|r| (r, Vec::new()))
            }
            OpKind::Accept {
                accept,
                lengths,
                taken,
            } => match self.ex_2_outcome(process, s, accept, lengths, taken) {
                Ex2Step::Wait(now_taken) => {
                    if let Some(op) = self.overlapped.pending.get_mut(&id) {
                        if let OpKind::Accept { ref mut taken, .. } = op.req.kind {
                            *taken = now_taken;
                        }
                    }
                    None
                }
                Ex2Step::Done(result, image) => Some((result, image)),
            },
            OpKind::Disconnect { flags, .. } => self
                .ex_4_outcome(process, s, flags)
                .map(|r| (r, Vec::new())),
            OpKind::Send { .. } | OpKind::Recv { .. } | OpKind::Control => None,
        }
    }

    pub(in crate::core) fn poll_socket_ops(&mut self, s: Socket) {
        // Extension operations, each once it is decided (AcceptEx in posting order).
        let ids: Vec<OpId> = match self.overlapped.extensions.get(&s) {
            Some(q) => q.iter().copied().collect(),
            None => Vec::new(),
        };
        for id in ids {
            if let Some((result, data)) = self.extension_outcome(id) {
                self.complete(id, result, data, None, true);
            }
        }
        self.poll_recvs(s);
        self.poll_sends(s);
    }

    /// The pending receives of `s` that can complete now, in posting order (OV-7).
    fn poll_recvs(&mut self, s: Socket) {
        while let Some(&id) = self.overlapped.recvs.get(&s).and_then(|q| q.front()) {
            let Some(op) = self.overlapped.pending.get(&id) else {
                break;
            };
            let Some(ep_id) = self.process(op.process).endpoint_of(s) else {
                break;
            };
            let OpKind::Recv { capacity, control } = op.req.kind else {
                break;
            };
            let process = op.process;
            let ep = self.transport.ep(ep_id);
            let mut received = None;
            let outcome = match ep.proto {
                Proto::Datagram => ep.dgrams.front().cloned().map(|(from, d, to)| {
                    let n = d.len().min(capacity);
                    let result = if n < d.len() {
                        Err(WsaError::MessageSize)
                    } else {
                        Ok(n as u32)
                    };
                    received = Some((to, n < d.len()));
                    (result, d[..n].to_vec(), Some(from), true)
                }),
                Proto::Stream if !ep.recv_q.is_empty() => {
                    let mut buf = vec![0u8; capacity.min(ep.recv_q.len())];
                    let n = self.transport.read(self.now, ep_id, &mut buf, false);
                    buf.truncate(n);
                    Some((Ok(n as u32), buf, None, false))
                }
                Proto::Stream => match ep.reset_error() {
                    Some(e) => Some((Err(e), Vec::new(), None, false)),
                    None if ep.fin_received() => Some((Ok(0), Vec::new(), None, false)),
                    None => None,
                },
            };
            let Some((result, data, from, pop_dgram)) = outcome else {
                break;
            };
            if pop_dgram {
                self.transport.ep_mut(ep_id).dgrams.pop_front();
            }
            let message = control.map(|room| {
                let (to, truncated) = received.map_or((None, false), |(t, tr)| (Some(t), tr));
                self.message_for(process, s, to, truncated, room)
            });
            self.complete(id, result, data, from, true);
            if let (Some(m), Some(c)) = (message, self.overlapped.completions.last_mut()) {
                c.message = Some(m);
            }
        }
    }

    /// The pending sends of `s` that can complete now: once their bytes fit in the send
    /// buffer, in posting order.
    fn poll_sends(&mut self, s: Socket) {
        while let Some(&id) = self.overlapped.sends.get(&s).and_then(|q| q.front()) {
            let Some(op) = self.overlapped.pending.get(&id) else {
                break;
            };
            let Some(ep_id) = self.process(op.process).endpoint_of(s) else {
                break;
            };
            let OpKind::Send { ref data, .. } = op.req.kind else {
                break;
            };
            let n = data.len() as u32;
            let ep = self.transport.ep(ep_id);
            let result = match ep.reset_error() {
                Some(e) => Err(e),
                None if ep.send_q.len() <= ep.sndbuf => Ok(n),
                None => break,
            };
            self.complete(id, result, Vec::new(), None, true);
        }
    }

    /// Completes an operation exactly once (OV-2): records its outcome and, when `notify`,
    /// performs its completion action: the routine (as an APC, OV-4) or else the event (OV-3),
    /// and a packet to the socket's completion port (OV-6).
    ///
    /// # Panics
    /// When the operation is not pending: OV-2 would be broken.
    fn complete(
        &mut self,
        id: OpId,
        result: Result<u32, WsaError>,
        data: Vec<u8>,
        from: Option<SocketAddrV4>,
        notify: bool,
    ) {
        let op =
            self.overlapped.pending.remove(&id).unwrap_or_else(|| {
                panic!("invariant OV-2 broken: operation {id:?} completed twice")
            });
        self.overlapped.books.completed += 1;
        for q in [
            &mut self.overlapped.recvs,
            &mut self.overlapped.sends,
            &mut self.overlapped.extensions,
        ] {
            if let Some(queue) = q.get_mut(&op.socket) {
                queue.retain(|o| *o != id);
                if queue.is_empty() {
                    q.remove(&op.socket);
                }
            }
        }
        if let OpKind::Accept { accept, .. } = op.req.kind {
            self.overlapped.accept_sockets.remove(&(op.process, accept));
        }
        if let OpKind::Recv { capacity, .. } = op.req.kind {
            if let Some(ep) = self.process(op.process).endpoint_of(op.socket) {
                if let Some(e) = self.transport.get_mut(ep) {
                    e.pending_recvs = e.pending_recvs.saturating_sub(1);
                    e.posted = e.posted.saturating_sub(capacity);
                }
            }
        }
        self.overlapped.finished.insert(op.req.key, result);
        let bytes = result.unwrap_or(0);
        if notify {
            if let (Some(ev), None) = (op.req.event, &op.req.routine) {
                // OV-3 (with a routine, hEvent is the caller's to use and is left alone).
                self.process_mut(op.process).signal(ev, true);
            }
            if let Some((port, key)) = self.process(op.process).port_of(op.socket) {
                let packet = Packet {
                    bytes,
                    key,
                    overlapped: op.req.key,
                    error: result.err(),
                };
                self.process_mut(op.process).post(port, packet); // OV-6
            }
        }
        self.overlapped.completions.push(Completion {
            process: op.process,
            thread: op.thread,
            socket: op.socket,
            result,
            data,
            from,
            message: None,
            routine: if notify { op.req.routine } else { None },
            key: op.req.key,
            memory: op.req.memory,
        });
    }

    /// CS-6 (`notify`) and CL-5 (silent): fails the pending operations of `pick` with
    /// WSA_OPERATION_ABORTED (CS-6 under `Profile::Windows`: a pending receive on a connected
    /// stream reports WSAECONNABORTED).
    pub(super) fn abort_ops(
        &mut self,
        pick: impl Fn(ProcessId, Socket) -> bool,
        notify: bool,
    ) -> bool {
        let ids: Vec<OpId> = self
            .overlapped
            .pending
            .iter()
            .filter(|(_, o)| {
                // An AcceptEx is also its accept socket's operation (win: closing either
                // aborts it).
                let accept = match o.req.kind {
                    OpKind::Accept { accept, .. } => Some(accept),
                    OpKind::Send { .. }
                    | OpKind::Recv { .. }
                    | OpKind::Control
                    | OpKind::Connect { .. }
                    | OpKind::Disconnect { .. } => None,
                };
                pick(o.process, o.socket) || accept.is_some_and(|a| pick(o.process, a))
            })
            .map(|(id, _)| *id)
            .collect();
        for &id in &ids {
            let op = &self.overlapped.pending[&id];
            let windows_recv = notify
                && self.profile == Profile::Windows
                && matches!(op.req.kind, OpKind::Recv { .. })
                && self
                    .process(op.process)
                    .endpoint_of(op.socket)
                    .and_then(|e| self.transport.get(e))
                    .is_some_and(|e| e.proto == Proto::Stream && e.is_connected());
            let error = if windows_recv {
                WsaError::ConnectionAborted
            } else {
                WsaError::OperationAborted
            };
            self.complete(id, Err(error), Vec::new(), None, notify);
        }
        !ids.is_empty()
    }

    /// Cancels the pending operations of `process` on `s` (EX-7's `CancelIo`/`CancelIoEx`):
    /// those `thread` issued (`None`: any), or the one of the `OVERLAPPED` at `key`. Each
    /// completes with `WSA_OPERATION_ABORTED` and its completion indicated. Returns how many.
    pub(super) fn cancel_ops(
        &mut self,
        process: ProcessId,
        s: Socket,
        thread: Option<ThreadId>,
        key: Option<usize>,
    ) -> usize {
        let ids: Vec<OpId> = self
            .overlapped
            .pending
            .iter()
            .filter(|(_, o)| {
                o.process == process
                    && o.socket == s
                    && thread.is_none_or(|t| o.thread == t)
                    && key.is_none_or(|k| o.req.key == k)
            })
            .map(|(id, _)| *id)
            .collect();
        for &id in &ids {
            self.complete(id, Err(WsaError::OperationAborted), Vec::new(), None, true);
        }
        ids.len()
    }

    /// WSAGetOverlappedResult (OV-5) on socket `s`: the answer of the record itself ([`answer_of_record`]),
    /// so any record works, including one the caller filled in. A caller without a record
    /// (the safe API's [`OverlappedOp`](crate::api::OverlappedOp)) names its operation by
    /// `key`, and the record is the one the operation's outcome would have written.
    /// NULL `lpOverlapped`, `lpcbTransfer` or `lpdwFlags` → `WSAEFAULT`.
    pub(super) fn overlapped_result(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        a: ResultArgs<'_>,
    ) -> Result<Reply, Stop> {
        let (key, record, wait, has_bytes) = (a.key, a.record, a.wait, a.has_bytes);
        if !cx.resumed {
            // A socket closed while the call waited aborted the operation (CS-6): the call
            // then reports the operation's own outcome.
            self.process_mut(cx.process).socket_mut(cx, s)?;
        }
        cx.rule(Rule::Ov5);
        if !has_bytes {
            return Err(WsaError::Fault.into());
        }
        let read = match (record, key) {
            (Some(record), _) => record.read(),
            (None, Some(key)) if self.overlapped.is_pending_key(key) => (status::PENDING, 0),
            (None, Some(key)) => match self.overlapped.finished.get(&key) {
                Some(&result) => (ntstatus(result), result.unwrap_or(0) as usize),
                None => return Err(WsaError::InvalidParameter.into()),
            },
            (None, None) => return Err(WsaError::Fault.into()),
        };
        answer_of_record(read, wait, "WSAGetOverlappedResult")
    }

    /// CreateIoCompletionPort: a new port (no socket), or `socket` associated with `existing`
    /// (or a new port) under `key`.
    pub(super) fn create_port(
        &mut self,
        cx: &mut Cx,
        socket: Option<Socket>,
        existing: Option<PortHandle>,
        key: usize,
    ) -> Result<Reply, Stop> {
        let (process, generations) = self.process_and_generations(cx.process);
        let port = match existing {
            Some(p) if process.port_exists(p) => p,
            Some(_) => return Err(WsaError::InvalidParameter.into()),
            None => process.add_port(generations)?,
        };
        if let Some(s) = socket {
            let st = process
                .socket_mut(cx, s)
                .map_err(|_| WsaError::InvalidHandle)?;
            if st.port.is_some() {
                return Err(WsaError::InvalidParameter.into());
            }
            st.port = Some((port, key));
        }
        Ok(Reply::Port(port))
    }

    /// GetQueuedCompletionStatus (OV-6): the oldest packet, waiting up to `timeout` (`None`:
    /// for ever) in virtual time; `WAIT_TIMEOUT` when none came.
    pub(super) fn dequeue_packet(
        &mut self,
        cx: &mut Cx,
        port: PortHandle,
        timeout: Option<std::time::Duration>,
    ) -> Result<Reply, Stop> {
        cx.rule(Rule::Ov6);
        let process = self.process_mut(cx.process);
        if !process.port_exists(port) {
            return Err(WsaError::InvalidHandle.into());
        }
        if let Some(p) = process.dequeue(port) {
            if let Some(e) = p.error {
                // The call returns FALSE with the failed operation's error as the last error,
                // in Win32's numbering as kernel32 sets it (win: 64 after a peer's reset).
                process.set_last_error(cx.thread, e.win32_code());
            }
            return Ok(Reply::Packet(p));
        }
        Err(cx
            .wait_until_timeout(self.now, timeout, "GetQueuedCompletionStatus")
            .unwrap_or(WsaError::WaitTimeout.into()))
    }
}
