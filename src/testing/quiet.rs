//! Quiet panics for sweeps: while a sweep runs a seed, panics on its thread (and on the
//! simulated threads it spawns) print nothing; the sweep reports the failure once, with the
//! panic's message and location, whatever `RUST_BACKTRACE` says.
//!
//! One process-wide panic hook is installed the first time a sweep runs. It passes every
//! panic of a thread that is not quiet to the hook that was there before, so other tests in
//! the same binary print as usual.

use std::cell::{Cell, RefCell};
use std::sync::Once;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

fn install() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let at = info.location().map(|l| l.to_string());
                LAST.with(|l| *l.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

/// True when panics on this thread print nothing.
pub(crate) fn is_quiet() -> bool {
    QUIET.with(Cell::get)
}

/// Makes this thread's panics quiet (or not) until the guard drops.
pub(crate) struct Quiet(bool);

impl Quiet {
    pub(crate) fn set(quiet: bool) -> Quiet {
        if quiet {
            install();
        }
        Quiet(QUIET.with(|q| q.replace(quiet)))
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        QUIET.with(|q| q.set(self.0));
    }
}

/// Where this thread's last quiet panic happened (`src/x.rs:10:5`), once.
pub(crate) fn take_location() -> Option<String> {
    LAST.with(|l| l.borrow_mut().take())
}
