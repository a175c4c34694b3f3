//! The scheduler: simulated threads run on OS threads of their own, but only one at a time —
//! the one holding the baton. Every Winsock call is a scheduling point where a seeded
//! generator picks the next thread to run ([TH-2]); virtual time moves only when no thread can
//! run ([TH-3]); when nothing can ever run again, the context that entered the simulation gets a
//! deadlock report naming every blocked thread ([TH-4]) and the seed ([TH-6]).
//!
//! Hand-offs use crossbeam channels: the holder sends `Go` to the next thread and waits on its
//! own channel until the baton comes back.
//!
//! A thread's [`Run`] state changes only through [`Sched::set_run`], which checks the change
//! against the state machine (`is_transition`) and panics naming the invariant and the seed.
//! The changes are not recorded yet (the endpoint funnel's are, in the transport).
//!
//! [TH-2]: crate::rules#th-2
//! [TH-3]: crate::rules#th-3
//! [TH-4]: crate::rules#th-4
//! [TH-6]: crate::rules#th-6

use std::collections::{BTreeMap, VecDeque};
use std::sync::MutexGuard;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::policy::{Policy, Scheduler};
use super::State;
use crate::core::ws2::table::Socket;
use crate::core::{ProcessId, ThreadId};

/// What wakes a parked thread.
#[derive(Debug)]
pub(crate) enum Wake {
    /// Your turn.
    Go,
    /// The simulation deadlocked: panic with this report (sent to the entry context).
    Deadlock(String),
    /// The thread is terminated (process exit or kill, or a deadlock elsewhere): unwind.
    Abort,
}

