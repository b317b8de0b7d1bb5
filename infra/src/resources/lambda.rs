//! AWS Lambda: `AWS::Lambda::Function`, `AWS::Lambda::Permission`.

use indexmap::IndexMap;
use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::{Expr, Handle, Resource};

/// `AWS::Lambda::Function`.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    pub description: Option<String>,
    pub runtime: String,
    pub handler: String,
    pub code: Code,
    pub role: Expr,
    pub architectures: Option<Vec<String>>,
    pub memory_size: Option<u32>,
    pub timeout: Option<u32>,
    pub environment: Option<Environment>,
    pub logging_config: Option<LoggingConfig>,
}

impl Function {
    pub fn new(runtime: &str, handler: &str, code: Code, role: Expr) -> Self {
        Self {
            description: None,
            runtime: runtime.into(),
            handler: handler.into(),
            code,
            role,
            architectures: None,
            memory_size: None,
            timeout: None,
            environment: None,
            logging_config: None,
        }
    }
}

impl Resource for Function {
    const TYPE: &'static str = "AWS::Lambda::Function";
}

impl Handle<Function> {
    /// `Ref`: the function name.
    pub fn name(&self) -> Expr {
        self.reference()
    }

    /// The function's ARN.
    pub fn arn(&self) -> Expr {
        self.attribute("Arn")
    }
}

/// Where the deployment package is.
#[derive(Debug, Clone, Serialize)]
pub struct Code {
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Expr,
    #[serde(rename = "S3Key")]
    pub s3_key: Expr,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    pub variables: IndexMap<String, Expr>,
}

/// Sends the function's logs to a log group of the stack's, instead of the
/// `/aws/lambda/<name>` group Lambda would create outside the stack.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_group: Expr,
    /// `Text` or `JSON`.
    pub log_format: String,
}

/// `AWS::Lambda::Permission`: lets a service invoke a function.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    pub action: String,
    pub function_name: Expr,
    pub principal: String,
    pub source_arn: Option<Expr>,
    pub source_account: Option<Expr>,
}

impl Permission {
    pub fn new(action: &str, function_name: Expr, principal: &str) -> Self {
        Self {
            action: action.into(),
            function_name,
            principal: principal.into(),
            source_arn: None,
            source_account: None,
        }
    }
}

impl Resource for Permission {
    const TYPE: &'static str = "AWS::Lambda::Permission";
}
