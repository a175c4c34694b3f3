//! Running a [`Program`] on a [`Sim`]: its processes are made, its steps are made in order
//! (one at a time, or by concurrent threads), and what each returned is collected.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use super::Harness;
use super::{Op, Order, ProcessSpec, Program, Step};
use crate::sys::program_exec::{Exec, Tables};
use crate::testing::Entries;
use crate::trace::Trace;
use crate::{Host, Process, Sim, SimError};

/// What one step of a run returned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call returned `value` (a `SOCKET` or `int` or `BOOL` or count, widened), and
    /// `WSAGetLastError()` was `error` right after it. `data`: the bytes a receive got, or a
    /// `GetOption` buffer; `out_len`: what `GetOption`'s `optlen` held after the call. A
    /// harness action (exit, kill, network fault, sleep) returns 0 with error 0.
    Returned {
        /// The return value.
        value: i64,
        /// The calling thread's last error after the call.
        error: i32,
        /// Bytes the call wrote for the application.
        data: Vec<u8>,
        /// `optlen` after a `GetOption`.
        out_len: Option<i32>,
    },
    /// The call started and had not returned when the run ended (blocked; the run ended
    /// with a deadlock, or its process was killed under it).
    Blocked,
    /// The step never started: an earlier step of its thread never returned, or its process
    /// had ended.
    NotRun,
    /// The runner did not make the call as written, and why (a length over 1 MiB, a wait on
    /// an operation never started, a process ending itself from its own thread).
    Refused(String),
}

impl Outcome {
    /// The return value, when the call returned.
    pub fn returned(&self) -> Option<i64> {
        match self {
            Outcome::Returned { value, .. } => Some(*value),
            Outcome::Blocked | Outcome::NotRun | Outcome::Refused(_) => None,
        }
    }

    /// The last error after the call, when it returned.
    pub fn error(&self) -> Option<i32> {
        match self {
            Outcome::Returned { error, .. } => Some(*error),
            Outcome::Blocked | Outcome::NotRun | Outcome::Refused(_) => None,
        }
    }
}

/// A finished run of a [`Program`].
#[derive(Debug, Clone)]
pub struct ProgramRun {
    /// The simulation's seed.
    pub seed: u64,
    /// One per step, in the program's order.
    pub outcomes: Vec<Outcome>,
    /// How the run ended: `Ok`, or the deadlock that stopped it (threads still blocked when
    /// nothing else could happen) or the panic of a simulated thread ([TH-7]).
    ///
    /// [TH-7]: crate::rules#th-7
    pub ending: Result<(), SimError>,
    /// The simulation's trace after the run.
    pub trace: Trace,
}

/// What a run's threads share.
struct RunState {
    entries: Option<Entries>,
    procs: Vec<Process>,
    hosts: Vec<Host>,
    addrs: Vec<Ipv4Addr>,
    tables: Mutex<Tables>,
}

impl RunState {
    fn exec(&self, process: usize, step: usize) -> Exec<'_> {
        Exec {
            process,
            step,
            addrs: &self.addrs,
            tables: &self.tables,
            entries: self.entries.as_ref(),
        }
    }

    fn outcome(&self, step: usize) -> Outcome {
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outcomes[step]
            .clone()
    }

    fn set(&self, step: usize, o: Outcome) {
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outcomes[step] = o;
    }

    /// A harness action made from outside `target`'s threads (`from`: the process whose
    /// thread makes it, under [`Order::Concurrent`]); `None` for a Winsock op.
    fn harness(&self, op: &Op, from: Option<usize>, sim: &Sim) -> Option<Outcome> {
        let (target, action) = op.harness()?;
        let p = &self.procs[target];
        match action {
            Harness::Exit | Harness::Kill if from == Some(target) => {
                return Some(Outcome::Refused(
                    "a process cannot end itself from its own thread (ExitProcess never \
                     returns)"
                        .into(),
                ))
            }
            Harness::Exit => p.exit(),
            Harness::Kill => p.kill(),
            Harness::Network { down } => sim.set_network_down(&self.hosts[target], down),
        }
        Some(Outcome::Returned {
            value: 0,
            error: 0,
            data: Vec::new(),
            out_len: None,
        })
    }
}

