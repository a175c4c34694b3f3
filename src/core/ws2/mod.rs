//! Ws2_32 itself: per-process state (startup count, version, socket table, events, APC
//! queues), the gate (ER-1..ER-5), dispatch, startup and cleanup, and the SPI client with its
//! contract checks (SP-*).
//!
//! It does not reach into the transport: socket calls go down a socket's provider chain.

pub mod addr_text;
pub mod names;
pub mod process;
pub mod resolve;
pub mod spi_client;
pub mod table;
#[cfg(test)]
mod tests_cleanup;
pub mod threads;
pub mod version;

use crate::core::call::{self, Call, Codes, Family, Gate, LastError, Reply, Spec};
use crate::core::call::{
    DataCall, EventCall, IoCall, KernelCall, OptionCall, ProcessCall, SocketCall, SpiCall,
};
use crate::core::catalog::{self, Catalog};
use crate::core::overlapped::{OpRequest, ResultArgs};
use crate::core::ports::{Ex7, ResultWait};
use crate::core::provider;
use crate::core::providers::control::{ex_1_count_on_failure, ex_1_served_overlapped};
use crate::core::providers::net::RecvArgs;
use crate::core::rules::Rule;
use crate::core::ws2::spi_client::Wsp;
use crate::core::ws2::table::Generations;
use crate::core::Socket;
use crate::core::{Cx, Machine, Step, Stop, World};
use crate::error::WsaError;

/// What [`World::du_2_handle_flags`] does to a socket handle's flags (DU-2).
#[derive(Debug, Clone, Copy)]
enum Du2 {
    /// `socket`/`WSASocketW` made it, with these `dwFlags`.
    Created { flags: u32 },
    /// `SetHandleInformation(s, mask, flags)`.
    Set { mask: u32, flags: u32 },
    /// `GetHandleInformation`, `has_flags` false for a NULL `lpdwFlags`.
    Get { has_flags: bool },
}

impl World {
    /// The funnel every Winsock call goes through.
    ///
    /// ER-4: a failing call (other than `WSAStartup`, which returns its error directly) sets the
    /// calling thread's last error. Some successful calls clear it, as Windows does (the call
    /// table's [`LastError`]). A call that must wait leaves the last error alone.
    pub fn dispatch(&mut self, cx: &mut Cx, call: &mut Call<'_>) -> Step {
        let spec = call.spec();
        if !cx.resumed {
            cx.started = self.now;
        }
        // A new call while this thread's blocking call is outstanding comes from its blocking
        // hook (Winsock 1.1) or from an APC that interrupted the wait.
        let nested = !cx.resumed && self.threads.is_blocking(cx.thread);
        let routed = if let Some(rule) = cx
            .resumed
            .then(|| self.threads.take_interrupt(cx.thread))
            .flatten()
        {
            cx.rule(rule); // CL-4, CS-7, CL-13: the blocking call was cancelled.
            Err(Stop::Fail(WsaError::Interrupted))
        } else if let Err(e) = self.th_5(cx, threads::Hooked::Call { spec, nested }) {
            Err(Stop::Fail(e))
        } else {
            self.route(cx, spec, call)
        };
        self.poll_touched();
        self.poll_network_events();
        let result = match routed {
            Ok(reply) => Ok(reply),
            Err(Stop::Fail(e)) => Err(e),
            Err(Stop::Block(_)) if nested => {
                // SD-13: undefined on Windows; the simulator fails the inner call.
                let what = spec.name;
                self.diagnose(
                    cx,
                    Rule::Sd13,
                    format!("{what} would block inside an APC that interrupted a blocking call on the same thread"),
                );
                Err(WsaError::InProgress)
            }
            Err(Stop::Block(b)) => {
                let blocked = threads::BlockedCall {
                    process: cx.process,
                    socket: b.socket,
                    family: spec.family,
                };
                self.threads.block(cx.thread, blocked);
                return Step::Blocked(b);
            }
        };
        if !nested {
            self.threads.unblock(cx.thread);
            self.release_blocked_post(cx.thread);
        }
        let thread = cx.thread;
        let process = self.process_mut(cx.process);
        match (&result, spec.last_error) {
            (_, LastError::Untouched) | (Ok(_), LastError::Sets) => {}
            (Err(e), LastError::Sets | LastError::SetsAndClears) => {
                cx.rule(Rule::Er4);
                let code = match spec.codes {
                    Codes::Winsock => e.code(),
                    Codes::Win32 => e.win32_code(),
                };
                process.set_last_error(thread, code);
            }
            (Ok(_), LastError::SetsAndClears) => process.set_last_error(thread, 0),
        }
        Step::Done(result)
    }

