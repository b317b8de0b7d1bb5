//! AWS IAM: `AWS::IAM::Role` and the policy documents inside it.

use serde::Serialize;
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::{Expr, Handle, Resource};

/// `AWS::IAM::Role` with inline policies.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    pub description: Option<String>,
    pub assume_role_policy_document: PolicyDocument,
    pub policies: Option<Vec<Policy>>,
}

impl Role {
    pub fn new(assume_role_policy_document: PolicyDocument) -> Self {
        Self {
            description: None,
            assume_role_policy_document,
            policies: None,
        }
    }
}

impl Resource for Role {
    const TYPE: &'static str = "AWS::IAM::Role";
}

impl Handle<Role> {
    /// The role's ARN.
    pub fn arn(&self) -> Expr {
        self.attribute("Arn")
    }
}

/// An inline policy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policy {
    pub policy_name: String,
    pub policy_document: PolicyDocument,
}

/// An IAM policy document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    version: &'static str,
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// A document in the current policy language version.
    pub fn new(statement: Vec<Statement>) -> Self {
        Self {
            version: "2012-10-17",
            statement,
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// Who a statement applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Principal {
    /// An AWS service, such as `lambda.amazonaws.com`.
    Service(String),
    /// Everyone, as `"*"`: only ever used to deny.
    Anyone,
}

/// One statement of a policy document.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(serialize_with = "principal")]
    pub principal: Option<Principal>,
    pub action: Vec<String>,
    pub resource: Option<Vec<Expr>>,
    pub condition: Option<Value>,
}

fn principal<S: serde::Serializer>(
    principal: &Option<Principal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match principal {
        Some(Principal::Anyone) => serializer.serialize_str("*"),
        other => other.serialize(serializer),
    }
}

impl Statement {
    /// `effect` for `actions`, with no principal, resource or condition yet.
    pub fn new(effect: Effect, actions: &[&str]) -> Self {
        Self {
            sid: None,
            effect,
            principal: None,
            action: actions.iter().map(|a| (*a).to_owned()).collect(),
            resource: None,
            condition: None,
        }
    }

    /// Allows `actions` on exactly `resources`.
    pub fn allow(actions: &[&str], resources: Vec<Expr>) -> Self {
        Self {
            resource: Some(resources),
            ..Self::new(Effect::Allow, actions)
        }
    }

    /// Lets `service` assume the role.
    pub fn assume_role(service: &str) -> Self {
        Self {
            principal: Some(Principal::Service(service.to_owned())),
            ..Self::new(Effect::Allow, &["sts:AssumeRole"])
        }
    }
}
