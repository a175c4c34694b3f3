//! The model's predictions for addresses and connections: `bind`, `listen`, blocking
//! `connect` and `accept`, `send`, `recv`, `shutdown(SD_SEND)`, and what closing a connected
//! or listening socket does to the other end. `None` where the outcome depends on what the
//! model does not follow (a port used before, data still in flight, a reset).

use super::predict::{fail, status};
use super::{Bound, Conn, Expected, ModelState, SocketModel, Stream};
use crate::consts::*;
use crate::testing::program::{payload_byte, Handle, Outcome};

/// How long a `Sleep` must be for everything in flight to have arrived: every link's
/// latency (1 ms by default) is below it.
pub(crate) const SETTLE_MS: u32 = 10;

impl ModelState {
    fn host(&self, process: usize) -> &str {
        &self.specs[process].host
    }

    /// The live sockets on `host` of type `ty` bound to `port`.
    fn port_users(&self, host: &str, ty: i32, port: u16) -> impl Iterator<Item = usize> + '_ {
        let host = host.to_owned();
        self.sockets.iter().enumerate().filter_map(move |(i, s)| {
            (s.live && s.ty == ty && s.bound == Bound::Port(port) && self.host(s.process) == host)
                .then_some(i)
        })
    }

    /// The live listening stream socket on `process`'s host at `port` with room in its
    /// queue.
    fn listener(&self, process: usize, port: u16) -> Option<usize> {
        let host = self.host(process).to_owned();
        self.port_users(&host, SOCK_STREAM, port).find(|&i| {
            matches!(&self.sockets[i].conn, Conn::Listening { backlog, queue } if queue.len() < *backlog)
        })
    }

    fn stream_mut(&mut self, id: usize) -> Option<&mut Stream> {
        match &mut self.sockets[id].conn {
            Conn::Connected(st) => Some(st),
            Conn::Fresh | Conn::Listening { .. } | Conn::Unknown => None,
        }
    }

    /// Socket `id`'s connection is no longer followed (its peer reset it, or may have): an
    /// overlapped receive pending on it may have completed or not.
    fn reset(&mut self, id: usize) {
        if let Some(op) = self.stream_mut(id).and_then(|st| st.pending) {
            self.ops[op].state = super::OpState::Unknown;
            let p = self.sockets[id].process;
            self.processes[p].resources_unknown = true;
        }
        self.sockets[id].conn = Conn::Unknown;
    }

    /// What closing socket `id` does to the other end of its connection, or to the
    /// connections queued on it: a graceful `closesocket` sends a FIN; one with unread data or
    /// with linger on, and the final `WSACleanup` (`by_cleanup`, CL-6: the peer may see a
    /// reset), are not followed (the peer becomes `Unknown`).
    pub(crate) fn closed(&mut self, id: usize, by_cleanup: bool) {
        let s = &self.sockets[id];
        let abortive = s.onoff != 0 || by_cleanup;
        match std::mem::replace(&mut self.sockets[id].conn, Conn::Fresh) {
            Conn::Connected(st) => {
                let unread = !st.inbox.is_empty() || !st.arriving.is_empty();
                if let Some(op) = st.pending {
                    self.ops[op].state = super::OpState::Unknown;
                }
                let peer = st.peer;
                match self.stream_mut(peer) {
                    Some(p) if !unread && !abortive => {
                        p.peer_fin = true;
                        p.peer_closed = true;
                        p.in_flight = true;
                    }
                    Some(_) | None => self.reset(peer),
                }
            }
            Conn::Listening { queue, .. } => {
                for q in queue {
                    if let Some(client) = self.stream_mut(q).map(|st| st.peer) {
                        self.reset(client);
                    }
                }
            }
            Conn::Fresh | Conn::Unknown => {}
        }
    }
}

/// A socket of `p` by handle, live there, or the WSAENOTSOCK prediction (ER-2).
fn live_or_fail(m: &mut ModelState, p: usize, h: Handle) -> Result<usize, Expected> {
    m.live(p, h).ok_or_else(|| fail(m, p, WSAENOTSOCK))
}

