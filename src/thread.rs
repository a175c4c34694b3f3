//! Simulated threads: spawn them from inside a simulated thread, find out which one runs, queue
//! APCs to them and let them sleep in virtual time.
//!
//! Each simulated thread runs on an OS thread of its own, but only one at a time: every
//! Winsock call is a scheduling point where the simulation's seeded scheduler picks who runs
//! next ([TH-2]), so the same seed gives the same interleaving and the same trace.
//!
//! ```
//! use ws2sim::{api, thread, Sim, Version};
//! let sim = Sim::builder().seed(3).build();
//! let p = sim.localhost().process("app");
//! let total = p.run(|| {
//!     api::startup(Version::V2_2).unwrap();
//!     let workers: Vec<_> = (0..4).map(|i| thread::spawn(move || i * 10)).collect();
//!     workers.into_iter().map(|w| w.join()).sum::<i32>()
//! });
//! assert_eq!(total, 60);
//! ```
//!
//! [TH-2]: crate::rules#th-2

use std::time::Duration;

pub use crate::core::ThreadId;
pub use crate::sim::handle::ThreadHandle;
use crate::sim::{handle, thread};

/// Starts a simulated thread in the calling thread's process.
///
/// # Panics
/// Outside a simulated thread (use [`Process::spawn`](crate::Process::spawn) there).
pub fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ThreadHandle<T> {
    let ctx = thread::current();
    handle::spawn(&ctx.shared, ctx.pid, f)
        .unwrap_or_else(|msg| panic!("ws2sim (seed {}): {msg}", ctx.shared.seed()))
}

/// The calling simulated thread's id.
///
/// # Panics
/// Outside a simulated thread.
pub fn current() -> ThreadId {
    thread::current().tid
}

/// Queues an APC to `thread` of the calling thread's simulation (as `QueueUserAPC` does): it
/// runs on that thread during its next alertable wait.
///
/// # Panics
/// Outside a simulated thread (use [`ThreadHandle::queue_apc`] there).
pub fn queue_apc(thread: ThreadId, f: impl FnOnce() + Send + 'static) {
    let ctx = thread::current();
    let apc = crate::sim::sched::Apc {
        winsock: None,
        run: Box::new(f),
    };
    handle::queue_apc(&ctx.shared, thread, apc);
}

/// `Sleep`: waits `d` of virtual time (other threads run meanwhile).
pub fn sleep(d: Duration) {
    thread::sleep_ex(Some(d), false);
}

/// Runs `f` as if it were a DLL's `DllMain`: the loader lock is held, and calling
/// `WSAStartup` or `WSACleanup` there is reported as a [CL-12] diagnostic
/// ([`Sim::diagnostics`](crate::Sim::diagnostics)) instead of risking a deadlock.
///
/// [CL-12]: crate::rules#cl-12
pub fn dllmain<T>(f: impl FnOnce() -> T) -> T {
    thread::in_dllmain(f)
}
