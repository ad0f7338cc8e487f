//! The generated operation glue: the `Operation` enum, the `QueryParams` both operations
//! take, and one `Client::<operation>_with(&QueryParams)` call per operation, so a caller
//! sets every parameter the spec has in one place.
//!
//! The facade (`crates/datadog-cnm`) builds `QueryParams` from its query builder. A
//! parameter the facade does not set yet is a codegen error naming it and what to add, so
//! a new parameter in the spec is never silently ignored.

use anyhow::{Context, Result, bail};
use openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
    VariantOrUnknownOrEmpty,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// The query parameters the facade's `Query<R>` sets (crates/datadog-cnm/src/query.rs).
/// Add a name here only together with its builder method there.
pub const FACADE_PARAMETERS: [&str; 6] = ["from", "to", "group_by", "tags", "query", "limit"];

/// One query parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    name: String,
    /// `i64`, `u32`, `String` or `bool`.
    rust_type: &'static str,
    /// Its description, per operation that describes it (operations may word it apart).
    descriptions: Vec<(String, String)>,
}

/// One operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationSpec {
    /// `GetAggregatedConnections`.
    id: String,
    /// progenitor's method name, `get_aggregated_connections`.
    method: String,
    path: String,
    summary: String,
    /// The Rust type of the 200 response body, e.g. `crate::ConnectionsDocument`.
    document: String,
}

/// The operations and their (shared) parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operations {
    operations: Vec<OperationSpec>,
    params: Vec<ParamSpec>,
}

/// Read the operations of `spec`; `documents` maps a response schema name to the Rust type
/// that replaces it.
pub fn read(spec: &OpenAPI, documents: &[(&str, &str)]) -> Result<Operations> {
    let mut operations = Vec::new();
    let mut params: Option<(String, Vec<ParamSpec>)> = None;
    for (path, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            bail!("path {path} is a $ref; write it inline");
        };
        for (method, operation) in item.iter() {
            let id = operation
                .operation_id
                .clone()
                .with_context(|| format!("{method} {path} has no operationId"))?;
            let mut own = Vec::new();
            for parameter in &operation.parameters {
                own.push(parameter_of(spec, parameter, &id)?);
            }
            match &mut params {
                None => params = Some((id.clone(), own)),
                Some((first, shared)) => {
                    let same = shared.len() == own.len()
                        && shared
                            .iter()
                            .zip(&own)
                            .all(|(a, b)| a.name == b.name && a.rust_type == b.rust_type);
                    if !same {
                        bail!(
                            "{id} and {first} take different query parameters; the generated \
                             `QueryParams` is shared by both operations, so keep their \
                             parameters the same, in the same order (or split it in \
                             xtask/src/codegen/operations.rs)"
                        );
                    }
                    for (param, other) in shared.iter_mut().zip(own) {
                        let new = other
                            .descriptions
                            .into_iter()
                            .filter(|(_, text)| !param.descriptions.iter().any(|(_, t)| t == text));
                        param.descriptions.extend(new.collect::<Vec<_>>());
                    }
                }
            }
            operations.push(OperationSpec {
                method: snake_case(&id),
                document: document_of(operation, &id, documents)?,
                summary: operation.summary.clone().unwrap_or_else(|| id.clone()),
                path: path.clone(),
                id,
            });
        }
    }
    let (_, params) = params.context("the spec has no operation")?;
    check_facade(&params)?;
    Ok(Operations { operations, params })
}

/// Every parameter is one the facade sets, and every one it sets exists.
fn check_facade(params: &[ParamSpec]) -> Result<()> {
    for param in params {
        if !FACADE_PARAMETERS.contains(&param.name.as_str()) {
            bail!(
                "the query parameter `{name}` ({rust}) is in the spec but the facade does not set \
                 it: add a `Query::{name}` builder method in crates/datadog-cnm/src/query.rs that \
                 validates it and sets `QueryParams::{name}` (generated), a flag in \
                 crates/datadog-cnm-cli/src/cli.rs, then add \"{name}\" to FACADE_PARAMETERS in \
                 xtask/src/codegen/operations.rs and run `cargo xtask codegen` again",
                name = param.name,
                rust = param.rust_type
            );
        }
    }
    for name in FACADE_PARAMETERS {
        if !params.iter().any(|p| p.name == name) {
            bail!(
                "the facade sets the query parameter `{name}`, which the spec no longer has: \
                 remove it from FACADE_PARAMETERS (xtask/src/codegen/operations.rs) and from \
                 crates/datadog-cnm/src/query.rs"
            );
        }
    }
    Ok(())
}

