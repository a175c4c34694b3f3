//! `ws2sim::divergences` (src/divergences.rs) must list every `# Divergence` section in src/,
//! once each: an entry's first code span is the item's name, and its first code span holding
//! `src/` the file the section is in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ITEM_KEYWORDS: &[&str] = &[
    "fn", "struct", "enum", "trait", "type", "mod", "static", "const",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The name of the item a doc comment starting at `lines[0]` documents.
fn item_name(lines: &[&str]) -> String {
    let decl = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.starts_with("///") && !l.starts_with("#[") && !l.is_empty())
        .expect("a doc comment documents an item");
    let words: Vec<&str> = decl
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or("");
        if ITEM_KEYWORDS.contains(w) && next != "fn" {
            return next.to_string();
        }
    }
    panic!("no item name in `{decl}`");
}

/// (file relative to the crate, item name) for every `# Divergence` section in src/.
fn sections(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "src/divergences.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            if t == "//! # Divergence" {
                // A module's own docs: the module is the file, or its folder for mod.rs.
                let p = Path::new(&rel);
                let stem = p.file_stem().unwrap().to_string_lossy();
                let name = if stem == "mod" {
                    p.parent()
                        .unwrap()
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned()
                } else {
                    stem.into_owned()
                };
                found.push((rel.clone(), name));
            } else if t == "/// # Divergence" {
                found.push((rel.clone(), item_name(&lines[i..])));
            }
        }
    }
    found
}

/// The page's list entries, each with its continuation lines joined.
fn entries(page: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in page.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        if let Some(entry) = doc.strip_prefix(" - ") {
            out.push(entry.to_string());
        } else if let (Some(last), Some(more)) = (out.last_mut(), doc.strip_prefix("   ")) {
            last.push(' ');
            last.push_str(more.trim());
        }
    }
    out
}

fn code_spans(s: &str) -> impl Iterator<Item = &str> {
    s.split('`').skip(1).step_by(2)
}

#[test]
fn every_divergence_is_on_the_divergences_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("src/divergences.rs")).unwrap();
    let mut listed: BTreeMap<(String, String), usize> = BTreeMap::new();
    for entry in entries(&page) {
        let name = code_spans(&entry)
            .next()
            .expect("an entry starts with the item's name");
        let name = name.rsplit("::").next().unwrap().to_string();
        let file = code_spans(&entry)
            .find(|s| s.starts_with("src/"))
            .unwrap_or_else(|| panic!("entry `{entry}` names no file"))
            .to_string();
        *listed.entry((file, name)).or_default() += 1;
    }
    let found = sections(root);
    assert!(found.len() >= 20, "the scan found only {found:?}");
    let mut missing = Vec::new();
    for key in &found {
        match listed.get_mut(key) {
            Some(n) if *n > 0 => *n -= 1,
            _ => missing.push(key.clone()),
        }
    }
    let stale: Vec<_> = listed
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, _)| k)
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "src/divergences.rs is out of date.\nnot listed: {missing:?}\nlisted but no # Divergence there: {stale:?}"
    );
}
