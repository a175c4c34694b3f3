//! SP-11: the protocol catalog (`WSAEnumProtocolsW`) and how `socket`/`WSASocketW` choose a
//! catalog entry. Expected values are Windows' own, as Wine's `sock.c` (`test_WSASocket`) and
//! `protocol.c` observed them.

use ws2sim::sys::*;
use ws2sim::{api, ProtocolInfo};

mod common;
use common::*;

const UNSPEC: i32 = AF_UNSPEC as i32;
const DEAD: i32 = 0xdead;

/// (address family, socket type, protocol).
type Triple = (i32, i32, i32);

/// `getsockopt(SO_PROTOCOL_INFOW)` on a live socket.
unsafe fn protocol_info(s: SOCKET) -> WSAPROTOCOL_INFOW {
    let mut info = WSAPROTOCOL_INFOW::default();
    assert_eq!(
        get_opt(s, SO_PROTOCOL_INFOW, &mut info),
        (0, INFO_SIZE as i32)
    );
    info
}

/// `getsockopt(SO_TYPE)` on a live socket.
unsafe fn socket_type(s: SOCKET) -> i32 {
    let mut ty = -7i32;
    assert_eq!(get_opt(s, SO_TYPE, &mut ty), (0, 4));
    ty
}

/// `WSASocketW(af, ty, proto, info, 0, 0)`; asserts it succeeds and clears the last error.
#[track_caller]
unsafe fn wsa_socket_ok(af: i32, ty: i32, proto: i32, info: &WSAPROTOCOL_INFOW) -> SOCKET {
    let (s, err) = last_error_after(|| WSASocketW(af, ty, proto, info, 0, 0));
    assert_ne!(s, INVALID_SOCKET);
    assert_eq!(err, 0);
    s
}

/// `WSASocketW(af, ty, proto, info, 0, 0)`; asserts it fails and returns the last error it set.
#[track_caller]
unsafe fn wsa_socket_error(af: i32, ty: i32, proto: i32, info: &WSAPROTOCOL_INFOW) -> i32 {
    let (s, err) = last_error_after(|| WSASocketW(af, ty, proto, info, 0, 0));
    assert_eq!(s, INVALID_SOCKET);
    err
}

/// The whole catalog through `WSAEnumProtocolsW` with a buffer of the exact size.
unsafe fn catalog() -> Vec<WSAPROTOCOL_INFOW> {
    let mut len = 0u32;
    assert_fails(
        WSAEnumProtocolsW(std::ptr::null(), std::ptr::null_mut(), &mut len),
        WSAENOBUFS,
    );
    let mut buf = vec![WSAPROTOCOL_INFOW::default(); len as usize / INFO_SIZE];
    let n = WSAEnumProtocolsW(std::ptr::null(), buf.as_mut_ptr(), &mut len);
    assert_eq!(n as usize, buf.len());
    buf
}

fn name(info: &WSAPROTOCOL_INFOW) -> String {
    let end = info.szProtocol.iter().position(|&u| u == 0).unwrap_or(256);
    String::from_utf16(&info.szProtocol[..end]).unwrap()
}

/// Calls `socket` (false) or `WSASocketW(.., NULL, 0, 0)` (true).
unsafe fn make(wsa: bool, af: i32, ty: i32, proto: i32) -> SOCKET {
    if wsa {
        WSASocketW(af, ty, proto, std::ptr::null(), 0, 0)
    } else {
        socket(af, ty, proto)
    }
}

