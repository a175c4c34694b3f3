//! The `ws2sim` binary, run as a user runs it.

use std::process::{Command, Output};

fn ws2sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(args)
        .output()
        .expect("the ws2sim binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

#[test]
fn rules_lists_every_rule_once() {
    let o = ws2sim(&["rules"]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert_eq!(out.lines().count(), ws2sim::Rule::ALL.len(), "{out}");
    for r in ws2sim::Rule::ALL {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().next() == Some(r.id())),
            "{} missing:\n{out}",
            r.id()
        );
    }
}

#[test]
fn explain_prints_the_rule_and_rejects_unknown_ids() {
    let o = ws2sim(&["explain", "CL-5"]);
    assert!(o.status.success(), "{o:?}");
    let r = ws2sim::Rule::from_id("CL-5").expect("CL-5 exists");
    assert_eq!(stdout(&o), format!("CL-5: {}\n", r.summary()));

    let o = ws2sim(&["explain", "XX-99"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("no rule \"XX-99\""));
}

#[test]
fn catalog_lists_the_built_in_providers() {
    let o = ws2sim(&["catalog"]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(out.lines().count() >= 3, "{out}");
    assert!(out.contains("type=1") && out.contains("type=2"), "{out}");
}
