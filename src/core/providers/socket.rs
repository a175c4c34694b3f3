//! One socket's own state: its catalog entry, flags, blocking mode and options.

use std::collections::BTreeMap;

use std::time::Duration;

use crate::consts::*;
use crate::core::catalog::ProtocolInfo;
use crate::core::events::NetEvents;
use crate::core::provider::ProviderIdx;
use crate::core::transport::EndpointId;
use crate::error::WsaError;

/// The `LINGER` structure: `l_onoff` and `l_linger` (seconds), kept exactly as set (CS-8).
///
/// Windows does not normalise `l_onoff`: a value of 0x100 reads back as 0x100 (win: sock.c).
///
/// ```
/// use ws2sim::Linger;
/// let l = Linger { onoff: 1, seconds: 5 };
/// assert_eq!(Linger::from_bytes(l.to_bytes()), l);
/// assert!(l.is_on());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Linger {
    /// `l_onoff`: non-zero means linger on.
    pub onoff: u16,
    /// `l_linger`: the timeout in seconds when linger is on.
    pub seconds: u16,
}

impl Linger {
    /// Linger on with this timeout.
    pub const fn on(seconds: u16) -> Linger {
        Linger { onoff: 1, seconds }
    }

    /// Linger off (the default).
    pub const OFF: Linger = Linger {
        onoff: 0,
        seconds: 0,
    };

    /// True when `l_onoff` is non-zero.
    pub const fn is_on(self) -> bool {
        self.onoff != 0
    }

    /// The structure's 4 bytes (native byte order).
    pub fn to_bytes(self) -> [u8; 4] {
        let [a, b] = self.onoff.to_ne_bytes();
        let [c, d] = self.seconds.to_ne_bytes();
        [a, b, c, d]
    }

    /// Reads the structure's 4 bytes.
    pub fn from_bytes(b: [u8; 4]) -> Linger {
        Linger {
            onoff: u16::from_ne_bytes([b[0], b[1]]),
            seconds: u16::from_ne_bytes([b[2], b[3]]),
        }
    }
}

/// Default send and receive buffer sizes (SO_SNDBUF, SO_RCVBUF): 64 KiB.
pub const DEFAULT_BUFFER_SIZE: u32 = 64 * 1024;

/// A socket's state in its process's table.
#[derive(Debug, Clone)]
pub struct SocketState {
    /// The catalog entry the socket was created from (what SO_PROTOCOL_INFOW reports).
    pub entry: ProtocolInfo,
    /// The providers of its protocol chain, top first: calls on the socket go to the first.
    pub chain: Vec<ProviderIdx>,
    /// FIONBIO: true for a non-blocking socket.
    pub nonblocking: bool,
    /// SO_LINGER / SO_DONTLINGER.
    pub linger: Linger,
    /// True once `listen` succeeded (SO_ACCEPTCONN).
    pub listening: bool,
    /// The socket's endpoint in the transport.
    pub endpoint: EndpointId,
    /// CS-4: when a lingering closesocket gives up, while one is in progress.
    pub closing: Option<Duration>,
    /// WSAEventSelect state.
    pub events: NetEvents,
    /// The completion port the socket is associated with, and its key (OV-6).
    pub port: Option<(crate::core::overlapped::PortHandle, usize)>,
    /// The other options that were set, by level and name, as 32-bit values (OP-1); an option
    /// never set has its default ([`SocketState::option_at`]). Empty, and so without a heap
    /// block, until an option is set.
    pub(in crate::core) options: BTreeMap<(i32, i32), u32>,
    /// The multicast groups joined (`IP_ADD_MEMBERSHIP`, `IP_ADD_SOURCE_MEMBERSHIP`): group,
    /// source (0: any), interface, as the `IP_MREQ`/`IP_MREQ_SOURCE` gave them.
    pub(in crate::core) groups: Vec<[u32; 3]>,
    /// DU-2: `HANDLE_FLAG_INHERIT` and `HANDLE_FLAG_PROTECT_FROM_CLOSE`, as
    /// SetHandleInformation stored them.
    pub handle_flags: u32,
    /// EX-2: `AcceptEx` gave this socket a connection of this listener, and
    /// `SO_UPDATE_ACCEPT_CONTEXT` has not been set on it yet.
    pub accept_context: Option<crate::core::ws2::table::Socket>,
}

impl SocketState {
    /// A new socket of `entry` (served by `chain`) on `endpoint`, with Windows' defaults.
    pub fn new(entry: ProtocolInfo, chain: Vec<ProviderIdx>, endpoint: EndpointId) -> SocketState {
        SocketState {
            entry,
            chain,
            nonblocking: false,
            linger: Linger::OFF,
            listening: false,
            endpoint,
            closing: None,
            events: NetEvents::default(),
            port: None,
            options: BTreeMap::new(),
            groups: Vec::new(),
            handle_flags: 0,
            accept_context: None,
        }
    }

