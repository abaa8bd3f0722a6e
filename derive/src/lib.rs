//! `#[derive(Decode)]`: the decoder of a core type, read from the type's own `#[serde(...)]`
//! attributes, so a shape is declared once and serde (native code, the spool) and the core's
//! decoder (every untrusted input, natively and in WebAssembly) agree on it.
//!
//! Why not serde's `Deserialize` on the input path: its derive writes a visitor, a field
//! identifier visitor and an `Option` slot per field for every type, and each is instantiated
//! against the deserializer; in the `.wasm` that was most of the module. What this derive writes
//! per type is one `match` from a field's position to its place (`&mut dyn Slot`, one decoder per
//! field type); the loop over an object's fields, the duplicate check and every error message
//! live once, in `autoplay_botpress::decode`.
//!
//! Attributes honoured (serde's meaning): container `default`, `rename_all` (`camelCase`,
//! `snake_case`, `lowercase`); field `rename`, `default`, `deserialize_with = "null_as_default"`
//! (a `null` field already reads as a missing one); variant `rename`. `skip_serializing_if` is
//! serialization only. Any other serde attribute is refused at compile time rather than ignored,
//! so the two readings cannot drift apart silently.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use syn::{parse_macro_input, Attribute, Data, DeriveInput, Error, Fields, LitStr, Result, Type};

/// Implements `autoplay_botpress::decode::Decode` for a struct with named fields or an enum of
/// unit variants (decoded from their names as strings).
#[proc_macro_derive(Decode, attributes(serde))]
pub fn derive_decode(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(Error::into_compile_error)
        .into()
}

fn expand(input: &DeriveInput) -> Result<Tokens> {
    if !input.generics.params.is_empty() {
        return Err(Error::new_spanned(
            &input.generics,
            "Decode: generic types are not supported",
        ));
    }
    let container = Container::read(&input.attrs)?;
    let name = &input.ident;
    let body = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => struct_body(name, &container, fields)?,
            _ => {
                return Err(Error::new_spanned(
                    name,
                    "Decode: only structs with named fields",
                ))
            }
        },
        Data::Enum(data) => enum_body(name, &container, data)?,
        Data::Union(_) => return Err(Error::new_spanned(name, "Decode: unions are not supported")),
    };
    Ok(quote! {
        impl ::autoplay_botpress::decode::Decode for #name {
            fn decode(
                node: ::autoplay_botpress::decode::Node<'_>,
                at: &::autoplay_botpress::decode::Path<'_>,
            ) -> ::core::result::Result<Self, ::autoplay_botpress::decode::InputError> {
                #body
            }
        }
    })
}

