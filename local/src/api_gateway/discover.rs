//! Reads the deployed REST API from API Gateway's control plane (moto), never from a copy of the template.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{Authorizer, IntegrationType, MethodSetting};
use aws_smithy_types::error::display::DisplayErrorContext;

use super::{Authorization, CognitoAuthorizer, Error, Limits, RestApi, Route, Stage, Throttling};

/// API Gateway's integration timeout when timeoutInMillis is not set.
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(29_000);

/// Where a `COGNITO_USER_POOLS` identity source names its header.
const HEADER_SOURCE: &str = "method.request.header.";

fn api_error<E>(what: String) -> impl FnOnce(E) -> Error
where
    E: std::error::Error,
{
    move |err| Error::Api {
        what,
        detail: DisplayErrorContext(&err).to_string(),
    }
}

impl RestApi {
    /// Reads the deployed API from moto: GetResources (embed methods) / GetMethod / GetIntegration, GetAuthorizers, GetStage. Never from a copy of the template.
    pub async fn discover(
        apigateway: &Client,
        rest_api_id: &str,
        stage: &str,
    ) -> Result<Self, Error> {
        let api = apigateway
            .get_rest_api()
            .rest_api_id(rest_api_id)
            .send()
            .await
            .map_err(api_error(format!("read REST API {rest_api_id}")))?;
        let stage = read_stage(apigateway, rest_api_id, stage).await?;
        let authorizers = read_authorizers(apigateway, rest_api_id).await?;
        let mut routes = Vec::new();
        let mut position = None;
        loop {
            let page = apigateway
                .get_resources()
                .rest_api_id(rest_api_id)
                .embed("methods")
                .limit(500)
                .set_position(position)
                .send()
                .await
                .map_err(api_error(format!(
                    "list the resources of REST API {rest_api_id}"
                )))?;
            for resource in page.items() {
                let (Some(resource_id), Some(path)) = (resource.id(), resource.path()) else {
                    return Err(Error::Malformed(format!(
                        "a resource of REST API {rest_api_id} has no id or path"
                    )));
                };
                let mut methods: Vec<&String> = resource
                    .resource_methods()
                    .map(|methods| methods.keys().collect())
                    .unwrap_or_default();
                methods.sort();
                for method in methods {
                    routes.push(
                        read_route(
                            apigateway,
                            rest_api_id,
                            resource_id,
                            path,
                            method,
                            &authorizers,
                        )
                        .await?,
                    );
                }
            }
            position = page.position().map(str::to_owned);
            if position.is_none() {
                break;
            }
        }
        routes.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
        Ok(Self {
            id: rest_api_id.to_owned(),
            name: api.name().unwrap_or_default().to_owned(),
            stage,
            routes,
        })
    }
}

async fn read_stage(apigateway: &Client, rest_api_id: &str, name: &str) -> Result<Stage, Error> {
    let stage = apigateway
        .get_stage()
        .rest_api_id(rest_api_id)
        .stage_name(name)
        .send()
        .await
        .map_err(api_error(format!(
            "read stage {name} of REST API {rest_api_id}"
        )))?;
    let settings = stage.method_settings().cloned().unwrap_or_default();
    Ok(Stage {
        name: name.to_owned(),
        variables: stage
            .variables()
            .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        throttling: throttling(&settings),
    })
}

/// The stage's MethodSettings as throttling: `*/*` is the default, and a key
/// `~1auth~1login/GET` (the resource path with `/` escaped as `~1`, then the
/// method) overrides one method. Negative limits mean "not set" there.
pub(super) fn throttling(settings: &HashMap<String, MethodSetting>) -> Throttling {
    let limits = |setting: &MethodSetting, fallback: Limits| Limits {
        rate: if setting.throttling_rate_limit >= 0.0 {
            setting.throttling_rate_limit
        } else {
            fallback.rate
        },
        burst: u32::try_from(setting.throttling_burst_limit).unwrap_or(fallback.burst),
    };
    let default = settings
        .get("*/*")
        .map(|setting| limits(setting, Limits::ACCOUNT))
        .unwrap_or(Limits::ACCOUNT);
    let methods = settings
        .iter()
        .filter(|(key, _)| key.as_str() != "*/*")
        .filter_map(|(key, setting)| {
            let (path, method) = key.rsplit_once('/')?;
            let path = path.replace("~1", "/").replace("~0", "~");
            let path = if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            };
            Some(((path, method.to_owned()), limits(setting, default)))
        })
        .collect();
    Throttling { default, methods }
}

