//! AD-4: name resolution through the `sys` layer: `getaddrinfo`/`GetAddrInfoW`,
//! `freeaddrinfo`/`FreeAddrInfoW`, `gethostname`/`GetHostNameW`, against the simulation's
//! hosts. Expected values follow Wine's conformance tests of Windows
//! (`dlls/ws2_32/tests/sock.c`: `test_getaddrinfo`, `hinttests`, `test_gethostname`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ptr::{null, null_mut};

use ws2sim::sys::*;
use ws2sim::Sim;

mod common;
use common::*;

/// One result: (family, socktype, protocol, address, canonical name).
type Entry = (i32, i32, i32, SocketAddr, Option<String>);

/// The address in a result's `ai_addr`.
unsafe fn addr_of(p: *const SOCKADDR, len: usize) -> SocketAddr {
    match len {
        16 => {
            let a = *p.cast::<SOCKADDR_IN>();
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.S_un.S_addr));
            SocketAddr::new(ip.into(), u16::from_be(a.sin_port))
        }
        28 => {
            let a = *p.cast::<SOCKADDR_IN6>();
            let ip = Ipv6Addr::from(a.sin6_addr.u.Byte);
            SocketAddr::new(ip.into(), u16::from_be(a.sin6_port))
        }
        n => panic!("ai_addrlen {n}"),
    }
}

/// Reads an `ADDRINFOA` list.
unsafe fn entries(mut p: *const ADDRINFOA) -> Vec<Entry> {
    let mut out = Vec::new();
    while !p.is_null() {
        let i = *p;
        assert_eq!(i.ai_flags, 0);
        let canon = (!i.ai_canonname.is_null()).then(|| {
            std::ffi::CStr::from_ptr(i.ai_canonname.cast())
                .to_str()
                .unwrap()
                .to_owned()
        });
        out.push((
            i.ai_family,
            i.ai_socktype,
            i.ai_protocol,
            addr_of(i.ai_addr, i.ai_addrlen),
            canon,
        ));
        p = i.ai_next;
    }
    out
}

/// `getaddrinfo(node, service, hints)`: (return value, last error after it, the results),
/// the list freed again. `*ppResult` is preset to a bogus pointer, to see it set to NULL.
fn gai(
    node: Option<&str>,
    service: Option<&str>,
    hints: Option<ADDRINFOA>,
) -> (i32, i32, Vec<Entry>) {
    let node = node.map(|s| std::ffi::CString::new(s).unwrap());
    let service = service.map(|s| std::ffi::CString::new(s).unwrap());
    let np = node.as_ref().map_or(null(), |s| s.as_ptr().cast());
    let sp = service.as_ref().map_or(null(), |s| s.as_ptr().cast());
    let hp = hints.as_ref().map_or(null(), |h| h as *const ADDRINFOA);
    let mut res = 0xdead_beef_usize as *mut ADDRINFOA;
    let (r, e) = last_error_after(|| unsafe { getaddrinfo(np, sp, hp, &mut res) });
    if r != 0 {
        assert!(res.is_null(), "a failed getaddrinfo writes NULL");
        return (r, e, Vec::new());
    }
    let list = unsafe { entries(res) };
    unsafe { freeaddrinfo(res) };
    (r, e, list)
}

fn hints(family: u16, socktype: i32, protocol: i32, flags: u32) -> ADDRINFOA {
    ADDRINFOA {
        ai_flags: flags as i32,
        ai_family: family as i32,
        ai_socktype: socktype,
        ai_protocol: protocol,
        ..Default::default()
    }
}

fn sa(ip: impl Into<IpAddr>, port: u16) -> SocketAddr {
    SocketAddr::new(ip.into(), port)
}

/// An entry with no hints: socket type and protocol 0, no canonical name.
fn plain(family: u16, addr: SocketAddr) -> Entry {
    (family as i32, 0, 0, addr, None)
}

