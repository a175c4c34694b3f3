//! The step mixes [`Model`](super::Model) draws from: the weights of each op the model covers,
//! and the strategies that draw their arguments (valid and garbage values, live, stale,
//! foreign and made-up handles). This file does not predict anything: `predict` does.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

use super::predict::{KNOWN_LEVELS, KNOWN_OPTIONS};
use super::{Bound, Conn, ModelState};
use crate::consts::*;
use crate::testing::program::{Handle, Op, Step};

/// How often each op the model covers is drawn (relative weights; 0 never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    /// `Startup`, with versions the negotiation table has cases for, and any word.
    pub startup: u32,
    /// `Cleanup`.
    pub cleanup: u32,
    /// `Socket`, with valid and garbage arguments.
    pub socket: u32,
    /// `Close` on live, closed, stale, foreign and made-up handles.
    pub close: u32,
    /// `GetOption` (`SO_TYPE`, `SO_LINGER`, `SO_DONTLINGER`, unknown names and levels, short
    /// and NULL buffers).
    pub get_option: u32,
    /// `SetOption` (`SO_LINGER`, `SO_DONTLINGER`, short and NULL buffers) and `SetLinger`.
    pub set_option: u32,
    /// Connections: `Bind`, `Listen`, `Connect`, `Accept` (of a queued connection),
    /// `Shutdown`, and `Sleep` (which lets what is in flight arrive).
    pub connect: u32,
    /// Data on connections: `Send`, and `Recv` of what has arrived.
    pub data: u32,
}

/// A mix of steps for [`Model`](super::Model): the weights, and what every process does before the
/// first generated step.
pub trait Mix: 'static {
    /// The weights.
    const WEIGHTS: Weights;
    /// Each process calls `WSAStartup(2.2)` once before the generated steps.
    const STARTED: bool;
}

/// Every op about equally often, nothing started.
#[derive(Debug, Clone, Copy)]
pub struct Balanced;

impl Mix for Balanced {
    const WEIGHTS: Weights = Weights {
        startup: 3,
        cleanup: 2,
        socket: 5,
        close: 3,
        get_option: 4,
        set_option: 3,
        connect: 4,
        data: 4,
    };
    const STARTED: bool = false;
}

/// Startups and cleanups most: the count and what a final cleanup takes.
#[derive(Debug, Clone, Copy)]
pub struct CleanupHeavy;

impl Mix for CleanupHeavy {
    const WEIGHTS: Weights = Weights {
        startup: 5,
        cleanup: 5,
        socket: 5,
        close: 2,
        get_option: 1,
        set_option: 1,
        connect: 2,
        data: 1,
    };
    const STARTED: bool = false;
}

/// Options on few sockets, every process started first.
#[derive(Debug, Clone, Copy)]
pub struct OptionHeavy;

impl Mix for OptionHeavy {
    const WEIGHTS: Weights = Weights {
        startup: 1,
        cleanup: 0,
        socket: 2,
        close: 1,
        get_option: 6,
        set_option: 6,
        connect: 1,
        data: 1,
    };
    const STARTED: bool = true;
}

/// Connections and data: servers listen, clients connect, both send, shut down, read what
/// arrived and close, every process started first.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionHeavy;

impl Mix for ConnectionHeavy {
    const WEIGHTS: Weights = Weights {
        startup: 1,
        cleanup: 1,
        socket: 4,
        close: 1,
        get_option: 1,
        set_option: 1,
        connect: 8,
        data: 8,
    };
    const STARTED: bool = true;
}

fn handle() -> impl Strategy<Value = Handle> {
    prop_oneof![
        6 => (0u8..4).prop_map(Handle::Slot),
        3 => any::<u16>().prop_map(Handle::Seen),
        1 => prop_oneof![Just(0), Just(u64::MAX), any::<u64>()].prop_map(Handle::Raw),
    ]
}

fn version() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => (0u16..=4, 0u16..=4).prop_map(|(major, minor)| major | minor << 8),
        1 => any::<u16>(),
    ]
}

