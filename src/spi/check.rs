//! The provider conformance check: standard scenarios that exercise [SP-2], [SP-3], [SP-5], [SP-6],
//! [SP-9] and [SP-10] against a provider, through Ws2_32 and through [`Client`].
//!
//! [SP-2]: crate::rules#sp-2
//! [SP-3]: crate::rules#sp-3
//! [SP-5]: crate::rules#sp-5
//! [SP-6]: crate::rules#sp-6
//! [SP-9]: crate::rules#sp-9
//! [SP-10]: crate::rules#sp-10

use std::net::{Ipv4Addr, SocketAddrV4};

use super::{Client, Protocol, Provider};
use crate::consts::SOCK_STREAM;
use crate::core::rules::Rule;
use crate::{api, Diagnostic, Profile, ProtocolInfo, Sim, Socket, Version, WsaError};

/// Bytes each data scenario sends, in messages of 10.
const PAYLOAD: usize = 100;

/// Runs `provider` through the standard scenarios and returns every contract violation found
/// (empty: none). Each scenario is a fresh simulation (`Profile::Windows`, where a final
/// `WSACleanup` closes open sockets gracefully, so data a provider flushes still arrives):
///
/// 1. **Counting** through [`Client`]: `WSPCleanup` without a startup fails
///    `WSANOTINITIALISED` ([SP-3]); two startups and two cleanups succeed and a third cleanup
///    fails ([SP-2]); a startup right after the final cleanup succeeds ([SP-9]); negotiation
///    follows [SP-10].
/// 2. **Data left open**, for each stream protocol of the provider: a client sends 100 bytes
///    in ten messages on a socket of the provider to a server on another socket of the
///    provider, then calls `WSACleanup` without closing: the server must get every byte
///    ([SP-6]: the final `WSPCleanup` flushes first).
/// 3. **Data closed**: the same, with `closesocket` before `WSACleanup` ([SP-5]).
/// 4. **Restart**: after the final `WSACleanup`, `WSAStartup` and a new socket on the
///    provider work at once ([SP-9]).
///
/// Violations Ws2_32 reports as it calls the provider ([`Sim::diagnostics`]) are included, as
/// are the scenarios' own findings (bytes missing, a call failing).
///
/// ```
/// use ws2sim::spi::{check_provider, Negotiated, Provider, ProviderInfo, Spi, Stop, TCP_ENTRY};
/// use ws2sim::{Guid, Rule, Version, WsaError};
///
/// /// Forgets to count: its WSPCleanup always succeeds.
/// #[derive(Clone)]
/// struct Forgetful;
/// impl Provider for Forgetful {
///     fn info(&self) -> ProviderInfo {
///         ProviderInfo::layered(Guid::new(0xF0, 0, 0, *b"FORGETFU"), "forgetful", &[(TCP_ENTRY, "forgetful")])
///     }
///     fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
///         self.info().negotiate(v)
///     }
///     fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> { Ok(()) }
/// }
/// let found = check_provider(Forgetful);
/// assert!(found.iter().any(|d| d.rule == Rule::Sp3));
/// ```
///
/// [SP-3]: crate::rules#sp-3
/// [SP-2]: crate::rules#sp-2
/// [SP-9]: crate::rules#sp-9
/// [SP-10]: crate::rules#sp-10
/// [SP-6]: crate::rules#sp-6
/// [SP-5]: crate::rules#sp-5
pub fn check_provider<P: Provider + Clone>(provider: P) -> Vec<Diagnostic> {
    let info = provider.info();
    let mut found = Vec::new();
    found.extend(counting(provider.clone(), &info.id));
    let Ok(sim) = Sim::builder().provider(provider.clone()).try_build() else {
        found.push(finding(
            Rule::Sp1,
            "the provider cannot join the catalog".into(),
        ));
        return found;
    };
    let listed: Vec<ProtocolInfo> = sim.localhost().process("catalog").run(|| {
        let _ = api::startup(Version::V2_2);
        let all = api::enum_protocols(None).unwrap_or_default();
        let _ = api::cleanup();
        all.into_iter()
            .filter(|e| e.provider_id == info.id)
            .collect()
    });
    let layered = info
        .protocols
        .iter()
        .filter(|p| matches!(p, Protocol::Layered { .. }))
        .count();
    // Every layered protocol is listed, whatever its socket type (a layer over TCP and UDP
    // has one stream and one datagram entry); the data scenarios run on the stream ones.
    if listed.len() != layered {
        found.push(finding(
            Rule::Sp11,
            format!(
                "{} entr(y/ies) of the provider are listed; it declares {layered} layered protocol(s)",
                listed.len()
            ),
        ));
    }
    for entry in listed.iter().filter(|e| e.socket_type == SOCK_STREAM) {
        found.extend(data(provider.clone(), entry, false));
        found.extend(data(provider.clone(), entry, true));
    }
    found
}

