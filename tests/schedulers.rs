//! The schedulers (issue 15 item 3): the seeded random choice and PCT. A seed and a scheduler
//! replay one schedule (TH-2); PCT with depth 1 never preempts a thread that can run; deeper
//! PCT runs interleave; the trace header and a sweep's failure report name the scheduler.

use ws2sim::testing::try_sweep_with;
use ws2sim::{api, Scheduler, Sim, Trace};

/// Two workers of one process, three calls each: the threads of the calls, in trace order.
fn two_workers(sim: &Sim) -> Vec<u32> {
    let p = sim.localhost().process("app");
    let worker = || {
        for _ in 0..3 {
            api::last_error();
        }
    };
    let (a, b) = (p.spawn(worker), p.spawn(worker));
    a.join();
    b.join();
    sim.trace().events().iter().map(|e| e.thread).collect()
}

/// How many times the trace moves from one thread to another.
fn switches(threads: &[u32]) -> usize {
    threads.windows(2).filter(|w| w[0] != w[1]).count()
}

fn run(seed: u64, scheduler: Scheduler) -> (Vec<u32>, Trace) {
    let sim = Sim::builder().seed(seed).scheduler(scheduler).build();
    let threads = two_workers(&sim);
    (threads, sim.trace())
}

#[test]
fn th_2_pct_replays_the_same_schedule_for_the_same_seed() {
    for seed in 0..10 {
        let (a, ta) = run(seed, Scheduler::pct(3));
        let (b, tb) = run(seed, Scheduler::pct(3));
        assert_eq!(a, b);
        assert_eq!(ta.to_json_lines(), tb.to_json_lines());
        assert_eq!(ta.header().scheduler, "pct(depth=3, steps=1000)");
        assert_eq!(Trace::from_json_lines(&ta.to_json_lines()).unwrap(), ta);
    }
}

#[test]
fn pct_depth_1_never_preempts_where_random_does() {
    let mut random_interleaved = 0;
    for seed in 0..20 {
        let (pct, _) = run(seed, Scheduler::pct(1));
        assert_eq!(pct.len(), 6, "{pct:?}");
        assert_eq!(switches(&pct), 1, "seed {seed}: {pct:?}");
        let (random, _) = run(seed, Scheduler::Random);
        if switches(&random) > 1 {
            random_interleaved += 1;
        }
    }
    assert!(
        random_interleaved > 0,
        "the random scheduler interleaves some seeds"
    );
}

#[test]
fn pct_with_more_depth_explores_several_schedules() {
    let distinct = |scheduler| {
        try_sweep_with(Sim::builder().scheduler(scheduler), 0..40, |sim| {
            two_workers(sim);
        })
        .unwrap()
        .distinct_schedules
        .unwrap()
    };
    // Depth 1: which thread starts is the only choice.
    assert_eq!(distinct(Scheduler::pct(1)), 2);
    // Change points spread over about as many steps as the test makes (12 calls).
    let deep = Scheduler::Pct {
        depth: 3,
        steps: 12,
    };
    assert!(distinct(deep) > 2);
    // Spread over 1,000 steps, they almost never fall inside so short a test.
    assert!(distinct(Scheduler::pct(3)) <= distinct(deep));
    assert!(distinct(Scheduler::Random) > 2);
}

#[test]
fn a_sweep_failure_names_its_scheduler() {
    let failure = try_sweep_with(Sim::builder().scheduler(Scheduler::pct(2)), 0..10, |sim| {
        assert_ne!(sim.seed(), 3);
    })
    .unwrap_err();
    assert_eq!(failure.scheduler, Scheduler::pct(2));
    assert!(
        failure
            .to_string()
            .starts_with("ws2sim: seed 3 failed (scheduler pct(depth=2, steps=1000); seeds 0..10"),
        "{failure}"
    );
}

#[test]
fn pct_depth_is_at_least_1() {
    assert_eq!(Scheduler::pct(0), Scheduler::pct(1));
    assert_eq!(Scheduler::pct(0).to_string(), "pct(depth=1, steps=1000)");
    // A hand-made zero depth and zero steps still schedule.
    let odd = Scheduler::Pct { depth: 0, steps: 0 };
    let (threads, _) = run(1, odd);
    assert_eq!(threads.len(), 6);
}
