//! The model's predictions, one function per call, and [`check_program`], which replays a
//! program through the model and the simulator side by side.

use std::collections::BTreeSet;
use std::fmt;

use super::predict_net as net;
use super::predict_ops as ops;
use super::{Expected, ModelState, SocketModel};
use crate::consts::*;
use crate::testing::program::{Op, Outcome, Program, Step, Stepper};
use crate::Sim;

/// The bytes `GetOption` fills its buffer with before the call.
const FILL: u8 = 0xa5;
/// `GetOption`'s buffer size (at least).
const BUF: usize = 16;

pub(super) fn status(value: i64, error: i32) -> Expected {
    Expected::Exactly(Outcome::Returned {
        value,
        error,
        data: Vec::new(),
        out_len: None,
    })
}

/// Every `SOL_SOCKET` option name Winsock defines: the model predicts `WSAENOPROTOOPT` for a
/// name outside this list.
pub const KNOWN_OPTIONS: &[i32] = &[
    SO_DEBUG,
    SO_ACCEPTCONN,
    SO_REUSEADDR,
    SO_KEEPALIVE,
    SO_DONTROUTE,
    SO_BROADCAST,
    SO_LINGER,
    SO_OOBINLINE,
    SO_DONTLINGER,
    SO_EXCLUSIVEADDRUSE,
    SO_SNDBUF,
    SO_RCVBUF,
    0x1003, // SO_SNDLOWAT
    0x1004, // SO_RCVLOWAT
    SO_SNDTIMEO,
    SO_RCVTIMEO,
    SO_ERROR,
    SO_TYPE,
    SO_MAX_MSG_SIZE,
    SO_PROTOCOL_INFOA,
    SO_PROTOCOL_INFOW,
    0x3002, // SO_CONDITIONAL_ACCEPT
    SO_UPDATE_ACCEPT_CONTEXT,
    SO_UPDATE_CONNECT_CONTEXT,
    0x700c, // SO_CONNECT_TIME
    0x1009, // SO_BSP_STATE
    0x3006, // SO_PORT_SCALABILITY
    0x3005, // SO_RANDOMIZE_PORT
    0x3007, // SO_REUSE_UNICASTPORT
    0x2001, // SO_GROUP_ID
    0x2002, // SO_GROUP_PRIORITY
    0x0040, // SO_USELOOPBACK
];

/// The option levels Winsock knows: the model predicts `WSAEINVAL` for any other level.
pub const KNOWN_LEVELS: &[i32] = &[
    SOL_SOCKET,
    IPPROTO_TCP,
    IPPROTO_UDP,
    IPPROTO_IP,
    IPPROTO_IPV6,
];

