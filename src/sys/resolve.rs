//! Name resolution ([AD-4]): `getaddrinfo`/`GetAddrInfoW`, `freeaddrinfo`/`FreeAddrInfoW`,
//! `gethostname`/`GetHostNameW`, and the `ADDRINFOA`/`ADDRINFOW` structures.
//!
//! The core decides every answer and error; this module reads the caller's strings and hints,
//! and owns the result lists' memory: each node is a heap block holding the `ADDRINFO*`, its
//! `SOCKADDR_STORAGE` and its canonical name. `freeaddrinfo` frees a list only when the core
//! knows it as live, so a list freed twice, or a pointer `getaddrinfo` never returned, is left
//! alone instead of corrupting the heap.
//!
//! [AD-4]: crate::rules#ad-4

use std::net::SocketAddr;

use crate::core::call::{AddrInfo, AddrInfoKey, Hints, ProcessCall, Resolution, TextOut};
use crate::core::ws2::addr_text::{sockaddr_in, sockaddr_in6};
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

use super::{status, SOCKADDR, SOCKADDR_STORAGE};

/// `getaddrinfo`'s result and hints (`ADDRINFOA`), as windows-sys lays it out.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ADDRINFOA {
    /// `AI_*` flags.
    pub ai_flags: i32,
    /// `AF_INET` or `AF_INET6` (`AF_UNSPEC` in hints: either).
    pub ai_family: i32,
    /// `SOCK_STREAM`, `SOCK_DGRAM`, ... (0 in hints: any).
    pub ai_socktype: i32,
    /// `IPPROTO_TCP`, `IPPROTO_UDP`, ... (0 in hints: any).
    pub ai_protocol: i32,
    /// The length of `*ai_addr`.
    pub ai_addrlen: usize,
    /// The canonical name (with `AI_CANONNAME`, on the first result).
    pub ai_canonname: *mut u8,
    /// The address.
    pub ai_addr: *mut SOCKADDR,
    /// The next result.
    pub ai_next: *mut ADDRINFOA,
}

impl Default for ADDRINFOA {
    fn default() -> Self {
        // SAFETY: integers and NULL pointers.
        unsafe { std::mem::zeroed() }
    }
}

/// [`ADDRINFOA`] for `GetAddrInfoW`: the canonical name is UTF-16.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ADDRINFOW {
    /// `AI_*` flags.
    pub ai_flags: i32,
    /// `AF_INET` or `AF_INET6`.
    pub ai_family: i32,
    /// The socket type.
    pub ai_socktype: i32,
    /// The protocol.
    pub ai_protocol: i32,
    /// The length of `*ai_addr`.
    pub ai_addrlen: usize,
    /// The canonical name.
    pub ai_canonname: *mut u16,
    /// The address.
    pub ai_addr: *mut SOCKADDR,
    /// The next result.
    pub ai_next: *mut ADDRINFOW,
}

impl Default for ADDRINFOW {
    fn default() -> Self {
        // SAFETY: integers and NULL pointers.
        unsafe { std::mem::zeroed() }
    }
}

/// `AI_PASSIVE`: a NULL node means the wildcard addresses (for `bind`).
pub const AI_PASSIVE: u32 = 0x1;
/// `AI_CANONNAME`: the first result carries the canonical name.
pub const AI_CANONNAME: u32 = 0x2;
/// `AI_NUMERICHOST`: the node must be a numeric address.
pub const AI_NUMERICHOST: u32 = 0x4;
/// `AI_NUMERICSERV`: the service must be a port number (it always must, in ws2sim).
pub const AI_NUMERICSERV: u32 = 0x8;
/// `AI_ALL`.
pub const AI_ALL: u32 = 0x100;
/// `AI_ADDRCONFIG`.
pub const AI_ADDRCONFIG: u32 = 0x400;
/// `AI_V4MAPPED`.
pub const AI_V4MAPPED: u32 = 0x800;
/// `AI_FQDN`: not with `AI_CANONNAME`.
pub const AI_FQDN: u32 = 0x20000;

/// The two result structures, for the list builder.
trait Info: Copy + Default {
    type Char: Copy + Default;
    fn fill(&mut self, e: &AddrInfo, addr: *mut SOCKADDR, canon: *mut Self::Char);
    fn next(&self) -> *mut Self;
    fn set_next(&mut self, next: *mut Self);
    fn encode(s: &str) -> Vec<Self::Char>;
    fn hints(&self) -> Hints;
}

