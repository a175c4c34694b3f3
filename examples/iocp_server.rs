//! An IOCP echo server written the way Windows servers are: `AcceptEx` (looked up with
//! `WSAIoctl`) posted ahead of the clients, `WSARecv`/`WSASend` on a completion port, a pool
//! of worker threads draining it with `GetQueuedCompletionStatusEx`, and a shutdown by
//! `PostQueuedCompletionStatus`. Three clients on other hosts each send a line and read it
//! back.
//!
//! Then the same server runs again and its main thread calls the final `WSACleanup` while
//! receives and accepts are still pending: CL-5 aborts every one of them silently — each
//! `OVERLAPPED` reads `STATUS_CANCELLED`, but no completion packet is queued and no event is
//! set, so the workers never hear of them.
//!
//! ```text
//! cargo run --example iocp_server
//! ```
#![allow(unsafe_code)]

use std::net::SocketAddrV4;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use ws2sim::sys::*;
use ws2sim::{Process, Sim};

/// Completion keys: the listener's packets (AcceptEx), a client's, and the shutdown signal.
const LISTENER: usize = 1;
const CLIENT: usize = 2;
const SHUTDOWN: usize = 0xdead;
const WORKERS: usize = 2;
const ACCEPTS_AHEAD: usize = 2;
const PORT: u16 = 7000;
/// `sizeof(SOCKADDR_IN) + 16`: the room AcceptEx needs per address.
const ADDR_ROOM: u32 = 32;

/// What an operation was: the per-I/O context every IOCP server keeps, found from the
/// `OVERLAPPED*` a packet carries because the `OVERLAPPED` is its first field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Accept,
    Recv,
    Send,
}

#[repr(C)]
struct Io {
    ov: OVERLAPPED,
    what: What,
    socket: SOCKET,
    wsabuf: WSABUF,
    buf: [u8; 256],
}

impl Io {
    /// A new context, leaked: the simulated kernel writes it until the operation completes.
    fn new(what: What, socket: SOCKET) -> &'static mut Io {
        let io = Box::leak(Box::new(Io {
            ov: OVERLAPPED::default(),
            what,
            socket,
            wsabuf: WSABUF {
                len: 0,
                buf: null_mut(),
            },
            buf: [0; 256],
        }));
        io.wsabuf.buf = io.buf.as_mut_ptr();
        lock(&ALL).push(io as *mut Io as usize);
        io
    }
}

/// Every context started, for the report of what the final cleanup did.
static ALL: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static ECHOED: AtomicUsize = AtomicUsize::new(0);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The server's shared handles (plain values: the workers are simulated threads).
#[derive(Clone, Copy)]
struct Server {
    port: usize,
    listener: SOCKET,
    accept_ex: usize,
}

impl Server {
    unsafe fn accept_ex(
        self,
    ) -> unsafe extern "system-unwind" fn(
        SOCKET,
        SOCKET,
        *mut core::ffi::c_void,
        u32,
        u32,
        u32,
        *mut u32,
        *mut OVERLAPPED,
    ) -> BOOL {
        std::mem::transmute(self.accept_ex)
    }

    /// Posts one AcceptEx with a fresh accept socket.
    unsafe fn post_accept(self) {
        let s = WSASocketW(
            AF_INET as i32,
            SOCK_STREAM,
            IPPROTO_TCP,
            null(),
            0,
            WSA_FLAG_OVERLAPPED,
        );
        let io = Io::new(What::Accept, s);
        let r = (self.accept_ex())(
            self.listener,
            s,
            io.buf.as_mut_ptr().cast(),
            0,
            ADDR_ROOM,
            ADDR_ROOM,
            null_mut(),
            &mut io.ov,
        );
        assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
    }

    unsafe fn post_recv(self, s: SOCKET) {
        let io = Io::new(What::Recv, s);
        io.wsabuf.len = io.buf.len() as u32;
        let mut flags = 0u32;
        let r = WSARecv(s, &io.wsabuf, 1, null_mut(), &mut flags, &mut io.ov, None);
        assert!(
            r == 0 || WSAGetLastError() == WSA_IO_PENDING,
            "WSARecv: {}",
            WSAGetLastError()
        );
    }

    unsafe fn post_send(self, s: SOCKET, data: &[u8]) {
        let io = Io::new(What::Send, s);
        io.buf[..data.len()].copy_from_slice(data);
        io.wsabuf.len = data.len() as u32;
        let r = WSASend(s, &io.wsabuf, 1, null_mut(), 0, &mut io.ov, None);
        assert!(
            r == 0 || WSAGetLastError() == WSA_IO_PENDING,
            "WSASend: {}",
            WSAGetLastError()
        );
    }

