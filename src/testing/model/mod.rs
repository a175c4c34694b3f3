//! The reference model: what SPEC.md says a sequential Winsock program returns, step by
//! step, written independently of the simulator so each can check the other.
//!
//! [`ModelState`] holds what the rules need: per process the startup count ([ST-4],
//! [CL-2]), the main thread's last error ([TH-1]), its sockets by slot; per socket its type,
//! liveness and linger options ([CS-8]); every handle any process was given ([CS-1]).
//! [`ModelState::apply`] takes one [`Step`] and predicts its [`Outcome`] ([`Expected`]).
//! [`check_program`] runs a saved program through the model and the simulator side by side
//! and reports the first step where they disagree.
//!
//! With the `proptest` feature, `Model` is the model as a proptest-state-machine
//! `ReferenceStateMachine` (it generates the steps and shrinks them) and `SimTest` the
//! simulator as its `StateMachineTest`: a failing case is shrunk, and the shrunk program is
//! saved as JSON for [`check_program`] to replay.
//!
//! The model covers the calls and options below (the ones whose results SPEC.md fixes
//! whatever the schedule); it does not model connections, data, overlapped operations or
//! process endings: programs with those run ([`Program::run`](crate::testing::program::Program::run)) and are checked by
//! invariants ([`check_invariants`](crate::testing::check_invariants)), differential runs
//! and tests of their own.
//!
//! | op | rules |
//! |---|---|
//! | `Startup` | ST-1 (negotiation), ST-4 (count), the last error untouched |
//! | `Cleanup` | CL-1, CL-2, CL-3, CL-6/CL-8 (the final one closes every socket) |
//! | `Socket` | ER-1, SP-11 (catalog match), ER-4, CS-1 (a fresh handle) |
//! | `Close` | ER-1, ER-2 (stale, foreign, made-up handles), CS-1 |
//! | `GetOption`, `SetOption`, `SetLinger` (`SOL_SOCKET`: `SO_TYPE`, `SO_LINGER`, `SO_DONTLINGER`, unknown names, unknown levels) | ER-3, CS-8 |
//!
//! [ST-4]: crate::rules#st-4
//! [CL-2]: crate::rules#cl-2
//! [TH-1]: crate::rules#th-1
//! [CS-8]: crate::rules#cs-8
//! [CS-1]: crate::rules#cs-1

#[cfg(feature = "proptest")]
mod mix;
mod predict;
#[cfg(feature = "proptest")]
mod state_machine;

use std::collections::BTreeMap;

#[cfg(feature = "proptest")]
pub use mix::{Balanced, CleanupHeavy, Mix, OptionHeavy, Weights};
pub use predict::{check_program, Mismatch};
#[cfg(feature = "proptest")]
pub use state_machine::{saved_program_path, Model, SimTest, SimUnderTest, Subject};

use super::program::{Handle, Outcome, ProcessSpec, Step};

/// What the model predicts a step returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this outcome.
    Exactly(Outcome),
    /// A handle never given out before in the simulation ([CS-1]), with the last error
    /// `error` after the call: the model cannot know which value the simulator picks.
    ///
    /// [CS-1]: crate::rules#cs-1
    NewHandle {
        /// The last error after the call.
        error: i32,
    },
}

/// One socket the model knows, by the order it was made in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketModel {
    /// The process that owns it.
    pub process: usize,
    /// `SO_TYPE`.
    pub ty: i32,
    /// Open (not closed, not taken by a final cleanup).
    pub live: bool,
    /// `l_onoff` as last set ([CS-8]).
    ///
    /// [CS-8]: crate::rules#cs-8
    pub onoff: u16,
    /// `l_linger` as last set.
    pub seconds: u16,
}

/// One process as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessModel {
    /// The startup count ([ST-4], [CL-2]).
    ///
    /// [ST-4]: crate::rules#st-4
    /// [CL-2]: crate::rules#cl-2
    pub count: u32,
    /// The main thread's last error ([TH-1]).
    ///
    /// [TH-1]: crate::rules#th-1
    pub last_error: i32,
    /// Slot → socket (by index into [`ModelState::sockets`]); `None`: the slot holds
    /// `INVALID_SOCKET` (a `Socket` that failed).
    pub slots: BTreeMap<u8, Option<usize>>,
}

/// The model's state: processes, sockets, and the prediction for the last step applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelState {
    /// The simulation's seed (sequential programs rarely depend on it; replays use it).
    pub seed: u64,
    /// The processes, as the program lists them.
    pub specs: Vec<ProcessSpec>,
    /// Each process's state.
    pub processes: Vec<ProcessModel>,
    /// Every socket ever made, in order.
    pub sockets: Vec<SocketModel>,
    /// The sockets in the order their handles were given out (what [`Handle::Seen`] indexes).
    pub seen: Vec<usize>,
    /// The prediction for the last step applied.
    pub expected: Option<Expected>,
    /// Steps applied so far.
    pub steps: usize,
}

/// What a [`Handle`] names, in the model's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// A socket the model knows.
    Socket(usize),
    /// No handle any process was given (0, `INVALID_SOCKET`, a made-up value).
    Nothing,
}

impl ModelState {
    /// A fresh state for `specs` (no process has started Winsock).
    pub fn new(seed: u64, specs: Vec<ProcessSpec>) -> ModelState {
        ModelState {
            seed,
            processes: vec![ProcessModel::default(); specs.len()],
            specs,
            sockets: Vec::new(),
            seen: Vec::new(),
            expected: None,
            steps: 0,
        }
    }

    fn named(&self, process: usize, h: Handle) -> Named {
        match h {
            Handle::Slot(s) => match self.processes[process].slots.get(&s) {
                Some(Some(id)) => Named::Socket(*id),
                Some(None) | None => Named::Nothing,
            },
            Handle::Seen(_) if self.seen.is_empty() => Named::Nothing,
            Handle::Seen(i) => Named::Socket(self.seen[usize::from(i) % self.seen.len()]),
            Handle::Raw(_) => Named::Nothing,
        }
    }

    /// The socket `h` names if it is live in `process` (ER-2: a handle of another process,
    /// closed, or from before a final cleanup is not a socket there).
    fn live(&self, process: usize, h: Handle) -> Option<usize> {
        match self.named(process, h) {
            Named::Socket(id) if self.sockets[id].live && self.sockets[id].process == process => {
                Some(id)
            }
            Named::Socket(_) | Named::Nothing => None,
        }
    }

    /// Applies `step`, storing the prediction in [`ModelState::expected`] (`None`: the model
    /// does not cover the op, or the step names no process of the program).
    pub fn apply(&mut self, step: &Step) {
        self.expected = predict::predict(self, step);
        self.steps += 1;
    }
}