/// The prediction for `step`, updating `m`; `None` for an op the model does not cover.
pub(super) fn predict(m: &mut ModelState, step: &Step) -> Option<Expected> {
    let p = step.process;
    let n = m.processes.len();
    if p >= n || step.thread != 0 || step.op.names_process().is_some_and(|q| q >= n) {
        return None;
    }
    let started = m.processes[p].count > 0;
    Some(match step.op {
        Op::Startup { version } => startup(m, p, version),
        Op::Cleanup {} => cleanup(m, p),
        // ER-1: every other call fails before a successful startup.
        Op::Socket { slot, .. } if !started => {
            m.processes[p].slots.insert(slot, None);
            m.processes[p].last_error = WSANOTINITIALISED;
            status(INVALID_SOCKET as i64, WSANOTINITIALISED)
        }
        Op::GetOption { len, .. } if !started => {
            m.processes[p].last_error = WSANOTINITIALISED;
            get_failed(m, p, len)
        }
        Op::Accept { slot, .. } if !started => {
            m.processes[p].slots.insert(slot, None);
            fail(m, p, WSANOTINITIALISED)
        }
        Op::Close { .. }
        | Op::SetOption { .. }
        | Op::SetLinger { .. }
        | Op::Bind { .. }
        | Op::Listen { .. }
        | Op::Connect { .. }
        | Op::Send { .. }
        | Op::Recv { .. }
        | Op::Shutdown { .. }
        | Op::SendDisconnect { .. }
        | Op::SetNonBlocking { .. }
            if !started =>
        {
            fail(m, p, WSANOTINITIALISED)
        }
        Op::RecvOverlapped { id, .. } | Op::SendOverlapped { id, .. } if !started => {
            ops::before_startup(m, p, id)
        }
        Op::WaitOverlapped { id, timeout_ms } => ops::wait(m, p, id, timeout_ms)?,
        Op::RecvOverlapped { socket, id, len } => ops::recv(m, p, socket, id, len)?,
        Op::SendOverlapped { socket, id, len } => ops::send(m, p, socket, id, len)?,
        Op::RecvDisconnect { len, .. } if !started => {
            net::recv_disconnect_failed(m, p, len, WSANOTINITIALISED)
        }
        Op::SetNonBlocking { socket, on } => net::set_nonblocking(m, p, socket, on),
        Op::Sleep { ms } => net::sleep(m, p, ms),
        Op::Bind { socket, port } => net::bind(m, p, socket, port)?,
        Op::Listen { socket, backlog } => net::listen(m, p, socket, backlog)?,
        Op::Connect { socket, to, port } => net::connect(m, p, socket, (to, port))?,
        Op::Accept { socket, slot } => net::accept(m, p, socket, slot)?,
        Op::Send { socket, len } => net::send(m, p, socket, len)?,
        Op::Recv { socket, len } => net::recv(m, p, socket, len)?,
        Op::Shutdown { socket, how } => net::shutdown(m, p, socket, how)?,
        Op::SendDisconnect { socket, len } => net::send_disconnect(m, p, socket, len)?,
        Op::RecvDisconnect { socket, len } => net::recv_disconnect(m, p, socket, len)?,
        Op::Socket {
            slot,
            af,
            ty,
            protocol,
        } => socket(m, p, slot, (af, ty, protocol)),
        Op::Close { socket } => match m.live(p, socket) {
            Some(id) => {
                m.closed(id, false);
                m.sockets[id].live = false; // CS-1
                status(0, m.processes[p].last_error)
            }
            None => fail(m, p, WSAENOTSOCK), // ER-2
        },
        Op::GetOption {
            socket,
            level,
            name,
            len,
            null,
        } => get_option(m, p, socket, (level, name), len, null)?,
        Op::SetOption {
            socket,
            level,
            name,
            ref value,
            len,
            null,
        } => set_option(m, p, socket, (level, name), value, len, null)?,
        Op::SetLinger {
            socket,
            onoff,
            seconds,
        } => {
            let v = [onoff.to_ne_bytes(), seconds.to_ne_bytes()].concat();
            set_option(m, p, socket, (SOL_SOCKET, SO_LINGER), &v, 4, false)?
        }
        // Not modelled: datagrams, harness actions.
        Op::SendTo { .. } | Op::Exit { .. } | Op::Kill { .. } | Op::NetworkDown { .. } => {
            return None
        }
    })
}

/// ST-1's negotiation: `None` for `WSAVERNOTSUPPORTED`.
fn negotiates(word: u16) -> bool {
    word & 0xff != 0
}

/// ST-1, ST-4: WSAStartup returns its error and leaves the last error alone.
fn startup(m: &mut ModelState, p: usize, version: u16) -> Expected {
    let pm = &mut m.processes[p];
    let value = if negotiates(version) {
        pm.count += 1;
        0
    } else {
        WSAVERNOTSUPPORTED
    };
    status(i64::from(value), pm.last_error)
}

/// CL-1, CL-2, CL-3; the final cleanup takes every socket of the process (CL-6, CL-8).
fn cleanup(m: &mut ModelState, p: usize) -> Expected {
    if m.processes[p].count == 0 {
        return fail(m, p, WSANOTINITIALISED);
    }
    let pm = &mut m.processes[p];
    pm.count -= 1;
    pm.last_error = 0;
    if pm.count == 0 {
        let mine: Vec<usize> = (0..m.sockets.len())
            .filter(|&i| m.sockets[i].process == p && m.sockets[i].live)
            .collect();
        for id in mine {
            m.closed(id, true);
            m.sockets[id].live = false;
        }
        m.forget_ops(p);
    }
    status(0, 0)
}