    /// ER-1 then ER-5: the checks made before any argument is looked at.
    fn gate(&self, cx: &mut Cx) -> Result<(), WsaError> {
        let process = self.process(cx.process);
        if !process.is_started() {
            cx.rule(Rule::Er1);
            return Err(WsaError::NotInitialised);
        }
        if let Some(rule) = self.er_5_network_down(process.host()) {
            cx.rule(rule);
            return Err(WsaError::NetworkDown);
        }
        Ok(())
    }

    /// Sends a call to its handler: Ws2_32's own, or the socket's provider chain.
    fn route(&mut self, cx: &mut Cx, spec: Spec, call: &mut Call<'_>) -> Result<Reply, Stop> {
        match spec.gate {
            Gate::Started => self.gate(cx)?,
            Gate::None | Gate::Own => {}
        }
        match call {
            Call::Process(call) => self.route_process(cx, spec, call),
            Call::Kernel(call) => self.route_kernel(cx, spec, call),
            Call::Sockets(call) => self.route_sockets(cx, call),
            Call::Options(call) => self.route_options(cx, call),
            Call::Data(call) => self.route_data(cx, call),
            Call::Events(call) => self.route_events(cx, call),
            Call::Io(call) => self.route_io(cx, call),
            Call::Spi(call) => self.route_spi(cx, call),
        }
    }

    /// SP-11, the one place it is decided: the catalog, in `WSAEnumProtocolsW` order, answers
    /// both the enumeration and the choice of a new socket's entry, success or failure.
    fn sp_11_catalog(&self, cx: &mut Cx) -> &Catalog {
        cx.rule(Rule::Sp11);
        &self.catalog
    }

    /// KW-3, the one place it is decided: kernel32's clocks read virtual time. Tick counts
    /// are milliseconds since the simulation started (`GetTickCount` wraps at 2^32), the
    /// performance counter runs at 10 MHz, and the system time is 2000-01-01 00:00:00 UTC plus
    /// virtual time.
    ///
    /// # Divergence
    /// Windows' tick count starts at boot and its system time is the wall clock; a
    /// simulation has neither, so both start at fixed points and replay identically.
    fn kw_3_clock(&mut self, cx: &mut Cx, clock: call::Clock) -> u64 {
        use call::Clock;
        cx.rule(Rule::Kw3);
        let now = self.now;
        let ms = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
        let ticks = u64::try_from(now.as_nanos() / 100).unwrap_or(u64::MAX);
        match clock {
            Clock::TickCount => ms & u64::from(u32::MAX),
            Clock::TickCount64 => ms,
            Clock::PerformanceCounter => ticks.min(i64::MAX as u64),
            Clock::PerformanceFrequency => call::PERFORMANCE_FREQUENCY,
            Clock::SystemTimeAsFileTime => call::VIRTUAL_EPOCH_FILETIME.saturating_add(ticks),
        }
    }

    /// DU-2, the one place it is decided: a socket handle stores `HANDLE_FLAG_INHERIT` and
    /// `HANDLE_FLAG_PROTECT_FROM_CLOSE`. A new socket's handle is inheritable unless
    /// `WSASocketW` had `WSA_FLAG_NO_HANDLE_INHERIT` (Microsoft's `WSASocketW` reference; an
    /// accepted socket takes its listener's flags); `Set` changes the flags of `mask` (other
    /// bits are ignored), `Get` reads them (`Reply::Count`). A handle that is no open socket
    /// of the process fails `ERROR_INVALID_HANDLE`; a NULL `lpdwFlags` fails
    /// `ERROR_INVALID_PARAMETER`.
    ///
    /// # Divergence
    /// `HANDLE_FLAG_PROTECT_FROM_CLOSE` is stored and read back but does not stop
    /// `closesocket` (Windows documents the flag for `CloseHandle`).
    fn du_2_handle_flags(&mut self, cx: &mut Cx, s: Socket, what: Du2) -> Result<Reply, Stop> {
        // HANDLE_FLAG_INHERIT, HANDLE_FLAG_PROTECT_FROM_CLOSE.
        const INHERIT: u32 = 0x1;
        const KNOWN: u32 = INHERIT | 0x2;
        if let Du2::Set { .. } | Du2::Get { .. } = what {
            cx.rule(Rule::Du2);
        }
        let Ok(st) = self.process_mut(cx.process).socket_mut(cx, s) else {
            return Err(WsaError::InvalidHandle.into());
        };
        match what {
            // A new handle is inheritable unless `WSASocketW` was told otherwise.
            Du2::Created { flags } if flags & crate::consts::WSA_FLAG_NO_HANDLE_INHERIT != 0 => {
                st.handle_flags = 0;
                Ok(Reply::Done)
            }
            Du2::Created { .. } => {
                st.handle_flags = INHERIT;
                Ok(Reply::Done)
            }
            Du2::Set { mask, flags } => {
                let mask = mask & KNOWN;
                st.handle_flags = (st.handle_flags & !mask) | (flags & mask);
                Ok(Reply::Done)
            }
            Du2::Get { has_flags: true } => Ok(Reply::Count(st.handle_flags)),
            Du2::Get { has_flags: false } => Err(WsaError::InvalidParameter.into()),
        }
    }

