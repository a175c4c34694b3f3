//! The service provider interface: the [`Provider`] trait every provider implements (the
//! built-in ones included), its descriptor, and the [`Spi`] context a provider is called with.
//!
//! Ws2_32's side of the interface — loading providers, counting their startups and checking
//! the contract — is in `spi_client.rs`.

use std::fmt;
use std::sync::Arc;

use super::call::Record;
use super::catalog::{Guid, ProtocolInfo};
use super::overlapped::{OpKind, OpRequest};
use super::providers::control::Control;
use super::providers::net::{WsaBufIn, WsaBufOut};
use super::request::{FromResponse, Request, Response};
use super::ws2::spi_client::Providers;
use super::ws2::table::Socket;
use super::ws2::version::Version;
use super::{Cx, Machine, Profile, Stop};
use crate::error::WsaError;

/// A provider's index in the simulation's provider registry (built-ins first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderIdx(pub(crate) usize);

/// Where a provider keeps data the application sent but the network has not taken yet (SP-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataLocation {
    /// In the transport, which outlives the provider's DLL: closed sockets' data is still sent
    /// after `WSPCleanup` and after the process exits (the built-in providers).
    Transport,
    /// In the process (a layered provider's own send buffer): lost when the DLL is unloaded, so
    /// `WSPCleanup` must flush it before it returns (SP-6).
    Process,
}

/// One protocol a provider serves: a catalog entry of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// A base protocol, given in full (the built-in providers only: see [`ProviderInfo`]).
    Base(ProtocolInfo),
    /// A protocol layered over the catalog entry `over` (a base entry such as
    /// [`TCP_ENTRY`](crate::spi::TCP_ENTRY), or another layered chain), listed as `name`.
    Layered {
        /// The `dwCatalogEntryId` of the protocol below.
        over: u32,
        /// `szProtocol` of the new entry.
        name: String,
    },
}

/// A provider's descriptor: what `WSCInstallProvider` would put in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    /// `ProviderId`: every catalog entry of the provider carries it (SP-1).
    pub id: Guid,
    /// A name for traces and reports.
    pub name: String,
    /// The protocols it serves, in catalog order.
    pub protocols: Vec<Protocol>,
    /// SP-10: the lowest SPI version it supports.
    pub lowest: Version,
    /// SP-10: the highest SPI version it supports.
    pub highest: Version,
    /// SP-7: where its unsent data lives.
    pub data: DataLocation,
}

impl ProviderInfo {
    /// A layered provider's descriptor: SPI 2.0 to 2.2, unsent data in the process (override
    /// the fields to change that), one protocol per `(over, name)`.
    ///
    /// ```
    /// use ws2sim::spi::{DataLocation, ProviderInfo, TCP_ENTRY};
    /// use ws2sim::Guid;
    ///
    /// let id = Guid::new(0x1234_5678, 1, 2, *b"COUNTER!");
    /// let info = ProviderInfo::layered(id, "counter", &[(TCP_ENTRY, "Counter over TCP")]);
    /// assert_eq!(info.data, DataLocation::Process);
    /// ```
    pub fn layered(id: Guid, name: &str, over: &[(u32, &str)]) -> ProviderInfo {
        ProviderInfo {
            id,
            name: name.to_owned(),
            protocols: over
                .iter()
                .map(|&(over, name)| Protocol::Layered {
                    over,
                    name: name.to_owned(),
                })
                .collect(),
            lowest: Version::new(2, 0),
            highest: Version::new(2, 2),
            data: DataLocation::Process,
        }
    }

    /// SP-10, the one place it is decided: `WSPStartup` succeeds when `requested` is at least
    /// the provider's lowest version, with `wVersion = min(requested, highest)` and
    /// `wHighVersion = highest`; otherwise `WSAVERNOTSUPPORTED`.
    ///
    /// ```
    /// use ws2sim::spi::{Negotiated, ProviderInfo, TCP_ENTRY};
    /// use ws2sim::{Guid, Version, WsaError};
    ///
    /// let info = ProviderInfo::layered(Guid::default(), "p", &[(TCP_ENTRY, "p")]);
    /// assert_eq!(
    ///     info.negotiate(Version::new(3, 0)),
    ///     Ok(Negotiated { version: Version::new(2, 2), high: Version::new(2, 2) })
    /// );
    /// assert_eq!(info.negotiate(Version::new(1, 1)), Err(WsaError::VersionNotSupported));
    /// ```
    pub fn negotiate(&self, requested: Version) -> Result<Negotiated, WsaError> {
        if requested < self.lowest {
            return Err(WsaError::VersionNotSupported);
        }
        Ok(Negotiated {
            version: requested.min(self.highest),
            high: self.highest,
        })
    }
}

