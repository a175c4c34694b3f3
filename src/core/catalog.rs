//! The protocol catalog (SP-11): what `WSAEnumProtocolsW` lists and how `socket`/`WSASocketW`
//! choose a catalog entry.

use crate::consts::*;
use crate::error::WsaError;

/// A GUID, as `WSAPROTOCOL_INFOW.ProviderId` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid {
    /// First 32 bits.
    pub data1: u32,
    /// Next 16 bits.
    pub data2: u16,
    /// Next 16 bits.
    pub data3: u16,
    /// Last 64 bits, as bytes.
    pub data4: [u8; 8],
}

impl Guid {
    /// The GUID `{data1-data2-data3-data4[0..2]-data4[2..8]}`.
    pub const fn new(data1: u32, data2: u16, data3: u16, data4: [u8; 8]) -> Guid {
        Guid {
            data1,
            data2,
            data3,
            data4,
        }
    }
}

impl std::fmt::Display for Guid {
    /// Registry form: `{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.data4;
        write!(
            f,
            "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
            self.data1, self.data2, self.data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
        )
    }
}

/// A protocol chain: one entry id for a base protocol, 0 for a layered protocol, 2..7 for a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProtocolChain {
    /// `ChainLen`: `LAYERED_PROTOCOL` (0), `BASE_PROTOCOL` (1), or the chain's length.
    pub len: i32,
    /// `ChainEntries`: catalog entry ids, top first.
    pub entries: [u32; MAX_PROTOCOL_CHAIN as usize],
}

/// One catalog entry: the data of a `WSAPROTOCOL_INFOW`, field for field.
///
/// [`encode`](ProtocolInfo::encode) and [`decode`](ProtocolInfo::decode) convert to and from the
/// 628 bytes of the C structure (64-bit layout, native byte order), which is how the simulator
/// reads and writes it in a caller's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolInfo {
    /// `dwServiceFlags1`: the `XP1_*` flags.
    pub service_flags1: u32,
    /// `dwServiceFlags2` (reserved).
    pub service_flags2: u32,
    /// `dwServiceFlags3` (reserved).
    pub service_flags3: u32,
    /// `dwServiceFlags4` (reserved).
    pub service_flags4: u32,
    /// `dwProviderFlags`: the `PFL_*` flags.
    pub provider_flags: u32,
    /// `ProviderId`: entries with the same id share one provider instance (SP-1).
    pub provider_id: Guid,
    /// `dwCatalogEntryId`: unique per entry.
    pub catalog_entry_id: u32,
    /// `ProtocolChain`.
    pub chain: ProtocolChain,
    /// `iVersion`.
    pub version: i32,
    /// `iAddressFamily`.
    pub address_family: i32,
    /// `iMaxSockAddr`.
    pub max_sockaddr: i32,
    /// `iMinSockAddr`.
    pub min_sockaddr: i32,
    /// `iSocketType`.
    pub socket_type: i32,
    /// `iProtocol`.
    pub protocol: i32,
    /// `iProtocolMaxOffset`: the entry serves `protocol ..= protocol + offset`.
    pub protocol_max_offset: i32,
    /// `iNetworkByteOrder`: `BIGENDIAN` or `LITTLEENDIAN`.
    pub network_byte_order: i32,
    /// `iSecurityScheme`.
    pub security_scheme: i32,
    /// `dwMessageSize`: 0 for streams, the largest message otherwise.
    pub message_size: u32,
    /// `dwProviderReserved`.
    pub provider_reserved: u32,
    /// `szProtocol`: at most 255 UTF-16 units are kept.
    pub name: String,
}

/// The size of `WSAPROTOCOL_INFOW` on 64-bit Windows.
pub const PROTOCOL_INFO_SIZE: usize = 628;

