//! A stand-in for API Gateway's REST data plane in front of the deployed API.
//!
//! [`RestApi::discover`] reads the deployed API from moto (resources, methods,
//! integrations, authorizers, the stage); [`Front`] serves it at
//! `/{stage}/{path}` the way an execute-api URL does: routing, the stage's
//! throttling, the `COGNITO_USER_POOLS` [`authorizer`], the Lambda proxy event,
//! the proxy response, and API Gateway's own error answers.

pub mod authorizer;
mod discover;
mod event;
mod front;
mod response;
mod throttle;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use front::Front;

use crate::runtime_api::ErrorReport;

/// How the front reaches a function; local mode implements it over a Lambda Runtime API.
pub trait Invoke: Send + Sync + 'static {
    /// Invokes the function named `function` with the proxy `event`; resolves to its response payload
    /// (a proxy response: statusCode, headers, multiValueHeaders, body, isBase64Encoded).
    fn invoke(
        &self,
        function: &str,
        event: serde_json::Value,
    ) -> Pin<Box<dyn Future<Output = Result<serde_json::Value, InvokeError>> + Send + '_>>;
}

/// Why an invocation gave no response payload.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The function reported an error (API Gateway answers 502).
    #[error("the function failed: {}: {}", .0.error_type, .0.error_message)]
    Function(ErrorReport),
    /// The function did not answer in time (504).
    #[error("the function did not answer in time")]
    Timeout,
    /// The function cannot be reached (502).
    #[error("the function cannot be reached: {0}")]
    Unavailable(String),
}

/// What can go wrong while discovering the API or preparing the front.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API Gateway call failed.
    #[error("cannot {what}: {detail}")]
    Api {
        /// What was being read.
        what: String,
        /// The SDK's whole cause chain.
        detail: String,
    },
    /// The deployed API uses something the front does not serve.
    #[error("{what} is not supported by the local API Gateway front")]
    Unsupported {
        /// The feature, and where.
        what: String,
    },
    /// The deployed API is incomplete or inconsistent.
    #[error("the deployed API is malformed: {0}")]
    Malformed(String),
    /// A user pool's signing keys could not be read from moto.
    #[error("cannot read the signing keys of user pool {pool_id}: {detail}; is moto running?")]
    Jwks {
        /// The pool.
        pool_id: String,
        /// Why.
        detail: String,
    },
}

/// The deployed REST API, as the front serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct RestApi {
    /// The RestApi id (`apiId` in the event).
    pub id: String,
    /// Its name.
    pub name: String,
    /// The one stage served.
    pub stage: Stage,
    /// Every method of every resource, ordered by path and method.
    pub routes: Vec<Route>,
}

impl RestApi {
    /// Every pool id any authorizer names (from providerARNs), without repeats.
    pub fn user_pool_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for route in &self.routes {
            if let Authorization::CognitoUserPools { authorizer, .. } = &route.authorization {
                for id in &authorizer.user_pool_ids {
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
            }
        }
        ids
    }
}

/// A deployed stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The stage name, the first path segment of every URL.
    pub name: String,
    /// Stage variables (`stageVariables` in the event; null when there are none).
    pub variables: BTreeMap<String, String>,
    /// The stage's throttling, from its MethodSettings.
    pub throttling: Throttling,
}

/// Request rate limits: a token bucket refilled at `rate` per second, holding at most `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Steady requests per second.
    pub rate: f64,
    /// The bucket size.
    pub burst: u32,
}

impl Limits {
    /// API Gateway's account-level limits, which apply where a stage sets none.
    pub const ACCOUNT: Self = Self {
        rate: 10_000.0,
        burst: 5_000,
    };
}

/// A stage's throttling: the `*/*` default and per-method overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Throttling {
    /// `*/*`, else the account's limits.
    pub default: Limits,
    /// Overrides by (resource path, HTTP method), from keys like `~1auth~1login/GET`.
    pub methods: BTreeMap<(String, String), Limits>,
}

impl Default for Throttling {
    /// A stage without MethodSettings: the account's limits everywhere.
    fn default() -> Self {
        Self {
            default: Limits::ACCOUNT,
            methods: BTreeMap::new(),
        }
    }
}

impl Throttling {
    /// The limits that apply to one method: its override, else the default.
    pub fn limits(&self, path: &str, method: &str) -> Limits {
        self.methods
            .get(&(path.to_owned(), method.to_owned()))
            .copied()
            .unwrap_or(self.default)
    }
}

/// One method of one resource, and the function behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The resource id (`requestContext.resourceId`).
    pub resource_id: String,
    /// The resource path (`resource`), e.g. `/auth/login`; may hold `{name}` and `{name+}`.
    pub path: String,
    /// The HTTP method, or `ANY`.
    pub method: String,
    /// Who may call it.
    pub authorization: Authorization,
    /// The function's name, from the AWS_PROXY integration's uri.
    pub function: String,
    /// The function's ARN, from the same uri.
    pub function_arn: String,
    /// The integration timeout (timeoutInMillis, default 29 s).
    pub timeout: Duration,
}

/// A method's authorization.
#[derive(Debug, Clone, PartialEq)]
pub enum Authorization {
    /// `NONE`: anyone.
    None,
    /// `COGNITO_USER_POOLS`: a token of one of the authorizer's pools.
    CognitoUserPools {
        /// The method's authorizer.
        authorizer: CognitoAuthorizer,
        /// The method's AuthorizationScopes: empty means ID tokens only.
        scopes: Vec<String>,
    },
}

/// A `COGNITO_USER_POOLS` authorizer as deployed.
#[derive(Debug, Clone, PartialEq)]
pub struct CognitoAuthorizer {
    /// The authorizer id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The header of the identity source (`method.request.header.<name>`).
    pub identity_header: String,
    /// The user pools, from providerARNs.
    pub user_pool_ids: Vec<String>,
    /// A regular expression `aud` must match, if set.
    pub identity_validation_expression: Option<String>,
}

#[cfg(test)]
mod tests;
