//! A call's arguments as the trace shows them: each one named (Windows' parameter name where
//! the argument is one parameter, a short description where it sums several up) with its
//! value as text, symbolic names where Winsock has them.
//!
//! [`Call::arguments`] is the only place a call's arguments are turned into text; the trace's
//! one-line form (`Event::args`) is their values joined with `", "`, and its JSON lines carry
//! them as a list of `{name, value}` objects.
//!
//! No value is an address in the caller's memory or anything else that differs between two
//! runs of the same seed (TH-2): buffers show as `buf` or their bytes, pointers as `NULL` or
//! what they point to. This module decides no rule and holds no state.

use std::fmt;

use super::call::{
    Call, Cancel, Conversion, DataCall, EventCall, HookChange, IoCall, KernelCall, ObjectCall,
    OptionCall, ProcessCall, Resolution, SocketCall, SpiCall, TextOut,
};
use super::overlapped::OpKind;
use crate::consts::*;

/// One argument: its name and its value's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The parameter's name (`s`, `level`, `lpOverlapped`).
    pub name: &'static str,
    /// Its value as the trace shows it (`0x400000`, `SOL_SOCKET`, `NULL`).
    pub value: String,
}

/// A call's arguments, in parameter order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args(Vec<Arg>);

impl Args {
    /// Appends an argument.
    pub(crate) fn arg(&mut self, name: &'static str, value: impl fmt::Display) -> &mut Args {
        self.0.push(Arg {
            name,
            value: value.to_string(),
        });
        self
    }

    /// The arguments, in order.
    pub fn into_vec(self) -> Vec<Arg> {
        self.0
    }
}

impl fmt::Display for Args {
    /// The values joined with `", "`: `0x400000, SOL_SOCKET, SO_TYPE, buf, &4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&a.value)?;
        }
        Ok(())
    }
}

impl Call<'_> {
    /// The call's arguments, named, as the trace shows them.
    pub fn arguments(&self) -> Args {
        let mut a = Args::default();
        match self {
            Call::Process(c) => c.args(&mut a),
            Call::Kernel(c) => c.args(&mut a),
            Call::Sockets(c) => c.args(&mut a),
            Call::Options(c) => c.args(&mut a),
            Call::Data(c) => c.args(&mut a),
            Call::Events(c) => c.args(&mut a),
            Call::Io(c) => c.args(&mut a),
            Call::Spi(c) => c.args(&mut a),
        }
        a
    }
}

impl fmt::Display for Call<'_> {
    /// The arguments as the trace shows them, with symbolic names where Winsock has them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.arguments().fmt(f)
    }
}

impl ProcessCall<'_> {
    fn args(&self, a: &mut Args) {
        match self {
            ProcessCall::Startup { requested, data } => {
                a.arg(
                    "wVersionRequested",
                    format_args!("{:#06x} ({requested})", requested.word()),
                )
                .arg("lpWSAData", ptr(data));
            }
            ProcessCall::Cleanup | ProcessCall::GetLastError => {}
            ProcessCall::SetLastError(code) => {
                a.arg("iError", error_name(*code));
            }
            ProcessCall::IsBlocking | ProcessCall::CancelBlocking => {}
            // Function addresses differ between runs: the trace only says whether there is one.
            ProcessCall::SetBlockingHook(h) => match h {
                HookChange::Set(None) => {
                    a.arg("lpBlockFunc", "NULL");
                }
                HookChange::Set(Some(_)) => {
                    a.arg("lpBlockFunc", "hook");
                }
                HookChange::Unhook => {}
            },
            ProcessCall::EnumProtocols {
                filter,
                buffer,
                len,
            } => {
                match filter {
                    Some(p) => a.arg("lpiProtocols", format_args!("{p:?}")),
                    None => a.arg("lpiProtocols", "NULL"),
                };
                a.arg("lpProtocolBuffer", ptr(buffer))
                    .arg("lpdwBufferLength", out_len(len));
            }
            ProcessCall::RegisterName {
                name,
                addr: Some(addr),
            } => {
                a.arg("service", format_args!("{name:?} -> {addr}"));
            }
            ProcessCall::RegisterName { name, addr: None } | ProcessCall::LookupName { name } => {
                a.arg("service", format_args!("{name:?}"));
            }
            ProcessCall::Convert(c) => c.args(a),
            ProcessCall::Resolve(r) => r.args(a),
        }
    }
}

