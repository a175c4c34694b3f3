//! The built-in base providers, implementing [`Provider`](crate::core::provider::Provider)
//! like a user's: MSAFD Tcpip (`msafd.rs`: the TCP and UDP entries) and ws2sim's
//! disconnect-data stream provider (`disconnect.rs`). `builtin.rs` is their common
//! implementation; `net.rs`, `sockopt.rs` and `socket.rs` are the socket calls and per-socket
//! state they share.
//!
//! A base provider never touches Ws2_32's state (startup counts, the catalog, other
//! providers); it reaches the network only through the transport.

pub mod accept_ex;
pub mod builtin;
pub mod calls;
pub mod cleanup;
pub mod connect_ex;
pub mod control;
pub mod disconnect;
pub mod disconnect_ex;
pub mod duplicate;
pub mod message;
pub mod msafd;
pub mod net;
pub mod sockaddr;
pub mod socket;
pub mod sockopt;
#[cfg(test)]
mod tests_close;
#[cfg(test)]
mod tests_disconnect;

pub use builtin::{Builtin, BUILTIN_PROVIDERS};
