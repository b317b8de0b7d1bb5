//! Amazon CloudWatch Logs: `AWS::Logs::LogGroup`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::{Expr, Handle, Resource};

/// `AWS::Logs::LogGroup`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    pub log_group_name: Option<Expr>,
    pub retention_in_days: Option<u32>,
}

impl Resource for LogGroup {
    const TYPE: &'static str = "AWS::Logs::LogGroup";
}

impl Handle<LogGroup> {
    /// `Ref`: the log group's name.
    pub fn name(&self) -> Expr {
        self.reference()
    }

    /// The log group's ARN, ending in `:*` (it covers the group's streams),
    /// as IAM policies want it.
    pub fn arn(&self) -> Expr {
        self.attribute("Arn")
    }

    /// The log group's ARN without the `:*`, as log destinations want it.
    pub fn destination_arn(&self) -> Expr {
        Expr::arn("logs", ["log-group:".into(), self.name()])
    }
}
