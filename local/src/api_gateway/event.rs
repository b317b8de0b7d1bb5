//! The Lambda proxy integration's input event, built as API Gateway's REST API builds it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, Method, Version};
use base64::Engine as _;
use serde_json::{Map, Value, json};

/// Everything about one request that goes into its event.
pub(super) struct Request<'a> {
    pub(super) method: &'a Method,
    /// The path under the stage, e.g. `/auth/login`.
    pub(super) path: &'a str,
    pub(super) version: Version,
    pub(super) headers: &'a HeaderMap,
    pub(super) query: Option<&'a str>,
    pub(super) body: &'a [u8],
    pub(super) source_ip: IpAddr,
}

/// What API Gateway knows about the request beyond the request itself.
pub(super) struct Context<'a> {
    pub(super) api_id: &'a str,
    pub(super) account_id: &'a str,
    pub(super) stage: &'a str,
    pub(super) stage_variables: &'a BTreeMap<String, String>,
    pub(super) resource_id: &'a str,
    pub(super) resource_path: &'a str,
    pub(super) path_parameters: &'a BTreeMap<String, String>,
    pub(super) request_id: &'a str,
    pub(super) extended_request_id: &'a str,
    pub(super) trace_id: &'a str,
    pub(super) now: SystemTime,
    /// `requestContext.authorizer.claims`, for a method behind a Cognito authorizer.
    pub(super) claims: Option<Map<String, Value>>,
}

pub(super) fn proxy_event(request: &Request<'_>, context: &Context<'_>) -> Value {
    let mut headers = Vec::new();
    for (name, value) in request.headers {
        headers.push((
            name.as_str().to_owned(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        ));
    }
    let host = request
        .headers
        .get(axum::http::header::HOST)
        .map(|host| String::from_utf8_lossy(host.as_bytes()).into_owned())
        .unwrap_or_default();
    add_forwarding(&mut headers, &host, request.source_ip, context.trace_id);
    let (headers, multi_value_headers) = single_and_multi(headers);

    let query = request
        .query
        .map(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let (query, multi_value_query) = single_and_multi(query);

    let (body, is_base64_encoded) = match request.body {
        [] => (Value::Null, false),
        bytes => match std::str::from_utf8(bytes) {
            Ok(text) => (Value::String(text.to_owned()), false),
            Err(_) => (
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
                true,
            ),
        },
    };

    let user_agent = request
        .headers
        .get(axum::http::header::USER_AGENT)
        .map(|agent| Value::String(String::from_utf8_lossy(agent.as_bytes()).into_owned()))
        .unwrap_or(Value::Null);
    let epoch_ms = context
        .now
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_millis())
        .unwrap_or_default();
    let mut request_context = json!({
        "resourceId": context.resource_id,
        "resourcePath": context.resource_path,
        "httpMethod": request.method.as_str(),
        "extendedRequestId": context.extended_request_id,
        "requestTime": request_time(context.now),
        "path": format!("/{}{}", context.stage, request.path),
        "accountId": context.account_id,
        "protocol": protocol(request.version),
        "stage": context.stage,
        "domainPrefix": host.split(['.', ':']).next().unwrap_or_default(),
        "requestTimeEpoch": u64::try_from(epoch_ms).unwrap_or(u64::MAX),
        "requestId": context.request_id,
        "identity": {
            "cognitoIdentityPoolId": null,
            "accountId": null,
            "cognitoIdentityId": null,
            "caller": null,
            "apiKey": null,
            "apiKeyId": null,
            "sourceIp": request.source_ip.to_string(),
            "accessKey": null,
            "cognitoAuthenticationType": null,
            "cognitoAuthenticationProvider": null,
            "userArn": null,
            "userAgent": user_agent,
            "user": null,
        },
        "domainName": host,
        "apiId": context.api_id,
    });
    // Behind a Cognito authorizer the claims are all of `authorizer`; a method
    // without authorization gets no `authorizer` at all.
    if let (Some(claims), Some(object)) = (&context.claims, request_context.as_object_mut()) {
        object.insert("authorizer".into(), json!({ "claims": claims }));
    }
    json!({
        "resource": context.resource_path,
        "path": request.path,
        "httpMethod": request.method.as_str(),
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_value_query,
        "pathParameters": non_empty(context.path_parameters),
        "stageVariables": non_empty(context.stage_variables),
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": is_base64_encoded,
    })
}

/// The headers API Gateway adds on the way to the integration.
fn add_forwarding(headers: &mut Vec<(String, String)>, host: &str, source_ip: IpAddr, trace: &str) {
    let forwarded_for = headers
        .iter()
        .rposition(|(name, _)| name.eq_ignore_ascii_case("x-forwarded-for"))
        .map(|at| headers.remove(at).1);
    let forwarded_for = match forwarded_for {
        Some(previous) => format!("{previous}, {source_ip}"),
        None => source_ip.to_string(),
    };
    headers.retain(|(name, _)| {
        ![
            "x-forwarded-for",
            "x-forwarded-port",
            "x-forwarded-proto",
            "x-amzn-trace-id",
        ]
        .iter()
        .any(|added| name.eq_ignore_ascii_case(added))
    });
    let port = host
        .rsplit_once(':')
        .map(|(_, port)| port.to_owned())
        .unwrap_or_else(|| "80".to_owned());
    headers.push(("X-Amzn-Trace-Id".into(), trace.to_owned()));
    headers.push(("X-Forwarded-For".into(), forwarded_for));
    // The front speaks plain http on loopback; saying https would be a lie.
    headers.push(("X-Forwarded-Port".into(), port));
    headers.push(("X-Forwarded-Proto".into(), "http".into()));
}

/// Pairs in order -> (last value per name, every value per name); both null when empty.
fn single_and_multi(pairs: Vec<(String, String)>) -> (Value, Value) {
    if pairs.is_empty() {
        return (Value::Null, Value::Null);
    }
    let mut single = Map::new();
    let mut multi = Map::new();
    for (name, value) in pairs {
        single.insert(name.clone(), Value::String(value.clone()));
        if let Value::Array(values) = multi
            .entry(name)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(Value::String(value));
        }
    }
    (Value::Object(single), Value::Object(multi))
}

fn non_empty(map: &BTreeMap<String, String>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        json!(map)
    }
}

fn protocol(version: Version) -> &'static str {
    match version {
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        _ => "HTTP/1.1",
    }
}

/// `requestTime`: `01/Dec/2026:19:29:26 +0000`.
pub(super) fn request_time(now: SystemTime) -> String {
    jiff::Timestamp::try_from(now)
        .map(|time| time.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod unit {
    use std::time::Duration;

    use super::*;

    #[test]
    fn request_time_is_apache_style() {
        let now = UNIX_EPOCH + Duration::from_millis(1_796_153_366_123);
        assert_eq!(request_time(now), "01/Dec/2026:19:29:26 +0000");
    }

    #[test]
    fn repeated_names_keep_every_value_and_the_last_wins_the_single_map() {
        let (single, multi) =
            single_and_multi(vec![("a".into(), "1".into()), ("a".into(), "2".into())]);
        assert_eq!(single, json!({"a": "2"}));
        assert_eq!(multi, json!({"a": ["1", "2"]}));
        assert_eq!(single_and_multi(Vec::new()), (Value::Null, Value::Null));
    }
}
