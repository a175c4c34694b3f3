//! AD-4: name resolution, as `getaddrinfo`/`GetAddrInfoW`, `freeaddrinfo`/`FreeAddrInfoW`
//! and `gethostname`/`GetHostNameW` do it, against the simulation's own table of hosts.
//!
//! [`World::ad_4_resolve`] is the one place the rule is decided: it checks the hints in
//! Winsock's order, resolves the node and the service, and keeps the set of result lists a
//! process has not freed (they count in its live resources). The lists themselves are built
//! and freed by `sys`, which owns the memory; the core knows a list only by its key, an
//! address it never dereferences.
//!
//! The table: each host's name resolves to `fd00::N` then `10.0.0.N` (AD-1); `"localhost"` to
//! `::1` then `127.0.0.1`; the empty node to the calling process's own host; a NULL node to
//! the loopback addresses, or with `AI_PASSIVE` to the wildcard ones; names registered in
//! the namespace (CL-9) to their IPv4 address. Numeric IPv4 (dotted decimal) and IPv6 (with
//! optional brackets and `%scope`) nodes resolve to themselves. Readings follow Wine's
//! conformance tests of Windows (`dlls/ws2_32/tests/sock.c`, `test_getaddrinfo`).
//!
//! This module makes no sockets and reads no caller memory.
//!
//! # Divergence
//! - There is no DNS, hosts file or services file: a name the simulation does not know
//!   fails `WSAHOST_NOT_FOUND`, and a service must be a port number (else
//!   `WSATYPE_NOT_FOUND`; Windows also knows names such as `"http"`).
//! - `"[addr]:port"` nodes, which Windows accepts (ignoring the port), fail
//!   `WSAHOST_NOT_FOUND`.
//! - Each address appears once, with the hints' socket type and protocol (0 and 0 without
//!   hints), as Windows answers; `ai_flags` of the results are 0.
//! - A NULL `ppResult` fails `WSAEINVAL` (Windows' behaviour is not documented or tested).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::addr_text::{pton_v4, pton_v6};
use crate::core::call::{AddrInfo, AddrInfoKey, Hints, Resolution};
use crate::core::rules::Rule;
use crate::core::{Cx, Reply, Stop, World};
use crate::error::WsaError;

/// `AI_PASSIVE`.
const AI_PASSIVE: i32 = 0x1;
/// `AI_CANONNAME`.
const AI_CANONNAME: i32 = 0x2;
/// `AI_NUMERICHOST`.
const AI_NUMERICHOST: i32 = 0x4;
/// `AI_FQDN`.
const AI_FQDN: i32 = 0x20000;
/// Every flag Windows documents for `getaddrinfo`'s hints: `AI_PASSIVE` through
/// `AI_DISABLE_IDN_ENCODING` (0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80, 0x100, 0x400,
/// 0x800, 0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000).
const KNOWN_FLAGS: i32 = 0xff | 0x100 | 0x400 | 0x800 | 0x4000 | 0x8000 | 0xf_0000;

/// The result lists a process has not freed (AD-4), by key.
#[derive(Debug, Default)]
pub(crate) struct AddrInfoLists {
    live: BTreeSet<AddrInfoKey>,
}

impl AddrInfoLists {
    /// How many lists are live.
    pub(crate) fn len(&self) -> usize {
        self.live.len()
    }
}

impl World {
    /// AD-4, the one place it is decided: `getaddrinfo`, `freeaddrinfo`, `gethostname` and
    /// their `W` forms.
    pub(in crate::core) fn ad_4_resolve(
        &mut self,
        cx: &mut Cx,
        r: &mut Resolution<'_>,
    ) -> Result<Reply, Stop> {
        cx.rule(Rule::Ad4);
        match r {
            Resolution::GetAddrInfo {
                node,
                service,
                hints,
                key,
                ..
            } => {
                let key = key.ok_or(WsaError::InvalidArgument)?;
                let found = self.getaddrinfo(cx, node.as_deref(), service.as_deref(), *hints)?;
                self.process_mut(cx.process)
                    .addrinfo_lists()
                    .live
                    .insert(key);
                Ok(Reply::AddrInfo(found))
            }
            Resolution::FreeAddrInfo { key, .. } => {
                let lists = self.process_mut(cx.process).addrinfo_lists();
                match lists.live.remove(key) {
                    true => Ok(Reply::Done),
                    // Not a list getaddrinfo returned, or one already freed: Windows would
                    // corrupt its heap; the simulator leaves the memory alone.
                    false => Err(WsaError::InvalidArgument.into()),
                }
            }
            Resolution::GetHostName { out } => {
                let host = self.process(cx.process).host();
                let name = self.hosts[host.0 as usize].name.clone();
                // NULL or too short for the name and its NUL: WSAEFAULT, the buffer untouched.
                match out.write(&name) {
                    true => Ok(Reply::Done),
                    false => Err(WsaError::Fault.into()),
                }
            }
        }
    }

