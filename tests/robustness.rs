//! ER-4 robustness: random programs over every `sys` function, with random, short, NULL,
//! stale and foreign arguments in random order, never panic, and every failing call leaves a
//! last error the simulator knows (TH-2: and they replay byte for byte).
//!
//! A program runs on one `Sim` with two hosts ("a": processes 0 and 2, "b": process 1), one
//! step at a time, each step inside `Process::run` of its process (single-threaded). Pointers
//! are always NULL or valid for the length passed (the `sys` contract); every `OVERLAPPED` and
//! every buffer handed to an overlapped call is leaked, so a late completion always writes
//! into live memory. Every socket is made non-blocking right after it is created, and most
//! waits are short, so few steps block for ever; a deadlock report is tolerated (some steps
//! are made to deadlock), any other panic fails the property.
//!
//! Issue 12 extends the programs: virtual time can jump to its end
//! (`Sim::advance(Duration::MAX)`) and calls that wait a while go on after it (TH-10); half the
//! cases install a layered provider over TCP and UDP that lies in a way chosen per case (byte
//! counts too big or `usize::MAX`, lengths written back beyond the buffer or negative,
//! WAIT_TIMEOUT, WSA_IO_PENDING from a call that is not overlapped: SP-12), and every count or
//! length a call reports must stay within the buffers it was given; and main threads block for
//! ever inside completion routines and Winsock 1.1 blocking hooks, so that the deadlock report
//! ends them there (TH-9). Threads left blocked inside routines and hooks on threads of their
//! own, ended later by `Process::kill`/`exit`, a deadlock report or the `Sim`'s drop, still
//! abort the binary at times (issue 12): those programs run in a child process, at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{null, null_mut};
use std::sync::Mutex;
use std::time::Duration;

use proptest::prelude::*;
use ws2sim::spi::{
    self, DataLocation, Negotiated, Provider, ProviderInfo, Spi, Stop, TCP_ENTRY, UDP_ENTRY,
};
use ws2sim::sys::*;
use ws2sim::{api, Guid, Process, Profile, Rule, Sim, Socket, ThreadHandle, Version, WsaError};

mod common;
use common::{name_mut, name_ptr, proptest_cases, sockaddr};

/// A last-error sentinel no call sets by itself (`from_code` does not know it).
const BEEF: i32 = 0xdead_beef_u32 as i32;
/// `AF_INET` as `socket` takes it.
const INET: i32 = AF_INET as i32;
/// Ports the programs bind and connect to, so that connections do happen.
const PORTS: [u16; 2] = [7000, 7001];

// ---------------------------------------------------------------------------------------------
// The program.

/// Which pool a handle comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sock,
    Event,
    Port,
}

/// A handle argument: one returned earlier in the case (live or not), counted back from the
/// newest (`Mine`: this process's, `Any`: any process's), one next to such a handle, or a
/// made-up value.
#[derive(Debug, Clone, Copy)]
enum H {
    Mine(Kind, u8),
    Any(Kind, u8),
    Near(Kind, u8, i8),
    Zero,
    Invalid,
    Raw(u64),
}

/// An IPv4 address: loopback, the host of process `n`, the wildcard, a host that does not
/// exist, or any value.
#[derive(Debug, Clone, Copy)]
enum Ip {
    Loopback,
    HostOf(u8),
    Any,
    Unknown,
    Raw(u32),
}

/// An address argument (`bind`, `connect`, `sendto`, `WSASendTo`) with its length.
#[derive(Debug, Clone)]
enum Addr {
    Null(i32),
    In {
        family: u16,
        ip: Ip,
        port: u16,
        len: i32,
    },
    Garbage {
        bytes: Vec<u8>,
        len: i32,
    },
}

/// An input buffer with its length (never longer than the memory behind it).
#[derive(Debug, Clone, Copy)]
enum Buf {
    Null(i32),
    Mem { size: u32, len: i32 },
}

/// An output buffer with a length pointer (`accept`, `getsockopt`, `recvfrom`, ...); `None`
/// for a NULL length pointer.
#[derive(Debug, Clone, Copy)]
enum Out {
    Null(Option<i32>),
    Mem { size: u32, len: Option<i32> },
}

/// A `WSABUF` for `WSASendDisconnect`/`WSARecvDisconnect`.
#[derive(Debug, Clone, Copy)]
enum Disc {
    Null,
    NullBuf(u32),
    Mem { size: u32, len: u32 },
}

/// One `WSABUF` of an array.
#[derive(Debug, Clone, Copy)]
enum Wb {
    NullBuf(u32),
    Mem { size: u32, len: u32 },
}

/// A `WSABUF` array and the count passed with it (never more than the array holds).
#[derive(Debug, Clone)]
enum Bufs {
    Null(u32),
    Arr { bufs: Vec<Wb>, count: u32 },
}

/// An `OVERLAPPED` (leaked): its `hEvent` and whether a completion routine goes with it.
#[derive(Debug, Clone, Copy)]
struct Ov {
    event: H,
    routine: bool,
}

/// The `OVERLAPPED` passed to `WSAGetOverlappedResult`.
#[derive(Debug, Clone, Copy)]
enum OvSel {
    Null,
    Used(u8),
    Fresh,
}

/// The `WSAPROTOCOL_INFOW` passed to `WSASocketW`.
#[derive(Debug, Clone, Copy)]
enum Info {
    Default,
    Enumerated(u8),
    Random {
        id: u32,
        af: i32,
        ty: i32,
        proto: i32,
        flags1: u32,
    },
}

/// An `FD_SET`: the handles and a count that may lie (the rest of the array is 0).
#[derive(Debug, Clone)]
struct Set {
    hs: Vec<H>,
    count: Option<u32>,
}

/// How a completion routine blocks for ever (TH-9).
#[derive(Debug, Clone, Copy)]
enum Block {
    /// `SleepEx(WSA_INFINITE, FALSE)`.
    Sleep,
    /// A blocking `recv` on a UDP socket nobody sends to.
    Recv,
    /// `WSAWaitForMultipleEvents(WSA_INFINITE)` on an event nobody sets.
    Wait,
}

/// A call that waits `ms` milliseconds at most (TH-10: also at the end of time).
#[derive(Debug, Clone, Copy)]
enum Timed {
    SleepEx(bool),
    Wait(H, bool),
    /// `select` on the socket for reading, writing or an exception (0, 1, 2).
    Select(H, u8),
    Queued(H),
    ThreadSleep,
}

/// How the case's layered provider lies (SP-12), on every `every`-th call it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lie {
    /// Byte counts this much too big; lengths written back too.
    Over(usize),
    /// Byte counts of `usize::MAX`; lengths of `i32::MAX`.
    Max,
    /// Lengths written back as -1 (counts are honest).
    Negative,
    /// WAIT_TIMEOUT (a kernel32 code) from any call.
    WaitTimeout,
    /// WSA_IO_PENDING from calls that are not overlapped.
    IoPending,
}

/// The case's lying layered provider.
#[derive(Debug, Clone, Copy)]
struct Liar {
    lie: Lie,
    every: u32,
}

/// One step of a program.
#[derive(Debug, Clone)]
enum Op {
    Startup {
        word: u16,
        null: bool,
    },
    Cleanup,
    GetLastError,
    SetLastError(i32),
    Socket {
        af: i32,
        ty: i32,
        proto: i32,
    },
    WsaSocket {
        af: i32,
        ty: i32,
        proto: i32,
        info: Option<Info>,
        g: u32,
        flags: u32,
    },
    Close(H),
    Bind(H, Addr),
    Connect(H, Addr),
    Listen(H, i32),
    Accept(H, Out),
    Send(H, Buf, i32),
    Recv(H, Buf, i32),
    SendTo(H, Buf, i32, Addr),
    RecvFrom(H, Buf, i32, Out),
    SockName(H, Out),
    PeerName(H, Out),
    Shutdown(H, i32),
    SendDisconnect(H, Disc),
    RecvDisconnect(H, Disc),
    SetOpt {
        s: H,
        level: i32,
        name: i32,
        val: Buf,
        fill: u64,
    },
    GetOpt {
        s: H,
        level: i32,
        name: i32,
        val: Out,
    },
    Ioctl {
        s: H,
        cmd: i32,
        arg: Option<u32>,
    },
    /// `WSAIoctl` (EX-1); `guid`: the input is `WSAID_WSARECVMSG` rather than `input`.
    WsaIoctl {
        s: H,
        code: u32,
        guid: bool,
        input: Buf,
        output: Buf,
        returned: bool,
        ov: Option<Ov>,
    },
    /// `ConnectEx` (EX-3), as `WSAID_CONNECTEX` hands it out.
    ConnectEx {
        s: H,
        to: Addr,
        data: Buf,
        ov: Option<Ov>,
    },
    /// `AcceptEx` (EX-2) on `l` into `a`, with an output buffer of exactly the three lengths
    /// (or NULL), then `GetAcceptExSockaddrs` on that buffer.
    AcceptEx {
        l: H,
        a: H,
        lengths: (u32, u32, u32),
        null_buffer: bool,
        ov: Option<Ov>,
    },
    /// `DisconnectEx` (EX-4).
    DisconnectEx {
        s: H,
        ov: Option<Ov>,
        flags: u32,
        reserved: u32,
    },
    /// `inet_pton` (AD-5) of `text` (NUL-terminated), into a buffer or NULL.
    InetPton {
        af: i32,
        text: Vec<u8>,
        out: bool,
    },
    /// `getaddrinfo(node, service, hints)` (AD-4), and `freeaddrinfo` of what it returned.
    GetAddrInfo {
        node: Option<Vec<u8>>,
        service: Option<Vec<u8>>,
        hints: Option<(i32, i32, i32, i32)>,
    },
    EnumProtocols {
        filter: Option<Vec<i32>>,
        entries: Option<u32>,
        len: Option<u32>,
    },
    Select {
        sets: [Option<Set>; 3],
        timeout: (i32, i32),
    },
    CreateEvent,
    CloseEvent(H),
    SetEvent(H),
    ResetEvent(H),
    Wait {
        count: u32,
        hs: Option<Vec<H>>,
        all: bool,
        alertable: bool,
    },
    EventSelect(H, H, i32),
    EnumNetworkEvents(H, H, bool),
    IsBlocking,
    CancelBlocking,
    SetBlockingHook,
    Unhook,
    Sleep(bool),
    WsaSend {
        s: H,
        bufs: Bufs,
        sent: bool,
        flags: u32,
        ov: Option<Ov>,
    },
    WsaSendTo {
        s: H,
        bufs: Bufs,
        sent: bool,
        flags: u32,
        to: Addr,
        ov: Option<Ov>,
    },
    WsaRecv {
        s: H,
        bufs: Bufs,
        recvd: bool,
        flags: Option<u32>,
        ov: Option<Ov>,
    },
    WsaRecvFrom {
        s: H,
        bufs: Bufs,
        recvd: bool,
        flags: Option<u32>,
        from: Out,
        ov: Option<Ov>,
    },
    /// `s` `None`: the socket the chosen `OVERLAPPED` went to.
    OverlappedResult {
        s: Option<H>,
        ov: OvSel,
        bytes: bool,
        flags: bool,
    },
    CreatePort {
        file: H,
        existing: H,
        key: u64,
        threads: u32,
    },
    GetQueued {
        port: H,
        bytes: bool,
        key: bool,
        ov: bool,
    },
    /// `GetQueuedCompletionStatusEx` (EX-7) with room for `max` entries (or a NULL array),
    /// not waiting.
    GetQueuedEx {
        port: H,
        max: u32,
        null_array: bool,
        removed: bool,
    },
    /// `PostQueuedCompletionStatus` (EX-7) with a NULL `OVERLAPPED`.
    Post {
        port: H,
        bytes: u32,
        key: u64,
    },
    /// `WSADuplicateSocketW` (DU-1) for the case's process `to` (or a random pid), into a
    /// `WSAPROTOCOL_INFOW` that later `WSASocketW` calls may pick (or NULL).
    Duplicate {
        s: H,
        to: u8,
        random_pid: Option<u32>,
        null_info: bool,
    },
    /// `CancelIo` (`which` 0), `CancelIoEx(s, NULL)` (1) or `CancelIoEx(s, ov)` of one of the
    /// case's `OVERLAPPED`s (EX-7).
    Cancel {
        s: H,
        which: u8,
        ov: u8,
    },
    /// `WSASocketW` on the liar's entry over UDP or TCP (found with `WSAEnumProtocolsW`;
    /// without a liar, a zeroed `WSAPROTOCOL_INFOW`).
    LayeredSocket {
        udp: bool,
    },
    Timed {
        what: Timed,
        ms: u32,
    },
    /// A UDP socket with an overlapped `WSARecv` whose completion routine blocks for ever, a
    /// datagram to complete it, and an alertable `SleepEx(WSA_INFINITE)`: on the main thread
    /// (the step deadlocks) or on a new thread of the process (left blocked in the routine).
    Routine {
        block: Block,
        spawned: bool,
    },
    // Harness steps.
    /// A new process on host "a" that starts Winsock 1.1, sets a blocking hook that blocks for
    /// ever (alertable or not) and makes a blocking `recv`: on its main thread (the step
    /// deadlocks) or on a new thread (left blocked in the hook).
    Hook {
        alertable: bool,
        spawned: bool,
    },
    /// Exits or kills the newest process `Hook` made.
    EndHooked {
        kill: bool,
    },
    /// `Sim::advance(Duration::MAX)`: the end of time (TH-10).
    AdvanceToEnd,
    Advance(u64),
    RunSim,
    Exit,
    Kill,
    NetworkDown {
        host: bool,
        down: bool,
    },
}

/// `op` made by process `proc` (modulo the number of processes; the next running one if it
/// has ended).
#[derive(Debug, Clone)]
struct Step {
    proc: u8,
    op: Op,
}

/// A generated program.
#[derive(Debug, Clone)]
struct Case {
    nproc: usize,
    seed: u64,
    windows: bool,
    /// Each process starts with `WSAStartup(2.2)` (a checked step like the others).
    prelude: bool,
    /// The layered provider installed, if any.
    liar: Option<Liar>,
    steps: Vec<Step>,
}

// ---------------------------------------------------------------------------------------------
// Strategies.

