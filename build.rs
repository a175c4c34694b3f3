//! Turns `docs/SPEC.md`, the specification shipped with the crate, into rustdoc:
//! - `$OUT_DIR/spec_rules.rs`: a `spec!` macro giving, for each `Rule` variant, its full text,
//!   its rustdoc and its sources (`src/core/rules.rs` consumes it), and `SPEC_IDS`, every id in
//!   SPEC order;
//! - `$OUT_DIR/rules_page.md`: the whole specification grouped by family, each rule under a
//!   heading whose anchor is its lower-case id (`crate::rules#cl-5`).
//!
//! No dependencies and no network: the SPEC's rule lines are regular (`- **CL-5** text`,
//! continuation lines indented by two spaces, families under `## CL — title (sources)`).

use std::fmt::Write as _;
use std::path::PathBuf;

/// The source tags SPEC.md's preamble defines, as `Source` variant names.
const TAGS: &[(&str, &str)] = &[
    ("seed", "Seed"),
    ("seeds", "Seed"),
    ("doc", "Doc"),
    ("win", "Win"),
    ("sim", "Sim"),
];

struct Family {
    heading: String,
    sources: Vec<&'static str>,
    rules: Vec<SpecRule>,
}

struct SpecRule {
    id: String,
    text: String,
    sources: Vec<&'static str>,
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let spec_path = manifest.join("docs/SPEC.md");
    println!("cargo:rerun-if-changed=docs/SPEC.md");
    println!("cargo:rerun-if-changed=build.rs");
    let spec = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("{}: {e}", spec_path.display()))
        .replace("\r\n", "\n");
    let (preamble, families) = parse(&spec);
    let ids: Vec<&str> = families
        .iter()
        .flat_map(|f| f.rules.iter().map(|r| r.id.as_str()))
        .collect();
    assert!(!ids.is_empty(), "no rule found in docs/SPEC.md");

    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    std::fs::write(out.join("spec_rules.rs"), rules_rs(&families, &ids)).unwrap();
    std::fs::write(out.join("rules_page.md"), page(&preamble, &families, &ids)).unwrap();
}

fn parse(spec: &str) -> (String, Vec<Family>) {
    let mut preamble = String::new();
    let mut families: Vec<Family> = Vec::new();
    for line in spec.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            families.push(Family {
                heading: h.trim().to_string(),
                sources: paren_tags(h, true),
                rules: Vec::new(),
            });
        } else if let Some(family) = families.last_mut() {
            if let Some(rest) = line.strip_prefix("- **") {
                let (id, text) = rest
                    .split_once("**")
                    .expect("a rule line is `- **ID** text`");
                family.rules.push(SpecRule {
                    id: id.to_string(),
                    text: text.trim().to_string(),
                    sources: Vec::new(),
                });
            } else if let (Some(rule), Some(more)) =
                (family.rules.last_mut(), line.strip_prefix("  "))
            {
                rule.text.push(' ');
                rule.text.push_str(more.trim());
            } else {
                assert!(
                    line.trim().is_empty(),
                    "unexpected line in docs/SPEC.md: {line}"
                );
            }
        } else if !line.starts_with("# ") {
            preamble.push_str(line);
            preamble.push('\n');
        }
    }
    for family in &mut families {
        for rule in &mut family.rules {
            // The family's tags, then the rule's own notes'. Union rather than override: a
            // note often covers a part of the rule only (`(sim for the no-loss part)`).
            let mut all = family.sources.clone();
            let own = paren_tags(&rule.text, false);
            all.extend(own.into_iter().filter(|t| !family.sources.contains(t)));
            rule.sources = all;
        }
    }
    (preamble, families)
}

/// The source tags of the parenthesised notes that start with one: `(seed)`, `(seed, win)`,
/// `(win: test_select)`, `(sim, as ReactOS keeps the lowest)`, `(seeds 000, 001)`.
fn paren_tags(text: &str, heading: bool) -> Vec<&'static str> {
    let mut tags = Vec::new();
    for (i, _) in text.match_indices('(') {
        let inner = &text[i + 1..];
        let inner = &inner[..inner.find(')').unwrap_or(inner.len())];
        let mut parts = inner.split(',').map(str::trim);
        let first_word = |p: &str| -> Option<&'static str> {
            let w = p.split([' ', ':']).next().unwrap_or("");
            TAGS.iter().find(|(t, _)| *t == w).map(|(_, v)| *v)
        };
        let Some(first) = parts.next().and_then(first_word) else {
            continue;
        };
        let mut found = vec![first];
        // `(seeds 000, 001)`: the parts after a heading's first are document numbers.
        if !heading || first != "Seed" {
            found.extend(parts.filter_map(first_word));
        }
        for t in found {
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
    }
    tags
}