    /// `getaddrinfo`'s checks and answer, in Windows' order: node and service both NULL →
    /// `WSAHOST_NOT_FOUND`; hints with other members set → `WSANO_RECOVERY`; unknown flags →
    /// `WSAEINVAL`; a family other than `AF_UNSPEC`/`AF_INET`/`AF_INET6` → `WSAEAFNOSUPPORT`;
    /// a socket type other than 0..=3 → `WSAESOCKTNOSUPPORT`; a service that is not a port →
    /// `WSATYPE_NOT_FOUND`; a node nobody knows (or a name with `AI_NUMERICHOST`), or no
    /// address of the asked family → `WSAHOST_NOT_FOUND`.
    fn getaddrinfo(
        &self,
        cx: &Cx,
        node: Option<&str>,
        service: Option<&str>,
        hints: Option<Hints>,
    ) -> Result<Vec<AddrInfo>, WsaError> {
        if node.is_none() && service.is_none() {
            return Err(WsaError::HostNotFound);
        }
        let hints = hints.unwrap_or_default();
        if hints.others_set {
            return Err(WsaError::NoRecovery);
        }
        if hints.flags & !KNOWN_FLAGS != 0
            || hints.flags & (AI_CANONNAME | AI_FQDN) == AI_CANONNAME | AI_FQDN
        {
            return Err(WsaError::InvalidArgument);
        }
        let family = match hints.family {
            0 => None,
            2 => Some(Family::V4),
            23 => Some(Family::V6),
            _ => return Err(WsaError::AddressFamilyNotSupported),
        };
        if !(0..=3).contains(&hints.socktype) {
            return Err(WsaError::SocketTypeNotSupported);
        }
        let port = match service {
            None | Some("") => 0,
            Some(s) => s.parse::<u16>().map_err(|_| WsaError::TypeNotFound)?,
        };
        let (ips, canon) = self.node_addresses(cx, node, hints.flags)?;
        let found: Vec<AddrInfo> = ips
            .into_iter()
            .filter(|ip| family.is_none_or(|f| f == Family::of(ip)))
            .enumerate()
            .map(|(i, ip)| AddrInfo {
                family: match Family::of(&ip) {
                    Family::V4 => 2,
                    Family::V6 => 23,
                },
                socktype: hints.socktype,
                protocol: hints.protocol,
                addr: SocketAddr::new(ip, port),
                canonname: (i == 0 && hints.flags & AI_CANONNAME != 0)
                    .then(|| canon.clone())
                    .flatten(),
            })
            .collect();
        if found.is_empty() {
            return Err(WsaError::HostNotFound);
        }
        Ok(found)
    }

    /// The addresses `node` names, in order, and its canonical name.
    fn node_addresses(
        &self,
        cx: &Cx,
        node: Option<&str>,
        flags: i32,
    ) -> Result<(Vec<IpAddr>, Option<String>), WsaError> {
        let Some(node) = node else {
            return Ok(match flags & AI_PASSIVE != 0 {
                true => (
                    vec![Ipv6Addr::UNSPECIFIED.into(), Ipv4Addr::UNSPECIFIED.into()],
                    None,
                ),
                false => (
                    vec![Ipv6Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into()],
                    None,
                ),
            });
        };
        if let Some(ip) = numeric(node) {
            return Ok((vec![ip], Some(node.to_owned())));
        }
        if flags & AI_NUMERICHOST != 0 {
            return Err(WsaError::HostNotFound);
        }
        if node.eq_ignore_ascii_case("localhost") {
            let ips = vec![Ipv6Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into()];
            return Ok((ips, Some(node.to_owned())));
        }
        let host = match node {
            "" => Some(self.process(cx.process).host().0 as usize),
            name => self
                .hosts
                .iter()
                .position(|h| h.name.eq_ignore_ascii_case(name)),
        };
        if let Some(i) = host {
            let h = &self.hosts[i];
            let ips = vec![IpAddr::V6(host_v6(i)), IpAddr::V4(h.addr.into())];
            return Ok((ips, Some(h.name.clone())));
        }
        match self.names.get(node) {
            Some(a) => Ok((vec![IpAddr::V4(*a.ip())], Some(node.to_owned()))),
            None => Err(WsaError::HostNotFound),
        }
    }
}

/// AD-1: the IPv6 address of the host created `i`-th (from 0): `fd00::N`, N = i + 1.
pub fn host_v6(i: usize) -> Ipv6Addr {
    let n = i as u32 + 1;
    Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, (n >> 16) as u16, n as u16)
}

/// A numeric node: dotted-decimal IPv4, or IPv6 with optional brackets and `%scope`.
fn numeric(node: &str) -> Option<IpAddr> {
    if let Some(v4) = pton_v4(node) {
        return Some(IpAddr::V4(v4.into()));
    }
    let inner = match node.strip_prefix('[') {
        Some(rest) => rest.strip_suffix(']')?,
        None => node,
    };
    let addr =
        inner.split_once('%').map_or(
            inner,
            |(a, scope)| {
                if scope.parse::<u32>().is_ok() {
                    a
                } else {
                    ""
                }
            },
        );
    pton_v6(addr).map(|b| IpAddr::V6(b.into()))
}

/// The two families a result can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn of(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}
