//! kernel32's side of overlapped I/O (EX-7): `GetOverlappedResult(Ex)`, the batch and user
//! packets of completion ports (`GetQueuedCompletionStatusEx`, `PostQueuedCompletionStatus`)
//! and cancellation (`CancelIo`, `CancelIoEx`), all with Win32 error codes and no need for
//! `WSAStartup`.
//!
//! This module decides these calls; the ports' queues, the association of sockets and the
//! single `GetQueuedCompletionStatus` are OV-6's (`overlapped.rs`), and a cancelled
//! operation completes through the same funnel as any other (its event, routine and packet).

use std::time::Duration;

use super::call::{Cancel, Record};
use super::overlapped::{error_of_ntstatus, status, Packet, PortHandle};
use super::rules::Rule;
use super::ws2::table::Socket;
use super::{Cx, Machine, Reply, Stop};
use crate::error::WsaError;

/// How `GetOverlappedResult(Ex)` waits for a pending operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::core) enum ResultWait {
    /// `bWait` FALSE, or `dwMilliseconds` 0: `ERROR_IO_INCOMPLETE` at once.
    No,
    /// Up to this long (`None`: for ever), then `WAIT_TIMEOUT`.
    Until(Option<Duration>),
}

/// What [`Machine::ex_7`] is asked about.
#[derive(Debug)]
pub(in crate::core) enum Ex7<'a> {
    /// `GetOverlappedResult(Ex)` on socket `s`.
    Result {
        /// `hFile`.
        s: Socket,
        /// The record (`None`: NULL `lpOverlapped`).
        record: Option<Record<'a>>,
        /// How it waits.
        wait: ResultWait,
        /// `lpNumberOfBytesTransferred` is not NULL.
        has_bytes: bool,
    },
    /// `GetQueuedCompletionStatusEx`: up to `max` packets.
    Dequeue {
        /// The port.
        port: PortHandle,
        /// `ulCount`.
        max: u32,
        /// `dwMilliseconds` (`None`: `INFINITE`).
        timeout: Option<Duration>,
    },
    /// `PostQueuedCompletionStatus`.
    Post {
        /// The port.
        port: PortHandle,
        /// The packet.
        packet: Packet,
    },
    /// `CancelIo` / `CancelIoEx` on socket `s`.
    Cancel {
        /// `hFile`.
        s: Socket,
        /// Which operations.
        which: Cancel,
    },
}

