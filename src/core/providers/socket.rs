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
    /// The other SOL_SOCKET options, by name, as 32-bit values.
    pub(in crate::core) options: BTreeMap<i32, u32>,
    /// DU-2: `HANDLE_FLAG_INHERIT` and `HANDLE_FLAG_PROTECT_FROM_CLOSE`, as
    /// SetHandleInformation stored them.
    pub handle_flags: u32,
}

impl SocketState {
    /// A new socket of `entry` (served by `chain`) on `endpoint`, with Windows' defaults.
    pub fn new(entry: ProtocolInfo, chain: Vec<ProviderIdx>, endpoint: EndpointId) -> SocketState {
        let options = BTreeMap::from([
            (SO_SNDBUF, DEFAULT_BUFFER_SIZE),
            (SO_RCVBUF, DEFAULT_BUFFER_SIZE),
        ]);
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
            options,
            handle_flags: 0,
        }
    }

    /// A stored option's value (0 when never set and without a default).
    pub fn option(&self, name: i32) -> u32 {
        self.options.get(&name).copied().unwrap_or(0)
    }

    pub(crate) fn set_option(&mut self, name: i32, value: u32) {
        self.options.insert(name, value);
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
