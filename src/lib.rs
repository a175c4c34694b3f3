//! # ws2sim
//!
//! A deterministic, user-space simulator of the Windows Sockets 2 runtime — Ws2_32 and the
//! service providers beneath it — for testing Winsock code on any OS, without a network.
//!
//! Code runs inside simulated processes ([`Process::run`]) and calls Winsock through
//! [`sys`] (windows-sys' names and raw pointers, so the same source builds against the real
//! thing on Windows) or [`api`] (safe Rust). Every call lands in a sans-IO core that implements
//! the rules of the [specification](rules) (`docs/SPEC.md`, shipped with the crate), and in a
//! [`Trace`] that names, for each call, the rules that decided its outcome.
//!
//! ## Quick start
//!
//! ```
//! use ws2sim::{sys::*, Sim};
//!
//! let sim = Sim::builder().seed(7).build();
//! let app = sim.localhost().process("app");
//! app.run(|| unsafe {
//!     let mut data: WSADATA = std::mem::zeroed();
//!     // Two startups: Ws2_32 counts them (ST-4).
//!     assert_eq!(WSAStartup(0x0202, &mut data), 0);
//!     assert_eq!(WSAStartup(0x0202, &mut data), 0);
//!     assert_eq!(data.wVersion, 0x0202);
//!
//!     let s = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
//!     assert_ne!(s, INVALID_SOCKET);
//!
//!     // The first cleanup only decrements the count (CL-2): the socket lives on.
//!     assert_eq!(WSACleanup(), 0);
//!     let mut ty = 0i32;
//!     let mut len = 4;
//!     assert_eq!(getsockopt(s, SOL_SOCKET, SO_TYPE, (&mut ty as *mut i32).cast(), &mut len), 0);
//!     assert_eq!(ty, SOCK_STREAM);
//!
//!     // The final cleanup resets and frees it (CL-6, CL-8) ...
//!     assert_eq!(WSACleanup(), 0);
//!     // ... and its handle never comes back, even after a restart (CS-1).
//!     assert_eq!(WSAStartup(0x0202, &mut data), 0);
//!     assert_eq!(closesocket(s), SOCKET_ERROR);
//!     assert_eq!(WSAGetLastError(), WSAENOTSOCK);
//!     assert_eq!(WSACleanup(), 0);
//! });
//! assert_eq!(app.live_resources(), 0);
//! println!("{}", sim.trace()); // one line per call, with the SPEC rules that decided it
//! ```
//!
//! The ids in the comments are rules of the specification: [ST-4], [CL-2], [CL-6], [CL-8],
//! [CS-1].
//!
//! ## The specification and the divergences
//! - [`rules`]: every rule with its text and sources, by family; each is also a [`Rule`]
//!   variant ([`Rule::text`]), and the trace names rules by these ids.
//! - [`divergences`]: every place where the simulator knowingly differs from Windows or its
//!   documentation, or picks a reading of its own, with a link to the item that explains it.
//! - [`Profile`] chooses between documented and observed Windows behaviour where they disagree.
//!
//! ## Layers
//! - [`sys`] and [`api`] translate; they hold no behaviour.
//! - `sim` ([`Sim`], [`Host`], [`Process`]) runs test code as simulated threads, keeps virtual
//!   time and the trace.
//! - The core is a sans-IO state machine holding every rule.
//! - [`spi`] is the service provider interface: the built-in providers implement its
//!   [`Provider`](spi::Provider) trait, and so can yours ([`SimBuilder::provider`]).
//!
//! [ST-4]: rules#st-4
//! [CL-2]: rules#cl-2
//! [CL-6]: rules#cl-6
//! [CL-8]: rules#cl-8
//! [CS-1]: rules#cs-1
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(not(target_pointer_width = "64"))]
compile_error!("ws2sim models 64-bit Windows (handle values and structure layouts): build it for a 64-bit target");

pub mod api;
pub mod consts;
mod core;
pub mod divergences;
mod error;
pub mod rules {
    //! # The rules
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/rules_page.md"))]
    pub use crate::core::rules::{Rule, Source};
}
mod sim;
pub mod spi;
pub mod sys;
pub mod testing;
pub mod thread;
mod trace;

pub use crate::core::catalog::{Guid, ProtocolChain, ProtocolInfo};
pub use crate::core::events::EventHandle;
pub use crate::core::providers::net::MAX_DISCONNECT_DATA;
pub use crate::core::providers::socket::Linger;
pub use crate::core::rules::Rule;
pub use crate::core::ws2::process::Ending;
pub use crate::core::ws2::table::Socket;
pub use crate::core::ws2::version::{Version, WsaData};
pub use crate::core::Profile;
pub use error::WsaError;
pub use sim::handle::ThreadHandle;
pub use sim::{
    check_determinism, Diagnostic, Host, Process, Scheduler, Sim, SimBuilder, SimError,
    DEFAULT_LATENCY, DEFAULT_SPIN_LIMIT, SEED_ENV,
};
pub use thread::dllmain;
pub use trace::{
    Argument, Event, EventKind, Header, HostInfo, Packet, PacketKind, Trace, TraceError,
    TRACE_FORMAT_VERSION,
};
/// Runs a test function once per seed: see [`testing`] and [`testing::sweep`].
pub use ws2sim_macros::test;

/// The README's examples, compiled and run as doc tests so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
