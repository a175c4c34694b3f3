//! Property tests: random sequences of Winsock calls over two or three processes of one
//! `Sim`, checked step by step against the public reference model
//! (`ws2sim::testing::model`): return values, last errors, handles (CS-1), startup counts and
//! live resources (ST-4, CL-2, CL-8), and the rules the trace names (ER-1, ER-2, ER-4).
//!
//! Each test is one mix of steps (`Mix`); proptest-state-machine generates and shrinks the
//! steps, and a failure saves the shrunk program as JSON (`saved_program_path`).

use proptest::prelude::ProptestConfig;
use proptest_state_machine::prop_state_machine;
use ws2sim::testing::model::{
    Balanced, CleanupHeavy, ConnectionHeavy, Mix, OptionHeavy, SimTest, Weights,
};

/// Nothing ever starts: every call must fail WSANOTINITIALISED whatever its arguments (ER-1,
/// CL-1).
struct NeverStarted;

impl Mix for NeverStarted {
    const WEIGHTS: Weights = Weights {
        startup: 0,
        cleanup: 2,
        socket: 3,
        close: 3,
        get_option: 3,
        set_option: 3,
        connect: 3,
        data: 3,
    };
    const STARTED: bool = false;
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The whole mix: startups (some with unsupported versions), cleanups, sockets with valid
    /// and garbage arguments, closes and options on live, closed, stale, foreign and made-up
    /// handles.
    #[test]
    fn cs_1_er_2_random_call_sequences_never_alias_or_panic(sequential 1..60 => SimTest<Balanced>);

    /// Cleanup-heavy sequences: the startup count follows ST-4/CL-2 exactly, WSACleanup at 0
    /// fails WSANOTINITIALISED (CL-1), and every final cleanup leaves nothing alive (CL-8); a
    /// later startup starts clean (ST-6): old handles are WSAENOTSOCK (ER-2).
    #[test]
    fn cl_8_st_4_startup_count_and_resources_follow_the_model(sequential 1..60 => SimTest<CleanupHeavy>);

    /// Before any successful startup every call fails WSANOTINITIALISED whatever its arguments
    /// (ER-1, CL-1).
    #[test]
    fn er_1_calls_without_startup_fail_not_initialised_whatever_the_arguments(sequential 1..40 => SimTest<NeverStarted>);

    /// Option-heavy sequences on few sockets: SO_LINGER round-trips, SO_DONTLINGER = !l_onoff,
    /// UDP has no linger, NULL and short buffers fail WSAEFAULT after the handle check (CS-8,
    /// ER-2, ER-3).
    #[test]
    fn cs_8_linger_options_round_trip_in_random_sequences(sequential 1..60 => SimTest<OptionHeavy>);

    /// Connection-heavy sequences over two or three processes on two hosts: binds (WSAEINVAL
    /// twice, WSAEADDRINUSE on a taken port), listens (WSAEINVAL unbound, WSAEOPNOTSUPP for
    /// UDP, WSAEISCONN connected), blocking connects (WSAECONNREFUSED with no listener or a
    /// full backlog, WSAEISCONN, WSAEINVAL on a listener), accepts of queued connections,
    /// sends and receives of exactly the bytes sent, SD_SEND (WSAESHUTDOWN after it, recv 0 at
    /// the peer), graceful closes, and final cleanups with connections open (CL-6).
    #[test]
    fn sd_1_cl_6_connections_follow_the_model(sequential 1..80 => SimTest<ConnectionHeavy>);
}
