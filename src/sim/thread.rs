//! Which simulated thread the current OS thread is running, and the funnel every Winsock call
//! of `sys` and `api` goes through.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, MutexGuard};

use crossbeam_channel::Receiver;

use super::sched::{self, Run, Wake};
use super::{Shared, State};
use crate::consts::WAIT_IO_COMPLETION;
use crate::core::call::{EventCall, Returns, Wait};
use crate::core::call_args::Args;
use crate::core::{Call, Cx, ProcessId, Reply, Step, ThreadId};
use crate::error::WsaError;

/// The simulated thread an OS thread is currently running.
#[derive(Clone)]
pub(crate) struct ThreadCtx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) pid: ProcessId,
    pub(crate) tid: ThreadId,
    pub(crate) rx: Receiver<Wake>,
}

thread_local! {
    /// A stack: `Process::run` may nest (a test driving two processes from one closure).
    static CURRENT: RefCell<Vec<ThreadCtx>> = const { RefCell::new(Vec::new()) };
    /// How deep the thread is in simulated DllMain calls ([CL-12]).
    ///
    /// [CL-12]: crate::rules#cl-12
    static IN_DLLMAIN: Cell<u32> = const { Cell::new(0) };
    /// How deep the thread is in APCs the simulator runs ([CL-10]).
    ///
    /// [CL-10]: crate::rules#cl-10
    static IN_APC: Cell<u32> = const { Cell::new(0) };
    /// How deep the thread is in the core (a provider's method runs there: [CL-10]).
    ///
    /// [CL-10]: crate::rules#cl-10
    static IN_CORE: Cell<u32> = const { Cell::new(0) };
}

/// Leaves the simulated thread when dropped, also when the closure panics.
pub(crate) struct Enter(());

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|c| c.borrow_mut().pop());
    }
}

/// Makes the current OS thread run `ctx` until the guard drops.
pub(crate) fn enter(ctx: ThreadCtx) -> Enter {
    CURRENT.with(|c| c.borrow_mut().push(ctx));
    Enter(())
}

/// True while the calling OS thread is inside a call the core runs (a provider's callback).
pub(crate) fn in_core() -> bool {
    IN_CORE.with(Cell::get) > 0
}

thread_local! {
    /// [CL-10]: what a provider's callback tried that the harness could not do from there, for
    /// the call to report as diagnostics once the core returns.
    ///
    /// [CL-10]: crate::rules#cl-10
    static MISUSE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The simulated thread the calling OS thread runs, if any.
pub(crate) fn try_current() -> Option<ThreadCtx> {
    CURRENT.with(|c| c.borrow().last().cloned())
}

/// The simulated thread the calling OS thread runs; panics outside one.
pub(crate) fn current() -> ThreadCtx {
    try_current().unwrap_or_else(|| outside_a_simulated_thread())
}

/// A Winsock function was called on an OS thread that runs no simulated thread: panics with
/// what to do instead.
fn outside_a_simulated_thread() -> ! {
    panic!(
        "ws2sim: a Winsock function was called outside a simulated thread. From test code, \
         wrap it in Process::run (e.g. sim.localhost().process(\"app\").run(|| ...)); \
         from a std::thread started inside a simulation, start it with \
         ws2sim::thread::spawn instead, so it is a simulated thread of that process"
    )
}

/// Runs `f` with a thread-local depth counter raised, lowered again even if `f` unwinds.
fn deeper<T>(depth: &'static std::thread::LocalKey<Cell<u32>>, f: impl FnOnce() -> T) -> T {
    struct Leave(&'static std::thread::LocalKey<Cell<u32>>);
    impl Drop for Leave {
        fn drop(&mut self) {
            self.0.with(|d| d.set(d.get() - 1));
        }
    }
    depth.with(|d| d.set(d.get() + 1));
    let _leave = Leave(depth);
    f()
}

/// Runs `f` as if the loader lock were held, as in a DLL's `DllMain` ([CL-12]).
///
/// [CL-12]: crate::rules#cl-12
pub(crate) fn in_dllmain<T>(f: impl FnOnce() -> T) -> T {
    deeper(&IN_DLLMAIN, f)
}

impl ThreadCtx {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Waits for the baton after putting this thread in `run`.
    pub(crate) fn switch<'a>(
        &'a self,
        mut g: MutexGuard<'a, State>,
        run: Run,
    ) -> MutexGuard<'a, State> {
        let finished = g
            .sched
            .slots
            .get(&self.tid)
            .is_none_or(|s| s.run == Run::Finished);
        if finished {
            // Terminated while it ran user code: it does not wait again (TH-9).
            return sched::terminated(g);
        }
        g.sched.set_run(self.tid, run);
        sched::switch(g, self.tid, &self.rx, || self.shared.lock())
    }

    /// Runs the APCs queued to this thread that may run now, in order, outside the lock; true
    /// when any ran. [OV-4]: a completion routine is not started while one of the same socket
    /// runs on this thread (it stays queued).
    ///
    /// [OV-4]: crate::rules#ov-4
    pub(crate) fn run_apcs<'a>(&'a self, g: &mut Option<MutexGuard<'a, State>>) -> bool {
        let Some(guard) = g.as_mut() else {
            return false;
        };
        let slot = guard.sched.slot(self.tid);
        let busy = slot.routines.clone();
        let (run, keep): (Vec<_>, Vec<_>) = slot
            .apcs
            .drain(..)
            .partition(|a| a.winsock.is_none_or(|(_, s)| !busy.contains(&s)));
        slot.apcs.extend(keep);
        if run.is_empty() {
            return false;
        }
        *g = None;
        deeper(&IN_APC, || {
            for apc in run {
                let socket = apc.winsock.map(|(_, s)| s);
                if let Some(s) = socket {
                    self.lock().sched.slot(self.tid).routines.push(s);
                }
                if socket.is_some() {
                    // A completion routine: the user's extern "system" code (TH-9).
                    sched::foreign(apc.run);
                } else {
                    (apc.run)();
                }
                if socket.is_some() {
                    self.lock().sched.slot(self.tid).routines.pop();
                }
            }
        });
        *g = Some(self.lock());
        true
    }
}

