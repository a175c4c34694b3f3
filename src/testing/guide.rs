//! A guide: testing your own socket code with the kit.
//!
//! The code under test here is a small echo server and its client, written against the safe
//! [`api`](crate::api) (code written against windows-sys works the same through
//! [`sys`](crate::sys) or the `windows-sys-sim` facade). Every example below is a doc test;
//! sections 6 to 8 need the `proptest` feature (`ws2sim = { version = "0.1", features =
//! ["proptest"] }` in `[dev-dependencies]`).
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
//! use std::time::Duration;
//! use ws2sim::testing::{check_invariants, sweep};
//! use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
//!
//! // The code under test: a server that echoes one message, and its client.
//! fn echo_server(at: SocketAddrV4) {
//!     api::startup(Version::V2_2).unwrap();
//!     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
//!     l.bind(at).unwrap();
//!     l.listen(1).unwrap();
//!     let (conn, _) = l.accept().unwrap();
//!     let mut buf = [0u8; 64];
//!     let n = conn.recv(&mut buf).unwrap();
//!     conn.send(&buf[..n]).unwrap();
//!     api::cleanup().unwrap(); // the final cleanup closes both sockets
//! }
//!
//! fn echo_client(at: SocketAddrV4, message: &[u8]) -> Vec<u8> {
//!     api::startup(Version::V2_2).unwrap();
//!     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
//!     // The server may not listen yet: retry as a real client would.
//!     while s.connect(at) == Err(WsaError::ConnectionRefused) {
//!         ws2sim::thread::sleep(Duration::from_millis(1));
//!     }
//!     s.send(message).unwrap();
//!     let mut buf = [0u8; 64];
//!     let n = s.recv(&mut buf).unwrap();
//!     api::cleanup().unwrap();
//!     buf[..n].to_vec()
//! }
//!
//! // The test: the server on one host, the client on another, over 32 schedules.
//! fn echo_test(sim: &Sim) {
//!     let at = SocketAddrV4::new(sim.host("server").addr(), 7);
//!     let served = sim.host("server").process("echo").spawn(move || echo_server(at));
//!     let reply = sim.localhost().process("client").run(|| echo_client(at, b"hello"));
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
//! # 5. Programs as data
//!
//! A [`Program`](super::program::Program) is a Winsock program written as a value: processes
//! on hosts, and steps (calls with their arguments, waits, sleeps, exits, kills, network
//! faults) made by their threads. It runs on a simulation and reports what each step
//! returned; it is saved as JSON and read back, and `ws2sim run FILE --seed N` and `ws2sim
//! sweep FILE --seeds 0..10000` run a saved one from the shell.
//!
//! ```
//! use ws2sim::testing::program::{Handle, Op, Program};
//! use ws2sim::Sim;
//!
//! let mut p = Program::sequential(&[("app", "localhost")]);
//! p.push(0, Op::Startup { version: 0x0202 });
//! p.push(0, Op::Socket { slot: 0, af: 2, ty: 1, protocol: 6 });
//! p.push(0, Op::Close { socket: Handle::Slot(0) });
//! p.push(0, Op::Close { socket: Handle::Slot(0) });
//! let run = p.run(&Sim::new());
//! assert_eq!(run.outcomes[3].error(), Some(10038)); // WSAENOTSOCK: closed before
//! let file = std::env::temp_dir().join("guide-program.json");
//! std::fs::write(&file, p.to_json()).unwrap();
//! let again = Program::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
//! assert_eq!(again, p);
//! ```
//!
//! # 6. A property over programs, shrunk to a saved file, and its replay
//!
//! With the `proptest` feature, `testing::strategy` generates valid and hostile
//! programs. `check_programs` checks a property over them; a program that breaks it is
//! shrunk, saved as JSON (under `$WS2SIM_PROGRAM_DIR`, else the system's temporary
//! directory's `ws2sim`), and returned with its seed, for a replay from the file.
//!
//! ```
//! use ws2sim::testing::program::Program;
//! use ws2sim::testing::strategy::{check_programs, ProgramConfig};
//! use ws2sim::Sim;
//!
//! // Not true: some programs block for ever (an accept nobody connects to).
//! let no_deadlock = |_: &Program, run: &ws2sim::testing::program::ProgramRun| {
//!     run.ending.clone().map_err(|e| e.to_string())
//! };
//! let failure = check_programs(ProgramConfig::valid(), 64, no_deadlock).unwrap_err();
//! assert!(failure.program.steps.len() <= 4); // shrunk
//! let saved = std::fs::read_to_string(failure.saved.as_ref().unwrap()).unwrap();
//! let replayed = Program::from_json(&saved).unwrap();
//! let run = replayed.run(&Sim::builder().seed(failure.seed).build());
//! assert!(no_deadlock(&replayed, &run).is_err()); // the same failure, from the file
//! ```
//!
//! # 7. The reference model
//!
//! [`model`](super::model) says what SPEC.md fixes a sequential program to return: the
//! startup count, sockets and handles, the last error, linger options, binds, listens,
//! connections and the bytes they carry, shutdowns, overlapped receives and sends, and what
//! the final cleanup takes. With the `proptest`
//! feature it is a proptest-state-machine `ReferenceStateMachine` (`Model`), and the
//! simulator its `StateMachineTest` (`SimTest`); a failing case is shrunk and saved like
//! section 6's. Your own code goes in as the `Subject` that makes each step: here a wrapper
//! that makes them through the simulator (a real one would call your library).
//!
//! ```
//! use proptest_state_machine::prop_state_machine;
//! use ws2sim::testing::model::{Balanced, SimTest, Subject};
//! use ws2sim::testing::program::{Outcome, ProcessSpec, Step, Stepper};
//! use ws2sim::{Process, Sim};
//!
//! struct Mine(Stepper); // your wrapper code under test
//! impl Subject for Mine {
//!     fn start(sim: &Sim, procs: &[ProcessSpec]) -> Mine { Mine(Stepper::new(sim, procs)) }
//!     fn step(&mut self, step: &Step) -> Outcome { self.0.step(step) }
//!     fn sim(&self) -> &Sim { self.0.sim() }
//!     fn process(&self, i: usize) -> &Process { self.0.process(i) }
//! }
//! prop_state_machine! {
//!     #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
//!     fn mine_follows_the_model(sequential 1..30 => SimTest<Balanced, Mine>);
//! }
//! mine_follows_the_model(); // in a test file: `#[test]` above the fn
//! ```
//!
//! # 8. A layered provider, checked as a property
//!
//! `spi::check_provider_property` (the `proptest` feature) runs `check_provider`'s fixed
//! scenarios (SP-1..SP-11), then random programs over the bare built-in provider and through
//! yours: the application must see every call alike, except the differences your provider
//! declares. A program that tells them apart comes back shrunk.
//!
//! ```
//! use ws2sim::spi::{check_provider_property, Negotiated, Provider, ProviderInfo, Spi, Stop};
//! use ws2sim::spi::{TCP_ENTRY, UDP_ENTRY};
//! use ws2sim::{Guid, Version, WsaError};
//!
//! #[derive(Clone, Default)]
//! struct Layer { started: u32 } // counts startups (SP-2, SP-3), passes every call down
//! impl Provider for Layer {
//!     fn info(&self) -> ProviderInfo {
//!         let over = [(TCP_ENTRY, "layer tcp"), (UDP_ENTRY, "layer udp")];
//!         ProviderInfo::layered(Guid::new(9, 9, 9, *b"GUIDELYR"), "layer", &over)
//!     }
//!     fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
//!         self.started += 1;
//!         self.info().negotiate(v)
//!     }
//!     fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> {
//!         self.started = self.started.checked_sub(1).ok_or(WsaError::NotInitialised)?;
//!         Ok(())
//!     }
//! }
//! let checked = check_provider_property(Layer::default(), 32, |_, _| false);
//! assert!(checked.is_ok(), "{}", checked.unwrap_err());
//! ```
