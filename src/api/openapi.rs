//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of every route, generated from the
//! route tables in `routes.rs` — Doris routes from their protobuf [`MessageSchema`]s (the same
//! descriptions the body parser walks), operations routes from `utoipa::ToSchema` derives on the
//! types they serialize. Nothing here is written per route, so the document cannot drift from
//! what the server parses.
//!
//! Lenient input is described as accepted: int64 fields take a number or a decimal string,
//! enums a name or a number, unknown keys are allowed (brpc ignores them).

use std::sync::OnceLock;

use axum::http::header;
use axum::http::HeaderValue;
use axum::response::IntoResponse;
use axum::response::Response;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::OperationBuilder;
use utoipa::openapi::path::ParameterBuilder;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::path::PathItem;
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::AnyOfBuilder;
use utoipa::openapi::schema::ArrayBuilder;
use utoipa::openapi::schema::ComponentsBuilder;
use utoipa::openapi::schema::KnownFormat;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::schema::SchemaFormat;
use utoipa::openapi::schema::SchemaType;
use utoipa::openapi::schema::Type;
use utoipa::openapi::security::ApiKey;
use utoipa::openapi::security::ApiKeyValue;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::security::SecurityScheme;
use utoipa::openapi::HttpMethod;
use utoipa::openapi::InfoBuilder;
use utoipa::openapi::OpenApi;
use utoipa::openapi::OpenApiBuilder;
use utoipa::openapi::PathsBuilder;
use utoipa::openapi::Ref;
use utoipa::openapi::RefOr;
use utoipa::openapi::Required;

use super::body::DORIS_PREFIX;
use super::routes::Answer;
use super::routes::DorisRoute;
use super::routes::OpsAnswer;
use super::routes::OpsRoute;
use super::routes::Param;
use super::routes::DORIS_ROUTES;
use super::routes::OPS_ROUTES;
use super::rpc::RpcMethod;
use super::rpc::RPC_METHODS;
use super::rpc::SERVICE_PREFIXES;
use crate::keys::KEY_TYPES;
use crate::meta::schema::Kind;
use crate::meta::schema::Label;
use crate::meta::schema::MessageSchema;

/// Named schemas collected while describing the routes (`components.schemas`).
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// `GET /api/v1/openapi.json`. Built once: the routes are static.
pub async fn document() -> Response {
    static TEXT: OnceLock<String> = OnceLock::new();
    let text = TEXT.get_or_init(|| build().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")));
    let mut response = text.clone().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The whole document.
pub fn build() -> OpenApi {
    let mut schemas: Schemas = vec![(
        "Envelope".into(),
        envelope(None, "Doris's answer: `code` (OK, INVALID_ARGUMENT, NOT_FOUND, …) and `msg`"),
    )];
    let mut paths = PathsBuilder::new();
    for route in DORIS_ROUTES {
        let op = doris_operation(route, &mut schemas);
        for prefix in [DORIS_PREFIX.to_string(), format!("{DORIS_PREFIX}/v1")] {
            let method = if route.body.is_some() { HttpMethod::Post } else { HttpMethod::Get };
            let mut op = op.clone();
            op.operation_id = Some(format!("{}{}", route.name, if prefix.ends_with("v1") { "_v1" } else { "" }));
            paths = paths.path(format!("{prefix}/{}", route.name), PathItem::new(method, op));
        }
    }
    for method in RPC_METHODS {
        let op = rpc_operation(method, &mut schemas);
        for prefix in SERVICE_PREFIXES {
            let mut op = op.clone();
            let qualified = if prefix.contains('.') { "_qualified" } else { "" };
            op.operation_id = Some(format!("rpc_{}{qualified}", method.name));
            paths = paths.path(format!("{prefix}/{}", method.name), PathItem::new(HttpMethod::Post, op));
        }
    }
    let mut ops = PathsBuilder::new().build();
    for route in OPS_ROUTES {
        ops.add_path_operation(route.path, vec![http_method(route)], ops_operation(route, &mut schemas));
    }
    let mut paths = paths.build();
    paths.merge(ops);
    schemas.sort_by(|a, b| a.0.cmp(&b.0));
    schemas.dedup_by(|a, b| a.0 == b.0);
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .responses_from_iter(error_responses().into_iter().map(|(status, r)| (error_name(status), r)))
        .security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "the meta service token (`--token`); checked before the route is looked up",
            ))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("metaraft")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The Doris Meta Service HTTP API (`/MetaService/http/[v1/]<route>`, any method) served by a \
                     Raft-replicated store, plus the operations routes (`/api/v1/…`, health, metrics).",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

fn doris_operation(route: &DorisRoute, schemas: &mut Schemas) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .summary(Some(route.summary))
        .tag(tag(route))
        .security(SecurityRequirement::new::<_, [&str; 0], &str>("token", []));
    for param in route.query {
        op = op.parameter(query_param(param, false));
    }
    if route.query.iter().any(|p| p.name == "key_type") {
        // The key tools read each parameter the chosen key type names.
        let mut names: Vec<&str> = KEY_TYPES.iter().flat_map(|t| t.params.iter().copied()).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            op = op.parameter(query_param(&Param { name, about: "a key parameter (see key_type)" }, false));
        }
    }
    if let Some(body) = route.body {
        let reference = message(body, schemas);
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .description(Some("protobuf JSON (lenient: single quotes, trailing commas and unquoted keys parse)"))
                .content("application/json", ContentBuilder::new().schema(Some(reference)).build())
                .build(),
        ));
    }
    let ok = match route.answer {
        Answer::Ok => json_response("OK", Ref::from_schema_name("Envelope").into()),
        Answer::Message(m) => {
            let result = message(m, schemas);
            json_response("OK; `result` holds the message", envelope(Some(result), route.summary))
        }
        Answer::Response(name) => json_response(
            "OK; `result` is the whole response, `status` first",
            envelope(Some(ObjectBuilder::new().title(Some(name)).into()), route.summary),
        ),
        Answer::Text => text_response("the text Doris prints", "text/plain"),
    };
    with_errors(op.response("200", ok)).build()
}