/// Runs one Winsock call on the core for the current simulated thread and records it.
///
/// [TH-2]: the call is a scheduling point: another thread may run first. A call that must wait
/// parks its thread; others run, or virtual time moves to the next thing that happens by
/// itself ([TH-3]), and the call is made again. Under Winsock 1.1 the thread's blocking hook runs
/// while it waits ([TH-5]); queued APCs run inside the wait, as Winsock waits alertably.
///
/// [TH-2]: crate::rules#th-2
/// [TH-3]: crate::rules#th-3
/// [TH-5]: crate::rules#th-5
pub(crate) fn call<'a>(call: impl Into<Call<'a>>) -> Result<Reply, WsaError> {
    let mut call = call.into();
    if let Some(refused) = refuse_here(&call) {
        return refused;
    }
    let Some(ctx) = try_current() else {
        // Outside a simulated thread while unwinding (a RAII guard's `Drop` calling
        // `closesocket` or `WSACleanup` as a test fails): a second panic there would abort
        // the test process, so the call fails as if Ws2_32 were not loaded on this thread.
        if std::thread::panicking() {
            return Err(WsaError::NotInitialised);
        }
        outside_a_simulated_thread();
    };
    let g = ctx.lock();
    if g.sched
        .slots
        .get(&ctx.tid)
        .is_none_or(|s| s.run == Run::Finished)
    {
        // A terminated thread unwinding (its process ended, or a deadlock elsewhere): code
        // in its destructors gets an error instead of being scheduled again.
        return Err(WsaError::Interrupted);
    }
    /// If the call unwinds (a deadlock report, a terminated thread), the core forgets the
    /// thread's blocking call, so later calls of the thread are not taken for nested ones.
    struct Unwinding<'a>(&'a ThreadCtx);
    impl Drop for Unwinding<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0.lock().world.unblock(self.0.tid);
            }
        }
    }
    let _unwinding = Unwinding(&ctx);
    let g = ctx.switch(g, Run::Ready);
    if sched::ending() {
        drop(g);
        return Err(WsaError::Interrupted); // TH-9: terminated inside a user callback
    }
    // The arguments as passed, for the trace: formatted only when tracing (or, when the call
    // blocks, for a deadlock report that may need them).
    let args = g.tracing.then(|| call.arguments());
    let mut cx = Cx::new(ctx.pid, ctx.tid);
    cx.in_dllmain = IN_DLLMAIN.with(Cell::get) > 0;
    cx.in_callback = IN_APC.with(Cell::get) > 0;
    let started = g.world.now();
    let Some((g, result)) = wait_for(&ctx, g, &mut cx, &mut call, &args) else {
        return Err(WsaError::Interrupted);
    };
    finish(g, &ctx, &call, &cx, args, result, started)
}

