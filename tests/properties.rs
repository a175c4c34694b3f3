//! Property tests: random sequences of Winsock calls, checked step by step against a small
//! reference model of SPEC.md (ER-1, ER-2, ER-4, ST-1, ST-3, ST-4, CL-1, CL-2, CL-3, CL-6, CL-8,
//! CS-1, CS-8, TH-1, SP-11).
//!
//! Several processes share one `Sim`; every step runs one call in one of them (through
//! `ws2sim::sys`, inside `Process::run`) and then compares the return value, `WSAGetLastError`,
//! `Process::startup_count` and `Process::live_resources` of *every* process with the model.
//! Handles are drawn from everything `socket` ever returned in the run (live, closed, or from
//! before a final cleanup, in any process), random values, 0 and `INVALID_SOCKET`.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use ws2sim::sys as ws;
use ws2sim::{Process, Sim, WsaError};

mod common;
use common::*;

const FILL: u8 = 0xa5;
const BUF: usize = 16;

/// Every `SOL_SOCKET` option name defined in `ws2sim::consts`: the "unknown option" strategy
/// avoids them all.
const KNOWN_OPTS: &[i32] = &[
    ws::SO_DEBUG,
    ws::SO_ACCEPTCONN,
    ws::SO_REUSEADDR,
    ws::SO_KEEPALIVE,
    ws::SO_DONTROUTE,
    ws::SO_BROADCAST,
    ws::SO_LINGER,
    ws::SO_OOBINLINE,
    ws::SO_DONTLINGER,
    ws::SO_EXCLUSIVEADDRUSE,
    ws::SO_SNDBUF,
    ws::SO_RCVBUF,
    ws::SO_SNDTIMEO,
    ws::SO_RCVTIMEO,
    ws::SO_ERROR,
    ws::SO_TYPE,
    ws::SO_MAX_MSG_SIZE,
    ws::SO_PROTOCOL_INFOA,
    ws::SO_PROTOCOL_INFOW,
];

/// Option levels with a meaning: the "garbage level" strategy avoids them.
const KNOWN_LEVELS: &[i32] = &[
    ws::SOL_SOCKET,
    ws::IPPROTO_TCP,
    ws::IPPROTO_UDP,
    ws::IPPROTO_IP,
];

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// Where a handle argument comes from.
#[derive(Debug, Clone, Copy)]
enum H {
    /// The i-th (mod count) handle `socket` returned in this run, in any process.
    Seen(usize),
    /// Any value (treated as live only if it happens to be live in the calling process).
    Raw(usize),
    Zero,
    Invalid,
}

#[derive(Debug, Clone, Copy)]
enum GetName {
    Type,
    Linger,
    DontLinger,
    Unknown(i32),
}

#[derive(Debug, Clone, Copy)]
enum SetName {
    Linger,
    DontLinger,
}

#[derive(Debug, Clone)]
enum Call {
    Startup {
        word: u16,
        null: bool,
    },
    Cleanup,
    Socket {
        af: i32,
        ty: i32,
        proto: i32,
    },
    Close(H),
    GetOpt {
        h: H,
        /// `None`: `SOL_SOCKET`; `Some(l)`: a level Winsock does not know.
        bad_level: Option<i32>,
        name: GetName,
        /// `None`: `optlen` is NULL.
        len: Option<i32>,
        null_val: bool,
    },
    SetOpt {
        h: H,
        name: SetName,
        bytes: [u8; BUF],
        len: i32,
        null_val: bool,
    },
}

/// One step: a call made by process `proc % n`.
#[derive(Debug, Clone)]
struct Step {
    proc: usize,
    call: Call,
}

fn handle() -> impl Strategy<Value = H> {
    prop_oneof![
        6 => any::<usize>().prop_map(H::Seen),
        1 => any::<usize>().prop_map(H::Raw),
        1 => Just(H::Zero),
        1 => Just(H::Invalid),
    ]
}