/// `bind(s, 0.0.0.0:port)`.
pub(super) fn bind(m: &mut ModelState, p: usize, h: Handle, port: u16) -> Option<Expected> {
    let id = match live_or_fail(m, p, h) {
        Ok(id) => id,
        Err(e) => return Some(e),
    };
    let (ty, bound) = (m.sockets[id].ty, m.sockets[id].bound);
    match bound {
        Bound::Unknown => return None,
        Bound::Port(_) | Bound::Any => return Some(fail(m, p, WSAEINVAL)),
        Bound::No => {}
    }
    if port == 0 {
        m.sockets[id].bound = Bound::Any;
        return Some(status(0, m.processes[p].last_error));
    }
    let host = m.host(p).to_owned();
    if m.port_users(&host, ty, port).next().is_some() {
        return Some(fail(m, p, WSAEADDRINUSE));
    }
    // A port some socket of this host used before may still be taken (TIME_WAIT): not
    // followed.
    let used_before = m
        .sockets
        .iter()
        .any(|o| o.ty == ty && o.bound == Bound::Port(port) && m.host(o.process) == host);
    if used_before {
        return None;
    }
    m.sockets[id].bound = Bound::Port(port);
    Some(status(0, m.processes[p].last_error))
}

/// `listen(s, backlog)` with a backlog of 1 to 8.
pub(super) fn listen(m: &mut ModelState, p: usize, h: Handle, backlog: i32) -> Option<Expected> {
    let backlog = usize::try_from(backlog)
        .ok()
        .filter(|b| (1..=8).contains(b))?;
    let id = match live_or_fail(m, p, h) {
        Ok(id) => id,
        Err(e) => return Some(e),
    };
    let s = &m.sockets[id];
    if s.ty == SOCK_DGRAM {
        return Some(fail(m, p, WSAEOPNOTSUPP));
    }
    let e = match (&s.conn, s.bound) {
        (Conn::Connected(_), _) => WSAEISCONN,
        (Conn::Unknown, _) | (_, Bound::Unknown) => return None,
        (Conn::Listening { .. }, _) => {
            // Listening again sets the new backlog.
            if let Conn::Listening { backlog: b, .. } = &mut m.sockets[id].conn {
                *b = backlog;
            }
            return Some(status(0, m.processes[p].last_error));
        }
        (Conn::Fresh, Bound::No) => WSAEINVAL,
        (Conn::Fresh, Bound::Port(_) | Bound::Any) => {
            m.sockets[id].conn = Conn::Listening {
                backlog,
                queue: Vec::new(),
            };
            return Some(status(0, m.processes[p].last_error));
        }
    };
    Some(fail(m, p, e))
}

/// A blocking `connect(s, host of process to:port)` of a stream socket.
pub(super) fn connect(
    m: &mut ModelState,
    p: usize,
    h: Handle,
    (to, port): (usize, u16),
) -> Option<Expected> {
    let id = match live_or_fail(m, p, h) {
        Ok(id) => id,
        Err(e) => return Some(e),
    };
    if m.sockets[id].ty == SOCK_DGRAM {
        return None;
    }
    match &m.sockets[id].conn {
        // A non-blocking connect in progress is not followed.
        Conn::Fresh if m.sockets[id].nonblocking => return None,
        Conn::Listening { .. } => return Some(fail(m, p, WSAEINVAL)),
        Conn::Connected(_) => return Some(fail(m, p, WSAEISCONN)),
        Conn::Unknown => return None,
        Conn::Fresh => {}
    }
    if to >= m.processes.len() || port == 0 {
        return None;
    }
    // The handshake (or its refusal) takes a round trip: virtual time moves on.
    m.epoch += 1;
    let Some(l) = m.listener(to, port) else {
        // Whether a refused connect leaves an implicit bind behind is not followed.
        if m.sockets[id].bound == Bound::No {
            m.sockets[id].bound = Bound::Unknown;
        }
        return Some(fail(m, p, WSAECONNREFUSED));
    };
    let server = m.sockets.len();
    let listener = &m.sockets[l];
    m.sockets.push(SocketModel {
        process: listener.process,
        ty: SOCK_STREAM,
        live: false,
        onoff: 0,
        seconds: 0,
        disconnect_data: listener.disconnect_data,
        nonblocking: false,
        // Its local port is the listener's; whether it keeps a later bind off that port is
        // not followed (`bind` does not predict a port used before).
        bound: Bound::Any,
        conn: Conn::Connected(stream(id)),
    });
    if let Conn::Listening { queue, .. } = &mut m.sockets[l].conn {
        queue.push(server);
    }
    let client = &mut m.sockets[id];
    client.conn = Conn::Connected(stream(server));
    if client.bound == Bound::No {
        client.bound = Bound::Any;
    }
    Some(status(0, m.processes[p].last_error))
}

