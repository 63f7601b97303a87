//! `#[derive(Config)]` for Vitals plugins: one struct declares a plugin's config keys
//! (for `describe`) and their parsing (for `run` and `validate`).
//!
//! Use it through `vitals-sdk`, which re-exports it as `vitals_sdk::Config` beside the
//! traits the generated code implements (`PluginConfig`, `ConfigValue`) and documents
//! the attributes. The generated code names the SDK as `::vitals_sdk`.
//!
//! ```ignore
//! #[derive(vitals_sdk::Config)]
//! struct Config {
//!     /// HTTP method of the request.
//!     #[config(default = "GET")]
//!     method: String,
//!     /// Extra request headers.
//!     headers: std::collections::BTreeMap<String, String>,
//!     /// The URL to POST to.
//!     #[config(required, check = http_url)]
//!     url: String,
//! }
//! ```

use proc_macro::TokenStream;
use proc_macro2::{Literal, Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, Fields, GenericArgument, Lit, PathArguments, Type, UnOp};

/// Derives `vitals_sdk::PluginConfig` for a struct with named fields: every field is a
/// config key (named as the field, or `rename`), its doc comment is the key's doc, its
/// type's `ConfigValue` gives the key's type and parsing.
///
/// Field attributes, in `#[config(...)]`:
/// - `default = LITERAL`: the value when the key is left out, written as in `checks.toml`
///   (`"GET"`, `5`, `true`, `0.5`, `["a", "b"]`); `describe` announces it as TOML and it is
///   parsed as a given value is.
/// - `required`: the key must be given.
/// - neither: the key may be left out and the field's type says what that means (`None`
///   for an `Option`, an empty list or table).
/// - `rename = "name"`: the key's name when it is not the field's.
/// - `check = path`: a `fn(&T) -> Result<(), String>` run on a given value (or the
///   default) after it parsed; for an `Option<T>` field it gets the `T`.
#[proc_macro_derive(Config, attributes(config))]
pub fn derive_config(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// What a key does when it is left out.
enum Absent {
    /// Take this default.
    Default(DefaultValue),
    /// It is a problem: the key is required.
    Required,
    /// The type's own empty value (`None`, an empty list).
    Empty,
}

/// A default, as written in the attribute.
enum DefaultValue {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Array(Vec<DefaultValue>),
}

/// One field of the struct: one config key.
struct Key {
    ident: syn::Ident,
    ty: Type,
    /// `T` when the field is `Option<T>` (recognised by its spelling).
    option_inner: Option<Type>,
    name: String,
    name_span: Span,
    doc: String,
    absent: Absent,
    check: Option<syn::Path>,
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    if let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("config")) {
        return Err(syn::Error::new(
            attr.span(),
            "#[config(...)] goes on the fields of a #[derive(Config)] struct, not on the struct",
        ));
    }
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => &named.named,
            Fields::Unit => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "#[derive(Config)] needs a struct with named fields (`struct Config {}` for a plugin without keys)",
                ));
            }
            Fields::Unnamed(_) => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "#[derive(Config)] needs named fields: each field's name is a config key",
                ));
            }
        },
        _ => {
            return Err(syn::Error::new(
                input.ident.span(),
                "#[derive(Config)] works on a struct with named fields, whose fields are the config keys",
            ));
        }
    };

    let mut keys = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for field in fields {
        match key(field) {
            Ok(key) => {
                if let Some(earlier) = keys.iter().find(|k: &&Key| k.name == key.name) {
                    combine(
                        &mut errors,
                        syn::Error::new(
                            key.name_span,
                            format!(
                                "two fields are the config key `{}` (`{}` and `{}`)",
                                key.name, earlier.ident, key.ident
                            ),
                        ),
                    );
                }
                keys.push(key);
            }
            Err(error) => combine(&mut errors, error),
        }
    }
    if let Some(errors) = errors {
        return Err(errors);
    }

    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let sdk = quote!(::vitals_sdk);
    let p = quote!(#sdk::__private);

    let key_values = keys.iter().map(|k| {
        let (ty, name, doc) = (&k.ty, &k.name, &k.doc);
        let (default, required) = match &k.absent {
            Absent::Default(value) => {
                let toml = value.toml();
                (quote!(::core::option::Option::Some(#toml)), false)
            }
            Absent::Required => (quote!(::core::option::Option::None), true),
            Absent::Empty => (quote!(::core::option::Option::None), false),
        };
        quote_spanned! {ty.span()=>
            #p::key(#name, <#ty as #sdk::ConfigValue>::KIND, #default, #required, #doc)
        }
    });

    let names: Vec<&String> = keys.iter().map(|k| &k.name).collect();
    let locals: Vec<syn::Ident> = keys.iter().map(|k| format_ident!("__vitals_field_{}", k.ident)).collect();
    let table = quote!(__vitals_table);
    let problems = quote!(__vitals_problems);

    let parse_fields = keys.iter().zip(&locals).map(|(k, local)| {
        let (ty, name) = (&k.ty, &k.name);
        let check = check_closure(k);
        let absent = match &k.absent {
            Absent::Default(value) => {
                let json = value.json(&p);
                quote!(#p::default_value::<#ty>(#name, #json, #check, &mut #problems))
            }
            Absent::Required => quote!(#p::missing::<#ty>(#name, &mut #problems)),
            Absent::Empty => quote_spanned! {ty.span()=>
                ::core::option::Option::Some(<#ty as #sdk::OptionalValue>::absent())
            },
        };
        quote! {
            let #local: ::core::option::Option<#ty> = match #table.get(#name) {
                ::core::option::Option::Some(__vitals_json) => {
                    #p::given_value::<#ty>(#name, __vitals_json, #check, &mut #problems)
                }
                ::core::option::Option::None => #absent,
            };
        }
    });

    let check_defaults = keys.iter().filter_map(|k| {
        let Absent::Default(value) = &k.absent else {
            return None;
        };
        let (ty, name) = (&k.ty, &k.name);
        let json = value.json(&p);
        let check = check_closure(k);
        Some(quote! {
            let _ = #p::default_value::<#ty>(#name, #json, #check, &mut #problems);
        })
    });

    let idents = keys.iter().map(|k| &k.ident);
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #sdk::PluginConfig for #name #ty_generics #where_clause {
            fn keys() -> ::std::vec::Vec<#sdk::ConfigKey> {
                ::std::vec![#(#key_values),*]
            }

            fn from_table(
                #table: &#sdk::serde_json::Map<::std::string::String, #sdk::serde_json::Value>,
            ) -> ::core::result::Result<Self, ::std::vec::Vec<#sdk::ConfigProblem>> {
                let mut #problems = ::std::vec::Vec::new();
                #p::unknown_keys(#table, &[#(#names),*], &mut #problems);
                #(#parse_fields)*
                match (#(#locals,)*) {
                    (#(::core::option::Option::Some(#locals),)*) if #problems.is_empty() => {
                        ::core::result::Result::Ok(Self { #(#idents: #locals),* })
                    }
                    _ => ::core::result::Result::Err(#p::at_least_one(#problems)),
                }
            }

            fn check_defaults() -> ::std::vec::Vec<#sdk::ConfigProblem> {
                let mut #problems = ::std::vec::Vec::new();
                #(#check_defaults)*
                #problems
            }
        }
    })
}

/// The closure that runs a field's `check` (or accepts every value).
fn check_closure(key: &Key) -> TokenStream2 {
    let ty = &key.ty;
    match (&key.check, &key.option_inner) {
        (None, _) => quote!(|_: &#ty| ::core::result::Result::Ok(())),
        (Some(path), None) => quote_spanned! {path.span()=>
            |__vitals_value: &#ty| -> ::core::result::Result<(), ::std::string::String> { #path(__vitals_value) }
        },
        (Some(path), Some(_)) => quote_spanned! {path.span()=>
            |__vitals_value: &#ty| -> ::core::result::Result<(), ::std::string::String> {
                match __vitals_value {
                    ::core::option::Option::Some(__vitals_value) => #path(__vitals_value),
                    ::core::option::Option::None => ::core::result::Result::Ok(()),
                }
            }
        },
    }
}

/// Adds `error` to the ones found so far, so that every misuse is reported at once.
fn combine(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(errors) => errors.combine(error),
        None => *errors = Some(error),
    }
}

/// Reads one field and its attributes.
fn key(field: &syn::Field) -> syn::Result<Key> {
    let Some(ident) = field.ident.clone() else {
        return Err(syn::Error::new(field.span(), "#[derive(Config)] needs named fields"));
    };
    let mut name = ident.to_string().trim_start_matches("r#").to_string();
    let mut name_span = ident.span();
    let mut default: Option<(DefaultValue, Span)> = None;
    let mut required: Option<Span> = None;
    let mut check = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("config")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                let expr: Expr = meta.value()?.parse()?;
                if default.is_some() {
                    return Err(meta.error("`default` is given twice"));
                }
                default = Some((default_value(&expr)?, expr.span()));
            } else if meta.path.is_ident("required") {
                required = Some(meta.path.span());
            } else if meta.path.is_ident("rename") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                let renamed = lit.value();
                if renamed.is_empty() || renamed.chars().any(|c| c.is_whitespace() || c.is_control() || c == '.') {
                    return Err(syn::Error::new(
                        lit.span(),
                        "a config key name must be non-empty, without spaces, dots or control characters",
                    ));
                }
                name = renamed;
                name_span = lit.span();
            } else if meta.path.is_ident("check") {
                check = Some(meta.value()?.parse::<syn::Path>()?);
            } else {
                let what = meta.path.get_ident().map(|i| format!("`{i}`")).unwrap_or_else(|| "this".to_string());
                return Err(meta.error(format!(
                    "unknown config attribute {what}: expected `default = ...`, `required`, `rename = \"...\"` or `check = path`"
                )));
            }
            Ok(())
        })?;
    }

    let option_inner = option_inner(&field.ty);
    let absent = match (default, required) {
        (Some((_, span)), Some(_)) => {
            return Err(syn::Error::new(
                span,
                format!(
                    "key `{name}` is `required` and has a `default`: a key with a default may be left out, so drop one"
                ),
            ));
        }
        (Some((_, span)), None) if option_inner.is_some() => {
            return Err(syn::Error::new(
                span,
                format!(
                    "key `{name}` is an `Option` with a `default`: an `Option` key is `None` when left out; \
                     drop the `Option` to keep the default"
                ),
            ));
        }
        (None, Some(span)) if option_inner.is_some() => {
            return Err(syn::Error::new(
                span,
                format!("key `{name}` is a `required` `Option`: a required key is always there, so drop the `Option`"),
            ));
        }
        (Some((value, _)), None) => Absent::Default(value),
        (None, Some(_)) => Absent::Required,
        (None, None) => Absent::Empty,
    };

    let doc = doc_of(&field.attrs);
    if doc.is_empty() {
        return Err(syn::Error::new(
            ident.span(),
            format!(
                "config key `{name}` needs a doc comment (`/// What the key does.`): it is the key's description in `describe` and `vitals plugin inspect`"
            ),
        ));
    }

    Ok(Key { ident, ty: field.ty.clone(), option_inner, name, name_span, doc, absent, check })
}

