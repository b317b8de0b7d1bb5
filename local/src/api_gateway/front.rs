//! The REST front: an axum router that serves the discovered API at `/{stage}/{path}`.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, Response};
use base64::Engine as _;

use super::authorizer::{self, Authorizer, Denied};
use super::event::{self, proxy_event};
use super::response::{GatewayError, from_proxy};
use super::throttle::Bucket;
use super::{Authorization, Error, Invoke, InvokeError, RestApi, Route};
use crate::Clock;

/// API Gateway's payload limit for a request.
const MAX_BODY: usize = 10 * 1024 * 1024;

/// One method, ready to serve.
struct Served {
    route: Route,
    authorizer: Option<(Arc<Authorizer>, Vec<String>)>,
    bucket: Bucket,
}

/// The API Gateway REST front for one stage of one API.
pub struct Front {
    api_id: String,
    stage: String,
    stage_variables: BTreeMap<String, String>,
    account_id: String,
    routes: Vec<Served>,
    invoker: Arc<dyn Invoke>,
    clock: Clock,
}

impl Front {
    /// `moto_endpoint` is where the pools' JWKS are fetched once: GET {moto_endpoint}/{pool_id}/.well-known/jwks.json.
    /// `account_id` goes into requestContext.accountId. `region` for the issuer: https://cognito-idp.{region}.amazonaws.com/{pool_id}.
    pub async fn new(
        api: RestApi,
        moto_endpoint: &str,
        region: &str,
        account_id: &str,
        invoker: Arc<dyn Invoke>,
        clock: Clock,
    ) -> Result<Self, Error> {
        let http = reqwest::Client::new();
        let mut jwks = HashMap::new();
        for pool_id in api.user_pool_ids() {
            let set = authorizer::fetch_jwks(&http, moto_endpoint, &pool_id).await?;
            jwks.insert(pool_id, set);
        }
        let mut authorizers: HashMap<String, Arc<Authorizer>> = HashMap::new();
        let now = clock();
        let mut routes = Vec::new();
        for route in api.routes {
            let authorizer = match &route.authorization {
                Authorization::None => None,
                Authorization::CognitoUserPools { authorizer, scopes } => {
                    let built = match authorizers.get(&authorizer.id) {
                        Some(built) => Arc::clone(built),
                        None => {
                            let built = Arc::new(Authorizer::new(authorizer, region, &jwks)?);
                            authorizers.insert(authorizer.id.clone(), Arc::clone(&built));
                            built
                        }
                    };
                    Some((built, scopes.clone()))
                }
            };
            let limits = api.stage.throttling.limits(&route.path, &route.method);
            routes.push(Served {
                bucket: Bucket::new(limits, now),
                authorizer,
                route,
            });
        }
        Ok(Self {
            api_id: api.id,
            stage: api.stage.name,
            stage_variables: api.stage.variables,
            account_id: account_id.to_owned(),
            routes,
            invoker,
            clock,
        })
    }

