//! The rules of the specification, `docs/SPEC.md`. The trace names, for each call, the rules
//! that decided its outcome, and the CLI's `explain` prints a rule.
//!
//! Each variant's id and one-line summary are written here; its full text, sources and rustdoc
//! come from docs/SPEC.md through build.rs (`spec!`), so they cannot drift from the SPEC: a rule
//! this list has and the SPEC lacks fails the build, and the test below fails on the converse.

include!(concat!(env!("OUT_DIR"), "/spec_rules.rs"));

/// Where a rule comes from, as SPEC.md's preamble defines its source tags.
///
/// ```
/// use ws2sim::rules::{Rule, Source};
/// assert_eq!(Rule::Cl5.sources(), &[Source::Seed]);
/// // CL-4: the seed, and a choice of the simulator for the error code.
/// assert_eq!(Rule::Cl4.sources(), &[Source::Seed, Source::Sim]);
/// assert_eq!(Source::Win.tag(), "win");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Source {
    /// `seed`: the five seed documents (WSACleanup, WSPCleanup, LPWSPCleanup,
    /// WSASendDisconnect); their semantics are reproduced exactly.
    Seed,
    /// `doc`: Microsoft's Winsock reference page for the function.
    Doc,
    /// `win`: behaviour verified on real Windows by the Wine project's conformance tests.
    Win,
    /// `sim`: a choice of this project where no source decides, documented in rustdoc.
    Sim,
}

impl Source {
    /// The tag as SPEC.md writes it: `"seed"`, `"doc"`, `"win"` or `"sim"`.
    pub const fn tag(self) -> &'static str {
        match self {
            Source::Seed => "seed",
            Source::Doc => "doc",
            Source::Win => "win",
            Source::Sim => "sim",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

macro_rules! rules {
    ($( $variant:ident $id:literal $summary:literal, )*) => {
        /// A behaviour rule of the specification, by id. Each variant's rustdoc is the rule's
        /// full text from docs/SPEC.md; [the rules page](crate::rules) has them all, by family.
        ///
        /// ```
        /// use ws2sim::Rule;
        /// assert_eq!(Rule::Cl2.id(), "CL-2");
        /// assert_eq!(Rule::from_id("cl-2"), Some(Rule::Cl2));
        /// assert!(Rule::Cl2.summary().contains("decrement"));
        /// assert!(Rule::Cl2.text().starts_with("Count > 1 → decrement only, return 0;"));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $(
                #[doc = spec!(doc $variant)]
                $variant,
            )*
        }

        impl Rule {
            /// Every rule, in SPEC.md order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The id as SPEC.md writes it, e.g. `"CL-5"`.
            pub const fn id(self) -> &'static str {
                match self {
                    $(Rule::$variant => $id,)*
                }
            }

            /// A one-line summary of what the rule says.
            pub const fn summary(self) -> &'static str {
                match self {
                    $(Rule::$variant => $summary,)*
                }
            }

            /// The rule's full text as docs/SPEC.md writes it (Markdown, on one line, without
            /// the id), source notes such as `(win: test_select)` included.
            pub const fn text(self) -> &'static str {
                match self {
                    $(Rule::$variant => spec!(text $variant),)*
                }
            }

            /// Where the rule comes from: the tags of its family's heading
            /// (`## CL — WSACleanup (seeds 000, 001)`, `(sim unless noted)`), then those of the
            /// rule's own parenthesised notes (`(seed)`, `(win: test_select)`), which often
            /// cover a part of the rule only. Empty when neither names one ([ER-2](crate::rules#er-2),
            /// [ER-4](crate::rules#er-4), [ER-5](crate::rules#er-5)).
            pub const fn sources(self) -> &'static [Source] {
                match self {
                    $(Rule::$variant => spec!(sources $variant),)*
                }
            }
        }
    };
}

