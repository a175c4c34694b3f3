//! SD-1 on the core fixtures: `WSASendDisconnect(s, NULL)` on a connected stream socket is
//! `shutdown(s, SD_SEND)`. Decided in `send_disconnect` (`net.rs`); the tests reach it only
//! through `World::dispatch`.

use crate::core::call::{DataCall, Reply};
use crate::core::fixtures::{Connected, Fx, HalfClosed};
use crate::error::WsaError;

#[test]
fn sd_1_send_disconnect_null_returns_0_then_sends_fail_and_the_peer_reads_to_0() {
    let Connected {
        mut fx,
        local,
        peer,
        remote,
        ..
    } = Fx::connected(7600);
    let me = fx.me;
    assert_eq!(fx.send(me, local, b"tail"), Ok(Reply::Count(4)));
    let r = fx.call(DataCall::SendDisconnect {
        s: local,
        data: None,
    });
    assert_eq!(r, Ok(Reply::Done), "SD-1: returns 0");
    assert_eq!(
        fx.send(me, local, b"more"),
        Err(WsaError::Shutdown),
        "SD-1: later sends fail WSAESHUTDOWN"
    );
    fx.settle();
    assert_eq!(
        fx.recv(peer, remote, 64),
        Ok(b"tail".to_vec()),
        "buffered data first"
    );
    assert_eq!(fx.recv(peer, remote, 64), Ok(Vec::new()), "then 0");
    assert_eq!(fx.recv(peer, remote, 64), Ok(Vec::new()), "and 0 again");
}

/// The half-closed fixture is made with `shutdown(SD_SEND)`; the same connection closed
/// with `WSASendDisconnect(NULL)` behaves alike in both directions.
#[test]
fn sd_1_send_disconnect_null_leaves_the_state_shutdown_send_leaves() {
    let HalfClosed { conn: by_shutdown } = Fx::half_closed();
    let mut by_disconnect = Fx::connected(7200);
    let local = by_disconnect.local;
    let r = by_disconnect.fx.call(DataCall::SendDisconnect {
        s: local,
        data: None,
    });
    assert_eq!(r, Ok(Reply::Done));
    by_disconnect.fx.settle();
    let (peer, remote) = (by_disconnect.peer, by_disconnect.remote);
    assert_eq!(by_disconnect.fx.recv(peer, remote, 16), Ok(Vec::new()));
    for (how, mut c) in [
        ("shutdown", by_shutdown),
        ("WSASendDisconnect", by_disconnect),
    ] {
        let (me, local, peer, remote) = (c.fx.me, c.local, c.peer, c.remote);
        assert_eq!(c.fx.send(me, local, b"x"), Err(WsaError::Shutdown), "{how}");
        assert_eq!(c.fx.recv(peer, remote, 16), Ok(Vec::new()), "{how}");
        // The other direction is still open.
        assert_eq!(
            c.fx.send(peer, remote, b"back"),
            Ok(Reply::Count(4)),
            "{how}"
        );
        assert_eq!(c.fx.recv(me, local, 16), Ok(b"back".to_vec()), "{how}");
    }
}