pub(super) fn fail(m: &mut ModelState, p: usize, e: i32) -> Expected {
    m.processes[p].last_error = e; // ER-4
    status(i64::from(SOCKET_ERROR), e)
}

/// SP-11 with the argument checks Windows makes: the type of the catalog entry chosen, and
/// whether it is the disconnect-data provider's.
fn catalog_match(af: i32, ty: i32, protocol: i32) -> Result<(i32, bool), i32> {
    // The built-in catalog, in order: (type, protocol, chosen for protocol 0).
    const ENTRIES: [(i32, i32, bool); 3] = [
        (SOCK_STREAM, IPPROTO_TCP, true),
        (SOCK_DGRAM, IPPROTO_UDP, true),
        (SOCK_STREAM, IPPROTO_WS2SIM_DISCONNECT_DATA, false),
    ];
    if af == 0 && protocol == 0 {
        return Err(WSAEINVAL);
    }
    if ty != 0 && ty != SOCK_STREAM && ty != SOCK_DGRAM {
        return Err(WSAESOCKTNOSUPPORT);
    }
    if af != 0 && af != i32::from(AF_INET) && af != i32::from(AF_INET6) {
        return Err(WSAEAFNOSUPPORT);
    }
    ENTRIES
        .iter()
        .find(|(ety, eproto, zero)| {
            (ty == 0 || ty == *ety)
                && if protocol == 0 {
                    *zero
                } else {
                    protocol == *eproto
                }
        })
        .map(|(ety, eproto, _)| (*ety, *eproto == IPPROTO_WS2SIM_DISCONNECT_DATA))
        .ok_or(WSAEPROTONOSUPPORT)
}

fn socket(m: &mut ModelState, p: usize, slot: u8, (af, ty, protocol): (i32, i32, i32)) -> Expected {
    match catalog_match(af, ty, protocol) {
        Ok((ty, disconnect_data)) => {
            let id = m.sockets.len();
            m.sockets.push(SocketModel {
                process: p,
                ty,
                live: true,
                onoff: 0,
                seconds: 0,
                disconnect_data,
                nonblocking: false,
                bound: super::Bound::No,
                conn: super::Conn::Fresh,
            });
            m.seen.push(id);
            m.processes[p].slots.insert(slot, Some(id));
            m.processes[p].last_error = 0;
            Expected::NewHandle { error: 0 }
        }
        Err(e) => {
            m.processes[p].slots.insert(slot, None);
            m.processes[p].last_error = e;
            status(INVALID_SOCKET as i64, e)
        }
    }
}

/// A failed `GetOption`: the buffer untouched, `optlen` as it was.
fn get_failed(m: &ModelState, p: usize, len: Option<i32>) -> Expected {
    got_option(m, p, -1, [FILL; BUF], len, len)
}

fn got_option(
    m: &ModelState,
    p: usize,
    value: i64,
    buf: [u8; BUF],
    len: Option<i32>,
    out: Option<i32>,
) -> Expected {
    let size = len
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(0)
        .max(BUF);
    let mut data = vec![FILL; size];
    data[..BUF].copy_from_slice(&buf);
    Expected::Exactly(Outcome::Returned {
        value,
        error: m.processes[p].last_error,
        data,
        out_len: len.map(|_| out.unwrap_or(0)),
    })
}