    /// TH-1 and KW-1, the one place they are decided: the last error is one slot per
    /// simulated thread, read or written (`set`) without WSAStartup, by WSAGetLastError /
    /// WSASetLastError and kernel32's GetLastError / SetLastError alike.
    fn last_error_slot(&mut self, cx: &mut Cx, spec: Spec, set: Option<i32>) -> Reply {
        cx.rule(Rule::Th1);
        match spec.family {
            Family::Kernel32 => cx.rule(Rule::Kw1),
            Family::Winsock | Family::Spi => {}
        }
        let process = self.process_mut(cx.process);
        match set {
            Some(code) => {
                process.set_last_error(cx.thread, code);
                Reply::Done
            }
            None => Reply::LastError(process.last_error(cx.thread)),
        }
    }

    /// `WSAStartup` (ST-1..ST-6), and CL-12 when made from DllMain.
    fn ws2_startup(
        &mut self,
        cx: &mut Cx,
        requested: version::Version,
        data: Option<&mut [u8; version::WSADATA_SIZE]>,
    ) -> Result<Reply, Stop> {
        if cx.in_dllmain {
            self.diagnose(
                cx,
                Rule::Cl12,
                "WSAStartup called from DllMain (the loader lock is held)".into(),
            );
        }
        Ok(self.process_mut(cx.process).startup(cx, requested, data)?)
    }

    /// `WSACleanup` as called: CL-12 from DllMain, then
    /// [`cleanup`](World::cleanup).
    fn ws2_cleanup(&mut self, cx: &mut Cx) -> Result<Reply, Stop> {
        if cx.in_dllmain {
            self.diagnose(cx, Rule::Cl12, "WSACleanup called from DllMain (the loader lock is held): it unloads provider DLLs and can deadlock".into());
        }
        self.cleanup(cx)
    }

    /// `WSACleanup`: CL-1, CL-2, CL-3, CL-4, CL-8, CL-11; the final one unloads every
    /// provider the process loaded (SP-2..SP-6), which resets the sockets (CL-5, CL-6).
    fn cleanup(&mut self, cx: &mut Cx) -> Result<Reply, Stop> {
        let pid = cx.process;
        // A final cleanup that waited for a provider (SP-6) goes on where it stopped.
        if !self.is_unloading(pid) {
            if let Some(loaded) = self.process_mut(pid).cleanup(cx)? {
                // CL-4: every blocking Winsock call of the process's other threads returns
                // WSAEINTR (kernel32's waits are not Winsock calls, and go on).
                let me = cx.thread;
                self.threads.interrupt(cx, Rule::Cl4, |t, b| {
                    b.process == pid && t != me && b.family == Family::Winsock
                });
                self.begin_unload(pid, loaded);
            }
        }
        if self.is_unloading(pid) {
            self.unload(cx)?;
            // CL-8: nothing of the process's Ws2_32 state survives. Sockets a provider left
            // (one still started by a direct SPI client) are freed as CL-6 says.
            let left = self.process_mut(pid).release().unwrap_or_default();
            self.cl_6_release(cx, left);
            // CL-5 for those left sockets too: their operations end silently.
            self.abort_ops(|p, _| p == pid, false);
            cx.rule(Rule::Cl8);
        }
        if self.caller_network_down(cx) {
            // CL-11: the count was still decremented (and a final cleanup still performed).
            cx.rule(Rule::Cl11);
            return Err(WsaError::NetworkDown.into());
        }
        cx.rule(Rule::Cl3);
        Ok(Reply::Done)
    }

