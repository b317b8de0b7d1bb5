//! The users: the Cognito user pool, its hosted UI's domain, and the app
//! client the auth function signs people in with.

use crate::cognito::{
    AccountRecoverySetting, AdminCreateUserConfig, PasswordPolicy, Policies, TokenValidityUnits,
    UserAttributeUpdateSettings, UserPool, UserPoolClient, UserPoolDomain, UsernameConfiguration,
    VerificationMessageTemplate,
};
use crate::{Expr, Handle, Mfa, Settings, Template};

use super::{Inputs, Web};

/// Cognito: the people who may sign in, the hosted UI, and the app client.
pub(super) struct Users {
    pub(super) pool: Handle<UserPool>,
    pub(super) domain: Handle<UserPoolDomain>,
    pub(super) client: Handle<UserPoolClient>,
}

pub(super) fn users(t: &mut Template, settings: &Settings, inputs: &Inputs, web: &Web) -> Users {
    let email = || vec!["email".to_owned()];
    let mfa = settings.mfa == Mfa::Required;
    let password_policy = PasswordPolicy {
        minimum_length: Some(12),
        require_lowercase: Some(true),
        require_numbers: Some(true),
        require_symbols: Some(true),
        require_uppercase: Some(true),
        temporary_password_validity_days: Some(3),
    };
    let pool = UserPool {
        user_pool_name: Some(Expr::concat([Expr::STACK_NAME, "-users".into()])),
        username_attributes: Some(email()),
        auto_verified_attributes: Some(email()),
        username_configuration: Some(UsernameConfiguration::case_insensitive()),
        policies: Some(Policies { password_policy }),
        account_recovery_setting: Some(AccountRecoverySetting::in_order(&["verified_email"])),
        admin_create_user_config: Some(AdminCreateUserConfig {
            allow_admin_create_user_only: false,
        }),
        verification_message_template: Some(VerificationMessageTemplate {
            default_email_option: "CONFIRM_WITH_CODE".into(),
        }),
        // A changed address takes effect only once its owner types the code
        // sent to it: until then `email` (the name logins are kept under)
        // stays the old, verified one.
        user_attribute_update_settings: Some(UserAttributeUpdateSettings {
            attributes_require_verification_before_update: email(),
        }),
        mfa_configuration: Some(if mfa { "ON" } else { "OFF" }.into()),
        enabled_mfas: mfa.then(|| vec!["SOFTWARE_TOKEN_MFA".into()]),
        // `destroy` must be able to remove the pool with the stack.
        deletion_protection: Some("INACTIVE".into()),
    };
    let pool = t.add("UserPool", pool);
    // Stateful resources say on purpose what becomes of their data (`--retain-data`).
    t.data_policy(&pool, settings.data_policy);
    let domain = inputs.domain_prefix.clone();
    let domain = t.add(
        "UserPoolDomain",
        UserPoolDomain {
            domain,
            user_pool_id: pool.id(),
        },
    );
    let client = UserPoolClient {
        client_name: Some(Expr::concat([Expr::STACK_NAME, "-web".into()])),
        generate_secret: Some(true),
        allowed_oauth_flows: Some(vec!["code".into()]),
        allowed_oauth_flows_user_pool_client: Some(true),
        allowed_oauth_scopes: Some(vec!["openid".into(), "email".into()]),
        callback_urls: Some(vec![web.callback_url()]),
        // After signing out a person lands on `/auth` without a code, which
        // starts a new sign-in.
        logout_urls: Some(vec![web.sign_in_url()]),
        supported_identity_providers: Some(vec!["COGNITO".into()]),
        // Only what the flow needs: the login function reads `email`,
        // `email_verified` and `sub` (always in the ID token); sign-up writes
        // the address people sign in with.
        read_attributes: Some(vec!["email".into(), "email_verified".into()]),
        write_attributes: Some(email()),
        explicit_auth_flows: Some(vec!["ALLOW_REFRESH_TOKEN_AUTH".into()]),
        prevent_user_existence_errors: Some("ENABLED".into()),
        // The auth function revokes the refresh token it never uses.
        enable_token_revocation: Some(true),
        // Each the shortest Cognito allows: the ID token is presented once,
        // seconds after it is issued; the access token is not used; the
        // refresh token is revoked at once, and expires within the hour
        // should the revocation fail.
        auth_session_validity: Some(3),
        access_token_validity: Some(5),
        id_token_validity: Some(5),
        refresh_token_validity: Some(60),
        token_validity_units: Some(TokenValidityUnits::all("minutes")),
        ..UserPoolClient::new(pool.id())
    };
    let client = t.add("UserPoolClient", client);
    Users {
        pool,
        domain,
        client,
    }
}
