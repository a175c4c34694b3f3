use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use proptest::prelude::*;

use super::read::{parse, Value};
use super::write::{event as write_event, header as write_header, json_string};
use super::*;

fn event(host: &str, args: &str, error: Option<crate::WsaError>, rules: Vec<Rule>) -> Event {
    Event {
        seq: 3,
        kind: EventKind::Call,
        time: Duration::new(2, 5),
        host: host.into(),
        process: "app".into(),
        pid: 1,
        thread: 2,
        call: "closesocket".into(),
        args: args.into(),
        arguments: vec![Argument {
            name: "s".into(),
            value: args.into(),
        }],
        result: "SOCKET_ERROR".into(),
        returned: Some(-1),
        error,
        rules,
        blocked: Duration::from_nanos(u64::MAX),
        packet: None,
    }
}

fn packet_event() -> Event {
    Event {
        kind: EventKind::Packet,
        call: "DATA".into(),
        args: String::new(),
        arguments: vec![],
        result: String::new(),
        returned: None,
        error: None,
        rules: vec![],
        blocked: Duration::ZERO,
        thread: 0,
        packet: Some(Packet {
            kind: PacketKind::Data,
            bytes: 5,
            from: Some(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 49152)),
            to_host: "server \"s\"".into(),
            to: None,
            arrives: Duration::from_micros(100),
        }),
        ..event("h", "", None, vec![])
    }
}

fn header() -> Header {
    Header {
        seed: u64::MAX,
        profile: Profile::Windows,
        scheduler: "random".into(),
        hosts: vec![
            HostInfo {
                name: "localhost".into(),
                addr: Ipv4Addr::LOCALHOST,
            },
            HostInfo {
                name: "sé\nrver".into(),
                addr: Ipv4Addr::new(10, 0, 0, 2),
            },
        ],
    }
}

fn line(e: &Event) -> String {
    let mut s = String::new();
    write_event(&mut s, e);
    s
}

#[test]
fn json_line_is_what_serde_json_reads() {
    let e = event(
        "h\"ost\\",
        "0x100004, \"a\nb\"\u{1}\u{7f}é",
        Some(crate::WsaError::NotSocket),
        Rule::ALL.iter().copied().take(3).collect(),
    );
    let v: serde_json::Value = serde_json::from_str(&line(&e)).unwrap();
    assert_eq!(v["kind"], "call");
    assert_eq!(v["seq"], 3);
    assert_eq!(v["time_ns"], 2_000_000_005u64);
    assert_eq!(v["host"], e.host.as_str());
    assert_eq!(v["args"], e.args.as_str());
    assert_eq!(
        v["arguments"],
        serde_json::json!([{"name": "s", "value": e.args.as_str()}])
    );
    assert_eq!(v["returned"], -1);
    assert_eq!(v["error"], "WSAENOTSOCK");
    assert_eq!(v["error_code"], 10038);
    assert_eq!(v["rules"].as_array().unwrap().len(), 3);
    assert_eq!(v["blocked_ns"], u64::MAX);
    assert!(v.get("packet").is_none());
    let ok = event("h", "", None, vec![]);
    let v: serde_json::Value = serde_json::from_str(&line(&ok)).unwrap();
    assert!(v["error"].is_null() && v["error_code"].is_null());
    assert_eq!(v["rules"], serde_json::json!([]));
    let v: serde_json::Value = serde_json::from_str(&line(&packet_event())).unwrap();
    assert_eq!(v["kind"], "packet");
    assert_eq!(v["arguments"], serde_json::json!([]));
    assert!(v["returned"].is_null());
    assert_eq!(
        v["packet"],
        serde_json::json!({"kind": "DATA", "bytes": 5, "from": "10.0.0.1:49152",
            "to_host": "server \"s\"", "to": null, "arrives_ns": 100_000})
    );
    let v: serde_json::Value = serde_json::from_str(&write_header(&header())).unwrap();
    assert_eq!(v["kind"], "header");
    assert_eq!(v["version"], TRACE_FORMAT_VERSION);
    assert_eq!(v["seed"], u64::MAX);
    assert_eq!(v["profile"], "Windows");
    assert_eq!(v["hosts"][1]["name"], "sé\nrver");
    assert_eq!(v["hosts"][1]["addr"], "10.0.0.2");
}