#[test]
fn sp_11_socket_bad_argument_table_fails_with_windows_errors() {
    let rows: &[(i32, i32, i32, i32)] = &[
        (DEAD, SOCK_STREAM, IPPROTO_TCP, WSAEAFNOSUPPORT),
        (-1, SOCK_STREAM, IPPROTO_TCP, WSAEAFNOSUPPORT),
        (INET, DEAD, IPPROTO_TCP, WSAESOCKTNOSUPPORT),
        (INET, -1, IPPROTO_TCP, WSAESOCKTNOSUPPORT),
        (INET, SOCK_STREAM, DEAD, WSAEPROTONOSUPPORT),
        (INET, SOCK_STREAM, -1, WSAEPROTONOSUPPORT),
        (DEAD, DEAD, IPPROTO_TCP, WSAESOCKTNOSUPPORT),
        (DEAD, SOCK_STREAM, DEAD, WSAEAFNOSUPPORT),
        (INET, DEAD, DEAD, WSAESOCKTNOSUPPORT),
        (DEAD, SOCK_STREAM, IPPROTO_UDP, WSAEAFNOSUPPORT),
        (INET, DEAD, 0, WSAESOCKTNOSUPPORT),
        (INET, 0, DEAD, WSAEPROTONOSUPPORT),
        (INET, SOCK_STREAM, IPPROTO_UDP, WSAEPROTONOSUPPORT),
        (INET, SOCK_DGRAM, IPPROTO_TCP, WSAEPROTONOSUPPORT),
        (UNSPEC, SOCK_STREAM, DEAD, WSAEPROTONOSUPPORT),
        (UNSPEC, DEAD, IPPROTO_UDP, WSAESOCKTNOSUPPORT),
        (UNSPEC, SOCK_STREAM, 0, WSAEINVAL),
        (UNSPEC, SOCK_DGRAM, 0, WSAEINVAL),
        (UNSPEC, DEAD, 0, WSAEINVAL),
        (UNSPEC, 0, DEAD, WSAEPROTONOSUPPORT),
        (UNSPEC, 0, 0, WSAEINVAL),
    ];
    let p = process();
    p.run(|| unsafe {
        startup_2_2();
        for wsa in [false, true] {
            for (i, &(af, ty, proto, err)) in rows.iter().enumerate() {
                WSASetLastError(BEEF);
                let s = make(wsa, af, ty, proto);
                assert_eq!(
                    s, INVALID_SOCKET,
                    "row {i} (wsa {wsa}): {af:#x}/{ty:#x}/{proto:#x}"
                );
                assert_eq!(
                    WSAGetLastError(),
                    err,
                    "row {i} (wsa {wsa}): {af:#x}/{ty:#x}/{proto:#x}"
                );
            }
        }
    });
    // No failed call left a socket behind.
    assert_eq!(p.live_resources(), 0);
}

#[test]
fn sp_11_socket_good_argument_table_resolves_family_type_protocol() {
    let rows: &[(Triple, Triple)] = &[
        ((INET, SOCK_STREAM, 0), (INET, SOCK_STREAM, IPPROTO_TCP)),
        ((INET, SOCK_DGRAM, 0), (INET, SOCK_DGRAM, IPPROTO_UDP)),
        ((INET, 0, IPPROTO_TCP), (INET, SOCK_STREAM, IPPROTO_TCP)),
        ((INET, 0, IPPROTO_UDP), (INET, SOCK_DGRAM, IPPROTO_UDP)),
        ((INET, 0, 0), (INET, SOCK_STREAM, IPPROTO_TCP)),
        (
            (UNSPEC, SOCK_STREAM, IPPROTO_TCP),
            (INET, SOCK_STREAM, IPPROTO_TCP),
        ),
        ((UNSPEC, 0, IPPROTO_TCP), (INET, SOCK_STREAM, IPPROTO_TCP)),
        ((UNSPEC, 0, IPPROTO_UDP), (INET, SOCK_DGRAM, IPPROTO_UDP)),
    ];
    started(|| unsafe {
        for wsa in [false, true] {
            for (i, &((af, ty, proto), (raf, rty, rproto))) in rows.iter().enumerate() {
                WSASetLastError(BEEF);
                let s = make(wsa, af, ty, proto);
                assert_ne!(s, INVALID_SOCKET, "row {i} (wsa {wsa})");
                assert_eq!(WSAGetLastError(), 0, "row {i} (wsa {wsa})");
                let info = protocol_info(s);
                assert_eq!(
                    (info.iAddressFamily, info.iSocketType, info.iProtocol),
                    (raf, rty, rproto),
                    "row {i} (wsa {wsa})"
                );
                assert_eq!(socket_type(s), rty, "row {i} (wsa {wsa})");
                assert_eq!(closesocket(s), 0);
            }
        }
    });
}