fn handle(kind: Kind) -> BoxedStrategy<H> {
    let other = prop_oneof![Just(Kind::Sock), Just(Kind::Event), Just(Kind::Port)];
    let delta = prop_oneof![Just(4i8), Just(-4), Just(1), Just(-1), any::<i8>()];
    prop_oneof![
        12 => (0u8..2).prop_map(move |i| H::Mine(kind, i)),
        4 => (0u8..8).prop_map(move |i| H::Mine(kind, i)),
        3 => any::<u8>().prop_map(move |i| H::Any(kind, i)),
        2 => (other, any::<u8>()).prop_map(|(k, i)| H::Any(k, i)),
        1 => (any::<u8>(), delta).prop_map(move |(i, d)| H::Near(kind, i, d)),
        1 => Just(H::Zero),
        1 => Just(H::Invalid),
        1 => any::<u64>().prop_map(H::Raw),
    ]
    .boxed()
}

fn sock() -> BoxedStrategy<H> {
    handle(Kind::Sock)
}

fn event() -> BoxedStrategy<H> {
    handle(Kind::Event)
}

fn port() -> BoxedStrategy<H> {
    handle(Kind::Port)
}

fn any_len() -> BoxedStrategy<i32> {
    prop_oneof![
        Just(0),
        Just(16),
        Just(-1),
        Just(i32::MAX),
        Just(i32::MIN),
        any::<i32>()
    ]
    .boxed()
}

fn ip() -> BoxedStrategy<Ip> {
    prop_oneof![
        2 => Just(Ip::Loopback),
        6 => (0u8..3).prop_map(Ip::HostOf),
        3 => Just(Ip::Any),
        1 => Just(Ip::Unknown),
        1 => any::<u32>().prop_map(Ip::Raw),
    ]
    .boxed()
}

fn addr() -> BoxedStrategy<Addr> {
    let family = prop_oneof![8 => Just(AF_INET), 1 => Just(AF_INET6), 1 => any::<u16>()];
    let port = prop_oneof![
        4 => prop::sample::select(PORTS.to_vec()),
        2 => Just(0u16),
        1 => any::<u16>()
    ];
    let len = prop_oneof![8 => Just(16i32), 2 => -4i32..=40];
    prop_oneof![
        1 => any_len().prop_map(Addr::Null),
        8 => (family, ip(), port, len)
            .prop_map(|(family, ip, port, len)| Addr::In { family, ip, port, len }),
        1 => prop::collection::vec(any::<u8>(), 0..24)
            .prop_flat_map(|bytes| {
                let n = bytes.len() as i32;
                (Just(bytes), -4..=n)
            })
            .prop_map(|(bytes, len)| Addr::Garbage { bytes, len }),
    ]
    .boxed()
}

fn buf(max: u32) -> BoxedStrategy<Buf> {
    let size = prop_oneof![5 => 0..=max.min(64), 3 => 0..=max, 1 => Just(max)];
    prop_oneof![
        1 => any_len().prop_map(Buf::Null),
        6 => size
            .prop_flat_map(|size| {
                let n = size as i32;
                (Just(size), prop_oneof![3 => Just(n), 2 => -4..=n])
            })
            .prop_map(|(size, len)| Buf::Mem { size, len }),
    ]
    .boxed()
}

fn out(max: u32) -> BoxedStrategy<Out> {
    let size = prop_oneof![3 => 0..=max, 1 => Just(max)];
    prop_oneof![
        1 => proptest::option::of(any_len()).prop_map(Out::Null),
        5 => size
            .prop_flat_map(|size| {
                let n = size as i32;
                let len = prop_oneof![3 => Just(n), 2 => -4..=n];
                (Just(size), proptest::option::weighted(0.85, len))
            })
            .prop_map(|(size, len)| Out::Mem { size, len }),
    ]
    .boxed()
}

fn disc() -> BoxedStrategy<Disc> {
    prop_oneof![
        3 => Just(Disc::Null),
        1 => prop_oneof![Just(0u32), Just(1), Just(u32::MAX), any::<u32>()].prop_map(Disc::NullBuf),
        3 => (0u32..=100)
            .prop_flat_map(|size| (Just(size), 0..=size))
            .prop_map(|(size, len)| Disc::Mem { size, len }),
    ]
    .boxed()
}

/// `WSABUF` arrays for `WSASend`/`WSASendTo`/`WSARecv`/`WSARecvFrom`.
///
fn wsabufs() -> BoxedStrategy<Bufs> {
    let null_len = prop_oneof![Just(0u32), Just(1), any::<u32>()].boxed();
    let wb = prop_oneof![
        1 => null_len.prop_map(Wb::NullBuf),
        6 => prop_oneof![3 => 0u32..=64, 1 => 0u32..=300]
            .prop_flat_map(|size| (Just(size), prop_oneof![3 => Just(size), 1 => 0..=size]))
            .prop_map(|(size, len)| Wb::Mem { size, len }),
    ];
    prop_oneof![
        1 => prop_oneof![Just(0u32), 0u32..=3, Just(u32::MAX)].prop_map(Bufs::Null),
        6 => prop::collection::vec(wb, 0..=3)
            .prop_flat_map(|bufs| {
                let n = bufs.len() as u32;
                (Just(bufs), prop_oneof![3 => Just(n), 1 => 0..=n])
            })
            .prop_map(|(bufs, count)| Bufs::Arr { bufs, count }),
    ]
    .boxed()
}

fn ov() -> BoxedStrategy<Option<Ov>> {
    let ev = prop_oneof![2 => Just(H::Zero), 3 => event()];
    proptest::option::of((ev, any::<bool>()).prop_map(|(event, routine)| Ov { event, routine }))
        .boxed()
}

fn flags() -> BoxedStrategy<i32> {
    prop_oneof![
        6 => Just(0),
        2 => Just(MSG_PEEK),
        2 => Just(MSG_OOB),
        1 => Just(MSG_DONTROUTE),
        1 => Just(MSG_WAITALL),
        1 => Just(MSG_PARTIAL as i32),
        1 => Just(MSG_PEEK | MSG_OOB),
        2 => any::<i32>(),
    ]
    .boxed()
}

fn af() -> BoxedStrategy<i32> {
    prop_oneof![
        8 => Just(INET),
        1 => Just(AF_UNSPEC as i32),
        1 => Just(AF_INET6 as i32),
        1 => Just(FROM_PROTOCOL_INFO),
        1 => any::<i32>()
    ]
    .boxed()
}

fn ty() -> BoxedStrategy<i32> {
    prop_oneof![
        5 => Just(SOCK_STREAM),
        4 => Just(SOCK_DGRAM),
        1 => Just(SOCK_RAW),
        1 => Just(SOCK_RDM),
        1 => Just(SOCK_SEQPACKET),
        1 => Just(0),
        1 => Just(FROM_PROTOCOL_INFO),
        1 => any::<i32>()
    ]
    .boxed()
}

fn proto() -> BoxedStrategy<i32> {
    prop_oneof![
        3 => Just(0),
        4 => Just(IPPROTO_TCP),
        4 => Just(IPPROTO_UDP),
        3 => Just(IPPROTO_WS2SIM_DISCONNECT_DATA),
        1 => Just(IPPROTO_RAW),
        1 => Just(FROM_PROTOCOL_INFO),
        1 => any::<i32>()
    ]
    .boxed()
}

fn info() -> BoxedStrategy<Option<Info>> {
    let random = (
        prop_oneof![
            Just(1001u32),
            Just(1002),
            Just(1003),
            Just(2000),
            any::<u32>()
        ],
        af(),
        ty(),
        proto(),
        any::<u32>(),
    )
        .prop_map(|(id, af, ty, proto, flags1)| Info::Random {
            id,
            af,
            ty,
            proto,
            flags1,
        });
    proptest::option::of(prop_oneof![
        1 => Just(Info::Default),
        3 => any::<u8>().prop_map(Info::Enumerated),
        2 => random,
    ])
    .boxed()
}

/// Every `SOL_SOCKET` option name Winsock defines (the reference model's list), and a few
/// that are none.
fn optname() -> BoxedStrategy<i32> {
    let mut names = ws2sim::testing::model::KNOWN_OPTIONS.to_vec();
    names.extend([0, -1, 0x7fff_ffff]);
    prop::sample::select(names).boxed()
}

fn level() -> BoxedStrategy<i32> {
    prop_oneof![6 => Just(SOL_SOCKET), 1 => Just(IPPROTO_TCP), 1 => Just(0), 1 => any::<i32>()]
        .boxed()
}

fn set() -> BoxedStrategy<Option<Set>> {
    let count = prop_oneof![
        4 => Just(None),
        1 => prop_oneof![0u32..=70, Just(u32::MAX)].prop_map(Some)
    ];
    proptest::option::weighted(
        0.7,
        (prop::collection::vec(sock(), 0..5), count).prop_map(|(hs, count)| Set { hs, count }),
    )
    .boxed()
}