/// AD-1: the IPv6 address of the host whose IPv4 address is `v4` (10.0.0.N → fd00::N).
fn v6_of(v4: Ipv4Addr) -> Ipv6Addr {
    let [_, _, hi, lo] = v4.octets();
    Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from_be_bytes([hi, lo]))
}

#[test]
fn ad_4_getaddrinfo_without_node_and_service_fails_host_not_found_and_sets_it() {
    process().run(|| {
        startup_2_2();
        assert_eq!(
            gai(None, None, None),
            (WSAHOST_NOT_FOUND, WSAHOST_NOT_FOUND, vec![])
        );
    });
}

#[test]
fn ad_4_the_empty_node_is_the_callers_own_host_and_success_clears_the_last_error() {
    let sim = Sim::new();
    let _first = sim.host("first");
    let me = sim.host("me");
    me.process("app").run(|| {
        startup_2_2();
        let v6 = v6_of(me.addr());
        assert_eq!(v6, "fd00::3".parse::<Ipv6Addr>().unwrap()); // after localhost and "first"
        assert_eq!(
            gai(Some(""), None, None),
            (
                0,
                0,
                vec![plain(AF_INET6, sa(v6, 0)), plain(AF_INET, sa(me.addr(), 0))]
            )
        );
        assert_eq!(
            gai(Some(""), Some(""), None),
            gai(Some(""), Some("0"), None)
        );
    });
}

#[test]
fn ad_4_a_null_node_is_loopback_and_with_ai_passive_the_wildcard() {
    process().run(|| {
        startup_2_2();
        let (r, _, list) = gai(None, Some("80"), None);
        let loopback = vec![
            plain(AF_INET6, sa(Ipv6Addr::LOCALHOST, 80)),
            plain(AF_INET, sa(Ipv4Addr::LOCALHOST, 80)),
        ];
        assert_eq!((r, list), (0, loopback));
        let passive = Some(hints(AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP, AI_PASSIVE));
        let (r, _, list) = gai(None, Some("8080"), passive);
        let tcp = SOCK_STREAM;
        let proto = IPPROTO_TCP;
        let any = vec![
            (
                AF_INET6 as i32,
                tcp,
                proto,
                sa(Ipv6Addr::UNSPECIFIED, 8080),
                None,
            ),
            (
                AF_INET as i32,
                tcp,
                proto,
                sa(Ipv4Addr::UNSPECIFIED, 8080),
                None,
            ),
        ];
        assert_eq!((r, list), (0, any));
    });
}

#[test]
fn ad_4_localhost_is_ipv6_then_ipv4_loopback_and_the_family_hint_filters() {
    process().run(|| {
        startup_2_2();
        let (r, _, list) = gai(Some("localhost"), Some("80"), None);
        let both = vec![
            plain(AF_INET6, sa(Ipv6Addr::LOCALHOST, 80)),
            plain(AF_INET, sa(Ipv4Addr::LOCALHOST, 80)),
        ];
        assert_eq!((r, list), (0, both));
        let (r, _, list) = gai(Some("localhost"), None, Some(hints(AF_INET, 0, 0, 0)));
        assert_eq!(
            (r, list),
            (0, vec![plain(AF_INET, sa(Ipv4Addr::LOCALHOST, 0))])
        );
        let (r, _, list) = gai(Some("LocalHost"), None, Some(hints(AF_INET6, 0, 0, 0)));
        assert_eq!(
            (r, list),
            (0, vec![plain(AF_INET6, sa(Ipv6Addr::LOCALHOST, 0))])
        );
    });
}

#[test]
fn ad_4_a_simulated_host_name_resolves_to_its_ipv6_then_ipv4_address_with_the_port() {
    let sim = Sim::new();
    let db = sim.host("db");
    sim.host("app").process("app").run(|| {
        startup_2_2();
        let h = Some(hints(AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP, AI_CANONNAME));
        let (r, e, list) = gai(Some("db"), Some("5432"), h);
        assert_eq!((r, e), (0, 0));
        assert_eq!(
            list,
            vec![
                (
                    23,
                    SOCK_STREAM,
                    6,
                    sa(v6_of(db.addr()), 5432),
                    Some("db".into())
                ),
                (2, SOCK_STREAM, 6, sa(db.addr(), 5432), None),
            ]
        );
    });
}