/// `NULL`, or the string quoted.
fn text(t: &Option<String>) -> String {
    t.as_ref().map_or("NULL".into(), |t| format!("{t:?}"))
}

impl Resolution<'_> {
    fn args(&self, a: &mut Args) {
        match self {
            Resolution::GetAddrInfo {
                node,
                service,
                hints,
                key,
                ..
            } => {
                a.arg("pNodeName", text(node))
                    .arg("pServiceName", text(service));
                match hints {
                    Some(h) => a.arg(
                        "pHints",
                        format_args!(
                            "{{flags {:#x}, family {}, socktype {}, protocol {}}}",
                            h.flags, h.family, h.socktype, h.protocol
                        ),
                    ),
                    None => a.arg("pHints", "NULL"),
                };
                a.arg("ppResult", or_null(key.is_some(), "&result"));
            }
            Resolution::FreeAddrInfo { .. } => {
                a.arg("pAddrInfo", "list");
            }
            Resolution::GetHostName { out } => match out {
                TextOut::Null => {
                    a.arg("name", "NULL");
                }
                TextOut::Narrow(b) => {
                    a.arg("name", "buf").arg("namelen", b.len());
                }
                TextOut::Wide(w) => {
                    a.arg("name", "buf").arg("namelen", w.len());
                }
            },
        }
    }
}

/// `NULL`, or `buf[N]` for a string buffer of N units.
fn room(o: &TextOut<'_>) -> String {
    match o {
        TextOut::Null => "NULL".to_string(),
        TextOut::Narrow(b) => format!("buf[{}]", b.len()),
        TextOut::Wide(w) => format!("buf[{}]", w.len()),
    }
}

impl Conversion<'_> {
    fn args(&self, a: &mut Args) {
        match self {
            Conversion::Pton {
                family,
                text: t,
                out,
                ..
            } => {
                a.arg("Family", family)
                    .arg("pszAddrString", text(t))
                    .arg("pAddrBuf", ptr(out));
            }
            Conversion::Ntop { family, addr, out } => {
                a.arg("Family", family)
                    .arg("pAddr", addr.map_or("NULL".into(), hex))
                    .arg("pStringBuf", room(out));
            }
            Conversion::StringToAddress {
                text: t,
                family,
                out,
                len,
            } => {
                a.arg("AddressString", text(t))
                    .arg("AddressFamily", family)
                    .arg("lpProtocolInfo", "NULL")
                    .arg("lpAddress", ptr(out))
                    .arg("lpAddressLength", out_len(len));
            }
            Conversion::AddressToString { addr, out, room: r } => {
                a.arg("lpsaAddress", addr.map_or("NULL".into(), hex))
                    .arg("dwAddressLength", addr.map_or(0, <[u8]>::len))
                    .arg("lpProtocolInfo", "NULL")
                    .arg("lpszAddressString", room(out))
                    .arg("lpdwAddressStringLength", out_len(r));
            }
        }
    }
}

impl KernelCall {
    fn args(&self, a: &mut Args) {
        match self {
            KernelCall::Win32GetLastError => {}
            KernelCall::Win32SetLastError(code) => {
                a.arg("dwErrCode", code);
            }
            KernelCall::Clock(_) | KernelCall::CurrentProcessId => {}
            KernelCall::Object(o) => o.args(a),
            KernelCall::SetHandleInformation { s, mask, flags } => {
                a.arg("hObject", s)
                    .arg("dwMask", format_args!("{mask:#x}"))
                    .arg("dwFlags", format_args!("{flags:#x}"));
            }
            KernelCall::GetHandleInformation { s, has_flags } => {
                a.arg("hObject", s)
                    .arg("lpdwFlags", or_null(*has_flags, "&flags"));
            }
        }
    }
}

