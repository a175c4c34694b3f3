//! The model as a proptest-state-machine `ReferenceStateMachine` ([`Model`]) and the
//! simulator as its `StateMachineTest` ([`SimTest`]).

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::path::PathBuf;

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};

use super::mix::{model_step, Balanced, Mix};
use super::predict::compare;
use super::ModelState;
use crate::testing::program::{Op, Outcome, ProcessSpec, Program, Step, Stepper};
use crate::testing::quiet::Quiet;
use crate::{Process, Sim};

/// The reference model as a `ReferenceStateMachine`: two or three processes (two on
/// localhost, one on another host), a seed, and steps drawn by `M`'s weights. Each
/// transition is a sequential [`Step`]; the state after it holds the prediction.
#[derive(Debug, Clone, Copy)]
pub struct Model<M: Mix = Balanced>(PhantomData<M>);

fn specs(n: usize) -> Vec<ProcessSpec> {
    (0..n)
        .map(|i| ProcessSpec {
            name: format!("p{i}"),
            host: if i < 2 { "localhost" } else { "other" }.to_owned(),
        })
        .collect()
}

/// The steps every process makes before the generated ones.
fn prelude(n: usize, started: bool) -> Vec<Step> {
    (0..n)
        .filter(|_| started)
        .map(|process| Step {
            process,
            thread: 0,
            op: Op::Startup { version: 0x0202 },
        })
        .collect()
}

impl<M: Mix> ReferenceStateMachine for Model<M> {
    type State = ModelState;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<ModelState> {
        (2usize..=3, any::<u64>())
            .prop_map(|(n, seed)| {
                let mut m = ModelState::new(seed, specs(n));
                for s in prelude(n, M::STARTED) {
                    m.apply(&s);
                }
                m
            })
            .boxed()
    }

    fn transitions(state: &ModelState) -> BoxedStrategy<Step> {
        model_step(state, M::WEIGHTS)
    }

    /// Only steps the model can predict in this state (a receive with data in flight, an
    /// accept with nothing queued, a port used before are not).
    fn preconditions(state: &ModelState, step: &Step) -> bool {
        state.clone().predicts(step)
    }

    fn apply(mut state: ModelState, step: &Step) -> ModelState {
        state.apply(step);
        state
    }
}

/// What [`SimTest`] checks against the model: something that makes [`Step`]s on a
/// simulation and says what each returned. [`Stepper`] (the steps made as an application
/// makes them, through [`crate::sys`]) is the simulator itself; wrap your own code in one to
/// test it against the model: its results must be what SPEC.md says.
pub trait Subject: Sized + 'static {
    /// Starts on a fresh simulation with these processes (make them with
    /// `Host::process`, by name, on their hosts).
    fn start(sim: &Sim, processes: &[ProcessSpec]) -> Self;
    /// Makes one step and returns its outcome (as [`Stepper::step`] would).
    fn step(&mut self, step: &Step) -> Outcome;
    /// The simulation.
    fn sim(&self) -> &Sim;
    /// Process `i` of the program (its startup count, resources and last error are checked
    /// after every step).
    fn process(&self, i: usize) -> &Process;
}

impl Subject for Stepper {
    fn start(sim: &Sim, processes: &[ProcessSpec]) -> Stepper {
        Stepper::new(sim, processes)
    }
    fn step(&mut self, step: &Step) -> Outcome {
        Stepper::step(self, step)
    }
    fn sim(&self) -> &Sim {
        Stepper::sim(self)
    }
    fn process(&self, i: usize) -> &Process {
        Stepper::process(self, i)
    }
}

/// The subject driven step by step, the steps made so far, and the handles it gave out.
#[derive(Debug)]
pub struct SimUnderTest<S = Stepper> {
    /// What makes the steps.
    pub subject: S,
    /// The steps made so far (what a failure saves).
    pub program: Program,
    /// Every handle value a `Socket` returned ([CS-1]: a new one is never among them).
    ///
    /// [CS-1]: crate::rules#cs-1
    pub given: BTreeSet<i64>,
}

/// The simulator (or your [`Subject`]) as the `StateMachineTest` of [`Model`]: every step
/// runs on a fresh simulation of the model's seed and its outcome must be the model's
/// prediction; after every step each process's startup count, live resources and last error
/// must be the model's ([CL-8], [TH-1]); at the end every failure in the trace must name the
/// rule that decided it and [`check_invariants`](crate::testing::check_invariants) must pass.
/// On a failure the program so far is saved as JSON (see [`saved_program_path`]) and the
/// panic says where and how to replay it; proptest then shrinks, and the file ends up
/// holding the shrunk program.
///
/// ```
/// use proptest_state_machine::prop_state_machine;
/// use ws2sim::testing::model::SimTest;
///
/// prop_state_machine! {
///     #![proptest_config(proptest::prelude::ProptestConfig { cases: 8, ..Default::default() })]
///     // In a test file, `#[test]` goes here.
///     fn the_simulator_follows_the_model(sequential 1..30 => SimTest);
/// }
/// the_simulator_follows_the_model();
/// ```
///
/// [CL-8]: crate::rules#cl-8
/// [TH-1]: crate::rules#th-1
#[derive(Debug, Clone, Copy)]
pub struct SimTest<M: Mix = Balanced, S: Subject = Stepper>(PhantomData<(M, S)>);