#[test]
fn ad_4_numeric_nodes_resolve_to_themselves() {
    process().run(|| {
        startup_2_2();
        let (r, _, list) = gai(Some("192.168.1.253"), None, None);
        assert_eq!(
            (r, list),
            (0, vec![plain(AF_INET, sa([192, 168, 1, 253], 0))])
        );
        let cafe: Ipv6Addr = "beef::cafe".parse().unwrap();
        for node in ["beef::cafe", "[beef::cafe]", "beef::cafe%3"] {
            let (r, _, list) = gai(Some(node), Some("1"), None);
            assert_eq!(
                (r, list),
                (0, vec![plain(AF_INET6, sa(cafe, 1))]),
                "{node:?}"
            );
        }
        let numeric = Some(hints(AF_INET6, 0, 0, AI_NUMERICHOST));
        let (r, _, list) = gai(Some("[beef::cafe]"), None, numeric);
        assert_eq!((r, list), (0, vec![plain(AF_INET6, sa(cafe, 0))]));
        let v4_only = Some(hints(AF_INET, 0, 0, AI_NUMERICHOST));
        assert_eq!(
            gai(Some("[beef::cafe]"), None, v4_only).0,
            WSAHOST_NOT_FOUND
        );
        for bad in [
            "[beef::cafe",
            "beef::cafe]",
            "192.168.1.253:1024",
            "localhost",
        ] {
            let h = Some(hints(AF_UNSPEC, 0, 0, AI_NUMERICHOST));
            let (r, e, _) = gai(Some(bad), Some("80"), h);
            assert_eq!((r, e), (WSAHOST_NOT_FOUND, WSAHOST_NOT_FOUND), "{bad:?}");
        }
    });
}

#[test]
fn ad_4_hints_give_every_result_its_socket_type_and_protocol() {
    process().run(|| {
        startup_2_2();
        // Wine's `hinttests`: any mix of the two types and 0, TCP, UDP, IPv6 or 999 as
        // protocol is echoed, not checked.
        for family in [AF_UNSPEC, AF_INET] {
            for socktype in [0, SOCK_STREAM, SOCK_DGRAM] {
                for protocol in [0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6, 999] {
                    let h = Some(hints(family, socktype, protocol, 0));
                    let (r, e, list) = gai(Some("localhost"), None, h);
                    assert_eq!((r, e), (0, 0), "{family} {socktype} {protocol}");
                    assert_eq!(list.len(), if family == AF_UNSPEC { 2 } else { 1 });
                    for (f, t, p, _, _) in list {
                        assert!(f == 2 || (f == 23 && family == AF_UNSPEC));
                        assert_eq!((t, p), (socktype, protocol));
                    }
                }
            }
        }
    });
}

#[test]
fn ad_4_bad_hints_fail_with_their_codes() {
    process().run(|| {
        startup_2_2();
        let cases = [
            (hints(AF_UNSPEC, 999, IPPROTO_TCP, 0), WSAESOCKTNOSUPPORT),
            (hints(AF_INET, 999, IPPROTO_UDP, 0), WSAESOCKTNOSUPPORT),
            (hints(1, SOCK_STREAM, 0, 0), WSAEAFNOSUPPORT),
            (hints(AF_UNSPEC, 0, 0, 0x4000_0000), WSAEINVAL),
            (hints(AF_UNSPEC, 0, 0, AI_CANONNAME | AI_FQDN), WSAEINVAL),
            (
                ADDRINFOA {
                    ai_addrlen: 16,
                    ..Default::default()
                },
                WSANO_RECOVERY,
            ),
        ];
        for (h, code) in cases {
            let (r, e, _) = gai(Some("localhost"), Some("80"), Some(h));
            assert_eq!((r, e), (code, code), "{h:?}");
        }
    });
}

