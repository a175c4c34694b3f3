//! Programs as data: a Winsock program written as a value ([`Program`]), which runs on a
//! [`Sim`](crate::Sim), is saved to and read from JSON, and (with the `proptest` feature) is
//! generated and shrunk by proptest.
//!
//! A program is a list of processes on named hosts and a list of [`Step`]s: each is one
//! [`Op`] (a Winsock call with its arguments, a wait, a sleep, a process ending, a network
//! fault) made by one thread of one process. Sockets are named by *slots*: `Socket` and
//! `Accept` store the handle they return in a slot of their process, and later steps name the
//! slot ([`Handle::Slot`]); hostile programs name handles any process saw
//! ([`Handle::Seen`]) or made-up values ([`Handle::Raw`]). Data sent is a fixed pattern of the
//! step's index, so a program holds lengths, not bytes.
//!
//! [`Program::run`] runs it and returns what every step returned ([`Outcome`]), and how the
//! run ended. Under [`Order::Sequential`] each step runs on its process's main thread after
//! the previous one returned; under [`Order::Concurrent`] each thread runs its own steps in
//! order and the threads interleave as the scheduler chooses, so the seed matters.
//!
//! ```
//! use ws2sim::testing::program::{Handle, Op, Outcome, Program};
//! use ws2sim::Sim;
//!
//! let mut p = Program::sequential(&[("app", "localhost")]);
//! p.push(0, Op::Startup { version: 0x0202 });
//! p.push(0, Op::Socket { slot: 0, af: 2, ty: 2, protocol: 17 });
//! p.push(0, Op::Bind { socket: Handle::Slot(0), port: 7 });
//! p.push(0, Op::SendTo { socket: Handle::Slot(0), to: 0, port: 7, len: 5 });
//! p.push(0, Op::Recv { socket: Handle::Slot(0), len: 16 });
//! p.push(0, Op::Cleanup {});
//!
//! let run = p.run(&Sim::builder().seed(1).build());
//! assert_eq!(run.ending, Ok(()));
//! assert_eq!(run.outcomes[4].returned(), Some(5));
//! // Saved as JSON and read back: the same program.
//! assert_eq!(Program::from_json(&p.to_json()), Ok(p));
//! ```
//!
//! This module does not decide what a program *should* return: that is the reference
//! model's job (`testing::model`, with the `proptest` feature), or the test's.

mod json;
mod run;

pub use run::{Outcome, ProgramRun, Stepper};

/// How the steps of a [`Program`] are ordered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// One step at a time, in the program's order, each on its process's main thread
    /// (`Process::run`); every step's `thread` is 0. A step that blocks for ever ends the run
    /// with a deadlock ([TH-4]).
    ///
    /// [TH-4]: crate::rules#th-4
    Sequential,
    /// Each `(process, thread)` pair is a simulated thread that runs its steps in the
    /// program's order; the threads interleave as the scheduler chooses.
    Concurrent,
}

/// A process of a [`Program`]: its name and the host it runs on (`"localhost"` is the
/// simulation's first host; any other name makes a host of that name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProcessSpec {
    /// The process's name (in the trace).
    pub name: String,
    /// The host's name.
    pub host: String,
}

/// Which socket handle an [`Op`] passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Handle {
    /// The handle the step's process stored in this slot (`Socket`, `Accept`);
    /// `INVALID_SOCKET` while the slot is empty.
    Slot(u8),
    /// The i-th (modulo their count) handle any `Socket` or `Accept` of the run returned, in
    /// any process, live or not; 0 before any.
    Seen(u16),
    /// This value, as it is.
    Raw(u64),
}

/// One step of a [`Program`]: `op` made by thread `thread` of process `process` (an index
/// into [`Program::processes`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Step {
    /// The process, by index.
    pub process: usize,
    /// The thread of that process (0 is its main thread; under [`Order::Sequential`] the
    /// only one).
    pub thread: u8,
    /// What it does.
    pub op: Op,
}

