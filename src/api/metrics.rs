//! `GET /metrics`: Prometheus text (OpenMetrics) of the raft layer and of the HTTP server —
//! requests by route and status, latency by route. Unguarded like `/healthz`: scrapers rarely
//! carry query tokens, and nothing here is secret.

use std::time::Instant;

use axum::extract::MatchedPath;
use axum::extract::Request;
use axum::extract::State;
use axum::http::header;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteCode {
    route: String,
    code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteOnly {
    route: String,
}

/// The HTTP server's metrics and the registry every `/metrics` scrape encodes.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteCode, Counter>,
    latency: Family<RouteOnly, Histogram>,
}

impl Metrics {
    /// A registry holding the node's raft metrics and the HTTP metrics.
    pub fn new(node: &metaraft_raft::RaftNode) -> Self {
        let mut registry = Registry::default();
        node.register_metrics(&mut registry);
        let requests = Family::<RouteCode, Counter>::default();
        let latency = Family::<RouteOnly, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
        });
        let http = registry.sub_registry_with_prefix("metaraft_http");
        http.register("requests", "HTTP requests by route and status", requests.clone());
        http.register("request_seconds", "HTTP request latency by route", latency.clone());
        Metrics { registry, requests, latency }
    }

    fn observe(&self, route: &str, code: u16, started: Instant) {
        self.requests.get_or_create(&RouteCode { route: route.to_string(), code }).inc();
        self.latency.get_or_create(&RouteOnly { route: route.to_string() }).observe(started.elapsed().as_secs_f64());
    }
}

/// Middleware (a route layer, so the matched route template is known): counts and times requests.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let response = next.run(req).await;
    if let Some(route) = route {
        state.metrics.observe(&route, response.status().as_u16(), started);
    }
    response
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>) -> Response {
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &state.metrics.registry) {
        tracing::warn!("encoding metrics: {e}");
        return (StatusCode::INTERNAL_SERVER_ERROR, "metrics encoding failed\n").into_response();
    }
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}
