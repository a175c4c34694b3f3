//! [`Trace::to_mermaid`]: a sequence diagram with hosts, threads, packets and virtual time.

use std::fmt::Write as _;
use std::time::Duration;

use super::{profile_name, seconds, EventKind, PacketKind, Trace};

/// Text Mermaid shows as written: `#` and `;` (which start an entity and end a statement),
/// `<` and `>` (HTML) become entity codes, line breaks become spaces.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(trace: &Trace) -> String {
    let header = trace.header();
    // Hosts: the header's, then any only the events name.
    let mut hosts: Vec<(String, Option<String>)> = header
        .hosts
        .iter()
        .map(|h| (h.name.clone(), Some(h.addr.to_string())))
        .collect();
    let host_of = |name: &str, hosts: &mut Vec<(String, Option<String>)>| -> usize {
        match hosts.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                hosts.push((name.to_owned(), None));
                hosts.len() - 1
            }
        }
    };
    // Threads, beside the host of their process, in order of first appearance.
    let mut threads: Vec<(usize, u32, u32, String)> = Vec::new();
    for e in trace.events() {
        let h = host_of(&e.host, &mut hosts);
        if let Some(p) = &e.packet {
            host_of(&p.to_host, &mut hosts);
        }
        if e.kind == EventKind::Call
            && e.thread != 0
            && !threads.iter().any(|t| t.1 == e.pid && t.2 == e.thread)
        {
            threads.push((h, e.pid, e.thread, e.process.clone()));
        }
    }
    let mut out = String::from("sequenceDiagram\n");
    let _ = writeln!(
        out,
        "    %% ws2sim trace: seed {}, profile {}, scheduler {}",
        header.seed,
        profile_name(header.profile),
        text(&header.scheduler)
    );
    let mut order = Vec::new();
    for (i, (name, addr)) in hosts.iter().enumerate() {
        for (_, pid, tid, process) in threads.iter().filter(|t| t.0 == i) {
            let id = format!("P{pid}T{tid}");
            let _ = writeln!(
                out,
                "    participant {id} as {}[{pid}] thread {tid}",
                text(process)
            );
            order.push(id);
        }
        let addr = addr.as_ref().map(|a| format!(" {a}")).unwrap_or_default();
        let _ = writeln!(out, "    participant H{i} as {}{addr}", text(name));
        order.push(format!("H{i}"));
    }
    let span = match (order.first(), order.last()) {
        (Some(a), Some(b)) if a != b => format!("{a},{b}"),
        (Some(a), _) => a.clone(),
        _ => return out,
    };
    let host_id = |name: &str| {
        let i = hosts.iter().position(|(n, _)| n == name).unwrap_or(0);
        format!("H{i}")
    };
    let mut now: Option<Duration> = None;
    for e in trace.events() {
        if e.packet.as_ref().is_some_and(|p| p.kind == PacketKind::Ack) {
            continue; // ACKs stay in the trace, out of the diagram.
        }
        if now != Some(e.time) {
            now = Some(e.time);
            let _ = writeln!(out, "    Note over {span}: t = {}", seconds(e.time));
        }
        let h = host_id(&e.host);
        let rules = if e.rules.is_empty() {
            String::new()
        } else {
            let ids: Vec<&str> = e.rules.iter().map(|r| r.id()).collect();
            format!(" [{}]", ids.join(" "))
        };
        match (&e.packet, e.kind) {
            (Some(p), _) => {
                let to = host_id(&p.to_host);
                let arrow = if p.kind == PacketKind::Rst {
                    "-x"
                } else {
                    "->>"
                };
                let what = match p.kind {
                    PacketKind::Data | PacketKind::Datagram => {
                        format!("{} {} bytes", p.kind.name(), p.bytes)
                    }
                    PacketKind::Fin if p.bytes > 0 => {
                        format!("FIN + {} bytes of disconnect data", p.bytes)
                    }
                    _ => p.kind.name().to_owned(),
                };
                let ports = match (p.from, p.to) {
                    (Some(a), Some(b)) => format!(" :{} → :{}", a.port(), b.port()),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "    {h}{arrow}{to}: {what}{ports} (arrives {})",
                    seconds(p.arrives)
                );
            }
            (None, EventKind::Call) if e.thread != 0 => {
                let t = format!("P{}T{}", e.pid, e.thread);
                let _ = writeln!(out, "    {t}->>{h}: {}({})", text(&e.call), text(&e.args));
                let err = e
                    .error
                    .map(|x| format!(" {}", x.name()))
                    .unwrap_or_default();
                let blocked = if e.blocked.is_zero() {
                    String::new()
                } else {
                    format!(" (blocked {})", seconds(e.blocked))
                };
                let _ = writeln!(
                    out,
                    "    {h}-->>{t}: {}{err}{rules}{blocked}",
                    text(&e.result)
                );
            }
            (None, _) => {
                let who = if e.pid == 0 {
                    String::new()
                } else {
                    format!(" {}[{}]", text(&e.process), e.pid)
                };
                let args = if e.args.is_empty() {
                    String::new()
                } else {
                    format!(": {}", text(&e.args))
                };
                let _ = writeln!(
                    out,
                    "    Note over {h}: {}{who}{args}{rules}",
                    text(&e.call)
                );
            }
        }
    }
    out
}