macro_rules! info {
    ($t:ty, $c:ty, $encode:expr) => {
        impl Info for $t {
            type Char = $c;
            fn fill(&mut self, e: &AddrInfo, addr: *mut SOCKADDR, canon: *mut $c) {
                self.ai_family = e.family;
                self.ai_socktype = e.socktype;
                self.ai_protocol = e.protocol;
                self.ai_addrlen = match e.addr {
                    SocketAddr::V4(_) => 16,
                    SocketAddr::V6(_) => 28,
                };
                self.ai_addr = addr;
                self.ai_canonname = canon;
            }
            fn next(&self) -> *mut Self {
                self.ai_next
            }
            fn set_next(&mut self, next: *mut Self) {
                self.ai_next = next;
            }
            fn encode(s: &str) -> Vec<$c> {
                $encode(s)
            }
            fn hints(&self) -> Hints {
                Hints {
                    flags: self.ai_flags,
                    family: self.ai_family,
                    socktype: self.ai_socktype,
                    protocol: self.ai_protocol,
                    others_set: self.ai_addrlen != 0
                        || !self.ai_canonname.is_null()
                        || !self.ai_addr.is_null()
                        || !self.ai_next.is_null(),
                }
            }
        }
    };
}
info!(ADDRINFOA, u8, |s: &str| s.bytes().chain([0]).collect());
info!(ADDRINFOW, u16, |s: &str| s
    .encode_utf16()
    .chain([0])
    .collect());

/// One result node: the structure first, so a pointer to the node is one to the structure.
#[repr(C)]
struct Node<I: Info> {
    info: I,
    addr: SOCKADDR_STORAGE,
    canon: Vec<I::Char>,
}

impl<I: Info> Node<I> {
    fn new() -> Box<Node<I>> {
        Box::new(Node {
            info: I::default(),
            // SAFETY: integers.
            addr: unsafe { std::mem::zeroed() },
            canon: Vec::new(),
        })
    }

    /// Writes `e` into the node.
    fn fill(&mut self, e: &AddrInfo) {
        let bytes: Vec<u8> = match e.addr {
            SocketAddr::V4(a) => sockaddr_in(a.ip().octets(), a.port()).to_vec(),
            SocketAddr::V6(a) => sockaddr_in6(a.ip().octets(), a.port(), a.scope_id()).to_vec(),
        };
        let addr = (&raw mut self.addr).cast::<u8>();
        // SAFETY: SOCKADDR_STORAGE has 128 bytes; a SOCKADDR_IN6 needs 28.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), addr, bytes.len()) };
        let canon = match &e.canonname {
            Some(c) => {
                self.canon = I::encode(c);
                self.canon.as_mut_ptr()
            }
            None => std::ptr::null_mut(),
        };
        self.info.fill(e, addr.cast(), canon);
    }
}

/// The hints at `p` (`None`: NULL).
unsafe fn hints<I: Info>(p: *const I) -> Option<Hints> {
    (!p.is_null()).then(|| p.read_unaligned().hints())
}

/// `getaddrinfo` for either structure: the core answers, this builds the list.
unsafe fn resolve<I: Info>(
    node: Option<String>,
    service: Option<String>,
    hints: Option<Hints>,
    result: *mut *mut I,
    wide: bool,
) -> i32 {
    let head = (!result.is_null()).then(Node::<I>::new);
    let key = head
        .as_ref()
        .map(|h| AddrInfoKey(std::ptr::from_ref::<Node<I>>(h) as usize));
    if !result.is_null() {
        result.write_unaligned(std::ptr::null_mut());
    }
    let r = call(ProcessCall::Resolve(Resolution::GetAddrInfo {
        node,
        service,
        hints,
        key,
        wide,
    }));
    let (list, mut head) = match (r, head) {
        (Ok(Reply::AddrInfo(list)), Some(head)) => (list, head),
        (Ok(_), _) => return WsaError::InvalidArgument.code(),
        (Err(e), _) => return e.code(),
    };
    // Built from the last result back, so each node can point at the one after it.
    let mut next: *mut I = std::ptr::null_mut();
    for e in list.iter().skip(1).rev() {
        let mut node = Node::<I>::new();
        node.fill(e);
        node.info.set_next(next);
        next = Box::into_raw(node).cast::<I>();
    }
    head.fill(&list[0]);
    head.info.set_next(next);
    result.write_unaligned(Box::into_raw(head).cast::<I>());
    0
}

