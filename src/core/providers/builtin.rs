//! What the built-in base providers have in common: a startup count (SP-2, SP-3) and the
//! [`Provider`] methods, which are the socket calls of `net.rs`, `sockopt.rs` and the
//! overlapped queue.

use crate::core::call::Reply;
use crate::core::catalog::{Guid, ProtocolInfo};
use crate::core::overlapped::ResultArgs;
use crate::core::provider::{
    DataLocation, Negotiated, Protocol, Provider, ProviderIdx, ProviderInfo, SocketArgs, Spi,
};
use crate::core::providers::duplicate::{Du1, Du1Outcome};
use crate::core::providers::net::RecvArgs;
use crate::core::providers::{disconnect, msafd};
use crate::core::request::{Request, Response};
use crate::core::rules::Rule;
use crate::core::ws2::spi_client::{sp_3, Sp3};
use crate::core::ws2::version::Version;
use crate::core::{Cx, Machine, Socket, Stop};
use crate::error::WsaError;

/// How many built-in providers there are: they register first.
pub const BUILTIN_PROVIDERS: usize = 2;

/// A built-in base provider: a startup count over the simulated transport.
#[derive(Debug, Clone)]
pub struct Builtin {
    info: ProviderInfo,
    /// SP-2: successful `WSPStartup`s not yet matched by a `WSPCleanup`.
    clients: u32,
}

impl Builtin {
    /// The built-in providers, in catalog order (SP-11): MSAFD Tcpip, then the
    /// disconnect-data provider.
    pub fn all() -> Vec<Builtin> {
        vec![msafd::provider(), disconnect::provider()]
    }

    /// A base provider named `name` serving `entries` (all of provider `id`), SPI 2.0 to 2.2,
    /// its unsent data in the transport (SP-7).
    pub(crate) fn new(id: Guid, name: &str, entries: Vec<ProtocolInfo>) -> Builtin {
        debug_assert!(entries.iter().all(|e| e.provider_id == id));
        Builtin {
            info: ProviderInfo {
                id,
                name: name.to_owned(),
                protocols: entries.into_iter().map(Protocol::Base).collect(),
                lowest: Version::new(2, 0),
                highest: Version::new(2, 2),
                data: DataLocation::Transport,
            },
            clients: 0,
        }
    }
}

/// The SPI answer for what the machine replied: the built-in providers' calls reply with a
/// socket, a count or nothing.
fn response(r: Reply) -> Response {
    match r {
        Reply::Socket(s) => Response::Socket(s),
        Reply::Count(n) => Response::Count(n as usize),
        Reply::Done => Response::Done,
        Reply::Control(c) => Response::Control(c),
        other @ (Reply::Version(_)
        | Reply::LastError(_)
        | Reply::Event(_)
        | Reply::Hook(_)
        | Reply::Port(_)
        | Reply::Packet(_)
        | Reply::Packets(_)
        | Reply::Alerted
        | Reply::Negotiated(_)
        | Reply::Addr(_)
        | Reply::Time(_)
        | Reply::AddrInfo(_)) => {
            panic!("invariant: a socket call replies with a socket, a count, 0 or a control: {other:?}")
        }
    }
}

/// A call whose success carries nothing: whatever the machine said beside it.
fn done<T>(_: T) -> Reply {
    Reply::Done
}

impl Provider for Builtin {
    fn info(&self) -> ProviderInfo {
        self.info.clone()
    }

    /// SP-10 and SP-2: one more client.
    fn startup(&mut self, spi: &mut Spi<'_>, requested: Version) -> Result<Negotiated, WsaError> {
        spi.cx.rule(Rule::Sp10);
        let n = self.info.negotiate(requested)?;
        self.clients += 1;
        Ok(n)
    }

    /// SP-2..SP-5: only the call that brings the count to 0 cleans up.
    fn cleanup(&mut self, spi: &mut Spi<'_>) -> Result<(), Stop> {
        if self.clients == 0 {
            return Err(sp_3(spi.cx, Sp3::NotStarted).into());
        }
        spi.cx.rule(Rule::Sp2);
        self.clients -= 1;
        if self.clients == 0 {
            // SP-4: the final one cleans up.
            let me = spi.me();
            spi.machine.reset_provider_sockets(spi.cx, me);
        }
        if spi.machine.caller_network_down(spi.cx) {
            // The count went down (and a final cleanup happened), as CL-11 has it for
            // WSACleanup; the network is down.
            return Err(sp_3(spi.cx, Sp3::NetworkDown).into());
        }
        Ok(())
    }