/// What `WSPStartup` writes into `WSPDATA`: the version both sides use and the provider's
/// highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// `wVersion`.
    pub version: Version,
    /// `wHighVersion`.
    pub high: Version,
}

/// The arguments of `WSPSocket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketArgs {
    /// `af` as the application passed it.
    pub af: i32,
    /// `type`.
    pub ty: i32,
    /// `protocol`.
    pub protocol: i32,
    /// The catalog entry Ws2_32 chose: `lpProtocolInfo`.
    pub entry: ProtocolInfo,
    /// `g`.
    pub group: u32,
    /// `dwFlags`.
    pub flags: u32,
    /// `lpProtocolInfo->dwProviderReserved` when `WSASocketW` was given one (DU-1: a
    /// `WSADuplicateSocketW` token opens the duplicated socket).
    pub reserved: Option<u32>,
}

/// An overlapped `WSPSend`/`WSPSendTo`/`WSPRecv`/`WSPRecvFrom` on its way to the base
/// provider, which completes it.
///
/// # Divergence
/// A layered provider sees what the operation is and how many bytes it moves, but cannot
/// rewrite its data or complete it itself: the buffers stay the application's, and the base
/// provider fills them and runs the completion (event, routine or port) through Ws2_32.
#[derive(Debug)]
pub struct Overlapped {
    pub(crate) req: OpRequest,
    pub(crate) fault: bool,
}

impl Overlapped {
    /// True for a send, false for a receive.
    pub fn is_send(&self) -> bool {
        matches!(self.req.kind, OpKind::Send { .. })
    }

    /// The bytes a send carries, or the room a receive offers.
    pub fn len(&self) -> usize {
        match &self.req.kind {
            OpKind::Send { data, .. } => data.len(),
            OpKind::Recv { capacity, .. } => *capacity,
            OpKind::Control => 0,
            OpKind::Connect { data, .. } => data.len(),
            OpKind::Accept { lengths, .. } => lengths.data as usize,
            OpKind::Disconnect { .. } => 0,
        }
    }

