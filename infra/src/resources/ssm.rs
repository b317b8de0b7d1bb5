//! AWS Systems Manager Parameter Store: `AWS::SSM::Parameter`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::{Expr, Resource};

/// `AWS::SSM::Parameter`.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    pub name: Expr,
    /// CloudFormation cannot create `SecureString` parameters: `String` or `StringList`.
    #[serde(rename = "Type")]
    pub kind: String,
    pub value: String,
    pub description: Option<String>,
}

impl Resource for Parameter {
    const TYPE: &'static str = "AWS::SSM::Parameter";
}

/// The ARN of the parameter, or the parameter path, `name` (which starts with `/`).
pub fn parameter_arn(name: Expr) -> Expr {
    Expr::arn("ssm", ["parameter".into(), name])
}
