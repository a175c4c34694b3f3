//! The per-socket SPI calls, written once: each row is a `WSP*` function's name, its
//! [`Request`](super::request::Request) variant, its arguments after the socket, and what it
//! returns. Three expanders make from it the [`Provider`](super::provider::Provider) trait's
//! default methods (each sends its request to `Provider::handle`), the
//! [`Lower`](super::provider::Lower) methods that call the provider below in the socket's
//! chain, and `Lower::handle`, which turns a request back into that method call. So a
//! per-socket SPI signature is written here and in the providers that override it, nowhere
//! else.
//!
//! This file holds no behaviour: the built-in providers decide every call.

/// Calls `$expander!` with the table of per-socket SPI calls.
macro_rules! per_socket_calls {
    ($expander:ident) => {
        $expander! {
            /// `WSPCloseSocket`.
            close_socket "`WSPCloseSocket`" CloseSocket () -> ();
            /// `WSPBind`: `addr` holds `namelen` bytes (`None`: NULL).
            bind "`WSPBind`" Bind (addr: Option<&[u8]>) -> ();
            /// `WSPListen`.
            listen "`WSPListen`" Listen (backlog: i32) -> ();
            /// `WSPAccept`: the new socket; `addr` and `len` as the caller passed them.
            accept "`WSPAccept`" Accept (addr: Option<&mut [u8]>, len: Option<&mut i32>) -> Socket;
            /// `WSPConnect`.
            connect "`WSPConnect`" Connect (addr: Option<&[u8]>) -> ();
            /// `WSPSend` without `lpOverlapped`: the bytes taken.
            send "`WSPSend`" Send (buf: Option<&[u8]>, len: i32, flags: i32) -> usize;
            /// `WSPSendTo` without `lpOverlapped`.
            send_to "`WSPSendTo`" SendTo
                (buf: Option<&[u8]>, len: i32, flags: i32, to: Option<&[u8]>) -> usize;
            /// `WSPRecv` without `lpOverlapped`: the bytes received (0: the peer closed).
            recv "`WSPRecv`" Recv (buf: Option<&mut [u8]>, len: i32, flags: i32) -> usize;
            /// `WSPRecvFrom` without `lpOverlapped`.
            recv_from "`WSPRecvFrom`" RecvFrom (
                buf: Option<&mut [u8]>,
                len: i32,
                flags: i32,
                from: Option<&mut [u8]>,
                from_len: Option<&mut i32>
            ) -> usize;
            /// `WSPSend`/`WSPSendTo`/`WSPRecv`/`WSPRecvFrom` with `lpOverlapped`: the bytes
            /// moved when it completed at once, else `WSA_IO_PENDING` as the error.
            start_overlapped "an overlapped operation" StartOverlapped (op: Overlapped) -> usize;
            /// `WSPGetOverlappedResult` for the `OVERLAPPED` at address `overlapped`, whose
            /// `(Internal, InternalHigh)` `record` reads (OV-5: the answer comes from the
            /// record; `None`: an operation of the safe API, which has no record).
            get_overlapped_result "`WSPGetOverlappedResult`" GetOverlappedResult (
                overlapped: Option<usize>,
                record: Option<Record<'_>>,
                wait: bool,
                has_bytes: bool
            ) -> usize;
            /// `WSPShutdown`.
            shutdown "`WSPShutdown`" Shutdown (how: i32) -> ();
            /// `WSPSendDisconnect` (`None`: a NULL `lpOutboundDisconnectData`).
            send_disconnect "`WSPSendDisconnect`" SendDisconnect (data: Option<WsaBufIn<'_>>) -> ();
            /// `WSPRecvDisconnect` (`None`: a NULL `lpInboundDisconnectData`).
            recv_disconnect "`WSPRecvDisconnect`" RecvDisconnect (data: Option<WsaBufOut<'_>>) -> ();
            /// `WSPGetSockOpt`: `value` has `max(*len, 0)` bytes; `*len` is written back.
            get_sock_opt "`WSPGetSockOpt`" GetSockOpt (
                level: i32,
                name: i32,
                value: Option<&mut [u8]>,
                len: Option<&mut i32>
            ) -> ();
            /// `WSPSetSockOpt`: `value` has `max(len, 0)` bytes.
            set_sock_opt "`WSPSetSockOpt`" SetSockOpt
                (level: i32, name: i32, value: Option<&[u8]>, len: i32) -> ();
            /// `WSPIoctl` for `ioctlsocket`'s commands (`FIONBIO`, `FIONREAD`).
            ioctl "`WSPIoctl`" Ioctl (cmd: i32, arg: Option<&mut u32>) -> ();
            /// `WSPDuplicateSocket` (DU-1): a token for `process`'s `WSPSocket` to open the same
            /// socket by; the built-in providers share the endpoint.
            duplicate_socket "`WSPDuplicateSocket`" DuplicateSocket (process: u32) -> u32;
            /// `WSPIoctl` for `WSAIoctl` (EX-1): the control `code` with the caller's input and
            /// output buffers; the built-in providers serve the codes listed at
            /// [`WSAIoctl`](crate::sys::WSAIoctl).
            control "`WSPIoctl` for `WSAIoctl`" Control
                (code: u32, input: Option<&[u8]>, output: Option<&mut [u8]>) -> Control;
            /// `WSPGetSockName`.
            sock_name "`WSPGetSockName`" SockName
                (addr: Option<&mut [u8]>, len: Option<&mut i32>) -> ();
            /// `WSPGetPeerName`.
            peer_name "`WSPGetPeerName`" PeerName
                (addr: Option<&mut [u8]>, len: Option<&mut i32>) -> ();
        }
    };
}

/// The `Provider` trait's default methods: each sends its request to `handle`.
macro_rules! provider_defaults {
    ($( $(#[$doc:meta])* $name:ident $wsp:literal $variant:ident
        ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty; )*) => {
        $(
            $(#[$doc])*
            #[allow(clippy::too_many_arguments)]
            fn $name(&mut self, spi: &mut Spi<'_>, s: Socket, $($arg: $ty),*) -> Result<$ret, Stop> {
                <$ret as FromResponse>::from_response(
                    self.handle(spi, Request::$variant { s, $($arg),* })?,
                )
            }
        )*
    };
}

/// `Lower`'s methods: each calls the provider below in the socket's chain.
macro_rules! lower_forwarding {
    ($( $(#[$doc:meta])* $name:ident $wsp:literal $variant:ident
        ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty; )*) => {
        $(
            #[doc = concat!($wsp, " below: the next provider in the socket's chain.")]
            #[allow(clippy::too_many_arguments)]
            pub fn $name(self, s: Socket, $($arg: $ty),*) -> Result<$ret, Stop> {
                self.call_on(s, |p, spi| p.$name(spi, s, $($arg),*))
            }
        )*
    };
}

/// `Lower::handle`: a request turned back into the lower provider's method call.
macro_rules! lower_handle {
    ($( $(#[$doc:meta])* $name:ident $wsp:literal $variant:ident
        ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty; )*) => {
        /// Any SPI call below, as data: each request goes to the lower provider's own method
        /// for it (so its overrides apply), and the answer comes back as a [`Response`].
        pub fn handle(self, request: Request<'_>) -> Result<Response, Stop> {
            match request {
                Request::Socket(args) => self.socket(args).map(Response::Socket),
                Request::CancelBlockingCall => {
                    self.cancel_blocking_call().map(FromResponse::into_response)
                }
                $(
                    Request::$variant { s, $($arg),* } => {
                        self.$name(s, $($arg),*).map(FromResponse::into_response)
                    }
                )*
            }
        }
    };
}
