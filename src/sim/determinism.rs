use super::Sim;

/// Runs `program` `runs` times on fresh simulations with the same seed and panics, naming the
/// first event that differs, unless every run gives the same trace byte for byte ([TH-2]).
///
/// The seed is `WS2SIM_SEED`'s or 0, as for [`Sim::new`]; the program builds its hosts and
/// processes on the `Sim` it is given.
///
/// ```
/// ws2sim::check_determinism(3, |sim| {
///     let p = sim.localhost().process("app");
///     let h = p.spawn(|| ws2sim::api::last_error());
///     p.run(|| ws2sim::api::set_last_error(5));
///     h.join();
/// });
/// ```
///
/// [TH-2]: crate::rules#th-2
pub fn check_determinism(runs: usize, program: impl Fn(&Sim)) {
    let builder = Sim::builder();
    let mut first: Option<(u64, Vec<String>)> = None;
    for run in 0..runs {
        let sim = builder.clone().build();
        program(&sim);
        let lines: Vec<String> = sim
            .trace()
            .to_json_lines()
            .lines()
            .map(str::to_owned)
            .collect();
        match &first {
            None => first = Some((sim.seed(), lines)),
            Some((seed, expected)) => {
                let n = expected.len().max(lines.len());
                for i in 0..n {
                    let (a, b) = (expected.get(i), lines.get(i));
                    if a != b {
                        panic!(
                            "ws2sim (seed {seed}): run {run} differs from run 0 at event {i}:\n  run 0: {}\n  run {run}: {}",
                            a.map_or("(none)", String::as_str),
                            b.map_or("(none)", String::as_str)
                        );
                    }
                }
            }
        }
    }
}
