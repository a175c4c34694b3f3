//! A guide: testing your own socket code with the kit.
//!
//! The code under test here is a small echo server and its client, written against the safe
//! [`api`](crate::api) (code written against windows-sys works the same through
//! [`sys`](crate::sys) or the `windows-sys-sim` facade). Every example below is a doc test.
//!
//! # 1. A test over many schedules
//!
//! One seed fixes one schedule of the simulated threads. [`sweep`](super::sweep) runs the
//! test once per seed in a fresh simulation and stops at the first seed that fails, with
//! the command that replays it; [`check_invariants`](super::check_invariants) checks what no
//! run may break (every operation completed once, every byte accounted for, nothing held
//! after the final `WSACleanup`).
//!
//! ```
//! use std::net::SocketAddrV4;
//! use ws2sim::testing::{check_invariants, sweep};
//! use ws2sim::{api, consts::*, Sim, Socket, Version};
//!
//! /// The code under test: echo one message back, then close.
//! fn echo_once(listener: Socket) {
//!     let (conn, _) = listener.accept().unwrap();
//!     let mut buf = [0u8; 64];
//!     let n = conn.recv(&mut buf).unwrap();
//!     conn.send(&buf[..n]).unwrap();
//!     conn.close().unwrap();
//! }
//!
//! fn echo_test(sim: &Sim) {
//!     let server = sim.host("server").process("echo");
//!     let at = SocketAddrV4::new(sim.host("server").addr(), 7);
//!     let listener = server.run(|| {
//!         api::startup(Version::V2_2).unwrap();
//!         let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
//!         l.bind(at).unwrap();
//!         l.listen(1).unwrap();
//!         l
//!     });
//!     let served = server.spawn(move || echo_once(listener));
//!     let reply = sim.localhost().process("client").run(|| {
//!         api::startup(Version::V2_2).unwrap();
//!         let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
//!         s.connect(at).unwrap();
//!         s.send(b"hello").unwrap();
//!         let mut buf = [0u8; 64];
//!         let n = s.recv(&mut buf).unwrap();
//!         s.close().unwrap();
//!         api::cleanup().unwrap();
//!         buf[..n].to_vec()
//!     });
//!     served.join();
//!     assert_eq!(reply, b"hello");
//!     assert_eq!(check_invariants(sim), Ok(()));
//! }
//!
//! let report = sweep(32, echo_test);
//! assert_eq!(report.seeds.len(), 32);
//! ```
//!
//! As a `#[test]`, the same is `#[ws2sim::test(seeds = 32)] fn echo(sim: &Sim) { ... }`.
//!
//! # 2. A property over inputs, each under several schedules
//!
//! proptest draws the inputs (here the message and the link latency); each case sweeps a
//! few seeds. proptest shrinks a failing input; the sweep names the failing seed.
//!
//! ```
//! use std::time::Duration;
//! use proptest::prelude::*;
//! use ws2sim::testing::sweep_with;
//! use ws2sim::{api, consts::*, Sim, Socket, Version};
//!
//! fn round_trip(sim: &Sim, message: &[u8]) -> Vec<u8> {
//!     sim.localhost().process("app").run(|| {
//!         api::startup(Version::V2_2).unwrap();
//!         let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
//!         s.bind("127.0.0.1:9".parse().unwrap()).unwrap();
//!         s.send_to(message, "127.0.0.1:9".parse().unwrap()).unwrap();
//!         let mut buf = vec![0u8; 2048];
//!         let n = s.recv(&mut buf).unwrap();
//!         api::cleanup().unwrap();
//!         buf[..n].to_vec()
//!     })
//! }
//!
//! proptest!(ProptestConfig::with_cases(16), |(
//!     message in proptest::collection::vec(any::<u8>(), 1..1024),
//!     latency_ms in 0u64..50,
//! )| {
//!     let builder = Sim::builder().latency(Duration::from_millis(latency_ms));
//!     sweep_with(builder, 4, |sim| assert_eq!(round_trip(sim, &message), message));
//! });
//! ```
//!
//! # 3. Replaying a failing seed
//!
//! A failure names its seed and scheduler; the same seed replays the same schedule, byte for
//! byte, so the failing run can be examined at leisure (its trace, in text, JSON or Mermaid).
//! From the shell that is the report's `replay:` command (`WS2SIM_SEEDS=N..=N cargo test --
//! --exact NAME`); in code:
//!
//! ```
//! use ws2sim::testing::try_sweep_with;
//! use ws2sim::{api, Sim, Version};
//!
//! // A racy test: two threads start Winsock; it "fails" when the one spawned second (the
//! // higher thread id) runs first.
//! let racy = |sim: &Sim| {
//!     let p = sim.localhost().process("app");
//!     let first = p.spawn(|| api::startup(Version::V2_2).unwrap());
//!     let second = p.spawn(|| api::startup(Version::V2_2).unwrap());
//!     first.join();
//!     second.join();
//!     let starts: Vec<u32> = sim.trace().events().iter()
//!         .filter(|e| e.call == "WSAStartup").map(|e| e.thread).collect();
//!     assert!(starts[0] < starts[1], "the second thread started first");
//! };
//! let failure = try_sweep_with(Sim::builder(), 0..64, racy).unwrap_err();
//! // Replay it: same seed, same trace.
//! let replay = |seed| {
//!     let sim = Sim::builder().seed(seed).build();
//!     let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| racy(&sim)));
//!     sim.trace().to_json_lines()
//! };
//! assert_eq!(replay(failure.seed), replay(failure.seed));
//! ```
//!
//! # 4. Two configurations, one test
//!
//! [`differential`](super::differential) runs a test under two configurations (the two
//! profiles, a second scheduler) and reports the first call whose result the application
//! saw differently. For a layered provider of yours, [`transparency`](super::transparency)
//! runs the test over the bare built-in provider and through yours, and reports the first
//! difference the application could see (its doc has a complete example).
//!
//! ```
//! use ws2sim::testing::differential;
//! use ws2sim::{api, Profile, Scheduler, Sim, Version};
//!
//! let startups = |sim: &Sim| {
//!     sim.localhost().process("app").run(|| {
//!         api::startup(Version::V2_2).unwrap();
//!         api::startup(Version::V1_1).unwrap();
//!         api::cleanup().unwrap();
//!         api::cleanup().unwrap();
//!         assert!(api::cleanup().is_err());
//!     });
//! };
//! let windows = Sim::builder().profile(Profile::Windows);
//! assert_eq!(differential(Sim::builder(), windows, 0..4, startups), Ok(()));
//! let pct = Sim::builder().scheduler(Scheduler::pct(2));
//! assert_eq!(differential(Sim::builder(), pct, 0..4, startups), Ok(()));
//! ```
//!
//! Not here yet: programs as data (a generated, shrinkable, saved `Program`) and a public
//! reference model of Winsock's states; until then, proptest's own strategies drive the
//! test's inputs as in section 2.