thread_local! {
    /// [TH-9]: how deep the calling OS thread is inside user `extern "system"` callbacks
    /// (completion routines, blocking hooks), which must never be unwound through.
    ///
    /// [TH-9]: crate::rules#th-9
    static FOREIGN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// [TH-9]: how the thread must end, once the user callbacks it is inside have returned.
    /// [TH-9]: crate::rules#th-9
    static ENDING: std::cell::RefCell<Option<Ending>> = const { std::cell::RefCell::new(None) };
    /// How many `Process::try_run`s the calling OS thread is inside: a deadlock there unwinds
    /// quietly with its report instead of panicking.
    static TRYING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// The deadlock report a `Process::try_run` on this OS thread unwound with.
    static DEADLOCKED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Ends the calling thread with a deadlock report ([TH-4]): a panic naming every blocked
/// thread and the seed, or, inside [`Process::try_run`](crate::Process::try_run), a quiet
/// unwind that `try_run` turns into `SimError::Deadlock`.
///
/// [TH-4]: crate::rules#th-4
fn deadlocked(report: String) -> ! {
    if TRYING.with(std::cell::Cell::get) > 0 {
        DEADLOCKED.with(|d| *d.borrow_mut() = Some(report.clone()));
        std::panic::resume_unwind(Box::new(report))
    }
    panic!("{report}")
}

/// Runs `f` as inside `Process::try_run`: the deadlock report it unwound with, if it did.
pub(crate) fn trying<T>(f: impl FnOnce() -> T) -> (std::thread::Result<T>, Option<String>) {
    TRYING.with(|t| t.set(t.get() + 1));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    TRYING.with(|t| t.set(t.get() - 1));
    let report = r
        .is_err()
        .then(|| DEADLOCKED.with(|d| d.borrow_mut().take()))
        .flatten();
    (r, report)
}

/// How a thread inside a user callback ends once the callback returned ([TH-9]).
///
/// [TH-9]: crate::rules#th-9
#[derive(Debug)]
enum Ending {
    /// With this deadlock report (the thread that entered the simulation).
    Report(String),
    /// Terminated (its process ended, or a deadlock elsewhere).
    Abort,
}

/// True while the thread must end: its calls then return at once (a Winsock call fails
/// `WSAEINTR`, a sleep returns) without touching the simulation, until the user callback it
/// is inside returns.
pub(crate) fn ending() -> bool {
    ENDING.with(|e| e.borrow().is_some())
}

/// True while the thread is inside a user `extern "system"` callback.
fn in_foreign() -> bool {
    FOREIGN.with(std::cell::Cell::get) > 0
}

/// Records how the thread ends, for when its user callbacks have returned.
fn end_later(how: Ending) {
    ENDING.with(|e| {
        let mut e = e.borrow_mut();
        if e.is_none() {
            *e = Some(how);
        }
    });
}

/// [TH-9]: the thread found itself terminated at a scheduling point (it was running user code
/// when its process ended or the simulation deadlocked): it ends now, or, inside a user
/// callback, once the callback returned. Returns the guard only in that second case.
///
/// [TH-9]: crate::rules#th-9
pub(crate) fn terminated(g: MutexGuard<'_, State>) -> MutexGuard<'_, State> {
    if in_foreign() {
        end_later(Ending::Abort);
        return g;
    }
    drop(g);
    std::panic::resume_unwind(Box::new(Aborted))
}

/// [TH-9]: runs a user `extern "system"` callback (a completion routine, a blocking hook).
/// A thread that must end while inside it is not unwound through it: its calls return at once
/// until it returns, and the ending (a deadlock report, a termination) happens here, in the
/// simulator's own frames, once no user callback is left on the stack.
///
/// [TH-9]: crate::rules#th-9
pub(crate) fn foreign<T>(f: impl FnOnce() -> T) -> T {
    struct Depth;
    impl Drop for Depth {
        fn drop(&mut self) {
            FOREIGN.with(|d| d.set(d.get() - 1));
        }
    }
    FOREIGN.with(|d| d.set(d.get() + 1));
    let depth = Depth;
    let value = f();
    drop(depth);
    if !in_foreign() {
        match ENDING.with(|e| e.borrow_mut().take()) {
            Some(Ending::Report(report)) => deadlocked(report),
            Some(Ending::Abort) => std::panic::resume_unwind(Box::new(Aborted)),
            None => {}
        }
    }
    value
}

/// The unwind payload of a terminated simulated thread.
#[derive(Debug)]
pub(crate) struct Aborted;

/// An asynchronous procedure call queued to a thread (QueueUserAPC, completion routines).
pub(crate) struct Apc {
    /// For a completion routine: its socket (routines of one socket never nest, [OV-4]) and
    /// process (the final cleanup drops them, [CL-8]).
    ///
    /// [OV-4]: crate::rules#ov-4
    /// [CL-8]: crate::rules#cl-8
    pub(crate) winsock: Option<(ProcessId, Socket)>,
    pub(crate) run: Box<dyn FnOnce() + Send>,
}

/// What a driver waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    /// `ThreadHandle::join` from outside the simulation: this thread has finished.
    Join(ThreadId),
    /// `Sim::run`: nothing more can happen.
    Quiet,
}

/// Where a thread is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Run {
    /// Waiting at a scheduling point for its turn.
    Ready,
    /// Holds the baton.
    Running,
    /// In a call that waits; `fresh`: something happened since it last tried.
    Blocked {
        call: String,
        deadline: Option<Duration>,
        fresh: bool,
        alertable: bool,
    },
    /// A main thread outside `Process::run`, or paused under a nested `Process::run`.
    Outside,
    /// Finished or terminated.
    Finished,
    /// A harness context driving the simulation from outside.
    Driver(Goal),
}

/// A simulated thread (or driver).
pub(crate) struct Slot {
    pub(crate) pid: Option<ProcessId>,
    pub(crate) run: Run,
    pub(crate) tx: Sender<Wake>,
    pub(crate) apcs: VecDeque<Apc>,
    /// The sockets whose completion routine runs on this thread now ([OV-4]: no nesting).
    ///
    /// [OV-4]: crate::rules#ov-4
    pub(crate) routines: Vec<Socket>,
    /// True for threads made by `spawn` (they have an OS thread of their own).
    pub(crate) spawned: bool,
}

