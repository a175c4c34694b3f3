//! [TH-8], spinning: threads that poll call after call while virtual time stands still (a loop
//! of non-blocking `recv`s waiting for data) would spin for ever, since time moves only when
//! no thread can run ([TH-3]). Once every runnable thread has made the limit of such calls
//! since time last moved, time jumps to the next timer or delivery, as if they had spun until
//! then; with nothing pending, the simulation reports a livelock.
//!
//! # Divergence
//! SPEC's [TH-8] counts "calls"; the simulator counts polls that found nothing to do (a
//! `WSAEWOULDBLOCK`, a wait or `select` that timed out), so a long straight run of calls
//! that all make progress (65,536 `WSAStartup`s) is no livelock.
//!
//! This module only counts; the jump and the report are the harness's (`State::spun`).
//!
//! [TH-8]: crate::rules#th-8
//! [TH-3]: crate::rules#th-3

use std::collections::BTreeMap;
use std::time::Duration;

use crate::core::ThreadId;

/// How many calls a thread may make while time stands still before it counts as spinning.
pub const DEFAULT_SPIN_LIMIT: u64 = 10_000;

/// The calls each thread made since virtual time last moved.
#[derive(Debug)]
pub(crate) struct Spin {
    limit: u64,
    /// When the counts were last reset: the virtual time they count at.
    at: Duration,
    /// Per thread: calls made, and the last one's name.
    counts: BTreeMap<ThreadId, (u64, &'static str)>,
}

impl Spin {
    pub(crate) fn new(limit: u64) -> Spin {
        Spin {
            limit: limit.max(1),
            at: Duration::ZERO,
            counts: BTreeMap::new(),
        }
    }

    /// Counts a call `name` by `t` made at virtual time `now`: true once `t` has made the
    /// limit of calls since time last moved.
    pub(crate) fn count(&mut self, t: ThreadId, name: &'static str, now: Duration) -> bool {
        if now != self.at {
            self.reset(now);
        }
        let c = self.counts.entry(t).or_insert((0, name));
        *c = (c.0.saturating_add(1), name);
        c.0 >= self.limit
    }

    /// True when every thread of `runnable` has spun.
    pub(crate) fn all_spun(&self, runnable: &[ThreadId]) -> bool {
        runnable
            .iter()
            .all(|t| self.counts.get(t).is_some_and(|c| c.0 >= self.limit))
    }

    /// Starts counting afresh at `now`.
    pub(crate) fn reset(&mut self, now: Duration) {
        self.at = now;
        self.counts.clear();
    }

    /// The livelock report: each spinning thread with its last call.
    pub(crate) fn report(&self, runnable: &[ThreadId], seed: u64) -> String {
        let lines: Vec<String> = runnable
            .iter()
            .map(|t| {
                let (n, last) = self.counts.get(t).copied().unwrap_or((0, "?"));
                format!("  thread {t}: {n} polls, the last {last}")
            })
            .collect();
        format!(
            "ws2sim (seed {seed}): livelock at {:?} of virtual time: every runnable thread polled \
             {} times for nothing while time stood still and no packet or timer is pending \
             (TH-8); replay with WS2SIM_SEED={seed}\n{}",
            self.at,
            self.limit,
            lines.join("\n")
        )
    }
}