    /// A worker: drains the port in batches until it gets the shutdown packet.
    unsafe fn work(self, me: usize) {
        let mut entries = [OVERLAPPED_ENTRY::default(); 8];
        loop {
            let mut n = 0;
            let ok = GetQueuedCompletionStatusEx(
                self.port as HANDLE,
                entries.as_mut_ptr(),
                entries.len() as u32,
                &mut n,
                WSA_INFINITE,
                FALSE,
            );
            assert_eq!(ok, TRUE, "GetQueuedCompletionStatusEx: {}", GetLastError());
            for e in &entries[..n as usize] {
                if e.lpCompletionKey == SHUTDOWN {
                    println!("  worker {me}: shutdown packet, exiting");
                    return;
                }
                let io = &mut *(e.lpOverlapped as *mut Io);
                let bytes = e.dwNumberOfBytesTransferred as usize;
                if e.Internal != 0 {
                    println!(
                        "  worker {me}: {:?} on {:#x} failed (status {:#x})",
                        io.what, io.socket, e.Internal
                    );
                    continue;
                }
                match io.what {
                    What::Accept => {
                        let s = io.socket;
                        let l = self.listener;
                        let r = setsockopt(
                            s,
                            SOL_SOCKET,
                            SO_UPDATE_ACCEPT_CONTEXT,
                            (&l as *const SOCKET).cast(),
                            8,
                        );
                        assert_eq!(r, 0);
                        let (mut local, mut remote) = (null_mut(), null_mut());
                        let (mut ll, mut rl) = (0, 0);
                        GetAcceptExSockaddrs(
                            io.buf.as_ptr().cast(),
                            0,
                            ADDR_ROOM,
                            ADDR_ROOM,
                            &mut local,
                            &mut ll,
                            &mut remote,
                            &mut rl,
                        );
                        let peer = SocketAddrV4::from(*(remote as *const SOCKADDR_IN));
                        println!("  worker {me}: accepted {peer} on {s:#x}");
                        CreateIoCompletionPort(s as HANDLE, self.port as HANDLE, CLIENT, 0);
                        self.post_recv(s);
                        self.post_accept();
                    }
                    What::Recv if bytes == 0 => {
                        println!("  worker {me}: {:#x} closed by its client", io.socket);
                        closesocket(io.socket);
                    }
                    What::Recv => {
                        let line = String::from_utf8_lossy(&io.buf[..bytes]).into_owned();
                        println!(
                            "  worker {me}: {bytes} bytes on {:#x}: {line:?}, echoing",
                            io.socket
                        );
                        self.post_send(io.socket, &io.buf[..bytes]);
                        ECHOED.fetch_add(1, Ordering::SeqCst);
                    }
                    What::Send => self.post_recv(io.socket),
                }
            }
        }
    }
}

/// Starts the server in `p`: listener, port, AcceptEx posted ahead, workers spawned.
fn start(p: &Process, addr: SOCKADDR_IN) -> (Server, Vec<ws2sim::ThreadHandle<()>>) {
    let server = p.run(|| unsafe {
        let mut d: WSADATA = std::mem::zeroed();
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        let l = WSASocketW(
            AF_INET as i32,
            SOCK_STREAM,
            IPPROTO_TCP,
            null(),
            0,
            WSA_FLAG_OVERLAPPED,
        );
        assert_eq!(bind(l, (&addr as *const SOCKADDR_IN).cast(), 16), 0);
        assert_eq!(listen(l, SOMAXCONN as i32), 0);
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert_eq!(CreateIoCompletionPort(l as HANDLE, port, LISTENER, 0), port);
        let (mut f, mut n): (LPFN_ACCEPTEX, u32) = (None, 0);
        let guid = WSAID_ACCEPTEX;
        let r = WSAIoctl(
            l,
            SIO_GET_EXTENSION_FUNCTION_POINTER,
            (&guid as *const GUID).cast(),
            16,
            (&mut f as *mut LPFN_ACCEPTEX).cast(),
            8,
            &mut n,
            null_mut(),
            None,
        );
        assert_eq!(r, 0);
        let server = Server {
            port: port as usize,
            listener: l,
            accept_ex: f.expect("AcceptEx") as usize,
        };
        for _ in 0..ACCEPTS_AHEAD {
            server.post_accept();
        }
        server
    });
    let workers = (0..WORKERS)
        .map(|i| p.spawn(move || unsafe { server.work(i) }))
        .collect();
    (server, workers)
}

