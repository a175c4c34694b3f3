//! Differential runs: one test body under two configurations (two profiles, with and without
//! a layered provider, two schedulers), compared by what the application saw.

use std::fmt;

use super::seeds::Seeds;
use crate::core::catalog::ProtocolInfo;
use crate::spi::Provider;
use crate::trace::{Event, EventKind, Trace};
use crate::{Sim, SimBuilder};

/// The first application-visible difference between two runs of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// The seed both ran with.
    pub seed: u64,
    /// Position among the application's calls (0: the first call either made).
    pub index: usize,
    /// The call as the first configuration saw it (`None`: it made no more calls).
    pub a: Option<String>,
    /// The call as the second configuration saw it.
    pub b: Option<String>,
}

impl fmt::Display for Divergence {
    /// Three lines: where, and each side's call.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |s: &Option<String>| s.clone().unwrap_or_else(|| "(no more calls)".into());
        write!(
            f,
            "ws2sim: seed {}: the runs differ at the application's call {}\n  a: {}\n  b: {}",
            self.seed,
            self.index,
            side(&self.a),
            side(&self.b)
        )
    }
}

/// What the application saw of one call: thread, function, arguments, result and error (not
/// the rules that decided it, nor virtual time). With `protocol_blind`, the protocol entry a
/// socket was made from is not compared.
fn seen(e: &Event, protocol_blind: bool) -> String {
    let error = e
        .error
        .map_or(String::new(), |err| format!(" {}", err.name()));
    let args: Vec<&str> = e
        .arguments
        .iter()
        .map(|a| match (protocol_blind, a.name.as_str()) {
            (true, "lpProtocolInfo") => "&WSAPROTOCOL_INFOW",
            _ => a.value.as_str(),
        })
        .collect();
    format!(
        "thread {} {}({}) = {}{error}",
        e.thread,
        e.call,
        args.join(", "),
        e.result
    )
}

/// The application's calls (not a provider's own `WSP*` calls); with `protocol_blind`, not
/// the catalog listing either, which a provider changes by design.
fn application_calls(t: &Trace, protocol_blind: bool) -> Vec<String> {
    t.events()
        .iter()
        .filter(|e| e.kind == EventKind::Call && !e.call.starts_with("WSP"))
        .filter(|e| !(protocol_blind && e.call == "WSAEnumProtocolsW"))
        .map(|e| seen(e, protocol_blind))
        .collect()
}

/// `test` in a fresh simulation of `builder` with `seed`; its trace, once it is ended.
fn traced_run(builder: &SimBuilder, seed: u64, test: &mut dyn FnMut(&Sim)) -> Trace {
    let sim = builder.clone().seed(seed).build();
    test(&sim);
    let trace = sim.trace();
    let _ = sim.end();
    trace
}

fn divergence(seed: u64, a: Vec<String>, b: Vec<String>) -> Option<Divergence> {
    divergence_except(seed, a, b, &|_: &str, _: &str| false)
}

/// The first position where `a` and `b` differ, unless `declared` says the two calls there
/// may differ: then the runs have gone their own ways by design, and nothing after is
/// compared.
fn divergence_except(
    seed: u64,
    a: Vec<String>,
    b: Vec<String>,
    declared: &dyn Fn(&str, &str) -> bool,
) -> Option<Divergence> {
    let index = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))?;
    if let (Some(x), Some(y)) = (a.get(index), b.get(index)) {
        if declared(x, y) {
            return None;
        }
    }
    Some(Divergence {
        seed,
        index,
        a: a.get(index).cloned(),
        b: b.get(index).cloned(),
    })
}

/// The first call at which two traces' application-visible results differ: the function,
/// its arguments, what it returned and its error, per thread, in order. Rules, virtual time,
/// packets and the calls a provider made are not compared.
///
/// ```
/// use ws2sim::testing::first_divergence;
/// use ws2sim::{api, Profile, Sim, Version};
///
/// let run = |profile| {
///     let sim = Sim::builder().profile(profile).build();
///     sim.localhost().process("app").run(|| api::startup(Version::V2_2).unwrap());
///     sim.trace()
/// };
/// let (a, b) = (run(Profile::Documented), run(Profile::Windows));
/// assert_eq!(first_divergence(0, &a, &b), None);
/// ```
pub fn first_divergence(seed: u64, a: &Trace, b: &Trace) -> Option<Divergence> {
    divergence(
        seed,
        application_calls(a, false),
        application_calls(b, false),
    )
}