fn rpc_operation(method: &RpcMethod, schemas: &mut Schemas) -> utoipa::openapi::path::Operation {
    let kind = if method.writes { "a write through the Raft log" } else { "a linearizable read" };
    let request = message(method.request, schemas);
    let response = message(method.response, schemas);
    OperationBuilder::new()
        .summary(Some(format!("brpc method `{}` ({kind})", method.name)))
        .tag("brpc methods (load path)")
        .security(SecurityRequirement::new::<_, [&str; 0], &str>("token", []))
        .request_body(Some(
            RequestBodyBuilder::new()
                .description(Some("brpc JSON: exact proto names, int64 as number or string, enums by name or number"))
                .content("application/json", ContentBuilder::new().schema(Some(request)).build())
                .build(),
        ))
        .response("200", json_response("the response message, `status` inside, whatever its code", response))
        .response("400", text_response("`[E1003]Fail to parse http json body as …`", "text/plain"))
        .build()
}

fn ops_operation(route: &OpsRoute, schemas: &mut Schemas) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new().summary(Some(route.summary)).tag("operations");
    let token = super::token::guarded(route.path);
    if token {
        op = op.security(SecurityRequirement::new::<_, [&str; 0], &str>("token", []));
    }
    for param in route.query {
        op = op.parameter(query_param(param, route.required_query));
    }
    if let Some(body) = route.body {
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", ContentBuilder::new().schema(Some(body(schemas))).build())
                .build(),
        ));
    }
    let ok = match route.answer {
        OpsAnswer::Envelope(result) => json_response("OK", envelope(Some(result(schemas)), route.summary)),
        OpsAnswer::Json(schema) => json_response("OK", schema(schemas)),
        OpsAnswer::Media(media, what) => text_response(what, media),
    };
    let op = op.response("200", ok);
    if token {
        with_errors(op).build()
    } else if route.path == "/readyz" {
        op.response("503", text_response("not ready, and why", "text/plain")).build()
    } else {
        op.build()
    }
}

fn http_method(route: &OpsRoute) -> HttpMethod {
    match route.method {
        super::routes::Method::Get => HttpMethod::Get,
        super::routes::Method::Post => HttpMethod::Post,
        super::routes::Method::Delete => HttpMethod::Delete,
    }
}

fn tag(route: &DorisRoute) -> &'static str {
    match route.name {
        n if n.contains("key") && !n.contains("ak_sk") || n == "get_value" => "keys",
        n if n.contains("cluster") || n.contains("node") || n.contains("decommission") => "clusters",
        n if n.contains("obj") || n.contains("vault") || n.contains("ak_sk") => "storage",
        _ => "instances",
    }
}

fn query_param(param: &Param, required: bool) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(param.name)
        .parameter_in(ParameterIn::Query)
        .required(if required { Required::True } else { Required::False })
        .description(Some(param.about))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// Adds the error answers of a token-checked route (references to `components.responses`).
fn with_errors(mut op: OperationBuilder) -> OperationBuilder {
    for (status, _) in error_responses() {
        op = op.response(status, Ref::new(format!("#/components/responses/{}", error_name(status))));
    }
    op
}

fn error_name(status: &str) -> String {
    format!("Status{status}")
}

