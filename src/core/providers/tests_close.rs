//! CS-6 on the core fixtures: `closesocket` aborts the socket's pending overlapped operations
//! and performs their completion actions. Decided in `close_socket` (`calls.rs`), the built-in
//! providers' `WSPCloseSocket`; the tests reach it only through `World::dispatch`.

use crate::core::call::{Reply, SocketCall};
use crate::core::fixtures::{Connected, Fx, PendingRecv};
use crate::core::overlapped::Packet;
use crate::core::Profile;
use crate::error::WsaError;

/// The completion key of the socket's association with a port.
const PORT_KEY: usize = 42;

/// Closes the pending-receive fixture's socket after a second receive (routine mode) was
/// posted on it and the socket associated with a port; checks every completion action and
/// returns the error both operations completed with.
fn close_with_pending_ops(profile: Profile) -> WsaError {
    let PendingRecv {
        conn: Connected { mut fx, local, .. },
        event,
        key,
        memory,
    } = Fx::with_pending_recv_in(profile);
    let me = fx.me;
    let port = fx.port_for(me, local, PORT_KEY);
    let (r, key2, _) = fx.recv_overlapped(me, local, 64, None, true);
    assert_eq!(r, Err(WsaError::IoPending));

    assert_eq!(fx.call(SocketCall::CloseSocket(local)), Ok(Reply::Done));

    assert!(fx.is_set(me, event), "CS-6: the event IS set");
    let done = fx.world.take_completions();
    assert_eq!(done.len(), 2);
    let error = done[0].result.expect_err("aborted");
    let seen: Vec<_> = done
        .iter()
        .map(|c| (c.key, c.socket, c.result, c.routine.is_some()))
        .collect();
    assert_eq!(
        seen,
        [
            (key, local, Err(error), false),
            (key2, local, Err(error), true)
        ],
        "CS-6: the routine IS queued (the event-mode operation has none)"
    );
    done[0].write_memory();
    assert_eq!(memory.lock().unwrap().result, Some(Err(error)));
    let packet = |overlapped| Packet {
        bytes: 0,
        key: PORT_KEY,
        overlapped,
        error: Some(error),
    };
    assert_eq!(
        fx.next_packet(me, port),
        Some(packet(key)),
        "CS-6: a packet"
    );
    assert_eq!(fx.next_packet(me, port), Some(packet(key2)));
    assert_eq!(fx.next_packet(me, port), None);
    assert_eq!(
        fx.world.live_resources(me.pid),
        2,
        "the listener and the event"
    );
    error
}

#[test]
fn cs_6_closesocket_aborts_pending_ops_and_performs_their_completion_actions() {
    assert_eq!(
        close_with_pending_ops(Profile::Documented),
        WsaError::OperationAborted
    );
}

#[test]
fn cs_6_windows_reports_a_pending_recv_on_connected_tcp_as_connection_aborted() {
    assert_eq!(
        close_with_pending_ops(Profile::Windows),
        WsaError::ConnectionAborted
    );
}