/// `CL-10` → `Cl10`, the `Rule` variant's name.
fn variant(id: &str) -> String {
    let mut v = String::new();
    for (i, c) in id.chars().filter(|c| *c != '-').enumerate() {
        v.push(if i == 0 { c } else { c.to_ascii_lowercase() });
    }
    v
}

fn source_words(sources: &[&str]) -> String {
    if sources.is_empty() {
        return "not stated".to_string();
    }
    sources
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` with every known rule id outside code spans made a link to `target` + `#id`.
fn link_ids(text: &str, ids: &[&str], target: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            in_code = !in_code;
        }
        let prev_alnum = out
            .chars()
            .last()
            .is_some_and(|p| p.is_ascii_alphanumeric());
        if !in_code && !prev_alnum && c.is_ascii_uppercase() {
            let len = rest
                .char_indices()
                .find(|(i, ch)| !(ch.is_ascii_alphanumeric() || (*i == 2 && *ch == '-')))
                .map_or(rest.len(), |(i, _)| i);
            let word = &rest[..len];
            if ids.contains(&word) {
                write!(out, "[{word}]({target}#{})", word.to_ascii_lowercase()).unwrap();
                rest = &rest[len..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn rules_rs(families: &[Family], ids: &[&str]) -> String {
    let mut out = String::from("// Generated by build.rs from docs/SPEC.md.\n\n");
    out.push_str("/// Every rule id of docs/SPEC.md, in its order.\n");
    writeln!(
        out,
        "#[allow(dead_code)]\nconst SPEC_IDS: &[&str] = &{ids:?};\n"
    )
    .unwrap();
    out.push_str("macro_rules! spec {\n");
    for f in families {
        let family = f.heading.split(' ').next().unwrap_or("");
        for r in &f.rules {
            let v = variant(&r.id);
            let anchor = r.id.to_ascii_lowercase();
            let doc = format!(
                "**{}** {}\n\n*Source: {}.* Family [{family}](crate::rules#{}); \
                 [in the specification](crate::rules#{anchor}).",
                r.id,
                link_ids(&r.text, ids, "crate::rules"),
                source_words(&r.sources),
                heading_anchor(&f.heading),
            );
            let sources = r
                .sources
                .iter()
                .map(|s| format!("Source::{s}"))
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(out, "    (text {v}) => {{ {:?} }};", r.text).unwrap();
            writeln!(out, "    (doc {v}) => {{ {doc:?} }};").unwrap();
            writeln!(out, "    (sources {v}) => {{ &[{sources}] }};").unwrap();
        }
    }
    out.push_str("}\n");
    out
}

/// The anchor rustdoc gives a heading: lower case, spaces to `-`, other punctuation dropped.
fn heading_anchor(heading: &str) -> String {
    let mut a = String::new();
    for c in heading.chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' {
            a.extend(c.to_lowercase());
        } else if c.is_whitespace() {
            a.push('-');
        }
    }
    a
}

fn page(preamble: &str, families: &[Family], ids: &[&str]) -> String {
    let mut out = String::from(
        "The behaviour specification, `docs/SPEC.md` in the package, rule by rule. Each rule is \
         also a [`Rule`] variant: [`Rule::text`] is its text and [`Rule::sources`] its sources; \
         link to one as `[CL-5](crate::rules#cl-5)`.\n\n",
    );
    for line in preamble.lines() {
        out.push_str(&link_ids(line, ids, ""));
        out.push('\n');
    }
    out.push_str("\n## Families\n\n");
    for f in families {
        writeln!(out, "- [{}](#{})", f.heading, heading_anchor(&f.heading)).unwrap();
    }
    out.push('\n');
    for f in families {
        writeln!(out, "## {}\n", f.heading).unwrap();
        for r in &f.rules {
            writeln!(
                out,
                "### {}\n\n{}\n\n*Source: {}.* [`Rule::{}`]\n",
                r.id,
                link_ids(&r.text, ids, ""),
                source_words(&r.sources),
                variant(&r.id),
            )
            .unwrap();
        }
    }
    out
}
