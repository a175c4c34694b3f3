//! proptest strategies for [`Program`]s (the `proptest` feature): valid programs, which a
//! correct application could run, and hostile ones, which pass any value anywhere. Both
//! shrink the way proptest shrinks a `Vec`: fewer steps first, then simpler arguments.
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//! use ws2sim::testing::strategy::{program, ProgramConfig};
//! use ws2sim::Sim;
//!
//! let mut runner = TestRunner::deterministic();
//! runner
//!     .run(&program(ProgramConfig::hostile()), |p| {
//!         // Whatever a hostile program does, the run ends and reports every step.
//!         let run = p.run(&Sim::builder().seed(1).build());
//!         prop_assert_eq!(run.outcomes.len(), p.steps.len());
//!         Ok(())
//!     })
//!     .unwrap();
//! ```
//!
//! The reference model draws its own, narrower steps ([`Model`](crate::testing::model::Model)).

use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::program::{Handle, Op, Order, ProcessSpec, Program, Step};
use crate::consts::*;

/// What [`program`] generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramConfig {
    /// How steps are ordered.
    pub order: Order,
    /// How many processes (two on `localhost`, the rest on a host `other`).
    pub processes: RangeInclusive<usize>,
    /// How many steps.
    pub steps: RangeInclusive<usize>,
    /// Threads per process under [`Order::Concurrent`] (ignored under
    /// [`Order::Sequential`], where every step is on thread 0).
    pub threads: u8,
    /// Any value anywhere: garbage families, types, protocols, levels, option names and
    /// lengths, NULL buffers, made-up handles, long buffers.
    pub hostile: bool,
    /// Exits, kills and network faults among the steps.
    pub endings: bool,
}

impl ProgramConfig {
    /// Sequential programs of one or two processes, each starting with a `WSAStartup(2.2)` in
    /// every process and then up to 40 steps a correct application could make (blocking
    /// calls included: a run may end in a deadlock).
    pub fn valid() -> ProgramConfig {
        ProgramConfig {
            order: Order::Sequential,
            processes: 1..=2,
            steps: 1..=40,
            threads: 1,
            hostile: false,
            endings: false,
        }
    }

    /// [`ProgramConfig::valid`] with any value anywhere, endings and faults, over up to
    /// three processes.
    pub fn hostile() -> ProgramConfig {
        ProgramConfig {
            processes: 1..=3,
            hostile: true,
            endings: true,
            ..ProgramConfig::valid()
        }
    }

    /// Concurrent programs: `threads` threads in each of two processes, steps as
    /// [`ProgramConfig::valid`]'s.
    pub fn concurrent(threads: u8) -> ProgramConfig {
        ProgramConfig {
            order: Order::Concurrent,
            processes: 2..=2,
            threads: threads.max(1),
            ..ProgramConfig::valid()
        }
    }
}

impl Default for ProgramConfig {
    /// [`ProgramConfig::valid`].
    fn default() -> ProgramConfig {
        ProgramConfig::valid()
    }
}

/// Programs as `config` describes them.
pub fn program(config: ProgramConfig) -> BoxedStrategy<Program> {
    let ProgramConfig {
        order,
        processes,
        steps,
        threads,
        hostile,
        endings,
    } = config;
    let threads = match order {
        Order::Sequential => 1,
        Order::Concurrent => threads.max(1),
    };
    processes
        .prop_flat_map(move |n| {
            let n = n.max(1);
            let step =
                (0..n, 0..threads, op(n, hostile, endings)).prop_map(|(process, thread, op)| {
                    Step {
                        process,
                        thread,
                        op,
                    }
                });
            prop::collection::vec(step, steps.clone()).prop_map(move |drawn| {
                // A valid program starts Winsock in each process first (not shrunk away).
                let starts = (0..n).filter(|_| !hostile).map(|process| Step {
                    process,
                    thread: 0,
                    op: Op::Startup { version: 0x0202 },
                });
                Program {
                    order,
                    processes: (0..n)
                        .map(|i| ProcessSpec {
                            name: format!("p{i}"),
                            host: if i < 2 { "localhost" } else { "other" }.to_owned(),
                        })
                        .collect(),
                    steps: starts.chain(drawn).collect(),
                }
            })
        })
        .boxed()
}

/// A socket handle: slots 0 and 1; hostile, also slots 2 and 3, handles any process saw
/// and made-up values.
pub fn handle(hostile: bool) -> BoxedStrategy<Handle> {
    if hostile {
        prop_oneof![
            6 => (0u8..4).prop_map(Handle::Slot),
            2 => any::<u16>().prop_map(Handle::Seen),
            1 => prop_oneof![Just(0), Just(u64::MAX), any::<u64>()].prop_map(Handle::Raw),
        ]
        .boxed()
    } else {
        (0u8..SLOTS).prop_map(Handle::Slot).boxed()
    }
}

/// Slots a valid program uses: few, so that its steps mostly name sockets it made.
const SLOTS: u8 = 2;