    /// The router to serve on a loopback port; the API is at `/{stage}/{path}`.
    /// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` for
    /// the real `sourceIp`; otherwise it is 127.0.0.1.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(handle).with_state(self)
    }

    /// The route for a method and a path under the stage, with its path parameters.
    fn find(&self, method: &str, path: &str) -> Option<(&Served, BTreeMap<String, String>)> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut best: Option<(&Served, BTreeMap<String, String>, Vec<u8>)> = None;
        for served in &self.routes {
            let route = &served.route;
            if route.method != method && route.method != "ANY" {
                continue;
            }
            let Some((parameters, mut rank)) = match_path(&route.path, &segments) else {
                continue;
            };
            // A method named exactly beats ANY on the same resource.
            rank.push(u8::from(route.method == method));
            if best.as_ref().is_none_or(|(_, _, best)| rank > *best) {
                best = Some((served, parameters, rank));
            }
        }
        best.map(|(served, parameters, _)| (served, parameters))
    }

    async fn serve(&self, request: Request) -> Response<Body> {
        let request_id = uuid();
        let extended_request_id = extended_id();
        let now = (self.clock)();
        let mut response = self
            .answer(request, &request_id, &extended_request_id, now)
            .await;
        let headers = response.headers_mut();
        for (name, value) in [
            ("x-amzn-requestid", request_id.as_str()),
            ("x-amz-apigw-id", extended_request_id.as_str()),
        ] {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        response
    }

    async fn answer(
        &self,
        request: Request,
        request_id: &str,
        extended_request_id: &str,
        now: std::time::SystemTime,
    ) -> Response<Body> {
        let source_ip = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let full_path = request.uri().path().to_owned();
        let Some(path) = full_path
            .strip_prefix('/')
            .and_then(|rest| rest.strip_prefix(self.stage.as_str()))
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        else {
            return GatewayError::FORBIDDEN.response();
        };
        let path = if path.is_empty() { "/" } else { path };
        let Some((served, path_parameters)) = self.find(request.method().as_str(), path) else {
            return GatewayError::MISSING_AUTHENTICATION_TOKEN.response();
        };
        let route = &served.route;
        if !served.bucket.take(now) {
            return GatewayError::TOO_MANY_REQUESTS.response();
        }
        let claims = match &served.authorizer {
            None => None,
            Some((authorizer, scopes)) => {
                // A header that is not text cannot be a token.
                let value = match request.headers().get(authorizer.identity_header()) {
                    None => None,
                    Some(value) => match value.to_str() {
                        Ok(text) => Some(text),
                        Err(_) => return denied(Denied::Unauthorized),
                    },
                };
                match authorizer.verify(value, scopes, now) {
                    Ok(claims) => Some(claims.strings()),
                    Err(denial) => return denied(denial),
                }
            }
        };
        let (parts, body) = request.into_parts();
        let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
            return GatewayError::REQUEST_TOO_LARGE.response();
        };
        let trace_id = trace_id(now);
        let event = proxy_event(
            &event::Request {
                method: &parts.method,
                path,
                version: parts.version,
                headers: &parts.headers,
                query: parts.uri.query(),
                body: &body,
                source_ip,
            },
            &event::Context {
                api_id: &self.api_id,
                account_id: &self.account_id,
                stage: &self.stage,
                stage_variables: &self.stage_variables,
                resource_id: &route.resource_id,
                resource_path: &route.path,
                path_parameters: &path_parameters,
                request_id,
                extended_request_id,
                trace_id: &trace_id,
                now,
                claims,
            },
        );
        let outcome =
            tokio::time::timeout(route.timeout, self.invoker.invoke(&route.function, event)).await;
        let payload = match outcome {
            Ok(Ok(payload)) => payload,
            Err(_) | Ok(Err(InvokeError::Timeout)) => {
                tracing::warn!(request_id, function = %route.function, "the integration timed out");
                return GatewayError::TIMEOUT.response();
            }
            Ok(Err(err)) => {
                tracing::warn!(request_id, function = %route.function, error = %err, "the integration failed");
                return GatewayError::INTERNAL.response();
            }
        };
        from_proxy(payload).unwrap_or_else(|err| {
            tracing::warn!(request_id, function = %route.function, error = %err, "the integration failed");
            GatewayError::INTERNAL.response()
        })
    }
}

async fn handle(State(front): State<Arc<Front>>, request: Request) -> Response<Body> {
    front.serve(request).await
}

fn denied(denial: Denied) -> Response<Body> {
    GatewayError {
        status: denial.status(),
        message: denial.message(),
        error_type: denial.error_type(),
    }
    .response()
}

/// Matches a resource path template (`/a/{id}/{rest+}`) against the request's
/// segments; the rank orders literal over `{name}` over `{name+}`, segment by segment.
fn match_path(template: &str, segments: &[&str]) -> Option<(BTreeMap<String, String>, Vec<u8>)> {
    let parts: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let mut parameters = BTreeMap::new();
    let mut rank = Vec::new();
    for (at, part) in parts.iter().enumerate() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            // A greedy parameter is the last part and takes one segment or more.
            if at + 1 != parts.len() || segments.len() <= at {
                return None;
            }
            parameters.insert(name.to_owned(), segments[at..].join("/"));
            rank.push(0);
            return Some((parameters, rank));
        }
        let segment = segments.get(at)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            parameters.insert(name.to_owned(), (*segment).to_owned());
            rank.push(1);
        } else if part == segment {
            rank.push(2);
        } else {
            return None;
        }
    }
    (parts.len() == segments.len()).then_some((parameters, rank))
}

/// A random (version 4) UUID, as API Gateway's request ids are.
fn uuid() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// An extended request id in API Gateway's form (16 base64 characters).
fn extended_id() -> String {
    let bytes: [u8; 11] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An X-Ray trace header: `Root=1-<epoch seconds, hex>-<96 random bits, hex>`.
fn trace_id(now: std::time::SystemTime) -> String {
    let seconds = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or_default();
    let random: [u8; 12] = rand::random();
    format!("Root=1-{seconds:08x}-{}", hex::encode(random))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn paths_match_literals_before_parameters() {
        let segments = ["auth", "login"];
        let literal = match_path("/auth/login", &segments).unwrap();
        let parameter = match_path("/auth/{name}", &segments).unwrap();
        let greedy = match_path("/{proxy+}", &segments).unwrap();
        assert!(literal.1 > parameter.1 && parameter.1 > greedy.1);
        assert_eq!(parameter.0["name"], "login");
        assert_eq!(greedy.0["proxy"], "auth/login");
        assert!(match_path("/auth", &segments).is_none());
        assert!(match_path("/auth/login/x", &segments).is_none());
        assert!(match_path("/{proxy+}", &[]).is_none());
        assert!(match_path("/", &[]).is_some());
    }

    #[test]
    fn request_ids_look_like_uuids() {
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(extended_id().len(), 16);
    }
}