rules! {
    Er1 "ER-1" "A call made while the process's startup count is 0 fails with WSANOTINITIALISED before any argument is looked at (except WSAStartup, WSAGetLastError, WSASetLastError, the AD-5 conversions and kernel32 functions).",
    Er2 "ER-2" "Then the socket handle: unknown, closed, or from before the last final cleanup -> WSAENOTSOCK.",
    Er3 "ER-3" "Then socket state (WSAENOTCONN, WSAESHUTDOWN, WSAEINVAL), then pointer/buffer validity (WSAEFAULT).",
    Er4 "ER-4" "Every failing call sets the calling thread's last error and returns its failure value; WSAStartup returns its error directly; nothing panics on any argument.",
    Er5 "ER-5" "Injected network failure reports WSAENETDOWN after ER-1 and before ER-2.",
    St1 "ST-1" "Version negotiation: major 0 -> WSAVERNOTSUPPORTED; major 1 -> 1.0/1.1; major 2 -> 2.0..2.2; major >= 3 -> 2.2; wHighVersion is 2.2.",
    St2 "ST-2" "WSADATA is filled even when the call fails (description, status, iMaxSockets/iMaxUdpDg for 1.x).",
    St3 "ST-3" "A NULL lpWSAData -> WSAEFAULT, checked after the version.",
    St4 "ST-4" "Each successful WSAStartup adds one to the process's startup count; a failed one adds nothing.",
    St5 "ST-5" "The version that governs Winsock 1.1 behaviour is the lowest negotiated by any live startup.",
    St6 "ST-6" "The first startup creates the process's Ws2_32 state; after a final cleanup a startup starts from a clean state.",
    Cl1 "CL-1" "WSACleanup with startup count 0 -> SOCKET_ERROR, WSANOTINITIALISED.",
    Cl2 "CL-2" "WSACleanup with count > 1 only decrements; only the call that reaches 0 performs the cleanup.",
    Cl3 "CL-3" "A successful WSACleanup sets the thread's last error to 0.",
    Cl4 "CL-4" "Final cleanup cancels blocking calls in every thread with WSAEINTR, without notifications or events.",
    Cl5 "CL-5" "Final cleanup fails pending overlapped operations with WSA_OPERATION_ABORTED without event, routine or port packet.",
    Cl6 "CL-6" "Final cleanup resets and deallocates every open socket as if closesocket were called (profile).",
    Cl7 "CL-7" "Closed sockets' unsent data keeps flowing while the process lives; at exit it is lost (Documented) or kept by the transport (Windows).",
    Cl8 "CL-8" "Final cleanup releases every per-process resource; live_resources() is then 0.",
    Cl9 "CL-9" "Names registered with a namespace provider survive cleanup.",
    Cl10 "CL-10" "WSAEINPROGRESS under Winsock 1.1 with a blocking call in progress, or from inside a provider callback or completion routine.",
    Cl11 "CL-11" "WSACleanup on a failed network returns WSAENETDOWN; the count is still decremented.",
    Cl12 "CL-12" "WSACleanup or WSAStartup from inside DllMain is reported as a misuse diagnostic.",
    Cl13 "CL-13" "WSACancelBlockingCall: WSAEOPNOTSUPP under 2.x; under 1.1 it cancels the thread's blocking call (WSAEINTR).",
    Sp1 "SP-1" "Ws2_32 loads a provider on first use and calls its WSPStartup; catalog entries with one provider id share it.",
    Sp2 "SP-2" "Each successful WSPStartup is matched by one WSPCleanup; only the final one cleans up.",
    Sp3 "SP-3" "WSPCleanup with count 0 -> WSANOTINITIALISED in lpErrno; unknown provider -> WSAEINVAL; network failure -> WSAENETDOWN.",
    Sp4 "SP-4" "Final WSPCleanup cancels blocking/asynchronous calls, aborts overlapped operations silently, resets open sockets.",
    Sp5 "SP-5" "Sockets already closed with WSPCloseSocket keep sending their pending data.",
    Sp6 "SP-6" "WSPCleanup returns only when the provider could be unloaded: remaining data sent or handed to the transport.",
    Sp7 "SP-7" "Each provider declares where its unsent data lives: transport (survives exit) or process (lost at unload).",
    Sp8 "SP-8" "A process may exit or be killed without cleanup; connections are closed (kill: abortively), the catalog stays usable.",
    Sp9 "SP-9" "After the final WSPCleanup the provider accepts an immediate new WSPStartup.",
    Sp10 "SP-10" "WSPStartup negotiation: requested >= provider lowest; wVersion = min(requested, high).",
    Sp12 "SP-12" "Ws2_32 checks a provider's byte counts, handles and error codes before they reach the application; a violation is a diagnostic and the call fails.",
    Sp11 "SP-11" "The catalog lists TCP, UDP, the disconnect-data stream provider, then user providers; PFL_HIDDEN is not listed; small buffer -> WSAENOBUFS with the needed length.",
    Sd1 "SD-1" "WSASendDisconnect(s, NULL) on a connected stream socket = shutdown(s, SD_SEND).",
    Sd2 "SD-2" "Disconnect data on a provider without XP1_DISCONNECT_DATA -> WSAENOPROTOOPT, nothing changes.",
    Sd3 "SD-3" "Disconnect data travels with the close; the peer retrieves it with WSARecvDisconnect after seeing the close.",
    Sd4 "SD-4" "Not connected -> WSAENOTCONN; on connectionless sockets WSASendDisconnect(NULL) acts as shutdown(SD_SEND).",
    Sd5 "SD-5" "A WSABUF with NULL buf and len > 0, or too long -> WSAEFAULT.",
    Sd6 "SD-6" "WSASendDisconnect never blocks and does not close the socket.",
    Sd7 "SD-7" "After WSASendDisconnect, connect on the socket fails (WSAEISCONN).",
    Sd8 "SD-8" "Calling WSASendDisconnect twice returns 0 the second time.",
    Sd9 "SD-9" "WSARecvDisconnect = shutdown(SD_RECEIVE) plus retrieval of inbound disconnect data.",
    Sd10 "SD-10" "shutdown: bad how -> WSAEINVAL; not connected -> WSAENOTCONN; SD_RECEIVE blocks new receives only.",
    Sd11 "SD-11" "After SD_RECEIVE on TCP, arriving data resets the connection; UDP datagrams are still queued.",
    Sd12 "SD-12" "Peer observations of graceful and abortive closes (recv 0, WSAEDISCON, WSAECONNRESET, FD_CLOSE codes).",
    Sd13 "SD-13" "A blocking call from an APC that interrupted a blocking call on the same thread is a misuse diagnostic.",
    Cs1 "CS-1" "closesocket on an unknown/closed handle -> WSAENOTSOCK; a closed socket's handle is never handed out again.",
    Cs2 "CS-2" "Linger off: closesocket returns at once; queued data is still sent, then FIN.",
    Cs3 "CS-3" "Linger on with timeout 0: the connection is reset, unsent data discarded.",
    Cs4 "CS-4" "Linger on with timeout > 0 on a blocking socket: blocks until sent or timed out (then reset).",
    Cs5 "CS-5" "Linger on with timeout > 0 on a non-blocking socket with data queued -> WSAEWOULDBLOCK, socket stays valid.",
    Cs6 "CS-6" "closesocket aborts pending overlapped operations with WSA_OPERATION_ABORTED and performs their completion action.",
    Cs7 "CS-7" "Blocking calls on the socket in other threads return WSAEINTR.",
    Cs8 "CS-8" "SO_LINGER round-trips; SO_DONTLINGER = !l_onoff; UDP SO_LINGER -> WSAENOPROTOOPT; NULL value -> WSAEFAULT.",
    Ov1 "OV-1" "Overlapped WSASend/WSARecv return 0 when complete at once, or WSA_IO_PENDING.",
    Ov2 "OV-2" "Every operation that returned 0 or WSA_IO_PENDING completes exactly once.",
    Ov3 "OV-3" "Event mode: the event is reset at start and set at completion.",
    Ov4 "OV-4" "Completion routines run as APCs only in alertable waits of the issuing thread, never nested per socket.",
    Ov5 "OV-5" "WSAGetOverlappedResult: WSA_IO_INCOMPLETE, waiting, the operation's error, WSAEFAULT.",
    Ov6 "OV-6" "Completion ports receive one packet per completed operation, except those aborted by final cleanup.",
    Ov7 "OV-7" "Buffers posted on one socket are filled in posting order.",
    Ov8 "OV-8" "Thread exit does not cancel the thread's overlapped operations; their routines are dropped.",
    Th1 "TH-1" "WSAGetLastError/WSASetLastError are per simulated thread and work without WSAStartup.",
    Th2 "TH-2" "Every call is a scheduling point; a seeded scheduler picks the next thread; same seed, same trace.",
    Th3 "TH-3" "Virtual time advances only when no thread can run.",
    Th4 "TH-4" "A deadlock is reported with each blocked thread and its call instead of hanging.",
    Th5 "TH-5" "Under Winsock 1.1 a thread has one blocking call; nested calls from its blocking hook fail WSAEINPROGRESS.",
    Th6 "TH-6" "Every failure that leaves the harness prints its seed and the replay command; the seed reproduces it.",
    Th7 "TH-7" "A panic in a simulated thread fails the simulation, naming the thread and the seed; Sim::try_run returns it as an error.",
    Th8 "TH-8" "Spinning threads make virtual time jump to the next timer or delivery; with nothing pending a livelock is reported.",
    Th9 "TH-9" "Ending a thread never unwinds through a user's extern \"system\" callback; thread endings change state only at scheduling points.",
    Th10 "TH-10" "Virtual time arithmetic saturates: no duration or deadline overflows.",
    Ad1 "AD-1" "Every host has 10.0.0.N, fd00::N and a name; 127.0.0.1 and ::1 loop back.",
    Ad2 "AD-2" "AF_INET6 sockets use SOCKADDR_IN6; short names -> WSAEFAULT; another family -> WSAEAFNOSUPPORT; SOCKADDR_STORAGE accepted.",
    Ad3 "AD-3" "IPV6_V6ONLY is TRUE by default; FALSE gives dual-stack with v4-mapped peers; changing it after bind -> WSAEINVAL.",
    Ad4 "AD-4" "getaddrinfo/GetAddrInfoW resolve numeric addresses, localhost, passive wildcards and simulated host names; errors are returned and set.",
    Ad5 "AD-5" "inet_pton/inet_ntop and the W and WSA string conversions convert exactly as documented; inet_pton/inet_ntop need no WSAStartup.",
    Op1 "OP-1" "The options std, socket2 and quinn-udp set round-trip with Windows' types; unknown option or level -> WSAENOPROTOOPT.",
    Op2 "OP-2" "SO_RCVTIMEO/SO_SNDTIMEO bound blocking calls in virtual time; expiry -> WSAETIMEDOUT, no data lost.",
    Op3 "OP-3" "Nagle and 200 ms delayed ACK in virtual time; TCP_NODELAY removes the stall.",
    Op4 "OP-4" "Binding a used address: WSAEADDRINUSE; SO_REUSEADDR lets it bind; SO_EXCLUSIVEADDRUSE -> WSAEACCES; both -> WSAEINVAL.",
    Op5 "OP-5" "Keep-alive probes run in virtual time; a silent peer is detected and calls fail WSAENETRESET.",
    Op6 "OP-6" "SO_ERROR returns and clears the pending error; broadcast needs SO_BROADCAST; multicast reaches group members.",
    Op7 "OP-7" "MSG_PEEK, MSG_WAITALL, MSG_OOB; oversized datagrams -> WSAEMSGSIZE; sizes checked before any copy.",
    Ft1 "FT-1" "Sim::partition/repair drop packets between two hosts; TCP retransmits with back-off and gives up after a documented number of tries.",
    Ft2 "FT-2" "Seeded per-link loss, duplication and reordering of datagrams; TCP hides them at the cost of virtual time.",
    Ft3 "FT-3" "Host::crash ends every process as if killed with no FIN or RST; peers learn by timeouts or a later RST.",
    Pl1 "PL-1" "WSAPoll reports requested and error events per entry, returns the count, 0 on timeout; bad flags -> WSAEINVAL; NULL array -> WSAEFAULT.",
    Pl2 "PL-2" "WSAPoll: a failed connect reports POLLHUP|POLLERR; a socket closed in another thread reports POLLNVAL and wakes the poll.",
    Ex1 "EX-1" "WSAIoctl returns extension function pointers by WSAID GUID and serves FIONBIO, FIONREAD, SIOCATMARK, keep-alive and base-handle ioctls.",
    Ex2 "EX-2" "AcceptEx completes on accept (and first data); bad address lengths or a used accept socket -> WSAEINVAL; SO_UPDATE_ACCEPT_CONTEXT.",
    Ex3 "EX-3" "ConnectEx needs a bound, unconnected stream socket; optional send data; SO_UPDATE_CONNECT_CONTEXT.",
    Ex4 "EX-4" "DisconnectEx closes gracefully and completes when the close does; TF_REUSE_SOCKET allows reuse.",
    Ex5 "EX-5" "WSASendMsg/WSARecvMsg carry WSAMSG with control data and MSG_TRUNC/MSG_CTRUNC.",
    Ex6 "EX-6" "Every extension operation is an overlapped operation: OV-1..OV-8, CL-5 and CS-6 apply.",
    Ex7 "EX-7" "GetQueuedCompletionStatusEx, PostQueuedCompletionStatus, CancelIo, CancelIoEx and GetOverlappedResult(Ex) with Win32 codes.",
    Du1 "DU-1" "WSADuplicateSocketW + WSASocketW(FROM_PROTOCOL_INFO) share a socket across processes; the last handle closes it.",
    Du2 "DU-2" "SetHandleInformation/GetHandleInformation store handle flags on sockets; a bad handle -> ERROR_INVALID_HANDLE.",
    Kw1 "KW-1" "GetLastError/SetLastError share the per-thread slot with WSAGetLastError/WSASetLastError.",
    Kw2 "KW-2" "kernel32 events and waits on events and thread handles in virtual time; alertable waits run APCs.",
    Kw3 "KW-3" "Sleep, tick counts, performance counter and system time read virtual time.",
}