fn make_state(
    sim: &Sim,
    processes: &[ProcessSpec],
    steps: usize,
    entries: Option<Entries>,
) -> Arc<RunState> {
    let hosts: Vec<Host> = processes
        .iter()
        .map(|p| match p.host.as_str() {
            "localhost" => sim.localhost(),
            other => sim.host(other),
        })
        .collect();
    let procs: Vec<Process> = processes
        .iter()
        .zip(&hosts)
        .map(|(p, host)| host.process(&p.name))
        .collect();
    let n = procs.len();
    Arc::new(RunState {
        entries,
        addrs: hosts.iter().map(Host::addr).collect(),
        procs,
        hosts,
        tables: Mutex::new(Tables {
            slots: vec![Default::default(); n],
            ops: (0..n).map(|_| Default::default()).collect(),
            outcomes: vec![Outcome::NotRun; steps],
            ..Tables::default()
        }),
    })
}

/// Ends `sim` and collects the run.
fn finish(sim: &Sim, state: &RunState, ending: Result<(), SimError>) -> ProgramRun {
    let ended = sim.end();
    let mut tables = state.tables.lock().unwrap_or_else(|e| e.into_inner());
    tables.release();
    ProgramRun {
        seed: sim.seed(),
        outcomes: std::mem::take(&mut tables.outcomes),
        ending: ending.and(ended),
        trace: sim.trace(),
    }
}

impl Program {
    /// `outcomes` (of a run of this program) with every handle a `Socket` or `Accept`
    /// returned replaced by 1 (`INVALID_SOCKET` stays): which values the simulator picks
    /// depends on the order processes make sockets in, so runs under two schedules compare
    /// equal when they agree on everything else.
    ///
    /// ```
    /// use ws2sim::testing::program::{Op, Outcome, Program};
    /// use ws2sim::Sim;
    ///
    /// let mut p = Program::sequential(&[("app", "localhost")]);
    /// p.push(0, Op::Startup { version: 0x0202 });
    /// p.push(0, Op::Socket { slot: 0, af: 2, ty: 1, protocol: 6 });
    /// let run = p.run(&Sim::new());
    /// assert_eq!(p.comparable(&run.outcomes)[1].returned(), Some(1));
    /// ```
    pub fn comparable(&self, outcomes: &[Outcome]) -> Vec<Outcome> {
        self.steps
            .iter()
            .zip(outcomes)
            .map(|(s, o)| match (&s.op, o) {
                (
                    Op::Socket { .. } | Op::Accept { .. },
                    Outcome::Returned {
                        value,
                        error,
                        data,
                        out_len,
                    },
                ) if *value != crate::consts::INVALID_SOCKET as i64 => Outcome::Returned {
                    value: 1,
                    error: *error,
                    data: data.clone(),
                    out_len: *out_len,
                },
                (_, o) => o.clone(),
            })
            .collect()
    }

    /// Runs the program on `sim` and ends the simulation ([`Sim::end`]): no thread outlives
    /// the run, and what the simulation recorded stays readable (its trace, `check_invariants`).
    /// Run it on a fresh simulation: process names must not be taken yet.
    ///
    /// # Panics
    /// When the program does not [validate](Program::validate), when called from inside a
    /// simulated thread, or when the simulator breaks one of its own invariants.
    pub fn run(&self, sim: &Sim) -> ProgramRun {
        self.run_with(sim, None)
    }

    /// [`Program::run`], with every TCP and UDP socket a `Socket` step makes (family
    /// `AF_INET`, protocol 0 or the type's own) made by `WSASocketW` from `entries`' protocol
    /// entry instead of by `socket`: how a program runs through a layered provider
    /// ([`transparency`](crate::testing::transparency) finds the entries).
    ///
    /// # Panics
    /// As [`Program::run`].
    pub fn run_through(&self, sim: &Sim, entries: &Entries) -> ProgramRun {
        self.run_with(sim, Some(entries.clone()))
    }

    fn run_with(&self, sim: &Sim, entries: Option<Entries>) -> ProgramRun {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        match self.order {
            Order::Sequential => {
                let mut stepper = Stepper::with_entries(sim, &self.processes, entries);
                for s in &self.steps {
                    stepper.step(s);
                }
                stepper.finish()
            }
            Order::Concurrent => {
                let state = make_state(sim, &self.processes, self.steps.len(), entries);
                let ending = self.run_concurrent(sim, &state);
                finish(sim, &state, ending)
            }
        }
    }

