//! Winsock versions, WSAStartup's negotiation (ST-1) and the WSADATA it fills (ST-2).

use crate::error::WsaError;

/// A Winsock version: `major.minor`, stored in a `WORD` with the major version in the low byte
/// (`MAKEWORD(major, minor)`).
///
/// ```
/// use ws2sim::Version;
/// let v = Version::from_word(0x0202);
/// assert_eq!((v.major(), v.minor()), (2, 2));
/// assert_eq!(Version::new(1, 1).word(), 0x0101);
/// assert_eq!(Version::new(2, 1).to_string(), "2.1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    major: u8,
    minor: u8,
}

impl Version {
    /// Winsock 1.1, the last 1.x version.
    pub const V1_1: Version = Version::new(1, 1);
    /// Winsock 2.2, the highest version Ws2_32 supports.
    pub const V2_2: Version = Version::new(2, 2);

    /// `major.minor`.
    pub const fn new(major: u8, minor: u8) -> Version {
        Version { major, minor }
    }

    /// The version in a `WORD` as `WSAStartup` takes it: low byte major, high byte minor.
    pub const fn from_word(word: u16) -> Version {
        Version {
            major: (word & 0xff) as u8,
            minor: (word >> 8) as u8,
        }
    }

    /// This version as a `WORD` (`MAKEWORD(major, minor)`).
    pub const fn word(self) -> u16 {
        self.major as u16 | (self.minor as u16) << 8
    }

    /// The major version (the low byte of the word).
    pub const fn major(self) -> u8 {
        self.major
    }

    /// The minor version (the high byte of the word).
    pub const fn minor(self) -> u8 {
        self.minor
    }

    /// True for Winsock 1.x, whose blocking-hook rules apply (TH-5).
    pub const fn is_1x(self) -> bool {
        self.major == 1
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    /// By major, then minor (not by the word's numeric value, whose high byte is the minor).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.major, self.minor).cmp(&(other.major, other.minor))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// ST-1: the version Ws2_32 agrees to for a request, or `WSAVERNOTSUPPORTED`.
///
/// Major 0 is refused; major 1 gets 1.0 or 1.1 (minor clamped to 1); major 2 gets 2.0–2.2 (minor
/// clamped to 2); any higher major gets 2.2 (win: protocol.c `test_startup`).
pub fn negotiate(requested: Version) -> Result<Version, WsaError> {
    match requested.major {
        // Winsock never had a version 0.
        0 => Err(WsaError::VersionNotSupported),
        // 1.x: 1.0 or 1.1.
        1 => Ok(Version::new(1, requested.minor.min(1))),
        // 2.x: 2.0, 2.1 or 2.2.
        2 => Ok(Version::new(2, requested.minor.min(2))),
        // Newer than Ws2_32 knows: it offers its highest.
        _ => Ok(Version::V2_2),
    }
}

/// The size of `WSADATA` in the 64-bit layout windows-sys uses.
pub const WSADATA_SIZE: usize = 408;

/// What `WSAStartup` writes into `WSADATA` (ST-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsaData {
    /// The negotiated version (2.2 when the request was refused, as Windows writes).
    pub version: Version,
    /// The highest version supported: always 2.2.
    pub high_version: Version,
    /// `szDescription`: `"WinSock 2.0"`.
    pub description: &'static str,
    /// `szSystemStatus`: `"Running"`.
    pub system_status: &'static str,
    /// `iMaxSockets`: 32767 for a 1.x request, else 0.
    pub max_sockets: u16,
    /// `iMaxUdpDg`: 65467 for a 1.x request, else 0.
    pub max_udp_dg: u16,
}

impl WsaData {
    /// ST-2: the contents for a request, whether or not the call succeeds.
    pub fn for_request(requested: Version) -> WsaData {
        let v1 = requested.is_1x();
        WsaData {
            version: negotiate(requested).unwrap_or(Version::V2_2),
            high_version: Version::V2_2,
            description: "WinSock 2.0",
            system_status: "Running",
            max_sockets: if v1 { 32767 } else { 0 },
            max_udp_dg: if v1 { 65467 } else { 0 },
        }
    }

    /// Writes the fields into a `WSADATA` laid out as windows-sys does on 64-bit targets:
    /// `wVersion`@0, `wHighVersion`@2, `iMaxSockets`@4, `iMaxUdpDg`@6, `lpVendorInfo`@8 (never
    /// written), `szDescription`@16 (257 bytes), `szSystemStatus`@273 (129 bytes).
    pub fn write_to(&self, out: &mut [u8; WSADATA_SIZE]) {
        out[0..2].copy_from_slice(&self.version.word().to_ne_bytes());
        out[2..4].copy_from_slice(&self.high_version.word().to_ne_bytes());
        out[4..6].copy_from_slice(&self.max_sockets.to_ne_bytes());
        out[6..8].copy_from_slice(&self.max_udp_dg.to_ne_bytes());
        write_cstr(&mut out[16..16 + 257], self.description);
        write_cstr(&mut out[273..273 + 129], self.system_status);
    }
}

/// Writes `s` NUL-terminated and NUL-padded into `field`.
fn write_cstr(field: &mut [u8], s: &str) {
    field.fill(0);
    let n = s.len().min(field.len() - 1);
    field[..n].copy_from_slice(&s.as_bytes()[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn st_1_negotiation_table_from_wine() {
        let table: [(u16, Option<u16>); 13] = [
            (0x0000, None),
            (0x0100, None),
            (0x0001, Some(0x0001)),
            (0x0101, Some(0x0101)),
            (0x0201, Some(0x0101)),
            (0xff01, Some(0x0101)),
            (0x0002, Some(0x0002)),
            (0x0102, Some(0x0102)),
            (0x0202, Some(0x0202)),
            (0x0302, Some(0x0202)),
            (0xff02, Some(0x0202)),
            (0x0003, Some(0x0202)),
            (0x00ff, Some(0x0202)),
        ];
        for (req, want) in table {
            let got = negotiate(Version::from_word(req)).map(Version::word).ok();
            assert_eq!(got, want, "request {req:#06x}");
        }
    }

    #[test]
    fn version_orders_by_major_then_minor() {
        assert!(Version::new(1, 1) < Version::new(2, 0));
        assert!(Version::new(2, 0) < Version::new(2, 2));
    }
}