impl Rule {
    /// The rule with this id (`"CL-5"`, case-insensitive), if SPEC.md has it.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL
            .iter()
            .copied()
            .find(|r| r.id().eq_ignore_ascii_case(id.trim()))
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_rule_is_listed_once() {
        // SPEC_IDS: every id of the shipped docs/SPEC.md, parsed by build.rs. A Rule the SPEC
        // lacks already fails the build (`spec!` has no arm for it); this catches the converse.
        assert_eq!(SPEC_IDS.len(), Rule::ALL.len(), "{SPEC_IDS:?}");
        for (id, rule) in SPEC_IDS.iter().zip(Rule::ALL) {
            assert_eq!(*id, rule.id(), "Rule must follow SPEC.md order");
        }
    }

    #[test]
    fn the_shipped_spec_is_the_projects() {
        // The project's SPEC.md lives in shared/ beside the repository (CI has it); the crate
        // ships a copy as docs/SPEC.md, which must not drift from it.
        let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/SPEC.md");
        let shipped = include_str!("../../docs/SPEC.md");
        let Ok(spec) = std::fs::read_to_string(shared) else {
            assert!(std::env::var_os("CI").is_none(), "CI must have {shared}");
            eprintln!("note: {shared} not found; docs/SPEC.md not compared");
            return;
        };
        assert!(
            spec == shipped,
            "docs/SPEC.md differs from {shared}: copy it (cp {shared} docs/SPEC.md)"
        );
    }

    #[test]
    fn every_rule_has_its_text_and_sources() {
        for r in Rule::ALL {
            assert!(!r.text().is_empty() && !r.text().starts_with("**"), "{r}");
            let sourced = r.sources().len();
            assert!(
                sourced > 0 || r.id().starts_with("ER-"),
                "{r} has no source"
            );
        }
        assert_eq!(Rule::Cl5.sources(), &[Source::Seed]);
        assert_eq!(Rule::Cl4.sources(), &[Source::Seed, Source::Sim]);
        assert_eq!(Rule::Op2.sources(), &[Source::Doc, Source::Sim]);
        assert!(Rule::Cl5
            .text()
            .ends_with("for inspection by the test (seed)."));
    }
}
