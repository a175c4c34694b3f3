//! The model's predictions for overlapped operations on connected stream sockets:
//! `RecvOverlapped` and `SendOverlapped` (each with its own event), and `WaitOverlapped`
//! with a zero timeout (`WSAWaitForMultipleEvents`, then `WSAGetOverlappedResult`). A
//! receive with data there completes at once; one with nothing there is pending until the
//! data arrives, and then completes with the first bytes that arrive together (OV-1, OV-2);
//! the final `WSACleanup` forgets what is pending (CL-5).

use super::predict::{fail, status};
use super::{Conn, Expected, ModelState, OpModel, OpState};
use crate::consts::*;
use crate::testing::program::{payload_byte, Handle, Outcome};

impl ModelState {
    /// Records operation `id` of process `p` in `state`; a started process made an event
    /// for it.
    fn start_op(
        &mut self,
        p: usize,
        id: u8,
        socket: Option<usize>,
        len: u32,
        state: OpState,
    ) -> usize {
        if self.processes[p].count > 0 {
            self.processes[p].events += 1;
        }
        let op = self.ops.len();
        self.ops.push(OpModel {
            process: p,
            socket,
            len,
            state,
        });
        self.processes[p].ops.insert(id, op);
        op
    }

    /// The final `WSACleanup` of process `p`: its operations are forgotten (CL-5).
    pub(crate) fn forget_ops(&mut self, p: usize) {
        self.processes[p].events = 0;
        self.processes[p].resources_unknown = false;
        for op in self.ops.iter_mut().filter(|op| op.process == p) {
            op.state = match op.state {
                OpState::Unknown => OpState::Unknown,
                OpState::Pending
                | OpState::Received(_)
                | OpState::Sent(_)
                | OpState::Failed
                | OpState::Forgotten => OpState::Forgotten,
            };
        }
    }
}

/// An overlapped call before a startup: WSANOTINITIALISED (ER-1); the operation (whose
/// event could not be made either) is not followed.
pub(super) fn before_startup(m: &mut ModelState, p: usize, id: u8) -> Expected {
    m.start_op(p, id, None, 0, OpState::Unknown);
    fail(m, p, WSANOTINITIALISED)
}

/// An overlapped `WSARecv` of `len` bytes as operation `id`.
pub(super) fn recv(m: &mut ModelState, p: usize, h: Handle, id: u8, len: u32) -> Option<Expected> {
    let Some(s) = m.live(p, h) else {
        m.start_op(p, id, None, len, OpState::Failed);
        return Some(fail(m, p, WSAENOTSOCK));
    };
    if len == 0 || len > 4096 {
        return None;
    }
    let last_error = m.processes[p].last_error;
    let Conn::Connected(st) = &mut m.sockets[s].conn else {
        return None;
    };
    if st.shut_recv {
        // SD-10: new receives fail after SD_RECEIVE.
        m.start_op(p, id, Some(s), len, OpState::Failed);
        return Some(fail(m, p, WSAESHUTDOWN));
    }
    if st.in_flight || st.pending.is_some() {
        return None;
    }
    let state = if !st.inbox.is_empty() {
        let n = st.inbox.len().min(len as usize);
        OpState::Received(st.inbox.drain(..n).collect())
    } else if st.peer_fin {
        OpState::Received(Vec::new())
    } else {
        OpState::Pending
    };
    let pending = state == OpState::Pending;
    let op = m.start_op(p, id, Some(s), len, state);
    if pending {
        if let Conn::Connected(st) = &mut m.sockets[s].conn {
            st.pending = Some(op);
        }
        return Some(fail(m, p, WSA_IO_PENDING));
    }
    // Completed at once: WSARecv returns 0 and leaves the last error.
    Some(status(0, last_error))
}

/// An overlapped `WSASend` of `len` bytes as operation `id`: it completes at once.
pub(super) fn send(m: &mut ModelState, p: usize, h: Handle, id: u8, len: u32) -> Option<Expected> {
    let Some(s) = m.live(p, h) else {
        m.start_op(p, id, None, len, OpState::Failed);
        return Some(fail(m, p, WSAENOTSOCK));
    };
    if len == 0 || len > 4096 {
        return None;
    }
    let step = m.steps;
    let Conn::Connected(st) = &m.sockets[s].conn else {
        return None;
    };
    if st.shut_send || st.peer_closed || st.peer_shut_recv {
        return None;
    }
    let peer = st.peer;
    m.deliver(
        peer,
        (0..len as usize).map(|i| payload_byte(step, i)).collect(),
    )?;
    m.start_op(p, id, Some(s), len, OpState::Sent(len));
    Some(status(0, m.processes[p].last_error))
}

/// `WaitOverlapped { id, timeout_ms: 0 }`.
pub(super) fn wait(m: &mut ModelState, p: usize, id: u8, timeout_ms: u32) -> Option<Expected> {
    let Some(&op) = m.processes[p].ops.get(&id) else {
        return Some(Expected::Exactly(Outcome::Refused(format!(
            "no overlapped operation {id} in this process"
        ))));
    };
    if timeout_ms != 0 {
        return None;
    }
    let last_error = m.processes[p].last_error;
    if m.processes[p].count == 0 {
        // WSAWaitForMultipleEvents before a startup: WSANOTINITIALISED (ER-1).
        return match m.ops[op].state {
            OpState::Unknown => None,
            OpState::Pending
            | OpState::Received(_)
            | OpState::Sent(_)
            | OpState::Failed
            | OpState::Forgotten => Some(fail(m, p, WSANOTINITIALISED)),
        };
    }
    let socket_ok = m.ops[op].socket.is_some_and(|s| {
        let s = &m.sockets[s];
        s.live && s.process == p && matches!(&s.conn, Conn::Connected(st) if !st.in_flight)
    });
    let timed_out = status(i64::from(WSA_WAIT_TIMEOUT), last_error);
    match &m.ops[op].state {
        OpState::Failed => Some(timed_out),
        OpState::Pending if socket_ok => Some(timed_out),
        OpState::Received(bytes) if socket_ok => Some(Expected::Exactly(Outcome::Returned {
            value: bytes.len() as i64,
            error: last_error,
            data: bytes.clone(),
            out_len: None,
        })),
        OpState::Sent(n) if socket_ok => Some(status(i64::from(*n), last_error)),
        OpState::Pending
        | OpState::Received(_)
        | OpState::Sent(_)
        | OpState::Forgotten
        | OpState::Unknown => None,
    }
}