    /// `socket`/`WSASocketW`: the catalog chooses the entry (SP-11), Ws2_32 loads its chain's
    /// providers (SP-1) and the top one makes the socket.
    #[allow(clippy::too_many_arguments)]
    fn ws2_socket(
        &mut self,
        cx: &mut Cx,
        af: i32,
        ty: i32,
        protocol: i32,
        info: Option<&catalog::ProtocolInfo>,
        group: u32,
        flags: u32,
    ) -> Result<Reply, Stop> {
        let entry = self
            .sp_11_catalog(cx)
            .select(af, ty, protocol, info)?
            .clone();
        let chain = self.chain_of(&entry)?;
        self.load_chain(cx, &chain)?;
        let args = provider::SocketArgs {
            af,
            ty,
            protocol,
            entry,
            group,
            flags,
            reserved: info.map(|i| i.provider_reserved),
        };
        let before = self.generations.current();
        let s = self.call_provider(cx, chain.clone(), 0, |p, spi| p.socket(spi, &args))?;
        self.check_new_socket(cx, s, &chain, before, "WSPSocket")?;
        Ok(Reply::Socket(s))
    }

    /// SP-1: a socket a provider hands Ws2_32 must be a new handle of the chain's.
    fn check_new_socket(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        chain: &[provider::ProviderIdx],
        before: u64,
        what: &str,
    ) -> Result<(), WsaError> {
        // New: made after `before` (handles are generation-tagged, one counter per
        // simulation), and a socket of the chain.
        let new = Generations::is_newer(s, before);
        let ok = new && self.process(cx.process).socket_chain(s) == Some(chain);
        if !ok {
            let name = self.provider_info(chain[0]).name.clone();
            self.diagnose(
                cx,
                Rule::Sp1,
                format!("provider {name}: {what} succeeded with {s}, which is not a new socket of its chain"),
            );
            return Err(WsaError::ProviderFailedInit);
        }
        Ok(())
    }

    /// `WSADuplicateSocketW`: the socket's provider makes the token (`WSPDuplicateSocket`),
    /// and Ws2_32 writes the socket's catalog entry with it as `dwProviderReserved`. A bad
    /// handle fails `WSAENOTSOCK`, then a NULL or short `lpProtocolInfo` `WSAEFAULT` (ER-3),
    /// then the provider's answer (DU-1: an unknown process `WSAEINVAL`).
    fn ws2_duplicate(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        process: u32,
        info: Option<&mut [u8]>,
    ) -> Result<Reply, Stop> {
        let entry = self
            .process_mut(cx.process)
            .socket_mut(cx, s)?
            .entry
            .clone();
        let out = crate::core::er_3_pointers(
            cx,
            info.filter(|b| b.len() >= catalog::PROTOCOL_INFO_SIZE)
                .ok_or(WsaError::Fault),
        )?;
        let what = Wsp::call("WSPDuplicateSocket");
        let token = self.via_socket(cx, s, what, |p, spi| p.duplicate_socket(spi, s, process))?;
        let shared = catalog::ProtocolInfo {
            provider_reserved: token,
            ..entry
        };
        out[..catalog::PROTOCOL_INFO_SIZE].copy_from_slice(&shared.encode());
        Ok(Reply::Done)
    }

    /// `accept` through the listener's provider.
    fn ws2_accept(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        addr: Option<&mut [u8]>,
        mut len: Option<&mut i32>,
    ) -> Result<Reply, Stop> {
        let chain = self
            .process_mut(cx.process)
            .socket_mut(cx, s)?
            .chain
            .clone();
        let before = self.generations.current();
        let (room, len_before) = (
            addr.as_deref().map_or(0, <[u8]>::len),
            len.as_deref().copied(),
        );
        let (a, l) = (addr, len.as_deref_mut());
        let what = "WSPAccept";
        let new = self.via_socket(cx, s, Wsp::call(what), |p, spi| p.accept(spi, s, a, l))?;
        self.check_new_socket(cx, new, &chain, before, what)?;
        self.length_written(cx, s, what, len, len_before, room)?;
        Ok(Reply::Socket(new))
    }