/// The statuses Doris's codes map to; every one carries the envelope.
fn error_responses() -> Vec<(&'static str, RefOr<utoipa::openapi::Response>)> {
    let envelope = || ContentBuilder::new().schema(Some(Ref::from_schema_name("Envelope"))).build();
    let text = || ContentBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::String))).build();
    vec![
        ("400", ResponseBuilder::new().description("INVALID_ARGUMENT").content("application/json", envelope()).into()),
        ("403", ResponseBuilder::new().description("incorrect token").content("text/plain", text()).into()),
        ("404", ResponseBuilder::new().description("NOT_FOUND").content("application/json", envelope()).into()),
        (
            "409",
            ResponseBuilder::new()
                .description("ALREADY_EXISTED / FAILED_PRECONDITION")
                .content("application/json", envelope())
                .into(),
        ),
        (
            "500",
            ResponseBuilder::new()
                .description(
                    "INTERNAL_ERROR: what Doris answers for a missing instance and for stored states it refuses",
                )
                .content("application/json", envelope())
                .into(),
        ),
        (
            "503",
            ResponseBuilder::new()
                .description("UNAVAILABLE: no leader reachable")
                .content("application/json", envelope())
                .into(),
        ),
    ]
}

fn json_response(description: &str, schema: RefOr<Schema>) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
        .into()
}

/// A non-envelope answer: text is a string, anything else (a document, a byte stream) any value.
fn text_response(description: &str, media: &str) -> RefOr<utoipa::openapi::Response> {
    let schema: RefOr<Schema> = if media.starts_with("text/") || media.starts_with("application/openmetrics") {
        ObjectBuilder::new().schema_type(Type::String).into()
    } else {
        utoipa::openapi::schema::empty().into()
    };
    ResponseBuilder::new()
        .description(description)
        .content(media, ContentBuilder::new().schema(Some(schema)).build())
        .into()
}

/// `{code, msg[, result]}`.
fn envelope(result: Option<RefOr<Schema>>, description: &str) -> RefOr<Schema> {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let mut object = ObjectBuilder::new()
        .description(Some(description))
        .property("code", string())
        .required("code")
        .property("msg", string())
        .required("msg");
    if let Some(result) = result {
        object = object.property("result", result);
    }
    object.into()
}

/// A reference to `m`, registering it (and every message it holds) under its proto name.
fn message(m: &'static MessageSchema, schemas: &mut Schemas) -> RefOr<Schema> {
    let name = m.full_name.trim_start_matches("doris.cloud.");
    if !schemas.iter().any(|(n, _)| n == name) {
        schemas.push((name.to_string(), Schema::default().into())); // placeholder: recursion stops here
        let mut object = ObjectBuilder::new().title(Some(m.full_name));
        for field in m.fields {
            let value = kind(field.kind, schemas);
            let value: RefOr<Schema> = match field.label {
                Label::Repeated => ArrayBuilder::new().items(value).into(),
                Label::Map => ObjectBuilder::new().additional_properties(Some(value)).into(),
                Label::Optional | Label::Required => value,
            };
            object = object.property(field.name(), value);
            if field.label == Label::Required {
                object = object.required(field.name());
            }
        }
        if let Some(slot) = schemas.iter_mut().find(|(n, _)| n == name) {
            slot.1 = object.into();
        }
    }
    Ref::from_schema_name(name).into()
}

fn kind(k: Kind, schemas: &mut Schemas) -> RefOr<Schema> {
    let integer = |format: KnownFormat| {
        // protobuf JSON takes integers as numbers or decimal strings (and prints int64 as strings).
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Integer, Type::String]))
            .format(Some(SchemaFormat::KnownFormat(format)))
            .pattern(Some("^-?[0-9]+$"))
            .into()
    };
    match k {
        Kind::String => ObjectBuilder::new().schema_type(Type::String).into(),
        Kind::Bool => ObjectBuilder::new().schema_type(Type::Boolean).into(),
        Kind::Int32 => integer(KnownFormat::Int32),
        Kind::Int64 | Kind::Uint64 => integer(KnownFormat::Int64),
        Kind::Enum(e) => AnyOfBuilder::new()
            .description(Some(e.full_name))
            .item(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(e.values.iter().map(|v| v.0))))
            .item(ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some(e.values.iter().map(|v| v.1))))
            .into(),
        Kind::Message(m) => message(m, schemas),
    }
}

/// A `utoipa::ToSchema` type as a reference, registering it and the types it holds.
pub fn schema_of<T: utoipa::ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    T::schemas(schemas);
    schemas.push((T::name().into_owned(), T::schema()));
    Ref::from_schema_name(T::name()).into()
}

/// An array of a `utoipa::ToSchema` type.
pub fn array_of<T: utoipa::ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    ArrayBuilder::new().items(schema_of::<T>(schemas)).into()
}

/// An array of a protobuf message.
pub fn messages_of<T: crate::meta::schema::ProtoMessage>(schemas: &mut Schemas) -> RefOr<Schema> {
    ArrayBuilder::new().items(message(T::SCHEMA, schemas)).into()
}
