//! # Divergences
//!
//! Every place where the simulator knowingly does something other than Windows or its
//! documentation, or picks a reading of its own where the [specification](crate::rules) leaves
//! one open. Each is explained under `# Divergence` in the item's rustdoc; this page lists them
//! all, with the file that holds the note. Items inside the simulator's core are not part of the
//! public API: their entry names the public call where the behaviour shows.
//!
//! `tests/divergences_index.rs` scans `src/` and fails when a `# Divergence` section is missing
//! here, so the list cannot go stale.
//!
//! ## Startup, cleanup and the process
//!
//! - [`WSACleanup`](crate::sys::WSACleanup) (`src/sys/mod.rs`): with the network failed
//!   ([CL-11](crate::rules#cl-11)) it returns `WSAENETDOWN` after counting down, and the final
//!   cleanup is still performed when the count reaches 0.
//! - [`Process::negotiated_version`](crate::Process::negotiated_version)
//!   (`src/sim/process.rs`): the lowest version negotiated since the state was created, as
//!   ReactOS keeps it, not "by any live startup" ([ST-5](crate::rules#st-5)), which is not
//!   observable.
//! - [`Sim::diagnostics`](crate::Sim::diagnostics) (`src/sim/mod.rs`): where Windows may
//!   deadlock ([CL-12](crate::rules#cl-12)) or is undefined ([SD-13](crate::rules#sd-13)) the
//!   simulator records a diagnostic and goes on.
//! - [`WSAIsBlocking`](crate::sys::WSAIsBlocking) (`src/sys/threads.rs`): under Winsock 2 it
//!   also reports TRUE inside an APC that interrupted a blocking call.
//!
//! ## Sockets, addresses and the network
//!
//! - [`socket`](crate::sys::socket) (`src/sys/mod.rs`): a successful `socket`/`WSASocketW`
//!   (and `setsockopt`, `ioctlsocket`) leaves the last error 0, as Windows does in Wine's tests;
//!   every socket is overlapped-capable.
//! - [`bind`](crate::sys::bind) (`src/sys/net.rs`): a port is taken per host and protocol, so
//!   127.0.0.1:p and 10.0.0.N:p cannot both be bound; a socket bound to loopback receives only
//!   from its own host.
//! - [`connect`](crate::sys::connect) (`src/sys/net.rs`): an address no host has times out
//!   after 21 s of virtual time; a full backlog refuses at once (`WSAECONNREFUSED`).
//! - [`sendto`](crate::sys::sendto) (`src/sys/net.rs`): a datagram to an unbound port is dropped
//!   silently; there is no ICMP port-unreachable, so no later `WSAECONNRESET`.
//! - [`WSAIoctl`](crate::sys::WSAIoctl) (`src/sys/control.rs`): the TransmitFile and
//!   TransmitPackets functions are not served (their GUIDs fail `WSAEINVAL`); an overlapped
//!   `SIO_KEEPALIVE_VALS` writes `*lpcbBytesReturned`; the extension functions are
//!   `extern "system-unwind"`.
//! - [`AcceptEx`](crate::sys::AcceptEx) (`src/sys/mswsock.rs`): [EX-2](crate::rules#ex-2) says
//!   an address length below `sizeof(SOCKADDR_IN) + 16` fails `WSAEINVAL`; Windows accepts a
//!   local length of 0, fails a remote length of 0 `WSAEFAULT` at once, and fails a short
//!   non-zero length only when a connection arrives (`STATUS_BUFFER_TOO_SMALL`, leaving the
//!   connection queued), and the simulator follows Windows (win: `test_AcceptEx`). That
//!   completion reads `WSAEFAULT` from `WSAGetOverlappedResult` as on Windows, but kernel32
//!   reports `ERROR_NOACCESS` (998) where Windows reports `ERROR_INSUFFICIENT_BUFFER` (122).
//!   The output buffer's address layout is Wine's (an `i32` length, then the `SOCKADDR`).
//!   `SO_UPDATE_ACCEPT_CONTEXT`'s own errors (a short value `WSAEFAULT`, no socket
//!   `WSAENOTSOCK`, not a listener `WSAEINVAL`, not connected `WSAENOTCONN`) are the
//!   simulator's choice; Windows' tests show only the success.
//! - [`ConnectEx`](crate::sys::ConnectEx) (`src/sys/control.rs`): `SO_UPDATE_CONNECT_CONTEXT`
//!   is accepted but gates nothing: `getpeername` and `shutdown` work right after the
//!   connection, as under Wine, although [EX-3](crate::rules#ex-3) says the option enables them.
//! - [`WSADuplicateSocketW`](crate::sys::WSADuplicateSocketW) (`src/sys/mod.rs`): the
//!   `WSAPROTOCOL_INFOW` must be used while a handle of the socket is open.
//! - `du_1` (`src/core/providers/duplicate.rs`, internal; seen in
//!   [`WSADuplicateSocketW`](crate::sys::WSADuplicateSocketW)): the info is an offer, not a
//!   handle: once the socket's last open handle closes, an unused one lapses and `WSASocketW`
//!   with it fails `WSAEINVAL` (Windows duplicates the handle at once). Network events are
//!   reported to the oldest open handle only.
//! - [`DisconnectEx`](crate::sys::DisconnectEx) (`src/sys/mswsock.rs`): the close completes
//!   when the FIN is acknowledged (the simulator's reading of "when the close completes");
//!   `TF_REUSE_SOCKET` gives the handle a fresh endpoint at once instead of after TIME_WAIT.
//! - [`WSARecvMsg`](crate::sys::WSARecvMsg) (`src/sys/control.rs`): no `IPV6_PKTINFO` yet;
//!   the interface indexes are 1 (loopback) and 2.
//! - [`WSASendMsg`](crate::sys::WSASendMsg) (`src/sys/control.rs`): the control data is not
//!   interpreted (no source address chosen by `IN_PKTINFO`).
//! - [`recv`](crate::sys::recv) (`src/sys/net.rs`): after a reset, bytes already received stay
//!   readable and `WSAECONNRESET` comes once they are read; `WSAEDISCON` is never returned.
//! - `close_network` (`src/core/providers/net.rs`, internal; seen in
//!   [`closesocket`](crate::sys::closesocket)): data counts as sent once acknowledged
//!   ([CS-4](crate::rules#cs-4), [CS-5](crate::rules#cs-5)), and closing with unread received
//!   data resets the connection.
//! - `op_1` (`src/core/providers/sockopt.rs`, internal; seen in
//!   [`setsockopt`](crate::sys::setsockopt)): an unknown level fails `WSAEINVAL` as on Windows,
//!   not `WSAENOPROTOOPT` as [OP-1](crate::rules#op-1) says; with no `AF_INET6` sockets,
//!   `IPPROTO_IPV6` on an `AF_INET` socket fails `WSAEINVAL`; the IP multicast, TOS and
//!   don't-fragment options are stored but change nothing on the network; `IPPROTO_UDP` has
//!   no option.
//! - `op_4` (`src/core/providers/sockopt.rs`, internal; seen in [`bind`](crate::sys::bind)):
//!   of sockets sharing a port through `SO_REUSEADDR`, the one bound last receives
//!   ([OP-4](crate::rules#op-4)); there is one user, so no enhanced socket security.
//! - `op_6` (`src/core/providers/net.rs`, internal; seen in [`sendto`](crate::sys::sendto)):
//!   multicast datagrams are not delivered ([OP-6](crate::rules#op-6)).
//! - `set` (`src/core/providers/sockopt.rs`, internal; seen in
//!   [`setsockopt`](crate::sys::setsockopt)): a negative `optlen` fails `WSAEFAULT` for every
//!   option.
//! - [`setsockopt`](crate::sys::setsockopt) (`src/sys/mod.rs`): the caller-visible sum of the
//!   `op_1` and `set` entries: a negative `optlen` fails `WSAEFAULT` for every option, an
//!   unknown level `WSAEINVAL` (not [OP-1](crate::rules#op-1)'s `WSAENOPROTOOPT`), and the
//!   multicast, TOS and don't-fragment options change nothing on the network.
//! - [`register_name`](crate::api::register_name) (`src/api/mod.rs`): one flat, simulation-wide
//!   map from names to IPv4 addresses instead of `WSAQUERYSETW` records and namespace providers.
//! - `addr_text` (`src/core/ws2/addr_text.rs`, internal; seen in
//!   [`inet_pton`](crate::sys::inet_pton) and [`WSAStringToAddressW`](crate::sys::WSAStringToAddressW)):
//!   a malformed string leaves the buffer untouched (Windows sometimes writes part of the
//!   address first); `inet_ntop` with a NULL or short buffer fails `WSAEINVAL`, as Windows 7
//!   does (later versions report `STATUS_INVALID_PARAMETER`, not a Winsock code); IPv6 text
//!   compresses the first longest run of two or more zero groups ([AD-5](crate::rules#ad-5)).
//! - `resolve` (`src/core/ws2/resolve.rs`, internal; seen in
//!   [`getaddrinfo`](crate::sys::getaddrinfo)): no DNS, hosts or services file, so unknown
//!   names fail `WSAHOST_NOT_FOUND` and a service must be a port number (`WSATYPE_NOT_FOUND`);
//!   `"[addr]:port"` nodes are refused; results carry the hints' type and protocol once per
//!   address, with `ai_flags` 0; a NULL `ppResult` fails `WSAEINVAL`
//!   ([AD-4](crate::rules#ad-4)).
//! - `kw_2_object` (`src/core/events.rs`, internal; seen in
//!   [`WaitForSingleObject`](crate::sys::WaitForSingleObject)): only events and completion
//!   ports are kernel objects (no thread, mutex or semaphore handles); `CloseHandle` on a
//!   socket fails `ERROR_INVALID_HANDLE`; event names are ignored ([KW-2](crate::rules#kw-2)).
//! - `names` (`src/core/ws2/names.rs`, internal; seen in
//!   [`register_name`](crate::api::register_name)): the same map, kept by Ws2_32, enough to show
//!   [CL-9](crate::rules#cl-9).
//!
//! ## The catalog and providers
//!
//! - [`WSAEnumProtocolsW`](crate::sys::WSAEnumProtocolsW) (`src/sys/mod.rs`): a NULL
//!   `lpdwBufferLength` fails `WSAEFAULT`; a NULL buffer always fails `WSAENOBUFS` with the
//!   needed length, as Wine does.
//! - `Catalog::builtin` (`src/core/catalog.rs`, internal; seen in
//!   [`WSAEnumProtocolsW`](crate::sys::WSAEnumProtocolsW)): IPv4 TCP and UDP only, so
//!   `socket(AF_INET6, ..)` fails `WSAEAFNOSUPPORT` and `SOCK_RAW` `WSAESOCKTNOSUPPORT`; UDP's
//!   `dwMessageSize` is 65527 as on Windows 7+.
//! - `entries` (`src/core/providers/disconnect.rs`, internal; seen in
//!   [`DISCONNECT_DATA_PROVIDER`](crate::spi::DISCONNECT_DATA_PROVIDER)): the disconnect-data
//!   provider is ws2sim's own (Windows ships none), so [SD-3](crate::rules#sd-3) can be
//!   exercised.
//! - [`MAX_DISCONNECT_DATA`](crate::MAX_DISCONNECT_DATA) (`src/core/providers/net.rs`): that
//!   provider takes up to 64 bytes of disconnect data; more fails `WSAEFAULT`
//!   ([SD-5](crate::rules#sd-5)).
//! - [`spi`](crate::spi) (`src/spi/mod.rs`): one handle per socket for the whole protocol chain;
//!   Ws2_32 loads every provider of a chain itself; user providers are layered; event selection
//!   is served by Ws2_32; a provider instance outlives the final cleanup.
//! - [`Overlapped`](crate::spi::Overlapped) (`src/core/provider.rs`): a layered provider sees an
//!   overlapped operation but cannot rewrite its data or complete it itself.
//!
//! ## Overlapped I/O and errors
//!
//! - [`WSASend`](crate::sys::WSASend) (`src/sys/overlapped.rs`): a send's bytes reach the
//!   providers as one slice; a non-overlapped send with several `WSABUF`s is gathered before a
//!   too-large datagram fails `WSAEMSGSIZE` (overlapped sends and single buffers are not).
//! - [`WSARecv`](crate::sys::WSARecv) (`src/sys/overlapped.rs`): every socket accepts overlapped
//!   operations, with or without `WSA_FLAG_OVERLAPPED`.
//! - [`CreateIoCompletionPort`](crate::sys::CreateIoCompletionPort) (`src/sys/overlapped.rs`):
//!   an operation with a completion routine on an associated socket posts its packet too, and
//!   its `hEvent` is left alone.
//! - `ex_7` (`src/core/ports.rs`, internal; seen in
//!   [`GetOverlappedResult`](crate::sys::GetOverlappedResult),
//!   [`GetQueuedCompletionStatusEx`](crate::sys::GetQueuedCompletionStatusEx)): NULL pointers
//!   and an empty entry array fail `ERROR_INVALID_PARAMETER` instead of an access violation;
//!   waiting on a record nothing will complete is reported as a deadlock.
//! - [`WsaError::win32_code`](crate::WsaError::win32_code) (`src/error.rs`): errors no
//!   overlapped operation ends with keep their Winsock value.
//! - `pl_1_poll` (`src/core/events.rs`, internal; seen in [`WSAPoll`](crate::sys::WSAPoll)):
//!   out-of-band data is not modelled, so `POLLRDBAND` never holds.
//! - [`WSAEnumNetworkEvents`](crate::sys::WSAEnumNetworkEvents) (`src/sys/events.rs`): a bogus
//!   event handle fails `WSAEINVAL`, of the documented errors the one that fits.
//!
//! - `du_2_handle_flags` (`src/core/ws2/mod.rs`, internal; seen in
//!   [`SetHandleInformation`](crate::sys::SetHandleInformation)): `HANDLE_FLAG_PROTECT_FROM_CLOSE`
//!   is stored and read back but does not stop `closesocket`.
//!
//! ## Threads and time
//!
//! - `kw_3_clock` (`src/core/ws2/mod.rs`, internal; seen in
//!   [`GetTickCount`](crate::sys::GetTickCount) and
//!   [`GetSystemTimeAsFileTime`](crate::sys::GetSystemTimeAsFileTime)): tick counts start at 0
//!   when the simulation does, and the system time is 2000-01-01 00:00:00 UTC plus virtual time.
//! - [`GetLastError`](crate::sys::GetLastError) (`src/sys/threads.rs`): on Linux
//!   `std::io::Error::last_os_error()` reads `errno`, not the simulated last-error slot; read
//!   `GetLastError()` or `WSAGetLastError()`, which work on both.
//! - `spin` (`src/sim/spin.rs`, internal; seen in
//!   [`SimBuilder::spin_limit`](crate::SimBuilder::spin_limit)): [TH-8](crate::rules#th-8)
//!   counts polls that found nothing to do (a `WSAEWOULDBLOCK`, a wait or `select` that timed
//!   out), not every call, so a long run of calls that all make progress is no livelock.
