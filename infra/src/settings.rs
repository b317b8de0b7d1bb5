//! What a person can choose about the stack; everything else derives from it.

use crate::DataPolicy;
use crate::names::{LogRetention, StackName, StageName};

/// The processor architecture the functions are built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

impl Architecture {
    /// The name Lambda uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }
}

/// The settings of one sign-in stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Every resource name derives from it, so stacks can share an account.
    pub stack_name: StackName,
    /// The API Gateway stage, the last segment of the API's base URL.
    pub stage: StageName,
    /// How long the log groups keep events.
    pub log_retention: LogRetention,
    /// API Gateway access logs need the account-wide API Gateway CloudWatch
    /// role; off unless asked for, so a deploy never changes account settings.
    pub api_access_logs: bool,
    pub architecture: Architecture,
    /// What becomes of the user pool, the table and the data bucket when
    /// the stack is deleted or an update replaces them.
    pub data_policy: DataPolicy,
}

impl Settings {
    /// The defaults: stage `dev`, 30 days of logs, no access logs, x86_64,
    /// data deleted with the stack.
    pub fn new(stack_name: StackName) -> Self {
        Self {
            stack_name,
            stage: StageName::default(),
            log_retention: LogRetention::default(),
            api_access_logs: false,
            architecture: Architecture::default(),
            data_policy: DataPolicy::default(),
        }
    }
}