/// Every step but the harness's; `spawn`: with threads left blocked inside routines.
fn call_op(spawn: bool) -> BoxedStrategy<Op> {
    let startup = (
        prop_oneof![
            6 => Just(0x0202u16),
            1 => Just(0x0101),
            1 => Just(0x0002),
            1 => Just(0x0000),
            1 => Just(0x0003),
            2 => any::<u16>()
        ],
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(word, null)| Op::Startup { word, null });
    let wsa_socket = (
        af(),
        ty(),
        proto(),
        info(),
        prop_oneof![4 => Just(0u32), 1 => any::<u32>()],
        prop_oneof![
            4 => Just(WSA_FLAG_OVERLAPPED),
            2 => Just(0u32),
            1 => any::<u32>()
        ],
    )
        .prop_map(|(af, ty, proto, info, g, flags)| Op::WsaSocket {
            af,
            ty,
            proto,
            info,
            g,
            flags,
        });
    let ioctl_arg = proptest::option::weighted(0.9, prop_oneof![Just(0u32), Just(1), any::<u32>()]);
    let enum_protocols = (
        proptest::option::of(prop::collection::vec(
            prop_oneof![
                Just(IPPROTO_TCP),
                Just(IPPROTO_UDP),
                Just(IPPROTO_WS2SIM_DISCONNECT_DATA),
                any::<i32>().prop_map(|v| if v == 0 { 1 } else { v })
            ],
            0..4,
        )),
        proptest::option::weighted(0.8, 0u32..=4),
    )
        .prop_flat_map(|(filter, entries)| {
            let len = match entries {
                Some(n) => {
                    let bytes = n * std::mem::size_of::<WSAPROTOCOL_INFOW>() as u32;
                    proptest::option::weighted(0.9, prop_oneof![3 => Just(bytes), 1 => 0..=bytes])
                        .boxed()
                }
                None => proptest::option::of(any::<u32>()).boxed(),
            };
            (Just(filter), Just(entries), len)
        })
        .prop_map(|(filter, entries, len)| Op::EnumProtocols {
            filter,
            entries,
            len,
        });
    let wait = (
        prop_oneof![4 => 0u32..=3, 2 => 0u32..=70, 1 => Just(u32::MAX)],
        proptest::option::weighted(0.9, prop::collection::vec(event(), 0..4)),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(count, hs, all, alertable)| Op::Wait {
            count,
            hs,
            all,
            alertable,
        });
    let mask = prop_oneof![
        Just(0i32),
        Just(0x3f),
        Just((FD_READ | FD_CLOSE) as i32),
        0i32..0x400,
        any::<i32>()
    ];
    let dwflags = prop_oneof![4 => Just(0u32), 1 => Just(MSG_OOB as u32), 1 => any::<u32>()];
    let lpflags = proptest::option::weighted(
        0.8,
        prop_oneof![4 => Just(0u32), 1 => Just(MSG_PEEK as u32), 1 => any::<u32>()],
    );
    let ov_sel = prop_oneof![
        1 => Just(OvSel::Null),
        5 => (0u8..8).prop_map(OvSel::Used),
        1 => Just(OvSel::Fresh)
    ]
    .boxed();
    prop_oneof![
        6 => startup,
        2 => Just(Op::Cleanup),
        1 => Just(Op::GetLastError),
        1 => any_len().prop_map(Op::SetLastError),
        6 => (af(), ty(), proto()).prop_map(|(af, ty, proto)| Op::Socket { af, ty, proto }),
        3 => wsa_socket,
        2 => sock().prop_map(Op::Close),
        3 => (sock(), addr()).prop_map(|(s, a)| Op::Bind(s, a)),
        3 => (sock(), addr()).prop_map(|(s, a)| Op::Connect(s, a)),
        2 => (sock(), prop_oneof![Just(5), Just(0), any::<i32>()])
            .prop_map(|(s, b)| Op::Listen(s, b)),
        3 => (sock(), out(32)).prop_map(|(s, o)| Op::Accept(s, o)),
        3 => (sock(), buf(2048), flags()).prop_map(|(s, b, f)| Op::Send(s, b, f)),
        3 => (sock(), buf(2048), flags()).prop_map(|(s, b, f)| Op::Recv(s, b, f)),
        2 => (sock(), buf(70_000), flags(), addr()).prop_map(|(s, b, f, a)| Op::SendTo(s, b, f, a)),
        2 => (sock(), buf(2048), flags(), out(32)).prop_map(|(s, b, f, o)| Op::RecvFrom(s, b, f, o)),
        1 => (sock(), out(32)).prop_map(|(s, o)| Op::SockName(s, o)),
        1 => (sock(), out(32)).prop_map(|(s, o)| Op::PeerName(s, o)),
        2 => (sock(), prop_oneof![3 => 0i32..=2, 1 => any::<i32>()])
            .prop_map(|(s, h)| Op::Shutdown(s, h)),
        2 => (sock(), disc()).prop_map(|(s, d)| Op::SendDisconnect(s, d)),
        2 => (sock(), disc()).prop_map(|(s, d)| Op::RecvDisconnect(s, d)),
        3 => (sock(), level(), optname(), buf(16), any::<u64>())
            .prop_map(|(s, level, name, val, fill)| Op::SetOpt { s, level, name, val, fill }),
        2 => (sock(), level(), optname(), out(700))
            .prop_map(|(s, level, name, val)| Op::GetOpt { s, level, name, val }),
        2 => (
            sock(),
            prop_oneof![4 => Just(FIONBIO), 2 => Just(FIONREAD), 2 => Just(SIOCATMARK), 1 => any::<i32>()],
            ioctl_arg,
        )
            .prop_map(|(s, cmd, arg)| Op::Ioctl { s, cmd, arg }),
        2 => enum_protocols,
        2 => (
            [set(), set(), set()],
            prop_oneof![
                5 => Just((0i32, 0i32)),
                1 => Just((-1, 0)),
                1 => Just((0, -1)),
                1 => Just((i32::MIN, i32::MIN))
            ],
        )
            .prop_map(|(sets, timeout)| Op::Select { sets, timeout }),
        4 => Just(Op::CreateEvent),
        1 => event().prop_map(Op::CloseEvent),
        1 => event().prop_map(Op::SetEvent),
        1 => event().prop_map(Op::ResetEvent),
        2 => wait,
        2 => (sock(), prop_oneof![1 => Just(H::Zero), 4 => event()], mask)
            .prop_map(|(s, e, m)| Op::EventSelect(s, e, m)),
        2 => (sock(), prop_oneof![1 => Just(H::Zero), 3 => event()], proptest::bool::weighted(0.8))
            .prop_map(|(s, e, o)| Op::EnumNetworkEvents(s, e, o)),
        1 => Just(Op::IsBlocking),
        1 => Just(Op::CancelBlocking),
        1 => Just(Op::SetBlockingHook),
        1 => Just(Op::Unhook),
        2 => any::<bool>().prop_map(Op::Sleep),
        3 => (sock(), wsabufs(), any::<bool>(), dwflags.clone(), ov())
            .prop_map(|(s, bufs, sent, flags, ov)| Op::WsaSend { s, bufs, sent, flags, ov }),
        2 => (sock(), wsabufs(), any::<bool>(), dwflags, addr(), ov())
            .prop_map(|(s, bufs, sent, flags, to, ov)| Op::WsaSendTo { s, bufs, sent, flags, to, ov }),
        3 => (sock(), wsabufs(), any::<bool>(), lpflags.clone(), ov())
            .prop_map(|(s, bufs, recvd, flags, ov)| Op::WsaRecv { s, bufs, recvd, flags, ov }),
        2 => (sock(), wsabufs(), any::<bool>(), lpflags, out(32), ov())
            .prop_map(|(s, bufs, recvd, flags, from, ov)| Op::WsaRecvFrom { s, bufs, recvd, flags, from, ov }),
        3 => (
            proptest::option::weighted(0.3, sock()),
            ov_sel,
            proptest::bool::weighted(0.8),
            proptest::bool::weighted(0.8),
        )
            .prop_map(|(s, ov, bytes, flags)| Op::OverlappedResult { s, ov, bytes, flags }),
        3 => (
            prop_oneof![3 => sock(), 1 => Just(H::Invalid)],
            prop_oneof![2 => Just(H::Zero), 3 => port()],
            prop_oneof![Just(0u64), any::<u64>()],
            prop_oneof![Just(0u32), any::<u32>()],
        )
            .prop_map(|(file, existing, key, threads)| Op::CreatePort { file, existing, key, threads }),
        3 => (port(), any::<bool>(), any::<bool>(), any::<bool>())
            .prop_map(|(port, bytes, key, ov)| Op::GetQueued { port, bytes, key, ov }),
        2 => (port(), 0u32..5, proptest::bool::weighted(0.1), any::<bool>())
            .prop_map(|(port, max, null_array, removed)| Op::GetQueuedEx { port, max, null_array, removed }),
        2 => (port(), any::<u32>(), any::<u64>())
            .prop_map(|(port, bytes, key)| Op::Post { port, bytes, key }),
        2 => (sock(), 0u8..3, any::<u8>()).prop_map(|(s, which, ov)| Op::Cancel { s, which, ov }),
        2 => (
            sock(),
            any::<u8>(),
            proptest::option::weighted(0.15, any::<u32>()),
            proptest::bool::weighted(0.05),
        )
            .prop_map(|(s, to, random_pid, null_info)| Op::Duplicate { s, to, random_pid, null_info }),
        3 => any::<bool>().prop_map(|udp| Op::LayeredSocket { udp }),
        3 => (
            sock(),
            prop_oneof![
                2 => Just(SIO_GET_EXTENSION_FUNCTION_POINTER),
                2 => Just(FIONBIO as u32),
                1 => Just(FIONREAD as u32),
                1 => Just(SIOCATMARK as u32),
                1 => Just(SIO_KEEPALIVE_VALS),
                1 => Just(SIO_BASE_HANDLE),
                1 => any::<u32>(),
            ],
            any::<bool>(),
            (buf(24), buf(16)),
            proptest::bool::weighted(0.9),
            ov(),
        )
            .prop_map(|(s, code, guid, (input, output), returned, ov)| Op::WsaIoctl {
                s, code, guid, input, output, returned, ov,
            }),
        3 => (sock(), addr(), buf(64), prop_oneof![1 => Just(None), 6 => ov()])
            .prop_map(|(s, to, data, ov)| Op::ConnectEx { s, to, data, ov }),
        3 => (
            sock(),
            sock(),
            (
                prop_oneof![3 => Just(0u32), 2 => 1u32..64],
                prop::sample::select(vec![0u32, 3, 20, 32, 48]),
                prop::sample::select(vec![0u32, 3, 32, 48]),
            ),
            proptest::bool::weighted(0.05),
            prop_oneof![1 => Just(None), 6 => ov()],
        )
            .prop_map(|(l, a, lengths, null_buffer, ov)| Op::AcceptEx {
                l,
                a,
                lengths,
                null_buffer,
                ov
            }),
        2 => (
            sock(),
            prop_oneof![1 => Just(None), 3 => ov()],
            prop_oneof![4 => Just(0u32), 2 => Just(TF_REUSE_SOCKET), 1 => any::<u32>()],
            prop_oneof![6 => Just(0u32), 1 => any::<u32>()],
        )
            .prop_map(|(s, ov, flags, reserved)| Op::DisconnectEx { s, ov, flags, reserved }),
        2 => (
            prop_oneof![Just(AF_INET as i32), Just(AF_INET6 as i32), any::<i32>()],
            prop_oneof![
                Just(b"127.0.0.1".to_vec()),
                Just(b"::ffff:1.2.3.4".to_vec()),
                Just(b"fe80::1%2".to_vec()),
                prop::collection::vec(prop_oneof![Just(b':'), Just(b'.'), Just(b'1'), Just(b'f'), any::<u8>()], 0..48),
            ],
            proptest::bool::weighted(0.9),
        )
            .prop_map(|(af, text, out)| Op::InetPton { af, text, out }),
        2 => (
            proptest::option::weighted(0.9, prop_oneof![
                Just(b"localhost".to_vec()),
                Just(b"10.0.0.1".to_vec()),
                Just(b"::1".to_vec()),
                Just(b"nowhere".to_vec()),
                prop::collection::vec(any::<u8>(), 0..12),
            ]),
            proptest::option::weighted(0.6, prop_oneof![
                Just(b"80".to_vec()),
                Just(b"http".to_vec()),
                prop::collection::vec(any::<u8>(), 0..6),
            ]),
            proptest::option::weighted(0.7, (
                prop_oneof![Just(0i32), Just(1), Just(0x400), any::<i32>()],
                prop_oneof![Just(0i32), Just(AF_INET as i32), Just(AF_INET6 as i32), any::<i32>()],
                prop_oneof![Just(0i32), Just(SOCK_STREAM), Just(SOCK_DGRAM), any::<i32>()],
                prop_oneof![Just(0i32), Just(IPPROTO_TCP), Just(IPPROTO_UDP), any::<i32>()],
            )),
        )
            .prop_map(|(node, service, hints)| Op::GetAddrInfo { node, service, hints }),
        3 => timed(),
        1 => (block(), proptest::bool::weighted(if spawn { 0.5 } else { 0.0 }))
            .prop_map(|(block, spawned)| Op::Routine { block, spawned }),
    ]
    .boxed()
}

fn block() -> BoxedStrategy<Block> {
    prop_oneof![Just(Block::Sleep), Just(Block::Recv), Just(Block::Wait)].boxed()
}

/// A call that waits a while (now and then for ever: the step may deadlock).
fn timed() -> BoxedStrategy<Op> {
    let what = prop_oneof![
        2 => any::<bool>().prop_map(Timed::SleepEx),
        2 => (event(), any::<bool>()).prop_map(|(e, a)| Timed::Wait(e, a)),
        2 => (sock(), 0u8..3).prop_map(|(s, set)| Timed::Select(s, set)),
        1 => port().prop_map(Timed::Queued),
        1 => Just(Timed::ThreadSleep),
    ];
    let ms = prop_oneof![6 => 1u32..=50, 2 => 0u32..=5_000, 1 => Just(WSA_INFINITE)];
    (what, ms)
        .prop_map(|(what, ms)| Op::Timed { what, ms })
        .boxed()
}

/// The harness's steps; `spawn`: with threads left blocked inside hooks.
fn harness_op(spawn: bool) -> BoxedStrategy<Op> {
    prop_oneof![
        6 => prop_oneof![4 => 0u64..=20, 2 => 0u64..=5_000, 1 => 0u64..=600_000].prop_map(Op::Advance),
        3 => Just(Op::RunSim),
        1 => Just(Op::Exit),
        1 => Just(Op::Kill),
        1 => (any::<bool>(), proptest::bool::weighted(0.6))
            .prop_map(|(host, down)| Op::NetworkDown { host, down }),
        2 => Just(Op::AdvanceToEnd),
        1 => (any::<bool>(), proptest::bool::weighted(if spawn { 0.5 } else { 0.0 }))
            .prop_map(|(alertable, spawned)| Op::Hook { alertable, spawned }),
        1 => any::<bool>().prop_map(|kill| Op::EndHooked { kill }),
    ]
    .boxed()
}

/// How a step ending a thread that blocks for ever goes on: nothing (the `Sim`'s drop or a
/// later step ends it), the end of time, a deadlock report, or ending its process.
fn ending(kill: Op, exit: Op) -> BoxedStrategy<Option<Op>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(Op::AdvanceToEnd)),
        2 => Just(Some(Op::RunSim)),
        2 => Just(Some(kill)),
        1 => Just(Some(exit)),
    ]
    .boxed()
}

/// TH-9: a thread of process `proc` left blocked inside a completion routine (another
/// process's step gives it the time to get there), then ended or not.
fn routine_then_end() -> BoxedStrategy<Vec<Step>> {
    (0u8..3, block(), ending(Op::Kill, Op::Exit))
        .prop_map(|(proc, block, end)| {
            let mut steps = vec![
                Step {
                    proc,
                    op: Op::Routine {
                        block,
                        spawned: true,
                    },
                },
                Step {
                    proc: proc + 1,
                    op: Op::Timed {
                        what: Timed::ThreadSleep,
                        ms: 5,
                    },
                },
            ];
            steps.extend(end.map(|op| Step { proc, op }));
            steps
        })
        .boxed()
}

/// TH-9: a Winsock 1.1 thread left blocked inside its blocking hook, then ended or not.
fn hook_then_end() -> BoxedStrategy<Vec<Step>> {
    (
        any::<bool>(),
        ending(Op::EndHooked { kill: true }, Op::EndHooked { kill: false }),
    )
        .prop_map(|(alertable, end)| {
            let mut steps = vec![
                Step {
                    proc: 0,
                    op: Op::Hook {
                        alertable,
                        spawned: true,
                    },
                },
                Step {
                    proc: 0,
                    op: Op::Timed {
                        what: Timed::ThreadSleep,
                        ms: 5,
                    },
                },
            ];
            steps.extend(end.map(|op| Step { proc: 0, op }));
            steps
        })
        .boxed()
}

/// Datagrams through the liar: a socket on its UDP entry bound to the process's host, one
/// datagram to itself, time, and a receive (plain, from, or overlapped).
fn layered_udp() -> BoxedStrategy<Vec<Step>> {
    (0u8..3, 1u32..=600, 0u8..3)
        .prop_map(|(proc, n, how)| {
            let me = H::Mine(Kind::Sock, 0);
            let at = Addr::In {
                family: AF_INET,
                ip: Ip::HostOf(proc),
                port: 7002,
                len: 16,
            };
            let recv = match how {
                0 => Op::Recv(me, Buf::Mem { size: 64, len: 64 }, 0),
                1 => Op::RecvFrom(
                    me,
                    Buf::Mem { size: 64, len: 64 },
                    0,
                    Out::Mem {
                        size: 16,
                        len: Some(16),
                    },
                ),
                _ => Op::WsaRecv {
                    s: me,
                    bufs: Bufs::Arr {
                        bufs: vec![Wb::Mem { size: 64, len: 64 }],
                        count: 1,
                    },
                    recvd: true,
                    flags: Some(0),
                    ov: Some(Ov {
                        event: H::Zero,
                        routine: true,
                    }),
                },
            };
            let n_i = n as i32;
            let ops = vec![
                Op::LayeredSocket { udp: true },
                Op::Bind(me, at.clone()),
                Op::SendTo(me, Buf::Mem { size: n, len: n_i }, 0, at),
                Op::Advance(5),
                recv,
                Op::Sleep(true),
                Op::SockName(
                    me,
                    Out::Mem {
                        size: 16,
                        len: Some(16),
                    },
                ),
            ];
            ops.into_iter().map(|op| Step { proc, op }).collect()
        })
        .boxed()
}

/// A stream connection made step by step: process `server` listens on `port`, `client`
/// connects (non-blocking), time passes, `server` accepts. Each step is an ordinary one.
fn pair() -> BoxedStrategy<Vec<Step>> {
    (
        0u8..3,
        0u8..3,
        prop::sample::select(PORTS.to_vec()),
        prop_oneof![Just(IPPROTO_TCP), Just(IPPROTO_WS2SIM_DISCONNECT_DATA)],
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(server, client, port, proto, (layered_server, layered_client))| {
                let me = H::Mine(Kind::Sock, 0);
                let at = |ip| Addr::In {
                    family: AF_INET,
                    ip,
                    port,
                    len: 16,
                };
                let s = |proc, op| Step { proc, op };
                // A socket of the built-in provider, or one of the liar's (when the case has one).
                let new = |layered| {
                    if layered {
                        Op::LayeredSocket { udp: false }
                    } else {
                        Op::Socket {
                            af: INET,
                            ty: SOCK_STREAM,
                            proto,
                        }
                    }
                };
                vec![
                    s(server, new(layered_server)),
                    s(server, Op::Bind(me, at(Ip::Any))),
                    s(server, Op::Listen(me, 5)),
                    s(client, new(layered_client)),
                    s(client, Op::Connect(me, at(Ip::HostOf(server)))),
                    s(client, Op::Advance(5)),
                    s(server, Op::Accept(me, Out::Null(None))),
                ]
            },
        )
        .boxed()
}