/// Runs `test` under both configurations for each seed and returns the first seed whose
/// runs differ in what the application saw ([`first_divergence`]). Tracing must be on in
/// both (it is by default). A panic in `test` is not caught: use it inside a sweep, or let
/// the test fail.
///
/// ```
/// use ws2sim::testing::differential;
/// use ws2sim::{api, consts::*, Profile, Sim, Socket, Version};
///
/// let open_and_close = |sim: &Sim| {
///     sim.localhost().process("app").run(|| {
///         api::startup(Version::V2_2).unwrap();
///         let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///         s.close().unwrap();
///         api::cleanup().unwrap();
///     });
/// };
/// let same = differential(
///     Sim::builder().profile(Profile::Documented),
///     Sim::builder().profile(Profile::Windows),
///     0..5,
///     open_and_close,
/// );
/// assert_eq!(same, Ok(()));
/// ```
///
/// # Errors
/// The first divergence found.
pub fn differential(
    a: SimBuilder,
    b: SimBuilder,
    seeds: impl Into<Seeds>,
    mut test: impl FnMut(&Sim),
) -> Result<(), Divergence> {
    for seed in seeds.into().iter() {
        let ta = traced_run(&a, seed, &mut test);
        let tb = traced_run(&b, seed, &mut test);
        if let Some(d) = first_divergence(seed, &ta, &tb) {
            return Err(d);
        }
    }
    Ok(())
}

/// The protocol entries a [`transparency`] test makes its sockets from: the built-in
/// provider's in the bare run, the layered provider's (over the same protocol) in the other.
#[derive(Debug, Clone)]
pub struct Entries {
    /// The TCP entry (`None`: the provider layers no stream protocol).
    pub tcp: Option<ProtocolInfo>,
    /// The UDP entry (`None`: the provider layers no datagram protocol).
    pub udp: Option<ProtocolInfo>,
}

/// A layered provider is transparent when the application cannot tell it is there: `test`
/// runs for each seed twice, once over the bare built-in provider and once with `provider`
/// in the catalog and every socket made from its entries ([`Entries`]), and the first call
/// whose result differs is reported. The protocol entry a socket names and the catalog
/// listing are not compared (the provider changes them by design); everything else the
/// application sees is: each call's arguments, result and error, thread by thread.
///
/// Before `test`, a process named `catalog` starts Winsock, lists the catalog to find the
/// entries and cleans up, in both runs alike.
///
/// ```
/// use ws2sim::spi::{Negotiated, Provider, ProviderInfo, Spi, Stop, TCP_ENTRY};
/// use ws2sim::testing::{transparency, Entries};
/// use ws2sim::{api, consts::*, Guid, Sim, Socket, Version, WsaError};
///
/// /// Passes everything down (the trait's defaults do): transparent.
/// #[derive(Clone)]
/// struct PassThrough;
/// impl Provider for PassThrough {
///     fn info(&self) -> ProviderInfo {
///         ProviderInfo::layered(Guid::new(7, 7, 7, *b"PASSTHRU"), "pass", &[(TCP_ENTRY, "pass")])
///     }
///     fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
///         self.info().negotiate(v)
///     }
///     fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> { Ok(()) }
/// }
///
/// let echo = |sim: &Sim, entries: &Entries| {
///     let tcp = entries.tcp.clone().unwrap();
///     sim.localhost().process("app").run(|| {
///         api::startup(Version::V2_2).unwrap();
///         let l = Socket::from_protocol_info(&tcp, 0).unwrap();
///         l.bind("127.0.0.1:7".parse().unwrap()).unwrap();
///         l.listen(1).unwrap();
///         let c = Socket::from_protocol_info(&tcp, 0).unwrap();
///         c.connect("127.0.0.1:7".parse().unwrap()).unwrap();
///         let (a, _) = l.accept().unwrap();
///         c.send(b"ping").unwrap();
///         let mut buf = [0u8; 8];
///         assert_eq!(a.recv(&mut buf), Ok(4));
///         api::cleanup().unwrap();
///     });
/// };
/// assert_eq!(transparency(PassThrough, 0..3, echo), Ok(()));
/// ```
///
/// # Errors
/// The first divergence found.
pub fn transparency<P: Provider + Clone>(
    provider: P,
    seeds: impl Into<Seeds>,
    test: impl FnMut(&Sim, &Entries),
) -> Result<(), Divergence> {
    transparency_except(provider, seeds, |_, _| false, test)
}

