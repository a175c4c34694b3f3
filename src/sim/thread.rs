//! Which simulated thread the current OS thread is running, and the funnel every Winsock call
//! of `sys` and `api` goes through.

use std::cell::RefCell;
use std::sync::Arc;

use super::Shared;
use crate::core::{Call, Cx, ProcessId, Reply, Step, ThreadId};
use crate::error::WsaError;

/// The simulated thread an OS thread is currently running.
#[derive(Clone)]
pub(crate) struct ThreadCtx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) pid: ProcessId,
    pub(crate) tid: ThreadId,
}

thread_local! {
    /// A stack: `Process::run` may nest (a test driving two processes from one closure).
    static CURRENT: RefCell<Vec<ThreadCtx>> = const { RefCell::new(Vec::new()) };
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

fn current() -> ThreadCtx {
    CURRENT
        .with(|c| c.borrow().last().cloned())
        .unwrap_or_else(|| {
            panic!(
                "ws2sim: a Winsock function was called outside a simulated thread; \
             wrap the code in Process::run (e.g. sim.localhost().process(\"app\").run(|| ...))"
            )
        })
}

/// Runs one Winsock call on the core for the current simulated thread and records it (TH-2:
/// every call is a scheduling point; with one thread per process it runs at once).
///
/// A call that must wait moves virtual time to the next thing that happens by itself (a packet
/// arriving, the call's own deadline) and is made again (TH-3). When nothing can happen any
/// more, the wait could never end: that is a deadlock, reported with the seed (TH-4, TH-6).
pub(crate) fn call(mut call: Call<'_>) -> Result<Reply, WsaError> {
    let ctx = current();
    let mut state = ctx.shared.lock();
    let name = call.name();
    let args = call.to_string();
    let returns = call.returns();
    let mut cx = Cx::new(ctx.pid, ctx.tid);
    let started = state.world.now();
    let result = loop {
        match state.world.dispatch(&mut cx, &mut call) {
            Step::Done(result) => break result,
            Step::Blocked(block) => {
                let wake = match (state.world.next_event(), block.deadline) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let Some(wake) = wake else {
                    let report = state.deadlock_report(ctx.pid, ctx.tid, name, &args, &block);
                    drop(state);
                    panic!("{report}");
                };
                state.world.advance_to(wake);
                state.record_losses();
                cx.resume();
            }
        }
    };
    let shown = match &result {
        Ok(reply) => reply.to_string(),
        Err(e) => returns.failure(*e),
    };
    state.record_call(
        ctx.pid,
        ctx.tid,
        name,
        args,
        shown,
        result.err(),
        cx.rules(),
        started,
    );
    state.record_losses();
    result
}
