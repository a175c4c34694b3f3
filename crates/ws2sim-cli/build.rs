//! Finds, in the library's sources, where each SPEC rule is implemented and tested, for
//! `ws2sim explain RULE`: writes `$OUT_DIR/sites.rs`.
//!
//! - *Implemented*: each non-test function of `../../src` (bar `core/rules.rs`, which defines
//!   the rules) whose body names `Rule::Xx9`, with the line of the first mention.
//! - *Documented*: each non-test function whose doc comment names the rule's id (`CL-5`).
//! - *Tested*: each function of `../../tests` and `../../src` named `xx_9_...` (the
//!   convention: a test is named after the rule it checks).
//!
//! A small scanner, not a Rust parser: it skips comments, strings and character literals,
//! tracks braces, and knows `fn NAME` and `mod NAME` scopes and `#[test]`/`#[cfg(test)]`
//! items. Outside the workspace (the CLI built from its published package, without the
//! library's sources) the lists are empty and `explain` says so.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let src = root.join("src");
    let tests = root.join("tests");
    println!("cargo:rerun-if-changed=build.rs");
    let scanned = src.join("lib.rs").is_file();
    let mut implemented = Vec::new();
    let mut tested = Vec::new();
    let mut documented = Vec::new();
    if scanned {
        println!("cargo:rerun-if-changed={}", src.display());
        println!("cargo:rerun-if-changed={}", tests.display());
        for dir in [&src, &tests] {
            let mut files = Vec::new();
            rust_files(dir, &mut files);
            files.sort();
            for f in files {
                let rel = f
                    .strip_prefix(&root)
                    .expect("under the root")
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&f).expect("a readable source file");
                let s = scan(&text);
                // The rules' definitions, and test-only files (`#[cfg(test)] mod tests;`).
                let test_file = rel.ends_with("/tests.rs") || rel.ends_with("/fixtures.rs");
                if dir == &src && rel != "src/core/rules.rs" && !test_file {
                    implemented.extend(
                        s.rule_mentions
                            .into_iter()
                            .map(|(v, l, f)| (v, rel.clone(), l, f)),
                    );
                    documented.extend(
                        s.rule_docs
                            .into_iter()
                            .map(|(v, l, f)| (v, rel.clone(), l, f)),
                    );
                }
                tested.extend(
                    s.rule_tests
                        .into_iter()
                        .map(|(p, l, f)| (p, rel.clone(), l, f)),
                );
            }
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "/// True when the library's sources were scanned.");
    let _ = writeln!(out, "pub const SCANNED: bool = {scanned};");
    let list =
        |name: &str, doc: &str, rows: &[(String, String, usize, String)], out: &mut String| {
            let _ = writeln!(out, "/// {doc}");
            let _ = writeln!(out, "pub const {name}: &[(&str, &str, u32, &str)] = &[");
            for (k, file, line, f) in rows {
                let _ = writeln!(out, "    ({k:?}, {file:?}, {line}, {f:?}),");
            }
            let _ = writeln!(out, "];");
        };
    list(
        "IMPLEMENTED",
        "(rule variant, file, line, function): a non-test function naming the rule.",
        &implemented,
        &mut out,
    );
    list(
        "DOCUMENTED",
        "(rule variant, file, line, function): a non-test function whose doc comment names the rule.",
        &documented,
        &mut out,
    );
    list(
        "TESTED",
        "(rule prefix such as `cl_5`, file, line, function): a test named after the rule.",
        &tested,
        &mut out,
    );
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("sites.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[derive(Default)]
struct Scan {
    /// (variant, line, innermost function) for `Rule::Variant` in non-test code.
    rule_mentions: Vec<(String, usize, String)>,
    /// (variant, line, function) for functions whose doc comment names the rule's id.
    rule_docs: Vec<(String, usize, String)>,
    /// (`xx_9`, line, function) for functions named after a rule.
    rule_tests: Vec<(String, usize, String)>,
}

struct Scope {
    depth: usize,
    fn_name: Option<String>,
    test: bool,
}

/// The code of `text` with comments, strings and character literals blanked out (newlines
/// kept), so that braces and words can be counted.
fn code_only(text: &str) -> Vec<char> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(c.len());
    let mut i = 0;
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    while i < c.len() {
        match c[i] {
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    out.push(' ');
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                        depth += 1;
                        out.push(' ');
                        out.push(' ');
                        i += 2;
                    } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        out.push(' ');
                        out.push(' ');
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        out.push(blank(c[i]));
                        i += 1;
                    }
                }
            }
            'r' if matches!(c.get(i + 1), Some('"' | '#'))
                && !c
                    .get(i.wrapping_sub(1))
                    .is_some_and(|p| p.is_alphanumeric() || *p == '_') =>
            {
                // A raw string: r"..." or r#"..."#.
                let mut j = i + 1;
                let mut hashes = 0;
                while c.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if c.get(j) != Some(&'"') {
                    out.push(c[i]);
                    i += 1;
                    continue;
                }
                j += 1;
                loop {
                    match c.get(j) {
                        None => break,
                        Some('"') if (1..=hashes).all(|k| c.get(j + k) == Some(&'#')) => {
                            j += 1 + hashes;
                            break;
                        }
                        _ => j += 1,
                    }
                }
                out.extend(c[i..j.min(c.len())].iter().map(|&ch| blank(ch)));
                i = j;
            }
            '"' => {
                out.push(' ');
                i += 1;
                while i < c.len() && c[i] != '"' {
                    if c[i] == '\\' {
                        out.push(' ');
                        i += 1;
                    }
                    if i < c.len() {
                        out.push(blank(c[i]));
                        i += 1;
                    }
                }
                out.push(' ');
                i += 1;
            }
            '\'' => {
                // A character literal ('x', '\n', '\u{7f}') or a lifetime ('a).
                let end = if c.get(i + 1) == Some(&'\\') {
                    (i + 2..c.len().min(i + 12)).find(|&j| c[j] == '\'')
                } else if c.get(i + 2) == Some(&'\'') {
                    Some(i + 2)
                } else {
                    None
                };
                match end {
                    Some(e) => {
                        out.extend(std::iter::repeat_n(' ', e + 1 - i));
                        i = e + 1;
                    }
                    None => {
                        out.push('\'');
                        i += 1;
                    }
                }
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

/// Is `name` a test named after a rule (`cl_5_...`)? Its `cl_5` prefix.
fn rule_prefix(name: &str) -> Option<String> {
    let b = name.as_bytes();
    if b.len() < 5 || !b[0].is_ascii_lowercase() || !b[1].is_ascii_lowercase() || b[2] != b'_' {
        return None;
    }
    let digits = b[3..].iter().take_while(|c| c.is_ascii_digit()).count();
    (digits > 0 && b.get(3 + digits) == Some(&b'_')).then(|| name[..3 + digits].to_owned())
}

fn scan(text: &str) -> Scan {
    let code: String = code_only(text).into_iter().collect();
    let original: Vec<&str> = text.lines().collect();
    let mut s = Scan::default();
    // Rule ids named by the doc comment above the next item.
    let mut doc_ids: Vec<String> = Vec::new();
    let mut scopes: Vec<Scope> = Vec::new();
    let mut depth = 0usize;
    // The item being declared: `fn` or `mod` and its name, and whether it is test-only.
    let mut pending: Option<(bool, String)> = None;
    let mut pending_test = false;
    // Open parentheses and brackets: a `;` inside them (`[u8; 4]`) ends no item.
    let mut parens = 0usize;
    for (n, line) in code.lines().enumerate() {
        let source = original.get(n).copied().unwrap_or("").trim_start();
        let n = n + 1;
        if let Some(doc) = source.strip_prefix("///") {
            doc_ids.extend(rule_ids(doc));
            continue;
        }
        let trimmed = line.trim_start();
        // Attributes were blanked if they held strings only inside them; the path is kept.
        if trimmed.starts_with("#[test]") || trimmed.starts_with("#[cfg(test)]") {
            pending_test = true;
        }
        let words: Vec<(usize, &str)> = words(line);
        for (k, (at, w)) in words.iter().enumerate() {
            let next = words.get(k + 1).map(|x| x.1);
            let declares = (*w == "fn" || *w == "mod") && line[at + w.len()..].starts_with(' ');
            if let (true, Some(next)) = (declares, next) {
                let name = next.to_owned();
                if *w == "fn" {
                    if let Some(p) = rule_prefix(&name) {
                        s.rule_tests.push((p, n, name.clone()));
                    }
                    let in_test = pending_test || scopes.iter().any(|sc| sc.test);
                    for id in std::mem::take(&mut doc_ids) {
                        if !in_test {
                            s.rule_docs.push((variant_of(&id), n, name.clone()));
                        }
                    }
                }
                pending = Some((*w == "fn", name));
            }
            if *w == "Rule" && line[at + 4..].starts_with("::") {
                let variant: String = line[at + 6..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                let in_test = scopes.iter().any(|sc| sc.test);
                let func = scopes.iter().rev().find_map(|sc| sc.fn_name.clone());
                if let (false, Some(func)) = (in_test, func) {
                    if variant.len() > 2 && variant[2..].bytes().all(|b| b.is_ascii_digit()) {
                        s.rule_mentions.push((variant, n, func));
                    }
                }
            }
        }
        if !trimmed.is_empty() && !trimmed.starts_with("#[") && !words.iter().any(|w| w.1 == "fn") {
            doc_ids.clear(); // the doc comment was some other item's
        }
        for ch in line.chars() {
            match ch {
                '{' => {
                    depth += 1;
                    let (is_fn, name) = match pending.take() {
                        Some((is_fn, name)) => (is_fn, Some(name)),
                        None => (false, None),
                    };
                    let parent_test = scopes.last().is_some_and(|sc| sc.test);
                    let test = parent_test || (name.is_some() && std::mem::take(&mut pending_test));
                    let fn_name = if is_fn {
                        name
                    } else {
                        scopes.last().and_then(|sc| sc.fn_name.clone())
                    };
                    scopes.push(Scope {
                        depth,
                        fn_name,
                        test,
                    });
                }
                '}' => {
                    while scopes.last().is_some_and(|sc| sc.depth >= depth) {
                        scopes.pop();
                    }
                    depth = depth.saturating_sub(1);
                }
                '(' | '[' => parens += 1,
                ')' | ']' => parens = parens.saturating_sub(1),
                ';' if parens == 0 => {
                    // `fn f();` in a trait, `mod m;`, `#[cfg(test)] use ...;`: no body.
                    pending = None;
                    pending_test = false;
                }
                _ => {}
            }
        }
    }
    // Several mentions in one function: its first line only.
    let mut seen = std::collections::BTreeSet::new();
    s.rule_mentions
        .retain(|(v, _, f)| seen.insert((v.clone(), f.clone())));
    let mut seen = std::collections::BTreeSet::new();
    s.rule_docs
        .retain(|(v, _, f)| seen.insert((v.clone(), f.clone())));
    s
}

/// The rule ids (`CL-5`) a text names.
fn rule_ids(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for i in 0..b.len() {
        let starts = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if starts
            && b.len() > i + 3
            && b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && b[i + 2] == b'-'
        {
            let digits = b[i + 3..].iter().take_while(|c| c.is_ascii_digit()).count();
            let ends = b
                .get(i + 3 + digits)
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            if digits > 0 && ends {
                out.push(text[i..i + 3 + digits].to_owned());
            }
        }
    }
    out
}

/// `CL-5` -> `Cl5`, the `Rule` variant.
fn variant_of(id: &str) -> String {
    let (family, n) = id.split_once('-').expect("an id is XX-N");
    format!("{}{}{n}", &family[..1], family[1..].to_ascii_lowercase())
}

/// The identifiers of a line with their byte offsets.
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        let word = c.is_ascii_alphanumeric() || c == '_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}