#[test]
fn sp_11_wsasocket_from_protocol_info_makes_a_socket_of_that_entry() {
    started(|| unsafe {
        let cat = catalog();
        let tcp = cat[0];
        let s = wsa_socket_ok(
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            &tcp,
        );
        assert_eq!(socket_type(s), SOCK_STREAM);
        let info = protocol_info(s);
        assert_eq!(info.iProtocol, IPPROTO_TCP);
        assert_eq!(info.dwCatalogEntryId, tcp.dwCatalogEntryId);
        assert_eq!(info, tcp);
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn sp_11_wsasocket_info_with_family_minus_one_fails_eafnosupport() {
    started(|| unsafe {
        let mut info = catalog()[0];
        info.iAddressFamily = -1;
        info.iSocketType = -1;
        info.iProtocol = -1;
        assert_eq!(wsa_socket_error(0, 0, IPPROTO_UDP, &info), WSAEAFNOSUPPORT);
    });
}

#[test]
fn sp_11_wsasocket_info_all_zero_fails_eafnosupport() {
    started(|| unsafe {
        let info = WSAPROTOCOL_INFOW::default();
        assert_eq!(
            (info.iAddressFamily, info.iSocketType, info.iProtocol),
            (0, 0, 0)
        );
        assert_eq!(wsa_socket_error(0, 0, IPPROTO_UDP, &info), WSAEAFNOSUPPORT);
    });
}

#[test]
fn sp_11_wsasocket_zero_arguments_are_taken_from_info() {
    started(|| unsafe {
        let udp = catalog()[1];
        assert_eq!(udp.iProtocol, IPPROTO_UDP);
        let s = wsa_socket_ok(0, 0, 0, &udp);
        assert_eq!(socket_type(s), SOCK_DGRAM);
        assert_eq!(protocol_info(s).iProtocol, IPPROTO_UDP);
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn sp_11_wsasocket_explicit_arguments_override_info() {
    started(|| unsafe {
        let udp = catalog()[1];
        let s = wsa_socket_ok(INET, SOCK_STREAM, IPPROTO_TCP, &udp);
        assert_eq!(socket_type(s), SOCK_STREAM);
        let info = protocol_info(s);
        assert_eq!(info.iProtocol, IPPROTO_TCP);
        assert_eq!(info.dwCatalogEntryId, 1001);
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn sp_11_disconnect_data_provider_is_reached_by_info_or_protocol_253() {
    started(|| unsafe {
        let dd = catalog()[2];
        assert_eq!(dd.iProtocol, IPPROTO_WS2SIM_DISCONNECT_DATA);
        assert_eq!(IPPROTO_WS2SIM_DISCONNECT_DATA, 253);

        let a = WSASocketW(
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            &dd,
            0,
            WSA_FLAG_OVERLAPPED,
        );
        assert_ne!(a, INVALID_SOCKET);
        assert_eq!(protocol_info(a), dd);
        assert_eq!(socket_type(a), SOCK_STREAM);

        let b = socket(INET, SOCK_STREAM, IPPROTO_WS2SIM_DISCONNECT_DATA);
        assert_ne!(b, INVALID_SOCKET);
        let info = protocol_info(b);
        assert_eq!(info, dd);
        assert_ne!(info.dwServiceFlags1 & XP1_DISCONNECT_DATA, 0);

        // Through the safe layer too.
        let entry = ProtocolInfo::from(&dd);
        let c = ws2sim::Socket::from_protocol_info(&entry, WSA_FLAG_OVERLAPPED).unwrap();
        assert_eq!(c.protocol_info().unwrap(), entry);

        for s in [a, b, c.raw()] {
            assert_eq!(closesocket(s), 0);
        }
    });
}

#[test]
fn sp_11_protocol_zero_picks_tcp_not_the_disconnect_data_provider() {
    started(|| unsafe {
        for s in [
            socket(INET, SOCK_STREAM, 0),
            WSASocketW(INET, SOCK_STREAM, 0, std::ptr::null(), 0, 0),
        ] {
            assert_ne!(s, INVALID_SOCKET);
            let info = protocol_info(s);
            assert_eq!(info.iProtocol, IPPROTO_TCP);
            assert_eq!(info.dwCatalogEntryId, 1001);
            assert_eq!(info.dwServiceFlags1 & XP1_DISCONNECT_DATA, 0);
            assert_eq!(closesocket(s), 0);
        }
    });
}

#[test]
fn sp_11_setsockopt_so_type_is_refused() {
    started(|| unsafe {
        let value = SOCK_DGRAM.to_ne_bytes();
        let tcp = socket(INET, SOCK_STREAM, IPPROTO_TCP);
        WSASetLastError(BEEF);
        assert_fails(
            setsockopt(tcp, SOL_SOCKET, SO_TYPE, value.as_ptr(), 4),
            WSAENOPROTOOPT,
        );
        assert_eq!(socket_type(tcp), SOCK_STREAM);

        let value = SOCK_STREAM.to_ne_bytes();
        let udp = socket(INET, SOCK_DGRAM, IPPROTO_UDP);
        WSASetLastError(BEEF);
        assert_fails(
            setsockopt(udp, SOL_SOCKET, SO_TYPE, value.as_ptr(), 4),
            WSAEINVAL,
        );
        assert_eq!(socket_type(udp), SOCK_DGRAM);
        assert_eq!(closesocket(tcp), 0);
        assert_eq!(closesocket(udp), 0);
    });
}

#[test]
fn sp_11_catalog_lists_tcp_udp_then_disconnect_data_provider() {
    started(|| unsafe {
        let cat = catalog();
        assert_eq!(cat.len(), 3);
        let (tcp, udp, dd) = (&cat[0], &cat[1], &cat[2]);

        assert_eq!(tcp.dwServiceFlags1, 0x0002_0066);
        assert_eq!(tcp.dwServiceFlags1 & XP1_DISCONNECT_DATA, 0);
        assert_eq!(tcp.dwCatalogEntryId, 1001);
        assert_eq!(name(tcp), "MSAFD Tcpip [TCP/IP]");
        assert_eq!(
            (tcp.iAddressFamily, tcp.iSocketType, tcp.iProtocol),
            (INET, SOCK_STREAM, IPPROTO_TCP)
        );

        assert_eq!(udp.dwServiceFlags1, 0x0002_0609);
        assert_eq!(
            (udp.iAddressFamily, udp.iSocketType, udp.iProtocol),
            (INET, SOCK_DGRAM, IPPROTO_UDP)
        );

        let wanted = XP1_DISCONNECT_DATA
            | XP1_GUARANTEED_DELIVERY
            | XP1_GUARANTEED_ORDER
            | XP1_GRACEFUL_CLOSE
            | XP1_CONNECT_DATA;
        assert_eq!(wanted, 0x1a6);
        assert_eq!(dd.dwServiceFlags1 & wanted, wanted);
        assert_eq!(
            (dd.iAddressFamily, dd.iSocketType, dd.iProtocol),
            (INET, SOCK_STREAM, IPPROTO_WS2SIM_DISCONNECT_DATA)
        );

        for e in &cat {
            assert_eq!(e.dwProviderFlags & PFL_HIDDEN, 0, "{}", name(e));
        }
        let ids: std::collections::BTreeSet<u32> = cat.iter().map(|e| e.dwCatalogEntryId).collect();
        assert_eq!(ids.len(), 3, "catalog entry ids are unique");
    });
}

#[test]
fn sp_11_enum_null_buffer_fails_enobufs_with_needed_length() {
    started(|| unsafe {
        let mut len = 0u32;
        WSASetLastError(BEEF);
        assert_fails(
            WSAEnumProtocolsW(std::ptr::null(), std::ptr::null_mut(), &mut len),
            WSAENOBUFS,
        );
        assert_eq!(len, 3 * 628);
    });
}

#[test]
fn sp_11_enum_short_buffer_fails_enobufs_and_writes_nothing_beyond() {
    started(|| unsafe {
        const FILL: u8 = 0xa5;
        let mut raw = vec![FILL; 3 * INFO_SIZE];
        // Room for one entry, then one byte short of the whole catalog: both too small.
        for declared in [INFO_SIZE, 3 * INFO_SIZE - 1] {
            let mut len = declared as u32;
            WSASetLastError(BEEF);
            assert_fails(
                WSAEnumProtocolsW(
                    std::ptr::null(),
                    raw.as_mut_ptr().cast::<WSAPROTOCOL_INFOW>(),
                    &mut len,
                ),
                WSAENOBUFS,
            );
            assert_eq!(len, 3 * 628, "declared {declared}");
            assert!(
                raw[declared..].iter().all(|&b| b == FILL),
                "bytes past the declared length were written"
            );
        }
    });
}

#[test]
fn sp_11_enum_exact_buffer_returns_every_entry() {
    started(|| unsafe {
        let mut buf = vec![WSAPROTOCOL_INFOW::default(); 3];
        let mut len = 3 * INFO_SIZE as u32;
        WSASetLastError(BEEF);
        assert_eq!(
            WSAEnumProtocolsW(std::ptr::null(), buf.as_mut_ptr(), &mut len),
            3
        );
        assert_eq!(len, 3 * 628);
        assert_eq!(
            buf.iter().map(|e| e.dwCatalogEntryId).collect::<Vec<_>>(),
            vec![1001, 1002, 1003]
        );
        assert_eq!(
            buf.iter().map(|e| e.iProtocol).collect::<Vec<_>>(),
            vec![IPPROTO_TCP, IPPROTO_UDP, IPPROTO_WS2SIM_DISCONNECT_DATA]
        );
    });
}

#[test]
fn sp_11_enum_filter_ignores_unknown_protocols() {
    started(|| unsafe {
        let filter = [0xdead, IPPROTO_TCP, 0xcafe, IPPROTO_UDP, 0xbeef, 0];
        let mut len = 0u32;
        assert_fails(
            WSAEnumProtocolsW(filter.as_ptr(), std::ptr::null_mut(), &mut len),
            WSAENOBUFS,
        );
        assert_eq!(len, 2 * 628);

        let mut buf = vec![WSAPROTOCOL_INFOW::default(); 3];
        let mut len = 3 * INFO_SIZE as u32;
        assert_eq!(
            WSAEnumProtocolsW(filter.as_ptr(), buf.as_mut_ptr(), &mut len),
            2
        );
        assert_eq!(
            (buf[0].iProtocol, buf[1].iProtocol),
            (IPPROTO_TCP, IPPROTO_UDP)
        );
        assert_eq!(buf[2], WSAPROTOCOL_INFOW::default(), "third slot untouched");
    });
}

#[test]
fn sp_11_enum_filter_matching_nothing_returns_zero() {
    started(|| unsafe {
        let filter = [0xdead, 0];
        let mut buf = vec![WSAPROTOCOL_INFOW::default(); 3];
        let mut len = 3 * INFO_SIZE as u32;
        assert_eq!(
            WSAEnumProtocolsW(filter.as_ptr(), buf.as_mut_ptr(), &mut len),
            0
        );
        assert!(buf.iter().all(|e| *e == WSAPROTOCOL_INFOW::default()));
    });
}

#[test]
fn sp_11_enum_null_length_fails_efault() {
    started(|| unsafe {
        let mut buf = vec![WSAPROTOCOL_INFOW::default(); 3];
        for b in [std::ptr::null_mut(), buf.as_mut_ptr()] {
            WSASetLastError(BEEF);
            assert_fails(
                WSAEnumProtocolsW(std::ptr::null(), b, std::ptr::null_mut()),
                WSAEFAULT,
            );
        }
    });
}

#[test]
fn sp_11_api_enum_protocols_matches_sys() {
    started(|| unsafe {
        let sys: Vec<ProtocolInfo> = catalog().iter().map(ProtocolInfo::from).collect();
        let all = api::enum_protocols(None).unwrap();
        assert_eq!(all, sys);
        assert_eq!(
            all.iter().map(|e| e.catalog_entry_id).collect::<Vec<_>>(),
            vec![1001, 1002, 1003]
        );
        assert!(all.iter().all(|e| !e.is_hidden()));
        assert!(!all[0].has_disconnect_data());
        assert!(all[2].has_disconnect_data());
        assert_eq!(all[0].name, "MSAFD Tcpip [TCP/IP]");

        let filtered =
            api::enum_protocols(Some(&[0xdead, IPPROTO_TCP, 0xcafe, IPPROTO_UDP, 0xbeef])).unwrap();
        assert_eq!(filtered, sys[..2].to_vec());
        assert_eq!(api::enum_protocols(Some(&[0xdead])).unwrap(), vec![]);
    });
}