    /// Ws2_32's own per-process calls: startup and cleanup, the last error, 1.1 blocking, the
    /// catalog and the name service.
    fn route_process(
        &mut self,
        cx: &mut Cx,
        spec: Spec,
        call: &mut ProcessCall<'_>,
    ) -> Result<Reply, Stop> {
        match call {
            ProcessCall::Startup { requested, data } => {
                self.ws2_startup(cx, *requested, data.as_deref_mut())
            }
            ProcessCall::GetLastError => Ok(self.last_error_slot(cx, spec, None)),
            ProcessCall::SetLastError(code) => Ok(self.last_error_slot(cx, spec, Some(*code))),
            ProcessCall::Cleanup => self.ws2_cleanup(cx),
            ProcessCall::IsBlocking => Ok(Reply::Count(u32::from(self.is_blocking(cx.thread)))),
            ProcessCall::CancelBlocking => self.ws2_cancel_blocking_call(cx),
            ProcessCall::SetBlockingHook(change) => self.set_blocking_hook(cx, change.clone()),
            ProcessCall::EnumProtocols {
                filter,
                buffer,
                len,
            } => Ok(enum_protocols(
                self.sp_11_catalog(cx),
                filter.as_deref(),
                buffer.as_deref_mut(),
                len.as_deref_mut(),
            )?),
            ProcessCall::RegisterName { name, addr } => self.register_name(cx, name, *addr),
            ProcessCall::LookupName { name } => self.lookup_name(cx, name),
            ProcessCall::Convert(c) => self.ad_5_convert(cx, c),
            ProcessCall::Resolve(r) => self.ad_4_resolve(cx, r),
        }
    }

    /// kernel32's thread and handle calls: the last error, handle flags and clocks.
    fn route_kernel(
        &mut self,
        cx: &mut Cx,
        spec: Spec,
        call: &mut KernelCall,
    ) -> Result<Reply, Stop> {
        match call {
            KernelCall::Win32GetLastError => Ok(self.last_error_slot(cx, spec, None)),
            KernelCall::Win32SetLastError(code) => {
                Ok(self.last_error_slot(cx, spec, Some(*code as i32)))
            }
            KernelCall::SetHandleInformation { s, mask, flags } => {
                let (mask, flags) = (*mask, *flags);
                self.du_2_handle_flags(cx, *s, Du2::Set { mask, flags })
            }
            KernelCall::GetHandleInformation { s, has_flags } => {
                let has_flags = *has_flags;
                self.du_2_handle_flags(cx, *s, Du2::Get { has_flags })
            }
            KernelCall::Clock(clock) => Ok(Reply::Time(self.kw_3_clock(cx, *clock))),
            KernelCall::CurrentProcessId => Ok(Reply::Count(cx.process.0)),
            KernelCall::Object(o) => self.kw_2_object(cx, o),
        }
    }

    /// `socket`, `accept` and `closesocket` (Ws2_32's table plus the provider), and the calls that
    /// bind, connect and name a socket, each down its provider chain.
    fn route_sockets(&mut self, cx: &mut Cx, call: &mut SocketCall<'_>) -> Result<Reply, Stop> {
        match call {
            SocketCall::Socket {
                af,
                ty,
                protocol,
                info,
                group,
                flags,
                ..
            } => {
                let r = self.ws2_socket(cx, *af, *ty, *protocol, info.as_ref(), *group, *flags);
                if let Ok(Reply::Socket(s)) = r {
                    let created = Du2::Created { flags: *flags };
                    self.du_2_handle_flags(cx, s, created)?;
                }
                r
            }
            SocketCall::CloseSocket(s) => self.ws2_close_socket(cx, *s),
            SocketCall::Duplicate { s, process, info } => {
                self.ws2_duplicate(cx, *s, *process, info.as_deref_mut())
            }
            SocketCall::Bind { s, addr } => {
                let (s, addr) = (*s, addr.as_deref());
                self.via_socket(cx, s, Wsp::call("WSPBind"), |p, spi| p.bind(spi, s, addr))
                    .map(done)
            }
            SocketCall::Listen { s, backlog } => {
                let (s, backlog) = (*s, *backlog);
                self.via_socket(cx, s, Wsp::call("WSPListen"), |p, spi| {
                    p.listen(spi, s, backlog)
                })
                .map(done)
            }
            SocketCall::Accept { s, addr, len } => {
                self.ws2_accept(cx, *s, addr.as_deref_mut(), len.as_deref_mut())
            }
            SocketCall::Connect { s, addr } => {
                let (s, addr) = (*s, addr.as_deref());
                self.via_socket(cx, s, Wsp::call("WSPConnect"), |p, spi| {
                    p.connect(spi, s, addr)
                })
                .map(done)
            }
            SocketCall::SockName { s, addr, len } => {
                let s = *s;
                let (a, l) = (addr.as_deref_mut(), len.as_deref_mut());
                self.via_socket_filling(cx, s, "WSPGetSockName", a, l, |p, spi, a, l| {
                    p.sock_name(spi, s, a, l)
                })
                .map(done)
            }
            SocketCall::PeerName { s, addr, len } => {
                let s = *s;
                let (a, l) = (addr.as_deref_mut(), len.as_deref_mut());
                self.via_socket_filling(cx, s, "WSPGetPeerName", a, l, |p, spi, a, l| {
                    p.peer_name(spi, s, a, l)
                })
                .map(done)
            }
        }
    }