fn parameter_of(spec: &OpenAPI, parameter: &ReferenceOr<Parameter>, id: &str) -> Result<ParamSpec> {
    let parameter = match parameter {
        ReferenceOr::Item(parameter) => parameter,
        ReferenceOr::Reference { reference } => {
            let name = reference
                .strip_prefix("#/components/parameters/")
                .with_context(|| format!("{id}: unsupported parameter reference {reference}"))?;
            match spec
                .components
                .as_ref()
                .and_then(|c| c.parameters.get(name))
            {
                Some(ReferenceOr::Item(parameter)) => parameter,
                _ => bail!("{id}: the parameter {reference} is missing or itself a $ref"),
            }
        }
    };
    let Parameter::Query { parameter_data, .. } = parameter else {
        bail!(
            "{id}: the parameter `{}` is not in the query string; only query parameters are \
             supported (extend xtask/src/codegen/operations.rs)",
            parameter.parameter_data_ref().name
        );
    };
    let ParameterSchemaOrContent::Schema(schema) = &parameter_data.format else {
        bail!(
            "{id}: the parameter `{}` has no schema",
            parameter_data.name
        );
    };
    let schema = resolve(spec, schema)
        .with_context(|| format!("{id}: the schema of parameter `{}`", parameter_data.name))?;
    let rust_type = match &schema.schema_kind {
        SchemaKind::Type(Type::Integer(integer)) => {
            let non_negative = integer.minimum.is_some_and(|min| min >= 0);
            match &integer.format {
                VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) if non_negative => {
                    "u32"
                }
                _ => "i64",
            }
        }
        SchemaKind::Type(Type::String(_)) => "String",
        SchemaKind::Type(Type::Boolean(_)) => "bool",
        _ => bail!(
            "{id}: the parameter `{}` is neither an integer, a string nor a boolean; extend \
             xtask/src/codegen/operations.rs",
            parameter_data.name
        ),
    };
    let description = parameter_data
        .description
        .as_deref()
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    Ok(ParamSpec {
        name: parameter_data.name.clone(),
        rust_type,
        descriptions: vec![(id.to_owned(), description)],
    })
}

fn resolve<'a>(spec: &'a OpenAPI, schema: &'a ReferenceOr<Schema>) -> Result<&'a Schema> {
    match schema {
        ReferenceOr::Item(schema) => Ok(schema),
        ReferenceOr::Reference { reference } => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .with_context(|| format!("unsupported reference {reference}"))?;
            match spec.components.as_ref().and_then(|c| c.schemas.get(name)) {
                Some(ReferenceOr::Item(schema)) => Ok(schema),
                _ => bail!("the schema {reference} is missing or itself a $ref"),
            }
        }
    }
}

/// The Rust type of the 200 response of `operation`.
fn document_of(
    operation: &openapiv3::Operation,
    id: &str,
    documents: &[(&str, &str)],
) -> Result<String> {
    let ok = operation
        .responses
        .responses
        .get(&openapiv3::StatusCode::Code(200))
        .with_context(|| format!("{id} has no 200 response"))?;
    let ReferenceOr::Item(ok) = ok else {
        bail!("{id}: the 200 response is a $ref; write it inline");
    };
    let schema = ok
        .content
        .values()
        .next()
        .and_then(|media| media.schema.as_ref())
        .with_context(|| format!("{id}: the 200 response has no schema"))?;
    let ReferenceOr::Reference { reference } = schema else {
        bail!("{id}: the 200 response schema must be a $ref to a replaced document schema");
    };
    let name = reference.trim_start_matches("#/components/schemas/");
    documents
        .iter()
        .find(|(schema, _)| *schema == name)
        .map(|(_, rust)| (*rust).to_owned())
        .with_context(|| {
            format!(
                "{id}: the 200 response schema {name} has no hand-written replacement; add one \
                 (crates/datadog-cnm-raw/src/rows/) and register it in xtask/src/codegen/mod.rs"
            )
        })
}