    /// A stored `SOL_SOCKET` option's value (its default when never set).
    pub fn option(&self, name: i32) -> u32 {
        self.option_at(SOL_SOCKET, name)
    }

    pub(crate) fn set_option(&mut self, name: i32, value: u32) {
        self.set_option_at(SOL_SOCKET, name, value);
    }

    /// A stored option's value at `level`, or Windows' default when never set (OP-1):
    /// `SO_SNDBUF`/`SO_RCVBUF` 64 KiB, `IP_TTL` and `IPV6_UNICAST_HOPS` 128, the multicast
    /// TTL/hops 1, the multicast loops TRUE, `IPV6_V6ONLY` TRUE, `TCP_KEEPALIVE` 7200 s,
    /// `TCP_KEEPINTVL` 1 s, `TCP_KEEPCNT` 10; anything else 0.
    pub fn option_at(&self, level: i32, name: i32) -> u32 {
        if let Some(v) = self.options.get(&(level, name)) {
            return *v;
        }
        match (level, name) {
            (SOL_SOCKET, SO_SNDBUF | SO_RCVBUF) => DEFAULT_BUFFER_SIZE,
            (IPPROTO_IP, IP_TTL) | (IPPROTO_IPV6, IPV6_UNICAST_HOPS) => 128,
            (IPPROTO_IP, IP_MULTICAST_TTL | IP_MULTICAST_LOOP) => 1,
            (IPPROTO_IPV6, IPV6_MULTICAST_HOPS | IPV6_MULTICAST_LOOP | IPV6_V6ONLY) => 1,
            (IPPROTO_TCP, TCP_KEEPALIVE) => 7200,
            (IPPROTO_TCP, TCP_KEEPINTVL) => 1,
            (IPPROTO_TCP, TCP_KEEPCNT) => 10,
            _ => 0,
        }
    }

    pub(crate) fn set_option_at(&mut self, level: i32, name: i32, value: u32) {
        self.options.insert((level, name), value);
    }

    /// `IP_ADD_MEMBERSHIP` / `IP_DROP_MEMBERSHIP` (`add`) with an `IP_MREQ` (8 bytes), or
    /// with `source` their `_SOURCE_` forms with an `IP_MREQ_SOURCE` (12 bytes): fewer bytes
    /// fail `WSAEFAULT`; a group outside 224.0.0.0/4 fails `WSAEINVAL`; joining a group twice
    /// fails `WSAEADDRINUSE` and leaving one not joined `WSAEADDRNOTAVAIL` (sim).
    pub(crate) fn membership(&mut self, v: &[u8], add: bool, source: bool) -> Result<(), WsaError> {
        let need = if source { 12 } else { 8 };
        if v.len() < need {
            return Err(WsaError::Fault);
        }
        let word = |i: usize| u32::from_be_bytes([v[i], v[i + 1], v[i + 2], v[i + 3]]);
        // IP_MREQ: group, interface; IP_MREQ_SOURCE: group, source, interface.
        let (group, src, iface) = if source {
            (word(0), word(4), word(8))
        } else {
            (word(0), 0, word(4))
        };
        if group >> 28 != 0xe {
            return Err(WsaError::InvalidArgument);
        }
        let at = self
            .groups
            .iter()
            .position(|g| g[0] == group && g[1] == src);
        match (add, at) {
            (true, Some(_)) => Err(WsaError::AddressInUse),
            (true, None) => {
                self.groups.push([group, src, iface]);
                Ok(())
            }
            (false, Some(i)) => {
                self.groups.remove(i);
                Ok(())
            }
            (false, None) => Err(WsaError::AddressNotAvailable),
        }
    }

    /// `ioctlsocket`: FIONBIO sets the blocking mode; FIONREAD reports the bytes readable at
    /// once (`readable`); SIOCATMARK reports TRUE while no urgent data waits. Other commands
    /// fail `WSAEOPNOTSUPP` (win: sock.c `test_ioctlsocket`, via WSAIoctl); a NULL `argp` fails
    /// `WSAEFAULT`.
    pub fn ioctl(
        &mut self,
        cmd: i32,
        arg: Option<&mut u32>,
        readable: usize,
    ) -> Result<(), WsaError> {
        if ![FIONBIO, FIONREAD, SIOCATMARK].contains(&cmd) {
            return Err(WsaError::OperationNotSupported);
        }
        let arg = arg.ok_or(WsaError::Fault)?;
        match cmd {
            // A socket with a WSAEventSelect association cannot be made blocking (win).
            FIONBIO if *arg == 0 && self.events.select.is_some() => {
                return Err(WsaError::InvalidArgument)
            }
            FIONBIO => self.nonblocking = *arg != 0,
            FIONREAD => *arg = u32::try_from(readable).unwrap_or(u32::MAX),
            _ => *arg = 1,
        }
        Ok(())
    }
}
