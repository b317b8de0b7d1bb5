//! Amazon DynamoDB: `AWS::DynamoDB::Table`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::{Expr, Handle, Resource};

/// `AWS::DynamoDB::Table`.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Table {
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    pub billing_mode: String,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchema>,
    pub point_in_time_recovery_specification: Option<PointInTimeRecoverySpecification>,
    // "SSE" is an acronym PascalCase would spell "Sse".
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecification>,
    pub deletion_protection_enabled: Option<bool>,
}

impl Table {
    /// A table keyed by the string attributes `hash` and `range`.
    pub fn with_string_keys(billing_mode: &str, hash: &str, range: &str) -> Self {
        let key = |name: &str, key_type: &str| KeySchema {
            attribute_name: name.into(),
            key_type: key_type.into(),
        };
        let string = |name: &str| AttributeDefinition {
            attribute_name: name.into(),
            attribute_type: "S".into(),
        };
        Self {
            billing_mode: billing_mode.into(),
            attribute_definitions: vec![string(hash), string(range)],
            key_schema: vec![key(hash, "HASH"), key(range, "RANGE")],
            point_in_time_recovery_specification: None,
            sse_specification: None,
            deletion_protection_enabled: None,
        }
    }
}

impl Resource for Table {
    const TYPE: &'static str = "AWS::DynamoDB::Table";
}

impl Handle<Table> {
    /// `Ref`: the table's name.
    pub fn name(&self) -> Expr {
        self.reference()
    }

    /// The table's ARN.
    pub fn arn(&self) -> Expr {
        self.attribute("Arn")
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    /// `S`, `N` or `B`.
    pub attribute_type: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchema {
    pub attribute_name: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PointInTimeRecoverySpecification {
    pub point_in_time_recovery_enabled: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SseSpecification {
    #[serde(rename = "SSEEnabled")]
    pub sse_enabled: bool,
}
