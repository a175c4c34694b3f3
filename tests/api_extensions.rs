//! The extension operations through the safe API: an `AcceptEx`-based accept loop on a
//! `CompletionPort` (EX-2, EX-7), and `DisconnectEx` with `TF_REUSE_SOCKET` handing the
//! socket to `AcceptEx` again (EX-4).

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use ws2sim::api::{self, CompletionPort};
use ws2sim::{consts::*, Sim, Socket, Version, WsaError};

fn tcp() -> Socket {
    Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap()
}

#[test]
fn ex_2_api_accept_overlapped_serves_clients_through_a_completion_port() {
    let sim = Sim::new();
    let p = sim.localhost().process("app");
    p.run(|| {
        api::startup(Version::V2_2).unwrap();
        let at = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7900);
        let l = tcp();
        l.bind(at).unwrap();
        l.listen(4).unwrap();
        let port = CompletionPort::new().unwrap();
        port.associate(l, 11).unwrap();
        let (a1, a2) = (tcp(), tcp());
        let op1 = l.accept_overlapped(a1, 0, None).unwrap();
        let op2 = l.accept_overlapped(a2, 0, None).unwrap();
        assert_eq!(
            l.accept_overlapped(a1, 0, None).err(),
            Some(WsaError::InvalidArgument),
            "a1 is taken"
        );
        let (c1, c2) = (tcp(), tcp());
        c1.connect(at).unwrap();
        c2.connect(at).unwrap();
        let packets = port.get_many(8, Some(Duration::from_millis(100))).unwrap();
        let ids: Vec<_> = packets
            .iter()
            .map(|p| (p.key, p.overlapped, p.bytes))
            .collect();
        assert_eq!(ids, [(11, op1.op().id(), 0), (11, op2.op().id(), 0)]);
        let (g1, g2) = (
            op1.result().unwrap().unwrap(),
            op2.result().unwrap().unwrap(),
        );
        assert_eq!((g1.local, g2.local), (at, at));
        assert_eq!(
            (g1.remote, g2.remote),
            (c1.local_addr().unwrap(), c2.local_addr().unwrap())
        );
        assert_eq!(
            a1.peer_addr(),
            Err(WsaError::NotConnected),
            "before the update"
        );
        a1.update_accept_context(l).unwrap();
        assert_eq!(a1.peer_addr().unwrap(), g1.remote);
        assert_eq!(port.get_many(8, Some(Duration::ZERO)).unwrap(), vec![]);
        api::cleanup().unwrap();
    });
}

#[test]
fn ex_4_api_disconnect_overlapped_with_reuse_gives_the_socket_to_accept_again() {
    let sim = Sim::new();
    let p = sim.localhost().process("app");
    p.run(|| {
        api::startup(Version::V2_2).unwrap();
        let at = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7910);
        let l = tcp();
        l.bind(at).unwrap();
        l.listen(4).unwrap();
        let a = tcp();
        let op = l.accept_overlapped(a, 0, None).unwrap();
        let c = tcp();
        c.connect(at).unwrap();
        op.wait(l).unwrap();
        let d = a.disconnect_overlapped(true, None).unwrap();
        assert_eq!(d.wait(a), Ok(vec![]));
        let mut buf = [0u8; 4];
        assert_eq!(c.recv(&mut buf), Ok(0), "the client reads the end");
        let again = l.accept_overlapped(a, 0, None).unwrap();
        let c2 = tcp();
        c2.connect(at).unwrap();
        assert_eq!(again.wait(l).unwrap().remote, c2.local_addr().unwrap());
        api::cleanup().unwrap();
    });
}
