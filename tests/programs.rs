//! `ws2sim::testing::program`: programs as data run on a `Sim`, are saved as JSON and read
//! back, and report what every step returned.

use ws2sim::sys as ws;
use ws2sim::testing::program::{payload_byte, Handle, Op, Order, Outcome, Program};
use ws2sim::{Sim, SimError};

const UDP: Op = Op::Socket {
    slot: 0,
    af: 2,
    ty: ws::SOCK_DGRAM,
    protocol: ws::IPPROTO_UDP,
};
const START: Op = Op::Startup { version: 0x0202 };

fn returned(value: i64, error: i32) -> Outcome {
    Outcome::Returned {
        value,
        error,
        data: Vec::new(),
        out_len: None,
    }
}

fn seeded(seed: u64) -> Sim {
    Sim::builder().seed(seed).build()
}

/// A TCP echo over two processes: the server's thread 1 accepts and echoes, the client's
/// main thread connects, sends 10 bytes, receives them back.
fn echo(order: Order) -> Program {
    let mut p = Program::new(order, &[("server", "a"), ("client", "b")]);
    let tcp = |slot| Op::Socket {
        slot,
        af: 2,
        ty: ws::SOCK_STREAM,
        protocol: ws::IPPROTO_TCP,
    };
    let (l, a, c) = (Handle::Slot(0), Handle::Slot(1), Handle::Slot(0));
    let server = if order == Order::Concurrent { 1 } else { 0 };
    p.push_on(0, server, START)
        .push_on(0, server, tcp(0))
        .push_on(
            0,
            server,
            Op::Bind {
                socket: l,
                port: 80,
            },
        )
        .push_on(
            0,
            server,
            Op::Listen {
                socket: l,
                backlog: 4,
            },
        )
        .push(1, START)
        .push(1, tcp(0))
        .push(
            1,
            Op::Connect {
                socket: c,
                to: 0,
                port: 80,
            },
        )
        .push_on(0, server, Op::Accept { socket: l, slot: 1 })
        .push(1, Op::Send { socket: c, len: 10 })
        .push_on(0, server, Op::Recv { socket: a, len: 64 })
        .push(
            1,
            Op::Shutdown {
                socket: c,
                how: ws::SD_SEND,
            },
        )
        .push_on(0, server, Op::Recv { socket: a, len: 64 });
    p
}

#[test]
fn th_2_a_sequential_program_returns_what_each_call_returned() {
    let run = echo(Order::Sequential).run(&seeded(1));
    assert_eq!(run.ending, Ok(()));
    let sent: Vec<u8> = (0..10).map(|i| payload_byte(8, i)).collect();
    assert_eq!(run.outcomes[2], returned(0, 0)); // bind
    assert_eq!(run.outcomes[6], returned(0, 0)); // connect
    assert!(run.outcomes[7].returned().is_some_and(|s| s > 0)); // accept: a handle
    assert_eq!(run.outcomes[8], returned(10, 0)); // send
    assert_eq!(
        run.outcomes[9],
        Outcome::Returned {
            value: 10,
            error: 0,
            data: sent,
            out_len: None,
        }
    );
    assert_eq!(run.outcomes[11], returned(0, 0)); // recv 0: the client's FIN
    assert_eq!(run.seed, 1);
    assert!(run.trace.events().iter().any(|e| e.call == "accept"));
}

#[test]
fn th_2_a_concurrent_program_interleaves_its_threads_and_every_step_returns() {
    let program = echo(Order::Concurrent);
    let mut schedules = std::collections::BTreeSet::new();
    for seed in 0..16 {
        let run = program.run(&seeded(seed));
        assert_eq!(run.ending, Ok(()), "seed {seed}");
        // The accept waits for the connect, the recv for the send, whatever the schedule.
        assert_eq!(run.outcomes[8], returned(10, 0), "seed {seed}");
        assert_eq!(run.outcomes[9].returned(), Some(10), "seed {seed}");
        assert_eq!(run.outcomes[11].returned(), Some(0), "seed {seed}");
        schedules.insert(
            run.trace
                .events()
                .iter()
                .map(|e| format!("{} {} {}", e.thread, e.call, e.result))
                .collect::<Vec<_>>(),
        );
    }
    assert!(schedules.len() > 1, "the seed changes the interleaving");
}

