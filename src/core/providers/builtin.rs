//! What the built-in base providers have in common: a startup count (SP-2, SP-3) and the
//! [`Provider`] methods, which are the socket calls of `net.rs`, `sockopt.rs` and the
//! overlapped queue.

use crate::core::call::Reply;
use crate::core::catalog::{Guid, ProtocolInfo};
use crate::core::provider::{
    DataLocation, Negotiated, Overlapped, Protocol, Provider, ProviderInfo, SocketArgs, Spi,
};
use crate::core::providers::net::{WsaBufIn, WsaBufOut};
use crate::core::providers::{disconnect, msafd};
use crate::core::rules::Rule;
use crate::core::ws2::spi_client::{sp_3, Sp3};
use crate::core::ws2::table::Socket;
use crate::core::ws2::version::Version;
use crate::core::Stop;
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

fn count(r: Reply) -> usize {
    match r {
        Reply::Count(n) => n as usize,
        other => panic!("invariant: a data call replies with a count, not {other:?}"),
    }
}

fn socket(r: Reply) -> Socket {
    match r {
        Reply::Socket(s) => s,
        other => panic!("invariant: a socket call replies with a socket, not {other:?}"),
    }
}

impl Provider for Builtin {
    fn info(&self) -> ProviderInfo {
        self.info.clone()
    }

    /// SP-10 and SP-2: one more client.
    fn startup(&mut self, spi: &mut Spi<'_>, requested: Version) -> Result<Negotiated, WsaError> {
        spi.cx.rule(Rule::Sp10); // SP-10
        let n = self.info.negotiate(requested)?;
        self.clients += 1;
        Ok(n)
    }

    /// SP-2..SP-5: only the call that brings the count to 0 cleans up.
    fn cleanup(&mut self, spi: &mut Spi<'_>) -> Result<(), Stop> {
        if self.clients == 0 {
            return Err(sp_3(spi.cx, Sp3::NotStarted).into());
        }
        spi.cx.rule(Rule::Sp2); // SP-2
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

    fn socket(&mut self, spi: &mut Spi<'_>, args: &SocketArgs) -> Result<Socket, Stop> {
        let chain = spi.chain.clone();
        spi.machine
            .open_socket(spi.cx, args.entry.clone(), chain)
            .map(socket)
    }

    fn close_socket(&mut self, spi: &mut Spi<'_>, s: Socket) -> Result<(), Stop> {
        spi.machine.close_socket(spi.cx, s).map(drop)
    }

    fn bind(&mut self, spi: &mut Spi<'_>, s: Socket, addr: Option<&[u8]>) -> Result<(), Stop> {
        spi.machine.bind(spi.cx, s, addr).map(drop)
    }

    fn listen(&mut self, spi: &mut Spi<'_>, s: Socket, backlog: i32) -> Result<(), Stop> {
        spi.machine.listen(spi.cx, s, backlog).map(drop)
    }

    fn accept(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        addr: Option<&mut [u8]>,
        len: Option<&mut i32>,
    ) -> Result<Socket, Stop> {
        spi.machine.accept(spi.cx, s, addr, len).map(socket)
    }

    fn connect(&mut self, spi: &mut Spi<'_>, s: Socket, addr: Option<&[u8]>) -> Result<(), Stop> {
        spi.machine.connect(spi.cx, s, addr).map(drop)
    }

    fn send(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        buf: Option<&[u8]>,
        len: i32,
        flags: i32,
    ) -> Result<usize, Stop> {
        spi.machine
            .send(spi.cx, s, buf, len, flags, None)
            .map(count)
    }

    fn send_to(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        buf: Option<&[u8]>,
        len: i32,
        flags: i32,
        to: Option<&[u8]>,
    ) -> Result<usize, Stop> {
        spi.machine
            .send(spi.cx, s, buf, len, flags, Some(to))
            .map(count)
    }

    fn recv(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        buf: Option<&mut [u8]>,
        len: i32,
        flags: i32,
    ) -> Result<usize, Stop> {
        spi.machine
            .recv(spi.cx, s, buf, len, flags, None)
            .map(count)
    }

    fn recv_from(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        buf: Option<&mut [u8]>,
        len: i32,
        flags: i32,
        from: Option<&mut [u8]>,
        from_len: Option<&mut i32>,
    ) -> Result<usize, Stop> {
        spi.machine
            .recv(spi.cx, s, buf, len, flags, Some((from, from_len)))
            .map(count)
    }

    fn start_overlapped(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        op: Overlapped,
    ) -> Result<usize, Stop> {
        spi.machine
            .start_overlapped(spi.cx, s, op.req, op.fault)
            .map(count)
    }

    fn get_overlapped_result(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        overlapped: Option<usize>,
        record: Option<crate::core::call::Record<'_>>,
        wait: bool,
        has_bytes: bool,
    ) -> Result<usize, Stop> {
        spi.machine
            .overlapped_result(spi.cx, s, overlapped, record, wait, has_bytes)
            .map(count)
    }

    fn shutdown(&mut self, spi: &mut Spi<'_>, s: Socket, how: i32) -> Result<(), Stop> {
        spi.machine.shutdown(spi.cx, s, how).map(drop)
    }

    fn send_disconnect(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        data: Option<WsaBufIn<'_>>,
    ) -> Result<(), Stop> {
        spi.machine.send_disconnect(spi.cx, s, data).map(drop)
    }

    fn recv_disconnect(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        data: Option<WsaBufOut<'_>>,
    ) -> Result<(), Stop> {
        spi.machine.recv_disconnect(spi.cx, s, data).map(drop)
    }

    fn get_sock_opt(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        level: i32,
        name: i32,
        value: Option<&mut [u8]>,
        len: Option<&mut i32>,
    ) -> Result<(), Stop> {
        spi.machine.get_sock_opt(spi.cx, s, level, name, value, len)
    }

    fn set_sock_opt(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        level: i32,
        name: i32,
        value: Option<&[u8]>,
        len: i32,
    ) -> Result<(), Stop> {
        spi.machine.set_sock_opt(spi.cx, s, level, name, value, len)
    }

    fn ioctl(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        cmd: i32,
        arg: Option<&mut u32>,
    ) -> Result<(), Stop> {
        spi.machine.ioctl(spi.cx, s, cmd, arg)
    }

    fn sock_name(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        addr: Option<&mut [u8]>,
        len: Option<&mut i32>,
    ) -> Result<(), Stop> {
        spi.machine.sockname(spi.cx, s, addr, len).map(drop)
    }

    fn peer_name(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        addr: Option<&mut [u8]>,
        len: Option<&mut i32>,
    ) -> Result<(), Stop> {
        spi.machine.peername(spi.cx, s, addr, len).map(drop)
    }

    fn cancel_blocking_call(&mut self, spi: &mut Spi<'_>) -> Result<(), Stop> {
        spi.machine.cancel_blocking_call(spi.cx).map(drop)
    }
}
