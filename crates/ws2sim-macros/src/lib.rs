//! `#[ws2sim::test]`: a test function run once per seed by `ws2sim::testing::sweep`.
//!
//! Use it through the `ws2sim` crate (`#[ws2sim::test]`), whose `testing` module documents
//! the sweep. The expansion names `::ws2sim`, so the crate must be a dependency under that
//! name. This crate only rewrites the function; it has no dependencies.

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// Runs the function as a seed sweep: `#[ws2sim::test]` (seeds `0..100`) or
/// `#[ws2sim::test(seeds = N)]`, `seeds = A..B`, `seeds = A..=B`. The function takes the
/// simulation, `fn name(sim: &ws2sim::Sim)`, and becomes a `#[test]` that calls it once per
/// seed in a fresh simulation; `WS2SIM_SEEDS` overrides the seeds. Other attributes on it
/// (`#[ignore]`, `#[should_panic]`) go to the test.
///
/// ```ignore
/// #[ws2sim::test(seeds = 200)]
/// fn echo_replies(sim: &ws2sim::Sim) {
///     let p = sim.localhost().process("app");
///     // ...
/// }
/// ```
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand(attr, item) {
        Ok(t) => t,
        Err((span, message)) => compile_error(span, &message),
    }
}

type Error = (Span, String);

/// The default when no `seeds` is given.
const DEFAULT_SEEDS: u64 = 100;

fn expand(attr: TokenStream, item: TokenStream) -> Result<TokenStream, Error> {
    let seeds = seeds(attr)?;
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    // Outer attributes (`#[...]`) go to the generated test; the function keeps the rest.
    let mut i = 0;
    let mut attrs = Vec::new();
    while let (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g))) =
        (tokens.get(i), tokens.get(i + 1))
    {
        if p.as_char() != '#' || g.delimiter() != Delimiter::Bracket {
            break;
        }
        attrs.extend([tokens[i].clone(), tokens[i + 1].clone()]);
        i += 2;
    }
    let function: Vec<TokenTree> = tokens[i..].to_vec();
    let name = fn_name(&function)?;
    // #[test] fn NAME() { FUNCTION ::ws2sim::testing::sweep(SEEDS, NAME); }
    let mut out: Vec<TokenTree> = Vec::new();
    out.extend(attribute("test"));
    out.extend(attrs);
    out.push(ident("fn"));
    out.push(TokenTree::Ident(name.clone()));
    out.push(group(Delimiter::Parenthesis, TokenStream::new()));
    let mut body: Vec<TokenTree> = function;
    body.extend(path(&["ws2sim", "testing", "sweep"]));
    let mut args: Vec<TokenTree> = Vec::new();
    args.extend(path(&["ws2sim", "testing", "Seeds", "from"]));
    args.push(group(Delimiter::Parenthesis, seeds));
    args.push(TokenTree::Punct(Punct::new(',', Spacing::Alone)));
    args.push(TokenTree::Ident(name));
    body.push(group(Delimiter::Parenthesis, args.into_iter().collect()));
    body.push(TokenTree::Punct(Punct::new(';', Spacing::Alone)));
    out.push(group(Delimiter::Brace, body.into_iter().collect()));
    Ok(out.into_iter().collect())
}

/// The seeds expression: `seeds = EXPR`, or the default.
fn seeds(attr: TokenStream) -> Result<TokenStream, Error> {
    let tokens: Vec<TokenTree> = attr.into_iter().collect();
    if tokens.is_empty() {
        return Ok(TokenTree::Literal(proc_macro::Literal::u64_unsuffixed(DEFAULT_SEEDS)).into());
    }
    let usage = "expected `seeds = N`, `seeds = A..B` or `seeds = A..=B`";
    match (tokens.first(), tokens.get(1)) {
        (Some(TokenTree::Ident(k)), Some(TokenTree::Punct(eq)))
            if k.to_string() == "seeds" && eq.as_char() == '=' && tokens.len() > 2 =>
        {
            Ok(tokens[2..].iter().cloned().collect())
        }
        (Some(t), _) => Err((t.span(), format!("ws2sim::test: {usage}"))),
        (None, _) => Err((Span::call_site(), format!("ws2sim::test: {usage}"))),
    }
}

/// The function's name: the identifier after `fn` (after `pub`, `const`, `unsafe`...).
fn fn_name(function: &[TokenTree]) -> Result<Ident, Error> {
    for (k, t) in function.iter().enumerate() {
        if let TokenTree::Ident(i) = t {
            match i.to_string().as_str() {
                "async" => {
                    return Err((
                        i.span(),
                        "ws2sim::test: the function cannot be async; simulated threads block"
                            .into(),
                    ))
                }
                "fn" => {
                    return match function.get(k + 1) {
                        Some(TokenTree::Ident(name)) => Ok(name.clone()),
                        _ => Err((
                            i.span(),
                            "ws2sim::test: expected the function's name".into(),
                        )),
                    }
                }
                _ => {}
            }
        }
    }
    Err((
        Span::call_site(),
        "ws2sim::test goes on a function: fn name(sim: &ws2sim::Sim) { ... }".into(),
    ))
}

fn ident(s: &str) -> TokenTree {
    TokenTree::Ident(Ident::new(s, Span::call_site()))
}

fn group(d: Delimiter, t: TokenStream) -> TokenTree {
    TokenTree::Group(Group::new(d, t))
}

/// `#[name]`.
fn attribute(name: &str) -> [TokenTree; 2] {
    [
        TokenTree::Punct(Punct::new('#', Spacing::Alone)),
        group(Delimiter::Bracket, ident(name).into()),
    ]
}

/// `::a::b::c`.
fn path(parts: &[&str]) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for p in parts {
        out.push(TokenTree::Punct(Punct::new(':', Spacing::Joint)));
        out.push(TokenTree::Punct(Punct::new(':', Spacing::Alone)));
        out.push(ident(p));
    }
    out
}

/// `::core::compile_error!("message");` at `span`.
fn compile_error(span: Span, message: &str) -> TokenStream {
    let mut lit = proc_macro::Literal::string(message);
    lit.set_span(span);
    let mut out = path(&["core", "compile_error"]);
    out.push(TokenTree::Punct(Punct::new('!', Spacing::Alone)));
    out.push(group(
        Delimiter::Parenthesis,
        TokenTree::Literal(lit).into(),
    ));
    out.push(TokenTree::Punct(Punct::new(';', Spacing::Alone)));
    out.into_iter().collect()
}
