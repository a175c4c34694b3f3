//! The sans-IO core: the whole Winsock state of a simulation as a plain state machine.
//!
//! A call enters through [`World::dispatch`] with the calling process and thread and the current
//! virtual time, and leaves with its result plus the ids of the SPEC rules that decided it. The
//! core never sleeps, spawns, locks, reads a clock or touches real I/O; it sees the caller's memory
//! only as byte slices, the way a Winsock implementation sees user buffers. Each SPEC rule is
//! implemented at one place here, marked with its id in a comment.

pub mod call;
pub mod catalog;
pub mod process;
pub mod rules;
pub mod socket;
pub mod sockopt;
pub mod table;
pub mod version;

use crate::error::WsaError;
pub use call::{Call, Reply};
use catalog::Catalog;
use process::{Ending, ProcessState};
use rules::Rule;
use table::Generations;

/// Which reading of Winsock the simulator follows where the documents and observed Windows
/// disagree (the rules marked *(profile)* in SPEC.md). Nothing else differs between profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// The seeds and Microsoft's documentation, taken literally (the default).
    #[default]
    Documented,
    /// What Windows 7 and later were observed to do.
    Windows,
}

/// A simulated host, by creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub(crate) u32);

/// A simulated process, unique in its simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessId(pub(crate) u32);

/// A simulated thread, unique in its simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ThreadId(pub(crate) u32);

impl std::fmt::Display for ProcessId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Display for ThreadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One call's context: who calls and the rules that fired while handling it.
#[derive(Debug)]
pub struct Cx {
    /// The calling process.
    pub process: ProcessId,
    /// The calling thread.
    pub thread: ThreadId,
    rules: Vec<Rule>,
}

impl Cx {
    /// A context for a call by `thread` of `process`.
    pub fn new(process: ProcessId, thread: ThreadId) -> Cx {
        Cx {
            process,
            thread,
            rules: Vec::new(),
        }
    }

    /// Records that `rule` decided (part of) this call's outcome.
    pub fn rule(&mut self, rule: Rule) {
        if !self.rules.contains(&rule) {
            self.rules.push(rule);
        }
    }

    /// The rules recorded, in the order they fired.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}

/// A simulated host's state.
#[derive(Debug)]
pub struct HostState {
    /// The name given at creation.
    pub name: String,
    /// Its IPv4 address: 10.0.0.N by creation order.
    pub addr: [u8; 4],
    /// True while the simulation has failed its network subsystem (ER-5, CL-11).
    pub network_down: bool,
}

/// The whole simulated Winsock world of one simulation.
#[derive(Debug)]
pub struct World {
    profile: Profile,
    catalog: Catalog,
    hosts: Vec<HostState>,
    processes: Vec<ProcessState>,
    generations: Generations,
    next_thread: u32,
}

impl World {
    /// An empty world with the built-in catalog.
    pub fn new(profile: Profile) -> World {
        World {
            profile,
            catalog: Catalog::builtin(),
            hosts: Vec::new(),
            processes: Vec::new(),
            generations: Generations::default(),
            next_thread: 0,
        }
    }

    /// The profile deciding the rules marked *(profile)* in SPEC.md.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Adds a host named `name` with the next 10.0.0.N address.
    pub fn add_host(&mut self, name: &str) -> HostId {
        let n = self.hosts.len() as u32 + 1;
        self.hosts.push(HostState {
            name: name.to_owned(),
            addr: [10, 0, (n >> 8) as u8, n as u8],
            network_down: false,
        });
        HostId(n - 1)
    }

    /// The host named `name`, if there is one.
    pub fn find_host(&self, name: &str) -> Option<HostId> {
        self.hosts
            .iter()
            .position(|h| h.name == name)
            .map(|i| HostId(i as u32))
    }

    /// A host's state.
    pub fn host(&self, h: HostId) -> &HostState {
        &self.hosts[h.0 as usize]
    }

    /// Fails or restores a host's network subsystem (ER-5, CL-11).
    pub fn set_network_down(&mut self, h: HostId, down: bool) {
        self.hosts[h.0 as usize].network_down = down;
    }

    /// Starts a process on `host`; returns it and its main thread.
    pub fn add_process(&mut self, host: HostId, name: &str) -> (ProcessId, ThreadId) {
        let pid = ProcessId(self.processes.len() as u32 + 1);
        let main = self.new_thread_id();
        self.processes.push(ProcessState::new(name, host));
        (pid, main)
    }

    /// A process's state.
    pub fn process(&self, p: ProcessId) -> &ProcessState {
        &self.processes[p.0 as usize - 1]
    }

    fn process_mut(&mut self, p: ProcessId) -> &mut ProcessState {
        &mut self.processes[p.0 as usize - 1]
    }

    fn new_thread_id(&mut self) -> ThreadId {
        self.next_thread += 1;
        ThreadId(self.next_thread)
    }

    /// Ends a process: normally (DLL unload, CL-7) or by termination (SP-8). Returns the rules
    /// that decided what happened, for the trace; ending an ended process does nothing.
    pub fn end_process(&mut self, p: ProcessId, how: Ending) -> Vec<Rule> {
        let mut rules = Vec::new();
        self.process_mut(p).end(how, &mut rules);
        rules
    }

