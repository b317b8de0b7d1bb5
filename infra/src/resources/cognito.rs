//! Amazon Cognito: `AWS::Cognito::UserPool`, `UserPoolDomain`, `UserPoolClient`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::{Expr, Handle, Resource};

/// `AWS::Cognito::UserPool`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPool {
    pub user_pool_name: Option<Expr>,
    pub username_attributes: Option<Vec<String>>,
    pub auto_verified_attributes: Option<Vec<String>>,
    pub username_configuration: Option<UsernameConfiguration>,
    pub policies: Option<Policies>,
    pub account_recovery_setting: Option<AccountRecoverySetting>,
    pub admin_create_user_config: Option<AdminCreateUserConfig>,
    pub verification_message_template: Option<VerificationMessageTemplate>,
    pub user_attribute_update_settings: Option<UserAttributeUpdateSettings>,
    /// `OFF`, `ON` (every user, at every sign-in) or `OPTIONAL`.
    pub mfa_configuration: Option<String>,
    /// `SOFTWARE_TOKEN_MFA` (TOTP), `SMS_MFA` or `EMAIL_OTP`.
    pub enabled_mfas: Option<Vec<String>>,
    /// `ACTIVE` or `INACTIVE`.
    pub deletion_protection: Option<String>,
}

impl Resource for UserPool {
    const TYPE: &'static str = "AWS::Cognito::UserPool";
}

impl Handle<UserPool> {
    /// `Ref`: the user pool id.
    pub fn id(&self) -> Expr {
        self.reference()
    }

    /// The user pool's ARN.
    pub fn arn(&self) -> Expr {
        self.attribute("Arn")
    }

    /// The issuer URL of the pool's tokens.
    pub fn provider_url(&self) -> Expr {
        self.attribute("ProviderURL")
    }
}

#[skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsernameConfiguration {
    pub case_sensitive: Option<bool>,
}

impl UsernameConfiguration {
    /// `Ann@Example.com` and `ann@example.com` are one user.
    pub fn case_insensitive() -> Self {
        Self {
            case_sensitive: Some(false),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policies {
    pub password_policy: PasswordPolicy,
}

#[skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    pub minimum_length: Option<u32>,
    pub require_lowercase: Option<bool>,
    pub require_numbers: Option<bool>,
    pub require_symbols: Option<bool>,
    pub require_uppercase: Option<bool>,
    pub temporary_password_validity_days: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountRecoverySetting {
    pub recovery_mechanisms: Vec<RecoveryOption>,
}

impl AccountRecoverySetting {
    /// The mechanisms `names`, tried in that order.
    pub fn in_order(names: &[&str]) -> Self {
        Self {
            recovery_mechanisms: (1..)
                .zip(names)
                .map(|(priority, name)| RecoveryOption {
                    name: (*name).into(),
                    priority,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecoveryOption {
    /// `verified_email`, `verified_phone_number` or `admin_only`.
    pub name: String,
    pub priority: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminCreateUserConfig {
    pub allow_admin_create_user_only: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerificationMessageTemplate {
    /// `CONFIRM_WITH_CODE` or `CONFIRM_WITH_LINK`.
    pub default_email_option: String,
}

/// Which attribute changes wait for the user to confirm the new value.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserAttributeUpdateSettings {
    /// `email` and/or `phone_number`: the old value stays in force (and in
    /// tokens) until the new one is verified.
    pub attributes_require_verification_before_update: Vec<String>,
}

/// `AWS::Cognito::UserPoolDomain`: the hosted UI's domain.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolDomain {
    /// The prefix of `<prefix>.auth.<region>.amazoncognito.com`.
    pub domain: Expr,
    pub user_pool_id: Expr,
}

impl Resource for UserPoolDomain {
    const TYPE: &'static str = "AWS::Cognito::UserPoolDomain";
}

impl Handle<UserPoolDomain> {
    /// `Ref`: the domain prefix, once the domain exists.
    pub fn prefix(&self) -> Expr {
        self.reference()
    }

    /// The hosted UI's base URL, `https://<prefix>.auth.<region>.amazoncognito.com`.
    ///
    /// Hosted-UI domains live under `amazoncognito.com`, not under
    /// `AWS::URLSuffix`, so the suffix is written out.
    pub fn base_url(&self) -> Expr {
        Expr::concat([
            "https://".into(),
            self.prefix(),
            ".auth.".into(),
            Expr::REGION,
            ".amazoncognito.com".into(),
        ])
    }
}

/// `AWS::Cognito::UserPoolClient`: the app client.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolClient {
    pub client_name: Option<Expr>,
    pub user_pool_id: Expr,
    pub generate_secret: Option<bool>,
    // "OAuth" and "URLs" are not what PascalCase makes of snake case.
    #[serde(rename = "AllowedOAuthFlows")]
    pub allowed_oauth_flows: Option<Vec<String>>,
    #[serde(rename = "AllowedOAuthFlowsUserPoolClient")]
    pub allowed_oauth_flows_user_pool_client: Option<bool>,
    #[serde(rename = "AllowedOAuthScopes")]
    pub allowed_oauth_scopes: Option<Vec<String>>,
    #[serde(rename = "CallbackURLs")]
    pub callback_urls: Option<Vec<Expr>>,
    #[serde(rename = "LogoutURLs")]
    pub logout_urls: Option<Vec<Expr>>,
    pub supported_identity_providers: Option<Vec<String>>,
    /// The attributes the client may read (and so find in the ID token).
    pub read_attributes: Option<Vec<String>>,
    /// The attributes the client may set (at sign-up, among others).
    pub write_attributes: Option<Vec<String>>,
    pub explicit_auth_flows: Option<Vec<String>>,
    /// `ENABLED` or `LEGACY`.
    pub prevent_user_existence_errors: Option<String>,
    pub enable_token_revocation: Option<bool>,
    pub auth_session_validity: Option<u32>,
    pub access_token_validity: Option<u32>,
    pub id_token_validity: Option<u32>,
    pub refresh_token_validity: Option<u32>,
    pub token_validity_units: Option<TokenValidityUnits>,
}

impl UserPoolClient {
    /// A client of the pool `user_pool_id`, every option left to Cognito.
    pub fn new(user_pool_id: Expr) -> Self {
        Self {
            client_name: None,
            user_pool_id,
            generate_secret: None,
            allowed_oauth_flows: None,
            allowed_oauth_flows_user_pool_client: None,
            allowed_oauth_scopes: None,
            callback_urls: None,
            logout_urls: None,
            supported_identity_providers: None,
            read_attributes: None,
            write_attributes: None,
            explicit_auth_flows: None,
            prevent_user_existence_errors: None,
            enable_token_revocation: None,
            auth_session_validity: None,
            access_token_validity: None,
            id_token_validity: None,
            refresh_token_validity: None,
            token_validity_units: None,
        }
    }
}

impl Resource for UserPoolClient {
    const TYPE: &'static str = "AWS::Cognito::UserPoolClient";
}

impl Handle<UserPoolClient> {
    /// `Ref`: the client id.
    pub fn id(&self) -> Expr {
        self.reference()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenValidityUnits {
    /// `seconds`, `minutes`, `hours` or `days`.
    pub access_token: String,
    pub id_token: String,
    pub refresh_token: String,
}

impl TokenValidityUnits {
    /// Every token's validity counted in `unit`.
    pub fn all(unit: &str) -> Self {
        Self {
            access_token: unit.into(),
            id_token: unit.into(),
            refresh_token: unit.into(),
        }
    }
}