    /// Every socket call: the base provider serves them all here, on the machine.
    fn handle(&mut self, spi: &mut Spi<'_>, request: Request<'_>) -> Result<Response, Stop> {
        let (m, cx) = (&mut *spi.machine, &mut *spi.cx);
        let reply = match request {
            Request::Socket(args) => socket(m, cx, args, spi.chain.clone()),
            Request::CloseSocket { s } => m.close_socket(cx, s).map(done),
            Request::Bind { s, addr } => m.bind(cx, s, addr).map(done),
            Request::Listen { s, backlog } => m.listen(cx, s, backlog).map(done),
            Request::Accept { s, addr, len } => m.accept(cx, s, addr, len),
            Request::Connect { s, addr } => m.connect(cx, s, addr).map(done),
            Request::Send { s, buf, len, flags } => m.send(cx, s, buf, len, flags, None),
            Request::SendTo {
                s,
                buf,
                len,
                flags,
                to,
            } => m.send(cx, s, buf, len, flags, Some(to)),
            Request::Recv { s, buf, len, flags } => m.recv(cx, s, recv_args(buf, len, flags, None)),
            Request::RecvFrom {
                s,
                buf,
                len,
                flags,
                from,
                from_len,
            } => m.recv(cx, s, recv_args(buf, len, flags, Some((from, from_len)))),
            Request::StartOverlapped { s, op } => m.start_overlapped(cx, s, op.req, op.fault),
            Request::GetOverlappedResult {
                s,
                overlapped,
                record,
                wait,
                has_bytes,
            } => {
                let key = overlapped;
                m.overlapped_result(
                    cx,
                    s,
                    ResultArgs {
                        key,
                        record,
                        wait,
                        has_bytes,
                    },
                )
            }
            Request::Shutdown { s, how } => m.shutdown(cx, s, how).map(done),
            Request::SendDisconnect { s, data } => m.send_disconnect(cx, s, data).map(done),
            Request::RecvDisconnect { s, data } => m.recv_disconnect(cx, s, data).map(done),
            Request::GetSockOpt {
                s,
                level,
                name,
                value,
                len,
            } => m.get_sock_opt(cx, s, (level, name), value, len).map(done),
            Request::SetSockOpt {
                s,
                level,
                name,
                value,
                len,
            } => m.set_sock_opt(cx, s, (level, name), value, len).map(done),
            Request::Ioctl { s, cmd, arg } => m.ioctl(cx, s, cmd, arg).map(done),
            Request::DuplicateSocket { s, process } => duplicate(m, cx, s, process),
            Request::Control {
                s,
                code,
                input,
                output,
            } => m
                .ex_1_control(cx, s, code, input, output)
                .map(Reply::Control),
            Request::SockName { s, addr, len } => m.sockname(cx, s, addr, len).map(done),
            Request::PeerName { s, addr, len } => m.peername(cx, s, addr, len).map(done),
            Request::CancelBlockingCall => m.cancel_blocking_call(cx).map(done),
        }?;
        Ok(response(reply))
    }
}

/// `WSPSocket`: a duplicated socket's token opens it (DU-1), else a fresh socket.
fn socket(
    m: &mut Machine,
    cx: &mut Cx,
    args: &SocketArgs,
    chain: Vec<ProviderIdx>,
) -> Result<Reply, Stop> {
    let token = args.reserved.map(|token| Du1::Open { token });
    match token.map(|t| m.du_1(cx, t)).transpose()? {
        Some(Du1Outcome::Opened(s)) => Ok(Reply::Socket(s)),
        Some(_) | None => m.open_socket(cx, args.entry.clone(), chain),
    }
}

/// `WSPDuplicateSocket` (DU-1): the token the target process opens the socket with.
fn duplicate(m: &mut Machine, cx: &mut Cx, s: Socket, target: u32) -> Result<Reply, Stop> {
    match m.du_1(cx, Du1::Duplicate { s, target })? {
        Du1Outcome::Token(t) => Ok(Reply::Count(t)),
        other => panic!("invariant: a duplication answers a token: {other:?}"),
    }
}

fn recv_args<'a>(
    buf: Option<&'a mut [u8]>,
    len: i32,
    flags: i32,
    from: Option<(Option<&'a mut [u8]>, Option<&'a mut i32>)>,
) -> RecvArgs<'a> {
    RecvArgs {
        buf,
        len,
        flags,
        from,
    }
}