/// The field's doc comment as one line: its lines trimmed and joined with spaces.
fn doc_of(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(syn::ExprLit { lit: Lit::Str(text), .. }) = &nv.value
        {
            let text = text.value();
            lines.extend(text.lines().map(|line| line.trim().to_string()).filter(|line| !line.is_empty()));
        }
    }
    lines.join(" ")
}

/// `T` when `ty` is spelled `Option<T>` (or `std::option::Option<T>`, `core::option::Option<T>`).
fn option_inner(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner.clone()),
        _ => None,
    }
}

/// Reads a `default = ...` value: a literal, a negative number, or an array of them.
fn default_value(expr: &Expr) -> syn::Result<DefaultValue> {
    let unsupported = || {
        syn::Error::new(
            expr.span(),
            "a config default is written as in checks.toml: a string (\"GET\", \"5s\", \"200-399\"), \
             an integer, a float, `true`/`false`, or an array of them",
        )
    };
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) => Ok(DefaultValue::Str(s.value())),
            Lit::Int(i) => Ok(DefaultValue::Int(i.base10_parse::<i128>()?)),
            Lit::Float(f) => Ok(DefaultValue::Float(f.base10_parse::<f64>()?)),
            Lit::Bool(b) => Ok(DefaultValue::Bool(b.value)),
            _ => Err(unsupported()),
        },
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => match default_value(&unary.expr)? {
            DefaultValue::Int(i) => Ok(DefaultValue::Int(-i)),
            DefaultValue::Float(f) => Ok(DefaultValue::Float(-f)),
            _ => Err(unsupported()),
        },
        Expr::Array(array) => {
            array.elems.iter().map(default_value).collect::<syn::Result<_>>().map(DefaultValue::Array)
        }
        Expr::Group(group) => default_value(&group.expr),
        _ => Err(unsupported()),
    }
    .and_then(|value| {
        if let DefaultValue::Int(i) = value
            && (i < i128::from(i64::MIN) || i > i128::from(u64::MAX))
        {
            return Err(syn::Error::new(expr.span(), "this default does not fit in 64 bits"));
        }
        Ok(value)
    })
}