/// `GetAggregatedConnections` → `get_aggregated_connections`.
fn snake_case(id: &str) -> String {
    let mut out = String::new();
    for (i, c) in id.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// The Rust source of `generated_operations.rs`.
pub fn generate(operations: &Operations) -> Result<TokenStream> {
    let variants: Vec<Ident> = operations.operations.iter().map(|o| ident(&o.id)).collect();
    let ids: Vec<&str> = operations
        .operations
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    let paths: Vec<&str> = operations
        .operations
        .iter()
        .map(|o| o.path.as_str())
        .collect();
    let variant_docs = operations
        .operations
        .iter()
        .map(|o| format!("`{}`: `GET {}` ({}).", o.id, o.path, o.summary));
    let count = variants.len();
    let fields: Vec<Ident> = operations.params.iter().map(|p| ident(&p.name)).collect();
    let field_docs = operations
        .params
        .iter()
        .map(|p| match p.descriptions.as_slice() {
            [(_, text)] if !text.is_empty() => format!("`{}`: {text}", p.name),
            [(_, _)] | [] => format!("`{}` (no description in the spec).", p.name),
            several => {
                let each: Vec<String> = several
                    .iter()
                    .map(|(id, text)| format!("- {id}: {text}"))
                    .collect();
                format!("`{}`:\n\n{}", p.name, each.join("\n"))
            }
        });
    let types: Vec<TokenStream> = operations
        .params
        .iter()
        .map(|p| {
            p.rust_type
                .parse::<TokenStream>()
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect::<Result<_>>()?;
    let setters: Vec<TokenStream> = operations
        .params
        .iter()
        .map(|p| {
            let field = ident(&p.name);
            if p.rust_type == "String" {
                quote!(if let Some(value) = &params.#field { request = request.#field(value.as_str()); })
            } else {
                quote!(if let Some(value) = params.#field { request = request.#field(value); })
            }
        })
        .collect();
    let mut calls = Vec::new();
    for operation in &operations.operations {
        let method = ident(&operation.method);
        let with = ident(&format!("{}_with", operation.method));
        let document: TokenStream = operation
            .document
            .parse()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let doc = format!(
            "`{}` (`GET {}`) with every parameter of `params`: one HTTP exchange through the \
             client's [`Seam`](crate::Seam), decoded.",
            operation.id, operation.path
        );
        calls.push(quote! {
            #[doc = #doc]
            pub async fn #with(
                &self,
                params: &QueryParams,
            ) -> Result<ResponseValue<#document>, Error<types::ApiErrorResponse>> {
                let mut request = self.#method();
                #(#setters)*
                request.send().await
            }
        });
    }
    Ok(quote! {
        use crate::{Client, Error, ResponseValue, types};

        /// One of the spec's operations.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Operation {
            #(
                #[doc = #variant_docs]
                #variants,
            )*
        }

        impl Operation {
            /// Every operation, in spec order.
            pub const ALL: [Operation; #count] = [#(Self::#variants),*];

            /// The spec's `operationId`, e.g. `GetAggregatedConnections`.
            pub fn operation_id(self) -> &'static str {
                match self {
                    #(Self::#variants => #ids,)*
                }
            }

            /// The request path, e.g. `/api/v2/network/connections/aggregate`.
            pub fn path(self) -> &'static str {
                match self {
                    #(Self::#variants => #paths,)*
                }
            }
        }

        impl ::std::fmt::Display for Operation {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.operation_id())
            }
        }

        /// The query parameters both operations take, as the spec names them; `None` is not
        /// sent.
        ///
        /// Values go on the wire as they are: callers validate them first (the facade crate
        /// does).
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct QueryParams {
            #(
                #[doc = #field_docs]
                pub #fields: Option<#types>,
            )*
        }

        impl Client {
            #(#calls)*
        }
    })
}