fn version_word() -> impl Strategy<Value = u16> {
    prop_oneof![
        // Small majors and minors, where the negotiation table has its cases (0, 1, 2, ≥ 3).
        3 => (0u16..=4, 0u16..=4).prop_map(|(major, minor)| major | minor << 8),
        1 => any::<u16>(),
    ]
}

fn af() -> impl Strategy<Value = i32> {
    prop_oneof![
        6 => Just(i32::from(ws::AF_INET)),
        1 => Just(0),
        1 => any::<i32>(),
    ]
}

fn sock_type() -> impl Strategy<Value = i32> {
    prop_oneof![
        4 => Just(ws::SOCK_STREAM),
        3 => Just(ws::SOCK_DGRAM),
        1 => Just(0),
        1 => any::<i32>(),
    ]
}

fn protocol() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => Just(0),
        2 => Just(ws::IPPROTO_TCP),
        2 => Just(ws::IPPROTO_UDP),
        1 => Just(ws::IPPROTO_WS2SIM_DISCONNECT_DATA),
        1 => any::<i32>(),
    ]
}

fn get_name() -> impl Strategy<Value = GetName> {
    prop_oneof![
        2 => Just(GetName::Type),
        3 => Just(GetName::Linger),
        2 => Just(GetName::DontLinger),
        1 => any::<i32>()
            .prop_filter("a known option", |n| !KNOWN_OPTS.contains(n))
            .prop_map(GetName::Unknown),
    ]
}

fn opt_len() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => Just(4),
        3 => -4i32..=BUF as i32,
        1 => Just(0),
    ]
}

fn get_opt() -> impl Strategy<Value = Call> {
    let bad_level = prop_oneof![
        8 => Just(None),
        1 => any::<i32>()
            .prop_filter("a known level", |l| !KNOWN_LEVELS.contains(l))
            .prop_map(Some),
    ];
    let len = prop_oneof![8 => opt_len().prop_map(Some), 1 => Just(None)];
    (
        handle(),
        bad_level,
        get_name(),
        len,
        prop::bool::weighted(0.1),
    )
        .prop_map(|(h, bad_level, name, len, null_val)| Call::GetOpt {
            h,
            bad_level,
            name,
            len,
            null_val,
        })
}

fn set_opt() -> impl Strategy<Value = Call> {
    let name = prop_oneof![Just(SetName::Linger), Just(SetName::DontLinger)];
    let bytes = prop_oneof![
        // Small values, so that on/off and zero/non-zero both come up often.
        3 => prop::array::uniform16(0u8..=2),
        1 => prop::array::uniform16(any::<u8>()),
    ];
    (handle(), name, bytes, opt_len(), prop::bool::weighted(0.1)).prop_map(
        |(h, name, bytes, len, null_val)| Call::SetOpt {
            h,
            name,
            bytes,
            len,
            null_val,
        },
    )
}

/// Calls with the given weights: startup, cleanup, socket, closesocket, getsockopt, setsockopt.
fn call(w: [u32; 6]) -> impl Strategy<Value = Call> {
    prop_oneof![
        w[0] => (version_word(), prop::bool::weighted(0.15))
            .prop_map(|(word, null)| Call::Startup { word, null }),
        w[1] => Just(Call::Cleanup),
        w[2] => (af(), sock_type(), protocol())
            .prop_map(|(af, ty, proto)| Call::Socket { af, ty, proto }),
        w[3] => handle().prop_map(Call::Close),
        w[4] => get_opt(),
        w[5] => set_opt(),
    ]
}

fn steps(w: [u32; 6], max: usize) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (0usize..3, call(w)).prop_map(|(proc, call)| Step { proc, call }),
        1..max,
    )
}

// ---------------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct SockModel {
    /// SO_TYPE.
    ty: i32,
    /// Connectionless (UDP): no linger options (CS-8).
    datagram: bool,
    /// l_onoff, l_linger as last set (CS-8).
    onoff: u16,
    seconds: u16,
}