/// `TRUE` or `FALSE`.
fn b(v: bool) -> &'static str {
    if v {
        "TRUE"
    } else {
        "FALSE"
    }
}

/// `what` when the pointer is there, else `NULL` (never an address: TH-2).
fn or_null(present: bool, what: &'static str) -> &'static str {
    if present {
        what
    } else {
        "NULL"
    }
}

impl ObjectCall {
    fn args(&self, a: &mut Args) {
        match self {
            ObjectCall::CreateEvent {
                manual,
                initial,
                named,
            } => {
                a.arg("lpEventAttributes", "NULL")
                    .arg("bManualReset", b(*manual))
                    .arg("bInitialState", b(*initial))
                    .arg("lpName", or_null(*named, "name"));
            }
            ObjectCall::SetEvent(h) | ObjectCall::ResetEvent(h) => {
                a.arg("hEvent", h);
            }
            ObjectCall::CloseHandle(h) => {
                a.arg("hObject", format_args!("{h:#x}"));
            }
            ObjectCall::Wait {
                handles,
                wait_all,
                timeout,
                alertable,
                single,
                ex,
            } => {
                if *single {
                    let h = match handles {
                        Some(h) if h.len() == 1 => h[0].to_string(),
                        Some(h) => list(h),
                        None => "NULL".to_string(),
                    };
                    a.arg("hHandle", h);
                } else {
                    a.arg("nCount", handles.as_ref().map_or(0, Vec::len))
                        .arg(
                            "lpHandles",
                            handles.as_ref().map_or("NULL".into(), |h| list(h)),
                        )
                        .arg("bWaitAll", b(*wait_all));
                }
                match timeout {
                    Some(t) => a.arg("dwMilliseconds", t.as_millis()),
                    None => a.arg("dwMilliseconds", "INFINITE"),
                };
                if *ex {
                    a.arg("bAlertable", b(*alertable));
                }
            }
        }
    }
}

/// `[a, b, c]`.
fn list<T: fmt::Display>(items: &[T]) -> String {
    let v: Vec<String> = items.iter().map(ToString::to_string).collect();
    format!("[{}]", v.join(", "))
}

impl SocketCall<'_> {
    fn args(&self, a: &mut Args) {
        match self {
            SocketCall::Socket {
                af,
                ty,
                protocol,
                info,
                group,
                flags,
                wsa,
            } => {
                a.arg("af", af_name(*af))
                    .arg("type", type_name(*ty))
                    .arg("protocol", proto_name(*protocol));
                if *wsa {
                    match info {
                        Some(i) => a.arg(
                            "lpProtocolInfo",
                            format_args!("&{{catalog entry {}}}", i.catalog_entry_id),
                        ),
                        None => a.arg("lpProtocolInfo", "NULL"),
                    };
                    a.arg("g", group).arg("dwFlags", format_args!("{flags:#x}"));
                }
            }
            SocketCall::CloseSocket(s) => {
                a.arg("s", s);
            }
            SocketCall::Duplicate { s, process, info } => {
                a.arg("s", s).arg("dwProcessId", process).arg(
                    "lpProtocolInfo",
                    or_null(info.is_some(), "&WSAPROTOCOL_INFOW"),
                );
            }
            SocketCall::Bind { s, addr } | SocketCall::Connect { s, addr } => {
                a.arg("s", s).arg("name", addr_text(*addr));
            }
            SocketCall::Listen { s, backlog } => {
                a.arg("s", s).arg("backlog", backlog);
            }
            SocketCall::Accept { s, addr, len }
            | SocketCall::SockName { s, addr, len }
            | SocketCall::PeerName { s, addr, len } => {
                a.arg("s", s)
                    .arg("name", ptr(addr))
                    .arg("namelen", out_len(len));
            }
        }
    }
}

