//! [`WsaError`]: every error the simulator can report, with its Windows value.

macro_rules! wsa_errors {
    ($( $(#[$doc:meta])* $variant:ident = $name:ident $code:literal $text:literal, )*) => {
        /// An error a Winsock call can report, one variant per Windows error code.
        ///
        /// [`code`](WsaError::code) is the value `WSAGetLastError` returns on Windows, and
        /// `Display` prints the symbolic name, the value and Windows' own message text:
        ///
        /// ```
        /// use ws2sim::WsaError;
        /// let e = WsaError::NotSocket;
        /// assert_eq!(e.code(), 10038);
        /// assert_eq!(e.name(), "WSAENOTSOCK");
        /// assert_eq!(WsaError::from_code(10038), Some(e));
        /// assert!(e.to_string().starts_with("WSAENOTSOCK (10038): "));
        /// // std::io::Error keeps the Windows value as its raw OS error.
        /// assert_eq!(std::io::Error::from(e).raw_os_error(), Some(10038));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
        #[repr(i32)]
        #[non_exhaustive]
        pub enum WsaError {
            $(
                $(#[$doc])*
                #[doc = concat!("`", stringify!($name), "` (", stringify!($code), "): ", $text)]
                #[error("{} ({}): {}", self.name(), self.code(), self.message())]
                $variant = $code,
            )*
        }

        /// The error values as the Windows headers name them (`WSAENOTSOCK`, ...), typed as
        /// windows-sys types them (`WSA_ERROR`, an `i32`). Re-exported by [`crate::consts`].
        pub mod codes {
            $(
                #[doc = concat!("`", stringify!($name), "`: ", $text)]
                pub const $name: i32 = $code;
            )*
        }

        impl WsaError {
            /// Every variant, in declaration order.
            pub const ALL: &'static [WsaError] = &[$(WsaError::$variant),*];

            /// The Windows error value (`WSAGetLastError`), e.g. 10038 for `WSAENOTSOCK`.
            pub const fn code(self) -> i32 {
                self as i32
            }

            /// The variant for a Windows error value, or `None` if the simulator never reports it.
            pub const fn from_code(code: i32) -> Option<WsaError> {
                match code {
                    $($code => Some(WsaError::$variant),)*
                    _ => None,
                }
            }

            /// The symbolic name from the Windows headers, e.g. `"WSAENOTSOCK"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(WsaError::$variant => stringify!($name),)*
                }
            }

            /// Windows' message text for this error (as `FormatMessage` gives it, in English).
            pub const fn message(self) -> &'static str {
                match self {
                    $(WsaError::$variant => $text,)*
                }
            }
        }
    };
}