#[derive(Debug, Default)]
struct ProcModel {
    /// ST-4 / CL-2.
    count: u32,
    /// Live sockets by handle.
    live: BTreeMap<usize, SockModel>,
    /// TH-1: the main thread's last error.
    last_error: i32,
}

/// What a call is expected to do: its return value (as `i64`, to hold `SOCKET` and `i32`
/// alike), the last error after it, and for getsockopt the buffer and `optlen` after it.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    ret: i64,
    last_error: i32,
    buf: Option<[u8; BUF]>,
    len: Option<i32>,
}

impl Outcome {
    /// The outcome of a call with no output buffer: its return value and the last error.
    fn status(ret: i64, last_error: i32) -> Outcome {
        Outcome {
            ret,
            last_error,
            buf: None,
            len: None,
        }
    }
}

/// SP-11 with the argument checks Windows makes (win: sock.c `test_WSASocket`), as the crate's
/// rustdoc of the catalog describes them: the socket type of the entry chosen, or the error.
fn model_socket(af: i32, ty: i32, proto: i32) -> Result<i32, i32> {
    // The built-in catalog, in order: (type, protocol, matches protocol 0).
    const ENTRIES: [(i32, i32, bool); 3] = [
        (ws::SOCK_STREAM, ws::IPPROTO_TCP, true),
        (ws::SOCK_DGRAM, ws::IPPROTO_UDP, true),
        (ws::SOCK_STREAM, ws::IPPROTO_WS2SIM_DISCONNECT_DATA, false),
    ];
    if af == 0 && proto == 0 {
        return Err(ws::WSAEINVAL);
    }
    if ty != 0 && ty != ws::SOCK_STREAM && ty != ws::SOCK_DGRAM {
        return Err(ws::WSAESOCKTNOSUPPORT);
    }
    if af != 0 && af != i32::from(ws::AF_INET) {
        return Err(ws::WSAEAFNOSUPPORT);
    }
    ENTRIES
        .iter()
        .find(|(ety, eproto, zero)| {
            (ty == 0 || ty == *ety) && if proto == 0 { *zero } else { proto == *eproto }
        })
        .map(|(ety, _, _)| *ety)
        .ok_or(ws::WSAEPROTONOSUPPORT)
}

/// getsockopt on a live socket: ER-3 order (option, then pointers), CS-8, and the short-buffer
/// behaviour the crate documents for each option shape (win: sock.c `test_set_getsockopt`).
fn model_getopt(
    s: &SockModel,
    bad_level: Option<i32>,
    name: GetName,
    len: Option<i32>,
    null_val: bool,
) -> (Result<(), i32>, [u8; BUF], Option<i32>) {
    let mut buf = [FILL; BUF];
    if bad_level.is_some() {
        return (Err(ws::WSAEINVAL), buf, len);
    }
    match name {
        GetName::Unknown(_) => return (Err(ws::WSAENOPROTOOPT), buf, len),
        // CS-8: no linger on connectionless sockets.
        GetName::Linger | GetName::DontLinger if s.datagram => {
            return (Err(ws::WSAENOPROTOOPT), buf, len)
        }
        _ => {}
    }
    let Some(l) = len.filter(|_| !null_val) else {
        return (Err(ws::WSAEFAULT), buf, len); // CS-8: NULL → WSAEFAULT.
    };
    let have = usize::try_from(l).unwrap_or(0);
    match name {
        GetName::Type if have < 4 => (Err(ws::WSAEFAULT), buf, len),
        GetName::Type => {
            buf[..4].copy_from_slice(&s.ty.to_ne_bytes());
            (Ok(()), buf, Some(4))
        }
        GetName::Linger if have < 4 => {
            buf[..have].fill(0);
            (Err(ws::WSAEFAULT), buf, len)
        }
        GetName::Linger => {
            buf[..4].copy_from_slice(&linger_bytes(s.onoff, s.seconds));
            (Ok(()), buf, Some(4))
        }
        GetName::DontLinger => {
            let v = u32::from(s.onoff == 0).to_ne_bytes();
            match have {
                0 => (Err(ws::WSAEFAULT), buf, len),
                1..=3 => {
                    buf[..have].copy_from_slice(&v[..have]);
                    (Ok(()), buf, Some(1))
                }
                _ => {
                    buf[..4].copy_from_slice(&v);
                    (Ok(()), buf, Some(4))
                }
            }
        }
        GetName::Unknown(_) => unreachable!("returned above"),
    }
}