    /// True when [`len`](Overlapped::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A service provider: the procedure table of `ws2spi.h`, with `lpErrno` as the error of a
/// `Result`.
///
/// # Writing a provider
/// A provider is a value that can be cloned: each simulated process that uses it gets its own
/// clone (its own DLL instance), made when Ws2_32 first loads it (SP-1). Give it to
/// [`SimBuilder::provider`](crate::SimBuilder::provider); its protocols join the catalog after
/// the built-in ones, and applications reach them with `WSASocketW` and the
/// `WSAPROTOCOL_INFOW` that `WSAEnumProtocolsW` lists.
///
/// User providers are *layered* (chain length > 1, [`Protocol::Layered`]): every method has a
/// default that passes the call to the provider below with [`Spi::lower`], so a provider
/// overrides only what it changes. Only [`info`](Provider::info),
/// [`startup`](Provider::startup) and [`cleanup`](Provider::cleanup) must be written; the
/// startup/cleanup contract is SP-2, SP-3, SP-9 and SP-10:
///
/// - `startup` counts one more client and answers with [`ProviderInfo::negotiate`];
/// - `cleanup` with a count of 0 fails `WSANOTINITIALISED`; otherwise it counts one client
///   less, and only the call that reaches 0 cleans up; the provider must then be ready for a
///   new `startup` at once;
/// - before the final `cleanup` returns, data the provider holds in the process must be flushed
///   to the layer below (SP-6); [`unsent_bytes`](Provider::unsent_bytes) reports what is left.
///
/// Ws2_32 checks that contract as it calls the provider: each violation becomes a
/// [`Diagnostic`](crate::Diagnostic) naming the rule, in [`Sim::diagnostics`](crate::Sim::diagnostics)
/// and in the trace.
///
/// # Blocking
/// A method that must wait returns [`Stop::Block`] (usually by passing on the layer below's
/// with `?`). The simulator parks the calling thread and makes the same call again later with
/// [`Spi::resumed`] true, so a method must not repeat its side effects when resumed. Methods
/// run inside the simulator: calling Winsock (`ws2sim::sys`) from one fails `WSAEINPROGRESS`
/// (CL-10); use [`Spi::lower`] instead.
///
/// # Testing a provider
/// ```
/// use ws2sim::spi::{Provider, ProviderInfo, Spi, Stop, Negotiated, TCP_ENTRY};
/// use ws2sim::{sys::*, Guid, Sim, Socket, Version, WsaError};
///
/// /// Counts the bytes sent through it; everything else passes through.
/// #[derive(Clone, Default)]
/// struct Counter { clients: u32, sent: usize }
///
/// impl Provider for Counter {
///     fn info(&self) -> ProviderInfo {
///         let mut info = ProviderInfo::layered(
///             Guid::new(0xC0C0_0001, 0, 0, *b"COUNTER!"), "counter", &[(TCP_ENTRY, "Counter")]);
///         info.data = ws2sim::spi::DataLocation::Transport; // it buffers nothing itself
///         info
///     }
///     fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
///         let n = self.info().negotiate(v)?;
///         self.clients += 1;
///         Ok(n)
///     }
///     fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> {
///         if self.clients == 0 {
///             return Err(WsaError::NotInitialised.into()); // SP-3
///         }
///         self.clients -= 1;
///         Ok(())
///     }
///     fn send(&mut self, spi: &mut Spi<'_>, s: Socket, buf: Option<&[u8]>, len: i32,
///             flags: i32) -> Result<usize, Stop> {
///         let n = spi.lower().send(s, buf, len, flags)?;
///         if !spi.resumed() { self.sent += n; }
///         Ok(n)
///     }
/// }
///
/// let sim = Sim::builder().provider(Counter::default()).build();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     // Find the counter's entry and open a socket on it.
///     let entry = ws2sim::api::enum_protocols(None).unwrap().into_iter()
///         .find(|e| e.name == "Counter").unwrap();
///     assert_eq!(entry.chain.len, 2); // [the counter's own entry, TCP]
///     let s = Socket::from_protocol_info(&entry, 0).unwrap();
///     assert_eq!(s.protocol_info().unwrap().catalog_entry_id, entry.catalog_entry_id);
///     assert_eq!(WSACleanup(), 0);
/// });
/// assert!(sim.diagnostics().is_empty()); // the contract held
/// ```
#[allow(unused_variables)]
pub trait Provider: Send + 'static {
    /// The provider's descriptor. Asked once, when the simulation is built.
    fn info(&self) -> ProviderInfo;