impl Slot {
    /// True when a queued APC may run now: not a routine of a socket whose routine is running.
    pub(crate) fn has_runnable_apc(&self) -> bool {
        self.apcs
            .iter()
            .any(|a| a.winsock.is_none_or(|(_, s)| !self.routines.contains(&s)))
    }
}

/// splitmix64: small, seedable and the same on every platform.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The scheduler's state, kept with the rest of the simulation under one lock.
pub(crate) struct Sched {
    /// The simulation's seed, for invariant panics.
    seed: u64,
    rng: u64,
    /// How the next thread is chosen when several can run.
    policy: Policy,
    pub(crate) slots: BTreeMap<ThreadId, Slot>,
    /// The contexts that entered the simulation from outside, innermost last.
    pub(crate) entry: Vec<ThreadId>,
}

impl Sched {
    pub(crate) fn new(seed: u64, scheduler: Scheduler) -> Sched {
        let mut rng = seed;
        let policy = Policy::new(scheduler, &mut || splitmix(&mut rng));
        Sched {
            seed,
            rng,
            policy,
            slots: BTreeMap::new(),
            entry: Vec::new(),
        }
    }

    /// The thread to run next ([TH-2]): the only candidate, or the policy's choice among
    /// several (`candidates` sorted).
    ///
    /// [TH-2]: crate::rules#th-2
    fn choose(&mut self, candidates: &[ThreadId]) -> ThreadId {
        let t = match candidates {
            [only] => *only,
            _ => {
                let rng = &mut self.rng;
                self.policy.choose(candidates, &mut || splitmix(rng))
            }
        };
        self.policy.ran(t);
        t
    }

    /// Adds a thread; returns the receiving end of its wake channel.
    pub(crate) fn add(
        &mut self,
        tid: ThreadId,
        pid: Option<ProcessId>,
        run: Run,
        spawned: bool,
    ) -> Receiver<Wake> {
        let (tx, rx) = crossbeam_channel::unbounded();
        self.slots.insert(
            tid,
            Slot {
                pid,
                run,
                tx,
                apcs: VecDeque::new(),
                routines: Vec::new(),
                spawned,
            },
        );
        rx
    }

    /// The one place a thread's run state changes: checks `to` is a transition from its
    /// current state ([`is_transition`]) and panics naming the invariant and the seed if not.
    ///
    /// Unlike an endpoint's phase, a run state change is not a trace event: the state moves at
    /// every scheduling point and on every retry of a blocked call, which is how the
    /// scheduler works rather than what the program did (and changes when the scheduler
    /// does). The trace shows what a wait means instead: each call's `blocked` time, the
    /// order of the calls, and a deadlock report naming every blocked thread's call.
    pub(crate) fn set_run(&mut self, t: ThreadId, to: Run) {
        let seed = self.seed;
        let slot = self.slot(t);
        if !is_transition(&slot.run, &to) {
            panic!(
                "ws2sim (seed {seed}): invariant: thread {} run state {:?} -> {to:?} is not \
                 a transition",
                t.0, slot.run
            );
        }
        slot.run = to;
    }

    pub(crate) fn slot(&mut self, t: ThreadId) -> &mut Slot {
        self.slots
            .get_mut(&t)
            .expect("invariant: a running simulated thread has a scheduler slot")
    }

    /// Something happened: every blocked thread may now be able to go on.
    pub(crate) fn progress(&mut self) {
        for s in self.slots.values_mut() {
            if let Run::Blocked { fresh, .. } = &mut s.run {
                *fresh = true;
            }
        }
    }

    fn goal_met(&self, goal: Goal) -> bool {
        match goal {
            Goal::Join(t) => self.slots.get(&t).is_none_or(|s| s.run == Run::Finished),
            Goal::Quiet => false,
        }
    }