fn socket_args() -> impl Strategy<Value = (i32, i32, i32)> {
    let af = prop_oneof![6 => Just(i32::from(AF_INET)), 1 => Just(0), 1 => any::<i32>()];
    let ty = prop_oneof![
        4 => Just(SOCK_STREAM),
        3 => Just(SOCK_DGRAM),
        1 => Just(0),
        1 => any::<i32>(),
    ];
    let protocol = prop_oneof![
        3 => Just(0),
        2 => Just(IPPROTO_TCP),
        2 => Just(IPPROTO_UDP),
        1 => Just(IPPROTO_WS2SIM_DISCONNECT_DATA),
        1 => any::<i32>(),
    ];
    (af, ty, protocol)
}

fn level() -> impl Strategy<Value = i32> {
    prop_oneof![
        8 => Just(SOL_SOCKET),
        1 => any::<i32>().prop_filter("a known level", |l| !KNOWN_LEVELS.contains(l)),
    ]
}

fn len() -> impl Strategy<Value = i32> {
    prop_oneof![3 => Just(4), 3 => -4i32..=16, 1 => Just(0)]
}

fn get_option() -> impl Strategy<Value = Op> {
    let name = prop_oneof![
        2 => Just(SO_TYPE),
        3 => Just(SO_LINGER),
        2 => Just(SO_DONTLINGER),
        1 => any::<i32>().prop_filter("a known option", |n| !KNOWN_OPTIONS.contains(n)),
    ];
    let len = prop_oneof![8 => len().prop_map(Some), 1 => Just(None)];
    (handle(), level(), name, len, prop::bool::weighted(0.1)).prop_map(
        |(socket, level, name, len, null)| Op::GetOption {
            socket,
            level,
            name,
            len,
            null,
        },
    )
}

fn set_option() -> impl Strategy<Value = Op> {
    let name = prop_oneof![Just(SO_LINGER), Just(SO_DONTLINGER)];
    // Small byte values, so that on/off and zero/non-zero both come up often.
    let value = prop_oneof![
        3 => prop::collection::vec(0u8..=2, 16),
        1 => prop::collection::vec(any::<u8>(), 16),
    ];
    let set = (
        handle(),
        level(),
        name,
        value,
        len(),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(socket, level, name, value, len, null)| Op::SetOption {
            socket,
            level,
            name,
            value,
            len,
            null,
        });
    let linger =
        (handle(), 0u16..=2, any::<u16>()).prop_map(|(socket, onoff, seconds)| Op::SetLinger {
            socket,
            onoff,
            seconds,
        });
    prop_oneof![3 => set, 1 => linger]
}

/// Connection steps on any handle (their error paths), and sleeps.
fn connection_op(n: usize) -> impl Strategy<Value = Op> {
    let port = prop_oneof![Just(7u16), Just(80), Just(0)];
    prop_oneof![
        3 => (handle(), port.clone()).prop_map(|(socket, port)| Op::Bind { socket, port }),
        2 => (handle(), 1i32..=3).prop_map(|(socket, backlog)| Op::Listen { socket, backlog }),
        3 => (handle(), 0..n, prop_oneof![Just(7u16), Just(80)])
            .prop_map(|(socket, to, port)| Op::Connect { socket, to, port }),
        1 => (handle(), 0u8..4).prop_map(|(socket, slot)| Op::Accept { socket, slot }),
        1 => (handle(), prop_oneof![Just(SD_SEND), Just(7)])
            .prop_map(|(socket, how)| Op::Shutdown { socket, how }),
        1 => (handle(), prop_oneof![Just(0u32), Just(3)])
            .prop_map(|(socket, len)| Op::SendDisconnect { socket, len }),
        1 => (handle(), prop_oneof![Just(0u32), Just(8)])
            .prop_map(|(socket, len)| Op::RecvDisconnect { socket, len }),
        2 => prop_oneof![Just(0u32), Just(1), Just(20)].prop_map(|ms| Op::Sleep { ms }),
        1 => (handle(), any::<bool>()).prop_map(|(socket, on)| Op::SetNonBlocking { socket, on }),
    ]
}

/// Data steps on any handle (their error paths).
fn data_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (handle(), 1u32..=16).prop_map(|(socket, len)| Op::Send { socket, len }),
        (handle(), 1u32..=32).prop_map(|(socket, len)| Op::Recv { socket, len }),
    ]
}