/// Declares [`Op`] and the list of its variants' names and field names (for the JSON form).
macro_rules! ops {
    ($( $(#[$doc:meta])* $name:ident { $( $(#[$fdoc:meta])* $field:ident : $ty:ty ),* $(,)? } ),* $(,)?) => {
        /// One thing a [`Step`] does: a Winsock or kernel32 call (made through
        /// [`crate::sys`], as application code makes it), or a harness action. Process and
        /// port arguments name a process of the program by index and a port on its host.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum Op {
            $( $(#[$doc])* $name { $( $(#[$fdoc])* $field: $ty ),* } ),*
        }

        impl Op {
            /// The variant's name, as the JSON form writes it (`"Startup"`).
            pub fn name(&self) -> &'static str {
                match self {
                    $( Op::$name { .. } => stringify!($name) ),*
                }
            }

            /// The fields as JSON values, in declaration order.
            fn fields(&self) -> Vec<(&'static str, crate::trace::read::Value)> {
                match self {
                    $( Op::$name { $( $field ),* } => vec![ $( (stringify!($field), json::Field::to_json($field)) ),* ] ),*
                }
            }

            /// The variant `name` with its fields taken from `f`.
            fn from_fields(name: &str, f: &mut crate::trace::read::Fields) -> Result<Op, String> {
                match name {
                    $( stringify!($name) => Ok(Op::$name { $( $field: json::Field::from_json(f.take(stringify!($field))?, stringify!($field))? ),* }), )*
                    other => Err(format!("unknown op {other:?}")),
                }
            }
        }
    };
}

ops! {
    /// `WSAStartup(version, &data)`.
    Startup {
        /// The version word (low byte major, high byte minor).
        version: u16,
    },
    /// `WSACleanup()`.
    Cleanup {},
    /// `socket(af, ty, protocol)`; the handle goes into `slot`.
    Socket {
        /// The slot the returned handle goes into.
        slot: u8,
        /// The address family.
        af: i32,
        /// The socket type.
        ty: i32,
        /// The protocol.
        protocol: i32,
    },
    /// `closesocket(socket)`.
    Close {
        /// The socket.
        socket: Handle,
    },
    /// `bind(socket, 0.0.0.0:port)` (port 0: any).
    Bind {
        /// The socket.
        socket: Handle,
        /// The port.
        port: u16,
    },
    /// `listen(socket, backlog)`.
    Listen {
        /// The socket.
        socket: Handle,
        /// The backlog.
        backlog: i32,
    },
    /// `connect(socket, host of process `to`:port)`.
    Connect {
        /// The socket.
        socket: Handle,
        /// The process whose host is the peer.
        to: usize,
        /// The port.
        port: u16,
    },
    /// `accept(socket, &addr, &len)`; the new handle goes into `slot`.
    Accept {
        /// The socket.
        socket: Handle,
        /// The slot the returned handle goes into.
        slot: u8,
    },
    /// `send(socket, len bytes, 0)`.
    Send {
        /// The socket.
        socket: Handle,
        /// The length in bytes.
        len: u32,
    },
    /// `recv(socket, buffer of len, 0)`; the bytes read are the outcome's data.
    Recv {
        /// The socket.
        socket: Handle,
        /// The length in bytes.
        len: u32,
    },
    /// `sendto(socket, len bytes, 0, host of process `to`:port)`.
    SendTo {
        /// The socket.
        socket: Handle,
        /// The process whose host is the peer.
        to: usize,
        /// The port.
        port: u16,
        /// The length in bytes.
        len: u32,
    },
    /// `shutdown(socket, how)`.
    Shutdown {
        /// The socket.
        socket: Handle,
        /// `SD_RECEIVE`, `SD_SEND`, `SD_BOTH` or any value.
        how: i32,
    },
    /// `WSASendDisconnect(socket, data)`: NULL when `len` is 0, else `len` bytes.
    SendDisconnect {
        /// The socket.
        socket: Handle,
        /// The length in bytes.
        len: u32,
    },
    /// `WSARecvDisconnect(socket, data)`: NULL when `len` is 0, else a `WSABUF` of `len`
    /// bytes; the outcome's data is the disconnect data copied, its `out_len` the `WSABUF`'s
    /// `len` after the call.
    RecvDisconnect {
        /// The socket.
        socket: Handle,
        /// The buffer's length (0: NULL).
        len: u32,
    },
    /// `setsockopt(socket, SOL_SOCKET, SO_LINGER, &LINGER { onoff, seconds }, 4)`.
    SetLinger {
        /// The socket.
        socket: Handle,
        /// `l_onoff`.
        onoff: u16,
        /// `l_linger`.
        seconds: u16,
    },
    /// `ioctlsocket(socket, FIONBIO, &on)`.
    SetNonBlocking {
        /// The socket.
        socket: Handle,
        /// Non-blocking when true.
        on: bool,
    },
    /// `setsockopt(socket, level, name, value, len)`: `len` may disagree with the value's
    /// length (the buffer passed is zero-padded to the larger); `null` passes NULL.
    SetOption {
        /// The socket.
        socket: Handle,
        /// The option level.
        level: i32,
        /// The option name.
        name: i32,
        /// The option bytes.
        value: Vec<u8>,
        /// The `optlen` passed.
        len: i32,
        /// Passes NULL for the buffer.
        null: bool,
    },
    /// `getsockopt(socket, level, name, buffer, &len)` with a 16-byte buffer filled with
    /// 0xa5; `len` `None` passes a NULL `optlen`, `null` a NULL buffer. The outcome's data is
    /// the whole buffer after the call, its `out_len` what `optlen` held after it.
    GetOption {
        /// The socket.
        socket: Handle,
        /// The option level.
        level: i32,
        /// The option name.
        name: i32,
        /// `optlen` before the call (`None`: a NULL `optlen`).
        len: Option<i32>,
        /// Passes NULL for the buffer.
        null: bool,
    },
    /// An overlapped `WSARecv` of `len` bytes with an event (`WSACreateEvent`), kept as
    /// operation `id` of the process for a later `WaitOverlapped`.
    RecvOverlapped {
        /// The socket.
        socket: Handle,
        /// The operation's number in its process.
        id: u8,
        /// The length in bytes.
        len: u32,
    },
    /// An overlapped `WSASend` of `len` bytes with an event, kept as operation `id`.
    SendOverlapped {
        /// The socket.
        socket: Handle,
        /// The operation's number in its process.
        id: u8,
        /// The length in bytes.
        len: u32,
    },
    /// `WSAWaitForMultipleEvents` on operation `id`'s event for `timeout_ms`, then
    /// `WSAGetOverlappedResult(socket, id, &n, FALSE, &flags)`: the outcome's value is the
    /// bytes transferred, or -1 with the error; its data the bytes a receive got.
    WaitOverlapped {
        /// The operation's number in its process.
        id: u8,
        /// The wait's timeout in milliseconds (`WSA_INFINITE` waits for ever).
        timeout_ms: u32,
    },
    /// `ws2sim::thread::sleep(ms)`: virtual time.
    Sleep {
        /// Milliseconds of virtual time.
        ms: u32,
    },
    /// `Process::exit` of process `target` (`ExitProcess`), from outside it.
    Exit {
        /// The process, by index.
        target: usize,
    },
    /// `Process::kill` of process `target` (`TerminateProcess`), from outside it.
    Kill {
        /// The process, by index.
        target: usize,
    },
    /// `Sim::set_network_down` on the host of process `target`.
    NetworkDown {
        /// The process, by index.
        target: usize,
        /// Down when true, restored when false.
        down: bool,
    },
}

/// A Winsock program as data: processes on hosts, and the steps their threads take.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Program {
    /// How steps are ordered in time.
    pub order: Order,
    /// The processes, created in this order before the first step.
    pub processes: Vec<ProcessSpec>,
    /// The steps, in the program's order.
    pub steps: Vec<Step>,
}

/// Why a [`Program`] cannot run as written, or why its JSON could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ws2sim program: {0}")]
pub struct ProgramError(pub(crate) String);

impl ProgramError {
    /// What is wrong, in words.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl Program {
    /// An empty program of `processes` (`(name, host)` pairs) under `order`.
    pub fn new(order: Order, processes: &[(&str, &str)]) -> Program {
        Program {
            order,
            processes: processes
                .iter()
                .map(|(name, host)| ProcessSpec {
                    name: (*name).to_owned(),
                    host: (*host).to_owned(),
                })
                .collect(),
            steps: Vec::new(),
        }
    }

    /// [`Program::new`] under [`Order::Sequential`].
    pub fn sequential(processes: &[(&str, &str)]) -> Program {
        Program::new(Order::Sequential, processes)
    }

    /// [`Program::new`] under [`Order::Concurrent`].
    pub fn concurrent(processes: &[(&str, &str)]) -> Program {
        Program::new(Order::Concurrent, processes)
    }

    /// Appends `op` by the main thread of process `process`.
    pub fn push(&mut self, process: usize, op: Op) -> &mut Program {
        self.push_on(process, 0, op)
    }

    /// Appends `op` by thread `thread` of process `process`.
    pub fn push_on(&mut self, process: usize, thread: u8, op: Op) -> &mut Program {
        self.steps.push(Step {
            process,
            thread,
            op,
        });
        self
    }

    /// Checks the program can run: at least one process, every step's process and every
    /// process an op names exists, and under [`Order::Sequential`] every step is on
    /// thread 0.
    ///
    /// # Errors
    /// The first problem, naming the step.
    pub fn validate(&self) -> Result<(), ProgramError> {
        if self.processes.is_empty() {
            return Err(ProgramError("a program needs at least one process".into()));
        }
        for (i, s) in self.steps.iter().enumerate() {
            self.check_step(i, s)?;
        }
        Ok(())
    }

    /// Checks step `s` as step `i` of this program (see [`Program::validate`]).
    pub(crate) fn check_step(&self, i: usize, s: &Step) -> Result<(), ProgramError> {
        let n = self.processes.len();
        let bad = |what: String| Err(ProgramError(format!("step {i} ({:?}): {what}", s.op)));
        if s.process >= n {
            return bad(format!("process {} of {n}", s.process));
        }
        if self.order == Order::Sequential && s.thread != 0 {
            return bad(format!(
                "thread {} in a sequential program (only 0)",
                s.thread
            ));
        }
        match s.op.names_process() {
            Some(p) if p >= n => bad(format!("it names process {p} of {n}")),
            Some(_) | None => Ok(()),
        }
    }
}

/// What a harness op does to its target.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Harness {
    Exit,
    Kill,
    Network { down: bool },
}