    /// The threads that could run now.
    fn candidates(&self) -> Vec<ThreadId> {
        self.slots
            .iter()
            .filter(|(_, s)| match &s.run {
                Run::Ready => true,
                Run::Blocked {
                    fresh, alertable, ..
                } => *fresh || (*alertable && s.has_runnable_apc()),
                Run::Driver(goal) => self.goal_met(*goal),
                Run::Running | Run::Outside | Run::Finished => false,
            })
            .map(|(t, _)| *t)
            .collect()
    }

    fn quiet_driver(&self) -> Option<ThreadId> {
        self.slots
            .iter()
            .find(|(_, s)| s.run == Run::Driver(Goal::Quiet))
            .map(|(t, _)| *t)
    }

    /// The earliest deadline of a blocked call.
    fn earliest_deadline(&self) -> Option<Duration> {
        self.slots
            .values()
            .filter_map(|s| match s.run {
                Run::Blocked { deadline, .. } => deadline,
                Run::Ready | Run::Running | Run::Outside | Run::Finished | Run::Driver(_) => None,
            })
            .min()
    }

    /// The blocked threads, for reports.
    pub(crate) fn blocked(&self) -> Vec<(ThreadId, &Slot)> {
        self.slots
            .iter()
            .filter(|(_, s)| matches!(s.run, Run::Blocked { .. }))
            .map(|(t, s)| (*t, s))
            .collect()
    }
}

impl State {
    /// [TH-8]: counts call `name` by `t`; once every runnable thread has spun (made the limit
    /// of calls while time stood still), moves time to the next timer or delivery, or, with
    /// nothing pending, returns the livelock report.
    ///
    /// [TH-8]: crate::rules#th-8
    pub(crate) fn spun(&mut self, t: ThreadId, name: &'static str) -> Option<String> {
        let now = self.world.now();
        if !self.spin.count(t, name, now) {
            return None;
        }
        let runnable: Vec<ThreadId> = self
            .sched
            .slots
            .iter()
            .filter(|(_, s)| matches!(s.run, Run::Ready | Run::Running))
            .map(|(t, _)| *t)
            .collect();
        if !self.spin.all_spun(&runnable) {
            return None;
        }
        if self.let_time_pass() {
            let now = self.world.now();
            self.spin.reset(now);
            return None;
        }
        Some(self.spin.report(&runnable, self.seed))
    }

