//! `ws2sim run` and `ws2sim sweep`: a saved program (`ws2sim::testing::program`, JSON) run
//! under one seed, or under many until one fails.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use ws2sim::testing::program::{Outcome, Program, ProgramRun};
use ws2sim::testing::{check_invariants, Seeds};
use ws2sim::{Profile, Sim};

/// The behaviour profile, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// The seeds and Microsoft's documentation, taken literally (the default).
    Documented,
    /// What Windows 7 and later were observed to do.
    Windows,
}

impl ProfileArg {
    fn profile(self) -> Profile {
        match self {
            ProfileArg::Documented => Profile::Documented,
            ProfileArg::Windows => Profile::Windows,
        }
    }

    fn flag(self) -> &'static str {
        match self {
            ProfileArg::Documented => "",
            ProfileArg::Windows => " --profile windows",
        }
    }
}

fn load(path: &str) -> Result<Program, String> {
    Program::from_json(&super::read_text(path)?).map_err(|e| format!("{path}: {e}"))
}

/// Runs `program` under `seed`: the run, and why it failed (its ending, then the
/// invariants), if it did.
fn run_seed(program: &Program, seed: u64, profile: ProfileArg) -> (ProgramRun, Vec<String>) {
    let sim = Sim::builder().seed(seed).profile(profile.profile()).build();
    let run = program.run(&sim);
    let mut failures = Vec::new();
    if let Err(e) = &run.ending {
        failures.push(e.to_string());
    }
    if let Err(v) = check_invariants(&sim) {
        failures.extend(v.iter().map(ToString::to_string));
    }
    (run, failures)
}

fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Returned {
            value,
            error,
            data,
            out_len,
        } => {
            let mut s = format!("= {value}");
            if *error != 0 {
                let name = ws2sim::WsaError::from_code(*error)
                    .map_or(String::new(), |e| format!(" {}", e.name()));
                let _ = write!(s, " (last error {error}{name})");
            }
            if !data.is_empty() {
                let _ = write!(s, " [{} bytes]", data.len());
            }
            if let Some(l) = out_len {
                let _ = write!(s, " optlen {l}");
            }
            s
        }
        Outcome::Blocked => "blocked (never returned)".into(),
        Outcome::NotRun => "not run".into(),
        Outcome::Refused(why) => format!("refused: {why}"),
    }
}

/// `ws2sim run`: every step with its outcome, how the run ended, and the invariants.
pub fn run(
    file: &str,
    seed: u64,
    profile: ProfileArg,
    trace: Option<&str>,
) -> Result<ExitCode, String> {
    let program = load(file)?;
    let (run, failures) = run_seed(&program, seed, profile);
    for (i, (s, o)) in program.steps.iter().zip(&run.outcomes).enumerate() {
        println!(
            "{i:>4}  {}/{}  {:?}  {}",
            program.processes[s.process].name,
            s.thread,
            s.op,
            outcome_text(o)
        );
    }
    if let Some(path) = trace {
        std::fs::write(path, run.trace.to_json_lines()).map_err(|e| format!("{path}: {e}"))?;
    }
    if failures.is_empty() {
        println!("ok: seed {seed}, {} steps", program.steps.len());
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failures {
            println!("FAILED: {f}");
        }
        Ok(ExitCode::from(1))
    }
}

/// A hash of the run's events (not its header, which names the seed).
fn schedule_hash(run: &ProgramRun) -> u64 {
    use std::hash::{Hash, Hasher};
    let text = run.trace.to_json_lines();
    let events = text.split_once('\n').map_or("", |(_, e)| e);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    events.hash(&mut h);
    h.finish()
}

/// `ws2sim sweep`: each seed in turn until one fails; with `same_outcomes`, a seed whose
/// outcomes differ from the first seed's fails too (the program's results depend on the
/// schedule; handle values aside, `Program::comparable`).
pub fn sweep(
    file: &str,
    seeds: &str,
    profile: ProfileArg,
    same_outcomes: bool,
) -> Result<ExitCode, String> {
    let program = load(file)?;
    let seeds: Seeds = seeds.parse().map_err(|e| format!("{e}"))?;
    let bar = ProgressBar::new(seeds.len());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds, {per_sec}, eta {eta} {msg}")
            .map_err(|e| e.to_string())?,
    );
    let mut first: Option<(u64, Vec<Outcome>)> = None;
    let mut schedules = std::collections::BTreeSet::new();
    for seed in seeds.iter() {
        let (run, mut failures) = run_seed(&program, seed, profile);
        schedules.insert(schedule_hash(&run));
        let outcomes = program.comparable(&run.outcomes);
        match &first {
            None => first = Some((seed, outcomes)),
            Some((s0, o0)) if same_outcomes && *o0 != outcomes => {
                let i = o0.iter().zip(&outcomes).position(|(a, b)| a != b);
                failures.push(format!(
                    "the outcomes differ from seed {s0}'s at step {}",
                    i.map_or("?".into(), |i| i.to_string())
                ));
            }
            Some(_) => {}
        }
        bar.inc(1);
        if !failures.is_empty() {
            bar.abandon();
            println!(
                "seed {seed} failed ({} passed before it):",
                seed - seeds.start()
            );
            for f in &failures {
                println!("  {f}");
            }
            println!("replay: ws2sim run {file} --seed {seed}{}", profile.flag());
            return Ok(ExitCode::from(1));
        }
    }
    bar.finish_and_clear();
    println!(
        "ok: seeds {seeds} passed ({} distinct schedule{})",
        schedules.len(),
        if schedules.len() == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}