/// `v` most of the time; hostile, sometimes any `i32`.
fn or_any(v: impl Strategy<Value = i32> + 'static, hostile: bool) -> BoxedStrategy<i32> {
    if hostile {
        prop_oneof![4 => v, 1 => any::<i32>()].boxed()
    } else {
        v.boxed()
    }
}

fn length(hostile: bool) -> BoxedStrategy<u32> {
    if hostile {
        prop_oneof![6 => 0u32..=64, 1 => 0u32..=70_000, 1 => any::<u32>()].boxed()
    } else {
        (0u32..=64).boxed()
    }
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![Just(7u16), Just(80), Just(0)]
}

/// The calls that make and wire sockets.
fn setup_op(n: usize, hostile: bool) -> BoxedStrategy<Op> {
    let h = || handle(hostile);
    let af = or_any(Just(i32::from(AF_INET)), hostile);
    let ty = or_any(prop_oneof![Just(SOCK_STREAM), Just(SOCK_DGRAM)], hostile);
    let protocol = if hostile {
        or_any(
            prop_oneof![Just(0), Just(IPPROTO_TCP), Just(IPPROTO_UDP)],
            true,
        )
    } else {
        Just(0).boxed()
    };
    let slot = if hostile { 0u8..4 } else { 0..SLOTS };
    let cleanup = if hostile { 2 } else { 1 };
    let version = if hostile {
        any::<u16>().boxed()
    } else {
        Just(0x0202u16).boxed()
    };
    prop_oneof![
        1 => version.prop_map(|version| Op::Startup { version }),
        cleanup => Just(Op::Cleanup {}),
        6 => (slot.clone(), af, ty, protocol)
            .prop_map(|(slot, af, ty, protocol)| Op::Socket { slot, af, ty, protocol }),
        2 => h().prop_map(|socket| Op::Close { socket }),
        4 => (h(), port()).prop_map(|(socket, port)| Op::Bind { socket, port }),
        2 => (h(), or_any(1..=4, hostile))
            .prop_map(|(socket, backlog)| Op::Listen { socket, backlog }),
        3 => (h(), 0..n, port()).prop_map(|(socket, to, port)| Op::Connect { socket, to, port }),
        1 => (h(), slot).prop_map(|(socket, slot)| Op::Accept { socket, slot }),
    ]
    .boxed()
}

/// The calls that move data, shut down and set options.
fn data_op(n: usize, hostile: bool) -> BoxedStrategy<Op> {
    let h = || handle(hostile);
    let how = or_any(
        prop_oneof![Just(SD_RECEIVE), Just(SD_SEND), Just(SD_BOTH)],
        hostile,
    );
    let level = or_any(Just(SOL_SOCKET), hostile);
    let name = or_any(
        prop_oneof![
            Just(SO_TYPE),
            Just(SO_LINGER),
            Just(SO_DONTLINGER),
            Just(SO_ERROR)
        ],
        hostile,
    );
    let opt_len = or_any(prop_oneof![Just(4), 0..=16], hostile);
    let null = prop::bool::weighted(if hostile { 0.1 } else { 0.0 });
    prop_oneof![
        3 => (h(), length(hostile)).prop_map(|(socket, len)| Op::Send { socket, len }),
        3 => (h(), length(hostile)).prop_map(|(socket, len)| Op::Recv { socket, len }),
        2 => (h(), 0..n, port(), length(hostile))
            .prop_map(|(socket, to, port, len)| Op::SendTo { socket, to, port, len }),
        1 => (h(), how).prop_map(|(socket, how)| Op::Shutdown { socket, how }),
        1 => (h(), 0u32..=8).prop_map(|(socket, len)| Op::SendDisconnect { socket, len }),
        1 => (h(), 0u32..=8).prop_map(|(socket, len)| Op::RecvDisconnect { socket, len }),
        1 => (h(), 0u16..=1, 0u16..=3)
            .prop_map(|(socket, onoff, seconds)| Op::SetLinger { socket, onoff, seconds }),
        1 => (h(), any::<bool>()).prop_map(|(socket, on)| Op::SetNonBlocking { socket, on }),
        1 => (h(), level.clone(), name.clone(), prop::collection::vec(any::<u8>(), 0..8),
              opt_len.clone(), null)
            .prop_map(|(socket, level, name, value, len, null)| {
                Op::SetOption { socket, level, name, value, len, null }
            }),
        1 => (h(), level, name, prop::option::weighted(0.95, opt_len), null)
            .prop_map(|(socket, level, name, len, null)| {
                Op::GetOption { socket, level, name, len, null }
            }),
    ]
    .boxed()
}

/// Overlapped operations, waits and sleeps.
fn overlapped_op(hostile: bool) -> BoxedStrategy<Op> {
    let h = || handle(hostile);
    let timeout = prop_oneof![Just(0u32), 1u32..=100, Just(WSA_INFINITE)];
    prop_oneof![
        2 => (h(), 0u8..3, length(hostile))
            .prop_map(|(socket, id, len)| Op::RecvOverlapped { socket, id, len }),
        2 => (h(), 0u8..3, length(hostile))
            .prop_map(|(socket, id, len)| Op::SendOverlapped { socket, id, len }),
        2 => (0u8..3, timeout).prop_map(|(id, timeout_ms)| Op::WaitOverlapped { id, timeout_ms }),
        1 => (0u32..=50).prop_map(|ms| Op::Sleep { ms }),
    ]
    .boxed()
}

