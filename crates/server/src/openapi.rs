//! The OpenAPI document of what samtal serves, served at `GET /openapi.json`: derived from the
//! typed wire structs ([`crate::wire`]) and the route annotations, with the generation
//! settings added from the settings table, so that the document cannot drift from the code.

use std::sync::OnceLock;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use samtal_generation::settings::{Kind, Setting, SETTINGS};
use serde_json::{json, Value};
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, Ref, RefOr, Schema, Type};
use utoipa::{Modify, OpenApi};

use crate::routes::{chat, completions, embeddings, health, models};
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "samtal",
        description = "OpenAI-compatible chat and text completions on local models."
    ),
    paths(
        chat::completions,
        completions::completions,
        embeddings::embeddings,
        models::list,
        models::one,
        health::health
    ),
    modifiers(&Security, &Settings),
    security(("bearer" = []))
)]
struct ApiDoc;

/// `Authorization: Bearer KEY`, when the server has a key.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Components::new);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The generation settings, one property per name the server accepts, added to both request
/// bodies.
struct Settings;

const SETTINGS_SCHEMA: &str = "GenerationSettings";

impl Modify for Settings {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let mut obj = ObjectBuilder::new().schema_type(Type::Object);
        for s in SETTINGS {
            let names = [s.http].into_iter().chain(s.aliases.iter().copied());
            for (i, name) in names.enumerate() {
                let desc = if i == 0 {
                    s.help.to_owned()
                } else {
                    format!("Another name of `{}`.", s.http)
                };
                obj = obj.property(name, schema_of(s, desc));
            }
        }
        let c = doc.components.get_or_insert_with(Components::new);
        c.schemas.insert(
            SETTINGS_SCHEMA.to_owned(),
            RefOr::T(Schema::Object(obj.build())),
        );
        for body in ["ChatRequest", "CompletionRequest"] {
            if let Some(RefOr::T(Schema::AllOf(all))) = c.schemas.get_mut(body) {
                all.items
                    .push(Ref::from_schema_name(SETTINGS_SCHEMA).into());
            }
        }
    }
}

/// One setting's values as a schema: its kind and its limits.
fn schema_of(s: &Setting, desc: String) -> RefOr<Schema> {
    match s.kind {
        Kind::Float {
            min,
            max,
            min_exclusive,
        } => {
            let b = ObjectBuilder::new()
                .schema_type(Type::Number)
                .maximum(Some(max))
                .description(Some(desc));
            if min_exclusive {
                b.exclusive_minimum(Some(min)).into()
            } else {
                b.minimum(Some(min)).into()
            }
        }
        Kind::Int { min, max } => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(min as f64))
            .maximum(Some(max as f64))
            .description(Some(desc))
            .into(),
        Kind::Seed => ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::Integer,
                Type::Null,
            ]))
            .minimum(Some(-1.0))
            .maximum(Some(u64::MAX as f64))
            .description(Some(desc))
            .into(),
        Kind::Bias { max_entries, limit } => ObjectBuilder::new()
            .schema_type(Type::Object)
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[0-9]{1,9}$")),
            ))
            .additional_properties(Some(AdditionalProperties::RefOr(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(-limit))
                    .maximum(Some(limit))
                    .into(),
            )))
            .max_properties(Some(max_entries))
            .description(Some(desc))
            .into(),
        Kind::Strings { max, max_len } => {
            let one = || {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(max_len))
            };
            OneOfBuilder::new()
                .item(one())
                .item(ArrayBuilder::new().items(one()).max_items(Some(max)))
                .description(Some(desc))
                .into()
        }
        _ => ObjectBuilder::new().description(Some(desc)).into(),
    }
}

/// A stream's events as schemathesis and OpenAPI 3.1 read `text/event-stream`: each event's
/// `data` is `[DONE]` or JSON text holding a chunk (or an error, which ends a stream early).
fn sse_events(chunk: &str) -> Value {
    json!({
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"anyOf": [
            {"const": "[DONE]"},
            {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"anyOf": [
                    {"$ref": format!("#/components/schemas/{chunk}")},
                    {"$ref": "#/components/schemas/ErrorBody"},
                ]},
            },
        ]}},
    })
}

/// The document as JSON, built once: utoipa's, with the streamed responses described event
/// by event.
fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        // A chunk's `samtal` object is a serde untagged enum: the first shape that fits, which
        // is JSON Schema's anyOf (its shapes overlap, so utoipa's oneOf would refuse them).
        if let Some(info) = doc.pointer_mut("/components/schemas/ChunkInfo") {
            if let Some(shapes) = info.get_mut("oneOf").map(Value::take) {
                info["anyOf"] = shapes;
                if let Some(o) = info.as_object_mut() {
                    o.remove("oneOf");
                }
            }
        }
        for (path, chunk) in [
            ("~1v1~1chat~1completions", "ChatChunk"),
            ("~1v1~1completions", "Completion"),
        ] {
            let at = format!("/paths/{path}/post/responses/200/content/text~1event-stream");
            if let Some(media) = doc.pointer_mut(&at) {
                media["schema"] = sse_events(chunk);
            }
        }
        doc
    })
}

/// `GET /openapi.json`: the document, with the served model's id as the example of
/// `/v1/models/{id}`.
pub async fn serve(State(state): State<AppState>) -> Response {
    let mut doc = document().clone();
    if let Some(p) = doc.pointer_mut("/paths/~1v1~1models~1{id}/get/parameters/0") {
        p["example"] = json!(state.config.model_id);
    }
    axum::Json(doc).into_response()
}