impl OptionCall<'_> {
    fn args(&self, a: &mut Args) {
        match self {
            OptionCall::SetSockOpt {
                s,
                level,
                name,
                value,
                len,
            } => {
                a.arg("s", s)
                    .arg("level", level_name(*level))
                    .arg("optname", opt_name(*name))
                    .arg("optval", value.map_or("NULL".into(), hex))
                    .arg("optlen", len);
            }
            OptionCall::GetSockOpt {
                s,
                level,
                name,
                value,
                len,
            } => {
                a.arg("s", s)
                    .arg("level", level_name(*level))
                    .arg("optname", opt_name(*name))
                    .arg("optval", ptr(value))
                    .arg("optlen", out_len(len));
            }
            OptionCall::IoctlSocket { s, cmd, arg } => {
                a.arg("s", s)
                    .arg("cmd", ioctl_name(*cmd))
                    .arg("argp", out_len(arg));
            }
            OptionCall::WsaIoctl {
                s,
                code,
                input,
                output,
                returned,
                req,
            } => {
                a.arg("s", s)
                    .arg("dwIoControlCode", ioctl_name(*code as i32))
                    .arg("lpvInBuffer", input.map_or("NULL".into(), hex))
                    .arg("cbInBuffer", input.map_or(0, <[u8]>::len))
                    .arg("lpvOutBuffer", ptr(output))
                    .arg("cbOutBuffer", output.as_ref().map_or(0, |o| o.len()))
                    .arg("lpcbBytesReturned", or_null(returned.is_some(), "&n"))
                    // Never the address: traces are the same on every run (TH-2).
                    .arg("lpOverlapped", or_null(req.is_some(), "&ov"));
            }
        }
    }
}

impl DataCall<'_> {
    fn args(&self, a: &mut Args) {
        match self {
            DataCall::Send {
                s,
                buf,
                len,
                flags,
                to,
            } => {
                a.arg("s", s)
                    .arg("buf", buf.map_or("NULL".into(), hex))
                    .arg("len", len)
                    .arg("flags", format_args!("{flags:#x}"));
                if let Some(to) = to {
                    a.arg("to", addr_text(*to));
                }
            }
            DataCall::Recv {
                s,
                buf,
                len,
                flags,
                from,
                ..
            } => {
                a.arg("s", s)
                    .arg("buf", ptr(buf))
                    .arg("len", len)
                    .arg("flags", format_args!("{flags:#x}"));
                if let Some((from, fromlen)) = from {
                    a.arg("from", ptr(from)).arg("fromlen", out_len(fromlen));
                }
            }
            DataCall::Shutdown { s, how } => {
                let how = named(
                    *how,
                    &[
                        (SD_RECEIVE, "SD_RECEIVE"),
                        (SD_SEND, "SD_SEND"),
                        (SD_BOTH, "SD_BOTH"),
                    ],
                );
                a.arg("s", s).arg("how", how);
            }
            DataCall::SendDisconnect { s, data } => {
                a.arg("s", s);
                match data {
                    None => a.arg("lpOutboundDisconnectData", "NULL"),
                    Some(d) => {
                        let bytes = d
                            .buf
                            .map_or("NULL".into(), |b| hex(&b[..b.len().min(d.len as usize)]));
                        a.arg(
                            "lpOutboundDisconnectData",
                            format_args!("&{{len {}, {bytes}}}", d.len),
                        )
                    }
                };
            }
            DataCall::RecvDisconnect { s, data } => {
                a.arg("s", s);
                match data {
                    None => a.arg("lpInboundDisconnectData", "NULL"),
                    Some(d) => a.arg(
                        "lpInboundDisconnectData",
                        format_args!("&{{len {}, {}}}", d.len, ptr(&d.buf)),
                    ),
                };
            }
        }
    }
}