impl DefaultValue {
    /// The value as TOML, as `describe` announces it. The text is JSON too.
    fn toml(&self) -> String {
        match self {
            DefaultValue::Str(s) => quote_string(s),
            DefaultValue::Int(i) => i.to_string(),
            // `{:?}` always writes a point or an exponent (`5.0`, `1e-7`), as TOML needs.
            DefaultValue::Float(f) => format!("{f:?}"),
            DefaultValue::Bool(b) => b.to_string(),
            DefaultValue::Array(items) => {
                let items: Vec<String> = items.iter().map(DefaultValue::toml).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }

    /// An expression building the value as a `serde_json::Value`.
    fn json(&self, p: &TokenStream2) -> TokenStream2 {
        match self {
            DefaultValue::Str(s) => quote!(#p::json_string(#s)),
            DefaultValue::Int(i) => match i64::try_from(*i) {
                Ok(i) => {
                    let lit = Literal::i64_suffixed(i);
                    quote!(#p::json_i64(#lit))
                }
                Err(_) => {
                    let lit = Literal::u64_suffixed(u64::try_from(*i).unwrap_or(u64::MAX));
                    quote!(#p::json_u64(#lit))
                }
            },
            DefaultValue::Float(f) => {
                let lit = Literal::f64_suffixed(*f);
                quote!(#p::json_f64(#lit))
            }
            DefaultValue::Bool(b) => quote!(#p::json_bool(#b)),
            DefaultValue::Array(items) => {
                let items = items.iter().map(|item| item.json(p));
                quote!(#p::json_array(::std::vec![#(#items),*]))
            }
        }
    }
}

/// A TOML basic string (which is also a JSON string): `"`, `\` and control characters
/// escaped.
fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() && (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_written_as_toml() {
        let expr = |text: &str| match syn::parse_str::<Expr>(text) {
            Ok(expr) => expr,
            Err(e) => panic!("{text}: {e}"),
        };
        let toml = |text: &str| match default_value(&expr(text)) {
            Ok(value) => value.toml(),
            Err(e) => panic!("{text}: {e}"),
        };
        assert_eq!(toml("\"GET\""), "\"GET\"");
        assert_eq!(toml("1_048_576"), "1048576");
        assert_eq!(toml("0x10"), "16");
        assert_eq!(toml("-3"), "-3");
        assert_eq!(toml("5.0"), "5.0");
        assert_eq!(toml("0.25"), "0.25");
        assert_eq!(toml("true"), "true");
        assert_eq!(toml("[\"a\", \"b\"]"), "[\"a\", \"b\"]");
        assert_eq!(toml("\"a\\\"b\\\\c\\n\\u{7}\""), "\"a\\\"b\\\\c\\n\\u0007\"");
        for bad in ["GET", "'c'", "1 + 2", "-\"x\"", "99999999999999999999999"] {
            assert!(default_value(&expr(bad)).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn doc_lines_are_joined() {
        let field: syn::Field = syn::parse_quote! {
            /// Accepted status codes:
            ///   comma-separated.
            ///
            /// Second paragraph.
            x: u8
        };
        assert_eq!(doc_of(&field.attrs), "Accepted status codes: comma-separated. Second paragraph.");
    }

    #[test]
    fn misuse_is_explained() {
        let error = |input: DeriveInput| match expand(&input) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        };
        let e = error(syn::parse_quote! { struct C { x: u8 } });
        assert!(e.contains("needs a doc comment"), "{e}");
        let e = error(syn::parse_quote! { struct C { /// d
        #[config(required, default = 1)] x: u8 } });
        assert!(e.contains("is `required` and has a `default`"), "{e}");
        let e = error(syn::parse_quote! { struct C { /// d
        #[config(default = 1)] x: Option<u8> } });
        assert!(e.contains("`Option` with a `default`"), "{e}");
        let e = error(syn::parse_quote! { struct C { /// d
        #[config(defualt = 1)] x: u8 } });
        assert!(e.contains("unknown config attribute `defualt`"), "{e}");
        let e = error(syn::parse_quote! { struct C { /// d
        a: u8, /// d
        #[config(rename = "a")] b: u8 } });
        assert!(e.contains("two fields are the config key `a`"), "{e}");
        let e = error(syn::parse_quote! { struct C(u8); });
        assert!(e.contains("named fields"), "{e}");
        let e = error(syn::parse_quote! { enum C { A } });
        assert!(e.contains("struct with named fields"), "{e}");
    }
}