impl Machine {
    /// EX-7, the one place it is decided.
    ///
    /// [`Ex7::Result`]: the record answers, as for `WSAGetOverlappedResult` (OV-5) but with
    /// Win32 codes: still pending → `ERROR_IO_INCOMPLETE`, or with a wait a wait in virtual
    /// time that ends with the operation or, for `GetOverlappedResultEx`, with
    /// `WAIT_TIMEOUT` after `dwMilliseconds` (alertably: `WAIT_IO_COMPLETION` once APCs ran);
    /// a failed operation's error; else the byte count. A handle that is no socket fails
    /// `ERROR_INVALID_HANDLE` (unless the call was waiting when the socket closed: then the
    /// record holds the abort, CS-6); a NULL `lpOverlapped` or `lpNumberOfBytesTransferred`
    /// `ERROR_INVALID_PARAMETER`.
    ///
    /// [`Ex7::Dequeue`]: up to `ulCount` packets at once, oldest first, each with its
    /// operation's status (a failed operation's packet is returned with TRUE, its status in
    /// `Internal`); with none queued, a wait as `GetQueuedCompletionStatus`'s, then
    /// `WAIT_TIMEOUT` (alertably: `WAIT_IO_COMPLETION` once APCs ran). An unknown port fails
    /// `ERROR_INVALID_HANDLE`; `ulCount` 0 or a NULL array `ERROR_INVALID_PARAMETER`.
    ///
    /// [`Ex7::Post`]: the packet is queued after the port's others, as given (its bytes, key
    /// and `OVERLAPPED` pointer, which nothing reads), and dequeued as a success. An unknown
    /// port fails `ERROR_INVALID_HANDLE`.
    ///
    /// [`Ex7::Cancel`]: `CancelIo` cancels the calling thread's pending operations on the
    /// socket, `CancelIoEx` all of them (NULL) or the one of an `OVERLAPPED`; each completes
    /// with `ERROR_OPERATION_ABORTED` through its completion action (event, routine, port
    /// packet). `CancelIo` succeeds with nothing to cancel; `CancelIoEx` then fails
    /// `ERROR_NOT_FOUND`. A handle that is no socket fails `ERROR_INVALID_HANDLE`. An
    /// `AcceptEx` is its listener's operation: cancelling on the accept socket finds it not
    /// (win: sock.c `test_AcceptEx`).
    ///
    /// # Divergence
    /// A NULL `lpOverlapped` or `lpNumberOfBytesTransferred` is an access violation on
    /// Windows, and a NULL or empty entry array for `GetQueuedCompletionStatusEx` undefined;
    /// the simulator fails them `ERROR_INVALID_PARAMETER` (87). A wait on a record no
    /// operation will complete is reported as a deadlock (Windows waits for ever).
    pub(in crate::core) fn ex_7(&mut self, cx: &mut Cx, what: Ex7<'_>) -> Result<Reply, Stop> {
        cx.rule(Rule::Ex7);
        match what {
            Ex7::Result {
                s,
                record,
                wait,
                has_bytes,
            } => {
                // A socket closed while the call waited: the record holds the outcome (CS-6).
                if !cx.resumed && self.process(cx.process).socket_chain(s).is_none() {
                    return Err(WsaError::InvalidHandle.into());
                }
                let (Some(record), true) = (record, has_bytes) else {
                    return Err(WsaError::InvalidParameter.into());
                };
                let (internal, bytes) = record.read();
                match (internal, error_of_ntstatus(internal), wait) {
                    (status::PENDING, _, ResultWait::No) => Err(WsaError::IoIncomplete.into()),
                    (status::PENDING, _, ResultWait::Until(t)) => Err(cx
                        .wait_until_timeout(self.now, t, "GetOverlappedResult")
                        .unwrap_or(WsaError::WaitTimeout.into())),
                    (_, Some(e), _) => Err(e.into()),
                    (_, None, _) => Ok(Reply::Count(bytes as u32)),
                }
            }
            Ex7::Dequeue { port, max, timeout } => {
                let process = self.process_mut(cx.process);
                if !process.port_exists(port) {
                    return Err(WsaError::InvalidHandle.into());
                }
                if max == 0 {
                    return Err(WsaError::InvalidParameter.into());
                }
                let mut got = Vec::new();
                while got.len() < max as usize {
                    match process.dequeue(port) {
                        Some(p) => got.push(p),
                        None => break,
                    }
                }
                if !got.is_empty() {
                    return Ok(Reply::Packets(got));
                }
                Err(cx
                    .wait_until_timeout(self.now, timeout, "GetQueuedCompletionStatusEx")
                    .unwrap_or(WsaError::WaitTimeout.into()))
            }
            Ex7::Post { port, packet } => {
                let process = self.process_mut(cx.process);
                if !process.port_exists(port) {
                    return Err(WsaError::InvalidHandle.into());
                }
                process.post(port, packet);
                Ok(Reply::Done)
            }
            Ex7::Cancel { s, which } => {
                if self.process(cx.process).socket_chain(s).is_none() {
                    return Err(WsaError::InvalidHandle.into());
                }
                let thread = match which {
                    Cancel::ThreadOps => Some(cx.thread),
                    Cancel::All | Cancel::One(_) => None,
                };
                let key = match which {
                    Cancel::One(key) => Some(key),
                    Cancel::ThreadOps | Cancel::All => None,
                };
                let cancelled = self.cancel_ops(cx.process, s, thread, key);
                match which {
                    Cancel::All | Cancel::One(_) if cancelled == 0 => {
                        Err(WsaError::NotFound.into())
                    }
                    Cancel::ThreadOps | Cancel::All | Cancel::One(_) => Ok(Reply::Done),
                }
            }
        }
    }
}
