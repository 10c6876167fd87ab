//! The `token` check (transport §1.3): exact match of the `token` query parameter, **before**
//! route lookup, so a bad token on an unknown Doris path is 403, not 404. Guards the Doris prefix
//! and our own `/api/` routes; everything else (health probes, the raft crate's `/raft/*`, which
//! has its own cluster secret) passes untouched.

use super::rpc::SERVICE_PREFIXES;
use axum::extract::Request;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;

use super::body::DORIS_PREFIX;
use super::envelope::Text;
use super::query::DorisQuery;
use super::AppState;

pub(super) fn guarded(path: &str) -> bool {
    let doris = path.strip_prefix(DORIS_PREFIX).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    // The brpc methods (`/MetaService/<method>`, rpc.rs) take the same token.
    let rpc = SERVICE_PREFIXES.iter().any(|p| path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')));
    doris || rpc || path.starts_with("/api/")
}

/// 403 `incorrect token, token=<given>` / `token=(not given)` when missing or empty.
fn rejected(given: &str) -> Text {
    let shown = if given.is_empty() { "(not given)" } else { given };
    Text { status: StatusCode::FORBIDDEN, text: format!("incorrect token, token={shown}") }
}

/// Middleware: refuses guarded paths whose token differs from the configured one.
pub async fn check_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if guarded(req.uri().path()) {
        let query = DorisQuery::parse(req.uri().query());
        let given = query.get("token");
        if given != &*state.token {
            return rejected(given).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn guarded_paths() {
        assert!(guarded("/MetaService/http"));
        assert!(guarded("/MetaService/http/"));
        assert!(guarded("/MetaService/http/nope"));
        assert!(guarded("/api/v1/cluster"));
        assert!(guarded("/MetaService/httpx"));
        assert!(guarded("/MetaService/begin_txn"));
        assert!(guarded("/doris.cloud.MetaService/begin_txn"));
        assert!(!guarded("/MetaServicex"));
        assert!(!guarded("/raft/append"));
        assert!(!guarded("/healthz"));
        assert!(!guarded("/readyz"));
    }

    #[test]
    fn messages() {
        assert_eq!(rejected("").text, "incorrect token, token=(not given)");
        assert_eq!(rejected("bad").text, "incorrect token, token=bad");
    }
}
