//! DU-1: `WSADuplicateSocketW` + `WSASocketW(FROM_PROTOCOL_INFO)` across simulated processes:
//! the target's handle is the same connection; the connection closes only with its last
//! handle; a final `WSACleanup` destroys only its own process's handles; bad arguments fail
//! with the documented codes. Results and error codes are asserted exactly.

use ws2sim::sys::*;
use ws2sim::{Process, Sim};

mod common;
use common::*;

/// A server process (on host "server", listening on `port`) with its accepted socket, and two
/// processes "a" and "b" on host "client", both started; "a" holds a connected socket.
struct Shared {
    _sim: Sim,
    server: Process,
    accepted: SOCKET,
    a: Process,
    b: Process,
    c: SOCKET,
}

fn shared(port: u16) -> Shared {
    let sim = Sim::new();
    let server_host = sim.host("server");
    let server = server_host.process("server");
    let client_host = sim.host("client");
    let (a, b) = (client_host.process("a"), client_host.process("b"));
    for p in [&server, &a, &b] {
        p.run(startup_2_2);
    }
    let addr = sockaddr(server_host.addr(), port);
    let l = server.run(|| tcp_listener(&addr, 4));
    let c = a.run(|| tcp_connected(&addr));
    let accepted = server.run(|| {
        let s = accept_one(l);
        set_nonblocking(s, true);
        s
    });
    Shared {
        _sim: sim,
        server,
        accepted,
        a,
        b,
        c,
    }
}

/// `WSADuplicateSocketW(s, pid)` in the calling process: the info, or the error.
fn duplicate(s: SOCKET, pid: u32) -> Result<WSAPROTOCOL_INFOW, i32> {
    let mut info = WSAPROTOCOL_INFOW::default();
    match unsafe { WSADuplicateSocketW(s, pid, &mut info) } {
        0 => Ok(info),
        _ => Err(unsafe { WSAGetLastError() }),
    }
}

/// `WSASocketW(FROM_PROTOCOL_INFO, .., &info)` in the calling process.
fn open(info: &WSAPROTOCOL_INFOW) -> Result<SOCKET, i32> {
    let s = unsafe {
        WSASocketW(
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            info,
            0,
            0,
        )
    };
    if s == INVALID_SOCKET {
        Err(unsafe { WSAGetLastError() })
    } else {
        Ok(s)
    }
}

/// What the server's non-blocking accepted socket has now: bytes, or the end (0), or an
/// error.
fn server_reads(sh: &Shared) -> (i32, Vec<u8>, i32) {
    sh.server.run(|| {
        let (r, data) = recv_n(sh.accepted, 64, 0);
        let err = if r == SOCKET_ERROR {
            unsafe { WSAGetLastError() }
        } else {
            0
        };
        (r, data, err)
    })
}

#[test]
fn du_1_the_duplicate_is_the_same_connection_and_it_closes_with_its_last_handle() {
    let sh = shared(7700);
    let b_pid = sh.b.run(|| unsafe { GetCurrentProcessId() });
    assert_eq!(b_pid, sh.b.pid());
    let info = sh.a.run(|| duplicate(sh.c, b_pid)).expect("duplicated");
    let d = sh.b.run(|| open(&info)).expect("opened");
    sh.b.run(|| assert_eq!(send_bytes(d, b"from b "), 7));
    sh.a.run(|| assert_eq!(send_bytes(sh.c, b"from a"), 6));
    sh._sim.advance(std::time::Duration::from_millis(20));
    assert_eq!(server_reads(&sh), (13, b"from b from a".to_vec(), 0));
    // "a" closes its handle: the connection stays, "b" still sends.
    sh.a.run(|| assert_eq!(unsafe { closesocket(sh.c) }, 0));
    sh._sim.advance(std::time::Duration::from_millis(20));
    assert_eq!(
        server_reads(&sh),
        (SOCKET_ERROR, Vec::new(), WSAEWOULDBLOCK),
        "no FIN"
    );
    sh.b.run(|| assert_eq!(send_bytes(d, b"still"), 5));
    sh._sim.advance(std::time::Duration::from_millis(20));
    assert_eq!(server_reads(&sh), (5, b"still".to_vec(), 0));
    // The server's reply reaches the remaining handle.
    sh.server
        .run(|| assert_eq!(send_bytes(sh.accepted, b"ok"), 2));
    sh._sim.advance(std::time::Duration::from_millis(20));
    sh.b.run(|| assert_eq!(recv_n(d, 16, 0), (2, b"ok".to_vec())));
    // The last handle: the connection closes gracefully.
    sh.b.run(|| assert_eq!(unsafe { closesocket(d) }, 0));
    sh._sim.advance(std::time::Duration::from_millis(20));
    assert_eq!(server_reads(&sh), (0, Vec::new(), 0), "FIN");
}

#[test]
fn du_1_a_final_cleanup_destroys_only_its_own_processes_handles() {
    let sh = shared(7710);
    let info =
        sh.a.run(|| duplicate(sh.c, sh.b.pid()))
            .expect("duplicated");
    let d = sh.b.run(|| open(&info)).expect("opened");
    // "a"'s final cleanup: its handle goes (CL-6), the connection stays for "b".
    sh.a.run(|| {
        assert_eq!(unsafe { WSACleanup() }, 0);
        startup_2_2();
        assert_fails(send_bytes(sh.c, b"x"), WSAENOTSOCK);
    });
    sh._sim.advance(std::time::Duration::from_millis(20));
    assert_eq!(
        server_reads(&sh),
        (SOCKET_ERROR, Vec::new(), WSAEWOULDBLOCK)
    );
    sh.b.run(|| assert_eq!(send_bytes(d, b"alive"), 5));
    sh._sim.advance(std::time::Duration::from_millis(20));
    assert_eq!(server_reads(&sh), (5, b"alive".to_vec(), 0));
    // "b"'s final cleanup takes the last handle: the connection is reset (CL-6,
    // Profile::Documented).
    sh.b.run(|| assert_eq!(unsafe { WSACleanup() }, 0));
    sh._sim.advance(std::time::Duration::from_millis(20));
    assert_eq!(server_reads(&sh), (SOCKET_ERROR, Vec::new(), WSAECONNRESET));
}

#[test]
fn du_1_bad_arguments_fail_with_their_codes() {
    let sh = shared(7720);
    let b_pid = sh.b.pid();
    sh.a.run(|| unsafe {
        assert_eq!(
            duplicate(sh.c, 999).err(),
            Some(WSAEINVAL),
            "no such process"
        );
        assert_eq!(duplicate(0xdead, b_pid).err(), Some(WSAENOTSOCK));
        assert_eq!(
            WSADuplicateSocketW(sh.c, b_pid, std::ptr::null_mut()),
            SOCKET_ERROR
        );
        assert_eq!(WSAGetLastError(), WSAEFAULT);
    });
    let info = sh.a.run(|| duplicate(sh.c, b_pid)).expect("duplicated");
    // Only the process it was made for can use it, and only once.
    sh.server
        .run(|| assert_eq!(open(&info).err(), Some(WSAEINVAL), "another process"));
    let d = sh.b.run(|| open(&info)).expect("opened");
    sh.b.run(|| assert_eq!(open(&info).err(), Some(WSAEINVAL), "used"));
    // An ended process is no target.
    let gone = sh._sim.host("client").process("gone");
    let gone_pid = gone.pid();
    gone.exit();
    sh.a.run(|| assert_eq!(duplicate(sh.c, gone_pid).err(), Some(WSAEINVAL)));
    sh.b.run(|| unsafe { closesocket(d) });
}
