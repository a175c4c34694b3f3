//! The simulation's own invariants, checked from outside after (or during) a test: what
//! every run must keep whatever the program did, each failure naming its rule.

use std::collections::BTreeSet;
use std::fmt;

use crate::trace::EventKind;
use crate::{Rule, Sim};

/// A broken invariant, or a misuse the simulator diagnosed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule it breaks.
    pub rule: Rule,
    /// What was seen.
    pub message: String,
}

impl fmt::Display for Violation {
    /// `CL-8: process "app" holds 2 resources with no WSAStartup in force`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule.id(), self.message)
    }
}

/// Checks what every simulation must keep, whatever the program did:
///
/// - [OV-2]: every overlapped operation that started (returned 0 or `WSA_IO_PENDING`) has
///   completed once, was forgotten with its exited process, or is still pending;
/// - [CL-7]: every stream byte an application sent reached the peer (read by its
///   application, or still unread when it closed that socket), was counted as lost
///   ([`Sim::lost_bytes`](crate::Sim::lost_bytes)), or is still queued or on the wire;
/// - [CL-8]: a process with no `WSAStartup` in force holds no resources
///   ([`Process::live_resources`](crate::Process::live_resources) is 0);
/// - [CS-1]: no socket handle was handed out twice in a process (read from the trace, so
///   only while tracing is on);
/// - no [`Diagnostic`](crate::Diagnostic): each one (a DllMain startup, a blocking call from
///   an APC inside a blocking call, a provider breaking the SPI contract) is a violation of
///   the rule it names.
///
/// Bytes a layered provider holds in the process are its own (SP-7 counts the ones it
/// loses); datagrams are not counted (a datagram to no socket is dropped silently).
///
/// ```
/// use ws2sim::testing::check_invariants;
/// use ws2sim::{api, Rule, Sim, Version};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     api::cleanup().unwrap();
/// });
/// assert_eq!(check_invariants(&sim), Ok(()));
///
/// // WSAStartup inside DllMain: Windows may deadlock, the simulator diagnoses it (CL-12).
/// p.run(|| ws2sim::dllmain(|| api::startup(Version::V2_2).unwrap()));
/// let violations = check_invariants(&sim).unwrap_err();
/// assert_eq!(violations[0].rule, Rule::Cl12);
/// ```
///
/// # Errors
/// Every violation found, in the order above.
///
/// [OV-2]: crate::rules#ov-2
/// [CL-7]: crate::rules#cl-7
/// [CL-8]: crate::rules#cl-8
/// [CS-1]: crate::rules#cs-1
pub fn check_invariants(sim: &Sim) -> Result<(), Vec<Violation>> {
    let mut found = Vec::new();
    let facts = sim.invariant_facts();
    let b = facts.books;
    if b.started != b.completed + b.forgotten + facts.pending as u64 {
        found.push(Violation {
            rule: Rule::Ov2,
            message: format!(
                "{} operations started, but {} completed, {} were forgotten with their \
                 process and {} are pending",
                b.started, b.completed, b.forgotten, facts.pending
            ),
        });
    }
    let (queued, read, lost, held) = facts.stream;
    if queued != read + lost + held {
        found.push(Violation {
            rule: Rule::Cl7,
            message: format!(
                "{queued} stream bytes were sent, but {read} reached the peer, {lost} were lost \
                 and {held} are still queued or on the wire"
            ),
        });
    }
    for (name, startups, live) in &facts.processes {
        if *startups == 0 && *live > 0 {
            found.push(Violation {
                rule: Rule::Cl8,
                message: format!(
                    "process {name:?} holds {live} resource(s) with no WSAStartup in force"
                ),
            });
        }
    }
    let mut handed_out = BTreeSet::new();
    for e in sim.trace().events() {
        let creates = matches!(e.call.as_str(), "socket" | "WSASocketW" | "accept");
        if e.kind != EventKind::Call || !creates || e.error.is_some() {
            continue;
        }
        if !handed_out.insert((e.pid, e.returned)) {
            found.push(Violation {
                rule: Rule::Cs1,
                message: format!(
                    "{} in process {:?} (event {}) handed out {}, which it had handed out before",
                    e.call, e.process, e.seq, e.result
                ),
            });
        }
    }
    for d in sim.diagnostics() {
        found.push(Violation {
            rule: d.rule,
            message: format!("process {:?} thread {}: {}", d.process, d.thread, d.message),
        });
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(found)
    }
}