    /// [TH-3]: moves virtual time to the next thing that happens by itself (a packet, a
    /// deadline); false when nothing is pending.
    ///
    /// [TH-3]: crate::rules#th-3
    fn let_time_pass(&mut self) -> bool {
        let next = match (self.world.next_event(), self.sched.earliest_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let Some(t) = next else { return false };
        self.world.advance_to(t);
        self.apply_completions();
        self.record_losses();
        self.sched.progress();
        true
    }

    /// The next thread to run: among those that can, chosen by the seeded generator when there
    /// is a choice ([TH-2]); time passes while none can ([TH-3]); `None` is a deadlock ([TH-4]).
    ///
    /// [TH-2]: crate::rules#th-2
    /// [TH-3]: crate::rules#th-3
    /// [TH-4]: crate::rules#th-4
    fn pick(&mut self) -> Option<ThreadId> {
        loop {
            let c = self.sched.candidates();
            if !c.is_empty() {
                return Some(self.sched.choose(&c));
            }
            if self.let_time_pass() {
                continue;
            }
            return self.sched.quiet_driver();
        }
    }

    /// [TH-4]: every blocked thread with its call and socket, the virtual time and the seed.
    /// [TH-4]: crate::rules#th-4
    pub(crate) fn deadlock_report(&self) -> String {
        let mut lines = Vec::new();
        for (t, s) in self.sched.blocked() {
            let Run::Blocked { call, .. } = &s.run else {
                continue;
            };
            // The socket a Winsock call waits on is the core's to know (SleepEx, join: none).
            let socket = self.world.threads.blocked_on(t);
            let process = s.pid.map_or("?".into(), |p| {
                format!("{:?} (pid {})", self.world.process(p).name(), p)
            });
            let socket = socket.map_or(String::new(), |s| format!(" on socket {s}"));
            lines.push(format!(
                "  thread {t} of process {process}: blocked in {call}{socket}"
            ));
        }
        // TH-7: threads that panicked are part of the story.
        lines.extend(self.panicked_lines());
        format!(
            "ws2sim (seed {}): deadlock at {:?} of virtual time: every thread is blocked and no \
             packet or timer is pending (TH-4)\n{}",
            self.seed,
            self.world.now(),
            lines.join("\n")
        )
    }

    /// Terminates every parked spawned thread (of process `of`, or of all) except `keep`:
    /// they unwind and end.
    pub(crate) fn abort_threads(&mut self, keep: Option<ThreadId>, of: Option<ProcessId>) {
        let mut ended = Vec::new();
        for (t, s) in self.sched.slots.iter() {
            if Some(*t) == keep || s.run == Run::Finished || (of.is_some() && s.pid != of) {
                continue;
            }
            if s.spawned {
                let _ = s.tx.send(Wake::Abort);
            }
            if s.spawned || of.is_some() {
                ended.push(*t);
            }
        }
        for t in ended {
            self.sched.set_run(t, Run::Finished);
            // TH-9: the core forgets the thread's blocking call here, at this scheduling
            // point, not whenever its OS thread gets round to unwinding.
            self.world.unblock(t);
        }
    }
}

/// The scheduler's state machine: true when a thread may go from `from` to `to`.
///
/// | from | to | when |
/// |---|---|---|
/// | Ready, Blocked, Outside, Driver | Running | it gets the baton |
/// | Running | Ready, Blocked, Driver | it reaches a scheduling point, waits, or drives |
/// | Running | Outside | its `Process::run` returns, or it enters a nested one |
/// | Ready, Blocked | Outside | a deadlock report unwinds it out of `Process::run` |
/// | Running, Ready, Blocked, Outside | Finished | it ends, or is terminated |
/// | Driver | Driver (same goal) | the driver waits again |
/// | Finished | Finished | ended twice (terminated, then its OS thread returned) |
fn is_transition(from: &Run, to: &Run) -> bool {
    use Run::{Blocked, Driver, Finished, Outside, Ready, Running};
    match (from, to) {
        (Ready | Blocked { .. } | Outside | Driver(_), Running) => true,
        (Running, Ready | Blocked { .. } | Driver(_) | Outside | Finished) => true,
        (Ready | Blocked { .. }, Outside) => true,
        (Ready | Blocked { .. } | Outside, Finished) => true,
        (Driver(a), Driver(b)) => a == b,
        (Finished, Finished) => true,
        (Running, Running) => false,
        (Ready | Blocked { .. } | Outside, Ready | Blocked { .. } | Driver(_)) => false,
        (Outside, Outside) => false,
        (Driver(_), Ready | Blocked { .. } | Outside | Finished) => false,
        (Finished, Ready | Running | Blocked { .. } | Outside | Driver(_)) => false,
    }
}

/// Hands the baton to the next thread (maybe `me` again) and returns once `me` holds it.
/// The caller has set `me`'s state (Ready at a scheduling point, Blocked in a wait, a Driver).
pub(crate) fn switch<'a>(
    mut g: MutexGuard<'a, State>,
    me: ThreadId,
    rx: &Receiver<Wake>,
    lock: impl Fn() -> MutexGuard<'a, State>,
) -> MutexGuard<'a, State> {
    match g.pick() {
        Some(next) if next == me => {
            g.sched.set_run(me, Run::Running);
            g
        }
        Some(next) => {
            g.sched.set_run(next, Run::Running);
            let _ = g.sched.slot(next).tx.send(Wake::Go);
            drop(g);
            match wait(rx) {
                Ok(()) => lock(),
                Err(report) => {
                    let mut g = lock();
                    g.abort_threads(Some(me), None);
                    if in_foreign() {
                        end_later(Ending::Report(report));
                        return g;
                    }
                    drop(g);
                    deadlocked(report);
                }
            }
        }
        None => deadlock(g, me, rx, lock),
    }
}