#[test]
fn th_4_a_step_that_blocks_for_ever_ends_the_run_with_a_deadlock_and_the_rest_does_not_run() {
    let mut p = Program::sequential(&[("app", "localhost")]);
    p.push(0, START)
        .push(0, UDP)
        .push(
            0,
            Op::Bind {
                socket: Handle::Slot(0),
                port: 9,
            },
        )
        .push(
            0,
            Op::Recv {
                socket: Handle::Slot(0),
                len: 4,
            },
        )
        .push(0, Op::Cleanup {});
    let run = p.run(&seeded(5));
    match &run.ending {
        Err(SimError::Deadlock { report, seed: 5 }) => assert!(report.contains("recv")),
        other => panic!("expected a deadlock, got {other:?}"),
    }
    assert_eq!(run.outcomes[3], Outcome::Blocked);
    assert_eq!(run.outcomes[4], Outcome::NotRun);
}

#[test]
fn er_1_steps_before_startup_return_wsanotinitialised_and_the_last_error_is_read_after_each() {
    let mut p = Program::sequential(&[("app", "localhost")]);
    p.push(0, UDP).push(
        0,
        Op::Close {
            socket: Handle::Raw(7),
        },
    );
    let run = p.run(&seeded(0));
    assert_eq!(
        run.outcomes,
        vec![
            returned(ws::INVALID_SOCKET as i64, ws::WSANOTINITIALISED),
            returned(-1, ws::WSANOTINITIALISED),
        ]
    );
}

#[test]
fn ov_2_an_overlapped_receive_completes_once_and_the_wait_returns_its_bytes() {
    let mut p = Program::sequential(&[("app", "localhost")]);
    let s = Handle::Slot(0);
    p.push(0, START)
        .push(0, UDP)
        .push(0, Op::Bind { socket: s, port: 9 })
        .push(
            0,
            Op::RecvOverlapped {
                socket: s,
                id: 3,
                len: 16,
            },
        )
        .push(
            0,
            Op::WaitOverlapped {
                id: 3,
                timeout_ms: 0,
            },
        )
        .push(
            0,
            Op::SendTo {
                socket: s,
                to: 0,
                port: 9,
                len: 6,
            },
        )
        .push(
            0,
            Op::WaitOverlapped {
                id: 3,
                timeout_ms: 1000,
            },
        )
        .push(
            0,
            Op::WaitOverlapped {
                id: 9,
                timeout_ms: 0,
            },
        )
        .push(0, Op::Cleanup {});
    let sim = seeded(2);
    let run = p.run(&sim);
    assert_eq!(run.ending, Ok(()));
    assert_eq!(run.outcomes[3], returned(-1, ws::WSA_IO_PENDING));
    assert_eq!(
        run.outcomes[4].returned(),
        Some(i64::from(ws::WSA_WAIT_TIMEOUT))
    );
    let got: Vec<u8> = (0..6).map(|i| payload_byte(5, i)).collect();
    assert_eq!(
        run.outcomes[6],
        Outcome::Returned {
            value: 6,
            error: ws::WSA_IO_PENDING,
            data: got,
            out_len: None,
        }
    );
    assert!(matches!(&run.outcomes[7], Outcome::Refused(why) if why.contains("operation 9")));
    // Started once, completed once, and the final cleanup left nothing (OV-2, CL-8).
    assert_eq!(ws2sim::testing::check_invariants(&sim), Ok(()));
}

#[test]
fn sp_8_a_kill_step_ends_the_process_and_its_later_steps_do_not_run() {
    let mut p = Program::concurrent(&[("victim", "localhost"), ("killer", "localhost")]);
    p.push(0, START)
        .push(1, Op::Kill { target: 1 }) // itself: refused
        .push(1, Op::Sleep { ms: 5 })
        .push(1, Op::Kill { target: 0 });
    p.push_on(0, 0, Op::Sleep { ms: 10 }).push(0, UDP);
    let run = p.run(&seeded(0));
    assert_eq!(run.ending, Ok(()));
    assert!(matches!(&run.outcomes[1], Outcome::Refused(why) if why.contains("itself")));
    assert_eq!(run.outcomes[3], returned(0, 0));
    // The victim slept through the kill: its sleep never returned, its socket never made.
    assert_eq!(run.outcomes[4], Outcome::Blocked);
    assert_eq!(run.outcomes[5], Outcome::NotRun);
}