/// setsockopt(SOL_SOCKET, SO_LINGER / SO_DONTLINGER) on a live socket (CS-8, ER-3).
fn model_setopt(
    s: &mut SockModel,
    name: SetName,
    bytes: &[u8; BUF],
    len: i32,
    null_val: bool,
) -> Result<(), i32> {
    if s.datagram {
        return Err(ws::WSAENOPROTOOPT);
    }
    if null_val || len < 0 {
        return Err(ws::WSAEFAULT);
    }
    let n = len as usize;
    match name {
        SetName::Linger if n < 4 => Err(ws::WSAEFAULT),
        SetName::Linger => {
            s.onoff = u16::from_ne_bytes([bytes[0], bytes[1]]);
            s.seconds = u16::from_ne_bytes([bytes[2], bytes[3]]);
            Ok(())
        }
        // A zero-length BOOL leaves the option as it was.
        SetName::DontLinger if n == 0 => Ok(()),
        SetName::DontLinger => {
            let on = bytes[..n.min(4)].iter().any(|&b| b != 0);
            s.onoff = u16::from(!on); // CS-8: SO_DONTLINGER = !l_onoff; l_linger kept.
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

struct World {
    sim: Sim,
    procs: Vec<Process>,
    models: Vec<ProcModel>,
    /// Every handle `socket` returned in this Sim, in order (CS-1: all distinct).
    seen: Vec<usize>,
    seen_set: BTreeSet<usize>,
}

impl World {
    fn new(n: usize, seed: u64) -> World {
        let sim = Sim::builder().seed(seed).build();
        let other = sim.host("other");
        let procs: Vec<Process> = (0..n)
            .map(|i| {
                // Two processes on one host, the third on another.
                if i < 2 {
                    sim.localhost().process(&format!("p{i}"))
                } else {
                    other.process(&format!("p{i}"))
                }
            })
            .collect();
        World {
            sim,
            models: (0..n).map(|_| ProcModel::default()).collect(),
            procs,
            seen: Vec::new(),
            seen_set: BTreeSet::new(),
        }
    }

    fn resolve(&self, h: H) -> usize {
        match h {
            H::Seen(i) if !self.seen.is_empty() => self.seen[i % self.seen.len()],
            H::Seen(_) | H::Zero => 0,
            H::Raw(v) => v,
            H::Invalid => ws::INVALID_SOCKET,
        }
    }

    /// Runs one call in process `p`, compares it with the model, and updates the model.
    fn step(&mut self, p: usize, call: &Call) -> Result<(), TestCaseError> {
        let proc = self.procs[p].clone();
        let ctx = format!("process {p}, {call:?}");
        let started = self.models[p].count > 0;
        let s = match *call {
            Call::Close(h) | Call::GetOpt { h, .. } | Call::SetOpt { h, .. } => self.resolve(h),
            _ => 0,
        };
        let m = &mut self.models[p];
        let (got, want) = match *call {
            Call::Startup { word, null } => {
                let mut data = ws::WSADATA::default();
                let ptr: *mut ws::WSADATA = if null {
                    std::ptr::null_mut()
                } else {
                    &mut data
                };
                let ret = proc.run(|| unsafe { ws::WSAStartup(word, ptr) });
                // ST-1, then ST-3 (NULL checked after the version), ST-4 (count on success).
                // WSAStartup reports its error directly and leaves the last error alone.
                let want_ret = match negotiate(word) {
                    None => ws::WSAVERNOTSUPPORTED,
                    Some(_) if null => ws::WSAEFAULT,
                    Some(_) => {
                        m.count += 1;
                        0
                    }
                };
                if !null {
                    // ST-2: filled whether or not the call succeeds; wHighVersion always 2.2.
                    prop_assert_eq!(data.wHighVersion, 0x0202, "{}", ctx);
                    if let Some(v) = negotiate(word) {
                        prop_assert_eq!(data.wVersion, v, "{}", ctx);
                    }
                }
                let got = Outcome::status(i64::from(ret), last_error(&proc));
                let want = Outcome::status(i64::from(want_ret), m.last_error);
                (got, want)
            }
            Call::Cleanup => {
                let ret = proc.run(|| unsafe { ws::WSACleanup() });
                let want_ret = if m.count == 0 {
                    m.last_error = ws::WSANOTINITIALISED; // CL-1
                    ws::SOCKET_ERROR
                } else {
                    m.count -= 1; // CL-2
                    m.last_error = 0; // CL-3
                    if m.count == 0 {
                        m.live.clear(); // CL-6, CL-8
                    }
                    0
                };
                let got = Outcome::status(i64::from(ret), last_error(&proc));
                let want = Outcome::status(i64::from(want_ret), m.last_error);
                if started && m.count == 0 {
                    // CL-8: nothing survives the final cleanup.
                    prop_assert_eq!(proc.live_resources(), 0, "after final cleanup: {}", ctx);
                }
                (got, want)
            }
            Call::Socket { af, ty, proto } => {
                let s = proc.run(|| unsafe { ws::socket(af, ty, proto) });
                let want_ret = if !started {
                    m.last_error = ws::WSANOTINITIALISED; // ER-1
                    ws::INVALID_SOCKET
                } else {
                    match model_socket(af, ty, proto) {
                        Ok(sock_ty) => {
                            prop_assert_ne!(s, ws::INVALID_SOCKET, "{}", ctx);
                            prop_assert_ne!(s, 0, "{}", ctx);
                            // CS-1: never a handle handed out before, in any process.
                            prop_assert!(
                                self.seen_set.insert(s),
                                "handle {:#x} handed out twice ({})",
                                s,
                                ctx
                            );
                            self.seen.push(s);
                            m.live.insert(
                                s,
                                SockModel {
                                    ty: sock_ty,
                                    datagram: sock_ty == ws::SOCK_DGRAM,
                                    onoff: 0,
                                    seconds: 0,
                                },
                            );
                            m.last_error = 0; // socket clears the last error on success.
                            s
                        }
                        Err(e) => {
                            m.last_error = e; // ER-4
                            ws::INVALID_SOCKET
                        }
                    }
                };
                let got = Outcome::status(s as i64, last_error(&proc));
                let want = Outcome::status(want_ret as i64, m.last_error);
                (got, want)
            }
            Call::Close(_) => {
                let ret = proc.run(|| unsafe { ws::closesocket(s) });
                let want_ret = if !started {
                    m.last_error = ws::WSANOTINITIALISED; // ER-1
                    ws::SOCKET_ERROR
                } else if m.live.remove(&s).is_some() {
                    0 // CS-1
                } else {
                    m.last_error = ws::WSAENOTSOCK; // ER-2, CS-1
                    ws::SOCKET_ERROR
                };
                let got = Outcome::status(i64::from(ret), last_error(&proc));
                let want = Outcome::status(i64::from(want_ret), m.last_error);
                (got, want)
            }
            Call::GetOpt {
                bad_level,
                name,
                len,
                null_val,
                ..
            } => {
                let level = bad_level.unwrap_or(ws::SOL_SOCKET);
                let optname = match name {
                    GetName::Type => ws::SO_TYPE,
                    GetName::Linger => ws::SO_LINGER,
                    GetName::DontLinger => ws::SO_DONTLINGER,
                    GetName::Unknown(n) => n,
                };
                let mut buf = [FILL; BUF];
                let mut optlen = len.unwrap_or(0);
                let val: *mut u8 = if null_val {
                    std::ptr::null_mut()
                } else {
                    buf.as_mut_ptr()
                };
                let lenp: *mut i32 = if len.is_some() {
                    &mut optlen
                } else {
                    std::ptr::null_mut()
                };
                let ret = proc.run(|| unsafe { ws::getsockopt(s, level, optname, val, lenp) });
                let (want_r, want_buf, want_len) = if !started {
                    (Err(ws::WSANOTINITIALISED), [FILL; BUF], len) // ER-1
                } else {
                    match m.live.get(&s) {
                        None => (Err(ws::WSAENOTSOCK), [FILL; BUF], len), // ER-2
                        Some(sock) => model_getopt(sock, bad_level, name, len, null_val),
                    }
                };
                let want_ret = match want_r {
                    Ok(()) => 0,
                    Err(e) => {
                        m.last_error = e; // ER-4
                        ws::SOCKET_ERROR
                    }
                };
                let got = Outcome {
                    ret: i64::from(ret),
                    last_error: last_error(&proc),
                    buf: Some(buf),
                    len: len.map(|_| optlen),
                };
                let want = Outcome {
                    ret: i64::from(want_ret),
                    last_error: m.last_error,
                    buf: Some(want_buf),
                    len: want_len,
                };
                (got, want)
            }
            Call::SetOpt {
                name,
                ref bytes,
                len,
                null_val,
                ..
            } => {
                let optname = match name {
                    SetName::Linger => ws::SO_LINGER,
                    SetName::DontLinger => ws::SO_DONTLINGER,
                };
                let val: *const u8 = if null_val {
                    std::ptr::null()
                } else {
                    bytes.as_ptr()
                };
                let ret =
                    proc.run(|| unsafe { ws::setsockopt(s, ws::SOL_SOCKET, optname, val, len) });
                let want_r = if !started {
                    Err(ws::WSANOTINITIALISED) // ER-1
                } else {
                    match m.live.get_mut(&s) {
                        None => Err(ws::WSAENOTSOCK), // ER-2
                        Some(sock) => model_setopt(sock, name, bytes, len, null_val),
                    }
                };
                let want_ret = match want_r {
                    Ok(()) => {
                        m.last_error = 0; // setsockopt clears the last error on success.
                        0
                    }
                    Err(e) => {
                        m.last_error = e; // ER-4
                        ws::SOCKET_ERROR
                    }
                };
                let got = Outcome::status(i64::from(ret), last_error(&proc));
                let want = Outcome::status(i64::from(want_ret), m.last_error);
                (got, want)
            }
        };
        prop_assert_eq!(got, want, "{}", ctx);
        self.check_all(&ctx)
    }

    /// Every process's count, resources and last error match its model: one process's calls
    /// never change another's state.
    fn check_all(&self, ctx: &str) -> Result<(), TestCaseError> {
        for (i, (p, m)) in self.procs.iter().zip(&self.models).enumerate() {
            prop_assert_eq!(p.startup_count(), m.count, "process {} after {}", i, ctx);
            // CL-8: the live resources are exactly the live sockets (0 after a final cleanup).
            prop_assert_eq!(
                p.live_resources(),
                m.live.len(),
                "process {} after {}",
                i,
                ctx
            );
            prop_assert_eq!(last_error(p), m.last_error, "process {} after {}", i, ctx);
        }
        Ok(())
    }

    /// Cleans every process up completely, then checks CL-1 and CL-8 once more.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        for i in 0..self.procs.len() {
            while self.models[i].count > 0 {
                self.step(i, &Call::Cleanup)?;
            }
            self.step(i, &Call::Cleanup)?; // CL-1: one too many.
            prop_assert_eq!(self.procs[i].live_resources(), 0);
            prop_assert_eq!(self.procs[i].startup_count(), 0);
        }
        // The trace names the rule that decided each failure: ER-4 for every failing call but
        // WSAStartup, ER-1/CL-1 for WSANOTINITIALISED, ER-2 for WSAENOTSOCK.
        for e in self.sim.trace().events() {
            let Some(err) = e.error else { continue };
            let has = |id: &str| e.rules.iter().any(|r| r.id() == id);
            prop_assert_eq!(has("ER-4"), e.call != "WSAStartup", "{}", e);
            if err == WsaError::NotInitialised {
                prop_assert!(has("ER-1") || has("CL-1"), "{}", e);
            }
            if err == WsaError::NotSocket {
                prop_assert!(has("ER-2"), "{}", e);
            }
        }
        Ok(())
    }
}

/// Runs `steps` in a new `World` of `nproc` processes after `setup`, then cleans everything up
/// ([`World::finish`]).
fn run_with(
    nproc: usize,
    seed: u64,
    steps: &[Step],
    setup: impl FnOnce(&mut World) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let mut w = World::new(nproc, seed);
    setup(&mut w)?;
    for s in steps {
        w.step(s.proc % nproc, &s.call)?;
    }
    w.finish()
}

/// [`run_with`] from the initial state, checked first.
fn run(nproc: usize, seed: u64, steps: &[Step]) -> Result<(), TestCaseError> {
    run_with(nproc, seed, steps, |w| w.check_all("start"))
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// The whole mix: startups (some with NULL WSADATA or unsupported versions), cleanups,
    /// sockets with valid and garbage arguments, closes and options on live, closed, stale,
    /// foreign and made-up handles, spread over 2 or 3 processes of one Sim.
    #[test]
    fn cs_1_er_2_random_call_sequences_never_alias_or_panic(
        nproc in 2usize..=3,
        seed in any::<u64>(),
        steps in steps([3, 2, 5, 3, 4, 3], 60),
    ) {
        run(nproc, seed, &steps)?;
    }

    /// Cleanup-heavy sequences: the startup count follows ST-4/CL-2 exactly, WSACleanup at 0
    /// fails WSANOTINITIALISED (CL-1), and every final cleanup leaves nothing alive (CL-8); a
    /// later startup starts clean (ST-6): old handles are WSAENOTSOCK (ER-2).
    #[test]
    fn cl_8_st_4_startup_count_and_resources_follow_the_model(
        nproc in 2usize..=3,
        seed in any::<u64>(),
        steps in steps([5, 5, 5, 2, 1, 1], 60),
    ) {
        run(nproc, seed, &steps)?;
    }

    /// Before any successful startup every call fails WSANOTINITIALISED whatever its arguments
    /// (ER-1, CL-1), and failing startups (major 0, NULL WSADATA) count nothing (ST-1, ST-3, ST-4).
    #[test]
    fn er_1_calls_without_startup_fail_not_initialised_whatever_the_arguments(
        nproc in 2usize..=3,
        seed in any::<u64>(),
        steps in prop::collection::vec(
            (0usize..3, call([0, 2, 3, 3, 3, 3])).prop_map(|(proc, call)| Step { proc, call }),
            1..40,
        ),
        failing_words in prop::collection::vec((0u16..=0xff).prop_map(|minor| minor << 8), 0..4),
    ) {
        run_with(nproc, seed, &steps, |w| {
            for word in failing_words {
                w.step(0, &Call::Startup { word, null: false })?;
                w.step(1, &Call::Startup { word: 0x0202, null: true })?;
            }
            Ok(())
        })?;
    }

    /// Option-heavy sequences on few sockets: SO_LINGER round-trips, SO_DONTLINGER = !l_onoff,
    /// UDP has no linger, NULL and short buffers fail WSAEFAULT after the handle check (CS-8,
    /// ER-2, ER-3).
    #[test]
    fn cs_8_linger_options_round_trip_in_random_sequences(
        nproc in 2usize..=3,
        seed in any::<u64>(),
        steps in steps([1, 0, 2, 1, 6, 6], 60),
    ) {
        run_with(nproc, seed, &steps, |w| {
            for p in 0..nproc {
                w.step(p, &Call::Startup { word: 0x0202, null: false })?;
            }
            Ok(())
        })?;
    }
}