fn stream(peer: usize) -> Stream {
    Stream {
        peer,
        inbox: Vec::new(),
        arriving: Vec::new(),
        pending: None,
        in_flight: false,
        peer_fin: false,
        peer_closed: false,
        shut_send: false,
        shut_recv: false,
        peer_shut_recv: false,
        disconnect: None,
    }
}

/// A blocking `accept(s, ...)`: the first queued connection, into `slot` (an empty queue
/// would block for ever: not predicted).
pub(super) fn accept(m: &mut ModelState, p: usize, h: Handle, slot: u8) -> Option<Expected> {
    let id = match live_or_fail(m, p, h) {
        Ok(id) => id,
        Err(e) => {
            // INVALID_SOCKET is SOCKET_ERROR widened.
            m.processes[p].slots.insert(slot, None);
            return Some(e);
        }
    };
    let (ty, nonblocking) = (m.sockets[id].ty, m.sockets[id].nonblocking);
    let e = match (&mut m.sockets[id].conn, ty) {
        (_, SOCK_DGRAM) => WSAEOPNOTSUPP,
        (Conn::Listening { queue, .. }, _) if !queue.is_empty() => {
            let new = queue.remove(0);
            // The accepted socket takes the listener's options as they are now.
            let l = &m.sockets[id];
            let (onoff, seconds, nonblocking) = (l.onoff, l.seconds, l.nonblocking);
            let s = &mut m.sockets[new];
            (s.live, s.onoff, s.seconds, s.nonblocking) = (true, onoff, seconds, nonblocking);
            m.seen.push(new);
            m.processes[p].slots.insert(slot, Some(new));
            return Some(Expected::NewHandle {
                error: m.processes[p].last_error,
            });
        }
        (Conn::Listening { .. }, _) if nonblocking => WSAEWOULDBLOCK,
        (Conn::Listening { .. } | Conn::Unknown, _) => return None,
        (Conn::Fresh | Conn::Connected(_), _) => WSAEINVAL,
    };
    m.processes[p].slots.insert(slot, None);
    m.processes[p].last_error = e;
    Some(Expected::Exactly(Outcome::Returned {
        value: INVALID_SOCKET as i64,
        error: e,
        data: Vec::new(),
        out_len: None,
    }))
}

/// `send(s, len bytes of step `step`'s pattern, 0)` on a stream socket.
pub(super) fn send(m: &mut ModelState, p: usize, h: Handle, len: u32) -> Option<Expected> {
    let id = match live_or_fail(m, p, h) {
        Ok(id) => id,
        Err(e) => return Some(e),
    };
    let step = m.steps;
    let e = match (&m.sockets[id].conn, m.sockets[id].ty) {
        (_, SOCK_DGRAM) | (Conn::Unknown, _) => return None,
        (Conn::Fresh | Conn::Listening { .. }, _) => WSAENOTCONN,
        (Conn::Connected(st), _) if st.shut_send => WSAESHUTDOWN,
        (Conn::Connected(st), _)
            if st.peer_closed || st.peer_shut_recv || len == 0 || len > 4096 =>
        {
            return None
        }
        (Conn::Connected(st), _) => {
            let peer = st.peer;
            m.deliver(
                peer,
                (0..len as usize).map(|i| payload_byte(step, i)).collect(),
            )?;
            return Some(status(i64::from(len), m.processes[p].last_error));
        }
    };
    Some(fail(m, p, e))
}

/// `recv(s, buffer of len, 0)` on a stream socket, once nothing is in flight to it.
pub(super) fn recv(m: &mut ModelState, p: usize, h: Handle, len: u32) -> Option<Expected> {
    let id = match live_or_fail(m, p, h) {
        Ok(id) => id,
        Err(e) => return Some(e),
    };
    let last_error = m.processes[p].last_error;
    let (ty, nonblocking) = (m.sockets[id].ty, m.sockets[id].nonblocking);
    let e = match (&mut m.sockets[id].conn, ty) {
        (_, SOCK_DGRAM) | (Conn::Unknown, _) => return None,
        (Conn::Fresh | Conn::Listening { .. }, _) => WSAENOTCONN,
        (Conn::Connected(st), _) if st.shut_recv => WSAESHUTDOWN,
        (Conn::Connected(st), _) if st.in_flight || st.pending.is_some() || len == 0 => {
            return None
        }
        (Conn::Connected(st), _) if !st.inbox.is_empty() => {
            let n = st.inbox.len().min(len as usize);
            let data: Vec<u8> = st.inbox.drain(..n).collect();
            return Some(Expected::Exactly(Outcome::Returned {
                value: n as i64,
                error: last_error,
                data,
                out_len: None,
            }));
        }
        (Conn::Connected(st), _) if st.peer_fin => return Some(status(0, last_error)),
        (Conn::Connected(_), _) if nonblocking => WSAEWOULDBLOCK,
        // Nothing to read and no FIN: it would block for ever.
        (Conn::Connected(_), _) => return None,
    };
    Some(fail(m, p, e))
}

