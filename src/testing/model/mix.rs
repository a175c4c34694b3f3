//! The step mixes [`Model`](super::Model) draws from: the weights of each op the model covers,
//! and the strategies that draw their arguments (valid and garbage values, live, stale,
//! foreign and made-up handles). This file does not predict anything: `predict` does.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

use super::predict::{KNOWN_LEVELS, KNOWN_OPTIONS};
use crate::consts::*;
use crate::testing::program::{Handle, Op};

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
}

/// A mix of steps for [`Model`]: the weights, and what every process does before the
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

/// The ops the model covers, drawn with weights `w`.
pub(crate) fn model_op(w: Weights) -> BoxedStrategy<Op> {
    prop_oneof![
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
