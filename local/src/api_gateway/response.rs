//! API Gateway's answers: the function's proxy response, and the gateway's own error responses.

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use base64::Engine as _;
use serde_json::Value;

/// One of API Gateway's own answers (a gateway response): status, body, `x-amzn-ErrorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GatewayError {
    pub(super) status: StatusCode,
    pub(super) message: &'static str,
    pub(super) error_type: &'static str,
}

impl GatewayError {
    pub(super) const MISSING_AUTHENTICATION_TOKEN: Self = Self {
        status: StatusCode::FORBIDDEN,
        message: "Missing Authentication Token",
        error_type: "MissingAuthenticationTokenException",
    };
    pub(super) const FORBIDDEN: Self = Self {
        status: StatusCode::FORBIDDEN,
        message: "Forbidden",
        error_type: "ForbiddenException",
    };
    pub(super) const TOO_MANY_REQUESTS: Self = Self {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: "Too Many Requests",
        error_type: "TooManyRequestsException",
    };
    pub(super) const REQUEST_TOO_LARGE: Self = Self {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: "Request Too Long",
        error_type: "RequestTooLargeException",
    };
    pub(super) const INTERNAL: Self = Self {
        status: StatusCode::BAD_GATEWAY,
        message: "Internal server error",
        error_type: "InternalServerErrorException",
    };
    pub(super) const TIMEOUT: Self = Self {
        status: StatusCode::GATEWAY_TIMEOUT,
        message: "Endpoint request timed out",
        error_type: "InternalServerErrorException",
    };

    pub(super) fn response(self) -> Response<Body> {
        let body = serde_json::json!({ "message": self.message }).to_string();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            HeaderName::from_static("x-amzn-errortype"),
            HeaderValue::from_static(self.error_type),
        );
        response
    }
}

/// Why a proxy response cannot be returned (API Gateway: "Malformed Lambda proxy response").
#[derive(Debug, thiserror::Error)]
#[error("malformed Lambda proxy response: {0}")]
pub(super) struct Malformed(String);

/// Headers API Gateway does not pass from an integration as they are: it renames them
/// to `x-amzn-Remapped-<name>`, since it sets them itself.
const REMAPPED: [&str; 5] = [
    "connection",
    "content-length",
    "date",
    "server",
    "transfer-encoding",
];

/// A proxy response (`statusCode`, `headers`, `multiValueHeaders`, `body`,
/// `isBase64Encoded`) as the HTTP response API Gateway sends.
pub(super) fn from_proxy(payload: Value) -> Result<Response<Body>, Malformed> {
    let Value::Object(payload) = payload else {
        return Err(Malformed("not a JSON object".into()));
    };
    let status = match payload.get("statusCode") {
        Some(Value::Number(code)) => code.as_u64(),
        Some(Value::String(code)) => code.parse().ok(),
        _ => None,
    }
    .and_then(|code| u16::try_from(code).ok())
    .and_then(|code| StatusCode::from_u16(code).ok())
    .ok_or_else(|| Malformed("no valid statusCode".into()))?;

    let mut pairs: Vec<(String, String)> = Vec::new();
    match payload.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(headers)) => {
            for (name, values) in headers {
                match values {
                    Value::Null => {}
                    Value::Array(values) => {
                        for value in values {
                            pairs.push((name.clone(), header_text(value)?));
                        }
                    }
                    _ => return Err(Malformed(format!("multiValueHeaders.{name} is not a list"))),
                }
            }
        }
        Some(_) => return Err(Malformed("multiValueHeaders is not an object".into())),
    }
    match payload.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(headers)) => {
            for (name, value) in headers {
                if value.is_null() {
                    continue;
                }
                let value = header_text(value)?;
                // A pair given in both places appears once: multiValueHeaders' copy.
                let repeated = pairs
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case(name) && *v == value);
                if !repeated {
                    pairs.push((name.clone(), value));
                }
            }
        }
        Some(_) => return Err(Malformed("headers is not an object".into())),
    }

    let base64 = match payload.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(Malformed("isBase64Encoded is not a boolean".into())),
    };
    let body = match payload.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) if base64 => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|err| Malformed(format!("body is not base64: {err}")))?,
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(_) => return Err(Malformed("body is not a string".into())),
    };

    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in pairs {
        let lower = name.to_ascii_lowercase();
        let name = if REMAPPED.contains(&lower.as_str()) {
            format!("x-amzn-Remapped-{name}")
        } else {
            name
        };
        let name = HeaderName::try_from(name.as_str())
            .map_err(|_| Malformed(format!("{name:?} is not a header name")))?;
        let value = HeaderValue::try_from(value)
            .map_err(|_| Malformed(format!("the value of {name} is not a header value")))?;
        headers.append(name, value);
    }
    // API Gateway's default when the function names no type.
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Ok(response)
}

fn header_text(value: &Value) -> Result<String, Malformed> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(value.to_string()),
        _ => Err(Malformed("a header value is not a string".into())),
    }
}

#[cfg(test)]
mod unit {
    use serde_json::json;

    use super::*;

    #[test]
    fn headers_merge_and_cookies_stay_apart() {
        let response = from_proxy(json!({
            "statusCode": "302",
            "headers": {"Location": "/x", "Set-Cookie": "a=1", "Content-Length": "3"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": "aGk=",
            "isBase64Encoded": true,
        }))
        .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(response.headers()["location"], "/x");
        assert_eq!(response.headers()["x-amzn-remapped-content-length"], "3");
        assert_eq!(response.headers()["content-type"], "application/json");
    }

    #[test]
    fn malformed_answers_are_refused() {
        for payload in [
            json!("hello"),
            json!({}),
            json!({"statusCode": "abc"}),
            json!({"statusCode": 42}),
            json!({"statusCode": 200, "body": {"a": 1}}),
            json!({"statusCode": 200, "headers": {"a": {"b": 1}}}),
            json!({"statusCode": 200, "headers": {"bad name": "x"}}),
            json!({"statusCode": 200, "body": "!!", "isBase64Encoded": true}),
        ] {
            assert!(from_proxy(payload.clone()).is_err(), "{payload}");
        }
    }
}