/// A finding of the check itself (not reported by Ws2_32).
fn finding(rule: Rule, message: String) -> Diagnostic {
    Diagnostic {
        rule,
        pid: 0,
        process: "check_provider".into(),
        thread: 0,
        message,
    }
}

/// Scenario 1: WSPStartup/WSPCleanup counting through the direct client.
fn counting<P: Provider + Clone>(provider: P, id: &crate::Guid) -> Vec<Diagnostic> {
    let sim = match Sim::builder().provider(provider).try_build() {
        Ok(sim) => sim,
        Err(e) => return vec![finding(Rule::Sp1, e.to_string())],
    };
    let client = Client::new(*id);
    let mut found = sim.localhost().process("counting").run(|| {
        let mut found = Vec::new();
        let mut expect =
            |rule: Rule, what: &str, got: Result<(), WsaError>, want: Result<(), WsaError>| {
                if got != want {
                    found.push(finding(rule, format!("{what}: got {got:?}, want {want:?}")));
                }
            };
        expect(
            Rule::Sp3,
            "WSPCleanup before any WSPStartup",
            client.cleanup(),
            Err(WsaError::NotInitialised),
        );
        expect(
            Rule::Sp2,
            "first WSPStartup",
            client.startup(Version::V2_2).map(drop),
            Ok(()),
        );
        expect(
            Rule::Sp2,
            "second WSPStartup",
            client.startup(Version::V2_2).map(drop),
            Ok(()),
        );
        expect(Rule::Sp2, "first WSPCleanup", client.cleanup(), Ok(()));
        expect(
            Rule::Sp2,
            "second (final) WSPCleanup",
            client.cleanup(),
            Ok(()),
        );
        expect(
            Rule::Sp3,
            "third WSPCleanup",
            client.cleanup(),
            Err(WsaError::NotInitialised),
        );
        expect(
            Rule::Sp9,
            "WSPStartup right after the final WSPCleanup",
            client.startup(Version::V2_2).map(drop),
            Ok(()),
        );
        expect(
            Rule::Sp9,
            "WSPCleanup after the restart",
            client.cleanup(),
            Ok(()),
        );
        found
    });
    found.extend(sim.diagnostics());
    found
}