#[test]
fn a_trace_reads_back_exactly() {
    let t = Trace::new(
        header(),
        vec![
            event(
                "h\"ost\\",
                "a\tb\u{0}",
                Some(crate::WsaError::NotSocket),
                Rule::ALL.to_vec(),
            ),
            packet_event(),
            Event {
                kind: EventKind::ProcessEnd,
                call: "ExitProcess".into(),
                ..event("h", "", None, vec![Rule::ALL[1]])
            },
        ],
    );
    let json = t.to_json_lines();
    let back = Trace::from_json_lines(&json).unwrap();
    assert_eq!(back, t);
    assert_eq!(back.to_json_lines(), json);
    assert_eq!(
        Trace::from_json_lines(&Trace::default().to_json_lines()).unwrap(),
        Trace::default()
    );
}

#[test]
fn bad_traces_are_refused_with_their_line() {
    let t = Trace::new(header(), vec![event("h", "", None, vec![])]);
    let json = t.to_json_lines();
    let (head, ev) = json.trim_end().split_once('\n').unwrap();
    let fails = |text: &str, line: usize, what: &str| {
        let e = Trace::from_json_lines(text).unwrap_err();
        assert_eq!(e.line(), line, "{e}");
        assert!(e.message().contains(what), "{e} should say {what:?}");
    };
    fails("", 1, "no header");
    fails(ev, 1, "header");
    let newer = TRACE_FORMAT_VERSION + 1;
    fails(
        &head.replace(
            &format!("\"version\":{TRACE_FORMAT_VERSION}"),
            &format!("\"version\":{newer}"),
        ),
        1,
        &format!("version {newer}"),
    );
    fails(
        &format!(
            "{head}\n{}",
            ev.replace("\"returned\":-1", "\"returned\":\"-1\"")
        ),
        2,
        "\"returned\" is not an integer",
    );
    fails(
        &format!("{head}\n{}", ev.replace("\"name\":\"s\",", "")),
        2,
        "missing key \"name\"",
    );
    fails(
        &format!("{head}\n{}", ev.replace("\"seq\":3", "\"seq\":3.5")),
        2,
        "integer",
    );
    fails(
        &format!("{head}\n{}", ev.replace("\"call\":", "\"cull\":")),
        2,
        "missing key \"call\"",
    );
    fails(
        &format!("{head}\n{}", ev.replace("}", ",\"x\":1}")),
        2,
        "unknown key \"x\"",
    );
    fails(
        &format!("{head}\n{}", ev.replace("[]", "[\"ZZ-1\"]")),
        2,
        "unknown rule",
    );
    fails(
        &format!("{head}\n{}", ev.replace("\"call\":", "\"kind\":")),
        2,
        "twice",
    );
    fails(&format!("{head}\n\n{ev}"), 2, "expected a value");
    let err = ev.replace(
        "\"error\":null,\"error_code\":null",
        "\"error\":\"WSAEINTR\",\"error_code\":10038",
    );
    fails(&format!("{head}\n{err}"), 2, "does not match");
    fails(
        &format!(
            "{head}\n{}",
            ev.replace("\"call\":", "\"kind\":\"packet\",\"c\":")
        ),
        2,
        "twice",
    );
}

/// `s` with every character as a `\u` escape (surrogate pairs above U+FFFF).
fn all_escaped(s: &str) -> String {
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        out.push_str(&format!("\\u{unit:04X}"));
    }
    out.push('"');
    out
}

