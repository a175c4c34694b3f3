//! A graceful close with disconnect data between two hosts: the client sends a request and
//! closes its side with `WSASendDisconnect` and 5 bytes of disconnect data; the server reads
//! to the end (recv returns 0), retrieves the disconnect data with `WSARecvDisconnect`, and
//! both close. The trace shows every call with its virtual time and the SPEC rules involved.
//!
//! ```text
//! cargo run --example graceful_close
//! ```
#![allow(unsafe_code)]

use std::net::SocketAddrV4;

use ws2sim::sys::*;
use ws2sim::Sim;

fn main() {
    let sim = Sim::builder().seed(1).build();
    let server_host = sim.host("server");
    let server = server_host.process("server");
    let client = sim.host("client").process("client");
    let addr = SOCKADDR_IN::from(SocketAddrV4::new(server_host.addr(), 7000));
    let name = (&addr as *const SOCKADDR_IN).cast::<SOCKADDR>();

    // The disconnect-data provider, from the catalog.
    let info = client.run(|| unsafe {
        let mut d: WSADATA = std::mem::zeroed();
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        let mut len = 0u32;
        WSAEnumProtocolsW(std::ptr::null(), std::ptr::null_mut(), &mut len);
        let mut all = vec![WSAPROTOCOL_INFOW::default(); len as usize / 628];
        let n = WSAEnumProtocolsW(std::ptr::null(), all.as_mut_ptr(), &mut len);
        all.truncate(n as usize);
        all.into_iter()
            .find(|p| p.dwServiceFlags1 & XP1_DISCONNECT_DATA != 0)
            .expect("the catalog has a disconnect-data provider")
    });

    let listener = server.run(|| unsafe {
        let mut d: WSADATA = std::mem::zeroed();
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        let l = WSASocketW(
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            &info,
            0,
            0,
        );
        assert_eq!(bind(l, name, 16), 0);
        assert_eq!(listen(l, 5), 0);
        l
    });

    let c = client.run(|| unsafe {
        let c = WSASocketW(
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            &info,
            0,
            0,
        );
        assert_eq!(connect(c, name, 16), 0); // blocks for one round trip of virtual time
        let req = b"GET /";
        assert_eq!(send(c, req.as_ptr(), req.len() as i32, 0), 5);
        let mut bye = *b"bye!!";
        let out = WSABUF {
            len: 5,
            buf: bye.as_mut_ptr(),
        };
        assert_eq!(WSASendDisconnect(c, &out), 0);
        c
    });

    server.run(|| unsafe {
        let s = accept(listener, std::ptr::null_mut(), std::ptr::null_mut());
        assert_ne!(s, INVALID_SOCKET);
        let mut buf = [0u8; 64];
        assert_eq!(recv(s, buf.as_mut_ptr(), 64, 0), 5);
        assert_eq!(recv(s, buf.as_mut_ptr(), 64, 0), 0); // the client's graceful close
        let mut disc = [0u8; 64];
        let mut inb = WSABUF {
            len: 64,
            buf: disc.as_mut_ptr(),
        };
        assert_eq!(WSARecvDisconnect(s, &raw mut inb), 0); // Winsock writes inb.len back
        assert_eq!(&disc[..inb.len as usize], b"bye!!");
        assert_eq!(shutdown(s, SD_SEND), 0);
        assert_eq!(closesocket(s), 0);
        assert_eq!(closesocket(listener), 0);
        assert_eq!(WSACleanup(), 0);
    });

    client.run(|| unsafe {
        let mut buf = [0u8; 8];
        assert_eq!(recv(c, buf.as_mut_ptr(), 8, 0), 0); // the server's FIN
        assert_eq!(closesocket(c), 0);
        assert_eq!(WSACleanup(), 0);
    });
    sim.run();
    assert_eq!(sim.lost_bytes(), 0);
    print!("{}", sim.trace());
}