fn struct_body(
    name: &syn::Ident,
    container: &Container,
    fields: &syn::FieldsNamed,
) -> Result<Tokens> {
    let fields: Vec<Field> = fields
        .named
        .iter()
        .map(|f| Field::read(f, container))
        .collect::<Result<_>>()?;
    let Some(last) = fields.len().checked_sub(1) else {
        return Err(Error::new_spanned(name, "Decode: a struct without fields"));
    };
    if fields.len() > 64 {
        return Err(Error::new_spanned(name, "Decode: at most 64 fields"));
    }
    let expecting = format!("struct {name}");
    let keys = fields.iter().map(|f| &f.key);
    let positions = 0..last;
    let decode = quote!(::autoplay_botpress::decode);
    if container.default {
        // Missing fields keep the container's `Default`, as serde's container `default` does.
        let idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
        let last_ident = idents[last];
        let idents = &idents[..last];
        return Ok(quote! {
            // Local items, named so that no field type can be shadowed by them.
            struct __DecodeTarget<'t>(&'t mut #name);
            impl #decode::FieldSlots for __DecodeTarget<'_> {
                fn slot(&mut self, position: usize) -> &mut dyn #decode::Slot {
                    match position {
                        #(#positions => &mut self.0.#idents,)*
                        _ => &mut self.0.#last_ident,
                    }
                }
            }
            let mut out: #name = ::core::default::Default::default();
            #decode::decode_fields(node, at, #expecting, &[#(#keys),*], &mut __DecodeTarget(&mut out))?;
            ::core::result::Result::Ok(out)
        });
    }
    // Otherwise one `Option` per field, then serde's rule for each missing one: its default, `None`
    // for an `Option`, else "missing field".
    let slots: Vec<_> = (0..fields.len())
        .map(|i| format_ident!("field{i}"))
        .collect();
    let types = fields.iter().map(|f| &f.ty);
    let last_slot = &slots[last];
    let build = fields.iter().zip(&slots).map(|(f, slot)| {
        let ident = &f.ident;
        let key = &f.key;
        if f.default || f.optional {
            quote!(#ident: slots.#slot.unwrap_or_default())
        } else {
            quote! {
                #ident: match slots.#slot {
                    ::core::option::Option::Some(value) => value,
                    ::core::option::Option::None => {
                        return ::core::result::Result::Err(#decode::missing_field(at, #key))
                    }
                }
            }
        }
    });
    let each_slot = &slots[..last];
    Ok(quote! {
        #[derive(Default)]
        struct __DecodeSlots { #(#slots: ::core::option::Option<#types>,)* }
        impl #decode::FieldSlots for __DecodeSlots {
            fn slot(&mut self, position: usize) -> &mut dyn #decode::Slot {
                match position {
                    #(#positions => &mut self.#each_slot,)*
                    _ => &mut self.#last_slot,
                }
            }
        }
        let mut slots = __DecodeSlots::default();
        #decode::decode_fields(node, at, #expecting, &[#(#keys),*], &mut slots)?;
        ::core::result::Result::Ok(#name { #(#build),* })
    })
}

fn enum_body(name: &syn::Ident, container: &Container, data: &syn::DataEnum) -> Result<Tokens> {
    if container.default {
        return Err(Error::new_spanned(name, "Decode: `default` on an enum"));
    }
    let mut names = Vec::new();
    let mut idents = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(Error::new_spanned(
                variant,
                "Decode: only unit variants (read from their names)",
            ));
        }
        let mut rename = None;
        for_serde_meta(&variant.attrs, |meta| {
            if meta.path.is_ident("rename") {
                rename = Some(meta.value()?.parse::<LitStr>()?.value());
                Ok(())
            } else {
                Err(unsupported(&meta))
            }
        })?;
        let ident = variant.ident.to_string();
        names.push(rename.unwrap_or_else(|| container.rename_variant(&ident)));
        idents.push(&variant.ident);
    }
    let Some(last) = idents.pop() else {
        return Err(Error::new_spanned(name, "Decode: an enum without variants"));
    };
    let expecting = format!("enum {name}");
    let positions = 0..idents.len();
    Ok(quote! {
        ::core::result::Result::Ok(
            match ::autoplay_botpress::decode::decode_variant(node, at, #expecting, &[#(#names),*])? {
                #(#positions => Self::#idents,)*
                _ => Self::#last,
            }
        )
    })
}

/// The container's attributes that change decoding.
struct Container {
    default: bool,
    rename_all: Option<String>,
}

impl Container {
    fn read(attrs: &[Attribute]) -> Result<Self> {
        let mut container = Container {
            default: false,
            rename_all: None,
        };
        for_serde_meta(attrs, |meta| {
            if meta.path.is_ident("default") && bare(&meta) {
                container.default = true;
            } else if meta.path.is_ident("rename_all") {
                let rule = meta.value()?.parse::<LitStr>()?;
                if !matches!(
                    rule.value().as_str(),
                    "camelCase" | "snake_case" | "lowercase"
                ) {
                    return Err(Error::new_spanned(
                        rule,
                        "Decode: unsupported rename_all rule",
                    ));
                }
                container.rename_all = Some(rule.value());
            } else {
                return Err(unsupported(&meta));
            }
            Ok(())
        })?;
        Ok(container)
    }

