//! The `ws2sim` binary, run as a user runs it.

use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::process::{Command, Output};

use ws2sim::consts::*;
use ws2sim::testing::program::{Handle, Op, Program};
use ws2sim::{api, Sim, Socket, Trace, Version};

fn ws2sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(args)
        .output()
        .expect("the ws2sim binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A client on `localhost` sends `msg` to a server on host `server`, which accepts and reads
/// in a thread of its own; both close.
fn two_hosts(seed: u64, msg: &'static [u8]) -> Trace {
    let sim = Sim::builder().seed(seed).build();
    let server_host = sim.host("server");
    let server = server_host.process("server");
    let client = sim.localhost().process("client");
    let addr = SocketAddrV4::new(server_host.addr(), 8080);
    let listener = server.run(|| {
        api::startup(Version::V2_2).unwrap();
        let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        l.bind(addr).unwrap();
        l.listen(1).unwrap();
        l
    });
    let accepted = server.spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 16];
        let n = conn.recv(&mut buf).unwrap();
        conn.close().unwrap();
        n
    });
    client.run(|| {
        api::startup(Version::V2_2).unwrap();
        let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        s.connect(addr).unwrap();
        s.send(msg).unwrap();
        s.close().unwrap();
        api::cleanup().unwrap();
    });
    accepted.join();
    sim.run();
    sim.trace()
}

/// Two threads of one process each open and close sockets: the seeded scheduler decides
/// how their calls interleave.
fn race(seed: u64) -> Trace {
    let sim = Sim::builder().seed(seed).build();
    let p = sim.localhost().process("app");
    p.run(|| api::startup(Version::V2_2).unwrap());
    let work = || {
        for _ in 0..3 {
            let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
            s.close().unwrap();
        }
    };
    let (a, b) = (p.spawn(work), p.spawn(work));
    a.join();
    b.join();
    sim.trace()
}