wsa_errors! {
    /// Not an error code of its own in Winsock; `WSA_INVALID_HANDLE` is `ERROR_INVALID_HANDLE`.
    InvalidHandle = WSA_INVALID_HANDLE 6 "The handle is invalid.",
    NotEnoughMemory = WSA_NOT_ENOUGH_MEMORY 8 "Not enough memory resources are available to process this command.",
    InvalidParameter = WSA_INVALID_PARAMETER 87 "The parameter is incorrect.",
    /// `GetQueuedCompletionStatus` timing out sets `WAIT_TIMEOUT` as the last error.
    WaitTimeout = WAIT_TIMEOUT 258 "The wait operation timed out.",
    /// kernel32's (`CancelIoEx` found no such operation, [EX-7]).
    ///
    /// [EX-7]: crate::rules#ex-7
    NotFound = ERROR_NOT_FOUND 1168 "Element not found.",
    OperationAborted = WSA_OPERATION_ABORTED 995 "The I/O operation has been aborted because of either a thread exit or an application request.",
    IoIncomplete = WSA_IO_INCOMPLETE 996 "Overlapped I/O event is not in a signaled state.",
    IoPending = WSA_IO_PENDING 997 "Overlapped I/O operation is in progress.",
    Interrupted = WSAEINTR 10004 "A blocking operation was interrupted by a call to WSACancelBlockingCall.",
    AccessDenied = WSAEACCES 10013 "An attempt was made to access a socket in a way forbidden by its access permissions.",
    Fault = WSAEFAULT 10014 "The system detected an invalid pointer address in attempting to use a pointer argument in a call.",
    InvalidArgument = WSAEINVAL 10022 "An invalid argument was supplied.",
    TooManySockets = WSAEMFILE 10024 "Too many open sockets.",
    WouldBlock = WSAEWOULDBLOCK 10035 "A non-blocking socket operation could not be completed immediately.",
    InProgress = WSAEINPROGRESS 10036 "A blocking operation is currently executing.",
    Already = WSAEALREADY 10037 "An operation was attempted on a non-blocking socket that already had an operation in progress.",
    NotSocket = WSAENOTSOCK 10038 "An operation was attempted on something that is not a socket.",
    DestinationRequired = WSAEDESTADDRREQ 10039 "A required address was omitted from an operation on a socket.",
    MessageSize = WSAEMSGSIZE 10040 "A message sent on a datagram socket was larger than the internal message buffer or some other network limit, or the buffer used to receive a datagram into was smaller than the datagram itself.",
    ProtocolType = WSAEPROTOTYPE 10041 "A protocol was specified in the socket function call that does not support the semantics of the socket type requested.",
    NoProtocolOption = WSAENOPROTOOPT 10042 "An unknown, invalid, or unsupported option or level was specified in a getsockopt or setsockopt call.",
    ProtocolNotSupported = WSAEPROTONOSUPPORT 10043 "The requested protocol has not been configured into the system, or no implementation for it exists.",
    SocketTypeNotSupported = WSAESOCKTNOSUPPORT 10044 "The support for the specified socket type does not exist in this address family.",
    OperationNotSupported = WSAEOPNOTSUPP 10045 "The attempted operation is not supported for the type of object referenced.",
    AddressFamilyNotSupported = WSAEAFNOSUPPORT 10047 "An address incompatible with the requested protocol was used.",
    AddressInUse = WSAEADDRINUSE 10048 "Only one usage of each socket address (protocol/network address/port) is normally permitted.",
    AddressNotAvailable = WSAEADDRNOTAVAIL 10049 "The requested address is not valid in its context.",
    NetworkDown = WSAENETDOWN 10050 "A socket operation encountered a dead network.",
    NetworkUnreachable = WSAENETUNREACH 10051 "A socket operation was attempted to an unreachable network.",
    ConnectionAborted = WSAECONNABORTED 10053 "An established connection was aborted by the software in your host machine.",
    ConnectionReset = WSAECONNRESET 10054 "An existing connection was forcibly closed by the remote host.",
    NoBufferSpace = WSAENOBUFS 10055 "An operation on a socket could not be performed because the system lacked sufficient buffer space or because a queue was full.",
    IsConnected = WSAEISCONN 10056 "A connect request was made on an already connected socket.",
    NotConnected = WSAENOTCONN 10057 "A request to send or receive data was disallowed because the socket is not connected and (when sending on a datagram socket using a sendto call) no address was supplied.",
    Shutdown = WSAESHUTDOWN 10058 "A request to send or receive data was disallowed because the socket had already been shut down in that direction with a previous shutdown call.",
    TimedOut = WSAETIMEDOUT 10060 "A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond.",
    ConnectionRefused = WSAECONNREFUSED 10061 "No connection could be made because the target machine actively refused it.",
    HostUnreachable = WSAEHOSTUNREACH 10065 "A socket operation was attempted to an unreachable host.",
    ProcessLimit = WSAEPROCLIM 10067 "A limit on the number of tasks supported by the Windows Sockets implementation has been reached.",
    SystemNotReady = WSASYSNOTREADY 10091 "WSAStartup cannot function at this time because the underlying system it uses to provide network services is currently unavailable.",
    VersionNotSupported = WSAVERNOTSUPPORTED 10092 "The Windows Sockets version requested is not supported.",
    NotInitialised = WSANOTINITIALISED 10093 "Either the application has not called WSAStartup, or WSAStartup failed.",
    Disconnected = WSAEDISCON 10101 "Returned by WSARecv or WSARecvFrom to indicate the remote party has initiated a graceful shutdown sequence.",
    InvalidProcTable = WSAEINVALIDPROCTABLE 10104 "The procedure call table is invalid.",
    InvalidProvider = WSAEINVALIDPROVIDER 10105 "The requested service provider is invalid.",
    ProviderFailedInit = WSAEPROVIDERFAILEDINIT 10106 "The requested service provider could not be loaded or initialized.",
    ServiceNotFound = WSASERVICE_NOT_FOUND 10108 "No such service is known. The service cannot be found in the specified name space.",
    /// `getaddrinfo`'s `EAI_SERVICE`: a service that is not a port number.
    TypeNotFound = WSATYPE_NOT_FOUND 10109 "The specified class was not found.",
    /// `getaddrinfo`'s `EAI_NONAME`.
    HostNotFound = WSAHOST_NOT_FOUND 11001 "No such host is known.",
    /// `getaddrinfo`'s `EAI_AGAIN`.
    TryAgain = WSATRY_AGAIN 11002 "This is usually a temporary error during hostname resolution and means that the local server did not receive a response from an authoritative server.",
    /// `getaddrinfo`'s `EAI_FAIL`: also its answer to hints whose other members are not 0.
    NoRecovery = WSANO_RECOVERY 11003 "A non-recoverable error occurred during a database lookup.",
    /// A name that is valid but has no data of the requested type.
    NoData = WSANO_DATA 11004 "The requested name is valid, but no data of the requested type was found.",
}