/// `shutdown(s, how)`: an unknown `how` fails WSAEINVAL first; `SD_SEND` on a connected
/// stream socket sends a FIN.
pub(super) fn shutdown(m: &mut ModelState, p: usize, h: Handle, how: i32) -> Option<Expected> {
    let id = match live_or_fail(m, p, h) {
        Ok(id) => id,
        Err(e) => return Some(e),
    };
    if !(0..=2).contains(&how) {
        return Some(fail(m, p, WSAEINVAL));
    }
    let ty = m.sockets[id].ty;
    let e = match (&mut m.sockets[id].conn, ty) {
        (_, SOCK_DGRAM) | (Conn::Unknown, _) => return None,
        (Conn::Fresh | Conn::Listening { .. }, _) => WSAENOTCONN,
        (Conn::Connected(st), _) if how != SD_SEND || st.shut_send || st.peer_closed => {
            return None
        }
        (Conn::Connected(st), _) => {
            st.shut_send = true;
            let peer = st.peer;
            let p_st = m.stream_mut(peer)?;
            p_st.peer_fin = true;
            p_st.in_flight = true;
            return Some(status(0, m.processes[p].last_error));
        }
    };
    Some(fail(m, p, e))
}

/// `WSASendDisconnect(s, NULL)` (`len` 0) or with `len` bytes of disconnect data on a
/// stream socket: without data it shuts the sending side down like `SD_SEND` (SD-1; again
/// succeeds, SD-8); TCP carries no disconnect data (WSAENOPROTOOPT, SD-2); the
/// disconnect-data provider sends it with the FIN (SD-3).
pub(super) fn send_disconnect(
    m: &mut ModelState,
    p: usize,
    h: Handle,
    len: u32,
) -> Option<Expected> {
    let id = match live_or_fail(m, p, h) {
        Ok(id) => id,
        Err(e) => return Some(e),
    };
    let (ty, dd) = (m.sockets[id].ty, m.sockets[id].disconnect_data);
    if ty == SOCK_DGRAM || len > 8 {
        return None;
    }
    let last_error = m.processes[p].last_error;
    let step = m.steps;
    let e = match &mut m.sockets[id].conn {
        Conn::Fresh | Conn::Listening { .. } if len == 0 => WSAENOTCONN,
        Conn::Fresh | Conn::Listening { .. } | Conn::Unknown => return None,
        Conn::Connected(_) if len > 0 && !dd => WSAENOPROTOOPT,
        Conn::Connected(st) if st.peer_closed => return None,
        Conn::Connected(st) if st.shut_send && len == 0 => return Some(status(0, last_error)),
        Conn::Connected(st) if st.shut_send => return None,
        Conn::Connected(st) => {
            st.shut_send = true;
            let peer = st.peer;
            let data =
                (len > 0).then(|| (0..len as usize).map(|i| payload_byte(step, i)).collect());
            let p_st = m.stream_mut(peer)?;
            p_st.peer_fin = true;
            p_st.in_flight = true;
            p_st.disconnect = data;
            return Some(status(0, last_error));
        }
    };
    Some(fail(m, p, e))
}

