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
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfiguration {
    /// `EDGE`, `REGIONAL` or `PRIVATE`.
    pub types: Vec<String>,
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

impl Resource for Stage {
    const TYPE: &'static str = "AWS::ApiGateway::Stage";
}

#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
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
