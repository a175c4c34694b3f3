//! The endpoint phase funnel: legal transitions are taken and logged, illegal ones panic
//! naming the invariant, and the transport drives a connection through the funnel only.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use super::endpoint::RecvHalf;
use super::{Change, Endpoint, EndpointId, Phase, Proto, SendHalf, Share, Transition, Transport};
use crate::core::rules::Rule;
use crate::core::{HostId, ProcessId};
use crate::error::WsaError;

const ID: EndpointId = EndpointId(7);

fn endpoint(proto: Proto) -> Endpoint {
    Endpoint::new(HostId(0), proto, false, ProcessId(1), (8, 8), Phase::OPEN)
}

fn connected(send: SendHalf, recv: RecvHalf) -> Phase {
    Phase::Connected { send, recv }
}

/// Takes every step in `steps` through the funnel and returns the phases it logged.
fn walk(ep: &mut Endpoint, steps: &[Phase]) -> Vec<(Phase, Phase)> {
    let mut log = Vec::new();
    for &to in steps {
        ep.set_phase(ID, to, &mut log);
        assert_eq!(ep.phase(), to);
    }
    log.iter()
        .map(|t| match t.change {
            Change::Phase { from, to } => (from, to),
            Change::Created(_) | Change::Detached | Change::Removed => panic!("{t:?}"),
        })
        .collect()
}

#[test]
fn a_stream_connects_shuts_down_and_finishes_through_the_funnel() {
    let mut ep = endpoint(Proto::Stream);
    let steps = [
        Phase::Connecting,
        Phase::CONNECTED,
        connected(SendHalf::Shut, RecvHalf::Open),
        connected(SendHalf::FinSent, RecvHalf::Open),
        connected(SendHalf::FinSent, RecvHalf::FinRcvd),
        connected(SendHalf::FinAcked, RecvHalf::FinRcvd),
        connected(SendHalf::FinAcked, RecvHalf::ShutFinRcvd),
    ];
    let log = walk(&mut ep, &steps);
    assert_eq!(log.len(), steps.len(), "every change is logged once");
    assert_eq!(log[0], (Phase::OPEN, Phase::Connecting));
    assert_eq!(log[6].1, steps[6]);
    assert!(ep.is_send_shut() && ep.is_recv_shut() && ep.fin_received());
    assert!(ep.drained() && ep.finished());
}

#[test]
fn failures_listening_and_resets_are_transitions() {
    let mut ep = endpoint(Proto::Stream);
    let refused = Phase::Failed(WsaError::ConnectionRefused);
    walk(&mut ep, &[Phase::Connecting, refused, Phase::OPEN]);
    walk(&mut ep, &[Phase::Connecting, refused, Phase::Connecting]);
    let mut listener = endpoint(Proto::Stream);
    let log = walk(
        &mut listener,
        &[
            Phase::Listening { backlog: 1 },
            Phase::Listening { backlog: 5 },
        ],
    );
    assert_eq!(log.len(), 2);
    let aborted = Phase::Reset {
        error: WsaError::ConnectionAborted,
        send: SendHalf::Shut,
        recv: RecvHalf::Shut,
    };
    let mut conn = endpoint(Proto::Stream);
    walk(&mut conn, &[Phase::Connecting, Phase::CONNECTED]);
    assert_eq!(conn.reset_phase(WsaError::ConnectionAborted, true), aborted);
    walk(&mut conn, &[aborted]);
    assert_eq!(conn.reset_error(), Some(WsaError::ConnectionAborted));
    assert!(conn.is_connected() && !conn.is_live_stream());
}

#[test]
fn moving_to_the_same_phase_changes_and_logs_nothing() {
    let mut ep = endpoint(Proto::Stream);
    assert!(walk(&mut ep, &[Phase::OPEN]).is_empty());
}

#[test]
fn a_datagram_socket_shuts_down_without_a_connection_and_keeps_it_when_connected() {
    let mut ep = endpoint(Proto::Datagram);
    assert!(ep.writable());
    let shut = Phase::Open {
        send: SendHalf::Shut,
        recv: RecvHalf::Open,
    };
    walk(&mut ep, &[shut, connected(SendHalf::Shut, RecvHalf::Open)]);
    assert!(
        ep.is_send_shut() && ep.writable(),
        "a send fails at once: it does not block"
    );
}

#[test]
fn writable_is_one_definition_a_send_would_not_block() {
    let mut ep = endpoint(Proto::Stream);
    assert!(!ep.writable(), "not connected");
    walk(&mut ep, &[Phase::Connecting, Phase::CONNECTED]);
    assert!(ep.writable());
    ep.send_q.extend([0u8; 8]);
    assert!(!ep.writable(), "send buffer full");
    ep.send_q.clear();
    walk(&mut ep, &[connected(SendHalf::Shut, RecvHalf::Open)]);
    assert!(
        ep.writable(),
        "after SD_SEND a send fails WSAESHUTDOWN at once"
    );
}

#[test]
#[should_panic(expected = "invariant: endpoint phase")]
fn a_stream_cannot_be_connected_without_connecting() {
    let mut ep = endpoint(Proto::Stream);
    walk(&mut ep, &[Phase::CONNECTED]);
}

#[test]
#[should_panic(expected = "is not a transition")]
fn a_fin_cannot_be_acked_before_it_is_sent() {
    let mut ep = endpoint(Proto::Stream);
    walk(
        &mut ep,
        &[
            Phase::Connecting,
            Phase::CONNECTED,
            connected(SendHalf::FinAcked, RecvHalf::Open),
        ],
    );
}

