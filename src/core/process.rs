//! A simulated process: its Ws2_32 state (startup count, version, sockets) and per-thread last
//! errors.

use std::collections::BTreeMap;

use super::call::Reply;
use super::catalog::ProtocolInfo;
use super::rules::Rule;
use super::socket::SocketState;
use super::table::{Generations, Socket, SocketTable};
use super::version::{negotiate, Version, WsaData, WSADATA_SIZE};
use super::{Cx, HostId, ThreadId};
use crate::error::WsaError;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `ExitProcess`: DLLs are unloaded normally (CL-7).
    Exit,
    /// `TerminateProcess`: no cleanup code runs (SP-8).
    Kill,
}

/// Whether a process is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// Running: Winsock calls can be made.
    Running,
    /// Ended as said.
    Ended(Ending),
}

/// The Ws2_32 state of a process between its first startup and its final cleanup (ST-6).
#[derive(Debug)]
struct Ws2 {
    /// Successful startups not yet matched by a cleanup (ST-4, CL-2); at least 1.
    count: u32,
    /// ST-5: the lowest version negotiated since this state was created.
    lowest: Version,
    /// Open sockets.
    sockets: SocketTable<SocketState>,
}

/// A simulated process's state.
#[derive(Debug)]
pub struct ProcessState {
    name: String,
    host: HostId,
    life: Life,
    /// `None` before the first startup and after a final cleanup.
    ws2: Option<Ws2>,
    /// TH-1: each thread's last error. Not Ws2_32 state: it survives cleanup.
    last_errors: BTreeMap<ThreadId, i32>,
}

impl ProcessState {
    pub(super) fn new(name: &str, host: HostId) -> ProcessState {
        ProcessState {
            name: name.to_owned(),
            host,
            life: Life::Running,
            ws2: None,
            last_errors: BTreeMap::new(),
        }
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host the process runs on.
    pub fn host(&self) -> HostId {
        self.host
    }

    /// Running or how it ended.
    pub fn life(&self) -> Life {
        self.life
    }

    /// True between a successful startup and the final cleanup.
    pub fn is_started(&self) -> bool {
        self.ws2.is_some()
    }

    /// The startup count (ST-4).
    pub fn startup_count(&self) -> u32 {
        self.ws2.as_ref().map_or(0, |w| w.count)
    }

    /// ST-5: the version governing Winsock 1.1 behaviour, while started.
    pub fn version(&self) -> Option<Version> {
        self.ws2.as_ref().map(|w| w.lowest)
    }

    /// CL-8: sockets, events, pending operations and queued APCs held for this process.
    pub fn live_resources(&self) -> usize {
        self.ws2.as_ref().map_or(0, |w| w.sockets.len())
    }

    /// TH-1: a thread's last error (0 if it never had one).
    pub fn last_error(&self, t: ThreadId) -> i32 {
        self.last_errors.get(&t).copied().unwrap_or(0)
    }

    pub(super) fn set_last_error(&mut self, t: ThreadId, code: i32) {
        self.last_errors.insert(t, code);
    }

    /// `WSAStartup`: ST-1..ST-6.
    pub(super) fn startup(
        &mut self,
        cx: &mut Cx,
        requested: Version,
        data: Option<&mut [u8; WSADATA_SIZE]>,
    ) -> Result<Reply, WsaError> {
        let has_data = data.is_some();
        if let Some(out) = data {
            cx.rule(Rule::St2); // ST-2: filled whether or not the call succeeds.
            WsaData::for_request(requested).write_to(out);
        }
        cx.rule(Rule::St1); // ST-1
        let version = negotiate(requested)?;
        if !has_data {
            cx.rule(Rule::St3); // ST-3: after the version check.
            return Err(WsaError::Fault);
        }
        cx.rule(Rule::St4); // ST-4
        let ws2 = self.ws2.get_or_insert_with(|| {
            cx.rule(Rule::St6); // ST-6: a clean state.
            Ws2 {
                count: 0,
                lowest: version,
                sockets: SocketTable::default(),
            }
        });
        ws2.count += 1;
        ws2.lowest = ws2.lowest.min(version); // ST-5
        Ok(Reply::Version(version))
    }

    /// `WSACleanup`: CL-1, CL-2, CL-3 (in the dispatcher), CL-6, CL-8, CL-11.
    pub(super) fn cleanup(&mut self, cx: &mut Cx, network_down: bool) -> Result<Reply, WsaError> {
        let Some(ws2) = self.ws2.as_mut() else {
            cx.rule(Rule::Cl1); // CL-1
            return Err(WsaError::NotInitialised);
        };
        cx.rule(Rule::Cl2); // CL-2
        ws2.count -= 1;
        if ws2.count == 0 {
            self.final_cleanup(cx);
        }
        if network_down {
            // CL-11: the count was still decremented (and a final cleanup still performed).
            cx.rule(Rule::Cl11);
            return Err(WsaError::NetworkDown);
        }
        cx.rule(Rule::Cl3); // CL-3
        Ok(Reply::Done)
    }

    /// The cleanup performed by the call that brings the count to 0.
    fn final_cleanup(&mut self, cx: &mut Cx) {
        let Some(mut ws2) = self.ws2.take() else {
            return;
        };
        let sockets = ws2.sockets.drain();
        if !sockets.is_empty() {
            cx.rule(Rule::Cl6); // CL-6: reset and deallocated as if closesocket were called.
        }
        drop(sockets);
        cx.rule(Rule::Cl8); // CL-8: nothing of the process's Ws2_32 state survives.
    }

    /// Creates a socket bound to `entry`.
    pub(super) fn open_socket(
        &mut self,
        generations: &mut Generations,
        entry: ProtocolInfo,
    ) -> Result<Socket, WsaError> {
        let ws2 = self.ws2.as_mut().ok_or(WsaError::NotInitialised)?;
        ws2.sockets.insert(generations, SocketState::new(entry))
    }

    /// ER-2: the live socket behind `s`, or `WSAENOTSOCK`.
    pub(super) fn socket_mut(
        &mut self,
        cx: &mut Cx,
        s: Socket,
    ) -> Result<&mut SocketState, WsaError> {
        let ws2 = self.ws2.as_mut().ok_or(WsaError::NotInitialised)?;
        ws2.sockets.get_mut(s).ok_or_else(|| {
            cx.rule(Rule::Er2); // ER-2
            WsaError::NotSocket
        })
    }

    /// `closesocket`: CS-1 (unknown or closed handle → `WSAENOTSOCK`; the handle dies for good).
    pub(super) fn close_socket(&mut self, cx: &mut Cx, s: Socket) -> Result<(), WsaError> {
        self.socket_mut(cx, s).inspect_err(|_| cx.rule(Rule::Cs1))?;
        let ws2 = self.ws2.as_mut().ok_or(WsaError::NotInitialised)?;
        ws2.sockets.remove(s);
        cx.rule(Rule::Cs1); // CS-1
        Ok(())
    }

    /// Ends the process (SP-8 for `Kill`, CL-7 for `Exit`): its Ws2_32 state goes with it,
    /// whatever the startup count.
    pub(super) fn end(&mut self, how: Ending, rules: &mut Vec<Rule>) {
        if self.life != Life::Running {
            return;
        }
        self.life = Life::Ended(how);
        rules.push(match how {
            Ending::Exit => Rule::Cl7,
            Ending::Kill => Rule::Sp8,
        });
        self.ws2 = None;
    }
}