/// A client on its own host: connects, sends `line`, reads the echo, and (when `close`)
/// closes.
fn client(
    sim: &Sim,
    i: usize,
    addr: SOCKADDR_IN,
    line: String,
    close: bool,
) -> ws2sim::ThreadHandle<String> {
    let p = sim.host(&format!("client{i}")).process("client");
    p.spawn(move || unsafe {
        let mut d: WSADATA = std::mem::zeroed();
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        let c = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
        assert_eq!(connect(c, (&addr as *const SOCKADDR_IN).cast(), 16), 0);
        assert_eq!(
            send(c, line.as_ptr(), line.len() as i32, 0),
            line.len() as i32
        );
        let mut buf = [0u8; 256];
        let n = recv(c, buf.as_mut_ptr(), buf.len() as i32, 0);
        let echo = String::from_utf8_lossy(&buf[..n.max(0) as usize]).into_owned();
        if close {
            closesocket(c);
            WSACleanup();
        }
        echo
    })
}

fn main() {
    let sim = Sim::builder().seed(7).build();
    let server_host = sim.host("server");
    let addr = SOCKADDR_IN::from(SocketAddrV4::new(server_host.addr(), PORT));

    println!("== 1. an IOCP echo server, three clients, a graceful shutdown");
    let p = server_host.process("iocp-server");
    let (server, workers) = start(&p, addr);
    let clients: Vec<_> = (0..3)
        .map(|i| client(&sim, i, addr, format!("hello from client {i}"), true))
        .collect();
    for (i, c) in clients.into_iter().enumerate() {
        let echo = c.join();
        assert_eq!(echo, format!("hello from client {i}"));
        println!("  client {i} read back {echo:?}");
    }
    sim.advance(std::time::Duration::from_millis(10));
    p.run(|| unsafe {
        for _ in 0..WORKERS {
            assert_eq!(
                PostQueuedCompletionStatus(server.port as HANDLE, 0, SHUTDOWN, null()),
                TRUE
            );
        }
    });
    for w in workers {
        w.join();
    }
    p.run(|| unsafe {
        // Closing the listener aborts the AcceptEx still posted (CS-6): their packets are
        // queued, and nobody is left to read them.
        closesocket(server.listener);
        CloseHandle(server.port as HANDLE);
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!(ECHOED.load(Ordering::SeqCst), 3);
    println!("  echoed 3 lines; listener closed; WSACleanup() = 0");

    println!("== 2. the same server, killed by the final WSACleanup mid-flight");
    lock(&ALL).clear();
    let p = server_host.process("iocp-server-2");
    let (server, workers) = start(&p, addr);
    // Two clients connect and are echoed once; they keep their connections open, so each
    // has a WSARecv pending on the server, and AcceptEx calls wait for the next ones.
    let clients: Vec<_> = (0..2)
        .map(|i| client(&sim, 10 + i, addr, format!("still here {i}"), false))
        .collect();
    for c in clients {
        c.join();
    }
    sim.advance(std::time::Duration::from_millis(10));
    let pending: Vec<usize> = lock(&ALL)
        .iter()
        .copied()
        .filter(|&io| unsafe { (*(io as *const Io)).ov.Internal } == 0x103)
        .collect();
    println!("  pending before the cleanup:");
    for &io in &pending {
        let io = unsafe { &*(io as *const Io) };
        println!(
            "    {:?} on {:#x}: Internal {:#x} (STATUS_PENDING)",
            io.what, io.socket, io.ov.Internal
        );
    }
    p.run(|| unsafe {
        assert_eq!(WSACleanup(), 0); // the final one: CL-5
        let mut entries = [OVERLAPPED_ENTRY::default(); 8];
        let mut n = 0;
        let r = GetQueuedCompletionStatusEx(server.port as HANDLE, entries.as_mut_ptr(), 8, &mut n, 0, FALSE);
        assert_eq!((r, n, GetLastError()), (FALSE, 0, WAIT_TIMEOUT as u32));
        println!("  WSACleanup() = 0; the port has no packet (GetQueuedCompletionStatusEx: WAIT_TIMEOUT)");
    });
    println!("  after the cleanup (CL-5: aborted, no completion indicated):");
    for &io in &pending {
        let io = unsafe { &*(io as *const Io) };
        assert_eq!(io.ov.Internal, 0xC000_0120);
        println!(
            "    {:?} on {:#x}: Internal {:#x} (STATUS_CANCELLED)",
            io.what, io.socket, io.ov.Internal
        );
    }
    // The port is a kernel object: it outlives Ws2_32, and the workers still wait on it.
    p.run(|| unsafe {
        for _ in 0..WORKERS {
            PostQueuedCompletionStatus(server.port as HANDLE, 0, SHUTDOWN, null());
        }
    });
    for w in workers {
        w.join();
    }
    p.run(|| unsafe { CloseHandle(server.port as HANDLE) });
    println!("== done at {:?} of virtual time", sim.now());
}