/// Scenarios 2 to 4: data through a stream protocol of the provider, left open (`close`
/// false) or closed before the final cleanup, then a restart.
fn data<P: Provider + Clone>(provider: P, entry: &ProtocolInfo, close: bool) -> Vec<Diagnostic> {
    let rule = if close { Rule::Sp5 } else { Rule::Sp6 };
    let sim = match Sim::builder()
        .profile(Profile::Windows)
        .provider(provider)
        .try_build()
    {
        Ok(sim) => sim,
        Err(e) => return vec![finding(Rule::Sp1, e.to_string())],
    };
    let server_host = sim.host("server");
    let addr = SocketAddrV4::new(server_host.addr(), 9);
    let server_entry = entry.clone();
    let server = server_host
        .process("server")
        .spawn(move || receive_all(&server_entry));
    let client_entry = entry.clone();
    let mut found = Vec::new();
    let client = sim.localhost().process("client");
    let sent = client.run(|| send_then_restart(&client_entry, addr, close, rule));
    if let Err((rule, e)) = sent {
        found.push(finding(rule, format!("{}: {e}", entry.name)));
    }
    // A provider that loses the stream leaves the server waiting for ever: a finding, not
    // a panic.
    if let Err(e) = sim.try_run() {
        found.push(finding(
            rule,
            format!("{}: the peer never saw the stream end: {e}", entry.name),
        ));
        let _ = sim.end();
        found.extend(sim.diagnostics());
        return found;
    }
    match server.join() {
        Ok(n) if n == PAYLOAD => {}
        Ok(n) => found.push(finding(
            rule,
            format!("{}: the peer received {n} of the {PAYLOAD} bytes sent before the final WSACleanup ({})", entry.name,
                if close { "socket closed first" } else { "socket left open" }),
        )),
        Err(e) => found.push(finding(rule, format!("{}: {e}", entry.name))),
    }
    found.extend(sim.diagnostics());
    found
}

/// The server side of [`data`]: accepts one connection on port 9 and counts what arrives
/// until the stream ends.
fn receive_all(entry: &ProtocolInfo) -> Result<usize, String> {
    api::startup(Version::V2_2).map_err(|e| format!("server WSAStartup: {e}"))?;
    let l = Socket::from_protocol_info(entry, 0).map_err(|e| format!("server socket: {e}"))?;
    l.bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 9))
        .map_err(|e| format!("bind: {e}"))?;
    l.listen(1).map_err(|e| format!("listen: {e}"))?;
    let (c, _) = l.accept().map_err(|e| format!("accept: {e}"))?;
    let mut total = 0;
    let mut buf = [0u8; 64];
    while let Ok(n @ 1..) = c.recv(&mut buf) {
        total += n;
    }
    let _ = api::cleanup();
    Ok(total)
}

/// The client side of [`data`]: connects, sends [`PAYLOAD`] bytes, closes the socket first or
/// not (`close`), makes the final cleanup, then restarts at once ([SP-9]). A failure names the
/// rule it breaks: `rule` before the cleanup, [SP-9] after.
///
/// [SP-9]: crate::rules#sp-9
fn send_then_restart(
    entry: &ProtocolInfo,
    addr: SocketAddrV4,
    close: bool,
    rule: Rule,
) -> Result<(), (Rule, String)> {
    let at = |rule: Rule| move |e: String| (rule, e);
    let before = at(rule);
    let after = at(Rule::Sp9);
    api::startup(Version::V2_2)
        .map_err(|e| format!("client WSAStartup: {e}"))
        .map_err(before)?;
    let s = Socket::from_protocol_info(entry, 0)
        .map_err(|e| format!("client socket: {e}"))
        .map_err(before)?;
    s.connect(addr)
        .map_err(|e| format!("connect: {e}"))
        .map_err(before)?;
    let msg = [0x5au8; PAYLOAD / 10];
    for _ in 0..10 {
        s.send(&msg)
            .map_err(|e| format!("send: {e}"))
            .map_err(before)?;
    }
    if close {
        s.close()
            .map_err(|e| format!("closesocket: {e}"))
            .map_err(before)?;
    }
    api::cleanup()
        .map_err(|e| format!("WSACleanup: {e}"))
        .map_err(before)?;
    api::startup(Version::V2_2)
        .map_err(|e| format!("WSAStartup after cleanup: {e}"))
        .map_err(after)?;
    let again = Socket::from_protocol_info(entry, 0)
        .map_err(|e| format!("socket right after the final WSACleanup: {e}"))
        .map_err(after)?;
    again
        .set_nonblocking(true)
        .map_err(|e| format!("ioctlsocket after restart: {e}"))
        .map_err(after)?;
    api::cleanup()
        .map_err(|e| format!("WSACleanup after restart: {e}"))
        .map_err(after)?;
    Ok(())
}