/// The provider id of Microsoft's MSAFD Tcpip provider (TCP and UDP entries).
pub const MSAFD_TCPIP_PROVIDER: Guid = Guid::new(
    0xe70f_1aa0,
    0xab8b,
    0x11cf,
    [0x8c, 0xa3, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92],
);
/// The provider id of ws2sim's stream provider with disconnect data (`"WS2SIM DISCONNCT"`).
pub const DISCONNECT_DATA_PROVIDER: Guid = Guid::new(
    0x5753_3253,
    0x494d,
    0x2044,
    [0x49, 0x53, 0x43, 0x4f, 0x4e, 0x4e, 0x43, 0x54],
);

impl ProtocolInfo {
    /// True when `PFL_HIDDEN` keeps this entry out of `WSAEnumProtocolsW`.
    pub fn is_hidden(&self) -> bool {
        self.provider_flags & PFL_HIDDEN != 0
    }

    /// True when the entry serves protocol number `p` (`iProtocol ..= iProtocol + iProtocolMaxOffset`).
    pub fn serves_protocol(&self, p: i32) -> bool {
        let lo = i64::from(self.protocol);
        let hi = lo + i64::from(self.protocol_max_offset.max(0));
        (lo..=hi).contains(&i64::from(p))
    }

    /// True for connectionless (datagram) protocols.
    pub fn is_connectionless(&self) -> bool {
        self.service_flags1 & XP1_CONNECTIONLESS != 0
    }

    /// True when the provider carries disconnect data (`XP1_DISCONNECT_DATA`).
    pub fn has_disconnect_data(&self) -> bool {
        self.service_flags1 & XP1_DISCONNECT_DATA != 0
    }

    /// The C structure's bytes.
    pub fn encode(&self) -> [u8; PROTOCOL_INFO_SIZE] {
        let mut b = [0u8; PROTOCOL_INFO_SIZE];
        let mut w = Cursor { buf: &mut b, at: 0 };
        for v in [
            self.service_flags1,
            self.service_flags2,
            self.service_flags3,
            self.service_flags4,
            self.provider_flags,
            self.provider_id.data1,
        ] {
            w.put(&v.to_ne_bytes());
        }
        w.put(&self.provider_id.data2.to_ne_bytes());
        w.put(&self.provider_id.data3.to_ne_bytes());
        w.put(&self.provider_id.data4);
        w.put(&self.catalog_entry_id.to_ne_bytes());
        w.put(&self.chain.len.to_ne_bytes());
        for e in self.chain.entries {
            w.put(&e.to_ne_bytes());
        }
        for v in [
            self.version,
            self.address_family,
            self.max_sockaddr,
            self.min_sockaddr,
            self.socket_type,
            self.protocol,
            self.protocol_max_offset,
            self.network_byte_order,
            self.security_scheme,
        ] {
            w.put(&v.to_ne_bytes());
        }
        w.put(&self.message_size.to_ne_bytes());
        w.put(&self.provider_reserved.to_ne_bytes());
        for u in self.name.encode_utf16().take(WSAPROTOCOL_LEN as usize) {
            w.put(&u.to_ne_bytes());
        }
        b
    }

    /// Reads the C structure's bytes.
    pub fn decode(b: &[u8; PROTOCOL_INFO_SIZE]) -> ProtocolInfo {
        let u32_at = |at: usize| u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let i32_at = |at: usize| u32_at(at) as i32;
        let u16_at = |at: usize| u16::from_ne_bytes([b[at], b[at + 1]]);
        let mut data4 = [0u8; 8];
        data4.copy_from_slice(&b[28..36]);
        let mut entries = [0u32; MAX_PROTOCOL_CHAIN as usize];
        for (i, e) in entries.iter_mut().enumerate() {
            *e = u32_at(44 + 4 * i);
        }
        let units: Vec<u16> = (0..256)
            .map(|i| u16_at(116 + 2 * i))
            .take_while(|&u| u != 0)
            .collect();
        ProtocolInfo {
            service_flags1: u32_at(0),
            service_flags2: u32_at(4),
            service_flags3: u32_at(8),
            service_flags4: u32_at(12),
            provider_flags: u32_at(16),
            provider_id: Guid::new(u32_at(20), u16_at(24), u16_at(26), data4),
            catalog_entry_id: u32_at(36),
            chain: ProtocolChain {
                len: i32_at(40),
                entries,
            },
            version: i32_at(72),
            address_family: i32_at(76),
            max_sockaddr: i32_at(80),
            min_sockaddr: i32_at(84),
            socket_type: i32_at(88),
            protocol: i32_at(92),
            protocol_max_offset: i32_at(96),
            network_byte_order: i32_at(100),
            security_scheme: i32_at(104),
            message_size: u32_at(108),
            provider_reserved: u32_at(112),
            name: String::from_utf16_lossy(&units),
        }
    }