    /// A field's name under `rename_all`, as serde spells it.
    fn rename_field(&self, field: &str) -> String {
        match self.rename_all.as_deref() {
            Some("camelCase") => {
                let mut out = String::new();
                let mut upper = false;
                for c in field.chars() {
                    if c == '_' {
                        upper = !out.is_empty();
                    } else if upper {
                        out.push(c.to_ascii_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            _ => field.to_owned(),
        }
    }

    /// A variant's name under `rename_all`, as serde spells it.
    fn rename_variant(&self, variant: &str) -> String {
        match self.rename_all.as_deref() {
            Some("lowercase") => variant.to_ascii_lowercase(),
            Some("snake_case") => {
                let mut out = String::new();
                for (i, c) in variant.char_indices() {
                    if i > 0 && c.is_uppercase() {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                }
                out
            }
            Some("camelCase") => {
                let mut chars = variant.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_lowercase().to_string() + chars.as_str()
                })
            }
            _ => variant.to_owned(),
        }
    }
}

/// A struct field as the decoder sees it.
struct Field {
    ident: syn::Ident,
    ty: Type,
    /// The JSON key.
    key: String,
    /// `#[serde(default)]`: missing means `Default::default()`.
    default: bool,
    /// An `Option`: missing means `None`, as serde reads it.
    optional: bool,
}

impl Field {
    fn read(field: &syn::Field, container: &Container) -> Result<Self> {
        let ident = field.ident.clone().expect("named field");
        let mut rename = None;
        let mut default = false;
        for_serde_meta(&field.attrs, |meta| {
            if meta.path.is_ident("rename") {
                rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("default") && bare(&meta) {
                default = true;
            } else if meta.path.is_ident("deserialize_with") {
                let with = meta.value()?.parse::<LitStr>()?;
                if with.value() != "null_as_default" {
                    return Err(Error::new_spanned(
                        with,
                        "Decode: only deserialize_with = \"null_as_default\"",
                    ));
                }
            } else if meta.path.is_ident("skip_serializing_if") {
                meta.value()?.parse::<LitStr>()?;
            } else {
                return Err(unsupported(&meta));
            }
            Ok(())
        })?;
        let name = ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        let optional = matches!(&field.ty, Type::Path(p)
            if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Option"));
        Ok(Field {
            key: rename.unwrap_or_else(|| container.rename_field(name)),
            ident,
            ty: field.ty.clone(),
            default,
            optional,
        })
    }
}

/// Calls `each` on every item of every `#[serde(...)]` attribute.
fn for_serde_meta(
    attrs: &[Attribute],
    mut each: impl FnMut(syn::meta::ParseNestedMeta) -> Result<()>,
) -> Result<()> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(&mut each)?;
    }
    Ok(())
}

/// Whether the item is a bare word (`default`, not `default = "path"`).
fn bare(meta: &syn::meta::ParseNestedMeta) -> bool {
    !meta.input.peek(syn::Token![=]) && !meta.input.peek(syn::token::Paren)
}

fn unsupported(meta: &syn::meta::ParseNestedMeta) -> Error {
    let name = meta
        .path
        .get_ident()
        .map_or_else(|| "this".to_owned(), ToString::to_string);
    meta.error(format!(
        "Decode does not read #[serde({name})]: decode it by hand or teach the derive"
    ))
}

#[cfg(test)]
mod tests {
    use super::Container;

    fn rule(rename_all: &str) -> Container {
        Container {
            default: false,
            rename_all: Some(rename_all.to_owned()),
        }
    }

    #[test]
    fn renames_as_serde_does() {
        assert_eq!(
            rule("camelCase").rename_field("max_row_bytes"),
            "maxRowBytes"
        );
        assert_eq!(rule("camelCase").rename_field("user_id"), "userId");
        assert_eq!(rule("camelCase").rename_field("now"), "now");
        assert_eq!(rule("snake_case").rename_field("user_id"), "user_id");
        assert_eq!(
            rule("snake_case").rename_variant("RageClicks"),
            "rage_clicks"
        );
        assert_eq!(rule("snake_case").rename_variant("Dwell"), "dwell");
        assert_eq!(rule("lowercase").rename_variant("Sessions"), "sessions");
        assert_eq!(
            rule("camelCase").rename_variant("SessionRows"),
            "sessionRows"
        );
    }
}