impl From<WsaError> for std::io::Error {
    /// An `io::Error` whose `raw_os_error()` is the Windows value. On Windows its text is the
    /// system's; elsewhere the OS does not know the value, so the text is generic.
    fn from(e: WsaError) -> Self {
        std::io::Error::from_raw_os_error(e.code())
    }
}

impl WsaError {
    /// The Win32 error a kernel32 function (`GetOverlappedResult`, `GetQueuedCompletionStatus`)
    /// sets for this outcome of an overlapped operation, as `RtlNtStatusToDosError` maps the
    /// operation's NTSTATUS: a peer's reset is `ERROR_NETNAME_DELETED` (64), a local abort
    /// `ERROR_CONNECTION_ABORTED` (1236), a truncated datagram `ERROR_MORE_DATA` (234), a
    /// graceful close `ERROR_GRACEFUL_DISCONNECT` (1226), a bad handle `ERROR_INVALID_HANDLE`
    /// (6); the codes Win32 and Winsock share (995, 996, 997, 87) are themselves.
    ///
    /// ```
    /// use ws2sim::WsaError;
    /// assert_eq!(WsaError::ConnectionReset.win32_code(), 64);
    /// assert_eq!(WsaError::OperationAborted.win32_code(), 995);
    /// ```
    ///
    /// # Divergence
    /// Errors no overlapped operation of the simulator ends with keep their Winsock value.
    pub const fn win32_code(self) -> i32 {
        match self {
            WsaError::ConnectionReset => 64,
            WsaError::ConnectionAborted => 1236,
            WsaError::MessageSize => 234,
            WsaError::Disconnected => 1226,
            WsaError::NotSocket | WsaError::InvalidHandle => 6,
            WsaError::Fault => 998,                // ERROR_NOACCESS
            WsaError::OperationNotSupported => 50, // ERROR_NOT_SUPPORTED
            WsaError::ConnectionRefused => 1225,   // ERROR_CONNECTION_REFUSED
            WsaError::TimedOut => 121,             // ERROR_SEM_TIMEOUT
            other => other.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for &e in WsaError::ALL {
            assert!(seen.insert(e.code()), "duplicate code {}", e.code());
            assert_eq!(WsaError::from_code(e.code()), Some(e));
            assert!(e.to_string().contains(e.name()));
        }
        assert_eq!(WsaError::from_code(0), None);
        assert_eq!(WsaError::from_code(-1), None);
    }

    #[test]
    fn spec_values() {
        use WsaError::*;
        let expected = [
            (Interrupted, 10004),
            (Fault, 10014),
            (InvalidArgument, 10022),
            (WouldBlock, 10035),
            (InProgress, 10036),
            (NotSocket, 10038),
            (MessageSize, 10040),
            (NoProtocolOption, 10042),
            (OperationNotSupported, 10045),
            (NetworkDown, 10050),
            (ConnectionAborted, 10053),
            (ConnectionReset, 10054),
            (IsConnected, 10056),
            (NotConnected, 10057),
            (Shutdown, 10058),
            (VersionNotSupported, 10092),
            (NotInitialised, 10093),
            (Disconnected, 10101),
            (OperationAborted, 995),
            (IoIncomplete, 996),
            (IoPending, 997),
            (InvalidHandle, 6),
            (InvalidParameter, 87),
        ];
        for (e, code) in expected {
            assert_eq!(e.code(), code, "{}", e.name());
        }
    }

    #[test]
    fn io_error_keeps_windows_value() {
        let io: std::io::Error = WsaError::NotInitialised.into();
        assert_eq!(io.raw_os_error(), Some(10093));
    }
}