    fn run_concurrent(&self, sim: &Sim, state: &Arc<RunState>) -> Result<(), SimError> {
        // Each (process, thread) pair's steps, in the program's order; threads in order of
        // their first step.
        let mut threads: Vec<((usize, u8), Vec<usize>)> = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            match threads
                .iter_mut()
                .find(|(k, _)| *k == (s.process, s.thread))
            {
                Some((_, steps)) => steps.push(i),
                None => threads.push(((s.process, s.thread), vec![i])),
            }
        }
        for ((process, _), steps) in threads {
            let p = &state.procs[process];
            if !p.is_running() {
                continue;
            }
            let ops: Vec<(usize, Op)> = steps
                .iter()
                .map(|&i| (i, self.steps[i].op.clone()))
                .collect();
            let state = Arc::clone(state);
            let sim = sim.clone();
            // Dropped unjoined: `Sim::end` ends whatever is still parked.
            drop(p.spawn(move || {
                for (i, op) in ops {
                    if let Some(o) = state.harness(&op, Some(process), &sim) {
                        state.set(i, o);
                        continue;
                    }
                    state.set(i, Outcome::Blocked);
                    let o = state.exec(process, i).winsock(&op);
                    state.set(i, o);
                }
            }));
        }
        sim.try_run()
    }
}

/// A sequential program made one step at a time, each on its process's main thread: what a
/// reference-model test drives ([`Order::Sequential`]'s semantics, step by step).
///
/// ```
/// use ws2sim::testing::program::{Op, Outcome, ProcessSpec, Step, Stepper};
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// let app = ProcessSpec { name: "app".into(), host: "localhost".into() };
/// let mut stepper = Stepper::new(&sim, &[app]);
/// let step = Step { process: 0, thread: 0, op: Op::Cleanup {} };
/// assert_eq!(stepper.step(&step).error(), Some(10093)); // WSANOTINITIALISED
/// assert_eq!(stepper.program().steps, vec![step]);
/// let run = stepper.finish();
/// assert_eq!(run.outcomes.len(), 1);
/// ```
pub struct Stepper {
    sim: Sim,
    state: Arc<RunState>,
    program: Program,
    stopped: Option<SimError>,
}

impl std::fmt::Debug for Stepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stepper")
            .field("seed", &self.sim.seed())
            .field("steps", &self.program.steps.len())
            .field("stopped", &self.stopped)
            .finish()
    }
}

impl Stepper {
    /// Makes `processes` in `sim` (a fresh simulation: the names must not be taken yet).
    pub fn new(sim: &Sim, processes: &[ProcessSpec]) -> Stepper {
        Stepper::with_entries(sim, processes, None)
    }

    fn with_entries(sim: &Sim, processes: &[ProcessSpec], entries: Option<Entries>) -> Stepper {
        Stepper {
            sim: sim.clone(),
            state: make_state(sim, processes, 0, entries),
            program: Program {
                order: Order::Sequential,
                processes: processes.to_vec(),
                steps: Vec::new(),
            },
            stopped: None,
        }
    }

    /// Makes one step and returns its outcome. After a step that deadlocked, every later
    /// step is [`Outcome::NotRun`]. A step naming a process that does not exist, or on a
    /// thread other than 0, is [`Outcome::Refused`].
    pub fn step(&mut self, step: &Step) -> Outcome {
        let i = self.program.steps.len();
        let checked = self.program.check_step(i, step);
        self.program.steps.push(step.clone());
        self.state
            .tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outcomes
            .push(Outcome::NotRun);
        if let Err(e) = checked {
            let o = Outcome::Refused(e.message().to_owned());
            self.state.set(i, o.clone());
            return o;
        }
        if self.stopped.is_none() {
            if let Err(e) = sequential_step(&self.sim, &self.state, i, step) {
                self.stopped = Some(e);
            }
        }
        self.state.outcome(i)
    }

    /// The steps made so far, as a sequential program (to save with [`Program::to_json`]).
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The simulation.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// Process `i` of the program.
    pub fn process(&self, i: usize) -> &Process {
        &self.state.procs[i]
    }

    /// Lets the simulation settle, ends it and returns the run.
    pub fn finish(self) -> ProgramRun {
        let ending = match self.stopped {
            Some(e) => Err(e),
            None => self.sim.try_run(),
        };
        finish(&self.sim, &self.state, ending)
    }
}

/// Step `i` under [`Order::Sequential`]: a harness action from outside, or the call on the
/// process's main thread (nothing, when the process has ended).
fn sequential_step(sim: &Sim, state: &RunState, i: usize, step: &Step) -> Result<(), SimError> {
    let Step { process, op, .. } = step;
    if let Some(o) = state.harness(op, None, sim) {
        state.set(i, o);
        return Ok(());
    }
    let p = &state.procs[*process];
    if !p.is_running() {
        return Ok(()); // NotRun
    }
    state.set(i, Outcome::Blocked);
    // TH-4: a step that blocks with nothing to wake it ends the run.
    let o = p.try_run(|| state.exec(*process, i).winsock(op))?;
    state.set(i, o);
    Ok(())
}