    /// `setsockopt`, `getsockopt` and `ioctlsocket`, down the socket's provider chain.
    fn route_options(&mut self, cx: &mut Cx, call: &mut OptionCall<'_>) -> Result<Reply, Stop> {
        match call {
            OptionCall::SetSockOpt {
                s,
                level,
                name,
                value,
                len,
            } => {
                let (s, level, name, len) = (*s, *level, *name, *len);
                let value = value.as_deref();
                self.via_socket(cx, s, Wsp::call("WSPSetSockOpt"), |p, spi| {
                    p.set_sock_opt(spi, s, level, name, value, len)
                })
                .map(done)
            }
            OptionCall::GetSockOpt {
                s,
                level,
                name,
                value,
                len,
            } => {
                let (s, level, name) = (*s, *level, *name);
                let (v, l) = (value.as_deref_mut(), len.as_deref_mut());
                self.via_socket_filling(cx, s, "WSPGetSockOpt", v, l, |p, spi, v, l| {
                    p.get_sock_opt(spi, s, level, name, v, l)
                })
                .map(done)
            }
            OptionCall::IoctlSocket { s, cmd, arg } => {
                let (s, cmd, arg) = (*s, *cmd, arg.as_deref_mut());
                self.via_socket(cx, s, Wsp::call("WSPIoctl"), |p, spi| {
                    p.ioctl(spi, s, cmd, arg)
                })
                .map(done)
            }
            OptionCall::WsaIoctl {
                s,
                code,
                input,
                output,
                returned,
                req,
            } => {
                let (s, code, req) = (*s, *code, req.take());
                let (input, output) = (input.as_deref(), output.as_deref_mut());
                // Checked first, with or without an OVERLAPPED (win: sock.c).
                let returned = returned.as_deref_mut().ok_or(WsaError::Fault);
                let returned = crate::core::er_3_pointers(cx, returned)?;
                self.wsa_ioctl(cx, (s, code), (input, output), returned, req)
            }
        }
    }

    /// `WSAIoctl` down the socket's chain, once its `lpcbBytesReturned` is known good: the
    /// control's result, and for an overlapped call its completion (reported at once).
    fn wsa_ioctl(
        &mut self,
        cx: &mut Cx,
        (s, code): (Socket, u32),
        (input, output): (Option<&[u8]>, Option<&mut [u8]>),
        returned: &mut u32,
        req: Option<OpRequest>,
    ) -> Result<Reply, Stop> {
        let r = if req.is_some() && !ex_1_served_overlapped(code) {
            self.process_mut(cx.process).socket_mut(cx, s)?;
            Err(WsaError::OperationNotSupported.into())
        } else {
            self.via_socket(cx, s, Wsp::call("WSPIoctl"), |p, spi| {
                p.control(spi, s, code, input, output)
            })
        };
        match (r, req) {
            (Ok(c), req) => {
                *returned = c.bytes();
                if let Some(req) = req {
                    // The completion reports no bytes (win: sock.c).
                    self.complete_at_once(cx, s, req, Ok(0));
                }
                Ok(Reply::Control(c))
            }
            (Err(Stop::Fail(WsaError::OperationNotSupported)), Some(req)) => {
                let e = WsaError::OperationNotSupported;
                self.complete_at_once(cx, s, req, Err(e));
                Err(WsaError::IoPending.into())
            }
            (Err(Stop::Fail(e)), None) => {
                if let Some(n) = ex_1_count_on_failure(code, e) {
                    *returned = n;
                }
                Err(e.into())
            }
            (Err(stop), _) => Err(stop),
        }
    }