/// The ops the model covers, drawn with weights `w` (the connection ops on any handle; the
/// state-aware choices are in [`model_step`]).
pub(crate) fn model_op(w: Weights, n: usize) -> BoxedStrategy<Op> {
    prop_oneof![
        w.connect => connection_op(n.max(1)),
        w.data => data_op(),
        w.startup => version().prop_map(|version| Op::Startup { version }),
        w.cleanup => Just(Op::Cleanup {}),
        w.socket => (0u8..4, socket_args())
            .prop_map(|(slot, (af, ty, protocol))| Op::Socket { slot, af, ty, protocol }),
        w.close => handle().prop_map(|socket| Op::Close { socket }),
        w.get_option => get_option(),
        w.set_option => set_option(),
    ]
    .boxed()
}

/// `(process, slot)` of the live sockets for which a step is predictable and interesting:
/// listeners with a queued connection, connected sockets that may send, may read, may shut
/// down.
#[derive(Default)]
struct Targets {
    bind: Vec<(usize, u8)>,
    listen: Vec<(usize, u8)>,
    connect: Vec<(usize, u8)>,
    accept: Vec<(usize, u8)>,
    send: Vec<(usize, u8)>,
    recv: Vec<(usize, u8)>,
    /// `(process, port)` of the listeners (a process stands for its host).
    listeners: Vec<(usize, u16)>,
    /// Something is in flight to a connected socket: a `Sleep` lets it arrive.
    in_flight: bool,
    /// Connected sockets an overlapped receive can be posted on.
    recv_overlapped: Vec<(usize, u8)>,
    /// `(process, id)` of the overlapped operations started.
    ops: Vec<(usize, u8)>,
}

fn targets(state: &ModelState) -> Targets {
    let mut t = Targets::default();
    for (p, pm) in state.processes.iter().enumerate() {
        t.ops.extend(pm.ops.keys().map(|&id| (p, id)));
        for (&slot, id) in &pm.slots {
            let Some(s) = id.map(|i| &state.sockets[i]).filter(|s| s.live) else {
                continue;
            };
            let stream = s.ty == SOCK_STREAM;
            match (&s.conn, s.bound) {
                (Conn::Fresh, Bound::No) => t.bind.push((p, slot)),
                (Conn::Fresh, Bound::Port(_) | Bound::Any) if stream => t.listen.push((p, slot)),
                (Conn::Listening { .. }, Bound::Port(port)) => t.listeners.push((p, port)),
                _ => {}
            }
            if stream && s.conn == Conn::Fresh {
                t.connect.push((p, slot));
            }
            match &s.conn {
                Conn::Listening { queue, .. } if !queue.is_empty() || s.nonblocking => {
                    t.accept.push((p, slot))
                }
                Conn::Connected(st) => {
                    t.in_flight |= st.in_flight;
                    if !st.shut_send && !st.peer_closed {
                        t.send.push((p, slot));
                    }
                    if !st.in_flight && st.pending.is_none() {
                        t.recv_overlapped.push((p, slot));
                        if !st.inbox.is_empty() || st.peer_fin || s.nonblocking {
                            t.recv.push((p, slot));
                        }
                    }
                }
                Conn::Listening { .. } | Conn::Fresh | Conn::Unknown => {}
            }
        }
    }
    t
}

