//! Spawning and joining simulated threads, and driving the simulation from outside.

use std::sync::{Arc, Mutex};

use super::sched::{self, Aborted, Goal, Run};
use super::thread::{self, ThreadCtx};
use super::Shared;
use crate::core::ws2::process::Life;
use crate::core::{ProcessId, ThreadId};

type Outcome<T> = Arc<Mutex<Option<std::thread::Result<T>>>>;

/// A simulated thread started by [`Process::spawn`](crate::Process::spawn) or
/// [`thread::spawn`](crate::thread::spawn).
///
/// ```
/// use ws2sim::{api, Sim, Version};
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| api::startup(Version::V2_2)).unwrap();
/// let h = p.spawn(|| api::last_error() + 40);
/// assert_eq!(h.join(), 40);
/// ```
#[must_use = "a thread that is never joined runs only when something else drives the simulation"]
pub struct ThreadHandle<T> {
    shared: Arc<Shared>,
    /// Keeps the simulation's threads alive while the handle is (see `Owner`).
    _owner: Option<Arc<super::Owner>>,
    tid: ThreadId,
    /// [KW-3]: the thread's kernel32 object.
    /// [KW-3]: crate::rules#kw-3
    object: Option<crate::core::events::EventHandle>,
    outcome: Outcome<T>,
    os: Option<std::thread::JoinHandle<()>>,
}

impl<T> std::fmt::Debug for ThreadHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadHandle")
            .field("thread", &self.tid)
            .finish()
    }
}

impl<T> ThreadHandle<T> {
    /// The simulated thread's id (as the trace shows it).
    pub fn id(&self) -> ThreadId {
        self.tid
    }

    /// The thread's kernel32 `HANDLE` value ([KW-3]), for `WaitForSingleObject(h as HANDLE,
    /// ..)` and `WaitForMultipleObjects` from the threads of its process: signalled once the
    /// thread has ended, for good. `SetEvent`/`ResetEvent` on it fail `ERROR_INVALID_HANDLE`;
    /// `CloseHandle` closes it. 0 only if its process's handle table was full.
    ///
    /// ```
    /// use ws2sim::{sys::*, Sim};
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// let worker = p.spawn(|| unsafe { SleepEx(30, FALSE) });
    /// let h = worker.raw_handle();
    /// p.run(|| unsafe {
    ///     assert_eq!(WaitForSingleObject(h as HANDLE, 10), WAIT_TIMEOUT as u32);
    ///     assert_eq!(WaitForSingleObject(h as HANDLE, WSA_INFINITE), WAIT_OBJECT_0);
    ///     assert_eq!(GetTickCount64(), 30);
    ///     assert_eq!(CloseHandle(h as HANDLE), TRUE);
    /// });
    /// ```
    ///
    /// [KW-3]: crate::rules#kw-3
    pub fn raw_handle(&self) -> isize {
        self.object.map_or(0, |h| h.raw())
    }

    /// True once the thread has finished (or was terminated).
    pub fn is_finished(&self) -> bool {
        self.shared
            .lock()
            .sched
            .slots
            .get(&self.tid)
            .is_none_or(|s| s.run == Run::Finished)
    }

    /// Queues an asynchronous procedure call to the thread (as `QueueUserAPC` does): it runs
    /// on that thread when it next waits alertably — in a blocking Winsock call, an alertable
    /// `WSAWaitForMultipleEvents` or `SleepEx`.
    pub fn queue_apc(&self, f: impl FnOnce() + Send + 'static) {
        queue_apc(
            &self.shared,
            self.tid,
            sched::Apc {
                winsock: None,
                run: Box::new(f),
            },
        );
    }

    /// Waits for the thread to finish and returns its result; a panic in the thread resumes
    /// here. Inside a simulated thread this is a blocking wait like any other; outside, it
    /// runs the simulation until the thread is done.
    ///
    /// # Panics
    /// On a deadlock ([TH-4]), with the report and the seed; with the thread's own panic; and
    /// when the thread was terminated (its process exited or was killed).
    ///
    /// [TH-4]: crate::rules#th-4
    pub fn join(mut self) -> T {
        match thread::try_current() {
            Some(ctx) => {
                let mut g = ctx.lock();
                loop {
                    if g.sched
                        .slots
                        .get(&self.tid)
                        .is_none_or(|s| s.run == Run::Finished)
                    {
                        break;
                    }
                    let run = Run::Blocked {
                        call: format!("join(thread {})", self.tid),
                        deadline: None,
                        fresh: false,
                        alertable: false,
                    };
                    g = ctx.switch(g, run);
                    if sched::ending() {
                        // Terminated inside a user callback while joining: there is no value
                        // to return, so the thread ends here (the one case TH-9 cannot
                        // defer: a join has to return its thread's result).
                        drop(g);
                        std::panic::resume_unwind(Box::new(Aborted));
                    }
                }
            }
            None => drive(&self.shared, Goal::Join(self.tid)),
        }
        if let Some(os) = self.os.take() {
            let _ = os.join();
        }
        let outcome = self
            .outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("invariant: a finished thread left its outcome");
        match outcome {
            Ok(v) => v,
            Err(p) if p.is::<Aborted>() => panic!(
                "ws2sim (seed {}): thread {} was terminated before it finished (its process \
                 ended, or the simulation deadlocked)",
                self.shared.seed(),
                self.tid
            ),
            // TH-7: re-raised here, naming the thread and the seed.
            Err(p) => {
                let mut g = self.shared.lock();
                g.joined(self.tid);
                let seed = g.seed();
                drop(g);
                panic!(
                    "ws2sim (seed {seed}): thread {} panicked: {}; replay with WS2SIM_SEED={seed}",
                    self.tid,
                    super::failure::panic_text(&*p)
                );
            }
        }
    }
}