#[test]
fn ad_4_a_service_must_be_a_port_number() {
    process().run(|| {
        startup_2_2();
        for bad in ["nonexistentservice", "http", "65536", "-1", "80 "] {
            let (r, e, _) = gai(None, Some(bad), Some(ADDRINFOA::default()));
            assert_eq!((r, e), (WSATYPE_NOT_FOUND, WSATYPE_NOT_FOUND), "{bad:?}");
        }
        let (r, _, list) = gai(Some("127.0.0.1"), Some("65535"), None);
        assert_eq!(
            (r, list),
            (0, vec![plain(AF_INET, sa(Ipv4Addr::LOCALHOST, 65535))])
        );
    });
}

#[test]
fn ad_4_a_name_nobody_knows_fails_host_not_found() {
    let sim = Sim::new();
    sim.host("db");
    sim.localhost().process("app").run(|| {
        startup_2_2();
        for name in ["nxdomain.example", "db2", "d"] {
            assert_eq!(
                gai(Some(name), None, None),
                (WSAHOST_NOT_FOUND, WSAHOST_NOT_FOUND, vec![]),
                "{name:?}"
            );
        }
    });
}

#[test]
fn ad_4_names_registered_in_the_namespace_resolve_to_their_address() {
    let (_sim, p) = app();
    p.run(|| {
        startup_2_2();
        let addr = "10.9.8.7:53".parse().unwrap();
        ws2sim::api::register_name("svc.sim", addr).unwrap();
        let (r, _, list) = gai(Some("svc.sim"), Some("80"), None);
        assert_eq!((r, list), (0, vec![plain(AF_INET, sa([10, 9, 8, 7], 80))]));
    });
}

#[test]
fn ad_4_getaddrinfo_needs_startup_and_returns_the_error_it_sets() {
    process().run(|| {
        assert_eq!(
            gai(Some("localhost"), None, None),
            (WSANOTINITIALISED, WSANOTINITIALISED, vec![])
        );
    });
}

