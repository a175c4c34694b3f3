//! How the scheduler chooses among the threads that can run: the seeded random choice, or
//! PCT (probabilistic concurrency testing, Burckhardt et al., ASPLOS 2010).
//!
//! A policy only chooses; it never blocks, wakes or moves time (that is `sched.rs`). Both
//! draw every random number from the simulation's seed, so a seed and a scheduler replay
//! the same schedule.

use std::collections::BTreeMap;
use std::fmt;

use crate::core::ThreadId;

/// How simulated threads are scheduled ([`SimBuilder::scheduler`](crate::SimBuilder::scheduler)).
///
/// ```
/// use ws2sim::{Scheduler, Sim};
///
/// let sim = Sim::builder().seed(9).scheduler(Scheduler::pct(3)).build();
/// assert_eq!(sim.trace().header().scheduler, "pct(depth=3, steps=1000)");
/// assert_eq!(Scheduler::default(), Scheduler::Random);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Scheduler {
    /// At each scheduling point, any thread that can run, chosen uniformly by the seed.
    #[default]
    Random,
    /// PCT: each thread gets a random priority and the highest-priority thread that can run
    /// always runs; at `depth - 1` random scheduling steps out of the first `steps`, the
    /// running thread's priority drops below every other's. A bug that needs `depth`
    /// ordering constraints between threads is found by one run with probability at least
    /// 1 / (threads × steps^(depth - 1)), whatever the program's length; with `depth` 1 no
    /// thread is preempted while it can run.
    Pct {
        /// The bug depth to aim for (at least 1).
        depth: u32,
        /// How many scheduling steps the change points are spread over: about the number of
        /// Winsock calls in the test.
        steps: u64,
    },
}

impl Scheduler {
    /// PCT with this bug depth, change points spread over the first 1,000 steps.
    pub fn pct(depth: u32) -> Scheduler {
        Scheduler::Pct {
            depth: depth.max(1),
            steps: 1000,
        }
    }
}

impl fmt::Display for Scheduler {
    /// `random`, `pct(depth=3, steps=1000)`: the trace header's `scheduler`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scheduler::Random => f.write_str("random"),
            Scheduler::Pct { depth, steps } => write!(f, "pct(depth={depth}, steps={steps})"),
        }
    }
}

/// A policy's state during a run.
pub(crate) enum Policy {
    Random,
    Pct(Pct),
}

pub(crate) struct Pct {
    /// Each thread's priority, given the first time it can run; higher runs first. Initial
    /// priorities are at least `depth`; lowered ones are below it.
    priority: BTreeMap<ThreadId, u64>,
    depth: u64,
    /// The steps at which the running thread's priority drops, in order.
    changes: Vec<u64>,
    /// How many change points were reached.
    lowered: u64,
    step: u64,
    last: Option<ThreadId>,
}

impl Policy {
    /// The policy for `scheduler`, its change points drawn with `rng`.
    pub(crate) fn new(scheduler: Scheduler, rng: &mut dyn FnMut() -> u64) -> Policy {
        match scheduler {
            Scheduler::Random => Policy::Random,
            Scheduler::Pct { depth, steps } => {
                let depth = u64::from(depth.max(1));
                let steps = steps.max(1);
                let mut changes: Vec<u64> = (1..depth).map(|_| 1 + rng() % steps).collect();
                changes.sort_unstable();
                Policy::Pct(Pct {
                    priority: BTreeMap::new(),
                    depth,
                    changes,
                    lowered: 0,
                    step: 0,
                    last: None,
                })
            }
        }
    }

    /// One of `candidates` (sorted, at least two): the one that runs next.
    pub(crate) fn choose(
        &mut self,
        candidates: &[ThreadId],
        rng: &mut dyn FnMut() -> u64,
    ) -> ThreadId {
        match self {
            Policy::Random => candidates[(rng() % candidates.len() as u64) as usize],
            Policy::Pct(p) => p.choose(candidates, rng),
        }
    }

    /// A scheduling step happened with `chosen` running next (there may have been no
    /// choice): PCT counts steps and remembers who runs.
    pub(crate) fn ran(&mut self, chosen: ThreadId) {
        match self {
            Policy::Random => {}
            Policy::Pct(p) => {
                p.step += 1;
                p.last = Some(chosen);
            }
        }
    }
}

impl Pct {
    fn choose(&mut self, candidates: &[ThreadId], rng: &mut dyn FnMut() -> u64) -> ThreadId {
        // Change points reached since the last step lower the thread that ran then.
        while self.changes.first().is_some_and(|c| *c <= self.step + 1) {
            self.changes.remove(0);
            self.lowered += 1;
            if let Some(t) = self.last {
                // Below every initial priority (>= depth); each later change lower still
                // (depth - 1, depth - 2, ..., 1).
                self.priority.insert(t, self.depth - self.lowered);
            }
        }
        let depth = self.depth;
        let mut best = candidates[0];
        let mut best_priority = 0;
        for &t in candidates {
            let p = *self
                .priority
                .entry(t)
                .or_insert_with(|| depth + (rng() >> 2));
            if p > best_priority || (p == best_priority && t < best) {
                best = t;
                best_priority = p;
            }
        }
        best
    }
}