#[test]
#[should_panic(expected = "invariant: endpoint phase")]
fn a_reset_connection_never_reconnects() {
    let mut ep = endpoint(Proto::Stream);
    let reset = Phase::Reset {
        error: WsaError::ConnectionReset,
        send: SendHalf::Open,
        recv: RecvHalf::Open,
    };
    walk(&mut ep, &[Phase::Connecting, Phase::CONNECTED, reset]);
    walk(&mut ep, &[Phase::CONNECTED]);
}

#[test]
#[should_panic(expected = "invariant: endpoint phase")]
fn a_datagram_socket_sends_no_fin() {
    let mut ep = endpoint(Proto::Datagram);
    walk(
        &mut ep,
        &[
            connected(SendHalf::Open, RecvHalf::Open),
            connected(SendHalf::Shut, RecvHalf::Open),
            connected(SendHalf::FinSent, RecvHalf::Open),
        ],
    );
}

#[test]
#[should_panic(expected = "invariant: endpoint phase")]
fn a_half_never_reopens() {
    let mut ep = endpoint(Proto::Stream);
    walk(
        &mut ep,
        &[
            Phase::Connecting,
            Phase::CONNECTED,
            connected(SendHalf::Shut, RecvHalf::Open),
            Phase::CONNECTED,
        ],
    );
}

#[test]
#[should_panic(expected = "invariant: an endpoint is detached from its socket once")]
fn an_endpoint_is_detached_once() {
    let mut ep = endpoint(Proto::Stream);
    let mut log = Vec::new();
    ep.detach(ID, &mut log);
    assert_eq!(log.len(), 1);
    ep.detach(ID, &mut log);
}

/// The phase changes of `e` in a transport's log, in order.
fn phases_of(log: &[Transition], e: EndpointId) -> Vec<Phase> {
    log.iter()
        .filter(|t| t.endpoint == e)
        .filter_map(|t| match t.change {
            Change::Created(p) | Change::Phase { to: p, .. } => Some(p),
            Change::Detached | Change::Removed => None,
        })
        .collect()
}

#[test]
fn the_transport_takes_a_connection_through_the_funnel_and_logs_it() {
    let mut t = Transport::new(Duration::from_millis(1));
    t.add_host(Ipv4Addr::new(10, 0, 0, 1));
    let (h, p) = (HostId(0), ProcessId(1));
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5000);
    let l = t.create(h, Proto::Stream, false, p, (64, 64));
    t.bind(l, addr, Share::default(), |_| Ok(())).unwrap();
    t.listen(l, 5);
    let c = t.create(h, Proto::Stream, false, p, (64, 64));
    t.bind_implicitly(c).unwrap();
    t.connect(Duration::ZERO, c, addr);
    t.run_until(Duration::from_secs(1));
    let a = t.pop_accept(l).expect("the connection was accepted");
    t.shut_send(Duration::from_secs(1), c, None);
    t.run_until(Duration::from_secs(2));
    let log = t.take_transitions();
    let done = connected(SendHalf::FinAcked, RecvHalf::Open);
    assert_eq!(
        phases_of(&log, c),
        [
            Phase::OPEN,
            Phase::Connecting,
            Phase::CONNECTED,
            connected(SendHalf::Shut, RecvHalf::Open),
            connected(SendHalf::FinSent, RecvHalf::Open),
            done,
        ]
    );
    assert_eq!(
        phases_of(&log, a),
        [
            Phase::CONNECTED,
            connected(SendHalf::Open, RecvHalf::FinRcvd)
        ]
    );
    assert!(t.take_transitions().is_empty(), "drained");
    // A graceful close of the accepted side: its FIN goes, then it is detached and, both FINs
    // exchanged, removed; the connector too once it is closed after the FIN arrived.
    t.shut_send(Duration::from_secs(2), a, None);
    t.detach(Duration::from_secs(2), a);
    assert!(t.get(a).is_none());
    t.run_until(Duration::from_secs(3));
    t.detach(Duration::from_secs(3), c);
    let log = t.take_transitions();
    let changes: Vec<Change> = log.iter().map(|t| t.change).collect();
    assert!(changes.contains(&Change::Detached));
    assert_eq!(
        log.last().map(|t| (t.endpoint, t.change)),
        Some((c, Change::Removed))
    );
    assert!(t.get(c).is_none());
}

#[test]
fn an_abort_resets_both_sides_through_the_funnel() {
    let mut t = Transport::new(Duration::from_millis(1));
    t.add_host(Ipv4Addr::new(10, 0, 0, 1));
    let (h, p) = (HostId(0), ProcessId(1));
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5001);
    let l = t.create(h, Proto::Stream, false, p, (64, 64));
    t.bind(l, addr, Share::default(), |_| Ok(())).unwrap();
    t.listen(l, 1);
    let c = t.create(h, Proto::Stream, false, p, (64, 64));
    t.bind_implicitly(c).unwrap();
    t.connect(Duration::ZERO, c, addr);
    t.run_until(Duration::from_secs(1));
    let a = t.pop_accept(l).unwrap();
    t.abort(Duration::from_secs(1), c, Rule::Cs3, "test");
    t.run_until(Duration::from_secs(2));
    assert_eq!(t.ep(c).reset_error(), Some(WsaError::ConnectionAborted));
    assert!(t.ep(c).is_send_shut() && t.ep(c).is_recv_shut());
    assert_eq!(t.ep(a).reset_error(), Some(WsaError::ConnectionReset));
    assert!(
        !t.ep(a).is_send_shut(),
        "a reset from the peer leaves the halves"
    );
}