    /// Sends, receives, `shutdown` and the disconnect calls, down the socket's provider chain.
    fn route_data(&mut self, cx: &mut Cx, call: &mut DataCall<'_>) -> Result<Reply, Stop> {
        match call {
            DataCall::Send {
                s,
                buf,
                len,
                flags,
                to,
            } => self
                .ws2_send(cx, *s, buf.as_deref(), *len, *flags, *to)
                .map(count),
            DataCall::Recv {
                s,
                buf,
                len,
                flags,
                from,
                msg,
            } => {
                let from = from
                    .as_mut()
                    .map(|(b, l)| (b.as_deref_mut(), l.as_deref_mut()));
                let buf = buf.as_deref_mut();
                let (len, flags) = (*len, *flags);
                let a = RecvArgs {
                    buf,
                    len,
                    flags,
                    from,
                };
                self.received_to = None;
                let r = self.ws2_recv(cx, *s, a);
                if let Some(m) = msg.as_deref_mut() {
                    self.ex_5_message(cx, *s, &r, m);
                }
                r.map(count)
            }
            DataCall::Shutdown { s, how } => {
                let (s, how) = (*s, *how);
                self.via_socket(cx, s, Wsp::call("WSPShutdown"), |p, spi| {
                    p.shutdown(spi, s, how)
                })
                .map(done)
            }
            DataCall::SendDisconnect { s, data } => {
                let s = *s;
                let data = data
                    .as_ref()
                    .map(|d| crate::core::providers::net::WsaBufIn {
                        buf: d.buf,
                        len: d.len,
                    });
                self.via_socket(cx, s, Wsp::call("WSPSendDisconnect"), |p, spi| {
                    p.send_disconnect(spi, s, data)
                })
                .map(done)
            }
            DataCall::RecvDisconnect { s, data } => {
                let s = *s;
                let data = data
                    .as_mut()
                    .map(|d| crate::core::providers::net::WsaBufOut {
                        buf: d.buf.as_deref_mut(),
                        len: &mut *d.len,
                    });
                self.via_socket(cx, s, Wsp::call("WSPRecvDisconnect"), |p, spi| {
                    p.recv_disconnect(spi, s, data)
                })
                .map(done)
            }
        }
    }

    /// Event objects, `WSAEventSelect`, `select` and `WSAPoll`.
    fn route_events(&mut self, cx: &mut Cx, call: &mut EventCall<'_>) -> Result<Reply, Stop> {
        match call {
            EventCall::Poll {
                fds,
                count,
                timeout,
            } => self.pl_1_poll(cx, fds.as_deref_mut(), *count, *timeout),
            EventCall::CreateEvent => self.create_event(cx),
            EventCall::EventOp(h, op) => self.event_op(cx, *h, *op),
            EventCall::WaitEvents {
                events,
                wait_all,
                timeout,
                ..
            } => self.wait_events(
                cx,
                events.as_deref(),
                *wait_all,
                *timeout,
                "WSAWaitForMultipleEvents",
            ),
            EventCall::EventSelect { s, event, mask } => self.event_select(cx, *s, *event, *mask),
            EventCall::EnumNetworkEvents { s, event, out } => {
                self.enum_network_events(cx, *s, *event, out.as_deref_mut())
            }
            EventCall::Select {
                read,
                write,
                except,
                timeout,
            } => {
                let timeout = timeout.map_err(|()| WsaError::InvalidArgument)?;
                let sets = [
                    read.as_deref_mut(),
                    write.as_deref_mut(),
                    except.as_deref_mut(),
                ];
                self.select(cx, sets, timeout)
            }
        }
    }

    /// Overlapped operations, their results and completion ports.
    fn route_io(&mut self, cx: &mut Cx, call: &mut IoCall<'_>) -> Result<Reply, Stop> {
        match call {
            IoCall::CreatePort {
                socket,
                existing,
                key,
            } => self.create_port(cx, *socket, *existing, *key),
            IoCall::GetQueued { port, timeout } => self.dequeue_packet(cx, *port, *timeout),
            IoCall::Overlapped {
                s,
                req,
                fault,
                to,
                flags,
                ..
            } => {
                // A call that waits itself keeps its request for when it is made again.
                let again = req.as_ref().and_then(OpRequest::again);
                let mut req = match again {
                    Some(r) => r,
                    None => req.take().ok_or(WsaError::InvalidParameter)?,
                };
                crate::core::providers::accept_ex::pending_before_checks(&req);
                if let Some(raw) = *to {
                    if let Some(failed) = self.send_to_destination(cx, *s, &mut req, raw, *flags) {
                        return failed;
                    }
                }
                self.ws2_overlapped(cx, *s, provider::Overlapped { req, fault: *fault })
                    .map(count)
            }
            IoCall::OverlappedResult {
                s,
                key,
                record,
                wait,
                has_bytes,
            } => {
                let a = ResultArgs {
                    key: *key,
                    record: *record,
                    wait: *wait,
                    has_bytes: *has_bytes,
                };
                self.ws2_overlapped_result(cx, *s, a)
            }
            IoCall::GetOverlappedResult { .. }
            | IoCall::GetOverlappedResultEx { .. }
            | IoCall::GetQueuedEx { .. }
            | IoCall::PostPacket { .. }
            | IoCall::Cancel { .. } => self.route_kernel_io(cx, call),
        }
    }

