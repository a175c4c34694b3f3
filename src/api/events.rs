use std::time::Duration;

use crate::consts::*;
use crate::core::call::Call;
use crate::core::events::{EventHandle, EventOp};
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

/// What `WSAEnumNetworkEvents` reports: the `FD_*` events recorded and their error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetworkEvents {
    /// The `FD_*` bits recorded.
    pub events: u32,
    /// Error codes by `FD_*_BIT` (0: none).
    pub errors: [i32; FD_MAX_EVENTS as usize],
}

impl NetworkEvents {
    /// True when `fd` (one `FD_*` bit) was recorded.
    pub fn has(&self, fd: u32) -> bool {
        self.events & fd != 0
    }

    /// The error code recorded with `fd` (one `FD_*` bit), if it was recorded.
    pub fn error(&self, fd: u32) -> Option<i32> {
        self.has(fd)
            .then(|| self.errors[fd.trailing_zeros() as usize])
    }
}

/// The outcome of [`wait_for_events`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The event at this index is signalled (with `wait_all`: all are, index 0).
    Signaled(usize),
    /// The timeout passed first.
    Timeout,
}

impl EventHandle {
    /// `WSACreateEvent`: a manual-reset event, not signalled.
    pub fn create() -> Result<EventHandle, WsaError> {
        match call(Call::CreateEvent)? {
            Reply::Event(h) => Ok(h),
            other => unreachable!("WSACreateEvent returned {other:?}"),
        }
    }

    /// `WSASetEvent`.
    pub fn set(self) -> Result<(), WsaError> {
        call(Call::EventOp(self, EventOp::Set)).map(drop)
    }

    /// `WSAResetEvent`.
    pub fn reset(self) -> Result<(), WsaError> {
        call(Call::EventOp(self, EventOp::Reset)).map(drop)
    }

    /// `WSACloseEvent`.
    pub fn close(self) -> Result<(), WsaError> {
        call(Call::EventOp(self, EventOp::Close)).map(drop)
    }
}

/// `WSAWaitForMultipleEvents` (not alertable): waits in virtual time until one event (or, with
/// `wait_all`, every event) is signalled, or `timeout` passes (`None`: no limit).
pub fn wait_for_events(
    events: &[EventHandle],
    wait_all: bool,
    timeout: Option<Duration>,
) -> Result<Wait, WsaError> {
    match call(Call::WaitEvents {
        events: Some(events.to_vec()),
        wait_all,
        timeout,
        alertable: false,
    })? {
        Reply::Count(WSA_WAIT_TIMEOUT) => Ok(Wait::Timeout),
        Reply::Count(n) => Ok(Wait::Signaled(n as usize)),
        other => unreachable!("WSAWaitForMultipleEvents returned {other:?}"),
    }
}

/// `select`: waits in virtual time until a socket of a set is ready or `timeout` passes
/// (`None`: no limit); each set keeps only its ready sockets. Returns how many are ready.
pub fn select(
    read: &mut Vec<Socket>,
    write: &mut Vec<Socket>,
    except: &mut Vec<Socket>,
    timeout: Option<Duration>,
) -> Result<usize, WsaError> {
    match call(Call::Select {
        read: Some(read),
        write: Some(write),
        except: Some(except),
        timeout: Ok(timeout),
    })? {
        Reply::Count(n) => Ok(n as usize),
        other => unreachable!("select returned {other:?}"),
    }
}