async fn read_authorizers(
    apigateway: &Client,
    rest_api_id: &str,
) -> Result<HashMap<String, Authorizer>, Error> {
    let mut authorizers = HashMap::new();
    let mut position = None;
    loop {
        let page = apigateway
            .get_authorizers()
            .rest_api_id(rest_api_id)
            .limit(500)
            .set_position(position)
            .send()
            .await
            .map_err(api_error(format!(
                "list the authorizers of REST API {rest_api_id}"
            )))?;
        for authorizer in page.items() {
            if let Some(id) = authorizer.id() {
                authorizers.insert(id.to_owned(), authorizer.clone());
            }
        }
        position = page.position().map(str::to_owned);
        if position.is_none() {
            return Ok(authorizers);
        }
    }
}

async fn read_route(
    apigateway: &Client,
    rest_api_id: &str,
    resource_id: &str,
    path: &str,
    http_method: &str,
    authorizers: &HashMap<String, Authorizer>,
) -> Result<Route, Error> {
    let at = format!("{http_method} {path}");
    let method = apigateway
        .get_method()
        .rest_api_id(rest_api_id)
        .resource_id(resource_id)
        .http_method(http_method)
        .send()
        .await
        .map_err(api_error(format!("read method {at}")))?;
    if method.api_key_required() == Some(true) {
        return Err(Error::Unsupported {
            what: format!("an API key (apiKeyRequired on {at})"),
        });
    }
    let authorization = match method.authorization_type().unwrap_or("NONE") {
        "NONE" => Authorization::None,
        "COGNITO_USER_POOLS" => {
            let id = method.authorizer_id().ok_or_else(|| {
                Error::Malformed(format!("{at} is COGNITO_USER_POOLS without an authorizer"))
            })?;
            let authorizer = authorizers.get(id).ok_or_else(|| {
                Error::Malformed(format!("{at} names authorizer {id}, which does not exist"))
            })?;
            Authorization::CognitoUserPools {
                authorizer: cognito_authorizer(authorizer, &at)?,
                scopes: method.authorization_scopes().to_vec(),
            }
        }
        other => {
            return Err(Error::Unsupported {
                what: format!("authorization type {other} (on {at})"),
            });
        }
    };
    let integration = apigateway
        .get_integration()
        .rest_api_id(rest_api_id)
        .resource_id(resource_id)
        .http_method(http_method)
        .send()
        .await
        .map_err(api_error(format!("read the integration of {at}")))?;
    match integration.r#type() {
        Some(IntegrationType::AwsProxy) => {}
        other => {
            return Err(Error::Unsupported {
                what: format!(
                    "integration type {} (on {at}; only AWS_PROXY is served)",
                    other.map(IntegrationType::as_str).unwrap_or("none")
                ),
            });
        }
    }
    let uri = integration.uri().unwrap_or_default();
    let (function_arn, function) = lambda_of(uri).ok_or_else(|| Error::Unsupported {
        what: format!("integration uri {uri:?} (on {at}; expected a Lambda invocation path)"),
    })?;
    let timeout = match u64::try_from(integration.timeout_in_millis()) {
        Ok(millis) if millis > 0 => Duration::from_millis(millis),
        _ => DEFAULT_TIMEOUT,
    };
    Ok(Route {
        resource_id: resource_id.to_owned(),
        path: path.to_owned(),
        method: http_method.to_owned(),
        authorization,
        function,
        function_arn,
        timeout,
    })
}

