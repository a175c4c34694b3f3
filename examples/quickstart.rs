//! The quick start: a Winsock program's startup counting, a socket's life and the final
//! cleanup, run in the simulator, then the trace of every call with the SPEC rules behind it.
//!
//! ```text
//! cargo run --example quickstart            # readable trace
//! cargo run --example quickstart -- --json > trace.jsonl  # JSON lines (the story on stderr)
//! ```
#![allow(unsafe_code)]

use ws2sim::sys::*;
use ws2sim::Sim;

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let sim = Sim::builder().seed(7).build();
    let app = sim.localhost().process("app");

    app.run(|| unsafe {
        let mut data: WSADATA = std::mem::zeroed();
        say("A library and the program each call WSAStartup: Ws2_32 counts them (ST-4).");
        assert_eq!(WSAStartup(0x0202, &mut data), 0);
        assert_eq!(WSAStartup(0x0101, &mut data), 0);

        say("A TCP socket, with linger on for 5 seconds.");
        let s = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
        assert_ne!(s, INVALID_SOCKET);
        let linger = LINGER { l_onoff: 1, l_linger: 5 };
        let ok = setsockopt(s, SOL_SOCKET, SO_LINGER, (&linger as *const LINGER).cast(), 4);
        assert_eq!(ok, 0);

        say("The library's WSACleanup only decrements the count (CL-2): the socket lives on.");
        assert_eq!(WSACleanup(), 0);
        let mut ty = 0i32;
        let mut len = 4;
        assert_eq!(getsockopt(s, SOL_SOCKET, SO_TYPE, (&mut ty as *mut i32).cast(), &mut len), 0);

        say("The program's WSACleanup is the final one: open sockets are reset and freed (CL-6, CL-8).");
        assert_eq!(WSACleanup(), 0);

        say("After a restart the old handle is dead for good (CS-1, ER-2).");
        assert_eq!(WSAStartup(0x0202, &mut data), 0);
        assert_eq!(closesocket(s), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSAENOTSOCK);
        assert_eq!(WSACleanup(), 0);
        say("And one WSACleanup too many fails (CL-1).");
        assert_eq!(WSACleanup(), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSANOTINITIALISED);
    });
    assert_eq!(app.live_resources(), 0);

    if json {
        // Standard output holds the trace alone, for `ws2sim trace text|mermaid|json`.
        print!("{}", sim.trace().to_json_lines());
    } else {
        println!("\nTrace (seed {}):", sim.seed());
        print!("{}", sim.trace());
    }
}

fn say(s: &str) {
    if std::env::args().any(|a| a == "--json") {
        eprintln!("- {s}");
    } else {
        println!("- {s}");
    }
}
