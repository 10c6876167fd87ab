//! A bare axum server: the HTTP ceiling row of `scripts/bench/compare.py`.
//!
//! One route, `GET /hello`, answering a fixed small JSON body, on the same multi-threaded tokio
//! runtime and axum version metaraft uses, with no Raft, storage or JSON work behind it.
//!
//!     cargo run --release --example hello -- 8080        # listens on 127.0.0.1:8080
use axum::{http::header, routing::get, Router};

const BODY: &str = r#"{"code":"OK","msg":"hello"}"#;

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let app = Router::new().route("/hello", get(|| async { ([(header::CONTENT_TYPE, "application/json")], BODY) }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("binding the port");
    println!("hello: listening on http://127.0.0.1:{port}/hello");
    axum::serve(listener, app).await.expect("serving");
}