    /// `WSPStartup`: one more client. SP-10: answer with [`ProviderInfo::negotiate`].
    fn startup(&mut self, spi: &mut Spi<'_>, requested: Version) -> Result<Negotiated, WsaError>;

    /// `WSPCleanup`: one client less; the call that reaches 0 cleans up (SP-2..SP-6).
    fn cleanup(&mut self, spi: &mut Spi<'_>) -> Result<(), Stop>;

    /// Bytes the application sent that the provider still holds in the process (SP-6, SP-7):
    /// lost if the DLL is unloaded now. 0 for a provider that keeps nothing.
    fn unsent_bytes(&self) -> usize {
        0
    }

    /// Every SPI call whose own method this provider does not override, as a [`Request`]:
    /// the default passes it to the layer below ([`Lower::handle`]).
    ///
    /// Override it to treat all those calls alike (fail some, count or log all), or to serve
    /// them in one place as the built-in base providers do. The [`Response`] must match the
    /// request (a socket for `Socket` and `Accept`, a count for the data calls and
    /// `GetOverlappedResult`, `Done` for the rest); a mismatch fails the call
    /// `WSAEINVALIDPROVIDER`.
    ///
    /// ```
    /// use ws2sim::spi::{Negotiated, Provider, ProviderInfo, Request, Response, Spi, Stop, TCP_ENTRY};
    /// use ws2sim::{Guid, Version, WsaError};
    ///
    /// /// Refuses every send; everything else passes through.
    /// #[derive(Clone)]
    /// struct NoSend { clients: u32 }
    ///
    /// impl Provider for NoSend {
    ///     fn info(&self) -> ProviderInfo {
    ///         ProviderInfo::layered(Guid::new(0x0005_E4D0, 0, 0, *b"NO-SEND!"), "no-send",
    ///             &[(TCP_ENTRY, "No send")])
    ///     }
    ///     fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
    ///         let n = self.info().negotiate(v)?;
    ///         self.clients += 1;
    ///         Ok(n)
    ///     }
    ///     fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> {
    ///         self.clients = self.clients.checked_sub(1).ok_or(WsaError::NotInitialised)?;
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, spi: &mut Spi<'_>, r: Request<'_>) -> Result<Response, Stop> {
    ///         match r {
    ///             Request::Send { .. } | Request::SendTo { .. } => Err(WsaError::NetworkDown.into()),
    ///             other => spi.lower().handle(other),
    ///         }
    ///     }
    /// }
    ///
    /// let sim = ws2sim::Sim::builder().provider(NoSend { clients: 0 }).build();
    /// sim.localhost().process("app").run(|| unsafe {
    ///     use ws2sim::sys::*;
    ///     let mut d: WSADATA = std::mem::zeroed();
    ///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
    ///     let entry = ws2sim::api::enum_protocols(None).unwrap().into_iter()
    ///         .find(|e| e.name == "No send").unwrap();
    ///     let s = ws2sim::Socket::from_protocol_info(&entry, 0).unwrap();
    ///     let to = SOCKADDR_IN::from(std::net::SocketAddrV4::new([127, 0, 0, 1].into(), 9));
    ///     let r = sendto(s.raw(), b"x".as_ptr(), 1, 0,
    ///         (&to as *const SOCKADDR_IN).cast(), std::mem::size_of::<SOCKADDR_IN>() as i32);
    ///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSAENETDOWN));
    ///     assert_eq!(WSACleanup(), 0);
    /// });
    /// ```
    fn handle(&mut self, spi: &mut Spi<'_>, request: Request<'_>) -> Result<Response, Stop> {
        spi.lower().handle(request)
    }

    /// `WSPSocket`: a new socket for `args.entry`.
    fn socket(&mut self, spi: &mut Spi<'_>, args: &SocketArgs) -> Result<Socket, Stop> {
        self.handle(spi, Request::Socket(args))?.socket()
    }

    per_socket_calls!(provider_defaults);

    /// `WSPCancelBlockingCall` for the calling thread's blocking call on a socket of this
    /// provider (Winsock 1.1 only: CL-13 is checked by Ws2_32 first).
    fn cancel_blocking_call(&mut self, spi: &mut Spi<'_>) -> Result<(), Stop> {
        self.handle(spi, Request::CancelBlockingCall)?.done()
    }
}

/// How a registered provider is instantiated per process.
pub(crate) type Factory = Arc<dyn Fn() -> Box<dyn Provider> + Send + Sync>;

/// A registered provider: its descriptor and how to make an instance.
#[derive(Clone)]
pub(crate) struct Registered {
    pub(crate) info: ProviderInfo,
    pub(crate) make: Factory,
}

impl fmt::Debug for Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registered")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// A process's instance of a provider: `None` while one of its methods runs.
pub(crate) struct Instance(pub(crate) Option<Box<dyn Provider>>);

impl fmt::Debug for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Instance(idle)"
        } else {
            "Instance(running)"
        })
    }
}

/// What a provider's method is called with: the call's context and the way down the chain.
///
/// A provider never reaches the simulator's state other than through this context. The
/// built-in base providers work on the simulation's machine (hosts, socket tables,
/// transport, overlapped queue, blocked threads); nothing here reaches Ws2_32's registry
/// (the catalog, other providers' instances), except the next provider down through
/// [`Spi::lower`].
pub struct Spi<'a> {
    pub(crate) machine: &'a mut Machine,
    providers: &'a mut Providers,
    pub(crate) cx: &'a mut Cx,
    /// The providers of the socket's protocol chain, top first.
    pub(crate) chain: Vec<ProviderIdx>,
    /// Which of them is being called.
    pub(crate) depth: usize,
}

