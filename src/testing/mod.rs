//! The testing kit: run a test over many seeds and learn which one fails. The
//! [`guide`] walks through it with a small echo server.
//!
//! A simulation is deterministic: one seed, one schedule of its simulated threads, one
//! trace. A race in the code under test shows under some schedules only, so a test should
//! run under many seeds. [`sweep`] does that: a fresh [`Sim`](crate::Sim) per seed, the first
//! failing seed reported with the command that replays it, and a count of the distinct
//! schedules the seeds produced, so a test whose seeds all give the same schedule is seen for
//! what it is. [`Seeds`] come from the code or from `WS2SIM_SEEDS` ([`SEEDS_ENV`]), so CI
//! jobs can split one campaign:
//!
//! ```sh
//! WS2SIM_SEEDS=0..5000 cargo test        # job 1
//! WS2SIM_SEEDS=5000..10000 cargo test    # job 2
//! WS2SIM_SEEDS=17..=17 cargo test -- --exact echo::replies   # replay one seed
//! ```
//!
//! In a GitHub Actions matrix, give each job its range (`WS2SIM_SEEDS: ${{ matrix.seeds }}`
//! with `seeds: ["0..5000", "5000..10000"]`); with cargo-nextest, `cargo nextest run
//! --partition count:1/2` splits the tests instead, and each runs its own seeds.
//!
//! The [`test`](crate::test) attribute makes a sweep a `#[test]`:
//!
//! ```
//! use ws2sim::{api, Sim, Version};
//!
//! #[ws2sim::test(seeds = 20)]
//! fn startup_counts(sim: &Sim) {
//!     let p = sim.localhost().process("app");
//!     p.run(|| {
//!         api::startup(Version::V2_2).unwrap();
//!         api::cleanup().unwrap();
//!     });
//!     assert_eq!(p.startup_count(), 0);
//! }
//! ```
//!
//! [`check_invariants`] checks what every run must keep ([OV-2], [CL-8], [CS-1], no diagnostics);
//! call it at the end of each seed. [`differential`] runs a test under two configurations
//! (profiles, providers, schedulers) and reports the first call whose result the application
//! saw differently.
//!
//! [`program`] writes a Winsock program as data (run, saved as JSON, replayed; `ws2sim run`
//! and `ws2sim sweep` from the shell), and [`model`] says what SPEC.md fixes a sequential
//! program to return. With the `proptest` feature, `strategy` generates valid and hostile
//! programs and checks properties over them (a failure shrunk and saved), the model becomes
//! a proptest-state-machine reference model with the simulator (or your code) under test,
//! and `spi::check_provider_property` checks a layered provider over random programs.
//!
//! This module does not decide Winsock's behaviour (the core does) and does not schedule
//! threads (`sim` does); it runs tests, programs and checks over them.
//!
//! [OV-2]: crate::rules#ov-2
//! [CL-8]: crate::rules#cl-8
//! [CS-1]: crate::rules#cs-1

mod differential;
pub mod guide;
mod invariants;
pub mod model;
pub mod program;
pub(crate) mod quiet;
mod seeds;
#[cfg(feature = "proptest")]
pub mod strategy;
mod sweep;

pub use differential::{
    differential, first_divergence, transparency, transparency_except, Divergence, Entries,
};
pub use invariants::{check_invariants, Violation};

pub use seeds::{Seeds, SeedsError, SEEDS_ENV};
pub use sweep::{sweep, sweep_with, try_sweep_with, SweepFailure, SweepReport};
