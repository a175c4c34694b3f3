//! Seed sweeps: one test body run once per seed, each in a fresh simulation, stopping at the
//! first seed that fails with one short report and the command that replays it.

use std::collections::BTreeSet;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::quiet::{self, Quiet};
use super::seeds::{Seeds, SEEDS_ENV};
use crate::sim::failure::panic_text;
use crate::{Scheduler, Sim, SimBuilder};

/// What a sweep that passed ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// The seeds it ran, all of which passed.
    pub seeds: Seeds,
    /// How many distinct schedules they produced: distinct traces, the header (which names
    /// the seed) left out. `None` when tracing was off. A count of 1 over many seeds says the
    /// seed changes nothing in this test: its threads never race.
    pub distinct_schedules: Option<u64>,
}

impl fmt::Display for SweepReport {
    /// `ws2sim: seeds 0..200 passed (37 distinct schedules)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ws2sim: seeds {} passed", self.seeds)?;
        match self.distinct_schedules {
            Some(1) if self.seeds.len() > 1 => f.write_str(
                " (1 distinct schedule: the seed changes nothing here, no two threads race)",
            ),
            Some(n) => write!(f, " ({n} distinct schedule{})", plural(n)),
            None => f.write_str(" (tracing off: schedules not counted)"),
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The first seed of a sweep that failed, and how to replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepFailure {
    /// The seed that failed.
    pub seed: u64,
    /// The seeds the sweep was to run.
    pub seeds: Seeds,
    /// The scheduler every seed ran under: with the seed, it fixes the schedule.
    pub scheduler: Scheduler,
    /// How many seeds passed before it.
    pub passed: u64,
    /// Distinct schedules among the seeds run, the failing one included (`None`: tracing
    /// off).
    pub distinct_schedules: Option<u64>,
    /// The panic's message: the test's own, or that of a simulated thread nobody joined.
    pub message: String,
    /// Where the test panicked (`tests/echo.rs:12:9`), when it was on the test's thread.
    pub location: Option<String>,
    /// The test's name (libtest names each test's thread after it), for the replay command.
    pub test: Option<String>,
}

impl SweepFailure {
    /// The shell command that runs this seed alone:
    /// `WS2SIM_SEEDS=17..=17 cargo test -- --exact echo::replies`.
    pub fn replay_command(&self) -> String {
        let seed = self.seed;
        match &self.test {
            Some(t) => format!("{SEEDS_ENV}={seed}..={seed} cargo test -- --exact {t}"),
            None => format!("{SEEDS_ENV}={seed}..={seed} cargo test"),
        }
    }
}

impl fmt::Display for SweepFailure {
    /// The seed and scheduler, the panic (its message may take several lines), the replay
    /// command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ws2sim: seed {} failed (scheduler {}; seeds {}: {} passed before it",
            self.seed, self.scheduler, self.seeds, self.passed
        )?;
        if let Some(n) = self.distinct_schedules {
            write!(f, ", {n} distinct schedule{} so far", plural(n))?;
        }
        f.write_str(")\n  panicked")?;
        if let Some(at) = &self.location {
            write!(f, " at {at}")?;
        }
        write!(f, ": {}\n  replay: {}", self.message, self.replay_command())
    }
}

/// Runs `test` once for each seed in a fresh simulation ([`Sim::new`]'s settings with that
/// seed), stopping at the first seed that fails. `WS2SIM_SEEDS`, when set, replaces `seeds`.
///
/// A seed fails when `test` panics or when a simulated thread it started panicked and
/// nobody joined it ([TH-7]). Each simulation is ended ([`Sim::end`]) after its seed, so no
/// thread outlives it. Panics inside a seed print nothing; on failure the sweep prints one
/// short report (the seed, the panic and its location, and the replay command) and fails
/// with it as the panic's message, whatever `RUST_BACKTRACE` says. On success it prints one
/// line (which `cargo test` shows only with `--nocapture`) and returns the report.
///
/// ```
/// use ws2sim::{api, Sim, Socket, Version};
/// use ws2sim::consts::*;
///
/// let report = ws2sim::testing::sweep(50, |sim: &Sim| {
///     let p = sim.localhost().process("app");
///     p.run(|| {
///         api::startup(Version::V2_2).unwrap();
///         let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
///         s.bind("127.0.0.1:7".parse().unwrap()).unwrap();
///         s.send_to(b"ping", "127.0.0.1:7".parse().unwrap()).unwrap();
///         let mut buf = [0u8; 8];
///         assert_eq!(s.recv(&mut buf).unwrap(), 4);
///         api::cleanup().unwrap();
///     });
/// });
/// assert_eq!(report.seeds.len(), 50);
/// // One thread, so every seed gives the same schedule.
/// assert_eq!(report.distinct_schedules, Some(1));
/// ```
///
/// # Panics
/// At the first failing seed, with the [`SweepFailure`] report as its message; when
/// `WS2SIM_SEEDS` is neither a count nor a range.
///
/// [TH-7]: crate::rules#th-7
pub fn sweep(seeds: impl Into<Seeds>, test: impl FnMut(&Sim)) -> SweepReport {
    sweep_with(Sim::builder(), seeds, test)
}