impl fmt::Debug for Spi<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spi")
            .field("process", &self.cx.process)
            .field("thread", &self.cx.thread)
            .field("chain", &self.chain)
            .field("depth", &self.depth)
            .finish()
    }
}

impl<'a> Spi<'a> {
    /// The context for calling `chain[depth]` (made by Ws2_32's SPI client).
    pub(crate) fn new(
        machine: &'a mut Machine,
        providers: &'a mut Providers,
        cx: &'a mut Cx,
        chain: Vec<ProviderIdx>,
        depth: usize,
    ) -> Spi<'a> {
        Spi {
            machine,
            providers,
            cx,
            chain,
            depth,
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> std::time::Duration {
        self.machine.now
    }

    /// The simulation's profile.
    pub fn profile(&self) -> Profile {
        self.machine.profile
    }

    /// True when the application's call is being made again after it returned
    /// [`Stop::Block`]: the side effects the provider made before it blocked happened already.
    ///
    /// It holds for the whole call. Calls passed down with [`lower`](Spi::lower) are
    /// resumptions only on the socket whose call blocked, so a provider that flushes several
    /// sockets in one call can simply make the same calls again.
    pub fn resumed(&self) -> bool {
        self.cx.resumed
    }

    /// The provider being called.
    pub(crate) fn me(&self) -> ProviderIdx {
        self.chain[self.depth]
    }

    /// The provider below in the socket's protocol chain, to pass a call on to.
    pub fn lower(&mut self) -> Lower<'_, 'a> {
        Lower { spi: self }
    }
}

/// The next provider down a protocol chain ([`Spi::lower`]). Each method makes that
/// provider's call; a base provider has nothing below, and its calls fail `WSAEOPNOTSUPP`.
pub struct Lower<'s, 'a> {
    spi: &'s mut Spi<'a>,
}

impl fmt::Debug for Lower<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lower").field("spi", &self.spi).finish()
    }
}

impl Lower<'_, '_> {
    /// Calls the provider below in the spi's chain.
    fn call<R>(
        self,
        f: impl FnOnce(&mut dyn Provider, &mut Spi<'_>) -> Result<R, Stop>,
    ) -> Result<R, Stop> {
        let depth = self.spi.depth + 1;
        if depth >= self.spi.chain.len() {
            return Err(WsaError::OperationNotSupported.into());
        }
        let chain = self.spi.chain.clone();
        let spi = &mut *self.spi;
        spi.providers.call(spi.machine, spi.cx, chain, depth, f)
    }

    /// Calls the provider below this one in socket `s`'s own chain: from `WSPCleanup` (which
    /// is not called for a socket), that is how a layered provider reaches its sockets.
    fn call_on<R>(
        self,
        s: Socket,
        f: impl FnOnce(&mut dyn Provider, &mut Spi<'_>) -> Result<R, Stop>,
    ) -> Result<R, Stop> {
        let me = self.spi.me();
        let own = self
            .spi
            .machine
            .process(self.spi.cx.process)
            .socket_chain(s)
            .and_then(|c| {
                let below = c.iter().position(|&p| p == me)? + 1;
                (below < c.len()).then(|| (c.to_vec(), below))
            });
        match own {
            Some((chain, depth)) => {
                let spi = &mut *self.spi;
                spi.machine.touch(s);
                spi.providers.call(spi.machine, spi.cx, chain, depth, f)
            }
            // Not a socket of this chain: the chain the call came with decides (and the
            // provider below reports the bad handle).
            None => self.call(f),
        }
    }

    per_socket_calls!(lower_handle);

    /// `WSPSocket` below.
    pub fn socket(self, args: &SocketArgs) -> Result<Socket, Stop> {
        self.call(|p, spi| p.socket(spi, args))
    }

    per_socket_calls!(lower_forwarding);

    /// `WSPCancelBlockingCall` below.
    pub fn cancel_blocking_call(self) -> Result<(), Stop> {
        self.call(|p, spi| p.cancel_blocking_call(spi))
    }
}