/// getsockopt: the handle (ER-2), the level, then the option (CS-8: no linger on datagram
/// sockets), then the pointers (ER-3), then the short-buffer behaviour of each option shape.
fn get_option(
    m: &mut ModelState,
    p: usize,
    socket: crate::testing::program::Handle,
    (level, name): (i32, i32),
    len: Option<i32>,
    null: bool,
) -> Option<Expected> {
    let Some(id) = m.live(p, socket) else {
        m.processes[p].last_error = WSAENOTSOCK; // ER-2
        return Some(get_failed(m, p, len));
    };
    let s = &m.sockets[id];
    let linger = name == SO_LINGER || name == SO_DONTLINGER;
    let e = if !KNOWN_LEVELS.contains(&level) {
        Some(WSAEINVAL)
    } else if level != SOL_SOCKET {
        return None; // other levels: not modelled
    } else if !KNOWN_OPTIONS.contains(&name) || (linger && s.ty == SOCK_DGRAM) {
        Some(WSAENOPROTOOPT)
    } else if name != SO_TYPE && !linger {
        return None; // other SOL_SOCKET options: not modelled
    } else if len.is_none() || null {
        Some(WSAEFAULT)
    } else {
        None
    };
    if let Some(e) = e {
        m.processes[p].last_error = e;
        return Some(get_failed(m, p, len));
    }
    let have = usize::try_from(len.unwrap_or(0)).unwrap_or(0);
    let mut buf = [FILL; BUF];
    let (onoff, seconds, ty) = (s.onoff, s.seconds, s.ty);
    let ok = |buf, out| Some(got_option(m, p, 0, buf, len, Some(out)));
    match name {
        SO_TYPE if have >= 4 => {
            buf[..4].copy_from_slice(&ty.to_ne_bytes());
            ok(buf, 4)
        }
        SO_LINGER if have >= 4 => {
            buf[..2].copy_from_slice(&onoff.to_ne_bytes());
            buf[2..4].copy_from_slice(&seconds.to_ne_bytes());
            ok(buf, 4)
        }
        SO_LINGER if have > 0 => {
            buf[..have].fill(0);
            short(m, p, buf, len)
        }
        SO_DONTLINGER if have > 0 => {
            let v = u32::from(onoff == 0).to_ne_bytes();
            let n = have.min(4);
            buf[..n].copy_from_slice(&v[..n]);
            ok(buf, if have >= 4 { 4 } else { 1 })
        }
        _ => short(m, p, buf, len),
    }
}

/// A buffer too short for the option: WSAEFAULT with what was written.
fn short(m: &mut ModelState, p: usize, buf: [u8; BUF], len: Option<i32>) -> Option<Expected> {
    m.processes[p].last_error = WSAEFAULT;
    Some(got_option(m, p, -1, buf, len, len))
}

/// setsockopt(SOL_SOCKET, SO_LINGER / SO_DONTLINGER) (CS-8, ER-3); unknown levels fail
/// WSAEINVAL; other options are not modelled.
fn set_option(
    m: &mut ModelState,
    p: usize,
    socket: crate::testing::program::Handle,
    (level, name): (i32, i32),
    value: &[u8],
    len: i32,
    null: bool,
) -> Option<Expected> {
    let Some(id) = m.live(p, socket) else {
        return Some(fail(m, p, WSAENOTSOCK)); // ER-2
    };
    if !KNOWN_LEVELS.contains(&level) {
        return Some(fail(m, p, WSAEINVAL));
    }
    if level != SOL_SOCKET || (name != SO_LINGER && name != SO_DONTLINGER) {
        return None;
    }
    if m.sockets[id].ty == SOCK_DGRAM {
        return Some(fail(m, p, WSAENOPROTOOPT)); // CS-8
    }
    if null || len < 0 {
        return Some(fail(m, p, WSAEFAULT));
    }
    let n = len as usize;
    let mut bytes = value.to_vec();
    bytes.resize(bytes.len().max(n).max(4), 0);
    let s = &mut m.sockets[id];
    match name {
        SO_LINGER if n < 4 => return Some(fail(m, p, WSAEFAULT)),
        SO_LINGER => {
            s.onoff = u16::from_ne_bytes([bytes[0], bytes[1]]);
            s.seconds = u16::from_ne_bytes([bytes[2], bytes[3]]);
        }
        // A zero-length BOOL leaves the option as it was.
        _ if n == 0 => {}
        // CS-8: SO_DONTLINGER = !l_onoff; l_linger kept.
        _ => s.onoff = u16::from(!bytes[..n.min(4)].iter().any(|&b| b != 0)),
    }
    m.processes[p].last_error = 0;
    Some(status(0, 0))
}

