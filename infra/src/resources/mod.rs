//! The resource types the stacks use, one module per AWS service, each
//! struct named like its CloudFormation type (the CDK's L1 naming).
//!
//! Property names follow CloudFormation exactly: `rename_all = "PascalCase"`
//! covers most, and every name it would get wrong (`CallbackURLs`,
//! `SSESpecification`, `ProviderARNs`, …) is renamed by hand beside its field.
//! Unset options are left out of the template.

pub mod apigateway;
pub mod cognito;
pub mod dynamodb;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod s3;
pub mod ssm;