/// Data over whatever `from` and `to` made last (a connected pair after `pair`): a send, time
/// to deliver it, a receive (plain or overlapped).
fn exchange() -> BoxedStrategy<Vec<Step>> {
    (0u8..3, 0u8..3, 1u32..=3000, any::<bool>())
        .prop_map(|(from, to, n, overlapped)| {
            let me = H::Mine(Kind::Sock, 0);
            let n_i = n as i32;
            let recv = if overlapped {
                Op::WsaRecv {
                    s: me,
                    bufs: Bufs::Arr {
                        bufs: vec![Wb::Mem { size: n, len: n }],
                        count: 1,
                    },
                    recvd: true,
                    flags: Some(0),
                    ov: Some(Ov {
                        event: H::Mine(Kind::Event, 0),
                        routine: false,
                    }),
                }
            } else {
                Op::Recv(me, Buf::Mem { size: n, len: n_i }, 0)
            };
            vec![
                Step {
                    proc: from,
                    op: Op::Send(me, Buf::Mem { size: n, len: n_i }, 0),
                },
                Step {
                    proc: from,
                    op: Op::Advance(5),
                },
                Step { proc: to, op: recv },
            ]
        })
        .boxed()
}

/// Completion-port I/O on what the process made last: a new port, the socket associated with
/// it, an overlapped send or receive, time, then the packet and the overlapped result.
fn port_io() -> BoxedStrategy<Vec<Step>> {
    (0u8..3, any::<bool>(), 1u32..=512)
        .prop_map(move |(proc, send, n)| {
            let me = H::Mine(Kind::Sock, 0);
            let bufs = Bufs::Arr {
                bufs: vec![Wb::Mem { size: n, len: n }],
                count: 1,
            };
            let ov = Some(Ov {
                event: H::Zero,
                routine: false,
            });
            let io = if send {
                Op::WsaSend {
                    s: me,
                    bufs,
                    sent: true,
                    flags: 0,
                    ov,
                }
            } else {
                Op::WsaRecv {
                    s: me,
                    bufs,
                    recvd: true,
                    flags: Some(0),
                    ov,
                }
            };
            let ops = vec![
                Op::CreatePort {
                    file: H::Invalid,
                    existing: H::Zero,
                    key: 0,
                    threads: 0,
                },
                Op::CreatePort {
                    file: me,
                    existing: H::Mine(Kind::Port, 0),
                    key: 7,
                    threads: 0,
                },
                io,
                Op::Advance(5),
                Op::GetQueued {
                    port: H::Mine(Kind::Port, 0),
                    bytes: true,
                    key: true,
                    ov: true,
                },
                Op::OverlappedResult {
                    s: None,
                    ov: OvSel::Used(0),
                    bytes: true,
                    flags: true,
                },
            ];
            ops.into_iter().map(|op| Step { proc, op }).collect()
        })
        .boxed()
}

/// Programs of up to `max_steps` steps (some steps are several); `spawn`: with threads left
/// blocked inside completion routines and blocking hooks, ended later by a deadlock report,
/// `Process::kill`/`exit` or the `Sim`'s drop (without: such threads are main threads, whose
/// step deadlocks at once).
fn case(max_steps: usize, spawn: bool) -> impl Strategy<Value = Case> {
    let spawned = u32::from(spawn);
    let step = prop_oneof![
        20 => (0u8..3, call_op(spawn)).prop_map(|(proc, op)| vec![Step { proc, op }]),
        2 => (0u8..3, harness_op(spawn)).prop_map(|(proc, op)| vec![Step { proc, op }]),
        3 => pair(),
        2 => exchange(),
        1 => port_io(),
        1 => layered_udp(),
        spawned => routine_then_end(),
        spawned => hook_then_end(),
    ];
    (
        2usize..=3,
        any::<u64>(),
        any::<bool>(),
        proptest::bool::weighted(0.8),
        liar(),
        prop::collection::vec(step, 1..max_steps),
    )
        .prop_map(|(nproc, seed, windows, prelude, liar, chunks)| Case {
            nproc,
            seed,
            windows,
            prelude,
            liar,
            steps: chunks.into_iter().flatten().collect(),
        })
}

/// Half the cases install the lying provider.
fn liar() -> BoxedStrategy<Option<Liar>> {
    let lie = prop_oneof![
        3 => (1usize..=5_000).prop_map(Lie::Over),
        1 => Just(Lie::Max),
        1 => Just(Lie::Negative),
        2 => Just(Lie::WaitTimeout),
        2 => Just(Lie::IoPending),
    ];
    proptest::option::of((lie, 1u32..=3).prop_map(|(lie, every)| Liar { lie, every })).boxed()
}

// ---------------------------------------------------------------------------------------------
// The lying provider (SP-12).

/// The liar's entries: layered over the built-in TCP and UDP entries.
const LIAR_TCP: &str = "Liar over TCP";
const LIAR_UDP: &str = "Liar over UDP";

/// A layered provider that passes every call down and lies about the answer on every
/// `every`-th call it gets (its instance's count: deterministic).
#[derive(Clone)]
struct LiarProvider {
    liar: Liar,
    calls: u32,
    clients: u32,
}

impl LiarProvider {
    fn new(liar: Liar) -> LiarProvider {
        LiarProvider {
            liar,
            calls: 0,
            clients: 0,
        }
    }

    /// The lie for this call, if it lies.
    fn lie(&mut self) -> Option<Lie> {
        self.calls = self.calls.wrapping_add(1);
        self.calls
            .is_multiple_of(self.liar.every.max(1))
            .then_some(self.liar.lie)
    }

    /// The error it makes up (`overlapped`: the call has an `OVERLAPPED`).
    fn error(lie: Option<Lie>, overlapped: bool) -> Result<(), Stop> {
        match lie {
            Some(Lie::WaitTimeout) => Err(WsaError::WaitTimeout.into()),
            Some(Lie::IoPending) if !overlapped => Err(WsaError::IoPending.into()),
            _ => Ok(()),
        }
    }

    /// The byte count it reports for `n`.
    fn count(lie: Option<Lie>, n: usize) -> usize {
        match lie {
            Some(Lie::Over(k)) => n.saturating_add(k),
            Some(Lie::Max) => usize::MAX,
            _ => n,
        }
    }

    /// The length it writes back instead of the true one.
    fn length(lie: Option<Lie>, len: Option<&mut i32>) {
        let Some(len) = len else { return };
        match lie {
            Some(Lie::Over(k)) => *len = len.saturating_add(i32::try_from(k).unwrap_or(i32::MAX)),
            Some(Lie::Max) => *len = i32::MAX,
            Some(Lie::Negative) => *len = -1,
            _ => {}
        }
    }
}

impl Provider for LiarProvider {
    fn info(&self) -> ProviderInfo {
        let id = Guid::new(0x7E57_12AA, 0x5350, 0x4931, *b"LIAR!!!!");
        let mut info =
            ProviderInfo::layered(id, "Liar", &[(TCP_ENTRY, LIAR_TCP), (UDP_ENTRY, LIAR_UDP)]);
        info.data = DataLocation::Transport;
        info
    }

    fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
        let n = self.info().negotiate(v)?;
        self.clients += 1;
        Ok(n)
    }

    fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> {
        if self.clients == 0 {
            return Err(WsaError::NotInitialised.into());
        }
        self.clients -= 1;
        Ok(())
    }

    fn bind(&mut self, spi: &mut Spi<'_>, s: Socket, addr: Option<&[u8]>) -> Result<(), Stop> {
        Self::error(self.lie(), false)?;
        spi.lower().bind(s, addr)
    }

    fn connect(&mut self, spi: &mut Spi<'_>, s: Socket, addr: Option<&[u8]>) -> Result<(), Stop> {
        Self::error(self.lie(), false)?;
        spi.lower().connect(s, addr)
    }

    fn listen(&mut self, spi: &mut Spi<'_>, s: Socket, backlog: i32) -> Result<(), Stop> {
        Self::error(self.lie(), false)?;
        spi.lower().listen(s, backlog)
    }

    fn accept(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        addr: Option<&mut [u8]>,
        mut len: Option<&mut i32>,
    ) -> Result<Socket, Stop> {
        let lie = self.lie();
        Self::error(lie, false)?;
        let a = spi.lower().accept(s, addr, len.as_deref_mut())?;
        Self::length(lie, len);
        Ok(a)
    }

    fn send(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        buf: Option<&[u8]>,
        len: i32,
        flags: i32,
    ) -> Result<usize, Stop> {
        let lie = self.lie();
        Self::error(lie, false)?;
        let n = spi.lower().send(s, buf, len, flags)?;
        Ok(Self::count(lie, n))
    }

    fn send_to(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        buf: Option<&[u8]>,
        len: i32,
        flags: i32,
        to: Option<&[u8]>,
    ) -> Result<usize, Stop> {
        let lie = self.lie();
        Self::error(lie, false)?;
        let n = spi.lower().send_to(s, buf, len, flags, to)?;
        Ok(Self::count(lie, n))
    }

    fn recv(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        buf: Option<&mut [u8]>,
        len: i32,
        flags: i32,
    ) -> Result<usize, Stop> {
        let lie = self.lie();
        Self::error(lie, false)?;
        let n = spi.lower().recv(s, buf, len, flags)?;
        Ok(Self::count(lie, n))
    }

    fn recv_from(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        buf: Option<&mut [u8]>,
        len: i32,
        flags: i32,
        from: Option<&mut [u8]>,
        mut from_len: Option<&mut i32>,
    ) -> Result<usize, Stop> {
        let lie = self.lie();
        Self::error(lie, false)?;
        let n = spi
            .lower()
            .recv_from(s, buf, len, flags, from, from_len.as_deref_mut())?;
        Self::length(lie, from_len);
        Ok(Self::count(lie, n))
    }

    fn start_overlapped(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        op: spi::Overlapped,
    ) -> Result<usize, Stop> {
        let lie = self.lie();
        Self::error(lie, true)?;
        let n = spi.lower().start_overlapped(s, op)?;
        Ok(Self::count(lie, n))
    }

    fn shutdown(&mut self, spi: &mut Spi<'_>, s: Socket, how: i32) -> Result<(), Stop> {
        Self::error(self.lie(), false)?;
        spi.lower().shutdown(s, how)
    }

    fn get_sock_opt(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        level: i32,
        name: i32,
        value: Option<&mut [u8]>,
        mut len: Option<&mut i32>,
    ) -> Result<(), Stop> {
        let lie = self.lie();
        Self::error(lie, false)?;
        spi.lower()
            .get_sock_opt(s, level, name, value, len.as_deref_mut())?;
        Self::length(lie, len);
        Ok(())
    }

    fn ioctl(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        cmd: i32,
        arg: Option<&mut u32>,
    ) -> Result<(), Stop> {
        Self::error(self.lie(), false)?;
        spi.lower().ioctl(s, cmd, arg)
    }

    fn sock_name(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        addr: Option<&mut [u8]>,
        mut len: Option<&mut i32>,
    ) -> Result<(), Stop> {
        let lie = self.lie();
        Self::error(lie, false)?;
        spi.lower().sock_name(s, addr, len.as_deref_mut())?;
        Self::length(lie, len);
        Ok(())
    }

    fn peer_name(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        addr: Option<&mut [u8]>,
        mut len: Option<&mut i32>,
    ) -> Result<(), Stop> {
        let lie = self.lie();
        Self::error(lie, false)?;
        spi.lower().peer_name(s, addr, len.as_deref_mut())?;
        Self::length(lie, len);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Threads that block for ever inside user callbacks (TH-9).

/// The room (bytes of buffer) of every `OVERLAPPED` a routine may complete, by address (they
/// are leaked, so an address is never reused), and the completions that reported more.
static ROOMS: Mutex<BTreeMap<usize, u64>> = Mutex::new(BTreeMap::new());
static OVERFLOWS: Mutex<Vec<(usize, u32, u64)>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The routine of every overlapped call of the programs: records a completion that reports
/// more bytes than its buffers hold.
unsafe extern "system" fn routine(_: u32, bytes: u32, ov: *mut OVERLAPPED, _: u32) {
    let room = lock(&ROOMS).get(&(ov as usize)).copied();
    if let Some(room) = room {
        if u64::from(bytes) > room {
            lock(&OVERFLOWS).push((ov as usize, bytes, room));
        }
    }
}

unsafe extern "system" fn sleeping_routine(_: u32, _: u32, _: *mut OVERLAPPED, _: u32) {
    SleepEx(WSA_INFINITE, FALSE);
}

unsafe extern "system" fn receiving_routine(_: u32, _: u32, _: *mut OVERLAPPED, _: u32) {
    // A blocking UDP socket nobody sends to.
    let u = socket(INET, SOCK_DGRAM, IPPROTO_UDP);
    let at = sockaddr(Ipv4Addr::LOCALHOST, 0);
    bind(u, name_ptr(&at), 16);
    let mut b = [0u8; 4];
    recv(u, b.as_mut_ptr(), 4, 0);
}

unsafe extern "system" fn waiting_routine(_: u32, _: u32, _: *mut OVERLAPPED, _: u32) {
    let e = WSACreateEvent() as HANDLE;
    WSAWaitForMultipleEvents(1, &e, FALSE, WSA_INFINITE, FALSE);
}

unsafe extern "system" fn sleeping_hook() -> isize {
    SleepEx(WSA_INFINITE, FALSE);
    0
}

unsafe extern "system" fn alertable_hook() -> isize {
    SleepEx(WSA_INFINITE, TRUE);
    0
}

/// `Op::Routine`: returns only when a call on the way fails (the process is not started, say).
unsafe fn block_in_routine(block: Block) {
    let s = socket(INET, SOCK_DGRAM, IPPROTO_UDP);
    let mut at = sockaddr(Ipv4Addr::LOCALHOST, 0);
    let mut len = 16;
    if s == INVALID_SOCKET
        || bind(s, name_ptr(&at), 16) != 0
        || getsockname(s, name_mut(&mut at), &mut len) != 0
    {
        return;
    }
    let buf: &'static mut [u8; 8] = Box::leak(Box::new([0u8; 8]));
    let ov: &'static mut OVERLAPPED = Box::leak(Box::default());
    let wsabuf = WSABUF {
        len: 8,
        buf: buf.as_mut_ptr(),
    };
    let r: LPWSAOVERLAPPED_COMPLETION_ROUTINE = Some(match block {
        Block::Sleep => sleeping_routine,
        Block::Recv => receiving_routine,
        Block::Wait => waiting_routine,
    });
    let mut flags = 0u32;
    if WSARecv(s, &wsabuf, 1, null_mut(), &mut flags, ov, r) != SOCKET_ERROR
        && WSAGetLastError() != WSA_IO_PENDING
    {
        return;
    }
    sendto(s, b"x".as_ptr(), 1, 0, name_ptr(&at), 16);
    SleepEx(WSA_INFINITE, TRUE);
}

/// `Op::Hook`: returns only when a call on the way fails.
unsafe fn block_in_hook(alertable: bool) {
    let mut d = WSADATA::default();
    if WSAStartup(0x0101, &mut d) != 0 {
        return;
    }
    let u = socket(INET, SOCK_DGRAM, IPPROTO_UDP);
    let at = sockaddr(Ipv4Addr::LOCALHOST, 0);
    if u == INVALID_SOCKET || bind(u, name_ptr(&at), 16) != 0 {
        return;
    }
    let hook: FARPROC = Some(if alertable {
        alertable_hook
    } else {
        sleeping_hook
    });
    WSASetBlockingHook(hook);
    let mut b = [0u8; 4];
    recv(u, b.as_mut_ptr(), 4, 0);
}

// ---------------------------------------------------------------------------------------------
// Running a program.

/// Memory for one step's pointers. Kept until the step's call returned; leaked when it went to
/// an overlapped call, whose completion may write into it later.
#[derive(Default)]
struct Arena {
    blocks: Vec<Vec<u64>>,
    leak: bool,
}

impl Arena {
    /// `n` bytes (8-aligned, at least 8) filled with `fill`, never freed before the call ends.
    fn bytes(&mut self, n: usize, fill: u8) -> *mut u8 {
        let mut v = vec![u64::from_ne_bytes([fill; 8]); n.div_ceil(8).max(1)];
        let p = v.as_mut_ptr().cast::<u8>();
        self.blocks.push(v);
        p
    }

    /// An `i32` holding `v`.
    fn int(&mut self, v: i32) -> *mut i32 {
        let p = self.bytes(4, 0).cast::<i32>();
        // SAFETY: 8 aligned bytes were just allocated.
        unsafe { p.write(v) };
        p
    }

    /// A `u32` holding `v`, or NULL.
    fn opt_u32(&mut self, v: Option<u32>) -> *mut u32 {
        v.map_or(null_mut(), |v| self.int(v as i32).cast())
    }

    /// A zeroed `T` (all-zero must be a valid `T`), or NULL.
    fn zeroed<T>(&mut self, present: bool) -> *mut T {
        if present {
            self.bytes(std::mem::size_of::<T>(), 0).cast()
        } else {
            null_mut()
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        if self.leak {
            for v in self.blocks.drain(..) {
                Box::leak(v.into_boxed_slice());
            }
        }
    }
}

/// Handles returned so far (closed ones stay).
#[derive(Default)]
struct Pools {
    sock: Vec<usize>,
    event: Vec<usize>,
    port: Vec<usize>,
}

impl Pools {
    fn of(&self, k: Kind) -> &[usize] {
        match k {
            Kind::Sock => &self.sock,
            Kind::Event => &self.event,
            Kind::Port => &self.port,
        }
    }

    fn push(&mut self, k: Kind, v: usize) {
        match k {
            Kind::Sock => self.sock.push(v),
            Kind::Event => self.event.push(v),
            Kind::Port => self.port.push(v),
        }
    }
}

/// The `i`-th newest of `v` (0 when it is empty).
fn newest(v: &[usize], i: u8) -> usize {
    if v.is_empty() {
        0
    } else {
        v[v.len() - 1 - usize::from(i) % v.len()]
    }
}

/// What a step's return value says.
enum Check {
    /// Not a failure value (or the function has none).
    Ok,
    /// The failure value: the last error after it.
    LastError(i32),
    /// `WSAStartup` failed with this code.
    Returned(i32),
    /// A return value the signature does not allow.
    Bad(String),
}

/// The state of one run, shared by the steps (inside and outside `Process::run`).
struct Ctx {
    all: Pools,
    mine: Vec<Pools>,
    /// The address of each process's host.
    ips: Vec<u32>,
    /// Every `OVERLAPPED` passed so far (leaked), the socket it went to and the bytes of
    /// buffer the call gave with it.
    ovs: Vec<(usize, SOCKET, u64)>,
    /// Catalog entries `WSAEnumProtocolsW` returned.
    infos: Vec<WSAPROTOCOL_INFOW>,
    /// Every socket handle handed out (CS-1: never twice).
    sockets: BTreeSet<usize>,
    /// A socket handle handed out twice, if any.
    reused: Option<usize>,
    /// Successful `WSAStartup`s per process.
    startups: Vec<u32>,
    /// Each process's id (`Process::pid`), for `WSADuplicateSocketW`.
    pids: Vec<u32>,
}

/// `failed`: the last error, else `Ok`.
unsafe fn on(failed: bool) -> Check {
    if failed {
        Check::LastError(WSAGetLastError())
    } else {
        Check::Ok
    }
}

/// For functions returning 0 or `SOCKET_ERROR`.
unsafe fn status(name: &str, r: i32) -> Check {
    match r {
        0 => Check::Ok,
        SOCKET_ERROR => on(true),
        r => Check::Bad(format!("{name} returned {r}, neither 0 nor SOCKET_ERROR")),
    }
}

/// For functions returning a count or `SOCKET_ERROR`.
unsafe fn count(name: &str, r: i32) -> Check {
    match r {
        SOCKET_ERROR => on(true),
        r if r < 0 => Check::Bad(format!("{name} returned {r}")),
        _ => Check::Ok,
    }
}

/// For data calls returning a byte count or `SOCKET_ERROR`: the count stays within the
/// `room` bytes the call was given (SP-12).
unsafe fn count_in(name: &str, r: i32, room: u64) -> Check {
    match count(name, r) {
        Check::Ok if r as u64 > room => Check::Bad(format!(
            "{name} returned {r} for a buffer of {room} byte(s)"
        )),
        c => c,
    }
}

/// The bytes of buffer behind `b`.
fn room(b: Buf) -> u64 {
    match b {
        Buf::Null(_) => 0,
        Buf::Mem { len, .. } => len.max(0) as u64,
    }
}

/// The bytes of buffer the first `count` `WSABUF`s of `b` declare.
fn bufs_room(b: &Bufs) -> u64 {
    match b {
        Bufs::Null(_) => 0,
        Bufs::Arr { bufs, count } => bufs
            .iter()
            .take(*count as usize)
            .map(|w| match *w {
                Wb::NullBuf(len) | Wb::Mem { len, .. } => u64::from(len),
            })
            .sum(),
    }
}

/// After call `name` succeeded (`c` is `Ok`): the count it wrote to `p` (NULL: none) stays
/// within `room` bytes.
unsafe fn written_in(name: &str, c: Check, p: *const u32, room: u64) -> Check {
    if matches!(c, Check::Ok) && !p.is_null() && u64::from(*p) > room {
        return Check::Bad(format!(
            "{name} wrote back {} byte(s) for buffers of {room} byte(s)",
            *p
        ));
    }
    c
}

/// After call `name` succeeded (`c` is `Ok`): the length it wrote back to `p` (NULL: none,
/// `given` before the call) is the one given or a length within it.
unsafe fn length_in(name: &str, c: Check, p: *const i32, given: Option<i32>) -> Check {
    if let (Check::Ok, false, Some(given)) = (&c, p.is_null(), given) {
        let now = *p;
        if now != given && !(0..=given).contains(&now) {
            return Check::Bad(format!(
                "{name} wrote back a length of {now} for {given} byte(s)"
            ));
        }
    }
    c
}

/// The length an `Out` passes.
fn given(o: Out) -> Option<i32> {
    match o {
        Out::Null(len) | Out::Mem { len, .. } => len,
    }
}

/// For functions returning a `BOOL`.
unsafe fn boolean(name: &str, r: BOOL) -> Check {
    match r {
        TRUE => Check::Ok,
        FALSE => on(true),
        r => Check::Bad(format!("{name} returned BOOL {r}")),
    }
}

impl Ctx {
    fn new(nproc: usize, ips: Vec<u32>) -> Ctx {
        Ctx {
            all: Pools::default(),
            mine: (0..nproc).map(|_| Pools::default()).collect(),
            ips,
            ovs: Vec::new(),
            infos: Vec::new(),
            sockets: BTreeSet::new(),
            reused: None,
            startups: vec![0; nproc],
            pids: Vec::new(),
        }
    }

    fn h(&self, me: usize, h: H) -> usize {
        match h {
            H::Mine(k, i) if !self.mine[me].of(k).is_empty() => newest(self.mine[me].of(k), i),
            H::Mine(k, i) => newest(self.all.of(k), i),
            H::Any(k, i) => newest(self.all.of(k), i),
            H::Near(k, i, d) => newest(self.all.of(k), i).wrapping_add_signed(isize::from(d)),
            H::Zero => 0,
            H::Invalid => INVALID_SOCKET,
            H::Raw(v) => v as usize,
        }
    }

    fn ev(&self, me: usize, h: H) -> WSAEVENT {
        self.h(me, h) as WSAEVENT
    }

    fn handle_ptr(&self, me: usize, h: H) -> HANDLE {
        self.h(me, h) as HANDLE
    }

    fn add(&mut self, me: usize, k: Kind, v: usize) {
        self.all.push(k, v);
        self.mine[me].push(k, v);
    }

    /// A new socket: recorded (CS-1 checked) and made non-blocking at once.
    unsafe fn new_socket(&mut self, me: usize, s: SOCKET) {
        if s == INVALID_SOCKET {
            return;
        }
        if !self.sockets.insert(s) && self.reused.is_none() {
            self.reused = Some(s);
        }
        self.add(me, Kind::Sock, s);
        let mut on = 1u32;
        ioctlsocket(s, FIONBIO, &mut on);
    }

    fn ip(&self, ip: Ip) -> u32 {
        match ip {
            Ip::Loopback => INADDR_LOOPBACK,
            Ip::HostOf(p) => self.ips[usize::from(p) % self.ips.len()],
            Ip::Any => INADDR_ANY,
            Ip::Unknown => 0x0a00_0063,
            Ip::Raw(v) => v,
        }
    }

    unsafe fn addr(&self, arena: &mut Arena, a: &Addr) -> (*const SOCKADDR, i32) {
        match a {
            Addr::Null(len) => (null(), *len),
            Addr::In {
                family,
                ip,
                port,
                len,
            } => {
                let mut bytes = [0u8; 16];
                bytes[..2].copy_from_slice(&family.to_ne_bytes());
                bytes[2..4].copy_from_slice(&port.to_be_bytes());
                bytes[4..8].copy_from_slice(&self.ip(*ip).to_be_bytes());
                let p = arena.bytes((*len).max(16) as usize, 0);
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, 16);
                (p.cast_const().cast(), *len)
            }
            Addr::Garbage { bytes, len } => {
                let p = arena.bytes(bytes.len(), 0);
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
                (p.cast_const().cast(), *len)
            }
        }
    }

    fn buf(arena: &mut Arena, b: Buf, fill: u8) -> (*mut u8, i32) {
        match b {
            Buf::Null(len) => (null_mut(), len),
            Buf::Mem { size, len } => (arena.bytes(size as usize, fill), len),
        }
    }

    fn out(arena: &mut Arena, o: Out) -> (*mut u8, *mut i32) {
        let (size, len) = match o {
            Out::Null(len) => (None, len),
            Out::Mem { size, len } => (Some(size), len),
        };
        let p = size.map_or(null_mut(), |n| arena.bytes(n as usize, 0xcc));
        (p, len.map_or(null_mut(), |l| arena.int(l)))
    }

    fn disc(arena: &mut Arena, d: Disc) -> Option<WSABUF> {
        match d {
            Disc::Null => None,
            Disc::NullBuf(len) => Some(WSABUF {
                len,
                buf: null_mut(),
            }),
            Disc::Mem { size, len } => Some(WSABUF {
                len,
                buf: arena.bytes(size as usize, 0x5a),
            }),
        }
    }

    /// The buffers of a `WSASend`/`WSARecv`-family call: keeps `arena` alive after the call
    /// when it is `overlapped` (the operation may still use its buffers), and builds the
    /// `WSABUF` array: (the array, to keep until the call returns; the pointer to pass, NULL
    /// for [`Bufs::Null`]; the count).
    fn call_bufs(
        arena: &mut Arena,
        bufs: &Bufs,
        overlapped: bool,
    ) -> (Vec<WSABUF>, *const WSABUF, u32) {
        arena.leak = overlapped;
        let (arr, null_arr, n) = Self::wsabufs(arena, bufs);
        let bp = if null_arr { null() } else { arr.as_ptr() };
        (arr, bp, n)
    }

    /// The `WSABUF` array (the array itself is read during the call; the buffers live in
    /// `arena`) and its count.
    fn wsabufs(arena: &mut Arena, b: &Bufs) -> (Vec<WSABUF>, bool, u32) {
        match b {
            Bufs::Null(n) => (Vec::new(), true, *n),
            Bufs::Arr { bufs, count } => {
                let v = bufs
                    .iter()
                    .map(|w| match *w {
                        Wb::NullBuf(len) => WSABUF {
                            len,
                            buf: null_mut(),
                        },
                        Wb::Mem { size, len } => WSABUF {
                            len,
                            buf: arena.bytes(size as usize, 0x33),
                        },
                    })
                    .collect();
                (v, false, *count)
            }
        }
    }

    /// A leaked `OVERLAPPED` for `ov` (recorded with the `room` bytes of buffer that go with
    /// it, for `WSAGetOverlappedResult`, completion packets and routines), or NULL.
    fn overlapped(
        &mut self,
        me: usize,
        s: SOCKET,
        ov: Option<Ov>,
        room: u64,
    ) -> (*mut OVERLAPPED, LPWSAOVERLAPPED_COMPLETION_ROUTINE) {
        let Some(ov) = ov else {
            return (null_mut(), None);
        };
        let o = Box::leak(Box::new(OVERLAPPED::default()));
        o.hEvent = self.handle_ptr(me, ov.event);
        let p: *mut OVERLAPPED = o;
        self.ovs.push((p as usize, s, room));
        lock(&ROOMS).insert(p as usize, room);
        let r: LPWSAOVERLAPPED_COMPLETION_ROUTINE = if ov.routine { Some(routine) } else { None };
        (p, r)
    }

    /// After `GetQueuedCompletionStatus` (`c`): a packet it dequeued for one of the case's
    /// `OVERLAPPED`s reports no more bytes than the call's buffers held.
    unsafe fn packet_in(&self, c: Check, bp: *const u32, op: *const *mut OVERLAPPED) -> Check {
        if bp.is_null() || op.is_null() || (*op).is_null() {
            return c;
        }
        let o = *op as usize;
        match self.ovs.iter().find(|(p, ..)| *p == o) {
            Some(&(_, _, room)) if u64::from(*bp) > room => Check::Bad(format!(
                "GetQueuedCompletionStatus dequeued {} byte(s) for buffers of {room} byte(s)",
                *bp
            )),
            _ => c,
        }
    }

    /// `Op::Timed`: a call that waits `ms` at most.
    unsafe fn timed(&mut self, me: usize, what: Timed, ms: u32) -> Check {
        match what {
            Timed::SleepEx(alertable) => match SleepEx(ms, BOOL::from(alertable)) {
                0 | WAIT_IO_COMPLETION => Check::Ok,
                r => Check::Bad(format!("SleepEx returned {r}")),
            },
            Timed::Wait(e, alertable) => {
                let h = self.handle_ptr(me, e);
                match WSAWaitForMultipleEvents(1, &h, FALSE, ms, BOOL::from(alertable)) {
                    WSA_WAIT_FAILED => on(true),
                    0 | WSA_WAIT_TIMEOUT | WAIT_IO_COMPLETION => Check::Ok,
                    r => Check::Bad(format!("WSAWaitForMultipleEvents returned {r}")),
                }
            }
            Timed::Select(s, which) => {
                let mut set = FD_SET::default();
                set.fd_array[0] = self.h(me, s);
                set.fd_count = 1;
                let mut sets = [null_mut(); 3];
                sets[usize::from(which) % 3] = &mut set as *mut FD_SET;
                let t = TIMEVAL {
                    tv_sec: (ms / 1000) as i32,
                    tv_usec: (ms % 1000 * 1000) as i32,
                };
                let tp = if ms == WSA_INFINITE {
                    null()
                } else {
                    &t as *const TIMEVAL
                };
                count_in("select", select(0, sets[0], sets[1], sets[2], tp), 1)
            }
            Timed::Queued(port) => {
                let (mut bytes, mut key) = (0u32, 0usize);
                let mut op: *mut OVERLAPPED = null_mut();
                let c = boolean(
                    "GetQueuedCompletionStatus",
                    GetQueuedCompletionStatus(
                        self.handle_ptr(me, port),
                        &mut bytes,
                        &mut key,
                        &mut op,
                        ms,
                    ),
                );
                self.packet_in(c, &bytes, &op)
            }
            Timed::ThreadSleep => {
                let d = if ms == WSA_INFINITE {
                    Duration::MAX
                } else {
                    Duration::from_millis(u64::from(ms))
                };
                ws2sim::thread::sleep(d);
                Check::Ok
            }
        }
    }

    /// Makes call `op` as process `me` (inside its `Process::run`).
    unsafe fn call(&mut self, me: usize, op: &Op) -> Check {
        let mut arena = Arena::default();
        match op {
            Op::Startup { word, null } => {
                let mut d = WSADATA::default();
                let p: *mut WSADATA = if *null { null_mut() } else { &mut d };
                match WSAStartup(*word, p) {
                    0 => {
                        self.startups[me] += 1;
                        Check::Ok
                    }
                    r => Check::Returned(r),
                }
            }
            Op::Cleanup => status("WSACleanup", WSACleanup()),
            Op::GetLastError => {
                WSAGetLastError();
                Check::Ok
            }
            Op::SetLastError(v) => {
                WSASetLastError(*v);
                Check::Ok
            }
            Op::Socket { af, ty, proto } => {
                let s = socket(*af, *ty, *proto);
                let c = on(s == INVALID_SOCKET);
                self.new_socket(me, s);
                c
            }
            Op::WsaSocket {
                af,
                ty,
                proto,
                info,
                g,
                flags,
            } => {
                let info = info.map(|i| match i {
                    Info::Default => WSAPROTOCOL_INFOW::default(),
                    Info::Enumerated(k) if !self.infos.is_empty() => {
                        self.infos[usize::from(k) % self.infos.len()]
                    }
                    Info::Enumerated(_) => WSAPROTOCOL_INFOW::default(),
                    Info::Random {
                        id,
                        af,
                        ty,
                        proto,
                        flags1,
                    } => WSAPROTOCOL_INFOW {
                        dwCatalogEntryId: id,
                        iAddressFamily: af,
                        iSocketType: ty,
                        iProtocol: proto,
                        dwServiceFlags1: flags1,
                        ..WSAPROTOCOL_INFOW::default()
                    },
                });
                let p = info
                    .as_ref()
                    .map_or(null(), |i| i as *const WSAPROTOCOL_INFOW);
                let s = WSASocketW(*af, *ty, *proto, p, *g, *flags);
                let c = on(s == INVALID_SOCKET);
                self.new_socket(me, s);
                c
            }
            Op::Close(s) => status("closesocket", closesocket(self.h(me, *s))),
            Op::Bind(s, a) => {
                let (p, len) = self.addr(&mut arena, a);
                status("bind", bind(self.h(me, *s), p, len))
            }
            Op::Connect(s, a) => {
                let (p, len) = self.addr(&mut arena, a);
                status("connect", connect(self.h(me, *s), p, len))
            }
            Op::Listen(s, backlog) => status("listen", listen(self.h(me, *s), *backlog)),
            Op::Accept(s, o) => {
                let (p, len) = Self::out(&mut arena, *o);
                let a = accept(self.h(me, *s), p.cast(), len);
                let c = on(a == INVALID_SOCKET);
                self.new_socket(me, a);
                length_in("accept", c, len, given(*o))
            }
            Op::Send(s, b, f) => {
                let (p, len) = Self::buf(&mut arena, *b, 0x41);
                count_in("send", send(self.h(me, *s), p, len, *f), room(*b))
            }
            Op::Recv(s, b, f) => {
                let (p, len) = Self::buf(&mut arena, *b, 0);
                count_in("recv", recv(self.h(me, *s), p, len, *f), room(*b))
            }
            Op::SendTo(s, b, f, a) => {
                let (p, len) = Self::buf(&mut arena, *b, 0x42);
                let (to, tolen) = self.addr(&mut arena, a);
                let r = sendto(self.h(me, *s), p, len, *f, to, tolen);
                count_in("sendto", r, room(*b))
            }
            Op::RecvFrom(s, b, f, o) => {
                let (p, len) = Self::buf(&mut arena, *b, 0);
                let (from, fromlen) = Self::out(&mut arena, *o);
                let r = recvfrom(self.h(me, *s), p, len, *f, from.cast(), fromlen);
                let c = count_in("recvfrom", r, room(*b));
                length_in("recvfrom", c, fromlen, given(*o))
            }
            Op::SockName(s, o) => {
                let (p, len) = Self::out(&mut arena, *o);
                let c = status("getsockname", getsockname(self.h(me, *s), p.cast(), len));
                length_in("getsockname", c, len, given(*o))
            }
            Op::PeerName(s, o) => {
                let (p, len) = Self::out(&mut arena, *o);
                let c = status("getpeername", getpeername(self.h(me, *s), p.cast(), len));
                length_in("getpeername", c, len, given(*o))
            }
            Op::Shutdown(s, how) => status("shutdown", shutdown(self.h(me, *s), *how)),
            Op::SendDisconnect(s, d) => {
                let wb = Self::disc(&mut arena, *d);
                let p = wb.as_ref().map_or(null(), |w| w as *const WSABUF);
                status("WSASendDisconnect", WSASendDisconnect(self.h(me, *s), p))
            }
            Op::RecvDisconnect(s, d) => {
                let mut wb = Self::disc(&mut arena, *d);
                let p = wb
                    .as_mut()
                    .map_or(null(), |w| (w as *mut WSABUF).cast_const());
                status("WSARecvDisconnect", WSARecvDisconnect(self.h(me, *s), p))
            }
            Op::SetOpt {
                s,
                level,
                name,
                val,
                fill,
            } => {
                let (p, len) = Self::buf(&mut arena, *val, 0);
                if let Buf::Mem { size, .. } = val {
                    let bytes = fill.to_le_bytes();
                    for i in 0..*size as usize {
                        p.add(i).write(bytes[i % 8]);
                    }
                }
                status(
                    "setsockopt",
                    setsockopt(self.h(me, *s), *level, *name, p, len),
                )
            }
            Op::GetOpt {
                s,
                level,
                name,
                val,
            } => {
                let (p, len) = Self::out(&mut arena, *val);
                let c = status(
                    "getsockopt",
                    getsockopt(self.h(me, *s), *level, *name, p, len),
                );
                length_in("getsockopt", c, len, given(*val))
            }
            Op::Ioctl { s, cmd, arg } => {
                let h = self.h(me, *s);
                let p = arena.opt_u32(*arg);
                let c = status("ioctlsocket", ioctlsocket(h, *cmd, p));
                if *cmd == FIONBIO && *arg == Some(0) {
                    // Keep every socket non-blocking: a blocking call would wait for ever.
                    let mut on = 1u32;
                    ioctlsocket(h, FIONBIO, &mut on);
                }
                c
            }
            Op::WsaIoctl {
                s,
                code,
                guid,
                input,
                output,
                returned,
                ov,
            } => {
                let (ip, il) = if *guid {
                    let g = arena.bytes(16, 0);
                    let id = WSAID_WSARECVMSG;
                    let mut b = [0u8; 16];
                    b[..4].copy_from_slice(&id.data1.to_ne_bytes());
                    b[4..6].copy_from_slice(&id.data2.to_ne_bytes());
                    b[6..8].copy_from_slice(&id.data3.to_ne_bytes());
                    b[8..].copy_from_slice(&id.data4);
                    g.copy_from_nonoverlapping(b.as_ptr(), 16);
                    (g, 16)
                } else {
                    // A length never claims more memory than the buffer has.
                    let (p, len) = Self::buf(&mut arena, *input, 1);
                    (
                        p,
                        if p.is_null() {
                            len as u32
                        } else {
                            len.max(0) as u32
                        },
                    )
                };
                let (op, ol) = Self::buf(&mut arena, *output, 0xcc);
                let ol = if op.is_null() {
                    ol as u32
                } else {
                    ol.max(0) as u32
                };
                let rp = arena.zeroed::<u32>(*returned);
                let h = self.h(me, *s);
                let (o, r) = self.overlapped(me, h, *ov, 0);
                let c = status(
                    "WSAIoctl",
                    WSAIoctl(h, *code, ip.cast(), il, op.cast(), ol, rp, o, r),
                );
                if *code == FIONBIO as u32 {
                    // Keep every socket non-blocking: a blocking call would wait for ever.
                    let mut on = 1u32;
                    ioctlsocket(h, FIONBIO, &mut on);
                }
                written_in("WSAIoctl", c, rp, u64::from(ol))
            }
            Op::AcceptEx {
                l,
                a,
                lengths: (data, local, remote),
                null_buffer,
                ov,
            } => {
                let (lh, ah) = (self.h(me, *l), self.h(me, *a));
                let total = (data + local + remote) as usize;
                // The buffer lives as long as the case: the completion may come much later.
                let buf: *mut u8 = if *null_buffer {
                    null_mut()
                } else {
                    Box::leak(vec![0u8; total.max(1)].into_boxed_slice()).as_mut_ptr()
                };
                let (o, _) = self.overlapped(me, lh, *ov, u64::from(*data));
                let got = arena.zeroed::<u32>(true);
                let r = AcceptEx(lh, ah, buf.cast(), *data, *local, *remote, got, o);
                if !buf.is_null() {
                    let (mut lp, mut rp) = (null_mut(), null_mut());
                    let (mut ll, mut rl) = (0, 0);
                    GetAcceptExSockaddrs(
                        buf.cast(),
                        *data,
                        *local,
                        *remote,
                        &mut lp,
                        &mut ll,
                        &mut rp,
                        &mut rl,
                    );
                }
                match r {
                    TRUE => Check::Bad("AcceptEx completed at once".into()),
                    FALSE => on(true),
                    r => Check::Bad(format!("AcceptEx returned {r}")),
                }
            }
            Op::DisconnectEx {
                s,
                ov,
                flags,
                reserved,
            } => {
                let h = self.h(me, *s);
                let (o, _) = self.overlapped(me, h, *ov, 0);
                match DisconnectEx(h, o, *flags, *reserved) {
                    TRUE if o.is_null() => Check::Ok,
                    TRUE => Check::Bad("an overlapped DisconnectEx completed at once".into()),
                    FALSE => on(true),
                    r => Check::Bad(format!("DisconnectEx returned {r}")),
                }
            }
            Op::ConnectEx { s, to, data, ov } => {
                let (p, len) = self.addr(&mut arena, to);
                let (dp, dl) = Self::buf(&mut arena, *data, 7);
                let dl = if dp.is_null() {
                    dl as u32
                } else {
                    dl.max(0) as u32
                };
                let h = self.h(me, *s);
                // The room is the send data: the completion reports at most that.
                let (o, _) = self.overlapped(me, h, *ov, u64::from(dl));
                let sent = arena.zeroed::<u32>(true);
                let r = ConnectEx(h, p, len, dp.cast(), dl, sent, o);
                match r {
                    TRUE => Check::Bad("ConnectEx completed at once".into()),
                    FALSE => on(true),
                    r => Check::Bad(format!("ConnectEx returned {r}")),
                }
            }
            Op::InetPton { af, text, out } => {
                let mut t = text.clone();
                t.push(0);
                let mut buf = [0u8; 16];
                let bp = if *out {
                    buf.as_mut_ptr().cast()
                } else {
                    null_mut()
                };
                match inet_pton(*af, t.as_ptr(), bp) {
                    1 | 0 => Check::Ok,
                    -1 => on(true),
                    r => Check::Bad(format!("inet_pton returned {r}")),
                }
            }
            Op::GetAddrInfo {
                node,
                service,
                hints,
            } => {
                let z = |v: &Option<Vec<u8>>| {
                    v.as_ref().map(|v| {
                        let mut v: Vec<u8> = v.iter().map(|&b| b.max(1)).collect();
                        v.push(0);
                        v
                    })
                };
                let (n, sv) = (z(node), z(service));
                let h = hints.map(|(flags, family, socktype, protocol)| ADDRINFOA {
                    ai_flags: flags,
                    ai_family: family,
                    ai_socktype: socktype,
                    ai_protocol: protocol,
                    ..ADDRINFOA::default()
                });
                let hp = h.as_ref().map_or(null(), |h| h as *const ADDRINFOA);
                let mut res: *mut ADDRINFOA = null_mut();
                let np = n.as_ref().map_or(null(), |v| v.as_ptr());
                let sp = sv.as_ref().map_or(null(), |v| v.as_ptr());
                let r = getaddrinfo(np, sp, hp, &mut res);
                if r == 0 {
                    if res.is_null() {
                        return Check::Bad("getaddrinfo succeeded with no list".into());
                    }
                    freeaddrinfo(res);
                    Check::Ok
                } else if res.is_null() {
                    Check::LastError(r)
                } else {
                    Check::Bad(format!("getaddrinfo failed {r} but returned a list"))
                }
            }
            Op::EnumProtocols {
                filter,
                entries,
                len,
            } => {
                let filter: Option<Vec<i32>> = filter.as_ref().map(|f| {
                    let mut f = f.clone();
                    f.push(0);
                    f
                });
                let fp = filter.as_ref().map_or(null(), |f| f.as_ptr());
                let mut buffer: Option<Vec<WSAPROTOCOL_INFOW>> =
                    entries.map(|n| vec![WSAPROTOCOL_INFOW::default(); n as usize]);
                let bp = buffer.as_mut().map_or(null_mut(), |b| b.as_mut_ptr());
                let lp = arena.opt_u32(*len);
                let r = WSAEnumProtocolsW(fp, bp, lp);
                if let (Some(b), Some(l)) = (&buffer, len) {
                    if r > 0 {
                        let fit = *l as usize / std::mem::size_of::<WSAPROTOCOL_INFOW>();
                        self.infos
                            .extend_from_slice(&b[..(r as usize).min(fit).min(b.len())]);
                    }
                }
                count("WSAEnumProtocolsW", r)
            }
            Op::Select { sets, timeout } => {
                let mut fd = sets.clone().map(|s| {
                    s.map(|s| {
                        let mut set = FD_SET::default();
                        for (slot, h) in set.fd_array.iter_mut().zip(&s.hs) {
                            *slot = self.h(me, *h);
                        }
                        set.fd_count = s.count.unwrap_or(s.hs.len() as u32);
                        set
                    })
                });
                let [r, w, e] = &mut fd;
                let ptr =
                    |s: &mut Option<FD_SET>| s.as_mut().map_or(null_mut(), |s| s as *mut FD_SET);
                let t = TIMEVAL {
                    tv_sec: timeout.0,
                    tv_usec: timeout.1,
                };
                count("select", select(0, ptr(r), ptr(w), ptr(e), &t))
            }
            Op::CreateEvent => {
                let e = WSACreateEvent();
                if e == WSA_INVALID_EVENT {
                    on(true)
                } else {
                    self.add(me, Kind::Event, e as usize);
                    Check::Ok
                }
            }
            Op::CloseEvent(e) => boolean("WSACloseEvent", WSACloseEvent(self.ev(me, *e))),
            Op::SetEvent(e) => boolean("WSASetEvent", WSASetEvent(self.ev(me, *e))),
            Op::ResetEvent(e) => boolean("WSAResetEvent", WSAResetEvent(self.ev(me, *e))),
            Op::Wait {
                count,
                hs,
                all,
                alertable,
            } => {
                // 70 handles: more than WSAWaitForMultipleEvents reads for any count.
                let arr: Option<Vec<HANDLE>> = hs.as_ref().map(|hs| {
                    (0..70)
                        .map(|i| {
                            if hs.is_empty() {
                                null_mut()
                            } else {
                                self.handle_ptr(me, hs[i % hs.len()])
                            }
                        })
                        .collect()
                });
                let p = arr.as_ref().map_or(null(), |a| a.as_ptr());
                let r = WSAWaitForMultipleEvents(
                    *count,
                    p,
                    BOOL::from(*all),
                    0,
                    BOOL::from(*alertable),
                );
                if r == WSA_WAIT_FAILED {
                    on(true)
                } else if r == WSA_WAIT_TIMEOUT
                    || r == WAIT_IO_COMPLETION
                    || r < (*count).min(WSA_MAXIMUM_WAIT_EVENTS)
                {
                    Check::Ok
                } else {
                    Check::Bad(format!("WSAWaitForMultipleEvents returned {r}"))
                }
            }
            Op::EventSelect(s, e, mask) => status(
                "WSAEventSelect",
                WSAEventSelect(self.h(me, *s), self.ev(me, *e), *mask),
            ),
            Op::EnumNetworkEvents(s, e, out) => {
                let p = arena.zeroed::<WSANETWORKEVENTS>(*out);
                status(
                    "WSAEnumNetworkEvents",
                    WSAEnumNetworkEvents(self.h(me, *s), self.ev(me, *e), p),
                )
            }
            Op::IsBlocking => match WSAIsBlocking() {
                TRUE | FALSE => Check::Ok,
                r => Check::Bad(format!("WSAIsBlocking returned {r}")),
            },
            Op::CancelBlocking => status("WSACancelBlockingCall", WSACancelBlockingCall()),
            Op::SetBlockingHook => on(WSASetBlockingHook(None).is_none()),
            Op::Unhook => status("WSAUnhookBlockingHook", WSAUnhookBlockingHook()),
            Op::Sleep(alertable) => match SleepEx(0, BOOL::from(*alertable)) {
                0 | WAIT_IO_COMPLETION => Check::Ok,
                r => Check::Bad(format!("SleepEx returned {r}")),
            },
            Op::WsaSend {
                s,
                bufs,
                sent,
                flags,
                ov,
            } => {
                let (_arr, bp, n) = Self::call_bufs(&mut arena, bufs, ov.is_some());
                let sp = arena.zeroed::<u32>(*sent);
                let s = self.h(me, *s);
                let (o, r) = self.overlapped(me, s, *ov, bufs_room(bufs));
                let c = status("WSASend", WSASend(s, bp, n, sp, *flags, o, r));
                written_in("WSASend", c, sp, bufs_room(bufs))
            }
            Op::WsaSendTo {
                s,
                bufs,
                sent,
                flags,
                to,
                ov,
            } => {
                let (_arr, bp, n) = Self::call_bufs(&mut arena, bufs, ov.is_some());
                let sp = arena.zeroed::<u32>(*sent);
                let (tp, tolen) = self.addr(&mut arena, to);
                let s = self.h(me, *s);
                let (o, r) = self.overlapped(me, s, *ov, bufs_room(bufs));
                let c = status(
                    "WSASendTo",
                    WSASendTo(s, bp, n, sp, *flags, tp, tolen, o, r),
                );
                written_in("WSASendTo", c, sp, bufs_room(bufs))
            }
            Op::WsaRecv {
                s,
                bufs,
                recvd,
                flags,
                ov,
            } => {
                let (_arr, bp, n) = Self::call_bufs(&mut arena, bufs, ov.is_some());
                let (rp, fp) = (arena.zeroed::<u32>(*recvd), arena.opt_u32(*flags));
                let s = self.h(me, *s);
                let (o, r) = self.overlapped(me, s, *ov, bufs_room(bufs));
                let c = status("WSARecv", WSARecv(s, bp, n, rp, fp, o, r));
                written_in("WSARecv", c, rp, bufs_room(bufs))
            }
            Op::WsaRecvFrom {
                s,
                bufs,
                recvd,
                flags,
                from,
                ov,
            } => {
                let (_arr, bp, n) = Self::call_bufs(&mut arena, bufs, ov.is_some());
                let (rp, fp) = (arena.zeroed::<u32>(*recvd), arena.opt_u32(*flags));
                let from_len = given(*from);
                let (from, fromlen) = Self::out(&mut arena, *from);
                let s = self.h(me, *s);
                let (o, r) = self.overlapped(me, s, *ov, bufs_room(bufs));
                let c = status(
                    "WSARecvFrom",
                    WSARecvFrom(s, bp, n, rp, fp, from.cast(), fromlen, o, r),
                );
                let c = written_in("WSARecvFrom", c, rp, bufs_room(bufs));
                length_in("WSARecvFrom", c, fromlen, from_len)
            }
            Op::OverlappedResult {
                s,
                ov,
                bytes,
                flags,
            } => {
                let (o, used_on, room): (*const OVERLAPPED, SOCKET, u64) = match ov {
                    OvSel::Used(i) if !self.ovs.is_empty() => {
                        let (o, s, room) =
                            self.ovs[self.ovs.len() - 1 - usize::from(*i) % self.ovs.len()];
                        (o as *const _, s, room)
                    }
                    OvSel::Null => (null(), 0, 0),
                    OvSel::Used(_) | OvSel::Fresh => {
                        let o = Box::leak(Box::new(OVERLAPPED::default()));
                        let p: *mut OVERLAPPED = o;
                        (p.cast_const(), 0, 0)
                    }
                };
                let s = s.map_or(used_on, |s| self.h(me, s));
                let bp = arena.zeroed::<u32>(*bytes);
                let fp = arena.zeroed::<u32>(*flags);
                let c = boolean(
                    "WSAGetOverlappedResult",
                    WSAGetOverlappedResult(s, o, bp, FALSE, fp),
                );
                written_in("WSAGetOverlappedResult", c, bp, room)
            }
            Op::CreatePort {
                file,
                existing,
                key,
                threads,
            } => {
                let p = CreateIoCompletionPort(
                    self.handle_ptr(me, *file),
                    self.handle_ptr(me, *existing),
                    *key as usize,
                    *threads,
                );
                if p.is_null() {
                    on(true)
                } else {
                    self.add(me, Kind::Port, p as usize);
                    Check::Ok
                }
            }
            Op::GetQueued {
                port,
                bytes,
                key,
                ov,
            } => {
                let bp = arena.zeroed::<u32>(*bytes);
                let kp = arena.zeroed::<usize>(*key);
                let op = arena.zeroed::<*mut OVERLAPPED>(*ov);
                let c = boolean(
                    "GetQueuedCompletionStatus",
                    GetQueuedCompletionStatus(self.handle_ptr(me, *port), bp, kp, op, 0),
                );
                self.packet_in(c, bp, op)
            }
            Op::GetQueuedEx {
                port,
                max,
                null_array,
                removed,
            } => {
                let mut entries = vec![OVERLAPPED_ENTRY::default(); *max as usize];
                let ep = if *null_array {
                    null_mut()
                } else {
                    entries.as_mut_ptr()
                };
                let rp = arena.zeroed::<u32>(*removed);
                let r =
                    GetQueuedCompletionStatusEx(self.handle_ptr(me, *port), ep, *max, rp, 0, FALSE);
                let mut c = boolean("GetQueuedCompletionStatusEx", r);
                if r == TRUE && !rp.is_null() && *rp > *max {
                    c = Check::Bad(format!("{} entries removed into room for {max}", *rp));
                }
                for e in entries.iter().filter(|e| !e.lpOverlapped.is_null()) {
                    let (bytes, ov) = (e.dwNumberOfBytesTransferred, e.lpOverlapped);
                    c = self.packet_in(c, &bytes, &ov);
                }
                c
            }
            Op::Post { port, bytes, key } => boolean(
                "PostQueuedCompletionStatus",
                PostQueuedCompletionStatus(
                    self.handle_ptr(me, *port),
                    *bytes,
                    *key as usize,
                    null(),
                ),
            ),
            Op::Duplicate {
                s,
                to,
                random_pid,
                null_info,
            } => {
                let h = self.h(me, *s);
                let pid = random_pid.unwrap_or(self.pids[usize::from(*to) % self.pids.len()]);
                let mut info = WSAPROTOCOL_INFOW::default();
                let p: *mut WSAPROTOCOL_INFOW = if *null_info { null_mut() } else { &mut info };
                let r = WSADuplicateSocketW(h, pid, p);
                if r == 0 {
                    // Later WSASocketW(FROM_PROTOCOL_INFO) steps may open it, anywhere.
                    self.infos.push(info);
                }
                status("WSADuplicateSocketW", r)
            }
            Op::Cancel { s, which, ov } => {
                let h = self.h(me, *s) as HANDLE;
                match which {
                    0 => boolean("CancelIo", CancelIo(h)),
                    1 => boolean("CancelIoEx", CancelIoEx(h, null())),
                    _ => {
                        let o = if self.ovs.is_empty() {
                            null()
                        } else {
                            self.ovs[usize::from(*ov) % self.ovs.len()].0 as *const OVERLAPPED
                        };
                        boolean("CancelIoEx", CancelIoEx(h, o))
                    }
                }
            }
            Op::LayeredSocket { udp } => {
                let name = if *udp { LIAR_UDP } else { LIAR_TCP };
                let entry = api::enum_protocols(None)
                    .ok()
                    .and_then(|c| c.into_iter().find(|e| e.name == name));
                let info = entry.map_or_else(WSAPROTOCOL_INFOW::default, |e| (&e).into());
                WSASetLastError(BEEF);
                let s = WSASocketW(
                    FROM_PROTOCOL_INFO,
                    FROM_PROTOCOL_INFO,
                    FROM_PROTOCOL_INFO,
                    &info,
                    0,
                    WSA_FLAG_OVERLAPPED,
                );
                let c = on(s == INVALID_SOCKET);
                self.new_socket(me, s);
                c
            }
            Op::Timed { what, ms } => self.timed(me, *what, *ms),
            Op::Routine { block, .. } => {
                block_in_routine(*block);
                Check::Ok
            }
            Op::Advance(_)
            | Op::AdvanceToEnd
            | Op::RunSim
            | Op::Exit
            | Op::Kill
            | Op::NetworkDown { .. }
            | Op::Hook { .. }
            | Op::EndHooked { .. } => {
                unreachable!("harness steps run outside the process")
            }
        }
    }
}

/// The message of a caught panic.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(non-string panic)".into())
}

