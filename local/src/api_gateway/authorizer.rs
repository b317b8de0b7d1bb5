//! The `COGNITO_USER_POOLS` authorizer: the checks API Gateway makes on the identity token, and its exact answers.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::{CognitoAuthorizer, Error};

/// The verified payload of a token, as the function receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims(Map<String, Value>);

impl Claims {
    /// The payload as the token carried it.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The payload as `requestContext.authorizer.claims`: every value a string,
    /// `exp` and `iat` as Java's `Date.toString` renders them.
    pub fn strings(&self) -> Map<String, Value> {
        self.0
            .iter()
            .map(|(name, value)| {
                let text = match (name.as_str(), value) {
                    ("exp" | "iat", Value::Number(seconds)) => {
                        java_date(seconds).unwrap_or_else(|| seconds.to_string())
                    }
                    _ => claim_text(value),
                };
                (name.clone(), Value::String(text))
            })
            .collect()
    }
}

/// A claim value as text: strings as they are, numbers in decimal, booleans as
/// `true`/`false`. Arrays are comma-joined, as reported for `cognito:groups`
/// (unverified against AWS; the stack has no groups).
fn claim_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(claim_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Seconds since the epoch as `Mon Apr 17 23:12:49 UTC 2017`.
fn java_date(seconds: &serde_json::Number) -> Option<String> {
    let seconds = seconds
        .as_i64()
        .or_else(|| seconds.as_f64().map(|s| s.floor() as i64))?;
    let time = jiff::Timestamp::from_second(seconds).ok()?;
    Some(time.strftime("%a %b %d %H:%M:%S UTC %Y").to_string())
}

/// Why the authorizer refused a request; each is one exact API Gateway answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No token, or one that is not a valid ID token (or scoped access token) of the pools.
    #[error("Unauthorized")]
    Unauthorized,
    /// A valid token whose `exp` has passed.
    #[error("The incoming token has expired")]
    Expired,
}

impl Denied {
    /// The HTTP status API Gateway answers with.
    pub fn status(self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }

    /// The `message` of the JSON body.
    pub fn message(self) -> &'static str {
        match self {
            Self::Unauthorized => "Unauthorized",
            Self::Expired => "The incoming token has expired",
        }
    }

    /// The `x-amzn-ErrorType` header.
    pub fn error_type(self) -> &'static str {
        "UnauthorizedException"
    }
}

/// One pool's signing keys, by `kid`.
struct PoolKeys {
    issuer: String,
    keys: HashMap<String, DecodingKey>,
}

/// A `COGNITO_USER_POOLS` authorizer with its pools' keys, ready to verify.
pub struct Authorizer {
    identity_header: String,
    pools: Vec<PoolKeys>,
    audience: Option<regex_lite::Regex>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("identity_header", &self.identity_header)
            .field(
                "issuers",
                &self.pools.iter().map(|p| &p.issuer).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The issuer (`iss`) of a user pool's tokens.
pub fn issuer(region: &str, pool_id: &str) -> String {
    format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}")
}

impl Authorizer {
    /// Builds the authorizer from each of its pools' JWKS (keyed by pool id).
    pub fn new(
        spec: &CognitoAuthorizer,
        region: &str,
        jwks: &HashMap<String, JwkSet>,
    ) -> Result<Self, Error> {
        let pools = spec
            .user_pool_ids
            .iter()
            .map(|pool_id| {
                let set = jwks.get(pool_id).ok_or_else(|| Error::Jwks {
                    pool_id: pool_id.clone(),
                    detail: "no key set was fetched for it".into(),
                })?;
                // Keys that are not RSA (or carry no kid) can never verify an RS256 token.
                let keys = set
                    .keys
                    .iter()
                    .filter_map(|jwk| {
                        let kid = jwk.common.key_id.clone()?;
                        DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
                    })
                    .collect();
                Ok(PoolKeys {
                    issuer: issuer(region, pool_id),
                    keys,
                })
            })
            .collect::<Result<_, Error>>()?;
        let audience = spec
            .identity_validation_expression
            .as_deref()
            .map(|expression| {
                // API Gateway matches the whole `aud`, not a part of it.
                regex_lite::Regex::new(&format!("^(?:{expression})$")).map_err(|err| {
                    Error::Unsupported {
                        what: format!(
                            "authorizer {}'s IdentityValidationExpression ({err})",
                            spec.id
                        ),
                    }
                })
            })
            .transpose()?;
        Ok(Self {
            identity_header: spec.identity_header.clone(),
            pools,
            audience,
        })
    }

