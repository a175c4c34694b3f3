//! [`Trace::to_mermaid`]: a sequence diagram with hosts, threads, packets and virtual time.

use std::fmt::Write as _;
use std::time::Duration;

use super::{profile_name, seconds, Event, EventKind, Packet, PacketKind, Trace};

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

/// The diagram's lanes: hosts (the header's, then any only the events name) and threads
/// (beside the host of their process, in order of first appearance).
struct Lanes {
    /// Host name and, when the header gives it, its address.
    hosts: Vec<(String, Option<String>)>,
    /// Host index, process id, thread id, process name.
    threads: Vec<(usize, u32, u32, String)>,
}

impl Lanes {
    fn of(trace: &Trace) -> Lanes {
        let mut lanes = Lanes {
            hosts: (trace.header().hosts.iter())
                .map(|h| (h.name.clone(), Some(h.addr.to_string())))
                .collect(),
            threads: Vec::new(),
        };
        for e in trace.events() {
            let h = lanes.host(&e.host);
            if let Some(p) = &e.packet {
                lanes.host(&p.to_host);
            }
            if e.kind == EventKind::Call
                && e.thread != 0
                && !lanes
                    .threads
                    .iter()
                    .any(|t| t.1 == e.pid && t.2 == e.thread)
            {
                lanes.threads.push((h, e.pid, e.thread, e.process.clone()));
            }
        }
        lanes
    }

    /// The index of host `name`, added if new.
    fn host(&mut self, name: &str) -> usize {
        match self.hosts.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.hosts.push((name.to_owned(), None));
                self.hosts.len() - 1
            }
        }
    }

    /// The participant id of host `name`.
    fn host_id(&self, name: &str) -> String {
        let i = self.hosts.iter().position(|(n, _)| n == name).unwrap_or(0);
        format!("H{i}")
    }

    /// Writes the participants, each thread before its host; gives the span a time note
    /// covers (first to last participant), `None` when there are none.
    fn write(&self, out: &mut String) -> Option<String> {
        let mut order = Vec::new();
        for (i, (name, addr)) in self.hosts.iter().enumerate() {
            for (_, pid, tid, process) in self.threads.iter().filter(|t| t.0 == i) {
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
        match (order.first(), order.last()) {
            (Some(a), Some(b)) if a != b => Some(format!("{a},{b}")),
            (Some(a), _) => Some(a.clone()),
            _ => None,
        }
    }
}

pub(super) fn render(trace: &Trace) -> String {
    let header = trace.header();
    let lanes = Lanes::of(trace);
    let mut out = String::from("sequenceDiagram\n");
    let _ = writeln!(
        out,
        "    %% ws2sim trace: seed {}, profile {}, scheduler {}",
        header.seed,
        profile_name(header.profile),
        text(&header.scheduler)
    );
    let Some(span) = lanes.write(&mut out) else {
        return out;
    };
    let mut now: Option<Duration> = None;
    for e in trace.events() {
        if e.packet.as_ref().is_some_and(|p| p.kind == PacketKind::Ack) {
            continue; // ACKs stay in the trace, out of the diagram.
        }
        if e.kind == EventKind::Endpoint {
            continue; // So do endpoint changes: the packets and calls show them.
        }
        if now != Some(e.time) {
            now = Some(e.time);
            let _ = writeln!(out, "    Note over {span}: t = {}", seconds(e.time));
        }
        let h = lanes.host_id(&e.host);
        match (&e.packet, e.kind) {
            (Some(p), _) => packet(&mut out, &h, &lanes.host_id(&p.to_host), p),
            (None, EventKind::Call) if e.thread != 0 => call(&mut out, &h, e),
            (None, _) => note(&mut out, &h, e),
        }
    }
    out
}

/// The rules an event applied, as ` [ID ID]`, or nothing.
fn rules(e: &Event) -> String {
    if e.rules.is_empty() {
        return String::new();
    }
    let ids: Vec<&str> = e.rules.iter().map(|r| r.id()).collect();
    format!(" [{}]", ids.join(" "))
}

/// A packet: an arrow between hosts (a cross for RST).
fn packet(out: &mut String, h: &str, to: &str, p: &Packet) {
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

/// A thread's call: an arrow to its host and the answer back.
fn call(out: &mut String, h: &str, e: &Event) {
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
        "    {h}-->>{t}: {}{err}{}{blocked}",
        text(&e.result),
        rules(e)
    );
}

/// Anything else (a process event, an endpoint's change): a note over its host.
fn note(out: &mut String, h: &str, e: &Event) {
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
        "    Note over {h}: {}{who}{args}{}",
        text(&e.call),
        rules(e)
    );
}