/// `freeaddrinfo` for either structure.
unsafe fn free<I: Info>(list: *const I, wide: bool) {
    if list.is_null() {
        return;
    }
    let key = AddrInfoKey(list as usize);
    if call(ProcessCall::Resolve(Resolution::FreeAddrInfo { key, wide })).is_err() {
        return; // not a live list: its memory is left alone
    }
    let mut p = list.cast_mut();
    while !p.is_null() {
        // SAFETY: every node of a live list is a `Box<Node<I>>` from `resolve`.
        let node = Box::from_raw(p.cast::<Node<I>>());
        p = node.info.next();
    }
}

/// `getaddrinfo`: the addresses of `pNodeName` with the port of `pServiceName` ([AD-4]).
///
/// Returns 0 and writes the first node of a list to `*ppResult`, which [`freeaddrinfo`]
/// frees; or returns the error, which it also sets as the last error, and writes NULL.
/// Nodes: a simulated host's name (`fd00::N` then `10.0.0.N`), `"localhost"` (`::1` then
/// `127.0.0.1`), `""` (the caller's host), NULL (loopback; with `AI_PASSIVE` the wildcard
/// addresses), a numeric IPv4 or IPv6 address, or a name registered in the namespace. The
/// service must be NULL, `""` or a port number. `hints` filter by family and give the socket
/// type and protocol of every result; its other members must be 0. Errors:
/// `WSANOTINITIALISED`, `WSAHOST_NOT_FOUND`, `WSANO_RECOVERY`, `WSAEINVAL` (flags),
/// `WSAEAFNOSUPPORT`, `WSAESOCKTNOSUPPORT`, `WSATYPE_NOT_FOUND`.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let _db = sim.host("db");
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let hints = ADDRINFOA { ai_family: AF_INET as i32, ai_socktype: SOCK_STREAM, ..Default::default() };
///     let mut res = std::ptr::null_mut();
///     assert_eq!(getaddrinfo(c"db".as_ptr().cast(), c"5432".as_ptr().cast(), &hints, &mut res), 0);
///     let a = *(*res).ai_addr.cast::<SOCKADDR_IN>();
///     assert_eq!(std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.S_un.S_addr)), _db.addr());
///     assert_eq!(u16::from_be(a.sin_port), 5432);
///     assert!((*res).ai_next.is_null());
///     freeaddrinfo(res);
/// });
/// ```
///
/// [AD-4]: crate::rules#ad-4
pub unsafe fn getaddrinfo(
    pnodename: *const u8,
    pservicename: *const u8,
    phints: *const ADDRINFOA,
    ppresult: *mut *mut ADDRINFOA,
) -> i32 {
    resolve(
        super::addr::narrow(pnodename),
        super::addr::narrow(pservicename),
        hints(phints),
        ppresult,
        false,
    )
}

/// `GetAddrInfoW`: [`getaddrinfo`] with UTF-16 strings and [`ADDRINFOW`] results.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// let db = sim.host("db");
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let w = |text: &str| text.encode_utf16().chain(Some(0)).collect::<Vec<u16>>();
///     let hints = ADDRINFOW { ai_socktype: SOCK_STREAM, ..Default::default() };
///     let mut res = std::ptr::null_mut();
///     assert_eq!(GetAddrInfoW(w("db").as_ptr(), w("5432").as_ptr(), &hints, &mut res), 0);
///     // Any family: the host's IPv6 address first, then its IPv4 one.
///     let (first, second) = (*res, *(*res).ai_next);
///     assert_eq!((first.ai_family, first.ai_addrlen), (AF_INET6 as i32, 28));
///     assert_eq!((second.ai_family, second.ai_addrlen), (AF_INET as i32, 16));
///     assert!(second.ai_next.is_null());
///     let v4 = *second.ai_addr.cast::<SOCKADDR_IN>();
///     assert_eq!(std::net::Ipv4Addr::from(u32::from_be(v4.sin_addr.S_un.S_addr)), db.addr());
///     assert_eq!(u16::from_be(v4.sin_port), 5432);
///     FreeAddrInfoW(res);
///     assert_eq!(GetAddrInfoW(w("nowhere").as_ptr(), std::ptr::null(), &hints, &mut res),
///         WSAHOST_NOT_FOUND);
///     assert!(res.is_null());
///     WSACleanup();
/// });
/// ```
pub unsafe fn GetAddrInfoW(
    pnodename: *const u16,
    pservicename: *const u16,
    phints: *const ADDRINFOW,
    ppresult: *mut *mut ADDRINFOW,
) -> i32 {
    resolve(
        super::addr::wide(pnodename),
        super::addr::wide(pservicename),
        hints(phints),
        ppresult,
        true,
    )
}