#[test]
fn ad_4_lists_are_live_resources_until_freed_and_a_second_free_is_ignored() {
    let (_sim, p) = app();
    p.run(startup_2_2);
    assert_eq!(p.live_resources(), 0);
    let (a, b) = p.run(|| unsafe {
        let (mut a, mut b) = (null_mut(), null_mut());
        assert_eq!(
            getaddrinfo(c"localhost".as_ptr().cast(), null(), null(), &mut a),
            0
        );
        assert_eq!(getaddrinfo(null(), c"1".as_ptr().cast(), null(), &mut b), 0);
        (a as usize, b as usize)
    });
    assert_eq!(p.live_resources(), 2);
    p.run(|| unsafe {
        freeaddrinfo(a as *const ADDRINFOA);
        freeaddrinfo(a as *const ADDRINFOA); // a double free: left alone
        freeaddrinfo(null());
        // A list survives the final WSACleanup: it is heap memory, not Winsock state.
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!(p.live_resources(), 1);
    p.run(|| unsafe { freeaddrinfo(b as *const ADDRINFOA) });
    assert_eq!(p.live_resources(), 0);
}

#[test]
fn ad_4_getaddrinfow_answers_in_utf16() {
    let sim = Sim::new();
    let web = sim.host("web");
    sim.localhost().process("app").run(|| unsafe {
        startup_2_2();
        let node: Vec<u16> = "web\0".encode_utf16().collect();
        let service: Vec<u16> = "443\0".encode_utf16().collect();
        let h = ADDRINFOW {
            ai_family: AF_INET as i32,
            ai_flags: AI_CANONNAME as i32,
            ..Default::default()
        };
        let mut res = null_mut();
        assert_eq!(
            GetAddrInfoW(node.as_ptr(), service.as_ptr(), &h, &mut res),
            0
        );
        let i = *res;
        assert_eq!((i.ai_family, i.ai_addrlen), (2, 16));
        assert_eq!(addr_of(i.ai_addr, 16), sa(web.addr(), 443));
        let canon: Vec<u16> = (0..)
            .map(|k| *i.ai_canonname.add(k))
            .take_while(|&c| c != 0)
            .collect();
        assert_eq!(String::from_utf16(&canon).unwrap(), "web");
        assert!(i.ai_next.is_null());
        FreeAddrInfoW(res);
        let mut res = 0x1234_usize as *mut ADDRINFOW;
        let bad: Vec<u16> = "nope\0".encode_utf16().collect();
        let (r, e) = last_error_after(|| GetAddrInfoW(bad.as_ptr(), null(), null(), &mut res));
        assert_eq!(
            (r, e, res.is_null()),
            (WSAHOST_NOT_FOUND, WSAHOST_NOT_FOUND, true)
        );
    });
}

#[test]
fn ad_4_gethostname_writes_the_host_name_or_fails_efault_leaving_the_buffer() {
    let sim = Sim::new();
    sim.host("server1").process("app").run(|| unsafe {
        startup_2_2();
        let (r, e) = last_error_after(|| gethostname(null_mut(), 256));
        assert_eq!((r, e), (SOCKET_ERROR, WSAEFAULT));
        let mut name = *b"deadbeef\0";
        let (r, e) = last_error_after(|| gethostname(name.as_mut_ptr(), 7));
        assert_eq!((r, e, &name), (SOCKET_ERROR, WSAEFAULT, b"deadbeef\0"));
        assert_eq!(gethostname(name.as_mut_ptr(), 8), 0);
        assert_eq!(&name, b"server1\0\0");
        let mut wide = [0xffffu16; 8];
        assert_eq!(GetHostNameW(wide.as_mut_ptr(), 8), 0);
        assert_eq!(String::from_utf16(&wide[..7]).unwrap(), "server1");
        assert_eq!(wide[7], 0);
        let (r, e) = last_error_after(|| GetHostNameW(wide.as_mut_ptr(), 7));
        assert_eq!((r, e), (SOCKET_ERROR, WSAEFAULT));
    });
    process().run(|| unsafe {
        let mut name = [0u8; 16];
        let (r, e) = last_error_after(|| gethostname(name.as_mut_ptr(), 16));
        assert_eq!((r, e), (SOCKET_ERROR, WSANOTINITIALISED));
    });
}

#[test]
fn ad_4_a_client_tries_each_result_until_one_connects() {
    let sim = Sim::new();
    let server = sim.host("server").process("server");
    let client = sim.host("client").process("client");
    server.run(|| unsafe {
        startup_2_2();
        let l = socket(INET, SOCK_STREAM, IPPROTO_TCP);
        let any = SOCKADDR_IN::from(std::net::SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80));
        assert_eq!(bind(l, (&any as *const SOCKADDR_IN).cast(), 16), 0);
        assert_eq!(listen(l, 1), 0);
    });
    client.run(|| unsafe {
        startup_2_2();
        let h = hints(AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP, 0);
        let mut res = null_mut();
        assert_eq!(
            getaddrinfo(
                c"server".as_ptr().cast(),
                c"80".as_ptr().cast(),
                &h,
                &mut res
            ),
            0
        );
        let mut tried = Vec::new();
        let mut p = res;
        while !p.is_null() {
            let i = *p;
            let s = socket(i.ai_family, i.ai_socktype, i.ai_protocol);
            if s == INVALID_SOCKET {
                // No IPv6 sockets in the simulation yet: the v6 result is skipped, as a
                // client on an IPv4-only machine would.
                tried.push((i.ai_family, WSAGetLastError()));
            } else {
                assert_eq!(connect(s, i.ai_addr, i.ai_addrlen as i32), 0);
                tried.push((i.ai_family, 0));
                closesocket(s);
                break;
            }
            p = i.ai_next;
        }
        freeaddrinfo(res);
        assert_eq!(tried, [(23, WSAEAFNOSUPPORT), (2, 0)]);
    });
}