/// Passes the baton on for good (the thread ends). A deadlock goes to the entry context.
pub(crate) fn leave(mut g: MutexGuard<'_, State>) {
    match g.pick() {
        Some(next) => {
            g.sched.set_run(next, Run::Running);
            let _ = g.sched.slot(next).tx.send(Wake::Go);
        }
        None => {
            let report = g.deadlock_report();
            if let Some(entry) = g.sched.entry.last().copied() {
                let _ = g.sched.slot(entry).tx.send(Wake::Deadlock(report));
            }
        }
    }
}

fn deadlock<'a>(
    mut g: MutexGuard<'a, State>,
    me: ThreadId,
    rx: &Receiver<Wake>,
    lock: impl Fn() -> MutexGuard<'a, State>,
) -> MutexGuard<'a, State> {
    let report = g.deadlock_report();
    let entry = g.sched.entry.last().copied();
    if entry == Some(me) || entry.is_none() {
        g.abort_threads(Some(me), None);
        if in_foreign() {
            end_later(Ending::Report(report));
            return g;
        }
        drop(g);
        deadlocked(report);
    }
    if let Some(entry) = entry {
        let _ = g.sched.slot(entry).tx.send(Wake::Deadlock(report));
    }
    drop(g);
    match wait(rx) {
        // Inside a user callback: it returns first (`foreign`).
        Ok(()) if ending() => lock(),
        Ok(()) | Err(_) => std::panic::resume_unwind(Box::new(Aborted)),
    }
}

/// Parks until woken: `Ok` on `Go`, the report on `Deadlock`; unwinds on `Abort`.
pub(crate) fn wait(rx: &Receiver<Wake>) -> Result<(), String> {
    match rx.recv() {
        Ok(Wake::Go) => Ok(()),
        Ok(Wake::Deadlock(report)) => Err(report),
        // TH-9: never unwound through a user callback; `foreign` ends the thread after it.
        Ok(Wake::Abort) | Err(_) if in_foreign() => {
            end_later(Ending::Abort);
            Ok(())
        }
        Ok(Wake::Abort) | Err(_) => std::panic::resume_unwind(Box::new(Aborted)),
    }
}

#[cfg(test)]
mod tests {
    use super::{Goal, Run, Sched};
    use crate::core::ThreadId;

    fn blocked() -> Run {
        Run::Blocked {
            call: "recv".into(),
            deadline: None,
            fresh: false,
            alertable: false,
        }
    }

    fn sched_with(run: Run) -> (Sched, ThreadId) {
        let mut s = Sched::new(42, crate::Scheduler::Random);
        let t = ThreadId(1);
        drop(s.add(t, None, run, false));
        (s, t)
    }

    #[test]
    fn a_thread_runs_waits_and_ends_through_set_run() {
        let (mut s, t) = sched_with(Run::Ready);
        for to in [
            Run::Running,
            blocked(),
            Run::Running,
            Run::Ready,
            Run::Running,
        ] {
            s.set_run(t, to.clone());
            assert_eq!(s.slot(t).run, to);
        }
        s.set_run(t, Run::Finished);
        s.set_run(t, Run::Finished);
        let (mut d, t) = sched_with(Run::Driver(Goal::Quiet));
        d.set_run(t, Run::Driver(Goal::Quiet));
        d.set_run(t, Run::Running);
    }

    #[test]
    #[should_panic(expected = "ws2sim (seed 42): invariant: thread 1 run state")]
    fn a_finished_thread_never_runs_again() {
        let (mut s, t) = sched_with(Run::Ready);
        s.set_run(t, Run::Finished);
        s.set_run(t, Run::Running);
    }

    #[test]
    #[should_panic(expected = "is not a transition")]
    fn a_ready_thread_takes_the_baton_before_it_waits() {
        let (mut s, t) = sched_with(Run::Ready);
        s.set_run(t, blocked());
    }
}
