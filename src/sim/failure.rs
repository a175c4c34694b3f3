//! What ends a simulation badly, as values: a deadlock or livelock report, or a simulated
//! thread's panic that nobody has seen yet ([TH-4], [TH-7], [TH-8]).
//!
//! [`Sim::try_run`](crate::Sim::try_run) returns a [`SimError`]; `Sim::run`, `join` and
//! `Process::run` panic with its text. This module only holds the values and their text;
//! the harness decides when they are raised.
//!
//! [TH-4]: crate::rules#th-4
//! [TH-7]: crate::rules#th-7
//! [TH-8]: crate::rules#th-8

use crate::core::ThreadId;

/// Why a simulation could not run to its end.
///
/// ```
/// use ws2sim::{Sim, SimError};
///
/// let sim = Sim::builder().seed(5).build();
/// let p = sim.localhost().process("app");
/// let h = p.spawn(|| -> u32 { panic!("boom") });
/// match sim.try_run() {
///     Err(SimError::Panicked { message, seed, .. }) => {
///         assert_eq!((message.as_str(), seed), ("boom", 5));
///     }
///     other => panic!("expected the thread's panic, got {other:?}"),
/// }
/// assert!(h.is_finished());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// Every thread is blocked and nothing pending can wake one ([TH-4](crate::rules#th-4)):
    /// the report lists each thread, its call and socket, the virtual time and the seed.
    #[error("{report}")]
    Deadlock {
        /// The report, as `Sim::run` would panic with it.
        report: String,
        /// The simulation's seed.
        seed: u64,
    },
    /// A simulated thread panicked and nobody joined it ([TH-7](crate::rules#th-7)).
    #[error(
        "ws2sim (seed {seed}): thread {thread} of process {process:?} panicked: {message}; \
         replay with WS2SIM_SEED={seed}"
    )]
    Panicked {
        /// The thread.
        thread: ThreadId,
        /// Its process's name.
        process: String,
        /// The panic's message (`"a panic without a message"` for other payloads).
        message: String,
        /// The simulation's seed.
        seed: u64,
    },
}

/// A simulated thread's panic, until it is raised somewhere.
#[derive(Debug, Clone)]
pub(crate) struct Panicked {
    pub(crate) thread: ThreadId,
    pub(crate) process: String,
    pub(crate) message: String,
}

impl Panicked {
    /// The error value for it, in a simulation of `seed`.
    pub(crate) fn error(&self, seed: u64) -> SimError {
        SimError::Panicked {
            thread: self.thread,
            process: self.process.clone(),
            message: self.message.clone(),
            seed,
        }
    }
}

/// The text of a panic payload.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