impl EventCall<'_> {
    fn args(&self, a: &mut Args) {
        match self {
            EventCall::Poll {
                fds,
                count,
                timeout,
            } => {
                a.arg("fdArray", or_null(fds.is_some(), "&fds"))
                    .arg("fds", count)
                    .arg("timeout", timeout.map_or(-1, |t| t.as_millis() as i64));
            }
            EventCall::CreateEvent => {}
            EventCall::EventOp(h, _) => {
                a.arg("hEvent", h);
            }
            EventCall::WaitEvents {
                events,
                wait_all,
                timeout,
                alertable,
            } => {
                a.arg(
                    "lphEvents",
                    events.as_ref().map_or("NULL".into(), |h| list(h)),
                )
                .arg("fWaitAll", wait_all);
                match timeout {
                    Some(t) => a.arg("dwTimeout", t.as_millis()),
                    None => a.arg("dwTimeout", "WSA_INFINITE"),
                };
                a.arg("fAlertable", alertable);
            }
            EventCall::EventSelect { s, event, mask } => {
                a.arg("s", s)
                    .arg("hEventObject", event)
                    .arg("lNetworkEvents", format_args!("{mask:#x}"));
            }
            EventCall::EnumNetworkEvents { s, event, out } => {
                a.arg("s", s)
                    .arg(
                        "hEventObject",
                        event.map_or("NULL".into(), |h| h.to_string()),
                    )
                    .arg("lpNetworkEvents", ptr(out));
            }
            EventCall::Select {
                read,
                write,
                except,
                timeout,
            } => {
                let set = |v: &Option<&mut Vec<super::ws2::table::Socket>>| {
                    v.as_ref().map_or("NULL".into(), |v| {
                        let s: Vec<String> = v.iter().map(|s| s.to_string()).collect();
                        format!("{{{}}}", s.join(", "))
                    })
                };
                let t = match timeout {
                    Ok(None) => "NULL".into(),
                    Ok(Some(t)) => format!("{t:?}"),
                    Err(()) => "negative".into(),
                };
                a.arg("readfds", set(read))
                    .arg("writefds", set(write))
                    .arg("exceptfds", set(except))
                    .arg("timeout", t);
            }
        }
    }
}

/// `INFINITE`, or the milliseconds.
fn millis(t: &Option<std::time::Duration>) -> String {
    t.map_or("INFINITE".into(), |t| t.as_millis().to_string())
}

/// `&OVERLAPPED` or `NULL`: whether the call names one (never its address, TH-2).
fn overlapped<T>(p: &Option<T>) -> &'static str {
    or_null(p.is_some(), "&OVERLAPPED")
}

impl IoCall<'_> {
    fn args(&self, a: &mut Args) {
        match self {
            IoCall::Overlapped { s, req, .. } => {
                a.arg("s", s);
                if let Some(r) = req {
                    overlapped_op(r, a);
                }
            }
            IoCall::OverlappedResult { s, key, wait, .. } => {
                a.arg("s", s)
                    .arg("lpOverlapped", overlapped(key))
                    .arg("fWait", wait);
            }
            IoCall::GetOverlappedResult {
                s, record, wait, ..
            } => {
                a.arg("hFile", s)
                    .arg("lpOverlapped", overlapped(record))
                    .arg("bWait", wait);
            }
            IoCall::CreatePort {
                socket,
                existing,
                key,
            } => {
                let file = socket.map_or("INVALID_HANDLE_VALUE".into(), |s| s.to_string());
                let port = existing.map_or("NULL".into(), |p| p.to_string());
                a.arg("FileHandle", file)
                    .arg("ExistingCompletionPort", port);
                a.arg("CompletionKey", format_args!("{key:#x}"));
            }
            IoCall::GetQueued { port, timeout } => {
                a.arg("CompletionPort", port)
                    .arg("dwMilliseconds", millis(timeout));
            }
            IoCall::GetOverlappedResultEx {
                s,
                record,
                timeout,
                alertable,
                ..
            } => {
                a.arg("hFile", s)
                    .arg("lpOverlapped", overlapped(record))
                    .arg("dwMilliseconds", millis(timeout))
                    .arg("bAlertable", alertable);
            }
            IoCall::GetQueuedEx {
                port,
                max,
                timeout,
                alertable,
            } => {
                a.arg("CompletionPort", port)
                    .arg("ulCount", format_args!("room for {max}"))
                    .arg("dwMilliseconds", millis(timeout))
                    .arg("fAlertable", alertable);
            }
            IoCall::PostPacket { port, packet } => {
                let ov = overlapped(&(packet.overlapped != 0).then_some(()));
                a.arg("CompletionPort", port)
                    .arg("dwNumberOfBytesTransferred", packet.bytes)
                    .arg("dwCompletionKey", format_args!("{:#x}", packet.key))
                    .arg("lpOverlapped", ov);
            }
            IoCall::Cancel { s, which } => {
                a.arg("hFile", s);
                // CancelIoEx names an OVERLAPPED or NULL (all); CancelIo has no such argument.
                if let Cancel::All | Cancel::One(_) = which {
                    a.arg(
                        "lpOverlapped",
                        overlapped(&Some(which).filter(|w| **w != Cancel::All)),
                    );
                }
            }
        }
    }
}