#[test]
fn a_program_saved_as_json_reads_back_the_same_for_every_op() {
    let s = Handle::Slot(1);
    let ops = vec![
        START,
        Op::Cleanup {},
        UDP,
        Op::Close {
            socket: Handle::Seen(3),
        },
        Op::Bind {
            socket: Handle::Raw(u64::MAX),
            port: 1,
        },
        Op::Listen {
            socket: s,
            backlog: -1,
        },
        Op::Connect {
            socket: s,
            to: 1,
            port: 2,
        },
        Op::Accept { socket: s, slot: 2 },
        Op::Send { socket: s, len: 3 },
        Op::Recv { socket: s, len: 4 },
        Op::SendTo {
            socket: s,
            to: 0,
            port: 5,
            len: 6,
        },
        Op::Shutdown { socket: s, how: 7 },
        Op::SendDisconnect { socket: s, len: 8 },
        Op::SetLinger {
            socket: s,
            onoff: 1,
            seconds: 9,
        },
        Op::SetNonBlocking {
            socket: s,
            on: true,
        },
        Op::SetOption {
            socket: s,
            level: -1,
            name: 4,
            value: vec![0, 255],
            len: 2,
            null: false,
        },
        Op::GetOption {
            socket: s,
            level: 0xffff,
            name: 8,
            len: None,
            null: true,
        },
        Op::GetOption {
            socket: s,
            level: 0xffff,
            name: 8,
            len: Some(-3),
            null: false,
        },
        Op::RecvOverlapped {
            socket: s,
            id: 1,
            len: 10,
        },
        Op::SendOverlapped {
            socket: s,
            id: 2,
            len: 11,
        },
        Op::WaitOverlapped {
            id: 1,
            timeout_ms: u32::MAX,
        },
        Op::Sleep { ms: 12 },
        Op::Exit { target: 1 },
        Op::Kill { target: 0 },
        Op::NetworkDown {
            target: 1,
            down: true,
        },
    ];
    let mut p = Program::concurrent(&[("a \"quoted\" name", "localhost"), ("b", "h\u{e9}")]);
    for (i, op) in ops.into_iter().enumerate() {
        p.push_on(i % 2, (i % 3) as u8, op);
    }
    let json = p.to_json();
    assert_eq!(Program::from_json(&json), Ok(p.clone()));
    // One step per line: a diff of two saved programs reads step by step.
    assert_eq!(json.lines().count(), p.steps.len() + 4);
}

#[test]
fn a_program_file_with_a_mistake_is_refused_naming_it() {
    let good = echo(Order::Sequential).to_json();
    let cases = [
        (good.replace("\"Bind\"", "\"Bnid\""), "unknown op \"Bnid\""),
        (
            good.replace("\"port\":80", "\"prot\":80"),
            "missing key \"port\"",
        ),
        (good.replace("\"version\":1", "\"version\":2"), "version 2"),
        (
            good.replace("\"backlog\":4", "\"backlog\":4,\"extra\":1"),
            "unknown key \"extra\"",
        ),
        (
            good.replace("\"process\":1", "\"process\":5"),
            "process 5 of 2",
        ),
        (
            good.replace("\"port\":80", "\"port\":70000"),
            "out of range",
        ),
        (
            good.replace("\"thread\":0", "\"thread\":1"),
            "thread 1 in a sequential program",
        ),
        ("{".to_owned(), "expected a key at column 2"),
    ];
    for (text, want) in cases {
        let e = Program::from_json(&text).expect_err(want);
        assert!(e.message().contains(want), "{e} does not say {want:?}");
    }
}

#[test]
#[should_panic(expected = "a program needs at least one process")]
fn a_program_without_processes_does_not_run() {
    Program::sequential(&[]).run(&Sim::new());
}

#[test]
fn a_step_asking_for_more_than_a_mebibyte_is_refused_not_allocated() {
    let mut p = Program::sequential(&[("app", "localhost")]);
    p.push(0, START).push(
        0,
        Op::Recv {
            socket: Handle::Slot(0),
            len: u32::MAX,
        },
    );
    let run = p.run(&Sim::new());
    assert!(matches!(&run.outcomes[1], Outcome::Refused(why) if why.contains("4294967295")));
}

mod generated {
    use proptest::prelude::*;
    use ws2sim::testing::check_invariants;
    use ws2sim::testing::program::Program;
    use ws2sim::testing::strategy::{program, ProgramConfig};
    use ws2sim::Sim;