/// Exits, kills and network faults.
fn ending_op(n: usize) -> BoxedStrategy<Op> {
    prop_oneof![
        1 => (0..n).prop_map(|target| Op::Exit { target }),
        1 => (0..n).prop_map(|target| Op::Kill { target }),
        2 => (0..n, any::<bool>()).prop_map(|(target, down)| Op::NetworkDown { target, down }),
    ]
    .boxed()
}

/// One op of a program of `n` processes.
pub fn op(n: usize, hostile: bool, endings: bool) -> BoxedStrategy<Op> {
    let n = n.max(1);
    let calls = prop_oneof![
        5 => setup_op(n, hostile),
        5 => data_op(n, hostile),
        2 => overlapped_op(hostile),
    ];
    if endings {
        prop_oneof![20 => calls, 1 => ending_op(n)].boxed()
    } else {
        calls.boxed()
    }
}

/// A program that broke a property of [`check_programs`], shrunk, with where it was saved.
#[derive(Debug, Clone)]
pub struct ProgramFailure {
    /// The shrunk program.
    pub program: Program,
    /// The seed it failed under.
    pub seed: u64,
    /// The property's message.
    pub message: String,
    /// Where it was saved as JSON ([`saved_program_path`](crate::testing::model::saved_program_path)),
    /// or why it could not be.
    pub saved: Result<std::path::PathBuf, String>,
}

impl std::fmt::Display for ProgramFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ws2sim: a program of {} step(s) fails under seed {}: {}\n  program: ",
            self.program.steps.len(),
            self.seed,
            self.message
        )?;
        match &self.saved {
            Ok(path) => write!(
                f,
                "saved to {}\n  replay: ws2sim run {} --seed {}",
                path.display(),
                path.display(),
                self.seed
            ),
            Err(why) => write!(f, "not saved ({why})\n{}", self.program.to_json()),
        }
    }
}

impl std::error::Error for ProgramFailure {}

/// A property over programs: `cases` programs drawn as `config` says, each run on a fresh
/// simulation of a drawn seed, must satisfy `property(program, run)`. The first program
/// that does not is shrunk (fewer steps, simpler arguments), saved as JSON for
/// [`Program::from_json`] and `ws2sim run` to replay, and returned. The same `cases` always
/// draw the same programs; nothing is printed.
///
/// ```
/// use ws2sim::testing::program::Program;
/// use ws2sim::testing::strategy::{check_programs, ProgramConfig};
/// use ws2sim::Sim;
///
/// // A property that does not hold: some programs block for ever (an accept nobody
/// // connects to, a receive nobody sends to).
/// let failure = check_programs(ProgramConfig::valid(), 64, |_, run| {
///     run.ending.clone().map_err(|e| e.to_string())
/// })
/// .unwrap_err();
/// assert!(failure.message.contains("deadlock"));
/// // Shrunk: the startup every valid program begins with, then a few steps.
/// assert!(failure.program.steps.len() <= 4, "{failure}");
/// // Replayed from the file it was saved to: the same deadlock.
/// let saved = std::fs::read_to_string(failure.saved.as_ref().unwrap()).unwrap();
/// let run = Program::from_json(&saved).unwrap().run(&Sim::builder().seed(failure.seed).build());
/// assert!(run.ending.is_err());
/// ```
///
/// # Errors
/// The shrunk failing program.
pub fn check_programs(
    config: ProgramConfig,
    cases: u32,
    property: impl Fn(&Program, &super::program::ProgramRun) -> Result<(), String>,
) -> Result<(), Box<ProgramFailure>> {
    use proptest::test_runner::TestError;
    let check = |(p, seed): &(Program, u64)| {
        let run = p.run(&crate::Sim::builder().seed(*seed).build());
        property(p, &run)
    };
    let mut runner = deterministic_runner(cases);
    let cases = (program(config), any::<u64>());
    match runner.run(&cases, |case| check(&case).map_err(TestCaseError::fail)) {
        Ok(()) => Ok(()),
        Err(TestError::Fail(_, case)) => {
            let message = check(&case).expect_err("invariant: the shrunk case fails");
            let path = crate::testing::model::saved_program_path();
            let saved = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&path, case.0.to_json()))
                .map(|()| path)
                .map_err(|e| e.to_string());
            Err(Box::new(ProgramFailure {
                program: case.0,
                seed: case.1,
                message,
                saved,
            }))
        }
        Err(TestError::Abort(why)) => unreachable!("no filters reject programs: {why}"),
    }
}

/// A proptest runner that draws the same `cases` every time and saves nothing: what the
/// kit's own checks run on, so that a failure it reports replays.
pub(crate) fn deterministic_runner(cases: u32) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}