/// Runs `case` on a fresh `Sim`, checking ER-4 and the harness invariants after every step;
/// returns the trace as JSON lines.
fn execute(case: &Case) -> Result<String, TestCaseError> {
    let profile = if case.windows {
        Profile::Windows
    } else {
        Profile::Documented
    };
    let mut builder = Sim::builder().seed(case.seed).profile(profile);
    if let Some(liar) = case.liar {
        builder = builder.provider(LiarProvider::new(liar));
    }
    let sim = builder.build();
    let hosts = [sim.host("a"), sim.host("b")];
    let procs: Vec<Process> = (0..case.nproc)
        .map(|i| hosts[i % 2].process(&format!("p{i}")))
        .collect();
    let ips = (0..case.nproc)
        .map(|i| u32::from(hosts[i % 2].addr()))
        .collect();
    let mut ctx = Ctx::new(case.nproc, ips);
    ctx.pids = procs.iter().map(Process::pid).collect();
    let mut running = vec![true; case.nproc];
    let mut lost = 0u64;
    let mut seen = 0usize;
    // Threads left blocked inside routines and hooks, and the processes `Hook` made.
    let mut threads: Vec<ThreadHandle<()>> = Vec::new();
    let mut hooked: Vec<Process> = Vec::new();

    let prelude = (0..case.nproc).filter(|_| case.prelude).map(|p| Step {
        proc: p as u8,
        op: Op::Startup {
            word: 0x0202,
            null: false,
        },
    });
    let steps: Vec<Step> = prelude.chain(case.steps.iter().cloned()).collect();
    for (i, step) in steps.iter().enumerate() {
        let n = case.nproc;
        let me = (0..n)
            .map(|k| (usize::from(step.proc) + k) % n)
            .find(|&k| running[k]);
        let count_before = me.map(|m| procs[m].startup_count());
        let outcome = catch_unwind(AssertUnwindSafe(|| match (&step.op, me) {
            (Op::Advance(ms), _) => {
                sim.advance(Duration::from_millis(*ms));
                Check::Ok
            }
            (Op::AdvanceToEnd, _) => {
                sim.advance(Duration::MAX);
                Check::Ok
            }
            (Op::Hook { alertable, spawned }, _) => {
                let p = hosts[0].process(&format!("hook{i}"));
                hooked.push(p.clone());
                let alertable = *alertable;
                if *spawned {
                    threads.push(p.spawn(move || unsafe { block_in_hook(alertable) }));
                } else {
                    p.run(|| unsafe { block_in_hook(alertable) });
                }
                Check::Ok
            }
            (Op::EndHooked { kill }, _) => {
                if let Some(p) = hooked.last() {
                    if *kill {
                        p.kill();
                    } else {
                        p.exit();
                    }
                }
                Check::Ok
            }
            (Op::RunSim, _) => {
                sim.run();
                Check::Ok
            }
            (Op::NetworkDown { host, down }, _) => {
                sim.set_network_down(&hosts[usize::from(*host)], *down);
                Check::Ok
            }
            (_, None) => Check::Ok, // every process has ended
            (Op::Exit, Some(m)) => {
                procs[m].exit();
                running[m] = false;
                Check::Ok
            }
            (Op::Kill, Some(m)) => {
                procs[m].kill();
                running[m] = false;
                Check::Ok
            }
            (
                Op::Routine {
                    block,
                    spawned: true,
                },
                Some(m),
            ) => {
                let block = *block;
                threads.push(procs[m].spawn(move || unsafe { block_in_routine(block) }));
                Check::Ok
            }
            (op, Some(m)) => procs[m].run(|| unsafe {
                if !matches!(op, Op::GetLastError | Op::SetLastError(_)) {
                    WSASetLastError(BEEF);
                }
                ctx.call(m, op)
            }),
        }));
        match outcome {
            Err(p) => {
                let msg = panic_text(&*p);
                prop_assert!(
                    msg.contains("deadlock"),
                    "step {i} {step:?} panicked: {msg}"
                );
            }
            Ok(Check::Ok) => {}
            Ok(Check::Bad(what)) => prop_assert!(false, "step {i} {step:?}: {what}"),
            Ok(Check::Returned(code)) => prop_assert!(
                WsaError::from_code(code).is_some(),
                "step {i} {step:?}: WSAStartup returned unknown error {code}"
            ),
            Ok(Check::LastError(code)) => {
                // kernel32 functions set Win32's numbering (OV-6, EX-7).
                let known = if kernel32(&step.op) {
                    WsaError::ALL.iter().any(|e| e.win32_code() == code)
                } else {
                    WsaError::from_code(code).is_some()
                };
                prop_assert!(
                    known,
                    "step {i} {step:?}: failed with last error {code} ({code:#x}), which is \
                     no Winsock error (ER-4; 0xdeadbeef: the call did not set it)"
                );
                if count_before == Some(0) && er1_applies(&step.op) {
                    prop_assert_eq!(
                        code,
                        WSANOTINITIALISED,
                        "step {} {:?}: ER-1 before startup",
                        i,
                        step
                    );
                }
            }
        }

        // Invariants after every step.
        prop_assert_eq!(ctx.reused, None, "CS-1: a socket handle handed out twice");
        // The kit's own check agrees (diagnostics are what hostile programs are for).
        if let Err(v) = ws2sim::testing::check_invariants(&sim) {
            let broken: Vec<_> = v
                .iter()
                .filter(|v| matches!(v.rule, Rule::Ov2 | Rule::Cl7 | Rule::Cl8 | Rule::Cs1))
                .collect();
            prop_assert!(broken.is_empty(), "step {} {:?}: {:?}", i, step, broken);
        }
        let ours: Vec<(usize, u32, u64)> = lock(&OVERFLOWS)
            .iter()
            .filter(|(o, ..)| ctx.ovs.iter().any(|(p, ..)| p == o))
            .copied()
            .collect();
        prop_assert!(
            ours.is_empty(),
            "step {i} {step:?}: a completion routine was told of more bytes than its buffers \
             hold (OVERLAPPED, bytes, room): {ours:?}"
        );
        for (k, p) in procs.iter().enumerate() {
            let c = p.startup_count();
            prop_assert!(
                c < 1 << 31 && c <= ctx.startups[k],
                "step {} {:?}: process {} startup count {} (successful startups: {})",
                i,
                step,
                k,
                c,
                ctx.startups[k]
            );
            if c == 0 {
                prop_assert_eq!(
                    p.live_resources(),
                    0,
                    "step {} {:?}: process {} holds resources with startup count 0",
                    i,
                    step,
                    k
                );
            }
        }
        let now_lost = sim.lost_bytes();
        prop_assert!(
            now_lost >= lost,
            "step {i} {step:?}: lost_bytes went down from {lost} to {now_lost}"
        );
        lost = now_lost;
        let trace = sim.trace();
        let events = trace.events();
        for (j, e) in events.iter().enumerate().skip(seen) {
            prop_assert_eq!(
                e.seq,
                j as u64,
                "step {} {:?}: trace seq numbers are not consecutive",
                i,
                step
            );
            structured_call_event(e)
                .map_err(|m| TestCaseError::fail(format!("step {i} {step:?}: {m}: {e:?}")))?;
        }
        seen = events.len();
    }
    Ok(sim.trace().to_json_lines())
}