    /// `p` runs on a simulation of `seed` to the end, reports every step, and leaves
    /// `check_invariants` with nothing to say.
    fn ends_keeping_the_invariants(p: &Program, seed: u64) -> Result<(), TestCaseError> {
        let sim = Sim::builder().seed(seed).build();
        let run = p.run(&sim);
        prop_assert_eq!(run.outcomes.len(), p.steps.len());
        prop_assert_eq!(check_invariants(&sim), Ok(()));
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// Whatever a hostile program does (garbage arguments, made-up handles, NULLs, long
        /// buffers, kills and network faults), its run ends, reports every step, and keeps
        /// the invariants: OV-2's books balance, nothing survives a final cleanup (CL-8),
        /// handles never alias (CS-1).
        #[test]
        fn ov_2_cl_8_hostile_programs_end_and_keep_the_invariants(
            p in program(ProgramConfig::hostile()),
            seed in any::<u64>(),
        ) {
            ends_keeping_the_invariants(&p, seed)?;
        }

        /// The same for concurrent hostile programs: three threads per process, kills, exits
        /// and faults made from other processes' threads.
        #[test]
        fn ov_2_cl_8_concurrent_hostile_programs_end_and_keep_the_invariants(
            p in program(ProgramConfig {
                hostile: true,
                endings: true,
                processes: 1..=3,
                ..ProgramConfig::concurrent(3)
            }),
            seed in any::<u64>(),
        ) {
            ends_keeping_the_invariants(&p, seed)?;
        }

        /// A generated program saved as JSON reads back as the same program.
        #[test]
        fn generated_programs_round_trip_through_json(p in program(ProgramConfig::hostile())) {
            prop_assert_eq!(Program::from_json(&p.to_json()), Ok(p));
        }

        /// TH-2: a concurrent program replays exactly: the same seed gives the same outcomes
        /// and the same trace, byte for byte.
        #[test]
        fn th_2_concurrent_programs_replay_exactly(
            p in program(ProgramConfig::concurrent(3)),
            seed in any::<u64>(),
        ) {
            let a = p.run(&Sim::builder().seed(seed).build());
            let b = p.run(&Sim::builder().seed(seed).build());
            prop_assert_eq!(&a.outcomes, &b.outcomes);
            prop_assert_eq!(a.trace.to_json_lines(), b.trace.to_json_lines());
        }
    }
}

/// SD-3, SD-9: the disconnect-data provider carries data with the close; the peer reads 0,
/// then gets the data from WSARecvDisconnect (WSAEFAULT when its buffer is too small), and
/// the reference model says so step by step.
#[test]
fn sd_3_disconnect_data_travels_with_the_close_as_the_model_says() {
    use ws2sim::testing::model::{check_program, Expected, ModelState};
    let dd = |slot| Op::Socket {
        slot,
        af: 2,
        ty: ws::SOCK_STREAM,
        protocol: ws::IPPROTO_WS2SIM_DISCONNECT_DATA,
    };
    let (l, a, c) = (Handle::Slot(0), Handle::Slot(1), Handle::Slot(0));
    let mut p = Program::sequential(&[("server", "a"), ("client", "b")]);
    p.push(0, START)
        .push(1, START)
        .push(0, dd(0))
        .push(0, Op::Bind { socket: l, port: 7 })
        .push(
            0,
            Op::Listen {
                socket: l,
                backlog: 1,
            },
        )
        .push(1, dd(0))
        .push(
            1,
            Op::Connect {
                socket: c,
                to: 0,
                port: 7,
            },
        )
        .push(0, Op::Accept { socket: l, slot: 1 })
        .push(1, Op::SendDisconnect { socket: c, len: 3 })
        .push(0, Op::Sleep { ms: 20 })
        .push(0, Op::Recv { socket: a, len: 16 })
        .push(0, Op::RecvDisconnect { socket: a, len: 2 })
        .push(0, Op::RecvDisconnect { socket: a, len: 8 });
    assert_eq!(check_program(&p, 3), Ok(()));
    let run = p.run(&seeded(3));
    assert_eq!(run.outcomes[10], returned(0, 0));
    assert_eq!(
        run.outcomes[11],
        Outcome::Returned {
            value: -1,
            error: ws::WSAEFAULT,
            data: vec![],
            out_len: Some(2)
        }
    );
    let sent: Vec<u8> = (0..3).map(|i| payload_byte(8, i)).collect();
    assert_eq!(
        run.outcomes[12],
        Outcome::Returned {
            value: 0,
            error: ws::WSAEFAULT,
            data: sent.clone(),
            out_len: Some(3)
        }
    );
    // The model predicted those bytes itself.
    let mut m = ModelState::new(3, p.processes.clone());
    for s in &p.steps {
        m.apply(s);
    }
    assert!(
        matches!(m.expected, Some(Expected::Exactly(Outcome::Returned { ref data, .. })) if *data == sent)
    );
}