/// A file of the test's own, holding `text`.
fn text_file(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ws2sim-cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes `trace` as JSON lines to a file of the test's own.
fn file(name: &str, trace: &Trace) -> PathBuf {
    text_file(name, &trace.to_json_lines())
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

#[test]
fn rules_lists_every_rule_once() {
    let o = ws2sim(&["rules"]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert_eq!(out.lines().count(), ws2sim::Rule::ALL.len(), "{out}");
    for r in ws2sim::Rule::ALL {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().next() == Some(r.id())),
            "{} missing:\n{out}",
            r.id()
        );
    }
}

#[test]
fn explain_prints_the_rule_its_sources_and_where_it_is_implemented_and_tested() {
    let o = ws2sim(&["explain", "cl-5"]);
    assert!(o.status.success(), "{o:?}");
    let r = ws2sim::Rule::from_id("CL-5").expect("CL-5 exists");
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!(
            "CL-5: {}\n\n{}\n\nSources: seed\n",
            r.summary(),
            r.text()
        )),
        "{out}"
    );
    if out.contains("not known to this build") {
        return; // Built from the published package, without the library's sources.
    }
    // The function tagging CL-5, and tests named after it in src/ and tests/.
    let section = |title: &str| -> Vec<String> {
        out.split(&format!("\n{title}"))
            .nth(1)
            .unwrap_or_else(|| panic!("no {title}: {out}"))
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .map(str::to_owned)
            .collect()
    };
    let implemented = section("Implemented in");
    assert!(
        implemented
            .iter()
            .any(|l| l.starts_with("  src/core/providers/cleanup.rs:")),
        "{out}"
    );
    let tested = section("Tested by");
    assert!(
        tested
            .iter()
            .any(|l| l.starts_with("  tests/overlapped.rs:") && l.contains("  cl_5_")),
        "{out}"
    );
    assert!(
        tested.iter().any(|l| l.starts_with("  src/")),
        "core tests too: {out}"
    );
    for l in implemented.iter().chain(&tested) {
        let (loc, _) = l.trim().split_once("  ").expect("file:line  function");
        let (f, line) = loc.rsplit_once(':').unwrap();
        let text = std::fs::read_to_string(format!("{}/../../{f}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        let n: usize = line.parse().unwrap();
        assert!(n <= text.lines().count(), "{l}");
    }
    // A rule only doc comments name.
    let out = stdout(&ws2sim(&["explain", "OV-4"]));
    assert!(out.contains("\nDocumented at"), "{out}");
    assert!(out.contains("  apply_completions\n"), "{out}");
}

#[test]
fn explain_rejects_unknown_ids() {
    let o = ws2sim(&["explain", "XX-99"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(stderr(&o).contains("no rule \"XX-99\""));
}

#[test]
fn catalog_lists_the_built_in_providers() {
    let o = ws2sim(&["catalog"]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(out.lines().count() >= 3, "{out}");
    assert!(out.contains("type=1") && out.contains("type=2"), "{out}");

    let o = ws2sim(&["catalog", "--json"]);
    assert!(o.status.success(), "{o:?}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("a JSON array");
    let entries = v.as_array().unwrap();
    assert_eq!(entries.len(), out.lines().count());
    for (e, line) in entries.iter().zip(out.lines()) {
        let id = e["catalog_entry_id"].as_u64().unwrap();
        assert!(line.trim_start().starts_with(&id.to_string()), "{line}");
        assert!(line.contains(e["name"].as_str().unwrap()), "{line}");
        assert!(
            line.contains(&format!("type={}", e["socket_type"])),
            "{line}"
        );
        assert!(e["provider_id"].as_str().unwrap().starts_with('{'));
        assert!(e["chain"].is_array());
    }
    assert!(
        entries.iter().any(|e| e["protocol"] == 6) && entries.iter().any(|e| e["protocol"] == 17)
    );
}

#[test]
fn trace_reads_a_trace_file_as_text_json_and_mermaid() {
    let trace = two_hosts(3, b"hello");
    let f = file("two_hosts_3.jsonl", &trace);

    let o = ws2sim(&["trace", "json", path(&f)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        trace.to_json_lines(),
        "written again byte for byte"
    );

    let o = ws2sim(&["trace", "text", path(&f)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(text, format!("# {}\n{trace}", trace.header()));
    assert!(text.starts_with(
        "# seed 3, profile Documented, scheduler random, hosts localhost (10.0.0.1), server (10.0.0.2)\n"
    ));
    assert!(
        text.contains(" DATA 5 bytes 10.0.0.1:49152 -> server 10.0.0.2:8080 "),
        "{text}"
    );

    let o = ws2sim(&["trace", "mermaid", path(&f)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = stdout(&o);
    assert_eq!(m, trace.to_mermaid());
    assert!(
        m.contains("    H0->>H1: DATA 5 bytes :49152 → :8080"),
        "{m}"
    );
    mermaid_parses(&m);
}

/// With `WS2SIM_MMDC` naming mermaid's CLI (`mmdc`; a Puppeteer config may follow in
/// `WS2SIM_MMDC_PUPPETEER`), the diagram must render; without it, nothing is checked here.
fn mermaid_parses(m: &str) {
    let Some(mmdc) = std::env::var_os("WS2SIM_MMDC") else {
        eprintln!("WS2SIM_MMDC not set: the Mermaid output is not rendered");
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ws2sim-cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("diagram.mmd");
    std::fs::write(&input, m).unwrap();
    let mut cmd = Command::new(mmdc);
    cmd.arg("-i")
        .arg(&input)
        .arg("-o")
        .arg(dir.join("diagram.svg"));
    if let Some(p) = std::env::var_os("WS2SIM_MMDC_PUPPETEER") {
        cmd.arg("-p").arg(p);
    }
    let o = cmd.output().expect("mmdc runs");
    assert!(o.status.success(), "mmdc: {}\n{m}", stderr(&o));
}

#[test]
fn trace_diff_finds_the_first_divergence_of_two_seeds() {
    let base = race(0);
    let a = file("diff_a.jsonl", &base);
    // The same program under another seed: the scheduler interleaves the threads otherwise.
    let (seed, other) = (1..64)
        .map(|s| (s, race(s)))
        .find(|(_, t)| t.events() != base.events())
        .expect("some seed interleaves the threads differently");
    let b = file("diff_b.jsonl", &other);

    let o = ws2sim(&["trace", "diff", path(&a), path(&a)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("same: {} events\n", base.events().len())
    );

    let o = ws2sim(&["trace", "diff", path(&a), path(&b)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let i = (0..)
        .find(|&i| base.events().get(i) != other.events().get(i))
        .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("--- A: {}", base.header()));
    assert_eq!(lines[1], format!("+++ B: {}", other.header()));
    assert!(lines[1].starts_with(&format!("+++ B: seed {seed},")));
    assert_eq!(
        lines[2],
        format!(
            "first divergence at event {i} (A has {} events, B {}):",
            base.events().len(),
            other.events().len()
        )
    );
    // Up to three events of context before, then each side from the divergence on.
    let before = i.min(3);
    for (k, e) in base.events()[i - before..i].iter().enumerate() {
        assert_eq!(lines[3 + k], format!("  {e}"));
    }
    assert_eq!(lines[3 + before], format!("- {}", base.events()[i]));
    assert!(
        lines.contains(&format!("+ {}", other.events()[i]).as_str()),
        "{out}"
    );

    // The same seed, another program: a shorter message.
    let a = file("diff_a2.jsonl", &two_hosts(0, b"hello"));
    let c = file("diff_c.jsonl", &two_hosts(0, b"hi"));
    let o = ws2sim(&["trace", "diff", "--context", "1", path(&a), path(&c)]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(!out.contains("--- A:"), "same headers: {out}");
    assert!(out.contains("- #") && out.contains("+ #"), "{out}");
}

#[test]
fn trace_refuses_what_is_not_a_trace() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ws2sim-cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.jsonl");
    let good = two_hosts(0, b"x").to_json_lines();
    let broken = good.replacen("\"kind\":\"call\"", "\"kind\":\"cal\"", 1);
    std::fs::write(&bad, broken).unwrap();
    let o = ws2sim(&["trace", "text", path(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("line 2: unknown event kind \"cal\""),
        "{}",
        stderr(&o)
    );
    let o = ws2sim(&["trace", "json", "/nonexistent/ws2sim-trace"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/ws2sim-trace"));
}

/// Writes `program` as JSON to a file of the test's own.
fn program_file(name: &str, program: &Program) -> PathBuf {
    text_file(name, &program.to_json())
}

/// A concurrent program whose main thread starts Winsock and binds a UDP socket in slot 0 to
/// port 9.
fn bound_udp() -> Program {
    let mut p = Program::concurrent(&[("app", "localhost")]);
    p.push(0, Op::Startup { version: 0x0202 })
        .push(
            0,
            Op::Socket {
                slot: 0,
                af: 2,
                ty: SOCK_DGRAM,
                protocol: IPPROTO_UDP,
            },
        )
        .push(
            0,
            Op::Bind {
                socket: Handle::Slot(0),
                port: 9,
            },
        );
    p
}

/// Thread 0 makes and binds a UDP socket and reads it without blocking after 5 ms; thread 1
/// sends to it through slot 0: before thread 0 made the socket (`INVALID_SOCKET`,
/// WSAENOTSOCK, nothing to read) or after (4 bytes to read), as the schedule has it.
fn racy() -> Program {
    let s = Handle::Slot(0);
    let mut p = bound_udp();
    p.push_on(
        0,
        1,
        Op::SendTo {
            socket: s,
            to: 0,
            port: 9,
            len: 4,
        },
    )
    .push(
        0,
        Op::SetNonBlocking {
            socket: s,
            on: true,
        },
    )
    .push(0, Op::Sleep { ms: 5 })
    .push(0, Op::Recv { socket: s, len: 16 });
    p
}

/// [`bound_udp`] with a blocking receive on thread 1: when thread 0 made the socket first,
/// it waits for ever (a deadlock); otherwise it fails at once.
fn sometimes_deadlocks() -> Program {
    let mut p = bound_udp();
    p.push_on(
        0,
        1,
        Op::Recv {
            socket: Handle::Slot(0),
            len: 16,
        },
    );
    p
}

#[test]
fn run_prints_every_step_with_its_outcome_and_writes_the_trace() {
    let prog = program_file("run.json", &racy());
    let trace = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ws2sim-cli-tests/run.jsonl");
    let o = ws2sim(&["run", path(&prog), "--seed", "2", "--trace", path(&trace)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 8, "{out}");
    assert!(
        out.contains("   2  app/0  Bind { socket: Slot(0), port: 9 }  = 0\n"),
        "{out}"
    );
    assert!(out.ends_with("ok: seed 2, 7 steps\n"), "{out}");
    // The trace it wrote is the run's, readable by `ws2sim trace`.
    let t = ws2sim(&["trace", "text", path(&trace)]);
    assert_eq!(t.status.code(), Some(0));
    assert!(stdout(&t).contains("seed 2"), "{}", stdout(&t));
    assert!(stdout(&t).contains("bind("), "{}", stdout(&t));
}

#[test]
fn th_4_sweep_stops_at_the_first_deadlocking_seed_and_its_replay_command_reproduces_it() {
    let prog = program_file("deadlocks.json", &sometimes_deadlocks());
    let o = ws2sim(&["sweep", path(&prog), "--seeds", "0..200"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("deadlock"), "{out}");
    let replay = out
        .lines()
        .find_map(|l| l.strip_prefix("replay: ws2sim "))
        .unwrap_or_else(|| panic!("no replay command in {out}"));
    let args: Vec<&str> = replay.split(' ').collect();
    assert_eq!(args[..2], ["run", path(&prog)]);
    let again = ws2sim(&args);
    assert_eq!(again.status.code(), Some(1), "{}", stdout(&again));
    assert!(
        stdout(&again).contains("FAILED: ws2sim (seed"),
        "{}",
        stdout(&again)
    );
    assert!(stdout(&again).contains("blocked (never returned)"));
}

#[test]
fn th_2_sweep_with_same_outcomes_finds_a_schedule_dependent_result() {
    let prog = program_file("racy.json", &racy());
    // Without the flag every seed passes: nothing deadlocks or breaks an invariant.
    let o = ws2sim(&["sweep", path(&prog), "--seeds", "0..40"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).starts_with("ok: seeds 0..40 passed ("),
        "{}",
        stdout(&o)
    );
    let o = ws2sim(&["sweep", path(&prog), "--seeds", "0..40", "--same-outcomes"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("the outcomes differ from seed 0's at step 3"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn run_and_sweep_refuse_what_is_not_a_program() {
    let bad = text_file("bad.json", "{\"format\":\"ws2sim-program\",\"version\":9}");
    for cmd in ["run", "sweep"] {
        let o = ws2sim(&[cmd, path(&bad)]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert!(
            stderr(&o).contains("version 9: this build reads version 1"),
            "{}",
            stderr(&o)
        );
    }
    let good = program_file("good.json", &racy());
    let o = ws2sim(&["sweep", path(&good), "--seeds", "x..y"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a seed count or range"),
        "{}",
        stderr(&o)
    );
}