fn cognito_authorizer(authorizer: &Authorizer, at: &str) -> Result<CognitoAuthorizer, Error> {
    let id = authorizer.id().unwrap_or_default().to_owned();
    match authorizer.r#type().map(|kind| kind.as_str()) {
        Some("COGNITO_USER_POOLS") => {}
        other => {
            return Err(Error::Unsupported {
                what: format!(
                    "authorizer {id} of type {} (on {at})",
                    other.unwrap_or("none")
                ),
            });
        }
    }
    let source = authorizer.identity_source().unwrap_or_default();
    let identity_header = source
        .strip_prefix(HEADER_SOURCE)
        .filter(|header| !header.is_empty())
        .ok_or_else(|| Error::Unsupported {
            what: format!("identity source {source:?} of authorizer {id} (a header is expected)"),
        })?
        .to_owned();
    let user_pool_ids = authorizer
        .provider_arns()
        .iter()
        .map(|arn| {
            pool_of(arn).map(str::to_owned).ok_or_else(|| {
                Error::Malformed(format!(
                    "authorizer {id} names {arn:?}, which is not a user pool ARN"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if user_pool_ids.is_empty() {
        return Err(Error::Malformed(format!(
            "authorizer {id} names no user pool"
        )));
    }
    Ok(CognitoAuthorizer {
        id,
        name: authorizer.name().unwrap_or_default().to_owned(),
        identity_header,
        user_pool_ids,
        identity_validation_expression: authorizer
            .identity_validation_expression()
            .filter(|expression| !expression.is_empty())
            .map(str::to_owned),
    })
}

/// `arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>` -> the pool id.
fn pool_of(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    resource
        .strip_prefix("userpool/")
        .filter(|id| !id.is_empty())
}

/// `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations`
/// -> (the function ARN, the function name).
pub(super) fn lambda_of(uri: &str) -> Option<(String, String)> {
    let (prefix, path) = uri.split_once(":lambda:path/")?;
    if !prefix.starts_with("arn:") || !prefix.contains(":apigateway:") {
        return None;
    }
    let arn = path
        .strip_prefix("2015-03-31/functions/")?
        .strip_suffix("/invocations")?;
    let mut parts = arn.split(':');
    let (Some("arn"), Some("function"), Some(name)) = (parts.next(), parts.nth(4), parts.next())
    else {
        return None;
    };
    (!name.is_empty()).then(|| (arn.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn function_names_come_from_the_integration_uri() {
        assert_eq!(
            lambda_of(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\
                 arn:aws:lambda:us-east-1:123456789012:function:sign-in-auth/invocations"
            ),
            Some((
                "arn:aws:lambda:us-east-1:123456789012:function:sign-in-auth".into(),
                "sign-in-auth".into()
            ))
        );
        assert_eq!(lambda_of("https://example.com/"), None);
        assert_eq!(
            lambda_of(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/x/invocations"
            ),
            None
        );
    }

    #[test]
    fn pool_ids_come_from_provider_arns() {
        assert_eq!(
            pool_of("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"),
            Some("us-east-1_abc")
        );
        assert_eq!(pool_of("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn method_settings_become_throttling() {
        let setting = |rate: f64, burst: i32| {
            MethodSetting::builder()
                .throttling_rate_limit(rate)
                .throttling_burst_limit(burst)
                .build()
        };
        let throttling = throttling(&HashMap::from([
            ("*/*".to_owned(), setting(10.0, 20)),
            ("~1auth~1login/GET".to_owned(), setting(1.0, 2)),
            ("~1auth/GET".to_owned(), setting(-1.0, -1)),
        ]));
        let ten = Limits {
            rate: 10.0,
            burst: 20,
        };
        assert_eq!(throttling.default, ten);
        assert_eq!(
            throttling.limits("/auth/login", "GET"),
            Limits {
                rate: 1.0,
                burst: 2
            }
        );
        assert_eq!(throttling.limits("/auth", "GET"), ten);
        assert_eq!(throttling.limits("/other", "POST"), ten);
    }
}
