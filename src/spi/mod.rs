//! The service provider interface: write a Winsock service provider in Rust, plug it into a
//! simulation, and have Ws2_32 check its side of the contract.
//!
//! - [`Provider`] is the SPI procedure table (`WSPStartup`, `WSPCleanup`, `WSPSocket`, ...);
//!   its documentation is a short guide to writing one. Override the methods a provider
//!   changes, or [`Provider::handle`] to treat every call it does not override alike (fail
//!   some, count or log all): each such call reaches `handle` as a [`Request`] and answers
//!   with a [`Response`].
//! - [`ProviderInfo`] is its descriptor: protocols, provider id, SPI versions ([SP-10]) and where
//!   its unsent data lives ([SP-7]).
//! - [`SimBuilder::provider`](crate::SimBuilder::provider) adds one to the catalog.
//! - [`Client`] calls `WSPStartup`/`WSPCleanup` directly, as Ws2_32 would, to test the count
//!   rules ([SP-2], [SP-3], [SP-9]) on their own.
//! - [`check_provider`] runs a provider through the standard scenarios and returns every
//!   violation found: the one-line conformance test for a provider.
//!
//! The built-in providers (MSAFD Tcpip for TCP and UDP, and ws2sim's disconnect-data stream
//! provider) implement the same trait, serving every socket call in their `handle`; every
//! socket call of `sys` and `api` reaches them through it.
//!
//! # Divergence
//! - A socket has one handle for its whole protocol chain: a layered provider passes the
//!   application's handle down with [`Spi::lower`] instead of creating its own with
//!   `WPUCreateSocketHandle` and keeping a handle of the provider below.
//! - Ws2_32 loads every provider of a chain itself, base first, with one `WSPStartup` each
//!   ([SP-1]); a layered provider does not start the provider below.
//! - User providers are layered: the simulated transport is reached through the built-in base
//!   providers.
//! - `WSAEventSelect`, `WSAEnumNetworkEvents` and `select` are served by Ws2_32's shared event
//!   machinery rather than by `WSPEventSelect`/`WSPSelect`.
//! - A provider's instance outlives the final `WSACleanup` for as long as its process lives (as
//!   if another module held the DLL), so [SP-9]'s immediate restart is observable; Ws2_32's load
//!   record does not survive ([ST-6]): the next socket loads the provider again.
//!
//! [SP-10]: crate::rules#sp-10
//! [SP-7]: crate::rules#sp-7
//! [SP-2]: crate::rules#sp-2
//! [SP-3]: crate::rules#sp-3
//! [SP-9]: crate::rules#sp-9
//! [SP-1]: crate::rules#sp-1
//! [ST-6]: crate::rules#st-6

mod check;
#[cfg(feature = "proptest")]
mod property;

pub use check::check_provider;
#[cfg(feature = "proptest")]
pub use property::{check_provider_property, ProviderFailure};

use crate::core::call::SpiCall;
use crate::core::Reply;
use crate::sim::thread::call;

pub use crate::core::call::Record;
pub use crate::core::catalog::{DISCONNECT_DATA_PROVIDER, MSAFD_TCPIP_PROVIDER};
pub use crate::core::provider::{
    DataLocation, Lower, Negotiated, Overlapped, Protocol, Provider, ProviderInfo, SocketArgs, Spi,
};
pub use crate::core::providers::control::{Control, Extension};
pub use crate::core::providers::net::{WsaBufIn, WsaBufOut};
pub use crate::core::request::{Request, Response};
pub use crate::core::ws2::spi_client::{ProviderError, SPI_VERSION};
pub use crate::core::{Block, Stop};

use crate::{Guid, Version, WsaError};

/// The built-in TCP/IP catalog entry (`dwCatalogEntryId`): layer over it.
pub const TCP_ENTRY: u32 = 1001;
/// The built-in UDP/IP catalog entry.
pub const UDP_ENTRY: u32 = 1002;
/// The built-in disconnect-data stream provider's catalog entry.
pub const DISCONNECT_DATA_ENTRY: u32 = 1003;

/// The SPI client side, for a test: calls a provider's `WSPStartup` and `WSPCleanup` directly
/// from a simulated thread, with the same contract checks Ws2_32 makes.
///
/// The provider's count is shared with Ws2_32's own use of it in the same process: a socket
/// loads the provider (one `WSPStartup`), and the final `WSACleanup` makes one `WSPCleanup`.
///
/// ```
/// use ws2sim::spi::{Client, MSAFD_TCPIP_PROVIDER};
/// use ws2sim::{Sim, Version, WsaError};
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| {
///     let tcp = Client::new(MSAFD_TCPIP_PROVIDER);
///     // SP-3: a WSPCleanup without a WSPStartup fails WSANOTINITIALISED in lpErrno.
///     assert_eq!(tcp.cleanup(), Err(WsaError::NotInitialised));
///     // SP-2: two startups, two cleanups; only the second cleans up.
///     assert!(tcp.startup(Version::new(2, 2)).is_ok());
///     assert!(tcp.startup(Version::new(2, 2)).is_ok());
///     assert_eq!(tcp.cleanup(), Ok(()));
///     assert_eq!(tcp.cleanup(), Ok(()));
///     // C-shaped, as the procedure table returns it.
///     let mut errno = 0;
///     assert_eq!(tcp.wsp_cleanup(&mut errno), -1);
///     assert_eq!(errno, 10093); // WSANOTINITIALISED
/// });
/// assert!(sim.diagnostics().is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    provider: Guid,
}

impl Client {
    /// A client of the provider whose id is `provider`.
    pub fn new(provider: Guid) -> Client {
        Client { provider }
    }

    /// `WSPStartup(requested)`: what the provider negotiated ([SP-10]).
    ///
    /// [SP-10]: crate::rules#sp-10
    pub fn startup(&self, requested: Version) -> Result<Negotiated, WsaError> {
        match call(SpiCall::SpiStartup {
            provider: self.provider,
            requested,
        })? {
            Reply::Negotiated(n) => Ok(n),
            other => unreachable!("WSPStartup replies with a negotiation, got {other:?}"),
        }
    }

    /// `WSPCleanup()`: an unknown provider id fails `WSAEINVAL` ([SP-3]). A provider that waits
    /// ([SP-6]) makes the calling thread wait in virtual time.
    ///
    /// [SP-3]: crate::rules#sp-3
    /// [SP-6]: crate::rules#sp-6
    pub fn cleanup(&self) -> Result<(), WsaError> {
        call(SpiCall::SpiCleanup {
            provider: self.provider,
        })
        .map(drop)
    }

    /// `WSPCleanup(lpErrno)` as C sees it: 0, or `SOCKET_ERROR` (-1) with the error in
    /// `*lp_errno`.
    pub fn wsp_cleanup(&self, lp_errno: &mut i32) -> i32 {
        match self.cleanup() {
            Ok(()) => 0,
            Err(e) => {
                *lp_errno = e.code();
                -1
            }
        }
    }
}