/// A call the current OS thread cannot make on the core now: [TH-9] (the thread is ending
/// inside a user callback) and [CL-10] (a service provider called Winsock from inside an SPI
/// call the simulator is running). `None`: the call goes ahead.
///
/// [TH-9]: crate::rules#th-9
/// [CL-10]: crate::rules#cl-10
fn refuse_here(call: &Call<'_>) -> Option<Result<Reply, WsaError>> {
    if sched::ending() {
        return Some(Err(WsaError::Interrupted));
    }
    if IN_CORE.with(Cell::get) == 0 {
        return None;
    }
    Some(match call.spec().returns {
        // A call that cannot fail answers with the refusal's code as its value.
        Returns::LastErrorValue => Ok(Reply::LastError(WsaError::InProgress.code())),
        Returns::ErrorCode
        | Returns::Socket
        | Returns::Status
        | Returns::InvalidEvent
        | Returns::False
        | Returns::WaitFailed
        | Returns::Null
        | Returns::Pton => Err(WsaError::InProgress),
    })
}

/// Makes the call on the core until it is done, parking the thread while it waits ([TH-2],
/// [TH-3]), running the 1.1 blocking hook once per wait ([TH-5]) and the APCs an alertable wait
/// delivers ([OV-4]). `None`: the thread was ended while it waited ([TH-9]).
///
/// [TH-2]: crate::rules#th-2
/// [TH-3]: crate::rules#th-3
/// [TH-5]: crate::rules#th-5
/// [OV-4]: crate::rules#ov-4
/// [TH-9]: crate::rules#th-9
fn wait_for<'a>(
    ctx: &'a ThreadCtx,
    mut g: MutexGuard<'a, State>,
    cx: &mut Cx,
    call: &mut Call<'_>,
    args: &Option<Args>,
) -> Option<(MutexGuard<'a, State>, Result<Reply, WsaError>)> {
    let spec = call.spec();
    // OV-4: an alertable wait returns WSA_WAIT_IO_COMPLETION once APCs ran in it; other
    // blocking Winsock calls wait alertably too (seed 004) but go on waiting after the APCs.
    let alertable_wait = spec.wait == Wait::AlertableReturns;
    let alertable = match spec.wait {
        Wait::Alertable | Wait::AlertableReturns => true,
        Wait::NotAlertable => false,
    };
    let mut hook_ran = false;
    loop {
        if alertable_wait && g.sched.slot(ctx.tid).has_runnable_apc() {
            let mut holder = Some(g);
            let ran = ctx.run_apcs(&mut holder);
            g = holder.expect("run_apcs gives the lock back");
            if ran {
                g.world.unblock(ctx.tid);
                return Some((g, Ok(Reply::Alerted)));
            }
        }
        let block = match dispatch_once(&mut g, cx, call) {
            Ok(Step::Done(result)) => return Some((g, result)),
            Ok(Step::Blocked(block)) => block,
            Err(broken) => {
                drop(g);
                panic!("{broken}");
            }
        };
        if let (Some(hook), false) = (g.world.blocking_hook(ctx.pid, ctx.tid), hook_ran) {
            // TH-5: the hook runs outside the lock, once per wait; it may cancel the call
            // (WSACancelBlockingCall).
            drop(g);
            sched::foreign(|| (hook.run)());
            g = ctx.lock();
            hook_ran = true;
            cx.resume();
            continue;
        }
        hook_ran = false;
        let run = Run::Blocked {
            call: match args {
                Some(args) => format!("{}({args})", spec.name),
                None => format!("{}({call})", spec.name),
            },
            deadline: block.deadline,
            fresh: false,
            alertable,
        };
        g = ctx.switch(g, run);
        if sched::ending() {
            // TH-9: the thread ends once the user callback it is inside returns; until then
            // its calls return at once and change nothing.
            drop(g);
            return None;
        }
        if alertable && !alertable_wait {
            let mut holder = Some(g);
            ctx.run_apcs(&mut holder);
            g = holder.expect("run_apcs gives the lock back");
        }
        cx.resume();
    }
}

/// One attempt of the call on the core, with the provider misuse it reported ([CL-10]) turned
/// into diagnostics. [TH-6]: a broken invariant (a panic in the core) comes back as its message
/// naming the seed that reproduces it, for the caller to panic with once it let go of the lock.
///
/// [CL-10]: crate::rules#cl-10
/// [TH-6]: crate::rules#th-6
fn dispatch_once(
    g: &mut MutexGuard<'_, State>,
    cx: &mut Cx,
    call: &mut Call<'_>,
) -> Result<Step, String> {
    let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        deeper(&IN_CORE, || g.world.dispatch(cx, call))
    }));
    for message in MISUSE.with(|m| std::mem::take(&mut *m.borrow_mut())) {
        g.world.misuse(cx, message);
    }
    step.map_err(|payload| {
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("panic");
        format!("ws2sim (seed {}): {msg}", g.seed())
    })
}