/// A call event's structured form agrees with its text (issue 16): `args` is the named
/// arguments' values joined, every argument has a distinct name, and `returned` is the result
/// as a number wherever the result text is one (decimal, hex, or a named failure value).
fn structured_call_event(e: &ws2sim::Event) -> Result<(), String> {
    if e.kind != ws2sim::EventKind::Call {
        return match (e.arguments.is_empty(), e.returned) {
            (true, None) => Ok(()),
            _ => Err("a non-call event has arguments or a returned value".into()),
        };
    }
    let values: Vec<&str> = e.arguments.iter().map(|a| a.value.as_str()).collect();
    if values.join(", ") != e.args {
        return Err(format!(
            "args {:?} are not the arguments {values:?}",
            e.args
        ));
    }
    let names: BTreeSet<&str> = e.arguments.iter().map(|a| a.name.as_str()).collect();
    if names.len() != e.arguments.len() || names.contains("") {
        return Err("argument names are empty or repeated".into());
    }
    let head = e.result.split(' ').next().unwrap_or("");
    let number = match head {
        "SOCKET_ERROR" | "INVALID_SOCKET" => Some(-1),
        "FALSE" | "NULL" | "WSA_INVALID_EVENT" => Some(0),
        "TRUE" => Some(1),
        "WSA_WAIT_FAILED" => Some(0xFFFF_FFFF),
        "WAIT_IO_COMPLETION" => Some(0xC0),
        h => match h.strip_prefix("0x") {
            Some(hex) => i64::from_str_radix(hex, 16).ok(),
            None => h.parse::<i64>().ok(),
        },
    };
    match number {
        Some(n) if e.returned != Some(n) => Err(format!("returned {:?}, not {n}", e.returned)),
        Some(_) | None => Ok(()),
    }
}

