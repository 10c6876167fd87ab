//! Response bodies: the `{code, msg[, result]}` JSON envelope and the two plain-text answers.
//!
//! Every body ends with exactly one `"\n"` (Doris's dispatcher appends it to JSON and text alike,
//! transport §3.1). `msg` is `""` on success (profile: [C] / public doc).

use axum::http::header;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;

use super::error::MetaCode;
use crate::pbjson::json::Json;

/// A JSON envelope.
#[derive(Debug)]
pub struct Envelope {
    /// Top-level code.
    pub code: MetaCode,
    /// Message; `""` on success.
    pub msg: String,
    /// Optional `result`.
    pub result: Option<Json>,
}

impl Envelope {
    /// `{"code": "OK", "msg": ""}`.
    pub fn ok() -> Self {
        Envelope { code: MetaCode::Ok, msg: String::new(), result: None }
    }

    /// `{"code": "OK", "msg": "", "result": …}`.
    pub fn ok_with(result: Json) -> Self {
        Envelope { code: MetaCode::Ok, msg: String::new(), result: Some(result) }
    }

    /// The body text, pretty-printed, with its trailing newline.
    pub fn body(&self) -> String {
        let mut fields = vec![
            ("code".to_string(), Json::string(self.code.as_str())),
            ("msg".to_string(), Json::string(self.msg.clone())),
        ];
        if let Some(result) = &self.result {
            fields.push(("result".to_string(), result.clone()));
        }
        let mut text = Json::Object(fields).to_pretty();
        text.push('\n');
        text
    }
}

impl IntoResponse for Envelope {
    fn into_response(self) -> Response {
        let mut response = (self.code.http_status(), self.body()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// A plain-text answer (`text/plain`), newline appended.
#[derive(Debug)]
pub struct Text {
    /// HTTP status.
    pub status: StatusCode,
    /// Body without the trailing newline.
    pub text: String,
}

impl IntoResponse for Text {
    fn into_response(self) -> Response {
        let mut body = self.text;
        body.push('\n');
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        response
    }
}

/// 404 `http path not found or not allowed` ([M], transport §1.4).
pub async fn route_not_found() -> Text {
    Text { status: StatusCode::NOT_FOUND, text: "http path not found or not allowed".into() }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ok_body_is_byte_exact() {
        assert_eq!(Envelope::ok().body(), "{\n    \"code\": \"OK\",\n    \"msg\": \"\"\n}\n");
        let e = Envelope { code: MetaCode::InvalidArgument, msg: "m".into(), result: Some(Json::Object(vec![])) };
        assert_eq!(e.body(), "{\n    \"code\": \"INVALID_ARGUMENT\",\n    \"msg\": \"m\",\n    \"result\": {}\n}\n");
    }
}