/// An overlapped operation's own arguments: what it moves, its `OVERLAPPED` and routine.
fn overlapped_op(r: &super::overlapped::OpRequest, a: &mut Args) {
    match &r.kind {
        OpKind::Send { data, .. } => {
            a.arg("lpBuffers", format_args!("{} bytes", data.len()));
        }
        OpKind::Recv { capacity, .. } => {
            a.arg("lpBuffers", format_args!("room for {capacity} bytes"));
        }
        OpKind::Control => {
            a.arg("dwIoControlCode", "a control code");
        }
        OpKind::Connect { data, .. } => {
            a.arg(
                "lpSendBuffer",
                format_args!("connect, then {} bytes", data.len()),
            );
        }
        OpKind::Accept {
            accept, lengths, ..
        } => {
            a.arg("sAcceptSocket", format_args!("accept into {accept}"))
                .arg(
                    "dwReceiveDataLength",
                    format_args!("room for {} bytes", lengths.data),
                )
                .arg(
                    "dwLocalAddressLength",
                    format_args!("{} + {} for addresses", lengths.local, lengths.remote),
                );
        }
        OpKind::Disconnect { flags, .. } => {
            a.arg("dwFlags", format_args!("flags {flags:#x}"));
        }
    }
    if let OpKind::Disconnect { blocking: true, .. } = r.kind {
        a.arg("lpOverlapped", "NULL");
        return;
    }
    let ev = r.event.map_or("NULL".into(), |e| e.to_string());
    a.arg("lpOverlapped", format_args!("&OVERLAPPED{{hEvent {ev}}}"))
        .arg(
            "lpCompletionRoutine",
            or_null(r.routine.is_some(), "routine"),
        );
}

impl SpiCall {
    fn args(&self, a: &mut Args) {
        match self {
            SpiCall::SpiStartup {
                provider,
                requested,
            } => {
                a.arg(
                    "wVersionRequested",
                    format_args!("{:#06x} ({requested})", requested.word()),
                )
                .arg("lpProtocolInfo", format_args!("provider {provider}"));
            }
            SpiCall::SpiCleanup { provider } => {
                a.arg("provider", format_args!("provider {provider}"));
            }
        }
    }
}

/// `NULL`, or `&N` for an in-out length (or value) the call reads through a pointer.
fn out_len<T: fmt::Display>(len: &Option<T>) -> String {
    len.as_ref().map_or("NULL".into(), |l| format!("&{l}"))
}

/// An address argument as the trace shows it: `10.0.0.2:80`, or how it is malformed.
fn addr_text(addr: Option<&[u8]>) -> String {
    match addr {
        None => "NULL".into(),
        Some(b) => match super::providers::sockaddr::decode(b) {
            Ok(a) => a.to_string(),
            Err(_) => format!("{} bytes", b.len()),
        },
    }
}

fn ptr<T>(p: &Option<T>) -> &'static str {
    or_null(p.is_some(), "buf")
}

fn hex(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > 16 { " .." } else { "" };
    format!("[{}{more}]", shown.join(" "))
}

/// `WSAENOTSOCK` for 10038, the number itself for values the simulator never reports.
pub fn error_name(code: i32) -> String {
    match crate::WsaError::from_code(code) {
        Some(e) => e.name().to_owned(),
        None => code.to_string(),
    }
}