/// Where a failing [`SimTest`] saves its program: `$WS2SIM_PROGRAM_DIR` (or the system's
/// temporary directory's `ws2sim`), named after the test (libtest names each test's thread
/// after it).
pub fn saved_program_path() -> PathBuf {
    let dir = std::env::var_os("WS2SIM_PROGRAM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("ws2sim"));
    let name: String = std::thread::current()
        .name()
        .unwrap_or("program")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    dir.join(format!("{name}.json"))
}

/// Saves `program` and panics (quietly: proptest reports the shrunk case once) with
/// `what`, where the program is, and how to replay it.
fn fail(program: &Program, seed: u64, what: &str) -> ! {
    let path = saved_program_path();
    let saved = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, program.to_json()));
    let at = match saved {
        Ok(()) => format!("saved to {}", path.display()),
        Err(e) => format!("not saved ({e})"),
    };
    let _quiet = Quiet::set(true);
    panic!(
        "{what}\n  program: {at}\n  replay: ws2sim::testing::model::check_program(\
         &Program::from_json(&std::fs::read_to_string(PATH)?)?, {seed})"
    );
}

impl<M: Mix, S: Subject> StateMachineTest for SimTest<M, S> {
    type SystemUnderTest = SimUnderTest<S>;
    type Reference = Model<M>;

    fn init_test(model: &ModelState) -> SimUnderTest<S> {
        let sim = Sim::builder().seed(model.seed).build();
        let mut sut = SimUnderTest {
            subject: S::start(&sim, &model.specs),
            program: Program {
                order: crate::testing::program::Order::Sequential,
                processes: model.specs.clone(),
                steps: Vec::new(),
            },
            given: BTreeSet::new(),
        };
        for s in prelude(model.specs.len(), M::STARTED) {
            sut.subject.step(&s);
            sut.program.steps.push(s);
        }
        sut
    }

    fn apply(mut sut: SimUnderTest<S>, model: &ModelState, step: Step) -> SimUnderTest<S> {
        let got = sut.subject.step(&step);
        sut.program.steps.push(step.clone());
        let i = sut.program.steps.len() - 1;
        if let Err(m) = compare(i, &step, model, &got, &mut sut.given) {
            fail(&sut.program, model.seed, &m.to_string());
        }
        sut
    }

    fn check_invariants(sut: &SimUnderTest<S>, model: &ModelState) {
        for (i, pm) in model.processes.iter().enumerate() {
            let p = sut.subject.process(i);
            let (count, resources) = (p.startup_count(), p.live_resources());
            let live = model.live_resources(i).unwrap_or(resources);
            // TH-1: one process's calls never change another's last error.
            let last_error = p.run(crate::api::last_error);
            if last_error != pm.last_error {
                let what = format!(
                    "ws2sim model (seed {}): after step {}, process {i}'s last error is \
                     {last_error}; the model says {} (TH-1)",
                    model.seed,
                    model.steps.saturating_sub(1),
                    pm.last_error
                );
                fail(&sut.program, model.seed, &what);
            }
            if count != pm.count || resources != live {
                let what = format!(
                    "ws2sim model (seed {}): after step {}, process {i} has startup count \
                     {count} and {resources} live resources; the model says {} and {live} \
                     (ST-4, CL-2, CL-8)",
                    model.seed,
                    model.steps.saturating_sub(1),
                    pm.count
                );
                fail(&sut.program, model.seed, &what);
            }
        }
    }

    fn teardown(sut: SimUnderTest<S>, model: ModelState) {
        let sim = sut.subject.sim().clone();
        let settled = sim.try_run();
        drop(sut.subject);
        let ended = sim.end();
        if let Err(e) = settled.and(ended) {
            fail(&sut.program, model.seed, &e.to_string());
        }
        if let Err(what) = rules_named(&sim.trace()) {
            fail(&sut.program, model.seed, &what);
        }
        if let Err(v) = crate::testing::check_invariants(&sim) {
            let what: Vec<String> = v.iter().map(ToString::to_string).collect();
            fail(&sut.program, model.seed, &what.join("\n"));
        }
    }
}

/// Every failure in the trace names the rule that decided it: ER-4 for every failing call
/// but WSAStartup, ER-1 or CL-1 for `WSANOTINITIALISED`, ER-2 for `WSAENOTSOCK`.
fn rules_named(trace: &crate::Trace) -> Result<(), String> {
    for e in trace.events() {
        let Some(err) = e.error else { continue };
        let has = |id: &str| e.rules.iter().any(|r| r.id() == id);
        let missing = if has("ER-4") != (e.call != "WSAStartup") {
            Some("ER-4")
        } else if err == crate::WsaError::NotInitialised && !(has("ER-1") || has("CL-1")) {
            Some("ER-1 or CL-1")
        } else if err == crate::WsaError::NotSocket && !has("ER-2") {
            Some("ER-2")
        } else {
            None
        };
        if let Some(rule) = missing {
            return Err(format!("trace event {e} does not name {rule} as it should"));
        }
    }
    Ok(())
}