    /// A base-protocol IPv4 entry with the fields every built-in shares.
    pub(crate) fn ipv4_base(
        id: u32,
        provider: Guid,
        socket_type: i32,
        protocol: i32,
        name: &str,
    ) -> Self {
        ProtocolInfo {
            service_flags1: 0,
            service_flags2: 0,
            service_flags3: 0,
            service_flags4: 0,
            provider_flags: 0,
            provider_id: provider,
            catalog_entry_id: id,
            chain: ProtocolChain {
                len: BASE_PROTOCOL as i32,
                entries: [id, 0, 0, 0, 0, 0, 0],
            },
            version: 2,
            address_family: i32::from(AF_INET),
            max_sockaddr: 16,
            min_sockaddr: 16,
            socket_type,
            protocol,
            protocol_max_offset: 0,
            network_byte_order: BIGENDIAN as i32,
            security_scheme: SECURITY_PROTOCOL_NONE as i32,
            message_size: 0,
            provider_reserved: 0,
            name: name.to_owned(),
        }
    }
}

struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }
}

/// The catalog of one simulation, in `WSAEnumProtocolsW` order.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<ProtocolInfo>,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::builtin()
    }
}

impl Catalog {
    /// A catalog without entries: providers add theirs as they register.
    pub fn empty() -> Catalog {
        Catalog {
            entries: Vec::new(),
        }
    }

    /// SP-11: TCP/IP, UDP/IP and the disconnect-data stream provider, in that order.
    ///
    /// # Divergence
    /// Windows lists more entries (IPv6, RAW, Hyper-V, ...); the simulator models IPv4 TCP and UDP
    /// only, so `socket(AF_INET6, ..)` fails `WSAEAFNOSUPPORT` and `SOCK_RAW` fails
    /// `WSAESOCKTNOSUPPORT` (Windows: `WSAEACCES` without privileges). UDP's `dwMessageSize` is
    /// 65527 as on Windows 7+.
    pub fn builtin() -> Catalog {
        use crate::core::providers::{disconnect, msafd};
        let mut entries = msafd::entries();
        entries.extend(disconnect::entries());
        Catalog { entries }
    }

    /// Appends an entry (user providers follow the built-ins).
    pub fn push(&mut self, entry: ProtocolInfo) {
        self.entries.push(entry);
    }

    /// Every entry, hidden ones included, in catalog order.
    pub fn entries(&self) -> &[ProtocolInfo] {
        &self.entries
    }

    /// SP-11: the entries `WSAEnumProtocolsW` lists for a filter (`None`: all); hidden entries
    /// are left out, and filter values no entry serves are ignored (win: protocol.c).
    pub fn enumerate(&self, filter: Option<&[i32]>) -> Vec<&ProtocolInfo> {
        self.entries
            .iter()
            .filter(|e| !e.is_hidden())
            .filter(|e| filter.is_none_or(|f| f.iter().any(|&p| e.serves_protocol(p))))
            .collect()
    }

