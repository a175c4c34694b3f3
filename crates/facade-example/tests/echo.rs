//! facade-example's windows-sys code between simulated hosts, through windows-sys-sim: an
//! echo over overlapped receives and a completion port, a receive timeout in virtual time,
//! and a refused connection. Only the setup (hosts, processes, threads) uses ws2sim itself.

use std::time::Duration;

use facade_example::{echo, echo_to, listen_on, serve_one, Error, Winsock, TIMED_OUT};
use ws2sim::Sim;

/// `WSAECONNREFUSED`.
const REFUSED: Error = Error(10061);

#[test]
fn the_library_echoes_between_two_hosts_through_the_facade() {
    let sim = Sim::builder().seed(5).build();
    let server_host = sim.host("server");
    let server = server_host.process("server");
    let client = sim.host("client").process("client");
    let ip = server_host.addr().octets();

    let (ws, listener) = server.run(|| (Winsock::start().unwrap(), listen_on(7).unwrap()));
    let served = server.spawn(move || {
        let n = serve_one(&listener);
        drop(listener);
        drop(ws);
        n
    });
    let message: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
    let got = client.run(|| {
        let _ws = Winsock::start().unwrap();
        echo(ip, 7, &message, 5_000)
    });
    assert_eq!(got.as_deref(), Ok(&message[..]));
    assert_eq!(served.join(), Ok(2000));
}

#[test]
fn a_silent_server_makes_the_receive_time_out_in_virtual_time() {
    let sim = Sim::builder().seed(6).build();
    let server_host = sim.host("server");
    let server = server_host.process("server");
    let client = sim.host("client").process("client");
    let ip = server_host.addr().octets();

    // Listens, never accepts: the connection completes in the backlog and stays silent.
    let (ws, listener) = server.run(|| (Winsock::start().unwrap(), listen_on(9).unwrap()));
    let before = sim.now();
    let got = client.run(|| {
        let _ws = Winsock::start().unwrap();
        echo(ip, 9, b"anyone?", 250)
    });
    assert_eq!(got, Err(TIMED_OUT));
    let waited = sim.now() - before;
    assert!(waited >= Duration::from_millis(250), "waited {waited:?}");
    assert!(waited < Duration::from_millis(300), "waited {waited:?}");
    // The guards call closesocket and WSACleanup: on one of the process's threads.
    server.run(move || drop((listener, ws)));
}

#[test]
fn nobody_listening_refuses_the_connection() {
    let sim = Sim::new();
    let server_host = sim.host("server");
    let client = sim.host("client").process("client");
    let ip = server_host.addr().octets();
    let got = client.run(|| {
        let _ws = Winsock::start().unwrap();
        echo(ip, 80, b"hello", 1_000)
    });
    assert_eq!(got, Err(REFUSED));
}

#[test]
fn the_client_resolves_the_server_by_name() {
    let sim = Sim::builder().seed(8).build();
    let server = sim.host("echo-server").process("server");
    let client = sim.host("client").process("client");
    let (ws, listener) = server.run(|| (Winsock::start().unwrap(), listen_on(7).unwrap()));
    let served = server.spawn(move || {
        let n = serve_one(&listener);
        drop((listener, ws));
        n
    });
    let got = client.run(|| {
        let _ws = Winsock::start().unwrap();
        (
            echo_to("echo-server", 7, b"ping", 1_000),
            echo_to("nobody", 7, b"ping", 1_000),
        )
    });
    assert_eq!(got, (Ok(b"ping".to_vec()), Err(Error(11001))));
    assert_eq!(served.join(), Ok(4));
}