    /// The funnel every Winsock call goes through.
    ///
    /// ER-4: a failing call (other than `WSAStartup`, which returns its error directly) sets the
    /// calling thread's last error. Some successful calls clear it, as Windows does (see
    /// [`Call::clears_last_error`]).
    pub fn dispatch(&mut self, cx: &mut Cx, call: Call<'_>) -> Result<Reply, WsaError> {
        let sets_last_error = !matches!(call, Call::Startup { .. });
        let clears = call.clears_last_error();
        let result = self.route(cx, call);
        let thread = cx.thread;
        let process = self.process_mut(cx.process);
        match &result {
            Err(e) if sets_last_error => {
                cx.rule(Rule::Er4); // ER-4
                process.set_last_error(thread, e.code());
            }
            Ok(_) if clears => process.set_last_error(thread, 0),
            _ => {}
        }
        result
    }

    /// ER-1 then ER-5: the checks made before any argument is looked at.
    fn gate(&self, cx: &mut Cx) -> Result<(), WsaError> {
        let process = self.process(cx.process);
        if !process.is_started() {
            cx.rule(Rule::Er1); // ER-1
            return Err(WsaError::NotInitialised);
        }
        if self.host(process.host()).network_down {
            cx.rule(Rule::Er5); // ER-5
            return Err(WsaError::NetworkDown);
        }
        Ok(())
    }

    fn route(&mut self, cx: &mut Cx, call: Call<'_>) -> Result<Reply, WsaError> {
        match call {
            // Exempt from ER-1: startup creates the state.
            Call::Startup { requested, data } => {
                self.process_mut(cx.process).startup(cx, requested, data)
            }
            // Exempt from ER-1 (TH-1): the last error is per thread, not Ws2_32 state.
            Call::GetLastError => {
                cx.rule(Rule::Th1); // TH-1
                Ok(Reply::LastError(
                    self.process(cx.process).last_error(cx.thread),
                ))
            }
            Call::SetLastError(code) => {
                cx.rule(Rule::Th1); // TH-1
                self.process_mut(cx.process).set_last_error(cx.thread, code);
                Ok(Reply::Done)
            }
            // CL-1 is ER-1 for WSACleanup; CL-11 replaces ER-5 (the count still drops).
            Call::Cleanup => {
                let down = self.host(self.process(cx.process).host()).network_down;
                self.process_mut(cx.process).cleanup(cx, down)
            }
            Call::Socket {
                af,
                ty,
                protocol,
                info,
                ..
            } => {
                self.gate(cx)?;
                cx.rule(Rule::Sp11); // SP-11: the catalog decides, success or failure.
                let entry = self
                    .catalog
                    .select(af, ty, protocol, info.as_ref())?
                    .clone();
                let process = &mut self.processes[cx.process.0 as usize - 1];
                process
                    .open_socket(&mut self.generations, entry)
                    .map(Reply::Socket)
            }
            Call::CloseSocket(s) => {
                self.gate(cx)?;
                self.process_mut(cx.process).close_socket(cx, s)?;
                Ok(Reply::Done)
            }
            Call::SetSockOpt {
                s,
                level,
                name,
                value,
                len,
            } => {
                self.gate(cx)?;
                let socket = self.process_mut(cx.process).socket_mut(cx, s)?;
                sockopt::set(cx, socket, level, name, value, len)?;
                Ok(Reply::Done)
            }
            Call::GetSockOpt {
                s,
                level,
                name,
                value,
                len,
            } => {
                self.gate(cx)?;
                let socket = self.process_mut(cx.process).socket_mut(cx, s)?;
                sockopt::get(cx, socket, level, name, value, len)?;
                Ok(Reply::Done)
            }
            Call::IoctlSocket { s, cmd, arg } => {
                self.gate(cx)?;
                let socket = self.process_mut(cx.process).socket_mut(cx, s)?;
                socket.ioctl(cmd, arg)?;
                Ok(Reply::Done)
            }
            Call::EnumProtocols {
                filter,
                buffer,
                len,
            } => {
                self.gate(cx)?;
                cx.rule(Rule::Sp11); // SP-11
                enum_protocols(&self.catalog, filter.as_deref(), buffer, len)
            }
        }
    }
}

/// SP-11: `WSAEnumProtocolsW` into a caller's buffer of `*len` bytes.
///
/// `len` NULL → `WSAEFAULT` (sim: Windows' behaviour is undocumented). A NULL buffer, or one
/// shorter than every listed entry needs, → `WSAENOBUFS` with the needed length written back
/// (win: protocol.c). Otherwise the entries are written and their count returned.
fn enum_protocols(
    catalog: &Catalog,
    filter: Option<&[i32]>,
    buffer: Option<&mut [u8]>,
    len: Option<&mut u32>,
) -> Result<Reply, WsaError> {
    let Some(len) = len else {
        return Err(WsaError::Fault);
    };
    let listed = catalog.enumerate(filter);
    let needed = listed.len() * catalog::PROTOCOL_INFO_SIZE;
    match buffer {
        Some(buf) if buf.len() >= needed && (*len as usize) >= needed => {
            for (chunk, entry) in buf
                .chunks_exact_mut(catalog::PROTOCOL_INFO_SIZE)
                .zip(&listed)
            {
                chunk.copy_from_slice(&entry.encode());
            }
            Ok(Reply::Count(listed.len() as u32))
        }
        _ => {
            *len = needed as u32;
            Err(WsaError::NoBufferSpace)
        }
    }
}