proptest! {
    #[test]
    fn json_string_matches_serde_json(s in prop_oneof![any::<String>(), "[\\x00-\\x7f]{0,40}"]) {
        let mut ours = String::new();
        json_string(&mut ours, &s);
        prop_assert_eq!(&ours, &serde_json::to_string(&s).unwrap());
        prop_assert_eq!(parse(&ours), Ok(Value::Str(s.clone())));
    }

    #[test]
    fn strings_read_back_however_they_are_escaped(s in any::<String>()) {
        prop_assert_eq!(parse(&all_escaped(&s)), Ok(Value::Str(s.clone())));
        // serde_json's own escaping, with `/` escaped too as JSON allows.
        let theirs = serde_json::to_string(&s).unwrap().replace('/', "\\/");
        prop_assert_eq!(parse(&theirs), Ok(Value::Str(s)));
    }

    #[test]
    fn any_event_round_trips(
        host in any::<String>(),
        args in any::<String>(),
        seq in any::<u64>(),
        nanos in any::<u64>(),
        pid in any::<u32>(),
        rules in proptest::collection::vec(0..Rule::ALL.len(), 0..4),
        error in proptest::option::of(0..3usize),
        arguments in proptest::collection::vec((any::<String>(), any::<String>()), 0..4),
        returned in proptest::option::of(any::<i64>()),
    ) {
        let errors = [crate::WsaError::NotSocket, crate::WsaError::NotInitialised, crate::WsaError::NetworkDown];
        let e = Event {
            seq,
            time: Duration::from_nanos(nanos),
            pid,
            arguments: arguments.into_iter().map(|(name, value)| Argument { name, value }).collect(),
            returned,
            ..event(&host, &args, error.map(|i| errors[i]), rules.into_iter().map(|i| Rule::ALL[i]).collect())
        };
        let t = Trace::new(header(), vec![e, packet_event()]);
        let json = t.to_json_lines();
        let back = Trace::from_json_lines(&json).unwrap();
        prop_assert_eq!(&back, &t);
        prop_assert_eq!(back.to_json_lines(), json);
    }
}

#[test]
fn lone_surrogates_and_bad_escapes_are_refused() {
    for bad in [
        r#""\uD800""#,
        r#""\uDC00""#,
        r#""\uD800\u0041""#,
        r#""\x""#,
        "\"a",
        "\"\u{1}\"",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
    assert_eq!(parse(r#""\uD83D\uDE00""#), Ok(Value::Str("😀".into())));
    assert_eq!(
        parse(" [1, -2, null, true] "),
        Ok(Value::Arr(vec![
            Value::Int(1),
            Value::Int(-2),
            Value::Null,
            Value::Bool(true)
        ]))
    );
    assert!(parse("01").is_err() && parse("1e3").is_err() && parse("-").is_err());
}

#[test]
fn mermaid_escapes_and_names_no_empty_rules() {
    let e = event("h", "a;b#c<d>", None, vec![]);
    let m = Trace::new(header(), vec![e]).to_mermaid();
    assert!(m.contains("closesocket(a#59;b#35;c#60;d#62;)"), "{m}");
    assert!(!m.contains("[]"), "{m}");
    assert!(m.contains("participant P1T2 as app[1] thread 2"), "{m}");
}

#[cfg(feature = "serde")]
#[test]
fn serde_serialisation_is_the_json_line() {
    let e = event(
        "h\"",
        "a\tb",
        Some(crate::WsaError::NotSocket),
        vec![Rule::ALL[0]],
    );
    assert_eq!(serde_json::to_string(&e).unwrap(), line(&e));
    let p = packet_event();
    assert_eq!(serde_json::to_string(&p).unwrap(), line(&p));
    assert_eq!(
        serde_json::to_string(&header()).unwrap(),
        write_header(&header())
    );
    let t = Trace::new(header(), vec![e.clone(), p, event("h", "", None, vec![])]);
    let lines: Vec<String> = t.to_json_lines().lines().map(str::to_owned).collect();
    assert_eq!(
        serde_json::to_string(&t).unwrap(),
        format!("[{}]", lines.join(","))
    );
}
