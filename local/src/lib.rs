//! Local mode: the whole sign-in system on one machine, with no AWS account.
//!
//! moto stands in for the AWS APIs ([`moto`]), with the real stack deployed
//! into it; [`hosted_ui`] serves Cognito's hosted UI and OAuth endpoints by
//! their documented contract; [`api_gateway`] fronts the deployed REST API
//! and applies its `COGNITO_USER_POOLS` authorizer; [`runtime_api`] runs each
//! function's real `bootstrap` under a Lambda Runtime API.

pub mod api_gateway;
pub mod function;
pub mod hosted_ui;
pub mod logs;
pub mod moto;
pub mod origins;
pub mod runtime_api;
pub mod system;

pub mod venv;
pub mod workspace;

use std::sync::Arc;
use std::time::SystemTime;

/// The time as the servers see it: injectable, so tests can age a token or a
/// code without waiting.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The real clock.
pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}