/// After the call: completions it caused, [CL-8]'s dropped routines, the trace record and the
/// [TH-8] spin check.
///
/// [CL-8]: crate::rules#cl-8
/// [TH-8]: crate::rules#th-8
fn finish(
    mut g: MutexGuard<'_, State>,
    ctx: &ThreadCtx,
    call: &Call<'_>,
    cx: &Cx,
    args: Option<Args>,
    result: Result<Reply, WsaError>,
    started: std::time::Duration,
) -> Result<Reply, WsaError> {
    let spec = call.spec();
    g.sched.progress();
    g.apply_completions();
    if spec.cleans_up && !g.world.process(ctx.pid).is_started() {
        // CL-8: the final cleanup also drops the completion routines still queued.
        g.drop_winsock_apcs(ctx.pid);
    }
    match args {
        Some(args) => {
            let shown = match &result {
                Ok(reply) => (reply.to_string(), reply.returned()),
                Err(e) => (
                    spec.returns.failure(*e),
                    Some(spec.returns.failure_value(*e)),
                ),
            };
            let error = result.as_ref().err().copied();
            g.record_call(
                ctx.pid,
                ctx.tid,
                spec.name,
                args,
                shown,
                error,
                cx.rules(),
                started,
            );
        }
        None => g.count_call(),
    }
    g.record_losses();
    g.record_diagnostics();
    if found_nothing(call, &result) {
        if let Some(livelock) = g.spun(ctx.tid, spec.name) {
            drop(g);
            panic!("{livelock}");
        }
    }
    result
}

/// [TH-8]: a poll that found nothing to do — a non-blocking call that would have blocked, a
/// wait or `select` that timed out. Only such calls count towards spinning.
///
/// [TH-8]: crate::rules#th-8
fn found_nothing(call: &Call<'_>, result: &Result<Reply, WsaError>) -> bool {
    match (call, result) {
        (_, Err(WsaError::WouldBlock | WsaError::WaitTimeout)) => true,
        (Call::Events(EventCall::WaitEvents { .. }), Ok(Reply::Count(n))) => {
            *n == crate::consts::WSA_WAIT_TIMEOUT
        }
        (Call::Events(EventCall::Select { .. }), Ok(Reply::Count(n))) => *n == 0,
        (_, Ok(_) | Err(_)) => false,
    }
}

/// `SleepEx`: waits `d` of virtual time (`None`: for ever); an alertable sleep ends as soon as
/// APCs ran in it (returns true). Recorded in the trace.
pub(crate) fn sleep_ex(d: Option<std::time::Duration>, alertable: bool) -> bool {
    if sched::ending() {
        return false; // TH-9, as in `call`
    }
    if in_core() {
        // CL-10: a provider's callback cannot wait (the core's call on this thread is under
        // way); the sleep returns at once and the call reports a diagnostic.
        MISUSE.with(|m| {
            m.borrow_mut().push(format!(
                "SleepEx({}) called from inside a service provider's callback: it cannot wait \
                 there and returned at once",
                d.map_or("INFINITE".into(), |d| d.as_millis().to_string())
            ))
        });
        return false;
    }
    let Some(ctx) = try_current() else {
        if std::thread::panicking() {
            return false; // as in `call`: no second panic while unwinding
        }
        outside_a_simulated_thread();
    };
    let mut g = ctx.switch(ctx.lock(), Run::Ready);
    if sched::ending() {
        return false; // TH-9, as in `call`
    }
    let started = g.world.now();
    let deadline = d.map(|d| started.saturating_add(d));
    let ran = loop {
        if alertable && g.sched.slot(ctx.tid).has_runnable_apc() {
            let mut holder = Some(g);
            let ran = ctx.run_apcs(&mut holder);
            g = holder.expect("run_apcs gives the lock back");
            if ran {
                break true;
            }
        }
        if deadline.is_some_and(|t| g.world.now() >= t) {
            break false;
        }
        let run = Run::Blocked {
            call: "SleepEx".into(),
            deadline,
            fresh: false,
            alertable,
        };
        g = ctx.switch(g, run);
        if sched::ending() {
            drop(g);
            return false; // TH-9, as in `call`
        }
    };
    g.sched.progress();
    let mut args = Args::default();
    args.arg(
        "dwMilliseconds",
        d.map_or("INFINITE".into(), |d| d.as_millis().to_string()),
    )
    .arg("bAlertable", if alertable { "TRUE" } else { "FALSE" });
    let result = if ran {
        (
            "WAIT_IO_COMPLETION".into(),
            Some(i64::from(WAIT_IO_COMPLETION)),
        )
    } else {
        ("0".into(), Some(0))
    };
    g.record_call(
        ctx.pid,
        ctx.tid,
        "SleepEx",
        args,
        result,
        None,
        &[],
        started,
    );
    ran
}
