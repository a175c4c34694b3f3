//! Differential runs: one test body under two configurations (two profiles, with and without
//! a layered provider, two schedulers), compared by what the application saw.

use std::fmt;

use super::seeds::Seeds;
use crate::trace::{Event, EventKind, Trace};
use crate::{Sim, SimBuilder};

/// The first application-visible difference between two runs of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// The seed both ran with.
    pub seed: u64,
    /// Position among the application's calls (0: the first call either made).
    pub index: usize,
    /// The call as the first configuration saw it (`None`: it made no more calls).
    pub a: Option<String>,
    /// The call as the second configuration saw it.
    pub b: Option<String>,
}

impl fmt::Display for Divergence {
    /// Three lines: where, and each side's call.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |s: &Option<String>| s.clone().unwrap_or_else(|| "(no more calls)".into());
        write!(
            f,
            "ws2sim: seed {}: the runs differ at the application's call {}\n  a: {}\n  b: {}",
            self.seed,
            self.index,
            side(&self.a),
            side(&self.b)
        )
    }
}

/// What the application saw of one call: thread, function, arguments, result and error (not
/// the rules that decided it, nor virtual time; a provider's own calls are left out).
fn seen(e: &Event) -> String {
    let error = e
        .error
        .map_or(String::new(), |err| format!(" {}", err.name()));
    format!(
        "thread {} {}({}) = {}{error}",
        e.thread, e.call, e.args, e.result
    )
}

fn application_calls(t: &Trace) -> Vec<String> {
    t.events()
        .iter()
        .filter(|e| e.kind == EventKind::Call && !e.call.starts_with("WSP"))
        .map(seen)
        .collect()
}

/// The first call at which two traces' application-visible results differ: the function,
/// its arguments, what it returned and its error, per thread, in order. Rules, virtual time,
/// packets and the calls a provider made are not compared.
///
/// ```
/// use ws2sim::testing::first_divergence;
/// use ws2sim::{api, Profile, Sim, Version};
///
/// let run = |profile| {
///     let sim = Sim::builder().profile(profile).build();
///     sim.localhost().process("app").run(|| api::startup(Version::V2_2).unwrap());
///     sim.trace()
/// };
/// let (a, b) = (run(Profile::Documented), run(Profile::Windows));
/// assert_eq!(first_divergence(0, &a, &b), None);
/// ```
pub fn first_divergence(seed: u64, a: &Trace, b: &Trace) -> Option<Divergence> {
    let (a, b) = (application_calls(a), application_calls(b));
    let index = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))?;
    Some(Divergence {
        seed,
        index,
        a: a.get(index).cloned(),
        b: b.get(index).cloned(),
    })
}

/// Runs `test` under both configurations for each seed and returns the first seed whose
/// runs differ in what the application saw ([`first_divergence`]). Tracing must be on in
/// both (it is by default). A panic in `test` is not caught: use it inside a sweep, or let
/// the test fail.
///
/// ```
/// use ws2sim::testing::differential;
/// use ws2sim::{api, consts::*, Profile, Sim, Socket, Version};
///
/// let open_and_close = |sim: &Sim| {
///     sim.localhost().process("app").run(|| {
///         api::startup(Version::V2_2).unwrap();
///         let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///         s.close().unwrap();
///         api::cleanup().unwrap();
///     });
/// };
/// let same = differential(
///     Sim::builder().profile(Profile::Documented),
///     Sim::builder().profile(Profile::Windows),
///     0..5,
///     open_and_close,
/// );
/// assert_eq!(same, Ok(()));
/// ```
///
/// # Errors
/// The first divergence found.
pub fn differential(
    a: SimBuilder,
    b: SimBuilder,
    seeds: impl Into<Seeds>,
    mut test: impl FnMut(&Sim),
) -> Result<(), Divergence> {
    for seed in seeds.into().iter() {
        let run = |builder: &SimBuilder, test: &mut dyn FnMut(&Sim)| {
            let sim = builder.clone().seed(seed).build();
            test(&sim);
            let trace = sim.trace();
            let _ = sim.end();
            trace
        };
        let ta = run(&a, &mut test);
        let tb = run(&b, &mut test);
        if let Some(d) = first_divergence(seed, &ta, &tb) {
            return Err(d);
        }
    }
    Ok(())
}
