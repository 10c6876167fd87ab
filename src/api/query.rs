//! [`DorisQuery`]: the query string as brpc parses it (transport §1.1) — keys case-sensitive,
//! values **not** percent-decoded, the last of repeated keys wins, a key without `=` is `""`.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use metaraft_raft::Consistency;

use super::error::ApiError;
use super::error::MetaCode;

/// Parsed query parameters.
#[derive(Debug, Clone, Default)]
pub struct DorisQuery {
    pairs: Vec<(String, String)>,
}

impl DorisQuery {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect();
        DorisQuery { pairs }
    }

    /// The value of `key` (last occurrence), `""` when absent.
    pub fn get(&self, key: &str) -> &str {
        self.pairs.iter().rev().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }

    /// Read consistency requested with `consistency=` (extension): `linearizable` (default) or `stale`.
    pub fn consistency(&self) -> Result<Consistency, ApiError> {
        match self.get("consistency") {
            "" | "linearizable" => Ok(Consistency::Linearizable),
            "stale" => Ok(Consistency::Stale),
            other => Err(ApiError::new(
                MetaCode::InvalidArgument,
                format!("invalid consistency={other}, expected linearizable or stale"),
            )),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for DorisQuery {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(DorisQuery::parse(parts.uri.query()))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn brpc_rules() {
        let q = DorisQuery::parse(Some("token=a%20b&x&instance_id=1&instance_id=2&&Token=z"));
        assert_eq!(q.get("token"), "a%20b");
        assert_eq!(q.get("x"), "");
        assert_eq!(q.get("instance_id"), "2");
        assert_eq!(q.get("missing"), "");
        assert_eq!(q.get("Token"), "z");
        assert_eq!(DorisQuery::parse(Some("consistency=stale")).consistency().unwrap(), Consistency::Stale);
        assert_eq!(DorisQuery::parse(None).consistency().unwrap(), Consistency::Linearizable);
        let e = DorisQuery::parse(Some("consistency=x")).consistency().unwrap_err();
        assert_eq!(e.msg(), "invalid consistency=x, expected linearizable or stale");
    }
}
