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

/// Whether signing in takes a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mfa {
    /// A password only.
    #[default]
    Off,
    /// A password and a TOTP code from an authenticator app, for everyone;
    /// the hosted UI has each user set the app up at their first sign-in.
    Required,
}

/// A throttling limit refused, with API Gateway's bounds in the message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThrottleError {
    #[error(
        "a rate of {0} requests per second is not usable: use more than 0 and at most 10000 (API Gateway's default account limit)"
    )]
    Rate(f64),
    #[error(
        "a burst of {0} requests is not usable: use 1 to 5000 (API Gateway's default account burst)"
    )]
    Burst(u32),
}

/// One route's token bucket: its own steady rate and burst, so a flood of
/// one route does not starve the other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    rate: f64,
    burst: u32,
}

impl Throttle {
    /// Checks the limits against what API Gateway accepts by default.
    pub fn new(rate: f64, burst: u32) -> Result<Self, ThrottleError> {
        if !(rate > 0.0 && rate <= 10_000.0) {
            return Err(ThrottleError::Rate(rate));
        }
        if !(1..=5_000).contains(&burst) {
            return Err(ThrottleError::Burst(burst));
        }
        Ok(Self { rate, burst })
    }

    /// Steady requests per second.
    pub fn rate(self) -> f64 {
        self.rate
    }

    /// Requests allowed at once above the steady rate.
    pub fn burst(self) -> u32 {
        self.burst
    }

    /// The public `/auth`: each sign-in is two requests (the start and the
    /// callback), and anyone on the internet can send them.
    pub const AUTH_DEFAULT: Self = Self {
        rate: 10.0,
        burst: 20,
    };

    /// The protected `/auth/login`: one request per sign-in, and each one
    /// writes to DynamoDB and S3.
    pub const LOGIN_DEFAULT: Self = Self {
        rate: 5.0,
        burst: 10,
    };
}

/// The settings of one sign-in stack.
#[derive(Debug, Clone, PartialEq)]
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
    /// Whether every user signs in with a TOTP code too.
    pub mfa: Mfa,
    /// The public `/auth` route's limits.
    pub auth_throttle: Throttle,
    /// The protected `/auth/login` route's limits.
    pub login_throttle: Throttle,
    /// What becomes of the user pool, the table and the data bucket when
    /// the stack is deleted or an update replaces them.
    pub data_policy: DataPolicy,
}

impl Settings {
    /// The defaults: stage `dev`, 30 days of logs, no access logs, x86_64,
    /// no MFA, `/auth` at 10 requests per second (burst 20) and
    /// `/auth/login` at 5 (burst 10), data deleted with the stack.
    pub fn new(stack_name: StackName) -> Self {
        Self {
            stack_name,
            stage: StageName::default(),
            log_retention: LogRetention::default(),
            api_access_logs: false,
            architecture: Architecture::default(),
            mfa: Mfa::default(),
            auth_throttle: Throttle::AUTH_DEFAULT,
            login_throttle: Throttle::LOGIN_DEFAULT,
            data_policy: DataPolicy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_inside_api_gateways_bounds_are_accepted() {
        assert!(Throttle::new(0.5, 1).is_ok());
        assert!(Throttle::new(10_000.0, 5_000).is_ok());
        for rate in [0.0, -1.0, 10_000.5, f64::NAN, f64::INFINITY] {
            assert_eq!(
                Throttle::new(rate, 10).map_err(|e| matches!(e, ThrottleError::Rate(_))),
                Err(true),
                "{rate}"
            );
        }
        for burst in [0, 5_001] {
            assert_eq!(Throttle::new(1.0, burst), Err(ThrottleError::Burst(burst)));
        }
        assert_eq!(
            Throttle::new(
                Throttle::AUTH_DEFAULT.rate(),
                Throttle::AUTH_DEFAULT.burst()
            ),
            Ok(Throttle::AUTH_DEFAULT)
        );
    }
}
