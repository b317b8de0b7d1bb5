//! Amazon API Gateway (REST): `AWS::ApiGateway::RestApi`, `Resource`,
//! `Method`, `Authorizer`, `Deployment`, `Stage`.

use indexmap::IndexMap;
use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::{Expr, Handle, Resource};

/// `AWS::ApiGateway::RestApi`.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestApi {
    pub name: Expr,
    pub description: Option<String>,
    pub endpoint_configuration: Option<EndpointConfiguration>,
}

impl RestApi {
    pub fn new(name: Expr) -> Self {
        Self {
            name,
            description: None,
            endpoint_configuration: None,
        }
    }
}

impl Resource for RestApi {
    const TYPE: &'static str = "AWS::ApiGateway::RestApi";
}

impl Handle<RestApi> {
    /// `Ref`: the REST API id, known before any deployment exists.
    pub fn id(&self) -> Expr {
        self.reference()
    }

    /// The id of the API's `/` resource.
    pub fn root_resource_id(&self) -> Expr {
        self.attribute("RootResourceId")
    }

    /// The base URL of `stage`, `https://<id>.execute-api.<region>.<suffix>/<stage>`,
    /// known before any deployment exists.
    pub fn url(&self, stage: &str) -> Expr {
        Expr::concat([
            "https://".into(),
            self.id(),
            ".execute-api.".into(),
            Expr::REGION,
            ".".into(),
            Expr::URL_SUFFIX,
            format!("/{stage}").into(),
        ])
    }

    /// The `execute-api` ARN of one method on one path of `stage`, as a
    /// permission's `SourceArn` names what may invoke a function.
    pub fn execute_arn(&self, stage: &str, http_method: &str, path: &str) -> Expr {
        Expr::arn(
            "execute-api",
            [self.id(), format!("/{stage}/{http_method}{path}").into()],
        )
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfiguration {
    /// `EDGE`, `REGIONAL` or `PRIVATE`.
    pub types: Vec<String>,
}

impl EndpointConfiguration {
    /// Served from the stack's region, without CloudFront in front.
    pub fn regional() -> Self {
        Self {
            types: vec!["REGIONAL".into()],
        }
    }
}

/// `AWS::ApiGateway::Resource`: one path segment.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiResource {
    pub rest_api_id: Expr,
    pub parent_id: Expr,
    pub path_part: String,
}

// Named `ApiResource` in Rust: `Resource` is the trait every type implements.
impl Resource for ApiResource {
    const TYPE: &'static str = "AWS::ApiGateway::Resource";
}

impl Handle<ApiResource> {
    /// `Ref`: the resource id.
    pub fn id(&self) -> Expr {
        self.reference()
    }
}

/// `AWS::ApiGateway::Method`.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Method {
    pub rest_api_id: Expr,
    pub resource_id: Expr,
    pub http_method: String,
    /// `NONE`, `AWS_IAM`, `CUSTOM` or `COGNITO_USER_POOLS`.
    pub authorization_type: String,
    pub authorizer_id: Option<Expr>,
    pub operation_name: Option<String>,
    pub request_parameters: Option<IndexMap<String, bool>>,
    pub integration: Integration,
}

impl Method {
    pub fn new(
        rest_api_id: Expr,
        resource_id: Expr,
        http_method: &str,
        authorization_type: &str,
        integration: Integration,
    ) -> Self {
        Self {
            rest_api_id,
            resource_id,
            http_method: http_method.into(),
            authorization_type: authorization_type.into(),
            authorizer_id: None,
            operation_name: None,
            request_parameters: None,
            integration,
        }
    }
}

impl Resource for Method {
    const TYPE: &'static str = "AWS::ApiGateway::Method";
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Integration {
    /// `AWS_PROXY` for a Lambda proxy integration.
    #[serde(rename = "Type")]
    pub kind: String,
    /// Lambda is always invoked with `POST`, whatever the method.
    pub integration_http_method: String,
    pub uri: Expr,
}

/// `AWS::ApiGateway::Authorizer`.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Authorizer {
    pub name: Expr,
    pub rest_api_id: Expr,
    /// `TOKEN`, `REQUEST` or `COGNITO_USER_POOLS`.
    #[serde(rename = "Type")]
    pub kind: String,
    pub identity_source: String,
    #[serde(rename = "ProviderARNs")]
    pub provider_arns: Option<Vec<Expr>>,
}

impl Authorizer {
    pub fn new(name: Expr, rest_api_id: Expr, kind: &str, identity_source: &str) -> Self {
        Self {
            name,
            rest_api_id,
            kind: kind.into(),
            identity_source: identity_source.into(),
            provider_arns: None,
        }
    }
}

impl Resource for Authorizer {
    const TYPE: &'static str = "AWS::ApiGateway::Authorizer";
}

impl Handle<Authorizer> {
    /// `Ref`: the authorizer id.
    pub fn id(&self) -> Expr {
        self.reference()
    }
}

/// `AWS::ApiGateway::Deployment`: a snapshot of the methods.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deployment {
    pub rest_api_id: Expr,
    pub description: Option<String>,
}

impl Deployment {
    pub fn new(rest_api_id: Expr) -> Self {
        Self {
            rest_api_id,
            description: None,
        }
    }
}

impl Resource for Deployment {
    const TYPE: &'static str = "AWS::ApiGateway::Deployment";
}

impl Handle<Deployment> {
    /// `Ref`: the deployment id.
    pub fn id(&self) -> Expr {
        self.reference()
    }
}

/// `AWS::ApiGateway::Stage`.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stage {
    pub rest_api_id: Expr,
    pub deployment_id: Expr,
    pub stage_name: String,
    pub description: Option<String>,
    pub tracing_enabled: Option<bool>,
    pub method_settings: Option<Vec<MethodSetting>>,
    pub access_log_setting: Option<AccessLogSetting>,
}

impl Stage {
    pub fn new(rest_api_id: Expr, deployment_id: Expr, stage_name: &str) -> Self {
        Self {
            rest_api_id,
            deployment_id,
            stage_name: stage_name.into(),
            description: None,
            tracing_enabled: None,
            method_settings: None,
            access_log_setting: None,
        }
    }
}

impl Resource for Stage {
    const TYPE: &'static str = "AWS::ApiGateway::Stage";
}

#[skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MethodSetting {
    pub resource_path: String,
    pub http_method: String,
    pub throttling_burst_limit: Option<u32>,
    pub throttling_rate_limit: Option<f64>,
    pub metrics_enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessLogSetting {
    pub destination_arn: Expr,
    pub format: String,
}