    /// The entry `socket`/`WSASocketW` binds a new socket to, with Windows' error for each way
    /// the arguments can fail (win: sock.c `test_WSASocket`, every row of its table).
    ///
    /// Without protocol info: address family 0 with protocol 0 → `WSAEINVAL`; then an unknown
    /// type → `WSAESOCKTNOSUPPORT`; then an unknown family → `WSAEAFNOSUPPORT`; then the first
    /// entry matching all three (protocol 0 matches entries with `PFL_MATCHES_PROTOCOL_ZERO`),
    /// else `WSAEPROTONOSUPPORT`. With protocol info: arguments that are 0 or
    /// `FROM_PROTOCOL_INFO` are taken from it, and the family must then be a known one
    /// (`WSAEAFNOSUPPORT` otherwise); the entry named by its `dwCatalogEntryId` is chosen when it
    /// serves the resulting triple, else the triple decides as above.
    pub fn select(
        &self,
        af: i32,
        ty: i32,
        protocol: i32,
        info: Option<&ProtocolInfo>,
    ) -> Result<&ProtocolInfo, WsaError> {
        let (af, ty, protocol) = match info {
            None => (af, ty, protocol),
            Some(info) => {
                let pick = |arg: i32, from: i32| {
                    if arg == 0 || arg == FROM_PROTOCOL_INFO {
                        from
                    } else {
                        arg
                    }
                };
                let af = pick(af, info.address_family);
                if !self.entries.iter().any(|e| e.address_family == af) {
                    return Err(WsaError::AddressFamilyNotSupported);
                }
                let triple = (
                    af,
                    pick(ty, info.socket_type),
                    pick(protocol, info.protocol),
                );
                let named = self.entries.iter().find(|e| {
                    e.catalog_entry_id == info.catalog_entry_id && Self::serves(e, triple)
                });
                if let Some(entry) = named {
                    return Ok(entry);
                }
                triple
            }
        };
        if af == 0 && protocol == 0 {
            return Err(WsaError::InvalidArgument);
        }
        if ty != 0 && !self.entries.iter().any(|e| e.socket_type == ty) {
            return Err(WsaError::SocketTypeNotSupported);
        }
        if af != 0 && !self.entries.iter().any(|e| e.address_family == af) {
            return Err(WsaError::AddressFamilyNotSupported);
        }
        self.entries
            .iter()
            .find(|e| Self::serves(e, (af, ty, protocol)))
            .ok_or(WsaError::ProtocolNotSupported)
    }

    /// True when `e` serves (af, type, protocol), 0 meaning "any" for af and type and "the
    /// default protocol" for protocol.
    ///
    /// A layered provider's own entry (chain length 0) serves nothing: sockets are made on
    /// its chains.
    fn serves(e: &ProtocolInfo, (af, ty, protocol): (i32, i32, i32)) -> bool {
        e.chain.len != LAYERED_PROTOCOL as i32
            && (af == 0 || e.address_family == af)
            && (ty == 0 || e.socket_type == ty)
            && if protocol == 0 {
                e.provider_flags & PFL_MATCHES_PROTOCOL_ZERO != 0
            } else {
                e.serves_protocol(protocol)
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sp_11_hidden_entries_are_not_listed() {
        let mut c = Catalog::builtin();
        let mut hidden = c.entries()[0].clone();
        hidden.catalog_entry_id = 2000;
        hidden.provider_flags |= PFL_HIDDEN;
        c.push(hidden);
        assert_eq!(c.entries().len(), 4);
        let listed: Vec<u32> = c
            .enumerate(None)
            .iter()
            .map(|e| e.catalog_entry_id)
            .collect();
        assert_eq!(listed, vec![1001, 1002, 1003]);
        // A hidden entry still serves sockets made from its protocol info.
        let info = c.entries()[3].clone();
        assert_eq!(
            c.select(
                FROM_PROTOCOL_INFO,
                FROM_PROTOCOL_INFO,
                FROM_PROTOCOL_INFO,
                Some(&info)
            )
            .unwrap()
            .catalog_entry_id,
            2000
        );
    }

    #[test]
    fn sp_11_encode_decode_round_trip() {
        for e in Catalog::builtin().entries() {
            assert_eq!(&ProtocolInfo::decode(&e.encode()), e);
        }
    }

    #[test]
    fn guid_displays_in_registry_form() {
        assert_eq!(
            MSAFD_TCPIP_PROVIDER.to_string(),
            "{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}"
        );
    }
}