/// Where a program's run left the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The step (from 0).
    pub step: usize,
    /// The step itself.
    pub what: Step,
    /// What the model predicted (`None`: the model does not cover this op).
    pub expected: Option<Expected>,
    /// What the simulator returned.
    pub got: Outcome,
    /// The simulation's seed.
    pub seed: u64,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.expected {
            None => write!(
                f,
                "ws2sim model (seed {}): step {} ({:?}) is not in the model",
                self.seed, self.step, self.what
            ),
            Some(e) => write!(
                f,
                "ws2sim model (seed {}): step {} of process {}: {:?}\n  model:     {:?}\n  simulator: {:?}",
                self.seed, self.step, self.what.process, self.what.op, e, self.got
            ),
        }
    }
}

impl std::error::Error for Mismatch {}

impl Expected {
    /// Whether `got` is what was expected; `given` holds every handle value given out before
    /// (a new handle must not be among them, nor 0 or `INVALID_SOCKET`, [CS-1]).
    ///
    /// [CS-1]: crate::rules#cs-1
    pub fn matches(&self, got: &Outcome, given: &BTreeSet<i64>) -> bool {
        match (self, got) {
            (Expected::Exactly(e), g) => e == g,
            (
                Expected::NewHandle { error },
                Outcome::Returned {
                    value, error: ge, ..
                },
            ) => {
                ge == error
                    && *value != 0
                    && *value != INVALID_SOCKET as i64
                    && !given.contains(value)
            }
            (Expected::NewHandle { .. }, _) => false,
        }
    }
}

/// Runs `program` (sequential) on a simulation of `seed` and through the model side by side,
/// and returns the first step where they disagree: what a saved counterexample replays.
///
/// ```
/// use ws2sim::testing::model::check_program;
/// use ws2sim::testing::program::{Handle, Op, Program};
///
/// let mut p = Program::sequential(&[("app", "localhost")]);
/// p.push(0, Op::Startup { version: 0x0202 });
/// p.push(0, Op::Socket { slot: 0, af: 2, ty: 1, protocol: 6 });
/// p.push(0, Op::Close { socket: Handle::Slot(0) });
/// p.push(0, Op::Close { socket: Handle::Slot(0) }); // WSAENOTSOCK, as the model says
/// p.push(0, Op::Cleanup {});
/// assert_eq!(check_program(&p, 0), Ok(()));
/// ```
///
/// # Errors
/// The first [`Mismatch`] (a step the model does not cover is one).
pub fn check_program(program: &Program, seed: u64) -> Result<(), Box<Mismatch>> {
    let sim = Sim::builder().seed(seed).build();
    let mut model = ModelState::new(seed, program.processes.clone());
    let mut stepper = Stepper::new(&sim, &program.processes);
    let mut given = BTreeSet::new();
    for (i, step) in program.steps.iter().enumerate() {
        model.apply(step);
        let got = stepper.step(step);
        if let Err(m) = compare(i, step, &model, &got, &mut given) {
            drop(stepper.finish());
            return Err(m);
        }
    }
    drop(stepper.finish());
    Ok(())
}

/// Compares step `i`'s outcome with the model's prediction; records a new handle in `given`.
pub(crate) fn compare(
    i: usize,
    step: &Step,
    model: &ModelState,
    got: &Outcome,
    given: &mut BTreeSet<i64>,
) -> Result<(), Box<Mismatch>> {
    let ok = model
        .expected
        .as_ref()
        .is_some_and(|e| e.matches(got, given));
    if !ok {
        return Err(Box::new(Mismatch {
            step: i,
            what: step.clone(),
            expected: model.expected.clone(),
            got: got.clone(),
            seed: model.seed,
        }));
    }
    if let (Some(Expected::NewHandle { .. }), Some(v)) = (&model.expected, got.returned()) {
        given.insert(v);
    }
    Ok(())
}