    /// Fetches each pool's JWKS from moto (`GET {moto_endpoint}/{pool_id}/.well-known/jwks.json`)
    /// and builds the authorizer.
    pub async fn fetch(
        spec: &CognitoAuthorizer,
        moto_endpoint: &str,
        region: &str,
    ) -> Result<Self, Error> {
        let http = reqwest::Client::new();
        let mut jwks = HashMap::new();
        for pool_id in &spec.user_pool_ids {
            jwks.insert(
                pool_id.clone(),
                fetch_jwks(&http, moto_endpoint, pool_id).await?,
            );
        }
        Self::new(spec, region, &jwks)
    }

    /// The request header the token comes in (the identity source).
    pub fn identity_header(&self) -> &str {
        &self.identity_header
    }

    /// Verifies the identity source's value as API Gateway does: an RS256 token
    /// signed by one of the pools' keys with that pool's `iss`, not expired at
    /// `now` (no leeway), an ID token when `scopes` is empty, else an access
    /// token holding one of `scopes`; `aud` only against IdentityValidationExpression.
    pub fn verify(
        &self,
        authorization: Option<&str>,
        scopes: &[String],
        now: SystemTime,
    ) -> Result<Claims, Denied> {
        let token = authorization
            .map(strip_bearer)
            .filter(|token| !token.is_empty())
            .ok_or(Denied::Unauthorized)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| Denied::Unauthorized)?;
        if header.alg != Algorithm::RS256 {
            return Err(Denied::Unauthorized);
        }
        let kid = header.kid.ok_or(Denied::Unauthorized)?;
        let claims = self
            .pools
            .iter()
            .filter_map(|pool| Some((pool.keys.get(&kid)?, &pool.issuer)))
            .find_map(|(key, issuer)| {
                jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation(issuer))
                    .ok()
                    .map(|data| data.claims)
            })
            .ok_or(Denied::Unauthorized)?;
        let exp = claims
            .get("exp")
            .and_then(Value::as_f64)
            .ok_or(Denied::Unauthorized)?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_secs_f64())
            .unwrap_or(0.0);
        if exp <= now {
            return Err(Denied::Expired);
        }
        let token_use = claims.get("token_use").and_then(Value::as_str);
        if scopes.is_empty() {
            if token_use != Some("id") {
                return Err(Denied::Unauthorized);
            }
        } else {
            let granted = claims
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if token_use != Some("access")
                || !granted
                    .split(' ')
                    .any(|scope| scopes.iter().any(|s| s == scope))
            {
                return Err(Denied::Unauthorized);
            }
        }
        if let Some(audience) = &self.audience {
            let aud = claims.get("aud").and_then(Value::as_str);
            if !aud.is_some_and(|aud| audience.is_match(aud)) {
                return Err(Denied::Unauthorized);
            }
        }
        Ok(Claims(claims))
    }
}

/// Accepts `Bearer <token>` as well as the bare token, as API Gateway does.
fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.split_at_checked(7) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer ") => token.trim_start(),
        _ => value,
    }
}

/// RS256 only, the pool's issuer, no audience; `exp` is checked by the caller
/// against the injected clock, so the library's own clock stays out.
fn validation(issuer: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    validation.required_spec_claims = ["exp", "iss"].into_iter().map(String::from).collect();
    validation
}

/// One pool's JWKS from moto.
pub(crate) async fn fetch_jwks(
    http: &reqwest::Client,
    moto_endpoint: &str,
    pool_id: &str,
) -> Result<JwkSet, Error> {
    let url = format!(
        "{}/{pool_id}/.well-known/jwks.json",
        moto_endpoint.trim_end_matches('/')
    );
    let jwks_error = |detail: String| Error::Jwks {
        pool_id: pool_id.to_owned(),
        detail,
    };
    let response = http
        .get(&url)
        .send()
        .await
        .map_err(|err| jwks_error(format!("GET {url}: {err}")))?;
    if !response.status().is_success() {
        return Err(jwks_error(format!(
            "GET {url} answered {}",
            response.status()
        )));
    }
    response
        .json()
        .await
        .map_err(|err| jwks_error(format!("GET {url} is not a JWKS: {err}")))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn claims_are_strings_and_dates_are_java_dates() {
        let claims = Claims(
            serde_json::json!({
                "sub": "abc",
                "email_verified": true,
                "auth_time": 1492467169,
                "exp": 1492470769,
                "iat": 1492467169,
                "cognito:groups": ["a", "b"],
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        );
        assert_eq!(
            Value::Object(claims.strings()),
            serde_json::json!({
                "sub": "abc",
                "email_verified": "true",
                "auth_time": "1492467169",
                "exp": "Mon Apr 17 23:12:49 UTC 2017",
                "iat": "Mon Apr 17 22:12:49 UTC 2017",
                "cognito:groups": "a,b",
            })
        );
    }

    #[test]
    fn bearer_is_optional() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer abc"), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
        assert_eq!(strip_bearer("Bearer"), "Bearer");
    }
}