/// [`sweep`] with simulations made by `builder` (its profile, latency, providers, ...); the
/// sweep sets each one's seed.
///
/// ```
/// use ws2sim::{Profile, Sim};
///
/// let report = ws2sim::testing::sweep_with(
///     Sim::builder().profile(Profile::Windows),
///     0..10,
///     |sim| assert_eq!(sim.profile(), Profile::Windows),
/// );
/// assert_eq!(report.seeds.to_string(), "0..10");
/// ```
///
/// # Panics
/// As [`sweep`].
pub fn sweep_with(
    builder: SimBuilder,
    seeds: impl Into<Seeds>,
    test: impl FnMut(&Sim),
) -> SweepReport {
    let seeds = Seeds::from_env_or(seeds.into()).unwrap_or_else(|e| panic!("{e}"));
    match try_sweep_with(builder, seeds, test) {
        Ok(report) => {
            eprintln!("{report}");
            report
        }
        Err(failure) => {
            let text = failure.to_string();
            eprintln!("{text}");
            // Not `panic!`: the hook would print it again, with a backtrace under
            // RUST_BACKTRACE.
            std::panic::resume_unwind(Box::new(text))
        }
    }
}

/// The sweep itself, with exactly these seeds (`WS2SIM_SEEDS` is not read) and the
/// outcome as a value: nothing is printed.
///
/// ```
/// use ws2sim::Sim;
///
/// let failure = ws2sim::testing::try_sweep_with(Sim::builder(), 0..100, |sim| {
///     assert!(sim.seed() < 42, "too big");
/// })
/// .unwrap_err();
/// assert_eq!((failure.seed, failure.passed), (42, 42));
/// assert!(failure.message.starts_with("too big"));
/// assert!(failure.replay_command().starts_with("WS2SIM_SEEDS=42..=42 cargo test"));
/// ```
///
/// # Errors
/// The first failing seed (boxed: the report is large).
pub fn try_sweep_with(
    builder: SimBuilder,
    seeds: impl Into<Seeds>,
    mut test: impl FnMut(&Sim),
) -> Result<SweepReport, Box<SweepFailure>> {
    let seeds = seeds.into();
    let mut schedules = BTreeSet::new();
    let mut traced = true;
    for (passed, seed) in seeds.iter().enumerate() {
        let sim = builder.clone().seed(seed).build();
        let outcome = {
            let _quiet = Quiet::set(true);
            let ran = catch_unwind(AssertUnwindSafe(|| test(&sim)));
            let ended = catch_unwind(AssertUnwindSafe(|| sim.end()));
            match (ran, ended) {
                (Err(payload), _) => Err((panic_text(&*payload), quiet::take_location())),
                (Ok(()), Ok(Ok(()))) => Ok(()),
                (Ok(()), Ok(Err(e))) => Err((e.to_string(), None)),
                (Ok(()), Err(payload)) => Err((panic_text(&*payload), quiet::take_location())),
            }
        };
        traced &= sim.is_tracing();
        schedules.insert(sim.trace().schedule_hash());
        let distinct_schedules = traced.then_some(schedules.len() as u64);
        if let Err((message, location)) = outcome {
            return Err(Box::new(SweepFailure {
                seed,
                seeds,
                scheduler: builder.scheduler_of(),
                passed: passed as u64,
                distinct_schedules,
                message,
                location,
                test: test_name(),
            }));
        }
    }
    Ok(SweepReport {
        seeds,
        distinct_schedules: traced.then_some(schedules.len() as u64),
    })
}

/// The running test's name: libtest runs each test on a thread named after it (`main` when
/// it runs tests on the main thread, with `--test-threads=1`).
fn test_name() -> Option<String> {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_owned)
}