/// `freeaddrinfo`: frees a list [`getaddrinfo`] returned ([AD-4]). NULL, a list already
/// freed, or a pointer that is not such a list is ignored (Windows would corrupt its heap).
/// Needs no `WSAStartup`, and lists survive `WSACleanup`.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let hints = ADDRINFOA { ai_family: AF_INET as i32, ..Default::default() };
///     let mut res = std::ptr::null_mut();
///     let node = c"localhost".as_ptr().cast();
///     assert_eq!(getaddrinfo(node, std::ptr::null(), &hints, &mut res), 0);
///     assert_eq!(WSACleanup(), 0);
///     // The list outlives the cleanup, and is the process's until it is freed.
///     assert_eq!((*res).ai_family, AF_INET as i32);
///     assert_eq!(p.live_resources(), 1);
///     freeaddrinfo(res);
///     assert_eq!(p.live_resources(), 0);
///     freeaddrinfo(res); // a second free is ignored
///     freeaddrinfo(std::ptr::null());
/// });
/// ```
///
/// [AD-4]: crate::rules#ad-4
pub unsafe fn freeaddrinfo(paddrinfo: *const ADDRINFOA) {
    free(paddrinfo, false)
}

/// `FreeAddrInfoW`: [`freeaddrinfo`] for a [`GetAddrInfoW`] list.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let node = "::1".encode_utf16().chain(Some(0)).collect::<Vec<u16>>();
///     let mut res = std::ptr::null_mut();
///     assert_eq!(GetAddrInfoW(node.as_ptr(), std::ptr::null(), std::ptr::null(), &mut res), 0);
///     assert_eq!((*res).ai_family, AF_INET6 as i32);
///     assert_eq!(p.live_resources(), 1);
///     FreeAddrInfoW(res);
///     assert_eq!(p.live_resources(), 0);
///     WSACleanup();
/// });
/// ```
pub unsafe fn FreeAddrInfoW(paddrinfo: *const ADDRINFOW) {
    free(paddrinfo, true)
}

unsafe fn host_name(out: TextOut<'_>) -> i32 {
    status(call(ProcessCall::Resolve(Resolution::GetHostName { out })))
}

/// `gethostname`: the calling process's host name (the name given to `Sim::host`) and a NUL
/// ([AD-4]). A NULL buffer or a `namelen` too small for both fails `WSAEFAULT`, the buffer
/// unchanged.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// sim.host("web").process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let mut name = [0u8; 16];
///     assert_eq!(gethostname(name.as_mut_ptr(), 16), 0);
///     assert_eq!(&name[..4], b"web\0");
///     assert_eq!(gethostname(name.as_mut_ptr(), 3), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEFAULT);
/// });
/// ```
///
/// [AD-4]: crate::rules#ad-4
pub unsafe fn gethostname(name: *mut u8, namelen: i32) -> i32 {
    let out = match name.is_null() {
        true => TextOut::Null,
        false => TextOut::Narrow(std::slice::from_raw_parts_mut(
            name,
            namelen.max(0) as usize,
        )),
    };
    host_name(out)
}

/// `GetHostNameW`: [`gethostname`] into `namelen` UTF-16 characters.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.host("web").process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let mut name = [0u16; 256];
///     assert_eq!(GetHostNameW(name.as_mut_ptr(), 256), 0);
///     let web = "web".encode_utf16().chain(Some(0)).collect::<Vec<u16>>();
///     assert_eq!(name[..4], web[..]);
///     // Room for "web" but not its NUL.
///     assert_eq!(GetHostNameW(name.as_mut_ptr(), 3), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEFAULT);
///     WSACleanup();
/// });
/// ```
pub unsafe fn GetHostNameW(name: *mut u16, namelen: i32) -> i32 {
    let out = match name.is_null() {
        true => TextOut::Null,
        false => TextOut::Wide(std::slice::from_raw_parts_mut(
            name,
            namelen.max(0) as usize,
        )),
    };
    host_name(out)
}