/// One step in `state`: any op the model covers in any process, or (by `w.connect` and
/// `w.data`) an accept, send, receive or shutdown where the model can say what it returns.
pub(crate) fn model_step(state: &ModelState, w: Weights) -> BoxedStrategy<Step> {
    let n = state.processes.len();
    let any = (0..n, model_op(w, n)).prop_map(|(process, op)| Step {
        process,
        thread: 0,
        op,
    });
    let mut options: Vec<(u32, BoxedStrategy<Step>)> = vec![(20, any.boxed())];
    let t = targets(state);
    let valid_socket = (
        0..n,
        0u8..4,
        prop_oneof![Just(SOCK_STREAM), Just(SOCK_DGRAM)],
    )
        .prop_map(|(process, slot, ty)| Step {
            process,
            thread: 0,
            op: Op::Socket {
                slot,
                af: i32::from(AF_INET),
                ty,
                protocol: 0,
            },
        });
    options.push((w.socket, valid_socket.boxed()));
    let on = |list: Vec<(usize, u8)>, make: fn(Handle, u32) -> Op| {
        prop::sample::select(list)
            .prop_flat_map(move |(process, slot)| {
                (1u32..=24).prop_map(move |k| Step {
                    process,
                    thread: 0,
                    op: make(Handle::Slot(slot), k),
                })
            })
            .boxed()
    };
    if w.connect > 0 {
        if !t.bind.is_empty() {
            let bind = |socket, k: u32| Op::Bind {
                socket,
                port: [7, 80, 0][k as usize % 3],
            };
            options.push((w.connect * 2, on(t.bind, bind)));
        }
        if !t.listen.is_empty() {
            let listen = |socket, k: u32| Op::Listen {
                socket,
                backlog: 1 + (k % 3) as i32,
            };
            options.push((w.connect * 2, on(t.listen, listen)));
        }
        if !t.connect.is_empty() {
            // With no listener, connects are refused: drawn rarely.
            let (to, weight) = if t.listeners.is_empty() {
                (vec![(0, 7)], 1)
            } else {
                (t.listeners, w.connect * 3)
            };
            let connect = (prop::sample::select(t.connect), prop::sample::select(to)).prop_map(
                |((process, slot), (to, port))| Step {
                    process,
                    thread: 0,
                    op: Op::Connect {
                        socket: Handle::Slot(slot),
                        to,
                        port,
                    },
                },
            );
            options.push((weight, connect.boxed()));
        }
    }
    if !t.accept.is_empty() && w.connect > 0 {
        let accept = |socket, k: u32| Op::Accept {
            socket,
            slot: (k % 4) as u8,
        };
        options.push((w.connect * 2, on(t.accept, accept)));
    }
    if !t.send.is_empty() && w.data > 0 {
        let shutdown = |socket, _| Op::Shutdown {
            socket,
            how: SD_SEND,
        };
        options.push((w.connect.max(1), on(t.send.clone(), shutdown)));
        let disconnect = |socket, k: u32| Op::SendDisconnect {
            socket,
            len: if k.is_multiple_of(3) { 3 } else { 0 },
        };
        options.push((w.connect.max(1), on(t.send.clone(), disconnect)));
        if !t.recv_overlapped.is_empty() {
            let receive = |socket, k: u32| Op::RecvDisconnect {
                socket,
                len: [0, 2, 8][k as usize % 3],
            };
            options.push((w.connect.max(1), on(t.recv_overlapped.clone(), receive)));
        }
        options.push((
            w.data * 2,
            on(t.send.clone(), |socket, len| Op::Send { socket, len }),
        ));
    }
    if t.in_flight && w.data > 0 {
        let settle = (0..n).prop_map(|process| Step {
            process,
            thread: 0,
            op: Op::Sleep { ms: 20 },
        });
        options.push((w.data, settle.boxed()));
    }
    if w.data > 0 {
        if !t.recv_overlapped.is_empty() {
            let post = |socket, k: u32| Op::RecvOverlapped {
                socket,
                id: (k % 3) as u8,
                len: 1 + k % 16,
            };
            options.push((w.data, on(t.recv_overlapped, post)));
        }
        if !t.send.is_empty() {
            let post = |socket, k: u32| Op::SendOverlapped {
                socket,
                id: (k % 3) as u8,
                len: 1 + k % 16,
            };
            options.push((w.data, on(t.send.clone(), post)));
        }
        if !t.ops.is_empty() {
            let wait = prop::sample::select(t.ops).prop_map(|(process, id)| Step {
                process,
                thread: 0,
                op: Op::WaitOverlapped { id, timeout_ms: 0 },
            });
            options.push((w.data * 2, wait.boxed()));
        }
    }
    if !t.recv.is_empty() && w.data > 0 {
        options.push((
            w.data * 2,
            on(t.recv, |socket, len| Op::Recv { socket, len }),
        ));
    }
    proptest::strategy::Union::new_weighted(options).boxed()
}