/// [`transparency`], except for the differences the provider declares: `declared(a, b)` is
/// called with the first call whose result differs, as the bare run saw it and as the
/// layered run saw it (`thread 1 send(0x1000004, .., 4, 0) = 4`, the form [`Divergence`]
/// shows), and returns true when the provider changes that result by design. The runs are
/// then not compared further: after a result that differs by design (a refused `bind`
/// leaves its socket unbound) the application legitimately goes another way.
///
/// ```
/// use ws2sim::spi::{Negotiated, Provider, ProviderInfo, Spi, Stop, TCP_ENTRY};
/// use ws2sim::testing::{transparency_except, Entries};
/// use ws2sim::{api, Guid, Sim, Socket, Version, WsaError};
///
/// /// Reports `WSAEACCES` for every bind: a firewall, by design.
/// #[derive(Clone)]
/// struct NoBind;
/// impl Provider for NoBind {
///     fn info(&self) -> ProviderInfo {
///         ProviderInfo::layered(Guid::new(8, 8, 8, *b"NOBIND!!"), "no bind", &[(TCP_ENTRY, "no bind")])
///     }
///     fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
///         self.info().negotiate(v)
///     }
///     fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> { Ok(()) }
///     fn bind(&mut self, _: &mut Spi<'_>, _: ws2sim::Socket, _: Option<&[u8]>) -> Result<(), Stop> {
///         Err(WsaError::AccessDenied.into())
///     }
/// }
///
/// let test = |sim: &Sim, entries: &Entries| {
///     let tcp = entries.tcp.clone().unwrap();
///     sim.localhost().process("app").run(|| {
///         api::startup(Version::V2_2).unwrap();
///         let s = Socket::from_protocol_info(&tcp, 0).unwrap();
///         let _ = s.bind("127.0.0.1:7".parse().unwrap());
///         api::cleanup().unwrap();
///     });
/// };
/// assert!(ws2sim::testing::transparency(NoBind, 0..1, test).is_err());
/// let declared = |_: &str, b: &str| b.contains(" bind(") && b.ends_with("WSAEACCES");
/// assert_eq!(transparency_except(NoBind, 0..1, declared, test), Ok(()));
/// ```
///
/// # Errors
/// The first undeclared divergence found.
pub fn transparency_except<P: Provider + Clone>(
    provider: P,
    seeds: impl Into<Seeds>,
    declared: impl Fn(&str, &str) -> bool,
    mut test: impl FnMut(&Sim, &Entries),
) -> Result<(), Divergence> {
    let id = provider.info().id;
    let bare = Sim::builder();
    let layered = Sim::builder().provider(provider);
    for seed in seeds.into().iter() {
        let mut run = |builder: &SimBuilder, mine: &dyn Fn(&ProtocolInfo) -> bool| {
            let trace = traced_run(builder, seed, &mut |sim: &Sim| {
                let entries = sim.localhost().process("catalog").run(|| {
                    let found = crate::api::startup(crate::Version::V2_2)
                        .and_then(|_| crate::api::enum_protocols(None));
                    let _ = crate::api::cleanup();
                    let list = found.unwrap_or_default();
                    let pick = |datagram: bool| {
                        list.iter()
                            .find(|e| mine(e) && e.is_connectionless() == datagram)
                            .cloned()
                    };
                    Entries {
                        tcp: pick(false),
                        udp: pick(true),
                    }
                });
                test(sim, &entries);
            });
            application_calls(&trace, true)
        };
        let base = [crate::spi::TCP_ENTRY, crate::spi::UDP_ENTRY];
        let a = run(&bare, &|e| base.contains(&e.catalog_entry_id));
        // The provider's chains over a base protocol (not its layered entry, which makes no
        // sockets).
        let b = run(&layered, &|e| e.provider_id == id && e.chain.len >= 2);
        if let Some(d) = divergence_except(seed, a, b, &declared) {
            return Err(d);
        }
    }
    Ok(())
}