/// `WSARecvDisconnect(s, NULL)` (`len` 0) or into a buffer of `len` bytes, on a connected
/// stream socket with nothing left to read: `shutdown(SD_RECEIVE)` plus the peer's
/// disconnect data once its close has arrived (SD-9): WSAEFAULT when it does not fit, and
/// WSAENOPROTOOPT for a buffer on TCP, which has none.
pub(super) fn recv_disconnect(
    m: &mut ModelState,
    p: usize,
    h: Handle,
    len: u32,
) -> Option<Expected> {
    let with = |value: i64, error: i32, data: Vec<u8>, out: u32| {
        Expected::Exactly(Outcome::Returned {
            value,
            error,
            data,
            out_len: (len > 0).then_some(out as i32),
        })
    };
    let Some(id) = m.live(p, h) else {
        return Some(recv_disconnect_failed(m, p, len, WSAENOTSOCK));
    };
    let (ty, dd) = (m.sockets[id].ty, m.sockets[id].disconnect_data);
    let last_error = m.processes[p].last_error;
    let Conn::Connected(st) = &mut m.sockets[id].conn else {
        return None;
    };
    if ty == SOCK_DGRAM || len > 16 || st.in_flight || st.pending.is_some() || st.shut_recv {
        return None;
    }
    if !st.inbox.is_empty() || !st.arriving.is_empty() {
        return None; // SD-11: what is unread may reset the connection
    }
    let e = if len > 0 && !dd {
        WSAENOPROTOOPT
    } else if len > 0 && !st.peer_fin {
        return None;
    } else {
        let data = if len > 0 {
            st.disconnect.clone().unwrap_or_default()
        } else {
            Vec::new()
        };
        if data.len() > len as usize && len > 0 {
            WSAEFAULT
        } else {
            st.shut_recv = true;
            let peer = st.peer;
            if let Some(p_st) = m.stream_mut(peer) {
                p_st.peer_shut_recv = true;
            }
            let n = data.len() as u32;
            return Some(with(0, last_error, data, n));
        }
    };
    Some(recv_disconnect_failed(m, p, len, e))
}

/// A failed `WSARecvDisconnect`: its `WSABUF` as it was.
pub(super) fn recv_disconnect_failed(m: &mut ModelState, p: usize, len: u32, e: i32) -> Expected {
    m.processes[p].last_error = e;
    Expected::Exactly(Outcome::Returned {
        value: -1,
        error: e,
        data: Vec::new(),
        out_len: (len > 0).then_some(len as i32),
    })
}

/// `ioctlsocket(s, FIONBIO, &on)`: 0, and the last error cleared.
pub(super) fn set_nonblocking(m: &mut ModelState, p: usize, h: Handle, on: bool) -> Expected {
    match live_or_fail(m, p, h) {
        Ok(id) => {
            m.sockets[id].nonblocking = on;
            // ioctlsocket clears the last error on success, as setsockopt does.
            m.processes[p].last_error = 0;
            status(0, 0)
        }
        Err(e) => e,
    }
}

/// `Sleep(ms)`: virtual time passes (a new epoch); after [`SETTLE_MS`] everything in flight
/// has arrived: a pending overlapped receive completes with the first epoch's bytes (or 0
/// after a FIN), the rest waits to be read.
pub(super) fn sleep(m: &mut ModelState, p: usize, ms: u32) -> Expected {
    if ms > 0 {
        m.epoch += 1;
    }
    if ms >= SETTLE_MS {
        for id in 0..m.sockets.len() {
            m.settle(id);
        }
    }
    status(0, m.processes[p].last_error)
}

impl ModelState {
    /// Bytes the peer of `to` sends it now: in flight, in this epoch's group.
    pub(crate) fn deliver(&mut self, to: usize, bytes: Vec<u8>) -> Option<()> {
        let epoch = self.epoch;
        let st = self.stream_mut(to)?;
        match st.arriving.last_mut() {
            Some((e, group)) if *e == epoch => group.extend(bytes),
            Some(_) | None => st.arriving.push((epoch, bytes)),
        }
        st.in_flight = true;
        Some(())
    }

    /// Everything in flight to socket `id` has arrived.
    fn settle(&mut self, id: usize) {
        let Some(st) = self.stream_mut(id) else {
            return;
        };
        let mut groups = std::mem::take(&mut st.arriving).into_iter();
        let (fin, pending) = (st.peer_fin, st.pending.take());
        st.in_flight = false;
        let mut completed = None;
        if let Some(op) = pending {
            let len = self.ops[op].len;
            match groups.next() {
                Some((_, mut group)) => {
                    let rest = group.split_off(group.len().min(len as usize));
                    completed = Some((op, group));
                    if let Some(st) = self.stream_mut(id) {
                        st.inbox.extend(rest);
                    }
                }
                None if fin => completed = Some((op, Vec::new())),
                None => {
                    if let Some(st) = self.stream_mut(id) {
                        st.pending = Some(op);
                    }
                }
            }
        }
        if let Some(st) = self.stream_mut(id) {
            for (_, g) in groups {
                st.inbox.extend(g);
            }
        }
        if let Some((op, bytes)) = completed {
            self.ops[op].state = super::OpState::Received(bytes);
        }
    }
}