    /// kernel32's side of overlapped I/O (EX-7), from [`World::route_io`].
    fn route_kernel_io(&mut self, cx: &mut Cx, call: &mut IoCall<'_>) -> Result<Reply, Stop> {
        match call {
            IoCall::GetOverlappedResult {
                s,
                record,
                wait,
                has_bytes,
            } => {
                let wait = if *wait {
                    ResultWait::Until(None)
                } else {
                    ResultWait::No
                };
                let what = Ex7::Result {
                    s: *s,
                    record: *record,
                    wait,
                    has_bytes: *has_bytes,
                };
                self.ex_7(cx, what)
            }
            IoCall::GetOverlappedResultEx {
                s,
                record,
                timeout,
                has_bytes,
                ..
            } => {
                let wait = match timeout {
                    Some(t) if t.is_zero() => ResultWait::No,
                    t => ResultWait::Until(*t),
                };
                let what = Ex7::Result {
                    s: *s,
                    record: *record,
                    wait,
                    has_bytes: *has_bytes,
                };
                self.ex_7(cx, what)
            }
            IoCall::GetQueuedEx {
                port, max, timeout, ..
            } => {
                let what = Ex7::Dequeue {
                    port: *port,
                    max: *max,
                    timeout: *timeout,
                };
                self.ex_7(cx, what)
            }
            IoCall::PostPacket { port, packet } => self.ex_7(
                cx,
                Ex7::Post {
                    port: *port,
                    packet: *packet,
                },
            ),
            IoCall::Cancel { s, which } => self.ex_7(
                cx,
                Ex7::Cancel {
                    s: *s,
                    which: *which,
                },
            ),
            IoCall::CreatePort { .. }
            | IoCall::GetQueued { .. }
            | IoCall::Overlapped { .. }
            | IoCall::OverlappedResult { .. } => {
                unreachable!("route_io routes these itself")
            }
        }
    }

    /// The SPI client's direct `WSPStartup` / `WSPCleanup` ([`crate::spi::Client`]).
    fn route_spi(&mut self, cx: &mut Cx, call: &mut SpiCall) -> Result<Reply, Stop> {
        match call {
            SpiCall::SpiStartup {
                provider,
                requested,
            } => self
                .spi_startup(cx, *provider, *requested)
                .map(Reply::Negotiated),
            SpiCall::SpiCleanup { provider } => self.spi_cleanup(cx, *provider).map(done),
        }
    }

    /// `closesocket`: CS-1 (unknown or closed handle → `WSAENOTSOCK`), then the socket's
    /// provider closes it.
    fn ws2_close_socket(&mut self, cx: &mut Cx, s: Socket) -> Result<Reply, Stop> {
        if let Err(e) = self.process_mut(cx.process).socket_mut(cx, s) {
            Machine::cs_1(cx, Err(e))?;
        }
        self.via_socket(cx, s, Wsp::call("WSPCloseSocket"), |p, spi| {
            p.close_socket(spi, s)
        })?;
        if let Some(&top) = self
            .process(cx.process)
            .socket_chain(s)
            .and_then(<[_]>::first)
        {
            let name = self.provider_info(top).name.clone();
            self.diagnose(
                cx,
                Rule::Cs1,
                format!("provider {name}: WSPCloseSocket succeeded but {s} is still open"),
            );
        }
        Ok(Reply::Done)
    }

    /// `WSACancelBlockingCall`: through the provider of the socket the thread's blocking call
    /// waits on, if it waits on one.
    fn ws2_cancel_blocking_call(&mut self, cx: &mut Cx) -> Result<Reply, Stop> {
        let socket = self.threads.blocked_on(cx.thread);
        match socket.filter(|s| self.process(cx.process).socket_chain(*s).is_some()) {
            Some(s) => self
                .via_socket(cx, s, Wsp::call("WSPCancelBlockingCall"), |p, spi| {
                    p.cancel_blocking_call(spi)
                })
                .map(done),
            None => self.cancel_blocking_call(cx),
        }
    }
}

/// A data call's reply: the byte count.
fn count(n: usize) -> Reply {
    Reply::Count(n as u32)
}

/// A call that returns 0 on success.
fn done((): ()) -> Reply {
    Reply::Done
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