/// ER-1 applies to the step's call: a Winsock function other than WSAStartup,
/// WSAGetLastError and WSASetLastError (kernel32's SleepEx and completion ports need no
/// startup; WSAIsBlocking has no failure value).
/// The kernel32 calls among the operations: their last errors are Win32 codes.
fn kernel32(op: &Op) -> bool {
    matches!(
        op,
        Op::GetQueued { .. }
            | Op::GetQueuedEx { .. }
            | Op::Post { .. }
            | Op::Cancel { .. }
            | Op::CreatePort { .. }
            | Op::Timed {
                what: Timed::Queued(_),
                ..
            }
    )
}

fn er1_applies(op: &Op) -> bool {
    !matches!(
        op,
        Op::Startup { .. }
            | Op::GetLastError
            | Op::SetLastError(_)
            | Op::Sleep(_)
            | Op::CreatePort { .. }
            | Op::GetQueued { .. }
            | Op::GetQueuedEx { .. }
            | Op::Post { .. }
            | Op::Cancel { .. }
            | Op::IsBlocking
            | Op::Routine { .. }
            // AD-5: the address conversions need no WSAStartup.
            | Op::InetPton { .. }
            | Op::Timed {
                what: Timed::SleepEx(_) | Timed::Queued(_) | Timed::ThreadSleep,
                ..
            }
    )
}

proptest! {
    #![proptest_config(proptest_cases(128))]

    /// ER-4: no argument value and no call order makes a public function panic; every call
    /// that returns its failure value leaves a last error the simulator knows (ER-1 first
    /// when the process is not started); the startup count never goes below 0 and a process
    /// at 0 holds nothing (CL-8); lost bytes never go down; trace seq numbers are consecutive;
    /// socket handles are never handed out twice (CS-1).
    #[test]
    fn er_4_no_argument_value_or_call_order_panics(case in case(60, false)) {
        execute(&case)?;
    }
}

proptest! {
    #![proptest_config(proptest_cases(32))]

    /// TH-2: the same random program on two fresh Sims with the same seed gives the same
    /// trace, byte for byte.
    #[test]
    fn th_2_random_programs_replay_identically(case in case(40, false)) {
        let first = execute(&case)?;
        let second = execute(&case)?;
        if first != second {
            let (a, b) = first
                .lines()
                .zip(second.lines())
                .find(|(a, b)| a != b)
                .unwrap_or(("(end)", "(end)"));
            prop_assert!(false, "the replay differs:\n  first:  {a}\n  second: {b}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TH-9 in a child process: threads left blocked inside routines and hooks.
//
// Issue 12, found by this property: a simulated thread ended (by the `Sim`'s drop, a kill or a
// deadlock report elsewhere) while it is inside a completion routine or a blocking hook
// sometimes goes on as if it had not been ended, makes one more call, and trips the scheduler
// invariant ("thread N run state Finished -> Blocked { .. } is not a transition") inside the
// user's extern "system" frame: the test binary aborted ("panic in a function that cannot
// unwind"), at times after the test that made it had passed. It depended on OS-thread timing
// (the thread was ended while it ran user code), so a seed did not replay it. Fixed
// (ThreadCtx::switch notices the termination first); the programs still run in a child
// process, so that a regression fails this test instead of aborting the whole binary.

/// Set for the child processes that run the helper tests below.
const CHILD_ENV: &str = "WS2SIM_ROBUSTNESS_TEST_CHILD";

/// Runs the helper test `name` of this test binary in a child process.
fn run_child(name: &str) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([name, "--exact", "--ignored", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("the child test process runs")
}

proptest! {
    #![proptest_config(proptest_cases(128))]

    /// The property with threads left blocked inside routines and hooks (run by
    /// `th_9_threads_ended_inside_routines_and_hooks_never_abort`).
    #[test]
    #[ignore = "helper: run in a child process by th_9_threads_ended_inside_routines_and_hooks_never_abort"]
    fn th_9_helper_programs_with_threads_inside_callbacks(case in case(60, true)) {
        if std::env::var_os(CHILD_ENV).is_some() {
            execute(&case)?;
        }
    }
}

/// The smallest program found that aborts: at the end of time, a Winsock 1.1 thread blocked
/// inside its blocking hook (`SleepEx(WSA_INFINITE, FALSE)`) when the `Sim` is dropped; about
/// one run in three of these 30 seeds aborts.
#[test]
#[ignore = "helper: run in a child process by th_9_threads_ended_inside_routines_and_hooks_never_abort"]
fn th_9_helper_sim_dropped_with_a_thread_inside_a_hook() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    for seed in 0..30 {
        let sim = Sim::builder().seed(seed).build();
        let a = sim.host("a");
        let p0 = a.process("p0");
        sim.advance(Duration::MAX);
        p0.run(|| unsafe {
            let mut d = WSADATA::default();
            assert_eq!(WSAStartup(0x0202, &mut d), 0);
        });
        let hooked = a.process("hooked");
        let _t = hooked.spawn(|| unsafe { block_in_hook(false) });
        p0.run(|| ws2sim::thread::sleep(Duration::from_millis(5)));
    }
}

/// TH-9: threads ended while they are inside completion routines and blocking hooks (by a
/// deadlock report, `Process::kill`/`exit`, the `Sim`'s drop) never abort the process.
#[test]
fn th_9_threads_ended_inside_routines_and_hooks_never_abort() {
    for helper in [
        "th_9_helper_sim_dropped_with_a_thread_inside_a_hook",
        "th_9_helper_programs_with_threads_inside_callbacks",
    ] {
        let out = run_child(helper);
        assert!(
            out.status.success(),
            "{helper}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .filter(|l| l.contains("invariant") || l.contains("cannot unwind"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// ER-4: a Winsock call on an OS thread that runs no simulated thread panics with what to do
/// instead, except while that thread is already unwinding: then (a RAII guard's `Drop`
/// closing its socket as a test fails) the call fails WSANOTINITIALISED, because a second
/// panic inside a destructor would abort the test process.
#[test]
fn er_4_a_call_outside_a_simulated_thread_while_unwinding_fails_instead_of_aborting() {
    struct Guard(SOCKET, &'static Mutex<Vec<i32>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            let r = unsafe { closesocket(self.0) };
            let cleanup = unsafe { WSACleanup() };
            self.1.lock().unwrap().extend([r, cleanup]);
        }
    }
    static RESULTS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
    let unwound = catch_unwind(|| {
        let _guard = Guard(5, &RESULTS);
        panic!("the test's own assertion failed");
    });
    let message = unwound.unwrap_err();
    assert_eq!(
        message.downcast_ref::<&str>(),
        Some(&"the test's own assertion failed")
    );
    assert_eq!(*RESULTS.lock().unwrap(), [SOCKET_ERROR, SOCKET_ERROR]);

    let outside = catch_unwind(|| unsafe { closesocket(5) }).unwrap_err();
    let text = outside
        .downcast_ref::<&str>()
        .copied()
        .or(outside.downcast_ref::<String>().map(String::as_str))
        .unwrap();
    assert!(text.contains("called outside a simulated thread"), "{text}");
}