fn named(v: i32, names: &[(i32, &str)]) -> String {
    names
        .iter()
        .find(|(k, _)| *k == v)
        .map_or_else(|| format!("{v:#x}"), |(_, n)| (*n).to_owned())
}

fn af_name(v: i32) -> String {
    named(
        v,
        &[
            (i32::from(AF_UNSPEC), "AF_UNSPEC"),
            (i32::from(AF_INET), "AF_INET"),
            (i32::from(AF_INET6), "AF_INET6"),
            (FROM_PROTOCOL_INFO, "FROM_PROTOCOL_INFO"),
        ],
    )
}

fn type_name(v: i32) -> String {
    named(
        v,
        &[
            (0, "0"),
            (SOCK_STREAM, "SOCK_STREAM"),
            (SOCK_DGRAM, "SOCK_DGRAM"),
            (SOCK_RAW, "SOCK_RAW"),
            (FROM_PROTOCOL_INFO, "FROM_PROTOCOL_INFO"),
        ],
    )
}

fn proto_name(v: i32) -> String {
    named(
        v,
        &[
            (0, "0"),
            (IPPROTO_TCP, "IPPROTO_TCP"),
            (IPPROTO_UDP, "IPPROTO_UDP"),
            (
                IPPROTO_WS2SIM_DISCONNECT_DATA,
                "IPPROTO_WS2SIM_DISCONNECT_DATA",
            ),
            (FROM_PROTOCOL_INFO, "FROM_PROTOCOL_INFO"),
        ],
    )
}

fn level_name(v: i32) -> String {
    named(
        v,
        &[
            (SOL_SOCKET, "SOL_SOCKET"),
            (IPPROTO_TCP, "IPPROTO_TCP"),
            (IPPROTO_UDP, "IPPROTO_UDP"),
            (IPPROTO_IP, "IPPROTO_IP"),
        ],
    )
}

fn opt_name(v: i32) -> String {
    named(
        v,
        &[
            (SO_DEBUG, "SO_DEBUG"),
            (SO_ACCEPTCONN, "SO_ACCEPTCONN"),
            (SO_REUSEADDR, "SO_REUSEADDR"),
            (SO_KEEPALIVE, "SO_KEEPALIVE"),
            (SO_DONTROUTE, "SO_DONTROUTE"),
            (SO_BROADCAST, "SO_BROADCAST"),
            (SO_LINGER, "SO_LINGER"),
            (SO_OOBINLINE, "SO_OOBINLINE"),
            (SO_DONTLINGER, "SO_DONTLINGER"),
            (SO_EXCLUSIVEADDRUSE, "SO_EXCLUSIVEADDRUSE"),
            (SO_SNDBUF, "SO_SNDBUF"),
            (SO_RCVBUF, "SO_RCVBUF"),
            (SO_SNDTIMEO, "SO_SNDTIMEO"),
            (SO_RCVTIMEO, "SO_RCVTIMEO"),
            (SO_ERROR, "SO_ERROR"),
            (SO_TYPE, "SO_TYPE"),
            (SO_MAX_MSG_SIZE, "SO_MAX_MSG_SIZE"),
            (SO_PROTOCOL_INFOW, "SO_PROTOCOL_INFOW"),
        ],
    )
}

fn ioctl_name(v: i32) -> String {
    named(
        v,
        &[
            (FIONBIO, "FIONBIO"),
            (FIONREAD, "FIONREAD"),
            (SIOCATMARK, "SIOCATMARK"),
            (SIO_KEEPALIVE_VALS as i32, "SIO_KEEPALIVE_VALS"),
            (SIO_BASE_HANDLE as i32, "SIO_BASE_HANDLE"),
            (SIO_BSP_HANDLE as i32, "SIO_BSP_HANDLE"),
            (SIO_BSP_HANDLE_SELECT as i32, "SIO_BSP_HANDLE_SELECT"),
            (SIO_BSP_HANDLE_POLL as i32, "SIO_BSP_HANDLE_POLL"),
            (
                SIO_GET_EXTENSION_FUNCTION_POINTER as i32,
                "SIO_GET_EXTENSION_FUNCTION_POINTER",
            ),
        ],
    )
}