/// Starts a simulated thread of process `pid`.
pub(crate) fn spawn<T: Send + 'static>(
    shared: &Arc<Shared>,
    pid: ProcessId,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<ThreadHandle<T>, String> {
    let (tid, rx, object) = {
        let mut g = shared.lock();
        if g.world.process(pid).life() != Life::Running {
            return Err(format!("spawn in process {pid}, which has ended"));
        }
        let tid = g.world.new_thread_id();
        let object = g.world.thread_object(pid);
        let rx = g.sched.add(tid, Some(pid), Run::Ready, true);
        (tid, rx, object)
    };
    let ctx = ThreadCtx {
        shared: shared.clone(),
        pid,
        tid,
        rx,
    };
    let outcome: Outcome<T> = Arc::new(Mutex::new(None));
    let out = outcome.clone();
    // A sweep's quiet panics (testing::sweep) stay quiet in the threads its seed spawns.
    let quiet = crate::testing::quiet::is_quiet();
    let os = std::thread::Builder::new()
        .name(format!("ws2sim-thread-{tid}"))
        .spawn(move || {
            let _quiet = crate::testing::quiet::Quiet::set(quiet);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // Deadlock reports only ever go to entry contexts, never to a spawned thread.
                let _ = sched::wait(&ctx.rx);
                let _entered = thread::enter(ctx.clone());
                f()
            }));
            let aborted = matches!(&result, Err(p) if p.is::<Aborted>());
            let panicked = match &result {
                Err(p) if !aborted => Some(super::failure::panic_text(&**p)),
                Ok(_) | Err(_) => None,
            };
            *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
            if !aborted {
                let mut g = ctx.lock();
                if let Some(message) = panicked {
                    g.thread_panicked(tid, pid, message);
                }
                if let Some(h) = object {
                    g.world.thread_ended(pid, h);
                }
                g.sched.set_run(tid, Run::Finished);
                g.sched.progress();
                sched::leave(g);
            }
        })
        .map_err(|e| format!("cannot start an OS thread for a simulated thread: {e}"))?;
    Ok(ThreadHandle {
        shared: shared.clone(),
        _owner: shared.owner(),
        tid,
        object,
        outcome,
        os: Some(os),
    })
}

/// Runs the simulation from outside any simulated thread until `goal` is met.
///
/// # Panics
/// With the [`SimError`](super::SimError) [`try_drive`] returns.
pub(crate) fn drive(shared: &Arc<Shared>, goal: Goal) {
    if let Err(e) = try_drive(shared, goal) {
        panic!("{e}");
    }
}

/// Runs the simulation from outside any simulated thread until `goal` is met; a deadlock, or
/// a thread's panic nobody has seen (other than a joined thread's own), is the error.
pub(crate) fn try_drive(shared: &Arc<Shared>, goal: Goal) -> Result<(), super::SimError> {
    /// Unregisters the driver also when the drive unwinds (a deadlock report), so the
    /// scheduler never hands the baton to a context that is gone.
    struct Registered<'a>(&'a Arc<Shared>, ThreadId);
    impl Drop for Registered<'_> {
        fn drop(&mut self) {
            let mut g = self.0.lock();
            g.sched.entry.retain(|t| *t != self.1);
            g.sched.slots.remove(&self.1);
        }
    }
    let mut g = shared.lock();
    shared.check_idle(&g);
    let me = g.world.new_thread_id();
    let rx = g.sched.add(me, None, Run::Driver(goal), false);
    g.sched.entry.push(me);
    let registered = Registered(shared, me);
    let lock = || shared.lock();
    loop {
        let done = match goal {
            Goal::Join(t) => g.sched.slots.get(&t).is_none_or(|s| s.run == Run::Finished),
            Goal::Quiet => false,
        };
        if done {
            break;
        }
        g.sched.set_run(me, Run::Driver(goal));
        g = sched::switch(g, me, &rx, lock);
        if goal == Goal::Quiet {
            break;
        }
    }
    let blocked = goal == Goal::Quiet && !g.sched.blocked().is_empty();
    let error = if blocked {
        let report = g.deadlock_report();
        // The report names the threads that panicked: they are seen.
        while g.take_panicked(None).is_some() {}
        g.abort_threads(None, None);
        Some(super::SimError::Deadlock {
            report,
            seed: g.seed(),
        })
    } else {
        let joined = match goal {
            Goal::Join(t) => Some(t),
            Goal::Quiet => None,
        };
        g.take_panicked(joined)
    };
    drop(g);
    drop(registered);
    error.map_or(Ok(()), Err)
}

/// Queues an APC to thread `tid`.
pub(crate) fn queue_apc(shared: &Arc<Shared>, tid: ThreadId, apc: sched::Apc) {
    let mut g = shared.lock();
    if let Some(slot) = g.sched.slots.get_mut(&tid) {
        if slot.run != Run::Finished {
            slot.apcs.push_back(apc);
        }
    }
}
