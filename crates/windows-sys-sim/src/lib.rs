//! windows-sys, simulated: the parts of windows-sys 0.61 that [ws2sim] simulates, at the same
//! paths, with the same names, types and signatures, so Winsock code written against
//! windows-sys runs in a ws2sim simulation without a source change.
//!
//! A crate switches by renaming its dependency for the targets where it should simulate:
//!
//! ```toml
//! [target.'cfg(windows)'.dependencies]
//! windows-sys = { version = "0.61", features = ["Win32_Networking_WinSock"] }
//!
//! [target.'cfg(not(windows))'.dependencies]
//! windows-sys = { package = "windows-sys-sim", version = "0.1", features = ["Win32_Networking_WinSock"] }
//! ```
//!
//! Every windows-sys feature name is accepted (and ignored: the facade always holds all of
//! itself). Calls must run on a simulated thread, inside [`ws2sim::Process::run`] or a thread it
//! spawned; the tests set that up with ws2sim's own API:
//!
//! ```
//! use windows_sys_sim::Win32::Networking::WinSock::*;
//!
//! let sim = ws2sim::Sim::new();
//! sim.localhost().process("app").run(|| unsafe {
//!     let mut data: WSADATA = std::mem::zeroed();
//!     assert_eq!(WSAStartup(0x0202, &mut data), 0);
//!     let s = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
//!     assert_ne!(s, INVALID_SOCKET);
//!     assert_eq!(closesocket(s), 0);
//!     assert_eq!(WSACleanup(), 0);
//! });
//! ```
//!
//! What is here: [`Win32::Networking::WinSock`], [`Win32::System::IO`] (overlapped results and
//! completion ports), [`Win32::System::Threading`] (`Sleep`, `SleepEx`, events and waits),
//! [`Win32::Security`] (`SECURITY_ATTRIBUTES`),
//! [`Win32::System::SystemInformation`] and [`Win32::System::Performance`] (clocks in virtual
//! time), [`Win32::Foundation`] (`HANDLE`, `GetLastError`, handle information) and
//! [`core`] (`GUID`, `BOOL`, the string pointer types): every function,
//! constant and structure of `ws2sim::sys` that windows-sys declares. The items are generated
//! from windows-sys' own declarations by `generate.py`; `tests/parity.rs` checks every constant
//! and layout against the real crate.
//!
//! What is not here: anything ws2sim does not simulate (a call windows-sys has and this crate
//! lacks fails to compile, rather than failing at run time), and ws2sim's own extras
//! (`ws2sim::sys::overlapped_status`, the disconnect-data protocol), which stay in `ws2sim`.
//!
//! # Divergence
//! The functions are `unsafe extern "system-unwind" fn`, where windows-sys declares
//! `unsafe extern "system" fn`. Calling them by name is the same; a function pointer of one
//! type does not coerce to the other. ws2sim ends a simulated thread (a deadlock report, a
//! process's end) by unwinding it, and unwinding out of an `extern "system"` function aborts
//! the process, which a test library must never do.

#![allow(non_snake_case, non_camel_case_types, clippy::missing_safety_doc)]
// Constants are ws2sim's values cast to windows-sys' types, which are mostly ws2sim's too.
#![allow(clippy::unnecessary_cast)]

pub mod Win32;
pub mod core;