/// What kind of step an op is: one exhaustive list.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A call the step's thread makes; `peer`: a process it names (connect, sendto).
    Winsock { peer: Option<usize> },
    /// A harness action on process `target`.
    Harness { target: usize, action: Harness },
}

impl Op {
    pub(crate) fn kind(&self) -> Kind {
        let winsock = Kind::Winsock { peer: None };
        match *self {
            Op::Connect { to, .. } | Op::SendTo { to, .. } => Kind::Winsock { peer: Some(to) },
            Op::Exit { target } => Kind::Harness {
                target,
                action: Harness::Exit,
            },
            Op::Kill { target } => Kind::Harness {
                target,
                action: Harness::Kill,
            },
            Op::NetworkDown { target, down } => Kind::Harness {
                target,
                action: Harness::Network { down },
            },
            Op::Startup { .. }
            | Op::Cleanup {}
            | Op::Socket { .. }
            | Op::Close { .. }
            | Op::Bind { .. }
            | Op::Listen { .. }
            | Op::Accept { .. }
            | Op::Send { .. }
            | Op::Recv { .. }
            | Op::Shutdown { .. }
            | Op::SendDisconnect { .. }
            | Op::RecvDisconnect { .. }
            | Op::SetLinger { .. }
            | Op::SetNonBlocking { .. }
            | Op::SetOption { .. }
            | Op::GetOption { .. }
            | Op::RecvOverlapped { .. }
            | Op::SendOverlapped { .. }
            | Op::WaitOverlapped { .. }
            | Op::Sleep { .. } => winsock,
        }
    }

    /// For a harness op (not a Winsock call): its target process and what it does to it.
    pub(crate) fn harness(&self) -> Option<(usize, Harness)> {
        match self.kind() {
            Kind::Harness { target, action } => Some((target, action)),
            Kind::Winsock { .. } => None,
        }
    }

    /// The process an op names besides its step's (a peer, a target).
    pub(crate) fn names_process(&self) -> Option<usize> {
        match self.kind() {
            Kind::Harness { target, .. } => Some(target),
            Kind::Winsock { peer } => peer,
        }
    }
}

/// Byte `i` of the data step `step` sends: a pattern of both, so a receiver can tell whose
/// bytes it got and where they belong.
pub fn payload_byte(step: usize, i: usize) -> u8 {
    (step.wrapping_mul(31).wrapping_add(i) % 251) as u8
}
