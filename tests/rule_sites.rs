//! One place per rule (DESIGN.md): every SPEC rule is decided, and tagged for the trace, in
//! exactly one non-test function of the library. This test parses `src/` and fails when a
//! rule is tagged (see [`rules_in`]) in the bodies of two or more functions, naming them.
//!
//! A function that decides a rule is the one that names it; a caller that needs the same
//! decision calls that function instead of repeating the rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit::Visit;
use ws2sim::Rule;

/// The rules a token stream tags for the trace, macro bodies included: a `Rule::X` passed to
/// `rule(..)` (`cx.rule(Rule::Cl5)`) or `push(..)`, or listed in `vec![..]`.
///
/// A rule named elsewhere is an attribution or a verdict, not a decision: the rule a lost byte
/// count is charged to (`transport.abort(now, ep, Rule::Cs3, ..)`), a diagnostic naming the
/// rule a provider or the application broke (`self.diagnose(cx, Rule::Sp6, ..)`), or a
/// conformance verdict of `spi::check_provider`.
fn rules_in(tokens: TokenStream, out: &mut Vec<Rule>) {
    let flat: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, t) in flat.iter().enumerate() {
        let TokenTree::Group(g) = t else { continue };
        let before = |back: usize| {
            i.checked_sub(back)
                .and_then(|j| flat.get(j))
                .map(ToString::to_string)
        };
        let tagging = match g.delimiter() {
            Delimiter::Parenthesis => {
                matches!(before(1).as_deref(), Some("rule" | "push"))
            }
            Delimiter::Bracket => {
                before(1).as_deref() == Some("!") && before(2).as_deref() == Some("vec")
            }
            Delimiter::Brace | Delimiter::None => false,
        };
        if tagging {
            top_level_rules(g.stream(), out);
        }
        rules_in(g.stream(), out);
    }
}

/// The `Rule::X` paths at the top level of a token stream.
fn top_level_rules(tokens: TokenStream, out: &mut Vec<Rule>) {
    let flat: Vec<TokenTree> = tokens.into_iter().collect();
    let is = |j: usize, s: &str| flat.get(j).is_some_and(|t| t.to_string() == s);
    for i in 0..flat.len() {
        if is(i, "Rule") && is(i + 1, ":") && is(i + 2, ":") {
            if let Some(TokenTree::Ident(v)) = flat.get(i + 3) {
                if let Some(rule) = variant_rule(&v.to_string()) {
                    out.push(rule);
                }
            }
        }
    }
}

/// `Cl5` → `Rule::Cl5` (by its id, CL-5); `ALL`, `from_id` and the like are not rules.
fn variant_rule(variant: &str) -> Option<Rule> {
    let split = variant.find(|c: char| c.is_ascii_digit())?;
    let (family, n) = variant.split_at(split);
    if family.len() != 2 {
        return None;
    }
    Rule::from_id(&format!("{}-{n}", family.to_ascii_uppercase()))
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let text = a.to_token_stream().to_string();
        a.path().is_ident("test") || (a.path().is_ident("cfg") && text.contains("test"))
    })
}

/// Collects, per rule, the functions whose bodies name it.
struct Sites<'a> {
    file: &'a str,
    owner: Vec<String>,
    found: &'a mut BTreeMap<Rule, Vec<String>>,
}

impl Sites<'_> {
    fn record(&mut self, name: &str, body: TokenStream) {
        let mut rules = Vec::new();
        rules_in(body, &mut rules);
        rules.sort();
        rules.dedup();
        let owner = self
            .owner
            .last()
            .map_or(String::new(), |o| format!("{o}::"));
        for r in rules {
            let site = format!("{}: {owner}{name}", self.file);
            self.found.entry(r).or_default().push(site);
        }
    }
}

impl<'ast> Visit<'ast> for Sites<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test_only(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if is_test_only(&i.attrs) {
            return;
        }
        self.owner
            .push(i.self_ty.to_token_stream().to_string().replace(' ', ""));
        syn::visit::visit_item_impl(self, i);
        self.owner.pop();
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test_only(&f.attrs) {
            self.record(&f.sig.ident.to_string(), f.block.to_token_stream());
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test_only(&f.attrs) {
            self.record(&f.sig.ident.to_string(), f.block.to_token_stream());
        }
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(body) = &f.default {
            self.record(&f.sig.ident.to_string(), body.to_token_stream());
        }
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every rule named in the library, with the functions naming it.
fn rule_sites() -> BTreeMap<Rule, Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    files.sort();
    let mut found = BTreeMap::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a source file is readable");
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let mut sites = Sites {
            file: &name,
            owner: Vec::new(),
            found: &mut found,
        };
        sites.visit_file(&file);
    }
    found
}

#[test]
fn each_rule_is_decided_in_one_function() {
    let shared: Vec<String> = rule_sites()
        .into_iter()
        .filter(|(_, sites)| sites.len() > 1)
        .map(|(rule, sites)| format!("{rule} in {} functions: {}", sites.len(), sites.join(", ")))
        .collect();
    assert!(
        shared.is_empty(),
        "rules decided in more than one function:\n{}",
        shared.join("\n")
    );
}

#[test]
fn the_site_finder_sees_rules_in_bodies_and_macros() {
    let file: syn::File = syn::parse_quote! {
        fn decides(cx: &mut Cx) { cx.rule(Rule::Cl5); }
        impl World {
            fn other(&mut self) { if x { spi.cx.rule(Rule::Cl5); } }
            fn verdict(&mut self) { self.diagnose(cx, Rule::Cl5, format!("{}", 1)); }
            fn charges(&mut self) { self.abort(now, ep, Rule::Cs3, "why"); }
            fn lists(&self) -> Vec<Rule> { vec![Rule::Cl5] }
        }
        #[cfg(test)] mod tests { fn t() { cx.rule(Rule::Sd1); } }
    };
    let mut found = BTreeMap::new();
    Sites {
        file: "x.rs",
        owner: Vec::new(),
        found: &mut found,
    }
    .visit_file(&file);
    assert_eq!(
        found,
        BTreeMap::from([(
            Rule::Cl5,
            vec![
                "x.rs: decides".to_owned(),
                "x.rs: World::other".to_owned(),
                "x.rs: World::lists".to_owned()
            ]
        )])
    );
}
